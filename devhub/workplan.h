/*
 * devhub/workplan.h - workplan files: parsing both forms into one model.
 *
 * A workplan is the plan of one workstream: metadata (id, title, domain,
 * topic, ...), free text, phases, tasks with their fields and descriptions,
 * and key decisions. It comes in two forms, both parsed here into the same
 * struct dh_workplan:
 *
 * 1. The flat text export (examples/workplans/CUST-WP-0025.txt): an export
 *    header line, a comma-separated key list, a one-row Markdown table of
 *    metadata, the title line, free text, "Phase N — title" lines, and per
 *    task a line "Txx — title" followed by "key: value" field lines (id,
 *    status, priority, state_hub_task_id, ...) and then its description.
 *
 * 2. Markdown (docs/workplan-format.md): YAML front matter with the same
 *    metadata keys, "## Phase N — title" headings, "### Txx — title" task
 *    headings each followed by a fenced ```yaml block of task fields, then
 *    the description.
 *
 * Parsing never touches storage. A malformed document is refused with an
 * error naming source:line (HC_EPARSE), and nothing is returned.
 *
 * Ownership: dh_workplan_parse returns a struct the caller frees with
 * dh_workplan_free; every string in it belongs to it.
 */
#ifndef DEVHUB_WORKPLAN_H
#define DEVHUB_WORKPLAN_H

#include <stddef.h>

#include "hubcore/status.h"

enum dh_workplan_format { DH_WP_TEXT, DH_WP_MARKDOWN };

struct dh_wp_phase {
	char *key;         /* "1" for "Phase 1 — ..." */
	char *title;       /* "Identity Infrastructure" */
	char *description; /* text between the phase line and its first task */
	int line;
};

struct dh_wp_task {
	char *key;         /* "T01" */
	char *id;          /* "CUST-WP-0025-T01" */
	char *title;
	char *status;      /* todo | in_progress | blocked | done | cancelled */
	char *priority;    /* high | medium | low */
	char *state_hub_task_id; /* UUID or NULL */
	char *phase;       /* key of the enclosing phase, or NULL */
	char *description; /* verbatim lines, leading and trailing blank
			      lines dropped; never NULL, possibly "" */
	int line;          /* line of the task heading */
};

struct dh_wp_decision {
	char *title;     /* "Decision" column */
	char *choice;    /* "Choice" column */
	char *rationale; /* "Rationale" column */
	int line;
};

struct dh_workplan {
	char *source; /* name used in messages (the path) */
	enum dh_workplan_format format;

	/* metadata (NULL when absent) */
	char *id;
	char *type;
	char *title;
	char *domain;
	char *repo;
	char *status;
	char *owner;
	char *topic_slug;
	char *created;
	char *updated;
	char *state_hub_workstream_id;

	char *description; /* text before the first phase */
	int meta_line;     /* where the metadata is (id field or table row),
			      for errors that concern the workplan itself */

	struct dh_wp_phase *phases;
	size_t nphases;
	struct dh_wp_task *tasks;
	size_t ntasks;
	struct dh_wp_decision *decisions;
	size_t ndecisions;
};

/* The task status and priority vocabularies, NULL-terminated. */
extern const char *const dh_task_statuses[];
extern const char *const dh_task_priorities[];

/*
 * Parse a workplan held in memory. source names it in messages. The form is
 * chosen by content: YAML front matter ("---" on the first line) means
 * Markdown, anything else the flat text form.
 *
 * Returns HC_OK, HC_EPARSE (err has source, line and where known column),
 * HC_ETOOBIG (over 16 MiB), HC_ENOTFOUND (file missing, for _file), HC_EIO
 * or HC_ENOMEM. On error *out is NULL. Task fields the model has no place
 * for (owner, assignee, depends_on, estimate) are accepted and dropped.
 */
int dh_workplan_parse(const char *source, const char *data, size_t len,
		      struct dh_workplan **out, struct hc_err *err);

/* Read and parse a file (at most 16 MiB). */
int dh_workplan_parse_file(const char *path, struct dh_workplan **out,
			   struct hc_err *err);

void dh_workplan_free(struct dh_workplan *wp);

#endif
