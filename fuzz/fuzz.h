/*
 * fuzz.h - what the libFuzzer targets share: a scratch directory for the
 * databases a target needs, made once per process.
 */
#ifndef FOSHUB_FUZZ_H
#define FOSHUB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* "<tmp>/foshub-fuzz-XXXXXX", made on first use, removed at exit. */
const char *fuzz_dir(void);
/* data as a NUL-terminated string (a new buffer). */
char *fuzz_str(const uint8_t *data, size_t size);

#endif
