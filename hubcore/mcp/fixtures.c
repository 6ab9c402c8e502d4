/*
 * fixtures.c - the tools, prompts and resources that the official MCP
 * conformance suite (@modelcontextprotocol/conformance) calls by name.
 * They are served only with `foshub serve --mcp-test-fixtures`; they exist
 * so that the protocol machinery every hub uses can be proven against the
 * suite, not for agents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hubcore/json.h"
#include "mcp_internal.h"

#define IMG "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
#define WAV "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static json_t *text_result(const char *text)
{
	return json_pack("{s[{ssss}]}", "content", "type", "text", "text",
			 text);
}

static int f_simple_text(struct hc_mcp_call *call, json_t *args, json_t **out,
			 struct hc_err *err)
{
	*out = text_result("This is a simple text response for testing.");
	return HC_OK;
}

static int f_image(struct hc_mcp_call *call, json_t *args, json_t **out,
		   struct hc_err *err)
{
	*out = json_pack("{s[{ssssss}]}", "content", "type", "image", "data",
			 IMG, "mimeType", "image/png");
	return HC_OK;
}

static int f_audio(struct hc_mcp_call *call, json_t *args, json_t **out,
		   struct hc_err *err)
{
	*out = json_pack("{s[{ssssss}]}", "content", "type", "audio", "data",
			 WAV, "mimeType", "audio/wav");
	return HC_OK;
}

static int f_embedded(struct hc_mcp_call *call, json_t *args, json_t **out,
		      struct hc_err *err)
{
	*out = json_pack("{s[{sss{ssssss}}]}", "content", "type", "resource",
			 "resource", "uri", "test://embedded-resource",
			 "mimeType", "text/plain", "text",
			 "This is an embedded resource content.");
	return HC_OK;
}

static int f_mixed(struct hc_mcp_call *call, json_t *args, json_t **out,
		   struct hc_err *err)
{
	*out = json_pack(
		"{s[{ssss}{ssssss}{sss{ssssss}}]}", "content", "type", "text",
		"text", "Multiple content types test:", "type", "image", "data",
		IMG, "mimeType", "image/png", "type", "resource", "resource",
		"uri", "test://mixed-content-resource", "mimeType",
		"application/json", "text", "{\"test\":\"data\",\"value\":123}");
	return HC_OK;
}

static int f_error(struct hc_mcp_call *call, json_t *args, json_t **out,
		   struct hc_err *err)
{
	*out = json_pack("{s[{ssss}]sb}", "content", "type", "text", "text",
			 "This tool intentionally returns an error for testing",
			 "isError", 1);
	return HC_OK;
}

static int f_progress(struct hc_mcp_call *call, json_t *args, json_t **out,
		      struct hc_err *err)
{
	hc_mcp_progress(call, 0, 100, NULL);
	pause_ms(50);
	hc_mcp_progress(call, 50, 100, NULL);
	pause_ms(50);
	hc_mcp_progress(call, 100, 100, NULL);
	*out = text_result("Progress test completed");
	return HC_OK;
}

static int f_logging(struct hc_mcp_call *call, json_t *args, json_t **out,
		     struct hc_err *err)
{
	hc_mcp_log(call, "info", "Tool execution started");
	pause_ms(50);
	hc_mcp_log(call, "info", "Tool processing data");
	pause_ms(50);
	hc_mcp_log(call, "info", "Tool execution completed");
	*out = text_result("Logging test completed");
	return HC_OK;
}

static int f_sampling(struct hc_mcp_call *call, json_t *args, json_t **out,
		      struct hc_err *err)
{
	json_t *params = json_pack(
		"{s[{sss{ssss}}]si}", "messages", "role", "user", "content",
		"type", "text", "text",
		json_string_value(json_object_get(args, "prompt")),
		"maxTokens", 100);
	json_t *resp = NULL;
	char *text = NULL;
	int rc = hc_mcp_input(call, "sampling", "sampling/createMessage",
			      params, &resp, err);
	json_decref(params);
	if (rc != HC_OK)
		return rc;
	if (asprintf(&text, "LLM response: %s",
		     json_string_value(json_object_get(
			     json_object_get(resp, "content"), "text"))
			     ?: "(no text)") < 0)
		text = NULL;
	*out = text_result(text ? text : "LLM response");
	free(text);
	json_decref(resp);
	return HC_OK;
}

/* Ask an elicitation and report what came back. */
static int elicit(struct hc_mcp_call *call, json_t *params, const char *lead,
		  json_t **out, struct hc_err *err)
{
	json_t *resp = NULL;
	char *content, *text = NULL;
	int rc = hc_mcp_input(call, "elicitation", "elicitation/create", params,
			      &resp, err);
	json_decref(params);
	if (rc != HC_OK)
		return rc;
	content = hc_json_dump(json_object_get(resp, "content")
				       ?: json_null(),
			       NULL);
	if (asprintf(&text, "%s: action=%s, content=%s", lead,
		     json_string_value(json_object_get(resp, "action"))
			     ?: "none",
		     content ? content : "null") < 0)
		text = NULL;
	*out = text_result(text ? text : lead);
	free(content);
	free(text);
	json_decref(resp);
	return HC_OK;
}

static int f_elicitation(struct hc_mcp_call *call, json_t *args, json_t **out,
			 struct hc_err *err)
{
	json_t *params = json_pack(
		"{sssss{sss{s{ssss}s{ssss}}s[ss]}}", "mode", "form", "message",
		json_string_value(json_object_get(args, "message")),
		"requestedSchema", "type", "object", "properties", "username",
		"type", "string", "description", "User's response", "email",
		"type", "string", "description", "User's email address",
		"required", "username", "email");
	return elicit(call, params, "User response", out, err);
}

static int f_elicitation_defaults(struct hc_mcp_call *call, json_t *args,
				  json_t **out, struct hc_err *err)
{
	json_t *params = json_pack(
		"{sssss{sss{s{ssss}s{sssi}s{sssf}s{sss[sss]ss}s{sssb}}s[]}}",
		"mode", "form", "message",
		"Please review and update the form fields with defaults",
		"requestedSchema", "type", "object", "properties", "name",
		"type", "string", "default", "John Doe", "age", "type",
		"integer", "default", 30, "score", "type", "number", "default",
		95.5, "status", "type", "string", "enum", "active", "inactive",
		"pending", "default", "active", "verified", "type", "boolean",
		"default", 1, "required");
	return elicit(call, params, "Elicitation completed", out, err);
}

static int f_elicitation_enums(struct hc_mcp_call *call, json_t *args,
			       json_t **out, struct hc_err *err)
{
	json_t *props = json_object();
	json_t *params;
	json_object_set_new(props, "untitledSingle",
			    json_pack("{sss[sss]}", "type", "string", "enum",
				      "option1", "option2", "option3"));
	json_object_set_new(
		props, "titledSingle",
		json_pack("{sss[{ssss}{ssss}{ssss}]}", "type", "string",
			  "oneOf", "const", "value1", "title", "First Option",
			  "const", "value2", "title", "Second Option", "const",
			  "value3", "title", "Third Option"));
	json_object_set_new(props, "legacyEnum",
			    json_pack("{sss[sss]s[sss]}", "type", "string",
				      "enum", "opt1", "opt2", "opt3",
				      "enumNames", "Option One", "Option Two",
				      "Option Three"));
	json_object_set_new(props, "untitledMulti",
			    json_pack("{sssisis{sss[sss]}}", "type", "array",
				      "minItems", 1, "maxItems", 3, "items",
				      "type", "string", "enum", "option1",
				      "option2", "option3"));
	json_object_set_new(
		props, "titledMulti",
		json_pack("{sssisis{s[{ssss}{ssss}{ssss}]}}", "type", "array",
			  "minItems", 1, "maxItems", 3, "items", "anyOf",
			  "const", "value1", "title", "First Choice", "const",
			  "value2", "title", "Second Choice", "const", "value3",
			  "title", "Third Choice"));
	params = json_pack("{sssss{sssos[]}}", "mode", "form", "message",
			   "Please choose from the enum options",
			   "requestedSchema", "type", "object", "properties",
			   props, "required");
	return elicit(call, params, "Elicitation completed", out, err);
}

static int f_schema_2020(struct hc_mcp_call *call, json_t *args, json_t **out,
			 struct hc_err *err)
{
	*out = text_result("JSON Schema 2020-12 tool called");
	return HC_OK;
}

/* ---- stateless-era diagnostics ------------------------------------------ */

static int f_missing_capability(struct hc_mcp_call *call, json_t *args,
				json_t **out, struct hc_err *err)
{
	*out = text_result("The client declared sampling.");
	return HC_OK;
}

static json_t *name_question(const char *message, const char *field)
{
	return json_pack("{sss{sss{s{ss}}s[s]}}", "message", message,
			 "requestedSchema", "type", "object", "properties",
			 field, "type", "string", "required", field);
}

static int f_streaming_elicitation(struct hc_mcp_call *call, json_t *args,
				   json_t **out, struct hc_err *err)
{
	json_t *q = name_question("What is your name?", "name"), *resp = NULL;
	int rc = hc_mcp_input(call, "user_name", "elicitation/create", q,
			      &resp, err);
	json_decref(q);
	if (rc != HC_OK)
		return rc;
	json_decref(resp);
	*out = text_result("Thank you.");
	return HC_OK;
}

static int f_logging_tool(struct hc_mcp_call *call, json_t *args,
			  json_t **out, struct hc_err *err)
{
	/* Without a logLevel in _meta none of these may be sent. */
	hc_mcp_log(call, "info", "logging tool started");
	hc_mcp_log(call, "info", "logging tool finished");
	*out = text_result("Logged (where the client asked for logs).");
	return HC_OK;
}

/* ---- stateless-era input_required rounds --------------------------------- */

static const char *accepted(json_t *resp, const char *field)
{
	if (!resp || strcmp(json_string_value(json_object_get(resp, "action"))
				    ?: "", "accept") != 0)
		return NULL;
	return json_string_value(
		json_object_get(json_object_get(resp, "content"), field));
}

static int f_ir_elicitation(struct hc_mcp_call *call, json_t *args,
			    json_t **out, struct hc_err *err)
{
	json_t *q = name_question("What is your name?", "name"), *resp = NULL;
	char text[256];
	int rc = hc_mcp_input(call, "user_name", "elicitation/create", q,
			      &resp, err);
	const char *name;
	json_decref(q);
	if (rc != HC_OK)
		return rc;
	name = accepted(resp, "name");
	snprintf(text, sizeof(text), "Hello, %s!", name ? name : "stranger");
	json_decref(resp);
	*out = text_result(text);
	return HC_OK;
}

static json_t *sampling_question(const char *text, int max_tokens)
{
	return json_pack("{s[{sss{ssss}}]si}", "messages", "role", "user",
			 "content", "type", "text", "text", text, "maxTokens",
			 max_tokens);
}

static int f_ir_sampling(struct hc_mcp_call *call, json_t *args, json_t **out,
			 struct hc_err *err)
{
	json_t *q = sampling_question("What is the capital of France?", 100);
	json_t *resp = NULL;
	char text[512];
	int rc = hc_mcp_input(call, "capital_question", "sampling/createMessage",
			      q, &resp, err);
	json_decref(q);
	if (rc != HC_OK)
		return rc;
	snprintf(text, sizeof(text), "The model answered: %s",
		 json_string_value(json_object_get(
			 json_object_get(resp, "content"), "text"))
			 ?: "(nothing)");
	json_decref(resp);
	*out = text_result(text);
	return HC_OK;
}

static int f_ir_roots(struct hc_mcp_call *call, json_t *args, json_t **out,
		      struct hc_err *err)
{
	json_t *q = json_object(), *resp = NULL, *roots, *r;
	char text[1024];
	size_t i, n = 0;
	int rc = hc_mcp_input(call, "client_roots", "roots/list", q, &resp,
			      err);
	json_decref(q);
	if (rc != HC_OK)
		return rc;
	roots = json_object_get(resp, "roots");
	n = (size_t)snprintf(text, sizeof(text), "Client roots:");
	json_array_foreach(roots, i, r)
	{
		if (n < sizeof(text))
			n += (size_t)snprintf(
				text + n, sizeof(text) - n, " %s",
				json_string_value(json_object_get(r, "uri"))
					?: "?");
	}
	json_decref(resp);
	*out = text_result(text);
	return HC_OK;
}

static int f_ir_state(struct hc_mcp_call *call, json_t *args, json_t **out,
		      struct hc_err *err)
{
	json_t *q = json_pack("{sss{sss{s{ss}}s[s]}}", "message",
			      "Please confirm", "requestedSchema", "type",
			      "object", "properties", "ok", "type", "boolean",
			      "required", "ok");
	const char *state = hc_mcp_request_state(call);
	json_t *resp = NULL;
	int rc;
	if (!state || strcmp(state, "awaiting-confirmation") != 0) {
		/* first round: remember where we are, then ask */
		hc_mcp_set_request_state(call, "awaiting-confirmation");
		json_object_del(hc_mcp_input_responses(call), "confirm");
	}
	rc = hc_mcp_input(call, "confirm", "elicitation/create", q, &resp, err);
	json_decref(q);
	if (rc != HC_OK)
		return rc;
	json_decref(resp);
	*out = text_result("state-ok: the request state came back intact");
	return HC_OK;
}

static int f_ir_multiple(struct hc_mcp_call *call, json_t *args, json_t **out,
			 struct hc_err *err)
{
	json_t *q1 = name_question("What is your name?", "name");
	json_t *q2 = sampling_question("Generate a greeting", 50);
	json_t *q3 = json_object(), *r1 = NULL, *r2 = NULL, *r3 = NULL;
	int a, b, c;
	if (!hc_mcp_request_state(call))
		hc_mcp_set_request_state(call, "gathering");
	a = hc_mcp_input(call, "user_name", "elicitation/create", q1, &r1, err);
	b = hc_mcp_input(call, "greeting", "sampling/createMessage", q2, &r2,
			 err);
	c = hc_mcp_input(call, "client_roots", "roots/list", q3, &r3, err);
	json_decref(q1);
	json_decref(q2);
	json_decref(q3);
	json_decref(r1);
	json_decref(r2);
	json_decref(r3);
	if (a == HC_MCP_INPUT_REQUIRED || b == HC_MCP_INPUT_REQUIRED ||
	    c == HC_MCP_INPUT_REQUIRED)
		return HC_MCP_INPUT_REQUIRED;
	if (a != HC_OK || b != HC_OK || c != HC_OK)
		return a != HC_OK ? a : b != HC_OK ? b : c;
	*out = text_result("All three inputs received.");
	return HC_OK;
}

static int f_ir_multi_round(struct hc_mcp_call *call, json_t *args,
			    json_t **out, struct hc_err *err)
{
	const char *state = hc_mcp_request_state(call);
	json_t *q, *resp = NULL;
	int rc;
	if (!state || (strcmp(state, "step1") != 0 &&
		       strcmp(state, "step2") != 0)) {
		hc_mcp_set_request_state(call, "step1");
		q = name_question("Step 1: What is your name?", "name");
		rc = hc_mcp_input(call, "step1", "elicitation/create", q, &resp,
				  err);
		json_decref(q);
		return rc == HC_OK ? (json_decref(resp), HC_MCP_INPUT_REQUIRED)
				   : rc;
	}
	if (strcmp(state, "step1") == 0) {
		q = name_question("Step 1: What is your name?", "name");
		rc = hc_mcp_input(call, "step1", "elicitation/create", q, &resp,
				  err);
		json_decref(q);
		if (rc != HC_OK)
			return rc;
		json_decref(resp);
		resp = NULL;
		hc_mcp_set_request_state(call, "step2");
		q = name_question("Step 2: What is your favorite color?",
				  "color");
		rc = hc_mcp_input(call, "step2", "elicitation/create", q, &resp,
				  err);
		json_decref(q);
		if (rc == HC_OK) /* answered early: ask anyway, per round */
			json_decref(resp);
		return rc == HC_OK ? HC_MCP_INPUT_REQUIRED : rc;
	}
	q = name_question("Step 2: What is your favorite color?", "color");
	rc = hc_mcp_input(call, "step2", "elicitation/create", q, &resp, err);
	json_decref(q);
	if (rc != HC_OK)
		return rc;
	json_decref(resp);
	*out = text_result("Both rounds complete.");
	return HC_OK;
}

static int f_ir_capabilities(struct hc_mcp_call *call, json_t *args,
			     json_t **out, struct hc_err *err)
{
	json_t *q1 = sampling_question("Summarise the day", 50);
	json_t *q2 = name_question("What is your name?", "name");
	json_t *r1 = NULL, *r2 = NULL;
	struct hc_err ignore = { 0 };
	int a = hc_mcp_input(call, "summary", "sampling/createMessage", q1,
			     &r1, err);
	/* only what the client declared may be asked */
	int b = hc_mcp_input(call, "user_name", "elicitation/create", q2, &r2,
			     &ignore);
	json_decref(q1);
	json_decref(q2);
	json_decref(r1);
	json_decref(r2);
	if (a == HC_MCP_INPUT_REQUIRED || b == HC_MCP_INPUT_REQUIRED)
		return HC_MCP_INPUT_REQUIRED;
	if (a != HC_OK && b != HC_OK)
		return a;
	*out = text_result("Inputs received for the declared capabilities.");
	return HC_OK;
}

static int f_ir_tampered(struct hc_mcp_call *call, json_t *args, json_t **out,
			 struct hc_err *err)
{
	json_t *q = name_question("What is your name?", "name"), *resp = NULL;
	int rc;
	if (!hc_mcp_request_state(call))
		hc_mcp_set_request_state(call, "integrity-protected");
	rc = hc_mcp_input(call, "user_name", "elicitation/create", q, &resp,
			  err);
	json_decref(q);
	if (rc != HC_OK)
		return rc;
	json_decref(resp);
	*out = text_result("The state was intact.");
	return HC_OK;
}

static const struct hc_field p_prompt[] = {
	{ .name = "prompt", .type = HC_FT_TEXT, .flags = HC_F_REQUIRED,
	  .doc = "The prompt to send to the client's model." },
};
static const struct hc_field p_message[] = {
	{ .name = "message", .type = HC_FT_TEXT, .flags = HC_F_REQUIRED,
	  .doc = "The question to ask the user." },
};

static const char schema_2020[] =
	"{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
	"\"type\":\"object\",\"$defs\":{\"address\":{\"$anchor\":"
	"\"addressDef\",\"type\":\"object\",\"properties\":{\"street\":"
	"{\"type\":\"string\"},\"city\":{\"type\":\"string\"}}}},"
	"\"properties\":{\"name\":{\"type\":\"string\"},\"address\":"
	"{\"$ref\":\"#/$defs/address\"},\"contactMethod\":{\"type\":"
	"\"string\",\"enum\":[\"phone\",\"email\"]},\"phone\":{\"type\":"
	"\"string\"},\"email\":{\"type\":\"string\"}},\"allOf\":[{\"anyOf\":"
	"[{\"required\":[\"phone\"]},{\"required\":[\"email\"]}]}],\"if\":"
	"{\"properties\":{\"contactMethod\":{\"const\":\"phone\"}},"
	"\"required\":[\"contactMethod\"]},\"then\":{\"required\":"
	"[\"phone\"]},\"else\":{\"required\":[\"email\"]},"
	"\"additionalProperties\":false}";

#define FIX(n, d, f, fl)                                                      \
	{ .name = n, .description = d, .fn = f, .scope = HC_SCOPE_READ,       \
	  .flags = HC_MCP_RAW_RESULT | HC_MCP_READONLY | (fl) }

static const struct hc_mcp_tool fixture_tools[] = {
	FIX("test_simple_text", "Returns a simple text response.",
	    f_simple_text, 0),
	FIX("test_image_content", "Returns a small PNG image.", f_image, 0),
	FIX("test_audio_content", "Returns a short WAV sound.", f_audio, 0),
	FIX("test_embedded_resource", "Returns an embedded text resource.",
	    f_embedded, 0),
	FIX("test_multiple_content_types",
	    "Returns text, an image and a resource together.", f_mixed, 0),
	FIX("test_error_handling", "Always returns a tool execution error.",
	    f_error, 0),
	FIX("test_tool_with_progress",
	    "Reports progress 0, 50 and 100 of 100 before answering.",
	    f_progress, HC_MCP_STREAMS),
	FIX("test_tool_with_logging",
	    "Sends three info log messages before answering.", f_logging,
	    HC_MCP_STREAMS | HC_MCP_LEGACY_ONLY),
	{ .name = "test_sampling",
	  .description = "Asks the client's model to answer a prompt.",
	  .fn = f_sampling, .params = p_prompt, .nparams = 1,
	  .scope = HC_SCOPE_READ,
	  .flags = HC_MCP_RAW_RESULT | HC_MCP_STREAMS | HC_MCP_LEGACY_ONLY },
	{ .name = "test_elicitation",
	  .description = "Asks the user for a username and an email address.",
	  .fn = f_elicitation, .params = p_message, .nparams = 1,
	  .scope = HC_SCOPE_READ,
	  .flags = HC_MCP_RAW_RESULT | HC_MCP_STREAMS | HC_MCP_LEGACY_ONLY },
	FIX("test_elicitation_sep1034_defaults",
	    "Asks the user for fields that all have default values.",
	    f_elicitation_defaults, HC_MCP_STREAMS | HC_MCP_LEGACY_ONLY),
	FIX("test_elicitation_sep1330_enums",
	    "Asks the user to choose among the five kinds of enum.",
	    f_elicitation_enums, HC_MCP_STREAMS | HC_MCP_LEGACY_ONLY),
	{ .name = "json_schema_2020_12_tool",
	  .description = "Tool with JSON Schema 2020-12 features",
	  .fn = f_schema_2020, .input_schema = schema_2020,
	  .scope = HC_SCOPE_READ,
	  .flags = HC_MCP_RAW_RESULT | HC_MCP_READONLY },
	{ .name = "test_missing_capability",
	  .description = "Needs the client's sampling capability.",
	  .fn = f_missing_capability, .client_capability = "sampling",
	  .scope = HC_SCOPE_READ,
	  .flags = HC_MCP_RAW_RESULT | HC_MCP_MODERN_ONLY },
	FIX("test_streaming_elicitation",
	    "Asks for the user's name through an input_required result.",
	    f_streaming_elicitation, HC_MCP_STREAMS | HC_MCP_MODERN_ONLY),
	FIX("test_logging_tool",
	    "Logs at info, which only a request with a logLevel receives.",
	    f_logging_tool, HC_MCP_STREAMS | HC_MCP_MODERN_ONLY),
	FIX("test_input_required_result_elicitation",
	    "Asks the user's name, then greets them.", f_ir_elicitation,
	    HC_MCP_MODERN_ONLY),
	FIX("test_input_required_result_sampling",
	    "Asks the client's model a question, then reports the answer.",
	    f_ir_sampling, HC_MCP_MODERN_ONLY),
	FIX("test_input_required_result_list_roots",
	    "Asks the client for its roots, then lists them.", f_ir_roots,
	    HC_MCP_MODERN_ONLY),
	FIX("test_input_required_result_request_state",
	    "Asks for a confirmation, carrying state across the round.",
	    f_ir_state, HC_MCP_MODERN_ONLY),
	FIX("test_input_required_result_multiple_inputs",
	    "Asks for a name, a model answer and the roots at once.",
	    f_ir_multiple, HC_MCP_MODERN_ONLY),
	FIX("test_input_required_result_multi_round",
	    "Asks two questions in two rounds.", f_ir_multi_round,
	    HC_MCP_MODERN_ONLY),
	FIX("test_input_required_result_tampered_state",
	    "Refuses a request state that was altered.", f_ir_tampered,
	    HC_MCP_MODERN_ONLY),
	FIX("test_input_required_result_capabilities",
	    "Asks only for what the client declared it can answer.",
	    f_ir_capabilities, HC_MCP_MODERN_ONLY),
};

const struct hc_mcp_tool_table hc__mcp_fixture_tools =
	HC_MCP_TOOL_TABLE(fixture_tools);

/* ---- prompts -------------------------------------------------------------- */

static int p_simple(struct hc_mcp_call *call, json_t *args, json_t **out,
		    struct hc_err *err)
{
	*out = json_pack("{s[{sss{ssss}}]}", "messages", "role", "user",
			 "content", "type", "text", "text",
			 "This is a simple prompt for testing.");
	return HC_OK;
}

static int p_arguments(struct hc_mcp_call *call, json_t *args, json_t **out,
		       struct hc_err *err)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "Prompt with arguments: arg1='%s', arg2='%s'",
		 json_string_value(json_object_get(args, "arg1")),
		 json_string_value(json_object_get(args, "arg2")));
	*out = json_pack("{s[{sss{ssss}}]}", "messages", "role", "user",
			 "content", "type", "text", "text", text);
	return HC_OK;
}

static int p_embedded(struct hc_mcp_call *call, json_t *args, json_t **out,
		      struct hc_err *err)
{
	*out = json_pack(
		"{s[{sss{sss{ssssss}}}{sss{ssss}}]}", "messages", "role",
		"user", "content", "type", "resource", "resource", "uri",
		json_string_value(json_object_get(args, "resourceUri")),
		"mimeType", "text/plain", "text",
		"Embedded resource content for testing.", "role", "user",
		"content", "type", "text", "text",
		"Please process the embedded resource above.");
	return HC_OK;
}

static int p_image(struct hc_mcp_call *call, json_t *args, json_t **out,
		   struct hc_err *err)
{
	*out = json_pack("{s[{sss{ssssss}}{sss{ssss}}]}", "messages", "role",
			 "user", "content", "type", "image", "data", IMG,
			 "mimeType", "image/png", "role", "user", "content",
			 "type", "text", "text",
			 "Please analyze the image above.");
	return HC_OK;
}

static int p_input_required(struct hc_mcp_call *call, json_t *args,
			    json_t **out, struct hc_err *err)
{
	json_t *q = name_question("What context should the prompt use?",
				  "context"),
	       *resp = NULL;
	char text[512];
	int rc = hc_mcp_input(call, "user_context", "elicitation/create", q,
			      &resp, err);
	json_decref(q);
	if (rc != HC_OK)
		return rc;
	snprintf(text, sizeof(text), "Use this context: %s",
		 accepted(resp, "context") ?: "(none given)");
	json_decref(resp);
	*out = json_pack("{s[{sss{ssss}}]}", "messages", "role", "user",
			 "content", "type", "text", "text", text);
	return HC_OK;
}

static int complete_args(struct hc_mcp_call *call, const char *prefix,
			 json_t *values, struct hc_err *err)
{
	static const char *const words[] = { "test", "testValue1",
					     "testValue2", NULL };
	for (const char *const *w = words; *w; w++)
		if (strncmp(*w, prefix, strlen(prefix)) == 0)
			json_array_append_new(values, json_string(*w));
	return HC_OK;
}

static const struct hc_mcp_prompt_arg a_arguments[] = {
	{ "arg1", "First test argument", true, complete_args },
	{ "arg2", "Second test argument", true, complete_args },
};
static const struct hc_mcp_prompt_arg a_embedded[] = {
	{ "resourceUri", "URI of the resource to embed", true, NULL },
};

const struct hc_mcp_prompt hc__mcp_fixture_prompts[] = {
	{ "test_simple_prompt", NULL, "A simple prompt without arguments.",
	  NULL, 0, p_simple },
	{ "test_prompt_with_arguments", NULL,
	  "A prompt with two required arguments.", a_arguments, 2,
	  p_arguments },
	{ "test_prompt_with_embedded_resource", NULL,
	  "A prompt that embeds a resource.", a_embedded, 1, p_embedded },
	{ "test_prompt_with_image", NULL, "A prompt with an image.", NULL, 0,
	  p_image },
	{ "test_input_required_result_prompt", NULL,
	  "A prompt that first asks the user for context.", NULL, 0,
	  p_input_required },
};
const size_t hc__mcp_fixture_nprompts = HC_COUNT(hc__mcp_fixture_prompts);

/* ---- resources -------------------------------------------------------------- */

static int r_static_list(struct hc_mcp_call *call, json_t *items,
			 struct hc_err *err)
{
	json_array_append_new(items,
			      json_pack("{ssssssss}", "uri",
					"test://static-text", "name",
					"static-text", "mimeType", "text/plain",
					"description", "A static text resource"));
	json_array_append_new(items,
			      json_pack("{ssssssss}", "uri",
					"test://static-binary", "name",
					"static-binary", "mimeType",
					"image/png", "description",
					"A static binary resource"));
	json_array_append_new(items,
			      json_pack("{ssssssss}", "uri",
					"test://watched-resource", "name",
					"watched-resource", "mimeType",
					"text/plain", "description",
					"A resource that can be watched"));
	return HC_OK;
}

static int r_static_read(struct hc_mcp_call *call, const char *uri,
			 json_t **contents, struct hc_err *err)
{
	if (strcmp(uri, "test://static-text") == 0)
		*contents = json_pack(
			"[{ssssss}]", "uri", uri, "mimeType", "text/plain",
			"text",
			"This is the content of the static text resource.");
	else if (strcmp(uri, "test://static-binary") == 0)
		*contents = json_pack("[{ssssss}]", "uri", uri, "mimeType",
				      "image/png", "blob", IMG);
	else if (strcmp(uri, "test://watched-resource") == 0)
		*contents = json_pack("[{ssssss}]", "uri", uri, "mimeType",
				      "text/plain", "text",
				      "Watched resource content");
	else
		return HC_ENOTFOUND;
	return HC_OK;
}

static int r_template_read(struct hc_mcp_call *call, const char *uri,
			   json_t **contents, struct hc_err *err)
{
	static const char prefix[] = "test://template/";
	const char *id = uri + sizeof(prefix) - 1, *slash;
	char data[128], *text;
	json_t *doc;
	if (strncmp(uri, prefix, sizeof(prefix) - 1) != 0 ||
	    !(slash = strchr(id, '/')) || strcmp(slash, "/data") != 0 ||
	    slash == id || slash - id > 64)
		return HC_ENOTFOUND;
	snprintf(data, sizeof(data), "Data for ID: %.*s", (int)(slash - id),
		 id);
	doc = json_pack("{ss%sbss}", "id", id, (size_t)(slash - id),
			"templateTest", 1, "data", data);
	text = doc ? hc_json_dump(doc, NULL) : NULL;
	json_decref(doc);
	if (!text)
		return hc_err_set(err, HC_EINVAL,
				  "the resource id is not valid UTF-8");
	*contents = json_pack("[{ssssss}]", "uri", uri, "mimeType",
			      "application/json", "text", text);
	free(text);
	return HC_OK;
}

const struct hc_mcp_resource_family hc__mcp_fixture_resources[] = {
	{ "test://static-text", "static", NULL, "The static test resources",
	  "text/plain", r_static_list, r_static_read, NULL },
	{ "test://template/{id}/data", "template", NULL,
	  "A resource template with an id", "application/json", NULL,
	  r_template_read, NULL },
};
const size_t hc__mcp_fixture_nresources =
	HC_COUNT(hc__mcp_fixture_resources);
