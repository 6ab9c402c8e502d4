/*
 * test_devhub_work.c - dependencies and ready work: cycle detection (the
 * pure function and through the resource, naming the cycle and changing
 * nothing), ready / blocked computation with task and workstream blockers,
 * the claim honouring them; SBOM parsing of CycloneDX and SPDX and the
 * component usage query; the DoI evaluator with its HEAD cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devhub/devhub.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "testutil.h"

#define EXAMPLE "examples/workplans/CUST-WP-0025.txt"
#define WS "CUST-WP-0025"

struct fixture {
	char *dir;
	struct hc_hub *hub;
	struct hc_conn *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hc_hub_config cfg = { .log_level = HC_LOG_ERROR };
	struct hc_err err = { 0 };
	struct dh_workplan *wp = NULL;
	struct dh_import_result res;
	f->dir = tu_tempdir();
	cfg.db_url = tu_db_url(f->dir, "dev.db");
	if (hc_hub_open(&f->hub, &devhub_def, &cfg, &err) != HC_OK)
		return -1;
	f->c = hc_store_acquire(f->hub->store, &err);
	if (dh_workplan_parse_file(EXAMPLE, &wp, &err) != HC_OK ||
	    dh_workplan_import(f->c, wp, &res, &err) != HC_OK)
		return -1;
	dh_workplan_free(wp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hc_store_release(f->hub->store, f->c);
	hc_hub_close(f->hub);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* ---- re-import and claims ------------------------------------------------ */

/* A re-import that sets a claimed task back to todo (the file wins)
 * releases the claim, so that the task is not left todo yet assigned and
 * never ready. */
static void test_reimport_releases_claims(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	struct dh_workplan *wp = NULL;
	struct dh_import_result res;
	json_t *claim = NULL, *task = NULL, *again = NULL;
	const char *id;

	assert_int_equal(dh_claim_next_task(f->c, WS, "a1", &claim, &err),
			 HC_OK);
	id = hc_json_str(json_object_get(claim, "task"), "id");
	assert_non_null(id);
	assert_int_equal(dh_workplan_parse_file(EXAMPLE, &wp, &err), HC_OK);
	assert_int_equal(dh_workplan_import(f->c, wp, &res, &err), HC_OK);
	dh_workplan_free(wp);
	assert_int_equal(res.tasks_updated, 1);
	assert_int_equal(hc_res_get(f->c, &dh_task_resource, id, &task, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(task, "status"), "todo");
	assert_true(json_is_null(json_object_get(task, "assignee")));
	assert_true(json_is_null(json_object_get(task, "claimed_at")));
	/* and the next claim can take it again */
	assert_int_equal(dh_claim_next_task(f->c, WS, "a2", &again, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(json_object_get(again, "task"), "id"),
			    id);
	assert_string_equal(hc_json_str(json_object_get(again, "task"),
					 "assignee"),
			    "a2");
	json_decref(again);
	json_decref(task);
	json_decref(claim);
}

/* ---- cycles --------------------------------------------------------------- */

static void test_find_cycle(void **state)
{
	const struct dh_dep_edge e[] = { { "A", "B" }, { "B", "C" },
					 { "C", "D" }, { "X", "A" } };
	struct hc_buf b = HC_BUF_INIT(1024);
	assert_int_equal(dh_dep_find_cycle(e, 4, "D", "A", &b), 1);
	assert_string_equal(b.data, "D -> A -> B -> C -> D");
	hc_buf_reset(&b);
	assert_int_equal(dh_dep_find_cycle(e, 4, "A", "D", &b), 0);
	assert_int_equal(dh_dep_find_cycle(e, 4, "B", "X", &b), 1);
	assert_string_equal(b.data, "B -> X -> A -> B");
	hc_buf_reset(&b);
	assert_int_equal(dh_dep_find_cycle(e, 4, "X", "D", &b), 0);
	assert_int_equal(dh_dep_find_cycle(e, 4, "C", "X", &b), 1);
	assert_string_equal(b.data, "C -> X -> A -> B -> C");
	hc_buf_reset(&b);
	assert_int_equal(dh_dep_find_cycle(e, 4, "Q", "Q", &b), 1);
	assert_string_equal(b.data, "Q -> Q");
	hc_buf_reset(&b);
	assert_int_equal(dh_dep_find_cycle(NULL, 0, "A", "B", &b), 0);
	hc_buf_release(&b);
}

static int add_dep(struct fixture *f, const char *kind, const char *item,
		   const char *dep, const char *type, struct hc_err *err)
{
	json_t *in = json_pack("{ssssssss}", "kind", kind, "item", item,
			       "depends_on", dep, "type", type);
	json_t *out = NULL;
	int rc = hc_res_create(f->c, &dh_dependency_resource, in, &out, err);
	json_decref(in);
	json_decref(out);
	return rc;
}

static int64_t count(struct fixture *f, const char *sql)
{
	struct hc_err err = { 0 };
	int64_t n = -1;
	assert_int_equal(hc_query_int(f->c, &n, sql, NULL, 0, &err), HC_OK);
	return n;
}

static void test_cycle_refused(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	assert_int_equal(add_dep(f, "task", WS "-T01", WS "-T02", "blocks",
				 &err),
			 HC_OK);
	assert_int_equal(add_dep(f, "task", WS "-T02", WS "-T03", "blocks",
				 &err),
			 HC_OK);
	assert_int_equal(add_dep(f, "task", WS "-T03", WS "-T01", "blocks",
				 &err),
			 HC_ECONFLICT);
	assert_string_equal(err.field, "depends_on");
	assert_non_null(strstr(err.msg, WS "-T03 -> " WS "-T01 -> " WS
					"-T02 -> " WS "-T03"));
	assert_int_equal(count(f, "SELECT count(*) FROM dependencies"), 2);
	/* related edges may go round; a self edge never */
	assert_int_equal(add_dep(f, "task", WS "-T03", WS "-T01", "related",
				 &err),
			 HC_OK);
	assert_int_equal(add_dep(f, "task", WS "-T05", WS "-T05", "related",
				 &err),
			 HC_EINVAL);
	/* a dangling reference names the field */
	assert_int_equal(add_dep(f, "task", WS "-T99", WS "-T01", "blocks",
				 &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "item");
	assert_int_equal(add_dep(f, "workstream", WS, "NOPE-1", "blocks",
				 &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "depends_on");
}

static bool has_id(json_t *list, const char *id)
{
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(list, "items"), i, v)
		if (strcmp(hc_json_str(v, "id"), id) == 0)
			return true;
	return false;
}

static void set_status(struct fixture *f, const char *task, const char *st)
{
	struct hc_err err = { 0 };
	json_t *out = NULL;
	assert_int_equal(dh_set_task_status(f->c, task, st, "tester", NULL,
					    &out, &err),
			 HC_OK);
	json_decref(out);
}

/* The blockers a task read on its own carries, as "kind:id ..." */
static void blockers_of(struct fixture *f, const char *task, char *out,
			size_t size)
{
	struct hc_err err = { 0 };
	json_t *row = NULL, *b;
	size_t i, n = 0;
	assert_int_equal(hc_res_get(f->c, &dh_task_resource, task, &row, &err),
			 HC_OK);
	assert_true(json_is_array(json_object_get(row, "blockers")));
	out[0] = '\0';
	json_array_foreach(json_object_get(row, "blockers"), i, b)
		n += (size_t)snprintf(out + n, size - n, "%s%s:%s",
				      i ? " " : "", hc_json_str(b, "kind"),
				      hc_json_str(b, "id"));
	json_decref(row);
}

static void test_ready_and_blocked(void **state)
{
	struct fixture *f = *state;
	struct dh_work_filter flt = { .workstream = WS, .limit = 500 };
	struct hc_err err = { 0 };
	json_t *ready = NULL, *blocked = NULL, *b, *claim = NULL;

	/* T09 (high) waits on T10; T12 (high) waits on T11 */
	assert_int_equal(add_dep(f, "task", WS "-T09", WS "-T10", "blocks",
				 &err),
			 HC_OK);
	assert_int_equal(add_dep(f, "task", WS "-T12", WS "-T11", "blocks",
				 &err),
			 HC_OK);
	assert_int_equal(dh_list_ready_tasks(f->c, &flt, &ready, &err), HC_OK);
	assert_false(has_id(ready, WS "-T09"));
	assert_false(has_id(ready, WS "-T12"));
	assert_true(has_id(ready, WS "-T10"));
	assert_false(has_id(ready, WS "-T04")); /* done */
	assert_string_equal(hc_json_str(json_array_get(json_object_get(ready,
								       "items"),
						       0),
				       "priority"),
			    "high");
	json_decref(ready);

	assert_int_equal(dh_list_blocked_tasks(f->c, &flt, &blocked, &err),
			 HC_OK);
	assert_int_equal(json_array_size(json_object_get(blocked, "items")), 2);
	b = json_array_get(json_object_get(blocked, "items"), 0);
	assert_string_equal(hc_json_str(b, "id"), WS "-T09");
	assert_string_equal(hc_json_str(json_array_get(json_object_get(b,
								       "blockers"),
						       0),
				       "id"),
			    WS "-T10");
	json_decref(blocked);

	/* the claim skips the blocked high-priority tasks */
	assert_int_equal(dh_claim_next_task(f->c, WS, "a1", &claim, &err),
			 HC_OK);
	assert_string_not_equal(hc_json_str(json_object_get(claim, "task"),
					    "id"),
				WS "-T09");
	assert_string_not_equal(hc_json_str(json_object_get(claim, "task"),
					    "id"),
				WS "-T12");
	json_decref(claim);

	/* one task read on its own says what blocks it */
	{
		char bl[256];
		blockers_of(f, WS "-T09", bl, sizeof(bl));
		assert_string_equal(bl, "task:" WS "-T10");
		blockers_of(f, WS "-T10", bl, sizeof(bl));
		assert_string_equal(bl, "");
	}

	/* a blocker done unblocks */
	set_status(f, WS "-T10", "done");
	assert_int_equal(dh_list_ready_tasks(f->c, &flt, &ready, &err), HC_OK);
	assert_true(has_id(ready, WS "-T09"));
	json_decref(ready);

	/* a workstream blocked by an unfinished workstream has nothing ready */
	{
		json_t *ws = json_pack("{sssssss[]}", "id", "CUST-WP-0099",
				       "title", "Later", "domain", "custodian",
				       "phases"),
		       *out = NULL;
		assert_int_equal(hc_res_create(f->c, &dh_workstream_resource,
					       ws, &out, &err),
				 HC_OK);
		json_decref(ws);
		json_decref(out);
		assert_int_equal(add_dep(f, "workstream", WS, "CUST-WP-0099",
					 "blocks", &err),
				 HC_OK);
		assert_int_equal(dh_list_ready_tasks(f->c, &flt, &ready, &err),
				 HC_OK);
		assert_int_equal(json_array_size(json_object_get(ready,
								 "items")),
				 0);
		json_decref(ready);
		assert_int_equal(dh_claim_next_task(f->c, WS, "a2", &claim,
						    &err),
				 HC_OK);
		assert_true(json_is_null(json_object_get(claim, "task")));
		json_decref(claim);
		{
			char bl[256];
			blockers_of(f, WS "-T12", bl, sizeof(bl));
			assert_string_equal(bl, "task:" WS "-T11 "
						"workstream:CUST-WP-0099");
			/* T10 is done: T09 waits only on the workstream */
			blockers_of(f, WS "-T09", bl, sizeof(bl));
			assert_string_equal(bl, "workstream:CUST-WP-0099");
		}
		assert_int_equal(add_dep(f, "workstream", "CUST-WP-0099", WS,
					 "blocks", &err),
				 HC_ECONFLICT);
	}
	/* an unknown domain filter is not "no work" */
	flt.workstream = NULL;
	flt.domain = "nope";
	assert_int_equal(dh_list_ready_tasks(f->c, &flt, &ready, &err),
			 HC_ENOTFOUND);
}

/* ---- SBOM --------------------------------------------------------------------- */

static const char cdx[] =
	"{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\","
	"\"serialNumber\":\"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79\","
	"\"metadata\":{\"component\":{\"name\":\"the-app\"}},"
	"\"components\":[{\"type\":\"library\",\"name\":\"lodash\","
	"\"version\":\"4.17.21\",\"purl\":\"pkg:npm/lodash@4.17.21\","
	"\"licenses\":[{\"license\":{\"id\":\"MIT\"}}],"
	"\"components\":[{\"name\":\"inner\",\"version\":\"1\","
	"\"licenses\":[{\"expression\":\"MIT OR Apache-2.0\"}]}]},"
	"{\"type\":\"library\",\"group\":\"org.acme\",\"name\":\"core\","
	"\"version\":\"2.0\",\"purl\":\"pkg:maven/org.acme/core@2.0?type=jar\","
	"\"licenses\":[{\"license\":{\"name\":\"Acme License\"}}],"
	"\"supplier\":{\"name\":\"Acme\"}}]}";

static const char spdx[] =
	"{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"other\","
	"\"documentNamespace\":\"https://example.com/other\","
	"\"packages\":[{\"SPDXID\":\"SPDXRef-lodash\",\"name\":\"lodash\","
	"\"versionInfo\":\"4.17.20\",\"licenseConcluded\":\"NOASSERTION\","
	"\"licenseDeclared\":\"MIT\",\"supplier\":\"Organization: OpenJS\","
	"\"externalRefs\":[{\"referenceCategory\":\"PACKAGE-MANAGER\","
	"\"referenceType\":\"purl\",\"referenceLocator\":"
	"\"pkg:npm/lodash@4.17.20\"}]}]}";

static json_t *parse(const char *s)
{
	json_t *j = NULL;
	struct hc_err err = { 0 };
	assert_int_equal(hc_json_parse(s, strlen(s), &j, &err), HC_OK);
	return j;
}

static void test_sbom_parse(void **state)
{
	struct dh_sbom s;
	struct hc_err err = { 0 };
	json_t *doc = parse(cdx), *c;
	char *base;
	assert_int_equal(dh_sbom_parse(doc, &s, &err), HC_OK);
	assert_string_equal(s.format, "cyclonedx");
	assert_string_equal(s.spec_version, "1.5");
	assert_string_equal(s.name, "the-app");
	assert_int_equal(json_array_size(s.components), 3);
	c = json_array_get(s.components, 1); /* nested, right after parent */
	assert_string_equal(hc_json_str(c, "name"), "inner");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(c, "licenses"), 0)),
			    "MIT OR Apache-2.0");
	c = json_array_get(s.components, 2);
	assert_string_equal(hc_json_str(c, "group_name"), "org.acme");
	assert_string_equal(hc_json_str(c, "purl_base"), "pkg:maven/org.acme/core");
	assert_string_equal(hc_json_str(c, "supplier"), "Acme");
	dh_sbom_release(&s);
	json_decref(doc);

	doc = parse(spdx);
	assert_int_equal(dh_sbom_parse(doc, &s, &err), HC_OK);
	assert_string_equal(s.format, "spdx");
	c = json_array_get(s.components, 0);
	assert_string_equal(hc_json_str(c, "purl"), "pkg:npm/lodash@4.17.20");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(c, "licenses"), 0)),
			    "MIT");
	assert_string_equal(hc_json_str(c, "supplier"), "OpenJS");
	dh_sbom_release(&s);
	json_decref(doc);

	/* refusals name the member */
	doc = parse("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.2\"}");
	assert_int_equal(dh_sbom_parse(doc, &s, &err), HC_EINVAL);
	assert_string_equal(err.field, "specVersion");
	dh_sbom_release(&s);
	json_decref(doc);
	doc = parse("{\"spdxVersion\":\"SPDX-2.2\"}");
	assert_int_equal(dh_sbom_parse(doc, &s, &err), HC_EINVAL);
	assert_string_equal(err.field, "spdxVersion");
	dh_sbom_release(&s);
	json_decref(doc);
	doc = parse("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\","
		    "\"components\":[{\"version\":\"1\"}]}");
	assert_int_equal(dh_sbom_parse(doc, &s, &err), HC_EINVAL);
	assert_string_equal(err.field, "components[0]");
	dh_sbom_release(&s);
	json_decref(doc);
	doc = parse("{\"hello\":1}");
	assert_int_equal(dh_sbom_parse(doc, &s, &err), HC_EINVAL);
	dh_sbom_release(&s);
	json_decref(doc);

	base = dh_purl_base("pkg:npm/%40angular/core@16.0.0#sub");
	assert_string_equal(base, "pkg:npm/%40angular/core");
	free(base);
	base = dh_purl_base("pkg:npm/lodash");
	assert_string_equal(base, "pkg:npm/lodash");
	free(base);
}

static void add_repo(struct fixture *f, const char *name, const char *path)
{
	struct hc_err err = { 0 };
	json_t *in = json_pack("{ssss}", "name", name, "domain", "custodian"),
	       *out = NULL;
	if (path)
		json_object_set_new(in, "default_path", json_string(path));
	assert_int_equal(hc_res_create(f->c, &hc_repo_resource, in, &out, &err),
			 HC_OK);
	json_decref(in);
	json_decref(out);
}

static void test_sbom_ingest_usage(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	json_t *doc, *out = NULL, *repos;
	add_repo(f, "app", NULL);
	add_repo(f, "other", NULL);
	doc = parse(cdx);
	assert_int_equal(dh_sbom_ingest(f->c, "app", doc, "bom.json", &out,
					&err),
			 HC_OK);
	assert_true(json_is_true(json_object_get(out, "created")));
	assert_int_equal(json_integer_value(json_object_get(out,
							    "component_count")),
			 3);
	json_decref(out);
	/* again: replaced, not added */
	assert_int_equal(dh_sbom_ingest(f->c, "app", doc, NULL, &out, &err),
			 HC_OK);
	assert_false(json_is_true(json_object_get(out, "created")));
	json_decref(out);
	json_decref(doc);
	assert_int_equal(count(f, "SELECT count(*) FROM sbom_components"), 3);
	doc = parse(spdx);
	assert_int_equal(dh_sbom_ingest(f->c, "other", doc, NULL, &out, &err),
			 HC_OK);
	json_decref(out);
	json_decref(doc);

	assert_int_equal(dh_sbom_usage(f->c, "LoDash", &out, &err), HC_OK);
	repos = json_object_get(out, "repos");
	assert_int_equal(json_array_size(repos), 2);
	assert_string_equal(hc_json_str(json_array_get(repos, 0), "repo"),
			    "app");
	json_decref(out);
	assert_int_equal(dh_sbom_usage(f->c, "pkg:npm/lodash", &out, &err),
			 HC_OK);
	assert_int_equal(json_array_size(json_object_get(out, "repos")), 2);
	json_decref(out);
	assert_int_equal(dh_sbom_usage(f->c, "org.acme/core", &out, &err),
			 HC_OK);
	assert_int_equal(json_array_size(json_object_get(out, "repos")), 1);
	json_decref(out);
	/* an unknown repo is refused, nothing stored */
	doc = parse(cdx);
	assert_int_equal(dh_sbom_ingest(f->c, "nope", doc, NULL, &out, &err),
			 HC_ENOTFOUND);
	json_decref(doc);
	assert_int_equal(count(f, "SELECT count(*) FROM sboms"), 2);
}

/* ---- DoI ------------------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_doi(void **state)
{
	struct fixture *f = *state;
	const struct hc_doi_evaluator *ev = devhub_def.doi;
	struct hc_err err = { 0 };
	char root[600], p[700], head[41];
	json_t *out = NULL, *it;
	size_t i;
	snprintf(root, sizeof(root), "%s/repo", f->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	add_repo(f, "r", root);
	assert_non_null(ev);

	assert_int_equal(ev->check(f->hub, f->c, "r", false, &out, &err),
			 HC_OK);
	assert_false(json_is_true(json_object_get(out, "passed")));
	json_array_foreach(json_object_get(out, "items"), i, it)
		if (strcmp(hc_json_str(it, "id"), "readme") == 0)
			assert_non_null(strstr(hc_json_str(it, "reason"),
					       "README.md"));
	json_decref(out);

	/* a git checkout: HEAD through a loose ref */
	snprintf(p, sizeof(p), "%s/.git", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/.git/refs", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/.git/refs/heads", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/.git/HEAD", root);
	write_file(p, "ref: refs/heads/main\n");
	snprintf(p, sizeof(p), "%s/.git/refs/heads/main", root);
	write_file(p, "0123456789abcdef0123456789abcdef01234567\n");
	assert_int_equal(dh_git_head(root, head, &err), HC_OK);
	assert_string_equal(head, "0123456789abcdef0123456789abcdef01234567");

	snprintf(p, sizeof(p), "%s/README.md", root);
	write_file(p, "# r\n");
	/* a checklist of the repo's own */
	snprintf(p, sizeof(p), "%s/.foshub", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/.foshub/doi.yaml", root);
	write_file(p, "checks:\n  - id: readme\n    kind: files\n"
		      "    paths: [README.md]\n  - id: paths\n    kind: paths\n");
	assert_int_equal(ev->check(f->hub, f->c, "r", false, &out, &err),
			 HC_OK);
	assert_true(json_is_true(json_object_get(out, "passed")));
	assert_false(json_is_true(json_object_get(out, "cached")));
	assert_string_equal(hc_json_str(out, "head"), head);
	json_decref(out);
	/* same HEAD: from the cache, even after the tree changed */
	snprintf(p, sizeof(p), "%s/README.md", root);
	unlink(p);
	assert_int_equal(ev->check(f->hub, f->c, "r", false, &out, &err),
			 HC_OK);
	assert_true(json_is_true(json_object_get(out, "cached")));
	assert_true(json_is_true(json_object_get(out, "passed")));
	json_decref(out);
	/* refresh evaluates again */
	assert_int_equal(ev->check(f->hub, f->c, "r", true, &out, &err), HC_OK);
	assert_false(json_is_true(json_object_get(out, "passed")));
	json_decref(out);
	/* a new commit invalidates the cache */
	snprintf(p, sizeof(p), "%s/.git/refs/heads/main", root);
	write_file(p, "1123456789abcdef0123456789abcdef01234567\n");
	write_file(p, "1123456789abcdef0123456789abcdef01234567\n");
	assert_int_equal(ev->check(f->hub, f->c, "r", false, &out, &err),
			 HC_OK);
	assert_false(json_is_true(json_object_get(out, "cached")));
	json_decref(out);

	/* a broken checklist is refused with file:line */
	snprintf(p, sizeof(p), "%s/.foshub/doi.yaml", root);
	write_file(p, "checks:\n  - id: x\n    kind: nonsense\n");
	assert_int_equal(ev->check(f->hub, f->c, "r", true, &out, &err),
			 HC_EPARSE);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.source, "doi.yaml"));

	assert_int_equal(ev->summary(f->hub, f->c, NULL, false, &out, &err),
			 HC_EPARSE);
	unlink(p);
	assert_int_equal(ev->summary(f->hub, f->c, "custodian", false, &out,
				     &err),
			 HC_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
	json_decref(out);
	/* hub-core's service says "not configured" for a hub without one */
	{
		struct hc_hub_def bare = devhub_def;
		struct hc_hub fake = *f->hub;
		bare.doi = NULL;
		fake.def = &bare;
		assert_int_equal(hc_doi_check(&fake, f->c, "r", false, &out,
					      &err),
				 HC_EBADREQ);
		assert_non_null(strstr(err.msg, "not configured"));
		assert_int_equal(hc_doi_check(f->hub, f->c, "r", false, &out,
					      &err),
				 HC_OK);
		json_decref(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reimport_releases_claims,
						setup, teardown),
		cmocka_unit_test(test_find_cycle),
		cmocka_unit_test_setup_teardown(test_cycle_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ready_and_blocked, setup,
						teardown),
		cmocka_unit_test(test_sbom_parse),
		cmocka_unit_test_setup_teardown(test_sbom_ingest_usage, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_doi, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
