/*
 * idp/idp_admin.h - the IdP's admin edits of its YAML file (the `foshub
 * idp` commands). Each edit keeps every other byte of the file, checks
 * that the result loads, and replaces the file atomically with a backup.
 */
#ifndef IDP_IDP_ADMIN_H
#define IDP_IDP_ADMIN_H

#include <stdbool.h>

#include "hubcore/status.h"
#include "idp/idp.h"

/* Append a user to `users:`; HC_ECONFLICT when the username exists. */
int idp_admin_add_user(const char *path, const char *username,
		       const char *password_hash, const char *name,
		       const char *email, const struct idp_strings *roles,
		       const struct idp_strings *groups, struct hc_err *err);
/*
 * Append a client (an item of YAML lines, unindented, the first starting
 * with "- ") to `clients:`, or to `service_accounts:` when service.
 */
int idp_admin_add_client(const char *path, const char *text_item,
			 const char *client_id, bool service,
			 struct hc_err *err);
/* Give a user a totp_secret; HC_ECONFLICT when it has one. */
int idp_admin_set_totp(const char *path, const char *username,
		       const char *secret, struct hc_err *err);

/* s as a YAML double-quoted scalar, appended to b. */
void idp_yaml_quote(struct hc_buf *b, const char *s);

#endif
