/*
 * tracking.c - what surrounds the work: goals per domain with the
 * workstreams serving them, contributions (who did what on which task, in
 * which session, when), technical debt items (TD-nnnn) and enhancement
 * proposals (EP-nnnn) with their status and owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

/* ---- goals ------------------------------------------------------------------ */

static const char *const goal_statuses[] = { "proposed", "active", "achieved",
					     "abandoned", NULL };

/* workstreams: ids of existing workstreams of the goal's domain, each
 * once; stored by id whatever they were named by. */
static int goal_prepare(struct hc_conn *c, const struct hc_resource *r,
			enum hc_write_mode mode, json_t *obj, const json_t *old,
			struct hc_err *err)
{
	json_t *list = json_object_get(obj, "workstreams"), *v;
	const char *domain = hc_json_str(obj, "domain");
	size_t i;
	json_array_foreach(list, i, v)
	{
		json_t *ws = NULL;
		int rc;
		if (!json_is_string(v))
			return hc_err_field(err, HC_EINVAL, "workstreams",
					    "field 'workstreams': item %zu must "
					    "be a workstream id",
					    i);
		rc = hc_res_get_plain(c, &dh_workstream_resource,
				      json_string_value(v), &ws, err);
		if (rc == HC_ENOTFOUND)
			return hc_err_field(err, HC_EINVAL, "workstreams",
					    "field 'workstreams': no workstream "
					    "'%s'",
					    json_string_value(v));
		if (rc != HC_OK)
			return rc;
		if (domain && strcmp(hc_json_str(ws, "domain"), domain) != 0) {
			rc = hc_err_field(err, HC_EINVAL, "workstreams",
					  "field 'workstreams': workstream '%s' "
					  "belongs to domain '%s', not '%s'",
					  hc_json_str(ws, "id"),
					  hc_json_str(ws, "domain"), domain);
			json_decref(ws);
			return rc;
		}
		json_array_set_new(list, i, json_string(hc_json_str(ws, "id")));
		json_decref(ws);
		for (size_t k = 0; k < i; k++)
			if (json_equal(json_array_get(list, k),
				       json_array_get(list, i)))
				return hc_err_field(err, HC_EINVAL,
						    "workstreams",
						    "field 'workstreams': '%s' "
						    "appears twice",
						    json_string_value(
							    json_array_get(list,
									   i)));
	}
	return HC_OK;
}

/* Reading a goal shows how its workstreams stand. */
static int goal_decorate(struct hc_conn *c, const struct hc_resource *r,
			 json_t *obj, struct hc_err *err)
{
	json_t *list = json_object_get(obj, "workstreams"), *v;
	json_t *progress = json_array();
	size_t i;
	json_array_foreach(list, i, v)
	{
		struct hc_value p[] = { hc_vtext(json_string_value(v)) };
		json_t *ws = NULL, *counts = NULL;
		json_int_t total = 0;
		const char *k;
		json_t *n;
		int rc = hc_res_get_plain(c, &dh_workstream_resource,
					  json_string_value(v), &ws, err);
		if (rc == HC_OK)
			rc = hc_res_count_by(c, &dh_task_resource, "status",
					     "workstream = ?", p, 1, &counts,
					     err);
		if (rc != HC_OK) {
			json_decref(ws);
			json_decref(progress);
			return rc;
		}
		json_object_foreach(counts, k, n)
			total += json_integer_value(n);
		json_array_append_new(
			progress,
			json_pack("{sOsOsOsIsO}", "id", json_object_get(ws, "id"),
				  "title", json_object_get(ws, "title"),
				  "status", json_object_get(ws, "status"),
				  "tasks_total", total, "tasks_done",
				  json_object_get(counts, "done")));
		json_decref(ws);
		json_decref(counts);
	}
	json_object_set_new(obj, "workstream_progress", progress);
	return HC_OK;
}

static const struct hc_field goal_fields[] = {
	{ .name = "title", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "The goal, in one line." },
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .ref = &hc_domain_resource,
	  .ref_field = "slug", .doc = "The domain the goal belongs to." },
	{ .name = "description", .type = HC_FT_TEXT,
	  .doc = "What reaching it means and how it is measured." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = goal_statuses,
	  .default_value = "active",
	  .doc = "proposed, active, achieved or abandoned." },
	{ .name = "owner", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100, .doc = "Who is accountable for it." },
	{ .name = "target_date", .type = HC_FT_DATE,
	  .doc = "When it should be reached." },
	{ .name = "workstreams", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_ARRAY, .default_value = "[]",
	  .doc = "Ids of the workstreams serving the goal (of its domain)." },
};

const struct hc_resource dh_goal_resource = {
	.name = "goal",
	.plural = "goals",
	.table = "goals",
	.doc = "A goal of a domain, with the workstreams serving it.",
	.id_policy = HC_ID_UUID,
	.fields = goal_fields,
	.nfields = HC_COUNT(goal_fields),
	.hooks = { .prepare = goal_prepare, .decorate = goal_decorate },
};

/* ---- contributions ---------------------------------------------------------- */

static const char *const contributor_kinds[] = { "agent", "person", NULL };

/* The workstream is the task's; the time is now unless given. */
static int contribution_prepare(struct hc_conn *c,
				const struct hc_resource *r,
				enum hc_write_mode mode, json_t *obj,
				const json_t *old, struct hc_err *err)
{
	json_t *task = NULL;
	int rc;
	if (!hc_json_str(obj, "at")) {
		char now[HC_TIME_LEN + 1];
		hc_time_now(now);
		hc_json_set_str(obj, "at", now);
	}
	if (!hc_json_str(obj, "task"))
		return HC_OK;
	rc = hc_res_get_plain(c, &dh_task_resource, hc_json_str(obj, "task"),
			      &task, err);
	if (rc != HC_OK)
		return rc;
	hc_json_set_str(obj, "workstream", hc_json_str(task, "workstream"));
	json_decref(task);
	return HC_OK;
}

static const struct hc_field contribution_fields[] = {
	{ .name = "task", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .ref = &dh_task_resource, .ref_field = "id",
	  .doc = "The task worked on." },
	{ .name = "workstream", .type = HC_FT_REF,
	  .flags = HC_F_FILTER | HC_F_READONLY, .ref = &dh_workstream_resource,
	  .ref_field = "id", .doc = "The task's workstream (set by the hub)." },
	{ .name = "contributor", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .max_len = 100, .doc = "The agent or person who did it." },
	{ .name = "contributor_kind", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .enum_values = contributor_kinds, .default_value = "agent",
	  .doc = "agent or person." },
	{ .name = "summary", .type = HC_FT_TEXT, .flags = HC_F_REQUIRED,
	  .max_len = 65536, .doc = "What was done." },
	{ .name = "session_id", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 200, .doc = "The agent session it was done in." },
	{ .name = "at", .type = HC_FT_DATETIME, .flags = HC_F_AUTO,
	  .doc = "When it was done (default: when recorded)." },
};

const struct hc_resource dh_contribution_resource = {
	.name = "contribution",
	.plural = "contributions",
	.table = "contributions",
	.doc = "Who did what on which task, in which session, when.",
	.id_policy = HC_ID_UUID,
	.fields = contribution_fields,
	.nfields = HC_COUNT(contribution_fields),
	.newest_first = true,
	.hooks = { .prepare = contribution_prepare },
};

/* ---- technical debt and enhancement proposals --------------------------------- */

/* TD-0001, EP-0001, ...: the next number of the table's prefix. */
static int seq_make_id(struct hc_conn *c, const struct hc_resource *r,
		       const json_t *obj, char *out, size_t out_size,
		       struct hc_err *err)
{
	const char *prefix = strcmp(r->table, "tech_debt") == 0 ? "TD-" : "EP-";
	struct hc_stmt *st = NULL;
	char sql[128];
	long max = 0;
	int rc;
	snprintf(sql, sizeof(sql), "SELECT id FROM %s", r->table);
	rc = hc_query(c, &st, sql, NULL, 0, err);
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		const char *id = hc_stmt_text(st, 0, NULL);
		char *end;
		long n;
		if (strncmp(id, prefix, 3) != 0)
			continue;
		n = strtol(id + 3, &end, 10);
		if (!*end && n > max)
			max = n;
	}
	hc_stmt_finish(st);
	if (rc != HC_ROW_DONE)
		return rc;
	snprintf(out, out_size, "%s%04ld", prefix, max + 1);
	return HC_OK;
}

static const char *const td_statuses[] = { "open", "accepted", "in_progress",
					   "resolved", "wont_fix", NULL };
static const char *const td_severities[] = { "low", "medium", "high",
					     "critical", NULL };

static const struct hc_field td_fields[] = {
	{ .name = "title", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "The debt, in one line." },
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .ref = &hc_domain_resource,
	  .ref_field = "slug", .doc = "The domain that carries it." },
	{ .name = "repo", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &hc_repo_resource, .ref_field = "name",
	  .doc = "The repository it lives in." },
	{ .name = "workstream", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &dh_workstream_resource, .ref_field = "id",
	  .doc = "The workstream that created or will repay it." },
	{ .name = "description", .type = HC_FT_TEXT,
	  .doc = "What is owed, its cost and the way out." },
	{ .name = "severity", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = td_severities,
	  .default_value = "medium", .doc = "low, medium, high or critical." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = td_statuses,
	  .default_value = "open",
	  .doc = "open, accepted, in_progress, resolved or wont_fix." },
	{ .name = "owner", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100, .doc = "Who is to repay it." },
};

const struct hc_resource dh_tech_debt_resource = {
	.name = "tech_debt",
	.plural = "tech-debt",
	.table = "tech_debt",
	.doc = "A technical debt item (TD-nnnn).",
	.id_policy = HC_ID_HOOK,
	.fields = td_fields,
	.nfields = HC_COUNT(td_fields),
	.hooks = { .make_id = seq_make_id },
};

static const char *const ep_statuses[] = { "draft",	  "proposed",
					   "accepted",	  "rejected",
					   "implemented", "withdrawn", NULL };

static const struct hc_field ep_fields[] = {
	{ .name = "title", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "The proposal, in one line." },
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .ref = &hc_domain_resource,
	  .ref_field = "slug", .doc = "The domain it is proposed to." },
	{ .name = "repo", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &hc_repo_resource, .ref_field = "name",
	  .doc = "The repository it would change." },
	{ .name = "workstream", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &dh_workstream_resource, .ref_field = "id",
	  .doc = "The workstream that carries it out, once accepted." },
	{ .name = "motivation", .type = HC_FT_TEXT,
	  .doc = "The problem it solves." },
	{ .name = "proposal", .type = HC_FT_TEXT,
	  .doc = "What would change, and how." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = ep_statuses,
	  .default_value = "proposed",
	  .doc = "draft, proposed, accepted, rejected, implemented or "
		 "withdrawn." },
	{ .name = "owner", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100, .doc = "Who champions it." },
};

const struct hc_resource dh_enhancement_resource = {
	.name = "enhancement_proposal",
	.plural = "enhancement-proposals",
	.table = "enhancement_proposals",
	.doc = "An enhancement proposal (EP-nnnn).",
	.id_policy = HC_ID_HOOK,
	.fields = ep_fields,
	.nfields = HC_COUNT(ep_fields),
	.hooks = { .make_id = seq_make_id },
};
