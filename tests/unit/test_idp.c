/*
 * test_idp.c - the IdP's configuration file: what it accepts, what it
 * refuses (with file:line), and the admin edits that keep every other byte
 * of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>

#include "hubcore/buf.h"
#include "idp/idp.h"
#include "idp/idp_admin.h"
#include "idp/idp_internal.h"
#include "testutil.h"

/* TEST FIXTURE: an argon2id hash of a made-up password. */
#define HASH                                                                \
	"$argon2id$v=19$m=65536,t=3,p=1$n9nzbnJ53ik+dHj9yWrv7w$XKo/7Vz7/"   \
	"ZeWde3qjfLHv4LMADIRZqGUPtlxwSLNO80"

static const char base[] =
	"# a comment that must survive\n"
	"issuer: \"http://127.0.0.1:8000\"\n"
	"registration_audiences: [\"http://127.0.0.1:*\"]\n"
	"users:\n"
	"  - username: alice   # trailing comment\n"
	"    password_hash: \"" HASH "\"\n"
	"    roles: [admin]\n"
	"  - username: bob\n"
	"    password_hash: \"" HASH "\"\n"
	"    groups:\n"
	"      - apps\n"
	"clients:\n"
	"  - client_id: app\n"
	"    public: true\n"
	"    redirect_uris: [\"http://127.0.0.1/cb\"]\n"
	"# the end\n";

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	FILE *f;
	sprintf(path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	struct hc_buf b = HC_BUF_INIT(1 << 20);
	char chunk[4096];
	size_t n;
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		hc_buf_add(&b, chunk, n);
	fclose(f);
	hc_buf_addc(&b, '\0');
	return hc_buf_detach(&b, NULL);
}

/* Load text; expect a refusal naming line and containing what. */
static void refused(const char *text, int line, const char *what)
{
	char *dir = tu_tempdir(), *path = write_file(dir, "idp.yaml", text);
	struct idp_config *cfg = NULL;
	struct hc_err err = { 0 };
	char msg[1024];
	assert_int_not_equal(idp_config_load(path, &cfg, &err), HC_OK);
	assert_null(cfg);
	hc_err_format(&err, msg, sizeof(msg));
	if (line) {
		char want[64];
		snprintf(want, sizeof(want), "idp.yaml:%d", line);
		if (!strstr(msg, want))
			fail_msg("expected %s in: %s", want, msg);
	}
	if (!strstr(msg, what))
		fail_msg("expected '%s' in: %s", what, msg);
	free(path);
	tu_rmtree(dir);
}

static void test_load(void **state)
{
	char *dir = tu_tempdir(), *path = write_file(dir, "idp.yaml", base);
	struct idp_config *cfg = NULL;
	struct hc_err err = { 0 };
	assert_int_equal(idp_config_load(path, &cfg, &err), HC_OK);
	assert_string_equal(cfg->issuer, "http://127.0.0.1:8000");
	assert_int_equal(cfg->nusers, 2);
	assert_int_equal(cfg->access_ttl, 900);
	assert_string_equal(cfg->keys_dir, "var/idp-keys");
	assert_true(idp_strings_has(&idp_config_user(cfg, "alice")->roles,
				    "admin"));
	assert_true(idp_strings_has(&idp_config_user(cfg, "bob")->groups,
				    "apps"));
	assert_true(idp_config_client(cfg, "app")->public_client);
	/* the default grants of a client, and PKCE required */
	assert_true(idp_strings_has(&idp_config_client(cfg, "app")->grant_types,
				    "authorization_code"));
	assert_true(idp_config_client(cfg, "app")->require_pkce);
	idp_config_unref(cfg);
	free(path);
	/* grant_types written as an empty list also gets the default (the
	 * empty list's array once leaked: fuzz_idp_config) */
	{
		char text[4096];
		snprintf(text, sizeof(text),
			 "%s  - client_id: app2\n    public: true\n"
			 "    redirect_uris: [\"http://127.0.0.1/cb\"]\n"
			 "    grant_types: []\n",
			 base);
		path = write_file(dir, "idp2.yaml", text);
		assert_int_equal(idp_config_load(path, &cfg, &err), HC_OK);
		assert_int_equal(
			idp_config_client(cfg, "app2")->grant_types.n, 2);
		assert_true(idp_strings_has(
			&idp_config_client(cfg, "app2")->grant_types,
			"refresh_token"));
		idp_config_unref(cfg);
		free(path);
	}
	tu_rmtree(dir);
}

static void test_refusals(void **state)
{
	char text[4096];
	refused("issuer: [\n", 2, "invalid YAML");
	refused("users: []\n", 1, "needs 'issuer'");
	refused("issuer: \"ftp://x\"\n", 1, "http(s) URL");
	snprintf(text, sizeof(text), "%sfrobnicate: 1\n", base);
	refused(text, 17, "unknown key 'frobnicate'");
	snprintf(text, sizeof(text), "%saccess_token_ttl: soon\n", base);
	refused(text, 17, "access_token_ttl");
	snprintf(text, sizeof(text), "%scode_ttl: 100000\n", base);
	refused(text, 17, "code_ttl");
	refused("issuer: \"http://x\"\nusers:\n  - username: a\n"
		"    password_hash: plain\n",
		3, "argon2id");
	refused("issuer: \"http://x\"\nusers:\n  - username: a\n"
		"    password_hash: \"" HASH "\"\n    totp_secret: \"1\"\n",
		3, "base32");
	refused("issuer: \"http://x\"\nusers:\n  - username: a\n"
		"    password_hash: \"" HASH "\"\n  - username: a\n"
		"    password_hash: \"" HASH "\"\n",
		5, "defined twice");
	refused("issuer: \"http://x\"\nclients:\n  - client_id: c\n"
		"    public: true\n    redirect_uris: [\"http://evil.example/cb\"]\n",
		3, "redirect URI");
	refused("issuer: \"http://x\"\nclients:\n  - client_id: c\n"
		"    redirect_uris: [\"https://a.example/cb\"]\n",
		3, "needs a secret_hash");
	refused("issuer: \"http://x\"\nservice_accounts:\n  - client_id: c\n"
		"    secret_hash: \"sha256:abc\"\n",
		3, "sha256:<64 hex digits>");
	refused("issuer: \"http://x\"\nclients:\n  - client_id: c\n"
		"    public: true\n    grant_types: [client_credentials]\n",
		3, "public client cannot use client_credentials");
	refused("issuer: \"http://x\"\nclients:\n  - client_id: c\n"
		"    public: true\n    grant_types: [password]\n"
		"    redirect_uris: [\"https://a.example/cb\"]\n",
		3, "unknown grant type 'password'");
	/* a user could otherwise take a service account's subject */
	refused("issuer: \"http://x\"\nusers:\n  - username: "
		"service-account-svc\n    password_hash: \"" HASH "\"\n",
		3, "starts with 'service-account-'");
	refused("issuer: \"http://x\"\nusers:\n  - username: \"\"\n"
		"    password_hash: \"" HASH "\"\n",
		3, "username must not be empty");
	refused("issuer: \"http://x\"\nclients:\n  - client_id: \"\"\n"
		"    public: true\n    redirect_uris: [\"https://a.example/cb\"]\n",
		3, "client_id must not be empty");
	refused("issuer: \"http://x\"\nclients:\n  - client_id: c\n"
		"    public: true\n    redirect_uris: [\"https://a.example/cb\"]\n"
		"    post_logout_redirect_uris: [\"http://1.2.3.4/x\"]\n",
		3, "post-logout redirect URI");
	refused("issuer: \"http://x\"\nclients:\n  - client_id: c\n"
		"    public: true\n"
		"    redirect_uris: [\"http://127.0.0.1:80@evil.example/cb\"]\n",
		3, "redirect URI");
	/* one document: a second one would be ignored */
	refused("issuer: \"http://x\"\n---\nissuer: \"http://y\"\n", 2,
		"second YAML document");
	refused("issuer: \"http://x\"\n---\n[\n", 0, "second YAML document");
}

static void test_one_document_is_fine(void **state)
{
	char *dir = tu_tempdir();
	char *path = write_file(dir, "idp.yaml",
				"---\nissuer: \"http://127.0.0.1:8000\"\n...\n");
	struct idp_config *cfg = NULL;
	struct hc_err err = { 0 };
	assert_int_equal(idp_config_load(path, &cfg, &err), HC_OK);
	idp_config_unref(cfg);
	free(path);
	tu_rmtree(dir);
}

static void test_secrets(void **state)
{
	char stored[80];
	assert_int_equal(idp_secret_hash(stored, sizeof(stored), "s3cret"), 0);
	assert_int_equal(strncmp(stored, "sha256:", 7), 0);
	assert_true(idp_secret_check(stored, "s3cret"));
	assert_false(idp_secret_check(stored, "s3cret "));
	assert_false(idp_secret_check("sha256:00", "s3cret"));
	assert_false(idp_secret_check(HASH, "s3cret"));
	assert_false(idp_secret_check(NULL, "s3cret"));
}

static void test_redirect_uri_rules(void **state)
{
	assert_true(idp_redirect_uri_ok("https://app.example/cb"));
	assert_true(idp_redirect_uri_ok("http://127.0.0.1/cb"));
	assert_true(idp_redirect_uri_ok("http://127.0.0.1:9999/cb"));
	assert_true(idp_redirect_uri_ok("http://[::1]:80/cb"));
	assert_true(idp_redirect_uri_ok("com.example.app:/cb"));
	assert_false(idp_redirect_uri_ok("http://app.example/cb"));
	assert_false(idp_redirect_uri_ok("http://127.0.0.1.evil.example/cb"));
	assert_false(idp_redirect_uri_ok("https://app.example/cb#frag"));
	assert_false(idp_redirect_uri_ok("javascript:alert(1)"));
	assert_false(idp_redirect_uri_ok("data:text/html,x.y"));
	assert_false(idp_redirect_uri_ok(".example:/cb"));
}

/* The authority is parsed, not compared by prefix: what a browser would
 * read as another host, a header break, or no port at all is refused. */
static void test_redirect_uri_authority(void **state)
{
	char longuri[IDP_MAX_URI + 64];
	/* still allowed */
	assert_true(idp_redirect_uri_ok("http://localhost/cb"));
	assert_true(idp_redirect_uri_ok("http://localhost:1/cb"));
	assert_true(idp_redirect_uri_ok("http://[::1]:65535/cb"));
	assert_true(idp_redirect_uri_ok("http://127.0.0.1"));
	assert_true(idp_redirect_uri_ok("http://127.0.0.1:5555?x=1"));
	assert_true(idp_redirect_uri_ok("https://app.example:8443/cb?x=1&y"));
	assert_true(idp_redirect_uri_ok("https://[2001:db8::1]/cb"));
	assert_true(idp_redirect_uri_ok("https://app.example/a%20b"));
	assert_true(idp_redirect_uri_ok("com.example.app://cb"));
	assert_true(idp_redirect_uri_ok("com.example.app:/oauth/cb"));
	/* userinfo: http://127.0.0.1:80@evil.example is evil.example */
	assert_false(idp_redirect_uri_ok("http://127.0.0.1:80@evil.com/cb"));
	assert_false(idp_redirect_uri_ok("http://localhost@evil.com/cb"));
	assert_false(idp_redirect_uri_ok("https://user:pw@app.example/cb"));
	assert_false(idp_redirect_uri_ok("com.example.app://u@h/cb"));
	/* whitespace and control characters (a Location header breaks) */
	assert_false(idp_redirect_uri_ok("https://app.example/cb\r\nX: y"));
	assert_false(idp_redirect_uri_ok("https://app.example/cb\n"));
	assert_false(idp_redirect_uri_ok("https://app.example/c b"));
	assert_false(idp_redirect_uri_ok("https://app.example/\tcb"));
	assert_false(idp_redirect_uri_ok("https://app.example/cb\x7f"));
	assert_false(idp_redirect_uri_ok("https://app.example/\xc3\xa9"));
	assert_false(idp_redirect_uri_ok("https://app.example/<cb>"));
	assert_false(idp_redirect_uri_ok("com.example.app:/c b"));
	/* ports */
	assert_false(idp_redirect_uri_ok("http://127.0.0.1:99999999/cb"));
	assert_false(idp_redirect_uri_ok("http://127.0.0.1:65536/cb"));
	assert_false(idp_redirect_uri_ok("http://127.0.0.1:0/cb"));
	assert_false(idp_redirect_uri_ok("http://127.0.0.1:/cb"));
	assert_false(idp_redirect_uri_ok("https://app.example:x/cb"));
	assert_false(idp_redirect_uri_ok("http://[::1]:1:2/cb"));
	/* hosts */
	assert_false(idp_redirect_uri_ok("https:///cb"));
	assert_false(idp_redirect_uri_ok("https://:443/cb"));
	assert_false(idp_redirect_uri_ok("https:/app.example/cb"));
	assert_false(idp_redirect_uri_ok("https:app.example"));
	assert_false(idp_redirect_uri_ok("http://[]/cb"));
	assert_false(idp_redirect_uri_ok("https://[zz]/cb"));
	assert_false(idp_redirect_uri_ok("https://app_x%41.example/cb"));
	assert_false(idp_redirect_uri_ok("http://127.0.0.2/cb"));
	assert_false(idp_redirect_uri_ok("http://LOCALHOST.evil.example/cb"));
	assert_false(idp_redirect_uri_ok(""));
	assert_false(idp_redirect_uri_ok(NULL));
	/* length */
	memset(longuri, 'a', sizeof(longuri) - 1);
	longuri[sizeof(longuri) - 1] = '\0';
	memcpy(longuri, "https://app.example/", 20);
	assert_false(idp_redirect_uri_ok(longuri));
	longuri[IDP_MAX_URI] = '\0';
	assert_true(idp_redirect_uri_ok(longuri));
}

/* Every line of before is in after, in order. */
static void assert_kept(const char *before, const char *after)
{
	const char *b = before, *a = after;
	while (*b) {
		size_t n = strcspn(b, "\n");
		const char *hit;
		char line[512];
		snprintf(line, sizeof(line), "%.*s\n", (int)n, b);
		hit = strstr(a, line);
		if (!hit)
			fail_msg("line lost or moved: %s", line);
		a = hit + strlen(line);
		b += n + (b[n] == '\n');
	}
}

static void test_admin_edits(void **state)
{
	char *dir = tu_tempdir(), *path = write_file(dir, "idp.yaml", base);
	char *before = read_all(path), *after;
	char *rv[] = { "dev", "ops" };
	struct idp_strings roles = { rv, 2 }, none = { NULL, 0 };
	struct idp_config *cfg = NULL;
	struct hc_err err = { 0 };
	struct stat st;

	chmod(path, 0640);
	assert_int_equal(idp_admin_add_user(path, "carol", HASH,
					    "Carol \"C\" O'Test", NULL, &roles,
					    &none, &err),
			 HC_OK);
	assert_int_equal(idp_admin_set_totp(path, "alice",
					    "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
					    &err),
			 HC_OK);
	assert_int_equal(idp_admin_set_totp(path, "bob",
					    "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
					    &err),
			 HC_OK);
	assert_int_equal(idp_admin_add_client(path,
					      "- client_id: \"svc\"\n"
					      "secret_hash: \"" HASH "\"\n"
					      "roles: [\"service\"]\n",
					      "svc", true, &err),
			 HC_OK);
	after = read_all(path);
	assert_kept(before, after);
	assert_int_equal(idp_config_load(path, &cfg, &err), HC_OK);
	assert_int_equal(cfg->nusers, 3);
	assert_string_equal(idp_config_user(cfg, "carol")->name,
			    "Carol \"C\" O'Test");
	assert_true(idp_strings_has(&idp_config_user(cfg, "carol")->roles,
				    "ops"));
	assert_non_null(idp_config_user(cfg, "alice")->totp_secret);
	assert_non_null(idp_config_user(cfg, "bob")->totp_secret);
	/* bob's list of groups is intact after his new key */
	assert_true(idp_strings_has(&idp_config_user(cfg, "bob")->groups,
				    "apps"));
	assert_true(idp_config_client(cfg, "svc")->service_account);
	idp_config_unref(cfg);
	/* the file's mode is kept */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);

	/* refusals change nothing */
	assert_int_equal(idp_admin_add_user(path, "carol", HASH, NULL, NULL,
					    &none, &none, &err),
			 HC_ECONFLICT);
	assert_int_equal(idp_admin_set_totp(path, "alice", "JBSWY3DPEHPK3PXP",
					    &err),
			 HC_ECONFLICT);
	assert_int_equal(idp_admin_set_totp(path, "nobody", "JBSWY3DPEHPK3PXP",
					    &err),
			 HC_ENOTFOUND);
	/* an edit whose result would not load is refused */
	assert_int_not_equal(idp_admin_add_client(path,
						  "- client_id: \"bad\"\n"
						  "public: true\n"
						  "grant_types: [nope]\n",
						  "bad", false, &err),
			     HC_OK);
	{
		char *again = read_all(path);
		assert_string_equal(again, after);
		free(again);
	}
	free(before);
	free(after);
	free(path);
	tu_rmtree(dir);
}

static void test_admin_new_list_and_flow_style(void **state)
{
	char *dir = tu_tempdir();
	char *path = write_file(dir, "idp.yaml",
				"issuer: \"http://127.0.0.1:8000\"\n"
				"users: [{username: a, password_hash: \"" HASH
				"\"}]\n");
	struct idp_strings none = { NULL, 0 };
	struct idp_config *cfg = NULL;
	struct hc_err err = { 0 };
	/* a list in flow style is not edited: it would be rewritten */
	assert_int_equal(idp_admin_add_user(path, "b", HASH, NULL, NULL, &none,
					    &none, &err),
			 HC_EUSAGE);
	/* a list that is not there yet is made */
	assert_int_equal(idp_admin_add_client(path,
					      "- client_id: \"app\"\n"
					      "public: true\n"
					      "redirect_uris: [\"http://127.0.0.1/cb\"]\n",
					      "app", false, &err),
			 HC_OK);
	assert_int_equal(idp_config_load(path, &cfg, &err), HC_OK);
	assert_non_null(idp_config_client(cfg, "app"));
	idp_config_unref(cfg);
	free(path);
	tu_rmtree(dir);
}

/* The editor refuses what it cannot edit safely, and changes nothing. */
static void test_admin_refusals(void **state)
{
	char *dir = tu_tempdir();
	char two[4096];
	char *path, *before, *after;
	struct idp_strings none = { NULL, 0 };
	struct hc_err err = { 0 };
	char msg[1024];

	/* a second document: add-user used to edit that one */
	snprintf(two, sizeof(two), "%s---\nusers:\n  - username: x\n", base);
	path = write_file(dir, "two.yaml", two);
	assert_int_equal(idp_admin_add_user(path, "carol", HASH, NULL, NULL,
					    &none, &none, &err),
			 HC_EPARSE);
	hc_err_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(msg, "two.yaml:17"));
	assert_non_null(strstr(msg, "second YAML document"));
	assert_int_equal(idp_admin_set_totp(path, "alice", "JBSWY3DPEHPK3PXP",
					    &err),
			 HC_EPARSE);
	after = read_all(path);
	assert_string_equal(after, two);
	free(after);
	free(path);

	/* an empty username */
	path = write_file(dir, "idp.yaml", base);
	before = read_all(path);
	assert_int_equal(idp_admin_add_user(path, "", HASH, NULL, NULL, &none,
					    &none, &err),
			 HC_EUSAGE);
	assert_non_null(strstr(err.msg, "must not be empty"));
	/* a username the file refuses (a service account's subject) */
	assert_int_not_equal(idp_admin_add_user(path, "service-account-svc",
						HASH, NULL, NULL, &none, &none,
						&err),
			     HC_OK);
	assert_non_null(strstr(err.msg, "service-account-"));
	/* the temporary file is created new: a link planted under its
	 * name is not followed */
	{
		char tmp[4200], victim[4200];
		snprintf(victim, sizeof(victim), "%s/victim", dir);
		free(write_file(dir, "victim", "keep me\n"));
		snprintf(tmp, sizeof(tmp), "%s.%ld.new", path, (long)getpid());
		assert_int_equal(symlink(victim, tmp), 0);
		assert_int_equal(idp_admin_add_user(path, "carol", HASH, NULL,
						    NULL, &none, &none, &err),
				 HC_EIO);
		assert_non_null(strstr(err.msg, "cannot create"));
		after = read_all(victim);
		assert_string_equal(after, "keep me\n");
		free(after);
		unlink(tmp);
	}
	after = read_all(path);
	assert_string_equal(after, before);
	free(after);
	free(before);
	free(path);
	tu_rmtree(dir);
}

/* A configuration reached through a symbolic link is edited where it is:
 * the link stays a link, the backup is beside the real file. */
static void test_admin_through_symlink(void **state)
{
	char *dir = tu_tempdir();
	char sub[4200], link[4200], *real, *text;
	struct idp_strings none = { NULL, 0 };
	struct idp_config *cfg = NULL;
	struct hc_err err = { 0 };
	struct stat st;
	snprintf(sub, sizeof(sub), "%s/real", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	real = write_file(sub, "idp.yaml", base);
	snprintf(link, sizeof(link), "%s/idp.yaml", dir);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(idp_admin_add_user(link, "carol", HASH, NULL, NULL,
					    &none, &none, &err),
			 HC_OK);
	assert_int_equal(idp_admin_set_totp(link, "carol", "JBSWY3DPEHPK3PXP",
					    &err),
			 HC_OK);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(idp_config_load(real, &cfg, &err), HC_OK);
	assert_non_null(idp_config_user(cfg, "carol"));
	assert_non_null(idp_config_user(cfg, "carol")->totp_secret);
	idp_config_unref(cfg);
	text = read_all(real);
	assert_kept(base, text);
	free(text);
	{
		/* the backups are beside the real file, none beside the link */
		char cmd[9000];
		snprintf(cmd, sizeof(cmd),
			 "ls %s | grep -q '^idp.yaml\\..*\\.bak$' && "
			 "! ls %s | grep -q '\\.bak$'",
			 sub, dir);
		assert_int_equal(system(cmd), 0);
	}
	free(real);
	tu_rmtree(dir);
}

/* ---- the IdP's database: throttle and purge ------------------------------------ */

struct db {
	char *dir;
	struct hc_store *s;
	struct hc_conn *c;
	struct idp_config cfg;
};

static int db_setup(void **state)
{
	struct db *d = calloc(1, sizeof(*d));
	struct hc_err err = { 0 };
	d->dir = tu_tempdir();
	if (hc_store_open(&d->s, tu_db_url(d->dir, "idp.db"), NULL, &err) ||
	    hc_migrate(d->s, idp_def.migrations, idp_def.nmigrations, NULL,
		       &err))
		fail_msg("%s", err.msg);
	d->c = hc_store_acquire(d->s, &err);
	d->cfg.lock_seconds = 60;
	d->cfg.max_lock_seconds = 3600;
	*state = d;
	return 0;
}

static int db_teardown(void **state)
{
	struct db *d = *state;
	hc_store_release(d->s, d->c);
	hc_store_close(d->s);
	tu_rmtree(d->dir);
	free(d);
	return 0;
}

static void exec_ok(struct hc_conn *c, const char *sql)
{
	struct hc_err err = { 0 };
	if (hc_exec_script(c, sql, &err) != HC_OK)
		fail_msg("%s: %s", sql, err.msg);
}

static int64_t count(struct hc_conn *c, const char *sql)
{
	int64_t n = -1;
	struct hc_err err = { 0 };
	if (hc_query_int(c, &n, sql, NULL, 0, &err) != HC_OK)
		fail_msg("%s: %s", sql, err.msg);
	return n;
}

/* Each attempt is counted as it is let through: the limit-th locks. */
static void test_throttle_reserve(void **state)
{
	struct db *d = *state;
	int retry = 0, n = 0;
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(idp_throttle_reserve(d->c, &d->cfg, "user:x",
						      3, &retry, &n, NULL),
				 HC_OK);
		assert_int_equal(n, i);
	}
	/* the third locked the key, the right password included */
	assert_int_equal(idp_throttle_reserve(d->c, &d->cfg, "user:x", 3,
					      &retry, &n, NULL),
			 HC_EBUSY);
	assert_true(retry > 50 && retry <= 60);
	/* an attempt that was not judged is taken back, and its lock */
	idp_throttle_undo(d->c, "user:x");
	assert_int_equal(idp_throttle_reserve(d->c, &d->cfg, "user:x", 3,
					      &retry, &n, NULL),
			 HC_OK);
	assert_int_equal(n, 3);
	/* a success clears the record */
	idp_throttle_reset(d->c, "user:x");
	assert_int_equal(idp_throttle_reserve(d->c, &d->cfg, "user:x", 3,
					      &retry, &n, NULL),
			 HC_OK);
	assert_int_equal(n, 1);
	/* other keys are not touched */
	assert_int_equal(idp_throttle_reserve(d->c, &d->cfg, "user:y", 3,
					      &retry, &n, NULL),
			 HC_OK);
	assert_int_equal(n, 1);
	/* 0: counted, never locked (the emergency account) */
	for (int i = 1; i <= 10; i++) {
		assert_int_equal(idp_throttle_reserve(d->c, &d->cfg,
						      "user:bg", 0, &retry, &n,
						      NULL),
				 HC_OK);
		assert_int_equal(n, i);
	}
}

/* A lock that ran out lets one attempt through; its failure doubles. */
static void test_throttle_doubles(void **state)
{
	struct db *d = *state;
	int retry = 0, n = 0;
	char sql[200];
	long long now = (long long)time(NULL);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO idp_throttle (key, failures, last_failure, "
		 "locked_until) VALUES ('ip:a', 3, %lld, %lld)",
		 now - 5, now - 1);
	exec_ok(d->c, sql);
	assert_int_equal(idp_throttle_reserve(d->c, &d->cfg, "ip:a", 3,
					      &retry, &n, NULL),
			 HC_OK);
	assert_int_equal(n, 4);
	assert_int_equal(idp_throttle_reserve(d->c, &d->cfg, "ip:a", 3,
					      &retry, &n, NULL),
			 HC_EBUSY);
	assert_true(retry > 110 && retry <= 120);
}

/* No record, no attempt: a database error refuses (fail closed). */
static void test_throttle_fails_closed(void **state)
{
	struct db *d = *state;
	int retry = 0, n = 0;
	struct hc_err err = { 0 };
	exec_ok(d->c, "DROP TABLE idp_throttle");
	int rc = idp_throttle_reserve(d->c, &d->cfg, "user:x", 3, &retry, &n,
				      &err);
	assert_int_not_equal(rc, HC_OK);
	assert_int_not_equal(rc, HC_EBUSY);
	assert_false(hc_tx_active(d->c));
}

struct racer {
	struct db *d;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct hc_err err = { 0 };
	struct hc_conn *c = hc_store_acquire(r->d->s, &err);
	int retry = 0;
	r->rc = c ? idp_throttle_reserve(c, &r->d->cfg, "user:race", 3,
					 &retry, NULL, &err)
		  : HC_EIO;
	if (c)
		hc_store_release(r->d->s, c);
	return NULL;
}

/* Concurrent attempts: no more than the limit get through. */
static void test_throttle_race(void **state)
{
	struct db *d = *state;
	struct racer r[7];
	pthread_t t[7];
	int ok = 0, busy = 0;
	for (int i = 0; i < 7; i++) {
		r[i].d = d;
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 7; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].rc == HC_OK;
		busy += r[i].rc == HC_EBUSY;
	}
	assert_int_equal(ok, 3);
	assert_int_equal(busy, 4);
}

static void test_slots(void **state)
{
	struct idp_slots s;
	idp_slots_init(&s);
	assert_int_equal(idp_slots_take(&s, 2, 0), HC_OK);
	assert_int_equal(idp_slots_take(&s, 2, 0), HC_OK);
	/* both taken: a bounded wait, then busy */
	assert_int_equal(idp_slots_take(&s, 2, 20), HC_EBUSY);
	idp_slots_give(&s);
	assert_int_equal(idp_slots_take(&s, 2, 0), HC_OK);
	/* a smaller limit after a reload holds at once */
	assert_int_equal(idp_slots_take(&s, 1, 0), HC_EBUSY);
	idp_slots_give(&s);
	idp_slots_give(&s);
	assert_int_equal(idp_slots_take(&s, 1, 0), HC_OK);
	idp_slots_give(&s);
	idp_slots_destroy(&s);
}

/* What expired goes; what a revocation still needs stays. */
static void test_purge(void **state)
{
	struct db *d = *state;
	struct hc_err err = { 0 };
	int64_t removed = 0;
	/* now: 1000000; long ago: 1000 */
	exec_ok(d->c,
		"INSERT INTO idp_requests VALUES ('r-old', 'c', 'app', '{}', "
		"999999), ('r-live', 'c', 'app', '{}', 1000600);"
		"INSERT INTO idp_sessions VALUES ('s-old', 'u', 1, '[]', "
		"999999), ('s-live', 'u', 1, '[]', 1028800);"
		/* f-done: everything expired */
		"INSERT INTO idp_families (family, client_id, created) VALUES "
		"('f-done', 'app', 1000), ('f-revoked', 'app', 1000), "
		"('f-refresh', 'app', 1000), ('f-new', 'app', 999990);"
		"UPDATE idp_families SET revoked = 1 WHERE family = "
		"'f-revoked';"
		"INSERT INTO idp_codes (code_hash, client_id, username, "
		"redirect_uri, scope, auth_time, amr, family, expires, used) "
		"VALUES ('c-done', 'app', 'u', 'x', '', 1, '[]', 'f-done', "
		"1060, 1), ('c-revoked', 'app', 'u', 'x', '', 1, '[]', "
		"'f-revoked', 1060, 1), ('c-refresh', 'app', 'u', 'x', '', 1, "
		"'[]', 'f-refresh', 1060, 1);"
		"INSERT INTO idp_access (jti, family, client_id, expires, "
		"revoked) VALUES ('a-done', 'f-done', 'app', 1900, 0), "
		/* just expired: within the verifier's leeway */
		"('a-leeway', 'f-revoked', 'app', 999990, 1), "
		"('a-svc', NULL, 'svc', 999000, 0), "
		"('a-svc-live', NULL, 'svc', 1000900, 0);"
		"INSERT INTO idp_refresh (token_hash, family, client_id, "
		"username, scope, auth_time, amr, expires, used, created) "
		"VALUES ('t-done', 'f-done', 'app', 'u', '', 1, '[]', 5000, 1, "
		"1000), ('t-live', 'f-refresh', 'app', 'u', '', 1, '[]', "
		"3000000, 0, 1000);"
		"INSERT INTO idp_throttle VALUES ('user:old', 2, 1000, 0), "
		"('user:recent', 2, 999000, 0), ('user:locked', 9, 1000, "
		"1000500);");
	assert_int_equal(idp__purge(d->c, &d->cfg, 1000000, &removed, &err),
			 HC_OK);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_requests "
				     "WHERE id = 'r-live'"),
			 1);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_requests"), 1);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_sessions"), 1);
	/* access records: gone once their tokens expired past the leeway */
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_access WHERE "
				     "jti IN ('a-leeway', 'a-svc-live')"),
			 2);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_access"), 2);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_refresh"), 1);
	/* the revoked family stays while its token could be shown, with
	 * its code (a replay of it still revokes); the family with a live
	 * refresh token too; the young one as well */
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_codes WHERE "
				     "code_hash IN ('c-revoked', 'c-refresh')"),
			 2);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_codes"), 2);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_families "
				     "WHERE family = 'f-done'"),
			 0);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_families"), 3);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_throttle "
				     "WHERE key = 'user:old'"),
			 0);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_throttle"), 2);
	/* 1 request, 1 session, 2 access, 1 refresh, 1 code, 1 family,
	 * 1 throttle record */
	assert_int_equal(removed, 8);
	/* later, the revoked family's token has expired: all of it goes */
	assert_int_equal(idp__purge(d->c, &d->cfg, 1001000, &removed, &err),
			 HC_OK);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_families "
				     "WHERE family = 'f-revoked'"),
			 0);
	assert_int_equal(count(d->c, "SELECT count(*) FROM idp_codes"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_redirect_uri_rules),
		cmocka_unit_test(test_redirect_uri_authority),
		cmocka_unit_test(test_one_document_is_fine),
		cmocka_unit_test(test_admin_refusals),
		cmocka_unit_test(test_admin_through_symlink),
		cmocka_unit_test(test_admin_edits),
		cmocka_unit_test(test_admin_new_list_and_flow_style),
	};
	const struct CMUnitTest db_tests[] = {
		cmocka_unit_test_setup_teardown(test_throttle_reserve, db_setup,
						db_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_doubles, db_setup,
						db_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_fails_closed,
						db_setup, db_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_race, db_setup,
						db_teardown),
		cmocka_unit_test(test_slots),
		cmocka_unit_test_setup_teardown(test_purge, db_setup,
						db_teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	return failed + cmocka_run_group_tests(db_tests, NULL, NULL);
}
