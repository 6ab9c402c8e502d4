/*
 * import_csv.c - the CSV imports: FOCUS cost exports and the plain
 * invoice list of small providers. libcsv does the CSV parsing; this file
 * knows which line each record starts on and what the columns mean.
 */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "finhub/fin_int.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

#define CSV_MAX_FIELDS 512
#define CSV_MAX_FIELD 65536

/* ---- reading ----------------------------------------------------------------- */

struct csv_ctx {
	const char *source;
	fin_csv_record_fn *fn;
	void *user;
	struct hc_err *err;
	int rc;        /* first failure; callbacks do nothing after it */
	int line;      /* the line being fed */
	int rec_start; /* the line the current record started on, 0 = none */
	char *fields[CSV_MAX_FIELDS];
	size_t lens[CSV_MAX_FIELDS];
	size_t n;
};

static void csv_clear(struct csv_ctx *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->fields[i]);
	x->n = 0;
}

static void on_field(void *s, size_t len, void *data)
{
	struct csv_ctx *x = data;
	char *f;
	if (x->rc != HC_OK)
		return;
	if (x->n == CSV_MAX_FIELDS || len > CSV_MAX_FIELD) {
		x->rc = hc_err_at(x->err, HC_EPARSE, x->source, x->rec_start, 0,
				  "record has more than %d fields or a field "
				  "over %d bytes",
				  CSV_MAX_FIELDS, CSV_MAX_FIELD);
		return;
	}
	f = malloc(len + 1);
	if (!f) {
		x->rc = hc_err_set(x->err, HC_ENOMEM, "out of memory");
		return;
	}
	if (len)
		memcpy(f, s, len);
	f[len] = '\0';
	x->fields[x->n] = f;
	x->lens[x->n++] = len;
}

static void on_record(int c, void *data)
{
	struct csv_ctx *x = data;
	(void)c;
	if (x->rc == HC_OK && x->n)
		x->rc = x->fn(x->user, x->rec_start ? x->rec_start : x->line,
			      x->fields, x->lens, x->n, x->err);
	csv_clear(x);
	x->rec_start = 0;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

int fin__csv_read(const char *source, const char *data, size_t len,
		  fin_csv_record_fn *fn, void *ctx, struct hc_err *err)
{
	struct csv_parser p;
	struct csv_ctx *x = calloc(1, sizeof(*x));
	size_t off = 0;
	int rc;

	if (!x)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		free(x);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	x->source = source;
	x->fn = fn;
	x->user = ctx;
	x->err = err;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	/* Feed one line at a time, so that a record's first line is known:
	 * it is the first non-blank line fed while no record was open. */
	while (off < len && x->rc == HC_OK) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (data + off)) + 1 : len - off;
		x->line++;
		if (!x->rec_start && !blank(data + off, n))
			x->rec_start = x->line;
		if (csv_parse(&p, data + off, n, on_field, on_record, x) != n &&
		    x->rc == HC_OK)
			x->rc = hc_err_at(err, HC_EPARSE, source, x->line, 0,
					  "malformed CSV (%s): a quote inside "
					  "an unquoted field, or text after a "
					  "closing quote",
					  csv_strerror(csv_error(&p)));
		off += n;
	}
	if (x->rc == HC_OK &&
	    csv_fini(&p, on_field, on_record, x) != 0 && x->rc == HC_OK)
		x->rc = hc_err_at(err, HC_EPARSE, source,
				  x->rec_start ? x->rec_start : x->line, 0,
				  "malformed CSV: a quoted field is not "
				  "closed");
	rc = x->rc;
	csv_clear(x);
	csv_free(&p);
	free(x);
	return rc;
}

/* ---- columns ----------------------------------------------------------------- */

#define MAX_COLS CSV_MAX_FIELDS

struct table {
	struct fin_parse *p;
	bool header_done;
	size_t ncols;
	char *cols[MAX_COLS];
	int (*row)(struct table *t, int line, char **f, const size_t *lens,
		   struct hc_err *err);
	const char *const *required; /* columns the header must have */
	const char *what;            /* the format, for messages */
};

static int col(const struct table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcasecmp(t->cols[i], name) == 0)
			return (int)i;
	return -1;
}

/* The value of a column in a record, or NULL when the column is absent or
 * the value is empty. */
static const char *val(const struct table *t, char **f, const char *name)
{
	int i = col(t, name);
	if (i < 0 || !f[i][0])
		return NULL;
	return f[i];
}

/* Every required column ("A|B": either will do) is in the header. */
static int check_header(const struct table *t, int line, struct hc_err *err)
{
	for (const char *const *r = t->required; *r; r++) {
		const char *a = *r;
		bool any = false;
		while (*a && !any) {
			size_t n = strcspn(a, "|");
			for (size_t i = 0; i < t->ncols && !any; i++)
				any = strlen(t->cols[i]) == n &&
				      strncasecmp(t->cols[i], a, n) == 0;
			a += n;
			a += *a == '|';
		}
		if (!any)
			return hc_err_at(err, HC_EPARSE, t->p->source, line, 0,
					 "not %s file: the header has no "
					 "column %s",
					 t->what, *r);
	}
	return HC_OK;
}

static int on_table_record(void *ctx, int line, char **f, const size_t *lens,
			   size_t n, struct hc_err *err)
{
	struct table *t = ctx;
	if (!t->header_done) {
		for (size_t i = 0; i < n; i++) {
			struct hc_slice s = hc_slice_trim(
				hc_slice_from(f[i], lens[i]));
			t->cols[i] = hc_slice_dup(s);
			if (!t->cols[i])
				return hc_err_set(err, HC_ENOMEM,
						  "out of memory");
			t->ncols++;
		}
		t->header_done = true;
		return check_header(t, line, err);
	}
	if (n != t->ncols)
		return fin__bad(t->p, line, NULL,
				"the record has %zu fields, the header %zu", n,
				t->ncols);
	for (size_t i = 0; i < n; i++)
		if (memchr(f[i], '\0', lens[i]))
			return fin__bad(t->p, line, NULL,
					"column '%s' contains a NUL byte",
					t->cols[i]);
	return t->row(t, line, f, lens, err);
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i]);
}

static int read_table(struct table *t, const char *data, size_t len,
		      struct hc_err *err)
{
	int rc = fin__csv_read(t->p->source, data, len, on_table_record, t,
			       err);
	if (rc == HC_OK && !t->header_done)
		rc = hc_err_at(err, HC_EPARSE, t->p->source, 1, 0,
			       "empty file: no header (expected %s file)",
			       t->what);
	return rc;
}

/* Amount text into minor units of currency; FIN_EXACT refuses digits
 * below the minor unit. Reports a bad row and returns false on failure. */
static bool amount(struct fin_parse *p, int line, const char *column,
		   const char *text, const char *currency, enum fin_round mode,
		   int64_t *out, int *rc)
{
	const struct fin_currency *cur = fin_currency(currency);
	enum fin_dec_status st;
	if (!cur) {
		*rc = fin__bad(p, line, NULL,
			       "currency '%s' is not an ISO 4217 code",
			       currency);
		return false;
	}
	if (!text) {
		*rc = fin__bad(p, line, NULL, "column %s is empty", column);
		return false;
	}
	st = fin_decimal_parse(text, strlen(text), cur->exponent, mode, out);
	if (st == FIN_DEC_OK)
		return true;
	if (st == FIN_DEC_PRECISION)
		*rc = fin__bad(p, line, NULL,
			       "%s '%s' has more decimals than %s allows (%d)",
			       column, text, currency, cur->exponent);
	else if (st == FIN_DEC_RANGE)
		*rc = fin__bad(p, line, NULL, "%s '%s' is out of range",
			       column, text);
	else
		*rc = fin__bad(p, line, NULL,
			       "%s '%s' is not a decimal number", column,
			       text);
	return false;
}

/* The currency code of a row, upper-cased into out; a bad row when it is
 * empty or not in ISO 4217. */
static bool currency_of(struct fin_parse *p, int line, const char *column,
			const char *raw, char out[4], int *rc)
{
	size_t n = raw ? strlen(raw) : 0;
	for (size_t i = 0; i < n && i < 3; i++)
		out[i] = (char)(raw[i] >= 'a' && raw[i] <= 'z' ? raw[i] - 32
							      : raw[i]);
	out[n < 3 ? n : 3] = '\0';
	if (n == 3 && fin_currency(out))
		return true;
	*rc = n ? fin__bad(p, line, NULL,
			   "%s '%s' is not an ISO 4217 currency code", column,
			   raw)
		: fin__bad(p, line, NULL, "column %s is empty", column);
	return false;
}

/* ---- FOCUS ---------------------------------------------------------------------- */

static const char *const charge_categories[] = { "Usage", "Purchase", "Tax",
						 "Credit", "Adjustment",
						 NULL };

/* Columns taken into fields; every other one goes to extra. */
static const char *const focus_mapped[] = {
	"BilledCost", "EffectiveCost", "BillingCurrency", "ChargePeriodStart",
	"ChargePeriodEnd", "ProviderName", "ServiceProviderName",
	"ServiceName", "ChargeCategory", "ChargeDescription", "x_domain",
	NULL
};

static bool mapped(const char *name)
{
	for (const char *const *m = focus_mapped; *m; m++)
		if (strcasecmp(*m, name) == 0)
			return true;
	return false;
}

static int focus_row(struct table *t, int line, char **f, const size_t *lens,
		     struct hc_err *err)
{
	struct fin_parse *p = t->p;
	const char *start = val(t, f, "ChargePeriodStart");
	const char *end = val(t, f, "ChargePeriodEnd");
	const char *cat = val(t, f, "ChargeCategory");
	const char *billed = val(t, f, "BilledCost");
	const char *eff = val(t, f, "EffectiveCost");
	const char *provider = val(t, f, "ProviderName");
	char cur[4], ps[32], pe[32], date[11], key[128];
	int64_t amt = 0, effamt = 0;
	struct hc_buf canon = HC_BUF_INIT(1 << 20);
	json_t *row, *extra;
	int rc = HC_OK;

	if (!provider)
		provider = val(t, f, "ServiceProviderName");
	if (!currency_of(p, line, "BillingCurrency",
			 val(t, f, "BillingCurrency"), cur, &rc))
		return rc;
	if (!start)
		start = val(t, f, "BillingPeriodStart");
	if (!start || !fin_datetime_utc(start, strlen(start), ps, sizeof(ps)))
		return fin__bad(p, line, NULL,
				"ChargePeriodStart '%s' is not a date-time",
				start ? start : "");
	if (end && !fin_datetime_utc(end, strlen(end), pe, sizeof(pe)))
		return fin__bad(p, line, NULL,
				"ChargePeriodEnd '%s' is not a date-time", end);
	if (cat) {
		bool ok = false;
		for (const char *const *c = charge_categories; *c; c++)
			ok = ok || strcmp(*c, cat) == 0;
		if (!ok)
			return fin__bad(p, line, NULL,
					"ChargeCategory '%s' is not one of "
					"Usage, Purchase, Tax, Credit, "
					"Adjustment",
					cat);
	}
	/* FOCUS costs carry many decimals (0.0000023): they are rounded
	 * half to even to the minor unit; amount_raw keeps the text. */
	if (!amount(p, line, "BilledCost", billed, cur, FIN_HALF_EVEN, &amt,
		    &rc))
		return rc;
	if (eff && !amount(p, line, "EffectiveCost", eff, cur, FIN_HALF_EVEN,
			   &effamt, &rc))
		return rc;
	snprintf(date, sizeof(date), "%.10s", ps);
	extra = json_object();
	for (size_t i = 0; i < t->ncols; i++) {
		if (hc_buf_add(&canon, t->cols[i], strlen(t->cols[i]) + 1) ||
		    hc_buf_add(&canon, f[i], lens[i] + 1)) {
			rc = hc_err_set(err, HC_ENOMEM, "row too large");
			break;
		}
		if (!mapped(t->cols[i]) && f[i][0])
			json_object_set_new(extra, t->cols[i],
					    json_string(f[i]));
	}
	if (rc == HC_OK)
		rc = fin__row_key(p, "focus", canon.data, canon.len, key,
				  sizeof(key));
	hc_buf_release(&canon);
	if (rc != HC_OK) {
		json_decref(extra);
		return rc;
	}
	row = json_pack("{sssssIsssssssssIso}", "dedup_key", key, "kind",
			"focus", "source_line", (json_int_t)line, "date", date,
			"period_start", ps, "currency", cur, "amount_raw",
			billed, "amount", (json_int_t)amt, "extra", extra);
	if (!row)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (cat)
		hc_json_set_str(row, "charge_category", cat);
	if (end)
		hc_json_set_str(row, "period_end", pe);
	if (eff)
		hc_json_set_int(row, "effective_amount", effamt);
	if (provider)
		hc_json_set_str(row, "provider", provider);
	if (val(t, f, "ServiceName"))
		hc_json_set_str(row, "service", val(t, f, "ServiceName"));
	if (val(t, f, "ChargeDescription"))
		hc_json_set_str(row, "description",
				val(t, f, "ChargeDescription"));
	if (val(t, f, "x_domain"))
		hc_json_set_str(row, "domain", val(t, f, "x_domain"));
	json_array_append_new(p->rows, row);
	return HC_OK;
}

int fin__parse_focus(struct fin_parse *p, const char *data, size_t len,
		     struct hc_err *err)
{
	static const char *const required[] = {
		"BilledCost", "BillingCurrency",
		"ChargePeriodStart|BillingPeriodStart", NULL
	};
	struct table t = { .p = p, .row = focus_row, .required = required,
			   .what = "a FOCUS" };
	int rc = read_table(&t, data, len, err);
	table_release(&t);
	return rc;
}

/* ---- invoices --------------------------------------------------------------------- */

static int invoice_row(struct table *t, int line, char **f,
		       const size_t *lens, struct hc_err *err)
{
	struct fin_parse *p = t->p;
	const char *date = val(t, f, "date");
	const char *vendor = val(t, f, "vendor");
	const char *text = val(t, f, "amount");
	const char *desc = val(t, f, "description");
	const char *number = val(t, f, "invoice");
	char cur[4], key[128], *canon = NULL;
	int64_t amt = 0;
	json_t *row;
	int rc = HC_OK, n;

	(void)lens;
	if (!date || !hc_is_date(date))
		return fin__bad(p, line, NULL,
				"date '%s' is not a date (YYYY-MM-DD)",
				date ? date : "");
	if (!vendor)
		return fin__bad(p, line, NULL, "column vendor is empty");
	if (!currency_of(p, line, "currency", val(t, f, "currency"), cur, &rc))
		return rc;
	/* an invoice states its amount exactly: more decimals than the
	 * currency has is a mistake, not something to round */
	if (!amount(p, line, "amount", text, cur, FIN_EXACT, &amt, &rc))
		return rc;
	n = asprintf(&canon, "%s%c%s%c%s%c%s%c%lld%c%s", date, 0, vendor, 0,
		     number ? number : "", 0, desc ? desc : "", 0,
		     (long long)amt, 0, cur);
	if (n < 0)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	rc = fin__row_key(p, "invoice", canon, (size_t)n, key, sizeof(key));
	free(canon);
	if (rc != HC_OK)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	row = json_pack("{sssssIsssssssssIss}", "dedup_key", key, "kind",
			"invoice", "source_line", (json_int_t)line, "date",
			date, "provider", vendor, "currency", cur,
			"amount_raw", text, "amount", (json_int_t)amt,
			"charge_category",
			val(t, f, "category") ? val(t, f, "category")
					      : "Purchase");
	if (desc)
		hc_json_set_str(row, "description", desc);
	if (val(t, f, "service"))
		hc_json_set_str(row, "service", val(t, f, "service"));
	if (val(t, f, "domain"))
		hc_json_set_str(row, "domain", val(t, f, "domain"));
	if (val(t, f, "commitment"))
		hc_json_set_str(row, "commitment", val(t, f, "commitment"));
	if (number)
		json_object_set_new(row, "extra",
				    json_pack("{ss}", "invoice", number));
	json_array_append_new(p->rows, row);
	return HC_OK;
}

int fin__parse_invoices(struct fin_parse *p, const char *data, size_t len,
			struct hc_err *err)
{
	static const char *const required[] = { "date", "vendor", "amount",
						"currency", NULL };
	struct table t = { .p = p, .row = invoice_row, .required = required,
			   .what = "an invoice CSV" };
	int rc = read_table(&t, data, len, err);
	table_release(&t);
	return rc;
}
