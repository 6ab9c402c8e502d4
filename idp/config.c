/*
 * config.c - the IdP's YAML configuration, read with libyaml's document
 * API so that every refusal names file:line. The keys are const tables:
 * the file cannot hold a key the tables do not describe.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <oath.h>
#include <yaml.h>

#include "idp/idp.h"

bool idp_strings_has(const struct idp_strings *s, const char *v)
{
	for (size_t i = 0; v && i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return true;
	return false;
}

static void strings_free(struct idp_strings *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* Replace s with a copy of the NULL-terminated list vals. */
static int strings_set(struct idp_strings *s, const char *const *vals)
{
	size_t n = 0;
	strings_free(s);
	s->n = 0;
	while (vals[n])
		n++;
	s->v = calloc(n + 1, sizeof(char *));
	if (!s->v)
		return HC_ENOMEM;
	for (; s->n < n; s->n++)
		if (!(s->v[s->n] = strdup(vals[s->n])))
			return HC_ENOMEM;
	return HC_OK;
}

/* ---- walking the document ------------------------------------------------------ */

struct ctx {
	yaml_document_t *doc;
	const char *path;
	struct hc_err *err;
};

static int line_of(yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

static int fail(struct ctx *x, yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ctx *x, yaml_node_t *n, const char *fmt, ...)
{
	char msg[HC_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hc_err_at(x->err, HC_EPARSE, x->path, line_of(n),
			 n ? (int)n->start_mark.column + 1 : 0, "%s", msg);
}

static yaml_node_t *node(struct ctx *x, int index)
{
	return yaml_document_get_node(x->doc, index);
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
						: NULL;
}

enum kind { K_STRING, K_INT, K_BOOL, K_LIST, K_USERS, K_CLIENTS };

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	bool required;
	int min, max; /* K_INT */
};

static int set_string(struct ctx *x, yaml_node_t *v, char **dst)
{
	const char *s = scalar(v);
	if (!s)
		return fail(x, v, "expected a text value");
	if (strlen(s) != v->data.scalar.length)
		return fail(x, v, "the value contains a NUL byte");
	free(*dst);
	*dst = strdup(s);
	return *dst ? HC_OK : hc_err_set(x->err, HC_ENOMEM, "out of memory");
}

static int set_int(struct ctx *x, yaml_node_t *v, const struct key *k,
		   int *dst)
{
	const char *s = scalar(v);
	char *end;
	long n;
	if (!s || !*s)
		return fail(x, v, "'%s' must be a number", k->name);
	errno = 0;
	n = strtol(s, &end, 10);
	if (*end || errno || n < k->min || n > k->max)
		return fail(x, v, "'%s' must be a whole number from %d to %d",
			    k->name, k->min, k->max);
	*dst = (int)n;
	return HC_OK;
}

static int set_bool(struct ctx *x, yaml_node_t *v, const char *name, bool *dst)
{
	const char *s = scalar(v);
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
		*dst = true;
	else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
		*dst = false;
	else
		return fail(x, v, "'%s' must be true or false", name);
	return HC_OK;
}

static int set_list(struct ctx *x, yaml_node_t *v, const char *name,
		    struct idp_strings *dst)
{
	yaml_node_item_t *it;
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return fail(x, v, "'%s' must be a list", name);
	strings_free(dst);
	dst->n = 0;
	dst->v = calloc((size_t)(v->data.sequence.items.top -
				 v->data.sequence.items.start) + 1,
			sizeof(char *));
	if (!dst->v)
		return hc_err_set(x->err, HC_ENOMEM, "out of memory");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = node(x, *it);
		const char *s = scalar(e);
		if (!s || !*s)
			return fail(x, e, "'%s' must be a list of texts",
				    name);
		dst->v[dst->n] = strdup(s);
		if (!dst->v[dst->n])
			return hc_err_set(x->err, HC_ENOMEM, "out of memory");
		dst->n++;
	}
	return HC_OK;
}

/* Walk a mapping against a key table, storing into base. */
static int walk(struct ctx *x, yaml_node_t *map, const struct key *keys,
		size_t nkeys, void *base, const char *what,
		int (*nested)(struct ctx *, const struct key *, yaml_node_t *,
			      void *));

/* ---- users and clients ---------------------------------------------------------- */

#define U(f) offsetof(struct idp_user, f)
static const struct key user_keys[] = {
	{ "username", K_STRING, U(username), true, 0, 0 },
	{ "password_hash", K_STRING, U(password_hash), false, 0, 0 },
	{ "name", K_STRING, U(name), false, 0, 0 },
	{ "email", K_STRING, U(email), false, 0, 0 },
	{ "totp_secret", K_STRING, U(totp_secret), false, 0, 0 },
	{ "privacyidea", K_BOOL, U(privacyidea), false, 0, 0 },
	{ "roles", K_LIST, U(roles), false, 0, 0 },
	{ "groups", K_LIST, U(groups), false, 0, 0 },
	{ "disabled", K_BOOL, U(disabled), false, 0, 0 },
};

#define C(f) offsetof(struct idp_client, f)
static const struct key client_keys[] = {
	{ "client_id", K_STRING, C(client_id), true, 0, 0 },
	{ "secret_hash", K_STRING, C(secret_hash), false, 0, 0 },
	{ "name", K_STRING, C(name), false, 0, 0 },
	{ "public", K_BOOL, C(public_client), false, 0, 0 },
	{ "require_pkce", K_BOOL, C(require_pkce), false, 0, 0 },
	{ "redirect_uris", K_LIST, C(redirect_uris), false, 0, 0 },
	{ "post_logout_redirect_uris", K_LIST, C(post_logout_redirect_uris),
	  false, 0, 0 },
	{ "grant_types", K_LIST, C(grant_types), false, 0, 0 },
	{ "scopes", K_LIST, C(scopes), false, 0, 0 },
	{ "audiences", K_LIST, C(audiences), false, 0, 0 },
	{ "roles", K_LIST, C(roles), false, 0, 0 },
	{ "default_audience", K_STRING, C(default_audience), false, 0, 0 },
	{ "token_alg", K_STRING, C(alg), false, 0, 0 },
};

#define CF(f) offsetof(struct idp_config, f)
static const struct key config_keys[] = {
	{ "issuer", K_STRING, CF(issuer), true, 0, 0 },
	{ "keys_dir", K_STRING, CF(keys_dir), false, 0, 0 },
	{ "access_token_ttl", K_INT, CF(access_ttl), false, 30, 86400 },
	{ "id_token_ttl", K_INT, CF(id_ttl), false, 30, 86400 },
	{ "refresh_token_ttl", K_INT, CF(refresh_ttl), false, 60, 31536000 },
	{ "code_ttl", K_INT, CF(code_ttl), false, 5, 600 },
	{ "session_ttl", K_INT, CF(session_ttl), false, 60, 2592000 },
	{ "key_publish_delay", K_INT, CF(key_publish_delay), false, 0,
	  86400 },
	{ "users_disabled", K_BOOL, CF(users_disabled), false, 0, 0 },
	{ "dynamic_registration", K_BOOL, CF(registration), false, 0, 0 },
	{ "registration_audiences", K_LIST, CF(registration_audiences), false,
	  0, 0 },
	{ "max_login_failures", K_INT, CF(max_failures), false, 1, 1000 },
	{ "max_address_failures", K_INT, CF(max_address_failures), false, 1,
	  100000 },
	{ "lock_seconds", K_INT, CF(lock_seconds), false, 1, 86400 },
	{ "max_lock_seconds", K_INT, CF(max_lock_seconds), false, 1,
	  604800 },
	{ "max_registrations_per_address", K_INT, CF(max_registrations),
	  false, 1, 100000 },
	{ "max_password_checks", K_INT, CF(max_password_checks), false, 1,
	  64 },
	{ "purge_interval", K_INT, CF(purge_interval), false, 1, 86400 },
	{ "privacyidea_url", K_STRING, CF(privacyidea_url), false, 0, 0 },
	{ "privacyidea_realm", K_STRING, CF(privacyidea_realm), false, 0, 0 },
	{ "users", K_USERS, CF(users), false, 0, 0 },
	{ "clients", K_CLIENTS, CF(clients), false, 0, 0 },
	{ "service_accounts", K_CLIENTS, CF(clients), false, 0, 0 },
	{ "emergency_access", K_USERS, CF(users), false, 0, 0 },
};

static void user_free(struct idp_user *u)
{
	free(u->username);
	free(u->password_hash);
	free(u->name);
	free(u->email);
	free(u->totp_secret);
	strings_free(&u->roles);
	strings_free(&u->groups);
}

static void client_free(struct idp_client *c)
{
	free(c->client_id);
	free(c->secret_hash);
	free(c->name);
	free(c->default_audience);
	free(c->alg);
	strings_free(&c->redirect_uris);
	strings_free(&c->post_logout_redirect_uris);
	strings_free(&c->grant_types);
	strings_free(&c->scopes);
	strings_free(&c->audiences);
	strings_free(&c->roles);
}

static bool grant_known(const char *g)
{
	return strcmp(g, "authorization_code") == 0 ||
	       strcmp(g, "refresh_token") == 0 ||
	       strcmp(g, "client_credentials") == 0;
}

/* ---- redirect URIs ----------------------------------------------------------------- */

/* Characters a URI may hold (RFC 3986 §2: unreserved, reserved and '%'):
 * no control character, space, quote, angle bracket, backslash, caret,
 * backtick, brace or bar, and nothing outside ASCII. */
static bool uri_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c && strchr("-._~:/?#[]@!$&'()*+,;=%", c));
}

/* The authority of a URI after its "//", up to the path, query or end:
 * host (a DNS name, or an IPv6 literal in brackets) and an optional port
 * of 1 to 65535. No userinfo ('@'): "http://127.0.0.1:80@evil.example"
 * names evil.example. *host and *host_len say where the host is. */
static bool authority_ok(const char *a, size_t n, const char **host,
			 size_t *host_len)
{
	size_t h;
	if (memchr(a, '@', n))
		return false;
	if (n && a[0] == '[') {
		const char *close = memchr(a, ']', n);
		if (!close || close == a + 1 ||
		    strspn(a + 1, "0123456789abcdefABCDEF:.") !=
			    (size_t)(close - a - 1))
			return false;
		h = (size_t)(close - a) + 1;
	} else {
		h = strspn(a, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");
		if (h > n)
			h = n;
	}
	if (h == 0)
		return false;
	*host = a;
	*host_len = h;
	if (h == n)
		return true;
	if (a[h] != ':')
		return false;
	{
		size_t digits = n - h - 1;
		unsigned long port = 0;
		if (digits < 1 || digits > 5 ||
		    strspn(a + h + 1, "0123456789") < digits)
			return false;
		for (size_t i = 0; i < digits; i++)
			port = port * 10 + (unsigned long)(a[h + 1 + i] - '0');
		return port >= 1 && port <= 65535;
	}
}

static bool loopback_host(const char *host, size_t n)
{
	static const char *const names[] = { "127.0.0.1", "[::1]",
					      "localhost", NULL };
	for (const char *const *h = names; *h; h++)
		if (strlen(*h) == n && memcmp(*h, host, n) == 0)
			return true;
	return false;
}

/*
 * A redirect URI a client may register: absolute, at most IDP_MAX_URI
 * bytes of URI characters (no whitespace or control character, which
 * would break the Location header), no fragment; https to any host; http
 * only to a loopback literal (127.0.0.1, [::1], localhost), with any port
 * (RFC 8252 §7.3); or a private-use scheme with a dot (RFC 8252 §7.1,
 * com.example.app:/cb). An authority has a host, no userinfo, and a port
 * from 1 to 65535.
 */
bool idp_redirect_uri_ok(const char *u)
{
	size_t len, scheme, rest;
	const char *host = NULL;
	size_t host_len = 0;
	bool https, http;
	if (!u)
		return false;
	len = strlen(u);
	if (len == 0 || len > IDP_MAX_URI || strchr(u, '#'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!uri_char((unsigned char)u[i]))
			return false;
	scheme = strspn(u, "abcdefghijklmnopqrstuvwxyz0123456789+.-");
	if (scheme == 0 || u[scheme] != ':' || u[0] < 'a' || u[0] > 'z')
		return false;
	https = scheme == 5 && strncmp(u, "https", 5) == 0;
	http = scheme == 4 && strncmp(u, "http", 4) == 0;
	if (!https && !http) {
		/* private-use schemes of native apps are reverse domain
		 * names: a dot, not at either end */
		const char *dot = memchr(u, '.', scheme);
		if (scheme < 3 || !dot || u[scheme - 1] == '.')
			return false;
	}
	if (strncmp(u + scheme + 1, "//", 2) != 0)
		return !https && !http; /* http(s) needs an authority */
	rest = strcspn(u + scheme + 3, "/?");
	if (!authority_ok(u + scheme + 3, rest, &host, &host_len))
		return false;
	return !http || loopback_host(host, host_len);
}

static int check_user(struct ctx *x, yaml_node_t *n, struct idp_user *u,
		      bool emergency)
{
	u->line = line_of(n);
	u->emergency = emergency;
	if (!u->username[0])
		return fail(x, n, "a username must not be empty");
	if (strlen(u->username) > IDP_MAX_NAME)
		return fail(x, n, "the username '%.40s...' is longer than %d "
				  "bytes",
			    u->username, IDP_MAX_NAME);
	/* a service account's tokens have the subject
	 * service-account-<client_id> (as in Keycloak): a user must not be
	 * able to take that name */
	if (strncmp(u->username, "service-account-", 16) == 0)
		return fail(x, n,
			    "the username '%s' starts with 'service-account-', "
			    "the prefix of service accounts' subjects",
			    u->username);
	if (!u->password_hash && !u->privacyidea)
		return fail(x, n, "user '%s' has no password_hash",
			    u->username);
	if (u->password_hash && strncmp(u->password_hash, "$argon2id$", 10))
		return fail(x, n,
			    "user '%s': password_hash must be an argon2id "
			    "hash (make one with `foshub idp hash-password`)",
			    u->username);
	if (u->totp_secret) {
		char *raw = NULL;
		size_t len = 0;
		if (oath_base32_decode(u->totp_secret,
				       strlen(u->totp_secret), &raw,
				       &len) != OATH_OK ||
		    len < 10) {
			free(raw);
			return fail(x, n,
				    "user '%s': totp_secret must be base32, "
				    "at least 80 bits",
				    u->username);
		}
		free(raw);
	}
	return HC_OK;
}

static int check_client(struct ctx *x, yaml_node_t *n, struct idp_client *c,
			bool service)
{
	c->line = line_of(n);
	c->service_account = service;
	if (!c->client_id[0])
		return fail(x, n, "a client_id must not be empty");
	if (strlen(c->client_id) > IDP_MAX_NAME)
		return fail(x, n, "the client_id '%.40s...' is longer than %d "
				  "bytes",
			    c->client_id, IDP_MAX_NAME);
	if (!c->grant_types.n) {
		/* absent or written as []: the kind's default (replacing the
		 * empty list, which owns an array of its own) */
		static const char *const svc[] = { "client_credentials", NULL };
		static const char *const web[] = { "authorization_code",
						   "refresh_token", NULL };
		if (strings_set(&c->grant_types, service ? svc : web) != HC_OK)
			return hc_err_set(x->err, HC_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < c->grant_types.n; i++)
		if (!grant_known(c->grant_types.v[i]))
			return fail(x, n,
				    "client '%s': unknown grant type '%s'",
				    c->client_id, c->grant_types.v[i]);
	if (c->public_client && c->secret_hash)
		return fail(x, n,
			    "client '%s' is public and must not have a "
			    "secret_hash",
			    c->client_id);
	if (!c->public_client && !c->secret_hash)
		return fail(x, n,
			    "client '%s' needs a secret_hash (or public: "
			    "true)",
			    c->client_id);
	if (c->secret_hash && strncmp(c->secret_hash, "$argon2id$", 10) &&
	    !(strncmp(c->secret_hash, "sha256:", 7) == 0 &&
	      strlen(c->secret_hash) == 71 &&
	      strspn(c->secret_hash + 7, "0123456789abcdef") == 64))
		return fail(x, n,
			    "client '%s': secret_hash must be an argon2id "
			    "hash or sha256:<64 hex digits>",
			    c->client_id);
	if (c->public_client &&
	    idp_strings_has(&c->grant_types, "client_credentials"))
		return fail(x, n,
			    "client '%s': a public client cannot use "
			    "client_credentials",
			    c->client_id);
	if (idp_strings_has(&c->grant_types, "authorization_code") &&
	    !c->redirect_uris.n)
		return fail(x, n, "client '%s' needs redirect_uris",
			    c->client_id);
	for (size_t i = 0; i < c->redirect_uris.n; i++)
		if (!idp_redirect_uri_ok(c->redirect_uris.v[i]))
			return fail(x, n,
				    "client '%s': redirect URI '%s' must be "
				    "https, http on loopback, or a private "
				    "scheme, without a fragment",
				    c->client_id, c->redirect_uris.v[i]);
	for (size_t i = 0; i < c->post_logout_redirect_uris.n; i++)
		if (!idp_redirect_uri_ok(c->post_logout_redirect_uris.v[i]))
			return fail(x, n,
				    "client '%s': post-logout redirect URI '%s' "
				    "must be https, http on loopback, or a "
				    "private scheme, without a fragment",
				    c->client_id,
				    c->post_logout_redirect_uris.v[i]);
	if (c->alg && strcmp(c->alg, "ES256") && strcmp(c->alg, "RS256"))
		return fail(x, n, "client '%s': token_alg must be ES256 or "
				  "RS256",
			    c->client_id);
	return HC_OK;
}

static int nested(struct ctx *x, const struct key *k, yaml_node_t *v,
		  void *base)
{
	struct idp_config *cfg = base;
	yaml_node_item_t *it;
	bool emergency = strcmp(k->name, "emergency_access") == 0;
	bool service = strcmp(k->name, "service_accounts") == 0;

	if (emergency && v->type == YAML_MAPPING_NODE) {
		/* one account, written as a mapping */
		struct idp_user *u;
		int rc;
		cfg->users = realloc(cfg->users,
				     (cfg->nusers + 1) * sizeof(*cfg->users));
		if (!cfg->users)
			return hc_err_set(x->err, HC_ENOMEM, "out of memory");
		u = &cfg->users[cfg->nusers++];
		memset(u, 0, sizeof(*u));
		rc = walk(x, v, user_keys, HC_COUNT(user_keys), u,
			  "emergency_access", NULL);
		return rc == HC_OK ? check_user(x, v, u, true) : rc;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(x, v, "'%s' must be a list", k->name);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = node(x, *it);
		int rc;
		if (!e || e->type != YAML_MAPPING_NODE)
			return fail(x, e, "each of '%s' must be a mapping",
				    k->name);
		if (k->kind == K_USERS) {
			struct idp_user *u;
			cfg->users = realloc(cfg->users, (cfg->nusers + 1) *
								 sizeof(*u));
			if (!cfg->users)
				return hc_err_set(x->err, HC_ENOMEM,
						  "out of memory");
			u = &cfg->users[cfg->nusers++];
			memset(u, 0, sizeof(*u));
			rc = walk(x, e, user_keys, HC_COUNT(user_keys), u,
				  "user", NULL);
			if (rc == HC_OK)
				rc = check_user(x, e, u, emergency);
		} else {
			struct idp_client *c;
			cfg->clients = realloc(cfg->clients,
					       (cfg->nclients + 1) *
						       sizeof(*c));
			if (!cfg->clients)
				return hc_err_set(x->err, HC_ENOMEM,
						  "out of memory");
			c = &cfg->clients[cfg->nclients++];
			memset(c, 0, sizeof(*c));
			c->require_pkce = true;
			rc = walk(x, e, client_keys, HC_COUNT(client_keys), c,
				  "client", NULL);
			if (rc == HC_OK)
				rc = check_client(x, e, c, service);
		}
		if (rc != HC_OK)
			return rc;
	}
	return HC_OK;
}

static int walk(struct ctx *x, yaml_node_t *map, const struct key *keys,
		size_t nkeys, void *base, const char *what,
		int (*nest)(struct ctx *, const struct key *, yaml_node_t *,
			    void *))
{
	bool seen[64] = { false };
	yaml_node_pair_t *p;
	if (!map || map->type != YAML_MAPPING_NODE)
		return fail(x, map, "expected a mapping for the %s", what);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(x, p->key), *v = node(x, p->value);
		const char *name = scalar(kn);
		const struct key *k = NULL;
		int rc;
		for (size_t i = 0; name && i < nkeys; i++)
			if (strcmp(keys[i].name, name) == 0)
				k = &keys[i];
		if (!k)
			return fail(x, kn, "unknown key '%s' in the %s",
				    name ? name : "?", what);
		if (seen[k - keys] && k->kind != K_CLIENTS &&
		    k->kind != K_USERS)
			return fail(x, kn, "key '%s' appears twice", name);
		seen[k - keys] = true;
		switch (k->kind) {
		case K_STRING:
			rc = set_string(x, v, (char **)((char *)base + k->off));
			break;
		case K_INT:
			rc = set_int(x, v, k, (int *)((char *)base + k->off));
			break;
		case K_BOOL:
			rc = set_bool(x, v, k->name,
				      (bool *)((char *)base + k->off));
			break;
		case K_LIST:
			rc = set_list(x, v, k->name,
				      (struct idp_strings *)((char *)base +
							     k->off));
			break;
		default:
			rc = nest(x, k, v, base);
		}
		if (rc != HC_OK)
			return rc;
	}
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].required && !seen[i])
			return fail(x, map, "the %s needs '%s'", what,
				    keys[i].name);
	return HC_OK;
}

static int check_config(struct ctx *x, yaml_node_t *root,
			struct idp_config *cfg)
{
	size_t emergencies = 0;
	if (strncmp(cfg->issuer, "https://", 8) &&
	    strncmp(cfg->issuer, "http://", 7))
		return fail(x, root, "issuer must be an http(s) URL");
	if (strchr(cfg->issuer, '?') || strchr(cfg->issuer, '#'))
		return fail(x, root, "issuer must have no query or fragment");
	for (size_t i = 0; i < cfg->nusers; i++) {
		emergencies += cfg->users[i].emergency;
		for (size_t k = 0; k < i; k++)
			if (strcmp(cfg->users[i].username,
				   cfg->users[k].username) == 0)
				return hc_err_at(x->err, HC_EPARSE, x->path,
						 cfg->users[i].line, 0,
						 "user '%s' is defined twice",
						 cfg->users[i].username);
	}
	if (emergencies > 1)
		return fail(x, root, "there can be one emergency_access "
				     "account");
	for (size_t i = 0; i < cfg->nclients; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(cfg->clients[i].client_id,
				   cfg->clients[k].client_id) == 0)
				return hc_err_at(x->err, HC_EPARSE, x->path,
						 cfg->clients[i].line, 0,
						 "client '%s' is defined twice",
						 cfg->clients[i].client_id);
	if (cfg->max_lock_seconds < cfg->lock_seconds)
		cfg->max_lock_seconds = cfg->lock_seconds;
	return HC_OK;
}

void idp_config_unref(struct idp_config *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < c->nusers; i++)
		user_free(&c->users[i]);
	for (size_t i = 0; i < c->nclients; i++)
		client_free(&c->clients[i]);
	free(c->users);
	free(c->clients);
	free(c->path);
	free(c->issuer);
	free(c->keys_dir);
	free(c->privacyidea_url);
	free(c->privacyidea_realm);
	strings_free(&c->registration_audiences);
	free(c);
}

struct idp_config *idp_config_ref(struct idp_config *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	return c;
}

int idp_config_load(const char *path, struct idp_config **out,
		    struct hc_err *err)
{
	struct idp_config *cfg = calloc(1, sizeof(*cfg));
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx x = { &doc, path, err };
	FILE *f = fopen(path, "rb");
	int rc;

	if (!cfg) {
		if (f)
			fclose(f);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	cfg->refs = 1;
	cfg->access_ttl = 900;
	cfg->id_ttl = 900;
	cfg->refresh_ttl = 30 * 86400;
	cfg->code_ttl = 60;
	cfg->session_ttl = 8 * 3600;
	cfg->key_publish_delay = 600;
	cfg->max_failures = 5;
	cfg->max_address_failures = 50;
	cfg->lock_seconds = 60;
	cfg->max_lock_seconds = 3600;
	cfg->max_registrations = 20;
	cfg->max_password_checks = 2;
	cfg->purge_interval = 300;
	if (!f) {
		free(cfg);
		return hc_err_at(err, HC_ENOTFOUND, path, 0, 0,
				 "cannot read the IdP configuration: %s",
				 strerror(errno));
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = hc_err_at(err, HC_EPARSE, path,
			       (int)parser.problem_mark.line + 1,
			       (int)parser.problem_mark.column + 1,
			       "invalid YAML: %s",
			       parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		fclose(f);
		idp_config_unref(cfg);
		return rc;
	}
	{
		/* one document: a second one would be ignored, and an edit
		 * could land in it (the admin commands refuse it too) */
		yaml_document_t more;
		bool second = false;
		int line = 0;
		if (!yaml_parser_load(&parser, &more)) {
			second = true; /* unreadable after the first */
			line = (int)parser.problem_mark.line + 1;
		} else {
			yaml_node_t *r = yaml_document_get_root_node(&more);
			second = r != NULL;
			line = r ? (int)more.start_mark.line + 1 : 0;
			yaml_document_delete(&more);
		}
		if (second) {
			rc = hc_err_at(err, HC_EPARSE, path, line, 0,
				       "a second YAML document: the IdP's "
				       "file holds one (remove the '---' "
				       "and what follows, or merge them)");
			yaml_document_delete(&doc);
			yaml_parser_delete(&parser);
			fclose(f);
			idp_config_unref(cfg);
			return rc;
		}
	}
	yaml_parser_delete(&parser);
	fclose(f);
	{
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		rc = root ? walk(&x, root, config_keys, HC_COUNT(config_keys),
				 cfg, "configuration", nested)
			  : hc_err_at(err, HC_EPARSE, path, 1, 0,
				      "the configuration is empty");
		if (rc == HC_OK)
			rc = check_config(&x, root, cfg);
	}
	yaml_document_delete(&doc);
	if (rc == HC_OK) {
		cfg->path = strdup(path);
		/* without keys_dir the IdP keeps its keys beside its
		 * database (idp_start); var/idp-keys for the admin
		 * commands, which have no database */
		cfg->keys_dir_default = !cfg->keys_dir;
		if (!cfg->keys_dir)
			cfg->keys_dir = strdup("var/idp-keys");
		if (!cfg->path || !cfg->keys_dir)
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	if (rc != HC_OK) {
		idp_config_unref(cfg);
		return rc;
	}
	*out = cfg;
	return HC_OK;
}

const struct idp_user *idp_config_user(const struct idp_config *c,
				       const char *username)
{
	for (size_t i = 0; username && i < c->nusers; i++)
		if (strcmp(c->users[i].username, username) == 0)
			return &c->users[i];
	return NULL;
}

const struct idp_client *idp_config_client(const struct idp_config *c,
					   const char *client_id)
{
	for (size_t i = 0; client_id && i < c->nclients; i++)
		if (strcmp(c->clients[i].client_id, client_id) == 0)
			return &c->clients[i];
	return NULL;
}
