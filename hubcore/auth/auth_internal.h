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
};

int hc__auth_http_json(const char *url, const char *form, const char *user,
		       const char *pass, json_t **out, char *why,
		       size_t why_size);
struct hc__keyset *hc__issuer_keys(struct hc__issuer *is, const char *want_kid,
				   int refetch_ms, char *why, size_t why_size);
void hc__keyset_put(struct hc__keyset *ks);
int hc__issuer_token_endpoint(struct hc__issuer *is, char *out, size_t size,
			      char *why, size_t why_size);

/* The HTTP gate: HC_OK with req->identity set, or err filled and a
 * WWW-Authenticate header on resp (401, 403; 503 when no key set). */
int hc__auth_gate(struct hc_req *req, struct hc_resp *resp,
		  struct hc_err *err);
/* Add the 401 challenge of a hub to resp. */
void hc__auth_challenge(struct hc_hub *hub, struct hc_resp *resp,
			const char *error, const char *description);

#endif
