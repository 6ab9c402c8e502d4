/*
 * test_util.c - slugs, cursors, paths, ids, timestamps, base64url, buffers,
 * error formatting and log lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hubcore/buf.h"
#include "hubcore/log.h"
#include "hubcore/util.h"
#include "testutil.h"

static void slug(const char *in, const char *want)
{
	char out[HC_SLUG_MAX + 1];
	struct hc_err err = { 0 };
	int rc = hc_slugify(in, strlen(in), out, sizeof(out), &err);
	if (!want) {
		assert_int_equal(rc, HC_EINVAL);
		return;
	}
	assert_int_equal(rc, HC_OK);
	assert_string_equal(out, want);
	assert_true(hc_is_slug(out));
}

static void test_slugify(void **state)
{
	slug("Ops Hub!", "ops-hub");
	slug("ops-hub", "ops-hub");
	slug("  --Dev__Hub--  ", "dev-hub");
	slug("FIN hub 2", "fin-hub-2");
	slug("a/b\\c.d", "a-b-c-d");
	slug("Caf\xc3\xa9 Hub", "caf-hub");
	slug("!!!", NULL);
	slug("", NULL);
	/* 64 characters fit, 65 do not */
	slug("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	slug("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	     NULL);
	assert_false(hc_is_slug("Ops-hub"));
	assert_false(hc_is_slug("ops--hub"));
	assert_false(hc_is_slug("-ops"));
	assert_false(hc_is_slug(""));
}

static void test_cursor_roundtrip(void **state)
{
	int64_t vals[] = { 0, 1, 49, 1000000, INT64_MAX };
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		char cur[HC_CURSOR_MAX];
		int64_t back = -1;
		hc_cursor_encode(vals[i], cur, sizeof(cur));
		assert_int_equal(hc_cursor_decode(cur, &back, NULL), HC_OK);
		assert_true(back == vals[i]);
		/* opaque: no digits of the position appear as such */
		assert_null(strchr(cur, ':'));
	}
}

static void test_cursor_garbage(void **state)
{
	const char *bad[] = { "", "x", "abc$", "YzE6", "YzI6MTA",
			      "MTIzNDU", "YzE6LTE", "YzE6MTAx_",
			      "YzE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hc_err err = { 0 };
		int64_t pos;
		assert_int_equal(hc_cursor_decode(bad[i], &pos, &err),
				 HC_EPARAM);
		assert_string_equal(err.field, "cursor");
	}
}

static void path(const char *in, const char *want)
{
	char buf[256];
	struct hc_err err = { 0 };
	snprintf(buf, sizeof(buf), "%s", in);
	if (!want) {
		assert_int_equal(hc_path_normalize(buf, &err), HC_EBADREQ);
		return;
	}
	assert_int_equal(hc_path_normalize(buf, &err), HC_OK);
	assert_string_equal(buf, want);
}

static void test_path_normalize(void **state)
{
	path("/domains/", "/domains");
	path("/domains", "/domains");
	path("/", "/");
	path("//domains//x//", "/domains/x");
	path("/domains/.hidden", "/domains/.hidden");
	path("/a/..b", "/a/..b");
	path("domains", NULL);
	path("/a/../b", NULL);
	path("/a/./b", NULL);
	path("/..", NULL);
}

static void test_uuid(void **state)
{
	char a[HC_UUID_LEN + 1], b[HC_UUID_LEN + 1];
	assert_int_equal(hc_uuid_v4(a), HC_OK);
	assert_int_equal(hc_uuid_v4(b), HC_OK);
	assert_true(hc_is_uuid(a));
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '4');
	assert_true(strchr("89ab", a[19]) != NULL);
	assert_true(hc_is_uuid("293a74fe-a85a-4ad6-8933-23d52a72fe8b"));
	assert_true(hc_is_uuid("293A74FE-A85A-4AD6-8933-23D52A72FE8B"));
	assert_false(hc_is_uuid("293a74fe-a85a-4ad6-8933-23d52a72fe8"));
	assert_false(hc_is_uuid("293a74fe-a85a-4ad6-8933-23d52a72fe8bb"));
	assert_false(hc_is_uuid("293a74fe_a85a-4ad6-8933-23d52a72fe8b"));
	assert_false(hc_is_uuid("g93a74fe-a85a-4ad6-8933-23d52a72fe8b"));
}

static void test_dates(void **state)
{
	char now[HC_TIME_LEN + 1];
	hc_time_now(now);
	assert_int_equal(strlen(now), HC_TIME_LEN);
	assert_true(hc_is_datetime(now));
	assert_true(hc_is_date("2026-03-20"));
	assert_true(hc_is_date("2024-02-29"));
	assert_false(hc_is_date("2026-02-29"));
	assert_false(hc_is_date("2026-13-01"));
	assert_false(hc_is_date("2026-3-20"));
	assert_false(hc_is_date("2026-03-20T00:00:00Z"));
	assert_true(hc_is_datetime("2026-03-20T10:00:00Z"));
	assert_true(hc_is_datetime("2026-03-20T10:00:00.5+02:00"));
	assert_false(hc_is_datetime("2026-03-20T25:00:00Z"));
	assert_false(hc_is_datetime("2026-03-20 10:00:00"));
	assert_false(hc_is_datetime("2026-03-20T10:00:00"));
}

static void test_base64url(void **state)
{
	const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *want[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE",
			       "Zm9vYmFy" };
	for (size_t i = 0; i < 7; i++) {
		char enc[32], dec[32];
		size_t n;
		hc_base64url_encode(in[i], strlen(in[i]), enc);
		assert_string_equal(enc, want[i]);
		n = hc_base64url_decode(enc, strlen(enc), dec, sizeof(dec));
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(dec, in[i], n);
	}
	{
		char dec[4];
		assert_true(hc_base64url_decode("Zm9v+", 5, dec, 4) ==
			    (size_t)-1);
		assert_true(hc_base64url_decode("Zh", 2, dec, 4) ==
			    (size_t)-1); /* non-zero leftover bits */
		assert_true(hc_base64url_decode("Zm9vYmFy", 8, dec, 4) ==
			    (size_t)-1); /* output too small */
	}
}

static void test_buf_limit(void **state)
{
	struct hc_buf b = HC_BUF_INIT(8);
	size_t len;
	char *p;
	assert_int_equal(hc_buf_adds(&b, "abcd"), HC_OK);
	assert_int_equal(hc_buf_addf(&b, "%d", 123), HC_OK);
	assert_int_equal(hc_buf_adds(&b, "xy"), HC_ETOOBIG);
	assert_string_equal(b.data, "abcd123"); /* unchanged by the refusal */
	assert_int_equal(hc_buf_addc(&b, 'z'), HC_OK);
	assert_int_equal(hc_buf_addc(&b, 'z'), HC_ETOOBIG);
	assert_int_equal(hc_buf_add(&b, "\0", 0), HC_OK);
	p = hc_buf_detach(&b, &len);
	assert_int_equal(len, 8);
	assert_string_equal(p, "abcd123z");
	assert_null(b.data);
	free(p);
	hc_buf_release(&b);
}

static void test_slice(void **state)
{
	struct hc_slice s = hc_slice_trim(hc_slice_from(" \t ab c\r\n", 9));
	char *d = hc_slice_dup(s);
	assert_true(hc_slice_eq(s, "ab c"));
	assert_false(hc_slice_eq(s, "ab"));
	assert_string_equal(d, "ab c");
	free(d);
}

static void test_err_format(void **state)
{
	struct hc_err err = { 0 };
	char buf[256];
	hc_err_at(&err, HC_EPARSE, "plan.md", 12, 3, "bad %s", "thing");
	assert_string_equal(hc_err_format(&err, buf, sizeof(buf)),
			    "plan.md:12:3: bad thing");
	hc_err_prefix(&err, "task %s", "T05");
	assert_string_equal(err.msg, "task T05: bad thing");
	hc_err_field(&err, HC_EINVAL, "status", "nope");
	assert_string_equal(err.field, "status");
	assert_int_equal(err.line, 0);
	assert_string_equal(hc_err_format(&err, buf, sizeof(buf)), "nope");
	assert_int_equal(hc_status_http(HC_EINVAL), 422);
	assert_int_equal(hc_status_http(HC_EJSON), 400);
	assert_int_equal(hc_status_http(HC_ECONFLICT), 409);
	assert_int_equal(hc_status_http(HC_ETOOBIG), 413);
	assert_string_equal(hc_status_name(HC_ENOTFOUND), "ENOTFOUND");
	assert_int_equal(hc_status_http(9999), 500);
}

/* Log a record of a and b through a pipe; returns what arrived
 * (malloc'd). */
static char *log_through_pipe(const char *a, const char *b)
{
	struct hc_log log;
	char *got = calloc(1, 2 * HC_LOG_LINE_MAX);
	int fds[2];
	ssize_t n;
	FILE *f;
	assert_non_null(got);
	assert_int_equal(pipe(fds), 0);
	f = fdopen(fds[1], "w");
	assert_non_null(f);
	hc_log_init(&log, f, "t", HC_LOG_DEBUG);
	hc_log(&log, HC_LOG_INFO, "%s%s", a, b);
	hc_log_release(&log);
	fclose(f); /* the write end: read() below ends after the line */
	n = read(fds[0], got, 2 * HC_LOG_LINE_MAX - 1);
	assert_true(n > 0);
	assert_int_equal(read(fds[0], got + n, 1), 0); /* nothing more */
	close(fds[0]);
	return got;
}

static void test_log_lines(void **state)
{
	char *long_arg = malloc(2 * HC_LOG_LINE_MAX);
	char *got;
	size_t len, body;
	assert_non_null(long_arg);
	got = log_through_pipe("a ", "b\nc\x1b[2J");
	/* "YYYY-MM-DDTHH:MM:SS.mmmZ info t: ..." */
	assert_int_equal(got[HC_TIME_LEN - 1], 'Z');
	assert_string_equal(got + HC_TIME_LEN, " info t: a b\\x0ac\\x1b[2J\n");
	free(got);
	/* too long: cut to the limit, marked, still one line */
	memset(long_arg, 'x', 2 * HC_LOG_LINE_MAX - 1);
	long_arg[2 * HC_LOG_LINE_MAX - 1] = '\0';
	got = log_through_pipe("", long_arg);
	len = strlen(got);
	assert_int_equal(len, HC_LOG_LINE_MAX);
	assert_string_equal(got + len - 13, " [truncated]\n");
	assert_ptr_equal(strchr(got, '\n'), got + len - 1);
	free(got);
	/* a cut never splits a character's UTF-8 bytes */
	for (size_t i = 0; i + 2 < 2 * HC_LOG_LINE_MAX; i += 2)
		memcpy(long_arg + i, "\xc3\xa9", 2); /* U+00E9 */
	long_arg[2 * HC_LOG_LINE_MAX - 2] = '\0';
	for (int shift = 0; shift < 2; shift++) {
		got = log_through_pipe(shift ? "x" : "", long_arg);
		len = strlen(got);
		assert_true(len <= HC_LOG_LINE_MAX);
		assert_string_equal(got + len - 13, " [truncated]\n");
		body = len - 13 - (HC_TIME_LEN + 9) - (size_t)shift;
		assert_int_equal(body % 2, 0);
		assert_int_equal((unsigned char)got[len - 14], 0xa9);
		free(got);
	}
	free(long_arg);
}

static void test_utf8(void **state)
{
	/* well-formed characters of each length, U+0000 included */
	assert_int_equal(hc_utf8_char("a", 1), 1);
	assert_int_equal(hc_utf8_char("", 1), 1);
	assert_int_equal(hc_utf8_char("\xc3\xa9", 2), 2);
	assert_int_equal(hc_utf8_char("\xe2\x82\xac", 3), 3);
	assert_int_equal(hc_utf8_char("\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(hc_utf8_char("\xf4\x8f\xbf\xbf", 4), 4); /* max */
	assert_int_equal(hc_utf8_char("\xed\x9f\xbf", 3), 3); /* U+D7FF */
	/* none: stray, overlong, surrogate, too big, cut short, empty */
	assert_int_equal(hc_utf8_char("\xff", 1), 0);
	assert_int_equal(hc_utf8_char("\x80", 1), 0);
	assert_int_equal(hc_utf8_char("\xc0\xaf", 2), 0);
	assert_int_equal(hc_utf8_char("\xe0\x9f\xbf", 3), 0);
	assert_int_equal(hc_utf8_char("\xf0\x8f\xbf\xbf", 4), 0);
	assert_int_equal(hc_utf8_char("\xed\xa0\x80", 3), 0);
	assert_int_equal(hc_utf8_char("\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(hc_utf8_char("\xe2\x82\xac", 2), 0);
	assert_int_equal(hc_utf8_char("\xe2\x41\xac", 3), 0);
	assert_int_equal(hc_utf8_char("a", 0), 0);
	assert_true(hc_utf8_valid("ünïcode \xe2\x82\xac", 13));
	assert_true(hc_utf8_valid("", 0));
	assert_false(hc_utf8_valid("ok\xff", 3));
	assert_false(hc_utf8_valid("ok\xc3", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slugify),
		cmocka_unit_test(test_cursor_roundtrip),
		cmocka_unit_test(test_cursor_garbage),
		cmocka_unit_test(test_path_normalize),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_base64url),
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_slice),
		cmocka_unit_test(test_err_format),
		cmocka_unit_test(test_log_lines),
		cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
