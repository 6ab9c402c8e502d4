/*
 * hubcore/store.h - the storage interface every hub uses.
 *
 * A struct hc_store is a database chosen by URL ("sqlite:PATH" or
 * "postgresql://...") with a pool of connections. Code never talks to
 * a backend directly: it checks a struct hc_conn out of the pool, runs
 * statements with bound parameters only (values are never spliced into SQL
 * text), and puts the connection back.
 *
 * SQL text uses '?' placeholders (or '?N' numbered ones) and the portable
 * subset of SQL both SQLite and PostgreSQL understand (INSERT ... ON
 * CONFLICT, RETURNING, CAST(? AS TEXT) where a parameter's type cannot be
 * inferred). A statement that takes rows to work on ends with PostgreSQL's
 * FOR UPDATE [SKIP LOCKED]: on SQLite, whose write transactions exclude
 * each other, the clause is dropped. Everything that differs between
 * backends (column types, error decoding, placeholder syntax) lives in the
 * backend and in hubcore/store/dialect.c, never in callers.
 *
 * Threading: a store may be shared by threads; a connection belongs to one
 * thread between acquire and release.
 */
#ifndef HUBCORE_STORE_H
#define HUBCORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hubcore/status.h"

struct hc_store;
struct hc_conn;
struct hc_stmt;

/* A value bound to a '?' placeholder. Text is (pointer, length), not NUL
 * terminated necessarily; the store copies it if it needs to keep it. */
enum hc_vtype { HC_V_NULL, HC_V_INT, HC_V_TEXT };

struct hc_value {
	enum hc_vtype type;
	int64_t i;
	const char *s;
	size_t len;
};

static inline struct hc_value hc_vnull(void)
{
	struct hc_value v = { HC_V_NULL, 0, NULL, 0 };
	return v;
}
static inline struct hc_value hc_vint(int64_t i)
{
	struct hc_value v = { HC_V_INT, i, NULL, 0 };
	return v;
}
/* Text from a NUL-terminated string; NULL binds SQL NULL. */
struct hc_value hc_vtext(const char *s);
static inline struct hc_value hc_vtextn(const char *s, size_t len)
{
	struct hc_value v = { HC_V_TEXT, 0, s, len };
	return v;
}

/* Column types a schema can ask for; the dialect names them. */
enum hc_coltype {
	HC_COL_TEXT,
	HC_COL_INT,
	HC_COL_BOOL,
	HC_COL_JSON,
};

/* What differs between SQL backends, in one place (hubcore/store/
 * dialect.c, which also adapts statement text: see hc_query). */
struct hc_dialect {
	const char *name;              /* "sqlite", "postgresql" */
	const char *seq_column;        /* DDL of the sequence primary key */
	const char *(*type_name)(enum hc_coltype type);
	/* Run after a descriptor-made table is created, or NULL
	 * (PostgreSQL: the change trigger that hc_watch listens to). */
	int (*table_created)(struct hc_conn *c, const char *table,
			     struct hc_err *err);
};

struct hc_store_options {
	unsigned pool_size;     /* connections in the pool; 0 = default (8) */
	unsigned busy_timeout_ms; /* lock wait; 0 = default (5000) */
	/* the wait for a free connection of the pool, after which
	 * hc_store_acquire gives up with HC_EBUSY (503 over HTTP);
	 * 0 = default (10000) */
	unsigned acquire_timeout_ms;
	/* PostgreSQL: a statement running longer is cancelled (HC_EBUSY);
	 * 0 = default (30000). */
	unsigned statement_timeout_ms;
	bool read_only;
};

/*
 * Open the database named by url ("sqlite:PATH"; a bare path is taken as
 * SQLite too). Creates the file if needed. SQLite is opened in WAL mode
 * with foreign keys on and a busy timeout on every connection.
 *
 * "postgresql://..." (or "postgres://...") is a libpq connection URI. Two
 * query parameters are foshub's own and are taken out before libpq sees
 * the URI: pool_size=N (connections of this process) and
 * statement_timeout=MS; they override opt. Every connection runs in UTC
 * with that statement timeout.
 */
int hc_store_open(struct hc_store **out, const char *url,
		  const struct hc_store_options *opt, struct hc_err *err);
void hc_store_close(struct hc_store *s);
const struct hc_dialect *hc_store_dialect(const struct hc_store *s);
/* The URL the store was opened with, for messages (a password in it is
 * replaced by "***"). */
const char *hc_store_url(const struct hc_store *s);

/*
 * Check a connection out of the pool, waiting while all are in use.
 * Returns NULL only when the store is closing or a connection cannot be
 * (re)opened; err says why.
 */
struct hc_conn *hc_store_acquire(struct hc_store *s, struct hc_err *err);
/* Return a connection. A transaction still open is rolled back. */
void hc_store_release(struct hc_store *s, struct hc_conn *c);

/*
 * Group commit: run fn(c, arg, err) in a write transaction on connection
 * c, together with the writes other threads submit meanwhile, each in its
 * own savepoint (a failing fn is rolled back alone; its error is
 * returned), then one commit for all. Returns once the transaction holding
 * this write has committed: what fn wrote is on disk when HC_OK comes
 * back, as with a transaction of its own, while concurrent writers share
 * one sync of the disk instead of queueing for one each. fn runs on
 * another thread (the batch's leader) and may run after other writes of
 * the batch: it must use only c and arg, must not begin or commit a
 * transaction itself nor call hc_store_write, and must return an error
 * for anything it did not do (its savepoint is then rolled back).
 */
typedef int (*hc_write_fn)(struct hc_conn *c, void *arg, struct hc_err *err);
int hc_store_write(struct hc_store *s, hc_write_fn fn, void *arg,
		   struct hc_err *err);

/*
 * Transactions. A write transaction takes the write lock up front
 * (SQLite BEGIN IMMEDIATE) so that two writers wait for each other instead
 * of failing when a read lock would have to be upgraded.
 */
int hc_tx_begin(struct hc_conn *c, bool write, struct hc_err *err);
int hc_tx_commit(struct hc_conn *c, struct hc_err *err);
/* Roll back if a transaction is open; never fails. */
void hc_tx_rollback(struct hc_conn *c);
bool hc_tx_active(const struct hc_conn *c);

/* Run one statement that returns no rows (or whose rows are ignored). */
int hc_exec(struct hc_conn *c, const char *sql, const struct hc_value *params,
	    size_t nparams, struct hc_err *err);
/* Run a script of several statements without parameters (DDL). */
int hc_exec_script(struct hc_conn *c, const char *sql, struct hc_err *err);

/*
 * Prepare and bind a statement; step through its rows with hc_stmt_step
 * (HC_ROW_READY / HC_ROW_DONE or an error status), read columns, then
 * hc_stmt_finish. Prepared statements are cached per connection by SQL text,
 * so a static query string is parsed once per connection.
 */
#define HC_ROW_READY 1001
#define HC_ROW_DONE 1002
int hc_query(struct hc_conn *c, struct hc_stmt **out, const char *sql,
	     const struct hc_value *params, size_t nparams, struct hc_err *err);
int hc_stmt_step(struct hc_stmt *st, struct hc_err *err);
int hc_stmt_columns(struct hc_stmt *st);
const char *hc_stmt_name(struct hc_stmt *st, int col);
bool hc_stmt_isnull(struct hc_stmt *st, int col);
int64_t hc_stmt_int(struct hc_stmt *st, int col);
/* Text of a column (valid until the next step or finish); len may be NULL. */
const char *hc_stmt_text(struct hc_stmt *st, int col, size_t *len);
void hc_stmt_finish(struct hc_stmt *st);

/* Rows changed by the last INSERT, UPDATE or DELETE on this connection. */
int64_t hc_changes(struct hc_conn *c);

/*
 * Convenience: run a query expected to return at most one row with one
 * integer column. HC_ENOTFOUND when there is no row.
 */
int hc_query_int(struct hc_conn *c, int64_t *out, const char *sql,
		 const struct hc_value *params, size_t nparams,
		 struct hc_err *err);

/* True when the table exists. */
int hc_table_exists(struct hc_conn *c, const char *table, bool *exists,
		    struct hc_err *err);
/* True when the table has the column. */
int hc_column_exists(struct hc_conn *c, const char *table, const char *column,
		     bool *exists, struct hc_err *err);

/*
 * A number that changes whenever anyone (this process, another process,
 * another replica) commits a change; call it repeatedly on one connection
 * that is kept for the purpose (hubcore/watch.h does). SQLite: the
 * data_version pragma; PostgreSQL: notifications sent by a trigger on
 * every descriptor-made table, counted.
 */
int hc_data_version(struct hc_conn *c, int64_t *version, struct hc_err *err);

/*
 * Named locks between the processes sharing a database, held by a
 * connection until released or until the connection ends: when a process
 * dies, its locks go with it at once (PostgreSQL: session advisory locks,
 * freed when the server sees the connection close; SQLite: a byte of the
 * file "<db>-locks" beside the database, locked with an open file
 * description lock that the kernel frees). hc_lock_try never waits;
 * hc_lock_wait waits (within the statement timeout). Keep the connection
 * out of the pool while it holds a lock. See also struct hc_leader.
 */
int hc_lock_try(struct hc_conn *c, const char *name, bool *got,
		struct hc_err *err);
int hc_lock_wait(struct hc_conn *c, const char *name, struct hc_err *err);
int hc_lock_release(struct hc_conn *c, const char *name, struct hc_err *err);

/* The number of connections the store's pool may open. */
unsigned hc_store_pool_size(const struct hc_store *s);

/*
 * Leader election for singletons (ops-hub's probe scheduler, an outbox
 * forwarder): of all the processes that open a leader with the same name
 * on one database, at most one is the leader at any time. A leader keeps
 * a connection of the pool holding the named lock; when its process dies,
 * another process's next hc_leader_check takes over.
 *
 * hc_leader_check tries to become (or checks that this process still is)
 * the leader and returns whether it is; call it before each round of the
 * singleton's work, e.g. every second. It never waits for the lock.
 */
struct hc_leader;
int hc_leader_open(struct hc_leader **out, struct hc_store *s,
		   const char *name, struct hc_err *err);
bool hc_leader_check(struct hc_leader *l);
/* Give up leadership (another process may take it) and free. */
void hc_leader_close(struct hc_leader *l);

/*
 * Taking work across processes: within a write transaction,
 *
 *   SELECT seq, ... FROM outbox WHERE delivered_at IS NULL ORDER BY seq
 *   LIMIT ? FOR UPDATE SKIP LOCKED
 *
 * returns rows that no other transaction holds, and locks them until
 * commit: two processes running it at once never get the same row, and
 * neither waits for the other. Mark the rows done in the same transaction
 * (UPDATE ... WHERE seq = ? AND delivered_at IS NULL, checking
 * hc_changes). On SQLite the clause is dropped: a write transaction holds
 * the whole database. tests/unit/test_store.c shows the pattern.
 */

/* ---- migrations ------------------------------------------------------- */

struct hc_resource;

/*
 * One versioned schema step of a component ("core", "dev", ...). Exactly one
 * of sql, resources or fn is set:
 * - sql: a script run as is (keep it to the portable subset);
 * - resources: NULL-terminated list of descriptors; tables that do not exist
 *   are created with the fields whose `since` is <= version, and tables that
 *   exist get the columns whose `since` equals version. This is how the
 *   resource descriptors drive the schema while staying versioned;
 * - fn: a function for anything else.
 */
struct hc_migration {
	int version;
	const char *name;
	const char *sql;
	const struct hc_resource *const *resources;
	int (*fn)(struct hc_conn *c, const struct hc_dialect *d,
		  struct hc_err *err);
};

struct hc_migration_set {
	const char *component;
	const struct hc_migration *steps;
	size_t count;
};

/*
 * Apply every step of each set that the database has not recorded yet, in
 * order, each in its own transaction, recording it in the table
 * schema_migrations(component, version, name, applied_at). A failing step
 * is rolled back, leaving the database at the previous version, and err
 * says which step failed and why. A database that records a version newer
 * than the binary knows is refused (HC_ESCHEMA). applied (may be NULL)
 * receives the number of steps applied. Processes migrating one database
 * at the same time take turns (the named lock "foshub.migrate").
 */
int hc_migrate(struct hc_store *s, const struct hc_migration_set *const *sets,
	       size_t nsets, int *applied, struct hc_err *err);

/* The highest recorded version of a component (0 when none). */
int hc_schema_version(struct hc_conn *c, const char *component, int *version,
		      struct hc_err *err);

#endif
