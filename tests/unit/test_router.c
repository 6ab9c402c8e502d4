/*
 * test_router.c - route matching, 405 Allow lists, and an audit of every
 * route table a hub serves: each route has a handler, a known method, an
 * explicit scope, and no two routes answer the same method and path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "finhub/finhub.h"
#include "hubcore/mcp.h"
#include "opshub/opshub.h"
#include "idp/idp.h"
#include "hubcore/http.h"
#include "testutil.h"

static void release(struct hc_req *req)
{
	for (size_t i = 0; i < req->nparams; i++) {
		free((char *)req->param_names[i]);
		free(req->param_values[i]);
	}
	memset(req, 0, sizeof(*req));
}

static const struct hc_route *find(const char *method, const char *path,
				   struct hc_req *req, char *allow)
{
	return hc_route_find(devhub_def.routes, devhub_def.nroutes, method,
			     path, req, allow, 128);
}

static void test_match_and_params(void **state)
{
	struct hc_req req = { 0 };
	char allow[128];
	const struct hc_route *r;

	r = find("GET", "/tasks/CUST-WP-0025-T08", &req, allow);
	assert_non_null(r);
	assert_string_equal(r->pattern, "/tasks/{key}");
	assert_string_equal(hc_req_param(&req, "key"), "CUST-WP-0025-T08");
	release(&req);

	r = find("GET", "/domains/custodian/summary", &req, allow);
	assert_non_null(r);
	assert_string_equal(hc_req_param(&req, "key"), "custodian");
	release(&req);

	/* literal routes listed first win over captures */
	r = find("GET", "/progress/risks", &req, allow);
	assert_non_null(r);
	assert_string_equal(r->pattern, "/progress/risks");
	release(&req);

	/* HEAD is served by GET routes */
	r = find("HEAD", "/domains", &req, allow);
	assert_non_null(r);
	assert_string_equal(r->method, "GET");
	release(&req);

	/* an empty segment never matches a capture */
	assert_null(find("GET", "/tasks/", &req, allow));
	release(&req);
}

static void test_not_found_and_allow(void **state)
{
	struct hc_req req = { 0 };
	char allow[128];
	assert_null(find("GET", "/nothing/here", &req, allow));
	assert_string_equal(allow, "");
	assert_null(find("PUT", "/domains", &req, allow));
	assert_string_equal(allow, "GET, HEAD, POST");
	assert_null(find("DELETE", "/tasks/X-T01", &req, allow));
	assert_string_equal(allow, "GET, HEAD, PATCH");
	assert_null(find("GET", "/messages/abc/read", &req, allow));
	assert_string_equal(allow, "POST");
	release(&req);
}

/* "{name...}" at the end of a pattern takes the rest of the path. */
static void test_rest_capture(void **state)
{
	static const struct hc_route routes[] = {
		{ "GET", "/files", NULL, NULL, HC_SCOPE_READ, 0, "list" },
		{ "GET", "/files/{path...}", NULL, NULL, HC_SCOPE_READ, 0,
		  "one" },
		{ "PUT", "/files/{path...}", NULL, NULL, HC_SCOPE_WRITE, 0,
		  "put" },
		{ "GET", "/trees/{tree}/{path...}", NULL, NULL, HC_SCOPE_READ,
		  0, "in a tree" },
		/* not last: an ordinary one-segment capture */
		{ "GET", "/odd/{x...}/end", NULL, NULL, HC_SCOPE_READ, 0,
		  "odd" },
	};
	static const struct hc_route_table table = HC_ROUTE_TABLE(routes);
	static const struct hc_route_table *const tables[] = { &table };
	struct hc_req req = { 0 };
	char allow[128];
	const struct hc_route *r;

	r = hc_route_find(tables, 1, "GET", "/files/a.md", &req, allow, 128);
	assert_non_null(r);
	assert_string_equal(r->summary, "one");
	assert_string_equal(hc_req_param(&req, "path"), "a.md");
	release(&req);

	r = hc_route_find(tables, 1, "GET", "/files/a/b/c.md", &req, allow,
			  128);
	assert_non_null(r);
	assert_string_equal(hc_req_param(&req, "path"), "a/b/c.md");
	assert_null(hc_req_param(&req, "path..."));
	release(&req);

	r = hc_route_find(tables, 1, "GET", "/trees/t1/x/y", &req, allow, 128);
	assert_non_null(r);
	assert_string_equal(hc_req_param(&req, "tree"), "t1");
	assert_string_equal(hc_req_param(&req, "path"), "x/y");
	release(&req);

	/* the literal route still answers its own path; nothing empty is
	 * captured */
	r = hc_route_find(tables, 1, "GET", "/files", &req, allow, 128);
	assert_non_null(r);
	assert_string_equal(r->summary, "list");
	release(&req);
	assert_null(hc_route_find(tables, 1, "GET", "/files/", &req, allow,
				  128));
	assert_null(hc_route_find(tables, 1, "GET", "/trees/t1", &req, allow,
				  128));
	release(&req);

	/* a capture that is not last takes one segment */
	r = hc_route_find(tables, 1, "GET", "/odd/a/end", &req, allow, 128);
	assert_non_null(r);
	assert_string_equal(hc_req_param(&req, "x"), "a");
	release(&req);
	assert_null(hc_route_find(tables, 1, "GET", "/odd/a/b/end", &req, allow,
				  128));
	release(&req);

	/* 405 lists the methods of the whole tree */
	assert_null(hc_route_find(tables, 1, "DELETE", "/files/a/b", &req,
				  allow, 128));
	assert_string_equal(allow, "GET, HEAD, PUT");
	release(&req);

	/* and in the hub: the policy documents */
	r = find("PUT", "/policy/legal/privacy.md", &req, allow);
	assert_non_null(r);
	assert_string_equal(r->pattern, "/policy/{path...}");
	assert_string_equal(hc_req_param(&req, "path"), "legal/privacy.md");
	release(&req);
}

static bool known_method(const char *m)
{
	static const char *const methods[] = { "GET", "POST", "PATCH", "PUT",
					       "DELETE", NULL };
	for (const char *const *x = methods; *x; x++)
		if (strcmp(*x, m) == 0)
			return true;
	return false;
}

/* Public routes: the root, health, well-known documents and the IdP's
 * keys; and routes that authenticate each request themselves. */
static bool public_ok(const struct hc_hub_def *def, const struct hc_route *r)
{
	if (strcmp(r->method, "GET") == 0 &&
	    (strcmp(r->pattern, "/") == 0 || strstr(r->pattern, "z") ||
	     strcmp(r->pattern, "/openapi.json") == 0 ||
	     strncmp(r->pattern, "/.well-known/", 13) == 0))
		return true;
	/* a route that authenticates each message itself (the IdP's
	 * OAuth endpoints, ops-hub's push reports with their own token) */
	if (r->flags & HC_ROUTE_PER_MESSAGE)
		return true;
	/* the pages' script and style sheet, built in, without data */
	if (strcmp(r->method, "GET") == 0 && (r->flags & HC_ROUTE_STATIC) &&
	    strncmp(r->pattern, "/ui/", 4) == 0)
		return true;
	return def == &idp_def && strcmp(r->pattern, "/jwks") == 0;
}

/* Walk every route of a hub: explicit policy, no duplicates, read-only
 * flag consistent with the method. */
static void audit(const struct hc_hub_def *def, size_t min_routes)
{
	size_t total = 0;
	for (size_t t = 0; t < def->nroutes; t++) {
		const struct hc_route_table *tab = def->routes[t];
		for (size_t i = 0; i < tab->count; i++) {
			const struct hc_route *r = &tab->routes[i];
			bool get = strcmp(r->method, "GET") == 0;
			total++;
			assert_non_null(r->handler);
			assert_true(known_method(r->method));
			assert_true(r->pattern[0] == '/');
			/* a rest capture "{name...}" ends its pattern */
			if (strstr(r->pattern, "...}"))
				assert_string_equal(
					strstr(r->pattern, "...}"), "...}");
			assert_non_null(r->summary);
			assert_true(r->scope <= HC_SCOPE_ADMIN);
			if (r->scope == HC_SCOPE_PUBLIC && !public_ok(def, r))
				fail_msg("%s: %s %s is public", def->name,
					 r->method, r->pattern);
			/* writes are never read-only; reads are, unless they
			 * are a protocol step that records state (the IdP's
			 * login page, logout) */
			if (!get)
				assert_false(r->flags & HC_ROUTE_READONLY);
			else if (!(r->flags & HC_ROUTE_READONLY) &&
				 !(r->flags & HC_ROUTE_PER_MESSAGE))
				fail_msg("%s: GET %s is not read-only",
					 def->name, r->pattern);
			/* writes need the write scope, except protocol
			 * endpoints whose messages carry their own (each MCP
			 * tool has its scope, each OAuth request its client
			 * or user) */
			if (!get && !(r->flags & HC_ROUTE_PER_MESSAGE) &&
			    r->scope < HC_SCOPE_WRITE)
				fail_msg("%s: %s %s writes without the write "
					 "scope",
					 def->name, r->method, r->pattern);
			for (size_t u = 0; u <= t; u++) {
				const struct hc_route_table *o =
					def->routes[u];
				size_t end = u == t ? i : o->count;
				for (size_t k = 0; k < end; k++)
					if (strcmp(o->routes[k].method,
						   r->method) == 0 &&
					    strcmp(o->routes[k].pattern,
						   r->pattern) == 0)
						fail_msg("%s: %s %s twice",
							 def->name, r->method,
							 r->pattern);
			}
		}
	}
	assert_true(total >= min_routes);
}

static void test_route_table_audit(void **state)
{
	audit(&devhub_def, 30);
	audit(&opshub_def, 30);
	audit(&finhub_def, 20);
	audit(&idp_def, 15);
}

/* Every MCP tool of every hub carries an explicit policy: a read-only
 * tool needs read, any other write or more (never public). */
static void test_tool_table_audit(void **state)
{
	const struct hc_hub_def *const defs[] = { &devhub_def, &opshub_def,
						  &finhub_def };
	size_t total = 0;
	for (size_t d = 0; d < sizeof(defs) / sizeof(defs[0]); d++) {
		const struct hc_mcp_def *m = defs[d]->mcp;
		assert_non_null(m);
		for (size_t t = 0; t < m->ntools; t++)
			for (size_t i = 0; i < m->tools[t]->count; i++) {
				const struct hc_mcp_tool *tool =
					&m->tools[t]->tools[i];
				bool ro = tool->flags & HC_MCP_READONLY;
				total++;
				if (tool->scope == HC_SCOPE_PUBLIC ||
				    (ro && tool->scope != HC_SCOPE_READ) ||
				    (!ro && tool->scope < HC_SCOPE_WRITE))
					fail_msg("%s: tool %s has scope %d "
						 "(read-only: %d)",
						 defs[d]->name, tool->name,
						 tool->scope, ro);
			}
	}
	assert_true(total > 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_and_params),
		cmocka_unit_test(test_not_found_and_allow),
		cmocka_unit_test(test_rest_capture),
		cmocka_unit_test(test_route_table_audit),
		cmocka_unit_test(test_tool_table_audit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
