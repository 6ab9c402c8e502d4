/*
 * test_ops_store.c - ops-hub at the service level, on a real database:
 * recording probe rounds (thresholds, alert events only on changes,
 * dependency suppression, maintenance holding alerts), incident
 * transitions and their refusals, inventory parsing with file:line and
 * idempotent import, and the verdicts on the recorded cluster responses
 * of tests/data/ops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "hubcore/util.h"
#include "opshub/opshub.h"
#include "testutil.h"

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
	f->dir = tu_tempdir();
	cfg.db_url = tu_db_url(f->dir, "ops.db");
	if (hc_hub_open(&f->hub, &opshub_def, &cfg, &err) != HC_OK) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	f->c = hc_store_acquire(f->hub->store, &err);
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

static json_t *must(int rc, json_t *out, const struct hc_err *err)
{
	if (rc != HC_OK)
		fail_msg("%s (field %s)", err->msg, err->field);
	return out;
}

static void reg(struct fixture *f, const char *text)
{
	struct hc_err err = { 0 };
	json_t *in = json_loads(text, 0, NULL), *out = NULL;
	int rc;
	assert_non_null(in);
	rc = oh_service_register(f->c, in, NULL, NULL, &out, &err);
	json_decref(must(rc, out, &err));
	json_decref(in);
}

/* Record one round of a service: ok or failed. */
static json_t *round_of(struct fixture *f, const char *name, bool ok)
{
	struct hc_err err = { 0 };
	json_t *res = json_pack("[{sssssbsisss{}}]", "probe", "http", "kind",
				"http", "ok", ok, "duration_ms", 1, "message",
				ok ? "fine" : "HTTP 503", "values");
	json_t *out = NULL;
	int rc = oh_service_record(f->c, name, res, &out, &err);
	json_decref(res);
	return must(rc, out, &err);
}

static const char *health_after(struct fixture *f, const char *name, bool ok,
				char *buf)
{
	json_t *s = round_of(f, name, ok);
	snprintf(buf, 32, "%s", hc_json_str(s, "health"));
	json_decref(s);
	return buf;
}

/* The alert events of a service, oldest first: "raised,resolved". */
static void alerts(struct fixture *f, const char *name, char *out,
		   size_t size)
{
	struct hc_err err = { 0 };
	struct hc_stmt *st = NULL;
	struct hc_value p[] = { hc_vtext(name) };
	size_t n = 0;
	out[0] = '\0';
	assert_int_equal(hc_query(f->c, &st,
				  "SELECT event_type FROM progress_events WHERE "
				  "subject_refs ->> 'service' = ? "
				  "ORDER BY seq",
				  p, 1, &err),
			 HC_OK);
	while (hc_stmt_step(st, &err) == HC_ROW_READY)
		n += (size_t)snprintf(out + n, size - n, "%s%s", n ? "," : "",
				      hc_stmt_text(st, 0, NULL) + 6);
	hc_stmt_finish(st);
}

static void test_rounds_thresholds_and_events(void **state)
{
	struct fixture *f = *state;
	char h[32], ev[200];
	reg(f, "{\"name\": \"web\", \"probes\": [{\"kind\": \"http\", \"url\": "
	       "\"http://127.0.0.1:1/\"}]}");
	assert_string_equal(health_after(f, "web", true, h), "up");
	assert_string_equal(health_after(f, "web", false, h), "pending");
	assert_string_equal(health_after(f, "web", false, h), "pending");
	alerts(f, "web", ev, sizeof(ev));
	assert_string_equal(ev, "");
	assert_string_equal(health_after(f, "web", false, h), "down");
	assert_string_equal(health_after(f, "web", false, h), "down");
	alerts(f, "web", ev, sizeof(ev));
	assert_string_equal(ev, "raised");
	assert_string_equal(health_after(f, "web", true, h), "down");
	assert_string_equal(health_after(f, "web", true, h), "up");
	assert_string_equal(health_after(f, "web", true, h), "up");
	alerts(f, "web", ev, sizeof(ev));
	assert_string_equal(ev, "raised,resolved");
	{
		int64_t n = 0;
		struct hc_err err = { 0 };
		assert_int_equal(hc_query_int(f->c, &n,
					      "SELECT count(*) FROM "
					      "probe_results WHERE service = "
					      "'web'",
					      NULL, 0, &err),
				 HC_OK);
		assert_int_equal(n, 8);
	}
}

static void test_dependencies_and_maintenance(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	char h[32], ev[200], start[HC_TIME_LEN + 1], end[HC_TIME_LEN + 1];
	json_t *w, *out = NULL, *s;
	struct timespec ts;
	int rc;
	reg(f, "{\"name\": \"db\", \"failure_threshold\": 1}");
	reg(f, "{\"name\": \"app\", \"depends_on\": [\"db\"], "
	       "\"failure_threshold\": 1}");
	assert_string_equal(health_after(f, "db", false, h), "down");
	assert_string_equal(health_after(f, "app", false, h), "down");
	s = round_of(f, "app", false);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(s, "blocked_by"), 0)),
			    "db");
	json_decref(s);
	alerts(f, "app", ev, sizeof(ev));
	assert_string_equal(ev, "");
	/* the parent recovers: the child's own alert comes now */
	assert_string_equal(health_after(f, "db", true, h), "down");
	assert_string_equal(health_after(f, "db", true, h), "up");
	assert_string_equal(health_after(f, "app", false, h), "down");
	alerts(f, "app", ev, sizeof(ev));
	assert_string_equal(ev, "raised");

	/* maintenance: probes count, alerts are held */
	reg(f, "{\"name\": \"cache\", \"failure_threshold\": 1}");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec -= 60;
	hc_time_format(&ts, start);
	ts.tv_sec += 3660;
	hc_time_format(&ts, end);
	w = json_pack("{ssssss}", "service", "cache", "starts_at", start,
		      "ends_at", end);
	rc = hc_res_create(f->c, &oh_maintenance_resource, w, &out, &err);
	json_decref(must(rc, out, &err));
	json_decref(w);
	assert_string_equal(health_after(f, "cache", false, h), "maintenance");
	s = round_of(f, "cache", false);
	assert_string_equal(hc_json_str(s, "probe_state"), "down");
	assert_string_equal(hc_json_str(s, "color"), "amber");
	json_decref(s);
	alerts(f, "cache", ev, sizeof(ev));
	assert_string_equal(ev, "");
	assert_int_equal(hc_exec(f->c, "UPDATE maintenance_windows SET ends_at "
				       "= starts_at",
				 NULL, 0, &err),
			 HC_OK);
	assert_string_equal(health_after(f, "cache", false, h), "down");
	alerts(f, "cache", ev, sizeof(ev));
	assert_string_equal(ev, "raised");
}

static json_t *incident(struct fixture *f)
{
	struct hc_err err = { 0 };
	json_t *in = json_pack("{ssssss}", "title", "502 on git", "severity",
			       "SEV2", "impact", "major");
	json_t *out = NULL;
	int rc = oh_incident_create(f->c, in, "agent-7", &out, &err);
	json_decref(in);
	return must(rc, out, &err);
}

static int move(struct fixture *f, const json_t *inc, const char *to,
		struct hc_err *err)
{
	json_t *out = NULL;
	int rc = oh_incident_update(f->c, hc_json_str(inc, "id"), NULL, to,
				    "bob", "note", &out, err);
	json_decref(out);
	return rc;
}

static void test_incident_transitions(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	json_t *inc = incident(f), *out = NULL;
	static const char *const path[] = { "identified", "monitoring",
					    "resolved", "postmortem" };
	assert_string_equal(hc_json_str(inc, "status"), "investigating");
	assert_int_equal(json_array_size(json_object_get(inc, "timeline")), 1);
	/* skipping and going back are refused, naming status */
	assert_int_equal(move(f, inc, "monitoring", &err), HC_ECONFLICT);
	assert_string_equal(err.field, "status");
	assert_non_null(strstr(err.msg, "cannot skip to monitoring"));
	assert_int_equal(move(f, inc, "resolved", &err), HC_ECONFLICT);
	for (size_t i = 0; i < HC_COUNT(path); i++) {
		hc_err_clear(&err);
		if (move(f, inc, path[i], &err) != HC_OK)
			fail_msg("%s: %s", path[i], err.msg);
		if (i > 0) {
			assert_int_equal(move(f, inc, path[i - 1], &err),
					 HC_ECONFLICT);
			assert_non_null(strstr(err.msg, "cannot go back"));
		}
	}
	assert_int_equal(move(f, inc, "resolved", &err), HC_ECONFLICT);
	assert_int_equal(move(f, inc, "closed", &err), HC_EINVAL);
	assert_int_equal(hc_res_get(f->c, &oh_incident_resource,
				    hc_json_str(inc, "id"), &out, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(out, "status"), "postmortem");
	assert_int_equal(json_array_size(json_object_get(out, "timeline")), 5);
	assert_true(json_is_integer(json_object_get(out, "time_to_resolve_s")));
	assert_true(
		json_is_integer(json_object_get(out, "time_to_acknowledge_s")));
	assert_non_null(hc_json_str(out, "acknowledged_at"));
	assert_null(oh_incident_next("postmortem")[0]);
	assert_string_equal(oh_incident_next("identified")[0], "monitoring");
	json_decref(out);
	json_decref(inc);
}

static int parse(const char *text, struct oh_inventory **inv,
		 struct hc_err *err)
{
	return oh_inventory_parse("inv.yaml", text, strlen(text), inv, err);
}

static void test_inventory_errors(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *words;
	} cases[] = {
		{ "version: 1\nservices:\n  - name: a\n  - name: [\n", 5,
		  "did not find expected node content" },
		{ "version: 2\n", 1, "version must be 1" },
		{ "version: 1\nhosts: []\n", 2, "unknown key 'hosts'" },
		{ "services: {a: 1}\n", 1, "services must be a list" },
		{ "services:\n  - kind: x\n", 2, "with a name" },
		{ "services:\n  - name: a\n    x: 1\n    x: 2\n", 4,
		  "duplicate key 'x'" },
		{ "- 1\n", 1, "an inventory is a mapping" },
		{ "", 1, "empty" },
	};
	for (size_t i = 0; i < HC_COUNT(cases); i++) {
		struct oh_inventory *inv = NULL;
		struct hc_err err = { 0 };
		if (parse(cases[i].text, &inv, &err) == HC_OK)
			fail_msg("case %zu was accepted", i);
		assert_string_equal(err.source, "inv.yaml");
		if (err.line != cases[i].line || !strstr(err.msg, cases[i].words))
			fail_msg("case %zu: line %d '%s', want line %d '%s'", i,
				 err.line, err.msg, cases[i].line,
				 cases[i].words);
		assert_null(inv);
	}
}

static void test_inventory_import(void **state)
{
	struct fixture *f = *state;
	struct oh_inventory *inv = NULL;
	struct oh_import_result res;
	struct hc_err err = { 0 };
	int64_t before = 0, after = 0;
	static const char bad[] =
		"version: 1\n"
		"services:\n"
		"  - name: fine\n"
		"  - name: broken\n"
		"    probes:\n"
		"      - kind: tcp\n"
		"        host: h\n"
		"        port: 22\n"
		"        conditions: [\"[STATUS] == 200\"]\n";

	assert_int_equal(oh_inventory_parse_file("examples/ops/inventory.yaml",
						 &inv, &err),
			 HC_OK);
	if (oh_inventory_import(f->c, inv, &res, &err) != HC_OK)
		fail_msg("%s:%d: %s", err.source, err.line, err.msg);
	assert_int_equal(res.services, 7);
	assert_int_equal(res.services_created, 7);
	assert_int_equal(res.locations_created, 2);
	assert_int_equal(res.runbooks, 1);
	assert_int_equal(res.access_paths, 2);
	assert_int_equal(hc_query_int(f->c, &before,
				      "SELECT count(*) FROM services",
				      NULL, 0, &err),
			 HC_OK);
	assert_int_equal(before, 7);
	assert_int_equal(oh_inventory_import(f->c, inv, &res, &err), HC_OK);
	assert_int_equal(res.services_created + res.services_updated, 0);
	assert_int_equal(res.locations_created + res.locations_updated, 0);
	/* nothing was rewritten: updated_at is still created_at */
	assert_int_equal(hc_query_int(f->c, &after,
				      "SELECT count(*) FROM services WHERE "
				      "updated_at <> created_at",
				      NULL, 0, &err),
			 HC_OK);
	assert_int_equal(after, 0);
	oh_inventory_free(inv);

	/* a refused file stores nothing, not even its first service */
	assert_int_equal(parse(bad, &inv, &err), HC_OK);
	assert_int_equal(oh_inventory_import(f->c, inv, &res, &err),
			 HC_EINVAL);
	assert_int_equal(err.line, 9);
	assert_string_equal(err.source, "inv.yaml");
	assert_non_null(strstr(err.msg, "a tcp probe cannot use"));
	oh_inventory_free(inv);
	{
		json_t *row = NULL;
		assert_int_equal(hc_res_get(f->c, &oh_service_resource, "fine",
					    &row, &err),
				 HC_ENOTFOUND);
	}
}

/* ---- the cluster verdicts ----------------------------------------------------- */

#define NOW 2000000000LL

/* A recorded response with ${NOW...} replaced relative to NOW. */
static json_t *recorded(const char *variant, const char *name)
{
	char path[256], *text = NULL;
	struct hc_buf out = HC_BUF_INIT(4 * 1024 * 1024);
	FILE *fp;
	long n;
	json_t *j;
	snprintf(path, sizeof(path), "tests/data/ops/%s/%s", variant, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	for (char *p = text; *p;) {
		char *s = strstr(p, "${NOW");
		long hours = 0;
		struct timespec ts = { 0, 0 };
		char t[HC_TIME_LEN + 1];
		if (!s) {
			hc_buf_adds(&out, p);
			break;
		}
		hc_buf_add(&out, p, (size_t)(s - p));
		p = s + 5;
		if (*p == '+' || *p == '-')
			hours = strtol(p, &p, 10), p++; /* the 'h' */
		assert_int_equal(*p, '}');
		p++;
		ts.tv_sec = (time_t)(NOW + hours * 3600);
		hc_time_format(&ts, t);
		hc_buf_adds(&out, t);
	}
	j = json_loads(out.data, 0, NULL);
	assert_non_null(j);
	hc_buf_release(&out);
	free(text);
	return j;
}

static char *joined(const json_t *problems)
{
	struct hc_buf b = HC_BUF_INIT(1 << 20);
	json_t *v;
	size_t i;
	json_array_foreach(problems, i, v)
		hc_buf_addf(&b, "%s|", json_string_value(v));
	if (!b.data)
		hc_buf_adds(&b, "");
	return hc_buf_detach(&b, NULL);
}

static void test_cluster_verdicts(void **state)
{
	const char *variants[] = { "healthy", "broken" };
	for (int v = 0; v < 2; v++) {
		json_t *sum = json_object(), *probs = json_array();
		json_t *nodes = recorded(variants[v], "nodes.json");
		json_t *pods = recorded(variants[v], "pods.json");
		json_t *vols = recorded(variants[v], "volumes.json");
		json_t *backups = recorded(variants[v], "backups.json");
		json_t *targets = recorded(variants[v], "backuptargets.json");
		json_t *certs = recorded(variants[v], "certificates.json");
		char *text;
		oh_k8s_nodes_eval(nodes, sum, probs);
		oh_k8s_pods_eval(pods, sum, probs);
		oh_longhorn_volumes_eval(vols, sum, probs);
		oh_longhorn_backups_eval(vols, backups, 26LL * 3600 * 1000, NOW,
					 sum, probs);
		oh_longhorn_targets_eval(targets, sum, probs);
		oh_certificates_eval(certs, 72LL * 3600 * 1000, NOW, sum, probs);
		text = joined(probs);
		if (v == 0) {
			if (json_array_size(probs))
				fail_msg("healthy cluster has problems: %s",
					 text);
			assert_int_equal(json_integer_value(json_object_get(
						 json_object_get(sum, "nodes"),
						 "ready")),
					 3);
		} else {
			static const char *const want[] = {
				"node k3s-2 is not Ready: KubeletNotReady|",
				"node k3s-3 has MemoryPressure|",
				"pod gitea/gitea-0: container gitea "
				"CrashLoopBackOff|",
				"pod apps/web-7d9f8-abcde is Pending|",
				"pod apps/web-7d9f8-abcde: container web "
				"ImagePullBackOff|",
				"pod apps/worker-5c6d7-fghij: container worker "
				"OOMKilled|",
				"volume pvc-gitea-data is degraded|",
				"volume pvc-postgres is faulted|",
				"volume pvc-gitea-data: last completed backup "
				"30h ago (at most 26h)|",
				"volume pvc-postgres has no completed backup|",
				"backup target default is not available|",
				"certificate gitea/git-example-org is not "
				"Ready: Issuing certificate as Secret does not "
				"exist|",
				"certificate apps/apps-example-org expires in "
				"48h and no renewal is scheduled|",
			};
			for (size_t i = 0; i < HC_COUNT(want); i++)
				if (!strstr(text, want[i]))
					fail_msg("missing '%s' in %s", want[i],
						 text);
			assert_int_equal(json_array_size(probs),
					 HC_COUNT(want));
			assert_null(strstr(text, "pvc-old-archive"));
			assert_null(strstr(text, "restic"));
		}
		free(text);
		json_decref(sum);
		json_decref(probs);
		json_decref(nodes);
		json_decref(pods);
		json_decref(vols);
		json_decref(backups);
		json_decref(targets);
		json_decref(certs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_rounds_thresholds_and_events, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_dependencies_and_maintenance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incident_transitions,
						setup, teardown),
		cmocka_unit_test(test_inventory_errors),
		cmocka_unit_test_setup_teardown(test_inventory_import, setup,
						teardown),
		cmocka_unit_test(test_cluster_verdicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
