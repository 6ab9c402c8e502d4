/*
 * test_devhub.c - dev-hub's schema and workplan import at the service level:
 * every descriptor field has its column, the example imports with the
 * figures the issue names, re-import changes nothing, both forms agree, and
 * a refused workplan leaves the database exactly as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "testutil.h"

#define EXAMPLE "examples/workplans/CUST-WP-0025.txt"
#define EXAMPLE_MD "tests/data/workplans/CUST-WP-0025.md"

struct fixture {
	char *dir;
	struct hc_hub *hub;
	struct hc_conn *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hc_hub_config cfg = { .log_level = HC_LOG_ERROR };
	struct hc_err err = { 0 };
	f->dir = tu_tempdir();
	cfg.db_url = tu_db_url(f->dir, "dev.db");
	if (hc_hub_open(&f->hub, &devhub_def, &cfg, &err) != HC_OK) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	f->c = hc_store_acquire(f->hub->store, &err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hc_store_release(f->hub->store, f->c);
	hc_hub_close(f->hub);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static int import_file(struct fixture *f, const char *path,
		       struct dh_import_result *res, struct hc_err *err)
{
	struct dh_workplan *wp = NULL;
	int rc = dh_workplan_parse_file(path, &wp, err);
	if (rc == HC_OK)
		rc = dh_workplan_import(f->c, wp, res, err);
	dh_workplan_free(wp);
	return rc;
}

static int import_text(struct fixture *f, const char *text,
		       struct dh_import_result *res, struct hc_err *err)
{
	struct dh_workplan *wp = NULL;
	int rc = dh_workplan_parse("inline.md", text, strlen(text), &wp, err);
	if (rc == HC_OK)
		rc = dh_workplan_import(f->c, wp, res, err);
	dh_workplan_free(wp);
	return rc;
}

static int64_t count(struct fixture *f, const char *sql)
{
	struct hc_err err = { 0 };
	int64_t n = -1;
	assert_int_equal(hc_query_int(f->c, &n, sql, NULL, 0, &err), HC_OK);
	return n;
}

/* Every row of every table as text, to compare before and after. */
static char *dump(struct fixture *f)
{
	struct hc_buf out = HC_BUF_INIT(64 * 1024 * 1024);
	static const char *const tables[] = {
		"domains", "repos",  "messages",  "progress_events",
		"topics",  "workstreams", "tasks", "decisions",
		"schema_migrations", NULL
	};
	struct hc_err err = { 0 };
	for (const char *const *t = tables; *t; t++) {
		struct hc_stmt *st;
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1", *t);
		assert_int_equal(hc_query(f->c, &st, sql, NULL, 0, &err), HC_OK);
		hc_buf_addf(&out, "== %s\n", *t);
		while (hc_stmt_step(st, &err) == HC_ROW_READY) {
			for (int i = 0; i < hc_stmt_columns(st); i++) {
				const char *v = hc_stmt_text(st, i, NULL);
				hc_buf_addf(&out, "%s|", v ? v : "NULL");
			}
			hc_buf_addc(&out, '\n');
		}
		hc_stmt_finish(st);
	}
	return hc_buf_detach(&out, NULL);
}

/* "workstream/status/priority=n," for every count that is not zero, from
 * task_counts or counted from the tasks themselves. */
static char *counts_text(struct hc_conn *c, bool kept)
{
	struct hc_buf out = HC_BUF_INIT(1 << 20);
	struct hc_err err = { 0 };
	struct hc_stmt *st = NULL;
	int rc;
	hc_buf_adds(&out, "");
	assert_int_equal(
		hc_query(c, &st,
			 kept ? "SELECT workstream, status, priority, n FROM "
				"task_counts WHERE n <> 0 ORDER BY 1, 2, 3"
			      : "SELECT workstream, status, priority, "
				"count(*) FROM tasks GROUP BY workstream, "
				"status, priority ORDER BY 1, 2, 3",
			 NULL, 0, &err),
		HC_OK);
	while ((rc = hc_stmt_step(st, &err)) == HC_ROW_READY)
		hc_buf_addf(&out, "%s/%s/%s=%lld,", hc_stmt_text(st, 0, NULL),
			    hc_stmt_text(st, 1, NULL), hc_stmt_text(st, 2, NULL),
			    (long long)hc_stmt_int(st, 3));
	assert_int_equal(rc, HC_ROW_DONE);
	hc_stmt_finish(st);
	return hc_buf_detach(&out, NULL);
}

static void assert_counts_match_tasks(struct hc_conn *c)
{
	char *kept = counts_text(c, true), *counted = counts_text(c, false);
	assert_true(strlen(counted) > 0);
	assert_string_equal(kept, counted);
	free(kept);
	free(counted);
}

/* task_counts, which the domain summary reads, follows every write of a
 * task (import, update, delete, by any path: triggers), and a database
 * from before it gets it filled from its tasks. */
static void test_task_counts_follow_the_tasks(void **state)
{
	const struct hc_migration_set *old[8], *now[8];
	struct hc_migration_set dev4;
	struct hc_store *s = NULL;
	struct hc_conn *c;
	struct hc_err err = { 0 };
	struct dh_workplan *wp = NULL;
	struct dh_import_result res = { 0 };
	char *dir = tu_tempdir();
	struct fixture f = { 0 };
	size_t n = devhub_def.nmigrations;
	(void)state;

	assert_true(n <= HC_COUNT(old));
	for (size_t i = 0; i < n; i++) {
		now[i] = old[i] = devhub_def.migrations[i];
		if (strcmp(old[i]->component, "dev") == 0) {
			dev4 = *old[i];
			dev4.count = 4;
			old[i] = &dev4;
		}
	}
	assert_int_equal(hc_store_open(&s, tu_db_url(dir, "counts.db"), NULL,
				       &err),
			 HC_OK);
	assert_int_equal(hc_migrate(s, old, n, NULL, &err), HC_OK);
	c = hc_store_acquire(s, &err);
	f.c = c;
	assert_int_equal(dh_workplan_parse_file(EXAMPLE, &wp, &err), HC_OK);
	assert_int_equal(dh_workplan_import(c, wp, &res, &err), HC_OK);
	dh_workplan_free(wp);
	assert_int_equal(count(&f, "SELECT count(*) FROM schema_migrations "
				   "WHERE component = 'dev' AND version = 5"),
			 0);
	hc_store_release(s, c);
	/* the step that makes the table fills it from the tasks */
	assert_int_equal(hc_migrate(s, now, n, NULL, &err), HC_OK);
	c = hc_store_acquire(s, &err);
	f.c = c;
	assert_counts_match_tasks(c);
	/* and the triggers keep it, whoever writes */
	assert_int_equal(hc_exec(c,
				 "UPDATE tasks SET status = 'done' WHERE id "
				 "IN (SELECT id FROM tasks ORDER BY id LIMIT 3)",
				 NULL, 0, &err),
			 HC_OK);
	assert_counts_match_tasks(c);
	assert_int_equal(hc_exec(c,
				 "UPDATE tasks SET priority = 'low', status = "
				 "'blocked' WHERE id IN (SELECT id FROM tasks "
				 "ORDER BY id DESC LIMIT 4)",
				 NULL, 0, &err),
			 HC_OK);
	assert_counts_match_tasks(c);
	assert_int_equal(hc_exec(c, "UPDATE tasks SET title = 'retitled'",
				 NULL, 0, &err),
			 HC_OK);
	assert_counts_match_tasks(c);
	assert_int_equal(hc_exec(c,
				 "DELETE FROM tasks WHERE id IN (SELECT id "
				 "FROM tasks ORDER BY id LIMIT 2)",
				 NULL, 0, &err),
			 HC_OK);
	assert_counts_match_tasks(c);
	/* a re-import puts the file's statuses back through the upsert */
	assert_int_equal(dh_workplan_parse_file(EXAMPLE, &wp, &err), HC_OK);
	assert_int_equal(dh_workplan_import(c, wp, &res, &err), HC_OK);
	dh_workplan_free(wp);
	assert_counts_match_tasks(c);
	hc_store_release(s, c);
	hc_store_close(s);
	tu_rmtree(dir);
}

static void test_schema_matches_descriptors(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	for (size_t i = 0; i < devhub_def.nresources; i++) {
		const struct hc_resource *r = devhub_def.resources[i];
		bool exists = false;
		assert_int_equal(hc_table_exists(f->c, r->table, &exists, &err),
				 HC_OK);
		assert_true(exists);
		for (size_t k = 0; k < r->nfields; k++) {
			assert_int_equal(hc_column_exists(f->c, r->table,
							  r->fields[k].name,
							  &exists, &err),
					 HC_OK);
			if (!exists)
				fail_msg("no column %s.%s", r->table,
					 r->fields[k].name);
		}
	}
	/* every step of every set, core's and dev's */
	{
		int64_t steps = 0;
		for (size_t i = 0; i < devhub_def.nmigrations; i++)
			steps += (int64_t)devhub_def.migrations[i]->count;
		assert_true(steps >= 3);
		assert_int_equal(count(f, "SELECT count(*) FROM "
					  "schema_migrations"),
				 steps);
	}
}

static void test_import_example(void **state)
{
	struct fixture *f = *state;
	struct dh_import_result res;
	struct hc_err err = { 0 };
	json_t *ws = NULL, *t08 = NULL, *sum = NULL;

	if (import_file(f, EXAMPLE, &res, &err) != HC_OK)
		fail_msg("%s:%d: %s", err.source, err.line, err.msg);
	assert_true(res.workstream_created);
	assert_int_equal(res.tasks, 26);
	assert_int_equal(res.tasks_created, 26);
	assert_int_equal(res.decisions, 4);

	assert_int_equal(count(f, "SELECT count(*) FROM tasks"), 26);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks WHERE status = "
				  "'done'"),
			 4);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks WHERE status = "
				  "'in_progress'"),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks WHERE status = "
				  "'todo'"),
			 21);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks WHERE priority "
				  "= 'high'"),
			 7);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks WHERE priority "
				  "= 'medium'"),
			 13);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks WHERE priority "
				  "= 'low'"),
			 6);
	assert_int_equal(count(f, "SELECT count(*) FROM domains WHERE slug = "
				  "'custodian'"),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM topics WHERE slug = "
				  "'custodian' AND domain = 'custodian'"),
			 1);

	assert_int_equal(hc_res_get(f->c, &dh_workstream_resource,
				    "CUST-WP-0025", &ws, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(ws, "state_hub_workstream_id"),
			    "293a74fe-a85a-4ad6-8933-23d52a72fe8b");
	{
		json_t *phases = json_object_get(ws, "phases");
		int want[] = { 4, 8, 7, 7 };
		assert_int_equal(json_array_size(phases), 4);
		for (size_t i = 0; i < 4; i++)
			assert_int_equal(
				json_integer_value(json_object_get(
					json_array_get(phases, i),
					"task_count")),
				want[i]);
	}

	assert_int_equal(hc_res_get(f->c, &dh_task_resource,
				    "CUST-WP-0025-T08", &t08, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(t08, "status"), "in_progress");
	assert_string_equal(hc_json_str(t08, "state_hub_task_id"),
			    "daf1d8ac-b55a-4692-b359-2671ddf6fc8a");
	for (int i = 2; i <= 9; i++) {
		char slice[40];
		snprintf(slice, sizeof(slice), "Implementation slice %d", i);
		assert_non_null(strstr(hc_json_str(t08, "description"), slice));
	}

	assert_int_equal(hc_domain_summary(f->hub, f->c, "custodian", &sum,
					   &err),
			 HC_OK);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(sum, "tasks"), "total")),
			 26);
	json_decref(ws);
	json_decref(t08);
	json_decref(sum);
}

static void test_reimport_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct dh_import_result res;
	struct hc_err err = { 0 };
	char *before, *after;

	assert_int_equal(import_file(f, EXAMPLE, &res, &err), HC_OK);
	before = dump(f);
	assert_int_equal(import_file(f, EXAMPLE, &res, &err), HC_OK);
	assert_false(res.workstream_created);
	assert_int_equal(res.tasks_unchanged, 26);
	assert_int_equal(res.tasks_created + res.tasks_updated, 0);
	after = dump(f);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* the Markdown form of the same workplan: the same tasks */
	assert_int_equal(import_file(f, EXAMPLE_MD, &res, &err), HC_OK);
	assert_int_equal(res.tasks_unchanged, 26);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks"), 26);
}

static void test_refused_workplans_change_nothing(void **state)
{
	struct fixture *f = *state;
	struct dh_import_result res;
	struct hc_err err = { 0 };
	char *before, *after;

	assert_int_equal(import_file(f, EXAMPLE, &res, &err), HC_OK);
	before = dump(f);

	/* a malformed task block: refused with file:line */
	assert_int_equal(import_text(f,
				     "---\nid: NEW-WP-0001\ntitle: New\n"
				     "domain: newdom\n---\n"
				     "### T01 — One\n\n```yaml\n"
				     "id: NEW-WP-0001-T01\nstatus: doing\n"
				     "priority: high\n```\n",
				     &res, &err),
			 HC_EPARSE);
	assert_string_equal(err.source, "inline.md");
	assert_int_equal(err.line, 10);

	/* parses, but its workstream UUID belongs to CUST-WP-0025: the
	 * import fails after writing a new domain, which is rolled back */
	assert_int_equal(import_text(f,
				     "---\nid: NEW-WP-0002\ntitle: New\n"
				     "domain: newdom\n"
				     "state_hub_workstream_id: "
				     "293a74fe-a85a-4ad6-8933-23d52a72fe8b\n"
				     "---\n"
				     "### T01 — One\n\n```yaml\n"
				     "id: NEW-WP-0002-T01\nstatus: todo\n"
				     "priority: high\n```\n",
				     &res, &err),
			 HC_ECONFLICT);
	assert_string_equal(err.source, "inline.md");
	assert_non_null(strstr(err.msg, "state_hub_workstream_id"));

	/* a task id already used by another workstream's task UUID */
	assert_int_equal(import_text(f,
				     "---\nid: NEW-WP-0003\ntitle: New\n"
				     "domain: newdom\n---\n"
				     "### T01 — One\n\n```yaml\n"
				     "id: NEW-WP-0003-T01\nstatus: todo\n"
				     "priority: high\nstate_hub_task_id: "
				     "daf1d8ac-b55a-4692-b359-2671ddf6fc8a\n"
				     "```\n",
				     &res, &err),
			 HC_ECONFLICT);
	assert_int_equal(err.line, 6);

	after = dump(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_counts_follow_the_tasks),
		cmocka_unit_test_setup_teardown(test_schema_matches_descriptors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_example, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reimport_is_idempotent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_refused_workplans_change_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
