/*
 * ops.c - `foshub ops import-inventory FILE`: a service inventory into
 * ops-hub's database, in one transaction.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "opshub/opshub.h"

int cli_ops_import(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hc_hub_config cfg = { .log_level = HC_LOG_WARN };
	struct oh_inventory *inv = NULL;
	struct oh_import_result res;
	const char *db = NULL;
	struct hc_hub *hub = NULL;
	struct hc_conn *c;
	struct hc_err err = { 0 };
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
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
		return cli_usage_error(cmd, "no inventory file given");
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "one inventory file, not '%s' too",
				       argv[optind + 1]);
	rc = oh_inventory_parse_file(argv[optind], &inv, &err);
	if (rc != HC_OK) {
		cli_error(&err);
		return 1;
	}
	cfg.db_url = cli_db(db, &opshub_def);
	if (hc_hub_open(&hub, &opshub_def, &cfg, &err) != HC_OK) {
		cli_error(&err);
		oh_inventory_free(inv);
		return 1;
	}
	c = hc_store_acquire(hub->store, &err);
	rc = c ? oh_inventory_import(c, inv, &res, &err) : err.status;
	hc_store_release(hub->store, c);
	oh_inventory_free(inv);
	hc_hub_close(hub);
	if (rc != HC_OK) {
		cli_error(&err);
		return 1;
	}
	printf("imported %s: %d locations (%d new, %d updated), %d services "
	       "(%d new, %d updated), %d runbooks, %d access paths\n",
	       argv[optind], res.locations, res.locations_created,
	       res.locations_updated, res.services, res.services_created,
	       res.services_updated, res.runbooks, res.access_paths);
	return 0;
}
