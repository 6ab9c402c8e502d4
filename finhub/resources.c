/*
 * resources.c - fin-hub's resources as data: budgets, commitments, cash
 * accounts, exchange rates, cost entries and token spend, with the hooks
 * that check what spans fields (periods, currencies, amounts) and make the
 * readable ids (a budget is "<domain>-<period>", an account is its domain,
 * a rate "<FROM>-<TO>").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finhub/finhub.h"
#include "hubcore/json.h"

static const char *const budget_states[] = { "ok", "warning", "exceeded",
					     NULL };
static const char *const commitment_types[] = { "subscription", "contract",
						"salary", "other", NULL };
static const char *const cadences[] = { "monthly", "quarterly", "yearly",
					"once", NULL };
static const char *const directions[] = { "out", "in", NULL };
static const char *const runway_states[] = { "ok", "below_threshold", NULL };
static const char *const cost_kinds[] = { "focus", "invoice",
					  "anthropic_cost", "openai_cost",
					  NULL };
const char *const fin_token_kinds[] = { "claude_code", "anthropic_usage",
				       "openai_usage", NULL };

/* ---- shared checks ---------------------------------------------------------- */

static int need_min(const json_t *obj, const char *field, int64_t min,
		    int64_t max, struct hc_err *err)
{
	json_t *v = json_object_get(obj, field);
	if (!json_is_integer(v))
		return HC_OK;
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return hc_err_field(err, HC_EINVAL, field,
				    "field '%s' must be between %lld and %lld",
				    field, (long long)min, (long long)max);
	return HC_OK;
}

/* The slug of the domain obj names (by id or slug), malloc'd. */
static int domain_slug(struct hc_conn *c, const json_t *obj, char **out,
		       struct hc_err *err)
{
	const char *d = hc_json_str(obj, "domain");
	if (!d)
		return hc_err_field(err, HC_EINVAL, "domain",
				    "missing required field 'domain'");
	if (hc_res_resolve(c, &hc_domain_resource, d, "slug", out, err) ==
	    HC_OK)
		return HC_OK;
	return hc_err_field(err, HC_EINVAL, "domain",
			    "field 'domain': no domain '%s'", d);
}

/* On create, a client-chosen id must be the one the hub would make. */
static int same_id(const json_t *obj, const char *want, struct hc_err *err)
{
	const char *id = hc_json_str(obj, "id");
	if (id && strcmp(id, want) != 0)
		return hc_err_field(err, HC_EINVAL, "id",
				    "id '%s' must be '%s' (made from the "
				    "row's fields); leave it out",
				    id, want);
	return HC_OK;
}

static int put_id(char *out, size_t size, struct hc_err *err, const char *a,
		  const char *b)
{
	if ((size_t)snprintf(out, size, "%s%s%s", a, b ? "-" : "",
			     b ? b : "") >= size)
		return hc_err_field(err, HC_EINVAL, "id", "id too long");
	return HC_OK;
}

/* ---- budgets ------------------------------------------------------------------ */

static int budget_key(struct hc_conn *c, const json_t *obj, char *out,
		      size_t size, struct hc_err *err)
{
	char period[16], *slug = NULL;
	const char *p = hc_json_str(obj, "period");
	fin_month a, b;
	int rc;
	if (!p || strlen(p) >= sizeof(period))
		return hc_err_field(err, HC_EINVAL, "period",
				    "missing or malformed field 'period'");
	strcpy(period, p);
	if (!fin_period_parse(period, &a, &b))
		return hc_err_field(err, HC_EINVAL, "period",
				    "field 'period' must be a month "
				    "(2026-05), a quarter (2026-Q2) or a year "
				    "(2026), not '%s'",
				    p);
	rc = domain_slug(c, obj, &slug, err);
	if (rc == HC_OK)
		rc = put_id(out, size, err, slug, period);
	free(slug);
	return rc;
}

static int budget_make_id(struct hc_conn *c, const struct hc_resource *r,
			  const json_t *obj, char *out, size_t out_size,
			  struct hc_err *err)
{
	return budget_key(c, obj, out, out_size, err);
}

static int budget_prepare(struct hc_conn *c, const struct hc_resource *r,
			  enum hc_write_mode mode, json_t *obj,
			  const json_t *old, struct hc_err *err)
{
	char period[16], id[128];
	const char *p = hc_json_str(obj, "period");
	fin_month a, b;
	int rc;
	if (p && strlen(p) < sizeof(period)) {
		strcpy(period, p);
		if (fin_period_parse(period, &a, &b) && strcmp(period, p))
			hc_json_set_str(obj, "period", period);
	}
	if (mode == HC_WRITE_CREATE) {
		rc = budget_key(c, obj, id, sizeof(id), err);
		if (rc == HC_OK)
			rc = same_id(obj, id, err);
		if (rc != HC_OK)
			return rc;
	}
	rc = fin_check_currency(obj, "currency", err);
	if (rc == HC_OK)
		rc = need_min(obj, "allocated", 0, INT64_MAX / 1000, err);
	if (rc == HC_OK)
		rc = need_min(obj, "warn_percent", 1, 100, err);
	return rc;
}

static const struct hc_field budget_fields[] = {
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The domain the budget is for." },
	{ .name = "period", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE, .max_len = 7,
	  .doc = "A month (2026-05), a quarter (2026-Q2) or a year (2026)." },
	{ .name = "allocated", .type = HC_FT_INT, .flags = HC_F_REQUIRED,
	  .doc = "The allocation, in minor units of the currency (cents)." },
	{ .name = "currency", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 3,
	  .doc = "ISO 4217 code of the allocation, e.g. EUR." },
	{ .name = "warn_percent", .type = HC_FT_INT, .default_value = "80",
	  .doc = "A warning alert is raised when spent reaches this percentage "
		 "of the allocation (1-100, default 80)." },
	{ .name = "committed", .type = HC_FT_INT, .flags = HC_F_READONLY,
	  .default_value = "0",
	  .doc = "Derived: the commitments' charges falling in the period, in "
		 "minor units of the budget's currency." },
	{ .name = "spent", .type = HC_FT_INT, .flags = HC_F_READONLY,
	  .default_value = "0",
	  .doc = "Derived: the domain's cost entries dated in the period, in "
		 "minor units of the budget's currency." },
	{ .name = "alert_state", .type = HC_FT_ENUM,
	  .flags = HC_F_READONLY | HC_F_FILTER, .enum_values = budget_states,
	  .default_value = "ok",
	  .doc = "Derived: ok, warning (spent reached warn_percent) or "
		 "exceeded (spent passed the allocation)." },
	{ .name = "notes", .type = HC_FT_TEXT, .max_len = 64 * 1024,
	  .doc = "Anything worth knowing about the budget." },
};

static const char *const budget_key_fields[] = { "domain", "period", NULL };
static const struct hc_unique budget_uniques[] = { { .fields =
							     budget_key_fields } };

const struct hc_resource fin_budget_resource = {
	.name = "budget",
	.plural = "budgets",
	.table = "fin_budgets",
	.doc = "What a domain may spend in a period, with what it has "
	       "committed and spent.",
	.id_policy = HC_ID_HOOK,
	.id_max_len = 80,
	.fields = budget_fields,
	.nfields = HC_COUNT(budget_fields),
	.uniques = budget_uniques,
	.nuniques = HC_COUNT(budget_uniques),
	.hooks = { .prepare = budget_prepare, .make_id = budget_make_id },
};

/* ---- commitments --------------------------------------------------------------------- */

static int commitment_prepare(struct hc_conn *c, const struct hc_resource *r,
			      enum hc_write_mode mode, json_t *obj,
			      const json_t *old, struct hc_err *err)
{
	const char *s = hc_json_str(obj, "start_date");
	const char *e = hc_json_str(obj, "end_date");
	int rc = fin_check_currency(obj, "currency", err);
	if (rc == HC_OK)
		rc = need_min(obj, "amount", 0, INT64_MAX / 1000, err);
	if (rc == HC_OK && s && e && strcmp(e, s) < 0)
		rc = hc_err_field(err, HC_EINVAL, "end_date",
				  "field 'end_date' (%s) is before "
				  "'start_date' (%s)",
				  e, s);
	return rc;
}

static const struct hc_field commitment_fields[] = {
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The domain the commitment belongs to." },
	{ .name = "type", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .enum_values = commitment_types,
	  .doc = "subscription, contract, salary or other." },
	{ .name = "direction", .type = HC_FT_ENUM, .flags = HC_F_FILTER,
	  .enum_values = directions, .default_value = "out",
	  .doc = "out (money paid, the default) or in (money received, e.g. a "
		 "customer contract: it lowers the net burn)." },
	{ .name = "vendor", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .doc = "Who is paid (or pays), e.g. HostEurope." },
	{ .name = "service", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .doc = "The service it pays for, e.g. the rented server's name." },
	{ .name = "description", .type = HC_FT_TEXT, .max_len = 64 * 1024,
	  .doc = "What it is." },
	{ .name = "amount", .type = HC_FT_INT, .flags = HC_F_REQUIRED,
	  .doc = "Each charge, in minor units of the currency (4990 = 49.90)." },
	{ .name = "currency", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 3,
	  .doc = "ISO 4217 code, e.g. EUR." },
	{ .name = "cadence", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = cadences,
	  .doc = "monthly, quarterly, yearly (charged in the start month and "
		 "every 3 or 12 months after) or once (in the start month)." },
	{ .name = "start_date", .type = HC_FT_DATE, .flags = HC_F_REQUIRED,
	  .doc = "The first day it runs; the first charge is in its month." },
	{ .name = "end_date", .type = HC_FT_DATE,
	  .doc = "The last day it runs (no charge after its month); none = "
		 "open-ended." },
};

const struct hc_resource fin_commitment_resource = {
	.name = "commitment",
	.plural = "commitments",
	.table = "fin_commitments",
	.doc = "A recurring or one-off obligation: subscription, contract, "
	       "salary.",
	.id_policy = HC_ID_UUID,
	.fields = commitment_fields,
	.nfields = HC_COUNT(commitment_fields),
	.hooks = { .prepare = commitment_prepare },
};

/* ---- accounts ------------------------------------------------------------------------- */

static int account_make_id(struct hc_conn *c, const struct hc_resource *r,
			   const json_t *obj, char *out, size_t out_size,
			   struct hc_err *err)
{
	char *slug = NULL;
	int rc = domain_slug(c, obj, &slug, err);
	if (rc == HC_OK)
		rc = put_id(out, out_size, err, slug, NULL);
	free(slug);
	return rc;
}

static int account_prepare(struct hc_conn *c, const struct hc_resource *r,
			   enum hc_write_mode mode, json_t *obj,
			   const json_t *old, struct hc_err *err)
{
	int rc = HC_OK;
	if (mode == HC_WRITE_CREATE) {
		char id[128];
		rc = account_make_id(c, r, obj, id, sizeof(id), err);
		if (rc == HC_OK)
			rc = same_id(obj, id, err);
	}
	if (rc == HC_OK)
		rc = fin_check_currency(obj, "currency", err);
	if (rc == HC_OK)
		rc = need_min(obj, "balance", -(INT64_MAX / 1000),
			      INT64_MAX / 1000, err);
	if (rc == HC_OK)
		rc = need_min(obj, "alert_threshold_months", 0, 120, err);
	return rc;
}

static const struct hc_field account_fields[] = {
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE |
		   HC_F_UNIQUE,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The domain whose cash this is (one account per domain)." },
	{ .name = "balance", .type = HC_FT_INT, .flags = HC_F_REQUIRED,
	  .doc = "Cash at as_of, in minor units of the currency." },
	{ .name = "currency", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 3,
	  .doc = "ISO 4217 code; the runway is computed in it." },
	{ .name = "as_of", .type = HC_FT_DATE, .flags = HC_F_REQUIRED,
	  .doc = "The day of the balance; the runway projects from its "
		 "month." },
	{ .name = "alert_threshold_months", .type = HC_FT_INT,
	  .default_value = "6",
	  .doc = "A runway alert is raised when months remaining drop below "
		 "this (0-120, default 6)." },
	{ .name = "runway_state", .type = HC_FT_ENUM,
	  .flags = HC_F_READONLY | HC_F_FILTER, .enum_values = runway_states,
	  .default_value = "ok",
	  .doc = "Derived: ok or below_threshold." },
	{ .name = "notes", .type = HC_FT_TEXT, .max_len = 64 * 1024,
	  .doc = "Where the balance comes from." },
};

const struct hc_resource fin_account_resource = {
	.name = "account",
	.plural = "accounts",
	.table = "fin_accounts",
	.doc = "The cash position of a domain, the base of its runway.",
	.id_policy = HC_ID_HOOK,
	.id_max_len = 80,
	.fields = account_fields,
	.nfields = HC_COUNT(account_fields),
	.hooks = { .prepare = account_prepare, .make_id = account_make_id },
};

/* ---- rates ---------------------------------------------------------------------------- */

static int rate_make_id(struct hc_conn *c, const struct hc_resource *r,
			const json_t *obj, char *out, size_t out_size,
			struct hc_err *err)
{
	json_t *tmp = json_deep_copy(obj);
	int rc = fin_check_currency(tmp, "from_currency", err);
	if (rc == HC_OK)
		rc = fin_check_currency(tmp, "to_currency", err);
	if (rc == HC_OK && (!hc_json_str(tmp, "from_currency") ||
			    !hc_json_str(tmp, "to_currency")))
		rc = hc_err_field(err, HC_EINVAL, "from_currency",
				  "fields 'from_currency' and 'to_currency' "
				  "are required");
	if (rc == HC_OK)
		rc = put_id(out, out_size, err,
			    hc_json_str(tmp, "from_currency"),
			    hc_json_str(tmp, "to_currency"));
	json_decref(tmp);
	return rc;
}

static int rate_prepare(struct hc_conn *c, const struct hc_resource *r,
			enum hc_write_mode mode, json_t *obj,
			const json_t *old, struct hc_err *err)
{
	const char *rate = hc_json_str(obj, "rate");
	int64_t nano = 0;
	int rc = fin_check_currency(obj, "from_currency", err);
	if (rc == HC_OK)
		rc = fin_check_currency(obj, "to_currency", err);
	if (rc != HC_OK)
		return rc;
	if (mode == HC_WRITE_CREATE) {
		char id[32];
		rc = rate_make_id(c, r, obj, id, sizeof(id), err);
		if (rc == HC_OK)
			rc = same_id(obj, id, err);
		if (rc != HC_OK)
			return rc;
	}
	if (strcmp(hc_json_str(obj, "from_currency"),
		   hc_json_str(obj, "to_currency")) == 0)
		return hc_err_field(err, HC_EINVAL, "to_currency",
				    "a rate converts between two different "
				    "currencies");
	if (rate && (fin_decimal_parse(rate, strlen(rate), 9, FIN_EXACT,
				       &nano) != FIN_DEC_OK ||
		     nano <= 0))
		return hc_err_field(err, HC_EINVAL, "rate",
				    "field 'rate' must be a positive decimal "
				    "number with at most 9 decimals, such as "
				    "\"0.92\", not '%s'",
				    rate);
	return HC_OK;
}

static const struct hc_field rate_fields[] = {
	{ .name = "from_currency", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE, .max_len = 3,
	  .doc = "The currency converted from, e.g. USD." },
	{ .name = "to_currency", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE, .max_len = 3,
	  .doc = "The currency converted to, e.g. EUR." },
	{ .name = "rate", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 40,
	  .doc = "One unit of from_currency in to_currency, as a decimal "
		 "string (\"0.92\"), at most 9 decimals." },
	{ .name = "as_of", .type = HC_FT_DATE,
	  .doc = "When the rate was taken." },
	{ .name = "source", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "Where the rate comes from (e.g. the ECB reference rate)." },
};

static const char *const rate_key_fields[] = { "from_currency",
					       "to_currency", NULL };
static const struct hc_unique rate_uniques[] = { { .fields =
							   rate_key_fields } };

const struct hc_resource fin_rate_resource = {
	.name = "rate",
	.plural = "rates",
	.table = "fin_rates",
	.doc = "A configured exchange rate; amounts in two currencies are "
	       "only added up through one.",
	.id_policy = HC_ID_HOOK,
	.id_max_len = 16,
	.fields = rate_fields,
	.nfields = HC_COUNT(rate_fields),
	.uniques = rate_uniques,
	.nuniques = HC_COUNT(rate_uniques),
	.hooks = { .prepare = rate_prepare, .make_id = rate_make_id },
};

/* ---- cost entries ------------------------------------------------------------------------ */

static int cost_prepare(struct hc_conn *c, const struct hc_resource *r,
			enum hc_write_mode mode, json_t *obj,
			const json_t *old, struct hc_err *err)
{
	const char *date = hc_json_str(obj, "date");
	int rc = fin_check_currency(obj, "currency", err);
	if (rc == HC_OK && date) {
		char month[8];
		snprintf(month, sizeof(month), "%.7s", date);
		rc = hc_json_set_str(obj, "month", month);
	}
	return rc;
}

static const struct hc_field cost_fields[] = {
	{ .name = "dedup_key", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_UNIQUE | HC_F_IMMUTABLE,
	  .max_len = 200,
	  .doc = "Stable key of the line: importing it again finds it." },
	{ .name = "kind", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .enum_values = cost_kinds,
	  .doc = "The import format: focus, invoice, anthropic_cost or "
		 "openai_cost." },
	{ .name = "source_file", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 1000, .doc = "The file the line was imported from." },
	{ .name = "source_line", .type = HC_FT_INT,
	  .doc = "Its line in that file (0 in a JSON report)." },
	{ .name = "date", .type = HC_FT_DATE,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .doc = "The day the cost was incurred (UTC)." },
	{ .name = "month", .type = HC_FT_STRING,
	  .flags = HC_F_READONLY | HC_F_FILTER, .max_len = 7,
	  .doc = "Derived: YYYY-MM of date." },
	{ .name = "period_start", .type = HC_FT_DATETIME,
	  .doc = "Start of the charge period (FOCUS ChargePeriodStart)." },
	{ .name = "period_end", .type = HC_FT_DATETIME,
	  .doc = "End of the charge period, exclusive." },
	{ .name = "provider", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .doc = "Who charged it: the FOCUS ProviderName, the invoice's "
		 "vendor." },
	{ .name = "service", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 300, .doc = "The service charged for." },
	{ .name = "description", .type = HC_FT_TEXT, .max_len = 4096,
	  .doc = "The line's description." },
	{ .name = "charge_category", .type = HC_FT_STRING,
	  .flags = HC_F_FILTER, .max_len = 40,
	  .doc = "FOCUS ChargeCategory: Usage, Purchase, Tax, Credit or "
		 "Adjustment." },
	{ .name = "amount", .type = HC_FT_INT, .flags = HC_F_REQUIRED,
	  .doc = "What was billed, in minor units (negative for a credit)." },
	{ .name = "effective_amount", .type = HC_FT_INT,
	  .doc = "FOCUS EffectiveCost (amortized), in minor units." },
	{ .name = "amount_raw", .type = HC_FT_STRING, .max_len = 64,
	  .doc = "The amount exactly as the source wrote it." },
	{ .name = "currency", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 3,
	  .doc = "ISO 4217 code of amount." },
	{ .name = "domain", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The domain the cost is charged to (its budgets count it)." },
	{ .name = "commitment", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &fin_commitment_resource, .ref_field = "id",
	  .doc = "The commitment the line pays, if any: such costs are not "
		 "variable costs in the runway." },
	{ .name = "extra", .type = HC_FT_JSON, .json_kind = HC_JSON_OBJECT,
	  .default_value = "{}",
	  .doc = "The source's other columns by name, x_ custom columns "
		 "included." },
};

const struct hc_resource fin_cost_resource = {
	.name = "cost",
	.plural = "costs",
	.table = "fin_costs",
	.doc = "One ingested cost line, with its source file, line and dedup "
	       "key.",
	.id_policy = HC_ID_UUID,
	.fields = cost_fields,
	.nfields = HC_COUNT(cost_fields),
	.hooks = { .prepare = cost_prepare },
};

/* ---- token spend -------------------------------------------------------------------------- */

static int token_prepare(struct hc_conn *c, const struct hc_resource *r,
			 enum hc_write_mode mode, json_t *obj,
			 const json_t *old, struct hc_err *err)
{
	const char *ts = hc_json_str(obj, "timestamp");
	char utc[32], day[11];
	int rc = fin_check_currency(obj, "currency", err);
	if (rc != HC_OK || !ts)
		return rc;
	if (!fin_datetime_utc(ts, strlen(ts), utc, sizeof(utc)))
		return hc_err_field(err, HC_EINVAL, "timestamp",
				    "field 'timestamp' is not a date-time");
	snprintf(day, sizeof(day), "%.10s", utc);
	return hc_json_set_str(obj, "day", day);
}

static const struct hc_field token_fields[] = {
	{ .name = "dedup_key", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_UNIQUE | HC_F_IMMUTABLE,
	  .max_len = 300,
	  .doc = "Stable key: message id + request id for Claude Code; bucket "
		 "start, grouping keys and model for a usage report." },
	{ .name = "kind", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = fin_token_kinds,
	  .since = 2,
	  .doc = "Where the row comes from: claude_code (one request of a "
		 "session log), anthropic_usage or openai_usage (one result "
		 "of a usage report's time bucket)." },
	{ .name = "provider", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 40,
	  .doc = "anthropic, openai, ..." },
	{ .name = "model", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 100,
	  .doc = "The model id as logged." },
	{ .name = "session_id", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100, .doc = "The agent session (Claude Code sessionId)." },
	{ .name = "timestamp", .type = HC_FT_DATETIME, .flags = HC_F_REQUIRED,
	  .doc = "When the request was made; the start of a usage report's "
		 "time bucket." },
	{ .name = "period_end", .type = HC_FT_DATETIME, .since = 2,
	  .doc = "The end of a usage report's time bucket (exclusive)." },
	{ .name = "requests", .type = HC_FT_INT, .since = 2,
	  .doc = "Model requests the row counts: 1 for Claude Code, the "
		 "bucket's num_model_requests for OpenAI; null when the "
		 "source does not say (Anthropic's usage report)." },
	{ .name = "day", .type = HC_FT_DATE,
	  .flags = HC_F_READONLY | HC_F_FILTER,
	  .doc = "Derived: the UTC day of timestamp." },
	{ .name = "tokens_in", .type = HC_FT_INT, .default_value = "0",
	  .doc = "Input tokens neither written to nor read from the cache." },
	{ .name = "tokens_out", .type = HC_FT_INT, .default_value = "0",
	  .doc = "Output tokens." },
	{ .name = "cache_write", .type = HC_FT_INT, .default_value = "0",
	  .doc = "Tokens written to the prompt cache." },
	{ .name = "cache_read", .type = HC_FT_INT, .default_value = "0",
	  .doc = "Tokens read from the prompt cache." },
	{ .name = "cost_micros", .type = HC_FT_INT, .flags = HC_F_REQUIRED,
	  .doc = "The cost in micro-units of currency (1000000 = 1 USD), from "
		 "the price table." },
	{ .name = "currency", .type = HC_FT_STRING, .default_value = "USD",
	  .max_len = 3, .doc = "ISO 4217 code of the cost." },
	{ .name = "price_version", .type = HC_FT_STRING, .max_len = 40,
	  .doc = "The version of the price table used." },
	{ .name = "sidechain", .type = HC_FT_BOOL, .flags = HC_F_FILTER,
	  .default_value = "false",
	  .doc = "A sub-agent's request (Claude Code isSidechain)." },
	{ .name = "source_file", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "The file the line was imported from." },
	{ .name = "source_line", .type = HC_FT_INT,
	  .doc = "Its line in that file." },
	{ .name = "extra", .type = HC_FT_JSON, .json_kind = HC_JSON_OBJECT,
	  .default_value = "{}", .since = 2,
	  .doc = "A usage report result's other members by name: workspace, "
		 "API key, project, service tier, server tool use, ..." },
};

const struct hc_resource fin_token_resource = {
	.name = "token spend",
	.plural = "token-spend",
	.table = "fin_token_spend",
	.doc = "What one model request of an AI agent cost, in tokens and "
	       "money.",
	.id_policy = HC_ID_UUID,
	.fields = token_fields,
	.nfields = HC_COUNT(token_fields),
	.hooks = { .prepare = token_prepare },
};
