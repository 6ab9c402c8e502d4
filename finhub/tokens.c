/*
 * tokens.c - token spend summed by provider, model, session or day.
 */
#include <stdio.h>
#include <string.h>

#include "finhub/fin_int.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

/* The grouping column for each "by": a fixed list, never input. */
static const struct {
	const char *by;
	const char *column;
} groups[] = {
	{ "provider", "provider" },
	{ "model", "model" },
	{ "session", "session_id" },
	{ "day", "day" },
	{ "kind", "kind" },
};

const char fin_token_groups[] = "provider, model, session, day or kind";

static json_t *sums(struct hc_stmt *st, int first)
{
	char text[48];
	int64_t cost = hc_stmt_int(st, first + 6);
	return json_pack("{sIsIsIsIsIsIsIss}", "rows",
			 (json_int_t)hc_stmt_int(st, first), "requests",
			 (json_int_t)hc_stmt_int(st, first + 1), "tokens_in",
			 (json_int_t)hc_stmt_int(st, first + 2), "tokens_out",
			 (json_int_t)hc_stmt_int(st, first + 3), "cache_write",
			 (json_int_t)hc_stmt_int(st, first + 4), "cache_read",
			 (json_int_t)hc_stmt_int(st, first + 5), "cost_micros",
			 (json_int_t)cost, "cost",
			 fin_format_amount(cost, 6, text, sizeof(text)));
}

static bool is_kind(const char *kind)
{
	for (const char *const *v = fin_token_kinds; *v; v++)
		if (strcmp(*v, kind) == 0)
			return true;
	return false;
}

int fin_token_summary(struct hc_conn *c, const char *by,
		      const struct fin_token_filter *f, json_t **out,
		      struct hc_err *err)
{
	static const char where[] =
		" FROM fin_token_spend WHERE (CAST(? AS TEXT) IS NULL OR kind = ?) AND "
		"(CAST(? AS TEXT) IS NULL OR provider = ?) AND "
		"(CAST(? AS TEXT) IS NULL OR model = ?) AND (CAST(? AS TEXT) IS NULL OR session_id = ?) "
		"AND (CAST(? AS TEXT) IS NULL OR day >= ?) AND (CAST(? AS TEXT) IS NULL OR day <= ?)";
	static const char agg[] =
		"COUNT(*), COALESCE(SUM(requests), 0), "
		"COALESCE(SUM(tokens_in), 0), "
		"COALESCE(SUM(tokens_out), 0), COALESCE(SUM(cache_write), 0), "
		"COALESCE(SUM(cache_read), 0), COALESCE(SUM(cost_micros), 0)";
	struct hc_buf sql = HC_BUF_INIT(2048);
	struct hc_value p[12];
	const char *column = NULL;
	struct hc_stmt *st = NULL;
	json_t *items = NULL, *total = NULL;
	int rc;

	if (!by)
		by = "model";
	for (size_t i = 0; i < HC_COUNT(groups); i++)
		if (strcmp(groups[i].by, by) == 0)
			column = groups[i].column;
	if (!column)
		return hc_err_field(err, HC_EINVAL, "by",
				    "'by' must be %s, not '%s'",
				    fin_token_groups, by);
	if (f->kind && !is_kind(f->kind))
		return hc_err_field(err, HC_EINVAL, "kind",
				    "'kind' must be claude_code, "
				    "anthropic_usage or openai_usage, not '%s'",
				    f->kind);
	if ((f->from && !hc_is_date(f->from)) || (f->to && !hc_is_date(f->to)))
		return hc_err_field(err, HC_EINVAL,
				    f->from && !hc_is_date(f->from) ? "from"
								   : "to",
				    "'from' and 'to' are dates (YYYY-MM-DD)");
	p[0] = p[1] = hc_vtext(f->kind);
	p[2] = p[3] = hc_vtext(f->provider);
	p[4] = p[5] = hc_vtext(f->model);
	p[6] = p[7] = hc_vtext(f->session_id);
	p[8] = p[9] = hc_vtext(f->from);
	p[10] = p[11] = hc_vtext(f->to);

	rc = hc_buf_addf(&sql, "SELECT %s, %s%s GROUP BY %s ORDER BY %s",
			 column, agg, where, column, column);
	if (rc != HC_OK) {
		hc_buf_release(&sql);
		return hc_err_set(err, HC_EINTERNAL, "query too long");
	}
	rc = hc_query(c, &st, sql.data, p, HC_COUNT(p), err);
	items = json_array();
	while (rc == HC_OK && (rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		json_t *g = sums(st, 1);
		json_object_set_new(g, "key",
				    hc_stmt_isnull(st, 0)
					    ? json_null()
					    : json_string(hc_stmt_text(st, 0,
								       NULL)));
		json_array_append_new(items, g);
		rc = HC_OK;
	}
	if (st)
		hc_stmt_finish(st);
	st = NULL;
	if (rc == HC_ROW_DONE) {
		hc_buf_reset(&sql);
		rc = hc_buf_addf(&sql, "SELECT %s%s", agg, where);
		if (rc == HC_OK)
			rc = hc_query(c, &st, sql.data, p, HC_COUNT(p), err);
		if (rc == HC_OK && (rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
			total = sums(st, 0);
			rc = HC_OK;
		}
		if (st)
			hc_stmt_finish(st);
	}
	hc_buf_release(&sql);
	if (rc != HC_OK) {
		json_decref(items);
		json_decref(total);
		return rc;
	}
	*out = json_pack("{sssssoso}", "by", by, "currency", "USD", "groups",
			 items, "total", total);
	return HC_OK;
}
