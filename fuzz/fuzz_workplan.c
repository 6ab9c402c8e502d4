/*
 * fuzz_workplan.c - workplan files, both forms (Markdown with front matter
 * and the flat text form), as `foshub workplan import` reads them.
 */
#include "devhub/workplan.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dh_workplan *wp = NULL;
	struct hc_err err = { 0 };
	if (dh_workplan_parse("fuzz.md", (const char *)data, size, &wp,
			      &err) == HC_OK)
		dh_workplan_free(wp);
	return 0;
}
