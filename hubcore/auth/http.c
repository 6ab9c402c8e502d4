/*
 * http.c - identity at the HTTP surface: the gate every route with a
 * scope passes (401 with WWW-Authenticate for a missing or bad token, 403
 * for a missing role), the protected resource metadata (RFC 9728) that
 * lets an MCP client find the authorization server, and GET /whoami.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_internal.h"
#include "hubcore/buf.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/view.h"

const struct hc_identity *hc_req_identity(const struct hc_req *req)
{
	return req->identity;
}

/* A quoted-string value for an auth-param: no quotes or backslashes. */
static void param(struct hc_buf *b, const char *name, const char *value)
{
	hc_buf_addf(b, "%s%s=\"", b->len > 7 ? ", " : "", name);
	for (const char *p = value; *p; p++)
		hc_buf_addc(b, *p == '"' || *p == '\\' || (unsigned char)*p < 0x20
				       ? '\''
				       : *p);
	hc_buf_addc(b, '"');
}

void hc__auth_challenge(struct hc_hub *hub, struct hc_resp *resp,
			const char *error, const char *description)
{
	struct hc_buf b = HC_BUF_INIT(4096);
	char meta[1100];
	snprintf(meta, sizeof(meta), "%s/.well-known/oauth-protected-resource",
		 hc_auth_audience(hub->auth));
	hc_buf_adds(&b, "Bearer ");
	param(&b, "realm", hub->def->name);
	param(&b, "resource_metadata", meta);
	/* what to ask for: permissions come from roles, not scopes, so
	 * the scopes of a user's login */
	param(&b, "scope", "openid profile offline_access");
	if (error) {
		param(&b, "error", error);
		if (description)
			param(&b, "error_description", description);
	}
	hc_resp_header(resp, "WWW-Authenticate", b.data);
	hc_buf_release(&b);
}

/* A browser navigating to a page: it wants HTML, not a stream or JSON. */
static bool wants_html(struct hc_req *req)
{
	const char *a = hc_req_header(req, "Accept");
	return strcmp(req->method, "GET") == 0 && a &&
	       strcasestr(a, "text/html") && !strcasestr(a, "text/event-stream");
}

/* Off to the login, and back to this page (path and query) afterwards. */
static void to_login(struct hc_req *req, struct hc_resp *resp)
{
	static const char hex[] = "0123456789ABCDEF";
	struct hc_buf b = HC_BUF_INIT(8192);
	struct hc_buf next = HC_BUF_INIT(4096);
	hc_buf_adds(&next, req->path);
	for (size_t i = 0; i < req->nargs; i++) {
		hc_buf_addc(&next, i ? '&' : '?');
		hc_buf_adds(&next, req->args[i].name);
		hc_buf_addc(&next, '=');
		hc_buf_adds(&next, req->args[i].value);
	}
	hc_buf_adds(&b, "/auth/login?next=");
	for (const unsigned char *p = (const unsigned char *)(next.data ? next.data : "/");
	     *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
			hc_buf_addc(&b, (char)*p);
		} else {
			hc_buf_addc(&b, '%');
			hc_buf_addc(&b, hex[*p >> 4]);
			hc_buf_addc(&b, hex[*p & 15]);
		}
	}
	hc_resp_header(resp, "Location", b.data ? b.data : "/auth/login");
	hc_resp_header(resp, "Cache-Control", "no-store");
	hc_resp_header(resp, "Vary", "Accept, Cookie");
	hc_resp_empty(resp, 302);
	hc_buf_release(&b);
	hc_buf_release(&next);
}

/* The 403 of a signed-in person whose roles do not reach the page: a
 * page that says so, with the way to sign out (as someone else). */
static void forbidden_page(struct hc_req *req, struct hc_resp *resp,
			   const struct hc_identity *id, const char *desc)
{
	struct hc_buf b = HC_BUF_INIT(64 * 1024);
	if (hc_html(&b,
		    "<!doctype html>\n<html lang=\"en\"><head><meta "
		    "charset=\"utf-8\"><meta name=\"viewport\" "
		    "content=\"width=device-width, initial-scale=1\">"
		    "<meta name=\"color-scheme\" content=\"light dark\">"
		    "<title>Forbidden · %s</title><link rel=\"stylesheet\" "
		    "href=\"/ui/hub.css\"></head>\n<body><header "
		    "class=\"top\"><div><p class=\"hub\">%s</p><h1>"
		    "Forbidden</h1></div><div class=\"who\"><span>Signed in "
		    "as <strong>%s</strong></span><form method=\"post\" "
		    "action=\"/auth/logout\"><button type=\"submit\">Sign "
		    "out</button></form></div></header><main id=\"main\">"
		    "<section class=\"card\"><p class=\"error\" "
		    "role=\"alert\">%s</p></section></main></body></html>\n",
		    req->hub->def->name, req->hub->def->name, id->name,
		    desc) != HC_OK) {
		hc_buf_release(&b);
		return;
	}
	free(resp->body);
	resp->body = hc_buf_detach(&b, &resp->body_len);
	resp->status = 403;
	resp->content_type = "text/html; charset=utf-8";
	hc_resp_header(resp, "Content-Security-Policy",
		       "default-src 'none'; style-src 'self'; base-uri 'none'; "
		       "form-action 'self'; frame-ancestors 'none'");
	hc_resp_header(resp, "Cache-Control", "no-store");
}

int hc__auth_gate(struct hc_req *req, struct hc_resp *resp, struct hc_err *err,
		  bool *answered)
{
	struct hc_hub *hub = req->hub;
	struct hc_identity *id;
	struct hc_auth_failure why;
	const struct hc_route *r = req->route;
	const char *authz = hc_req_header(req, "Authorization");
	/* a page may come with the login's session instead of a token;
	 * no other route reads the cookie (CSRF) */
	bool session = !authz && (r->flags & HC_ROUTE_SESSION) &&
		       hc__auth_login_on(hub->auth);
	int rc;

	*answered = false;
	id = calloc(1, sizeof(*id));
	if (!id)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	rc = session ? hc__auth_session_identity(req, id, &why)
		     : hc_auth_check(hub->auth, authz, id, &why);
	if (rc != HC_OK) {
		free(id);
		if (why.status == 503) {
			hc_log_error(&hub->log, "cannot check tokens: %s",
				     why.description);
			return hc_err_set(err, HC_EBUSY,
					  "tokens cannot be checked now: %s",
					  why.description);
		}
		if (why.error)
			hc_log_warn(&hub->log, "%s %s: %s refused: %s",
				    req->method, r->pattern,
				    session ? "session" : "token",
				    why.description);
		if (session && wants_html(req)) {
			char name[64], c[160];
			if (why.error) {
				/* a cookie that is no session: forget it */
				hc_auth_session_cookie_name(hub, name,
							    sizeof(name));
				snprintf(c, sizeof(c),
					 "%s=; Path=/; HttpOnly; "
					 "SameSite=Lax; Max-Age=0",
					 name);
				hc_resp_header(resp, "Set-Cookie", c);
			}
			to_login(req, resp);
			*answered = true;
			return HC_OK;
		}
		hc__auth_challenge(hub, resp, why.error, why.description);
		return hc_err_set(err, HC_EAUTH, "%s", why.description);
	}
	req->identity = id;
	if (id->level < r->scope) {
		struct hc_buf b = HC_BUF_INIT(4096);
		char desc[200];
		snprintf(desc, sizeof(desc),
			 "%s %s needs the %s permission; the %s roles "
			 "give %s",
			 req->method, r->pattern, hc_scope_name(r->scope),
			 id->session ? "signed-in user's" : "token's",
			 id->level ? hc_scope_name(id->level) : "none");
		if (id->session && wants_html(req)) {
			forbidden_page(req, resp, id, desc);
			*answered = true;
			return HC_OK;
		}
		hc_buf_adds(&b, "Bearer ");
		param(&b, "error", "insufficient_scope");
		param(&b, "error_description", desc);
		hc_resp_header(resp, "WWW-Authenticate", b.data);
		hc_buf_release(&b);
		return hc_err_set(err, HC_EFORBIDDEN, "%s", desc);
	}
	return HC_OK;
}

/* ---- routes -------------------------------------------------------------------------- */

static int get_resource_metadata(struct hc_req *req, struct hc_resp *resp,
				 struct hc_err *err)
{
	struct hc_auth *a = req->hub->auth;
	json_t *doc, *servers;
	if (!a)
		return hc_err_set(err, HC_ENOTFOUND,
				  "this hub runs without identity checks "
				  "(--no-auth)");
	servers = json_array();
	for (size_t i = 0; i < hc_auth_issuer_count(a); i++)
		json_array_append_new(servers,
				      json_string(hc_auth_issuer(a, i)));
	doc = json_pack("{sssosss[s]s[ssss]}", "resource",
			hc_auth_audience(a), "authorization_servers", servers,
			"resource_name", req->hub->def->name,
			"bearer_methods_supported", "header",
			"scopes_supported", "openid", "profile", "email",
			"offline_access");
	if (!doc)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	hc_resp_header(resp, "Cache-Control", "max-age=300");
	return hc_resp_json(resp, 200, doc);
}

static int get_whoami(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	const struct hc_identity *id = req->identity;
	json_t *roles, *doc;
	if (!id)
		return hc_resp_json(resp, 200,
				    json_pack("{sb}", "auth", 0));
	roles = json_array();
	for (size_t i = 0; i < id->nroles; i++)
		json_array_append_new(roles, json_string(id->roles[i]));
	doc = json_pack("{sbsssssssssosssIsb}", "auth", 1, "sub", id->sub,
			"iss", id->iss, "client_id", id->client_id,
			"preferred_username", id->username, "roles", roles,
			"permission", hc_scope_name(id->level), "exp",
			(json_int_t)id->exp, "service", id->service);
	return doc ? hc_resp_json(resp, 200, doc)
		   : hc_err_set(err, HC_ENOMEM, "out of memory");
}

static const struct hc_route auth_routes[] = {
	{ "GET", "/.well-known/oauth-protected-resource", get_resource_metadata,
	  NULL, HC_SCOPE_PUBLIC, HC_ROUTE_READONLY,
	  "Protected resource metadata (RFC 9728): the hub's audience and "
	  "authorization servers" },
	{ "GET", "/.well-known/oauth-protected-resource/mcp",
	  get_resource_metadata, NULL, HC_SCOPE_PUBLIC, HC_ROUTE_READONLY,
	  "The same, at the path MCP clients derive from /mcp" },
	{ "GET", "/whoami", get_whoami, NULL, HC_SCOPE_READ, HC_ROUTE_READONLY,
	  "Who the hub sees in the caller's token: sub, roles, permission, "
	  "expiry" },
};

const struct hc_route_table hc_auth_routes = HC_ROUTE_TABLE(auth_routes);
