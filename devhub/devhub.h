/*
 * devhub/devhub.h - dev-hub, the development coordination hub (formerly
 * State Hub): topics, workstreams imported from workplan files, tasks and
 * decisions, on top of hub-core.
 */
#ifndef DEVHUB_DEVHUB_H
#define DEVHUB_DEVHUB_H

#include <jansson.h>

#include "devhub/workplan.h"
#include "hubcore/buf.h"
#include "hubcore/events.h"
#include "hubcore/hub.h"
#include "hubcore/mcp.h"

extern const struct hc_hub_def devhub_def;

extern const struct hc_resource dh_topic_resource;
extern const struct hc_resource dh_workstream_resource;
extern const struct hc_resource dh_task_resource;
extern const struct hc_resource dh_decision_resource;

extern const char *const dh_workstream_statuses[];

/* The migration step making task_counts, the tasks of each workstream
 * counted by status and priority, kept by triggers (devhub/tasks.c). */
int dh_task_counts_schema(struct hc_conn *c, const struct hc_dialect *d,
			  struct hc_err *err);
/* A domain's task counts from task_counts: by status, by priority (every
 * enum value present) and {workstream: {status: n}}. */
int dh_task_counts(struct hc_conn *c, const char *domain, json_t **by_status,
		   json_t **by_priority, json_t **by_ws, struct hc_err *err);

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

/* ---- events between hubs (coupling.c) ---------------------------------- */

extern const struct hc_resource dh_deployment_resource;
extern const struct hc_resource dh_blocker_resource;
extern const struct hc_resource dh_pressure_resource;
extern const char *const dh_deployment_statuses[];
/* The events dev-hub applies, and the routes of its side of them. */
extern const struct hc_event_def dh_events;
extern const struct hc_route_table dh_coupling_routes;

/* Record a deployment starting and emit deployment_started, in one
 * transaction. */
int dh_deployment_start(struct hc_conn *c, json_t *in, json_t **out,
			struct hc_err *err);
/* Finish a started deployment (status succeeded or failed) and emit
 * deployment_succeeded or deployment_failed, in one transaction. */
int dh_deployment_finish(struct hc_conn *c, const char *id,
			 const char *status, const char *note, json_t **out,
			 struct hc_err *err);
/* The domain summary's "resource_pressure": fin-hub's raised alerts. */
int dh_pressure_summary(struct hc_conn *c, const char *domain,
			json_t *summary, struct hc_err *err);

/* ---- dependencies and ready work (deps.c) ------------------------------ */

extern const struct hc_resource dh_dependency_resource;
extern const char *const dh_dependency_kinds[];
extern const char *const dh_dependency_types[];

/* One edge: item depends on depends_on. */
struct dh_dep_edge {
	const char *item;
	const char *depends_on;
};

/*
 * Would adding item -> depends_on to edges close a cycle? Returns 1 and
 * appends the cycle to cycle ("A -> B -> C -> A") when it would, 0 when
 * not, -1 when out of memory. A self-edge is a cycle of one.
 */
int dh_dep_find_cycle(const struct dh_dep_edge *edges, size_t nedges,
		      const char *item, const char *depends_on,
		      struct hc_buf *cycle);

/* Remove a dependency by id (HC_ENOTFOUND when there is none). */
int dh_dependency_delete(struct hc_conn *c, const char *id,
			 struct hc_err *err);

/* The SQL condition (over "tasks t") that makes task t ready: todo,
 * unassigned, and nothing that blocks it (a task not done, or a workstream
 * blocking its workstream not completed or done) is open. */
extern const char dh_ready_where[];

/* Filters of the ready and blocked views; NULL / 0 for none. */
struct dh_work_filter {
	const char *workstream;
	const char *domain; /* slug or id */
	size_t limit;       /* 1..500, 0 = 50 */
};

/* Ready tasks, highest priority first then workplan order:
 * {"items": [task...]}. */
int dh_list_ready_tasks(struct hc_conn *c, const struct dh_work_filter *f,
			json_t **out, struct hc_err *err);
/* Tasks not done or cancelled that are blocked (status blocked, or an open
 * blocker), each with "blockers": [{"kind", "id", "title", "status"}]. */
int dh_list_blocked_tasks(struct hc_conn *c, const struct dh_work_filter *f,
			  json_t **out, struct hc_err *err);
/* The open blockers of one task (a new array). */
int dh_task_blockers(struct hc_conn *c, const char *task, json_t **out,
		     struct hc_err *err);

/* ---- goals, contributions, TD, EP (tracking.c) ------------------------- */

extern const struct hc_resource dh_goal_resource;
extern const struct hc_resource dh_contribution_resource;
extern const struct hc_resource dh_tech_debt_resource;
extern const struct hc_resource dh_enhancement_resource;

/* ---- SBOMs (sbom.c) ----------------------------------------------------- */

extern const struct hc_resource dh_sbom_resource;
extern const struct hc_resource dh_sbom_component_resource;

/* A parsed SBOM: components in dev-hub's shape (see sbom.c). */
struct dh_sbom {
	const char *format; /* "cyclonedx" or "spdx" */
	char spec_version[16];
	char serial[300];
	char name[300];
	json_t *components; /* array of objects, owned */
};

/* Parse a CycloneDX 1.4-1.6 or SPDX 2.3 JSON document. Errors are
 * HC_EINVAL naming the member ("specVersion", "components[3]"). Release
 * with dh_sbom_release, also after an error. */
int dh_sbom_parse(const json_t *doc, struct dh_sbom *out, struct hc_err *err);
void dh_sbom_release(struct dh_sbom *s);
/* A purl without version, qualifiers and subpath (malloc'd). */
char *dh_purl_base(const char *purl);
/* Replace a repo's SBOM with doc, in one transaction; *out is the stored
 * SBOM row with "created" and "licenses" (count per license). */
int dh_sbom_ingest(struct hc_conn *c, const char *repo, const json_t *doc,
		   const char *source, json_t **out, struct hc_err *err);
/* Which repos use a component (name, group/name, purl or purl without
 * version): {"component", "repos": [{"repo", "domain", "name",
 * "versions", "purls"}]}. */
int dh_sbom_usage(struct hc_conn *c, const char *component, json_t **out,
		  struct hc_err *err);

/* ---- workplan files against the database (consistency.c) -------------- */

/* A list of paths (owned strings). */
struct dh_paths {
	char **v;
	size_t n, cap;
};
/* Add a file, or a directory's *.md and *.txt files in name order. */
int dh_paths_add(struct dh_paths *p, const char *path, struct hc_err *err);
void dh_paths_release(struct dh_paths *p);

/* The directories of a repo that hold its workplans ("workplans",
 * "docs/workplans"), NULL-terminated. */
extern const char *const dh_workplan_dirs[];
/* Where a repo row is checked out on host (host_paths[host], else
 * default_path), or NULL; borrowed from the row. */
const char *dh_repo_path(const json_t *repo, const char *host);

/* Lines of a check or fix: findings (drift) and, for fix, what was done. */
struct dh_report_line {
	char *text; /* "file:line: message" */
	bool finding;
};
struct dh_report {
	struct dh_report_line *v;
	size_t n, cap;
	size_t findings;
};
void dh_report_release(struct dh_report *rep);
/* Add a line "src:line: message" ("src: message" when line is 0). */
void dh_report_add(struct dh_report *rep, bool finding, const char *src,
		   int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Compare workplan files with the database; every drift is a finding. With
 * repo, the repo's workstreams that no file gives are findings too (named
 * after where). The status is an error only when the check itself could
 * not run.
 */
int dh_wp_check(struct hc_conn *c, char *const *files, size_t n,
		const char *repo, const char *where, struct dh_report *rep,
		struct hc_err *err);

struct dh_fix_opts {
	bool dry_run; /* say what would be done, change nothing */
	bool prune;   /* delete tasks the file no longer lists */
	bool backup;  /* keep FILE.bak before writing a file */
};
/* Bring the database in line with the files and write missing state_hub
 * ids into them (see consistency.c). */
int dh_wp_fix(struct hc_conn *c, char *const *files, size_t n,
	      const struct dh_fix_opts *o, struct dh_report *rep,
	      struct hc_err *err);

/* ---- templates and rule files (template.c, rules.c) -------------------- */

/* A template variable; value NULL or "" is unset for sections. */
struct dh_tvar {
	const char *name;
	const char *value;
};
/* Render tmpl (see template.c for the language); *out is malloc'd.
 * Errors are HC_EPARSE naming source and the template's line. */
int dh_template_render(const char *source, const char *tmpl, size_t len,
		       const struct dh_tvar *vars, size_t nvars, char **out,
		       size_t *out_len, struct hc_err *err);

/* The built-in session protocol template and the default target. */
const char *dh_rules_template(size_t *len);
extern const char dh_rules_default_target[];

struct dh_rules_opts {
	const char *template_text; /* NULL: the built-in template */
	size_t template_len;
	const char *template_name; /* for messages */
	const char *host;    /* this machine's name, for host_paths */
	const char *dev_url; /* default http://127.0.0.1:8001 */
	const char *ops_url; /* default http://127.0.0.1:8002 */
	const char *target;  /* relative to the repo; NULL: the default */
	bool dry_run;        /* find the outcome, write nothing */
};

enum dh_rules_outcome { DH_RULES_UNCHANGED, DH_RULES_CREATED,
			DH_RULES_UPDATED };

struct dh_rules_result {
	char repo[128];
	char path[4200]; /* the rule file */
	enum dh_rules_outcome outcome;
};

/* Render the rule file of one repo row and write it when it changed.
 * Paths escaping the repo (.., symbolic links) are HC_EBADREQ. */
int dh_rules_render_repo(struct hc_conn *c, const json_t *repo,
			 const struct dh_rules_opts *o,
			 struct dh_rules_result *res, struct hc_err *err);
const char *dh_rules_outcome_name(enum dh_rules_outcome o);

/* A relative path of plain segments (no "", ".", ".." or leading '/'). */
int dh_rel_path_check(const char *rel, struct hc_err *err);
/* Open the directory of rel's last segment under root without following
 * links (see rules.c); *base points at the last segment in rel. */
int dh_open_parent(const char *root, const char *rel, bool create,
		   const char **base, int *dirfd, struct hc_err *err);
/* Whether root/rel is a file or directory inside root (links refused). */
int dh_repo_file_exists(const char *root, const char *rel, bool *exists,
			struct hc_err *err);

/* ---- definition of integration (doi.c) --------------------------------- */

extern const struct hc_resource dh_doi_result_resource;
extern const struct hc_doi_evaluator dh_doi_evaluator;
/* The built-in DoI checklist (YAML). */
extern const char dh_doi_default_config[];

/* The commit the checkout at root has checked out (40 hex digits), read
 * from .git/HEAD and the ref it names (loose or packed); HC_ENOTFOUND when
 * root is not a git checkout. */
int dh_git_head(const char *root, char out[41], struct hc_err *err);

/* Evaluate one repo row against a DoI configuration (YAML text; NULL for
 * the repo's .foshub/doi.yaml, then $FOSHUB_DOI_CONFIG, then the built-in
 * one), without the cache: {"repo", "passed", "items": [...], ...}. */
int dh_doi_evaluate(struct hc_conn *c, const json_t *repo, const char *host,
		    const char *config, json_t **out, struct hc_err *err);

/* The board page for people, GET /board (board.c). */
struct hc_view_page;
extern const struct hc_view_page dh_board_page;

#endif
