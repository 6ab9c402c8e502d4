/*
 * core_tools.c - the MCP tools every hub has: orientation, messaging,
 * capability routing between domains, managed repos, the third-party
 * service catalog for GDPR, definition-of-integration checks, and FOS §10
 * risks and alerts. Each calls the same service function as its REST
 * route.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/capabilities.h"
#include "hubcore/json.h"
#include "hubcore/mcp.h"
#include "hubcore/tpsc.h"
#include "mcp_internal.h"

#define REQ HC_F_REQUIRED

static struct hc_conn *db(struct hc_mcp_call *call, struct hc_err *err)
{
	return hc_mcp_db(call, err);
}

static const char *arg(json_t *args, const char *name)
{
	return json_string_value(json_object_get(args, name));
}

/* ---- orientation ------------------------------------------------------------ */

static int t_state_summary(struct hc_mcp_call *call, json_t *args,
			   json_t **out, struct hc_err *err)
{
	struct hc_conn *c = db(call, err);
	return c ? hc_state_summary(hc_mcp_hub(call), c, out, err)
		 : err->status;
}

static int t_domain_summary(struct hc_mcp_call *call, json_t *args,
			    json_t **out, struct hc_err *err)
{
	struct hc_conn *c = db(call, err);
	return c ? hc_domain_summary(hc_mcp_hub(call), c, arg(args, "domain"),
				     out, err)
		 : err->status;
}

/* ---- messaging -------------------------------------------------------------- */

static int t_mark_read(struct hc_mcp_call *call, json_t *args, json_t **out,
		       struct hc_err *err)
{
	struct hc_conn *c = db(call, err);
	return c ? hc_message_mark_read(c, arg(args, "id"), out, err)
		 : err->status;
}

static int t_reply(struct hc_mcp_call *call, json_t *args, json_t **out,
		   struct hc_err *err)
{
	struct hc_conn *c = db(call, err);
	char *id;
	int rc;
	if (!c)
		return err->status;
	id = strdup(arg(args, "id"));
	if (!id)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	json_object_del(args, "id");
	rc = hc_message_reply(c, id, args, out, err);
	free(id);
	return rc;
}

/* ---- repos -------------------------------------------------------------------- */

/* Set the checkout path of a repo on one machine (or its default path). */
static int t_update_repo_path(struct hc_mcp_call *call, json_t *args,
			      json_t **out, struct hc_err *err)
{
	struct hc_conn *c = db(call, err);
	const char *host = arg(args, "host");
	json_t *repo = NULL, *patch;
	int rc;
	if (!c)
		return err->status;
	if (!host) {
		patch = json_pack("{ss}", "default_path", arg(args, "path"));
	} else {
		rc = hc_res_get_plain(c, &hc_repo_resource, arg(args, "repo"),
				      &repo, err);
		if (rc != HC_OK)
			return rc;
		patch = json_pack("{sO}", "host_paths",
				  json_object_get(repo, "host_paths"));
		json_object_set_new(json_object_get(patch, "host_paths"), host,
				    json_string(arg(args, "path")));
		json_decref(repo);
	}
	rc = hc_res_update(c, &hc_repo_resource, arg(args, "repo"), patch, out,
			   err);
	json_decref(patch);
	return rc;
}

/* ---- capability routing ---------------------------------------------------------- */

static int t_capreq_create(struct hc_mcp_call *call, json_t *args,
			   json_t **out, struct hc_err *err)
{
	struct hc_conn *c = db(call, err);
	return c ? hc_capreq_create(c, args, out, err) : err->status;
}

static int t_capreq_accept(struct hc_mcp_call *call, json_t *args,
			   json_t **out, struct hc_err *err)
{
	struct hc_conn *c = db(call, err);
	return c ? hc_capreq_accept(c, arg(args, "id"), arg(args, "actor"),
				    arg(args, "note"), out, err)
		 : err->status;
}

static int t_capreq_status(struct hc_mcp_call *call, json_t *args,
			   json_t **out, struct hc_err *err)
{
	struct hc_conn *c = db(call, err);
	if (!c)
		return err->status;
	if (arg(args, "to_domain"))
		return hc_capreq_reroute(c, arg(args, "id"),
					 arg(args, "to_domain"),
					 arg(args, "actor"), arg(args, "note"),
					 out, err);
	if (!arg(args, "status"))
		return hc_err_field(err, HC_EINVAL, "status",
				    "give 'status' for a transition, or "
				    "'to_domain' to reroute");
	return hc_capreq_transition(c, arg(args, "id"), arg(args, "status"),
				    arg(args, "actor"), arg(args, "note"),
				    json_object_get(args,
						    "fulfillment_context"),
				    out, err);
}

/* ---- TPSC / GDPR ------------------------------------------------------------------ */

static int t_tpsc_ingest(struct hc_mcp_call *call, json_t *args,
			 json_t **out, struct hc_err *err)
{
	struct hc_conn *c = db(call, err);
	bool created = false, changed = false;
	if (!c)
		return err->status;
	return hc_tpsc_ingest(c, args, &created, &changed, out, err);
}

static int t_gdpr_report(struct hc_mcp_call *call, json_t *args,
			 json_t **out, struct hc_err *err)
{
	struct hc_conn *c = db(call, err);
	return c ? hc_gdpr_report(c, arg(args, "domain"), out, err)
		 : err->status;
}

/* ---- definition of integration ------------------------------------------------------ */

/* The hub's evaluator answers (hc_hub_def.doi); a hub without one says
 * so, and never pretends a repo passed. */
static int t_doi(struct hc_mcp_call *call, json_t *args, json_t **out,
		 struct hc_err *err)
{
	struct hc_hub *hub = hc_mcp_hub(call);
	bool refresh = json_is_true(json_object_get(args, "refresh"));
	struct hc_conn *c;
	if (!hub->def->doi)
		return hc_doi_check(hub, NULL, NULL, false, out, err);
	c = db(call, err);
	if (!c)
		return err->status;
	if (hc_mcp_tool_of(call)->arg)
		return hc_doi_summary(hub, c, arg(args, "domain"), refresh,
				      out, err);
	return hc_doi_check(hub, c, arg(args, "repo"), refresh, out, err);
}

/* ---- risks and alerts ------------------------------------------------------------------ */

static int t_view(struct hc_mcp_call *call, json_t *args, json_t **out,
		  struct hc_err *err)
{
	const char *const *types = hc_mcp_tool_of(call)->arg;
	struct hc_list_query q;
	struct hc_conn *c = db(call, err);
	json_t *open = json_object_get(args, "open");
	int rc = HC_OK;

	if (!c)
		return err->status;
	memset(&q, 0, sizeof(q));
	if (arg(args, "domain"))
		rc = hc_list_query_add(&q, &hc_progress_resource, "domain",
				       arg(args, "domain"), err);
	if (json_is_integer(json_object_get(args, "limit")))
		q.limit = (size_t)json_integer_value(json_object_get(args,
								    "limit"));
	q.cursor = arg(args, "cursor");
	if (rc == HC_OK)
		rc = hc_progress_view(c, types, open ? json_is_true(open) : true,
				      &q, out, err);
	if (rc == HC_EPARAM)
		err->status = rc = HC_EINVAL;
	return rc;
}

/* ---- parameters --------------------------------------------------------------------- */

static const struct hc_field p_domain[] = {
	{ .name = "domain", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The domain's slug (or id), e.g. \"custodian\"." },
};
static const struct hc_field p_message_id[] = {
	{ .name = "id", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The message id." },
};
static const struct hc_field p_reply[] = {
	{ .name = "id", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The id of the message to answer." },
	{ .name = "from_agent", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "Who replies: your agent name." },
	{ .name = "body", .type = HC_FT_TEXT, .doc = "The reply (Markdown)." },
	{ .name = "subject", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "Subject; \"Re: ...\" of the original by default." },
	{ .name = "from_domain", .type = HC_FT_STRING,
	  .doc = "Your domain, if any." },
};
static const struct hc_field p_repo_path[] = {
	{ .name = "repo", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The repo's name or id." },
	{ .name = "path", .type = HC_FT_STRING, .flags = REQ, .max_len = 4096,
	  .doc = "Absolute checkout path." },
	{ .name = "host", .type = HC_FT_STRING, .max_len = 100,
	  .doc = "The machine this path is for; without it, the repo's "
		 "default path is set." },
};
static const struct hc_field p_capreq_create[] = {
	{ .name = "capability", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The capability's slug." },
	{ .name = "requesting_domain", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "Your domain." },
	{ .name = "requested_by", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "Your agent name." },
	{ .name = "title", .type = HC_FT_STRING, .flags = REQ, .max_len = 300,
	  .doc = "What you need, in one line." },
	{ .name = "description", .type = HC_FT_TEXT, .doc = "Details." },
	{ .name = "request_context", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_OBJECT,
	  .doc = "Structured context (links, ids)." },
};
static const struct hc_field p_capreq_accept[] = {
	{ .name = "id", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The capability request id." },
	{ .name = "actor", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "Who accepts it: your agent name." },
	{ .name = "note", .type = HC_FT_TEXT, .doc = "Why, or what next." },
};
static const struct hc_field p_capreq_status[] = {
	{ .name = "id", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The capability request id." },
	{ .name = "actor", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "Who makes the change: your agent name." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .enum_values = hc_capreq_statuses,
	  .doc = "The new status: requested, accepted, in_progress, "
		 "fulfilled, rejected or disputed." },
	{ .name = "to_domain", .type = HC_FT_STRING,
	  .doc = "Instead of a status: reroute the request to this "
		 "domain." },
	{ .name = "note", .type = HC_FT_TEXT, .doc = "Why." },
	{ .name = "fulfillment_context", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_OBJECT,
	  .doc = "What was delivered, when fulfilling." },
};
static const struct hc_field p_optional_domain[] = {
	{ .name = "domain", .type = HC_FT_STRING,
	  .doc = "Only this domain (slug); all domains when absent." },
};
static const struct hc_field p_doi_check[] = {
	{ .name = "repo", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The repo's name." },
	{ .name = "refresh", .type = HC_FT_BOOL,
	  .doc = "Evaluate again even when a result for the repo's HEAD "
		 "commit is cached (default false)." },
};
static const struct hc_field p_doi_summary[] = {
	{ .name = "domain", .type = HC_FT_STRING,
	  .doc = "Only this domain (slug); all domains when absent." },
	{ .name = "refresh", .type = HC_FT_BOOL,
	  .doc = "Evaluate every repo again (default false)." },
};
static const struct hc_field p_view[] = {
	{ .name = "domain", .type = HC_FT_STRING,
	  .doc = "Only this domain (slug)." },
	{ .name = "open", .type = HC_FT_BOOL,
	  .doc = "Only those still open (default true); false lists every "
		 "event of the kind." },
	{ .name = "limit", .type = HC_FT_INT, .doc = "Events per page." },
	{ .name = "cursor", .type = HC_FT_STRING,
	  .doc = "next_cursor of the previous page." },
};

static const char summary_schema[] =
	"{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
	"\"type\":\"object\",\"properties\":{\"domain\":{\"type\":\"object\"},"
	"\"messages\":{\"type\":\"object\"},\"risks\":{\"type\":\"object\"},"
	"\"alerts\":{\"type\":\"object\"}},\"required\":[\"domain\","
	"\"messages\",\"risks\",\"alerts\"]}";

#define RT(n, t, d, res, o, fl, tier)                                         \
	{ .name = n, .title = t, .description = d,                            \
	  .fn = hc_mcp_resource_tool, .resource = &(res), .op = o,            \
	  .flags = fl, .tiers = tier,                                         \
	  .scope = ((fl) & HC_MCP_READONLY) ? HC_SCOPE_READ : HC_SCOPE_WRITE }

#define T(n, t, d, f, p, fl, tier)                                            \
	{ .name = n, .title = t, .description = d, .fn = f, .params = p,      \
	  .nparams = HC_COUNT(p), .flags = fl, .tiers = tier,                 \
	  .scope = ((fl) & HC_MCP_READONLY) ? HC_SCOPE_READ : HC_SCOPE_WRITE }

#define RO (HC_MCP_READONLY)
#define CORE HC_MCP_TIER_CORE

static const struct hc_mcp_tool core_tools[] = {
	{ .name = "get_state_summary", .title = "State summary",
	  .description = "Start here when you do not know which domain to "
			 "work in: every domain of this hub with its unread "
			 "messages, open risks and alerts and work counts.",
	  .fn = t_state_summary, .flags = RO, .tiers = CORE,
	  .scope = HC_SCOPE_READ },
	{ .name = "get_domain_summary", .title = "Domain summary",
	  .description = "Call at the start of a session in a domain: its "
			 "workstreams and tasks by status, unread messages, "
			 "and the latest open risks and alerts.",
	  .fn = t_domain_summary, .params = p_domain, .nparams = 1,
	  .output_schema = summary_schema, .flags = RO, .tiers = CORE,
	  .scope = HC_SCOPE_READ },
	RT("list_domains", "List domains",
	   "List the domains (areas of concern) of the organisation.",
	   hc_domain_resource, HC_MCP_OP_LIST, RO, CORE),

	RT("send_message", "Send a message",
	   "Send a message to another agent (to_agent) or to a whole domain "
	   "(to_domain); say who you are in from_agent.",
	   hc_message_resource, HC_MCP_OP_CREATE, 0, CORE),
	RT("get_messages", "Get messages",
	   "Read messages: filter by to_agent or to_domain and read=false "
	   "for your unread mail; newest first.",
	   hc_message_resource, HC_MCP_OP_LIST, RO, CORE),
	T("mark_message_read", "Mark a message read",
	  "Mark a message read once you have acted on it (idempotent).",
	  t_mark_read, p_message_id, HC_MCP_IDEMPOTENT, CORE),
	T("reply_to_message", "Reply to a message",
	  "Reply to a message: the reply goes to its sender, in the same "
	  "thread.",
	  t_reply, p_reply, 0, CORE),

	RT("register_capability", "Register a capability",
	   "Declare a capability your domain offers to others, so they can "
	   "request it.",
	   hc_capability_resource, HC_MCP_OP_CREATE, 0, 0),
	RT("list_capabilities", "List capabilities",
	   "List the capabilities domains offer (filter by domain or status) "
	   "before requesting one.",
	   hc_capability_resource, HC_MCP_OP_LIST, RO, 0),
	T("request_capability", "Request a capability",
	  "Ask the domain offering a capability for it: give capability, "
	  "requesting_domain, requested_by and a title.",
	  t_capreq_create, p_capreq_create, 0, 0),
	T("accept_capability_request", "Accept a capability request",
	  "As the providing domain, accept a request addressed to you.",
	  t_capreq_accept, p_capreq_accept, 0, 0),
	T("update_capability_request_status", "Move a capability request",
	  "Move a capability request along requested, accepted, in_progress, "
	  "fulfilled (or rejected, disputed), or reroute it to another "
	  "domain with to_domain. Invalid moves are refused.",
	  t_capreq_status, p_capreq_status, 0, 0),
	RT("list_capability_requests", "List capability requests",
	   "List capability requests: filter by providing_domain and status "
	   "to see what is asked of your domain.",
	   hc_capreq_resource, HC_MCP_OP_LIST, RO, 0),
	RT("get_capability_request", "Get a capability request",
	   "One capability request with its history of transitions.",
	   hc_capreq_resource, HC_MCP_OP_GET, RO, 0),

	RT("register_repo", "Register a repo",
	   "Register a repository as managed by a domain.", hc_repo_resource,
	   HC_MCP_OP_CREATE, 0, 0),
	T("update_repo_path", "Set a repo's path",
	  "Record where a repo is checked out on a machine (or its default "
	  "path).",
	  t_update_repo_path, p_repo_path, HC_MCP_IDEMPOTENT, 0),
	RT("list_domain_repos", "List a domain's repos",
	   "List the managed repos, filtered by domain.", hc_repo_resource,
	   HC_MCP_OP_LIST, RO, 0),

	T("check_repo_doi", "Check a repo's definition of integration",
	  "Before calling a repo integrated (or to see what it lacks): "
	  "evaluate it against the definition of integration (required "
	  "files, current rule files, workplans that parse and match the "
	  "hub, registered paths) and get pass/fail per item with the "
	  "reason. Cached by the repo's HEAD commit; refresh re-evaluates.",
	  t_doi, p_doi_check, RO, 0),
	{ .name = "get_doi_summary", .title = "Definition-of-integration summary",
	  .description = "Which repos (of a domain, or all) pass the "
			 "definition of integration, and how many items "
			 "each fails: use it to find the repos that need "
			 "work before looking at one with check_repo_doi.",
	  .fn = t_doi, .params = p_doi_summary,
	  .nparams = HC_COUNT(p_doi_summary), .flags = RO,
	  .arg = "summary", .scope = HC_SCOPE_READ },

	{ .name = "get_risks", .title = "Risks",
	  .description = "FOS §10 risks (risk_surfaced, risk_escalated, "
			 "risk_mitigated): by default the open ones.",
	  .fn = t_view, .params = p_view, .nparams = HC_COUNT(p_view),
	  .arg = hc_risk_event_types, .flags = RO, .tiers = CORE,
	  .scope = HC_SCOPE_READ },
	{ .name = "get_alerts", .title = "Alerts",
	  .description = "FOS §10 alerts (alert_raised, alert_acknowledged, "
			 "alert_resolved): by default the open ones.",
	  .fn = t_view, .params = p_view, .nparams = HC_COUNT(p_view),
	  .arg = hc_alert_event_types, .flags = RO, .tiers = CORE,
	  .scope = HC_SCOPE_READ },
};

const struct hc_mcp_tool_table hc_mcp_core_tools =
	HC_MCP_TOOL_TABLE(core_tools);

/*
 * The third-party service catalog has two spellings of its tool names: the
 * plain ones State Hub used (register_service, list_services), and for hubs
 * whose own domain has "services" (ops-hub's runtime services) the same
 * tools named so that neither shadows the other (register_tpsc_service,
 * list_tpsc_services). A hub links exactly one of the two tables.
 */
#define TPSC_TOOLS(reg, list)                                                 \
	RT(reg, "Register a third-party service",                             \
	   "Record a third-party service a domain uses (TPSC, for GDPR): "    \
	   "vendor, service, purpose, data categories, location, legal "      \
	   "basis, DPA status.",                                              \
	   hc_tpsc_service_resource, HC_MCP_OP_CREATE, 0, 0),                 \
	RT(list, "List third-party services",                                 \
	   "List the third-party services (TPSC) recorded, by domain, "       \
	   "vendor, legal basis or DPA status.",                              \
	   hc_tpsc_service_resource, HC_MCP_OP_LIST, RO, 0),                  \
	{ .name = "ingest_tpsc_tool", .title = "Ingest a third-party service",\
	  .description = "Create or update a third-party service entry, "     \
			 "keyed by domain, vendor and service; safe to "      \
			 "repeat.",                                           \
	  .fn = t_tpsc_ingest, .resource = &hc_tpsc_service_resource,         \
	  .op = HC_MCP_OP_CREATE, /* the schema of a new entry */             \
	  .flags = HC_MCP_IDEMPOTENT, .scope = HC_SCOPE_WRITE },              \
	T("get_gdpr_report", "GDPR report",                                   \
	  "Per domain: third-party services by legal basis and DPA status, "  \
	  "missing DPAs, data categories and processing outside the "         \
	  "EU/EEA.",                                                          \
	  t_gdpr_report, p_optional_domain, RO, 0)

static const struct hc_mcp_tool tpsc_tools[] = {
	TPSC_TOOLS("register_service", "list_services"),
};
static const struct hc_mcp_tool tpsc_tools_prefixed[] = {
	TPSC_TOOLS("register_tpsc_service", "list_tpsc_services"),
};

const struct hc_mcp_tool_table hc_mcp_tpsc_tools =
	HC_MCP_TOOL_TABLE(tpsc_tools);
const struct hc_mcp_tool_table hc_mcp_tpsc_tools_prefixed =
	HC_MCP_TOOL_TABLE(tpsc_tools_prefixed);
