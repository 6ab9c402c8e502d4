/*
 * devhub/devhub.h - dev-hub, the development coordination hub (formerly
 * State Hub): topics, workstreams imported from workplan files, tasks and
 * decisions, on top of hub-core.
 */
#ifndef DEVHUB_DEVHUB_H
#define DEVHUB_DEVHUB_H

#include <jansson.h>

#include "devhub/workplan.h"
#include "hubcore/hub.h"

extern const struct hc_hub_def devhub_def;

extern const struct hc_resource dh_topic_resource;
extern const struct hc_resource dh_workstream_resource;
extern const struct hc_resource dh_task_resource;
extern const struct hc_resource dh_decision_resource;

extern const char *const dh_workstream_statuses[];

/* What an import did, for people and for the API. */
struct dh_import_result {
	char workstream[128];
	bool workstream_created;
	int tasks;
	int tasks_created;
	int tasks_updated;
	int tasks_unchanged;
	int decisions;
};

/*
 * Import a parsed workplan in one transaction: ensure its domain and topic,
 * upsert the workstream with its phases, its tasks (by task id, keeping the
 * state_hub ids) and its key decisions. Idempotent: importing the same file
 * again changes nothing. On failure nothing is written and err names the
 * file (and line, where the failure belongs to one).
 */
int dh_workplan_import(struct hc_conn *c, const struct dh_workplan *wp,
		       struct dh_import_result *res, struct hc_err *err);

/* The result as JSON (a new reference). */
json_t *dh_import_result_json(const struct dh_import_result *res);

#endif
