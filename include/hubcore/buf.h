/*
 * hubcore/buf.h - a bounded, growable byte buffer and a (pointer, length)
 * slice.
 *
 * Ownership: a struct hc_buf owns its bytes. hc_buf_release frees them and
 * leaves an empty buffer with the same limit; hc_buf_detach hands the bytes
 * to the caller (who frees them with free) and is the only way to take them.
 * The bytes are always NUL-terminated for convenience, but may contain NUL
 * bytes themselves: use len, never strlen, when the content came from input.
 *
 * Every buffer has a maximum size, like curl's dynbuf: anything fed by the
 * network or a user file must not grow without bound. Appending past the
 * limit fails with HC_ETOOBIG and leaves the buffer unchanged.
 */
#ifndef HUBCORE_BUF_H
#define HUBCORE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct hc_buf {
	char *data;   /* NUL-terminated; NULL until the first append */
	size_t len;   /* bytes used, not counting the terminating NUL */
	size_t cap;   /* bytes allocated */
	size_t limit; /* maximum len */
};

/* A borrowed view of bytes; never owns them. */
struct hc_slice {
	const char *ptr;
	size_t len;
};

#define HC_BUF_INIT(max) { NULL, 0, 0, (max) }

void hc_buf_init(struct hc_buf *b, size_t limit);
/* Free the bytes; the buffer is empty and reusable afterwards. */
void hc_buf_release(struct hc_buf *b);
/* Keep the allocation, drop the content. */
void hc_buf_reset(struct hc_buf *b);
/* Take the bytes (malloc'd, NUL-terminated); the buffer is empty after. */
char *hc_buf_detach(struct hc_buf *b, size_t *len);

/* Append; return HC_OK, HC_ETOOBIG past the limit, or HC_ENOMEM. */
int hc_buf_add(struct hc_buf *b, const void *data, size_t len);
int hc_buf_adds(struct hc_buf *b, const char *s);
int hc_buf_addc(struct hc_buf *b, char c);
int hc_buf_addf(struct hc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int hc_buf_vaddf(struct hc_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* The content as a slice (valid until the buffer changes). */
static inline struct hc_slice hc_buf_slice(const struct hc_buf *b)
{
	struct hc_slice s = { b->data ? b->data : "", b->len };
	return s;
}

static inline struct hc_slice hc_slice_from(const char *s, size_t len)
{
	struct hc_slice r = { s, len };
	return r;
}

/* True when the slice equals the NUL-terminated string s. */
bool hc_slice_eq(struct hc_slice a, const char *s);
/* The slice without leading and trailing spaces, tabs, CR and LF. */
struct hc_slice hc_slice_trim(struct hc_slice s);
/* A malloc'd NUL-terminated copy of the slice, or NULL on ENOMEM. */
char *hc_slice_dup(struct hc_slice s);

#endif
