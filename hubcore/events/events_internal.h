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
	char *url;      /* its base URL; events go to URL/events/inbox
			 * (HTTP; NULL with NATS) */
	char *audience; /* the audience of its tokens (default: url) */
	char **types;   /* the types it gets; "*" for every type */
	size_t ntypes;
	int line;
};

/* A hub this one accepts events from. */
struct ev_sender {
	char *name;      /* the sending hub, as in its events' "source" */
	char *client_id; /* its service account (default: name) */
	int line;
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
	/* NATS JetStream (transport_nats.c): with nats_url set, events go over
	 * NATS instead of HTTP */
	char *nats_url;      /* "nats://host:port[,nats://...]", or NULL */
	char *nats_stream;   /* the stream (default FOSHUB_EVENTS) */
	char *nats_subject;  /* its subjects' prefix (default foshub.events) */
	char *nats_user;     /* this hub's NATS user, or NULL */
	char *nats_password; /* read from nats_password_file, or NULL */
	int nats_line;       /* where 'nats' is, for errors */
	int events_line;     /* where 'events' is, for errors */
};

/* Whether two configurations choose the same transport (the transport is
 * chosen at start; a reload cannot change it). */
bool ev_config_same_transport(const struct ev_config *a,
			      const struct ev_config *b);

/* Load path (NULL: the defaults, no subscriptions, no senders). Errors
 * name file:line. */
int ev_config_load(const char *path, struct ev_config **out,
		   struct hc_err *err);
struct ev_config *ev_config_ref(struct ev_config *c);
void ev_config_unref(struct ev_config *c);

struct ev_item;

/*
 * A transport carries deliveries from the forwarder to the subscribers
 * and, when the receiver does not answer in the same exchange, brings its
 * receipts back. There are two: HTTP (the default: a POST answered per
 * event) and NATS JetStream (with `nats:` in the configuration: a publish
 * acknowledged by the stream; the receiver's receipts come later). Both
 * share the outbox, the inbox, the dead letters and the status: a
 * transport moves events, it decides nothing about them.
 */
struct ev_transport {
	const char *name; /* "http", "nats" */
	/* Start (hc_events_run): *state for the calls below; may start
	 * threads of its own (NATS receives on one). */
	int (*open)(struct hc_events *ev, const struct ev_config *cfg,
		    void **state, struct hc_err *err);
	/*
	 * Hand items to subscriber s (the forwarder thread only). Sets each
	 * item's outcome: EV_DONE when the receiver applied it (or had
	 * already), EV_SENT when it was handed over and a receipt will tell
	 * (NATS), EV_REFUSED with its error when the receiver refused it;
	 * an item left EV_PENDING is taken again later. Returns 0, or -1
	 * when the subscriber could not be reached (error says why): the
	 * subscription is held back with backoff, no attempt is counted.
	 */
	int (*send)(void *state, const struct ev_config *cfg,
		    const struct ev_sub *s, struct ev_item *items, size_t n,
		    char *error, size_t esize);
	/* The forwarder thread is about to end (thread-local cleanup). */
	void (*thread_done)(void *state);
	/* Stop its threads and free (after the forwarder stopped). */
	void (*close)(void *state);
};

extern const struct ev_transport ev_http_transport;
extern const struct ev_transport ev_nats_transport;

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
	const struct ev_transport *transport; /* chosen at start */
	void *tstate;
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
	int64_t sends; /* how often it went to the NATS stream before */
	char *id, *type, *time;
	char *payload; /* JSON text */
	int64_t created_ms;
	/* the outcome, filled by the transport */
	enum { EV_PENDING, EV_DONE, EV_SENT, EV_REFUSED } outcome;
	char error[300];
};

/* The body of one event as it travels: {"id", "type", "source", "time",
 * "payload"} (a new reference, NULL when out of memory). */
json_t *ev_item_event(const char *source, const struct ev_item *it);

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
 * done, sent ones wait for their receipt, refused ones count an attempt
 * (dead after max_attempts). */
int ev_outbox_record(struct hc_conn *c, const char *subscriber,
		     struct ev_item *items, size_t n,
		     const struct ev_config *cfg, struct hc_err *err);

/* The subscription's last success or error (error NULL: a success). */
int ev_outbox_subscription_result(struct hc_conn *c, const char *subscriber,
				  const char *error, struct hc_err *err);

/*
 * Apply a receiver's receipts (NATS) on c, inside the caller's
 * transaction: results is the inbox's [{"id", "status": applied |
 * duplicate | ignored | rejected | held, "error", "sends"}] from
 * subscriber, sends naming the publish each answers (a receipt of an
 * older one changes nothing, so receipts may come twice). Delivered ones
 * are done; a rejected one counts an attempt as over HTTP (pending with
 * backoff, dead after cfg's max_attempts). *summary gets the
 * subscription's last error (NULL: a success; borrowed), *refused the
 * number of rejected ones.
 */
int ev_outbox_receipts(struct hc_conn *c, const char *subscriber,
		       const json_t *results, const struct ev_config *cfg,
		       const char **summary, size_t *refused,
		       struct hc_err *err);

/* The stream was created at created_at (RFC 3339, as hc_time_now): what
 * was handed to it before is lost with the old one and goes again. *n
 * gets how many. Inside the caller's transaction. */
int ev_outbox_stream_lost(struct hc_conn *c, const char *created_at,
			  int64_t *n, struct hc_err *err);

/* Forget delivered deliveries and fully delivered events older than the
 * retention. */
int ev_outbox_prune(struct hc_conn *c, int64_t retention_ms,
		    struct hc_err *err);

/* Exponential backoff with jitter for the attempt-th failure (1-based):
 * between half and all of base * 2^(attempt-1), at most max. */
int64_t ev_backoff(int attempt, int64_t base, int64_t max);

/* Whether type is an identifier of [a-z0-9_.], 1-64 bytes. */
bool ev_type_ok(const char *type);

/* ---- the inbox, for transports ---------------------------------------------------- */

/* Whether name is a sender of cfg. */
bool ev_is_sender(const struct ev_config *cfg, const char *name);

/* hub-core's own handlers (FOS §10 mirroring, escalation). */
extern const struct hc_event_def ev_core_handlers;

/* The forwarder thread. */
void *ev_forwarder_main(void *arg);

#endif
