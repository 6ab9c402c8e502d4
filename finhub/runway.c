/*
 * runway.c - burn and runway: the pure month-by-month arithmetic, and the
 * queries that feed it from a domain's account, commitments and costs.
 *
 * The method (docs/fin-hub.md has it with a worked example):
 * - variable costs are cost entries that pay no commitment; their monthly
 *   average is taken over the 3 months before the first projected month
 *   (fewer when the domain's first variable cost is more recent), rounded
 *   half to even; the trend compares the latest of those months with the
 *   oldest;
 * - each projected month burns what the commitments charge in it (by
 *   cadence, start and end) plus that average: gross = out + variable,
 *   net = gross - what income commitments bring;
 * - months remaining = balance / net burn of the first month, infinite when
 *   that net burn is <= 0; below the threshold when balance < threshold *
 *   net burn (exact, in integers).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finhub/fin_int.h"
#include "hubcore/json.h"

void fin_runway_compute(struct fin_runway *r)
{
	int n = r->history_months;
	int64_t sum = 0, bal = r->balance;
	if (n < 0)
		n = 0;
	if (n > 3)
		n = 3;
	for (int i = 3 - n; i < 3; i++)
		sum += r->history[i];
	r->variable_avg = n ? fin_div_half_even(sum, n) : 0;
	if (n >= 2) {
		int64_t d = r->history[2] - r->history[3 - n];
		r->trend = d > 0 ? 1 : d < 0 ? -1 : 0;
		r->trend_per_month = fin_div_half_even(d, n - 1);
	} else {
		r->trend = 0;
		r->trend_per_month = 0;
	}
	if (r->horizon < 1)
		r->horizon = 1;
	if (r->horizon > FIN_HORIZON_MAX)
		r->horizon = FIN_HORIZON_MAX;
	r->cash_out = -1;
	for (int i = 0; i < r->horizon; i++) {
		struct fin_runway_month *m = &r->months[i];
		m->variable = r->variable_avg;
		m->gross = m->commitments_out + m->variable;
		m->net = m->gross - m->commitments_in;
		bal -= m->net;
		m->balance_end = bal;
		if (bal < 0 && r->cash_out < 0)
			r->cash_out = i;
	}
	r->gross = r->months[0].gross;
	r->net = r->months[0].net;
	r->infinite = r->net <= 0;
	if (r->infinite) {
		r->months_tenths = 0;
		r->below_threshold = false;
	} else {
		int64_t b = r->balance > 0 ? r->balance : 0;
		r->months_tenths = (int64_t)(((__int128)b * 10) / r->net);
		r->below_threshold = (__int128)r->balance <
				     (__int128)r->threshold_months * r->net;
	}
}

/* ---- feeding it ------------------------------------------------------------------- */

int fin__costs_sum(struct hc_conn *c, const char *domain, fin_month first,
		   fin_month last, bool variable_only, const char *currency,
		   int64_t *out, struct hc_err *err)
{
	static const char all_sql[] =
		"SELECT currency, SUM(amount) FROM fin_costs WHERE (CAST(? AS TEXT) IS NULL "
		"OR domain = ?) AND month >= ? AND month <= ? GROUP BY "
		"currency ORDER BY currency";
	static const char var_sql[] =
		"SELECT currency, SUM(amount) FROM fin_costs WHERE (CAST(? AS TEXT) IS NULL "
		"OR domain = ?) AND month >= ? AND month <= ? AND commitment "
		"IS NULL GROUP BY currency ORDER BY currency";
	char a[8], b[8];
	struct hc_value p[4];
	struct hc_stmt *st = NULL;
	int64_t total = 0;
	int rc;

	fin_month_format(first, a, sizeof(a));
	fin_month_format(last, b, sizeof(b));
	p[0] = hc_vtext(domain);
	p[1] = hc_vtext(domain);
	p[2] = hc_vtext(a);
	p[3] = hc_vtext(b);
	rc = hc_query(c, &st, variable_only ? var_sql : all_sql, p, 4, err);
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		char cur[4];
		int64_t v = 0;
		snprintf(cur, sizeof(cur), "%s", hc_stmt_text(st, 0, NULL));
		rc = fin_convert(c, hc_stmt_int(st, 1), cur, currency, &v, err);
		if (rc != HC_OK)
			break;
		total += v;
	}
	hc_stmt_finish(st);
	if (rc != HC_ROW_DONE)
		return rc;
	*out = total;
	return HC_OK;
}

int fin__first_variable_month(struct hc_conn *c, const char *domain,
			      fin_month *out, struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(domain), hc_vtext(domain) };
	struct hc_stmt *st = NULL;
	int rc = hc_query(c, &st,
			  "SELECT MIN(month) FROM fin_costs WHERE (CAST(? AS TEXT) IS NULL "
			  "OR domain = ?) AND commitment IS NULL",
			  p, 2, err);
	if (rc != HC_OK)
		return rc;
	*out = -1;
	rc = hc_stmt_step(st, err);
	if (rc == HC_ROW_READY) {
		if (!hc_stmt_isnull(st, 0) &&
		    !fin_month_parse(hc_stmt_text(st, 0, NULL), out))
			*out = -1;
		rc = HC_OK;
	}
	hc_stmt_finish(st);
	return rc == HC_ROW_DONE ? HC_OK : rc;
}

int64_t fin_commitment_charge(const struct fin_commitment *k, fin_month m)
{
	int step;
	if (m < k->start || m > k->end)
		return 0;
	switch (k->cadence) {
	case FIN_MONTHLY:
		step = 1;
		break;
	case FIN_QUARTERLY:
		step = 3;
		break;
	case FIN_YEARLY:
		step = 12;
		break;
	default:
		return m == k->start ? k->amount : 0;
	}
	return (m - k->start) % step == 0 ? k->amount : 0;
}

int fin__commitments_load(struct hc_conn *c, const char *domain,
			  struct fin_commitment **out, size_t *n,
			  struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(domain), hc_vtext(domain) };
	struct fin_commitment *k = NULL;
	size_t cap = 0, len = 0;
	struct hc_stmt *st = NULL;
	int rc = hc_query(c, &st,
			  "SELECT direction, amount, currency, cadence, "
			  "start_date, end_date FROM fin_commitments WHERE "
			  "(CAST(? AS TEXT) IS NULL OR domain = ?) ORDER BY seq",
			  p, 2, err);
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		struct fin_commitment one = { 0 };
		const char *cad = hc_stmt_text(st, 3, NULL);
		const char *dir = hc_stmt_text(st, 0, NULL);
		one.income = dir && strcmp(dir, "in") == 0;
		one.amount = hc_stmt_int(st, 1);
		snprintf(one.currency, sizeof(one.currency), "%s",
			 hc_stmt_text(st, 2, NULL));
		one.cadence = strcmp(cad, "monthly") == 0     ? FIN_MONTHLY
			      : strcmp(cad, "quarterly") == 0 ? FIN_QUARTERLY
			      : strcmp(cad, "yearly") == 0    ? FIN_YEARLY
							      : FIN_ONCE;
		if (!fin_month_parse(hc_stmt_text(st, 4, NULL), &one.start))
			continue;
		if (hc_stmt_isnull(st, 5) ||
		    !fin_month_parse(hc_stmt_text(st, 5, NULL), &one.end))
			one.end = INT_MAX;
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct fin_commitment *nk =
				realloc(k, ncap * sizeof(*nk));
			if (!nk) {
				rc = hc_err_set(err, HC_ENOMEM,
						"out of memory");
				break;
			}
			k = nk;
			cap = ncap;
		}
		k[len++] = one;
	}
	hc_stmt_finish(st);
	if (rc != HC_ROW_DONE) {
		free(k);
		return rc;
	}
	*out = k;
	*n = len;
	return HC_OK;
}

int fin__commitments_sum(struct hc_conn *c, const struct fin_commitment *k,
			 size_t n, fin_month first, fin_month last,
			 const char *currency, int64_t *out_sum,
			 int64_t *in_sum, struct hc_err *err)
{
	*out_sum = 0;
	*in_sum = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t t = 0, v = 0;
		int rc;
		for (fin_month m = first; m <= last; m++)
			t += fin_commitment_charge(&k[i], m);
		if (!t)
			continue;
		rc = fin_convert(c, t, k[i].currency, currency, &v, err);
		if (rc != HC_OK)
			return rc;
		*(k[i].income ? in_sum : out_sum) += v;
	}
	return HC_OK;
}

int fin__runway_build(struct hc_conn *c, const json_t *account,
		      fin_month first, int horizon, struct fin_runway *r,
		      struct hc_err *err)
{
	const char *domain = hc_json_str(account, "domain");
	const char *cur = hc_json_str(account, "currency");
	struct fin_commitment *k = NULL;
	fin_month earliest;
	size_t n = 0;
	int64_t th = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	fin_json_int(account, "balance", &r->balance);
	fin_json_int(account, "alert_threshold_months", &th);
	r->threshold_months = (int)th;
	if (first <= 0 && !fin_month_parse(hc_json_str(account, "as_of"),
					   &first))
		return hc_err_field(err, HC_EINVAL, "as_of",
				    "account of %s has no as_of date", domain);
	r->horizon = horizon > 0 ? horizon : 12;
	if (r->horizon > FIN_HORIZON_MAX)
		r->horizon = FIN_HORIZON_MAX;
	rc = fin__first_variable_month(c, domain, &earliest, err);
	if (rc != HC_OK)
		return rc;
	r->history_months = earliest < 0 ? 0 : first - earliest;
	if (r->history_months > 3)
		r->history_months = 3;
	if (r->history_months < 0)
		r->history_months = 0;
	for (int i = 0; i < 3 && rc == HC_OK; i++)
		rc = fin__costs_sum(c, domain, first - 3 + i, first - 3 + i,
				    true, cur, &r->history[i], err);
	if (rc == HC_OK)
		rc = fin__commitments_load(c, domain, &k, &n, err);
	for (int i = 0; rc == HC_OK && i < r->horizon; i++) {
		r->months[i].month = first + i;
		rc = fin__commitments_sum(c, k, n, first + i, first + i, cur,
					  &r->months[i].commitments_out,
					  &r->months[i].commitments_in, err);
	}
	free(k);
	if (rc == HC_OK)
		fin_runway_compute(r);
	return rc;
}

/* ---- as JSON ------------------------------------------------------------------------ */

static json_t *money(int64_t v, const char *currency)
{
	const struct fin_currency *cur = fin_currency(currency);
	char buf[48];
	return json_pack("{sIss}", "amount", (json_int_t)v, "text",
			 fin_format_amount(v, cur ? cur->exponent : 2, buf,
					   sizeof(buf)));
}

static const char *trend_word(int t)
{
	return t > 0 ? "rising" : t < 0 ? "falling" : "flat";
}

int fin_runway_get(struct hc_conn *c, const char *domain, fin_month first,
		   int horizon, json_t **out, struct hc_err *err)
{
	struct fin_runway *r = calloc(1, sizeof(*r));
	json_t *acc = NULL, *months, *hist;
	const char *cur;
	char buf[16], mtext[32];
	int rc;

	if (!r)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	rc = hc_res_get(c, &fin_account_resource, domain, &acc, err);
	if (rc == HC_ENOTFOUND)
		hc_err_field(err, HC_ENOTFOUND, "domain",
			     "domain '%s' has no account: set its cash "
			     "balance with POST /accounts first",
			     domain);
	if (rc == HC_OK)
		rc = fin__runway_build(c, acc, first, horizon, r, err);
	if (rc != HC_OK) {
		json_decref(acc);
		free(r);
		return rc;
	}
	cur = hc_json_str(acc, "currency");
	months = json_array();
	for (int i = 0; i < r->horizon; i++) {
		const struct fin_runway_month *m = &r->months[i];
		json_array_append_new(
			months,
			json_pack("{sssIsIsIsIsIsI}", "month",
				  fin_month_format(m->month, buf, sizeof(buf)),
				  "commitments_out",
				  (json_int_t)m->commitments_out,
				  "commitments_in",
				  (json_int_t)m->commitments_in, "variable",
				  (json_int_t)m->variable, "gross",
				  (json_int_t)m->gross, "net",
				  (json_int_t)m->net, "balance_end",
				  (json_int_t)m->balance_end));
	}
	hist = json_array();
	for (int i = 3 - r->history_months; i < 3; i++)
		json_array_append_new(
			hist,
			json_pack("{sssI}", "month",
				  fin_month_format(r->months[0].month - 3 + i,
						   buf, sizeof(buf)),
				  "variable", (json_int_t)r->history[i]));
	if (r->infinite)
		snprintf(mtext, sizeof(mtext), "infinite");
	else
		snprintf(mtext, sizeof(mtext), "%lld.%lld",
			 (long long)(r->months_tenths / 10),
			 (long long)(r->months_tenths % 10));
	*out = json_pack(
		"{s:O,s:s,s:s,s:o,s:{s:o,s:o},s:s,s:b,s:i,s:b,"
		"s:{s:o,s:I,s:s,s:I},s:o,s:o,s:o?}",
		"domain",
		json_object_get(acc, "domain"), "currency", cur, "as_of",
		hc_json_str(acc, "as_of"), "balance", money(r->balance, cur),
		"monthly_burn", "gross", money(r->gross, cur), "net",
		money(r->net, cur), "months_remaining", mtext, "infinite",
		r->infinite, "alert_threshold_months", r->threshold_months,
		"below_threshold", r->below_threshold, "variable_costs",
		"average", money(r->variable_avg, cur), "months",
		(json_int_t)r->history_months, "trend", trend_word(r->trend),
		"trend_per_month", (json_int_t)r->trend_per_month, "history",
		hist, "projection", months, "cash_out_month",
		r->cash_out >= 0
			? json_string(fin_month_format(
				  r->months[r->cash_out].month, buf,
				  sizeof(buf)))
			: NULL);
	json_decref(acc);
	free(r);
	return *out ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
}

/* The currency a domain's figures are shown in when none is asked for:
 * its account's, else that of one of its budgets. */
static int default_currency(struct hc_conn *c, const char *domain, char *out,
			    struct hc_err *err)
{
	static const char sql[] =
		"SELECT currency FROM fin_accounts WHERE CAST(? AS TEXT) IS NOT NULL AND "
		"domain = ? UNION ALL SELECT currency FROM fin_budgets WHERE "
		"CAST(? AS TEXT) IS NULL OR domain = ? LIMIT 1";
	struct hc_value p[] = { hc_vtext(domain), hc_vtext(domain),
				hc_vtext(domain), hc_vtext(domain) };
	struct hc_stmt *st = NULL;
	int rc = hc_query(c, &st, sql, p, 4, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_stmt_step(st, err);
	if (rc == HC_ROW_READY)
		snprintf(out, 4, "%s", hc_stmt_text(st, 0, NULL));
	hc_stmt_finish(st);
	if (rc == HC_ROW_DONE)
		return hc_err_field(err, HC_EINVAL, "currency",
				    "give a currency: %s%s has no account or "
				    "budget to take one from",
				    domain ? "domain " : "the hub",
				    domain ? domain : "");
	return rc == HC_ROW_READY ? HC_OK : rc;
}

int fin_burn_rate(struct hc_conn *c, const char *domain, const char *period,
		  const char *currency, json_t **out, struct hc_err *err)
{
	char per[16], cur[4], buf[16];
	struct fin_commitment *k = NULL;
	fin_month first, last, earliest;
	int64_t t_actual = 0, t_projected = 0, t_committed = 0;
	json_t *months = NULL;
	char *slug = NULL;
	size_t n = 0;
	int rc = HC_OK;

	if (!period || strlen(period) >= sizeof(per))
		return hc_err_field(err, HC_EINVAL, "period",
				    "parameter 'period' is required: a month, "
				    "quarter or year (2026-05, 2026-Q2, 2026)");
	strcpy(per, period);
	if (!fin_period_parse(per, &first, &last))
		return hc_err_field(err, HC_EINVAL, "period",
				    "'period' must be a month (2026-05), a "
				    "quarter (2026-Q2) or a year (2026), not "
				    "'%s'",
				    period);
	if (domain) {
		rc = hc_res_resolve(c, &hc_domain_resource, domain, "slug",
				    &slug, err);
		if (rc == HC_ENOTFOUND)
			return hc_err_field(err, HC_ENOTFOUND, "domain",
					    "no domain '%s'", domain);
		if (rc != HC_OK)
			return rc;
		domain = slug;
	}
	if (currency) {
		json_t *tmp = json_pack("{ss}", "currency", currency);
		rc = fin_check_currency(tmp, "currency", err);
		if (rc == HC_OK)
			snprintf(cur, sizeof(cur), "%s",
				 hc_json_str(tmp, "currency"));
		json_decref(tmp);
	} else {
		rc = default_currency(c, domain, cur, err);
	}
	if (rc == HC_OK)
		rc = fin__commitments_load(c, domain, &k, &n, err);
	if (rc == HC_OK)
		rc = fin__first_variable_month(c, domain, &earliest, err);
	months = json_array();
	for (fin_month m = first; rc == HC_OK && m <= last; m++) {
		struct fin_runway r = { .horizon = 1 };
		int64_t actual = 0, variable = 0, c_out = 0, c_in = 0;
		rc = fin__costs_sum(c, domain, m, m, false, cur, &actual, err);
		if (rc == HC_OK)
			rc = fin__costs_sum(c, domain, m, m, true, cur,
					    &variable, err);
		for (int i = 0; rc == HC_OK && i < 3; i++)
			rc = fin__costs_sum(c, domain, m - 3 + i, m - 3 + i,
					    true, cur, &r.history[i], err);
		if (rc == HC_OK)
			rc = fin__commitments_sum(c, k, n, m, m, cur, &c_out,
						  &c_in, err);
		if (rc != HC_OK)
			break;
		r.history_months = earliest < 0 ? 0 : m - earliest;
		if (r.history_months > 3)
			r.history_months = 3;
		r.months[0].commitments_out = c_out;
		fin_runway_compute(&r);
		t_actual += actual;
		t_committed += c_out;
		t_projected += r.months[0].gross;
		json_array_append_new(
			months,
			json_pack("{sssIsIsIsIsI}", "month",
				  fin_month_format(m, buf, sizeof(buf)),
				  "actual", (json_int_t)actual,
				  "actual_variable", (json_int_t)variable,
				  "committed", (json_int_t)c_out,
				  "variable_projected",
				  (json_int_t)r.variable_avg, "projected",
				  (json_int_t)r.months[0].gross));
	}
	free(k);
	if (rc != HC_OK) {
		json_decref(months);
		free(slug);
		return rc;
	}
	*out = json_pack("{s:s?,s:s,s:s,s:I,s:{s:o,s:o,s:o},s:o}", "domain",
			 domain, "period", per, "currency", cur,
			 "months_in_period", (json_int_t)(last - first + 1),
			 "total", "actual", money(t_actual, cur), "committed",
			 money(t_committed, cur), "projected",
			 money(t_projected, cur), "months", months);
	free(slug);
	return *out ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
}
