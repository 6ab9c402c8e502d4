/*
 * hubcore/http.h - the HTTP surface of a hub: routes as a const table,
 * requests, responses, and the server (libmicrohttpd).
 *
 * Every route is one entry of a const struct hc_route array that carries its
 * policy (scope, read-only) next to its handler, so that one table can be
 * audited, listed and turned into documentation. Routes are matched by
 * method and by pattern, where "{name}" matches one path segment.
 *
 * Handlers return HC_OK after filling the response, or an hc_status code
 * after filling err; the server then answers with an RFC 9457
 * application/problem+json body built from err.
 */
#ifndef HUBCORE_HTTP_H
#define HUBCORE_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hubcore/status.h"

struct hc_hub;
struct hc_identity;
struct hc_req;
struct hc_resp;

/* Who may call a route once identity checks are on. */
enum hc_scope {
	HC_SCOPE_PUBLIC, /* anyone, even without a token (health checks) */
	HC_SCOPE_READ,
	HC_SCOPE_WRITE,
	HC_SCOPE_ADMIN,
};

enum hc_route_flag {
	HC_ROUTE_READONLY = 1u << 0, /* changes nothing */
	HC_ROUTE_RAW_BODY = 1u << 1, /* body is not JSON (e.g. a file upload) */
	HC_ROUTE_PER_MESSAGE = 1u << 2, /* a protocol endpoint (MCP) whose
					   messages carry their own policy:
					   each tool has its scope */
	HC_ROUTE_STATIC = 1u << 3, /* a file built into the binary that
				      carries no data (a page's script or
				      style sheet): may be public */
	HC_ROUTE_SESSION = 1u << 4, /* a page for people (GET, read-only):
				       accepts the page login's session
				       cookie in place of a bearer token,
				       and sends a browser without either to
				       the login; no other route reads the
				       cookie (CSRF) */
	HC_ROUTE_LOGIN = 1u << 5, /* a step of the page login itself
				     (hubcore/auth.h): public, it is the
				     way in, and checks its own state */
};

typedef int hc_handler_fn(struct hc_req *req, struct hc_resp *resp,
			  struct hc_err *err);

struct hc_route {
	const char *method;  /* "GET", "POST", "PATCH", "PUT", "DELETE" */
	const char *pattern; /* "/domains/{key}/summary" */
	hc_handler_fn *handler;
	const void *arg;     /* handler data, e.g. a resource descriptor */
	enum hc_scope scope;
	unsigned flags;
	const char *summary; /* one line for people (docs, OpenAPI) */
};

struct hc_route_table {
	const struct hc_route *routes;
	size_t count;
};

#define HC_ROUTE_TABLE(arr) { (arr), sizeof(arr) / sizeof((arr)[0]) }

#define HC_ROUTE_MAX_PARAMS 4

/* A query-string argument, decoded. */
struct hc_arg {
	const char *name;
	const char *value; /* "" when given without '=' */
};

#define HC_REQ_MAX_ARGS 32

struct hc_req {
	struct hc_hub *hub;
	const struct hc_route *route;
	const char *method;
	const char *path; /* normalized: no trailing slash */
	const char *param_names[HC_ROUTE_MAX_PARAMS];
	char *param_values[HC_ROUTE_MAX_PARAMS];
	size_t nparams;
	struct hc_arg args[HC_REQ_MAX_ARGS];
	size_t nargs;
	const char *body; /* NUL-terminated; may contain NULs (use body_len) */
	size_t body_len;
	const char *content_type; /* NULL when absent */
	void *conn;               /* the libmicrohttpd connection */
	struct hc_server *server; /* the server handling the request */
	struct hc_conn *db;       /* see hc_req_db */
	/* Who called, when the hub checks identity and the route has a
	 * scope (see hubcore/auth.h); NULL otherwise. */
	struct hc_identity *identity;
};

/*
 * The request's database connection, checked out of the hub's store on
 * first use and returned by the server when the request ends. NULL (with
 * err filled) when the store cannot give one.
 */
struct hc_conn *hc_req_db(struct hc_req *req, struct hc_err *err);

/* A path parameter by name ("key" for "/domains/{key}"), or NULL. */
const char *hc_req_param(const struct hc_req *req, const char *name);
/* The first query argument by name, or NULL. */
const char *hc_req_arg(const struct hc_req *req, const char *name);
/* A request header by name (case-insensitive), or NULL. */
const char *hc_req_header(const struct hc_req *req, const char *name);
/* A cookie sent with the request, by name, or NULL. */
const char *hc_req_cookie(const struct hc_req *req, const char *name);
/* The client's address as text ("127.0.0.1", "::1"), or "unknown". */
void hc_req_client_addr(const struct hc_req *req, char *out, size_t size);
/*
 * The fields of an application/x-www-form-urlencoded body as a JSON object
 * of strings (a field given twice is HC_EINVAL naming it; a field with a
 * NUL byte too; one whose name or value is not UTF-8 HC_EBADREQ naming
 * it). HC_EMEDIA for another content type.
 */
int hc_req_form(const struct hc_req *req, json_t **out, struct hc_err *err);
/*
 * The query's parameters as a JSON object of strings. One given twice, or
 * whose name or value is not UTF-8, is HC_EPARAM naming it.
 */
int hc_req_query(const struct hc_req *req, json_t **out, struct hc_err *err);

/*
 * Parse the body as a JSON object (HC_EMEDIA for a content type other than
 * JSON, HC_EJSON with line and column for malformed JSON, HC_EINVAL when it
 * is not an object). A new reference in *out.
 */
int hc_req_json(const struct hc_req *req, json_t **out, struct hc_err *err);

/* Refuse query arguments other than the allowed ones (NULL-terminated). */
int hc_req_only_args(const struct hc_req *req, const char *const *allowed,
		     struct hc_err *err);

#define HC_RESP_MAX_HEADERS 8

struct hc_resp {
	int status;          /* HTTP status */
	json_t *json;        /* owned; serialized when body is NULL */
	char *body;          /* owned (malloc'd) raw body, or NULL */
	size_t body_len;
	const char *content_type;
	struct {
		const char *name; /* static */
		char *value;      /* owned */
	} headers[HC_RESP_MAX_HEADERS];
	size_t nheaders;
	struct hc_pipe *pipe; /* a body written while it is sent, or NULL */
};

/* Answer with a JSON value (the reference is stolen). */
int hc_resp_json(struct hc_resp *resp, int status, json_t *json);
/* Add a header (value copied). */
int hc_resp_header(struct hc_resp *resp, const char *name, const char *value);
/* Answer with no body. */
int hc_resp_empty(struct hc_resp *resp, int status);

/*
 * A response body written by another thread while it is being sent, for
 * server-sent events. hc_resp_pipe makes the response stream from a new
 * pipe and returns it with one reference held by the caller (the writer);
 * the writer appends with hc_pipe_write from any thread and ends the body
 * with hc_pipe_close, which drops its reference. Bytes are sent as they
 * come; the connection sleeps (suspended) while the pipe is empty.
 * hc_pipe_write fails with HC_EIO once the client has gone or the server
 * is stopping, so a writer learns to stop.
 */
struct hc_pipe;
struct hc_pipe *hc_resp_pipe(struct hc_req *req, struct hc_resp *resp,
			     int status, const char *content_type);
int hc_pipe_write(struct hc_pipe *p, const void *data, size_t len);
void hc_pipe_close(struct hc_pipe *p);
/* True once the body can no longer reach the client. */
bool hc_pipe_broken(struct hc_pipe *p);
/* ---- server ----------------------------------------------------------- */

struct hc_server;

struct hc_server_options {
	const char *listen;   /* "HOST:PORT"; port 0 picks a free port */
	unsigned threads;     /* worker threads; 0 = default (4) */
	size_t max_body;      /* bytes; 0 = default (1 MiB) */
	unsigned max_connections; /* 0 = default (1024) */
	/* connections at once from one client address, so that one client
	 * cannot take them all; 0 = default (256) */
	unsigned max_per_address;
	unsigned timeout_s;   /* idle connection timeout; 0 = default (30) */
	unsigned drain_s;     /* on stop, how long requests in flight may
				 take to finish; 0 = default (15) */
};

/*
 * Start serving the hub's routes. The listening socket is bound before this
 * returns; hc_server_port tells which port was chosen.
 */
int hc_server_start(struct hc_server **out, struct hc_hub *hub,
		    const struct hc_server_options *opt, struct hc_err *err);
unsigned hc_server_port(const struct hc_server *srv);
/* Check a "HOST:PORT" or "[V6]:PORT" listen address without binding. */
int hc_listen_check(const char *listen, struct hc_err *err);
/* Stop accepting, finish in-flight requests, and free the server. */
void hc_server_stop(struct hc_server *srv);

/*
 * Route lookup, exposed for tests and tooling: find the route for method
 * and path among the hub's tables. Returns the route, or NULL with *allow
 * (may be NULL) set to a comma-separated list of the methods the path
 * supports ("" when the path matches no route at all).
 */
const struct hc_route *hc_route_find(const struct hc_route_table *const *tables,
				     size_t ntables, const char *method,
				     const char *path, struct hc_req *req,
				     char *allow, size_t allow_size);

/*
 * Build an RFC 9457 problem document from err: type, title, status, detail
 * and, when known, field, source, line and column.
 */
json_t *hc_problem_json(const struct hc_err *err, const char *instance);

#endif
