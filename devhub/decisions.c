/*
 * decisions.c - decisions: what was chosen, in which context, and why.
 */
#include <string.h>

#include "devhub/devhub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

static const char *const decision_statuses[] = {
	"proposed", "accepted", "rejected", "superseded", "deprecated", NULL
};

static int decision_make_id(struct hc_conn *c, const struct hc_resource *r,
			    const json_t *obj, char *out, size_t out_size,
			    struct hc_err *err)
{
	if (out_size < HC_UUID_LEN + 1 || hc_uuid_v4(out) != HC_OK)
		return hc_err_set(err, HC_EIO, "cannot make an id");
	return HC_OK;
}

/* A decision of a workstream belongs to the workstream's domain. */
static int decision_prepare(struct hc_conn *c, const struct hc_resource *r,
			    enum hc_write_mode mode, json_t *obj,
			    const json_t *old, struct hc_err *err)
{
	const char *ws = hc_json_str(obj, "workstream");
	const char *domain = hc_json_str(obj, "domain");
	const char *ws_domain;
	json_t *row = NULL;
	int rc;
	if (!ws)
		return HC_OK;
	rc = hc_res_get_plain(c, &dh_workstream_resource, ws, &row, err);
	if (rc != HC_OK)
		return rc;
	ws_domain = hc_json_str(row, "domain");
	if (!domain)
		rc = hc_json_set_str(obj, "domain", ws_domain);
	else if (strcmp(domain, ws_domain) != 0)
		rc = hc_err_field(err, HC_EINVAL, "domain",
				  "field 'domain': workstream '%s' belongs to "
				  "domain '%s', not '%s'",
				  ws, ws_domain, domain);
	json_decref(row);
	return rc;
}

static const struct hc_field decision_fields[] = {
	{ .name = "title", .type = HC_FT_STRING, .flags = HC_F_REQUIRED,
	  .max_len = 300, .doc = "The question decided." },
	{ .name = "domain", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_AUTO,
	  .ref = &hc_domain_resource, .ref_field = "slug",
	  .doc = "The domain; defaults to the workstream's." },
	{ .name = "workstream", .type = HC_FT_REF, .flags = HC_F_FILTER,
	  .ref = &dh_workstream_resource, .ref_field = "id",
	  .doc = "The workstream the decision belongs to, if any." },
	{ .name = "context", .type = HC_FT_TEXT,
	  .doc = "The situation that called for a decision." },
	{ .name = "choice", .type = HC_FT_TEXT, .doc = "What was chosen." },
	{ .name = "rationale", .type = HC_FT_TEXT, .doc = "Why." },
	{ .name = "status", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER,
	  .enum_values = decision_statuses, .default_value = "proposed",
	  .doc = "proposed, accepted, rejected, superseded or deprecated." },
	{ .name = "decided_on", .type = HC_FT_DATE,
	  .doc = "When it was decided." },
};

const struct hc_resource dh_decision_resource = {
	.name = "decision",
	.plural = "decisions",
	.table = "decisions",
	.doc = "A decision with its context, choice and rationale.",
	.id_policy = HC_ID_HOOK,
	.fields = decision_fields,
	.nfields = HC_COUNT(decision_fields),
	.hooks = { .prepare = decision_prepare,
		   .make_id = decision_make_id },
};
