/*
 * token.c - the token endpoint and client authentication.
 *
 * Codes are single use: a replayed code fails and revokes everything it
 * issued. Refresh tokens rotate: each works once, and presenting one that
 * was already used revokes its whole family. Service accounts get tokens
 * with client_credentials. A resource indicator (RFC 8707) becomes the
 * access token's audience.
 */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hubcore/json.h"
#include "hubcore/util.h"
#include "idp/idp_internal.h"

int idp_oauth_error(struct hc_resp *resp, int status, const char *error,
		    const char *description)
{
	json_t *j = json_pack("{ss}", "error", error);
	if (description)
		json_object_set_new(j, "error_description",
				    json_string(description));
	hc_resp_header(resp, "Pragma", "no-cache");
	return hc_resp_json(resp, status, j);
}

static int pct(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 6749 §2.3.1: client_id and secret are form-encoded before Basic. */
static char *form_decode(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t k = 0;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 0 && pct(s[i + 1]) >= 0 &&
		    pct(s[i + 2]) >= 0) {
			o[k++] = (char)(pct(s[i + 1]) * 16 + pct(s[i + 2]));
			i += 2;
		} else {
			o[k++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	o[k] = '\0';
	if (memchr(o, '\0', k)) {
		free(o);
		return NULL;
	}
	return o;
}

/* Standard base64 of a Basic header, decoded through base64url. */
static char *basic_decode(const char *b64)
{
	size_t n = strlen(b64), len;
	char *u = strdup(b64), *out;
	if (!u)
		return NULL;
	for (size_t i = 0; i < n; i++)
		u[i] = u[i] == '+' ? '-' : u[i] == '/' ? '_' : u[i];
	while (n && u[n - 1] == '=')
		n--;
	out = malloc(n + 1);
	len = out ? hc_base64url_decode(u, n, out, n) : (size_t)-1;
	free(u);
	if (len == (size_t)-1) {
		free(out);
		return NULL;
	}
	out[len] = '\0';
	return out;
}

/* Refuse a client authentication: the response, and HC_EAUTH. */
static int client_refused(struct hc_resp *resp, bool basic, int status,
			  const char *error, const char *description,
			  const char *retry_after)
{
	if (status == 401 && basic)
		hc_resp_header(resp, "WWW-Authenticate", "Basic realm=\"idp\"");
	if (retry_after)
		hc_resp_header(resp, "Retry-After", retry_after);
	idp_oauth_error(resp, status, error, description);
	return HC_EAUTH;
}

/* A reservation refused: locked (429) or no record kept (503). */
static int throttle_refused(struct hc_resp *resp, bool basic, int rc,
			    int retry)
{
	char ra[16], text[160];
	if (rc != HC_EBUSY)
		return client_refused(resp, basic, 503,
				      "temporarily_unavailable",
				      "client authentication is not available "
				      "right now",
				      IDP_BUSY_RETRY);
	snprintf(ra, sizeof(ra), "%d", retry > 0 ? retry : 1);
	snprintf(text, sizeof(text),
		 "too many failed client authentications; try again in %s "
		 "seconds",
		 ra);
	return client_refused(resp, basic, 429, "invalid_client", text, ra);
}

/*
 * Check a confidential client's secret under the throttle: the attempt
 * is reserved against the client and the address before the check (an
 * argon2id secret costs a slot), undone when no slot came free, and
 * cleared for the client on success.
 */
static int check_secret(struct idp *p, struct hc_conn *c,
			struct idp_config *cfg, const struct hc_req *req,
			const struct idp_client *cl, const char *secret,
			bool basic, struct hc_resp *resp)
{
	char addr[64], akey[96], ckey[IDP_MAX_NAME + 16];
	int retry = 0, rc, vr;

	hc_req_client_addr(req, addr, sizeof(addr));
	snprintf(akey, sizeof(akey), "client-ip:%s", addr);
	snprintf(ckey, sizeof(ckey), "client:%s", cl->client_id);
	rc = idp_throttle_reserve(c, cfg, akey, cfg->max_address_failures,
				  &retry, NULL, NULL);
	if (rc != HC_OK)
		return throttle_refused(resp, basic, rc, retry);
	rc = idp_throttle_reserve(c, cfg, ckey, cfg->max_failures, &retry,
				  NULL, NULL);
	if (rc != HC_OK) {
		idp_throttle_undo(c, akey);
		if (rc == HC_EBUSY)
			hc_log_warn(&p->hub->log,
				    "client '%s' locked after failed "
				    "authentications (from %s, %d s left)",
				    cl->client_id, addr, retry);
		return throttle_refused(resp, basic, rc, retry);
	}
	vr = idp__secret_verify(p, cfg, cl->secret_hash, secret);
	if (vr == HC_EBUSY) {
		idp_throttle_undo(c, ckey);
		idp_throttle_undo(c, akey);
		return client_refused(resp, basic, 503,
				      "temporarily_unavailable",
				      "too many secret checks at once; try "
				      "again",
				      IDP_BUSY_RETRY);
	}
	if (vr != HC_OK) {
		hc_log_warn(&p->hub->log,
			    "client authentication failed for '%s' from %s",
			    cl->client_id, addr);
		return client_refused(resp, basic, 401, "invalid_client",
				      "client authentication failed", NULL);
	}
	idp_throttle_reset(c, ckey);
	idp_throttle_undo(c, akey);
	return HC_OK;
}

/* Authenticate the client of a token, introspection or revocation
 * request. *owned must be freed with idp__client_free. */
int idp__client_auth(struct hc_conn *c, struct idp_config *cfg,
		     const struct hc_req *req, json_t *form,
		     struct idp_client **owned,
		     const struct idp_client **client, bool *basic,
		     struct hc_resp *resp)
{
	struct idp *p = idp_of(req->hub);
	const char *auth = hc_req_header(req, "Authorization");
	const char *fid = hc_json_str(form, "client_id");
	const char *fsecret = hc_json_str(form, "client_secret");
	char *id = NULL, *secret = NULL;
	int rc = HC_OK;

	*basic = false;
	if (auth && strncasecmp(auth, "Basic ", 6) == 0) {
		char *dec = basic_decode(auth + 6), *colon;
		*basic = true;
		colon = dec ? strchr(dec, ':') : NULL;
		if (!colon) {
			free(dec);
			return client_refused(resp, true, 401,
					      "invalid_client",
					      "malformed Basic credentials",
					      NULL);
		}
		id = form_decode(dec, (size_t)(colon - dec));
		secret = form_decode(colon + 1, strlen(colon + 1));
		free(dec);
		if (!id || !secret || (fid && strcmp(fid, id) != 0) || fsecret) {
			rc = client_refused(resp, true, 401, "invalid_client",
					    "conflicting client credentials",
					    NULL);
			goto out;
		}
	} else {
		id = fid ? strdup(fid) : NULL;
		secret = fsecret ? strdup(fsecret) : NULL;
	}
	if (!id || idp__find_client(c, cfg, id, owned, client) != HC_OK) {
		rc = client_refused(resp, *basic, 401, "invalid_client",
				    "unknown client", NULL);
		goto out;
	}
	if ((*client)->public_client) {
		if (secret)
			rc = client_refused(resp, *basic, 401,
					    "invalid_client",
					    "a public client has no secret",
					    NULL);
	} else if (!secret) {
		rc = client_refused(resp, *basic, 401, "invalid_client",
				    "client authentication failed", NULL);
	} else {
		rc = check_secret(p, c, cfg, req, *client, secret, *basic,
				  resp);
	}
out:
	free(id);
	free(secret);
	return rc;
}

static bool verifier_matches(const char *verifier, const char *challenge)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char enc[64];
	size_t n = verifier ? strlen(verifier) : 0;
	if (n < 43 || n > 128 ||
	    strspn(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
			     "yz0123456789-._~") != n)
		return false;
	SHA256((const unsigned char *)verifier, n, md);
	hc_base64url_encode(md, sizeof(md), enc);
	return strcmp(enc, challenge) == 0;
}

/* grant_type=authorization_code */
static int code_grant(struct idp *p, struct hc_conn *c, struct idp_config *cfg,
		      const struct idp_client *cl, json_t *form,
		      struct hc_resp *resp, struct hc_err *err)
{
	const char *code = hc_json_str(form, "code");
	struct hc_stmt *st = NULL;
	char hash[65];
	json_t *row = NULL, *out = NULL;
	int rc;

	if (!code)
		return idp_oauth_error(resp, 400, "invalid_request",
				       "code is required");
	idp_hash(code, hash);
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	{
		struct hc_value v[] = { hc_vtext(hash) };
		rc = hc_query(c, &st,
			      "SELECT client_id, username, redirect_uri, scope, "
			      "nonce, challenge, resource, auth_time, amr, "
			      "family, expires, used FROM idp_codes WHERE "
			      "code_hash = ?",
			      v, 1, err);
	}
	if (rc == HC_OK && hc_stmt_step(st, NULL) == HC_ROW_READY) {
		row = json_object();
		for (int i = 0; i < 12; i++) {
			const char *name = hc_stmt_name(st, i);
			if (hc_stmt_isnull(st, i))
				json_object_set_new(row, name, json_null());
			else if (i >= 10 || i == 7)
				json_object_set_new(row, name,
						    json_integer(hc_stmt_int(st,
									     i)));
			else
				json_object_set_new(
					row, name,
					json_string(hc_stmt_text(st, i, NULL)));
		}
	}
	hc_stmt_finish(st);
	if (rc != HC_OK)
		goto fail;
	if (!row) {
		hc_tx_rollback(c);
		return idp_oauth_error(resp, 400, "invalid_grant",
				       "the code is not valid");
	}
	if (json_integer_value(json_object_get(row, "used"))) {
		/* replay: whatever the code gave is no longer good */
		rc = idp__revoke_family(c, hc_json_str(row, "family"), err);
		if (rc == HC_OK)
			rc = hc_tx_commit(c, err);
		json_decref(row);
		if (rc != HC_OK)
			return rc;
		hc_log_warn(&p->hub->log,
			    "a code was used twice by client '%s'; its tokens "
			    "are revoked",
			    cl->client_id);
		return idp_oauth_error(resp, 400, "invalid_grant",
				       "the code was already used");
	}
	{
		struct hc_value v[] = { hc_vtext(hash) };
		rc = hc_exec(c, "UPDATE idp_codes SET used = 1 WHERE code_hash = ?",
			     v, 1, err);
		if (rc == HC_OK)
			rc = hc_tx_commit(c, err); /* used, whatever follows */
		if (rc != HC_OK)
			goto fail;
	}
	if (json_integer_value(json_object_get(row, "expires")) < time(NULL) ||
	    strcmp(hc_json_str(row, "client_id"), cl->client_id) != 0 ||
	    !hc_json_str(form, "redirect_uri") ||
	    strcmp(hc_json_str(row, "redirect_uri"),
		   hc_json_str(form, "redirect_uri")) != 0) {
		json_decref(row);
		return idp_oauth_error(resp, 400, "invalid_grant",
				       "the code is expired, or was issued to "
				       "another client or redirect_uri");
	}
	/* a verifier for a code without a challenge is a downgrade
	 * attempt (RFC 9700 §4.8.2) */
	if (!hc_json_str(row, "challenge") &&
	    json_object_get(form, "code_verifier")) {
		json_decref(row);
		return idp_oauth_error(resp, 400, "invalid_grant",
				       "code_verifier given, but the "
				       "authorization request had no "
				       "code_challenge");
	}
	if (hc_json_str(row, "challenge") &&
	    !verifier_matches(hc_json_str(form, "code_verifier"),
			      hc_json_str(row, "challenge"))) {
		json_decref(row);
		return idp_oauth_error(resp, 400, "invalid_grant",
				       "code_verifier does not match the "
				       "code_challenge");
	}
	{
		const struct idp_user *u =
			idp_config_user(cfg, hc_json_str(row, "username"));
		struct idp_grant g = {
			.client = cl,
			.user = u,
			.scope = hc_json_str(row, "scope"),
			.resource = hc_json_str(row, "resource"),
			.nonce = hc_json_str(row, "nonce"),
			.auth_time = json_integer_value(
				json_object_get(row, "auth_time")),
			.amr = hc_json_str(row, "amr"),
			.family = hc_json_str(row, "family"),
		};
		if (!idp__user_enabled(cfg, u)) {
			json_decref(row);
			return idp_oauth_error(resp, 400, "invalid_grant",
					       "the user can no longer sign in");
		}
		g.id_token = idp__scope_has(g.scope, "openid");
		g.refresh = idp_strings_has(&cl->grant_types, "refresh_token") &&
			    idp__scope_has(g.scope, "offline_access");
		if (!g.refresh && idp_strings_has(&cl->grant_types,
						  "refresh_token") &&
		    idp__scope_has(g.scope, "openid"))
			g.refresh = true;
		rc = hc_tx_begin(c, true, err);
		/* a family revoked meanwhile (logout, a replay) gets
		 * nothing: checked in the transaction that issues */
		if (rc == HC_OK && idp__family_revoked(c, g.family)) {
			hc_tx_rollback(c);
			json_decref(row);
			return idp_oauth_error(resp, 400, "invalid_grant",
					       "the code's session has ended");
		}
		if (rc == HC_OK)
			rc = idp__issue(p, c, cfg, &g, &out, err);
		if (rc == HC_OK)
			rc = hc_tx_commit(c, err);
		else
			hc_tx_rollback(c);
		if (rc == HC_OK && u->emergency)
			idp__emergency_audit(p, c, u, cl, "code");
	}
	json_decref(row);
	if (rc != HC_OK)
		return rc;
	hc_resp_header(resp, "Pragma", "no-cache");
	return hc_resp_json(resp, 200, out);
fail:
	json_decref(row);
	hc_tx_rollback(c);
	return rc;
}

/* A copy of a column's text, or NULL (no copy is cut short). */
static char *column_dup(struct hc_stmt *st, int col, bool *oom)
{
	char *v;
	if (hc_stmt_isnull(st, col))
		return NULL;
	v = strdup(hc_stmt_text(st, col, NULL));
	if (!v)
		*oom = true;
	return v;
}

/* grant_type=refresh_token: rotate, and catch reuse. */
static int refresh_grant(struct idp *p, struct hc_conn *c,
			 struct idp_config *cfg, const struct idp_client *cl,
			 json_t *form, struct hc_resp *resp,
			 struct hc_err *err)
{
	const char *token = hc_json_str(form, "refresh_token");
	const char *scope = hc_json_str(form, "scope");
	char hash[65];
	char *fam = NULL, *user = NULL, *oldscope = NULL, *res = NULL;
	char *amr = NULL;
	struct hc_stmt *st = NULL;
	int64_t expires = 0, used = 0, revoked = 0, auth_time = 0;
	bool found = false, oom = false;
	json_t *out = NULL;
	int rc;

	if (!token)
		return idp_oauth_error(resp, 400, "invalid_request",
				       "refresh_token is required");
	if (scope && strlen(scope) > IDP_MAX_SCOPE)
		return idp_oauth_error(resp, 400, "invalid_scope",
				       "the scope is too long");
	idp_hash(token, hash);
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	{
		struct hc_value v[] = { hc_vtext(hash),
					hc_vtext(cl->client_id) };
		rc = hc_query(c, &st,
			      "SELECT r.family, r.username, r.scope, "
			      "r.resource, r.auth_time, r.amr, r.expires, "
			      "r.used, f.revoked FROM idp_refresh r JOIN "
			      "idp_families f ON f.family = r.family WHERE "
			      "r.token_hash = ? AND r.client_id = ?",
			      v, 2, err);
	}
	if (rc == HC_OK && hc_stmt_step(st, NULL) == HC_ROW_READY) {
		/* whole copies: a cut scope could name another one */
		found = true;
		fam = column_dup(st, 0, &oom);
		user = column_dup(st, 1, &oom);
		oldscope = column_dup(st, 2, &oom);
		res = column_dup(st, 3, &oom);
		auth_time = hc_stmt_int(st, 4);
		amr = column_dup(st, 5, &oom);
		expires = hc_stmt_int(st, 6);
		used = hc_stmt_int(st, 7);
		revoked = hc_stmt_int(st, 8);
	}
	hc_stmt_finish(st);
	if (rc == HC_OK && (oom || (found && (!fam || !user || !oldscope))))
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	if (rc != HC_OK || !found || revoked || expires < time(NULL)) {
		hc_tx_rollback(c);
		if (rc == HC_OK)
			rc = idp_oauth_error(resp, 400, "invalid_grant",
					     "the refresh token is not valid");
		goto out;
	}
	if (used) {
		/* a rotated token came back: someone has a copy */
		rc = idp__revoke_family(c, fam, err);
		if (rc == HC_OK)
			rc = hc_tx_commit(c, err);
		else
			hc_tx_rollback(c);
		hc_log_warn(&p->hub->log,
			    "refresh token reuse by client '%s' for '%s': the "
			    "token family is revoked",
			    cl->client_id, user);
		if (rc == HC_OK)
			rc = idp_oauth_error(resp, 400, "invalid_grant",
					     "the refresh token was already "
					     "used; the session is revoked");
		goto out;
	}
	/* narrowing only: every word asked for was granted */
	if (scope && !idp__scope_within(scope, oldscope)) {
		hc_tx_rollback(c);
		rc = idp_oauth_error(resp, 400, "invalid_scope",
				     "a refresh may not widen the scope");
		goto out;
	}
	{
		struct hc_value v[] = { hc_vtext(hash) };
		rc = hc_exec(c,
			     "UPDATE idp_refresh SET used = 1 WHERE "
			     "token_hash = ? AND used = 0",
			     v, 1, err);
	}
	if (rc == HC_OK && hc_changes(c) != 1)
		rc = hc_err_set(err, HC_EBUSY, "the token was used meanwhile");
	if (rc == HC_OK) {
		const struct idp_user *u = idp_config_user(cfg, user);
		struct idp_grant g = { .client = cl,
				       .user = u,
				       .scope = scope ? scope : oldscope,
				       .resource = res,
				       .auth_time = auth_time,
				       .amr = amr,
				       .family = fam,
				       .refresh = true };
		g.id_token = idp__scope_has(g.scope, "openid");
		if (!idp__user_enabled(cfg, u)) {
			hc_tx_rollback(c);
			rc = idp_oauth_error(resp, 400, "invalid_grant",
					     "the user can no longer sign in");
			goto out;
		}
		rc = idp__issue(p, c, cfg, &g, &out, err);
		if (rc == HC_OK && u->emergency)
			idp__emergency_audit(p, c, u, cl, "refresh");
	}
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	if (rc == HC_OK) {
		hc_resp_header(resp, "Pragma", "no-cache");
		rc = hc_resp_json(resp, 200, out);
		out = NULL;
	}
out:
	json_decref(out);
	free(fam);
	free(user);
	free(oldscope);
	free(res);
	free(amr);
	return rc;
}

struct issue_job {
	struct idp *p;
	struct idp_config *cfg;
	const struct idp_grant *g;
	json_t *out;
};

static int issue_write(struct hc_conn *c, void *arg, struct hc_err *err)
{
	struct issue_job *j = arg;
	return idp__issue(j->p, c, j->cfg, j->g, &j->out, err);
}

/* grant_type=client_credentials: service accounts between hubs. */
static int client_grant(struct idp *p, struct hc_conn *c,
			struct idp_config *cfg, const struct idp_client *cl,
			json_t *form, struct hc_resp *resp, struct hc_err *err)
{
	const char *scope = hc_json_str(form, "scope");
	char *resource = NULL;
	json_t *out = NULL;
	struct idp_grant g = { .client = cl, .scope = scope };
	int rc;
	if (scope && strlen(scope) > IDP_MAX_SCOPE)
		return idp_oauth_error(resp, 400, "invalid_scope",
				       "the scope is too long");
	if (!idp__scope_ok(&cl->scopes, scope))
		return idp_oauth_error(resp, 400, "invalid_scope",
				       "a requested scope is not allowed");
	if (hc_json_str(form, "resource")) {
		resource = idp__resource(hc_json_str(form, "resource"));
		if (!resource || !idp__audience_ok(cl, resource)) {
			free(resource);
			return idp_oauth_error(resp, 400, "invalid_target",
					       "the resource is not one this "
					       "client may ask for");
		}
	}
	g.resource = resource;
	{
		/* Group commit: the access token's row (kept for revocation
		 * and introspection) is committed with those of concurrent
		 * requests, one fsync for all, and the token is answered only
		 * once its row is on disk. */
		struct issue_job j = { p, cfg, &g, NULL };
		rc = hc_store_write(p->hub->store, issue_write, &j, err);
		out = j.out;
	}
	free(resource);
	if (rc != HC_OK) {
		json_decref(out); /* issued, then not committed */
		return rc;
	}
	return hc_resp_json(resp, 200, out);
}

int idp__token(struct hc_req *req, struct hc_resp *resp, struct hc_err *err);
int idp__token(struct hc_req *req, struct hc_resp *resp, struct hc_err *err)
{
	struct idp *p = idp_of(req->hub);
	struct idp_config *cfg = idp_config(p);
	struct hc_conn *c = hc_req_db(req, err);
	json_t *form = NULL;
	struct idp_client *owned = NULL;
	const struct idp_client *cl = NULL;
	const char *grant;
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
	grant = hc_json_str(form, "grant_type");
	if (idp__client_auth(c, cfg, req, form, &owned, &cl, &basic, resp) !=
	    HC_OK) {
		rc = HC_OK; /* answered */
		goto out;
	}
	if (!grant) {
		rc = idp_oauth_error(resp, 400, "invalid_request",
				     "grant_type is required");
		goto out;
	}
	if (strcmp(grant, "authorization_code") && strcmp(grant, "refresh_token") &&
	    strcmp(grant, "client_credentials")) {
		rc = idp_oauth_error(resp, 400, "unsupported_grant_type", NULL);
		goto out;
	}
	if (!idp_strings_has(&cl->grant_types, grant)) {
		rc = idp_oauth_error(resp, 400, "unauthorized_client",
				     "this client may not use that grant");
		goto out;
	}
	if (strcmp(grant, "authorization_code") == 0)
		rc = code_grant(p, c, cfg, cl, form, resp, err);
	else if (strcmp(grant, "refresh_token") == 0)
		rc = refresh_grant(p, c, cfg, cl, form, resp, err);
	else
		rc = client_grant(p, c, cfg, cl, form, resp, err);
out:
	json_decref(form);
	idp__client_free(owned);
	idp_config_unref(cfg);
	return rc;
}
