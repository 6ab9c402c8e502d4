/*
 * testutil.c - helpers shared by the unit tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

char *tu_tempdir(void)
{
	char tmpl[] = "/tmp/foshub-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

void tu_rmtree(char *dir)
{
	char cmd[512];
	if (!dir)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

const char *tu_db_url(const char *dir, const char *name)
{
	static char url[512];
	snprintf(url, sizeof(url), "sqlite:%s/%s", dir, name);
	return url;
}
