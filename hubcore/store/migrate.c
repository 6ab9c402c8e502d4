/*
 * migrate.c - versioned schema migrations (see hc_migrate in
 * hubcore/store.h).
 */
#include <stdio.h>
#include <string.h>

#include "hubcore/resource.h"
#include "hubcore/store.h"
#include "hubcore/util.h"

static const char create_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" component TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" applied_at TEXT NOT NULL,"
	" PRIMARY KEY (component, version))";

int hc_schema_version(struct hc_conn *c, const char *component, int *version,
		      struct hc_err *err)
{
	int64_t v = 0;
	struct hc_value p[] = { hc_vtext(component) };
	int rc = hc_query_int(c, &v,
			      "SELECT coalesce(max(version), 0) FROM "
			      "schema_migrations WHERE component = ?",
			      p, 1, err);
	*version = (int)v;
	return rc;
}

static void check_set(const struct hc_migration_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		const struct hc_migration *m = &set->steps[i];
		int kinds = !!m->sql + !!m->resources + !!m->fn;
		if (m->version != (int)i + 1)
			HC_BUG("migration %s/%d out of order (expected %zu)",
			       set->component, m->version, i + 1);
		if (kinds != 1)
			HC_BUG("migration %s/%d must have exactly one of sql, "
			       "resources, fn",
			       set->component, m->version);
	}
}

static int run_step(struct hc_conn *c, const struct hc_dialect *d,
		    const struct hc_migration *m, struct hc_err *err)
{
	if (m->sql)
		return hc_exec_script(c, m->sql, err);
	if (m->fn)
		return m->fn(c, d, err);
	for (const struct hc_resource *const *r = m->resources; *r; r++) {
		int rc = hc_res_migrate(c, d, *r, m->version, err);
		if (rc != HC_OK)
			return rc;
	}
	return HC_OK;
}

/* Apply one step in its own write transaction, re-reading the version
 * under the write lock so that two processes never apply it twice. */
static int apply_step(struct hc_conn *c, const struct hc_dialect *d,
		      const struct hc_migration_set *set,
		      const struct hc_migration *m, bool *applied,
		      struct hc_err *err)
{
	char now[HC_TIME_LEN + 1];
	int current = 0;
	int rc;
	struct hc_err cause = { 0 };

	*applied = false;
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_schema_version(c, set->component, &current, err);
	if (rc != HC_OK)
		goto fail_plain;
	if (current >= m->version) {
		hc_tx_rollback(c);
		return HC_OK;
	}
	rc = run_step(c, d, m, &cause);
	hc_time_now(now);
	if (rc == HC_OK) {
		struct hc_value p[] = { hc_vtext(set->component),
					hc_vint(m->version), hc_vtext(m->name),
					hc_vtext(now) };
		rc = hc_exec(c,
			     "INSERT INTO schema_migrations (component, "
			     "version, name, applied_at) VALUES (?, ?, ?, ?)",
			     p, 4, &cause);
	}
	if (rc == HC_OK)
		rc = hc_tx_commit(c, &cause);
	if (rc != HC_OK) {
		hc_tx_rollback(c);
		return hc_err_set(err, HC_ESCHEMA,
				  "migration %s/%d '%s' failed, database "
				  "left at %s/%d: %s",
				  set->component, m->version, m->name,
				  set->component, current, cause.msg);
	}
	*applied = true;
	return HC_OK;
fail_plain:
	hc_tx_rollback(c);
	return rc;
}

int hc_migrate(struct hc_store *s, const struct hc_migration_set *const *sets,
	       size_t nsets, int *applied, struct hc_err *err)
{
	const struct hc_dialect *d = hc_store_dialect(s);
	struct hc_conn *c = hc_store_acquire(s, err);
	int rc = HC_OK, count = 0;

	if (!c)
		return err ? err->status : HC_ESTORE;
	/* One migrating process at a time: the others wait, then find the
	 * steps applied. */
	rc = hc_lock_wait(c, "foshub.migrate", err);
	if (rc != HC_OK) {
		hc_store_release(s, c);
		return rc;
	}
	rc = hc_exec_script(c, create_table_sql, err);
	for (size_t i = 0; rc == HC_OK && i < nsets; i++) {
		const struct hc_migration_set *set = sets[i];
		int current = 0;
		check_set(set);
		rc = hc_schema_version(c, set->component, &current, err);
		if (rc != HC_OK)
			break;
		if (current > (int)set->count) {
			rc = hc_err_set(err, HC_ESCHEMA,
					"database schema %s/%d is newer than "
					"this binary, which knows up to "
					"%s/%zu; upgrade foshub",
					set->component, current,
					set->component, set->count);
			break;
		}
		for (size_t k = (size_t)current; k < set->count; k++) {
			bool did = false;
			rc = apply_step(c, d, set, &set->steps[k], &did, err);
			if (rc != HC_OK)
				break;
			count += did;
		}
		/* tables made by an older foshub get the system columns
		 * added since (row_version) */
		for (size_t k = 0; rc == HC_OK && k < set->count; k++) {
			const struct hc_resource *const *r =
				set->steps[k].resources;
			for (; rc == HC_OK && r && *r; r++)
				rc = hc_res_ensure_system_columns(c, *r, err);
		}
	}
	hc_lock_release(c, "foshub.migrate", NULL);
	hc_store_release(s, c);
	if (applied)
		*applied = count;
	return rc;
}
