/*
 * store_internal.h - what a storage backend implements. Only hubcore/store/
 * includes this; everything else uses hubcore/store.h.
 */
#ifndef HUBCORE_STORE_INTERNAL_H
#define HUBCORE_STORE_INTERNAL_H

#include <pthread.h>

#include "hubcore/store.h"

struct hc_store_ops {
	/* Open the backend connection of c (c->handle). */
	int (*open_conn)(struct hc_store *s, struct hc_conn *c,
			 struct hc_err *err);
	/* Close it, finalizing any cached statements. */
	void (*close_conn)(struct hc_conn *c);
	int (*exec_script)(struct hc_conn *c, const char *sql,
			   struct hc_err *err);
	int (*query)(struct hc_conn *c, struct hc_stmt **out, const char *sql,
		     const struct hc_value *params, size_t nparams,
		     struct hc_err *err);
	int (*step)(struct hc_stmt *st, struct hc_err *err);
	int (*columns)(struct hc_stmt *st);
	const char *(*name)(struct hc_stmt *st, int col);
	bool (*isnull)(struct hc_stmt *st, int col);
	int64_t (*col_int)(struct hc_stmt *st, int col);
	const char *(*col_text)(struct hc_stmt *st, int col, size_t *len);
	void (*finish)(struct hc_stmt *st);
	int64_t (*changes)(struct hc_conn *c);
	int (*table_exists)(struct hc_conn *c, const char *table, bool *exists,
			    struct hc_err *err);
	int (*column_exists)(struct hc_conn *c, const char *table,
			     const char *column, bool *exists,
			     struct hc_err *err);
	/* A number that changes when anyone commits a change (see
	 * hubcore/watch.h); called repeatedly on one connection. */
	int (*data_version)(struct hc_conn *c, int64_t *version,
			    struct hc_err *err);
	/* Named locks held by a connection (see hc_lock_try). */
	int (*try_lock)(struct hc_conn *c, const char *name, bool *got,
			struct hc_err *err);
	int (*lock_wait)(struct hc_conn *c, const char *name,
			 struct hc_err *err);
	int (*unlock)(struct hc_conn *c, const char *name, struct hc_err *err);
	/* SQL that opens a read or a write transaction. */
	const char *begin_read;
	const char *begin_write;
};

struct hc_conn {
	struct hc_store *store;
	void *handle;      /* backend connection */
	void *cache;       /* backend statement cache */
	void *locks;       /* backend named locks (SQLite: lock files) */
	bool in_tx;
	struct hc_conn *next_free;
};

struct hc_store {
	const struct hc_store_ops *ops;
	const struct hc_dialect *dialect;
	char *url;
	char *target; /* backend-specific: the SQLite file path, the libpq
			 URI without foshub's own parameters */
	struct hc_store_options opt;
	pthread_mutex_t lock;
	pthread_cond_t available;
	struct hc_conn *free_list;
	unsigned open_conns;
	bool closing;
	bool prepared; /* the backend's one-time file preparation is done */
	struct hc_conn **all; /* every connection ever opened, for close */
	unsigned nall;
	/* group commit (group.c), under lock */
	struct hc_write_job *queue, *queue_tail;
	bool leading;            /* a batch is being written */
	pthread_cond_t written;  /* a batch was committed or failed */
	struct hc_conn *writer;  /* the batches' connection, not pooled */
};

struct hc_write_job;
void hc__store_close_writer(struct hc_store *s);

extern const struct hc_store_ops hc__sqlite_ops;
extern const struct hc_dialect hc__sqlite_dialect;
extern const struct hc_store_ops hc__pg_ops;
extern const struct hc_dialect hc__pg_dialect;

/* dialect.c: statement text for each backend. */
/* '?' and '?N' -> $N (malloc'd); *maxparam gets the highest number. */
char *hc__pg_placeholders(const char *sql, int *maxparam);
/* The length of sql without a trailing FOR UPDATE / SHARE clause. */
size_t hc__sqlite_strip_locking(const char *sql);

#endif
