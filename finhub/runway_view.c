/*
 * runway_view.c - fin-hub's page for people, GET /runway: each domain's
 * balance, burn and runway with its month-by-month projection against the
 * alert threshold, budgets against their allocation, and AI token spend by
 * model and by day. ?domain=SLUG narrows it to one domain. The JSON API
 * stays at GET /runway/{domain}. Kept live by hub-core's views.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finhub/fin_int.h"
#include "hubcore/json.h"
#include "hubcore/view.h"

static int rows(struct hc_conn *c, const struct hc_resource *r,
		const char *field, const char *value, json_t **items,
		struct hc_err *err)
{
	struct hc_list_query q = { .limit = HC_LIST_MAX_LIMIT };
	json_t *page = NULL;
	int rc = field && value ? hc_list_query_add(&q, r, field, value, err)
				: HC_OK;
	if (rc == HC_OK)
		rc = hc_res_list(c, r, &q, &page, err);
	if (rc == HC_OK) {
		*items = json_incref(json_object_get(page, "items"));
		if (!*items)
			*items = json_array();
	}
	json_decref(page);
	return rc;
}

/* "1234.56 EUR" */
static void money_text(int64_t amount, const char *currency, char *out,
		       size_t size)
{
	const struct fin_currency *cur = fin_currency(currency ? currency : "");
	char num[48];
	fin_format_amount(amount, cur ? cur->exponent : 2, num, sizeof(num));
	snprintf(out, size, "%s %s", num, currency ? currency : "");
}

static int64_t amount_of(const json_t *money)
{
	return json_integer_value(json_object_get(money, "amount"));
}

static int check_domain(struct hc_view *v, struct hc_err *err)
{
	const char *d = hc_view_arg(v, "domain");
	json_t *row = NULL;
	int rc;
	if (!d)
		return HC_OK;
	rc = hc_res_get_plain(v->db, &hc_domain_resource, d, &row, err);
	json_decref(row);
	if (rc == HC_ENOTFOUND)
		return hc_err_field(err, HC_ENOTFOUND, "domain",
				    "no domain '%s' (query parameter "
				    "'domain')",
				    d);
	return rc;
}

/* ---- runway ----------------------------------------------------------------- */

/*
 * When the cash runs out, in the terms fin-hub computes it with
 * (docs/fin-hub.md): cash_out_month is the first projected month whose
 * closing balance is below zero, so the month before it is the last one
 * the cash covers, even when it closes at exactly zero.
 */
static int cash_out_html(struct hc_buf *b, const json_t *w)
{
	const char *out = hc_json_str(w, "cash_out_month");
	const char *prev = NULL, *month;
	json_t *m;
	size_t i;
	if (!out)
		return HC_OK;
	json_array_foreach(json_object_get(w, "projection"), i, m)
	{
		month = hc_json_str(m, "month");
		if (!month || strcmp(month, out) == 0)
			break;
		prev = month;
	}
	if (prev)
		return hc_html(b,
			       " <strong>The projected balance goes below zero "
			       "in %s: %s is the last month the cash "
			       "covers.</strong>",
			       out, prev);
	return hc_html(b,
		       " <strong>The projected balance goes below zero in %s, "
		       "the first month projected: the cash does not cover "
		       "it.</strong>",
		       out);
}

static int runway_one(struct hc_view *v, struct hc_buf *b, const json_t *acc)
{
	const char *domain = hc_json_str(acc, "domain");
	const char *cur = hc_json_str(acc, "currency");
	struct hc_err e = { 0 };
	json_t *w = NULL, *m;
	struct hc_chart_bar *bars;
	char bal[64], gross[64], net[64], avg[64], line[96], id[96];
	char (*texts)[64];
	size_t i, n;
	int64_t netv, thr;
	int rc = fin_runway_get(v->db, domain, 0, 12, &w, &e);
	if (rc != HC_OK)
		return hc_html(b,
			       "<article class=\"runway\"><h3>%s</h3><p "
			       "class=\"error\">The runway cannot be "
			       "computed: %s</p></article>",
			       domain, e.msg);
	money_text(amount_of(json_object_get(w, "balance")), cur, bal,
		   sizeof(bal));
	money_text(amount_of(json_object_get(
			   json_object_get(w, "monthly_burn"), "gross")),
		   cur, gross, sizeof(gross));
	netv = amount_of(
		json_object_get(json_object_get(w, "monthly_burn"), "net"));
	money_text(netv, cur, net, sizeof(net));
	money_text(amount_of(json_object_get(json_object_get(w, "variable_costs"),
					     "average")),
		   cur, avg, sizeof(avg));
	rc = hc_html(b,
		     "<article class=\"runway\" id=\"rw-%s\"><h3>%s</h3>"
		     "<dl class=\"figures\"><div><dt>Balance</dt><dd>%s</dd>"
		     "</div><div><dt>Net burn a month</dt><dd>%s</dd></div>"
		     "<div><dt>Runway</dt><dd>%s%s</dd></div><div><dt>"
		     "Threshold</dt><dd>%d months</dd></div></dl>"
		     "<p><span class=\"badge %s\">%s</span> Gross burn %s a "
		     "month; variable costs average %s, %s. Balance as of %s.",
		     domain, domain, bal, net,
		     hc_json_str(w, "months_remaining"),
		     json_is_true(json_object_get(w, "infinite")) ? ""
								   : " months",
		     (int)json_integer_value(
			     json_object_get(w, "alert_threshold_months")),
		     json_is_true(json_object_get(w, "below_threshold"))
			     ? "red"
			     : "green",
		     json_is_true(json_object_get(w, "below_threshold"))
			     ? "below the threshold"
			     : "above the threshold",
		     gross, avg,
		     hc_json_str(json_object_get(w, "variable_costs"), "trend"),
		     hc_json_str(acc, "as_of"));
	if (rc == HC_OK)
		rc = cash_out_html(b, w);
	if (rc == HC_OK)
		rc = hc_html_raw(b, "</p>");
	n = json_array_size(json_object_get(w, "projection"));
	bars = calloc(n ? n : 1, sizeof(*bars));
	texts = calloc(n ? n : 1, sizeof(*texts));
	if (rc == HC_OK && (!bars || !texts))
		rc = HC_ENOMEM;
	thr = netv > 0 ? netv * json_integer_value(json_object_get(
					w, "alert_threshold_months"))
		       : 0;
	json_array_foreach(json_object_get(w, "projection"), i, m)
	{
		if (rc != HC_OK)
			break;
		bars[i].label = hc_json_str(m, "month");
		bars[i].value =
			json_integer_value(json_object_get(m, "balance_end"));
		money_text(bars[i].value, cur, texts[i], sizeof(texts[i]));
		bars[i].value_text = texts[i];
		bars[i].cls = thr > 0 && bars[i].value < thr &&
					      bars[i].value >= 0
				      ? "warn"
				      : NULL;
	}
	if (rc == HC_OK) {
		struct hc_chart c = {
			.id = id,
			.title = line,
			.desc = "Each bar is the cash at the end of a month "
				"after commitments and the average of variable "
				"costs; the dashed line is the alert threshold "
				"(that many months of net burn).",
			.bars = bars,
			.nbars = n,
			.label_header = "Month",
			.value_header = "Balance at the end",
		};
		char thr_text[64], title[160];
		snprintf(id, sizeof(id), "proj-%s", domain);
		snprintf(line, sizeof(line), "Projected balance of %s", domain);
		money_text(thr, cur, thr_text, sizeof(thr_text));
		snprintf(title, sizeof(title), "threshold %s", thr_text);
		c.has_line = thr > 0;
		c.line = thr;
		c.line_label = title;
		rc = hc_svg_bars(b, &c);
	}
	if (rc == HC_OK)
		rc = hc_html_raw(b, "</article>");
	free(bars);
	free(texts);
	json_decref(w);
	return rc;
}

static int render_runway(struct hc_view *v, struct hc_buf *b,
			 struct hc_err *err)
{
	json_t *accs = NULL, *a;
	size_t i;
	int rc = rows(v->db, &fin_account_resource, "domain",
		      hc_view_arg(v, "domain"), &accs, err);
	if (rc != HC_OK)
		return rc;
	if (json_array_size(accs) == 0)
		rc = hc_html(b, "<p class=\"empty\">No cash account%s: set a "
				"balance with POST /accounts (or the set_balance "
				"tool) to see a runway.</p>",
			     hc_view_arg(v, "domain") ? " for this domain" : "s");
	json_array_foreach(accs, i, a)
		if (rc == HC_OK)
			rc = runway_one(v, b, a);
	json_decref(accs);
	return rc;
}

/* ---- budgets ------------------------------------------------------------------ */

static int by_domain_period(const void *x, const void *y)
{
	const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	int d = strcmp(hc_json_str(a, "domain"), hc_json_str(b, "domain"));
	return d ? d : strcmp(hc_json_str(b, "period"), hc_json_str(a, "period"));
}

static const char *state_color(const char *state)
{
	if (state && strcmp(state, "exceeded") == 0)
		return "red";
	if (state && strcmp(state, "warning") == 0)
		return "amber";
	return "green";
}

#define BUDGETS_PER_DOMAIN 6

static int render_budgets(struct hc_view *v, struct hc_buf *b,
			  struct hc_err *err)
{
	json_t *items = NULL, **list;
	size_t n, i, shown = 0;
	const char *last = "";
	int rc = rows(v->db, &fin_budget_resource, "domain",
		      hc_view_arg(v, "domain"), &items, err);
	if (rc != HC_OK)
		return rc;
	n = json_array_size(items);
	if (n == 0) {
		json_decref(items);
		return hc_html(b, "<p class=\"empty\">No budgets yet.</p>");
	}
	list = calloc(n, sizeof(*list));
	if (!list) {
		json_decref(items);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		list[i] = json_array_get(items, i);
	qsort(list, n, sizeof(*list), by_domain_period);
	rc = hc_html_raw(b, "<div class=\"scroll\"><table><thead><tr>"
			    "<th scope=\"col\">Domain</th><th scope=\"col\">"
			    "Period</th><th scope=\"col\" class=\"num\">Spent"
			    "</th><th scope=\"col\" class=\"num\">Allocated"
			    "</th><th scope=\"col\">Used</th><th scope=\"col\" "
			    "class=\"num\">Committed</th></tr></thead><tbody>");
	for (i = 0; rc == HC_OK && i < n; i++) {
		const json_t *bd = list[i];
		const char *cur = hc_json_str(bd, "currency");
		const char *state = hc_json_str(bd, "alert_state");
		int64_t spent = json_integer_value(json_object_get(bd, "spent"));
		int64_t alloc =
			json_integer_value(json_object_get(bd, "allocated"));
		int64_t comm =
			json_integer_value(json_object_get(bd, "committed"));
		char s[64], a[64], c[64], label[200];
		struct hc_chart_part part = { "spent", spent,
					      state ? state : "ok" };
		if (strcmp(last, hc_json_str(bd, "domain")) != 0) {
			last = hc_json_str(bd, "domain");
			shown = 0;
		}
		if (shown++ >= BUDGETS_PER_DOMAIN)
			continue;
		money_text(spent, cur, s, sizeof(s));
		money_text(alloc, cur, a, sizeof(a));
		money_text(comm, cur, c, sizeof(c));
		snprintf(label, sizeof(label), "%s of %s spent (%lld%%)", s, a,
			 alloc > 0 ? (long long)(spent * 100 / alloc) : 0LL);
		rc = hc_html(b,
			     "<tr id=\"budget-%s\"><th scope=\"row\">%s</th>"
			     "<td>%s</td><td class=\"num\">%s</td>"
			     "<td class=\"num\">%s</td><td><span class=\"badge "
			     "%s\">%s</span> ",
			     hc_json_str(bd, "id"), hc_json_str(bd, "domain"),
			     hc_json_str(bd, "period"), s, a,
			     state_color(state), state ? state : "ok");
		if (rc == HC_OK)
			rc = hc_svg_stack(b, &part, 1, alloc, label);
		if (rc == HC_OK)
			rc = hc_html(b, "</td><td class=\"num\">%s</td></tr>", c);
	}
	free(list);
	json_decref(items);
	return rc == HC_OK ? hc_html_raw(b, "</tbody></table></div>") : rc;
}

/* ---- token spend ------------------------------------------------------------------ */

#define TOKEN_DAYS 30

static int render_tokens(struct hc_view *v, struct hc_buf *b,
			 struct hc_err *err)
{
	json_t *models = NULL, *days = NULL, *g;
	struct hc_chart_bar bars[TOKEN_DAYS];
	char texts[TOKEN_DAYS][48];
	size_t i, n, first;
	static const struct fin_token_filter all = { 0 };
	int rc = fin_token_summary(v->db, "model", &all, &models, err);
	if (rc == HC_OK)
		rc = fin_token_summary(v->db, "day", &all, &days, err);
	if (rc != HC_OK)
		goto out;
	if (json_array_size(json_object_get(models, "groups")) == 0) {
		rc = hc_html(b, "<p class=\"empty\">No token spend imported yet "
				"(foshub fin import claude-code, anthropic-usage "
				"or openai-usage).</p>");
		goto out;
	}
	rc = hc_html(b,
		     "<p class=\"summary\">%lld requests, %s USD in total "
		     "(all domains).</p><h3>By model</h3><div class=\"scroll\">"
		     "<table><thead><tr><th scope=\"col\">Model</th>"
		     "<th scope=\"col\" class=\"num\">Requests</th>"
		     "<th scope=\"col\" class=\"num\">Tokens in</th>"
		     "<th scope=\"col\" class=\"num\">Tokens out</th>"
		     "<th scope=\"col\" class=\"num\">Cost (USD)</th></tr>"
		     "</thead><tbody>",
		     (long long)json_integer_value(json_object_get(
			     json_object_get(models, "total"), "requests")),
		     hc_json_str(json_object_get(models, "total"), "cost"));
	json_array_foreach(json_object_get(models, "groups"), i, g)
		if (rc == HC_OK)
			rc = hc_html(b,
				     "<tr><th scope=\"row\">%s</th><td "
				     "class=\"num\">%lld</td><td class=\"num\">"
				     "%lld</td><td class=\"num\">%lld</td><td "
				     "class=\"num\">%s</td></tr>",
				     hc_json_str(g, "key") ? hc_json_str(g, "key")
							   : "(unknown)",
				     (long long)json_integer_value(
					     json_object_get(g, "requests")),
				     (long long)json_integer_value(
					     json_object_get(g, "tokens_in")),
				     (long long)json_integer_value(
					     json_object_get(g, "tokens_out")),
				     hc_json_str(g, "cost"));
	if (rc == HC_OK)
		rc = hc_html_raw(b, "</tbody></table></div><h3>By day</h3>");
	/* the latest days that have spend, oldest first (the summary is in
	 * day order) */
	n = json_array_size(json_object_get(days, "groups"));
	first = n > TOKEN_DAYS ? n - TOKEN_DAYS : 0;
	for (i = first; rc == HC_OK && i < n; i++) {
		g = json_array_get(json_object_get(days, "groups"), i);
		bars[i - first].label = hc_json_str(g, "key");
		bars[i - first].value =
			json_integer_value(json_object_get(g, "cost_micros"));
		snprintf(texts[i - first], sizeof(texts[i - first]), "%s USD",
			 hc_json_str(g, "cost"));
		bars[i - first].value_text = texts[i - first];
		bars[i - first].cls = NULL;
	}
	if (rc == HC_OK) {
		struct hc_chart c = {
			.id = "tokens-by-day",
			.title = "Token spend by day",
			.desc = "Cost of the AI model requests of each day with "
				"spend, the latest 30 such days.",
			.bars = bars,
			.nbars = n - first,
			.label_header = "Day",
			.value_header = "Cost",
		};
		rc = hc_svg_bars(b, &c);
	}
out:
	json_decref(models);
	json_decref(days);
	return rc;
}

/* ---- navigation ----------------------------------------------------------------------- */

static int render_nav(struct hc_view *v, struct hc_buf *b,
		      struct hc_err *err)
{
	const char *cur = hc_view_arg(v, "domain");
	json_t *accs = NULL, *a;
	size_t i;
	int rc = rows(v->db, &fin_account_resource, NULL, NULL, &accs, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_html(b,
		     "<ul><li><a href=\"/runway\" aria-current=\"%s\">All "
		     "domains</a></li>",
		     cur ? "false" : "page");
	json_array_foreach(accs, i, a)
		if (rc == HC_OK)
			rc = hc_html(b,
				     "<li><a href=\"/runway?domain=%s\" "
				     "aria-current=\"%s\">%s"
				     "</a></li>",
				     hc_json_str(a, "domain"),
				     cur && strcmp(cur, hc_json_str(a, "domain")) ==
						    0
					     ? "page"
					     : "false",
				     hc_json_str(a, "domain"));
	json_decref(accs);
	return rc == HC_OK ? hc_html_raw(b, "</ul>") : rc;
}

static const struct hc_view_section runway_sections[] = {
	{ "runway", "Balance, burn and runway", render_runway, false },
	{ "budgets", "Budgets against allocation", render_budgets, false },
	{ "tokens", "AI token spend", render_tokens, false },
};

static const char *const runway_args[] = { "domain", NULL };

const struct hc_view_page fin_runway_page = {
	.path = "/runway",
	.title = "Runway",
	.intro = "How long the money lasts, what the budgets have left and "
		 "what AI agents cost. Money is exact, in each currency's "
		 "minor unit.",
	.sections = runway_sections,
	.nsections = HC_COUNT(runway_sections),
	.args = runway_args,
	.check = check_domain,
	.nav = render_nav,
};
