/*
 * forwarder.c - the thread that delivers a hub's outbox, and the events'
 * life cycle in the hub.
 *
 * One thread per hub walks the subscriptions: it takes a batch of due
 * deliveries (ev_outbox_take), hands it to the transport (HTTP by default,
 * NATS JetStream with `nats:`), and records the outcome of each event in
 * one transaction (ev_outbox_record). A transport that could not reach
 * the subscriber holds its subscription back with exponential backoff and
 * jitter, and no event's attempts are counted. The thread sleeps until
 * the database changes (the hub's watch), the next poll, or the stop.
 *
 * The transport is chosen when the hub starts; a reload may change the
 * subscriptions and senders, not the transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events_internal.h"
#include "hubcore/json.h"
#include "hubcore/watch.h"

/* The forwarder's state of one subscription (its thread only). */
struct fw_sub {
	char *name;
	int failures;     /* transport failures in a row */
	int64_t retry_at; /* ms: held back until then */
};

struct fw {
	struct hc_events *ev;
	struct ev_config *cfg;
	unsigned generation;
	struct fw_sub *subs;
	size_t nsubs;
	int64_t next_prune;
};

static void subs_free(struct fw *f)
{
	for (size_t i = 0; i < f->nsubs; i++)
		free(f->subs[i].name);
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
			}
	}
	subs_free(f);
	f->subs = subs;
	f->nsubs = cfg->nsubs;
	ev_config_unref(f->cfg);
	f->cfg = cfg;
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
	r = f->ev->transport->send(f->ev->tstate, f->cfg, s, items, n, error,
				   sizeof(error));
	c = hc_store_acquire(hub->store, &err);
	if (c) {
		size_t done = 0, refused = 0, sent = 0;
		for (size_t i = 0; i < n; i++) {
			done += items[i].outcome == EV_DONE;
			refused += items[i].outcome == EV_REFUSED;
			sent += items[i].outcome == EV_SENT;
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
		/* a transport with receipts learns of success from them */
		if (r == -1 || refused || done)
			ev_outbox_subscription_result(
				c, s->name,
				r == -1	   ? error
				: refused ? "an event was refused (see the "
					    "dead letters or last errors)"
					  : NULL,
				&err);
		hc_store_release(hub->store, c);
		if (done)
			hc_log_debug(&hub->log,
				     "events: delivered %zu to %s", done,
				     s->name);
		if (sent)
			hc_log_debug(&hub->log,
				     "events: %zu for %s handed to %s", sent,
				     s->name, f->ev->transport->name);
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
	if (ev->transport->thread_done)
		ev->transport->thread_done(ev->tstate);
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
	struct ev_config *cfg;
	int rc;
	if (!ev || ev->running)
		return HC_OK;
	cfg = ev_current(ev);
	ev->transport = cfg->nats_url ? &ev_nats_transport : &ev_http_transport;
	rc = ev->transport->open(ev, cfg, &ev->tstate, err);
	ev_config_unref(cfg);
	if (rc != HC_OK)
		return hc_err_prefix(err, "events over %s", ev->transport->name);
	w = hc_hub_watch(hub, err);
	if (w)
		ev->watch_id = hc_watch_listen(w, on_change, ev);
	if (pthread_create(&ev->thread, NULL, ev_forwarder_main, ev) != 0) {
		if (ev->watch_id)
			hc_watch_unlisten(hub->watch, ev->watch_id);
		ev->watch_id = 0;
		ev->transport->close(ev->tstate);
		ev->tstate = NULL;
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
	if (ev->running && !ev_config_same_transport(ev->cfg, cfg)) {
		rc = hc_err_at(err, HC_EPARSE, cfg->path,
			       cfg->nats_line ? cfg->nats_line
					      : cfg->events_line,
			       0,
			       "the events' transport (nats and its keys) "
			       "changed: that needs a restart of the hub");
		ev_config_unref(cfg);
		return rc;
	}
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
		ev->transport->close(ev->tstate);
		ev->tstate = NULL;
	}
	ev_config_unref(ev->cfg);
	pthread_mutex_destroy(&ev->lock);
	pthread_cond_destroy(&ev->wake);
	free(ev);
	hub->events = NULL;
}
