/*
 * mcp.c - ops-hub over MCP: the service registry and health, probes,
 * cluster and storage health, incidents, runbooks, access paths, changes,
 * debt and maintenance. Each tool calls the same service function as its
 * REST route. hub-core's TPSC tools are served under their prefixed names
 * (register_tpsc_service, list_tpsc_services) so that they never shadow
 * ops-hub's register_service and list_services.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/events.h"
#include "opshub/internal.h"

#define REQ HC_F_REQUIRED
#define RO HC_MCP_READONLY
#define CORE HC_MCP_TIER_CORE

static const char *arg(json_t *args, const char *name)
{
	return json_string_value(json_object_get(args, name));
}

static char *take(json_t *args, const char *name)
{
	const char *v = arg(args, name);
	char *copy = v ? strdup(v) : NULL;
	json_object_del(args, name);
	return copy;
}

/* ---- services ------------------------------------------------------------------ */

static int t_register(struct hc_mcp_call *call, json_t *args, json_t **out,
		      struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? oh_service_register(c, args, NULL, NULL, out, err)
		 : err->status;
}

static int t_health(struct hc_mcp_call *call, json_t *args, json_t **out,
		    struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? oh_service_health(c, arg(args, "service"), out, err)
		 : err->status;
}

static int t_probe(struct hc_mcp_call *call, json_t *args, json_t **out,
		   struct hc_err *err)
{
	return oh_service_probe_now(hc_mcp_hub(call)->store,
				    arg(args, "service"), out, err);
}

static int t_cluster(struct hc_mcp_call *call, json_t *args, json_t **out,
		     struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? oh_cluster_health(c, arg(args, "location"), 0, out, err)
		 : err->status;
}

static int t_storage(struct hc_mcp_call *call, json_t *args, json_t **out,
		     struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? oh_storage_health(c, arg(args, "location"), 0, out, err)
		 : err->status;
}

static int t_maintenance(struct hc_mcp_call *call, json_t *args,
			 json_t **out, struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? oh_maintenance_write(c, NULL, args, out, err) : err->status;
}

/* ---- incidents -------------------------------------------------------------------- */

static int t_create_incident(struct hc_mcp_call *call, json_t *args,
			     json_t **out, struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	char *author = take(args, "author");
	int rc = c ? oh_incident_create(c, args, author, out, err)
		   : err->status;
	free(author);
	return rc;
}

static int t_update_incident(struct hc_mcp_call *call, json_t *args,
			     json_t **out, struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	char *id = take(args, "id"), *author = take(args, "author");
	char *status = take(args, "status"), *note = take(args, "note");
	int rc = c ? oh_incident_update(c, id ? id : "", args, status, author,
					note, out, err)
		   : err->status;
	free(id);
	free(author);
	free(status);
	free(note);
	return rc;
}

static int t_resolve_incident(struct hc_mcp_call *call, json_t *args,
			      json_t **out, struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? oh_incident_update(c, arg(args, "id"), NULL, "resolved",
				      arg(args, "author"), arg(args, "note"),
				      out, err)
		 : err->status;
}

/* ---- runbooks and access ---------------------------------------------------------------- */

static int t_get_runbook(struct hc_mcp_call *call, json_t *args, json_t **out,
			 struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? oh_runbook_get(c, arg(args, "runbook"), arg(args, "service"),
				  out, err)
		 : err->status;
}

static int t_execute_step(struct hc_mcp_call *call, json_t *args,
			  json_t **out, struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	char *rb = take(args, "runbook");
	int step = (int)json_integer_value(json_object_get(args, "step"));
	int rc;
	json_object_del(args, "step");
	rc = c ? oh_runbook_execute_step(c, rb ? rb : "", step, args, out, err)
	       : err->status;
	free(rb);
	return rc;
}

static int t_check_access(struct hc_mcp_call *call, json_t *args,
			  json_t **out, struct hc_err *err)
{
	return oh_access_path_check(hc_mcp_hub(call)->store, arg(args, "id"),
				    out, err);
}

static int t_import(struct hc_mcp_call *call, json_t *args, json_t **out,
		    struct hc_err *err)
{
	json_t *content = json_object_get(args, "content");
	struct oh_inventory *inv = NULL;
	struct oh_import_result res;
	struct hc_conn *c;
	int rc = oh_inventory_parse(arg(args, "source") ? arg(args, "source")
						       : "upload",
				    json_string_value(content),
				    json_string_length(content), &inv, err);
	if (rc != HC_OK)
		return rc;
	c = hc_mcp_db(call, err);
	rc = c ? oh_inventory_import(c, inv, &res, err) : err->status;
	oh_inventory_free(inv);
	if (rc == HC_OK)
		*out = oh_import_result_json(&res);
	return rc;
}

/* ---- parameters ---------------------------------------------------------------------------- */

static const struct hc_field p_service[] = {
	{ .name = "service", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The service's name, e.g. longhorn." },
};
static const struct hc_field p_location[] = {
	{ .name = "location", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The cluster location's name, e.g. k3s-prod." },
};
static const struct hc_field p_author[] = {
	{ .name = "author", .type = HC_FT_STRING, .flags = REQ, .max_len = 100,
	  .doc = "Your agent or person name, recorded in the timeline." },
};
static const struct hc_field p_update[] = {
	{ .name = "author", .type = HC_FT_STRING, .flags = REQ, .max_len = 100,
	  .doc = "Your agent or person name, recorded in the timeline." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .enum_values = oh_incident_statuses,
	  .doc = "The next status: investigating -> identified -> monitoring "
		 "-> resolved -> postmortem, one step at a time." },
	{ .name = "note", .type = HC_FT_TEXT, .max_len = 16384,
	  .doc = "What was found or done, for the timeline." },
};
static const struct hc_field p_resolve[] = {
	{ .name = "id", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The incident's id." },
	{ .name = "author", .type = HC_FT_STRING, .flags = REQ, .max_len = 100,
	  .doc = "Your agent or person name." },
	{ .name = "note", .type = HC_FT_TEXT, .max_len = 16384,
	  .doc = "How it was resolved." },
};
static const struct hc_field p_runbook[] = {
	{ .name = "runbook", .type = HC_FT_STRING,
	  .doc = "The runbook's name (or give service)." },
	{ .name = "service", .type = HC_FT_STRING,
	  .doc = "A service: its first runbook." },
};
static const char *const outcomes[] = { "success", "failure", "skipped",
					NULL };
static const struct hc_field p_execute[] = {
	{ .name = "runbook", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The runbook's name." },
	{ .name = "step", .type = HC_FT_INT, .flags = REQ,
	  .doc = "The step's number, from 1." },
	{ .name = "actor", .type = HC_FT_STRING, .flags = REQ, .max_len = 100,
	  .doc = "Who executed it: your agent name." },
	{ .name = "outcome", .type = HC_FT_ENUM, .flags = REQ,
	  .enum_values = outcomes, .doc = "success, failure or skipped." },
	{ .name = "output", .type = HC_FT_TEXT, .max_len = 65536,
	  .doc = "What the command printed, or what you saw." },
	{ .name = "incident", .type = HC_FT_STRING,
	  .doc = "The incident it was executed for." },
};
static const struct hc_field p_access[] = {
	{ .name = "id", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The access path's name." },
};
static const struct hc_field p_import[] = {
	{ .name = "content", .type = HC_FT_TEXT, .flags = REQ,
	  .max_len = 16 * 1024 * 1024,
	  .doc = "The inventory file's text (YAML)." },
	{ .name = "source", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "The file name, used in error messages." },
};

#define RT(n, t, d, res, o, fl, tier)                                         \
	{ .name = n, .title = t, .description = d,                            \
	  .fn = hc_mcp_resource_tool, .resource = &(res), .op = o,            \
	  .flags = fl, .tiers = tier,                                         \
	  .scope = ((fl) & HC_MCP_READONLY) ? HC_SCOPE_READ : HC_SCOPE_WRITE }
#define FT(n, t, d, f, p, fl, tier)                                           \
	{ .name = n, .title = t, .description = d, .fn = f, .params = p,      \
	  .nparams = HC_COUNT(p), .flags = fl, .tiers = tier,                 \
	  .scope = ((fl) & HC_MCP_READONLY) ? HC_SCOPE_READ : HC_SCOPE_WRITE }

static const struct hc_mcp_tool ops_tools[] = {
	{ .name = "register_service", .title = "Register a service",
	  .description = "Register a runtime service (name, namespace, kind, "
			 "owner_domain, location, endpoints, depends_on, "
			 "lifecycle, probes with conditions such as "
			 "\"[STATUS] == 200\"): created, or the fields given "
			 "updated when it exists. Safe to repeat.",
	  .fn = t_register, .resource = &oh_service_resource,
	  .op = HC_MCP_OP_CREATE, .flags = HC_MCP_IDEMPOTENT, .tiers = CORE,
	  .scope = HC_SCOPE_WRITE },
	RT("list_services", "List services",
	   "List services, by health (up, pending, down, maintenance, "
	   "unknown), color, kind, namespace, owner_domain, location or "
	   "lifecycle.",
	   oh_service_resource, HC_MCP_OP_LIST, RO, CORE),
	FT("get_service_health", "Get a service's health",
	   "A service's health (and green/amber/red color), state machine "
	   "counters, failing dependencies, maintenance, last result of each "
	   "probe and recent history.",
	   t_health, p_service, RO, CORE),
	FT("probe_service", "Probe a service now",
	   "Run a service's probes now and record the round (it counts "
	   "towards the thresholds like a scheduled one).",
	   t_probe, p_service, HC_MCP_OPEN_WORLD, CORE),
	FT("get_cluster_health", "Check a cluster",
	   "Check a Kubernetes cluster location now: /readyz, nodes Ready "
	   "without pressure, pods (CrashLoopBackOff, ImagePullBackOff, "
	   "OOMKilled, not Running), cert-manager certificates; and the "
	   "health of the services there.",
	   t_cluster, p_location, RO | HC_MCP_OPEN_WORLD, CORE),
	FT("get_storage_health", "Check a cluster's storage",
	   "Check a cluster's Longhorn storage now: volume robustness, the "
	   "age of each volume's last completed backup, backup targets.",
	   t_storage, p_location, RO | HC_MCP_OPEN_WORLD, CORE),
	{ .name = "create_incident", .title = "Open an incident",
	  .description = "Open an incident (status investigating) with title, "
			 "severity SEV1-SEV4, impact, affected services and "
			 "a summary; you are recorded in its timeline.",
	  .fn = t_create_incident, .params = p_author,
	  .nparams = HC_COUNT(p_author), .resource = &oh_incident_resource,
	  .op = HC_MCP_OP_CREATE, .tiers = CORE, .scope = HC_SCOPE_WRITE },
	{ .name = "update_incident", .title = "Update an incident",
	  .description = "Move an incident to its next status (one step: "
			 "investigating -> identified -> monitoring -> "
			 "resolved -> postmortem), add a note to its "
			 "timeline, or change its fields.",
	  .fn = t_update_incident, .params = p_update,
	  .nparams = HC_COUNT(p_update), .resource = &oh_incident_resource,
	  .op = HC_MCP_OP_UPDATE, .tiers = CORE, .scope = HC_SCOPE_WRITE },
	FT("resolve_incident", "Resolve an incident",
	   "Resolve an incident that is being monitored, with a note.",
	   t_resolve_incident, p_resolve, 0, CORE),
	RT("list_incidents", "List incidents",
	   "List incidents, newest first, by status, severity, impact or "
	   "domain.",
	   oh_incident_resource, HC_MCP_OP_LIST, RO, CORE),
	RT("get_incident", "Get an incident",
	   "One incident with its timeline, time to acknowledge and to "
	   "resolve.",
	   oh_incident_resource, HC_MCP_OP_GET, RO, CORE),
	FT("get_runbook", "Get a runbook",
	   "A runbook (by name, or a service's) with its steps and recent "
	   "executions.",
	   t_get_runbook, p_runbook, RO, CORE),
	FT("execute_runbook_step", "Record a runbook step",
	   "Record that you executed a step of a runbook: outcome and "
	   "output. The hub records steps; it never runs them.",
	   t_execute_step, p_execute, 0, CORE),
	RT("list_access_paths", "List access paths",
	   "List the ways to reach systems (ssh, k8s, http) with their "
	   "status.",
	   oh_access_path_resource, HC_MCP_OP_LIST, RO, CORE),
	FT("check_access_path", "Check an access path",
	   "Check an access path now (ssh banner, http answer, k8s /readyz) "
	   "and record its status.",
	   t_check_access, p_access, HC_MCP_OPEN_WORLD, CORE),

	RT("list_locations", "List locations",
	   "List locations: clusters, hosts, sites.", oh_location_resource,
	   HC_MCP_OP_LIST, RO, 0),
	RT("register_location", "Register a location",
	   "Add a location (a cluster with its API settings, a host, a "
	   "site).",
	   oh_location_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("list_runbooks", "List runbooks", "List runbooks, by service.",
	   oh_runbook_resource, HC_MCP_OP_LIST, RO, 0),
	RT("create_runbook", "Create a runbook",
	   "Write a runbook: trigger conditions and ordered steps.",
	   oh_runbook_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("create_access_path", "Create an access path",
	   "Record a way to reach a system (never a secret).",
	   oh_access_path_resource, HC_MCP_OP_CREATE, 0, 0),
	{ .name = "schedule_maintenance", .title = "Plan maintenance",
	  .description = "Put a service under maintenance from starts_at to "
			 "ends_at: probes keep running, alerts are held.",
	  .fn = t_maintenance, .resource = &oh_maintenance_resource,
	  .op = HC_MCP_OP_CREATE, .scope = HC_SCOPE_WRITE },
	RT("record_change", "Record a change",
	   "Record what changed, by whom, and how to roll it back.",
	   oh_change_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("list_changes", "List changes",
	   "List change records, newest first, by service or source.",
	   oh_change_resource, HC_MCP_OP_LIST, RO, 0),
	RT("record_debt", "Record operational debt",
	   "Record operational debt: category, severity, location, owner.",
	   oh_debt_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("list_debts", "List operational debt",
	   "List operational debt by category, severity, owner or status.",
	   oh_debt_resource, HC_MCP_OP_LIST, RO, 0),
	RT("update_debt", "Update operational debt",
	   "Change an item of operational debt, e.g. its status.",
	   oh_debt_resource, HC_MCP_OP_UPDATE, HC_MCP_IDEMPOTENT, 0),
	FT("import_inventory", "Import an inventory",
	   "Import a service inventory file's text (YAML: locations, "
	   "services with probes, runbooks, access paths) in one "
	   "transaction; safe to repeat.",
	   t_import, p_import, HC_MCP_IDEMPOTENT, 0),
};

static const struct hc_mcp_tool_table ops_tool_table =
	HC_MCP_TOOL_TABLE(ops_tools);

static const struct hc_mcp_tool_table *const tool_tables[] = {
	&hc_mcp_core_tools, &hc_mcp_tpsc_tools_prefixed, &ops_tool_table,
	&hc_mcp_event_tools
};

const struct hc_mcp_def opshub_mcp = {
	.tools = tool_tables,
	.ntools = HC_COUNT(tool_tables),
	.instructions =
		"ops-hub coordinates runtime operations: services and where "
		"they run, their health from probes (up, pending, down, "
		"maintenance), incidents with timelines, runbooks, access "
		"paths, changes and operational debt. Start with "
		"list_services (health=down,pending) or get_cluster_health; "
		"open and move incidents with create_incident and "
		"update_incident, and pass your name as author or actor.",
};
