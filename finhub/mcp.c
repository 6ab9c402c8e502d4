/*
 * mcp.c - fin-hub over MCP: budgets, commitments, burn rate, runway, token
 * spend and cost imports as tools, next to hub-core's tools. Every tool
 * calls the same service function as the REST route.
 */
#include <string.h>

#include "finhub/finhub.h"
#include "hubcore/events.h"
#include "hubcore/json.h"
#include "hubcore/mcp.h"

#define REQ HC_F_REQUIRED
#define RO HC_MCP_READONLY
#define CORE HC_MCP_TIER_CORE

static const char *arg(json_t *args, const char *name)
{
	return json_string_value(json_object_get(args, name));
}

/* ---- tools -------------------------------------------------------------------- */

static int t_set_budget(struct hc_mcp_call *call, json_t *args, json_t **out,
			struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? fin_set_budget(c, args, out, err) : err->status;
}

static int t_set_balance(struct hc_mcp_call *call, json_t *args, json_t **out,
			 struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? fin_set_account(c, args, out, err) : err->status;
}

static int t_record_commitment(struct hc_mcp_call *call, json_t *args,
			       json_t **out, struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? fin_save(c, &fin_commitment_resource, NULL, args, out, err)
		 : err->status;
}

static int t_burn_rate(struct hc_mcp_call *call, json_t *args, json_t **out,
		       struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? fin_burn_rate(c, arg(args, "domain"), arg(args, "period"),
				 arg(args, "currency"), out, err)
		 : err->status;
}

static int t_runway(struct hc_mcp_call *call, json_t *args, json_t **out,
		    struct hc_err *err)
{
	const char *as_of = arg(args, "as_of");
	json_int_t horizon =
		json_integer_value(json_object_get(args, "horizon"));
	fin_month first = 0;
	struct hc_conn *c;
	if (as_of && (strlen(as_of) != 7 || !fin_month_parse(as_of, &first)))
		return hc_err_field(err, HC_EINVAL, "as_of",
				    "argument 'as_of' must be a month, "
				    "YYYY-MM");
	if (json_object_get(args, "horizon") &&
	    (horizon < 1 || horizon > FIN_HORIZON_MAX))
		return hc_err_field(err, HC_EINVAL, "horizon",
				    "argument 'horizon' must be 1 to %d",
				    FIN_HORIZON_MAX);
	c = hc_mcp_db(call, err);
	return c ? fin_runway_get(c, arg(args, "domain"), first, (int)horizon,
				  out, err)
		 : err->status;
}

static int t_token_spend(struct hc_mcp_call *call, json_t *args, json_t **out,
			 struct hc_err *err)
{
	struct fin_token_filter f = {
		.kind = arg(args, "kind"),
		.provider = arg(args, "provider"),
		.model = arg(args, "model"),
		.session_id = arg(args, "session_id"),
		.from = arg(args, "from"),
		.to = arg(args, "to"),
	};
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? fin_token_summary(c, arg(args, "by"), &f, out, err)
		 : err->status;
}

static int t_import(struct hc_mcp_call *call, json_t *args, json_t **out,
		    struct hc_err *err)
{
	json_t *content = json_object_get(args, "content");
	struct fin_import_opts opts = {
		.skip_bad = json_is_true(json_object_get(args, "skip_bad")),
		.domain = arg(args, "domain"),
	};
	struct fin_import_result res = { 0 };
	enum fin_import_kind kind;
	struct hc_conn *c;
	int rc;
	if (!fin_import_kind_parse(arg(args, "kind"), &kind))
		return hc_err_field(err, HC_EINVAL, "kind",
				    "argument 'kind' must be one of %s",
				    fin_import_kind_list);
	c = hc_mcp_db(call, err);
	if (!c)
		return err->status;
	rc = fin_import(c, kind, arg(args, "source") ? arg(args, "source")
						     : "upload",
			json_string_value(content), json_string_length(content),
			&opts, &res, err);
	if (rc == HC_OK)
		*out = fin_import_result_json(&res);
	fin_import_result_release(&res);
	return rc;
}

static const char *const token_groups[] = { "provider", "model", "session",
					    "day", "kind", NULL };

static const struct hc_field p_set_budget[] = {
	{ .name = "domain", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The domain (slug)." },
	{ .name = "period", .type = HC_FT_STRING, .flags = REQ, .max_len = 7,
	  .doc = "A month (2026-05), a quarter (2026-Q2) or a year (2026)." },
	{ .name = "allocated", .type = HC_FT_INT, .flags = REQ,
	  .doc = "The allocation in minor units (100000 = 1000.00 EUR)." },
	{ .name = "currency", .type = HC_FT_STRING, .max_len = 3,
	  .doc = "ISO 4217 code, e.g. EUR; required for a new budget." },
	{ .name = "warn_percent", .type = HC_FT_INT,
	  .doc = "Warn when spent reaches this percentage (default 80)." },
	{ .name = "notes", .type = HC_FT_TEXT, .max_len = 64 * 1024,
	  .doc = "Anything worth knowing." },
};
static const struct hc_field p_set_balance[] = {
	{ .name = "domain", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The domain (slug)." },
	{ .name = "balance", .type = HC_FT_INT, .flags = REQ,
	  .doc = "Cash in minor units (5000000 = 50000.00 EUR)." },
	{ .name = "currency", .type = HC_FT_STRING, .max_len = 3,
	  .doc = "ISO 4217 code; required for a new account." },
	{ .name = "as_of", .type = HC_FT_DATE, .flags = REQ,
	  .doc = "The day of the balance (YYYY-MM-DD)." },
	{ .name = "alert_threshold_months", .type = HC_FT_INT,
	  .doc = "Alert when the runway drops below this (default 6)." },
	{ .name = "notes", .type = HC_FT_TEXT, .max_len = 64 * 1024,
	  .doc = "Where the balance comes from." },
};
static const struct hc_field p_burn[] = {
	{ .name = "domain", .type = HC_FT_STRING,
	  .doc = "The domain (slug); all domains when absent." },
	{ .name = "period", .type = HC_FT_STRING, .flags = REQ, .max_len = 7,
	  .doc = "A month (2026-05), a quarter (2026-Q2) or a year (2026)." },
	{ .name = "currency", .type = HC_FT_STRING, .max_len = 3,
	  .doc = "ISO 4217 code of the figures (default: the domain's "
		 "account or budget currency)." },
};
static const struct hc_field p_runway[] = {
	{ .name = "domain", .type = HC_FT_STRING, .flags = REQ,
	  .doc = "The domain (slug); it needs an account (set_balance)." },
	{ .name = "as_of", .type = HC_FT_STRING, .max_len = 7,
	  .doc = "The first projected month, YYYY-MM (default: the month of "
		 "the account's balance)." },
	{ .name = "horizon", .type = HC_FT_INT,
	  .doc = "Months to project, 1-60 (default 12)." },
};
static const struct hc_field p_tokens[] = {
	{ .name = "by", .type = HC_FT_ENUM, .enum_values = token_groups,
	  .doc = "Group by provider, model (default), session, day or kind." },
	{ .name = "kind", .type = HC_FT_ENUM, .enum_values = fin_token_kinds,
	  .doc = "Only rows from Claude Code logs (claude_code) or from a "
		 "usage report (anthropic_usage, openai_usage): the two "
		 "describe the same requests when Claude Code runs on the "
		 "organisation's API key, so do not add them up." },
	{ .name = "provider", .type = HC_FT_STRING,
	  .doc = "Only this provider, e.g. anthropic." },
	{ .name = "model", .type = HC_FT_STRING, .doc = "Only this model." },
	{ .name = "session_id", .type = HC_FT_STRING,
	  .doc = "Only this agent session." },
	{ .name = "from", .type = HC_FT_DATE,
	  .doc = "From this day on (YYYY-MM-DD, UTC)." },
	{ .name = "to", .type = HC_FT_DATE,
	  .doc = "Up to this day, included." },
};
static const struct hc_field p_import[] = {
	{ .name = "kind", .type = HC_FT_ENUM, .flags = REQ,
	  .enum_values = fin_import_kind_names,
	  .doc = "focus, invoices (CSV), claude-code (JSONL), "
		 "anthropic-cost, openai-cost (cost reports), "
		 "anthropic-usage or openai-usage (usage reports, JSON)." },
	{ .name = "content", .type = HC_FT_TEXT, .flags = REQ,
	  .max_len = 16 * 1024 * 1024, .doc = "The file's text." },
	{ .name = "source", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "The file name, used in bad-row reports." },
	{ .name = "domain", .type = HC_FT_STRING,
	  .doc = "The domain the costs are charged to (a FOCUS x_domain or "
		 "an invoice's domain column wins)." },
	{ .name = "skip_bad", .type = HC_FT_BOOL,
	  .doc = "Store the good rows of a file that has bad ones (they are "
		 "listed); without it such a file stores nothing." },
};

#define RT(n, t, d, res, o, fl, tier)                                         \
	{ .name = n, .title = t, .description = d,                            \
	  .fn = hc_mcp_resource_tool, .resource = &(res), .op = o,            \
	  .flags = fl, .tiers = tier,                                         \
	  .scope = ((fl) & HC_MCP_READONLY) ? HC_SCOPE_READ : HC_SCOPE_WRITE }

static const struct hc_mcp_tool fin_tools[] = {
	RT("list_budgets", "List budgets",
	   "List budgets with allocated, committed and spent (minor units) "
	   "and alert_state, by domain, period, currency or alert_state.",
	   fin_budget_resource, HC_MCP_OP_LIST, RO, CORE),
	RT("get_budget", "Get a budget",
	   "One budget by id: '<domain>-<period>', e.g. custodian-2026-05.",
	   fin_budget_resource, HC_MCP_OP_GET, RO, CORE),
	{ .name = "set_budget", .title = "Set a budget",
	  .description = "Create or change the budget of a domain for a "
			 "period (month, quarter or year). Spent and "
			 "committed are derived; alerts follow.",
	  .fn = t_set_budget, .params = p_set_budget,
	  .nparams = HC_COUNT(p_set_budget), .flags = HC_MCP_IDEMPOTENT,
	  .tiers = CORE, .scope = HC_SCOPE_WRITE },
	{ .name = "record_commitment", .title = "Record a commitment",
	  .description = "Record a subscription, contract, salary or other "
			 "obligation: amount per charge in minor units, "
			 "cadence monthly/quarterly/yearly/once, start_date, "
			 "optional end_date; direction in for income.",
	  .fn = t_record_commitment, .resource = &fin_commitment_resource,
	  .op = HC_MCP_OP_CREATE, .tiers = CORE, .scope = HC_SCOPE_WRITE },
	RT("list_commitments", "List commitments",
	   "List commitments by domain, type, vendor, cadence or currency.",
	   fin_commitment_resource, HC_MCP_OP_LIST, RO, CORE),
	{ .name = "set_balance", .title = "Set a domain's cash balance",
	  .description = "Create or change the cash account of a domain "
			 "(balance at a date, alert threshold in months): "
			 "the base of its runway.",
	  .fn = t_set_balance, .params = p_set_balance,
	  .nparams = HC_COUNT(p_set_balance), .flags = HC_MCP_IDEMPOTENT,
	  .scope = HC_SCOPE_WRITE },
	{ .name = "get_burn_rate", .title = "Get the burn rate",
	  .description = "Actual costs and projected burn (commitments plus "
			 "the trailing 3-month average of variable costs) "
			 "per month of a period, for a domain or all.",
	  .fn = t_burn_rate, .params = p_burn, .nparams = HC_COUNT(p_burn),
	  .flags = RO, .tiers = CORE, .scope = HC_SCOPE_READ },
	{ .name = "get_runway", .title = "Get the runway",
	  .description = "A domain's runway: balance, monthly burn gross and "
			 "net, months remaining (or infinite), the threshold, "
			 "the trend of variable costs and a month-by-month "
			 "projection.",
	  .fn = t_runway, .params = p_runway, .nparams = HC_COUNT(p_runway),
	  .flags = RO, .tiers = CORE, .scope = HC_SCOPE_READ },
	{ .name = "get_token_spend", .title = "Get token spend",
	  .description = "AI token spend summed by provider, model, session, "
			 "day or kind, with rows, requests, tokens in, out, "
			 "cache write and read and the cost (micro-USD and "
			 "text).",
	  .fn = t_token_spend, .params = p_tokens,
	  .nparams = HC_COUNT(p_tokens), .flags = RO, .tiers = CORE,
	  .scope = HC_SCOPE_READ },
	RT("list_costs", "List cost entries",
	   "List ingested cost lines by domain, month, provider, service, "
	   "kind or currency.",
	   fin_cost_resource, HC_MCP_OP_LIST, RO, 0),
	{ .name = "import_costs", .title = "Import costs",
	  .description = "Import a cost or token file's text: FOCUS CSV, "
			 "invoices CSV, Claude Code JSONL, Anthropic or "
			 "OpenAI cost or usage report JSON. Idempotent; bad "
			 "rows are reported with their line or JSON path.",
	  .fn = t_import, .params = p_import, .nparams = HC_COUNT(p_import),
	  .flags = HC_MCP_IDEMPOTENT, .scope = HC_SCOPE_WRITE },
};

static const struct hc_mcp_tool_table fin_tool_table =
	HC_MCP_TOOL_TABLE(fin_tools);

static const struct hc_mcp_tool_table *const tool_tables[] = {
	&hc_mcp_core_tools, &hc_mcp_tpsc_tools, &fin_tool_table,
	&hc_mcp_event_tools
};

const struct hc_mcp_def finhub_mcp = {
	.tools = tool_tables,
	.ntools = HC_COUNT(tool_tables),
	.instructions =
		"fin-hub keeps the organisation's viability in view: budgets, "
		"commitments, ingested costs, burn rate, runway and AI token "
		"spend. Money is integers in minor units of an ISO 4217 "
		"currency. Start with get_domain_summary, get_runway or "
		"list_budgets; budget and runway alerts appear in get_alerts.",
};
