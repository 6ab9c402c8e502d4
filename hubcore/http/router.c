/*
 * router.c - matching a method and a normalized path against route tables.
 *
 * A pattern is a path whose segments are literals or "{name}" captures of
 * exactly one non-empty segment. The last segment of a pattern may instead
 * be a "{name...}" capture of the rest of the path: one or more segments,
 * slashes included ("/policy/{path...}" takes "/policy/a/b.md" with path
 * "a/b.md"), for routes that serve a tree. Tables are searched in order, and
 * within a table routes in order, so that a literal route listed first wins
 * over a capture ("/progress/risks" before "/progress/{key}").
 */
#include <stdlib.h>
#include <string.h>

#include "hubcore/http.h"

/* The length of a capture's name, stored up to its '}' in the static
 * pattern, without the "..." of a rest capture. */
static size_t name_len(const char *name)
{
	size_t n = strcspn(name, "}");
	if (n > 3 && memcmp(name + n - 3, "...", 3) == 0)
		n -= 3;
	return n;
}

/* Match one pattern; on success fill req's params (malloc'd values). */
static bool match(const char *pattern, const char *path, struct hc_req *req)
{
	const char *p = pattern, *s = path;
	size_t n = 0;
	const char *names[HC_ROUTE_MAX_PARAMS];
	const char *starts[HC_ROUTE_MAX_PARAMS];
	size_t lens[HC_ROUTE_MAX_PARAMS];

	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t seg = strcspn(s, "/");
			/* "{name...}" at the end takes every segment left;
			 * anywhere else it is a plain one-segment capture */
			if (close && close - p > 4 &&
			    memcmp(close - 3, "...", 3) == 0 && !close[1])
				seg = strlen(s);
			if (!close || seg == 0 || n >= HC_ROUTE_MAX_PARAMS)
				return false;
			names[n] = p + 1;
			starts[n] = s;
			lens[n] = seg;
			n++;
			p = close + 1;
			s += seg;
		} else {
			size_t lp = strcspn(p, "/"), ls = strcspn(s, "/");
			if (lp != ls || memcmp(p, s, lp) != 0)
				return false;
			p += lp;
			s += ls;
		}
	}
	if (*p || *s)
		return false;
	if (!req)
		return true;
	for (size_t i = 0; i < n; i++) {
		size_t nl = name_len(names[i]);
		char *name = malloc(nl + 1), *val = malloc(lens[i] + 1);
		if (!name || !val) {
			free(name);
			free(val);
			return false;
		}
		memcpy(name, names[i], nl);
		name[nl] = '\0';
		memcpy(val, starts[i], lens[i]);
		val[lens[i]] = '\0';
		req->param_names[req->nparams] = name;
		req->param_values[req->nparams] = val;
		req->nparams++;
	}
	return true;
}

static bool method_eq(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return true;
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

static void add_allow(char *allow, size_t size, const char *method)
{
	size_t len = strlen(allow), ml = strlen(method);
	/* skip duplicates: "GET" may be listed by two tables */
	for (const char *p = allow; (p = strstr(p, method)) != NULL; p += ml)
		if ((p == allow || p[-1] == ' ') &&
		    (p[ml] == ',' || p[ml] == '\0'))
			return;
	if (len + ml + 3 > size)
		return;
	if (len) {
		memcpy(allow + len, ", ", 2);
		len += 2;
	}
	memcpy(allow + len, method, ml + 1);
}

const struct hc_route *hc_route_find(const struct hc_route_table *const *tables,
				     size_t ntables, const char *method,
				     const char *path, struct hc_req *req,
				     char *allow, size_t allow_size)
{
	if (allow && allow_size)
		allow[0] = '\0';
	for (size_t t = 0; t < ntables; t++) {
		for (size_t i = 0; i < tables[t]->count; i++) {
			const struct hc_route *r = &tables[t]->routes[i];
			if (!method_eq(r->method, method))
				continue;
			if (match(r->pattern, path, req))
				return r;
		}
	}
	/* No route for this method: which methods would the path take? */
	for (size_t t = 0; allow && t < ntables; t++) {
		for (size_t i = 0; i < tables[t]->count; i++) {
			const struct hc_route *r = &tables[t]->routes[i];
			if (match(r->pattern, path, NULL)) {
				add_allow(allow, allow_size, r->method);
				if (strcmp(r->method, "GET") == 0)
					add_allow(allow, allow_size, "HEAD");
			}
		}
	}
	return NULL;
}
