/*
 * repos.c - managed repositories: a repo belongs to a domain and is checked
 * out at a path that may differ per machine (host_paths).
 */
#include <string.h>

#include "hubcore/hub.h"

/* An absolute path without "." or ".." segments. */
static bool clean_abs_path(const char *p)
{
	if (!p || p[0] != '/' || strlen(p) > 4096)
		return false;
	for (const char *s = p; (s = strchr(s, '/')) != NULL; s++) {
		size_t n = strcspn(s + 1, "/");
		if ((n == 1 && s[1] == '.') ||
		    (n == 2 && s[1] == '.' && s[2] == '.'))
			return false;
	}
	return true;
}

/* host_paths maps a machine name to an absolute path. */
static int repo_prepare(struct hc_conn *c, const struct hc_resource *r,
			enum hc_write_mode mode, json_t *obj,
			const json_t *old, struct hc_err *err)
{
	json_t *paths = json_object_get(obj, "host_paths");
	const char *host, *dp;
	json_t *v;

	json_object_foreach(paths, host, v)
	{
		if (!clean_abs_path(json_string_value(v)))
			return hc_err_field(err, HC_EINVAL, "host_paths",
					    "field 'host_paths': the path for "
					    "host '%s' must be an absolute "
					    "path without . or .. segments",
					    host);
	}
	dp = json_string_value(json_object_get(obj, "default_path"));
	if (dp && !clean_abs_path(dp))
		return hc_err_field(err, HC_EINVAL, "default_path",
				    "field 'default_path' must be an absolute "
				    "path without . or .. segments");
	return HC_OK;
}

static const struct hc_field repo_fields[] = {
	{ .name = "name", .type = HC_FT_NAME,
	  .flags = HC_F_REQUIRED | HC_F_KEY, .max_len = 100,
	  .doc = "Repository name, unique (e.g. \"the-custodian\")." },
	{ .name = "domain", .type = HC_FT_REF, .flags = HC_F_REQUIRED |
								HC_F_FILTER,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The owning domain, by slug or id." },
	{ .name = "description", .type = HC_FT_TEXT,
	  .doc = "What the repository holds." },
	{ .name = "url", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "Clone URL of the repository." },
	{ .name = "host_paths", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_OBJECT, .default_value = "{}",
	  .doc = "Checkout path per machine: {\"host\": \"/abs/path\"}." },
	{ .name = "default_path", .type = HC_FT_STRING, .max_len = 4096,
	  .doc = "Checkout path used when the machine has no entry." },
};

const struct hc_resource hc_repo_resource = {
	.name = "repo",
	.plural = "repos",
	.table = "repos",
	.doc = "A managed repository of a domain.",
	.id_policy = HC_ID_UUID,
	.fields = repo_fields,
	.nfields = HC_COUNT(repo_fields),
	.hooks = { .prepare = repo_prepare },
};
