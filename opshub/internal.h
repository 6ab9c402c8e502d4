/*
 * opshub/internal.h - shared between the files of opshub/, not part of
 * ops-hub's interface.
 */
#ifndef OPSHUB_INTERNAL_H
#define OPSHUB_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "hubcore/util.h"
#include "opshub/opshub.h"

/* Milliseconds since the epoch, now. */
int64_t oh_now_ms(void);
/* Parse an RFC 3339 date-time (any offset) into milliseconds since the
 * epoch; false when it is not one. */
bool oh_time_parse(const char *s, int64_t *ms);
/* Format milliseconds since the epoch as hub-core's RFC 3339 UTC form. */
void oh_time_format(int64_t ms, char out[HC_TIME_LEN + 1]);

/*
 * One probe round of a service: load it (and the locations its cluster
 * probes use), let go of the database while the probes run, then record
 * the round. Push services get their heartbeat checked instead: silence
 * past the heartbeat is a failed round, otherwise only the health is
 * re-evaluated. *out (may be NULL) is {"results": [...], "service": row}.
 */
int oh__service_round(struct hc_store *store, const char *service,
		      const atomic_bool *cancel, bool push_check,
		      json_t **out, struct hc_err *err);

/* An HTTP(S) GET through libcurl with the cluster settings of a location
 * (api_server, bearer token, CA file); the body parsed as JSON. status is
 * the HTTP status, 0 when there was no answer (err then says why). */
struct oh_api {
	char server[512];
	char *token;     /* malloc'd, or NULL */
	char ca_file[1024];
	char *ca_data;   /* PEM (kubeconfig certificate-authority-data) */
	char *cert_data; /* client certificate and key (kubeconfig) */
	char *key_data;
};
int oh_api_from_location(const json_t *location, struct oh_api *api,
			 struct hc_err *err);
void oh_api_release(struct oh_api *api);

/*
 * A YAML document as JSON: mappings become objects (duplicate keys are
 * refused), sequences arrays, plain scalars true/false/null/integers
 * where they look like one and strings otherwise. lines (may be NULL)
 * receives {"path": line} for every member, with paths such as
 * "services[2].probes[0].url" ("" is the root). Errors carry
 * source:line:column.
 */
int oh_yaml_to_json(const char *source, const char *data, size_t len,
		    json_t **out, json_t **lines, struct hc_err *err);
int oh_api_get(const struct oh_api *api, const char *path,
	       int64_t timeout_ms, const atomic_bool *cancel, long *status,
	       json_t **body, struct hc_err *err);

/* The SHA-256 of s as 64 lower-case hex digits. */
void oh_sha256_hex(const char *s, char out[65]);

/* Ensure a domain exists (created from its slug when missing). */
int oh_ensure_domain(struct hc_conn *c, const char *slug, struct hc_err *err);

/* Resources whose id is their name: make_id copies the name, and a
 * given id must equal it. */
int oh_name_make_id(struct hc_conn *c, const struct hc_resource *r,
		    const json_t *obj, char *out, size_t out_size,
		    struct hc_err *err);
int oh_name_check_id(const json_t *obj, struct hc_err *err);

/* Check that a JSON array member holds strings or objects with the
 * string member key (evidence links, endpoints, steps). */
int oh_check_list(const json_t *obj, const char *field, const char *key,
		  size_t max_items, struct hc_err *err);

/* Create or update a maintenance window (key NULL: create) and bring the
 * service's health up to date in the same transaction. */
int oh_maintenance_write(struct hc_conn *c, const char *key, json_t *in,
			 json_t **out, struct hc_err *err);

/* Emit incident_opened or incident_resolved for an incident row, in the
 * caller's transaction (docs/events.md). */
int oh_incident_emit(struct hc_conn *c, const char *type, const json_t *row,
		     struct hc_err *err);

/* The now view, GET /now (now.c). */
struct hc_view_page;
extern const struct hc_view_page oh_now_page;

/* A string member or NULL. */
static inline const char *oh_str(const json_t *o, const char *k)
{
	return hc_json_str(o, k);
}

#endif
