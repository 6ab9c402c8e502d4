/*
 * hubcore/policy.h - the policy documents of a hub: the files of one
 * configured directory (struct hc_hub_config.policy_dir), listed, read and,
 * when the hub is configured writable, written.
 *
 * A policy path is relative to the directory: segments joined by '/', none
 * of them empty or starting with '.' (so no "." or "..", no hidden files
 * and none of the temporary files of a write), no control characters, no
 * '\' and no '%' (an escape the server did not decode, such as %00), at
 * most 1024 bytes and 32 segments. Anything else is HC_EBADREQ naming the
 * path (field "path"). A valid path is then resolved in the file system:
 * symbolic links are followed only while they stay inside the directory
 * (realpath), and the file is opened component by component from the
 * directory with O_NOFOLLOW, so that a link swapped in meanwhile is refused
 * too; a path that leads outside is HC_EBADREQ, one that names nothing is
 * HC_ENOTFOUND. Without a configured directory every function answers
 * HC_ENOTFOUND "no policy directory configured".
 *
 * REST handlers and MCP tools both call these functions.
 */
#ifndef HUBCORE_POLICY_H
#define HUBCORE_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hubcore/status.h"

struct hc_hub;

/* The largest policy file a write accepts (bytes). */
#define HC_POLICY_MAX_BYTES (512 * 1024)
/* The largest policy file a read serves (bytes). */
#define HC_POLICY_MAX_READ (8 * 1024 * 1024)

/* Check that dir is a readable directory (for start-up); HC_EUSAGE when it
 * is not, naming it. */
int hc_policy_check_dir(const char *dir, struct hc_err *err);

/* Check the form of a policy path (no file system access). */
int hc_policy_check_path(const char *path, struct hc_err *err);

/* The media type of a policy file by its extension: "text/markdown;
 * charset=utf-8" for .md and .markdown, "text/plain; charset=utf-8" for
 * everything else. */
const char *hc_policy_media_type(const char *path);

/*
 * Every file under the directory, recursively, sorted by path:
 * {"writable": bool, "items": [{"path", "size", "modified",
 * "media_type"}], "truncated": bool}. Hidden entries are skipped, and
 * directories reached through a symbolic link are not entered; a link to a
 * file inside the directory is listed. At most 10000 files are listed
 * (truncated says whether there were more).
 */
int hc_policy_list(const struct hc_hub *hub, json_t **out,
		   struct hc_err *err);

/*
 * Read one file: *content (malloc'd, NUL-terminated, *len bytes) and its
 * media type (static). HC_ENOTFOUND for a path naming no regular file.
 */
int hc_policy_read(const struct hc_hub *hub, const char *path,
		   char **content, size_t *len, const char **media_type,
		   struct hc_err *err);

/* The same as JSON: {"path", "media_type", "size", "content"}; a file that
 * is not UTF-8 text is HC_EINVAL. */
int hc_policy_get(const struct hc_hub *hub, const char *path, json_t **out,
		  struct hc_err *err);

/*
 * Write one file atomically: the content goes to a temporary file in the
 * target's directory, is flushed, and is renamed over the target, so a
 * reader sees the old file or the new one, never a part. Missing
 * directories are created. The content must be UTF-8 text without NUL
 * bytes, at most HC_POLICY_MAX_BYTES (HC_ETOOBIG). HC_EMETHOD when the hub
 * is not writable, HC_ECONFLICT when the path or one of its directories is
 * the wrong kind of file. created (may be NULL) tells whether the file is
 * new; out (may be NULL) receives {"path", "media_type", "size",
 * "created"}.
 */
int hc_policy_write(const struct hc_hub *hub, const char *path,
		    const char *content, size_t len, bool *created,
		    json_t **out, struct hc_err *err);

#endif
