/*
 * devtools.c - dev-hub's operator commands: `workplan check`, `workplan
 * fix`, `rules render`, `mcp-config migrate` and `mcp-config add`. The
 * work is done by dev-hub's library (devhub/consistency.c, rules.c,
 * mcpconfig.c); these parse options, open the database and print.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "devhub/devhub.h"
#include "devhub/fileedit.h"
#include "devhub/mcpconfig.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

static int open_dev(const char *db, struct hc_hub **hub)
{
	struct hc_hub_config cfg = { .log_level = HC_LOG_WARN };
	struct hc_err err = { 0 };
	cfg.db_url = cli_db(db, &devhub_def);
	if (hc_hub_open(hub, &devhub_def, &cfg, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	return 0;
}

static void host_name(const char *opt, char *out, size_t size)
{
	if (opt) {
		snprintf(out, size, "%s", opt);
		return;
	}
	if (gethostname(out, size) != 0)
		out[0] = '\0';
	out[size - 1] = '\0';
}

/* Every registered repo (all pages). */
static int all_repos(struct hc_conn *c, json_t **out, struct hc_err *err)
{
	struct hc_list_query q = { .limit = HC_LIST_MAX_LIMIT };
	char cur[HC_CURSOR_MAX + 1];
	json_t *all = json_array(), *page = NULL;
	int rc;
	do {
		size_t i;
		json_t *row;
		rc = hc_res_list(c, &hc_repo_resource, &q, &page, err);
		if (rc != HC_OK)
			break;
		json_array_foreach(json_object_get(page, "items"), i, row)
			json_array_append(all, row);
		q.cursor = NULL;
		if (hc_json_str(page, "next_cursor")) {
			snprintf(cur, sizeof(cur), "%s",
				 hc_json_str(page, "next_cursor"));
			q.cursor = cur;
		}
		json_decref(page);
	} while (q.cursor);
	if (rc != HC_OK) {
		json_decref(all);
		return rc;
	}
	*out = all;
	return HC_OK;
}

static void print_report(const struct dh_report *rep)
{
	for (size_t i = 0; i < rep->n; i++)
		puts(rep->v[i].text);
}

/* ---- workplan check / fix ------------------------------------------------------ */

struct wp_opts {
	const char *db, *host;
	bool fix;
	struct dh_fix_opts fo;
};

static int run_on_files(struct hc_conn *c, const struct wp_opts *o,
			char *const *files, size_t n, const char *repo,
			const char *where, struct dh_report *rep,
			struct hc_err *err)
{
	return o->fix ? dh_wp_fix(c, files, n, &o->fo, rep, err)
		      : dh_wp_check(c, files, n, repo, where, rep, err);
}

/*
 * Nothing was looked at: no workplan file in the PATHs given, or no PATH
 * and no registered repo with a path on this machine. Say so and how to
 * name something, rather than "0 findings"; exit status 2, as for a
 * usage error, since nothing can be vouched for.
 */
static int nothing_to_check(const struct cli_command *cmd, bool paths_given,
			    const char *host)
{
	const char *verb = strchr(cmd->name, ' ') + 1;
	if (paths_given)
		fprintf(stderr, "foshub: nothing to %s: no workplan files "
				"(*.md, *.txt) in the paths given\n",
			verb);
	else
		fprintf(stderr,
			"foshub: nothing to %s: no PATH given, and no repo "
			"registered in dev-hub's database has a path on this "
			"machine (%s)\n"
			"name workplan files or directories: foshub %s "
			"PATH...\n"
			"or register repos with their path here (POST /repos "
			"with host_paths, MCP register_repo; "
			"docs/operator.md)\n",
			verb, host, cmd->name);
	return 2;
}

static int cli_workplan_consistency(const struct cli_command *cmd, int argc,
				    char **argv, bool fix)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "host", required_argument, NULL, 'H' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "prune", no_argument, NULL, 'p' },
		{ "no-backup", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wp_opts o = { .fix = fix, .fo = { .backup = true } };
	struct dh_report rep = { 0 };
	struct hc_err err = { 0 };
	struct hc_hub *hub = NULL;
	struct hc_conn *c = NULL;
	char host[256];
	int ch, rc = HC_OK, status;
	size_t files = 0, repos_here = 0;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o.db = optarg;
			break;
		case 'H':
			o.host = optarg;
			break;
		case 'n':
		case 'p':
		case 'B':
			if (!fix)
				return cli_usage_error(cmd, "'%s' is an option "
							    "of workplan fix",
						       argv[optind - 1]);
			if (ch == 'n')
				o.fo.dry_run = true;
			else if (ch == 'p')
				o.fo.prune = true;
			else
				o.fo.backup = false;
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
	host_name(o.host, host, sizeof(host));
	if (open_dev(o.db, &hub))
		return 1;
	c = hc_store_acquire(hub->store, &err);
	if (!c) {
		cli_error(&err);
		hc_hub_close(hub);
		return 1;
	}
	if (optind < argc) {
		struct dh_paths paths = { 0 };
		for (int i = optind; rc == HC_OK && i < argc; i++)
			rc = dh_paths_add(&paths, argv[i], &err);
		files = paths.n;
		if (rc == HC_OK)
			rc = run_on_files(c, &o, paths.v, paths.n, NULL, NULL,
					  &rep, &err);
		dh_paths_release(&paths);
	} else {
		/* every registered repo, its workplan directories */
		json_t *repos = NULL, *repo;
		size_t i;
		rc = all_repos(c, &repos, &err);
		json_array_foreach(repos, i, repo)
		{
			struct dh_paths paths = { 0 };
			const char *root = dh_repo_path(repo, host);
			if (rc != HC_OK)
				break;
			if (!root) {
				fprintf(stderr,
					"foshub: repo %s has no path on this "
					"machine (%s); skipped\n",
					hc_json_str(repo, "name"), host);
				continue;
			}
			repos_here++;
			for (const char *const *d = dh_workplan_dirs; *d;
			     d++) {
				char *p = NULL;
				struct stat st;
				struct hc_err e2 = { 0 };
				if (asprintf(&p, "%s/%s", root, *d) < 0)
					continue;
				if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
					dh_paths_add(&paths, p, &e2);
				free(p);
			}
			files += paths.n;
			rc = run_on_files(c, &o, paths.v, paths.n,
					  hc_json_str(repo, "name"), root,
					  &rep, &err);
			dh_paths_release(&paths);
		}
		json_decref(repos);
	}
	hc_store_release(hub->store, c);
	hc_hub_close(hub);
	print_report(&rep);
	if (rc != HC_OK) {
		cli_error(&err);
		dh_report_release(&rep);
		return 1;
	}
	if (optind < argc ? files == 0 : repos_here == 0) {
		dh_report_release(&rep);
		return nothing_to_check(cmd, optind < argc, host);
	}
	if (!fix)
		fprintf(stderr, "foshub: %zu finding%s in %zu file%s\n",
			rep.findings, rep.findings == 1 ? "" : "s", files,
			files == 1 ? "" : "s");
	status = rep.findings ? 1 : 0;
	dh_report_release(&rep);
	return status;
}

int cli_workplan_check(const struct cli_command *cmd, int argc, char **argv)
{
	return cli_workplan_consistency(cmd, argc, argv, false);
}

int cli_workplan_fix(const struct cli_command *cmd, int argc, char **argv)
{
	return cli_workplan_consistency(cmd, argc, argv, true);
}

/* ---- rules render ---------------------------------------------------------------- */

int cli_rules_render(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "host", required_argument, NULL, 'H' },
		{ "dev-url", required_argument, NULL, 'D' },
		{ "ops-url", required_argument, NULL, 'O' },
		{ "template", required_argument, NULL, 't' },
		{ "target", required_argument, NULL, 'T' },
		{ "repo", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dh_rules_opts o = { 0 };
	const char *db = NULL, *host_opt = NULL, *tmpl_path = NULL;
	const char *only[64];
	size_t nonly = 0, i;
	char host[256], *tmpl = NULL;
	struct hc_err err = { 0 };
	struct hc_hub *hub = NULL;
	struct hc_conn *c;
	json_t *repos = NULL, *repo;
	int ch, failed = 0, changed = 0, rc;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'H':
			host_opt = optarg;
			break;
		case 'D':
			o.dev_url = optarg;
			break;
		case 'O':
			o.ops_url = optarg;
			break;
		case 't':
			tmpl_path = optarg;
			break;
		case 'T':
			o.target = optarg;
			break;
		case 'r':
			if (nonly == HC_COUNT(only))
				return cli_usage_error(cmd, "too many --repo");
			only[nonly++] = optarg;
			break;
		case 'n':
			o.dry_run = true;
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
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	if (o.target && dh_rel_path_check(o.target, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	if (tmpl_path) {
		struct stat st;
		if (dh_file_read(tmpl_path, 1 << 20, &tmpl, &o.template_len,
				 &st, &err) != HC_OK) {
			cli_error(&err);
			return 1;
		}
		o.template_text = tmpl;
		o.template_name = tmpl_path;
	}
	host_name(host_opt, host, sizeof(host));
	o.host = host;
	if (open_dev(db, &hub)) {
		free(tmpl);
		return 1;
	}
	c = hc_store_acquire(hub->store, &err);
	rc = c ? all_repos(c, &repos, &err) : err.status;
	if (rc != HC_OK) {
		cli_error(&err);
		failed = 1;
	}
	json_array_foreach(repos, i, repo)
	{
		struct dh_rules_result res;
		bool wanted = nonly == 0;
		for (size_t k = 0; k < nonly; k++)
			wanted = wanted ||
				 strcmp(only[k], hc_json_str(repo, "name")) == 0;
		if (!wanted)
			continue;
		hc_err_clear(&err);
		if (dh_rules_render_repo(c, repo, &o, &res, &err) != HC_OK) {
			char msg[1024];
			fprintf(stderr, "foshub: error: repo %s: %s\n",
				hc_json_str(repo, "name"),
				hc_err_format(&err, msg, sizeof(msg)));
			failed = 1;
			continue;
		}
		if (res.outcome != DH_RULES_UNCHANGED)
			changed++;
		printf("%s%s %s (repo %s)\n", o.dry_run ? "would be " : "",
		       dh_rules_outcome_name(res.outcome), res.path, res.repo);
	}
	json_decref(repos);
	if (c)
		hc_store_release(hub->store, c);
	hc_hub_close(hub);
	free(tmpl);
	fprintf(stderr, "foshub: %d rule file%s %s\n", changed,
		changed == 1 ? "" : "s",
		o.dry_run ? "would change" : "changed");
	return failed;
}

/* ---- mcp-config ------------------------------------------------------------------- */

/* The line numbers (1-based) of byte offsets at and at+del. */
static void edit_lines(const struct dh_lines *l, size_t at, size_t end,
		       int *first, int *last)
{
	*first = *last = l->n ? l->n : 1;
	for (int i = 1; i <= l->n; i++) {
		if (at < l->next[i] || i == l->n) {
			*first = i;
			break;
		}
	}
	for (int i = *first; i <= l->n; i++) {
		if (end <= l->end[i] || i == l->n) {
			*last = i;
			break;
		}
	}
}

static int cmp_edit_at(const void *a, const void *b)
{
	const struct dh_edit *x = *(const struct dh_edit *const *)a;
	const struct dh_edit *y = *(const struct dh_edit *const *)b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Print bytes [p, end) of the edited text, prefixing "+" after each
 * newline; line endings are shown as "\n", as the "-" lines are. */
static void put_plus(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			continue;
		putchar(*p);
		if (*p == '\n')
			putchar('+');
	}
}

/* Show the edits as the lines they touch, before and after, in file
 * order; edits on the same or adjacent lines make one hunk. */
static void print_diff(const char *data, size_t len,
		       const struct dh_edits *edits)
{
	struct dh_lines l;
	const struct dh_edit **v;
	if (!edits->n || dh_lines_split(&l, data, len) != HC_OK)
		return;
	v = malloc(edits->n * sizeof(*v));
	if (!v || !l.n) {
		free(v);
		dh_lines_release(&l);
		return;
	}
	for (size_t k = 0; k < edits->n; k++)
		v[k] = &edits->v[k];
	qsort(v, edits->n, sizeof(*v), cmp_edit_at);
	for (size_t k = 0; k < edits->n;) {
		size_t j = k + 1, from, to, pos;
		int first, last, f2, l2;
		edit_lines(&l, v[k]->at, v[k]->at + v[k]->del, &first, &last);
		while (j < edits->n) {
			edit_lines(&l, v[j]->at, v[j]->at + v[j]->del, &f2,
				   &l2);
			if (f2 > last + 1)
				break;
			if (l2 > last)
				last = l2;
			j++;
		}
		from = l.start[first];
		to = l.end[last];
		printf("@@ line %d @@\n", first);
		for (int i = first; i <= last; i++)
			printf("-%.*s\n", (int)(l.end[i] - l.start[i]),
			       data + l.start[i]);
		printf("+");
		pos = from;
		for (size_t i = k; i < j; i++) {
			put_plus(data + pos, data + v[i]->at);
			put_plus(v[i]->text, v[i]->text + strlen(v[i]->text));
			pos = v[i]->at + v[i]->del;
		}
		put_plus(data + pos, data + (to > pos ? to : pos));
		putchar('\n');
		k = j;
	}
	free(v);
	dh_lines_release(&l);
}

static void default_config(char *out, size_t size)
{
	const char *home = getenv("HOME");
	snprintf(out, size, "%s/.claude.json", home && *home ? home : ".");
}

/* PATH.bak-YYYYmmddTHHMMSSZ, or with -N when taken. */
static void backup_name(const char *path, char *out, size_t size)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	struct stat st;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, size, "%s.bak-%s", path, stamp);
	for (int i = 2; stat(out, &st) == 0 && i < 100; i++)
		snprintf(out, size, "%s.bak-%s-%d", path, stamp, i);
}

/* Write new over path (backup first), or show the change on dry runs. */
static int finish_config(const char *path, const char *data, size_t len,
			 const char *out, size_t out_len,
			 const struct dh_edits *edits, bool dry_run,
			 bool exists, const struct stat *st)
{
	struct hc_err err = { 0 };
	char backup[PATH_MAX + 40];
	if (out_len == len && memcmp(out, data, len) == 0) {
		printf("%s: nothing to change\n", path);
		return 0;
	}
	if (dry_run) {
		print_diff(data, len, edits);
		printf("%s: not written (--dry-run)\n", path);
		return 0;
	}
	if (!exists) {
		FILE *f = fopen(path, "wx");
		if (!f || fwrite(out, 1, out_len, f) != out_len ||
		    fclose(f) != 0) {
			fprintf(stderr, "foshub: error: %s: cannot create\n",
				path);
			return 1;
		}
		chmod(path, 0600);
		printf("%s: created\n", path);
		return 0;
	}
	backup_name(path, backup, sizeof(backup));
	if (dh_file_replace(path, out, out_len, backup, st, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	printf("%s: written (backup %s)\n", path, backup);
	return 0;
}

int cli_mcp_config_migrate(const struct cli_command *cmd, int argc,
			   char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char path[PATH_MAX], *data = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	struct dh_report rep = { 0 };
	struct dh_edits edits = { 0 };
	struct hc_err err = { 0 };
	struct stat st;
	bool dry_run = false;
	int ch, status = 1;

	default_config(path, sizeof(path));
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			snprintf(path, sizeof(path), "%s", optarg);
			break;
		case 'n':
			dry_run = true;
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
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	if (dh_file_read(path, 256u << 20, &data, &len, &st, &err) != HC_OK ||
	    dh_mcpcfg_migrate(path, data, len, &out, &out_len, &rep, &edits,
			      &err) != HC_OK) {
		cli_error(&err);
		goto out;
	}
	print_report(&rep);
	status = finish_config(path, data, len, out, out_len, &edits, dry_run,
			       true, &st);
out:
	dh_report_release(&rep);
	dh_edits_release(&edits);
	free(data);
	free(out);
	return status;
}

int cli_mcp_config_add(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "transport", required_argument, NULL, 't' },
		{ "project", required_argument, NULL, 'p' },
		{ "bin", required_argument, NULL, 'b' },
		{ "var", required_argument, NULL, 'v' },
		{ "base-port", required_argument, NULL, 'P' },
		{ "hubs", required_argument, NULL, 'H' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char path[PATH_MAX], bin[PATH_MAX], var[PATH_MAX], *data = NULL;
	char *out = NULL;
	const char *transport = "stdio", *project = NULL, *bin_opt = NULL;
	const char *var_opt = "var", *only = NULL;
	size_t len = 0, out_len = 0, n = 0;
	struct dh_mcpcfg_entry entries[16];
	json_t *values[16];
	struct dh_report rep = { 0 };
	struct dh_edits edits = { 0 };
	struct hc_err err = { 0 };
	struct stat st;
	bool dry_run = false, exists = true;
	long base = 8000;
	int ch, status = 1;

	default_config(path, sizeof(path));
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			snprintf(path, sizeof(path), "%s", optarg);
			break;
		case 't':
			transport = optarg;
			if (strcmp(transport, "stdio") != 0 &&
			    strcmp(transport, "http") != 0)
				return cli_usage_error(cmd,
						       "--transport must be "
						       "stdio or http, not "
						       "'%s'",
						       transport);
			break;
		case 'p':
			project = optarg;
			break;
		case 'b':
			bin_opt = optarg;
			break;
		case 'v':
			var_opt = optarg;
			break;
		case 'P': {
			char *end;
			base = strtol(optarg, &end, 10);
			if (*end || base < 1 || base > 65000)
				return cli_usage_error(cmd,
						       "--base-port must be 1 "
						       "to 65000");
			break;
		}
		case 'H':
			only = optarg;
			break;
		case 'n':
			dry_run = true;
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
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	if (bin_opt)
		snprintf(bin, sizeof(bin), "%s", bin_opt);
	else if (!realpath("/proc/self/exe", bin))
		snprintf(bin, sizeof(bin), "foshub");
	if (!realpath(var_opt, var))
		snprintf(var, sizeof(var), "%s", var_opt);
	for (size_t i = 0; i < cli_hub_count() && n < HC_COUNT(entries); i++) {
		const struct hc_hub_def *def = cli_hub_at(i);
		if (!def->mcp || (only && !cli_list_has(only, def->short_name)))
			continue;
		if (strcmp(transport, "http") == 0) {
			char url[128];
			snprintf(url, sizeof(url), "http://127.0.0.1:%ld/mcp",
				 base + cli_hub_port_offset(def));
			values[n] = json_pack("{ssss}", "type", "http", "url",
					      url);
		} else {
			char db[PATH_MAX + 80];
			snprintf(db, sizeof(db), "sqlite:%s/%s.db", var,
				 def->name);
			values[n] = json_pack("{sssss[ssss]s{}}", "type",
					      "stdio", "command", bin, "args",
					      "mcp", def->short_name, "--db", db,
					      "env");
		}
		entries[n].name = def->name;
		entries[n].value = values[n];
		n++;
	}
	if (!n) {
		fprintf(stderr, "foshub: error: no hub with MCP to register\n");
		return 1;
	}
	if (dh_file_read(path, 256u << 20, &data, &len, &st, &err) ==
	    HC_ENOTFOUND) {
		exists = false;
		free(data);
		data = strdup("{}\n");
		len = 3;
		hc_err_clear(&err);
	} else if (err.status) {
		cli_error(&err);
		goto out;
	}
	if (dh_mcpcfg_add(path, data, len, project, entries, n, &out, &out_len,
			  &rep, &edits, &err) != HC_OK) {
		cli_error(&err);
		goto out;
	}
	print_report(&rep);
	status = finish_config(path, data, len, out, out_len, &edits, dry_run,
			       exists, &st);
out:
	for (size_t i = 0; i < n; i++)
		json_decref(values[i]);
	dh_report_release(&rep);
	dh_edits_release(&edits);
	free(data);
	free(out);
	return status;
}
