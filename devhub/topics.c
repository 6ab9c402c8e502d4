/*
 * topics.c - topics: a theme within a domain that groups workstreams.
 */
#include "devhub/devhub.h"

static const char *const topic_statuses[] = { "active", "archived", NULL };

static const struct hc_field topic_fields[] = {
	{ .name = "slug", .type = HC_FT_SLUG,
	  .flags = HC_F_REQUIRED | HC_F_KEY,
	  .doc = "Short unique name of the topic." },
	{ .name = "name", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .doc = "Display name." },
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .ref = &hc_domain_resource,
	  .ref_field = "slug", .doc = "The domain the topic belongs to." },
	{ .name = "description", .type = HC_FT_TEXT,
	  .doc = "What the topic covers." },
	{ .name = "status", .type = HC_FT_ENUM, .flags = HC_F_FILTER,
	  .enum_values = topic_statuses, .default_value = "active",
	  .doc = "active or archived." },
};

const struct hc_resource dh_topic_resource = {
	.name = "topic",
	.plural = "topics",
	.table = "topics",
	.doc = "A theme within a domain that groups workstreams.",
	.id_policy = HC_ID_UUID,
	.fields = topic_fields,
	.nfields = HC_COUNT(topic_fields),
};
