/*
 * watch.c - polling the store's data version (hc_data_version) for
 * changes committed by other connections (see hubcore/watch.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "hubcore/watch.h"

#define MAX_LISTENERS 64

struct listener {
	int id;
	hc_watch_fn *fn;
	void *ctx;
};

struct hc_watch {
	struct hc_store *store;
	struct hc_conn *conn;
	unsigned interval_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;   /* wakes waiters and the thread on stop */
	pthread_mutex_t calling; /* held while listeners run */
	bool stop;
	uint64_t seq;
	int64_t version;
	struct listener listeners[MAX_LISTENERS];
	int nlisteners;
	int next_id;
};

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *watch_main(void *arg)
{
	struct hc_watch *w = arg;
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct timespec ts;
		int64_t v = w->version;
		struct listener copy[MAX_LISTENERS];
		int n;
		deadline_in(&ts, (int)w->interval_ms);
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->lock);
		if (hc_data_version(w->conn, &v, NULL) != HC_OK)
			v = w->version;
		pthread_mutex_lock(&w->lock);
		if (v == w->version)
			continue;
		w->version = v;
		w->seq++;
		pthread_cond_broadcast(&w->cond);
		n = w->nlisteners;
		for (int i = 0; i < n; i++)
			copy[i] = w->listeners[i];
		pthread_mutex_unlock(&w->lock);
		/* run listeners outside the lock, but never concurrently with
		 * an unlisten returning */
		pthread_mutex_lock(&w->calling);
		for (int i = 0; i < n; i++) {
			bool live = false;
			pthread_mutex_lock(&w->lock);
			for (int k = 0; k < w->nlisteners; k++)
				live = live || w->listeners[k].id == copy[i].id;
			pthread_mutex_unlock(&w->lock);
			if (live)
				copy[i].fn(copy[i].ctx, w->seq);
		}
		pthread_mutex_unlock(&w->calling);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int hc_watch_start(struct hc_watch **out, struct hc_store *store,
		   unsigned interval_ms, struct hc_err *err)
{
	struct hc_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	w->store = store;
	w->interval_ms = interval_ms ? interval_ms : 250;
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->calling, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->conn = hc_store_acquire(store, err);
	if (!w->conn ||
	    hc_data_version(w->conn, &w->version, err) != HC_OK ||
	    pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		if (w->conn)
			hc_store_release(store, w->conn);
		pthread_mutex_destroy(&w->lock);
		pthread_mutex_destroy(&w->calling);
		pthread_cond_destroy(&w->cond);
		free(w);
		return err && err->status ? err->status
					  : hc_err_set(err, HC_EIO,
						       "cannot start watching");
	}
	*out = w;
	return HC_OK;
}

void hc_watch_stop(struct hc_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	hc_store_release(w->store, w->conn);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->calling);
	pthread_cond_destroy(&w->cond);
	free(w);
}

int hc_watch_listen(struct hc_watch *w, hc_watch_fn *fn, void *ctx)
{
	int id = 0;
	pthread_mutex_lock(&w->lock);
	if (w->nlisteners < MAX_LISTENERS) {
		id = ++w->next_id;
		w->listeners[w->nlisteners++] = (struct listener){ id, fn, ctx };
	}
	pthread_mutex_unlock(&w->lock);
	return id;
}

void hc_watch_unlisten(struct hc_watch *w, int id)
{
	pthread_mutex_lock(&w->calling);
	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < w->nlisteners; i++) {
		if (w->listeners[i].id == id) {
			w->listeners[i] = w->listeners[--w->nlisteners];
			break;
		}
	}
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_unlock(&w->calling);
}

uint64_t hc_watch_seq(struct hc_watch *w)
{
	uint64_t s;
	pthread_mutex_lock(&w->lock);
	s = w->seq;
	pthread_mutex_unlock(&w->lock);
	return s;
}

uint64_t hc_watch_wait(struct hc_watch *w, uint64_t seen, int timeout_ms)
{
	struct timespec ts;
	uint64_t s;
	deadline_in(&ts, timeout_ms);
	pthread_mutex_lock(&w->lock);
	while (w->seq == seen && !w->stop)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) ==
		    ETIMEDOUT)
			break;
	s = w->seq;
	pthread_mutex_unlock(&w->lock);
	return s;
}
