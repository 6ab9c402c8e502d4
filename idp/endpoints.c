/*
 * endpoints.c - discovery (OpenID Connect and RFC 8414), the JWKS,
 * userinfo, introspection (RFC 7662), revocation (RFC 7009), logout
 * (RP-initiated) and dynamic client registration (RFC 7591); and the
 * IdP's route table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hubcore/json.h"
#include "hubcore/util.h"
#include "idp/idp_internal.h"

int idp__authorize_get(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err);
int idp__authorize_post(struct hc_req *req, struct hc_resp *resp,
			struct hc_err *err);
int idp__token(struct hc_req *req, struct hc_resp *resp, struct hc_err *err);

static json_t *url(const struct idp_config *cfg, const char *path)
{
	char u[1024];
	idp__url(cfg, path, u, sizeof(u));
	return json_string(u);
}

static int get_discovery(struct hc_req *req, struct hc_resp *resp,
			 struct hc_err *err)
{
	struct idp_config *cfg = idp_config(idp_of(req->hub));
	json_t *d = json_object();
	json_object_set_new(d, "issuer", json_string(cfg->issuer));
	json_object_set_new(d, "authorization_endpoint",
			    url(cfg, "/authorize"));
	json_object_set_new(d, "token_endpoint", url(cfg, "/token"));
	json_object_set_new(d, "userinfo_endpoint", url(cfg, "/userinfo"));
	json_object_set_new(d, "jwks_uri", url(cfg, "/jwks"));
	json_object_set_new(d, "end_session_endpoint", url(cfg, "/logout"));
	json_object_set_new(d, "revocation_endpoint", url(cfg, "/revoke"));
	json_object_set_new(d, "introspection_endpoint",
			    url(cfg, "/introspect"));
	if (cfg->registration)
		json_object_set_new(d, "registration_endpoint",
				    url(cfg, "/register"));
	json_object_set_new(d, "response_types_supported",
			    json_pack("[s]", "code"));
	json_object_set_new(d, "response_modes_supported",
			    json_pack("[s]", "query"));
	json_object_set_new(d, "grant_types_supported",
			    json_pack("[sss]", "authorization_code",
				      "refresh_token", "client_credentials"));
	json_object_set_new(d, "subject_types_supported",
			    json_pack("[s]", "public"));
	json_object_set_new(d, "id_token_signing_alg_values_supported",
			    json_pack("[ss]", "ES256", "RS256"));
	json_object_set_new(d, "token_endpoint_auth_methods_supported",
			    json_pack("[sss]", "client_secret_basic",
				      "client_secret_post", "none"));
	json_object_set_new(d, "introspection_endpoint_auth_methods_supported",
			    json_pack("[ss]", "client_secret_basic",
				      "client_secret_post"));
	json_object_set_new(d, "revocation_endpoint_auth_methods_supported",
			    json_pack("[sss]", "client_secret_basic",
				      "client_secret_post", "none"));
	json_object_set_new(d, "code_challenge_methods_supported",
			    json_pack("[s]", "S256"));
	json_object_set_new(d, "scopes_supported",
			    json_pack("[sssss]", "openid", "profile", "email",
				      "roles", "offline_access"));
	json_object_set_new(d, "claims_supported",
			    json_pack("[ssssssssss]", "iss", "sub", "aud",
				      "exp", "iat", "auth_time", "name",
				      "email", "preferred_username", "roles"));
	json_object_set_new(d, "authorization_response_iss_parameter_supported",
			    json_true());
	json_object_set_new(d, "request_parameter_supported", json_false());
	/* true when left out (OpenID Connect Discovery) */
	json_object_set_new(d, "request_uri_parameter_supported",
			    json_false());
	json_object_set_new(d, "resource_indicators_supported", json_true());
	idp_config_unref(cfg);
	return hc_resp_json(resp, 200, d);
}

static int get_jwks(struct hc_req *req, struct hc_resp *resp,
		    struct hc_err *err)
{
	struct idp *p = idp_of(req->hub);
	json_t *jwks;
	pthread_mutex_lock(&p->lock);
	jwks = idp_keys_jwks(p->keys, time(NULL));
	pthread_mutex_unlock(&p->lock);
	resp->content_type = "application/jwk-set+json";
	return hc_resp_json(resp, 200, jwks);
}

/* The bearer token of the Authorization header, or NULL. */
static const char *bearer(const struct hc_req *req)
{
	const char *a = hc_req_header(req, "Authorization");
	if (!a || strncasecmp(a, "Bearer ", 7) != 0)
		return NULL;
	a += 7;
	while (*a == ' ')
		a++;
	return *a ? a : NULL;
}

static int bearer_error(struct hc_resp *resp, const char *error,
			const char *description)
{
	char h[512];
	snprintf(h, sizeof(h), "Bearer error=\"%s\", error_description=\"%s\"",
		 error, description);
	hc_resp_header(resp, "WWW-Authenticate", h);
	return idp_oauth_error(resp, 401, error, description);
}

static int userinfo(struct hc_req *req, struct hc_resp *resp,
		    struct hc_err *err)
{
	struct idp *p = idp_of(req->hub);
	struct idp_config *cfg = idp_config(p);
	const char *token = bearer(req);
	struct hc_conn *c = hc_req_db(req, err);
	json_t *claims = NULL, *out;
	const struct idp_user *u;
	const char *scope;
	struct hc_err verr = { 0 };
	int rc;

	if (!c) {
		idp_config_unref(cfg);
		return err->status;
	}
	if (!token) {
		hc_resp_header(resp, "WWW-Authenticate", "Bearer");
		rc = idp_oauth_error(resp, 401, "invalid_token",
				     "a Bearer access token is required");
		goto out;
	}
	if (idp_jwt_verify(p, token, "at+jwt", &claims, &verr) != HC_OK ||
	    idp__jti_revoked(c, hc_json_str(claims, "jti"))) {
		rc = bearer_error(resp, "invalid_token",
				  verr.msg[0] ? verr.msg : "revoked");
		goto out;
	}
	u = idp_config_user(cfg, hc_json_str(claims, "preferred_username"));
	scope = hc_json_str(claims, "scope");
	if (u && !idp__user_enabled(cfg, u)) {
		rc = bearer_error(resp, "invalid_token",
				  "the user can no longer sign in");
		goto out;
	}
	if (!u || !idp__scope_has(scope, "openid")) {
		rc = bearer_error(resp, "insufficient_scope",
				  "userinfo needs a user's token with openid");
		goto out;
	}
	out = json_pack("{ssss}", "sub", hc_json_str(claims, "sub"),
			"preferred_username", u->username);
	if (idp__scope_has(scope, "profile") && u->name)
		json_object_set_new(out, "name", json_string(u->name));
	if (idp__scope_has(scope, "email") && u->email) {
		json_object_set_new(out, "email", json_string(u->email));
		json_object_set_new(out, "email_verified", json_true());
	}
	json_object_set(out, "roles", json_object_get(claims, "roles"));
	json_object_set(out, "groups", json_object_get(claims, "groups"));
	rc = hc_resp_json(resp, 200, out);
out:
	json_decref(claims);
	idp_config_unref(cfg);
	return rc;
}

/* Look a refresh token up by its hash: active when neither used, revoked
 * nor expired. */
static json_t *refresh_info(struct hc_conn *c, const char *token)
{
	char hash[65];
	struct hc_stmt *st = NULL;
	json_t *r = NULL;
	idp_hash(token, hash);
	{
		struct hc_value v[] = { hc_vtext(hash) };
		if (hc_query(c, &st,
			     "SELECT r.client_id, r.username, r.scope, "
			     "r.expires, r.used, f.revoked, r.created, r.family "
			     "FROM idp_refresh r JOIN idp_families f ON "
			     "f.family = r.family WHERE r.token_hash = ?",
			     v, 1, NULL) != HC_OK)
			return NULL;
	}
	if (hc_stmt_step(st, NULL) == HC_ROW_READY)
		r = json_pack("{sssssssIsbsIss}", "client_id",
			      hc_stmt_text(st, 0, NULL), "username",
			      hc_stmt_text(st, 1, NULL), "scope",
			      hc_stmt_text(st, 2, NULL), "exp",
			      (json_int_t)hc_stmt_int(st, 3), "active",
			      !hc_stmt_int(st, 4) && !hc_stmt_int(st, 5) &&
				      hc_stmt_int(st, 3) > time(NULL),
			      "iat", (json_int_t)hc_stmt_int(st, 6), "family",
			      hc_stmt_text(st, 7, NULL));
	hc_stmt_finish(st);
	return r;
}

static int introspect(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	struct idp *p = idp_of(req->hub);
	struct idp_config *cfg = idp_config(p);
	struct hc_conn *c = hc_req_db(req, err);
	json_t *form = NULL, *claims = NULL, *info = NULL, *out = NULL;
	struct idp_client *owned = NULL;
	const struct idp_client *cl = NULL;
	const char *token;
	struct hc_err e2 = { 0 };
	bool basic = false;
	int rc;

	if (!c) {
		rc = err->status;
		goto out;
	}
	if (hc_req_form(req, &form, err) != HC_OK) {
		rc = idp_oauth_error(resp, 400, "invalid_request", err->msg);
		goto out;
	}
	/* only a confidential client from the file (a resource server) may
	 * ask: not a public one, not one anyone could register */
	if (idp__client_auth(c, cfg, req, form, &owned, &cl, &basic, resp) !=
	    HC_OK) {
		rc = HC_OK; /* answered */
		goto out;
	}
	if (cl->public_client || cl->registered) {
		if (basic)
			hc_resp_header(resp, "WWW-Authenticate",
				       "Basic realm=\"idp\"");
		rc = idp_oauth_error(resp, 401, "invalid_client",
				     "introspection needs a confidential "
				     "client");
		goto out;
	}
	token = hc_json_str(form, "token");
	if (!token) {
		rc = idp_oauth_error(resp, 400, "invalid_request",
				     "token is required");
		goto out;
	}
	info = refresh_info(c, token);
	if (info && json_is_true(json_object_get(info, "active"))) {
		json_object_del(info, "family");
		json_object_set_new(info, "token_type",
				    json_string("refresh_token"));
		json_object_set_new(info, "iss", json_string(cfg->issuer));
		out = json_incref(info);
	} else if (!info &&
		   idp_jwt_verify(p, token, "at+jwt", &claims, &e2) == HC_OK &&
		   !idp__jti_revoked(c, hc_json_str(claims, "jti")) &&
		   (!hc_json_str(claims, "preferred_username") ||
		    idp__user_enabled(cfg,
				      idp_config_user(cfg,
						      hc_json_str(claims,
							  "preferred_username"))))) {
		out = json_deep_copy(claims);
		json_object_set_new(out, "active", json_true());
		json_object_set_new(out, "token_type",
				    json_string("Bearer"));
		if (hc_json_str(claims, "preferred_username"))
			json_object_set(out, "username",
					json_object_get(claims,
							"preferred_username"));
	} else {
		out = json_pack("{sb}", "active", 0);
	}
	rc = hc_resp_json(resp, 200, out);
out:
	json_decref(form);
	json_decref(claims);
	json_decref(info);
	idp__client_free(owned);
	idp_config_unref(cfg);
	return rc;
}

static int revoke(struct hc_req *req, struct hc_resp *resp, struct hc_err *err)
{
	struct idp *p = idp_of(req->hub);
	struct idp_config *cfg = idp_config(p);
	struct hc_conn *c = hc_req_db(req, err);
	json_t *form = NULL, *info = NULL, *claims = NULL;
	struct idp_client *owned = NULL;
	const struct idp_client *cl = NULL;
	struct hc_err e2 = { 0 };
	const char *token;
	bool basic = false;
	int rc = HC_OK;

	if (!c) {
		rc = err->status;
		goto out;
	}
	if (hc_req_form(req, &form, err) != HC_OK) {
		rc = idp_oauth_error(resp, 400, "invalid_request", err->msg);
		goto out;
	}
	if (idp__client_auth(c, cfg, req, form, &owned, &cl, &basic, resp) !=
	    HC_OK) {
		rc = HC_OK; /* answered */
		goto out;
	}
	token = hc_json_str(form, "token");
	if (!token) {
		rc = idp_oauth_error(resp, 400, "invalid_request",
				     "token is required");
		goto out;
	}
	/* RFC 7009: unknown or foreign tokens are answered 200 too */
	info = refresh_info(c, token);
	if (info && strcmp(hc_json_str(info, "client_id"), cl->client_id) == 0)
		rc = idp__revoke_family(c, hc_json_str(info, "family"), err);
	else if (!info &&
		 idp_jwt_verify(p, token, "at+jwt", &claims, &e2) == HC_OK &&
		 strcmp(hc_json_str(claims, "client_id"), cl->client_id) == 0) {
		struct hc_value v[] = { hc_vtext(hc_json_str(claims, "jti")) };
		rc = hc_exec(c, "UPDATE idp_access SET revoked = 1 WHERE jti = ?",
			     v, 1, err);
	}
	if (rc == HC_OK)
		rc = hc_resp_empty(resp, 200);
out:
	json_decref(form);
	json_decref(info);
	json_decref(claims);
	idp__client_free(owned);
	idp_config_unref(cfg);
	return rc;
}

/* The request's parameters: the query for GET, the form for POST. */
static int params_of(const struct hc_req *req, json_t **out,
		     struct hc_err *err)
{
	if (strcmp(req->method, "POST") == 0)
		return hc_req_form(req, out, err);
	return hc_req_query(req, out, err);
}

/* The audience and subject of an ID token hint (its signature checked;
 * it may have expired, as hints often have). */
static char *hint_client(struct idp *p, const char *hint, char **sub)
{
	cjose_err cerr;
	cjose_jws_t *jws = hc_jws_compact_ok(hint, 16384)
				   ? cjose_jws_import(hint, strlen(hint), &cerr)
				   : NULL;
	cjose_header_t *hdr;
	const struct idp_key *k;
	uint8_t *plain = NULL;
	size_t plen = 0;
	json_t *c;
	char *aud = NULL;
	*sub = NULL;
	if (!jws)
		return NULL;
	hdr = cjose_jws_get_protected(jws);
	pthread_mutex_lock(&p->lock);
	k = idp_keys_find(p->keys, cjose_header_get(hdr, "kid", &cerr),
			  time(NULL));
	/* an ID token: not an access token (typ at+jwt) */
	if (k && strcmp(cjose_header_get(hdr, "alg", &cerr) ?: "", k->alg) == 0 &&
	    strcasecmp(cjose_header_get(hdr, "typ", &cerr) ?: "JWT", "JWT") ==
		    0 &&
	    cjose_jws_verify(jws, k->jwk, &cerr) &&
	    cjose_jws_get_plaintext(jws, &plain, &plen, &cerr) &&
	    (c = json_loadb((const char *)plain, plen, 0, NULL))) {
		const char *a = hc_json_str(c, "aud");
		const char *s = hc_json_str(c, "sub");
		aud = a && s ? strdup(a) : NULL;
		*sub = aud ? strdup(s) : NULL;
		json_decref(c);
	}
	pthread_mutex_unlock(&p->lock);
	cjose_jws_release(jws);
	return aud;
}

/* End a login session: delete it and revoke every token family it was
 * given, as Keycloak does when a session ends. */
static int end_session(struct hc_conn *c, const char *hash, struct hc_err *err)
{
	struct hc_value v[] = { hc_vtext(hash) };
	int rc = hc_tx_begin(c, true, err);
	if (rc == HC_OK)
		rc = hc_exec(c,
			     "UPDATE idp_access SET revoked = 1 WHERE family IN "
			     "(SELECT family FROM idp_families WHERE session = "
			     "?)",
			     v, 1, err);
	if (rc == HC_OK)
		rc = hc_exec(c,
			     "UPDATE idp_families SET revoked = 1 WHERE "
			     "session = ?",
			     v, 1, err);
	/* and the codes not redeemed yet */
	if (rc == HC_OK)
		rc = hc_exec(c,
			     "UPDATE idp_codes SET used = 1 WHERE family IN "
			     "(SELECT family FROM idp_families WHERE session = "
			     "?)",
			     v, 1, err);
	if (rc == HC_OK)
		rc = hc_exec(c, "DELETE FROM idp_sessions WHERE id_hash = ?", v,
			     1, err);
	if (rc == HC_OK)
		return hc_tx_commit(c, err);
	hc_tx_rollback(c);
	return rc;
}

/* "Sign out?": asked when the request does not prove it comes from the
 * session's own application (no valid id_token_hint for its user), so
 * that a foreign page cannot sign people out (RP-Initiated Logout §2). */
static int logout_confirm(struct hc_resp *resp, const struct idp_config *cfg,
			  json_t *params, struct hc_err *err)
{
	static const char *const keep[] = { "client_id",
					    "post_logout_redirect_uri",
					    "state", NULL };
	struct hc_buf b = HC_BUF_INIT(64 * 1024);
	char csrf[48], action[1024], cookie[160];
	if (idp_random(csrf, sizeof(csrf), 18) != HC_OK)
		return hc_err_set(err, HC_EIO, "no randomness");
	idp__url(cfg, "/logout", action, sizeof(action));
	hc_buf_adds(&b, "<!doctype html><html lang=\"en\"><head><meta "
			"charset=\"utf-8\"><meta name=\"viewport\" "
			"content=\"width=device-width, initial-scale=1\">"
			"<title>Sign out?</title></head><body><main><h1>Sign "
			"out?</h1><p>Do you want to sign out?</p><form "
			"method=\"post\" action=\"");
	idp__html(&b, action);
	hc_buf_adds(&b, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	idp__html(&b, csrf);
	hc_buf_adds(&b, "\">");
	for (size_t i = 0; keep[i]; i++) {
		const char *v = hc_json_str(params, keep[i]);
		if (!v)
			continue;
		hc_buf_addf(&b, "<input type=\"hidden\" name=\"%s\" value=\"",
			    keep[i]);
		idp__html(&b, v);
		hc_buf_adds(&b, "\">");
	}
	hc_buf_adds(&b, "<button type=\"submit\" name=\"confirm\" "
			"value=\"yes\">Sign out</button></form></main></body>"
			"</html>\n");
	resp->status = 200;
	resp->content_type = "text/html; charset=utf-8";
	resp->body = hc_buf_detach(&b, &resp->body_len);
	hc_resp_header(resp, "Content-Security-Policy",
		       "default-src 'none'; frame-ancestors 'none'; "
		       "base-uri 'none'");
	hc_resp_header(resp, "X-Frame-Options", "DENY");
	snprintf(cookie, sizeof(cookie),
		 "%s=%s; Path=/logout; HttpOnly; SameSite=Strict; Max-Age=600",
		 IDP_CSRF_COOKIE, csrf);
	hc_resp_header(resp, "Set-Cookie", cookie);
	return HC_OK;
}

static int logout(struct hc_req *req, struct hc_resp *resp, struct hc_err *err)
{
	struct idp *p = idp_of(req->hub);
	struct idp_config *cfg = idp_config(p);
	struct hc_conn *c = hc_req_db(req, err);
	json_t *params = NULL;
	int rc = c ? params_of(req, &params, err) : err->status;
	const char *post = hc_json_str(params, "post_logout_redirect_uri");
	const char *state = hc_json_str(params, "state");
	const char *cookie = hc_req_cookie(req, IDP_SESSION_COOKIE);
	char *client_id = NULL, *sub = NULL, hash[65] = "";
	char *session_user = NULL;
	struct idp_client *owned = NULL;
	const struct idp_client *cl = NULL;
	struct hc_buf body = HC_BUF_INIT(8192);
	bool proven;

	if (rc != HC_OK)
		goto out;
	client_id = hint_client(p, hc_json_str(params, "id_token_hint"), &sub);
	if (!client_id && hc_json_str(params, "id_token_hint")) {
		rc = hc_err_set(err, HC_EBADREQ,
				"id_token_hint is not an ID token of this "
				"provider");
		goto out;
	}
	if (client_id && hc_json_str(params, "client_id") &&
	    strcmp(client_id, hc_json_str(params, "client_id")) != 0) {
		rc = hc_err_set(err, HC_EBADREQ,
				"client_id does not match id_token_hint");
		goto out;
	}
	if (!client_id && hc_json_str(params, "client_id"))
		client_id = strdup(hc_json_str(params, "client_id"));
	if (post) {
		/* only to an address registered for the client: no open
		 * redirect */
		if (!client_id ||
		    idp__find_client(c, cfg, client_id, &owned, &cl) != HC_OK ||
		    !idp_strings_has(&cl->post_logout_redirect_uris, post)) {
			rc = hc_err_set(err, HC_EBADREQ,
					"post_logout_redirect_uri is not "
					"registered for the client (give "
					"id_token_hint or client_id)");
			goto out;
		}
	}
	if (cookie) {
		struct hc_value v[2];
		struct hc_stmt *st = NULL;
		idp_hash(cookie, hash);
		v[0] = hc_vtext(hash);
		v[1] = hc_vint((int64_t)time(NULL));
		if (hc_query(c, &st,
			     "SELECT username FROM idp_sessions WHERE id_hash "
			     "= ? AND expires > ?",
			     v, 2, NULL) == HC_OK &&
		    hc_stmt_step(st, NULL) == HC_ROW_READY)
			session_user = strdup(hc_stmt_text(st, 0, NULL));
		hc_stmt_finish(st);
	}
	/* the application proves itself with an ID token of the session's
	 * user; else the person confirms on our own page */
	proven = !session_user || (sub && strcmp(sub, session_user) == 0);
	if (!proven && strcmp(req->method, "POST") == 0) {
		const char *form_csrf = hc_json_str(params, "csrf");
		const char *cookie_csrf = hc_req_cookie(req, IDP_CSRF_COOKIE);
		proven = form_csrf && cookie_csrf &&
			 strcmp(form_csrf, cookie_csrf) == 0;
	}
	if (!proven) {
		rc = logout_confirm(resp, cfg, params, err);
		goto out;
	}
	if (session_user) {
		rc = end_session(c, hash, err);
		if (rc != HC_OK)
			goto out;
		hc_log_info(&req->hub->log, "user '%s' signed out",
			    session_user);
	}
	idp__session_cookies(resp, cfg, "", 0);
	if (post) {
		hc_buf_adds(&body, post);
		if (state)
			idp__query(&body, "state", state);
		hc_resp_header(resp, "Location", body.data);
		rc = hc_resp_empty(resp, 302);
	} else {
		resp->status = 200;
		resp->content_type = "text/html; charset=utf-8";
		hc_buf_adds(&body, "<!doctype html><html lang=\"en\"><head>"
				   "<meta charset=\"utf-8\"><title>Signed out"
				   "</title></head><body><main><h1>Signed out"
				   "</h1><p>You are signed out.</p></main>"
				   "</body></html>\n");
		resp->body = hc_buf_detach(&body, &resp->body_len);
		hc_resp_header(resp, "Content-Security-Policy",
			       "default-src 'none'");
	}
out:
	hc_buf_release(&body);
	free(session_user);
	free(client_id);
	free(sub);
	json_decref(params);
	idp__client_free(owned);
	idp_config_unref(cfg);
	return rc;
}

/* RFC 7591, for MCP clients that register themselves; off unless the
 * configuration says dynamic_registration: true. */
static int reg(struct hc_req *req, struct hc_resp *resp, struct hc_err *err)
{
	struct idp *p = idp_of(req->hub);
	struct idp_config *cfg = idp_config(p);
	struct hc_conn *c = hc_req_db(req, err);
	json_t *in = NULL, *meta = NULL, *uris, *grants, *v, *out = NULL;
	const char *method;
	char id[48], secret[64], addr[64], rkey[96];
	char *secret_hash = NULL, *text = NULL;
	size_t i;
	bool registered = false;
	int rc, reserved = HC_EBUSY, retry = 0;

	if (!cfg->registration) {
		rc = idp_oauth_error(resp, 403, "access_denied",
				     "dynamic client registration is off "
				     "(dynamic_registration: true enables "
				     "it)");
		goto out;
	}
	if (!c) {
		rc = err->status;
		goto out;
	}
	/* anyone may register, and a client is kept for ever: a bounded
	 * body, and a bounded number per address (then growing locks) */
	if (req->body_len > IDP_MAX_REGISTRATION) {
		char why[96];
		snprintf(why, sizeof(why),
			 "the registration is larger than %d bytes",
			 IDP_MAX_REGISTRATION);
		rc = idp_oauth_error(resp, 413, "invalid_client_metadata",
				     why);
		goto out;
	}
	hc_req_client_addr(req, addr, sizeof(addr));
	snprintf(rkey, sizeof(rkey), "register:%s", addr);
	reserved = idp_throttle_reserve(c, cfg, rkey, cfg->max_registrations,
					&retry, NULL, NULL);
	if (reserved != HC_OK) {
		char ra[16], why[128];
		snprintf(ra, sizeof(ra), "%d",
			 reserved == HC_EBUSY && retry > 0 ? retry : 1);
		hc_resp_header(resp, "Retry-After", ra);
		if (reserved == HC_EBUSY) {
			hc_log_warn(&req->hub->log,
				    "registrations from %s are held for %s s",
				    addr, ra);
			snprintf(why, sizeof(why),
				 "too many registrations from this address; "
				 "try again in %s seconds",
				 ra);
			rc = idp_oauth_error(resp, 429,
					     "temporarily_unavailable", why);
		} else {
			rc = idp_oauth_error(resp, 503,
					     "temporarily_unavailable",
					     "registration is not available "
					     "right now");
		}
		goto out;
	}
	rc = hc_req_json(req, &in, err);
	if (rc != HC_OK) {
		rc = idp_oauth_error(resp, 400, "invalid_client_metadata",
				     err->msg);
		goto out;
	}
	uris = json_object_get(in, "redirect_uris");
	if (!json_is_array(uris) || !json_array_size(uris) ||
	    json_array_size(uris) > IDP_MAX_REDIRECT_URIS) {
		char why[96];
		snprintf(why, sizeof(why),
			 "redirect_uris must be a list of 1 to %d URIs",
			 IDP_MAX_REDIRECT_URIS);
		rc = idp_oauth_error(resp, 400, "invalid_redirect_uri", why);
		goto out;
	}
	json_array_foreach(uris, i, v)
	{
		const char *u = json_string_value(v);
		if (!u || !idp_redirect_uri_ok(u)) {
			rc = idp_oauth_error(resp, 400, "invalid_redirect_uri",
					     "redirect URIs must be https, http "
					     "on a loopback address, or a "
					     "private-use scheme, without a "
					     "fragment");
			goto out;
		}
	}
	/* RFC 7591 §2: client_secret_basic when not said */
	method = hc_json_str(in, "token_endpoint_auth_method");
	if (!method && json_object_get(in, "token_endpoint_auth_method")) {
		rc = idp_oauth_error(resp, 400, "invalid_client_metadata",
				     "token_endpoint_auth_method must be a "
				     "string");
		goto out;
	}
	if (!method)
		method = "client_secret_basic";
	if (strcmp(method, "none") &&
	    strcmp(method, "client_secret_basic") &&
	    strcmp(method, "client_secret_post")) {
		rc = idp_oauth_error(resp, 400, "invalid_client_metadata",
				     "token_endpoint_auth_method must be none, "
				     "client_secret_basic or "
				     "client_secret_post");
		goto out;
	}
	if (json_object_get(in, "client_name") &&
	    (!hc_json_str(in, "client_name") ||
	     json_string_length(json_object_get(in, "client_name")) >
		     IDP_MAX_CLIENT_NAME)) {
		char why[96];
		snprintf(why, sizeof(why),
			 "client_name must be a text of at most %d bytes",
			 IDP_MAX_CLIENT_NAME);
		rc = idp_oauth_error(resp, 400, "invalid_client_metadata",
				     why);
		goto out;
	}
	grants = json_pack("[ss]", "authorization_code", "refresh_token");
	meta = json_pack("{sOso}", "redirect_uris", uris, "grant_types",
			 grants);
	if (hc_json_str(in, "client_name"))
		json_object_set(meta, "client_name",
				json_object_get(in, "client_name"));
	if (idp_random(id, sizeof(id), 18) != HC_OK ||
	    idp_random(secret, sizeof(secret), 32) != HC_OK) {
		rc = hc_err_set(err, HC_EIO, "no randomness");
		goto out;
	}
	if (strcmp(method, "none") != 0) {
		secret_hash = malloc(80);
		if (!secret_hash ||
		    idp_secret_hash(secret_hash, 80, secret) != 0) {
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
			goto out;
		}
	}
	text = hc_json_dump(meta, NULL);
	{
		char cid[64];
		struct hc_value vals[4];
		snprintf(cid, sizeof(cid), "dyn-%s", id);
		vals[0] = hc_vtext(cid);
		vals[1] = hc_vtext(secret_hash);
		vals[2] = hc_vtext(text);
		vals[3] = hc_vint((int64_t)time(NULL));
		rc = hc_exec(c,
			     "INSERT INTO idp_clients (client_id, secret_hash, "
			     "metadata, created) VALUES (?, ?, ?, ?)",
			     vals, 4, err);
		if (rc != HC_OK)
			goto out;
		out = json_deep_copy(meta);
		json_object_set_new(out, "client_id", json_string(cid));
		json_object_set_new(out, "client_id_issued_at",
				    json_integer((json_int_t)time(NULL)));
		json_object_set_new(out, "token_endpoint_auth_method",
				    json_string(method));
		if (secret_hash) {
			json_object_set_new(out, "client_secret",
					    json_string(secret));
			json_object_set_new(out, "client_secret_expires_at",
					    json_integer(0));
		}
		json_object_set_new(out, "response_types",
				    json_pack("[s]", "code"));
	}
	rc = hc_resp_json(resp, 201, out);
	registered = true;
out:
	/* only a registration counts against the address */
	if (reserved == HC_OK && !registered)
		idp_throttle_undo(c, rkey);
	free(secret_hash);
	free(text);
	json_decref(in);
	json_decref(meta);
	idp_config_unref(cfg);
	return rc;
}

static const struct hc_route routes[] = {
	{ "GET", "/.well-known/openid-configuration", get_discovery, NULL,
	  HC_SCOPE_PUBLIC, HC_ROUTE_READONLY, "OpenID Connect discovery" },
	{ "GET", "/.well-known/oauth-authorization-server", get_discovery,
	  NULL, HC_SCOPE_PUBLIC, HC_ROUTE_READONLY,
	  "Authorization server metadata (RFC 8414)" },
	{ "GET", "/jwks", get_jwks, NULL, HC_SCOPE_PUBLIC, HC_ROUTE_READONLY,
	  "The public signing keys" },
	/* the authorization and logout endpoints write on GET (a pending
	 * request, an ended session), as the protocol has them */
	{ "GET", "/authorize", idp__authorize_get, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_PER_MESSAGE, "Authorization endpoint: the login page" },
	{ "POST", "/authorize", idp__authorize_post, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_RAW_BODY | HC_ROUTE_PER_MESSAGE,
	  "The login form (CSRF-protected)" },
	{ "POST", "/token", idp__token, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_RAW_BODY | HC_ROUTE_PER_MESSAGE,
	  "Token endpoint (client authentication inside)" },
	{ "GET", "/userinfo", userinfo, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY | HC_ROUTE_PER_MESSAGE,
	  "Claims of the bearer's user" },
	{ "POST", "/userinfo", userinfo, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_PER_MESSAGE, "Claims of the bearer's user" },
	{ "POST", "/introspect", introspect, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_RAW_BODY | HC_ROUTE_PER_MESSAGE,
	  "Token introspection (RFC 7662)" },
	{ "POST", "/revoke", revoke, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_RAW_BODY | HC_ROUTE_PER_MESSAGE,
	  "Token revocation (RFC 7009)" },
	{ "GET", "/logout", logout, NULL, HC_SCOPE_PUBLIC, HC_ROUTE_PER_MESSAGE,
	  "End the session (RP-initiated logout)" },
	{ "POST", "/logout", logout, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_RAW_BODY | HC_ROUTE_PER_MESSAGE, "End the session" },
	{ "POST", "/register", reg, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_PER_MESSAGE, "Dynamic client registration (RFC 7591)" },
};

const struct hc_route_table idp_routes = HC_ROUTE_TABLE(routes);
