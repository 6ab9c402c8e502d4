/*
 * claim.c - taking work: claim the next ready task of a workstream, release
 * it, and change a task's status on behalf of an agent.
 *
 * A claim is one write transaction, so two agents asking at the same
 * moment never get the same task, whether they come through MCP or REST,
 * on one process or several replicas sharing the database: on SQLite
 * writers queue up (BEGIN IMMEDIATE); on PostgreSQL the candidate row is
 * locked with FOR UPDATE SKIP LOCKED, so a second claimer passes over a
 * task being claimed and takes the next one, and the UPDATE is guarded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

/* Ready: todo, nobody on it, and nothing that blocks it still open (see
 * deps.c). Highest priority first, then the order of the workplan. The
 * query and the update run in one write transaction, so what is ready
 * cannot change between them. */
static const char next_sql_head[] =
	"SELECT t.id FROM tasks t WHERE t.workstream = ? AND ";
static const char next_sql_tail[] =
	" ORDER BY CASE t.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 "
	"ELSE 2 END, t.position IS NULL, t.position, t.seq LIMIT 1 "
	"FOR UPDATE OF t SKIP LOCKED";

static int need(const char *value, const char *name, struct hc_err *err)
{
	if (!value || !*value)
		return hc_err_field(err, HC_EINVAL, name,
				    "missing required field '%s'", name);
	return HC_OK;
}

/* Record what happened, in the same transaction as the change. */
static int record(struct hc_conn *c, const json_t *task, const char *type,
		  const char *agent, const char *from, const char *to,
		  const char *note, struct hc_err *err)
{
	json_t *ws = NULL, *ev = NULL, *out = NULL;
	int rc = hc_res_get_plain(c, &dh_workstream_resource,
				  hc_json_str(task, "workstream"), &ws, err);
	if (rc != HC_OK)
		return rc;
	ev = json_pack("{sssssssss{ssss}s{ss}}", "event_type", type, "domain",
		       hc_json_str(ws, "domain"), "source", agent, "summary",
		       hc_json_str(task, "title"), "subject_refs", "task",
		       hc_json_str(task, "id"), "workstream",
		       hc_json_str(task, "workstream"), "payload", "agent",
		       agent);
	if (from)
		json_object_set_new(json_object_get(ev, "payload"), "from",
				    json_string(from));
	if (to)
		json_object_set_new(json_object_get(ev, "payload"), "to",
				    json_string(to));
	if (note)
		json_object_set_new(json_object_get(ev, "payload"), "note",
				    json_string(note));
	rc = ev ? hc_res_create(c, &hc_progress_resource, ev, &out, err)
		: hc_err_set(err, HC_ENOMEM, "out of memory");
	json_decref(ev);
	json_decref(out);
	json_decref(ws);
	return rc;
}

int dh_claim_next_task(struct hc_conn *c, const char *workstream,
		       const char *agent, json_t **out, struct hc_err *err)
{
	char now[HC_TIME_LEN + 1], *id = NULL;
	struct hc_stmt *st = NULL;
	json_t *ws = NULL, *task = NULL;
	int rc = need(workstream, "workstream", err);

	if (rc == HC_OK)
		rc = need(agent, "agent", err);
	if (rc != HC_OK)
		return rc;
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_res_get_plain(c, &dh_workstream_resource, workstream, &ws, err);
	if (rc == HC_OK) {
		struct hc_value p[] = { hc_vtext(hc_json_str(ws, "id")) };
		char *sql = NULL;
		if (asprintf(&sql, "%s%s%s", next_sql_head, dh_ready_where,
			     next_sql_tail) < 0)
			sql = NULL;
		rc = sql ? hc_query(c, &st, sql, p, 1, err)
			 : hc_err_set(err, HC_ENOMEM, "out of memory");
		free(sql);
	}
	if (rc == HC_OK) {
		rc = hc_stmt_step(st, err);
		if (rc == HC_ROW_READY)
			id = strdup(hc_stmt_text(st, 0, NULL));
		rc = rc == HC_ROW_READY || rc == HC_ROW_DONE ? HC_OK : rc;
		hc_stmt_finish(st);
	}
	if (rc == HC_OK && id) {
		struct hc_value p[4];
		hc_time_now(now);
		p[0] = hc_vtext(agent);
		p[1] = hc_vtext(now);
		p[2] = hc_vtext(now);
		p[3] = hc_vtext(id);
		rc = hc_exec(c,
			     "UPDATE tasks SET row_version = row_version + 1, status = 'in_progress', "
			     "assignee = ?, claimed_at = ?, updated_at = ? "
			     "WHERE id = ? AND status = 'todo' AND assignee "
			     "IS NULL",
			     p, 4, err);
		if (rc == HC_OK && hc_changes(c) != 1)
			rc = hc_err_set(err, HC_ECONFLICT,
					"task %s was taken meanwhile", id);
		if (rc == HC_OK)
			rc = hc_res_get(c, &dh_task_resource, id, &task, err);
		if (rc == HC_OK)
			rc = record(c, task, "task_claimed", agent, "todo",
				    "in_progress", NULL, err);
	}
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	free(id);
	json_decref(ws);
	if (rc != HC_OK) {
		json_decref(task);
		return rc;
	}
	*out = json_pack("{so}", "task", task ? task : json_null());
	return HC_OK;
}

int dh_release_task(struct hc_conn *c, const char *task_id, const char *agent,
		    json_t **out, struct hc_err *err)
{
	char now[HC_TIME_LEN + 1];
	json_t *task = NULL;
	const char *holder;
	int rc = need(agent, "agent", err);
	if (rc != HC_OK)
		return rc;
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_res_get_locked(c, &dh_task_resource, task_id, &task, err);
	if (rc != HC_OK)
		goto out;
	holder = hc_json_str(task, "assignee");
	if (!holder || strcmp(holder, agent) != 0) {
		rc = hc_err_field(err, HC_ECONFLICT, "agent",
				  "task %s is %s%s%s, not by '%s'",
				  hc_json_str(task, "id"),
				  holder ? "claimed by '" : "not claimed",
				  holder ? holder : "", holder ? "'" : "",
				  agent);
		goto out;
	}
	{
		struct hc_value p[2];
		hc_time_now(now);
		p[0] = hc_vtext(now);
		p[1] = hc_vtext(hc_json_str(task, "id"));
		rc = hc_exec(c,
			     "UPDATE tasks SET row_version = row_version + 1, assignee = NULL, claimed_at = "
			     "NULL, status = CASE status WHEN 'in_progress' "
			     "THEN 'todo' ELSE status END, updated_at = ? "
			     "WHERE id = ?",
			     p, 2, err);
	}
	if (rc == HC_OK)
		rc = record(c, task, "task_released", agent,
			    hc_json_str(task, "status"), NULL, NULL, err);
	if (rc == HC_OK) {
		json_t *fresh = NULL;
		rc = hc_res_get(c, &dh_task_resource, hc_json_str(task, "id"),
				&fresh, err);
		json_decref(task);
		task = fresh;
	}
out:
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	if (rc != HC_OK) {
		json_decref(task);
		return rc;
	}
	*out = task;
	return HC_OK;
}

int dh_set_task_status(struct hc_conn *c, const char *task_id,
		       const char *status, const char *agent, const char *note,
		       json_t **out, struct hc_err *err)
{
	json_t *task = NULL, *patch = NULL;
	char *from = NULL;
	int rc = need(agent, "agent", err);
	*out = NULL;
	if (rc == HC_OK)
		rc = need(status, "status", err);
	if (rc != HC_OK)
		return rc;
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_res_get_locked(c, &dh_task_resource, task_id, &task, err);
	if (rc == HC_OK) {
		from = strdup(hc_json_str(task, "status"));
		patch = json_pack("{ss}", "status", status);
		/* starting work on an unassigned task takes it */
		if (strcmp(status, "in_progress") == 0 &&
		    !hc_json_str(task, "assignee"))
			json_object_set_new(patch, "assignee",
					    json_string(agent));
		rc = hc_res_update(c, &dh_task_resource,
				   hc_json_str(task, "id"), patch, out, err);
	}
	if (rc == HC_OK && strcmp(from, status) != 0) {
		rc = record(c, *out, "task_status_changed", agent, from, status,
			    note, err);
	}
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	if (rc != HC_OK && *out) {
		json_decref(*out);
		*out = NULL;
	}
	free(from);
	json_decref(task);
	json_decref(patch);
	return rc;
}
