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
#include "hubcore/mcp.h"

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

/*
 * Like dh_workplan_import, reporting progress (tasks done of total) to
 * progress(ctx, ...) as it goes; progress may be NULL.
 */
int dh_workplan_import_ex(struct hc_conn *c, const struct dh_workplan *wp,
			  void (*progress)(void *ctx, int done, int total),
			  void *ctx, struct dh_import_result *res,
			  struct hc_err *err);

/*
 * Claim the next ready task of a workstream for an agent, in one
 * transaction: the highest-priority task that is todo and unassigned
 * becomes in_progress and assigned. *out is {"task": task or null}.
 */
int dh_claim_next_task(struct hc_conn *c, const char *workstream,
		       const char *agent, json_t **out, struct hc_err *err);
/* Give a claimed task back (only its holder can): unassigned, and todo
 * again if it was in progress. HC_ECONFLICT for anyone else. */
int dh_release_task(struct hc_conn *c, const char *task_id, const char *agent,
		    json_t **out, struct hc_err *err);
/* Change a task's status on behalf of an agent, recording a
 * task_status_changed progress event in the same transaction. */
int dh_set_task_status(struct hc_conn *c, const char *task_id,
		       const char *status, const char *agent, const char *note,
		       json_t **out, struct hc_err *err);

/* Render a workstream and its tasks as a Markdown workplan (the form
 * dh_workplan_parse reads back). *out is malloc'd. */
int dh_workplan_render(struct hc_conn *c, const char *workstream, char **out,
		       struct hc_err *err);

/* dev-hub's MCP tools, prompts and resources. */
extern const struct hc_mcp_def devhub_mcp;

/* The result as JSON (a new reference). */
json_t *dh_import_result_json(const struct dh_import_result *res);

#endif
