/*
 * routes.c - the events' REST routes and MCP tools: the inbox other hubs
 * deliver to, emitting by hand, the status of every subscription, and the
 * dead letters with their re-drive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_internal.h"
#include "hubcore/auth.h"
#include "hubcore/json.h"
#include "hubcore/mcp.h"
#include "hubcore/resource.h"

/* POST /events/inbox: events from another hub. */
static int post_inbox(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	const struct hc_identity *id = hc_req_identity(req);
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	char *sender = NULL;
	int rc = hc_req_only_args(req, NULL, err);
	if (rc != HC_OK)
		return rc;
	if (req->hub->auth) {
		/* only a hub this one knows, by its service account */
		const char *who = id && id->client_id[0] ? id->client_id
				  : id			  ? id->sub
							  : "";
		sender = hc_events_sender_of(req->hub, who);
		if (!sender)
			return hc_err_set(err, HC_EFORBIDDEN,
					  "'%s' is not the service account of "
					  "a hub this hub accepts events from",
					  who);
	}
	rc = hc_req_json(req, &in, err);
	c = rc == HC_OK ? hc_req_db(req, err) : NULL;
	if (rc == HC_OK && !c)
		rc = err->status;
	if (rc == HC_OK)
		rc = hc_events_receive(req->hub, c, sender, in, &out, err);
	json_decref(in);
	free(sender);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* POST /events {"type", "payload"}: emit an event by hand (operators,
 * scripts, a signal no hub code emits yet). */
static int post_event(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	json_t *in = NULL, *payload;
	const char *type, *k;
	json_t *v;
	char id[37];
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	json_object_foreach(in, k, v)
	{
		if (strcmp(k, "type") != 0 && strcmp(k, "payload") != 0) {
			rc = hc_err_field(err, HC_EINVAL, k,
					  "unknown field '%s' (an event has "
					  "'type' and 'payload')",
					  k);
			break;
		}
	}
	type = hc_json_str(in, "type");
	payload = json_object_get(in, "payload");
	if (rc == HC_OK && !type)
		rc = hc_err_field(err, HC_EINVAL, "type",
				  "missing required field 'type'");
	if (rc == HC_OK && !payload) {
		json_object_set_new(in, "payload", json_object());
		payload = json_object_get(in, "payload");
	}
	c = rc == HC_OK ? hc_req_db(req, err) : NULL;
	if (rc == HC_OK && !c)
		rc = err->status;
	if (rc == HC_OK)
		rc = hc_event_emit(c, type, payload, id, err);
	if (rc == HC_OK)
		rc = hc_resp_json(resp, 201,
				  json_pack("{sssssO}", "id", id, "type", type,
					    "payload", payload));
	json_decref(in);
	return rc;
}

static int get_status(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	json_t *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_only_args(req, NULL, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? hc_events_status(req->hub, c, &out, err) : err->status;
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

static int get_dead(struct hc_req *req, struct hc_resp *resp,
		    struct hc_err *err)
{
	static const char *const allowed[] = { "subscriber", "limit", "cursor",
					       NULL };
	const char *limit = hc_req_arg(req, "limit");
	unsigned long n = 0;
	json_t *out = NULL;
	struct hc_conn *c;
	int rc = hc_req_only_args(req, allowed, err);
	if (rc != HC_OK)
		return rc;
	if (limit) {
		char *end;
		n = strtoul(limit, &end, 10);
		if (!*limit || *end || n < 1 || n > HC_LIST_MAX_LIMIT)
			return hc_err_field(err, HC_EPARAM, "limit",
					    "parameter 'limit' must be 1 to %d",
					    HC_LIST_MAX_LIMIT);
	}
	c = hc_req_db(req, err);
	rc = c ? hc_events_dead(c, hc_req_arg(req, "subscriber"), n,
				hc_req_arg(req, "cursor"), &out, err)
	       : err->status;
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

/* POST /events/dead/redrive {"delivery"} or {"subscriber"} or {}. */
static int post_redrive(struct hc_req *req, struct hc_resp *resp,
			struct hc_err *err)
{
	json_t *in = NULL, *out = NULL, *v;
	const char *k;
	struct hc_conn *c;
	int rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	json_object_foreach(in, k, v)
	{
		if ((strcmp(k, "delivery") && strcmp(k, "subscriber")) ||
		    !json_is_string(v)) {
			rc = hc_err_field(err, HC_EINVAL, k,
					  "give 'delivery' (a dead letter's "
					  "number) or 'subscriber' as text");
			break;
		}
	}
	c = rc == HC_OK ? hc_req_db(req, err) : NULL;
	if (rc == HC_OK && !c)
		rc = err->status;
	if (rc == HC_OK)
		rc = hc_events_redrive(c, hc_json_str(in, "delivery"),
				       hc_json_str(in, "subscriber"), &out,
				       err);
	json_decref(in);
	return rc == HC_OK ? hc_resp_json(resp, 200, out) : rc;
}

static const struct hc_route event_routes[] = {
	{ "POST", "/events/inbox", post_inbox, NULL, HC_SCOPE_WRITE, 0,
	  "Receive events from another hub (its service account only)" },
	{ "POST", "/events", post_event, NULL, HC_SCOPE_ADMIN, 0,
	  "Emit an event by hand to this hub's subscribers" },
	{ "GET", "/events/status", get_status, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY,
	  "Per subscription: backlog, dead letters, last success and error, "
	  "lag" },
	{ "GET", "/events/dead", get_dead, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY, "Dead-lettered events, oldest first" },
	{ "POST", "/events/dead/redrive", post_redrive, NULL, HC_SCOPE_WRITE,
	  0, "Deliver dead-lettered events again" },
};

const struct hc_route_table hc_event_routes = HC_ROUTE_TABLE(event_routes);

/* ---- MCP ------------------------------------------------------------------------- */

static int t_status(struct hc_mcp_call *call, json_t *args, json_t **out,
		    struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? hc_events_status(hc_mcp_hub(call), c, out, err)
		 : err->status;
}

static int t_dead(struct hc_mcp_call *call, json_t *args, json_t **out,
		  struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	json_int_t limit = json_integer_value(json_object_get(args, "limit"));
	if (!c)
		return err->status;
	if (limit < 0 || limit > HC_LIST_MAX_LIMIT)
		return hc_err_field(err, HC_EINVAL, "limit",
				    "'limit' must be 1 to %d",
				    HC_LIST_MAX_LIMIT);
	return hc_events_dead(c, hc_json_str(args, "subscriber"),
			      (size_t)limit, hc_json_str(args, "cursor"), out,
			      err);
}

static int t_redrive(struct hc_mcp_call *call, json_t *args, json_t **out,
		     struct hc_err *err)
{
	struct hc_conn *c = hc_mcp_db(call, err);
	return c ? hc_events_redrive(c, hc_json_str(args, "delivery"),
				     hc_json_str(args, "subscriber"), out, err)
		 : err->status;
}

static const struct hc_field p_dead[] = {
	{ .name = "subscriber", .type = HC_FT_STRING,
	  .doc = "Only the dead letters of this subscriber (a hub name)." },
	{ .name = "limit", .type = HC_FT_INT, .doc = "Dead letters per page." },
	{ .name = "cursor", .type = HC_FT_STRING,
	  .doc = "next_cursor of the previous page." },
};
static const struct hc_field p_redrive[] = {
	{ .name = "delivery", .type = HC_FT_STRING,
	  .doc = "One dead letter, by its 'delivery' number." },
	{ .name = "subscriber", .type = HC_FT_STRING,
	  .doc = "Every dead letter of this subscriber; with neither, every "
		 "dead letter." },
};

static const struct hc_mcp_tool event_tools[] = {
	{ .name = "get_event_status", .title = "Event delivery status",
	  .description = "Is this hub's coupling with the other hubs "
			 "healthy? Per subscription: backlog, dead letters, "
			 "last success, last error and lag in seconds; and "
			 "what the inbox received.",
	  .fn = t_status, .flags = HC_MCP_READONLY,
	  .scope = HC_SCOPE_READ },
	{ .name = "list_dead_events", .title = "Dead-lettered events",
	  .description = "Events a receiving hub kept refusing, with the "
			 "last error: fix the cause, then redrive them.",
	  .fn = t_dead, .params = p_dead, .nparams = HC_COUNT(p_dead),
	  .flags = HC_MCP_READONLY, .scope = HC_SCOPE_READ },
	{ .name = "redrive_dead_events", .title = "Redrive dead events",
	  .description = "Deliver dead-lettered events again (one, a "
			 "subscriber's, or all) once their cause is fixed.",
	  .fn = t_redrive, .params = p_redrive, .nparams = HC_COUNT(p_redrive),
	  .flags = HC_MCP_IDEMPOTENT, .scope = HC_SCOPE_WRITE },
};

const struct hc_mcp_tool_table hc_mcp_event_tools =
	HC_MCP_TOOL_TABLE(event_tools);
