/*
 * hub.c - fin-hub's definition: its schema, routes and its part of the
 * domain summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "finhub/finhub.h"
#include "hubcore/auth.h"
#include "hubcore/events.h"
#include "hubcore/capabilities.h"
#include "hubcore/json.h"
#include "hubcore/rest.h"
#include "hubcore/tpsc.h"
#include "hubcore/util.h"
#include "hubcore/view.h"
#include "finhub/fin_int.h"

/* ---- writes that refresh figures and alerts -------------------------------------- */

/* POST /{budgets,commitments,accounts,rates} */
static int post_row(struct hc_req *req, struct hc_resp *resp,
		    struct hc_err *err)
{
	const struct hc_resource *r = req->route->arg;
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? fin_save(c, r, NULL, in, &out, err) : err->status;
	json_decref(in);
	return rc == HC_OK ? hc_rest_created(resp, r, out) : rc;
}

/* PATCH /{...}/{key} */
static int patch_row(struct hc_req *req, struct hc_resp *resp,
		     struct hc_err *err)
{
	const struct hc_resource *r = req->route->arg;
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int64_t expected = 0;
	int rc = hc_rest_if_match(req, &expected, err);
	if (rc == HC_OK)
		rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? fin_save_if(c, r, hc_req_param(req, "key"), in, expected,
			     &out, err)
	       : err->status;
	json_decref(in);
	if (rc != HC_OK)
		return rc;
	hc_rest_etag(resp, out);
	return hc_resp_json(resp, 200, out);
}

/* ---- imports ---------------------------------------------------------------------- */

static bool import_media_type(const char *ct)
{
	static const char *const ok[] = {
		"text/csv", "text/plain", "application/json",
		"application/x-ndjson", "application/jsonl",
		"application/octet-stream", "application/x-www-form-urlencoded",
		NULL
	};
	size_t n;
	if (!ct)
		return true;
	n = strcspn(ct, "; ");
	for (const char *const *t = ok; *t; t++)
		if (strlen(*t) == n && strncasecmp(ct, *t, n) == 0)
			return true;
	return false;
}

static int bool_arg(const struct hc_req *req, const char *name, bool *out,
		    struct hc_err *err)
{
	const char *v = hc_req_arg(req, name);
	*out = false;
	if (!v)
		return HC_OK;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || !*v)
		*out = true;
	else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
		return hc_err_field(err, HC_EPARAM, name,
				    "parameter '%s' must be true or false",
				    name);
	return HC_OK;
}

/* POST /imports/{kind}?source=NAME&domain=SLUG&skip_bad=true with the
 * file as the body. */
static int post_import(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err)
{
	static const char *const allowed[] = { "source", "domain", "skip_bad",
					       NULL };
	const char *kind_name = hc_req_param(req, "kind");
	const char *source = hc_req_arg(req, "source");
	struct fin_import_opts opts = { .domain = hc_req_arg(req, "domain") };
	struct fin_import_result res = { 0 };
	enum fin_import_kind kind;
	struct hc_conn *c;
	int rc = hc_req_only_args(req, allowed, err);
	if (rc == HC_OK)
		rc = bool_arg(req, "skip_bad", &opts.skip_bad, err);
	if (rc != HC_OK)
		return rc;
	if (!fin_import_kind_parse(kind_name, &kind))
		return hc_err_set(err, HC_ENOTFOUND,
				  "no import kind '%s'; one of: %s", kind_name,
				  fin_import_kind_list);
	if (!import_media_type(req->content_type))
		return hc_err_set(err, HC_EMEDIA,
				  "content type '%s' is not supported; send "
				  "the file as it is (text/csv, "
				  "application/json, application/x-ndjson)",
				  req->content_type);
	c = hc_req_db(req, err);
	if (!c)
		return err->status;
	rc = fin_import(c, kind, source && *source ? source : "upload",
			req->body, req->body_len, &opts, &res, err);
	if (rc == HC_EPARSE && res.nbad) {
		/* the problem lists every bad row, not only the first */
		json_t *prob = hc_problem_json(err, req->path);
		json_t *all = fin_import_result_json(&res);
		json_object_set(prob, "bad_rows",
				json_object_get(all, "bad_rows"));
		json_decref(all);
		fin_import_result_release(&res);
		hc_resp_json(resp, 422, prob);
		resp->content_type = "application/problem+json";
		return HC_OK;
	}
	if (rc == HC_OK)
		rc = hc_resp_json(resp, res.created ? 201 : 200,
				  fin_import_result_json(&res));
	fin_import_result_release(&res);
	return rc;
}

/* ---- views ------------------------------------------------------------------------ */

static int get_burn_rate(struct hc_req *req, struct hc_resp *resp,
			 struct hc_err *err)
{
	static const char *const allowed[] = { "domain", "period", "currency",
					       NULL };
	json_t *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_only_args(req, allowed, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? fin_burn_rate(c, hc_req_arg(req, "domain"),
			       hc_req_arg(req, "period"),
			       hc_req_arg(req, "currency"), &out, err)
	       : err->status;
	if (rc == HC_EINVAL && err->field[0])
		err->status = rc = HC_EPARAM;
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* "as_of" (YYYY-MM) and "horizon" (1-60) of a runway request. */
static int runway_args(const char *as_of, const char *horizon,
		       fin_month *first, int *months, struct hc_err *err)
{
	*first = 0;
	*months = 12;
	if (as_of && (strlen(as_of) != 7 || !fin_month_parse(as_of, first)))
		return hc_err_field(err, HC_EPARAM, "as_of",
				    "'as_of' must be a month, YYYY-MM");
	if (horizon) {
		char *end;
		long h = strtol(horizon, &end, 10);
		if (!*horizon || *end || h < 1 || h > FIN_HORIZON_MAX)
			return hc_err_field(err, HC_EPARAM, "horizon",
					    "'horizon' must be 1 to %d months",
					    FIN_HORIZON_MAX);
		*months = (int)h;
	}
	return HC_OK;
}

static int get_runway(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	static const char *const allowed[] = { "as_of", "horizon", NULL };
	json_t *out = NULL;
	struct hc_conn *c;
	fin_month first;
	int months;
	int rc = hc_req_only_args(req, allowed, err);
	if (rc == HC_OK)
		rc = runway_args(hc_req_arg(req, "as_of"),
				     hc_req_arg(req, "horizon"), &first,
				     &months, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? fin_runway_get(c, hc_req_param(req, "key"), first, months,
				&out, err)
	       : err->status;
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

static int get_token_summary(struct hc_req *req, struct hc_resp *resp,
			     struct hc_err *err)
{
	static const char *const allowed[] = { "by",	     "kind",
					       "provider",   "model",
					       "session_id", "from",
					       "to",	     NULL };
	struct fin_token_filter f = {
		.kind = hc_req_arg(req, "kind"),
		.provider = hc_req_arg(req, "provider"),
		.model = hc_req_arg(req, "model"),
		.session_id = hc_req_arg(req, "session_id"),
		.from = hc_req_arg(req, "from"),
		.to = hc_req_arg(req, "to"),
	};
	json_t *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_only_args(req, allowed, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? fin_token_summary(c, hc_req_arg(req, "by"), &f, &out, err)
	       : err->status;
	if (rc == HC_EINVAL)
		err->status = rc = HC_EPARAM;
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

static int get_prices(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	int rc = hc_req_only_args(req, NULL, err);
	if (rc != HC_OK)
		return rc;
	return hc_resp_json(resp, 200, fin_price_tables_json());
}

/* ---- summary ---------------------------------------------------------------------- */

static int fin_summary(struct hc_conn *c, const char *domain, json_t *summary,
		       struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(domain) };
	struct hc_list_query q = { .limit = 12,
				   .where_sql = "domain = ?",
				   .where_params = p,
				   .where_nparams = 1 };
	json_t *states = NULL, *page = NULL, *acc = NULL, *items, *b;
	struct hc_err e2 = { 0 };
	size_t i;
	int rc = hc_res_count_by(c, &fin_budget_resource, "alert_state",
				 "domain = ?", p, 1, &states, err);
	if (rc == HC_OK)
		rc = hc_res_list(c, &fin_budget_resource, &q, &page, err);
	if (rc != HC_OK) {
		json_decref(states);
		return rc;
	}
	items = json_array();
	json_array_foreach(json_object_get(page, "items"), i, b)
	{
		json_array_append_new(
			items,
			json_pack("{sOsOsOsOsOsO}", "id",
				  json_object_get(b, "id"), "period",
				  json_object_get(b, "period"), "currency",
				  json_object_get(b, "currency"), "allocated",
				  json_object_get(b, "allocated"), "spent",
				  json_object_get(b, "spent"), "alert_state",
				  json_object_get(b, "alert_state")));
	}
	json_decref(page);
	json_object_set_new(summary, "budgets",
			    json_pack("{soso}", "by_alert_state", states,
				      "items", items));
	rc = hc_res_get_plain(c, &fin_account_resource, domain, &acc, &e2);
	if (rc == HC_OK)
		json_object_set_new(
			summary, "account",
			json_pack("{sOsOsOsO}", "balance",
				  json_object_get(acc, "balance"), "currency",
				  json_object_get(acc, "currency"), "as_of",
				  json_object_get(acc, "as_of"),
				  "runway_state",
				  json_object_get(acc, "runway_state")));
	json_decref(acc);
	if (rc == HC_ENOTFOUND)
		rc = HC_OK;
	else if (rc != HC_OK)
		*err = e2;
	return rc;
}

/* ---- tables ------------------------------------------------------------------------- */

#define FIN_CRUD(res, plural, what)                                          \
	HC_ROUTES_READ(res, plural, what),                                   \
	{ "POST", "/" plural, post_row, &(res), HC_SCOPE_WRITE, 0,           \
	  "Create one of the " what " (derived figures and alerts are "     \
	  "refreshed)" },                                                    \
	{ "PATCH", "/" plural "/{key}", patch_row, &(res), HC_SCOPE_WRITE,   \
	  0, "Update one of the " what " (derived figures and alerts are "  \
	     "refreshed)" }

static const struct hc_route fin_routes[] = {
	FIN_CRUD(fin_budget_resource, "budgets", "budgets"),
	FIN_CRUD(fin_commitment_resource, "commitments", "commitments"),
	FIN_CRUD(fin_account_resource, "accounts", "cash accounts"),
	FIN_CRUD(fin_rate_resource, "rates", "exchange rates"),
	HC_ROUTES_READ(fin_cost_resource, "costs", "cost entries"),
	{ "GET", "/token-spend/summary", get_token_summary, NULL,
	  HC_SCOPE_READ, HC_ROUTE_READONLY,
	  "Token spend summed by provider, model, session, day or kind" },
	HC_ROUTES_READ(fin_token_resource, "token-spend", "token spend rows"),
	{ "POST", "/imports/{kind}", post_import, NULL, HC_SCOPE_WRITE,
	  HC_ROUTE_RAW_BODY,
	  "Import a cost or token file (FOCUS, invoices, Claude Code, "
	  "Anthropic or OpenAI cost or usage report) sent as the body" },
	{ "GET", "/burn-rate", get_burn_rate, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY,
	  "Actual and projected burn of a domain over a period" },
	{ "GET", "/runway/{key}", get_runway, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY,
	  "The runway of a domain: months remaining and a month-by-month "
	  "projection" },
	{ "GET", "/prices", get_prices, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY, "The token price tables and their versions" },
	/* the page is /runway exactly; the JSON stays at /runway/{key} */
	HC_VIEW_ROUTE("/runway", fin_runway_page,
		      "The runway page for people: balance, burn and runway "
		      "with the projection, budgets, token spend "
		      "(?domain=SLUG for one domain)"),
};

static const struct hc_route_table fin_route_table =
	HC_ROUTE_TABLE(fin_routes);

static const struct hc_route_table *const routes[] = {
	&hc_core_routes, &fin_route_table, &hc_event_routes, &hc_mcp_routes,
	&hc_auth_routes, &hc_view_routes
};

static const struct hc_resource *const fin_v1[] = {
	&fin_budget_resource, &fin_commitment_resource, &fin_account_resource,
	&fin_rate_resource,   &fin_cost_resource,	&fin_token_resource,
	NULL
};

static const struct hc_resource *const fin_v2[] = { &fin_token_resource,
						    NULL };

static const struct hc_migration fin_steps[] = {
	{ .version = 1,
	  .name = "budgets, commitments, accounts, rates, costs, token spend",
	  .resources = fin_v1 },
	{ .version = 2,
	  .name = "token spend: kind, requests, period_end, extra",
	  .resources = fin_v2 },
	{ .version = 3,
	  .name = "token spend before usage reports: Claude Code requests",
	  .sql = "UPDATE fin_token_spend SET kind = 'claude_code', "
		 "requests = 1, extra = '{}' WHERE kind IS NULL" },
};

static const struct hc_migration_set fin_migrations = {
	.component = "fin",
	.steps = fin_steps,
	.count = HC_COUNT(fin_steps),
};

static const struct hc_migration_set *const migrations[] = {
	&hc_core_migrations, &fin_migrations, &hc_event_migrations
};

static const struct hc_resource *const resources[] = {
	&hc_domain_resource,	       &hc_repo_resource,
	&hc_message_resource,	       &hc_progress_resource,
	&hc_capability_resource,       &hc_capreq_resource,
	&hc_capreq_transition_resource, &hc_tpsc_service_resource,
	&fin_budget_resource,	       &fin_commitment_resource,
	&fin_account_resource,	       &fin_rate_resource,
	&fin_cost_resource,	       &fin_token_resource,
};

static hc_summary_fn *const summary_parts[] = { fin_summary };

static const struct hc_event_def fin_events = { NULL, 0 };

const struct hc_hub_def finhub_def = {
	.name = "fin-hub",
	.short_name = "fin",
	.description = "Resource viability: budgets, commitments, costs, "
		       "burn, runway and token spend",
	.default_listen = "127.0.0.1:8003",
	.default_db = "sqlite:var/fin-hub.db",
	.migrations = migrations,
	.nmigrations = HC_COUNT(migrations),
	.routes = routes,
	.nroutes = HC_COUNT(routes),
	.resources = resources,
	.nresources = HC_COUNT(resources),
	.summary_parts = summary_parts,
	.nsummary_parts = HC_COUNT(summary_parts),
	.mcp = &finhub_mcp,
	/* fin-hub emits; it applies only hub-core's own events */
	.events = &fin_events,
};
