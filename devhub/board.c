/*
 * board.c - dev-hub's page for people, GET /board: the workstreams with
 * their tasks by status, the blocked tasks and what blocks them, recent
 * decisions, unread messages per domain, and the open risks and alerts.
 * ?domain=SLUG narrows it to one domain. Kept live by hub-core's views.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/json.h"
#include "hubcore/view.h"

static int rows(struct hc_conn *c, const struct hc_resource *r,
		const char *field, const char *value, json_t **items,
		struct hc_err *err)
{
	struct hc_list_query q = { .limit = HC_LIST_MAX_LIMIT };
	json_t *page = NULL;
	int rc = field && value ? hc_list_query_add(&q, r, field, value, err)
				: HC_OK;
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

static int check_domain(struct hc_view *v, struct hc_err *err)
{
	const char *d = hc_view_arg(v, "domain");
	json_t *row = NULL;
	int rc;
	if (!d)
		return HC_OK;
	rc = hc_res_get_plain(v->db, &hc_domain_resource, d, &row, err);
	json_decref(row);
	if (rc == HC_ENOTFOUND)
		return hc_err_field(err, HC_ENOTFOUND, "domain",
				    "no domain '%s' (query parameter "
				    "'domain')",
				    d);
	return rc;
}

/* ---- workstreams ------------------------------------------------------------ */

static const struct {
	const char *status;
	const char *title;
} columns[] = {
	{ "in_progress", "In progress" }, { "blocked", "Blocked" },
	{ "todo", "To do" },		  { "done", "Done" },
	{ "cancelled", "Cancelled" },
};

static bool finished(const char *status)
{
	static const char *const done[] = { "completed", "done", "cancelled",
					     "archived", "superseded", NULL };
	for (const char *const *d = done; status && *d; d++)
		if (strcmp(*d, status) == 0)
			return true;
	return false;
}

/* waits: {task id: number of open blockers} for the tasks that wait */
static int task_item(struct hc_buf *b, const json_t *t, const json_t *waits)
{
	json_int_t n = json_integer_value(
		json_object_get(waits, hc_json_str(t, "id")));
	int rc = hc_html(b,
			 "<li id=\"task-%s\"><span class=\"muted\">%s</span> %s",
			 hc_json_str(t, "id"), hc_json_str(t, "id"),
			 hc_json_str(t, "title"));
	if (rc == HC_OK && n > 0)
		rc = hc_html(b, " <span class=\"badge red\">waits on %lld</span>",
			     (long long)n);
	if (rc == HC_OK && hc_json_str(t, "priority") &&
	    strcmp(hc_json_str(t, "priority"), "high") == 0)
		rc = hc_html_raw(b, " <span class=\"badge amber\">high</span>");
	if (rc == HC_OK && hc_json_str(t, "assignee"))
		rc = hc_html(b, " <span class=\"muted\">(%s)</span>",
			     hc_json_str(t, "assignee"));
	return rc == HC_OK ? hc_html_raw(b, "</li>") : rc;
}

static int workstream(struct hc_view *v, struct hc_buf *b, const json_t *ws,
		      const json_t *waits, struct hc_err *err)
{
	json_t *tasks = NULL, *t;
	struct hc_chart_part parts[HC_COUNT(columns)];
	size_t counts[HC_COUNT(columns)] = { 0 }, i, c, total;
	char label[300];
	int rc = rows(v->db, &dh_task_resource, "workstream",
		      hc_json_str(ws, "id"), &tasks, err);
	if (rc != HC_OK)
		return rc;
	total = json_array_size(tasks);
	json_array_foreach(tasks, i, t)
		for (c = 0; c < HC_COUNT(columns); c++)
			if (strcmp(columns[c].status,
				   hc_json_str(t, "status")) == 0)
				counts[c]++;
	/* done first, so the bar fills from the left as work ends */
	parts[0] = (struct hc_chart_part){ "Done", (int64_t)counts[3], "done" };
	parts[1] = (struct hc_chart_part){ "In progress", (int64_t)counts[0],
					   "in_progress" };
	parts[2] = (struct hc_chart_part){ "Blocked", (int64_t)counts[1],
					   "blocked" };
	parts[3] = (struct hc_chart_part){ "To do", (int64_t)counts[2],
					   "todo" };
	parts[4] = (struct hc_chart_part){ "Cancelled", (int64_t)counts[4],
					   "cancelled" };
	snprintf(label, sizeof(label),
		 "%s: %zu of %zu tasks done, %zu in progress, %zu blocked",
		 hc_json_str(ws, "id"), counts[3], total, counts[0], counts[1]);
	rc = hc_html(b,
		     "<details class=\"workstream\" id=\"ws-%s\"%s><summary>"
		     "<span class=\"title\">%s</span> <span class=\"muted\">"
		     "%s</span> <span class=\"badge\">%s</span><br>"
		     "<span class=\"counts\">%zu done · %zu in progress · %zu "
		     "blocked · %zu to do</span></summary>",
		     hc_json_str(ws, "id"),
		     !finished(hc_json_str(ws, "status")) && (counts[0] || counts[1])
			     ? " open"
			     : "",
		     hc_json_str(ws, "title"), hc_json_str(ws, "id"),
		     hc_json_str(ws, "status"), counts[3], counts[0], counts[1],
		     counts[2]);
	if (rc == HC_OK)
		rc = hc_svg_stack(b, parts, HC_COUNT(parts), 0, label);
	if (rc == HC_OK)
		rc = hc_html_raw(b, "<div class=\"columns\">");
	for (c = 0; rc == HC_OK && c < HC_COUNT(columns); c++) {
		if (!counts[c])
			continue;
		rc = hc_html(b, "<div><h4>%s (%zu)</h4><ul>", columns[c].title,
			     counts[c]);
		json_array_foreach(tasks, i, t)
			if (rc == HC_OK &&
			    strcmp(hc_json_str(t, "status"), columns[c].status) ==
				    0)
				rc = task_item(b, t, waits);
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</ul></div>");
	}
	json_decref(tasks);
	return rc == HC_OK ? hc_html_raw(b, "</div></details>") : rc;
}

static int render_workstreams(struct hc_view *v, struct hc_buf *b,
			      struct hc_err *err)
{
	struct dh_work_filter f = { .domain = hc_view_arg(v, "domain"),
				    .limit = 500 };
	json_t *items = NULL, *ws, *blocked = NULL, *waits = json_object(), *t;
	size_t i;
	int rc = rows(v->db, &dh_workstream_resource, "domain",
		      hc_view_arg(v, "domain"), &items, err);
	/* which tasks wait on an open blocker, whatever their status says */
	if (rc == HC_OK)
		rc = dh_list_blocked_tasks(v->db, &f, &blocked, err);
	json_array_foreach(json_object_get(blocked, "items"), i, t)
		if (json_array_size(json_object_get(t, "blockers")))
			json_object_set_new(
				waits, hc_json_str(t, "id"),
				json_integer((json_int_t)json_array_size(
					json_object_get(t, "blockers"))));
	json_decref(blocked);
	if (rc != HC_OK) {
		json_decref(items);
		json_decref(waits);
		return rc;
	}
	if (json_array_size(items) == 0)
		rc = hc_html(b, "<p class=\"empty\">No workstreams: import a "
				"workplan (foshub workplan import FILE).</p>");
	/* the ones being worked on first */
	for (int pass = 0; pass < 2; pass++)
		json_array_foreach(items, i, ws)
			if (rc == HC_OK &&
			    finished(hc_json_str(ws, "status")) == (pass == 1))
				rc = workstream(v, b, ws, waits, err);
	json_decref(items);
	json_decref(waits);
	return rc;
}

/* ---- blocked ------------------------------------------------------------------- */

static int render_blocked(struct hc_view *v, struct hc_buf *b,
			  struct hc_err *err)
{
	struct dh_work_filter f = { .domain = hc_view_arg(v, "domain"),
				    .limit = 100 };
	json_t *out = NULL, *t, *k;
	size_t i, j;
	int rc = dh_list_blocked_tasks(v->db, &f, &out, err);
	if (rc != HC_OK)
		return rc;
	if (json_array_size(json_object_get(out, "items")) == 0)
		rc = hc_html(b, "<p class=\"empty\"><span class=\"badge green\">"
				"none</span> Nothing is blocked.</p>");
	else
		rc = hc_html_raw(b, "<ul class=\"plain\">");
	json_array_foreach(json_object_get(out, "items"), i, t)
	{
		if (rc != HC_OK)
			break;
		rc = hc_html(b,
			     "<li id=\"blocked-%s\"><span class=\"badge red\">"
			     "blocked</span> <span class=\"muted\">%s</span> "
			     "%s",
			     hc_json_str(t, "id"), hc_json_str(t, "id"),
			     hc_json_str(t, "title"));
		if (rc == HC_OK && json_array_size(json_object_get(t, "blockers")))
			rc = hc_html_raw(b, "<ul>");
		json_array_foreach(json_object_get(t, "blockers"), j, k)
			if (rc == HC_OK)
				rc = hc_html(b,
					     "<li>waits on %s <span "
					     "class=\"muted\">%s</span> %s (%s)"
					     "</li>",
					     hc_json_str(k, "kind"),
					     hc_json_str(k, "id"),
					     hc_json_str(k, "title"),
					     hc_json_str(k, "status"));
		if (rc == HC_OK && json_array_size(json_object_get(t, "blockers")))
			rc = hc_html_raw(b, "</ul>");
		if (rc == HC_OK && !json_array_size(json_object_get(t, "blockers")))
			rc = hc_html_raw(b, " <span class=\"muted\">(marked "
					    "blocked; no blocker recorded)</span>");
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</li>");
	}
	if (rc == HC_OK && json_array_size(json_object_get(out, "items")))
		rc = hc_html_raw(b, "</ul>");
	json_decref(out);
	return rc;
}

/* ---- decisions ----------------------------------------------------------------- */

#define RECENT_DECISIONS 8

static int render_decisions(struct hc_view *v, struct hc_buf *b,
			    struct hc_err *err)
{
	json_t *items = NULL, *d;
	size_t n, i;
	int rc = rows(v->db, &dh_decision_resource, "domain",
		      hc_view_arg(v, "domain"), &items, err);
	if (rc != HC_OK)
		return rc;
	n = json_array_size(items);
	if (n == 0)
		rc = hc_html(b, "<p class=\"empty\">No decisions recorded.</p>");
	else
		rc = hc_html_raw(b, "<ul class=\"plain\">");
	/* oldest first in the list: the latest are at its end */
	for (i = n; rc == HC_OK && i > 0 && n - i < RECENT_DECISIONS; i--) {
		d = json_array_get(items, i - 1);
		rc = hc_html(b,
			     "<li><strong>%s</strong> <span class=\"badge\">%s"
			     "</span> <span class=\"muted\">%s%s%s</span>",
			     hc_json_str(d, "title"), hc_json_str(d, "status"),
			     hc_json_str(d, "decided_on")
				     ? hc_json_str(d, "decided_on")
				     : "",
			     hc_json_str(d, "workstream") ? " · " : "",
			     hc_json_str(d, "workstream")
				     ? hc_json_str(d, "workstream")
				     : "");
		if (rc == HC_OK && hc_json_str(d, "choice"))
			rc = hc_html(b, "<br>%s", hc_json_str(d, "choice"));
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</li>");
	}
	if (rc == HC_OK && n)
		rc = hc_html_raw(b, "</ul>");
	json_decref(items);
	return rc;
}

/* ---- messages, risks and alerts -------------------------------------------------- */

static int render_messages(struct hc_view *v, struct hc_buf *b,
			   struct hc_err *err)
{
	json_t *domains = NULL, *d;
	const char *only = hc_view_arg(v, "domain");
	size_t i, shown = 0;
	int rc = rows(v->db, &hc_domain_resource, NULL, NULL, &domains, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_html_raw(b, "<table><thead><tr><th scope=\"col\">Domain</th>"
			    "<th scope=\"col\" class=\"num\">Unread</th>"
			    "<th scope=\"col\" class=\"num\">Messages</th>"
			    "</tr></thead><tbody>");
	json_array_foreach(domains, i, d)
	{
		struct hc_value p[] = { hc_vtext(hc_json_str(d, "slug")) };
		int64_t unread = 0, total = 0;
		if (rc != HC_OK)
			break;
		if (only && strcmp(only, hc_json_str(d, "slug")) != 0 &&
		    strcmp(only, hc_json_str(d, "id")) != 0)
			continue;
		rc = hc_query_int(v->db, &unread,
				  "SELECT count(*) FROM messages WHERE "
				  "to_domain = ? AND read = 0",
				  p, 1, err);
		if (rc == HC_OK)
			rc = hc_query_int(v->db, &total,
					  "SELECT count(*) FROM messages WHERE "
					  "to_domain = ?",
					  p, 1, err);
		if (rc == HC_OK)
			rc = hc_html(b,
				     "<tr id=\"inbox-%s\"><th scope=\"row\">%s"
				     "</th><td class=\"num\"><span class=\"badge"
				     "%s\">%lld unread</span></td><td "
				     "class=\"num\">%lld</td></tr>",
				     hc_json_str(d, "slug"), hc_json_str(d, "name"),
				     unread ? " amber" : "", (long long)unread,
				     (long long)total);
		shown++;
	}
	if (rc == HC_OK)
		rc = hc_html_raw(b, "</tbody></table>");
	if (rc == HC_OK && !shown)
		rc = hc_html(b, "<p class=\"empty\">No domains yet.</p>");
	json_decref(domains);
	return rc;
}

static const char *sev_color(const char *sev)
{
	if (sev && (strcmp(sev, "high") == 0 || strcmp(sev, "critical") == 0))
		return "red";
	if (sev && strcmp(sev, "medium") == 0)
		return "amber";
	return "";
}

static int events(struct hc_view *v, struct hc_buf *b, const char *title,
		  const char *const *types, const char *none,
		  struct hc_err *err)
{
	struct hc_list_query q = { .limit = 50 };
	json_t *out = NULL, *e;
	size_t i;
	int rc = hc_view_arg(v, "domain")
			 ? hc_list_query_add(&q, &hc_progress_resource,
					     "domain", hc_view_arg(v, "domain"),
					     err)
			 : HC_OK;
	if (rc == HC_OK)
		rc = hc_progress_view(v->db, types, true, &q, &out, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_html(b, "<h3>%s (%zu)</h3>", title,
		     json_array_size(json_object_get(out, "items")));
	if (rc == HC_OK && !json_array_size(json_object_get(out, "items")))
		rc = hc_html(b, "<p class=\"empty\">%s</p>", none);
	else if (rc == HC_OK)
		rc = hc_html_raw(b, "<ul class=\"plain\">");
	json_array_foreach(json_object_get(out, "items"), i, e)
	{
		if (rc != HC_OK)
			break;
		rc = hc_html(b,
			     "<li><span class=\"badge %s\">%s</span> %s "
			     "<span class=\"muted\">%s · ",
			     sev_color(hc_json_str(e, "severity")),
			     hc_json_str(e, "severity") ? hc_json_str(e, "severity")
							: "",
			     hc_json_str(e, "summary") ? hc_json_str(e, "summary")
						       : hc_json_str(e, "correlation_id"),
			     hc_json_str(e, "domain") ? hc_json_str(e, "domain")
						      : "");
		if (rc == HC_OK)
			rc = hc_html_time(b, hc_json_str(e, "created_at"),
					  v->now_ms);
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</span></li>");
	}
	if (rc == HC_OK && json_array_size(json_object_get(out, "items")))
		rc = hc_html_raw(b, "</ul>");
	json_decref(out);
	return rc;
}

static int render_risks(struct hc_view *v, struct hc_buf *b,
			struct hc_err *err)
{
	int rc = events(v, b, "Open alerts", hc_alert_event_types,
			"No open alerts.", err);
	return rc == HC_OK ? events(v, b, "Open risks", hc_risk_event_types,
				    "No open risks.", err)
			   : rc;
}

/* ---- navigation ------------------------------------------------------------------- */

static int render_nav(struct hc_view *v, struct hc_buf *b,
		      struct hc_err *err)
{
	const char *cur = hc_view_arg(v, "domain");
	json_t *domains = NULL, *d;
	size_t i;
	int rc = rows(v->db, &hc_domain_resource, NULL, NULL, &domains, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_html(b,
		     "<ul><li><a href=\"/board\" aria-current=\"%s\">All "
		     "domains</a></li>",
		     cur ? "false" : "page");
	json_array_foreach(domains, i, d)
		if (rc == HC_OK)
			rc = hc_html(b,
				     "<li><a href=\"/board?domain=%s\" "
				     "aria-current=\"%s\">%s</a>"
				     "</li>",
				     hc_json_str(d, "slug"),
				     cur && strcmp(cur, hc_json_str(d, "slug")) == 0
					     ? "page"
					     : "false",
				     hc_json_str(d, "name"));
	json_decref(domains);
	return rc == HC_OK ? hc_html_raw(b, "</ul>") : rc;
}

static const struct hc_view_section board_sections[] = {
	{ "workstreams", "Workstreams", render_workstreams, true },
	{ "blocked", "Blocked tasks", render_blocked, false },
	{ "risks", "Open alerts and risks", render_risks, false },
	{ "messages", "Unread messages", render_messages, false },
	{ "decisions", "Recent decisions", render_decisions, false },
};

static const char *const board_args[] = { "domain", NULL };

const struct hc_view_page dh_board_page = {
	.path = "/board",
	.title = "Board",
	.intro = "The work of every domain: what moves, what is stuck and on "
		 "what, what was decided, who has mail.",
	.sections = board_sections,
	.nsections = HC_COUNT(board_sections),
	.args = board_args,
	.check = check_domain,
	.nav = render_nav,
};
