/*
 * condition.c - the condition language of probes ("[STATUS] == 200") and
 * durations ("72h"). Parsing is a small hand-made scanner over one line of
 * an expression; values inside the body are read with jansson.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opshub/opshub.h"

/* ---- durations -------------------------------------------------------------- */

size_t oh_duration_parse(const char *s, int64_t *ms)
{
	const char *p = s;
	int64_t total = 0;
	bool any = false;
	while (isdigit((unsigned char)*p)) {
		int64_t n = 0, unit;
		while (isdigit((unsigned char)*p)) {
			if (n > INT64_MAX / 100)
				return 0;
			n = n * 10 + (*p++ - '0');
		}
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else if (*p == 'd') {
			unit = 86400 * 1000;
			p++;
		} else {
			return 0;
		}
		if (n > (INT64_MAX / 4) / unit)
			return 0;
		total += n * unit;
		any = true;
	}
	if (!any)
		return 0;
	*ms = total;
	return (size_t)(p - s);
}

int oh_duration_json(const json_t *v, const char *field, int64_t *ms,
		     struct hc_err *err)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*ms = json_integer_value(v);
		return HC_OK;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = oh_duration_parse(s, ms);
		if (n && !s[n])
			return HC_OK;
	}
	return hc_err_field(err, HC_EINVAL, field,
			    "field '%s' must be a duration such as \"30s\", "
			    "\"26h\" or \"2d\", or milliseconds",
			    field);
}

/* ---- parsing --------------------------------------------------------------- */

static const struct {
	const char *name;
	enum oh_placeholder ph;
} placeholders[] = {
	{ "[STATUS]", OH_PH_STATUS },
	{ "[RESPONSE_TIME]", OH_PH_RESPONSE_TIME },
	{ "[BODY]", OH_PH_BODY },
	{ "[CERTIFICATE_EXPIRATION]", OH_PH_CERT_EXPIRATION },
	{ "[CONNECTED]", OH_PH_CONNECTED },
};

static const struct {
	const char *text;
	enum oh_cmp op;
} operators[] = {
	{ "==", OH_EQ }, { "!=", OH_NE }, { "<=", OH_LE },
	{ ">=", OH_GE }, { "<", OH_LT },  { ">", OH_GT },
};

static int at(struct hc_err *err, const char *expr, const char *p,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int at(struct hc_err *err, const char *expr, const char *p,
	      const char *fmt, ...)
{
	int col = (int)(p - expr) + 1;
	char what[HC_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return hc_err_at(err, HC_EINVAL, NULL, 0, col,
			 "condition '%s' at column %d: %s", expr, col, what);
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A JSON path after [BODY]: .name, [index], repeated. */
static const char *scan_path(const char *p)
{
	for (;;) {
		if (*p == '.' && (isalnum((unsigned char)p[1]) || p[1] == '_' ||
				  p[1] == '-')) {
			p++;
			while (isalnum((unsigned char)*p) || *p == '_' ||
			       *p == '-')
				p++;
		} else if (*p == '[' && isdigit((unsigned char)p[1])) {
			const char *q = p + 1;
			while (isdigit((unsigned char)*q))
				q++;
			if (*q != ']')
				return p;
			p = q + 1;
		} else {
			return p;
		}
	}
}

static bool is_number_text(const char *s, int64_t *n)
{
	char *end;
	long long v;
	if (!*s)
		return false;
	v = strtoll(s, &end, 10);
	if (*end)
		return false;
	*n = v;
	return true;
}

int oh_condition_parse(const char *expr, struct oh_condition *out,
		       struct hc_err *err)
{
	const char *p = skip_space(expr), *start, *op_pos;
	size_t i, len;
	bool found = false;

	memset(out, 0, sizeof(*out));
	if (strlen(expr) >= OH_COND_MAX)
		return hc_err_set(err, HC_EINVAL,
				  "a condition is at most %d bytes",
				  OH_COND_MAX - 1);
	if (*p != '[')
		return at(err, expr, p, "expected a placeholder such as %s",
			  "[STATUS]");
	for (i = 0; i < HC_COUNT(placeholders); i++) {
		len = strlen(placeholders[i].name);
		if (strncmp(p, placeholders[i].name, len) == 0) {
			out->ph = placeholders[i].ph;
			p += len;
			found = true;
			break;
		}
	}
	if (!found) {
		const char *close = strchr(p, ']');
		char name[64];
		snprintf(name, sizeof(name), "%.*s",
			 (int)(close ? close - p + 1 : (long)strlen(p)), p);
		return at(err, expr, p,
			  "unknown placeholder %s; one of [STATUS], "
			  "[RESPONSE_TIME], [BODY], [CERTIFICATE_EXPIRATION], "
			  "[CONNECTED]",
			  name);
	}
	if (out->ph == OH_PH_BODY && *p != ' ' && *p != '\t' && *p) {
		start = p;
		p = scan_path(p);
		if (p == start || (*p && *p != ' ' && *p != '\t' &&
				   !strchr("=!<>", *p)))
			return at(err, expr, p == start ? start : p,
				  "expected a JSON path such as %s after "
				  "[BODY]",
				  ".status or [0].name");
		snprintf(out->path, sizeof(out->path), "%.*s",
			 (int)(p - start), start);
	}
	p = skip_space(p);
	op_pos = p;
	found = false;
	for (i = 0; i < HC_COUNT(operators); i++) {
		len = strlen(operators[i].text);
		if (strncmp(p, operators[i].text, len) == 0) {
			out->op = operators[i].op;
			p += len;
			found = true;
			break;
		}
	}
	if (!found)
		return at(err, expr, p, "expected an operator: %s",
			  "==, !=, <, <=, > or >=");
	p = skip_space(p);
	if (!*p)
		return at(err, expr, p, "expected a value after the %s",
			  "operator");
	start = p;
	if (*p == '"') {
		const char *q = strchr(p + 1, '"');
		if (!q)
			return at(err, expr, p, "%s", "unterminated string");
		snprintf(out->value, sizeof(out->value), "%.*s",
			 (int)(q - p - 1), p + 1);
		p = skip_space(q + 1);
		if (*p)
			return at(err, expr, p,
				  "unexpected %s after the value",
				  "text");
	} else {
		len = strlen(p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		snprintf(out->value, sizeof(out->value), "%.*s", (int)len, p);
	}

	/* What the placeholder compares with. */
	switch (out->ph) {
	case OH_PH_STATUS:
		if (!is_number_text(out->value, &out->number))
			return at(err, expr, start,
				  "%s compares with a number", "[STATUS]");
		out->is_number = true;
		break;
	case OH_PH_RESPONSE_TIME:
	case OH_PH_CERT_EXPIRATION: {
		int64_t ms;
		size_t n = oh_duration_parse(out->value, &ms);
		if (n && !out->value[n]) {
			out->number = ms;
		} else if (!is_number_text(out->value, &out->number)) {
			return at(err, expr, start,
				  "%s compares with a duration such as 500ms "
				  "or 72h, or a number of milliseconds",
				  out->ph == OH_PH_RESPONSE_TIME
					  ? "[RESPONSE_TIME]"
					  : "[CERTIFICATE_EXPIRATION]");
		}
		out->is_number = true;
		break;
	}
	case OH_PH_CONNECTED:
		if (strcmp(out->value, "true") && strcmp(out->value, "false"))
			return at(err, expr, start, "%s compares with true or "
						   "false",
				  "[CONNECTED]");
		if (out->op != OH_EQ && out->op != OH_NE)
			return at(err, expr, op_pos,
				  "%s compares only with == or !=",
				  "[CONNECTED]");
		out->is_bool = true;
		out->boolean = strcmp(out->value, "true") == 0;
		break;
	case OH_PH_BODY:
		if (is_number_text(out->value, &out->number))
			out->is_number = true;
		else if (out->op != OH_EQ && out->op != OH_NE)
			return at(err, expr, start,
				  "%s: < <= > >= compare numbers only",
				  "[BODY]");
		if (!strcmp(out->value, "true") || !strcmp(out->value, "false")) {
			out->is_bool = true;
			out->boolean = out->value[0] == 't';
		}
		break;
	}
	return HC_OK;
}

/* ---- evaluation --------------------------------------------------------------- */

/* Follow .name and [i] through a JSON value. */
static const json_t *follow(const json_t *v, const char *p)
{
	while (v && *p) {
		if (*p == '.') {
			const char *s = ++p;
			char key[OH_COND_MAX];
			while (*p && *p != '.' && *p != '[')
				p++;
			snprintf(key, sizeof(key), "%.*s", (int)(p - s), s);
			v = json_object_get(v, key);
		} else if (*p == '[') {
			size_t i = (size_t)strtoul(p + 1, (char **)&p, 10);
			if (*p == ']')
				p++;
			v = json_array_get(v, i);
		} else {
			return NULL;
		}
	}
	return v;
}

static bool compare_num(int64_t a, enum oh_cmp op, int64_t b)
{
	switch (op) {
	case OH_EQ: return a == b;
	case OH_NE: return a != b;
	case OH_LT: return a < b;
	case OH_LE: return a <= b;
	case OH_GT: return a > b;
	case OH_GE: return a >= b;
	}
	return false;
}

static const char *op_text(enum oh_cmp op)
{
	for (size_t i = 0; i < HC_COUNT(operators); i++)
		if (operators[i].op == op)
			return operators[i].text;
	return "?";
}

static const char *ph_text(enum oh_placeholder ph)
{
	for (size_t i = 0; i < HC_COUNT(placeholders); i++)
		if (placeholders[i].ph == ph)
			return placeholders[i].name;
	return "?";
}

/* A duration for people: "2d 3h", "47h59m", "850ms". */
static void human_ms(int64_t ms, char *out, size_t size)
{
	int64_t a = ms < 0 ? -ms : ms;
	const char *sign = ms < 0 ? "-" : "";
	if (a < 10000)
		snprintf(out, size, "%s%" PRId64 "ms", sign, a);
	else if (a < 3600000)
		snprintf(out, size, "%s%" PRId64 "s", sign, a / 1000);
	else
		snprintf(out, size, "%s%" PRId64 "h%02" PRId64 "m", sign,
			 a / 3600000, (a / 60000) % 60);
}

bool oh_condition_eval(const struct oh_condition *c,
		       const struct oh_observation *o, char *desc,
		       size_t desc_size)
{
	char seen[160] = "";
	bool ok = false;

	switch (c->ph) {
	case OH_PH_STATUS:
		snprintf(seen, sizeof(seen), "%ld", o->status);
		ok = o->status && compare_num(o->status, c->op, c->number);
		break;
	case OH_PH_RESPONSE_TIME:
		human_ms(o->response_ms, seen, sizeof(seen));
		ok = compare_num(o->response_ms, c->op, c->number);
		break;
	case OH_PH_CERT_EXPIRATION:
		if (!o->has_cert) {
			snprintf(seen, sizeof(seen), "no certificate");
			break;
		}
		human_ms((o->cert_not_after - o->now) * 1000, seen,
			 sizeof(seen));
		ok = compare_num((o->cert_not_after - o->now) * 1000, c->op,
				 c->number);
		break;
	case OH_PH_CONNECTED:
		snprintf(seen, sizeof(seen), "%s",
			 o->connected ? "true" : "false");
		ok = (o->connected == c->boolean) == (c->op == OH_EQ);
		break;
	case OH_PH_BODY: {
		const json_t *v = NULL;
		char text[128];
		const char *s = NULL;
		if (c->path[0]) {
			v = o->body_json ? follow(o->body_json, c->path) : NULL;
			if (!v) {
				snprintf(seen, sizeof(seen), "%s",
					 o->body_json ? "missing"
						      : "not JSON");
				ok = c->op == OH_NE;
				break;
			}
			if (json_is_string(v))
				s = json_string_value(v);
			else if (json_is_integer(v))
				snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
					 json_integer_value(v)),
					s = text;
			else if (json_is_boolean(v))
				s = json_is_true(v) ? "true" : "false";
			else if (json_is_null(v))
				s = "null";
			else
				s = "(structure)";
		} else {
			s = o->body ? o->body : "";
		}
		snprintf(seen, sizeof(seen), "%.100s", s);
		if (c->is_number && (c->op != OH_EQ && c->op != OH_NE)) {
			int64_t n;
			ok = is_number_text(s, &n) &&
			     compare_num(n, c->op, c->number);
		} else {
			bool eq = strcmp(s, c->value) == 0;
			ok = c->op == OH_EQ ? eq : !eq;
		}
		break;
	}
	}
	if (desc) {
		char want[OH_COND_MAX + 8];
		snprintf(want, sizeof(want), "%s", c->value);
		snprintf(desc, desc_size, "%s%s (%s) %s %s", ph_text(c->ph),
			 c->path, seen, op_text(c->op), want);
	}
	return ok;
}
