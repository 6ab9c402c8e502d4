/*
 * authorize.c - the authorization endpoint and the login page.
 *
 * GET /authorize checks the client and its redirect URI first: a bad one
 * is shown to the person, never redirected to. Every other problem goes
 * back to the client with error, state and iss (RFC 9207). PKCE is S256
 * only and required by default. A valid request gets the login page (or,
 * with a live session, a code at once); the page posts back to
 * /authorize with the request's id and a CSRF token that must match both
 * the stored one and a SameSite=Strict cookie.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hubcore/json.h"
#include "idp/idp_internal.h"

#define REQUEST_TTL 600

void idp__html(struct hc_buf *b, const char *t)
{
	for (; t && *t; t++) {
		switch (*t) {
		case '<': hc_buf_adds(b, "&lt;"); break;
		case '>': hc_buf_adds(b, "&gt;"); break;
		case '&': hc_buf_adds(b, "&amp;"); break;
		case '"': hc_buf_adds(b, "&quot;"); break;
		case '\'': hc_buf_adds(b, "&#39;"); break;
		default: hc_buf_addc(b, *t);
		}
	}
}

void idp__query(struct hc_buf *b, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	hc_buf_addc(b, memchr(b->data, '?', b->len) ? '&' : '?');
	hc_buf_adds(b, key);
	hc_buf_addc(b, '=');
	for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
		if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		    (*v >= '0' && *v <= '9') || strchr("-._~", *v)) {
			hc_buf_addc(b, (char)*v);
		} else {
			hc_buf_addc(b, '%');
			hc_buf_addc(b, hex[*v >> 4]);
			hc_buf_addc(b, hex[*v & 15]);
		}
	}
}

/* No form-action: browsers apply it to the redirect that follows a form's
 * POST as well (Chromium does), and the login's answer is a redirect to
 * the client. The page has no script and no injected markup to abuse. */
static const char csp[] =
	"default-src 'none'; style-src 'unsafe-inline'; "
	"frame-ancestors 'none'; base-uri 'none'";

/* A page for a person: the login form, or a message. */
static int page(struct hc_resp *resp, int status, const char *title,
		struct hc_buf *content)
{
	struct hc_buf b = HC_BUF_INIT(256 * 1024);
	hc_buf_adds(&b, "<!doctype html>\n<html lang=\"en\"><head><meta "
			"charset=\"utf-8\"><meta name=\"viewport\" "
			"content=\"width=device-width, initial-scale=1\">"
			"<title>");
	idp__html(&b, title);
	hc_buf_adds(&b,
		    "</title><style>body{font:16px/1.5 system-ui,sans-serif;"
		    "max-width:24rem;margin:3rem auto;padding:0 1rem;"
		    "color:#1b1b1b;background:#fff}"
		    "@media(prefers-color-scheme:dark){body{color:#eee;"
		    "background:#161616}input{background:#222;color:#eee}}"
		    "label{display:block;margin:.8rem 0 .2rem}"
		    "input{width:100%;padding:.5rem;font:inherit;"
		    "box-sizing:border-box}button{margin-top:1rem;"
		    "padding:.5rem 1.2rem;font:inherit}"
		    ".error{color:#b00020;border-left:3px solid #b00020;"
		    "padding-left:.6rem}</style></head><body><main>");
	hc_buf_add(&b, content->data ? content->data : "", content->len);
	hc_buf_adds(&b, "</main></body></html>\n");
	resp->status = status;
	resp->body = hc_buf_detach(&b, &resp->body_len);
	resp->content_type = "text/html; charset=utf-8";
	hc_resp_header(resp, "Content-Security-Policy", csp);
	hc_resp_header(resp, "X-Frame-Options", "DENY");
	hc_resp_header(resp, "Referrer-Policy", "no-referrer");
	return HC_OK;
}

static int message_page(struct hc_resp *resp, int status, const char *title,
			const char *text)
{
	struct hc_buf c = HC_BUF_INIT(64 * 1024);
	int rc;
	hc_buf_adds(&c, "<h1>");
	idp__html(&c, title);
	hc_buf_adds(&c, "</h1><p>");
	idp__html(&c, text);
	hc_buf_adds(&c, "</p>");
	rc = page(resp, status, title, &c);
	hc_buf_release(&c);
	return rc;
}

static int login_page(struct hc_resp *resp, int status,
		      const struct idp_config *cfg,
		      const struct idp_client *cl, const char *request_id,
		      const char *csrf, const char *username,
		      const char *error)
{
	const char *client_name = cl->name ? cl->name : cl->client_id;
	struct hc_buf c = HC_BUF_INIT(64 * 1024);
	char action[1024], cookie[512];
	int rc;
	idp__url(cfg, "/authorize", action, sizeof(action));
	hc_buf_adds(&c, "<h1>Sign in</h1><p>to continue to <strong>");
	idp__html(&c, client_name);
	hc_buf_adds(&c, "</strong></p>");
	if (cl->registered) {
		/* its name is whatever its maker chose */
		hc_buf_adds(&c, "<p class=\"error\">This application registered "
				"itself: its name is not verified. Sign in only "
				"if you started this from an application you "
				"trust; it will act as you.</p>");
	}
	if (error) {
		hc_buf_adds(&c, "<p class=\"error\" role=\"alert\">");
		idp__html(&c, error);
		hc_buf_adds(&c, "</p>");
	}
	hc_buf_adds(&c, "<form method=\"post\" action=\"");
	idp__html(&c, action);
	hc_buf_adds(&c, "\"><input type=\"hidden\" name=\"request_id\" "
			"value=\"");
	idp__html(&c, request_id);
	hc_buf_adds(&c, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	idp__html(&c, csrf);
	hc_buf_adds(&c, "\"><label for=\"username\">Username</label>"
			"<input id=\"username\" name=\"username\" "
			"autocomplete=\"username\" required autofocus "
			"value=\"");
	/* a name no user can have is not echoed */
	idp__html(&c, username && strlen(username) <= IDP_MAX_NAME ? username
								    : "");
	hc_buf_adds(&c, "\"><label for=\"password\">Password</label>"
			"<input id=\"password\" name=\"password\" "
			"type=\"password\" autocomplete=\"current-password\">"
			"<label for=\"otp\">One-time code (if enrolled)</label>"
			"<input id=\"otp\" name=\"otp\" inputmode=\"numeric\" "
			"autocomplete=\"one-time-code\">"
			"<button type=\"submit\">Sign in</button></form>");
	rc = page(resp, status, "Sign in", &c);
	hc_buf_release(&c);
	snprintf(cookie, sizeof(cookie),
		 "%s=%s; Path=/authorize; HttpOnly; SameSite=Strict; "
		 "Max-Age=%d",
		 IDP_CSRF_COOKIE, csrf, REQUEST_TTL);
	hc_resp_header(resp, "Set-Cookie", cookie);
	return rc;
}

/* Redirect the user agent back to the client with an error. */
static int redirect_error(struct hc_resp *resp, const struct idp_config *cfg,
			  const struct idp_client *cl,
			  const char *redirect_uri, const char *state,
			  const char *error, const char *description)
{
	/* a client anyone could register must not make us an open
	 * redirector (RFC 9700 §4.11.2): its errors are shown here */
	if (cl->registered) {
		char text[600];
		snprintf(text, sizeof(text), "The application's request was "
					     "refused (%s): %s",
			 error, description ? description : "");
		return message_page(resp, 400, "Sign-in refused", text);
	}
	struct hc_buf b = HC_BUF_INIT(16 * 1024);
	hc_buf_adds(&b, redirect_uri);
	idp__query(&b, "error", error);
	if (description)
		idp__query(&b, "error_description", description);
	if (state)
		idp__query(&b, "state", state);
	idp__query(&b, "iss", cfg->issuer);
	hc_resp_header(resp, "Location", b.data);
	hc_buf_release(&b);
	return hc_resp_empty(resp, 302);
}

/* Issue a code for an authenticated user and send them back. */
static int grant_code(struct idp *p, struct hc_conn *c,
		      struct idp_config *cfg, json_t *params,
		      const char *username, int64_t auth_time, const char *amr,
		      const char *session, struct hc_resp *resp,
		      struct hc_err *err)
{
	char code[64], hash[65], family[48];
	struct hc_buf b = HC_BUF_INIT(16 * 1024);
	time_t now = time(NULL);
	int rc;
	if (idp_random(code, sizeof(code), 32) != HC_OK ||
	    idp_random(family, sizeof(family), 18) != HC_OK)
		return hc_err_set(err, HC_EIO, "no randomness");
	idp_hash(code, hash);
	{
		struct hc_value v[] = {
			hc_vtext(family),
			hc_vtext(hc_json_str(params, "client_id")),
			hc_vtext(username),
			hc_vtext(session),
			hc_vint((int64_t)now),
		};
		/* the family remembers its login session: logging out
		 * revokes what the session was given */
		rc = hc_exec(c,
			     "INSERT INTO idp_families (family, client_id, "
			     "username, session, created) VALUES (?, ?, ?, ?, "
			     "?)",
			     v, 5, err);
	}
	if (rc == HC_OK) {
		struct hc_value v[] = {
			hc_vtext(hash),
			hc_vtext(hc_json_str(params, "client_id")),
			hc_vtext(username),
			hc_vtext(hc_json_str(params, "redirect_uri")),
			hc_vtext(hc_json_str(params, "scope")
					 ? hc_json_str(params, "scope")
					 : ""),
			hc_vtext(hc_json_str(params, "nonce")),
			hc_vtext(hc_json_str(params, "code_challenge")),
			hc_vtext(hc_json_str(params, "resource")),
			hc_vint(auth_time),
			hc_vtext(amr),
			hc_vtext(family),
			hc_vint((int64_t)now + cfg->code_ttl),
		};
		rc = hc_exec(c,
			     "INSERT INTO idp_codes (code_hash, client_id, "
			     "username, redirect_uri, scope, nonce, challenge, "
			     "resource, auth_time, amr, family, expires) "
			     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			     v, 12, err);
	}
	if (rc != HC_OK)
		return rc;
	hc_buf_adds(&b, hc_json_str(params, "redirect_uri"));
	idp__query(&b, "code", code);
	if (hc_json_str(params, "state"))
		idp__query(&b, "state", hc_json_str(params, "state"));
	idp__query(&b, "iss", cfg->issuer);
	hc_resp_header(resp, "Location", b.data);
	hc_buf_release(&b);
	return hc_resp_empty(resp, 302);
}

static bool pkce_value_ok(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	return n >= 43 && n <= 128 &&
	       strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-._~") == n;
}

/* The live session of this browser, if any: its user (a new string),
 * auth time and amr (a new string), and the hash of its id. */
static bool session_of(struct hc_conn *c, const struct hc_req *req,
		       char **username, int64_t *auth_time, char **amr,
		       char hash[65])
{
	const char *cookie = hc_req_cookie(req, IDP_SESSION_COOKIE);
	struct hc_stmt *st = NULL;
	bool found = false;
	*username = *amr = NULL;
	if (!cookie)
		return false;
	idp_hash(cookie, hash);
	{
		struct hc_value p[] = { hc_vtext(hash),
					hc_vint((int64_t)time(NULL)) };
		if (hc_query(c, &st,
			     "SELECT username, auth_time, amr FROM idp_sessions "
			     "WHERE id_hash = ? AND expires > ?",
			     p, 2, NULL) != HC_OK)
			return false;
	}
	if (hc_stmt_step(st, NULL) == HC_ROW_READY) {
		*username = strdup(hc_stmt_text(st, 0, NULL));
		*auth_time = hc_stmt_int(st, 1);
		*amr = strdup(hc_stmt_text(st, 2, NULL));
		found = *username && *amr;
	}
	hc_stmt_finish(st);
	if (!found) {
		free(*username);
		free(*amr);
		*username = *amr = NULL;
	}
	return found;
}

/*
 * The parameters of /authorize the IdP reads, and the longest value each
 * may have (bytes). Only these are kept with a pending login (others are
 * ignored, RFC 6749 §3.1), so what a request stores is bounded. A
 * client_id or redirect_uri that long is never a registered one (an error
 * page); another parameter over its limit is invalid_request.
 */
static const struct authorize_param {
	const char *name;
	size_t max;
} authorize_params[] = {
	{ "client_id", IDP_MAX_NAME },
	{ "redirect_uri", IDP_MAX_URI },
	{ "response_type", 64 },
	{ "scope", IDP_MAX_SCOPE },
	{ "state", 1024 },
	{ "nonce", 512 },
	{ "code_challenge", 128 },
	{ "code_challenge_method", 16 },
	{ "resource", IDP_MAX_URI },
	{ "login_hint", IDP_MAX_NAME },
	{ "prompt", 64 },
	{ "max_age", 10 },
};

/* The first parameter over its limit, or NULL. */
static const struct authorize_param *too_long(json_t *params)
{
	for (size_t i = 0; i < HC_COUNT(authorize_params); i++) {
		json_t *v = json_object_get(params, authorize_params[i].name);
		if (v && json_string_length(v) > authorize_params[i].max)
			return &authorize_params[i];
	}
	return NULL;
}

/* The parameters kept with a pending login: those of the table. */
static json_t *kept_params(json_t *params)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < HC_COUNT(authorize_params); i++) {
		json_t *v = json_object_get(params, authorize_params[i].name);
		if (v)
			json_object_set(o, authorize_params[i].name, v);
	}
	return o;
}

/* max_age (OpenID Connect Core §3.1.2.1): seconds, or -1 when absent;
 * -2 when it is not a whole number. */
static int64_t max_age_of(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	int64_t age = 0;
	if (!v)
		return -1;
	if (n == 0 || n > 10 || strspn(v, "0123456789") != n)
		return -2;
	for (size_t i = 0; i < n; i++)
		age = age * 10 + (v[i] - '0');
	return age;
}

/* How many words a space-separated list has. */
static size_t words(const char *s)
{
	size_t n = 0;
	for (const char *p = s; p && *p;) {
		size_t w = strcspn(p, " ");
		n += w > 0;
		p += w;
		p += strspn(p, " ");
	}
	return n;
}

int idp__authorize_get(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err);
int idp__authorize_get(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err)
{
	struct idp *p = idp_of(req->hub);
	struct idp_config *cfg = idp_config(p);
	/* RFC 6749 §3.1: none given twice; and all UTF-8 */
	struct hc_err qerr = { 0 };
	json_t *params = NULL;
	int qrc = hc_req_query(req, &params, &qerr);
	const char *client_id = hc_json_str(params, "client_id");
	const char *redirect_uri = hc_json_str(params, "redirect_uri");
	const char *state = hc_json_str(params, "state");
	const char *challenge = hc_json_str(params, "code_challenge");
	const char *method = hc_json_str(params, "code_challenge_method");
	const char *scope = hc_json_str(params, "scope");
	const char *prompt = hc_json_str(params, "prompt");
	struct idp_client *owned = NULL;
	const struct idp_client *cl = NULL;
	struct hc_conn *c = hc_req_db(req, err);
	char *resource = NULL, *username = NULL, *amr = NULL, session[65];
	const struct authorize_param *over;
	int64_t auth_time = 0, max_age;
	json_t *kept = NULL;
	int rc = HC_OK;

	if (!c) {
		rc = err->status;
		goto out;
	}
	/* 1. problems that must not redirect: shown to the person */
	if (qrc != HC_OK) {
		char text[400];
		snprintf(text, sizeof(text),
			 "The application sent a request that cannot be "
			 "used: %s.",
			 qerr.msg);
		rc = message_page(resp, 400, "Bad sign-in request", text);
		goto out;
	}
	if (idp__find_client(c, cfg, client_id, &owned, &cl) != HC_OK) {
		rc = message_page(resp, 400, "Unknown application",
				  "The application asking you to sign in is "
				  "not registered here (client_id).");
		goto out;
	}
	if (!idp__redirect_match(&cl->redirect_uris, redirect_uri)) {
		rc = message_page(resp, 400, "Wrong return address",
				  "The application gave a redirect_uri that is "
				  "not registered for it, so you are not sent "
				  "there.");
		goto out;
	}
	/* 2. problems the client hears about */
	over = too_long(params);
	if (over) {
		char text[160];
		snprintf(text, sizeof(text), "%s is longer than %zu bytes",
			 over->name, over->max);
		/* an over-long state is not sent back either */
		rc = redirect_error(resp, cfg, cl, redirect_uri,
				    strcmp(over->name, "state") ? state : NULL,
				    "invalid_request", text);
		goto out;
	}
	/* request objects (OpenID Connect Core §6) are not supported */
	if (json_object_get(params, "request")) {
		rc = redirect_error(resp, cfg, cl, redirect_uri, state,
				    "request_not_supported",
				    "request objects are not supported");
		goto out;
	}
	if (json_object_get(params, "request_uri")) {
		rc = redirect_error(resp, cfg, cl, redirect_uri, state,
				    "request_uri_not_supported",
				    "request_uri is not supported");
		goto out;
	}
	if (prompt && idp__scope_has(prompt, "none") && words(prompt) > 1) {
		rc = redirect_error(resp, cfg, cl, redirect_uri, state,
				    "invalid_request",
				    "prompt=none cannot be combined with other "
				    "values");
		goto out;
	}
	max_age = max_age_of(hc_json_str(params, "max_age"));
	if (max_age == -2) {
		rc = redirect_error(resp, cfg, cl, redirect_uri, state,
				    "invalid_request",
				    "max_age must be a whole number of seconds");
		goto out;
	}
	if (!hc_json_str(params, "response_type") ||
	    strcmp(hc_json_str(params, "response_type"), "code") != 0) {
		rc = redirect_error(resp, cfg, cl, redirect_uri, state,
				    "unsupported_response_type",
				    "only response_type=code is supported");
		goto out;
	}
	if (!idp_strings_has(&cl->grant_types, "authorization_code")) {
		rc = redirect_error(resp, cfg, cl, redirect_uri, state,
				    "unauthorized_client",
				    "this client may not use the "
				    "authorization code flow");
		goto out;
	}
	if (challenge || method || cl->public_client || cl->require_pkce) {
		if (!challenge) {
			rc = redirect_error(resp, cfg, cl, redirect_uri, state,
					    "invalid_request",
					    "code_challenge is required (PKCE "
					    "with S256)");
			goto out;
		}
		if (!method || strcmp(method, "S256") != 0) {
			rc = redirect_error(resp, cfg, cl, redirect_uri, state,
					    "invalid_request",
					    "code_challenge_method must be "
					    "S256");
			goto out;
		}
		if (!pkce_value_ok(challenge)) {
			rc = redirect_error(resp, cfg, cl, redirect_uri, state,
					    "invalid_request",
					    "code_challenge is malformed");
			goto out;
		}
	}
	if (!idp__scope_ok(&cl->scopes, scope)) {
		rc = redirect_error(resp, cfg, cl, redirect_uri, state,
				    "invalid_scope",
				    "a requested scope is not allowed for "
				    "this client");
		goto out;
	}
	if (hc_json_str(params, "resource")) {
		resource = idp__resource(hc_json_str(params, "resource"));
		if (!resource ||
		    !idp__audience_ok(cl, resource)) {
			rc = redirect_error(resp, cfg, cl, redirect_uri, state,
					    "invalid_target",
					    "the resource is not one this "
					    "client may ask for");
			goto out;
		}
		json_object_set_new(params, "resource", json_string(resource));
	}
	/* only what the IdP reads is kept with the request */
	kept = kept_params(params);
	if (!kept) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	/* 3. a live session answers at once, unless asked to log in, or
	 * the client registered itself: a person confirms each of those
	 * by signing in, on a page that says the client is unverified; or
	 * unless the sign-in is older than max_age (0: always sign in) */
	if ((!prompt || !idp__scope_has(prompt, "login")) && !cl->registered &&
	    max_age != 0 &&
	    session_of(c, req, &username, &auth_time, &amr, session) &&
	    (max_age < 0 || time(NULL) - auth_time <= max_age) &&
	    idp__user_enabled(cfg, idp_config_user(cfg, username))) {
		const struct idp_user *u = idp_config_user(cfg, username);
		rc = grant_code(p, c, cfg, kept, username, auth_time, amr,
				session, resp, err);
		if (rc == HC_OK && u->emergency)
			idp__emergency_audit(p, c, u, cl, "session");
		goto out;
	}
	if (prompt && idp__scope_has(prompt, "none")) {
		rc = redirect_error(resp, cfg, cl, redirect_uri, state,
				    "login_required",
				    "the user is not signed in");
		goto out;
	}
	/* 4. the login page, for a request remembered server-side */
	{
		char id[48], csrf[48];
		char *text = hc_json_dump(kept, NULL);
		struct hc_value v[5];
		if (!text || idp_random(id, sizeof(id), 18) != HC_OK ||
		    idp_random(csrf, sizeof(csrf), 18) != HC_OK) {
			free(text);
			rc = hc_err_set(err, HC_EIO, "no randomness");
			goto out;
		}
		v[0] = hc_vtext(id);
		v[1] = hc_vtext(csrf);
		v[2] = hc_vtext(cl->client_id);
		v[3] = hc_vtext(text);
		v[4] = hc_vint((int64_t)time(NULL) + REQUEST_TTL);
		rc = hc_exec(c,
			     "INSERT INTO idp_requests (id, csrf, client_id, "
			     "params, expires) VALUES (?, ?, ?, ?, ?)",
			     v, 5, err);
		free(text);
		if (rc == HC_OK)
			rc = login_page(resp, 200, cfg, cl, id, csrf,
					hc_json_str(params, "login_hint"),
					NULL);
	}
out:
	free(resource);
	free(username);
	free(amr);
	json_decref(kept);
	json_decref(params);
	idp__client_free(owned);
	idp_config_unref(cfg);
	return rc;
}

/* Check the credentials: HC_OK; HC_EINVAL with *why saying what to log
 * (never shown in detail to the person, to tell nobody which part was
 * wrong); HC_EBUSY when no argon2id slot came free (not judged). */
static int authenticate(struct idp *p, struct hc_conn *c,
			const struct idp_config *cfg, const struct idp_user *u,
			const char *password, const char *otp, char *amr,
			size_t amr_size, const char **why)
{
	struct hc_err e2 = { 0 };
	int rc;
	if (!u) {
		/* as long as a real check, so that timing tells no names */
		rc = idp__password_verify(p, cfg, IDP_DUMMY_HASH, password);
		*why = "unknown user";
		return rc == HC_EBUSY ? HC_EBUSY : HC_EINVAL;
	}
	if (u->password_hash) {
		rc = idp__password_verify(p, cfg, u->password_hash, password);
		if (rc != HC_OK) {
			*why = "bad password";
			return rc;
		}
	}
	if (!idp__user_enabled(cfg, u)) {
		*why = "user disabled";
		return HC_EINVAL;
	}
	snprintf(amr, amr_size, "[\"pwd\"]");
	if (u->totp_secret) {
		if (idp_totp_check(c, u->username, u->totp_secret, otp, &e2) !=
		    HC_OK) {
			*why = "bad or replayed one-time code";
			return HC_EINVAL;
		}
		snprintf(amr, amr_size, "[\"pwd\",\"otp\"]");
	}
	if (u->privacyidea) {
		if (idp_privacyidea_check(cfg, u->username, otp, &e2) !=
		    HC_OK) {
			*why = "second factor refused by privacyIDEA";
			return HC_EINVAL;
		}
		snprintf(amr, amr_size, u->password_hash ? "[\"pwd\",\"mfa\"]"
							  : "[\"mfa\"]");
	}
	return HC_OK;
}

/* The login page again, answering "not now": 429 while locked, 503 when
 * the attempt could not be judged; with Retry-After. */
static int login_later(struct hc_resp *resp, int status,
		       const struct idp_config *cfg,
		       const struct idp_client *cl, const char *rid,
		       const char *csrf, const char *username, const char *msg,
		       int retry)
{
	char ra[16];
	int rc = login_page(resp, status, cfg, cl, rid, csrf, username, msg);
	snprintf(ra, sizeof(ra), "%d", retry > 0 ? retry : 1);
	hc_resp_header(resp, "Retry-After", ra);
	return rc;
}

/* Repeated failures against the break-glass account, which no lock
 * protects by name: every max_login_failures-th in a row is an alert. */
static void emergency_failures(struct idp *p, struct hc_conn *c,
			       const struct idp_config *cfg,
			       const struct idp_user *u, const char *addr,
			       int failures)
{
	json_t *payload;
	if (failures <= 0 || failures % cfg->max_failures != 0)
		return;
	hc_log_warn(&p->hub->log,
		    "AUDIT emergency account '%s': %d failed sign-ins in a "
		    "row, the last from %s",
		    u->username, failures, addr);
	payload = json_pack("{sssssi}", "username", u->username, "address",
			    addr, "failures", failures);
	idp_alert(c, "alert_raised",
		  "Repeated failed sign-ins to the emergency (break-glass) "
		  "account",
		  payload);
	json_decref(payload);
}

int idp__authorize_post(struct hc_req *req, struct hc_resp *resp,
			struct hc_err *err);
int idp__authorize_post(struct hc_req *req, struct hc_resp *resp,
			struct hc_err *err)
{
	struct idp *p = idp_of(req->hub);
	struct idp_config *cfg = idp_config(p);
	json_t *form = NULL, *params = NULL;
	struct hc_conn *c = hc_req_db(req, err);
	const char *rid, *csrf, *cookie, *username, *shown;
	struct hc_stmt *st = NULL;
	char stored_csrf[64] = "", addr[64], ukey[IDP_MAX_NAME + 16];
	char akey[96], amr[64];
	char *ptext = NULL;
	const char *why = NULL;
	struct idp_client *owned = NULL;
	const struct idp_client *cl = NULL;
	const struct idp_user *u;
	bool named;
	int retry = 0, ucount = 0, rc;

	if (!c) {
		rc = err->status;
		goto out;
	}
	rc = hc_req_form(req, &form, err);
	if (rc != HC_OK)
		goto out;
	rid = hc_json_str(form, "request_id");
	csrf = hc_json_str(form, "csrf");
	cookie = hc_req_cookie(req, IDP_CSRF_COOKIE);
	username = hc_json_str(form, "username");
	{
		struct hc_value v[] = { hc_vtext(rid ? rid : ""),
					hc_vint((int64_t)time(NULL)) };
		rc = hc_query(c, &st,
			      "SELECT csrf, params FROM idp_requests WHERE id = "
			      "? AND expires > ?",
			      v, 2, err);
	}
	if (rc != HC_OK)
		goto out;
	if (hc_stmt_step(st, NULL) == HC_ROW_READY) {
		snprintf(stored_csrf, sizeof(stored_csrf), "%s",
			 hc_stmt_text(st, 0, NULL));
		ptext = strdup(hc_stmt_text(st, 1, NULL));
	}
	hc_stmt_finish(st);
	if (!ptext) {
		rc = message_page(resp, 400, "Sign-in expired",
				  "This sign-in page is no longer valid. Go "
				  "back to the application and start again.");
		goto out;
	}
	/* the form's token must be the stored one and the cookie's */
	if (!csrf || !cookie || strcmp(csrf, stored_csrf) != 0 ||
	    strcmp(cookie, stored_csrf) != 0) {
		rc = message_page(resp, 403, "Sign-in refused",
				  "The sign-in form was not sent from this "
				  "page (CSRF check failed).");
		goto out;
	}
	params = json_loads(ptext, 0, NULL);
	if (!params || idp__find_client(c, cfg, hc_json_str(params, "client_id"),
					&owned, &cl) != HC_OK) {
		rc = message_page(resp, 400, "Sign-in expired",
				  "The application is no longer registered.");
		goto out;
	}
	hc_req_client_addr(req, addr, sizeof(addr));
	/* only a name that could be a user's has a record of its own; the
	 * address counts every attempt */
	named = username && *username && strlen(username) <= IDP_MAX_NAME;
	shown = username ? username : ""; /* logged up to IDP_MAX_NAME */
	u = named ? idp_config_user(cfg, username) : NULL;
	snprintf(ukey, sizeof(ukey), "user:%s", named ? username : "");
	snprintf(akey, sizeof(akey), "ip:%s", addr);
	/* each attempt is counted before the (slow) check, in the
	 * transaction that checks the lock: racing attempts cannot pass the
	 * limit. The
	 * break-glass account is not locked by name (three guesses by
	 * anyone would lock it when it is needed most): its failures are
	 * counted for an alert, and its address is locked as any other */
	rc = idp_throttle_reserve(c, cfg, akey, cfg->max_address_failures,
				  &retry, NULL, NULL);
	if (rc == HC_OK && named) {
		rc = idp_throttle_reserve(c, cfg, ukey,
					  u && u->emergency ? 0
							    : cfg->max_failures,
					  &retry, &ucount, NULL);
		if (rc != HC_OK)
			idp_throttle_undo(c, akey);
	}
	if (rc == HC_EBUSY) {
		char msg[128];
		hc_log_warn(&req->hub->log,
			    "login locked for user '%.*s' from %s (%d s left)",
			    IDP_MAX_NAME, shown, addr, retry);
		snprintf(msg, sizeof(msg),
			 "Too many failed attempts. Try again in %d seconds.",
			 retry);
		rc = login_later(resp, 429, cfg, cl, rid, csrf, username, msg,
				 retry);
		goto out;
	}
	if (rc != HC_OK) {
		/* no record of the attempt, no attempt: fail closed */
		hc_log_warn(&req->hub->log,
			    "login refused for user '%.*s' from %s: the "
			    "throttle could not be kept",
			    IDP_MAX_NAME, shown, addr);
		rc = login_later(resp, 503, cfg, cl, rid, csrf, username,
				 "Signing in is not possible right now. Try "
				 "again in a moment.",
				 1);
		goto out;
	}
	rc = authenticate(p, c, cfg, u, hc_json_str(form, "password"),
			  hc_json_str(form, "otp"), amr, sizeof(amr), &why);
	if (rc == HC_EBUSY) {
		if (named)
			idp_throttle_undo(c, ukey);
		idp_throttle_undo(c, akey);
		hc_log_warn(&req->hub->log,
			    "login of user '%.*s' from %s not checked: too "
			    "many password checks at once",
			    IDP_MAX_NAME, shown, addr);
		rc = login_later(resp, 503, cfg, cl, rid, csrf, username,
				 "Too many sign-ins at once. Try again in a "
				 "moment.",
				 1);
		goto out;
	}
	if (rc != HC_OK) {
		hc_log_warn(&req->hub->log,
			    "login failed for user '%.*s' from %s: %s",
			    IDP_MAX_NAME, shown, addr, why);
		if (u && u->emergency)
			emergency_failures(p, c, cfg, u, addr, ucount);
		rc = login_page(resp, 401, cfg, cl, rid, csrf,
				username,
				"The username, password or code is not "
				"right, or the account cannot sign in.");
		goto out;
	}
	idp_throttle_reset(c, ukey);
	idp_throttle_undo(c, akey);
	if (u->emergency) {
		json_t *payload = json_pack("{ssssss}", "username", u->username,
					    "client_id", cl->client_id,
					    "address", addr);
		hc_log_warn(&req->hub->log,
			    "AUDIT emergency access: '%s' signed in from %s for "
			    "client '%s'",
			    u->username, addr, cl->client_id);
		idp_alert(c, "alert_raised",
			  "Emergency (break-glass) account used", payload);
		json_decref(payload);
	}
	{
		/* the session, so the next request needs no password */
		char sid[64], hash[65];
		time_t now = time(NULL);
		struct hc_value v[5];
		if (idp_random(sid, sizeof(sid), 32) != HC_OK) {
			rc = hc_err_set(err, HC_EIO, "no randomness");
			goto out;
		}
		idp_hash(sid, hash);
		/* session, request gone, code: all or nothing */
		rc = hc_tx_begin(c, true, err);
		if (rc != HC_OK)
			goto out;
		v[0] = hc_vtext(hash);
		v[1] = hc_vtext(u->username);
		v[2] = hc_vint((int64_t)now);
		v[3] = hc_vtext(amr);
		v[4] = hc_vint((int64_t)now + cfg->session_ttl);
		rc = hc_exec(c,
			     "INSERT INTO idp_sessions (id_hash, username, "
			     "auth_time, amr, expires) VALUES (?, ?, ?, ?, ?)",
			     v, 5, err);
		if (rc == HC_OK) {
			struct hc_value d[] = { hc_vtext(rid) };
			rc = hc_exec(c, "DELETE FROM idp_requests WHERE id = ?",
				     d, 1, err);
		}
		if (rc == HC_OK)
			rc = grant_code(p, c, cfg, params, u->username,
					(int64_t)now, amr, hash, resp, err);
		if (rc == HC_OK)
			rc = hc_tx_commit(c, err);
		if (rc != HC_OK) {
			hc_tx_rollback(c);
			goto out;
		}
		idp__session_cookies(resp, cfg, sid, cfg->session_ttl);
		hc_log_info(&req->hub->log, "user '%s' signed in from %s",
			    u->username, addr);
	}
out:
	free(ptext);
	json_decref(form);
	json_decref(params);
	idp__client_free(owned);
	idp_config_unref(cfg);
	return rc;
}
