/*
 * jwks.c - the trusted issuers' documents: discovery, JWKS and the token
 * endpoint, fetched with libcurl. A key set is immutable once built and
 * reference-counted, so that checking a token needs no lock; fetching again
 * (a key we do not know, or an old set) swaps the set whole.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_internal.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

#define FETCH_TIMEOUT_S 5L
#define FETCH_MAX (1024 * 1024)

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct hc_buf *b = ctx;
	if (b->len + size * n > FETCH_MAX)
		return 0;
	return hc_buf_add(b, data, size * n) == HC_OK ? size * n : 0;
}

/*
 * GET url, or POST form (with Basic credentials user:pass when given), and
 * parse a JSON object. On failure why gets a line for the log.
 */
int hc__auth_http_json(const char *url, const char *form, const char *user,
		       const char *pass, json_t **out, char *why,
		       size_t why_size)
{
	CURL *h = curl_easy_init();
	struct hc_buf body = HC_BUF_INIT(FETCH_MAX);
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	json_error_t je;
	CURLcode cc;
	int rc = HC_EIO;

	*out = NULL;
	if (!h) {
		snprintf(why, why_size, "out of memory");
		return HC_ENOMEM;
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, FETCH_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, FETCH_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (form) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
		if (user) {
			curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
			curl_easy_setopt(h, CURLOPT_USERNAME, user);
			curl_easy_setopt(h, CURLOPT_PASSWORD, pass ? pass : "");
		}
	}
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		snprintf(why, why_size, "%s: %s", url,
			 errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	*out = body.data ? json_loadb(body.data, body.len, 0, &je) : NULL;
	if (status != 200) {
		const char *e = hc_json_str(*out, "error_description");
		snprintf(why, why_size, "%s: HTTP %ld%s%s", url, status,
			 e ? ": " : "", e ? e : "");
		json_decref(*out);
		*out = NULL;
		goto out;
	}
	if (!json_is_object(*out)) {
		snprintf(why, why_size, "%s: not a JSON object", url);
		json_decref(*out);
		*out = NULL;
		goto out;
	}
	rc = HC_OK;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	hc_buf_release(&body);
	return rc;
}

/* ---- key sets ----------------------------------------------------------------- */

void hc__keyset_put(struct hc__keyset *ks)
{
	if (!ks || __atomic_sub_fetch(&ks->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < ks->n; i++)
		cjose_jwk_release(ks->keys[i].jwk);
	free(ks->keys);
	free(ks);
}

/* The key's base64url members decode (libcjose asserts on some malformed
 * base64, so a broken JWKS must not reach it). */
static bool members_ok(json_t *k)
{
	static const char *const names[] = { "n", "e", "x", "y", NULL };
	for (const char *const *m = names; *m; m++) {
		json_t *v = json_object_get(k, *m);
		const char *s = json_string_value(v);
		size_t n;
		if (!v)
			continue;
		if (!s)
			return false;
		n = strlen(s);
		if (!n || n % 4 == 1 ||
		    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
			      "wxyz0123456789-_") != n)
			return false;
	}
	return true;
}

/* The keys of a JWKS document usable to verify signatures: RSA and EC
 * keys whose "use", when given, is "sig". */
static struct hc__keyset *keyset_from(json_t *jwks, char *why,
				      size_t why_size)
{
	json_t *keys = json_object_get(jwks, "keys"), *k;
	struct hc__keyset *ks = calloc(1, sizeof(*ks));
	size_t i;
	if (!ks)
		return NULL;
	ks->refs = 1;
	if (!json_is_array(keys)) {
		snprintf(why, why_size, "the JWKS has no \"keys\" list");
		free(ks);
		return NULL;
	}
	ks->keys = calloc(json_array_size(keys) + 1, sizeof(*ks->keys));
	if (!ks->keys) {
		free(ks);
		return NULL;
	}
	json_array_foreach(keys, i, k)
	{
		const char *kty = hc_json_str(k, "kty");
		const char *use = hc_json_str(k, "use");
		struct hc__key *key = &ks->keys[ks->n];
		cjose_err cerr;
		char *text;
		if (!kty || (use && strcmp(use, "sig") != 0) ||
		    (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0) ||
		    !members_ok(k) || json_object_get(k, "d"))
			continue; /* and never a private key */
		text = json_dumps(k, JSON_COMPACT);
		key->jwk = text ? cjose_jwk_import(text, strlen(text), &cerr)
				: NULL;
		free(text);
		if (!key->jwk)
			continue;
		snprintf(key->kid, sizeof(key->kid), "%s",
			 hc_json_str(k, "kid") ? hc_json_str(k, "kid") : "");
		key->has_kid = hc_json_str(k, "kid") != NULL;
		snprintf(key->kty, sizeof(key->kty), "%s", kty);
		snprintf(key->crv, sizeof(key->crv), "%s",
			 hc_json_str(k, "crv") ? hc_json_str(k, "crv") : "");
		snprintf(key->alg, sizeof(key->alg), "%s",
			 hc_json_str(k, "alg") ? hc_json_str(k, "alg") : "");
		ks->n++;
	}
	return ks;
}

/* Fetch discovery (once) and the JWKS of an issuer. Called with the
 * issuer's lock held. */
static int fetch(struct hc__issuer *is, char *why, size_t why_size)
{
	json_t *doc = NULL;
	struct hc__keyset *ks;
	int rc;
	if (!is->jwks_uri) {
		char url[1100];
		snprintf(url, sizeof(url), "%s%s/.well-known/openid-configuration",
			 is->iss,
			 is->iss[strlen(is->iss) - 1] == '/' ? "" : "");
		/* issuer "https://x/realms/r" -> ".../realms/r/.well-known/..." */
		if (is->iss[strlen(is->iss) - 1] == '/')
			snprintf(url, sizeof(url),
				 "%s.well-known/openid-configuration", is->iss);
		rc = hc__auth_http_json(url, NULL, NULL, NULL, &doc, why,
					why_size);
		if (rc != HC_OK)
			return rc;
		/* the document must be the issuer's own (OIDC Discovery §4.3) */
		if (!hc_json_str(doc, "issuer") ||
		    strcmp(hc_json_str(doc, "issuer"), is->iss) != 0 ||
		    !hc_json_str(doc, "jwks_uri")) {
			snprintf(why, why_size,
				 "%s: the discovery document is for another "
				 "issuer or has no jwks_uri",
				 url);
			json_decref(doc);
			return HC_EIO;
		}
		is->jwks_uri = strdup(hc_json_str(doc, "jwks_uri"));
		if (hc_json_str(doc, "token_endpoint"))
			is->token_endpoint =
				strdup(hc_json_str(doc, "token_endpoint"));
		if (hc_json_str(doc, "authorization_endpoint"))
			is->authorization_endpoint = strdup(
				hc_json_str(doc, "authorization_endpoint"));
		if (hc_json_str(doc, "end_session_endpoint"))
			is->end_session_endpoint = strdup(
				hc_json_str(doc, "end_session_endpoint"));
		json_decref(doc);
		doc = NULL;
		if (!is->jwks_uri)
			return HC_ENOMEM;
	}
	rc = hc__auth_http_json(is->jwks_uri, NULL, NULL, NULL, &doc, why,
				why_size);
	if (rc != HC_OK)
		return rc;
	ks = keyset_from(doc, why, why_size);
	json_decref(doc);
	if (!ks)
		return HC_EIO;
	hc__keyset_put(is->keys);
	is->keys = ks;
	is->fetched_ms = hc_clock_ms();
	return HC_OK;
}

/*
 * The issuer's key set (a reference), fetching it when there is none, when
 * it is older than the maximum age, or when want_kid is not in it and the
 * last fetch is older than the refetch interval. NULL with why filled when
 * there is no key set at all.
 */
struct hc__keyset *hc__issuer_keys(struct hc__issuer *is, const char *want_kid,
				   int refetch_ms, char *why, size_t why_size)
{
	struct hc__keyset *ks;
	int64_t now = hc_clock_ms();
	bool stale, missing = false;

	pthread_mutex_lock(&is->lock);
	stale = !is->keys || now - is->fetched_ms > HC__JWKS_MAX_AGE_MS;
	if (!stale && want_kid) {
		missing = true;
		for (size_t i = 0; i < is->keys->n && missing; i++)
			missing = strcmp(is->keys->keys[i].kid, want_kid) != 0;
	}
	if ((stale || missing) &&
	    (!is->last_try_ms || now - is->last_try_ms >= refetch_ms ||
	     !is->keys)) {
		char e[256] = "";
		is->last_try_ms = now;
		if (fetch(is, e, sizeof(e)) != HC_OK)
			snprintf(is->last_error, sizeof(is->last_error), "%s",
				 e);
		else
			is->last_error[0] = '\0';
	}
	ks = is->keys;
	if (ks)
		__atomic_add_fetch(&ks->refs, 1, __ATOMIC_ACQ_REL);
	else
		snprintf(why, why_size, "the keys of issuer %s cannot be "
					"fetched: %s",
			 is->iss, is->last_error[0] ? is->last_error : "?");
	pthread_mutex_unlock(&is->lock);
	return ks;
}

/* The issuer's token endpoint (from discovery), fetching it if needed. */
int hc__issuer_token_endpoint(struct hc__issuer *is, char *out, size_t size,
			      char *why, size_t why_size)
{
	int rc = HC_OK;
	pthread_mutex_lock(&is->lock);
	if (!is->token_endpoint)
		rc = fetch(is, why, why_size);
	if (rc == HC_OK && !is->token_endpoint) {
		snprintf(why, why_size, "issuer %s names no token endpoint",
			 is->iss);
		rc = HC_EIO;
	}
	if (rc == HC_OK)
		snprintf(out, size, "%s", is->token_endpoint);
	pthread_mutex_unlock(&is->lock);
	return rc;
}

int hc__issuer_endpoints(struct hc__issuer *is, struct hc__endpoints *out,
			 char *why, size_t why_size)
{
	int rc = HC_OK;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&is->lock);
	if (!is->jwks_uri)
		rc = fetch(is, why, why_size);
	if (rc == HC_OK && (!is->token_endpoint ||
			    !is->authorization_endpoint)) {
		snprintf(why, why_size,
			 "issuer %s names no authorization or token endpoint",
			 is->iss);
		rc = HC_EIO;
	}
	if (rc == HC_OK) {
		snprintf(out->authorization, sizeof(out->authorization), "%s",
			 is->authorization_endpoint);
		snprintf(out->token, sizeof(out->token), "%s",
			 is->token_endpoint);
		snprintf(out->end_session, sizeof(out->end_session), "%s",
			 is->end_session_endpoint ? is->end_session_endpoint
						  : "");
	}
	pthread_mutex_unlock(&is->lock);
	return rc;
}
