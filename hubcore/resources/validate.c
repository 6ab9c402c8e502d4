/*
 * validate.c - checking JSON input against a resource descriptor.
 *
 * Validation is pure: it needs no storage and changes nothing but the input
 * object itself (slugs are normalized, nothing else). Checks that need the
 * database (references, uniqueness) happen in the write path.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/buf.h"
#include "hubcore/resource.h"
#include "hubcore/util.h"
#include "resource_internal.h"

#define DEFAULT_STRING_MAX 200
#define DEFAULT_TEXT_MAX (1024 * 1024)

const struct hc_field *hc_res_field(const struct hc_resource *r,
				    const char *name)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (strcmp(r->fields[i].name, name) == 0)
			return &r->fields[i];
	return NULL;
}

static size_t max_len(const struct hc_field *f)
{
	if (f->max_len)
		return f->max_len;
	return f->type == HC_FT_TEXT ? DEFAULT_TEXT_MAX : DEFAULT_STRING_MAX;
}

static int enum_list(const struct hc_field *f, struct hc_buf *b)
{
	for (const char *const *v = f->enum_values; *v; v++)
		if (hc_buf_addf(b, "%s%s", v == f->enum_values ? "" : ", ", *v))
			return HC_ENOMEM;
	return HC_OK;
}

bool hc__enum_has(const struct hc_field *f, const char *value)
{
	for (const char *const *v = f->enum_values; v && *v; v++)
		if (strcmp(*v, value) == 0)
			return true;
	return false;
}

static const char *type_word(enum hc_ftype t)
{
	switch (t) {
	case HC_FT_INT:
		return "an integer";
	case HC_FT_BOOL:
		return "true or false";
	case HC_FT_JSON:
		return "a JSON object or array";
	default:
		return "a string";
	}
}

static bool is_alnum_ascii(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* A name that can stand in a URL path segment as it is: letters, digits
 * and - _ . :, starting with a letter or digit (so never "." or ".."). */
static bool url_name(const char *s, size_t len)
{
	if (len == 0 || !is_alnum_ascii(s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum_ascii(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.' && s[i] != ':')
			return false;
	return true;
}

/* No control characters in one-line strings; no NULs anywhere. */
static bool clean_text(const char *s, size_t len, bool multiline)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0)
			return false;
		if (c < 0x20 || c == 0x7f) {
			if (!multiline)
				return false;
			if (c != '\n' && c != '\t' && c != '\r')
				return false;
		}
	}
	return true;
}

int hc__validate_value(const struct hc_field *f, json_t *obj, json_t *v,
		       struct hc_err *err)
{
	const char *s;
	size_t len;

	if (json_is_null(v)) {
		if (f->flags & HC_F_REQUIRED)
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s' is required and must "
					    "not be null",
					    f->name);
		return HC_OK;
	}
	switch (f->type) {
	case HC_FT_INT:
		if (!json_is_integer(v))
			goto wrong_type;
		return HC_OK;
	case HC_FT_BOOL:
		if (!json_is_boolean(v))
			goto wrong_type;
		return HC_OK;
	case HC_FT_JSON:
		if (f->json_kind == HC_JSON_OBJECT && !json_is_object(v))
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s' must be a JSON object",
					    f->name);
		if (f->json_kind == HC_JSON_ARRAY && !json_is_array(v))
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s' must be a JSON array",
					    f->name);
		if (!json_is_object(v) && !json_is_array(v))
			goto wrong_type;
		return HC_OK;
	default:
		break;
	}
	if (!json_is_string(v))
		goto wrong_type;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > max_len(f))
		return hc_err_field(err, HC_EINVAL, f->name,
				    "field '%s' is longer than %zu bytes",
				    f->name, max_len(f));
	if (!clean_text(s, len, f->type == HC_FT_TEXT))
		return hc_err_field(err, HC_EINVAL, f->name,
				    "field '%s' contains control characters",
				    f->name);
	switch (f->type) {
	case HC_FT_STRING:
	case HC_FT_TEXT:
		if ((f->flags & HC_F_REQUIRED) &&
		    hc_slice_trim(hc_slice_from(s, len)).len == 0)
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s' must not be empty",
					    f->name);
		return HC_OK;
	case HC_FT_NAME:
		if (!url_name(s, len))
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s' must start with a "
					    "letter or digit and contain only "
					    "letters, digits and - _ . :",
					    f->name);
		return HC_OK;
	case HC_FT_ENUM:
		if (!hc__enum_has(f, s)) {
			struct hc_buf b = HC_BUF_INIT(4096);
			enum_list(f, &b);
			hc_err_field(err, HC_EINVAL, f->name,
				     "field '%s' must be one of %s, not '%s'",
				     f->name, b.data ? b.data : "", s);
			hc_buf_release(&b);
			return HC_EINVAL;
		}
		return HC_OK;
	case HC_FT_DATE:
		if (!hc_is_date(s))
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s' must be a date "
					    "YYYY-MM-DD",
					    f->name);
		return HC_OK;
	case HC_FT_DATETIME:
		if (!hc_is_datetime(s))
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s' must be an RFC 3339 "
					    "date-time",
					    f->name);
		return HC_OK;
	case HC_FT_UUID: {
		char lower[HC_UUID_LEN + 1];
		if (!hc_is_uuid(s))
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s' must be a UUID",
					    f->name);
		/* one spelling per UUID, so uniqueness means something */
		for (size_t i = 0; i <= HC_UUID_LEN; i++)
			lower[i] = (char)tolower((unsigned char)s[i]);
		if (strcmp(lower, s) != 0 &&
		    json_object_set_new(obj, f->name, json_string(lower)))
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		return HC_OK;
	}
	case HC_FT_SLUG: {
		char slug[HC_SLUG_MAX + 1];
		struct hc_err e2 = { 0 };
		if (hc_slugify(s, len, slug, sizeof(slug), &e2) != HC_OK)
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s' %s", f->name, e2.msg);
		if (strcmp(slug, s) != 0 &&
		    json_object_set_new(obj, f->name, json_string(slug)))
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		return HC_OK;
	}
	case HC_FT_REF:
		if (len == 0)
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s' must not be empty",
					    f->name);
		return HC_OK;
	default:
		return HC_OK;
	}
wrong_type:
	return hc_err_field(err, HC_EINVAL, f->name, "field '%s' must be %s",
			    f->name, type_word(f->type));
}

int hc__check_strings(const json_t *obj, const char *field, size_t max_items,
		      size_t max_len, struct hc_err *err)
{
	json_t *arr = json_object_get(obj, field), *v;
	size_t i;
	if (!arr || json_is_null(arr))
		return HC_OK;
	if (!json_is_array(arr))
		return hc_err_field(err, HC_EINVAL, field,
				    "field '%s' must be a JSON array", field);
	if (json_array_size(arr) > max_items)
		return hc_err_field(err, HC_EINVAL, field,
				    "field '%s' has more than %zu items",
				    field, max_items);
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		if (!s || hc_slice_trim(hc_slice_from(s, len)).len == 0)
			return hc_err_field(err, HC_EINVAL, field,
					    "field '%s': item %zu must be a "
					    "non-empty string",
					    field, i);
		if (len > max_len)
			return hc_err_field(err, HC_EINVAL, field,
					    "field '%s': item %zu is longer "
					    "than %zu bytes",
					    field, i, max_len);
		if (!clean_text(s, len, false))
			return hc_err_field(err, HC_EINVAL, field,
					    "field '%s': item %zu contains "
					    "control characters",
					    field, i);
	}
	return HC_OK;
}

/* Client-supplied ids appear in URLs: see url_name; bounded. */
int hc__validate_id(const struct hc_resource *r, const json_t *v,
		    struct hc_err *err)
{
	size_t max = r->id_max_len ? r->id_max_len : 64;
	size_t len;
	if (!json_is_string(v))
		return hc_err_field(err, HC_EINVAL, "id",
				    "field 'id' must be a string");
	len = json_string_length(v);
	if (len == 0 || len > max)
		return hc_err_field(err, HC_EINVAL, "id",
				    "field 'id' must be 1 to %zu characters",
				    max);
	if (!url_name(json_string_value(v), len))
		return hc_err_field(err, HC_EINVAL, "id",
				    "field 'id' must start with a letter or "
				    "digit and contain only letters, digits "
				    "and - _ . :");
	return HC_OK;
}

int hc_res_validate(const struct hc_resource *r, json_t *in,
		    enum hc_write_mode mode, struct hc_err *err)
{
	const char *key;
	json_t *v;
	void *tmp;
	int rc;

	if (!json_is_object(in))
		return hc_err_set(err, HC_EINVAL,
				  "the request body must be a JSON object");
	json_object_foreach_safe(in, tmp, key, v)
	{
		const struct hc_field *f;
		if (strcmp(key, "id") == 0) {
			if (mode == HC_WRITE_UPDATE)
				return hc_err_field(err, HC_EINVAL, "id",
						    "field 'id' cannot be "
						    "changed");
			if (r->id_policy == HC_ID_UUID &&
			    mode == HC_WRITE_CREATE)
				return hc_err_field(err, HC_EINVAL, "id",
						    "field 'id' is assigned "
						    "by the server");
			rc = hc__validate_id(r, v, err);
			if (rc != HC_OK)
				return rc;
			continue;
		}
		if (strcmp(key, "created_at") == 0 ||
		    strcmp(key, "updated_at") == 0 ||
		    strcmp(key, "revision") == 0)
			return hc_err_field(err, HC_EINVAL, key,
					    "field '%s' is read-only", key);
		f = hc_res_field(r, key);
		if (!f)
			return hc_err_field(err, HC_EINVAL, key,
					    "unknown field '%s' for %s", key,
					    r->name);
		if (f->flags & HC_F_READONLY)
			return hc_err_field(err, HC_EINVAL, key,
					    "field '%s' is read-only", key);
		if (mode == HC_WRITE_UPDATE && (f->flags & HC_F_IMMUTABLE))
			return hc_err_field(err, HC_EINVAL, key,
					    "field '%s' cannot be changed", key);
		rc = hc__validate_value(f, in, v, err);
		if (rc != HC_OK)
			return rc;
	}
	/* An update and an upsert of an existing row keep what is absent;
	 * defaults and required fields concern new rows only. */
	if (mode != HC_WRITE_CREATE)
		return HC_OK;
	return hc__complete_new(r, in, err);
}

int hc__complete_new(const struct hc_resource *r, json_t *in,
		     struct hc_err *err)
{
	if (r->id_policy == HC_ID_CLIENT && !json_object_get(in, "id"))
		return hc_err_field(err, HC_EINVAL, "id",
				    "missing required field 'id'");
	for (size_t i = 0; i < r->nfields; i++) {
		const struct hc_field *f = &r->fields[i];
		if (json_object_get(in, f->name))
			continue;
		if (f->default_value) {
			json_t *d;
			switch (f->type) {
			case HC_FT_BOOL:
				d = json_boolean(strcmp(f->default_value,
							"true") == 0);
				break;
			case HC_FT_INT:
				d = json_integer(
					strtoll(f->default_value, NULL, 10));
				break;
			case HC_FT_JSON:
				d = json_loads(f->default_value, 0, NULL);
				break;
			default:
				d = json_string(f->default_value);
			}
			if (!d || json_object_set_new(in, f->name, d))
				return hc_err_set(err, HC_ENOMEM,
						  "out of memory");
			continue;
		}
		if ((f->flags & HC_F_REQUIRED) &&
		    !(f->flags & (HC_F_READONLY | HC_F_AUTO)))
			return hc_err_field(err, HC_EINVAL, f->name,
					    "missing required field '%s'",
					    f->name);
	}
	return HC_OK;
}
