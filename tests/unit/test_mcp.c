/*
 * test_mcp.c - the MCP server core, in process: the served tool table and
 * its schemas, era classification without HTTP, version negotiation,
 * pagination, signed request state, and notifications on a channel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/json.h"
#include "hubcore/mcp.h"
#include "hubcore/mcp/mcp_internal.h"
#include "hubcore/util.h"
#include "testutil.h"

struct fixture {
	char *dir;
	struct hc_hub *hub;
	struct hc_mcp_server *mcp;
	struct hc_mcp_session *session;
	json_t *sent; /* what the channel carried */
};

static int capture(struct hc_mcp_channel *ch, json_t *msg)
{
	struct fixture *f = ch->ctx;
	json_array_append(f->sent, msg);
	return HC_OK;
}

static int open_fixture(void **state, const struct hc_mcp_options *opt)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hc_hub_config cfg = { .log_level = HC_LOG_ERROR };
	struct hc_err err = { 0 };
	f->dir = tu_tempdir();
	cfg.db_url = tu_db_url(f->dir, "dev.db");
	if (hc_hub_open(&f->hub, &devhub_def, &cfg, &err) != HC_OK ||
	    hc_mcp_server_new(&f->mcp, f->hub, &devhub_mcp, opt, &err) !=
		    HC_OK) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	f->session = hc_mcp_session_new_stdio();
	f->sent = json_array();
	*state = f;
	return 0;
}

static int setup(void **state)
{
	struct hc_mcp_options opt = { .test_fixtures = true };
	return open_fixture(state, &opt);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hc_mcp_session_free(f->session);
	hc_mcp_server_free(f->mcp);
	hc_hub_close(f->hub);
	json_decref(f->sent);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* Handle one message as stdio would; returns the response (new ref). */
static json_t *rpc(struct fixture *f, const char *text)
{
	struct hc_mcp_headers h = { 0 };
	struct hc_mcp_channel ch = { .send = capture, .ctx = f,
				     .session = f->session };
	struct hc_mcp_reply reply;
	json_t *msg = json_loads(text, 0, NULL), *r;
	assert_non_null(msg);
	hc_mcp_handle(f->mcp, msg, &h, &ch, &reply);
	json_decref(msg);
	r = reply.response ? json_incref(reply.response) : NULL;
	hc_mcp_reply_release(&reply);
	return r;
}

static int error_code(json_t *r)
{
	return (int)json_integer_value(
		json_object_get(json_object_get(r, "error"), "code"));
}

#define INIT(v)                                                               \
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"   \
	"{\"protocolVersion\":\"" v "\",\"capabilities\":{},\"clientInfo\":"    \
	"{\"name\":\"t\",\"version\":\"1\"}}}"

#define MODERN_META                                                           \
	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"               \
	"\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}"

static void test_tool_table(void **state)
{
	struct fixture *f = *state;
	size_t n = hc_mcp_tool_count(f->mcp);
	assert_true(n > 60);
	for (size_t i = 0; i < n; i++) {
		const struct hc_mcp_tool *t = hc_mcp_tool_at(f->mcp, i);
		json_t *tj = f->mcp->tool_json[i];
		size_t len = strlen(t->name);
		assert_true(len >= 1 && len <= 64);
		assert_int_equal(strspn(t->name,
					"abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-"),
				 len);
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(tj, "inputSchema"),
					    "type")),
				    "object");
		assert_non_null(json_object_get(tj, "description"));
		assert_true(json_is_boolean(json_object_get(
			json_object_get(tj, "annotations"), "readOnlyHint")));
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(hc_mcp_tool_at(f->mcp, k)->name,
						t->name);
		/* every tool states who may call it; read-only ones need
		 * only the read scope, the others at least write */
		assert_true(t->scope >= HC_SCOPE_READ);
		if (t->flags & HC_MCP_READONLY)
			assert_int_equal(t->scope, HC_SCOPE_READ);
		else if (strncmp(t->name, "test_", 5) != 0)
			assert_true(t->scope >= HC_SCOPE_WRITE);
	}
}

static void test_generated_schemas(void **state)
{
	struct fixture *f = *state;
	json_t *create = NULL, *list = NULL;
	for (size_t i = 0; i < hc_mcp_tool_count(f->mcp); i++) {
		const char *name = hc_mcp_tool_at(f->mcp, i)->name;
		if (strcmp(name, "create_task") == 0)
			create = f->mcp->tool_json[i];
		if (strcmp(name, "list_tasks") == 0)
			list = f->mcp->tool_json[i];
	}
	assert_non_null(create);
	assert_non_null(list);
	/* create_task: the writable fields of the task descriptor */
	{
		json_t *in = json_object_get(create, "inputSchema");
		json_t *props = json_object_get(in, "properties");
		json_t *req = json_object_get(in, "required");
		json_t *prio = json_object_get(props, "priority");
		char *dump = hc_json_dump(req, NULL);
		assert_string_equal(json_string_value(json_object_get(in,
								      "$schema")),
				    "https://json-schema.org/draft/2020-12/"
				    "schema");
		assert_non_null(json_object_get(props, "workstream"));
		assert_null(json_object_get(props, "claimed_at")); /* read-only */
		assert_null(json_object_get(props, "created_at"));
		assert_int_equal(json_array_size(json_object_get(prio, "enum")),
				 3);
		assert_string_equal(dump, "[\"workstream\",\"title\"]");
		assert_true(json_is_false(
			json_object_get(in, "additionalProperties")));
		free(dump);
		assert_string_equal(
			json_string_value(json_object_get(
				json_object_get(create, "outputSchema"),
				"type")),
			"object");
	}
	/* list_tasks: filters, limit, cursor; output items + next_cursor */
	{
		json_t *props = json_object_get(
			json_object_get(list, "inputSchema"), "properties");
		assert_non_null(json_object_get(props, "status"));
		assert_non_null(json_object_get(props, "limit"));
		assert_non_null(json_object_get(props, "cursor"));
		assert_null(json_object_get(props, "title")); /* not a filter */
		assert_non_null(json_object_get(
			json_object_get(json_object_get(list, "outputSchema"),
					"properties"),
			"next_cursor"));
	}
}

static void test_core_tier_is_smaller(void **state)
{
	struct fixture *f = *state;
	struct hc_mcp_server *core = NULL;
	struct hc_mcp_options opt = { .tiers = HC_MCP_TIER_CORE };
	struct hc_err err = { 0 };
	assert_int_equal(hc_mcp_server_new(&core, f->hub, &devhub_mcp, &opt,
					   &err),
			 HC_OK);
	assert_true(hc_mcp_tool_count(core) < 25);
	for (size_t i = 0; i < hc_mcp_tool_count(core); i++)
		assert_true(hc_mcp_tool_at(core, i)->tiers & HC_MCP_TIER_CORE);
	hc_mcp_server_free(core);
	opt = (struct hc_mcp_options){ .tool_list = "get_task,nope" };
	assert_int_equal(hc_mcp_server_new(&core, f->hub, &devhub_mcp, &opt,
					   &err),
			 HC_EUSAGE);
	assert_non_null(strstr(err.msg, "'nope'"));
}

static void test_session_era_on_stdio(void **state)
{
	struct fixture *f = *state;
	json_t *r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			   "\"tools/list\"}");
	assert_int_equal(error_code(r), HC_RPC_INVALID_REQUEST);
	json_decref(r);
	/* ping is allowed before initialize */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
	assert_true(json_is_object(json_object_get(r, "result")));
	assert_string_equal(json_string_value(json_object_get(r, "id")), "p");
	json_decref(r);
	/* an unknown version is answered with the latest one we speak */
	r = rpc(f, INIT("1999-01-01"));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(r, "result"),
				    "protocolVersion")),
			    "2025-11-25");
	json_decref(r);
	r = rpc(f, INIT("2025-03-26"));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(r, "result"),
				    "protocolVersion")),
			    "2025-03-26");
	json_decref(r);
	/* a notification gets no answer */
	assert_null(rpc(f, "{\"jsonrpc\":\"2.0\",\"method\":"
			   "\"notifications/initialized\"}"));
	/* the stateless-only discover is not a session method */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
		   "\"server/discover\"}");
	assert_int_equal(error_code(r), HC_RPC_METHOD_NOT_FOUND);
	json_decref(r);
	/* malformed messages: the error carries the request's id when it
	 * could be read, else null (JSON-RPC 2.0 §5) */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}");
	assert_int_equal(error_code(r), HC_RPC_INVALID_REQUEST);
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}");
	assert_int_equal(error_code(r), HC_RPC_INVALID_REQUEST);
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = rpc(f, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
	assert_int_equal(error_code(r), HC_RPC_INVALID_REQUEST);
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = rpc(f, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}");
	assert_int_equal(error_code(r), HC_RPC_INVALID_REQUEST);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":1}");
	assert_int_equal(error_code(r), HC_RPC_INVALID_REQUEST);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":\"q\"}");
	assert_int_equal(error_code(r), HC_RPC_INVALID_REQUEST);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "q");
	json_decref(r);
}

static void test_stateless_era_on_stdio(void **state)
{
	struct fixture *f = *state;
	json_t *r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			   "\"server/discover\",\"params\":{" MODERN_META "}}");
	json_t *res = json_object_get(r, "result");
	assert_string_equal(json_string_value(json_object_get(res,
							      "resultType")),
			    "complete");
	assert_int_equal(json_integer_value(json_object_get(res, "ttlMs")), 0);
	json_decref(r);
	/* no initialize needed; list results are cacheable */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\","
		   "\"params\":{" MODERN_META "}}");
	res = json_object_get(r, "result");
	assert_non_null(json_object_get(res, "cacheScope"));
	assert_true(json_array_size(json_object_get(res, "tools")) > 0);
	json_decref(r);
	/* methods of the session era are not found */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\","
		   "\"params\":{" MODERN_META "}}");
	assert_int_equal(error_code(r), HC_RPC_METHOD_NOT_FOUND);
	json_decref(r);
	/* an envelope without capabilities is invalid */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\","
		   "\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
		   "protocolVersion\":\"2026-07-28\"}}}");
	assert_int_equal(error_code(r), HC_RPC_INVALID_PARAMS);
	json_decref(r);
	/* a claimed version we do not speak */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\","
		   "\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
		   "protocolVersion\":\"2025-11-25\",\"io.modelcontextprotocol/"
		   "clientCapabilities\":{}}}}");
	assert_int_equal(error_code(r), HC_RPC_UNSUPPORTED_VERSION);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(r, "error"), "data"),
			"requested")),
		"2025-11-25");
	json_decref(r);
}

static void test_pagination(void **state)
{
	struct fixture *f = *state;
	char cur[HC_CURSOR_MAX], text[512];
	json_t *r;
	size_t total = 0;
	for (size_t i = 0; i < hc_mcp_tool_count(f->mcp); i++)
		if (!(hc_mcp_tool_at(f->mcp, i)->flags & HC_MCP_LEGACY_ONLY))
			total++;
	hc__mcp_cursor(50, cur, sizeof(cur));
	snprintf(text, sizeof(text),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
		 "\"params\":{\"cursor\":\"%s\"," MODERN_META "}}",
		 cur);
	r = rpc(f, text);
	assert_int_equal(json_array_size(json_object_get(
				 json_object_get(r, "result"), "tools")),
			 total - 50);
	assert_null(json_object_get(json_object_get(r, "result"),
				    "nextCursor"));
	json_decref(r);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
		   "\"params\":{\"cursor\":\"bogus\"," MODERN_META "}}");
	assert_int_equal(error_code(r), HC_RPC_INVALID_PARAMS);
	json_decref(r);
}

static void test_request_state(void **state)
{
	struct fixture *f = *state;
	char *token = hc__mcp_state_sign(f->mcp, "tool:x", "step1"), *back;
	char tampered[512];
	assert_int_equal(hc__mcp_state_verify(f->mcp, "tool:x", token, &back),
			 HC_OK);
	assert_string_equal(back, "step1");
	free(back);
	/* another tool's state is not this tool's */
	assert_int_not_equal(hc__mcp_state_verify(f->mcp, "tool:y", token,
						  &back),
			     HC_OK);
	/* any change is caught */
	snprintf(tampered, sizeof(tampered), "%s", token);
	tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
	assert_int_not_equal(hc__mcp_state_verify(f->mcp, "tool:x", tampered,
						  &back),
			     HC_OK);
	snprintf(tampered, sizeof(tampered), "%s-TAMPERED", token);
	assert_int_not_equal(hc__mcp_state_verify(f->mcp, "tool:x", tampered,
						  &back),
			     HC_OK);
	assert_int_not_equal(hc__mcp_state_verify(f->mcp, "tool:x", "x.y",
						  &back),
			     HC_OK);
	free(token);
}

static void test_progress_on_the_channel(void **state)
{
	struct fixture *f = *state;
	json_t *r, *n;
	size_t i, progress = 0;
	r = rpc(f, INIT("2025-11-25"));
	json_decref(r);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
		   "\"params\":{\"name\":\"test_tool_with_progress\","
		   "\"_meta\":{\"progressToken\":\"tok\"}}}");
	assert_non_null(json_object_get(r, "result"));
	json_array_foreach(f->sent, i, n)
	{
		if (strcmp(json_string_value(json_object_get(n, "method")),
			   "notifications/progress") == 0) {
			assert_string_equal(
				json_string_value(json_object_get(
					json_object_get(n, "params"),
					"progressToken")),
				"tok");
			progress++;
		}
	}
	assert_int_equal(progress, 3);
	json_decref(r);
	/* without a token nothing is sent */
	json_array_clear(f->sent);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\","
		   "\"params\":{\"name\":\"test_tool_with_progress\"}}");
	assert_int_equal(json_array_size(f->sent), 0);
	json_decref(r);
}

/* Update tools take expected_revision and refuse a stale one clearly. */
static void test_update_with_expected_revision(void **state)
{
	struct fixture *f = *state;
	struct hc_err err = { 0 };
	struct hc_conn *c = hc_store_acquire(f->hub->store, &err);
	json_t *in = json_pack("{ssss}", "slug", "eng", "name", "Eng"), *out;
	json_t *r, *res;
	const char *text;

	assert_int_equal(hc_res_create(c, &hc_domain_resource, in, &out, &err),
			 HC_OK);
	json_decref(in);
	json_decref(out);
	hc_store_release(f->hub->store, c);
	r = rpc(f, INIT("2025-11-25"));
	json_decref(r);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
		   "\"params\":{\"name\":\"create_topic\",\"arguments\":"
		   "{\"slug\":\"t1\",\"name\":\"T\",\"domain\":\"eng\"}}}");
	res = json_object_get(r, "result");
	assert_false(json_is_true(json_object_get(res, "isError")));
	json_decref(r);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
		   "\"params\":{\"name\":\"update_topic\",\"arguments\":"
		   "{\"id\":\"t1\",\"name\":\"T2\",\"expected_revision\":1}}}");
	res = json_object_get(r, "result");
	assert_false(json_is_true(json_object_get(res, "isError")));
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(res, "structuredContent"),
				 "revision")),
			 2);
	json_decref(r);
	/* the same expectation again is stale now: an error saying so */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
		   "\"params\":{\"name\":\"update_topic\",\"arguments\":"
		   "{\"id\":\"t1\",\"name\":\"T3\",\"expected_revision\":1}}}");
	res = json_object_get(r, "result");
	assert_true(json_is_true(json_object_get(res, "isError")));
	text = json_string_value(json_object_get(
		json_array_get(json_object_get(res, "content"), 0), "text"));
	assert_non_null(text);
	assert_non_null(strstr(text, "at revision 2, not 1"));
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tool_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_generated_schemas, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_core_tier_is_smaller,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_era_on_stdio,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stateless_era_on_stdio,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pagination, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_state, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_progress_on_the_channel,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_update_with_expected_revision, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
