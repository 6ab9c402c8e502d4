/*
 * test_idp.c - the IdP's configuration file: what it accepts, what it
 * refuses (with file:line), and the admin edits that keep every other byte
 * of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_redirect_uri_rules),
		cmocka_unit_test(test_admin_edits),
		cmocka_unit_test(test_admin_new_list_and_flow_style),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
