/*
 * prices.c - the versioned token price table fin-hub prices Claude Code
 * sessions with, and the cost arithmetic.
 *
 * Source: Anthropic's model pricing page,
 * https://platform.claude.com/docs/en/about-claude/pricing ("Model
 * pricing" and "Long context pricing"), checked on the date in .version.
 * When Anthropic changes a price or adds a model, add or change the entry
 * and move the version to the day it was checked: costs already imported
 * keep the version they were priced with (token spend's price_version).
 *
 * Prices are micro-USD per million tokens, so $3 / MTok is 3000000 and
 * $0.03 / MTok is 30000: integers, exact. A model that is not here is never
 * priced (fin_price_find returns NULL and the import reports the line).
 */
#include <string.h>

#include "finhub/finhub.h"

/* Dollars and cents per MTok, written for the reader, as micro-USD per
 * MTok: D(0, 3) is $0.03 = 30000, D(22, 50) is $22.50. Integers only. */
#define D(dollars, cents) ((int64_t)(dollars) * 1000000 + (cents) * 10000)
#define R5(in, out, w5, w1, rd) { in, out, w5, w1, rd }

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
	.prices = anthropic,
	.count = HC_COUNT(anthropic),
};

/* "-YYYYMMDD" exactly. */
static bool date_suffix(const char *s)
{
	if (s[0] != '-' || strlen(s) != 9)
		return false;
	return strspn(s + 1, "0123456789") == 8;
}

const struct fin_price *fin_price_find(const struct fin_price_table *t,
				       const char *model)
{
	for (size_t i = 0; model && i < t->count; i++) {
		size_t n = strlen(t->prices[i].model);
		if (strncmp(model, t->prices[i].model, n) != 0)
			continue;
		if (model[n] == '\0' || date_suffix(model + n))
			return &t->prices[i];
	}
	return NULL;
}

int fin_price_cost(const struct fin_price *p, const struct fin_usage *u,
		   int64_t *cost_micros)
{
	const struct fin_rates5 *r = &p->base;
	__int128 sum;
	int64_t prompt;
	if (u->input < 0 || u->output < 0 || u->cache_write_5m < 0 ||
	    u->cache_write_1h < 0 || u->cache_read < 0)
		return HC_EINVAL;
	prompt = u->input + u->cache_write_5m + u->cache_write_1h +
		 u->cache_read;
	if (p->long_threshold && prompt > p->long_threshold)
		r = &p->long_ctx;
	/* tokens * micro-USD per million tokens = 10^-12 USD */
	sum = (__int128)u->input * r->input + (__int128)u->output * r->output +
	      (__int128)u->cache_write_5m * r->cache_write_5m +
	      (__int128)u->cache_write_1h * r->cache_write_1h +
	      (__int128)u->cache_read * r->cache_read;
	{
		__int128 q = sum / 1000000, rem = sum % 1000000;
		if (2 * rem > 1000000 || (2 * rem == 1000000 && (q & 1)))
			q++;
		if (q > INT64_MAX)
			return HC_EINVAL;
		*cost_micros = (int64_t)q;
	}
	return HC_OK;
}

static json_t *rates_json(const struct fin_rates5 *r)
{
	return json_pack("{sIsIsIsIsI}", "input", (json_int_t)r->input,
			 "output", (json_int_t)r->output, "cache_write_5m",
			 (json_int_t)r->cache_write_5m, "cache_write_1h",
			 (json_int_t)r->cache_write_1h, "cache_read",
			 (json_int_t)r->cache_read);
}

json_t *fin_price_table_json(const struct fin_price_table *t)
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
	return json_pack("{sssssssss{so}}", "version", t->version, "source",
			 t->source, "currency", t->currency, "unit",
			 "micro-units of the currency per million tokens",
			 "providers", t->provider, models);
}
