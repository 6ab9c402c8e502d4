/*
 * test_resource.c - resources described as data: schema generation,
 * validation, create / get / update / upsert, references by id or key,
 * keyset pagination, filters and counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hubcore/json.h"
#include "hubcore/buf.h"
#include "hubcore/resource.h"
#include "testutil.h"

static const char *const colors[] = { "red", "green", "blue", NULL };

static const struct hc_field bin_fields[] = {
	{ .name = "slug", .type = HC_FT_SLUG,
	  .flags = HC_F_REQUIRED | HC_F_KEY },
};
static const struct hc_resource bins = {
	.name = "bin", .plural = "bins", .table = "bins",
	.id_policy = HC_ID_UUID, .fields = bin_fields, .nfields = 1,
};

static const struct hc_field widget_fields[] = {
	{ .name = "name", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 10 },
	{ .name = "color", .type = HC_FT_ENUM,
	  .flags = HC_F_FILTER | HC_F_REQUIRED, .enum_values = colors,
	  .default_value = "red" },
	{ .name = "count", .type = HC_FT_INT, .flags = HC_F_FILTER },
	{ .name = "on", .type = HC_FT_BOOL, .flags = HC_F_FILTER,
	  .default_value = "false" },
	{ .name = "meta", .type = HC_FT_JSON, .json_kind = HC_JSON_OBJECT,
	  .default_value = "{}" },
	{ .name = "day", .type = HC_FT_DATE },
	{ .name = "uuid", .type = HC_FT_UUID, .flags = HC_F_UNIQUE },
	{ .name = "bin", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &bins, .ref_field = "slug" },
	{ .name = "notes", .type = HC_FT_TEXT },
	{ .name = "locked", .type = HC_FT_STRING, .flags = HC_F_READONLY },
	{ .name = "kind", .type = HC_FT_STRING, .flags = HC_F_IMMUTABLE },
	{ .name = "later", .type = HC_FT_STRING, .since = 2 },
};
static const struct hc_resource widgets = {
	.name = "widget", .plural = "widgets", .table = "widgets",
	.id_policy = HC_ID_HOOK, .fields = widget_fields,
	.nfields = HC_COUNT(widget_fields),
};

/* Unique together: (bin, code) from the start, (code, label) from v2. */
static const struct hc_field part_fields[] = {
	{ .name = "bin", .type = HC_FT_REF, .ref = &bins, .ref_field = "slug" },
	{ .name = "code", .type = HC_FT_STRING, .flags = HC_F_REQUIRED },
	{ .name = "size", .type = HC_FT_INT },
	{ .name = "label", .type = HC_FT_STRING, .since = 2 },
};
static const char *const bin_code[] = { "bin", "code", NULL };
static const char *const code_label[] = { "code", "label", NULL };
static const struct hc_unique part_uniques[] = {
	{ .fields = bin_code },
	{ .fields = code_label, .since = 2 },
};
static const struct hc_resource parts = {
	.name = "part", .plural = "parts", .table = "parts",
	.id_policy = HC_ID_UUID, .fields = part_fields,
	.nfields = HC_COUNT(part_fields), .uniques = part_uniques,
	.nuniques = HC_COUNT(part_uniques),
};

struct fixture {
	char *dir;
	struct hc_store *s;
	struct hc_conn *c;
};

static const struct hc_resource *const v1[] = { &bins, &widgets, &parts,
						NULL };
static const struct hc_migration steps[] = {
	{ .version = 1, .name = "bins and widgets", .resources = v1 },
	{ .version = 2, .name = "widgets.later", .resources = v1 },
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hc_err err = { 0 };
	struct hc_migration_set set = { "test", steps, 2 };
	const struct hc_migration_set *sets[] = { &set };
	f->dir = tu_tempdir();
	if (hc_store_open(&f->s, tu_db_url(f->dir, "r.db"), NULL, &err) ||
	    hc_migrate(f->s, sets, 1, NULL, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	f->c = hc_store_acquire(f->s, &err);
	*state = f;
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

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

/* Create from JSON text; return the status and keep err. */
static int create(struct fixture *f, const struct hc_resource *r,
		  const char *text, json_t **out, struct hc_err *err)
{
	json_t *in = J(text), *o = NULL;
	int rc = hc_res_create(f->c, r, in, &o, err);
	json_decref(in);
	if (out)
		*out = o;
	else
		json_decref(o);
	return rc;
}

static void expect_invalid(struct fixture *f, const char *text,
			   const char *field)
{
	struct hc_err err = { 0 };
	int rc = create(f, &widgets, text, NULL, &err);
	if (rc != HC_EINVAL)
		fail_msg("%s: expected EINVAL, got %s (%s)", text,
			 hc_status_name(rc), err.msg);
	assert_string_equal(err.field, field);
}

static void test_schema_from_descriptors(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	bool exists;
	for (size_t i = 0; i < widgets.nfields; i++) {
		assert_int_equal(hc_column_exists(f->c, "widgets",
						  widgets.fields[i].name,
						  &exists, &err),
				 HC_OK);
		assert_true(exists);
	}
	/* filterable columns are indexed with seq for keyset scans */
	{
		int64_t n = 0;
		assert_int_equal(
			hc_query_int(f->c, &n,
				     tu_pg() ? "SELECT count(*) FROM pg_indexes "
					       "WHERE indexname = "
					       "'widgets_color_idx'"
					     : "SELECT count(*) FROM sqlite_master "
					       "WHERE type = 'index' AND name = "
					       "'widgets_color_idx'",
				     NULL, 0, &err),
			HC_OK);
		assert_int_equal(n, 1);
	}
}

static void test_validation(void **state)
{
	struct fixture *f = *state;
	expect_invalid(f, "{\"id\": \"w1\"}", "name");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"bogus\": 1}",
		       "bogus");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": 5}", "name");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"01234567890\"}",
		       "name");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"a\\nb\"}", "name");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"color\": "
			  "\"pink\"}",
		       "color");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"color\": null}",
		       "color");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"count\": 1.5}",
		       "count");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"on\": 1}", "on");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"meta\": []}",
		       "meta");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"day\": "
			  "\"2026-02-30\"}",
		       "day");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"uuid\": "
			  "\"nope\"}",
		       "uuid");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"locked\": "
			  "\"x\"}",
		       "locked");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"created_at\": "
			  "\"x\"}",
		       "created_at");
	expect_invalid(f, "{\"id\": \"a b\", \"name\": \"x\"}", "id");
	expect_invalid(f, "{\"id\": \"w1\", \"name\": \"x\", \"bin\": "
			  "\"nope\"}",
		       "bin");
	/* nothing was stored by any of the refusals */
	{
		struct hc_err err = { 0 };
		int64_t n = -1;
		hc_query_int(f->c, &n, "SELECT count(*) FROM widgets", NULL, 0,
			     &err);
		assert_int_equal(n, 0);
	}
	/* without a make_id hook, a hook-policy id is required */
	expect_invalid(f, "{\"name\": \"x\"}", "id");
}

static void test_create_get_update(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	json_t *w = NULL, *b = NULL, *patch, *g = NULL;
	const char *bin_id;

	assert_int_equal(create(f, &bins, "{\"slug\": \"Big Bin\"}", &b, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(b, "slug"), "big-bin");
	bin_id = hc_json_str(b, "id");
	assert_true(strlen(bin_id) == 36);

	/* a reference may name the row by id; the key is what is stored */
	{
		char text[256];
		snprintf(text, sizeof(text),
			 "{\"id\": \"w1\", \"name\": \"one\", \"bin\": \"%s\", "
			 "\"meta\": {\"a\": [1, 2]}}",
			 bin_id);
		assert_int_equal(create(f, &widgets, text, &w, &err), HC_OK);
	}
	assert_string_equal(hc_json_str(w, "bin"), "big-bin");
	assert_string_equal(hc_json_str(w, "color"), "red"); /* default */
	assert_true(json_is_false(json_object_get(w, "on")));
	assert_int_equal(json_integer_value(json_array_get(
				 json_object_get(json_object_get(w, "meta"), "a"),
				 1)),
			 2);
	assert_true(json_is_null(json_object_get(w, "count")));
	assert_non_null(hc_json_str(w, "created_at"));

	/* same id again: conflict on id */
	assert_int_equal(create(f, &widgets, "{\"id\": \"w1\", \"name\": "
					     "\"dup\"}",
				NULL, &err),
			 HC_ECONFLICT);
	assert_string_equal(err.field, "id");

	/* lookups by id and by key (normalized) */
	assert_int_equal(hc_res_get(f->c, &bins, "Big Bin", &g, &err), HC_OK);
	assert_string_equal(hc_json_str(g, "id"), bin_id);
	json_decref(g);
	assert_int_equal(hc_res_get(f->c, &widgets, "nope", &g, &err),
			 HC_ENOTFOUND);

	/* partial update; immutable and read-only fields refused */
	patch = J("{\"count\": 7, \"on\": true}");
	assert_int_equal(hc_res_update(f->c, &widgets, "w1", patch, &g, &err),
			 HC_OK);
	json_decref(patch);
	assert_int_equal(json_integer_value(json_object_get(g, "count")), 7);
	assert_string_equal(hc_json_str(g, "name"), "one");
	json_decref(g);
	patch = J("{\"id\": \"w2\"}");
	assert_int_equal(hc_res_update(f->c, &widgets, "w1", patch, &g, &err),
			 HC_EINVAL);
	json_decref(patch);
	patch = J("{\"kind\": \"k\"}");
	assert_int_equal(hc_res_update(f->c, &widgets, "w1", patch, &g, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "kind");
	json_decref(patch);

	/* unique field conflict names the field and the value */
	assert_int_equal(create(f, &widgets,
				"{\"id\": \"w2\", \"name\": \"a\", \"uuid\": "
				"\"293a74fe-a85a-4ad6-8933-23d52a72fe8b\"}",
				NULL, &err),
			 HC_OK);
	assert_int_equal(create(f, &widgets,
				"{\"id\": \"w3\", \"name\": \"b\", \"uuid\": "
				"\"293a74fe-a85a-4ad6-8933-23d52a72fe8b\"}",
				NULL, &err),
			 HC_ECONFLICT);
	assert_string_equal(err.field, "uuid");
	assert_non_null(strstr(err.msg, "293a74fe"));
	json_decref(w);
	json_decref(b);
}

static void test_upsert(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	bool created, changed;
	json_t *in, *out = NULL;
	char updated_at[64];

	in = J("{\"id\": \"u1\", \"name\": \"first\"}");
	assert_int_equal(hc_res_upsert(f->c, &widgets, in, &created, &changed,
				       &out, &err),
			 HC_OK);
	assert_true(created);
	assert_true(changed);
	snprintf(updated_at, sizeof(updated_at), "%s",
		 hc_json_str(out, "updated_at"));
	json_decref(out);
	json_decref(in);

	/* the same content again changes nothing, not even updated_at */
	in = J("{\"id\": \"u1\", \"name\": \"first\"}");
	assert_int_equal(hc_res_upsert(f->c, &widgets, in, &created, &changed,
				       &out, &err),
			 HC_OK);
	assert_false(created);
	assert_false(changed);
	assert_string_equal(hc_json_str(out, "updated_at"), updated_at);
	json_decref(out);
	json_decref(in);

	/* fields left out keep their value: defaults are for new rows */
	in = J("{\"id\": \"u3\", \"name\": \"c\", \"color\": \"blue\"}");
	assert_int_equal(hc_res_upsert(f->c, &widgets, in, &created, &changed,
				       NULL, &err),
			 HC_OK);
	json_decref(in);
	in = J("{\"id\": \"u3\", \"name\": \"c2\"}");
	assert_int_equal(hc_res_upsert(f->c, &widgets, in, &created, &changed,
				       &out, &err),
			 HC_OK);
	assert_string_equal(hc_json_str(out, "color"), "blue");
	assert_string_equal(hc_json_str(out, "name"), "c2");
	json_decref(out);
	json_decref(in);

	/* an upsert cannot change an immutable field either */
	in = J("{\"id\": \"u2\", \"name\": \"k\", \"kind\": \"a\"}");
	assert_int_equal(hc_res_upsert(f->c, &widgets, in, &created, &changed,
				       NULL, &err),
			 HC_OK);
	json_decref(in);
	in = J("{\"id\": \"u2\", \"name\": \"k\", \"kind\": \"b\"}");
	assert_int_equal(hc_res_upsert(f->c, &widgets, in, &created, &changed,
				       NULL, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "kind");
	json_decref(in);

	in = J("{\"id\": \"u1\", \"name\": \"second\", \"count\": 3}");
	assert_int_equal(hc_res_upsert(f->c, &widgets, in, &created, &changed,
				       &out, &err),
			 HC_OK);
	assert_false(created);
	assert_true(changed);
	assert_string_equal(hc_json_str(out, "name"), "second");
	json_decref(out);
	json_decref(in);
}

static void test_list_pages_and_filters(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	struct hc_list_query q;
	char cursor[64] = "";
	int seen = 0, pages = 0;
	json_t *out = NULL;

	for (int i = 0; i < 23; i++) {
		char text[128];
		snprintf(text, sizeof(text),
			 "{\"id\": \"w%02d\", \"name\": \"n%d\", \"color\": "
			 "\"%s\", \"count\": %d}",
			 i, i, colors[i % 3], i);
		assert_int_equal(create(f, &widgets, text, NULL, &err), HC_OK);
	}
	/* every row exactly once, in order, across pages of 5 */
	do {
		json_t *items;
		memset(&q, 0, sizeof(q));
		q.limit = 5;
		q.cursor = cursor[0] ? cursor : NULL;
		assert_int_equal(hc_res_list(f->c, &widgets, &q, &out, &err),
				 HC_OK);
		items = json_object_get(out, "items");
		for (size_t i = 0; i < json_array_size(items); i++) {
			char want[8];
			snprintf(want, sizeof(want), "w%02d", seen++);
			assert_string_equal(
				hc_json_str(json_array_get(items, i), "id"),
				want);
		}
		pages++;
		if (json_is_string(json_object_get(out, "next_cursor")))
			snprintf(cursor, sizeof(cursor), "%s",
				 hc_json_str(out, "next_cursor"));
		else
			cursor[0] = '\0';
		json_decref(out);
	} while (cursor[0]);
	assert_int_equal(seen, 23);
	assert_int_equal(pages, 5);

	/* filters: enum list and integer */
	memset(&q, 0, sizeof(q));
	assert_int_equal(hc_list_query_add(&q, &widgets, "color", "green,blue",
					   &err),
			 HC_OK);
	assert_int_equal(hc_res_list(f->c, &widgets, &q, &out, &err), HC_OK);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 15);
	json_decref(out);
	assert_int_equal(hc_list_query_add(&q, &widgets, "count", "4", &err),
			 HC_OK);
	assert_int_equal(hc_res_list(f->c, &widgets, &q, &out, &err), HC_OK);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 1);
	json_decref(out);

	/* refusals name the parameter */
	memset(&q, 0, sizeof(q));
	assert_int_equal(hc_list_query_add(&q, &widgets, "name", "x", &err),
			 HC_EPARAM);
	assert_string_equal(err.field, "name");
	assert_int_equal(hc_list_query_add(&q, &widgets, "color", "pink", &err),
			 HC_EPARAM);
	assert_int_equal(hc_list_query_add(&q, &widgets, "on", "yes", &err),
			 HC_EPARAM);
	assert_int_equal(hc_list_query_add(&q, &widgets, "count", "1x", &err),
			 HC_EPARAM);
	memset(&q, 0, sizeof(q));
	q.cursor = "garbage";
	assert_int_equal(hc_res_list(f->c, &widgets, &q, &out, &err),
			 HC_EPARAM);
	q.cursor = NULL;
	q.limit = HC_LIST_MAX_LIMIT + 1;
	assert_int_equal(hc_res_list(f->c, &widgets, &q, &out, &err),
			 HC_EPARAM);

	/* counts by an enum list every value */
	assert_int_equal(hc_res_count_by(f->c, &widgets, "color", NULL, NULL,
					 0, &out, &err),
			 HC_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "red")), 8);
	assert_int_equal(json_integer_value(json_object_get(out, "green")), 8);
	assert_int_equal(json_integer_value(json_object_get(out, "blue")), 7);
	json_decref(out);
}

static int64_t count_rows(struct fixture *f, const char *sql)
{
	struct hc_err err = { 0 };
	int64_t n = -1;
	if (hc_query_int(f->c, &n, sql, NULL, 0, &err) != HC_OK)
		fail_msg("%s: %s", sql, err.msg);
	return n;
}

/* The text answers are byte for byte the json_t ones, dumped: rows with
 * every field type, NULLs, UTF-8 and escapes, pages with and without a
 * next cursor, a filtered page, a row stored with invalid UTF-8. */
static void same_text(struct fixture *f, const struct hc_list_query *q,
		      const char *key)
{
	struct hc_err err = { 0 };
	struct hc_buf text = HC_BUF_INIT(1 << 20);
	json_t *out = NULL;
	char *want;
	if (q) {
		assert_int_equal(hc_res_list(f->c, &widgets, q, &out, &err),
				 HC_OK);
		assert_int_equal(hc_res_list_text(f->c, &widgets, q, &text,
						  &err),
				 HC_OK);
	} else {
		assert_int_equal(hc_res_get(f->c, &widgets, key, &out, &err),
				 HC_OK);
		assert_int_equal(hc_res_get_text(f->c, &widgets, key, &text, NULL,
						 &err),
				 HC_OK);
	}
	want = hc_json_dump(out, NULL);
	assert_string_equal(text.data, want);
	free(want);
	json_decref(out);
	hc_buf_release(&text);
}

static void test_text_answers(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	struct hc_list_query q;
	struct hc_buf text = HC_BUF_INIT(1 << 20);
	assert_int_equal(create(f, &bins, "{\"slug\": \"b1\"}", NULL, &err),
			 HC_OK);
	if (create(f, &widgets,
		       "{\"id\": \"full\", \"name\": \"\u00e9\\\"q\\\\\", "
		       "\"color\": \"red\", \"count\": -42, \"on\": true, "
		       "\"meta\": {\"b\": [1, 2.5, null], \"a\": \"\u2014\"}, "
		       "\"day\": \"2026-03-20\", \"uuid\": "
		       "\"f55078b6-7fa3-49ab-be30-37db622d64c9\", \"bin\": \"b1\", "
		       "\"notes\": \"line\\nline\\ttab\", \"kind\": \"k\"}",
		       NULL, &err) != HC_OK)
		fail_msg("create: %s", err.msg);
	assert_int_equal(create(f, &widgets,
				"{\"id\": \"bare\", \"name\": \"b\", "
				"\"on\": false}",
				NULL, &err),
			 HC_OK);
	same_text(f, NULL, "full");
	same_text(f, NULL, "bare");
	memset(&q, 0, sizeof(q));
	same_text(f, &q, NULL);
	q.limit = 1; /* a page with a next cursor */
	same_text(f, &q, NULL);
	memset(&q, 0, sizeof(q));
	assert_int_equal(hc_list_query_add(&q, &widgets, "color", "red", &err),
			 HC_OK);
	assert_int_equal(hc_list_query_add(&q, &widgets, "bin", "b1", &err),
			 HC_OK);
	same_text(f, &q, NULL);
	/* text that is not UTF-8 (written behind the hub's back; SQLite
	 * lets it, PostgreSQL does not) is an error, as for the json_t
	 * answer, not invalid JSON */
	if (tu_pg())
		return;
	assert_int_equal(hc_exec_script(f->c, "UPDATE widgets SET notes = "
					      "X'6162FF' WHERE id = 'bare'",
					&err),
			 HC_OK);
	assert_int_equal(hc_res_get_text(f->c, &widgets, "bare", &text, NULL,
					 &err),
			 HC_ESTORE);
	hc_buf_release(&text);
}

static void test_unique_together(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	json_t *p2 = NULL, *patch, *out = NULL;
	bool created;
	int64_t before;

	/* one unique index per constraint, the second added by step 2 to a
	 * table that already existed */
	assert_int_equal(count_rows(f, tu_pg() ? "SELECT count(*) FROM "
						 "pg_indexes WHERE indexname IN "
						 "('parts_bin_code_key', "
						 "'parts_code_label_key')"
					       : "SELECT count(*) FROM "
						 "sqlite_master WHERE type = "
						 "'index' AND name IN "
						 "('parts_bin_code_key', "
						 "'parts_code_label_key')"),
			 2);
	assert_int_equal(create(f, &bins, "{\"slug\": \"b1\"}", NULL, &err),
			 HC_OK);
	assert_int_equal(create(f, &bins, "{\"slug\": \"b2\"}", NULL, &err),
			 HC_OK);
	assert_int_equal(create(f, &parts, "{\"bin\": \"b1\", \"code\": \"x\"}",
				NULL, &err),
			 HC_OK);
	before = count_rows(f, "SELECT count(*) FROM parts");

	/* the same pair again: a conflict naming every value */
	assert_int_equal(create(f, &parts, "{\"bin\": \"b1\", \"code\": \"x\"}",
				NULL, &err),
			 HC_ECONFLICT);
	assert_string_equal(err.field, "code");
	assert_non_null(strstr(err.msg, "bin 'b1' and code 'x'"));
	assert_int_equal(count_rows(f, "SELECT count(*) FROM parts"), before);

	/* one value differing is another row; a null is never a conflict */
	assert_int_equal(create(f, &parts, "{\"bin\": \"b2\", \"code\": \"x\"}",
				&p2, &err),
			 HC_OK);
	assert_int_equal(create(f, &parts, "{\"code\": \"x\"}", NULL, &err),
			 HC_OK);
	assert_int_equal(create(f, &parts, "{\"code\": \"x\"}", NULL, &err),
			 HC_OK);

	/* an update into a taken pair is refused, and changes nothing */
	patch = J("{\"bin\": \"b1\"}");
	assert_int_equal(hc_res_update(f->c, &parts, hc_json_str(p2, "id"),
				       patch, &out, &err),
			 HC_ECONFLICT);
	json_decref(patch);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM parts WHERE bin "
				       "= 'b2'"),
			 1);
	/* an update that keeps its own pair is no conflict with itself */
	patch = J("{\"size\": 3}");
	assert_int_equal(hc_res_update(f->c, &parts, hc_json_str(p2, "id"),
				       patch, &out, &err),
			 HC_OK);
	json_decref(patch);
	json_decref(out);

	/* an upsert of a new row into a taken pair is refused too */
	{
		json_t *in = J("{\"id\": "
			       "\"6d0e4ad4-3a55-4a51-9b1c-3d1d6a41c2a0\", "
			       "\"bin\": \"b2\", \"code\": \"x\"}");
		assert_int_equal(hc_res_upsert(f->c, &parts, in, &created,
					       NULL, NULL, &err),
				 HC_ECONFLICT);
		json_decref(in);
	}

	/* the constraint added later, over fields of both versions */
	assert_int_equal(create(f, &parts, "{\"code\": \"y\", \"label\": "
					   "\"L\"}",
				NULL, &err),
			 HC_OK);
	assert_int_equal(create(f, &parts, "{\"code\": \"y\", \"label\": "
					   "\"L\", \"bin\": \"b2\"}",
				NULL, &err),
			 HC_ECONFLICT);
	assert_string_equal(err.field, "label");
	assert_non_null(strstr(err.msg, "code 'y' and label 'L'"));

	/* the index holds even for SQL that skips the check */
	assert_int_equal(hc_exec(f->c,
				 "INSERT INTO parts (id, bin, code, "
				 "created_at, updated_at) VALUES ('z', 'b1', "
				 "'x', '', '')",
				 NULL, 0, &err),
			 HC_ECONFLICT);
	json_decref(p2);
}

/* Revisions: 1 on create, one more per change; a stale expected revision
 * is refused and changes nothing; hand-written SQL cannot set it. */
static void test_revisions(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	json_t *out = NULL, *patch;
	bool created = true, changed = true;

	assert_int_equal(create(f, &bins, "{\"slug\": \"rv\"}", &out, &err),
			 HC_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "revision")),
			 1);
	json_decref(out);
	patch = J("{\"slug\": \"rv2\"}");
	assert_int_equal(hc_res_update_if(f->c, &bins, "rv", patch, 1, &out,
					  &err),
			 HC_OK);
	json_decref(patch);
	assert_int_equal(json_integer_value(json_object_get(out, "revision")),
			 2);
	json_decref(out);
	out = NULL;
	patch = J("{\"slug\": \"rv3\"}");
	assert_int_equal(hc_res_update_if(f->c, &bins, "rv2", patch, 1, &out,
					  &err),
			 HC_ESTALE);
	assert_string_equal(err.field, "revision");
	assert_non_null(strstr(err.msg, "at revision 2, not 1"));
	assert_null(out);
	assert_int_equal(hc_res_get(f->c, &bins, "rv2", &out, &err), HC_OK);
	json_decref(out);
	assert_int_equal(hc_res_update(f->c, &bins, "rv2", patch, &out, &err),
			 HC_OK);
	json_decref(patch);
	assert_int_equal(json_integer_value(json_object_get(out, "revision")),
			 3);
	/* an upsert that changes nothing keeps the revision */
	json_object_del(out, "revision");
	json_object_del(out, "created_at");
	json_object_del(out, "updated_at");
	assert_int_equal(hc_res_upsert(f->c, &bins, out, &created, &changed,
				       NULL, &err),
			 HC_OK);
	assert_false(changed);
	json_decref(out);
	assert_int_equal(hc_res_get(f->c, &bins, "rv3", &out, &err), HC_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "revision")),
			 3);
	json_decref(out);
	/* input cannot set it */
	patch = J("{\"revision\": 9}");
	assert_int_equal(hc_res_update(f->c, &bins, "rv3", patch, NULL, &err),
			 HC_EINVAL);
	assert_string_equal(err.field, "revision");
	json_decref(patch);
}

/* Another connection (another process, another replica) notices a
 * commit: hc_data_version moves. */
static void test_data_version(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	struct hc_conn *w = hc_store_acquire(f->s, &err);
	int64_t v0 = 0, v = 0;
	bool moved = false;

	assert_non_null(w);
	assert_int_equal(hc_data_version(w, &v0, &err), HC_OK);
	v = v0;
	assert_int_equal(hc_data_version(w, &v, &err), HC_OK);
	assert_true(v == v0); /* nothing happened */
	assert_int_equal(create(f, &bins, "{\"slug\": \"dv\"}", NULL, &err),
			 HC_OK);
	/* notifications travel asynchronously: poll, boundedly */
	for (int i = 0; i < 500 && !moved; i++) {
		assert_int_equal(hc_data_version(w, &v, &err), HC_OK);
		moved = v != v0;
		if (!moved)
			usleep(10000);
	}
	assert_true(moved);
	hc_store_release(f->s, w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_from_descriptors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_get_update, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_upsert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_pages_and_filters,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_answers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_revisions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_data_version, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unique_together, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
