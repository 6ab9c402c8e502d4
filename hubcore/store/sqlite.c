/*
 * sqlite.c - the SQLite backend of the store.
 *
 * Every connection runs in WAL mode with foreign keys on, synchronous=FULL
 * (a commit that returned is on disk) and a busy timeout. Temporary data
 * stays in memory (temp_store=MEMORY): above all the statement journals of
 * the savepoints group commit wraps each write in, which otherwise went
 * to a temporary file, half of the writes to disk of a POST. Prepared
 * statements are cached per connection, keyed by their SQL text.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

#define CACHE_SLOTS 64

struct cache_entry {
	char *sql;
	size_t hash;
	sqlite3_stmt *st;
	bool busy;
};

struct stmt_cache {
	struct cache_entry e[CACHE_SLOTS];
	unsigned next_victim;
};

struct sqlite_stmt {
	struct hc_conn *conn; /* must be first: see store.c */
	sqlite3_stmt *st;
	struct cache_entry *entry; /* NULL when not cached */
};

/* The named locks a connection holds: one byte each of the file
 * "<db>-locks", at an offset made from the name, locked with an
 * open-file-description lock (so that two connections of one process
 * exclude each other too, and the kernel frees it when the process dies). */
struct sq_lock {
	char *name;
	int fd;
	struct sq_lock *next;
};

static sqlite3 *db_of(struct hc_conn *c)
{
	return c->handle;
}

/* Decode SQLite's error into our vocabulary, naming the column of a
 * constraint failure ("UNIQUE constraint failed: domains.slug"). */
static int map_error(sqlite3 *db, int rc, struct hc_err *err)
{
	const char *msg = sqlite3_errmsg(db);
	int ext = sqlite3_extended_errcode(db);
	const char *col;
	char field[HC_ERR_FIELD_MAX] = "";

	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		col = strrchr(msg, '.');
		if (col && strchr(msg, ':')) {
			snprintf(field, sizeof(field), "%s", col + 1);
			field[strcspn(field, " ,")] = '\0';
		}
		switch (ext) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY:
			return hc_err_field(err, HC_ECONFLICT, field,
					    "a row with this %s already "
					    "exists",
					    field[0] ? field : "key");
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			return hc_err_set(err, HC_EINVAL,
					  "a referenced row does not exist, or "
					  "the row is still referenced");
		case SQLITE_CONSTRAINT_NOTNULL:
			return hc_err_field(err, HC_EINVAL, field,
					    "field '%s' must not be null",
					    field);
		default:
			return hc_err_set(err, HC_EINVAL, "constraint failed: %s",
					  msg);
		}
	}
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return hc_err_set(err, HC_EBUSY, "database is busy: %s", msg);
	if ((rc & 0xff) == SQLITE_NOMEM)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	return hc_err_set(err, HC_ESTORE, "sqlite: %s", msg);
}

/* Create the database file 0600 (and its directory 0700) before SQLite
 * does, so that it never exists with looser permissions. Only once per
 * store, before its first connection: closing a descriptor of the file
 * would drop the POSIX locks every connection of this process holds on it
 * (they are per process), and another process could then think itself
 * alone and remove the WAL under us. */
static int prepare_file(const char *path, struct hc_err *err)
{
	char dir[4096];
	char *slash;
	int fd;
	if (strcmp(path, ":memory:") == 0)
		return HC_OK;
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return hc_err_set(err, HC_EUSAGE, "database path too long");
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return hc_err_set(err, HC_EIO,
					  "cannot create directory '%s': %s",
					  dir, strerror(errno));
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return hc_err_set(err, HC_EIO, "cannot open database '%s': %s",
				  path, strerror(errno));
	close(fd);
	return HC_OK;
}

static int sq_open_conn(struct hc_store *s, struct hc_conn *c,
			struct hc_err *err)
{
	sqlite3 *db = NULL;
	int flags, rc;
	char pragmas[256];

	if (!__atomic_exchange_n(&s->prepared, true, __ATOMIC_ACQ_REL) &&
	    prepare_file(s->target, err) != HC_OK) {
		__atomic_store_n(&s->prepared, false, __ATOMIC_RELEASE);
		return err ? err->status : HC_EIO;
	}
	flags = SQLITE_OPEN_NOMUTEX |
		(s->opt.read_only ? SQLITE_OPEN_READONLY
				  : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(s->target, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		hc_err_set(err, HC_ESTORE, "cannot open database '%s': %s",
			   s->target, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return HC_ESTORE;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, (int)s->opt.busy_timeout_ms);
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; "
		 "PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;");
	rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		map_error(db, rc, err);
		sqlite3_close(db);
		return err ? err->status : HC_ESTORE;
	}
	c->handle = db;
	c->cache = calloc(1, sizeof(struct stmt_cache));
	if (!c->cache) {
		sqlite3_close(db);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	return HC_OK;
}

static void sq_close_conn(struct hc_conn *c)
{
	struct stmt_cache *cache = c->cache;
	if (cache) {
		for (int i = 0; i < CACHE_SLOTS; i++) {
			sqlite3_finalize(cache->e[i].st);
			free(cache->e[i].sql);
		}
		free(cache);
	}
	while (c->locks) {
		struct sq_lock *l = c->locks;
		c->locks = l->next;
		close(l->fd);
		free(l->name);
		free(l);
	}
	sqlite3_close(db_of(c));
	c->handle = NULL;
	c->cache = NULL;
}

static int sq_exec_script(struct hc_conn *c, const char *sql,
			  struct hc_err *err)
{
	int rc = sqlite3_exec(db_of(c), sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return map_error(db_of(c), rc, err);
	return HC_OK;
}

static size_t hash_sql(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int bind_all(sqlite3_stmt *st, const struct hc_value *params,
		    size_t nparams)
{
	int rc = SQLITE_OK;
	for (size_t i = 0; i < nparams && rc == SQLITE_OK; i++) {
		int idx = (int)i + 1;
		switch (params[i].type) {
		case HC_V_NULL:
			rc = sqlite3_bind_null(st, idx);
			break;
		case HC_V_INT:
			rc = sqlite3_bind_int64(st, idx, params[i].i);
			break;
		case HC_V_TEXT:
			rc = sqlite3_bind_text64(st, idx,
						 params[i].s ? params[i].s : "",
						 params[i].len, SQLITE_TRANSIENT,
						 SQLITE_UTF8);
			break;
		}
	}
	return rc;
}

static int sq_query(struct hc_conn *c, struct hc_stmt **out, const char *sql,
		    const struct hc_value *params, size_t nparams,
		    struct hc_err *err)
{
	struct stmt_cache *cache = c->cache;
	struct cache_entry *entry = NULL;
	struct sqlite_stmt *w;
	sqlite3_stmt *st = NULL;
	size_t h = hash_sql(sql);
	int rc;

	for (int i = 0; i < CACHE_SLOTS; i++) {
		struct cache_entry *e = &cache->e[i];
		if (e->st && e->hash == h && !e->busy &&
		    strcmp(e->sql, sql) == 0) {
			entry = e;
			st = e->st;
			break;
		}
	}
	if (!st) {
		rc = sqlite3_prepare_v3(db_of(c), sql,
					(int)hc__sqlite_strip_locking(sql),
					SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return map_error(db_of(c), rc, err);
		if (sqlite3_bind_parameter_count(st) != (int)nparams)
			HC_BUG("query has %d parameters, %zu bound: %s",
			       sqlite3_bind_parameter_count(st), nparams, sql);
		/* Take a free slot, or evict one that is not in use. */
		for (unsigned tries = 0; tries < CACHE_SLOTS; tries++) {
			struct cache_entry *e =
				&cache->e[cache->next_victim++ % CACHE_SLOTS];
			if (e->busy)
				continue;
			char *copy = strdup(sql);
			if (!copy)
				break;
			sqlite3_finalize(e->st);
			free(e->sql);
			e->sql = copy;
			e->hash = h;
			e->st = st;
			entry = e;
			break;
		}
	}
	rc = bind_all(st, params, nparams);
	if (rc != SQLITE_OK) {
		rc = map_error(db_of(c), rc, err);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (!entry)
			sqlite3_finalize(st);
		return rc;
	}
	w = malloc(sizeof(*w));
	if (!w) {
		sqlite3_reset(st);
		if (!entry)
			sqlite3_finalize(st);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	w->conn = c;
	w->st = st;
	w->entry = entry;
	if (entry)
		entry->busy = true;
	*out = (struct hc_stmt *)(void *)w;
	return HC_OK;
}

static struct sqlite_stmt *W(struct hc_stmt *st)
{
	return (struct sqlite_stmt *)(void *)st;
}

static int sq_step(struct hc_stmt *hst, struct hc_err *err)
{
	struct sqlite_stmt *w = W(hst);
	int rc = sqlite3_step(w->st);
	if (rc == SQLITE_ROW)
		return HC_ROW_READY;
	if (rc == SQLITE_DONE)
		return HC_ROW_DONE;
	return map_error(db_of(w->conn), rc, err);
}

static int sq_columns(struct hc_stmt *st)
{
	return sqlite3_column_count(W(st)->st);
}

static const char *sq_name(struct hc_stmt *st, int col)
{
	return sqlite3_column_name(W(st)->st, col);
}

static bool sq_isnull(struct hc_stmt *st, int col)
{
	return sqlite3_column_type(W(st)->st, col) == SQLITE_NULL;
}

static int64_t sq_col_int(struct hc_stmt *st, int col)
{
	return sqlite3_column_int64(W(st)->st, col);
}

static const char *sq_col_text(struct hc_stmt *st, int col, size_t *len)
{
	const unsigned char *t = sqlite3_column_text(W(st)->st, col);
	if (len)
		*len = t ? (size_t)sqlite3_column_bytes(W(st)->st, col) : 0;
	return (const char *)t;
}

static void sq_finish(struct hc_stmt *hst)
{
	struct sqlite_stmt *w = W(hst);
	if (w->entry) {
		sqlite3_reset(w->st);
		sqlite3_clear_bindings(w->st);
		w->entry->busy = false;
	} else {
		sqlite3_finalize(w->st);
	}
	free(w);
}

static int64_t sq_changes(struct hc_conn *c)
{
	return sqlite3_changes64(db_of(c));
}

static int sq_table_exists(struct hc_conn *c, const char *table, bool *exists,
			   struct hc_err *err)
{
	int64_t n = 0;
	struct hc_value p[] = { hc_vtext(table) };
	int rc = hc_query_int(c, &n,
			      "SELECT count(*) FROM sqlite_master WHERE "
			      "type = 'table' AND name = ?",
			      p, 1, err);
	*exists = n > 0;
	return rc;
}

static int sq_column_exists(struct hc_conn *c, const char *table,
			    const char *column, bool *exists,
			    struct hc_err *err)
{
	int64_t n = 0;
	struct hc_value p[] = { hc_vtext(table), hc_vtext(column) };
	int rc = hc_query_int(c, &n,
			      "SELECT count(*) FROM pragma_table_info(?) "
			      "WHERE name = ?",
			      p, 2, err);
	*exists = n > 0;
	return rc;
}

/* ---- data version and named locks ---------------------------------- */

static int sq_data_version(struct hc_conn *c, int64_t *version,
			   struct hc_err *err)
{
	return hc_query_int(c, version, "PRAGMA data_version", NULL, 0, err);
}

static off_t lock_offset(const char *name)
{
	uint32_t h = 2166136261u;
	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return (off_t)(h & 0x3fffffff);
}

static int lock_file(struct hc_conn *c, const char *name, bool wait,
		     bool *got, struct hc_err *err)
{
	const char *db = c->store->target;
	struct flock fl = { 0 };
	struct sq_lock *l;
	char *path = NULL;
	int fd;

	*got = false;
	for (l = c->locks; l; l = l->next)
		if (strcmp(l->name, name) == 0) {
			*got = true;
			return HC_OK;
		}
	if (strcmp(db, ":memory:") == 0) {
		*got = true; /* nobody else can share it */
		return HC_OK;
	}
	if (asprintf(&path, "%s-locks", db) < 0)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		hc_err_set(err, HC_EIO, "cannot open lock file '%s': %s", path,
			   strerror(errno));
		free(path);
		return HC_EIO;
	}
	free(path);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = lock_offset(name);
	fl.l_len = 1;
	while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) != 0) {
		if (errno == EINTR)
			continue;
		close(fd);
		if (errno == EAGAIN || errno == EACCES)
			return HC_OK;
		return hc_err_set(err, HC_EIO, "cannot lock: %s",
				  strerror(errno));
	}
	l = calloc(1, sizeof(*l));
	if (!l || !(l->name = strdup(name))) {
		free(l);
		close(fd);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	l->fd = fd;
	l->next = c->locks;
	c->locks = l;
	*got = true;
	return HC_OK;
}

static int sq_try_lock(struct hc_conn *c, const char *name, bool *got,
		       struct hc_err *err)
{
	return lock_file(c, name, false, got, err);
}

static int sq_lock_wait(struct hc_conn *c, const char *name,
			struct hc_err *err)
{
	bool got;
	return lock_file(c, name, true, &got, err);
}

static int sq_unlock(struct hc_conn *c, const char *name, struct hc_err *err)
{
	for (struct sq_lock **pl = (struct sq_lock **)&c->locks; *pl;
	     pl = &(*pl)->next) {
		struct sq_lock *l = *pl;
		if (strcmp(l->name, name) == 0) {
			*pl = l->next;
			close(l->fd); /* releases the lock */
			free(l->name);
			free(l);
			break;
		}
	}
	(void)err;
	return HC_OK;
}

const struct hc_store_ops hc__sqlite_ops = {
	.open_conn = sq_open_conn,
	.close_conn = sq_close_conn,
	.exec_script = sq_exec_script,
	.query = sq_query,
	.step = sq_step,
	.columns = sq_columns,
	.name = sq_name,
	.isnull = sq_isnull,
	.col_int = sq_col_int,
	.col_text = sq_col_text,
	.finish = sq_finish,
	.changes = sq_changes,
	.table_exists = sq_table_exists,
	.column_exists = sq_column_exists,
	.data_version = sq_data_version,
	.try_lock = sq_try_lock,
	.lock_wait = sq_lock_wait,
	.unlock = sq_unlock,
	.begin_read = "BEGIN",
	.begin_write = "BEGIN IMMEDIATE",
};
