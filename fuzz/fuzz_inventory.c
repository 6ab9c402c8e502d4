/*
 * fuzz_inventory.c - ops-hub's service inventory (YAML, libyaml).
 */
#include "fuzz/fuzz.h"
#include "opshub/opshub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oh_inventory *inv = NULL;
	struct hc_err err = { 0 };
	if (oh_inventory_parse("fuzz.yaml", (const char *)data, size, &inv,
			       &err) == HC_OK)
		oh_inventory_free(inv);
	return 0;
}
