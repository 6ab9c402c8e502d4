/*
 * workplan.c - `foshub workplan import`: workplan files into dev-hub's
 * database, one transaction per file.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "devhub/devhub.h"

static bool workplan_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' &&
	       ((n > 3 && strcmp(name + n - 3, ".md") == 0) ||
		(n > 4 && strcmp(name + n - 4, ".txt") == 0));
}

/* The workplans of one run, so that two files claiming the same workplan
 * id are noticed instead of the second silently replacing the first. */
struct run {
	struct hc_hub *hub;
	char **ids;
	char **paths;
	size_t n, cap;
};

static const char *seen_in_run(const struct run *run, const char *id)
{
	for (size_t i = 0; i < run->n; i++)
		if (strcmp(run->ids[i], id) == 0)
			return run->paths[i];
	return NULL;
}

static void remember(struct run *run, const char *id, const char *path)
{
	if (run->n == run->cap) {
		size_t cap = run->cap ? run->cap * 2 : 16;
		char **ids = realloc(run->ids, cap * sizeof(*ids));
		char **paths = ids ? realloc(run->paths, cap * sizeof(*paths))
				   : NULL;
		if (ids)
			run->ids = ids;
		if (!ids || !paths)
			return;
		run->paths = paths;
		run->cap = cap;
	}
	run->ids[run->n] = strdup(id);
	run->paths[run->n] = strdup(path);
	if (run->ids[run->n] && run->paths[run->n])
		run->n++;
	else {
		free(run->ids[run->n]);
		free(run->paths[run->n]);
	}
}

static void run_release(struct run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		free(run->ids[i]);
		free(run->paths[i]);
	}
	free(run->ids);
	free(run->paths);
}

static int import_file(struct run *run, const char *path)
{
	struct hc_hub *hub = run->hub;
	struct dh_workplan *wp = NULL;
	struct dh_import_result res;
	struct hc_err err = { 0 };
	const char *first;
	struct hc_conn *c;
	int rc = dh_workplan_parse_file(path, &wp, &err);
	if (rc == HC_OK && (first = seen_in_run(run, wp->id)) != NULL)
		rc = hc_err_at(&err, HC_ECONFLICT, path, wp->meta_line, 0,
			       "workplan %s was already imported from %s in "
			       "this run; one workplan id, one file",
			       wp->id, first);
	if (rc == HC_OK) {
		c = hc_store_acquire(hub->store, &err);
		rc = c ? dh_workplan_import(c, wp, &res, &err) : err.status;
		hc_store_release(hub->store, c);
	}
	if (rc == HC_OK)
		remember(run, wp->id, path);
	dh_workplan_free(wp);
	if (rc != HC_OK) {
		if (!err.source[0])
			snprintf(err.source, sizeof(err.source), "%s", path);
		cli_error(&err);
		return 1;
	}
	printf("imported %s from %s: %d tasks (%d new, %d updated, %d "
	       "unchanged), %d decisions\n",
	       res.workstream, path, res.tasks, res.tasks_created,
	       res.tasks_updated, res.tasks_unchanged, res.decisions);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Import the workplan files of a directory, in name order. */
static int import_dir(struct run *run, const char *dir)
{
	char **paths = NULL;
	size_t n = 0, cap = 0;
	int failed = 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		fprintf(stderr, "foshub: error: %s: cannot read directory\n",
			dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		char *p;
		if (!workplan_name(e->d_name))
			continue;
		if (n == cap) {
			char **np;
			cap = cap ? cap * 2 : 16;
			np = realloc(paths, cap * sizeof(*paths));
			if (!np)
				break;
			paths = np;
		}
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			break;
		paths[n++] = p;
	}
	closedir(d);
	if (n)
		qsort(paths, n, sizeof(*paths), cmp_str);
	else {
		fprintf(stderr,
			"foshub: error: %s: no workplan files (*.md, *.txt)\n",
			dir);
		failed = 1;
	}
	for (size_t i = 0; i < n; i++) {
		failed |= import_file(run, paths[i]);
		free(paths[i]);
	}
	free(paths);
	return failed;
}

int cli_workplan_import(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hc_hub_config cfg = { .log_level = HC_LOG_WARN };
	const char *db = NULL;
	struct hc_hub *hub = NULL;
	struct hc_err err = { 0 };
	struct run run = { 0 };
	int c, failed = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'h':
			fputs(cmd->usage, stdout);
			return 0;
		default:
			return cli_usage_error(cmd, "unknown or incomplete "
						    "option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "no workplan files given");
	cfg.db_url = cli_db(db, &devhub_def);
	if (hc_hub_open(&hub, &devhub_def, &cfg, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	run.hub = hub;
	for (int i = optind; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "foshub: error: %s: no such file\n",
				argv[i]);
			failed = 1;
		} else if (S_ISDIR(st.st_mode)) {
			failed |= import_dir(&run, argv[i]);
		} else {
			failed |= import_file(&run, argv[i]);
		}
	}
	run_release(&run);
	hc_hub_close(hub);
	return failed;
}
