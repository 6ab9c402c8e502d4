/*
 * fuzz_cursor.c - what clients put in URLs: pagination cursors, paths
 * (normalized before routing), and slugs.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "hubcore/http.h"
#include "hubcore/util.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct hc_err err = { 0 };
	int64_t pos;
	if (hc_cursor_decode(s, &pos, &err) == HC_OK) {
		char again[HC_CURSOR_MAX];
		/* what decodes re-encodes to itself */
		hc_cursor_encode(pos, again, sizeof(again));
		if (strcmp(again, s) != 0)
			abort();
	}
	hc_path_normalize(s, &err);
	free(s);
	return 0;
}
