/*
 * serve.c - `foshub serve HUB`: open the hub's database, apply migrations,
 * serve its HTTP API until SIGINT or SIGTERM.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "hubcore/events.h"
#include "hubcore/mcp.h"
#include "hubcore/policy.h"
#include "hubcore/view.h"

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;
	if (!s || !*s || *s == '-')
		return false;
	v = strtoul(s, &end, 10);
	if (*end || v > max)
		return false;
	*out = v;
	return true;
}

int cli_serve(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "max-per-address", required_argument, NULL, 'a' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "policy-dir", required_argument, NULL, 'p' },
		{ "policy-writable", no_argument, NULL, 'w' },
		{ "mcp-tools", required_argument, NULL, 'm' },
		{ "mcp-test-fixtures", no_argument, NULL, 'F' },
		{ "no-mcp", no_argument, NULL, 'N' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		CLI_AUTH_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_mcp_opts mcp = { 0 };
	struct cli_auth_opts auth = { 0 };
	struct hc_hub_config cfg = { .log_level = HC_LOG_INFO };
	struct hc_server_options sopt = { 0 };
	const struct hc_hub_def *def;
	const char *listen = NULL, *db = NULL, *policy = NULL, *env;
	struct hc_hub *hub = NULL;
	struct hc_server *srv = NULL;
	struct hc_err err = { 0 };
	unsigned long v;
	sigset_t set;
	int c, sig = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 't':
			if (!parse_uint(optarg, 256, &v) || v == 0)
				return cli_usage_error(cmd,
						       "--threads must be 1 to "
						       "256, not '%s'",
						       optarg);
			cfg.threads = (unsigned)v;
			break;
		case 'b':
			if (!parse_uint(optarg, 1ul << 30, &v) || v == 0)
				return cli_usage_error(cmd,
						       "--max-body must be 1 to "
						       "1073741824 bytes, not "
						       "'%s'",
						       optarg);
			cfg.max_body = v;
			break;
		case 'a':
			if (!parse_uint(optarg, 1024, &v) || v == 0)
				return cli_usage_error(cmd,
						       "--max-per-address must "
						       "be 1 to 1024, not '%s'",
						       optarg);
			sopt.max_per_address = (unsigned)v;
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
		case 'p':
			policy = optarg;
			break;
		case 'w':
			cfg.policy_writable = true;
			break;
		case 'm':
			mcp.tools = optarg;
			break;
		case 'F':
			mcp.test_fixtures = true;
			break;
		case 'c':
			cfg.config_path = optarg;
			break;
		case 'N':
			mcp.disabled = true;
			break;
		case 'h':
			fputs(cmd->usage, stdout);
			return 0;
		default: {
			int r = cli_auth_option(cmd, &auth, c, optarg);
			if (r < 0)
				r = cli_usage_error(cmd, "unknown or "
							 "incomplete option "
							 "'%s'",
						    argv[optind - 1]);
			if (r) {
				cli_auth_release(&auth);
				return r;
			}
		}
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "which hub? one of: %s",
				       cli_hub_names());
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind + 1]);
	def = cli_hub(argv[optind]);
	if (!def)
		return cli_usage_error(cmd, "unknown hub '%s'; one of: %s",
				       argv[optind], cli_hub_names());
	env = getenv("FOSHUB_LISTEN");
	if (!listen)
		listen = env && *env ? env : def->default_listen;
	cfg.db_url = cli_db(db, def);
	cfg.listen = listen;
	if (hc_listen_check(listen, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	env = getenv("FOSHUB_POLICY_DIR");
	if (!policy && env && *env)
		policy = env;
	if (cfg.policy_writable && !policy)
		return cli_usage_error(cmd, "--policy-writable needs a policy "
					    "directory (--policy-dir or "
					    "FOSHUB_POLICY_DIR)");
	/* A missing directory is a mistake to report now, not on the first
	 * request. */
	if (policy && hc_policy_check_dir(policy, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	cfg.policy_dir = policy;

	/* Signals are taken by sigwait below, never by a worker thread:
	 * block them before any thread starts. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (hc_hub_open(&hub, def, &cfg, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	/* the hub's own start-up: configuration, background work */
	if (hc_hub_start(hub, &err) != HC_OK) {
		cli_error(&err);
		hc_hub_close(hub);
		return 1;
	}
	if (!mcp.disabled && cli_mcp_open(hub, &mcp, &err) != HC_OK) {
		cli_error(&err);
		hc_hub_close(hub);
		return 1;
	}
	/* identity checks exist before the first request can arrive */
	if (cli_auth_open(hub, &auth, listen, &err) != HC_OK) {
		cli_error(&err);
		hc_mcp_server_free(hub->mcp);
		hc_hub_close(hub);
		cli_auth_release(&auth);
		return 1;
	}
	sopt.listen = listen;
	sopt.threads = cfg.threads;
	sopt.max_body = cfg.max_body;
	if (hc_server_start(&srv, hub, &sopt, &err) != HC_OK) {
		cli_error(&err);
		hc_mcp_server_free(hub->mcp);
		hc_hub_close(hub);
		return 1;
	}
	{
		/* Say where we listen, with the real port when 0 was asked;
		 * "[::1]:0" keeps its brackets, as a URL needs them. */
		char host[256];
		const char *colon = strrchr(listen, ':');
		snprintf(host, sizeof(host), "%.*s",
			 (int)(colon ? colon - listen : 0), listen);
		if (strchr(host, ':') && host[0] != '[') {
			char v6[260];
			snprintf(v6, sizeof(v6), "[%s]", host);
			snprintf(host, sizeof(host), "%s", v6);
		}
		hc_log_notice(&hub->log,
			      "%s %s listening on http://%s:%u (database %s)",
			      def->name, hc_version(), host,
			      hc_server_port(srv), cfg.db_url);
	}
	if (cli_auth_bound(hub, &auth, listen, hc_server_port(srv), &err) !=
	    HC_OK) {
		cli_error(&err);
		hc_server_stop(srv);
		hc_mcp_server_free(hub->mcp);
		hc_hub_close(hub);
		cli_auth_release(&auth);
		return 1;
	}
	/* events go out once the hub can get tokens for them */
	if (hc_events_run(hub, &err) != HC_OK) {
		cli_error(&err);
		hc_server_stop(srv);
		hc_mcp_server_free(hub->mcp);
		hc_hub_close(hub);
		cli_auth_release(&auth);
		return 1;
	}
	if (policy)
		hc_log_info(&hub->log, "policy documents from %s (%s)", policy,
			    cfg.policy_writable ? "writable" : "read-only");
	/* SIGHUP reloads the hub's configuration; a refused one keeps the
	 * running one. */
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
		struct hc_err rerr = { 0 };
		char msg[1024];
		if (hc_hub_reload(hub, &rerr) != HC_OK)
			hc_log_error(&hub->log,
				     "reload refused, keeping the running "
				     "configuration: %s",
				     hc_err_format(&rerr, msg, sizeof(msg)));
		else
			hc_log_notice(&hub->log, "configuration reloaded");
	}
	hc_log_info(&hub->log, "%s received, shutting down",
		    sig == SIGINT ? "SIGINT" : "SIGTERM");
	/* MCP first: it ends its sessions and wakes calls waiting on
	 * clients, so that the HTTP server's streams can finish. */
	hc_mcp_server_shutdown(hub->mcp);
	/* the live pages' streams end with a last event, likewise */
	hc_view_shutdown(hub);
	hc_server_stop(srv);
	hc_mcp_server_free(hub->mcp);
	hc_hub_close(hub);
	cli_auth_release(&auth);
	return 0;
}
