/*
 * http.c - MCP over Streamable HTTP at /mcp.
 *
 * POST carries one JSON-RPC message. The answer is application/json,
 * unless the request is a tool call that streams (progress, logs, a
 * question to the client) and the client accepts text/event-stream: such a
 * call runs on its own thread, and the answer turns into server-sent
 * events at the moment the call first sends something; a call that sends
 * nothing is still answered with plain JSON and its real HTTP status.
 * GET opens a session's own event stream (legacy era), DELETE ends a
 * session. Every request is checked against DNS rebinding first: on a
 * loopback listener the Host must be a loopback name, and an Origin, when
 * sent, must be one too (403 otherwise).
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hubcore/auth.h"
#include "hubcore/json.h"
#include "mcp_internal.h"

/* ---- DNS rebinding protection ------------------------------------------------ */

/* The host part of "host", "host:port", "[v6]" or "[v6]:port". */
static void host_part(const char *hostport, char *out, size_t size)
{
	size_t n;
	if (hostport[0] == '[') {
		const char *close = strchr(hostport, ']');
		n = close ? (size_t)(close - hostport + 1) : strlen(hostport);
	} else {
		n = strcspn(hostport, ":");
	}
	snprintf(out, size, "%.*s", (int)n, hostport);
}

/* localhost, an IPv4 address in 127.0.0.0/8 (parsed, not matched as a
 * prefix: "127.0.0.1.evil.com" is not one), or [::1]. */
static bool loopback_name(const char *host)
{
	struct in_addr a;
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0)
		return true;
	return inet_pton(AF_INET, host, &a) == 1 &&
	       (ntohl(a.s_addr) >> 24) == 127;
}

/* 0 when allowed, else fills the reason. */
static int check_origin(struct hc_req *req, char *why, size_t size)
{
	char listen_host[256], host[256], origin_host[256];
	const char *h = hc_req_header(req, "Host");
	const char *o = hc_req_header(req, "Origin");
	bool loopback;

	host_part(req->hub->config.listen ? req->hub->config.listen : "",
		  listen_host, sizeof(listen_host));
	loopback = loopback_name(listen_host);
	host_part(h ? h : "", host, sizeof(host));
	if (loopback && !loopback_name(host)) {
		snprintf(why, size, "Host '%s' is not this loopback server",
			 host);
		return -1;
	}
	if (!o)
		return 0;
	if (strncasecmp(o, "http://", 7) == 0)
		host_part(o + 7, origin_host, sizeof(origin_host));
	else if (strncasecmp(o, "https://", 8) == 0)
		host_part(o + 8, origin_host, sizeof(origin_host));
	else
		origin_host[0] = '\0';
	if (loopback ? !loopback_name(origin_host)
		     : strcasecmp(origin_host, host) != 0) {
		snprintf(why, size, "Origin '%s' is not allowed", o);
		return -1;
	}
	return 0;
}

/* Answer an error outside hc_mcp_handle: id is the request's, NULL when
 * it was not read (sent as null). */
static int rpc_fail(struct hc_resp *resp, int status, json_t *id, int code,
		    const char *msg)
{
	hc_resp_json(resp, status, hc__mcp_error_response(id, code, msg));
	return HC_OK;
}

static struct hc_mcp_server *server_of(struct hc_req *req, struct hc_resp *resp)
{
	if (!req->hub->mcp)
		rpc_fail(resp, 404, NULL, HC_RPC_METHOD_NOT_FOUND,
			 "MCP is not enabled on this hub");
	return req->hub->mcp;
}

static bool accepts(struct hc_req *req, const char *type)
{
	const char *a = hc_req_header(req, "Accept");
	return a && strcasestr(a, type) != NULL;
}

static int send_reply(struct hc_resp *resp, struct hc_mcp_reply *reply)
{
	if (reply->session_id)
		hc_resp_header(resp, "Mcp-Session-Id", reply->session_id);
	if (!reply->response)
		return hc_resp_empty(resp, reply->http_status ? reply->http_status
							      : 202);
	hc_resp_json(resp, reply->http_status ? reply->http_status : 200,
		     reply->response);
	reply->response = NULL;
	return HC_OK;
}

/* ---- lazily streamed calls ------------------------------------------------------- */

struct stream_call {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct hc_mcp_server *srv;
	json_t *msg;
	struct hc_mcp_headers h;
	char *hdr[5];
	struct hc_mcp_channel ch;
	struct hc_mcp_reply reply;
	json_t *queued;     /* sent before the stream existed */
	struct hc_pipe *pipe;
	bool want_stream;
	bool failed; /* the stream could not be made */
	bool done;
	int refs;
};

static void stream_unref(struct stream_call *s)
{
	bool last;
	pthread_mutex_lock(&s->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	json_decref(s->msg);
	json_decref(s->queued);
	hc_mcp_reply_release(&s->reply);
	for (int i = 0; i < 5; i++)
		free(s->hdr[i]);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

/* One server-sent event; the caller holds s->lock. */
static void write_event(struct stream_call *s, json_t *msg)
{
	size_t len = 0;
	char *text = hc_json_dump(msg, &len);
	if (!text)
		return;
	hc_pipe_write(s->pipe, "event: message\ndata: ", 21);
	hc_pipe_write(s->pipe, text, len);
	hc_pipe_write(s->pipe, "\n\n", 2);
	free(text);
}

static int stream_send(struct hc_mcp_channel *ch, json_t *msg)
{
	struct stream_call *s = ch->ctx;
	int rc = HC_OK;
	pthread_mutex_lock(&s->lock);
	if (s->pipe) {
		write_event(s, msg);
		rc = hc_pipe_broken(s->pipe) ? HC_EIO : HC_OK;
	} else {
		/* The first message: ask the handler to start streaming and
		 * wait until it has (it writes what is queued). */
		if (!s->queued)
			s->queued = json_array();
		json_array_append(s->queued, msg);
		s->want_stream = true;
		pthread_cond_broadcast(&s->cond);
		while (!s->pipe && !s->failed)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->pipe)
			rc = HC_EIO;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* A keep-alive comment wakes the connection, so that a closed socket is
 * noticed (libmicrohttpd cannot while the connection sleeps). */
static bool stream_alive(struct hc_mcp_channel *ch)
{
	struct stream_call *s = ch->ctx;
	bool alive = true;
	pthread_mutex_lock(&s->lock);
	if (s->pipe) {
		hc_pipe_write(s->pipe, ": keep-alive\n\n", 14);
		alive = !hc_pipe_broken(s->pipe);
	}
	pthread_mutex_unlock(&s->lock);
	return alive;
}

static void *stream_main(void *arg)
{
	struct stream_call *s = arg;
	struct hc_mcp_server *srv = s->srv;
	hc_mcp_handle(srv, s->msg, &s->h, &s->ch, &s->reply);
	pthread_mutex_lock(&s->lock);
	s->done = true;
	if (s->pipe) {
		if (s->reply.response)
			write_event(s, s->reply.response);
		hc_pipe_close(s->pipe);
	}
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	stream_unref(s);
	hc__mcp_end_async(srv);
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int post_streamed(struct hc_req *req, struct hc_resp *resp,
			 struct hc_mcp_server *srv, json_t *msg,
			 const struct hc_mcp_headers *h)
{
	struct stream_call *s = calloc(1, sizeof(*s));
	json_t *id = json_object_get(msg, "id");
	pthread_t th;
	int rc = HC_OK;

	if (!s)
		return rpc_fail(resp, 500, id, HC_RPC_INTERNAL_ERROR,
				"out of memory");
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->srv = srv;
	s->msg = json_incref(msg);
	s->hdr[0] = dup_or_null(h->protocol_version);
	s->hdr[1] = dup_or_null(h->method);
	s->hdr[2] = dup_or_null(h->name);
	s->hdr[3] = dup_or_null(h->session_id);
	s->hdr[4] = dup_or_null(h->subject);
	s->h = (struct hc_mcp_headers){ s->hdr[0], s->hdr[1], s->hdr[2],
					s->hdr[3], true, s->hdr[4],
					h->checked, h->level };
	s->ch.send = stream_send;
	s->ch.alive = stream_alive;
	s->ch.ctx = s;
	s->refs = 2;
	if (!hc__mcp_begin_async(srv)) {
		s->refs = 1;
		stream_unref(s);
		hc_resp_header(resp, "Retry-After", "5");
		return rpc_fail(resp, 503, id, HC_RPC_INTERNAL_ERROR,
				"too many streaming calls are running, or the "
				"server is stopping; try again later");
	}
	if (pthread_create(&th, NULL, stream_main, s) != 0) {
		hc__mcp_end_async(srv);
		s->refs = 1;
		stream_unref(s);
		return rpc_fail(resp, 503, id, HC_RPC_INTERNAL_ERROR,
				"cannot start the call");
	}
	pthread_detach(th);
	pthread_mutex_lock(&s->lock);
	while (!s->done && !s->want_stream)
		pthread_cond_wait(&s->cond, &s->lock);
	if (s->want_stream) {
		size_t i;
		json_t *m;
		s->pipe = hc_resp_pipe(req, resp, 200, "text/event-stream");
		if (s->pipe) {
			json_array_foreach(s->queued, i, m)
				write_event(s, m);
			json_array_clear(s->queued);
		} else {
			s->failed = true;
			rc = rpc_fail(resp, 500, id, HC_RPC_INTERNAL_ERROR,
				      "cannot start a stream");
		}
		pthread_cond_broadcast(&s->cond);
	} else {
		rc = send_reply(resp, &s->reply);
	}
	pthread_mutex_unlock(&s->lock);
	stream_unref(s);
	return rc;
}

/* ---- the routes -------------------------------------------------------------------- */

static int mcp_post(struct hc_req *req, struct hc_resp *resp,
		    struct hc_err *err)
{
	struct hc_mcp_server *srv = server_of(req, resp);
	struct hc_mcp_headers h = { 0 };
	struct hc_mcp_channel ch = { 0 };
	struct hc_mcp_reply reply;
	char why[300];
	json_t *msg = NULL;
	int rc;

	if (!srv)
		return HC_OK;
	if (check_origin(req, why, sizeof(why)) != 0)
		return rpc_fail(resp, 403, NULL, HC_RPC_INVALID_REQUEST, why);
	if (hc_json_parse(req->body, req->body_len, &msg, err) != HC_OK)
		return rpc_fail(resp, 400, NULL, HC_RPC_PARSE_ERROR, err->msg);
	h.protocol_version = hc_req_header(req, "MCP-Protocol-Version");
	h.method = hc_req_header(req, "Mcp-Method");
	h.name = hc_req_header(req, "Mcp-Name");
	h.session_id = hc_req_header(req, "Mcp-Session-Id");
	h.http = true;
	if (req->identity) {
		h.checked = true;
		h.level = req->identity->level;
		h.subject = req->identity->sub;
	}
	if (accepts(req, "text/event-stream") && hc_mcp_wants_stream(srv, msg)) {
		rc = post_streamed(req, resp, srv, msg, &h);
		json_decref(msg);
		return rc;
	}
	hc_mcp_handle(srv, msg, &h, &ch, &reply);
	json_decref(msg);
	if (reply.http_status == 403 && req->identity)
		hc_resp_header(resp, "WWW-Authenticate",
			       "Bearer error=\"insufficient_scope\", "
			       "error_description=\"a role with more "
			       "permission is needed for this tool\"");
	rc = send_reply(resp, &reply);
	hc_mcp_reply_release(&reply);
	return rc;
}

/* The legacy era's stand-alone stream of a session. */
static int mcp_get(struct hc_req *req, struct hc_resp *resp,
		   struct hc_err *err)
{
	struct hc_mcp_server *srv = server_of(req, resp);
	const char *sid = hc_req_header(req, "Mcp-Session-Id");
	struct hc_mcp_session *s;
	char why[300];

	if (!srv)
		return HC_OK;
	if (check_origin(req, why, sizeof(why)) != 0)
		return rpc_fail(resp, 403, NULL, HC_RPC_INVALID_REQUEST, why);
	if (!sid) {
		/* no session, no stream: stateless clients never GET */
		hc_resp_header(resp, "Allow", "POST, DELETE");
		return rpc_fail(resp, 405, NULL, HC_RPC_INVALID_REQUEST,
				"GET needs an Mcp-Session-Id: the stand-alone "
				"stream belongs to a session");
	}
	if (!accepts(req, "text/event-stream"))
		return rpc_fail(resp, 406, NULL, HC_RPC_INVALID_REQUEST,
				"Not Acceptable: GET /mcp answers "
				"text/event-stream");
	if (srv->stopping)
		return rpc_fail(resp, 503, NULL, HC_RPC_INTERNAL_ERROR,
				"the server is stopping");
	s = hc_mcp_session_get(srv, sid,
			       req->identity ? req->identity->sub : NULL);
	if (!s)
		return rpc_fail(resp, 404, NULL, HC_RPC_INVALID_REQUEST,
				"Session not found");
	pthread_mutex_lock(&s->lock);
	if (s->ended) {
		pthread_mutex_unlock(&s->lock);
		hc_mcp_session_put(s);
		return rpc_fail(resp, 404, NULL, HC_RPC_INVALID_REQUEST,
				"Session not found");
	}
	/* The newest GET takes over: a client that lost its stream (its
	 * socket closed while the server was not writing) reconnects. */
	if (s->stream)
		hc_pipe_close(s->stream);
	s->stream = hc_resp_pipe(req, resp, 200, "text/event-stream");
	if (s->stream)
		hc_pipe_write(s->stream, ": stream open\n\n", 15);
	pthread_mutex_unlock(&s->lock);
	hc_mcp_session_put(s);
	return HC_OK;
}

static int mcp_delete(struct hc_req *req, struct hc_resp *resp,
		      struct hc_err *err)
{
	struct hc_mcp_server *srv = server_of(req, resp);
	const char *sid = hc_req_header(req, "Mcp-Session-Id");
	char why[300];
	if (!srv)
		return HC_OK;
	if (check_origin(req, why, sizeof(why)) != 0)
		return rpc_fail(resp, 403, NULL, HC_RPC_INVALID_REQUEST, why);
	if (!sid)
		return rpc_fail(resp, 400, NULL, HC_RPC_INVALID_REQUEST,
				"Bad Request: Mcp-Session-Id header is "
				"required");
	if (hc_mcp_session_end(srv, sid,
			       req->identity ? req->identity->sub : NULL) !=
	    HC_OK)
		return rpc_fail(resp, 404, NULL, HC_RPC_INVALID_REQUEST,
				"Session not found");
	return hc_resp_empty(resp, 204);
}

static const struct hc_route mcp_routes[] = {
	{ "POST", "/mcp", mcp_post, NULL, HC_SCOPE_READ,
	  HC_ROUTE_RAW_BODY | HC_ROUTE_PER_MESSAGE,
	  "MCP Streamable HTTP: one JSON-RPC message (both protocol eras)" },
	{ "GET", "/mcp", mcp_get, NULL, HC_SCOPE_READ,
	  HC_ROUTE_READONLY | HC_ROUTE_PER_MESSAGE,
	  "MCP: the server-sent event stream of a session" },
	{ "DELETE", "/mcp", mcp_delete, NULL, HC_SCOPE_READ,
	  HC_ROUTE_PER_MESSAGE,
	  "MCP: end a session" },
};

const struct hc_route_table hc_mcp_routes = HC_ROUTE_TABLE(mcp_routes);
