/*
 * assets.c - the files every page loads, built into the binary (.incbin;
 * the Makefile makes assets.o depend on them) and served by every hub with
 * pages: the script that applies live updates, the style sheet and the
 * icon. They carry no data, so they are public.
 */
#include <stdlib.h>
#include <string.h>

#include "hubcore/view.h"

#define HC_ASSET(sym, file)                                                  \
	__asm__(".section .rodata\n"                                         \
		".global " #sym "\n"                                         \
		".type " #sym ", @object\n" #sym ":\n"                       \
		".incbin \"" file "\"\n"                                     \
		".global " #sym "_end\n" #sym "_end:\n"                      \
		".byte 0\n"                                                  \
		".previous\n");                                              \
	extern const char sym[];                                             \
	extern const char sym##_end[]

HC_ASSET(hc_asset_live_js, "hubcore/view/assets/live.js");
HC_ASSET(hc_asset_hub_css, "hubcore/view/assets/hub.css");
HC_ASSET(hc_asset_icon_svg, "hubcore/view/assets/icon.svg");

struct asset {
	const char *path;
	const char *type;
	const char *data;
	const char *end;
};

static const struct asset assets[] = {
	{ "/ui/live.js", "text/javascript; charset=utf-8", hc_asset_live_js,
	  hc_asset_live_js_end },
	{ "/ui/hub.css", "text/css; charset=utf-8", hc_asset_hub_css,
	  hc_asset_hub_css_end },
	{ "/ui/icon.svg", "image/svg+xml", hc_asset_icon_svg,
	  hc_asset_icon_svg_end },
};

const char *hc_view_asset(const char *path, size_t *len,
			  const char **content_type)
{
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		if (strcmp(assets[i].path, path) == 0) {
			*len = (size_t)(assets[i].end - assets[i].data);
			if (content_type)
				*content_type = assets[i].type;
			return assets[i].data;
		}
	}
	return NULL;
}

static int get_asset(struct hc_req *req, struct hc_resp *resp,
		     struct hc_err *err)
{
	size_t len = 0;
	const char *type = NULL;
	const char *data = hc_view_asset(req->route->pattern, &len, &type);
	char *copy;
	int rc = hc_req_only_args(req, NULL, err);
	if (rc != HC_OK)
		return rc;
	if (!data)
		return hc_err_set(err, HC_ENOTFOUND, "no asset '%s'",
				  req->path);
	copy = malloc(len + 1);
	if (!copy)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	memcpy(copy, data, len);
	copy[len] = '\0';
	resp->body = copy;
	resp->body_len = len;
	resp->content_type = type;
	resp->status = 200;
	return HC_OK;
}

static const struct hc_route view_routes[] = {
	{ "GET", "/ui/live.js", get_asset, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY | HC_ROUTE_STATIC,
	  "The script of the live pages (applies server-sent updates)" },
	{ "GET", "/ui/hub.css", get_asset, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY | HC_ROUTE_STATIC,
	  "The style sheet of the pages (light and dark)" },
	{ "GET", "/ui/icon.svg", get_asset, NULL, HC_SCOPE_PUBLIC,
	  HC_ROUTE_READONLY | HC_ROUTE_STATIC, "The icon of the pages" },
};

const struct hc_route_table hc_view_routes = HC_ROUTE_TABLE(view_routes);
