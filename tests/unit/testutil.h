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
/* "sqlite:<dir>/<name>" in a static buffer. */
const char *tu_db_url(const char *dir, const char *name);

#endif
