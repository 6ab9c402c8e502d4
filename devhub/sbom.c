/*
 * sbom.c - software bills of materials of the registered repos.
 *
 * A repo's SBOM arrives as CycloneDX JSON (specVersion 1.4, 1.5 or 1.6) or
 * SPDX 2.3 JSON and is parsed with jansson into one list of components:
 * name, group, version, purl, licenses, type, supplier. Ingesting replaces
 * the repo's previous SBOM in one transaction. "Which repos use X" matches
 * a component by name (any case), by purl, or by purl without its version
 * (pkg:npm/lodash matches pkg:npm/lodash@4.17.21).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devhub/devhub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

static const char *const sbom_formats[] = { "cyclonedx", "spdx", NULL };

static const struct hc_field sbom_fields[] = {
	{ .name = "repo", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_UNIQUE,
	  .ref = &hc_repo_resource, .ref_field = "name",
	  .doc = "The repo the SBOM describes (one SBOM per repo)." },
	{ .name = "format", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .enum_values = sbom_formats,
	  .doc = "cyclonedx or spdx." },
	{ .name = "spec_version", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 20, .doc = "1.4, 1.5, 1.6 (CycloneDX) or 2.3 (SPDX)." },
	{ .name = "serial_number", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "The document's serialNumber or documentNamespace." },
	{ .name = "document_name", .type = HC_FT_STRING, .max_len = 300,
	  .doc = "The document's name (SPDX) or main component (CycloneDX)." },
	{ .name = "component_count", .type = HC_FT_INT,
	  .doc = "How many components it lists." },
	{ .name = "source", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "Where it came from (a file name)." },
};

const struct hc_resource dh_sbom_resource = {
	.name = "sbom",
	.plural = "sboms",
	.table = "sboms",
	.doc = "The SBOM last ingested for a repo.",
	.id_policy = HC_ID_UUID,
	.fields = sbom_fields,
	.nfields = HC_COUNT(sbom_fields),
};

static const struct hc_field component_fields[] = {
	{ .name = "repo", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .ref = &hc_repo_resource,
	  .ref_field = "name", .doc = "The repo that uses the component." },
	{ .name = "name", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .max_len = 500,
	  .doc = "The component's name." },
	{ .name = "group_name", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 500,
	  .doc = "Its group or namespace (CycloneDX group)." },
	{ .name = "version", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 200, .doc = "Its version." },
	{ .name = "purl", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 2000, .doc = "Its package URL." },
	{ .name = "purl_base", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 2000,
	  .doc = "The package URL without version, qualifiers and subpath." },
	{ .name = "component_type", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100,
	  .doc = "library, application, framework, ... (CycloneDX type or "
		 "SPDX primaryPackagePurpose)." },
	{ .name = "licenses", .type = HC_FT_JSON, .json_kind = HC_JSON_ARRAY,
	  .default_value = "[]",
	  .doc = "License ids, names or expressions: [\"MIT\"]." },
	{ .name = "supplier", .type = HC_FT_STRING, .max_len = 500,
	  .doc = "Who supplies it." },
	{ .name = "bom_ref", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "Its identifier inside the document (bom-ref or SPDXID)." },
};

const struct hc_resource dh_sbom_component_resource = {
	.name = "sbom_component",
	.plural = "sbom/components",
	.table = "sbom_components",
	.doc = "A component listed in a repo's SBOM.",
	.id_policy = HC_ID_UUID,
	.fields = component_fields,
	.nfields = HC_COUNT(component_fields),
};

/* ---- parsing ---------------------------------------------------------------------- */

#define SBOM_MAX_COMPONENTS 100000

char *dh_purl_base(const char *purl)
{
	size_t n = strcspn(purl, "?#");
	const char *at = NULL;
	for (size_t i = 0; i < n; i++)
		if (purl[i] == '@')
			at = purl + i;
	if (at && memchr(purl, '/', (size_t)(at - purl)))
		n = (size_t)(at - purl);
	return strndup(purl, n);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = hc_json_str(o, key);
	return s && *s ? s : NULL;
}

/* A component in our shape, or an error naming where in the document. */
static int add_component(json_t *list, const char *where, const char *name,
			 const char *group, const char *version,
			 const char *purl, const char *type, json_t *licenses,
			 const char *supplier, const char *ref,
			 struct hc_err *err)
{
	json_t *c;
	if (!name) {
		json_decref(licenses);
		return hc_err_field(err, HC_EINVAL, where,
				    "%s has no name", where);
	}
	if (json_array_size(list) >= SBOM_MAX_COMPONENTS) {
		json_decref(licenses);
		return hc_err_set(err, HC_ETOOBIG,
				  "more than %d components",
				  SBOM_MAX_COMPONENTS);
	}
	c = json_pack("{ssso}", "name", name, "licenses", licenses);
	if (!c)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (group)
		hc_json_set_str(c, "group_name", group);
	if (version)
		hc_json_set_str(c, "version", version);
	if (purl) {
		char *base = dh_purl_base(purl);
		hc_json_set_str(c, "purl", purl);
		hc_json_set_str(c, "purl_base", base);
		free(base);
	}
	if (type)
		hc_json_set_str(c, "component_type", type);
	if (supplier)
		hc_json_set_str(c, "supplier", supplier);
	if (ref)
		hc_json_set_str(c, "bom_ref", ref);
	json_array_append_new(list, c);
	return HC_OK;
}

static json_t *cdx_licenses(const json_t *comp)
{
	json_t *out = json_array(), *l;
	size_t i;
	json_array_foreach(json_object_get(comp, "licenses"), i, l)
	{
		const json_t *lic = json_object_get(l, "license");
		const char *s = str(l, "expression");
		if (!s && lic)
			s = str(lic, "id") ? str(lic, "id") : str(lic, "name");
		if (s)
			json_array_append_new(out, json_string(s));
	}
	return out;
}

static int cdx_walk(const json_t *arr, const char *path, json_t *list,
		    int depth, struct hc_err *err)
{
	const json_t *comp;
	size_t i;
	if (!arr)
		return HC_OK;
	if (!json_is_array(arr))
		return hc_err_field(err, HC_EINVAL, path,
				    "%s must be an array", path);
	if (depth > 32)
		return hc_err_field(err, HC_EINVAL, path,
				    "components nested deeper than 32");
	json_array_foreach(arr, i, comp)
	{
		char where[256];
		const json_t *sup = json_object_get(comp, "supplier");
		int rc;
		snprintf(where, sizeof(where), "%s[%zu]", path, i);
		if (!json_is_object(comp))
			return hc_err_field(err, HC_EINVAL, where,
					    "%s must be an object", where);
		rc = add_component(list, where, str(comp, "name"),
				   str(comp, "group"), str(comp, "version"),
				   str(comp, "purl"), str(comp, "type"),
				   cdx_licenses(comp),
				   sup ? str(sup, "name") : NULL,
				   str(comp, "bom-ref"), err);
		if (rc == HC_OK) {
			char sub[300];
			snprintf(sub, sizeof(sub), "%s.components", where);
			rc = cdx_walk(json_object_get(comp, "components"), sub,
				      list, depth + 1, err);
		}
		if (rc != HC_OK)
			return rc;
	}
	return HC_OK;
}

static const char *spdx_purl(const json_t *pkg)
{
	const json_t *ref;
	size_t i;
	json_array_foreach(json_object_get(pkg, "externalRefs"), i, ref)
	{
		const char *type = str(ref, "referenceType");
		if (type && strcmp(type, "purl") == 0)
			return str(ref, "referenceLocator");
	}
	return NULL;
}

static json_t *spdx_licenses(const json_t *pkg)
{
	static const char *const keys[] = { "licenseConcluded",
					    "licenseDeclared" };
	for (size_t k = 0; k < 2; k++) {
		const char *s = str(pkg, keys[k]);
		if (s && strcmp(s, "NOASSERTION") != 0 &&
		    strcmp(s, "NONE") != 0)
			return json_pack("[s]", s);
	}
	return json_array();
}

/* "Organization: ACME" -> "ACME" */
static const char *spdx_supplier(const json_t *pkg)
{
	const char *s = str(pkg, "supplier"), *colon;
	if (!s || strcmp(s, "NOASSERTION") == 0)
		return NULL;
	colon = strchr(s, ':');
	if (colon && (strncmp(s, "Organization", 12) == 0 ||
		      strncmp(s, "Person", 6) == 0)) {
		s = colon + 1;
		while (*s == ' ')
			s++;
	}
	return *s ? s : NULL;
}

int dh_sbom_parse(const json_t *doc, struct dh_sbom *out, struct hc_err *err)
{
	const char *fmt = str(doc, "bomFormat");
	const char *spdx = str(doc, "spdxVersion");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc))
		return hc_err_set(err, HC_EINVAL,
				  "an SBOM must be a JSON object");
	out->components = json_array();
	if (fmt) {
		const char *v = str(doc, "specVersion");
		const json_t *meta = json_object_get(doc, "metadata");
		const json_t *main = json_object_get(meta, "component");
		if (strcmp(fmt, "CycloneDX") != 0)
			return hc_err_field(err, HC_EINVAL, "bomFormat",
					    "bomFormat '%s' is not CycloneDX",
					    fmt);
		if (!v || (strcmp(v, "1.4") != 0 && strcmp(v, "1.5") != 0 &&
			   strcmp(v, "1.6") != 0))
			return hc_err_field(err, HC_EINVAL, "specVersion",
					    "CycloneDX specVersion '%s' is not "
					    "supported (1.4, 1.5 or 1.6)",
					    v ? v : "");
		out->format = "cyclonedx";
		snprintf(out->spec_version, sizeof(out->spec_version), "%s", v);
		if (str(doc, "serialNumber"))
			snprintf(out->serial, sizeof(out->serial), "%s",
				 str(doc, "serialNumber"));
		if (main && str(main, "name"))
			snprintf(out->name, sizeof(out->name), "%s",
				 str(main, "name"));
		rc = cdx_walk(json_object_get(doc, "components"), "components",
			      out->components, 0, err);
	} else if (spdx) {
		const json_t *pkgs = json_object_get(doc, "packages"), *pkg;
		size_t i;
		if (strcmp(spdx, "SPDX-2.3") != 0)
			return hc_err_field(err, HC_EINVAL, "spdxVersion",
					    "spdxVersion '%s' is not supported "
					    "(SPDX-2.3)",
					    spdx);
		out->format = "spdx";
		snprintf(out->spec_version, sizeof(out->spec_version), "2.3");
		if (str(doc, "documentNamespace"))
			snprintf(out->serial, sizeof(out->serial), "%s",
				 str(doc, "documentNamespace"));
		if (str(doc, "name"))
			snprintf(out->name, sizeof(out->name), "%s",
				 str(doc, "name"));
		if (pkgs && !json_is_array(pkgs))
			return hc_err_field(err, HC_EINVAL, "packages",
					    "packages must be an array");
		rc = HC_OK;
		json_array_foreach(pkgs, i, pkg)
		{
			char where[64];
			snprintf(where, sizeof(where), "packages[%zu]", i);
			if (!json_is_object(pkg))
				return hc_err_field(err, HC_EINVAL, where,
						    "%s must be an object",
						    where);
			rc = add_component(out->components, where,
					   str(pkg, "name"), NULL,
					   str(pkg, "versionInfo"),
					   spdx_purl(pkg),
					   str(pkg, "primaryPackagePurpose"),
					   spdx_licenses(pkg),
					   spdx_supplier(pkg), str(pkg, "SPDXID"),
					   err);
			if (rc != HC_OK)
				break;
		}
	} else {
		return hc_err_field(err, HC_EINVAL, "bomFormat",
				    "not an SBOM: neither bomFormat "
				    "(CycloneDX) nor spdxVersion (SPDX) is "
				    "given");
	}
	return rc;
}

void dh_sbom_release(struct dh_sbom *s)
{
	json_decref(s->components);
	s->components = NULL;
}

/* ---- storing and querying --------------------------------------------------------- */

int dh_sbom_ingest(struct hc_conn *c, const char *repo_key, const json_t *doc,
		   const char *source, json_t **out, struct hc_err *err)
{
	struct dh_sbom s;
	json_t *repo = NULL, *row = NULL, *old = NULL, *comp, *licenses;
	const char *repo_name;
	bool created;
	size_t i;
	int rc = hc_res_get_plain(c, &hc_repo_resource, repo_key, &repo, err);
	if (rc != HC_OK)
		return rc;
	repo_name = hc_json_str(repo, "name");
	rc = dh_sbom_parse(doc, &s, err);
	if (rc == HC_OK)
		rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK) {
		dh_sbom_release(&s);
		json_decref(repo);
		return rc;
	}
	{
		struct hc_value p[] = { hc_vtext(repo_name) };
		rc = hc_exec(c, "DELETE FROM sbom_components WHERE repo = ?",
			     p, 1, err);
	}
	licenses = json_object();
	json_array_foreach(s.components, i, comp)
	{
		json_t *l;
		size_t k;
		if (rc != HC_OK)
			break;
		json_array_foreach(json_object_get(comp, "licenses"), k, l)
		{
			json_t *n = json_object_get(licenses,
						    json_string_value(l));
			json_object_set_new(licenses, json_string_value(l),
					    json_integer(json_integer_value(n) +
							 1));
		}
		hc_json_set_str(comp, "repo", repo_name);
		rc = hc_res_create(c, &dh_sbom_component_resource, comp, NULL,
				   err);
		if (rc != HC_OK) {
			char where[64];
			snprintf(where, sizeof(where), "component %zu", i);
			hc_err_prefix(err, "%s", where);
		}
	}
	if (rc == HC_OK) {
		row = json_pack("{sssssssI}", "repo", repo_name, "format",
				s.format, "spec_version", s.spec_version,
				"component_count",
				(json_int_t)json_array_size(s.components));
		json_object_set_new(row, "serial_number",
				    s.serial[0] ? json_string(s.serial)
						: json_null());
		json_object_set_new(row, "document_name",
				    s.name[0] ? json_string(s.name)
					      : json_null());
		json_object_set_new(row, "source",
				    source ? json_string(source) : json_null());
		{
			struct hc_stmt *st = NULL;
			struct hc_value p[] = { hc_vtext(repo_name) };
			rc = hc_query(c, &st,
				      "SELECT id FROM sboms WHERE repo = ?", p,
				      1, err);
			if (rc == HC_OK) {
				rc = hc_stmt_step(st, err);
				if (rc == HC_ROW_READY)
					old = json_string(
						hc_stmt_text(st, 0, NULL));
				rc = rc == HC_ROW_READY || rc == HC_ROW_DONE
					     ? HC_OK
					     : rc;
				hc_stmt_finish(st);
			}
		}
		created = old == NULL;
		if (rc == HC_OK && old)
			json_object_set(row, "id", old);
		if (rc == HC_OK)
			rc = created ? hc_res_create(c, &dh_sbom_resource, row,
						     out, err)
				     : hc_res_upsert(c, &dh_sbom_resource, row,
						     NULL, NULL, out, err);
	}
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else
		hc_tx_rollback(c);
	if (rc == HC_OK) {
		json_object_set_new(*out, "created", json_boolean(old == NULL));
		json_object_set_new(*out, "licenses", licenses);
		licenses = NULL;
	}
	json_decref(licenses);
	json_decref(old);
	json_decref(row);
	json_decref(repo);
	dh_sbom_release(&s);
	return rc;
}

int dh_sbom_usage(struct hc_conn *c, const char *component, json_t **out,
		  struct hc_err *err)
{
	static const char sql[] =
		"SELECT s.repo, r.domain, s.name, s.version, s.purl FROM "
		"sbom_components s JOIN repos r ON r.name = s.repo WHERE "
		"lower(s.name) = lower(?) OR s.purl = ? OR s.purl_base = ? "
		"OR (s.group_name IS NOT NULL AND lower(s.group_name || '/' "
		"|| s.name) = lower(?)) ORDER BY s.repo, s.version";
	struct hc_value p[4];
	struct hc_stmt *st = NULL;
	json_t *repos, *cur = NULL;
	char *base;
	int rc;

	if (!component || !*component)
		return hc_err_field(err, HC_EINVAL, "component",
				    "missing required field 'component'");
	base = dh_purl_base(component);
	p[0] = hc_vtext(component);
	p[1] = hc_vtext(component);
	p[2] = hc_vtext(base);
	p[3] = hc_vtext(component);
	rc = hc_query(c, &st, sql, p, 4, err);
	if (rc != HC_OK) {
		free(base);
		return rc;
	}
	repos = json_array();
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		const char *repo = hc_stmt_text(st, 0, NULL);
		const char *version = hc_stmt_isnull(st, 3)
					      ? NULL
					      : hc_stmt_text(st, 3, NULL);
		if (!cur || strcmp(hc_json_str(cur, "repo"), repo) != 0) {
			cur = json_pack("{sssssss[]s[]}", "repo", repo, "domain",
					hc_stmt_text(st, 1, NULL), "name",
					hc_stmt_text(st, 2, NULL), "versions",
					"purls");
			json_array_append_new(repos, cur);
		}
		if (version) {
			json_t *vs = json_object_get(cur, "versions"), *v;
			size_t i;
			bool seen = false;
			json_array_foreach(vs, i, v)
				seen = seen || strcmp(json_string_value(v),
						      version) == 0;
			if (!seen)
				json_array_append_new(vs, json_string(version));
		}
		if (!hc_stmt_isnull(st, 4))
			json_array_append_new(
				json_object_get(cur, "purls"),
				json_string(hc_stmt_text(st, 4, NULL)));
	}
	hc_stmt_finish(st);
	free(base);
	if (rc != HC_ROW_DONE) {
		json_decref(repos);
		return rc;
	}
	*out = json_pack("{ssso}", "component", component, "repos", repos);
	return HC_OK;
}
