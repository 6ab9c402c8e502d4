/*
 * test_view.c - hub-core's views: HTML escaping and the builder that
 * escapes every string, times for people, SVG charts, the built-in
 * assets, the page routes of each hub (read scope, read-only), and
 * rendering the pages' sections from real databases with their argument
 * checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "finhub/fin_int.h"
#include "finhub/finhub.h"
#include "hubcore/hub.h"
#include "hubcore/view.h"
#include "opshub/internal.h"
#include "testutil.h"

static void test_escape(void **state)
{
	struct hc_buf b = HC_BUF_INIT(4096);
	assert_int_equal(hc_html_esc(&b, "<a href='x'>&\"ok\"</a>"), HC_OK);
	assert_string_equal(b.data, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;ok"
				    "&quot;&lt;/a&gt;");
	hc_buf_reset(&b);
	assert_int_equal(hc_html_esc(&b, NULL), HC_OK);
	assert_int_equal(hc_html_esc(&b, "plain ünïcode"), HC_OK);
	assert_string_equal(b.data, "plain ünïcode");
	/* the pages are UTF-8: what is not becomes U+FFFD, byte by byte;
	 * well-formed characters of every length are kept */
	hc_buf_reset(&b);
	assert_int_equal(hc_html_esc(&b, "<\xff>a\xc3\xa9\xe2\x82\xac"
					 "\xf0\x9f\x98\x80"),
			 HC_OK);
	assert_string_equal(b.data, "&lt;\xef\xbf\xbd&gt;a\xc3\xa9\xe2\x82\xac"
				    "\xf0\x9f\x98\x80");
	hc_buf_reset(&b);
	/* overlong '/', a surrogate, a stray continuation byte, past
	 * U+10FFFF, and a character cut short by the end */
	assert_int_equal(hc_html_esc(&b, "\xc0\xaf|\xed\xa0\x80|\x80|"
					 "\xf4\x90\x80\x80|x\xe2\x82"),
			 HC_OK);
	assert_string_equal(b.data, "\xef\xbf\xbd\xef\xbf\xbd|"
				    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
				    "\xef\xbf\xbd|"
				    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				    "\xef\xbf\xbd|x\xef\xbf\xbd\xef\xbf\xbd");
	/* and through the builder */
	hc_buf_reset(&b);
	assert_int_equal(hc_html(&b, "<p>%s</p>", "no domain '\xff'"), HC_OK);
	assert_string_equal(b.data, "<p>no domain &#39;\xef\xbf\xbd&#39;</p>");
	hc_buf_release(&b);
}

static void test_builder(void **state)
{
	struct hc_buf b = HC_BUF_INIT(4096);
	assert_int_equal(hc_html(&b, "<p class=\"%s\">%s %d %zu %lld %u %x %ld "
				     "%%</p>",
				 "a\"b", "<i>", -5, (size_t)7,
				 (long long)1 << 40, 3u, 255u, -2L),
			 HC_OK);
	assert_string_equal(b.data, "<p class=\"a&quot;b\">&lt;i&gt; -5 7 "
				    "1099511627776 3 ff -2 %</p>");
	/* NULL strings are nothing */
	hc_buf_reset(&b);
	{
		const char *volatile none = NULL; /* hidden from -Wformat */
		assert_int_equal(hc_html(&b, "[%s]", none), HC_OK);
	}
	assert_string_equal(b.data, "[]");
	/* a conversion it does not know is a bug: nothing appended */
	hc_buf_reset(&b);
	hc_buf_adds(&b, "kept");
	assert_int_equal(hc_html(&b, "<b>%f</b>", 1.5), HC_EINTERNAL);
	assert_string_equal(b.data, "kept");
	assert_int_equal(hc_html(&b, "%5d", 1), HC_EINTERNAL);
	assert_string_equal(b.data, "kept");
	hc_buf_release(&b);
}

static void test_times(void **state)
{
	int64_t a, b, c, now;
	char out[32];
	assert_true(hc_view_time_ms("2026-05-01T00:00:00Z", &a));
	assert_true(hc_view_time_ms("2026-05-01T02:00:00.250+02:00", &b));
	assert_true(hc_view_time_ms("2026-05-01", &c));
	assert_int_equal(a, c);
	assert_int_equal(b, a + 250);
	assert_int_equal(a, 1777593600000LL);
	assert_false(hc_view_time_ms("2026-13-01", &c));
	assert_false(hc_view_time_ms("2026-05-01T00:00:00", &c));
	assert_false(hc_view_time_ms("2026-05-01T00:00:00Zjunk", &c));
	assert_false(hc_view_time_ms(NULL, &c));
	now = a + 5 * 60000 + 30000;
	assert_true(hc_view_ago("2026-05-01T00:00:00Z", now, out, sizeof(out)));
	assert_string_equal(out, "5 min ago");
	assert_true(hc_view_ago("2026-05-01T00:00:10Z", a + 20000, out,
				sizeof(out)));
	assert_string_equal(out, "just now");
	assert_true(hc_view_ago("2026-05-01T03:00:00Z", a, out, sizeof(out)));
	assert_string_equal(out, "in 3 h");
	assert_true(hc_view_ago("2026-04-21T00:00:00Z", a, out, sizeof(out)));
	assert_string_equal(out, "10 d ago");
	assert_false(hc_view_ago("yesterday", a, out, sizeof(out)));
	assert_string_equal(out, "");
}

static void test_bars(void **state)
{
	struct hc_buf b = HC_BUF_INIT(1 << 20);
	struct hc_chart_bar bars[] = {
		{ "<May>", 5000, "50.00 EUR", NULL },
		{ "Jun", -2000, "-20.00 EUR", "warn" },
	};
	struct hc_chart c = {
		.id = "c1",
		.title = "Cash & more",
		.desc = "what it means",
		.bars = bars,
		.nbars = 2,
		.has_line = true,
		.line = 3000,
		.line_label = "threshold 30.00 EUR",
		.label_header = "Month",
		.value_header = "Balance",
	};
	assert_int_equal(hc_svg_bars(&b, &c), HC_OK);
	assert_non_null(strstr(b.data, "role=\"img\" aria-labelledby=\"c1-t "
				       "c1-d\""));
	assert_non_null(strstr(b.data, "<title id=\"c1-t\">Cash &amp; more"));
	assert_non_null(strstr(b.data, "<title>&lt;May&gt;: 50.00 EUR</title>"));
	assert_non_null(strstr(b.data, "class=\"bar warn negative\""));
	assert_non_null(strstr(b.data, "class=\"threshold\""));
	assert_non_null(strstr(b.data, ">threshold 30.00 EUR</text>"));
	/* the same data as a table */
	assert_non_null(strstr(b.data, "<th scope=\"row\">Jun</th><td "
				       "class=\"num\">-20.00 EUR</td>"));
	assert_null(strstr(b.data, "<May>"));
	hc_buf_release(&b);
}

static void test_stack(void **state)
{
	struct hc_buf b = HC_BUF_INIT(1 << 20);
	struct hc_chart_part p[] = { { "spent", 150, "exceeded" } };
	assert_int_equal(hc_svg_stack(&b, p, 1, 100, "150 of 100 <spent>"),
			 HC_OK);
	assert_non_null(strstr(b.data, "class=\"stack over\""));
	assert_non_null(strstr(b.data, "aria-label=\"150 of 100 &lt;spent&gt;\""));
	/* clipped to the track */
	assert_non_null(strstr(b.data, "width=\"200\" height=\"10\"><title>"));
	hc_buf_release(&b);
}

static void test_assets(void **state)
{
	size_t len = 0;
	const char *type = NULL;
	const char *js = hc_view_asset("/ui/live.js", &len, &type);
	assert_non_null(js);
	assert_true(len > 1000);
	assert_string_equal(type, "text/javascript; charset=utf-8");
	assert_non_null(strstr(js, "new EventSource("));
	assert_int_equal(js[len], '\0');
	assert_non_null(strstr(hc_view_asset("/ui/hub.css", &len, NULL),
			       "prefers-color-scheme: dark"));
	assert_null(hc_view_asset("/ui/other.js", &len, NULL));
}

/* Every page is one GET route: read scope, read-only, served by the
 * views; the assets are public and static. */
static void test_routes(void **state)
{
	static const struct {
		const struct hc_hub_def *def;
		const char *path;
	} pages[] = {
		{ &opshub_def, "/now" },
		{ &finhub_def, "/runway" },
		{ &devhub_def, "/board" },
	};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		const struct hc_hub_def *def = pages[i].def;
		struct hc_req req = { 0 };
		char allow[128];
		const struct hc_route *r = hc_route_find(
			def->routes, def->nroutes, "GET", pages[i].path, &req,
			allow, sizeof(allow));
		assert_non_null(r);
		assert_ptr_equal(r->handler, hc_view_serve);
		assert_int_equal(r->scope, HC_SCOPE_READ);
		assert_true(r->flags & HC_ROUTE_READONLY);
		r = hc_route_find(def->routes, def->nroutes, "GET",
				  "/ui/live.js", &req, allow, sizeof(allow));
		assert_non_null(r);
		assert_int_equal(r->scope, HC_SCOPE_PUBLIC);
		assert_true(r->flags & HC_ROUTE_STATIC);
	}
}

struct fixture {
	char *dir;
	struct hc_hub *hub;
	struct hc_conn *c;
};

static void open_hub(struct fixture *f, const struct hc_hub_def *def)
{
	struct hc_hub_config cfg = { .log_level = HC_LOG_ERROR };
	struct hc_err err = { 0 };
	f->dir = tu_tempdir();
	cfg.db_url = tu_db_url(f->dir, "hub.db");
	assert_int_equal(hc_hub_open(&f->hub, def, &cfg, &err), HC_OK);
	f->c = hc_store_acquire(f->hub->store, &err);
	assert_non_null(f->c);
}

static void close_hub(struct fixture *f)
{
	hc_store_release(f->hub->store, f->c);
	hc_hub_close(f->hub);
	tu_rmtree(f->dir);
}

static void test_ops_sections(void **state)
{
	struct fixture f;
	struct hc_err err = { 0 };
	json_t *in, *out = NULL;
	open_hub(&f, &opshub_def);
	assert_int_equal(hc_view_render_sections(f.hub, f.c, &oh_now_page,
						 NULL, 0, &out, &err),
			 HC_OK);
	assert_int_equal(json_object_size(out), 5);
	assert_non_null(strstr(hc_json_str(out, "services"), "No services "
							     "yet"));
	json_decref(out);
	in = json_pack("{ssss}", "name", "web", "description", "x");
	assert_int_equal(oh_service_register(f.c, in, NULL, NULL, &out, &err),
			 HC_OK);
	json_decref(out);
	json_decref(in);
	in = json_pack("{sssssss[s]}", "title", "<img src=x onerror=alert(1)>",
		       "opened_by", "ann",
		       "severity", "SEV1", "services", "web");
	if (oh_incident_create(f.c, in, "ann", &out, &err) != HC_OK)
		fail_msg("%s", err.msg);
	json_decref(out);
	json_decref(in);
	assert_int_equal(hc_view_render_sections(f.hub, f.c, &oh_now_page,
						 NULL, 0, &out, &err),
			 HC_OK);
	assert_non_null(strstr(hc_json_str(out, "services"),
			       "id=\"svc-web\""));
	assert_non_null(strstr(hc_json_str(out, "incidents"),
			       "&lt;img src=x onerror=alert(1)&gt;"));
	assert_null(strstr(hc_json_str(out, "incidents"), "<img"));
	json_decref(out);
	close_hub(&f);
}

static void test_page_arguments(void **state)
{
	struct fixture f;
	struct hc_err err = { 0 };
	struct hc_arg bogus[] = { { "bogus", "1" } };
	struct hc_arg nope[] = { { "domain", "nope" } };
	struct hc_arg twice[] = { { "domain", "a" }, { "domain", "b" } };
	json_t *out = NULL;
	open_hub(&f, &finhub_def);
	assert_int_equal(hc_view_render_sections(f.hub, f.c, &fin_runway_page,
						 bogus, 1, &out, &err),
			 HC_EPARAM);
	assert_string_equal(err.field, "bogus");
	memset(&err, 0, sizeof(err));
	assert_int_equal(hc_view_render_sections(f.hub, f.c, &fin_runway_page,
						 nope, 1, &out, &err),
			 HC_ENOTFOUND);
	assert_string_equal(err.field, "domain");
	memset(&err, 0, sizeof(err));
	assert_int_equal(hc_view_render_sections(f.hub, f.c, &fin_runway_page,
						 twice, 2, &out, &err),
			 HC_EPARAM);
	assert_null(out);
	memset(&err, 0, sizeof(err));
	assert_int_equal(hc_view_render_sections(f.hub, f.c, &fin_runway_page,
						 NULL, 0, &out, &err),
			 HC_OK);
	assert_non_null(strstr(hc_json_str(out, "runway"), "No cash accounts"));
	json_decref(out);
	close_hub(&f);
}

static void test_board_sections(void **state)
{
	struct fixture f;
	struct hc_err err = { 0 };
	json_t *out = NULL;
	open_hub(&f, &devhub_def);
	assert_int_equal(hc_view_render_sections(f.hub, f.c, &dh_board_page,
						 NULL, 0, &out, &err),
			 HC_OK);
	assert_int_equal(json_object_size(out), 5);
	assert_non_null(strstr(hc_json_str(out, "workstreams"),
			       "No workstreams"));
	json_decref(out);
	close_hub(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_builder),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_bars),
		cmocka_unit_test(test_stack),
		cmocka_unit_test(test_assets),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_ops_sections),
		cmocka_unit_test(test_page_arguments),
		cmocka_unit_test(test_board_sections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
