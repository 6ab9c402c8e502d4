/*
 * render.c - a workstream written back as a Markdown workplan, the form
 * docs/workplan-format.md describes and dh_workplan_parse reads: front
 * matter, the description, each phase with its tasks in workplan order,
 * each task with its fields in a yaml block and its description.
 */
#include <stdio.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

#define MAX_RENDER (16 * 1024 * 1024)

/* A YAML scalar, quoted when plain style could misread it. */
static void yaml_value(struct hc_buf *b, const char *v)
{
	bool plain = *v && strcspn(v, ":#'\"{}[],&*!|>%@`\n") == strlen(v) &&
		     v[0] != ' ' && v[0] != '-' && v[0] != '?' &&
		     v[strlen(v) - 1] != ' ';
	if (plain) {
		hc_buf_adds(b, v);
		return;
	}
	hc_buf_addc(b, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			hc_buf_addc(b, '\\');
		if (*p == '\n')
			hc_buf_adds(b, "\\n");
		else
			hc_buf_addc(b, *p);
	}
	hc_buf_addc(b, '"');
}

static void meta(struct hc_buf *b, const char *key, const char *v)
{
	if (!v)
		return;
	hc_buf_addf(b, "%s: ", key);
	yaml_value(b, v);
	hc_buf_addc(b, '\n');
}

/* The key of a task: the part after "<workstream>-". */
static const char *task_key(const char *id, const char *ws)
{
	size_t n = strlen(ws);
	return strncmp(id, ws, n) == 0 && id[n] == '-' ? id + n + 1 : id;
}

static void task(struct hc_buf *b, json_t *t, const char *ws)
{
	const char *desc = hc_json_str(t, "description");
	hc_buf_addf(b, "### %s — %s\n\n```yaml\n",
		    task_key(hc_json_str(t, "id"), ws), hc_json_str(t, "title"));
	meta(b, "id", hc_json_str(t, "id"));
	meta(b, "status", hc_json_str(t, "status"));
	meta(b, "priority", hc_json_str(t, "priority"));
	meta(b, "state_hub_task_id", hc_json_str(t, "state_hub_task_id"));
	hc_buf_adds(b, "```\n\n");
	if (desc && *desc)
		hc_buf_addf(b, "%s\n\n", desc);
}

int dh_workplan_render(struct hc_conn *c, const char *workstream, char **out,
		       struct hc_err *err)
{
	struct hc_buf b = HC_BUF_INIT(MAX_RENDER);
	struct hc_list_query q;
	json_t *ws = NULL, *tasks = json_array(), *page = NULL, *t, *ph;
	const char *id, *desc;
	char cursor[HC_CURSOR_MAX] = "";
	size_t i, k;
	int rc;

	rc = hc_res_get_plain(c, &dh_workstream_resource, workstream, &ws, err);
	if (rc != HC_OK)
		goto out;
	id = hc_json_str(ws, "id");
	/* every task of the workstream, page by page */
	do {
		memset(&q, 0, sizeof(q));
		q.limit = HC_LIST_MAX_LIMIT;
		q.cursor = cursor[0] ? cursor : NULL;
		rc = hc_list_query_add(&q, &dh_task_resource, "workstream", id,
				       err);
		if (rc == HC_OK)
			rc = hc_res_list(c, &dh_task_resource, &q, &page, err);
		if (rc != HC_OK)
			goto out;
		json_array_extend(tasks, json_object_get(page, "items"));
		if (hc_json_str(page, "next_cursor"))
			snprintf(cursor, sizeof(cursor), "%s",
				 hc_json_str(page, "next_cursor"));
		else
			cursor[0] = '\0';
		json_decref(page);
		page = NULL;
	} while (cursor[0]);

	hc_buf_adds(&b, "---\n");
	meta(&b, "id", id);
	hc_buf_adds(&b, "type: workplan\n");
	meta(&b, "title", hc_json_str(ws, "title"));
	meta(&b, "domain", hc_json_str(ws, "domain"));
	meta(&b, "repo", hc_json_str(ws, "repo"));
	meta(&b, "status", hc_json_str(ws, "status"));
	meta(&b, "owner", hc_json_str(ws, "owner"));
	meta(&b, "topic_slug", hc_json_str(ws, "topic"));
	meta(&b, "created", hc_json_str(ws, "created_on"));
	meta(&b, "updated", hc_json_str(ws, "updated_on"));
	meta(&b, "state_hub_workstream_id",
	     hc_json_str(ws, "state_hub_workstream_id"));
	hc_buf_addf(&b, "---\n# %s\n\n", hc_json_str(ws, "title"));
	desc = hc_json_str(ws, "description");
	if (desc && *desc)
		hc_buf_addf(&b, "%s\n\n", desc);
	/* tasks without a phase come before the first phase */
	json_array_foreach(tasks, i, t)
		if (!hc_json_str(t, "phase"))
			task(&b, t, id);
	json_array_foreach(json_object_get(ws, "phases"), k, ph)
	{
		const char *key = hc_json_str(ph, "key");
		const char *pdesc = hc_json_str(ph, "description");
		hc_buf_addf(&b, "## Phase %s — %s\n\n", key,
			    hc_json_str(ph, "title"));
		if (pdesc && *pdesc)
			hc_buf_addf(&b, "%s\n\n", pdesc);
		json_array_foreach(tasks, i, t)
		{
			const char *tp = hc_json_str(t, "phase");
			if (tp && strcmp(tp, key) == 0)
				task(&b, t, id);
		}
	}
	/* tasks whose phase is no longer listed go last, in a phase of
	 * their own, so nothing is lost */
	{
		bool header = false;
		json_array_foreach(tasks, i, t)
		{
			const char *tp = hc_json_str(t, "phase");
			bool known = !tp;
			json_array_foreach(json_object_get(ws, "phases"), k, ph)
				known = known ||
					strcmp(hc_json_str(ph, "key"), tp) == 0;
			if (known)
				continue;
			if (!header)
				hc_buf_adds(&b, "## Phase 0 — Unplaced\n\n");
			header = true;
			task(&b, t, id);
		}
	}
	if (b.len >= MAX_RENDER - 1) {
		rc = hc_err_set(err, HC_ETOOBIG, "workplan too large to render");
		goto out;
	}
	*out = hc_buf_detach(&b, NULL);
	rc = *out ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
out:
	hc_buf_release(&b);
	json_decref(ws);
	json_decref(tasks);
	json_decref(page);
	return rc;
}
