/*
 * guard.c - what stands between a guess and an account: throttling of
 * failed logins and client authentications per name and per address with
 * growing locks, a bound on the argon2id checks running at once, the
 * privacyIDEA second factor, and alerts for the record.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "idp/idp_internal.h"

/* ---- throttling ------------------------------------------------------------------ */

/*
 * An attempt is counted before it is judged, in one write transaction
 * that also checks the lock: however many attempts race, no more than the
 * limit get past the check (a check, then a count after a slow password
 * hash, let forty concurrent guesses through a limit of three). The
 * attempt is a failure until the caller says otherwise: it undoes the
 * count when the attempt was never judged (no slot for the hash), or
 * resets the key on success.
 */
int idp_throttle_reserve(struct hc_conn *c, const struct idp_config *cfg,
			 const char *key, int max_failures, int *retry_after,
			 int *count, struct hc_err *err)
{
	time_t now = time(NULL);
	struct hc_stmt *st = NULL;
	int64_t failures = 0, last = 0, until = 0, lock = 0;
	bool found = false;
	int rc;

	*retry_after = 0;
	if (count)
		*count = 0;
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	/* a row to lock, so that concurrent attempts on a key take turns
	 * (PostgreSQL; a SQLite write transaction excludes the others
	 * already): a new one counts as no failures, as no row does */
	{
		struct hc_value p[] = { hc_vtext(key) };
		rc = hc_exec(c,
			     "INSERT INTO idp_throttle (key, failures, "
			     "last_failure, locked_until) VALUES (?, 0, 0, 0) "
			     "ON CONFLICT(key) DO NOTHING",
			     p, 1, err);
	}
	if (rc == HC_OK) {
		struct hc_value p[] = { hc_vtext(key) };
		rc = hc_query(c, &st,
			      "SELECT failures, last_failure, locked_until FROM "
			      "idp_throttle WHERE key = ? FOR UPDATE",
			      p, 1, err);
	}
	if (rc == HC_OK) {
		int step = hc_stmt_step(st, err);
		if (step == HC_ROW_READY) {
			found = true;
			failures = hc_stmt_int(st, 0);
			last = hc_stmt_int(st, 1);
			until = hc_stmt_int(st, 2);
		} else if (step != HC_ROW_DONE) {
			rc = step;
		}
		hc_stmt_finish(st);
	}
	if (rc != HC_OK)
		goto fail;
	if (found && until > now) {
		hc_tx_rollback(c);
		*retry_after = (int)(until - now);
		return hc_err_set(err, HC_EBUSY,
				  "too many failed attempts; try again in %d "
				  "seconds",
				  *retry_after);
	}
	/* a failure long after the last one (max_lock_seconds) starts the
	 * count again, so that old mistakes do not add up */
	if (!found || (last < now - cfg->max_lock_seconds && until < now))
		failures = 1;
	else
		failures++;
	/* after max_failures in a row, a lock of lock_seconds, doubling with
	 * each further failure up to max_lock_seconds */
	if (max_failures > 0 && failures >= max_failures) {
		lock = cfg->lock_seconds;
		for (int64_t i = max_failures;
		     i < failures && lock < cfg->max_lock_seconds; i++)
			lock *= 2;
		if (lock > cfg->max_lock_seconds)
			lock = cfg->max_lock_seconds;
	}
	{
		struct hc_value p[] = { hc_vtext(key), hc_vint(failures),
					hc_vint((int64_t)now),
					hc_vint(lock ? (int64_t)now + lock : 0) };
		rc = hc_exec(c,
			     "INSERT INTO idp_throttle (key, failures, "
			     "last_failure, locked_until) VALUES (?, ?, ?, ?) "
			     "ON CONFLICT(key) DO UPDATE SET failures = "
			     "excluded.failures, last_failure = "
			     "excluded.last_failure, locked_until = "
			     "excluded.locked_until",
			     p, 4, err);
	}
	if (rc == HC_OK)
		rc = hc_tx_commit(c, err);
	if (rc != HC_OK)
		goto fail;
	if (count)
		*count = failures > INT32_MAX ? INT32_MAX : (int)failures;
	return HC_OK;
fail:
	hc_tx_rollback(c);
	return rc;
}

/*
 * Take back a reserved attempt that was not judged, or that succeeded
 * where a success does not clear the record (an address). A lock present
 * now was set by a reservation granted while no lock held (none is
 * granted during one), so without this attempt the count is below the
 * limit, or the previous lock had run out: either way no lock holds.
 */
void idp_throttle_undo(struct hc_conn *c, const char *key)
{
	struct hc_value p[] = { hc_vtext(key) };
	hc_exec(c,
		"UPDATE idp_throttle SET failures = CASE WHEN failures > 0 "
		"THEN failures - 1 ELSE 0 END, locked_until = 0 WHERE key = ?",
		p, 1, NULL);
}

void idp_throttle_reset(struct hc_conn *c, const char *key)
{
	struct hc_value p[] = { hc_vtext(key) };
	hc_exec(c, "DELETE FROM idp_throttle WHERE key = ?", p, 1, NULL);
}

/* ---- argon2id checks at once -------------------------------------------------------- */

void idp_slots_init(struct idp_slots *s)
{
	pthread_condattr_t a;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&s->freed, &a);
	pthread_condattr_destroy(&a);
	s->busy = 0;
}

void idp_slots_destroy(struct idp_slots *s)
{
	pthread_cond_destroy(&s->freed);
	pthread_mutex_destroy(&s->lock);
}

int idp_slots_take(struct idp_slots *s, int max, int wait_ms)
{
	struct timespec until;
	int rc = HC_OK;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (s->busy >= max && rc == HC_OK)
		if (pthread_cond_timedwait(&s->freed, &s->lock, &until) != 0 &&
		    s->busy >= max)
			rc = HC_EBUSY;
	if (rc == HC_OK)
		s->busy++;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void idp_slots_give(struct idp_slots *s)
{
	pthread_mutex_lock(&s->lock);
	s->busy--;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

int idp__password_verify(struct idp *p, const struct idp_config *cfg,
			 const char *encoded, const char *password)
{
	bool ok;
	if (idp_slots_take(&p->argon2, cfg->max_password_checks,
			   IDP_SLOT_WAIT_MS) != HC_OK)
		return HC_EBUSY;
	ok = idp_password_check(encoded, password ? password : "");
	idp_slots_give(&p->argon2);
	return ok ? HC_OK : HC_EINVAL;
}

int idp__secret_verify(struct idp *p, const struct idp_config *cfg,
		       const char *stored, const char *secret)
{
	if (!stored || !secret)
		return HC_EINVAL;
	/* a sha256 secret costs nothing to check; an argon2id one a slot */
	if (strncmp(stored, "sha256:", 7) == 0)
		return idp_secret_check(stored, secret) ? HC_OK : HC_EINVAL;
	return idp__password_verify(p, cfg, stored, secret);
}

/* ---- privacyIDEA ------------------------------------------------------------------- */

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct hc_buf *b = ctx;
	return hc_buf_add(b, data, size * n) == HC_OK ? size * n : 0;
}

/*
 * POST /validate/check with user, realm and pass (PIN followed by the
 * OTP): {"result": {"status": true, "value": true}} is ACCEPT; value false
 * is REJECT; a CHALLENGE (a transaction_id) is not enough to log in here.
 */
int idp_privacyidea_check(const struct idp_config *cfg, const char *user,
			  const char *pass, struct hc_err *err)
{
	CURL *h;
	struct hc_buf body = HC_BUF_INIT(64 * 1024);
	char url[2048], *eu = NULL, *ep = NULL, *er = NULL, *form = NULL;
	long status = 0;
	json_t *j = NULL, *result;
	int rc;

	if (!cfg->privacyidea_url)
		return hc_err_set(err, HC_EINTERNAL,
				  "privacyIDEA is not configured");
	h = curl_easy_init();
	if (!h)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	snprintf(url, sizeof(url), "%s/validate/check", cfg->privacyidea_url);
	eu = curl_easy_escape(h, user, 0);
	ep = curl_easy_escape(h, pass ? pass : "", 0);
	er = curl_easy_escape(h, cfg->privacyidea_realm ? cfg->privacyidea_realm
							: "",
			      0);
	if (eu && ep && er &&
	    asprintf(&form, "user=%s&realm=%s&pass=%s", eu, er, ep) < 0)
		form = NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, form ? form : "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (!form || curl_easy_perform(h) != CURLE_OK) {
		rc = hc_err_set(err, HC_EIO, "privacyIDEA did not answer");
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	j = body.data ? json_loadb(body.data, body.len, 0, NULL) : NULL;
	result = json_object_get(j, "result");
	if (status == 200 && json_is_true(json_object_get(result, "status")) &&
	    json_is_true(json_object_get(result, "value")))
		rc = HC_OK;
	else
		rc = hc_err_set(err, HC_EINVAL,
				"the second factor was not accepted");
out:
	json_decref(j);
	curl_free(eu);
	curl_free(ep);
	curl_free(er);
	free(form);
	hc_buf_release(&body);
	curl_easy_cleanup(h);
	return rc;
}

/* ---- alerts ------------------------------------------------------------------------- */

void idp_alert(struct hc_conn *c, const char *type, const char *summary,
	       json_t *payload)
{
	json_t *ev = json_pack("{ssssssss}", "event_type", type, "severity",
			       "critical", "source", "idp", "summary", summary);
	json_t *out = NULL;
	if (ev)
		json_object_set_new(ev, "payload",
				    payload ? json_incref(payload)
					    : json_object());
	if (ev)
		hc_res_create(c, &hc_progress_resource, ev, &out, NULL);
	json_decref(out);
	json_decref(ev);
}
