/*
 * auth.c - checking a bearer token: its header before anything else (the
 * algorithm and where the key comes from are ours to decide, never the
 * token's), then the trusted issuer's key, the signature, and the claims;
 * roles into a permission level. And service-account tokens for calls to
 * other hubs.
 */
#include <ctype.h>
#include <stdarg.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth_internal.h"
#include "hubcore/json.h"
#include "hubcore/resource.h"
#include "hubcore/util.h"

#define MAX_TOKEN 16384

/* The algorithms a hub may accept: asymmetric signatures only. */
static const struct {
	const char *name;
	const char *kty;
	const char *crv; /* EC curve, or NULL */
} algs[] = {
	{ "RS256", "RSA", NULL },   { "RS384", "RSA", NULL },
	{ "RS512", "RSA", NULL },   { "PS256", "RSA", NULL },
	{ "PS384", "RSA", NULL },   { "PS512", "RSA", NULL },
	{ "ES256", "EC", "P-256" }, { "ES384", "EC", "P-384" },
	{ "ES512", "EC", "P-521" },
};

/* Header parameters by which a token would bring or point to its own
 * key, and "crit", whose extensions we do not implement (RFC 7515
 * §4.1.11): a token with any of them is refused. */
static const char *const refused_headers[] = { "jwk", "jku", "x5u", "x5c",
					       "crit", NULL };

static const struct hc_auth_role default_roles[] = {
	{ "admin", HC_SCOPE_ADMIN },	{ "developer", HC_SCOPE_WRITE },
	{ "maintainer", HC_SCOPE_WRITE }, { "operator", HC_SCOPE_WRITE },
	{ "agent", HC_SCOPE_WRITE },	{ "service", HC_SCOPE_WRITE },
	{ "viewer", HC_SCOPE_READ },	{ "reader", HC_SCOPE_READ },
	{ "auditor", HC_SCOPE_READ },
};

const char *hc_scope_name(enum hc_scope s)
{
	switch (s) {
	case HC_SCOPE_PUBLIC: return "public";
	case HC_SCOPE_READ: return "read";
	case HC_SCOPE_WRITE: return "write";
	case HC_SCOPE_ADMIN: return "admin";
	}
	return "?";
}

static int alg_index(const char *name, size_t n)
{
	for (size_t i = 0; i < HC_COUNT(algs); i++)
		if (strlen(algs[i].name) == n &&
		    strncmp(algs[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

static int set_role(struct hc_auth *a, const char *role, enum hc_scope level,
		    struct hc_err *err)
{
	for (size_t i = 0; i < a->nroles; i++)
		if (strcmp(a->roles[i].role, role) == 0) {
			a->roles[i].level = level;
			return HC_OK;
		}
	if (a->nroles >= HC_COUNT(a->roles))
		return hc_err_set(err, HC_EINVAL, "too many roles");
	a->roles[a->nroles].role = strdup(role);
	if (!a->roles[a->nroles].role)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	a->roles[a->nroles++].level = level;
	return HC_OK;
}

void hc_auth_free(struct hc_auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nissuers; i++) {
		struct hc__issuer *is = &a->issuers[i];
		free(is->iss);
		free(is->jwks_uri);
		free(is->token_endpoint);
		free(is->authorization_endpoint);
		free(is->end_session_endpoint);
		hc__keyset_put(is->keys);
		pthread_mutex_destroy(&is->lock);
	}
	for (size_t i = 0; i < a->nroles; i++)
		free(a->roles[i].role);
	for (size_t i = 0; i < HC__SVC_TOKENS; i++) {
		free(a->toks[i].audience);
		free(a->toks[i].token);
	}
	pthread_mutex_destroy(&a->tok_lock);
	pthread_mutex_destroy(&a->refresh_lock);
	free(a->login_client_id);
	if (a->login_client_secret)
		explicit_bzero(a->login_client_secret,
			       strlen(a->login_client_secret));
	free(a->login_client_secret);
	free(a->audience);
	free(a->old_audience);
	free(a->roles_client);
	free(a->client_id);
	free(a->client_secret);
	free(a);
	curl_global_cleanup();
}

static bool http_url(const char *u)
{
	return u && (strncmp(u, "https://", 8) == 0 ||
		     strncmp(u, "http://", 7) == 0) &&
	       !strpbrk(u, " \t\r\n?#");
}

int hc_auth_new(struct hc_auth **out, const struct hc_auth_options *o,
		struct hc_err *err)
{
	struct hc_auth *a;
	int rc = HC_OK;

	if (!o->nissuers)
		return hc_err_set(err, HC_EINVAL,
				  "auth needs at least one trusted issuer");
	if (o->nissuers > HC_AUTH_MAX_ISSUERS)
		return hc_err_set(err, HC_EINVAL, "at most %d issuers",
				  HC_AUTH_MAX_ISSUERS);
	if (!o->audience || !*o->audience)
		return hc_err_set(err, HC_EINVAL,
				  "auth needs the hub's audience");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return hc_err_set(err, HC_EINTERNAL, "libcurl did not start");
	a = calloc(1, sizeof(*a));
	if (!a) {
		curl_global_cleanup();
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&a->tok_lock, NULL);
	pthread_mutex_init(&a->refresh_lock, NULL);
	for (size_t i = 0; i < o->nissuers; i++) {
		if (!http_url(o->issuers[i])) {
			rc = hc_err_set(err, HC_EINVAL,
					"issuer '%s' must be an http(s) URL "
					"without query or fragment",
					o->issuers[i]);
			goto fail;
		}
		a->issuers[i].iss = strdup(o->issuers[i]);
		pthread_mutex_init(&a->issuers[i].lock, NULL);
		a->nissuers++;
		if (!a->issuers[i].iss)
			goto oom;
	}
	a->audience = strdup(o->audience);
	a->roles_client = o->roles_client ? strdup(o->roles_client) : NULL;
	a->client_id = o->client_id ? strdup(o->client_id) : NULL;
	a->client_secret = o->client_secret ? strdup(o->client_secret) : NULL;
	if ((o->login_client_id != NULL) != (o->login_client_secret != NULL)) {
		rc = hc_err_set(err, HC_EINVAL,
				"the page login needs both the client id and "
				"its secret (%s is missing)",
				o->login_client_id ? "the secret"
						   : "the client id");
		goto fail;
	}
	a->login_client_id =
		o->login_client_id ? strdup(o->login_client_id) : NULL;
	a->login_client_secret =
		o->login_client_secret ? strdup(o->login_client_secret) : NULL;
	if ((o->login_client_id && !a->login_client_id) ||
	    (o->login_client_secret && !a->login_client_secret))
		goto oom;
	if (!a->audience || (o->roles_client && !a->roles_client) ||
	    (o->client_id && !a->client_id) ||
	    (o->client_secret && !a->client_secret))
		goto oom;
	a->skew = o->clock_skew > 0 ? o->clock_skew : 60;
	a->refetch_ms = (o->refetch_interval > 0 ? o->refetch_interval : 10) *
			1000;
	if (!o->algorithms) {
		a->algs = (1u << HC_COUNT(algs)) - 1;
	} else {
		for (const char *p = o->algorithms; *p;) {
			size_t n = strcspn(p, ", ");
			int k = alg_index(p, n);
			if (n && k < 0) {
				rc = hc_err_set(err, HC_EINVAL,
						"algorithm '%.*s' is not one "
						"a hub accepts (RS, PS and ES "
						"256/384/512)",
						(int)n, p);
				goto fail;
			}
			if (n)
				a->algs |= 1u << k;
			p += n;
			p += strspn(p, ", ");
		}
		if (!a->algs) {
			rc = hc_err_set(err, HC_EINVAL, "no algorithm given");
			goto fail;
		}
	}
	for (size_t i = 0; rc == HC_OK && i < HC_COUNT(default_roles); i++)
		rc = set_role(a, default_roles[i].role, default_roles[i].level,
			      err);
	for (size_t i = 0; rc == HC_OK && i < o->nroles; i++)
		rc = set_role(a, o->roles[i].role, o->roles[i].level, err);
	if (rc != HC_OK)
		goto fail;
	*out = a;
	return HC_OK;
oom:
	rc = hc_err_set(err, HC_ENOMEM, "out of memory");
fail:
	hc_auth_free(a);
	return rc;
}

const char *hc_auth_audience(const struct hc_auth *a)
{
	return __atomic_load_n(&a->audience, __ATOMIC_ACQUIRE);
}

int hc_auth_set_audience(struct hc_auth *a, const char *audience,
			 struct hc_err *err)
{
	char *copy = strdup(audience);
	if (!copy)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	/* the old string stays allocated (a reader may hold it) until the
	 * auth is freed: it is replaced once, at start */
	copy = __atomic_exchange_n(&a->audience, copy, __ATOMIC_ACQ_REL);
	free(a->old_audience);
	a->old_audience = copy;
	return HC_OK;
}

size_t hc_auth_issuer_count(const struct hc_auth *a)
{
	return a->nissuers;
}

const char *hc_auth_issuer(const struct hc_auth *a, size_t i)
{
	return i < a->nissuers ? a->issuers[i].iss : NULL;
}

enum hc_scope hc_auth_level(const struct hc_auth *a, const char *const *roles,
			    size_t n)
{
	enum hc_scope best = HC_SCOPE_PUBLIC;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < a->nroles; k++)
			if (strcmp(a->roles[k].role, roles[i]) == 0 &&
			    a->roles[k].level > best)
				best = a->roles[k].level;
	return best;
}

void hc_identity_release(struct hc_identity *id)
{
	for (size_t i = 0; i < id->nroles; i++)
		free(id->roles[i]);
	id->nroles = 0;
}

/* ---- checking --------------------------------------------------------------------- */

static int refuse(struct hc_auth_failure *why, const char *error, int status,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int refuse(struct hc_auth_failure *why, const char *error, int status,
		  const char *fmt, ...)
{
	va_list ap;
	why->error = error;
	why->status = status;
	va_start(ap, fmt);
	vsnprintf(why->description, sizeof(why->description), fmt, ap);
	va_end(ap);
	return HC_EAUTH;
}

/* A base64url JSON object of a compact JWS part. */
static json_t *part_json(const char *p, size_t n)
{
	char *raw = malloc(n + 1);
	size_t len;
	json_t *j;
	if (!raw)
		return NULL;
	len = hc_base64url_decode(p, n, raw, n);
	if (len == (size_t)-1) {
		free(raw);
		return NULL;
	}
	j = json_loadb(raw, len, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static void add_role(struct hc_identity *id, const char *r, size_t n)
{
	while (n && isspace((unsigned char)*r)) {
		r++;
		n--;
	}
	while (n && isspace((unsigned char)r[n - 1]))
		n--;
	if (!n || id->nroles >= HC_AUTH_MAX_ROLES)
		return;
	for (size_t i = 0; i < id->nroles; i++)
		if (strlen(id->roles[i]) == n && strncmp(id->roles[i], r, n) == 0)
			return;
	id->roles[id->nroles] = strndup(r, n);
	if (id->roles[id->nroles])
		id->nroles++;
}

/* Roles from a list of strings, or from one string of comma-separated
 * names (Glewlwyd writes its claims so). */
static void roles_from(struct hc_identity *id, json_t *v)
{
	size_t i;
	json_t *r;
	if (json_is_string(v)) {
		for (const char *p = json_string_value(v); *p;) {
			size_t n = strcspn(p, ",");
			add_role(id, p, n);
			p += n + (p[n] == ',');
		}
		return;
	}
	json_array_foreach(v, i, r)
		if (json_is_string(r))
			add_role(id, json_string_value(r),
				 strlen(json_string_value(r)));
}

bool hc__auth_aud_has(json_t *aud, const char *want)
{
	size_t i;
	json_t *v;
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
			return true;
	return false;
}

static const struct hc__key *pick_key(const struct hc__keyset *ks,
				      const char *kid, int alg)
{
	const struct hc__key *only = NULL;
	size_t fitting = 0;
	for (size_t i = 0; i < ks->n; i++) {
		const struct hc__key *k = &ks->keys[i];
		bool fits = strcmp(k->kty, algs[alg].kty) == 0 &&
			    (!algs[alg].crv || strcmp(k->crv, algs[alg].crv) == 0);
		if (kid) {
			if (k->has_kid && strcmp(k->kid, kid) == 0)
				return fits ? k : NULL;
			continue;
		}
		if (fits) {
			only = k;
			fitting++;
		}
	}
	/* no kid: only when exactly one key could have signed it */
	return fitting == 1 ? only : NULL;
}

/*
 * Verify a compact JWS from a trusted issuer: its header (our algorithms,
 * keys from the issuer's JWKS only, the typ of the kind of token), the
 * signature, and the time claims. HC_OK with the claims (a new reference)
 * and the issuer; the audience and subject are the caller's to check.
 */
int hc__auth_verify(struct hc_auth *a, const char *tok, bool id_token,
		    json_t **claims_out, struct hc__issuer **is_out,
		    struct hc_auth_failure *why)
{
	const char *d1, *d2, *v;
	json_t *hdr = NULL, *claims = NULL, *j;
	struct hc__issuer *is = NULL;
	struct hc__keyset *ks = NULL;
	const struct hc__key *key;
	cjose_jws_t *jws = NULL;
	cjose_err cerr;
	time_t now = time(NULL);
	const char *alg, *kid, *iss;
	int ai, rc;

	*claims_out = NULL;
	if (!hc_jws_compact_ok(tok, MAX_TOKEN))
		return refuse(why, "invalid_token", 401,
			      "the token is not a signed JWT (three "
			      "base64url parts, with a signature)");
	d1 = strchr(tok, '.');
	d2 = strchr(d1 + 1, '.');
	hdr = part_json(tok, (size_t)(d1 - tok));
	claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!hdr || !claims) {
		rc = refuse(why, "invalid_token", 401,
			    "the token's header or claims are not a JSON "
			    "object");
		goto out;
	}
	/* 1. the header: our algorithms, our keys */
	alg = hc_json_str(hdr, "alg");
	ai = alg ? alg_index(alg, strlen(alg)) : -1;
	if (ai < 0 || !(a->algs & (1u << ai))) {
		rc = refuse(why, "invalid_token", 401,
			    "algorithm '%s' is not accepted",
			    alg ? alg : "(none)");
		goto out;
	}
	for (const char *const *h = refused_headers; *h; h++)
		if (json_object_get(hdr, *h)) {
			rc = refuse(why, "invalid_token", 401,
				    "header parameter '%s' is not accepted "
				    "(keys come from the issuer's JWKS only)",
				    *h);
			goto out;
		}
	v = hc_json_str(hdr, "typ");
	if (json_object_get(hdr, "typ") &&
	    (!v || (id_token ? strcasecmp(v, "JWT") != 0
			     : (strcasecmp(v, "at+jwt") &&
				strcasecmp(v, "application/at+jwt") &&
				strcasecmp(v, "JWT"))))) {
		rc = refuse(why, "invalid_token", 401,
			    "a token of type '%s' is not %s", v ? v : "?",
			    id_token ? "an ID token" : "an access token");
		goto out;
	}
	/* 2. a trusted issuer and its key */
	iss = hc_json_str(claims, "iss");
	for (size_t i = 0; iss && i < a->nissuers; i++)
		if (strcmp(a->issuers[i].iss, iss) == 0)
			is = &a->issuers[i];
	if (!is) {
		rc = refuse(why, "invalid_token", 401,
			    "issuer '%.200s' is not trusted",
			    iss ? iss : "(none)");
		goto out;
	}
	kid = json_is_string(json_object_get(hdr, "kid"))
		      ? hc_json_str(hdr, "kid")
		      : NULL;
	ks = hc__issuer_keys(is, kid, a->refetch_ms, why->description,
			     sizeof(why->description));
	if (!ks) {
		why->error = "invalid_token";
		why->status = 503;
		rc = HC_EBUSY;
		goto out;
	}
	key = pick_key(ks, kid, ai);
	if (!key) {
		rc = refuse(why, "invalid_token", 401,
			    "no key of the issuer fits the token (kid "
			    "'%.100s', %s)",
			    kid ? kid : "(none)", algs[ai].name);
		goto out;
	}
	if (key->alg[0] && strcmp(key->alg, algs[ai].name) != 0) {
		rc = refuse(why, "invalid_token", 401,
			    "the key '%.100s' is for %s, not %s", key->kid,
			    key->alg, algs[ai].name);
		goto out;
	}
	/* 3. the signature */
	jws = cjose_jws_import(tok, strlen(tok), &cerr);
	if (!jws || !cjose_jws_verify(jws, key->jwk, &cerr)) {
		rc = refuse(why, "invalid_token", 401,
			    "the signature does not verify");
		goto out;
	}
	/* 4. the time claims */
	j = json_object_get(claims, "exp");
	if (!json_is_integer(j) && !json_is_real(j)) {
		rc = refuse(why, "invalid_token", 401, "the token has no exp");
		goto out;
	}
	if ((double)now > json_number_value(j) + a->skew) {
		rc = refuse(why, "invalid_token", 401, "the token has expired");
		goto out;
	}
	j = json_object_get(claims, "nbf");
	if (j && (!json_is_number(j) ||
		  json_number_value(j) > (double)now + a->skew)) {
		rc = refuse(why, "invalid_token", 401,
			    "the token is not valid yet (nbf)");
		goto out;
	}
	j = json_object_get(claims, "iat");
	if (j && (!json_is_number(j) ||
		  json_number_value(j) > (double)now + a->skew)) {
		rc = refuse(why, "invalid_token", 401,
			    "the token was issued in the future (iat)");
		goto out;
	}
	*claims_out = claims;
	claims = NULL;
	if (is_out)
		*is_out = is;
	rc = HC_OK;
out:
	cjose_jws_release(jws);
	hc__keyset_put(ks);
	json_decref(hdr);
	json_decref(claims);
	return rc;
}

int hc_auth_check(struct hc_auth *a, const char *authorization,
		  struct hc_identity *id, struct hc_auth_failure *why)
{
	const char *tok;
	int rc;

	memset(why, 0, sizeof(*why));
	memset(id, 0, sizeof(*id));
	if (!authorization)
		return refuse(why, NULL, 401, "a bearer token is needed "
					      "(Authorization: Bearer ...)");
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return refuse(why, "invalid_request", 401,
			      "the Authorization header must be \"Bearer "
			      "<token>\"");
	tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	rc = hc__auth_token_identity(a, tok, id, why);
	return rc;
}

int hc__auth_token_identity(struct hc_auth *a, const char *tok,
			    struct hc_identity *id,
			    struct hc_auth_failure *why)
{
	json_t *claims = NULL;
	const char *v, *sub, *iss;
	int rc;

	memset(why, 0, sizeof(*why));
	memset(id, 0, sizeof(*id));
	rc = hc__auth_verify(a, tok, false, &claims, NULL, why);
	if (rc != HC_OK)
		return rc;
	if (!hc__auth_aud_has(json_object_get(claims, "aud"),
			      hc_auth_audience(a))) {
		rc = refuse(why, "invalid_token", 401,
			    "the token is not for this hub (aud must be "
			    "%.150s)",
			    hc_auth_audience(a));
		goto out;
	}
	sub = hc_json_str(claims, "sub");
	if (!sub || !*sub) {
		rc = refuse(why, "invalid_token", 401, "the token has no sub");
		goto out;
	}
	iss = hc_json_str(claims, "iss");
	/* who, and what they may do */
	snprintf(id->sub, sizeof(id->sub), "%s", sub);
	snprintf(id->iss, sizeof(id->iss), "%s", iss);
	v = hc_json_str(claims, "client_id") ? hc_json_str(claims, "client_id")
					      : hc_json_str(claims, "azp");
	snprintf(id->client_id, sizeof(id->client_id), "%s", v ? v : "");
	v = hc_json_str(claims, "preferred_username");
	snprintf(id->username, sizeof(id->username), "%s", v ? v : "");
	id->exp = (int64_t)json_number_value(json_object_get(claims, "exp"));
	roles_from(id, json_object_get(claims, "roles"));
	roles_from(id, json_object_get(json_object_get(claims, "realm_access"),
				       "roles"));
	if (a->roles_client)
		roles_from(id, json_object_get(
				       json_object_get(
					       json_object_get(claims,
						       "resource_access"),
					       a->roles_client),
				       "roles"));
	id->level = hc_auth_level(a, (const char *const *)id->roles,
				  id->nroles);
	id->service = strncmp(sub, "service-account-", 16) == 0 ||
		      (id->client_id[0] && strcmp(sub, id->client_id) == 0);
	rc = HC_OK;
out:
	json_decref(claims);
	return rc;
}

/* ---- service-account tokens -------------------------------------------------------- */

int hc_auth_service_token(struct hc_auth *a, const char *audience,
			  char **token, struct hc_err *err)
{
	char endpoint[1024], why[256] = "", *form = NULL, *ea;
	struct hc__svc_token *slot = NULL, *oldest = NULL;
	json_t *res = NULL;
	time_t now = time(NULL);
	int rc;

	*token = NULL;
	if (!a->client_id || !a->client_secret)
		return hc_err_set(err, HC_EINVAL,
				  "this hub has no service account (client id "
				  "and secret) to call other hubs with");
	pthread_mutex_lock(&a->tok_lock);
	for (size_t i = 0; i < HC__SVC_TOKENS; i++) {
		struct hc__svc_token *t = &a->toks[i];
		if (t->audience && strcmp(t->audience, audience) == 0) {
			slot = t;
			break;
		}
		if (!oldest || t->expires < oldest->expires)
			oldest = t;
	}
	if (slot && slot->token && slot->expires - 30 > now) {
		*token = strdup(slot->token);
		pthread_mutex_unlock(&a->tok_lock);
		return *token ? HC_OK
			      : hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	rc = hc__issuer_token_endpoint(&a->issuers[0], endpoint,
				       sizeof(endpoint), why, sizeof(why));
	if (rc != HC_OK) {
		pthread_mutex_unlock(&a->tok_lock);
		return hc_err_set(err, HC_EBUSY, "%s", why);
	}
	{
		CURL *h = curl_easy_init();
		ea = h ? curl_easy_escape(h, audience, 0) : NULL;
		if (!ea || asprintf(&form,
				    "grant_type=client_credentials&resource=%s",
				    ea) < 0)
			form = NULL;
		curl_free(ea);
		curl_easy_cleanup(h);
	}
	rc = form ? hc__auth_http_json(endpoint, form, a->client_id,
				       a->client_secret, &res, why,
				       sizeof(why))
		  : HC_ENOMEM;
	free(form);
	if (rc != HC_OK || !hc_json_str(res, "access_token")) {
		pthread_mutex_unlock(&a->tok_lock);
		json_decref(res);
		return hc_err_set(err, HC_EBUSY,
				  "no service-account token for %s: %s",
				  audience, why[0] ? why : "no access_token");
	}
	if (!slot)
		slot = oldest;
	free(slot->audience);
	free(slot->token);
	slot->audience = strdup(audience);
	slot->token = strdup(hc_json_str(res, "access_token"));
	slot->expires = now + (json_is_integer(json_object_get(res, "expires_in"))
				       ? json_integer_value(json_object_get(
						 res, "expires_in"))
				       : 60);
	json_decref(res);
	*token = slot->token ? strdup(slot->token) : NULL;
	pthread_mutex_unlock(&a->tok_lock);
	return *token ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
}
