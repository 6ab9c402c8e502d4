/*
 * idp/idp.h - NetKingdom IdP: a file-based OpenID Connect provider for
 * local, development and sandbox use, meeting the same contract as the
 * production provider (Keycloak), so that switching is configuration.
 *
 * One YAML file holds the issuer, users, clients, service accounts, token
 * lifetimes and the emergency-access account; signing keys live in a
 * directory beside it; sessions, codes, refresh tokens, revocations and
 * throttling live in the hub's SQLite database and survive restarts.
 * Standards: OpenID Connect Core and Discovery, RFC 8414 (metadata),
 * RFC 7636 (PKCE, S256 only), RFC 9068 (JWT access tokens), RFC 8707
 * (resource indicators), RFC 9207 (iss in responses), RFC 7662
 * (introspection), RFC 7009 (revocation), RFC 7591 (registration),
 * RFC 6238 (TOTP).
 */
#ifndef IDP_IDP_H
#define IDP_IDP_H

#include <cjose/cjose.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "hubcore/hub.h"

extern const struct hc_hub_def idp_def;

/* ---- sizes ------------------------------------------------------------------ */

/*
 * The longest values the IdP takes (bytes). Whatever it stores for a
 * request or a client is bounded by these, and every copy of a stored
 * value is sized to fit it: nothing is cut short along the way.
 */
#define IDP_MAX_URI 2048         /* a redirect URI, a resource indicator */
#define IDP_MAX_SCOPE 1024       /* a scope text */
#define IDP_MAX_NAME 255         /* a username, a client_id */
#define IDP_MAX_CLIENT_NAME 256  /* a registered client's name */
#define IDP_MAX_REDIRECT_URIS 20 /* redirect URIs of a registered client */
#define IDP_MAX_REGISTRATION 65536 /* a registration request's body */

/* ---- configuration --------------------------------------------------------- */

struct idp_strings {
	char **v;
	size_t n;
};

bool idp_strings_has(const struct idp_strings *s, const char *v);

/* A redirect URI a client may register: absolute, at most IDP_MAX_URI
 * bytes, URI characters only (no whitespace or control character), no
 * fragment; https, or http on a loopback literal with any port (RFC 8252
 * §7.3), or a private-use scheme of a native app (com.example.app:/cb).
 * An authority has a host, no userinfo ('@') and a port of 1-65535. */
bool idp_redirect_uri_ok(const char *uri);

struct idp_user {
	char *username;
	char *password_hash; /* argon2id encoded */
	char *name;
	char *email;
	char *totp_secret;   /* base32, or NULL */
	bool privacyidea;    /* second factor checked by privacyIDEA */
	struct idp_strings roles;
	struct idp_strings groups;
	bool disabled;
	bool emergency;      /* the break-glass account */
	int line;
};

struct idp_client {
	char *client_id;
	char *secret_hash;   /* argon2id; NULL for a public client */
	char *name;
	bool public_client;
	bool service_account; /* client_credentials with its own roles */
	bool registered;     /* dynamic registration, not from the file */
	bool require_pkce;
	struct idp_strings redirect_uris;
	struct idp_strings post_logout_redirect_uris;
	struct idp_strings grant_types;
	struct idp_strings scopes;
	struct idp_strings audiences; /* resources it may ask tokens for */
	struct idp_strings roles;     /* service accounts */
	char *default_audience;
	char *alg;           /* "ES256" (default) or "RS256" */
	int line;
};

struct idp_config {
	int refs;
	char *path;
	char *issuer;
	char *keys_dir;
	bool keys_dir_default; /* not in the file */
	int access_ttl;
	int id_ttl;
	int refresh_ttl;
	int code_ttl;
	int session_ttl;
	int key_publish_delay;
	bool users_disabled; /* every user off but the emergency account */
	bool registration;   /* RFC 7591 dynamic client registration */
	/* the resources a registered client may ask tokens for ("...:*":
	 * any port); none when empty */
	struct idp_strings registration_audiences;
	int max_failures;    /* failures of a user or client before a lock */
	int max_address_failures; /* of one client address */
	int lock_seconds;    /* first lock; doubles up to max_lock_seconds */
	int max_lock_seconds;
	int max_registrations; /* /register per address, then locks */
	int max_password_checks; /* argon2id checks at once */
	int purge_interval;  /* seconds between purges of expired rows */
	char *privacyidea_url;
	char *privacyidea_realm;
	struct idp_user *users;
	size_t nusers;
	struct idp_client *clients;
	size_t nclients;
};

/* Load and check the file; file:line errors (HC_EPARSE). */
int idp_config_load(const char *path, struct idp_config **out,
		    struct hc_err *err);
struct idp_config *idp_config_ref(struct idp_config *c);
void idp_config_unref(struct idp_config *c);
const struct idp_user *idp_config_user(const struct idp_config *c,
				       const char *username);
const struct idp_client *idp_config_client(const struct idp_config *c,
					   const char *client_id);

/* ---- keys ------------------------------------------------------------------- */

/* Where the keys are: keys_dir from the file, else "idp-keys" beside an
 * SQLite database (sqlite:var/idp.db -> var/idp-keys), else var/idp-keys.
 * A new string. */
char *idp_keys_dir(const struct idp_config *cfg, const char *db_url);

struct idp_key {
	char kid[64];
	char alg[8];   /* ES256 or RS256 */
	cjose_jwk_t *jwk;
	time_t created;
	time_t activates; /* signs from then on */
	time_t retires;   /* out of the JWKS from then on (0: never) */
};

struct idp_keys {
	struct idp_key *keys;
	size_t n;
};

/* Load the keys of dir, creating an ES256 and an RS256 key when none. */
int idp_keys_load(const char *dir, struct idp_keys **out, struct hc_err *err);
void idp_keys_free(struct idp_keys *k);
/* The key that signs now for alg, or NULL. */
const struct idp_key *idp_keys_signing(const struct idp_keys *k,
				       const char *alg, time_t now);
/* A published key by kid (and alg), or NULL. */
const struct idp_key *idp_keys_find(const struct idp_keys *k, const char *kid,
				    time_t now);
/* The public JWKS document (a new reference). */
json_t *idp_keys_jwks(const struct idp_keys *k, time_t now);
/*
 * Rotation: a new key per algorithm, published now and signing from
 * now + delay; the keys signing until then retire after the longest token
 * lifetime, once nothing they signed can still be valid.
 */
int idp_keys_rotate(const char *dir, int delay, int max_token_ttl,
		    struct hc_err *err);

/* ---- the running provider ------------------------------------------------------ */

/*
 * How many argon2id checks run at once (each takes 64 MiB and a core for
 * a fraction of a second): a counter with a condition, in the provider's
 * context. idp_slots_take waits at most wait_ms for one of max slots:
 * HC_OK, or HC_EBUSY.
 */
struct idp_slots {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	int busy;
};
void idp_slots_init(struct idp_slots *s);
void idp_slots_destroy(struct idp_slots *s);
int idp_slots_take(struct idp_slots *s, int max, int wait_ms);
void idp_slots_give(struct idp_slots *s);

struct idp {
	struct hc_hub *hub;
	pthread_mutex_t lock;
	struct idp_config *cfg; /* swapped whole on reload */
	struct idp_keys *keys;
	char *config_path;
	struct idp_slots argon2; /* argon2id checks running */
	/* the purge of expired rows (idp/purge.c): a thread woken by
	 * purge_wake (under lock) to stop */
	pthread_t purger;
	bool purging;
	bool stopping;
	pthread_cond_t purge_wake;
};

/* The provider of a hub, and its current configuration (a reference the
 * caller drops with idp_config_unref). */
struct idp *idp_of(struct hc_hub *hub);
struct idp_config *idp_config(struct idp *p);

/* ---- tokens -------------------------------------------------------------------- */

/* Sign claims as a compact JWS with the current key for alg; typ is the
 * JOSE "typ" header ("at+jwt" for access tokens, "JWT" for ID tokens). */
int idp_jwt_sign(struct idp *p, const char *alg, const char *typ,
		 json_t *claims, char **out, struct hc_err *err);
/* Verify a token this provider signed: known kid, its own alg, signature,
 * typ when given, iss, exp. *claims is a new reference. */
int idp_jwt_verify(struct idp *p, const char *token, const char *typ,
		   json_t **claims, struct hc_err *err);

/* Random URL-safe text of n bytes of entropy. */
int idp_random(char *out, size_t out_size, size_t bytes);
/* The SHA-256 of s as hex (how secrets are stored). */
void idp_hash(const char *s, char out[65]);

/* ---- passwords and second factors ---------------------------------------------- */

int idp_password_hash(const char *password, char **out, struct hc_err *err);
bool idp_password_check(const char *encoded, const char *password);
/*
 * Client secrets: "sha256:<hex>" for the random 256-bit secrets the IdP
 * makes (a fast hash is as safe as a slow one for them, and keeps token
 * requests fast), or an argon2id hash for a secret someone chose.
 */
bool idp_secret_check(const char *stored, const char *secret);
int idp_secret_hash(char *out, size_t size, const char *secret);
/*
 * Check a TOTP code (RFC 6238, 30 s steps, one step of drift), refusing a
 * code whose step was already used by this user (no replay).
 */
int idp_totp_check(struct hc_conn *c, const char *username,
		   const char *secret, const char *code, struct hc_err *err);
/* Ask privacyIDEA's /validate/check (pass = PIN+OTP). */
int idp_privacyidea_check(const struct idp_config *cfg, const char *user,
			  const char *pass, struct hc_err *err);

/* ---- throttling ------------------------------------------------------------------ */

/*
 * Reserve an attempt for key ("user:x", "ip:y", "client:z", ...) before
 * judging it, in one write transaction (not inside another): HC_EBUSY
 * with the seconds left in *retry_after when the key is locked; else the
 * attempt is counted as a failure, locking the key for lock_seconds
 * (doubling with each further failure, up to max_lock_seconds) once it
 * makes max_failures in a row (0: count, never lock), and *count (may be
 * NULL) says how many. Another status is a database error: the caller
 * refuses the attempt (fail closed). After a reservation the caller
 * resets the key on success, undoes the count when the attempt was not
 * judged (or succeeded for a key that success does not clear), and does
 * nothing more on failure.
 */
int idp_throttle_reserve(struct hc_conn *c, const struct idp_config *cfg,
			 const char *key, int max_failures, int *retry_after,
			 int *count, struct hc_err *err);
void idp_throttle_undo(struct hc_conn *c, const char *key);
void idp_throttle_reset(struct hc_conn *c, const char *key);


/* ---- HTTP ---------------------------------------------------------------------- */

extern const struct hc_route_table idp_routes;

/* Form fields of a request body (application/x-www-form-urlencoded) as a
 * JSON object of strings. */
int idp_form(const struct hc_req *req, json_t **out, struct hc_err *err);

/* An OAuth error response: {"error", "error_description"}. */
int idp_oauth_error(struct hc_resp *resp, int status, const char *error,
		    const char *description);

/* Record an alert (progress event) in the IdP's database. */
void idp_alert(struct hc_conn *c, const char *type, const char *summary,
	       json_t *payload);

/* Admin commands (cli). */
int idp_keycloak_realm(const struct idp_config *cfg, const char *realm,
		       json_t **out, struct hc_err *err);

#endif
