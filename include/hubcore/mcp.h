/*
 * hubcore/mcp.h - the Model Context Protocol server every hub has.
 *
 * One server speaks both protocol eras on one endpoint ("dual-era"): the
 * session-based revisions 2025-03-26, 2025-06-18 and 2025-11-25 (initialize,
 * sessions, server-to-client requests) and the stateless revision 2026-07-28
 * (server/discover, per-request _meta, input_required results). The era of
 * each message is decided by its body: a request whose params._meta carries
 * io.modelcontextprotocol/protocolVersion is modern, anything else belongs
 * to a legacy session. Transports (stdio, Streamable HTTP) only frame
 * messages and add the HTTP-level checks.
 *
 * Tools, prompts and resources are const tables whose entries carry their
 * policy (scope, read-only, tier). A tool's input schema is generated from
 * its parameter table or its resource descriptor, and the same table
 * validates the arguments, so what tools/list promises is what tools/call
 * enforces. Tools call the hubs' service functions: there is one
 * implementation of each operation for REST and MCP.
 */
#ifndef HUBCORE_MCP_H
#define HUBCORE_MCP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hubcore/http.h"
#include "hubcore/resource.h"
#include "hubcore/status.h"

struct hc_hub;
struct hc_conn;
struct hc_mcp_server;
struct hc_mcp_call;

/* Protocol revisions, oldest first. */
#define HC_MCP_MODERN_VERSION "2026-07-28"
extern const char *const hc_mcp_legacy_versions[]; /* NULL-terminated */

/* JSON-RPC and MCP error codes. */
enum {
	HC_RPC_PARSE_ERROR = -32700,
	HC_RPC_INVALID_REQUEST = -32600,
	HC_RPC_METHOD_NOT_FOUND = -32601,
	HC_RPC_INVALID_PARAMS = -32602,
	HC_RPC_INTERNAL_ERROR = -32603,
	HC_RPC_RESOURCE_NOT_FOUND = -32002, /* legacy era only */
	HC_RPC_HEADER_MISMATCH = -32020,
	HC_RPC_MISSING_CAPABILITY = -32021,
	HC_RPC_UNSUPPORTED_VERSION = -32022,
};

/* ---- tools -------------------------------------------------------------- */

enum hc_mcp_tool_flag {
	HC_MCP_READONLY = 1u << 0,    /* annotations.readOnlyHint */
	HC_MCP_DESTRUCTIVE = 1u << 1, /* annotations.destructiveHint */
	HC_MCP_IDEMPOTENT = 1u << 2,  /* annotations.idempotentHint */
	HC_MCP_OPEN_WORLD = 1u << 3,  /* annotations.openWorldHint */
	HC_MCP_STREAMS = 1u << 4,     /* may send progress, logs or input
					 requests while it runs */
	HC_MCP_RAW_RESULT = 1u << 5,  /* returns a whole CallToolResult, not
					 structured content */
	HC_MCP_LEGACY_ONLY = 1u << 6, /* listed in the session era only */
	HC_MCP_MODERN_ONLY = 1u << 7, /* listed in the stateless era only */
};

/* Tool sets for clients with small context windows. */
enum hc_mcp_tier {
	HC_MCP_TIER_CORE = 1u << 0, /* the essentials: orientation, messages,
				       claiming and updating tasks */
	HC_MCP_TIER_FULL = 1u << 1, /* everything */
};

/* What a generic resource tool does with its resource. */
enum hc_mcp_op {
	HC_MCP_OP_NONE,
	HC_MCP_OP_LIST,   /* filters + limit + cursor -> {items, next_cursor} */
	HC_MCP_OP_GET,    /* id -> row */
	HC_MCP_OP_CREATE, /* fields -> row */
	HC_MCP_OP_UPDATE, /* id + fields -> row */
};

/*
 * A tool function. args is the validated arguments object (never NULL).
 * On success *out is a new reference: the structured content (an object),
 * or with HC_MCP_RAW_RESULT the whole CallToolResult. Returning an error
 * status makes a tool execution error (isError) whose text is err's
 * message; HC_MCP_INPUT_REQUIRED (see hc_mcp_input) asks the client for
 * input first.
 */
typedef int hc_mcp_tool_fn(struct hc_mcp_call *call, json_t *args,
			   json_t **out, struct hc_err *err);

struct hc_mcp_tool {
	const char *name; /* 1-64 characters of [A-Za-z0-9_./-] */
	const char *title;
	const char *description; /* tells an agent when to use it */
	hc_mcp_tool_fn *fn;
	/* The parameters, described like resource fields (type, required,
	 * enum values, doc): they make the input schema and validate the
	 * arguments. */
	const struct hc_field *params;
	size_t nparams;
	/* Generic resource tools: the resource, and what to do with it. With
	 * OP_CREATE/OP_UPDATE the parameters are the writable fields. */
	const struct hc_resource *resource;
	enum hc_mcp_op op;
	/* A verbatim input schema (JSON text) instead of params; arguments
	 * are then passed through unchecked. */
	const char *input_schema;
	/* The output schema (JSON text) of the structured content, or NULL
	 * (generated for resource tools). */
	const char *output_schema;
	unsigned flags;
	unsigned tiers;       /* HC_MCP_TIER_*; 0 = full only */
	enum hc_scope scope;  /* who may call it once identity is on */
	const char *client_capability; /* one the client must declare */
	const void *arg;
};

/* The generic resource tool function (fn of tools with an op). */
hc_mcp_tool_fn hc_mcp_resource_tool;

struct hc_mcp_tool_table {
	const struct hc_mcp_tool *tools;
	size_t count;
};

#define HC_MCP_TOOL_TABLE(arr) { (arr), sizeof(arr) / sizeof((arr)[0]) }

/* ---- prompts and resources --------------------------------------------- */

struct hc_mcp_prompt_arg {
	const char *name;
	const char *description;
	bool required;
	/* Completion of the argument's values, or NULL. */
	int (*complete)(struct hc_mcp_call *call, const char *prefix,
			json_t *values, struct hc_err *err);
};

/* Fills *out with a GetPromptResult (messages, description). */
typedef int hc_mcp_prompt_fn(struct hc_mcp_call *call, json_t *args,
			     json_t **out, struct hc_err *err);

struct hc_mcp_prompt {
	const char *name;
	const char *title;
	const char *description;
	const struct hc_mcp_prompt_arg *args;
	size_t nargs;
	hc_mcp_prompt_fn *fn;
};

/*
 * A family of readable resources. list appends Resource objects to items
 * (may be NULL for template-only families); read fills *contents with the
 * "contents" array for a URI it recognises, or returns HC_ENOTFOUND.
 */
struct hc_mcp_resource_family {
	const char *uri_template; /* RFC 6570, e.g. foshub://dev-hub/workstreams/{id} */
	const char *name;
	const char *title;
	const char *description;
	const char *mime_type;
	int (*list)(struct hc_mcp_call *call, json_t *items,
		    struct hc_err *err);
	int (*read)(struct hc_mcp_call *call, const char *uri,
		    json_t **contents, struct hc_err *err);
	/* Completion of a template variable's values, or NULL. */
	int (*complete)(struct hc_mcp_call *call, const char *variable,
			const char *prefix, json_t *values, struct hc_err *err);
};

/* What one hub offers over MCP. */
struct hc_mcp_def {
	const struct hc_mcp_tool_table *const *tools;
	size_t ntools;
	const struct hc_mcp_prompt *prompts;
	size_t nprompts;
	const struct hc_mcp_resource_family *resources;
	size_t nresources;
	const char *instructions; /* for clients: what this server is for */
};

/* ---- inside a tool: the call context ------------------------------------ */

/* A request's database connection, acquired on first use. */
struct hc_conn *hc_mcp_db(struct hc_mcp_call *call, struct hc_err *err);
struct hc_hub *hc_mcp_hub(struct hc_mcp_call *call);
/* The tool's table entry (for its resource and arg). */
const struct hc_mcp_tool *hc_mcp_tool_of(struct hc_mcp_call *call);
/* "2025-11-25" or "2026-07-28". */
const char *hc_mcp_version(struct hc_mcp_call *call);
bool hc_mcp_modern(struct hc_mcp_call *call);
/* Whether the client declared a capability ("sampling", "elicitation",
 * "roots") for this request. */
bool hc_mcp_client_has(struct hc_mcp_call *call, const char *capability);

/* Report progress when the client asked for it (a no-op otherwise). */
void hc_mcp_progress(struct hc_mcp_call *call, double progress, double total,
		     const char *message);
/* Send a log message (level: "debug" ... "emergency") when the client's
 * level lets it through (a no-op otherwise). */
void hc_mcp_log(struct hc_mcp_call *call, const char *level,
		const char *message);

/*
 * Ask the client for input: method is "elicitation/create",
 * "sampling/createMessage" or "roots/list", key names the request. In the
 * session era the request is sent and answered before this returns. In the
 * stateless era a retried request carries the answer in inputResponses: if
 * it is there it is returned; otherwise the request is queued and
 * HC_MCP_INPUT_REQUIRED returned, which the tool passes up so that the
 * server answers with an input_required result. params is borrowed.
 */
#define HC_MCP_INPUT_REQUIRED 2001
int hc_mcp_input(struct hc_mcp_call *call, const char *key,
		 const char *method, json_t *params, json_t **response,
		 struct hc_err *err);

/* Stateless era: the requestState the client sent back (verified), or
 * NULL; and the state to send with an input_required result. */
const char *hc_mcp_request_state(struct hc_mcp_call *call);
int hc_mcp_set_request_state(struct hc_mcp_call *call, const char *state);

/* The full arguments JSON of a stateless retry's inputResponses (borrowed,
 * may be NULL). */
json_t *hc_mcp_input_responses(struct hc_mcp_call *call);

/* ---- the server ---------------------------------------------------------- */

struct hc_mcp_options {
	unsigned tiers;         /* tool tiers to serve; 0 = full */
	const char *tool_list;  /* comma-separated tool names to serve
				   instead of a tier, or NULL */
	bool test_fixtures;     /* add the conformance fixtures */
	const char *server_name; /* default: the hub's name */
};

int hc_mcp_server_new(struct hc_mcp_server **out, struct hc_hub *hub,
		      const struct hc_mcp_def *def,
		      const struct hc_mcp_options *opt, struct hc_err *err);
/*
 * Stop taking requests: end every session (closing its stream, waking calls
 * that wait for a client's answer). Call before stopping the HTTP server;
 * hc_mcp_server_free then waits for running calls and frees.
 */
void hc_mcp_server_shutdown(struct hc_mcp_server *srv);
void hc_mcp_server_free(struct hc_mcp_server *srv);

/* The tools served, in tools/list order (for tests and tooling). */
size_t hc_mcp_tool_count(const struct hc_mcp_server *srv);
const struct hc_mcp_tool *hc_mcp_tool_at(const struct hc_mcp_server *srv,
					 size_t i);

/*
 * How one incoming message is carried: transports fill this in, the core
 * uses it to send notifications and server-to-client requests related to
 * the message, and to learn the HTTP-level facts.
 */
struct hc_mcp_channel {
	/* Send a notification or request to the client, now (SSE or stdout).
	 * NULL when the channel cannot stream: such messages are dropped. */
	int (*send)(struct hc_mcp_channel *ch, json_t *msg);
	/* While waiting for a client's answer: is the client still there?
	 * (HTTP writes a keep-alive comment, which also lets the server
	 * notice a closed socket.) NULL: assume so. */
	bool (*alive)(struct hc_mcp_channel *ch);
	void *ctx;
	/* stdio: the one legacy session of the process; HTTP: NULL. */
	struct hc_mcp_session *session;
};

/* The outcome of handling one message. */
struct hc_mcp_reply {
	json_t *response; /* the JSON-RPC response, or NULL (notification) */
	int http_status;  /* for HTTP: 200, 202, 400, 404, ... */
	char *session_id; /* HTTP: a session created (initialize), or NULL */
};

/*
 * Handle one message already parsed from the wire. For HTTP, headers carry
 * the request's MCP-Protocol-Version, Mcp-Method, Mcp-Name and
 * Mcp-Session-Id (NULL when absent); for stdio pass NULLs. The reply's
 * response is a new reference.
 */
struct hc_mcp_headers {
	const char *protocol_version;
	const char *method;
	const char *name;
	const char *session_id;
	bool http;
	/* With identity checks: the caller's subject and permission. */
	const char *subject;
	bool checked;
	enum hc_scope level;
};
void hc_mcp_handle(struct hc_mcp_server *srv, json_t *msg,
		   const struct hc_mcp_headers *h, struct hc_mcp_channel *ch,
		   struct hc_mcp_reply *reply);
void hc_mcp_reply_release(struct hc_mcp_reply *reply);

/* Whether a tool call needs a streaming channel (it may send messages
 * before its result); transports run those on their own thread. */
bool hc_mcp_wants_stream(struct hc_mcp_server *srv, json_t *msg);

/* ---- sessions (legacy era) ------------------------------------------------ */

struct hc_mcp_session;
/* A stand-alone session for stdio, freed with hc_mcp_session_free. */
struct hc_mcp_session *hc_mcp_session_new_stdio(void);
void hc_mcp_session_free(struct hc_mcp_session *s);
/* End an HTTP session (DELETE); HC_ENOTFOUND when unknown. */
int hc_mcp_session_end(struct hc_mcp_server *srv, const char *id,
		       const char *owner);
/* Deliver a client's response to a request the server sent (by id). */
int hc_mcp_session_deliver(struct hc_mcp_server *srv,
			   struct hc_mcp_session *session, json_t *response);
/* Look up a live HTTP session (NULL when unknown or ended). */
struct hc_mcp_session *hc_mcp_session_get(struct hc_mcp_server *srv,
					  const char *id, const char *owner);
void hc_mcp_session_put(struct hc_mcp_session *s);

/* ---- transports ----------------------------------------------------------- */

/* Serve MCP over stdio until end of input: one JSON message per line in,
 * one per line out; logs go to the hub's log (stderr). */
int hc_mcp_serve_stdio(struct hc_mcp_server *srv, int in_fd, int out_fd,
		       struct hc_err *err);

/* hub-core's tools: orientation, messaging, capabilities, repos, DoI,
 * risks and alerts. */
extern const struct hc_mcp_tool_table hc_mcp_core_tools;
/* The TPSC / GDPR tools, named register_service and list_services ... */
extern const struct hc_mcp_tool_table hc_mcp_tpsc_tools;
/* ... or register_tpsc_service and list_tpsc_services, for a hub whose own
 * tools speak of services (ops-hub). A hub uses one of the two. */
extern const struct hc_mcp_tool_table hc_mcp_tpsc_tools_prefixed;

/* The route table serving Streamable HTTP at /mcp (POST, GET, DELETE). */
extern const struct hc_route_table hc_mcp_routes;

#endif
