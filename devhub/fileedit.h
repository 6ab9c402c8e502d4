/*
 * devhub/fileedit.h - editing files people keep (workplans, ~/.claude.json)
 * without disturbing them: every byte not edited stays as it was.
 *
 * A file is split into raw lines numbered the way the workplan parser
 * numbers them (a leading UTF-8 BOM is skipped; LF, CRLF or a lone CR ends
 * a line), each with its own line ending. Edits are collected as
 * (offset, bytes removed, bytes inserted) against the original bytes and
 * applied in one pass; an inserted line takes the line ending of its
 * neighbour, so a CRLF file stays CRLF. dh_file_replace then writes the
 * result atomically: a temporary file in the same directory, flushed,
 * renamed over the target (with the target's permissions), after keeping
 * the original as a backup, and only if the file did not change meanwhile.
 */
#ifndef DEVHUB_FILEEDIT_H
#define DEVHUB_FILEEDIT_H

#include <stddef.h>
#include <sys/stat.h>

#include "hubcore/status.h"

struct dh_lines {
	const char *data; /* borrowed */
	size_t len;
	int n;          /* number of lines; lines are 1..n */
	size_t *start;  /* start[i]: first byte of line i */
	size_t *end;    /* end[i]: end of its content (before the EOL) */
	size_t *next;   /* next[i]: first byte after its EOL */
	const char *eol; /* the first line ending seen ("\n" by default) */
};

/* Split data into lines (data is borrowed and must outlive l). */
int dh_lines_split(struct dh_lines *l, const char *data, size_t len);
void dh_lines_release(struct dh_lines *l);
/* The EOL of line i as a string ("" for a last line without one). */
const char *dh_line_eol(const struct dh_lines *l, int i);

struct dh_edit {
	size_t at;  /* offset in the original */
	size_t del; /* bytes of the original removed from at */
	char *text; /* inserted, owned */
	size_t seq; /* order of insertion, for equal offsets */
};

struct dh_edits {
	struct dh_edit *v;
	size_t n, cap;
};

/* Insert the line text (no EOL) after line i, or before line i; replace
 * the content of line i (its EOL stays). */
int dh_edits_insert_after(struct dh_edits *e, const struct dh_lines *l,
			  int i, const char *text);
int dh_edits_insert_before(struct dh_edits *e, const struct dh_lines *l,
			   int i, const char *text);
int dh_edits_replace_line(struct dh_edits *e, const struct dh_lines *l,
			  int i, const char *text);
/* Replace del bytes at offset at with text (NULL for a pure deletion). */
int dh_edits_add(struct dh_edits *e, size_t at, size_t del, const char *text);
/* Apply the edits to data (the bytes they were made against); *out is
 * malloc'd. Overlapping edits are HC_EINTERNAL. */
int dh_edits_apply(const struct dh_edits *e, const char *data, size_t len,
		   char **out, size_t *out_len, struct hc_err *err);
void dh_edits_release(struct dh_edits *e);

/* Read a whole file (at most max bytes) and its stat. *data is malloc'd
 * and NUL-terminated. */
int dh_file_read(const char *path, size_t max, char **data, size_t *len,
		 struct stat *st, struct hc_err *err);

/*
 * Replace the file at path (a symbolic link is followed: its target is
 * replaced) with data, atomically. When backup is not NULL the original
 * is kept there first (replacing an older backup). When expect is not NULL
 * the file must still have that inode, size and modification time, or
 * nothing is written (HC_ECONFLICT): somebody changed it meanwhile.
 */
int dh_file_replace(const char *path, const char *data, size_t len,
		    const char *backup, const struct stat *expect,
		    struct hc_err *err);

#endif
