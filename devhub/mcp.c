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
	   "One task with its whole description, e.g. CUST-WP-0025-T08.",
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
	&hc_mcp_core_tools, &hc_mcp_tpsc_tools, &dev_tool_table
};

/* ---- completion --------------------------------------------------------------- */

/* Values of one column starting with prefix (first 100). */
static int complete_column(struct hc_mcp_call *call, const char *sql,
			   const char *prefix, json_t *values,
			   struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	struct hc_stmt *st = NULL;
	char like[300];
	struct hc_value p[1];
	int rc;
	size_t n = 0;
	if (!c)
		return err->status;
	/* escape LIKE's wildcards in what the client typed */
	for (const char *s = prefix; *s && n < sizeof(like) - 3; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			like[n++] = '\\';
		like[n++] = *s;
	}
	like[n++] = '%';
	like[n] = '\0';
	p[0] = hc_vtext(like);
	rc = hc_query(c, &st, sql, p, 1, err);
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY)
		json_array_append_new(values,
				      json_string(hc_stmt_text(st, 0, NULL)));
	hc_stmt_finish(st);
	return rc == HC_ROW_DONE ? HC_OK : rc;
}

static int complete_domain(struct hc_mcp_call *call, const char *prefix,
			   json_t *values, struct hc_err *err)
{
	return complete_column(call,
			       "SELECT slug FROM domains WHERE slug LIKE ? "
			       "ESCAPE '\\' ORDER BY slug LIMIT 101",
			       prefix, values, err);
}

static int complete_workstream(struct hc_mcp_call *call, const char *prefix,
			       json_t *values, struct hc_err *err)
{
	return complete_column(call,
			       "SELECT id FROM workstreams WHERE id LIKE ? "
			       "ESCAPE '\\' ORDER BY id LIMIT 101",
			       prefix, values, err);
}

static int complete_template(struct hc_mcp_call *call, const char *variable,
			     const char *prefix, json_t *values,
			     struct hc_err *err)
{
	if (strcmp(variable, "slug") == 0)
		return complete_domain(call, prefix, values, err);
	if (strcmp(variable, "id") == 0)
		return complete_workstream(call, prefix, values, err);
	return HC_OK;
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
	  complete_template },
	{ URI_PREFIX "workstreams/{id}", "workstream", "Workstream",
	  "A workstream with its phases and live task counts.",
	  "application/json", workstreams_list, workstreams_read,
	  complete_template },
	{ URI_PREFIX "workplans/{id}", "workplan", "Workplan",
	  "A workstream written as a Markdown workplan file, tasks and all.",
	  "text/markdown", workplans_list, workplans_read, complete_template },
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
