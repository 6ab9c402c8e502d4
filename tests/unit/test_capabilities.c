/*
 * test_capabilities.c - the service functions behind capability requests
 * and the third-party service catalog, called as the MCP tools will call
 * them: the state machine table, C arguments, joining a caller's
 * transaction, TPSC ingest and the GDPR report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/buf.h"
#include "hubcore/capabilities.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/tpsc.h"
#include "testutil.h"

struct fixture {
	char *dir;
	struct hc_store *s;
	struct hc_conn *c;
};

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static void make(struct fixture *f, const struct hc_resource *r,
		 const char *text)
{
	struct hc_err err = { 0 };
	json_t *in = J(text);
	if (hc_res_create(f->c, r, in, NULL, &err) != HC_OK)
		fail_msg("%s: %s", text, err.msg);
	json_decref(in);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hc_err err = { 0 };
	const struct hc_migration_set *sets[] = { &hc_core_migrations };
	f->dir = tu_tempdir();
	if (hc_store_open(&f->s, tu_db_url(f->dir, "c.db"), NULL, &err) ||
	    hc_migrate(f->s, sets, 1, NULL, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	f->c = hc_store_acquire(f->s, &err);
	*state = f;
	make(f, &hc_domain_resource, "{\"name\": \"Ops\"}");
	make(f, &hc_domain_resource, "{\"name\": \"Dev\"}");
	make(f, &hc_domain_resource, "{\"name\": \"Sec\"}");
	make(f, &hc_capability_resource,
	     "{\"name\": \"Security Review\", \"domain\": \"sec\"}");
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hc_store_release(f->s, f->c);
	hc_store_close(f->s);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static int64_t count(struct fixture *f, const char *sql)
{
	struct hc_err err = { 0 };
	int64_t n = -1;
	assert_int_equal(hc_query_int(f->c, &n, sql, NULL, 0, &err), HC_OK);
	return n;
}

/* A new request for security-review; its id in id. */
static void new_request(struct fixture *f, char id[64])
{
	struct hc_err err = { 0 };
	json_t *in = J("{\"capability\": \"security-review\", "
		       "\"requesting_domain\": \"dev\", \"requested_by\": "
		       "\"agent-1\", \"title\": \"review the API\"}");
	json_t *out = NULL;
	if (hc_capreq_create(f->c, in, &out, &err) != HC_OK)
		fail_msg("create: %s", err.msg);
	snprintf(id, 64, "%s", hc_json_str(out, "id"));
	assert_string_equal(hc_json_str(out, "providing_domain"), "sec");
	assert_string_equal(hc_json_str(out, "status"), "requested");
	json_decref(in);
	json_decref(out);
}

static void test_state_machine_table(void **state)
{
	static const struct {
		const char *from, *to;
	} allowed[] = {
		{ "requested", "accepted" },   { "requested", "rejected" },
		{ "requested", "disputed" },   { "accepted", "in_progress" },
		{ "accepted", "rejected" },    { "accepted", "disputed" },
		{ "in_progress", "fulfilled" }, { "in_progress", "disputed" },
		{ "disputed", "requested" },   { "disputed", "accepted" },
		{ "disputed", "rejected" },
	};
	size_t n = 0;
	/* exactly the listed moves, nothing else */
	for (const char *const *a = hc_capreq_statuses; *a; a++)
		for (const char *const *b = hc_capreq_statuses; *b; b++) {
			bool want = false, have = false;
			for (size_t i = 0; i < HC_COUNT(allowed); i++)
				want = want ||
				       (strcmp(allowed[i].from, *a) == 0 &&
					strcmp(allowed[i].to, *b) == 0);
			for (const char *const *x = hc_capreq_next_statuses(*a);
			     *x; x++)
				have = have || strcmp(*x, *b) == 0;
			assert_int_equal(want, have);
			n += have;
		}
	assert_int_equal(n, HC_COUNT(allowed));
	assert_null(hc_capreq_next_statuses("bogus"));
	assert_true(hc_capreq_can_reroute("requested"));
	assert_true(hc_capreq_can_reroute("disputed"));
	assert_false(hc_capreq_can_reroute("accepted"));
	assert_false(hc_capreq_can_reroute("fulfilled"));
}

static void test_c_arguments(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	json_t *out = NULL, *fctx = J("{\"report\": \"r-1\"}");
	char id[64];

	new_request(f, id);
	/* arguments are checked like a request body, naming the field */
	assert_int_equal(hc_capreq_transition(f->c, id, "accepted", NULL, NULL,
					      NULL, &out, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "actor");
	assert_int_equal(hc_capreq_transition(f->c, id, NULL, "a", NULL, NULL,
					      &out, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "status");
	assert_int_equal(hc_capreq_transition(f->c, id, "done", "a", NULL,
					      NULL, &out, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "status");
	assert_int_equal(hc_capreq_transition(f->c, id, "accepted", "\xff",
					      NULL, NULL, &out, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "actor");
	assert_int_equal(hc_capreq_transition(f->c, id, "accepted", "a\nb",
					      NULL, NULL, &out, &err),
			 HC_EINVAL);
	assert_int_equal(hc_capreq_transition(f->c, "nope", "accepted", "a",
					      NULL, NULL, &out, &err),
			 HC_ENOTFOUND);
	assert_int_equal(count(f, "SELECT count(*) FROM "
				  "capability_request_transitions"),
			 1);

	assert_int_equal(hc_capreq_accept(f->c, id, "sec-agent", "on it",
					  &out, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(out, "status"), "accepted");
	assert_string_equal(hc_json_str(out, "status_reason"), "on it");
	json_decref(out);
	assert_int_equal(hc_capreq_transition(f->c, id, "in_progress", "s",
					      NULL, NULL, &out, &err),
			 HC_OK);
	json_decref(out);
	assert_int_equal(hc_capreq_transition(f->c, id, "fulfilled", "s",
					      "done", fctx, &out, &err),
			 HC_OK);
	assert_string_equal(
		hc_json_str(json_object_get(out, "fulfillment_context"),
			    "report"),
		"r-1");
	assert_int_equal(json_array_size(json_object_get(out, "history")), 4);
	assert_int_equal(json_array_size(json_object_get(out,
							 "next_statuses")),
			 0);
	json_decref(out);

	/* final: refused, naming both states, nothing recorded */
	assert_int_equal(hc_capreq_transition(f->c, id, "disputed", "s", NULL,
					      NULL, &out, &err),
			 HC_ECONFLICT);
	assert_non_null(strstr(err.msg, "'fulfilled'"));
	assert_non_null(strstr(err.msg, "'disputed'"));
	assert_int_equal(hc_capreq_reroute(f->c, id, "ops", "s", NULL, &out,
					   &err),
			 HC_ECONFLICT);
	assert_int_equal(count(f, "SELECT count(*) FROM "
				  "capability_request_transitions"),
			 4);
	json_decref(fctx);
}

/* Inside a caller's transaction the move joins it: a rollback takes back
 * the status and its history entry together. */
static void test_joins_transaction(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	json_t *out = NULL;
	char id[64];

	new_request(f, id);
	assert_int_equal(hc_tx_begin(f->c, true, &err), HC_OK);
	assert_int_equal(hc_capreq_reroute(f->c, id, "ops", "router", "ops "
					   "owns it",
					   &out, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(out, "providing_domain"), "ops");
	json_decref(out);
	hc_tx_rollback(f->c);
	assert_int_equal(hc_res_get(f->c, &hc_capreq_resource, id, &out, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(out, "providing_domain"), "sec");
	assert_int_equal(json_array_size(json_object_get(out, "history")), 1);
	json_decref(out);

	/* reroute refusals */
	assert_int_equal(hc_capreq_reroute(f->c, id, "sec", "r", NULL, &out,
					   &err),
			 HC_ECONFLICT);
	assert_string_equal(err.field, "to_domain");
	assert_int_equal(hc_capreq_reroute(f->c, id, "nowhere", "r", NULL,
					   &out, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "to_domain");
	assert_int_equal(hc_capreq_reroute(f->c, id, NULL, "r", NULL, &out,
					   &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "to_domain");
}

static void test_retired_and_providerless(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	json_t *in, *out = NULL;
	const char *id;

	make(f, &hc_capability_resource,
	     "{\"name\": \"Old\", \"domain\": \"ops\", \"status\": "
	     "\"retired\"}");
	in = J("{\"capability\": \"old\", \"requesting_domain\": \"dev\", "
	       "\"requested_by\": \"a\", \"title\": \"t\"}");
	assert_int_equal(hc_capreq_create(f->c, in, &out, &err), HC_EINVAL);
	assert_string_equal(err.field, "capability");
	json_decref(in);
	assert_int_equal(count(f, "SELECT count(*) FROM capability_requests"),
			 0);

	/* without a capability there is no provider until a reroute */
	in = J("{\"requesting_domain\": \"dev\", \"requested_by\": \"a\", "
	       "\"title\": \"who can help?\"}");
	assert_int_equal(hc_capreq_create(f->c, in, &out, &err), HC_OK);
	json_decref(in);
	id = hc_json_str(out, "id");
	assert_true(json_is_null(json_object_get(out, "providing_domain")));
	assert_int_equal(hc_capreq_accept(f->c, id, "a", NULL, NULL, &err),
			 HC_ECONFLICT);
	assert_string_equal(err.field, "providing_domain");
	assert_int_equal(hc_capreq_reroute(f->c, id, "ops", "a", NULL, NULL,
					   &err),
			 HC_OK);
	assert_int_equal(hc_capreq_accept(f->c, id, "a", NULL, NULL, &err),
			 HC_OK);
	json_decref(out);
}

static void test_tpsc_ingest_and_report(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	bool created = false, changed = false;
	json_t *in, *out = NULL, *d;

	in = J("{\"domain\": \"dev\", \"vendor\": \"Mailer\", \"service\": "
	       "\"Send\", \"purpose\": \"mail\", \"processing_location\": "
	       "\"us\", \"dpa_status\": \"signed\", \"data_categories\": "
	       "[\"contact\"]}");
	assert_int_equal(hc_tpsc_ingest(f->c, in, &created, &changed, &out,
					&err),
			 HC_OK);
	assert_true(created && changed);
	assert_string_equal(hc_json_str(out, "processing_location"), "US");
	json_decref(out);
	json_decref(in);

	/* absent fields keep their values: dpa_status stays signed */
	in = J("{\"domain\": \"dev\", \"vendor\": \"Mailer\", \"service\": "
	       "\"Send\", \"notes\": \"checked\"}");
	assert_int_equal(hc_tpsc_ingest(f->c, in, &created, &changed, &out,
					&err),
			 HC_OK);
	assert_false(created);
	assert_true(changed);
	assert_string_equal(hc_json_str(out, "dpa_status"), "signed");
	assert_string_equal(hc_json_str(out, "purpose"), "mail");
	json_decref(out);
	json_decref(in);
	assert_int_equal(count(f, "SELECT count(*) FROM tpsc_services"), 1);

	in = J("{\"vendor\": \"Mailer\", \"service\": \"Send\"}");
	assert_int_equal(hc_tpsc_ingest(f->c, in, NULL, NULL, NULL, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "domain");
	json_decref(in);

	assert_true(hc_location_in_eea("de"));
	assert_true(hc_location_in_eea("EEA"));
	assert_true(hc_location_in_eea("NO"));
	assert_false(hc_location_in_eea("CH"));
	assert_false(hc_location_in_eea(NULL));

	assert_int_equal(hc_gdpr_report(f->c, "dev", &out, &err), HC_OK);
	d = json_array_get(json_object_get(out, "domains"), 0);
	assert_int_equal(json_integer_value(json_object_get(d, "services")),
			 1);
	assert_int_equal(json_array_size(json_object_get(d, "outside_eea")),
			 1);
	assert_int_equal(json_array_size(json_object_get(d, "missing_dpa")),
			 0);
	json_decref(out);
	assert_int_equal(hc_gdpr_report(f->c, "nowhere", &out, &err),
			 HC_ENOTFOUND);
}

/* A database at core version 1 (before these resources) is brought to
 * version 2 without touching what it holds. */
static void test_upgrade_from_core_v1(void **state)
{
	static const char *const tables[] = { "capabilities",
					      "capability_requests",
					      "capability_request_transitions",
					      "tpsc_services", "progress_open" };
	struct hc_migration_set v1 = hc_core_migrations;
	const struct hc_migration_set *old[] = { &v1 };
	const struct hc_migration_set *now[] = { &hc_core_migrations };
	struct hc_store *s = NULL;
	struct hc_conn *c;
	struct hc_err err = { 0 };
	char *dir = tu_tempdir();
	int applied = 0, version = 0;
	bool exists = false;

	v1.count = 1;
	assert_int_equal(hc_store_open(&s, tu_db_url(dir, "old.db"), NULL,
				       &err),
			 HC_OK);
	assert_int_equal(hc_migrate(s, old, 1, &applied, &err), HC_OK);
	assert_int_equal(applied, 1);
	c = hc_store_acquire(s, &err);
	assert_int_equal(hc_table_exists(c, "tpsc_services", &exists, &err),
			 HC_OK);
	assert_false(exists);
	assert_int_equal(hc_exec(c,
				 "INSERT INTO domains (id, slug, name, "
				 "archived, created_at, updated_at) VALUES "
				 "('d1', 'kept', 'Kept', 0, 'x', 'x')",
				 NULL, 0, &err),
			 HC_OK);
	hc_store_release(s, c);
	assert_int_equal(hc_migrate(s, now, 1, &applied, &err), HC_OK);
	assert_int_equal(applied, (int)hc_core_migrations.count - 1);
	c = hc_store_acquire(s, &err);
	assert_int_equal(hc_schema_version(c, "core", &version, &err), HC_OK);
	assert_int_equal(version,
			 hc_core_migrations.steps[hc_core_migrations.count - 1]
				 .version);
	for (size_t i = 0; i < HC_COUNT(tables); i++) {
		assert_int_equal(hc_table_exists(c, tables[i], &exists, &err),
				 HC_OK);
		assert_true(exists);
	}
	{
		int64_t n = 0;
		assert_int_equal(hc_query_int(c, &n,
					      "SELECT count(*) FROM domains "
					      "WHERE slug = 'kept'",
					      NULL, 0, &err),
				 HC_OK);
		assert_int_equal(n, 1);
	}
	hc_store_release(s, c);
	hc_store_close(s);
	tu_rmtree(dir);
}

/* ---- open risks and alerts ------------------------------------------- */

static void event(struct hc_conn *c, int i, const char *type,
		  const char *domain, const char *corr)
{
	struct hc_err err = { 0 };
	char id[64];
	struct hc_value p[4];
	snprintf(id, sizeof(id), "ev-%04d", i);
	p[0] = hc_vtext(id);
	p[1] = hc_vtext(type);
	p[2] = hc_vtext(domain);
	p[3] = corr ? hc_vtext(corr) : hc_vnull();
	if (hc_exec(c,
		    "INSERT INTO progress_events (id, event_type, domain, "
		    "correlation_id, severity, summary, source, subject_refs, "
		    "payload, created_at, updated_at) VALUES (?, ?, ?, ?, "
		    "'high', 's', 'test', '{}', '{}', 'x', 'x')",
		    p, 4, &err) != HC_OK)
		fail_msg("event %d: %s", i, err.msg);
}

/* The ids of the rows sql selects, in order, joined with ','. */
static void ids(struct hc_conn *c, const char *sql, const char *kind,
		struct hc_buf *out)
{
	struct hc_err err = { 0 };
	struct hc_value p[] = { hc_vtext(kind) };
	struct hc_stmt *st = NULL;
	int rc;
	out->len = 0;
	hc_buf_adds(out, "");
	if (hc_query(c, &st, sql, p, 1, &err) != HC_OK)
		fail_msg("%s: %s", sql, err.msg);
	while ((rc = hc_stmt_step(st, &err)) == HC_ROW_READY)
		hc_buf_addf(out, "%s,", hc_stmt_text(st, 0, NULL));
	assert_int_equal(rc, HC_ROW_DONE);
	hc_stmt_finish(st);
}

/* progress_open holds exactly the items the log says are open: for each
 * vocabulary, the events of an opening type with no later event of the
 * vocabulary in their correlation (written here without the library). */
static void assert_open_matches_log(struct hc_conn *c)
{
	static const char kept[] =
		"SELECT e.id FROM progress_open o JOIN progress_events e ON "
		"e.seq = o.seq WHERE o.kind = ? AND o.domain = e.domain "
		"ORDER BY e.id";
	static const char *const kinds[][3] = {
		{ "risk", "'risk_surfaced', 'risk_escalated'",
		  "'risk_surfaced', 'risk_escalated', 'risk_mitigated'" },
		{ "alert", "'alert_raised', 'alert_acknowledged'",
		  "'alert_raised', 'alert_acknowledged', 'alert_resolved'" },
	};
	struct hc_buf want = HC_BUF_INIT(1 << 16), got = HC_BUF_INIT(1 << 16);
	char sql[1024];
	for (size_t k = 0; k < HC_COUNT(kinds); k++) {
		snprintf(sql, sizeof(sql),
			 "SELECT id FROM progress_events e WHERE ? <> '' AND "
			 "event_type IN (%s) AND (correlation_id IS NULL OR "
			 "NOT EXISTS (SELECT 1 FROM progress_events l WHERE "
			 "l.correlation_id = e.correlation_id AND l.seq > "
			 "e.seq AND l.event_type IN (%s))) ORDER BY id",
			 kinds[k][1], kinds[k][2]);
		ids(c, sql, kinds[k][0], &want);
		ids(c, kept, kinds[k][0], &got);
		assert_string_equal(got.data, want.data);
	}
	hc_buf_release(&want);
	hc_buf_release(&got);
}

/* The open risks and alerts are kept in progress_open as events arrive;
 * a database from before it gets it filled from its log. */
static void test_open_items_follow_the_log(void **state)
{
	static const char *const types[] = {
		"risk_surfaced",  "risk_escalated",	"risk_mitigated",
		"alert_raised",	  "alert_acknowledged", "alert_resolved",
		"task_completed",
	};
	struct hc_migration_set v2 = hc_core_migrations;
	const struct hc_migration_set *old[] = { &v2 };
	const struct hc_migration_set *now[] = { &hc_core_migrations };
	struct hc_store *s = NULL;
	struct hc_conn *c;
	struct hc_err err = { 0 };
	char *dir = tu_tempdir();
	unsigned r = 12345;
	int64_t n = -1;

	v2.count = 2;
	assert_int_equal(hc_store_open(&s, tu_db_url(dir, "open.db"), NULL,
				       &err),
			 HC_OK);
	assert_int_equal(hc_migrate(s, old, 1, NULL, &err), HC_OK);
	c = hc_store_acquire(s, &err);
	assert_int_equal(hc_exec(c,
				 "INSERT INTO domains (id, slug, name, "
				 "archived, created_at, updated_at) VALUES "
				 "('d1', 'one', 'One', 0, 'x', 'x'), "
				 "('d2', 'two', 'Two', 0, 'x', 'x')",
				 NULL, 0, &err),
			 HC_OK);
	/* 400 events before the table exists, 400 after: random types
	 * over 30 correlations (and none), two domains */
	for (int i = 0; i < 800; i++) {
		char corr[16];
		r = r * 1103515245 + 12345;
		snprintf(corr, sizeof(corr), "c%u", (r >> 8) % 30);
		event(c, i, types[(r >> 16) % HC_COUNT(types)],
		      (r >> 4) % 2 ? "one" : "two",
		      (r >> 20) % 7 == 0 ? NULL : corr);
		if (i == 399) {
			hc_store_release(s, c);
			assert_int_equal(hc_migrate(s, now, 1, NULL, &err),
					 HC_OK);
			c = hc_store_acquire(s, &err);
			assert_open_matches_log(c);
		}
	}
	assert_open_matches_log(c);
	assert_int_equal(hc_query_int(c, &n,
				      "SELECT count(*) FROM progress_open",
				      NULL, 0, &err),
			 HC_OK);
	assert_true(n > 0);
	/* an event that goes away takes its open item with it */
	assert_int_equal(hc_exec(c,
				 "DELETE FROM progress_events WHERE seq IN "
				 "(SELECT seq FROM progress_open)",
				 NULL, 0, &err),
			 HC_OK);
	assert_int_equal(hc_query_int(c, &n,
				      "SELECT count(*) FROM progress_open",
				      NULL, 0, &err),
			 HC_OK);
	assert_int_equal(n, 0);
	hc_store_release(s, c);
	hc_store_close(s);
	tu_rmtree(dir);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_machine_table),
		cmocka_unit_test(test_upgrade_from_core_v1),
		cmocka_unit_test(test_open_items_follow_the_log),
		cmocka_unit_test_setup_teardown(test_c_arguments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_joins_transaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retired_and_providerless,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_tpsc_ingest_and_report,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
