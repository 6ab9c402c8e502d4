/*
 * outbox.c - the sending side's tables: events written with the change
 * that causes them, one delivery per subscriber, and what became of each.
 *
 *   event_outbox              the events, in emission order
 *   event_subscriptions       the configured subscribers (for status)
 *   event_subscription_types  which types each gets: emission fans out
 *                             from here, in the emitting transaction
 *   event_deliveries          one per (event, subscriber): pending,
 *                             sent (handed to NATS, its receipt to come),
 *                             delivered or dead, with its attempts and
 *                             sends (how often it went to the stream)
 *   event_inbox               the receiving side: (source, id) applied
 *
 * Plain SQL of the portable subset; the dialect gives the sequence column
 * and types.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_internal.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "hubcore/resource.h"
#include "hubcore/util.h"

const char *const hc_event_types[] = {
	"deployment_started", "deployment_succeeded", "deployment_failed",
	"incident_opened",    "incident_resolved",    "budget_alert",
	"runway_alert",	      "cost_attribution",     "risk_surfaced",
	"risk_mitigated",     "risk_escalated",	      "alert_raised",
	"alert_acknowledged", "alert_resolved",	      NULL
};

/* ---- schema ------------------------------------------------------------------ */

static int schema_v1(struct hc_conn *c, const struct hc_dialect *d,
		     struct hc_err *err)
{
	const char *json = d->type_name(HC_COL_JSON);
	const char *integer = d->type_name(HC_COL_INT);
	char sql[4096];
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE event_outbox (%s, id TEXT NOT NULL UNIQUE, "
		 "type TEXT NOT NULL, payload %s NOT NULL, created_at TEXT NOT "
		 "NULL, created_ms %s NOT NULL);"
		 "CREATE TABLE event_subscriptions (name TEXT PRIMARY KEY, url "
		 "TEXT NOT NULL, types TEXT NOT NULL, last_success_at TEXT, "
		 "last_error TEXT, last_error_at TEXT, updated_at TEXT NOT "
		 "NULL);"
		 "CREATE TABLE event_subscription_types (subscriber TEXT NOT "
		 "NULL, type TEXT NOT NULL, PRIMARY KEY (subscriber, type));"
		 "CREATE TABLE event_deliveries (%s, event_id TEXT NOT NULL "
		 "REFERENCES event_outbox (id) ON DELETE CASCADE, subscriber "
		 "TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', "
		 "attempts %s NOT NULL DEFAULT 0, next_attempt_ms %s NOT NULL "
		 "DEFAULT 0, last_error TEXT, last_attempt_at TEXT, "
		 "delivered_at TEXT, delivered_ms %s, created_ms %s NOT NULL, "
		 "UNIQUE (event_id, subscriber));"
		 "CREATE INDEX event_deliveries_due ON event_deliveries "
		 "(subscriber, status, next_attempt_ms);"
		 "CREATE TABLE event_inbox (%s, source TEXT NOT NULL, id TEXT "
		 "NOT NULL, type TEXT NOT NULL, time TEXT, payload %s, status "
		 "TEXT NOT NULL, received_at TEXT NOT NULL, UNIQUE (source, "
		 "id));",
		 d->seq_column, json, integer, d->seq_column, integer, integer,
		 integer, integer, d->seq_column, json);
	return hc_exec_script(c, sql, err);
}

/* NATS: how often a delivery was handed to the stream. It names each
 * publish (JetStream drops a second publish of the same message id, so a
 * retry after a refusal needs a new one, a re-send after a crash the
 * same) and ties a receipt to the publish it answers. */
static int schema_v2(struct hc_conn *c, const struct hc_dialect *d,
		     struct hc_err *err)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "ALTER TABLE event_deliveries ADD COLUMN sends %s NOT NULL "
		 "DEFAULT 0;",
		 d->type_name(HC_COL_INT));
	return hc_exec_script(c, sql, err);
}

static const struct hc_migration event_steps[] = {
	{ .version = 1,
	  .name = "event outbox, subscriptions, deliveries and inbox",
	  .fn = schema_v1 },
	{ .version = 2,
	  .name = "how often each delivery went to the NATS stream",
	  .fn = schema_v2 },
};

const struct hc_migration_set hc_event_migrations = {
	.component = "events",
	.steps = event_steps,
	.count = HC_COUNT(event_steps),
};

/* ---- emitting -------------------------------------------------------------------- */

int hc_event_emit(struct hc_conn *c, const char *type, const json_t *payload,
		  char id_out[37], struct hc_err *err)
{
	char id[HC_UUID_LEN + 1], now[HC_TIME_LEN + 1];
	int64_t ms = ev_now_ms();
	bool own = !hc_tx_active(c);
	char *text;
	int rc;

	if (!ev_type_ok(type))
		return hc_err_field(err, HC_EINVAL, "type",
				    "event type '%s' must be 1 to 64 of "
				    "[a-z0-9_.]",
				    type ? type : "");
	if (!json_is_object(payload))
		return hc_err_field(err, HC_EINVAL, "payload",
				    "an event's payload must be an object");
	text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (strlen(text) > 256 * 1024) {
		free(text);
		return hc_err_field(err, HC_EINVAL, "payload",
				    "an event's payload is limited to 256 KiB");
	}
	hc_uuid_v4(id);
	hc_time_now(now);
	rc = own ? hc_tx_begin(c, true, err) : HC_OK;
	if (rc == HC_OK) {
		struct hc_value p[] = { hc_vtext(id), hc_vtext(type),
					hc_vtext(text), hc_vtext(now),
					hc_vint(ms) };
		rc = hc_exec(c,
			     "INSERT INTO event_outbox (id, type, payload, "
			     "created_at, created_ms) VALUES (?, ?, ?, ?, ?)",
			     p, 5, err);
	}
	if (rc == HC_OK) {
		struct hc_value p[] = { hc_vtext(id), hc_vint(ms),
					hc_vtext(type) };
		rc = hc_exec(c,
			     "INSERT INTO event_deliveries (event_id, "
			     "subscriber, created_ms) SELECT DISTINCT ?, "
			     "subscriber, ? FROM event_subscription_types "
			     "WHERE type = ? OR type = '*'",
			     p, 3, err);
	}
	if (own) {
		if (rc == HC_OK)
			rc = hc_tx_commit(c, err);
		else
			hc_tx_rollback(c);
	}
	free(text);
	if (rc == HC_OK && id_out)
		memcpy(id_out, id, sizeof(id));
	return rc;
}

/* ---- subscriptions -------------------------------------------------------------- */

static int sync_one(struct hc_conn *c, const struct ev_config *cfg,
		    const struct ev_sub *s, const char *now, struct hc_err *err)
{
	struct hc_buf types = HC_BUF_INIT(8192);
	struct hc_value p[4];
	int64_t known = 0;
	char where[400];
	int rc;
	for (size_t i = 0; i < s->ntypes; i++)
		hc_buf_addf(&types, "%s%s", i ? "," : "", s->types[i]);
	/* where its events go: the URL, or the stream and the subjects
	 * (PREFIX.event.RECEIVER.SENDER, transport_nats.c) */
	if (cfg->nats_url)
		snprintf(where, sizeof(where), "nats:%s/%s.event.%s",
			 cfg->nats_stream, cfg->nats_subject, s->name);
	else
		snprintf(where, sizeof(where), "%s", s->url);
	p[0] = hc_vtext(s->name);
	rc = hc_query_int(c, &known,
			  "SELECT count(*) FROM event_subscriptions WHERE "
			  "name = ?",
			  p, 1, err);
	if (rc == HC_OK) {
		p[1] = hc_vtext(where);
		p[2] = hc_vtext(types.data ? types.data : "");
		p[3] = hc_vtext(now);
		rc = known ? hc_exec(c,
				     "UPDATE event_subscriptions SET url = ?, "
				     "types = ?, updated_at = ? WHERE name = "
				     "?",
				     (struct hc_value[]){ p[1], p[2], p[3],
							  p[0] },
				     4, err)
			   : hc_exec(c,
				     "INSERT INTO event_subscriptions (name, "
				     "url, types, updated_at) VALUES (?, ?, "
				     "?, ?)",
				     p, 4, err);
	}
	if (rc == HC_OK)
		rc = hc_exec(c,
			     "DELETE FROM event_subscription_types WHERE "
			     "subscriber = ?",
			     p, 1, err);
	for (size_t i = 0; rc == HC_OK && i < s->ntypes; i++) {
		struct hc_value q[] = { hc_vtext(s->name),
					hc_vtext(s->types[i]) };
		rc = hc_exec(c,
			     "INSERT INTO event_subscription_types "
			     "(subscriber, type) VALUES (?, ?) ON CONFLICT DO "
			     "NOTHING",
			     q, 2, err);
	}
	/* back to HTTP from NATS: what was handed to the stream and never
	 * confirmed goes again (the inbox knows what it already applied) */
	if (rc == HC_OK && !cfg->nats_url)
		rc = hc_exec(c,
			     "UPDATE event_deliveries SET status = 'pending', "
			     "next_attempt_ms = 0 WHERE status = 'sent' AND "
			     "subscriber = ?",
			     p, 1, err);
	/* a new subscriber gets what the outbox still holds */
	if (rc == HC_OK && !known) {
		struct hc_value q[] = { hc_vtext(s->name), hc_vint(ev_now_ms()),
					hc_vtext(s->name) };
		rc = hc_exec(c,
			     "INSERT INTO event_deliveries (event_id, "
			     "subscriber, created_ms) SELECT e.id, ?, ? FROM "
			     "event_outbox e WHERE EXISTS (SELECT 1 FROM "
			     "event_subscription_types t WHERE t.subscriber "
			     "= ? AND (t.type = e.type OR t.type = '*')) "
			     "ORDER BY e.seq ON CONFLICT DO NOTHING",
			     q, 3, err);
	}
	hc_buf_release(&types);
	return rc;
}

int ev_sync_subscriptions(struct hc_store *store, const struct ev_config *cfg,
			  struct hc_err *err)
{
	struct hc_conn *c = hc_store_acquire(store, err);
	struct hc_stmt *st = NULL;
	json_t *gone = json_array(), *v;
	char now[HC_TIME_LEN + 1];
	size_t i;
	int rc;
	if (!c) {
		json_decref(gone);
		return err->status;
	}
	hc_time_now(now);
	rc = hc_tx_begin(c, true, err);
	if (rc == HC_OK)
		rc = hc_query(c, &st, "SELECT name FROM event_subscriptions",
			      NULL, 0, err);
	while ((rc == HC_OK || rc == HC_ROW_READY) &&
	       (rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		const char *name = hc_stmt_text(st, 0, NULL);
		bool keep = false;
		for (size_t k = 0; k < cfg->nsubs; k++)
			keep = keep || strcmp(cfg->subs[k].name, name) == 0;
		if (!keep)
			json_array_append_new(gone, json_string(name));
	}
	if (st)
		hc_stmt_finish(st);
	if (rc == HC_ROW_DONE)
		rc = HC_OK;
	/* one no longer configured gets nothing new; what it has pending
	 * waits in case it comes back */
	json_array_foreach(gone, i, v)
	{
		struct hc_value p[] = { hc_vtext(json_string_value(v)) };
		if (rc == HC_OK)
			rc = hc_exec(c,
				     "DELETE FROM event_subscription_types "
				     "WHERE subscriber = ?",
				     p, 1, err);
		if (rc == HC_OK)
			rc = hc_exec(c,
				     "DELETE FROM event_subscriptions WHERE "
				     "name = ?",
				     p, 1, err);
	}
	for (i = 0; rc == HC_OK && i < cfg->nsubs; i++)
		rc = sync_one(c, cfg, &cfg->subs[i], now, err);
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	hc_store_release(store, c);
	json_decref(gone);
	return rc;
}

/* ---- the forwarder's side ------------------------------------------------------- */

json_t *ev_item_event(const char *source, const struct ev_item *it)
{
	json_t *payload = NULL;
	if (hc_json_parse(it->payload, strlen(it->payload), &payload, NULL) !=
	    HC_OK)
		payload = json_object();
	return json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", it->id, "type",
			 it->type, "source", source, "time", it->time,
			 "payload", payload);
}

void ev_items_free(struct ev_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].id);
		free(items[i].type);
		free(items[i].time);
		free(items[i].payload);
	}
	free(items);
}

int ev_outbox_take(struct hc_conn *c, const char *subscriber, int64_t now,
		   size_t limit, struct ev_item **items, size_t *n,
		   struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(subscriber), hc_vint(now),
				hc_vint((int64_t)limit) };
	struct hc_stmt *st = NULL;
	struct ev_item *v = calloc(limit ? limit : 1, sizeof(*v));
	int rc;
	*items = NULL;
	*n = 0;
	if (!v)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	rc = hc_query(c, &st,
		      "SELECT d.seq, d.attempts, e.id, e.type, e.created_at, "
		      "e.payload, e.created_ms, d.sends FROM "
		      "event_deliveries d JOIN "
		      "event_outbox e ON e.id = d.event_id WHERE d.subscriber "
		      "= ? AND d.status = 'pending' AND d.next_attempt_ms <= ? "
		      "ORDER BY d.seq LIMIT ?",
		      p, 3, err);
	while ((rc == HC_OK || rc == HC_ROW_READY) &&
	       (rc = hc_stmt_step(st, err)) == HC_ROW_READY &&
	       *n < limit) {
		struct ev_item *it = &v[(*n)++];
		it->delivery = hc_stmt_int(st, 0);
		it->attempts = (int)hc_stmt_int(st, 1);
		it->id = strdup(hc_stmt_text(st, 2, NULL));
		it->type = strdup(hc_stmt_text(st, 3, NULL));
		it->time = strdup(hc_stmt_text(st, 4, NULL));
		it->payload = strdup(hc_stmt_text(st, 5, NULL));
		it->created_ms = hc_stmt_int(st, 6);
		it->sends = hc_stmt_int(st, 7);
		if (!it->id || !it->type || !it->time || !it->payload) {
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
			break;
		}
	}
	if (st)
		hc_stmt_finish(st);
	if (rc != HC_ROW_DONE && rc != HC_ROW_READY && rc != HC_OK) {
		ev_items_free(v, *n);
		*n = 0;
		return rc;
	}
	*items = v;
	return HC_OK;
}

int ev_outbox_record(struct hc_conn *c, const char *subscriber,
		     struct ev_item *items, size_t n,
		     const struct ev_config *cfg, struct hc_err *err)
{
	char now[HC_TIME_LEN + 1];
	int64_t ms = ev_now_ms();
	int rc = hc_tx_begin(c, true, err);
	hc_time_now(now);
	for (size_t i = 0; rc == HC_OK && i < n; i++) {
		struct ev_item *it = &items[i];
		if (it->outcome == EV_DONE) {
			struct hc_value p[] = { hc_vtext(now), hc_vint(ms),
						hc_vint(it->delivery) };
			rc = hc_exec(c,
				     "UPDATE event_deliveries SET status = "
				     "'delivered', delivered_at = ?, "
				     "delivered_ms = ?, last_attempt_at = "
				     "delivered_at, attempts = attempts + 1 "
				     "WHERE seq = ?",
				     p, 3, err);
		} else if (it->outcome == EV_SENT) {
			/* unless its receipt came first (it then set sends) */
			struct hc_value p[] = { hc_vint(it->sends + 1),
						hc_vtext(now),
						hc_vint(it->delivery),
						hc_vint(it->sends) };
			rc = hc_exec(c,
				     "UPDATE event_deliveries SET status = "
				     "'sent', sends = ?, last_attempt_at = ? "
				     "WHERE seq = ? AND status = 'pending' AND "
				     "sends = ?",
				     p, 4, err);
		} else if (it->outcome == EV_REFUSED) {
			int attempts = it->attempts + 1;
			bool dead = attempts >= cfg->max_attempts;
			struct hc_value p[] = {
				hc_vtext(dead ? "dead" : "pending"),
				hc_vint(attempts),
				hc_vint(ms + ev_backoff(attempts,
							cfg->retry_base_ms,
							cfg->retry_max_ms)),
				hc_vtext(it->error), hc_vtext(now),
				hc_vint(it->delivery)
			};
			rc = hc_exec(c,
				     "UPDATE event_deliveries SET status = ?, "
				     "attempts = ?, next_attempt_ms = ?, "
				     "last_error = ?, last_attempt_at = ? "
				     "WHERE seq = ?",
				     p, 6, err);
		}
	}
	(void)subscriber;
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	return rc;
}

int ev_outbox_receipts(struct hc_conn *c, const char *subscriber,
		       const json_t *results, const struct ev_config *cfg,
		       const char **summary, size_t *refused,
		       struct hc_err *err)
{
	char now[HC_TIME_LEN + 1];
	int64_t ms = ev_now_ms();
	const json_t *r;
	size_t i;
	int rc = HC_OK;
	hc_time_now(now);
	*summary = NULL;
	*refused = 0;
	json_array_foreach(results, i, r)
	{
		const char *id = hc_json_str(r, "id");
		const char *st = hc_json_str(r, "status");
		const char *why = hc_json_str(r, "error");
		json_int_t sends = json_integer_value(json_object_get(r, "sends"));
		/* the publish it answers: recorded as sent, or not yet
		 * (the receipt overtook the forwarder's record) */
		const char *which = "event_id = ? AND subscriber = ? AND "
				    "((status = 'sent' AND sends = ?) OR "
				    "(status = 'pending' AND sends = ?))";
		char sql[512];
		if (!id || !st || sends < 1)
			continue;
		if (strcmp(st, "applied") == 0 ||
		    strcmp(st, "duplicate") == 0 ||
		    strcmp(st, "ignored") == 0) {
			struct hc_value p[] = { hc_vtext(now), hc_vint(ms),
						hc_vint(sends), hc_vtext(id),
						hc_vtext(subscriber),
						hc_vint(sends),
						hc_vint(sends - 1) };
			snprintf(sql, sizeof(sql),
				 "UPDATE event_deliveries SET status = "
				 "'delivered', delivered_at = ?, delivered_ms "
				 "= ?, last_attempt_at = delivered_at, "
				 "attempts = attempts + 1, sends = ? WHERE %s",
				 which);
			rc = hc_exec(c, sql, p, 7, err);
		} else if (strcmp(st, "rejected") == 0) {
			/* refused: one attempt, as over HTTP */
			char error[300];
			int64_t attempts = 0;
			struct hc_value q[] = { hc_vtext(id),
						hc_vtext(subscriber),
						hc_vint(sends),
						hc_vint(sends - 1) };
			snprintf(error, sizeof(error), "%s refused it: %s",
				 subscriber, why ? why : "no reason given");
			*summary = "an event was refused (see the dead "
				   "letters or last errors)";
			snprintf(sql, sizeof(sql),
				 "SELECT attempts FROM event_deliveries WHERE "
				 "%s",
				 which);
			rc = hc_query_int(c, &attempts, sql, q, 4, err);
			if (rc == HC_ENOTFOUND) {
				rc = HC_OK; /* an old receipt */
				continue;
			}
			if (rc == HC_OK) {
				bool dead = ++attempts >= cfg->max_attempts;
				struct hc_value p[] = {
					hc_vtext(dead ? "dead" : "pending"),
					hc_vint(attempts),
					hc_vint(ms + ev_backoff((int)attempts,
								cfg->retry_base_ms,
								cfg->retry_max_ms)),
					hc_vtext(error),
					hc_vtext(now),
					hc_vint(sends),
					hc_vtext(id),
					hc_vtext(subscriber),
					hc_vint(sends),
					hc_vint(sends - 1)
				};
				snprintf(sql, sizeof(sql),
					 "UPDATE event_deliveries SET status = "
					 "?, attempts = ?, next_attempt_ms = ?, "
					 "last_error = ?, last_attempt_at = ?, "
					 "sends = ? WHERE %s",
					 which);
				rc = hc_exec(c, sql, p, 10, err);
				++*refused;
			}
		} else {
			/* "held": the receiver does not accept this hub
			 * (yet); the event waits in the stream */
			*summary = why ? why : st;
		}
		if (rc != HC_OK)
			break;
	}
	return rc;
}

int ev_outbox_stream_lost(struct hc_conn *c, const char *created_at,
			  int64_t *n, struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(created_at) };
	int rc = hc_query_int(c, n,
			      "SELECT count(*) FROM event_deliveries WHERE "
			      "status = 'sent' AND last_attempt_at < ?",
			      p, 1, err);
	if (rc == HC_OK && *n)
		rc = hc_exec(c,
			     "UPDATE event_deliveries SET status = 'pending', "
			     "next_attempt_ms = 0 WHERE status = 'sent' AND "
			     "last_attempt_at < ?",
			     p, 1, err);
	return rc;
}

int ev_outbox_subscription_result(struct hc_conn *c, const char *subscriber,
				  const char *error, struct hc_err *err)
{
	char now[HC_TIME_LEN + 1];
	hc_time_now(now);
	if (!error) {
		struct hc_value p[] = { hc_vtext(now), hc_vtext(subscriber) };
		return hc_exec(c,
			       "UPDATE event_subscriptions SET last_success_at "
			       "= ? WHERE name = ?",
			       p, 2, err);
	}
	{
		struct hc_value p[] = { hc_vtext(error), hc_vtext(now),
					hc_vtext(subscriber) };
		return hc_exec(c,
			       "UPDATE event_subscriptions SET last_error = ?, "
			       "last_error_at = ? WHERE name = ?",
			       p, 3, err);
	}
}

int ev_outbox_prune(struct hc_conn *c, int64_t retention_ms,
		    struct hc_err *err)
{
	struct hc_value p[] = { hc_vint(ev_now_ms() - retention_ms) };
	int rc = hc_tx_begin(c, true, err);
	if (rc == HC_OK)
		rc = hc_exec(c,
			     "DELETE FROM event_deliveries WHERE status = "
			     "'delivered' AND delivered_ms < ?",
			     p, 1, err);
	if (rc == HC_OK)
		rc = hc_exec(c,
			     "DELETE FROM event_outbox WHERE created_ms < ? "
			     "AND NOT EXISTS (SELECT 1 FROM event_deliveries "
			     "d WHERE d.event_id = event_outbox.id)",
			     p, 1, err);
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	return rc;
}

/* ---- status and dead letters ------------------------------------------------------- */

static json_t *text_or_null(struct hc_stmt *st, int col)
{
	return hc_stmt_isnull(st, col) ? json_null()
				       : json_string(hc_stmt_text(st, col, NULL));
}

int hc_events_status(struct hc_hub *hub, struct hc_conn *c, json_t **out,
		     struct hc_err *err)
{
	struct hc_stmt *st = NULL;
	json_t *subs = json_array(), *inbox = json_object();
	int64_t now = ev_now_ms();
	bool own = !hc_tx_active(c);
	int rc = own ? hc_tx_begin(c, false, err) : HC_OK;
	if (rc == HC_OK)
		rc = hc_query(
			c, &st,
			"SELECT s.name, s.url, s.types, s.last_success_at, "
			"s.last_error, s.last_error_at, (SELECT count(*) FROM "
			"event_deliveries d WHERE d.subscriber = s.name AND "
			"d.status IN ('pending', 'sent')), (SELECT count(*) "
			"FROM event_deliveries d WHERE d.subscriber = s.name "
			"AND d.status = 'dead'), (SELECT min(d.created_ms) "
			"FROM event_deliveries d WHERE d.subscriber = s.name "
			"AND d.status IN ('pending', 'sent')), (SELECT "
			"count(*) FROM event_deliveries d WHERE d.subscriber = "
			"s.name AND d.status = 'delivered'), (SELECT count(*) "
			"FROM event_deliveries d WHERE d.subscriber = s.name "
			"AND d.status = 'sent') FROM event_subscriptions s "
			"ORDER BY s.name",
			NULL, 0, err);
	while ((rc == HC_OK || rc == HC_ROW_READY) &&
	       (rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		int64_t oldest = hc_stmt_isnull(st, 8) ? 0 : hc_stmt_int(st, 8);
		const char *url = hc_stmt_text(st, 1, NULL);
		json_t *types = json_array(), *sub;
		const char *t = hc_stmt_text(st, 2, NULL);
		while (t && *t) {
			size_t n = strcspn(t, ",");
			json_array_append_new(types, json_stringn(t, n));
			t += n + (t[n] == ',');
		}
		sub = json_pack("{s:s,s:s,s:o,s:I,s:I,s:I,s:o,s:o,s:o,s:o}",
				  "subscriber", hc_stmt_text(st, 0, NULL),
				  "url", url, "types",
				  types, "backlog",
				  (json_int_t)hc_stmt_int(st, 6), "dead",
				  (json_int_t)hc_stmt_int(st, 7), "delivered",
				  (json_int_t)hc_stmt_int(st, 9),
				  "last_success_at", text_or_null(st, 3),
				  "last_error", text_or_null(st, 4),
				  "last_error_at", text_or_null(st, 5),
				  "lag_seconds",
				  oldest ? json_real((double)(now - oldest) /
						     1000.0)
					 : json_real(0));
		/* over NATS: of the backlog, how much the stream holds,
		 * waiting for the receiver's receipt */
		json_object_set_new(sub, "transport",
				    json_string(strncmp(url, "nats:", 5) == 0
							? "nats"
							: "http"));
		json_object_set_new(sub, "in_stream",
				    json_integer(hc_stmt_int(st, 10)));
		json_array_append_new(subs, sub);
	}
	if (st)
		hc_stmt_finish(st);
	st = NULL;
	if (rc == HC_ROW_DONE)
		rc = hc_query(c, &st,
			      "SELECT status, count(*) FROM event_inbox GROUP "
			      "BY status",
			      NULL, 0, err);
	json_object_set_new(inbox, "applied", json_integer(0));
	json_object_set_new(inbox, "ignored", json_integer(0));
	while ((rc == HC_OK || rc == HC_ROW_READY) &&
	       (rc = hc_stmt_step(st, err)) == HC_ROW_READY)
		json_object_set_new(inbox, hc_stmt_text(st, 0, NULL),
				    json_integer(hc_stmt_int(st, 1)));
	if (st)
		hc_stmt_finish(st);
	if (own)
		hc_tx_rollback(c);
	if (rc != HC_ROW_DONE) {
		json_decref(subs);
		json_decref(inbox);
		return rc;
	}
	{
		json_t *senders = json_array();
		struct ev_config *cfg = hub && hub->events
						? ev_current(hub->events)
						: NULL;
		for (size_t i = 0; cfg && i < cfg->nsenders; i++)
			json_array_append_new(
				senders,
				json_pack("{ssss}", "hub", cfg->senders[i].name,
					  "client_id",
					  cfg->senders[i].client_id));
		ev_config_unref(cfg);
		*out = json_pack("{s:s,s:o,s:o,s:o}", "hub",
				 hub ? hub->def->name : "", "subscriptions",
				 subs, "inbox", inbox, "senders", senders);
	}
	return HC_OK;
}

int hc_events_dead(struct hc_conn *c, const char *subscriber, size_t limit,
		   const char *cursor, json_t **out, struct hc_err *err)
{
	int64_t after = 0;
	struct hc_value p[4];
	struct hc_stmt *st = NULL;
	json_t *items = json_array();
	int64_t last = 0;
	size_t n = 0;
	int rc;
	if (!limit)
		limit = HC_LIST_DEFAULT_LIMIT;
	if (limit > HC_LIST_MAX_LIMIT) {
		json_decref(items);
		return hc_err_field(err, HC_EPARAM, "limit",
				    "parameter 'limit' must be 1 to %d",
				    HC_LIST_MAX_LIMIT);
	}
	if (cursor && hc_cursor_decode(cursor, &after, err) != HC_OK) {
		json_decref(items);
		return err->status;
	}
	p[0] = hc_vint(after);
	p[1] = hc_vtext(subscriber);
	p[2] = hc_vtext(subscriber);
	p[3] = hc_vint((int64_t)limit + 1);
	rc = hc_query(c, &st,
		      "SELECT d.seq, d.subscriber, d.attempts, d.last_error, "
		      "d.last_attempt_at, e.id, e.type, e.created_at, "
		      "e.payload FROM event_deliveries d JOIN event_outbox e "
		      "ON e.id = d.event_id WHERE d.status = 'dead' AND d.seq "
		      "> ? AND (CAST(? AS TEXT) IS NULL OR d.subscriber = ?) "
		      "ORDER BY d.seq "
		      "LIMIT ?",
		      p, 4, err);
	while ((rc == HC_OK || rc == HC_ROW_READY) &&
	       (rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		json_t *payload = NULL;
		char id[32];
		if (n == limit)
			break;
		n++;
		last = hc_stmt_int(st, 0);
		snprintf(id, sizeof(id), "%lld", (long long)last);
		hc_json_parse(hc_stmt_text(st, 8, NULL),
			      strlen(hc_stmt_text(st, 8, NULL)), &payload,
			      NULL);
		json_array_append_new(
			items,
			json_pack("{s:s,s:s,s:I,s:o,s:o,s:{s:s,s:s,s:s,s:o}}",
				  "delivery", id, "subscriber",
				  hc_stmt_text(st, 1, NULL), "attempts",
				  (json_int_t)hc_stmt_int(st, 2), "last_error",
				  text_or_null(st, 3), "last_attempt_at",
				  text_or_null(st, 4), "event", "id",
				  hc_stmt_text(st, 5, NULL), "type",
				  hc_stmt_text(st, 6, NULL), "time",
				  hc_stmt_text(st, 7, NULL), "payload",
				  payload ? payload : json_object()));
	}
	{
		bool more = rc == HC_ROW_READY;
		if (st)
			hc_stmt_finish(st);
		if (rc != HC_ROW_DONE && rc != HC_ROW_READY) {
			json_decref(items);
			return rc;
		}
		if (more) {
			char next[HC_CURSOR_MAX];
			hc_cursor_encode(last, next, sizeof(next));
			*out = json_pack("{soss}", "items", items,
					 "next_cursor", next);
		} else {
			*out = json_pack("{sosn}", "items", items,
					 "next_cursor");
		}
	}
	return HC_OK;
}

int hc_events_redrive(struct hc_conn *c, const char *delivery,
		      const char *subscriber, json_t **out,
		      struct hc_err *err)
{
	int64_t seq = 0;
	int rc;
	if (delivery) {
		char *end;
		long long v = strtoll(delivery, &end, 10);
		if (!*delivery || *end || v <= 0)
			return hc_err_field(err, HC_EINVAL, "delivery",
					    "field 'delivery' must be the number "
					    "of a dead letter, not '%s'",
					    delivery);
		seq = v;
	}
	{
		struct hc_value p[] = { hc_vint(seq), hc_vint(seq),
					hc_vtext(subscriber),
					hc_vtext(subscriber) };
		rc = hc_exec(c,
			     "UPDATE event_deliveries SET status = 'pending', "
			     "attempts = 0, next_attempt_ms = 0 WHERE status "
			     "= 'dead' AND (? = 0 OR seq = ?) AND (CAST(? AS TEXT) "
			     "IS NULL "
			     "OR subscriber = ?)",
			     p, 4, err);
	}
	if (rc != HC_OK)
		return rc;
	if (delivery && hc_changes(c) == 0)
		return hc_err_field(err, HC_ENOTFOUND, "delivery",
				    "no dead letter %s", delivery);
	*out = json_pack("{sI}", "redriven", (json_int_t)hc_changes(c));
	return HC_OK;
}
