/*
 * records.c - access paths (how people and agents reach a system, checked
 * on demand), operational debt and change records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opshub/internal.h"

/* ---- access paths ------------------------------------------------------------- */

static const char *const path_types[] = { "ssh", "k8s", "http", NULL };
static const char *const path_statuses[] = { "unknown", "ok", "failing",
					     NULL };

static int access_prepare(struct hc_conn *c, const struct hc_resource *r,
			  enum hc_write_mode mode, json_t *obj,
			  const json_t *old, struct hc_err *err)
{
	const char *type = oh_str(obj, "type"), *target = oh_str(obj, "target");
	int rc = oh_name_check_id(obj, err);
	if (rc != HC_OK || !type || !target)
		return rc;
	if (strcmp(type, "http") == 0 && strncmp(target, "http://", 7) &&
	    strncmp(target, "https://", 8))
		return hc_err_field(err, HC_EINVAL, "target",
				    "field 'target' of an http access path "
				    "must be an http(s) URL");
	if (strcmp(type, "k8s") == 0 && !oh_str(obj, "location") &&
	    strncmp(target, "https://", 8) && strncmp(target, "http://", 7))
		return hc_err_field(err, HC_EINVAL, "target",
				    "field 'target' of a k8s access path must "
				    "be the API server URL, or give a "
				    "location");
	return HC_OK;
}

static const struct hc_field access_fields[] = {
	{ .name = "name", .type = HC_FT_NAME,
	  .flags = HC_F_REQUIRED | HC_F_UNIQUE | HC_F_IMMUTABLE, .max_len = 64,
	  .doc = "The access path's name, also its id." },
	{ .name = "type", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = path_types,
	  .doc = "ssh, k8s or http." },
	{ .name = "target", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 500,
	  .doc = "ssh: host or host:port; http: a URL; k8s: the API server "
		 "URL." },
	{ .name = "auth_method", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100,
	  .doc = "How one authenticates: ssh-key, token, oidc, password, "
		 "client-certificate, ..." },
	{ .name = "service", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &oh_service_resource, .ref_field = "id",
	  .doc = "The service it reaches." },
	{ .name = "location", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &oh_location_resource, .ref_field = "id",
	  .doc = "The location it reaches; k8s paths use its API settings." },
	{ .name = "description", .type = HC_FT_TEXT, .max_len = 4096,
	  .doc = "Who may use it and how (never a secret)." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_READONLY | HC_F_FILTER, .enum_values = path_statuses,
	  .default_value = "unknown",
	  .doc = "unknown (never checked), ok or failing." },
	{ .name = "last_checked", .type = HC_FT_DATETIME,
	  .flags = HC_F_READONLY, .doc = "When it was last checked." },
	{ .name = "last_result", .type = HC_FT_STRING, .flags = HC_F_READONLY,
	  .max_len = 500, .doc = "What the last check found." },
};

const struct hc_resource oh_access_path_resource = {
	.name = "access path",
	.plural = "access-paths",
	.table = "access_paths",
	.doc = "A way to reach a system: ssh, k8s or http.",
	.id_policy = HC_ID_HOOK,
	.fields = access_fields,
	.nfields = HC_COUNT(access_fields),
	.hooks = { .prepare = access_prepare, .make_id = oh_name_make_id },
};

int oh_access_path_check(struct hc_store *store, const char *id,
			 json_t **out, struct hc_err *err)
{
	struct hc_conn *c = hc_store_acquire(store, err);
	json_t *ap = NULL, *loc = NULL, *probe = NULL;
	struct oh_probe_result res = { 0 };
	const char *type;
	char now[HC_TIME_LEN + 1];
	int rc;

	*out = NULL;
	if (!c)
		return err->status;
	rc = hc_res_get_locked(c, &oh_access_path_resource, id, &ap, err);
	if (rc == HC_OK && oh_str(ap, "location"))
		rc = hc_res_get_plain(c, &oh_location_resource,
				      oh_str(ap, "location"), &loc, err);
	hc_store_release(store, c);
	c = NULL;
	if (rc != HC_OK)
		goto out;
	type = oh_str(ap, "type");
	if (strcmp(type, "ssh") == 0) {
		char host[500];
		const char *t = oh_str(ap, "target"), *colon;
		long port = 22;
		/* user@host:port, host, [v6]:port */
		if (strchr(t, '@'))
			t = strchr(t, '@') + 1;
		colon = strrchr(t, ':');
		snprintf(host, sizeof(host), "%s", t);
		if (colon && !strchr(colon, ']') &&
		    (t[0] == '[' || strchr(t, ':') == colon)) {
			port = strtol(colon + 1, NULL, 10);
			host[colon - t] = '\0';
		}
		if (host[0] == '[') {
			memmove(host, host + 1, strlen(host));
			host[strcspn(host, "]")] = '\0';
		}
		probe = json_pack("{sssssssi}", "name", "access", "kind", "ssh",
				  "host", host, "port", (int)port);
		json_object_set_new(probe, "conditions",
				    json_pack("[s]", "[CONNECTED] == true"));
		oh_probe_run(probe, NULL, 10000, NULL, &res);
	} else if (strcmp(type, "http") == 0) {
		probe = json_pack("{sssssss[s]}", "name", "access", "kind",
				  "http", "url", oh_str(ap, "target"),
				  "conditions", "[CONNECTED] == true");
		oh_probe_run(probe, NULL, 10000, NULL, &res);
	} else {
		json_t *l = loc ? json_incref(loc)
				: json_pack("{sssssb}", "name",
					    oh_str(ap, "name"), "api_server",
					    oh_str(ap, "target"), "in_cluster",
					    0);
		probe = json_pack("{ssss}", "name", "access", "kind",
				  "kubernetes");
		oh_probe_run(probe, l, 10000, NULL, &res);
		json_decref(l);
	}
	hc_time_now(now);
	c = hc_store_acquire(store, err);
	if (!c) {
		rc = err->status;
		goto out;
	}
	{
		struct hc_value p[] = { hc_vtext(res.ok ? "ok" : "failing"),
					hc_vtext(now), hc_vtext(res.message),
					hc_vtext(oh_str(ap, "id")) };
		rc = hc_exec(c,
			     "UPDATE access_paths SET row_version = row_version + 1, status = ?, last_checked "
			     "= ?, last_result = ? WHERE id = ?",
			     p, 4, err);
	}
	if (rc == HC_OK) {
		json_t *row = NULL;
		rc = hc_res_get(c, &oh_access_path_resource, oh_str(ap, "id"),
				&row, err);
		if (rc == HC_OK)
			*out = json_pack("{sosbsssO}", "access_path", row,
					 "ok", res.ok, "message", res.message,
					 "values", res.values);
	}
out:
	if (c)
		hc_store_release(store, c);
	oh_probe_result_release(&res);
	json_decref(ap);
	json_decref(loc);
	json_decref(probe);
	return rc;
}

/* ---- operational debt ------------------------------------------------------------ */

static const char *const debt_categories[] = {
	"security", "reliability", "observability", "capacity", "backup",
	"documentation", "maintainability", "cost", "other", NULL
};
static const char *const debt_severities[] = { "low", "medium", "high",
					       "critical", NULL };
static const char *const debt_statuses[] = { "open", "accepted",
					     "in_progress", "resolved", NULL };

static const struct hc_field debt_fields[] = {
	{ .name = "title", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "What is owed, in one line." },
	{ .name = "category", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = debt_categories,
	  .doc = "security, reliability, observability, capacity, backup, "
		 "documentation, maintainability, cost or other." },
	{ .name = "severity", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = debt_severities,
	  .default_value = "medium", .doc = "low, medium, high or critical." },
	{ .name = "location", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "Where it lives: a host, a repo path, a manifest." },
	{ .name = "owner", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100, .doc = "Who is to pay it off." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = debt_statuses,
	  .default_value = "open",
	  .doc = "open, accepted, in_progress or resolved." },
	{ .name = "service", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &oh_service_resource, .ref_field = "id",
	  .doc = "The service it concerns." },
	{ .name = "description", .type = HC_FT_TEXT, .max_len = 65536,
	  .doc = "Why it matters and what paying it off takes." },
};

const struct hc_resource oh_debt_resource = {
	.name = "operational debt",
	.plural = "operational-debts",
	.table = "operational_debts",
	.doc = "Operational debt: shortcuts in how systems are run.",
	.id_policy = HC_ID_UUID,
	.fields = debt_fields,
	.nfields = HC_COUNT(debt_fields),
};

/* ---- change records ----------------------------------------------------------------- */

static const char *const change_sources[] = { "manual", "deployment", NULL };
const char *const oh_change_outcomes[] = { "started", "succeeded", "failed",
					   NULL };

static int change_prepare(struct hc_conn *c, const struct hc_resource *r,
			  enum hc_write_mode mode, json_t *obj,
			  const json_t *old, struct hc_err *err)
{
	if (!json_object_get(obj, "changed_at") ||
	    json_is_null(json_object_get(obj, "changed_at"))) {
		char now[HC_TIME_LEN + 1];
		hc_time_now(now);
		json_object_set_new(obj, "changed_at", json_string(now));
	}
	return HC_OK;
}

static const struct hc_field change_fields[] = {
	{ .name = "summary", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "What changed, in one line." },
	{ .name = "service", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &oh_service_resource, .ref_field = "id",
	  .doc = "The service that changed." },
	{ .name = "changed_at", .type = HC_FT_DATETIME,
	  .doc = "When (default: now)." },
	{ .name = "changed_by", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 100,
	  .doc = "Who changed it (person, agent or pipeline)." },
	{ .name = "rollback", .type = HC_FT_TEXT, .max_len = 16384,
	  .doc = "How to undo it." },
	{ .name = "source", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = change_sources,
	  .default_value = "manual",
	  .doc = "manual, or deployment (from a deployment event)." },
	{ .name = "reference", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "A commit, release or deployment id." },
	{ .name = "details", .type = HC_FT_TEXT, .max_len = 65536,
	  .doc = "The change in full." },
	{ .name = "deployment", .type = HC_FT_STRING,
	  .flags = HC_F_FILTER | HC_F_READONLY, .max_len = 128, .since = 2,
	  .doc = "The dev-hub deployment it records (source deployment)." },
	{ .name = "outcome", .type = HC_FT_ENUM,
	  .flags = HC_F_FILTER | HC_F_READONLY,
	  .enum_values = oh_change_outcomes, .since = 2,
	  .doc = "Of a deployment: started, succeeded or failed." },
	{ .name = "events", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .flags = HC_F_READONLY, .default_value = "[]", .since = 2,
	  .doc = "The deployment events that made it: {type, event_id, at, "
		 "note}." },
};

const struct hc_resource oh_change_resource = {
	.name = "change record",
	.plural = "changes",
	.table = "change_records",
	.doc = "What changed, when, by whom, and how to roll it back.",
	.id_policy = HC_ID_UUID,
	.fields = change_fields,
	.nfields = HC_COUNT(change_fields),
	.newest_first = true,
	.hooks = { .prepare = change_prepare },
};
