/*
 * opshub/opshub.h - ops-hub, the runtime operations hub: what runs where
 * (services and locations), whether it is healthy (probes, a health state
 * machine, alerts as progress events), what is broken (incidents), how to
 * fix it (runbooks), how to reach it (access paths), what is owed
 * (operational debt) and what changed (change records), on top of
 * hub-core.
 *
 * JSON follows jansson's reference rules: json_t ** results are new
 * references for the caller; json_t * arguments are borrowed unless said
 * otherwise.
 */
#ifndef OPSHUB_OPSHUB_H
#define OPSHUB_OPSHUB_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hubcore/events.h"
#include "hubcore/hub.h"
#include "hubcore/mcp.h"

extern const struct hc_hub_def opshub_def;
extern const struct hc_mcp_def opshub_mcp;

extern const struct hc_resource oh_location_resource;
extern const struct hc_resource oh_service_resource;
extern const struct hc_resource oh_probe_result_resource;
extern const struct hc_resource oh_maintenance_resource;
extern const struct hc_resource oh_incident_resource;
extern const struct hc_resource oh_runbook_resource;
extern const struct hc_resource oh_runbook_execution_resource;
extern const struct hc_resource oh_access_path_resource;
extern const struct hc_resource oh_debt_resource;
extern const struct hc_resource oh_change_resource;
extern const struct hc_resource oh_service_cost_resource;
extern const char *const oh_change_outcomes[];

/* The events ops-hub applies (coupling.c), and its routes for them. */
extern const struct hc_event_def oh_events;
extern const struct hc_route_table oh_coupling_routes;

extern const char *const oh_health_values[]; /* up pending down ... */
extern const char *const oh_incident_statuses[];
extern const char *const oh_probe_kinds[];

/* ---- durations ------------------------------------------------------------ */

/*
 * Parse a duration: an integer with a unit, ms, s, m, h or d ("500ms",
 * "72h", "2d"), or several run together ("1h30m"). *ms receives
 * milliseconds. Returns the number of bytes read (0 when s does not start
 * with a duration).
 */
size_t oh_duration_parse(const char *s, int64_t *ms);
/* A duration value of a probe setting: a string like "26h" or an integer
 * of milliseconds. HC_EINVAL naming field when it is neither. */
int oh_duration_json(const json_t *v, const char *field, int64_t *ms,
		     struct hc_err *err);

/* ---- the condition language ------------------------------------------------ */

/*
 * Conditions over a probe result, in the spirit of Gatus:
 *
 *   [STATUS] == 200            [RESPONSE_TIME] < 500
 *   [BODY].status == ok        [BODY].items[0].name != "x y"
 *   [CERTIFICATE_EXPIRATION] > 72h
 *   [CONNECTED] == true        [BODY] == SSH-2.0-OpenSSH_9.2
 *
 * A placeholder, an operator (== != < <= > >=) and a value: a number, a
 * duration, true / false, a bare word or a "quoted string". Parsing checks
 * the whole expression and the placeholder's kind against the value, so
 * a bad expression is refused where it is written, with its column.
 */
enum oh_placeholder {
	OH_PH_STATUS,
	OH_PH_RESPONSE_TIME,
	OH_PH_BODY,
	OH_PH_CERT_EXPIRATION,
	OH_PH_CONNECTED,
};

enum oh_cmp { OH_EQ, OH_NE, OH_LT, OH_LE, OH_GT, OH_GE };

#define OH_COND_MAX 512

struct oh_condition {
	enum oh_placeholder ph;
	char path[OH_COND_MAX]; /* JSON path after [BODY], "" for the body */
	enum oh_cmp op;
	char value[OH_COND_MAX]; /* the value as written (unquoted) */
	bool is_number;          /* value is a number or a duration */
	int64_t number;          /* milliseconds for durations */
	bool is_bool;
	bool boolean;
};

/*
 * Parse one expression. On failure HC_EINVAL with err->column the 1-based
 * column of the fault and a message saying what was expected there.
 */
int oh_condition_parse(const char *expr, struct oh_condition *out,
		       struct hc_err *err);

/* What a probe observed, as the conditions see it. */
struct oh_observation {
	bool connected;
	long status;          /* HTTP status, 0 when none */
	int64_t response_ms;
	const char *body;     /* NUL-terminated, may be NULL */
	const json_t *body_json; /* the body parsed as JSON, or NULL */
	bool has_cert;
	int64_t cert_not_after; /* seconds since the epoch */
	int64_t now;            /* seconds since the epoch */
};

/* Evaluate a parsed condition; *desc says what was compared, e.g.
 * "[STATUS] (503) == 200". */
bool oh_condition_eval(const struct oh_condition *c,
		       const struct oh_observation *o, char *desc,
		       size_t desc_size);

/* ---- probes ----------------------------------------------------------------- */

/* What one probe run found. values carries kind-specific details
 * (cluster problems, certificate expiry, the banner, ...). */
struct oh_probe_result {
	char name[64];
	char kind[32];
	bool ok;
	int64_t duration_ms;
	char message[512];
	json_t *values; /* an object, owned */
};

void oh_probe_result_release(struct oh_probe_result *r);

/*
 * Check one probe configuration (an element of a service's "probes"):
 * kind, its settings and its conditions. index is its place in the array,
 * for error fields such as "probes[1].conditions[0]". Fills in the
 * default name and conditions.
 */
int oh_probe_check(struct hc_conn *c, json_t *probe, size_t index,
		   struct hc_err *err);

/*
 * Run one probe now (blocking, at most timeout_ms), never holding a
 * database connection: the location's API settings (for cluster kinds)
 * are passed in. cancel (may be NULL) stops it early when set.
 */
void oh_probe_run(const json_t *probe, const json_t *location,
		  int64_t timeout_ms, const atomic_bool *cancel,
		  struct oh_probe_result *res);

/*
 * Live checks of a cluster location (kubernetes: /readyz, nodes, pods;
 * cert-manager certificates) and of its Longhorn storage. *out is the
 * report; a cluster that cannot be reached is a report too, not an error.
 */
int oh_cluster_health(struct hc_conn *c, const char *location,
		      int64_t timeout_ms, json_t **out, struct hc_err *err);
int oh_storage_health(struct hc_conn *c, const char *location,
		      int64_t timeout_ms, json_t **out, struct hc_err *err);

/*
 * The verdicts on recorded API responses (pure: now in seconds since the
 * epoch). Each appends problems (strings) and fills summary members.
 */
void oh_k8s_nodes_eval(const json_t *nodes, json_t *summary,
		       json_t *problems);
void oh_k8s_pods_eval(const json_t *pods, json_t *summary, json_t *problems);
void oh_longhorn_volumes_eval(const json_t *volumes, json_t *summary,
			      json_t *problems);
void oh_longhorn_backups_eval(const json_t *volumes, const json_t *backups,
			      int64_t max_age_ms, int64_t now,
			      json_t *summary, json_t *problems);
void oh_longhorn_targets_eval(const json_t *targets, json_t *summary,
			      json_t *problems);
void oh_certificates_eval(const json_t *certs, int64_t min_validity_ms,
			  int64_t now, json_t *summary, json_t *problems);

/* ---- health ------------------------------------------------------------------ */

enum oh_state { OH_UNKNOWN, OH_UP, OH_PENDING, OH_DOWN };

/* The probe-driven part of a service's health. */
struct oh_health {
	enum oh_state state;
	int failures;  /* consecutive failed rounds */
	int successes; /* consecutive successful rounds */
};

/*
 * One round's outcome through the state machine: a failure makes an up
 * (or unknown) service pending, and down after failure_threshold failures
 * in a row; a down service comes up again after success_threshold
 * successes in a row. Returns the new state.
 */
enum oh_state oh_health_step(struct oh_health *h, bool ok,
			     int failure_threshold, int success_threshold);
const char *oh_state_name(enum oh_state s);
enum oh_state oh_state_parse(const char *s);

/*
 * Record the outcome of one probe round of a service, in one write
 * transaction: the results in the history (trimmed to the service's
 * retention), the state machine, the displayed health (maintenance,
 * dependencies) and the alert_raised / alert_resolved progress events on
 * changes. results is an array of result objects; with results NULL the
 * health is only re-evaluated (a maintenance window began or ended).
 * *out (may be NULL) receives the service.
 */
int oh_service_record(struct hc_conn *c, const char *service,
		      const json_t *results, json_t **out,
		      struct hc_err *err);

/* A result as the JSON recorded by oh_service_record (new reference). */
json_t *oh_probe_result_json(const struct oh_probe_result *r);

/* ---- services ---------------------------------------------------------------- */

/*
 * Register a service: create it, or update the fields given when it exists
 * (by name). created and changed (may be NULL) say what happened.
 */
int oh_service_register(struct hc_conn *c, json_t *in, bool *created,
			bool *changed, json_t **out, struct hc_err *err);

/* The health of a service for people and agents: health, color, state,
 * dependencies, maintenance, last results and recent history. */
int oh_service_health(struct hc_conn *c, const char *service, json_t **out,
		      struct hc_err *err);

/*
 * Probe a service now: run its probes (the database connection is not
 * held meanwhile, so c is acquired from store) and record the round.
 * Push services cannot be probed. *out is {"results", "service"}.
 */
int oh_service_probe_now(struct hc_store *store, const char *service,
			 json_t **out, struct hc_err *err);

/*
 * A push report of a job (backup script, tunnel keeper): the bearer token
 * must match the push probe's; success or failure is one round.
 */
int oh_service_push(struct hc_conn *c, const char *service,
		    const char *token, json_t *report, json_t **out,
		    struct hc_err *err);

/* Whether the service is in a maintenance window at now (RFC 3339). */
int oh_in_maintenance(struct hc_conn *c, const char *service, const char *now,
		      bool *in, struct hc_err *err);

/* ---- incidents ---------------------------------------------------------------- */

/* Open an incident: status investigating, the first timeline entry by
 * author. */
int oh_incident_create(struct hc_conn *c, json_t *in, const char *author,
		       json_t **out, struct hc_err *err);
/*
 * Update an incident: the fields in patch, and when status is given a
 * transition, which must be the next step (investigating -> identified ->
 * monitoring -> resolved -> postmortem; HC_ECONFLICT for a skip or a step
 * back). Every transition and note goes into the timeline with its author.
 */
int oh_incident_update(struct hc_conn *c, const char *id, json_t *patch,
		       const char *status, const char *author,
		       const char *note, json_t **out, struct hc_err *err);
/* The statuses an incident may move to from status (NULL-terminated). */
const char *const *oh_incident_next(const char *status);

/* ---- runbooks and access paths --------------------------------------------------- */

/* A runbook by id, or the first runbook of a service, with its recent
 * executions. */
int oh_runbook_get(struct hc_conn *c, const char *runbook,
		   const char *service, json_t **out, struct hc_err *err);
/* Record the execution of step (1-based) of a runbook: who, outcome,
 * output. Steps are recorded, never run by the hub. */
int oh_runbook_execute_step(struct hc_conn *c, const char *runbook, int step,
			    json_t *in, json_t **out, struct hc_err *err);

/* Check an access path now (ssh banner, http, k8s /readyz) and record its
 * status. */
int oh_access_path_check(struct hc_store *store, const char *id,
			 json_t **out, struct hc_err *err);

/* ---- inventory -------------------------------------------------------------------- */

/* What an import did. */
struct oh_import_result {
	int locations, locations_created, locations_updated;
	int services, services_created, services_updated;
	int runbooks, access_paths;
};

/*
 * Parse an inventory file (YAML) into {"locations": [...], "services":
 * [...], "runbooks": [...], "access_paths": [...]} with a side table of
 * the line of every member; errors carry file:line.
 */
struct oh_inventory;
int oh_inventory_parse(const char *source, const char *data, size_t len,
		       struct oh_inventory **out, struct hc_err *err);
int oh_inventory_parse_file(const char *path, struct oh_inventory **out,
			    struct hc_err *err);
void oh_inventory_free(struct oh_inventory *inv);
/* Import in one transaction, idempotently; a failure writes nothing and
 * names file:line. */
int oh_inventory_import(struct hc_conn *c, const struct oh_inventory *inv,
			struct oh_import_result *res, struct hc_err *err);
json_t *oh_import_result_json(const struct oh_import_result *res);

/* ---- the scheduler ------------------------------------------------------------------ */

struct oh_scheduler;
/* Start probing every service with probes (threads: concurrency, 0 = 4). */
int oh_scheduler_start(struct oh_scheduler **out, struct hc_hub *hub,
		       unsigned concurrency, struct hc_err *err);
/* Stop: running probes are cancelled, the threads joined. */
void oh_scheduler_stop(struct oh_scheduler *s);

#endif
