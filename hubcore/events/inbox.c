/*
 * inbox.c - the receiving side: check who sends, apply each event once in
 * the same transaction as its effect, and hub-core's own handlers.
 *
 * A batch is one write transaction. Each event runs inside a savepoint:
 * an event already in the inbox is a duplicate and changes nothing; an
 * event whose handler fails is rolled back to its savepoint and reported
 * refused (the sender retries it); every other event is recorded in the
 * inbox with its effect. The answer is sent only after the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_internal.h"
#include "hubcore/json.h"
#include "hubcore/resource.h"
#include "hubcore/util.h"

#define BATCH_MAX 500

struct ev_config *ev_current(struct hc_events *ev)
{
	struct ev_config *c;
	pthread_mutex_lock(&ev->lock);
	c = ev_config_ref(ev->cfg);
	pthread_mutex_unlock(&ev->lock);
	return c;
}

char *hc_events_sender_of(struct hc_hub *hub, const char *client_id)
{
	struct ev_config *cfg = hub->events ? ev_current(hub->events) : NULL;
	char *name = NULL;
	for (size_t i = 0; cfg && client_id && i < cfg->nsenders; i++)
		if (strcmp(cfg->senders[i].client_id, client_id) == 0)
			name = strdup(cfg->senders[i].name);
	ev_config_unref(cfg);
	return name;
}

bool ev_is_sender(const struct ev_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nsenders; i++)
		if (strcmp(cfg->senders[i].name, name) == 0)
			return true;
	return false;
}

/* All handlers of a type: hub-core's, then the hub's. */
static void find_handlers(const struct hc_hub *hub, const char *type,
			  const struct hc_event_handler **out, size_t *n)
{
	const struct hc_event_def *defs[] = { &ev_core_handlers,
					      hub->def->events };
	*n = 0;
	for (size_t d = 0; d < HC_COUNT(defs); d++)
		for (size_t i = 0; defs[d] && i < defs[d]->nhandlers; i++)
			if (strcmp(defs[d]->handlers[i].type, type) == 0 &&
			    *n < 4)
				out[(*n)++] = &defs[d]->handlers[i];
}

/* The envelope of one event; HC_EINVAL naming the member. */
static int envelope(const json_t *e, struct hc_event *ev, struct hc_err *err)
{
	const char *id = hc_json_str(e, "id");
	if (!json_is_object(e))
		return hc_err_set(err, HC_EINVAL, "an event must be an object");
	if (!id || !*id || strlen(id) > 128 || strpbrk(id, "\r\n"))
		return hc_err_field(err, HC_EINVAL, "id",
				    "an event needs an 'id' of 1 to 128 bytes");
	ev->id = id;
	ev->type = hc_json_str(e, "type");
	if (!ev_type_ok(ev->type))
		return hc_err_field(err, HC_EINVAL, "type",
				    "an event needs a 'type' of 1 to 64 of "
				    "[a-z0-9_.]");
	ev->source = hc_json_str(e, "source");
	if (!ev->source || !*ev->source)
		return hc_err_field(err, HC_EINVAL, "source",
				    "an event needs a 'source': the sending "
				    "hub");
	ev->time = hc_json_str(e, "time");
	if (!ev->time || !hc_is_datetime(ev->time))
		return hc_err_field(err, HC_EINVAL, "time",
				    "an event needs a 'time' in RFC 3339");
	ev->payload = json_object_get(e, "payload");
	if (!json_is_object(ev->payload))
		return hc_err_field(err, HC_EINVAL, "payload",
				    "an event's 'payload' must be an object");
	return HC_OK;
}

static int apply_one(struct hc_hub *hub, struct hc_conn *c,
		     const json_t *e, const char *sender, json_t *result,
		     struct hc_err *err)
{
	struct hc_event ev = { 0 };
	const struct hc_event_handler *hs[4];
	size_t nh = 0;
	int64_t seen = 0;
	char now[HC_TIME_LEN + 1];
	int rc = envelope(e, &ev, err);
	if (rc != HC_OK)
		return rc;
	if (strcmp(ev.source, sender) != 0)
		return hc_err_field(err, HC_EFORBIDDEN, "source",
				    "the event says it comes from '%s', the "
				    "caller is '%s'",
				    ev.source, sender);
	{
		struct hc_value p[] = { hc_vtext(ev.source), hc_vtext(ev.id) };
		rc = hc_query_int(c, &seen,
				  "SELECT count(*) FROM event_inbox WHERE "
				  "source = ? AND id = ?",
				  p, 2, err);
	}
	if (rc != HC_OK)
		return rc;
	if (seen) {
		json_object_set_new(result, "status", json_string("duplicate"));
		return HC_OK;
	}
	find_handlers(hub, ev.type, hs, &nh);
	rc = hc_exec(c, "SAVEPOINT event", NULL, 0, err);
	for (size_t i = 0; rc == HC_OK && i < nh; i++)
		rc = hs[i]->fn(hub, c, &ev, err);
	if (rc == HC_OK) {
		char *payload = hc_json_dump(ev.payload, NULL);
		struct hc_value p[7];
		hc_time_now(now);
		{
		struct hc_value q[] = {
			hc_vtext(ev.source), hc_vtext(ev.id),
			hc_vtext(ev.type),   hc_vtext(ev.time),
			hc_vtext(payload),   hc_vtext(nh ? "applied"
							 : "ignored"),
			hc_vtext(now)
		};
		memcpy(p, q, sizeof(p));
		}
		rc = payload ? hc_exec(c,
				       "INSERT INTO event_inbox (source, id, "
				       "type, time, payload, status, "
				       "received_at) VALUES (?, ?, ?, ?, ?, "
				       "?, ?)",
				       p, 7, err)
			     : hc_err_set(err, HC_ENOMEM, "out of memory");
		free(payload);
	}
	if (rc != HC_OK) {
		struct hc_err e2 = { 0 };
		hc_exec(c, "ROLLBACK TO SAVEPOINT event", NULL, 0, &e2);
		hc_exec(c, "RELEASE SAVEPOINT event", NULL, 0, &e2);
		return rc;
	}
	rc = hc_exec(c, "RELEASE SAVEPOINT event", NULL, 0, err);
	if (rc == HC_OK)
		json_object_set_new(result, "status",
				    json_string(nh ? "applied" : "ignored"));
	return rc;
}

int hc_events_receive(struct hc_hub *hub, struct hc_conn *c,
		      const char *sender, json_t *body, json_t **out,
		      struct hc_err *err)
{
	struct ev_config *cfg = hub->events ? ev_current(hub->events) : NULL;
	json_t *events = json_object_get(body, "events"), *single = NULL;
	json_t *results = json_array(), *e;
	char who[128];
	size_t i;
	int rc = HC_OK;

	*out = NULL;
	if (!events) {
		single = json_array();
		json_array_append(single, body);
		events = single;
	}
	if (!json_is_array(events) || json_array_size(events) == 0 ||
	    json_array_size(events) > BATCH_MAX) {
		rc = hc_err_field(err, HC_EINVAL, "events",
				  "'events' must be a list of 1 to %d events",
				  BATCH_MAX);
		goto out;
	}
	/* who sends: the authenticated hub, else the events' source */
	snprintf(who, sizeof(who), "%s",
		 sender ? sender
			: hc_json_str(json_array_get(events, 0), "source")
				  ? hc_json_str(json_array_get(events, 0),
						"source")
				  : "");
	if (!ev_is_sender(cfg, who)) {
		rc = hc_err_set(err, HC_EFORBIDDEN,
				"'%s' is not a hub this hub accepts events "
				"from (senders of its configuration%s%s)",
				who, cfg && cfg->path ? " " : "",
				cfg && cfg->path ? cfg->path : "");
		goto out;
	}
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		goto out;
	json_array_foreach(events, i, e)
	{
		json_t *res = json_pack("{s:o}", "id",
					hc_json_str(e, "id")
						? json_string(hc_json_str(e,
									  "id"))
						: json_null());
		struct hc_err e2 = { 0 };
		int r = apply_one(hub, c, e, who, res, &e2);
		if (r != HC_OK) {
			char msg[600];
			if (r == HC_ESTORE || r == HC_EBUSY || r == HC_ENOMEM) {
				/* the store, not the event: fail the
				 * request, so the sender retries it all */
				*err = e2;
				rc = r;
				json_decref(res);
				break;
			}
			json_object_set_new(res, "status",
					    json_string("rejected"));
			json_object_set_new(
				res, "error",
				json_string(hc_err_format(&e2, msg,
							  sizeof(msg))));
		}
		json_array_append_new(results, res);
	}
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
out:
	ev_config_unref(cfg);
	json_decref(single);
	if (rc != HC_OK) {
		json_decref(results);
		return rc;
	}
	*out = json_pack("{so}", "results", results);
	return HC_OK;
}

/* ---- hub-core's handlers ------------------------------------------------------------ */

/* Make sure a domain exists (named by its slug) before a row refers to it. */
static int ensure_domain(struct hc_conn *c, const char *slug,
			 struct hc_err *err)
{
	json_t *row = NULL, *in;
	struct hc_err e2 = { 0 };
	int rc = hc_res_get_plain(c, &hc_domain_resource, slug, &row, &e2);
	json_decref(row);
	if (rc != HC_ENOTFOUND) {
		if (rc != HC_OK)
			*err = e2;
		return rc;
	}
	in = json_pack("{ssss}", "slug", slug, "name", slug);
	rc = hc_res_create(c, &hc_domain_resource, in, NULL, err);
	json_decref(in);
	return rc == HC_OK ? HC_OK
			   : hc_err_prefix(err, "payload 'domain' '%s'", slug);
}

/* A risk or alert of another hub (FOS §10) becomes a progress event here,
 * with the same type, severity and summary; its correlation is prefixed
 * with the source so that it cannot meet a local one. */
static int mirror_progress(struct hc_hub *hub, struct hc_conn *c,
			   const struct hc_event *ev, struct hc_err *err)
{
	const char *domain = hc_json_str(ev->payload, "domain");
	const char *corr = hc_json_str(ev->payload, "correlation_id");
	const char *summary = hc_json_str(ev->payload, "summary");
	const char *severity = hc_json_str(ev->payload, "severity");
	char corr2[200];
	json_t *in;
	int rc;
	if (domain && (rc = ensure_domain(c, domain, err)) != HC_OK)
		return rc;
	snprintf(corr2, sizeof(corr2), "%s:%s", ev->source,
		 corr ? corr : ev->id);
	in = json_pack("{s:s,s:s,s:s,s:s,s:O}", "event_type", ev->type,
		       "correlation_id", corr2, "source", ev->source,
		       "summary", summary ? summary : ev->type, "payload",
		       ev->payload);
	if (!in)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (domain)
		json_object_set_new(in, "domain", json_string(domain));
	if (severity)
		json_object_set_new(in, "severity", json_string(severity));
	if (json_is_object(json_object_get(ev->payload, "subject_refs")))
		json_object_set(in, "subject_refs",
				json_object_get(ev->payload, "subject_refs"));
	json_object_set_new(json_object_get(in, "payload"), "event_id",
			    json_string(ev->id));
	rc = hc_res_create(c, &hc_progress_resource, in, NULL, err);
	json_decref(in);
	return rc == HC_OK ? HC_OK : hc_err_prefix(err, "event %s", ev->id);
}

/*
 * A viability alert (runway_alert) reaching the canon, the System 5 level
 * (a hub configured with escalation_domain): an escalated risk in that
 * domain while the alert is raised, mitigated when it is resolved.
 */
static int escalate(struct hc_hub *hub, struct hc_conn *c,
		    const struct hc_event *ev, struct hc_err *err)
{
	struct ev_config *cfg = hub->events ? ev_current(hub->events) : NULL;
	const char *state = hc_json_str(ev->payload, "state");
	const char *domain = hc_json_str(ev->payload, "domain");
	const char *summary = hc_json_str(ev->payload, "summary");
	char corr[200], line[300];
	json_t *in;
	int rc = HC_OK;
	if (!cfg || !cfg->escalation_domain)
		goto out;
	if (!state || (strcmp(state, "raised") && strcmp(state, "resolved"))) {
		rc = hc_err_field(err, HC_EINVAL, "payload.state",
				  "a runway_alert needs 'state': raised or "
				  "resolved");
		goto out;
	}
	rc = ensure_domain(c, cfg->escalation_domain, err);
	if (rc != HC_OK)
		goto out;
	snprintf(corr, sizeof(corr), "escalated:%s:runway:%s", ev->source,
		 domain ? domain : "");
	snprintf(line, sizeof(line), "escalated from %s: %s", ev->source,
		 summary ? summary : "runway alert");
	in = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O}", "event_type",
		       strcmp(state, "raised") == 0 ? "risk_escalated"
						    : "risk_mitigated",
		       "domain", cfg->escalation_domain, "correlation_id", corr,
		       "source", ev->source, "severity",
		       strcmp(state, "raised") == 0 ? "critical" : "info",
		       "summary", line, "payload", ev->payload);
	rc = in ? hc_res_create(c, &hc_progress_resource, in, NULL, err)
		: hc_err_set(err, HC_ENOMEM, "out of memory");
	json_decref(in);
out:
	ev_config_unref(cfg);
	return rc;
}

static const struct hc_event_handler core_handlers[] = {
	{ "risk_surfaced", mirror_progress, "a progress event here" },
	{ "risk_mitigated", mirror_progress, "a progress event here" },
	{ "risk_escalated", mirror_progress, "a progress event here" },
	{ "alert_raised", mirror_progress, "a progress event here" },
	{ "alert_acknowledged", mirror_progress, "a progress event here" },
	{ "alert_resolved", mirror_progress, "a progress event here" },
	{ "runway_alert", escalate,
	  "at the canon (escalation_domain): risk_escalated / "
	  "risk_mitigated" },
};

const struct hc_event_def ev_core_handlers = {
	.handlers = core_handlers,
	.nhandlers = HC_COUNT(core_handlers),
};
