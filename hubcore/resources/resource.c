/*
 * resource.c - the generic service functions over described resources:
 * create, read, update, upsert, list with keyset pagination, and counts.
 *
 * SQL is generated from the descriptor: table and column names come only
 * from the (const, compiled-in) descriptor, and every value is a bound
 * parameter. Rows travel as jansson objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "hubcore/resource.h"
#include "hubcore/util.h"
#include "resource_internal.h"

#define SQL_MAX (64 * 1024)

/* Column order of every SELECT: seq, id, fields..., created_at, updated_at,
 * row_version (shown as "revision") */
#define COL_SEQ 0
#define COL_ID 1
#define COL_FIELD0 2

/* pre "name" post: SQL is built for every row read or written, and
 * hc_buf_addf's printf was 13% of an import's instructions (callgrind). */
static int add_name(struct hc_buf *b, const char *pre, const char *name,
		    const char *post)
{
	int rc = hc_buf_adds(b, pre);
	if (rc == HC_OK)
		rc = hc_buf_addc(b, '"');
	if (rc == HC_OK)
		rc = hc_buf_adds(b, name);
	if (rc == HC_OK)
		rc = hc_buf_addc(b, '"');
	if (rc == HC_OK)
		rc = hc_buf_adds(b, post);
	return rc;
}

static int add_select(struct hc_buf *b, const struct hc_resource *r)
{
	int rc = hc_buf_adds(b, "SELECT seq, id");
	for (size_t i = 0; rc == HC_OK && i < r->nfields; i++)
		rc = add_name(b, ", ", r->fields[i].name, "");
	if (rc == HC_OK)
		rc = hc_buf_addf(b,
				 ", created_at, updated_at, row_version FROM %s",
				 r->table);
	return rc;
}

static json_t *column_json(struct hc_stmt *st, int col,
			   const struct hc_field *f)
{
	size_t len;
	const char *s;
	if (hc_stmt_isnull(st, col))
		return json_null();
	switch (f->type) {
	case HC_FT_INT:
		return json_integer(hc_stmt_int(st, col));
	case HC_FT_BOOL:
		return json_boolean(hc_stmt_int(st, col) != 0);
	case HC_FT_JSON:
		s = hc_stmt_text(st, col, &len);
		return json_loadb(s, len, JSON_DECODE_ANY, NULL);
	default:
		s = hc_stmt_text(st, col, &len);
		return hc_json_stringn(s ? s : "", len);
	}
}

static int row_json(struct hc_stmt *st, const struct hc_resource *r,
		    json_t **out, int64_t *seq, struct hc_err *err)
{
	json_t *o = json_object();
	size_t len;
	const char *s;
	int col = COL_FIELD0;

	if (!o)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	s = hc_stmt_text(st, COL_ID, &len);
	if (json_object_set_new(o, "id", hc_json_stringn(s ? s : "", len)))
		goto nomem;
	for (size_t i = 0; i < r->nfields; i++, col++) {
		json_t *v = column_json(st, col, &r->fields[i]);
		if (!v) {
			json_decref(o);
			return hc_err_field(err, HC_ESTORE, r->fields[i].name,
					    "stored value of %s.%s is not "
					    "valid JSON",
					    r->table, r->fields[i].name);
		}
		if (json_object_set_new(o, r->fields[i].name, v))
			goto nomem;
	}
	s = hc_stmt_text(st, col, &len);
	if (json_object_set_new(o, "created_at",
				hc_json_stringn(s ? s : "", len)))
		goto nomem;
	s = hc_stmt_text(st, col + 1, &len);
	if (json_object_set_new(o, "updated_at",
				hc_json_stringn(s ? s : "", len)))
		goto nomem;
	if (json_object_set_new(o, "revision",
				json_integer(hc_stmt_int(st, col + 2))))
		goto nomem;
	if (seq)
		*seq = hc_stmt_int(st, COL_SEQ);
	*out = o;
	return HC_OK;
nomem:
	json_decref(o);
	return hc_err_set(err, HC_ENOMEM, "out of memory");
}

/* ---- rows as JSON text --------------------------------------------------- */

/*
 * The same row as row_json, written straight into JSON text: byte for byte
 * what hc_json_dump(row_json(...)) gives (tests/unit/test_resource.c
 * compares them), without the json_t tree: building and freeing it (about
 * fifty allocations a task) was a third of the CPU of a page of 50 tasks.
 * REST answers use it; everything that works on rows keeps row_json.
 */
static int add_key(struct hc_buf *b, const char *name, bool first)
{
	int rc = hc_buf_addc(b, first ? '{' : ',');
	if (rc == HC_OK)
		rc = hc_json_add_text(b, name, strlen(name));
	if (rc == HC_OK)
		rc = hc_buf_addc(b, ':');
	return rc;
}

static int column_text(struct hc_stmt *st, int col, const struct hc_field *f,
		       struct hc_buf *b)
{
	size_t len = 0;
	const char *s;
	if (hc_stmt_isnull(st, col))
		return hc_buf_add(b, "null", 4);
	switch (f->type) {
	case HC_FT_INT: {
		char num[32];
		int n = snprintf(num, sizeof(num), "%lld",
				 (long long)hc_stmt_int(st, col));
		return hc_buf_add(b, num, (size_t)n);
	}
	case HC_FT_BOOL:
		return hc_stmt_int(st, col) != 0 ? hc_buf_add(b, "true", 4)
						 : hc_buf_add(b, "false", 5);
	case HC_FT_JSON: {
		json_t *v;
		int rc;
		s = hc_stmt_text(st, col, &len);
		v = json_loadb(s, len, JSON_DECODE_ANY, NULL);
		if (!v)
			return HC_EINVAL;
		rc = hc_json_add(b, v);
		json_decref(v);
		return rc;
	}
	default:
		s = hc_stmt_text(st, col, &len);
		return hc_json_add_text(b, s ? s : "", len);
	}
}

static int row_text(struct hc_stmt *st, const struct hc_resource *r,
		    struct hc_buf *b, int64_t *seq, int64_t *rev,
		    struct hc_err *err)
{
	static const char *const stamps[] = { "created_at", "updated_at" };
	size_t len;
	const char *s;
	int col = COL_FIELD0;
	int rc = add_key(b, "id", true);

	s = hc_stmt_text(st, COL_ID, &len);
	if (rc == HC_OK)
		rc = hc_json_add_text(b, s ? s : "", len);
	for (size_t i = 0; rc == HC_OK && i < r->nfields; i++, col++) {
		rc = add_key(b, r->fields[i].name, false);
		if (rc == HC_OK)
			rc = column_text(st, col, &r->fields[i], b);
		if (rc == HC_EINVAL)
			return hc_err_field(err, HC_ESTORE, r->fields[i].name,
					    "stored value of %s.%s is not "
					    "valid JSON",
					    r->table, r->fields[i].name);
	}
	for (int k = 0; rc == HC_OK && k < 2; k++, col++) {
		rc = add_key(b, stamps[k], false);
		s = hc_stmt_text(st, col, &len);
		if (rc == HC_OK)
			rc = hc_json_add_text(b, s ? s : "", len);
	}
	if (rc == HC_OK)
		rc = add_key(b, "revision", false);
	if (rc == HC_OK)
		rc = hc_buf_addf(b, "%lld}", (long long)hc_stmt_int(st, col));
	if (rc == HC_EINVAL)
		return hc_err_set(err, HC_ESTORE, "stored text of %s is not "
				  "valid UTF-8", r->table);
	if (rc != HC_OK)
		return hc_err_set(err, rc, "answer too large");
	if (seq)
		*seq = hc_stmt_int(st, COL_SEQ);
	if (rev)
		*rev = hc_stmt_int(st, col);
	return HC_OK;
}

/* ---- lookups ------------------------------------------------------------ */

/* " WHERE id = ? OR key1 = ? ... LIMIT 1 [FOR UPDATE]" with its
 * parameters (slug keys are compared with the normalized form of key);
 * slug holds that form. */
static int add_lookup(struct hc_buf *sql, const struct hc_resource *r,
		      const char *key, bool lock, struct hc_value params[8],
		      size_t *n, char slug[HC_SLUG_MAX + 1])
{
	int rc = hc_buf_adds(sql, " WHERE id = ?");
	*n = 0;
	params[(*n)++] = hc_vtext(key);
	for (size_t i = 0; rc == HC_OK && i < r->nfields && *n < 8; i++) {
		const struct hc_field *f = &r->fields[i];
		if (!(f->flags & HC_F_KEY))
			continue;
		rc = add_name(sql, " OR ", f->name, " = ?");
		if (f->type == HC_FT_SLUG &&
		    hc_slugify(key, strlen(key), slug, HC_SLUG_MAX + 1,
			       NULL) == HC_OK)
			params[(*n)++] = hc_vtext(slug);
		else
			params[(*n)++] = hc_vtext(key);
	}
	if (rc == HC_OK)
		rc = hc_buf_adds(sql, lock ? " LIMIT 1 FOR UPDATE" : " LIMIT 1");
	return rc;
}

/* SELECT ... WHERE id = ? OR key1 = ? ...: the row named by key, as a
 * json_t in *out or, when text is not NULL, as JSON text appended to it. */
static int load_row_as(struct hc_conn *c, const struct hc_resource *r,
		       const char *key, json_t **out, struct hc_buf *text,
		       int64_t *seq, int64_t *rev, bool lock,
		       struct hc_err *err)
{
	struct hc_buf sql = HC_BUF_INIT(SQL_MAX);
	struct hc_value params[8];
	char slug[HC_SLUG_MAX + 1];
	size_t n = 0;
	struct hc_stmt *st = NULL;
	int rc;

	rc = add_select(&sql, r);
	if (rc == HC_OK)
		rc = add_lookup(&sql, r, key, lock, params, &n, slug);
	if (rc != HC_OK) {
		hc_buf_release(&sql);
		return hc_err_set(err, rc, "query too long");
	}
	rc = hc_query(c, &st, sql.data, params, n, err);
	hc_buf_release(&sql);
	if (rc != HC_OK)
		return rc;
	rc = hc_stmt_step(st, err);
	if (rc == HC_ROW_READY)
		rc = text ? row_text(st, r, text, seq, rev, err)
			  : row_json(st, r, out, seq, err);
	else if (rc == HC_ROW_DONE)
		rc = hc_err_field(err, HC_ENOTFOUND, "id", "no %s '%s'",
				  r->name, key);
	hc_stmt_finish(st);
	return rc;
}

static int load_row(struct hc_conn *c, const struct hc_resource *r,
		    const char *key, json_t **out, int64_t *seq, bool lock,
		    struct hc_err *err)
{
	return load_row_as(c, r, key, out, NULL, seq, NULL, lock, err);
}

int hc_res_get_plain(struct hc_conn *c, const struct hc_resource *r,
		     const char *key, json_t **out, struct hc_err *err)
{
	return load_row(c, r, key, out, NULL, false, err);
}

int hc_res_get_locked(struct hc_conn *c, const struct hc_resource *r,
		      const char *key, json_t **out, struct hc_err *err)
{
	return load_row(c, r, key, out, NULL, hc_tx_active(c), err);
}

int hc_res_get(struct hc_conn *c, const struct hc_resource *r,
	       const char *key, json_t **out, struct hc_err *err)
{
	json_t *o = NULL;
	int rc = load_row(c, r, key, &o, NULL, false, err);
	if (rc == HC_OK && r->hooks.decorate)
		rc = r->hooks.decorate(c, r, o, err);
	if (rc != HC_OK) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return HC_OK;
}

int hc_res_get_text(struct hc_conn *c, const struct hc_resource *r,
		    const char *key, struct hc_buf *out, int64_t *revision,
		    struct hc_err *err)
{
	json_t *o = NULL;
	int rc;
	if (!r->hooks.decorate)
		return load_row_as(c, r, key, NULL, out, NULL, revision, false,
				   err);
	rc = hc_res_get(c, r, key, &o, err);
	if (rc == HC_OK && revision)
		*revision = json_integer_value(json_object_get(o, "revision"));
	if (rc == HC_OK && (rc = hc_json_add(out, o)) != HC_OK)
		rc = hc_err_set(err, rc, "answer too large");
	json_decref(o);
	return rc;
}

int hc_res_resolve(struct hc_conn *c, const struct hc_resource *r,
		   const char *value, const char *field, char **out,
		   struct hc_err *err)
{
	/* Only the one column: references are resolved for every row
	 * written (every task of a workplan import), and reading the whole
	 * row with its JSON columns showed as 17% of an import's profile. */
	struct hc_buf sql = HC_BUF_INIT(SQL_MAX);
	struct hc_value params[8];
	char slug[HC_SLUG_MAX + 1];
	struct hc_stmt *st = NULL;
	size_t n = 0, len = 0;
	const char *v = NULL;
	int rc;

	if (strcmp(field, "id") != 0 && !hc_res_field(r, field))
		HC_BUG("resolve to unknown field %s.%s", r->name, field);
	*out = NULL;
	rc = hc_buf_addf(&sql, "SELECT \"%s\" FROM %s", field, r->table);
	if (rc == HC_OK)
		rc = add_lookup(&sql, r, value, false, params, &n, slug);
	if (rc != HC_OK) {
		hc_buf_release(&sql);
		return hc_err_set(err, rc, "query too long");
	}
	rc = hc_query(c, &st, sql.data, params, n, err);
	hc_buf_release(&sql);
	if (rc != HC_OK)
		return rc;
	rc = hc_stmt_step(st, err);
	if (rc == HC_ROW_READY) {
		v = hc_stmt_isnull(st, 0) ? NULL : hc_stmt_text(st, 0, &len);
		*out = v ? strndup(v, len) : NULL;
		rc = *out ? HC_OK
			  : hc_err_set(err, v ? HC_ENOMEM : HC_EINTERNAL,
				       "cannot resolve %s '%s'", r->name,
				       value);
	} else if (rc == HC_ROW_DONE) {
		rc = hc_err_field(err, HC_ENOTFOUND, "id", "no %s '%s'",
				  r->name, value);
	}
	hc_stmt_finish(st);
	return rc;
}

/* ---- writes ------------------------------------------------------------- */

/* Replace every reference in obj by the canonical stored key of the row it
 * names (so a domain may be named by id or slug). */
static int resolve_refs(struct hc_conn *c, const struct hc_resource *r,
			json_t *obj, struct hc_err *err)
{
	for (size_t i = 0; i < r->nfields; i++) {
		const struct hc_field *f = &r->fields[i];
		json_t *v = json_object_get(obj, f->name);
		char *canon = NULL;
		struct hc_err e2 = { 0 };
		int rc;
		if (f->type != HC_FT_REF || !json_is_string(v))
			continue;
		if (!f->ref)
			HC_BUG("reference field %s.%s has no target", r->name,
			       f->name);
		rc = hc_res_resolve(c, f->ref, json_string_value(v),
				    f->ref_field ? f->ref_field : "id", &canon,
				    &e2);
		if (rc == HC_ENOTFOUND)
			return hc_err_field(err, HC_EINVAL, f->name,
					    "field '%s': no %s '%s'", f->name,
					    f->ref->name, json_string_value(v));
		if (rc != HC_OK) {
			*err = e2;
			return rc;
		}
		rc = json_object_set_new(obj, f->name, json_string(canon));
		free(canon);
		if (rc)
			return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	return HC_OK;
}

/* Bind the value of field f from obj; JSON values are serialized into
 * *owned, which the caller frees. */
static int bind_field(const struct hc_field *f, const json_t *obj,
		      struct hc_value *out, char **owned, struct hc_err *err)
{
	json_t *v = json_object_get(obj, f->name);
	*owned = NULL;
	if (!v || json_is_null(v)) {
		*out = hc_vnull();
		return HC_OK;
	}
	switch (f->type) {
	case HC_FT_INT:
		*out = hc_vint(json_integer_value(v));
		return HC_OK;
	case HC_FT_BOOL:
		*out = hc_vint(json_is_true(v) ? 1 : 0);
		return HC_OK;
	case HC_FT_JSON: {
		size_t len = 0;
		*owned = hc_json_dump(v, &len);
		if (!*owned)
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		*out = hc_vtextn(*owned, len);
		return HC_OK;
	}
	default:
		*out = hc_vtextn(json_string_value(v), json_string_length(v));
		return HC_OK;
	}
}

static int check_required(const struct hc_resource *r, const json_t *obj,
			  struct hc_err *err)
{
	for (size_t i = 0; i < r->nfields; i++) {
		const struct hc_field *f = &r->fields[i];
		json_t *v = json_object_get(obj, f->name);
		if ((f->flags & HC_F_REQUIRED) && (!v || json_is_null(v)))
			return hc_err_field(err, HC_EINVAL, f->name,
					    "missing required field '%s'",
					    f->name);
	}
	return HC_OK;
}

/* "domain 'x', vendor 'y' and service 'z'" for a conflict message. */
static void describe_values(const struct hc_unique *u, const json_t *obj,
			    struct hc_buf *b)
{
	size_t n = 0, i = 0;
	while (u->fields[n])
		n++;
	for (const char *const *f = u->fields; *f; f++, i++) {
		json_t *v = json_object_get(obj, *f);
		char *text = json_is_string(v) ? NULL
					       : json_dumps(v, JSON_ENCODE_ANY);
		hc_buf_addf(b, "%s%s '%s'",
			    i == 0 ? "" : i + 1 == n ? " and " : ", ", *f,
			    text ? text : json_string_value(v));
		free(text);
	}
}

/*
 * Refuse a write that would give two rows the same values of a unique
 * constraint over several fields, naming every value: the database's own
 * error names only one column. Inside the write transaction this check is
 * exact; the unique index stays the guarantee.
 */
static int check_uniques(struct hc_conn *c, const struct hc_resource *r,
			 const json_t *obj, struct hc_err *err)
{
	for (size_t i = 0; i < r->nuniques; i++) {
		const struct hc_unique *u = &r->uniques[i];
		struct hc_buf sql = HC_BUF_INIT(SQL_MAX);
		struct hc_value params[HC_FILTER_MAX_VALUES + 1];
		char *owned[HC_FILTER_MAX_VALUES] = { 0 };
		struct hc_stmt *st = NULL;
		const char *last = NULL;
		size_t np = 0;
		bool constrained = true;
		int rc = hc_buf_addf(&sql, "SELECT id FROM %s WHERE id <> ?",
				     r->table);

		params[np++] = hc_vtext(hc_json_str(obj, "id"));
		for (const char *const *f = u->fields; rc == HC_OK && *f; f++) {
			const struct hc_field *fd = hc_res_field(r, *f);
			if (np > HC_FILTER_MAX_VALUES)
				HC_BUG("unique constraint of %s has too many "
				       "fields",
				       r->table);
			rc = bind_field(fd, obj, &params[np], &owned[np - 1],
					err);
			if (rc == HC_OK && params[np].type == HC_V_NULL)
				constrained = false;
			np++;
			if (rc == HC_OK)
				rc = add_name(&sql, " AND ", *f, " = ?");
			last = *f;
		}
		if (rc == HC_OK && constrained) {
			rc = hc_buf_adds(&sql, " LIMIT 1");
			if (rc == HC_OK)
				rc = hc_query(c, &st, sql.data, params, np,
					      err);
			else
				rc = hc_err_set(err, HC_EINTERNAL,
						"query too long");
		}
		if (rc == HC_OK && st) {
			rc = hc_stmt_step(st, err);
			if (rc == HC_ROW_READY) {
				struct hc_buf what = HC_BUF_INIT(2048);
				describe_values(u, obj, &what);
				rc = hc_err_field(err, HC_ECONFLICT, last,
						  "a %s with %s already exists "
						  "(id %s)",
						  r->name,
						  what.data ? what.data : "",
						  hc_stmt_text(st, 0, NULL));
				hc_buf_release(&what);
			} else if (rc == HC_ROW_DONE) {
				rc = HC_OK;
			}
		}
		hc_stmt_finish(st);
		for (size_t k = 0; k + 1 < np; k++)
			free(owned[k]);
		hc_buf_release(&sql);
		if (rc != HC_OK)
			return rc;
	}
	return HC_OK;
}

/* INSERT (old == NULL) or UPDATE the row described by obj. */
static int store_row(struct hc_conn *c, const struct hc_resource *r,
		     const json_t *obj, bool insert, struct hc_err *err)
{
	struct hc_buf sql = HC_BUF_INIT(SQL_MAX);
	size_t np = 0, nf = r->nfields;
	struct hc_value *params = calloc(nf + 5, sizeof(*params));
	char **owned = calloc(nf + 1, sizeof(*owned));
	char now[HC_TIME_LEN + 1];
	const char *id = hc_json_str(obj, "id");
	int rc = HC_OK;

	if (!params || !owned) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	hc_time_now(now);
	if (insert) {
		rc = hc_buf_addf(&sql, "INSERT INTO %s (id", r->table);
		for (size_t i = 0; rc == HC_OK && i < nf; i++)
			rc = add_name(&sql, ", ", r->fields[i].name, "");
		if (rc == HC_OK)
			rc = hc_buf_adds(&sql, ", created_at, updated_at) "
					       "VALUES (?");
		for (size_t i = 0; rc == HC_OK && i < nf + 2; i++)
			rc = hc_buf_adds(&sql, ", ?");
		if (rc == HC_OK)
			rc = hc_buf_adds(&sql, ")");
		params[np++] = hc_vtext(id);
	} else {
		rc = hc_buf_addf(&sql, "UPDATE %s SET ", r->table);
		for (size_t i = 0; rc == HC_OK && i < nf; i++)
			rc = add_name(&sql, "", r->fields[i].name, " = ?, ");
		if (rc == HC_OK)
			rc = hc_buf_adds(&sql, "updated_at = ?, row_version = "
					       "row_version + 1 WHERE id = ? "
					       "AND row_version = ?");
	}
	if (rc != HC_OK) {
		rc = hc_err_set(err, rc, "query too long");
		goto out;
	}
	for (size_t i = 0; i < nf; i++) {
		rc = bind_field(&r->fields[i], obj, &params[np++], &owned[i],
				err);
		if (rc != HC_OK)
			goto out;
	}
	if (insert)
		params[np++] = hc_vtext(now);
	params[np++] = hc_vtext(now);
	if (!insert) {
		params[np++] = hc_vtext(id);
		params[np++] = hc_vint(json_integer_value(
			json_object_get(obj, "revision")));
	}
	rc = hc_exec(c, sql.data, params, np, err);
	/* The row was read (and locked) in this transaction: a mismatch
	 * means someone wrote it without the lock; refuse, never overwrite. */
	if (rc == HC_OK && !insert && hc_changes(c) != 1)
		rc = hc_err_field(err, HC_ESTALE, "revision",
				  "%s '%s' was changed meanwhile; read it again",
				  r->name, id);
out:
	if (owned)
		for (size_t i = 0; i < nf; i++)
			free(owned[i]);
	free(owned);
	free(params);
	hc_buf_release(&sql);
	return rc;
}

static int begin_if_needed(struct hc_conn *c, bool *own, struct hc_err *err)
{
	*own = !hc_tx_active(c);
	return *own ? hc_tx_begin(c, true, err) : HC_OK;
}

static int end_tx(struct hc_conn *c, bool own, int rc, struct hc_err *err)
{
	if (!own)
		return rc;
	if (rc == HC_OK)
		return hc_tx_commit(c, err);
	hc_tx_rollback(c);
	return rc;
}

/* Say which row a unique constraint failure collided with. */
static int explain_conflict(const struct hc_resource *r, const json_t *obj,
			    struct hc_err *err)
{
	char field[HC_ERR_FIELD_MAX];
	json_t *v;
	memcpy(field, err->field, sizeof(field));
	v = field[0] ? json_object_get(obj, field) : NULL;
	if (json_is_string(v))
		hc_err_field(err, HC_ECONFLICT, field,
			     "a %s with %s '%s' already exists", r->name,
			     field, json_string_value(v));
	return HC_ECONFLICT;
}

/* The shared tail of create / update / upsert: references, the resource's
 * own rules, required fields, the write, and the row as stored. */
static int write_row(struct hc_conn *c, const struct hc_resource *r,
		     enum hc_write_mode mode, json_t *obj, const json_t *old,
		     json_t **out, struct hc_err *err)
{
	int rc = resolve_refs(c, r, obj, err);
	if (rc == HC_OK && r->hooks.prepare)
		rc = r->hooks.prepare(c, r, mode, obj, old, err);
	if (rc == HC_OK)
		rc = check_required(r, obj, err);
	if (rc == HC_OK)
		rc = check_uniques(c, r, obj, err);
	if (rc == HC_OK) {
		rc = store_row(c, r, obj, old == NULL, err);
		if (rc == HC_ECONFLICT)
			return explain_conflict(r, obj, err);
	}
	if (rc == HC_OK && out)
		rc = hc_res_get(c, r, hc_json_str(obj, "id"), out, err);
	return rc;
}

static int assign_id(struct hc_conn *c, const struct hc_resource *r,
		     json_t *obj, struct hc_err *err)
{
	char id[128];
	if (json_object_get(obj, "id"))
		return HC_OK;
	switch (r->id_policy) {
	case HC_ID_UUID:
		if (hc_uuid_v4(id) != HC_OK)
			return hc_err_set(err, HC_EIO, "no randomness for ids");
		break;
	case HC_ID_HOOK:
		if (r->hooks.make_id) {
			int rc = r->hooks.make_id(c, r, obj, id, sizeof(id),
						  err);
			if (rc != HC_OK)
				return rc;
			break;
		}
		/* fall through */
	case HC_ID_CLIENT:
		return hc_err_field(err, HC_EINVAL, "id",
				    "missing required field 'id'");
	}
	if (json_object_set_new(obj, "id", json_string(id)))
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	return HC_OK;
}

int hc_res_create(struct hc_conn *c, const struct hc_resource *r, json_t *in,
		  json_t **out, struct hc_err *err)
{
	json_t *existing = NULL;
	bool own = false;
	int rc = hc_res_validate(r, in, HC_WRITE_CREATE, err);
	if (rc != HC_OK)
		return rc;
	rc = begin_if_needed(c, &own, err);
	if (rc != HC_OK)
		return rc;
	rc = assign_id(c, r, in, err);
	if (rc == HC_OK && r->id_policy != HC_ID_UUID) {
		/* A client-chosen id that exists is a conflict, reported
		 * as such rather than as a constraint failure. */
		struct hc_err e2 = { 0 };
		int lrc = load_row(c, r, hc_json_str(in, "id"), &existing,
				   NULL, false, &e2);
		if (lrc == HC_OK)
			rc = hc_err_field(err, HC_ECONFLICT, "id",
					  "a %s with id '%s' already exists",
					  r->name, hc_json_str(in, "id"));
		else if (lrc != HC_ENOTFOUND)
			rc = (*err = e2, lrc);
		json_decref(existing);
	}
	if (rc == HC_OK)
		rc = write_row(c, r, HC_WRITE_CREATE, in, NULL, out, err);
	return end_tx(c, own, rc, err);
}

static bool fields_differ(const struct hc_resource *r, const json_t *a,
			  const json_t *b)
{
	for (size_t i = 0; i < r->nfields; i++) {
		json_t *x = json_object_get(a, r->fields[i].name);
		json_t *y = json_object_get(b, r->fields[i].name);
		if (!x)
			x = json_null();
		if (!y)
			y = json_null();
		if (!json_equal(x, y))
			return true;
	}
	return false;
}

int hc_res_update(struct hc_conn *c, const struct hc_resource *r,
		  const char *key, json_t *patch, json_t **out,
		  struct hc_err *err)
{
	return hc_res_update_if(c, r, key, patch, 0, out, err);
}

int hc_res_update_if(struct hc_conn *c, const struct hc_resource *r,
		     const char *key, json_t *patch, int64_t expected,
		     json_t **out, struct hc_err *err)
{
	json_t *old = NULL, *obj = NULL;
	bool own = false;
	int rc = hc_res_validate(r, patch, HC_WRITE_UPDATE, err);
	if (rc != HC_OK)
		return rc;
	rc = begin_if_needed(c, &own, err);
	if (rc != HC_OK)
		return rc;
	rc = load_row(c, r, key, &old, NULL, true, err);
	if (rc == HC_OK && expected &&
	    json_integer_value(json_object_get(old, "revision")) != expected)
		rc = hc_err_field(err, HC_ESTALE, "revision",
				  "%s '%s' is at revision %lld, not %lld: it "
				  "was changed meanwhile; read it again",
				  r->name, hc_json_str(old, "id"),
				  (long long)json_integer_value(
					  json_object_get(old, "revision")),
				  (long long)expected);
	if (rc == HC_OK) {
		obj = json_deep_copy(old);
		if (!obj || json_object_update(obj, patch))
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	if (rc == HC_OK)
		rc = write_row(c, r, HC_WRITE_UPDATE, obj, old, out, err);
	json_decref(old);
	json_decref(obj);
	return end_tx(c, own, rc, err);
}

int hc_res_upsert(struct hc_conn *c, const struct hc_resource *r, json_t *obj,
		  bool *created, bool *changed, json_t **out,
		  struct hc_err *err)
{
	json_t *old = NULL, *merged = NULL, *current = NULL;
	struct hc_err e2 = { 0 };
	const char *id = hc_json_str(obj, "id");
	bool own = false;
	int rc;

	if (!id)
		return hc_err_field(err, HC_EINVAL, "id",
				    "missing required field 'id'");
	rc = hc_res_validate(r, obj, HC_WRITE_UPSERT, err);
	if (rc != HC_OK)
		return rc;
	rc = begin_if_needed(c, &own, err);
	if (rc != HC_OK)
		return rc;
	rc = load_row(c, r, id, &old, NULL, true, &e2);
	if (rc == HC_ENOTFOUND) {
		if (created)
			*created = true;
		if (changed)
			*changed = true;
		rc = hc__complete_new(r, obj, err);
		if (rc == HC_OK)
			rc = write_row(c, r, HC_WRITE_CREATE, obj, NULL, out,
				       err);
		return end_tx(c, own, rc, err);
	}
	if (rc != HC_OK) {
		*err = e2;
		return end_tx(c, own, rc, err);
	}
	if (created)
		*created = false;
	/* An upsert may not do what an update may not: move a row by
	 * changing an immutable field (a task to another workstream). */
	for (size_t i = 0; i < r->nfields; i++) {
		const struct hc_field *f = &r->fields[i];
		json_t *nv = json_object_get(obj, f->name);
		json_t *ov = json_object_get(old, f->name);
		if (!(f->flags & HC_F_IMMUTABLE) || !nv || json_equal(nv, ov))
			continue;
		if (f->type == HC_FT_REF && json_is_string(nv) &&
		    json_is_string(ov)) {
			/* the same row may be named by id or by key */
			char *canon = NULL;
			struct hc_err e3 = { 0 };
			bool same = hc_res_resolve(c, f->ref,
						   json_string_value(nv),
						   f->ref_field ? f->ref_field
								: "id",
						   &canon, &e3) == HC_OK &&
				    strcmp(canon, json_string_value(ov)) == 0;
			free(canon);
			if (same)
				continue;
		}
		rc = hc_err_field(err, HC_EINVAL, f->name,
				  "%s '%s' exists with %s '%s', which cannot "
				  "be changed",
				  r->name, id, f->name,
				  json_is_string(ov) ? json_string_value(ov)
						     : "(none)");
		goto done;
	}
	merged = json_deep_copy(old);
	if (!merged || json_object_update(merged, obj)) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto done;
	}
	rc = resolve_refs(c, r, merged, err);
	if (rc == HC_OK && r->hooks.prepare)
		rc = r->hooks.prepare(c, r, HC_WRITE_UPDATE, merged, old, err);
	if (rc != HC_OK)
		goto done;
	if (!fields_differ(r, merged, old)) {
		/* Nothing to change: leave the row and its updated_at. */
		if (changed)
			*changed = false;
		if (out) {
			*out = old;
			old = NULL;
		}
		goto done;
	}
	if (changed)
		*changed = true;
	rc = check_required(r, merged, err);
	if (rc == HC_OK)
		rc = check_uniques(c, r, merged, err);
	if (rc == HC_OK) {
		rc = store_row(c, r, merged, false, err);
		if (rc == HC_ECONFLICT)
			rc = explain_conflict(r, merged, err);
	}
	if (rc == HC_OK && out)
		rc = load_row(c, r, id, &current, NULL, false, err);
	if (rc == HC_OK && out)
		*out = current;
done:
	json_decref(old);
	json_decref(merged);
	return end_tx(c, own, rc, err);
}

/* ---- lists -------------------------------------------------------------- */

static const char *store_string(struct hc_list_query *q, const char *s,
				size_t len)
{
	char *p;
	if (len + 1 > sizeof(q->strings) - q->strings_used)
		return NULL;
	p = q->strings + q->strings_used;
	memcpy(p, s, len);
	p[len] = '\0';
	q->strings_used += len + 1;
	return p;
}

static int check_filter_value(const struct hc_field *f, const char *v,
			      struct hc_err *err)
{
	switch (f->type) {
	case HC_FT_ENUM:
		if (!hc__enum_has(f, v))
			return hc_err_field(err, HC_EPARAM, f->name,
					    "parameter '%s': '%s' is not a "
					    "valid value",
					    f->name, v);
		return HC_OK;
	case HC_FT_BOOL:
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return hc_err_field(err, HC_EPARAM, f->name,
					    "parameter '%s' must be true or "
					    "false",
					    f->name);
		return HC_OK;
	case HC_FT_INT: {
		char *end;
		if (!*v || (strtoll(v, &end, 10), *end))
			return hc_err_field(err, HC_EPARAM, f->name,
					    "parameter '%s' must be an "
					    "integer",
					    f->name);
		return HC_OK;
	}
	case HC_FT_DATE:
		if (!hc_is_date(v))
			return hc_err_field(err, HC_EPARAM, f->name,
					    "parameter '%s' must be a date "
					    "YYYY-MM-DD",
					    f->name);
		return HC_OK;
	default:
		if (!*v)
			return hc_err_field(err, HC_EPARAM, f->name,
					    "parameter '%s' must not be empty",
					    f->name);
		return HC_OK;
	}
}

int hc_list_query_add(struct hc_list_query *q, const struct hc_resource *r,
		      const char *field, const char *value,
		      struct hc_err *err)
{
	const struct hc_field *f = hc_res_field(r, field);
	struct hc_filter *flt = NULL;
	const char *p = value;

	if (!f || !(f->flags & HC_F_FILTER))
		return hc_err_field(err, HC_EPARAM, field,
				    "unknown parameter '%s' for %s", field,
				    r->plural);
	for (size_t i = 0; i < q->nfilters; i++)
		if (strcmp(q->filters[i].field, f->name) == 0)
			flt = &q->filters[i];
	if (!flt) {
		if (q->nfilters >= HC_LIST_MAX_FILTERS)
			return hc_err_field(err, HC_EPARAM, field,
					    "too many filters");
		flt = &q->filters[q->nfilters++];
		flt->field = f->name;
		flt->nvalues = 0;
	}
	/* Comma-separated values mean any of them. */
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *v;
		int rc;
		if (flt->nvalues >= HC_FILTER_MAX_VALUES)
			return hc_err_field(err, HC_EPARAM, field,
					    "parameter '%s' has more than %d "
					    "values",
					    field, HC_FILTER_MAX_VALUES);
		v = store_string(q, p, len);
		if (!v)
			return hc_err_field(err, HC_EPARAM, field,
					    "query parameters too long");
		rc = check_filter_value(f, v, err);
		if (rc != HC_OK)
			return rc;
		flt->values[flt->nvalues++] = v;
		if (!p[len])
			break;
		p += len + 1;
	}
	return HC_OK;
}

/* Append " AND col IN (?, ...)" for each filter, binding its values.
 * Reference values are resolved to the stored key (a domain filter may
 * name the domain by id); unresolvable ones match nothing. */
static int add_filters(struct hc_conn *c, const struct hc_resource *r,
		       const struct hc_list_query *q, struct hc_buf *sql,
		       struct hc_value *params, size_t *np, char **owned,
		       size_t *nowned, struct hc_err *err)
{
	/* Without statistics the SQLite planner takes every indexed equality
	 * as equally selective, and walked the index of status (a fifth of
	 * the tasks) for ?workstream=W&status=todo: 23 ms at 100,000 tasks.
	 * When a filter on a field with many values (a reference, a string)
	 * is there, the enum filters (a handful of values) are written so
	 * that no index serves them: CAST(x AS TEXT) is x for a TEXT
	 * column, in SQLite and PostgreSQL alike. */
	bool selective = false;
	for (size_t i = 0; i < q->nfilters; i++) {
		const struct hc_field *f = hc_res_field(r, q->filters[i].field);
		selective = selective || f->type == HC_FT_REF ||
			    f->type == HC_FT_STRING || f->type == HC_FT_SLUG ||
			    f->type == HC_FT_NAME || f->type == HC_FT_UUID;
	}
	for (size_t i = 0; i < q->nfilters; i++) {
		const struct hc_filter *flt = &q->filters[i];
		const struct hc_field *f = hc_res_field(r, flt->field);
		int rc = hc_buf_addf(sql,
				     selective && f->type == HC_FT_ENUM
					     ? " AND CAST(\"%s\" AS TEXT) IN ("
					     : " AND \"%s\" IN (",
				     f->name);
		for (size_t k = 0; rc == HC_OK && k < flt->nvalues; k++) {
			const char *v = flt->values[k];
			rc = hc_buf_adds(sql, k ? ", ?" : "?");
			if (f->type == HC_FT_BOOL)
				params[(*np)++] = hc_vint(strcmp(v, "true") == 0);
			else if (f->type == HC_FT_INT)
				params[(*np)++] = hc_vint(strtoll(v, NULL, 10));
			else if (f->type == HC_FT_REF) {
				char *canon = NULL;
				struct hc_err e2 = { 0 };
				int r2 = hc_res_resolve(
					c, f->ref, v,
					f->ref_field ? f->ref_field : "id",
					&canon, &e2);
				if (r2 != HC_OK && r2 != HC_ENOTFOUND) {
					*err = e2;
					return r2;
				}
				if (canon)
					owned[(*nowned)++] = canon;
				params[(*np)++] = hc_vtext(canon ? canon : v);
			} else
				params[(*np)++] = hc_vtext(v);
		}
		if (rc == HC_OK)
			rc = hc_buf_adds(sql, ")");
		if (rc != HC_OK)
			return hc_err_set(err, rc, "query too long");
	}
	return HC_OK;
}

/* hc_res_list, or hc_res_list_text when text is not NULL. */
static int list_as(struct hc_conn *c, const struct hc_resource *r,
		   const struct hc_list_query *q, json_t **out,
		   struct hc_buf *text, struct hc_err *err)
{
	enum { MAXP = HC_LIST_MAX_FILTERS * HC_FILTER_MAX_VALUES + 16 };
	struct hc_buf sql = HC_BUF_INIT(SQL_MAX);
	struct hc_value params[MAXP];
	char *owned[MAXP];
	size_t np = 0, nowned = 0, limit = q->limit ? q->limit
						     : HC_LIST_DEFAULT_LIMIT;
	int64_t after = 0, last_seq = 0;
	struct hc_stmt *st = NULL;
	json_t *items = NULL, *res = NULL;
	size_t count = 0;
	bool more = false;
	int rc;

	if (limit > HC_LIST_MAX_LIMIT)
		return hc_err_field(err, HC_EPARAM, "limit",
				    "parameter 'limit' must be between 1 and "
				    "%d",
				    HC_LIST_MAX_LIMIT);
	if (q->cursor) {
		rc = hc_cursor_decode(q->cursor, &after, err);
		if (rc != HC_OK)
			return rc;
	}
	if (q->where_nparams > 8)
		HC_BUG("too many where parameters");
	rc = add_select(&sql, r);
	if (rc == HC_OK)
		rc = hc_buf_adds(&sql, " WHERE 1 = 1");
	if (rc != HC_OK)
		goto too_long;
	rc = add_filters(c, r, q, &sql, params, &np, owned, &nowned, err);
	if (rc != HC_OK)
		goto out;
	if (q->where_sql) {
		if (hc_buf_addf(&sql, " AND (%s)", q->where_sql))
			goto too_long;
		for (size_t i = 0; i < q->where_nparams; i++)
			params[np++] = q->where_params[i];
	}
	if (q->cursor) {
		if (hc_buf_adds(&sql, r->newest_first ? " AND seq < ?"
						       : " AND seq > ?"))
			goto too_long;
		params[np++] = hc_vint(after);
	}
	if (hc_buf_addf(&sql, " ORDER BY seq %s LIMIT ?",
			r->newest_first ? "DESC" : "ASC"))
		goto too_long;
	params[np++] = hc_vint((int64_t)limit + 1);

	rc = hc_query(c, &st, sql.data, params, np, err);
	if (rc != HC_OK)
		goto out;
	items = text ? NULL : json_array();
	if (text ? hc_buf_adds(text, "{\"items\":[") != HC_OK : !items) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		json_t *row = NULL;
		if (count == limit) {
			more = true;
			break;
		}
		if (text) {
			rc = count ? hc_buf_addc(text, ',') : HC_OK;
			if (rc != HC_OK) {
				rc = hc_err_set(err, rc, "answer too large");
				goto out;
			}
			rc = row_text(st, r, text, &last_seq, NULL, err);
		} else {
			rc = row_json(st, r, &row, &last_seq, err);
		}
		if (rc != HC_OK)
			goto out;
		if (row)
			json_array_append_new(items, row);
		count++;
	}
	if (rc != HC_ROW_READY && rc != HC_ROW_DONE)
		goto out;
	if (text) {
		char cur[HC_CURSOR_MAX];
		if (more)
			hc_cursor_encode(last_seq, cur, sizeof(cur));
		rc = hc_buf_adds(text, "],\"next_cursor\":");
		if (rc == HC_OK)
			rc = more ? hc_json_add_text(text, cur, strlen(cur))
				  : hc_buf_adds(text, "null");
		if (rc == HC_OK)
			rc = hc_buf_addc(text, '}');
		if (rc != HC_OK)
			rc = hc_err_set(err, rc, "answer too large");
		goto out;
	}
	res = json_object();
	if (!res) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	json_object_set(res, "items", items);
	if (more) {
		char cur[HC_CURSOR_MAX];
		hc_cursor_encode(last_seq, cur, sizeof(cur));
		json_object_set_new(res, "next_cursor", json_string(cur));
	} else {
		json_object_set_new(res, "next_cursor", json_null());
	}
	*out = res;
	rc = HC_OK;
	goto out;
too_long:
	rc = hc_err_set(err, HC_EINTERNAL, "query too long");
out:
	hc_stmt_finish(st);
	json_decref(items);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	hc_buf_release(&sql);
	return rc;
}

int hc_res_list(struct hc_conn *c, const struct hc_resource *r,
		const struct hc_list_query *q, json_t **out,
		struct hc_err *err)
{
	return list_as(c, r, q, out, NULL, err);
}

int hc_res_list_text(struct hc_conn *c, const struct hc_resource *r,
		     const struct hc_list_query *q, struct hc_buf *out,
		     struct hc_err *err)
{
	return list_as(c, r, q, NULL, out, err);
}

int hc_res_count_by(struct hc_conn *c, const struct hc_resource *r,
		    const char *field, const char *where_sql,
		    const struct hc_value *params, size_t nparams,
		    json_t **out, struct hc_err *err)
{
	const struct hc_field *f = hc_res_field(r, field);
	struct hc_buf sql = HC_BUF_INIT(SQL_MAX);
	struct hc_stmt *st = NULL;
	json_t *counts = json_object();
	int rc;

	if (!f)
		HC_BUG("count by unknown field %s.%s", r->name, field);
	if (!counts)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (f->type == HC_FT_ENUM)
		for (const char *const *v = f->enum_values; *v; v++)
			json_object_set_new(counts, *v, json_integer(0));
	rc = hc_buf_addf(&sql, "SELECT \"%s\", count(*) FROM %s", f->name,
			 r->table);
	if (rc == HC_OK && where_sql)
		rc = hc_buf_addf(&sql, " WHERE %s", where_sql);
	if (rc == HC_OK)
		rc = hc_buf_addf(&sql, " GROUP BY \"%s\"", f->name);
	if (rc != HC_OK) {
		rc = hc_err_set(err, HC_EINTERNAL, "query too long");
		goto out;
	}
	rc = hc_query(c, &st, sql.data, params, nparams, err);
	if (rc != HC_OK)
		goto out;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		char key[64];
		if (hc_stmt_isnull(st, 0))
			snprintf(key, sizeof(key), "none");
		else if (f->type == HC_FT_BOOL)
			snprintf(key, sizeof(key), "%s",
				 hc_stmt_int(st, 0) ? "true" : "false");
		else
			snprintf(key, sizeof(key), "%s",
				 hc_stmt_text(st, 0, NULL));
		json_object_set_new(counts, key,
				    json_integer(hc_stmt_int(st, 1)));
	}
	if (rc == HC_ROW_DONE) {
		rc = HC_OK;
		*out = counts;
		counts = NULL;
	}
out:
	hc_stmt_finish(st);
	json_decref(counts);
	hc_buf_release(&sql);
	return rc;
}
