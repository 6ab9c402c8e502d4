/*
 * import.c - importing cost and token files: the kinds, the one
 * transaction per file, dedup keys, bad rows, and the refresh of the
 * budgets and runways the new rows touch.
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finhub/fin_int.h"
#include "hubcore/events.h"
#include "hubcore/json.h"

/* Every kind of file: how it is read, what it becomes, and whether a row
 * stored before under the same key takes the file's figures. */
static const struct {
	const char *name;
	enum fin_import_kind kind;
	int (*parse)(struct fin_parse *p, const char *data, size_t len,
		     struct hc_err *err);
	const struct hc_resource *resource;
	const char *ext; /* the CLI takes these files from a directory */
	bool replaces;   /* a usage report's bucket fetched again */
} kinds[] = {
	{ "focus", FIN_IMPORT_FOCUS, fin__parse_focus, &fin_cost_resource,
	  ".csv", false },
	{ "invoices", FIN_IMPORT_INVOICES, fin__parse_invoices,
	  &fin_cost_resource, ".csv", false },
	{ "claude-code", FIN_IMPORT_CLAUDE_CODE, fin__parse_claude_code,
	  &fin_token_resource, ".jsonl", false },
	{ "anthropic-cost", FIN_IMPORT_ANTHROPIC_COST,
	  fin__parse_anthropic_cost, &fin_cost_resource, ".json", false },
	{ "openai-cost", FIN_IMPORT_OPENAI_COST, fin__parse_openai_cost,
	  &fin_cost_resource, ".json", false },
	{ "anthropic-usage", FIN_IMPORT_ANTHROPIC_USAGE,
	  fin__parse_anthropic_usage, &fin_token_resource, ".json", true },
	{ "openai-usage", FIN_IMPORT_OPENAI_USAGE, fin__parse_openai_usage,
	  &fin_token_resource, ".json", true },
};

/* The same names in the same order (a unit test checks it), for the MCP
 * tool's enum. */
const char *const fin_import_kind_names[] = {
	"focus",	  "invoices",	  "claude-code",  "anthropic-cost",
	"openai-cost", "anthropic-usage", "openai-usage", NULL
};

const char fin_import_kind_list[] =
	"focus, invoices, claude-code, anthropic-cost, openai-cost, "
	"anthropic-usage, openai-usage";

_Static_assert(HC_COUNT(fin_import_kind_names) == HC_COUNT(kinds) + 1,
	       "fin_import_kind_names lists every kind");

static size_t kind_index(enum fin_import_kind k)
{
	for (size_t i = 0; i < HC_COUNT(kinds); i++)
		if (kinds[i].kind == k)
			return i;
	HC_BUG("no import kind %d", (int)k);
}

bool fin_import_kind_parse(const char *name, enum fin_import_kind *out)
{
	for (size_t i = 0; name && i < HC_COUNT(kinds); i++)
		if (strcmp(kinds[i].name, name) == 0) {
			*out = kinds[i].kind;
			return true;
		}
	return false;
}

const char *fin_import_kind_name(enum fin_import_kind k)
{
	return kinds[kind_index(k)].name;
}

const char *fin_import_kind_ext(enum fin_import_kind k)
{
	return kinds[kind_index(k)].ext;
}

/* ---- results ------------------------------------------------------------------ */

void fin_import_result_release(struct fin_import_result *res)
{
	free(res->bad);
	res->bad = NULL;
	res->nbad = res->capbad = 0;
}

json_t *fin_import_result_json(const struct fin_import_result *res)
{
	json_t *bad = json_array();
	for (size_t i = 0; i < res->nbad; i++) {
		json_t *b = json_pack("{sIss}", "line",
				      (json_int_t)res->bad[i].line, "reason",
				      res->bad[i].reason);
		if (res->bad[i].where[0])
			json_object_set_new(b, "where",
					    json_string(res->bad[i].where));
		json_array_append_new(bad, b);
	}
	return json_pack("{sssssisisisisisiso}", "source", res->source,
			 "kind", fin_import_kind_name(res->kind), "rows",
			 res->rows, "created", res->created, "duplicates",
			 res->duplicates, "updated", res->updated, "skipped",
			 res->skipped, "bad", (int)res->nbad, "bad_rows", bad);
}

int fin__bad(struct fin_parse *p, int line, const char *where,
	     const char *fmt, ...)
{
	struct fin_import_result *res = p->res;
	struct fin_bad_row *b;
	va_list ap;
	if (res->nbad == res->capbad) {
		size_t cap = res->capbad ? res->capbad * 2 : 16;
		struct fin_bad_row *nb = realloc(res->bad, cap * sizeof(*nb));
		if (!nb)
			return HC_ENOMEM;
		res->bad = nb;
		res->capbad = cap;
	}
	b = &res->bad[res->nbad++];
	b->line = line;
	snprintf(b->where, sizeof(b->where), "%s", where ? where : "");
	va_start(ap, fmt);
	vsnprintf(b->reason, sizeof(b->reason), fmt, ap);
	va_end(ap);
	return HC_OK;
}

void fin__sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const char hex[] = "0123456789abcdef";
	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL))
		HC_BUG("SHA-256 is not available");
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

int fin__row_key(struct fin_parse *p, const char *prefix, const void *data,
		 size_t len, char *out, size_t size)
{
	char hex[65];
	json_int_t n;
	fin__sha256_hex(data, len, hex);
	hex[32] = '\0';
	n = json_integer_value(json_object_get(p->seen, hex));
	if (json_object_set_new(p->seen, hex, json_integer(n + 1)))
		return HC_ENOMEM;
	snprintf(out, size, "%s:%s:%lld", prefix, hex, (long long)n);
	return HC_OK;
}

/* ---- the transaction ------------------------------------------------------------ */

static int exists(struct hc_conn *c, const struct hc_resource *r,
		  const char *key, bool *found, struct hc_err *err)
{
	char sql[128];
	struct hc_value p[] = { hc_vtext(key) };
	int64_t one = 0;
	int rc;
	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE dedup_key = ?",
		 r->table);
	rc = hc_query_int(c, &one, sql, p, 1, err);
	*found = rc == HC_OK;
	return rc == HC_ENOTFOUND ? HC_OK : rc;
}

/* The usage figures of a token spend row: what decides whether a bucket
 * fetched again brings news. Prices are not among them: a row keeps the
 * price it was imported with. */
static const char *const usage_figures[] = { "tokens_in",   "tokens_out",
					     "cache_write", "cache_read",
					     "requests",    NULL };

/*
 * A row of a usage report whose key is stored: the same figures are a
 * duplicate; other ones (the bucket was still filling up when it was
 * fetched before) replace the stored row's, priced anew.
 */
static int replace_figures(struct hc_conn *c, const struct hc_resource *r,
			   const json_t *row, bool *replaced,
			   struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(hc_json_str(row, "dedup_key")) };
	struct hc_stmt *st = NULL;
	json_t *patch;
	char *id = NULL;
	bool same = true;
	int rc = hc_query(c, &st,
			  "SELECT id, tokens_in, tokens_out, cache_write, "
			  "cache_read, requests FROM fin_token_spend WHERE "
			  "dedup_key = ?",
			  p, 1, err);
	*replaced = false;
	if (rc != HC_OK)
		return rc;
	rc = hc_stmt_step(st, err);
	if (rc == HC_ROW_READY) {
		id = strdup(hc_stmt_text(st, 0, NULL));
		for (int i = 0; usage_figures[i]; i++) {
			json_t *v = json_object_get(row, usage_figures[i]);
			bool stored_null = hc_stmt_isnull(st, i + 1);
			if (!v || json_is_null(v))
				same = same && stored_null;
			else
				same = same && !stored_null &&
				       hc_stmt_int(st, i + 1) ==
					       json_integer_value(v);
		}
		rc = HC_OK;
	} else if (rc == HC_ROW_DONE) {
		rc = hc_err_set(err, HC_EINTERNAL, "row '%s' went away",
				hc_json_str(row, "dedup_key"));
	}
	hc_stmt_finish(st);
	if (rc == HC_OK && !id)
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	if (rc != HC_OK || same) {
		free(id);
		return rc;
	}
	patch = json_deep_copy(row);
	json_object_del(patch, "dedup_key");
	for (int i = 0; usage_figures[i]; i++)
		if (!json_object_get(patch, usage_figures[i]))
			json_object_set_new(patch, usage_figures[i],
					    json_null());
	rc = hc_res_update(c, r, id, patch, NULL, err);
	json_decref(patch);
	free(id);
	*replaced = rc == HC_OK;
	return rc;
}

static void touch(json_t *domains, const char *domain)
{
	if (domain && !json_object_get(domains, domain))
		json_object_set_new(domains, domain, json_true());
}

static int store_rows(struct hc_conn *c, struct fin_parse *p,
		      const struct hc_resource *r, bool replaces,
		      const char *domain, json_t *touched, json_t *services,
		      struct hc_err *err)
{
	json_t *row;
	size_t i;
	int rc = HC_OK;
	json_array_foreach(p->rows, i, row)
	{
		struct hc_err e2 = { 0 };
		json_int_t line =
			json_integer_value(json_object_get(row, "source_line"));
		bool found = false;
		rc = exists(c, r, hc_json_str(row, "dedup_key"), &found, err);
		if (rc != HC_OK)
			break;
		hc_json_set_str(row, "source_file", p->source);
		if (found && replaces) {
			bool replaced = false;
			rc = replace_figures(c, r, row, &replaced, &e2);
			if (rc != HC_OK) {
				*err = e2;
				return hc_err_prefix(err, "%s", p->source);
			}
			if (replaced)
				p->res->updated++;
			else
				p->res->duplicates++;
			continue;
		}
		if (found) {
			p->res->duplicates++;
			continue;
		}
		if (r == &fin_cost_resource && domain &&
		    !hc_json_str(row, "domain"))
			hc_json_set_str(row, "domain", domain);
		rc = hc_res_create(c, r, row, NULL, &e2);
		if (rc == HC_EINVAL || rc == HC_ECONFLICT) {
			char msg[HC_ERR_MSG_MAX + 8];
			hc_err_format(&e2, msg, sizeof(msg));
			rc = fin__bad(p, (int)line, NULL, "%s", msg);
			if (rc != HC_OK)
				return hc_err_set(err, HC_ENOMEM,
						  "out of memory");
			continue;
		}
		if (rc != HC_OK) {
			*err = e2;
			return hc_err_prefix(err, "%s:%lld", p->source,
					     (long long)line);
		}
		p->res->created++;
		touch(touched, hc_json_str(row, "domain"));
		if (r == &fin_cost_resource && hc_json_str(row, "service") &&
		    hc_json_str(row, "date")) {
			char key[400];
			snprintf(key, sizeof(key), "%s\t%.7s\t%s",
				 hc_json_str(row, "service"),
				 hc_json_str(row, "date"),
				 hc_json_str(row, "currency"));
			json_object_set_new(services, key,
					    hc_json_str(row, "domain")
						    ? json_string(hc_json_str(
							      row, "domain"))
						    : json_null());
		}
	}
	return rc;
}

/*
 * cost_attribution (docs/events.md): for every service, month and
 * currency an import touched, the month's whole cost of the service, in
 * the import's transaction. A total, not a delta, so that a receiver
 * applying it twice or late still holds the right figure.
 */
static int attribute(struct hc_conn *c, json_t *services, struct hc_err *err)
{
	const char *key;
	json_t *domain;
	json_object_foreach(services, key, domain)
	{
		char service[320], month[8], cur[8];
		const char *t1 = strchr(key, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		int64_t total = 0;
		json_t *pl;
		int rc;
		if (!t2)
			continue;
		snprintf(service, sizeof(service), "%.*s", (int)(t1 - key), key);
		snprintf(month, sizeof(month), "%.*s", (int)(t2 - t1 - 1), t1 + 1);
		snprintf(cur, sizeof(cur), "%s", t2 + 1);
		{
			struct hc_value q[] = { hc_vtext(service), hc_vtext(month),
						hc_vtext(cur) };
			rc = hc_query_int(c, &total,
					  "SELECT coalesce(sum(amount), 0) FROM "
					  "fin_costs WHERE service = ? AND month = "
					  "? AND currency = ?",
					  q, 3, err);
		}
		if (rc != HC_OK)
			return rc;
		pl = json_pack("{s:s,s:s,s:s,s:I,s:O}", "service", service,
			       "month", month, "currency", cur,
			       "amount", (json_int_t)total, "domain", domain);
		rc = hc_event_emit(c, "cost_attribution", pl, NULL, err);
		json_decref(pl);
		if (rc != HC_OK)
			return rc;
	}
	return HC_OK;
}

int fin_import(struct hc_conn *c, enum fin_import_kind kind,
	       const char *source, const char *data, size_t len,
	       const struct fin_import_opts *opts,
	       struct fin_import_result *res, struct hc_err *err)
{
	struct fin_parse p = { 0 };
	size_t ki = kind_index(kind);
	const struct hc_resource *r = kinds[ki].resource;
	json_t *touched = json_object(), *services = json_object();
	char *domain = NULL;
	const char *k;
	json_t *v;
	bool own = false;
	int rc;

	fin_import_result_release(res);
	memset(res, 0, sizeof(*res));
	snprintf(res->source, sizeof(res->source), "%s", source);
	res->kind = kind;
	p.source = source;
	p.res = res;
	p.rows = json_array();
	p.seen = json_object();
	p.by_key = json_object();
	rc = kinds[ki].parse(&p, data, len, err);
	if (rc == HC_OK && opts->domain) {
		rc = hc_res_resolve(c, &hc_domain_resource, opts->domain,
				    "slug", &domain, err);
		if (rc == HC_ENOTFOUND)
			rc = hc_err_field(err, HC_EINVAL, "domain",
					  "no domain '%s' to charge the costs "
					  "to",
					  opts->domain);
	}
	if (rc == HC_OK) {
		res->rows = (int)json_array_size(p.rows);
		rc = fin__begin(c, &own, err);
	}
	if (rc == HC_OK)
		rc = store_rows(c, &p, r, kinds[ki].replaces, domain, touched,
				services, err);
	if (rc == HC_OK && res->nbad && !opts->skip_bad) {
		const struct fin_bad_row *b = &res->bad[0];
		rc = hc_err_at(err, HC_EPARSE, source, b->line, 0,
			       "%zu bad row%s, nothing imported (skip them "
			       "with --skip-bad or skip_bad=true); first%s%s: "
			       "%s",
			       res->nbad, res->nbad == 1 ? "" : "s",
			       b->where[0] ? " at " : "", b->where,
			       b->reason);
	}
	json_object_foreach(touched, k, v)
	{
		if (rc == HC_OK)
			rc = fin_refresh_domain(c, k, err);
	}
	if (rc == HC_OK)
		rc = attribute(c, services, err);
	if (own)
		rc = fin__end(c, own, rc, err);
	if (rc != HC_OK) {
		res->created = 0;
		res->duplicates = 0;
		res->updated = 0;
		if (!err->source[0])
			snprintf(err->source, sizeof(err->source), "%s",
				 source);
	}
	free(domain);
	json_decref(touched);
	json_decref(services);
	json_decref(p.rows);
	json_decref(p.seen);
	json_decref(p.by_key);
	return rc;
}
