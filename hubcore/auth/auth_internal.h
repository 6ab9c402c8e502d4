/*
 * auth_internal.h - what the auth files share: trusted issuers and their
 * key sets.
 */
#ifndef HUBCORE_AUTH_INTERNAL_H
#define HUBCORE_AUTH_INTERNAL_H

#include <cjose/cjose.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hubcore/auth.h"

/* A key set is fetched again after this long even when every kid is
 * known, so that a revoked key leaves. */
#define HC__JWKS_MAX_AGE_MS (3600 * 1000)

struct hc__key {
	char kid[128];
	bool has_kid;
	char kty[8];  /* "RSA" or "EC" */
	char crv[16]; /* "P-256", ... for EC */
	char alg[16]; /* the key's "alg", or "" */
	cjose_jwk_t *jwk;
};

struct hc__keyset {
	int refs;
	struct hc__key *keys;
	size_t n;
};

struct hc__issuer {
	char *iss;
	char *jwks_uri;       /* from discovery */
	char *token_endpoint; /* from discovery */
	char *authorization_endpoint; /* from discovery, or NULL */
	char *end_session_endpoint;   /* from discovery, or NULL */
	pthread_mutex_t lock;
	struct hc__keyset *keys; /* swapped whole under lock */
	int64_t fetched_ms;
	int64_t last_try_ms;
	char last_error[256];
};

struct hc__svc_token {
	char *audience;
	char *token;
	int64_t expires; /* unix seconds */
};

#define HC__SVC_TOKENS 16

struct hc_auth {
	struct hc__issuer issuers[HC_AUTH_MAX_ISSUERS];
	size_t nissuers;
	char *audience;     /* read with hc_auth_audience */
	char *old_audience; /* replaced by hc_auth_set_audience */
	char *roles_client;
	unsigned algs; /* bit per entry of hc__algs */
	int skew;
	int refetch_ms;
	struct {
		char *role;
		enum hc_scope level;
	} roles[HC_AUTH_MAX_ROLES * 2];
	size_t nroles;
	char *client_id;
	char *client_secret;
	pthread_mutex_t tok_lock;
	struct hc__svc_token toks[HC__SVC_TOKENS];
	/* The confidential client of the pages' login, or NULL (login.c). */
	char *login_client_id;
	char *login_client_secret;
	/* Held while a session's tokens are refreshed: one refresh at a
	 * time, so that a rotated refresh token is never sent twice. */
	pthread_mutex_t refresh_lock;
};

int hc__auth_http_json(const char *url, const char *form, const char *user,
		       const char *pass, json_t **out, char *why,
		       size_t why_size);
struct hc__keyset *hc__issuer_keys(struct hc__issuer *is, const char *want_kid,
				   int refetch_ms, char *why, size_t why_size);
void hc__keyset_put(struct hc__keyset *ks);
/* Copies of the issuer's endpoints from discovery (fetching it if
 * needed); each out is "" when the provider names none. */
struct hc__endpoints {
	char authorization[1024];
	char token[1024];
	char end_session[1024];
};
int hc__issuer_endpoints(struct hc__issuer *is, struct hc__endpoints *out,
			 char *why, size_t why_size);
int hc__issuer_token_endpoint(struct hc__issuer *is, char *out, size_t size,
			      char *why, size_t why_size);

/*
 * Verify a compact JWS from one of a's issuers: header, key, signature
 * and time claims (the audience and subject are the caller's). id_token:
 * the typ of an ID token ("JWT") rather than of an access token. HC_OK
 * with the claims (a new reference) and the issuer (may be NULL).
 */
int hc__auth_verify(struct hc_auth *a, const char *tok, bool id_token,
		    json_t **claims, struct hc__issuer **is,
		    struct hc_auth_failure *why);
/* An access token for this hub (no "Bearer "): as hc_auth_check. */
int hc__auth_token_identity(struct hc_auth *a, const char *tok,
			    struct hc_identity *id,
			    struct hc_auth_failure *why);
/* aud is want, or a list containing it. */
bool hc__auth_aud_has(json_t *aud, const char *want);

/*
 * The identity of the login session the request's cookie names, when
 * the hub has a page login (login.c): HC_OK with id filled (a session
 * identity: id->session), refreshing the session's tokens when its
 * access token has expired; HC_EAUTH with why filled when there is no
 * cookie or its session is unknown, expired or cannot be refreshed.
 */
int hc__auth_session_identity(struct hc_req *req, struct hc_identity *id,
			      struct hc_auth_failure *why);
/* True when the hub has a page login (a confidential client). */
bool hc__auth_login_on(const struct hc_auth *a);

/* The HTTP gate: HC_OK with req->identity set, or err filled and a
 * WWW-Authenticate header on resp (401, 403; 503 when no key set). On a
 * page route a browser without a session is sent to the login, and one
 * signed in without the permission gets a 403 page: HC_OK with *answered
 * set, resp filled. */
int hc__auth_gate(struct hc_req *req, struct hc_resp *resp,
		  struct hc_err *err, bool *answered);
/* Add the 401 challenge of a hub to resp. */
void hc__auth_challenge(struct hc_hub *hub, struct hc_resp *resp,
			const char *error, const char *description);

#endif
