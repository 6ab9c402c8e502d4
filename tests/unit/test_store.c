/*
 * test_store.c - the store on SQLite or PostgreSQL ($FOSHUB_TEST_PG): URLs,
 * pragmas, bound parameters, error mapping, transactions, the pool, group
 * commit, migrations, named locks, leaders and taking work with SKIP LOCKED.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hubcore/store.h"
#include "hubcore/store/store_internal.h"
#include "testutil.h"

struct fixture {
	char *dir;
	struct hc_store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hc_err err = { 0 };
	f->dir = tu_tempdir();
	if (hc_store_open(&f->s, tu_db_url(f->dir, "t.db"), NULL, &err) !=
	    HC_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hc_store_close(f->s);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static void test_urls(void **state)
{
	struct hc_store *s = NULL;
	struct hc_err err = { 0 };
	/* nothing listens on port 1: the message names the URL, without its
	 * password */
	assert_int_equal(hc_store_open(&s,
				       "postgresql://u:s3cret@127.0.0.1:1/db"
				       "?connect_timeout=5",
				       NULL, &err),
			 HC_ESTORE);
	assert_non_null(strstr(err.msg, "postgresql://u:***@127.0.0.1:1/db"));
	assert_null(strstr(err.msg, "s3cret"));
	assert_int_equal(hc_store_open(&s, "postgresql://127.0.0.1:1/db?"
					   "pool_size=0",
				       NULL, &err),
			 HC_EUSAGE);
	assert_string_equal(err.field, "pool_size");
	assert_int_equal(hc_store_open(&s, "postgresql://127.0.0.1:1/db?"
					   "statement_timeout=soon",
				       NULL, &err),
			 HC_EUSAGE);
	assert_string_equal(err.field, "statement_timeout");
	assert_int_equal(hc_store_open(&s, "mysql://x", NULL, &err),
			 HC_EUSAGE);
	assert_int_equal(hc_store_open(&s, "sqlite:", NULL, &err), HC_EUSAGE);
	assert_int_equal(hc_store_open(&s, "", NULL, &err), HC_EUSAGE);
	assert_int_equal(hc_store_open(&s, "sqlite:/nonexistent-dir/x/y.db",
				       NULL, &err),
			 HC_EIO);
	assert_null(s);
}

static void test_file_mode_and_pragmas(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	struct hc_conn *c = hc_store_acquire(f->s, &err);
	struct hc_stmt *st;
	struct stat sb;
	char path[512];
	int64_t fk = 0;

	if (tu_pg()) {
		/* PostgreSQL: UTC and the statement timeout on every
		 * connection */
		assert_int_equal(hc_query(c, &st, "SHOW TIME ZONE", NULL, 0,
					  &err),
				 HC_OK);
		assert_int_equal(hc_stmt_step(st, &err), HC_ROW_READY);
		assert_string_equal(hc_stmt_text(st, 0, NULL), "UTC");
		hc_stmt_finish(st);
		assert_int_equal(hc_query(c, &st, "SHOW statement_timeout",
					  NULL, 0, &err),
				 HC_OK);
		assert_int_equal(hc_stmt_step(st, &err), HC_ROW_READY);
		assert_string_equal(hc_stmt_text(st, 0, NULL), "30s");
		hc_stmt_finish(st);
		assert_string_equal(hc_store_dialect(f->s)->name, "postgresql");
		hc_store_release(f->s, c);
		return;
	}
	snprintf(path, sizeof(path), "%s/t.db", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(hc_query_int(c, &fk, "PRAGMA foreign_keys", NULL, 0,
				      &err),
			 HC_OK);
	assert_int_equal(fk, 1);
	assert_int_equal(hc_query(c, &st, "PRAGMA journal_mode", NULL, 0,
				  &err),
			 HC_OK);
	assert_int_equal(hc_stmt_step(st, &err), HC_ROW_READY);
	assert_string_equal(hc_stmt_text(st, 0, NULL), "wal");
	hc_stmt_finish(st);
	hc_store_release(f->s, c);
}

static void test_bound_parameters(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	struct hc_conn *c = hc_store_acquire(f->s, &err);
	const char evil[] = "x'); DROP TABLE t; --";
	const char nul[] = { 'a', '\0', 'b' };
	struct hc_stmt *st;
	size_t len;
	int64_t n = 0;

	assert_int_equal(hc_exec_script(c, "CREATE TABLE t (v TEXT UNIQUE, "
					   "n INTEGER)",
					&err),
			 HC_OK);
	{
		struct hc_value p[] = { hc_vtext(evil), hc_vint(1) };
		assert_int_equal(hc_exec(c, "INSERT INTO t VALUES (?, ?)", p,
					 2, &err),
				 HC_OK);
		assert_int_equal(hc_changes(c), 1);
	}
	if (tu_pg()) {
		/* PostgreSQL text cannot hold a NUL byte: refused, clearly */
		struct hc_value p[] = { hc_vtextn(nul, 3), hc_vnull() };
		assert_int_equal(hc_exec(c, "INSERT INTO t VALUES (?, ?)", p,
					 2, &err),
				 HC_EINVAL);
		assert_non_null(strstr(err.msg, "NUL"));
		p[0] = hc_vtext("a?b");
		assert_int_equal(hc_exec(c, "INSERT INTO t VALUES (?, ?)", p,
					 2, &err),
				 HC_OK);
	} else {
		struct hc_value p[] = { hc_vtextn(nul, 3), hc_vnull() };
		assert_int_equal(hc_exec(c, "INSERT INTO t VALUES (?, ?)", p,
					 2, &err),
				 HC_OK);
	}
	assert_int_equal(hc_query_int(c, &n, "SELECT count(*) FROM t", NULL, 0,
				      &err),
			 HC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(hc_query(c, &st,
				  "SELECT v, n FROM t ORDER BY n IS NULL, n",
				  NULL, 0, &err),
			 HC_OK);
	assert_int_equal(hc_stmt_step(st, &err), HC_ROW_READY);
	assert_string_equal(hc_stmt_text(st, 0, NULL), evil);
	assert_int_equal(hc_stmt_step(st, &err), HC_ROW_READY);
	hc_stmt_text(st, 0, &len);
	/* the NUL byte survives (SQLite); a '?' in a value is a value */
	assert_int_equal(len, 3);
	assert_true(hc_stmt_isnull(st, 1));
	assert_int_equal(hc_stmt_step(st, &err), HC_ROW_DONE);
	hc_stmt_finish(st);

	/* a unique violation is a conflict naming the column */
	{
		struct hc_value p[] = { hc_vtext(evil), hc_vint(2) };
		assert_int_equal(hc_exec(c, "INSERT INTO t VALUES (?, ?)", p,
					 2, &err),
				 HC_ECONFLICT);
		assert_string_equal(err.field, "v");
	}
	/* a query with no row */
	assert_int_equal(hc_query_int(c, &n, "SELECT n FROM t WHERE n = 99",
				      NULL, 0, &err),
			 HC_ENOTFOUND);
	/* bad SQL is a storage error with SQLite's message */
	assert_int_equal(hc_exec(c, "SELEC 1", NULL, 0, &err), HC_ESTORE);
	assert_non_null(strstr(err.msg, "syntax error"));
	/* numbered placeholders, and '?' inside quotes is no placeholder */
	{
		struct hc_value p[] = { hc_vtext("a") };
		assert_int_equal(hc_query_int(c, &n,
					      "SELECT count(*) FROM t WHERE "
					      "v = ?1 OR v = ?1 || '?' OR "
					      "'?' = ?1",
					      p, 1, &err),
				 HC_OK);
		assert_int_equal(n, 0);
	}
	hc_store_release(f->s, c);
}

static void test_transactions(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	struct hc_conn *c = hc_store_acquire(f->s, &err);
	int64_t n = -1;
	bool exists = false;

	hc_exec_script(c, "CREATE TABLE r (x INTEGER)", &err);
	assert_int_equal(hc_tx_begin(c, true, &err), HC_OK);
	assert_true(hc_tx_active(c));
	hc_exec(c, "INSERT INTO r VALUES (1)", NULL, 0, &err);
	hc_tx_rollback(c);
	assert_false(hc_tx_active(c));
	hc_query_int(c, &n, "SELECT count(*) FROM r", NULL, 0, &err);
	assert_int_equal(n, 0);

	assert_int_equal(hc_tx_begin(c, true, &err), HC_OK);
	hc_exec(c, "INSERT INTO r VALUES (1)", NULL, 0, &err);
	assert_int_equal(hc_tx_commit(c, &err), HC_OK);
	hc_query_int(c, &n, "SELECT count(*) FROM r", NULL, 0, &err);
	assert_int_equal(n, 1);

	/* releasing a connection rolls back what it left open */
	assert_int_equal(hc_tx_begin(c, true, &err), HC_OK);
	hc_exec(c, "INSERT INTO r VALUES (2)", NULL, 0, &err);
	hc_store_release(f->s, c);
	c = hc_store_acquire(f->s, &err);
	assert_false(hc_tx_active(c));
	hc_query_int(c, &n, "SELECT count(*) FROM r", NULL, 0, &err);
	assert_int_equal(n, 1);

	assert_int_equal(hc_table_exists(c, "r", &exists, &err), HC_OK);
	assert_true(exists);
	assert_int_equal(hc_column_exists(c, "r", "x", &exists, &err), HC_OK);
	assert_true(exists);
	assert_int_equal(hc_column_exists(c, "r", "y", &exists, &err), HC_OK);
	assert_false(exists);
	hc_store_release(f->s, c);
}

struct writer {
	struct hc_store *s;
	int id;
	int failures;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	for (int i = 0; i < 50; i++) {
		struct hc_err err = { 0 };
		struct hc_conn *c = hc_store_acquire(w->s, &err);
		struct hc_value p[] = { hc_vint(w->id), hc_vint(i) };
		if (!c || hc_tx_begin(c, true, &err) != HC_OK ||
		    hc_exec(c, "INSERT INTO w VALUES (?, ?)", p, 2, &err) !=
			    HC_OK ||
		    hc_tx_commit(c, &err) != HC_OK)
			w->failures++;
		hc_store_release(w->s, c);
	}
	return NULL;
}

/* More threads than connections, all writing: every write lands. */
static void test_pool_concurrent_writers(void **state)
{
	struct hc_store *s = NULL;
	struct hc_err err = { 0 };
	struct hc_store_options opt = { .pool_size = 3 };
	struct writer w[6];
	pthread_t th[6];
	struct hc_conn *c;
	int64_t n = 0;
	char *dir = tu_tempdir();

	assert_int_equal(hc_store_open(&s, tu_db_url(dir, "p.db"), &opt, &err),
			 HC_OK);
	c = hc_store_acquire(s, &err);
	hc_exec_script(c, "CREATE TABLE w (t INTEGER, i INTEGER)", &err);
	hc_store_release(s, c);
	for (int i = 0; i < 6; i++) {
		w[i] = (struct writer){ s, i, 0 };
		pthread_create(&th[i], NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	c = hc_store_acquire(s, &err);
	hc_query_int(c, &n, "SELECT count(*) FROM w", NULL, 0, &err);
	assert_int_equal(n, 300);
	hc_store_release(s, c);
	hc_store_close(s);
	tu_rmtree(dir);
}

/* Every connection in use for longer than acquire_timeout_ms: the next
 * caller gets HC_EBUSY (a 503 over HTTP), not an endless wait; a released
 * connection is taken again. */
static void test_pool_exhausted_is_busy(void **state)
{
	struct hc_store *s = NULL;
	struct hc_err err = { 0 };
	struct hc_store_options opt = { .pool_size = 2,
					.acquire_timeout_ms = 150 };
	struct hc_conn *a, *b, *c;
	char *dir = tu_tempdir();

	assert_int_equal(hc_store_open(&s, tu_db_url(dir, "b.db"), &opt, &err),
			 HC_OK);
	a = hc_store_acquire(s, &err);
	b = hc_store_acquire(s, &err);
	assert_non_null(a);
	assert_non_null(b);
	hc_err_clear(&err);
	assert_null(hc_store_acquire(s, &err));
	assert_int_equal(err.status, HC_EBUSY);
	assert_non_null(strstr(err.msg, "all 2 database connections"));
	hc_store_release(s, b);
	c = hc_store_acquire(s, &err);
	assert_ptr_equal(c, b);
	hc_store_release(s, c);
	hc_store_release(s, a);
	hc_store_close(s);
	tu_rmtree(dir);
}

/* ---- group commit -------------------------------------------------------- */

struct gwriter {
	struct hc_store *s;
	int t;
	int ok, conflicts, wrong;
};

/* Insert (t, i); the same key twice is a UNIQUE violation. */
static int insert_one(struct hc_conn *c, void *arg, struct hc_err *err)
{
	const int *ti = arg;
	struct hc_value p[] = { hc_vint(ti[0]), hc_vint(ti[1]) };
	/* a first statement that succeeds, rolled back when the second
	 * fails */
	int rc = hc_exec(c, "INSERT INTO h (t) VALUES (?)", p, 1, err);
	if (rc != HC_OK)
		return rc;
	return hc_exec(c, "INSERT INTO g (t, i) VALUES (?, ?)", p, 2, err);
}

static void *gwriter_main(void *arg)
{
	struct gwriter *w = arg;
	for (int i = 0; i < 100; i++) {
		/* thread 0 writes the keys of thread 1 every tenth time */
		int ti[2] = { w->t == 0 && i % 10 == 0 ? 1 : w->t, i };
		struct hc_err err = { 0 };
		int rc = hc_store_write(w->s, insert_one, ti, &err);
		if (rc == HC_OK)
			w->ok++;
		else if (rc == HC_ECONFLICT && err.status == HC_ECONFLICT)
			w->conflicts++;
		else
			w->wrong++;
	}
	return NULL;
}

static void test_group_commit(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	struct gwriter w[8];
	pthread_t th[8];
	struct hc_conn *c = hc_store_acquire(f->s, &err);
	int64_t n = 0, conflicts = 0;

	assert_int_equal(hc_exec_script(c, "CREATE TABLE g (t INTEGER, "
					   "i INTEGER, UNIQUE (t, i)); "
					   "CREATE TABLE h (t INTEGER)",
					&err),
			 HC_OK);
	hc_store_release(f->s, c);
	for (int i = 0; i < 8; i++) {
		w[i] = (struct gwriter){ f->s, i, 0, 0, 0 };
		pthread_create(&th[i], NULL, gwriter_main, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].wrong, 0);
		conflicts += w[i].conflicts;
	}
	/* thread 0 and thread 1 raced for ten keys: each went in once */
	assert_int_equal(conflicts, 10);
	/* every write that was acknowledged is there, and nothing else:
	 * the second table too (a failed write is rolled back whole) */
	c = hc_store_acquire(f->s, &err);
	hc_query_int(c, &n, "SELECT count(*) FROM g", NULL, 0, &err);
	assert_int_equal(n, 800 - 10);
	hc_query_int(c, &n, "SELECT count(*) FROM h", NULL, 0, &err);
	assert_int_equal(n, 800 - 10);
	/* a write that fails on its own leaves the others of its batch */
	{
		int ti[2] = { 2, 5 };
		assert_int_equal(hc_store_write(f->s, insert_one, ti, &err),
				 HC_ECONFLICT);
	}
	hc_store_release(f->s, c);
}

/* ---- migrations ---------------------------------------------------------- */

static const struct hc_migration good_steps[] = {
	{ .version = 1, .name = "one", .sql = "CREATE TABLE a (x INTEGER)" },
	{ .version = 2, .name = "two",
	  .sql = "ALTER TABLE a ADD COLUMN y TEXT" },
};

static const struct hc_migration bad_steps[] = {
	{ .version = 1, .name = "one", .sql = "CREATE TABLE a (x INTEGER)" },
	{ .version = 2, .name = "two",
	  .sql = "ALTER TABLE a ADD COLUMN y TEXT" },
	{ .version = 3, .name = "three breaks",
	  .sql = "CREATE TABLE b (z INTEGER); INSERT INTO nowhere VALUES (1)" },
};

static void test_migrations(void **state)
{
	struct fixture *f = *state;
	struct hc_migration_set good = { "t", good_steps, 2 };
	struct hc_migration_set bad = { "t", bad_steps, 3 };
	struct hc_migration_set one = { "t", good_steps, 1 };
	const struct hc_migration_set *sets[1];
	struct hc_err err = { 0 };
	struct hc_conn *c;
	int applied = -1, version = -1;
	bool exists = true;

	sets[0] = &good;
	assert_int_equal(hc_migrate(f->s, sets, 1, &applied, &err), HC_OK);
	assert_int_equal(applied, 2);
	assert_int_equal(hc_migrate(f->s, sets, 1, &applied, &err), HC_OK);
	assert_int_equal(applied, 0);

	/* a failing step leaves the previous version and says why */
	sets[0] = &bad;
	assert_int_equal(hc_migrate(f->s, sets, 1, &applied, &err),
			 HC_ESCHEMA);
	assert_int_equal(applied, 0);
	assert_non_null(strstr(err.msg, "t/3 'three breaks'"));
	assert_non_null(strstr(err.msg, "left at t/2"));
	assert_non_null(strstr(err.msg, "nowhere"));
	c = hc_store_acquire(f->s, &err);
	assert_int_equal(hc_schema_version(c, "t", &version, &err), HC_OK);
	assert_int_equal(version, 2);
	/* the half of step 3 that ran is gone too */
	assert_int_equal(hc_table_exists(c, "b", &exists, &err), HC_OK);
	assert_false(exists);
	hc_store_release(f->s, c);

	/* a binary that knows less than the database refuses it */
	sets[0] = &one;
	assert_int_equal(hc_migrate(f->s, sets, 1, &applied, &err),
			 HC_ESCHEMA);
	assert_non_null(strstr(err.msg, "newer than this binary"));
}

/* ---- dialect ------------------------------------------------------------- */

static void test_dialect_text(void **state)
{
	int max = 0;
	char *t = hc__pg_placeholders("SELECT ?, '?', \"a?\", ?3 -- ?\n, ?",
				      &max);
	assert_string_equal(t, "SELECT $1, '?', \"a?\", $3 -- ?\n, $4");
	assert_int_equal(max, 4);
	free(t);
	t = hc__pg_placeholders("x = 'it''s ?' AND y = ?", &max);
	assert_string_equal(t, "x = 'it''s ?' AND y = $1");
	free(t);
	{
		const char *q = "SELECT seq FROM o ORDER BY seq LIMIT ? "
				"FOR UPDATE SKIP LOCKED";
		assert_int_equal(hc__sqlite_strip_locking(q),
				 strstr(q, " FOR") - q);
		q = "SELECT 'FOR UPDATE' FROM o";
		assert_int_equal(hc__sqlite_strip_locking(q), strlen(q));
		q = "SELECT x FROM o FOR UPDATE OF o";
		assert_int_equal(hc__sqlite_strip_locking(q),
				 strstr(q, " FOR") - q);
	}
}

/* ---- taking work --------------------------------------------------------- */

struct taker {
	struct hc_store *s;
	int id;
	int taken;
	int failures;
};

/* The pattern of hubcore/store.h: take one row with SKIP LOCKED, mark it
 * in the same transaction, guarded. */
static void *taker_main(void *arg)
{
	struct taker *t = arg;
	for (;;) {
		struct hc_err err = { 0 };
		struct hc_conn *c = hc_store_acquire(t->s, &err);
		struct hc_stmt *st = NULL;
		int64_t seq = 0;
		int rc = c ? hc_tx_begin(c, true, &err) : HC_EBUSY;
		if (rc == HC_OK)
			rc = hc_query(c, &st,
				      "SELECT seq FROM outbox WHERE taker IS "
				      "NULL ORDER BY seq LIMIT 1 FOR UPDATE "
				      "SKIP LOCKED",
				      NULL, 0, &err);
		if (rc == HC_OK) {
			rc = hc_stmt_step(st, &err);
			if (rc == HC_ROW_READY)
				seq = hc_stmt_int(st, 0);
			hc_stmt_finish(st);
		}
		if (rc == HC_ROW_READY) {
			struct hc_value p[] = { hc_vint(t->id), hc_vint(seq) };
			rc = hc_exec(c,
				     "UPDATE outbox SET taker = ?, takes = "
				     "takes + 1 WHERE seq = ? AND taker IS "
				     "NULL",
				     p, 2, &err);
			if (rc == HC_OK && hc_changes(c) != 1)
				t->failures++;
			if (rc == HC_OK)
				rc = hc_tx_commit(c, &err);
			if (rc == HC_OK)
				t->taken++;
			else
				t->failures++;
			hc_store_release(t->s, c);
			continue;
		}
		if (rc != HC_ROW_DONE)
			t->failures++;
		hc_store_release(t->s, c);
		break;
	}
	return NULL;
}

static void test_skip_locked_work(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	struct hc_conn *c = hc_store_acquire(f->s, &err);
	struct taker t[4];
	pthread_t th[4];
	int64_t n = -1;
	int total = 0;

	assert_int_equal(hc_exec_script(c, "CREATE TABLE outbox (seq INTEGER "
					   "PRIMARY KEY, taker INTEGER, takes "
					   "INTEGER NOT NULL DEFAULT 0)",
					&err),
			 HC_OK);
	for (int i = 1; i <= 200; i++) {
		struct hc_value p[] = { hc_vint(i) };
		assert_int_equal(hc_exec(c, "INSERT INTO outbox (seq) VALUES "
					    "(?)",
					 p, 1, &err),
				 HC_OK);
	}
	if (tu_pg()) {
		/* a row locked by one transaction is skipped by another */
		struct hc_conn *c2 = hc_store_acquire(f->s, &err);
		int64_t first = 0;
		assert_int_equal(hc_tx_begin(c, true, &err), HC_OK);
		assert_int_equal(hc_query_int(c, &first,
					      "SELECT seq FROM outbox ORDER BY "
					      "seq LIMIT 1 FOR UPDATE SKIP "
					      "LOCKED",
					      NULL, 0, &err),
				 HC_OK);
		assert_int_equal(first, 1);
		assert_int_equal(hc_tx_begin(c2, true, &err), HC_OK);
		assert_int_equal(hc_query_int(c2, &first,
					      "SELECT seq FROM outbox ORDER BY "
					      "seq LIMIT 1 FOR UPDATE SKIP "
					      "LOCKED",
					      NULL, 0, &err),
				 HC_OK);
		assert_int_equal(first, 2);
		hc_tx_rollback(c2);
		hc_tx_rollback(c);
		hc_store_release(f->s, c2);
	}
	hc_store_release(f->s, c);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct taker){ f->s, i + 1, 0, 0 };
		pthread_create(&th[i], NULL, taker_main, &t[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].failures, 0);
		total += t[i].taken;
	}
	assert_int_equal(total, 200);
	c = hc_store_acquire(f->s, &err);
	assert_int_equal(hc_query_int(c, &n,
				      "SELECT count(*) FROM outbox WHERE takes "
				      "<> 1 OR taker IS NULL",
				      NULL, 0, &err),
			 HC_OK);
	assert_int_equal(n, 0); /* every row taken exactly once */
	hc_store_release(f->s, c);
}

/* ---- named locks and leaders ---------------------------------------------- */

static void test_locks_and_leaders(void **state)
{
	struct fixture *f = *state;
	struct hc_store *other = NULL;
	struct hc_leader *a = NULL, *b = NULL;
	struct hc_err err = { 0 };
	struct hc_conn *c1, *c2;
	bool got = false;

	/* a second store on the same database stands for another process */
	assert_int_equal(hc_store_open(&other, tu_db_url(f->dir, "t.db"), NULL,
				       &err),
			 HC_OK);
	c1 = hc_store_acquire(f->s, &err);
	c2 = hc_store_acquire(other, &err);
	assert_int_equal(hc_lock_try(c1, "t.one", &got, &err), HC_OK);
	assert_true(got);
	assert_int_equal(hc_lock_try(c2, "t.one", &got, &err), HC_OK);
	assert_false(got);
	assert_int_equal(hc_lock_try(c2, "t.two", &got, &err), HC_OK);
	assert_true(got);
	assert_int_equal(hc_lock_release(c1, "t.one", &err), HC_OK);
	assert_int_equal(hc_lock_try(c2, "t.one", &got, &err), HC_OK);
	assert_true(got);
	hc_lock_release(c2, "t.one", &err);
	hc_lock_release(c2, "t.two", &err);
	hc_store_release(f->s, c1);
	hc_store_release(other, c2);

	assert_int_equal(hc_leader_open(&a, f->s, "t.sched", &err), HC_OK);
	assert_int_equal(hc_leader_open(&b, other, "t.sched", &err), HC_OK);
	assert_true(hc_leader_check(a));
	assert_false(hc_leader_check(b));
	assert_true(hc_leader_check(a)); /* and stays so */
	assert_false(hc_leader_check(b));
	hc_leader_close(a); /* the leader goes: the other takes over */
	assert_true(hc_leader_check(b));
	hc_leader_close(b);
	hc_store_close(other);
}

static void test_statement_timeout(void **state)
{
	struct hc_store *s = NULL;
	struct hc_err err = { 0 };
	struct hc_conn *c;
	char url[600];
	char *dir = tu_tempdir();

	if (!tu_pg()) {
		tu_rmtree(dir);
		skip();
	}
	snprintf(url, sizeof(url), "%s?statement_timeout=200&pool_size=2",
		 tu_db_url(dir, "st.db"));
	assert_int_equal(hc_store_open(&s, url, NULL, &err), HC_OK);
	assert_int_equal(hc_store_pool_size(s), 2);
	c = hc_store_acquire(s, &err);
	assert_int_equal(hc_exec(c, "SELECT pg_sleep(5)", NULL, 0, &err),
			 HC_EBUSY);
	assert_non_null(strstr(err.msg, "timeout"));
	hc_store_release(s, c);
	hc_store_close(s);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test_setup_teardown(test_file_mode_and_pragmas,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_parameters, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup,
						teardown),
		cmocka_unit_test(test_pool_concurrent_writers),
		cmocka_unit_test(test_pool_exhausted_is_busy),
		cmocka_unit_test_setup_teardown(test_group_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrations, setup,
						teardown),
		cmocka_unit_test(test_dialect_text),
		cmocka_unit_test_setup_teardown(test_skip_locked_work, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_locks_and_leaders, setup,
						teardown),
		cmocka_unit_test(test_statement_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
