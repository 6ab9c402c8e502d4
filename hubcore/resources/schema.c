/*
 * schema.c - SQL schema generated from resource descriptors.
 *
 * A table holds: seq (the ordering and pagination key), id (the public
 * identifier), one column per field, created_at, updated_at and
 * row_version (the "revision" of a row: 1 when created, one more with each
 * change; guarded updates and REST ETags use it). Unique and
 * key fields get UNIQUE constraints, unique constraints over several fields
 * get a unique index each, references get foreign keys that follow renames
 * (ON UPDATE CASCADE), and filterable or referencing fields get an index on
 * (field, seq) so that a filtered page is an index range scan.
 */
#include <stdio.h>
#include <string.h>

#include "hubcore/buf.h"
#include "hubcore/resource.h"

enum hc_coltype hc_field_coltype(const struct hc_field *f)
{
	switch (f->type) {
	case HC_FT_INT:
		return HC_COL_INT;
	case HC_FT_BOOL:
		return HC_COL_BOOL;
	case HC_FT_JSON:
		return HC_COL_JSON;
	default:
		return HC_COL_TEXT;
	}
}

static int column_def(struct hc_buf *b, const struct hc_dialect *d,
		      const struct hc_field *f, bool added)
{
	int rc = hc_buf_addf(b, "\"%s\" %s", f->name,
			     d->type_name(hc_field_coltype(f)));
	/* NOT NULL only where every existing row can satisfy it. */
	if (rc == HC_OK && (f->flags & HC_F_REQUIRED) && !added)
		rc = hc_buf_adds(b, " NOT NULL");
	if (rc == HC_OK && (f->flags & (HC_F_UNIQUE | HC_F_KEY)) && !added)
		rc = hc_buf_adds(b, " UNIQUE");
	if (rc == HC_OK && f->type == HC_FT_REF)
		rc = hc_buf_addf(b, " REFERENCES %s(%s) ON UPDATE CASCADE",
				 f->ref->table,
				 f->ref_field ? f->ref_field : "id");
	return rc;
}

static bool wants_index(const struct hc_field *f)
{
	return (f->flags & (HC_F_FILTER | HC_F_INDEX)) ||
	       f->type == HC_FT_REF;
}

static int create_index(struct hc_conn *c, const struct hc_resource *r,
			const struct hc_field *f, struct hc_err *err)
{
	struct hc_buf sql = HC_BUF_INIT(4096);
	int rc = hc_buf_addf(&sql,
			     "CREATE INDEX IF NOT EXISTS %s_%s_idx ON %s "
			     "(\"%s\", seq)",
			     r->table, f->name, r->table, f->name);
	if (rc == HC_OK)
		rc = hc_exec_script(c, sql.data, err);
	else
		rc = hc_err_set(err, HC_EINTERNAL, "statement too long");
	hc_buf_release(&sql);
	return rc;
}

/* CREATE UNIQUE INDEX <table>_<f1>_<f2>..._key ON <table> (f1, f2, ...):
 * an index rather than a table constraint, so that a later version can add
 * one to an existing table. */
static int create_unique(struct hc_conn *c, const struct hc_resource *r,
			 const struct hc_unique *u, struct hc_err *err)
{
	struct hc_buf sql = HC_BUF_INIT(4096);
	int rc = hc_buf_addf(&sql, "CREATE UNIQUE INDEX IF NOT EXISTS %s",
			     r->table);
	for (const char *const *f = u->fields; rc == HC_OK && *f; f++)
		rc = hc_buf_addf(&sql, "_%s", *f);
	if (rc == HC_OK)
		rc = hc_buf_addf(&sql, "_key ON %s (", r->table);
	for (const char *const *f = u->fields; rc == HC_OK && *f; f++)
		rc = hc_buf_addf(&sql, "%s\"%s\"", f == u->fields ? "" : ", ",
				 *f);
	if (rc == HC_OK)
		rc = hc_buf_adds(&sql, ")");
	if (rc == HC_OK)
		rc = hc_exec_script(c, sql.data, err);
	else
		rc = hc_err_set(err, HC_EINTERNAL, "statement too long");
	hc_buf_release(&sql);
	return rc;
}

/* Names go into SQL text, so they must be plain identifiers. */
static bool identifier(const char *s)
{
	if (!*s || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return false;
	return true;
}

static void check_names(const struct hc_resource *r)
{
	if (!identifier(r->table))
		HC_BUG("table name '%s' is not an identifier", r->table);
	for (size_t i = 0; i < r->nfields; i++) {
		const struct hc_field *f = &r->fields[i];
		if (!identifier(f->name))
			HC_BUG("field name '%s.%s' is not an identifier",
			       r->table, f->name);
		if (f->type == HC_FT_REF && !f->ref)
			HC_BUG("reference %s.%s has no target", r->table,
			       f->name);
		if (f->type == HC_FT_ENUM && !f->enum_values)
			HC_BUG("enum %s.%s has no values", r->table, f->name);
	}
	for (size_t i = 0; i < r->nuniques; i++) {
		const struct hc_unique *u = &r->uniques[i];
		if (!u->fields || !u->fields[0])
			HC_BUG("unique constraint %zu of %s has no fields", i,
			       r->table);
		for (const char *const *f = u->fields; *f; f++) {
			const struct hc_field *fd = hc_res_field(r, *f);
			if (!fd)
				HC_BUG("unique constraint of %s names unknown "
				       "field '%s'",
				       r->table, *f);
			if (fd->since > u->since && fd->since > r->since)
				HC_BUG("unique constraint of %s is older than "
				       "its field '%s'",
				       r->table, *f);
		}
	}
}

int hc_res_migrate(struct hc_conn *c, const struct hc_dialect *d,
		   const struct hc_resource *r, int version,
		   struct hc_err *err)
{
	struct hc_buf sql = HC_BUF_INIT(64 * 1024);
	bool exists = false;
	int rc;

	if (r->since > version)
		return HC_OK;
	check_names(r);
	rc = hc_table_exists(c, r->table, &exists, err);
	if (rc != HC_OK)
		return rc;
	if (!exists) {
		rc = hc_buf_addf(&sql, "CREATE TABLE %s (%s, id TEXT NOT NULL "
				       "UNIQUE",
				 r->table, d->seq_column);
		for (size_t i = 0; rc == HC_OK && i < r->nfields; i++) {
			if (r->fields[i].since > version)
				continue;
			rc = hc_buf_adds(&sql, ", ");
			if (rc == HC_OK)
				rc = column_def(&sql, d, &r->fields[i], false);
		}
		if (rc == HC_OK)
			rc = hc_buf_adds(&sql, ", created_at TEXT NOT NULL, "
					       "updated_at TEXT NOT NULL, "
					       "row_version INTEGER NOT NULL "
					       "DEFAULT 1)");
		if (rc != HC_OK) {
			rc = hc_err_set(err, HC_EINTERNAL,
					"statement too long");
			goto out;
		}
		rc = hc_exec_script(c, sql.data, err);
		if (rc == HC_OK && d->table_created)
			rc = d->table_created(c, r->table, err);
		for (size_t i = 0; rc == HC_OK && i < r->nfields; i++)
			if (r->fields[i].since <= version &&
			    wants_index(&r->fields[i]))
				rc = create_index(c, r, &r->fields[i], err);
		for (size_t i = 0; rc == HC_OK && i < r->nuniques; i++)
			if (r->uniques[i].since <= version)
				rc = create_unique(c, r, &r->uniques[i], err);
		goto out;
	}
	for (size_t i = 0; i < r->nfields; i++) {
		const struct hc_field *f = &r->fields[i];
		if (f->since != version || f->since <= r->since)
			continue;
		hc_buf_reset(&sql);
		rc = hc_buf_addf(&sql, "ALTER TABLE %s ADD COLUMN ", r->table);
		if (rc == HC_OK)
			rc = column_def(&sql, d, f, true);
		if (rc != HC_OK) {
			rc = hc_err_set(err, HC_EINTERNAL,
					"statement too long");
			goto out;
		}
		rc = hc_exec_script(c, sql.data, err);
		if (rc == HC_OK && (f->flags & (HC_F_UNIQUE | HC_F_KEY))) {
			hc_buf_reset(&sql);
			hc_buf_addf(&sql,
				    "CREATE UNIQUE INDEX %s_%s_key ON %s "
				    "(\"%s\")",
				    r->table, f->name, r->table, f->name);
			rc = hc_exec_script(c, sql.data, err);
		}
		if (rc == HC_OK && wants_index(f))
			rc = create_index(c, r, f, err);
		if (rc != HC_OK)
			goto out;
	}
	/* Constraints added after the table, once their columns exist (rows
	 * that already collide make this step fail, and so the migration). */
	for (size_t i = 0; rc == HC_OK && i < r->nuniques; i++)
		if (r->uniques[i].since == version &&
		    r->uniques[i].since > r->since)
			rc = create_unique(c, r, &r->uniques[i], err);
out:
	hc_buf_release(&sql);
	return rc;
}

int hc_res_ensure_system_columns(struct hc_conn *c,
				 const struct hc_resource *r,
				 struct hc_err *err)
{
	char sql[256];
	bool exists = false;
	int rc = hc_table_exists(c, r->table, &exists, err);
	if (rc != HC_OK || !exists)
		return rc;
	rc = hc_column_exists(c, r->table, "row_version", &exists, err);
	if (rc != HC_OK || exists)
		return rc;
	snprintf(sql, sizeof(sql),
		 "ALTER TABLE %s ADD COLUMN row_version INTEGER NOT NULL "
		 "DEFAULT 1",
		 r->table);
	return hc_exec_script(c, sql, err);
}
