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
#include "finhub/finhub.h"
#include "idp/idp.h"
#include "opshub/opshub.h"

static const struct cli_command commands[] = {
	{ "serve", cli_serve, "Run a hub's HTTP API on loopback",
	  "usage: foshub serve HUB [options]\n"
	  "\n"
	  "Serve a hub's REST API. HUB is one of: dev, fin, ops, idp.\n"
	  "\n"
	  "options:\n"
	  "  --listen HOST:PORT  address to listen on (default: the hub's,\n"
	  "                      127.0.0.1:8000 idp, 8001 dev, 8002 ops,\n"
	  "                      8003 fin; env FOSHUB_LISTEN;\n"
	  "                      port 0 picks a free port)\n"
	  "  --db URL            database, sqlite:PATH or postgresql://...\n"
	  "                      (env FOSHUB_DB; see docs/deploy.md;\n"
	  "                      default: the hub's own file under var/:\n"
	  "                      sqlite:var/dev-hub.db, var/ops-hub.db,\n"
	  "                      var/fin-hub.db or var/idp.db)\n"
	  "  --threads N         worker threads (default 4)\n"
	  "  --max-body BYTES    largest request body (default 1048576)\n"
	  "  --max-per-address N connections at once from one client\n"
	  "                      address (default 256, of 1024 in all;\n"
	  "                      behind a proxy, all share the proxy's)\n"
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
	  "\n"
	  "identity (docs/iam-profile.md): every route but health and\n"
	  "metadata needs a bearer token from a trusted issuer\n"
	  "  --auth-issuer URL   trust this issuer (repeatable; env\n"
	  "                      FOSHUB_AUTH_ISSUERS, comma-separated;\n"
	  "                      default http://127.0.0.1:8000)\n"
	  "  --auth-audience URL the hub's own URL, which tokens' aud must\n"
	  "                      name (env FOSHUB_AUTH_AUDIENCE; default\n"
	  "                      http://HOST:PORT of --listen)\n"
	  "  --auth-role ROLE=LEVEL  map a role to read, write, admin or\n"
	  "                      none (repeatable; defaults in the docs)\n"
	  "  --auth-roles-client ID  also read resource_access.ID.roles\n"
	  "  --auth-algorithms LIST  accepted algorithms (default RS, PS\n"
	  "                      and ES 256/384/512)\n"
	  "  --auth-clock-skew S seconds of clock skew allowed on tokens'\n"
	  "                      exp, nbf and iat (1 to 600; default 60)\n"
	  "  --auth-client-id ID, --auth-client-secret-file FILE\n"
	  "                      the hub's service account, for calls to\n"
	  "                      other hubs (env FOSHUB_AUTH_CLIENT_ID,\n"
	  "                      FOSHUB_AUTH_CLIENT_SECRET)\n"
	  "  --login-client-id ID, --login-client-secret-file FILE\n"
	  "                      the confidential client through which\n"
	  "                      people sign in to the pages at the first\n"
	  "                      issuer; its redirect URI is AUDIENCE/auth/\n"
	  "                      callback (env FOSHUB_LOGIN_CLIENT_ID,\n"
	  "                      FOSHUB_LOGIN_CLIENT_SECRET; default: no\n"
	  "                      page login, pages need a bearer token)\n"
	  "  --no-auth           no identity checks (env FOSHUB_AUTH=off):\n"
	  "                      for a hub only you can reach\n"
	  "  -h, --help          show this help\n" },
	{ "mcp", cli_mcp, "Serve a hub's MCP tools over stdio",
	  "usage: foshub mcp HUB [--db URL] [--mcp-tools SET]\n"
	  "\n"
	  "Serve a hub over the Model Context Protocol on stdin and stdout\n"
	  "(one JSON-RPC message per line; logs on stderr), for MCP clients\n"
	  "that start their servers as processes. HUB is one of: dev,\n"
	  "fin, ops.\n"
	  "Both protocol eras are served: 2025-03-26, 2025-06-18 and\n"
	  "2025-11-25 (initialize) and 2026-07-28 (stateless).\n"
	  "\n"
	  "options:\n"
	  "  --db URL          database, sqlite:PATH or postgresql://...\n"
	  "                    (env FOSHUB_DB; default: the hub's own file,\n"
	  "                    sqlite:var/dev-hub.db, var/ops-hub.db or\n"
	  "                    var/fin-hub.db)\n"
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
	  "  --db URL    database, sqlite:PATH or postgresql://... (default:\n"
	  "              sqlite:var/dev-hub.db; env FOSHUB_DB)\n"
	  "  -h, --help  show this help\n" },
	{ "ops import-inventory", cli_ops_import,
	  "Import a service inventory into ops-hub's database",
	  "usage: foshub ops import-inventory [--db URL] FILE\n"
	  "\n"
	  "Import a service inventory (YAML: locations, services with their\n"
	  "probes and evidence, runbooks, access paths; see docs/ops-hub.md)\n"
	  "into ops-hub's database in one transaction. Importing the same\n"
	  "file again changes nothing. A malformed file is refused with\n"
	  "file:line and nothing of it is stored (exit status 1).\n"
	  "\n"
	  "options:\n"
	  "  --db URL    database, sqlite:PATH or postgresql://... (default:\n"
	  "              sqlite:var/ops-hub.db; env FOSHUB_DB)\n"
	  "  -h, --help  show this help\n" },
	{ "fin import", cli_fin_import,
	  "Import cost and token files into fin-hub's database",
	  "usage: foshub fin import KIND [--skip-bad] [--domain SLUG] [--db URL]\n"
	  "                         FILE...\n"
	  "\n"
	  "Import cost files into fin-hub's database, one transaction per\n"
	  "file. KIND is one of:\n"
	  "  focus           FOCUS 1.0-1.2 cost export (CSV)\n"
	  "  invoices        invoice list: date, vendor, description, amount,\n"
	  "                  currency (CSV)\n"
	  "  claude-code     Claude Code session logs (JSONL); a directory\n"
	  "                  such as ~/.claude/projects is searched for *.jsonl\n"
	  "  anthropic-cost  Anthropic admin API cost report (JSON)\n"
	  "  openai-cost     OpenAI admin API costs (JSON)\n"
	  "  anthropic-usage Anthropic admin API usage report for messages,\n"
	  "                  grouped by model, service_tier and context_window\n"
	  "                  (JSON): token spend\n"
	  "  openai-usage    OpenAI admin API completions usage, grouped by\n"
	  "                  model and batch (JSON): token spend\n"
	  "Importing a file again adds nothing (every row has a stable dedup\n"
	  "key; a usage report's bucket fetched again with other figures\n"
	  "replaces them). Bad rows are reported as file:line: reason (in a\n"
	  "JSON report: file: path: reason); a file with bad rows stores\n"
	  "nothing unless --skip-bad is given. The exit status is 1 when any\n"
	  "file failed.\n"
	  "\n"
	  "options:\n"
	  "  --skip-bad     store the good rows of files with bad ones\n"
	  "  --domain SLUG  the domain the costs are charged to\n"
	  "  --db URL       database, sqlite:PATH or postgresql://...\n"
	  "                 (default: sqlite:var/fin-hub.db; env FOSHUB_DB)\n"
	  "  -h, --help     show this help\n" },
	{ "token", cli_token, "Get a service-account token for calling a hub",
	  "usage: foshub token [--issuer URL] [--client-id ID]\n"
	  "                    [--client-secret-file FILE] AUDIENCE\n"
	  "\n"
	  "Print an access token for AUDIENCE (the URL of the hub it is\n"
	  "for, e.g. http://127.0.0.1:8001) from the issuer's token\n"
	  "endpoint with client_credentials, for curl and scripts:\n"
	  "  curl -H \"Authorization: Bearer $(foshub token URL)\" URL/whoami\n"
	  "\n"
	  "options:\n"
	  "  --issuer URL               the issuer (env FOSHUB_AUTH_ISSUERS;\n"
	  "                             default http://127.0.0.1:8000)\n"
	  "  --client-id ID             the service account (env\n"
	  "                             FOSHUB_AUTH_CLIENT_ID)\n"
	  "  --client-secret-file FILE  its secret (else the env\n"
	  "                             FOSHUB_AUTH_CLIENT_SECRET)\n" },
	{ "db status", cli_db_status,
	  "Show a hub's schema version and pending migrations",
	  "usage: foshub db status [--db URL] HUB\n"
	  "\n"
	  "Say, for each part of HUB's schema (core, dev, ops, fin, idp),\n"
	  "the version the database is at, the one this binary knows, and\n"
	  "the steps pending. Changes nothing. Exit status 0 when the\n"
	  "database is up to date, 1 when steps are pending or it is newer\n"
	  "than this binary. HUB is one of: dev, fin, ops, idp.\n"
	  "\n"
	  "options:\n"
	  "  --db URL    sqlite:PATH or postgresql://... (default: the hub's\n"
	  "              SQLite file under var/; env FOSHUB_DB)\n"
	  "  -h, --help  show this help\n" },
	{ "db migrate", cli_db_migrate, "Apply a hub's pending migrations",
	  "usage: foshub db migrate [--db URL] HUB\n"
	  "\n"
	  "Apply the schema steps HUB's database lacks, each in its own\n"
	  "transaction (a failing step is rolled back and named), then show\n"
	  "the status. Processes migrating one database at once take turns;\n"
	  "`serve` migrates on start too. A database newer than this binary\n"
	  "is refused (exit status 1): run the newer foshub.\n"
	  "\n"
	  "options:\n"
	  "  --db URL    sqlite:PATH or postgresql://... (default: the hub's\n"
	  "              SQLite file under var/; env FOSHUB_DB)\n"
	  "  -h, --help  show this help\n" },
	{ "idp hash-password", cli_idp_hash_password,
	  "Hash a password (argon2id) for the IdP's file",
	  "usage: foshub idp hash-password\n"
	  "\n"
	  "Read a password (asked twice on a terminal, else one line of\n"
	  "stdin) and print its argon2id hash, for a user's password_hash in\n"
	  "the IdP's YAML file.\n" },
	{ "idp add-user", cli_idp_add_user, "Add a user to the IdP's file",
	  "usage: foshub idp add-user [--config FILE] [--name NAME]\n"
	  "                           [--email EMAIL] [--role ROLE]...\n"
	  "                           [--group GROUP]... USERNAME\n"
	  "\n"
	  "Add a user to the IdP's YAML file, the password read as by\n"
	  "hash-password. The file is edited in place (comments and layout\n"
	  "kept), checked, and the old one kept as FILE.<time>.bak.\n"
	  "\n"
	  "options:\n"
	  "  --config FILE  the IdP's file (env FOSHUB_IDP_CONFIG; default\n"
	  "                 idp.yaml)\n" },
	{ "idp add-client", cli_idp_add_client,
	  "Add a client or service account to the IdP's file",
	  "usage: foshub idp add-client [--config FILE] [options] CLIENT_ID\n"
	  "\n"
	  "Add an OAuth client to the IdP's YAML file. A confidential client\n"
	  "(the default) gets a random secret, printed once on stdout; only\n"
	  "its argon2id hash is stored.\n"
	  "\n"
	  "options:\n"
	  "  --public                    a public client (PKCE, no secret)\n"
	  "  --service-account           client_credentials for hub-to-hub\n"
	  "                              calls, with --role ROLE...\n"
	  "  --redirect-uri URI          exact redirect URI (repeatable; any\n"
	  "                              port matches on loopback)\n"
	  "  --post-logout-redirect-uri URI\n"
	  "  --grant-type TYPE           authorization_code, refresh_token,\n"
	  "                              client_credentials (repeatable)\n"
	  "  --scope SCOPE               allowed scope (repeatable)\n"
	  "  --audience AUD              allowed resource (repeatable)\n"
	  "  --default-audience AUD      aud when no resource is asked for\n"
	  "  --name NAME\n"
	  "  --config FILE               the IdP's file\n" },
	{ "idp totp-enroll", cli_idp_totp_enroll,
	  "Give a user a TOTP secret; print its otpauth:// URI",
	  "usage: foshub idp totp-enroll [--config FILE] [--qr|--no-qr]\n"
	  "                              [--label NAME] USERNAME\n"
	  "\n"
	  "Make a TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s) for a user,\n"
	  "store it in the IdP's file and print the otpauth:// URI for an\n"
	  "authenticator app, with a QR code when stdout is a terminal.\n" },
	{ "idp rotate-keys", cli_idp_rotate_keys,
	  "Add new signing keys; retire the old ones safely",
	  "usage: foshub idp rotate-keys [--config FILE] [--db URL]\n"
	  "\n"
	  "Make a new ES256 and a new RS256 key in the IdP's keys directory.\n"
	  "They are published in /jwks at once and sign from\n"
	  "key_publish_delay seconds later, so relying parties have them\n"
	  "cached first; the old keys stay published until every token they\n"
	  "signed has expired. Send SIGHUP to a running IdP to load them.\n"
	  "The keys are in the file's keys_dir, else beside the IdP's\n"
	  "database (--db, env FOSHUB_DB; default sqlite:var/idp.db, keys\n"
	  "in var/idp-keys).\n" },
	{ "idp export-keycloak-realm", cli_idp_export_keycloak,
	  "Write a Keycloak realm import from the IdP's file",
	  "usage: foshub idp export-keycloak-realm [--config FILE]\n"
	  "                                        [--realm NAME] [-o FILE]\n"
	  "\n"
	  "Write a Keycloak realm import JSON with the same clients, roles,\n"
	  "groups and users, minus every secret (passwords and TOTP are set\n"
	  "up in Keycloak: users with TOTP get CONFIGURE_TOTP), so that\n"
	  "production can be set up from the same file. Realm default\n"
	  "foshub; stdout unless -o.\n" },
	{ "workplan check", cli_workplan_check,
	  "Compare workplan files with dev-hub's database",
	  "usage: foshub workplan check [--db URL] [--host NAME] [PATH...]\n"
	  "\n"
	  "Compare workplan files (or the *.md and *.txt of directories)\n"
	  "with dev-hub's database: workstreams and tasks missing on either\n"
	  "side, status, priority or title drift, state_hub ids missing,\n"
	  "different, duplicated or belonging to another row, a workplan id\n"
	  "given by two files, a workstream imported from another file. One\n"
	  "line per finding (file:line: message). Without PATH, every\n"
	  "registered repo is checked: its workplans/ and docs/workplans/\n"
	  "directories at its path on this machine, and its workstreams that\n"
	  "no file gives.\n"
	  "\n"
	  "exit status: 0 consistent, 1 findings or an error, 2 a usage\n"
	  "error or nothing to check (no PATH and no registered repo with a\n"
	  "path here, or no workplan file in the PATHs: said on stderr).\n"
	  "\n"
	  "options:\n"
	  "  --db URL     database (default: sqlite:var/dev-hub.db; env\n"
	  "               FOSHUB_DB)\n"
	  "  --host NAME  this machine's name for repos' host_paths (default:\n"
	  "               the hostname)\n"
	  "  -h, --help   show this help\n" },
	{ "workplan fix", cli_workplan_fix,
	  "Bring dev-hub in line with workplan files; write missing ids",
	  "usage: foshub workplan fix [--db URL] [--host NAME] [--dry-run]\n"
	  "                           [--prune] [--no-backup] [PATH...]\n"
	  "\n"
	  "Import each workplan file (the file wins) and write the\n"
	  "state_hub_workstream_id and state_hub_task_id values it lacks into\n"
	  "it: the database's when it has one, a new UUID otherwise. Only\n"
	  "those lines change; every other byte and the line endings are\n"
	  "kept. A file is replaced atomically (temporary file and rename)\n"
	  "after keeping FILE.bak. Files whose ids belong to other rows are\n"
	  "not fixed (exit status 1). Without PATH, every registered repo;\n"
	  "nothing to fix (no PATH and no repo with a path here, or no\n"
	  "workplan file in the PATHs) is exit status 2.\n"
	  "\n"
	  "options:\n"
	  "  --dry-run    say what would be done, change nothing\n"
	  "  --prune      delete tasks that the file no longer lists (kept\n"
	  "               and reported otherwise)\n"
	  "  --no-backup  do not keep FILE.bak\n"
	  "  --db URL, --host NAME  as for workplan check\n" },
	{ "rules render", cli_rules_render,
	  "Regenerate the session protocol rule file of every repo",
	  "usage: foshub rules render [--db URL] [--host NAME] [--repo NAME]...\n"
	  "                           [--dev-url URL] [--ops-url URL]\n"
	  "                           [--template FILE] [--target PATH]\n"
	  "                           [--dry-run]\n"
	  "\n"
	  "Write .claude/rules/session-protocol.md in every registered repo\n"
	  "(at its path on this machine) from dev-hub's template: the repo's\n"
	  "domain, the hub URLs and the orientation calls to make at session\n"
	  "start (dev-hub's get_domain_summary always; ops-hub's for repos\n"
	  "with infrastructure: Dockerfile, compose files, k8s/, helm/,\n"
	  "charts/, terraform/, ansible/, infra/, deploy/). One line per\n"
	  "repo: created, updated or unchanged (an unchanged file is not\n"
	  "rewritten). Nothing is written outside a repo: '..' and symbolic\n"
	  "links on the way are refused (exit status 1).\n"
	  "\n"
	  "options:\n"
	  "  --repo NAME      only this repo (repeatable)\n"
	  "  --dev-url URL    dev-hub's URL (default http://127.0.0.1:8001)\n"
	  "  --ops-url URL    ops-hub's URL (default http://127.0.0.1:8002)\n"
	  "  --template FILE  another template (same variables)\n"
	  "  --target PATH    the file, relative to the repo (default\n"
	  "                   .claude/rules/session-protocol.md)\n"
	  "  --dry-run        say what would change, write nothing\n"
	  "  --db URL, --host NAME  as for workplan check\n" },
	{ "mcp-config migrate", cli_mcp_config_migrate,
	  "Rename the state-hub MCP server entry to dev-hub",
	  "usage: foshub mcp-config migrate [--file PATH] [--dry-run]\n"
	  "\n"
	  "Rename mcpServers[\"state-hub\"] to \"dev-hub\" at the top level\n"
	  "and in every projects entry of an MCP client configuration\n"
	  "(default ~/.claude.json), and the name where lists give it:\n"
	  "enabledMcpjsonServers and disabledMcpjsonServers, and permission\n"
	  "rules in allowedTools and permissions.allow/ask/deny\n"
	  "(\"mcp__state-hub__get_task\" becomes \"mcp__dev-hub__get_task\").\n"
	  "Only those bytes change: every other byte (formatting, key order,\n"
	  "values) is kept. An identical \"dev-hub\" entry already there\n"
	  "makes \"state-hub\" go (in a list: a name already listed); a\n"
	  "different one makes the command refuse and change nothing (exit\n"
	  "status 1). The file is kept as PATH.bak-TIMESTAMP and replaced\n"
	  "atomically. Running it again changes nothing. Run it on a\n"
	  "project's .mcp.json and .claude/settings*.json too.\n"
	  "\n"
	  "options:\n"
	  "  --file PATH  the configuration (default ~/.claude.json)\n"
	  "  --dry-run    show the change, write nothing\n" },
	{ "mcp-config add", cli_mcp_config_add,
	  "Register the hubs' MCP servers with a client",
	  "usage: foshub mcp-config add [--file PATH] [--transport stdio|http]\n"
	  "                             [--project DIR] [--hubs LIST]\n"
	  "                             [--bin PATH] [--var DIR]\n"
	  "                             [--base-port N] [--dry-run]\n"
	  "\n"
	  "Add an mcpServers entry per hub with MCP (dev-hub, ops-hub,\n"
	  "fin-hub) to an MCP client configuration (default ~/.claude.json):\n"
	  "stdio (this binary, `mcp HUB --db sqlite:VAR/HUB.db`) or HTTP\n"
	  "(http://127.0.0.1:PORT/mcp). Entries already there with the same\n"
	  "value are left alone; a different one is refused. Edits as for\n"
	  "migrate: formatting kept, backup, atomic write.\n"
	  "\n"
	  "options:\n"
	  "  --transport T  stdio (default) or http\n"
	  "  --project DIR  the projects entry instead of the top level\n"
	  "  --hubs LIST    only these hubs (short names: dev,ops,fin)\n"
	  "  --bin PATH     the foshub binary (default: this one)\n"
	  "  --var DIR      where the databases are (default var)\n"
	  "  --base-port N  HTTP port of the IdP (default 8000; hubs follow)\n"
	  "  --dry-run      show the change, write nothing\n" },
	{ "up", cli_up, "Run the whole federation: IdP and every hub",
	  "usage: foshub up [--base-port N] [--var DIR] [--hubs LIST]\n"
	  "                 [--ready-timeout SECONDS] [--idp-config FILE]\n"
	  "                 [--no-auth] [--secrets-dir DIR] [--no-events]\n"
	  "\n"
	  "Start every hub (the IdP when its file is given, dev-hub,\n"
	  "ops-hub, fin-hub) as a child process `foshub serve HUB` on\n"
	  "127.0.0.1, ports from the base port (the IdP on it, dev-hub +1,\n"
	  "ops-hub +2, fin-hub +3), databases under the var directory; wait\n"
	  "until each answers /readyz; print the URLs and how to log in. A\n"
	  "port already in use (another `foshub up`?) is named and nothing\n"
	  "is started (exit status 1). A hub that dies is reported and\n"
	  "started again after 1 s, doubling up to 30 s while it keeps\n"
	  "dying. Ctrl-C or SIGTERM stops them all.\n"
	  "\n"
	  "options:\n"
	  "  --base-port N        the first port (default 8000)\n"
	  "  --var DIR            databases directory (default var)\n"
	  "  --hubs LIST          only these hubs (short names: idp,dev,...)\n"
	  "  --ready-timeout S    how long to wait before printing the URLs\n"
	  "                       anyway (default 30)\n"
	  "  --idp-config FILE    the IdP's file (env FOSHUB_IDP_CONFIG);\n"
	  "                       without one the IdP is not started\n"
	  "  --no-auth            run every hub without identity checks\n"
	  "                       (env FOSHUB_AUTH=off; local use only)\n"
	  "  --secrets-dir DIR    DIR/HUB.secret is the secret of the service\n"
	  "                       account named after the hub (dev-hub, ...),\n"
	  "                       for its events to the others, and\n"
	  "                       DIR/hub-portal.secret the secret of the\n"
	  "                       client `hub-portal` through which people\n"
	  "                       sign in to the pages (env\n"
	  "                       FOSHUB_SECRETS_DIR)\n"
	  "  --no-events          do not wire the hubs' events to each other\n"
	  "                       (by default VAR/HUB.yaml is written on\n"
	  "                       every start: docs/events.md)\n"
	  "\n"
	  "Identity: unless --no-auth, every hub accepts only tokens from\n"
	  "the IdP at http://127.0.0.1:BASE (or the issuers of\n"
	  "FOSHUB_AUTH_ISSUERS). Without --idp-config up does not start\n"
	  "that IdP, so every call but health and metadata is refused (401)\n"
	  "until one answers there: give --idp-config, run your own IdP\n"
	  "there, or use --no-auth.\n" },
};

static const struct hc_hub_def *const hubs[] = { &devhub_def, &finhub_def,
						  &opshub_def, &idp_def };


size_t cli_hub_count(void)
{
	return HC_COUNT(hubs);
}

const struct hc_hub_def *cli_hub_at(size_t i)
{
	return i < HC_COUNT(hubs) ? hubs[i] : NULL;
}

/* Old names that still work, with a warning: State Hub is dev-hub now. */
static const struct {
	const char *old, *now;
} hub_aliases[] = { { "state", "dev" }, { "state-hub", "dev" } };

const struct hc_hub_def *cli_hub(const char *short_name)
{
	for (size_t i = 0; i < HC_COUNT(hub_aliases); i++)
		if (strcmp(short_name, hub_aliases[i].old) == 0) {
			fprintf(stderr,
				"foshub: warning: the hub name '%s' is "
				"deprecated: State Hub is dev-hub now; use "
				"'%s'\n",
				short_name, hub_aliases[i].now);
			short_name = hub_aliases[i].now;
		}
	for (size_t i = 0; i < HC_COUNT(hubs); i++)
		if (strcmp(hubs[i]->short_name, short_name) == 0)
			return hubs[i];
	return NULL;
}

const char *cli_hub_names(void)
{
	return "dev, fin, ops, idp";
}

const char *cli_mcp_hub_names(char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < HC_COUNT(hubs) && len < size; i++) {
		if (!hubs[i]->mcp)
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					len ? ", " : "", hubs[i]->short_name);
	}
	return buf;
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

/* Words of text from column `col` on, wrapped before column 78 and
 * continued at column `indent`. */
static void print_wrapped(FILE *out, const char *text, int col, int indent)
{
	while (*text) {
		int len = (int)strcspn(text, " ");
		if (col > indent && col + 1 + len > 78) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", len, text);
		col += len;
		text += len;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}

/* The hubs, by port: what each is for, from the hubs table. */
static void usage_hubs(FILE *out)
{
	bool done[HC_COUNT(hubs)] = { false };
	for (size_t k = 0; k < HC_COUNT(hubs); k++) {
		size_t m = HC_COUNT(hubs);
		const char *port;
		int col;
		for (size_t i = 0; i < HC_COUNT(hubs); i++)
			if (!done[i] &&
			    (m == HC_COUNT(hubs) ||
			     cli_hub_port_offset(hubs[i]) <
				     cli_hub_port_offset(hubs[m])))
				m = i;
		done[m] = true;
		port = strrchr(hubs[m]->default_listen, ':');
		col = fprintf(out, "  %-4s %-8s %-5s ", hubs[m]->short_name,
			      hubs[m]->name, port ? port + 1 : "");
		print_wrapped(out, hubs[m]->description, col, col);
	}
}

static void usage(FILE *out)
{
	fprintf(out, "usage: foshub [--version] [--help] COMMAND [ARGS]\n\n"
		     "The hubs of a federated organisation, each its own HTTP "
		     "API on its port\n(`foshub serve HUB`; MCP too but for "
		     "the IdP); `foshub up` runs them all:\n");
	usage_hubs(out);
	fprintf(out, "\ncommands:\n");
	for (size_t i = 0; i < HC_COUNT(commands); i++)
		fprintf(out, "  %-26s %s\n", commands[i].name,
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
		printf("  foshub %-26s %s\n", name, commands[i].summary);
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
		fprintf(stderr, "  foshub %-26s %s\n", name, commands[i].summary);
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
