/*
 * routes.c - hub-core's schema and REST surface, shared by every hub:
 * health, domains (with their summary), repos, messages and progress
 * events with the FOS §10 risk and alert views.
 */
#include <string.h>

#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/rest.h"

/* ---- handlers ----------------------------------------------------------- */

static int get_root(struct hc_req *req, struct hc_resp *resp,
		    struct hc_err *err)
{
	const struct hc_hub_def *def = req->hub->def;
	json_t *res = json_object(), *list = json_array();
	if (!res || !list) {
		json_decref(res);
		json_decref(list);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	hc_json_set_str(res, "name", def->name);
	hc_json_set_str(res, "description", def->description);
	hc_json_set_str(res, "version", hc_version());
	for (size_t i = 0; i < def->nresources; i++)
		json_array_append_new(list,
				      json_sprintf("/%s",
						   def->resources[i]->plural));
	json_object_set_new(res, "resources", list);
	return hc_resp_json(resp, 200, res);
}

static int get_healthz(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err)
{
	return hc_resp_json(resp, 200, json_pack("{ss}", "status", "ok"));
}

/* Ready when the database answers and its schema is migrated. */
static int get_readyz(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	struct hc_conn *c = hc_req_db(req, err);
	int64_t n = 0;
	int rc;
	if (!c) {
		err->status = HC_EBUSY;
		return hc_err_prefix(err, "database not available");
	}
	rc = hc_query_int(c, &n, "SELECT count(*) FROM schema_migrations",
			  NULL, 0, err);
	if (rc != HC_OK) {
		err->status = HC_EBUSY;
		return hc_err_prefix(err, "database not ready");
	}
	return hc_resp_json(resp, 200,
			    json_pack("{sssI}", "status", "ready",
				      "migrations", (json_int_t)n));
}

static int get_summary(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err)
{
	struct hc_conn *c = hc_req_db(req, err);
	json_t *out = NULL;
	int rc;
	if (!c)
		return err->status;
	rc = hc_domain_summary(req->hub, c, hc_req_param(req, "key"), &out,
			       err);
	if (rc != HC_OK)
		return rc;
	return hc_resp_json(resp, 200, out);
}

static int post_message_read(struct hc_req *req, struct hc_resp *resp,
			     struct hc_err *err)
{
	struct hc_conn *c = hc_req_db(req, err);
	json_t *out = NULL;
	int rc;
	if (!c)
		return err->status;
	rc = hc_message_mark_read(c, hc_req_param(req, "key"), &out, err);
	if (rc != HC_OK)
		return rc;
	return hc_resp_json(resp, 200, out);
}

static int post_message_reply(struct hc_req *req, struct hc_resp *resp,
			      struct hc_err *err)
{
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? hc_message_reply(c, hc_req_param(req, "key"), in, &out, err)
	       : err->status;
	json_decref(in);
	if (rc != HC_OK)
		return rc;
	return hc_rest_created(resp, &hc_message_resource, out);
}

/* GET /progress/risks and /progress/alerts: the filters of progress
 * events plus open=true|false (default false: every event of the kind). */
static int get_progress_view(struct hc_req *req, struct hc_resp *resp,
			     struct hc_err *err)
{
	static const char *const extra[] = { "open", NULL };
	const char *const *types = req->route->arg;
	const char *open = hc_req_arg(req, "open");
	struct hc_list_query q;
	struct hc_conn *c;
	json_t *out = NULL;
	int rc;

	if (open && strcmp(open, "true") != 0 && strcmp(open, "false") != 0)
		return hc_err_field(err, HC_EPARAM, "open",
				    "parameter 'open' must be true or false");
	rc = hc_rest_list_query(req, &hc_progress_resource, extra, &q, err);
	if (rc != HC_OK)
		return rc;
	if (!(c = hc_req_db(req, err)))
		return err->status;
	rc = hc_progress_view(c, types, open && strcmp(open, "true") == 0, &q,
			      &out, err);
	if (rc != HC_OK)
		return rc;
	return hc_resp_json(resp, 200, out);
}

/* ---- tables ------------------------------------------------------------- */

static const struct hc_route core_routes[] = {
	{ "GET", "/", get_root, NULL, HC_SCOPE_PUBLIC, HC_ROUTE_READONLY,
	  "Name, version and resources of this hub" },
	{ "GET", "/healthz", get_healthz, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY, "Liveness: the process answers" },
	{ "GET", "/readyz", get_readyz, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY, "Readiness: the database answers" },

	HC_ROUTES_CRUD(hc_domain_resource, "domains", "domains"),
	{ "GET", "/domains/{key}/summary", get_summary, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY,
	  "Orientation summary of a domain: work, messages, risks, alerts" },

	HC_ROUTES_CRUD(hc_repo_resource, "repos", "managed repositories"),

	HC_ROUTES_READ(hc_message_resource, "messages", "agent messages"),
	{ "POST", "/messages", hc_rest_create, &hc_message_resource,
	  HC_SCOPE_WRITE, 0, "Send a message to an agent or a domain" },
	{ "POST", "/messages/{key}/read", post_message_read, NULL,
	  HC_SCOPE_WRITE, 0, "Mark a message read" },
	{ "POST", "/messages/{key}/reply", post_message_reply, NULL,
	  HC_SCOPE_WRITE, 0, "Reply to the sender, in the same thread" },

	/* The views come before /progress/{key}, which would match them. */
	{ "GET", "/progress/risks", get_progress_view, hc_risk_event_types,
	  HC_SCOPE_READ, HC_ROUTE_READONLY,
	  "FOS §10 risk events (open=true: only open risks)" },
	{ "GET", "/progress/alerts", get_progress_view, hc_alert_event_types,
	  HC_SCOPE_READ, HC_ROUTE_READONLY,
	  "FOS §10 alert events (open=true: only open alerts)" },
	HC_ROUTES_READ(hc_progress_resource, "progress", "progress events"),
	{ "POST", "/progress", hc_rest_create, &hc_progress_resource,
	  HC_SCOPE_WRITE, 0, "Record a progress event" },
};

const struct hc_route_table hc_core_routes = HC_ROUTE_TABLE(core_routes);

static const struct hc_resource *const core_v1[] = {
	&hc_domain_resource, &hc_repo_resource, &hc_message_resource,
	&hc_progress_resource, NULL
};

static const struct hc_migration core_steps[] = {
	{ .version = 1, .name = "domains, repos, messages, progress events",
	  .resources = core_v1 },
};

const struct hc_migration_set hc_core_migrations = {
	.component = "core",
	.steps = core_steps,
	.count = HC_COUNT(core_steps),
};
