/*
 * import.c - importing a parsed workplan into dev-hub's store.
 *
 * One transaction per workplan: the domain and topic are created when
 * missing (never overwritten), the workstream and its tasks are upserted by
 * their ids, and the key decisions by "<workstream>-Dnn". Everything goes
 * through the generic resource service, so the same validation applies as
 * for REST and MCP writes.
 */
#include <stdio.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

/* Create a row named by key when no row has that key; keep it otherwise. */
static int ensure(struct hc_conn *c, const struct hc_resource *r,
		  const char *key, json_t *fields, struct hc_err *err)
{
	json_t *row = NULL;
	struct hc_err e2 = { 0 };
	int rc = hc_res_get_plain(c, r, key, &row, &e2);
	if (rc == HC_OK) {
		json_decref(row);
		return HC_OK;
	}
	if (rc != HC_ENOTFOUND) {
		*err = e2;
		return rc;
	}
	rc = hc_res_create(c, r, fields, &row, err);
	json_decref(row);
	return rc;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *phases_json(const struct dh_workplan *wp)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < wp->nphases; i++) {
		const struct dh_wp_phase *p = &wp->phases[i];
		json_array_append_new(
			a, json_pack("{ssssso}", "key", p->key, "title",
				     p->title, "description",
				     p->description ? json_string(p->description)
						    : json_string("")));
	}
	return a;
}

/*
 * Give an error that came from a write the position in the workplan. What
 * the file says but the store refuses (a title too long, a bad status) is
 * a problem of the document; conflicts with other rows stay conflicts.
 */
static int at(struct hc_err *err, const struct dh_workplan *wp, int line,
	      const char *what)
{
	int n;
	if (err->status == HC_EINVAL)
		err->status = HC_EPARSE;
	if (!line)
		line = wp->meta_line;
	hc_err_prefix(err, "%s", what);
	n = snprintf(err->source, sizeof(err->source), "%s", wp->source);
	(void)n;
	err->line = line;
	return err->status;
}

int dh_workplan_import(struct hc_conn *c, const struct dh_workplan *wp,
		       struct dh_import_result *res, struct hc_err *err)
{
	return dh_workplan_import_ex(c, wp, NULL, NULL, res, err);
}

int dh_workplan_import_ex(struct hc_conn *c, const struct dh_workplan *wp,
			  void (*progress)(void *ctx, int done, int total),
			  void *ctx, struct dh_import_result *res,
			  struct hc_err *err)
{
	char domain[HC_SLUG_MAX + 1], topic[HC_SLUG_MAX + 1];
	json_t *obj = NULL;
	bool created = false, changed = false;
	int rc;

	memset(res, 0, sizeof(*res));
	snprintf(res->workstream, sizeof(res->workstream), "%s", wp->id);
	if (hc_slugify(wp->domain, strlen(wp->domain), domain, sizeof(domain),
		       NULL) != HC_OK)
		return hc_err_at(err, HC_EPARSE, wp->source, wp->meta_line, 0,
				 "domain '%s' is not a usable name (it needs "
				 "letters or digits, at most %d)",
				 wp->domain, HC_SLUG_MAX);
	topic[0] = '\0';
	if (wp->topic_slug &&
	    hc_slugify(wp->topic_slug, strlen(wp->topic_slug), topic,
		       sizeof(topic), NULL) != HC_OK)
		return hc_err_at(err, HC_EPARSE, wp->source, wp->meta_line, 0,
				 "topic_slug '%s' is not a usable slug (it "
				 "needs letters or digits, at most %d)",
				 wp->topic_slug, HC_SLUG_MAX);

	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;

	obj = json_pack("{ssss}", "slug", domain, "name", wp->domain);
	rc = obj ? ensure(c, &hc_domain_resource, domain, obj, err) : HC_ENOMEM;
	json_decref(obj);
	if (rc != HC_OK) {
		at(err, wp, 0, "domain");
		goto fail;
	}
	if (topic[0]) {
		obj = json_pack("{ssssss}", "slug", topic, "name",
				wp->topic_slug, "domain", domain);
		rc = obj ? ensure(c, &dh_topic_resource, topic, obj, err)
			 : HC_ENOMEM;
		json_decref(obj);
		if (rc != HC_OK) {
			at(err, wp, 0, "topic");
			goto fail;
		}
	}

	obj = json_pack("{sssssssoso}", "id", wp->id, "title", wp->title,
			"domain", domain, "topic",
			topic[0] ? json_string(topic) : json_null(), "phases",
			phases_json(wp));
	if (!obj) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto fail;
	}
	json_object_set_new(obj, "repo", str_or_null(wp->repo));
	json_object_set_new(obj, "owner", str_or_null(wp->owner));
	if (wp->status)
		json_object_set_new(obj, "status", json_string(wp->status));
	json_object_set_new(obj, "description",
			    str_or_null(wp->description));
	json_object_set_new(obj, "state_hub_workstream_id",
			    str_or_null(wp->state_hub_workstream_id));
	json_object_set_new(obj, "created_on", str_or_null(wp->created));
	json_object_set_new(obj, "updated_on", str_or_null(wp->updated));
	json_object_set_new(obj, "source_path", str_or_null(wp->source));
	rc = hc_res_upsert(c, &dh_workstream_resource, obj, &created, NULL,
			   NULL, err);
	json_decref(obj);
	if (rc != HC_OK) {
		at(err, wp, 0, "workstream");
		goto fail;
	}
	res->workstream_created = created;

	for (size_t i = 0; i < wp->ntasks; i++) {
		const struct dh_wp_task *t = &wp->tasks[i];
		char what[96];
		obj = json_pack("{sssssssssssI}", "id", t->id, "workstream",
				wp->id, "title", t->title, "status", t->status,
				"priority", t->priority, "position",
				(json_int_t)(i + 1));
		if (!obj) {
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
			goto fail;
		}
		json_object_set_new(obj, "description",
				    str_or_null(t->description));
		json_object_set_new(obj, "phase", str_or_null(t->phase));
		json_object_set_new(obj, "state_hub_task_id",
				    str_or_null(t->state_hub_task_id));
		rc = hc_res_upsert(c, &dh_task_resource, obj, &created,
				   &changed, NULL, err);
		json_decref(obj);
		if (rc == HC_OK && changed && strcmp(t->status, "todo") == 0) {
			/* the file set a claimed task back to todo: the claim
			 * goes with it, so that the task can be claimed
			 * again (it is in the same revision) */
			struct hc_value p[] = { hc_vtext(t->id) };
			rc = hc_exec(c,
				     "UPDATE tasks SET assignee = NULL, "
				     "claimed_at = NULL WHERE id = ? AND "
				     "claimed_at IS NOT NULL",
				     p, 1, err);
		}
		if (rc != HC_OK) {
			snprintf(what, sizeof(what), "task %s", t->id);
			at(err, wp, t->line, what);
			goto fail;
		}
		res->tasks++;
		if (progress && (res->tasks % 10 == 0 ||
				 (size_t)res->tasks == wp->ntasks))
			progress(ctx, res->tasks, (int)wp->ntasks);
		if (created)
			res->tasks_created++;
		else if (changed)
			res->tasks_updated++;
		else
			res->tasks_unchanged++;
	}

	for (size_t i = 0; i < wp->ndecisions; i++) {
		const struct dh_wp_decision *d = &wp->decisions[i];
		char id[160];
		snprintf(id, sizeof(id), "%s-D%02zu", wp->id, i + 1);
		obj = json_pack("{ssssssss}", "id", id, "title", d->title,
				"workstream", wp->id, "status", "accepted");
		if (!obj) {
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
			goto fail;
		}
		json_object_set_new(obj, "choice", str_or_null(d->choice));
		json_object_set_new(obj, "rationale",
				    str_or_null(d->rationale));
		rc = hc_res_upsert(c, &dh_decision_resource, obj, NULL, NULL,
				   NULL, err);
		json_decref(obj);
		if (rc != HC_OK) {
			at(err, wp, d->line, "decision");
			goto fail;
		}
		res->decisions++;
	}
	return hc_tx_commit(c, err);
fail:
	hc_tx_rollback(c);
	return rc;
}

json_t *dh_import_result_json(const struct dh_import_result *res)
{
	return json_pack("{sssbsisisisisi}", "workstream", res->workstream,
			 "workstream_created", res->workstream_created,
			 "tasks", res->tasks, "tasks_created",
			 res->tasks_created, "tasks_updated",
			 res->tasks_updated, "tasks_unchanged",
			 res->tasks_unchanged, "decisions", res->decisions);
}
