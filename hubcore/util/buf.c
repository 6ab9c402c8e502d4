/*
 * buf.c - bounded growable buffers and slices (see hubcore/buf.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/buf.h"
#include "hubcore/status.h"

void hc_buf_init(struct hc_buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
}

void hc_buf_release(struct hc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void hc_buf_reset(struct hc_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *hc_buf_detach(struct hc_buf *b, size_t *len)
{
	char *p = b->data;
	if (!p) {
		p = calloc(1, 1);
		if (!p)
			return NULL;
	}
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

static int grow(struct hc_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;
	if (extra > b->limit || b->len > b->limit - extra)
		return HC_ETOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return HC_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return HC_ENOMEM;
	b->data = p;
	b->cap = cap;
	return HC_OK;
}

int hc_buf_add(struct hc_buf *b, const void *data, size_t len)
{
	int rc = grow(b, len);
	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return HC_OK;
}

int hc_buf_adds(struct hc_buf *b, const char *s)
{
	return hc_buf_add(b, s, strlen(s));
}

int hc_buf_addc(struct hc_buf *b, char c)
{
	return hc_buf_add(b, &c, 1);
}

int hc_buf_vaddf(struct hc_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	int rc;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return HC_EINTERNAL;
	rc = grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return HC_OK;
}

int hc_buf_addf(struct hc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;
	va_start(ap, fmt);
	rc = hc_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

bool hc_slice_eq(struct hc_slice a, const char *s)
{
	size_t n = strlen(s);
	return a.len == n && (n == 0 || memcmp(a.ptr, s, n) == 0);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct hc_slice hc_slice_trim(struct hc_slice s)
{
	while (s.len && is_space(s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len && is_space(s.ptr[s.len - 1]))
		s.len--;
	return s;
}

char *hc_slice_dup(struct hc_slice s)
{
	char *p = malloc(s.len + 1);
	if (!p)
		return NULL;
	if (s.len)
		memcpy(p, s.ptr, s.len);
	p[s.len] = '\0';
	return p;
}
