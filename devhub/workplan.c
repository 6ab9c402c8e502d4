/*
 * devhub/workplan.c - the workplan parser: public API, the line table, and
 * what both forms share (YAML field blocks through libyaml, tables through
 * cmark-gfm's table extension, metadata and task validation, duplicate
 * checks). The forms themselves are walked in workplan_text.c and
 * workplan_md.c. See devhub/workplan.h and docs/workplan-format.md.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <yaml.h>

#include "devhub/workplan.h"
#include "devhub/workplan_int.h"
#include "hubcore/buf.h"
#include "hubcore/status.h"
#include "hubcore/util.h"

const char *const dh_task_statuses[] = {
	"todo", "in_progress", "blocked", "done", "cancelled", NULL
};

const char *const dh_task_priorities[] = { "high", "medium", "low", NULL };

/* ---- errors ------------------------------------------------------------ */

int dh__fail(struct dh__ctx *c, int line, int column, const char *fmt, ...)
{
	char msg[HC_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hc_err_at(c->err, HC_EPARSE, c->doc.source, line, column, "%s",
			 msg);
}

int dh__nomem(struct dh__ctx *c)
{
	return hc_err_at(c->err, HC_ENOMEM, c->doc.source, 0, 0,
			 "out of memory");
}

/* ---- the line table ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Split data into the normalised line table of c->doc. Refuses NUL bytes
 * and invalid UTF-8 with their position.
 */
static int doc_load(struct dh__ctx *c, const char *data, size_t len)
{
	struct dh__doc *d = &c->doc;
	const unsigned char *p = (const unsigned char *)data;
	size_t i, n = 0, o = 0, col = 1;
	int line = 1, rc = HC_OK;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		p += 3;
		len -= 3;
	}
	for (i = 0; i < len; i++) {
		if (p[i] == '\n' || (p[i] == '\r' &&
				     (i + 1 == len || p[i + 1] != '\n')))
			n++;
	}
	if (len && p[len - 1] != '\n' && p[len - 1] != '\r')
		n++;
	if (n > INT32_MAX - 1)
		return hc_err_at(c->err, HC_ETOOBIG, d->source, 0, 0,
				 "workplan has too many lines");
	d->text = malloc(len + 2);
	d->off = calloc(n + 1, sizeof(*d->off));
	d->len = calloc(n + 1, sizeof(*d->len));
	if (!d->text || !d->off || !d->len) {
		rc = dh__nomem(c);
		goto out;
	}
	d->nlines = (int)n;
	if (n)
		d->off[1] = 0;
	for (i = 0; i < len;) {
		size_t k;

		if (p[i] == '\r' || p[i] == '\n') {
			d->len[line] = o - d->off[line];
			d->text[o++] = '\n';
			i += (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
				     ? 2 : 1;
			line++;
			col = 1;
			if ((size_t)line <= n)
				d->off[line] = o;
			continue;
		}
		if (p[i] == '\0') {
			rc = dh__fail(c, line, (int)col,
				      "nul byte in workplan");
			goto out;
		}
		k = utf8_seq(p + i, len - i);
		if (!k) {
			rc = dh__fail(c, line, (int)col,
				      "invalid utf-8 in workplan");
			goto out;
		}
		memcpy(d->text + o, p + i, k);
		o += k;
		i += k;
		col += k;
	}
	if ((size_t)line == n) {
		/* the last line had no line ending: give it one */
		d->len[line] = o - d->off[line];
		d->text[o++] = '\n';
	}
	d->text_len = o;
	d->text[o] = '\0';
out:
	return rc;
}

static void doc_free(struct dh__doc *d)
{
	free(d->text);
	free(d->off);
	free(d->len);
}

struct hc_slice dh__line(const struct dh__doc *doc, int i)
{
	HC_ASSERT(i >= 1 && i <= doc->nlines);
	return hc_slice_from(doc->text + doc->off[i], doc->len[i]);
}

bool dh__blank(const struct dh__doc *doc, int i)
{
	struct hc_slice s = dh__line(doc, i);
	size_t k;

	for (k = 0; k < s.len; k++)
		if (s.ptr[k] != ' ' && s.ptr[k] != '\t')
			return false;
	return true;
}

char *dh__lines_dup(const struct dh__doc *doc, int first, int last)
{
	if (first < 1)
		first = 1;
	if (last > doc->nlines)
		last = doc->nlines;
	while (first <= last && dh__blank(doc, first))
		first++;
	while (last >= first && dh__blank(doc, last))
		last--;
	if (first > last)
		return hc_slice_dup(hc_slice_from("", 0));
	return hc_slice_dup(hc_slice_from(doc->text + doc->off[first],
					  doc->off[last] + doc->len[last] -
						  doc->off[first]));
}

/* ---- YAML mappings ----------------------------------------------------- */

/* Most keys in one block; keeps the duplicate check cheap. */
#define DH__YAML_MAX_KEYS 256

/* Line of byte offset off in the text of lines first.. */
static int line_at(const struct dh__doc *d, int first, size_t off)
{
	const char *p = d->text + d->off[first];
	int line = first;
	size_t i;

	for (i = 0; i < off && d->off[first] + i < d->text_len; i++)
		if (p[i] == '\n')
			line++;
	return line;
}

/* Whether libyaml found the problem after the place that causes it. */
static bool yaml_context_first(const char *context)
{
	static const char *const ctx[] = {
		"while scanning a simple key",
		"while scanning a quoted scalar",
		"while parsing a flow",
		NULL,
	};
	size_t i;

	if (!context)
		return false;
	for (i = 0; ctx[i]; i++)
		if (strncmp(context, ctx[i], strlen(ctx[i])) == 0)
			return true;
	return false;
}

static int yaml_problem(struct dh__ctx *c, const yaml_parser_t *p,
			int first, int last, const char *what)
{
	const yaml_mark_t *m = &p->problem_mark;
	int line, column = 0;

	if (p->error == YAML_MEMORY_ERROR)
		return dh__nomem(c);
	if (p->error == YAML_READER_ERROR) {
		line = line_at(&c->doc, first, p->problem_offset);
	} else {
		if (yaml_context_first(p->context))
			m = &p->context_mark;
		line = first + (int)m->line;
		column = (int)m->column + 1;
	}
	if (line > last) {
		line = last;
		column = 0;
	}
	return dh__fail(c, line, column, "%s: invalid yaml: %s%s%s", what,
			p->problem ? p->problem : "syntax error",
			p->context ? " " : "", p->context ? p->context : "");
}

/* Copy a scalar, refusing NUL bytes (double-quoted "\0" makes one). */
static int scalar_dup(struct dh__ctx *c, const yaml_node_t *n,
		      const char *what, int first, char **out)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;

	if (memchr(s, '\0', len))
		return dh__fail(c, first + (int)n->start_mark.line,
				(int)n->start_mark.column + 1,
				"%s: nul byte in a value", what);
	*out = hc_slice_dup(hc_slice_from(s, len));
	return *out ? HC_OK : dh__nomem(c);
}

/* True for a plain scalar that YAML reads as null. */
static bool scalar_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL",
					     NULL };
	struct hc_slice s;
	size_t i;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = hc_slice_from((const char *)n->data.scalar.value,
			  n->data.scalar.length);
	for (i = 0; nulls[i]; i++)
		if (hc_slice_eq(s, nulls[i]))
			return true;
	return false;
}

static int ymap_fill(struct dh__ctx *c, yaml_document_t *doc,
		     yaml_node_t *root, int first, const char *what,
		     struct dh__ymap *map)
{
	yaml_node_pair_t *pair;
	size_t n, i;
	int rc = HC_OK;

	n = (size_t)(root->data.mapping.pairs.top -
		     root->data.mapping.pairs.start);
	if (n > DH__YAML_MAX_KEYS)
		return dh__fail(c, first + (int)root->start_mark.line, 0,
				"%s: more than %d fields", what,
				DH__YAML_MAX_KEYS);
	map->v = calloc(n ? n : 1, sizeof(*map->v));
	if (!map->v)
		return dh__nomem(c);
	for (pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(doc, pair->value);
		struct dh__yfield *f = &map->v[map->n];

		HC_ASSERT(k && v);
		if (k->type != YAML_SCALAR_NODE) {
			rc = dh__fail(c, first + (int)k->start_mark.line,
				      (int)k->start_mark.column + 1,
				      "%s: a key must be a plain name", what);
			goto out;
		}
		map->n++;
		f->key_line = first + (int)k->start_mark.line;
		f->key_column = (int)k->start_mark.column + 1;
		f->line = first + (int)v->start_mark.line;
		f->column = (int)v->start_mark.column + 1;
		rc = scalar_dup(c, k, what, first, &f->key);
		if (rc)
			goto out;
		for (i = 0; i + 1 < map->n; i++) {
			if (strcmp(map->v[i].key, f->key) == 0) {
				rc = dh__fail(c, f->key_line, f->key_column,
					      "%s: duplicate field '%s'", what,
					      f->key);
				goto out;
			}
		}
		f->scalar = v->type == YAML_SCALAR_NODE;
		if (f->scalar && !scalar_is_null(v)) {
			rc = scalar_dup(c, v, what, first, &f->value);
			if (rc)
				goto out;
		}
	}
out:
	return rc;
}

int dh__yaml_map(struct dh__ctx *c, int first, int last, const char *what,
		 struct dh__ymap *map)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	bool have_parser = false, have_doc = false, have_extra = false;
	const char *text = "";
	size_t len = 0;
	yaml_node_t *root, *more;
	int rc = HC_OK;

	map->v = NULL;
	map->n = 0;
	if (first <= last) {
		text = c->doc.text + c->doc.off[first];
		len = c->doc.off[last] + c->doc.len[last] + 1 -
		      c->doc.off[first];
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = dh__nomem(c);
		goto out;
	}
	have_parser = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_problem(c, &parser, first, last, what);
		goto out;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		goto out; /* empty: no fields */
	if (root->type != YAML_MAPPING_NODE) {
		rc = dh__fail(c, first + (int)root->start_mark.line,
			      (int)root->start_mark.column + 1,
			      "%s: expected 'key: value' lines", what);
		goto out;
	}
	if (!yaml_parser_load(&parser, &extra)) {
		rc = yaml_problem(c, &parser, first, last, what);
		goto out;
	}
	have_extra = true;
	more = yaml_document_get_root_node(&extra);
	if (more) {
		rc = dh__fail(c, first + (int)more->start_mark.line, 0,
			      "%s: more than one yaml document", what);
		goto out;
	}
	rc = ymap_fill(c, &doc, root, first, what, map);
out:
	if (rc)
		dh__ymap_free(map);
	if (have_extra)
		yaml_document_delete(&extra);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	return rc;
}

void dh__ymap_free(struct dh__ymap *map)
{
	size_t i;

	for (i = 0; i < map->n; i++) {
		free(map->v[i].key);
		free(map->v[i].value);
	}
	free(map->v);
	map->v = NULL;
	map->n = 0;
}

/* ---- tables (cmark-gfm) ------------------------------------------------ */

static pthread_once_t ext_once = PTHREAD_ONCE_INIT;

static void ext_register(void)
{
	cmark_gfm_core_extensions_ensure_registered();
}

cmark_parser *dh__md_parser_new(void)
{
	cmark_syntax_extension *table;
	cmark_parser *p;

	/* the extension registry is process-wide; fill it exactly once */
	pthread_once(&ext_once, ext_register);
	table = cmark_find_syntax_extension("table");
	if (!table)
		return NULL;
	p = cmark_parser_new(CMARK_OPT_DEFAULT);
	if (p && !cmark_parser_attach_syntax_extension(p, table)) {
		cmark_parser_free(p);
		p = NULL;
	}
	return p;
}

bool dh__is_table(cmark_node *n)
{
	return n && strcmp(cmark_node_get_type_string(n), "table") == 0;
}

/* The text of a cell from its inline nodes (code spans lose backquotes). */
static int cell_literal(cmark_node *cell, struct hc_buf *b)
{
	cmark_iter *it = cmark_iter_new(cell);
	cmark_event_type ev;
	int rc = HC_OK;

	if (!it)
		return HC_ENOMEM;
	while (!rc && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		cmark_node_type type = cmark_node_get_type(n);
		const char *lit;

		if (ev != CMARK_EVENT_ENTER)
			continue;
		if (type == CMARK_NODE_SOFTBREAK ||
		    type == CMARK_NODE_LINEBREAK) {
			rc = hc_buf_addc(b, ' ');
			continue;
		}
		if (type != CMARK_NODE_TEXT && type != CMARK_NODE_CODE &&
		    type != CMARK_NODE_HTML_INLINE)
			continue;
		lit = cmark_node_get_literal(n);
		if (lit)
			rc = hc_buf_adds(b, lit);
	}
	cmark_iter_free(it);
	return rc;
}

/*
 * The text of a body cell: its source bytes, verbatim but for the "\|"
 * escape, when cmark-gfm's positions are usable; else its inline text.
 */
static int cell_text(const struct dh__doc *doc, cmark_node *cell,
		     int line_off, int *column, char **out)
{
	struct hc_buf b = HC_BUF_INIT(DH_WP_MAX_SIZE);
	int line = cmark_node_get_start_line(cell) + line_off;
	int sc = cmark_node_get_start_column(cell);
	int ec = cmark_node_get_end_column(cell);
	struct hc_slice s;
	size_t i;
	int rc = HC_OK;

	*column = 0;
	if (line >= 1 && line <= doc->nlines && sc >= 1 && ec >= sc &&
	    (size_t)ec <= doc->len[line]) {
		s = dh__line(doc, line);
		s = hc_slice_trim(hc_slice_from(s.ptr + sc - 1,
						(size_t)(ec - sc + 1)));
		if (s.len)
			*column = (int)((size_t)(s.ptr - doc->text) -
					doc->off[line]) + 1;
		for (i = 0; !rc && i < s.len; i++) {
			if (s.ptr[i] == '\\' && i + 1 < s.len &&
			    s.ptr[i + 1] == '|')
				continue;
			rc = hc_buf_addc(&b, s.ptr[i]);
		}
	} else {
		rc = cell_literal(cell, &b);
	}
	if (!rc) {
		s = hc_slice_trim(hc_buf_slice(&b));
		*out = hc_slice_dup(s);
		if (!*out)
			rc = HC_ENOMEM;
	}
	hc_buf_release(&b);
	return rc;
}

static int head_text(cmark_node *cell, char **out)
{
	struct hc_buf b = HC_BUF_INIT(DH_WP_MAX_SIZE);
	int rc = cell_literal(cell, &b);

	if (!rc) {
		*out = hc_slice_dup(hc_slice_trim(hc_buf_slice(&b)));
		if (!*out)
			rc = HC_ENOMEM;
	}
	hc_buf_release(&b);
	return rc;
}

int dh__table_read(const struct dh__doc *doc, cmark_node *table,
		   int line_off, struct dh__table *t)
{
	cmark_node *row, *cell;
	size_t nrows = 0, r, k;
	int rc = HC_OK;

	memset(t, 0, sizeof(*t));
	t->ncols = cmark_gfm_extensions_get_table_columns(table);
	for (row = cmark_node_first_child(table); row;
	     row = cmark_node_next(row))
		if (!cmark_gfm_extensions_get_table_row_is_header(row))
			nrows++;
	t->head = calloc(t->ncols + 1, sizeof(*t->head));
	t->cell = calloc(nrows * t->ncols + 1, sizeof(*t->cell));
	t->cell_col = calloc(nrows * t->ncols + 1, sizeof(*t->cell_col));
	t->row_line = calloc(nrows + 1, sizeof(*t->row_line));
	if (!t->head || !t->cell || !t->cell_col || !t->row_line) {
		rc = HC_ENOMEM;
		goto out;
	}
	for (row = cmark_node_first_child(table); row;
	     row = cmark_node_next(row)) {
		bool head = cmark_gfm_extensions_get_table_row_is_header(row);

		r = t->nrows;
		if (!head) {
			t->row_line[r] =
				cmark_node_get_start_line(row) + line_off;
			t->nrows++;
		}
		cell = cmark_node_first_child(row);
		for (k = 0; k < t->ncols; k++) {
			char **dst = head ? &t->head[k]
					  : &t->cell[r * t->ncols + k];

			if (!cell)
				*dst = hc_slice_dup(hc_slice_from("", 0));
			else if (head)
				rc = head_text(cell, dst);
			else
				rc = cell_text(doc, cell, line_off,
					       &t->cell_col[r * t->ncols + k],
					       dst);
			if (!rc && !*dst)
				rc = HC_ENOMEM;
			if (rc)
				goto out;
			if (cell)
				cell = cmark_node_next(cell);
		}
	}
out:
	return rc;
}

void dh__table_free(struct dh__table *t)
{
	size_t i;

	for (i = 0; t->head && i < t->ncols; i++)
		free(t->head[i]);
	for (i = 0; t->cell && i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->head);
	free(t->cell);
	free(t->cell_col);
	free(t->row_line);
	memset(t, 0, sizeof(*t));
}

static long table_col(const struct dh__table *t, const char *name)
{
	size_t k;

	for (k = 0; k < t->ncols; k++)
		if (strcasecmp(t->head[k], name) == 0)
			return (long)k;
	return -1;
}

int dh__decisions_add(struct dh__ctx *c, const struct dh__table *t)
{
	struct dh_workplan *wp = c->wp;
	long dc = table_col(t, "decision");
	long cc = table_col(t, "choice");
	long rc_ = table_col(t, "rationale");
	size_t r;

	if (dc < 0 || cc < 0 || rc_ < 0)
		return HC_OK; /* some other table */
	for (r = 0; r < t->nrows; r++) {
		struct dh_wp_decision *d;
		char *const *row = t->cell + r * t->ncols;

		if (wp->ndecisions == c->cap_decisions) {
			size_t cap = c->cap_decisions ? c->cap_decisions * 2
						      : 8;
			void *p = realloc(wp->decisions, cap * sizeof(*d));

			if (!p)
				return dh__nomem(c);
			wp->decisions = p;
			c->cap_decisions = cap;
		}
		d = &wp->decisions[wp->ndecisions++];
		memset(d, 0, sizeof(*d));
		d->line = t->row_line[r];
		d->title = strdup(row[dc]);
		d->choice = strdup(row[cc]);
		d->rationale = strdup(row[rc_]);
		if (!d->title || !d->choice || !d->rationale)
			return dh__nomem(c);
	}
	return HC_OK;
}

/* ---- headings ---------------------------------------------------------- */

static bool is_blank_char(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Match blanks, a dash (em, en or '-'), then blanks or the end, from *i. */
static bool match_dash(struct hc_slice s, size_t *i)
{
	static const char *const dashes[] = { "\xe2\x80\x94", "\xe2\x80\x93",
					      "-", NULL };
	size_t k = *i, n, d;

	if (k >= s.len || !is_blank_char(s.ptr[k]))
		return false;
	while (k < s.len && is_blank_char(s.ptr[k]))
		k++;
	for (d = 0; dashes[d]; d++) {
		n = strlen(dashes[d]);
		if (s.len - k >= n && memcmp(s.ptr + k, dashes[d], n) == 0)
			break;
	}
	if (!dashes[d])
		return false;
	k += n;
	if (k < s.len && !is_blank_char(s.ptr[k]))
		return false;
	*i = k;
	return true;
}

static struct hc_slice rtrim(struct hc_slice s)
{
	while (s.len && (is_blank_char(s.ptr[s.len - 1]) ||
			 s.ptr[s.len - 1] == '\n'))
		s.len--;
	return s;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_alnum(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z');
}

bool dh__match_phase(struct hc_slice s, struct hc_slice *key,
		     struct hc_slice *title)
{
	size_t i = 5, k;

	s = rtrim(s);
	if (s.len < 6 || memcmp(s.ptr, "Phase", 5) != 0 ||
	    !is_blank_char(s.ptr[5]))
		return false;
	while (i < s.len && is_blank_char(s.ptr[i]))
		i++;
	if (i >= s.len || !is_digit(s.ptr[i]))
		return false;
	k = i;
	while (i < s.len && (is_alnum(s.ptr[i]) || s.ptr[i] == '.'))
		i++;
	*key = hc_slice_from(s.ptr + k, i - k);
	if (!match_dash(s, &i))
		return false;
	*title = hc_slice_trim(hc_slice_from(s.ptr + i, s.len - i));
	return true;
}

bool dh__match_task(struct hc_slice s, struct hc_slice *key,
		    struct hc_slice *title)
{
	size_t i = 1;

	s = rtrim(s);
	if (s.len < 3 || s.ptr[0] != 'T')
		return false;
	while (i < s.len && is_digit(s.ptr[i]))
		i++;
	if (i < 2)
		return false;
	*key = hc_slice_from(s.ptr, i);
	if (!match_dash(s, &i))
		return false;
	*title = hc_slice_trim(hc_slice_from(s.ptr + i, s.len - i));
	return true;
}

/* ---- metadata ---------------------------------------------------------- */

static const struct {
	const char *name;
	size_t off;
} meta_fields[] = {
	{ "id", offsetof(struct dh_workplan, id) },
	{ "type", offsetof(struct dh_workplan, type) },
	{ "title", offsetof(struct dh_workplan, title) },
	{ "domain", offsetof(struct dh_workplan, domain) },
	{ "repo", offsetof(struct dh_workplan, repo) },
	{ "status", offsetof(struct dh_workplan, status) },
	{ "owner", offsetof(struct dh_workplan, owner) },
	{ "topic_slug", offsetof(struct dh_workplan, topic_slug) },
	{ "created", offsetof(struct dh_workplan, created) },
	{ "updated", offsetof(struct dh_workplan, updated) },
	{ "state_hub_workstream_id",
	  offsetof(struct dh_workplan, state_hub_workstream_id) },
};

#define NMETA (sizeof(meta_fields) / sizeof(meta_fields[0]))
_Static_assert(2 * NMETA <= DH__META_POS, "DH__META_POS too small");

static char **meta_field(struct dh_workplan *wp, size_t i)
{
	return (char **)((char *)wp + meta_fields[i].off);
}

static long meta_index(const char *key)
{
	size_t i;

	for (i = 0; i < NMETA; i++)
		if (strcmp(meta_fields[i].name, key) == 0)
			return (long)i;
	return -1;
}

int dh__meta_set(struct dh__ctx *c, const char *key, struct hc_slice value,
		 int line, int column, bool *known, int *pos)
{
	long i = meta_index(key);
	char **dst;

	*known = i >= 0;
	if (i < 0)
		return HC_OK;
	dst = meta_field(c->wp, (size_t)i);
	if (*dst || pos[2 * i])
		return dh__fail(c, line, column,
				"duplicate metadata field '%s'", key);
	pos[2 * i] = line;
	pos[2 * i + 1] = column;
	value = hc_slice_trim(value);
	if (!value.len)
		return HC_OK; /* empty means absent */
	*dst = hc_slice_dup(value);
	return *dst ? HC_OK : dh__nomem(c);
}

/* CUST-WP-0025: uppercase letters and digits in dash-separated groups. */
static bool is_workplan_id(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || s[0] < 'A' || s[0] > 'Z' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '-' && s[i + 1] == '-')
			return false;
		if (s[i] != '-' && !is_digit(s[i]) &&
		    !(s[i] >= 'A' && s[i] <= 'Z'))
			return false;
	}
	return true;
}

/* Where metadata field name was given, or dflt when it was not. */
static void meta_pos(const int *pos, const char *name, int dflt, int *line,
		     int *column)
{
	long k = meta_index(name);

	*line = pos[2 * k] ? pos[2 * k] : dflt;
	*column = pos[2 * k] ? pos[2 * k + 1] : 0;
}

int dh__meta_check(struct dh__ctx *c, const int *pos, int dflt)
{
	static const char *const required[] = { "id", "title", "domain",
						NULL };
	struct dh_workplan *wp = c->wp;
	int line, col;
	size_t i;

	meta_pos(pos, "id", dflt, &wp->meta_line, &col);
	for (i = 0; required[i]; i++) {
		if (*meta_field(wp, (size_t)meta_index(required[i])))
			continue;
		meta_pos(pos, required[i], dflt, &line, &col);
		return dh__fail(c, line, col, "missing metadata field '%s'",
				required[i]);
	}
	if (!is_workplan_id(wp->id)) {
		meta_pos(pos, "id", dflt, &line, &col);
		return dh__fail(c, line, col,
				"metadata id '%s' is not a workplan id "
				"(uppercase letters and digits separated by "
				"dashes, like CUST-WP-0025)", wp->id);
	}
	if (wp->type && strcmp(wp->type, "workplan") != 0) {
		meta_pos(pos, "type", dflt, &line, &col);
		return dh__fail(c, line, col,
				"metadata type '%s' must be 'workplan'",
				wp->type);
	}
	if (wp->state_hub_workstream_id &&
	    !hc_is_uuid(wp->state_hub_workstream_id)) {
		meta_pos(pos, "state_hub_workstream_id", dflt, &line, &col);
		return dh__fail(c, line, col,
				"metadata state_hub_workstream_id '%s' is not "
				"a uuid", wp->state_hub_workstream_id);
	}
	if (wp->created && !hc_is_date(wp->created)) {
		meta_pos(pos, "created", dflt, &line, &col);
		return dh__fail(c, line, col,
				"metadata created '%s' is not a date "
				"(yyyy-mm-dd)", wp->created);
	}
	if (wp->updated && !hc_is_date(wp->updated)) {
		meta_pos(pos, "updated", dflt, &line, &col);
		return dh__fail(c, line, col,
				"metadata updated '%s' is not a date "
				"(yyyy-mm-dd)", wp->updated);
	}
	return HC_OK;
}

/* ---- phases and tasks -------------------------------------------------- */

int dh__phase_add(struct dh__ctx *c, struct hc_slice key,
		  struct hc_slice title, int line, struct dh_wp_phase **out)
{
	struct dh_workplan *wp = c->wp;
	struct dh_wp_phase *p;

	if (!title.len)
		return dh__fail(c, line, 0, "phase %.*s has no title",
				(int)(key.len > 40 ? 40 : key.len), key.ptr);
	if (wp->nphases == c->cap_phases) {
		size_t cap = c->cap_phases ? c->cap_phases * 2 : 8;
		void *np = realloc(wp->phases, cap * sizeof(*p));

		if (!np)
			return dh__nomem(c);
		wp->phases = np;
		c->cap_phases = cap;
	}
	p = &wp->phases[wp->nphases++];
	memset(p, 0, sizeof(*p));
	p->line = line;
	p->key = hc_slice_dup(key);
	p->title = hc_slice_dup(title);
	if (!p->key || !p->title)
		return dh__nomem(c);
	*out = p;
	return HC_OK;
}

int dh__task_add(struct dh__ctx *c, struct hc_slice key,
		 struct hc_slice title, const char *phase, int line,
		 struct dh_wp_task **out)
{
	struct dh_workplan *wp = c->wp;
	struct dh_wp_task *t;

	if (!title.len)
		return dh__fail(c, line, 0, "task %.*s has no title",
				(int)(key.len > 40 ? 40 : key.len), key.ptr);
	if (wp->ntasks == c->cap_tasks) {
		size_t cap = c->cap_tasks ? c->cap_tasks * 2 : 32;
		void *np = realloc(wp->tasks, cap * sizeof(*t));

		if (!np)
			return dh__nomem(c);
		wp->tasks = np;
		np = realloc(c->id_line, cap * sizeof(*c->id_line));
		if (!np)
			return dh__nomem(c);
		c->id_line = np;
		c->cap_tasks = cap;
	}
	c->id_line[wp->ntasks] = line;
	t = &wp->tasks[wp->ntasks++];
	memset(t, 0, sizeof(*t));
	t->line = line;
	t->key = hc_slice_dup(key);
	t->title = hc_slice_dup(title);
	if (!t->key || !t->title)
		return dh__nomem(c);
	if (phase) {
		t->phase = strdup(phase);
		if (!t->phase)
			return dh__nomem(c);
	}
	*out = t;
	return HC_OK;
}

enum { TF_ID, TF_STATUS, TF_PRIORITY, TF_SHUB, TF_NSTORED };

/* Task fields; the ones after the stored ones are accepted and dropped. */
static const char *const task_fields[] = {
	"id", "status", "priority", "state_hub_task_id",
	"owner", "phase", "assignee", "depends_on", "estimate", NULL
};

bool dh__is_task_field(struct hc_slice key)
{
	size_t i;

	for (i = 0; task_fields[i]; i++)
		if (hc_slice_eq(key, task_fields[i]))
			return true;
	return false;
}

static bool in_list(const char *s, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* "a, b, c" from a NULL-terminated list, into buf. */
static const char *join_list(const char *const *list, char *buf, size_t n)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; list[i] && o < n; i++) {
		int w = snprintf(buf + o, n - o, "%s%s", i ? ", " : "",
				 list[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	return buf;
}

int dh__task_fields(struct dh__ctx *c, struct dh_wp_task *t,
		    const struct dh__ymap *map, bool strict)
{
	static const char *const required[] = { "id", "status", "priority",
						NULL };
	char **dst[TF_NSTORED] = { &t->id, &t->status, &t->priority,
				   &t->state_hub_task_id };
	int line[TF_NSTORED] = { 0 }, col[TF_NSTORED] = { 0 };
	char list[128];
	size_t i, f, n;

	for (i = 0; i < map->n; i++) {
		const struct dh__yfield *y = &map->v[i];

		for (f = 0; task_fields[f]; f++)
			if (strcmp(task_fields[f], y->key) == 0)
				break;
		if (!task_fields[f]) {
			if (strict)
				return dh__fail(c, y->key_line, y->key_column,
						"task %s: unknown field '%s'",
						t->key, y->key);
			continue;
		}
		if (f >= TF_NSTORED)
			continue;
		if (!y->scalar)
			return dh__fail(c, y->line, y->column,
					"task %s: field '%s' must be a single "
					"value", t->key, y->key);
		line[f] = y->line;
		col[f] = y->column;
		if (y->value) {
			*dst[f] = strdup(y->value);
			if (!*dst[f])
				return dh__nomem(c);
		}
	}
	for (f = 0; required[f]; f++)
		if (!*dst[f])
			return dh__fail(c, line[f] ? line[f] : t->line,
					line[f] ? col[f] : 0,
					"task %s: missing field '%s'", t->key,
					required[f]);
	n = strlen(c->wp->id);
	if (strncmp(t->id, c->wp->id, n) != 0 || t->id[n] != '-' ||
	    strcmp(t->id + n + 1, t->key) != 0)
		return dh__fail(c, line[TF_ID], col[TF_ID],
				"task %s: id '%s' does not match the heading "
				"(expected '%s-%s')", t->key, t->id,
				c->wp->id, t->key);
	if (!in_list(t->status, dh_task_statuses))
		return dh__fail(c, line[TF_STATUS], col[TF_STATUS],
				"task %s: status '%s' is not one of %s",
				t->key, t->status,
				join_list(dh_task_statuses, list,
					  sizeof(list)));
	if (!in_list(t->priority, dh_task_priorities))
		return dh__fail(c, line[TF_PRIORITY], col[TF_PRIORITY],
				"task %s: priority '%s' is not one of %s",
				t->key, t->priority,
				join_list(dh_task_priorities, list,
					  sizeof(list)));
	if (t->state_hub_task_id && !hc_is_uuid(t->state_hub_task_id))
		return dh__fail(c, line[TF_SHUB], col[TF_SHUB],
				"task %s: state_hub_task_id '%s' is not a "
				"uuid", t->key, t->state_hub_task_id);
	c->id_line[t - c->wp->tasks] = line[TF_ID];
	return HC_OK;
}

/* ---- duplicates -------------------------------------------------------- */

struct keyed {
	const char *key;
	int line;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r)
		return r;
	return (x->line > y->line) - (x->line < y->line);
}

/*
 * Sort v and find the earliest line that repeats a key seen before: its
 * index in v, or n when all keys are unique.
 */
static size_t find_dup(struct keyed *v, size_t n)
{
	size_t i, dup = n;

	if (n)
		qsort(v, n, sizeof(*v), keyed_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(v[i].key, v[i - 1].key) != 0)
			continue;
		if (dup == n || v[i].line < v[dup].line)
			dup = i;
	}
	return dup;
}

/* The line of the first occurrence of the key of v[d] (v sorted). */
static int first_line(const struct keyed *v, size_t d)
{
	while (d > 0 && strcmp(v[d - 1].key, v[d].key) == 0)
		d--;
	return v[d].line;
}

static int check_dups(struct dh__ctx *c)
{
	struct dh_workplan *wp = c->wp;
	size_t n = wp->ntasks > wp->nphases ? wp->ntasks : wp->nphases;
	struct keyed *v = calloc(n ? n : 1, sizeof(*v));
	size_t i, d;
	int rc = HC_OK;

	if (!v) {
		rc = dh__nomem(c);
		goto out;
	}
	for (i = 0; i < wp->nphases; i++) {
		v[i].key = wp->phases[i].key;
		v[i].line = wp->phases[i].line;
	}
	d = find_dup(v, wp->nphases);
	if (d < wp->nphases) {
		rc = dh__fail(c, v[d].line, 0,
			      "duplicate phase %s (first at line %d)",
			      v[d].key, first_line(v, d));
		goto out;
	}
	for (i = 0; i < wp->ntasks; i++) {
		v[i].key = wp->tasks[i].id;
		v[i].line = c->id_line[i];
	}
	d = find_dup(v, wp->ntasks);
	if (d < wp->ntasks) {
		rc = dh__fail(c, v[d].line, 0,
			      "duplicate task id %s (first at line %d)",
			      v[d].key, first_line(v, d));
		goto out;
	}
out:
	free(v);
	return rc;
}

/* ---- public API -------------------------------------------------------- */

/* The first line is "---" (Markdown with YAML front matter). */
static bool has_front_matter(const struct dh__doc *d)
{
	return d->nlines >= 1 && hc_slice_eq(rtrim(dh__line(d, 1)), "---");
}

int dh_workplan_parse(const char *source, const char *data, size_t len,
		      struct dh_workplan **out, struct hc_err *err)
{
	struct dh__ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.err = err;
	c.doc.source = source ? source : "<workplan>";
	*out = NULL;
	HC_ASSERT(data || !len);
	if (len > DH_WP_MAX_SIZE) {
		rc = hc_err_at(err, HC_ETOOBIG, c.doc.source, 0, 0,
			       "workplan is larger than 16 MiB");
		goto out;
	}
	c.wp = calloc(1, sizeof(*c.wp));
	if (!c.wp || !(c.wp->source = strdup(c.doc.source))) {
		rc = dh__nomem(&c);
		goto out;
	}
	c.doc.source = c.wp->source;
	rc = doc_load(&c, data ? data : "", len);
	if (rc)
		goto out;
	if (has_front_matter(&c.doc)) {
		c.wp->format = DH_WP_MARKDOWN;
		rc = dh__parse_md(&c);
	} else {
		c.wp->format = DH_WP_TEXT;
		rc = dh__parse_text(&c);
	}
	if (rc)
		goto out;
	rc = check_dups(&c);
	if (rc)
		goto out;
	*out = c.wp;
	c.wp = NULL;
out:
	doc_free(&c.doc);
	free(c.id_line);
	dh_workplan_free(c.wp);
	return rc;
}

int dh_workplan_parse_file(const char *path, struct dh_workplan **out,
			   struct hc_err *err)
{
	struct hc_buf b = HC_BUF_INIT(DH_WP_MAX_SIZE);
	char chunk[65536];
	FILE *f;
	size_t n;
	int rc = HC_OK;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		rc = hc_err_at(err, errno == ENOENT ? HC_ENOTFOUND : HC_EIO,
			       path, 0, 0, "cannot open workplan: %s",
			       strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = hc_buf_add(&b, chunk, n);
		if (rc == HC_ETOOBIG) {
			rc = hc_err_at(err, rc, path, 0, 0,
				       "workplan is larger than 16 MiB");
			goto out;
		}
		if (rc) {
			rc = hc_err_at(err, rc, path, 0, 0, "out of memory");
			goto out;
		}
	}
	if (ferror(f)) {
		rc = hc_err_at(err, HC_EIO, path, 0, 0,
			       "cannot read workplan");
		goto out;
	}
	rc = dh_workplan_parse(path, b.data, b.len, out, err);
out:
	if (f)
		fclose(f);
	hc_buf_release(&b);
	return rc;
}

void dh_workplan_free(struct dh_workplan *wp)
{
	size_t i;

	if (!wp)
		return;
	for (i = 0; i < NMETA; i++)
		free(*meta_field(wp, i));
	for (i = 0; i < wp->nphases; i++) {
		free(wp->phases[i].key);
		free(wp->phases[i].title);
		free(wp->phases[i].description);
	}
	for (i = 0; i < wp->ntasks; i++) {
		struct dh_wp_task *t = &wp->tasks[i];

		free(t->key);
		free(t->id);
		free(t->title);
		free(t->status);
		free(t->priority);
		free(t->state_hub_task_id);
		free(t->phase);
		free(t->description);
	}
	for (i = 0; i < wp->ndecisions; i++) {
		free(wp->decisions[i].title);
		free(wp->decisions[i].choice);
		free(wp->decisions[i].rationale);
	}
	free(wp->phases);
	free(wp->tasks);
	free(wp->decisions);
	free(wp->description);
	free(wp->source);
	free(wp);
}
