/*
 * tests/unit/test_workplan.c - the workplan parser (devhub/workplan.h):
 * the example workplan in both forms, their equivalence, line endings,
 * hostile input, and the exact position of every malformed fixture in
 * tests/data/workplans/bad/. Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devhub/workplan.h"
#include "hubcore/status.h"

#define EXAMPLE_TXT "examples/workplans/CUST-WP-0025.txt"
#define EXAMPLE_MD "tests/data/workplans/CUST-WP-0025.md"
#define BAD "tests/data/workplans/bad/"

/* ---- helpers ----------------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Replace every LF by CRLF and optionally put a BOM in front. */
static char *to_crlf(const char *s, size_t len, int bom, size_t *out_len)
{
	char *out = malloc(2 * len + 4);
	size_t i, o = 0;

	assert_non_null(out);
	if (bom) {
		memcpy(out, "\xef\xbb\xbf", 3);
		o = 3;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			out[o++] = '\r';
		out[o++] = s[i];
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

static struct dh_workplan *parse_file_ok(const char *path)
{
	struct hc_err err = { 0 };
	struct dh_workplan *wp = NULL;
	char msg[1024];
	int rc = dh_workplan_parse_file(path, &wp, &err);

	if (rc)
		fail_msg("%s", hc_err_format(&err, msg, sizeof(msg)));
	assert_non_null(wp);
	return wp;
}

static struct dh_workplan *parse_ok(const char *name, const char *s,
				    size_t len)
{
	struct hc_err err = { 0 };
	struct dh_workplan *wp = NULL;
	char msg[1024];
	int rc = dh_workplan_parse(name, s, len, &wp, &err);

	if (rc)
		fail_msg("%s", hc_err_format(&err, msg, sizeof(msg)));
	assert_non_null(wp);
	return wp;
}

/* Expect HC_EPARSE at line with key in the message. */
static void parse_bad(const char *s, size_t len, int line, const char *key)
{
	struct hc_err err = { 0 };
	struct dh_workplan *wp = (struct dh_workplan *)1;
	int rc = dh_workplan_parse("mem", s, len, &wp, &err);

	assert_int_equal(rc, HC_EPARSE);
	assert_int_equal(err.status, HC_EPARSE);
	assert_null(wp);
	assert_string_equal(err.source, "mem");
	if (err.line != line || !strstr(err.msg, key))
		fail_msg("expected line %d and '%s', got %d: %s", line, key,
			 err.line, err.msg);
}

static const struct dh_wp_task *task(const struct dh_workplan *wp,
				     const char *key)
{
	size_t i;

	for (i = 0; i < wp->ntasks; i++)
		if (strcmp(wp->tasks[i].key, key) == 0)
			return &wp->tasks[i];
	fail_msg("no task %s", key);
	return NULL;
}

static size_t count_status(const struct dh_workplan *wp, const char *s)
{
	size_t i, n = 0;

	for (i = 0; i < wp->ntasks; i++)
		n += strcmp(wp->tasks[i].status, s) == 0;
	return n;
}

static size_t count_priority(const struct dh_workplan *wp, const char *s)
{
	size_t i, n = 0;

	for (i = 0; i < wp->ntasks; i++)
		n += strcmp(wp->tasks[i].priority, s) == 0;
	return n;
}

static size_t count_phase(const struct dh_workplan *wp, const char *key)
{
	size_t i, n = 0;

	for (i = 0; i < wp->ntasks; i++)
		n += wp->tasks[i].phase &&
		     strcmp(wp->tasks[i].phase, key) == 0;
	return n;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Compare strings ignoring trailing whitespace at the end. */
static void assert_same_text(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);

	while (n && strchr(" \t\r\n", a[n - 1]))
		n--;
	while (m && strchr(" \t\r\n", b[m - 1]))
		m--;
	if (n != m || memcmp(a, b, n) != 0)
		fail_msg("texts differ:\n<<%s>>\n<<%s>>", a, b);
}

static void assert_null_or_equal(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* ---- the example ------------------------------------------------------- */

static void check_example(const struct dh_workplan *wp, int decision_line)
{
	static const char *const phase_keys[] = { "1", "2", "3", "4" };
	static const size_t phase_tasks[] = { 4, 8, 7, 7 };
	const struct dh_wp_task *t;
	char slice[64];
	size_t i;
	int n;

	assert_string_equal(wp->id, "CUST-WP-0025");
	assert_string_equal(wp->type, "workplan");
	assert_string_equal(wp->title, "FOS Hub Bootstrap \xe2\x80\x94 "
				       "Identity, Hub Extraction, Ops Hub, "
				       "Fin Hub");
	assert_string_equal(wp->domain, "custodian");
	assert_string_equal(wp->repo, "the-custodian");
	assert_string_equal(wp->status, "active");
	assert_string_equal(wp->owner, "custodian");
	assert_string_equal(wp->topic_slug, "custodian");
	assert_string_equal(wp->created, "2026-03-20");
	assert_string_equal(wp->updated, "2026-06-07");
	assert_string_equal(wp->state_hub_workstream_id,
			    "293a74fe-a85a-4ad6-8933-23d52a72fe8b");
	assert_non_null(strstr(wp->description, "Progress the Custodian"));
	assert_non_null(strstr(wp->description, "Key Decisions"));
	assert_null(strstr(wp->description, "Phase 1 \xe2\x80\x94"));

	assert_int_equal(wp->ntasks, 26);
	assert_int_equal(count_status(wp, "done"), 4);
	assert_int_equal(count_status(wp, "in_progress"), 1);
	assert_int_equal(count_status(wp, "todo"), 21);
	assert_int_equal(count_priority(wp, "high"), 7);
	assert_int_equal(count_priority(wp, "medium"), 13);
	assert_int_equal(count_priority(wp, "low"), 6);

	assert_int_equal(wp->nphases, 4);
	for (i = 0; i < 4; i++) {
		assert_string_equal(wp->phases[i].key, phase_keys[i]);
		assert_int_equal(count_phase(wp, phase_keys[i]),
				 phase_tasks[i]);
	}
	assert_string_equal(wp->phases[0].title, "Identity Infrastructure");
	assert_string_equal(wp->phases[1].title,
			    "Hub Extraction & Dev Hub Rename");
	assert_string_equal(wp->phases[2].title, "Ops Hub");
	assert_string_equal(wp->phases[3].title, "Business Model & Fin Hub");
	assert_true(strncmp(wp->phases[1].description,
			    "Goal: Extract generic hub-core package", 38) == 0);
	assert_true(ends_with(wp->phases[1].description,
			      "SBOM, goals, DoI cache, kaizen agents, "
			      "consistency checker"));

	for (i = 0; i < wp->ntasks; i++) {
		char key[32], id[64];

		snprintf(key, sizeof(key), "T%02zu", i + 1);
		snprintf(id, sizeof(id), "CUST-WP-0025-%s", key);
		assert_string_equal(wp->tasks[i].key, key);
		assert_string_equal(wp->tasks[i].id, id);
		assert_non_null(wp->tasks[i].state_hub_task_id);
		assert_int_equal(strlen(wp->tasks[i].state_hub_task_id), 36);
		assert_true(wp->tasks[i].description[0] != '\0');
	}

	t = task(wp, "T01");
	assert_string_equal(t->title, "Complete NK-WP-0001: Keycloak + "
				      "privacyIDEA on k3s");
	assert_string_equal(t->status, "todo");
	assert_string_equal(t->priority, "high");
	assert_string_equal(t->state_hub_task_id,
			    "f55078b6-7fa3-49ab-be30-37db622d64c9");
	assert_string_equal(t->phase, "1");
	assert_true(strncmp(t->description, "Complete the SSO/MFA", 20) == 0);
	assert_true(ends_with(t->description,
			      "\nCross-reference: net-kingdom NK-WP-0001."));

	t = task(wp, "T08");
	assert_string_equal(t->id, "CUST-WP-0025-T08");
	assert_string_equal(t->status, "in_progress");
	assert_string_equal(t->priority, "high");
	assert_string_equal(t->phase, "2");
	assert_true(strncmp(t->description, "Refactor the standalone", 23) ==
		    0);
	assert_non_null(strstr(t->description,
			       "\nImplementation start (2026-06-07):"));
	for (n = 2; n <= 9; n++) {
		snprintf(slice, sizeof(slice),
			 "\nImplementation slice %d (2026-06-07):", n);
		assert_non_null(strstr(t->description, slice));
	}
	assert_true(ends_with(t->description, "focused tests passed with "
					      "100 tests."));

	t = task(wp, "T05");
	assert_non_null(strstr(t->description, "\nCompleted package slice"));
	t = task(wp, "T26");
	assert_string_equal(t->phase, "4");
	assert_true(ends_with(t->description,
			      "- First customer acquisition strategy"));

	assert_int_equal(wp->ndecisions, 4);
	assert_string_equal(wp->decisions[0].title, "Hub-core packaging");
	assert_string_equal(wp->decisions[0].choice,
			    "Separate pip-installable package");
	assert_string_equal(wp->decisions[0].rationale,
			    "Clean separation, versioned independently, each "
			    "hub depends via uv");
	assert_string_equal(wp->decisions[1].choice,
			    "Parallel start (Phase 1 + 2)");
	assert_string_equal(wp->decisions[2].rationale,
			    "FOS separation principle \xe2\x80\x94 each hub "
			    "independently deployable");
	assert_string_equal(wp->decisions[3].title, "First monetization");
	for (i = 0; i < 4; i++)
		assert_int_equal(wp->decisions[i].line,
				 decision_line + (int)i);
}

static void test_text_example(void **state)
{
	struct dh_workplan *wp = parse_file_ok(EXAMPLE_TXT);

	assert_int_equal(wp->format, DH_WP_TEXT);
	assert_string_equal(wp->source, EXAMPLE_TXT);
	check_example(wp, 23);
	assert_int_equal(wp->phases[0].line, 27);
	assert_int_equal(task(wp, "T01")->line, 29);
	assert_int_equal(task(wp, "T26")->line, 409);
	/* the title line is not part of the description */
	assert_true(strncmp(wp->description, "Goal\nProgress", 13) == 0);
	dh_workplan_free(wp);
}

static void test_md_example(void **state)
{
	struct dh_workplan *wp = parse_file_ok(EXAMPLE_MD);

	assert_int_equal(wp->format, DH_WP_MARKDOWN);
	check_example(wp, 37);
	assert_int_equal(wp->phases[0].line, 42);
	assert_int_equal(task(wp, "T01")->line, 46);
	/* the H1 title is skipped, the ## headings are kept verbatim */
	assert_true(strncmp(wp->description, "## Goal\n\nProgress", 17) == 0);
	dh_workplan_free(wp);
}

static void test_forms_identical(void **state)
{
	struct dh_workplan *a = parse_file_ok(EXAMPLE_TXT);
	struct dh_workplan *b = parse_file_ok(EXAMPLE_MD);
	size_t i;

	assert_int_equal(a->ntasks, b->ntasks);
	for (i = 0; i < a->ntasks; i++) {
		const struct dh_wp_task *x = &a->tasks[i], *y = &b->tasks[i];

		assert_string_equal(x->key, y->key);
		assert_string_equal(x->id, y->id);
		assert_string_equal(x->title, y->title);
		assert_string_equal(x->status, y->status);
		assert_string_equal(x->priority, y->priority);
		assert_null_or_equal(x->phase, y->phase);
		assert_null_or_equal(x->state_hub_task_id,
				     y->state_hub_task_id);
		assert_same_text(x->description, y->description);
	}
	assert_int_equal(a->nphases, b->nphases);
	for (i = 0; i < a->nphases; i++) {
		assert_string_equal(a->phases[i].key, b->phases[i].key);
		assert_string_equal(a->phases[i].title, b->phases[i].title);
		assert_same_text(a->phases[i].description,
				 b->phases[i].description);
	}
	assert_int_equal(a->ndecisions, b->ndecisions);
	for (i = 0; i < a->ndecisions; i++) {
		assert_string_equal(a->decisions[i].title,
				    b->decisions[i].title);
		assert_string_equal(a->decisions[i].choice,
				    b->decisions[i].choice);
		assert_string_equal(a->decisions[i].rationale,
				    b->decisions[i].rationale);
	}
	dh_workplan_free(a);
	dh_workplan_free(b);
}

/* CRLF (and a BOM) give the same result, line numbers included. */
static void check_crlf(const char *path, int bom)
{
	size_t len, clen, i;
	char *lf = read_all(path, &len);
	char *crlf = to_crlf(lf, len, bom, &clen);
	struct dh_workplan *a = parse_ok(path, lf, len);
	struct dh_workplan *b = parse_ok(path, crlf, clen);

	assert_int_equal(a->ntasks, b->ntasks);
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->title, b->title);
	assert_string_equal(a->state_hub_workstream_id,
			    b->state_hub_workstream_id);
	assert_string_equal(a->description, b->description);
	assert_null(strchr(b->description, '\r'));
	for (i = 0; i < a->ntasks; i++) {
		assert_string_equal(a->tasks[i].id, b->tasks[i].id);
		assert_string_equal(a->tasks[i].title, b->tasks[i].title);
		assert_string_equal(a->tasks[i].description,
				    b->tasks[i].description);
		assert_null(strchr(b->tasks[i].description, '\r'));
		assert_int_equal(a->tasks[i].line, b->tasks[i].line);
	}
	assert_int_equal(a->ndecisions, b->ndecisions);
	for (i = 0; i < a->ndecisions; i++) {
		assert_string_equal(a->decisions[i].rationale,
				    b->decisions[i].rationale);
		assert_int_equal(a->decisions[i].line, b->decisions[i].line);
	}
	dh_workplan_free(a);
	dh_workplan_free(b);
	free(lf);
	free(crlf);
}

static void test_crlf(void **state)
{
	check_crlf(EXAMPLE_TXT, 0);
	check_crlf(EXAMPLE_MD, 0);
	check_crlf(EXAMPLE_TXT, 1);
	check_crlf(EXAMPLE_MD, 1);
}

/* CRLF does not shift the line numbers of errors. */
static void test_crlf_error_line(void **state)
{
	size_t len, clen;
	char *lf = read_all(BAD "md-yaml-error.md", &len);
	char *crlf = to_crlf(lf, len, 1, &clen);

	parse_bad(crlf, clen, 30, "mapping values");
	free(lf);
	free(crlf);
	lf = read_all(BAD "txt-bad-priority.txt", &len);
	crlf = to_crlf(lf, len, 0, &clen);
	parse_bad(crlf, clen, 18, "priority 'urgent'");
	free(lf);
	free(crlf);
}

/* ---- malformed input --------------------------------------------------- */

static const struct bad_case {
	const char *file;
	int line;
	const char *key;
} bad_cases[] = {
	{ "txt-missing-status.txt", 15, "missing field 'status'" },
	{ "txt-bad-status.txt", 17,
	  "task T02: status 'doing' is not one of todo, in_progress, "
	  "blocked, done, cancelled" },
	{ "txt-bad-priority.txt", 18, "priority 'urgent' is not one of" },
	{ "txt-id-mismatch.txt", 16, "does not match the heading" },
	{ "txt-bad-uuid.txt", 19, "is not a uuid" },
	{ "txt-yaml-error.txt", 17, "invalid yaml" },
	{ "txt-yaml-quote.txt", 19, "quoted scalar" },
	{ "txt-no-fields.txt", 15, "not followed by field lines" },
	{ "txt-duplicate-id.txt", 16, "duplicate task id" },
	{ "txt-bad-workstream.txt", 5, "state_hub_workstream_id" },
	{ "txt-bad-date.txt", 5, "is not a date" },
	{ "txt-no-table.txt", 1, "no metadata table" },
	{ "md-missing-status.md", 26, "missing field 'status'" },
	{ "md-bad-priority.md", 31, "priority 'urgent' is not one of" },
	{ "md-id-mismatch.md", 29, "does not match the heading" },
	{ "md-bad-uuid.md", 32, "is not a uuid" },
	{ "md-yaml-error.md", 30, "invalid yaml" },
	{ "md-no-yaml-block.md", 26, "not followed by a ```yaml block" },
	{ "md-duplicate-id.md", 29, "duplicate task id" },
	{ "md-unterminated-front-matter.md", 1, "front matter is not "
						"terminated" },
	{ "md-unterminated-yaml.md", 28, "not closed" },
	{ "md-front-matter-yaml.md", 4, "front matter: invalid yaml" },
	{ "md-bad-date.md", 6, "is not a date" },
	{ "md-missing-domain.md", 1, "missing metadata field 'domain'" },
	{ "md-stray-heading.md", 37, "neither a phase nor a task" },
	{ "md-unknown-field.md", 32, "unknown field 'prio'" },
	{ "md-task-level.md", 26, "must be level 3" },
};

static void test_bad_fixtures(void **state)
{
	char path[256], msg[1024];
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct hc_err err = { 0 };
		struct dh_workplan *wp = (struct dh_workplan *)1;
		int rc;

		snprintf(path, sizeof(path), BAD "%s", b->file);
		rc = dh_workplan_parse_file(path, &wp, &err);
		hc_err_format(&err, msg, sizeof(msg));
		if (rc != HC_EPARSE || err.line != b->line ||
		    !strstr(err.msg, b->key))
			fail_msg("%s: expected line %d '%s', got rc %d: %s",
				 b->file, b->line, b->key, rc, msg);
		assert_null(wp);
		assert_string_equal(err.source, path);
		/* messages are one lower-case sentence */
		assert_false(err.msg[0] >= 'A' && err.msg[0] <= 'Z');
		assert_null(strchr(err.msg, '\n'));
	}
}

static void test_columns(void **state)
{
	struct hc_err err = { 0 };
	struct dh_workplan *wp = NULL;

	assert_int_equal(dh_workplan_parse_file(BAD "txt-bad-status.txt",
						&wp, &err),
			 HC_EPARSE);
	assert_int_equal(err.column, 9);
	assert_string_equal(err.msg,
			    "task T02: status 'doing' is not one of todo, "
			    "in_progress, blocked, done, cancelled");
	assert_int_equal(dh_workplan_parse_file(BAD "md-yaml-error.md", &wp,
						&err),
			 HC_EPARSE);
	assert_int_equal(err.column, 13);
}

static void test_nul_byte(void **state)
{
	size_t len;
	char *s = read_all("tests/data/workplans/small.txt", &len);
	char *p = strstr(s, "Desc one.");

	assert_non_null(p);
	p[4] = '\0';
	parse_bad(s, len, 14, "nul byte");
	free(s);
	s = read_all("tests/data/workplans/small.md", &len);
	p = strstr(s, "Phase text.");
	assert_non_null(p);
	p[0] = '\0';
	parse_bad(s, len, 14, "nul byte");
	free(s);
}

static void test_bad_utf8(void **state)
{
	size_t len;
	char *s = read_all("tests/data/workplans/small.txt", &len);
	char *p = strstr(s, "Desc two.");

	assert_non_null(p);
	p[0] = (char)0xff;
	parse_bad(s, len, 20, "utf-8");
	free(s);
}

static void test_yaml_nul_escape(void **state)
{
	static const char md[] = "---\n"
				 "id: \"TEST-WP-0001\\0\"\n"
				 "title: t\n"
				 "domain: d\n"
				 "---\n";

	parse_bad(md, sizeof(md) - 1, 2, "nul byte");
}

static void test_too_big(void **state)
{
	size_t len = (size_t)16 * 1024 * 1024 + 1;
	char *s = calloc(len, 1);
	struct hc_err err = { 0 };
	struct dh_workplan *wp = NULL;

	assert_non_null(s);
	assert_int_equal(dh_workplan_parse("big", s, len, &wp, &err),
			 HC_ETOOBIG);
	assert_null(wp);
	free(s);
}

static void test_missing_file(void **state)
{
	struct hc_err err = { 0 };
	struct dh_workplan *wp = NULL;

	assert_int_equal(dh_workplan_parse_file(BAD "no-such-file.md", &wp,
						&err),
			 HC_ENOTFOUND);
	assert_null(wp);
}

static void test_empty_and_trivial(void **state)
{
	static const char fm_only[] = "---\n"
				      "id: TEST-WP-0001\n"
				      "title: t\n"
				      "domain: d\n"
				      "---\n";
	struct dh_workplan *wp;

	parse_bad("", 0, 1, "no metadata table");
	parse_bad("---", 3, 1, "not terminated");
	parse_bad("---\r\n---\r\n", 10, 1, "missing metadata field 'id'");
	wp = parse_ok("mem", fm_only, sizeof(fm_only) - 1);
	assert_int_equal(wp->ntasks, 0);
	assert_string_equal(wp->description, "");
	assert_null(wp->type);
	dh_workplan_free(wp);
}

static void test_metadata_errors(void **state)
{
	static const char bad_id[] = "---\nid: cust-wp-1\ntitle: t\n"
				     "domain: d\n---\n";
	static const char bad_type[] = "---\nid: A-1\ntype: plan\ntitle: t\n"
				       "domain: d\n---\n";
	static const char list_title[] = "---\nid: A-1\ntitle: [a, b]\n"
					 "domain: d\n---\n";
	static const char dup_key[] = "---\nid: A-1\ntitle: t\ntitle: u\n"
				      "domain: d\n---\n";
	static const char two_rows[] = "| id | title | domain |\n"
				       "|---|---|---|\n"
				       "| A-1 | t | d |\n"
				       "| A-2 | t | d |\n";
	static const char no_title[] = "x\n| id | domain |\n|---|---|\n"
				       "| A-1 | d |\n";

	parse_bad(bad_id, sizeof(bad_id) - 1, 2, "not a workplan id");
	parse_bad(bad_type, sizeof(bad_type) - 1, 3, "must be 'workplan'");
	parse_bad(list_title, sizeof(list_title) - 1, 3, "single value");
	parse_bad(dup_key, sizeof(dup_key) - 1, 4, "duplicate field");
	parse_bad(two_rows, sizeof(two_rows) - 1, 4, "more than one");
	parse_bad(no_title, sizeof(no_title) - 1, 4,
		  "missing metadata field 'title'");
}

/* ---- features of each form --------------------------------------------- */

static void test_md_features(void **state)
{
	static const char md[] =
		"---\n"                                   /* 1 */
		"id: TEST-WP-0002\n"
		"title: 'Features: all of them'\n"
		"domain: testing\n"
		"tags: [ignored, by, the, parser]\n"      /* 5 */
		"state_hub_workstream_id: ~\n"
		"---\n"
		"# Another title\n"
		"\n"
		"| Decision | Choice | Rationale |\n"     /* 10 */
		"|---|---|---|\n"
		"| Pipes | `a \\| b` | keep *markup* |\n"
		"\n"
		"### T01 \xe2\x80\x93 Before any phase ###\n"
		"\n"                                      /* 15 */
		"```yml\n"
		"id: TEST-WP-0002-T01\n"
		"status: blocked\n"
		"priority: medium\n"
		"owner: someone\n"                        /* 20 */
		"depends_on: [T02]\n"
		"state_hub_task_id:\n"
		"```\n"
		"\n"
		"First line.\n"                           /* 25 */
		"\n"
		"#### Notes\n"
		"\n"
		"```text\n"
		"### T99 - not a heading\n"               /* 30 */
		"```\n"
		"\n"
		"\n"
		"## Phase 2a - Hyphenated\n"
		"### T02 - Hyphen\n"                      /* 35 */
		"~~~yaml\n"
		"id: TEST-WP-0002-T02\n"
		"status: cancelled\n"
		"priority: low\n"
		"~~~\n";                                  /* 40 */
	struct dh_workplan *wp = parse_ok("mem", md, sizeof(md) - 1);
	const struct dh_wp_task *t;

	assert_string_equal(wp->title, "Features: all of them");
	assert_null(wp->state_hub_workstream_id);
	/* an H1 that differs from the title stays in the description */
	assert_true(strncmp(wp->description, "# Another title\n", 16) == 0);
	assert_int_equal(wp->ndecisions, 1);
	assert_string_equal(wp->decisions[0].choice, "`a | b`");
	assert_string_equal(wp->decisions[0].rationale, "keep *markup*");
	assert_int_equal(wp->decisions[0].line, 12);
	assert_int_equal(wp->ntasks, 2);
	t = &wp->tasks[0];
	assert_string_equal(t->title, "Before any phase");
	assert_null(t->phase);
	assert_null(t->state_hub_task_id);
	assert_string_equal(t->status, "blocked");
	assert_int_equal(t->line, 14);
	assert_string_equal(t->description,
			    "First line.\n\n#### Notes\n\n```text\n"
			    "### T99 - not a heading\n```");
	assert_int_equal(wp->nphases, 1);
	assert_string_equal(wp->phases[0].key, "2a");
	assert_string_equal(wp->phases[0].title, "Hyphenated");
	assert_string_equal(wp->phases[0].description, "");
	t = &wp->tasks[1];
	assert_string_equal(t->phase, "2a");
	assert_string_equal(t->description, "");
	dh_workplan_free(wp);
}

static void test_text_features(void **state)
{
	static const char txt[] =
		"| id | title | domain | extra |\n"       /* 1 */
		"|---|---|---|---|\n"
		"| TEST-WP-0003 | A \\| B | testing | x |\n"
		"Not the title\n"
		"Intro.\n"                                /* 5 */
		"T01 \xe2\x80\x93 Loose task\n"
		"id: TEST-WP-0003-T01\n"
		"owner: someone\n"
		"depends_on: [T02]\n"
		"status: todo # a comment\n"              /* 10 */
		"priority: low\n"
		"Repo: not a field\n"
		"status: this is description text now\n"
		"\n"
		"\n"                                      /* 15 */
		"Phase 1 - One\n"
		"T02 - Two\n"
		"id: 'TEST-WP-0003-T02'\n"
		"status: done\n"
		"priority: high\n";                       /* 20 */
	struct dh_workplan *wp = parse_ok("mem", txt, sizeof(txt) - 1);
	const struct dh_wp_task *t;

	assert_string_equal(wp->title, "A | B");
	assert_true(strncmp(wp->description, "Not the title\nIntro.", 20) ==
		    0);
	assert_int_equal(wp->ntasks, 2);
	t = &wp->tasks[0];
	assert_null(t->phase);
	assert_string_equal(t->title, "Loose task");
	assert_string_equal(t->status, "todo");
	assert_string_equal(t->description,
			    "Repo: not a field\n"
			    "status: this is description text now");
	t = &wp->tasks[1];
	assert_string_equal(t->phase, "1");
	assert_string_equal(t->id, "TEST-WP-0003-T02");
	assert_string_equal(t->description, "");
	assert_int_equal(wp->ndecisions, 0);
	dh_workplan_free(wp);
}

static void test_text_dup_phase(void **state)
{
	static const char txt[] = "| id | title | domain |\n"
				  "|---|---|---|\n"
				  "| A-1 | t | d |\n"
				  "Phase 1 \xe2\x80\x94 One\n"
				  "Phase 1 \xe2\x80\x94 Again\n";

	parse_bad(txt, sizeof(txt) - 1, 5, "duplicate phase 1");
}

static void test_vocabularies(void **state)
{
	assert_string_equal(dh_task_statuses[0], "todo");
	assert_string_equal(dh_task_statuses[4], "cancelled");
	assert_null(dh_task_statuses[5]);
	assert_string_equal(dh_task_priorities[2], "low");
	assert_null(dh_task_priorities[3]);
	dh_workplan_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_example),
		cmocka_unit_test(test_md_example),
		cmocka_unit_test(test_forms_identical),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_crlf_error_line),
		cmocka_unit_test(test_bad_fixtures),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_yaml_nul_escape),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_empty_and_trivial),
		cmocka_unit_test(test_metadata_errors),
		cmocka_unit_test(test_md_features),
		cmocka_unit_test(test_text_features),
		cmocka_unit_test(test_text_dup_phase),
		cmocka_unit_test(test_vocabularies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
