/*
 * template.c - the small template language of the files dev-hub generates
 * (the session protocol rule file): a subset of Mustache, written here
 * because the one use does not justify a library.
 *
 *   {{name}}              the variable's value, as is (no escaping: the
 *                         output is Markdown, not HTML)
 *   {{#name}}...{{/name}} the block when the variable is set and not ""
 *   {{^name}}...{{/name}} the block when it is not
 *
 * A section tag alone on its line takes the line with it, so sections do
 * not leave blank lines behind. An unknown variable, an unclosed or stray
 * section and an unterminated tag are errors naming the template's line.
 */
#include <string.h>

#include "devhub/devhub.h"

static const struct dh_tvar *lookup(const struct dh_tvar *vars, size_t n,
				    const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(vars[i].name) == len &&
		    memcmp(vars[i].name, name, len) == 0)
			return &vars[i];
	return NULL;
}

static int line_of(const char *base, const char *p)
{
	int line = 1;
	for (const char *s = base; s < p; s++)
		line += *s == '\n';
	return line;
}

struct tctx {
	const char *source;
	const char *base; /* the whole template, for line numbers */
	const struct dh_tvar *vars;
	size_t nvars;
	struct hc_err *err;
};

/* Whether the tag at [t, end) is alone on its line: returns the start of
 * its line and the byte after its line's EOL in *from / *to. */
static bool standalone(const struct tctx *x, const char *lo, const char *hi,
		       const char *t, const char *end, const char **from,
		       const char **to)
{
	const char *a = t, *b = end;
	while (a > lo && (a[-1] == ' ' || a[-1] == '\t'))
		a--;
	if (a > lo && a[-1] != '\n')
		return false;
	while (b < hi && (*b == ' ' || *b == '\t' || *b == '\r'))
		b++;
	if (b < hi && *b != '\n')
		return false;
	*from = a;
	*to = b < hi ? b + 1 : b;
	return true;
}

static int render(const struct tctx *x, const char *p, const char *hi,
		  struct hc_buf *out);

/* Find the {{/name}} closing the section opened before p. */
static const char *find_close(const char *p, const char *hi, const char *name,
			      size_t len, const char **close_end)
{
	int depth = 1;
	while (p < hi) {
		const char *t = memmem(p, (size_t)(hi - p), "{{", 2), *e;
		if (!t)
			return NULL;
		e = memmem(t, (size_t)(hi - t), "}}", 2);
		if (!e)
			return NULL;
		if ((t[2] == '#' || t[2] == '^') && (size_t)(e - t - 3) == len &&
		    memcmp(t + 3, name, len) == 0)
			depth++;
		if (t[2] == '/' && (size_t)(e - t - 3) == len &&
		    memcmp(t + 3, name, len) == 0 && --depth == 0) {
			*close_end = e + 2;
			return t;
		}
		p = e + 2;
	}
	return NULL;
}

static int render(const struct tctx *x, const char *p, const char *hi,
		  struct hc_buf *out)
{
	const char *lo = p;
	while (p < hi) {
		const char *t = memmem(p, (size_t)(hi - p), "{{", 2);
		const char *e, *name, *from, *to;
		const struct dh_tvar *v;
		size_t len;
		char kind;
		if (!t)
			return hc_buf_add(out, p, (size_t)(hi - p));
		e = memmem(t, (size_t)(hi - t), "}}", 2);
		if (!e)
			return hc_err_at(x->err, HC_EPARSE, x->source,
					 line_of(x->base, t), 0,
					 "'{{' without '}}'");
		kind = t[2];
		name = t + 2 + (kind == '#' || kind == '^' || kind == '/');
		len = (size_t)(e - name);
		while (len && *name == ' ')
			name++, len--;
		while (len && name[len - 1] == ' ')
			len--;
		v = lookup(x->vars, x->nvars, name, len);
		if (!v)
			return hc_err_at(x->err, HC_EPARSE, x->source,
					 line_of(x->base, t), 0,
					 "unknown variable '%.*s'", (int)len,
					 name);
		if (kind == '/')
			return hc_err_at(x->err, HC_EPARSE, x->source,
					 line_of(x->base, t), 0,
					 "'{{/%.*s}}' closes no section",
					 (int)len, name);
		if (kind != '#' && kind != '^') {
			int rc = hc_buf_add(out, p, (size_t)(t - p));
			if (rc == HC_OK && v->value)
				rc = hc_buf_adds(out, v->value);
			if (rc != HC_OK)
				return hc_err_set(x->err, rc, "out of memory");
			p = e + 2;
			continue;
		}
		{
			const char *body = e + 2, *cend = NULL, *after;
			const char *close = find_close(body, hi, name, len,
						       &cend);
			bool on = v->value && *v->value;
			int rc;
			if (!close)
				return hc_err_at(x->err, HC_EPARSE, x->source,
						 line_of(x->base, t), 0,
						 "section '%.*s' is not closed",
						 (int)len, name);
			if (kind == '^')
				on = !on;
			/* the text before the tag; a standalone tag drops
			 * its line */
			if (standalone(x, lo, hi, t, e + 2, &from, &to)) {
				rc = hc_buf_add(out, p, (size_t)(from - p));
				body = to;
			} else {
				rc = hc_buf_add(out, p, (size_t)(t - p));
			}
			after = cend;
			if (standalone(x, lo, hi, close, cend, &from, &to)) {
				after = to;
				close = from;
			}
			if (rc == HC_OK && on && close > body)
				rc = render(x, body, close, out);
			else if (rc != HC_OK)
				return hc_err_set(x->err, rc, "out of memory");
			if (rc != HC_OK)
				return rc;
			p = after;
		}
	}
	return HC_OK;
}

int dh_template_render(const char *source, const char *tmpl, size_t len,
		       const struct dh_tvar *vars, size_t nvars, char **out,
		       size_t *out_len, struct hc_err *err)
{
	struct hc_buf b = HC_BUF_INIT((size_t)16 << 20);
	struct tctx x = { source, tmpl, vars, nvars, err };
	int rc = render(&x, tmpl, tmpl + len, &b);
	if (rc != HC_OK) {
		hc_buf_release(&b);
		return rc;
	}
	if (hc_buf_add(&b, "", 0) != HC_OK) {
		hc_buf_release(&b);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	*out = hc_buf_detach(&b, out_len);
	if (!*out) {
		*out = strdup("");
		*out_len = 0;
	}
	return *out ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
}
