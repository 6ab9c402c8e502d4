/*
 * scheduler.c - the in-process probe scheduler of `foshub serve ops`.
 *
 * One planner thread reads the services with probes from the database
 * (about every 200 ms, so that services registered or changed through any
 * process are picked up), keeps each one's next due time, and hands due
 * services to a fixed pool of workers through a bounded queue: at most
 * `concurrency` rounds run at once, and a service never has two rounds at
 * a time. After a round the next one is due after the service's interval
 * plus a random jitter (a tenth of the interval unless set). Stopping sets
 * a flag that cancels running probes (libcurl's progress callback, the
 * socket poll loops) and joins every thread. All state lives in the
 * struct oh_scheduler the hub owns.
 *
 * Several replicas of ops-hub on one database elect one scheduler: the
 * planner probes only while it holds the leader lock
 * "opshub.probe-scheduler" (hc_leader_check before each plan), and the
 * others stand by; when the leader's process dies its lock goes with its
 * database connection and a standby takes over at its next plan.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opshub/internal.h"

#define PLAN_MS 200
#define QUEUE_MAX 256

struct entry {
	char name[65];
	int64_t due;     /* monotonic ms */
	int64_t interval;
	int64_t jitter;
	bool push;
	bool running;
	bool seen;       /* still in the database at the last plan */
};

struct oh_scheduler {
	struct hc_hub *hub;
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* workers: the queue has work */
	pthread_cond_t planner; /* the planner: stop, or a round ended */
	atomic_bool stop;
	unsigned seed;
	struct entry *entries;
	size_t n, cap;
	char queue[QUEUE_MAX][65]; /* names of services due */
	size_t qhead, qlen;
	pthread_t plan_thread;
	bool planning;
	struct hc_leader *leader;
	bool leading;
	pthread_t *workers;
	unsigned nworkers;
};

static int64_t jitter_of(struct oh_scheduler *s, const struct entry *e)
{
	int64_t j = e->jitter >= 0 ? e->jitter : e->interval / 10;
	if (j <= 0)
		return 0;
	return (int64_t)(rand_r(&s->seed) % (unsigned)(j + 1));
}

static struct entry *find(struct oh_scheduler *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->entries[i].name, name) == 0)
			return &s->entries[i];
	return NULL;
}

/* Whether a service's probes (stored JSON, spelled as the database
 * likes) include a push probe. */
static bool has_push(const char *probes)
{
	json_t *a = probes ? json_loads(probes, 0, NULL) : NULL, *p;
	size_t i;
	bool push = false;
	json_array_foreach(a, i, p)
		push = push || strcmp(hc_json_str(p, "kind") ? hc_json_str(p, "kind")
							    : "",
				      "push") == 0;
	json_decref(a);
	return push;
}

/* Bring the table up to date with the database. Called with the lock
 * not held; takes it for the table changes. */
static void plan(struct oh_scheduler *s)
{
	struct hc_err err = { 0 };
	struct hc_conn *c = hc_store_acquire(s->hub->store, &err);
	struct hc_stmt *st = NULL;
	int64_t now = hc_clock_ms();
	int rc;
	if (!c)
		return;
	rc = hc_query(c, &st,
		      "SELECT id, interval_ms, jitter_ms, probes FROM services "
		      "WHERE lifecycle <> 'retired' AND probes <> '[]'",
		      NULL, 0, &err);
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++)
		s->entries[i].seen = false;
	while (rc == HC_OK && hc_stmt_step(st, &err) == HC_ROW_READY) {
		const char *name = hc_stmt_text(st, 0, NULL);
		const char *probes = hc_stmt_text(st, 3, NULL);
		struct entry *e = find(s, name);
		int64_t interval = hc_stmt_int(st, 1);
		if (!e) {
			if (s->n == s->cap) {
				size_t cap = s->cap ? s->cap * 2 : 32;
				struct entry *ne = realloc(s->entries,
							   cap * sizeof(*ne));
				if (!ne)
					break;
				s->entries = ne;
				s->cap = cap;
			}
			e = &s->entries[s->n++];
			memset(e, 0, sizeof(*e));
			snprintf(e->name, sizeof(e->name), "%s", name);
			e->interval = interval;
			e->jitter = hc_stmt_isnull(st, 2) ? -1
							  : hc_stmt_int(st, 2);
			/* spread the first rounds over the jitter */
			e->due = now + jitter_of(s, e);
		}
		if (interval != e->interval && !e->running)
			e->due = now; /* a new interval starts now */
		e->interval = interval > 0 ? interval : 60000;
		e->jitter = hc_stmt_isnull(st, 2) ? -1 : hc_stmt_int(st, 2);
		e->push = has_push(probes);
		e->seen = true;
	}
	/* drop services that went away (not while a round runs) */
	for (size_t i = 0; i < s->n;) {
		if (!s->entries[i].seen && !s->entries[i].running) {
			s->entries[i] = s->entries[--s->n];
			continue;
		}
		i++;
	}
	/* queue what is due */
	for (size_t i = 0; i < s->n && s->qlen < QUEUE_MAX; i++) {
		struct entry *e = &s->entries[i];
		if (!e->seen || e->running || e->due > now)
			continue;
		e->running = true;
		snprintf(s->queue[(s->qhead + s->qlen++) % QUEUE_MAX], 65, "%s",
			 e->name);
		pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->lock);
	hc_stmt_finish(st);
	hc_store_release(s->hub->store, c);
}

static void *planner_main(void *arg)
{
	struct oh_scheduler *s = arg;
	while (!atomic_load(&s->stop)) {
		struct timespec ts;
		bool lead = hc_leader_check(s->leader);
		if (lead != s->leading) {
			s->leading = lead;
			hc_log_info(&s->hub->log,
				    lead ? "probe scheduler: leading, this "
					   "replica probes"
					 : "probe scheduler: standing by, "
					   "another replica probes");
			if (!lead) {
				/* forget the plan; a new term starts fresh */
				pthread_mutex_lock(&s->lock);
				for (size_t i = 0; i < s->n;)
					if (!s->entries[i].running)
						s->entries[i] =
							s->entries[--s->n];
					else
						i++;
				pthread_mutex_unlock(&s->lock);
			}
		}
		if (lead)
			plan(s);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)PLAN_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&s->lock);
		if (!atomic_load(&s->stop))
			pthread_cond_timedwait(&s->planner, &s->lock, &ts);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

static void *worker_main(void *arg)
{
	struct oh_scheduler *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		char name[65];
		bool push = false;
		struct entry *e;
		struct hc_err err = { 0 };
		int rc;
		while (!s->qlen && !atomic_load(&s->stop))
			pthread_cond_wait(&s->wake, &s->lock);
		if (atomic_load(&s->stop))
			break;
		snprintf(name, sizeof(name), "%s", s->queue[s->qhead]);
		s->qhead = (s->qhead + 1) % QUEUE_MAX;
		s->qlen--;
		e = find(s, name);
		if (e)
			push = e->push;
		pthread_mutex_unlock(&s->lock);

		rc = oh__service_round(s->hub->store, name, &s->stop, push,
				       NULL, &err);
		if (rc != HC_OK && !atomic_load(&s->stop) &&
		    rc != HC_ENOTFOUND)
			hc_log_warn(&s->hub->log, "probing %s: %s", name,
				    err.msg);

		pthread_mutex_lock(&s->lock);
		/* the table may have moved meanwhile: find by name */
		e = find(s, name);
		if (e) {
			e->running = false;
			e->due = hc_clock_ms() + e->interval + jitter_of(s, e);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int oh_scheduler_start(struct oh_scheduler **out, struct hc_hub *hub,
		       unsigned concurrency, struct hc_err *err)
{
	struct oh_scheduler *s = calloc(1, sizeof(*s));
	if (!s)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	s->hub = hub;
	s->seed = (unsigned)hc_clock_ms() ^ (unsigned)(uintptr_t)s;
	atomic_init(&s->stop, false);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->planner, NULL);
	s->nworkers = concurrency ? concurrency : 4;
	s->workers = calloc(s->nworkers, sizeof(*s->workers));
	if (s->workers &&
	    hc_leader_open(&s->leader, hub->store, "opshub.probe-scheduler",
			   err) != HC_OK) {
		oh_scheduler_stop(s);
		return err->status;
	}
	if (!s->workers) {
		oh_scheduler_stop(s);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < s->nworkers; i++)
		if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0) {
			s->nworkers = i;
			oh_scheduler_stop(s);
			return hc_err_set(err, HC_EINTERNAL,
					  "cannot start probe workers");
		}
	s->planning = pthread_create(&s->plan_thread, NULL, planner_main, s) ==
		      0;
	if (!s->planning) {
		oh_scheduler_stop(s);
		return hc_err_set(err, HC_EINTERNAL,
				  "cannot start the probe scheduler");
	}
	hc_log_info(&hub->log, "probe scheduler started (%u workers)",
		    s->nworkers);
	*out = s;
	return HC_OK;
}

void oh_scheduler_stop(struct oh_scheduler *s)
{
	bool planner;
	if (!s)
		return;
	planner = s->planning;
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->stop, true);
	pthread_cond_broadcast(&s->wake);
	pthread_cond_broadcast(&s->planner);
	pthread_mutex_unlock(&s->lock);
	if (planner)
		pthread_join(s->plan_thread, NULL);
	for (unsigned i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	hc_leader_close(s->leader);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->planner);
	pthread_mutex_destroy(&s->lock);
	free(s->workers);
	free(s->entries);
	free(s);
}
