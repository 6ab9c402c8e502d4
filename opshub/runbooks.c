/*
 * runbooks.c - runbooks (ordered steps to fix a service) and the log of
 * their executions. A step is recorded, never run by the hub: who ran it,
 * when, with which outcome and output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opshub/internal.h"

static const char *const outcomes[] = { "success", "failure", "skipped",
					NULL };

/* steps: [{title, command | instruction, expected}] */
static int runbook_prepare(struct hc_conn *c, const struct hc_resource *r,
			   enum hc_write_mode mode, json_t *obj,
			   const json_t *old, struct hc_err *err)
{
	json_t *steps = json_object_get(obj, "steps"), *s, *t;
	size_t i;
	int rc = oh_name_check_id(obj, err);
	if (rc != HC_OK)
		return rc;
	if (json_array_size(steps) > 200)
		return hc_err_field(err, HC_EINVAL, "steps",
				    "a runbook has at most 200 steps");
	json_array_foreach(steps, i, s)
	{
		const char *key;
		json_t *v;
		if (!json_is_object(s) || !oh_str(s, "title") ||
		    (!oh_str(s, "command") && !oh_str(s, "instruction")))
			return hc_err_field(err, HC_EINVAL, "steps",
					    "field 'steps': step %zu must be an "
					    "object with a string 'title' and a "
					    "'command' or an 'instruction'",
					    i + 1);
		json_object_foreach(s, key, v)
			if ((strcmp(key, "title") && strcmp(key, "command") &&
			     strcmp(key, "instruction") &&
			     strcmp(key, "expected")) ||
			    !json_is_string(v))
				return hc_err_field(
					err, HC_EINVAL, "steps",
					"field 'steps': step %zu: '%s' is not "
					"one of the string members title, "
					"command, instruction, expected",
					i + 1, key);
	}
	json_array_foreach(json_object_get(obj, "trigger_conditions"), i, t)
		if (!json_is_string(t))
			return hc_err_field(err, HC_EINVAL,
					    "trigger_conditions",
					    "field 'trigger_conditions' must be "
					    "an array of strings");
	return HC_OK;
}

static const struct hc_field runbook_fields[] = {
	{ .name = "name", .type = HC_FT_NAME,
	  .flags = HC_F_REQUIRED | HC_F_UNIQUE | HC_F_IMMUTABLE, .max_len = 64,
	  .doc = "The runbook's name, also its id." },
	{ .name = "service", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &oh_service_resource, .ref_field = "id",
	  .doc = "The service it fixes." },
	{ .name = "title", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "What it is for, in one line." },
	{ .name = "trigger_conditions", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_ARRAY, .default_value = "[]",
	  .doc = "When to use it: alerts, symptoms (strings)." },
	{ .name = "steps", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .default_value = "[]",
	  .doc = "Ordered steps: {title, command or instruction, expected}." },
	{ .name = "last_executed", .type = HC_FT_DATETIME,
	  .flags = HC_F_READONLY,
	  .doc = "When a step of it was last executed." },
};

const struct hc_resource oh_runbook_resource = {
	.name = "runbook",
	.plural = "runbooks",
	.table = "runbooks",
	.doc = "How to fix a service: ordered steps with expected outcomes.",
	.id_policy = HC_ID_HOOK,
	.fields = runbook_fields,
	.nfields = HC_COUNT(runbook_fields),
	.hooks = { .prepare = runbook_prepare, .make_id = oh_name_make_id },
};

static const struct hc_field execution_fields[] = {
	{ .name = "runbook", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .ref = &oh_runbook_resource,
	  .ref_field = "id", .doc = "The runbook." },
	{ .name = "step", .type = HC_FT_INT, .flags = HC_F_REQUIRED,
	  .doc = "The step's number, from 1." },
	{ .name = "step_title", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "The step's title when it was executed." },
	{ .name = "actor", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 100,
	  .doc = "Who executed it (agent or person)." },
	{ .name = "outcome", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = outcomes,
	  .doc = "success, failure or skipped." },
	{ .name = "output", .type = HC_FT_TEXT, .max_len = 65536,
	  .doc = "What it printed or showed." },
	{ .name = "incident", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &oh_incident_resource, .ref_field = "id",
	  .doc = "The incident it was executed for." },
	{ .name = "executed_at", .type = HC_FT_DATETIME,
	  .doc = "When it was executed." },
};

const struct hc_resource oh_runbook_execution_resource = {
	.name = "runbook execution",
	.plural = "runbook-executions",
	.table = "runbook_executions",
	.doc = "The execution log of runbook steps, newest first.",
	.id_policy = HC_ID_UUID,
	.fields = execution_fields,
	.nfields = HC_COUNT(execution_fields),
	.newest_first = true,
};

int oh_runbook_get(struct hc_conn *c, const char *runbook,
		   const char *service, json_t **out, struct hc_err *err)
{
	json_t *rb = NULL, *page = NULL, *log = NULL;
	struct hc_list_query q = { .limit = 20 };
	int rc;
	if (!runbook && !service)
		return hc_err_field(err, HC_EINVAL, "runbook",
				    "give a runbook or a service");
	if (runbook) {
		rc = hc_res_get(c, &oh_runbook_resource, runbook, &rb, err);
	} else {
		rc = hc_list_query_add(&q, &oh_runbook_resource, "service",
				       service, err);
		if (rc == HC_OK)
			rc = hc_res_list(c, &oh_runbook_resource, &q, &page,
					 err);
		if (rc == HC_OK) {
			rb = json_incref(json_array_get(
				json_object_get(page, "items"), 0));
			if (!rb)
				rc = hc_err_field(err, HC_ENOTFOUND, "service",
						  "no runbook for service '%s'",
						  service);
		}
		json_decref(page);
		page = NULL;
	}
	if (rc == HC_OK) {
		struct hc_list_query lq = { .limit = 20 };
		rc = hc_list_query_add(&lq, &oh_runbook_execution_resource,
				       "runbook", oh_str(rb, "id"), err);
		if (rc == HC_OK)
			rc = hc_res_list(c, &oh_runbook_execution_resource,
					 &lq, &log, err);
	}
	if (rc == HC_OK) {
		json_object_set(rb, "executions",
				json_object_get(log, "items"));
		*out = rb;
		rb = NULL;
	}
	json_decref(rb);
	json_decref(log);
	return rc;
}

int oh_runbook_execute_step(struct hc_conn *c, const char *runbook, int step,
			    json_t *in, json_t **out, struct hc_err *err)
{
	json_t *rb = NULL, *s, *row = NULL;
	char now[HC_TIME_LEN + 1];
	const char *key;
	json_t *v;
	int rc;

	*out = NULL;
	json_object_foreach(in, key, v)
		if (strcmp(key, "actor") && strcmp(key, "outcome") &&
		    strcmp(key, "output") && strcmp(key, "incident"))
			return hc_err_field(err, HC_EINVAL, key,
					    "unknown field '%s'; give actor, "
					    "outcome, output and incident",
					    key);
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_res_get_locked(c, &oh_runbook_resource, runbook, &rb, err);
	if (rc != HC_OK)
		goto out;
	s = json_array_get(json_object_get(rb, "steps"), (size_t)(step - 1));
	if (step < 1 || !s) {
		rc = hc_err_field(err, HC_EINVAL, "step",
				  "runbook %s has %zu steps; there is no step "
				  "%d",
				  oh_str(rb, "id"),
				  json_array_size(json_object_get(rb, "steps")),
				  step);
		goto out;
	}
	hc_time_now(now);
	row = json_deep_copy(in);
	json_object_set_new(row, "runbook", json_string(oh_str(rb, "id")));
	json_object_set_new(row, "step", json_integer(step));
	json_object_set_new(row, "step_title",
			    json_string(oh_str(s, "title")));
	json_object_set_new(row, "executed_at", json_string(now));
	rc = hc_res_create(c, &oh_runbook_execution_resource, row, out, err);
	if (rc == HC_OK) {
		struct hc_value p[] = { hc_vtext(now),
					hc_vtext(oh_str(rb, "id")) };
		rc = hc_exec(c, "UPDATE runbooks SET row_version = row_version + 1, last_executed = ? WHERE "
				"id = ?",
			     p, 2, err);
	}
	if (rc == HC_OK)
		json_object_set(*out, "step_detail", s);
out:
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	if (rc != HC_OK) {
		hc_tx_rollback(c);
		json_decref(*out);
		*out = NULL;
	}
	json_decref(rb);
	json_decref(row);
	return rc;
}
