/*
 * keys.c - the IdP's signing keys: one ES256 (P-256) and one RS256 key
 * signing at any time, generated on first start, kept as JWK files (0600)
 * in a directory (0700), rotated without breaking a token that is still
 * valid: a new key is published in the JWKS before it signs, and an old
 * key stays published until everything it signed has expired.
 *
 * A key file is {"alg", "created", "activates", "retires", "jwk"}, with
 * the private JWK made and read by cjose.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hubcore/json.h"
#include "idp/idp.h"

static const char *const algs[] = { "ES256", "RS256", NULL };

static void key_release(struct idp_key *k)
{
	cjose_jwk_release(k->jwk);
	k->jwk = NULL;
}

void idp_keys_free(struct idp_keys *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		key_release(&ks->keys[i]);
	free(ks->keys);
	free(ks);
}

static cjose_jwk_t *generate(const char *alg, struct hc_err *err)
{
	cjose_err cerr;
	cjose_jwk_t *jwk;
	static const uint8_t e[] = { 0x01, 0x00, 0x01 };
	if (strcmp(alg, "ES256") == 0)
		jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
	else
		jwk = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &cerr);
	if (!jwk)
		hc_err_set(err, HC_EINTERNAL, "cannot make a %s key: %s", alg,
			   cerr.message);
	return jwk;
}

/* Write a key file atomically, readable by the owner only. */
static int save(const char *dir, const struct idp_key *k, struct hc_err *err)
{
	char path[4096], tmp[4200];
	cjose_err cerr;
	char *jwk_text = cjose_jwk_to_json(k->jwk, true, &cerr);
	json_t *jwk = jwk_text ? json_loads(jwk_text, 0, NULL) : NULL, *doc;
	char *text;
	int fd, rc = HC_OK;
	size_t len;

	free(jwk_text);
	if (!jwk)
		return hc_err_set(err, HC_EINTERNAL, "cannot export key %s",
				  k->kid);
	doc = json_pack("{sssIsIsIso}", "alg", k->alg, "created",
			(json_int_t)k->created, "activates",
			(json_int_t)k->activates, "retires",
			(json_int_t)k->retires, "jwk", jwk);
	text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	json_decref(doc);
	if (!text)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/%s.json", dir, k->kid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0 ||
	    close(fd) != 0 || rename(tmp, path) != 0) {
		rc = hc_err_set(err, HC_EIO, "cannot write key %s: %s", path,
				strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(text);
	return rc;
}

static int new_key(const char *alg, time_t now, time_t activates,
		   struct idp_key *k, struct hc_err *err)
{
	char rnd[32];
	memset(k, 0, sizeof(*k));
	if (idp_random(rnd, sizeof(rnd), 12) != HC_OK)
		return hc_err_set(err, HC_EIO, "no randomness for a key id");
	snprintf(k->kid, sizeof(k->kid), "%s-%s", alg, rnd);
	snprintf(k->alg, sizeof(k->alg), "%s", alg);
	k->created = now;
	k->activates = activates;
	k->jwk = generate(alg, err);
	if (!k->jwk)
		return err->status;
	if (!cjose_jwk_set_kid(k->jwk, k->kid, strlen(k->kid), NULL)) {
		key_release(k);
		return hc_err_set(err, HC_EINTERNAL, "cannot set a key id");
	}
	return HC_OK;
}

static int load_file(const char *path, struct idp_key *k, struct hc_err *err)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr), *jwk;
	const char *alg, *kid;
	char *text;
	cjose_err cerr;
	memset(k, 0, sizeof(*k));
	if (!doc)
		return hc_err_at(err, HC_EPARSE, path, jerr.line, jerr.column,
				 "not a key file: %s", jerr.text);
	alg = hc_json_str(doc, "alg");
	jwk = json_object_get(doc, "jwk");
	kid = hc_json_str(jwk, "kid");
	if (!alg || !kid || (strcmp(alg, "ES256") && strcmp(alg, "RS256")) ||
	    strlen(kid) >= sizeof(k->kid)) {
		json_decref(doc);
		return hc_err_at(err, HC_EPARSE, path, 0, 0,
				 "a key file needs alg ES256 or RS256 and a "
				 "jwk with a kid");
	}
	text = json_dumps(jwk, JSON_COMPACT);
	k->jwk = text ? cjose_jwk_import(text, strlen(text), &cerr) : NULL;
	free(text);
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	snprintf(k->alg, sizeof(k->alg), "%s", alg);
	k->created = (time_t)json_integer_value(json_object_get(doc, "created"));
	k->activates =
		(time_t)json_integer_value(json_object_get(doc, "activates"));
	k->retires = (time_t)json_integer_value(json_object_get(doc, "retires"));
	json_decref(doc);
	if (!k->jwk)
		return hc_err_at(err, HC_EPARSE, path, 0, 0,
				 "the jwk cannot be read");
	return HC_OK;
}

static int push(struct idp_keys *ks, struct idp_key *k, struct hc_err *err)
{
	struct idp_key *nk = realloc(ks->keys, (ks->n + 1) * sizeof(*nk));
	if (!nk) {
		key_release(k);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	ks->keys = nk;
	ks->keys[ks->n++] = *k;
	return HC_OK;
}

static int read_dir(const char *dir, struct idp_keys *ks, struct hc_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = HC_OK;
	if (!d)
		return hc_err_set(err, HC_EIO, "cannot read key directory %s: %s",
				  dir, strerror(errno));
	while (rc == HC_OK && (e = readdir(d)) != NULL) {
		char path[4096];
		size_t n = strlen(e->d_name);
		struct idp_key k;
		if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rc = load_file(path, &k, err);
		if (rc == HC_OK)
			rc = push(ks, &k, err);
	}
	closedir(d);
	return rc;
}

/* mkdir -p: parents 0755 as usual, the keys' own directory 0700. */
static int make_dirs(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int idp_keys_load(const char *dir, struct idp_keys **out, struct hc_err *err)
{
	struct idp_keys *ks = calloc(1, sizeof(*ks));
	time_t now = time(NULL);
	int rc;
	if (!ks)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (make_dirs(dir) != 0) {
		free(ks);
		return hc_err_set(err, HC_EIO, "cannot create %s: %s", dir,
				  strerror(errno));
	}
	rc = read_dir(dir, ks, err);
	/* first start: one key per algorithm, signing right away */
	for (const char *const *a = algs; rc == HC_OK && *a; a++) {
		bool have = false;
		struct idp_key k;
		for (size_t i = 0; i < ks->n; i++)
			have = have || strcmp(ks->keys[i].alg, *a) == 0;
		if (have)
			continue;
		rc = new_key(*a, now, now, &k, err);
		if (rc == HC_OK && (rc = save(dir, &k, err)) != HC_OK)
			key_release(&k);
		if (rc == HC_OK)
			rc = push(ks, &k, err);
	}
	if (rc != HC_OK) {
		idp_keys_free(ks);
		return rc;
	}
	*out = ks;
	return HC_OK;
}

static bool published(const struct idp_key *k, time_t now)
{
	return !k->retires || k->retires > now;
}

const struct idp_key *idp_keys_signing(const struct idp_keys *ks,
				       const char *alg, time_t now)
{
	const struct idp_key *best = NULL;
	for (size_t i = 0; i < ks->n; i++) {
		const struct idp_key *k = &ks->keys[i];
		if (strcmp(k->alg, alg) || k->activates > now ||
		    !published(k, now))
			continue;
		if (!best || k->activates > best->activates)
			best = k;
	}
	return best;
}

const struct idp_key *idp_keys_find(const struct idp_keys *ks, const char *kid,
				    time_t now)
{
	for (size_t i = 0; kid && i < ks->n; i++)
		if (strcmp(ks->keys[i].kid, kid) == 0 &&
		    published(&ks->keys[i], now))
			return &ks->keys[i];
	return NULL;
}

json_t *idp_keys_jwks(const struct idp_keys *ks, time_t now)
{
	json_t *keys = json_array();
	for (size_t i = 0; i < ks->n; i++) {
		const struct idp_key *k = &ks->keys[i];
		cjose_err cerr;
		char *text;
		json_t *jwk;
		if (!published(k, now))
			continue;
		text = cjose_jwk_to_json(k->jwk, false, &cerr);
		jwk = text ? json_loads(text, 0, NULL) : NULL;
		free(text);
		if (!jwk)
			continue;
		json_object_set_new(jwk, "alg", json_string(k->alg));
		json_object_set_new(jwk, "use", json_string("sig"));
		json_array_append_new(keys, jwk);
	}
	return json_pack("{so}", "keys", keys);
}

int idp_keys_rotate(const char *dir, int delay, int max_token_ttl,
		    struct hc_err *err)
{
	struct idp_keys *ks = NULL;
	time_t now = time(NULL);
	time_t activates = now + (delay > 0 ? delay : 0);
	int rc = idp_keys_load(dir, &ks, err);
	if (rc != HC_OK)
		return rc;
	for (const char *const *a = algs; rc == HC_OK && *a; a++) {
		struct idp_key k;
		/* keys signing until the new one takes over retire once
		 * their last token has expired */
		for (size_t i = 0; rc == HC_OK && i < ks->n; i++) {
			struct idp_key *o = &ks->keys[i];
			time_t until = activates + max_token_ttl + 60;
			if (strcmp(o->alg, *a) || !published(o, now))
				continue;
			if (!o->retires || o->retires > until) {
				o->retires = until;
				rc = save(dir, o, err);
			}
		}
		if (rc == HC_OK)
			rc = new_key(*a, now, activates, &k, err);
		if (rc == HC_OK) {
			rc = save(dir, &k, err);
			key_release(&k);
		}
	}
	idp_keys_free(ks);
	return rc;
}
