/*
 * hubcore/hub.h - a hub: its definition (const data) and its running
 * context (one struct hc_hub, passed everywhere; no global state).
 *
 * A hub is defined by a const struct hc_hub_def: its name, default address,
 * the migration sets of its schema (hub-core's "core" set first), its route
 * tables (hub-core's table plus its own) and its resources. The generic
 * resources every hub has (domains, repos, messages, progress events) come
 * from hub-core and are declared here.
 */
#ifndef HUBCORE_HUB_H
#define HUBCORE_HUB_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "hubcore/http.h"
#include "hubcore/log.h"
#include "hubcore/resource.h"
#include "hubcore/status.h"
#include "hubcore/store.h"

struct hc_hub;
struct hc_watch;
struct hc_view_live;
struct hc_mcp_def;
struct hc_mcp_server;
struct hc_event_def;
struct hc_events;

/*
 * A part of the domain summary (GET /domains/{slug}/summary) that a hub
 * contributes: it adds members to summary for the given domain slug.
 */
typedef int hc_summary_fn(struct hc_conn *c, const char *domain,
			  json_t *summary, struct hc_err *err);

/*
 * The definition of integration (DoI): the checklist a managed repo must
 * pass. hub-core serves it (the check_repo_doi and get_doi_summary MCP
 * tools, GET /repos/{key}/doi and GET /doi/summary) but does not evaluate
 * it: a hub that can sets hc_hub_def.doi, and hubs without one answer that
 * no evaluator is configured. refresh asks to evaluate again instead of
 * answering from a cache. *out is a new reference.
 */
struct hc_doi_evaluator {
	/* One repo (by name or id): {"repo", "passed", "items": [...]}. */
	int (*check)(struct hc_hub *hub, struct hc_conn *c, const char *repo,
		     bool refresh, json_t **out, struct hc_err *err);
	/* Every repo, or those of one domain (NULL for all). */
	int (*summary)(struct hc_hub *hub, struct hc_conn *c,
		       const char *domain, bool refresh, json_t **out,
		       struct hc_err *err);
};

struct hc_hub_def {
	const char *name;           /* "dev-hub" */
	const char *short_name;     /* "dev", as in `foshub serve dev` */
	const char *description;
	const char *default_listen; /* "127.0.0.1:8001" */
	const char *default_db;     /* "sqlite:var/dev-hub.db" */
	const struct hc_migration_set *const *migrations;
	size_t nmigrations;
	const struct hc_route_table *const *routes;
	size_t nroutes;
	const struct hc_resource *const *resources;
	size_t nresources;
	hc_summary_fn *const *summary_parts;
	size_t nsummary_parts;
	/* What the hub offers over MCP (tools, prompts, resources). */
	const struct hc_mcp_def *mcp;
	/*
	 * Hub-specific life cycle, all optional. start runs after the store
	 * is open and migrated, before serving (load configuration, start
	 * background threads; keep state in hub->ext); stop runs before the
	 * store closes; reload runs on SIGHUP and must keep the running state
	 * when the new one is refused.
	 */
	int (*start)(struct hc_hub *hub, struct hc_err *err);
	void (*stop)(struct hc_hub *hub);
	int (*reload)(struct hc_hub *hub, struct hc_err *err);
	/* The DoI evaluator, or NULL when the hub has none. */
	const struct hc_doi_evaluator *doi;
	/* Events between hubs (hubcore/events.h): the handlers of the
	 * events it receives, or NULL for a hub that takes no part. Such a
	 * hub's --config file is its hub configuration (docs/events.md). */
	const struct hc_event_def *events;
};

struct hc_hub_config {
	const char *db_url;   /* NULL = def->default_db */
	const char *listen;   /* NULL = def->default_listen */
	size_t max_body;      /* 0 = 1 MiB */
	unsigned threads;     /* 0 = default */
	enum hc_log_level log_level;
	/* The hub's own configuration file (--config), or NULL. */
	const char *config_path;
	/* The directory of policy documents served at /policy, or NULL for
	 * none; PUT /policy/... writes there only when policy_writable. */
	const char *policy_dir;
	bool policy_writable;
};

struct hc_hub {
	const struct hc_hub_def *def;
	struct hc_hub_config config;
	struct hc_store *store;
	struct hc_log log;
	char *version;
	/* The hub's MCP server, when it serves /mcp (see hubcore/mcp.h). */
	struct hc_mcp_server *mcp;
	/* Identity checks (see hubcore/auth.h), or NULL when the hub runs
	 * without them (--no-auth). */
	struct hc_auth *auth;
	/* The watch over the database, started by the first hc_hub_watch. */
	struct hc_watch *watch;
	pthread_mutex_t watch_lock;
	/* Events between hubs: configuration and forwarder, or NULL. */
	struct hc_events *events;
	/* The live pages' streams (hubcore/view.h), started by the first
	 * one; view_stopped once hc_view_shutdown ran. */
	struct hc_view_live *view;
	pthread_mutex_t view_lock;
	bool view_stopped;
	/* Hub-specific running state, owned by the def's start / stop. */
	void *ext;
	bool started;
};

/*
 * Run the hub's start hook (a serving process does this; one-shot commands
 * such as an import do not), after reading its events configuration when
 * it takes part in events. hc_hub_close runs the stop hook of a started
 * hub. hc_hub_reload re-reads the events configuration and runs the reload
 * hook (HC_OK without one).
 */
int hc_hub_start(struct hc_hub *hub, struct hc_err *err);
int hc_hub_reload(struct hc_hub *hub, struct hc_err *err);

/* The hub's watch over committed changes (hubcore/watch.h), started on
 * first use and stopped by hc_hub_close. */
struct hc_watch *hc_hub_watch(struct hc_hub *hub, struct hc_err *err);

/*
 * Open a hub: open its store, apply pending migrations, set up logging.
 * Nothing is served yet (see hc_server_start).
 */
int hc_hub_open(struct hc_hub **out, const struct hc_hub_def *def,
		const struct hc_hub_config *cfg, struct hc_err *err);
void hc_hub_close(struct hc_hub *hub);

/* Find one of the hub's resources by plural or singular name. */
const struct hc_resource *hc_hub_resource(const struct hc_hub *hub,
					  const char *name);

/* The version string of hub-core (and of the foshub binary). */
const char *hc_version(void);

/* ---- hub-core resources ----------------------------------------------- */

extern const struct hc_resource hc_domain_resource;
extern const struct hc_resource hc_repo_resource;
extern const struct hc_resource hc_message_resource;
extern const struct hc_resource hc_progress_resource;

/* The canonical FOS §10 progress event types. */
extern const char *const hc_risk_event_types[];  /* NULL-terminated */
extern const char *const hc_alert_event_types[]; /* NULL-terminated */

/* hub-core's schema ("core") and routes, for hub definitions. */
extern const struct hc_migration_set hc_core_migrations;
extern const struct hc_route_table hc_core_routes;
/* GET /openapi.json: the hub's OpenAPI document, from its route tables
 * (in hc_core_routes and hc_health_routes). */
hc_handler_fn hc_get_openapi;
/* Only /, /healthz, /readyz and reading progress events (with the alert
 * view), for a hub that serves none of the other shared resources. */
extern const struct hc_route_table hc_health_routes;

/* ---- hub-core services (REST and MCP both call these) ----------------- */

/*
 * The orientation summary of a domain: the domain, unread messages, the
 * latest open risks and alerts, and every part the hub contributes.
 */
int hc_domain_summary(struct hc_hub *hub, struct hc_conn *c,
		      const char *domain_key, json_t **out,
		      struct hc_err *err);

/*
 * Every domain of the hub with the counts of its summary: where to start
 * when the domain is not known yet.
 */
int hc_state_summary(struct hc_hub *hub, struct hc_conn *c, json_t **out,
		     struct hc_err *err);

/* Mark a message read (idempotent); returns the message. */
int hc_message_mark_read(struct hc_conn *c, const char *id, json_t **out,
			 struct hc_err *err);

/* Reply to a message: the reply goes to the sender, in the same thread. */
int hc_message_reply(struct hc_conn *c, const char *id, json_t *in,
		     json_t **out, struct hc_err *err);

/*
 * The definition of integration of one repo, or of every repo (of a
 * domain, when domain is not NULL), through the hub's evaluator; HC_EBADREQ
 * saying so when the hub has none (never a pretended pass).
 */
int hc_doi_check(struct hc_hub *hub, struct hc_conn *c, const char *repo,
		 bool refresh, json_t **out, struct hc_err *err);
int hc_doi_summary(struct hc_hub *hub, struct hc_conn *c, const char *domain,
		   bool refresh, json_t **out, struct hc_err *err);

/*
 * Risks or alerts (FOS §10) as progress events; open_only keeps those whose
 * latest event (by correlation_id) leaves them open.
 */
int hc_progress_view(struct hc_conn *c, const char *const *types,
		     bool open_only, const struct hc_list_query *q,
		     json_t **out, struct hc_err *err);

#endif
