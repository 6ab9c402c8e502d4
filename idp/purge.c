/*
 * purge.c - what has expired leaves the database. Unauthenticated
 * requests create rows (a pending login request per GET /authorize, a
 * throttle record per guessed name), and every sign-in creates more:
 * without a purge the file grows for ever.
 *
 * A thread of the provider (started by the start hook, joined by stop)
 * purges once at start and then every purge_interval seconds; a thread
 * rather than a purge on the way through requests, so that no request
 * waits for a large delete, and a quiet IdP is cleaned as well.
 *
 * What revocation needs is kept as long as a token it could revoke is
 * valid: an access token's record (a record missing means "revoked")
 * until the token has expired; a code, whose replay revokes its family,
 * until no token of the family is left; a family, which says whether its
 * tokens are revoked, until nothing refers to it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "idp/idp_internal.h"

/* Access tokens are accepted up to 30 s past exp (idp_jwt_verify): their
 * records stay a little longer than that. */
#define ACCESS_LEEWAY 60
/* A family is made just before its code, outside a transaction on the
 * way through a live session: one that young is never taken for an
 * orphan. */
#define FAMILY_GRACE 3600

/* One purge step: a DELETE whose ?1 is now, ?2 now less the access
 * leeway, ?3 now less the family grace, ?4 now less max_lock_seconds;
 * nparams is the highest it names. */
struct step {
	const char *what;
	const char *sql;
	size_t nparams;
};

static const struct step steps[] = {
	{ "login requests",
	  "DELETE FROM idp_requests WHERE expires < ?1", 1 },
	{ "sessions", "DELETE FROM idp_sessions WHERE expires < ?1", 1 },
	{ "access token records",
	  "DELETE FROM idp_access WHERE expires < ?2", 2 },
	{ "refresh tokens", "DELETE FROM idp_refresh WHERE expires < ?1",
	  1 },
	/* after the two above: a code stays while its family has a token */
	{ "codes",
	  "DELETE FROM idp_codes WHERE expires < ?1 AND NOT EXISTS (SELECT 1 "
	  "FROM idp_access a WHERE a.family = idp_codes.family) AND NOT "
	  "EXISTS (SELECT 1 FROM idp_refresh r WHERE r.family = "
	  "idp_codes.family)",
	  1 },
	{ "token families",
	  "DELETE FROM idp_families WHERE created < ?3 AND NOT EXISTS (SELECT "
	  "1 FROM idp_codes c WHERE c.family = idp_families.family) AND NOT "
	  "EXISTS (SELECT 1 FROM idp_refresh r WHERE r.family = "
	  "idp_families.family) AND NOT EXISTS (SELECT 1 FROM idp_access a "
	  "WHERE a.family = idp_families.family)",
	  3 },
	/* a record with no lock and no failure for max_lock_seconds counts
	 * as none (idp_throttle_reserve starts again) */
	{ "throttle records",
	  "DELETE FROM idp_throttle WHERE locked_until < ?1 AND last_failure "
	  "< ?4",
	  4 },
};

int idp__purge(struct hc_conn *c, const struct idp_config *cfg, time_t now,
	       int64_t *removed, struct hc_err *err)
{
	struct hc_value v[] = {
		hc_vint((int64_t)now),
		hc_vint((int64_t)now - ACCESS_LEEWAY),
		hc_vint((int64_t)now - FAMILY_GRACE),
		hc_vint((int64_t)now - cfg->max_lock_seconds),
	};
	int64_t total = 0;
	for (size_t i = 0; i < HC_COUNT(steps); i++) {
		int rc = hc_exec(c, steps[i].sql, v, steps[i].nparams, err);
		if (rc != HC_OK) {
			if (removed)
				*removed = total;
			return hc_err_prefix(err, "purging expired %s",
					     steps[i].what);
		}
		total += hc_changes(c);
	}
	if (removed)
		*removed = total;
	return HC_OK;
}

static void purge_once(struct idp *p)
{
	struct hc_err err = { 0 };
	struct idp_config *cfg = idp_config(p);
	struct hc_conn *c = hc_store_acquire(p->hub->store, &err);
	int64_t removed = 0;
	if (c && idp__purge(c, cfg, time(NULL), &removed, &err) == HC_OK) {
		if (removed)
			hc_log_info(&p->hub->log, "purged %lld expired rows",
				    (long long)removed);
	} else {
		hc_log_warn(&p->hub->log, "purge failed: %s", err.msg);
	}
	if (c)
		hc_store_release(p->hub->store, c);
	idp_config_unref(cfg);
}

static void *purger_main(void *arg)
{
	struct idp *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		struct timespec until;
		pthread_mutex_unlock(&p->lock);
		purge_once(p);
		pthread_mutex_lock(&p->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += p->cfg->purge_interval;
		while (!p->stopping &&
		       pthread_cond_timedwait(&p->purge_wake, &p->lock,
					      &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int idp__purger_start(struct idp *p, struct hc_err *err)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&p->purge_wake, &a);
	pthread_condattr_destroy(&a);
	p->stopping = false;
	if (pthread_create(&p->purger, NULL, purger_main, p) != 0) {
		pthread_cond_destroy(&p->purge_wake);
		return hc_err_set(err, HC_EINTERNAL,
				  "cannot start the purge thread");
	}
	p->purging = true;
	return HC_OK;
}

void idp__purger_stop(struct idp *p)
{
	if (!p->purging)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_signal(&p->purge_wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->purger, NULL);
	pthread_cond_destroy(&p->purge_wake);
	p->purging = false;
}
