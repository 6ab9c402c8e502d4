/*
 * devhub/workplan_md.c - the Markdown form of a workplan (see
 * docs/workplan-format.md).
 *
 * The YAML front matter between the "---" lines holds the metadata. The
 * body is parsed by cmark-gfm (with the table extension) and its top-level
 * blocks are walked: "## Phase N — title" headings start phases, "### Txx —
 * title" headings start tasks and must be followed by a fenced ```yaml
 * block of fields. Descriptions are cut verbatim from the source lines
 * between those blocks, using cmark's source positions, so that nothing
 * is re-rendered.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark-gfm.h>

#include "devhub/workplan.h"
#include "devhub/workplan_int.h"
#include "hubcore/buf.h"
#include "hubcore/status.h"

enum region { R_DESC, R_PHASE, R_TASK };

/* The state of the walk over the body. */
struct walk {
	struct dh__ctx *c;
	int off;            /* file line = cmark line + off */
	enum region r;
	int start;          /* first line of the current region */
	struct dh_wp_phase *ph;
	struct dh_wp_task *t;
	struct hc_buf text; /* heading text */
};

static bool is_blank_char(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* A closing front matter line: "---" or "...". */
static bool fm_close(struct hc_slice s)
{
	while (s.len && is_blank_char(s.ptr[s.len - 1]))
		s.len--;
	return hc_slice_eq(s, "---") || hc_slice_eq(s, "...");
}

/* Read the front matter on lines 2..close-1 into the metadata. */
static int front_matter(struct dh__ctx *c, int close)
{
	struct dh__ymap map = { 0 };
	int pos[DH__META_POS] = { 0 };
	bool known;
	size_t i;
	int rc;

	rc = dh__yaml_map(c, 2, close - 1, "front matter", &map);
	if (rc)
		goto out;
	for (i = 0; i < map.n; i++) {
		const struct dh__yfield *f = &map.v[i];
		const char *v = f->value ? f->value : "";

		rc = dh__meta_set(c, f->key, hc_slice_from(v, strlen(v)),
				  f->line, f->column, &known, pos);
		if (rc)
			goto out;
		if (known && !f->scalar) {
			rc = dh__fail(c, f->line, f->column,
				      "front matter: '%s' must be a single "
				      "value", f->key);
			goto out;
		}
	}
	rc = dh__meta_check(c, pos, 1);
out:
	dh__ymap_free(&map);
	return rc;
}

/*
 * The text of a heading from its source lines: an ATX heading without its
 * '#' marks, a setext heading's lines joined with spaces.
 */
static int heading_text(struct walk *w, cmark_node *h, struct hc_slice *out)
{
	const struct dh__doc *d = &w->c->doc;
	int first = cmark_node_get_start_line(h) + w->off;
	int last = cmark_node_get_end_line(h) + w->off;
	struct hc_slice s;
	size_t j;
	int i, rc = HC_OK;

	hc_buf_reset(&w->text);
	if (first == last) {
		s = hc_slice_trim(dh__line(d, first));
		while (s.len && s.ptr[0] == '#') {
			s.ptr++;
			s.len--;
		}
		s = hc_slice_trim(s);
		j = s.len;
		while (j && s.ptr[j - 1] == '#')
			j--;
		if (j == 0)
			s.len = 0;
		else if (j < s.len && is_blank_char(s.ptr[j - 1]))
			s = hc_slice_trim(hc_slice_from(s.ptr, j));
		rc = hc_buf_add(&w->text, s.ptr, s.len);
	} else {
		for (i = first; !rc && i < last; i++) {
			s = hc_slice_trim(dh__line(d, i));
			if (i > first)
				rc = hc_buf_addc(&w->text, ' ');
			if (!rc)
				rc = hc_buf_add(&w->text, s.ptr, s.len);
		}
	}
	if (rc)
		return dh__nomem(w->c);
	*out = hc_buf_slice(&w->text);
	return HC_OK;
}

/* Store the description of the current region, which ends at last. */
static int close_region(struct walk *w, int last)
{
	char *d = dh__lines_dup(&w->c->doc, w->start, last);

	if (!d)
		return dh__nomem(w->c);
	switch (w->r) {
	case R_DESC:
		w->c->wp->description = d;
		break;
	case R_PHASE:
		w->ph->description = d;
		break;
	case R_TASK:
		w->t->description = d;
		break;
	}
	return HC_OK;
}

/* A line closing a fence opened by len characters ch. */
static bool fence_close(struct hc_slice s, char ch, int len)
{
	size_t k = 0;

	s = hc_slice_trim(s);
	while (k < s.len && s.ptr[k] == ch)
		k++;
	return k == s.len && k >= (size_t)len;
}

/* True when the info string of a fenced block names YAML. */
static bool yaml_info(const char *info)
{
	size_t n = strcspn(info, " \t");

	return (n == 4 && strncasecmp(info, "yaml", 4) == 0) ||
	       (n == 3 && strncasecmp(info, "yml", 3) == 0);
}

/*
 * The task whose heading is h: its fields come from the fenced YAML block
 * right after it, which is returned in *block.
 */
static int read_task(struct walk *w, cmark_node *h, struct hc_slice key,
		     struct hc_slice title, cmark_node **block)
{
	struct dh__ctx *c = w->c;
	struct dh__ymap map = { 0 };
	cmark_node *b = cmark_node_next(h);
	int line = cmark_node_get_start_line(h) + w->off;
	int fence_len = 0, fence_off = 0, first, last, rc;
	const char *info;
	char fence_ch = 0, what[64];

	rc = dh__task_add(c, key, title, w->ph ? w->ph->key : NULL, line,
			  &w->t);
	if (rc)
		goto out;
	info = b && cmark_node_get_type(b) == CMARK_NODE_CODE_BLOCK
		       ? cmark_node_get_fence_info(b) : NULL;
	if (!info || !cmark_node_get_fenced(b, &fence_len, &fence_off,
					    &fence_ch) ||
	    !yaml_info(info)) {
		rc = dh__fail(c, line, 0,
			      "task %s: the heading is not followed by a "
			      "```yaml block of fields", w->t->key);
		goto out;
	}
	first = cmark_node_get_start_line(b) + w->off;
	last = cmark_node_get_end_line(b) + w->off;
	if (last <= first || last > c->doc.nlines ||
	    !fence_close(dh__line(&c->doc, last), fence_ch, fence_len)) {
		rc = dh__fail(c, first, 0,
			      "task %s: the ```yaml block is not closed",
			      w->t->key);
		goto out;
	}
	snprintf(what, sizeof(what), "task %s", w->t->key);
	rc = dh__yaml_map(c, first + 1, last - 1, what, &map);
	if (rc)
		goto out;
	rc = dh__task_fields(c, w->t, &map, true);
	if (rc)
		goto out;
	w->r = R_TASK;
	w->start = last + 1;
	*block = b;
out:
	dh__ymap_free(&map);
	return rc;
}

/* One top-level block of the body; *n may be moved past what it used. */
static int walk_node(struct walk *w, cmark_node **n, bool first_node)
{
	struct dh__ctx *c = w->c;
	cmark_node_type type = cmark_node_get_type(*n);
	int line = cmark_node_get_start_line(*n) + w->off;
	struct dh__table t = { 0 };
	struct hc_slice text, key, title;
	int level, rc = HC_OK;

	if (w->r == R_DESC && dh__is_table(*n)) {
		rc = dh__table_read(&c->doc, *n, w->off, &t);
		if (rc)
			rc = dh__nomem(c);
		else
			rc = dh__decisions_add(c, &t);
		goto out;
	}
	if (type != CMARK_NODE_HEADING)
		goto out;
	level = cmark_node_get_heading_level(*n);
	if (level > 3)
		goto out;
	rc = heading_text(w, *n, &text);
	if (rc)
		goto out;
	if (first_node && level == 1 && hc_slice_eq(text, c->wp->title)) {
		/* the optional title heading: not part of the description */
		w->start = cmark_node_get_end_line(*n) + w->off + 1;
		goto out;
	}
	if (dh__match_phase(text, &key, &title)) {
		if (level != 2) {
			rc = dh__fail(c, line, 0,
				      "phase heading '%.*s' must be level 2 "
				      "(##)", (int)(text.len > 80 ? 80
							       : text.len),
				      text.ptr);
			goto out;
		}
		rc = close_region(w, line - 1);
		if (!rc)
			rc = dh__phase_add(c, key, title, line, &w->ph);
		if (rc)
			goto out;
		w->r = R_PHASE;
		w->start = cmark_node_get_end_line(*n) + w->off + 1;
	} else if (dh__match_task(text, &key, &title)) {
		if (level != 3) {
			rc = dh__fail(c, line, 0,
				      "task heading '%.*s' must be level 3 "
				      "(###)", (int)(text.len > 80 ? 80
							      : text.len),
				      text.ptr);
			goto out;
		}
		rc = close_region(w, line - 1);
		if (!rc)
			rc = read_task(w, *n, key, title, n);
	} else if (w->r == R_TASK) {
		rc = dh__fail(c, line, 0,
			      "heading '%.*s' inside task %s is neither a "
			      "phase nor a task; use level 4 (####) or deeper "
			      "in a task description",
			      (int)(text.len > 80 ? 80 : text.len), text.ptr,
			      w->t->key);
	}
out:
	dh__table_free(&t);
	return rc;
}

/* Parse the body (lines first..) with cmark-gfm and walk its blocks. */
static int body(struct dh__ctx *c, int first)
{
	const struct dh__doc *d = &c->doc;
	struct walk w = { .c = c, .off = first - 1, .r = R_DESC,
			  .start = first };
	cmark_parser *p = NULL;
	cmark_node *root = NULL, *n;
	bool first_node = true;
	int rc = HC_OK;

	hc_buf_init(&w.text, DH_WP_MAX_SIZE);
	if (first <= d->nlines) {
		p = dh__md_parser_new();
		if (!p) {
			rc = dh__nomem(c);
			goto out;
		}
		cmark_parser_feed(p, d->text + d->off[first],
				  d->text_len - d->off[first]);
		root = cmark_parser_finish(p);
		if (!root) {
			rc = dh__nomem(c);
			goto out;
		}
		for (n = cmark_node_first_child(root); n;
		     n = cmark_node_next(n)) {
			rc = walk_node(&w, &n, first_node);
			if (rc)
				goto out;
			first_node = false;
		}
	}
	rc = close_region(&w, d->nlines);
out:
	if (root)
		cmark_node_free(root);
	if (p)
		cmark_parser_free(p);
	hc_buf_release(&w.text);
	return rc;
}

int dh__parse_md(struct dh__ctx *c)
{
	int close = 2, rc;

	while (close <= c->doc.nlines && !fm_close(dh__line(&c->doc, close)))
		close++;
	if (close > c->doc.nlines)
		return dh__fail(c, 1, 0,
				"front matter is not terminated (no closing "
				"'---' line)");
	rc = front_matter(c, close);
	if (rc)
		return rc;
	return body(c, close + 1);
}
