/*
 * now.c - ops-hub's page for people, GET /now: the services as a status
 * grid (with the reason for anything not green), the active incidents on
 * a timeline, the access paths and whether they work, storage and
 * certificate health from the last probe results, and the change log.
 * Rendered from the database only (no probe runs for a page view) and
 * kept live by hub-core's views (hubcore/view.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/view.h"
#include "opshub/internal.h"

/* Every row of a resource (up to the list maximum), filtered on one
 * field when field is not NULL. *items is a new reference. */
static int rows(struct hc_conn *c, const struct hc_resource *r,
		const char *field, const char *value, size_t limit,
		json_t **items, struct hc_err *err)
{
	struct hc_list_query q = { .limit = limit ? limit : HC_LIST_MAX_LIMIT };
	json_t *page = NULL;
	int rc = field ? hc_list_query_add(&q, r, field, value, err) : HC_OK;
	if (rc == HC_OK)
		rc = hc_res_list(c, r, &q, &page, err);
	if (rc == HC_OK) {
		*items = json_incref(json_object_get(page, "items"));
		if (!*items)
			*items = json_array();
	}
	json_decref(page);
	return rc;
}

static const char *color_word(const char *color)
{
	if (!color)
		return "";
	return strcmp(color, "green") == 0 ? "green"
	       : strcmp(color, "red") == 0 ? "red"
	       : strcmp(color, "amber") == 0 ? "amber"
					      : "";
}

static int color_rank(const char *color)
{
	if (color && strcmp(color, "red") == 0)
		return 0;
	if (color && strcmp(color, "amber") == 0)
		return 1;
	return 2;
}

static int by_color_then_name(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int d = color_rank(oh_str(x, "color")) - color_rank(oh_str(y, "color"));
	if (d)
		return d;
	return strcmp(oh_str(x, "name") ? oh_str(x, "name") : "",
		      oh_str(y, "name") ? oh_str(y, "name") : "");
}

/* ---- services ------------------------------------------------------------ */

/* Why a service shows the colour it shows, as sentences. */
static int service_reason(const json_t *s, int64_t now_ms, struct hc_buf *b)
{
	const char *health = oh_str(s, "health");
	const json_t *blocked = json_object_get(s, "blocked_by");
	const char *k;
	json_t *r, *d;
	size_t i;
	int rc = HC_OK;
	char ago[32];

	if (health && strcmp(health, "maintenance") == 0)
		rc = hc_html(b, "<p>In a maintenance window: alerts are "
				"held.</p>");
	json_object_foreach((json_t *)json_object_get(s, "last_results"), k, r)
	{
		if (rc != HC_OK || json_is_true(json_object_get(r, "ok")))
			continue;
		rc = hc_html(b, "<p>%s failed: %s</p>", k,
			     oh_str(r, "message") ? oh_str(r, "message") : "");
	}
	if (rc == HC_OK && json_array_size(blocked)) {
		rc = hc_html_raw(b, "<p>Waiting on failing ");
		json_array_foreach(blocked, i, d)
			if (rc == HC_OK)
				rc = hc_html(b, "%s%s", i ? ", " : "",
					     json_string_value(d));
		if (rc == HC_OK)
			rc = hc_html_raw(b, " (its alerts are held).</p>");
	}
	if (rc == HC_OK && health && strcmp(health, "unknown") == 0)
		rc = hc_html(b, "<p>Not checked yet.</p>");
	if (rc == HC_OK && health && strcmp(health, "up") == 0)
		rc = hc_html(b, "<p>Every probe passes.</p>");
	if (rc == HC_OK && hc_view_ago(oh_str(s, "last_checked"), now_ms, ago,
				       sizeof(ago)))
		rc = hc_html(b, "<p class=\"muted\">Checked %s.</p>", ago);
	return rc;
}

/* The same reasons as plain text, for the tooltip. */
static void reason_text(const json_t *s, char *out, size_t size)
{
	const char *k;
	json_t *r;
	size_t n = 0;
	out[0] = '\0';
	json_object_foreach((json_t *)json_object_get(s, "last_results"), k, r)
	{
		if (json_is_true(json_object_get(r, "ok")) || n + 4 >= size)
			continue;
		n += (size_t)snprintf(out + n, size - n, "%s%s: %s",
				      n ? "; " : "", k,
				      oh_str(r, "message") ? oh_str(r, "message")
							   : "");
		if (n >= size)
			n = size - 1;
	}
	if (!out[0])
		snprintf(out, size, "%s", oh_str(s, "health") ? oh_str(s, "health")
							       : "");
}

static int render_services(struct hc_view *v, struct hc_buf *b,
			   struct hc_err *err)
{
	json_t *items = NULL, **list;
	size_t n, i, counts[3] = { 0 };
	int rc = rows(v->db, &oh_service_resource, NULL, NULL, 0, &items, err);
	if (rc != HC_OK)
		return rc;
	n = json_array_size(items);
	if (n == 0) {
		json_decref(items);
		return hc_html(b, "<p class=\"empty\">No services yet: import an "
				  "inventory (foshub ops import-inventory "
				  "FILE) or register one.</p>");
	}
	list = calloc(n, sizeof(*list));
	if (!list) {
		json_decref(items);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		list[i] = json_array_get(items, i);
		counts[color_rank(oh_str(list[i], "color"))]++;
	}
	qsort(list, n, sizeof(*list), by_color_then_name);
	rc = hc_html(b,
		     "<p class=\"summary\">%zu services: <span class=\"badge "
		     "red\">%zu down</span> <span class=\"badge amber\">%zu "
		     "need a look</span> <span class=\"badge green\">%zu "
		     "up</span></p><ul class=\"grid\">",
		     n, counts[0], counts[1], counts[2]);
	for (i = 0; rc == HC_OK && i < n; i++) {
		const json_t *s = list[i];
		const char *color = color_word(oh_str(s, "color"));
		char why[600];
		reason_text(s, why, sizeof(why));
		rc = hc_html(b,
			     "<li><details class=\"tile %s\" id=\"svc-%s\">"
			     "<summary title=\"%s\"><span class=\"name\">%s"
			     "</span><span class=\"badge %s\">%s</span>"
			     "</summary><div class=\"why\">",
			     color, oh_str(s, "name"), why, oh_str(s, "name"),
			     color, oh_str(s, "health"));
		if (rc == HC_OK)
			rc = service_reason(s, v->now_ms, b);
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</div></details></li>");
	}
	if (rc == HC_OK)
		rc = hc_html_raw(b, "</ul>");
	free(list);
	json_decref(items);
	return rc;
}

/* ---- incidents ------------------------------------------------------------- */

#define TL_W 640
#define TL_H 34

/* The incident's statuses over time as one lane of coloured spans. */
static int incident_lane(struct hc_buf *b, const json_t *inc, int64_t now_ms)
{
	const json_t *tl = json_object_get(inc, "timeline"), *e;
	const char *id = oh_str(inc, "id");
	int64_t start = 0, t, span;
	const char *status = "investigating";
	int64_t at[32];
	const char *what[32];
	size_t n = 0, i;
	int rc;

	if (!hc_view_time_ms(oh_str(inc, "created_at"), &start))
		return HC_OK;
	at[n] = start;
	what[n++] = status;
	json_array_foreach(tl, i, e)
	{
		if (!oh_str(e, "to") || !hc_view_time_ms(oh_str(e, "at"), &t) ||
		    n >= 32)
			continue;
		if (strcmp(oh_str(e, "to"), "investigating") == 0)
			continue;
		at[n] = t;
		what[n++] = oh_str(e, "to");
	}
	span = now_ms - start > 1000 ? now_ms - start : 1000;
	rc = hc_html(b,
		     "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
		     "aria-labelledby=\"tl-%s-t\"><title id=\"tl-%s-t\">"
		     "Timeline of %s: %zu status%s since it opened</title>"
		     "<rect class=\"lane\" x=\"0\" y=\"4\" width=\"%d\" "
		     "height=\"26\" rx=\"4\"/>",
		     TL_W, TL_H, id, id, oh_str(inc, "title"), n,
		     n == 1 ? "" : "es", TL_W);
	for (i = 0; rc == HC_OK && i < n; i++) {
		int64_t end = i + 1 < n ? at[i + 1] : now_ms;
		int x0 = (int)((double)(at[i] - start) * TL_W / (double)span);
		int x1 = (int)((double)(end - start) * TL_W / (double)span);
		char dur[32] = "", when[HC_TIME_LEN + 1];
		int64_t mins = (end - at[i]) / 60000;
		oh_time_format(at[i], when);
		if (mins < 120)
			snprintf(dur, sizeof(dur), "%lld min", (long long)mins);
		else
			snprintf(dur, sizeof(dur), "%lld h",
				 (long long)(mins / 60));
		rc = hc_html(b,
			     "<rect class=\"step %s\" x=\"%d\" y=\"4\" "
			     "width=\"%d\" height=\"26\"><title>%s from %s, "
			     "%s</title></rect>",
			     what[i], x0, x1 - x0 > 2 ? x1 - x0 : 2, what[i],
			     when, dur);
	}
	return rc == HC_OK ? hc_html_raw(b, "</svg>") : rc;
}

static const char *severity_color(const char *sev)
{
	if (!sev)
		return "";
	if (strcmp(sev, "SEV1") == 0 || strcmp(sev, "SEV2") == 0)
		return "red";
	return "amber";
}

static int render_incident(struct hc_view *v, struct hc_buf *b,
			   const json_t *inc)
{
	const json_t *e, *svcs = json_object_get(inc, "services"), *sv;
	size_t i;
	int rc = hc_html(b,
			 "<article class=\"incident\" id=\"inc-%s\"><h3>%s</h3>"
			 "<p class=\"meta\"><span class=\"badge %s\">%s</span> "
			 "<span class=\"badge\">%s</span> impact %s · opened ",
			 oh_str(inc, "id"), oh_str(inc, "title"),
			 severity_color(oh_str(inc, "severity")),
			 oh_str(inc, "severity"), oh_str(inc, "status"),
			 oh_str(inc, "impact"));
	if (rc == HC_OK)
		rc = hc_html_time(b, oh_str(inc, "created_at"), v->now_ms);
	if (rc == HC_OK && json_array_size(svcs)) {
		rc = hc_html_raw(b, " · services: ");
		json_array_foreach(svcs, i, sv)
			if (rc == HC_OK)
				rc = hc_html(b, "%s%s", i ? ", " : "",
					     json_string_value(sv));
	}
	if (rc == HC_OK)
		rc = hc_html_raw(b, "</p>");
	if (rc == HC_OK)
		rc = incident_lane(b, inc, v->now_ms);
	if (rc == HC_OK)
		rc = hc_html_raw(b, "<ol class=\"timeline\">");
	json_array_foreach(json_object_get(inc, "timeline"), i, e)
	{
		if (rc != HC_OK)
			break;
		rc = hc_html_raw(b, "<li>");
		if (rc == HC_OK)
			rc = hc_html_time(b, oh_str(e, "at"), v->now_ms);
		if (rc == HC_OK && oh_str(e, "to"))
			rc = oh_str(e, "from")
				     ? hc_html(b, " %s → <strong>%s</strong>",
					       oh_str(e, "from"),
					       oh_str(e, "to"))
				     : hc_html(b, " <strong>%s</strong>",
					       oh_str(e, "to"));
		if (rc == HC_OK)
			rc = hc_html(b, " by %s", oh_str(e, "author"));
		if (rc == HC_OK && oh_str(e, "note"))
			rc = hc_html(b, ": %s", oh_str(e, "note"));
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</li>");
	}
	return rc == HC_OK ? hc_html_raw(b, "</ol></article>") : rc;
}

static int render_incidents(struct hc_view *v, struct hc_buf *b,
			    struct hc_err *err)
{
	json_t *active = NULL, *closed = NULL, *inc;
	size_t i;
	int rc = rows(v->db, &oh_incident_resource, "status",
		      "investigating,identified,monitoring", 50, &active, err);
	if (rc == HC_OK)
		rc = rows(v->db, &oh_incident_resource, "status",
			  "resolved,postmortem", 5, &closed, err);
	if (rc == HC_OK && json_array_size(active) == 0)
		rc = hc_html(b, "<p class=\"empty\"><span class=\"badge green\">"
				"none open</span> No active incidents.</p>");
	json_array_foreach(active, i, inc)
		if (rc == HC_OK)
			rc = render_incident(v, b, inc);
	if (rc == HC_OK && json_array_size(closed)) {
		rc = hc_html_raw(b, "<h3>Recently resolved</h3><ul class=\"plain\">");
		json_array_foreach(closed, i, inc)
		{
			if (rc != HC_OK)
				break;
			rc = hc_html(b, "<li>%s (%s, %s) resolved ",
				     oh_str(inc, "title"),
				     oh_str(inc, "severity"),
				     oh_str(inc, "status"));
			if (rc == HC_OK)
				rc = hc_html_time(b, oh_str(inc, "resolved_at"),
						  v->now_ms);
			if (rc == HC_OK)
				rc = hc_html_raw(b, "</li>");
		}
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</ul>");
	}
	json_decref(active);
	json_decref(closed);
	return rc;
}

/* ---- access paths ------------------------------------------------------------ */

static const char *path_color(const char *status)
{
	if (status && strcmp(status, "ok") == 0)
		return "green";
	if (status && strcmp(status, "failing") == 0)
		return "red";
	return "";
}

static const char *path_word(const char *status)
{
	if (status && strcmp(status, "ok") == 0)
		return "works";
	if (status && strcmp(status, "failing") == 0)
		return "failing";
	return "not checked";
}

/* Paths on the left, the targets they reach on the right, one line each
 * in the colour (and dash) of its last check. */
static int access_map(struct hc_buf *b, const json_t *paths)
{
	json_t *targets = json_array(), *p, *t;
	size_t i, k, n = json_array_size(paths), nt;
	int rc, h;
	json_array_foreach(paths, i, p)
	{
		bool seen = false;
		json_array_foreach(targets, k, t)
			seen = seen || strcmp(json_string_value(t),
					      oh_str(p, "target")) == 0;
		if (!seen)
			json_array_append_new(targets,
					      json_string(oh_str(p, "target")));
	}
	nt = json_array_size(targets);
	h = (int)((n > nt ? n : nt) * 36 + 8);
	rc = hc_html(b,
		     "<svg class=\"chart\" viewBox=\"0 0 640 %d\" role=\"img\" "
		     "aria-labelledby=\"access-map-t\"><title id=\"access-map-t\">"
		     "Access map: %zu paths to %zu targets; the table below "
		     "lists them</title>",
		     h, n, nt);
	json_array_foreach(paths, i, p)
	{
		size_t ti = 0;
		const char *status = oh_str(p, "status");
		const char *cls = status && strcmp(status, "ok") == 0 ? "ok"
				  : status && strcmp(status, "failing") == 0
					  ? "failing"
					  : "unknown";
		json_array_foreach(targets, k, t)
			if (strcmp(json_string_value(t), oh_str(p, "target")) ==
			    0)
				ti = k;
		if (rc != HC_OK)
			break;
		rc = hc_html(b,
			     "<path class=\"link %s\" d=\"M 250 %d C 310 %d, "
			     "330 %d, 390 %d\"><title>%s → %s: %s</title>"
			     "</path>",
			     cls, (int)(i * 36 + 22), (int)(i * 36 + 22),
			     (int)(ti * 36 + 22), (int)(ti * 36 + 22),
			     oh_str(p, "name"), oh_str(p, "target"),
			     path_word(status));
	}
	json_array_foreach(paths, i, p)
		if (rc == HC_OK)
			rc = hc_html(b,
				     "<rect class=\"node\" x=\"4\" y=\"%d\" "
				     "width=\"246\" height=\"28\" rx=\"5\"/>"
				     "<text class=\"node-label\" x=\"12\" "
				     "y=\"%d\">%s (%s)</text>",
				     (int)(i * 36 + 8), (int)(i * 36 + 27),
				     oh_str(p, "name"), oh_str(p, "type"));
	json_array_foreach(targets, k, t)
		if (rc == HC_OK)
			rc = hc_html(b,
				     "<rect class=\"node\" x=\"390\" y=\"%d\" "
				     "width=\"246\" height=\"28\" rx=\"5\"/>"
				     "<text class=\"node-label\" x=\"398\" "
				     "y=\"%d\">%s</text>",
				     (int)(k * 36 + 8), (int)(k * 36 + 27),
				     json_string_value(t));
	json_decref(targets);
	return rc == HC_OK ? hc_html_raw(b, "</svg>") : rc;
}

static int render_access(struct hc_view *v, struct hc_buf *b,
			 struct hc_err *err)
{
	json_t *paths = NULL, *p, *res;
	size_t i;
	int rc = rows(v->db, &oh_access_path_resource, NULL, NULL, 0, &paths,
		      err);
	if (rc != HC_OK)
		return rc;
	if (json_array_size(paths) == 0) {
		json_decref(paths);
		return hc_html(b, "<p class=\"empty\">No access paths "
				  "recorded.</p>");
	}
	rc = access_map(b, paths);
	if (rc == HC_OK)
		rc = hc_html_raw(b,
				 "<div class=\"scroll\"><table><thead><tr>"
				 "<th scope=\"col\">Path</th><th scope=\"col\">"
				 "Target</th><th scope=\"col\">Works?</th><th scope=\"col\">"
				 "Checked</th></tr></thead><tbody>");
	json_array_foreach(paths, i, p)
	{
		if (rc != HC_OK)
			break;
		res = json_object_get(p, "last_result");
		rc = hc_html(b,
			     "<tr id=\"path-%s\"><th scope=\"row\">%s "
			     "<span class=\"muted\">%s %s</span></th><td>%s"
			     "</td><td><span class=\"badge %s\" "
			     "title=\"%s\">%s</span></td><td>",
			     oh_str(p, "name"), oh_str(p, "name"),
			     oh_str(p, "type"),
			     oh_str(p, "auth_method") ? oh_str(p, "auth_method")
						      : "",
			     oh_str(p, "target"),
			     path_color(oh_str(p, "status")),
			     oh_str(res, "message") ? oh_str(res, "message")
						    : "",
			     path_word(oh_str(p, "status")));
		if (rc == HC_OK)
			rc = hc_html_time(b, oh_str(p, "last_checked"),
					  v->now_ms);
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</td></tr>");
	}
	json_decref(paths);
	return rc == HC_OK ? hc_html_raw(b, "</tbody></table></div>") : rc;
}

/* ---- storage and certificates ------------------------------------------------ */

/* A probe's setting as milliseconds (max_backup_age), 0 when unset. */
static int64_t probe_ms(const json_t *svc, const char *probe, const char *key)
{
	const json_t *p;
	size_t i;
	int64_t ms;
	json_array_foreach(json_object_get(svc, "probes"), i, p)
	{
		const char *name = oh_str(p, "name") ? oh_str(p, "name")
						     : oh_str(p, "kind");
		if (name && strcmp(name, probe) == 0 && json_object_get(p, key) &&
		    oh_duration_json(json_object_get(p, key), key, &ms, NULL) ==
			    HC_OK)
			return ms;
	}
	return 0;
}

struct cert_row {
	char name[300];
	char where[200];
	int64_t not_after;
	bool ready, renewing, known;
};

static int by_expiry(const void *a, const void *b)
{
	const struct cert_row *x = a, *y = b;
	return x->not_after < y->not_after ? -1 : x->not_after > y->not_after;
}

static int volumes_table(struct hc_view *v, struct hc_buf *b,
			 const json_t *svc, const char *probe, const json_t *r,
			 bool *any)
{
	const json_t *vals = json_object_get(r, "values");
	const json_t *vols = json_object_get(vals, "volumes");
	const json_t *backups = json_object_get(vals, "backups"), *bk;
	const json_t *targets = json_object_get(vals, "backup_targets"), *t;
	int64_t max_age = probe_ms(svc, probe, "max_backup_age");
	const char *vol;
	size_t i;
	int rc;
	*any = true;
	rc = hc_html(b,
		     "<h3>Longhorn: %s</h3><p class=\"summary\">Volumes: "
		     "<span class=\"badge green\">%lld healthy</span> "
		     "<span class=\"badge amber\">%lld degraded</span> "
		     "<span class=\"badge red\">%lld faulted</span> "
		     "<span class=\"badge\">%lld unknown</span> "
		     "<span class=\"muted\">(%lld detached) · checked ",
		     oh_str(svc, "name"),
		     (long long)json_integer_value(json_object_get(vols, "healthy")),
		     (long long)json_integer_value(json_object_get(vols, "degraded")),
		     (long long)json_integer_value(json_object_get(vols, "faulted")),
		     (long long)json_integer_value(json_object_get(vols, "unknown")),
		     (long long)json_integer_value(json_object_get(vols, "detached")));
	if (rc == HC_OK)
		rc = hc_html_time(b, oh_str(r, "checked_at"), v->now_ms);
	if (rc == HC_OK)
		rc = hc_html_raw(b, "</span></p>");
	json_array_foreach(targets, i, t)
		if (rc == HC_OK)
			rc = hc_html(b,
				     "<p>Backup target %s: <span class=\"badge "
				     "%s\">%s</span></p>",
				     oh_str(t, "name"),
				     json_is_true(json_object_get(t, "available"))
					     ? "green"
					     : "red",
				     json_is_true(json_object_get(t, "available"))
					     ? "available"
					     : "not available");
	if (rc != HC_OK || !json_object_size(backups))
		return rc;
	rc = hc_html_raw(b, "<div class=\"scroll\"><table><thead><tr>"
			    "<th scope=\"col\">Volume</th><th scope=\"col\">"
			    "Last backup</th><th scope=\"col\">Age</th></tr>"
			    "</thead><tbody>");
	json_object_foreach((json_t *)backups, vol, bk)
	{
		const char *last = oh_str(bk, "last_completed");
		int64_t at = 0, age = 0;
		const char *color;
		char text[48];
		if (rc != HC_OK)
			break;
		if (last && hc_view_time_ms(last, &at)) {
			age = v->now_ms - at;
			color = max_age > 0 && age > max_age ? "red" : "green";
			snprintf(text, sizeof(text), "%lld h",
				 (long long)(age / 3600000));
		} else {
			color = max_age > 0 ? "red" : "";
			snprintf(text, sizeof(text), "none");
		}
		rc = hc_html(b, "<tr><th scope=\"row\">%s</th><td>", vol);
		if (rc == HC_OK)
			rc = hc_html_time(b, last, v->now_ms);
		if (rc == HC_OK)
			rc = hc_html(b,
				     "</td><td><span class=\"badge %s\">%s</span>"
				     "</td></tr>",
				     color, text);
	}
	return rc == HC_OK ? hc_html_raw(b, "</tbody></table></div>") : rc;
}

static int render_storage(struct hc_view *v, struct hc_buf *b,
			  struct hc_err *err)
{
	json_t *svcs = NULL, *s, *r, *c;
	struct cert_row *certs = NULL;
	size_t ncerts = 0, cap = 0, i, k;
	bool any = false;
	const char *probe;
	int rc = rows(v->db, &oh_service_resource, NULL, NULL, 0, &svcs, err);

	json_array_foreach(svcs, i, s)
	{
		json_object_foreach(json_object_get(s, "last_results"), probe, r)
		{
			const char *kind = oh_str(r, "kind");
			const json_t *vals = json_object_get(r, "values");
			if (rc != HC_OK || !kind)
				continue;
			if (strcmp(kind, "longhorn") == 0) {
				rc = volumes_table(v, b, s, probe, r, &any);
				continue;
			}
			if (ncerts + 256 > cap) {
				struct cert_row *m = realloc(
					certs, (cap + 256) * sizeof(*certs));
				if (!m) {
					rc = hc_err_set(err, HC_ENOMEM,
							"out of memory");
					break;
				}
				certs = m;
				cap += 256;
			}
			if (strcmp(kind, "cert-manager") == 0) {
				json_array_foreach(
					json_object_get(json_object_get(
								vals,
								"certificates"),
							"items"),
					k, c)
				{
					struct cert_row *row;
					if (ncerts >= cap)
						break;
					row = &certs[ncerts++];
					memset(row, 0, sizeof(*row));
					snprintf(row->name, sizeof(row->name),
						 "%s/%s", oh_str(c, "namespace"),
						 oh_str(c, "name"));
					snprintf(row->where, sizeof(row->where),
						 "%s (cert-manager)",
						 oh_str(s, "name"));
					row->known = hc_view_time_ms(
						oh_str(c, "not_after"),
						&row->not_after);
					row->ready = json_is_true(
						json_object_get(c, "ready"));
					row->renewing = json_is_true(
						json_object_get(
							c,
							"renewal_scheduled"));
				}
			} else if (oh_str(vals, "certificate_expires_at")) {
				struct cert_row *row = &certs[ncerts++];
				memset(row, 0, sizeof(*row));
				snprintf(row->name, sizeof(row->name), "%s",
					 oh_str(s, "name"));
				snprintf(row->where, sizeof(row->where),
					 "probe %s (%s)", probe, kind);
				row->known = hc_view_time_ms(
					oh_str(vals, "certificate_expires_at"),
					&row->not_after);
				row->ready = true;
			}
		}
	}
	if (rc == HC_OK && ncerts) {
		qsort(certs, ncerts, sizeof(*certs), by_expiry);
		rc = hc_html_raw(b,
				 "<h3>Certificates</h3><div class=\"scroll\">"
				 "<table><thead><tr><th scope=\"col\">"
				 "Certificate</th><th scope=\"col\">Seen by</th>"
				 "<th scope=\"col\" class=\"num\">Days left</th>"
				 "<th scope=\"col\">State</th></tr></thead>"
				 "<tbody>");
		for (i = 0; rc == HC_OK && i < ncerts; i++) {
			const struct cert_row *row = &certs[i];
			int64_t days = (row->not_after - v->now_ms) / 86400000;
			const char *color, *word;
			if (!row->ready) {
				color = "red";
				word = "not ready";
			} else if (row->known && days < 3 && !row->renewing) {
				color = "red";
				word = days < 0 ? "expired" : "expires soon";
			} else if (row->known && days < 14) {
				color = "amber";
				word = row->renewing ? "renewal scheduled"
						     : "renew soon";
			} else {
				color = "green";
				word = "fine";
			}
			rc = row->known
				     ? hc_html(b,
					       "<tr><th scope=\"row\">%s</th>"
					       "<td>%s</td><td class=\"num\">"
					       "%lld</td><td><span class=\"badge "
					       "%s\">%s</span></td></tr>",
					       row->name, row->where,
					       (long long)days, color, word)
				     : hc_html(b,
					       "<tr><th scope=\"row\">%s</th>"
					       "<td>%s</td><td class=\"num\">?"
					       "</td><td><span class=\"badge "
					       "%s\">%s</span></td></tr>",
					       row->name, row->where, color,
					       word);
		}
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</tbody></table></div>");
	}
	if (rc == HC_OK && !any && !ncerts)
		rc = hc_html(b, "<p class=\"empty\">No storage or certificate "
				"probes have reported yet (longhorn, "
				"cert-manager, tls or https probes).</p>");
	free(certs);
	json_decref(svcs);
	return rc;
}

/* ---- changes ---------------------------------------------------------------------- */

static int render_changes(struct hc_view *v, struct hc_buf *b,
			  struct hc_err *err)
{
	json_t *items = NULL, *ch;
	size_t i;
	int rc = rows(v->db, &oh_change_resource, NULL, NULL, 15, &items, err);
	if (rc != HC_OK)
		return rc;
	if (json_array_size(items) == 0) {
		json_decref(items);
		return hc_html(b, "<p class=\"empty\">No changes recorded.</p>");
	}
	rc = hc_html_raw(b, "<div class=\"scroll\"><table><thead><tr>"
			    "<th scope=\"col\">When</th><th scope=\"col\">"
			    "Change</th><th scope=\"col\">Service</th>"
			    "<th scope=\"col\">By</th></tr></thead><tbody>");
	json_array_foreach(items, i, ch)
	{
		if (rc != HC_OK)
			break;
		rc = hc_html_raw(b, "<tr><td>");
		if (rc == HC_OK)
			rc = hc_html_time(b, oh_str(ch, "changed_at"),
					  v->now_ms);
		if (rc == HC_OK)
			rc = hc_html(b, "</td><td>%s", oh_str(ch, "summary"));
		if (rc == HC_OK && oh_str(ch, "reference"))
			rc = hc_html(b, " <span class=\"muted\">(%s)</span>",
				     oh_str(ch, "reference"));
		if (rc == HC_OK)
			rc = hc_html(b, "</td><td>%s</td><td>%s</td></tr>",
				     oh_str(ch, "service") ? oh_str(ch, "service")
							   : "",
				     oh_str(ch, "changed_by")
					     ? oh_str(ch, "changed_by")
					     : "");
	}
	json_decref(items);
	return rc == HC_OK ? hc_html_raw(b, "</tbody></table></div>") : rc;
}

static const struct hc_view_section now_sections[] = {
	{ "services", "Services", render_services, true },
	{ "incidents", "Incidents", render_incidents, false },
	{ "access", "Access paths", render_access, false },
	{ "storage", "Storage and certificates", render_storage, false },
	{ "changes", "Recent changes", render_changes, false },
};

const struct hc_view_page oh_now_page = {
	.path = "/now",
	.title = "Now",
	.intro = "What runs, what is broken, how to reach it and what "
		 "changed, from the last probe results.",
	.sections = now_sections,
	.nsections = HC_COUNT(now_sections),
};
