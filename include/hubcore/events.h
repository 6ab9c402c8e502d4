/*
 * hubcore/events.h - durable events between hubs (FOS §9): an outbox in
 * the sender's database, a forwarder that delivers it, an inbox in the
 * receiver's database that applies each event once.
 *
 * Hubs keep their own databases and couple only through events. An event
 * is written with hc_event_emit in the same transaction as the change that
 * causes it, together with one delivery row per subscriber of its type (the
 * subscriptions of the hub's configuration are kept in the database, so a
 * one-shot command such as an import fans out too). The forwarder of the
 * serving hub takes due deliveries in batches and POSTs them to each
 * subscriber's /events/inbox; a delivery is done when the receiver has
 * committed the event's effect. Failures are retried with exponential
 * backoff and jitter: an unreachable receiver holds its subscription back
 * (never losing or dead-lettering anything), an event the receiver refuses
 * counts an attempt and after max_attempts goes to the dead-letter state,
 * from where it can be re-driven; the events behind it keep flowing.
 *
 * The receiver records (source, event id) in its inbox in the same
 * transaction as the effect, so an event delivered twice is applied once.
 * Unknown types are stored and ignored, so hubs can be upgraded one at a
 * time. The vocabulary and the configuration are in docs/events.md.
 */
#ifndef HUBCORE_EVENTS_H
#define HUBCORE_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hubcore/http.h"
#include "hubcore/status.h"
#include "hubcore/store.h"

struct hc_hub;
struct hc_events;
struct hc_mcp_tool_table;

/* The canonical event types of docs/events.md (NULL-terminated). */
extern const char *const hc_event_types[];

/* One received event, as a handler sees it (all borrowed). */
struct hc_event {
	const char *id;
	const char *type;
	const char *source; /* the sending hub's name */
	const char *time;   /* RFC 3339, when it was emitted */
	const json_t *payload;
};

/*
 * Apply the effect of one event on c, inside the inbox's transaction (never
 * begin or commit one). HC_OK: applied. Any error refuses the event: its
 * effect is rolled back, nothing is recorded, and the sender retries it
 * (and dead-letters it after its attempts); err says why.
 */
typedef int hc_event_handler_fn(struct hc_hub *hub, struct hc_conn *c,
				const struct hc_event *ev, struct hc_err *err);

struct hc_event_handler {
	const char *type;
	hc_event_handler_fn *fn;
	const char *doc; /* the effect, one line */
};

/* What a hub does with events: its handlers, after hub-core's own. */
struct hc_event_def {
	const struct hc_event_handler *handlers;
	size_t nhandlers;
};

/* The event tables ("events" migrations): outbox, subscriptions,
 * deliveries, inbox. Every hub that takes part lists the set. */
extern const struct hc_migration_set hc_event_migrations;

/*
 * Emit an event: write it to the outbox with a delivery for every
 * subscriber of its type, on c, inside the caller's transaction (or in one
 * of its own when none is open). type is an identifier ([a-z0-9_.]);
 * payload an object (borrowed). id (may be NULL) receives the event's id.
 */
int hc_event_emit(struct hc_conn *c, const char *type, const json_t *payload,
		  char id[37], struct hc_err *err);

/*
 * The hub's events: hc_events_open reads the configuration (the hub's
 * --config file, see docs/events.md) and records its subscriptions in the
 * database (hc_hub_start does this for a hub whose def has events);
 * hc_events_run starts the forwarder once the hub can get tokens (after
 * its identity checks are set up); hc_events_reload re-reads the file and
 * keeps the running configuration when the new one is refused;
 * hc_events_close stops the forwarder and frees (hc_hub_close does it).
 */
int hc_events_open(struct hc_hub *hub, struct hc_err *err);
int hc_events_run(struct hc_hub *hub, struct hc_err *err);
int hc_events_reload(struct hc_hub *hub, struct hc_err *err);
void hc_events_close(struct hc_hub *hub);

/*
 * Per subscription: backlog (pending deliveries), dead letters, last
 * success, last error and lag (age of the oldest pending event, seconds);
 * and the inbox's counts. Reads the database only, so `foshub mcp` sees it
 * too. *out: {"subscriptions": [...], "inbox": {...}}.
 */
int hc_events_status(struct hc_hub *hub, struct hc_conn *c, json_t **out,
		     struct hc_err *err);

/* Dead letters (of one subscriber, or all when NULL), oldest first:
 * {"items": [{"delivery", "event": {...}, "subscriber", "attempts",
 * "last_error", ...}], "next_cursor"}. */
int hc_events_dead(struct hc_conn *c, const char *subscriber, size_t limit,
		   const char *cursor, json_t **out, struct hc_err *err);

/*
 * Re-drive dead letters: the one delivery id (a number as text), or every
 * dead letter of subscriber when delivery is NULL (of all subscribers when
 * both are NULL). They become pending with fresh attempts. *out:
 * {"redriven": n}.
 */
int hc_events_redrive(struct hc_conn *c, const char *delivery,
		      const char *subscriber, json_t **out,
		      struct hc_err *err);

/*
 * Receive events from a sending hub (the inbox): body is one event object
 * or {"events": [...]}. sender is the hub the caller was authenticated as
 * (auth on), or NULL to take the events' source (auth off); either way it
 * must be a sender of the configuration (HC_EFORBIDDEN otherwise). Each
 * event is applied once, in one transaction with the others; *out is
 * {"results": [{"id", "status": applied|duplicate|ignored|rejected,
 * "error"}]}, valid only after the commit.
 */
int hc_events_receive(struct hc_hub *hub, struct hc_conn *c,
		      const char *sender, json_t *body, json_t **out,
		      struct hc_err *err);

/* The sender a token's client id stands for, or NULL (the caller frees). */
char *hc_events_sender_of(struct hc_hub *hub, const char *client_id);

/* Routes: POST /events/inbox, POST /events (emit by hand), GET
 * /events/status, GET /events/dead, POST /events/dead/redrive, GET
 * /events/outbox, GET /events/inbox. */
extern const struct hc_route_table hc_event_routes;
/* MCP: get_event_status, list_dead_events, redrive_dead_events. */
extern const struct hc_mcp_tool_table hc_mcp_event_tools;

#endif
