/*
 * prices.c - the versioned token price tables fin-hub prices AI token spend
 * with (Claude Code sessions, Anthropic's and OpenAI's usage reports), and
 * the cost arithmetic.
 *
 * One table per provider, each with the page its prices come from and the
 * day they were checked (its version). When a provider changes a price or
 * adds a model, add or change the entry and move the version to the day it
 * was checked: spend already imported keeps the version it was priced with
 * (token spend's price_version).
 *
 * Prices are micro-USD per million tokens, so $3 / MTok is 3000000 and
 * $0.03 / MTok is 30000: integers, exact. A model that is not in its
 * provider's table is never priced (fin_price_find returns NULL and the
 * import reports the row).
 */
#include <string.h>

#include "finhub/finhub.h"

/* Dollars and cents per MTok, written for the reader, as micro-USD per
 * MTok: D(0, 3) is $0.03 = 30000, D(22, 50) is $22.50. Integers only. */
#define D(dollars, cents) ((int64_t)(dollars) * 1000000 + (cents) * 10000)
/* Dollars and thousandths: D3(0, 75) is $0.075 = 75000. */
#define D3(dollars, mills) ((int64_t)(dollars) * 1000000 + (mills) * 1000)
#define R5(in, out, w5, w1, rd) { in, out, w5, w1, rd }
/* OpenAI has no cache writes: input, cached input (reads), output. */
#define R3(in, rd, out) { in, out, 0, 0, rd }

/*
 * Source: Anthropic's model pricing page,
 * https://platform.claude.com/docs/en/about-claude/pricing ("Model
 * pricing", "Long context pricing" and "Batch processing": the batch tier
 * is half of every rate).
 */
static const struct fin_price anthropic[] = {
	{ "claude-fable-5-1", R5(D(10, 0), D(50, 0), D(12, 50), D(20, 0), D(0, 25)), 0, { 0 } },
	{ "claude-fable-5", R5(D(10, 0), D(50, 0), D(12, 50), D(20, 0), D(1, 0)), 0, { 0 } },
	{ "claude-opus-5", R5(D(5, 0), D(25, 0), D(6, 25), D(10, 0), D(0, 50)), 0, { 0 } },
	{ "claude-opus-4-8", R5(D(5, 0), D(25, 0), D(6, 25), D(10, 0), D(0, 50)), 0, { 0 } },
	{ "claude-opus-4-7", R5(D(5, 0), D(25, 0), D(6, 25), D(10, 0), D(0, 50)), 0, { 0 } },
	{ "claude-opus-4-6", R5(D(5, 0), D(25, 0), D(6, 25), D(10, 0), D(0, 50)), 0, { 0 } },
	{ "claude-opus-4-5", R5(D(5, 0), D(25, 0), D(6, 25), D(10, 0), D(0, 50)), 0, { 0 } },
	{ "claude-opus-4-1", R5(D(15, 0), D(75, 0), D(18, 75), D(30, 0), D(1, 50)), 0, { 0 } },
	{ "claude-opus-4", R5(D(15, 0), D(75, 0), D(18, 75), D(30, 0), D(1, 50)), 0, { 0 } },
	{ "claude-sonnet-4-6", R5(D(3, 0), D(15, 0), D(3, 75), D(6, 0), D(0, 30)), 0, { 0 } },
	{ "claude-sonnet-4-5", R5(D(3, 0), D(15, 0), D(3, 75), D(6, 0), D(0, 30)), 200000,
	  R5(D(6, 0), D(22, 50), D(7, 50), D(12, 0), D(0, 60)) },
	{ "claude-sonnet-4", R5(D(3, 0), D(15, 0), D(3, 75), D(6, 0), D(0, 30)), 200000,
	  R5(D(6, 0), D(22, 50), D(7, 50), D(12, 0), D(0, 60)) },
	{ "claude-3-7-sonnet", R5(D(3, 0), D(15, 0), D(3, 75), D(6, 0), D(0, 30)), 0, { 0 } },
	{ "claude-haiku-4-5", R5(D(1, 0), D(5, 0), D(1, 25), D(2, 0), D(0, 10)), 0, { 0 } },
	{ "claude-3-5-haiku", R5(D(0, 80), D(4, 0), D(1, 0), D(1, 60), D(0, 8)), 0, { 0 } },
	{ "claude-3-opus", R5(D(15, 0), D(75, 0), D(18, 75), D(30, 0), D(1, 50)), 0, { 0 } },
	{ "claude-3-haiku", R5(D(0, 25), D(1, 25), D(0, 30), D(0, 50), D(0, 3)), 0, { 0 } },
};

const struct fin_price_table fin_anthropic_prices = {
	.version = "2026-12-01",
	.source = "https://platform.claude.com/docs/en/about-claude/pricing",
	.provider = "anthropic",
	.currency = "USD",
	.date_suffix = "-YYYYMMDD",
	.batch_percent = 50,
	.prices = anthropic,
	.count = HC_COUNT(anthropic),
};

/*
 * Source: OpenAI's pricing page, https://developers.openai.com/api/docs/
 * pricing, standard tier ("Batch": half of every rate). Checked on
 * 2026-12-03 from copies of the page (GitHub's Copilot price table,
 * price trackers quoting it): OpenAI's page itself could not be read from
 * where this was written, so check it when you next change the table.
 * Models whose prompt of over 272000 tokens pays other rates have them as
 * the long-context tier. gpt-4o-2024-05-13 kept the launch price of gpt-4o
 * and has no cached-input discount. The gpt-5.6 family (cache writes) and
 * the o-series are not here yet: their rows are reported, not priced.
 */
static const struct fin_price openai[] = {
	{ "gpt-5.5", R3(D(5, 0), D(0, 50), D(30, 0)), 272000,
	  R3(D(10, 0), D(1, 0), D(45, 0)) },
	{ "gpt-5.4-mini", R3(D(0, 75), D3(0, 75), D(4, 50)), 0, { 0 } },
	{ "gpt-5.4-nano", R3(D(0, 20), D(0, 2), D(1, 25)), 0, { 0 } },
	{ "gpt-5.4", R3(D(2, 50), D(0, 25), D(15, 0)), 272000,
	  R3(D(5, 0), D(0, 50), D(22, 50)) },
	{ "gpt-5.2", R3(D(1, 75), D3(0, 175), D(14, 0)), 0, { 0 } },
	{ "gpt-5.1", R3(D(1, 25), D3(0, 125), D(10, 0)), 0, { 0 } },
	{ "gpt-5-mini", R3(D(0, 25), D3(0, 25), D(2, 0)), 0, { 0 } },
	{ "gpt-5-nano", R3(D(0, 5), D3(0, 5), D(0, 40)), 0, { 0 } },
	{ "gpt-5", R3(D(1, 25), D3(0, 125), D(10, 0)), 0, { 0 } },
	{ "gpt-4.1-mini", R3(D(0, 40), D(0, 10), D(1, 60)), 0, { 0 } },
	{ "gpt-4.1-nano", R3(D(0, 10), D3(0, 25), D(0, 40)), 0, { 0 } },
	{ "gpt-4.1", R3(D(2, 0), D(0, 50), D(8, 0)), 0, { 0 } },
	{ "gpt-4o-mini", R3(D(0, 15), D3(0, 75), D(0, 60)), 0, { 0 } },
	{ "gpt-4o-2024-05-13", R3(D(5, 0), D(5, 0), D(15, 0)), 0, { 0 } },
	{ "gpt-4o", R3(D(2, 50), D(1, 25), D(10, 0)), 0, { 0 } },
};

const struct fin_price_table fin_openai_prices = {
	.version = "2026-12-03",
	.source = "https://developers.openai.com/api/docs/pricing",
	.provider = "openai",
	.currency = "USD",
	.date_suffix = "-YYYY-MM-DD",
	.batch_percent = 50,
	.prices = openai,
	.count = HC_COUNT(openai),
};

const struct fin_price_table *const fin_price_tables[] = {
	&fin_anthropic_prices, &fin_openai_prices, NULL
};

/* s is a date written as the table's pattern: each Y, M or D of it a
 * digit, every other byte as it is. */
static bool date_suffix(const char *s, const char *pattern)
{
	for (; *pattern; s++, pattern++) {
		if (strchr("YMD", *pattern)) {
			if (*s < '0' || *s > '9')
				return false;
		} else if (*s != *pattern) {
			return false;
		}
	}
	return *s == '\0';
}

const struct fin_price *fin_price_find(const struct fin_price_table *t,
				       const char *model)
{
	for (size_t i = 0; model && i < t->count; i++) {
		size_t n = strlen(t->prices[i].model);
		if (strncmp(model, t->prices[i].model, n) != 0)
			continue;
		if (model[n] == '\0' || date_suffix(model + n, t->date_suffix))
			return &t->prices[i];
	}
	return NULL;
}

int fin_price_cost_terms(const struct fin_price_table *t,
			 const struct fin_price *p, const struct fin_usage *u,
			 const struct fin_price_terms *terms,
			 int64_t *cost_micros)
{
	const struct fin_rates5 *r = &p->base;
	__int128 sum, den = 1000000;
	int64_t prompt;
	if (u->input < 0 || u->output < 0 || u->cache_write_5m < 0 ||
	    u->cache_write_1h < 0 || u->cache_read < 0)
		return HC_EINVAL;
	prompt = u->input + u->cache_write_5m + u->cache_write_1h +
		 u->cache_read;
	if (p->long_threshold &&
	    (terms->context == FIN_CTX_LONG ||
	     (terms->context == FIN_CTX_BY_PROMPT &&
	      prompt > p->long_threshold)))
		r = &p->long_ctx;
	/* tokens * micro-USD per million tokens = 10^-12 USD */
	sum = (__int128)u->input * r->input + (__int128)u->output * r->output +
	      (__int128)u->cache_write_5m * r->cache_write_5m +
	      (__int128)u->cache_write_1h * r->cache_write_1h +
	      (__int128)u->cache_read * r->cache_read;
	if (terms->batch) {
		/* a percentage of the whole, rounded once at the end */
		sum *= t->batch_percent;
		den *= 100;
	}
	{
		__int128 q = sum / den, rem = sum % den;
		if (2 * rem > den || (2 * rem == den && (q & 1)))
			q++;
		if (q > INT64_MAX)
			return HC_EINVAL;
		*cost_micros = (int64_t)q;
	}
	return HC_OK;
}

int fin_price_cost(const struct fin_price *p, const struct fin_usage *u,
		   int64_t *cost_micros)
{
	static const struct fin_price_terms per_request = {
		.context = FIN_CTX_BY_PROMPT, .batch = false
	};
	return fin_price_cost_terms(NULL, p, u, &per_request, cost_micros);
}

static json_t *rates_json(const struct fin_rates5 *r)
{
	return json_pack("{sIsIsIsIsI}", "input", (json_int_t)r->input,
			 "output", (json_int_t)r->output, "cache_write_5m",
			 (json_int_t)r->cache_write_5m, "cache_write_1h",
			 (json_int_t)r->cache_write_1h, "cache_read",
			 (json_int_t)r->cache_read);
}

static json_t *table_json(const struct fin_price_table *t)
{
	json_t *models = json_array();
	for (size_t i = 0; i < t->count; i++) {
		const struct fin_price *p = &t->prices[i];
		json_t *m = json_pack("{ssso}", "model", p->model, "rates",
				      rates_json(&p->base));
		if (p->long_threshold)
			json_object_set_new(
				m, "long_context",
				json_pack("{sIso}", "threshold_tokens",
					  (json_int_t)p->long_threshold,
					  "rates", rates_json(&p->long_ctx)));
		json_array_append_new(models, m);
	}
	return json_pack("{sssssssssiso}", "version", t->version, "source",
			 t->source, "currency", t->currency, "date_suffix",
			 t->date_suffix, "batch_percent", t->batch_percent,
			 "models", models);
}

json_t *fin_price_tables_json(void)
{
	json_t *providers = json_object();
	for (const struct fin_price_table *const *t = fin_price_tables; *t;
	     t++)
		json_object_set_new(providers, (*t)->provider, table_json(*t));
	return json_pack("{ssso}", "unit",
			 "micro-units of the currency per million tokens",
			 "providers", providers);
}
