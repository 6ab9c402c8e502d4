/*
 * test_policy.c - policy documents: the form of a path, reads and atomic
 * writes, and every way out of the directory (.., absolute paths, links to
 * directories and files outside, dangling links) refused on read and on
 * write, with nothing written outside.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/policy.h"
#include "testutil.h"

struct fixture {
	char *tmp;           /* holds both of the next two */
	char dir[512];       /* the policy directory */
	char outside[512];   /* a directory next to it */
	struct hc_hub hub;
};

static void put_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void at(struct fixture *f, char *out, const char *rel)
{
	snprintf(out, 1024, "%s/%s", f->dir, rel);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[1024];
	f->tmp = tu_tempdir();
	snprintf(f->dir, sizeof(f->dir), "%s/policy", f->tmp);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->tmp);
	mkdir(f->dir, 0755);
	mkdir(f->outside, 0755);
	snprintf(p, sizeof(p), "%s/secret.md", f->outside);
	put_file(p, "secret\n");
	at(f, p, "privacy.md");
	put_file(p, "# Privacy\n");
	at(f, p, "legal");
	mkdir(p, 0755);
	at(f, p, "legal/terms.txt");
	put_file(p, "terms\n");
	at(f, p, ".hidden.md");
	put_file(p, "hidden\n");
	/* links: inside, a directory outside, a file outside, dangling */
	at(f, p, "alias.md");
	assert_int_equal(symlink("privacy.md", p), 0);
	at(f, p, "out");
	assert_int_equal(symlink(f->outside, p), 0);
	{
		char target[512];
		snprintf(target, sizeof(target), "%s/secret.md", f->outside);
		at(f, p, "leak.md");
		assert_int_equal(symlink(target, p), 0);
		snprintf(target, sizeof(target), "%s/new.md", f->outside);
		at(f, p, "dangling.md");
		assert_int_equal(symlink(target, p), 0);
		at(f, p, "up");
		assert_int_equal(symlink("..", p), 0);
	}
	f->hub.config.policy_dir = f->dir;
	f->hub.config.policy_writable = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tu_rmtree(f->tmp);
	free(f);
	return 0;
}

static void test_path_form(void **state)
{
	static const char *const good[] = { "a.md", "legal/privacy.md",
					    "D\xc3\xa4ten schutz.md", "a..b",
					    "x-1_2.txt", NULL };
	static const char *const bad[] = {
		"", "/etc/passwd", "a//b", "a/", "..", "../x", "a/../b", ".",
		"./a", ".hidden", "a/.git/config", "a%00b", "a%2e%2e",
		"a\\b", "a\x01" "b", "a\x7f", NULL
	};
	struct hc_err err = { 0 };
	char longp[1100], deep[200], seg[300];

	for (const char *const *p = good; *p; p++)
		if (hc_policy_check_path(*p, &err) != HC_OK)
			fail_msg("'%s' refused: %s", *p, err.msg);
	for (const char *const *p = bad; *p; p++) {
		if (hc_policy_check_path(*p, &err) != HC_EBADREQ)
			fail_msg("'%s' accepted", *p);
		assert_string_equal(err.field, "path");
	}
	assert_int_equal(hc_policy_check_path(NULL, &err), HC_EBADREQ);
	memset(longp, 'a', 1025);
	longp[1025] = '\0';
	assert_int_equal(hc_policy_check_path(longp, &err), HC_EBADREQ);
	memset(seg, 'a', 256);
	seg[256] = '\0';
	assert_int_equal(hc_policy_check_path(seg, &err), HC_EBADREQ);
	deep[0] = '\0';
	for (int i = 0; i < 33; i++)
		strcat(deep, i ? "/a" : "a");
	assert_int_equal(hc_policy_check_path(deep, &err), HC_EBADREQ);
	/* an absolute path names itself in the message */
	hc_policy_check_path("/etc/passwd", &err);
	assert_non_null(strstr(err.msg, "/etc/passwd"));

	assert_string_equal(hc_policy_media_type("a/b.md"),
			    "text/markdown; charset=utf-8");
	assert_string_equal(hc_policy_media_type("a.MARKDOWN"),
			    "text/markdown; charset=utf-8");
	assert_string_equal(hc_policy_media_type("a.md/b"),
			    "text/plain; charset=utf-8");
	assert_string_equal(hc_policy_media_type("a.txt"),
			    "text/plain; charset=utf-8");
}

static void test_no_directory(void **state)
{
	struct hc_hub hub = { 0 };
	struct hc_err err = { 0 };
	json_t *out = NULL;
	char *content = NULL;
	size_t len;
	const char *type;

	assert_int_equal(hc_policy_list(&hub, &out, &err), HC_ENOTFOUND);
	assert_string_equal(err.msg, "no policy directory configured");
	assert_int_equal(hc_policy_read(&hub, "a.md", &content, &len, &type,
					&err),
			 HC_ENOTFOUND);
	assert_int_equal(hc_policy_write(&hub, "a.md", "x", 1, NULL, NULL,
					 &err),
			 HC_ENOTFOUND);
	assert_string_equal(err.msg, "no policy directory configured");
	assert_int_equal(hc_policy_check_dir("/nonexistent/dir", &err),
			 HC_EUSAGE);
	assert_int_equal(hc_policy_check_dir("/etc/hostname", &err),
			 HC_EUSAGE);
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	const char *type = NULL;
	char *content = NULL;
	json_t *out = NULL;
	size_t len = 0;
	char p[1024];

	assert_int_equal(hc_policy_read(&f->hub, "privacy.md", &content, &len,
					&type, &err),
			 HC_OK);
	assert_string_equal(content, "# Privacy\n");
	assert_int_equal(len, 10);
	assert_string_equal(type, "text/markdown; charset=utf-8");
	free(content);
	/* a link that stays inside is followed */
	assert_int_equal(hc_policy_get(&f->hub, "alias.md", &out, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(out, "content"), "# Privacy\n");
	assert_string_equal(hc_json_str(out, "path"), "alias.md");
	json_decref(out);

	/* every way out is refused, naming the path */
	static const char *const out_paths[] = { "out/secret.md", "leak.md",
						 "up/outside/secret.md",
						 NULL };
	for (const char *const *x = out_paths; *x; x++) {
		content = NULL;
		if (hc_policy_read(&f->hub, *x, &content, &len, &type, &err) !=
		    HC_EBADREQ)
			fail_msg("read of '%s' not refused: %s", *x, err.msg);
		assert_null(content);
		assert_string_equal(err.field, "path");
		assert_non_null(strstr(err.msg, *x));
	}
	assert_int_equal(hc_policy_read(&f->hub, "../outside/secret.md",
					&content, &len, &type, &err),
			 HC_EBADREQ);
	assert_int_equal(hc_policy_read(&f->hub, "/etc/passwd", &content,
					&len, &type, &err),
			 HC_EBADREQ);
	/* nothing there, a directory, a dangling link, a FIFO: not found */
	static const char *const missing[] = { "nope.md", "legal",
					       "dangling.md", "fifo", NULL };
	at(f, p, "fifo");
	assert_int_equal(mkfifo(p, 0644), 0);
	for (const char *const *x = missing; *x; x++)
		if (hc_policy_read(&f->hub, *x, &content, &len, &type, &err) !=
		    HC_ENOTFOUND)
			fail_msg("read of '%s': %s", *x, err.msg);
	/* "up" is the directory above: outside */
	assert_int_equal(hc_policy_read(&f->hub, "up", &content, &len, &type,
					&err),
			 HC_EBADREQ);

	/* JSON needs UTF-8 text */
	at(f, p, "binary.txt");
	put_file(p, "\xff\xfe");
	assert_int_equal(hc_policy_get(&f->hub, "binary.txt", &out, &err),
			 HC_EINVAL);
	assert_int_equal(hc_policy_read(&f->hub, "binary.txt", &content, &len,
					&type, &err),
			 HC_OK);
	assert_int_equal(len, 2);
	free(content);
}

static void assert_no_temp_files(struct fixture *f, const char *rel)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd),
		 "test -z \"$(find '%s/%s' -name '.policy-*' 2>/dev/null)\"",
		 f->dir, rel);
	assert_int_equal(system(cmd), 0);
}

static void test_write(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	const char *type;
	char *content = NULL;
	json_t *out = NULL;
	bool created = false;
	struct stat st;
	size_t len;
	char p[1024];

	assert_int_equal(hc_policy_write(&f->hub, "new/deep/doc.md", "hello\n",
					 6, &created, &out, &err),
			 HC_OK);
	assert_true(created);
	assert_true(json_is_true(json_object_get(out, "created")));
	json_decref(out);
	assert_int_equal(hc_policy_read(&f->hub, "new/deep/doc.md", &content,
					&len, &type, &err),
			 HC_OK);
	assert_string_equal(content, "hello\n");
	free(content);

	/* replacing keeps the file's permissions */
	at(f, p, "privacy.md");
	chmod(p, 0600);
	assert_int_equal(hc_policy_write(&f->hub, "privacy.md", "v2", 2,
					 &created, NULL, &err),
			 HC_OK);
	assert_false(created);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* through a link inside, the target is written and the link kept */
	assert_int_equal(hc_policy_write(&f->hub, "alias.md", "v3", 2,
					 &created, NULL, &err),
			 HC_OK);
	at(f, p, "alias.md");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(hc_policy_read(&f->hub, "privacy.md", &content, &len,
					&type, &err),
			 HC_OK);
	assert_string_equal(content, "v3");
	free(content);
	assert_no_temp_files(f, "");
}

static void test_write_refusals(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	char *big = malloc(HC_POLICY_MAX_BYTES + 1), p[1024], cmd[1200];
	struct hc_hub ro = f->hub;
	struct stat st;

	/* outside, by every route: nothing is created there */
	static const char *const escapes[] = { "out/new.md", "out/x/new.md",
					       "leak.md", "dangling.md",
					       "up/outside/new.md",
					       "../outside/new.md",
					       "/tmp/new.md", NULL };
	for (const char *const *x = escapes; *x; x++)
		if (hc_policy_write(&f->hub, *x, "x", 1, NULL, NULL, &err) !=
		    HC_EBADREQ)
			fail_msg("write of '%s' not refused: %s", *x, err.msg);
	snprintf(cmd, sizeof(cmd), "test \"$(ls '%s')\" = secret.md",
		 f->outside);
	assert_int_equal(system(cmd), 0);
	at(f, p, "dangling.md");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode)); /* the link was not replaced */
	snprintf(p, sizeof(p), "%s/secret.md", f->outside);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 7);

	/* the wrong kind of file */
	assert_int_equal(hc_policy_write(&f->hub, "legal", "x", 1, NULL, NULL,
					 &err),
			 HC_ECONFLICT);
	assert_int_equal(hc_policy_write(&f->hub, "legal/terms.txt/x.md", "x",
					 1, NULL, NULL, &err),
			 HC_ECONFLICT);
	/* content */
	assert_int_equal(hc_policy_write(&f->hub, "a.md", "a\0b", 3, NULL,
					 NULL, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "content");
	assert_int_equal(hc_policy_write(&f->hub, "a.md", "\xc3\x28", 2, NULL,
					 NULL, &err),
			 HC_EINVAL);
	assert_int_equal(hc_policy_write(&f->hub, "a.md", "\xed\xa0\x80", 3,
					 NULL, NULL, &err),
			 HC_EINVAL); /* a surrogate */
	assert_non_null(big);
	memset(big, 'a', HC_POLICY_MAX_BYTES + 1);
	assert_int_equal(hc_policy_write(&f->hub, "a.md", big,
					 HC_POLICY_MAX_BYTES + 1, NULL, NULL,
					 &err),
			 HC_ETOOBIG);
	assert_int_equal(hc_policy_write(&f->hub, "a.md", big,
					 HC_POLICY_MAX_BYTES, NULL, NULL, &err),
			 HC_OK);
	free(big);
	/* a read-only hub */
	ro.config.policy_writable = false;
	assert_int_equal(hc_policy_write(&ro, "b.md", "x", 1, NULL, NULL,
					 &err),
			 HC_EMETHOD);
	at(f, p, "b.md");
	assert_int_not_equal(access(p, F_OK), 0);
	assert_no_temp_files(f, "");
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	json_t *out = NULL, *v;
	char paths[1024] = "";
	size_t i;

	assert_int_equal(hc_policy_list(&f->hub, &out, &err), HC_OK);
	assert_true(json_is_true(json_object_get(out, "writable")));
	assert_true(json_is_false(json_object_get(out, "truncated")));
	json_array_foreach(json_object_get(out, "items"), i, v)
	{
		strcat(paths, hc_json_str(v, "path"));
		strcat(paths, " ");
	}
	/* sorted; hidden files, links outside and linked directories left
	 * out; a link inside listed */
	assert_string_equal(paths, "alias.md legal/terms.txt privacy.md ");
	v = json_array_get(json_object_get(out, "items"), 2);
	assert_int_equal(json_integer_value(json_object_get(v, "size")), 10);
	assert_string_equal(hc_json_str(v, "media_type"),
			    "text/markdown; charset=utf-8");
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_form),
		cmocka_unit_test(test_no_directory),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_refusals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
