/*
 * test_router.c - route matching, 405 Allow lists, and an audit of every
 * route table a hub serves: each route has a handler, a known method, an
 * explicit scope, and no two routes answer the same method and path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
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

static bool known_method(const char *m)
{
	static const char *const methods[] = { "GET", "POST", "PATCH", "PUT",
					       "DELETE", NULL };
	for (const char *const *x = methods; *x; x++)
		if (strcmp(*x, m) == 0)
			return true;
	return false;
}

/* Walk every route of the hub: explicit policy, no duplicates, read-only
 * flag consistent with the method. */
static void test_route_table_audit(void **state)
{
	size_t total = 0;
	for (size_t t = 0; t < devhub_def.nroutes; t++) {
		const struct hc_route_table *tab = devhub_def.routes[t];
		for (size_t i = 0; i < tab->count; i++) {
			const struct hc_route *r = &tab->routes[i];
			total++;
			assert_non_null(r->handler);
			assert_true(known_method(r->method));
			assert_true(r->pattern[0] == '/');
			assert_non_null(r->summary);
			assert_true(r->scope <= HC_SCOPE_ADMIN);
			/* only health and the root are public */
			if (r->scope == HC_SCOPE_PUBLIC)
				assert_true(strcmp(r->method, "GET") == 0 &&
					    (strcmp(r->pattern, "/") == 0 ||
					     strstr(r->pattern, "z") != NULL));
			/* reads are read-only, writes are not */
			assert_int_equal(!!(r->flags & HC_ROUTE_READONLY),
					 strcmp(r->method, "GET") == 0);
			if (strcmp(r->method, "GET") != 0)
				assert_true(r->scope >= HC_SCOPE_WRITE);
			for (size_t u = 0; u <= t; u++) {
				const struct hc_route_table *o =
					devhub_def.routes[u];
				size_t end = u == t ? i : o->count;
				for (size_t k = 0; k < end; k++)
					assert_false(
						strcmp(o->routes[k].method,
						       r->method) == 0 &&
						strcmp(o->routes[k].pattern,
						       r->pattern) == 0);
			}
		}
	}
	assert_true(total > 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_and_params),
		cmocka_unit_test(test_not_found_and_allow),
		cmocka_unit_test(test_route_table_audit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
