/*
 * resource_internal.h - shared between the files of hubcore/resources/.
 */
#ifndef HUBCORE_RESOURCE_INTERNAL_H
#define HUBCORE_RESOURCE_INTERNAL_H

#include "hubcore/buf.h"
#include "hubcore/resource.h"

/* The migration step that makes progress_open, the open risks and
 * alerts kept by triggers as events arrive. */
struct hc_dialect;
int hc__progress_open_schema(struct hc_conn *c, const struct hc_dialect *d,
			     struct hc_err *err);
/* The condition selecting the events of a risk or alert vocabulary, or
 * only the open ones (latest event of each correlation still open). */
int hc__progress_view_sql(const char *const *types, bool open_only,
			  struct hc_buf *b);
/* "risk" or "alert": the kind of item a vocabulary follows, the key of
 * its rows in progress_open. */
const char *hc__progress_kind(const char *const *types);
/* The n newest open items of a vocabulary in one domain, the domain a
 * parameter: "seq IN (SELECT seq FROM progress_open WHERE kind = .. AND
 * domain = ? ORDER BY seq DESC LIMIT n)", read from progress_open's index
 * in order however many items are open. */
int hc__progress_open_latest_sql(const char *const *types, int n,
				 struct hc_buf *b);

bool hc__enum_has(const struct hc_field *f, const char *value);
int hc__validate_value(const struct hc_field *f, json_t *obj, json_t *v,
		       struct hc_err *err);
/* Check that obj's member field, when present and not null, is an array
 * of at most max_items non-empty one-line strings of at most max_len bytes
 * (tags, data categories). HC_EINVAL naming the field otherwise. */
int hc__check_strings(const json_t *obj, const char *field, size_t max_items,
		      size_t max_len, struct hc_err *err);
/* A new row: defaults filled in, required fields present. */
int hc__complete_new(const struct hc_resource *r, json_t *in,
		     struct hc_err *err);
int hc__validate_id(const struct hc_resource *r, const json_t *v,
		    struct hc_err *err);

#endif
