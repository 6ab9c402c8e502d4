/*
 * fuzz_jwt.c - bearer tokens as a hub checks them: the Authorization
 * header, the compact JWS, its header and claims, up to the point where
 * the issuer's keys would be needed (the trusted issuer here is on a port
 * nothing listens on, so its JWKS cannot be fetched: the token is refused
 * before or at that point). Also the IdP's own token verification path
 * for the same bytes through hc_jws_compact_ok.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "hubcore/auth.h"
#include "hubcore/util.h"

static struct hc_auth *auth;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hc_auth_options o = { .issuers = { "http://127.0.0.1:9" },
				     .nissuers = 1,
				     .audience = "http://127.0.0.1:8001",
				     .refetch_interval = 3600 };
	struct hc_err err = { 0 };
	(void)argc;
	(void)argv;
	if (hc_auth_new(&auth, &o, &err) != HC_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct hc_identity id;
	struct hc_auth_failure why;
	if (hc_auth_check(auth, s, &id, &why) == HC_OK)
		abort(); /* nothing can verify without the issuer's keys */
	hc_jws_compact_ok(s, 16384);
	free(s);
	return 0;
}
