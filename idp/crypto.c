/*
 * crypto.c - tokens, secrets and second factors: JWS signing and checking
 * of the IdP's own tokens (cjose), random handles, SHA-256 of stored
 * secrets (OpenSSL), argon2id passwords (libargon2), TOTP (liboath).
 */
#include <argon2.h>
#include <oath.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hubcore/json.h"
#include "hubcore/util.h"
#include "idp/idp.h"

int idp_random(char *out, size_t out_size, size_t bytes)
{
	unsigned char buf[64];
	size_t got = 0;
	if (bytes > sizeof(buf) || out_size < 4 * (bytes / 3 + 1) + 1)
		HC_BUG("random buffer too small");
	while (got < bytes) {
		ssize_t n = getrandom(buf + got, bytes - got, 0);
		if (n < 0)
			return HC_EIO;
		got += (size_t)n;
	}
	hc_base64url_encode(buf, bytes, out);
	return HC_OK;
}

void idp_hash(const char *s, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)s, strlen(s), md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- JWS ------------------------------------------------------------------------ */

int idp_jwt_sign(struct idp *p, const char *alg, const char *typ,
		 json_t *claims, char **out, struct hc_err *err)
{
	const struct idp_key *k;
	cjose_header_t *hdr = NULL;
	cjose_jws_t *jws = NULL;
	cjose_err cerr;
	const char *compact = NULL;
	char *payload = hc_json_dump(claims, NULL);
	int rc = HC_OK;

	pthread_mutex_lock(&p->lock);
	k = idp_keys_signing(p->keys, alg ? alg : "ES256", time(NULL));
	if (!k || !payload) {
		pthread_mutex_unlock(&p->lock);
		free(payload);
		return hc_err_set(err, HC_EINTERNAL, "no %s key signs now",
				  alg ? alg : "ES256");
	}
	hdr = cjose_header_new(&cerr);
	if (!hdr || !cjose_header_set(hdr, CJOSE_HDR_ALG, k->alg, &cerr) ||
	    !cjose_header_set(hdr, CJOSE_HDR_KID, k->kid, &cerr) ||
	    !cjose_header_set(hdr, "typ", typ, &cerr) ||
	    !(jws = cjose_jws_sign(k->jwk, hdr, (const uint8_t *)payload,
				   strlen(payload), &cerr)) ||
	    !cjose_jws_export(jws, &compact, &cerr))
		rc = hc_err_set(err, HC_EINTERNAL, "signing failed: %s",
				cerr.message);
	else
		*out = strdup(compact);
	pthread_mutex_unlock(&p->lock);
	cjose_jws_release(jws);
	cjose_header_release(hdr);
	free(payload);
	if (rc == HC_OK && !*out)
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	return rc;
}

int idp_jwt_verify(struct idp *p, const char *token, const char *typ,
		   json_t **claims, struct hc_err *err)
{
	cjose_err cerr;
	cjose_jws_t *jws = hc_jws_compact_ok(token, 16384)
				   ? cjose_jws_import(token, strlen(token),
						      &cerr)
				   : NULL;
	cjose_header_t *hdr;
	const char *alg, *kid, *htyp;
	const struct idp_key *k;
	uint8_t *plain = NULL;
	size_t plen = 0;
	json_t *c = NULL;
	struct idp_config *cfg;
	int rc = HC_EINVAL;
	time_t now = time(NULL);

	if (!jws)
		return hc_err_set(err, HC_EINVAL, "not a signed token");
	hdr = cjose_jws_get_protected(jws);
	alg = cjose_header_get(hdr, CJOSE_HDR_ALG, &cerr);
	kid = cjose_header_get(hdr, CJOSE_HDR_KID, &cerr);
	htyp = cjose_header_get(hdr, "typ", &cerr);
	pthread_mutex_lock(&p->lock);
	k = idp_keys_find(p->keys, kid, now);
	/* the key is ours, chosen by kid; the token's alg must be that
	 * key's: a header never picks the algorithm or brings a key */
	if (!alg || !k || strcmp(alg, k->alg) != 0) {
		pthread_mutex_unlock(&p->lock);
		hc_err_set(err, HC_EINVAL, "unknown signing key");
		goto out;
	}
	if (!cjose_jws_verify(jws, k->jwk, &cerr)) {
		pthread_mutex_unlock(&p->lock);
		hc_err_set(err, HC_EINVAL, "bad signature");
		goto out;
	}
	pthread_mutex_unlock(&p->lock);
	if (typ && (!htyp || strcasecmp(htyp, typ) != 0)) {
		hc_err_set(err, HC_EINVAL, "wrong token type");
		goto out;
	}
	if (!cjose_jws_get_plaintext(jws, &plain, &plen, &cerr) ||
	    !(c = json_loadb((const char *)plain, plen, 0, NULL))) {
		hc_err_set(err, HC_EINVAL, "unreadable claims");
		goto out;
	}
	cfg = idp_config(p);
	if (!hc_json_str(c, "iss") ||
	    strcmp(hc_json_str(c, "iss"), cfg->issuer) != 0) {
		idp_config_unref(cfg);
		hc_err_set(err, HC_EINVAL, "wrong issuer");
		goto out;
	}
	idp_config_unref(cfg);
	if (json_integer_value(json_object_get(c, "exp")) + 30 < now) {
		hc_err_set(err, HC_EINVAL, "the token has expired");
		goto out;
	}
	*claims = c;
	c = NULL;
	rc = HC_OK;
out:
	json_decref(c);
	cjose_jws_release(jws);
	return rc;
}

/* ---- passwords ---------------------------------------------------------------------- */

/* argon2id with the RFC 9106 second recommended option (64 MiB, t=3). */
int idp_password_hash(const char *password, char **out, struct hc_err *err)
{
	unsigned char salt[16];
	size_t len = argon2_encodedlen(3, 65536, 1, sizeof(salt), 32,
				       Argon2_id);
	char *enc = malloc(len);
	if (!enc)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt) ||
	    argon2id_hash_encoded(3, 65536, 1, password, strlen(password),
				  salt, sizeof(salt), 32, enc,
				  len) != ARGON2_OK) {
		free(enc);
		return hc_err_set(err, HC_EINTERNAL, "hashing failed");
	}
	*out = enc;
	return HC_OK;
}

bool idp_secret_check(const char *stored, const char *secret)
{
	char hash[65];
	if (!stored || !secret)
		return false;
	if (strncmp(stored, "sha256:", 7) != 0)
		return idp_password_check(stored, secret);
	idp_hash(secret, hash);
	return strlen(stored + 7) == 64 &&
	       CRYPTO_memcmp(stored + 7, hash, 64) == 0;
}

int idp_secret_hash(char *out, size_t size, const char *secret)
{
	char hash[65];
	idp_hash(secret, hash);
	return snprintf(out, size, "sha256:%s", hash) < (int)size ? 0 : -1;
}

bool idp_password_check(const char *encoded, const char *password)
{
	return encoded && password &&
	       argon2id_verify(encoded, password, strlen(password)) ==
		       ARGON2_OK;
}

/* ---- TOTP --------------------------------------------------------------------------- */

int idp_totp_check(struct hc_conn *c, const char *username,
		   const char *secret, const char *code, struct hc_err *err)
{
	char *raw = NULL;
	size_t rawlen = 0;
	int pos = 0, rc;
	uint64_t step = 0;

	if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return hc_err_set(err, HC_EINVAL, "a 6-digit code is needed");
	if (oath_base32_decode(secret, strlen(secret), &raw, &rawlen) !=
	    OATH_OK)
		return hc_err_set(err, HC_EINTERNAL, "the TOTP secret is bad");
	rc = oath_totp_validate3(raw, rawlen, time(NULL), 30, 0, 1, &pos,
				 &step, code);
	free(raw);
	if (rc < 0)
		return hc_err_set(err, HC_EINVAL, "the code is not valid");
	/* Each step's code works once, and never an older one after it:
	 * one statement records the step only if it is newer, so two logins
	 * racing with the same code cannot both pass. */
	{
		struct hc_value p[] = { hc_vtext(username),
					hc_vint((int64_t)step) };
		rc = hc_exec(c,
			     "INSERT INTO idp_totp_used (username, last_step) "
			     "VALUES (?, ?) ON CONFLICT(username) DO UPDATE "
			     "SET last_step = excluded.last_step WHERE "
			     "idp_totp_used.last_step < excluded.last_step",
			     p, 2, err);
	}
	if (rc == HC_OK && hc_changes(c) != 1)
		rc = hc_err_set(err, HC_EINVAL, "the code was already used");
	return rc;
}
