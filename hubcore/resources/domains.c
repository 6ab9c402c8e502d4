/*
 * domains.c - the domain resource: an area of concern that owns repos,
 * topics, workstreams and messages. Named by a slug ("ops-hub") or its id.
 */
#include <string.h>

#include "hubcore/hub.h"
#include "hubcore/util.h"

/* A domain created with only a name gets its slug from the name. */
static int domain_prepare(struct hc_conn *c, const struct hc_resource *r,
			  enum hc_write_mode mode, json_t *obj,
			  const json_t *old, struct hc_err *err)
{
	char slug[HC_SLUG_MAX + 1];
	const char *name = json_string_value(json_object_get(obj, "name"));
	json_t *s = json_object_get(obj, "slug");
	if (s && !json_is_null(s))
		return HC_OK;
	if (!name)
		return hc_err_field(err, HC_EINVAL, "slug",
				    "missing required field 'slug' (or a "
				    "'name' to derive it from)");
	if (hc_slugify(name, strlen(name), slug, sizeof(slug), NULL) != HC_OK)
		return hc_err_field(err, HC_EINVAL, "slug",
				    "cannot derive a slug from name '%s'; give "
				    "'slug'",
				    name);
	json_object_set_new(obj, "slug", json_string(slug));
	return HC_OK;
}

static const struct hc_field domain_fields[] = {
	{ .name = "slug", .type = HC_FT_SLUG,
	  .flags = HC_F_REQUIRED | HC_F_KEY | HC_F_AUTO,
	  .doc = "Short unique name, normalized: \"Ops Hub!\" becomes "
		 "\"ops-hub\". Derived from name when absent." },
	{ .name = "name", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .doc = "Display name." },
	{ .name = "description", .type = HC_FT_TEXT,
	  .doc = "What the domain is responsible for." },
	{ .name = "archived", .type = HC_FT_BOOL, .flags = HC_F_FILTER,
	  .default_value = "false",
	  .doc = "Archived domains are kept but no longer active." },
};

const struct hc_resource hc_domain_resource = {
	.name = "domain",
	.plural = "domains",
	.table = "domains",
	.doc = "An area of concern of the organisation (FOS domain).",
	.id_policy = HC_ID_UUID,
	.fields = domain_fields,
	.nfields = HC_COUNT(domain_fields),
	.hooks = { .prepare = domain_prepare },
};
