/*
 * issue.c - making tokens: RFC 9068 JWT access tokens that carry roles
 * both flat and in Keycloak's realm_access shape, OpenID Connect ID
 * tokens, and opaque refresh tokens in families that rotate on use; and
 * the small URL and scope rules they depend on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hubcore/json.h"
#include "idp/idp_internal.h"

void idp__url(const struct idp_config *cfg, const char *path, char *out,
	      size_t size)
{
	size_t n = strlen(cfg->issuer);
	while (n && cfg->issuer[n - 1] == '/')
		n--;
	snprintf(out, size, "%.*s%s", (int)n, cfg->issuer, path);
}

static bool loopback_literal(const char *uri, size_t *host_end)
{
	static const char *const hosts[] = { "http://127.0.0.1",
					     "http://[::1]", "http://localhost",
					     NULL };
	for (const char *const *h = hosts; *h; h++) {
		size_t n = strlen(*h);
		if (strncmp(uri, *h, n) == 0 &&
		    (uri[n] == ':' || uri[n] == '/' || uri[n] == '\0')) {
			*host_end = n;
			return true;
		}
	}
	return false;
}

/* The part of a loopback URI after its port: "/cb?x" of
 * "http://127.0.0.1:5555/cb?x". */
static const char *after_port(const char *uri, size_t host_end)
{
	const char *p = uri + host_end;
	if (*p == ':') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

bool idp__redirect_match(const struct idp_strings *registered,
			 const char *uri)
{
	size_t he = 0, re = 0;
	/* what no client could register never matches: a loopback URI
	 * with another port must still be a sound one */
	if (!uri || !idp_redirect_uri_ok(uri))
		return false;
	for (size_t i = 0; i < registered->n; i++) {
		const char *r = registered->v[i];
		/* exact comparison: no prefixes, no wildcards */
		if (strcmp(r, uri) == 0)
			return true;
		/* RFC 8252 §7.3: a loopback redirect may use any port, the
		 * rest of it must be the same */
		if (loopback_literal(r, &re) && loopback_literal(uri, &he) &&
		    re == he && strncmp(r, uri, re) == 0 &&
		    strcmp(after_port(r, re), after_port(uri, he)) == 0)
			return true;
	}
	return false;
}

char *idp__resource(const char *resource)
{
	size_t n;
	char *r;
	if (!resource || (strncmp(resource, "https://", 8) &&
			  strncmp(resource, "http://", 7)) ||
	    strchr(resource, '#'))
		return NULL;
	r = strdup(resource);
	n = r ? strlen(r) : 0;
	/* clients differ on a trailing slash; tokens do not */
	while (n > 8 && r[n - 1] == '/')
		r[--n] = '\0';
	return r;
}

void idp__session_cookies(struct hc_resp *resp, const struct idp_config *cfg,
			  const char *value, int max_age)
{
	/* Only the two endpoints that read it get it: cookies ignore ports,
	 * and every service on the IdP's host would see a Path=/ cookie. */
	static const char *const paths[] = { "/authorize", "/logout" };
	bool https = strncmp(cfg->issuer, "https://", 8) == 0;
	for (size_t i = 0; i < 2; i++) {
		char text[300];
		snprintf(text, sizeof(text),
			 "%s=%s; Path=%s; HttpOnly; SameSite=Lax; Max-Age=%d%s",
			 IDP_SESSION_COOKIE, value, paths[i], max_age,
			 https ? "; Secure" : "");
		hc_resp_header(resp, "Set-Cookie", text);
	}
}

bool idp__audience_ok(const struct idp_client *cl, const char *resource)
{
	if (!cl->audiences.n)
		return !cl->registered;
	for (size_t i = 0; i < cl->audiences.n; i++) {
		const char *a = cl->audiences.v[i];
		size_t n = strlen(a), rest;
		if (strcmp(a, resource) == 0)
			return true;
		if (n < 2 || strcmp(a + n - 2, ":*") != 0 ||
		    strncmp(a, resource, n - 1) != 0)
			continue;
		rest = strlen(resource + n - 1);
		if (rest >= 1 && rest <= 5 &&
		    strspn(resource + n - 1, "0123456789") == rest)
			return true;
	}
	return false;
}

bool idp__scope_has(const char *scope, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = scope; p && *p;) {
		size_t n = strcspn(p, " ");
		if (n == wl && strncmp(p, word, n) == 0)
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

bool idp__scope_within(const char *scope, const char *granted)
{
	for (const char *p = scope; p && *p;) {
		size_t n = strcspn(p, " ");
		bool ok = false;
		/* compared in place, whatever their length */
		for (const char *g = granted; n && g && *g && !ok;) {
			size_t m = strcspn(g, " ");
			ok = m == n && strncmp(g, p, n) == 0;
			g += m;
			g += strspn(g, " ");
		}
		if (n && !ok)
			return false;
		p += n;
		p += strspn(p, " ");
	}
	return true;
}

bool idp__scope_ok(const struct idp_strings *allowed, const char *scope)
{
	if (!scope || !allowed->n)
		return true;
	for (const char *p = scope; *p;) {
		size_t n = strcspn(p, " ");
		bool ok = false;
		for (size_t i = 0; i < allowed->n && !ok; i++)
			ok = strlen(allowed->v[i]) == n &&
			     strncmp(allowed->v[i], p, n) == 0;
		if (n && !ok)
			return false;
		p += n;
		p += strspn(p, " ");
	}
	return true;
}

static json_t *string_array(const struct idp_strings *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, json_string(s->v[i]));
	return a;
}

int idp__revoke_family(struct hc_conn *c, const char *family,
		       struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(family) };
	int rc = hc_exec(c, "UPDATE idp_families SET revoked = 1 WHERE "
			    "family = ?",
			 p, 1, err);
	if (rc == HC_OK)
		rc = hc_exec(c, "UPDATE idp_access SET revoked = 1 WHERE "
				"family = ?",
			     p, 1, err);
	return rc;
}

bool idp__jti_revoked(struct hc_conn *c, const char *jti)
{
	int64_t revoked = 0;
	struct hc_value p[] = { hc_vtext(jti) };
	/* the token, or its whole family (a logout, a replayed code) */
	if (hc_query_int(c, &revoked,
			 "SELECT a.revoked OR COALESCE(f.revoked, 0) FROM "
			 "idp_access a LEFT JOIN idp_families f ON f.family = "
			 "a.family WHERE a.jti = ?",
			 p, 1, NULL) != HC_OK)
		return true; /* a token this IdP has no record of */
	return revoked != 0;
}

bool idp__family_revoked(struct hc_conn *c, const char *family)
{
	int64_t revoked = 0;
	struct hc_value p[] = { hc_vtext(family) };
	if (!family)
		return false;
	if (hc_query_int(c, &revoked,
			 "SELECT revoked FROM idp_families WHERE family = ?",
			 p, 1, NULL) != HC_OK)
		return true;
	return revoked != 0;
}

bool idp__user_enabled(const struct idp_config *cfg, const struct idp_user *u)
{
	if (!u)
		return false;
	if (u->emergency)
		return true;
	return !u->disabled && !cfg->users_disabled;
}

void idp__emergency_audit(struct idp *p, struct hc_conn *c,
			  const struct idp_user *u, const struct idp_client *cl,
			  const char *how)
{
	json_t *payload = json_pack("{ssssss}", "username", u->username,
				    "client_id", cl->client_id, "grant", how);
	hc_log_warn(&p->hub->log,
		    "AUDIT emergency access: '%s' got tokens for client '%s' "
		    "(%s)",
		    u->username, cl->client_id, how);
	idp_alert(c, "alert_raised", "Emergency (break-glass) account used",
		  payload);
	json_decref(payload);
}

int idp__issue(struct idp *p, struct hc_conn *c, struct idp_config *cfg,
	       const struct idp_grant *g, json_t **out, struct hc_err *err)
{
	const struct idp_client *cl = g->client;
	const struct idp_user *u = g->user;
	time_t now = time(NULL);
	char jti[48], refresh[64], hash[65], sub[300];
	const char *aud = g->resource ? g->resource
				      : cl->default_audience ? cl->default_audience
							     : cl->client_id;
	/* RS256 unless the client chose: OpenID Connect's default for ID
	 * tokens, and what every relying party can verify */
	const char *alg = cl->alg ? cl->alg : "RS256";
	const struct idp_strings *roles = u ? &u->roles : &cl->roles;
	json_t *at = NULL, *res = NULL;
	char *at_text = NULL, *id_text = NULL;
	int rc;

	if (idp_random(jti, sizeof(jti), 18) != HC_OK)
		return hc_err_set(err, HC_EIO, "no randomness");
	/* Keycloak names a service account's subject this way too */
	snprintf(sub, sizeof(sub), "%s%s", u ? "" : "service-account-",
		 u ? u->username : cl->client_id);
	at = json_pack("{sssssssIsIsIsssssssos{so}}", "iss", cfg->issuer,
		       "sub", sub, "aud", aud, "exp",
		       (json_int_t)(now + cfg->access_ttl), "iat",
		       (json_int_t)now, "nbf", (json_int_t)now, "jti", jti,
		       "client_id", cl->client_id, "azp", cl->client_id,
		       "roles", string_array(roles), "realm_access", "roles",
		       string_array(roles));
	if (!at)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (g->scope && *g->scope)
		json_object_set_new(at, "scope", json_string(g->scope));
	if (u) {
		json_object_set_new(at, "preferred_username",
				    json_string(u->username));
		json_object_set_new(at, "groups", string_array(&u->groups));
		json_object_set_new(at, "auth_time",
				    json_integer(g->auth_time));
	}
	rc = idp_jwt_sign(p, alg, "at+jwt", at, &at_text, err);
	if (rc == HC_OK) {
		struct hc_value v[] = { hc_vtext(jti), hc_vtext(g->family),
					hc_vtext(cl->client_id),
					hc_vint((int64_t)now + cfg->access_ttl) };
		rc = hc_exec(c,
			     "INSERT INTO idp_access (jti, family, client_id, "
			     "expires) VALUES (?, ?, ?, ?)",
			     v, 4, err);
	}
	if (rc != HC_OK)
		goto out;
	res = json_pack("{sssssI}", "access_token", at_text, "token_type",
			"Bearer", "expires_in", (json_int_t)cfg->access_ttl);
	if (res && g->scope && *g->scope)
		json_object_set_new(res, "scope", json_string(g->scope));
	if (g->id_token && u) {
		json_t *id = json_pack(
			"{sssssssIsIsIssss}", "iss", cfg->issuer, "sub", sub,
			"aud", cl->client_id, "exp",
			(json_int_t)(now + cfg->id_ttl), "iat", (json_int_t)now,
			"auth_time", (json_int_t)g->auth_time, "azp",
			cl->client_id, "preferred_username", u->username);
		if (g->nonce)
			json_object_set_new(id, "nonce", json_string(g->nonce));
		if (u->name && idp__scope_has(g->scope, "profile"))
			json_object_set_new(id, "name", json_string(u->name));
		if (u->email && idp__scope_has(g->scope, "email")) {
			json_object_set_new(id, "email", json_string(u->email));
			json_object_set_new(id, "email_verified", json_true());
		}
		json_object_set_new(id, "amr",
				    json_loads(g->amr ? g->amr : "[\"pwd\"]",
					       0, NULL));
		rc = idp_jwt_sign(p, alg, "JWT", id, &id_text, err);
		json_decref(id);
		if (rc != HC_OK)
			goto out;
		json_object_set_new(res, "id_token", json_string(id_text));
	}
	if (g->refresh && u && g->family) {
		if (idp_random(refresh, sizeof(refresh), 32) != HC_OK) {
			rc = hc_err_set(err, HC_EIO, "no randomness");
			goto out;
		}
		idp_hash(refresh, hash);
		{
			struct hc_value v[] = {
				hc_vtext(hash),
				hc_vtext(g->family),
				hc_vtext(cl->client_id),
				hc_vtext(u->username),
				hc_vtext(g->scope ? g->scope : ""),
				hc_vtext(g->resource),
				hc_vint(g->auth_time),
				hc_vtext(g->amr ? g->amr : "[\"pwd\"]"),
				hc_vint((int64_t)now + cfg->refresh_ttl),
				hc_vint((int64_t)now),
			};
			rc = hc_exec(c,
				     "INSERT INTO idp_refresh (token_hash, "
				     "family, client_id, username, scope, "
				     "resource, auth_time, amr, expires, "
				     "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
				     "?, ?)",
				     v, 10, err);
		}
		if (rc != HC_OK)
			goto out;
		json_object_set_new(res, "refresh_token", json_string(refresh));
		json_object_set_new(res, "refresh_expires_in",
				    json_integer(cfg->refresh_ttl));
	}
	*out = res;
	res = NULL;
out:
	json_decref(at);
	json_decref(res);
	free(at_text);
	free(id_text);
	return rc;
}
