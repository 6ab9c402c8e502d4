/*
 * hubcore/json.h - JSON in and out, on top of jansson.
 *
 * hub-core uses jansson's json_t everywhere and follows its reference rules
 * (json_object_set_new steals, json_object_get borrows). These helpers add
 * what every hub needs on top: parsing request bodies with an error that
 * names line and column, and small typed getters.
 */
#ifndef HUBCORE_JSON_H
#define HUBCORE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hubcore/status.h"

/*
 * Parse a JSON document. Duplicate object keys are refused (they make a
 * document ambiguous), and so are NUL characters in strings. On failure
 * returns HC_EJSON with err->line, err->column (1-based) and a message.
 */
int hc_json_parse(const char *data, size_t len, json_t **out,
		  struct hc_err *err);

/* Serialize compactly; returns a malloc'd string, or NULL on ENOMEM. */
char *hc_json_dump(const json_t *j, size_t *len);

struct hc_buf;
/* Append j serialized as hc_json_dump does; HC_ETOOBIG past b's limit
 * (b is then unchanged). */
int hc_json_add(struct hc_buf *b, const json_t *j);
/*
 * Append s[0..len) as a JSON string, quoted and escaped as hc_json_dump
 * writes it: for answers written straight from stored text without
 * building a json_t. HC_EINVAL when s is not valid UTF-8.
 */
int hc_json_add_text(struct hc_buf *b, const char *s, size_t len);
/* True when s[0..len) is ASCII only (so valid UTF-8). */
bool hc_json_stringn_is_ascii(const char *s, size_t len);

/*
 * A new JSON string of s[0..len) (NUL bytes allowed), or NULL when it is
 * not valid UTF-8 or on ENOMEM: json_stringn, except that ASCII text (most
 * of what the hubs store) skips jansson's per-character UTF-8 check, which
 * profiles showed on every row read.
 */
json_t *hc_json_stringn(const char *s, size_t len);

/* Borrowed string member, or NULL when absent or not a string. */
const char *hc_json_str(const json_t *obj, const char *key);
/* Set a string member (copied); NULL sets JSON null. */
int hc_json_set_str(json_t *obj, const char *key, const char *value);
/* Set an integer member. */
int hc_json_set_int(json_t *obj, const char *key, int64_t value);

#endif
