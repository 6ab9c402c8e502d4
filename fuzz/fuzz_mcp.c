/*
 * fuzz_mcp.c - MCP JSON-RPC framing and _meta handling: one message as
 * it arrives over stdio or HTTP (the first byte picks the transport and
 * the protocol version header), through dev-hub's MCP server on a real
 * database.
 */
#include <stdio.h>
#include <stdlib.h>

#include "devhub/devhub.h"
#include "fuzz/fuzz.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/mcp.h"

static struct hc_hub *hub;
static struct hc_mcp_server *srv;
static struct hc_mcp_session *session;

static int drop(struct hc_mcp_channel *ch, json_t *msg)
{
	(void)ch;
	(void)msg;
	return HC_OK;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hc_hub_config cfg = { .log_level = HC_LOG_ERROR };
	struct hc_mcp_options opt = { .test_fixtures = false };
	struct hc_err err = { 0 };
	static char url[512];
	(void)argc;
	(void)argv;
	snprintf(url, sizeof(url), "sqlite:%s/dev.db", fuzz_dir());
	cfg.db_url = url;
	if (hc_hub_open(&hub, &devhub_def, &cfg, &err) != HC_OK ||
	    hc_mcp_server_new(&srv, hub, devhub_def.mcp, &opt, &err) != HC_OK) {
		fprintf(stderr, "fuzz_mcp: %s\n", err.msg);
		abort();
	}
	session = hc_mcp_session_new_stdio();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const versions[] = { NULL, "2025-06-18",
						"2025-11-25", "2026-07-28" };
	struct hc_mcp_headers h = { 0 };
	struct hc_mcp_channel ch = { .send = drop, .session = session };
	struct hc_mcp_reply reply;
	struct hc_err err = { 0 };
	json_t *msg = NULL;
	if (size < 1)
		return 0;
	h.http = data[0] & 1;
	h.protocol_version = versions[(data[0] >> 1) & 3];
	if (h.http)
		ch.session = NULL;
	if (hc_json_parse((const char *)data + 1, size - 1, &msg, &err) !=
	    HC_OK)
		return 0;
	hc_mcp_handle(srv, msg, &h, &ch, &reply);
	hc_mcp_reply_release(&reply);
	json_decref(msg);
	return 0;
}
