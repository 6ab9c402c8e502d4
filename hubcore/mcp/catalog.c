/*
 * catalog.c - MCP prompts, resources with their templates, and completion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/json.h"
#include "hubcore/util.h"
#include "mcp_internal.h"

int hc__mcp_catalog_init(struct hc_mcp_server *srv, struct hc_err *err)
{
	const struct hc_mcp_def *def = srv->def;
	size_t np = def->nprompts, nr = def->nresources;
	if (srv->opt.test_fixtures) {
		np += hc__mcp_fixture_nprompts;
		nr += hc__mcp_fixture_nresources;
	}
	srv->prompts = calloc(np + 1, sizeof(*srv->prompts));
	srv->families = calloc(nr + 1, sizeof(*srv->families));
	if (!srv->prompts || !srv->families)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	/* Fixtures first, as with tools: the conformance suite reads the
	 * first page and the first resource. */
	if (srv->opt.test_fixtures) {
		for (size_t i = 0; i < hc__mcp_fixture_nprompts; i++)
			srv->prompts[srv->nprompts++] =
				&hc__mcp_fixture_prompts[i];
		for (size_t i = 0; i < hc__mcp_fixture_nresources; i++)
			srv->families[srv->nfamilies++] =
				&hc__mcp_fixture_resources[i];
	}
	for (size_t i = 0; i < def->nprompts; i++)
		srv->prompts[srv->nprompts++] = &def->prompts[i];
	for (size_t i = 0; i < def->nresources; i++)
		srv->families[srv->nfamilies++] = &def->resources[i];
	for (size_t i = 0; i < srv->nprompts; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(srv->prompts[i]->name,
				   srv->prompts[k]->name) == 0)
				return hc_err_set(err, HC_EINTERNAL,
						  "two prompts are named '%s'",
						  srv->prompts[i]->name);
	return HC_OK;
}

void hc__mcp_catalog_free(struct hc_mcp_server *srv)
{
	free(srv->prompts);
	free(srv->families);
	srv->prompts = NULL;
	srv->families = NULL;
}

static const struct hc_mcp_prompt *find_prompt(struct hc_mcp_server *srv,
					       const char *name)
{
	for (size_t i = 0; name && i < srv->nprompts; i++)
		if (strcmp(srv->prompts[i]->name, name) == 0)
			return srv->prompts[i];
	return NULL;
}

/* A page of a list built whole (prompts, resources): the offset comes
 * from the cursor, nextCursor is set when more remain. */
static json_t *page(json_t *all, size_t offset, const char *key)
{
	json_t *items = json_array(), *r;
	size_t n = json_array_size(all);
	for (size_t i = offset; i < n && i < offset + MCP_PAGE; i++)
		json_array_append(items, json_array_get(all, i));
	r = json_pack("{so}", key, items);
	if (offset + MCP_PAGE < n) {
		char cur[HC_CURSOR_MAX];
		hc__mcp_cursor(offset + MCP_PAGE, cur, sizeof(cur));
		json_object_set_new(r, "nextCursor", json_string(cur));
	}
	return r;
}

/* ---- prompts ----------------------------------------------------------------- */

int hc__mcp_prompts_list(struct hc_mcp_call *call, json_t *params,
			 json_t **result, struct mcp_error *e)
{
	struct hc_mcp_server *srv = call->srv;
	json_t *all = json_array();
	size_t offset;
	if (hc__mcp_uncursor(params, &offset, e) != 0) {
		json_decref(all);
		return -1;
	}
	for (size_t i = 0; i < srv->nprompts; i++) {
		const struct hc_mcp_prompt *p = srv->prompts[i];
		json_t *j = json_pack("{ssss}", "name", p->name, "description",
				      p->description);
		if (p->title)
			json_object_set_new(j, "title", json_string(p->title));
		if (p->nargs) {
			json_t *args = json_array();
			for (size_t k = 0; k < p->nargs; k++)
				json_array_append_new(
					args,
					json_pack("{sssssb}", "name",
						  p->args[k].name,
						  "description",
						  p->args[k].description,
						  "required",
						  p->args[k].required));
			json_object_set_new(j, "arguments", args);
		}
		json_array_append_new(all, j);
	}
	*result = page(all, offset, "prompts");
	json_decref(all);
	return 0;
}

int hc__mcp_prompts_get(struct hc_mcp_call *call, json_t *params,
			json_t **result, struct mcp_error *e)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	const struct hc_mcp_prompt *p = find_prompt(call->srv, name);
	json_t *args = json_object_get(params, "arguments");
	struct hc_err err = { 0 };
	char subject[96];
	const char *key;
	json_t *v;
	int rc;

	if (!p)
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: unknown prompt '%s'",
				     name ? name : "");
	if (args && !json_is_object(args) && !json_is_null(args))
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: arguments must be an "
				     "object of strings");
	json_object_foreach(args, key, v)
	{
		bool known = false;
		for (size_t k = 0; k < p->nargs; k++)
			known = known || strcmp(p->args[k].name, key) == 0;
		if (!known || !json_is_string(v))
			return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
					     "Invalid params: %s argument "
					     "'%s'",
					     known ? "non-string" : "unknown",
					     key);
	}
	for (size_t k = 0; k < p->nargs; k++)
		if (p->args[k].required &&
		    !json_is_string(json_object_get(args, p->args[k].name)))
			return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
					     "Invalid params: missing required "
					     "argument '%s'",
					     p->args[k].name);
	snprintf(subject, sizeof(subject), "prompt:%s", p->name);
	call->state_subject = subject;
	if (hc__mcp_begin_rounds(call, params, e) != 0)
		return -1;
	args = json_is_object(args) ? json_incref(args) : json_object();
	rc = p->fn(call, args, result, &err);
	json_decref(args);
	if (rc == HC_MCP_INPUT_REQUIRED && call->modern) {
		*result = hc__mcp_input_required(call);
		return 0;
	}
	if (rc != HC_OK)
		return hc__mcp_error(e,
				     rc == HC_ENOTFOUND || rc == HC_EINVAL
					     ? HC_RPC_INVALID_PARAMS
					     : HC_RPC_INTERNAL_ERROR,
				     "%s", err.msg[0] ? err.msg : "prompt failed");
	return 0;
}

/* ---- resources ----------------------------------------------------------------- */

int hc__mcp_resources_list(struct hc_mcp_call *call, json_t *params,
			   json_t **result, struct mcp_error *e)
{
	struct hc_mcp_server *srv = call->srv;
	json_t *all = json_array();
	struct hc_err err = { 0 };
	size_t offset;
	if (hc__mcp_uncursor(params, &offset, e) != 0) {
		json_decref(all);
		return -1;
	}
	for (size_t i = 0; i < srv->nfamilies; i++) {
		const struct hc_mcp_resource_family *f = srv->families[i];
		if (f->list && f->list(call, all, &err) != HC_OK) {
			json_decref(all);
			return hc__mcp_error(e, HC_RPC_INTERNAL_ERROR, "%s",
					     err.msg);
		}
	}
	*result = page(all, offset, "resources");
	json_decref(all);
	return 0;
}

int hc__mcp_templates_list(struct hc_mcp_call *call, json_t *params,
			   json_t **result, struct mcp_error *e)
{
	struct hc_mcp_server *srv = call->srv;
	json_t *all = json_array();
	size_t offset;
	if (hc__mcp_uncursor(params, &offset, e) != 0) {
		json_decref(all);
		return -1;
	}
	for (size_t i = 0; i < srv->nfamilies; i++) {
		const struct hc_mcp_resource_family *f = srv->families[i];
		json_t *j;
		if (!strchr(f->uri_template, '{'))
			continue;
		j = json_pack("{ssssss}", "uriTemplate", f->uri_template,
			      "name", f->name, "description", f->description);
		if (f->title)
			json_object_set_new(j, "title", json_string(f->title));
		if (f->mime_type)
			json_object_set_new(j, "mimeType",
					    json_string(f->mime_type));
		json_array_append_new(all, j);
	}
	*result = page(all, offset, "resourceTemplates");
	json_decref(all);
	return 0;
}

int hc__mcp_read(struct hc_mcp_call *call, const char *uri, json_t **contents,
		 struct hc_err *err)
{
	struct hc_mcp_server *srv = call->srv;
	for (size_t i = 0; i < srv->nfamilies; i++) {
		int rc = srv->families[i]->read(call, uri, contents, err);
		if (rc != HC_ENOTFOUND)
			return rc;
		hc_err_clear(err);
	}
	return HC_ENOTFOUND;
}

int hc__mcp_resources_read(struct hc_mcp_call *call, json_t *params,
			   json_t **result, struct mcp_error *e)
{
	const char *uri = json_string_value(json_object_get(params, "uri"));
	json_t *contents = NULL;
	struct hc_err err = { 0 };
	int rc;

	if (!uri)
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: uri is required");
	rc = hc__mcp_read(call, uri, &contents, &err);
	if (rc == HC_OK) {
		*result = json_pack("{so}", "contents", contents);
		return 0;
	}
	if (rc != HC_ENOTFOUND)
		return hc__mcp_error(e, HC_RPC_INTERNAL_ERROR, "%s", err.msg);
	/* 2026-07-28 moved "resource not found" to Invalid params. */
	hc__mcp_error(e, call->modern ? HC_RPC_INVALID_PARAMS
				      : HC_RPC_RESOURCE_NOT_FOUND,
		      "Resource not found: %s", uri);
	e->data = json_pack("{ss}", "uri", uri);
	return -1;
}

/* ---- completion ------------------------------------------------------------------ */

int hc__mcp_complete(struct hc_mcp_call *call, json_t *params,
		     json_t **result, struct mcp_error *e)
{
	json_t *ref = json_object_get(params, "ref");
	json_t *arg = json_object_get(params, "argument");
	const char *type = json_string_value(json_object_get(ref, "type"));
	const char *aname = json_string_value(json_object_get(arg, "name"));
	const char *value = json_string_value(json_object_get(arg, "value"));
	json_t *values = json_array();
	struct hc_err err = { 0 };
	int rc = HC_OK;
	size_t n;

	if (!type || !aname || !value) {
		json_decref(values);
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: completion/complete "
				     "needs ref.type, argument.name and "
				     "argument.value");
	}
	if (strcmp(type, "ref/prompt") == 0) {
		const struct hc_mcp_prompt *p = find_prompt(
			call->srv,
			json_string_value(json_object_get(ref, "name")));
		if (!p) {
			json_decref(values);
			return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
					     "Invalid params: unknown prompt");
		}
		for (size_t k = 0; k < p->nargs; k++)
			if (strcmp(p->args[k].name, aname) == 0 &&
			    p->args[k].complete)
				rc = p->args[k].complete(call, value, values,
							 &err);
	} else if (strcmp(type, "ref/resource") == 0) {
		const char *uri = json_string_value(json_object_get(ref, "uri"));
		for (size_t i = 0; uri && i < call->srv->nfamilies; i++) {
			const struct hc_mcp_resource_family *f =
				call->srv->families[i];
			if (strcmp(f->uri_template, uri) == 0 && f->complete)
				rc = f->complete(call, aname, value, values,
						 &err);
		}
	} else {
		json_decref(values);
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: ref.type must be "
				     "ref/prompt or ref/resource");
	}
	if (rc != HC_OK) {
		json_decref(values);
		return hc__mcp_error(e, HC_RPC_INTERNAL_ERROR, "%s", err.msg);
	}
	n = json_array_size(values);
	while (json_array_size(values) > 100)
		json_array_remove(values, json_array_size(values) - 1);
	*result = json_pack("{s{sosIsb}}", "completion", "values", values,
			    "total", (json_int_t)n, "hasMore", n > 100);
	return 0;
}
