/*
 * routes.c - hub-core's schema and REST surface, shared by every hub:
 * health, domains (with their summary), repos, messages and progress
 * events with the FOS §10 risk and alert views, the capability catalog
 * and capability requests, the third-party service catalog with its GDPR
 * report, and the policy documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hubcore/capabilities.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/policy.h"
#include "hubcore/rest.h"
#include "hubcore/resources/resource_internal.h"
#include "hubcore/tpsc.h"

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

/* ---- capability requests ---------------------------------------------- */

static int post_capreq(struct hc_req *req, struct hc_resp *resp,
		       struct hc_err *err)
{
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? hc_capreq_create(c, in, &out, err) : err->status;
	json_decref(in);
	if (rc != HC_OK)
		return rc;
	return hc_rest_created(resp, &hc_capreq_resource, out);
}

/* POST /capability-requests/{key}/transition and .../reroute: the route's
 * arg is the service function taking the JSON body. */
typedef int capreq_move_fn(struct hc_conn *c, const char *id, json_t *in,
			   json_t **out, struct hc_err *err);

static int post_capreq_move(struct hc_req *req, struct hc_resp *resp,
			    struct hc_err *err)
{
	capreq_move_fn *fn = *(capreq_move_fn *const *)req->route->arg;
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? fn(c, hc_req_param(req, "key"), in, &out, err) : err->status;
	json_decref(in);
	if (rc != HC_OK)
		return rc;
	return hc_resp_json(resp, 200, out);
}

static capreq_move_fn *const transition_fn = hc_capreq_transition_json;
static capreq_move_fn *const reroute_fn = hc_capreq_reroute_json;

/* ---- TPSC and GDPR ------------------------------------------------------ */

/* POST /tpsc/ingest: 201 with Location when the service is new, 200
 * otherwise; {"created", "changed", "item"}. */
static int post_tpsc_ingest(struct hc_req *req, struct hc_resp *resp,
			    struct hc_err *err)
{
	json_t *in = NULL, *row = NULL, *res;
	bool created = false, changed = false;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? hc_tpsc_ingest(c, in, &created, &changed, &row, err)
	       : err->status;
	json_decref(in);
	if (rc != HC_OK)
		return rc;
	if (created) {
		char loc[512];
		snprintf(loc, sizeof(loc), "/%s/%s",
			 hc_tpsc_service_resource.plural,
			 hc_json_str(row, "id"));
		hc_resp_header(resp, "Location", loc);
	}
	res = json_pack("{sbsbso}", "created", created, "changed", changed,
			"item", row);
	return hc_resp_json(resp, created ? 201 : 200, res);
}

/* GET /gdpr/report[?domain=slug] and GET /domains/{key}/gdpr */
static int get_gdpr(struct hc_req *req, struct hc_resp *resp,
		    struct hc_err *err)
{
	static const char *const allowed[] = { "domain", NULL };
	const char *domain = hc_req_param(req, "key");
	struct hc_conn *c;
	json_t *out = NULL;
	int rc = hc_req_only_args(req, domain ? NULL : allowed, err);
	if (rc != HC_OK)
		return rc;
	if (!domain)
		domain = hc_req_arg(req, "domain");
	if (domain && !*domain)
		return hc_err_field(err, HC_EPARAM, "domain",
				    "parameter 'domain' must not be empty");
	if (!(c = hc_req_db(req, err)))
		return err->status;
	rc = hc_gdpr_report(c, domain, &out, err);
	if (rc != HC_OK)
		return rc;
	return hc_resp_json(resp, 200, out);
}

/* ---- definition of integration ------------------------------------------ */

/* GET /repos/{key}/doi and GET /doi/summary[?domain=], both ?refresh=. */
static int get_doi(struct hc_req *req, struct hc_resp *resp,
		   struct hc_err *err)
{
	static const char *const all[] = { "refresh", "domain", NULL };
	static const char *const one[] = { "refresh", NULL };
	const char *repo = hc_req_param(req, "key");
	const char *refresh = hc_req_arg(req, "refresh");
	struct hc_conn *c;
	json_t *out = NULL;
	int rc = hc_req_only_args(req, repo ? one : all, err);
	if (rc != HC_OK)
		return rc;
	if (refresh && strcmp(refresh, "true") != 0 &&
	    strcmp(refresh, "false") != 0)
		return hc_err_field(err, HC_EPARAM, "refresh",
				    "parameter 'refresh' must be true or "
				    "false");
	if (!(c = hc_req_db(req, err)))
		return err->status;
	if (repo)
		rc = hc_doi_check(req->hub, c, repo,
				  refresh && strcmp(refresh, "true") == 0,
				  &out, err);
	else
		rc = hc_doi_summary(req->hub, c, hc_req_arg(req, "domain"),
				    refresh && strcmp(refresh, "true") == 0,
				    &out, err);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* ---- policy documents --------------------------------------------------- */

static int get_policy_list(struct hc_req *req, struct hc_resp *resp,
			   struct hc_err *err)
{
	json_t *out = NULL;
	int rc = hc_req_only_args(req, NULL, err);
	if (rc == HC_OK)
		rc = hc_policy_list(req->hub, &out, err);
	if (rc != HC_OK)
		return rc;
	return hc_resp_json(resp, 200, out);
}

/* The file as it is, or {"path", "content", ...} when the client asks
 * for JSON. */
static int get_policy_file(struct hc_req *req, struct hc_resp *resp,
			   struct hc_err *err)
{
	const char *path = hc_req_param(req, "path");
	const char *accept = hc_req_header(req, "Accept");
	const char *type = NULL;
	json_t *out = NULL;
	int rc = hc_req_only_args(req, NULL, err);
	if (rc != HC_OK)
		return rc;
	if (accept && strcasestr(accept, "application/json")) {
		rc = hc_policy_get(req->hub, path, &out, err);
		return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
	}
	rc = hc_policy_read(req->hub, path, &resp->body, &resp->body_len,
			    &type, err);
	if (rc != HC_OK)
		return rc;
	resp->status = 200;
	resp->content_type = type;
	return HC_OK;
}

/* Is ct a JSON media type (application/json or application/...+json)? */
static bool json_media(const char *ct)
{
	size_t n = ct ? strcspn(ct, "; \t") : 0;
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	       (n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
		strncasecmp(ct + n - 5, "+json", 5) == 0);
}

/* A policy file arrives as text (any text/ type, octet-stream, no type,
 * or curl's default for --data-binary, x-www-form-urlencoded, taken as
 * the bytes sent) or as JSON {"content": "..."}. */
static int policy_body(const struct hc_req *req, json_t **holder,
		       const char **content, size_t *len, struct hc_err *err)
{
	const char *ct = req->content_type;
	json_t *in = NULL, *v;
	const char *key;
	int rc;

	*holder = NULL;
	if (!json_media(ct)) {
		if (ct && strncasecmp(ct, "text/", 5) != 0 &&
		    strncasecmp(ct, "application/octet-stream", 24) != 0 &&
		    strncasecmp(ct, "application/x-www-form-urlencoded",
				33) != 0)
			return hc_err_set(err, HC_EMEDIA,
					  "content type '%s' is not supported; "
					  "send the file as text/markdown or "
					  "text/plain, or JSON {\"content\": "
					  "\"...\"}",
					  ct);
		*content = req->body ? req->body : "";
		*len = req->body_len;
		return HC_OK;
	}
	rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	json_object_foreach(in, key, v)
		if (strcmp(key, "content") != 0) {
			rc = hc_err_field(err, HC_EINVAL, key,
					  "unknown field '%s'; send "
					  "{\"content\": \"...\"}",
					  key);
			json_decref(in);
			return rc;
		}
	v = json_object_get(in, "content");
	if (!json_is_string(v)) {
		json_decref(in);
		return hc_err_field(err, HC_EINVAL, "content",
				    "field 'content' is required and must be "
				    "a string");
	}
	*content = json_string_value(v);
	*len = json_string_length(v);
	*holder = in;
	return HC_OK;
}

static int put_policy_file(struct hc_req *req, struct hc_resp *resp,
			   struct hc_err *err)
{
	const char *path = hc_req_param(req, "path");
	const char *content = NULL;
	json_t *holder = NULL, *out = NULL;
	bool created = false;
	size_t len = 0;
	int rc = hc_req_only_args(req, NULL, err);
	if (rc == HC_OK)
		rc = policy_body(req, &holder, &content, &len, err);
	if (rc == HC_OK)
		rc = hc_policy_write(req->hub, path, content, len, &created,
				     &out, err);
	json_decref(holder);
	if (rc == HC_EMETHOD)
		hc_resp_header(resp, "Allow", "GET, HEAD");
	if (rc != HC_OK)
		return rc;
	if (created) {
		char loc[1100];
		snprintf(loc, sizeof(loc), "/policy/%s", path);
		hc_resp_header(resp, "Location", loc);
	}
	return hc_resp_json(resp, created ? 201 : 200, out);
}

/* ---- tables ------------------------------------------------------------- */

static const struct hc_route core_routes[] = {
	{ "GET", "/", get_root, NULL, HC_SCOPE_PUBLIC, HC_ROUTE_READONLY,
	  "Name, version and resources of this hub" },
	{ "GET", "/healthz", get_healthz, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY, "Liveness: the process answers" },
	{ "GET", "/readyz", get_readyz, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY, "Readiness: the database answers" },
	{ "GET", "/openapi.json", hc_get_openapi, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY,
	  "This hub's OpenAPI 3.1 document, made from its route tables" },

	HC_ROUTES_CRUD(hc_domain_resource, "domains", "domains"),
	{ "GET", "/domains/{key}/summary", get_summary, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY,
	  "Orientation summary of a domain: work, messages, risks, alerts" },
	{ "GET", "/domains/{key}/gdpr", get_gdpr, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY,
	  "GDPR report of a domain's third-party services" },

	HC_ROUTES_CRUD(hc_repo_resource, "repos", "managed repositories"),
	{ "GET", "/repos/{key}/doi", get_doi, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY,
	  "A repo checked against the definition of integration" },
	{ "GET", "/doi/summary", get_doi, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY,
	  "Definition-of-integration results of every repo" },

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

	HC_ROUTES_CRUD(hc_capability_resource, "capabilities",
		       "capabilities domains offer"),
	HC_ROUTES_READ(hc_capreq_resource, "capability-requests",
		       "capability requests"),
	{ "POST", "/capability-requests", post_capreq, NULL, HC_SCOPE_WRITE,
	  0, "Request a capability of another domain" },
	{ "PATCH", "/capability-requests/{key}", hc_rest_update,
	  &hc_capreq_resource, HC_SCOPE_WRITE, 0,
	  "Update a request's title, description or contexts" },
	{ "POST", "/capability-requests/{key}/transition", post_capreq_move,
	  &transition_fn, HC_SCOPE_WRITE, 0,
	  "Move a capability request to another status" },
	{ "POST", "/capability-requests/{key}/reroute", post_capreq_move,
	  &reroute_fn, HC_SCOPE_WRITE, 0,
	  "Give a capability request to another providing domain" },
	HC_ROUTES_READ(hc_capreq_transition_resource,
		       "capability-request-transitions",
		       "capability request transitions"),

	HC_ROUTES_CRUD(hc_tpsc_service_resource, "tpsc/services",
		       "third-party services (TPSC)"),
	{ "POST", "/tpsc/ingest", post_tpsc_ingest, NULL, HC_SCOPE_WRITE, 0,
	  "Insert or update a third-party service by domain, vendor and "
	  "service" },
	{ "GET", "/gdpr/report", get_gdpr, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY,
	  "GDPR report of every domain's third-party services" },

	{ "GET", "/policy", get_policy_list, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY, "List the policy documents" },
	{ "GET", "/policy/{path...}", get_policy_file, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY, "Read a policy document (text, or JSON on "
			     "Accept: application/json)" },
	{ "PUT", "/policy/{path...}", put_policy_file, NULL, HC_SCOPE_WRITE,
	  HC_ROUTE_RAW_BODY,
	  "Write a policy document (hubs started with --policy-writable)" },
};

const struct hc_route_table hc_core_routes = HC_ROUTE_TABLE(core_routes);

/* The same three for a hub that serves none of the shared resources. */
static const struct hc_route health_routes[] = {
	{ "GET", "/", get_root, NULL, HC_SCOPE_PUBLIC, HC_ROUTE_READONLY,
	  "Name, version and resources of this hub" },
	{ "GET", "/healthz", get_healthz, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY, "Liveness: the process answers" },
	{ "GET", "/readyz", get_readyz, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY, "Readiness: the database answers" },
	{ "GET", "/openapi.json", hc_get_openapi, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY,
	  "This hub's OpenAPI 3.1 document, made from its route tables" },
	{ "GET", "/progress/alerts", get_progress_view, hc_alert_event_types,
	  HC_SCOPE_READ, HC_ROUTE_READONLY,
	  "FOS §10 alert events (open=true: only open alerts)" },
	HC_ROUTES_READ(hc_progress_resource, "progress", "progress events"),
};

const struct hc_route_table hc_health_routes = HC_ROUTE_TABLE(health_routes);

static const struct hc_resource *const core_v1[] = {
	&hc_domain_resource, &hc_repo_resource, &hc_message_resource,
	&hc_progress_resource, NULL
};

static const struct hc_resource *const core_v2[] = {
	&hc_capability_resource, &hc_capreq_resource,
	&hc_capreq_transition_resource, &hc_tpsc_service_resource, NULL
};

static const struct hc_migration core_steps[] = {
	{ .version = 1, .name = "domains, repos, messages, progress events",
	  .resources = core_v1 },
	{ .version = 2,
	  .name = "capabilities, capability requests and their transitions, "
		  "third-party services",
	  .resources = core_v2 },
	{ .version = 3, .name = "the open risks and alerts, kept as events arrive",
	  .fn = hc__progress_open_schema },
};

const struct hc_migration_set hc_core_migrations = {
	.component = "core",
	.steps = core_steps,
	.count = HC_COUNT(core_steps),
};
