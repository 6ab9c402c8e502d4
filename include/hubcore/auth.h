/*
 * hubcore/auth.h - identity checks: who is calling, and may they.
 *
 * A hub trusts one or more OpenID Connect issuers (foshub's IdP, Keycloak,
 * any compliant provider) and knows its own audience. A request's bearer
 * token (from the Authorization header only) must be a JWT that one of
 * those issuers signed with a key from its JWKS, for this hub's audience,
 * not expired; its roles decide what it may do. The contract is
 * docs/iam-profile.md.
 *
 * What is refused, whatever the token says: alg "none" and HMAC algorithms
 * (a public key is never a shared secret), algorithms not configured, a key
 * the token brings or points to (jwk, jku, x5u, x5c headers), critical
 * header parameters, a key whose type does not fit the algorithm, an
 * issuer not trusted, another audience, expiry, not-before and issued-at
 * outside a small clock skew, and a typ other than an access token's.
 *
 * Roles come from the flat "roles" claim, Keycloak's realm_access.roles,
 * resource_access.<client>.roles for the configured client, or a
 * comma-separated "roles" string (Glewlwyd); a role map turns them into a
 * permission level: read, write or admin.
 *
 * JWKS documents are fetched (libcurl) from each issuer's discovery
 * document, cached, and fetched again when a token names an unknown key,
 * at most every few seconds per issuer. Verification takes no lock: a key
 * set is immutable and swapped whole.
 *
 * A hub calling another gets a service-account token with
 * client_credentials, cached until shortly before it expires.
 *
 * People's browsers log in to a hub's pages through the first issuer
 * (login.c, docs/views.md): the hub is a confidential client of the
 * provider (authorization code with PKCE, state and nonce) and keeps the
 * tokens itself, server side, in a login session that a cookie names
 * (HttpOnly, SameSite=Lax). Only routes flagged HC_ROUTE_SESSION (the
 * pages and their event streams, all read-only) accept that cookie in
 * place of a bearer token; every other route ignores it, so that a page
 * of another site cannot make the browser write with it (CSRF).
 */
#ifndef HUBCORE_AUTH_H
#define HUBCORE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hubcore/http.h"
#include "hubcore/status.h"
#include "hubcore/store.h"

struct hc_auth;

#define HC_AUTH_MAX_ISSUERS 8
#define HC_AUTH_MAX_ROLES 32

/* One role and the permission it gives. */
struct hc_auth_role {
	const char *role;
	enum hc_scope level;
};

struct hc_auth_options {
	/* Trusted issuers, exactly as their tokens' "iss". */
	const char *issuers[HC_AUTH_MAX_ISSUERS];
	size_t nissuers;
	/* This hub's audience: a token's "aud" must be or contain it. */
	const char *audience;
	/* The client whose resource_access.<client>.roles count (Keycloak
	 * client roles), or NULL. */
	const char *roles_client;
	/* Accepted algorithms, comma-separated; NULL: RS256, RS384, RS512,
	 * PS256, PS384, PS512, ES256, ES384, ES512. */
	const char *algorithms;
	/* Seconds of clock skew allowed on exp, nbf and iat (default 60). */
	int clock_skew;
	/* Extra role mappings over the defaults (admin: admin; developer,
	 * maintainer, operator, agent, service: write; viewer, reader,
	 * auditor: read). */
	struct hc_auth_role roles[HC_AUTH_MAX_ROLES];
	size_t nroles;
	/* This hub's service account, for calls to other hubs, or NULL. */
	const char *client_id;
	const char *client_secret;
	/* Seconds between JWKS fetches for unknown keys (default 10). */
	int refetch_interval;
	/* The confidential client through which people's browsers log in
	 * to the pages (authorization code + PKCE at the first issuer), or
	 * NULL for no page login: both or neither. */
	const char *login_client_id;
	const char *login_client_secret;
};

/* Who called: what a checked token said. */
struct hc_identity {
	char sub[256];
	char iss[512];
	char client_id[256];
	char username[256]; /* preferred_username, or "" */
	char *roles[HC_AUTH_MAX_ROLES];
	size_t nroles;
	enum hc_scope level; /* what the roles allow */
	int64_t exp;
	bool service;        /* a service account (client_credentials) */
	/* From a page's login session (a cookie) rather than a bearer
	 * token; name is then the person's name for the page ("" when the
	 * provider gave none). */
	bool session;
	char name[256];
};

void hc_identity_release(struct hc_identity *id);

/* Why a token was refused: the OAuth error for WWW-Authenticate (RFC 6750
 * §3.1) and a description for people and logs. */
struct hc_auth_failure {
	const char *error; /* "invalid_token", "invalid_request" or NULL
			      when no token was sent */
	char description[256];
	int status;        /* 401, or 503 when the issuer cannot be reached */
};

int hc_auth_new(struct hc_auth **out, const struct hc_auth_options *o,
		struct hc_err *err);
void hc_auth_free(struct hc_auth *a);
const char *hc_auth_audience(const struct hc_auth *a);
/* Set the audience once the hub knows its port (listening on port 0):
 * until then every token is refused. */
int hc_auth_set_audience(struct hc_auth *a, const char *audience,
			 struct hc_err *err);
size_t hc_auth_issuer_count(const struct hc_auth *a);
const char *hc_auth_issuer(const struct hc_auth *a, size_t i);

/*
 * Check the value of an Authorization header (NULL when absent). HC_OK
 * fills id (release with hc_identity_release); otherwise why says what
 * was wrong and nothing is filled.
 */
int hc_auth_check(struct hc_auth *a, const char *authorization,
		  struct hc_identity *id, struct hc_auth_failure *why);

/* The level a role list gives under a's role map. */
enum hc_scope hc_auth_level(const struct hc_auth *a, const char *const *roles,
			    size_t n);

/* "read", "write", "admin" (and "public"). */
const char *hc_scope_name(enum hc_scope s);

/*
 * A service-account token for calling the hub whose audience is given:
 * client_credentials at the first issuer's token endpoint, with resource
 * = audience; cached until 30 s before it expires. *token is a new string.
 */
int hc_auth_service_token(struct hc_auth *a, const char *audience,
			  char **token, struct hc_err *err);

/* The identity of the request being served, when auth is on and the
 * route needed one; NULL otherwise. */
const struct hc_identity *hc_req_identity(const struct hc_req *req);

/* The routes every hub serves with auth: RFC 9728 protected resource
 * metadata and GET /whoami. */
extern const struct hc_route_table hc_auth_routes;

/*
 * The page login of a hub with pages (login.c): GET /auth/login,
 * GET /auth/callback, POST /auth/logout and GET /auth/signed-out, and the
 * schema of its pending logins and sessions (component "auth"). Without
 * a login client (or with --no-auth) the routes answer 404.
 */
extern const struct hc_route_table hc_auth_login_routes;
extern const struct hc_migration_set hc_auth_migrations;

/* The name of a hub's session cookie ("foshub_session_dev"): one per hub,
 * since browsers share cookies between the ports of a host. */
void hc_auth_session_cookie_name(const struct hc_hub *hub, char *out,
				 size_t size);

/* The origin of the login's provider ("http://127.0.0.1:8000") for the
 * pages' form-action (signing out goes on to it), or NULL. */
const char *hc_auth_login_origin(const struct hc_auth *a, char *out,
				 size_t size);

#endif
