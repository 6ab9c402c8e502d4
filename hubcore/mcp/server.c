/*
 * server.c - the MCP server: era classification, the method tables of both
 * eras, sessions of the legacy era, and the context a tool runs in.
 *
 * A message's era is decided by its body (hc_mcp.h): with a
 * io.modelcontextprotocol/protocolVersion claim in params._meta it is
 * served statelessly (2026-07-28); otherwise it belongs to a legacy
 * session created by initialize. HTTP headers only cross-check the body.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "hubcore/util.h"
#include "hubcore/watch.h"
#include "mcp_internal.h"

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_LOGLEVEL "io.modelcontextprotocol/logLevel"
#define META_SERVERINFO "io.modelcontextprotocol/serverInfo"

const char *const hc_mcp_legacy_versions[] = { "2025-03-26", "2025-06-18",
					       "2025-11-25", NULL };
static const char *const modern_versions[] = { HC_MCP_MODERN_VERSION, NULL };

const char *const hc__mcp_levels[] = { "debug",    "info",  "notice",
				       "warning",  "error", "critical",
				       "alert",    "emergency", NULL };

int hc__mcp_level(const char *name)
{
	for (int i = 0; name && hc__mcp_levels[i]; i++)
		if (strcmp(hc__mcp_levels[i], name) == 0)
			return i;
	return -1;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; s && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

int hc__mcp_error(struct mcp_error *e, int code, const char *fmt, ...)
{
	va_list ap;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- responses ------------------------------------------------------------ */

static json_t *rpc_result(json_t *id, json_t *result)
{
	return json_pack("{sssOso}", "jsonrpc", "2.0", "id", id, "result",
			 result);
}

json_t *hc__mcp_error_response(json_t *id, int code, const char *message)
{
	bool known = json_is_string(id) || json_is_integer(id);
	return json_pack("{sssOs{siss}}", "jsonrpc", "2.0", "id",
			 known ? id : json_null(), "error", "code", code,
			 "message", message);
}

static json_t *rpc_error(json_t *id, struct mcp_error *e)
{
	json_t *r = hc__mcp_error_response(id, e->code, e->msg);
	if (e->data) {
		json_object_set_new(json_object_get(r, "error"), "data",
				    e->data);
		e->data = NULL;
	}
	return r;
}

/* The HTTP status of an error, as the stateless era prescribes: the
 * "ladder" errors are 400, an unknown method 404, the rest in-band. */
static int error_http(const struct mcp_error *e, bool modern)
{
	if (e->http)
		return e->http;
	switch (e->code) {
	case HC_RPC_PARSE_ERROR:
	case HC_RPC_INVALID_REQUEST:
		return 400;
	case HC_RPC_METHOD_NOT_FOUND:
		return modern ? 404 : 200;
	case HC_RPC_HEADER_MISMATCH:
	case HC_RPC_MISSING_CAPABILITY:
	case HC_RPC_UNSUPPORTED_VERSION:
		return 400;
	default:
		return 200;
	}
}

static void reply_error(struct hc_mcp_reply *reply, json_t *id,
			struct mcp_error *e, bool modern)
{
	reply->http_status = error_http(e, modern);
	reply->response = rpc_error(id, e);
}

/* ---- requestState --------------------------------------------------------- */

static void mac(struct hc_mcp_server *srv, const char *data, size_t len,
		unsigned char out[32])
{
	unsigned int n = 32;
	HMAC(EVP_sha256(), srv->state_key, sizeof(srv->state_key),
	     (const unsigned char *)data, len, out, &n);
}

/* "<base64url(subject \n state)>.<base64url(hmac)>" */
char *hc__mcp_state_sign(struct hc_mcp_server *srv, const char *subject,
			 const char *state)
{
	size_t sl = strlen(subject), tl = strlen(state);
	char *payload = malloc(sl + tl + 2), *out = NULL;
	unsigned char tag[32];
	if (!payload)
		return NULL;
	memcpy(payload, subject, sl);
	payload[sl] = '\n';
	memcpy(payload + sl + 1, state, tl + 1);
	mac(srv, payload, sl + tl + 1, tag);
	out = malloc(4 * ((sl + tl + 1) / 3 + 1) + 1 + 45);
	if (out) {
		size_t n = hc_base64url_encode(payload, sl + tl + 1, out);
		out[n++] = '.';
		hc_base64url_encode(tag, sizeof(tag), out + n);
	}
	free(payload);
	return out;
}

int hc__mcp_state_verify(struct hc_mcp_server *srv, const char *subject,
			 const char *token, char **state)
{
	const char *dot = strrchr(token, '.');
	size_t plen, sl = strlen(subject), n;
	unsigned char tag[32], want[32];
	char *payload;
	int rc = HC_EINVAL;

	*state = NULL;
	if (!dot || strlen(dot + 1) != 43)
		return HC_EINVAL;
	plen = (size_t)(dot - token);
	payload = malloc(plen + 1);
	if (!payload)
		return HC_ENOMEM;
	n = hc_base64url_decode(token, plen, payload, plen);
	if (n == (size_t)-1 ||
	    hc_base64url_decode(dot + 1, 43, tag, sizeof(tag)) != 32)
		goto out;
	payload[n] = '\0';
	mac(srv, payload, n, want);
	if (CRYPTO_memcmp(tag, want, 32) != 0)
		goto out;
	if (n < sl + 1 || memcmp(payload, subject, sl) != 0 ||
	    payload[sl] != '\n')
		goto out;
	*state = strdup(payload + sl + 1);
	rc = *state ? HC_OK : HC_ENOMEM;
out:
	free(payload);
	return rc;
}

/* ---- cursors -------------------------------------------------------------- */

void hc__mcp_cursor(size_t offset, char *out, size_t size)
{
	hc_cursor_encode((int64_t)offset, out, size);
}

int hc__mcp_uncursor(json_t *params, size_t *offset, struct mcp_error *e)
{
	json_t *c = json_object_get(params, "cursor");
	int64_t pos = 0;
	*offset = 0;
	if (!c || json_is_null(c))
		return 0;
	if (!json_is_string(c) ||
	    hc_cursor_decode(json_string_value(c), &pos, NULL) != HC_OK ||
	    pos < 0)
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: cursor is not one this "
				     "server issued");
	*offset = (size_t)pos;
	return 0;
}

/* ---- sessions --------------------------------------------------------------- */

static struct hc_mcp_session *session_alloc(void)
{
	struct hc_mcp_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->log_level = 1; /* info until the client sets a level */
	s->refs = 1;
	s->last_used = time(NULL);
	return s;
}

static void session_destroy(struct hc_mcp_session *s)
{
	struct mcp_pending *p = s->pending;
	while (p) {
		struct mcp_pending *next = p->next;
		json_decref(p->response);
		free(p);
		p = next;
	}
	if (s->stream)
		hc_pipe_close(s->stream);
	json_decref(s->subs);
	json_decref(s->client_caps);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

struct hc_mcp_session *hc_mcp_session_new_stdio(void)
{
	return session_alloc();
}

void hc_mcp_session_free(struct hc_mcp_session *s)
{
	if (s)
		hc_mcp_session_put(s);
}

void hc_mcp_session_put(struct hc_mcp_session *s)
{
	bool last;
	pthread_mutex_lock(&s->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (last)
		session_destroy(s);
}

/* Unlink a session from the server (caller holds srv->lock). */
static void session_unlink(struct hc_mcp_server *srv,
			   struct hc_mcp_session *s)
{
	for (struct hc_mcp_session **pp = &srv->sessions; *pp;
	     pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			srv->nsessions--;
			return;
		}
	}
}

static void session_end_locked(struct hc_mcp_server *srv,
			       struct hc_mcp_session *s)
{
	session_unlink(srv, s);
	pthread_mutex_lock(&s->lock);
	s->ended = true;
	if (s->stream) {
		hc_pipe_close(s->stream);
		s->stream = NULL;
	}
	pthread_cond_broadcast(&s->cond); /* wake anyone awaiting */
	pthread_mutex_unlock(&s->lock);
	hc_mcp_session_put(s);
}

static struct hc_mcp_session *session_create(struct hc_mcp_server *srv,
					     const char *owner)
{
	struct hc_mcp_session *s;
	unsigned char rnd[16];
	time_t now = time(NULL);
	if (srv->stopping)
		return NULL; /* no new sessions while shutting down */
	s = session_alloc();
	if (!s)
		return NULL;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		session_destroy(s);
		return NULL;
	}
	for (int i = 0; i < 16; i++)
		snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
	snprintf(s->owner, sizeof(s->owner), "%s", owner ? owner : "");
	pthread_mutex_lock(&srv->lock);
	if (srv->stopping) {
		pthread_mutex_unlock(&srv->lock);
		session_destroy(s);
		return NULL;
	}
	/* Forget idle sessions, and the oldest when there are too many. */
	for (struct hc_mcp_session *o = srv->sessions, *next; o; o = next) {
		next = o->next;
		if (now - o->last_used > MCP_SESSION_IDLE_S)
			session_end_locked(srv, o);
	}
	while (srv->nsessions >= MCP_MAX_SESSIONS) {
		struct hc_mcp_session *old = srv->sessions;
		for (struct hc_mcp_session *o = srv->sessions; o; o = o->next)
			if (o->last_used < old->last_used)
				old = o;
		session_end_locked(srv, old);
	}
	s->next = srv->sessions;
	srv->sessions = s;
	srv->nsessions++;
	s->refs++; /* the caller's reference */
	pthread_mutex_unlock(&srv->lock);
	return s;
}

/* A session is found by its id and only by the identity that made it
 * (a session id is not a credential). */
static bool session_is(const struct hc_mcp_session *s, const char *id,
		       const char *owner)
{
	return !s->stdio && strcmp(s->id, id) == 0 &&
	       strcmp(s->owner, owner ? owner : "") == 0;
}

struct hc_mcp_session *hc_mcp_session_get(struct hc_mcp_server *srv,
					  const char *id, const char *owner)
{
	struct hc_mcp_session *found = NULL;
	pthread_mutex_lock(&srv->lock);
	for (struct hc_mcp_session *s = srv->sessions; s; s = s->next) {
		if (session_is(s, id, owner)) {
			pthread_mutex_lock(&s->lock);
			s->refs++;
			s->last_used = time(NULL);
			pthread_mutex_unlock(&s->lock);
			found = s;
			break;
		}
	}
	pthread_mutex_unlock(&srv->lock);
	return found;
}

void hc__mcp_session_close(struct hc_mcp_session *s)
{
	pthread_mutex_lock(&s->lock);
	s->ended = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void hc__mcp_attach_session(struct hc_mcp_server *srv,
			    struct hc_mcp_session *s,
			    int (*notify)(void *ctx, json_t *msg), void *ctx)
{
	pthread_mutex_lock(&srv->lock);
	pthread_mutex_lock(&s->lock);
	s->stdio = true;
	s->notify = notify;
	s->notify_ctx = ctx;
	s->refs++; /* the server's list holds one */
	pthread_mutex_unlock(&s->lock);
	s->next = srv->sessions;
	srv->sessions = s;
	srv->nsessions++;
	pthread_mutex_unlock(&srv->lock);
}

void hc__mcp_detach_session(struct hc_mcp_server *srv,
			    struct hc_mcp_session *s)
{
	bool linked = false;
	pthread_mutex_lock(&srv->lock);
	for (struct hc_mcp_session *o = srv->sessions; o; o = o->next)
		linked = linked || o == s;
	if (linked)
		session_unlink(srv, s);
	pthread_mutex_unlock(&srv->lock);
	pthread_mutex_lock(&s->lock);
	s->notify = NULL;
	s->notify_ctx = NULL;
	pthread_mutex_unlock(&s->lock);
	if (linked)
		hc_mcp_session_put(s);
}

int hc_mcp_session_end(struct hc_mcp_server *srv, const char *id,
		       const char *owner)
{
	int rc = HC_ENOTFOUND;
	pthread_mutex_lock(&srv->lock);
	for (struct hc_mcp_session *s = srv->sessions; s; s = s->next) {
		if (session_is(s, id, owner)) {
			session_end_locked(srv, s);
			rc = HC_OK;
			break;
		}
	}
	pthread_mutex_unlock(&srv->lock);
	return rc;
}

int hc_mcp_session_deliver(struct hc_mcp_server *srv,
			   struct hc_mcp_session *s, json_t *response)
{
	json_t *id = json_object_get(response, "id");
	int rc = HC_ENOTFOUND;
	if (!json_is_string(id))
		return HC_ENOTFOUND;
	pthread_mutex_lock(&s->lock);
	for (struct mcp_pending *p = s->pending; p; p = p->next) {
		if (!p->done && strcmp(p->id, json_string_value(id)) == 0) {
			p->response = json_incref(response);
			p->done = true;
			pthread_cond_broadcast(&s->cond);
			rc = HC_OK;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Wait for the client's answer to a request sent on a session, checking
 * every few seconds that the client is still there. */
static int session_await(struct hc_mcp_server *srv, struct hc_mcp_session *s,
			 const char *id, int timeout_ms,
			 struct hc_mcp_channel *ch, json_t **response)
{
	struct mcp_pending *me = NULL;
	time_t end = time(NULL) + timeout_ms / 1000;
	int rc = HC_OK;

	pthread_mutex_lock(&s->lock);
	for (me = s->pending; me && strcmp(me->id, id) != 0; me = me->next)
		;
	while (me && !me->done && !s->ended && rc == HC_OK) {
		struct timespec slice;
		if (srv->stopping)
			break;
		clock_gettime(CLOCK_REALTIME, &slice);
		slice.tv_sec += 2;
		if (pthread_cond_timedwait(&s->cond, &s->lock, &slice) == 0)
			continue;
		if (time(NULL) >= end) {
			rc = HC_EBUSY;
			break;
		}
		if (ch && ch->alive) {
			bool alive;
			pthread_mutex_unlock(&s->lock);
			alive = ch->alive(ch);
			pthread_mutex_lock(&s->lock);
			if (!alive)
				break; /* gone: no answer will come */
		}
	}
	if (me && me->done) {
		*response = me->response;
		me->response = NULL;
		rc = HC_OK;
	} else if (rc == HC_OK) {
		rc = HC_EIO;
	}
	/* unlink the slot */
	for (struct mcp_pending **pp = &s->pending; *pp; pp = &(*pp)->next) {
		if (*pp == me) {
			*pp = me->next;
			json_decref(me->response);
			free(me);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void session_expect(struct hc_mcp_session *s, const char *id)
{
	struct mcp_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return;
	snprintf(p->id, sizeof(p->id), "%s", id);
	pthread_mutex_lock(&s->lock);
	p->next = s->pending;
	s->pending = p;
	pthread_mutex_unlock(&s->lock);
}

/* ---- the call context ------------------------------------------------------ */

struct hc_conn *hc_mcp_db(struct hc_mcp_call *call, struct hc_err *err)
{
	if (!call->db)
		call->db = hc_store_acquire(call->srv->hub->store, err);
	return call->db;
}

struct hc_hub *hc_mcp_hub(struct hc_mcp_call *call)
{
	return call->srv->hub;
}

const struct hc_mcp_tool *hc_mcp_tool_of(struct hc_mcp_call *call)
{
	return call->tool;
}

const char *hc_mcp_version(struct hc_mcp_call *call)
{
	return call->version;
}

bool hc_mcp_modern(struct hc_mcp_call *call)
{
	return call->modern;
}

bool hc_mcp_client_has(struct hc_mcp_call *call, const char *capability)
{
	return json_is_object(json_object_get(call->client_caps, capability));
}

static void send_message(struct hc_mcp_call *call, json_t *msg)
{
	if (msg && call->ch && call->ch->send)
		call->ch->send(call->ch, msg);
	json_decref(msg);
}

void hc_mcp_progress(struct hc_mcp_call *call, double progress, double total,
		     const char *message)
{
	json_t *params;
	if (!call->progress_token || progress < call->last_progress)
		return;
	call->last_progress = progress;
	params = json_pack("{sOsf}", "progressToken", call->progress_token,
			   "progress", progress);
	if (total > 0)
		json_object_set_new(params, "total", json_real(total));
	if (message)
		json_object_set_new(params, "message", json_string(message));
	/* integers stay integers on the wire */
	if (progress == (double)(json_int_t)progress)
		json_object_set_new(params, "progress",
				    json_integer((json_int_t)progress));
	if (total > 0 && total == (double)(json_int_t)total)
		json_object_set_new(params, "total",
				    json_integer((json_int_t)total));
	send_message(call, json_pack("{ssssso}", "jsonrpc", "2.0", "method",
				     "notifications/progress", "params",
				     params));
}

void hc_mcp_log(struct hc_mcp_call *call, const char *level,
		const char *message)
{
	int lv = hc__mcp_level(level);
	if (lv < 0 || call->log_level < 0 || lv < call->log_level)
		return;
	send_message(call,
		     json_pack("{sssss{ssssss}}", "jsonrpc", "2.0", "method",
			       "notifications/message", "params", "level",
			       level, "logger", call->srv->name, "data",
			       message));
}

static const char *capability_for(const char *method)
{
	if (strcmp(method, "elicitation/create") == 0)
		return "elicitation";
	if (strcmp(method, "sampling/createMessage") == 0)
		return "sampling";
	if (strcmp(method, "roots/list") == 0)
		return "roots";
	return NULL;
}

int hc_mcp_input(struct hc_mcp_call *call, const char *key,
		 const char *method, json_t *params, json_t **response,
		 struct hc_err *err)
{
	const char *cap = capability_for(method);
	char id[40];
	json_t *msg, *resp = NULL;
	int rc;

	if (!cap)
		HC_BUG("unknown input method %s", method);
	if (!hc_mcp_client_has(call, cap))
		return hc_err_set(err, HC_ECAPABILITY,
				  "the client did not declare the '%s' "
				  "capability this needs",
				  cap);
	if (call->modern) {
		json_t *r = json_object_get(call->input_responses, key);
		if (r) {
			*response = json_incref(r);
			return HC_OK;
		}
		if (!call->input_requests)
			call->input_requests = json_object();
		json_object_set_new(call->input_requests, key,
				    json_pack("{sssO}", "method", method,
					      "params", params));
		return HC_MCP_INPUT_REQUIRED;
	}
	if (!call->ch || !call->ch->send || !call->session)
		return hc_err_set(err, HC_EBADREQ,
				  "this request's channel cannot carry a "
				  "question to the client; send it with "
				  "Accept: text/event-stream");
	pthread_mutex_lock(&call->srv->lock);
	snprintf(id, sizeof(id), "foshub-%lu", ++call->srv->next_id);
	pthread_mutex_unlock(&call->srv->lock);
	session_expect(call->session, id);
	msg = json_pack("{sssssssO}", "jsonrpc", "2.0", "id", id, "method",
			method, "params", params);
	rc = msg ? call->ch->send(call->ch, msg) : HC_ENOMEM;
	json_decref(msg);
	if (rc == HC_OK)
		rc = session_await(call->srv, call->session, id, MCP_AWAIT_MS,
				   call->ch, &resp);
	if (rc != HC_OK) {
		/* drop the slot if the await never ran */
		json_t *none = NULL;
		if (rc != HC_EBUSY && rc != HC_EIO)
			session_await(call->srv, call->session, id, 0, NULL,
				      &none);
		json_decref(none);
		return hc_err_set(err, rc == HC_EBUSY ? HC_EBUSY : HC_EIO,
				  "the client did not answer the %s request",
				  method);
	}
	if (json_object_get(resp, "error")) {
		const char *m = json_string_value(json_object_get(
			json_object_get(resp, "error"), "message"));
		rc = hc_err_set(err, HC_EBADREQ,
				"the client refused the %s request: %s",
				method, m ? m : "no reason given");
		json_decref(resp);
		return rc;
	}
	*response = json_incref(json_object_get(resp, "result"));
	json_decref(resp);
	if (!json_is_object(*response)) {
		json_decref(*response);
		*response = NULL;
		return hc_err_set(err, HC_EBADREQ,
				  "the client answered %s without a result "
				  "object",
				  method);
	}
	return HC_OK;
}

const char *hc_mcp_request_state(struct hc_mcp_call *call)
{
	return call->state_in;
}

int hc_mcp_set_request_state(struct hc_mcp_call *call, const char *state)
{
	free(call->state_out);
	call->state_out = state ? strdup(state) : NULL;
	return state && !call->state_out ? HC_ENOMEM : HC_OK;
}

json_t *hc_mcp_input_responses(struct hc_mcp_call *call)
{
	return call->input_responses;
}

void hc__mcp_call_release(struct hc_mcp_call *call)
{
	if (call->db)
		hc_store_release(call->srv->hub->store, call->db);
	call->db = NULL;
	json_decref(call->input_requests);
	call->input_requests = NULL;
	free(call->state_in);
	free(call->state_out);
	call->state_in = call->state_out = NULL;
}

/* ---- methods ------------------------------------------------------------------ */

static json_t *server_info(struct hc_mcp_server *srv)
{
	return json_pack("{ssss}", "name", srv->name, "version", hc_version());
}

static json_t *capabilities(struct hc_mcp_server *srv, bool modern)
{
	json_t *caps = json_object();
	json_object_set_new(caps, "tools", json_object());
	json_object_set_new(caps, "prompts", json_object());
	json_object_set_new(caps, "resources",
			    modern ? json_object()
				   : json_pack("{sb}", "subscribe", 1));
	json_object_set_new(caps, "completions", json_object());
	json_object_set_new(caps, "logging", json_object());
	return caps;
}

static int m_initialize(struct hc_mcp_call *call, json_t *params,
			json_t **result, struct mcp_error *e)
{
	struct hc_mcp_session *s = call->session;
	const char *want =
		json_string_value(json_object_get(params, "protocolVersion"));
	json_t *caps = json_object_get(params, "capabilities");
	const char *ver;

	if (!json_is_object(params) || !want)
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: initialize needs "
				     "protocolVersion");
	/* Echo a version we speak, else offer the latest one. */
	ver = in_list(hc_mcp_legacy_versions, want) ? want : "2025-11-25";
	pthread_mutex_lock(&s->lock);
	snprintf(s->version, sizeof(s->version), "%s", ver);
	json_decref(s->client_caps);
	s->client_caps = json_is_object(caps) ? json_incref(caps)
					      : json_object();
	pthread_mutex_unlock(&s->lock);
	call->version = s->version;
	*result = json_pack("{sssoso}", "protocolVersion", ver,
			    "capabilities", capabilities(call->srv, false),
			    "serverInfo", server_info(call->srv));
	if (call->srv->def->instructions)
		json_object_set_new(*result, "instructions",
				    json_string(call->srv->def->instructions));
	return 0;
}

static int m_ping(struct hc_mcp_call *call, json_t *params, json_t **result,
		  struct mcp_error *e)
{
	*result = json_object();
	return 0;
}

static int m_set_level(struct hc_mcp_call *call, json_t *params,
		       json_t **result, struct mcp_error *e)
{
	int lv = hc__mcp_level(
		json_string_value(json_object_get(params, "level")));
	if (lv < 0)
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: level must be one of "
				     "debug, info, notice, warning, error, "
				     "critical, alert, emergency");
	pthread_mutex_lock(&call->session->lock);
	call->session->log_level = lv;
	pthread_mutex_unlock(&call->session->lock);
	*result = json_object();
	return 0;
}

/* The hash of a resource's contents, to tell when it changed. */
static char *contents_hash(json_t *contents)
{
	char *text = hc_json_dump(contents, NULL), *out;
	uint64_t h = 1469598103934665603ull;
	if (!text)
		return NULL;
	for (const char *p = text; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	free(text);
	out = malloc(17);
	if (out)
		snprintf(out, 17, "%016llx", (unsigned long long)h);
	return out;
}

/* Subscribe to a resource that exists; its updates go to the session's
 * GET stream. */
static int m_subscribe(struct hc_mcp_call *call, json_t *params,
		       json_t **result, struct mcp_error *e)
{
	const char *uri = json_string_value(json_object_get(params, "uri"));
	struct hc_mcp_session *s = call->session;
	struct hc_err err = { 0 };
	json_t *contents = NULL;
	char *hash;
	int rc;
	if (!uri)
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: uri is required");
	rc = hc__mcp_read(call, uri, &contents, &err);
	if (rc == HC_ENOTFOUND) {
		hc__mcp_error(e, HC_RPC_RESOURCE_NOT_FOUND,
			      "Resource not found: %s", uri);
		e->data = json_pack("{ss}", "uri", uri);
		return -1;
	}
	if (rc != HC_OK)
		return hc__mcp_error(e, HC_RPC_INTERNAL_ERROR, "%s", err.msg);
	hash = contents_hash(contents);
	json_decref(contents);
	pthread_mutex_lock(&s->lock);
	if (!s->subs)
		s->subs = json_object();
	if (json_object_size(s->subs) >= 1000 &&
	    !json_object_get(s->subs, uri)) {
		pthread_mutex_unlock(&s->lock);
		free(hash);
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: a session may subscribe "
				     "to at most 1000 resources");
	}
	json_object_set_new(s->subs, uri, json_string(hash ? hash : ""));
	pthread_mutex_unlock(&s->lock);
	free(hash);
	*result = json_object();
	return 0;
}

static int m_unsubscribe(struct hc_mcp_call *call, json_t *params,
			 json_t **result, struct mcp_error *e)
{
	const char *uri = json_string_value(json_object_get(params, "uri"));
	if (!uri)
		return hc__mcp_error(e, HC_RPC_INVALID_PARAMS,
				     "Invalid params: uri is required");
	pthread_mutex_lock(&call->session->lock);
	json_object_del(call->session->subs, uri);
	pthread_mutex_unlock(&call->session->lock);
	*result = json_object();
	return 0;
}

/* After a change to the database: tell each session whose subscribed
 * resources now read differently, on its stream. */
static void on_change(void *ctx, uint64_t seq)
{
	struct hc_mcp_server *srv = ctx;
	struct hc_mcp_session **list;
	size_t n = 0;

	pthread_mutex_lock(&srv->lock);
	list = calloc(srv->nsessions + 1, sizeof(*list));
	for (struct hc_mcp_session *s = srv->sessions; s && list;
	     s = s->next) {
		pthread_mutex_lock(&s->lock);
		if (s->subs && json_object_size(s->subs) &&
		    (s->stream || s->notify)) {
			s->refs++;
			list[n++] = s;
		}
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	for (size_t i = 0; i < n; i++) {
		struct hc_mcp_session *s = list[i];
		struct hc_mcp_call call = { .srv = srv, .session = s,
					    .version = "2025-11-25" };
		json_t *uris;
		const char *uri;
		json_t *old;
		pthread_mutex_lock(&s->lock);
		uris = json_deep_copy(s->subs);
		pthread_mutex_unlock(&s->lock);
		json_object_foreach(uris, uri, old)
		{
			struct hc_err err = { 0 };
			json_t *contents = NULL;
			char *hash = NULL;
			if (hc__mcp_read(&call, uri, &contents, &err) == HC_OK)
				hash = contents_hash(contents);
			json_decref(contents);
			if (hash && strcmp(hash, json_string_value(old)) != 0) {
				json_t *note = json_pack(
					"{sssss{ss}}", "jsonrpc", "2.0",
					"method",
					"notifications/resources/updated",
					"params", "uri", uri);
				char *text = hc_json_dump(note, NULL);
				pthread_mutex_lock(&s->lock);
				json_object_set_new(s->subs, uri,
						    json_string(hash));
				if (s->stream && text) {
					hc_pipe_write(s->stream,
						      "event: message\ndata: ",
						      21);
					hc_pipe_write(s->stream, text,
						      strlen(text));
					hc_pipe_write(s->stream, "\n\n", 2);
				} else if (s->notify) {
					s->notify(s->notify_ctx, note);
				}
				pthread_mutex_unlock(&s->lock);
				free(text);
				json_decref(note);
			}
			free(hash);
		}
		json_decref(uris);
		hc__mcp_call_release(&call);
		hc_mcp_session_put(s);
	}
	free(list);
	(void)seq;
}

static int m_discover(struct hc_mcp_call *call, json_t *params,
		      json_t **result, struct mcp_error *e)
{
	json_t *versions = json_array();
	for (const char *const *v = modern_versions; *v; v++)
		json_array_append_new(versions, json_string(*v));
	*result = json_pack("{sosososisss{so}}", "supportedVersions", versions,
			    "capabilities", capabilities(call->srv, true),
			    "serverInfo", server_info(call->srv), "ttlMs", 0,
			    "cacheScope", "public", "_meta", META_SERVERINFO,
			    server_info(call->srv));
	if (call->srv->def->instructions)
		json_object_set_new(*result, "instructions",
				    json_string(call->srv->def->instructions));
	return 0;
}

enum { ERA_LEGACY = 1, ERA_MODERN = 2, ERA_BOTH = 3 };

struct method {
	const char *name;
	unsigned eras;
	bool cacheable; /* modern: carries ttlMs and cacheScope */
	mcp_method_fn *fn;
};

static const struct method methods[] = {
	{ "initialize", ERA_LEGACY, false, m_initialize },
	{ "ping", ERA_LEGACY, false, m_ping },
	{ "logging/setLevel", ERA_LEGACY, false, m_set_level },
	{ "resources/subscribe", ERA_LEGACY, false, m_subscribe },
	{ "resources/unsubscribe", ERA_LEGACY, false, m_unsubscribe },
	{ "server/discover", ERA_MODERN, false, m_discover },
	{ "tools/list", ERA_BOTH, true, hc__mcp_tools_list },
	{ "tools/call", ERA_BOTH, false, hc__mcp_tools_call },
	{ "prompts/list", ERA_BOTH, true, hc__mcp_prompts_list },
	{ "prompts/get", ERA_BOTH, false, hc__mcp_prompts_get },
	{ "resources/list", ERA_BOTH, true, hc__mcp_resources_list },
	{ "resources/templates/list", ERA_BOTH, true, hc__mcp_templates_list },
	{ "resources/read", ERA_BOTH, true, hc__mcp_resources_read },
	{ "completion/complete", ERA_BOTH, false, hc__mcp_complete },
};

static const struct method *find_method(const char *name, unsigned era)
{
	for (size_t i = 0; i < HC_COUNT(methods); i++)
		if (strcmp(methods[i].name, name) == 0 &&
		    (methods[i].eras & era))
			return &methods[i];
	return NULL;
}

/* Run a method; wrap the result for the era. */
static void dispatch(struct hc_mcp_call *call, const struct method *m,
		     json_t *id, json_t *params, struct hc_mcp_reply *reply)
{
	struct mcp_error e = { 0 };
	json_t *result = NULL;

	if (m->fn(call, params, &result, &e) != 0 || !result) {
		if (!e.code)
			hc__mcp_error(&e, HC_RPC_INTERNAL_ERROR,
				      "Internal error");
		json_decref(result);
		reply_error(reply, id, &e, call->modern);
		return;
	}
	if (call->modern) {
		if (!json_object_get(result, "resultType"))
			json_object_set_new(result, "resultType",
					    json_string("complete"));
		if (m->cacheable && !json_object_get(result, "ttlMs")) {
			json_object_set_new(result, "ttlMs", json_integer(0));
			json_object_set_new(result, "cacheScope",
					    json_string("public"));
		}
	}
	reply->response = rpc_result(id, result);
	reply->http_status = 200;
}

/* A header value: trimmed, and the "=?base64?...?=" form decoded. */
static char *header_value(const char *v)
{
	struct hc_slice s = hc_slice_trim(hc_slice_from(v, strlen(v)));
	if (s.len > 12 && memcmp(s.ptr, "=?base64?", 9) == 0 &&
	    memcmp(s.ptr + s.len - 2, "?=", 2) == 0) {
		size_t n = s.len - 11, len;
		char *b = hc_slice_dup(hc_slice_from(s.ptr + 9, n)), *out;
		if (!b)
			return NULL;
		/* standard base64 to base64url, no padding */
		for (size_t i = 0; i < n; i++)
			b[i] = b[i] == '+' ? '-' : b[i] == '/' ? '_' : b[i];
		while (n && b[n - 1] == '=')
			n--;
		out = malloc(n + 1);
		len = out ? hc_base64url_decode(b, n, out, n) : (size_t)-1;
		free(b);
		if (len == (size_t)-1 || memchr(out, '\0', len)) {
			free(out);
			return NULL;
		}
		out[len] = '\0';
		return out;
	}
	return hc_slice_dup(s);
}

static bool header_is(const char *header, const char *want)
{
	char *v = header_value(header);
	bool eq = v && want && strcmp(v, want) == 0;
	free(v);
	return eq;
}

/* A version header that names the stateless era: a date no earlier. */
static bool modern_header(const char *header)
{
	char *v = header ? header_value(header) : NULL;
	bool modern = v && hc_is_date(v) &&
		      strcmp(v, HC_MCP_MODERN_VERSION) >= 0;
	free(v);
	return modern;
}

static bool header_in_list(const char *header)
{
	char *v = header_value(header);
	bool in = v && in_list(hc_mcp_legacy_versions, v);
	free(v);
	return in;
}

/* The stateless era. */
static void handle_modern(struct hc_mcp_server *srv, json_t *msg,
			  const char *method, json_t *id, json_t *params,
			  const struct hc_mcp_headers *h,
			  struct hc_mcp_channel *ch, struct hc_mcp_reply *reply)
{
	json_t *meta = json_object_get(params, "_meta");
	json_t *claim = json_object_get(meta, META_VERSION);
	json_t *caps = json_object_get(meta, META_CAPS);
	struct hc_mcp_call call = { 0 };
	struct mcp_error e = { 0 };
	const struct method *m;
	const char *claimed;

	if (!json_is_string(claim) || !json_is_object(caps)) {
		hc__mcp_error(&e, HC_RPC_INVALID_PARAMS,
			      "Invalid params: a request must carry _meta "
			      "keys %s (string) and %s (object)",
			      META_VERSION, META_CAPS);
		e.http = 400;
		goto error;
	}
	claimed = json_string_value(claim);
	if (h->http && h->protocol_version &&
	    !header_is(h->protocol_version, claimed)) {
		hc__mcp_error(&e, HC_RPC_HEADER_MISMATCH,
			      "Header mismatch: MCP-Protocol-Version header "
			      "does not match _meta protocolVersion '%s'",
			      claimed);
		goto error;
	}
	if (h->http && h->method && !header_is(h->method, method)) {
		hc__mcp_error(&e, HC_RPC_HEADER_MISMATCH,
			      "Header mismatch: Mcp-Method header does not "
			      "match the body's method '%s'",
			      method);
		goto error;
	}
	if (!in_list(modern_versions, claimed)) {
		json_t *sup = json_array();
		for (const char *const *v = modern_versions; *v; v++)
			json_array_append_new(sup, json_string(*v));
		hc__mcp_error(&e, HC_RPC_UNSUPPORTED_VERSION,
			      "Unsupported protocol version");
		e.data = json_pack("{sosO}", "supported", sup, "requested",
				   claim);
		goto error;
	}
	if (h->http) {
		const char *name_key =
			strcmp(method, "resources/read") == 0 ? "uri" : "name";
		bool named = strcmp(method, "tools/call") == 0 ||
			     strcmp(method, "prompts/get") == 0 ||
			     strcmp(method, "resources/read") == 0;
		if (!h->protocol_version || !h->method) {
			hc__mcp_error(&e, HC_RPC_HEADER_MISMATCH,
				      "Header mismatch: %s header is required",
				      h->protocol_version ? "Mcp-Method"
							  : "MCP-Protocol-"
							    "Version");
			goto error;
		}
		if (named && (!h->name ||
			      !header_is(h->name,
					 json_string_value(json_object_get(
						 params, name_key))))) {
			hc__mcp_error(&e, HC_RPC_HEADER_MISMATCH,
				      "Header mismatch: Mcp-Name header %s "
				      "the body's %s",
				      h->name ? "does not match" : "must give",
				      name_key);
			goto error;
		}
	}
	if (!id) {
		/* notifications (notifications/cancelled on stdio) */
		reply->http_status = 202;
		return;
	}
	m = find_method(method, ERA_MODERN);
	if (!m) {
		hc__mcp_error(&e, HC_RPC_METHOD_NOT_FOUND,
			      "Method not found: %s", method);
		goto error;
	}
	{
		json_t *lv = json_object_get(meta, META_LOGLEVEL);
		if (lv && hc__mcp_level(json_string_value(lv)) < 0) {
			hc__mcp_error(&e, HC_RPC_INVALID_PARAMS,
				      "Invalid params: _meta %s must be one "
				      "of debug, info, notice, warning, "
				      "error, critical, alert, emergency",
				      META_LOGLEVEL);
			e.http = 400;
			goto error;
		}
	}
	call.srv = srv;
	call.ch = ch;
	call.modern = true;
	call.checked = h->checked;
	call.level = h->level;
	call.version = claimed;
	call.client_caps = caps;
	call.log_level = hc__mcp_level(
		json_string_value(json_object_get(meta, META_LOGLEVEL)));
	call.progress_token = json_object_get(meta, "progressToken");
	dispatch(&call, m, id, params, reply);
	hc__mcp_call_release(&call);
	return;
error:
	reply_error(reply, id, &e, true);
}

/* The session era. */
static void handle_legacy(struct hc_mcp_server *srv, json_t *msg,
			  const char *method, json_t *id, json_t *params,
			  const struct hc_mcp_headers *h,
			  struct hc_mcp_channel *ch, struct hc_mcp_reply *reply)
{
	struct hc_mcp_session *s = NULL;
	struct hc_mcp_call call = { 0 };
	struct mcp_error e = { 0 };
	bool initialize = strcmp(method, "initialize") == 0;
	const struct method *m;

	if (h->http) {
		if (initialize) {
			if (modern_header(h->protocol_version)) {
				hc__mcp_error(&e, HC_RPC_HEADER_MISMATCH,
					      "Header mismatch: initialize "
					      "is not a method of protocol "
					      "version %s",
					      h->protocol_version);
				goto error;
			}
			s = session_create(srv, h->subject);
			if (!s) {
				hc__mcp_error(&e, HC_RPC_INTERNAL_ERROR,
					      "no session can be created now "
					      "(the server is stopping)");
				e.http = 503;
				goto error;
			}
		} else {
			if (!h->session_id) {
				hc__mcp_error(&e, HC_RPC_INVALID_REQUEST,
					      "Bad Request: Mcp-Session-Id "
					      "header is required (send "
					      "initialize first)");
				e.http = 400;
				goto error;
			}
			s = hc_mcp_session_get(srv, h->session_id,
					       h->subject);
			if (!s) {
				hc__mcp_error(&e, HC_RPC_INVALID_REQUEST,
					      "Session not found");
				e.http = 404;
				goto error;
			}
			if (h->protocol_version &&
			    !header_in_list(h->protocol_version)) {
				hc__mcp_error(&e, HC_RPC_INVALID_REQUEST,
					      "Bad Request: unsupported "
					      "MCP-Protocol-Version '%s'",
					      h->protocol_version);
				e.http = 400;
				goto error;
			}
		}
	} else {
		s = ch->session;
		pthread_mutex_lock(&s->lock);
		s->refs++;
		pthread_mutex_unlock(&s->lock);
	}
	if (!id) {
		if (strcmp(method, "notifications/initialized") == 0) {
			pthread_mutex_lock(&s->lock);
			s->initialized = true;
			pthread_mutex_unlock(&s->lock);
		}
		reply->http_status = 202;
		hc_mcp_session_put(s);
		return;
	}
	if (!initialize && !s->version[0] && strcmp(method, "ping") != 0) {
		hc__mcp_error(&e, HC_RPC_INVALID_REQUEST,
			      "Invalid Request: send initialize first");
		goto error;
	}
	m = find_method(method, ERA_LEGACY);
	if (!m) {
		hc__mcp_error(&e, HC_RPC_METHOD_NOT_FOUND,
			      "Method not found: %s", method);
		goto error;
	}
	call.srv = srv;
	call.ch = ch;
	call.session = s;
	call.checked = h->checked;
	call.level = h->level;
	call.version = s->version[0] ? s->version : "2025-03-26";
	call.client_caps = s->client_caps;
	pthread_mutex_lock(&s->lock);
	call.log_level = s->log_level;
	pthread_mutex_unlock(&s->lock);
	call.progress_token =
		json_object_get(json_object_get(params, "_meta"),
				"progressToken");
	dispatch(&call, m, id, params, reply);
	hc__mcp_call_release(&call);
	if (initialize && h->http && reply->response &&
	    json_object_get(reply->response, "result"))
		reply->session_id = strdup(s->id);
	else if (initialize && h->http) {
		pthread_mutex_lock(&srv->lock);
		session_end_locked(srv, s); /* a failed initialize */
		pthread_mutex_unlock(&srv->lock);
	}
	hc_mcp_session_put(s);
	return;
error:
	if (s)
		hc_mcp_session_put(s);
	reply_error(reply, id, &e, false);
}


void hc_mcp_handle(struct hc_mcp_server *srv, json_t *msg,
		   const struct hc_mcp_headers *h, struct hc_mcp_channel *ch,
		   struct hc_mcp_reply *reply)
{
	struct mcp_error e = { 0 };
	json_t *id, *params, *meta;
	const char *method;

	memset(reply, 0, sizeof(*reply));
	if (json_is_array(msg)) {
		hc__mcp_error(&e, HC_RPC_INVALID_REQUEST,
			      "Invalid Request: JSON-RPC batches are not "
			      "supported since protocol version 2025-06-18");
		reply_error(reply, NULL, &e, false);
		reply->http_status = 400;
		return;
	}
	id = json_object_get(msg, "id");
	if (!json_is_object(msg) ||
	    !json_is_string(json_object_get(msg, "jsonrpc")) ||
	    strcmp(json_string_value(json_object_get(msg, "jsonrpc")), "2.0") ||
	    (id && !json_is_string(id) && !json_is_integer(id))) {
		hc__mcp_error(&e, HC_RPC_INVALID_REQUEST,
			      "Invalid Request: not a JSON-RPC 2.0 message "
			      "with a string or integer id");
		reply_error(reply, id, &e, false);
		reply->http_status = 400;
		return;
	}
	method = json_string_value(json_object_get(msg, "method"));
	if (!method) {
		/* A response: the client answering a request of ours. */
		struct hc_mcp_session *s = NULL;
		if (id && (json_object_get(msg, "result") ||
			   json_object_get(msg, "error"))) {
			s = h->http && h->session_id
				    ? hc_mcp_session_get(srv, h->session_id,
							 h->subject)
				    : ch->session;
			if (s && hc_mcp_session_deliver(srv, s, msg) == HC_OK) {
				reply->http_status = 202;
				if (h->http)
					hc_mcp_session_put(s);
				return;
			}
			if (s && h->http)
				hc_mcp_session_put(s);
		}
		hc__mcp_error(&e, HC_RPC_INVALID_REQUEST,
			      "Invalid Request: no method, and not an answer "
			      "to a pending request");
		reply_error(reply, id, &e, false);
		reply->http_status = 400;
		return;
	}
	params = json_object_get(msg, "params");
	if (params && !json_is_object(params)) {
		hc__mcp_error(&e, HC_RPC_INVALID_PARAMS,
			      "Invalid params: params must be an object");
		reply_error(reply, id, &e, false);
		if (!id)
			reply->http_status = 400;
		return;
	}
	meta = json_object_get(params, "_meta");
	if (json_object_get(meta, META_VERSION)) {
		handle_modern(srv, msg, method, id, params, h, ch, reply);
	} else if (h->http && modern_header(h->protocol_version)) {
		if (!id) {
			reply->http_status = 202;
			return;
		}
		hc__mcp_error(&e, HC_RPC_INVALID_PARAMS,
			      "Invalid params: missing required _meta keys "
			      "%s and %s",
			      META_VERSION, META_CAPS);
		e.http = 400;
		reply_error(reply, id, &e, true);
	} else {
		handle_legacy(srv, msg, method, id, params, h, ch, reply);
	}
}

void hc_mcp_reply_release(struct hc_mcp_reply *reply)
{
	json_decref(reply->response);
	free(reply->session_id);
	memset(reply, 0, sizeof(*reply));
}

bool hc_mcp_wants_stream(struct hc_mcp_server *srv, json_t *msg)
{
	const char *method = json_string_value(json_object_get(msg, "method"));
	const struct hc_mcp_tool *t;
	if (!method || strcmp(method, "tools/call") != 0)
		return false;
	t = hc__mcp_tool(srv, json_string_value(json_object_get(
				      json_object_get(msg, "params"), "name")));
	return t && (t->flags & HC_MCP_STREAMS);
}

/* ---- lifecycle -------------------------------------------------------------- */

int hc_mcp_server_new(struct hc_mcp_server **out, struct hc_hub *hub,
		      const struct hc_mcp_def *def,
		      const struct hc_mcp_options *opt, struct hc_err *err)
{
	struct hc_mcp_server *srv = calloc(1, sizeof(*srv));
	int rc;
	if (!srv)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	srv->hub = hub;
	srv->def = def;
	if (opt)
		srv->opt = *opt;
	srv->name = strdup(srv->opt.server_name ? srv->opt.server_name
						: hub->def->name);
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->idle, NULL);
	if (getrandom(srv->state_key, sizeof(srv->state_key), 0) !=
	    (ssize_t)sizeof(srv->state_key)) {
		hc_mcp_server_free(srv);
		return hc_err_set(err, HC_EIO, "no randomness for keys");
	}
	rc = srv->name ? hc__mcp_tools_init(srv, err) : HC_ENOMEM;
	if (rc == HC_OK)
		rc = hc__mcp_catalog_init(srv, err);
	if (rc == HC_OK) {
		/* resource subscriptions follow the database */
		struct hc_watch *w = hc_hub_watch(hub, err);
		srv->watch_id = w ? hc_watch_listen(w, on_change, srv) : 0;
		if (!srv->watch_id)
			rc = err && err->status ? err->status : HC_EIO;
	}
	if (rc != HC_OK) {
		hc_mcp_server_free(srv);
		return rc;
	}
	*out = srv;
	return HC_OK;
}

bool hc__mcp_begin_async(struct hc_mcp_server *srv)
{
	bool ok;
	pthread_mutex_lock(&srv->lock);
	/* bounded: each waits on a client that may never answer */
	ok = !srv->stopping && srv->active < MCP_MAX_ASYNC;
	if (ok)
		srv->active++;
	pthread_mutex_unlock(&srv->lock);
	return ok;
}

void hc__mcp_end_async(struct hc_mcp_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	if (--srv->active == 0)
		pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
}

void hc_mcp_server_shutdown(struct hc_mcp_server *srv)
{
	if (!srv)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->stopping = true;
	/* ending a session closes its stream and wakes whoever awaits an
	 * answer on it */
	while (srv->sessions)
		session_end_locked(srv, srv->sessions);
	pthread_mutex_unlock(&srv->lock);
}

/* Stop, then wait for the requests running on their own threads. */
void hc_mcp_server_free(struct hc_mcp_server *srv)
{
	if (!srv)
		return;
	if (srv->watch_id)
		hc_watch_unlisten(srv->hub->watch, srv->watch_id);
	hc_mcp_server_shutdown(srv);
	pthread_mutex_lock(&srv->lock);
	while (srv->active > 0)
		pthread_cond_wait(&srv->idle, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	hc__mcp_tools_free(srv);
	hc__mcp_catalog_free(srv);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->idle);
	free(srv->name);
	free(srv);
}
