/*
 * jsonschema.c - JSON Schemas from resource descriptors: one field's value, one
 * row. MCP tool schemas and the OpenAPI document are made from these, so
 * that both say what validation checks.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hubcore/resource.h"

static void prop(json_t *schema, const char *name, json_t *p, bool required)
{
	json_object_set_new(json_object_get(schema, "properties"), name, p);
	if (required) {
		json_t *req = json_object_get(schema, "required");
		if (!req) {
			req = json_array();
			json_object_set_new(schema, "required", req);
		}
		json_array_append_new(req, json_string(name));
	}
}

/* The JSON Schema of one field's value. */
json_t *hc_res_field_schema(const struct hc_field *f, bool nullable)
{
	json_t *s = json_object();
	const char *type = "string";
	switch (f->type) {
	case HC_FT_INT:
		type = "integer";
		break;
	case HC_FT_BOOL:
		type = "boolean";
		break;
	case HC_FT_JSON:
		type = f->json_kind == HC_JSON_ARRAY    ? "array"
		       : f->json_kind == HC_JSON_OBJECT ? "object"
							: NULL;
		break;
	case HC_FT_ENUM: {
		json_t *e = json_array();
		for (const char *const *v = f->enum_values; v && *v; v++)
			json_array_append_new(e, json_string(*v));
		if (nullable)
			json_array_append_new(e, json_null());
		json_object_set_new(s, "enum", e);
		break;
	}
	case HC_FT_DATE:
		json_object_set_new(s, "format", json_string("date"));
		break;
	case HC_FT_DATETIME:
		json_object_set_new(s, "format", json_string("date-time"));
		break;
	case HC_FT_UUID:
		json_object_set_new(s, "format", json_string("uuid"));
		break;
	case HC_FT_SLUG:
		json_object_set_new(s, "pattern",
				    json_string("^[a-z0-9]+(-[a-z0-9]+)*$"));
		break;
	case HC_FT_NAME:
		json_object_set_new(s, "pattern",
				    json_string("^[A-Za-z0-9][A-Za-z0-9_.:-]*$"));
		break;
	default:
		break;
	}
	if (type) {
		if (nullable)
			json_object_set_new(s, "type",
					    json_pack("[ss]", type, "null"));
		else
			json_object_set_new(s, "type", json_string(type));
	}
	if ((f->type == HC_FT_STRING || f->type == HC_FT_TEXT ||
	     f->type == HC_FT_NAME) && f->max_len)
		json_object_set_new(s, "maxLength",
				    json_integer((json_int_t)f->max_len));
	if (f->doc) {
		if (f->type == HC_FT_REF && f->ref) {
			char *d = NULL;
			if (asprintf(&d, "%s (the id or key of a %s)", f->doc,
				     f->ref->name) > 0)
				json_object_set_new(s, "description",
						    json_string(d));
			free(d);
		} else {
			json_object_set_new(s, "description",
					    json_string(f->doc));
		}
	}
	return s;
}

/* The schema of one row of a resource, as tools return it. */
json_t *hc_res_row_schema(const struct hc_resource *r)
{
	json_t *s = json_pack("{sss{}}", "type", "object", "properties");
	prop(s, "id", json_pack("{ss}", "type", "string"), true);
	for (size_t i = 0; i < r->nfields; i++) {
		const struct hc_field *f = &r->fields[i];
		prop(s, f->name, hc_res_field_schema(f, !(f->flags & HC_F_REQUIRED)),
			 false);
	}
	prop(s, "created_at",
		 json_pack("{ssss}", "type", "string", "format", "date-time"),
		 true);
	prop(s, "updated_at",
		 json_pack("{ssss}", "type", "string", "format", "date-time"),
		 true);
	prop(s, "revision",
	     json_pack("{sssiss}", "type", "integer", "minimum", 1, "description",
		       "1 when created, one more with each change."),
	     false);
	return s;
}

