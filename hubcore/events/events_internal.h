/*
 * events_internal.h - shared between the files of hubcore/events/, not
 * part of hub-core's interface.
 */
#ifndef HUBCORE_EVENTS_INTERNAL_H
#define HUBCORE_EVENTS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "hubcore/events.h"
#include "hubcore/hub.h"

/* A hub this one sends events to. */
struct ev_sub {
	char *name;     /* the receiving hub, e.g. "ops-hub" */
	char *url;      /* its base URL; events go to URL/events/inbox */
	char *audience; /* the audience of its tokens (default: url) */
	char **types;   /* the types it gets; "*" for every type */
	size_t ntypes;
	int line;
};

/* A hub this one accepts events from. */
struct ev_sender {
	char *name;      /* the sending hub, as in its events' "source" */
	char *client_id; /* its service account (default: name) */
};

/* The events section of a hub's configuration; immutable once loaded,
 * shared by reference count between the forwarder and the inbox. */
struct ev_config {
	atomic_int refs;
	char *path; /* the file, or NULL when the hub has none */
	struct ev_sub *subs;
	size_t nsubs;
	struct ev_sender *senders;
	size_t nsenders;
	int max_attempts;
	int64_t retry_base_ms;
	int64_t retry_max_ms;
	int batch;
	int64_t timeout_ms;
	int64_t poll_ms;
	int64_t retention_ms;
	char *escalation_domain; /* the canon's domain (System 5), or NULL */
};

/* Load path (NULL: the defaults, no subscriptions, no senders). Errors
 * name file:line. */
int ev_config_load(const char *path, struct ev_config **out,
		   struct hc_err *err);
struct ev_config *ev_config_ref(struct ev_config *c);
void ev_config_unref(struct ev_config *c);

/* The running events of a hub (hub->events). */
struct hc_events {
	struct hc_hub *hub;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct ev_config *cfg; /* under lock */
	unsigned generation;   /* bumped on every reload */
	bool stopping;
	bool running;
	pthread_t thread;
	int watch_id;
};

/* The current configuration, with a reference the caller drops. */
struct ev_config *ev_current(struct hc_events *ev);

/* Record the configured subscriptions in the database: a new subscriber
 * gets every event still in the outbox; one no longer configured stops
 * getting new ones. */
int ev_sync_subscriptions(struct hc_store *store, const struct ev_config *cfg,
			  struct hc_err *err);

/* Wall-clock milliseconds since the epoch. */
int64_t ev_now_ms(void);

/* ---- the outbox, for the forwarder ------------------------------------------ */

/* One delivery taken for sending. */
struct ev_item {
	int64_t delivery;
	int attempts;
	char *id, *type, *time;
	char *payload; /* JSON text */
	int64_t created_ms;
	/* the outcome, filled by the sender */
	enum { EV_PENDING, EV_DONE, EV_REFUSED } outcome;
	char error[300];
};

/*
 * Take a batch of due deliveries of one subscriber: pending, due at now,
 * oldest first, at most limit. The one place that chooses work: a backend
 * with row locks takes them with FOR UPDATE SKIP LOCKED here.
 */
int ev_outbox_take(struct hc_conn *c, const char *subscriber, int64_t now,
		   size_t limit, struct ev_item **items, size_t *n,
		   struct hc_err *err);
void ev_items_free(struct ev_item *items, size_t n);

/* Record what happened to a batch in one transaction: delivered ones are
 * done, refused ones count an attempt (dead after max_attempts). */
int ev_outbox_record(struct hc_conn *c, const char *subscriber,
		     struct ev_item *items, size_t n,
		     const struct ev_config *cfg, struct hc_err *err);

/* The subscription's last success or error (error NULL: a success). */
int ev_outbox_subscription_result(struct hc_conn *c, const char *subscriber,
				  const char *error, struct hc_err *err);

/* Forget delivered deliveries and fully delivered events older than the
 * retention. */
int ev_outbox_prune(struct hc_conn *c, int64_t retention_ms,
		    struct hc_err *err);

/* Exponential backoff with jitter for the attempt-th failure (1-based):
 * between half and all of base * 2^(attempt-1), at most max. */
int64_t ev_backoff(int attempt, int64_t base, int64_t max);

/* Whether type is an identifier of [a-z0-9_.], 1-64 bytes. */
bool ev_type_ok(const char *type);

/* hub-core's own handlers (FOS §10 mirroring, escalation). */
extern const struct hc_event_def ev_core_handlers;

/* The forwarder thread. */
void *ev_forwarder_main(void *arg);

#endif
