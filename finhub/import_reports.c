/*
 * import_reports.c - the cost reports of the vendors' admin APIs, as
 * saved JSON: Anthropic's GET /v1/organizations/cost_report and OpenAI's
 * GET /v1/organization/costs. A file is one page ({"data": [...]}) or an
 * array of pages. Each result of each time bucket is one cost entry.
 *
 * Anthropic's amounts are decimal strings in cents, with fractions of a
 * cent ("123.456"); OpenAI's are JSON numbers in dollars (0.06). Both are
 * read as text (fin_json_parse_exact) and rounded half to even to the
 * currency's minor unit; amount_raw keeps the text as sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "finhub/fin_int.h"
#include "hubcore/json.h"

int fin__report_pages(struct fin_parse *p, const char *data, size_t len,
		      json_t **doc, struct hc_err *err)
{
	int rc = fin_json_parse_exact(data, len, doc, err);
	if (rc != HC_OK) {
		snprintf(err->source, sizeof(err->source), "%s", p->source);
		err->status = HC_EPARSE;
		return HC_EPARSE;
	}
	if (json_is_object(*doc)) {
		json_t *arr = json_array();
		json_array_append(arr, *doc);
		json_decref(*doc);
		*doc = arr;
	}
	if (!json_is_array(*doc))
		return hc_err_at(err, HC_EPARSE, p->source, 1, 0,
				 "not a report: expected an object with "
				 "\"data\" or an array of them");
	return HC_OK;
}

/* Members of a result that are not null and not taken into fields. */
static json_t *extra_of(const json_t *result, const char *const *skip)
{
	json_t *extra = json_object(), *v;
	const char *k;
	json_object_foreach((json_t *)result, k, v)
	{
		bool s = false;
		for (const char *const *x = skip; *x && !s; x++)
			s = strcmp(*x, k) == 0;
		if (!s && !json_is_null(v))
			json_object_set(extra, k, v);
	}
	return extra;
}

static int key_of(struct fin_parse *p, const char *prefix, const char *when,
		  const json_t *result, char *key, size_t size,
		  struct hc_err *err)
{
	char *canon = json_dumps(result, JSON_SORT_KEYS | JSON_COMPACT);
	char *buf = NULL;
	int n, rc;
	if (!canon)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	n = asprintf(&buf, "%s%c%s", when, 0, canon);
	free(canon);
	if (n < 0)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	rc = fin__row_key(p, prefix, buf, (size_t)n, key, size);
	free(buf);
	return rc == HC_OK ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
}

/* Text of an amount given as a string or (exact) number. */
static const char *amount_text(const json_t *v)
{
	return json_string_value(v);
}

static int round_amount(struct fin_parse *p, const char *where,
			const char *text, const char *currency, int minus,
			int64_t *out)
{
	const struct fin_currency *cur = fin_currency(currency);
	enum fin_dec_status st;
	if (!cur) {
		fin__bad(p, 0, where, "currency '%s' is not an ISO 4217 code",
			 currency);
		return -1;
	}
	if (!text) {
		fin__bad(p, 0, where, "no amount");
		return -1;
	}
	/* text is in units of 10^-minus of the currency: minus = 2 for
	 * Anthropic's cents, 0 for OpenAI's dollars */
	st = fin_decimal_parse(text, strlen(text), cur->exponent - minus,
			       FIN_HALF_EVEN, out);
	if (st != FIN_DEC_OK) {
		fin__bad(p, 0, where, "amount '%s' is not a decimal number",
			 text);
		return -1;
	}
	return 0;
}

int fin__parse_anthropic_cost(struct fin_parse *p, const char *data,
			      size_t len, struct hc_err *err)
{
	static const char *const taken[] = { "amount", "currency",
					     "description", NULL };
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
					 "not an Anthropic cost report: page "
					 "%zu has no \"data\" array",
					 pi);
		}
		json_array_foreach(buckets, bi, bucket)
		{
			const char *start = hc_json_str(bucket, "starting_at");
			const char *end = hc_json_str(bucket, "ending_at");
			char ps[32], pe[32], where[64], date[11], key[128];
			json_array_foreach(json_object_get(bucket, "results"),
					   ri, result)
			{
				const char *cur = hc_json_str(result,
							      "currency");
				const char *text = amount_text(
					json_object_get(result, "amount"));
				const char *what;
				int64_t amt = 0;
				json_t *row;
				snprintf(where, sizeof(where),
					 "[%zu].data[%zu].results[%zu]", pi, bi,
					 ri);
				if (!start || !fin_datetime_utc(start,
								strlen(start),
								ps, sizeof(ps))) {
					fin__bad(p, 0, where,
						 "starting_at is not a "
						 "date-time");
					continue;
				}
				if (round_amount(p, where, text,
						 cur ? cur : "USD", 2,
						 &amt) != 0)
					continue;
				rc = key_of(p, "anthropic", start, result, key,
					    sizeof(key), err);
				if (rc != HC_OK)
					break;
				snprintf(date, sizeof(date), "%.10s", ps);
				row = json_pack(
					"{sssssIsssssssssIsssssoss}",
					"dedup_key", key, "kind",
					"anthropic_cost", "source_line",
					(json_int_t)0, "date", date,
					"period_start", ps, "currency",
					cur ? cur : "USD", "amount_raw", text,
					"amount", (json_int_t)amt, "provider",
					"Anthropic", "charge_category", "Usage",
					"extra", extra_of(result, taken),
					"service", "Claude API");
				what = hc_json_str(result, "description");
				if (what)
					hc_json_set_str(row, "description",
							what);
				if (hc_json_str(result, "model"))
					hc_json_set_str(
						row, "service",
						hc_json_str(result, "model"));
				if (end && fin_datetime_utc(end, strlen(end),
							    pe, sizeof(pe)))
					hc_json_set_str(row, "period_end", pe);
				json_array_append_new(p->rows, row);
			}
			if (rc != HC_OK)
				break;
		}
		if (rc != HC_OK)
			break;
	}
	json_decref(doc);
	return rc;
}

bool fin__epoch_utc(const json_t *obj, const char *key, char *out,
		    size_t size)
{
	int64_t t = 0;
	time_t tt;
	struct tm tm;
	if (!fin_json_int(obj, key, &t) || t < 0 || t > 253402300799)
		return false;
	tt = (time_t)t;
	return gmtime_r(&tt, &tm) &&
	       strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

int fin__parse_openai_cost(struct fin_parse *p, const char *data, size_t len,
			   struct hc_err *err)
{
	static const char *const taken[] = { "amount", "line_item", "object",
					     NULL };
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
					 "not an OpenAI costs page: page %zu "
					 "has no \"data\" array",
					 pi);
		}
		json_array_foreach(buckets, bi, bucket)
		{
			char ps[32], pe[32], where[64], date[11], key[128];
			bool has_start = fin__epoch_utc(bucket, "start_time", ps,
						   sizeof(ps));
			json_array_foreach(json_object_get(bucket, "results"),
					   ri, result)
			{
				json_t *a = json_object_get(result, "amount");
				const char *text = amount_text(
					json_object_get(a, "value"));
				const char *c = hc_json_str(a, "currency");
				char cur[4] = "USD";
				int64_t amt = 0;
				json_t *row;
				snprintf(where, sizeof(where),
					 "[%zu].data[%zu].results[%zu]", pi, bi,
					 ri);
				if (c) {
					size_t k = 0;
					for (; c[k] && k < 3; k++)
						cur[k] = (char)(c[k] >= 'a' &&
								c[k] <= 'z'
							? c[k] - 32
							: c[k]);
					cur[k] = '\0';
				}
				if (!has_start) {
					fin__bad(p, 0, where,
						 "start_time is not a Unix "
						 "time");
					continue;
				}
				if (round_amount(p, where, text, cur, 0,
						 &amt) != 0)
					continue;
				rc = key_of(p, "openai", ps, result, key,
					    sizeof(key), err);
				if (rc != HC_OK)
					break;
				snprintf(date, sizeof(date), "%.10s", ps);
				row = json_pack(
					"{sssssIsssssssssIsssssoss}",
					"dedup_key", key, "kind", "openai_cost",
					"source_line", (json_int_t)0, "date",
					date, "period_start", ps, "currency",
					cur, "amount_raw", text, "amount",
					(json_int_t)amt, "provider", "OpenAI",
					"charge_category", "Usage", "extra",
					extra_of(result, taken), "service",
					"OpenAI API");
				if (hc_json_str(result, "line_item"))
					hc_json_set_str(
						row, "service",
						hc_json_str(result,
							    "line_item"));
				if (fin__epoch_utc(bucket, "end_time", pe,
					      sizeof(pe)))
					hc_json_set_str(row, "period_end", pe);
				json_array_append_new(p->rows, row);
			}
			if (rc != HC_OK)
				break;
		}
		if (rc != HC_OK)
			break;
	}
	json_decref(doc);
	return rc;
}
