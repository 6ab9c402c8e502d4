/*
 * finhub/finhub.h - fin-hub, the resource viability hub: budgets,
 * commitments, cash accounts, exchange rates, ingested costs, token spend,
 * burn rate and runway, on top of hub-core.
 *
 * Money is always an integer in the minor unit of an explicit ISO 4217
 * currency (cents for EUR and USD, yen for JPY); token prices and token
 * costs are integers in micro-units (millionths of the major unit). There
 * is no floating point anywhere in money: decimal text is parsed into
 * integers exactly (finhub/money.c) and every rounding follows one
 * documented rule, round half to even. Amounts in different currencies are
 * only added up through a configured rate (the rates resource); without
 * one the operation is refused naming the currency.
 *
 * Service functions run on a connection; each writing one joins the
 * caller's transaction or opens its own, and raises or resolves the budget
 * and runway alerts (progress events) in that same transaction.
 */
#ifndef FINHUB_FINHUB_H
#define FINHUB_FINHUB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hubcore/hub.h"
#include "hubcore/mcp.h"

extern const struct hc_hub_def finhub_def;
extern const struct hc_mcp_def finhub_mcp;

extern const struct hc_resource fin_budget_resource;
extern const struct hc_resource fin_commitment_resource;
extern const struct hc_resource fin_account_resource;
extern const struct hc_resource fin_rate_resource;
extern const struct hc_resource fin_cost_resource;
extern const struct hc_resource fin_token_resource;

/* ---- money (money.c) ------------------------------------------------------ */

/* An ISO 4217 currency and the number of decimals of its minor unit. */
struct fin_currency {
	const char *code;
	int exponent;
};

/* The currency with this code (exact, upper case), or NULL. */
const struct fin_currency *fin_currency(const char *code);

/*
 * Check obj's member field as a currency code: upper-cased in place, and
 * HC_EINVAL naming the field when it is not in the ISO 4217 table. A
 * missing or null member is left alone.
 */
int fin_check_currency(json_t *obj, const char *field, struct hc_err *err);

/* How fin_decimal_parse treats digits below the target unit. */
enum fin_round {
	FIN_EXACT,     /* refuse them (unless they are zeros) */
	FIN_HALF_EVEN, /* round half to even ("banker's rounding") */
};

/* Why fin_decimal_parse refused its input. */
enum fin_dec_status {
	FIN_DEC_OK,
	FIN_DEC_SYNTAX,    /* not a decimal number */
	FIN_DEC_PRECISION, /* more decimals than the unit allows (FIN_EXACT) */
	FIN_DEC_RANGE,     /* does not fit in 64 bits */
};

/*
 * Parse decimal text ("-12.5", "0.0000023", "1.2E-7", "+3") exactly and
 * return it in units of 10^-scale: with scale 2, "12.345" is 1234.5 units,
 * refused by FIN_EXACT and rounded to 1234 by FIN_HALF_EVEN. Spaces around
 * the number are ignored; thousands separators are not accepted. s need not
 * be NUL-terminated.
 */
enum fin_dec_status fin_decimal_parse(const char *s, size_t len, int scale,
				      enum fin_round mode, int64_t *out);

/* n / d rounded half to even (d != 0; signs allowed). */
int64_t fin_div_half_even(int64_t n, int64_t d);

/*
 * Format an amount of units of 10^-exponent as decimal text: (123456, 2)
 * is "1234.56", (-5, 2) is "-0.05". Returns buf.
 */
char *fin_format_amount(int64_t amount, int exponent, char *buf, size_t size);

/*
 * Convert amount (minor units of from) into minor units of to at rate, the
 * price of one unit of from in to, given in billionths (rate_nano =
 * 920000000 for 0.92). Rounded half to even. HC_EINVAL on overflow.
 */
int fin_convert_units(int64_t amount, int from_exp, int to_exp,
		      int64_t rate_nano, int64_t *out);

/*
 * Convert amount from one currency into another with the configured rate
 * (the rates table, from -> to). The same currency converts to itself; a
 * missing rate is HC_EINVAL naming field "currency".
 */
int fin_convert(struct hc_conn *c, int64_t amount, const char *from,
		const char *to, int64_t *out, struct hc_err *err);

/* ---- months and periods (money.c) ------------------------------------------ */

/* A month as a number: year * 12 + (month - 1). */
typedef int fin_month;

/* Parse "YYYY-MM" (or the month of a "YYYY-MM-DD..." date) into *out. */
bool fin_month_parse(const char *s, fin_month *out);
/* "YYYY-MM" into buf (size >= 8). */
char *fin_month_format(fin_month m, char *buf, size_t size);

/*
 * A budget period: "YYYY-MM" (a month), "YYYY-Qn" (a quarter) or "YYYY"
 * (a year). Fills the first and last month; the period is normalized in
 * place (q -> Q). False when it is none of these.
 */
bool fin_period_parse(char *period, fin_month *first, fin_month *last);

/*
 * Normalize a date-time to RFC 3339 UTC ("2026-05-01T00:00:00Z"): accepts
 * "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.frac]]" with "Z", an offset or none
 * (UTC), and a space instead of "T". out must hold 21 bytes. False for
 * anything else.
 */
bool fin_datetime_utc(const char *s, size_t len, char *out, size_t size);

/* ---- JSON with exact numbers (money.c) ------------------------------------- */

/*
 * Parse JSON text with every number kept as the string of its digits
 * ({"value": 0.06} reads as {"value": "0.06"}), so that no amount ever
 * passes through a double. Lines stay where they were; columns in errors
 * may shift by the quotes added.
 */
int fin_json_parse_exact(const char *data, size_t len, json_t **out,
			 struct hc_err *err);
/* An integer member of such a document (a string of digits or an integer);
 * false when absent, null or not an integer. */
bool fin_json_int(const json_t *obj, const char *key, int64_t *out);

/* ---- prices (prices.c) ------------------------------------------------------ */

/* USD per million tokens, in micro-USD: $3 / MTok is 3000000. */
struct fin_rates5 {
	int64_t input, output, cache_write_5m, cache_write_1h, cache_read;
};

struct fin_price {
	const char *model; /* API id without the date suffix */
	struct fin_rates5 base;
	/* Long-context tier: a request whose prompt (input + cache writes +
	 * cache reads) is over threshold tokens pays these rates on every
	 * token; 0 = no such tier. */
	int64_t long_threshold;
	struct fin_rates5 long_ctx;
};

struct fin_price_table {
	const char *version; /* the date the table was checked */
	const char *source;  /* where the prices come from */
	const char *provider;
	const char *currency;
	/* How a dated snapshot of a model id follows the entry's id, each Y,
	 * M and D a digit: "-YYYYMMDD" (Anthropic), "-YYYY-MM-DD" (OpenAI). */
	const char *date_suffix;
	/* The batch tier's price in percent of the standard price. */
	int batch_percent;
	const struct fin_price *prices;
	size_t count;
};

extern const struct fin_price_table fin_anthropic_prices;
extern const struct fin_price_table fin_openai_prices;
/* Every table, NULL-terminated. */
extern const struct fin_price_table *const fin_price_tables[];

/*
 * The price of a model id: an exact entry, or an entry followed by the
 * table's date suffix ("claude-sonnet-4-5-20250929" is
 * "claude-sonnet-4-5", "gpt-4o-mini-2024-07-18" is "gpt-4o-mini"). NULL
 * for any other model: an unknown model is never priced. Entries are
 * tried in order, so a snapshot priced apart comes before its family.
 */
const struct fin_price *fin_price_find(const struct fin_price_table *t,
				       const char *model);

struct fin_usage {
	int64_t input, output, cache_write_5m, cache_write_1h, cache_read;
};

/* Which rates of a model with a long-context tier apply. */
enum fin_context {
	FIN_CTX_BY_PROMPT, /* one request: the long rates when its prompt
			    * (input + cache writes + reads) is over the
			    * threshold */
	FIN_CTX_BASE,      /* the report says: within the base window */
	FIN_CTX_LONG,      /* the report says: over it */
};

/* How the tokens were served, where that changes their price. */
struct fin_price_terms {
	enum fin_context context;
	bool batch; /* the batch tier: batch_percent of every rate */
};

/*
 * The cost of usage in micro-units of t's currency, rounded half to even
 * once, at the end. A model without a long-context tier pays its base
 * rates whatever the context. t may be NULL when terms->batch is false.
 * HC_EINVAL when a token count is negative or the cost overflows.
 */
int fin_price_cost_terms(const struct fin_price_table *t,
			 const struct fin_price *p, const struct fin_usage *u,
			 const struct fin_price_terms *terms,
			 int64_t *cost_micros);

/* The cost of one request (FIN_CTX_BY_PROMPT, standard tier). */
int fin_price_cost(const struct fin_price *p, const struct fin_usage *u,
		   int64_t *cost_micros);

/* Every table as JSON for GET /prices:
 * {"unit", "providers": {provider: {"version", "source", "currency",
 * "date_suffix", "batch_percent", "models": [...]}}}. */
json_t *fin_price_tables_json(void);

/* ---- runway arithmetic (runway.c) -------------------------------------------- */

#define FIN_HORIZON_MAX 60

struct fin_runway_month {
	fin_month month;
	int64_t commitments_out, commitments_in, variable;
	int64_t gross, net, balance_end;
};

struct fin_runway {
	int64_t balance;
	int threshold_months;
	/* variable costs of the trailing months, oldest first */
	int64_t history[3];
	int history_months; /* how many of them count (0-3) */
	int64_t variable_avg;
	int trend;          /* -1 falling, 0 flat, 1 rising */
	int64_t trend_per_month;
	int64_t gross, net; /* the burn of the first projected month */
	bool infinite;
	int64_t months_tenths; /* floor(balance * 10 / net), when finite */
	bool below_threshold;
	int horizon;
	struct fin_runway_month months[FIN_HORIZON_MAX];
	int cash_out; /* index of the first month ending below zero, or -1 */
};

/*
 * The runway arithmetic, pure: r->balance, threshold_months, history,
 * history_months, horizon and each month's commitments are filled by the
 * caller; this computes the average of the variable history (half to
 * even), the trend, each month's gross and net burn and closing balance,
 * the months remaining (balance / net burn of the first month, infinite
 * when that is <= 0) and whether they are below the threshold.
 */
void fin_runway_compute(struct fin_runway *r);

/*
 * The runway of a domain from its account: balance, currency and
 * threshold, projected from month first (or, when first is 0, the month of
 * the account's as_of) over horizon months (1-60, 0 = 12). *out is the
 * projection as JSON.
 */
int fin_runway_get(struct hc_conn *c, const char *domain, fin_month first,
		   int horizon, json_t **out, struct hc_err *err);

/*
 * Burn rate of a domain (or of all, domain NULL) over a period: actual
 * costs and projected burn (commitments plus the trailing average of
 * variable costs) per month, in currency (NULL: the domain's account or
 * budget currency).
 */
int fin_burn_rate(struct hc_conn *c, const char *domain, const char *period,
		  const char *currency, json_t **out, struct hc_err *err);

/* ---- writes and alerts (ledger.c) -------------------------------------------- */

/*
 * Create (key NULL) or update (key given) a budget, commitment, account or
 * rate, and bring the derived figures and alerts up to date in the same
 * transaction. *out is the row as stored afterwards.
 */
int fin_save(struct hc_conn *c, const struct hc_resource *r, const char *key,
	     json_t *in, json_t **out, struct hc_err *err);
/* The same, an update applying only at revision expected (0 = any):
 * HC_ESTALE otherwise (PATCH with If-Match). */
int fin_save_if(struct hc_conn *c, const struct hc_resource *r,
		const char *key, json_t *in, int64_t expected, json_t **out,
		struct hc_err *err);

/*
 * Set the budget of (domain, period) from in (allocated, currency,
 * warn_percent, notes): created when missing, updated otherwise.
 */
int fin_set_budget(struct hc_conn *c, json_t *in, json_t **out,
		   struct hc_err *err);
/* Set the cash account of a domain from in, likewise. */
int fin_set_account(struct hc_conn *c, json_t *in, json_t **out,
		    struct hc_err *err);

/*
 * Recompute every budget of a domain (spent, committed, alert state) and
 * its runway state, raising or resolving alerts. Runs in the caller's
 * transaction.
 */
int fin_refresh_domain(struct hc_conn *c, const char *domain,
		       struct hc_err *err);

enum fin_cadence { FIN_MONTHLY, FIN_QUARTERLY, FIN_YEARLY, FIN_ONCE };

/* What the projections need of a commitment. end is the month of its
 * end_date, or INT_MAX when it is open-ended. */
struct fin_commitment {
	bool income; /* direction "in" */
	int64_t amount;
	char currency[4];
	enum fin_cadence cadence;
	fin_month start, end;
};

/* What a commitment charges in month m: its amount in the months its
 * cadence falls on between start and end, 0 in the others. */
int64_t fin_commitment_charge(const struct fin_commitment *k, fin_month m);

/* ---- imports (import.c and its parsers) ---------------------------------------- */

enum fin_import_kind {
	FIN_IMPORT_FOCUS,
	FIN_IMPORT_INVOICES,
	FIN_IMPORT_CLAUDE_CODE,
	FIN_IMPORT_ANTHROPIC_COST,
	FIN_IMPORT_OPENAI_COST,
	FIN_IMPORT_ANTHROPIC_USAGE,
	FIN_IMPORT_OPENAI_USAGE,
};

/* The kind named "focus", "invoices", "claude-code", "anthropic-cost",
 * "openai-cost", "anthropic-usage" or "openai-usage"; false for anything
 * else. */
bool fin_import_kind_parse(const char *name, enum fin_import_kind *out);
const char *fin_import_kind_name(enum fin_import_kind k);
/* The file name ending of a kind's files (".csv", ".jsonl", ".json"): what
 * the CLI takes from a directory. */
const char *fin_import_kind_ext(enum fin_import_kind k);
/* The names, NULL-terminated, in the order of the enum. */
extern const char *const fin_import_kind_names[];
/* "focus, invoices, ..." for messages. */
extern const char fin_import_kind_list[];

struct fin_import_opts {
	bool skip_bad;      /* store the good rows of a file with bad ones */
	const char *domain; /* the domain the costs are charged to, or NULL */
};

struct fin_bad_row {
	int line;       /* 1-based; 0 in a JSON document */
	char where[64]; /* the JSON path in a document, or "" */
	char reason[300];
};

struct fin_import_result {
	char source[256];
	enum fin_import_kind kind;
	int rows;       /* rows read (good ones) */
	int created;    /* rows stored */
	int duplicates; /* rows already stored (same dedup key) */
	int updated;    /* usage reports: rows stored before with other
			 * token counts (a bucket fetched while it filled
			 * up), now replaced */
	int skipped;    /* lines that carry nothing to import */
	struct fin_bad_row *bad;
	size_t nbad, capbad;
};

void fin_import_result_release(struct fin_import_result *res);
json_t *fin_import_result_json(const struct fin_import_result *res);

/*
 * Import one file's bytes in one transaction: parse, refuse bad rows (all
 * of them are listed in res->bad; without opts->skip_bad nothing is
 * stored and the answer is HC_EPARSE naming the first one's line), insert
 * the rows whose dedup key is new (for a usage report, replace the token
 * counts of a stored bucket that has other ones), and refresh the budgets
 * and runway of the domains touched. Importing the same file again adds
 * nothing.
 */
int fin_import(struct hc_conn *c, enum fin_import_kind kind,
	       const char *source, const char *data, size_t len,
	       const struct fin_import_opts *opts,
	       struct fin_import_result *res, struct hc_err *err);

/* The kinds of token spend rows: claude_code, anthropic_usage,
 * openai_usage (NULL-terminated). */
extern const char *const fin_token_kinds[];

/* Filters of the token spend summary; NULL for any. */
struct fin_token_filter {
	const char *kind; /* claude_code, anthropic_usage, openai_usage */
	const char *provider, *model, *session_id;
	const char *from, *to; /* days, inclusive */
};

/* "provider, model, session, day or kind", for messages. */
extern const char fin_token_groups[];

/*
 * Token spend summed by provider, model, session, day or kind (by NULL:
 * model): per group and in total, "rows", "requests" (what the sources
 * count; Anthropic's usage report counts none), tokens and cost.
 */
int fin_token_summary(struct hc_conn *c, const char *by,
		      const struct fin_token_filter *f, json_t **out,
		      struct hc_err *err);

#endif
