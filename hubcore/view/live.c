/*
 * live.c - the event streams of the pages: one thread per hub renders for
 * every open stream after each change to the database (and once a minute,
 * for figures that age), once per distinct page and arguments, and sends
 * each stream the sections whose HTML changed. The connections sleep in
 * between (hc_resp_pipe), so open pages hold no worker thread.
 *
 * Events:
 *   retry: 2000                    reconnect after 2 s
 *   id: VERSION / event: update / data: {"version", "sections": {id: html}}
 *   : current                      (a reconnect's page is up to date)
 *   event: ping / data: TIME       every 15 s: the page knows the link is up
 *   event: close / data: REASON    the hub is stopping
 * A stream that reconnects with Last-Event-ID equal to the current version
 * gets ": current" and nothing more until something changes.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"
#include "hubcore/watch.h"
#include "view_internal.h"

#define PING_MS 15000
#define REFRESH_MS 60000

struct sub {
	struct hc_pipe *pipe;
	struct hc_view view;       /* page and arguments (no db) */
	char *key;                 /* page path and arguments: who shares */
	uint64_t sent[HC__VIEW_MAX_SECTIONS];
	uint64_t since;            /* Last-Event-ID, 0 when none */
	bool fresh;                /* nothing sent yet */
	bool drop;                 /* a write failed: end it, let it reconnect */
	struct sub *next;
};

struct hc_view_live {
	struct hc_hub *hub;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sub *subs;
	size_t nsubs;
	bool dirty;    /* the database changed */
	bool fresh;    /* a stream waits for its first event */
	bool stopping;
	bool joined;
	int watch_id;
};

int64_t hc__view_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sub_free(struct sub *s)
{
	hc__view_release(&s->view);
	free(s->key);
	free(s);
}

static char *sub_key(const struct hc_view *v)
{
	struct hc_buf b = HC_BUF_INIT(8192);
	hc_buf_adds(&b, v->page->path);
	for (size_t i = 0; i < v->nargs; i++)
		hc_buf_addf(&b, "\n%s=%s", v->args[i].name, v->args[i].value);
	return b.data ? b.data : strdup("");
}

/* ---- one round ------------------------------------------------------------- */

struct cached {
	const char *key;
	struct hc__view_rendered r;
	bool ok;
};

static void send_update(struct sub *s, const struct hc__view_rendered *r)
{
	const struct hc_view_page *page = s->view.page;
	json_t *sections = json_object(), *msg;
	char vers[17], *text;
	size_t len = 0;
	bool any = false;

	snprintf(vers, sizeof(vers), "%016" PRIx64, r->version);
	if (s->fresh && s->since == r->version) {
		/* the page (or the last stream) shows this already: a
		 * comment says so (what a client waits for before it counts
		 * on only changes coming; browsers ignore it) */
		static const char current[] = ": current\n\n";
		memcpy(s->sent, r->hash, sizeof(s->sent));
		s->fresh = false;
		json_decref(sections);
		if (hc_pipe_write(s->pipe, current, sizeof(current) - 1) !=
		    HC_OK)
			s->drop = true;
		return;
	}
	for (size_t i = 0; i < page->nsections; i++) {
		if (!s->fresh && s->sent[i] == r->hash[i])
			continue;
		json_object_set_new(sections, page->sections[i].id,
				    json_stringn(r->html[i], r->len[i]));
		s->sent[i] = r->hash[i];
		any = true;
	}
	s->fresh = false;
	if (!any) {
		json_decref(sections);
		return;
	}
	msg = json_pack("{ssso}", "version", vers, "sections", sections);
	text = msg ? hc_json_dump(msg, &len) : NULL;
	json_decref(msg);
	if (!text)
		return;
	{
		/* one write per event: the client never sees half of one */
		struct hc_buf ev = HC_BUF_INIT(len + 64);
		/* a client that stops reading fills its buffer: its stream
		 * ends after what it has, and the reconnect brings the whole
		 * page again (never a page that silently missed an update) */
		if (hc_buf_addf(&ev, "id: %s\nevent: update\ndata: ", vers) !=
			    HC_OK ||
		    hc_buf_add(&ev, text, len) != HC_OK ||
		    hc_buf_add(&ev, "\n\n", 2) != HC_OK ||
		    hc_pipe_write(s->pipe, ev.data, ev.len) != HC_OK)
			s->drop = true;
		hc_buf_release(&ev);
	}
	free(text);
}

static void round_run(struct hc_view_live *l, struct sub **list, size_t n,
		      bool all)
{
	struct hc_hub *hub = l->hub;
	struct cached *cache = calloc(n ? n : 1, sizeof(*cache));
	size_t ncache = 0;
	struct hc_err err = { 0 };
	struct hc_conn *c;

	if (!cache)
		return;
	c = hc_store_acquire(hub->store, &err);
	if (!c) {
		char msg[HC_ERR_MSG_MAX + 64];
		hc_log_warn(&hub->log, "live views: %s",
			    hc_err_format(&err, msg, sizeof(msg)));
		free(cache);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct sub *s = list[i];
		struct cached *hit = NULL;
		if (!all && !s->fresh)
			continue;
		for (size_t k = 0; k < ncache && !hit; k++)
			if (strcmp(cache[k].key, s->key) == 0)
				hit = &cache[k];
		if (!hit) {
			struct hc_err e = { 0 };
			hit = &cache[ncache++];
			hit->key = s->key;
			s->view.now_ms = hc__view_now_ms();
			hit->ok = hc__view_render(&s->view, c, &hit->r, &e) ==
				  HC_OK;
			if (!hit->ok) {
				char msg[HC_ERR_MSG_MAX + 64];
				hc_log_warn(&hub->log, "live view %s: %s",
					    s->view.page->path,
					    hc_err_format(&e, msg,
							  sizeof(msg)));
			}
		}
		if (hit->ok)
			send_update(s, &hit->r);
	}
	hc_store_release(hub->store, c);
	for (size_t k = 0; k < ncache; k++)
		hc__view_rendered_release(&cache[k].r);
	free(cache);
}

static void ping(struct sub **list, size_t n)
{
	char now[HC_TIME_LEN + 1], line[64];
	int len;
	hc_time_now(now);
	len = snprintf(line, sizeof(line), "event: ping\ndata: %s\n\n", now);
	for (size_t i = 0; i < n; i++)
		if (hc_pipe_write(list[i]->pipe, line, (size_t)len) != HC_OK)
			list[i]->drop = true;
}

/* Drop the streams whose client has gone or that could not be written
 * to; the caller holds the lock. */
static void reap(struct hc_view_live *l)
{
	struct sub **pp = &l->subs;
	while (*pp) {
		struct sub *s = *pp;
		if (s->drop || hc_pipe_broken(s->pipe)) {
			*pp = s->next;
			l->nsubs--;
			hc_pipe_close(s->pipe);
			sub_free(s);
		} else {
			pp = &s->next;
		}
	}
}

static void deadline(struct timespec *ts, int64_t at_ms)
{
	ts->tv_sec = (time_t)(at_ms / 1000);
	ts->tv_nsec = (long)(at_ms % 1000) * 1000000L;
}

static void *live_main(void *arg)
{
	struct hc_view_live *l = arg;
	int64_t next_ping = hc__view_now_ms() + PING_MS;
	int64_t next_refresh = hc__view_now_ms() + REFRESH_MS;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		struct sub **list;
		size_t n = 0;
		bool all, do_ping;
		int64_t now = hc__view_now_ms();
		while (!l->stopping && !l->dirty && !l->fresh &&
		       now < next_ping && now < next_refresh) {
			struct timespec ts;
			deadline(&ts, next_ping < next_refresh ? next_ping
							       : next_refresh);
			pthread_cond_timedwait(&l->cond, &l->lock, &ts);
			now = hc__view_now_ms();
		}
		if (l->stopping)
			break;
		all = l->dirty || now >= next_refresh;
		do_ping = now >= next_ping;
		l->dirty = l->fresh = false;
		if (now >= next_refresh)
			next_refresh = now + REFRESH_MS;
		if (do_ping)
			next_ping = now + PING_MS;
		reap(l);
		list = calloc(l->nsubs ? l->nsubs : 1, sizeof(*list));
		for (struct sub *s = l->subs; s && list; s = s->next)
			list[n++] = s;
		/* only this thread removes streams: the list stays valid */
		pthread_mutex_unlock(&l->lock);
		if (list) {
			round_run(l, list, n, all);
			if (do_ping)
				ping(list, n);
		}
		free(list);
		pthread_mutex_lock(&l->lock);
	}
	/* the hub stops: say so and end every stream cleanly */
	while (l->subs) {
		struct sub *s = l->subs;
		static const char bye[] =
			"event: close\ndata: the hub is stopping\n\n";
		l->subs = s->next;
		l->nsubs--;
		hc_pipe_write(s->pipe, bye, sizeof(bye) - 1);
		hc_pipe_close(s->pipe);
		sub_free(s);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

static void on_change(void *ctx, uint64_t seq)
{
	struct hc_view_live *l = ctx;
	pthread_mutex_lock(&l->lock);
	l->dirty = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	(void)seq;
}

/* The hub's live machinery, started by the first stream. NULL with err
 * filled when it cannot start or the hub is stopping. */
static struct hc_view_live *live_get(struct hc_hub *hub, struct hc_err *err)
{
	struct hc_view_live *l;
	struct hc_watch *w;
	pthread_mutex_lock(&hub->view_lock);
	l = hub->view;
	if (l || hub->view_stopped) {
		pthread_mutex_unlock(&hub->view_lock);
		if (!l)
			hc_err_set(err, HC_EBUSY, "the hub is stopping");
		return l;
	}
	w = hc_hub_watch(hub, err);
	l = w ? calloc(1, sizeof(*l)) : NULL;
	if (w && !l)
		hc_err_set(err, HC_ENOMEM, "out of memory");
	if (l) {
		l->hub = hub;
		pthread_mutex_init(&l->lock, NULL);
		pthread_cond_init(&l->cond, NULL);
		if (pthread_create(&l->thread, NULL, live_main, l) != 0) {
			pthread_mutex_destroy(&l->lock);
			pthread_cond_destroy(&l->cond);
			free(l);
			l = NULL;
			hc_err_set(err, HC_EBUSY, "cannot start live views");
		} else {
			l->watch_id = hc_watch_listen(w, on_change, l);
			if (!l->watch_id)
				hc_log_warn(&hub->log,
					    "live views: too many watch "
					    "listeners; pages update once a "
					    "minute");
			hub->view = l;
		}
	}
	pthread_mutex_unlock(&hub->view_lock);
	return l;
}

static uint64_t parse_version(const char *s)
{
	char *end;
	uint64_t v;
	if (!s || strlen(s) != 16)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 16);
	return *end || errno ? 0 : v;
}

int hc__view_stream(struct hc_req *req, struct hc_resp *resp,
		    struct hc_view *v, struct hc_err *err)
{
	struct hc_view_live *l = live_get(req->hub, err);
	struct sub *s;
	static const char hello[] = "retry: 2000\n\n";
	if (!l) {
		hc_resp_header(resp, "Retry-After", "5");
		return err->status;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	s->view = *v; /* the arguments move into the stream */
	memset(v, 0, sizeof(*v));
	s->view.db = NULL;
	s->key = sub_key(&s->view);
	s->since = parse_version(hc_req_header(req, "Last-Event-ID"));
	s->fresh = true;
	pthread_mutex_lock(&l->lock);
	if (l->stopping || l->nsubs >= HC_VIEW_MAX_STREAMS) {
		bool stopping = l->stopping;
		pthread_mutex_unlock(&l->lock);
		sub_free(s);
		hc_resp_header(resp, "Retry-After", "5");
		return stopping ? hc_err_set(err, HC_EBUSY,
					     "the hub is stopping")
				: hc_err_set(err, HC_EBUSY,
					     "too many live pages are open "
					     "(at most %d); try again later",
					     HC_VIEW_MAX_STREAMS);
	}
	s->pipe = hc_resp_pipe(req, resp, 200, "text/event-stream");
	if (!s->pipe || !s->key) {
		pthread_mutex_unlock(&l->lock);
		if (s->pipe)
			hc_pipe_close(s->pipe);
		sub_free(s);
		return hc_err_set(err, HC_EINTERNAL, "cannot open a stream");
	}
	hc_pipe_write(s->pipe, hello, sizeof(hello) - 1);
	s->next = l->subs;
	l->subs = s;
	l->nsubs++;
	l->fresh = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	return HC_OK;
}

void hc_view_shutdown(struct hc_hub *hub)
{
	struct hc_view_live *l;
	pthread_mutex_lock(&hub->view_lock);
	hub->view_stopped = true;
	l = hub->view;
	pthread_mutex_unlock(&hub->view_lock);
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	if (l->joined) {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	l->stopping = true;
	l->joined = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	if (l->watch_id && hub->watch)
		hc_watch_unlisten(hub->watch, l->watch_id);
	pthread_join(l->thread, NULL);
}

void hc_view_free(struct hc_hub *hub)
{
	struct hc_view_live *l;
	hc_view_shutdown(hub);
	pthread_mutex_lock(&hub->view_lock);
	l = hub->view;
	hub->view = NULL;
	pthread_mutex_unlock(&hub->view_lock);
	if (!l)
		return;
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->cond);
	free(l);
}

size_t hc_view_streams(struct hc_hub *hub)
{
	size_t n = 0;
	pthread_mutex_lock(&hub->view_lock);
	if (hub->view) {
		pthread_mutex_lock(&hub->view->lock);
		n = hub->view->nsubs;
		pthread_mutex_unlock(&hub->view->lock);
	}
	pthread_mutex_unlock(&hub->view_lock);
	return n;
}
