/*
 * tools.c - MCP tools: which tools a server serves, their JSON Schema
 * 2020-12 input and output schemas generated from parameter tables and
 * resource descriptors, argument validation, tools/list and tools/call,
 * and the generic tools over described resources.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/auth.h"
#include "hubcore/json.h"
#include "hubcore/resources/resource_internal.h"
#include "hubcore/rest.h"
#include "hubcore/util.h"
#include "mcp_internal.h"

#define SCHEMA_DIALECT "https://json-schema.org/draft/2020-12/schema"

/* ---- schemas ----------------------------------------------------------------- */

static json_t *object_schema(void)
{
	return json_pack("{sssss{}sb}", "$schema", SCHEMA_DIALECT, "type",
			 "object", "properties", "additionalProperties", 0);
}

static void add_prop(json_t *schema, const char *name, json_t *prop,
		     bool required)
{
	json_object_set_new(json_object_get(schema, "properties"), name, prop);
	if (required) {
		json_t *req = json_object_get(schema, "required");
		if (!req) {
			req = json_array();
			json_object_set_new(schema, "required", req);
		}
		json_array_append_new(req, json_string(name));
	}
}

static const char *id_doc(const struct hc_resource *r)
{
	(void)r;
	return "The id (or key) of the row.";
}

static json_t *input_schema(const struct hc_mcp_tool *t)
{
	const struct hc_resource *r = t->resource;
	json_t *s;

	if (t->input_schema)
		return json_loads(t->input_schema, 0, NULL);
	s = object_schema();
	for (size_t i = 0; i < t->nparams; i++)
		add_prop(s, t->params[i].name, hc_res_field_schema(&t->params[i], false),
			 t->params[i].flags & HC_F_REQUIRED);
	switch (t->op) {
	case HC_MCP_OP_LIST:
		for (size_t i = 0; i < r->nfields; i++) {
			const struct hc_field *f = &r->fields[i];
			json_t *one, *p;
			if (!(f->flags & HC_F_FILTER))
				continue;
			one = hc_res_field_schema(f, false);
			p = json_pack("{s[oo]}", "anyOf", one,
				      json_pack("{sssO}", "type", "array",
						"items", one));
			json_object_set_new(p, "description",
					    json_sprintf("Only rows whose %s "
							 "is this value (or "
							 "any of these).",
							 f->name));
			add_prop(s, f->name, p, false);
		}
		add_prop(s, "limit",
			 json_pack("{sssisiss}", "type", "integer", "minimum",
				   1, "maximum", HC_LIST_MAX_LIMIT,
				   "description",
				   "Rows per page (default 50)."),
			 false);
		add_prop(s, "cursor",
			 json_pack("{ssss}", "type", "string", "description",
				   "next_cursor of the previous page."),
			 false);
		break;
	case HC_MCP_OP_GET:
		add_prop(s, "id",
			 json_pack("{ssss}", "type", "string", "description",
				   id_doc(r)),
			 true);
		break;
	case HC_MCP_OP_CREATE:
	case HC_MCP_OP_UPDATE:
		if (t->op == HC_MCP_OP_UPDATE || r->id_policy != HC_ID_UUID)
			add_prop(s, "id",
				 json_pack("{ssss}", "type", "string",
					   "description",
					   t->op == HC_MCP_OP_UPDATE
						   ? id_doc(r)
						   : "The id of the new row "
						     "(made by the hub when "
						     "absent, where it can)."),
				 t->op == HC_MCP_OP_UPDATE ||
					 r->id_policy == HC_ID_CLIENT);
		for (size_t i = 0; i < r->nfields; i++) {
			const struct hc_field *f = &r->fields[i];
			bool req;
			if (f->flags & HC_F_READONLY)
				continue;
			if (t->op == HC_MCP_OP_UPDATE &&
			    (f->flags & HC_F_IMMUTABLE))
				continue;
			req = t->op == HC_MCP_OP_CREATE &&
			      (f->flags & HC_F_REQUIRED) &&
			      !(f->flags & HC_F_AUTO) && !f->default_value;
			add_prop(s, f->name,
				 hc_res_field_schema(f, t->op == HC_MCP_OP_UPDATE &&
							 !(f->flags &
							   HC_F_REQUIRED)),
				 req);
		}
		if (t->op == HC_MCP_OP_UPDATE)
			add_prop(s, "expected_revision",
				 json_pack("{sssiss}", "type", "integer",
					   "minimum", 1, "description",
					   "Apply only if the row is still at "
					   "this revision (its 'revision' when "
					   "you read it); otherwise the tool "
					   "fails and changes nothing."),
				 false);
		break;
	default:
		break;
	}
	return s;
}

static json_t *output_schema(const struct hc_mcp_tool *t)
{
	json_t *row, *s;
	if (t->output_schema)
		return json_loads(t->output_schema, 0, NULL);
	if (!t->resource || t->op == HC_MCP_OP_NONE)
		return NULL;
	row = hc_res_row_schema(t->resource);
	if (t->op != HC_MCP_OP_LIST) {
		json_object_set_new(row, "$schema", json_string(SCHEMA_DIALECT));
		return row;
	}
	s = json_pack("{sssss{s{ssso}s{s[ss]}}s[ss]}", "$schema",
		      SCHEMA_DIALECT, "type", "object", "properties", "items",
		      "type", "array", "items", row, "next_cursor", "type",
		      "string", "null", "required", "items", "next_cursor");
	return s;
}

static json_t *tool_json(const struct hc_mcp_tool *t)
{
	json_t *j = json_pack("{ss}", "name", t->name);
	json_t *out = output_schema(t), *ann = json_object();
	if (t->title)
		json_object_set_new(j, "title", json_string(t->title));
	json_object_set_new(j, "description", json_string(t->description));
	json_object_set_new(j, "inputSchema", input_schema(t));
	if (out)
		json_object_set_new(j, "outputSchema", out);
	if (t->title)
		json_object_set_new(ann, "title", json_string(t->title));
	json_object_set_new(ann, "readOnlyHint",
			    json_boolean(t->flags & HC_MCP_READONLY));
	if (!(t->flags & HC_MCP_READONLY)) {
		json_object_set_new(ann, "destructiveHint",
				    json_boolean(t->flags & HC_MCP_DESTRUCTIVE));
		json_object_set_new(ann, "idempotentHint",
				    json_boolean(t->flags & HC_MCP_IDEMPOTENT));
	}
	json_object_set_new(ann, "openWorldHint",
			    json_boolean(t->flags & HC_MCP_OPEN_WORLD));
	json_object_set_new(j, "annotations", ann);
	return j;
}

/* ---- which tools ----------------------------------------------------------------- */

/* 1 to 64 characters of [A-Za-z0-9_./-]. */
static bool valid_name(const char *n)
{
	size_t len = strlen(n);
	if (len < 1 || len > 64)
		return false;
	return strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_./-") == len;
}

static bool in_tool_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ", ");
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len;
		p += strspn(p, ", ");
	}
	return false;
}

static bool wanted(const struct hc_mcp_server *srv, const struct hc_mcp_tool *t)
{
	unsigned tiers = srv->opt.tiers ? srv->opt.tiers : HC_MCP_TIER_FULL;
	if (srv->opt.tool_list)
		return in_tool_list(srv->opt.tool_list, t->name);
	if (tiers & HC_MCP_TIER_FULL)
		return true;
	return (t->tiers & tiers) != 0;
}

static int add_tool(struct hc_mcp_server *srv, const struct hc_mcp_tool *t,
		    size_t *cap, struct hc_err *err)
{
	if (!valid_name(t->name))
		return hc_err_set(err, HC_EINTERNAL,
				  "tool name '%s' is not 1-64 characters of "
				  "[A-Za-z0-9_./-]",
				  t->name);
	if (!t->description || !*t->description || !t->fn)
		return hc_err_set(err, HC_EINTERNAL,
				  "tool '%s' has no description or function",
				  t->name);
	/* No tool may silently shadow another. */
	for (size_t i = 0; i < srv->ntools; i++)
		if (strcmp(srv->tools[i]->name, t->name) == 0)
			return hc_err_set(err, HC_EINTERNAL,
					  "two tools are named '%s'", t->name);
	if (srv->ntools == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		const struct hc_mcp_tool **nt =
			realloc(srv->tools, ncap * sizeof(*nt));
		json_t **nj = nt ? realloc(srv->tool_json, ncap * sizeof(*nj))
				 : NULL;
		if (nt)
			srv->tools = nt;
		if (!nj)
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		srv->tool_json = nj;
		*cap = ncap;
	}
	srv->tools[srv->ntools] = t;
	srv->tool_json[srv->ntools] = tool_json(t);
	if (!srv->tool_json[srv->ntools])
		return hc_err_set(err, HC_EINTERNAL,
				  "tool '%s' has a malformed schema", t->name);
	srv->ntools++;
	return HC_OK;
}

int hc__mcp_tools_init(struct hc_mcp_server *srv, struct hc_err *err)
{
	size_t cap = 0;
	int rc = HC_OK;
	/* Fixtures first: the conformance suite reads the first page. */
	if (srv->opt.test_fixtures)
		for (size_t i = 0; rc == HC_OK && i < hc__mcp_fixture_tools.count;
		     i++)
			rc = add_tool(srv, &hc__mcp_fixture_tools.tools[i], &cap,
				      err);
	for (size_t t = 0; rc == HC_OK && t < srv->def->ntools; t++) {
		const struct hc_mcp_tool_table *tab = srv->def->tools[t];
		for (size_t i = 0; rc == HC_OK && i < tab->count; i++)
			if (wanted(srv, &tab->tools[i]))
				rc = add_tool(srv, &tab->tools[i], &cap, err);
	}
	if (rc == HC_OK && srv->opt.tool_list) {
		/* every name asked for must exist */
		const char *p = srv->opt.tool_list;
		while (*p) {
			size_t len = strcspn(p, ", ");
			bool found = false;
			for (size_t i = 0; i < srv->ntools && len; i++)
				found = found ||
					(strlen(srv->tools[i]->name) == len &&
					 strncmp(srv->tools[i]->name, p, len) ==
						 0);
			if (len && !found)
				return hc_err_set(err, HC_EUSAGE,
						  "--mcp-tools: no tool named "
						  "'%.*s'",
						  (int)len, p);
			p += len;
			p += strspn(p, ", ");
		}
	}
	return rc;
}

void hc__mcp_tools_free(struct hc_mcp_server *srv)
{
	for (size_t i = 0; i < srv->ntools; i++)
		json_decref(srv->tool_json[i]);
	free(srv->tool_json);
	free(srv->tools);
	srv->tools = NULL;
	srv->tool_json = NULL;
	srv->ntools = 0;
}

const struct hc_mcp_tool *hc__mcp_tool(struct hc_mcp_server *srv,
				       const char *name)
{
	for (size_t i = 0; name && i < srv->ntools; i++)
		if (strcmp(srv->tools[i]->name, name) == 0)
			return srv->tools[i];
	return NULL;
}

size_t hc_mcp_tool_count(const struct hc_mcp_server *srv)
{
	return srv->ntools;
}

const struct hc_mcp_tool *hc_mcp_tool_at(const struct hc_mcp_server *srv,
					 size_t i)
{
	return i < srv->ntools ? srv->tools[i] : NULL;
}

static bool listed(const struct hc_mcp_call *call, const struct hc_mcp_tool *t)
{
	if (t->flags & HC_MCP_LEGACY_ONLY)
		return !call->modern;
	if (t->flags & HC_MCP_MODERN_ONLY)
		return call->modern;
	return true;
}

int hc__mcp_tools_list(struct hc_mcp_call *call, json_t *params,
		       json_t **result, struct mcp_error *e)
{
	struct hc_mcp_server *srv = call->srv;
	json_t *tools = json_array();
	size_t offset, n = 0, i;

	if (hc__mcp_uncursor(params, &offset, e) != 0) {
		json_decref(tools);
		return -1;
	}
	/* Deterministic order: the tables' order, every time. */
	for (i = 0; i < srv->ntools && n < offset + MCP_PAGE; i++) {
		if (!listed(call, srv->tools[i]))
			continue;
		if (n++ >= offset)
			json_array_append(tools, srv->tool_json[i]);
	}
	*result = json_pack("{so}", "tools", tools);
	for (; i < srv->ntools; i++) {
		if (listed(call, srv->tools[i])) {
			char cur[HC_CURSOR_MAX];
			hc__mcp_cursor(offset + MCP_PAGE, cur, sizeof(cur));
			json_object_set_new(*result, "nextCursor",
					    json_string(cur));
			break;
		}
	}
	return 0;
}

/* ---- calling ------------------------------------------------------------------------ */

/* Check arguments against the parameter table: unknown, missing, or of
 * the wrong type are refused naming the parameter. */
static int validate_args(const struct hc_mcp_tool *t, json_t *args,
			 struct hc_err *err)
{
	const char *key;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(args, tmp, key, v)
	{
		const struct hc_field *f = NULL;
		for (size_t i = 0; i < t->nparams; i++)
			if (strcmp(t->params[i].name, key) == 0)
				f = &t->params[i];
		if (!f)
			return hc_err_field(err, HC_EINVAL, key,
					    "unknown argument '%s'", key);
		if (hc__validate_value(f, args, v, err) != HC_OK) {
			/* say "argument", not "field", to an agent */
			char m[HC_ERR_MSG_MAX];
			const char *p = strncmp(err->msg, "field ", 6) == 0
						? err->msg + 6
						: err->msg;
			snprintf(m, sizeof(m), "argument %s", p);
			memcpy(err->msg, m, sizeof(m));
			return err->status;
		}
	}
	for (size_t i = 0; i < t->nparams; i++) {
		const struct hc_field *f = &t->params[i];
		if ((f->flags & HC_F_REQUIRED) && !json_object_get(args, f->name))
			return hc_err_field(err, HC_EINVAL, f->name,
					    "missing required argument '%s'",
					    f->name);
	}
	return HC_OK;
}

static json_t *text_content(const char *text)
{
	return json_pack("[{ssss}]", "type", "text", "text", text);
}

/* A tool execution error: the model sees the message and can correct
 * itself; the problem document goes along as structured data. */
static json_t *tool_error(const struct hc_err *err)
{
	char where[HC_ERR_MSG_MAX + HC_ERR_SOURCE_MAX + 32];
	char msg[sizeof(where) + 16];
	json_t *r;
	/* with the place, when the input was a document: "plan.md:12: ..." */
	snprintf(msg, sizeof(msg), "error: %s",
		 hc_err_format(err, where, sizeof(where)));
	r = json_pack("{sosb}", "content", text_content(msg), "isError", 1);
	return r;
}

static int check_input_responses(json_t *params, struct mcp_error *e)
{
	json_t *ir = json_object_get(params, "inputResponses");
	const char *k;
	json_t *v;
	if (!ir)
		return 0;
	if (!json_is_object(ir))
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: inputResponses must be an "
				     "object");
	json_object_foreach(ir, k, v)
	{
		if (!json_is_object(v))
			return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
					     "Invalid params: inputResponses."
					     "%s must be an object",
					     k);
	}
	return 0;
}

/*
 * The tool-call machinery shared with prompts: before running, verify a
 * returned requestState and take inputResponses; after, turn
 * HC_MCP_INPUT_REQUIRED into an input_required result.
 */
int hc__mcp_begin_rounds(struct hc_mcp_call *call, json_t *params,
			 struct mcp_error *e)
{
	json_t *state = json_object_get(params, "requestState");
	if (!call->modern)
		return 0;
	if (check_input_responses(params, e) != 0)
		return -1;
	call->input_responses = json_object_get(params, "inputResponses");
	if (state && !json_is_null(state)) {
		if (!json_is_string(state) ||
		    hc__mcp_state_verify(call->srv, call->state_subject,
					 json_string_value(state),
					 &call->state_in) != HC_OK)
			return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
					     "Invalid params: requestState was "
					     "not issued by this server for "
					     "this request, or was altered");
	}
	return 0;
}

json_t *hc__mcp_input_required(struct hc_mcp_call *call)
{
	json_t *r = json_pack("{ss}", "resultType", "input_required");
	if (call->input_requests)
		json_object_set(r, "inputRequests", call->input_requests);
	if (call->state_out) {
		char *token = hc__mcp_state_sign(call->srv, call->state_subject,
						 call->state_out);
		json_object_set_new(r, "requestState", json_string(token));
		free(token);
	}
	return r;
}

int hc__mcp_tools_call(struct hc_mcp_call *call, json_t *params,
		       json_t **result, struct mcp_error *e)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *args = json_object_get(params, "arguments"), *out = NULL;
	const struct hc_mcp_tool *t = hc__mcp_tool(call->srv, name);
	struct hc_err err = { 0 };
	char subject[96];
	int rc;

	if (!name)
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: name is required");
	if (!t || !listed(call, t))
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Unknown tool: %s", name);
	if (args && !json_is_object(args) && !json_is_null(args))
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: arguments must be an "
				     "object");
	/* identity checks: each tool has its scope (HTTP 403) */
	if (call->checked && t->scope > call->level) {
		hc__mcp_error(e, HC_RPC_INVALID_REQUEST,
			      "Forbidden: tool '%s' needs the %s permission; "
			      "the caller's roles give %s",
			      name, hc_scope_name(t->scope),
			      call->level ? hc_scope_name(call->level)
					  : "none");
		e->http = 403;
		return -1;
	}
	if (t->client_capability &&
	    !hc_mcp_client_has(call, t->client_capability)) {
		if (call->modern) {
			hc__mcp_error(e, HC_RPC_MISSING_CAPABILITY,
				      "Missing required client capability: %s",
				      t->client_capability);
			e->data = json_pack("{s{s{}}}", "requiredCapabilities",
					    t->client_capability);
			return -1;
		}
		hc_err_set(&err, HC_ECAPABILITY,
			   "tool '%s' needs the client capability '%s'", name,
			   t->client_capability);
		*result = tool_error(&err);
		return 0;
	}
	call->tool = t;
	snprintf(subject, sizeof(subject), "tool:%s", t->name);
	call->state_subject = subject;
	if (hc__mcp_begin_rounds(call, params, e) != 0)
		return -1;
	args = json_is_object(args) ? json_deep_copy(args) : json_object();
	/* Resource tools are checked by the service functions themselves,
	 * against the same descriptor their schema came from. */
	rc = t->input_schema || t->op != HC_MCP_OP_NONE
		     ? HC_OK
		     : validate_args(t, args, &err);
	if (rc == HC_OK)
		rc = t->fn(call, args, &out, &err);
	json_decref(args);
	if (rc == HC_MCP_INPUT_REQUIRED && call->modern) {
		*result = hc__mcp_input_required(call);
		return 0;
	}
	if (rc != HC_OK) {
		if (rc == HC_MCP_INPUT_REQUIRED)
			hc_err_set(&err, HC_EINTERNAL,
				   "the tool asked for input it cannot get");
		*result = tool_error(&err);
		return 0;
	}
	if (t->flags & HC_MCP_RAW_RESULT) {
		*result = out;
		return 0;
	}
	{
		/* The text is hc_json_dump's of a json_t whose strings are
		 * valid UTF-8, so it is valid UTF-8 too: jansson's check of
		 * it (a call per character) was 10% of a stdio tools/call. */
		size_t len = 0;
		char *text = hc_json_dump(out, &len);
		*result = json_pack(
			"{s[{ssso}]so?}", "content", "type", "text", "text",
			text ? json_stringn_nocheck(text, len)
			     : json_string("{}"),
			"structuredContent", out);
		free(text);
	}
	return 0;
}

/* ---- the generic resource tools -------------------------------------------------- */

/* One filter value from JSON: a string, number or boolean as text. */
static int filter_text(json_t *v, char *buf, size_t size)
{
	if (json_is_string(v))
		snprintf(buf, size, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
	else
		return -1;
	return 0;
}

static int list_tool(struct hc_mcp_call *call, const struct hc_resource *r,
		     json_t *args, json_t **out, struct hc_err *err)
{
	struct hc_list_query q;
	const char *key;
	json_t *v;
	struct hc_conn *c;
	int rc;

	memset(&q, 0, sizeof(q));
	json_object_foreach(args, key, v)
	{
		if (strcmp(key, "limit") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > HC_LIST_MAX_LIMIT)
				return hc_err_field(err, HC_EINVAL, "limit",
						    "argument 'limit' must be "
						    "an integer from 1 to %d",
						    HC_LIST_MAX_LIMIT);
			q.limit = (size_t)json_integer_value(v);
		} else if (strcmp(key, "cursor") == 0) {
			if (!json_is_string(v))
				return hc_err_field(err, HC_EINVAL, "cursor",
						    "argument 'cursor' must be "
						    "a string");
			q.cursor = json_string_value(v);
		} else {
			json_t *one;
			size_t i;
			json_t *vals = json_is_array(v) ? v : NULL;
			for (i = 0; i < (vals ? json_array_size(vals) : 1);
			     i++) {
				char text[512];
				one = vals ? json_array_get(vals, i) : v;
				if (filter_text(one, text, sizeof(text)) != 0)
					return hc_err_field(
						err, HC_EINVAL, key,
						"argument '%s' must be a value "
						"or a list of values",
						key);
				rc = hc_list_query_add(&q, r, key, text, err);
				if (rc != HC_OK) {
					err->status = HC_EINVAL;
					return rc == HC_EPARAM ? HC_EINVAL : rc;
				}
			}
		}
	}
	c = hc_mcp_db(call, err);
	if (!c)
		return err->status;
	rc = hc_res_list(c, r, &q, out, err);
	if (rc == HC_EPARAM)
		err->status = rc = HC_EINVAL;
	return rc;
}

int hc_mcp_resource_tool(struct hc_mcp_call *call, json_t *args, json_t **out,
			 struct hc_err *err)
{
	const struct hc_mcp_tool *t = call->tool;
	const struct hc_resource *r = t->resource;
	struct hc_conn *c;
	json_t *id;
	int rc;

	if (!r)
		HC_BUG("resource tool %s has no resource", t->name);
	if (t->op == HC_MCP_OP_LIST)
		return list_tool(call, r, args, out, err);
	c = hc_mcp_db(call, err);
	if (!c)
		return err->status;
	id = json_object_get(args, "id");
	if (t->op == HC_MCP_OP_GET || t->op == HC_MCP_OP_UPDATE) {
		if (!id)
			return hc_err_field(err, HC_EINVAL, "id",
					    "missing required argument 'id'");
		if (!json_is_string(id))
			return hc_err_field(err, HC_EINVAL, "id",
					    "argument 'id' must be a string");
	}
	if (t->op == HC_MCP_OP_GET) {
		const char *key;
		json_t *v;
		json_object_foreach(args, key, v)
			if (strcmp(key, "id") != 0)
				return hc_err_field(err, HC_EINVAL, key,
						    "unknown argument '%s'",
						    key);
	}
	switch (t->op) {
	case HC_MCP_OP_GET:
		return hc_res_get(c, r, json_string_value(id), out, err);
	case HC_MCP_OP_CREATE:
		return hc_res_create(c, r, args, out, err);
	case HC_MCP_OP_UPDATE: {
		json_t *ev = json_object_get(args, "expected_revision");
		int64_t expected = 0;
		char *key;
		if (ev && (!json_is_integer(ev) || json_integer_value(ev) < 1))
			return hc_err_field(err, HC_EINVAL, "expected_revision",
					    "argument 'expected_revision' must "
					    "be a positive integer");
		expected = ev ? json_integer_value(ev) : 0;
		key = strdup(json_string_value(id));
		if (!key)
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		json_object_del(args, "id");
		json_object_del(args, "expected_revision");
		rc = hc_res_update_if(c, r, key, args, expected, out, err);
		free(key);
		return rc;
	}
	default:
		HC_BUG("resource tool %s has no operation", t->name);
	}
}
