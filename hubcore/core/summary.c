/*
 * summary.c - the orientation summary of a domain: what an agent or a
 * person reads first when starting work in it.
 */
#include <string.h>

#include "hubcore/buf.h"
#include "hubcore/events.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/resources/resource_internal.h"


#define LATEST 5

/* {"open": n, "latest": [up to LATEST newest open items]} */
static int open_items(struct hc_conn *c, const char *domain,
		      const char *const *types, json_t **out,
		      struct hc_err *err)
{
	struct hc_buf where = HC_BUF_INIT(4096);
	struct hc_buf sql = HC_BUF_INIT(8192);
	struct hc_list_query q = { 0 };
	struct hc_value p[] = { hc_vtext(domain) };
	json_t *page = NULL, *res = NULL;
	int64_t n = 0;
	int rc = hc__progress_open_latest_sql(types, LATEST + 1, &where);
	if (rc == HC_OK)
		rc = hc_buf_addf(&sql,
				 "SELECT count(*) FROM progress_open WHERE "
				 "kind = '%s' AND domain = ?",
				 hc__progress_kind(types));
	if (rc != HC_OK) {
		rc = hc_err_set(err, HC_EINTERNAL, "query too long");
		goto out;
	}
	rc = hc_query_int(c, &n, sql.data, p, 1, err);
	if (rc != HC_OK)
		goto out;
	q.limit = LATEST;
	q.where_sql = where.data;
	q.where_params = p;
	q.where_nparams = 1;
	rc = hc_res_list(c, &hc_progress_resource, &q, &page, err);
	if (rc != HC_OK)
		goto out;
	res = json_pack("{sIsO}", "open", (json_int_t)n, "latest",
			json_object_get(page, "items"));
	if (!res)
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	else
		*out = res;
out:
	json_decref(page);
	hc_buf_release(&where);
	hc_buf_release(&sql);
	return rc;
}

/* The count of a summary part: part.total, or part.open, or 0. */
static json_int_t part_count(json_t *sum, const char *part, const char *key)
{
	return json_integer_value(
		json_object_get(json_object_get(sum, part), key));
}

int hc_state_summary(struct hc_hub *hub, struct hc_conn *c, json_t **out,
		     struct hc_err *err)
{
	struct hc_list_query q = { 0 };
	json_t *page = NULL, *domains = json_array(), *d;
	bool own = !hc_tx_active(c);
	size_t i;
	int rc;

	rc = own ? hc_tx_begin(c, false, err) : HC_OK;
	if (rc != HC_OK) {
		json_decref(domains);
		return rc;
	}
	q.limit = HC_LIST_MAX_LIMIT;
	rc = hc_list_query_add(&q, &hc_domain_resource, "archived", "false",
			       err);
	if (rc == HC_OK)
		rc = hc_res_list(c, &hc_domain_resource, &q, &page, err);
	json_array_foreach(json_object_get(page, "items"), i, d)
	{
		json_t *sum = NULL;
		if (rc != HC_OK)
			break;
		rc = hc_domain_summary(hub, c, hc_json_str(d, "slug"), &sum,
				       err);
		if (rc != HC_OK)
			break;
		json_array_append_new(
			domains,
			json_pack("{sOsOsIsIsIsIsI}", "slug",
				  json_object_get(d, "slug"), "name",
				  json_object_get(d, "name"), "unread_messages",
				  part_count(sum, "messages", "unread"),
				  "open_risks", part_count(sum, "risks", "open"),
				  "open_alerts",
				  part_count(sum, "alerts", "open"),
				  "workstreams",
				  part_count(sum, "workstreams", "total"),
				  "tasks", part_count(sum, "tasks", "total")));
		json_decref(sum);
	}
	/* the coupling with the other hubs (docs/events.md) */
	json_t *events = NULL;
	if (rc == HC_OK && hub->def->events)
		rc = hc_events_status(hub, c, &events, err);
	if (own)
		hc_tx_rollback(c);
	json_decref(page);
	if (rc != HC_OK) {
		json_decref(domains);
		return rc;
	}
	*out = json_pack("{ssssso}", "hub", hub->def->name, "version",
			 hc_version(), "domains", domains);
	if (events)
		json_object_set_new(*out, "events", events);
	return HC_OK;
}

int hc_domain_summary(struct hc_hub *hub, struct hc_conn *c,
		      const char *domain_key, json_t **out,
		      struct hc_err *err)
{
	json_t *domain = NULL, *sum = NULL, *risks = NULL, *alerts = NULL;
	const char *slug;
	int64_t unread = 0, total = 0;
	bool own = !hc_tx_active(c);
	int rc;

	/* One consistent snapshot for every count. */
	rc = own ? hc_tx_begin(c, false, err) : HC_OK;
	if (rc != HC_OK)
		return rc;
	rc = hc_res_get_plain(c, &hc_domain_resource, domain_key, &domain,
			      err);
	if (rc != HC_OK)
		goto out;
	slug = hc_json_str(domain, "slug");
	{
		struct hc_value p[] = { hc_vtext(slug) };
		rc = hc_query_int(c, &unread,
				  "SELECT count(*) FROM messages WHERE "
				  "to_domain = ? AND read = 0",
				  p, 1, err);
		if (rc == HC_OK)
			rc = hc_query_int(c, &total,
					  "SELECT count(*) FROM messages WHERE "
					  "to_domain = ?",
					  p, 1, err);
	}
	if (rc == HC_OK)
		rc = open_items(c, slug, hc_risk_event_types, &risks, err);
	if (rc == HC_OK)
		rc = open_items(c, slug, hc_alert_event_types, &alerts, err);
	if (rc != HC_OK)
		goto out;
	sum = json_pack("{sOs{sIsI}sOsO}", "domain", domain, "messages",
			"unread", (json_int_t)unread, "total",
			(json_int_t)total, "risks", risks, "alerts", alerts);
	if (!sum) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; rc == HC_OK && i < hub->def->nsummary_parts; i++)
		rc = hub->def->summary_parts[i](c, slug, sum, err);
	if (rc == HC_OK && hub->def->events) {
		json_t *events = NULL;
		rc = hc_events_status(hub, c, &events, err);
		if (rc == HC_OK)
			json_object_set_new(sum, "events", events);
	}
	if (rc == HC_OK) {
		*out = sum;
		sum = NULL;
	}
out:
	if (own)
		hc_tx_rollback(c); /* read-only: nothing to commit */
	json_decref(sum);
	json_decref(domain);
	json_decref(risks);
	json_decref(alerts);
	return rc;
}
