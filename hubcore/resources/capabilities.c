/*
 * capabilities.c - the capability catalog, capability requests between
 * domains and their state machine (see hubcore/capabilities.h).
 *
 * The allowed moves are a table, so that the rule, its error messages and
 * the "next_statuses" a reader is shown come from one place. A move updates
 * the request with bound SQL and appends its history row through the
 * generic create, both in one write transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/buf.h"
#include "hubcore/capabilities.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"
#include "resource_internal.h"

#define ACTOR_MAX 200
#define NOTE_MAX (64 * 1024)
#define TAGS_MAX 32
#define TAG_MAX 64

const char *const hc_capreq_statuses[] = { "requested", "accepted",
					   "in_progress", "fulfilled",
					   "rejected", "disputed", NULL };
static const char *const capability_statuses[] = { "active", "retired",
						   NULL };

/* ---- the state machine ------------------------------------------------- */

static const char *const from_requested[] = { "accepted", "rejected",
					      "disputed", NULL };
static const char *const from_accepted[] = { "in_progress", "rejected",
					     "disputed", NULL };
static const char *const from_in_progress[] = { "fulfilled", "disputed",
						NULL };
static const char *const from_disputed[] = { "requested", "accepted",
					     "rejected", NULL };
static const char *const final[] = { NULL };

static const struct {
	const char *from;
	const char *const *to;
	bool reroute;
} moves[] = {
	{ "requested", from_requested, true },
	{ "accepted", from_accepted, false },
	{ "in_progress", from_in_progress, false },
	{ "fulfilled", final, false },
	{ "rejected", final, false },
	{ "disputed", from_disputed, true },
};

const char *const *hc_capreq_next_statuses(const char *status)
{
	for (size_t i = 0; status && i < HC_COUNT(moves); i++)
		if (strcmp(moves[i].from, status) == 0)
			return moves[i].to;
	return NULL;
}

bool hc_capreq_can_reroute(const char *status)
{
	for (size_t i = 0; status && i < HC_COUNT(moves); i++)
		if (strcmp(moves[i].from, status) == 0)
			return moves[i].reroute;
	return false;
}

static bool can_move(const char *from, const char *to)
{
	const char *const *next = hc_capreq_next_statuses(from);
	for (; next && *next; next++)
		if (strcmp(*next, to) == 0)
			return true;
	return false;
}

/* "accepted, rejected or disputed" */
static void list_words(struct hc_buf *b, const char *const *words)
{
	for (const char *const *w = words; *w; w++)
		hc_buf_addf(b, "%s%s", w == words ? "" : w[1] ? ", " : " or ",
			    *w);
}

/* ---- capabilities ------------------------------------------------------ */

/* A capability created with only a name gets its slug from the name. */
static int capability_prepare(struct hc_conn *c, const struct hc_resource *r,
			      enum hc_write_mode mode, json_t *obj,
			      const json_t *old, struct hc_err *err)
{
	char slug[HC_SLUG_MAX + 1];
	const char *name = hc_json_str(obj, "name");
	json_t *s = json_object_get(obj, "slug");
	int rc = hc__check_strings(obj, "tags", TAGS_MAX, TAG_MAX, err);
	if (rc != HC_OK || (s && !json_is_null(s)))
		return rc;
	if (!name)
		return hc_err_field(err, HC_EINVAL, "slug",
				    "missing required field 'slug' (or a "
				    "'name' to derive it from)");
	if (hc_slugify(name, strlen(name), slug, sizeof(slug), NULL) != HC_OK)
		return hc_err_field(err, HC_EINVAL, "slug",
				    "cannot derive a slug from name '%s'; give "
				    "'slug'",
				    name);
	return hc_json_set_str(obj, "slug", slug);
}

static const struct hc_field capability_fields[] = {
	{ .name = "slug", .type = HC_FT_SLUG,
	  .flags = HC_F_REQUIRED | HC_F_KEY | HC_F_AUTO,
	  .doc = "Short unique name of the capability, normalized like a "
		 "domain slug; derived from name when absent." },
	{ .name = "name", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .doc = "Display name." },
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .ref = &hc_domain_resource,
	  .ref_field = "slug", .doc = "The domain that provides it." },
	{ .name = "description", .type = HC_FT_TEXT,
	  .doc = "What the provider does when asked, and what it needs." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .enum_values = capability_statuses, .default_value = "active",
	  .doc = "active, or retired: no new requests." },
	{ .name = "tags", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .default_value = "[]",
	  .doc = "Keywords, an array of strings: [\"security\", \"dns\"]." },
	{ .name = "contact", .type = HC_FT_STRING,
	  .doc = "Who to talk to about it (agent, person or channel)." },
};

const struct hc_resource hc_capability_resource = {
	.name = "capability",
	.plural = "capabilities",
	.table = "capabilities",
	.doc = "A capability a domain offers to the others.",
	.id_policy = HC_ID_UUID,
	.fields = capability_fields,
	.nfields = HC_COUNT(capability_fields),
	.hooks = { .prepare = capability_prepare },
	.since = 2,
};

/* ---- capability requests ----------------------------------------------- */

/* A new request goes to the domain that provides the capability, which
 * must still be offered. */
static int capreq_prepare(struct hc_conn *c, const struct hc_resource *r,
			  enum hc_write_mode mode, json_t *obj,
			  const json_t *old, struct hc_err *err)
{
	const char *slug = hc_json_str(obj, "capability");
	json_t *cap = NULL;
	int rc;
	if (mode != HC_WRITE_CREATE || !slug)
		return HC_OK;
	rc = hc_res_get_plain(c, &hc_capability_resource, slug, &cap, err);
	if (rc != HC_OK)
		return rc;
	if (strcmp(hc_json_str(cap, "status"), "retired") == 0)
		rc = hc_err_field(err, HC_EINVAL, "capability",
				  "field 'capability': capability '%s' is "
				  "retired and takes no new requests",
				  slug);
	else
		rc = hc_json_set_str(obj, "providing_domain",
				     hc_json_str(cap, "domain"));
	json_decref(cap);
	return rc;
}

/* Every history entry of a request, oldest first, page by page. */
static int load_history(struct hc_conn *c, const char *id, json_t **out,
			struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(id) };
	struct hc_list_query q = { 0 };
	char cursor[HC_CURSOR_MAX];
	json_t *all = json_array(), *page = NULL;
	int rc = all ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");

	q.limit = HC_LIST_MAX_LIMIT;
	q.where_sql = "request = ?";
	q.where_params = p;
	q.where_nparams = 1;
	while (rc == HC_OK) {
		const char *next;
		rc = hc_res_list(c, &hc_capreq_transition_resource, &q, &page,
				 err);
		if (rc != HC_OK)
			break;
		if (json_array_extend(all, json_object_get(page, "items"))) {
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
			break;
		}
		next = hc_json_str(page, "next_cursor");
		if (!next)
			break;
		snprintf(cursor, sizeof(cursor), "%s", next);
		q.cursor = cursor;
		json_decref(page);
		page = NULL;
	}
	json_decref(page);
	if (rc == HC_OK)
		*out = all;
	else
		json_decref(all);
	return rc;
}

static int capreq_decorate(struct hc_conn *c, const struct hc_resource *r,
			   json_t *obj, struct hc_err *err)
{
	const char *const *next =
		hc_capreq_next_statuses(hc_json_str(obj, "status"));
	json_t *history = NULL, *list = json_array();
	int rc = list ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
	for (; rc == HC_OK && next && *next; next++)
		if (json_array_append_new(list, json_string(*next)))
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	if (rc == HC_OK)
		rc = load_history(c, hc_json_str(obj, "id"), &history, err);
	if (rc != HC_OK) {
		json_decref(list);
		return rc;
	}
	/* json_object_set_new takes the value even when it fails */
	if (json_object_set_new(obj, "next_statuses", list) |
	    json_object_set_new(obj, "history", history))
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	return HC_OK;
}

static const struct hc_field capreq_fields[] = {
	{ .name = "capability", .type = HC_FT_REF,
	  .flags = HC_F_FILTER | HC_F_IMMUTABLE,
	  .ref = &hc_capability_resource, .ref_field = "slug",
	  .doc = "The capability asked for, by slug or id; its domain "
		 "becomes the providing domain." },
	{ .name = "requesting_domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The domain that asks." },
	{ .name = "providing_domain", .type = HC_FT_REF,
	  .flags = HC_F_FILTER | HC_F_READONLY, .ref = &hc_domain_resource,
	  .ref_field = "slug",
	  .doc = "The domain asked: the capability's, until a reroute "
		 "moves the request." },
	{ .name = "requested_by", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .max_len = ACTOR_MAX, .doc = "The agent or person asking." },
	{ .name = "title", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "What is asked, in one line." },
	{ .name = "description", .type = HC_FT_TEXT,
	  .doc = "The request in full (Markdown)." },
	{ .name = "request_context", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_OBJECT, .default_value = "{}",
	  .doc = "What the provider needs to act: refs, links, parameters." },
	{ .name = "fulfillment_context", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_OBJECT, .default_value = "{}",
	  .doc = "What the provider delivered: refs, links, results." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_READONLY,
	  .enum_values = hc_capreq_statuses, .default_value = "requested",
	  .doc = "requested, accepted, in_progress, fulfilled, rejected or "
		 "disputed; changed only by transitions." },
	{ .name = "status_reason", .type = HC_FT_TEXT,
	  .flags = HC_F_READONLY, .max_len = NOTE_MAX,
	  .doc = "The note of the transition into the current status." },
};

const struct hc_resource hc_capreq_resource = {
	.name = "capability_request",
	.plural = "capability-requests",
	.table = "capability_requests",
	.doc = "A request from one domain for a capability of another.",
	.id_policy = HC_ID_UUID,
	.fields = capreq_fields,
	.nfields = HC_COUNT(capreq_fields),
	.hooks = { .prepare = capreq_prepare, .decorate = capreq_decorate },
	.since = 2,
};

static const struct hc_field transition_fields[] = {
	{ .name = "request", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .ref = &hc_capreq_resource, .ref_field = "id",
	  .doc = "The capability request that moved." },
	{ .name = "from_status", .type = HC_FT_ENUM, .flags = HC_F_IMMUTABLE,
	  .enum_values = hc_capreq_statuses,
	  .doc = "Its status before; null for the creation." },
	{ .name = "to_status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .enum_values = hc_capreq_statuses, .doc = "Its status after." },
	{ .name = "from_domain", .type = HC_FT_REF, .flags = HC_F_IMMUTABLE,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The providing domain before a reroute." },
	{ .name = "to_domain", .type = HC_FT_REF,
	  .flags = HC_F_FILTER | HC_F_IMMUTABLE, .ref = &hc_domain_resource,
	  .ref_field = "slug",
	  .doc = "The providing domain after a reroute (or at creation)." },
	{ .name = "actor", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .max_len = ACTOR_MAX, .doc = "The agent or person who moved it." },
	{ .name = "note", .type = HC_FT_TEXT, .flags = HC_F_IMMUTABLE,
	  .max_len = NOTE_MAX, .doc = "Why." },
	{ .name = "at", .type = HC_FT_DATETIME,
	  .flags = HC_F_REQUIRED | HC_F_IMMUTABLE,
	  .doc = "When (RFC 3339 UTC)." },
};

const struct hc_resource hc_capreq_transition_resource = {
	.name = "capability_request_transition",
	.plural = "capability-request-transitions",
	.table = "capability_request_transitions",
	.doc = "One move of a capability request: the history.",
	.id_policy = HC_ID_UUID,
	.fields = transition_fields,
	.nfields = HC_COUNT(transition_fields),
	.since = 2,
};

/* ---- transitions ------------------------------------------------------- */

static const struct hc_field transition_input_fields[] = {
	{ .name = "status", .type = HC_FT_ENUM, .flags = HC_F_REQUIRED,
	  .enum_values = hc_capreq_statuses,
	  .doc = "The status to move to." },
	{ .name = "actor", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = ACTOR_MAX, .doc = "The agent or person moving it." },
	{ .name = "note", .type = HC_FT_TEXT, .max_len = NOTE_MAX,
	  .doc = "Why; kept as the request's status_reason." },
	{ .name = "fulfillment_context", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_OBJECT,
	  .doc = "Replaces the request's fulfillment_context when given." },
};

const struct hc_resource hc_capreq_transition_input = {
	.name = "transition",
	.doc = "Move a capability request to another status.",
	.id_policy = HC_ID_UUID,
	.fields = transition_input_fields,
	.nfields = HC_COUNT(transition_input_fields),
};

static const struct hc_field reroute_input_fields[] = {
	{ .name = "to_domain", .type = HC_FT_REF, .flags = HC_F_REQUIRED,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The domain to ask instead, by slug or id." },
	{ .name = "actor", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = ACTOR_MAX, .doc = "The agent or person rerouting it." },
	{ .name = "note", .type = HC_FT_TEXT, .max_len = NOTE_MAX,
	  .doc = "Why; kept as the request's status_reason." },
};

const struct hc_resource hc_capreq_reroute_input = {
	.name = "reroute",
	.doc = "Give a capability request to another providing domain.",
	.id_policy = HC_ID_UUID,
	.fields = reroute_input_fields,
	.nfields = HC_COUNT(reroute_input_fields),
};

/* Check arguments against an input descriptor; an "id" is as unknown
 * there as any other member the descriptor lacks. */
static int validate_input(const struct hc_resource *input, json_t *in,
			  struct hc_err *err)
{
	if (json_is_object(in) && json_object_get(in, "id"))
		return hc_err_field(err, HC_EINVAL, "id",
				    "unknown field 'id' for %s", input->name);
	return hc_res_validate(input, in, HC_WRITE_CREATE, err);
}

static int begin_if_needed(struct hc_conn *c, bool *own, struct hc_err *err)
{
	*own = !hc_tx_active(c);
	return *own ? hc_tx_begin(c, true, err) : HC_OK;
}

static int end_tx(struct hc_conn *c, bool own, int rc, struct hc_err *err)
{
	if (!own)
		return rc;
	if (rc == HC_OK)
		return hc_tx_commit(c, err);
	hc_tx_rollback(c);
	return rc;
}

/* Append one history row (strings other than id, to, actor and at may be
 * NULL). */
static int record(struct hc_conn *c, const char *id, const char *from,
		  const char *to, const char *from_domain,
		  const char *to_domain, const char *actor, const char *note,
		  const char *at, struct hc_err *err)
{
	json_t *row = json_pack("{ssss?ssss?ss?ssss?ss}", "request", id,
				"from_status", from, "to_status", to,
				"from_domain", from_domain, "to_domain",
				to_domain, "actor", actor, "note", note, "at",
				at);
	int rc;
	if (!row)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	rc = hc_res_create(c, &hc_capreq_transition_resource, row, NULL, err);
	json_decref(row);
	return rc;
}

int hc_capreq_create(struct hc_conn *c, json_t *in, json_t **out,
		     struct hc_err *err)
{
	char now[HC_TIME_LEN + 1];
	bool own = false;
	int rc = begin_if_needed(c, &own, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_res_create(c, &hc_capreq_resource, in, NULL, err);
	if (rc == HC_OK) {
		hc_time_now(now);
		rc = record(c, hc_json_str(in, "id"), NULL, "requested", NULL,
			    hc_json_str(in, "providing_domain"),
			    hc_json_str(in, "requested_by"), NULL, now, err);
	}
	if (rc == HC_OK && out)
		rc = hc_res_get(c, &hc_capreq_resource, hc_json_str(in, "id"),
				out, err);
	return end_tx(c, own, rc, err);
}

/* Is the requested move allowed from the request's current state? */
static int check_move(const json_t *row, const char *to, bool reroute,
		      const char *to_domain, struct hc_err *err)
{
	const char *id = hc_json_str(row, "id");
	const char *from = hc_json_str(row, "status");
	const char *provider = hc_json_str(row, "providing_domain");
	struct hc_buf next = HC_BUF_INIT(256);
	int rc = HC_OK;

	if (reroute && !hc_capreq_can_reroute(from))
		rc = hc_err_field(err, HC_ECONFLICT, "status",
				  "capability request '%s' is '%s'; only a "
				  "requested or disputed request can be "
				  "rerouted (to 'requested' with another "
				  "domain)",
				  id, from);
	else if (reroute && provider && strcmp(provider, to_domain) == 0)
		rc = hc_err_field(err, HC_ECONFLICT, "to_domain",
				  "capability request '%s' is already with "
				  "domain '%s'; reroute it to another domain",
				  id, to_domain);
	else if (!reroute && !can_move(from, to)) {
		const char *const *n = hc_capreq_next_statuses(from);
		if (n && *n) {
			list_words(&next, n);
			rc = hc_err_field(err, HC_ECONFLICT, "status",
					  "capability request '%s' cannot "
					  "move from '%s' to '%s'; from '%s' "
					  "it may move to %s",
					  id, from, to, from,
					  next.data ? next.data : "");
		} else {
			rc = hc_err_field(err, HC_ECONFLICT, "status",
					  "capability request '%s' cannot "
					  "move from '%s' to '%s': '%s' is "
					  "final",
					  id, from, to, from);
		}
	} else if (!reroute && strcmp(to, "accepted") == 0 && !provider)
		rc = hc_err_field(err, HC_ECONFLICT, "providing_domain",
				  "capability request '%s' cannot move from "
				  "'%s' to 'accepted': it has no providing "
				  "domain; reroute it to one first",
				  id, from);
	hc_buf_release(&next);
	return rc;
}

/*
 * The one implementation of a move: a transition (reroute false, args
 * {status, actor, note?, fulfillment_context?}) or a reroute (args
 * {to_domain, actor, note?}), already validated against their input
 * descriptors.
 */
static int capreq_move(struct hc_conn *c, const char *id, const json_t *args,
		       bool reroute, json_t **out, struct hc_err *err)
{
	const char *to = reroute ? "requested" : hc_json_str(args, "status");
	const char *actor = hc_json_str(args, "actor");
	const char *note = hc_json_str(args, "note");
	json_t *fctx = json_object_get(args, "fulfillment_context");
	char now[HC_TIME_LEN + 1];
	char *to_domain = NULL, *fctx_text = NULL, *rid = NULL;
	json_t *row = NULL;
	bool own = false;
	int rc = begin_if_needed(c, &own, err);

	if (rc != HC_OK)
		return rc;
	rc = hc_res_get_locked(c, &hc_capreq_resource, id, &row, err);
	if (rc != HC_OK)
		goto out;
	if (reroute) {
		struct hc_err e2 = { 0 };
		const char *name = hc_json_str(args, "to_domain");
		rc = hc_res_resolve(c, &hc_domain_resource, name, "slug",
				    &to_domain, &e2);
		if (rc == HC_ENOTFOUND)
			rc = hc_err_field(err, HC_EINVAL, "to_domain",
					  "field 'to_domain': no domain '%s'",
					  name);
		else if (rc != HC_OK)
			*err = e2;
		if (rc != HC_OK)
			goto out;
	}
	rc = check_move(row, to, reroute, to_domain, err);
	if (rc != HC_OK)
		goto out;
	if (json_is_object(fctx) && !(fctx_text = hc_json_dump(fctx, NULL))) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	if (!(rid = strdup(hc_json_str(row, "id")))) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	hc_time_now(now);
	{
		/* A null parameter keeps the stored value. */
		struct hc_value p[] = { hc_vtext(to), hc_vtext(note),
					hc_vtext(to_domain),
					hc_vtext(fctx_text), hc_vtext(now),
					hc_vtext(rid) };
		rc = hc_exec(c,
			     "UPDATE capability_requests SET row_version = row_version + 1, status = ?, "
			     "status_reason = ?, providing_domain = "
			     "coalesce(?, providing_domain), "
			     "fulfillment_context = coalesce(?, "
			     "fulfillment_context), updated_at = ? WHERE id "
			     "= ?",
			     p, HC_COUNT(p), err);
	}
	if (rc == HC_OK)
		rc = record(c, rid, hc_json_str(row, "status"), to,
			    reroute ? hc_json_str(row, "providing_domain")
				    : NULL,
			    to_domain, actor, note, now, err);
	if (rc == HC_OK && out)
		rc = hc_res_get(c, &hc_capreq_resource, rid, out, err);
out:
	json_decref(row);
	free(to_domain);
	free(fctx_text);
	free(rid);
	return end_tx(c, own, rc, err);
}

int hc_capreq_transition_json(struct hc_conn *c, const char *id, json_t *in,
			      json_t **out, struct hc_err *err)
{
	int rc = validate_input(&hc_capreq_transition_input, in, err);
	if (rc != HC_OK)
		return rc;
	return capreq_move(c, id, in, false, out, err);
}

int hc_capreq_reroute_json(struct hc_conn *c, const char *id, json_t *in,
			   json_t **out, struct hc_err *err)
{
	int rc = validate_input(&hc_capreq_reroute_input, in, err);
	if (rc != HC_OK)
		return rc;
	return capreq_move(c, id, in, true, out, err);
}

/* Put a C string argument into args; NULL leaves it out, so that a
 * missing required one is reported by the validation. */
static int set_arg(json_t *args, const char *name, const char *value,
		   struct hc_err *err)
{
	json_t *v;
	if (!value)
		return HC_OK;
	v = json_string(value);
	if (!v)
		return hc_err_field(err, HC_EINVAL, name,
				    "field '%s' must be valid UTF-8", name);
	if (json_object_set_new(args, name, v))
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	return HC_OK;
}

int hc_capreq_transition(struct hc_conn *c, const char *id,
			 const char *status, const char *actor,
			 const char *note, json_t *fulfillment_context,
			 json_t **out, struct hc_err *err)
{
	json_t *args = json_object();
	int rc = args ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
	if (rc == HC_OK)
		rc = set_arg(args, "status", status, err);
	if (rc == HC_OK)
		rc = set_arg(args, "actor", actor, err);
	if (rc == HC_OK)
		rc = set_arg(args, "note", note, err);
	if (rc == HC_OK && fulfillment_context &&
	    json_object_set(args, "fulfillment_context", fulfillment_context))
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	if (rc == HC_OK)
		rc = hc_capreq_transition_json(c, id, args, out, err);
	json_decref(args);
	return rc;
}

int hc_capreq_accept(struct hc_conn *c, const char *id, const char *actor,
		     const char *note, json_t **out, struct hc_err *err)
{
	return hc_capreq_transition(c, id, "accepted", actor, note, NULL, out,
				    err);
}

int hc_capreq_reroute(struct hc_conn *c, const char *id, const char *to_domain,
		      const char *actor, const char *note, json_t **out,
		      struct hc_err *err)
{
	json_t *args = json_object();
	int rc = args ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
	if (rc == HC_OK)
		rc = set_arg(args, "to_domain", to_domain, err);
	if (rc == HC_OK)
		rc = set_arg(args, "actor", actor, err);
	if (rc == HC_OK)
		rc = set_arg(args, "note", note, err);
	if (rc == HC_OK)
		rc = hc_capreq_reroute_json(c, id, args, out, err);
	json_decref(args);
	return rc;
}
