/*
 * auth.c - the identity options `serve` shares with `up`: which issuers a
 * hub trusts, its audience, role mappings, its own service account, or
 * --no-auth for a local-only hub.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "hubcore/auth.h"

#define DEFAULT_ISSUER "http://127.0.0.1:8000"

static int add_issuers(const struct cli_command *cmd, struct cli_auth_opts *o,
		       const char *list)
{
	/* one or several, comma-separated */
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		if (n) {
			if (o->nissuers >= HC_AUTH_MAX_ISSUERS)
				return cli_usage_error(cmd, "at most %d "
							    "issuers",
						       HC_AUTH_MAX_ISSUERS);
			o->issuers[o->nissuers] = strndup(p, n);
			if (!o->issuers[o->nissuers])
				return 1;
			o->nissuers++;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

int cli_auth_option(const struct cli_command *cmd, struct cli_auth_opts *o,
		    int c, const char *arg)
{
	switch (c) {
	case CLI_OPT_AUTH_ISSUER:
		return add_issuers(cmd, o, arg);
	case CLI_OPT_AUTH_AUDIENCE:
		o->audience = arg;
		return 0;
	case CLI_OPT_AUTH_ROLES_CLIENT:
		o->roles_client = arg;
		return 0;
	case CLI_OPT_AUTH_ALGS:
		o->algorithms = arg;
		return 0;
	case CLI_OPT_AUTH_ROLE: {
		const char *eq = strchr(arg, '=');
		enum hc_scope level;
		if (!eq || eq == arg)
			return cli_usage_error(cmd, "--auth-role wants "
						    "ROLE=LEVEL, not '%s'",
					       arg);
		if (strcmp(eq + 1, "read") == 0)
			level = HC_SCOPE_READ;
		else if (strcmp(eq + 1, "write") == 0)
			level = HC_SCOPE_WRITE;
		else if (strcmp(eq + 1, "admin") == 0)
			level = HC_SCOPE_ADMIN;
		else if (strcmp(eq + 1, "none") == 0)
			level = HC_SCOPE_PUBLIC;
		else
			return cli_usage_error(cmd, "--auth-role: level must "
						    "be read, write, admin or "
						    "none, not '%s'",
					       eq + 1);
		if (o->nroles >= HC_AUTH_MAX_ROLES)
			return cli_usage_error(cmd, "at most %d --auth-role",
					       HC_AUTH_MAX_ROLES);
		o->roles[o->nroles].role = strndup(arg, (size_t)(eq - arg));
		o->roles[o->nroles++].level = level;
		return 0;
	}
	case CLI_OPT_AUTH_CLIENT_ID:
		o->client_id = arg;
		return 0;
	case CLI_OPT_AUTH_SECRET_FILE:
		o->secret_file = arg;
		return 0;
	case CLI_OPT_LOGIN_CLIENT_ID:
		o->login_client_id = arg;
		return 0;
	case CLI_OPT_LOGIN_SECRET_FILE:
		o->login_secret_file = arg;
		return 0;
	case CLI_OPT_AUTH_SKEW: {
		char *end;
		long v = strtol(arg, &end, 10);
		if (*end || end == arg || v < 1 || v > 600)
			return cli_usage_error(cmd, "--auth-clock-skew must be "
						    "1 to 600 seconds, not "
						    "'%s'",
					       arg);
		o->clock_skew = (int)v;
		return 0;
	}
	case CLI_OPT_NO_AUTH:
		o->off = true;
		return 0;
	}
	return -1;
}

void cli_auth_release(struct cli_auth_opts *o)
{
	for (size_t i = 0; i < o->nissuers; i++)
		free((char *)o->issuers[i]);
	for (size_t i = 0; i < o->nroles; i++)
		free((char *)o->roles[i].role);
	memset(o, 0, sizeof(*o));
}

/* The first line of a file, for a secret that must not be an argument. */
static int read_secret_file(const char *path, char *out, size_t size,
			    struct hc_err *err)
{
	FILE *f = fopen(path, "r");
	size_t n;
	if (!f)
		return hc_err_at(err, HC_EIO, path, 0, 0, "cannot read: %s",
				 strerror(errno));
	if (!fgets(out, (int)size, f))
		out[0] = '\0';
	fclose(f);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	if (!n)
		return hc_err_at(err, HC_EINVAL, path, 1, 0,
				 "the client secret file is empty");
	return HC_OK;
}

/* "http://HOST:PORT" of a listen address. */
static int audience_of(const char *listen, unsigned port, char *out,
		       size_t size, struct hc_err *err)
{
	const char *colon = strrchr(listen, ':');
	int hl = colon ? (int)(colon - listen) : 0;
	if (hl == 0 || (hl == 7 && strncmp(listen, "0.0.0.0", 7) == 0) ||
	    (hl == 4 && strncmp(listen, "[::]", 4) == 0))
		return hc_err_set(err, HC_EUSAGE,
				  "listening on every address, the hub cannot "
				  "tell its own URL: give --auth-audience "
				  "(the URL clients use, e.g. "
				  "https://dev-hub.example.org)");
	snprintf(out, size, "http://%.*s:%u", hl, listen, port);
	return HC_OK;
}

int cli_auth_open(struct hc_hub *hub, struct cli_auth_opts *o,
		  const char *listen, struct hc_err *err)
{
	struct hc_auth_options ao = { 0 };
	char secret[512] = "", login_secret[512] = "", aud[600];
	const char *env = getenv("FOSHUB_AUTH");
	const char *colon = strrchr(listen, ':');
	unsigned port = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
	int rc;

	if (o->off || (env && strcmp(env, "off") == 0)) {
		hc_log_warn(&hub->log,
			    "identity checks are OFF (--no-auth): anyone who "
			    "can reach %s may read and write",
			    listen);
		return HC_OK;
	}
	if (!o->nissuers) {
		env = getenv("FOSHUB_AUTH_ISSUERS");
		if (add_issuers(NULL, o, env && *env ? env : DEFAULT_ISSUER))
			return hc_err_set(err, HC_EUSAGE, "bad issuers");
	}
	for (size_t i = 0; i < o->nissuers; i++)
		ao.issuers[ao.nissuers++] = o->issuers[i];
	env = getenv("FOSHUB_AUTH_AUDIENCE");
	if (!o->audience && env && *env)
		o->audience = env;
	if (o->audience) {
		ao.audience = o->audience;
	} else {
		/* until the port is known (0: a free one), nothing passes */
		if ((rc = audience_of(listen, port, aud, sizeof(aud), err)) !=
		    HC_OK)
			return rc;
		ao.audience = aud;
	}
	ao.roles_client = o->roles_client;
	ao.algorithms = o->algorithms;
	ao.clock_skew = o->clock_skew;
	for (size_t i = 0; i < o->nroles; i++)
		ao.roles[ao.nroles++] = o->roles[i];
	env = getenv("FOSHUB_AUTH_CLIENT_ID");
	ao.client_id = o->client_id ? o->client_id : env && *env ? env : NULL;
	if (o->secret_file) {
		rc = read_secret_file(o->secret_file, secret, sizeof(secret),
				      err);
		if (rc != HC_OK)
			return rc;
		ao.client_secret = secret;
	} else if ((env = getenv("FOSHUB_AUTH_CLIENT_SECRET")) && *env) {
		ao.client_secret = env;
	}
	/* the pages' login: a confidential client of the first issuer */
	env = getenv("FOSHUB_LOGIN_CLIENT_ID");
	ao.login_client_id = o->login_client_id ? o->login_client_id
			     : env && *env	 ? env
						 : NULL;
	if (o->login_secret_file) {
		rc = read_secret_file(o->login_secret_file, login_secret,
				      sizeof(login_secret), err);
		if (rc != HC_OK) {
			explicit_bzero(secret, sizeof(secret));
			return hc_err_prefix(err, "--login-client-secret-file");
		}
		ao.login_client_secret = login_secret;
	} else if ((env = getenv("FOSHUB_LOGIN_CLIENT_SECRET")) && *env) {
		ao.login_client_secret = env;
	}
	if (ao.login_client_id && !ao.login_client_secret)
		rc = hc_err_set(err, HC_EUSAGE,
				"the page login's client '%s' needs its secret "
				"(--login-client-secret-file or "
				"FOSHUB_LOGIN_CLIENT_SECRET)",
				ao.login_client_id);
	else if (!ao.login_client_id && ao.login_client_secret)
		rc = hc_err_set(err, HC_EUSAGE,
				"a page login secret without its client "
				"(--login-client-id or FOSHUB_LOGIN_CLIENT_ID)");
	else
		rc = hc_auth_new(&hub->auth, &ao, err);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(login_secret, sizeof(login_secret));
	if (rc != HC_OK)
		return hc_err_prefix(err, "identity checks");
	return HC_OK;
}

int cli_auth_bound(struct hc_hub *hub, const struct cli_auth_opts *o,
		   const char *listen, unsigned port, struct hc_err *err)
{
	char aud[600];
	int rc;
	if (!hub->auth)
		return HC_OK;
	if (!o->audience) {
		rc = audience_of(listen, port, aud, sizeof(aud), err);
		if (rc == HC_OK)
			rc = hc_auth_set_audience(hub->auth, aud, err);
		if (rc != HC_OK)
			return rc;
	}
	hc_log_info(&hub->log,
		    "identity checks on: audience %s, trusting %s%s; page "
		    "login %s",
		    hc_auth_audience(hub->auth), hc_auth_issuer(hub->auth, 0),
		    hc_auth_issuer_count(hub->auth) > 1 ? " and others" : "",
		    hc_auth_login_origin(hub->auth, aud, sizeof(aud))
			    ? "on"
			    : "off (no --login-client-id): pages need a "
			      "bearer token");
	return HC_OK;
}

/* ---- foshub token ------------------------------------------------------------------ */

int cli_token(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "issuer", required_argument, NULL, 'i' },
		{ "client-id", required_argument, NULL, 'c' },
		{ "client-secret-file", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hc_auth_options ao = { 0 };
	struct hc_auth *a = NULL;
	struct hc_err err = { 0 };
	const char *issuer = NULL, *id = NULL, *file = NULL, *env;
	char secret[512] = "", *token = NULL;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			issuer = optarg;
			break;
		case 'c':
			id = optarg;
			break;
		case 's':
			file = optarg;
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
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "give the AUDIENCE: the URL of the "
					    "hub the token is for");
	if (!issuer) {
		env = getenv("FOSHUB_AUTH_ISSUERS");
		issuer = env && *env ? env : DEFAULT_ISSUER;
	}
	if (!id && (env = getenv("FOSHUB_AUTH_CLIENT_ID")) && *env)
		id = env;
	if (!id)
		return cli_usage_error(cmd, "which service account? "
					    "--client-id or "
					    "FOSHUB_AUTH_CLIENT_ID");
	if (file) {
		if (read_secret_file(file, secret, sizeof(secret), &err) !=
		    HC_OK) {
			cli_error(&err);
			return 1;
		}
	} else if ((env = getenv("FOSHUB_AUTH_CLIENT_SECRET")) && *env) {
		snprintf(secret, sizeof(secret), "%s", env);
	} else {
		return cli_usage_error(cmd, "the client secret comes from "
					    "--client-secret-file or "
					    "FOSHUB_AUTH_CLIENT_SECRET");
	}
	/* the first issuer of a list */
	{
		static char first[1024];
		snprintf(first, sizeof(first), "%.*s",
			 (int)strcspn(issuer, ","), issuer);
		ao.issuers[ao.nissuers++] = first;
	}
	ao.audience = argv[optind];
	ao.client_id = id;
	ao.client_secret = secret;
	rc = hc_auth_new(&a, &ao, &err);
	explicit_bzero(secret, sizeof(secret));
	if (rc == HC_OK)
		rc = hc_auth_service_token(a, argv[optind], &token, &err);
	hc_auth_free(a);
	if (rc != HC_OK) {
		cli_error(&err);
		return 1;
	}
	printf("%s\n", token);
	free(token);
	return 0;
}
