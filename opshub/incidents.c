/*
 * incidents.c - incidents and their life cycle, in the vocabulary status
 * pages share: investigating -> identified -> monitoring -> resolved, then
 * optionally postmortem. A move is always the next step: skipping one or
 * going back is refused. Every move and note goes into the timeline with
 * its time and author; time to acknowledge (the move to identified) and
 * time to resolve come from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/events.h"
#include "opshub/internal.h"

const char *const oh_incident_statuses[] = { "investigating", "identified",
					     "monitoring",    "resolved",
					     "postmortem",    NULL };
static const char *const severities[] = { "SEV1", "SEV2", "SEV3", "SEV4",
					  NULL };
static const char *const impacts[] = { "none", "minor", "major", "critical",
				       NULL };

#define NOTE_MAX (16 * 1024)
#define AUTHOR_MAX 100

const char *const *oh_incident_next(const char *status)
{
	static const char *const next[][2] = {
		{ "identified", NULL }, { "monitoring", NULL },
		{ "resolved", NULL },	{ "postmortem", NULL },
		{ NULL, NULL },
	};
	for (size_t i = 0; status && oh_incident_statuses[i]; i++)
		if (strcmp(oh_incident_statuses[i], status) == 0)
			return next[i];
	return NULL;
}

static int status_index(const char *s)
{
	for (int i = 0; s && oh_incident_statuses[i]; i++)
		if (strcmp(oh_incident_statuses[i], s) == 0)
			return i;
	return -1;
}

/* services: names of existing services, stored canonically. */
static int incident_prepare(struct hc_conn *c, const struct hc_resource *r,
			    enum hc_write_mode mode, json_t *obj,
			    const json_t *old, struct hc_err *err)
{
	json_t *list = json_object_get(obj, "services"), *v;
	size_t i;
	static const char *const links[] = { "tasks", "workstreams" };
	for (size_t k = 0; k < 2; k++) {
		json_t *l = json_object_get(obj, links[k]);
		if (json_array_size(l) > 100)
			return hc_err_field(err, HC_EINVAL, links[k],
					    "field '%s' has more than 100 items",
					    links[k]);
		json_array_foreach(l, i, v)
		{
			if (!json_is_string(v) || !*json_string_value(v) ||
			    strlen(json_string_value(v)) > 128)
				return hc_err_field(err, HC_EINVAL, links[k],
						    "field '%s': item %zu must "
						    "be a dev-hub id",
						    links[k], i);
		}
	}
	if (json_array_size(list) > 100)
		return hc_err_field(err, HC_EINVAL, "services",
				    "field 'services' has more than 100 items");
	json_array_foreach(list, i, v)
	{
		json_t *row = NULL;
		struct hc_err e2 = { 0 };
		int rc;
		if (!json_is_string(v))
			return hc_err_field(err, HC_EINVAL, "services",
					    "field 'services': item %zu must be "
					    "a service name",
					    i);
		rc = hc_res_get_plain(c, &oh_service_resource,
				      json_string_value(v), &row, &e2);
		if (rc == HC_ENOTFOUND)
			return hc_err_field(err, HC_EINVAL, "services",
					    "field 'services': no service '%s'",
					    json_string_value(v));
		if (rc != HC_OK) {
			*err = e2;
			return rc;
		}
		json_array_set_new(list, i, json_string(oh_str(row, "id")));
		json_decref(row);
	}
	return HC_OK;
}

static const struct hc_field incident_fields[] = {
	{ .name = "title", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "What is broken, in one line." },
	{ .name = "severity", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = severities,
	  .default_value = "SEV3",
	  .doc = "SEV1 (worst) to SEV4." },
	{ .name = "impact", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = impacts,
	  .default_value = "minor",
	  .doc = "none, minor, major or critical." },
	{ .name = "services", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .default_value = "[]", .doc = "The names of the affected services." },
	{ .name = "summary", .type = HC_FT_TEXT, .max_len = 65536,
	  .doc = "What is known so far." },
	{ .name = "domain", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The domain that handles it." },
	{ .name = "opened_by", .type = HC_FT_STRING, .max_len = AUTHOR_MAX,
	  .flags = HC_F_IMMUTABLE, .doc = "Who opened it." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_READONLY | HC_F_FILTER,
	  .enum_values = oh_incident_statuses, .default_value = "investigating",
	  .doc = "investigating, identified, monitoring, resolved or "
		 "postmortem; changed only by a transition." },
	{ .name = "timeline", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .flags = HC_F_READONLY, .default_value = "[]",
	  .doc = "Every transition and note: {at, author, from, to, note}." },
	{ .name = "acknowledged_at", .type = HC_FT_DATETIME,
	  .flags = HC_F_READONLY,
	  .doc = "When it moved to identified." },
	{ .name = "resolved_at", .type = HC_FT_DATETIME, .flags = HC_F_READONLY,
	  .doc = "When it moved to resolved." },
	{ .name = "time_to_acknowledge_s", .type = HC_FT_INT,
	  .flags = HC_F_READONLY,
	  .doc = "Seconds from opening to identified." },
	{ .name = "time_to_resolve_s", .type = HC_FT_INT,
	  .flags = HC_F_READONLY,
	  .doc = "Seconds from opening to resolved." },
	{ .name = "postmortem", .type = HC_FT_TEXT, .max_len = 65536,
	  .doc = "The postmortem, or a link to it." },
	{ .name = "tasks", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .default_value = "[]", .since = 2,
	  .doc = "dev-hub tasks the incident blocks until it is resolved "
		 "(ids, sent with incident_opened)." },
	{ .name = "workstreams", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_ARRAY, .default_value = "[]", .since = 2,
	  .doc = "dev-hub workstreams the incident blocks until it is "
		 "resolved." },
};

const struct hc_resource oh_incident_resource = {
	.name = "incident",
	.plural = "incidents",
	.table = "incidents",
	.doc = "Something broken, followed from investigating to resolved.",
	.id_policy = HC_ID_UUID,
	.fields = incident_fields,
	.nfields = HC_COUNT(incident_fields),
	.newest_first = true,
	.hooks = { .prepare = incident_prepare },
};

int oh_incident_emit(struct hc_conn *c, const char *type, const json_t *row,
		     struct hc_err *err)
{
	static const char *const keys[] = { "title",   "severity", "impact",
					    "services", "domain",   "status",
					    "tasks",   "workstreams",
					    "resolved_at" };
	json_t *p = json_pack("{sO}", "incident", json_object_get(row, "id"));
	int rc;
	for (size_t i = 0; i < HC_COUNT(keys); i++) {
		json_t *v = json_object_get(row, keys[i]);
		if (v && !json_is_null(v))
			json_object_set(p, keys[i], v);
	}
	rc = hc_event_emit(c, type, p, NULL, err);
	json_decref(p);
	return rc;
}

static int need_author(const char *author, struct hc_err *err)
{
	if (!author || !*author)
		return hc_err_field(err, HC_EINVAL, "author",
				    "missing required field 'author'");
	if (strlen(author) > AUTHOR_MAX || strpbrk(author, "\r\n"))
		return hc_err_field(err, HC_EINVAL, "author",
				    "field 'author' must be one line of at most "
				    "%d bytes",
				    AUTHOR_MAX);
	return HC_OK;
}

int oh_incident_create(struct hc_conn *c, json_t *in, const char *author,
		       json_t **out, struct hc_err *err)
{
	json_t *row = NULL;
	char now[HC_TIME_LEN + 1];
	int rc;
	if (!author)
		author = oh_str(in, "opened_by");
	rc = need_author(author, err);
	if (rc != HC_OK)
		return rc;
	if (!json_object_get(in, "opened_by"))
		json_object_set_new(in, "opened_by", json_string(author));
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_res_create(c, &oh_incident_resource, in, &row, err);
	if (rc == HC_OK) {
		json_t *tl = json_pack("[{sssssnss}]", "at",
				       oh_str(row, "created_at"), "author",
				       author, "from", "to", "investigating");
		char *text = hc_json_dump(tl, NULL);
		struct hc_value p[] = { hc_vtext(text),
					hc_vtext(oh_str(row, "id")) };
		rc = text ? hc_exec(c,
				    "UPDATE incidents SET row_version = row_version + 1, timeline = ? WHERE "
				    "id = ?",
				    p, 2, err)
			  : hc_err_set(err, HC_ENOMEM, "out of memory");
		free(text);
		json_decref(tl);
		json_decref(row);
		row = NULL;
	}
	(void)now;
	if (rc == HC_OK)
		rc = hc_res_get(c, &oh_incident_resource,
				oh_str(in, "id"), &row, err);
	if (rc == HC_OK)
		rc = oh_incident_emit(c, "incident_opened", row, err);
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	if (rc != HC_OK) {
		hc_tx_rollback(c);
		json_decref(row);
		return rc;
	}
	*out = row;
	return HC_OK;
}

int oh_incident_update(struct hc_conn *c, const char *id, json_t *patch,
		       const char *status, const char *author,
		       const char *note, json_t **out, struct hc_err *err)
{
	json_t *row = NULL, *tl = NULL, *entry = NULL;
	char now[HC_TIME_LEN + 1];
	const char *from;
	int rc = need_author(author, err);
	bool has_patch = patch && json_object_size(patch) > 0;

	*out = NULL;
	if (rc != HC_OK)
		return rc;
	if (note && strlen(note) > NOTE_MAX)
		return hc_err_field(err, HC_EINVAL, "note",
				    "field 'note' is longer than %d bytes",
				    NOTE_MAX);
	if (status && status_index(status) < 0)
		return hc_err_field(err, HC_EINVAL, "status",
				    "field 'status' must be one of "
				    "investigating, identified, monitoring, "
				    "resolved, postmortem, not '%s'",
				    status);
	if (!status && !has_patch && !(note && *note))
		return hc_err_set(err, HC_EINVAL,
				  "nothing to update: give a status, a note "
				  "or fields");
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_res_get_locked(c, &oh_incident_resource, id, &row, err);
	if (rc != HC_OK)
		goto out;
	from = oh_str(row, "status");
	if (status && strcmp(status, from) != 0) {
		const char *const *next = oh_incident_next(from);
		bool ok = next && next[0] && strcmp(next[0], status) == 0;
		if (!ok) {
			bool back = status_index(status) < status_index(from);
			rc = hc_err_field(err, HC_ECONFLICT, "status",
					  "incident %s is %s; it cannot %s %s "
					  "(next: %s)",
					  oh_str(row, "id"), from,
					  back ? "go back to" : "skip to",
					  status,
					  next && next[0] ? next[0]
							  : "nothing, final");
			goto out;
		}
	} else if (status) {
		status = NULL; /* already there: a note at most */
	}
	if (has_patch) {
		json_t *upd = NULL;
		rc = hc_res_update(c, &oh_incident_resource, oh_str(row, "id"),
				   patch, &upd, err);
		json_decref(upd);
		if (rc != HC_OK)
			goto out;
	}
	hc_time_now(now);
	tl = json_deep_copy(json_object_get(row, "timeline"));
	if (!json_is_array(tl)) {
		json_decref(tl);
		tl = json_array();
	}
	if (status || (note && *note)) {
		entry = json_pack("{ssss}", "at", now, "author", author);
		if (status) {
			json_object_set_new(entry, "from", json_string(from));
			json_object_set_new(entry, "to", json_string(status));
		}
		if (note && *note)
			json_object_set_new(entry, "note", json_string(note));
		json_array_append(tl, entry);
	}
	{
		int64_t opened = 0, t = 0;
		char *text = hc_json_dump(tl, NULL);
		bool ack = status && strcmp(status, "identified") == 0;
		bool res = status && strcmp(status, "resolved") == 0;
		struct hc_value p[6];
		oh_time_parse(oh_str(row, "created_at"), &opened);
		oh_time_parse(now, &t);
		p[0] = hc_vtext(status ? status : from);
		p[1] = hc_vtext(text);
		p[2] = ack ? hc_vtext(now) : hc_vnull();
		p[3] = ack || res ? hc_vint((t - opened) / 1000) : hc_vnull();
		p[4] = res ? hc_vtext(now) : hc_vnull();
		p[5] = hc_vtext(oh_str(row, "id"));
		if (!text) {
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
			goto out;
		}
		if (ack)
			rc = hc_exec(c,
				     "UPDATE incidents SET row_version = row_version + 1, status = ?, "
				     "timeline = ?, acknowledged_at = ?, "
				     "time_to_acknowledge_s = ?, updated_at = "
				     "? WHERE id = ?",
				     (struct hc_value[]){ p[0], p[1], p[2], p[3],
							  hc_vtext(now), p[5] },
				     6, err);
		else if (res)
			rc = hc_exec(c,
				     "UPDATE incidents SET row_version = row_version + 1, status = ?, "
				     "timeline = ?, time_to_resolve_s = ?, "
				     "resolved_at = ?, updated_at = ? WHERE "
				     "id = ?",
				     (struct hc_value[]){ p[0], p[1], p[3], p[4],
							  hc_vtext(now), p[5] },
				     6, err);
		else
			rc = hc_exec(c,
				     "UPDATE incidents SET row_version = row_version + 1, status = ?, "
				     "timeline = ?, updated_at = ? WHERE id = "
				     "?",
				     (struct hc_value[]){ p[0], p[1],
							  hc_vtext(now), p[5] },
				     4, err);
		free(text);
	}
	if (rc == HC_OK)
		rc = hc_res_get(c, &oh_incident_resource, oh_str(row, "id"),
				out, err);
	if (rc == HC_OK && status && strcmp(status, "resolved") == 0)
		rc = oh_incident_emit(c, "incident_resolved", *out, err);
out:
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	if (rc != HC_OK) {
		hc_tx_rollback(c);
		json_decref(*out);
		*out = NULL;
	}
	json_decref(row);
	json_decref(tl);
	json_decref(entry);
	return rc;
}
