/*
 * mcp.c - dev-hub over MCP: tools for topics, workstreams, tasks and
 * decisions, workplan import with progress, claiming work; the session
 * start prompt; domain summaries, workstreams and workplans as readable
 * resources; completion of domain slugs and workstream ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/json.h"
#include "hubcore/events.h"
#include "hubcore/mcp.h"

#define REQ HC_F_REQUIRED
#define URI_PREFIX "foshub://dev-hub/"

static const char *arg(json_t *args, const char *name)
{
	return json_string_value(json_object_get(args, name));
}

/* ---- tools ------------------------------------------------------------------ */

static int t_claim(struct hc_mcp_call *call, json_t *args, json_t **out,
		   struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? dh_claim_next_task(c, arg(args, "workstream"),
				      arg(args, "agent"), out, err)
		 : err->status;
}

static int t_release(struct hc_mcp_call *call, json_t *args, json_t **out,
		     struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? dh_release_task(c, arg(args, "task"), arg(args, "agent"),
				   out, err)
		 : err->status;
}

static int t_set_status(struct hc_mcp_call *call, json_t *args, json_t **out,
			struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? dh_set_task_status(c, arg(args, "task"), arg(args, "status"),
				      arg(args, "agent"), arg(args, "note"),
				      out, err)
		 : err->status;
}

static void import_progress(void *ctx, int done, int total)
{
	hc_mcp_progress(ctx, done, total, "importing tasks");
}

static int t_import(struct hc_mcp_call *call, json_t *args, json_t **out,
		    struct hc_err *err)
{
	json_t *content = json_object_get(args, "content");
	struct dh_workplan *wp = NULL;
	struct dh_import_result res;
	struct hc_conn *c;
	int rc = dh_workplan_parse(arg(args, "source") ? arg(args, "source")
						       : "upload",
				   json_string_value(content),
				   json_string_length(content), &wp, err);
	if (rc != HC_OK)
		return rc;
	c = hc_mcp_db(call, err);
	rc = c ? dh_workplan_import_ex(c, wp, import_progress, call, &res, err)
	       : err->status;
	dh_workplan_free(wp);
	if (rc == HC_OK)
		*out = dh_import_result_json(&res);
	return rc;
}

static int t_work_view(struct hc_mcp_call *call, json_t *args, json_t **out,
		       struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	struct dh_work_filter f = { .workstream = arg(args, "workstream"),
				    .domain = arg(args, "domain") };
	json_t *limit = json_object_get(args, "limit");
	if (!c)
		return err->status;
	if (json_is_integer(limit)) {
		if (json_integer_value(limit) < 1 ||
		    json_integer_value(limit) > HC_LIST_MAX_LIMIT)
			return hc_err_field(err, HC_EINVAL, "limit",
					    "field 'limit' must be 1 to %d",
					    HC_LIST_MAX_LIMIT);
		f.limit = (size_t)json_integer_value(limit);
	}
	return hc_mcp_tool_of(call)->arg
		       ? dh_list_blocked_tasks(c, &f, out, err)
		       : dh_list_ready_tasks(c, &f, out, err);
}

static int t_remove_dependency(struct hc_mcp_call *call, json_t *args,
			       json_t **out, struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	int rc = c ? dh_dependency_delete(c, arg(args, "id"), err)
		   : err->status;
	if (rc == HC_OK)
		*out = json_pack("{sssb}", "id", arg(args, "id"), "removed",
				 1);
	return rc;
}

static int t_ingest_sbom(struct hc_mcp_call *call, json_t *args,
			 json_t **out, struct hc_err *err)
{
	json_t *content = json_object_get(args, "content"), *doc = NULL;
	struct hc_conn *c;
	int rc = hc_json_parse(json_string_value(content),
			       json_string_length(content), &doc, err);
	if (rc != HC_OK) {
		hc_err_prefix(err, "content");
		err->status = HC_EINVAL;
		snprintf(err->field, sizeof(err->field), "content");
		return HC_EINVAL;
	}
	c = hc_mcp_db(call, err);
	rc = c ? dh_sbom_ingest(c, arg(args, "repo"), doc, arg(args, "source"),
				out, err)
	       : err->status;
	json_decref(doc);
	return rc;
}

static int t_component_usage(struct hc_mcp_call *call, json_t *args,
			     json_t **out, struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? dh_sbom_usage(c, arg(args, "component"), out, err)
		 : err->status;
}

static const struct hc_field p_work_view[] = {
	{ .name = "workstream", .type = HC_FT_STRING,
	  .doc = "Only this workstream, e.g. CUST-WP-0025." },
	{ .name = "domain", .type = HC_FT_STRING,
	  .doc = "Only the workstreams of this domain (slug)." },
	{ .name = "limit", .type = HC_FT_INT,
	  .doc = "At most this many tasks, 1-500 (default 50)." },
};
static const struct hc_field p_remove_dependency[] = {
	{ .name = "id", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The dependency's id (from list_dependencies)." },
};
static const struct hc_field p_ingest_sbom[] = {
	{ .name = "repo", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The registered repo the SBOM describes (name)." },
	{ .name = "content", .type = HC_FT_TEXT, .flags = REQ,
	  .max_len = 16 * 1024 * 1024,
	  .doc = "The SBOM file's text: CycloneDX 1.4-1.6 JSON or SPDX 2.3 "
		 "JSON." },
	{ .name = "source", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "The file name, recorded with it." },
};
static const struct hc_field p_component_usage[] = {
	{ .name = "component", .type = HC_FT_STRING, .flags = REQ,
	  .max_len = 2000,
	  .doc = "A component name (any case), group/name, or purl with or "
		 "without version: lodash, pkg:npm/lodash." },
};

static const struct hc_field p_claim[] = {
	{ .name = "workstream", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The workstream to take work from, e.g. CUST-WP-0025." },
	{ .name = "agent", .type = HC_FT_STRING, .flags = REQ, .max_len = 100,
	  .doc = "Your agent name: the task is assigned to it." },
};
static const struct hc_field p_release[] = {
	{ .name = "task", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The task id, e.g. CUST-WP-0025-T08." },
	{ .name = "agent", .type = HC_FT_STRING, .flags = REQ, .max_len = 100,
	  .doc = "Your agent name (only the holder can release)." },
};
static const struct hc_field p_status[] = {
	{ .name = "task", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The task id, e.g. CUST-WP-0025-T08." },
	{ .name = "status", .type = HC_FT_ENUM, .flags = REQ,
	  .enum_values = dh_task_statuses,
	  .doc = "todo, in_progress, blocked, done or cancelled." },
	{ .name = "agent", .type = HC_FT_STRING, .flags = REQ, .max_len = 100,
	  .doc = "Your agent name, recorded with the change." },
	{ .name = "note", .type = HC_FT_TEXT, .max_len = 4096,
	  .doc = "Why, or what was done." },
};
static const struct hc_field p_import[] = {
	{ .name = "content", .type = HC_FT_TEXT, .flags = REQ,
	  .max_len = 16 * 1024 * 1024,
	  .doc = "The workplan file's text (flat text or Markdown form)." },
	{ .name = "source", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "The file name, used in error messages." },
};

static const char claim_schema[] =
	"{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
	"\"type\":\"object\",\"properties\":{\"task\":{\"type\":[\"object\","
	"\"null\"],\"description\":\"The task now assigned to you, or null "
	"when nothing is ready.\"}},\"required\":[\"task\"]}";
static const char import_schema[] =
	"{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
	"\"type\":\"object\",\"properties\":{\"workstream\":{\"type\":"
	"\"string\"},\"workstream_created\":{\"type\":\"boolean\"},"
	"\"tasks\":{\"type\":\"integer\"},\"tasks_created\":{\"type\":"
	"\"integer\"},\"tasks_updated\":{\"type\":\"integer\"},"
	"\"tasks_unchanged\":{\"type\":\"integer\"},\"decisions\":{\"type\":"
	"\"integer\"}},\"required\":[\"workstream\",\"tasks\"]}";

#define RO HC_MCP_READONLY
#define CORE HC_MCP_TIER_CORE
#define RT(n, t, d, res, o, fl, tier)                                         \
	{ .name = n, .title = t, .description = d,                            \
	  .fn = hc_mcp_resource_tool, .resource = &(res), .op = o,            \
	  .flags = fl, .tiers = tier,                                         \
	  .scope = ((fl) & HC_MCP_READONLY) ? HC_SCOPE_READ : HC_SCOPE_WRITE }

static const struct hc_mcp_tool dev_tools[] = {
	RT("list_topics", "List topics",
	   "List the topics (themes within a domain) that group workstreams.",
	   dh_topic_resource, HC_MCP_OP_LIST, RO, 0),
	RT("get_topic", "Get a topic", "One topic by slug or id.",
	   dh_topic_resource, HC_MCP_OP_GET, RO, 0),
	RT("create_topic", "Create a topic", "Create a topic in a domain.",
	   dh_topic_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("update_topic", "Update a topic", "Change a topic's fields.",
	   dh_topic_resource, HC_MCP_OP_UPDATE, HC_MCP_IDEMPOTENT, 0),

	RT("list_workstreams", "List workstreams",
	   "List workstreams (one per workplan), by domain, topic or status.",
	   dh_workstream_resource, HC_MCP_OP_LIST, RO, CORE),
	RT("get_workstream", "Get a workstream",
	   "One workstream with its phases and live task counts, e.g. "
	   "CUST-WP-0025.",
	   dh_workstream_resource, HC_MCP_OP_GET, RO, CORE),
	RT("create_workstream", "Create a workstream",
	   "Create a workstream by hand (importing its workplan file with "
	   "import_workplan is usually better).",
	   dh_workstream_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("update_workstream", "Update a workstream",
	   "Change a workstream's fields, e.g. its status or phases.",
	   dh_workstream_resource, HC_MCP_OP_UPDATE, HC_MCP_IDEMPOTENT, 0),

	RT("list_tasks", "List tasks",
	   "List tasks, filtered by workstream, status, priority, phase or "
	   "assignee (e.g. workstream=CUST-WP-0025, status=todo).",
	   dh_task_resource, HC_MCP_OP_LIST, RO, CORE),
	RT("get_task", "Get a task",
	   "One task with its whole description and its open blockers "
	   "(tasks and workstreams it waits on), e.g. CUST-WP-0025-T08.",
	   dh_task_resource, HC_MCP_OP_GET, RO, CORE),
	RT("create_task", "Create a task",
	   "Add a task to a workstream; its id is the next free Tnn unless "
	   "given.",
	   dh_task_resource, HC_MCP_OP_CREATE, 0, CORE),
	RT("update_task", "Update a task",
	   "Change a task's title, description, priority, phase or "
	   "assignee (use set_task_status for its status).",
	   dh_task_resource, HC_MCP_OP_UPDATE, HC_MCP_IDEMPOTENT, CORE),
	{ .name = "set_task_status", .title = "Set a task's status",
	  .description = "Move a task to todo, in_progress, blocked, done or "
			 "cancelled; the change is recorded with your agent "
			 "name.",
	  .fn = t_set_status, .params = p_status,
	  .nparams = HC_COUNT(p_status), .flags = HC_MCP_IDEMPOTENT,
	  .tiers = CORE, .scope = HC_SCOPE_WRITE },
	{ .name = "claim_next_task", .title = "Claim the next task",
	  .description = "Take the highest-priority ready task of a "
			 "workstream: it becomes in_progress and yours, "
			 "atomically, so no two agents get the same task. "
			 "Returns {task: null} when nothing is ready.",
	  .fn = t_claim, .params = p_claim, .nparams = HC_COUNT(p_claim),
	  .output_schema = claim_schema, .tiers = CORE,
	  .scope = HC_SCOPE_WRITE },
	{ .name = "release_task", .title = "Release a task",
	  .description = "Give back a task you claimed but will not finish: "
			 "it becomes unassigned (and todo if in progress).",
	  .fn = t_release, .params = p_release,
	  .nparams = HC_COUNT(p_release), .tiers = CORE,
	  .scope = HC_SCOPE_WRITE },

	{ .name = "list_ready_tasks", .title = "List ready tasks",
	  .description = "What can be started now: tasks that are todo, "
			 "unassigned and not blocked by any unfinished task "
			 "or workstream, highest priority first. Use it to "
			 "choose work; claim_next_task takes the first one "
			 "atomically.",
	  .fn = t_work_view, .params = p_work_view,
	  .nparams = HC_COUNT(p_work_view), .flags = RO, .tiers = CORE,
	  .scope = HC_SCOPE_READ },
	{ .name = "list_blocked_tasks", .title = "List blocked tasks",
	  .description = "Tasks that wait: status blocked, or blocked by a "
			 "task not done or a workstream not completed, each "
			 "with its open blockers. Use it to see what to "
			 "unblock first.",
	  .fn = t_work_view, .params = p_work_view,
	  .nparams = HC_COUNT(p_work_view), .flags = RO, .tiers = CORE,
	  .arg = "blocked", .scope = HC_SCOPE_READ },
	RT("add_dependency", "Add a dependency",
	   "Record that a task depends on another task, or a workstream on "
	   "another: type blocks (item waits until depends_on is done), "
	   "parent_child or related. A dependency that would make a cycle "
	   "is refused with the cycle named.",
	   dh_dependency_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("list_dependencies", "List dependencies",
	   "List dependencies, by item, depends_on, kind or type: what a "
	   "task waits on (item=...) or what waits on it (depends_on=...).",
	   dh_dependency_resource, HC_MCP_OP_LIST, RO, 0),
	{ .name = "remove_dependency", .title = "Remove a dependency",
	  .description = "Delete a dependency that no longer holds, by its "
			 "id.",
	  .fn = t_remove_dependency, .params = p_remove_dependency,
	  .nparams = HC_COUNT(p_remove_dependency),
	  .flags = HC_MCP_DESTRUCTIVE | HC_MCP_IDEMPOTENT,
	  .scope = HC_SCOPE_WRITE },

	RT("list_goals", "List goals",
	   "List the goals of a domain with the workstreams serving them.",
	   dh_goal_resource, HC_MCP_OP_LIST, RO, 0),
	RT("get_goal", "Get a goal",
	   "One goal with the status and task progress of its workstreams.",
	   dh_goal_resource, HC_MCP_OP_GET, RO, 0),
	RT("create_goal", "Create a goal",
	   "Record a goal of a domain and the workstreams that serve it.",
	   dh_goal_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("update_goal", "Update a goal",
	   "Change a goal: its status, owner, target date or workstreams.",
	   dh_goal_resource, HC_MCP_OP_UPDATE, HC_MCP_IDEMPOTENT, 0),
	RT("record_contribution", "Record a contribution",
	   "Say what you did on a task, with your agent name and session "
	   "id, when you finish a piece of work on it.",
	   dh_contribution_resource, HC_MCP_OP_CREATE, 0, CORE),
	RT("list_contributions", "List contributions",
	   "Who did what: contributions by task, workstream, contributor or "
	   "session, newest first.",
	   dh_contribution_resource, HC_MCP_OP_LIST, RO, 0),
	RT("list_tech_debt", "List technical debt",
	   "Technical debt items (TD-nnnn) by domain, repo, status, "
	   "severity or owner.",
	   dh_tech_debt_resource, HC_MCP_OP_LIST, RO, 0),
	RT("record_tech_debt", "Record technical debt",
	   "Record a technical debt item you took on or found, so it is "
	   "repaid later.",
	   dh_tech_debt_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("update_tech_debt", "Update technical debt",
	   "Change a technical debt item: status, owner, severity.",
	   dh_tech_debt_resource, HC_MCP_OP_UPDATE, HC_MCP_IDEMPOTENT, 0),
	RT("list_enhancement_proposals", "List enhancement proposals",
	   "Enhancement proposals (EP-nnnn) by domain, repo, status or "
	   "owner.",
	   dh_enhancement_resource, HC_MCP_OP_LIST, RO, 0),
	RT("propose_enhancement", "Propose an enhancement",
	   "Write down an enhancement proposal: motivation and proposal.",
	   dh_enhancement_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("update_enhancement_proposal", "Update an enhancement proposal",
	   "Change an enhancement proposal: status, owner, text.",
	   dh_enhancement_resource, HC_MCP_OP_UPDATE, HC_MCP_IDEMPOTENT, 0),

	{ .name = "ingest_sbom", .title = "Ingest an SBOM",
	  .description = "Store a repo's software bill of materials "
			 "(CycloneDX 1.4-1.6 or SPDX 2.3 JSON text), "
			 "replacing its previous one.",
	  .fn = t_ingest_sbom, .params = p_ingest_sbom,
	  .nparams = HC_COUNT(p_ingest_sbom), .flags = HC_MCP_IDEMPOTENT,
	  .scope = HC_SCOPE_WRITE },
	RT("list_sbom_components", "List SBOM components",
	   "Components of the repos' SBOMs with versions, licenses and "
	   "purls, by repo, name, version, purl or type.",
	   dh_sbom_component_resource, HC_MCP_OP_LIST, RO, 0),
	{ .name = "find_component_usage", .title = "Which repos use a component",
	  .description = "Which repos use a component (by name, group/name "
			 "or purl), with the versions each uses: for a "
			 "vulnerability or license question.",
	  .fn = t_component_usage, .params = p_component_usage,
	  .nparams = HC_COUNT(p_component_usage), .flags = RO,
	  .scope = HC_SCOPE_READ },

	RT("list_decisions", "List decisions",
	   "List decisions, by domain, workstream or status.",
	   dh_decision_resource, HC_MCP_OP_LIST, RO, 0),
	RT("get_decision", "Get a decision", "One decision with its rationale.",
	   dh_decision_resource, HC_MCP_OP_GET, RO, 0),
	RT("record_decision", "Record a decision",
	   "Record a decision: title, context, choice, rationale, status.",
	   dh_decision_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("update_decision", "Update a decision",
	   "Change a decision, e.g. mark it superseded.", dh_decision_resource,
	   HC_MCP_OP_UPDATE, HC_MCP_IDEMPOTENT, 0),

	{ .name = "import_workplan", .title = "Import a workplan",
	  .description = "Import a workplan file's text (flat text or Markdown "
			 "form): its domain, topic, workstream, tasks and "
			 "decisions, in one transaction; safe to repeat. "
			 "Reports progress.",
	  .fn = t_import, .params = p_import, .nparams = HC_COUNT(p_import),
	  .output_schema = import_schema,
	  .flags = HC_MCP_IDEMPOTENT | HC_MCP_STREAMS,
	  .scope = HC_SCOPE_WRITE },
};

static const struct hc_mcp_tool_table dev_tool_table =
	HC_MCP_TOOL_TABLE(dev_tools);

static const struct hc_mcp_tool_table *const tool_tables[] = {
	&hc_mcp_core_tools, &hc_mcp_tpsc_tools, &dev_tool_table,
	&hc_mcp_event_tools
};

/* ---- completion --------------------------------------------------------------- */

/* Values of one column starting with prefix, case and all (first 101:
 * one more than a page says there are more). */
static int complete_column(struct hc_mcp_call *call, const char *sql,
			   const char *prefix, json_t *values,
			   struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	struct hc_stmt *st = NULL;
	struct hc_value p[1];
	int rc;
	if (!c)
		return err->status;
	p[0] = hc_vtext(prefix);
	rc = hc_query(c, &st, sql, p, 1, err);
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY)
		json_array_append_new(values,
				      json_string(hc_stmt_text(st, 0, NULL)));
	hc_stmt_finish(st);
	return rc == HC_ROW_DONE ? HC_OK : rc;
}

/* substr() rather than LIKE: LIKE folds ASCII case and treats % and _
 * as wildcards; a completion must match what was typed, exactly. */
static int complete_domain(struct hc_mcp_call *call, const char *prefix,
			   json_t *values, struct hc_err *err)
{
	return complete_column(call,
			       "SELECT slug FROM domains "
			       "WHERE substr(slug, 1, length(?1)) = ?1 "
			       "ORDER BY slug LIMIT 101",
			       prefix, values, err);
}

static int complete_summary(struct hc_mcp_call *call, const char *variable,
			    const char *prefix, json_t *values,
			    struct hc_err *err)
{
	if (strcmp(variable, "slug") != 0)
		return HC_OK;
	return complete_domain(call, prefix, values, err);
}

static int complete_workstream(struct hc_mcp_call *call, const char *variable,
			       const char *prefix, json_t *values,
			       struct hc_err *err)
{
	if (strcmp(variable, "id") != 0)
		return HC_OK;
	return complete_column(call,
			       "SELECT id FROM workstreams "
			       "WHERE substr(id, 1, length(?1)) = ?1 "
			       "ORDER BY id LIMIT 101",
			       prefix, values, err);
}

/* ---- resources -------------------------------------------------------------------- */

/* The variable part of uri between prefix and suffix, or NULL. */
static char *match_uri(const char *uri, const char *prefix, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix), ul = strlen(uri);
	if (ul <= pl + sl || strncmp(uri, prefix, pl) != 0 ||
	    strcmp(uri + ul - sl, suffix) != 0)
		return NULL;
	if (memchr(uri + pl, '/', ul - pl - sl))
		return NULL;
	return strndup(uri + pl, ul - pl - sl);
}

static json_t *text_contents(const char *uri, const char *mime,
			     const char *text)
{
	return json_pack("[{ssssss}]", "uri", uri, "mimeType", mime, "text",
			 text);
}

/* One Resource per row: uri = prefix KEY suffix, name = what KEY. */
static int list_rows(struct hc_mcp_call *call, const struct hc_resource *r,
		     const char *key, const char *prefix, const char *suffix,
		     const char *what, const char *mime, json_t *items,
		     struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	struct hc_list_query q = { .limit = HC_LIST_MAX_LIMIT };
	json_t *page = NULL, *row;
	size_t i;
	int rc;
	if (!c)
		return err->status;
	rc = hc_res_list(c, r, &q, &page, err);
	if (rc != HC_OK)
		return rc;
	json_array_foreach(json_object_get(page, "items"), i, row)
	{
		const char *k = hc_json_str(row, key);
		char uri[512], name[512];
		snprintf(uri, sizeof(uri), "%s%s%s", prefix, k, suffix);
		snprintf(name, sizeof(name), "%s %s", what, k);
		json_array_append_new(
			items, json_pack("{ssssssss}", "uri", uri, "name", name,
					 "title",
					 hc_json_str(row, "title")
						 ? hc_json_str(row, "title")
						 : hc_json_str(row, "name"),
					 "mimeType", mime));
	}
	json_decref(page);
	return HC_OK;
}

static int summaries_list(struct hc_mcp_call *call, json_t *items,
			  struct hc_err *err)
{
	return list_rows(call, &hc_domain_resource, "slug",
			 URI_PREFIX "domains/", "/summary", "summary of",
			 "application/json", items, err);
}

static int summaries_read(struct hc_mcp_call *call, const char *uri,
			  json_t **contents, struct hc_err *err)
{
	char *slug = match_uri(uri, URI_PREFIX "domains/", "/summary");
	struct hc_conn *c;
	json_t *sum = NULL;
	char *text;
	int rc;
	if (!slug)
		return HC_ENOTFOUND;
	c = hc_mcp_db(call, err);
	rc = c ? hc_domain_summary(hc_mcp_hub(call), c, slug, &sum, err)
	       : err->status;
	free(slug);
	if (rc != HC_OK)
		return rc;
	text = hc_json_dump(sum, NULL);
	*contents = text_contents(uri, "application/json", text ? text : "{}");
	free(text);
	json_decref(sum);
	return HC_OK;
}

static int workstreams_list(struct hc_mcp_call *call, json_t *items,
			    struct hc_err *err)
{
	return list_rows(call, &dh_workstream_resource, "id",
			 URI_PREFIX "workstreams/", "", "workstream",
			 "application/json", items, err);
}

static int workstreams_read(struct hc_mcp_call *call, const char *uri,
			    json_t **contents, struct hc_err *err)
{
	char *id = match_uri(uri, URI_PREFIX "workstreams/", "");
	struct hc_conn *c;
	json_t *ws = NULL;
	char *text;
	int rc;
	if (!id)
		return HC_ENOTFOUND;
	c = hc_mcp_db(call, err);
	rc = c ? hc_res_get(c, &dh_workstream_resource, id, &ws, err)
	       : err->status;
	free(id);
	if (rc != HC_OK)
		return rc;
	text = hc_json_dump(ws, NULL);
	*contents = text_contents(uri, "application/json", text ? text : "{}");
	free(text);
	json_decref(ws);
	return HC_OK;
}

static int workplans_list(struct hc_mcp_call *call, json_t *items,
			  struct hc_err *err)
{
	return list_rows(call, &dh_workstream_resource, "id",
			 URI_PREFIX "workplans/", "", "workplan",
			 "text/markdown", items, err);
}

static int workplans_read(struct hc_mcp_call *call, const char *uri,
			  json_t **contents, struct hc_err *err)
{
	char *id = match_uri(uri, URI_PREFIX "workplans/", "");
	struct hc_conn *c;
	char *md = NULL;
	int rc;
	if (!id)
		return HC_ENOTFOUND;
	c = hc_mcp_db(call, err);
	rc = c ? dh_workplan_render(c, id, &md, err) : err->status;
	free(id);
	if (rc != HC_OK)
		return rc;
	*contents = text_contents(uri, "text/markdown", md);
	free(md);
	return HC_OK;
}

static const struct hc_mcp_resource_family dev_resources[] = {
	{ URI_PREFIX "domains/{slug}/summary", "domain-summary",
	  "Domain summary",
	  "The orientation summary of a domain: work by status, unread "
	  "messages, open risks and alerts.",
	  "application/json", summaries_list, summaries_read,
	  complete_summary },
	{ URI_PREFIX "workstreams/{id}", "workstream", "Workstream",
	  "A workstream with its phases and live task counts.",
	  "application/json", workstreams_list, workstreams_read,
	  complete_workstream },
	{ URI_PREFIX "workplans/{id}", "workplan", "Workplan",
	  "A workstream written as a Markdown workplan file, tasks and all.",
	  "text/markdown", workplans_list, workplans_read,
	  complete_workstream },
};

/* ---- prompts ------------------------------------------------------------------------ */

static int p_session_start(struct hc_mcp_call *call, json_t *args,
			   json_t **out, struct hc_err *err)
{
	const char *domain = arg(args, "domain");
	const char *agent = arg(args, "agent");
	struct hc_conn *c = hc_mcp_db(call, err);
	json_t *sum = NULL;
	char *text = NULL, *json = NULL, uri[300];
	int rc;
	if (!c)
		return err->status;
	rc = hc_domain_summary(hc_mcp_hub(call), c, domain, &sum, err);
	if (rc != HC_OK)
		return rc;
	json = hc_json_dump(sum, NULL);
	snprintf(uri, sizeof(uri), URI_PREFIX "domains/%s/summary",
		 hc_json_str(json_object_get(sum, "domain"), "slug"));
	if (asprintf(&text,
		     "You are starting a work session in the domain '%s'%s%s%s "
		     "on dev-hub. Its summary follows. Then:\n"
		     "1. Read the domain's unread messages (get_messages with "
		     "to_domain=%s and read=false) and answer or mark them "
		     "read.\n"
		     "2. Look at open risks and alerts (get_risks, get_alerts) "
		     "that touch your work.\n"
		     "3. Take work with claim_next_task (workstream and your "
		     "agent name), or continue the tasks assigned to you "
		     "(list_tasks with assignee).\n"
		     "4. Record progress with set_task_status and decisions "
		     "with record_decision; pass your agent name on every "
		     "call.",
		     domain, agent ? " as agent '" : "", agent ? agent : "",
		     agent ? "'" : "", domain) < 0)
		text = NULL;
	*out = json_pack("{sss[{sss{ssss}}{sss{sss{ssssss}}}]}", "description",
			 "Orientation at the start of a session in a domain",
			 "messages", "role", "user", "content", "type", "text",
			 "text", text ? text : "", "role", "user", "content",
			 "type", "resource", "resource", "uri", uri,
			 "mimeType", "application/json", "text",
			 json ? json : "{}");
	free(text);
	free(json);
	json_decref(sum);
	return *out ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
}

static const struct hc_mcp_prompt_arg session_args[] = {
	{ "domain", "The domain to work in (slug).", true, complete_domain },
	{ "agent", "Your agent name, used in the instructions.", false, NULL },
};

static const struct hc_mcp_prompt dev_prompts[] = {
	{ "session_start", "Start a session in a domain",
	  "Orientation for the start of a work session in a domain: its "
	  "summary and the steps to take work.",
	  session_args, HC_COUNT(session_args), p_session_start },
};

const struct hc_mcp_def devhub_mcp = {
	.tools = tool_tables,
	.ntools = HC_COUNT(tool_tables),
	.prompts = dev_prompts,
	.nprompts = HC_COUNT(dev_prompts),
	.resources = dev_resources,
	.nresources = HC_COUNT(dev_resources),
	.instructions =
		"dev-hub coordinates development across domains: workstreams "
		"imported from workplans, their tasks, decisions, messages "
		"between agents, risks and alerts. Start a session with the "
		"session_start prompt or get_domain_summary, take work with "
		"claim_next_task, and pass your agent name on every call.",
};
