/*
 * devhub/workplan_text.c - the flat text form of a workplan (the export in
 * examples/workplans/CUST-WP-0025.txt).
 *
 * The document is walked line by line: skip to the one-row metadata table,
 * skip the title line, then the workplan description up to the first
 * "Phase N — title" or "Txx — title" line. A task heading is followed by
 * its field block (consecutive "key: value" lines whose key is a task
 * field), parsed as a YAML mapping, and then its description. Tables (the
 * metadata and the key decisions) are read with cmark-gfm.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm.h>

#include "devhub/workplan.h"
#include "devhub/workplan_int.h"
#include "hubcore/buf.h"
#include "hubcore/status.h"

enum region { R_DESC, R_PHASE, R_TASK };

/* A Markdown table line: its first non-blank character is '|'. */
static bool table_line(const struct dh__doc *doc, int i)
{
	struct hc_slice s = hc_slice_trim(dh__line(doc, i));

	return s.len && s.ptr[0] == '|';
}

/* The last line of the run of table lines starting at first. */
static int table_end(const struct dh__doc *doc, int first)
{
	while (first < doc->nlines && table_line(doc, first + 1))
		first++;
	return first;
}

/*
 * Parse lines first..last with cmark-gfm. *root is the document, *table its
 * first block when that is a table (else NULL).
 */
static int table_parse(struct dh__ctx *c, int first, int last,
		       cmark_node **root, cmark_node **table)
{
	const struct dh__doc *d = &c->doc;
	cmark_parser *p = dh__md_parser_new();
	cmark_node *n;
	int rc = HC_OK;

	*root = NULL;
	*table = NULL;
	if (!p) {
		rc = dh__nomem(c);
		goto out;
	}
	cmark_parser_feed(p, d->text + d->off[first],
			  d->off[last] + d->len[last] + 1 - d->off[first]);
	*root = cmark_parser_finish(p);
	if (!*root) {
		rc = dh__nomem(c);
		goto out;
	}
	n = cmark_node_first_child(*root);
	if (dh__is_table(n))
		*table = n;
out:
	if (p)
		cmark_parser_free(p);
	return rc;
}

/* Read the one-row metadata table on lines first..last. */
static int read_meta(struct dh__ctx *c, int first, int last)
{
	struct dh__table t = { 0 };
	int pos[DH__META_POS] = { 0 };
	cmark_node *root = NULL, *table;
	bool known;
	size_t k;
	int rc;

	rc = table_parse(c, first, last, &root, &table);
	if (rc)
		goto out;
	if (!table) {
		rc = dh__fail(c, first, 0,
			      "metadata table is malformed (expected a "
			      "header row, a '|---|' row and a value row)");
		goto out;
	}
	rc = dh__table_read(&c->doc, table, first - 1, &t);
	if (rc) {
		rc = dh__nomem(c);
		goto out;
	}
	if (t.nrows == 0) {
		rc = dh__fail(c, first, 0, "metadata table has no value row");
		goto out;
	}
	if (t.nrows > 1) {
		rc = dh__fail(c, t.row_line[1], 0,
			      "metadata table has more than one value row");
		goto out;
	}
	for (k = 0; k < t.ncols; k++) {
		rc = dh__meta_set(c, t.head[k],
				  hc_slice_from(t.cell[k], strlen(t.cell[k])),
				  t.row_line[0], t.cell_col[k], &known, pos);
		if (rc)
			goto out;
	}
	rc = dh__meta_check(c, pos, t.row_line[0]);
out:
	dh__table_free(&t);
	if (root)
		cmark_node_free(root);
	return rc;
}

/* Collect the decision tables among lines first..last. */
static int read_decisions(struct dh__ctx *c, int first, int last)
{
	struct dh__table t = { 0 };
	cmark_node *root = NULL, *table;
	int i, end, rc = HC_OK;

	for (i = first; i <= last; i = end + 1) {
		end = i;
		if (!table_line(&c->doc, i))
			continue;
		end = table_end(&c->doc, i);
		if (end > last)
			end = last;
		rc = table_parse(c, i, end, &root, &table);
		if (rc)
			goto out;
		if (table) {
			rc = dh__table_read(&c->doc, table, i - 1, &t);
			if (rc) {
				rc = dh__nomem(c);
				goto out;
			}
			rc = dh__decisions_add(c, &t);
			dh__table_free(&t);
			if (rc)
				goto out;
		}
		cmark_node_free(root);
		root = NULL;
	}
out:
	dh__table_free(&t);
	if (root)
		cmark_node_free(root);
	return rc;
}

/* A field line: "key:" at the start of the line with a task field key. */
static bool field_line(const struct dh__doc *doc, int i)
{
	struct hc_slice s = dh__line(doc, i);
	size_t k = 0;

	while (k < s.len && ((s.ptr[k] >= 'a' && s.ptr[k] <= 'z') ||
			     s.ptr[k] == '_'))
		k++;
	if (!k || k >= s.len || s.ptr[k] != ':')
		return false;
	if (k + 1 < s.len && s.ptr[k + 1] != ' ' && s.ptr[k + 1] != '\t')
		return false;
	return dh__is_task_field(hc_slice_from(s.ptr, k));
}

/* Store the description of the region first..last. */
static int close_region(struct dh__ctx *c, enum region r, int first,
			int last, struct dh_wp_phase *ph, struct dh_wp_task *t)
{
	char *d = dh__lines_dup(&c->doc, first, last);

	if (!d)
		return dh__nomem(c);
	switch (r) {
	case R_DESC:
		c->wp->description = d;
		return read_decisions(c, first, last);
	case R_PHASE:
		ph->description = d;
		break;
	case R_TASK:
		t->description = d;
		break;
	}
	return HC_OK;
}

/* The task whose heading is on line l; sets *next to its last field line. */
static int read_task(struct dh__ctx *c, int l, struct hc_slice key,
		     struct hc_slice title, const struct dh_wp_phase *ph,
		     struct dh_wp_task **t, int *next)
{
	struct dh__ymap map = { 0 };
	char what[64];
	int m = l, rc;

	rc = dh__task_add(c, key, title, ph ? ph->key : NULL, l, t);
	if (rc)
		goto out;
	while (m < c->doc.nlines && field_line(&c->doc, m + 1))
		m++;
	if (m == l) {
		rc = dh__fail(c, l, 0,
			      "task %s: the heading is not followed by field "
			      "lines (id, status, priority, ...)", (*t)->key);
		goto out;
	}
	snprintf(what, sizeof(what), "task %s", (*t)->key);
	rc = dh__yaml_map(c, l + 1, m, what, &map);
	if (rc)
		goto out;
	rc = dh__task_fields(c, *t, &map, false);
	*next = m;
out:
	dh__ymap_free(&map);
	return rc;
}

int dh__parse_text(struct dh__ctx *c)
{
	const struct dh__doc *d = &c->doc;
	struct dh_wp_phase *ph = NULL;
	struct dh_wp_task *t = NULL;
	enum region r = R_DESC;
	struct hc_slice key, title;
	int l = 1, end, start, rc;

	while (l <= d->nlines && !table_line(d, l))
		l++;
	if (l > d->nlines)
		return dh__fail(c, 1, 0,
				"no metadata table (a '| id | type | title "
				"| ... |' line) found");
	end = table_end(d, l);
	if (end - l > 2)
		return dh__fail(c, l + 3, 0,
				"metadata table has more than one value row");
	rc = read_meta(c, l, end);
	if (rc)
		return rc;
	l = end + 1;
	if (l <= d->nlines &&
	    hc_slice_eq(hc_slice_trim(dh__line(d, l)), c->wp->title))
		l++;
	for (start = l; l <= d->nlines; l++) {
		if (dh__match_phase(dh__line(d, l), &key, &title)) {
			rc = close_region(c, r, start, l - 1, ph, t);
			if (!rc)
				rc = dh__phase_add(c, key, title, l, &ph);
			if (rc)
				return rc;
			r = R_PHASE;
			start = l + 1;
		} else if (dh__match_task(dh__line(d, l), &key, &title)) {
			rc = close_region(c, r, start, l - 1, ph, t);
			if (!rc)
				rc = read_task(c, l, key, title, ph, &t, &l);
			if (rc)
				return rc;
			r = R_TASK;
			start = l + 1;
		}
	}
	return close_region(c, r, start, d->nlines, ph, t);
}
