/*
 * workstreams.c - workstreams: one per workplan, with its phases. Reading
 * one workstream adds its live task counts, overall and per phase.
 */
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/json.h"

const char *const dh_workstream_statuses[] = {
	"draft",     "proposed", "planned", "active",   "in_progress",
	"paused",    "blocked",  "completed", "done",   "cancelled",
	"archived",  "superseded", NULL
};

/* Workstream ids are workplan ids: CUST-WP-0025, upper-case letters and
 * digits in groups joined by single dashes, starting with a letter. */
static bool workplan_id(const char *s)
{
	size_t n = strlen(s);
	if (!n || s[0] < 'A' || s[0] > 'Z' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		bool ok = (s[i] >= 'A' && s[i] <= 'Z') ||
			  (s[i] >= '0' && s[i] <= '9') ||
			  (s[i] == '-' && s[i + 1] != '-');
		if (!ok)
			return false;
	}
	return true;
}

/* phases: [{"key": "1", "title": "...", "description": "..."}] */
static int workstream_prepare(struct hc_conn *c, const struct hc_resource *r,
			      enum hc_write_mode mode, json_t *obj,
			      const json_t *old, struct hc_err *err)
{
	json_t *phases = json_object_get(obj, "phases"), *p;
	const char *id = hc_json_str(obj, "id");
	size_t i;

	if (mode == HC_WRITE_CREATE && id && !workplan_id(id))
		return hc_err_field(err, HC_EINVAL, "id",
				    "workstream id '%s' must be a workplan id "
				    "like CUST-WP-0025: upper-case letters "
				    "and digits joined by single dashes",
				    id);
	json_array_foreach(phases, i, p)
	{
		const char *key = hc_json_str(p, "key");
		if (!json_is_object(p) || !key || !*key ||
		    !hc_json_str(p, "title"))
			return hc_err_field(err, HC_EINVAL, "phases",
					    "field 'phases': item %zu must be "
					    "an object with string 'key' and "
					    "'title'",
					    i);
		for (size_t k = 0; k < i; k++)
			if (strcmp(key, hc_json_str(json_array_get(phases, k),
						    "key")) == 0)
				return hc_err_field(err, HC_EINVAL, "phases",
						    "field 'phases': key '%s' "
						    "appears twice",
						    key);
	}
	return HC_OK;
}

static int workstream_decorate(struct hc_conn *c, const struct hc_resource *r,
			       json_t *obj, struct hc_err *err)
{
	struct hc_value p[2] = { hc_vtext(hc_json_str(obj, "id")) };
	json_t *by_status = NULL, *by_priority = NULL, *tasks = NULL;
	json_t *phases = json_object_get(obj, "phases"), *ph;
	json_int_t total = 0;
	const char *k;
	json_t *v;
	size_t i;
	int rc;

	rc = hc_res_count_by(c, &dh_task_resource, "status", "workstream = ?",
			     p, 1, &by_status, err);
	if (rc == HC_OK)
		rc = hc_res_count_by(c, &dh_task_resource, "priority",
				     "workstream = ?", p, 1, &by_priority, err);
	if (rc != HC_OK)
		goto out;
	json_object_foreach(by_status, k, v)
		total += json_integer_value(v);
	tasks = json_pack("{sIsOsO}", "total", total, "by_status", by_status,
			  "by_priority", by_priority);
	json_object_set_new(obj, "tasks", tasks);
	json_array_foreach(phases, i, ph)
	{
		json_t *counts = NULL;
		json_int_t n = 0;
		p[1] = hc_vtext(hc_json_str(ph, "key"));
		rc = hc_res_count_by(c, &dh_task_resource, "status",
				     "workstream = ? AND phase = ?", p, 2,
				     &counts, err);
		if (rc != HC_OK)
			goto out;
		json_object_foreach(counts, k, v)
			n += json_integer_value(v);
		json_object_set_new(ph, "task_count", json_integer(n));
		json_object_set_new(ph, "by_status", counts);
	}
out:
	json_decref(by_status);
	json_decref(by_priority);
	return rc;
}

static const struct hc_field workstream_fields[] = {
	{ .name = "title", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "Title of the workplan." },
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .ref = &hc_domain_resource,
	  .ref_field = "slug", .doc = "The owning domain." },
	{ .name = "topic", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &dh_topic_resource, .ref_field = "slug",
	  .doc = "The topic the workstream serves." },
	{ .name = "repo", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100, .doc = "The repository the workplan lives in." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .enum_values = dh_workstream_statuses, .default_value = "active",
	  .doc = "Lifecycle state of the workstream." },
	{ .name = "owner", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100, .doc = "Who is accountable for it." },
	{ .name = "description", .type = HC_FT_TEXT,
	  .doc = "Goal and context: the workplan text before its phases." },
	{ .name = "phases", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .default_value = "[]",
	  .doc = "Ordered phases: [{\"key\", \"title\", \"description\"}]." },
	{ .name = "state_hub_workstream_id", .type = HC_FT_UUID,
	  .flags = HC_F_UNIQUE,
	  .doc = "The workstream's UUID in State Hub, kept across imports." },
	{ .name = "created_on", .type = HC_FT_DATE,
	  .doc = "The workplan's own creation date." },
	{ .name = "updated_on", .type = HC_FT_DATE,
	  .doc = "The workplan's own last-update date." },
	{ .name = "source_path", .type = HC_FT_STRING, .max_len = 4096,
	  .doc = "The workplan file it was last imported from." },
};

const struct hc_resource dh_workstream_resource = {
	.name = "workstream",
	.plural = "workstreams",
	.table = "workstreams",
	.doc = "A workstream: the plan of one piece of work, from a workplan.",
	.id_policy = HC_ID_CLIENT,
	.fields = workstream_fields,
	.nfields = HC_COUNT(workstream_fields),
	.hooks = { .prepare = workstream_prepare,
		   .decorate = workstream_decorate },
};
