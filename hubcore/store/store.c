/*
 * store.c - the backend-neutral part of the store: URL dispatch, the
 * connection pool, transactions and convenience queries.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hubcore/store.h"
#include "store_internal.h"

struct hc_value hc_vtext(const char *s)
{
	if (!s)
		return hc_vnull();
	return hc_vtextn(s, strlen(s));
}

/* A copy of url with the password (user:PASSWORD@ or password=...)
 * replaced by "***", for messages and logs. */
static char *redact(const char *url)
{
	char *r = strdup(url), *p, *at, *colon;
	if (!r)
		return NULL;
	p = strstr(r, "://");
	if (p) {
		p += 3;
		at = strchr(p, '@');
		colon = strchr(p, ':');
		if (at && colon && colon < at && !memchr(p, '/', (size_t)(at - p))) {
			char *out = NULL;
			if (asprintf(&out, "%.*s:***%s", (int)(colon - r), r,
				     at) < 0)
				out = NULL;
			free(r);
			r = out;
		}
	}
	if (r && (p = strstr(r, "password=")) != NULL) {
		char *end = p + 9 + strcspn(p + 9, "&");
		char *out = NULL;
		if (asprintf(&out, "%.*s***%s", (int)(p + 9 - r), r, end) < 0)
			out = NULL;
		free(r);
		r = out;
	}
	return r;
}

/*
 * Split foshub's own parameters (pool_size, statement_timeout) off a
 * PostgreSQL URI; the rest goes to libpq. *target is malloc'd.
 */
static int pg_target(const char *url, struct hc_store_options *opt,
		     char **target, struct hc_err *err)
{
	const char *q = strchr(url, '?');
	char *out = malloc(strlen(url) + 1), *o;
	char sep = '?';

	if (!out)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	memcpy(out, url, q ? (size_t)(q - url) : strlen(url) + 1);
	o = out + (q ? q - url : (ptrdiff_t)strlen(url));
	*o = '\0';
	while (q && *q) {
		const char *item = q + 1, *end = item + strcspn(item, "&");
		size_t n = (size_t)(end - item);
		const char *eq = memchr(item, '=', n);
		unsigned *dst = NULL;
		if (eq && (size_t)(eq - item) == 9 &&
		    strncmp(item, "pool_size", 9) == 0)
			dst = &opt->pool_size;
		else if (eq && (size_t)(eq - item) == 17 &&
			 strncmp(item, "statement_timeout", 17) == 0)
			dst = &opt->statement_timeout_ms;
		if (dst) {
			char num[16];
			char *e;
			unsigned long v;
			size_t vl = (size_t)(end - eq - 1);
			snprintf(num, sizeof(num), "%.*s", (int)vl, eq + 1);
			v = strtoul(num, &e, 10);
			if (!vl || vl >= sizeof(num) || *e || v < 1 ||
			    v > 1000000000ul) {
				free(out);
				return hc_err_field(
					err, HC_EUSAGE, dst == &opt->pool_size
								? "pool_size"
								: "statement_timeout",
					"database URL: %.*s must be a positive "
					"integer",
					(int)(eq - item), item);
			}
			if (dst == &opt->pool_size && v > 1000) {
				free(out);
				return hc_err_field(err, HC_EUSAGE, "pool_size",
						    "database URL: pool_size "
						    "must be at most 1000");
			}
			*dst = (unsigned)v;
		} else if (n) {
			*o++ = sep;
			memcpy(o, item, n);
			o += n;
			*o = '\0';
			sep = '&';
		}
		q = *end ? end : NULL;
	}
	*target = out;
	return HC_OK;
}

int hc_store_open(struct hc_store **out, const char *url,
		  const struct hc_store_options *opt, struct hc_err *err)
{
	struct hc_store *s;
	const char *path = NULL;
	bool pg = false;

	if (!url || !*url)
		return hc_err_set(err, HC_EUSAGE, "no database URL given");
	if (strncasecmp(url, "postgresql://", 13) == 0 ||
	    strncasecmp(url, "postgres://", 11) == 0) {
		pg = true;
	} else if (strncasecmp(url, "sqlite:", 7) == 0) {
		path = url + 7;
		if (strncmp(path, "//", 2) == 0)
			path += 2; /* sqlite:///abs/path -> /abs/path */
	} else if (strstr(url, "://")) {
		return hc_err_set(err, HC_EUSAGE,
				  "database '%s': unknown scheme; use "
				  "sqlite:PATH or postgresql://...",
				  url);
	} else if (strchr(url, '/') ||
		   (strlen(url) > 3 && strcmp(url + strlen(url) - 3, ".db") == 0)) {
		path = url; /* a plain file path */
	} else {
		return hc_err_set(err, HC_EUSAGE,
				  "database '%s': give sqlite:PATH (or a path "
				  "containing '/' or ending in .db) or "
				  "postgresql://...",
				  url);
	}
	if (path && !*path)
		return hc_err_set(err, HC_EUSAGE,
				  "database '%s': no file path given", url);

	s = calloc(1, sizeof(*s));
	if (!s)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	s->ops = pg ? &hc__pg_ops : &hc__sqlite_ops;
	s->dialect = pg ? &hc__pg_dialect : &hc__sqlite_dialect;
	if (opt)
		s->opt = *opt;
	s->url = redact(url);
	if (pg) {
		int rc = pg_target(url, &s->opt, &s->target, err);
		if (rc != HC_OK) {
			free(s->url);
			free(s);
			return rc;
		}
	} else {
		s->target = strdup(path);
	}
	if (!s->opt.pool_size)
		s->opt.pool_size = 8;
	if (!s->opt.busy_timeout_ms)
		s->opt.busy_timeout_ms = 5000;
	if (!s->opt.acquire_timeout_ms)
		s->opt.acquire_timeout_ms = 10000;
	if (!s->opt.statement_timeout_ms)
		s->opt.statement_timeout_ms = 30000;
	s->all = calloc(s->opt.pool_size, sizeof(*s->all));
	if (!s->url || !s->target || !s->all) {
		hc_store_close(s);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->available, NULL);
	pthread_cond_init(&s->written, NULL);

	/* Open one connection now so that a bad path fails at start-up. */
	{
		struct hc_conn *c = hc_store_acquire(s, err);
		if (!c) {
			hc_store_close(s);
			return err ? err->status : HC_ESTORE;
		}
		hc_store_release(s, c);
	}
	*out = s;
	return HC_OK;
}

unsigned hc_store_pool_size(const struct hc_store *s)
{
	return s->opt.pool_size;
}

void hc_store_close(struct hc_store *s)
{
	if (!s)
		return;
	if (s->all) {
		pthread_mutex_lock(&s->lock);
		s->closing = true;
		pthread_cond_broadcast(&s->available);
		pthread_mutex_unlock(&s->lock);
		for (unsigned i = 0; i < s->nall; i++) {
			s->ops->close_conn(s->all[i]);
			free(s->all[i]);
		}
		hc__store_close_writer(s);
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->available);
		pthread_cond_destroy(&s->written);
	}
	free(s->all);
	free(s->url);
	free(s->target);
	free(s);
}

const struct hc_dialect *hc_store_dialect(const struct hc_store *s)
{
	return s->dialect;
}

const char *hc_store_url(const struct hc_store *s)
{
	return s->url;
}

struct hc_conn *hc_store_acquire(struct hc_store *s, struct hc_err *err)
{
	struct hc_conn *c = NULL;
	struct timespec deadline;
	/* the condition variable waits on the realtime clock */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += s->opt.acquire_timeout_ms / 1000;
	deadline.tv_nsec += (long)(s->opt.acquire_timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (s->closing) {
			pthread_mutex_unlock(&s->lock);
			hc_err_set(err, HC_EBUSY, "the store is closing");
			return NULL;
		}
		if (s->free_list) {
			c = s->free_list;
			s->free_list = c->next_free;
			c->next_free = NULL;
			pthread_mutex_unlock(&s->lock);
			return c;
		}
		if (s->open_conns < s->opt.pool_size)
			break;
		if (pthread_cond_timedwait(&s->available, &s->lock,
					   &deadline) == ETIMEDOUT &&
		    !s->free_list && s->open_conns >= s->opt.pool_size) {
			pthread_mutex_unlock(&s->lock);
			/* overload: an answer (503) rather than a hang */
			hc_err_set(err, HC_EBUSY,
				   "all %u database connections have been in "
				   "use for %u ms; try again later",
				   s->opt.pool_size, s->opt.acquire_timeout_ms);
			return NULL;
		}
	}
	/* Open a new connection outside the lock; reserve its slot first. */
	s->open_conns++;
	pthread_mutex_unlock(&s->lock);

	c = calloc(1, sizeof(*c));
	if (c) {
		c->store = s;
		if (s->ops->open_conn(s, c, err) != HC_OK) {
			free(c);
			c = NULL;
		}
	} else {
		hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&s->lock);
	if (c)
		s->all[s->nall++] = c;
	else
		s->open_conns--;
	pthread_cond_signal(&s->available);
	pthread_mutex_unlock(&s->lock);
	return c;
}

void hc_store_release(struct hc_store *s, struct hc_conn *c)
{
	if (!c)
		return;
	if (c->in_tx)
		hc_tx_rollback(c);
	pthread_mutex_lock(&s->lock);
	c->next_free = s->free_list;
	s->free_list = c;
	pthread_cond_signal(&s->available);
	pthread_mutex_unlock(&s->lock);
}

int hc_tx_begin(struct hc_conn *c, bool write, struct hc_err *err)
{
	const struct hc_store_ops *ops = c->store->ops;
	int rc;
	if (c->in_tx)
		HC_BUG("nested transaction");
	rc = ops->exec_script(c, write ? ops->begin_write : ops->begin_read,
			      err);
	if (rc == HC_OK)
		c->in_tx = true;
	return rc;
}

int hc_tx_commit(struct hc_conn *c, struct hc_err *err)
{
	int rc;
	if (!c->in_tx)
		HC_BUG("commit without a transaction");
	rc = c->store->ops->exec_script(c, "COMMIT", err);
	if (rc != HC_OK) {
		hc_tx_rollback(c);
		return rc;
	}
	c->in_tx = false;
	return HC_OK;
}

void hc_tx_rollback(struct hc_conn *c)
{
	if (!c->in_tx)
		return;
	c->store->ops->exec_script(c, "ROLLBACK", NULL);
	c->in_tx = false;
}

bool hc_tx_active(const struct hc_conn *c)
{
	return c->in_tx;
}

int hc_exec_script(struct hc_conn *c, const char *sql, struct hc_err *err)
{
	return c->store->ops->exec_script(c, sql, err);
}

int hc_query(struct hc_conn *c, struct hc_stmt **out, const char *sql,
	     const struct hc_value *params, size_t nparams, struct hc_err *err)
{
	return c->store->ops->query(c, out, sql, params, nparams, err);
}

/* Statements remember their connection's ops through the store; the
 * backend's statement struct starts with a pointer to the connection. */
struct stmt_head {
	struct hc_conn *conn;
};

static const struct hc_store_ops *ops_of(struct hc_stmt *st)
{
	return ((struct stmt_head *)(void *)st)->conn->store->ops;
}

int hc_stmt_step(struct hc_stmt *st, struct hc_err *err)
{
	return ops_of(st)->step(st, err);
}

int hc_stmt_columns(struct hc_stmt *st)
{
	return ops_of(st)->columns(st);
}

const char *hc_stmt_name(struct hc_stmt *st, int col)
{
	return ops_of(st)->name(st, col);
}

bool hc_stmt_isnull(struct hc_stmt *st, int col)
{
	return ops_of(st)->isnull(st, col);
}

int64_t hc_stmt_int(struct hc_stmt *st, int col)
{
	return ops_of(st)->col_int(st, col);
}

const char *hc_stmt_text(struct hc_stmt *st, int col, size_t *len)
{
	return ops_of(st)->col_text(st, col, len);
}

void hc_stmt_finish(struct hc_stmt *st)
{
	if (st)
		ops_of(st)->finish(st);
}

int64_t hc_changes(struct hc_conn *c)
{
	return c->store->ops->changes(c);
}

int hc_exec(struct hc_conn *c, const char *sql, const struct hc_value *params,
	    size_t nparams, struct hc_err *err)
{
	struct hc_stmt *st;
	int rc = hc_query(c, &st, sql, params, nparams, err);
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY)
		;
	hc_stmt_finish(st);
	return rc == HC_ROW_DONE ? HC_OK : rc;
}

int hc_query_int(struct hc_conn *c, int64_t *out, const char *sql,
		 const struct hc_value *params, size_t nparams,
		 struct hc_err *err)
{
	struct hc_stmt *st;
	int rc = hc_query(c, &st, sql, params, nparams, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_stmt_step(st, err);
	if (rc == HC_ROW_READY) {
		*out = hc_stmt_int(st, 0);
		rc = HC_OK;
	} else if (rc == HC_ROW_DONE) {
		rc = hc_err_set(err, HC_ENOTFOUND, "no row");
	}
	hc_stmt_finish(st);
	return rc;
}

int hc_table_exists(struct hc_conn *c, const char *table, bool *exists,
		    struct hc_err *err)
{
	return c->store->ops->table_exists(c, table, exists, err);
}

int hc_column_exists(struct hc_conn *c, const char *table, const char *column,
		     bool *exists, struct hc_err *err)
{
	return c->store->ops->column_exists(c, table, column, exists, err);
}

int hc_data_version(struct hc_conn *c, int64_t *version, struct hc_err *err)
{
	return c->store->ops->data_version(c, version, err);
}

int hc_lock_try(struct hc_conn *c, const char *name, bool *got,
		struct hc_err *err)
{
	*got = false;
	return c->store->ops->try_lock(c, name, got, err);
}

int hc_lock_wait(struct hc_conn *c, const char *name, struct hc_err *err)
{
	return c->store->ops->lock_wait(c, name, err);
}

int hc_lock_release(struct hc_conn *c, const char *name, struct hc_err *err)
{
	return c->store->ops->unlock(c, name, err);
}
