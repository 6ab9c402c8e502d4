/*
 * stdio.c - MCP over standard input and output: one JSON message per line
 * each way, nothing else on stdout (logs go to the hub's log, stderr).
 *
 * Requests are handled in order on the reading thread, except tool calls
 * that stream (progress, logs, questions to the client): those run on
 * their own thread, so that the reader can keep reading, among other
 * things the client's answers to those questions.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "mcp_internal.h"

#define LINE_MAX_BYTES (16 * 1024 * 1024)

struct stdio_ctx {
	struct hc_mcp_server *srv;
	int out_fd;
	pthread_mutex_t out_lock;
	pthread_cond_t idle;
	int running; /* threads of this transport */
	struct hc_mcp_session *session;
	bool out_broken;
};

static int write_line(struct stdio_ctx *x, json_t *msg)
{
	size_t len = 0, off = 0;
	char *text = hc_json_dump(msg, &len);
	int rc = HC_OK;
	if (!text)
		return HC_ENOMEM;
	text[len] = '\n'; /* replaces the NUL: written with its length */
	pthread_mutex_lock(&x->out_lock);
	while (off <= len && !x->out_broken) {
		ssize_t n = write(x->out_fd, text + off, len + 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			x->out_broken = true;
			rc = HC_EIO;
			break;
		}
		off += (size_t)n;
	}
	pthread_mutex_unlock(&x->out_lock);
	free(text);
	return rc;
}

static int ch_send(struct hc_mcp_channel *ch, json_t *msg)
{
	return write_line(ch->ctx, msg);
}

static int notify(void *ctx, json_t *msg)
{
	return write_line(ctx, msg);
}

static void handle(struct stdio_ctx *x, json_t *msg)
{
	struct hc_mcp_headers h = { 0 };
	struct hc_mcp_channel ch = { .send = ch_send, .ctx = x,
				     .session = x->session };
	struct hc_mcp_reply reply;
	hc_mcp_handle(x->srv, msg, &h, &ch, &reply);
	if (reply.response)
		write_line(x, reply.response);
	hc_mcp_reply_release(&reply);
}

struct job {
	struct stdio_ctx *x;
	json_t *msg;
};

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct stdio_ctx *x = j->x;
	handle(x, j->msg);
	json_decref(j->msg);
	free(j);
	hc__mcp_end_async(x->srv);
	pthread_mutex_lock(&x->out_lock);
	if (--x->running == 0)
		pthread_cond_broadcast(&x->idle);
	pthread_mutex_unlock(&x->out_lock);
	return NULL;
}

static void dispatch_line(struct stdio_ctx *x, const char *line, size_t len)
{
	struct hc_err err = { 0 };
	json_t *msg = NULL;
	pthread_t th;
	struct job *j;

	if (hc_json_parse(line, len, &msg, &err) != HC_OK) {
		json_t *e = hc__mcp_error_response(NULL, HC_RPC_PARSE_ERROR,
						   err.msg);
		write_line(x, e);
		json_decref(e);
		return;
	}
	if (!hc_mcp_wants_stream(x->srv, msg) || !hc__mcp_begin_async(x->srv)) {
		handle(x, msg);
		json_decref(msg);
		return;
	}
	j = malloc(sizeof(*j));
	if (j) {
		j->x = x;
		j->msg = msg;
		pthread_mutex_lock(&x->out_lock);
		x->running++;
		pthread_mutex_unlock(&x->out_lock);
		if (pthread_create(&th, NULL, job_main, j) == 0) {
			pthread_detach(th);
			return;
		}
		pthread_mutex_lock(&x->out_lock);
		x->running--;
		pthread_mutex_unlock(&x->out_lock);
		free(j);
	}
	hc__mcp_end_async(x->srv);
	handle(x, msg); /* no thread: answer in order instead */
	json_decref(msg);
}

int hc_mcp_serve_stdio(struct hc_mcp_server *srv, int in_fd, int out_fd,
		       struct hc_err *err)
{
	struct stdio_ctx x = { .srv = srv, .out_fd = out_fd };
	struct hc_buf in = HC_BUF_INIT(LINE_MAX_BYTES + 65536);
	bool skipping = false; /* inside an over-long line */
	char chunk[65536];
	int rc = HC_OK;

	pthread_mutex_init(&x.out_lock, NULL);
	pthread_cond_init(&x.idle, NULL);
	x.session = hc_mcp_session_new_stdio();
	if (!x.session)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	/* subscribed resources that change are announced on stdout */
	hc__mcp_attach_session(srv, x.session, notify, &x);
	for (;;) {
		ssize_t n = read(in_fd, chunk, sizeof(chunk));
		char *nl;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hc_err_set(err, HC_EIO, "reading stdin: %s",
					strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (hc_buf_add(&in, chunk, (size_t)n) != HC_OK) {
			/* over the limit: drop until the next newline */
			hc_buf_reset(&in);
			skipping = true;
			hc_buf_add(&in, chunk, (size_t)n);
		}
		while ((nl = memchr(in.data, '\n', in.len)) != NULL) {
			size_t len = (size_t)(nl - in.data);
			struct hc_slice s =
				hc_slice_trim(hc_slice_from(in.data, len));
			if (skipping) {
				json_t *e = hc__mcp_error_response(
					NULL, HC_RPC_INVALID_REQUEST,
					"Invalid Request: message longer than "
					"16 MiB");
				write_line(&x, e);
				json_decref(e);
				skipping = false;
			} else if (s.len) {
				dispatch_line(&x, s.ptr, s.len);
			}
			memmove(in.data, nl + 1, in.len - len - 1);
			in.len -= len + 1;
			in.data[in.len] = '\0';
		}
		if (in.len > LINE_MAX_BYTES) {
			hc_buf_reset(&in);
			skipping = true;
		}
	}
	/* a last message without a newline */
	if (rc == HC_OK && !skipping && in.len) {
		struct hc_slice s = hc_slice_trim(hc_buf_slice(&in));
		if (s.len)
			dispatch_line(&x, s.ptr, s.len);
	}
	hc__mcp_session_close(x.session); /* no answers will come now */
	hc__mcp_detach_session(srv, x.session);
	pthread_mutex_lock(&x.out_lock);
	while (x.running > 0)
		pthread_cond_wait(&x.idle, &x.out_lock);
	pthread_mutex_unlock(&x.out_lock);
	hc_buf_release(&in);
	hc_mcp_session_free(x.session);
	pthread_mutex_destroy(&x.out_lock);
	pthread_cond_destroy(&x.idle);
	return rc;
}
