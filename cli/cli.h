/*
 * cli/cli.h - the foshub command line: a table of subcommands, each a
 * function taking its own argv (argv[0] is the subcommand's name).
 */
#ifndef FOSHUB_CLI_H
#define FOSHUB_CLI_H

#include "hubcore/auth.h"
#include "hubcore/hub.h"

struct cli_command {
	const char *name;    /* "serve", "workplan import" */
	int (*run)(const struct cli_command *cmd, int argc, char **argv);
	const char *summary; /* one line for `foshub --help` */
	const char *usage;   /* the full --help text of the subcommand */
};

/* The hubs foshub can serve, by short name ("dev"). */
const struct hc_hub_def *cli_hub(const char *short_name);
/* "dev, fin, ops, idp": every hub's short name, for messages. */
const char *cli_hub_names(void);
/* "dev, fin, ops": the hubs that serve MCP, written into buf. */
const char *cli_mcp_hub_names(char *buf, size_t size);
/* The hubs table, in order (for `up` and `mcp-config add`). */
size_t cli_hub_count(void);
const struct hc_hub_def *cli_hub_at(size_t i);
/* A hub's port relative to the federation's base port (its default port
 * minus 8000: idp 0, dev 1, ops 2, fin 3). */
int cli_hub_port_offset(const struct hc_hub_def *def);
/* Whether a comma-separated list holds name. */
bool cli_list_has(const char *list, const char *name);

/* Print "foshub: error: <formatted err>" to stderr. */
void cli_error(const struct hc_err *err);
/* Print "foshub: error: <msg>" and return 2 (usage error). */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The value of --db, else $FOSHUB_DB, else the hub's default. */
const char *cli_db(const char *opt, const struct hc_hub_def *def);

/* MCP options shared by `serve` and `mcp`. */
struct cli_mcp_opts {
	const char *tools;  /* "core", "full" or a comma-separated list */
	bool test_fixtures;
	bool disabled;
};
/* Create hub->mcp from the hub's MCP definition (a no-op for a hub
 * without one). */
int cli_mcp_open(struct hc_hub *hub, const struct cli_mcp_opts *o,
		 struct hc_err *err);

/* Identity options shared by `serve` and `up` (long options only). */
enum {
	CLI_OPT_AUTH_ISSUER = 1000,
	CLI_OPT_AUTH_AUDIENCE,
	CLI_OPT_AUTH_ROLES_CLIENT,
	CLI_OPT_AUTH_ALGS,
	CLI_OPT_AUTH_ROLE,
	CLI_OPT_AUTH_CLIENT_ID,
	CLI_OPT_AUTH_SECRET_FILE,
	CLI_OPT_NO_AUTH,
	CLI_OPT_LOGIN_CLIENT_ID,
	CLI_OPT_LOGIN_SECRET_FILE,
	CLI_OPT_AUTH_SKEW,
};
#define CLI_AUTH_LONG_OPTIONS                                               \
	{ "auth-issuer", required_argument, NULL, CLI_OPT_AUTH_ISSUER },    \
	{ "auth-audience", required_argument, NULL, CLI_OPT_AUTH_AUDIENCE }, \
	{ "auth-roles-client", required_argument, NULL,                     \
	  CLI_OPT_AUTH_ROLES_CLIENT },                                      \
	{ "auth-algorithms", required_argument, NULL, CLI_OPT_AUTH_ALGS },  \
	{ "auth-role", required_argument, NULL, CLI_OPT_AUTH_ROLE },        \
	{ "auth-client-id", required_argument, NULL,                        \
	  CLI_OPT_AUTH_CLIENT_ID },                                         \
	{ "auth-client-secret-file", required_argument, NULL,               \
	  CLI_OPT_AUTH_SECRET_FILE },                                       \
	{ "login-client-id", required_argument, NULL,                       \
	  CLI_OPT_LOGIN_CLIENT_ID },                                        \
	{ "login-client-secret-file", required_argument, NULL,              \
	  CLI_OPT_LOGIN_SECRET_FILE },                                      \
	{ "auth-clock-skew", required_argument, NULL, CLI_OPT_AUTH_SKEW },  \
	{ "no-auth", no_argument, NULL, CLI_OPT_NO_AUTH }

struct cli_auth_opts {
	const char *issuers[8];
	size_t nissuers;
	const char *audience;
	const char *roles_client;
	const char *algorithms;
	struct hc_auth_role roles[32];
	size_t nroles;
	const char *client_id;
	const char *secret_file;
	/* the confidential client of the pages' login */
	const char *login_client_id;
	const char *login_secret_file;
	int clock_skew; /* 0: the default */
	bool off;
};
/* 0 when c was an identity option, -1 when it is not one, else the exit
 * status of a usage error. */
int cli_auth_option(const struct cli_command *cmd, struct cli_auth_opts *o,
		    int c, const char *arg);
void cli_auth_release(struct cli_auth_opts *o);
/* hub->auth from the options and environment (FOSHUB_AUTH=off,
 * FOSHUB_AUTH_ISSUERS, FOSHUB_AUTH_AUDIENCE, FOSHUB_AUTH_CLIENT_ID,
 * FOSHUB_AUTH_CLIENT_SECRET, FOSHUB_LOGIN_CLIENT_ID,
 * FOSHUB_LOGIN_CLIENT_SECRET); none with --no-auth. */
int cli_auth_open(struct hc_hub *hub, struct cli_auth_opts *o,
		  const char *listen, struct hc_err *err);
/* The audience once the port is bound (port 0 picks one). */
int cli_auth_bound(struct hc_hub *hub, const struct cli_auth_opts *o,
		   const char *listen, unsigned port, struct hc_err *err);

int cli_serve(const struct cli_command *cmd, int argc, char **argv);
int cli_token(const struct cli_command *cmd, int argc, char **argv);
int cli_mcp(const struct cli_command *cmd, int argc, char **argv);
int cli_workplan_import(const struct cli_command *cmd, int argc, char **argv);
int cli_workplan_check(const struct cli_command *cmd, int argc, char **argv);
int cli_workplan_fix(const struct cli_command *cmd, int argc, char **argv);
int cli_rules_render(const struct cli_command *cmd, int argc, char **argv);
int cli_mcp_config_migrate(const struct cli_command *cmd, int argc,
			   char **argv);
int cli_mcp_config_add(const struct cli_command *cmd, int argc, char **argv);
int cli_up(const struct cli_command *cmd, int argc, char **argv);
int cli_fin_import(const struct cli_command *cmd, int argc, char **argv);
int cli_ops_import(const struct cli_command *cmd, int argc, char **argv);
int cli_idp_hash_password(const struct cli_command *cmd, int argc,
			  char **argv);
int cli_idp_add_user(const struct cli_command *cmd, int argc, char **argv);
int cli_idp_add_client(const struct cli_command *cmd, int argc, char **argv);
int cli_idp_totp_enroll(const struct cli_command *cmd, int argc, char **argv);
int cli_idp_rotate_keys(const struct cli_command *cmd, int argc, char **argv);
int cli_db_status(const struct cli_command *cmd, int argc, char **argv);
int cli_db_migrate(const struct cli_command *cmd, int argc, char **argv);
int cli_idp_export_keycloak(const struct cli_command *cmd, int argc,
			    char **argv);

#endif
