/*
 * idp.c - `foshub idp ...`: the NetKingdom IdP's admin commands. They edit
 * the IdP's YAML file in place (every other byte kept, the result checked,
 * the old file kept as a backup) and manage its signing keys. A running
 * IdP picks the changes up on SIGHUP.
 */
#include <errno.h>
#include <getopt.h>
#include <liboath/oath.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "idp/idp.h"
#include "idp/idp_admin.h"

#define MAX_LIST 32

/* The file the commands edit: --config, else $FOSHUB_IDP_CONFIG. */
static const char *config_path(const char *opt)
{
	const char *env = getenv("FOSHUB_IDP_CONFIG");
	if (opt)
		return opt;
	return env && *env ? env : "idp.yaml";
}

/* One line of stdin without its newline; with the echo off on a terminal. */
static int read_secret(const char *prompt, char *out, size_t size)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	size_t n;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (!fgets(out, (int)size, stdin))
		out[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = '\0';
	if (n && out[n - 1] == '\r')
		out[--n] = '\0';
	return n == size - 1 ? -1 : (int)n;
}

/* A password from the terminal (asked twice) or from stdin (one line). */
static int read_password(const struct cli_command *cmd, char *pw, size_t size)
{
	char again[1024];
	int n = read_secret("Password: ", pw, size);
	if (n < 0)
		return cli_usage_error(cmd, "the password is too long");
	if (n < 8) {
		fprintf(stderr, "foshub: error: a password needs at least 8 "
				"characters\n");
		return 1;
	}
	if (isatty(STDIN_FILENO)) {
		if (read_secret("Again: ", again, sizeof(again)) < 0 ||
		    strcmp(again, pw) != 0) {
			fprintf(stderr, "foshub: error: the passwords differ\n");
			return 1;
		}
	}
	return 0;
}

static int add_to(struct idp_strings *s, char **store,
		  const struct cli_command *cmd, const char *what,
		  const char *v)
{
	if (s->n >= MAX_LIST)
		return cli_usage_error(cmd, "at most %d %s", MAX_LIST, what);
	s->v = store;
	s->v[s->n++] = (char *)v;
	return 0;
}

static int unknown_option(const struct cli_command *cmd, char **argv)
{
	return cli_usage_error(cmd, "unknown or incomplete option '%s'",
			       argv[optind - 1]);
}

/* ---- hash-password -------------------------------------------------------------- */

int cli_idp_hash_password(const struct cli_command *cmd, int argc,
			  char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char pw[1024], *hash = NULL;
	struct hc_err err = { 0 };
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(cmd->usage, stdout);
			return 0;
		}
		return unknown_option(cmd, argv);
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s' (the "
					    "password is read from stdin)",
				       argv[optind]);
	if ((rc = read_password(cmd, pw, sizeof(pw))) != 0)
		return rc;
	rc = idp_password_hash(pw, &hash, &err);
	explicit_bzero(pw, sizeof(pw));
	if (rc != HC_OK) {
		cli_error(&err);
		return 1;
	}
	printf("%s\n", hash);
	free(hash);
	return 0;
}

/* ---- add-user ------------------------------------------------------------------- */

int cli_idp_add_user(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "email", required_argument, NULL, 'e' },
		{ "role", required_argument, NULL, 'r' },
		{ "group", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *rolev[MAX_LIST], *groupv[MAX_LIST];
	struct idp_strings roles = { rolev, 0 }, groups = { groupv, 0 };
	const char *config = NULL, *name = NULL, *email = NULL, *path;
	char pw[1024], *hash = NULL;
	struct hc_err err = { 0 };
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'e':
			email = optarg;
			break;
		case 'r':
			if ((rc = add_to(&roles, rolev, cmd, "roles", optarg)))
				return rc;
			break;
		case 'g':
			if ((rc = add_to(&groups, groupv, cmd, "groups",
					 optarg)))
				return rc;
			break;
		case 'h':
			fputs(cmd->usage, stdout);
			return 0;
		default:
			return unknown_option(cmd, argv);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "give one USERNAME");
	path = config_path(config);
	if ((rc = read_password(cmd, pw, sizeof(pw))) != 0)
		return rc;
	rc = idp_password_hash(pw, &hash, &err);
	explicit_bzero(pw, sizeof(pw));
	if (rc == HC_OK)
		rc = idp_admin_add_user(path, argv[optind], hash, name, email,
					&roles, &groups, &err);
	free(hash);
	if (rc != HC_OK) {
		cli_error(&err);
		return 1;
	}
	fprintf(stderr, "added user '%s' to %s (send SIGHUP to a running "
			"IdP to load it)\n",
		argv[optind], path);
	return 0;
}

/* ---- add-client ------------------------------------------------------------------ */

static void yaml_list(struct hc_buf *b, const char *key,
		      const struct idp_strings *s)
{
	if (!s->n)
		return;
	hc_buf_addf(b, "%s: [", key);
	for (size_t i = 0; i < s->n; i++) {
		hc_buf_adds(b, i ? ", " : "");
		idp_yaml_quote(b, s->v[i]);
	}
	hc_buf_adds(b, "]\n");
}

int cli_idp_add_client(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "public", no_argument, NULL, 'p' },
		{ "service-account", no_argument, NULL, 's' },
		{ "redirect-uri", required_argument, NULL, 'u' },
		{ "post-logout-redirect-uri", required_argument, NULL, 'l' },
		{ "grant-type", required_argument, NULL, 'g' },
		{ "scope", required_argument, NULL, 'o' },
		{ "audience", required_argument, NULL, 'a' },
		{ "default-audience", required_argument, NULL, 'd' },
		{ "role", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *uv[MAX_LIST], *lv[MAX_LIST], *gv[MAX_LIST], *ov[MAX_LIST],
		*av[MAX_LIST], *rv[MAX_LIST];
	struct idp_strings uris = { uv, 0 }, logout = { lv, 0 },
			   grants = { gv, 0 }, scopes = { ov, 0 },
			   auds = { av, 0 }, roles = { rv, 0 };
	const char *config = NULL, *name = NULL, *def_aud = NULL, *path, *id;
	bool public_client = false, service = false;
	struct hc_buf item = HC_BUF_INIT(64 * 1024);
	char secret[64];
	struct hc_err err = { 0 };
	int c, rc = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'p':
			public_client = true;
			break;
		case 's':
			service = true;
			break;
		case 'u':
			rc = add_to(&uris, uv, cmd, "redirect URIs", optarg);
			break;
		case 'l':
			rc = add_to(&logout, lv, cmd, "logout URIs", optarg);
			break;
		case 'g':
			rc = add_to(&grants, gv, cmd, "grant types", optarg);
			break;
		case 'o':
			rc = add_to(&scopes, ov, cmd, "scopes", optarg);
			break;
		case 'a':
			rc = add_to(&auds, av, cmd, "audiences", optarg);
			break;
		case 'd':
			def_aud = optarg;
			break;
		case 'r':
			rc = add_to(&roles, rv, cmd, "roles", optarg);
			break;
		case 'h':
			fputs(cmd->usage, stdout);
			return 0;
		default:
			return unknown_option(cmd, argv);
		}
		if (rc)
			return rc;
	}
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "give one CLIENT_ID");
	if (public_client && service)
		return cli_usage_error(cmd, "a service account cannot be "
					    "public");
	if (roles.n && !service)
		return cli_usage_error(cmd, "--role is for service accounts "
					    "(users carry their own roles)");
	id = argv[optind];
	path = config_path(config);
	hc_buf_adds(&item, "- client_id: ");
	idp_yaml_quote(&item, id);
	hc_buf_addc(&item, '\n');
	if (name) {
		hc_buf_adds(&item, "name: ");
		idp_yaml_quote(&item, name);
		hc_buf_addc(&item, '\n');
	}
	if (public_client) {
		hc_buf_adds(&item, "public: true\n");
	} else {
		/* 256 random bits: a SHA-256 of them is safe to keep, and
		 * fast to check on every token request */
		char hash[80];
		if (idp_random(secret, sizeof(secret), 32) != 0 ||
		    idp_secret_hash(hash, sizeof(hash), secret) != 0) {
			hc_buf_release(&item);
			fprintf(stderr, "foshub: error: no random secret\n");
			return 1;
		}
		hc_buf_adds(&item, "secret_hash: ");
		idp_yaml_quote(&item, hash);
		hc_buf_addc(&item, '\n');
	}
	yaml_list(&item, "redirect_uris", &uris);
	yaml_list(&item, "post_logout_redirect_uris", &logout);
	yaml_list(&item, "grant_types", &grants);
	yaml_list(&item, "scopes", &scopes);
	yaml_list(&item, "audiences", &auds);
	yaml_list(&item, "roles", &roles);
	if (def_aud) {
		hc_buf_adds(&item, "default_audience: ");
		idp_yaml_quote(&item, def_aud);
		hc_buf_addc(&item, '\n');
	}
	rc = idp_admin_add_client(path, item.data, id, service, &err);
	hc_buf_release(&item);
	if (rc != HC_OK) {
		explicit_bzero(secret, sizeof(secret));
		cli_error(&err);
		return 1;
	}
	fprintf(stderr, "added %s '%s' to %s (send SIGHUP to a running IdP "
			"to load it)\n",
		service ? "service account" : "client", id, path);
	if (!public_client) {
		/* shown once: only its hash is kept */
		fprintf(stderr, "the client secret, shown this once:\n");
		printf("%s\n", secret);
		explicit_bzero(secret, sizeof(secret));
	}
	return 0;
}

/* ---- totp-enroll ------------------------------------------------------------------- */

/* Percent-encode s for an otpauth:// URI. */
static void uri_escape(struct hc_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			hc_buf_addc(b, (char)c);
		else
			hc_buf_addf(b, "%%%02X", c);
	}
}

/* The QR code of text in the terminal, two modules per character cell
 * (light modules drawn, for the usual dark terminal background). */
static void print_qr(FILE *out, const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	const int quiet = 2;
	int w;
	if (!qr) {
		fprintf(stderr, "foshub: note: no QR code: %s\n",
			strerror(errno));
		return;
	}
	w = qr->width;
	for (int y = -quiet; y < w + quiet; y += 2) {
		for (int x = -quiet; x < w + quiet; x++) {
			bool top = y >= 0 && y < w && x >= 0 && x < w &&
				   (qr->data[y * w + x] & 1);
			bool bot = y + 1 >= 0 && y + 1 < w && x >= 0 &&
				   x < w && (qr->data[(y + 1) * w + x] & 1);
			/* a dark module is left blank */
			fputs(!top && !bot ? "\xe2\x96\x88"	/* full */
			      : !top	   ? "\xe2\x96\x80" /* upper */
			      : !bot	   ? "\xe2\x96\x84" /* lower */
					   : " ",
			      out);
		}
		fputc('\n', out);
	}
	QRcode_free(qr);
}

int cli_idp_totp_enroll(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "qr", no_argument, NULL, 'q' },
		{ "no-qr", no_argument, NULL, 'n' },
		{ "label", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *path, *label = "NetKingdom";
	int qr = -1, c, rc;
	unsigned char raw[20];
	char *b32 = NULL;
	size_t b32len = 0;
	struct idp_config *cfg = NULL;
	struct hc_buf uri = HC_BUF_INIT(8192);
	struct hc_err err = { 0 };

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'q':
			qr = 1;
			break;
		case 'n':
			qr = 0;
			break;
		case 'l':
			label = optarg;
			break;
		case 'h':
			fputs(cmd->usage, stdout);
			return 0;
		default:
			return unknown_option(cmd, argv);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "give one USERNAME");
	path = config_path(config);
	if (idp_config_load(path, &cfg, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	if (oath_init() != OATH_OK ||
	    getentropy(raw, sizeof(raw)) != 0 ||
	    oath_base32_encode((const char *)raw, sizeof(raw), &b32,
			       &b32len) != OATH_OK) {
		idp_config_unref(cfg);
		fprintf(stderr, "foshub: error: cannot make a TOTP secret\n");
		return 1;
	}
	explicit_bzero(raw, sizeof(raw));
	/* base32 without the padding authenticator apps do not want */
	while (b32len && b32[b32len - 1] == '=')
		b32[--b32len] = '\0';
	rc = idp_admin_set_totp(path, argv[optind], b32, &err);
	if (rc != HC_OK) {
		cli_error(&err);
		free(b32);
		idp_config_unref(cfg);
		return 1;
	}
	/* otpauth://totp/LABEL:USER?secret=...&issuer=ISSUER (Key URI
	 * Format, as Google Authenticator and others read it) */
	hc_buf_adds(&uri, "otpauth://totp/");
	uri_escape(&uri, label);
	hc_buf_adds(&uri, ":");
	uri_escape(&uri, argv[optind]);
	hc_buf_addf(&uri, "?secret=%s&issuer=", b32);
	uri_escape(&uri, label);
	hc_buf_adds(&uri, "&algorithm=SHA1&digits=6&period=30");
	printf("%s\n", uri.data);
	if (qr == 1 || (qr < 0 && isatty(STDOUT_FILENO)))
		print_qr(stdout, uri.data);
	fprintf(stderr, "enrolled user '%s' for TOTP in %s (send SIGHUP to a "
			"running IdP to load it)\n",
		argv[optind], path);
	explicit_bzero(b32, b32len);
	free(b32);
	hc_buf_release(&uri);
	idp_config_unref(cfg);
	return 0;
}

/* ---- rotate-keys ------------------------------------------------------------------- */

int cli_idp_rotate_keys(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *db = NULL;
	struct idp_config *cfg = NULL;
	struct hc_err err = { 0 };
	char *dir;
	int c, rc, ttl;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'h':
			fputs(cmd->usage, stdout);
			return 0;
		default:
			return unknown_option(cmd, argv);
		}
	}
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	if (idp_config_load(config_path(config), &cfg, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	dir = idp_keys_dir(cfg, cli_db(db, &idp_def));
	if (!dir) {
		idp_config_unref(cfg);
		fprintf(stderr, "foshub: error: out of memory\n");
		return 1;
	}
	free(cfg->keys_dir);
	cfg->keys_dir = dir;
	/* what a key signed must verify until the last such token expires */
	ttl = cfg->access_ttl > cfg->id_ttl ? cfg->access_ttl : cfg->id_ttl;
	rc = idp_keys_rotate(cfg->keys_dir, cfg->key_publish_delay, ttl, &err);
	if (rc != HC_OK) {
		cli_error(&err);
		idp_config_unref(cfg);
		return 1;
	}
	fprintf(stderr,
		"new ES256 and RS256 keys in %s: published now, signing in "
		"%d s; the old keys stay published until their tokens have "
		"expired. Send SIGHUP to a running IdP to load them.\n",
		cfg->keys_dir, cfg->key_publish_delay);
	idp_config_unref(cfg);
	return 0;
}

/* ---- export-keycloak-realm -------------------------------------------------------- */

int cli_idp_export_keycloak(const struct cli_command *cmd, int argc,
			    char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "realm", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *realm = "foshub", *output = NULL;
	struct idp_config *cfg = NULL;
	struct hc_err err = { 0 };
	json_t *doc = NULL;
	char *text;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'r':
			realm = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(cmd->usage, stdout);
			return 0;
		default:
			return unknown_option(cmd, argv);
		}
	}
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	if (idp_config_load(config_path(config), &cfg, &err) != HC_OK) {
		cli_error(&err);
		return 1;
	}
	rc = idp_keycloak_realm(cfg, realm, &doc, &err);
	idp_config_unref(cfg);
	if (rc != HC_OK) {
		cli_error(&err);
		return 1;
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	if (!text) {
		fprintf(stderr, "foshub: error: out of memory\n");
		return 1;
	}
	if (output) {
		FILE *f = fopen(output, "w");
		if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0) {
			fprintf(stderr, "foshub: error: cannot write %s: %s\n",
				output, strerror(errno));
			free(text);
			return 1;
		}
	} else {
		printf("%s\n", text);
	}
	free(text);
	return 0;
}
