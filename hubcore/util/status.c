/*
 * status.c - the status vocabulary and error details (see hubcore/status.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/status.h"

struct status_info {
	const char *name;
	int http;
	const char *type;
	const char *title;
};

static const struct status_info status_table[] = {
#define HC__STATUS_ROW(name, http, type, title) { #name, http, type, title },
	HC_STATUS_MAP(HC__STATUS_ROW)
#undef HC__STATUS_ROW
};

static const struct status_info *info(int status)
{
	if (status < 0 || status >= HC__STATUS_COUNT)
		return &status_table[HC_EINTERNAL];
	return &status_table[status];
}

const char *hc_status_name(int status)
{
	return info(status)->name;
}

int hc_status_http(int status)
{
	return info(status)->http;
}

const char *hc_status_type(int status)
{
	return info(status)->type;
}

const char *hc_status_title(int status)
{
	return info(status)->title;
}

void hc_err_clear(struct hc_err *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int hc_err_vset(struct hc_err *err, int status, const char *fmt, va_list ap)
{
	if (!err)
		return status;
	err->status = status;
	err->line = 0;
	err->column = 0;
	err->field[0] = '\0';
	err->source[0] = '\0';
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return status;
}

int hc_err_set(struct hc_err *err, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hc_err_vset(err, status, fmt, ap);
	va_end(ap);
	return status;
}

int hc_err_field(struct hc_err *err, int status, const char *field,
		 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hc_err_vset(err, status, fmt, ap);
	va_end(ap);
	if (err && field)
		snprintf(err->field, sizeof(err->field), "%s", field);
	return status;
}

int hc_err_at(struct hc_err *err, int status, const char *source, int line,
	      int column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hc_err_vset(err, status, fmt, ap);
	va_end(ap);
	if (err) {
		if (source)
			snprintf(err->source, sizeof(err->source), "%s",
				 source);
		err->line = line;
		err->column = column;
	}
	return status;
}

int hc_err_prefix(struct hc_err *err, const char *fmt, ...)
{
	char ctx[HC_ERR_MSG_MAX], old[HC_ERR_MSG_MAX];
	va_list ap;
	int n;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	n = snprintf(err->msg, sizeof(err->msg), "%s: %s", ctx, old);
	(void)n; /* truncation of a long message is acceptable */
	return err->status;
}

char *hc_err_format(const struct hc_err *err, char *buf, size_t size)
{
	size_t n = 0;
	if (!size)
		return buf;
	buf[0] = '\0';
#define APPEND(...)                                                         \
	do {                                                                \
		int w_ = snprintf(buf + n, size - n, __VA_ARGS__);          \
		if (w_ > 0)                                                 \
			n += (size_t)w_ < size - n ? (size_t)w_ : size - n - 1; \
	} while (0)
	if (err->source[0])
		APPEND("%s:", err->source);
	if (err->line > 0)
		APPEND("%d:", err->line);
	if (err->line > 0 && err->column > 0)
		APPEND("%d:", err->column);
	if (n)
		APPEND(" ");
	APPEND("%s", err->msg[0] ? err->msg : hc_status_title(err->status));
#undef APPEND
	return buf;
}

_Noreturn void hc__bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
