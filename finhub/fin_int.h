/*
 * finhub/fin_int.h - shared between fin-hub's files, not part of its
 * service API.
 */
#ifndef FINHUB_FIN_INT_H
#define FINHUB_FIN_INT_H

#include "finhub/finhub.h"

/* Begin a write transaction unless one is open; *own tells which. */
int fin__begin(struct hc_conn *c, bool *own, struct hc_err *err);
/* Commit or roll back what fin__begin opened; returns rc (or the commit's
 * failure). */
int fin__end(struct hc_conn *c, bool own, int rc, struct hc_err *err);

/*
 * The sum of the cost entries of a domain (all domains when NULL) whose
 * month is in [first, last], converted into currency; variable_only leaves
 * out the lines that pay a commitment.
 */
int fin__costs_sum(struct hc_conn *c, const char *domain, fin_month first,
		   fin_month last, bool variable_only, const char *currency,
		   int64_t *out, struct hc_err *err);

/* The month of the earliest variable cost entry of a domain, or -1. */
int fin__first_variable_month(struct hc_conn *c, const char *domain,
			      fin_month *out, struct hc_err *err);

/* The commitments of a domain (all when NULL), malloc'd array. */
int fin__commitments_load(struct hc_conn *c, const char *domain,
			  struct fin_commitment **out, size_t *n,
			  struct hc_err *err);

/* What the commitments charge over [first, last] in currency: out and in
 * separately, each commitment's total converted once. */
int fin__commitments_sum(struct hc_conn *c, const struct fin_commitment *k,
			 size_t n, fin_month first, fin_month last,
			 const char *currency, int64_t *out_sum,
			 int64_t *in_sum, struct hc_err *err);

/*
 * Fill a runway from an account row: balance and threshold from it, the
 * variable history before month first (0: the month of as_of), the
 * commitments charged in each of horizon months, then computed.
 */
int fin__runway_build(struct hc_conn *c, const json_t *account,
		      fin_month first, int horizon, struct fin_runway *r,
		      struct hc_err *err);

/* ---- imports ---------------------------------------------------------------- */

/* What a parser works with: it appends rows (cost entries or token spend,
 * with dedup_key and source_line set) and reports bad rows. */
struct fin_parse {
	const char *source;
	struct fin_import_result *res;
	json_t *rows;
	json_t *seen;   /* dedup hash -> occurrences so far in this file */
	json_t *by_key; /* usage reports: dedup key -> its first row */
};

/* Record a bad row: line (0 in a JSON document), where (a JSON path, or
 * NULL) and why. Returns HC_OK (parsing goes on) or HC_ENOMEM. */
int fin__bad(struct fin_parse *p, int line, const char *where,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A dedup key: prefix ":" the first 32 hex digits of the SHA-256 of data
 * ":" how many rows with the same hash came before it in this file, so
 * that two identical lines of one file stay two rows while importing the
 * file again finds both.
 */
int fin__row_key(struct fin_parse *p, const char *prefix, const void *data,
		 size_t len, char *out, size_t size);

/* Hex SHA-256 (64 digits + NUL) of data. */
void fin__sha256_hex(const void *data, size_t len, char out[65]);

/* One CSV record: its first line, its fields (NUL-terminated copies,
 * lengths in lens). A non-OK return stops the reading. */
typedef int fin_csv_record_fn(void *ctx, int line, char **fields,
			      const size_t *lens, size_t n,
			      struct hc_err *err);

/*
 * Read CSV with libcsv (RFC 4180: commas, double quotes, CRLF or LF; a
 * UTF-8 byte order mark is skipped), calling fn per record with the line
 * it starts on. Malformed quoting is HC_EPARSE at source:line.
 */
int fin__csv_read(const char *source, const char *data, size_t len,
		  fin_csv_record_fn *fn, void *ctx, struct hc_err *err);

/*
 * The pages of a vendor's report file (JSON read with exact numbers): the
 * document itself when it is one page, else its elements. JSON that does
 * not parse, or neither an object nor an array, is HC_EPARSE at the file.
 */
int fin__report_pages(struct fin_parse *p, const char *data, size_t len,
		      json_t **doc, struct hc_err *err);

/* obj[key] as Unix seconds, written as RFC 3339 UTC into out; false when
 * it is not a non-negative integer of a year up to 9999. */
bool fin__epoch_utc(const json_t *obj, const char *key, char *out,
		    size_t size);

int fin__parse_focus(struct fin_parse *p, const char *data, size_t len,
		     struct hc_err *err);
int fin__parse_invoices(struct fin_parse *p, const char *data, size_t len,
			struct hc_err *err);
int fin__parse_claude_code(struct fin_parse *p, const char *data, size_t len,
			   struct hc_err *err);
int fin__parse_anthropic_cost(struct fin_parse *p, const char *data,
			      size_t len, struct hc_err *err);
int fin__parse_openai_cost(struct fin_parse *p, const char *data, size_t len,
			   struct hc_err *err);
int fin__parse_anthropic_usage(struct fin_parse *p, const char *data,
			       size_t len, struct hc_err *err);
int fin__parse_openai_usage(struct fin_parse *p, const char *data, size_t len,
			    struct hc_err *err);

/* The runway page for people, GET /runway (runway_view.c). */
struct hc_view_page;
extern const struct hc_view_page fin_runway_page;

#endif
