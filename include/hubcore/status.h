/*
 * hubcore/status.h - the one status vocabulary of hub-core.
 *
 * Every fallible function in hub-core returns an int that is either HC_OK
 * or one of the codes below. The code says what kind of failure happened;
 * the details (which field, which file and line, a full sentence) travel
 * separately in a struct hc_err that the callee fills and the caller reports
 * once, the way git passes a strbuf for errors.
 *
 * The table is an X-macro so that the enum, the HTTP status mapping, the
 * RFC 9457 problem type and the default title are generated from one list.
 */
#ifndef HUBCORE_STATUS_H
#define HUBCORE_STATUS_H

#include <stdarg.h>
#include <stddef.h>

/* X(name, http status, problem type slug, title) */
#define HC_STATUS_MAP(X)                                                    \
	X(OK, 200, "ok", "OK")                                              \
	X(EBADREQ, 400, "bad-request", "Bad request")                       \
	X(EJSON, 400, "malformed-json", "Malformed JSON")                   \
	X(EPARAM, 400, "invalid-parameter", "Invalid query parameter")      \
	X(EINVAL, 422, "validation", "Validation failed")                   \
	X(ENOTFOUND, 404, "not-found", "Not found")                         \
	X(EMETHOD, 405, "method-not-allowed", "Method not allowed")         \
	X(ECONFLICT, 409, "conflict", "Conflict")                           \
	X(ETOOBIG, 413, "payload-too-large", "Payload too large")           \
	X(EMEDIA, 415, "unsupported-media-type", "Unsupported media type")  \
	X(EPARSE, 422, "unprocessable-document", "Document cannot be parsed") \
	X(ESCHEMA, 500, "schema", "Database schema error")                  \
	X(ESTORE, 500, "storage", "Storage error")                          \
	X(EBUSY, 503, "busy", "Service busy")                               \
	X(EIO, 500, "io", "I/O error")                                      \
	X(ENOMEM, 500, "out-of-memory", "Out of memory")                    \
	X(EUSAGE, 400, "usage", "Usage error")                              \
	X(ECAPABILITY, 400, "missing-capability", "Client capability missing") \
	X(EAUTH, 401, "unauthorized", "Unauthorized")                      \
	X(EFORBIDDEN, 403, "forbidden", "Forbidden")                         \
	X(EINTERNAL, 500, "internal", "Internal error")                     \
	X(ESTALE, 412, "precondition-failed", "Precondition failed")

enum hc_status {
#define HC__STATUS_ENUM(name, http, type, title) HC_##name,
	HC_STATUS_MAP(HC__STATUS_ENUM)
#undef HC__STATUS_ENUM
	HC__STATUS_COUNT
};

/* Size limits of the fields of struct hc_err. Longer text is truncated. */
#define HC_ERR_MSG_MAX 512
#define HC_ERR_FIELD_MAX 128
#define HC_ERR_SOURCE_MAX 256

/*
 * The details of a failure. Zero-initialise one (or call hc_err_clear) before
 * passing it down; the callee that detects the failure fills it completely
 * with hc_err_set and friends, and returns the same code it stored.
 *
 * - status: the hc_status code.
 * - msg: one lower-case sentence, no trailing period, no newline, e.g.
 *   "field 'priority' must be one of high, medium, low".
 * - field: the offending field or parameter, when there is one.
 * - source: the file or document name, when the input came from one.
 * - line, column: 1-based position in source or in a request body; 0 when
 *   unknown.
 */
struct hc_err {
	int status;
	int line;
	int column;
	char msg[HC_ERR_MSG_MAX];
	char field[HC_ERR_FIELD_MAX];
	char source[HC_ERR_SOURCE_MAX];
};

/* The short name of a status code, e.g. "EINVAL". */
const char *hc_status_name(int status);
/* The HTTP status code a status maps to, e.g. 422 for HC_EINVAL. */
int hc_status_http(int status);
/* The RFC 9457 problem type slug, e.g. "validation". */
const char *hc_status_type(int status);
/* The problem title, e.g. "Validation failed". */
const char *hc_status_title(int status);

/* Reset err to "no error". */
void hc_err_clear(struct hc_err *err);

/*
 * Fill err with status and a formatted message, clearing field and
 * position. Returns status so a caller can write `return hc_err_set(...)`.
 * err may be NULL, in which case only the status is returned.
 */
int hc_err_set(struct hc_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int hc_err_vset(struct hc_err *err, int status, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Like hc_err_set, and names the offending field or parameter. */
int hc_err_field(struct hc_err *err, int status, const char *field,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Like hc_err_set, and names the position (source may be NULL). */
int hc_err_at(struct hc_err *err, int status, const char *source, int line,
	      int column, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/*
 * Put context in front of err's message: "<formatted>: <old message>".
 * Returns err->status.
 */
int hc_err_prefix(struct hc_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Format err for a person: "source:line:column: msg" with the parts that are
 * known, or "field 'x': msg" style text already in msg. Writes at most size
 * bytes including the terminating NUL and returns buf.
 */
char *hc_err_format(const struct hc_err *err, char *buf, size_t size);

/*
 * Report a broken invariant (a bug in hub-core, never bad input) and abort.
 * Use HC_BUG("..."), not this function directly.
 */
_Noreturn void hc__bug(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define HC_BUG(...) hc__bug(__FILE__, __LINE__, __VA_ARGS__)
#define HC_ASSERT(cond)                                                     \
	do {                                                                \
		if (!(cond))                                                \
			HC_BUG("assertion failed: %s", #cond);              \
	} while (0)

#endif
