/*
 * hubcore/rest.h - the generic REST handlers of described resources, and a
 * macro that lists a resource's standard routes in a route table:
 *
 *   GET    /{plural}        list, with filters, limit and cursor
 *   POST   /{plural}        create (201, Location)
 *   GET    /{plural}/{key}  one row by id or key
 *   PATCH  /{plural}/{key}  partial update
 *
 * The handlers take the resource from the route's arg and call the generic
 * service functions of hubcore/resource.h.
 *
 * Concurrency: a row's answer carries ETag: "<revision>"; a PATCH with
 * If-Match: "<revision>" applies only if the row is still at that revision
 * and answers 412 Precondition Failed otherwise (If-Match: * only needs
 * the row to exist).
 */
#ifndef HUBCORE_REST_H
#define HUBCORE_REST_H

#include "hubcore/http.h"
#include "hubcore/resource.h"

hc_handler_fn hc_rest_list;
hc_handler_fn hc_rest_get;
hc_handler_fn hc_rest_create;
hc_handler_fn hc_rest_update;

/*
 * Parse the list parameters of a request (limit, cursor and the resource's
 * filters; anything else is HC_EPARAM) into q. extra names parameters the
 * caller handles itself (NULL-terminated, may be NULL).
 */
int hc_rest_list_query(const struct hc_req *req, const struct hc_resource *r,
		       const char *const *extra, struct hc_list_query *q,
		       struct hc_err *err);

/*
 * The revision an If-Match header asks for: 0 without the header or with
 * "*", else the number in "N" or W/"N". HC_ESTALE (412) for a tag that
 * cannot be a revision of ours, since no row can match it.
 */
int hc_rest_if_match(const struct hc_req *req, int64_t *expected,
		     struct hc_err *err);
/* Set ETag from a row's revision, when it has one. */
void hc_rest_etag(struct hc_resp *resp, const json_t *row);

/* Answer 201 Created with the row and a Location header. */
int hc_rest_created(struct hc_resp *resp, const struct hc_resource *r,
		    json_t *row);

#define HC_ROUTES_READ(res, plural, what)                                   \
	{ "GET", "/" plural, hc_rest_list, &(res), HC_SCOPE_READ,           \
	  HC_ROUTE_READONLY, "List " what },                                \
	{ "GET", "/" plural "/{key}", hc_rest_get, &(res), HC_SCOPE_READ,   \
	  HC_ROUTE_READONLY, "Get one of the " what }

#define HC_ROUTES_CRUD(res, plural, what)                                   \
	HC_ROUTES_READ(res, plural, what),                                  \
	{ "POST", "/" plural, hc_rest_create, &(res), HC_SCOPE_WRITE, 0,    \
	  "Create one of the " what },                                      \
	{ "PATCH", "/" plural "/{key}", hc_rest_update, &(res),             \
	  HC_SCOPE_WRITE, 0, "Update one of the " what }

#endif
