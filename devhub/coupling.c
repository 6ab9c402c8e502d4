/*
 * coupling.c - dev-hub's side of the events between hubs (docs/events.md).
 *
 * It emits: deployment_started when a deployment is recorded, and
 * deployment_succeeded / deployment_failed when it finishes, in the same
 * transaction (ops-hub makes a change record of them).
 *
 * It applies: incident_opened / incident_resolved from ops-hub as external
 * blockers of the linked tasks and workstreams (they take part in the
 * ready and blocked views like a blocking dependency, and the resolve lifts
 * them); budget_alert / runway_alert from fin-hub as resource pressure in
 * the domain summary. Handlers do not depend on the order of arrival: a
 * resolve that comes before its open leaves the blocker lifted, and an
 * older alert never overwrites a newer one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/events.h"
#include "hubcore/json.h"
#include "hubcore/rest.h"
#include "hubcore/util.h"

/* ---- deployments ------------------------------------------------------------------ */

const char *const dh_deployment_statuses[] = { "started", "succeeded",
					       "failed", NULL };

static const struct hc_field deployment_fields[] = {
	{ .name = "service", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE, .max_len = 64,
	  .doc = "The service deployed, by its ops-hub name." },
	{ .name = "repo", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 200, .doc = "The repo it was built from." },
	{ .name = "version", .type = HC_FT_STRING, .max_len = 200,
	  .doc = "What was deployed: a release, tag or commit." },
	{ .name = "environment", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 64, .default_value = "production",
	  .doc = "Where to (default production)." },
	{ .name = "deployed_by", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .max_len = 100, .doc = "Who deploys: a person, agent or pipeline." },
	{ .name = "task", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 128, .doc = "The task the deployment belongs to, if any." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_READONLY | HC_F_FILTER,
	  .enum_values = dh_deployment_statuses, .default_value = "started",
	  .doc = "started, then succeeded or failed (POST "
		 "/deployments/{id}/finish)." },
	{ .name = "note", .type = HC_FT_TEXT, .max_len = 16384,
	  .doc = "What happened, for the change record." },
	{ .name = "rollback", .type = HC_FT_TEXT, .max_len = 16384,
	  .doc = "How to undo it." },
	{ .name = "finished_at", .type = HC_FT_DATETIME, .flags = HC_F_READONLY,
	  .doc = "When it succeeded or failed." },
};

const struct hc_resource dh_deployment_resource = {
	.name = "deployment",
	.plural = "deployments",
	.table = "deployments",
	.doc = "A deployment of a service: ops-hub records it as a change.",
	.id_policy = HC_ID_UUID,
	.fields = deployment_fields,
	.nfields = HC_COUNT(deployment_fields),
	.newest_first = true,
};

static int emit_deployment(struct hc_conn *c, const char *type,
			   const json_t *d, struct hc_err *err)
{
	static const char *const keys[] = { "service", "repo", "version",
					    "environment", "deployed_by",
					    "task", "note", "rollback",
					    "status", "finished_at",
					    "created_at" };
	json_t *p = json_pack("{sO}", "deployment", json_object_get(d, "id"));
	int rc;
	for (size_t i = 0; i < HC_COUNT(keys); i++) {
		json_t *v = json_object_get(d, keys[i]);
		if (v && !json_is_null(v))
			json_object_set(p, keys[i], v);
	}
	rc = hc_event_emit(c, type, p, NULL, err);
	json_decref(p);
	return rc;
}

int dh_deployment_start(struct hc_conn *c, json_t *in, json_t **out,
			struct hc_err *err)
{
	json_t *row = NULL;
	int rc = hc_tx_begin(c, true, err);
	if (rc == HC_OK)
		rc = hc_res_create(c, &dh_deployment_resource, in, &row, err);
	if (rc == HC_OK)
		rc = emit_deployment(c, "deployment_started", row, err);
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	if (rc != HC_OK) {
		hc_tx_rollback(c);
		json_decref(row);
		return rc;
	}
	*out = row;
	return HC_OK;
}

int dh_deployment_finish(struct hc_conn *c, const char *id,
			 const char *status, const char *note, json_t **out,
			 struct hc_err *err)
{
	json_t *row = NULL;
	char now[HC_TIME_LEN + 1];
	int rc;
	*out = NULL;
	hc_time_now(now);
	if (!status || (strcmp(status, "succeeded") && strcmp(status, "failed")))
		return hc_err_field(err, HC_EINVAL, "status",
				    "field 'status' must be succeeded or "
				    "failed");
	rc = hc_tx_begin(c, true, err);
	if (rc == HC_OK)
		rc = hc_res_get_plain(c, &dh_deployment_resource, id, &row, err);
	if (rc == HC_OK && strcmp(hc_json_str(row, "status"), "started") != 0)
		rc = hc_err_field(err, HC_ECONFLICT, "status",
				  "deployment %s already %s", id,
				  hc_json_str(row, "status"));
	if (rc == HC_OK) {
		struct hc_value p[] = { hc_vtext(status), hc_vtext(now),
					hc_vtext(note), hc_vtext(note),
					hc_vtext(now),
					hc_vtext(hc_json_str(row, "id")) };
		rc = hc_exec(c,
			     "UPDATE deployments SET row_version = row_version + 1, "
			     "status = ?, finished_at = "
			     "?, note = CASE WHEN CAST(? AS TEXT) IS NULL THEN note "
			     "ELSE ? "
			     "END, updated_at = ? WHERE id = ?",
			     p, 6, err);
	}
	if (rc == HC_OK) {
		json_decref(row);
		row = NULL;
		rc = hc_res_get(c, &dh_deployment_resource, id, &row, err);
	}
	if (rc == HC_OK)
		rc = emit_deployment(c,
				     strcmp(status, "succeeded") == 0
					     ? "deployment_succeeded"
					     : "deployment_failed",
				     row, err);
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	if (rc != HC_OK) {
		hc_tx_rollback(c);
		json_decref(row);
		return rc;
	}
	*out = row;
	return HC_OK;
}

static int post_deployment(struct hc_req *req, struct hc_resp *resp,
			   struct hc_err *err)
{
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? dh_deployment_start(c, in, &out, err) : err->status;
	json_decref(in);
	return rc == HC_OK ? hc_rest_created(resp, &dh_deployment_resource, out)
			   : rc;
}

static int post_finish(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err)
{
	json_t *in = NULL, *out = NULL, *v;
	const char *k;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	json_object_foreach(in, k, v)
	{
		if (strcmp(k, "status") && strcmp(k, "note")) {
			rc = hc_err_field(err, HC_EINVAL, k,
					  "a finish takes only 'status' and "
					  "'note'");
			break;
		}
	}
	c = rc == HC_OK ? hc_req_db(req, err) : NULL;
	if (rc == HC_OK && !c)
		rc = err->status;
	if (rc == HC_OK)
		rc = dh_deployment_finish(c, hc_req_param(req, "key"),
					  hc_json_str(in, "status"),
					  hc_json_str(in, "note"), &out, err);
	json_decref(in);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* ---- external blockers --------------------------------------------------------------- */

static const char *const blocker_kinds[] = { "task", "workstream", NULL };
static const char *const blocker_statuses[] = { "open", "lifted", NULL };

static const struct hc_field blocker_fields[] = {
	{ .name = "kind", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = blocker_kinds,
	  .doc = "task or workstream: what is blocked." },
	{ .name = "item", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 128,
	  .doc = "The blocked task or workstream." },
	{ .name = "source", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 100,
	  .doc = "The hub that blocks it (ops-hub)." },
	{ .name = "reason", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 64, .doc = "Why: incident." },
	{ .name = "reference", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 128,
	  .doc = "The incident's id in the source hub." },
	{ .name = "title", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "The incident's title." },
	{ .name = "severity", .type = HC_FT_STRING, .max_len = 16,
	  .doc = "The incident's severity (SEV1 to SEV4)." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .enum_values = blocker_statuses,
	  .doc = "open (it blocks) or lifted (the incident was resolved)." },
	{ .name = "lifted_at", .type = HC_FT_DATETIME,
	  .doc = "When the resolve lifted it." },
};

static const char *const blocker_unique[] = { "source", "reference", "kind",
					      "item", NULL };
static const struct hc_unique blocker_uniques[] = { { blocker_unique, 0 } };

const struct hc_resource dh_blocker_resource = {
	.name = "external blocker",
	.plural = "external-blockers",
	.table = "external_blockers",
	.doc = "A task or workstream blocked by another hub (an incident).",
	.id_policy = HC_ID_UUID,
	.fields = blocker_fields,
	.nfields = HC_COUNT(blocker_fields),
	.uniques = blocker_uniques,
	.nuniques = HC_COUNT(blocker_uniques),
	.newest_first = true,
};

/* The task and workstream ids of an incident's payload, checked to exist:
 * a link to nothing is refused, and the event waits in the dead letters
 * where people see it. */
static int linked(struct hc_conn *c, const struct hc_event *ev,
		  const char *member, const struct hc_resource *r,
		  json_t *ids, struct hc_err *err)
{
	json_t *list = json_object_get(ev->payload, member), *v;
	size_t i;
	if (list && !json_is_array(list))
		return hc_err_field(err, HC_EINVAL, member,
				    "payload '%s' must be a list of ids",
				    member);
	json_array_foreach(list, i, v)
	{
		json_t *row = NULL;
		struct hc_err e2 = { 0 };
		int rc;
		if (!json_is_string(v))
			return hc_err_field(err, HC_EINVAL, member,
					    "payload '%s' must be a list of ids",
					    member);
		rc = hc_res_get_plain(c, r, json_string_value(v), &row, &e2);
		if (rc == HC_ENOTFOUND)
			return hc_err_field(err, HC_EINVAL, member,
					    "incident %s links %s '%s', which "
					    "dev-hub does not have",
					    hc_json_str(ev->payload, "incident"),
					    r->name, json_string_value(v));
		if (rc != HC_OK) {
			*err = e2;
			return rc;
		}
		json_array_append_new(ids,
				      json_pack("{ssss}", "kind",
						r == &dh_task_resource
							? "task"
							: "workstream",
						"item", hc_json_str(row, "id")));
		json_decref(row);
	}
	return HC_OK;
}

static int on_incident(struct hc_hub *hub, struct hc_conn *c,
		       const struct hc_event *ev, struct hc_err *err)
{
	const char *incident = hc_json_str(ev->payload, "incident");
	bool opened = strcmp(ev->type, "incident_opened") == 0;
	json_t *ids = json_array(), *v;
	char now[HC_TIME_LEN + 1];
	size_t i;
	int rc;
	if (!incident || !*incident) {
		json_decref(ids);
		return hc_err_field(err, HC_EINVAL, "payload.incident",
				    "an incident event needs 'incident': its "
				    "id");
	}
	rc = linked(c, ev, "tasks", &dh_task_resource, ids, err);
	if (rc == HC_OK)
		rc = linked(c, ev, "workstreams", &dh_workstream_resource, ids,
			    err);
	hc_time_now(now);
	json_array_foreach(ids, i, v)
	{
		char id[HC_UUID_LEN + 1] = "";
		struct hc_value p[11];
		if (rc != HC_OK)
			break;
		hc_uuid_v4(id);
		p[0] = hc_vtext(id);
		{
		struct hc_value q[] = {
			hc_vtext(id),
			hc_vtext(hc_json_str(v, "kind")),
			hc_vtext(hc_json_str(v, "item")),
			hc_vtext(ev->source),
			hc_vtext(incident),
			hc_vtext(hc_json_str(ev->payload, "title")),
			hc_vtext(hc_json_str(ev->payload, "severity")),
			hc_vtext(opened ? "open" : "lifted"),
			opened ? hc_vnull() : hc_vtext(now),
			hc_vtext(now),
			hc_vtext(now),
		};
		memcpy(p, q, sizeof(p));
		}
		/* an open never reopens a lifted blocker; a resolve that
		 * comes first leaves one lifted */
		rc = hc_exec(c,
			     opened ? "INSERT INTO external_blockers (id, kind, "
				      "item, source, reason, reference, title, "
				      "severity, status, lifted_at, created_at, "
				      "updated_at) VALUES (?, ?, ?, ?, "
				      "'incident', ?, ?, ?, ?, ?, ?, ?) ON "
				      "CONFLICT DO NOTHING"
				    : "INSERT INTO external_blockers (id, kind, "
				      "item, source, reason, reference, title, "
				      "severity, status, lifted_at, created_at, "
				      "updated_at) VALUES (?, ?, ?, ?, "
				      "'incident', ?, ?, ?, ?, ?, ?, ?) ON "
				      "CONFLICT (source, reference, kind, item) "
				      "DO UPDATE SET status = 'lifted', "
				      "lifted_at = excluded.lifted_at, "
				      "updated_at = excluded.updated_at",
			     p, HC_COUNT(p), err);
	}
	if (rc == HC_OK && !opened) {
		struct hc_value p[] = { hc_vtext(now), hc_vtext(now),
					hc_vtext(ev->source), hc_vtext(incident) };
		rc = hc_exec(c,
			     "UPDATE external_blockers SET row_version = "
			     "row_version + 1, status = 'lifted', "
			     "lifted_at = ?, updated_at = ? WHERE source = ? "
			     "AND reference = ? AND status = 'open'",
			     p, 4, err);
	}
	json_decref(ids);
	return rc;
}

/* ---- resource pressure ---------------------------------------------------------------- */

static const char *const pressure_kinds[] = { "budget", "runway", NULL };
static const char *const pressure_states[] = { "raised", "resolved", NULL };

static const struct hc_field pressure_fields[] = {
	{ .name = "domain", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 64, .doc = "The domain under pressure (its slug)." },
	{ .name = "kind", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = pressure_kinds,
	  .doc = "budget (a budget_alert) or runway (a runway_alert)." },
	{ .name = "source", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 100,
	  .doc = "The hub that raised it (fin-hub)." },
	{ .name = "key", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 200,
	  .doc = "The alert's correlation id in the source hub." },
	{ .name = "state", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = pressure_states,
	  .doc = "raised or resolved." },
	{ .name = "severity", .type = HC_FT_STRING, .max_len = 16,
	  .doc = "As the source hub says: medium, high, critical." },
	{ .name = "summary", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "One line for people." },
	{ .name = "details", .type = HC_FT_JSON, .json_kind = HC_JSON_OBJECT,
	  .default_value = "{}", .doc = "The alert's figures." },
	{ .name = "event_time", .type = HC_FT_DATETIME,
	  .doc = "When the source hub emitted the latest state." },
};

static const char *const pressure_unique[] = { "source", "key", NULL };
static const struct hc_unique pressure_uniques[] = { { pressure_unique,
						       0 } };

const struct hc_resource dh_pressure_resource = {
	.name = "resource pressure",
	.plural = "resource-pressure",
	.table = "resource_pressure",
	.doc = "Budget and runway alerts of fin-hub, by domain.",
	.id_policy = HC_ID_UUID,
	.fields = pressure_fields,
	.nfields = HC_COUNT(pressure_fields),
	.uniques = pressure_uniques,
	.nuniques = HC_COUNT(pressure_uniques),
	.newest_first = true,
};

static int on_alert(struct hc_hub *hub, struct hc_conn *c,
		    const struct hc_event *ev, struct hc_err *err)
{
	const json_t *p = ev->payload;
	const char *state = hc_json_str(p, "state");
	const char *key = hc_json_str(p, "correlation_id");
	char id[HC_UUID_LEN + 1], now[HC_TIME_LEN + 1], *details;
	int rc;
	if (!state || (strcmp(state, "raised") && strcmp(state, "resolved")))
		return hc_err_field(err, HC_EINVAL, "payload.state",
				    "a %s needs 'state': raised or resolved",
				    ev->type);
	if (!key || !*key)
		return hc_err_field(err, HC_EINVAL, "payload.correlation_id",
				    "a %s needs its 'correlation_id'",
				    ev->type);
	details = hc_json_dump(json_object_get(p, "details")
				       ? json_object_get(p, "details")
				       : p,
			       NULL);
	if (!details)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	hc_uuid_v4(id);
	hc_time_now(now);
	{
		struct hc_value v[] = {
			hc_vtext(id),
			hc_vtext(hc_json_str(p, "domain")),
			hc_vtext(strcmp(ev->type, "runway_alert") == 0
					 ? "runway"
					 : "budget"),
			hc_vtext(ev->source),
			hc_vtext(key),
			hc_vtext(state),
			hc_vtext(hc_json_str(p, "severity")),
			hc_vtext(hc_json_str(p, "summary")),
			hc_vtext(details),
			hc_vtext(ev->time),
			hc_vtext(now),
			hc_vtext(now),
		};
		/* the latest by the source's time wins, whatever the order
		 * of arrival */
		rc = hc_exec(c,
			     "INSERT INTO resource_pressure (id, domain, kind, "
			     "source, key, state, severity, summary, details, "
			     "event_time, created_at, updated_at) VALUES (?, "
			     "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
			     "(source, key) DO UPDATE SET state = "
			     "excluded.state, severity = excluded.severity, "
			     "summary = excluded.summary, details = "
			     "excluded.details, event_time = "
			     "excluded.event_time, updated_at = "
			     "excluded.updated_at WHERE excluded.event_time "
			     ">= resource_pressure.event_time",
			     v, HC_COUNT(v), err);
	}
	free(details);
	return rc;
}

/* The domain summary's part: raised pressure of the domain. */
int dh_pressure_summary(struct hc_conn *c, const char *domain,
			json_t *summary, struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(domain) };
	struct hc_list_query q = { .limit = 20 };
	json_t *page = NULL;
	int rc;
	q.where_sql = "domain = ? AND state = 'raised'";
	q.where_params = p;
	q.where_nparams = 1;
	rc = hc_res_list(c, &dh_pressure_resource, &q, &page, err);
	if (rc != HC_OK)
		return rc;
	json_object_set_new(
		summary, "resource_pressure",
		json_pack("{sIsO}", "open",
			  (json_int_t)json_array_size(
				  json_object_get(page, "items")),
			  "items", json_object_get(page, "items")));
	json_decref(page);
	return HC_OK;
}

/* ---- tables ------------------------------------------------------------------------------- */

static const struct hc_event_handler handlers[] = {
	{ "incident_opened", on_incident,
	  "external blockers on the linked tasks and workstreams" },
	{ "incident_resolved", on_incident, "the incident's blockers lifted" },
	{ "budget_alert", on_alert, "resource pressure in the domain summary" },
	{ "runway_alert", on_alert, "resource pressure in the domain summary" },
};

const struct hc_event_def dh_events = {
	.handlers = handlers,
	.nhandlers = HC_COUNT(handlers),
};

static const struct hc_route coupling_routes[] = {
	HC_ROUTES_READ(dh_deployment_resource, "deployments", "deployments"),
	{ "POST", "/deployments", post_deployment, NULL, HC_SCOPE_WRITE, 0,
	  "Record a deployment starting (ops-hub gets a change record)" },
	{ "POST", "/deployments/{key}/finish", post_finish, NULL,
	  HC_SCOPE_WRITE, 0, "A deployment succeeded or failed" },
	HC_ROUTES_READ(dh_blocker_resource, "external-blockers",
		       "tasks and workstreams blocked by incidents"),
	HC_ROUTES_READ(dh_pressure_resource, "resource-pressure",
		       "budget and runway alerts of fin-hub"),
};

const struct hc_route_table dh_coupling_routes =
	HC_ROUTE_TABLE(coupling_routes);
