/*
 * health.c - the health of a service: the state machine over probe
 * rounds, the health people see (maintenance, failing parents), the
 * history of results and the alert events, all recorded in one write
 * transaction per round.
 *
 * States: unknown (never probed) -> up on a success; a failure makes an up
 * service pending, and down after failure_threshold failures in a row; a
 * down service stays down until success_threshold successes in a row.
 * An alert is raised when a service is down, not in maintenance and no
 * parent it depends on is failing; it is resolved when the service is no
 * longer down. Both only on changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hubcore/events.h"
#include "opshub/internal.h"

const char *const oh_health_values[] = { "up",	       "pending", "down",
					 "maintenance", "unknown", NULL };

static const char *const state_names[] = { "unknown", "up", "pending",
					   "down" };

const char *oh_state_name(enum oh_state s)
{
	return state_names[s];
}

enum oh_state oh_state_parse(const char *s)
{
	for (size_t i = 0; s && i < HC_COUNT(state_names); i++)
		if (strcmp(state_names[i], s) == 0)
			return (enum oh_state)i;
	return OH_UNKNOWN;
}

enum oh_state oh_health_step(struct oh_health *h, bool ok,
			     int failure_threshold, int success_threshold)
{
	if (failure_threshold < 1)
		failure_threshold = 1;
	if (success_threshold < 1)
		success_threshold = 1;
	if (ok) {
		h->successes++;
		h->failures = 0;
		if (h->state != OH_DOWN || h->successes >= success_threshold)
			h->state = OH_UP;
	} else {
		h->failures++;
		h->successes = 0;
		if (h->failures >= failure_threshold)
			h->state = OH_DOWN;
		else if (h->state != OH_DOWN)
			h->state = OH_PENDING;
	}
	return h->state;
}

/* ---- time ------------------------------------------------------------------ */

int64_t oh_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool oh_time_parse(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	const char *p;
	int64_t frac = 0, off = 0;
	time_t t;
	if (!s || !hc_is_datetime(s))
		return false;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return false;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (*p == '+' || *p == '-') {
		int hh = 0, mm = 0;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return false;
		off = (int64_t)(hh * 60 + mm) * 60 * (*p == '-' ? -1 : 1);
	}
	t = timegm(&tm);
	*ms = ((int64_t)t - off) * 1000 + frac;
	return true;
}

void oh_time_format(int64_t ms, char out[HC_TIME_LEN + 1])
{
	struct timespec ts;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	hc_time_format(&ts, out);
}

/* ---- maintenance -------------------------------------------------------------- */

int oh_in_maintenance(struct hc_conn *c, const char *service, const char *now,
		      bool *in, struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(service), hc_vtext(now),
				hc_vtext(now) };
	int64_t n = 0;
	int rc = hc_query_int(c, &n,
			      "SELECT count(*) FROM maintenance_windows WHERE "
			      "service = ? AND starts_at <= ? AND ends_at > ?",
			      p, 3, err);
	*in = rc == HC_OK && n > 0;
	return rc;
}

/* ---- recording a round ------------------------------------------------------------ */

json_t *oh_probe_result_json(const struct oh_probe_result *r)
{
	return json_pack("{sssssbsIsssO}", "probe", r->name, "kind", r->kind,
			 "ok", r->ok, "duration_ms", (json_int_t)r->duration_ms,
			 "message", r->message, "values",
			 r->values ? r->values : json_object());
}

static const char *color_of(const char *health)
{
	if (strcmp(health, "up") == 0)
		return "green";
	if (strcmp(health, "down") == 0)
		return "red";
	return "amber";
}

/* The parents (depends_on) that are failing: pending or down. */
static int failing_parents(struct hc_conn *c, const json_t *svc,
			   json_t **out, struct hc_err *err)
{
	json_t *deps = json_object_get(svc, "depends_on"), *d;
	json_t *list = json_array();
	size_t i;
	json_array_foreach(deps, i, d)
	{
		json_t *parent = NULL;
		struct hc_err e2 = { 0 };
		const char *st;
		int rc;
		if (!json_is_string(d))
			continue;
		rc = hc_res_get_plain(c, &oh_service_resource,
				      json_string_value(d), &parent, &e2);
		if (rc == HC_ENOTFOUND)
			continue;
		if (rc != HC_OK) {
			json_decref(list);
			*err = e2;
			return rc;
		}
		st = oh_str(parent, "probe_state");
		if (st && (strcmp(st, "down") == 0 ||
			   strcmp(st, "pending") == 0))
			json_array_append(list, d);
		json_decref(parent);
	}
	*out = list;
	return HC_OK;
}

static int alert_event(struct hc_conn *c, const json_t *svc, bool raised,
		       const char *correlation, const char *reason,
		       const json_t *results, struct hc_err *err)
{
	const char *name = oh_str(svc, "id");
	char summary[300];
	json_t *ev, *out = NULL;
	int rc;
	snprintf(summary, sizeof(summary), "service %s is %s%s%.200s", name,
		 raised ? "down" : "up again", reason && *reason ? ": " : "",
		 reason ? reason : "");
	ev = json_pack("{sssssssssss{ss}s{sssO}}", "event_type",
		       raised ? "alert_raised" : "alert_resolved",
		       "correlation_id", correlation, "severity",
		       raised ? "high" : "info", "summary", summary, "source",
		       "ops-hub", "subject_refs", "service", name, "payload",
		       "health", raised ? "down" : "up", "results",
		       results ? results : json_null());
	if (!ev)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (oh_str(svc, "owner_domain"))
		json_object_set_new(ev, "domain",
				    json_string(oh_str(svc, "owner_domain")));
	rc = hc_res_create(c, &hc_progress_resource, ev, &out, err);
	/* the same alert for the other hubs (FOS §10), in the same
	 * transaction */
	if (rc == HC_OK) {
		json_t *p = json_pack(
			"{s:s,s:s,s:s,s:s,s:{s:s},s:s}", "correlation_id",
			correlation, "severity", raised ? "high" : "info",
			"summary", summary, "service", name, "subject_refs",
			"service", name, "health", raised ? "down" : "up");
		if (oh_str(svc, "owner_domain"))
			json_object_set_new(
				p, "domain",
				json_string(oh_str(svc, "owner_domain")));
		rc = hc_event_emit(c, raised ? "alert_raised" : "alert_resolved",
				   p, NULL, err);
		json_decref(p);
	}
	json_decref(ev);
	json_decref(out);
	return rc;
}

static int store_results(struct hc_conn *c, const json_t *svc,
			 const json_t *results, const char *now,
			 struct hc_err *err)
{
	const char *name = oh_str(svc, "id");
	json_int_t limit = json_integer_value(
		json_object_get(svc, "history_limit"));
	json_t *r;
	size_t i;
	int rc = HC_OK;
	json_array_foreach(results, i, r)
	{
		json_t *row = json_pack(
			"{sssOsOsOsOsOsOss}", "service", name, "probe",
			json_object_get(r, "probe"), "kind",
			json_object_get(r, "kind"), "ok",
			json_object_get(r, "ok"), "duration_ms",
			json_object_get(r, "duration_ms"), "message",
			json_object_get(r, "message"), "values",
			json_object_get(r, "values"), "checked_at", now);
		json_t *out = NULL;
		if (!row)
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		/* messages from the network may be long: keep a line */
		if (json_string_length(json_object_get(row, "message")) > 500)
			json_object_set_new(
				row, "message",
				json_stringn(oh_str(row, "message"), 500));
		rc = hc_res_create(c, &oh_probe_result_resource, row, &out,
				   err);
		json_decref(row);
		json_decref(out);
		if (rc != HC_OK)
			return rc;
	}
	if (limit < 1)
		limit = 100;
	{
		struct hc_value p[] = { hc_vtext(name), hc_vtext(name),
					hc_vint(limit) };
		rc = hc_exec(c,
			     "DELETE FROM probe_results WHERE service = ? AND "
			     "seq NOT IN (SELECT seq FROM probe_results WHERE "
			     "service = ? ORDER BY seq DESC LIMIT ?)",
			     p, 3, err);
	}
	return rc;
}

int oh_service_record(struct hc_conn *c, const char *service,
		      const json_t *results, json_t **out, struct hc_err *err)
{
	json_t *svc = NULL, *blocked = NULL, *last = NULL;
	char now[HC_TIME_LEN + 1], alert_id[200];
	struct oh_health h;
	const char *health, *old_health, *reason = NULL;
	bool own = !hc_tx_active(c), maint = false, alert_open, ok = true;
	bool ran = results && json_array_size(results) > 0;
	enum oh_state old_state;
	int rc;
	json_t *r;
	size_t i;

	if (out)
		*out = NULL;
	if (own && (rc = hc_tx_begin(c, true, err)) != HC_OK)
		return rc;
	rc = hc_res_get_locked(c, &oh_service_resource, service, &svc, err);
	if (rc != HC_OK)
		goto out;
	hc_time_now(now);
	h.state = old_state = oh_state_parse(oh_str(svc, "probe_state"));
	h.failures = (int)json_integer_value(
		json_object_get(svc, "consecutive_failures"));
	h.successes = (int)json_integer_value(
		json_object_get(svc, "consecutive_successes"));
	alert_open = json_is_true(json_object_get(svc, "alert_open"));
	snprintf(alert_id, sizeof(alert_id), "%s",
		 oh_str(svc, "alert_id") ? oh_str(svc, "alert_id") : "");
	last = json_deep_copy(json_object_get(svc, "last_results"));
	if (!json_is_object(last)) {
		json_decref(last);
		last = json_object();
	}
	json_array_foreach(results, i, r)
	{
		if (!json_is_true(json_object_get(r, "ok"))) {
			ok = false;
			if (!reason)
				reason = oh_str(r, "message");
		}
		json_object_set(last, oh_str(r, "probe"), r);
	}
	if (ran) {
		oh_health_step(&h, ok,
			       (int)json_integer_value(json_object_get(
				       svc, "failure_threshold")),
			       (int)json_integer_value(json_object_get(
				       svc, "success_threshold")));
		rc = store_results(c, svc, results, now, err);
	}
	if (rc == HC_OK)
		rc = oh_in_maintenance(c, oh_str(svc, "id"), now, &maint, err);
	if (rc == HC_OK)
		rc = failing_parents(c, svc, &blocked, err);
	if (rc != HC_OK)
		goto out;
	health = maint ? "maintenance" : oh_state_name(h.state);
	if (h.state == OH_DOWN && !maint && json_array_size(blocked) == 0 &&
	    !alert_open) {
		snprintf(alert_id, sizeof(alert_id), "ops/%s/%s",
			 oh_str(svc, "id"), now);
		rc = alert_event(c, svc, true, alert_id, reason, results, err);
		alert_open = true;
	} else if (h.state != OH_DOWN && alert_open) {
		rc = alert_event(c, svc, false, alert_id, NULL, results, err);
		alert_open = false;
	}
	if (rc != HC_OK)
		goto out;
	old_health = oh_str(svc, "health");
	{
		char *blocked_text = hc_json_dump(blocked, NULL);
		char *last_text = hc_json_dump(last, NULL);
		bool changed = !old_health || strcmp(old_health, health) != 0;
		struct hc_value p[] = {
			hc_vtext(health),
			hc_vtext(color_of(health)),
			hc_vtext(oh_state_name(h.state)),
			hc_vint(h.failures),
			hc_vint(h.successes),
			hc_vtext(blocked_text),
			hc_vint(alert_open),
			alert_id[0] ? hc_vtext(alert_id) : hc_vnull(),
			ran ? hc_vtext(now) : hc_vnull(),
			ran && ok ? hc_vtext(now) : hc_vnull(),
			changed || old_state != h.state ? hc_vtext(now)
							: hc_vnull(),
			hc_vtext(last_text),
			hc_vtext(oh_str(svc, "id")),
		};
		if (!blocked_text || !last_text)
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		else
			rc = hc_exec(c,
				     "UPDATE services SET row_version = row_version + 1, health = ?, color = "
				     "?, probe_state = ?, consecutive_failures "
				     "= ?, consecutive_successes = ?, "
				     "blocked_by = ?, alert_open = ?, alert_id "
				     "= ?, last_checked = COALESCE(?, "
				     "last_checked), last_seen = COALESCE(?, "
				     "last_seen), health_changed_at = "
				     "COALESCE(?, health_changed_at), "
				     "last_results = ? WHERE id = ?",
				     p, HC_COUNT(p), err);
		free(blocked_text);
		free(last_text);
	}
	if (rc == HC_OK && out)
		rc = hc_res_get(c, &oh_service_resource, oh_str(svc, "id"), out,
				err);
out:
	json_decref(svc);
	json_decref(blocked);
	json_decref(last);
	if (!own)
		return rc;
	if (rc == HC_OK)
		return hc_tx_commit(c, err);
	hc_tx_rollback(c);
	if (out && *out) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}
