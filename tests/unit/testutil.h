/*
 * testutil.h - helpers shared by the unit tests (cmocka).
 */
#ifndef FOSHUB_TESTUTIL_H
#define FOSHUB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* A fresh temporary directory for one test, removed by tu_rmtree. */
char *tu_tempdir(void);
void tu_rmtree(char *dir);
/* The URL of database <name> of a test directory, in a static buffer:
 * "sqlite:<dir>/<name>", or with $FOSHUB_TEST_PG set a new database on
 * that PostgreSQL cluster, dropped by tu_rmtree(dir). */
const char *tu_db_url(const char *dir, const char *name);
/* The PostgreSQL cluster the tests run against, or NULL for SQLite. */
const char *tu_pg(void);

#endif
