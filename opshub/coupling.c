/*
 * coupling.c - ops-hub's side of the events between hubs (docs/events.md).
 *
 * It emits incident_opened / incident_resolved (incidents.c) and the FOS
 * §10 alert_raised / alert_resolved of service health (health.c).
 *
 * It applies: deployment_started / deployment_succeeded /
 * deployment_failed from dev-hub as one change record per deployment
 * (source deployment), whose events list grows by one entry per event and
 * whose outcome is the latest; cost_attribution from fin-hub as the cost
 * of a service per month.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/events.h"
#include "hubcore/rest.h"
#include "opshub/internal.h"

/* ---- deployments -> change records ------------------------------------------------- */

static int on_deployment(struct hc_hub *hub, struct hc_conn *c,
			 const struct hc_event *ev, struct hc_err *err)
{
	const json_t *p = ev->payload;
	const char *dep = hc_json_str(p, "deployment");
	const char *service = hc_json_str(p, "service");
	const char *outcome = strchr(ev->type, '_') + 1;
	json_t *row = NULL, *events = NULL, *entry, *known = NULL;
	char *text = NULL;
	int64_t n = 0;
	int rc;

	if (!dep || !*dep || !service || !*service)
		return hc_err_field(err, HC_EINVAL,
				    !dep || !*dep ? "payload.deployment"
						  : "payload.service",
				    "a %s needs 'deployment' and 'service'",
				    ev->type);
	entry = json_pack("{s:s,s:s,s:s}", "type", ev->type, "event_id",
			  ev->id, "at", ev->time);
	if (hc_json_str(p, "note"))
		json_object_set_new(entry, "note",
				    json_string(hc_json_str(p, "note")));
	{
		struct hc_value q[] = { hc_vtext(dep) };
		rc = hc_query_int(c, &n,
				  "SELECT count(*) FROM change_records WHERE "
				  "source = 'deployment' AND deployment = ?",
				  q, 1, err);
	}
	if (rc == HC_OK && !n) {
		/* a service ops-hub does not know is named, not linked */
		struct hc_err e2 = { 0 };
		char summary[300];
		const char *version = hc_json_str(p, "version");
		const char *env = hc_json_str(p, "environment");
		json_t *in;
		bool have = hc_res_get_plain(c, &oh_service_resource, service,
					     &known, &e2) == HC_OK;
		snprintf(summary, sizeof(summary), "deploy %s%s%s%s%s", service,
			 version ? " " : "", version ? version : "",
			 env ? " to " : "", env ? env : "");
		in = json_pack("{s:s,s:s,s:s,s:s}", "summary", summary,
			       "changed_by",
			       hc_json_str(p, "deployed_by")
				       ? hc_json_str(p, "deployed_by")
				       : ev->source,
			       "source", "deployment", "reference",
			       version ? version : dep);
		if (have)
			json_object_set_new(in, "service",
					    json_string(oh_str(known, "id")));
		if (hc_json_str(p, "rollback"))
			json_object_set_new(
				in, "rollback",
				json_string(hc_json_str(p, "rollback")));
		{
			char details[600];
			snprintf(details, sizeof(details),
				 "deployment %s of %s%s from %s", dep, service,
				 have ? "" : " (not a service ops-hub knows)",
				 ev->source);
			json_object_set_new(in, "details",
					    json_string(details));
		}
		rc = hc_res_create(c, &oh_change_resource, in, &row, err);
		json_decref(in);
		if (rc == HC_OK) {
			struct hc_value q[] = { hc_vtext(dep),
						hc_vtext(oh_str(row, "id")) };
			rc = hc_exec(c,
				     "UPDATE change_records SET deployment = ? "
				     "WHERE id = ?",
				     q, 2, err);
		}
		json_decref(row);
		row = NULL;
	}
	if (rc == HC_OK) {
		struct hc_stmt *st = NULL;
		struct hc_value q[] = { hc_vtext(dep) };
		rc = hc_query(c, &st,
			      "SELECT id, events, outcome FROM change_records "
			      "WHERE source = 'deployment' AND deployment = ?",
			      q, 1, err);
		if (rc == HC_OK && (rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
			const char *e = hc_stmt_text(st, 1, NULL);
			const char *old = hc_stmt_isnull(st, 2)
						  ? NULL
						  : hc_stmt_text(st, 2, NULL);
			hc_json_parse(e ? e : "[]", e ? strlen(e) : 2, &events,
				      NULL);
			row = json_pack("{ssss}", "id",
					hc_stmt_text(st, 0, NULL), "outcome",
					old ? old : "");
			rc = HC_OK;
		} else if (rc == HC_ROW_DONE) {
			rc = hc_err_set(err, HC_EINTERNAL,
					"change record of %s vanished", dep);
		}
		if (st)
			hc_stmt_finish(st);
	}
	if (rc == HC_OK) {
		/* a final outcome is not undone by a late started */
		const char *old = oh_str(row, "outcome");
		const char *now_outcome =
			strcmp(outcome, "started") == 0 && old && *old
				? old
				: outcome;
		char stamp[HC_TIME_LEN + 1];
		if (!json_is_array(events)) {
			json_decref(events);
			events = json_array();
		}
		json_array_append(events, entry);
		text = hc_json_dump(events, NULL);
		hc_time_now(stamp);
		{
			struct hc_value q[] = { hc_vtext(text),
						hc_vtext(now_outcome),
						hc_vtext(stamp),
						hc_vtext(oh_str(row, "id")) };
			rc = text ? hc_exec(c,
					    "UPDATE change_records SET "
					    "row_version = row_version + 1, "
					    "events = ?, outcome = ?, updated_at = ? "
					    "WHERE id = ?",
					    q, 4, err)
				  : hc_err_set(err, HC_ENOMEM,
					       "out of memory");
		}
	}
	free(text);
	json_decref(entry);
	json_decref(events);
	json_decref(row);
	json_decref(known);
	return rc;
}

/* ---- cost attribution ------------------------------------------------------------------ */

static const struct hc_field cost_fields[] = {
	{ .name = "service", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 300,
	  .doc = "The service, as fin-hub's cost lines name it." },
	{ .name = "month", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 7,
	  .doc = "YYYY-MM." },
	{ .name = "currency", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 3,
	  .doc = "ISO 4217 code of amount." },
	{ .name = "amount", .type = HC_FT_INT, .flags = HC_F_REQUIRED,
	  .doc = "The month's cost of the service, in minor units." },
	{ .name = "domain", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 64, .doc = "The domain charged." },
	{ .name = "source", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 100, .doc = "The hub that attributed it (fin-hub)." },
	{ .name = "event_time", .type = HC_FT_DATETIME,
	  .doc = "When the source emitted the figure." },
};

static const char *const cost_unique[] = { "source", "service", "month",
					   "currency", NULL };
static const struct hc_unique cost_uniques[] = { { cost_unique, 0 } };

const struct hc_resource oh_service_cost_resource = {
	.name = "service cost",
	.plural = "service-costs",
	.table = "service_costs",
	.doc = "What a service cost in a month, from fin-hub.",
	.id_policy = HC_ID_UUID,
	.fields = cost_fields,
	.nfields = HC_COUNT(cost_fields),
	.uniques = cost_uniques,
	.nuniques = HC_COUNT(cost_uniques),
	.newest_first = true,
};

static int on_cost(struct hc_hub *hub, struct hc_conn *c,
		   const struct hc_event *ev, struct hc_err *err)
{
	const json_t *p = ev->payload;
	const char *service = hc_json_str(p, "service");
	const char *month = hc_json_str(p, "month");
	const char *cur = hc_json_str(p, "currency");
	json_t *amount = json_object_get(p, "amount");
	char id[HC_UUID_LEN + 1], now[HC_TIME_LEN + 1];
	if (!service || !month || strlen(month) != 7 || !cur ||
	    strlen(cur) != 3 || !json_is_integer(amount))
		return hc_err_field(err, HC_EINVAL, "payload",
				    "a cost_attribution needs 'service', "
				    "'month' (YYYY-MM), 'currency' and an "
				    "integer 'amount'");
	hc_uuid_v4(id);
	hc_time_now(now);
	{
		struct hc_value v[] = {
			hc_vtext(id),	     hc_vtext(service),
			hc_vtext(month),     hc_vtext(cur),
			hc_vint(json_integer_value(amount)),
			hc_vtext(hc_json_str(p, "domain")),
			hc_vtext(ev->source), hc_vtext(ev->time),
			hc_vtext(now),	     hc_vtext(now),
		};
		return hc_exec(c,
			       "INSERT INTO service_costs (id, service, month, "
			       "currency, amount, domain, source, event_time, "
			       "created_at, updated_at) VALUES (?, ?, ?, ?, ?, "
			       "?, ?, ?, ?, ?) ON CONFLICT (source, service, "
			       "month, currency) DO UPDATE SET amount = "
			       "excluded.amount, domain = excluded.domain, "
			       "event_time = excluded.event_time, updated_at "
			       "= excluded.updated_at WHERE excluded.event_time "
			       ">= service_costs.event_time",
			       v, HC_COUNT(v), err);
	}
}

static const struct hc_event_handler handlers[] = {
	{ "deployment_started", on_deployment,
	  "a change record of the deployment" },
	{ "deployment_succeeded", on_deployment,
	  "the deployment's change record: outcome succeeded" },
	{ "deployment_failed", on_deployment,
	  "the deployment's change record: outcome failed" },
	{ "cost_attribution", on_cost, "the service's cost of the month" },
};

const struct hc_event_def oh_events = {
	.handlers = handlers,
	.nhandlers = HC_COUNT(handlers),
};

static const struct hc_route coupling_routes[] = {
	HC_ROUTES_READ(oh_service_cost_resource, "service-costs",
		       "costs of services per month, from fin-hub"),
};

const struct hc_route_table oh_coupling_routes =
	HC_ROUTE_TABLE(coupling_routes);
