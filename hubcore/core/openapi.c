/*
 * openapi.c - GET /openapi.json: the hub's OpenAPI 3.1 document, made from
 * the same const tables that serve requests: every route with its summary
 * and permission, and for the generic resource routes their schemas from
 * the resource descriptors (fields, types, enums, required, filters), so
 * the document cannot drift from what the hub does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/auth.h"
#include "hubcore/http.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/resource.h"
#include "hubcore/rest.h"

/* "Domain" for "domain", "TpscService" for "tpsc_service". */
static void schema_name(const struct hc_resource *r, char *out, size_t size)
{
	size_t n = 0;
	bool up = true;
	for (const char *p = r->name; *p && n + 1 < size; p++) {
		if (*p == '_' || *p == '-' || *p == ' ' || *p == '/') {
			up = true;
			continue;
		}
		out[n++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
		up = false;
	}
	out[n] = '\0';
}

static json_t *ref(const struct hc_resource *r)
{
	char name[128];
	schema_name(r, name, sizeof(name));
	return json_sprintf("#/components/schemas/%s", name);
}

/* The body of a create (mode create) or update: the writable fields. */
static json_t *input_schema(const struct hc_resource *r, bool create)
{
	json_t *s = json_pack("{sss{}sb}", "type", "object", "properties",
			      "additionalProperties", 0);
	json_t *req = json_array();
	for (size_t i = 0; i < r->nfields; i++) {
		const struct hc_field *f = &r->fields[i];
		if (f->flags & HC_F_READONLY)
			continue;
		if (!create && (f->flags & HC_F_IMMUTABLE))
			continue;
		json_object_set_new(json_object_get(s, "properties"), f->name,
				    hc_res_field_schema(f, !(f->flags &
							     HC_F_REQUIRED)));
		if (create && (f->flags & HC_F_REQUIRED) &&
		    !(f->flags & HC_F_AUTO))
			json_array_append_new(req, json_string(f->name));
	}
	if (json_array_size(req))
		json_object_set_new(s, "required", req);
	else
		json_decref(req);
	return s;
}

static json_t *json_content(json_t *schema)
{
	return json_pack("{s{so}}", "application/json", "schema", schema);
}

static json_t *problem_response(void)
{
	return json_pack("{sss{s{s{ss}}}}", "description",
			 "An RFC 9457 problem document naming what was wrong",
			 "content", "application/problem+json", "schema", "$ref",
			 "#/components/schemas/Problem");
}

/* "/domains/{key}" stays; "/policy/{path...}" becomes "/policy/{path}". */
static void oa_path(const char *pattern, char *out, size_t size,
		    json_t *params)
{
	size_t n = 0;
	for (const char *p = pattern; *p && n + 1 < size;) {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			size_t len = end ? (size_t)(end - p - 1) : 0;
			char name[64];
			if (len >= 3 && strncmp(p + 1 + len - 3, "...", 3) == 0)
				len -= 3;
			snprintf(name, sizeof(name), "%.*s", (int)len, p + 1);
			n += (size_t)snprintf(out + n, size - n, "{%s}", name);
			json_array_append_new(
				params,
				json_pack("{sssssbs{ss}}", "name", name, "in",
					  "path", "required", 1, "schema", "type",
					  "string"));
			p = end ? end + 1 : p + strlen(p);
			continue;
		}
		out[n++] = *p++;
	}
	out[n < size ? n : size - 1] = '\0';
}

static void add_route(json_t *paths, json_t *schemas,
		      const struct hc_route *r)
{
	char path[512], opid[600], method[16];
	json_t *params = json_array(), *op, *item, *responses;
	const struct hc_resource *res = NULL;
	size_t i;

	oa_path(r->pattern, path, sizeof(path), params);
	for (i = 0; r->method[i] && i + 1 < sizeof(method); i++)
		method[i] = (char)(r->method[i] | 0x20);
	method[i] = '\0';
	snprintf(opid, sizeof(opid), "%s%s", method, path);
	for (char *p = opid; *p; p++)
		if (*p == '/' || *p == '{' || *p == '}' || *p == '.')
			*p = '_';
	responses = json_pack("{so}", "default", problem_response());
	op = json_pack("{sssssoso}", "operationId", opid, "summary",
		       r->summary ? r->summary : "", "parameters", params,
		       "responses", responses);
	{
		/* the first path segment is the tag */
		const char *s = r->pattern + 1;
		size_t n = strcspn(s, "/");
		json_object_set_new(op, "tags",
				    json_pack("[s%]", n ? s : "hub",
					      n ? n : (size_t)3));
	}
	if (r->scope == HC_SCOPE_PUBLIC)
		json_object_set_new(op, "security", json_array());
	else
		json_object_set_new(op, "security",
				    json_pack("[{s[]}]", "bearer"));
	json_object_set_new(op, "x-foshub-permission",
			    json_string(hc_scope_name(r->scope)));
	if (r->handler == hc_rest_list || r->handler == hc_rest_get ||
	    r->handler == hc_rest_create || r->handler == hc_rest_update)
		res = r->arg;
	if (res) {
		char name[128];
		schema_name(res, name, sizeof(name));
		if (!json_object_get(schemas, name))
			json_object_set_new(schemas, name,
					    hc_res_row_schema(res));
	}
	if (r->handler == hc_rest_list && res) {
		for (size_t k = 0; k < res->nfields; k++) {
			const struct hc_field *f = &res->fields[k];
			if (f->flags & HC_F_FILTER)
				json_array_append_new(
					params,
					json_pack("{sssssbso}", "name", f->name,
						  "in", "query", "required", 0,
						  "schema",
						  hc_res_field_schema(f,
								      false)));
		}
		json_array_append_new(
			params, json_pack("{sssssbs{sssisi}}", "name", "limit",
					  "in", "query", "required", 0, "schema",
					  "type", "integer", "minimum", 1,
					  "maximum", 500));
		json_array_append_new(
			params, json_pack("{sssssbs{ss}}", "name", "cursor",
					  "in", "query", "required", 0, "schema",
					  "type", "string"));
		json_object_set_new(
			responses, "200",
			json_pack("{ssso}", "description",
				  "A page, newest or oldest first; next_cursor "
				  "fetches the next",
				  "content",
				  json_content(json_pack(
					  "{sss{s{sss{so}}s{s[ss]}}}", "type",
					  "object", "properties", "items",
					  "type", "array", "items", "$ref",
					  ref(res), "next_cursor", "type",
					  "string", "null"))));
	} else if (res && r->handler == hc_rest_get) {
		json_object_set_new(responses, "200",
				    json_pack("{ssso}", "description", "The row",
					      "content",
					      json_content(json_pack(
						      "{so}", "$ref",
						      ref(res)))));
	} else if (res) {
		bool create = r->handler == hc_rest_create;
		json_object_set_new(op, "requestBody",
				    json_pack("{sbso}", "required", 1,
					      "content",
					      json_content(input_schema(
						      res, create))));
		json_object_set_new(responses, create ? "201" : "200",
				    json_pack("{ssso}", "description",
					      create ? "Created" : "Updated",
					      "content",
					      json_content(json_pack(
						      "{so}", "$ref",
						      ref(res)))));
	} else {
		json_object_set_new(responses, "2XX",
				    json_pack("{ss}", "description",
					      "Success"));
	}
	if (r->scope != HC_SCOPE_PUBLIC) {
		json_object_set_new(responses, "401",
				    json_pack("{ss}", "description",
					      "No token, or a token refused "
					      "(WWW-Authenticate says why)"));
		json_object_set_new(responses, "403",
				    json_pack("{ss}", "description",
					      "The token's roles do not give "
					      "the permission"));
	}
	item = json_object_get(paths, path);
	if (!item) {
		item = json_object();
		json_object_set_new(paths, path, item);
	}
	json_object_set_new(item, method, op);
}

int hc_get_openapi(struct hc_req *req, struct hc_resp *resp,
		   struct hc_err *err)
{
	const struct hc_hub_def *def = req->hub->def;
	json_t *paths = json_object(), *schemas = json_object(), *doc;
	for (size_t t = 0; t < def->nroutes; t++)
		for (size_t i = 0; i < def->routes[t]->count; i++)
			add_route(paths, schemas, &def->routes[t]->routes[i]);
	json_object_set_new(
		schemas, "Problem",
		json_pack("{sss{s{ss}s{ss}s{ss}s{ss}s{ss}s{ss}s{ss}}}", "type",
			  "object", "properties", "type", "type", "string",
			  "title", "type", "string", "status", "type",
			  "integer", "detail", "type", "string", "instance",
			  "type", "string", "field", "type", "string",
			  "source", "type", "string"));
	doc = json_pack("{sss{ssssss}s[{ss}]s{sos{s{ssssss}}}so}", "openapi",
			"3.1.0", "info", "title", def->name, "version",
			hc_version(), "description",
			def->description ? def->description : "", "servers",
			"url",
			req->hub->auth ? hc_auth_audience(req->hub->auth) : "/",
			"components", "schemas", schemas, "securitySchemes",
			"bearer", "type", "http", "scheme", "bearer",
			"bearerFormat", "JWT", "paths", paths);
	if (!doc)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	return hc_resp_json(resp, 200, doc);
}
