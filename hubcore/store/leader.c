/*
 * leader.c - leader election over the store's named locks (see struct
 * hc_leader in hubcore/store.h).
 *
 * The leader keeps one connection out of the pool, holding the lock. On
 * PostgreSQL the lock lives as long as that connection: each check runs a
 * trivial query on it, so a connection the server dropped (and the lock
 * with it) is noticed, and leadership is given up and tried for again.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/store.h"

struct hc_leader {
	struct hc_store *store;
	char *name;
	pthread_mutex_t lock;
	struct hc_conn *conn; /* held while leading */
	bool leading;
};

int hc_leader_open(struct hc_leader **out, struct hc_store *s,
		   const char *name, struct hc_err *err)
{
	struct hc_leader *l = calloc(1, sizeof(*l));
	if (!l || !(l->name = strdup(name))) {
		free(l);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	l->store = s;
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return HC_OK;
}

static void drop(struct hc_leader *l)
{
	if (l->conn) {
		struct hc_err e = { 0 };
		hc_lock_release(l->conn, l->name, &e);
		hc_store_release(l->store, l->conn);
	}
	l->conn = NULL;
	l->leading = false;
}

bool hc_leader_check(struct hc_leader *l)
{
	struct hc_err err = { 0 };
	bool got = false, leading;

	pthread_mutex_lock(&l->lock);
	if (l->leading) {
		int64_t one = 0;
		if (hc_query_int(l->conn, &one, "SELECT 1", NULL, 0, &err) !=
		    HC_OK)
			drop(l); /* the connection, and so the lock, is gone */
	}
	if (!l->leading) {
		if (!l->conn)
			l->conn = hc_store_acquire(l->store, &err);
		if (l->conn &&
		    hc_lock_try(l->conn, l->name, &got, &err) == HC_OK && got)
			l->leading = true;
		else if (l->conn) {
			hc_store_release(l->store, l->conn);
			l->conn = NULL;
		}
	}
	leading = l->leading;
	pthread_mutex_unlock(&l->lock);
	return leading;
}

void hc_leader_close(struct hc_leader *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	drop(l);
	pthread_mutex_unlock(&l->lock);
	pthread_mutex_destroy(&l->lock);
	free(l->name);
	free(l);
}
