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
	return rc;
}

static int64_t count(struct fixture *f, const char *sql)
{
	struct hc_err err = { 0 };
	int64_t n = -1;
	if (hc_query_int(f->c, &n, sql, NULL, 0, &err) != HC_OK)
		fail_msg("%s: %s", sql, err.msg);
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
		cmocka_unit_test(test_commitment_charges),
		cmocka_unit_test(test_runway_worked_example),
		cmocka_unit_test(test_runway_infinite),
		cmocka_unit_test_setup_teardown(test_import_idempotent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_import_claude_code, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_alerts, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
