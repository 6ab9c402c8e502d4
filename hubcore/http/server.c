/*
 * server.c - serving a hub's route tables over HTTP with libmicrohttpd.
 *
 * libmicrohttpd runs its own epoll thread pool; each request is handled
 * synchronously on one of those threads: the body is collected (bounded by
 * max_body), the path normalized, the route found, the handler called, and
 * the response (or an RFC 9457 problem) queued. Every request is logged in
 * one line with its status and duration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hubcore/auth.h"
#include "hubcore/auth/auth_internal.h"
#include "hubcore/buf.h"
#include "hubcore/http.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

#define DEFAULT_MAX_BODY (1024 * 1024)
/* Above what the benchmarks and the soak open from one address (64), and
 * well below the 1024 connections in all. */
#define DEFAULT_MAX_PER_ADDRESS 256

struct hc_server {
	struct MHD_Daemon *daemon;
	struct hc_hub *hub;
	struct hc_server_options opt;
	unsigned port;
	int listen_fd; /* ours: libmicrohttpd leaves it open on quiesce */
	pthread_mutex_t pipes_lock;
	struct hc_pipe *pipes; /* live streaming bodies, closed on stop */
	bool stopping;
	int inflight; /* requests begun and not completed (atomic) */
};

/* ---- pipes: bodies written while they are sent ---------------------------- */

#define PIPE_MAX_BUFFERED (16 * 1024 * 1024)

struct hc_pipe {
	pthread_mutex_t lock;
	struct MHD_Connection *mc;
	struct hc_server *srv;
	struct hc_buf buf;
	size_t off;      /* bytes of buf already sent */
	bool closed;     /* the writer has finished */
	bool broken;     /* the client is gone or the server stops */
	bool suspended;  /* the connection sleeps until more is written */
	int refs;        /* the writer and the response */
	struct hc_pipe *next, *prev;
};

static void pipe_unref(struct hc_pipe *p)
{
	struct hc_server *srv = p->srv;
	bool last;
	pthread_mutex_lock(&p->lock);
	last = --p->refs == 0;
	pthread_mutex_unlock(&p->lock);
	if (!last)
		return;
	pthread_mutex_lock(&srv->pipes_lock);
	if (p->prev)
		p->prev->next = p->next;
	else
		srv->pipes = p->next;
	if (p->next)
		p->next->prev = p->prev;
	pthread_mutex_unlock(&srv->pipes_lock);
	hc_buf_release(&p->buf);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Called by libmicrohttpd on its thread when it can send more. */
static ssize_t pipe_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct hc_pipe *p = cls;
	ssize_t n;
	pthread_mutex_lock(&p->lock);
	if (p->broken) {
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	} else if (p->off < p->buf.len) {
		size_t avail = p->buf.len - p->off;
		n = (ssize_t)(avail < max ? avail : max);
		memcpy(out, p->buf.data + p->off, (size_t)n);
		p->off += (size_t)n;
		if (p->off == p->buf.len) {
			hc_buf_reset(&p->buf);
			p->off = 0;
		}
	} else if (p->closed) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		/* Nothing to send yet: sleep until the writer wakes us. */
		p->suspended = true;
		MHD_suspend_connection(p->mc);
		n = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

static void pipe_response_done(void *cls)
{
	struct hc_pipe *p = cls;
	pthread_mutex_lock(&p->lock);
	p->broken = true; /* nobody reads any more */
	pthread_mutex_unlock(&p->lock);
	pipe_unref(p);
}

/* Wake a sleeping connection; the caller holds p->lock. */
static void pipe_wake(struct hc_pipe *p)
{
	if (p->suspended) {
		p->suspended = false;
		MHD_resume_connection(p->mc);
	}
}

struct hc_pipe *hc_resp_pipe(struct hc_req *req, struct hc_resp *resp,
			     int status, const char *content_type)
{
	struct hc_server *srv = req->server;
	struct hc_pipe *p;
	if (!srv || resp->pipe)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	hc_buf_init(&p->buf, PIPE_MAX_BUFFERED);
	p->mc = req->conn;
	p->srv = srv;
	p->refs = 2; /* the writer, and the response once queued */
	pthread_mutex_lock(&srv->pipes_lock);
	p->broken = srv->stopping;
	p->next = srv->pipes;
	if (srv->pipes)
		srv->pipes->prev = p;
	srv->pipes = p;
	pthread_mutex_unlock(&srv->pipes_lock);
	resp->pipe = p;
	resp->status = status;
	resp->content_type = content_type;
	return p;
}

int hc_pipe_write(struct hc_pipe *p, const void *data, size_t len)
{
	int rc;
	pthread_mutex_lock(&p->lock);
	if (p->broken || p->closed)
		rc = HC_EIO;
	else
		rc = hc_buf_add(&p->buf, data, len);
	if (rc == HC_OK)
		pipe_wake(p);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void hc_pipe_close(struct hc_pipe *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closed = true;
	pipe_wake(p);
	pthread_mutex_unlock(&p->lock);
	pipe_unref(p);
}

bool hc_pipe_broken(struct hc_pipe *p)
{
	bool b;
	pthread_mutex_lock(&p->lock);
	b = p->broken;
	pthread_mutex_unlock(&p->lock);
	return b;
}

/* On stop: end every stream and wake its connection, since libmicrohttpd
 * must not be stopped with connections asleep. A stream its writer has
 * closed already is let drain: what it said last (a "close" event) still
 * reaches the client, and its body ends cleanly. */
static void break_pipes(struct hc_server *srv)
{
	pthread_mutex_lock(&srv->pipes_lock);
	srv->stopping = true;
	for (struct hc_pipe *p = srv->pipes; p; p = p->next) {
		pthread_mutex_lock(&p->lock);
		if (!p->closed)
			p->broken = true;
		pipe_wake(p);
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&srv->pipes_lock);
}

/* Wait (at most ms) until every stream has ended. */
static bool pipes_wait(struct hc_server *srv, int ms)
{
	for (int waited = 0;; waited += 10) {
		bool empty;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		pthread_mutex_lock(&srv->pipes_lock);
		empty = srv->pipes == NULL;
		pthread_mutex_unlock(&srv->pipes_lock);
		if (empty || waited >= ms)
			return empty;
		nanosleep(&ts, NULL);
	}
}

/* Per-request state kept by libmicrohttpd between calls. */
struct request_state {
	struct hc_buf body;
	bool too_big;
	bool ambiguous; /* several Content-Length headers */
	bool responded;
	size_t discarded; /* bytes dropped after the limit was passed */
	int64_t started_ms;
};

static void request_state_free(struct request_state *rs)
{
	if (!rs)
		return;
	hc_buf_release(&rs->body);
	free(rs);
}

static void completed_cb(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct hc_server *srv = cls;
	if (*con_cls)
		__atomic_sub_fetch(&srv->inflight, 1, __ATOMIC_ACQ_REL);
	request_state_free(*con_cls);
	*con_cls = NULL;
}

static enum MHD_Result queue(struct MHD_Connection *mc, struct hc_resp *resp,
			     bool head)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *body = resp->body;
	size_t len = resp->body_len;
	const char *ct = resp->content_type;

	if (!body && resp->json) {
		body = hc_json_dump(resp->json, &len);
		if (!body) {
			len = 0;
			resp->status = 500;
		}
		if (!ct)
			ct = "application/json";
		resp->body = body;
	}
	resp->body = NULL; /* ownership moves to libmicrohttpd */
	if (resp->pipe) {
		/* The pipe's second reference now belongs to the response. */
		struct hc_pipe *p = resp->pipe;
		resp->pipe = NULL;
		free(body);
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
						      pipe_read, p,
						      pipe_response_done);
		if (!r) {
			pipe_response_done(p);
			return MHD_NO;
		}
		MHD_add_response_header(r, "X-Accel-Buffering", "no");
	} else {
		r = MHD_create_response_from_buffer(
			len, body ? body : (char *)"",
			body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	}
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (ct)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (size_t i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name,
					resp->headers[i].value);
	(void)head; /* libmicrohttpd omits the body of HEAD responses */
	ret = MHD_queue_response(mc, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static void resp_release(struct hc_resp *resp)
{
	if (resp->pipe) /* never queued: the response's reference goes */
		pipe_response_done(resp->pipe);
	json_decref(resp->json);
	free(resp->body);
	for (size_t i = 0; i < resp->nheaders; i++)
		free(resp->headers[i].value);
	memset(resp, 0, sizeof(*resp));
}

static bool resp_has_header(const struct hc_resp *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return true;
	return false;
}

static void set_problem(struct hc_resp *resp, const struct hc_err *err,
			const char *path)
{
	if (resp->pipe) {
		pipe_response_done(resp->pipe);
		resp->pipe = NULL;
	}
	json_decref(resp->json);
	free(resp->body);
	resp->body = NULL;
	resp->status = hc_status_http(err->status);
	resp->json = hc_problem_json(err, path);
	resp->content_type = "application/problem+json";
	/* busy (a lock held too long, every database connection in use, a
	 * statement cancelled): the client may try again, and is told when
	 * (RFC 9110, 10.2.3), unless the handler said already */
	if (resp->status == 503 && !resp_has_header(resp, "Retry-After"))
		hc_resp_header(resp, "Retry-After", "1");
}

struct args_ctx {
	struct hc_req *req;
	bool overflow;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	struct args_ctx *a = cls;
	if (!key || !*key) /* "?&a=1" or "a=1&&b=2": an empty separator */
		return MHD_YES;
	if (a->req->nargs >= HC_REQ_MAX_ARGS) {
		a->overflow = true;
		return MHD_NO;
	}
	a->req->args[a->req->nargs].name = key;
	a->req->args[a->req->nargs].value = value ? value : "";
	a->req->nargs++;
	return MHD_YES;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind,
				    const char *key, const char *value)
{
	struct { const char *name; int n; } *c = cls;
	if (strcasecmp(key, c->name) == 0)
		c->n++;
	return MHD_YES;
}

/* How many times a request header was sent. */
static int header_count(struct MHD_Connection *mc, const char *name)
{
	struct { const char *name; int n; } c = { name, 0 };
	MHD_get_connection_values(mc, MHD_HEADER_KIND, count_header, &c);
	return c.n;
}

/* The text of a path or method for a log line: control characters and
 * bytes that are not printable ASCII are escaped, so no request can forge
 * log lines or send terminal escapes. */
static void log_safe(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	for (; *in && n + 5 < size; in++) {
		unsigned char c = (unsigned char)*in;
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		} else {
			out[n++] = (char)c;
		}
	}
	if (*in && n + 4 < size) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static void req_release(struct hc_req *req)
{
	for (size_t i = 0; i < req->nparams; i++) {
		free((char *)req->param_names[i]);
		free(req->param_values[i]);
	}
	if (req->db)
		hc_store_release(req->hub->store, req->db);
	if (req->identity) {
		hc_identity_release(req->identity);
		free(req->identity);
	}
}

static enum MHD_Result dispatch(struct hc_server *srv,
				struct MHD_Connection *mc, const char *url,
				const char *method, struct request_state *rs)
{
	struct hc_hub *hub = srv->hub;
	struct hc_req req = { 0 };
	struct hc_resp resp = { 0 };
	struct hc_err err = { 0 };
	struct args_ctx args = { &req, false };
	char allow[128];
	char *path = strdup(url);
	const struct hc_route *route = NULL;
	enum MHD_Result ret;
	int rc;

	if (!path)
		return MHD_NO;
	req.hub = hub;
	req.method = method;
	req.conn = mc;
	req.server = srv;
	req.path = path;
	req.body = rs->body.data ? rs->body.data : "";
	req.body_len = rs->body.len;
	req.content_type = MHD_lookup_connection_value(
		mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	if (rs->ambiguous) {
		hc_err_set(&err, HC_EBADREQ,
			   "the request has more than one Content-Length "
			   "header");
		goto problem;
	}
	if (rs->too_big) {
		hc_err_set(&err, HC_ETOOBIG,
			   "request body is larger than the limit of %zu "
			   "bytes",
			   srv->opt.max_body);
		goto problem;
	}
	if (hc_path_normalize(path, &err) != HC_OK)
		goto problem;
	MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, collect_arg,
				  &args);
	if (args.overflow) {
		hc_err_set(&err, HC_EPARAM, "more than %d query parameters",
			   HC_REQ_MAX_ARGS);
		goto problem;
	}
	route = hc_route_find(hub->def->routes, hub->def->nroutes, method,
			      path, &req, allow, sizeof(allow));
	if (!route) {
		if (!allow[0]) {
			hc_err_set(&err, HC_ENOTFOUND, "no resource at '%s'",
				   path);
		} else if (strcmp(method, "OPTIONS") == 0) {
			hc_resp_header(&resp, MHD_HTTP_HEADER_ALLOW, allow);
			hc_resp_empty(&resp, 204);
			goto send;
		} else {
			hc_err_set(&err, HC_EMETHOD,
				   "method %s is not allowed on '%s'; allowed: "
				   "%s",
				   method, path, allow);
			hc_resp_header(&resp, MHD_HTTP_HEADER_ALLOW, allow);
		}
		goto problem;
	}
	req.route = route;
	resp.status = 200;
	/* identity: every route but the public ones, before the handler
	 * reads anything */
	if (hub->auth && route->scope != HC_SCOPE_PUBLIC) {
		bool answered = false;
		if (hc__auth_gate(&req, &resp, &err, &answered) != HC_OK)
			goto problem;
		if (answered)
			goto send;
	}
	rc = route->handler(&req, &resp, &err);
	if (rc != HC_OK) {
		if (!err.status)
			err.status = rc;
		goto problem;
	}
	goto send;
problem:
	if (hc_status_http(err.status) >= 500) {
		char safe[512];
		log_safe(path, safe, sizeof(safe));
		hc_log_error(&hub->log, "%s %s: %s", method, safe, err.msg);
	}
	set_problem(&resp, &err, path);
send:
	ret = queue(mc, &resp, strcmp(method, "HEAD") == 0);
	if (hub->log.level <= HC_LOG_INFO) {
		char safe_m[64], safe_p[512];
		log_safe(method, safe_m, sizeof(safe_m));
		log_safe(path, safe_p, sizeof(safe_p));
		hc_log(&hub->log, HC_LOG_INFO, "%s %s %d %lldms", safe_m,
		       safe_p, resp.status,
		       (long long)(hc_clock_ms() - rs->started_ms));
	}
	resp_release(&resp);
	req_release(&req);
	free(path);
	return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *mc,
				 const char *url, const char *method,
				 const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct hc_server *srv = cls;
	struct request_state *rs = *con_cls;

	if (rs && rs->responded) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!rs) {
		const char *cl;
		rs = calloc(1, sizeof(*rs));
		if (!rs)
			return MHD_NO;
		__atomic_add_fetch(&srv->inflight, 1, __ATOMIC_ACQ_REL);
		hc_buf_init(&rs->body, srv->opt.max_body);
		rs->started_ms = hc_clock_ms();
		*con_cls = rs;
		/* Two lengths make the body's end ambiguous (request
		 * smuggling): refuse before reading anything. */
		if (header_count(mc, MHD_HTTP_HEADER_CONTENT_LENGTH) > 1) {
			rs->ambiguous = true;
			rs->responded = true;
			return dispatch(srv, mc, url, method, rs);
		}
		/* Refuse an announced oversized body before reading it. */
		cl = MHD_lookup_connection_value(
			mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > srv->opt.max_body) {
			rs->too_big = true;
			rs->responded = true;
			return dispatch(srv, mc, url, method, rs);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!rs->too_big &&
		    hc_buf_add(&rs->body, upload_data, *upload_data_size) !=
			    HC_OK) {
			rs->too_big = true;
			hc_buf_release(&rs->body);
		}
		if (rs->too_big) {
			/* A body without a length that runs on past the
			 * limit is answered 413 when it ends; one that runs
			 * on much further is cut off by closing. */
			rs->discarded += *upload_data_size;
			if (rs->discarded > srv->opt.max_body)
				return MHD_NO;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	rs->responded = true;
	return dispatch(srv, mc, url, method, rs);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decoding of paths and query values, in place. "%00" is left as
 * it is: a decoded NUL would silently cut a C string short ("todo%00x"
 * would filter on "todo"), while the literal text is simply refused or
 * not found downstream.
 */
static size_t unescape_cb(void *cls, struct MHD_Connection *c, char *s)
{
	char *r = s, *w = s;
	while (*r) {
		int hi, lo;
		if (r[0] == '%' && (hi = hexval(r[1])) >= 0 &&
		    (lo = hexval(r[2])) >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct hc_hub *hub = cls;
	char msg[512];
	size_t n;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	hc_log_warn(&hub->log, "http: %s", msg);
}

/* Parse "HOST:PORT" or "[V6]:PORT" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss,
			bool *v6, struct hc_err *err)
{
	char host[256];
	const char *colon, *port_s;
	struct addrinfo hints = { 0 }, *res = NULL;
	char *end;
	long port;
	int gai;

	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');
		if (!close || close[1] != ':')
			goto bad;
		snprintf(host, sizeof(host), "%.*s",
			 (int)(close - listen - 1), listen + 1);
		port_s = close + 2;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || colon == listen)
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - listen),
			 listen);
		port_s = colon + 1;
	}
	if (!*port_s || strspn(port_s, "0123456789") != strlen(port_s) ||
	    strlen(port_s) > 5)
		goto bad;
	port = strtol(port_s, &end, 10);
	if (port > 65535)
		goto bad;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	gai = getaddrinfo(host, port_s, &hints, &res);
	if (gai != 0)
		return hc_err_field(err, HC_EUSAGE, "listen",
				    "listen address '%s': %s", listen,
				    gai_strerror(gai));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return HC_OK;
bad:
	return hc_err_field(err, HC_EUSAGE, "listen",
			    "listen address '%s' is not HOST:PORT", listen);
}

int hc_listen_check(const char *listen, struct hc_err *err)
{
	struct sockaddr_storage ss;
	bool v6;
	return parse_listen(listen, &ss, &v6, err);
}

/*
 * Bind and listen on the address ourselves, so that a failure names the
 * address and the reason (libmicrohttpd's own message names the port
 * argument of MHD_start_daemon, 0 here). Returns the socket, or -1 with
 * err set.
 */
static int listen_socket(const char *addr, const struct sockaddr_storage *ss,
			 bool v6, unsigned *port, struct hc_err *err)
{
	socklen_t len = v6 ? sizeof(struct sockaddr_in6)
			   : sizeof(struct sockaddr_in);
	struct sockaddr_storage bound;
	int on = 1, e;
	int fd = socket(v6 ? AF_INET6 : AF_INET,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* as libmicrohttpd does: a restart need not wait for TIME_WAIT,
	 * and [::]:PORT is IPv6 only */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			      sizeof(on)) != 0) ||
	    bind(fd, (const struct sockaddr *)ss, len) != 0 ||
	    listen(fd, SOMAXCONN) != 0)
		goto fail;
	len = sizeof(bound);
	if (getsockname(fd, (struct sockaddr *)&bound, &len) != 0)
		goto fail;
	*port = ntohs(bound.ss_family == AF_INET6
			      ? ((struct sockaddr_in6 *)&bound)->sin6_port
			      : ((struct sockaddr_in *)&bound)->sin_port);
	return fd;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	hc_err_field(err, HC_EIO, "listen", "cannot listen on %s: %s", addr,
		     strerror(e));
	return -1;
}

int hc_server_start(struct hc_server **out, struct hc_hub *hub,
		    const struct hc_server_options *opt, struct hc_err *err)
{
	struct hc_server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_storage ss = { 0 };
	unsigned flags;
	bool v6 = false;
	int rc;

	if (!srv)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	srv->hub = hub;
	srv->opt = *opt;
	if (!srv->opt.threads)
		srv->opt.threads = 4;
	if (!srv->opt.max_body)
		srv->opt.max_body = DEFAULT_MAX_BODY;
	if (!srv->opt.max_connections)
		srv->opt.max_connections = 1024;
	if (!srv->opt.max_per_address)
		srv->opt.max_per_address = DEFAULT_MAX_PER_ADDRESS;
	if (!srv->opt.timeout_s)
		srv->opt.timeout_s = 30;
	if (!srv->opt.drain_s)
		srv->opt.drain_s = 15;
	rc = parse_listen(opt->listen, &ss, &v6, err);
	if (rc != HC_OK) {
		free(srv);
		return rc;
	}
	srv->listen_fd = listen_socket(opt->listen, &ss, v6, &srv->port, err);
	if (srv->listen_fd < 0) {
		free(srv);
		return err->status;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
		(v6 ? MHD_USE_IPv6 : 0);
	pthread_mutex_init(&srv->pipes_lock, NULL);
	/* One thread is the polling thread itself; more make a pool. */
	srv->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, access_cb, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, hub,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)(srv->opt.threads > 1 ? srv->opt.threads : 0),
		MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		/* room for long query strings: their parameters are then
		 * refused with a problem document rather than by a closed
		 * connection */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		MHD_OPTION_CONNECTION_LIMIT, srv->opt.max_connections,
		/* beyond it a client's new connections are closed at once,
		 * while other addresses are still served */
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->opt.max_per_address,
		MHD_OPTION_CONNECTION_TIMEOUT, srv->opt.timeout_s,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb, NULL,
		MHD_OPTION_END);
	if (!srv->daemon) {
		close(srv->listen_fd);
		pthread_mutex_destroy(&srv->pipes_lock);
		free(srv);
		return hc_err_field(err, HC_EIO, "listen",
				    "cannot serve on %s (the HTTP server did "
				    "not start; see the log above)",
				    opt->listen);
	}
	*out = srv;
	return HC_OK;
}

unsigned hc_server_port(const struct hc_server *srv)
{
	return srv->port;
}

void hc_server_stop(struct hc_server *srv)
{
	if (!srv)
		return;
	/* No new connections; streams (SSE) end; requests in flight, a body
	 * still arriving included, finish, for up to drain_s seconds. */
	/* the listening socket is ours again once quiesced: closed after
	 * MHD_stop_daemon, as its threads may still look at it until then
	 * (-1 when quiescing failed: libmicrohttpd closes it itself) */
	srv->listen_fd = MHD_quiesce_daemon(srv->daemon);
	break_pipes(srv);
	/* let the polling threads act on the resumed connections: broken
	 * streams end at once, closed ones once their last bytes are sent
	 * (bounded: a client that does not read must not hold the stop) */
	pipes_wait(srv, 2000);
	{
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		int64_t deadline = hc_clock_ms() + (int64_t)srv->opt.drain_s *
							   1000;
		int left;
		nanosleep(&ts, NULL);
		while ((left = __atomic_load_n(&srv->inflight,
					       __ATOMIC_ACQUIRE)) > 0 &&
		       hc_clock_ms() < deadline)
			nanosleep(&ts, NULL);
		if (left > 0)
			hc_log_warn(&srv->hub->log,
				    "http: %d request(s) still running after "
				    "%u s: stopping anyway",
				    left, srv->opt.drain_s);
	}
	MHD_stop_daemon(srv->daemon);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	/* Writers still hold pipes that point here: wait for them to see the
	 * broken pipes and let go (they are told to stop before this). */
	for (int i = 0; i < 1000; i++) {
		bool empty;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		pthread_mutex_lock(&srv->pipes_lock);
		empty = srv->pipes == NULL;
		pthread_mutex_unlock(&srv->pipes_lock);
		if (empty) {
			pthread_mutex_destroy(&srv->pipes_lock);
			free(srv);
			return;
		}
		nanosleep(&ts, NULL);
	}
	/* A writer that never finished: keep the server's memory rather
	 * than let it write into freed memory. */
	hc_log_warn(&srv->hub->log, "http: a streaming response did not end "
				    "within 10 s of shutdown");
}
