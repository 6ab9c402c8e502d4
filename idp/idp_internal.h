/*
 * idp_internal.h - what the IdP's files share beyond idp.h: client lookup
 * with registered clients, token issuance, sessions, and the small HTML
 * and URL helpers of the login flow.
 */
#ifndef IDP_INTERNAL_H
#define IDP_INTERNAL_H

#include "hubcore/buf.h"
#include "idp/idp.h"

/* A client from the file, or one registered dynamically (then *owned is
 * set and freed with idp__client_free). HC_ENOTFOUND when unknown. */
int idp__find_client(struct hc_conn *c, struct idp_config *cfg,
		     const char *client_id, struct idp_client **owned,
		     const struct idp_client **out);
void idp__client_free(struct idp_client *c);

/*
 * Client authentication at /token, /introspect and /revoke:
 * client_secret_basic, client_secret_post, or none for a public client.
 * *basic tells whether Basic was used. Failures are throttled per client
 * and per address like logins. HC_OK, or the answer is in resp (401
 * invalid_client with WWW-Authenticate after Basic; 429 with Retry-After
 * while the client or the address is locked; 503 with Retry-After when
 * no argon2id slot came free, or the throttle could not be kept) and
 * HC_EAUTH is returned: the handler returns HC_OK with that response.
 */
int idp__client_auth(struct hc_conn *c, struct idp_config *cfg,
		     const struct hc_req *req, json_t *form,
		     struct idp_client **owned,
		     const struct idp_client **client, bool *basic,
		     struct hc_resp *resp);

/* How long a request waits for an argon2id slot before a 503. Short: a
 * waiting request holds one of the server's threads. */
#define IDP_SLOT_WAIT_MS 250
/* The Retry-After of a 503 for want of a slot or a database error. */
#define IDP_BUSY_RETRY "1"

/* An argon2id check in one of the provider's slots: HC_OK when password
 * matches, HC_EINVAL when not, HC_EBUSY when no slot came free. */
int idp__password_verify(struct idp *p, const struct idp_config *cfg,
			 const char *encoded, const char *password);
/* A client secret: sha256 ones at once, argon2id ones in a slot. */
int idp__secret_verify(struct idp *p, const struct idp_config *cfg,
		       const char *stored, const char *secret);

/*
 * Delete what has expired (idp/purge.c): login requests, sessions, codes
 * whose tokens are all gone, access and refresh token records once their
 * tokens expired, token families nothing refers to, and stale throttle
 * records. *removed (may be NULL) counts the rows.
 */
int idp__purge(struct hc_conn *c, const struct idp_config *cfg, time_t now,
	       int64_t *removed, struct hc_err *err);
/* The purge thread, started by the IdP's start hook and joined by stop. */
int idp__purger_start(struct idp *p, struct hc_err *err);
void idp__purger_stop(struct idp *p);

/* issuer + path, without a doubled slash. */
void idp__url(const struct idp_config *cfg, const char *path, char *out,
	      size_t size);

/* Does a redirect URI match a registered one exactly (any port on a
 * loopback IP literal, RFC 8252 §7.3)? */
bool idp__redirect_match(const struct idp_strings *registered,
			 const char *uri);
/* A resource indicator, normalized (no trailing slash); NULL if bad. */
char *idp__resource(const char *resource);
/* May the client ask tokens for this resource? Its audiences list, where
 * "http://host:*" is any port of that host; an empty list allows every
 * resource to a client of the file and none to a registered one. */
bool idp__audience_ok(const struct idp_client *cl, const char *resource);
/* Scope text is a subset of allowed (an empty allowed list allows all). */
bool idp__scope_ok(const struct idp_strings *allowed, const char *scope);
bool idp__scope_has(const char *scope, const char *word);
/* Every word of scope is a word of granted (a narrowing, or the same). */
bool idp__scope_within(const char *scope, const char *granted);

struct idp_grant {
	const struct idp_client *client;
	const struct idp_user *user; /* NULL: client credentials */
	const char *scope;
	const char *resource;
	const char *nonce;
	int64_t auth_time;
	const char *amr;    /* JSON array text, e.g. ["pwd","otp"] */
	const char *family; /* the grant's token family, or NULL */
	bool refresh;
	bool id_token;
};

/* Make the token response of a grant, recording what must be revocable. */
int idp__issue(struct idp *p, struct hc_conn *c, struct idp_config *cfg,
	       const struct idp_grant *g, json_t **out, struct hc_err *err);
/* Revoke a whole token family: its refresh tokens and access tokens. */
int idp__revoke_family(struct hc_conn *c, const char *family,
		       struct hc_err *err);
/* Whether an access token (by jti), or its family, was revoked. */
bool idp__jti_revoked(struct hc_conn *c, const char *jti);
bool idp__family_revoked(struct hc_conn *c, const char *family);
/* Whether a user may sign in or get tokens now (the emergency account
 * always). */
bool idp__user_enabled(const struct idp_config *cfg, const struct idp_user *u);
/* Every token the break-glass account gets: an AUDIT line and an alert. */
void idp__emergency_audit(struct idp *p, struct hc_conn *c,
			  const struct idp_user *u, const struct idp_client *cl,
			  const char *how);

/* HTML escaping into a buffer. */
void idp__html(struct hc_buf *b, const char *text);
/* Append "?k=v" or "&k=v" with the value percent-encoded. */
void idp__query(struct hc_buf *b, const char *key, const char *value);

/* Set (or with max_age 0, clear) the login session cookie. */
void idp__session_cookies(struct hc_resp *resp, const struct idp_config *cfg,
			  const char *value, int max_age);

/* The session cookie's name. */
#define IDP_SESSION_COOKIE "foshub_idp_session"
#define IDP_CSRF_COOKIE "foshub_idp_csrf"

/* An argon2id hash with the parameters of real ones, of a password no one
 * has: checking against it costs what a real check costs. */
#define IDP_DUMMY_HASH                                                      \
	"$argon2id$v=19$m=65536,t=3,p=1$n9nzbnJ53ik+dHj9yWrv7w$XKo/7Vz7/"   \
	"ZeWde3qjfLHv4LMADIRZqGUPtlxwSLNO80"

#endif
