/*
 * tasks.c - tasks of a workstream. A task's id is "<workstream>-Tnn"; a
 * task created without one gets the next free number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/json.h"

static int task_make_id(struct hc_conn *c, const struct hc_resource *r,
			const json_t *obj, char *out, size_t out_size,
			struct hc_err *err)
{
	const char *ws = hc_json_str(obj, "workstream");
	struct hc_value p[] = { hc_vtext(ws) };
	struct hc_stmt *st = NULL;
	size_t wl;
	long max = 0;
	int rc;

	if (!ws)
		return hc_err_field(err, HC_EINVAL, "workstream",
				    "missing required field 'workstream'");
	wl = strlen(ws);
	rc = hc_query(c, &st, "SELECT id FROM tasks WHERE workstream = ?", p,
		      1, err);
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		const char *id = hc_stmt_text(st, 0, NULL);
		char *end;
		long n;
		if (strncmp(id, ws, wl) != 0 || strncmp(id + wl, "-T", 2) != 0)
			continue;
		n = strtol(id + wl + 2, &end, 10);
		if (!*end && n > max)
			max = n;
	}
	hc_stmt_finish(st);
	if (rc != HC_ROW_DONE)
		return rc;
	if ((size_t)snprintf(out, out_size, "%s-T%02ld", ws, max + 1) >=
	    out_size)
		return hc_err_field(err, HC_EINVAL, "workstream",
				    "workstream id too long to number tasks");
	return HC_OK;
}

/*
 * A task's id is "<workstream>-T<number>", so that it names its workstream
 * and cannot be moved to another. A phase given or changed must be one of
 * the workstream's phases, when it has any (a task whose phase was dropped
 * from the workstream stays editable).
 */
/* The phases of workstream wsid (a JSON array, or null). */
static int load_phases(struct hc_conn *c, const char *wsid, json_t **out,
		       struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(wsid) };
	struct hc_stmt *st;
	size_t len = 0;
	const char *text;
	int rc = hc_query(c, &st, "SELECT phases FROM workstreams WHERE id = ?",
			  p, 1, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_stmt_step(st, err);
	if (rc == HC_ROW_DONE) {
		rc = hc_err_field(err, HC_ENOTFOUND, "id", "no workstream '%s'",
				  wsid ? wsid : "");
	} else if (rc == HC_ROW_READY) {
		text = hc_stmt_isnull(st, 0) ? NULL
					     : hc_stmt_text(st, 0, &len);
		*out = text ? json_loadb(text, len, 0, NULL) : json_null();
		rc = *out ? HC_OK
			  : hc_err_field(err, HC_ESTORE, "phases",
					 "stored value of workstreams.phases "
					 "is not valid JSON");
	}
	hc_stmt_finish(st);
	return rc;
}

static int task_prepare(struct hc_conn *c, const struct hc_resource *r,
			enum hc_write_mode mode, json_t *obj,
			const json_t *old, struct hc_err *err)
{
	const char *id = hc_json_str(obj, "id");
	const char *wsid = hc_json_str(obj, "workstream");
	const char *phase = hc_json_str(obj, "phase");
	const char *old_phase = old ? hc_json_str(old, "phase") : NULL;
	json_t *ws = NULL, *phases, *p;
	size_t i, wl = wsid ? strlen(wsid) : 0;
	bool found = false;
	int rc;

	if (mode == HC_WRITE_CREATE && id && wsid &&
	    (strncmp(id, wsid, wl) != 0 || strncmp(id + wl, "-T", 2) != 0 ||
	     !id[wl + 2] || strspn(id + wl + 2, "0123456789") !=
				    strlen(id + wl + 2)))
		return hc_err_field(err, HC_EINVAL, "id",
				    "task id '%s' must be '%s-T' followed by "
				    "a number",
				    id, wsid);
	if (!phase || (old_phase && strcmp(phase, old_phase) == 0))
		return HC_OK;
	/* Only the phases: this runs for every task an import writes, and
	 * reading the whole workstream (its description, its JSON) was 17%
	 * of an import's profile. workstream is its canonical id here. */
	rc = load_phases(c, wsid, &ws, err);
	if (rc != HC_OK)
		return rc;
	phases = ws;
	json_array_foreach(phases, i, p)
		found = found || strcmp(hc_json_str(p, "key"), phase) == 0;
	if (!found && json_array_size(phases) > 0)
		rc = hc_err_field(err, HC_EINVAL, "phase",
				  "field 'phase': workstream '%s' has no phase "
				  "'%s'",
				  hc_json_str(ws, "id"), phase);
	json_decref(ws);
	return rc;
}

/*
 * A task read on its own (GET /tasks/{id}, get_task) carries its open
 * blockers, the same list as the blocked view: whoever reads one task
 * sees why it is not ready without a second question.
 */
static int task_decorate(struct hc_conn *c, const struct hc_resource *r,
			 json_t *obj, struct hc_err *err)
{
	json_t *blockers = NULL;
	int rc = dh_task_blockers(c, hc_json_str(obj, "id"), &blockers, err);
	(void)r;
	if (rc == HC_OK)
		json_object_set_new(obj, "blockers", blockers);
	return rc;
}

static const struct hc_field task_fields[] = {
	{ .name = "workstream", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .ref = &dh_workstream_resource, .ref_field = "id",
	  .doc = "The workstream the task belongs to (e.g. CUST-WP-0025)." },
	{ .name = "title", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "What the task is, in one line." },
	{ .name = "description", .type = HC_FT_TEXT,
	  .doc = "Everything about the task: scope, slices done, notes." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .enum_values = dh_task_statuses, .default_value = "todo",
	  .doc = "todo, in_progress, blocked, done or cancelled." },
	{ .name = "priority", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .enum_values = dh_task_priorities, .default_value = "medium",
	  .doc = "high, medium or low." },
	{ .name = "phase", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 32,
	  .doc = "Key of the workstream phase the task is in (e.g. \"2\")." },
	{ .name = "assignee", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100, .doc = "The agent or person working on it." },
	{ .name = "state_hub_task_id", .type = HC_FT_UUID,
	  .flags = HC_F_UNIQUE,
	  .doc = "The task's UUID in State Hub, kept across imports." },
	{ .name = "external_ids", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_OBJECT, .default_value = "{}",
	  .doc = "Ids in other systems: {\"github\": \"org/repo#12\"}." },
	{ .name = "position", .type = HC_FT_INT,
	  .doc = "Order of the task in its workplan." },
	{ .name = "claimed_at", .type = HC_FT_DATETIME, .flags = HC_F_READONLY,
	  .since = 2, .doc = "When the assignee claimed it." },
};

const struct hc_resource dh_task_resource = {
	.name = "task",
	.plural = "tasks",
	.table = "tasks",
	.doc = "A task of a workstream.",
	.id_policy = HC_ID_HOOK,
	.fields = task_fields,
	.nfields = HC_COUNT(task_fields),
	.hooks = { .prepare = task_prepare,
		   .make_id = task_make_id,
		   .decorate = task_decorate },
};
