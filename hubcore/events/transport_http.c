/*
 * transport_http.c - deliveries over HTTP (the default transport): a batch
 * is POSTed to the subscriber's /events/inbox with the hub's
 * service-account token when identity checks are on, and the receiver
 * answers per event after its commit.
 *
 * An answer that is not one (connection refused, timeout, 5xx, a refused
 * token) holds the whole subscription back and counts no event's attempt:
 * an unreachable hub never dead-letters anything. A request the receiver
 * refuses as a whole (4xx) is sent again one event at a time, so that only
 * the event at fault counts an attempt.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_internal.h"
#include "hubcore/auth.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"

#define RESP_MAX (4 * 1024 * 1024)

/* The transport's state: used by the forwarder thread only. */
struct ev_http {
	struct hc_hub *hub;
	CURL *curl; /* kept between requests: its connections are reused */
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct hc_buf *b = arg;
	return hc_buf_add(b, data, size * n) == HC_OK ? size * n : 0;
}

/* The body of a delivery: {"events": [{id, type, source, time, payload}]}. */
static char *batch_body(const char *source, struct ev_item *items, size_t n)
{
	json_t *events = json_array();
	char *text;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(events, ev_item_event(source, &items[i]));
	{
		json_t *body = json_pack("{so}", "events", events);
		text = body ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
	}
	return text;
}

/*
 * POST items to one subscriber. Returns 0 when the receiver answered per
 * event (outcomes filled), 1 when it refused the request as a whole (4xx:
 * send again one by one), -1 when there was no usable answer (error
 * says why).
 */
static int post(struct ev_http *t, const struct ev_config *cfg,
		const struct ev_sub *s, struct ev_item *items, size_t n,
		char *error, size_t esize)
{
	struct hc_hub *hub = t->hub;
	struct curl_slist *h = NULL;
	struct hc_buf resp = HC_BUF_INIT(RESP_MAX);
	char url[1100], *body = batch_body(hub->def->name, items, n);
	char *token = NULL, auth[8192] = "";
	json_t *answer = NULL, *results;
	long status = 0;
	CURLcode cc;
	int out = -1;

	if (!body) {
		snprintf(error, esize, "out of memory");
		return -1;
	}
	if (hub->auth) {
		struct hc_err e = { 0 };
		if (hc_auth_service_token(hub->auth,
					  s->audience ? s->audience : s->url,
					  &token, &e) != HC_OK) {
			char msg[512];
			snprintf(error, esize, "no service-account token: %s",
				 hc_err_format(&e, msg, sizeof(msg)));
			free(body);
			return -1;
		}
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
		explicit_bzero(token, strlen(token));
		free(token);
	}
	if (!t->curl)
		t->curl = curl_easy_init();
	if (!t->curl) {
		snprintf(error, esize, "cannot make an HTTP client");
		free(body);
		curl_slist_free_all(h);
		return -1;
	}
	snprintf(url, sizeof(url), "%s/events/inbox", s->url);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_reset(t->curl);
	curl_easy_setopt(t->curl, CURLOPT_URL, url);
	curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(cfg->timeout_ms < 5000 ? cfg->timeout_ms
						       : 5000));
	curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->curl, CURLOPT_USERAGENT, "foshub-events");
	cc = curl_easy_perform(t->curl);
	if (auth[0])
		explicit_bzero(auth, sizeof(auth));
	curl_slist_free_all(h);
	free(body);
	if (cc != CURLE_OK) {
		snprintf(error, esize, "%s: %s", url, curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200)
		hc_json_parse(resp.data ? resp.data : "", resp.len, &answer,
			      NULL);
	results = json_object_get(answer, "results");
	if (status == 200 && json_array_size(results) == n) {
		for (size_t i = 0; i < n; i++) {
			json_t *r = json_array_get(results, i);
			const char *st = hc_json_str(r, "status");
			if (st && strcmp(st, "rejected") == 0) {
				items[i].outcome = EV_REFUSED;
				snprintf(items[i].error, sizeof(items[i].error),
					 "%s refused it: %s", s->name,
					 hc_json_str(r, "error")
						 ? hc_json_str(r, "error")
						 : "no reason given");
			} else if (st && (strcmp(st, "applied") == 0 ||
					  strcmp(st, "duplicate") == 0 ||
					  strcmp(st, "ignored") == 0)) {
				items[i].outcome = EV_DONE;
			}
		}
		out = 0;
	} else if (status >= 400 && status < 500 && status != 401 &&
		   status != 403 && status != 404 && status != 408 &&
		   status != 429) {
		/* the request as a whole: find the event at fault */
		json_t *p = NULL;
		hc_json_parse(resp.data ? resp.data : "", resp.len, &p, NULL);
		snprintf(error, esize, "%s answered %ld: %s", url, status,
			 hc_json_str(p, "detail") ? hc_json_str(p, "detail")
						  : "no detail");
		json_decref(p);
		out = 1;
	} else {
		json_t *p = NULL;
		hc_json_parse(resp.data ? resp.data : "", resp.len, &p, NULL);
		snprintf(error, esize, "%s answered %ld%s%s", url, status,
			 hc_json_str(p, "detail") ? ": " : "",
			 hc_json_str(p, "detail") ? hc_json_str(p, "detail")
						  : "");
		json_decref(p);
	}
done:
	json_decref(answer);
	hc_buf_release(&resp);
	return out;
}

static int http_send(void *state, const struct ev_config *cfg,
		     const struct ev_sub *s, struct ev_item *items, size_t n,
		     char *error, size_t esize)
{
	struct ev_http *t = state;
	int r = post(t, cfg, s, items, n, error, esize);
	if (r == 1 && n > 1) {
		/* one by one: only the event at fault counts an attempt */
		for (size_t i = 0; i < n && r != -1; i++) {
			char e1[800] = "";
			r = post(t, cfg, s, &items[i], 1, e1, sizeof(e1));
			if (r == 1) {
				items[i].outcome = EV_REFUSED;
				snprintf(items[i].error,
					 sizeof(items[i].error), "%s", e1);
				r = 0;
			} else if (r == -1) {
				snprintf(error, esize, "%s", e1);
			}
		}
	} else if (r == 1) {
		items[0].outcome = EV_REFUSED;
		snprintf(items[0].error, sizeof(items[0].error), "%s", error);
		r = 0;
	}
	return r;
}

static int http_open(struct hc_events *ev, const struct ev_config *cfg,
		     void **state, struct hc_err *err)
{
	struct ev_http *t = calloc(1, sizeof(*t));
	if (!t)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	/* libcurl counts its own initialisations */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	t->hub = ev->hub;
	*state = t;
	return HC_OK;
}

static void http_thread_done(void *state)
{
	struct ev_http *t = state;
	if (t->curl)
		curl_easy_cleanup(t->curl);
	t->curl = NULL;
}

static void http_close(void *state)
{
	struct ev_http *t = state;
	if (!t)
		return;
	if (t->curl)
		curl_easy_cleanup(t->curl);
	free(t);
	curl_global_cleanup();
}

const struct ev_transport ev_http_transport = {
	.name = "http",
	.open = http_open,
	.send = http_send,
	.thread_done = http_thread_done,
	.close = http_close,
};
