/*
 * tpsc.c - the third-party service catalog for GDPR, its ingest (upsert by
 * domain, vendor and service) and the per-domain GDPR report (see
 * hubcore/tpsc.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/tpsc.h"
#include "hubcore/util.h"
#include "resource_internal.h"

#define CATEGORIES_MAX 64
#define CATEGORY_MAX 100
#define LOCATION_MAX 32

const char *const hc_tpsc_legal_bases[] = {
	"consent",	   "contract",	  "legal_obligation",
	"vital_interests", "public_task", "legitimate_interests",
	NULL
};
const char *const hc_tpsc_dpa_statuses[] = { "none", "requested", "signed",
					     "not_required", NULL };
static const char *const service_statuses[] = { "active", "retired", NULL };

/* The one list of the EU/EEA: the 27 EU member states (Greece also as EL,
 * the EU's own code), the three other EEA states (IS, LI, NO), and the
 * unions themselves. */
const char *const hc_eea_locations[] = {
	"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR",
	"DE", "GR", "EL", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
	"NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI",
	"NO", "EU", "EEA", NULL
};

bool hc_location_in_eea(const char *loc)
{
	for (const char *const *l = hc_eea_locations; loc && *l; l++)
		if (strcasecmp(*l, loc) == 0)
			return true;
	return false;
}

/* ---- the resource ------------------------------------------------------- */

/* Locations are codes ("DE", "EU", "US", "GLOBAL"): letters, digits and
 * '-', stored upper case so that a filter and the EEA check see one
 * spelling. */
static int tpsc_prepare(struct hc_conn *c, const struct hc_resource *r,
			enum hc_write_mode mode, json_t *obj,
			const json_t *old, struct hc_err *err)
{
	const char *loc = hc_json_str(obj, "processing_location");
	char up[LOCATION_MAX + 1];
	size_t n;
	int rc = hc__check_strings(obj, "data_categories", CATEGORIES_MAX,
				   CATEGORY_MAX, err);
	if (rc != HC_OK || !loc)
		return rc;
	n = strlen(loc);
	if (n == 0 || n > LOCATION_MAX ||
	    strspn(loc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789-") != n)
		return hc_err_field(err, HC_EINVAL, "processing_location",
				    "field 'processing_location' must be a "
				    "code of 1 to %d letters, digits or '-' "
				    "such as EU, DE or US",
				    LOCATION_MAX);
	for (size_t i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)loc[i]);
	return strcmp(up, loc) == 0
		       ? HC_OK
		       : hc_json_set_str(obj, "processing_location", up);
}

static const struct hc_field tpsc_fields[] = {
	{ .name = "vendor", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .doc = "The company providing the service (e.g. \"Hetzner\")." },
	{ .name = "service", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .doc = "The vendor's service used (e.g. \"Object Storage\")." },
	{ .name = "purpose", .type = HC_FT_TEXT, .flags = HC_F_REQUIRED,
	  .max_len = 64 * 1024, .doc = "What the domain uses it for." },
	{ .name = "data_categories", .type = HC_FT_JSON,
	  .json_kind = HC_JSON_ARRAY, .default_value = "[]",
	  .doc = "Categories of personal data processed, an array of "
		 "strings: [\"contact\", \"usage\"]." },
	{ .name = "processing_location", .type = HC_FT_STRING,
	  .flags = HC_F_FILTER, .max_len = LOCATION_MAX,
	  .doc = "Where the data is processed: a country code or EU, EEA, "
		 "...; stored upper case." },
	{ .name = "legal_basis", .type = HC_FT_ENUM, .flags = HC_F_FILTER,
	  .enum_values = hc_tpsc_legal_bases,
	  .doc = "GDPR Art. 6(1) basis of the processing." },
	{ .name = "dpa_status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .enum_values = hc_tpsc_dpa_statuses, .default_value = "none",
	  .doc = "Data processing agreement: none, requested, signed or "
		 "not_required." },
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER, .ref = &hc_domain_resource,
	  .ref_field = "slug", .doc = "The domain that uses the service." },
	{ .name = "repo", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &hc_repo_resource, .ref_field = "name",
	  .doc = "The repository that integrates it, if one does." },
	{ .name = "url", .type = HC_FT_STRING, .max_len = 1000,
	  .doc = "The service's page or terms." },
	{ .name = "notes", .type = HC_FT_TEXT, .max_len = 64 * 1024,
	  .doc = "Anything else worth knowing." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .enum_values = service_statuses, .default_value = "active",
	  .doc = "active, or retired: no longer used." },
};

static const char *const tpsc_key[] = { "domain", "vendor", "service", NULL };
static const struct hc_unique tpsc_uniques[] = { { .fields = tpsc_key } };

const struct hc_resource hc_tpsc_service_resource = {
	.name = "tpsc_service",
	.plural = "tpsc/services",
	.table = "tpsc_services",
	.doc = "A third-party service a domain uses (GDPR catalog).",
	.id_policy = HC_ID_UUID,
	.fields = tpsc_fields,
	.nfields = HC_COUNT(tpsc_fields),
	.uniques = tpsc_uniques,
	.nuniques = HC_COUNT(tpsc_uniques),
	.hooks = { .prepare = tpsc_prepare },
	.since = 2,
};

/* ---- ingest ------------------------------------------------------------- */

static int begin_if_needed(struct hc_conn *c, bool write, bool *own,
			   struct hc_err *err)
{
	*own = !hc_tx_active(c);
	return *own ? hc_tx_begin(c, write, err) : HC_OK;
}

/* The id of the service (domain, vendor, service), or NULL in *id. */
static int find_service(struct hc_conn *c, const json_t *entry, char **id,
			struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(hc_json_str(entry, "domain")),
				hc_vtext(hc_json_str(entry, "vendor")),
				hc_vtext(hc_json_str(entry, "service")) };
	struct hc_stmt *st = NULL;
	int rc = hc_query(c, &st,
			  "SELECT id FROM tpsc_services WHERE domain = ? AND "
			  "vendor = ? AND service = ?",
			  p, HC_COUNT(p), err);
	*id = NULL;
	if (rc != HC_OK)
		return rc;
	rc = hc_stmt_step(st, err);
	if (rc == HC_ROW_READY) {
		*id = strdup(hc_stmt_text(st, 0, NULL));
		rc = *id ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
	} else if (rc == HC_ROW_DONE) {
		rc = HC_OK;
	}
	hc_stmt_finish(st);
	return rc;
}

int hc_tpsc_ingest(struct hc_conn *c, json_t *entry, bool *created,
		   bool *changed, json_t **out, struct hc_err *err)
{
	static const char *const key[] = { "domain", "vendor", "service",
					   NULL };
	const struct hc_resource *r = &hc_tpsc_service_resource;
	char *slug = NULL, *id = NULL;
	json_t *old = NULL;
	bool own = false;
	int rc;

	if (!json_is_object(entry))
		return hc_err_set(err, HC_EINVAL,
				  "a service entry must be a JSON object");
	if (json_object_get(entry, "id"))
		return hc_err_field(err, HC_EINVAL, "id",
				    "an ingested service is found by domain, "
				    "vendor and service; do not give 'id'");
	/* Types only: the defaults of a create must not overwrite what an
	 * existing row holds. */
	rc = hc_res_validate(r, entry, HC_WRITE_UPDATE, err);
	for (const char *const *k = key; rc == HC_OK && *k; k++)
		if (!hc_json_str(entry, *k))
			rc = hc_err_field(err, HC_EINVAL, *k,
					  "missing required field '%s'", *k);
	if (rc != HC_OK)
		return rc;
	rc = begin_if_needed(c, true, &own, err);
	if (rc != HC_OK)
		return rc;
	{
		struct hc_err e2 = { 0 };
		const char *name = hc_json_str(entry, "domain");
		rc = hc_res_resolve(c, &hc_domain_resource, name, "slug",
				    &slug, &e2);
		if (rc == HC_ENOTFOUND)
			rc = hc_err_field(err, HC_EINVAL, "domain",
					  "field 'domain': no domain '%s'",
					  name);
		else if (rc != HC_OK)
			*err = e2;
	}
	if (rc == HC_OK)
		rc = hc_json_set_str(entry, "domain", slug);
	if (rc == HC_OK)
		rc = find_service(c, entry, &id, err);
	if (rc != HC_OK)
		goto out;
	if (!id) {
		rc = hc_res_create(c, r, entry, out, err);
		if (created)
			*created = true;
		if (changed)
			*changed = true;
		goto out;
	}
	/* Absent fields keep their stored values. */
	rc = hc_res_get_plain(c, r, id, &old, err);
	for (size_t i = 0; rc == HC_OK && i < r->nfields; i++) {
		const char *name = r->fields[i].name;
		if (!json_object_get(entry, name) &&
		    json_object_set(entry, name, json_object_get(old, name)))
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	if (rc == HC_OK)
		rc = hc_json_set_str(entry, "id", id);
	if (rc == HC_OK)
		rc = hc_res_upsert(c, r, entry, created, changed, out, err);
out:
	if (own && rc == HC_OK)
		rc = hc_tx_commit(c, err);
	else if (own)
		hc_tx_rollback(c);
	json_decref(old);
	free(slug);
	free(id);
	return rc;
}

/* ---- the GDPR report ---------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a set (an object used as one), sorted, as an array. */
static json_t *sorted_keys(json_t *set)
{
	size_t n = json_object_size(set), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	json_t *arr = json_array(), *v;
	const char *k;
	if (!keys || !arr) {
		free(keys);
		json_decref(arr);
		return NULL;
	}
	json_object_foreach(set, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, json_string(keys[i]))) {
			json_decref(arr);
			arr = NULL;
			break;
		}
	free(keys);
	return arr;
}

struct domain_figures {
	json_int_t services;
	json_t *missing_dpa, *outside, *unknown; /* arrays */
	json_t *categories, *locations;          /* sets */
};

/* Account for one active service (a row of the query in domain_report). */
static int add_service(struct domain_figures *d, struct hc_stmt *st)
{
	const char *dpa = hc_stmt_text(st, 3, NULL);
	const char *loc = hc_stmt_isnull(st, 4) ? NULL
						: hc_stmt_text(st, 4, NULL);
	size_t len = 0;
	const char *cats = hc_stmt_text(st, 5, &len);
	json_t *brief = json_pack("{ssssssssss?}", "id",
				  hc_stmt_text(st, 0, NULL),
				  "vendor", hc_stmt_text(st, 1, NULL),
				  "service", hc_stmt_text(st, 2, NULL),
				  "dpa_status", dpa, "processing_location",
				  loc);
	json_t *arr = cats ? json_loadb(cats, len, 0, NULL) : NULL, *v;
	size_t i;
	int rc = brief ? HC_OK : HC_ENOMEM;

	d->services++;
	if (rc == HC_OK && (strcmp(dpa, "none") == 0 ||
			    strcmp(dpa, "requested") == 0))
		rc = json_array_append(d->missing_dpa, brief) ? HC_ENOMEM
							       : HC_OK;
	if (rc == HC_OK && !loc)
		rc = json_array_append(d->unknown, brief) ? HC_ENOMEM : HC_OK;
	if (rc == HC_OK && loc) {
		if (json_object_set_new(d->locations, loc, json_true()))
			rc = HC_ENOMEM;
		else if (!hc_location_in_eea(loc) &&
			 json_array_append(d->outside, brief))
			rc = HC_ENOMEM;
	}
	json_array_foreach(arr, i, v)
		if (rc == HC_OK && json_is_string(v) &&
		    json_object_set_new(d->categories, json_string_value(v),
					json_true()))
			rc = HC_ENOMEM;
	json_decref(brief);
	json_decref(arr);
	return rc;
}

static int domain_report(struct hc_conn *c, const char *slug, json_t *list,
			 struct hc_err *err)
{
	static const char active[] = "domain = ? AND status = 'active'";
	struct hc_value p[] = { hc_vtext(slug) };
	struct domain_figures d = { 0 };
	json_t *by_basis = NULL, *by_dpa = NULL, *cats = NULL, *locs = NULL;
	json_t *report = NULL;
	struct hc_stmt *st = NULL;
	int64_t retired = 0;
	int rc;

	d.missing_dpa = json_array();
	d.outside = json_array();
	d.unknown = json_array();
	d.categories = json_object();
	d.locations = json_object();
	if (!d.missing_dpa || !d.outside || !d.unknown || !d.categories ||
	    !d.locations) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	rc = hc_res_count_by(c, &hc_tpsc_service_resource, "legal_basis",
			     active, p, 1, &by_basis, err);
	if (rc == HC_OK)
		rc = hc_res_count_by(c, &hc_tpsc_service_resource,
				     "dpa_status", active, p, 1, &by_dpa, err);
	if (rc == HC_OK)
		rc = hc_query_int(c, &retired,
				  "SELECT count(*) FROM tpsc_services WHERE "
				  "domain = ? AND status = 'retired'",
				  p, 1, err);
	if (rc == HC_OK)
		rc = hc_query(c, &st,
			      "SELECT id, vendor, service, dpa_status, "
			      "processing_location, data_categories FROM "
			      "tpsc_services WHERE domain = ? AND status = "
			      "'active' ORDER BY vendor, service, seq",
			      p, 1, err);
	if (rc != HC_OK)
		goto out;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY)
		if (add_service(&d, st) != HC_OK) {
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
			goto out;
		}
	if (rc != HC_ROW_DONE)
		goto out;
	/* an unrecorded legal basis is counted as "none", always shown */
	if (!json_object_get(by_basis, "none"))
		json_object_set_new(by_basis, "none", json_integer(0));
	cats = sorted_keys(d.categories);
	locs = sorted_keys(d.locations);
	report = json_pack("{sssIsIsOsOsOsOsOsOsO}", "domain", slug,
			   "services", d.services, "retired",
			   (json_int_t)retired, "by_legal_basis", by_basis,
			   "by_dpa_status", by_dpa, "missing_dpa",
			   d.missing_dpa, "data_categories", cats,
			   "processing_locations", locs, "outside_eea",
			   d.outside, "unknown_location", d.unknown);
	if (!report || json_array_append_new(list, report))
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	else
		rc = HC_OK;
out:
	hc_stmt_finish(st);
	json_decref(by_basis);
	json_decref(by_dpa);
	json_decref(cats);
	json_decref(locs);
	json_decref(d.missing_dpa);
	json_decref(d.outside);
	json_decref(d.unknown);
	json_decref(d.categories);
	json_decref(d.locations);
	return rc;
}

int hc_gdpr_report(struct hc_conn *c, const char *domain, json_t **out,
		   struct hc_err *err)
{
	char now[HC_TIME_LEN + 1];
	json_t *list = json_array(), *res = NULL;
	struct hc_stmt *st = NULL;
	char *slug = NULL;
	bool own = false;
	int rc = list ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");

	/* One consistent snapshot for every figure. */
	if (rc == HC_OK)
		rc = begin_if_needed(c, false, &own, err);
	if (rc != HC_OK)
		goto out;
	if (domain) {
		rc = hc_res_resolve(c, &hc_domain_resource, domain, "slug",
				    &slug, err);
		if (rc == HC_OK)
			rc = domain_report(c, slug, list, err);
		goto done;
	}
	rc = hc_query(c, &st,
		      "SELECT DISTINCT domain FROM tpsc_services ORDER BY "
		      "domain",
		      NULL, 0, err);
	while (rc == HC_OK && (rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		free(slug);
		slug = strdup(hc_stmt_text(st, 0, NULL));
		rc = slug ? domain_report(c, slug, list, err)
			  : hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	if (rc == HC_ROW_DONE)
		rc = HC_OK;
done:
	if (rc != HC_OK)
		goto out;
	hc_time_now(now);
	res = json_pack("{sssO}", "generated_at", now, "domains", list);
	if (res)
		*out = res;
	else
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
out:
	hc_stmt_finish(st);
	if (own)
		hc_tx_rollback(c); /* read-only: nothing to commit */
	json_decref(list);
	free(slug);
	return rc;
}
