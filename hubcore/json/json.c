/*
 * json.c - JSON parsing with positioned errors, and small helpers on top of
 * jansson (see hubcore/json.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/buf.h"
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

/*
 * Serializing. jansson's encoder (json_dumpb, json_dumps) decodes every
 * string code point by code point, with a function call per character, to
 * find the few that need escaping; profiles of the hubs under load showed
 * it as 60% of their CPU. A json_t string is valid UTF-8 already (jansson
 * checks it when the string is made), so the only bytes to look at are
 * '"', '\\' and the control characters: runs of other bytes are copied
 * whole. The output is byte for byte what json_dumps(JSON_COMPACT |
 * JSON_ENCODE_ANY) writes (tests/unit/test_json.c compares the two);
 * reals, rare in the hubs, are still formatted by jansson.
 */
#define DUMP_MAX_DEPTH 2048 /* jansson's parser stops at 2048 too */

/* Room for n more bytes and the NUL in b, within its limit. */
static int buf_room(struct hc_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *p;
	if (n > b->limit || b->len > b->limit - n)
		return HC_ETOOBIG;
	if (b->cap - b->len > n)
		return HC_OK;
	while (cap - b->len <= n) {
		if (cap > SIZE_MAX / 2)
			return HC_ENOMEM;
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		return HC_ENOMEM;
	b->data = p;
	b->cap = cap;
	return HC_OK;
}

static int out_add(struct hc_buf *b, const char *s, size_t n)
{
	int rc = buf_room(b, n);
	if (rc != HC_OK)
		return rc;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return HC_OK;
}

/* 0: copied as it is; otherwise the letter after the backslash ('u' for
 * \u00XX). */
static const char escape_of[256] = {
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
	[0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',
	[0x05] = 'u', [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u',
	[0x0f] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u', [0x13] = 'u',
	[0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u',
	[0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u',
	[0x1e] = 'u', [0x1f] = 'u', ['"'] = '"', ['\\'] = '\\',
};

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* s must be valid UTF-8: only '"', '\\' and control bytes are escaped. */
static int dump_string(struct hc_buf *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0;
	int rc;
	/* at most 6 bytes out per byte in, and the quotes */
	if (n > (SIZE_MAX - 2) / 6)
		return HC_ENOMEM;
	if ((rc = buf_room(o, n * 6 + 2)) != HC_OK) {
		/* near the buffer's limit: room for the exact length */
		size_t need = n + 2;
		if (rc != HC_ETOOBIG)
			return rc;
		for (size_t k = 0; k < n; k++) {
			char e = escape_of[(unsigned char)s[k]];
			need += e == 'u' ? 5 : e ? 1 : 0;
		}
		if ((rc = buf_room(o, need)) != HC_OK)
			return rc;
	}
	o->data[o->len++] = '"';
	while (i < n) {
		size_t run = i;
		unsigned char c;
		/* eight bytes at a time while none is < 0x20, '"' or '\\' */
		for (; run + 8 <= n; run += 8) {
			uint64_t w, q, b;
			memcpy(&w, s + run, 8);
			q = w ^ (ONES * '"');
			b = w ^ (ONES * '\\');
			if (((w - ONES * 0x20) | (q - ONES) | (b - ONES)) &
			    ~w & HIGHS)
				break;
		}
		while (run < n && !escape_of[(unsigned char)s[run]])
			run++;
		memcpy(o->data + o->len, s + i, run - i);
		o->len += run - i;
		if (run == n)
			break;
		c = (unsigned char)s[run];
		o->data[o->len++] = '\\';
		o->data[o->len++] = escape_of[c];
		if (escape_of[c] == 'u') {
			memcpy(o->data + o->len, "00", 2);
			o->data[o->len + 2] = hex[c >> 4];
			o->data[o->len + 3] = hex[c & 15];
			o->len += 4;
		}
		i = run + 1;
	}
	o->data[o->len++] = '"';
	o->data[o->len] = '\0';
	return HC_OK;
}

static int dump_value(struct hc_buf *o, const json_t *j, int depth)
{
	int rc = HC_OK;
	if (depth > DUMP_MAX_DEPTH)
		return HC_EINVAL;
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		bool first = true;
		/* json_object_iter follows insertion order, as json_dumps */
		for (void *it = json_object_iter((json_t *)j); it && !rc;
		     it = json_object_iter_next((json_t *)j, it)) {
			rc = out_add(o, first ? "{" : ",", 1);
			if (!rc)
				rc = dump_string(o, json_object_iter_key(it),
						 json_object_iter_key_len(it));
			if (!rc)
				rc = out_add(o, ":", 1);
			if (!rc)
				rc = dump_value(o, json_object_iter_value(it),
						depth + 1);
			first = false;
		}
		return rc ? rc : out_add(o, first ? "{}" : "}", first ? 2 : 1);
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		rc = out_add(o, "[", 1);
		for (size_t i = 0; i < n && !rc; i++) {
			if (i)
				rc = out_add(o, ",", 1);
			if (!rc)
				rc = dump_value(o, json_array_get(j, i),
						depth + 1);
		}
		return rc ? rc : out_add(o, "]", 1);
	}
	case JSON_STRING:
		return dump_string(o, json_string_value(j),
				   json_string_length(j));
	case JSON_INTEGER: {
		char num[32];
		int n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(j));
		return out_add(o, num, (size_t)n);
	}
	case JSON_REAL: {
		char num[64];
		size_t n = json_dumpb(j, num, sizeof(num), JSON_ENCODE_ANY);
		return n == 0 || n > sizeof(num) ? HC_EINVAL
						 : out_add(o, num, n);
	}
	case JSON_TRUE:
		return out_add(o, "true", 4);
	case JSON_FALSE:
		return out_add(o, "false", 5);
	case JSON_NULL:
		return out_add(o, "null", 4);
	}
	return HC_EINVAL;
}

int hc_json_add(struct hc_buf *b, const json_t *j)
{
	size_t before = b->len;
	int rc = j ? dump_value(b, j, 0) : HC_EINVAL;
	if (rc != HC_OK) {
		b->len = before; /* unchanged, as for every hc_buf append */
		if (b->data)
			b->data[b->len] = '\0';
	}
	return rc;
}

int hc_json_add_text(struct hc_buf *b, const char *s, size_t len)
{
	json_t *checked;
	int rc;
	if (hc_json_stringn_is_ascii(s, len))
		return dump_string(b, s, len);
	checked = json_stringn(s, len); /* jansson checks the UTF-8 */
	if (!checked)
		return HC_EINVAL;
	rc = dump_string(b, s, len);
	json_decref(checked);
	return rc;
}

char *hc_json_dump(const json_t *j, size_t *len)
{
	struct hc_buf b = HC_BUF_INIT(SIZE_MAX - 1);
	if (hc_json_add(&b, j) != HC_OK || buf_room(&b, 0) != HC_OK) {
		hc_buf_release(&b);
		return NULL;
	}
	b.data[b.len] = '\0';
	return hc_buf_detach(&b, len);
}

bool hc_json_stringn_is_ascii(const char *s, size_t len)
{
	size_t i = 0;
	uint64_t high = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		high |= w;
	}
	for (; i < len; i++)
		high |= (unsigned char)s[i];
	return !(high & HIGHS);
}

json_t *hc_json_stringn(const char *s, size_t len)
{
	if (!hc_json_stringn_is_ascii(s, len))
		return json_stringn(s, len);
	return json_stringn_nocheck(s, len);
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
