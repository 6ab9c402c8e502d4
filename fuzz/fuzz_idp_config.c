/*
 * fuzz_idp_config.c - the IdP's YAML configuration, read as
 * `foshub serve idp --config` and SIGHUP read it (through a memfd).
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "idp/idp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idp_config *cfg = NULL;
	struct hc_err err = { 0 };
	char path[64];
	int fd = memfd_create("idp.yaml", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (idp_config_load(path, &cfg, &err) == HC_OK)
			idp_config_unref(cfg);
	}
	close(fd);
	return 0;
}
