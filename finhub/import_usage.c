/*
 * import_usage.c - the usage reports of the vendors' admin APIs, as saved
 * JSON: Anthropic's GET /v1/organizations/usage_report/messages and
 * OpenAI's GET /v1/organization/usage/completions. A file is one page
 * ({"data": [...]}) or an array of pages; each result of each time bucket
 * is one token spend row: the tokens a group (model, workspace, API key,
 * project, ...) used in the bucket, priced from the provider's table.
 *
 * A result is priced only when the report says everything its price
 * depends on: the model, whether the tokens were batch ones, and, for a
 * model with long-context prices, which side of the threshold they were
 * on. Whatever is missing or not in the price table makes the result a bad
 * row naming its JSON path and what to do: never a guess, never zero.
 *
 * The dedup key is the bucket start and the grouping members (the
 * dimensions the report can be grouped by, model included), not the
 * figures: a bucket fetched again while it was still filling up replaces
 * the figures stored for it (the import's "updated"), and a file that
 * gives one bucket and group twice with different figures has a bad row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finhub/fin_int.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"

/* What one result says, in the terms of the price table. */
struct usage_row {
	const char *model;
	struct fin_usage use;
	struct fin_price_terms terms;
	bool has_requests;
	int64_t requests;
};

/* How one provider's usage report is read. */
struct usage_spec {
	const char *prefix;   /* of the dedup key; the report's name */
	const char *kind;     /* token spend kind */
	const struct fin_price_table *prices;
	const char *start_key, *end_key; /* the bucket's bounds */
	bool epoch;                      /* Unix seconds, or RFC 3339 */
	const char *const *dims;  /* grouping members: part of the key */
	const char *const *taken; /* members read into fields, not extra */
	/* Read the figures and terms of one result (its model is known);
	 * false with why filled in for a bad row. */
	bool (*read)(const json_t *result, const struct fin_price *price,
		     struct usage_row *u, char *why, size_t size);
};

/* A token count: absent or null is 0; anything but a non-negative
 * integer is refused. */
static bool count(const json_t *obj, const char *key, int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	*out = 0;
	if (!v || json_is_null(v))
		return true;
	return fin_json_int(obj, key, out) && *out >= 0;
}

/* One token count to read: its member (in obj, or in its object member
 * sub when that is set), whether every result has it, and where it goes. */
struct count_spec {
	const char *sub, *key;
	bool required;
	int64_t *out;
};

/* Read every count; false naming the first bad one in why. */
static bool counts(const json_t *r, const struct count_spec *c, size_t n,
		   char *why, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		const json_t *obj = c[i].sub ? json_object_get(r, c[i].sub) : r;
		if (c[i].required && !json_object_get(obj, c[i].key)) {
			snprintf(why, size,
				 "no %s: not a result of a usage report",
				 c[i].key);
			return false;
		}
		if ((c[i].sub && obj && !json_is_null(obj) &&
		     !json_is_object(obj)) ||
		    !count(obj, c[i].key, c[i].out)) {
			snprintf(why, size,
				 "%s%s%s is not a non-negative integer",
				 c[i].sub ? c[i].sub : "", c[i].sub ? "." : "",
				 c[i].key);
			return false;
		}
	}
	return true;
}

/* ---- Anthropic ---------------------------------------------------------------- */

/* Grouping members of GET /v1/organizations/usage_report/messages
 * (group_by[]); null when the report is not grouped by them. */
static const char *const anthropic_dims[] = {
	"model",	   "workspace_id", "api_key_id",
	"account_id",	   "service_account_id", "service_tier",
	"context_window", "inference_geo", "speed",
	NULL
};

static const char *const anthropic_taken[] = {
	"model", "uncached_input_tokens", "cache_read_input_tokens",
	"cache_creation", "output_tokens", NULL
};

static bool anthropic_read(const json_t *r, const struct fin_price *price,
			   struct usage_row *u, char *why, size_t size)
{
	const struct count_spec c[] = {
		{ NULL, "uncached_input_tokens", true, &u->use.input },
		{ NULL, "cache_read_input_tokens", false, &u->use.cache_read },
		{ NULL, "output_tokens", true, &u->use.output },
		{ "cache_creation", "ephemeral_5m_input_tokens", false,
		  &u->use.cache_write_5m },
		{ "cache_creation", "ephemeral_1h_input_tokens", false,
		  &u->use.cache_write_1h },
	};
	const char *tier = hc_json_str(r, "service_tier");
	const char *ctx = hc_json_str(r, "context_window");
	if (!counts(r, c, HC_COUNT(c), why, size))
		return false;
	if (!tier) {
		snprintf(why, size,
			 "no service_tier: fetch the report with "
			 "group_by[]=service_tier too (batch tokens cost %d%%)",
			 fin_anthropic_prices.batch_percent);
		return false;
	}
	if (strcmp(tier, "batch") == 0) {
		u->terms.batch = true;
	} else if (strcmp(tier, "standard") != 0) {
		snprintf(why, size,
			 "service tier '%.40s' is not in the price table "
			 "(standard and batch are)",
			 tier);
		return false;
	}
	if (!ctx) {
		if (price->long_threshold) {
			snprintf(why, size,
				 "model '%.100s' has long-context prices (over "
				 "%lld prompt tokens): fetch the report with "
				 "group_by[]=context_window too",
				 u->model, (long long)price->long_threshold);
			return false;
		}
		u->terms.context = FIN_CTX_BASE;
	} else if (strcmp(ctx, "0-200k") == 0) {
		u->terms.context = FIN_CTX_BASE;
	} else if (strcmp(ctx, "200k-1M") == 0) {
		u->terms.context = FIN_CTX_LONG;
	} else {
		snprintf(why, size,
			 "context_window '%.40s' is not 0-200k or 200k-1M", ctx);
		return false;
	}
	return true;
}

static const struct usage_spec anthropic_usage = {
	.prefix = "anthropic-usage",
	.kind = "anthropic_usage",
	.prices = &fin_anthropic_prices,
	.start_key = "starting_at",
	.end_key = "ending_at",
	.epoch = false,
	.dims = anthropic_dims,
	.taken = anthropic_taken,
	.read = anthropic_read,
};

/* ---- OpenAI ---------------------------------------------------------------------- */

/* Grouping members of GET /v1/organization/usage/completions (group_by). */
static const char *const openai_dims[] = {
	"model", "project_id", "user_id", "api_key_id", "batch",
	"service_tier", "api_source", NULL
};

/* Read into fields, or (the unpriced counts) checked to be zero. */
static const char *const openai_taken[] = {
	"model",	       "object",	      "input_tokens",
	"output_tokens",       "input_cached_tokens", "num_model_requests",
	"input_audio_tokens", "output_audio_tokens", "output_image_tokens",
	NULL
};

/* Token counts the price table has no rates for: audio and image output
 * are priced apart from text. */
static const char *const openai_unpriced[] = {
	"input_audio_tokens", "output_audio_tokens", "output_image_tokens",
	NULL
};

static bool openai_read(const json_t *r, const struct fin_price *price,
			struct usage_row *u, char *why, size_t size)
{
	const json_t *batch = json_object_get(r, "batch");
	const char *tier = hc_json_str(r, "service_tier");
	int64_t in = 0, cached = 0;
	const struct count_spec c[] = {
		{ NULL, "input_tokens", true, &in },
		{ NULL, "input_cached_tokens", false, &cached },
		{ NULL, "output_tokens", true, &u->use.output },
	};
	if (!counts(r, c, HC_COUNT(c), why, size))
		return false;
	if (cached > in) {
		snprintf(why, size,
			 "input_cached_tokens (%lld) is more than input_tokens "
			 "(%lld), which include them",
			 (long long)cached, (long long)in);
		return false;
	}
	if (!fin_json_int(r, "num_model_requests", &u->requests)) {
		snprintf(why, size, "num_model_requests is missing or not a "
				    "non-negative integer");
		return false;
	}
	for (const char *const *k = openai_unpriced; *k; k++) {
		int64_t n = 0;
		if (!count(r, *k, &n) || n > 0) {
			snprintf(why, size,
				 "%s: these tokens have their own prices, not "
				 "in the price table",
				 *k);
			return false;
		}
	}
	/* input_tokens includes the cached ones */
	u->use.input = in - cached;
	u->use.cache_read = cached;
	u->has_requests = true;
	if (!json_is_boolean(batch)) {
		snprintf(why, size,
			 "no batch: fetch the report with group_by=batch too "
			 "(batch tokens cost %d%%)",
			 fin_openai_prices.batch_percent);
		return false;
	}
	u->terms.batch = json_is_true(batch);
	if (tier && strcmp(tier, "default") != 0) {
		snprintf(why, size,
			 "service tier '%.40s' is not in the price table "
			 "(default is)",
			 tier);
		return false;
	}
	if (price->long_threshold) {
		snprintf(why, size,
			 "model '%.100s' has long-context prices (over %lld "
			 "prompt tokens) and the usage report does not say "
			 "which tokens had them",
			 u->model, (long long)price->long_threshold);
		return false;
	}
	u->terms.context = FIN_CTX_BASE;
	return true;
}

static const struct usage_spec openai_usage = {
	.prefix = "openai-usage",
	.kind = "openai_usage",
	.prices = &fin_openai_prices,
	.start_key = "start_time",
	.end_key = "end_time",
	.epoch = true,
	.dims = openai_dims,
	.taken = openai_taken,
	.read = openai_read,
};

/* ---- the walk ---------------------------------------------------------------------- */

static bool bucket_time(const struct usage_spec *s, const json_t *bucket,
			const char *key, char *out, size_t size)
{
	const char *t;
	if (s->epoch)
		return fin__epoch_utc(bucket, key, out, size);
	t = hc_json_str(bucket, key);
	return t && fin_datetime_utc(t, strlen(t), out, size);
}

/* "<prefix>:" + 32 hex digits of the SHA-256 of the bucket start and every
 * grouping member, present or not. */
static int usage_key(const struct usage_spec *s, const char *start,
		     const json_t *result, char *out, size_t size)
{
	struct hc_buf b = HC_BUF_INIT(1 << 20);
	char hex[65];
	int rc = hc_buf_adds(&b, start);
	for (const char *const *d = s->dims; rc == HC_OK && *d; d++) {
		json_t *v = json_object_get(result, *d);
		char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT |
						       JSON_SORT_KEYS)
			       : NULL;
		rc = hc_buf_addc(&b, '\0');
		if (rc == HC_OK)
			rc = hc_buf_addf(&b, "%s=%s", *d, text ? text : "null");
		free(text);
	}
	if (rc == HC_OK) {
		fin__sha256_hex(b.data, b.len, hex);
		hex[32] = '\0';
		snprintf(out, size, "%s:%s", s->prefix, hex);
	}
	hc_buf_release(&b);
	return rc;
}

static json_t *extra_of(const json_t *result, const char *const *taken)
{
	json_t *extra = json_object(), *v;
	const char *k;
	json_object_foreach((json_t *)result, k, v)
	{
		bool skip = json_is_null(v);
		for (const char *const *t = taken; *t && !skip; t++)
			skip = strcmp(*t, k) == 0;
		if (!skip)
			json_object_set(extra, k, v);
	}
	return extra;
}

/* The figures that say whether two rows of one bucket and group agree. */
static bool same_figures(const json_t *a, const json_t *b)
{
	static const char *const figures[] = { "tokens_in", "tokens_out",
					       "cache_write", "cache_read",
					       "requests", "cost_micros",
					       NULL };
	for (const char *const *f = figures; *f; f++) {
		json_t *x = json_object_get(a, *f), *y = json_object_get(b, *f);
		if (!(x == y || (x && y && json_equal(x, y))))
			return false;
	}
	return true;
}

/* One result: a row appended to p->rows, a bad row, or an error. */
static int one_result(struct fin_parse *p, const struct usage_spec *s,
		      const char *where, const char *start, const char *end,
		      const json_t *result)
{
	const struct fin_price_table *tab = s->prices;
	const struct fin_price *price;
	struct usage_row u = { 0 };
	char why[300], key[128];
	int64_t cost = 0;
	json_t *row, *earlier;

	if (!json_is_object(result))
		return fin__bad(p, 0, where, "not an object");
	u.model = hc_json_str(result, "model");
	if (!u.model)
		return fin__bad(p, 0, where,
				"no model: fetch the report grouped by model "
				"(it is priced by model)");
	price = fin_price_find(tab, u.model);
	if (!price)
		return fin__bad(p, 0, where,
				"model '%.100s' is not in the %s price table "
				"(version %s); it is reported, not priced at "
				"zero",
				u.model, tab->provider, tab->version);
	if (!s->read(result, price, &u, why, sizeof(why)))
		return fin__bad(p, 0, where, "%s", why);
	if (fin_price_cost_terms(tab, price, &u.use, &u.terms, &cost) != HC_OK)
		return fin__bad(p, 0, where, "the cost overflows");
	if (usage_key(s, start, result, key, sizeof(key)) != HC_OK)
		return HC_ENOMEM;
	row = json_pack("{sssssssssssIsIsIsIsIsssssIso}", "dedup_key", key,
			"kind", s->kind, "provider", tab->provider, "model",
			u.model, "timestamp", start, "tokens_in",
			(json_int_t)u.use.input, "tokens_out",
			(json_int_t)u.use.output, "cache_write",
			(json_int_t)(u.use.cache_write_5m +
				     u.use.cache_write_1h),
			"cache_read", (json_int_t)u.use.cache_read,
			"cost_micros", (json_int_t)cost, "currency",
			tab->currency, "price_version", tab->version,
			"source_line", (json_int_t)0, "extra",
			extra_of(result, s->taken));
	if (!row)
		return HC_ENOMEM;
	if (end)
		hc_json_set_str(row, "period_end", end);
	if (u.has_requests)
		json_object_set_new(row, "requests",
				    json_integer((json_int_t)u.requests));
	earlier = json_object_get(p->by_key, key);
	if (earlier && !same_figures(earlier, row)) {
		json_decref(row);
		return fin__bad(p, 0, where,
				"the bucket starting %s gives this group "
				"twice, with other figures than at %s",
				start, hc_json_str(earlier, "where"));
	}
	if (!earlier) {
		json_t *first = json_pack("{ss}", "where", where);
		json_object_update(first, row);
		json_object_set_new(p->by_key, key, first);
	}
	json_array_append_new(p->rows, row);
	return HC_OK;
}

static int parse_usage(struct fin_parse *p, const struct usage_spec *s,
		       const char *data, size_t len, struct hc_err *err)
{
	json_t *doc = NULL, *page, *bucket, *result;
	size_t pi, bi, ri;
	int rc = fin__report_pages(p, data, len, &doc, err);
	if (rc != HC_OK) {
		json_decref(doc);
		return rc;
	}
	json_array_foreach(doc, pi, page)
	{
		json_t *buckets = json_object_get(page, "data");
		if (!json_is_array(buckets)) {
			json_decref(doc);
			return hc_err_at(err, HC_EPARSE, p->source, 1, 0,
					 "not a usage report: page %zu has no "
					 "\"data\" array",
					 pi);
		}
		json_array_foreach(buckets, bi, bucket)
		{
			char start[32], end[32], where[64];
			bool has_start = bucket_time(s, bucket, s->start_key,
						     start, sizeof(start));
			bool has_end = bucket_time(s, bucket, s->end_key, end,
						   sizeof(end));
			json_array_foreach(json_object_get(bucket, "results"),
					   ri, result)
			{
				snprintf(where, sizeof(where),
					 "[%zu].data[%zu].results[%zu]", pi, bi,
					 ri);
				rc = has_start
					     ? one_result(p, s, where, start,
							  has_end ? end : NULL,
							  result)
					     : fin__bad(p, 0, where,
							"%s is not a %s",
							s->start_key,
							s->epoch ? "Unix time"
								 : "date-time");
				if (rc != HC_OK)
					break;
			}
			if (rc != HC_OK)
				break;
		}
		if (rc != HC_OK)
			break;
	}
	json_decref(doc);
	return rc == HC_OK ? HC_OK
			   : hc_err_set(err, HC_ENOMEM, "out of memory");
}

int fin__parse_anthropic_usage(struct fin_parse *p, const char *data,
			       size_t len, struct hc_err *err)
{
	return parse_usage(p, &anthropic_usage, data, len, err);
}

int fin__parse_openai_usage(struct fin_parse *p, const char *data, size_t len,
			    struct hc_err *err)
{
	return parse_usage(p, &openai_usage, data, len, err);
}
