/*
 * testutil.c - helpers shared by the unit tests.
 *
 * Databases: with FOSHUB_TEST_PG set to the URL of a PostgreSQL cluster
 * (make test starts a throwaway one, see tests/pg/cluster.sh), every
 * database a test asks for is a fresh PostgreSQL database on it, dropped
 * when the test's directory is removed; otherwise a SQLite file in the
 * test's directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hubcore/store.h"
#include "testutil.h"

#define MAX_DBS 64

static struct {
	char dir[256];
	char file[64];
	char name[64];
} made[MAX_DBS];
static int nmade;

char *tu_tempdir(void)
{
	char tmpl[] = "/tmp/foshub-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void admin_exec(const char *sql)
{
	struct hc_store *s = NULL;
	struct hc_store_options opt = { .pool_size = 1 };
	struct hc_err err = { 0 };
	struct hc_conn *c;
	if (hc_store_open(&s, getenv("FOSHUB_TEST_PG"), &opt, &err) != HC_OK)
		fail_msg("cannot reach the test cluster: %s", err.msg);
	c = hc_store_acquire(s, &err);
	if (!c || hc_exec_script(c, sql, &err) != HC_OK)
		fail_msg("%s: %s", sql, err.msg);
	hc_store_release(s, c);
	hc_store_close(s);
}

void tu_rmtree(char *dir)
{
	char cmd[512];
	if (!dir)
		return;
	for (int i = 0; i < nmade; i++) {
		if (strcmp(made[i].dir, dir) != 0 || !made[i].name[0])
			continue;
		snprintf(cmd, sizeof(cmd), "DROP DATABASE %s WITH (FORCE)",
			 made[i].name);
		admin_exec(cmd);
		made[i].name[0] = '\0';
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

const char *tu_pg(void)
{
	const char *pg = getenv("FOSHUB_TEST_PG");
	return pg && *pg ? pg : NULL;
}

static const char *url_of(const char *pg, const char *db, char *url,
			  size_t size)
{
	const char *slash = strrchr(pg, '/');
	snprintf(url, size, "%.*s/%s", (int)(slash - pg), pg, db);
	return url;
}

const char *tu_db_url(const char *dir, const char *name)
{
	static char url[512];
	static unsigned counter;
	const char *pg = tu_pg();
	char sql[128];

	if (!pg) {
		snprintf(url, sizeof(url), "sqlite:%s/%s", dir, name);
		return url;
	}
	/* the same (dir, name) is the same database */
	for (int i = 0; i < nmade; i++)
		if (strcmp(made[i].dir, dir) == 0 && made[i].name[0] &&
		    strcmp(made[i].file, name) == 0)
			return url_of(pg, made[i].name, url, sizeof(url));
	assert_true(nmade < MAX_DBS);
	snprintf(made[nmade].dir, sizeof(made[nmade].dir), "%s", dir);
	snprintf(made[nmade].file, sizeof(made[nmade].file), "%s", name);
	snprintf(made[nmade].name, sizeof(made[nmade].name), "t_%d_%u",
		 (int)getpid(), counter++);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", made[nmade].name);
	admin_exec(sql);
	return url_of(pg, made[nmade++].name, url, sizeof(url));
}
