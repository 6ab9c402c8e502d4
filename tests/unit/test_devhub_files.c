/*
 * test_devhub_files.c - dev-hub editing files people keep: byte-preserving
 * edits (line endings, a last line without one), workplan fix writing ids
 * into both forms and nothing else, the ~/.claude.json migration on a
 * realistic file (other servers, project entries, unknown keys) with its
 * refusal and idempotence, registering hubs, the rule template, and paths
 * escaping a repo through '..' or symbolic links.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devhub/devhub.h"
#include "devhub/fileedit.h"
#include "devhub/mcpconfig.h"
#include "hubcore/json.h"
#include "testutil.h"

static char *slurp(const char *path, size_t *len)
{
	char *data = NULL;
	struct stat st;
	struct hc_err err = { 0 };
	assert_int_equal(dh_file_read(path, 64 << 20, &data, len, &st, &err),
			 HC_OK);
	return data;
}

static void spit(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* ---- edits ----------------------------------------------------------------- */

static void test_lines_and_edits(void **state)
{
	static const char crlf[] = "\xEF\xBB\xBFone\r\ntwo\r\nthree";
	struct dh_lines l;
	struct dh_edits e = { 0 };
	struct hc_err err = { 0 };
	char *out;
	size_t n;
	assert_int_equal(dh_lines_split(&l, crlf, sizeof(crlf) - 1), HC_OK);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.eol, "\r\n");
	assert_string_equal(dh_line_eol(&l, 3), "");
	assert_int_equal(dh_edits_insert_after(&e, &l, 1, "1b"), HC_OK);
	assert_int_equal(dh_edits_insert_after(&e, &l, 3, "four"), HC_OK);
	assert_int_equal(dh_edits_insert_before(&e, &l, 2, "1c"), HC_OK);
	assert_int_equal(dh_edits_replace_line(&e, &l, 3, "THREE"), HC_OK);
	assert_int_equal(dh_edits_apply(&e, crlf, sizeof(crlf) - 1, &out, &n,
					&err),
			 HC_OK);
	assert_string_equal(out, "\xEF\xBB\xBFone\r\n1b\r\n1c\r\ntwo\r\nTHREE"
				 "\r\nfour");
	free(out);
	dh_edits_release(&e);
	dh_lines_release(&l);

	/* a lone CR ends a line too, as in the parser */
	assert_int_equal(dh_lines_split(&l, "a\rb\n", 4), HC_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(dh_line_eol(&l, 1), "\r");
	assert_string_equal(dh_line_eol(&l, 2), "\n");
	dh_lines_release(&l);

	/* overlapping edits are a bug, not a silent mess */
	assert_int_equal(dh_edits_add(&e, 0, 3, "x"), HC_OK);
	assert_int_equal(dh_edits_add(&e, 1, 1, "y"), HC_OK);
	assert_int_equal(dh_edits_apply(&e, "abcdef", 6, &out, &n, &err),
			 HC_EINTERNAL);
	dh_edits_release(&e);
}

static void test_file_replace(void **state)
{
	char *dir = tu_tempdir(), path[600], bak[620], link_path[600];
	struct stat st, st2;
	struct hc_err err = { 0 };
	size_t n;
	char *data;
	snprintf(path, sizeof(path), "%s/f.txt", dir);
	snprintf(bak, sizeof(bak), "%s/f.txt.bak", dir);
	snprintf(link_path, sizeof(link_path), "%s/link.txt", dir);
	spit(path, "old\n", 4);
	chmod(path, 0640);
	assert_int_equal(symlink("f.txt", link_path), 0);
	free(slurp(path, &n));
	assert_int_equal(stat(path, &st), 0);
	/* through the link: the target is replaced, the link stays */
	assert_int_equal(dh_file_replace(link_path, "new\n", 4, bak, &st, &err),
			 HC_OK);
	data = slurp(path, &n);
	assert_string_equal(data, "new\n");
	free(data);
	data = slurp(bak, &n);
	assert_string_equal(data, "old\n");
	free(data);
	assert_int_equal(lstat(link_path, &st2), 0);
	assert_true(S_ISLNK(st2.st_mode));
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st2.st_mode & 0777, 0640);
	/* changed meanwhile: refused, nothing written */
	assert_int_equal(dh_file_replace(path, "x", 1, NULL, &st, &err),
			 HC_ECONFLICT);
	data = slurp(path, &n);
	assert_string_equal(data, "new\n");
	free(data);
	tu_rmtree(dir);
}

/* ---- workplan fix writes ids and nothing else ---------------------------------- */

struct db {
	char *dir;
	struct hc_hub *hub;
	struct hc_conn *c;
};

static void db_open(struct db *d)
{
	struct hc_hub_config cfg = { .log_level = HC_LOG_ERROR };
	struct hc_err err = { 0 };
	d->dir = tu_tempdir();
	cfg.db_url = tu_db_url(d->dir, "dev.db");
	assert_int_equal(hc_hub_open(&d->hub, &devhub_def, &cfg, &err), HC_OK);
	d->c = hc_store_acquire(d->hub->store, &err);
	assert_non_null(d->c);
}

static void db_close(struct db *d)
{
	hc_store_release(d->hub->store, d->c);
	hc_hub_close(d->hub);
	tu_rmtree(d->dir);
}

/* Remove every line containing needle (keeping the others' bytes). */
static size_t drop_lines(char *s, size_t len, const char *needle)
{
	char *p;
	while ((p = memmem(s, len, needle, strlen(needle))) != NULL) {
		char *a = p, *b = p;
		while (a > s && a[-1] != '\n')
			a--;
		while (b < s + len && *b != '\n')
			b++;
		if (b < s + len)
			b++;
		memmove(a, b, (size_t)(s + len - b));
		len -= (size_t)(b - a);
	}
	s[len] = '\0';
	return len;
}

static void fix_roundtrip(const char *example, const char *name, bool crlf)
{
	struct db d;
	struct dh_report rep = { 0 };
	struct dh_fix_opts o = { .backup = true };
	struct hc_err err = { 0 };
	char path[700], *orig, *stripped, *after, *buf;
	size_t n, sn, an;
	db_open(&d);
	orig = slurp(example, &n);
	/* the same file without its state_hub ids, maybe with CRLF */
	buf = malloc(n * 2 + 1);
	memcpy(buf, orig, n + 1);
	sn = drop_lines(buf, n, "state_hub_task_id");
	if (crlf) {
		char *c = malloc(sn * 2 + 1);
		size_t k = 0;
		for (size_t i = 0; i < sn; i++) {
			if (buf[i] == '\n')
				c[k++] = '\r';
			c[k++] = buf[i];
		}
		c[k] = '\0';
		free(buf);
		buf = c;
		sn = k;
	}
	stripped = buf;
	snprintf(path, sizeof(path), "%s/%s", d.dir, name);
	spit(path, stripped, sn);

	assert_int_equal(dh_wp_check(d.c, (char *[]){ path }, 1, NULL, NULL,
				     &rep, &err),
			 HC_OK);
	assert_int_equal(rep.findings, 1); /* missing in the database */
	dh_report_release(&rep);
	assert_int_equal(dh_wp_fix(d.c, (char *[]){ path }, 1, &o, &rep, &err),
			 HC_OK);
	assert_int_equal(rep.findings, 0);
	dh_report_release(&rep);
	assert_int_equal(dh_wp_check(d.c, (char *[]){ path }, 1, NULL, NULL,
				     &rep, &err),
			 HC_OK);
	assert_int_equal(rep.findings, 0);
	dh_report_release(&rep);

	/* the file gained 26 id lines and nothing else */
	after = slurp(path, &an);
	{
		char *copy = malloc(an + 1);
		size_t cn;
		memcpy(copy, after, an + 1);
		cn = drop_lines(copy, an, "state_hub_task_id");
		assert_int_equal(cn, sn);
		assert_memory_equal(copy, stripped, sn);
		free(copy);
	}
	if (crlf)
		assert_null(strstr(after, "\"\n")); /* every new line CRLF */
	/* fix again: nothing to write */
	assert_int_equal(dh_wp_fix(d.c, (char *[]){ path }, 1, &o, &rep, &err),
			 HC_OK);
	for (size_t i = 0; i < rep.n; i++)
		assert_null(strstr(rep.v[i].text, "wrote"));
	dh_report_release(&rep);
	free(after);
	after = slurp(path, &an);
	free(after);
	free(stripped);
	free(orig);
	db_close(&d);
}

static void test_fix_text_crlf(void **state)
{
	fix_roundtrip("examples/workplans/CUST-WP-0025.txt", "wp.txt", true);
}

static void test_fix_markdown(void **state)
{
	fix_roundtrip("tests/data/workplans/CUST-WP-0025.md", "wp.md", false);
}

/* ---- mcp-config ------------------------------------------------------------------ */

#define CLAUDE_JSON "tests/data/mcp-config/claude.json"

static void test_migrate_realistic(void **state)
{
	struct dh_report rep = { 0 };
	struct hc_err err = { 0 };
	char *data, *out = NULL, *again = NULL;
	size_t n, on, an;
	json_t *before, *after;
	data = slurp(CLAUDE_JSON, &n);
	assert_int_equal(dh_mcpcfg_migrate("c.json", data, n, &out, &on, &rep,
					   NULL, &err),
			 HC_OK);
	assert_int_equal(rep.n, 3);
	dh_report_release(&rep);
	/* byte for byte the same but for the renamed keys and the removed
	 * duplicate */
	assert_null(strstr(out, "state-hub\""));
	assert_non_null(strstr(out, "\"weird\": \"caf\\u00e9 \\/ \\\"quoted\\\"\""));
	assert_non_null(strstr(out, "\"lastCost\": 1.2345678901234567"));
	assert_non_null(strstr(out, "\"lastTotalInputTokens\": 1e3"));
	assert_non_null(strstr(out, "\"history\": [{\"display\": \"state-hub "
				    "rename\""));
	/* two keys 2 bytes shorter, one member gone */
	assert_int_equal(on, n - 4 -
				     strlen(",\n        \"state-hub\": {\"type\": "
					    "\"http\", \"url\": "
					    "\"http://127.0.0.1:8001/mcp\"}"));
	/* key order kept: github, dev-hub, zeta */
	{
		char *g = strstr(out, "\"github\""), *dh = strstr(out,
								 "\"dev-hub\""),
		     *z = strstr(out, "\"zeta\"");
		assert_true(g && dh && z && g < dh && dh < z);
	}
	assert_int_equal(hc_json_parse(data, n, &before, &err), HC_OK);
	assert_int_equal(hc_json_parse(out, on, &after, &err), HC_OK);
	assert_true(json_equal(json_object_get(before, "futureKey"),
			       json_object_get(after, "futureKey")));
	assert_true(json_equal(
		json_object_get(json_object_get(before, "mcpServers"),
				"state-hub"),
		json_object_get(json_object_get(after, "mcpServers"),
				"dev-hub")));
	json_decref(before);
	json_decref(after);
	/* idempotent */
	assert_int_equal(dh_mcpcfg_migrate("c.json", out, on, &again, &an, &rep,
					   NULL, &err),
			 HC_OK);
	assert_int_equal(rep.n, 0);
	assert_int_equal(an, on);
	assert_memory_equal(again, out, on);
	dh_report_release(&rep);
	free(again);
	free(out);
	free(data);
}

/* Migrate a fixture and compare with its golden file, byte for byte;
 * migrating the result again changes nothing. */
static void migrate_golden(const char *in, const char *golden, size_t lines)
{
	struct dh_report rep = { 0 };
	struct hc_err err = { 0 };
	char *data, *want, *out = NULL, *again = NULL;
	size_t n, wn, on, an;
	data = slurp(in, &n);
	want = slurp(golden, &wn);
	assert_int_equal(dh_mcpcfg_migrate(in, data, n, &out, &on, &rep, NULL,
					   &err),
			 HC_OK);
	assert_int_equal(rep.n, lines);
	assert_int_equal(on, wn);
	assert_memory_equal(out, want, wn);
	dh_report_release(&rep);
	assert_int_equal(dh_mcpcfg_migrate(golden, out, on, &again, &an, &rep,
					   NULL, &err),
			 HC_OK);
	assert_int_equal(rep.n, 0);
	assert_int_equal(an, on);
	assert_memory_equal(again, out, on);
	dh_report_release(&rep);
	free(again);
	free(out);
	free(want);
	free(data);
}

/*
 * The server's name in lists: enabledMcpjsonServers and
 * disabledMcpjsonServers name it, allowedTools and permissions.allow /
 * ask / deny hold rules naming it or its tools. The golden files were
 * written by hand from the fixtures, change by change.
 */
static void test_migrate_name_lists(void **state)
{
	static const char one_line[] =
		"{\"permissions\": {\"allow\": [\"x\", \"mcp__state-hub__a\", "
		"\"mcp__state-hub__b\", \"mcp__dev-hub__a\", "
		"\"mcp__dev-hub__b\", 7, \"mcp__state-hubble\", "
		"\"mcp__state-hub__caf\\u00e9\", \"mcp\\u005f_state-hub__z\"], "
		"\"deny\": \"mcp__state-hub\"},"
		" \"enabledMcpjsonServers\": [\"state-hub\", \"state-hub\", "
		"\"State-Hub\", \"st\\u0061te-hub\"]}";
	static const char one_line_want[] =
		"{\"permissions\": {\"allow\": [\"x\", \"mcp__dev-hub__a\", "
		"\"mcp__dev-hub__b\", 7, \"mcp__state-hubble\", "
		"\"mcp__dev-hub__caf\\u00e9\", \"mcp__dev-hub__z\"], "
		"\"deny\": \"mcp__state-hub\"},"
		" \"enabledMcpjsonServers\": [\"dev-hub\", \"State-Hub\"]}";
	static const char conflict[] =
		"{\"mcpServers\": {\"state-hub\": {\"command\": \"a\"}, "
		"\"dev-hub\": {\"command\": \"b\"}}, "
		"\"enabledMcpjsonServers\": [\"state-hub\"]}";
	struct dh_report rep = { 0 };
	struct hc_err err = { 0 };
	char *out = NULL;
	size_t on;

	migrate_golden("tests/data/mcp-config/claude-projects.json",
		       "tests/data/mcp-config/claude-projects.migrated.json",
		       10);
	migrate_golden("tests/data/mcp-config/settings.local.json",
		       "tests/data/mcp-config/settings.local.migrated.json", 4);

	/* a run of removed elements in the middle; a second "state-hub"
	 * goes once the first became "dev-hub", and so does a third written
	 * with an escape; an escape after the name is kept as written, one
	 * inside it makes the string rewritten;
	 * other servers, other case, numbers and a rule that is not in a
	 * list stay */
	assert_int_equal(dh_mcpcfg_migrate("c.json", one_line,
					   sizeof(one_line) - 1, &out, &on,
					   &rep, NULL, &err),
			 HC_OK);
	assert_int_equal(rep.n, 7);
	assert_int_equal(on, sizeof(one_line_want) - 1);
	assert_memory_equal(out, one_line_want, on);
	free(out);
	dh_report_release(&rep);

	/* a refused mcpServers rename refuses the lists too */
	out = NULL;
	assert_int_equal(dh_mcpcfg_migrate("c.json", conflict,
					   sizeof(conflict) - 1, &out, &on,
					   &rep, NULL, &err),
			 HC_ECONFLICT);
	assert_null(out);
	dh_report_release(&rep);
}

static void test_migrate_refused(void **state)
{
	static const char doc[] =
		"{\n  \"mcpServers\": {\"state-hub\": {\"command\": \"a\"}},\n"
		"  \"projects\": {\"/p\": {\"mcpServers\": {\n"
		"    \"state-hub\": {\"command\": \"a\"},\n"
		"    \"dev-hub\": {\"command\": \"b\"}}}}\n}\n";
	struct dh_report rep = { 0 };
	struct hc_err err = { 0 };
	char *out = NULL;
	size_t on;
	assert_int_equal(dh_mcpcfg_migrate("c.json", doc, sizeof(doc) - 1, &out,
					   &on, &rep, NULL, &err),
			 HC_ECONFLICT);
	assert_null(out);
	assert_non_null(strstr(err.msg, "projects[\"/p\"].mcpServers"));
	dh_report_release(&rep);
	/* not JSON, or duplicate keys: refused with the position */
	assert_int_equal(dh_mcpcfg_migrate("c.json", "{\"a\": 1,}", 9, &out,
					   &on, &rep, NULL, &err),
			 HC_EJSON);
	assert_int_equal(dh_mcpcfg_migrate("c.json", "{\"a\":1,\"a\":2}", 13,
					   &out, &on, &rep, NULL, &err),
			 HC_EJSON);
	dh_report_release(&rep);
}

static void test_add_servers(void **state)
{
	static const char doc[] = "{\n\t\"x\": 1,\n\t\"mcpServers\": {}\n}\n";
	json_t *dev = json_pack("{ssss}", "type", "http", "url",
				"http://127.0.0.1:8001/mcp");
	json_t *other = json_pack("{ssss}", "type", "http", "url", "x");
	struct dh_mcpcfg_entry e[] = { { "dev-hub", dev } };
	struct dh_mcpcfg_entry bad[] = { { "dev-hub", other } };
	struct dh_report rep = { 0 };
	struct hc_err err = { 0 };
	char *out = NULL, *again = NULL;
	size_t on, an;
	json_t *j;
	assert_int_equal(dh_mcpcfg_add("c.json", doc, sizeof(doc) - 1, NULL, e,
				       1, &out, &on, &rep, NULL, &err),
			 HC_OK);
	assert_int_equal(hc_json_parse(out, on, &j, &err), HC_OK);
	assert_true(json_equal(json_object_get(json_object_get(j, "mcpServers"),
					       "dev-hub"),
			       dev));
	json_decref(j);
	assert_non_null(strstr(out, "\t\"x\": 1,\n"));
	dh_report_release(&rep);
	/* again: unchanged; a different entry: refused */
	assert_int_equal(dh_mcpcfg_add("c.json", out, on, NULL, e, 1, &again,
				       &an, &rep, NULL, &err),
			 HC_OK);
	assert_int_equal(an, on);
	free(again);
	assert_int_equal(dh_mcpcfg_add("c.json", out, on, NULL, bad, 1, &again,
				       &an, &rep, NULL, &err),
			 HC_ECONFLICT);
	dh_report_release(&rep);
	/* into a project, creating its mcpServers */
	free(out);
	assert_int_equal(dh_mcpcfg_add("c.json",
				       "{\"projects\": {\"/p\": {\"a\": []}}}",
				       31, "/p", e, 1, &out, &on, &rep, NULL,
				       &err),
			 HC_OK);
	assert_int_equal(hc_json_parse(out, on, &j, &err), HC_OK);
	assert_non_null(json_object_get(
		json_object_get(json_object_get(json_object_get(j, "projects"),
						"/p"),
				"mcpServers"),
		"dev-hub"));
	json_decref(j);
	free(out);
	dh_report_release(&rep);
	json_decref(dev);
	json_decref(other);
}

/* ---- templates and paths ----------------------------------------------------------- */

static void test_template(void **state)
{
	static const char t[] = "a {{x}}\n{{#on}}\nyes {{x}}\n{{/on}}\n"
				"{{^on}}\nno\n{{/on}}\nend";
	const struct dh_tvar on[] = { { "x", "1" }, { "on", "y" } };
	const struct dh_tvar off[] = { { "x", "1" }, { "on", "" } };
	struct hc_err err = { 0 };
	char *out;
	size_t n;
	assert_int_equal(dh_template_render("t", t, sizeof(t) - 1, on, 2, &out,
					    &n, &err),
			 HC_OK);
	assert_string_equal(out, "a 1\nyes 1\nend");
	free(out);
	assert_int_equal(dh_template_render("t", t, sizeof(t) - 1, off, 2, &out,
					    &n, &err),
			 HC_OK);
	assert_string_equal(out, "a 1\nno\nend");
	free(out);
	assert_int_equal(dh_template_render("t", "x\n{{nope}}", 10, on, 2, &out,
					    &n, &err),
			 HC_EPARSE);
	assert_int_equal(err.line, 2);
	assert_int_equal(dh_template_render("t", "{{#on}}x", 8, on, 2, &out,
					    &n, &err),
			 HC_EPARSE);
	assert_int_equal(dh_template_render("t", "{{/on}}", 7, on, 2, &out, &n,
					    &err),
			 HC_EPARSE);
}

static void test_path_escape(void **state)
{
	struct hc_err err = { 0 };
	struct db d;
	char root[600], outside[600], p[700];
	json_t *repo;
	struct dh_rules_opts o = { .host = "nohost" };
	struct dh_rules_result res;
	const char *base;
	int fd;
	static const char *const bad[] = { "..", "../x", "a/../../x", "/etc/x",
					   "a//b", "./a", "", NULL };
	for (const char *const *b = bad; *b; b++)
		assert_int_equal(dh_rel_path_check(*b, &err), HC_EBADREQ);
	assert_int_equal(dh_rel_path_check(".claude/rules/x.md", &err), HC_OK);

	db_open(&d);
	snprintf(root, sizeof(root), "%s/repo", d.dir);
	snprintf(outside, sizeof(outside), "%s/outside", d.dir);
	mkdir(root, 0755);
	mkdir(outside, 0755);
	repo = json_pack("{ssssss}", "name", "r", "domain", "custodian",
			 "default_path", root);
	/* .claude -> outside: refused, nothing written there */
	snprintf(p, sizeof(p), "%s/.claude", root);
	assert_int_equal(symlink(outside, p), 0);
	assert_int_equal(dh_rules_render_repo(d.c, repo, &o, &res, &err),
			 HC_EBADREQ);
	assert_non_null(strstr(err.msg, "symbolic link"));
	snprintf(p, sizeof(p), "%s/rules", outside);
	assert_int_not_equal(access(p, F_OK), 0);
	/* a target with .. */
	o.target = "../escape.md";
	assert_int_equal(dh_rules_render_repo(d.c, repo, &o, &res, &err),
			 HC_EBADREQ);
	/* the file itself a link: refused */
	snprintf(p, sizeof(p), "%s/.claude", root);
	unlink(p);
	o.target = "RULES.md";
	snprintf(p, sizeof(p), "%s/RULES.md", root);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	assert_int_equal(dh_rules_render_repo(d.c, repo, &o, &res, &err),
			 HC_EBADREQ);
	unlink(p);
	/* inside: created, then unchanged */
	o.target = NULL;
	assert_int_equal(dh_rules_render_repo(d.c, repo, &o, &res, &err),
			 HC_OK);
	assert_int_equal(res.outcome, DH_RULES_CREATED);
	assert_int_equal(dh_rules_render_repo(d.c, repo, &o, &res, &err),
			 HC_OK);
	assert_int_equal(res.outcome, DH_RULES_UNCHANGED);
	/* dh_open_parent never follows a link on the way */
	snprintf(p, sizeof(p), "%s/sub", root);
	assert_int_equal(symlink(outside, p), 0);
	assert_int_equal(dh_open_parent(root, "sub/x", true, &base, &fd, &err),
			 HC_EBADREQ);
	json_decref(repo);
	db_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_edits),
		cmocka_unit_test(test_file_replace),
		cmocka_unit_test(test_fix_text_crlf),
		cmocka_unit_test(test_fix_markdown),
		cmocka_unit_test(test_migrate_realistic),
		cmocka_unit_test(test_migrate_refused),
		cmocka_unit_test(test_migrate_name_lists),
		cmocka_unit_test(test_add_servers),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_path_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
