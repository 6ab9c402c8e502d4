/*
 * fin.c - `foshub fin import KIND FILE...`: cost and token files into
 * fin-hub's database, one transaction per file.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "finhub/finhub.h"
#include "hubcore/buf.h"

#define FILE_MAX (512u * 1024 * 1024)
#define DEPTH_MAX 16

struct fin_run {
	struct hc_hub *hub;
	enum fin_import_kind kind;
	struct fin_import_opts opts;
};

static int read_all(const char *path, struct hc_buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = HC_OK;
	if (!f)
		return HC_EIO;
	while (rc == HC_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = hc_buf_add(b, chunk, n);
	if (ferror(f))
		rc = HC_EIO;
	fclose(f);
	return rc;
}

static int import_file(struct fin_run *run, const char *path)
{
	struct hc_buf data = HC_BUF_INIT(FILE_MAX);
	struct fin_import_result res = { 0 };
	struct hc_err err = { 0 };
	struct hc_conn *c;
	int rc = read_all(path, &data);
	if (rc != HC_OK) {
		fprintf(stderr, "foshub: error: %s: %s\n", path,
			rc == HC_ETOOBIG ? "file too large"
					 : strerror(errno ? errno : EIO));
		hc_buf_release(&data);
		return 1;
	}
	c = hc_store_acquire(run->hub->store, &err);
	rc = c ? fin_import(c, run->kind, path, data.data ? data.data : "",
			    data.len, &run->opts, &res, &err)
	       : err.status;
	hc_store_release(run->hub->store, c);
	hc_buf_release(&data);
	for (size_t i = 0; i < res.nbad; i++) {
		const struct fin_bad_row *b = &res.bad[i];
		if (b->line)
			fprintf(stderr, "%s:%d: %s%s\n", path, b->line,
				rc == HC_OK ? "skipped: " : "", b->reason);
		else
			fprintf(stderr, "%s: %s: %s%s\n", path, b->where,
				rc == HC_OK ? "skipped: " : "", b->reason);
	}
	if (rc != HC_OK) {
		cli_error(&err);
		fin_import_result_release(&res);
		return 1;
	}
	printf("imported %s (%s): %d rows, %d new, %d already there, %d "
	       "updated, %zu bad skipped, %d lines without costs\n",
	       path, fin_import_kind_name(run->kind), res.rows, res.created,
	       res.duplicates, res.updated, res.nbad, res.skipped);
	fin_import_result_release(&res);
	return 0;
}

static bool wanted_name(enum fin_import_kind kind, const char *name)
{
	const char *ext = fin_import_kind_ext(kind);
	size_t n = strlen(name), e = strlen(ext);
	return name[0] != '.' && n > e && strcmp(name + n - e, ext) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Import the matching files of a directory and its subdirectories (the
 * Claude Code projects folder has one per project), in name order. */
static int import_dir(struct fin_run *run, const char *dir, int depth,
		      int *found)
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
		if (e->d_name[0] == '.')
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
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		const char *base = strrchr(paths[i], '/') + 1;
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (depth < DEPTH_MAX)
				failed |= import_dir(run, paths[i], depth + 1,
						     found);
		} else if (wanted_name(run->kind, base)) {
			(*found)++;
			failed |= import_file(run, paths[i]);
		}
		free(paths[i]);
	}
	free(paths);
	return failed;
}

int cli_fin_import(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "domain", required_argument, NULL, 'D' },
		{ "skip-bad", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hc_hub_config cfg = { .log_level = HC_LOG_WARN };
	struct fin_run run = { 0 };
	const char *db = NULL;
	struct hc_err err = { 0 };
	int c, failed = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'D':
			run.opts.domain = optarg;
			break;
		case 's':
			run.opts.skip_bad = true;
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
		return cli_usage_error(cmd, "which kind? one of: %s",
				       fin_import_kind_list);
	if (!fin_import_kind_parse(argv[optind], &run.kind))
		return cli_usage_error(cmd, "unknown kind '%s'; one of: %s",
				       argv[optind], fin_import_kind_list);
	if (optind + 1 >= argc)
		return cli_usage_error(cmd, "no files given");
	cfg.db_url = cli_db(db, &finhub_def);
	if (hc_hub_open(&run.hub, &finhub_def, &cfg, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	for (int i = optind + 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "foshub: error: %s: no such file\n",
				argv[i]);
			failed = 1;
		} else if (S_ISDIR(st.st_mode)) {
			int found = 0;
			failed |= import_dir(&run, argv[i], 0, &found);
			if (!found) {
				fprintf(stderr,
					"foshub: error: %s: no files to import "
					"(*%s)\n",
					argv[i], fin_import_kind_ext(run.kind));
				failed = 1;
			}
		} else {
			failed |= import_file(&run, argv[i]);
		}
	}
	hc_hub_close(run.hub);
	return failed;
}
