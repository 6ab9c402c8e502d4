/*
 * json.c - JSON parsing with positioned errors, and small helpers on top of
 * jansson (see hubcore/json.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hubcore/json.h"

int hc_json_parse(const char *data, size_t len, json_t **out,
		  struct hc_err *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		int line = jerr.line > 0 ? jerr.line : 1;
		int col = jerr.column > 0 ? jerr.column : 1;
		/* jansson reports the end of input as line 1 column 0 for an
		 * empty body; make that readable. */
		if (len == 0)
			return hc_err_at(err, HC_EJSON, NULL, 1, 1,
					 "request body is empty; expected a "
					 "JSON document");
		/* jansson names its own flag here; say what is wrong */
		if (strstr(jerr.text, "JSON_ALLOW_NUL"))
			return hc_err_at(err, HC_EJSON, NULL, line, col,
					 "malformed JSON at line %d, column %d: "
					 "\\u0000 (NUL) is not allowed in "
					 "strings",
					 line, col);
		return hc_err_at(err, HC_EJSON, NULL, line, col,
				 "malformed JSON at line %d, column %d: %s",
				 line, col, jerr.text);
	}
	*out = j;
	return HC_OK;
}

char *hc_json_dump(const json_t *j, size_t *len)
{
	size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
	char *buf;
	if (n == 0)
		return NULL;
	buf = malloc(n + 1);
	if (!buf)
		return NULL;
	if (json_dumpb(j, buf, n, JSON_COMPACT | JSON_ENCODE_ANY) != n) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

const char *hc_json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int hc_json_set_str(json_t *obj, const char *key, const char *value)
{
	json_t *v = value ? json_string(value) : json_null();
	if (!v || json_object_set_new(obj, key, v))
		return HC_ENOMEM;
	return HC_OK;
}

int hc_json_set_int(json_t *obj, const char *key, int64_t value)
{
	json_t *v = json_integer((json_int_t)value);
	if (!v || json_object_set_new(obj, key, v))
		return HC_ENOMEM;
	return HC_OK;
}
