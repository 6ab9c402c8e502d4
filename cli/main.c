/*
 * main.c - foshub, the one binary of the hub federation. A thin main: the
 * subcommands are a table, and `foshub --help` is printed from it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "devhub/devhub.h"

static const struct cli_command commands[] = {
	{ "serve", cli_serve, "Run a hub's HTTP API on loopback",
	  "usage: foshub serve HUB [options]\n"
	  "\n"
	  "Serve a hub's REST API. HUB is one of: dev.\n"
	  "\n"
	  "options:\n"
	  "  --listen HOST:PORT  address to listen on (default: the hub's,\n"
	  "                      127.0.0.1:8001 for dev; env FOSHUB_LISTEN;\n"
	  "                      port 0 picks a free port)\n"
	  "  --db URL            database, sqlite:PATH (default:\n"
	  "                      sqlite:var/dev-hub.db; env FOSHUB_DB)\n"
	  "  --threads N         worker threads (default 4)\n"
	  "  --max-body BYTES    largest request body (default 1048576)\n"
	  "  --log-level LEVEL   debug, info, warn or error (default info)\n"
	  "  --policy-dir DIR    serve the policy documents of DIR at /policy\n"
	  "                      (env FOSHUB_POLICY_DIR; default: none)\n"
	  "  --policy-writable   allow PUT /policy/... to write them\n"
	  "  --mcp-tools SET     MCP tools to serve at /mcp: full (default),\n"
	  "                      core (a small set for small context windows)\n"
	  "                      or a comma-separated list of tool names\n"
	  "                      (env FOSHUB_MCP_TOOLS)\n"
	  "  --mcp-test-fixtures also serve the MCP conformance suite's\n"
	  "                      fixture tools, prompts and resources\n"
	  "  --no-mcp            do not serve /mcp\n"
	  "  --config FILE       the hub's own configuration file (the idp:\n"
	  "                      its users, clients and keys; env\n"
	  "                      FOSHUB_IDP_CONFIG); SIGHUP reloads it\n"
	  "  -h, --help          show this help\n" },
	{ "mcp", cli_mcp, "Serve a hub's MCP tools over stdio",
	  "usage: foshub mcp HUB [--db URL] [--mcp-tools SET]\n"
	  "\n"
	  "Serve a hub over the Model Context Protocol on stdin and stdout\n"
	  "(one JSON-RPC message per line; logs on stderr), for MCP clients\n"
	  "that start their servers as processes. HUB is one of: dev.\n"
	  "Both protocol eras are served: 2025-03-26, 2025-06-18 and\n"
	  "2025-11-25 (initialize) and 2026-07-28 (stateless).\n"
	  "\n"
	  "options:\n"
	  "  --db URL          database, sqlite:PATH (default:\n"
	  "                    sqlite:var/dev-hub.db; env FOSHUB_DB)\n"
	  "  --mcp-tools SET   full (default), core, or a comma-separated\n"
	  "                    list of tool names (env FOSHUB_MCP_TOOLS)\n"
	  "  --log-level LEVEL debug, info, warn (default) or error\n"
	  "  -h, --help        show this help\n" },
	{ "workplan import", cli_workplan_import,
	  "Import workplan files into dev-hub's database",
	  "usage: foshub workplan import [--db URL] PATH...\n"
	  "\n"
	  "Import workplans (flat text or Markdown form) into dev-hub's\n"
	  "database: the domain, topic, workstream with its phases, tasks\n"
	  "and key decisions of each file, in one transaction per file.\n"
	  "Importing a file again changes nothing. A PATH that is a\n"
	  "directory imports its *.md and *.txt files. A malformed file is\n"
	  "refused with file:line and nothing of it is stored; the exit\n"
	  "status is 1 when any file failed.\n"
	  "\n"
	  "options:\n"
	  "  --db URL    database, sqlite:PATH (default: sqlite:var/dev-hub.db;\n"
	  "              env FOSHUB_DB)\n"
	  "  -h, --help  show this help\n" },
};

static const struct hc_hub_def *const hubs[] = { &devhub_def };


const struct hc_hub_def *cli_hub(const char *short_name)
{
	for (size_t i = 0; i < HC_COUNT(hubs); i++)
		if (strcmp(hubs[i]->short_name, short_name) == 0)
			return hubs[i];
	return NULL;
}

const char *cli_hub_names(void)
{
	return "dev";
}

void cli_error(const struct hc_err *err)
{
	char msg[1024];
	fprintf(stderr, "foshub: error: %s\n",
		hc_err_format(err, msg, sizeof(msg)));
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "foshub: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (cmd)
		fprintf(stderr, "see 'foshub %s --help'\n", cmd->name);
	return 2;
}

const char *cli_db(const char *opt, const struct hc_hub_def *def)
{
	const char *env = getenv("FOSHUB_DB");
	if (opt)
		return opt;
	if (env && *env)
		return env;
	return def->default_db;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: foshub [--version] [--help] COMMAND [ARGS]\n\n"
		     "The hubs of a federated organisation: dev-hub for "
		     "development\ncoordination, on one HTTP API per hub.\n\n"
		     "commands:\n");
	for (size_t i = 0; i < HC_COUNT(commands); i++)
		fprintf(out, "  %-18s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\nRun 'foshub COMMAND --help' for a command's "
		     "options.\n");
}

/* Match "serve" or the two words "workplan import". */
static const struct cli_command *find(int argc, char **argv, int *words)
{
	for (size_t i = 0; i < HC_COUNT(commands); i++) {
		const char *name = commands[i].name;
		const char *space = strchr(name, ' ');
		if (!space && strcmp(name, argv[0]) == 0) {
			*words = 1;
			return &commands[i];
		}
		if (space && argc >= 2 &&
		    strncmp(name, argv[0], (size_t)(space - name)) == 0 &&
		    argv[0][space - name] == '\0' &&
		    strcmp(space + 1, argv[1]) == 0) {
			*words = 2;
			return &commands[i];
		}
	}
	return NULL;
}

/* "foshub workplan --help": the subcommands of the group, on stdout. */
static bool group_help(const char *word)
{
	size_t wl = strlen(word);
	bool group = false;
	for (size_t i = 0; i < HC_COUNT(commands); i++) {
		const char *name = commands[i].name;
		if (strncmp(name, word, wl) != 0 || name[wl] != ' ')
			continue;
		if (!group)
			printf("usage: foshub %s COMMAND [ARGS]\n\ncommands:\n",
			       word);
		group = true;
		printf("  foshub %-18s %s\n", name, commands[i].summary);
	}
	if (group)
		printf("\nRun 'foshub %s COMMAND --help' for its options.\n",
		       word);
	return group;
}

/* "foshub workplan" or "foshub workplan frob": name the subcommands of
 * the group. Returns false when word is not a group. */
static bool group_usage(const char *word, const char *sub)
{
	size_t wl = strlen(word);
	bool group = false;
	for (size_t i = 0; i < HC_COUNT(commands); i++) {
		const char *name = commands[i].name;
		if (strncmp(name, word, wl) != 0 || name[wl] != ' ')
			continue;
		if (!group)
			fprintf(stderr,
				"foshub: error: %s%s%s: expected one of:\n",
				sub ? "unknown subcommand '" : "'", sub ? sub : word,
				sub ? "'" : "' needs a subcommand");
		group = true;
		fprintf(stderr, "  foshub %-18s %s\n", name, commands[i].summary);
	}
	return group;
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;
	int words = 0;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("foshub %s\n", hc_version());
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && (cmd = find(argc - 2, argv + 2, &words))) {
			fputs(cmd->usage, stdout);
			return 0;
		}
		usage(stdout);
		return 0;
	}
	cmd = find(argc - 1, argv + 1, &words);
	if (!cmd && argc > 2 &&
	    (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) &&
	    group_help(argv[1]))
		return 0;
	if (!cmd && group_usage(argv[1], argc > 2 ? argv[2] : NULL))
		return 2;
	if (!cmd) {
		fprintf(stderr, "foshub: error: unknown command '%s'%s%s\n",
			argv[1], argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
		usage(stderr);
		return 2;
	}
	return cmd->run(cmd, argc - words, argv + words);
}
