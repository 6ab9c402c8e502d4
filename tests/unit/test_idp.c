/*
 * test_idp.c - the IdP's configuration file: what it accepts, what it
 * refuses (with file:line), and the admin edits that keep every other byte
 * of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hubcore/buf.h"
#include "idp/idp.h"
#include "idp/idp_admin.h"
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
	return cmocka_run_group_tests(tests, NULL, NULL);
}
