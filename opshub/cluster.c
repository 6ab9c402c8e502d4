/*
 * cluster.c - Kubernetes without kubectl: the API server of a cluster
 * location (from its settings, a kubeconfig, or the service account of the
 * pod ops-hub runs in), and the verdicts on what it answers: /readyz,
 * nodes and pods, Longhorn volumes, backups and backup targets, and
 * cert-manager Certificates.
 */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opshub/internal.h"

#define API_BODY_MAX (16 * 1024 * 1024)
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* ---- where the API is ---------------------------------------------------------- */

static char *read_small_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	struct hc_buf b = HC_BUF_INIT(max);
	char chunk[4096];
	size_t n;
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (hc_buf_add(&b, chunk, n) != HC_OK) {
			fclose(f);
			hc_buf_release(&b);
			return NULL;
		}
	fclose(f);
	if (!b.data && hc_buf_adds(&b, "") != HC_OK)
		return NULL;
	return hc_buf_detach(&b, NULL);
}

static char *trimmed(char *s)
{
	size_t n;
	if (!s)
		return NULL;
	n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

static char *b64decode(const char *in)
{
	size_t len = strlen(in);
	unsigned char *out = malloc(len / 4 * 3 + 4);
	int n;
	if (!out)
		return NULL;
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	while (len && in[len - 1] == '=') {
		len--;
		n--;
	}
	out[n] = '\0';
	return (char *)out;
}

/* A named entry of a kubeconfig list (clusters, users, contexts). */
static const json_t *named(const json_t *list, const char *name,
			   const char *member)
{
	json_t *e;
	size_t i;
	json_array_foreach(list, i, e)
		if (name && oh_str(e, "name") &&
		    strcmp(oh_str(e, "name"), name) == 0)
			return json_object_get(e, member);
	return NULL;
}

static int from_kubeconfig(const char *path, const char *context,
			   struct oh_api *api, struct hc_err *err)
{
	char *text = read_small_file(path, 1024 * 1024);
	json_t *kc = NULL;
	const json_t *ctx, *cluster, *user;
	const char *v;
	int rc;
	if (!text)
		return hc_err_set(err, HC_EIO, "cannot read kubeconfig %s",
				  path);
	rc = oh_yaml_to_json(path, text, strlen(text), &kc, NULL, err);
	free(text);
	if (rc != HC_OK)
		return rc;
	if (!context)
		context = oh_str(kc, "current-context");
	ctx = named(json_object_get(kc, "contexts"), context, "context");
	cluster = named(json_object_get(kc, "clusters"), oh_str(ctx, "cluster"),
			"cluster");
	user = named(json_object_get(kc, "users"), oh_str(ctx, "user"), "user");
	if (!ctx || !cluster || !oh_str(cluster, "server")) {
		json_decref(kc);
		return hc_err_set(err, HC_EINVAL,
				  "kubeconfig %s has no context '%s' with a "
				  "cluster server",
				  path, context ? context : "");
	}
	snprintf(api->server, sizeof(api->server), "%s",
		 oh_str(cluster, "server"));
	if ((v = oh_str(cluster, "certificate-authority")))
		snprintf(api->ca_file, sizeof(api->ca_file), "%s", v);
	if ((v = oh_str(cluster, "certificate-authority-data")))
		api->ca_data = b64decode(v);
	if ((v = oh_str(user, "token")))
		api->token = strdup(v);
	else if ((v = oh_str(user, "tokenFile")))
		api->token = trimmed(read_small_file(v, 64 * 1024));
	if ((v = oh_str(user, "client-certificate-data")))
		api->cert_data = b64decode(v);
	if ((v = oh_str(user, "client-key-data")))
		api->key_data = b64decode(v);
	json_decref(kc);
	return HC_OK;
}

int oh_api_from_location(const json_t *loc, struct oh_api *api,
			 struct hc_err *err)
{
	const char *v;
	memset(api, 0, sizeof(*api));
	if (json_is_true(json_object_get(loc, "in_cluster"))) {
		const char *host = getenv("KUBERNETES_SERVICE_HOST");
		const char *port = getenv("KUBERNETES_SERVICE_PORT");
		if (!host)
			return hc_err_set(err, HC_EINVAL,
					  "location '%s' is in_cluster but "
					  "KUBERNETES_SERVICE_HOST is not set",
					  oh_str(loc, "name"));
		snprintf(api->server, sizeof(api->server), "https://%s%s%s:%s",
			 strchr(host, ':') ? "[" : "", host,
			 strchr(host, ':') ? "]" : "", port ? port : "443");
		api->token = trimmed(read_small_file(SA_DIR "/token",
						     64 * 1024));
		snprintf(api->ca_file, sizeof(api->ca_file), "%s",
			 SA_DIR "/ca.crt");
		return HC_OK;
	}
	if ((v = oh_str(loc, "kubeconfig")))
		return from_kubeconfig(v, oh_str(loc, "context"), api, err);
	if (!(v = oh_str(loc, "api_server")))
		return hc_err_set(err, HC_EINVAL,
				  "location '%s' has no api_server, kubeconfig "
				  "or in_cluster",
				  oh_str(loc, "name"));
	snprintf(api->server, sizeof(api->server), "%s", v);
	if ((v = oh_str(loc, "ca_file")))
		snprintf(api->ca_file, sizeof(api->ca_file), "%s", v);
	if ((v = oh_str(loc, "token_file"))) {
		api->token = trimmed(read_small_file(v, 64 * 1024));
		if (!api->token)
			return hc_err_set(err, HC_EIO,
					  "cannot read the token file %s", v);
	}
	return HC_OK;
}

void oh_api_release(struct oh_api *api)
{
	free(api->token);
	free(api->ca_data);
	free(api->cert_data);
	free(api->key_data);
	memset(api, 0, sizeof(*api));
}

struct body {
	struct hc_buf buf;
};

static size_t write_body(char *ptr, size_t size, size_t n, void *ud)
{
	struct body *b = ud;
	return hc_buf_add(&b->buf, ptr, size * n) == HC_OK ? size * n : 0;
}

static int progress_cb(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
		       curl_off_t d)
{
	const atomic_bool *cancel = ud;
	return cancel && atomic_load(cancel) ? 1 : 0;
}

static void blob(CURL *h, CURLoption opt, char *data)
{
	struct curl_blob b = { data, strlen(data), CURL_BLOB_COPY };
	curl_easy_setopt(h, opt, &b);
}

int oh_api_get(const struct oh_api *api, const char *path,
	       int64_t timeout_ms, const atomic_bool *cancel, long *status,
	       json_t **body, struct hc_err *err)
{
	char url[1200], errbuf[CURL_ERROR_SIZE] = "", auth[4200];
	struct body b = { HC_BUF_INIT(API_BODY_MAX) };
	struct curl_slist *headers = NULL;
	CURL *h = curl_easy_init();
	CURLcode cc;
	size_t sl = strlen(api->server);
	int rc = HC_OK;

	*status = 0;
	*body = NULL;
	if (!h)
		return hc_err_set(err, HC_ENOMEM, "cannot start libcurl");
	snprintf(url, sizeof(url), "%.*s%s", (int)(sl && api->server[sl - 1] == '/'
						    ? sl - 1
						    : sl),
		 api->server, path);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (api->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 api->token);
		headers = curl_slist_append(headers, auth);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cancel);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (api->ca_file[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, api->ca_file);
	if (api->ca_data)
		blob(h, CURLOPT_CAINFO_BLOB, api->ca_data);
	if (api->cert_data)
		blob(h, CURLOPT_SSLCERT_BLOB, api->cert_data);
	if (api->key_data)
		blob(h, CURLOPT_SSLKEY_BLOB, api->key_data);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		rc = hc_err_set(err, HC_EIO, "%s: %s", url,
				errbuf[0] ? errbuf : curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		*body = json_loadb(b.buf.data ? b.buf.data : "", b.buf.len, 0,
				   NULL);
	}
	hc_buf_release(&b.buf);
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	return rc;
}

/* ---- verdicts ------------------------------------------------------------------------ */

static void problem(json_t *problems, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(json_t *problems, const char *fmt, ...)
{
	char buf[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(problems, json_string(buf));
}

static const json_t *condition(const json_t *obj, const char *type)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(obj, "status"),
					   "conditions"),
			   i, c)
		if (oh_str(c, "type") && strcmp(oh_str(c, "type"), type) == 0)
			return c;
	return NULL;
}

static const char *meta(const json_t *o, const char *k)
{
	const char *v = oh_str(json_object_get(o, "metadata"), k);
	return v ? v : "?";
}

void oh_k8s_nodes_eval(const json_t *nodes, json_t *summary, json_t *problems)
{
	static const char *const pressures[] = { "MemoryPressure",
						 "DiskPressure", "PIDPressure",
						 "NetworkUnavailable" };
	json_t *n;
	size_t i, ready = 0, total = 0;
	json_array_foreach(json_object_get(nodes, "items"), i, n)
	{
		const json_t *c = condition(n, "Ready");
		total++;
		if (c && oh_str(c, "status") &&
		    strcmp(oh_str(c, "status"), "True") == 0)
			ready++;
		else
			problem(problems, "node %s is not Ready%s%s",
				meta(n, "name"), c && oh_str(c, "reason") ? ": "
									 : "",
				c && oh_str(c, "reason") ? oh_str(c, "reason")
							 : "");
		for (size_t k = 0; k < HC_COUNT(pressures); k++) {
			c = condition(n, pressures[k]);
			if (c && oh_str(c, "status") &&
			    strcmp(oh_str(c, "status"), "True") == 0)
				problem(problems, "node %s has %s",
					meta(n, "name"), pressures[k]);
		}
	}
	json_object_set_new(summary, "nodes",
			    json_pack("{sIsI}", "total", (json_int_t)total,
				      "ready", (json_int_t)ready));
}

static const char *waiting_reasons[] = { "CrashLoopBackOff",
					 "ImagePullBackOff", "ErrImagePull",
					 "CreateContainerConfigError",
					 "CreateContainerError", NULL };

static void container_problems(const json_t *pod, const char *list,
			       json_t *problems, bool *bad)
{
	json_t *cs;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(pod, "status"), list),
			   i, cs)
	{
		const char *w = oh_str(json_object_get(json_object_get(
						cs, "state"), "waiting"),
				       "reason");
		const char *t = oh_str(json_object_get(json_object_get(
						cs, "state"), "terminated"),
				       "reason");
		const char *lt = oh_str(
			json_object_get(json_object_get(cs, "lastState"),
					"terminated"),
			"reason");
		for (const char **r = waiting_reasons; w && *r; r++)
			if (strcmp(w, *r) == 0) {
				problem(problems, "pod %s/%s: container %s %s",
					meta(pod, "namespace"),
					meta(pod, "name"), oh_str(cs, "name"),
					w);
				*bad = true;
			}
		if ((t && strcmp(t, "OOMKilled") == 0) ||
		    (lt && strcmp(lt, "OOMKilled") == 0)) {
			problem(problems, "pod %s/%s: container %s OOMKilled",
				meta(pod, "namespace"), meta(pod, "name"),
				oh_str(cs, "name"));
			*bad = true;
		}
	}
}

void oh_k8s_pods_eval(const json_t *pods, json_t *summary, json_t *problems)
{
	json_t *p;
	size_t i, total = 0, running = 0, succeeded = 0, failing = 0;
	json_array_foreach(json_object_get(pods, "items"), i, p)
	{
		const char *phase = oh_str(json_object_get(p, "status"),
					   "phase");
		bool bad = false;
		total++;
		if (phase && strcmp(phase, "Running") == 0)
			running++;
		else if (phase && strcmp(phase, "Succeeded") == 0)
			succeeded++;
		else {
			problem(problems, "pod %s/%s is %s",
				meta(p, "namespace"), meta(p, "name"),
				phase ? phase : "without a phase");
			bad = true;
		}
		container_problems(p, "initContainerStatuses", problems, &bad);
		container_problems(p, "containerStatuses", problems, &bad);
		failing += bad;
	}
	json_object_set_new(summary, "pods",
			    json_pack("{sIsIsIsI}", "total", (json_int_t)total,
				      "running", (json_int_t)running,
				      "succeeded", (json_int_t)succeeded,
				      "failing", (json_int_t)failing));
}

void oh_longhorn_volumes_eval(const json_t *volumes, json_t *summary,
			      json_t *problems)
{
	json_t *v, *counts = json_pack("{sisisisisi}", "healthy", 0,
				       "degraded", 0, "faulted", 0, "unknown",
				       0, "detached", 0);
	size_t i;
	json_array_foreach(json_object_get(volumes, "items"), i, v)
	{
		const json_t *st = json_object_get(v, "status");
		const char *rob = oh_str(st, "robustness");
		const char *state = oh_str(st, "state");
		const char *name = meta(v, "name");
		if (state && strcmp(state, "detached") == 0)
			json_object_set_new(
				counts, "detached",
				json_integer(json_integer_value(
						     json_object_get(counts,
								     "detached")) +
					     1));
		if (!rob)
			rob = "unknown";
		if (json_object_get(counts, rob))
			json_object_set_new(
				counts, rob,
				json_integer(json_integer_value(
						     json_object_get(counts,
								     rob)) +
					     1));
		if (strcmp(rob, "healthy") == 0)
			continue;
		if (strcmp(rob, "unknown") == 0 && state &&
		    strcmp(state, "detached") == 0)
			continue; /* normal for a detached volume */
		problem(problems, "volume %s is %s%s%s", name, rob,
			strcmp(rob, "unknown") == 0 && state ? " while " : "",
			strcmp(rob, "unknown") == 0 && state ? state : "");
	}
	json_object_set_new(summary, "volumes", counts);
}

void oh_longhorn_backups_eval(const json_t *volumes, const json_t *backups,
			      int64_t max_age_ms, int64_t now,
			      json_t *summary, json_t *problems)
{
	json_t *last = json_object(), *b, *v, *per = json_object();
	size_t i;
	/* the newest completed backup of each volume */
	json_array_foreach(json_object_get(backups, "items"), i, b)
	{
		const json_t *st = json_object_get(b, "status");
		const char *vol = oh_str(st, "volumeName");
		const char *at = oh_str(st, "backupCreatedAt");
		const char *state = oh_str(st, "state");
		int64_t ms, prev;
		if (!vol || !state || strcmp(state, "Completed") != 0 ||
		    !oh_time_parse(at, &ms))
			continue;
		prev = json_integer_value(json_object_get(last, vol));
		if (!json_object_get(last, vol) || ms > prev)
			json_object_set_new(last, vol, json_integer(ms));
	}
	json_array_foreach(json_object_get(volumes, "items"), i, v)
	{
		const char *name = meta(v, "name");
		json_t *t = json_object_get(last, name);
		char when[HC_TIME_LEN + 1];
		if (!t) {
			json_object_set_new(per, name,
					    json_pack("{snsn}", "last_completed",
						      "age_s"));
			if (max_age_ms > 0)
				problem(problems,
					"volume %s has no completed backup",
					name);
			continue;
		}
		oh_time_format(json_integer_value(t), when);
		json_object_set_new(
			per, name,
			json_pack("{sssI}", "last_completed", when, "age_s",
				  (json_int_t)((now * 1000 -
						json_integer_value(t)) /
					       1000)));
		if (max_age_ms > 0 &&
		    now * 1000 - json_integer_value(t) > max_age_ms)
			problem(problems,
				"volume %s: last completed backup %lldh ago "
				"(at most %lldh)",
				name,
				(long long)((now * 1000 -
					     json_integer_value(t)) /
					    3600000),
				(long long)(max_age_ms / 3600000));
	}
	json_object_set_new(summary, "backups", per);
	json_decref(last);
}

void oh_longhorn_targets_eval(const json_t *targets, json_t *summary,
			      json_t *problems)
{
	json_t *t, *list = json_array();
	size_t i;
	json_array_foreach(json_object_get(targets, "items"), i, t)
	{
		const json_t *st = json_object_get(t, "status");
		bool ok = json_is_true(json_object_get(st, "available"));
		json_array_append_new(list,
				      json_pack("{sssb}", "name",
						meta(t, "name"), "available",
						ok));
		if (!ok)
			problem(problems, "backup target %s is not available",
				meta(t, "name"));
	}
	json_object_set_new(summary, "backup_targets", list);
}

void oh_certificates_eval(const json_t *certs, int64_t min_validity_ms,
			  int64_t now, json_t *summary, json_t *problems)
{
	json_t *c, *list = json_array();
	size_t i, ready = 0;
	json_array_foreach(json_object_get(certs, "items"), i, c)
	{
		const json_t *st = json_object_get(c, "status");
		const json_t *rc = condition(c, "Ready");
		bool is_ready = rc && oh_str(rc, "status") &&
				strcmp(oh_str(rc, "status"), "True") == 0;
		int64_t not_after = 0, renewal = 0;
		bool has_na = oh_time_parse(oh_str(st, "notAfter"), &not_after);
		bool has_rn = oh_time_parse(oh_str(st, "renewalTime"),
					    &renewal);
		bool scheduled = has_rn && renewal > now * 1000 &&
				 (!has_na || renewal < not_after);
		json_t *e = json_pack("{sssssbsOsOsb}", "namespace",
				      meta(c, "namespace"), "name",
				      meta(c, "name"), "ready", is_ready,
				      "not_after",
				      json_object_get(st, "notAfter")
					      ? json_object_get(st, "notAfter")
					      : json_null(),
				      "renewal_time",
				      json_object_get(st, "renewalTime")
					      ? json_object_get(st,
								"renewalTime")
					      : json_null(),
				      "renewal_scheduled", scheduled);
		json_array_append_new(list, e);
		ready += is_ready;
		if (!is_ready)
			problem(problems, "certificate %s/%s is not Ready%s%s",
				meta(c, "namespace"), meta(c, "name"),
				rc && oh_str(rc, "message") ? ": " : "",
				rc && oh_str(rc, "message")
					? oh_str(rc, "message")
					: "");
		if (has_na && not_after - now * 1000 < min_validity_ms &&
		    !scheduled)
			problem(problems,
				"certificate %s/%s expires in %lldh and no "
				"renewal is scheduled",
				meta(c, "namespace"), meta(c, "name"),
				(long long)((not_after - now * 1000) /
					    3600000));
	}
	json_object_set_new(summary, "certificates",
			    json_pack("{sIsIso}", "total",
				      (json_int_t)json_array_size(list),
				      "ready", (json_int_t)ready, "items",
				      list));
}

/* ---- running the checks ------------------------------------------------------------------ */

/* GET path; a failure becomes a problem. *status 0 when unreachable. */
static json_t *fetch(const struct oh_api *api, const char *path,
		     int64_t timeout_ms, const atomic_bool *cancel,
		     json_t *problems, long *status)
{
	struct hc_err err = { 0 };
	json_t *body = NULL;
	long st = 0;
	if (oh_api_get(api, path, timeout_ms, cancel, &st, &body, &err) !=
	    HC_OK) {
		problem(problems, "%s", err.msg);
	} else if (st != 200) {
		problem(problems, "%s answered HTTP %ld", path, st);
		json_decref(body);
		body = NULL;
	} else if (!body) {
		problem(problems, "%s answered something that is not JSON",
			path);
	}
	if (status)
		*status = st;
	return body;
}

static int64_t duration_or(const json_t *p, const char *key, int64_t dflt)
{
	int64_t ms;
	if (json_object_get(p, key) &&
	    oh_duration_json(json_object_get(p, key), key, &ms, NULL) == HC_OK)
		return ms;
	return dflt;
}

/* Kubernetes: /readyz, nodes and pods. */
static void check_kubernetes(const struct oh_api *api, int64_t timeout_ms,
			     const atomic_bool *cancel, json_t *summary,
			     json_t *problems)
{
	struct hc_err err = { 0 };
	json_t *body = NULL, *nodes, *pods;
	long st = 0;
	/* /readyz answers text ("ok"), not JSON */
	if (oh_api_get(api, "/readyz", timeout_ms, cancel, &st, &body, &err) !=
	    HC_OK) {
		problem(problems, "%s", err.msg);
		json_object_set_new(summary, "readyz", json_string("unreachable"));
		return;
	}
	json_decref(body);
	json_object_set_new(summary, "readyz",
			    json_string(st == 200 ? "ok" : "not ready"));
	if (st != 200)
		problem(problems, "/readyz answered HTTP %ld", st);
	nodes = fetch(api, "/api/v1/nodes", timeout_ms, cancel, problems, NULL);
	if (nodes)
		oh_k8s_nodes_eval(nodes, summary, problems);
	pods = fetch(api, "/api/v1/pods", timeout_ms, cancel, problems, NULL);
	if (pods)
		oh_k8s_pods_eval(pods, summary, problems);
	json_decref(nodes);
	json_decref(pods);
}

static void check_longhorn(const struct oh_api *api, const char *ns,
			   int64_t max_age_ms, int64_t timeout_ms,
			   const atomic_bool *cancel, json_t *summary,
			   json_t *problems)
{
	char path[400];
	json_t *vols, *backups, *targets;
	snprintf(path, sizeof(path),
		 "/apis/longhorn.io/v1beta2/namespaces/%s/volumes", ns);
	vols = fetch(api, path, timeout_ms, cancel, problems, NULL);
	if (vols)
		oh_longhorn_volumes_eval(vols, summary, problems);
	snprintf(path, sizeof(path),
		 "/apis/longhorn.io/v1beta2/namespaces/%s/backuptargets", ns);
	targets = fetch(api, path, timeout_ms, cancel, problems, NULL);
	if (targets)
		oh_longhorn_targets_eval(targets, summary, problems);
	snprintf(path, sizeof(path),
		 "/apis/longhorn.io/v1beta2/namespaces/%s/backups", ns);
	backups = fetch(api, path, timeout_ms, cancel, problems, NULL);
	if (vols && backups)
		oh_longhorn_backups_eval(vols, backups, max_age_ms,
					 oh_now_ms() / 1000, summary, problems);
	json_decref(vols);
	json_decref(backups);
	json_decref(targets);
}

static void check_certificates(const struct oh_api *api, const char *ns,
			       int64_t min_validity_ms, int64_t timeout_ms,
			       const atomic_bool *cancel, bool optional,
			       json_t *summary, json_t *problems)
{
	char path[400];
	json_t *certs, *tmp = json_array();
	long st = 0;
	if (ns)
		snprintf(path, sizeof(path),
			 "/apis/cert-manager.io/v1/namespaces/%s/certificates",
			 ns);
	else
		snprintf(path, sizeof(path),
			 "/apis/cert-manager.io/v1/certificates");
	certs = fetch(api, path, timeout_ms, cancel, tmp, &st);
	if (!certs && optional && st == 404) {
		json_object_set_new(summary, "certificates",
				    json_string("cert-manager not installed"));
	} else {
		json_array_extend(problems, tmp);
		if (certs)
			oh_certificates_eval(certs, min_validity_ms,
					     oh_now_ms() / 1000, summary,
					     problems);
	}
	json_decref(tmp);
	json_decref(certs);
}

#define DEFAULT_MIN_VALIDITY (72LL * 3600 * 1000)

static void sum_up(struct oh_probe_result *res, json_t *problems,
		   const char *fine)
{
	size_t n = json_array_size(problems);
	res->ok = n == 0;
	if (n == 0) {
		snprintf(res->message, sizeof(res->message), "%s", fine);
	} else {
		struct hc_buf b = HC_BUF_INIT(sizeof(res->message) - 1);
		json_t *p;
		size_t i;
		json_array_foreach(problems, i, p)
		{
			if (i == 3) {
				hc_buf_addf(&b, "; and %zu more", n - 3);
				break;
			}
			hc_buf_addf(&b, "%s%s", i ? "; " : "",
				    json_string_value(p));
		}
		snprintf(res->message, sizeof(res->message), "%s",
			 b.data ? b.data : "");
		hc_buf_release(&b);
	}
	json_object_set_new(res->values, "problems", json_incref(problems));
}

void oh__run_cluster_probe(const json_t *p, const json_t *location,
			   int64_t timeout_ms, const atomic_bool *cancel,
			   struct oh_probe_result *res);

void oh__run_cluster_probe(const json_t *p, const json_t *location,
			   int64_t timeout_ms, const atomic_bool *cancel,
			   struct oh_probe_result *res)
{
	const char *kind = oh_str(p, "kind");
	struct oh_api api;
	struct hc_err err = { 0 };
	json_t *problems = json_array();
	if (oh_api_from_location(location, &api, &err) != HC_OK) {
		problem(problems, "%s", err.msg);
		sum_up(res, problems, "");
		json_decref(problems);
		oh_api_release(&api);
		return;
	}
	if (strcmp(kind, "kubernetes") == 0)
		check_kubernetes(&api, timeout_ms, cancel, res->values,
				 problems);
	else if (strcmp(kind, "longhorn") == 0)
		check_longhorn(&api,
			       oh_str(p, "namespace") ? oh_str(p, "namespace")
						      : "longhorn-system",
			       duration_or(p, "max_backup_age", 0), timeout_ms,
			       cancel, res->values, problems);
	else
		check_certificates(&api, oh_str(p, "namespace"),
				   duration_or(p, "min_validity",
					       DEFAULT_MIN_VALIDITY),
				   timeout_ms, cancel, false, res->values,
				   problems);
	sum_up(res, problems,
	       strcmp(kind, "kubernetes") == 0 ? "API ready, nodes ready, pods "
						 "fine"
	       : strcmp(kind, "longhorn") == 0 ? "volumes healthy, backups "
						 "fresh, targets available"
					       : "certificates ready and "
						 "renewing");
	json_decref(problems);
	oh_api_release(&api);
}

/* ---- live reports ---------------------------------------------------------------------- */

static int location_api(struct hc_conn *c, const char *location,
			json_t **loc, struct oh_api *api, struct hc_err *err)
{
	int rc = hc_res_get_plain(c, &oh_location_resource, location, loc,
				  err);
	if (rc == HC_OK && strcmp(oh_str(*loc, "kind"), "cluster") != 0)
		rc = hc_err_field(err, HC_EINVAL, "location",
				  "location '%s' is not a cluster", location);
	if (rc == HC_OK)
		rc = oh_api_from_location(*loc, api, err);
	return rc;
}

/* The services at a location with their health. */
static int services_at(struct hc_conn *c, const char *location,
		       json_t *report, struct hc_err *err)
{
	struct hc_list_query q = { .limit = HC_LIST_MAX_LIMIT };
	json_t *page = NULL, *s, *list = json_array();
	size_t i;
	int rc = hc_list_query_add(&q, &oh_service_resource, "location",
				   location, err);
	if (rc == HC_OK)
		rc = hc_res_list(c, &oh_service_resource, &q, &page, err);
	json_array_foreach(json_object_get(page, "items"), i, s)
		json_array_append_new(list,
				      json_pack("{sOsOsOsO}", "name",
						json_object_get(s, "name"),
						"kind", json_object_get(s, "kind"),
						"health",
						json_object_get(s, "health"),
						"color",
						json_object_get(s, "color")));
	json_object_set_new(report, "services", list);
	json_decref(page);
	return rc;
}

static int live_report(struct hc_conn *c, const char *location,
		       int64_t timeout_ms, bool storage, json_t **out,
		       struct hc_err *err)
{
	json_t *loc = NULL, *summary = json_object(), *problems = json_array();
	struct oh_api api;
	char now[HC_TIME_LEN + 1];
	int rc;
	memset(&api, 0, sizeof(api));
	rc = location_api(c, location, &loc, &api, err);
	if (rc != HC_OK)
		goto out;
	if (timeout_ms <= 0)
		timeout_ms = 10000;
	if (storage)
		check_longhorn(&api, "longhorn-system", 26LL * 3600 * 1000,
			       timeout_ms, NULL, summary, problems);
	else {
		check_kubernetes(&api, timeout_ms, NULL, summary, problems);
		check_certificates(&api, NULL, DEFAULT_MIN_VALIDITY, timeout_ms,
				   NULL, true, summary, problems);
	}
	hc_time_now(now);
	json_object_set_new(summary, "location", json_string(location));
	json_object_set_new(summary, "checked_at", json_string(now));
	json_object_set_new(summary, "healthy",
			    json_boolean(json_array_size(problems) == 0));
	json_object_set(summary, "problems", problems);
	rc = services_at(c, oh_str(loc, "id"), summary, err);
out:
	oh_api_release(&api);
	json_decref(loc);
	json_decref(problems);
	if (rc == HC_OK)
		*out = summary;
	else
		json_decref(summary);
	return rc;
}

int oh_cluster_health(struct hc_conn *c, const char *location,
		      int64_t timeout_ms, json_t **out, struct hc_err *err)
{
	return live_report(c, location, timeout_ms, false, out, err);
}

int oh_storage_health(struct hc_conn *c, const char *location,
		      int64_t timeout_ms, json_t **out, struct hc_err *err)
{
	return live_report(c, location, timeout_ms, true, out, err);
}
