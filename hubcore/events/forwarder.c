/*
 * forwarder.c - the thread that delivers a hub's outbox, and the events'
 * life cycle in the hub.
 *
 * One thread per hub walks the subscriptions: it takes a batch of due
 * deliveries (ev_outbox_take), POSTs them to the subscriber's
 * /events/inbox with the hub's service-account token when identity checks
 * are on, and records the outcome of each event. The receiver answers per
 * event; an answer that is not one (connection refused, timeout, 5xx, a
 * refused token) holds the whole subscription back with exponential
 * backoff and jitter, and no event's attempts are counted: an unreachable
 * hub never dead-letters anything. A request the receiver refuses as a
 * whole (4xx) is sent again one event at a time, so that only the event at
 * fault counts an attempt. The thread sleeps until the database changes
 * (the hub's watch), the next poll, or the stop.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events_internal.h"
#include "hubcore/auth.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "hubcore/watch.h"

#define RESP_MAX (4 * 1024 * 1024)

/* The forwarder's state of one subscription (its thread only). */
struct fw_sub {
	char *name;
	int failures;     /* transport failures in a row */
	int64_t retry_at; /* ms: held back until then */
	CURL *curl;
};

struct fw {
	struct hc_events *ev;
	struct ev_config *cfg;
	unsigned generation;
	struct fw_sub *subs;
	size_t nsubs;
	int64_t next_prune;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct hc_buf *b = arg;
	return hc_buf_add(b, data, size * n) == HC_OK ? size * n : 0;
}

static void subs_free(struct fw *f)
{
	for (size_t i = 0; i < f->nsubs; i++) {
		free(f->subs[i].name);
		if (f->subs[i].curl)
			curl_easy_cleanup(f->subs[i].curl);
	}
	free(f->subs);
	f->subs = NULL;
	f->nsubs = 0;
}

/* Take up a new configuration, keeping the state of subscriptions that
 * stay. */
static void fw_configure(struct fw *f, struct ev_config *cfg)
{
	struct fw_sub *subs = calloc(cfg->nsubs + 1, sizeof(*subs));
	if (!subs) {
		ev_config_unref(cfg);
		return;
	}
	for (size_t i = 0; i < cfg->nsubs; i++) {
		subs[i].name = strdup(cfg->subs[i].name);
		for (size_t k = 0; k < f->nsubs; k++)
			if (f->subs[k].name &&
			    strcmp(f->subs[k].name, cfg->subs[i].name) == 0) {
				subs[i].failures = f->subs[k].failures;
				subs[i].retry_at = f->subs[k].retry_at;
				subs[i].curl = f->subs[k].curl;
				f->subs[k].curl = NULL;
			}
	}
	subs_free(f);
	f->subs = subs;
	f->nsubs = cfg->nsubs;
	ev_config_unref(f->cfg);
	f->cfg = cfg;
}

/* The body of a delivery: {"events": [{id, type, source, time, payload}]}. */
static char *batch_body(const char *source, struct ev_item *items, size_t n)
{
	json_t *events = json_array();
	char *text;
	for (size_t i = 0; i < n; i++) {
		json_t *payload = NULL;
		if (hc_json_parse(items[i].payload, strlen(items[i].payload),
				  &payload, NULL) != HC_OK)
			payload = json_object();
		json_array_append_new(
			events, json_pack("{s:s,s:s,s:s,s:s,s:o}", "id",
					  items[i].id, "type", items[i].type,
					  "source", source, "time",
					  items[i].time, "payload", payload));
	}
	{
		json_t *body = json_pack("{so}", "events", events);
		text = body ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
	}
	return text;
}

/*
 * Send items to one subscriber. Returns 0 when the receiver answered per
 * event (outcomes filled), 1 when it refused the request as a whole (4xx:
 * send again one by one), -1 when there was no usable answer (error
 * says why).
 */
static int post(struct fw *f, struct fw_sub *fs, const struct ev_sub *s,
		struct ev_item *items, size_t n, char *error, size_t esize)
{
	struct hc_hub *hub = f->ev->hub;
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
	if (!fs->curl)
		fs->curl = curl_easy_init();
	if (!fs->curl) {
		snprintf(error, esize, "cannot make an HTTP client");
		free(body);
		curl_slist_free_all(h);
		return -1;
	}
	snprintf(url, sizeof(url), "%s/events/inbox", s->url);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_reset(fs->curl);
	curl_easy_setopt(fs->curl, CURLOPT_URL, url);
	curl_easy_setopt(fs->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(fs->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(fs->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(fs->curl, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(fs->curl, CURLOPT_TIMEOUT_MS,
			 (long)f->cfg->timeout_ms);
	curl_easy_setopt(fs->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(f->cfg->timeout_ms < 5000 ? f->cfg->timeout_ms
							  : 5000));
	curl_easy_setopt(fs->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(fs->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(fs->curl, CURLOPT_USERAGENT, "foshub-events");
	cc = curl_easy_perform(fs->curl);
	if (auth[0])
		explicit_bzero(auth, sizeof(auth));
	curl_slist_free_all(h);
	free(body);
	if (cc != CURLE_OK) {
		snprintf(error, esize, "%s: %s", url, curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(fs->curl, CURLINFO_RESPONSE_CODE, &status);
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

/* Deliver one batch of one subscription; true when there may be more. */
static bool deliver(struct fw *f, struct fw_sub *fs, const struct ev_sub *s)
{
	struct hc_hub *hub = f->ev->hub;
	struct hc_err err = { 0 };
	struct ev_item *items = NULL;
	struct hc_conn *c;
	char error[800] = "";
	size_t n = 0;
	int64_t now = ev_now_ms();
	int r;
	bool more;

	if (now < fs->retry_at)
		return false;
	c = hc_store_acquire(hub->store, &err);
	if (!c)
		return false;
	if (ev_outbox_take(c, s->name, now, (size_t)f->cfg->batch, &items, &n,
			   &err) != HC_OK) {
		char msg[600];
		hc_log_error(&hub->log, "events: cannot read the outbox: %s",
			     hc_err_format(&err, msg, sizeof(msg)));
		hc_store_release(hub->store, c);
		return false;
	}
	hc_store_release(hub->store, c);
	if (!n) {
		free(items);
		return false;
	}
	more = n == (size_t)f->cfg->batch;
	r = post(f, fs, s, items, n, error, sizeof(error));
	if (r == 1 && n > 1) {
		/* one by one: only the event at fault counts an attempt */
		for (size_t i = 0; i < n && r != -1; i++) {
			char e1[800] = "";
			r = post(f, fs, s, &items[i], 1, e1, sizeof(e1));
			if (r == 1) {
				items[i].outcome = EV_REFUSED;
				snprintf(items[i].error,
					 sizeof(items[i].error), "%s", e1);
				r = 0;
			} else if (r == -1) {
				snprintf(error, sizeof(error), "%s", e1);
			}
		}
	} else if (r == 1) {
		items[0].outcome = EV_REFUSED;
		snprintf(items[0].error, sizeof(items[0].error), "%s", error);
		r = 0;
	}
	c = hc_store_acquire(hub->store, &err);
	if (c) {
		size_t done = 0, refused = 0;
		for (size_t i = 0; i < n; i++) {
			done += items[i].outcome == EV_DONE;
			refused += items[i].outcome == EV_REFUSED;
		}
		if (ev_outbox_record(c, s->name, items, n, f->cfg, &err) !=
		    HC_OK) {
			char msg[600];
			hc_log_error(&hub->log,
				     "events: cannot record deliveries to %s: "
				     "%s",
				     s->name,
				     hc_err_format(&err, msg, sizeof(msg)));
		}
		if (r == -1) {
			fs->failures++;
			fs->retry_at = ev_now_ms() +
				       ev_backoff(fs->failures,
						  f->cfg->retry_base_ms,
						  f->cfg->retry_max_ms);
			if (fs->failures == 1 || fs->failures % 10 == 0)
				hc_log_warn(&hub->log,
					    "events: delivery to %s failed "
					    "(%d in a row), retrying with "
					    "backoff: %s",
					    s->name, fs->failures, error);
			more = false;
		} else {
			if (fs->failures)
				hc_log_info(&hub->log,
					    "events: %s reachable again",
					    s->name);
			fs->failures = 0;
			fs->retry_at = 0;
		}
		if (refused)
			hc_log_warn(&hub->log,
				    "events: %s refused %zu event%s: %s",
				    s->name, refused, refused == 1 ? "" : "s",
				    items[0].outcome == EV_REFUSED
					    ? items[0].error
					    : "see GET /events/dead");
		ev_outbox_subscription_result(
			c, s->name,
			r == -1	   ? error
			: refused ? "an event was refused (see the dead "
				    "letters or last errors)"
				  : NULL,
			&err);
		hc_store_release(hub->store, c);
		if (done)
			hc_log_debug(&hub->log,
				     "events: delivered %zu to %s", done,
				     s->name);
	}
	ev_items_free(items, n);
	return more;
}

static void on_change(void *ctx, uint64_t seq)
{
	struct hc_events *ev = ctx;
	pthread_mutex_lock(&ev->lock);
	pthread_cond_signal(&ev->wake);
	pthread_mutex_unlock(&ev->lock);
}

void *ev_forwarder_main(void *arg)
{
	struct hc_events *ev = arg;
	struct hc_hub *hub = ev->hub;
	struct fw f = { .ev = ev };

	pthread_mutex_lock(&ev->lock);
	f.generation = ev->generation;
	pthread_mutex_unlock(&ev->lock);
	fw_configure(&f, ev_current(ev));
	f.next_prune = ev_now_ms() + 60000;
	for (;;) {
		bool more = false, stop;
		struct timespec ts;
		int64_t wait = f.cfg->poll_ms;

		pthread_mutex_lock(&ev->lock);
		stop = ev->stopping;
		if (!stop && ev->generation != f.generation) {
			f.generation = ev->generation;
			pthread_mutex_unlock(&ev->lock);
			fw_configure(&f, ev_current(ev));
			pthread_mutex_lock(&ev->lock);
		}
		pthread_mutex_unlock(&ev->lock);
		if (stop)
			break;
		for (size_t i = 0; i < f.nsubs && i < f.cfg->nsubs; i++) {
			more = deliver(&f, &f.subs[i], &f.cfg->subs[i]) || more;
			/* the soonest a held-back subscription may go */
			if (f.subs[i].retry_at) {
				int64_t d = f.subs[i].retry_at - ev_now_ms();
				if (d < wait)
					wait = d < 1 ? 1 : d;
			}
		}
		if (ev_now_ms() > f.next_prune) {
			struct hc_err err = { 0 };
			struct hc_conn *c = hc_store_acquire(hub->store, &err);
			if (c) {
				ev_outbox_prune(c, f.cfg->retention_ms, &err);
				hc_store_release(hub->store, c);
			}
			f.next_prune = ev_now_ms() + 3600000;
		}
		if (more)
			continue;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait / 1000;
		ts.tv_nsec += (wait % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&ev->lock);
		if (!ev->stopping)
			pthread_cond_timedwait(&ev->wake, &ev->lock, &ts);
		pthread_mutex_unlock(&ev->lock);
	}
	subs_free(&f);
	ev_config_unref(f.cfg);
	return NULL;
}

/* ---- life cycle ---------------------------------------------------------------- */

int hc_events_open(struct hc_hub *hub, struct hc_err *err)
{
	struct hc_events *ev;
	struct ev_config *cfg = NULL;
	int rc = ev_config_load(hub->config.config_path, &cfg, err);
	if (rc != HC_OK)
		return rc;
	rc = ev_sync_subscriptions(hub->store, cfg, err);
	if (rc != HC_OK) {
		ev_config_unref(cfg);
		return hc_err_prefix(err, "events");
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev) {
		ev_config_unref(cfg);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	ev->hub = hub;
	ev->cfg = cfg;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->wake, NULL);
	hub->events = ev;
	if (cfg->nsubs || cfg->nsenders)
		hc_log_info(&hub->log,
			    "events: %zu subscriber%s, %zu sender%s (%s)",
			    cfg->nsubs, cfg->nsubs == 1 ? "" : "s",
			    cfg->nsenders, cfg->nsenders == 1 ? "" : "s",
			    cfg->path ? cfg->path : "no configuration");
	return HC_OK;
}

int hc_events_run(struct hc_hub *hub, struct hc_err *err)
{
	struct hc_events *ev = hub->events;
	struct hc_watch *w;
	if (!ev || ev->running)
		return HC_OK;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	w = hc_hub_watch(hub, err);
	if (w)
		ev->watch_id = hc_watch_listen(w, on_change, ev);
	if (pthread_create(&ev->thread, NULL, ev_forwarder_main, ev) != 0) {
		if (ev->watch_id)
			hc_watch_unlisten(hub->watch, ev->watch_id);
		ev->watch_id = 0;
		curl_global_cleanup();
		return hc_err_set(err, HC_EINTERNAL,
				  "cannot start the event forwarder");
	}
	ev->running = true;
	return HC_OK;
}

int hc_events_reload(struct hc_hub *hub, struct hc_err *err)
{
	struct hc_events *ev = hub->events;
	struct ev_config *cfg = NULL, *old;
	int rc = ev_config_load(hub->config.config_path, &cfg, err);
	if (rc != HC_OK)
		return rc;
	rc = ev_sync_subscriptions(hub->store, cfg, err);
	if (rc != HC_OK) {
		ev_config_unref(cfg);
		return hc_err_prefix(err, "events");
	}
	pthread_mutex_lock(&ev->lock);
	old = ev->cfg;
	ev->cfg = cfg;
	ev->generation++;
	pthread_cond_signal(&ev->wake);
	pthread_mutex_unlock(&ev->lock);
	ev_config_unref(old);
	return HC_OK;
}

void hc_events_close(struct hc_hub *hub)
{
	struct hc_events *ev = hub ? hub->events : NULL;
	if (!ev)
		return;
	if (ev->running) {
		if (ev->watch_id)
			hc_watch_unlisten(hub->watch, ev->watch_id);
		pthread_mutex_lock(&ev->lock);
		ev->stopping = true;
		pthread_cond_signal(&ev->wake);
		pthread_mutex_unlock(&ev->lock);
		pthread_join(ev->thread, NULL);
		curl_global_cleanup();
	}
	ev_config_unref(ev->cfg);
	pthread_mutex_destroy(&ev->lock);
	pthread_cond_destroy(&ev->wake);
	free(ev);
	hub->events = NULL;
}
