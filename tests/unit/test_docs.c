/*
 * test_docs.c - the API reference stays true to the code: every field of
 * every resource a hub serves, and every resource path, is documented in
 * docs/api.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/devhub.h"
#include "finhub/finhub.h"
#include "opshub/opshub.h"
#include "testutil.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_every_field_documented(void **state)
{
	char *doc = slurp("docs/api.md");
	for (size_t i = 0; i < devhub_def.nresources; i++) {
		const struct hc_resource *r = devhub_def.resources[i];
		char want[160];
		snprintf(want, sizeof(want), "`/%s`", r->plural);
		if (!strstr(doc, want))
			fail_msg("docs/api.md does not mention %s", want);
		for (size_t k = 0; k < r->nfields; k++) {
			snprintf(want, sizeof(want), "`%s`", r->fields[k].name);
			if (!strstr(doc, want))
				fail_msg("docs/api.md does not document %s.%s",
					 r->name, r->fields[k].name);
			for (const char *const *v = r->fields[k].enum_values;
			     v && *v; v++)
				if (!strstr(doc, *v))
					fail_msg("docs/api.md lacks value '%s' "
						 "of %s.%s",
						 *v, r->name, r->fields[k].name);
		}
	}
	free(doc);
}

/* fin-hub's own resources (tables fin_*) are documented in
 * docs/fin-hub.md, field by field and enum value by value. */
static void test_fin_fields_documented(void **state)
{
	char *doc = slurp("docs/fin-hub.md");
	for (size_t i = 0; i < finhub_def.nresources; i++) {
		const struct hc_resource *r = finhub_def.resources[i];
		char want[160];
		if (strncmp(r->table, "fin_", 4) != 0)
			continue;
		snprintf(want, sizeof(want), "`/%s`", r->plural);
		if (!strstr(doc, want))
			fail_msg("docs/fin-hub.md does not mention %s", want);
		for (size_t k = 0; k < r->nfields; k++) {
			snprintf(want, sizeof(want), "`%s`", r->fields[k].name);
			if (!strstr(doc, want))
				fail_msg("docs/fin-hub.md does not document "
					 "%s.%s",
					 r->name, r->fields[k].name);
			for (const char *const *v = r->fields[k].enum_values;
			     v && *v; v++)
				if (!strstr(doc, *v))
					fail_msg("docs/fin-hub.md lacks value "
						 "'%s' of %s.%s",
						 *v, r->name,
						 r->fields[k].name);
		}
	}
	free(doc);
}

/* ops-hub's own resources are documented in docs/ops-hub.md the same
 * way; the hub-core ones it serves are in docs/api.md. */
static void test_ops_fields_documented(void **state)
{
	const struct hc_resource *const ops[] = {
		&oh_location_resource,	  &oh_service_resource,
		&oh_probe_result_resource, &oh_maintenance_resource,
		&oh_incident_resource,	  &oh_runbook_resource,
		&oh_runbook_execution_resource, &oh_access_path_resource,
		&oh_debt_resource,	  &oh_change_resource,
	};
	char *doc = slurp("docs/ops-hub.md");
	size_t served = 0;
	for (size_t i = 0; i < opshub_def.nresources; i++)
		for (size_t k = 0; k < HC_COUNT(ops); k++)
			served += opshub_def.resources[i] == ops[k];
	assert_int_equal(served, HC_COUNT(ops));
	for (size_t i = 0; i < HC_COUNT(ops); i++) {
		const struct hc_resource *r = ops[i];
		char want[160];
		snprintf(want, sizeof(want), "`/%s`", r->plural);
		if (!strstr(doc, want))
			fail_msg("docs/ops-hub.md does not mention %s", want);
		for (size_t k = 0; k < r->nfields; k++) {
			snprintf(want, sizeof(want), "`%s`", r->fields[k].name);
			if (!strstr(doc, want))
				fail_msg("docs/ops-hub.md does not document "
					 "%s.%s",
					 r->name, r->fields[k].name);
			for (const char *const *v = r->fields[k].enum_values;
			     v && *v; v++)
				if (!strstr(doc, *v))
					fail_msg("docs/ops-hub.md lacks value "
						 "'%s' of %s.%s",
						 *v, r->name,
						 r->fields[k].name);
		}
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_documented),
		cmocka_unit_test(test_fin_fields_documented),
		cmocka_unit_test(test_ops_fields_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
