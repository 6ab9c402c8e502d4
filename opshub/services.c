/*
 * services.c - locations (clusters, hosts, sites), services with their
 * probes and derived health, the history of probe results, maintenance
 * windows; registering a service, its health view, probing now and push
 * reports.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opshub/internal.h"

/* ---- shared helpers ----------------------------------------------------------- */

int oh_name_make_id(struct hc_conn *c, const struct hc_resource *r,
		    const json_t *obj, char *out, size_t out_size,
		    struct hc_err *err)
{
	const char *name = oh_str(obj, "name");
	if (!name)
		return hc_err_field(err, HC_EINVAL, "name",
				    "missing required field 'name'");
	snprintf(out, out_size, "%s", name);
	return HC_OK;
}

int oh_name_check_id(const json_t *obj, struct hc_err *err)
{
	const char *id = oh_str(obj, "id"), *name = oh_str(obj, "name");
	if (id && name && strcmp(id, name) != 0)
		return hc_err_field(err, HC_EINVAL, "id",
				    "field 'id' must equal the name '%s'",
				    name);
	return HC_OK;
}

int oh_check_list(const json_t *obj, const char *field, const char *key,
		  size_t max_items, struct hc_err *err)
{
	json_t *list = json_object_get(obj, field), *v;
	size_t i;
	if (!list || json_is_null(list))
		return HC_OK;
	if (json_array_size(list) > max_items)
		return hc_err_field(err, HC_EINVAL, field,
				    "field '%s' has more than %zu items", field,
				    max_items);
	json_array_foreach(list, i, v)
	{
		bool ok = (json_is_string(v) && json_string_length(v) > 0) ||
			  (json_is_object(v) && key &&
			   json_is_string(json_object_get(v, key)));
		if (!ok)
			return hc_err_field(err, HC_EINVAL, field,
					    "field '%s': item %zu must be a "
					    "string%s%s%s",
					    field, i, key ? " or an object with "
							    "a string '"
							  : "",
					    key ? key : "", key ? "'" : "");
	}
	return HC_OK;
}

static int int_range(const json_t *obj, const char *field, int64_t lo,
		     int64_t hi, struct hc_err *err)
{
	json_t *v = json_object_get(obj, field);
	if (!v || json_is_null(v))
		return HC_OK;
	if (json_integer_value(v) < lo || json_integer_value(v) > hi)
		return hc_err_field(err, HC_EINVAL, field,
				    "field '%s' must be from %lld to %lld",
				    field, (long long)lo, (long long)hi);
	return HC_OK;
}

/* ---- locations ------------------------------------------------------------------ */

static const char *const location_kinds[] = { "cluster", "host", "site",
					      "cloud",	 "network", "other",
					      NULL };

static int location_prepare(struct hc_conn *c, const struct hc_resource *r,
			    enum hc_write_mode mode, json_t *obj,
			    const json_t *old, struct hc_err *err)
{
	const char *api = oh_str(obj, "api_server");
	int rc = oh_name_check_id(obj, err);
	if (rc == HC_OK && api && strncmp(api, "https://", 8) != 0 &&
	    strncmp(api, "http://", 7) != 0)
		rc = hc_err_field(err, HC_EINVAL, "api_server",
				  "field 'api_server' must be an http(s) URL");
	if (rc == HC_OK)
		rc = oh_check_list(obj, "evidence", "url", 100, err);
	return rc;
}

static const struct hc_field location_fields[] = {
	{ .name = "name", .type = HC_FT_NAME,
	  .flags = HC_F_REQUIRED | HC_F_UNIQUE | HC_F_IMMUTABLE, .max_len = 64,
	  .doc = "The location's name, also its id (e.g. k3s-prod)." },
	{ .name = "kind", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = location_kinds,
	  .default_value = "host",
	  .doc = "cluster, host, site, cloud, network or other." },
	{ .name = "description", .type = HC_FT_TEXT, .max_len = 4096,
	  .doc = "What and where it is." },
	{ .name = "address", .type = HC_FT_STRING, .max_len = 255,
	  .doc = "Host name or address, for hosts." },
	{ .name = "api_server", .type = HC_FT_STRING, .max_len = 500,
	  .doc = "Clusters: the Kubernetes API server URL." },
	{ .name = "token_file", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "Clusters: a file holding the bearer token." },
	{ .name = "ca_file", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "Clusters: the CA certificate file of the API server." },
	{ .name = "kubeconfig", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "Clusters: a kubeconfig file to take server, token and CA "
		 "from instead." },
	{ .name = "context", .type = HC_FT_STRING, .max_len = 200,
	  .doc = "Clusters: the kubeconfig context (default: its current)." },
	{ .name = "in_cluster", .type = HC_FT_BOOL, .default_value = "false",
	  .doc = "Clusters: use the service account of the pod ops-hub runs "
		 "in." },
	{ .name = "evidence", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .default_value = "[]",
	  .doc = "Links to what documents it: URLs or {title, url}." },
};

const struct hc_resource oh_location_resource = {
	.name = "location",
	.plural = "locations",
	.table = "locations",
	.doc = "Where services run: a cluster, host, site or cloud account.",
	.id_policy = HC_ID_HOOK,
	.fields = location_fields,
	.nfields = HC_COUNT(location_fields),
	.hooks = { .prepare = location_prepare,
		   .make_id = oh_name_make_id },
};

/* ---- services ------------------------------------------------------------------- */

static const char *const lifecycles[] = { "experimental", "production",
					  "deprecated", "retired", NULL };
static const char *const colors[] = { "green", "amber", "red", NULL };
static const char *const states[] = { "unknown", "up", "pending", "down",
				      NULL };

/* Would name depending on parent close a cycle? */
static int depends_cycle(struct hc_conn *c, const char *name,
			 const char *parent, int depth, bool *cycle,
			 struct hc_err *err)
{
	json_t *row = NULL, *d;
	struct hc_err e2 = { 0 };
	size_t i;
	int rc;
	if (strcmp(name, parent) == 0) {
		*cycle = true;
		return HC_OK;
	}
	if (depth > 32)
		return HC_OK;
	rc = hc_res_get_plain(c, &oh_service_resource, parent, &row, &e2);
	if (rc == HC_ENOTFOUND)
		return HC_OK;
	if (rc != HC_OK) {
		*err = e2;
		return rc;
	}
	json_array_foreach(json_object_get(row, "depends_on"), i, d)
	{
		rc = depends_cycle(c, name, json_string_value(d), depth + 1,
				   cycle, err);
		if (rc != HC_OK || *cycle)
			break;
	}
	json_decref(row);
	return rc;
}

static bool cluster_kind(const char *kind)
{
	return kind && (strcmp(kind, "kubernetes") == 0 ||
			strcmp(kind, "longhorn") == 0 ||
			strcmp(kind, "cert-manager") == 0);
}

static int service_prepare(struct hc_conn *c, const struct hc_resource *r,
			   enum hc_write_mode mode, json_t *obj,
			   const json_t *old, struct hc_err *err)
{
	const char *name = oh_str(obj, "name");
	json_t *deps = json_object_get(obj, "depends_on"), *d;
	json_t *probes = json_object_get(obj, "probes"), *p;
	size_t i, pushes = 0;
	int rc = oh_name_check_id(obj, err);

	if (rc == HC_OK)
		rc = int_range(obj, "interval_ms", 50, 86400000, err);
	if (rc == HC_OK)
		rc = int_range(obj, "timeout_ms", 10, 300000, err);
	if (rc == HC_OK)
		rc = int_range(obj, "jitter_ms", 0, 3600000, err);
	if (rc == HC_OK)
		rc = int_range(obj, "failure_threshold", 1, 100, err);
	if (rc == HC_OK)
		rc = int_range(obj, "success_threshold", 1, 100, err);
	if (rc == HC_OK)
		rc = int_range(obj, "history_limit", 1, 10000, err);
	if (rc == HC_OK)
		rc = oh_check_list(obj, "endpoints", "url", 100, err);
	if (rc == HC_OK)
		rc = oh_check_list(obj, "evidence", "url", 100, err);
	if (rc != HC_OK)
		return rc;
	if (json_array_size(deps) > 64)
		return hc_err_field(err, HC_EINVAL, "depends_on",
				    "field 'depends_on' has more than 64 "
				    "services");
	json_array_foreach(deps, i, d)
	{
		json_t *parent = NULL;
		struct hc_err e2 = { 0 };
		bool cycle = false;
		if (!json_is_string(d))
			return hc_err_field(err, HC_EINVAL, "depends_on",
					    "field 'depends_on': item %zu must "
					    "be a service name",
					    i);
		rc = hc_res_get_plain(c, &oh_service_resource,
				      json_string_value(d), &parent, &e2);
		if (rc == HC_ENOTFOUND)
			return hc_err_field(err, HC_EINVAL, "depends_on",
					    "field 'depends_on': no service "
					    "'%s'",
					    json_string_value(d));
		if (rc != HC_OK) {
			*err = e2;
			return rc;
		}
		/* keep the canonical name */
		json_array_set_new(deps, i,
				   json_string(oh_str(parent, "name")));
		json_decref(parent);
		rc = depends_cycle(c, name, json_string_value(
						    json_array_get(deps, i)),
				   0, &cycle, err);
		if (rc != HC_OK)
			return rc;
		if (cycle)
			return hc_err_field(err, HC_EINVAL, "depends_on",
					    "field 'depends_on': depending on "
					    "'%s' would make a cycle",
					    json_string_value(d));
	}
	if (json_array_size(probes) > 16)
		return hc_err_field(err, HC_EINVAL, "probes",
				    "a service has at most 16 probes");
	json_array_foreach(probes, i, p)
	{
		if (json_is_object(p) && cluster_kind(oh_str(p, "kind")) &&
		    !json_object_get(p, "location") &&
		    oh_str(obj, "location"))
			json_object_set_new(
				p, "location",
				json_string(oh_str(obj, "location")));
		rc = oh_probe_check(c, p, i, err);
		if (rc != HC_OK)
			return rc;
		if (strcmp(oh_str(p, "kind"), "push") == 0)
			pushes++;
		for (size_t k = 0; k < i; k++)
			if (strcmp(oh_str(json_array_get(probes, k), "name"),
				   oh_str(p, "name")) == 0)
				return hc_err_field(
					err, HC_EINVAL, "probes",
					"field 'probes': two probes are named "
					"'%s'; give them distinct names",
					oh_str(p, "name"));
	}
	if (pushes && json_array_size(probes) > 1)
		return hc_err_field(err, HC_EINVAL, "probes",
				    "field 'probes': a push probe is the only "
				    "probe of its service");
	return HC_OK;
}

static const struct hc_field service_fields[] = {
	{ .name = "name", .type = HC_FT_NAME,
	  .flags = HC_F_REQUIRED | HC_F_UNIQUE | HC_F_IMMUTABLE, .max_len = 64,
	  .doc = "The service's name, also its id (e.g. longhorn)." },
	{ .name = "namespace", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100,
	  .doc = "Kubernetes namespace or another grouping." },
	{ .name = "kind", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 64, .default_value = "application",
	  .doc = "What it is: application, database, storage, cluster, "
		 "backup, tunnel, ..." },
	{ .name = "owner_domain", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The domain that owns it; its alerts go to that domain." },
	{ .name = "location", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &oh_location_resource, .ref_field = "id",
	  .doc = "Where it runs; cluster probes use this location's API by "
		 "default." },
	{ .name = "lifecycle", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = lifecycles,
	  .default_value = "production",
	  .doc = "experimental, production, deprecated or retired (retired "
		 "services are not probed)." },
	{ .name = "description", .type = HC_FT_TEXT, .max_len = 16384,
	  .doc = "What it does, for people." },
	{ .name = "endpoints", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .default_value = "[]",
	  .doc = "Where it answers: URLs or {name, url}." },
	{ .name = "depends_on", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_ARRAY, .default_value = "[]",
	  .doc = "Names of the services it needs; while one of them fails it "
		 "raises no alert of its own." },
	{ .name = "evidence", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .default_value = "[]",
	  .doc = "Links to what documents it: URLs or {title, url}." },
	{ .name = "probes", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .default_value = "[]",
	  .doc = "How its health is checked: probe objects (see the probe "
		 "kinds)." },
	{ .name = "interval_ms", .type = HC_FT_INT, .default_value = "60000",
	  .doc = "Time between probe rounds, 50 ms to a day." },
	{ .name = "timeout_ms", .type = HC_FT_INT, .default_value = "10000",
	  .doc = "Time limit of each probe." },
	{ .name = "jitter_ms", .type = HC_FT_INT,
	  .doc = "Random delay added to each interval (default a tenth of "
		 "it)." },
	{ .name = "failure_threshold", .type = HC_FT_INT,
	  .default_value = "3",
	  .doc = "Failed rounds in a row before the service is down." },
	{ .name = "success_threshold", .type = HC_FT_INT,
	  .default_value = "2",
	  .doc = "Successful rounds in a row before a down service is up." },
	{ .name = "history_limit", .type = HC_FT_INT, .default_value = "100",
	  .doc = "Probe results kept in its history." },
	{ .name = "health", .type = HC_FT_ENUM,
	  .flags = HC_F_READONLY | HC_F_FILTER,
	  .enum_values = oh_health_values, .default_value = "unknown",
	  .doc = "up, pending (failing, under the threshold), down, "
		 "maintenance or unknown." },
	{ .name = "color", .type = HC_FT_ENUM,
	  .flags = HC_F_READONLY | HC_F_FILTER, .enum_values = colors,
	  .default_value = "amber",
	  .doc = "For people: green (up), amber (pending, maintenance, "
		 "unknown) or red (down)." },
	{ .name = "probe_state", .type = HC_FT_ENUM, .flags = HC_F_READONLY,
	  .enum_values = states, .default_value = "unknown",
	  .doc = "The state machine's state, maintenance aside." },
	{ .name = "consecutive_failures", .type = HC_FT_INT,
	  .flags = HC_F_READONLY, .default_value = "0",
	  .doc = "Failed rounds in a row." },
	{ .name = "consecutive_successes", .type = HC_FT_INT,
	  .flags = HC_F_READONLY, .default_value = "0",
	  .doc = "Successful rounds in a row." },
	{ .name = "blocked_by", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_ARRAY, .flags = HC_F_READONLY,
	  .default_value = "[]",
	  .doc = "The services it depends on that are failing now." },
	{ .name = "alert_open", .type = HC_FT_BOOL, .flags = HC_F_READONLY,
	  .default_value = "false",
	  .doc = "Whether an alert_raised event is not resolved yet." },
	{ .name = "alert_id", .type = HC_FT_STRING, .flags = HC_F_READONLY,
	  .max_len = 200,
	  .doc = "The correlation_id of its latest alert." },
	{ .name = "last_checked", .type = HC_FT_DATETIME,
	  .flags = HC_F_READONLY, .doc = "When the last round ran." },
	{ .name = "last_seen", .type = HC_FT_DATETIME, .flags = HC_F_READONLY,
	  .doc = "When a round last succeeded." },
	{ .name = "health_changed_at", .type = HC_FT_DATETIME,
	  .flags = HC_F_READONLY, .doc = "When its health last changed." },
	{ .name = "last_results", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_OBJECT, .flags = HC_F_READONLY,
	  .default_value = "{}",
	  .doc = "The last result of each probe, by probe name." },
	{ .name = "last_push_at", .type = HC_FT_DATETIME,
	  .flags = HC_F_READONLY,
	  .doc = "Push services: when the job last reported." },
};

const struct hc_resource oh_service_resource = {
	.name = "service",
	.plural = "services",
	.table = "services",
	.doc = "A service that runs somewhere, with its probes and health.",
	.id_policy = HC_ID_HOOK,
	.fields = service_fields,
	.nfields = HC_COUNT(service_fields),
	.hooks = { .prepare = service_prepare, .make_id = oh_name_make_id },
};

/* ---- probe results ------------------------------------------------------------------ */

static const struct hc_field result_fields[] = {
	{ .name = "service", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .ref = &oh_service_resource,
	  .ref_field = "id", .doc = "The service probed." },
	{ .name = "probe", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 64, .doc = "The probe's name." },
	{ .name = "kind", .type = HC_FT_STRING, .max_len = 32,
	  .doc = "The probe's kind." },
	{ .name = "ok", .type = HC_FT_BOOL, .flags = HC_F_FILTER,
	  .doc = "Whether every condition held." },
	{ .name = "duration_ms", .type = HC_FT_INT,
	  .doc = "How long the probe took." },
	{ .name = "message", .type = HC_FT_STRING, .max_len = 500,
	  .doc = "What was found, or what failed." },
	{ .name = "values", .type = HC_FT_JSON, .json_kind = HC_JSON_OBJECT,
	  .default_value = "{}",
	  .doc = "Details: status, certificate expiry, cluster problems..." },
	{ .name = "checked_at", .type = HC_FT_DATETIME,
	  .doc = "When it ran." },
};

const struct hc_resource oh_probe_result_resource = {
	.name = "probe result",
	.plural = "probe-results",
	.table = "probe_results",
	.doc = "The history of probe results, newest first, trimmed to each "
	       "service's history_limit.",
	.id_policy = HC_ID_UUID,
	.fields = result_fields,
	.nfields = HC_COUNT(result_fields),
	.newest_first = true,
};

/* ---- maintenance windows ---------------------------------------------------------------- */

/* Store times in hub-core's UTC form, so that windows compare as text. */
static int utc_field(json_t *obj, const char *field, int64_t *ms,
		     struct hc_err *err)
{
	char buf[HC_TIME_LEN + 1];
	if (!oh_time_parse(oh_str(obj, field), ms))
		return hc_err_field(err, HC_EINVAL, field,
				    "field '%s' must be an RFC 3339 date-time",
				    field);
	oh_time_format(*ms, buf);
	json_object_set_new(obj, field, json_string(buf));
	return HC_OK;
}

static int maintenance_prepare(struct hc_conn *c, const struct hc_resource *r,
			       enum hc_write_mode mode, json_t *obj,
			       const json_t *old, struct hc_err *err)
{
	int64_t a = 0, b = 0;
	int rc = utc_field(obj, "starts_at", &a, err);
	if (rc == HC_OK)
		rc = utc_field(obj, "ends_at", &b, err);
	if (rc == HC_OK && b <= a)
		rc = hc_err_field(err, HC_EINVAL, "ends_at",
				  "field 'ends_at' must be after 'starts_at'");
	return rc;
}

static const struct hc_field maintenance_fields[] = {
	{ .name = "service", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .ref = &oh_service_resource, .ref_field = "id",
	  .doc = "The service under maintenance." },
	{ .name = "starts_at", .type = HC_FT_DATETIME, .flags = HC_F_REQUIRED,
	  .doc = "When the window opens." },
	{ .name = "ends_at", .type = HC_FT_DATETIME, .flags = HC_F_REQUIRED,
	  .doc = "When it closes (set it to now to end a window early)." },
	{ .name = "reason", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "Why." },
	{ .name = "created_by", .type = HC_FT_STRING, .max_len = 100,
	  .doc = "Who planned it." },
};

const struct hc_resource oh_maintenance_resource = {
	.name = "maintenance window",
	.plural = "maintenance-windows",
	.table = "maintenance_windows",
	.doc = "A time when a service is under maintenance: probes keep "
	       "running, alerts are held.",
	.id_policy = HC_ID_UUID,
	.fields = maintenance_fields,
	.nfields = HC_COUNT(maintenance_fields),
	.hooks = { .prepare = maintenance_prepare },
};

int oh_maintenance_write(struct hc_conn *c, const char *key, json_t *in,
			 json_t **out, struct hc_err *err)
{
	int rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	rc = key ? hc_res_update(c, &oh_maintenance_resource, key, in, out,
				 err)
		 : hc_res_create(c, &oh_maintenance_resource, in, out, err);
	if (rc == HC_OK)
		rc = oh_service_record(c, oh_str(*out, "service"), NULL, NULL,
				       err);
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	if (rc != HC_OK) {
		hc_tx_rollback(c);
		if (*out) {
			json_decref(*out);
			*out = NULL;
		}
	}
	return rc;
}

/* ---- service functions ---------------------------------------------------------------- */

int oh_ensure_domain(struct hc_conn *c, const char *slug, struct hc_err *err)
{
	json_t *row = NULL, *in;
	struct hc_err e2 = { 0 };
	int rc = hc_res_get_plain(c, &hc_domain_resource, slug, &row, &e2);
	if (rc == HC_OK) {
		json_decref(row);
		return HC_OK;
	}
	if (rc != HC_ENOTFOUND) {
		*err = e2;
		return rc;
	}
	in = json_pack("{ssss}", "name", slug, "slug", slug);
	rc = hc_res_create(c, &hc_domain_resource, in, &row, err);
	json_decref(in);
	json_decref(row);
	return rc;
}

int oh_service_register(struct hc_conn *c, json_t *in, bool *created,
			bool *changed, json_t **out, struct hc_err *err)
{
	const char *name = oh_str(in, "name");
	if (!json_is_object(in))
		return hc_err_set(err, HC_EINVAL,
				  "a service must be a JSON object");
	if (!name)
		return hc_err_field(err, HC_EINVAL, "name",
				    "missing required field 'name'");
	if (!json_object_get(in, "id"))
		json_object_set_new(in, "id", json_string(name));
	return hc_res_upsert(c, &oh_service_resource, in, created, changed,
			     out, err);
}

int oh_service_health(struct hc_conn *c, const char *service, json_t **out,
		      struct hc_err *err)
{
	json_t *svc = NULL, *hist = NULL, *windows = NULL;
	struct hc_list_query q = { .limit = 20 };
	char now[HC_TIME_LEN + 1];
	struct hc_value p[2];
	int rc = hc_res_get(c, &oh_service_resource, service, &svc, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_list_query_add(&q, &oh_probe_result_resource, "service",
			       oh_str(svc, "id"), err);
	if (rc == HC_OK)
		rc = hc_res_list(c, &oh_probe_result_resource, &q, &hist, err);
	if (rc == HC_OK) {
		struct hc_list_query w = { .limit = 20 };
		hc_time_now(now);
		p[0] = hc_vtext(oh_str(svc, "id"));
		p[1] = hc_vtext(now);
		w.where_sql = "service = ? AND ends_at > ?";
		w.where_params = p;
		w.where_nparams = 2;
		rc = hc_res_list(c, &oh_maintenance_resource, &w, &windows, err);
	}
	if (rc == HC_OK)
		*out = json_pack(
			"{sOsOsOsOsOsOsOsOsOsOsOsOsO}", "service",
			json_object_get(svc, "id"), "health",
			json_object_get(svc, "health"), "color",
			json_object_get(svc, "color"), "probe_state",
			json_object_get(svc, "probe_state"),
			"consecutive_failures",
			json_object_get(svc, "consecutive_failures"),
			"consecutive_successes",
			json_object_get(svc, "consecutive_successes"),
			"blocked_by", json_object_get(svc, "blocked_by"),
			"alert_open", json_object_get(svc, "alert_open"),
			"last_checked", json_object_get(svc, "last_checked"),
			"last_seen", json_object_get(svc, "last_seen"),
			"last_results", json_object_get(svc, "last_results"),
			"maintenance", json_object_get(windows, "items"),
			"history", json_object_get(hist, "items"));
	json_decref(svc);
	json_decref(hist);
	json_decref(windows);
	return rc;
}

/* The push probe of a service, or NULL. */
static const json_t *push_probe(const json_t *svc)
{
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(svc, "probes"), i, p)
		if (strcmp(oh_str(p, "kind"), "push") == 0)
			return p;
	return NULL;
}

int oh_service_push(struct hc_conn *c, const char *service,
		    const char *token, json_t *report, json_t **out,
		    struct hc_err *err)
{
	json_t *svc = NULL, *results = NULL, *ok = json_object_get(report,
								   "success");
	const json_t *probe;
	const char *msg = oh_str(report, "message"), *key;
	char hash[65], now[HC_TIME_LEN + 1];
	json_t *v;
	int rc;

	json_object_foreach(report, key, v)
		if (strcmp(key, "success") && strcmp(key, "message") &&
		    strcmp(key, "duration_ms"))
			return hc_err_field(err, HC_EINVAL, key,
					    "unknown field '%s' of a push "
					    "report",
					    key);
	if (!json_is_boolean(ok))
		return hc_err_field(err, HC_EINVAL, "success",
				    "field 'success' must be true or false");
	if (json_object_get(report, "message") && !json_is_string(
			json_object_get(report, "message")))
		return hc_err_field(err, HC_EINVAL, "message",
				    "field 'message' must be a string");
	if (json_object_get(report, "duration_ms") &&
	    !json_is_integer(json_object_get(report, "duration_ms")))
		return hc_err_field(err, HC_EINVAL, "duration_ms",
				    "field 'duration_ms' must be an integer");
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_res_get_plain(c, &oh_service_resource, service, &svc, err);
	if (rc != HC_OK)
		goto out;
	probe = push_probe(svc);
	if (!probe) {
		rc = hc_err_set(err, HC_ENOTFOUND,
				"service '%s' takes no push reports",
				oh_str(svc, "id"));
		goto out;
	}
	oh_sha256_hex(token ? token : "", hash);
	if (!token || !oh_str(probe, "token_sha256") ||
	    CRYPTO_memcmp(hash, oh_str(probe, "token_sha256"), 64) != 0) {
		rc = hc_err_set(err, HC_EAUTH,
				"the push token of service '%s' is missing or "
				"wrong",
				oh_str(svc, "id"));
		goto out;
	}
	results = json_pack("[{sssssbsIsss{}}]", "probe", oh_str(probe, "name"),
			    "kind", "push", "ok", json_is_true(ok),
			    "duration_ms",
			    (json_int_t)json_integer_value(
				    json_object_get(report, "duration_ms")),
			    "message",
			    msg ? msg : json_is_true(ok) ? "reported success"
							 : "reported failure",
			    "values");
	hc_time_now(now);
	{
		struct hc_value p[] = { hc_vtext(now),
					hc_vtext(oh_str(svc, "id")) };
		rc = hc_exec(c, "UPDATE services SET row_version = row_version + 1, last_push_at = ? WHERE "
				"id = ?",
			     p, 2, err);
	}
	if (rc == HC_OK)
		rc = oh_service_record(c, oh_str(svc, "id"), results, out, err);
out:
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	json_decref(svc);
	json_decref(results);
	return rc;
}

/* ---- one round ------------------------------------------------------------------------ */

int oh__service_round(struct hc_store *store, const char *service,
		      const atomic_bool *cancel, bool push_check,
		      json_t **out, struct hc_err *err)
{
	struct hc_conn *c = hc_store_acquire(store, err);
	json_t *svc = NULL, *locations = json_object(), *results = json_array();
	json_t *probes, *p, *row = NULL;
	const json_t *push;
	int64_t timeout;
	size_t i;
	int rc;

	if (out)
		*out = NULL;
	if (!c) {
		json_decref(locations);
		json_decref(results);
		return err->status;
	}
	rc = hc_res_get_plain(c, &oh_service_resource, service, &svc, err);
	if (rc != HC_OK)
		goto out;
	probes = json_object_get(svc, "probes");
	push = push_probe(svc);
	if (push && !push_check) {
		rc = hc_err_field(err, HC_EINVAL, "service",
				  "service '%s' is checked by push reports; it "
				  "cannot be probed",
				  oh_str(svc, "id"));
		goto out;
	}
	if (!push && json_array_size(probes) == 0 && !push_check) {
		rc = hc_err_field(err, HC_EINVAL, "service",
				  "service '%s' has no probes",
				  oh_str(svc, "id"));
		goto out;
	}
	if (push) {
		/* Silence past the heartbeat is a failed round. */
		int64_t beat = 0, last = 0, now = oh_now_ms();
		const char *seen = oh_str(svc, "last_push_at");
		if (!seen)
			seen = oh_str(svc, "created_at");
		oh_duration_json(json_object_get(push, "heartbeat"),
				 "heartbeat", &beat, NULL);
		oh_time_parse(seen, &last);
		if (now - last > beat) {
			char msg[200];
			snprintf(msg, sizeof(msg),
				 "no report for %llds (heartbeat %llds)",
				 (long long)((now - last) / 1000),
				 (long long)(beat / 1000));
			json_array_append_new(
				results,
				json_pack("{sssssbsIsss{}}", "probe",
					  oh_str(push, "name"), "kind", "push",
					  "ok", 0, "duration_ms",
					  (json_int_t)0, "message", msg,
					  "values"));
		}
		rc = oh_service_record(c, oh_str(svc, "id"), results, &row,
				       err);
		goto out;
	}
	json_array_foreach(probes, i, p)
	{
		const char *loc = oh_str(p, "location");
		json_t *lrow = NULL;
		if (!loc || json_object_get(locations, loc))
			continue;
		rc = hc_res_get_plain(c, &oh_location_resource, loc, &lrow,
				      err);
		if (rc != HC_OK)
			goto out;
		json_object_set_new(locations, loc, lrow);
	}
	/* The probes run without a database connection. */
	hc_store_release(store, c);
	c = NULL;
	timeout = json_integer_value(json_object_get(svc, "timeout_ms"));
	json_array_foreach(probes, i, p)
	{
		struct oh_probe_result res;
		const char *loc = oh_str(p, "location");
		oh_probe_run(p, loc ? json_object_get(locations, loc) : NULL,
			     timeout, cancel, &res);
		json_array_append_new(results, oh_probe_result_json(&res));
		oh_probe_result_release(&res);
	}
	if (cancel && atomic_load(cancel)) {
		rc = hc_err_set(err, HC_EBUSY, "stopping");
		goto out;
	}
	c = hc_store_acquire(store, err);
	if (!c) {
		rc = err->status;
		goto out;
	}
	rc = oh_service_record(c, oh_str(svc, "id"), results, &row, err);
out:
	if (c)
		hc_store_release(store, c);
	if (rc == HC_OK && out)
		*out = json_pack("{sOsO}", "results", results, "service", row);
	json_decref(row);
	json_decref(svc);
	json_decref(locations);
	json_decref(results);
	return rc;
}

int oh_service_probe_now(struct hc_store *store, const char *service,
			 json_t **out, struct hc_err *err)
{
	return oh__service_round(store, service, NULL, false, out, err);
}
