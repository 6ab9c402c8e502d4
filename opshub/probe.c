/*
 * probe.c - the probe kinds: checking a probe's configuration when its
 * service is registered, and running it. HTTP(S) and TLS go through
 * libcurl (certificate chains read with OpenSSL), TCP and SSH are plain
 * non-blocking sockets with poll; the cluster kinds are in cluster.c.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "opshub/internal.h"

#define BODY_MAX (1024 * 1024)

const char *const oh_probe_kinds[] = { "http",	   "tcp",	   "tls",
				       "ssh",	   "kubernetes",   "longhorn",
				       "cert-manager", "push",	   NULL };

/* Which placeholders a kind's conditions may use. */
#define PH(x) (1u << (x))
static const struct kind_info {
	const char *kind;
	unsigned placeholders; /* 0: no conditions */
	const char *default_condition;
	const char *const *keys; /* besides name, kind, conditions */
} kinds[] = {
	{ "http",
	  PH(OH_PH_STATUS) | PH(OH_PH_RESPONSE_TIME) | PH(OH_PH_BODY) |
		  PH(OH_PH_CERT_EXPIRATION) | PH(OH_PH_CONNECTED),
	  "[STATUS] < 400",
	  (const char *const[]){ "url", "method", "headers", "body", "ca_file",
				 "insecure", "follow_redirects", NULL } },
	{ "tcp", PH(OH_PH_CONNECTED) | PH(OH_PH_RESPONSE_TIME),
	  "[CONNECTED] == true", (const char *const[]){ "host", "port", NULL } },
	{ "tls",
	  PH(OH_PH_CERT_EXPIRATION) | PH(OH_PH_CONNECTED) |
		  PH(OH_PH_RESPONSE_TIME),
	  "[CERTIFICATE_EXPIRATION] > 72h",
	  (const char *const[]){ "host", "port", "server_name", "ca_file",
				 "insecure", NULL } },
	{ "ssh",
	  PH(OH_PH_CONNECTED) | PH(OH_PH_RESPONSE_TIME) | PH(OH_PH_BODY),
	  "[CONNECTED] == true", (const char *const[]){ "host", "port", NULL } },
	{ "kubernetes", 0, NULL, (const char *const[]){ "location", NULL } },
	{ "longhorn", 0, NULL,
	  (const char *const[]){ "location", "namespace", "max_backup_age",
				 NULL } },
	{ "cert-manager", 0, NULL,
	  (const char *const[]){ "location", "namespace", "min_validity",
				 NULL } },
	{ "push", 0, NULL,
	  (const char *const[]){ "token", "token_sha256", "heartbeat", NULL } },
};

static const struct kind_info *kind_info(const char *kind)
{
	for (size_t i = 0; kind && i < HC_COUNT(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

void oh_sha256_hex(const char *s, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)s, strlen(s), md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void oh_probe_result_release(struct oh_probe_result *r)
{
	json_decref(r->values);
	r->values = NULL;
}

/* ---- checking a configuration ------------------------------------------------ */

static int bad(struct hc_err *err, size_t index, const char *key,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int bad(struct hc_err *err, size_t index, const char *key,
	       const char *fmt, ...)
{
	char field[96], msg[HC_ERR_MSG_MAX];
	va_list ap;
	snprintf(field, sizeof(field), "probes[%zu]%s%s", index,
		 key ? "." : "", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hc_err_field(err, HC_EINVAL, field, "field '%s': %s", field,
			    msg);
}

static int need_string(const json_t *p, size_t index, const char *key,
		       bool required, struct hc_err *err)
{
	json_t *v = json_object_get(p, key);
	if (!v)
		return required ? bad(err, index, key, "%s is required", key)
				: HC_OK;
	if (!json_is_string(v) || !json_string_length(v) ||
	    json_string_length(v) > 1000)
		return bad(err, index, key, "%s must be a non-empty string",
			   key);
	return HC_OK;
}

static int need_port(json_t *p, size_t index, bool required,
		     struct hc_err *err)
{
	json_t *v = json_object_get(p, "port");
	if (!v)
		return required ? bad(err, index, "port", "%s is required",
				      "port")
				: HC_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 65535)
		return bad(err, index, "port", "%s must be 1 to 65535", "port");
	return HC_OK;
}

static int check_conditions(json_t *p, size_t index,
			    const struct kind_info *k, struct hc_err *err)
{
	json_t *conds = json_object_get(p, "conditions"), *cv;
	size_t i;
	if (!k->placeholders) {
		if (conds)
			return bad(err, index, "conditions",
				   "a %s probe has built-in checks and takes "
				   "no conditions",
				   k->kind);
		return HC_OK;
	}
	if (!conds) {
		json_object_set_new(p, "conditions",
				    json_pack("[s]", k->default_condition));
		return HC_OK;
	}
	if (!json_is_array(conds) || json_array_size(conds) > 32)
		return bad(err, index, "conditions",
			   "%s must be an array of at most 32 expressions",
			   "conditions");
	json_array_foreach(conds, i, cv)
	{
		struct oh_condition c;
		char field[96];
		int col = 0;
		if (!json_is_string(cv))
			return bad(err, index, "conditions",
				   "%s must be strings", "conditions");
		snprintf(field, sizeof(field), "probes[%zu].conditions[%zu]",
			 index, i);
		if (oh_condition_parse(json_string_value(cv), &c, err) ==
		    HC_OK) {
			if (k->placeholders & PH(c.ph))
				continue;
			col = (int)(strchr(json_string_value(cv), '[') -
				    json_string_value(cv)) + 1;
			hc_err_at(err, HC_EINVAL, NULL, 0, col,
				  "condition '%s' at column %d: a %s probe "
				  "cannot use this placeholder",
				  json_string_value(cv), col, k->kind);
		}
		snprintf(err->field, sizeof(err->field), "%s", field);
		{
			char m[HC_ERR_MSG_MAX];
			snprintf(m, sizeof(m), "field '%s': %s", field,
				 err->msg);
			memcpy(err->msg, m, sizeof(m));
		}
		return HC_EINVAL;
	}
	return HC_OK;
}

int oh_probe_check(struct hc_conn *c, json_t *p, size_t index,
		   struct hc_err *err)
{
	const struct kind_info *k;
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(p))
		return bad(err, index, NULL, "a probe must be an %s", "object");
	k = kind_info(oh_str(p, "kind"));
	if (!k)
		return bad(err, index, "kind",
			   "kind must be one of %s",
			   "http, tcp, tls, ssh, kubernetes, longhorn, "
			   "cert-manager, push");
	json_object_foreach(p, key, v)
	{
		bool known = !strcmp(key, "name") || !strcmp(key, "kind") ||
			     !strcmp(key, "conditions");
		for (const char *const *kk = k->keys; !known && *kk; kk++)
			known = strcmp(*kk, key) == 0;
		if (!known)
			return bad(err, index, key, "unknown setting '%s'",
				   key);
	}
	if (!json_object_get(p, "name"))
		json_object_set_new(p, "name", json_string(k->kind));
	v = json_object_get(p, "name");
	if (!json_is_string(v) || !json_string_length(v) ||
	    json_string_length(v) > 60)
		return bad(err, index, "name", "%s must be 1 to 60 characters",
			   "name");
	rc = check_conditions(p, index, k, err);
	if (rc != HC_OK)
		return rc;
	if (strcmp(k->kind, "http") == 0) {
		const char *url = oh_str(p, "url");
		const char *m = oh_str(p, "method");
		json_t *h = json_object_get(p, "headers");
		if ((rc = need_string(p, index, "url", true, err)) != HC_OK)
			return rc;
		if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
			return bad(err, index, "url",
				   "url must start with %s",
				   "http:// or https://");
		if (json_object_get(p, "method") &&
		    (!m || (strcmp(m, "GET") && strcmp(m, "HEAD") &&
			    strcmp(m, "POST"))))
			return bad(err, index, "method",
				   "method must be %s", "GET, HEAD or POST");
		if (h) {
			json_t *hv;
			if (!json_is_object(h))
				return bad(err, index, "headers",
					   "%s must be an object of strings",
					   "headers");
			json_object_foreach(h, key, hv)
				if (!json_is_string(hv) ||
				    strpbrk(key, ":\r\n") ||
				    strpbrk(json_string_value(hv), "\r\n"))
					return bad(err, index, "headers",
						   "%s must be an object of "
						   "one-line strings",
						   "headers");
		}
		if ((rc = need_string(p, index, "body", false, err)) ||
		    (rc = need_string(p, index, "ca_file", false, err)))
			return rc;
	} else if (strcmp(k->kind, "tcp") == 0 || strcmp(k->kind, "ssh") == 0 ||
		   strcmp(k->kind, "tls") == 0) {
		if ((rc = need_string(p, index, "host", true, err)) ||
		    (rc = need_port(p, index, strcmp(k->kind, "tcp") == 0,
				    err)) ||
		    (rc = need_string(p, index, "server_name", false, err)) ||
		    (rc = need_string(p, index, "ca_file", false, err)))
			return rc;
	} else if (strcmp(k->kind, "push") == 0) {
		int64_t ms;
		const char *tok = oh_str(p, "token");
		if (json_object_get(p, "token")) {
			char hash[65];
			if (!tok || strlen(tok) < 16)
				return bad(err, index, "token",
					   "token must be a string of at least "
					   "%s characters",
					   "16");
			oh_sha256_hex(tok, hash);
			json_object_set_new(p, "token_sha256",
					    json_string(hash));
			json_object_del(p, "token");
		}
		if (!oh_str(p, "token_sha256") ||
		    strlen(oh_str(p, "token_sha256")) != 64)
			return bad(err, index, "token",
				   "a push probe needs a %s", "token");
		if (!json_object_get(p, "heartbeat"))
			return bad(err, index, "heartbeat",
				   "%s is required (e.g. \"26h\")",
				   "heartbeat");
		if (oh_duration_json(json_object_get(p, "heartbeat"),
				     "heartbeat", &ms, err) != HC_OK ||
		    ms < 50)
			return bad(err, index, "heartbeat",
				   "%s must be a duration of at least 50ms",
				   "heartbeat");
	} else {
		/* cluster kinds */
		json_t *loc = NULL;
		struct hc_err e2 = { 0 };
		int64_t ms;
		if ((rc = need_string(p, index, "location", true, err)) ||
		    (rc = need_string(p, index, "namespace", false, err)))
			return rc;
		rc = hc_res_get_plain(c, &oh_location_resource,
				      oh_str(p, "location"), &loc, &e2);
		if (rc == HC_ENOTFOUND)
			return bad(err, index, "location", "no location '%s'",
				   oh_str(p, "location"));
		if (rc != HC_OK) {
			*err = e2;
			return rc;
		}
		rc = strcmp(oh_str(loc, "kind"), "cluster") == 0
			     ? HC_OK
			     : bad(err, index, "location",
				   "location '%s' is not a cluster",
				   oh_str(p, "location"));
		json_decref(loc);
		if (rc != HC_OK)
			return rc;
		for (const char *d = "max_backup_age"; d;
		     d = strcmp(d, "min_validity") ? "min_validity" : NULL)
			if (json_object_get(p, d) &&
			    oh_duration_json(json_object_get(p, d), d, &ms,
					     err) != HC_OK)
				return bad(err, index, d,
					   "%s must be a duration such as "
					   "\"26h\"",
					   d);
	}
	return HC_OK;
}

/* ---- running: shared ------------------------------------------------------------ */

struct body {
	struct hc_buf buf;
	bool truncated;
};

static size_t write_body(char *ptr, size_t size, size_t n, void *ud)
{
	struct body *b = ud;
	if (hc_buf_add(&b->buf, ptr, size * n) != HC_OK)
		b->truncated = true; /* keep what fits; a probe reads a head */
	return size * n;
}

static int progress_cb(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
		       curl_off_t d)
{
	const atomic_bool *cancel = ud;
	return cancel && atomic_load(cancel) ? 1 : 0;
}

/* The earliest notAfter of the certificate chain curl saw. */
static bool chain_expiry(CURL *h, int64_t *not_after)
{
	struct curl_certinfo *ci = NULL;
	bool found = false;
	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci)
		return false;
	for (int i = 0; i < ci->num_of_certs; i++) {
		for (struct curl_slist *s = ci->certinfo[i]; s; s = s->next) {
			BIO *bio;
			X509 *x;
			struct tm tm;
			if (strncmp(s->data, "Cert:", 5) != 0)
				continue;
			bio = BIO_new_mem_buf(s->data + 5, -1);
			x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL)
				: NULL;
			if (x && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm)) {
				int64_t t = (int64_t)timegm(&tm);
				if (!found || t < *not_after)
					*not_after = t;
				found = true;
			}
			X509_free(x);
			BIO_free(bio);
		}
	}
	return found;
}

static void common_curl(CURL *h, int64_t timeout_ms,
			const atomic_bool *cancel, char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cancel);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "foshub-ops-hub/" FOSHUB_VERSION);
}

/* Evaluate the probe's conditions; the result message lists those that
 * failed, or the first few values when all held. */
static void judge(const json_t *p, const struct oh_observation *o,
		  struct oh_probe_result *res, const char *found)
{
	json_t *conds = json_object_get(p, "conditions"), *cv;
	struct hc_buf msg = HC_BUF_INIT(sizeof(res->message) - 1);
	json_t *failed = json_array();
	size_t i;
	res->ok = true;
	json_array_foreach(conds, i, cv)
	{
		struct oh_condition c;
		char desc[700];
		if (oh_condition_parse(json_string_value(cv), &c, NULL) !=
		    HC_OK)
			continue; /* checked at registration */
		if (!oh_condition_eval(&c, o, desc, sizeof(desc))) {
			res->ok = false;
			hc_buf_addf(&msg, "%s%s", msg.len ? "; " : "", desc);
			json_array_append_new(failed, json_string(desc));
		}
	}
	if (json_array_size(failed))
		json_object_set_new(res->values, "failed_conditions", failed);
	else
		json_decref(failed);
	snprintf(res->message, sizeof(res->message), "%s",
		 msg.len ? msg.data : found);
	hc_buf_release(&msg);
}

static void set_expiry(json_t *values, int64_t not_after, int64_t now)
{
	char t[HC_TIME_LEN + 1];
	oh_time_format(not_after * 1000, t);
	json_object_set_new(values, "certificate_expires_at", json_string(t));
	json_object_set_new(values, "certificate_expires_in_s",
			    json_integer(not_after - now));
}

/* ---- http and tls ---------------------------------------------------------------- */

static void run_http(const json_t *p, int64_t timeout_ms,
		     const atomic_bool *cancel, struct oh_probe_result *res,
		     bool connect_only)
{
	char errbuf[CURL_ERROR_SIZE] = "", url[1200], found[300];
	struct body b = { HC_BUF_INIT(BODY_MAX), false };
	struct curl_slist *headers = NULL, *resolve = NULL;
	struct oh_observation o = { 0 };
	CURL *h = curl_easy_init();
	const char *key;
	json_t *v;
	CURLcode cc;
	curl_off_t total = 0;
	json_t *body_json = NULL;
	int64_t not_after = 0;
	bool https;

	o.now = oh_now_ms() / 1000;
	if (!h) {
		snprintf(res->message, sizeof(res->message),
			 "cannot start libcurl");
		return;
	}
	if (connect_only) {
		const char *host = oh_str(p, "host");
		const char *sni = oh_str(p, "server_name");
		long port = json_is_integer(json_object_get(p, "port"))
				    ? (long)json_integer_value(
					      json_object_get(p, "port"))
				    : 443;
		char entry[600];
		if (sni) {
			snprintf(entry, sizeof(entry), "%s:%ld:%s", sni, port,
				 host);
			resolve = curl_slist_append(NULL, entry);
			curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
		}
		snprintf(url, sizeof(url), "https://%s%s%s:%ld/",
			 strchr(sni ? sni : host, ':') ? "[" : "",
			 sni ? sni : host,
			 strchr(sni ? sni : host, ':') ? "]" : "", port);
		curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	} else {
		snprintf(url, sizeof(url), "%s", oh_str(p, "url"));
		json_object_foreach(json_object_get(p, "headers"), key, v)
		{
			char line[1200];
			snprintf(line, sizeof(line), "%s: %s", key,
				 json_string_value(v));
			headers = curl_slist_append(headers, line);
		}
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
		if (oh_str(p, "method"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
					 oh_str(p, "method"));
		if (oh_str(p, "method") && !strcmp(oh_str(p, "method"), "HEAD"))
			curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		if (oh_str(p, "body"))
			curl_easy_setopt(h, CURLOPT_POSTFIELDS,
					 oh_str(p, "body"));
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION,
				 json_is_true(json_object_get(
					 p, "follow_redirects"))
					 ? 1L
					 : 0L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	}
	https = strncmp(url, "https://", 8) == 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	common_curl(h, timeout_ms, cancel, errbuf);
	if (https)
		curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
	if (oh_str(p, "ca_file"))
		curl_easy_setopt(h, CURLOPT_CAINFO, oh_str(p, "ca_file"));
	if (json_is_true(json_object_get(p, "insecure"))) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total);
	if (connect_only)
		curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &total);
	o.response_ms = (int64_t)total / 1000;
	res->values = res->values ? res->values : json_object();
	if (cc != CURLE_OK) {
		o.connected = false;
		snprintf(res->message, sizeof(res->message), "%s: %s",
			 curl_easy_strerror(cc), errbuf[0] ? errbuf : url);
		res->ok = false;
		json_object_set_new(res->values, "error",
				    json_string(res->message));
		json_object_set_new(res->values, "connected", json_false());
		/* conditions may expect a failure ([CONNECTED] == false) */
		judge(p, &o, res, res->message);
		if (!res->ok)
			snprintf(res->message, sizeof(res->message), "%s: %s",
				 curl_easy_strerror(cc),
				 errbuf[0] ? errbuf : url);
		goto out;
	}
	o.connected = true;
	if (https && chain_expiry(h, &not_after)) {
		o.has_cert = true;
		o.cert_not_after = not_after;
		set_expiry(res->values, not_after, o.now);
	}
	if (!connect_only) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &o.status);
		o.body = b.buf.data ? b.buf.data : "";
		body_json = json_loadb(o.body, b.buf.len, JSON_DECODE_ANY, NULL);
		o.body_json = body_json;
		json_object_set_new(res->values, "status",
				    json_integer(o.status));
		snprintf(found, sizeof(found), "HTTP %ld in %lldms", o.status,
			 (long long)o.response_ms);
	} else {
		snprintf(found, sizeof(found), "TLS handshake in %lldms%s",
			 (long long)o.response_ms,
			 o.has_cert ? "" : ", no certificate seen");
	}
	json_object_set_new(res->values, "connected", json_true());
	json_object_set_new(res->values, "response_time_ms",
			    json_integer(o.response_ms));
	if (o.has_cert) {
		size_t n = strlen(found);
		snprintf(found + n, sizeof(found) - n,
			 ", certificate expires in %lldh",
			 (long long)((not_after - o.now) / 3600));
	}
	judge(p, &o, res, found);
out:
	json_decref(body_json);
	hc_buf_release(&b.buf);
	curl_slist_free_all(headers);
	curl_slist_free_all(resolve);
	curl_easy_cleanup(h);
}

/* ---- tcp and ssh ------------------------------------------------------------------- */

/* Connect with a deadline; returns the socket or -1 with msg filled. */
static int tcp_connect(const char *host, long port, int64_t deadline,
		       const atomic_bool *cancel, char *msg, size_t size)
{
	struct addrinfo hints = { 0 }, *ai = NULL, *a;
	char portstr[16];
	int fd = -1, rc;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	snprintf(portstr, sizeof(portstr), "%ld", port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc != 0) {
		snprintf(msg, size, "cannot resolve %s: %s", host,
			 gai_strerror(rc));
		return -1;
	}
	snprintf(msg, size, "cannot connect to %s:%ld", host, port);
	for (a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
						  SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (errno != EINPROGRESS) {
			snprintf(msg, size, "cannot connect to %s:%ld: %s",
				 host, port, strerror(errno));
			close(fd);
			fd = -1;
			continue;
		}
		for (;;) {
			struct pollfd pfd = { fd, POLLOUT, 0 };
			int64_t left = deadline - hc_clock_ms();
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (left <= 0 || (cancel && atomic_load(cancel))) {
				snprintf(msg, size,
					 "timed out connecting to %s:%ld",
					 host, port);
				close(fd);
				fd = -1;
				break;
			}
			rc = poll(&pfd, 1, (int)(left < 100 ? left : 100));
			if (rc == 0 || (rc < 0 && errno == EINTR))
				continue;
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			if (rc < 0 || soerr) {
				snprintf(msg, size,
					 "cannot connect to %s:%ld: %s", host,
					 port, strerror(rc < 0 ? errno : soerr));
				close(fd);
				fd = -1;
			}
			break;
		}
	}
	freeaddrinfo(ai);
	return fd;
}

static void run_socket(const json_t *p, int64_t timeout_ms,
		       const atomic_bool *cancel, struct oh_probe_result *res,
		       bool ssh)
{
	const char *host = oh_str(p, "host");
	long port = json_is_integer(json_object_get(p, "port"))
			    ? (long)json_integer_value(json_object_get(p, "port"))
			    : 22;
	int64_t start = hc_clock_ms(), deadline = start + timeout_ms;
	struct oh_observation o = { 0 };
	char msg[400], banner[256] = "", found[400];
	size_t n = 0;
	int fd;

	o.now = oh_now_ms() / 1000;
	res->values = res->values ? res->values : json_object();
	fd = tcp_connect(host, port, deadline, cancel, msg, sizeof(msg));
	o.connected = fd >= 0;
	o.response_ms = hc_clock_ms() - start;
	json_object_set_new(res->values, "connected", json_boolean(fd >= 0));
	if (fd < 0) {
		json_object_set_new(res->values, "error", json_string(msg));
		judge(p, &o, res, msg);
		if (!res->ok)
			snprintf(res->message, sizeof(res->message), "%s", msg);
		return;
	}
	snprintf(found, sizeof(found), "connected to %s:%ld in %lldms", host,
		 port, (long long)o.response_ms);
	if (ssh) {
		/* RFC 4253 4.2: the server sends its identification line
		 * first, at most 255 bytes, ending in CR LF. */
		while (n < sizeof(banner) - 1 && !memchr(banner, '\n', n)) {
			struct pollfd pfd = { fd, POLLIN, 0 };
			int64_t left = deadline - hc_clock_ms();
			ssize_t got;
			int rc;
			if (left <= 0 || (cancel && atomic_load(cancel)))
				break;
			rc = poll(&pfd, 1, (int)(left < 100 ? left : 100));
			if (rc <= 0)
				continue;
			got = read(fd, banner + n, sizeof(banner) - 1 - n);
			if (got <= 0)
				break;
			n += (size_t)got;
			banner[n] = '\0';
		}
		banner[strcspn(banner, "\r\n")] = '\0';
		o.body = banner;
		json_object_set_new(res->values, "banner", json_string(banner));
		if (strncmp(banner, "SSH-", 4) != 0) {
			close(fd);
			res->ok = false;
			snprintf(res->message, sizeof(res->message),
				 "%s:%ld sent no SSH banner%s%.100s%s", host,
				 port, banner[0] ? " (got '" : "", banner,
				 banner[0] ? "')" : "");
			return;
		}
		snprintf(found, sizeof(found), "%s in %lldms", banner,
			 (long long)(hc_clock_ms() - start));
	}
	close(fd);
	json_object_set_new(res->values, "response_time_ms",
			    json_integer(o.response_ms));
	judge(p, &o, res, found);
}

/* ---- dispatch ----------------------------------------------------------------------- */

void oh__run_cluster_probe(const json_t *p, const json_t *location,
			   int64_t timeout_ms, const atomic_bool *cancel,
			   struct oh_probe_result *res);

void oh_probe_run(const json_t *probe, const json_t *location,
		  int64_t timeout_ms, const atomic_bool *cancel,
		  struct oh_probe_result *res)
{
	const char *kind = oh_str(probe, "kind");
	int64_t start = hc_clock_ms();
	memset(res, 0, sizeof(*res));
	snprintf(res->name, sizeof(res->name), "%s",
		 oh_str(probe, "name") ? oh_str(probe, "name") : "probe");
	snprintf(res->kind, sizeof(res->kind), "%s", kind ? kind : "");
	res->values = json_object();
	if (timeout_ms <= 0)
		timeout_ms = 10000;
	if (!kind)
		snprintf(res->message, sizeof(res->message), "no kind");
	else if (strcmp(kind, "http") == 0)
		run_http(probe, timeout_ms, cancel, res, false);
	else if (strcmp(kind, "tls") == 0)
		run_http(probe, timeout_ms, cancel, res, true);
	else if (strcmp(kind, "tcp") == 0)
		run_socket(probe, timeout_ms, cancel, res, false);
	else if (strcmp(kind, "ssh") == 0)
		run_socket(probe, timeout_ms, cancel, res, true);
	else if (strcmp(kind, "push") == 0)
		snprintf(res->message, sizeof(res->message),
			 "push probes are reported, not run");
	else if (!location)
		snprintf(res->message, sizeof(res->message),
			 "no location for the %s probe", kind);
	else
		oh__run_cluster_probe(probe, location, timeout_ms, cancel, res);
	res->duration_ms = hc_clock_ms() - start;
}
