/*
 * doi.c - the definition of integration (DoI) as hub-core serves it: the
 * MCP tools and REST routes call these, which hand over to the hub's
 * evaluator (hc_hub_def.doi) or say that there is none.
 */
#include "hubcore/hub.h"

static int not_configured(const struct hc_hub *hub, struct hc_err *err)
{
	return hc_err_set(err, HC_EBADREQ,
			  "the definition-of-integration evaluator is not "
			  "configured on %s, so no check was run",
			  hub->def->name);
}

int hc_doi_check(struct hc_hub *hub, struct hc_conn *c, const char *repo,
		 bool refresh, json_t **out, struct hc_err *err)
{
	const struct hc_doi_evaluator *e = hub->def->doi;
	if (!e || !e->check)
		return not_configured(hub, err);
	if (!repo || !*repo)
		return hc_err_field(err, HC_EINVAL, "repo",
				    "missing required field 'repo'");
	return e->check(hub, c, repo, refresh, out, err);
}

int hc_doi_summary(struct hc_hub *hub, struct hc_conn *c, const char *domain,
		   bool refresh, json_t **out, struct hc_err *err)
{
	const struct hc_doi_evaluator *e = hub->def->doi;
	if (!e || !e->summary)
		return not_configured(hub, err);
	return e->summary(hub, c, domain && *domain ? domain : NULL, refresh,
			  out, err);
}
