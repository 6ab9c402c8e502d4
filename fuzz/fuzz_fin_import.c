/*
 * fuzz_fin_import.c - fin-hub's importers (FOCUS and invoice CSV through
 * libcsv, Claude Code JSONL, the vendors' JSON reports) on a real database;
 * the first byte picks the kind.
 */
#include <stdio.h>
#include <stdlib.h>

#include "finhub/finhub.h"
#include "fuzz/fuzz.h"
#include "hubcore/hub.h"

static struct hc_hub *hub;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hc_hub_config cfg = { .log_level = HC_LOG_ERROR };
	struct hc_err err = { 0 };
	static char url[512];
	(void)argc;
	(void)argv;
	snprintf(url, sizeof(url), "sqlite:%s/fin.db", fuzz_dir());
	cfg.db_url = url;
	if (hc_hub_open(&hub, &finhub_def, &cfg, &err) != HC_OK) {
		fprintf(stderr, "fuzz_fin_import: %s\n", err.msg);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum fin_import_kind kinds[] = {
		FIN_IMPORT_FOCUS, FIN_IMPORT_INVOICES, FIN_IMPORT_CLAUDE_CODE,
		FIN_IMPORT_ANTHROPIC_COST, FIN_IMPORT_OPENAI_COST,
	};
	struct fin_import_opts opts = { .skip_bad = true };
	struct fin_import_result res = { 0 };
	struct hc_err err = { 0 };
	struct hc_conn *c;
	if (size < 1)
		return 0;
	c = hc_store_acquire(hub->store, &err);
	if (!c)
		abort();
	opts.skip_bad = data[0] & 0x80;
	fin_import(c, kinds[(data[0] & 0x7f) % 5], "fuzz", (const char *)data + 1,
		   size - 1, &opts, &res, &err);
	fin_import_result_release(&res);
	hc_store_release(hub->store, c);
	return 0;
}
