/*
 * http.c - identity at the HTTP surface: the gate every route with a
 * scope passes (401 with WWW-Authenticate for a missing or bad token, 403
 * for a missing role), the protected resource metadata (RFC 9728) that
 * lets an MCP client find the authorization server, and GET /whoami.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_internal.h"
#include "hubcore/buf.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"

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

int hc__auth_gate(struct hc_req *req, struct hc_resp *resp, struct hc_err *err)
{
	struct hc_hub *hub = req->hub;
	struct hc_identity *id;
	struct hc_auth_failure why;
	const struct hc_route *r = req->route;
	int rc;

	id = calloc(1, sizeof(*id));
	if (!id)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	rc = hc_auth_check(hub->auth, hc_req_header(req, "Authorization"), id,
			   &why);
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
			hc_log_warn(&hub->log, "%s %s: token refused: %s",
				    req->method, r->pattern, why.description);
		hc__auth_challenge(hub, resp, why.error, why.description);
		return hc_err_set(err, HC_EAUTH, "%s", why.description);
	}
	req->identity = id;
	if (id->level < r->scope) {
		struct hc_buf b = HC_BUF_INIT(4096);
		char desc[200];
		snprintf(desc, sizeof(desc),
			 "%s %s needs the %s permission; the token's roles "
			 "give %s",
			 req->method, r->pattern, hc_scope_name(r->scope),
			 id->level ? hc_scope_name(id->level) : "none");
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
