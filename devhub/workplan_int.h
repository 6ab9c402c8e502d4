/*
 * devhub/workplan_int.h - internals shared by the workplan parser files.
 *
 * workplan.c holds the public API, the line table, the YAML and table
 * helpers and the validation of metadata and task fields; workplan_text.c
 * and workplan_md.c walk the two forms and call into it. Nothing here is
 * part of the dev-hub API.
 */
#ifndef DEVHUB_WORKPLAN_INT_H
#define DEVHUB_WORKPLAN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cmark-gfm.h>

#include "devhub/workplan.h"
#include "hubcore/buf.h"
#include "hubcore/status.h"

/* Largest workplan accepted, in bytes. */
#define DH_WP_MAX_SIZE ((size_t)16 * 1024 * 1024)

/*
 * The input split into lines. text is a normalised copy: no BOM, every line
 * ending (LF, CRLF or a lone CR) replaced by one LF, so that lines first..last
 * form one contiguous range that libyaml and cmark-gfm can read and whose
 * line numbers agree with the file's. Lines are numbered from 1.
 */
struct dh__doc {
	const char *source;
	char *text;
	size_t text_len;
	size_t *off; /* off[i]: start of line i in text */
	size_t *len; /* len[i]: length of line i without its LF */
	int nlines;
};

/* The state of one parse. */
struct dh__ctx {
	struct dh__doc doc;
	struct dh_workplan *wp;
	struct hc_err *err;
	int *id_line; /* line of each task's id field */
	size_t cap_tasks;
	size_t cap_phases;
	size_t cap_decisions;
};

/* One "key: value" pair of a YAML mapping, with file positions. */
struct dh__yfield {
	char *key;
	char *value;  /* NULL when null, empty or not a scalar */
	bool scalar;  /* the value is a scalar (value may still be NULL) */
	int line;     /* of the value */
	int column;
	int key_line;
	int key_column;
};

struct dh__ymap {
	struct dh__yfield *v;
	size_t n;
};

/* A table read from cmark-gfm's table extension. */
struct dh__table {
	size_t ncols;
	size_t nrows;
	char **head;   /* ncols header texts */
	char **cell;   /* nrows * ncols cell texts, never NULL */
	int *row_line; /* file line of each row */
	int *cell_col; /* 1-based column of each cell's text, 0 if unknown */
};

/* The slice of line i (1 <= i <= nlines). */
struct hc_slice dh__line(const struct dh__doc *doc, int i);
/* True when line i holds only spaces and tabs. */
bool dh__blank(const struct dh__doc *doc, int i);
/*
 * Copy lines first..last verbatim (joined with LF), leaving out leading and
 * trailing blank lines; "" when nothing is left. NULL on ENOMEM.
 */
char *dh__lines_dup(const struct dh__doc *doc, int first, int last);

/*
 * Parse lines first..last as one YAML mapping of scalar keys. what names
 * the block in messages ("front matter", "task T05"). An empty block gives
 * an empty map. Errors are HC_EPARSE at the file line of the problem.
 */
int dh__yaml_map(struct dh__ctx *c, int first, int last, const char *what,
		 struct dh__ymap *map);
void dh__ymap_free(struct dh__ymap *map);

/*
 * True for a table block. (CMARK_NODE_TABLE lives in a header Debian does
 * not install, so the node is recognised by its type name.)
 */
bool dh__is_table(cmark_node *n);
/* A cmark-gfm parser with the table extension attached, or NULL. */
cmark_parser *dh__md_parser_new(void);
/*
 * Read a table node. line_off is added to cmark's line numbers to give file
 * lines. Returns HC_OK or HC_ENOMEM.
 */
int dh__table_read(const struct dh__doc *doc, cmark_node *table,
		   int line_off, struct dh__table *t);
void dh__table_free(struct dh__table *t);
/*
 * Append the rows of t as decisions when its header has the columns
 * Decision, Choice and Rationale (any case, any order); else do nothing.
 */
int dh__decisions_add(struct dh__ctx *c, const struct dh__table *t);

/*
 * Match "Phase N — title" and "Txx — title" (em dash, en dash or " - ").
 * On a match key and title are set (title trimmed, possibly empty).
 */
bool dh__match_phase(struct hc_slice s, struct hc_slice *key,
		     struct hc_slice *title);
bool dh__match_task(struct hc_slice s, struct hc_slice *key,
		    struct hc_slice *title);

/*
 * Set the metadata field named key to value (trimmed; empty means absent)
 * and remember where it was given in pos. *known tells whether key is a
 * metadata key at all; other keys are ignored. A key given twice is an
 * error.
 */
int dh__meta_set(struct dh__ctx *c, const char *key, struct hc_slice value,
		 int line, int column, bool *known, int *pos);
/*
 * Validate the metadata. pos holds line and column of each field (as filled
 * by dh__meta_set); missing fields are reported at line dflt.
 */
int dh__meta_check(struct dh__ctx *c, const int *pos, int dflt);
/* Number of ints (zeroed by the caller) the pos arrays above need. */
#define DH__META_POS 32

/*
 * Append a phase or a task (zeroed, then key, title, line and phase set).
 * An empty title is an error. Pointers to earlier entries are invalidated.
 */
int dh__phase_add(struct dh__ctx *c, struct hc_slice key,
		  struct hc_slice title, int line, struct dh_wp_phase **out);
int dh__task_add(struct dh__ctx *c, struct hc_slice key,
		 struct hc_slice title, const char *phase, int line,
		 struct dh_wp_task **out);
/*
 * Fill the new task t from its fields. strict refuses keys that are not
 * task fields (the text form never passes any). Checks presence, values and
 * the id against the heading.
 */
int dh__task_fields(struct dh__ctx *c, struct dh_wp_task *t,
		    const struct dh__ymap *map, bool strict);
/* True when key is a task field name. */
bool dh__is_task_field(struct hc_slice key);

/* Report HC_EPARSE at line, column of the document. */
int dh__fail(struct dh__ctx *c, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Report HC_ENOMEM. */
int dh__nomem(struct dh__ctx *c);

int dh__parse_text(struct dh__ctx *c);
int dh__parse_md(struct dh__ctx *c);

#endif
