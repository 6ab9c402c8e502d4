/*
 * devhub/mcpconfig.h - MCP client configuration files (Claude Code's
 * ~/.claude.json and the like): renaming the "state-hub" server entry to
 * "dev-hub", and registering the hubs.
 *
 * Both work on the file's text, not on a re-serialised document: a small
 * JSON scanner finds the byte positions of the mcpServers objects (at the
 * top level and in every projects entry), their members and the elements
 * of arrays, and only the bytes of a renamed key or name, a removed member
 * or element, or an inserted member change.
 * Indentation, number formats, escapes, key order and everything the
 * scanner does not look at stay exactly as they were. The result is then
 * parsed again (jansson) and compared with the document the change should
 * give, so a bug here cannot write a file that means something else.
 */
#ifndef DEVHUB_MCPCONFIG_H
#define DEVHUB_MCPCONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "devhub/devhub.h"
#include "devhub/fileedit.h"

/*
 * Rename mcpServers["state-hub"] to "dev-hub" at the top level and in
 * every projects entry. Where a "dev-hub" entry already exists with the
 * same value, the "state-hub" one is removed; with a different value the
 * whole migration is refused (HC_ECONFLICT naming where) and nothing
 * changes. The lists that name servers, in the same places, follow:
 * enabledMcpjsonServers and disabledMcpjsonServers ("state-hub"), and the
 * permission rules of allowedTools and permissions.allow / ask / deny
 * ("mcp__state-hub", "mcp__state-hub__TOOL"); an element whose new name
 * its list already has is removed. *out is the new text (malloc'd; equal to data when nothing was
 * to do); rep gets one line per change, and edits (may be NULL) the byte
 * edits made, for showing a diff.
 */
int dh_mcpcfg_migrate(const char *source, const char *data, size_t len,
		      char **out, size_t *out_len, struct dh_report *rep,
		      struct dh_edits *edits, struct hc_err *err);

/* A server entry to register: its name and its value (borrowed). */
struct dh_mcpcfg_entry {
	const char *name;
	const json_t *value;
};

/*
 * Register entries in the top-level mcpServers (or in
 * projects[project].mcpServers when project is not NULL), creating the
 * object when missing. An entry already there with the same value is left
 * alone; with a different value everything is refused (HC_ECONFLICT).
 */
int dh_mcpcfg_add(const char *source, const char *data, size_t len,
		  const char *project, const struct dh_mcpcfg_entry *entries,
		  size_t n, char **out, size_t *out_len, struct dh_report *rep,
		  struct dh_edits *edits, struct hc_err *err);

#endif
