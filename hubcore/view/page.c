/*
 * page.c - serving a page: its arguments, its sections rendered from one
 * database snapshot, the HTML around them, and the headers (a strict
 * Content-Security-Policy) that every page carries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"
#include "view_internal.h"

/* Scripts, styles and images from the hub itself; no inline code, no
 * frames, no other origin. */
static const char csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; "
	"img-src 'self'; connect-src 'self'; base-uri 'none'; "
	"form-action 'self'; frame-ancestors 'none'";

const char *hc_view_arg(const struct hc_view *v, const char *name)
{
	for (size_t i = 0; i < v->nargs; i++)
		if (strcmp(v->args[i].name, name) == 0)
			return v->args[i].value;
	return NULL;
}

void hc__view_release(struct hc_view *v)
{
	for (size_t i = 0; i < v->nargs; i++) {
		free((char *)v->args[i].name);
		free((char *)v->args[i].value);
	}
	v->nargs = 0;
}

int hc__view_init(struct hc_view *v, struct hc_hub *hub,
		  const struct hc_view_page *page, const struct hc_arg *args,
		  size_t nargs, struct hc_err *err)
{
	memset(v, 0, sizeof(*v));
	v->hub = hub;
	v->page = page;
	v->now_ms = hc__view_now_ms();
	for (size_t i = 0; i < nargs; i++) {
		bool allowed = false;
		for (const char *const *a = page->args; a && *a; a++)
			allowed = allowed || strcmp(*a, args[i].name) == 0;
		if (!allowed) {
			hc__view_release(v);
			return hc_err_field(err, HC_EPARAM, args[i].name,
					    "unknown query parameter '%s' of "
					    "%s",
					    args[i].name, page->path);
		}
		if (hc_view_arg(v, args[i].name) ||
		    v->nargs >= HC_VIEW_MAX_ARGS) {
			hc__view_release(v);
			return hc_err_field(err, HC_EPARAM, args[i].name,
					    "query parameter '%s' is given "
					    "twice",
					    args[i].name);
		}
		v->args[v->nargs].name = strdup(args[i].name);
		v->args[v->nargs].value = strdup(args[i].value);
		v->nargs++;
		if (!v->args[v->nargs - 1].name ||
		    !v->args[v->nargs - 1].value) {
			hc__view_release(v);
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		}
	}
	return HC_OK;
}

/* ---- rendering ------------------------------------------------------------ */

uint64_t hc__view_hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

void hc__view_rendered_release(struct hc__view_rendered *r)
{
	for (size_t i = 0; i < HC__VIEW_MAX_SECTIONS; i++)
		free(r->html[i]);
	memset(r, 0, sizeof(*r));
}

int hc__view_render(struct hc_view *v, struct hc_conn *c,
		    struct hc__view_rendered *out, struct hc_err *err)
{
	const struct hc_view_page *page = v->page;
	bool own = !hc_tx_active(c);
	uint64_t version = 14695981039346656037ull;
	int rc = HC_OK;

	memset(out, 0, sizeof(*out));
	if (page->nsections > HC__VIEW_MAX_SECTIONS)
		return hc_err_set(err, HC_EINTERNAL,
				  "page %s has more than %d sections",
				  page->path, HC__VIEW_MAX_SECTIONS);
	v->db = c;
	/* one snapshot for every section */
	if (own && (rc = hc_tx_begin(c, false, err)) != HC_OK)
		return rc;
	for (size_t i = 0; i < page->nsections && rc == HC_OK; i++) {
		struct hc_buf b = HC_BUF_INIT(8 * 1024 * 1024);
		struct hc_err e = { 0 };
		int r = page->sections[i].render(v, &b, &e);
		if (r != HC_OK) {
			/* one part failing leaves the others on screen */
			char msg[HC_ERR_MSG_MAX + 64];
			hc_log_warn(&v->hub->log, "%s: section %s: %s",
				    page->path, page->sections[i].id,
				    hc_err_format(&e, msg, sizeof(msg)));
			hc_buf_reset(&b);
			r = hc_html(&b,
				    "<p class=\"error\" role=\"alert\">This part "
				    "cannot be shown: %s</p>",
				    e.msg[0] ? e.msg : "internal error");
		}
		if (r != HC_OK) {
			hc_buf_release(&b);
			rc = hc_err_set(err, r, "cannot render %s",
					page->sections[i].id);
			break;
		}
		out->html[i] = hc_buf_detach(&b, &out->len[i]);
		if (!out->html[i]) {
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
			break;
		}
		out->hash[i] = hc__view_hash(out->html[i], out->len[i]);
		version ^= out->hash[i] + 0x9e3779b97f4a7c15ull + (version << 6) +
			   (version >> 2);
	}
	if (own)
		hc_tx_rollback(c);
	v->db = NULL;
	out->version = version;
	if (rc != HC_OK)
		hc__view_rendered_release(out);
	return rc;
}

int hc_view_render_sections(struct hc_hub *hub, struct hc_conn *c,
			    const struct hc_view_page *page,
			    const struct hc_arg *args, size_t nargs,
			    json_t **out, struct hc_err *err)
{
	struct hc_view v;
	struct hc__view_rendered r;
	int rc = hc__view_init(&v, hub, page, args, nargs, err);
	if (rc != HC_OK)
		return rc;
	v.db = c;
	rc = page->check ? page->check(&v, err) : HC_OK;
	if (rc == HC_OK)
		rc = hc__view_render(&v, c, &r, err);
	hc__view_release(&v);
	if (rc != HC_OK)
		return rc;
	*out = json_object();
	for (size_t i = 0; i < page->nsections; i++)
		json_object_set_new(*out, page->sections[i].id,
				    json_stringn(r.html[i], r.len[i]));
	hc__view_rendered_release(&r);
	return HC_OK;
}

/* ---- the page ----------------------------------------------------------------- */

static int page_head(struct hc_buf *b, const struct hc_view *v,
		     const char *title, uint64_t version)
{
	char vers[17];
	snprintf(vers, sizeof(vers), "%016llx", (unsigned long long)version);
	return hc_html(b,
		       "<!doctype html>\n<html lang=\"en\"><head>"
		       "<meta charset=\"utf-8\">"
		       "<meta name=\"viewport\" content=\"width=device-width, "
		       "initial-scale=1\">"
		       "<meta name=\"color-scheme\" content=\"light dark\">"
		       "<title>%s · %s</title>"
		       "<link rel=\"stylesheet\" href=\"/ui/hub.css\">"
		       "<link rel=\"icon\" href=\"/ui/icon.svg\" "
		       "type=\"image/svg+xml\">"
		       "<script src=\"/ui/live.js\" defer></script>"
		       "</head>\n<body data-version=\"%s\">"
		       "<a class=\"skip\" href=\"#main\">Skip to the content</a>"
		       "<header class=\"top\"><div><p class=\"hub\">%s</p>"
		       "<h1>%s</h1>",
		       title, v->hub->def->name, vers, v->hub->def->name,
		       title);
}

static int page_build(struct hc_view *v, struct hc_req *req,
		      struct hc_buf *b, struct hc_err *err)
{
	const struct hc_view_page *page = v->page;
	struct hc__view_rendered r;
	char now[HC_TIME_LEN + 1];
	struct hc_conn *c = hc_req_db(req, err);
	int rc;
	if (!c)
		return err->status;
	v->db = c;
	rc = page->check ? page->check(v, err) : HC_OK;
	if (rc != HC_OK)
		return rc;
	rc = hc__view_render(v, c, &r, err);
	if (rc != HC_OK)
		return rc;
	rc = page_head(b, v, page->title, r.version);
	if (rc == HC_OK && page->intro)
		rc = hc_html(b, "<p class=\"intro\">%s</p>", page->intro);
	if (rc == HC_OK)
		rc = hc_html_raw(b,
				 "</div><p id=\"live-status\" class=\"live\" "
				 "role=\"status\" data-state=\"connecting\">"
				 "Connecting for live updates…</p></header>\n");
	if (rc == HC_OK && page->nav) {
		struct hc_err e = { 0 };
		v->db = c;
		rc = hc_html_raw(b, "<nav class=\"pick\" aria-label=\"Views\">");
		if (rc == HC_OK)
			rc = page->nav(v, b, &e);
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</nav>\n");
		v->db = NULL;
	}
	if (rc == HC_OK)
		rc = hc_html_raw(b, "<main id=\"main\">\n");
	for (size_t i = 0; rc == HC_OK && i < page->nsections; i++) {
		const struct hc_view_section *s = &page->sections[i];
		rc = hc_html(b,
			     "<section class=\"card%s\" aria-labelledby=\"h-%s\">"
			     "<h2 id=\"h-%s\">%s</h2><div id=\"%s\" "
			     "class=\"body\">",
			     s->wide ? " wide" : "", s->id, s->id, s->title,
			     s->id);
		if (rc == HC_OK)
			rc = hc_buf_add(b, r.html[i], r.len[i]);
		if (rc == HC_OK)
			rc = hc_html_raw(b, "</div></section>\n");
	}
	hc_time_now(now);
	if (rc == HC_OK)
		rc = hc_html(b,
			     "</main>\n<footer><p>%s %s · rendered "
			     "<time datetime=\"%s\">%s</time> · "
			     "<span id=\"live-updated\"></span></p></footer>"
			     "</body></html>\n",
			     v->hub->def->name, hc_version(), now, now);
	hc__view_rendered_release(&r);
	if (rc != HC_OK && !err->status)
		hc_err_set(err, rc, "cannot build the page");
	return rc;
}

/* An error as a page of its own, with its real status. */
static int error_page(struct hc_view *v, struct hc_resp *resp,
		      const struct hc_err *e)
{
	struct hc_buf b = HC_BUF_INIT(64 * 1024);
	int rc = page_head(&b, v, hc_status_title(e->status), 0);
	if (rc == HC_OK)
		rc = hc_html(&b,
			     "</div></header><main id=\"main\"><section "
			     "class=\"card\"><p class=\"error\" role=\"alert\">"
			     "%s</p><p><a href=\"%s\">Back to %s</a></p>"
			     "</section></main></body></html>\n",
			     e->msg, v->page->path, v->page->title);
	if (rc != HC_OK) {
		hc_buf_release(&b);
		return rc;
	}
	free(resp->body);
	resp->body = hc_buf_detach(&b, &resp->body_len);
	resp->status = hc_status_http(e->status);
	return HC_OK;
}

static void page_headers(struct hc_resp *resp)
{
	resp->content_type = "text/html; charset=utf-8";
	hc_resp_header(resp, "Content-Security-Policy", csp);
	hc_resp_header(resp, "Referrer-Policy", "no-referrer");
	hc_resp_header(resp, "X-Frame-Options", "DENY");
	hc_resp_header(resp, "Vary", "Accept");
}

static bool wants_stream(struct hc_req *req)
{
	const char *a = hc_req_header(req, "Accept");
	return a && strcasestr(a, "text/event-stream") != NULL;
}

int hc_view_serve(struct hc_req *req, struct hc_resp *resp,
		  struct hc_err *err)
{
	const struct hc_view_page *page = req->route->arg;
	struct hc_view v;
	struct hc_buf b = HC_BUF_INIT(16 * 1024 * 1024);
	int rc = hc__view_init(&v, req->hub, page, req->args, req->nargs, err);

	if (wants_stream(req)) {
		if (rc == HC_OK) {
			struct hc_conn *c = hc_req_db(req, err);
			v.db = c;
			rc = !c ? err->status
			   : page->check ? page->check(&v, err)
					 : HC_OK;
			v.db = NULL;
		}
		if (rc == HC_OK)
			rc = hc__view_stream(req, resp, &v, err);
		hc__view_release(&v);
		return rc;
	}
	if (rc != HC_OK) {
		/* the page without its arguments, for the error page */
		struct hc_err e = *err;
		memset(&v, 0, sizeof(v));
		v.hub = req->hub;
		v.page = page;
		page_headers(resp);
		return error_page(&v, resp, &e);
	}
	rc = page_build(&v, req, &b, err);
	page_headers(resp);
	if (rc == HC_OK) {
		resp->body = hc_buf_detach(&b, &resp->body_len);
		resp->status = 200;
	} else {
		hc_buf_release(&b);
		/* a 5xx is logged by the server and answered as a problem */
		if (hc_status_http(err->status) < 500)
			rc = error_page(&v, resp, err);
	}
	hc__view_release(&v);
	return rc;
}

const char *hc_view_page_path(const struct hc_hub_def *def)
{
	for (size_t t = 0; t < def->nroutes; t++)
		for (size_t i = 0; i < def->routes[t]->count; i++)
			if (def->routes[t]->routes[i].handler == hc_view_serve)
				return def->routes[t]->routes[i].pattern;
	return NULL;
}
