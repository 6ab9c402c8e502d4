/*
 * hubcore/util.h - small shared utilities: slugs, pagination cursors, URL
 * path normalization, identifiers and timestamps.
 */
#ifndef HUBCORE_UTIL_H
#define HUBCORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hubcore/status.h"

/* Longest slug hub-core produces or accepts. */
#define HC_SLUG_MAX 64

/*
 * Normalize text into a slug: ASCII letters and digits lower-cased, every
 * run of other bytes turned into one '-', no leading or trailing '-'.
 * "Ops Hub!" becomes "ops-hub". Writes into out (size >= HC_SLUG_MAX + 1).
 * Returns HC_OK, or HC_EINVAL when nothing is left or the slug would be
 * longer than HC_SLUG_MAX (err names no field; callers add it).
 */
int hc_slugify(const char *in, size_t len, char *out, size_t out_size,
	       struct hc_err *err);
/* True when s is already a normalized slug. */
bool hc_is_slug(const char *s);

/*
 * Keyset pagination cursors. A cursor is opaque to clients: the base64url
 * encoding of a versioned position (the sequence number of the last row
 * returned). Lists never use OFFSET.
 */
#define HC_CURSOR_MAX 48
/* Encode position into out (size >= HC_CURSOR_MAX). */
void hc_cursor_encode(int64_t position, char *out, size_t out_size);
/* Decode; HC_EPARAM for anything that is not a cursor this code made. */
int hc_cursor_decode(const char *cursor, int64_t *position,
		     struct hc_err *err);

/*
 * Normalize a request path in place: collapse repeated '/', drop a trailing
 * '/' (except for the root "/"). "/domains/" becomes "/domains". Returns
 * HC_EBADREQ for a path that does not start with '/' or contains a "." or
 * ".." segment or a NUL byte.
 */
int hc_path_normalize(char *path, struct hc_err *err);

/* A random (version 4) UUID in its 36-character text form. */
#define HC_UUID_LEN 36
int hc_uuid_v4(char out[HC_UUID_LEN + 1]);
/* True when s is a UUID in canonical text form (any case). */
bool hc_is_uuid(const char *s);

/* RFC 3339 UTC timestamp with milliseconds: 2026-12-03T16:42:39.123Z */
#define HC_TIME_LEN 24
void hc_time_now(char out[HC_TIME_LEN + 1]);
void hc_time_format(const struct timespec *ts, char out[HC_TIME_LEN + 1]);
/* True when s is an RFC 3339 date-time (with offset or Z). */
bool hc_is_datetime(const char *s);
/* True when s is a valid calendar date YYYY-MM-DD. */
bool hc_is_date(const char *s);

/* Monotonic clock in milliseconds, for durations. */
int64_t hc_clock_ms(void);

/* Base64url without padding. out must hold 4*ceil(len/3)+1 bytes. */
size_t hc_base64url_encode(const void *data, size_t len, char *out);
/* Returns decoded length, or (size_t)-1 on bad input or overflow. */
size_t hc_base64url_decode(const char *in, size_t len, void *out,
			   size_t out_size);

/*
 * Is s a well-formed compact JWS (RFC 7515 §7.1): three base64url
 * segments without padding, none of a length no base64 can have (1 mod
 * 4), the signature not empty, at most max bytes? Check before handing a
 * token to a JOSE library: some assert on malformed base64.
 */
bool hc_jws_compact_ok(const char *s, size_t max);

/*
 * The length (1 to 4) of the well-formed UTF-8 character that s[0..len)
 * starts with, or 0 when it starts with none: a stray continuation byte,
 * an overlong form, a surrogate, a value past U+10FFFF, or a character
 * cut short. A NUL byte is a character (U+0000).
 */
size_t hc_utf8_char(const char *s, size_t len);
/* True when s[0..len) is well-formed UTF-8. */
bool hc_utf8_valid(const char *s, size_t len);

#endif
