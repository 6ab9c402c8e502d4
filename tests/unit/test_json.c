/*
 * test_json.c - hc_json_dump writes exactly what jansson's json_dumps
 * (JSON_COMPACT | JSON_ENCODE_ANY) writes, for every kind of value, every
 * byte that needs escaping and multi-byte UTF-8; hc_json_stringn takes
 * ASCII fast and still refuses invalid UTF-8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/json.h"
#include "testutil.h"

/* Compare with jansson; takes the reference of j. */
static void same_as_jansson(json_t *j)
{
	size_t len = 0;
	char *want, *got;
	assert_non_null(j);
	want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	got = hc_json_dump(j, &len);
	assert_non_null(want);
	assert_non_null(got);
	assert_int_equal(len, strlen(want));
	assert_string_equal(got, want);
	free(want);
	free(got);
	json_decref(j);
}

static void test_dump_documents(void **state)
{
	static const char *const docs[] = {
		"{}", "[]", "null", "true", "false", "0", "-1",
		"9223372036854775807", "-9223372036854775808", "\"\"",
		"1.5", "-0.0", "1e300", "3.141592653589793", "0.1",
		"[1,[2,[3,{}]],{\"a\":[]}]",
		"{\"z\":1,\"a\":2,\"m\":{\"y\":null,\"b\":[true,false]}}",
		"{\"t\\u00e4sk\":\"caf\\u00e9 \\u2014 \\ud83d\\ude00\"}",
		"{\"path\":\"/tasks/a/b\",\"del\":\"\\u007f\",\"q\":\"\\\"\\\\\"}",
		"{\"k\\n\\t\":\"v\\r\\b\\f\\u0001\\u001f\"}",
		"[\"\\u2028\\u2029\",\"\\u00ff\"]",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_error_t e;
		same_as_jansson(json_loads(docs[i], JSON_DECODE_ANY, &e));
	}
}

static void test_dump_every_ascii_byte(void **state)
{
	char all[128];
	json_t *o = json_object();
	for (int i = 0; i < 128; i++)
		all[i] = (char)i;
	/* a string holding every byte below 0x80, NUL included */
	json_object_set_new(o, "all", json_stringn(all, sizeof(all)));
	for (int i = 0; i < 128; i++) {
		char key[8];
		snprintf(key, sizeof(key), "k%d", i);
		json_object_set_new(o, key, json_stringn(all + i, 1));
	}
	same_as_jansson(o);
}

static void test_dump_long_strings(void **state)
{
	/* long runs around escapes, as in task descriptions */
	size_t n = 100000;
	char *s = malloc(n);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = i % 97 == 0 ? '\n' : i % 89 == 0 ? '"' : (char)('a' + i % 26);
	same_as_jansson(json_stringn(s, n));
	free(s);
}

static void test_dump_escape_positions(void **state)
{
	/* each byte that needs escaping, at every offset of a 24-byte string,
	 * with UTF-8 and the bytes next to the special ones around it */
	static const char special[] = { '"', '\\', '\n', 0x01, 0x1f, 0x00 };
	static const char plain[] = "!#[]^_\x7f ~ab" "\xc3\xa9" "cd"
				    "\xe2\x80\x94" "efghij";
	for (size_t k = 0; k < sizeof(special); k++) {
		for (size_t at = 0; at < 24; at++) {
			char s[24];
			memcpy(s, plain, 24);
			/* keep the UTF-8 sequences whole */
			if ((at >= 11 && at <= 12) || (at >= 15 && at <= 17))
				continue;
			s[at] = special[k];
			same_as_jansson(json_stringn(s, 24));
		}
	}
}

static void test_dump_too_deep(void **state)
{
	json_t *root = json_array(), *a = root;
	size_t len = 1;
	char *out;
	for (int i = 0; i < 3000; i++) {
		json_t *b = json_array();
		json_array_append_new(a, b);
		a = b;
	}
	assert_null(hc_json_dump(root, &len));
	json_decref(root);
	out = hc_json_dump(json_null(), &len);
	assert_string_equal(out, "null");
	assert_int_equal(len, 4);
	free(out);
}

static void test_stringn(void **state)
{
	json_t *j;
	/* ASCII, with a NUL inside */
	j = hc_json_stringn("ab\0cdefghijk", 13);
	assert_non_null(j);
	assert_int_equal(json_string_length(j), 13);
	assert_memory_equal(json_string_value(j), "ab\0cdefghijk", 13);
	json_decref(j);
	/* UTF-8 after the first eight bytes, and before */
	j = hc_json_stringn("abcdefghcaf\xc3\xa9", 13);
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "abcdefghcaf\xc3\xa9");
	json_decref(j);
	j = hc_json_stringn("\xe2\x80\x94", 3);
	assert_non_null(j);
	json_decref(j);
	/* invalid UTF-8 is refused, wherever it is */
	assert_null(hc_json_stringn("abcdefgh\xc3(", 10));
	assert_null(hc_json_stringn("\xff", 1));
	assert_null(hc_json_stringn("abcdefghijklmno\x80", 16));
	j = hc_json_stringn("", 0);
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_documents),
		cmocka_unit_test(test_dump_every_ascii_byte),
		cmocka_unit_test(test_dump_long_strings),
		cmocka_unit_test(test_dump_escape_positions),
		cmocka_unit_test(test_dump_too_deep),
		cmocka_unit_test(test_stringn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
