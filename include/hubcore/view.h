/*
 * hubcore/view.h - the live views that hubs serve to people's browsers:
 * server-rendered HTML pages with SVG charts that update themselves over
 * server-sent events, with no extra server, no CDN and no inline script.
 *
 * A page is const data (struct hc_view_page): a path, a title, the query
 * arguments it takes and its sections, each with a function that renders
 * the section's inner HTML from the database. One route serves it
 * (HC_VIEW_ROUTE): a browser's GET gets the whole page; a GET with
 * "Accept: text/event-stream" (what EventSource sends) gets a stream of
 * "update" events, each carrying the sections whose HTML changed since the
 * last event, re-rendered when the hub's database changes (hubcore/watch.h)
 * and once a minute for the figures that age by themselves. The small
 * script that applies them (/ui/live.js) and the style sheet (/ui/hub.css)
 * are built into the binary and served by every hub (hc_view_routes).
 *
 * Text reaches HTML only through hc_html / hc_html_esc, which escape every
 * string; the pages are sent with a Content-Security-Policy that allows
 * scripts, styles and images from the hub only, and no inline code.
 *
 * Streams are few threads' work: the connections sleep (suspended) between
 * events and one thread per hub renders for all of them, once per distinct
 * page and arguments. hc_view_shutdown ends every stream cleanly (a last
 * "close" event) and must run before hc_server_stop.
 */
#ifndef HUBCORE_VIEW_H
#define HUBCORE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hubcore/buf.h"
#include "hubcore/http.h"
#include "hubcore/status.h"

struct hc_hub;
struct hc_conn;

/* ---- HTML ------------------------------------------------------------------ */

/* Append s escaped for HTML text and quoted attribute values (& < > " '
 * become entities); each byte of it that starts no well-formed UTF-8
 * character becomes U+FFFD, as the pages are UTF-8. NULL appends
 * nothing. */
int hc_html_esc(struct hc_buf *b, const char *s);

/*
 * Append a piece of HTML: fmt is copied as it is, every %s argument is
 * escaped as by hc_html_esc (NULL as nothing), and the integer conversions
 * %d %i %u %x with the length modifiers l, ll and z print numbers; %% is a
 * percent sign. Any other conversion is a bug: HC_EINTERNAL, nothing of it
 * appended. This is the one way page code puts text into HTML.
 */
int hc_html(struct hc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append HTML made elsewhere by hc_html (a fragment), unchanged. */
int hc_html_raw(struct hc_buf *b, const char *html);

/*
 * A time for people: "just now", "5 min ago", "3 h ago", "2 d ago" or,
 * for a time ahead, "in 4 h"; out gets at most size bytes. at is an RFC
 * 3339 date-time; false (and "") when it is not one.
 */
bool hc_view_ago(const char *at, int64_t now_ms, char *out, size_t size);
/* Milliseconds since the epoch of an RFC 3339 date-time (any offset) or a
 * date (midnight UTC); false when it is neither. */
bool hc_view_time_ms(const char *at, int64_t *ms);
/* Append <time datetime="AT" title="AT">N min ago</time>; "never" for NULL. */
int hc_html_time(struct hc_buf *b, const char *at, int64_t now_ms);

/* ---- SVG charts -------------------------------------------------------------- */

/* One bar of a chart. */
struct hc_chart_bar {
	const char *label;      /* under the bar, and in the data table */
	int64_t value;          /* may be negative */
	const char *value_text; /* the value for people ("428.00 EUR") */
	const char *cls;        /* CSS class of the bar, NULL for the default */
};

/* A bar chart with an optional reference line (a threshold). */
struct hc_chart {
	const char *id;    /* unique in the page: ids of title and desc */
	const char *title; /* what the chart shows */
	const char *desc;  /* one sentence saying what it means */
	const struct hc_chart_bar *bars;
	size_t nbars;
	bool has_line;
	int64_t line;             /* on the value axis */
	const char *line_label;   /* "threshold: 54000.00 EUR" */
	const char *label_header; /* the data table's label column */
	const char *value_header; /* the data table's value column */
};

/*
 * Append a chart as an SVG (role="img", labelled by its title and
 * description, each bar with a tooltip) followed by the same data as a
 * table inside a <details> element, for screen readers and exact values.
 */
int hc_svg_bars(struct hc_buf *b, const struct hc_chart *c);

/* One part of a stacked bar or a meter. */
struct hc_chart_part {
	const char *label;
	int64_t value;
	const char *cls;
};

/*
 * Append a small horizontal bar split into parts (tasks by status,
 * spent against allocated), scaled to max (0: the sum of the parts); label
 * is its accessible name. Parts beyond max are clipped and the bar gets
 * the class "over".
 */
int hc_svg_stack(struct hc_buf *b, const struct hc_chart_part *parts,
		 size_t nparts, int64_t max, const char *label);

/* ---- pages ---------------------------------------------------------------------- */

#define HC_VIEW_MAX_ARGS 4

/* What a section's renderer gets: one database snapshot (a read
 * transaction over all sections), one clock and the page's arguments. */
struct hc_view {
	struct hc_hub *hub;
	struct hc_conn *db;
	const struct hc_view_page *page;
	int64_t now_ms;
	struct hc_arg args[HC_VIEW_MAX_ARGS]; /* copies, owned by the view */
	size_t nargs;
};

/* An argument of the page by name, or NULL. */
const char *hc_view_arg(const struct hc_view *v, const char *name);

/* Append the section's inner HTML to out (hc_html and friends). */
typedef int hc_view_render_fn(struct hc_view *v, struct hc_buf *out,
			      struct hc_err *err);
/* Check the page's arguments against the database (a domain that does
 * not exist is HC_ENOTFOUND naming the argument). */
typedef int hc_view_check_fn(struct hc_view *v, struct hc_err *err);

struct hc_view_section {
	const char *id;    /* the element id: "services" */
	const char *title; /* its heading: "Services" */
	hc_view_render_fn *render;
	bool wide; /* takes the whole width of the page */
};

struct hc_view_page {
	const char *path;  /* "/now" */
	const char *title; /* "Now" */
	const char *intro; /* one sentence under the title, or NULL */
	const struct hc_view_section *sections;
	size_t nsections;
	const char *const *args; /* allowed query arguments, NULL-terminated,
				    or NULL for none */
	hc_view_check_fn *check; /* or NULL */
	/* Extra navigation under the title (a domain picker), or NULL;
	 * rendered once, with the page. */
	hc_view_render_fn *nav;
};

/* The route handler of a page (arg: the page); see HC_VIEW_ROUTE. */
int hc_view_serve(struct hc_req *req, struct hc_resp *resp,
		  struct hc_err *err);

/* The route of a page: read scope, read-only, HTML or an event stream;
 * a browser may come with the page login's session (HC_ROUTE_SESSION). */
#define HC_VIEW_ROUTE(path, page, what)                                     \
	{ "GET", path, hc_view_serve, &(page), HC_SCOPE_READ,                \
	  HC_ROUTE_READONLY | HC_ROUTE_SESSION,                              \
	  what " (HTML page; with Accept: text/event-stream its live "       \
	       "updates as server-sent events)" }

/* The path of the hub's first page ("/now"), or NULL when it has none;
 * for listings such as foshub up. */
struct hc_hub_def;
const char *hc_view_page_path(const struct hc_hub_def *def);

/* The built-in assets every hub with pages serves: /ui/live.js,
 * /ui/hub.css, /ui/icon.svg (public: they carry no data). */
extern const struct hc_route_table hc_view_routes;

/* The built-in asset at path ("/ui/live.js"), or NULL; for tests. */
const char *hc_view_asset(const char *path, size_t *len,
			  const char **content_type);

/*
 * Render a page's sections into a JSON object {id: html} (a new
 * reference) as a stream would send them; for tests and tools.
 */
int hc_view_render_sections(struct hc_hub *hub, struct hc_conn *c,
			    const struct hc_view_page *page,
			    const struct hc_arg *args, size_t nargs,
			    json_t **out, struct hc_err *err);

/* ---- streams ------------------------------------------------------------------------ */

/* At most this many live streams per hub; more are answered 503. */
#define HC_VIEW_MAX_STREAMS 256

/*
 * End every live stream of the hub with a last "close" event and refuse
 * new ones; the browser says the connection is lost and retries. Call
 * before hc_server_stop (which waits for streams to end). Idempotent.
 */
void hc_view_shutdown(struct hc_hub *hub);
/* Free the hub's stream machinery (hc_hub_close calls it). */
void hc_view_free(struct hc_hub *hub);
/* How many streams are open now; for tests and /readyz-like reports. */
size_t hc_view_streams(struct hc_hub *hub);

#endif
