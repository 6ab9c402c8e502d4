/*
 * mcp.c - `foshub mcp HUB`: a hub's MCP server over stdio, for clients
 * that start their servers as processes (Claude Code and others); and the
 * MCP options `serve` shares.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "hubcore/mcp.h"

int cli_mcp_open(struct hc_hub *hub, const struct cli_mcp_opts *o,
		 struct hc_err *err)
{
	struct hc_mcp_options opt = { 0 };
	const char *tools = o->tools ? o->tools : getenv("FOSHUB_MCP_TOOLS");
	if (!hub->def->mcp)
		return HC_OK;
	if (!tools || !*tools || strcmp(tools, "full") == 0)
		opt.tiers = HC_MCP_TIER_FULL;
	else if (strcmp(tools, "core") == 0)
		opt.tiers = HC_MCP_TIER_CORE;
	else
		opt.tool_list = tools;
	opt.test_fixtures = o->test_fixtures;
	return hc_mcp_server_new(&hub->mcp, hub, hub->def->mcp, &opt, err);
}

int cli_mcp(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "mcp-tools", required_argument, NULL, 'm' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hc_hub_config cfg = { .log_level = HC_LOG_WARN };
	struct cli_mcp_opts mcp = { 0 };
	const struct hc_hub_def *def;
	const char *db = NULL;
	struct hc_hub *hub = NULL;
	struct hc_err err = { 0 };
	char names[64];
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'm':
			mcp.tools = optarg;
			break;
		case 'v': {
			int lvl = hc_log_level_parse(optarg);
			if (lvl < 0)
				return cli_usage_error(cmd,
						       "--log-level must be "
						       "debug, info, warn or "
						       "error, not '%s'",
						       optarg);
			cfg.log_level = (enum hc_log_level)lvl;
			break;
		}
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
		return cli_usage_error(cmd, "which hub? one of: %s",
				       cli_mcp_hub_names(names, sizeof(names)));
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind + 1]);
	def = cli_hub(argv[optind]);
	if (!def)
		return cli_usage_error(cmd, "unknown hub '%s'; one of: %s",
				       argv[optind],
				       cli_mcp_hub_names(names, sizeof(names)));
	if (!def->mcp)
		return cli_usage_error(cmd, "%s has no MCP tools; one of: %s",
				       def->name,
				       cli_mcp_hub_names(names, sizeof(names)));
	cfg.db_url = cli_db(db, def);
	/* stdout carries the protocol and nothing else: logs go to stderr */
	if (hc_hub_open(&hub, def, &cfg, &err) != HC_OK ||
	    cli_mcp_open(hub, &mcp, &err) != HC_OK) {
		cli_error(&err);
		if (hub)
			hc_hub_close(hub);
		return 1;
	}
	hc_log_info(&hub->log, "%s %s serving MCP on stdio (database %s)",
		    def->name, hc_version(), cfg.db_url);
	/* a client that goes away must end the loop with EPIPE, not kill us */
	signal(SIGPIPE, SIG_IGN);
	rc = hc_mcp_serve_stdio(hub->mcp, STDIN_FILENO, STDOUT_FILENO, &err);
	if (rc != HC_OK)
		cli_error(&err);
	hc_mcp_server_free(hub->mcp);
	hc_hub_close(hub);
	return rc == HC_OK ? 0 : 1;
}
