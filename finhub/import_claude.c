/*
 * import_claude.c - Claude Code session logs: the JSONL files under
 * ~/.claude/projects/, one JSON message per line.
 *
 * An assistant line carries message.id, requestId, sessionId, timestamp,
 * message.model and message.usage (input_tokens, output_tokens,
 * cache_creation_input_tokens, cache_read_input_tokens, and the split of
 * cache writes into ephemeral_5m / ephemeral_1h). Claude Code writes the
 * same API response on several lines (one per content block) and again
 * when a session is resumed, so a request is counted once: the dedup key
 * is message.id + requestId. Sidechain lines (sub-agents) are requests
 * like any other and are counted, marked sidechain. Lines without usage
 * (user turns, summaries) and the "<synthetic>" model (messages Claude Code
 * makes itself) carry no spend and are skipped. A model missing from the
 * price table is a bad row: it is never priced at zero.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finhub/fin_int.h"
#include "hubcore/json.h"

/* A token count of usage: absent is 0; anything but a non-negative
 * integer is refused. */
static bool tokens(const json_t *usage, const char *key, int64_t *out)
{
	json_t *v = json_object_get(usage, key);
	*out = 0;
	if (!v || json_is_null(v))
		return true;
	return fin_json_int(usage, key, out) && *out >= 0;
}

static int one_line(struct fin_parse *p, int line, const char *text,
		    size_t len, struct hc_err *err)
{
	const struct fin_price_table *tab = &fin_anthropic_prices;
	const struct fin_price *price;
	struct hc_err e2 = { 0 };
	json_t *obj = NULL, *msg, *usage, *row;
	const char *model, *mid, *req, *uuid, *ts;
	struct fin_usage u = { 0 };
	int64_t in = 0, out = 0, cw = 0, cr = 0, w1 = 0, w5 = 0, cost = 0;
	char key[300], utc[32];
	int rc = HC_OK;

	if (fin_json_parse_exact(text, len, &obj, &e2) != HC_OK)
		return fin__bad(p, line, NULL, "not a JSON line: %s", e2.msg);
	msg = json_object_get(obj, "message");
	usage = json_object_get(msg, "usage");
	model = hc_json_str(msg, "model");
	if (!json_is_object(obj)) {
		rc = fin__bad(p, line, NULL, "not a JSON object");
		goto out;
	}
	if (!json_is_object(usage) ||
	    (model && strcmp(model, "<synthetic>") == 0)) {
		p->res->skipped++;
		goto out;
	}
	if (!model) {
		rc = fin__bad(p, line, NULL, "message.usage without "
					     "message.model");
		goto out;
	}
	if (!tokens(usage, "input_tokens", &in) ||
	    !tokens(usage, "output_tokens", &out) ||
	    !tokens(usage, "cache_creation_input_tokens", &cw) ||
	    !tokens(usage, "cache_read_input_tokens", &cr)) {
		rc = fin__bad(p, line, NULL,
			      "message.usage has a token count that is not a "
			      "non-negative integer");
		goto out;
	}
	{
		json_t *split = json_object_get(usage, "cache_creation");
		if (json_is_object(split) &&
		    (!tokens(split, "ephemeral_1h_input_tokens", &w1) ||
		     !tokens(split, "ephemeral_5m_input_tokens", &w5) ||
		     w1 > cw)) {
			rc = fin__bad(p, line, NULL,
				      "message.usage.cache_creation does not "
				      "add up to cache_creation_input_tokens");
			goto out;
		}
		(void)w5;
	}
	ts = hc_json_str(obj, "timestamp");
	if (!ts || !fin_datetime_utc(ts, strlen(ts), utc, sizeof(utc))) {
		rc = fin__bad(p, line, NULL, "timestamp '%s' is not a date-time",
			      ts ? ts : "");
		goto out;
	}
	mid = hc_json_str(msg, "id");
	req = hc_json_str(obj, "requestId");
	uuid = hc_json_str(obj, "uuid");
	if (mid && req)
		snprintf(key, sizeof(key), "cc:%.120s:%.120s", mid, req);
	else if (uuid)
		snprintf(key, sizeof(key), "cc-uuid:%.120s", uuid);
	else {
		rc = fin__bad(p, line, NULL,
			      "no message.id and requestId (nor uuid) to "
			      "count the request once by");
		goto out;
	}
	price = fin_price_find(tab, model);
	if (!price) {
		rc = fin__bad(p, line, NULL,
			      "model '%s' is not in the price table (version "
			      "%s); it is reported, not priced at zero",
			      model, tab->version);
		goto out;
	}
	u.input = in;
	u.output = out;
	u.cache_write_1h = w1;
	u.cache_write_5m = cw - w1;
	u.cache_read = cr;
	if (fin_price_cost(price, &u, &cost) != HC_OK) {
		rc = fin__bad(p, line, NULL, "the cost overflows");
		goto out;
	}
	row = json_pack("{sssssssssssIsIsIsIsIsssssbsIsI}", "dedup_key", key,
			"kind", "claude_code", "provider", "anthropic",
			"model", model, "timestamp",
			utc, "tokens_in", (json_int_t)in, "tokens_out",
			(json_int_t)out, "cache_write", (json_int_t)cw,
			"cache_read", (json_int_t)cr, "cost_micros",
			(json_int_t)cost, "currency", tab->currency,
			"price_version", tab->version, "sidechain",
			json_is_true(json_object_get(obj, "isSidechain")),
			"source_line", (json_int_t)line, "requests",
			(json_int_t)1);
	if (!row) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	if (hc_json_str(obj, "sessionId"))
		hc_json_set_str(row, "session_id", hc_json_str(obj, "sessionId"));
	json_array_append_new(p->rows, row);
out:
	json_decref(obj);
	return rc;
}

int fin__parse_claude_code(struct fin_parse *p, const char *data, size_t len,
			   struct hc_err *err)
{
	size_t off = 0;
	int line = 0, rc = HC_OK;
	while (rc == HC_OK && off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (data + off)) : len - off;
		size_t t = n;
		line++;
		while (t && (data[off + t - 1] == '\r' ||
			     data[off + t - 1] == ' '))
			t--;
		if (t)
			rc = one_line(p, line, data + off, t, err);
		off += n + (nl ? 1 : 0);
	}
	return rc;
}
