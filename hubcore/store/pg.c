/*
 * pg.c - the PostgreSQL backend of the store, on libpq.
 *
 * Each connection of the pool is one libpq connection, set up for UTC and
 * the store's statement timeout, with notices silenced. A statement is
 * sent with PQexecParams (parse, bind and execute in one round trip); the
 * '?' placeholders were turned into $N by hc__pg_placeholders and every
 * parameter goes as text of unspecified type, so that the server infers
 * it from the context (a column, a comparison) as SQLite's affinity does.
 * Results are read whole, then stepped through.
 *
 * Transactions: a write transaction is READ COMMITTED, as in any
 * PostgreSQL application with several writers: unique constraints, guarded
 * UPDATEs (... WHERE row_version = ?) and row locks (FOR UPDATE, SKIP
 * LOCKED) keep it correct when several processes write at once. A read
 * transaction is REPEATABLE READ READ ONLY: one consistent snapshot, as a
 * SQLite read transaction has, and it never fails to serialize.
 *
 * A broken connection (the server restarted, a proxy dropped it) is
 * reopened before the next statement outside a transaction.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* the oid of int8 in pg_type (catalog/pg_type_d.h is a server header,
 * not libpq's; it has not changed since PostgreSQL 7) */
#define PG_INT8OID 20

struct pg_handle {
	PGconn *pg;
	int64_t changes;
	bool listening;
};

struct pg_stmt {
	struct hc_conn *conn; /* must be first: see store.c */
	PGresult *res;
	int row;   /* the current row, -1 before the first step */
	int nrows;
};

static PGconn *pg_of(struct hc_conn *c)
{
	return ((struct pg_handle *)c->handle)->pg;
}

/* The column named in "Key (domain, slug)=(x, y) already exists.": the
 * last one, the most specific of a composite key. */
static void key_column(const char *detail, char *field, size_t size)
{
	const char *open, *close, *start;
	field[0] = '\0';
	if (!detail || !(open = strstr(detail, "Key (")))
		return;
	open += 5;
	close = strchr(open, ')');
	if (!close)
		return;
	start = close;
	while (start > open && start[-1] != ' ' && start[-1] != ',')
		start--;
	snprintf(field, size, "%.*s", (int)(close - start), start);
	if (field[0] == '"') {
		memmove(field, field + 1, strlen(field));
		field[strcspn(field, "\"")] = '\0';
	}
}

/* Decode a failed result into our vocabulary by its SQLSTATE. */
static int map_result(PGconn *pg, const PGresult *res, struct hc_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
				: NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			      : NULL;
	char field[HC_ERR_FIELD_MAX] = "";

	if (!msg)
		msg = PQerrorMessage(pg);
	if (!state)
		return hc_err_set(err, HC_ESTORE, "postgresql: %.*s",
				  (int)strcspn(msg, "\n"), msg);
	if (strcmp(state, "23505") == 0) { /* unique_violation */
		key_column(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
			   field, sizeof(field));
		return hc_err_field(err, HC_ECONFLICT, field,
				    "a row with this %s already exists",
				    field[0] ? field : "key");
	}
	if (strcmp(state, "23503") == 0) /* foreign_key_violation */
		return hc_err_set(err, HC_EINVAL,
				  "a referenced row does not exist, or the row "
				  "is still referenced");
	if (strcmp(state, "23502") == 0) { /* not_null_violation */
		const char *col = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
		snprintf(field, sizeof(field), "%s", col ? col : "");
		return hc_err_field(err, HC_EINVAL, field,
				    "field '%s' must not be null", field);
	}
	if (strncmp(state, "23", 2) == 0)
		return hc_err_set(err, HC_EINVAL, "constraint failed: %s", msg);
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0)
		return hc_err_set(err, HC_EBUSY, "database is busy: %s", msg);
	if (strcmp(state, "57014") == 0) /* query_canceled: the timeout */
		return hc_err_set(err, HC_EBUSY,
				  "statement cancelled after the statement "
				  "timeout: %s",
				  msg);
	if (strcmp(state, "22P02") == 0 || strcmp(state, "22003") == 0 ||
	    strcmp(state, "22021") == 0 || strcmp(state, "22P05") == 0)
		return hc_err_set(err, HC_EINVAL, "invalid value: %s", msg);
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return hc_err_set(err, HC_EBUSY, "database unavailable: %s",
				  msg);
	if (strcmp(state, "53100") == 0 || strcmp(state, "53200") == 0)
		return hc_err_set(err, HC_ENOMEM, "database out of resources: "
						  "%s",
				  msg);
	return hc_err_set(err, HC_ESTORE, "postgresql: %s (%s)", msg, state);
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int session_setup(struct hc_store *s, PGconn *pg, struct hc_err *err)
{
	char sql[256];
	PGresult *res;
	int rc = HC_OK;
	PQsetNoticeProcessor(pg, ignore_notice, NULL);
	snprintf(sql, sizeof(sql),
		 "SET TIME ZONE 'UTC'; SET statement_timeout = %u; "
		 "SET lock_timeout = %u; SET client_min_messages = warning",
		 s->opt.statement_timeout_ms, s->opt.statement_timeout_ms);
	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = map_result(pg, res, err);
	PQclear(res);
	return rc;
}

static int pg_open_conn(struct hc_store *s, struct hc_conn *c,
			struct hc_err *err)
{
	struct pg_handle *h = calloc(1, sizeof(*h));
	if (!h)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	h->pg = PQconnectdb(s->target);
	if (!h->pg || PQstatus(h->pg) != CONNECTION_OK) {
		const char *m = h->pg ? PQerrorMessage(h->pg) : "out of memory";
		hc_err_set(err, HC_ESTORE, "cannot connect to database '%s': %.*s",
			   s->url, (int)strcspn(m, "\n"), m);
		PQfinish(h->pg);
		free(h);
		return HC_ESTORE;
	}
	if (session_setup(s, h->pg, err) != HC_OK) {
		PQfinish(h->pg);
		free(h);
		return err ? err->status : HC_ESTORE;
	}
	c->handle = h;
	return HC_OK;
}

static void pg_close_conn(struct hc_conn *c)
{
	struct pg_handle *h = c->handle;
	if (h) {
		PQfinish(h->pg);
		free(h);
	}
	c->handle = NULL;
}

/* Reopen a connection the server dropped, when no transaction would be
 * lost by it. */
static int check_conn(struct hc_conn *c, struct hc_err *err)
{
	struct pg_handle *h = c->handle;
	if (PQstatus(h->pg) == CONNECTION_OK)
		return HC_OK;
	if (c->in_tx)
		return hc_err_set(err, HC_EBUSY,
				  "lost the database connection in a "
				  "transaction");
	PQreset(h->pg);
	h->listening = false;
	if (PQstatus(h->pg) != CONNECTION_OK)
		return hc_err_set(err, HC_EBUSY,
				  "cannot reconnect to the database: %.*s",
				  (int)strcspn(PQerrorMessage(h->pg), "\n"),
				  PQerrorMessage(h->pg));
	return session_setup(c->store, h->pg, err);
}

static int pg_exec_script(struct hc_conn *c, const char *sql,
			  struct hc_err *err)
{
	PGresult *res;
	ExecStatusType st;
	int rc = check_conn(c, err);
	if (rc != HC_OK)
		return rc;
	res = PQexec(pg_of(c), sql);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = map_result(pg_of(c), res, err);
	PQclear(res);
	return rc;
}

static void note_changes(struct hc_conn *c, PGresult *res)
{
	const char *tag = PQcmdStatus(res);
	if (strncmp(tag, "INSERT", 6) == 0 || strncmp(tag, "UPDATE", 6) == 0 ||
	    strncmp(tag, "DELETE", 6) == 0 || strncmp(tag, "MERGE", 5) == 0)
		((struct pg_handle *)c->handle)->changes =
			strtoll(PQcmdTuples(res), NULL, 10);
}

static int pg_query(struct hc_conn *c, struct hc_stmt **out, const char *sql,
		    const struct hc_value *params, size_t nparams,
		    struct hc_err *err)
{
	int maxp = 0, rc;
	char *text = hc__pg_placeholders(sql, &maxp);
	char **values = calloc(nparams + 1, sizeof(*values));
	/* integers say so (int8); text is left for the server to infer
	 * from where it is used, as a literal would be */
	Oid *types = calloc(nparams + 1, sizeof(*types));
	struct pg_stmt *w = NULL;
	PGresult *res = NULL;
	ExecStatusType st;

	if (!text || !values || !types) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	if ((size_t)maxp != nparams)
		HC_BUG("query has %d parameters, %zu bound: %s", maxp, nparams,
		       sql);
	for (size_t i = 0; i < nparams; i++) {
		const struct hc_value *v = &params[i];
		if (v->type == HC_V_NULL)
			continue;
		if (v->type == HC_V_INT) {
			types[i] = PG_INT8OID;
			if (asprintf(&values[i], "%lld", (long long)v->i) < 0)
				values[i] = NULL;
		} else {
			if (v->s && memchr(v->s, '\0', v->len)) {
				rc = hc_err_set(err, HC_EINVAL,
						"text must not contain a NUL "
						"byte");
				goto out;
			}
			values[i] = strndup(v->s ? v->s : "", v->len);
		}
		if (!values[i]) {
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = check_conn(c, err);
	if (rc != HC_OK)
		goto out;
	res = PQexecParams(pg_of(c), text, (int)nparams, types,
			   (const char *const *)values, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		rc = map_result(pg_of(c), res, err);
		goto out;
	}
	note_changes(c, res);
	w = calloc(1, sizeof(*w));
	if (!w) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	w->conn = c;
	w->res = res;
	w->row = -1;
	w->nrows = PQntuples(res);
	res = NULL;
	*out = (struct hc_stmt *)(void *)w;
	rc = HC_OK;
out:
	PQclear(res);
	for (size_t i = 0; values && i < nparams; i++)
		free(values[i]);
	free(values);
	free(types);
	free(text);
	return rc;
}

static struct pg_stmt *W(struct hc_stmt *st)
{
	return (struct pg_stmt *)(void *)st;
}

static int pg_step(struct hc_stmt *hst, struct hc_err *err)
{
	struct pg_stmt *w = W(hst);
	(void)err;
	if (w->row + 1 < w->nrows) {
		w->row++;
		return HC_ROW_READY;
	}
	w->row = w->nrows;
	return HC_ROW_DONE;
}

static int pg_columns(struct hc_stmt *st)
{
	return PQnfields(W(st)->res);
}

static const char *pg_name(struct hc_stmt *st, int col)
{
	return PQfname(W(st)->res, col);
}

static bool pg_isnull(struct hc_stmt *st, int col)
{
	struct pg_stmt *w = W(st);
	if (w->row < 0 || w->row >= w->nrows || col >= PQnfields(w->res))
		return true;
	return PQgetisnull(w->res, w->row, col);
}

static int64_t pg_col_int(struct hc_stmt *st, int col)
{
	struct pg_stmt *w = W(st);
	const char *v;
	if (pg_isnull(st, col))
		return 0;
	v = PQgetvalue(w->res, w->row, col);
	if (v[0] == 't' && !v[1])
		return 1; /* a boolean expression */
	if (v[0] == 'f' && !v[1])
		return 0;
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct hc_stmt *st, int col, size_t *len)
{
	struct pg_stmt *w = W(st);
	if (pg_isnull(st, col)) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = (size_t)PQgetlength(w->res, w->row, col);
	return PQgetvalue(w->res, w->row, col);
}

static void pg_finish(struct hc_stmt *st)
{
	struct pg_stmt *w = W(st);
	PQclear(w->res);
	free(w);
}

static int64_t pg_changes(struct hc_conn *c)
{
	return ((struct pg_handle *)c->handle)->changes;
}

static int pg_table_exists(struct hc_conn *c, const char *table, bool *exists,
			   struct hc_err *err)
{
	int64_t n = 0;
	struct hc_value p[] = { hc_vtext(table) };
	int rc = hc_query_int(c, &n,
			      "SELECT count(*) FROM pg_catalog.pg_tables WHERE "
			      "schemaname = current_schema() AND tablename = ?",
			      p, 1, err);
	*exists = n > 0;
	return rc;
}

static int pg_column_exists(struct hc_conn *c, const char *table,
			    const char *column, bool *exists,
			    struct hc_err *err)
{
	int64_t n = 0;
	struct hc_value p[] = { hc_vtext(table), hc_vtext(column) };
	int rc = hc_query_int(c, &n,
			      "SELECT count(*) FROM information_schema.columns "
			      "WHERE table_schema = current_schema() AND "
			      "table_name = ? AND column_name = ?",
			      p, 2, err);
	*exists = n > 0;
	return rc;
}

/*
 * Changes committed by anyone: the first call LISTENs on hc_change (the
 * channel the tables' triggers notify, see dialect.c); each call adds the
 * notifications that arrived since.
 */
static int pg_data_version(struct hc_conn *c, int64_t *version,
			   struct hc_err *err)
{
	struct pg_handle *h = c->handle;
	PGnotify *n;
	int rc;
	if (!h->listening) {
		rc = pg_exec_script(c, "LISTEN hc_change", err);
		if (rc != HC_OK)
			return rc;
		h->listening = true;
		(*version)++; /* a reconnect may have missed some */
	}
	if (!PQconsumeInput(h->pg))
		return check_conn(c, err);
	while ((n = PQnotifies(h->pg)) != NULL) {
		(*version)++;
		PQfreemem(n);
	}
	return HC_OK;
}

/* Advisory locks: a session lock on this connection, released when it
 * ends (or the process dies and the server sees the connection close). */
static int pg_try_lock(struct hc_conn *c, const char *name, bool *got,
		       struct hc_err *err)
{
	int64_t v = 0;
	struct hc_value p[] = { hc_vtext(name) };
	int rc = hc_query_int(c, &v,
			      "SELECT CAST(pg_try_advisory_lock(hashtextextended("
			      "?, 0)) AS INTEGER)",
			      p, 1, err);
	*got = rc == HC_OK && v == 1;
	return rc;
}

static int pg_unlock(struct hc_conn *c, const char *name, struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(name) };
	return hc_exec(c, "SELECT pg_advisory_unlock(hashtextextended(?, 0))",
		       p, 1, err);
}

static int pg_lock_wait(struct hc_conn *c, const char *name,
			struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(name) };
	return hc_exec(c, "SELECT pg_advisory_lock(hashtextextended(?, 0))", p,
		       1, err);
}

const struct hc_store_ops hc__pg_ops = {
	.open_conn = pg_open_conn,
	.close_conn = pg_close_conn,
	.exec_script = pg_exec_script,
	.query = pg_query,
	.step = pg_step,
	.columns = pg_columns,
	.name = pg_name,
	.isnull = pg_isnull,
	.col_int = pg_col_int,
	.col_text = pg_col_text,
	.finish = pg_finish,
	.changes = pg_changes,
	.table_exists = pg_table_exists,
	.column_exists = pg_column_exists,
	.data_version = pg_data_version,
	.try_lock = pg_try_lock,
	.lock_wait = pg_lock_wait,
	.unlock = pg_unlock,
	.begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	.begin_write = "BEGIN",
};
