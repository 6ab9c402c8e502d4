/*
 * text.c - slugs, identifiers, timestamps, base64url and UTF-8
 * (hubcore/util.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "hubcore/util.h"

static bool is_alnum_ascii(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

int hc_slugify(const char *in, size_t len, char *out, size_t out_size,
	       struct hc_err *err)
{
	size_t n = 0;
	bool dash = false;
	if (out_size < HC_SLUG_MAX + 1)
		HC_BUG("slug buffer too small");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (is_alnum_ascii(c)) {
			if (dash && n) {
				if (n >= HC_SLUG_MAX)
					goto too_long;
				out[n++] = '-';
			}
			dash = false;
			if (n >= HC_SLUG_MAX)
				goto too_long;
			out[n++] = (char)tolower(c);
		} else {
			dash = true;
		}
	}
	out[n] = '\0';
	if (!n)
		return hc_err_set(err, HC_EINVAL,
				  "must contain at least one letter or digit");
	return HC_OK;
too_long:
	out[0] = '\0';
	return hc_err_set(err, HC_EINVAL, "slug longer than %d characters",
			  HC_SLUG_MAX);
}

bool hc_is_slug(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > HC_SLUG_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '-') {
			if (s[i + 1] == '-')
				return false;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			return false;
		}
	}
	return true;
}

/* ---- base64url ---------------------------------------------------------- */

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t hc_base64url_encode(const void *data, size_t len, char *out)
{
	const unsigned char *p = data;
	size_t n = 0, i = 0;
	for (; i + 2 < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 |
			     p[i + 2];
		out[n++] = b64url[(v >> 18) & 63];
		out[n++] = b64url[(v >> 12) & 63];
		out[n++] = b64url[(v >> 6) & 63];
		out[n++] = b64url[v & 63];
	}
	if (len - i == 1) {
		unsigned v = (unsigned)p[i] << 16;
		out[n++] = b64url[(v >> 18) & 63];
		out[n++] = b64url[(v >> 12) & 63];
	} else if (len - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		out[n++] = b64url[(v >> 18) & 63];
		out[n++] = b64url[(v >> 12) & 63];
		out[n++] = b64url[(v >> 6) & 63];
	}
	out[n] = '\0';
	return n;
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

size_t hc_base64url_decode(const char *in, size_t len, void *out,
			   size_t out_size)
{
	unsigned char *o = out;
	size_t n = 0;
	unsigned acc = 0;
	int bits = 0;
	if (len % 4 == 1)
		return (size_t)-1;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value(in[i]);
		if (v < 0)
			return (size_t)-1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= out_size)
				return (size_t)-1;
			o[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero, so that each value has one encoding. */
	if (acc)
		return (size_t)-1;
	return n;
}

/* ---- cursors ------------------------------------------------------------ */

/* A cursor is base64url("c1:<position>"): versioned so the format can
 * change without old cursors being misread. */
void hc_cursor_encode(int64_t position, char *out, size_t out_size)
{
	char raw[32];
	int n = snprintf(raw, sizeof(raw), "c1:%lld", (long long)position);
	if (out_size < HC_CURSOR_MAX)
		HC_BUG("cursor buffer too small");
	hc_base64url_encode(raw, (size_t)n, out);
}

int hc_cursor_decode(const char *cursor, int64_t *position,
		     struct hc_err *err)
{
	char raw[32];
	size_t len = strlen(cursor), n;
	long long v = 0;
	if (len == 0 || len >= HC_CURSOR_MAX)
		goto bad;
	n = hc_base64url_decode(cursor, len, raw, sizeof(raw) - 1);
	if (n == (size_t)-1 || n < 4)
		goto bad;
	raw[n] = '\0';
	if (memcmp(raw, "c1:", 3) != 0)
		goto bad;
	if (n > 3 + 19)
		goto bad;
	for (size_t i = 3; i < n; i++) {
		int d = raw[i] - '0';
		if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10)
			goto bad;
		v = v * 10 + d;
	}
	*position = v;
	return HC_OK;
bad:
	return hc_err_field(err, HC_EPARAM, "cursor",
			    "parameter 'cursor' is not a cursor this server "
			    "issued");
}

/* ---- paths -------------------------------------------------------------- */

int hc_path_normalize(char *path, struct hc_err *err)
{
	char *r = path, *w = path;
	if (path[0] != '/')
		return hc_err_set(err, HC_EBADREQ, "path must start with '/'");
	while (*r) {
		if (*r == '/') {
			while (r[1] == '/')
				r++;
			/* refuse "." and ".." segments */
			if (r[1] == '.' &&
			    (r[2] == '/' || r[2] == '\0' ||
			     (r[2] == '.' && (r[3] == '/' || r[3] == '\0'))))
				return hc_err_set(err, HC_EBADREQ,
						  "path must not contain '.' "
						  "or '..' segments");
		}
		*w++ = *r++;
	}
	*w = '\0';
	if (w - path > 1 && w[-1] == '/')
		w[-1] = '\0';
	return HC_OK;
}

/* ---- identifiers and time ---------------------------------------------- */

int hc_uuid_v4(char out[HC_UUID_LEN + 1])
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0)
			return HC_EIO;
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (int i = 0, o = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[HC_UUID_LEN] = '\0';
	return HC_OK;
}

bool hc_is_uuid(const char *s)
{
	for (int i = 0; i < HC_UUID_LEN; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!isxdigit((unsigned char)c)) {
			return false;
		}
	}
	return s[HC_UUID_LEN] == '\0';
}

void hc_time_format(const struct timespec *ts, char out[HC_TIME_LEN + 1])
{
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	snprintf(out, HC_TIME_LEN + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ts->tv_nsec / 1000000));
}

void hc_time_now(char out[HC_TIME_LEN + 1])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	hc_time_format(&ts, out);
}

int64_t hc_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool valid_ymd(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	int y, m, d;
	if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2))
		return false;
	y = num(s, 4);
	m = num(s + 5, 2);
	d = num(s + 8, 2);
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	return true;
}

bool hc_is_date(const char *s)
{
	return strlen(s) == 10 && valid_ymd(s);
}

bool hc_is_datetime(const char *s)
{
	const char *p;
	size_t n = strlen(s);
	if (n < 20 || !valid_ymd(s) || (s[10] != 'T' && s[10] != 't'))
		return false;
	if (!digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
	    s[16] != ':' || !digits(s + 17, 2))
		return false;
	if (num(s + 11, 2) > 23 || num(s + 14, 2) > 59 || num(s + 17, 2) > 60)
		return false;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!digits(p, 1))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return true;
	if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' &&
	    digits(p + 4, 2) && p[6] == '\0')
		return num(p + 1, 2) <= 23 && num(p + 4, 2) <= 59;
	return false;
}

bool hc_jws_compact_ok(const char *s, size_t max)
{
	static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				   "opqrstuvwxyz0123456789-_";
	size_t seg[3], n = 0, len;
	if (!s)
		return false;
	len = strnlen(s, max + 1);
	if (len == 0 || len > max)
		return false;
	for (int i = 0; i < 3; i++) {
		seg[i] = strspn(s + n, b64u);
		n += seg[i];
		if (i < 2) {
			if (s[n] != '.')
				return false;
			n++;
		}
		if (seg[i] % 4 == 1)
			return false;
	}
	return n == len && seg[0] > 0 && seg[1] > 0 && seg[2] > 0;
}

size_t hc_utf8_char(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned cp;
	size_t n;
	if (!len)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (i >= len || (p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

bool hc_utf8_valid(const char *s, size_t len)
{
	while (len) {
		size_t n = hc_utf8_char(s, len);
		if (!n)
			return false;
		s += n;
		len -= n;
	}
	return true;
}
