/*
 * hubcore/tpsc.h - the third-party service catalog (TPSC) for GDPR: which
 * outside vendors' services each domain uses, for what, with which data,
 * where they process it, on which legal basis, and whether a data
 * processing agreement (DPA) is in place; and the report built from it.
 *
 * A service is one row per (domain, vendor, service). REST handlers and
 * MCP tools both call the functions below.
 */
#ifndef HUBCORE_TPSC_H
#define HUBCORE_TPSC_H

#include <jansson.h>
#include <stdbool.h>

#include "hubcore/resource.h"
#include "hubcore/status.h"
#include "hubcore/store.h"

/* /tpsc/services */
extern const struct hc_resource hc_tpsc_service_resource;

/* consent, contract, legal_obligation, vital_interests, public_task,
 * legitimate_interests (GDPR Art. 6(1)) */
extern const char *const hc_tpsc_legal_bases[];
/* none, requested, signed, not_required */
extern const char *const hc_tpsc_dpa_statuses[];

/*
 * The processing locations inside the EU/EEA: the ISO 3166-1 alpha-2 codes
 * of the EU and EEA member states (with "EL", the EU's code for Greece),
 * and "EU" and "EEA" themselves. NULL-terminated, upper case. Anything else
 * (US, GB, CH, "global", ...) counts as outside.
 */
extern const char *const hc_eea_locations[];
/* True when loc (any case) is one of hc_eea_locations. */
bool hc_location_in_eea(const char *loc);

/*
 * Insert or update the service of entry by (domain, vendor, service), the
 * operation behind "ingest": the first ingest creates it, an ingest with
 * the same values changes nothing (not even updated_at), and fields absent
 * from entry keep their stored values. entry must not carry an id; it is
 * validated here and modified (defaults, canonical references). created
 * and changed (may be NULL) tell what happened; out (may be NULL) receives
 * the row as stored.
 */
int hc_tpsc_ingest(struct hc_conn *c, json_t *entry, bool *created,
		   bool *changed, json_t **out, struct hc_err *err);

/*
 * The GDPR report of one domain (by slug or id; HC_ENOTFOUND when there is
 * none) or, with domain NULL, of every domain that has services:
 *
 *   {"generated_at": "...", "domains": [{
 *      "domain": "custodian",
 *      "services": 3,       active services (retired ones are not counted
 *      "retired": 1,          anywhere else)
 *      "by_legal_basis": {"consent": 1, ..., "none": 0},
 *      "by_dpa_status": {"none": 1, "requested": 0, "signed": 2,
 *                        "not_required": 0},
 *      "missing_dpa": [services whose dpa_status is none or requested],
 *      "data_categories": [sorted union],
 *      "processing_locations": [sorted, distinct],
 *      "outside_eea": [services processing outside the EU/EEA],
 *      "unknown_location": [services without a processing_location]
 *   }]}
 *
 * The service lists hold {"id", "vendor", "service", "dpa_status",
 * "processing_location"}, ordered by vendor and service.
 */
int hc_gdpr_report(struct hc_conn *c, const char *domain, json_t **out,
		   struct hc_err *err);

#endif
