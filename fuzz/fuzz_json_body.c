/*
 * fuzz_json_body.c - JSON request bodies through parsing and validation
 * against resource descriptors (what POST and PATCH of every resource
 * run before touching the database). The first byte picks the resource.
 */
#include <jansson.h>

#include "devhub/devhub.h"
#include "fuzz/fuzz.h"
#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hc_hub_def *def = &devhub_def;
	const struct hc_resource *r;
	struct hc_err err = { 0 };
	json_t *in = NULL;
	if (size < 1 || !def->nresources)
		return 0;
	r = def->resources[data[0] % def->nresources];
	if (hc_json_parse((const char *)data + 1, size - 1, &in, &err) ==
		    HC_OK &&
	    json_is_object(in)) {
		hc_res_validate(r, in,
				data[0] & 0x80 ? HC_WRITE_UPDATE : HC_WRITE_CREATE,
				&err);
	}
	json_decref(in);
	return 0;
}
