/*
 * ledger.c - writes that move money figures, and the alerts they cause.
 *
 * Every write of a budget, commitment, account or rate, and every import,
 * ends by refreshing what depends on it in the same transaction: a
 * budget's committed and spent, its alert state, an account's runway
 * state. An alert is a pair of FOS §10 progress events on one
 * correlation_id: alert_raised when a threshold is crossed upwards,
 * alert_resolved when it is crossed back. The state kept on the row
 * (alert_state, runway_state) is what makes each crossing raise exactly
 * once.
 *
 *   budget_alert:<budget id>:warning   spent >= warn_percent of allocated
 *   budget_alert:<budget id>:exceeded  spent > allocated
 *   runway_alert:<domain>              months remaining < threshold
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finhub/fin_int.h"
#include "hubcore/events.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

int fin__begin(struct hc_conn *c, bool *own, struct hc_err *err)
{
	*own = !hc_tx_active(c);
	return *own ? hc_tx_begin(c, true, err) : HC_OK;
}

int fin__end(struct hc_conn *c, bool own, int rc, struct hc_err *err)
{
	if (!own)
		return rc;
	if (rc == HC_OK)
		return hc_tx_commit(c, err);
	hc_tx_rollback(c);
	return rc;
}

/* ---- alerts ------------------------------------------------------------------- */

static int alert(struct hc_conn *c, bool raise, const char *domain,
		 const char *corr, const char *severity, const char *summary,
		 json_t *subject, json_t *payload, struct hc_err *err)
{
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o}",
			       "event_type",
			       raise ? "alert_raised" : "alert_resolved",
			       "domain", domain, "correlation_id", corr,
			       "severity", raise ? severity : "info",
			       "summary", summary, "source", "fin-hub",
			       "subject_refs", subject, "payload", payload);
	int rc = ev ? hc_res_create(c, &hc_progress_resource, ev, NULL, err)
		    : hc_err_set(err, HC_ENOMEM, "out of memory");
	/* the same alert for the other hubs, in the same transaction:
	 * budget_alert or runway_alert (docs/events.md) */
	if (rc == HC_OK) {
		json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O,s:O}", "state",
				      raise ? "raised" : "resolved", "domain",
				      domain, "correlation_id", corr,
				      "severity", raise ? severity : "info",
				      "summary", summary, "subject_refs",
				      json_object_get(ev, "subject_refs"),
				      "details", json_object_get(ev, "payload"));
		rc = p ? hc_event_emit(c,
				       strncmp(corr, "runway", 6) == 0
					       ? "runway_alert"
					       : "budget_alert",
				       p, NULL, err)
		       : hc_err_set(err, HC_ENOMEM, "out of memory");
		json_decref(p);
	}
	json_decref(ev);
	return rc;
}

static int state_level(const char *s)
{
	if (!s)
		return 0;
	return strcmp(s, "exceeded") == 0 ? 2 : strcmp(s, "warning") == 0;
}

/* Recompute one budget row and raise or resolve its alerts. */
static int budget_refresh(struct hc_conn *c, const json_t *b,
			  struct hc_err *err)
{
	static const char *const names[] = { "ok", "warning", "exceeded" };
	const char *id = hc_json_str(b, "id");
	const char *domain = hc_json_str(b, "domain");
	const char *cur = hc_json_str(b, "currency");
	const struct fin_currency *fc = fin_currency(cur);
	struct fin_commitment *k = NULL;
	char period[16], now[HC_TIME_LEN + 1];
	int64_t allocated = 0, warn = 80, spent = 0, committed = 0, in = 0;
	int64_t old_spent = -1, old_committed = -1;
	fin_month first, last;
	int level, old_level = state_level(hc_json_str(b, "alert_state"));
	size_t n = 0;
	int rc;

	snprintf(period, sizeof(period), "%s", hc_json_str(b, "period"));
	if (!fin_period_parse(period, &first, &last) || !fc)
		return hc_err_set(err, HC_EINTERNAL, "budget %s is malformed",
				  id);
	fin_json_int(b, "allocated", &allocated);
	fin_json_int(b, "warn_percent", &warn);
	fin_json_int(b, "spent", &old_spent);
	fin_json_int(b, "committed", &old_committed);
	rc = fin__costs_sum(c, domain, first, last, false, cur, &spent, err);
	if (rc == HC_OK)
		rc = fin__commitments_load(c, domain, &k, &n, err);
	if (rc == HC_OK)
		rc = fin__commitments_sum(c, k, n, first, last, cur,
					  &committed, &in, err);
	free(k);
	if (rc != HC_OK)
		return hc_err_prefix(err, "budget %s", id);
	level = spent > allocated		       ? 2
		: spent > 0 && (__int128)spent * 100 >=
				       (__int128)allocated * warn ? 1
								  : 0;
	if (spent != old_spent || committed != old_committed ||
	    level != old_level) {
		struct hc_value p[5];
		hc_time_now(now);
		p[0] = hc_vint(committed);
		p[1] = hc_vint(spent);
		p[2] = hc_vtext(names[level]);
		p[3] = hc_vtext(now);
		p[4] = hc_vtext(id);
		rc = hc_exec(c,
			     "UPDATE fin_budgets SET row_version = row_version + 1, committed = ?, spent = ?, "
			     "alert_state = ?, updated_at = ? WHERE id = ?",
			     p, 5, err);
	}
	for (int l = 1; rc == HC_OK && l <= 2; l++) {
		bool was = old_level >= l, is = level >= l;
		char corr[160], summary[300], s1[48], s2[48];
		if (was == is)
			continue;
		snprintf(corr, sizeof(corr), "budget_alert:%s:%s", id,
			 names[l]);
		fin_format_amount(spent, fc->exponent, s1, sizeof(s1));
		fin_format_amount(allocated, fc->exponent, s2, sizeof(s2));
		if (is)
			snprintf(summary, sizeof(summary),
				 "budget %s: spent %s %s %s the allocation of "
				 "%s %s",
				 id, s1, cur,
				 l == 2 ? "is over" : "has reached the warning "
						      "level of",
				 s2, cur);
		else
			snprintf(summary, sizeof(summary),
				 "budget %s: spent %s %s is back under the %s "
				 "(allocation %s %s)",
				 id, s1, cur,
				 l == 2 ? "allocation" : "warning level", s2,
				 cur);
		rc = alert(c, is, domain, corr, l == 2 ? "high" : "medium",
			   summary, json_pack("{ss}", "budget", id),
			   json_pack("{sssssIsIsssI}", "alert", "budget_alert",
				     "level", names[l], "spent",
				     (json_int_t)spent, "allocated",
				     (json_int_t)allocated, "currency", cur,
				     "warn_percent", (json_int_t)warn),
			   err);
	}
	return rc;
}

static int runway_refresh(struct hc_conn *c, const char *domain,
			  struct hc_err *err)
{
	struct fin_runway *r;
	json_t *acc = NULL;
	struct hc_err e2 = { 0 };
	char corr[128], summary[300], now[HC_TIME_LEN + 1];
	bool was;
	int rc = hc_res_get_plain(c, &fin_account_resource, domain, &acc, &e2);
	if (rc == HC_ENOTFOUND)
		return HC_OK; /* no cash known: no runway to watch */
	if (rc != HC_OK) {
		*err = e2;
		return rc;
	}
	r = calloc(1, sizeof(*r));
	rc = r ? fin__runway_build(c, acc, 0, 12, r, err)
	       : hc_err_set(err, HC_ENOMEM, "out of memory");
	if (rc != HC_OK)
		goto out;
	was = strcmp(hc_json_str(acc, "runway_state"), "ok") != 0;
	if (was == r->below_threshold)
		goto out;
	{
		struct hc_value p[3];
		hc_time_now(now);
		p[0] = hc_vtext(r->below_threshold ? "below_threshold" : "ok");
		p[1] = hc_vtext(now);
		p[2] = hc_vtext(hc_json_str(acc, "id"));
		rc = hc_exec(c,
			     "UPDATE fin_accounts SET row_version = row_version + 1, runway_state = ?, "
			     "updated_at = ? WHERE id = ?",
			     p, 3, err);
	}
	if (rc != HC_OK)
		goto out;
	snprintf(corr, sizeof(corr), "runway_alert:%s", domain);
	if (r->infinite)
		snprintf(summary, sizeof(summary),
			 "runway of %s: no net burn any more, back above the "
			 "threshold of %d months",
			 domain, r->threshold_months);
	else
		snprintf(summary, sizeof(summary),
			 "runway of %s: %lld.%lld months remaining, %s the "
			 "threshold of %d months",
			 domain, (long long)(r->months_tenths / 10),
			 (long long)(r->months_tenths % 10),
			 r->below_threshold ? "below" : "back above",
			 r->threshold_months);
	rc = alert(c, r->below_threshold, domain, corr, "high", summary,
		   json_pack("{ss}", "account", hc_json_str(acc, "id")),
		   json_pack("{sssIsIsIsisb}", "alert", "runway_alert",
			     "balance", (json_int_t)r->balance, "net_burn",
			     (json_int_t)r->net, "months_remaining_tenths",
			     (json_int_t)(r->infinite ? -1 : r->months_tenths),
			     "alert_threshold_months", r->threshold_months,
			     "infinite", r->infinite),
		   err);
out:
	free(r);
	json_decref(acc);
	return rc;
}

int fin_refresh_domain(struct hc_conn *c, const char *domain,
		       struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(domain) };
	struct hc_stmt *st = NULL;
	json_t *ids = json_array(), *v;
	size_t i;
	int rc = hc_query(c, &st,
			  "SELECT id FROM fin_budgets WHERE domain = ? ORDER "
			  "BY seq",
			  p, 1, err);
	if (rc != HC_OK) {
		json_decref(ids);
		return rc;
	}
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY)
		json_array_append_new(ids,
				      json_string(hc_stmt_text(st, 0, NULL)));
	hc_stmt_finish(st);
	rc = rc == HC_ROW_DONE ? HC_OK : rc;
	json_array_foreach(ids, i, v)
	{
		json_t *b = NULL;
		if (rc != HC_OK)
			break;
		rc = hc_res_get_plain(c, &fin_budget_resource,
				      json_string_value(v), &b, err);
		if (rc == HC_OK)
			rc = budget_refresh(c, b, err);
		json_decref(b);
	}
	json_decref(ids);
	if (rc == HC_OK)
		rc = runway_refresh(c, domain, err);
	return rc;
}

/* Every domain with a budget or an account (a rate changed). */
static int refresh_all(struct hc_conn *c, struct hc_err *err)
{
	struct hc_stmt *st = NULL;
	json_t *doms = json_array(), *v;
	size_t i;
	int rc = hc_query(c, &st,
			  "SELECT domain FROM fin_budgets UNION SELECT domain "
			  "FROM fin_accounts ORDER BY 1",
			  NULL, 0, err);
	if (rc != HC_OK) {
		json_decref(doms);
		return rc;
	}
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY)
		json_array_append_new(doms,
				      json_string(hc_stmt_text(st, 0, NULL)));
	hc_stmt_finish(st);
	rc = rc == HC_ROW_DONE ? HC_OK : rc;
	json_array_foreach(doms, i, v)
	{
		if (rc == HC_OK)
			rc = fin_refresh_domain(c, json_string_value(v), err);
	}
	json_decref(doms);
	return rc;
}

/* ---- writes ----------------------------------------------------------------------- */

int fin_save(struct hc_conn *c, const struct hc_resource *r, const char *key,
	     json_t *in, json_t **out, struct hc_err *err)
{
	return fin_save_if(c, r, key, in, 0, out, err);
}

int fin_save_if(struct hc_conn *c, const struct hc_resource *r,
		const char *key, json_t *in, int64_t expected, json_t **out,
		struct hc_err *err)
{
	json_t *row = NULL;
	bool own;
	int rc = fin__begin(c, &own, err);
	if (rc != HC_OK)
		return rc;
	rc = key ? hc_res_update_if(c, r, key, in, expected, &row, err)
		 : hc_res_create(c, r, in, &row, err);
	if (rc == HC_OK) {
		if (r == &fin_rate_resource)
			rc = refresh_all(c, err);
		else
			rc = fin_refresh_domain(c, hc_json_str(row, "domain"),
						err);
	}
	if (rc == HC_OK && out) {
		json_t *fresh = NULL;
		rc = hc_res_get(c, r, hc_json_str(row, "id"), &fresh, err);
		*out = fresh;
	}
	json_decref(row);
	return fin__end(c, own, rc, err);
}

/* Create the row with this id from in, or update it with in less the
 * fields that name it (they cannot change and are the same anyway). */
static int put_keyed(struct hc_conn *c, const struct hc_resource *r,
		     const char *id, json_t *in, const char *const *key_fields,
		     json_t **out, struct hc_err *err)
{
	json_t *existing = NULL;
	struct hc_err e2 = { 0 };
	int rc = hc_res_get_plain(c, r, id, &existing, &e2);
	json_decref(existing);
	if (rc == HC_ENOTFOUND)
		return fin_save(c, r, NULL, in, out, err);
	if (rc != HC_OK) {
		*err = e2;
		return rc;
	}
	for (const char *const *f = key_fields; *f; f++)
		json_object_del(in, *f);
	json_object_del(in, "id");
	return fin_save(c, r, id, in, out, err);
}

static int need_str(const json_t *in, const char *field, struct hc_err *err)
{
	if (!json_is_string(json_object_get(in, field)))
		return hc_err_field(err, HC_EINVAL, field,
				    "missing required field '%s'", field);
	return HC_OK;
}

int fin_set_budget(struct hc_conn *c, json_t *in, json_t **out,
		   struct hc_err *err)
{
	static const char *const keys[] = { "domain", "period", NULL };
	char *slug = NULL, period[16], id[128];
	fin_month a, b;
	bool own;
	int rc = need_str(in, "domain", err);
	if (rc == HC_OK)
		rc = need_str(in, "period", err);
	if (rc != HC_OK)
		return rc;
	snprintf(period, sizeof(period), "%s", hc_json_str(in, "period"));
	if (!fin_period_parse(period, &a, &b))
		return hc_err_field(err, HC_EINVAL, "period",
				    "field 'period' must be a month "
				    "(2026-05), a quarter (2026-Q2) or a year "
				    "(2026), not '%s'",
				    hc_json_str(in, "period"));
	rc = fin__begin(c, &own, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_res_resolve(c, &hc_domain_resource, hc_json_str(in, "domain"),
			    "slug", &slug, err);
	if (rc == HC_ENOTFOUND)
		rc = hc_err_field(err, HC_EINVAL, "domain",
				  "field 'domain': no domain '%s'",
				  hc_json_str(in, "domain"));
	if (rc == HC_OK) {
		snprintf(id, sizeof(id), "%s-%s", slug, period);
		rc = put_keyed(c, &fin_budget_resource, id, in, keys, out,
			       err);
	}
	free(slug);
	return fin__end(c, own, rc, err);
}

int fin_set_account(struct hc_conn *c, json_t *in, json_t **out,
		    struct hc_err *err)
{
	static const char *const keys[] = { "domain", NULL };
	char *slug = NULL;
	bool own;
	int rc = need_str(in, "domain", err);
	if (rc != HC_OK)
		return rc;
	rc = fin__begin(c, &own, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_res_resolve(c, &hc_domain_resource, hc_json_str(in, "domain"),
			    "slug", &slug, err);
	if (rc == HC_ENOTFOUND)
		rc = hc_err_field(err, HC_EINVAL, "domain",
				  "field 'domain': no domain '%s'",
				  hc_json_str(in, "domain"));
	if (rc == HC_OK)
		rc = put_keyed(c, &fin_account_resource, slug, in, keys, out,
			       err);
	free(slug);
	return fin__end(c, own, rc, err);
}
