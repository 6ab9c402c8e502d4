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
	json_t *phases = NULL, *p;
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
	rc = load_phases(c, wsid, &phases, err);
	if (rc != HC_OK)
		return rc;
	json_array_foreach(phases, i, p)
		found = found || strcmp(hc_json_str(p, "key"), phase) == 0;
	if (!found && json_array_size(phases) > 0)
		rc = hc_err_field(err, HC_EINVAL, "phase",
				  "field 'phase': workstream '%s' has no phase "
				  "'%s'",
				  wsid, phase);
	json_decref(phases);
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

/* ---- counts --------------------------------------------------------------- */

/*
 * task_counts(workstream, status, priority, n): how many tasks each
 * workstream has in each status and priority, kept by triggers in the
 * transaction that writes the task, so that a domain summary reads a few
 * rows per workstream instead of counting its tasks. Filled from the
 * tasks when the table is made. On PostgreSQL a task that moves updates
 * its two rows in key order, so that two transactions moving tasks the
 * opposite way lock them in the same order.
 */
int dh_task_counts_schema(struct hc_conn *c, const struct hc_dialect *d,
			  struct hc_err *err)
{
	static const char table[] =
		"CREATE TABLE task_counts (workstream TEXT NOT NULL, status "
		"TEXT NOT NULL, priority TEXT NOT NULL, n %s NOT NULL, "
		"PRIMARY KEY (workstream, status, priority));"
		"INSERT INTO task_counts (workstream, status, priority, n) "
		"SELECT workstream, status, priority, count(*) FROM tasks "
		"GROUP BY workstream, status, priority;";
#define ADD_NEW                                                              \
	"INSERT INTO task_counts (workstream, status, priority, n) VALUES "  \
	"(NEW.workstream, NEW.status, NEW.priority, 1) ON CONFLICT "         \
	"(workstream, status, priority) DO UPDATE SET n = task_counts.n + 1;"
#define SUB_OLD                                                              \
	"UPDATE task_counts SET n = n - 1 WHERE workstream = OLD.workstream " \
	"AND status = OLD.status AND priority = OLD.priority;"
	static const char sqlite[] =
		"CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks "
		"BEGIN " ADD_NEW " END;"
		"CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks "
		"BEGIN " SUB_OLD " END;"
		"CREATE TRIGGER task_counts_update AFTER UPDATE OF workstream, "
		"status, priority ON tasks WHEN OLD.workstream IS NOT "
		"NEW.workstream OR OLD.status IS NOT NEW.status OR "
		"OLD.priority IS NOT NEW.priority BEGIN " SUB_OLD ADD_NEW
		" END;";
	static const char pg[] =
		"CREATE FUNCTION dh_task_counts() RETURNS trigger LANGUAGE "
		"plpgsql AS $$ BEGIN "
		"IF TG_OP = 'INSERT' THEN " ADD_NEW
		" ELSIF TG_OP = 'DELETE' THEN " SUB_OLD
		" ELSIF (OLD.workstream, OLD.status, OLD.priority) IS "
		"DISTINCT FROM (NEW.workstream, NEW.status, NEW.priority) "
		"THEN IF (NEW.workstream, NEW.status, NEW.priority) < "
		"(OLD.workstream, OLD.status, OLD.priority) THEN " ADD_NEW
		SUB_OLD " ELSE " SUB_OLD ADD_NEW " END IF; END IF; "
		"RETURN NULL; END $$;"
		"CREATE TRIGGER task_counts AFTER INSERT OR UPDATE OR DELETE "
		"ON tasks FOR EACH ROW EXECUTE FUNCTION dh_task_counts();";
#undef ADD_NEW
#undef SUB_OLD
	char sql[sizeof(table) + 32];
	int rc;
	snprintf(sql, sizeof(sql), table, d->type_name(HC_COL_INT));
	rc = hc_exec_script(c, sql, err);
	if (rc == HC_OK)
		rc = hc_exec_script(
			c, strcmp(d->name, "postgresql") == 0 ? pg : sqlite,
			err);
	return rc;
}

/*
 * The counts of a domain's tasks by status and by priority, and of each
 * of its workstreams' tasks by status, from task_counts: *by_status and
 * *by_priority are {value: n} with every enum value present, *by_ws is
 * {workstream: {status: n}} for the workstreams that have tasks.
 */
int dh_task_counts(struct hc_conn *c, const char *domain, json_t **by_status,
		   json_t **by_priority, json_t **by_ws, struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(domain) };
	const struct hc_field *fs = hc_res_field(&dh_task_resource, "status");
	const struct hc_field *fp =
		hc_res_field(&dh_task_resource, "priority");
	json_t *st = json_object(), *pr = json_object(), *ws = json_object();
	struct hc_stmt *q = NULL;
	int rc;

	if (!st || !pr || !ws) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	for (const char *const *v = fs->enum_values; *v; v++)
		json_object_set_new(st, *v, json_integer(0));
	for (const char *const *v = fp->enum_values; *v; v++)
		json_object_set_new(pr, *v, json_integer(0));
	rc = hc_query(c, &q,
		      "SELECT workstream, status, priority, n FROM task_counts "
		      "WHERE workstream IN (SELECT id FROM workstreams WHERE "
		      "domain = ?) AND n > 0",
		      p, 1, err);
	if (rc != HC_OK)
		goto out;
	while ((rc = hc_stmt_step(q, err)) == HC_ROW_READY) {
		const char *w = hc_stmt_text(q, 0, NULL);
		const char *s = hc_stmt_text(q, 1, NULL);
		const char *pri = hc_stmt_text(q, 2, NULL);
		json_int_t n = hc_stmt_int(q, 3);
		json_t *wc = json_object_get(ws, w);
		if (!wc) {
			wc = json_object();
			for (const char *const *v = fs->enum_values; *v; v++)
				json_object_set_new(wc, *v, json_integer(0));
			json_object_set_new(ws, w, wc);
		}
		json_object_set_new(st, s,
				    json_integer(json_integer_value(
						 json_object_get(st, s)) + n));
		json_object_set_new(pr, pri,
				    json_integer(json_integer_value(
						 json_object_get(pr, pri)) + n));
		json_object_set_new(wc, s,
				    json_integer(json_integer_value(
						 json_object_get(wc, s)) + n));
	}
	if (rc == HC_ROW_DONE) {
		rc = HC_OK;
		*by_status = st;
		*by_priority = pr;
		*by_ws = ws;
		st = pr = ws = NULL;
	}
out:
	hc_stmt_finish(q);
	json_decref(st);
	json_decref(pr);
	json_decref(ws);
	return rc;
}
