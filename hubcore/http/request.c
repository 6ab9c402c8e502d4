/*
 * request.c - request accessors, response builders and RFC 9457 problem
 * documents.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hubcore/http.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

const char *hc_req_param(const struct hc_req *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->param_names[i], name) == 0)
			return req->param_values[i];
	return NULL;
}

const char *hc_req_arg(const struct hc_req *req, const char *name)
{
	for (size_t i = 0; i < req->nargs; i++)
		if (strcmp(req->args[i].name, name) == 0)
			return req->args[i].value;
	return NULL;
}

const char *hc_req_header(const struct hc_req *req, const char *name)
{
	if (!req->conn)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *hc_req_cookie(const struct hc_req *req, const char *name)
{
	if (!req->conn)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

void hc_req_client_addr(const struct hc_req *req, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		req->conn ? MHD_get_connection_info(
				    req->conn,
				    MHD_CONNECTION_INFO_CLIENT_ADDRESS)
			  : NULL;
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	snprintf(out, size, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  out, (socklen_t)size);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)size);
}

/* s for a message: each byte that starts no UTF-8 character is shown
 * percent-encoded, as it was sent ("%FF"). */
static void shown(const char *s, char *out, size_t size)
{
	size_t len = strlen(s), n = 0;
	while (len) {
		size_t c = hc_utf8_char(s, len), w = c ? c : 3;
		if (n + w >= size)
			break;
		if (c)
			memcpy(out + n, s, c);
		else
			snprintf(out + n, 4, "%%%02X", (unsigned char)*s);
		n += w;
		s += c ? c : 1;
		len -= c ? c : 1;
	}
	out[n] = '\0';
}

/* HC_OK when name and value are UTF-8, else err (status) names it. */
static int utf8_pair(const char *kind, int status, const char *name,
		     const char *value, size_t value_len, struct hc_err *err)
{
	char show[HC_ERR_FIELD_MAX];
	if (hc_utf8_valid(name, strlen(name)) &&
	    hc_utf8_valid(value, value_len))
		return HC_OK;
	shown(name, show, sizeof(show));
	return hc_err_field(err, status, show, "%s '%s' is not valid UTF-8",
			    kind, show);
}

/* application/x-www-form-urlencoded, decoded with libmicrohttpd's own
 * post processor. */
struct form_ctx {
	json_t *fields;
	char dup[HC_ERR_FIELD_MAX];
	bool nul;
};

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *filename,
				  const char *content_type,
				  const char *transfer_encoding,
				  const char *data, uint64_t off, size_t size)
{
	struct form_ctx *f = cls;
	json_t *old = json_object_get(f->fields, key), *value;
	char *joined;
	size_t oldlen;
	if (memchr(data, '\0', size)) {
		f->nul = true;
		snprintf(f->dup, sizeof(f->dup), "%s", key);
		return MHD_NO;
	}
	if (off == 0 && old) {
		snprintf(f->dup, sizeof(f->dup), "%s", key);
		return MHD_NO;
	}
	/* a value may arrive in pieces, cut anywhere: its UTF-8 is checked
	 * once it is whole (hc_req_form) */
	oldlen = old ? json_string_length(old) : 0;
	joined = malloc(oldlen + size + 1);
	if (!joined)
		return MHD_NO;
	if (oldlen)
		memcpy(joined, json_string_value(old), oldlen);
	memcpy(joined + oldlen, data, size);
	joined[oldlen + size] = '\0';
	value = json_stringn_nocheck(joined, oldlen + size);
	free(joined);
	if (!value || json_object_set_new_nocheck(f->fields, key, value))
		return MHD_NO;
	return MHD_YES;
}

/* HC_OK when every field's name and value is UTF-8. */
static int form_utf8(json_t *fields, struct hc_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(fields, key, v) {
		int rc = utf8_pair("field", HC_EBADREQ, key,
				   json_string_value(v), json_string_length(v),
				   err);
		if (rc != HC_OK)
			return rc;
	}
	return HC_OK;
}

int hc_req_form(const struct hc_req *req, json_t **out, struct hc_err *err)
{
	struct form_ctx f = { json_object(), "", false };
	struct MHD_PostProcessor *pp;
	const char *ct = req->content_type;
	enum MHD_Result ok;
	if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
		json_decref(f.fields);
		return hc_err_set(err, HC_EMEDIA,
				  "send the fields as "
				  "application/x-www-form-urlencoded");
	}
	pp = MHD_create_post_processor(req->conn, 4096, form_field, &f);
	if (!pp) {
		json_decref(f.fields);
		return hc_err_set(err, HC_EBADREQ, "unreadable form");
	}
	ok = req->body_len ? MHD_post_process(pp, req->body, req->body_len)
			   : MHD_YES;
	MHD_destroy_post_processor(pp);
	if (ok != MHD_YES || f.dup[0]) {
		json_decref(f.fields);
		if (f.dup[0])
			return hc_err_field(err, HC_EINVAL, f.dup,
					    f.nul ? "field '%s' contains a NUL "
						    "byte"
						  : "field '%s' is given more "
						    "than once",
					    f.dup);
		return hc_err_set(err, HC_EBADREQ, "unreadable form");
	}
	if (form_utf8(f.fields, err) != HC_OK) {
		json_decref(f.fields);
		return err->status;
	}
	*out = f.fields;
	return HC_OK;
}

int hc_req_query(const struct hc_req *req, json_t **out, struct hc_err *err)
{
	json_t *o = json_object();
	if (!o)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	for (size_t i = 0; i < req->nargs; i++) {
		const char *name = req->args[i].name;
		const char *value = req->args[i].value;
		int rc = utf8_pair("parameter", HC_EPARAM, name, value,
				   strlen(value), err);
		if (rc == HC_OK && json_object_get(o, name))
			rc = hc_err_field(err, HC_EPARAM, name,
					  "parameter '%s' is given twice",
					  name);
		if (rc == HC_OK &&
		    json_object_set_new(o, name, json_string(value)))
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		if (rc != HC_OK) {
			json_decref(o);
			return rc;
		}
	}
	*out = o;
	return HC_OK;
}

struct hc_conn *hc_req_db(struct hc_req *req, struct hc_err *err)
{
	if (!req->db)
		req->db = hc_store_acquire(req->hub->store, err);
	return req->db;
}

/* application/json, application/<x>+json, or a missing type (and curl's
 * default for -d, x-www-form-urlencoded) are read as JSON. */
static bool json_media_type(const char *ct)
{
	size_t n;
	if (!ct)
		return true;
	n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return true;
	if (n == 33 &&
	    strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		return true;
	return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
	       strncasecmp(ct + n - 5, "+json", 5) == 0;
}

int hc_req_json(const struct hc_req *req, json_t **out, struct hc_err *err)
{
	json_t *j = NULL;
	int rc;
	if (!json_media_type(req->content_type))
		return hc_err_set(err, HC_EMEDIA,
				  "content type '%s' is not supported; send "
				  "application/json",
				  req->content_type);
	rc = hc_json_parse(req->body ? req->body : "", req->body_len, &j, err);
	if (rc != HC_OK)
		return rc;
	if (!json_is_object(j)) {
		json_decref(j);
		return hc_err_set(err, HC_EINVAL,
				  "the request body must be a JSON object");
	}
	*out = j;
	return HC_OK;
}

int hc_req_only_args(const struct hc_req *req, const char *const *allowed,
		     struct hc_err *err)
{
	for (size_t i = 0; i < req->nargs; i++) {
		bool ok = false;
		for (const char *const *a = allowed; a && *a && !ok; a++)
			ok = strcmp(*a, req->args[i].name) == 0;
		if (!ok)
			return hc_err_field(err, HC_EPARAM, req->args[i].name,
					    "unknown parameter '%s'",
					    req->args[i].name);
	}
	return HC_OK;
}

int hc_resp_json(struct hc_resp *resp, int status, json_t *json)
{
	json_decref(resp->json);
	resp->status = status;
	resp->json = json;
	return json ? HC_OK : HC_ENOMEM;
}

int hc_resp_empty(struct hc_resp *resp, int status)
{
	resp->status = status;
	return HC_OK;
}

int hc_resp_header(struct hc_resp *resp, const char *name, const char *value)
{
	char *v;
	if (resp->nheaders >= HC_RESP_MAX_HEADERS)
		HC_BUG("too many response headers");
	v = strdup(value);
	if (!v)
		return HC_ENOMEM;
	resp->headers[resp->nheaders].name = name;
	resp->headers[resp->nheaders].value = v;
	resp->nheaders++;
	return HC_OK;
}

/* A JSON string of s, with bytes that are not valid UTF-8 replaced, since
 * messages may quote input the server could not decode. */
static json_t *safe_string(const char *s)
{
	json_t *j = json_string(s);
	char *copy;
	if (j)
		return j;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

json_t *hc_problem_json(const struct hc_err *err, const char *instance)
{
	char type[96];
	json_t *p = json_object();
	if (!p)
		return NULL;
	snprintf(type, sizeof(type), "urn:foshub:problem:%s",
		 hc_status_type(err->status));
	json_object_set_new(p, "type", json_string(type));
	json_object_set_new(p, "title", json_string(hc_status_title(err->status)));
	json_object_set_new(p, "status", json_integer(hc_status_http(err->status)));
	json_object_set_new(p, "detail",
			    safe_string(err->msg[0] ? err->msg
						    : hc_status_title(err->status)));
	if (instance)
		json_object_set_new(p, "instance", safe_string(instance));
	if (err->field[0])
		json_object_set_new(p, "field", safe_string(err->field));
	if (err->source[0])
		json_object_set_new(p, "source", safe_string(err->source));
	if (err->line > 0)
		json_object_set_new(p, "line", json_integer(err->line));
	if (err->column > 0)
		json_object_set_new(p, "column", json_integer(err->column));
	return p;
}
