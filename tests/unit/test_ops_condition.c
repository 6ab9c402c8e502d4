/*
 * test_ops_condition.c - ops-hub's pure parts: the condition language
 * (parsing with the column of every fault, evaluation), durations, and the
 * health state machine's thresholds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opshub/opshub.h"
#include "testutil.h"

static void parse_ok(const char *expr, struct oh_condition *c)
{
	struct hc_err err = { 0 };
	if (oh_condition_parse(expr, c, &err) != HC_OK)
		fail_msg("'%s' refused: %s", expr, err.msg);
}

static void test_parse(void **state)
{
	struct oh_condition c;
	parse_ok("[STATUS] == 200", &c);
	assert_int_equal(c.ph, OH_PH_STATUS);
	assert_int_equal(c.op, OH_EQ);
	assert_int_equal(c.number, 200);
	parse_ok("  [RESPONSE_TIME]<500ms", &c);
	assert_int_equal(c.ph, OH_PH_RESPONSE_TIME);
	assert_int_equal(c.op, OH_LT);
	assert_int_equal(c.number, 500);
	parse_ok("[CERTIFICATE_EXPIRATION] > 72h", &c);
	assert_int_equal(c.number, 72LL * 3600 * 1000);
	parse_ok("[BODY].status == ok", &c);
	assert_string_equal(c.path, ".status");
	assert_string_equal(c.value, "ok");
	parse_ok("[BODY].items[2].name != \"two words\"", &c);
	assert_string_equal(c.path, ".items[2].name");
	assert_string_equal(c.value, "two words");
	assert_int_equal(c.op, OH_NE);
	parse_ok("[CONNECTED] == true", &c);
	assert_true(c.is_bool && c.boolean);
	parse_ok("[BODY] == SSH-2.0-OpenSSH_9.2", &c);
	assert_string_equal(c.path, "");
	parse_ok("[BODY].count >= 3", &c);
	assert_true(c.is_number);
	assert_int_equal(c.op, OH_GE);
}

/* Every refusal says where: the column of the fault. */
static void test_parse_errors_have_positions(void **state)
{
	static const struct {
		const char *expr;
		int column;
		const char *words;
	} cases[] = {
		{ "[STATUS] = 200", 10, "expected an operator" },
		{ "STATUS == 200", 1, "expected a placeholder" },
		{ "[STATUSS] == 200", 1, "unknown placeholder [STATUSS]" },
		{ "[STATUS] == ", 13, "expected a value" },
		{ "[STATUS] == ok", 13, "compares with a number" },
		{ "[RESPONSE_TIME] < soon", 19, "duration" },
		{ "[CERTIFICATE_EXPIRATION] > 3x", 28, "duration" },
		{ "[CONNECTED] == yes", 16, "true or false" },
		{ "[CONNECTED] < true", 13, "only with == or !=" },
		{ "[BODY].status < ok", 17, "compare numbers only" },
		{ "[BODY]. == x", 7, "JSON path" },
		{ "[BODY] == \"open", 11, "unterminated string" },
		{ "[BODY] == \"a\" b", 15, "unexpected text" },
	};
	for (size_t i = 0; i < HC_COUNT(cases); i++) {
		struct oh_condition c;
		struct hc_err err = { 0 };
		int rc = oh_condition_parse(cases[i].expr, &c, &err);
		if (rc != HC_EINVAL)
			fail_msg("'%s' was accepted", cases[i].expr);
		if (err.column != cases[i].column)
			fail_msg("'%s': column %d, want %d (%s)", cases[i].expr,
				 err.column, cases[i].column, err.msg);
		if (!strstr(err.msg, cases[i].words))
			fail_msg("'%s': '%s' lacks '%s'", cases[i].expr,
				 err.msg, cases[i].words);
	}
}

static bool eval(const char *expr, const struct oh_observation *o,
		 char *desc, size_t size)
{
	struct oh_condition c;
	parse_ok(expr, &c);
	return oh_condition_eval(&c, o, desc, size);
}

static void test_eval(void **state)
{
	json_t *body = json_loads("{\"status\": \"ok\", \"n\": 5, \"items\": "
				  "[{\"name\": \"a\"}], \"up\": true}",
				  0, NULL);
	struct oh_observation o = { .connected = true, .status = 503,
				    .response_ms = 120, .body = "{...}",
				    .body_json = body, .has_cert = true,
				    .cert_not_after = 1000000 + 47 * 3600,
				    .now = 1000000 };
	char d[700];
	assert_false(eval("[STATUS] == 200", &o, d, sizeof(d)));
	assert_string_equal(d, "[STATUS] (503) == 200");
	assert_true(eval("[STATUS] >= 500", &o, d, sizeof(d)));
	assert_true(eval("[RESPONSE_TIME] < 500", &o, d, sizeof(d)));
	assert_false(eval("[RESPONSE_TIME] < 100ms", &o, d, sizeof(d)));
	assert_string_equal(d, "[RESPONSE_TIME] (120ms) < 100ms");
	assert_false(eval("[CERTIFICATE_EXPIRATION] > 72h", &o, d, sizeof(d)));
	assert_string_equal(d, "[CERTIFICATE_EXPIRATION] (47h00m) > 72h");
	assert_true(eval("[CERTIFICATE_EXPIRATION] > 24h", &o, d, sizeof(d)));
	assert_true(eval("[BODY].status == ok", &o, d, sizeof(d)));
	assert_true(eval("[BODY].n > 4", &o, d, sizeof(d)));
	assert_true(eval("[BODY].items[0].name == a", &o, d, sizeof(d)));
	assert_true(eval("[BODY].up == true", &o, d, sizeof(d)));
	assert_false(eval("[BODY].missing == x", &o, d, sizeof(d)));
	assert_string_equal(d, "[BODY].missing (missing) == x");
	assert_true(eval("[CONNECTED] == true", &o, d, sizeof(d)));
	assert_false(eval("[CONNECTED] == false", &o, d, sizeof(d)));
	o.has_cert = false;
	assert_false(eval("[CERTIFICATE_EXPIRATION] > 1h", &o, d, sizeof(d)));
	assert_string_equal(d, "[CERTIFICATE_EXPIRATION] (no certificate) > 1h");
	o.body_json = NULL;
	o.body = "SSH-2.0-OpenSSH_9.2";
	assert_true(eval("[BODY] == SSH-2.0-OpenSSH_9.2", &o, d, sizeof(d)));
	assert_false(eval("[BODY].status == ok", &o, d, sizeof(d)));
	assert_string_equal(d, "[BODY].status (not JSON) == ok");
	json_decref(body);
}

static void test_durations(void **state)
{
	int64_t ms = 0;
	struct hc_err err = { 0 };
	json_t *v;
	assert_int_equal(oh_duration_parse("500ms", &ms), 5);
	assert_int_equal(ms, 500);
	assert_int_equal(oh_duration_parse("1h30m", &ms), 5);
	assert_int_equal(ms, 90 * 60 * 1000);
	assert_int_equal(oh_duration_parse("2d", &ms), 2);
	assert_int_equal(ms, 2LL * 86400 * 1000);
	assert_int_equal(oh_duration_parse("h", &ms), 0);
	assert_int_equal(oh_duration_parse("12", &ms), 0);
	assert_int_equal(oh_duration_parse("99999999999999999999d", &ms), 0);
	v = json_string("26h");
	assert_int_equal(oh_duration_json(v, "max_backup_age", &ms, &err),
			 HC_OK);
	assert_int_equal(ms, 26LL * 3600 * 1000);
	json_decref(v);
	v = json_string("26 hours");
	assert_int_equal(oh_duration_json(v, "max_backup_age", &ms, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "max_backup_age");
	json_decref(v);
	v = json_integer(250);
	assert_int_equal(oh_duration_json(v, "heartbeat", &ms, &err), HC_OK);
	assert_int_equal(ms, 250);
	json_decref(v);
}

/* Drive the state machine with a string of rounds: '+' ok, '-' failed;
 * the expected states one letter each: u(p) p(ending) d(own). */
static void run(const char *rounds, int fail_t, int ok_t, const char *want)
{
	struct oh_health h = { OH_UNKNOWN, 0, 0 };
	for (size_t i = 0; rounds[i]; i++) {
		enum oh_state s = oh_health_step(&h, rounds[i] == '+', fail_t,
						 ok_t);
		char got = s == OH_UP ? 'u' : s == OH_PENDING ? 'p'
					 : s == OH_DOWN	   ? 'd'
							   : '?';
		if (got != want[i])
			fail_msg("rounds %s (thresholds %d/%d): round %zu is "
				 "'%c', want '%c' (%s)",
				 rounds, fail_t, ok_t, i + 1, got, want[i],
				 want);
	}
}

static void test_health_thresholds(void **state)
{
	/* defaults: 3 failures to go down, 2 successes to come back */
	run("+--+", 3, 2, "uppu");
	run("+---", 3, 2, "uppd");
	run("+-----", 3, 2, "uppddd");
	run("---++", 3, 2, "ppddu");
	run("---+-++", 3, 2, "ppddddu");
	/* a first failure of an unknown service is pending */
	run("-", 3, 2, "p");
	run("-", 1, 1, "d");
	run("-+", 1, 1, "du");
	run("--+-+++", 2, 3, "pdddddu");
	/* thresholds below 1 act as 1 */
	run("-+", 0, 0, "du");
}

static void test_health_counters(void **state)
{
	struct oh_health h = { OH_UP, 0, 5 };
	oh_health_step(&h, false, 3, 2);
	assert_int_equal(h.failures, 1);
	assert_int_equal(h.successes, 0);
	oh_health_step(&h, true, 3, 2);
	assert_int_equal(h.failures, 0);
	assert_int_equal(h.successes, 1);
	assert_int_equal(oh_state_parse("down"), OH_DOWN);
	assert_int_equal(oh_state_parse("nonsense"), OH_UNKNOWN);
	assert_string_equal(oh_state_name(OH_PENDING), "pending");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors_have_positions),
		cmocka_unit_test(test_eval),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_health_thresholds),
		cmocka_unit_test(test_health_counters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
