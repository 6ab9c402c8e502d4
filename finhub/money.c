/*
 * money.c - currencies, exact decimal parsing, rounding, conversion with
 * configured rates, months and periods, and JSON whose numbers stay text.
 *
 * Nothing here uses floating point: decimal text becomes a 128-bit integer
 * mantissa and a power of ten, and every division rounds half to even.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "finhub/finhub.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"

typedef __int128 i128;

/* ---- currencies ------------------------------------------------------------ */

/* ISO 4217 active codes with their minor unit (the exponent column of the
 * standard's list one). Sorted by code. */
static const struct fin_currency currencies[] = {
	{ "AED", 2 }, { "ARS", 2 }, { "AUD", 2 }, { "BGN", 2 }, { "BHD", 3 },
	{ "BRL", 2 }, { "CAD", 2 }, { "CHF", 2 }, { "CLP", 0 }, { "CNY", 2 },
	{ "COP", 2 }, { "CZK", 2 }, { "DKK", 2 }, { "EGP", 2 }, { "EUR", 2 },
	{ "GBP", 2 }, { "HKD", 2 }, { "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 },
	{ "INR", 2 }, { "IQD", 3 }, { "ISK", 0 }, { "JOD", 3 }, { "JPY", 0 },
	{ "KRW", 0 }, { "KWD", 3 }, { "LYD", 3 }, { "MAD", 2 }, { "MXN", 2 },
	{ "MYR", 2 }, { "NOK", 2 }, { "NZD", 2 }, { "OMR", 3 }, { "PHP", 2 },
	{ "PLN", 2 }, { "RON", 2 }, { "RSD", 2 }, { "SAR", 2 }, { "SEK", 2 },
	{ "SGD", 2 }, { "THB", 2 }, { "TND", 3 }, { "TRY", 2 }, { "TWD", 2 },
	{ "UAH", 2 }, { "USD", 2 }, { "VND", 0 }, { "ZAR", 2 },
};

const struct fin_currency *fin_currency(const char *code)
{
	size_t lo = 0, hi = HC_COUNT(currencies);
	while (code && lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(code, currencies[mid].code);
		if (c == 0)
			return &currencies[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int fin_check_currency(json_t *obj, const char *field, struct hc_err *err)
{
	const char *v = hc_json_str(obj, field);
	char up[4];
	size_t n;
	if (!v)
		return HC_OK;
	n = strlen(v);
	for (size_t i = 0; i < n && i < 3; i++)
		up[i] = (char)toupper((unsigned char)v[i]);
	up[n < 3 ? n : 3] = '\0';
	if (n != 3 || !fin_currency(up))
		return hc_err_field(err, HC_EINVAL, field,
				    "field '%s' must be an ISO 4217 currency "
				    "code such as EUR or USD, not '%s'",
				    field, v);
	return strcmp(up, v) == 0 ? HC_OK : hc_json_set_str(obj, field, up);
}

/* ---- decimals ------------------------------------------------------------------ */

static i128 pow10_128(int n)
{
	i128 p = 1;
	while (n-- > 0)
		p *= 10;
	return p;
}

/* q = n / d rounded half to even, for d > 0. */
static i128 div_half_even(i128 n, i128 d)
{
	i128 q = n / d, r = n % d;
	i128 r2;
	if (r < 0) { /* make the remainder non-negative: floor division */
		q -= 1;
		r += d;
	}
	r2 = 2 * r;
	if (r2 > d || (r2 == d && (q & 1)))
		q += 1;
	return q;
}

int64_t fin_div_half_even(int64_t n, int64_t d)
{
	if (d == 0)
		HC_BUG("division by zero");
	if (d < 0) {
		n = -n;
		d = -d;
	}
	return (int64_t)div_half_even(n, d);
}

enum fin_dec_status fin_decimal_parse(const char *s, size_t len, int scale,
				      enum fin_round mode, int64_t *out)
{
	const char *p = s, *end = s + len;
	i128 mant = 0, v;
	int frac = 0, digits = 0, exp10 = 0, shift;
	bool neg = false, any = false, dot = false;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	for (; p < end; p++) {
		if (*p == '.' && !dot) {
			dot = true;
			continue;
		}
		if (*p < '0' || *p > '9')
			break;
		any = true;
		if (mant == 0 && *p == '0') {
			if (dot)
				frac++;
			continue;
		}
		if (++digits > 36)
			return FIN_DEC_RANGE;
		mant = mant * 10 + (*p - '0');
		if (dot)
			frac++;
	}
	if (!any)
		return FIN_DEC_SYNTAX;
	if (p < end && (*p == 'e' || *p == 'E')) {
		bool eneg = false;
		int e = 0, edig = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (++edig > 3)
				return FIN_DEC_RANGE;
			e = e * 10 + (*p - '0');
		}
		if (!edig)
			return FIN_DEC_SYNTAX;
		exp10 = eneg ? -e : e;
	}
	if (p != end)
		return FIN_DEC_SYNTAX;
	shift = scale - frac + exp10;
	if (mant == 0) {
		v = 0;
	} else if (shift >= 0) {
		if (digits + shift > 19)
			return FIN_DEC_RANGE;
		v = mant * pow10_128(shift);
	} else if (-shift > 38) {
		/* every digit is below the unit: far less than a half */
		if (mode == FIN_EXACT)
			return FIN_DEC_PRECISION;
		v = 0;
	} else {
		i128 d = pow10_128(-shift);
		if (mode == FIN_EXACT && mant % d != 0)
			return FIN_DEC_PRECISION;
		v = div_half_even(mant, d);
	}
	if (v > INT64_MAX)
		return FIN_DEC_RANGE;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return FIN_DEC_OK;
}

char *fin_format_amount(int64_t amount, int exponent, char *buf, size_t size)
{
	uint64_t a = amount < 0 ? (uint64_t)0 - (uint64_t)amount
				: (uint64_t)amount;
	uint64_t unit = 1;
	for (int i = 0; i < exponent; i++)
		unit *= 10;
	if (exponent == 0)
		snprintf(buf, size, "%s%" PRIu64, amount < 0 ? "-" : "", a);
	else
		snprintf(buf, size, "%s%" PRIu64 ".%0*" PRIu64,
			 amount < 0 ? "-" : "", a / unit, exponent, a % unit);
	return buf;
}

int fin_convert_units(int64_t amount, int from_exp, int to_exp,
		      int64_t rate_nano, int64_t *out)
{
	/* amount * rate * 10^to / (10^9 * 10^from) */
	i128 n = (i128)amount * rate_nano * pow10_128(to_exp);
	i128 d = pow10_128(9 + from_exp);
	i128 v = div_half_even(n, d);
	if (v > INT64_MAX || v < INT64_MIN)
		return HC_EINVAL;
	*out = (int64_t)v;
	return HC_OK;
}

int fin_convert(struct hc_conn *c, int64_t amount, const char *from,
		const char *to, int64_t *out, struct hc_err *err)
{
	const struct fin_currency *cf = fin_currency(from);
	const struct fin_currency *ct = fin_currency(to);
	struct hc_value p[] = { hc_vtext(from), hc_vtext(to) };
	struct hc_stmt *st = NULL;
	int64_t nano = 0;
	bool found = false;
	int rc;

	if (!cf || !ct)
		return hc_err_field(err, HC_EINVAL, "currency",
				    "unknown currency '%s'",
				    cf ? to : from);
	if (cf == ct) {
		*out = amount;
		return HC_OK;
	}
	rc = hc_query(c, &st,
		      "SELECT rate FROM fin_rates WHERE from_currency = ? AND "
		      "to_currency = ?",
		      p, 2, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_stmt_step(st, err);
	if (rc == HC_ROW_READY) {
		size_t len = 0;
		const char *t = hc_stmt_text(st, 0, &len);
		found = t && fin_decimal_parse(t, len, 9, FIN_EXACT, &nano) ==
				     FIN_DEC_OK;
		rc = HC_OK;
	} else if (rc == HC_ROW_DONE) {
		rc = HC_OK;
	}
	hc_stmt_finish(st);
	if (rc != HC_OK)
		return rc;
	if (!found)
		return hc_err_field(err, HC_EINVAL, "currency",
				    "amounts in %s and %s cannot be added up: "
				    "no exchange rate from %s to %s is "
				    "configured (add one with POST /rates)",
				    from, to, from, to);
	if (fin_convert_units(amount, cf->exponent, ct->exponent, nano, out) !=
	    HC_OK)
		return hc_err_field(err, HC_EINVAL, "currency",
				    "converting %" PRId64 " %s to %s overflows",
				    amount, from, to);
	return HC_OK;
}

/* ---- months and periods ------------------------------------------------------ */

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

bool fin_month_parse(const char *s, fin_month *out)
{
	int y, m;
	if (!s || strlen(s) < 7 || !digits(s, 4) || s[4] != '-' ||
	    !digits(s + 5, 2) || (s[7] != '\0' && s[7] != '-'))
		return false;
	y = num(s, 4);
	m = num(s + 5, 2);
	if (y < 1970 || m < 1 || m > 12)
		return false;
	*out = y * 12 + (m - 1);
	return true;
}

char *fin_month_format(fin_month m, char *buf, size_t size)
{
	snprintf(buf, size, "%04d-%02d", m / 12, m % 12 + 1);
	return buf;
}

bool fin_period_parse(char *period, fin_month *first, fin_month *last)
{
	size_t n = period ? strlen(period) : 0;
	int y;
	if (n < 4 || !digits(period, 4))
		return false;
	y = num(period, 4);
	if (y < 1970)
		return false;
	if (n == 4) {
		*first = y * 12;
		*last = y * 12 + 11;
		return true;
	}
	if (n == 7 && period[4] == '-' && (period[5] == 'Q' ||
					   period[5] == 'q') &&
	    period[6] >= '1' && period[6] <= '4') {
		period[5] = 'Q';
		*first = y * 12 + (period[6] - '1') * 3;
		*last = *first + 2;
		return true;
	}
	if (n == 7 && fin_month_parse(period, first)) {
		*last = *first;
		return true;
	}
	return false;
}

bool fin_datetime_utc(const char *s, size_t len, char *out, size_t size)
{
	char buf[64];
	struct tm tm = { 0 };
	int off = 0;
	time_t t;
	const char *p;

	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= sizeof(buf) || len < 10)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!digits(buf, 4) || buf[4] != '-' || !digits(buf + 5, 2) ||
	    buf[7] != '-' || !digits(buf + 8, 2))
		return false;
	tm.tm_year = num(buf, 4) - 1900;
	tm.tm_mon = num(buf + 5, 2) - 1;
	tm.tm_mday = num(buf + 8, 2);
	p = buf + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(p, 2) || p[2] != ':' || !digits(p + 3, 2))
			return false;
		tm.tm_hour = num(p, 2);
		tm.tm_min = num(p + 3, 2);
		p += 5;
		if (*p == ':') {
			if (!digits(p + 1, 2))
				return false;
			tm.tm_sec = num(p + 1, 2);
			p += 3;
			if (*p == '.') {
				p++;
				if (!isdigit((unsigned char)*p))
					return false;
				while (isdigit((unsigned char)*p))
					p++;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1;
			if (!digits(p + 1, 2) || p[3] != ':' ||
			    !digits(p + 4, 2))
				return false;
			off = sign * (num(p + 1, 2) * 3600 + num(p + 4, 2) * 60);
			p += 6;
		}
	}
	if (*p || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	{
		/* reject days a month does not have (timegm would roll over) */
		static const int mdays[] = { 31, 29, 31, 30, 31, 30,
					     31, 31, 30, 31, 30, 31 };
		int y = tm.tm_year + 1900;
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		if (tm.tm_mday > mdays[tm.tm_mon] ||
		    (tm.tm_mon == 1 && tm.tm_mday == 29 && !leap))
			return false;
	}
	t = timegm(&tm) - off;
	if (!gmtime_r(&t, &tm))
		return false;
	return strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

/* ---- JSON with exact numbers ---------------------------------------------------- */

int fin_json_parse_exact(const char *data, size_t len, json_t **out,
			 struct hc_err *err)
{
	struct hc_buf b = HC_BUF_INIT(2 * len + 16);
	bool in_str = false;
	int rc = HC_OK;
	size_t i = 0;

	while (rc == HC_OK && i < len) {
		char ch = data[i];
		if (in_str) {
			if (ch == '\\' && i + 1 < len) {
				rc = hc_buf_add(&b, data + i, 2);
				i += 2;
				continue;
			}
			if (ch == '"')
				in_str = false;
			rc = hc_buf_addc(&b, ch);
			i++;
		} else if (ch == '"') {
			in_str = true;
			rc = hc_buf_addc(&b, ch);
			i++;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			size_t j = i;
			while (j < len && (strchr("0123456789+-.eE", data[j]) &&
					   data[j] != '\0'))
				j++;
			rc = hc_buf_addc(&b, '"');
			if (rc == HC_OK)
				rc = hc_buf_add(&b, data + i, j - i);
			if (rc == HC_OK)
				rc = hc_buf_addc(&b, '"');
			i = j;
		} else {
			rc = hc_buf_addc(&b, ch);
			i++;
		}
	}
	if (rc != HC_OK) {
		hc_buf_release(&b);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	rc = hc_json_parse(b.data ? b.data : "", b.len, out, err);
	hc_buf_release(&b);
	return rc;
}

bool fin_json_int(const json_t *obj, const char *key, int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		return n > 0 && n <= 18 &&
		       strspn(s, "0123456789") == n &&
		       fin_decimal_parse(s, n, 0, FIN_EXACT, out) == FIN_DEC_OK;
	}
	return false;
}
