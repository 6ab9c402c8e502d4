/*
 * rest.c - the generic REST handlers of described resources (see
 * hubcore/rest.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/buf.h"
#include "hubcore/hub.h"
#include "hubcore/rest.h"

int hc_rest_list_query(const struct hc_req *req, const struct hc_resource *r,
		       const char *const *extra, struct hc_list_query *q,
		       struct hc_err *err)
{
	memset(q, 0, sizeof(*q));
	for (size_t i = 0; i < req->nargs; i++) {
		const char *name = req->args[i].name;
		const char *value = req->args[i].value;
		bool handled = false;
		int rc;
		for (const char *const *e = extra; e && *e && !handled; e++)
			handled = strcmp(*e, name) == 0;
		if (handled)
			continue;
		if (strcmp(name, "limit") == 0) {
			char *end;
			long long n = strtoll(value, &end, 10);
			if (q->limit)
				return hc_err_field(err, HC_EPARAM, "limit",
						    "parameter 'limit' is given "
						    "more than once");
			if (!*value || *end || n < 1 || n > HC_LIST_MAX_LIMIT ||
			    strspn(value, "0123456789") != strlen(value))
				return hc_err_field(err, HC_EPARAM, "limit",
						    "parameter 'limit' must be "
						    "an integer between 1 and "
						    "%d",
						    HC_LIST_MAX_LIMIT);
			q->limit = (size_t)n;
			continue;
		}
		if (strcmp(name, "cursor") == 0) {
			if (q->cursor)
				return hc_err_field(err, HC_EPARAM, "cursor",
						    "parameter 'cursor' is "
						    "given more than once");
			q->cursor = value;
			continue;
		}
		rc = hc_list_query_add(q, r, name, value, err);
		if (rc != HC_OK)
			return rc;
	}
	return HC_OK;
}

/* Answer 200 with the JSON text of b (taken). */
static int resp_text(struct hc_resp *resp, struct hc_buf *b)
{
	json_decref(resp->json);
	resp->json = NULL;
	free(resp->body);
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = hc_buf_detach(b, &resp->body_len);
	return resp->body ? HC_OK : HC_ENOMEM;
}

/* Lists and rows are written straight to JSON text (hc_res_list_text):
 * no json_t per row on the way. */
#define ANSWER_MAX (256 * 1024 * 1024)

int hc_rest_list(struct hc_req *req, struct hc_resp *resp, struct hc_err *err)
{
	const struct hc_resource *r = req->route->arg;
	struct hc_list_query q;
	struct hc_conn *c;
	struct hc_buf text = HC_BUF_INIT(ANSWER_MAX);
	int rc = hc_rest_list_query(req, r, NULL, &q, err);
	if (rc != HC_OK)
		return rc;
	if (!(c = hc_req_db(req, err)))
		return err->status;
	rc = hc_res_list_text(c, r, &q, &text, err);
	if (rc != HC_OK) {
		hc_buf_release(&text);
		return rc;
	}
	return resp_text(resp, &text);
}

int hc_rest_if_match(const struct hc_req *req, int64_t *expected,
		     struct hc_err *err)
{
	const char *v = hc_req_header(req, "If-Match");
	char *end;
	long long n;
	*expected = 0;
	if (!v)
		return HC_OK;
	while (*v == ' ' || *v == '\t')
		v++;
	if (strcmp(v, "*") == 0)
		return HC_OK;
	if (strncmp(v, "W/", 2) == 0)
		v += 2;
	if (*v == '"' && v[1] >= '1' && v[1] <= '9') {
		n = strtoll(v + 1, &end, 10);
		if (*end == '"' && n > 0) {
			end++;
			while (*end == ' ' || *end == '\t')
				end++;
			if (!*end) {
				*expected = n;
				return HC_OK;
			}
		}
	}
	return hc_err_field(err, HC_ESTALE, "If-Match",
			    "header 'If-Match' must be one ETag of the row "
			    "(\"N\") or *; no row matches '%.60s'",
			    hc_req_header(req, "If-Match"));
}

void hc_rest_etag(struct hc_resp *resp, const json_t *row)
{
	json_t *rev = json_object_get(row, "revision");
	char tag[32];
	if (!json_is_integer(rev))
		return;
	snprintf(tag, sizeof(tag), "\"%lld\"",
		 (long long)json_integer_value(rev));
	hc_resp_header(resp, "ETag", tag);
}

int hc_rest_get(struct hc_req *req, struct hc_resp *resp, struct hc_err *err)
{
	const struct hc_resource *r = req->route->arg;
	struct hc_conn *c = hc_req_db(req, err);
	struct hc_buf text = HC_BUF_INIT(ANSWER_MAX);
	int64_t revision = 0;
	int rc;
	if (!c)
		return err->status;
	rc = hc_res_get_text(c, r, hc_req_param(req, "key"), &text, &revision,
			     err);
	if (rc != HC_OK) {
		hc_buf_release(&text);
		return rc;
	}
	{
		char tag[32];
		snprintf(tag, sizeof(tag), "\"%lld\"", (long long)revision);
		hc_resp_header(resp, "ETag", tag);
	}
	return resp_text(resp, &text);
}

int hc_rest_created(struct hc_resp *resp, const struct hc_resource *r,
		    json_t *row)
{
	char loc[512];
	snprintf(loc, sizeof(loc), "/%s/%s", r->plural,
		 json_string_value(json_object_get(row, "id")));
	hc_resp_header(resp, "Location", loc);
	return hc_resp_json(resp, 201, row);
}

struct create_job {
	const struct hc_resource *r;
	json_t *in, *out;
};

static int create_write(struct hc_conn *c, void *arg, struct hc_err *err)
{
	struct create_job *j = arg;
	return hc_res_create(c, j->r, j->in, &j->out, err);
}

/* Creates go through group commit: concurrent POSTs share one sync of
 * the disk, and each is answered 201 only once it is committed. */
int hc_rest_create(struct hc_req *req, struct hc_resp *resp,
		   struct hc_err *err)
{
	struct create_job j = { .r = req->route->arg };
	int rc = hc_req_json(req, &j.in, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_store_write(req->hub->store, create_write, &j, err);
	json_decref(j.in);
	if (rc != HC_OK) {
		json_decref(j.out); /* written, then not committed */
		return rc;
	}
	return hc_rest_created(resp, j.r, j.out);
}

int hc_rest_update(struct hc_req *req, struct hc_resp *resp,
		   struct hc_err *err)
{
	const struct hc_resource *r = req->route->arg;
	json_t *in = NULL, *out = NULL;
	struct hc_conn *c;
	int64_t expected = 0;
	int rc = hc_rest_if_match(req, &expected, err);
	if (rc == HC_OK)
		rc = hc_req_json(req, &in, err);
	if (rc != HC_OK)
		return rc;
	c = hc_req_db(req, err);
	rc = c ? hc_res_update_if(c, r, hc_req_param(req, "key"), in, expected,
				  &out, err)
	       : err->status;
	json_decref(in);
	if (rc != HC_OK)
		return rc;
	hc_rest_etag(resp, out);
	return hc_resp_json(resp, 200, out);
}
