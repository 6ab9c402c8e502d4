/*
 * test_fin.c - fin-hub: exact decimals and rounding, currencies and rates,
 * periods and dates, the price table, the runway arithmetic on worked
 * examples computed by hand, and the imports (dedup keys, idempotence,
 * every bad-row case with its line) against a real database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finhub/finhub.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "testutil.h"

#define DATA "tests/data/fin/"
#define CLAUDE DATA "claude/projects/-home-w-foshub/"

/* ---- decimals ---------------------------------------------------------------- */

static int64_t dec(const char *s, int scale, enum fin_round mode, int want)
{
	int64_t v = -999;
	assert_int_equal(fin_decimal_parse(s, strlen(s), scale, mode, &v),
			 want);
	return v;
}

static void test_decimal_parse(void **state)
{
	/* exact: cents of "12.34" are 1234; trailing zeros are not extra
	 * precision */
	assert_int_equal(dec("12.34", 2, FIN_EXACT, FIN_DEC_OK), 1234);
	assert_int_equal(dec("12.3400", 2, FIN_EXACT, FIN_DEC_OK), 1234);
	assert_int_equal(dec(" -0.05 ", 2, FIN_EXACT, FIN_DEC_OK), -5);
	assert_int_equal(dec("+7", 2, FIN_EXACT, FIN_DEC_OK), 700);
	assert_int_equal(dec("7.", 2, FIN_EXACT, FIN_DEC_OK), 700);
	assert_int_equal(dec(".5", 2, FIN_EXACT, FIN_DEC_OK), 50);
	assert_int_equal(dec("1500", 0, FIN_EXACT, FIN_DEC_OK), 1500);
	/* more decimals than the unit: refused exactly, rounded otherwise */
	dec("12.345", 2, FIN_EXACT, FIN_DEC_PRECISION);
	dec("0.0000023", 2, FIN_EXACT, FIN_DEC_PRECISION);
	/* half to even: 12.345 -> 1234 (4 is even), 12.355 -> 1236,
	 * 12.3451 -> 1235 (above half), -12.345 -> -1234 */
	assert_int_equal(dec("12.345", 2, FIN_HALF_EVEN, FIN_DEC_OK), 1234);
	assert_int_equal(dec("12.355", 2, FIN_HALF_EVEN, FIN_DEC_OK), 1236);
	assert_int_equal(dec("12.3451", 2, FIN_HALF_EVEN, FIN_DEC_OK), 1235);
	assert_int_equal(dec("-12.345", 2, FIN_HALF_EVEN, FIN_DEC_OK), -1234);
	assert_int_equal(dec("-12.3451", 2, FIN_HALF_EVEN, FIN_DEC_OK),
			 -1235);
	assert_int_equal(dec("0.0000023", 2, FIN_HALF_EVEN, FIN_DEC_OK), 0);
	/* exponents: 1.5E-3 dollars are 0.15 cents -> 0; 2.5e1 = 25 */
	assert_int_equal(dec("1.5E-3", 2, FIN_HALF_EVEN, FIN_DEC_OK), 0);
	assert_int_equal(dec("2.5e1", 2, FIN_EXACT, FIN_DEC_OK), 2500);
	assert_int_equal(dec("1e-500", 2, FIN_HALF_EVEN, FIN_DEC_OK), 0);
	dec("1e-5000", 2, FIN_HALF_EVEN, FIN_DEC_RANGE);
	/* scale 6: micro-units; Anthropic cents with scale 0 */
	assert_int_equal(dec("0.03", 6, FIN_EXACT, FIN_DEC_OK), 30000);
	assert_int_equal(dec("1234.5678", 0, FIN_HALF_EVEN, FIN_DEC_OK), 1235);
	assert_int_equal(dec("50.5", 0, FIN_HALF_EVEN, FIN_DEC_OK), 50);
	assert_int_equal(dec("51.5", 0, FIN_HALF_EVEN, FIN_DEC_OK), 52);
	/* limits of 64 bits */
	assert_int_equal(dec("92233720368547758.07", 2, FIN_EXACT, FIN_DEC_OK),
			 INT64_MAX);
	dec("92233720368547758.08", 2, FIN_EXACT, FIN_DEC_RANGE);
	dec("1e400", 2, FIN_EXACT, FIN_DEC_RANGE);
	/* not numbers */
	dec("", 2, FIN_EXACT, FIN_DEC_SYNTAX);
	dec("abc", 2, FIN_EXACT, FIN_DEC_SYNTAX);
	dec("1,234.00", 2, FIN_EXACT, FIN_DEC_SYNTAX);
	dec("12.3.4", 2, FIN_EXACT, FIN_DEC_SYNTAX);
	dec("-", 2, FIN_EXACT, FIN_DEC_SYNTAX);
	dec("1e", 2, FIN_EXACT, FIN_DEC_SYNTAX);
	dec("0x10", 2, FIN_EXACT, FIN_DEC_SYNTAX);
	dec("NaN", 2, FIN_EXACT, FIN_DEC_SYNTAX);
}

static void test_rounding_and_conversion(void **state)
{
	char buf[48];
	int64_t v = 0;
	assert_int_equal(fin_div_half_even(7, 2), 4);   /* 3.5 -> 4 */
	assert_int_equal(fin_div_half_even(5, 2), 2);   /* 2.5 -> 2 */
	assert_int_equal(fin_div_half_even(-5, 2), -2); /* -2.5 -> -2 */
	assert_int_equal(fin_div_half_even(-7, 2), -4);
	assert_int_equal(fin_div_half_even(10, 3), 3);
	assert_int_equal(fin_div_half_even(11, 3), 4);
	assert_int_equal(fin_div_half_even(5, -2), -2);
	/* 100.00 USD at 0.92 = 92.00 EUR: 10000 * 0.92 = 9200 */
	assert_int_equal(fin_convert_units(10000, 2, 2, 920000000, &v), HC_OK);
	assert_int_equal(v, 9200);
	/* 0.05 USD at 0.93 = 0.0465 EUR -> 0.05 (4.65 cents, above half) */
	assert_int_equal(fin_convert_units(5, 2, 2, 930000000, &v), HC_OK);
	assert_int_equal(v, 5);
	/* 10.00 EUR at 161.5 JPY = 1615 yen (exponent 0) */
	assert_int_equal(fin_convert_units(1000, 2, 0, 161500000000, &v),
			 HC_OK);
	assert_int_equal(v, 1615);
	assert_int_equal(fin_convert_units(INT64_MAX, 2, 2, 2000000000, &v),
			 HC_EINVAL);
	assert_string_equal(fin_format_amount(123456, 2, buf, sizeof(buf)),
			    "1234.56");
	assert_string_equal(fin_format_amount(-5, 2, buf, sizeof(buf)),
			    "-0.05");
	assert_string_equal(fin_format_amount(1500, 0, buf, sizeof(buf)),
			    "1500");
	assert_string_equal(fin_format_amount(18300, 6, buf, sizeof(buf)),
			    "0.018300");
	assert_non_null(fin_currency("EUR"));
	assert_int_equal(fin_currency("JPY")->exponent, 0);
	assert_int_equal(fin_currency("BHD")->exponent, 3);
	assert_null(fin_currency("eur"));
	assert_null(fin_currency("XYZ"));
}

static void test_periods_and_dates(void **state)
{
	char p[16], out[32];
	fin_month a, b;
	strcpy(p, "2026-05");
	assert_true(fin_period_parse(p, &a, &b));
	assert_int_equal(a, 2026 * 12 + 4);
	assert_int_equal(b, a);
	strcpy(p, "2026-q2");
	assert_true(fin_period_parse(p, &a, &b));
	assert_string_equal(p, "2026-Q2");
	assert_int_equal(a, 2026 * 12 + 3);
	assert_int_equal(b, 2026 * 12 + 5);
	strcpy(p, "2026");
	assert_true(fin_period_parse(p, &a, &b));
	assert_int_equal(b - a, 11);
	strcpy(p, "2026-13");
	assert_false(fin_period_parse(p, &a, &b));
	strcpy(p, "2026-Q5");
	assert_false(fin_period_parse(p, &a, &b));
	strcpy(p, "26-01");
	assert_false(fin_period_parse(p, &a, &b));
	assert_string_equal(fin_month_format(2026 * 12 + 11, out, sizeof(out)),
			    "2026-12");

	assert_true(fin_datetime_utc("2026-03-01", 10, out, sizeof(out)));
	assert_string_equal(out, "2026-03-01T00:00:00Z");
	assert_true(fin_datetime_utc("2026-03-01 23:30:00", 19, out,
				     sizeof(out)));
	assert_string_equal(out, "2026-03-01T23:30:00Z");
	/* an offset is turned into UTC: 01:30+02:00 is 23:30 the day before */
	assert_true(fin_datetime_utc("2026-03-01T01:30:00.123+02:00", 29, out,
				     sizeof(out)));
	assert_string_equal(out, "2026-02-28T23:30:00Z");
	assert_false(fin_datetime_utc("2026-02-29T00:00:00Z", 20, out,
				      sizeof(out))); /* not a leap year */
	assert_false(fin_datetime_utc("2026-03-32", 10, out, sizeof(out)));
	/* month 00 once indexed the days-per-month table at -1 (fuzz) */
	assert_false(fin_datetime_utc("2026-00-10", 10, out, sizeof(out)));
	assert_false(fin_datetime_utc("2026-13-10", 10, out, sizeof(out)));
	assert_false(fin_datetime_utc("2026-03-00", 10, out, sizeof(out)));
	assert_false(fin_datetime_utc("yesterday", 9, out, sizeof(out)));
}

/* ---- prices --------------------------------------------------------------------- */

static int64_t cost_of(const char *model, int64_t in, int64_t out,
		       int64_t w5, int64_t w1, int64_t rd)
{
	const struct fin_price *p = fin_price_find(&fin_anthropic_prices,
						   model);
	struct fin_usage u = { in, out, w5, w1, rd };
	int64_t c = -1;
	assert_non_null(p);
	assert_int_equal(fin_price_cost(p, &u, &c), HC_OK);
	return c;
}

static void test_prices(void **state)
{
	/* Sonnet 4.5, $3 in / $15 out / $3.75 5m write / $0.30 read per MTok:
	 * 100*3 + 500*15 + 2000*3.75 + 10000*0.30 = 300 + 7500 + 7500 + 3000
	 * = 18300 micro-USD */
	assert_int_equal(cost_of("claude-sonnet-4-5-20250929", 100, 500, 2000,
				 0, 10000),
			 18300);
	/* Haiku 4.5, $1 / $5: 50*1 + 20*5 = 150 */
	assert_int_equal(cost_of("claude-haiku-4-5-20251001", 50, 20, 0, 0, 0),
			 150);
	/* Opus 4.5, $5 / $25 / $10 1h write: 10*5 + 1000*25 + 1000*10 =
	 * 35050 */
	assert_int_equal(cost_of("claude-opus-4-5-20251101", 10, 1000, 0, 1000,
				 0),
			 35050);
	/* Sonnet 4.5 over 200k prompt tokens (150000 + 60000 read) pays the
	 * long-context rates on everything, $6 / $22.50 / $0.60 read:
	 * 150000*6 + 100*22.5 + 60000*0.6 = 900000 + 2250 + 36000 = 938250 */
	assert_int_equal(cost_of("claude-sonnet-4-5-20250929", 150000, 100, 0,
				 0, 60000),
			 938250);
	/* exactly 200000 is not over the threshold: 200000*3 = 600000 */
	assert_int_equal(cost_of("claude-sonnet-4-5", 200000, 0, 0, 0, 0),
			 600000);
	/* Haiku 3 cache read $0.03 / MTok: 7 tokens = 0.21 micro-USD -> 0;
	 * 50 tokens = 1.5 -> 2 (half to even) */
	assert_int_equal(cost_of("claude-3-haiku-20240307", 0, 0, 0, 0, 7), 0);
	assert_int_equal(cost_of("claude-3-haiku-20240307", 0, 0, 0, 0, 50), 2);
	/* the opus-4 entry takes a date suffix, nothing else */
	assert_non_null(fin_price_find(&fin_anthropic_prices,
				       "claude-opus-4-20250514"));
	assert_int_equal(fin_price_find(&fin_anthropic_prices,
					"claude-opus-4-1-20250805")
				 ->base.input,
			 fin_price_find(&fin_anthropic_prices,
					"claude-opus-4")
				 ->base.input);
	assert_null(fin_price_find(&fin_anthropic_prices, "claude-opus-4-9"));
	assert_null(fin_price_find(&fin_anthropic_prices,
				   "claude-future-9-20270101"));
	assert_null(fin_price_find(&fin_anthropic_prices, "gpt-4.1"));
	assert_null(fin_price_find(&fin_anthropic_prices,
				   "claude-sonnet-4-5-2025"));
}

static int64_t cost_terms(const struct fin_price_table *t, const char *model,
			  const struct fin_usage *u, enum fin_context ctx,
			  bool batch)
{
	const struct fin_price *p = fin_price_find(t, model);
	struct fin_price_terms terms = { ctx, batch };
	int64_t c = -1;
	assert_non_null(p);
	assert_int_equal(fin_price_cost_terms(t, p, u, &terms, &c), HC_OK);
	return c;
}

static void test_prices_openai_and_terms(void **state)
{
	const struct fin_price_table *oa = &fin_openai_prices;
	struct fin_usage u = { 0 };
	size_t n = 0;
	/* OpenAI snapshots are "-YYYY-MM-DD"; a family member is not its
	 * family; a snapshot priced apart comes first */
	assert_string_equal(fin_price_find(oa, "gpt-4o-mini-2024-07-18")->model,
			    "gpt-4o-mini");
	assert_string_equal(fin_price_find(oa, "gpt-5.4-mini-2026-03-17")->model,
			    "gpt-5.4-mini");
	assert_string_equal(fin_price_find(oa, "gpt-4o-2024-08-06")->model,
			    "gpt-4o");
	assert_string_equal(fin_price_find(oa, "gpt-4o-2024-05-13")->model,
			    "gpt-4o-2024-05-13");
	assert_null(fin_price_find(oa, "gpt-4o-20240806"));
	assert_null(fin_price_find(oa, "gpt-4o-2024-08"));
	assert_null(fin_price_find(oa, "gpt-4o-realtime-preview"));
	assert_null(fin_price_find(oa, "claude-sonnet-4-5"));
	assert_null(fin_price_find(&fin_anthropic_prices,
				   "claude-sonnet-4-5-2025-09-29"));
	/* the tables are listed */
	for (const struct fin_price_table *const *t = fin_price_tables; *t;
	     t++)
		n++;
	assert_int_equal(n, 2);

	/* gpt-5.4-mini, $0.75 in / $0.075 cached / $4.50 out:
	 * 500000*0.75 + 1500000*0.075 + 100000*4.5 = 375000 + 112500 +
	 * 450000 = 937500 */
	u.input = 500000;
	u.cache_read = 1500000;
	u.output = 100000;
	assert_int_equal(cost_terms(oa, "gpt-5.4-mini", &u, FIN_CTX_BASE,
				    false),
			 937500);
	/* batch: half, rounded once at the end */
	assert_int_equal(cost_terms(oa, "gpt-5.4-mini", &u, FIN_CTX_BASE,
				    true),
			 468750);
	/* Haiku 3 cache reads at $0.03: 50 tokens = 1.5 -> 2 micro-USD;
	 * batch 0.75 -> 1, not half of the rounded 2 */
	memset(&u, 0, sizeof(u));
	u.cache_read = 50;
	assert_int_equal(cost_terms(&fin_anthropic_prices, "claude-3-haiku",
				    &u, FIN_CTX_BASE, false),
			 2);
	assert_int_equal(cost_terms(&fin_anthropic_prices, "claude-3-haiku",
				    &u, FIN_CTX_BASE, true),
			 1);
	/* a report that says long context: Sonnet 4.5's long rates however
	 * small the tokens ($6 in, $22.50 out: 100*6 + 10*22.5 = 825); base
	 * however large (250000*3 = 750000); a model without a long tier
	 * pays its base rates either way */
	memset(&u, 0, sizeof(u));
	u.input = 100;
	u.output = 10;
	assert_int_equal(cost_terms(&fin_anthropic_prices, "claude-sonnet-4-5",
				    &u, FIN_CTX_LONG, false),
			 825);
	assert_int_equal(cost_terms(&fin_anthropic_prices, "claude-haiku-4-5",
				    &u, FIN_CTX_LONG, false),
			 150);
	memset(&u, 0, sizeof(u));
	u.input = 250000;
	assert_int_equal(cost_terms(&fin_anthropic_prices, "claude-sonnet-4-5",
				    &u, FIN_CTX_BASE, false),
			 750000);
	assert_int_equal(cost_terms(&fin_anthropic_prices, "claude-sonnet-4-5",
				    &u, FIN_CTX_BY_PROMPT, false),
			 1500000);
}

static void test_import_kind_names(void **state)
{
	/* the MCP enum, the parser and the message list agree */
	size_t i = 0;
	for (; fin_import_kind_names[i]; i++) {
		enum fin_import_kind k;
		assert_true(fin_import_kind_parse(fin_import_kind_names[i], &k));
		assert_int_equal(k, (int)i);
		assert_string_equal(fin_import_kind_name(k),
				    fin_import_kind_names[i]);
		assert_non_null(strstr(fin_import_kind_list,
				       fin_import_kind_names[i]));
	}
	assert_int_equal(i, FIN_IMPORT_OPENAI_USAGE + 1);
	assert_string_equal(fin_import_kind_ext(FIN_IMPORT_OPENAI_USAGE),
			    ".json");
	assert_string_equal(fin_import_kind_ext(FIN_IMPORT_CLAUDE_CODE),
			    ".jsonl");
	assert_string_equal(fin_import_kind_ext(FIN_IMPORT_INVOICES), ".csv");
}

/* ---- runway arithmetic -------------------------------------------------------------- */

static void test_commitment_charges(void **state)
{
	fin_month jan26 = 2026 * 12;
	struct fin_commitment m = { false, 500, "EUR", FIN_MONTHLY, jan26,
				    jan26 + 2 };
	struct fin_commitment q = { false, 300, "EUR", FIN_QUARTERLY,
				    jan26 + 1, 2147483647 };
	struct fin_commitment y = { false, 1200, "EUR", FIN_YEARLY,
				    jan26 - 7, 2147483647 };
	struct fin_commitment o = { false, 99, "EUR", FIN_ONCE, jan26 + 4,
				    2147483647 };
	assert_int_equal(fin_commitment_charge(&m, jan26 - 1), 0);
	assert_int_equal(fin_commitment_charge(&m, jan26), 500);
	assert_int_equal(fin_commitment_charge(&m, jan26 + 2), 500);
	assert_int_equal(fin_commitment_charge(&m, jan26 + 3), 0); /* ended */
	assert_int_equal(fin_commitment_charge(&q, jan26 + 1), 300); /* Feb */
	assert_int_equal(fin_commitment_charge(&q, jan26 + 2), 0);
	assert_int_equal(fin_commitment_charge(&q, jan26 + 4), 300); /* May */
	assert_int_equal(fin_commitment_charge(&y, jan26 + 5), 1200); /* Jun */
	assert_int_equal(fin_commitment_charge(&y, jan26 + 4), 0);
	assert_int_equal(fin_commitment_charge(&o, jan26 + 4), 99);
	assert_int_equal(fin_commitment_charge(&o, jan26 + 16), 0);
}

/*
 * The worked example of docs/fin-hub.md, computed by hand:
 * balance 60000.00 EUR on 2026-05-01, threshold 6 months;
 * variable costs Feb 3000.00, Mar 4000.00, Apr 5000.00
 *   -> average (3000 + 4000 + 5000) / 3 = 4000.00, trend rising
 *      ((5000 - 3000) / 2 = +1000.00 a month);
 * commitments: salary 5000.00 monthly; licence 1200.00 yearly, due in
 * June; a customer contract bringing 2000.00 monthly from June.
 *   May:  gross 5000 + 4000 = 9000, net 9000, balance 51000
 *   June: gross 5000 + 1200 + 4000 = 10200, net 10200 - 2000 = 8200,
 *         balance 42800
 *   July: gross 9000, net 7000, balance 35800; then -7000 a month:
 *   Aug 28800, Sep 21800, Oct 14800, Nov 7800, Dec 800, Jan -6200.
 * Months remaining = 60000 / 9000 = 6.67 -> 6.6 (tenths, rounded down);
 * not below 6 (60000 >= 6 * 9000 = 54000). Cash runs out in month 8.
 */
static void test_runway_worked_example(void **state)
{
	struct fin_runway *r = calloc(1, sizeof(*r));
	r->balance = 6000000;
	r->threshold_months = 6;
	r->history[0] = 300000;
	r->history[1] = 400000;
	r->history[2] = 500000;
	r->history_months = 3;
	r->horizon = 12;
	for (int i = 0; i < 12; i++) {
		r->months[i].month = 2026 * 12 + 4 + i;
		r->months[i].commitments_out = 500000 + (i == 1 ? 120000 : 0);
		r->months[i].commitments_in = i >= 1 ? 200000 : 0;
	}
	fin_runway_compute(r);
	assert_int_equal(r->variable_avg, 400000);
	assert_int_equal(r->trend, 1);
	assert_int_equal(r->trend_per_month, 100000);
	assert_int_equal(r->gross, 900000);
	assert_int_equal(r->net, 900000);
	assert_false(r->infinite);
	assert_int_equal(r->months_tenths, 66);
	assert_false(r->below_threshold);
	assert_int_equal(r->months[0].balance_end, 5100000);
	assert_int_equal(r->months[1].gross, 1020000);
	assert_int_equal(r->months[1].net, 820000);
	assert_int_equal(r->months[1].balance_end, 4280000);
	assert_int_equal(r->months[2].balance_end, 3580000);
	assert_int_equal(r->months[7].balance_end, 80000);
	assert_int_equal(r->months[8].balance_end, -620000);
	assert_int_equal(r->cash_out, 8);

	/* 50000.00: 50000 / 9000 = 5.5 months, below 6 (50000 < 54000) */
	r->balance = 5000000;
	fin_runway_compute(r);
	assert_int_equal(r->months_tenths, 55);
	assert_true(r->below_threshold);
	/* exactly 6 months (54000) is not below the threshold */
	r->balance = 5400000;
	fin_runway_compute(r);
	assert_int_equal(r->months_tenths, 60);
	assert_false(r->below_threshold);
	free(r);
}

/*
 * Net burn <= 0 means infinite runway: balance 1000.00, income 3000.00 a
 * month, commitments 1000.00, variable history of only two months
 * (600.00, 400.00: average 500.00, falling by 200.00):
 * gross 1000 + 500 = 1500, net 1500 - 3000 = -1500 -> infinite, never
 * below the threshold, the balance grows.
 */
static void test_runway_infinite(void **state)
{
	struct fin_runway *r = calloc(1, sizeof(*r));
	r->balance = 100000;
	r->threshold_months = 6;
	r->history[1] = 60000;
	r->history[2] = 40000;
	r->history_months = 2;
	r->horizon = 3;
	for (int i = 0; i < 3; i++) {
		r->months[i].commitments_out = 100000;
		r->months[i].commitments_in = 300000;
	}
	fin_runway_compute(r);
	assert_int_equal(r->variable_avg, 50000);
	assert_int_equal(r->trend, -1);
	assert_int_equal(r->trend_per_month, -20000);
	assert_int_equal(r->gross, 150000);
	assert_int_equal(r->net, -150000);
	assert_true(r->infinite);
	assert_false(r->below_threshold);
	assert_int_equal(r->months[2].balance_end, 550000);
	assert_int_equal(r->cash_out, -1);
	/* no history at all: no variable costs */
	r->history_months = 0;
	fin_runway_compute(r);
	assert_int_equal(r->variable_avg, 0);
	assert_int_equal(r->trend, 0);
	free(r);
}

/* ---- imports against a database ------------------------------------------------------- */

struct fixture {
	char *dir;
	struct hc_hub *hub;
	struct hc_conn *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hc_hub_config cfg = { .log_level = HC_LOG_ERROR };
	struct hc_err err = { 0 };
	json_t *d = NULL;
	f->dir = tu_tempdir();
	cfg.db_url = tu_db_url(f->dir, "fin.db");
	if (hc_hub_open(&f->hub, &finhub_def, &cfg, &err) != HC_OK) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	f->c = hc_store_acquire(f->hub->store, &err);
	for (int i = 0; i < 2; i++) {
		json_t *in = json_pack("{ss}", "name", i ? "ops" : "cloud");
		if (hc_res_create(f->c, &hc_domain_resource, in, &d, &err))
			return -1;
		json_decref(in);
		json_decref(d);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hc_store_release(f->hub->store, f->c);
	hc_hub_close(f->hub);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static int import(struct fixture *f, enum fin_import_kind kind,
		  const char *path, const char *domain, bool skip_bad,
		  struct fin_import_result *res, struct hc_err *err)
{
	struct fin_import_opts o = { .skip_bad = skip_bad, .domain = domain };
	size_t len;
	char *data = slurp(path, &len);
	int rc;
	hc_err_clear(err);
	rc = fin_import(f->c, kind, path, data, len, &o, res, err);
	free(data);
	if (rc != HC_OK)
		print_message("fin_import: %s: %s\n", path, err->msg);
	return rc;
}

/* The queries below say json_extract(extra, '$.a.b') as SQLite does; on
 * PostgreSQL (FOSHUB_TEST_PG) that is (extra #>> '{a,b}'). */
static char *dialect_sql(const char *sql)
{
	static const char from[] = "json_extract(extra, '$.";
	struct hc_buf b = HC_BUF_INIT(1 << 16);
	const char *p = sql, *m;
	if (!getenv("FOSHUB_TEST_PG"))
		return strdup(sql);
	while ((m = strstr(p, from))) {
		const char *end = strstr(m + sizeof(from) - 1, "')");
		assert_non_null(end);
		hc_buf_add(&b, p, (size_t)(m - p));
		hc_buf_adds(&b, "(extra #>> '{");
		for (const char *c = m + sizeof(from) - 1; c < end; c++)
			hc_buf_addc(&b, *c == '.' ? ',' : *c);
		hc_buf_adds(&b, "}')");
		p = end + 2;
	}
	hc_buf_adds(&b, p);
	return hc_buf_detach(&b, NULL);
}

static int64_t count(struct fixture *f, const char *sql)
{
	struct hc_err err = { 0 };
	int64_t n = -1;
	char *q = dialect_sql(sql);
	if (hc_query_int(f->c, &n, q, NULL, 0, &err) != HC_OK)
		fail_msg("%s: %s", q, err.msg);
	free(q);
	return n;
}

static void test_import_idempotent(void **state)
{
	struct fixture *f = *state;
	struct fin_import_result res = { 0 };
	struct hc_err err = { 0 };
	assert_int_equal(import(f, FIN_IMPORT_FOCUS, DATA "focus.csv", "cloud",
				false, &res, &err),
			 HC_OK);
	assert_int_equal(res.rows, 6);
	assert_int_equal(res.created, 6);
	/* 120.004 + 0.0000023 + 35.50 + 19.005 - 10.00 + 120.004, each
	 * rounded half to even to cents: 12000 + 0 + 3550 + 1900 - 1000 +
	 * 12000 = 28450 */
	assert_int_equal(count(f, "SELECT SUM(amount) FROM fin_costs"), 28450);
	/* two identical rows of one file stay two rows: keys :0 and :1 */
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_costs WHERE "
				  "dedup_key LIKE 'focus:%:1'"),
			 1);
	/* the quoted description over two lines starts on line 4; the next
	 * record is on line 6 */
	assert_int_equal(count(f, "SELECT source_line FROM fin_costs WHERE "
				  "amount = 3550"),
			 4);
	assert_int_equal(count(f, "SELECT source_line FROM fin_costs WHERE "
				  "amount = 1900"),
			 6);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_costs WHERE "
				  "extra ->> 'x_CostCenter' = "
				  "'CC-200'"),
			 1);
	/* again: nothing new */
	assert_int_equal(import(f, FIN_IMPORT_FOCUS, DATA "focus.csv", "cloud",
				false, &res, &err),
			 HC_OK);
	assert_int_equal(res.created, 0);
	assert_int_equal(res.duplicates, 6);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_costs"), 6);

	/* reports: Anthropic cents 1234.5678 -> 1235, 50.5 -> 50, 51.5 ->
	 * 52; OpenAI dollars 0.06 -> 6, 12.345 -> 1234, 1.005 -> 100 */
	assert_int_equal(import(f, FIN_IMPORT_ANTHROPIC_COST,
				DATA "anthropic-cost.json", NULL, false, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.created, 3);
	assert_int_equal(count(f, "SELECT SUM(amount) FROM fin_costs WHERE "
				  "kind = 'anthropic_cost'"),
			 1235 + 50 + 52);
	assert_int_equal(import(f, FIN_IMPORT_OPENAI_COST,
				DATA "openai-cost.json", NULL, false, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.created, 3);
	assert_int_equal(count(f, "SELECT SUM(amount) FROM fin_costs WHERE "
				  "kind = 'openai_cost'"),
			 6 + 1234 + 100);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_costs WHERE "
				  "kind = 'openai_cost' AND date = "
				  "'2026-04-01'"),
			 2);
	assert_int_equal(import(f, FIN_IMPORT_OPENAI_COST,
				DATA "openai-cost.json", NULL, false, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.duplicates, 3);
	fin_import_result_release(&res);
}

static void test_import_claude_code(void **state)
{
	struct fixture *f = *state;
	struct fin_import_result res = { 0 };
	struct hc_err err = { 0 };
	/* line 7 has a model the price table lacks: the file is refused... */
	assert_int_equal(import(f, FIN_IMPORT_CLAUDE_CODE,
				CLAUDE "session-a.jsonl", NULL, false, &res,
				&err),
			 HC_EPARSE);
	assert_int_equal(err.line, 7);
	assert_int_equal(res.nbad, 1);
	assert_int_equal(res.bad[0].line, 7);
	assert_non_null(strstr(res.bad[0].reason, "claude-future-9-20270101"));
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_token_spend"), 0);
	/* ...and with skip_bad the rest is stored: lines 3 and 4 are one
	 * request (same message id + request id), 5 is a sidechain, 6 an
	 * Opus request; 1, 2 and 8 (summary, user, synthetic) carry no
	 * spend */
	assert_int_equal(import(f, FIN_IMPORT_CLAUDE_CODE,
				CLAUDE "session-a.jsonl", NULL, true, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.rows, 4);
	assert_int_equal(res.created, 3);
	assert_int_equal(res.duplicates, 1);
	assert_int_equal(res.skipped, 3);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_token_spend WHERE "
				  "sidechain = 1"),
			 1);
	/* 18300 + 150 + 35050 micro-USD (see test_prices) */
	assert_int_equal(count(f, "SELECT SUM(cost_micros) FROM "
				  "fin_token_spend"),
			 53500);
	/* the resumed session repeats msg_01A: only the long-context
	 * request is new */
	assert_int_equal(import(f, FIN_IMPORT_CLAUDE_CODE,
				CLAUDE "session-b.jsonl", NULL, false, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.created, 1);
	assert_int_equal(res.duplicates, 1);
	assert_int_equal(count(f, "SELECT SUM(cost_micros) FROM "
				  "fin_token_spend"),
			 53500 + 938250);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_token_spend WHERE "
				  "day = '2026-05-04'"),
			 3);
	fin_import_result_release(&res);
}

static json_t *summary(struct fixture *f, const char *by, const char *kind)
{
	struct fin_token_filter flt = { .kind = kind };
	struct hc_err err = { 0 };
	json_t *out = NULL;
	assert_int_equal(fin_token_summary(f->c, by, &flt, &out, &err), HC_OK);
	return out;
}

static json_int_t total(const json_t *sum, const char *field)
{
	return json_integer_value(
		json_object_get(json_object_get(sum, "total"), field));
}

/*
 * The usage reports of tests/data/fin, priced by hand:
 * Anthropic (2026-11-02 and 2026-11-03, two pages)
 *   Sonnet 4.5, standard, 0-200k: 120000 in * $3 + 30000 out * $15 +
 *     40000 5m writes * $3.75 + 10000 1h writes * $6 + 800000 reads *
 *     $0.30 = 360000 + 450000 + 150000 + 60000 + 240000 = 1260000
 *   Sonnet 4.5, standard, 200k-1M (long rates $6 / $22.50 / $0.60):
 *     250000 * 6 + 2000 * 22.5 + 400000 * 0.6 = 1500000 + 45000 +
 *     240000 = 1785000
 *   Haiku 4.5, batch: (1000000 * $1 + 200000 * $5) / 2 = 1000000
 *   Opus 4.5, standard: 10000 * 5 + 8000 * 25 + 2000 * 6.25 + 50000 *
 *     0.5 = 50000 + 200000 + 12500 + 25000 = 287500
 *   total 4332500 micro-USD
 * OpenAI (input_tokens include the cached ones)
 *   gpt-5.4-mini: (2000000 - 1500000) * 0.75 + 1500000 * 0.075 +
 *     100000 * 4.5 = 375000 + 112500 + 450000 = 937500, 420 requests
 *   gpt-4.1, batch: (1000000 * 2 + 50000 * 8) / 2 = 1200000, 1000
 *   gpt-4o-mini: 200000 * 0.15 + 100000 * 0.075 + 20000 * 0.6 = 30000 +
 *     7500 + 12000 = 49500, 75
 *   total 2187000 micro-USD, 1495 requests
 */
static void test_import_usage(void **state)
{
	struct fixture *f = *state;
	struct fin_import_result res = { 0 };
	struct hc_err err = { 0 };
	json_t *sum;
	char *later;
	size_t n;

	assert_int_equal(import(f, FIN_IMPORT_ANTHROPIC_USAGE,
				DATA "anthropic-usage.json", NULL, false, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.created, 4);
	assert_int_equal(import(f, FIN_IMPORT_OPENAI_USAGE,
				DATA "openai-usage.json", NULL, false, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.created, 3);
	assert_int_equal(count(f, "SELECT SUM(cost_micros) FROM "
				  "fin_token_spend WHERE kind = "
				  "'anthropic_usage'"),
			 4332500);
	assert_int_equal(count(f, "SELECT SUM(cost_micros) FROM "
				  "fin_token_spend WHERE kind = "
				  "'openai_usage'"),
			 2187000);
	/* each row as priced, with what it is */
	assert_int_equal(count(f, "SELECT cost_micros FROM fin_token_spend "
				  "WHERE json_extract(extra, "
				  "'$.context_window') = '200k-1M'"),
			 1785000);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_token_spend WHERE "
				  "provider = 'anthropic' AND model = "
				  "'claude-sonnet-4-5-20250929' AND timestamp "
				  "= '2026-11-02T00:00:00Z' AND period_end = "
				  "'2026-11-03T00:00:00Z' AND day = "
				  "'2026-11-02' AND tokens_in = 120000 AND "
				  "cache_write = 50000 AND cache_read = 800000 "
				  "AND requests IS NULL AND price_version = "
				  "'2026-12-01' AND json_extract(extra, "
				  "'$.workspace_id') = 'wrkspc_01DevAgents7Qm' "
				  "AND json_extract(extra, "
				  "'$.server_tool_use.web_search_requests') = "
				  "'3'"),
			 1);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_token_spend WHERE "
				  "provider = 'openai' AND model = "
				  "'gpt-5.4-mini-2026-03-17' AND tokens_in = "
				  "500000 AND cache_read = 1500000 AND "
				  "cache_write = 0 AND requests = 420 AND "
				  "price_version = '2026-12-03' AND "
				  "json_extract(extra, '$.project_id') = "
				  "'proj_agents' AND json_extract(extra, "
				  "'$.input_audio_tokens') IS NULL"),
			 1);
	/* the summary by kind: rows, and requests where the source says */
	sum = summary(f, "kind", NULL);
	assert_int_equal(json_array_size(json_object_get(sum, "groups")), 2);
	assert_int_equal(total(sum, "rows"), 7);
	assert_int_equal(total(sum, "requests"), 1495);
	assert_int_equal(total(sum, "cost_micros"), 4332500 + 2187000);
	json_decref(sum);
	sum = summary(f, "model", "anthropic_usage");
	assert_int_equal(total(sum, "requests"), 0);
	assert_int_equal(total(sum, "cost_micros"), 4332500);
	json_decref(sum);
	{
		struct fin_token_filter flt = { .kind = "claude" };
		json_t *out = NULL;
		assert_int_equal(fin_token_summary(f->c, "kind", &flt, &out,
						   &err),
				 HC_EINVAL);
		assert_string_equal(err.field, "kind");
	}

	/* again: nothing new */
	assert_int_equal(import(f, FIN_IMPORT_ANTHROPIC_USAGE,
				DATA "anthropic-usage.json", NULL, false, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.created, 0);
	assert_int_equal(res.duplicates, 4);
	assert_int_equal(res.updated, 0);

	/* the 2026-11-03 bucket fetched again after more requests (12000
	 * in, 9000 out), with the next day's: its figures are replaced and
	 * priced anew (12000 * 5 + 9000 * 25 + 2000 * 6.25 + 50000 * 0.5 =
	 * 322500), the rest is there already */
	{
		char *data = slurp(DATA "anthropic-usage.json", &n);
		const char *from = "\"uncached_input_tokens\": 10000,";
		char *at = strstr(data, from);
		struct fin_import_opts o = { 0 };
		assert_non_null(at);
		assert_int_equal(
			asprintf(&later,
				 "%.*s\"uncached_input_tokens\": 12000,%s",
				 (int)(at - data), data, at + strlen(from)),
			(int)n);
		free(data);
		at = strstr(later, "\"output_tokens\": 8000");
		assert_non_null(at);
		memcpy(at, "\"output_tokens\": 9000", 21);
		assert_int_equal(fin_import(f->c, FIN_IMPORT_ANTHROPIC_USAGE,
					    "later.json", later, strlen(later),
					    &o, &res, &err),
				 HC_OK);
		assert_int_equal(res.updated, 1);
		assert_int_equal(res.duplicates, 3);
		assert_int_equal(res.created, 0);
		assert_int_equal(count(f, "SELECT cost_micros FROM "
					  "fin_token_spend WHERE model = "
					  "'claude-opus-4-5-20251101'"),
				 322500);
		assert_int_equal(count(f, "SELECT COUNT(*) FROM "
					  "fin_token_spend WHERE source_file = "
					  "'later.json'"),
				 1);
		/* and again: nothing changes */
		assert_int_equal(fin_import(f->c, FIN_IMPORT_ANTHROPIC_USAGE,
					    "later.json", later, strlen(later),
					    &o, &res, &err),
				 HC_OK);
		assert_int_equal(res.updated, 0);
		assert_int_equal(res.duplicates, 4);
		free(later);
	}
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_token_spend"), 7);
	/* the reports are token spend, not cost entries */
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_costs"), 0);
	fin_import_result_release(&res);
}

struct usage_bad_case {
	const char *where;
	const char *reason;
};

static void check_usage_bad(struct fixture *f, enum fin_import_kind kind,
			    const char *path, const struct usage_bad_case *k,
			    size_t n, int stored)
{
	struct fin_import_result res = { 0 };
	struct hc_err err = { 0 };
	int64_t before = count(f, "SELECT COUNT(*) FROM fin_token_spend");
	assert_int_equal(import(f, kind, path, NULL, false, &res, &err),
			 HC_EPARSE);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.source, path);
	assert_non_null(strstr(err.msg, k[0].where));
	assert_int_equal(res.nbad, n);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_token_spend"),
			 before);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(res.bad[i].line, 0);
		assert_string_equal(res.bad[i].where, k[i].where);
		if (!strstr(res.bad[i].reason, k[i].reason))
			fail_msg("%s %s: '%s' does not say '%s'", path,
				 k[i].where, res.bad[i].reason, k[i].reason);
	}
	assert_int_equal(import(f, kind, path, NULL, true, &res, &err), HC_OK);
	assert_int_equal(res.created, stored);
	assert_int_equal(res.nbad, n);
	fin_import_result_release(&res);
}

static void test_usage_bad_rows(void **state)
{
	static const struct usage_bad_case anthropic[] = {
		{ "[0].data[0].results[1]", "no model" },
		{ "[0].data[0].results[2]",
		  "'claude-future-9-20270101' is not in the anthropic price "
		  "table" },
		{ "[0].data[0].results[3]", "group_by[]=service_tier" },
		{ "[0].data[0].results[4]", "'priority' is not in the price "
					    "table" },
		{ "[0].data[0].results[5]", "group_by[]=context_window" },
		{ "[0].data[0].results[6]", "output_tokens is not a "
					    "non-negative integer" },
		{ "[0].data[0].results[7]", "'1M+'" },
		{ "[0].data[1].results[0]", "starting_at is not a date-time" },
		{ "[0].data[2].results[1]",
		  "gives this group twice, with other figures than at "
		  "[0].data[0].results[0]" },
	};
	static const struct usage_bad_case openai[] = {
		{ "[0].data[0].results[1]", "group_by=batch" },
		{ "[0].data[0].results[2]", "input_audio_tokens" },
		{ "[0].data[0].results[3]", "'gpt-5.5-2026-04-23' has "
					    "long-context prices" },
		{ "[0].data[0].results[4]", "'flex' is not in the price table" },
		{ "[0].data[0].results[5]", "input_cached_tokens (5000) is "
					    "more than input_tokens (1000)" },
		{ "[0].data[0].results[6]", "'o3-2025-04-16' is not in the "
					    "openai price table" },
		{ "[0].data[0].results[7]", "num_model_requests" },
		{ "[0].data[1].results[0]", "start_time is not a Unix time" },
	};
	struct fixture *f = *state;
	struct fin_import_result res = { 0 };
	struct hc_err err = { 0 };
	/* the good result, and its identical twin counted once */
	check_usage_bad(f, FIN_IMPORT_ANTHROPIC_USAGE,
			DATA "bad/anthropic-usage-bad.json", anthropic,
			HC_COUNT(anthropic), 1);
	check_usage_bad(f, FIN_IMPORT_OPENAI_USAGE,
			DATA "bad/openai-usage-bad.json", openai,
			HC_COUNT(openai), 1);
	/* a file that is not a report is refused whole, skip_bad or not */
	assert_int_equal(import(f, FIN_IMPORT_OPENAI_USAGE,
				DATA "invoices.csv", NULL, true, &res, &err),
			 HC_EPARSE);
	assert_int_equal(import(f, FIN_IMPORT_ANTHROPIC_USAGE,
				CLAUDE "session-a.jsonl", NULL, true, &res,
				&err),
			 HC_EPARSE);
	/* a cost report is not a usage report: every result is bad, none is
	 * taken for zero tokens */
	assert_int_equal(import(f, FIN_IMPORT_ANTHROPIC_USAGE,
				DATA "anthropic-cost.json", NULL, true, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.created, 0);
	assert_int_equal(res.nbad, 3);
	assert_non_null(strstr(res.bad[0].reason, "no uncached_input_tokens"));
	assert_int_equal(import(f, FIN_IMPORT_OPENAI_USAGE,
				DATA "openai-cost.json", NULL, true, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.created, 0);
	assert_int_equal(res.nbad, 3);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_token_spend"), 2);
	fin_import_result_release(&res);
}

/*
 * A database from before token spend kinds (fin schema 1): its Claude
 * Code rows become kind claude_code, one request each, when the hub opens
 * it.
 */
static void test_token_spend_upgrade(void **state)
{
	struct fixture *f = *state;
	struct fin_import_result res = { 0 };
	struct hc_err err = { 0 };
	struct hc_hub_config cfg = { .log_level = HC_LOG_ERROR };
	assert_int_equal(import(f, FIN_IMPORT_CLAUDE_CODE,
				CLAUDE "session-b.jsonl", NULL, true, &res,
				&err),
			 HC_OK);
	assert_int_equal(res.created, 2);
	/* back to schema 1: the columns of version 2 dropped, versions 2
	 * and 3 forgotten */
	assert_int_equal(
		hc_exec_script(f->c,
			       "DROP INDEX fin_token_spend_kind_idx;"
			       "ALTER TABLE fin_token_spend DROP COLUMN kind;"
			       "ALTER TABLE fin_token_spend DROP COLUMN "
			       "requests;"
			       "ALTER TABLE fin_token_spend DROP COLUMN "
			       "period_end;"
			       "ALTER TABLE fin_token_spend DROP COLUMN extra;"
			       "DELETE FROM schema_migrations WHERE component "
			       "= 'fin' AND version > 1;",
			       &err),
		HC_OK);
	hc_store_release(f->hub->store, f->c);
	hc_hub_close(f->hub);
	cfg.db_url = tu_db_url(f->dir, "fin.db");
	assert_int_equal(hc_hub_open(&f->hub, &finhub_def, &cfg, &err), HC_OK);
	f->c = hc_store_acquire(f->hub->store, &err);
	assert_non_null(f->c);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_token_spend WHERE "
				  "kind = 'claude_code' AND requests = 1 AND "
				  "extra = '{}'"),
			 2);
	{
		json_t *sum = summary(f, "kind", "claude_code");
		assert_int_equal(total(sum, "requests"), 2);
		json_decref(sum);
	}
	fin_import_result_release(&res);
}

struct bad_case {
	enum fin_import_kind kind;
	const char *file;
	int line;
	const char *reason;
};

static void test_bad_rows(void **state)
{
	static const struct bad_case cases[] = {
		{ FIN_IMPORT_FOCUS, "focus-bad.csv", 3, "not a decimal" },
		{ FIN_IMPORT_FOCUS, "focus-bad.csv", 4, "not a date-time" },
		{ FIN_IMPORT_FOCUS, "focus-bad.csv", 5, "ChargeCategory" },
		{ FIN_IMPORT_FOCUS, "focus-bad.csv", 6, "5 fields" },
		{ FIN_IMPORT_FOCUS, "focus-bad.csv", 7, "'XYZ'" },
		{ FIN_IMPORT_FOCUS, "focus-bad.csv", 8, "out of range" },
		{ FIN_IMPORT_INVOICES, "invoices-bad.csv", 3,
		  "more decimals than EUR" },
		{ FIN_IMPORT_INVOICES, "invoices-bad.csv", 4, "not a date" },
		{ FIN_IMPORT_INVOICES, "invoices-bad.csv", 5, "vendor is empty" },
		{ FIN_IMPORT_INVOICES, "invoices-bad.csv", 6,
		  "not a decimal number" },
		{ FIN_IMPORT_INVOICES, "invoices-bad.csv", 7, "'EURO'" },
		{ FIN_IMPORT_INVOICES, "invoices-bad.csv", 8, "6 fields" },
	};
	struct fixture *f = *state;
	struct fin_import_result res = { 0 };
	struct hc_err err = { 0 };
	const char *last = NULL;
	for (size_t i = 0; i < HC_COUNT(cases); i++) {
		const struct bad_case *k = &cases[i];
		char path[256];
		bool found = false;
		snprintf(path, sizeof(path), DATA "bad/%s", k->file);
		if (!last || strcmp(last, k->file) != 0) {
			/* without skip_bad: refused at the first bad line,
			 * nothing stored */
			assert_int_equal(import(f, k->kind, path, "ops", false,
						&res, &err),
					 HC_EPARSE);
			assert_int_equal(err.line, k->line);
			assert_string_equal(err.source, path);
			assert_int_equal(res.nbad, 6);
			assert_int_equal(count(f, "SELECT COUNT(*) FROM "
						  "fin_costs"),
					 0);
			last = k->file;
		}
		for (size_t b = 0; b < res.nbad; b++)
			found = found || (res.bad[b].line == k->line &&
					  strstr(res.bad[b].reason, k->reason));
		if (!found)
			fail_msg("%s:%d: expected a bad row about '%s'", k->file,
				 k->line, k->reason);
	}
	/* with skip_bad the good lines are stored: FOCUS 2 and 9 */
	assert_int_equal(import(f, FIN_IMPORT_FOCUS, DATA "bad/focus-bad.csv",
				"ops", true, &res, &err),
			 HC_OK);
	assert_int_equal(res.created, 2);
	assert_int_equal(res.nbad, 6);
	/* broken files are refused whole, skip_bad or not */
	assert_int_equal(import(f, FIN_IMPORT_FOCUS,
				DATA "bad/focus-unterminated.csv", NULL, true,
				&res, &err),
			 HC_EPARSE);
	assert_int_equal(err.line, 2);
	assert_int_equal(import(f, FIN_IMPORT_INVOICES,
				DATA "bad/invoices-stray-quote.csv", NULL, true,
				&res, &err),
			 HC_EPARSE);
	assert_int_equal(err.line, 2);
	assert_int_equal(import(f, FIN_IMPORT_INVOICES,
				DATA "bad/invoices-no-amount.csv", NULL, true,
				&res, &err),
			 HC_EPARSE);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "amount"));
	/* a FOCUS file is not an invoice list */
	assert_int_equal(import(f, FIN_IMPORT_INVOICES, DATA "focus.csv", NULL,
				true, &res, &err),
			 HC_EPARSE);
	/* an unknown domain is refused before anything is stored */
	assert_int_equal(import(f, FIN_IMPORT_INVOICES, DATA "invoices.csv",
				"nowhere", false, &res, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "domain");
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_costs"), 2);
	fin_import_result_release(&res);
}

/* Budgets follow costs and raise each alert once per crossing. */
static void test_budget_alerts(void **state)
{
	struct fixture *f = *state;
	struct fin_import_result res = { 0 };
	struct hc_err err = { 0 };
	json_t *in, *out = NULL;
	in = json_pack("{sssssiss}", "domain", "cloud", "period", "2026-03",
		       "allocated", 30000, "currency", "USD");
	assert_int_equal(fin_set_budget(f->c, in, &out, &err), HC_OK);
	json_decref(in);
	assert_string_equal(hc_json_str(out, "id"), "cloud-2026-03");
	json_decref(out);
	/* spent 284.50 of 300.00 USD: 94% >= 80% -> warning, in the same
	 * transaction as the import */
	assert_int_equal(import(f, FIN_IMPORT_FOCUS, DATA "focus.csv", "cloud",
				false, &res, &err),
			 HC_OK);
	assert_int_equal(count(f, "SELECT spent FROM fin_budgets"), 28450);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM progress_events WHERE "
				  "event_type = 'alert_raised' AND "
				  "correlation_id = "
				  "'budget_alert:cloud-2026-03:warning'"),
			 1);
	/* importing again changes nothing: no second alert */
	assert_int_equal(import(f, FIN_IMPORT_FOCUS, DATA "focus.csv", "cloud",
				false, &res, &err),
			 HC_OK);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM progress_events"), 1);
	/* 250.00: exceeded; then 400.00: both resolved */
	in = json_pack("{sssssi}", "domain", "cloud", "period", "2026-03",
		       "allocated", 25000);
	assert_int_equal(fin_set_budget(f->c, in, &out, &err), HC_OK);
	json_decref(in);
	assert_string_equal(hc_json_str(out, "alert_state"), "exceeded");
	json_decref(out);
	in = json_pack("{sssssi}", "domain", "cloud", "period", "2026-03",
		       "allocated", 40000);
	assert_int_equal(fin_set_budget(f->c, in, &out, &err), HC_OK);
	json_decref(in);
	assert_string_equal(hc_json_str(out, "alert_state"), "ok");
	json_decref(out);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM progress_events WHERE "
				  "event_type = 'alert_resolved'"),
			 2);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM progress_events"), 4);
	/* a budget in EUR cannot add up USD costs without a rate */
	in = json_pack("{sssssiss}", "domain", "cloud", "period", "2026-Q1",
		       "allocated", 100000, "currency", "EUR");
	assert_int_equal(fin_set_budget(f->c, in, &out, &err), HC_EINVAL);
	assert_string_equal(err.field, "currency");
	assert_int_equal(count(f, "SELECT COUNT(*) FROM fin_budgets"), 1);
	/* with a rate it can: 284.50 USD at 0.92 = 261.74 EUR */
	{
		json_t *rate = json_pack("{ssssss}", "from_currency", "USD",
					 "to_currency", "EUR", "rate", "0.92");
		assert_int_equal(fin_save(f->c, &fin_rate_resource, NULL, rate,
					  NULL, &err),
				 HC_OK);
		json_decref(rate);
	}
	json_decref(in); /* the refused create filled it in: start afresh */
	in = json_pack("{sssssiss}", "domain", "cloud", "period", "2026-Q1",
		       "allocated", 100000, "currency", "EUR");
	assert_int_equal(fin_set_budget(f->c, in, &out, &err), HC_OK);
	json_decref(in);
	assert_int_equal(json_integer_value(json_object_get(out, "spent")),
			 26174);
	json_decref(out);
	fin_import_result_release(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal_parse),
		cmocka_unit_test(test_rounding_and_conversion),
		cmocka_unit_test(test_periods_and_dates),
		cmocka_unit_test(test_prices),
		cmocka_unit_test(test_prices_openai_and_terms),
		cmocka_unit_test(test_import_kind_names),
		cmocka_unit_test(test_commitment_charges),
		cmocka_unit_test(test_runway_worked_example),
		cmocka_unit_test(test_runway_infinite),
		cmocka_unit_test_setup_teardown(test_import_idempotent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_import_claude_code, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_import_usage, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_usage_bad_rows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_token_spend_upgrade, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_alerts, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
