/*
 * hub.c - ops-hub's definition: its schema ("ops" migrations), its routes
 * (the generic ones of its resources plus the operations: register, probe,
 * push, health, incident transitions, runbook steps, access checks,
 * cluster and storage health, inventory upload), its part of the domain
 * summary, and its life cycle (the probe scheduler of a serving hub).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hubcore/auth.h"
#include "hubcore/capabilities.h"
#include "hubcore/rest.h"
#include "hubcore/tpsc.h"
#include "hubcore/view.h"
#include "opshub/internal.h"

/* ---- helpers -------------------------------------------------------------------- */

static int json_body(struct hc_req *req, json_t **in, struct hc_conn **c,
		     struct hc_err *err)
{
	int rc = hc_req_json(req, in, err);
	if (rc != HC_OK)
		return rc;
	*c = hc_req_db(req, err);
	if (!*c) {
		json_decref(*in);
		*in = NULL;
		return err->status;
	}
	return HC_OK;
}

/* Take a string member out of an object (NULL when absent); a member of
 * another type is refused naming it. */
static int take_str(json_t *in, const char *key, char **out,
		    struct hc_err *err)
{
	json_t *v = json_object_get(in, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		json_object_del(in, key);
		return HC_OK;
	}
	if (!json_is_string(v))
		return hc_err_field(err, HC_EINVAL, key,
				    "field '%s' must be a string", key);
	*out = strdup(json_string_value(v));
	json_object_del(in, key);
	return *out ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
}

/* ---- services --------------------------------------------------------------------- */

/* PUT /services/{key}: register (create, or update the fields given). */
static int put_service(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err)
{
	const char *key = hc_req_param(req, "key");
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	bool created = false;
	int rc = json_body(req, &in, &c, err);
	if (rc != HC_OK)
		return rc;
	if (!json_object_get(in, "name"))
		json_object_set_new(in, "name", json_string(key));
	if (!oh_str(in, "name") || strcmp(oh_str(in, "name"), key) != 0)
		rc = hc_err_field(err, HC_EINVAL, "name",
				  "field 'name' must be '%s', the name in the "
				  "path",
				  key);
	if (rc == HC_OK)
		rc = oh_service_register(c, in, &created, NULL, &out, err);
	json_decref(in);
	return rc == HC_OK ? hc_resp_json(resp, created ? 201 : 200, out) : rc;
}

static int get_service_health(struct hc_req *req, struct hc_resp *resp,
			      struct hc_err *err)
{
	struct hc_conn *c = hc_req_db(req, err);
	json_t *out = NULL;
	int rc = c ? oh_service_health(c, hc_req_param(req, "key"), &out, err)
		   : err->status;
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

static int post_probe(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	json_t *out = NULL;
	int rc = oh_service_probe_now(req->hub->store, hc_req_param(req, "key"),
				      &out, err);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* POST /services/{key}/push with "Authorization: Bearer TOKEN" and
 * {"success": true|false, "message": "..."}. */
static int post_push(struct hc_req *req, struct hc_resp *resp,
		     struct hc_err *err)
{
	const char *auth = hc_req_header(req, "Authorization");
	const char *token = NULL;
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc;
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
		token = auth + 7;
	if (!token)
		return hc_err_set(err, HC_EAUTH,
				  "a push report needs 'Authorization: Bearer "
				  "TOKEN' with the service's push token");
	rc = json_body(req, &in, &c, err);
	if (rc != HC_OK)
		return rc;
	rc = oh_service_push(c, hc_req_param(req, "key"), token, in, &out,
			     err);
	json_decref(in);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* ---- maintenance ---------------------------------------------------------------------- */

static int write_maintenance(struct hc_req *req, struct hc_resp *resp,
			     struct hc_err *err)
{
	const char *key = hc_req_param(req, "key");
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc = json_body(req, &in, &c, err);
	if (rc != HC_OK)
		return rc;
	rc = oh_maintenance_write(c, key, in, &out, err);
	json_decref(in);
	if (rc != HC_OK)
		return rc;
	return key ? hc_resp_json(resp, 200, out)
		   : hc_rest_created(resp, &oh_maintenance_resource, out);
}

/* ---- incidents -------------------------------------------------------------------------- */

static int post_incident(struct hc_req *req, struct hc_resp *resp,
			 struct hc_err *err)
{
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc = json_body(req, &in, &c, err);
	if (rc != HC_OK)
		return rc;
	rc = oh_incident_create(c, in, NULL, &out, err);
	json_decref(in);
	return rc == HC_OK ? hc_rest_created(resp, &oh_incident_resource, out)
			   : rc;
}

/* POST /incidents/{key}/updates {"author", "status", "note", fields...}
 * and POST /incidents/{key}/resolve {"author", "note"}. */
static int incident_update(struct hc_req *req, struct hc_resp *resp,
			   struct hc_err *err, const char *forced)
{
	json_t *in = NULL, *out = NULL;
	char *author = NULL, *status = NULL, *note = NULL;
	struct hc_conn *c;
	int rc = json_body(req, &in, &c, err);
	if (rc != HC_OK)
		return rc;
	if ((rc = take_str(in, "author", &author, err)) == HC_OK &&
	    (rc = take_str(in, "note", &note, err)) == HC_OK)
		rc = forced ? HC_OK : take_str(in, "status", &status, err);
	if (rc == HC_OK && forced && json_object_size(in) > 0)
		rc = hc_err_field(err, HC_EINVAL, json_object_iter_key(
						   json_object_iter(in)),
				  "a resolve takes only 'author' and 'note'");
	if (rc == HC_OK)
		rc = oh_incident_update(c, hc_req_param(req, "key"), in,
					forced ? forced : status, author, note,
					&out, err);
	free(author);
	free(status);
	free(note);
	json_decref(in);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

static int post_incident_update(struct hc_req *req, struct hc_resp *resp,
				struct hc_err *err)
{
	return incident_update(req, resp, err, NULL);
}

static int post_incident_resolve(struct hc_req *req, struct hc_resp *resp,
				 struct hc_err *err)
{
	return incident_update(req, resp, err, "resolved");
}

/* ---- runbooks, access paths, clusters ------------------------------------------------- */

static int post_execute(struct hc_req *req, struct hc_resp *resp,
			struct hc_err *err)
{
	const char *step = hc_req_param(req, "step");
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	char *end;
	long n = strtol(step, &end, 10);
	int rc;
	if (*end || n < 1 || n > 1000)
		return hc_err_field(err, HC_ENOTFOUND, "step",
				    "no step '%s'", step);
	rc = json_body(req, &in, &c, err);
	if (rc != HC_OK)
		return rc;
	rc = oh_runbook_execute_step(c, hc_req_param(req, "key"), (int)n, in,
				     &out, err);
	json_decref(in);
	return rc == HC_OK ? hc_resp_json(resp, 201, out) : rc;
}

static int post_access_check(struct hc_req *req, struct hc_resp *resp,
			     struct hc_err *err)
{
	json_t *out = NULL;
	int rc = oh_access_path_check(req->hub->store, hc_req_param(req, "key"),
				      &out, err);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

static int get_cluster_health(struct hc_req *req, struct hc_resp *resp,
			      struct hc_err *err)
{
	struct hc_conn *c = hc_req_db(req, err);
	json_t *out = NULL;
	int rc = c ? oh_cluster_health(c, hc_req_param(req, "key"), 0, &out,
				       err)
		   : err->status;
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

static int get_storage_health(struct hc_req *req, struct hc_resp *resp,
			      struct hc_err *err)
{
	struct hc_conn *c = hc_req_db(req, err);
	json_t *out = NULL;
	int rc = c ? oh_storage_health(c, hc_req_param(req, "key"), 0, &out,
				       err)
		   : err->status;
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* POST /inventory?source=NAME with the YAML file as the body. */
static int post_inventory(struct hc_req *req, struct hc_resp *resp,
			  struct hc_err *err)
{
	static const char *const allowed[] = { "source", NULL };
	const char *source = hc_req_arg(req, "source");
	struct oh_inventory *inv = NULL;
	struct oh_import_result res;
	struct hc_conn *c;
	int rc = hc_req_only_args(req, allowed, err);
	if (rc != HC_OK)
		return rc;
	rc = oh_inventory_parse(source && *source ? source : "upload",
				req->body, req->body_len, &inv, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? oh_inventory_import(c, inv, &res, err) : err->status;
	oh_inventory_free(inv);
	return rc == HC_OK ? hc_resp_json(resp, 200, oh_import_result_json(&res))
			   : rc;
}

/* ---- summary ------------------------------------------------------------------------------- */

static int ops_summary(struct hc_conn *c, const char *domain, json_t *summary,
		       struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(domain) };
	json_t *health = NULL, *incidents = NULL, *down = NULL;
	struct hc_list_query q = { .limit = 50 };
	json_int_t total = 0;
	const char *k;
	json_t *v;
	int rc = hc_res_count_by(c, &oh_service_resource, "health",
				 "owner_domain = ?", p, 1, &health, err);
	if (rc == HC_OK)
		rc = hc_res_count_by(c, &oh_incident_resource, "status",
				     "domain = ?", p, 1, &incidents, err);
	if (rc == HC_OK) {
		q.where_sql = "owner_domain = ? AND health IN ('down', "
			      "'pending')";
		q.where_params = p;
		q.where_nparams = 1;
		rc = hc_res_list(c, &oh_service_resource, &q, &down, err);
	}
	if (rc == HC_OK) {
		json_t *names = json_array(), *s;
		size_t i;
		json_object_foreach(health, k, v)
			total += json_integer_value(v);
		json_array_foreach(json_object_get(down, "items"), i, s)
			json_array_append_new(
				names, json_pack("{sOsO}", "name",
						 json_object_get(s, "name"),
						 "health",
						 json_object_get(s, "health")));
		json_object_set_new(summary, "services",
				    json_pack("{sIsOso}", "total", total,
					      "by_health", health, "failing",
					      names));
		json_object_set_new(summary, "incidents",
				    json_pack("{sO}", "by_status", incidents));
	}
	json_decref(health);
	json_decref(incidents);
	json_decref(down);
	return rc;
}

/* ---- life cycle ------------------------------------------------------------------------------- */

static int ops_start(struct hc_hub *hub, struct hc_err *err)
{
	struct oh_scheduler *s = NULL;
	const char *env = getenv("FOSHUB_OPS_PROBE_CONCURRENCY");
	unsigned long n = env && *env ? strtoul(env, NULL, 10) : 0;
	const char *probes = getenv("FOSHUB_OPS_PROBES");
	int rc;
	if (probes && strcmp(probes, "off") == 0) {
		hc_log_notice(&hub->log, "probes are off (FOSHUB_OPS_PROBES)");
		return HC_OK;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = oh_scheduler_start(&s, hub, n > 0 && n <= 64 ? (unsigned)n : 0,
				err);
	if (rc == HC_OK)
		hub->ext = s;
	else
		curl_global_cleanup();
	return rc;
}

static void ops_stop(struct hc_hub *hub)
{
	if (!hub->ext)
		return;
	oh_scheduler_stop(hub->ext);
	hub->ext = NULL;
	curl_global_cleanup();
}

/* ---- tables ----------------------------------------------------------------------------------- */

#define W HC_SCOPE_WRITE
#define R HC_SCOPE_READ
#define RO HC_ROUTE_READONLY

static const struct hc_route ops_routes[] = {
	HC_ROUTES_CRUD(oh_location_resource, "locations", "locations"),
	{ "GET", "/locations/{key}/cluster-health", get_cluster_health, NULL,
	  R, RO,
	  "Check a cluster now: API readiness, nodes, pods, certificates" },
	{ "GET", "/locations/{key}/storage-health", get_storage_health, NULL,
	  R, RO,
	  "Check a cluster's Longhorn storage now: volumes, backups, "
	  "targets" },
	HC_ROUTES_CRUD(oh_service_resource, "services", "services"),
	{ "PUT", "/services/{key}", put_service, NULL, W, 0,
	  "Register a service: create it or update the fields given" },
	{ "GET", "/services/{key}/health", get_service_health, NULL, R, RO,
	  "A service's health, last results, history and maintenance" },
	{ "POST", "/services/{key}/probe", post_probe, NULL, W, 0,
	  "Run a service's probes now and record the round" },
	/* public to the hubs' identity checks: the service's own push
	 * token authenticates each report */
	{ "POST", "/services/{key}/push", post_push, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_PER_MESSAGE,
	  "A job reports success or failure (bearer push token)" },
	HC_ROUTES_READ(oh_probe_result_resource, "probe-results",
		       "probe results"),
	HC_ROUTES_READ(oh_maintenance_resource, "maintenance-windows",
		       "maintenance windows"),
	{ "POST", "/maintenance-windows", write_maintenance, NULL, W, 0,
	  "Plan a maintenance window" },
	{ "PATCH", "/maintenance-windows/{key}", write_maintenance, NULL, W, 0,
	  "Change a maintenance window (end it early)" },
	HC_ROUTES_READ(oh_incident_resource, "incidents", "incidents"),
	{ "POST", "/incidents", post_incident, NULL, W, 0,
	  "Open an incident (investigating)" },
	{ "PATCH", "/incidents/{key}", hc_rest_update, &oh_incident_resource,
	  W, 0, "Change an incident's fields (not its status)" },
	{ "POST", "/incidents/{key}/updates", post_incident_update, NULL, W, 0,
	  "Move an incident to its next status and/or add a note" },
	{ "POST", "/incidents/{key}/resolve", post_incident_resolve, NULL, W,
	  0, "Resolve an incident that is being monitored" },
	HC_ROUTES_CRUD(oh_runbook_resource, "runbooks", "runbooks"),
	{ "POST", "/runbooks/{key}/steps/{step}/execute", post_execute, NULL,
	  W, 0, "Record the execution of a runbook step" },
	HC_ROUTES_READ(oh_runbook_execution_resource, "runbook-executions",
		       "runbook step executions"),
	HC_ROUTES_CRUD(oh_access_path_resource, "access-paths",
		       "access paths"),
	{ "POST", "/access-paths/{key}/check", post_access_check, NULL, W, 0,
	  "Check an access path now" },
	HC_ROUTES_CRUD(oh_debt_resource, "operational-debts",
		       "operational debts"),
	HC_ROUTES_READ(oh_change_resource, "changes", "change records"),
	{ "POST", "/changes", hc_rest_create, &oh_change_resource, W, 0,
	  "Record a change" },
	{ "POST", "/inventory", post_inventory, NULL, W, HC_ROUTE_RAW_BODY,
	  "Import a service inventory (YAML) sent as the body" },
	HC_VIEW_ROUTE("/now", oh_now_page,
		      "The now view for people: services, incidents, access "
		      "paths, storage and certificates, changes"),
};

static const struct hc_route_table ops_route_table =
	HC_ROUTE_TABLE(ops_routes);

static const struct hc_route_table *const routes[] = {
	&hc_core_routes, &ops_route_table, &oh_coupling_routes,
	&hc_event_routes, &hc_mcp_routes, &hc_auth_routes, &hc_view_routes
};

static const struct hc_resource *const ops_v1[] = {
	&oh_location_resource,	 &oh_service_resource,
	&oh_probe_result_resource, &oh_maintenance_resource,
	&oh_incident_resource,	 &oh_runbook_resource,
	&oh_runbook_execution_resource, &oh_access_path_resource,
	&oh_debt_resource,	 &oh_change_resource,
	NULL
};

static const struct hc_resource *const ops_v2[] = {
	&oh_incident_resource, &oh_change_resource, &oh_service_cost_resource,
	NULL
};

static const struct hc_migration ops_steps[] = {
	{ .version = 1,
	  .name = "locations, services, probe results, maintenance, "
		  "incidents, runbooks, access paths, debts, changes",
	  .resources = ops_v1 },
	{ .version = 2,
	  .name = "incidents' linked tasks and workstreams, deployment "
		  "change records, service costs",
	  .resources = ops_v2 },
};

static const struct hc_migration_set ops_migrations = {
	.component = "ops",
	.steps = ops_steps,
	.count = HC_COUNT(ops_steps),
};

static const struct hc_migration_set *const migrations[] = {
	&hc_core_migrations, &ops_migrations, &hc_event_migrations
};

static const struct hc_resource *const resources[] = {
	&hc_domain_resource,	       &hc_repo_resource,
	&hc_message_resource,	       &hc_progress_resource,
	&hc_capability_resource,       &hc_capreq_resource,
	&hc_capreq_transition_resource, &hc_tpsc_service_resource,
	&oh_location_resource,	       &oh_service_resource,
	&oh_probe_result_resource,     &oh_maintenance_resource,
	&oh_incident_resource,	       &oh_runbook_resource,
	&oh_runbook_execution_resource, &oh_access_path_resource,
	&oh_debt_resource,	       &oh_change_resource,
	&oh_service_cost_resource,
};

static hc_summary_fn *const summary_parts[] = { ops_summary };

const struct hc_hub_def opshub_def = {
	.name = "ops-hub",
	.short_name = "ops",
	.description = "Runtime operations: services and their health, "
		       "incidents, runbooks, access paths, changes",
	.default_listen = "127.0.0.1:8002",
	.default_db = "sqlite:var/ops-hub.db",
	.migrations = migrations,
	.nmigrations = HC_COUNT(migrations),
	.routes = routes,
	.nroutes = HC_COUNT(routes),
	.resources = resources,
	.nresources = HC_COUNT(resources),
	.summary_parts = summary_parts,
	.nsummary_parts = HC_COUNT(summary_parts),
	.mcp = &opshub_mcp,
	.start = ops_start,
	.stop = ops_stop,
	.events = &oh_events,
};
