/*
 * view_internal.h - shared between the files of hubcore/view/, not part of
 * hub-core's interface.
 */
#ifndef HUBCORE_VIEW_INTERNAL_H
#define HUBCORE_VIEW_INTERNAL_H

#include "hubcore/view.h"

#define HC__VIEW_MAX_SECTIONS 12

/* A page's sections as rendered once: their HTML, a hash of each, and the
 * version of the whole (a hash of the hashes). */
struct hc__view_rendered {
	char *html[HC__VIEW_MAX_SECTIONS];
	size_t len[HC__VIEW_MAX_SECTIONS];
	uint64_t hash[HC__VIEW_MAX_SECTIONS];
	uint64_t version;
};

/* Set up a view of page with copies of the request's arguments; unknown
 * or repeated ones are HC_EPARAM naming them. */
int hc__view_init(struct hc_view *v, struct hc_hub *hub,
		  const struct hc_view_page *page, const struct hc_arg *args,
		  size_t nargs, struct hc_err *err);
void hc__view_release(struct hc_view *v);

/* Render every section of v's page in one read transaction on c. A
 * section that fails shows its error instead; the others stay. */
int hc__view_render(struct hc_view *v, struct hc_conn *c,
		    struct hc__view_rendered *out, struct hc_err *err);
void hc__view_rendered_release(struct hc__view_rendered *r);
uint64_t hc__view_hash(const char *s, size_t len);

/* Answer the request with the page's event stream (live.c); takes the
 * view's arguments. */
int hc__view_stream(struct hc_req *req, struct hc_resp *resp,
		    struct hc_view *v, struct hc_err *err);

/* Milliseconds since the epoch, now (the wall clock). */
int64_t hc__view_now_ms(void);

#endif
