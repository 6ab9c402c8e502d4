/*
 * db.c - `foshub db status | migrate HUB`: a hub's schema, for operators.
 *
 * status says, per component of the hub (core, dev, ...), the version the
 * database is at and the one this binary knows, and lists the pending
 * steps; it changes nothing. migrate applies them (as `serve` does when it
 * starts), one transaction per step, one migrating process at a time. Both
 * refuse a database newer than the binary: run the newer foshub.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int parse(const struct cli_command *cmd, int argc, char **argv,
		 const struct hc_hub_def **def, const char **db)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	*db = NULL;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			*db = optarg;
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
		return cli_usage_error(cmd, "no hub given (one of: %s)",
				       cli_hub_names());
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "one hub, not '%s' too",
				       argv[optind + 1]);
	*def = cli_hub(argv[optind]);
	if (!*def)
		return cli_usage_error(cmd, "unknown hub '%s' (one of: %s)",
				       argv[optind], cli_hub_names());
	*db = cli_db(*db, *def);
	return -1;
}

/* Print each component's state; *pending and *newer count problems. */
static int report(struct hc_conn *c, const struct hc_hub_def *def,
		  int *pending, int *newer, struct hc_err *err)
{
	bool exists = false;
	int rc = hc_table_exists(c, "schema_migrations", &exists, err);
	*pending = *newer = 0;
	for (size_t i = 0; rc == HC_OK && i < def->nmigrations; i++) {
		const struct hc_migration_set *set = def->migrations[i];
		int v = 0;
		if (exists)
			rc = hc_schema_version(c, set->component, &v, err);
		if (rc != HC_OK)
			break;
		if (v > (int)set->count) {
			printf("%-6s %d, newer than this binary (knows %zu): "
			       "upgrade foshub\n",
			       set->component, v, set->count);
			(*newer)++;
			continue;
		}
		printf("%-6s %d of %zu%s\n", set->component, v, set->count,
		       v == (int)set->count ? ", up to date" : "");
		for (size_t k = (size_t)v; k < set->count; k++) {
			printf("       pending %d %s\n", set->steps[k].version,
			       set->steps[k].name);
			(*pending)++;
		}
	}
	return rc;
}

int cli_db_status(const struct cli_command *cmd, int argc, char **argv)
{
	const struct hc_hub_def *def = NULL;
	struct hc_store_options opt = { .pool_size = 1 };
	struct hc_store *s = NULL;
	struct hc_err err = { 0 };
	struct hc_conn *c;
	const char *db;
	int pending = 0, newer = 0, rc;

	rc = parse(cmd, argc, argv, &def, &db);
	if (rc >= 0)
		return rc;
	if (hc_store_open(&s, db, &opt, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	printf("database %s (%s)\n", hc_store_url(s),
	       hc_store_dialect(s)->name);
	c = hc_store_acquire(s, &err);
	rc = c ? report(c, def, &pending, &newer, &err) : err.status;
	hc_store_release(s, c);
	hc_store_close(s);
	if (rc != HC_OK) {
		cli_error(&err);
		return 1;
	}
	if (newer || pending)
		printf("%d step%s pending%s\n", pending, pending == 1 ? "" : "s",
		       newer ? "; the database is newer than this binary" : "");
	return newer || pending ? 1 : 0;
}

int cli_db_migrate(const struct cli_command *cmd, int argc, char **argv)
{
	const struct hc_hub_def *def = NULL;
	struct hc_store_options opt = { .pool_size = 2 };
	struct hc_store *s = NULL;
	struct hc_err err = { 0 };
	struct hc_conn *c;
	const char *db;
	int applied = 0, pending = 0, newer = 0, rc;

	rc = parse(cmd, argc, argv, &def, &db);
	if (rc >= 0)
		return rc;
	if (hc_store_open(&s, db, &opt, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	rc = hc_migrate(s, def->migrations, def->nmigrations, &applied, &err);
	if (rc != HC_OK) {
		hc_store_close(s);
		cli_error(&err);
		return 1;
	}
	printf("applied %d step%s to %s\n", applied, applied == 1 ? "" : "s",
	       hc_store_url(s));
	c = hc_store_acquire(s, &err);
	rc = c ? report(c, def, &pending, &newer, &err) : err.status;
	hc_store_release(s, c);
	hc_store_close(s);
	if (rc != HC_OK) {
		cli_error(&err);
		return 1;
	}
	return 0;
}
