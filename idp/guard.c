/*
 * guard.c - what stands between a guess and an account: throttling of
 * failed logins per user and per address with growing locks, the
 * privacyIDEA second factor, and alerts for the record.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hubcore/buf.h"
#include "hubcore/json.h"
#include "idp/idp.h"

/* ---- throttling ------------------------------------------------------------------ */

int idp_throttle_check(struct hc_conn *c, const char *key, int *retry_after,
		       struct hc_err *err)
{
	int64_t until = 0;
	struct hc_value p[] = { hc_vtext(key) };
	time_t now = time(NULL);
	*retry_after = 0;
	if (hc_query_int(c, &until,
			 "SELECT locked_until FROM idp_throttle WHERE key = ?",
			 p, 1, NULL) != HC_OK)
		return HC_OK;
	if (until > now) {
		*retry_after = (int)(until - now);
		return hc_err_set(err, HC_EBUSY,
				  "too many failed attempts; try again in %d "
				  "seconds",
				  *retry_after);
	}
	return HC_OK;
}

/*
 * One more failure: after max_failures in a row the key is locked for
 * lock_seconds, and each further failure doubles the lock up to
 * max_lock_seconds. A failure long after the last one (max_lock_seconds)
 * starts the count again, so that old mistakes do not add up.
 */
void idp_throttle_fail(struct hc_conn *c, const struct idp_config *cfg,
		       const char *key, int max_failures)
{
	time_t now = time(NULL);
	int64_t failures = 0;
	struct hc_value p[] = { hc_vtext(key), hc_vint((int64_t)now),
				hc_vint((int64_t)now - cfg->max_lock_seconds) };
	if (hc_exec(c,
		    "INSERT INTO idp_throttle (key, failures, last_failure, "
		    "locked_until) VALUES (?1, 1, ?2, 0) ON CONFLICT(key) DO "
		    "UPDATE SET failures = CASE WHEN last_failure < ?3 AND "
		    "locked_until < ?2 THEN 1 ELSE failures + 1 END, "
		    "last_failure = excluded.last_failure",
		    p, 3, NULL) != HC_OK)
		return;
	hc_query_int(c, &failures,
		     "SELECT failures FROM idp_throttle WHERE key = ?", p, 1,
		     NULL);
	if (failures >= max_failures) {
		int64_t lock = cfg->lock_seconds;
		for (int64_t i = max_failures; i < failures &&
					       lock < cfg->max_lock_seconds;
		     i++)
			lock *= 2;
		if (lock > cfg->max_lock_seconds)
			lock = cfg->max_lock_seconds;
		{
			struct hc_value q[] = { hc_vint((int64_t)now + lock),
						hc_vtext(key) };
			hc_exec(c,
				"UPDATE idp_throttle SET locked_until = ? "
				"WHERE key = ?",
				q, 2, NULL);
		}
	}
}

void idp_throttle_reset(struct hc_conn *c, const char *key)
{
	struct hc_value p[] = { hc_vtext(key) };
	hc_exec(c, "DELETE FROM idp_throttle WHERE key = ?", p, 1, NULL);
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
