/*
 * mcp_internal.h - what the files of hubcore/mcp/ share: the server, the
 * sessions of the legacy era, and the context of one request.
 */
#ifndef HUBCORE_MCP_INTERNAL_H
#define HUBCORE_MCP_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "hubcore/hub.h"
#include "hubcore/mcp.h"

#define MCP_PAGE 100            /* items per tools/prompts/resources page */
#define MCP_AWAIT_MS (120 * 1000) /* how long a client may take to answer */
#define MCP_MAX_SESSIONS 4096
#define MCP_MAX_ASYNC 64        /* streaming calls running at once */
#define MCP_SESSION_IDLE_S (24 * 3600)

/* Log levels of RFC 5424 as MCP names them, least severe first. */
extern const char *const hc__mcp_levels[]; /* NULL-terminated */
int hc__mcp_level(const char *name); /* -1 when unknown */

struct mcp_pending {
	char id[40];
	json_t *response; /* the client's answer, once it came */
	bool done;
	struct mcp_pending *next;
};

struct hc_mcp_session {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char id[40];
	char version[16];
	bool initialized;
	bool ended;
	int log_level;       /* index into hc__mcp_levels */
	json_t *client_caps; /* from initialize */
	int refs;
	time_t last_used;
	struct mcp_pending *pending;
	struct hc_pipe *stream; /* the GET stream, or NULL */
	json_t *subs;           /* subscribed URIs -> hash of their content */
	bool stdio;             /* the process's own session: never found
				   by id over HTTP */
	char owner[256];        /* the sub of the identity that made it
				   ("" without identity checks): only that
				   identity finds it again */
	/* stdio: where notifications of the session go (under lock) */
	int (*notify)(void *ctx, json_t *msg);
	void *notify_ctx;
	struct hc_mcp_session *next;
};

struct hc_mcp_server {
	struct hc_hub *hub;
	const struct hc_mcp_def *def;
	struct hc_mcp_options opt;
	char *name;

	const struct hc_mcp_tool **tools; /* served, in list order */
	json_t **tool_json;               /* their Tool objects */
	size_t ntools;
	const struct hc_mcp_prompt **prompts;
	size_t nprompts;
	const struct hc_mcp_resource_family **families;
	size_t nfamilies;

	unsigned char state_key[32]; /* signs requestState */

	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct hc_mcp_session *sessions;
	size_t nsessions;
	unsigned long next_id;
	int active; /* requests running on their own threads */
	int watch_id; /* our listener on the hub's watch, or 0 */
	_Atomic bool stopping;
};

/* A stdio session joins the server's sessions, so that changes reach its
 * subscriptions (notify writes to stdout); detach before its transport
 * goes away. */
void hc__mcp_attach_session(struct hc_mcp_server *srv,
			    struct hc_mcp_session *s,
			    int (*notify)(void *ctx, json_t *msg), void *ctx);
void hc__mcp_detach_session(struct hc_mcp_server *srv,
			    struct hc_mcp_session *s);

/* No answer can come any more (stdin closed): wake those who wait. */
void hc__mcp_session_close(struct hc_mcp_session *s);

/* Count a request that runs on its own thread, so that freeing the server
 * waits for it; false when the server is stopping. */
bool hc__mcp_begin_async(struct hc_mcp_server *srv);
void hc__mcp_end_async(struct hc_mcp_server *srv);

/* A JSON-RPC error being built. */
struct mcp_error {
	int code;
	int http; /* 0 = the era's default */
	char msg[512];
	json_t *data; /* owned */
};

/* The context of one request (and of one tool call or prompt in it). */
struct hc_mcp_call {
	struct hc_mcp_server *srv;
	struct hc_mcp_channel *ch;
	struct hc_mcp_session *session; /* legacy era */
	bool modern;
	const char *version;
	json_t *client_caps;    /* borrowed */
	int log_level;          /* -1: no log messages */
	json_t *progress_token; /* borrowed, or NULL */
	double last_progress;
	const struct hc_mcp_tool *tool;
	const char *state_subject; /* "tool:x" / "prompt:y", for state */
	json_t *input_responses; /* borrowed */
	json_t *input_requests;  /* owned, gathered while the tool runs */
	char *state_in;
	char *state_out;
	struct hc_conn *db;
	/* identity checks: the caller's permission (HTTP with auth on) */
	bool checked;
	enum hc_scope level;
};

int hc__mcp_error(struct mcp_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * A JSON-RPC error response (new reference). Its id is the request's when
 * that could be read (a string or an integer), else null, as JSON-RPC 2.0
 * requires of a parse error or an invalid request.
 */
json_t *hc__mcp_error_response(json_t *id, int code, const char *message);

/* Method handlers: fill *result (new reference) or e. */
typedef int mcp_method_fn(struct hc_mcp_call *call, json_t *params,
			  json_t **result, struct mcp_error *e);

mcp_method_fn hc__mcp_tools_list;
mcp_method_fn hc__mcp_tools_call;
mcp_method_fn hc__mcp_prompts_list;
mcp_method_fn hc__mcp_prompts_get;
mcp_method_fn hc__mcp_resources_list;
mcp_method_fn hc__mcp_templates_list;
mcp_method_fn hc__mcp_resources_read;
mcp_method_fn hc__mcp_complete;

/* Build the served tool list and its JSON (tools.c). */
int hc__mcp_tools_init(struct hc_mcp_server *srv, struct hc_err *err);
void hc__mcp_tools_free(struct hc_mcp_server *srv);
/* The served tool by name, or NULL. */
const struct hc_mcp_tool *hc__mcp_tool(struct hc_mcp_server *srv,
				       const char *name);
/* Read a resource by URI through the families; HC_ENOTFOUND when none
 * knows it. */
int hc__mcp_read(struct hc_mcp_call *call, const char *uri, json_t **contents,
		 struct hc_err *err);

/* Prompts and resource families, including fixtures (resources.c). */
int hc__mcp_catalog_init(struct hc_mcp_server *srv, struct hc_err *err);
void hc__mcp_catalog_free(struct hc_mcp_server *srv);

/* Stateless rounds (tools.c): take inputResponses and verify requestState
 * before a tool or prompt runs; build the input_required result after. */
int hc__mcp_begin_rounds(struct hc_mcp_call *call, json_t *params,
			 struct mcp_error *e);
json_t *hc__mcp_input_required(struct hc_mcp_call *call);

/* Release what a call acquired (connection, gathered input, state). */
void hc__mcp_call_release(struct hc_mcp_call *call);

/* requestState: sign and verify (server.c). */
char *hc__mcp_state_sign(struct hc_mcp_server *srv, const char *subject,
			 const char *state);
int hc__mcp_state_verify(struct hc_mcp_server *srv, const char *subject,
			 const char *token, char **state);

/* An opaque offset cursor for the lists of this server. */
void hc__mcp_cursor(size_t offset, char *out, size_t size);
int hc__mcp_uncursor(json_t *params, size_t *offset, struct mcp_error *e);

/* The conformance fixtures (fixtures.c). */
extern const struct hc_mcp_tool_table hc__mcp_fixture_tools;
extern const struct hc_mcp_prompt hc__mcp_fixture_prompts[];
extern const size_t hc__mcp_fixture_nprompts;
extern const struct hc_mcp_resource_family hc__mcp_fixture_resources[];
extern const size_t hc__mcp_fixture_nresources;

#endif
