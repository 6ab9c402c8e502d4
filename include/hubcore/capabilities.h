/*
 * hubcore/capabilities.h - the capability catalog and capability requests
 * between domains (FOS capability routing).
 *
 * A capability is something a domain offers to the others ("security
 * review", "DNS changes"). A capability request asks the providing domain
 * for it and then moves through a small state machine, each move recorded
 * with who made it and why:
 *
 *   requested   -> accepted | rejected | disputed
 *   accepted    -> in_progress | rejected | disputed
 *   in_progress -> fulfilled | disputed
 *   disputed    -> requested | accepted | rejected
 *   fulfilled, rejected: final
 *
 * A request that is requested or disputed may also be rerouted to another
 * providing domain, which puts it back to requested. Every other move is
 * HC_ECONFLICT naming both states, and changes nothing. A request's status
 * and providing domain change only through these functions: the generic
 * update refuses them (read-only fields).
 *
 * REST handlers and MCP tools both call the functions below; each runs in
 * one write transaction (joining the caller's when one is open), so the
 * status change and its history entry are stored together or not at all.
 */
#ifndef HUBCORE_CAPABILITIES_H
#define HUBCORE_CAPABILITIES_H

#include <jansson.h>
#include <stdbool.h>

#include "hubcore/resource.h"
#include "hubcore/status.h"
#include "hubcore/store.h"

/* /capabilities: what a domain offers, named by slug. */
extern const struct hc_resource hc_capability_resource;
/* /capability-requests: a request to a providing domain. Reading one adds
 * "history" (its transitions, oldest first) and "next_statuses". */
extern const struct hc_resource hc_capreq_resource;
/* /capability-request-transitions: the history, one row per move
 * (read-only over REST). */
extern const struct hc_resource hc_capreq_transition_resource;

/*
 * The arguments of a transition ({"status", "actor", "note",
 * "fulfillment_context"}) and of a reroute ({"to_domain", "actor",
 * "note"}) described as fields, for validation and for tool schemas.
 * They have no table and are never migrated.
 */
extern const struct hc_resource hc_capreq_transition_input;
extern const struct hc_resource hc_capreq_reroute_input;

/* requested, accepted, in_progress, fulfilled, rejected, disputed */
extern const char *const hc_capreq_statuses[]; /* NULL-terminated */

/* The statuses a request may move to from status (NULL-terminated, empty
 * for a final status), or NULL when status is not a status. */
const char *const *hc_capreq_next_statuses(const char *status);
/* True when a request in status may be rerouted (requested, disputed). */
bool hc_capreq_can_reroute(const char *status);

/*
 * Create a request from JSON input (validated here; it is modified: id,
 * defaults). providing_domain is the capability's domain; a request for a
 * retired capability is refused. The creation is the first history entry
 * (from_status null, actor = requested_by). out (may be NULL) receives
 * the request as read, with its history.
 */
int hc_capreq_create(struct hc_conn *c, json_t *in, json_t **out,
		     struct hc_err *err);

/*
 * Move request id to status, by actor (required), with an optional note
 * (kept as status_reason) and an optional fulfillment_context object that
 * replaces the stored one (borrowed; NULL keeps it). Moving to accepted
 * needs a providing domain. out (may be NULL, here and below) receives
 * the request as read, with its history.
 * HC_ENOTFOUND for an unknown id, HC_EINVAL naming a bad argument,
 * HC_ECONFLICT (field "status") for a move the state machine refuses.
 */
int hc_capreq_transition(struct hc_conn *c, const char *id,
			 const char *status, const char *actor,
			 const char *note, json_t *fulfillment_context,
			 json_t **out, struct hc_err *err);

/* hc_capreq_transition to accepted. */
int hc_capreq_accept(struct hc_conn *c, const char *id, const char *actor,
		     const char *note, json_t **out, struct hc_err *err);

/*
 * Give request id to another providing domain (by slug or id) and put it
 * back to requested; only from requested or disputed. The history entry
 * records both domains. HC_EINVAL (field "to_domain") for an unknown
 * domain, HC_ECONFLICT for a request in another status or a domain that
 * already provides it.
 */
int hc_capreq_reroute(struct hc_conn *c, const char *id, const char *to_domain,
		      const char *actor, const char *note, json_t **out,
		      struct hc_err *err);

/*
 * The same two operations with their arguments as one JSON object, as a
 * request body or tool call brings them: unknown members and wrong types
 * are HC_EINVAL naming the member (see the input descriptors above).
 */
int hc_capreq_transition_json(struct hc_conn *c, const char *id, json_t *in,
			      json_t **out, struct hc_err *err);
int hc_capreq_reroute_json(struct hc_conn *c, const char *id, json_t *in,
			   json_t **out, struct hc_err *err);

#endif
