/*
 * login.c - people's browsers log in to a hub's pages: the hub is a
 * confidential client of its first issuer and keeps the tokens itself (a
 * backend for the frontend: no token ever reaches the page's script).
 *
 *   GET /auth/login?next=/now   a pending login (state, PKCE verifier and
 *                               nonce, kept in the store under the hash of
 *                               the state, 10 minutes) and a cookie that
 *                               binds it to this browser; then off to the
 *                               provider's authorization endpoint.
 *   GET /auth/callback          the state must be the browser's and
 *                               pending (once); the code is exchanged at
 *                               the token endpoint (client_secret_basic);
 *                               the ID token (issuer, audience, nonce,
 *                               signature) and the access token (this
 *                               hub's audience) are checked; a session
 *                               starts and its cookie is set; back to next
 *                               (a path on this hub, never another site).
 *   POST /auth/logout           ends the session, then the provider's
 *                               (RP-initiated logout) when it has an
 *                               end_session_endpoint.
 *   GET /auth/signed-out        says so, with a way back in.
 *
 * A session is a random id (the cookie) stored as its SHA-256 hash; its
 * tokens are stored encrypted (AES-256-GCM) with a key derived from the id
 * itself, so that the database alone gives neither a session nor a token.
 * A request with the cookie on a page route (HC_ROUTE_SESSION) checks the
 * session's access token as a bearer token would be checked; when it has
 * expired the refresh token gets new ones (one refresh at a time per hub),
 * and when there is none or it is refused the session ends: log in again.
 * Sessions end when their refresh token does (or their access token, when
 * the provider gave no refresh token).
 */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth_internal.h"
#include "hubcore/buf.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"
#include "hubcore/view.h"

#define LOGIN_TTL_S 600       /* a login started must end within this */
#define MAX_PENDING 10000     /* logins in progress at once */
#define ID_BYTES 32           /* session ids, states, verifiers, nonces */
#define ID_CHARS 43           /* their base64url length */
#define MAX_NEXT 1024
#define LOGIN_SCOPE "openid profile"

/* ---- small pieces ------------------------------------------------------------ */

bool hc__auth_login_on(const struct hc_auth *a)
{
	return a && a->login_client_id && a->login_client_secret;
}

void hc_auth_session_cookie_name(const struct hc_hub *hub, char *out,
				 size_t size)
{
	snprintf(out, size, "foshub_session_%s", hub->def->short_name);
}

static void login_cookie_name(const struct hc_hub *hub, char *out,
			      size_t size)
{
	snprintf(out, size, "foshub_login_%s", hub->def->short_name);
}

const char *hc_auth_login_origin(const struct hc_auth *a, char *out,
				 size_t size)
{
	const char *iss, *host;
	if (!hc__auth_login_on(a))
		return NULL;
	iss = a->issuers[0].iss;
	host = strstr(iss, "://");
	if (!host)
		return NULL;
	host += 3;
	snprintf(out, size, "%.*s", (int)(host - iss + strcspn(host, "/")),
		 iss);
	return out;
}

/* A random id: ID_BYTES from the system's generator, base64url. */
static int random_id(char out[ID_CHARS + 1])
{
	unsigned char raw[ID_BYTES];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return HC_EIO;
	hc_base64url_encode(raw, sizeof(raw), out);
	explicit_bzero(raw, sizeof(raw));
	return HC_OK;
}

static bool id_ok(const char *s)
{
	return s && strlen(s) == ID_CHARS &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-_") == ID_CHARS;
}

static void sha256(const char *label, const char *s, unsigned char out[32])
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned int n = 32;
	EVP_DigestInit_ex(m, EVP_sha256(), NULL);
	EVP_DigestUpdate(m, label, strlen(label) + 1);
	EVP_DigestUpdate(m, s, strlen(s));
	EVP_DigestFinal_ex(m, out, &n);
	EVP_MD_CTX_free(m);
}

/* The store's key of an id: hex SHA-256, never the id itself. */
static void id_hash(const char *id, char out[65])
{
	unsigned char h[32];
	sha256("foshub session id", id, h);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static bool same(const char *a, const char *b)
{
	size_t n = strlen(a);
	unsigned char d = 0;
	if (n != strlen(b))
		return false;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Percent-encode everything but RFC 3986's unreserved characters. */
static void pct(struct hc_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			hc_buf_addc(b, (char)*p);
		} else {
			hc_buf_addc(b, '%');
			hc_buf_addc(b, hex[*p >> 4]);
			hc_buf_addc(b, hex[*p & 15]);
		}
	}
}

static void query(struct hc_buf *b, const char *name, const char *value)
{
	hc_buf_addc(b, strchr(b->data ? b->data : "", '?') ? '&' : '?');
	hc_buf_adds(b, name);
	hc_buf_addc(b, '=');
	pct(b, value);
}

static void form(struct hc_buf *b, const char *name, const char *value)
{
	if (b->len)
		hc_buf_addc(b, '&');
	hc_buf_adds(b, name);
	hc_buf_addc(b, '=');
	pct(b, value);
}

/*
 * Where to go after the login: a path of this hub ("/now?domain=x"), never
 * another site ("//evil.example", "https://...", "/\evil") nor the login
 * itself. Anything else goes to the hub's page (or "/").
 */
static const char *safe_next(const struct hc_hub *hub, const char *next)
{
	const char *home = hc_view_page_path(hub->def);
	if (!home)
		home = "/";
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' ||
	    strlen(next) > MAX_NEXT || strchr(next, '\\') ||
	    strncmp(next, "/auth/", 6) == 0)
		return home;
	for (const unsigned char *p = (const unsigned char *)next; *p; p++)
		if (*p < 0x21 || *p == 0x7f)
			return home;
	return next;
}

/* The hub's own URL (its audience) with path appended. */
static void own_url(const struct hc_auth *a, const char *path, char *out,
		    size_t size)
{
	const char *aud = hc_auth_audience(a);
	size_t n = strlen(aud);
	while (n && aud[n - 1] == '/')
		n--;
	snprintf(out, size, "%.*s%s", (int)n, aud, path);
}

/* Whether the authority host[:port] names this machine's loopback. */
static bool loopback_authority(const char *auth, size_t n)
{
	size_t h = n;
	if (n && auth[0] == '[') /* [::1]:port */
		return n >= 5 && strncmp(auth, "[::1]", 5) == 0 &&
		       (n == 5 || auth[5] == ':');
	for (size_t i = 0; i < n; i++)
		if (auth[i] == ':') {
			h = i;
			break;
		}
	return (h == 9 && strncasecmp(auth, "localhost", 9) == 0) ||
	       (h > 4 && strncmp(auth, "127.", 4) == 0);
}

/*
 * A browser that opened the hub by another loopback name than its own
 * (localhost:8001 for 127.0.0.1:8001): the login cookie would be set on
 * the name the browser used and the identity provider would send it back
 * to the other, where the cookie is not. Such a browser is first sent to
 * the hub's own URL. Only between loopback names, so that a proxy that
 * rewrites Host cannot make this a loop.
 */
static bool other_loopback_name(const struct hc_req *req,
				const struct hc_auth *a)
{
	const char *host = hc_req_header(req, "Host");
	const char *aud = hc_auth_audience(a);
	const char *own = strstr(aud, "://");
	size_t n;
	if (!host || !own)
		return false;
	own += 3;
	n = strcspn(own, "/");
	if (!loopback_authority(own, n) ||
	    !loopback_authority(host, strlen(host)))
		return false;
	return !(strlen(host) == n && strncasecmp(host, own, n) == 0);
}

static bool https_hub(const struct hc_auth *a)
{
	return strncmp(hc_auth_audience(a), "https://", 8) == 0;
}

static void set_cookie(struct hc_resp *resp, const struct hc_auth *a,
		       const char *name, const char *value, const char *path,
		       long max_age)
{
	char c[512];
	snprintf(c, sizeof(c), "%s=%s; Path=%s; HttpOnly; SameSite=Lax; "
			       "Max-Age=%ld%s",
		 name, value, path, max_age, https_hub(a) ? "; Secure" : "");
	hc_resp_header(resp, "Set-Cookie", c);
}

static int redirect(struct hc_resp *resp, int status, const char *location)
{
	hc_resp_header(resp, "Location", location);
	hc_resp_header(resp, "Cache-Control", "no-store");
	hc_resp_header(resp, "Referrer-Policy", "no-referrer");
	return hc_resp_empty(resp, status);
}

/* A small page of the login's own (an error, signed out), with the same
 * strict policy as the hub's pages. */
static int small_page(struct hc_req *req, struct hc_resp *resp, int status,
		      const char *title, const char *text, const char *link,
		      const char *link_text)
{
	struct hc_buf b = HC_BUF_INIT(64 * 1024);
	int rc = hc_html(&b,
			 "<!doctype html>\n<html lang=\"en\"><head><meta "
			 "charset=\"utf-8\"><meta name=\"viewport\" "
			 "content=\"width=device-width, initial-scale=1\">"
			 "<meta name=\"color-scheme\" content=\"light dark\">"
			 "<title>%s · %s</title><link rel=\"stylesheet\" "
			 "href=\"/ui/hub.css\"></head>\n<body><header "
			 "class=\"top\"><div><p class=\"hub\">%s</p><h1>%s"
			 "</h1></div></header><main id=\"main\"><section "
			 "class=\"card\"><p class=\"%s\" role=\"%s\">%s</p><p><a "
			 "href=\"%s\">%s</a></p></section></main></body>"
			 "</html>\n",
			 title, req->hub->def->name, req->hub->def->name,
			 title, status >= 400 ? "error" : "note",
			 status >= 400 ? "alert" : "status", text, link,
			 link_text);
	if (rc != HC_OK) {
		hc_buf_release(&b);
		return rc;
	}
	free(resp->body);
	resp->body = hc_buf_detach(&b, &resp->body_len);
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	hc_resp_header(resp, "Content-Security-Policy",
		       "default-src 'none'; style-src 'self'; base-uri 'none'; "
		       "form-action 'self'; frame-ancestors 'none'");
	hc_resp_header(resp, "X-Frame-Options", "DENY");
	hc_resp_header(resp, "Referrer-Policy", "no-referrer");
	hc_resp_header(resp, "Cache-Control", "no-store");
	return HC_OK;
}

/* A login that went wrong: the page says why and offers to start again. */
static int login_failed(struct hc_req *req, struct hc_resp *resp, int status,
			const char *why)
{
	hc_log_warn(&req->hub->log, "page login refused: %s", why);
	return small_page(req, resp, status, "Sign-in failed", why,
			  "/auth/login", "Sign in again");
}

static int no_login(struct hc_req *req, struct hc_err *err)
{
	return hc_err_set(err, HC_ENOTFOUND,
			  "%s has no page login (%s)", req->hub->def->name,
			  req->hub->auth ? "give it --login-client-id and "
					   "--login-client-secret-file"
					 : "identity checks are off");
}

/* ---- sealed tokens ----------------------------------------------------------- */

/* The key that seals a session's tokens: derived from its id, which only
 * the browser keeps. */
static void seal_key(const char *sid, unsigned char key[32])
{
	sha256("foshub session key", sid, key);
}

/* base64url(iv | ciphertext | tag) of text. */
static char *seal(const char *sid, const char *text)
{
	unsigned char key[32], iv[12], tag[16], *buf = NULL;
	size_t n = strlen(text);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	char *out = NULL;
	int len = 0, fin = 0;

	seal_key(sid, key);
	buf = malloc(12 + n + 16);
	if (!x || !buf || RAND_bytes(iv, sizeof(iv)) != 1 ||
	    EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, iv) != 1 ||
	    EVP_EncryptUpdate(x, buf + 12, &len, (const unsigned char *)text,
			      (int)n) != 1 ||
	    EVP_EncryptFinal_ex(x, buf + 12 + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		goto out;
	memcpy(buf, iv, 12);
	memcpy(buf + 12 + len + fin, tag, 16);
	out = malloc(4 * ((12 + n + 16 + 2) / 3) + 1);
	if (out)
		hc_base64url_encode(buf, 12 + (size_t)(len + fin) + 16, out);
out:
	explicit_bzero(key, sizeof(key));
	if (buf) {
		explicit_bzero(buf, 12 + n + 16);
		free(buf);
	}
	EVP_CIPHER_CTX_free(x);
	return out;
}

/* The JSON object sealed by seal, or NULL when it does not open. */
static json_t *unseal(const char *sid, const char *sealed)
{
	unsigned char key[32], *raw, *plain = NULL;
	size_t n = strlen(sealed), len;
	EVP_CIPHER_CTX *x = NULL;
	json_t *out = NULL;
	int l = 0, fin = 0;

	raw = malloc(n + 1);
	if (!raw)
		return NULL;
	len = hc_base64url_decode(sealed, n, raw, n);
	if (len == (size_t)-1 || len < 12 + 16 + 2)
		goto out;
	plain = malloc(len);
	x = EVP_CIPHER_CTX_new();
	seal_key(sid, key);
	if (plain && x &&
	    EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, raw) == 1 &&
	    EVP_DecryptUpdate(x, plain, &l, raw + 12, (int)(len - 28)) == 1 &&
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16,
				raw + len - 16) == 1 &&
	    EVP_DecryptFinal_ex(x, plain + l, &fin) == 1) {
		out = json_loadb((const char *)plain, (size_t)(l + fin), 0,
				 NULL);
		if (out && !json_is_object(out)) {
			json_decref(out);
			out = NULL;
		}
	}
	explicit_bzero(key, sizeof(key));
	if (plain) {
		explicit_bzero(plain, len);
		free(plain);
	}
out:
	EVP_CIPHER_CTX_free(x);
	free(raw);
	return out;
}

/* ---- the token endpoint ---------------------------------------------------------- */

/* POST a grant to the token endpoint as the login client
 * (client_secret_basic: id and secret form-encoded, RFC 6749 §2.3.1). */
static int token_request(struct hc_auth *a, const char *endpoint,
			 const char *body, json_t **out, char *why,
			 size_t why_size)
{
	struct hc_buf id = HC_BUF_INIT(1024), secret = HC_BUF_INIT(1024);
	int rc;
	pct(&id, a->login_client_id);
	pct(&secret, a->login_client_secret);
	rc = id.data && secret.data
		     ? hc__auth_http_json(endpoint, body, id.data, secret.data,
					  out, why, why_size)
		     : HC_ENOMEM;
	if (secret.data)
		explicit_bzero(secret.data, secret.len);
	hc_buf_release(&id);
	hc_buf_release(&secret);
	return rc;
}

/* ---- sessions in the store ---------------------------------------------------------- */

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* The session's expiry from a token response: its refresh token's (or
 * its access token's when there is none). */
static int64_t session_expiry(json_t *res, const struct hc_identity *id)
{
	json_t *r = json_object_get(res, "refresh_expires_in");
	if (!hc_json_str(res, "refresh_token"))
		return id->exp;
	if (json_is_integer(r) && json_integer_value(r) > 0)
		return now_s() + json_integer_value(r);
	/* a refresh token without a stated lifetime: a working day, then
	 * log in again */
	return now_s() + 8 * 3600;
}

static json_t *tokens_of(json_t *res, const char *old_id_token)
{
	json_t *t = json_object();
	const char *idt = hc_json_str(res, "id_token");
	json_object_set_new(t, "access_token",
			    json_string(hc_json_str(res, "access_token")));
	if (hc_json_str(res, "refresh_token"))
		json_object_set_new(t, "refresh_token",
				    json_string(hc_json_str(res,
							    "refresh_token")));
	if (idt || old_id_token)
		json_object_set_new(t, "id_token",
				    json_string(idt ? idt : old_id_token));
	return t;
}

static char *seal_json(const char *sid, json_t *t)
{
	char *text = json_dumps(t, JSON_COMPACT), *s;
	if (!text)
		return NULL;
	s = seal(sid, text);
	explicit_bzero(text, strlen(text));
	free(text);
	return s;
}

static int session_create(struct hc_conn *c, const char *sid,
			  const char *sub, const char *name, json_t *tokens,
			  int64_t expires, struct hc_err *err)
{
	char hash[65], *sealed = seal_json(sid, tokens);
	int rc;
	if (!sealed)
		return hc_err_set(err, HC_ENOMEM, "cannot seal the tokens");
	id_hash(sid, hash);
	{
		struct hc_value v[] = { hc_vint(now_s()) };
		/* sessions that ended stay no longer than the next login */
		rc = hc_exec(c, "DELETE FROM auth_sessions WHERE expires < ?",
			     v, 1, err);
	}
	if (rc == HC_OK) {
		struct hc_value v[] = { hc_vtext(hash), hc_vtext(sub),
					hc_vtext(name), hc_vtext(sealed),
					hc_vint(expires), hc_vint(now_s()) };
		rc = hc_exec(c,
			     "INSERT INTO auth_sessions (id_hash, sub, name, "
			     "tokens, expires, created) VALUES (?, ?, ?, ?, ?, "
			     "?)",
			     v, 6, err);
	}
	free(sealed);
	return rc;
}

struct session_row {
	char sub[256];
	char name[256];
	json_t *tokens; /* unsealed */
	int64_t expires;
};

/* The session of id sid: HC_OK with row filled, HC_ENOTFOUND when there
 * is none (or it has ended, or its tokens do not open). */
static int session_load(struct hc_conn *c, const char *sid,
			struct session_row *row, struct hc_err *err)
{
	char hash[65];
	struct hc_stmt *st = NULL;
	int rc, step;
	memset(row, 0, sizeof(*row));
	id_hash(sid, hash);
	{
		struct hc_value v[] = { hc_vtext(hash), hc_vint(now_s()) };
		rc = hc_query(c, &st,
			      "SELECT sub, name, tokens, expires FROM "
			      "auth_sessions WHERE id_hash = ? AND expires >= ?",
			      v, 2, err);
	}
	if (rc != HC_OK)
		return rc;
	step = hc_stmt_step(st, err);
	if (step == HC_ROW_READY) {
		snprintf(row->sub, sizeof(row->sub), "%s",
			 hc_stmt_text(st, 0, NULL));
		snprintf(row->name, sizeof(row->name), "%s",
			 hc_stmt_text(st, 1, NULL));
		row->tokens = unseal(sid, hc_stmt_text(st, 2, NULL));
		row->expires = hc_stmt_int(st, 3);
		rc = row->tokens ? HC_OK
				 : hc_err_set(err, HC_ENOTFOUND,
					      "the session's tokens do not "
					      "open");
	} else {
		rc = step == HC_ROW_DONE ? hc_err_set(err, HC_ENOTFOUND,
						  "no such session")
				     : step;
	}
	hc_stmt_finish(st);
	return rc;
}

static int session_delete(struct hc_conn *c, const char *sid,
			  struct hc_err *err)
{
	char hash[65];
	struct hc_value v[1];
	id_hash(sid, hash);
	v[0] = hc_vtext(hash);
	return hc_exec(c, "DELETE FROM auth_sessions WHERE id_hash = ?", v, 1,
		       err);
}

/* ---- checking a session ---------------------------------------------------------------- */

static int refused(struct hc_auth_failure *why, const char *error,
		   const char *text)
{
	why->error = error;
	why->status = 401;
	snprintf(why->description, sizeof(why->description), "%s", text);
	return HC_EAUTH;
}

/* New tokens for a session whose access token expired; called with the
 * refresh lock held. HC_OK with row->tokens replaced and the store
 * updated. */
static int session_refresh(struct hc_auth *a, struct hc_conn *c,
			   const char *sid, struct session_row *row,
			   char *why, size_t why_size)
{
	struct hc__endpoints ep;
	struct hc_buf body = HC_BUF_INIT(16 * 1024);
	struct hc_identity id;
	struct hc_auth_failure f;
	struct hc_err err = { 0 };
	json_t *res = NULL, *t = NULL;
	char hash[65], *sealed = NULL;
	int rc;

	rc = hc__issuer_endpoints(&a->issuers[0], &ep, why, why_size);
	if (rc != HC_OK)
		return rc;
	form(&body, "grant_type", "refresh_token");
	form(&body, "refresh_token",
	     hc_json_str(row->tokens, "refresh_token"));
	form(&body, "resource", hc_auth_audience(a));
	rc = body.data ? token_request(a, ep.token, body.data, &res, why,
				       why_size)
		       : HC_ENOMEM;
	if (body.data)
		explicit_bzero(body.data, body.len);
	hc_buf_release(&body);
	if (rc != HC_OK)
		return rc;
	rc = hc__auth_token_identity(a, hc_json_str(res, "access_token")
						? hc_json_str(res,
							      "access_token")
						: "",
				     &id, &f);
	if (rc == HC_OK && strcmp(id.sub, row->sub) != 0) {
		snprintf(why, why_size, "the refreshed token is for another "
					"user");
		rc = HC_EAUTH;
	} else if (rc != HC_OK) {
		snprintf(why, why_size, "the refreshed access token: %s",
			 f.description);
	}
	hc_identity_release(&id);
	if (rc == HC_OK) {
		t = tokens_of(res, hc_json_str(row->tokens, "id_token"));
		sealed = t ? seal_json(sid, t) : NULL;
		rc = sealed ? HC_OK : HC_ENOMEM;
	}
	if (rc == HC_OK) {
		struct hc_value v[3];
		id_hash(sid, hash);
		v[0] = hc_vtext(sealed);
		v[1] = hc_vint(session_expiry(res, &id));
		v[2] = hc_vtext(hash);
		rc = hc_exec(c,
			     "UPDATE auth_sessions SET tokens = ?, expires = ? "
			     "WHERE id_hash = ?",
			     v, 3, &err);
		if (rc != HC_OK)
			snprintf(why, why_size, "%s", err.msg);
	}
	if (rc == HC_OK) {
		json_decref(row->tokens);
		row->tokens = t;
		t = NULL;
	}
	free(sealed);
	json_decref(t);
	json_decref(res);
	return rc;
}

int hc__auth_session_identity(struct hc_req *req, struct hc_identity *id,
			      struct hc_auth_failure *why)
{
	struct hc_auth *a = req->hub->auth;
	struct session_row row;
	struct hc_err err = { 0 };
	struct hc_conn *c;
	char name[64];
	const char *sid;
	int rc;

	memset(why, 0, sizeof(*why));
	memset(id, 0, sizeof(*id));
	hc_auth_session_cookie_name(req->hub, name, sizeof(name));
	sid = hc_req_cookie(req, name);
	if (!sid)
		return refused(why, NULL, "sign in, or send a bearer token "
					  "(Authorization: Bearer ...)");
	if (!id_ok(sid))
		return refused(why, "invalid_token",
			       "the session cookie is not one this hub made");
	c = hc_req_db(req, &err);
	if (!c) {
		why->status = 503;
		snprintf(why->description, sizeof(why->description), "%s",
			 err.msg);
		return HC_EBUSY;
	}
	rc = session_load(c, sid, &row, &err);
	if (rc != HC_OK) {
		if (rc != HC_ENOTFOUND) {
			why->status = 503;
			snprintf(why->description, sizeof(why->description),
				 "%s", err.msg);
			return HC_EBUSY;
		}
		return refused(why, "invalid_token",
			       "the session has ended or is unknown; sign in "
			       "again");
	}
	rc = hc__auth_token_identity(a, hc_json_str(row.tokens,
						    "access_token")
						? hc_json_str(row.tokens,
							      "access_token")
						: "",
				     id, why);
	if (rc != HC_OK && why->status == 401 &&
	    hc_json_str(row.tokens, "refresh_token")) {
		char w[256] = "";
		struct session_row again;
		pthread_mutex_lock(&a->refresh_lock);
		/* another request may have refreshed it meanwhile, or
		 * ended it (a logout) */
		if (session_load(c, sid, &again, &err) != HC_OK) {
			pthread_mutex_unlock(&a->refresh_lock);
			json_decref(row.tokens);
			return refused(why, "invalid_token",
				       "the session has ended; sign in again");
		}
		json_decref(row.tokens);
		row = again;
		rc = hc__auth_token_identity(
			a,
			hc_json_str(row.tokens, "access_token")
				? hc_json_str(row.tokens, "access_token")
				: "",
			id, why);
		if (rc != HC_OK && why->status == 401) {
			rc = session_refresh(a, c, sid, &row, w, sizeof(w));
			if (rc == HC_OK)
				rc = hc__auth_token_identity(
					a,
					hc_json_str(row.tokens,
						    "access_token"),
					id, why);
			else
				hc_log_info(&req->hub->log,
					    "session of '%s' not refreshed: "
					    "%s",
					    row.sub, w);
		}
		pthread_mutex_unlock(&a->refresh_lock);
	}
	if (rc != HC_OK && why->status == 401) {
		/* nothing left to show for it: the session ends */
		session_delete(c, sid, &err);
		snprintf(why->description, sizeof(why->description),
			 "the session has expired; sign in again");
		why->error = "invalid_token";
	} else if (rc == HC_OK && strcmp(id->sub, row.sub) != 0) {
		hc_identity_release(id);
		rc = refused(why, "invalid_token",
			     "the session's token is for another user");
	}
	if (rc == HC_OK) {
		id->session = true;
		snprintf(id->name, sizeof(id->name), "%s",
			 row.name[0] ? row.name : id->username);
	}
	json_decref(row.tokens);
	return rc;
}

/* ---- GET /auth/login --------------------------------------------------------------- */

static int get_login(struct hc_req *req, struct hc_resp *resp,
		     struct hc_err *err)
{
	struct hc_auth *a = req->hub->auth;
	struct hc__endpoints ep;
	char state[ID_CHARS + 1], verifier[ID_CHARS + 1], nonce[ID_CHARS + 1];
	char hash[65], challenge[48], cb[1200], cookie[64], why[256] = "";
	unsigned char digest[32];
	unsigned int dn = 32;
	const char *next = safe_next(req->hub, hc_req_arg(req, "next"));
	struct hc_buf url = HC_BUF_INIT(8192);
	struct hc_conn *c;
	int64_t pending = 0;
	int rc;

	if (!hc__auth_login_on(a))
		return no_login(req, err);
	if (other_loopback_name(req, a)) {
		own_url(a, "/auth/login", cb, sizeof(cb));
		hc_buf_adds(&url, cb);
		query(&url, "next", next);
		rc = url.data ? redirect(resp, 302, url.data)
			      : hc_err_set(err, HC_ENOMEM, "out of memory");
		hc_buf_release(&url);
		return rc;
	}
	if (hc__issuer_endpoints(&a->issuers[0], &ep, why, sizeof(why)) !=
	    HC_OK) {
		hc_resp_header(resp, "Retry-After", "5");
		return hc_err_set(err, HC_EBUSY,
				  "the identity provider cannot be reached: %s",
				  why);
	}
	if (random_id(state) != HC_OK || random_id(verifier) != HC_OK ||
	    random_id(nonce) != HC_OK)
		return hc_err_set(err, HC_EIO, "no randomness");
	EVP_Digest(verifier, ID_CHARS, digest, &dn, EVP_sha256(), NULL);
	hc_base64url_encode(digest, sizeof(digest), challenge);
	c = hc_req_db(req, err);
	if (!c)
		return err->status;
	id_hash(state, hash);
	rc = hc_tx_begin(c, true, err);
	if (rc == HC_OK) {
		struct hc_value v[] = { hc_vint(now_s()) };
		rc = hc_exec(c, "DELETE FROM auth_logins WHERE expires < ?", v,
			     1, err);
	}
	if (rc == HC_OK)
		rc = hc_query_int(c, &pending,
				  "SELECT COUNT(*) FROM auth_logins", NULL, 0,
				  err);
	if (rc == HC_OK && pending >= MAX_PENDING) {
		hc_resp_header(resp, "Retry-After", "60");
		rc = hc_err_set(err, HC_EBUSY,
				"too many sign-ins are in progress; try again "
				"in a minute");
	}
	if (rc == HC_OK) {
		struct hc_value v[] = { hc_vtext(hash), hc_vtext(verifier),
					hc_vtext(nonce), hc_vtext(next),
					hc_vint(now_s() + LOGIN_TTL_S) };
		rc = hc_exec(c,
			     "INSERT INTO auth_logins (state_hash, verifier, "
			     "nonce, next, expires) VALUES (?, ?, ?, ?, ?)",
			     v, 5, err);
	}
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	if (rc != HC_OK)
		return rc;
	own_url(a, "/auth/callback", cb, sizeof(cb));
	hc_buf_adds(&url, ep.authorization);
	query(&url, "response_type", "code");
	query(&url, "client_id", a->login_client_id);
	query(&url, "redirect_uri", cb);
	query(&url, "scope", LOGIN_SCOPE);
	query(&url, "state", state);
	query(&url, "nonce", nonce);
	query(&url, "code_challenge", challenge);
	query(&url, "code_challenge_method", "S256");
	query(&url, "resource", hc_auth_audience(a));
	if (!url.data) {
		hc_buf_release(&url);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	/* the state is this browser's: the callback wants it back in this
	 * cookie as well as in the URL (no login forced on someone else) */
	login_cookie_name(req->hub, cookie, sizeof(cookie));
	set_cookie(resp, a, cookie, state, "/auth/callback", LOGIN_TTL_S);
	rc = redirect(resp, 302, url.data);
	hc_buf_release(&url);
	return rc;
}

/* ---- GET /auth/callback ------------------------------------------------------------ */

/* Take the pending login of state (once): its verifier, nonce and next. */
static int take_login(struct hc_conn *c, const char *state, char *verifier,
		      char *nonce, char *next, size_t next_size,
		      struct hc_err *err)
{
	char hash[65];
	struct hc_stmt *st = NULL;
	struct hc_value v[2];
	bool found = false;
	int rc;
	id_hash(state, hash);
	v[0] = hc_vtext(hash);
	v[1] = hc_vint(now_s());
	rc = hc_tx_begin(c, true, err);
	if (rc == HC_OK)
		rc = hc_query(c, &st,
			      "SELECT verifier, nonce, next FROM auth_logins "
			      "WHERE state_hash = ? AND expires >= ?",
			      v, 2, err);
	if (rc == HC_OK && hc_stmt_step(st, err) == HC_ROW_READY) {
		snprintf(verifier, ID_CHARS + 1, "%s",
			 hc_stmt_text(st, 0, NULL));
		snprintf(nonce, ID_CHARS + 1, "%s", hc_stmt_text(st, 1, NULL));
		snprintf(next, next_size, "%s", hc_stmt_text(st, 2, NULL));
		found = true;
	}
	hc_stmt_finish(st);
	if (rc == HC_OK)
		rc = hc_exec(c, "DELETE FROM auth_logins WHERE state_hash = ?",
			     v, 1, err);
	/* a state is good once: whoever deleted it first has it */
	if (rc == HC_OK && found && hc_changes(c) != 1)
		found = false;
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	if (rc == HC_OK && !found)
		rc = hc_err_set(err, HC_ENOTFOUND, "no such login");
	return rc;
}

/* Check the ID token of a login: ours (issuer, audience, nonce), signed
 * by the issuer. HC_OK with its claims (a new reference). */
static int check_id_token(struct hc_auth *a, const char *idt,
			  const char *nonce, json_t **claims, char *why,
			  size_t why_size)
{
	struct hc_auth_failure f = { 0 };
	struct hc__issuer *is = NULL;
	json_t *aud;
	int rc;
	*claims = NULL;
	if (!idt) {
		snprintf(why, why_size, "the provider sent no ID token");
		return HC_EAUTH;
	}
	rc = hc__auth_verify(a, idt, true, claims, &is, &f);
	if (rc != HC_OK) {
		snprintf(why, why_size, "the ID token: %s", f.description);
		return rc;
	}
	aud = json_object_get(*claims, "aud");
	if (is != &a->issuers[0])
		snprintf(why, why_size, "the ID token is from another issuer");
	else if (!hc__auth_aud_has(aud, a->login_client_id))
		snprintf(why, why_size, "the ID token is not for this client");
	else if (json_is_array(aud) && json_array_size(aud) > 1 &&
		 (!hc_json_str(*claims, "azp") ||
		  strcmp(hc_json_str(*claims, "azp"), a->login_client_id)))
		snprintf(why, why_size, "the ID token's azp is not this "
					"client");
	else if (!hc_json_str(*claims, "nonce") ||
		 !same(hc_json_str(*claims, "nonce"), nonce))
		snprintf(why, why_size, "the ID token's nonce is not this "
					"login's");
	else if (!hc_json_str(*claims, "sub") ||
		 !*hc_json_str(*claims, "sub"))
		snprintf(why, why_size, "the ID token has no sub");
	else
		return HC_OK;
	json_decref(*claims);
	*claims = NULL;
	return HC_EAUTH;
}

static int get_callback(struct hc_req *req, struct hc_resp *resp,
			struct hc_err *err)
{
	struct hc_auth *a = req->hub->auth;
	struct hc__endpoints ep;
	struct hc_identity id = { 0 };
	struct hc_auth_failure f = { 0 };
	struct hc_buf body = HC_BUF_INIT(16 * 1024);
	char cookie[64], verifier[ID_CHARS + 1], nonce[ID_CHARS + 1];
	char next[MAX_NEXT + 1], cb[1200], why[512] = "", sid[ID_CHARS + 1];
	const char *state = hc_req_arg(req, "state");
	const char *mine, *code = hc_req_arg(req, "code");
	const char *idp_error = hc_req_arg(req, "error");
	json_t *res = NULL, *claims = NULL, *tokens = NULL;
	struct hc_conn *c;
	const char *name;
	int rc;

	if (!hc__auth_login_on(a))
		return no_login(req, err);
	login_cookie_name(req->hub, cookie, sizeof(cookie));
	mine = hc_req_cookie(req, cookie);
	/* the login cookie has done its work, whatever happens now */
	set_cookie(resp, a, cookie, "", "/auth/callback", 0);
	if (!state || !id_ok(state) || !mine || !same(state, mine))
		return login_failed(req, resp, 400,
				    "This sign-in was not started in this "
				    "browser, or it took too long.");
	c = hc_req_db(req, err);
	if (!c)
		return err->status;
	rc = take_login(c, state, verifier, nonce, next, sizeof(next), err);
	if (rc == HC_ENOTFOUND)
		return login_failed(req, resp, 400,
				    "This sign-in has expired or was already "
				    "used.");
	if (rc != HC_OK)
		return rc;
	if (idp_error) {
		char msg[400];
		const char *d = hc_req_arg(req, "error_description");
		snprintf(msg, sizeof(msg), "The identity provider said: %.60s%s%.300s",
			 idp_error, d ? ": " : "", d ? d : "");
		return login_failed(req, resp, 403, msg);
	}
	if (!code || !*code || strlen(code) > 4096)
		return login_failed(req, resp, 400,
				    "The identity provider sent no code.");
	if (hc__issuer_endpoints(&a->issuers[0], &ep, why, sizeof(why)) !=
	    HC_OK) {
		hc_resp_header(resp, "Retry-After", "5");
		return hc_err_set(err, HC_EBUSY,
				  "the identity provider cannot be reached: %s",
				  why);
	}
	own_url(a, "/auth/callback", cb, sizeof(cb));
	form(&body, "grant_type", "authorization_code");
	form(&body, "code", code);
	form(&body, "redirect_uri", cb);
	form(&body, "code_verifier", verifier);
	form(&body, "resource", hc_auth_audience(a));
	rc = body.data ? token_request(a, ep.token, body.data, &res, why,
				       sizeof(why))
		       : HC_ENOMEM;
	hc_buf_release(&body);
	if (rc != HC_OK) {
		char msg[600];
		snprintf(msg, sizeof(msg), "The code could not be exchanged "
					   "for tokens (%s).",
			 why);
		return login_failed(req, resp, 502, msg);
	}
	rc = check_id_token(a, hc_json_str(res, "id_token"), nonce, &claims,
			    why, sizeof(why));
	if (rc == HC_OK) {
		rc = hc__auth_token_identity(
			a,
			hc_json_str(res, "access_token")
				? hc_json_str(res, "access_token")
				: "",
			&id, &f);
		if (rc != HC_OK)
			snprintf(why, sizeof(why), "the access token: %s",
				 f.description);
		else if (strcmp(id.sub, hc_json_str(claims, "sub")) != 0) {
			snprintf(why, sizeof(why), "the access token is for "
						   "another user");
			rc = HC_EAUTH;
		}
	}
	if (rc != HC_OK) {
		char msg[600];
		snprintf(msg, sizeof(msg), "The provider's answer was refused: "
					   "%s.",
			 why);
		rc = login_failed(req, resp, 502, msg);
		goto out;
	}
	name = hc_json_str(claims, "name");
	if (!name || !*name)
		name = hc_json_str(claims, "preferred_username");
	if (!name)
		name = id.username[0] ? id.username : id.sub;
	tokens = tokens_of(res, NULL);
	rc = random_id(sid) == HC_OK
		     ? session_create(c, sid, id.sub, name, tokens,
				      session_expiry(res, &id), err)
		     : hc_err_set(err, HC_EIO, "no randomness");
	if (rc != HC_OK)
		goto out;
	hc_log_info(&req->hub->log, "'%s' signed in to the pages (%s)", id.sub,
		    hc_scope_name(id.level));
	hc_auth_session_cookie_name(req->hub, cookie, sizeof(cookie));
	/* no Max-Age: the browser forgets it when it closes; the store
	 * ends it with its tokens */
	{
		char c2[256];
		snprintf(c2, sizeof(c2), "%s=%s; Path=/; HttpOnly; "
					 "SameSite=Lax%s",
			 cookie, sid, https_hub(a) ? "; Secure" : "");
		hc_resp_header(resp, "Set-Cookie", c2);
	}
	rc = redirect(resp, 303, safe_next(req->hub, next));
out:
	explicit_bzero(sid, sizeof(sid));
	hc_identity_release(&id);
	json_decref(tokens);
	json_decref(claims);
	json_decref(res);
	return rc;
}

/* ---- POST /auth/logout, GET /auth/signed-out ------------------------------------------- */

/* A logout comes from this hub's own page. Browsers say where a request
 * comes from in Sec-Fetch-Site (Fetch Metadata), and in Origin unless the
 * page's referrer policy makes it "null"; another site's (another port of
 * the same host too) is refused. The session cookie is SameSite=Lax as
 * well, so it would not come along with another site's POST anyway. */
static bool same_origin(struct hc_req *req)
{
	const char *site = hc_req_header(req, "Sec-Fetch-Site");
	const char *origin = hc_req_header(req, "Origin");
	const char *aud = hc_auth_audience(req->hub->auth);
	size_t n = strlen(aud);
	while (n && aud[n - 1] == '/')
		n--;
	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return false;
	return !origin || strcmp(origin, "null") == 0 ||
	       (strlen(origin) == n && strncmp(origin, aud, n) == 0);
}

static int post_logout(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err)
{
	struct hc_auth *a = req->hub->auth;
	struct hc__endpoints ep;
	struct session_row row = { 0 };
	struct hc_buf url = HC_BUF_INIT(16 * 1024);
	struct hc_err e = { 0 };
	char cookie[64], back[1200], why[256];
	const char *sid;
	struct hc_conn *c;
	bool had = false;
	int rc;

	if (!hc__auth_login_on(a))
		return no_login(req, err);
	if (!same_origin(req))
		return hc_err_set(err, HC_EFORBIDDEN,
				  "signing out is for this hub's own pages "
				  "(Origin '%.200s')",
				  hc_req_header(req, "Origin"));
	hc_auth_session_cookie_name(req->hub, cookie, sizeof(cookie));
	sid = hc_req_cookie(req, cookie);
	if (sid && id_ok(sid)) {
		c = hc_req_db(req, err);
		if (!c)
			return err->status;
		had = session_load(c, sid, &row, &e) == HC_OK;
		rc = session_delete(c, sid, err);
		if (rc != HC_OK) {
			json_decref(row.tokens);
			return rc;
		}
		if (had)
			hc_log_info(&req->hub->log,
				    "'%s' signed out of the pages", row.sub);
	}
	set_cookie(resp, a, cookie, "", "/", 0);
	own_url(a, "/auth/signed-out", back, sizeof(back));
	/* and out of the provider, so that the next visit asks again */
	if (hc__issuer_endpoints(&a->issuers[0], &ep, why, sizeof(why)) ==
		    HC_OK &&
	    ep.end_session[0]) {
		hc_buf_adds(&url, ep.end_session);
		query(&url, "client_id", a->login_client_id);
		if (hc_json_str(row.tokens, "id_token"))
			query(&url, "id_token_hint",
			      hc_json_str(row.tokens, "id_token"));
		query(&url, "post_logout_redirect_uri", back);
	}
	json_decref(row.tokens);
	rc = redirect(resp, 303, url.data ? url.data : "/auth/signed-out");
	hc_buf_release(&url);
	return rc;
}

static int get_signed_out(struct hc_req *req, struct hc_resp *resp,
			  struct hc_err *err)
{
	char link[MAX_NEXT + 32];
	if (!hc__auth_login_on(req->hub->auth))
		return no_login(req, err);
	snprintf(link, sizeof(link), "/auth/login?next=%s",
		 safe_next(req->hub, NULL));
	return small_page(req, resp, 200, "Signed out",
			  "You are signed out.", link, "Sign in again");
}

/* ---- routes and schema --------------------------------------------------------------- */

static const struct hc_route login_routes[] = {
	{ "GET", "/auth/login", get_login, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_LOGIN,
	  "Sign in to the pages: off to the identity provider (code flow "
	  "with PKCE), then back to ?next= (a path of this hub)" },
	{ "GET", "/auth/callback", get_callback, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_LOGIN,
	  "Where the identity provider sends the browser back: checks the "
	  "state, exchanges the code, starts a session (a cookie)" },
	{ "POST", "/auth/logout", post_logout, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_LOGIN,
	  "Sign out of the pages: ends the session, then the provider's" },
	{ "GET", "/auth/signed-out", get_signed_out, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY | HC_ROUTE_LOGIN,
	  "The page that says you are signed out" },
};

const struct hc_route_table hc_auth_login_routes =
	HC_ROUTE_TABLE(login_routes);

static int schema_v1(struct hc_conn *c, const struct hc_dialect *d,
		     struct hc_err *err)
{
	const char *integer = d->type_name(HC_COL_INT);
	char sql[2048];
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE auth_logins (state_hash TEXT PRIMARY KEY, "
		 "verifier TEXT NOT NULL, nonce TEXT NOT NULL, next TEXT NOT "
		 "NULL, expires %s NOT NULL);"
		 "CREATE TABLE auth_sessions (id_hash TEXT PRIMARY KEY, sub "
		 "TEXT NOT NULL, name TEXT NOT NULL, tokens TEXT NOT NULL, "
		 "expires %s NOT NULL, created %s NOT NULL);",
		 integer, integer, integer);
	return hc_exec_script(c, sql, err);
}

static const struct hc_migration auth_steps[] = {
	{ .version = 1, .name = "the pages' pending logins and sessions",
	  .fn = schema_v1 },
};

const struct hc_migration_set hc_auth_migrations = {
	.component = "auth",
	.steps = auth_steps,
	.count = HC_COUNT(auth_steps),
};
