/*
 * progress.c - progress events: an append-only log of what happened, with
 * the canonical FOS §10 risk and alert types and their "open" views.
 *
 * A risk or alert is followed through its correlation_id: the latest event
 * of a correlation decides whether it is open (risk_surfaced,
 * risk_escalated, alert_raised, alert_acknowledged) or closed
 * (risk_mitigated, alert_resolved). An event without a correlation_id
 * stands alone.
 */
#include <stdio.h>
#include <string.h>

#include "hubcore/buf.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "resource_internal.h"

const char *const hc_risk_event_types[] = { "risk_surfaced", "risk_mitigated",
					    "risk_escalated", NULL };
const char *const hc_alert_event_types[] = { "alert_raised",
					     "alert_acknowledged",
					     "alert_resolved", NULL };
static const char *const severities[] = { "info", "low", "medium", "high",
					  "critical", NULL };

/* Event types are identifiers: lower-case letters, digits, '_' and '.'. */
static int progress_prepare(struct hc_conn *c, const struct hc_resource *r,
			    enum hc_write_mode mode, json_t *obj,
			    const json_t *old, struct hc_err *err)
{
	const char *t = hc_json_str(obj, "event_type");
	if (!t)
		return HC_OK;
	for (const char *p = t; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '.'))
			return hc_err_field(err, HC_EINVAL, "event_type",
					    "field 'event_type' may contain "
					    "only lower-case letters, digits, "
					    "'_' and '.'");
	return HC_OK;
}

static const struct hc_field progress_fields[] = {
	{ .name = "event_type", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 64,
	  .doc = "What happened, e.g. task_completed or the FOS §10 types "
		 "risk_surfaced, risk_mitigated, risk_escalated, "
		 "alert_raised, alert_acknowledged, alert_resolved." },
	{ .name = "domain", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The domain the event belongs to." },
	{ .name = "correlation_id", .type = HC_FT_STRING,
	  .flags = HC_F_FILTER, .max_len = 128,
	  .doc = "Ties the events of one risk or alert together." },
	{ .name = "severity", .type = HC_FT_ENUM, .flags = HC_F_FILTER,
	  .enum_values = severities,
	  .doc = "How serious: info, low, medium, high or critical." },
	{ .name = "summary", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "One line for people." },
	{ .name = "source", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100,
	  .doc = "The hub or agent that emitted the event." },
	{ .name = "subject_refs", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_OBJECT, .default_value = "{}",
	  .doc = "What the event is about, e.g. {\"task\": \"X-T01\"}." },
	{ .name = "payload", .type = HC_FT_JSON, .json_kind = HC_JSON_OBJECT,
	  .default_value = "{}", .doc = "Event-specific data." },
};

const struct hc_resource hc_progress_resource = {
	.name = "progress event",
	.plural = "progress",
	.table = "progress_events",
	.doc = "An append-only log of progress, risks and alerts.",
	.id_policy = HC_ID_UUID,
	.fields = progress_fields,
	.nfields = HC_COUNT(progress_fields),
	.newest_first = true,
	.hooks = { .prepare = progress_prepare },
};

/* "event_type IN ('a', 'b')" from a constant vocabulary (never input). */
static int type_list(struct hc_buf *b, const char *const *types)
{
	int rc = hc_buf_adds(b, "(");
	for (const char *const *t = types; rc == HC_OK && *t; t++)
		rc = hc_buf_addf(b, "%s'%s'", t == types ? "" : ", ", *t);
	if (rc == HC_OK)
		rc = hc_buf_adds(b, ")");
	return rc;
}

/* The event types of a vocabulary that leave the item open. */
static void open_types(const char *const *types, const char **out)
{
	size_t n = 0;
	for (const char *const *t = types; *t; t++)
		if (!strstr(*t, "mitigated") && !strstr(*t, "resolved"))
			out[n++] = *t;
	out[n] = NULL;
}

/* The kind of item a vocabulary follows: the key of its rows in
 * progress_open. */
const char *hc__progress_kind(const char *const *types)
{
	if (types == hc_risk_event_types)
		return "risk";
	if (types == hc_alert_event_types)
		return "alert";
	HC_BUG("progress view of an unknown vocabulary");
}

int hc__progress_view_sql(const char *const *types, bool open_only,
			  struct hc_buf *b)
{
	/* The open items are kept in progress_open as the events arrive
	 * (the triggers made by progress_open_schema), so that the view
	 * reads the few open rows instead of following every correlation. */
	if (open_only)
		return hc_buf_addf(b,
				   "seq IN (SELECT seq FROM progress_open "
				   "WHERE kind = '%s')",
				   hc__progress_kind(types));
	if (hc_buf_adds(b, "event_type IN ") != HC_OK)
		return HC_ENOMEM;
	return type_list(b, types);
}

int hc__progress_open_latest_sql(const char *const *types, int n,
				 struct hc_buf *b)
{
	return hc_buf_addf(b,
			   "seq IN (SELECT seq FROM progress_open WHERE kind "
			   "= '%s' AND domain = ? ORDER BY seq DESC LIMIT %d)",
			   hc__progress_kind(types), n);
}

/* What progress_open holds, computed from the log itself: an event of a
 * type that leaves the item open, with no later event of the vocabulary
 * in its correlation. */
static int open_items_sql(const char *const *types, struct hc_buf *b)
{
	const char *open[8];
	int rc;
	open_types(types, open);
	rc = hc_buf_adds(b, "event_type IN ");
	if (rc == HC_OK)
		rc = type_list(b, open);
	if (rc == HC_OK)
		rc = hc_buf_adds(b,
				 " AND (correlation_id IS NULL OR NOT EXISTS "
				 "(SELECT 1 FROM progress_events later WHERE "
				 "later.correlation_id = "
				 "progress_events.correlation_id AND later.seq "
				 "> progress_events.seq AND later.event_type "
				 "IN ");
	if (rc == HC_OK)
		rc = type_list(b, types);
	if (rc == HC_OK)
		rc = hc_buf_adds(b, "))");
	return rc;
}

/*
 * progress_open(seq, kind, domain, correlation_id): the open risks and
 * alerts, kept by triggers in the transaction that writes the event: an
 * event of a vocabulary closes the items of its correlation and, when its
 * type leaves the item open, opens itself. Filled from the log when the
 * table is made.
 */
int hc__progress_open_schema(struct hc_conn *c, const struct hc_dialect *d,
			     struct hc_err *err)
{
	static const char *const *const vocabularies[] = {
		hc_risk_event_types, hc_alert_event_types
	};
	bool pg = strcmp(d->name, "postgresql") == 0;
	struct hc_buf sql = HC_BUF_INIT(8192);
	int rc;

	rc = hc_buf_addf(&sql,
			 "CREATE TABLE progress_open (seq %s PRIMARY KEY, "
			 "kind TEXT NOT NULL, domain TEXT, correlation_id "
			 "TEXT);"
			 "CREATE INDEX progress_open_kind ON progress_open "
			 "(kind, domain, seq);"
			 "CREATE INDEX progress_open_correlation ON "
			 "progress_open (correlation_id);",
			 d->type_name(HC_COL_INT));
	for (size_t i = 0; rc == HC_OK && i < HC_COUNT(vocabularies); i++) {
		const char *const *types = vocabularies[i];
		const char *open[8];
		open_types(types, open);
		rc = hc_buf_addf(&sql,
				 "INSERT INTO progress_open (seq, kind, domain, "
				 "correlation_id) SELECT seq, '%s', domain, "
				 "correlation_id FROM progress_events WHERE ",
				 hc__progress_kind(types));
		if (rc == HC_OK)
			rc = open_items_sql(types, &sql);
		if (rc == HC_OK)
			rc = hc_buf_adds(&sql, ";");
		if (rc != HC_OK || pg)
			continue;
		/* SQLite: one trigger per vocabulary */
		rc = hc_buf_addf(&sql,
				 "CREATE TRIGGER progress_open_%s AFTER INSERT "
				 "ON progress_events WHEN NEW.event_type IN ",
				 hc__progress_kind(types));
		if (rc == HC_OK)
			rc = type_list(&sql, types);
		if (rc == HC_OK)
			rc = hc_buf_addf(&sql,
					 " BEGIN DELETE FROM progress_open "
					 "WHERE kind = '%s' AND correlation_id "
					 "= NEW.correlation_id; INSERT INTO "
					 "progress_open (seq, kind, domain, "
					 "correlation_id) SELECT NEW.seq, '%s', "
					 "NEW.domain, NEW.correlation_id WHERE "
					 "NEW.event_type IN ",
					 hc__progress_kind(types), hc__progress_kind(types));
		if (rc == HC_OK)
			rc = type_list(&sql, open);
		if (rc == HC_OK)
			rc = hc_buf_adds(&sql, "; END;");
	}
	if (rc == HC_OK && !pg)
		rc = hc_buf_adds(&sql,
				 "CREATE TRIGGER progress_open_gone AFTER "
				 "DELETE ON progress_events BEGIN DELETE FROM "
				 "progress_open WHERE seq = OLD.seq; END;");
	if (rc == HC_OK && pg) {
		/* PostgreSQL: one function for both vocabularies */
		rc = hc_buf_adds(&sql,
				 "CREATE FUNCTION hc_progress_open() RETURNS "
				 "trigger LANGUAGE plpgsql AS $$ DECLARE k "
				 "TEXT; BEGIN IF TG_OP = 'DELETE' THEN DELETE "
				 "FROM progress_open WHERE seq = OLD.seq; "
				 "RETURN NULL; END IF;");
		for (size_t i = 0; rc == HC_OK && i < HC_COUNT(vocabularies);
		     i++) {
			rc = hc_buf_adds(&sql, i ? " ELSIF" : " IF");
			if (rc == HC_OK)
				rc = hc_buf_adds(&sql, " NEW.event_type IN ");
			if (rc == HC_OK)
				rc = type_list(&sql, vocabularies[i]);
			if (rc == HC_OK)
				rc = hc_buf_addf(&sql, " THEN k := '%s';",
						 hc__progress_kind(vocabularies[i]));
		}
		if (rc == HC_OK)
			rc = hc_buf_adds(&sql,
					 " ELSE RETURN NULL; END IF; IF "
					 "NEW.correlation_id IS NOT NULL THEN "
					 "DELETE FROM progress_open WHERE kind "
					 "= k AND correlation_id = "
					 "NEW.correlation_id; END IF; IF "
					 "NEW.event_type IN ");
		for (size_t i = 0; rc == HC_OK && i < HC_COUNT(vocabularies);
		     i++) {
			const char *open[8];
			open_types(vocabularies[i], open);
			for (const char *const *t = open; rc == HC_OK && *t;
			     t++)
				rc = hc_buf_addf(&sql, "%s'%s'",
						 i == 0 && t == open ? "(" : ", ",
						 *t);
		}
		if (rc == HC_OK)
			rc = hc_buf_adds(&sql,
					 ") THEN INSERT INTO progress_open "
					 "(seq, kind, domain, correlation_id) "
					 "VALUES (NEW.seq, k, NEW.domain, "
					 "NEW.correlation_id); END IF; RETURN "
					 "NULL; END $$;"
					 "CREATE TRIGGER progress_events_open "
					 "AFTER INSERT OR DELETE ON "
					 "progress_events FOR EACH ROW EXECUTE "
					 "FUNCTION hc_progress_open();");
	}
	if (rc != HC_OK)
		rc = hc_err_set(err, HC_EINTERNAL, "schema script too long");
	else
		rc = hc_exec_script(c, sql.data, err);
	hc_buf_release(&sql);
	return rc;
}

int hc_progress_view(struct hc_conn *c, const char *const *types,
		     bool open_only, const struct hc_list_query *q,
		     json_t **out, struct hc_err *err)
{
	struct hc_buf where = HC_BUF_INIT(4096);
	struct hc_list_query q2 = *q;
	int rc;
	if (q->where_sql)
		HC_BUG("progress view takes no extra condition");
	if (hc__progress_view_sql(types, open_only, &where) != HC_OK) {
		hc_buf_release(&where);
		return hc_err_set(err, HC_EINTERNAL, "query too long");
	}
	q2.where_sql = where.data;
	rc = hc_res_list(c, &hc_progress_resource, &q2, out, err);
	hc_buf_release(&where);
	return rc;
}
