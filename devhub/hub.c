/*
 * hub.c - dev-hub's definition: its schema, routes, and its part of the
 * domain summary.
 */
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/auth.h"
#include "hubcore/capabilities.h"
#include "hubcore/events.h"
#include "hubcore/json.h"
#include "hubcore/rest.h"
#include "hubcore/tpsc.h"
#include "hubcore/view.h"

/* ---- workplan upload ---------------------------------------------------- */

static bool text_media_type(const char *ct)
{
	static const char *const ok[] = { "text/plain", "text/markdown",
					  "text/x-markdown",
					  "application/octet-stream", NULL };
	size_t n;
	if (!ct)
		return true;
	n = strcspn(ct, "; ");
	for (const char *const *t = ok; *t; t++)
		if (strlen(*t) == n && strncasecmp(ct, *t, n) == 0)
			return true;
	return false;
}

/* POST /workplans?source=NAME with the workplan file as the body. */
static int post_workplan(struct hc_req *req, struct hc_resp *resp,
			 struct hc_err *err)
{
	static const char *const allowed[] = { "source", NULL };
	const char *source = hc_req_arg(req, "source");
	struct dh_workplan *wp = NULL;
	struct dh_import_result res;
	struct hc_conn *c;
	int rc = hc_req_only_args(req, allowed, err);
	if (rc != HC_OK)
		return rc;
	if (!text_media_type(req->content_type))
		return hc_err_set(err, HC_EMEDIA,
				  "content type '%s' is not supported; send "
				  "the workplan as text/markdown or "
				  "text/plain",
				  req->content_type);
	rc = dh_workplan_parse(source && *source ? source : "upload",
			       req->body, req->body_len, &wp, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? dh_workplan_import(c, wp, &res, err) : err->status;
	dh_workplan_free(wp);
	if (rc != HC_OK)
		return rc;
	return hc_resp_json(resp, res.workstream_created ? 201 : 200,
			    dh_import_result_json(&res));
}

/* ---- taking work ----------------------------------------------------------- */

/* POST /workstreams/{key}/claim {"agent"} */
static int post_claim(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? dh_claim_next_task(c, hc_req_param(req, "key"),
				    hc_json_str(in, "agent"), &out, err)
	       : err->status;
	json_decref(in);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* POST /tasks/{key}/release {"agent"} */
static int post_release(struct hc_req *req, struct hc_resp *resp,
			struct hc_err *err)
{
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? dh_release_task(c, hc_req_param(req, "key"),
				 hc_json_str(in, "agent"), &out, err)
	       : err->status;
	json_decref(in);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* POST /tasks/{key}/status {"status", "agent", "note"} */
static int post_status(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err)
{
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? dh_set_task_status(c, hc_req_param(req, "key"),
				    hc_json_str(in, "status"),
				    hc_json_str(in, "agent"),
				    hc_json_str(in, "note"), &out, err)
	       : err->status;
	json_decref(in);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* GET /workplans/{key}: the workstream as a Markdown workplan file. */
static int get_workplan(struct hc_req *req, struct hc_resp *resp,
			struct hc_err *err)
{
	struct hc_conn *c = hc_req_db(req, err);
	char *md = NULL;
	int rc = c ? dh_workplan_render(c, hc_req_param(req, "key"), &md, err)
		   : err->status;
	if (rc != HC_OK)
		return rc;
	resp->status = 200;
	resp->body = md;
	resp->body_len = strlen(md);
	resp->content_type = "text/markdown; charset=utf-8";
	return HC_OK;
}

/* ---- ready and blocked work ------------------------------------------------------ */

/* GET /tasks/ready and /tasks/blocked ?workstream=&domain=&limit= */
static int get_work_view(struct hc_req *req, struct hc_resp *resp,
			 struct hc_err *err)
{
	static const char *const allowed[] = { "workstream", "domain", "limit",
					       NULL };
	struct dh_work_filter f = { 0 };
	const char *limit = hc_req_arg(req, "limit");
	struct hc_conn *c;
	json_t *out = NULL;
	int rc = hc_req_only_args(req, allowed, err);
	if (rc != HC_OK)
		return rc;
	f.workstream = hc_req_arg(req, "workstream");
	f.domain = hc_req_arg(req, "domain");
	if (limit) {
		char *end;
		long n = strtol(limit, &end, 10);
		if (!*limit || *end || n < 1 || n > HC_LIST_MAX_LIMIT)
			return hc_err_field(err, HC_EPARAM, "limit",
					    "parameter 'limit' must be 1 to %d",
					    HC_LIST_MAX_LIMIT);
		f.limit = (size_t)n;
	}
	if (!(c = hc_req_db(req, err)))
		return err->status;
	rc = req->route->arg ? dh_list_blocked_tasks(c, &f, &out, err)
			     : dh_list_ready_tasks(c, &f, &out, err);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* DELETE /dependencies/{key} */
static int delete_dependency(struct hc_req *req, struct hc_resp *resp,
			     struct hc_err *err)
{
	struct hc_conn *c = hc_req_db(req, err);
	int rc = c ? dh_dependency_delete(c, hc_req_param(req, "key"), err)
		   : err->status;
	return rc == HC_OK ? hc_resp_empty(resp, 204) : rc;
}

/* ---- SBOMs ------------------------------------------------------------------------ */

/* POST /repos/{key}/sbom?source=NAME with a CycloneDX or SPDX document */
static int post_sbom(struct hc_req *req, struct hc_resp *resp,
		     struct hc_err *err)
{
	static const char *const allowed[] = { "source", NULL };
	json_t *doc = NULL, *out = NULL;
	struct hc_conn *c;
	bool created;
	int rc = hc_req_only_args(req, allowed, err);
	if (rc == HC_OK)
		rc = hc_req_json(req, &doc, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? dh_sbom_ingest(c, hc_req_param(req, "key"), doc,
				hc_req_arg(req, "source"), &out, err)
	       : err->status;
	json_decref(doc);
	if (rc != HC_OK)
		return rc;
	created = json_is_true(json_object_get(out, "created"));
	return hc_resp_json(resp, created ? 201 : 200, out);
}

/* GET /sbom/usage?component=NAME-OR-PURL */
static int get_sbom_usage(struct hc_req *req, struct hc_resp *resp,
			  struct hc_err *err)
{
	static const char *const allowed[] = { "component", NULL };
	const char *comp = hc_req_arg(req, "component");
	struct hc_conn *c;
	json_t *out = NULL;
	int rc = hc_req_only_args(req, allowed, err);
	if (rc != HC_OK)
		return rc;
	if (!comp || !*comp)
		return hc_err_field(err, HC_EPARAM, "component",
				    "parameter 'component' is required: a "
				    "name or a purl");
	if (!(c = hc_req_db(req, err)))
		return err->status;
	rc = dh_sbom_usage(c, comp, &out, err);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* ---- summary ------------------------------------------------------------ */

static int dev_summary(struct hc_conn *c, const char *domain, json_t *summary,
		       struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(domain) };
	json_t *ws_status = NULL, *t_status = NULL, *t_prio = NULL;
	json_t *by_ws = NULL, *items = NULL;
	json_int_t ws_total = 0, t_total = 0;
	const char *k;
	json_t *v;
	int rc;

	rc = hc_res_count_by(c, &dh_workstream_resource, "status",
			     "domain = ?", p, 1, &ws_status, err);
	if (rc == HC_OK)
		rc = dh_task_counts(c, domain, &t_status, &t_prio, &by_ws,
				    err);
	if (rc != HC_OK)
		goto out;
	json_object_foreach(ws_status, k, v)
		ws_total += json_integer_value(v);
	json_object_foreach(t_status, k, v)
		t_total += json_integer_value(v);

	/* The workstreams themselves with their task counts (the first
	 * HC_LIST_MAX_LIMIT, in the order of a listing): only the columns
	 * shown, not whole rows with their phases. */
	{
		struct hc_value lp[] = { hc_vtext(domain),
					 hc_vint(HC_LIST_MAX_LIMIT) };
		struct hc_stmt *st = NULL;
		const struct hc_field *f =
			hc_res_field(&dh_task_resource, "status");
		items = json_array();
		rc = hc_query(c, &st,
			      "SELECT id, title, status, topic FROM "
			      "workstreams WHERE domain = ? ORDER BY seq "
			      "LIMIT ?",
			      lp, 2, err);
		if (rc != HC_OK)
			goto out;
		while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
			const char *id = hc_stmt_text(st, 0, NULL);
			const char *topic = hc_stmt_text(st, 3, NULL);
			json_t *counts = json_object_get(by_ws, id);
			json_int_t n = 0;
			const char *k2;
			json_t *v2;
			if (counts) {
				json_incref(counts);
			} else {
				counts = json_object();
				for (const char *const *e = f->enum_values; *e;
				     e++)
					json_object_set_new(counts, *e,
							    json_integer(0));
			}
			json_object_foreach(counts, k2, v2)
				n += json_integer_value(v2);
			json_array_append_new(
				items,
				json_pack("{ssssssss?s{sIso}}", "id", id,
					  "title", hc_stmt_text(st, 1, NULL),
					  "status", hc_stmt_text(st, 2, NULL),
					  "topic", topic, "tasks", "total", n,
					  "by_status", counts));
		}
		hc_stmt_finish(st);
		if (rc == HC_ROW_DONE)
			rc = HC_OK;
		if (rc != HC_OK)
			goto out;
	}
	json_object_set_new(summary, "workstreams",
			    json_pack("{sIsOsO}", "total", ws_total,
				      "by_status", ws_status, "items", items));
	json_object_set_new(summary, "tasks",
			    json_pack("{sIsOsO}", "total", t_total,
				      "by_status", t_status, "by_priority",
				      t_prio));
out:
	json_decref(ws_status);
	json_decref(t_status);
	json_decref(t_prio);
	json_decref(by_ws);
	json_decref(items);
	return rc;
}

/* ---- tables ------------------------------------------------------------- */

static const struct hc_route dev_routes[] = {
	HC_ROUTES_CRUD(dh_topic_resource, "topics", "topics"),
	HC_ROUTES_CRUD(dh_workstream_resource, "workstreams", "workstreams"),
	/* before /tasks/{key}, which would match them */
	{ "GET", "/tasks/ready", get_work_view, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY,
	  "Tasks ready to start: todo, unassigned, nothing open blocks them" },
	{ "GET", "/tasks/blocked", get_work_view, "blocked", HC_SCOPE_READ,
	  HC_ROUTE_READONLY, "Blocked tasks with their open blockers" },
	HC_ROUTES_CRUD(dh_task_resource, "tasks", "tasks"),
	HC_ROUTES_CRUD(dh_decision_resource, "decisions", "decisions"),
	HC_ROUTES_CRUD(dh_dependency_resource, "dependencies",
		       "dependencies between tasks or workstreams"),
	{ "DELETE", "/dependencies/{key}", delete_dependency, NULL,
	  HC_SCOPE_WRITE, 0, "Remove a dependency" },
	HC_ROUTES_CRUD(dh_goal_resource, "goals", "goals of the domains"),
	HC_ROUTES_CRUD(dh_contribution_resource, "contributions",
		       "contributions to tasks"),
	HC_ROUTES_CRUD(dh_tech_debt_resource, "tech-debt",
		       "technical debt items"),
	HC_ROUTES_CRUD(dh_enhancement_resource, "enhancement-proposals",
		       "enhancement proposals"),
	HC_ROUTES_READ(dh_sbom_resource, "sboms", "SBOMs of the repos"),
	{ "POST", "/repos/{key}/sbom", post_sbom, NULL, HC_SCOPE_WRITE, 0,
	  "Ingest a repo's SBOM (CycloneDX 1.4-1.6 or SPDX 2.3 JSON)" },
	{ "GET", "/sbom/usage", get_sbom_usage, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY, "Which repos use a component" },
	HC_ROUTES_READ(dh_sbom_component_resource, "sbom/components",
		       "components of the repos' SBOMs"),
	{ "POST", "/workstreams/{key}/claim", post_claim, NULL,
	  HC_SCOPE_WRITE, 0,
	  "Claim the highest-priority ready task of a workstream for an "
	  "agent" },
	{ "POST", "/tasks/{key}/release", post_release, NULL, HC_SCOPE_WRITE,
	  0, "Give back a claimed task" },
	{ "POST", "/tasks/{key}/status", post_status, NULL, HC_SCOPE_WRITE, 0,
	  "Change a task's status on behalf of an agent (recorded)" },
	{ "POST", "/workplans", post_workplan, NULL, HC_SCOPE_WRITE,
	  HC_ROUTE_RAW_BODY,
	  "Import a workplan file (text or Markdown form) sent as the body" },
	{ "GET", "/workplans/{key}", get_workplan, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY, "A workstream as a Markdown workplan file" },
	HC_VIEW_ROUTE("/board", dh_board_page,
		      "The board for people: workstreams and their tasks, "
		      "blocked tasks, decisions, unread messages, open risks "
		      "and alerts (?domain=SLUG for one domain)"),
};

static const struct hc_route_table dev_route_table =
	HC_ROUTE_TABLE(dev_routes);

static const struct hc_route_table *const routes[] = {
	&hc_core_routes, &dev_route_table, &dh_coupling_routes,
	&hc_event_routes, &hc_mcp_routes, &hc_auth_routes, &hc_auth_login_routes, &hc_view_routes
};

static const struct hc_resource *const dev_v1[] = {
	&dh_topic_resource, &dh_workstream_resource, &dh_task_resource,
	&dh_decision_resource, NULL
};

static const struct hc_resource *const dev_v2[] = { &dh_task_resource,
						    NULL };

static const struct hc_resource *const dev_v3[] = {
	&dh_dependency_resource, &dh_goal_resource,
	&dh_contribution_resource, &dh_tech_debt_resource,
	&dh_enhancement_resource, &dh_sbom_resource,
	&dh_sbom_component_resource, &dh_doi_result_resource, NULL
};

static const struct hc_resource *const dev_v4[] = {
	&dh_deployment_resource, &dh_blocker_resource, &dh_pressure_resource,
	NULL
};

static const struct hc_migration dev_steps[] = {
	{ .version = 1, .name = "topics, workstreams, tasks, decisions",
	  .resources = dev_v1 },
	{ .version = 2, .name = "tasks.claimed_at", .resources = dev_v2 },
	{ .version = 3,
	  .name = "dependencies, goals, contributions, technical debt, "
		  "enhancement proposals, SBOMs, DoI results",
	  .resources = dev_v3 },
	{ .version = 4,
	  .name = "deployments, external blockers, resource pressure",
	  .resources = dev_v4 },
	{ .version = 5,
	  .name = "task counts by workstream, status and priority, kept by "
		  "triggers",
	  .fn = dh_task_counts_schema },
};

static const struct hc_migration_set dev_migrations = {
	.component = "dev",
	.steps = dev_steps,
	.count = HC_COUNT(dev_steps),
};

static const struct hc_migration_set *const migrations[] = {
	&hc_core_migrations, &dev_migrations, &hc_event_migrations,
	&hc_auth_migrations
};

static const struct hc_resource *const resources[] = {
	&hc_domain_resource,	       &hc_repo_resource,
	&hc_message_resource,	       &hc_progress_resource,
	&hc_capability_resource,       &hc_capreq_resource,
	&hc_capreq_transition_resource, &hc_tpsc_service_resource,
	&dh_topic_resource,	       &dh_workstream_resource,
	&dh_task_resource,	       &dh_decision_resource,
	&dh_dependency_resource,       &dh_goal_resource,
	&dh_contribution_resource,     &dh_tech_debt_resource,
	&dh_enhancement_resource,      &dh_sbom_resource,
	&dh_sbom_component_resource,   &dh_deployment_resource,
	&dh_blocker_resource,	       &dh_pressure_resource,
};

static hc_summary_fn *const summary_parts[] = { dev_summary,
						dh_pressure_summary };

const struct hc_hub_def devhub_def = {
	.name = "dev-hub",
	.short_name = "dev",
	.description = "Development coordination: topics, workstreams from "
		       "workplans, tasks and decisions",
	.default_listen = "127.0.0.1:8001",
	.default_db = "sqlite:var/dev-hub.db",
	.migrations = migrations,
	.nmigrations = HC_COUNT(migrations),
	.routes = routes,
	.nroutes = HC_COUNT(routes),
	.resources = resources,
	.nresources = HC_COUNT(resources),
	.summary_parts = summary_parts,
	.nsummary_parts = HC_COUNT(summary_parts),
	.mcp = &devhub_mcp,
	.doi = &dh_doi_evaluator,
	.events = &dh_events,
};
