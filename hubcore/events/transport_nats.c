/*
 * transport_nats.c - deliveries over NATS JetStream (with `nats:` in the
 * events configuration), with libnats.
 *
 * One stream (nats_stream, work-queue retention, file storage) holds two
 * kinds of message under the prefix nats_subject (P):
 *
 *   P.event.RECEIVER.SENDER     one event, {"id", "type", "source", "time",
 *                               "payload"}, header Foshub-Sends
 *   P.receipt.SENDER.RECEIVER   what the receiver did with a batch:
 *                               {"results": [{"id", "status", "error",
 *                               "sends"}]}
 *
 * The sender's forwarder publishes each due delivery and waits for the
 * stream's acknowledgement: the delivery is then "sent" (the stream has
 * it; a nats-server restart keeps it). The message id (Nats-Msg-Id) is
 * EVENT:RECEIVER:SENDS, SENDS counting the delivery's publishes: a
 * publish repeated after a crash has the same id and the stream drops it;
 * a retry after a refusal has a new one.
 *
 * Each hub pulls from two durable consumers: HUB-events (its events, from
 * every sender) and HUB-receipts (the receipts of what it sent). Events
 * are applied by the inbox exactly as an HTTP batch (hc_events_receive:
 * one transaction, duplicates recognised by event id); the receipt is
 * published and the messages acknowledged only after the commit, so a
 * crash anywhere makes the stream deliver again and the inbox answer
 * "duplicate". Receipts are applied to the outbox (ev_outbox_receipts):
 * done, or refused with an attempt counted and a backoff, dead after
 * max_attempts, exactly as over HTTP. Events from a hub that is not a
 * sender wait in the stream ("held") and the sender's status says why.
 *
 * libnats reconnects by itself (forever, every 250 ms to start with); the
 * hub starts when the server is down and connects once it is up. After a
 * reconnection the consumers are set up again; a stream created after
 * deliveries were handed to it (the server lost its storage) means those
 * are lost: they go again.
 */
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events_internal.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

#define FETCH_WAIT_MS 1000 /* an idle pull returns after this */
#define ACK_WAIT_NS (30LL * 1000000000LL)
#define SUBJECT_MAX 400

struct ev_nats;

/* One pulling thread: a durable consumer and what to do with a batch. */
struct nats_pull {
	struct ev_nats *t;
	const char *what; /* "events", "receipts" */
	char durable[100];
	char filter[SUBJECT_MAX];
	pthread_t thread;
	bool started;
	atomic_bool resetup; /* set on reconnection */
	void (*handle)(struct nats_pull *p, natsMsgList *list);
};

/* The transport's state. The connection and the JetStream context are
 * thread-safe in libnats; they are used under conn_lock's read side and
 * replaced under its write side (conn_reopen). The rest is set at open and
 * read-only after. */
struct ev_nats {
	struct hc_events *ev;
	struct hc_hub *hub;
	const char *self; /* this hub's name (hub->def->name) */
	char *stream;
	char *prefix;
	char *url; /* for messages */
	natsOptions *opts;
	pthread_rwlock_t conn_lock;
	natsConnection *nc; /* NULL when it could not be made */
	jsCtx *js;
	unsigned conn_gen; /* bumped by every new connection */
	unsigned reopens;  /* conn_reopen's new connections */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping; /* under lock */
	struct nats_pull in, receipts;
};

static const char *nats_error(natsStatus s, jsErrCode jerr, char *buf,
			      size_t size)
{
	const char *last = nats_GetLastError(NULL);
	if (jerr)
		snprintf(buf, size, "%s (JetStream error %d)",
			 last && *last ? last : natsStatus_GetText(s),
			 (int)jerr);
	else
		snprintf(buf, size, "%s",
			 last && *last ? last : natsStatus_GetText(s));
	return buf;
}

static const char *conn_status(natsConnStatus s)
{
	switch (s) {
	case NATS_CONN_STATUS_DISCONNECTED:
		return "disconnected";
	case NATS_CONN_STATUS_CONNECTING:
		return "connecting";
	case NATS_CONN_STATUS_CONNECTED:
		return "connected";
	case NATS_CONN_STATUS_CLOSED:
		return "closed";
	case NATS_CONN_STATUS_RECONNECTING:
		return "reconnecting";
	default:
		return "draining";
	}
}

static bool stopping(struct ev_nats *t)
{
	bool s;
	pthread_mutex_lock(&t->lock);
	s = t->stopping;
	pthread_mutex_unlock(&t->lock);
	return s;
}

/* Sleep ms unless the transport stops first. */
static void pause_ms(struct ev_nats *t, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&t->lock);
	if (!t->stopping)
		pthread_cond_timedwait(&t->wake, &t->lock, &ts);
	pthread_mutex_unlock(&t->lock);
}

/* Wake the forwarder: receipts made deliveries due again. */
static void wake_forwarder(struct ev_nats *t)
{
	pthread_mutex_lock(&t->ev->lock);
	pthread_cond_signal(&t->ev->wake);
	pthread_mutex_unlock(&t->ev->lock);
}

/* ---- connection -------------------------------------------------------------------- */

/* Under conn_lock. */
static natsConnStatus status_of(struct ev_nats *t)
{
	return t->nc ? natsConnection_Status(t->nc) : NATS_CONN_STATUS_CLOSED;
}

/* Make the connection (under conn_lock's write side). The server may be
 * down: libnats then connects in the background. */
static natsStatus conn_open(struct ev_nats *t)
{
	natsStatus s = natsConnection_Connect(&t->nc, t->opts);
	if (s == NATS_NOT_YET_CONNECTED) {
		hc_log_warn(&t->hub->log,
			    "events: the NATS server %s is not there yet; "
			    "connecting in the background",
			    t->url);
		s = NATS_OK;
	} else if (s == NATS_OK) {
		hc_log_info(&t->hub->log, "events: connected to NATS (%s)",
			    t->url);
	}
	if (s == NATS_OK)
		s = natsConnection_JetStream(&t->js, t->nc, NULL);
	if (s != NATS_OK) {
		jsCtx_Destroy(t->js);
		natsConnection_Destroy(t->nc);
		t->js = NULL;
		t->nc = NULL;
	}
	t->conn_gen++;
	return s;
}

/*
 * libnats reconnects by itself, but gives a connection up in some cases
 * (seen when the server shut down during the first handshake; also after
 * repeated authorisation errors): then make a new one. The threads using
 * the old one notice conn_gen.
 */
static void conn_reopen(struct ev_nats *t)
{
	pthread_rwlock_wrlock(&t->conn_lock);
	if (!stopping(t) && status_of(t) == NATS_CONN_STATUS_CLOSED) {
		natsStatus s;
		char msg[300];
		if (t->reopens++ % 20 == 0)
			hc_log_warn(&t->hub->log,
				    "events: the NATS connection to %s was "
				    "given up; making a new one",
				    t->url);
		jsCtx_Destroy(t->js);
		natsConnection_Destroy(t->nc);
		t->js = NULL;
		t->nc = NULL;
		s = conn_open(t);
		if (s != NATS_OK)
			hc_log_warn(&t->hub->log, "events: NATS %s: %s",
				    t->url, nats_error(s, 0, msg, sizeof(msg)));
	}
	pthread_rwlock_unlock(&t->conn_lock);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct ev_nats *t = closure;
	if (!stopping(t))
		hc_log_warn(&t->hub->log,
			    "events: lost the NATS server (%s), reconnecting",
			    t->url);
}

static void on_connected(natsConnection *nc, void *closure)
{
	struct ev_nats *t = closure;
	hc_log_info(&t->hub->log, "events: connected to NATS (%s)", t->url);
	atomic_store(&t->in.resetup, true);
	atomic_store(&t->receipts.resetup, true);
	pthread_mutex_lock(&t->lock);
	pthread_cond_broadcast(&t->wake);
	pthread_mutex_unlock(&t->lock);
	wake_forwarder(t);
}

/* Make sure the stream exists (creating it is idempotent: two hubs may
 * race to it). *created gets its creation time (RFC 3339). */
static int ensure_stream(struct ev_nats *t, char created[HC_TIME_LEN + 1],
			 char *error, size_t esize)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, t->js, t->stream, NULL, &jerr);
	if (s != NATS_OK && jerr == JSStreamNotFoundErr) {
		jsStreamConfig sc;
		char subject[SUBJECT_MAX];
		const char *subjects[] = { subject };
		snprintf(subject, sizeof(subject), "%s.>", t->prefix);
		jsStreamConfig_Init(&sc);
		sc.Name = t->stream;
		sc.Subjects = subjects;
		sc.SubjectsLen = 1;
		sc.Retention = js_WorkQueuePolicy;
		sc.Storage = js_FileStorage;
		jerr = 0;
		s = js_AddStream(&si, t->js, &sc, NULL, &jerr);
		if (s == NATS_OK)
			hc_log_info(&t->hub->log,
				    "events: created the NATS stream %s (%s)",
				    t->stream, subject);
		else if (jerr == JSStreamNameExistErr) {
			jerr = 0;
			s = js_GetStreamInfo(&si, t->js, t->stream, NULL,
					     &jerr);
		}
	}
	if (s != NATS_OK) {
		char msg[300];
		snprintf(error, esize, "the NATS stream %s: %s", t->stream,
			 nats_error(s, jerr, msg, sizeof(msg)));
		return -1;
	}
	{
		struct timespec ts = { .tv_sec = si->Created / 1000000000LL,
				       .tv_nsec = si->Created % 1000000000LL };
		hc_time_format(&ts, created);
	}
	jsStreamInfo_Destroy(si);
	return 0;
}

/* Deliveries handed to a stream that no longer exists go again. */
static void resend_lost(struct ev_nats *t, const char *created)
{
	struct hc_err err = { 0 };
	struct hc_conn *c = hc_store_acquire(t->hub->store, &err);
	int64_t n = 0;
	int rc = c ? hc_tx_begin(c, true, &err) : HC_ESTORE;
	if (rc == HC_OK)
		rc = ev_outbox_stream_lost(c, created, &n, &err);
	if (rc == HC_OK)
		rc = hc_tx_commit(c, &err);
	else if (c)
		hc_tx_rollback(c);
	if (c)
		hc_store_release(t->hub->store, c);
	if (rc != HC_OK) {
		char msg[600];
		hc_log_error(&t->hub->log,
			     "events: cannot check what the NATS stream lost: "
			     "%s",
			     hc_err_format(&err, msg, sizeof(msg)));
	} else if (n) {
		hc_log_warn(&t->hub->log,
			    "events: the NATS stream %s is newer than %lld "
			    "deliveries handed to it: sending them again",
			    t->stream, (long long)n);
		wake_forwarder(t);
	}
}

/* Stream and durable consumer of one pulling thread. */
static natsSubscription *pull_setup(struct nats_pull *p, char *error,
				    size_t esize)
{
	struct ev_nats *t = p->t;
	natsSubscription *sub = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	char created[HC_TIME_LEN + 1];
	natsStatus s;
	natsConnStatus cs = status_of(t);
	if (cs != NATS_CONN_STATUS_CONNECTED) {
		snprintf(error, esize,
			 "not connected to the NATS server %s (%s)", t->url,
			 conn_status(cs));
		return NULL;
	}
	if (ensure_stream(t, created, error, esize) != 0)
		return NULL;
	if (p == &t->receipts)
		resend_lost(t, created);
	jsSubOptions_Init(&so);
	so.Stream = t->stream;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.AckWait = ACK_WAIT_NS;
	so.Config.MaxDeliver = -1;
	s = js_PullSubscribe(&sub, t->js, p->filter, p->durable, NULL, &so,
			     &jerr);
	if (s != NATS_OK) {
		char msg[300];
		snprintf(error, esize, "the NATS consumer %s: %s", p->durable,
			 nats_error(s, jerr, msg, sizeof(msg)));
		return NULL;
	}
	return sub;
}

static void *pull_main(void *arg)
{
	struct nats_pull *p = arg;
	struct ev_nats *t = p->t;
	natsSubscription *sub = NULL;
	unsigned sub_gen = 0;
	int failures = 0;
	while (!stopping(t)) {
		char error[600] = "";
		natsMsgList list = { 0 };
		jsErrCode jerr = 0;
		natsStatus s;
		pthread_rwlock_rdlock(&t->conn_lock);
		if (status_of(t) == NATS_CONN_STATUS_CLOSED) {
			pthread_rwlock_unlock(&t->conn_lock);
			if (sub)
				natsSubscription_Destroy(sub);
			sub = NULL;
			pause_ms(t, 500);
			conn_reopen(t);
			continue;
		}
		if (sub && (atomic_exchange(&p->resetup, false) ||
			    sub_gen != t->conn_gen)) {
			natsSubscription_Destroy(sub);
			sub = NULL;
		}
		if (!sub) {
			atomic_store(&p->resetup, false);
			sub = pull_setup(p, error, sizeof(error));
			sub_gen = t->conn_gen;
			if (!sub) {
				pthread_rwlock_unlock(&t->conn_lock);
				if (++failures == 1 || failures % 20 == 0)
					hc_log_warn(&t->hub->log,
						    "events: NATS %s: %s "
						    "(retrying)",
						    p->what, error);
				pause_ms(t, failures < 10 ? 250 : 2000);
				continue;
			}
			if (failures)
				hc_log_info(&t->hub->log,
					    "events: NATS %s flowing again",
					    p->what);
			failures = 0;
		}
		{
			struct ev_config *cfg = ev_current(t->ev);
			int batch = cfg->batch;
			ev_config_unref(cfg);
			s = natsSubscription_Fetch(&list, sub, batch,
						   FETCH_WAIT_MS, &jerr);
		}
		if (s == NATS_OK) {
			p->handle(p, &list);
			natsMsgList_Destroy(&list);
		}
		pthread_rwlock_unlock(&t->conn_lock);
		if (s != NATS_OK && s != NATS_TIMEOUT && !stopping(t)) {
			/* gone (server restarted without its storage,
			 * consumer deleted): set it up again */
			char msg[300];
			hc_log_warn(&t->hub->log, "events: NATS %s: %s",
				    p->what,
				    nats_error(s, jerr, msg, sizeof(msg)));
			natsSubscription_Destroy(sub);
			sub = NULL;
			failures++;
			pause_ms(t, 250);
		}
	}
	if (sub)
		natsSubscription_Destroy(sub);
	nats_ReleaseThreadMemory();
	return NULL;
}

/* ---- receiving: events to the inbox ------------------------------------------------ */

/* The last token of a subject (the other hub), or NULL. */
static const char *last_token(const char *subject)
{
	const char *dot = subject ? strrchr(subject, '.') : NULL;
	return dot && dot[1] ? dot + 1 : NULL;
}

static int64_t sends_of(natsMsg *m)
{
	const char *v = NULL;
	if (natsMsgHeader_Get(m, "Foshub-Sends", &v) != NATS_OK || !v)
		return 0;
	return strtoll(v, NULL, 10);
}

/* Publish a receipt to sender, waiting for the stream to have it. */
static bool publish_receipt(struct ev_nats *t, const char *sender,
			    json_t *results, const struct ev_config *cfg)
{
	char subject[SUBJECT_MAX], msg[300];
	json_t *body = json_pack("{sO}", "results", results);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	jsPubOptions po;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	json_decref(body);
	if (!text)
		return false;
	snprintf(subject, sizeof(subject), "%s.receipt.%s.%s", t->prefix,
		 sender, t->self);
	jsPubOptions_Init(&po);
	po.MaxWait = cfg->timeout_ms;
	s = js_Publish(&pa, t->js, subject, text, (int)strlen(text), &po,
		       &jerr);
	free(text);
	jsPubAck_Destroy(pa);
	if (s != NATS_OK)
		hc_log_warn(&t->hub->log,
			    "events: cannot send a receipt to %s over NATS: "
			    "%s (the events come again)",
			    sender, nats_error(s, jerr, msg, sizeof(msg)));
	return s == NATS_OK;
}

/* Apply the events of one sender (msgs[i] for which pick[i]). */
static void receive_from(struct ev_nats *t, const struct ev_config *cfg,
			 const char *sender, natsMsg **msgs, bool *pick,
			 size_t n)
{
	struct hc_hub *hub = t->hub;
	json_t *events = json_array(), *body, *out = NULL, *results;
	int64_t *sends = calloc(n ? n : 1, sizeof(*sends));
	struct hc_err err = { 0 };
	struct hc_conn *c;
	size_t k = 0;
	int rc;
	bool ok = false;
	if (!sends || !events)
		goto done;
	for (size_t i = 0; i < n; i++) {
		json_t *e = NULL;
		if (!pick[i])
			continue;
		if (hc_json_parse(natsMsg_GetData(msgs[i]),
				  (size_t)natsMsg_GetDataLength(msgs[i]), &e,
				  NULL) != HC_OK) {
			/* not an event of ours: nothing can apply it */
			hc_log_warn(&hub->log,
				    "events: dropping a NATS message on %s "
				    "that is not JSON",
				    natsMsg_GetSubject(msgs[i]));
			natsMsg_Term(msgs[i], NULL);
			pick[i] = false;
			continue;
		}
		sends[k++] = sends_of(msgs[i]);
		json_array_append_new(events, e);
	}
	if (!k)
		goto done;
	body = json_pack("{sO}", "events", events);
	c = hc_store_acquire(hub->store, &err);
	rc = c && body ? hc_events_receive(hub, c, sender, body, &out, &err)
		       : HC_ESTORE;
	if (c)
		hc_store_release(hub->store, c);
	json_decref(body);
	if (rc == HC_OK) {
		results = json_object_get(out, "results");
		for (size_t i = 0; i < json_array_size(results); i++)
			json_object_set_new(json_array_get(results, i),
					    "sends",
					    json_integer(i < k ? sends[i] : 0));
		ok = publish_receipt(t, sender, results, cfg);
		for (size_t i = 0; ok && i < n; i++)
			if (pick[i])
				natsMsg_Ack(msgs[i], NULL);
	} else if (rc == HC_EFORBIDDEN) {
		/* not a sender (yet): the events wait in the stream, and
		 * the sender learns why */
		char msg[600];
		json_t *held = json_array();
		const json_t *e;
		size_t i;
		hc_err_format(&err, msg, sizeof(msg));
		json_array_foreach(events, i, e)
			json_array_append_new(
				held, json_pack("{s:s?,s:s,s:s,s:I}", "id",
						hc_json_str(e, "id"), "status",
						"held", "error", msg, "sends",
						(json_int_t)sends[i]));
		publish_receipt(t, sender, held, cfg);
		json_decref(held);
		hc_log_warn(&hub->log, "events: NATS: %s", msg);
	} else {
		char msg[600];
		hc_log_error(&hub->log,
			     "events: cannot apply events from %s: %s (they "
			     "come again)",
			     sender, hc_err_format(&err, msg, sizeof(msg)));
	}
	if (!ok) {
		int64_t delay = rc == HC_EFORBIDDEN ? cfg->retry_max_ms : 1000;
		for (size_t i = 0; i < n; i++)
			if (pick[i])
				natsMsg_NakWithDelay(msgs[i], delay, NULL);
	}
done:
	json_decref(out);
	json_decref(events);
	free(sends);
}

static void handle_events(struct nats_pull *p, natsMsgList *list)
{
	struct ev_nats *t = p->t;
	struct ev_config *cfg = ev_current(t->ev);
	size_t n = (size_t)list->Count;
	bool *done = calloc(n ? n : 1, sizeof(*done));
	bool *pick = calloc(n ? n : 1, sizeof(*pick));
	if (!done || !pick)
		goto out;
	/* one inbox batch per sender, in the order they came */
	for (size_t i = 0; i < n; i++) {
		const char *sender = last_token(natsMsg_GetSubject(
			list->Msgs[i]));
		if (done[i])
			continue;
		if (!sender) {
			natsMsg_Term(list->Msgs[i], NULL);
			continue;
		}
		for (size_t j = i; j < n; j++) {
			const char *o = last_token(natsMsg_GetSubject(
				list->Msgs[j]));
			pick[j] = !done[j] && o && strcmp(o, sender) == 0;
			done[j] = done[j] || pick[j];
		}
		for (size_t j = 0; j < i; j++)
			pick[j] = false;
		receive_from(t, cfg, sender, list->Msgs, pick, n);
	}
out:
	free(done);
	free(pick);
	ev_config_unref(cfg);
}

/* ---- sending: receipts to the outbox ----------------------------------------------- */

static void handle_receipts(struct nats_pull *p, natsMsgList *list)
{
	struct ev_nats *t = p->t;
	struct hc_hub *hub = t->hub;
	struct ev_config *cfg = ev_current(t->ev);
	bool wake = false;
	for (int i = 0; i < list->Count; i++) {
		natsMsg *m = list->Msgs[i];
		const char *subscriber = last_token(natsMsg_GetSubject(m));
		const char *summary = NULL;
		json_t *body = NULL;
		struct hc_err err = { 0 };
		struct hc_conn *c;
		size_t refused = 0;
		int rc;
		if (!subscriber ||
		    hc_json_parse(natsMsg_GetData(m),
				  (size_t)natsMsg_GetDataLength(m), &body,
				  NULL) != HC_OK ||
		    !json_is_array(json_object_get(body, "results"))) {
			hc_log_warn(&hub->log,
				    "events: dropping a NATS receipt on %s "
				    "that is not one",
				    natsMsg_GetSubject(m));
			natsMsg_Term(m, NULL);
			json_decref(body);
			continue;
		}
		c = hc_store_acquire(hub->store, &err);
		rc = c ? hc_tx_begin(c, true, &err) : HC_ESTORE;
		if (rc == HC_OK)
			rc = ev_outbox_receipts(c, subscriber,
						json_object_get(body,
								"results"),
						cfg, &summary, &refused, &err);
		if (rc == HC_OK)
			rc = ev_outbox_subscription_result(c, subscriber,
							   summary, &err);
		if (rc == HC_OK)
			rc = hc_tx_commit(c, &err);
		else if (c)
			hc_tx_rollback(c);
		if (c)
			hc_store_release(hub->store, c);
		if (rc == HC_OK) {
			natsMsg_Ack(m, NULL);
			if (refused) {
				hc_log_warn(&hub->log,
					    "events: %s refused %zu event%s",
					    subscriber, refused,
					    refused == 1 ? "" : "s");
				wake = true;
			}
		} else {
			char msg[600];
			hc_log_error(&hub->log,
				     "events: cannot record receipts from %s: "
				     "%s",
				     subscriber,
				     hc_err_format(&err, msg, sizeof(msg)));
			natsMsg_NakWithDelay(m, 1000, NULL);
		}
		json_decref(body);
	}
	ev_config_unref(cfg);
	if (wake)
		wake_forwarder(t);
}

/* ---- the forwarder's side ---------------------------------------------------------- */

static int nats_send(void *state, const struct ev_config *cfg,
		     const struct ev_sub *sub, struct ev_item *items, size_t n,
		     char *error, size_t esize)
{
	struct ev_nats *t = state;
	char subject[SUBJECT_MAX];
	natsConnStatus cs;
	int r = 0;
	pthread_rwlock_rdlock(&t->conn_lock);
	cs = status_of(t);
	if (cs != NATS_CONN_STATUS_CONNECTED) {
		snprintf(error, esize,
			 "not connected to the NATS server %s (%s)", t->url,
			 conn_status(cs));
		pthread_rwlock_unlock(&t->conn_lock);
		return -1;
	}
	snprintf(subject, sizeof(subject), "%s.event.%s.%s", t->prefix,
		 sub->name, t->self);
	for (size_t i = 0; i < n; i++) {
		struct ev_item *it = &items[i];
		json_t *e = ev_item_event(t->self, it);
		char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
		char id[200], sends[24], msg[300];
		natsMsg *m = NULL;
		jsPubAck *pa = NULL;
		jsPubOptions po;
		jsErrCode jerr = 0;
		natsStatus s;
		json_decref(e);
		if (!text) {
			snprintf(error, esize, "out of memory");
			r = -1;
			break;
		}
		snprintf(id, sizeof(id), "%s:%s:%lld", it->id, sub->name,
			 (long long)it->sends + 1);
		snprintf(sends, sizeof(sends), "%lld", (long long)it->sends + 1);
		s = natsMsg_Create(&m, subject, NULL, text, (int)strlen(text));
		free(text);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(m, "Foshub-Sends", sends);
		jsPubOptions_Init(&po);
		po.MsgId = id;
		po.MaxWait = cfg->timeout_ms;
		if (s == NATS_OK)
			s = js_PublishMsg(&pa, t->js, m, &po, &jerr);
		natsMsg_Destroy(m);
		jsPubAck_Destroy(pa);
		if (s != NATS_OK) {
			/* those before are in the stream; this one and the
			 * rest wait */
			snprintf(error, esize, "NATS %s: %s", t->url,
				 nats_error(s, jerr, msg, sizeof(msg)));
			r = -1;
			break;
		}
		it->outcome = EV_SENT;
	}
	pthread_rwlock_unlock(&t->conn_lock);
	return r;
}

static void nats_thread_done(void *state)
{
	nats_ReleaseThreadMemory();
}

/* ---- life cycle -------------------------------------------------------------------- */

static void nats_close(void *state)
{
	struct ev_nats *t = state;
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_cond_broadcast(&t->wake);
	pthread_mutex_unlock(&t->lock);
	/* a pull waiting in Fetch returns when the connection closes */
	pthread_rwlock_rdlock(&t->conn_lock);
	if (t->nc)
		natsConnection_Close(t->nc);
	pthread_rwlock_unlock(&t->conn_lock);
	if (t->in.started)
		pthread_join(t->in.thread, NULL);
	if (t->receipts.started)
		pthread_join(t->receipts.thread, NULL);
	jsCtx_Destroy(t->js);
	natsConnection_Destroy(t->nc);
	natsOptions_Destroy(t->opts);
	pthread_rwlock_destroy(&t->conn_lock);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	free(t->stream);
	free(t->prefix);
	free(t->url);
	free(t);
	nats_ReleaseThreadMemory();
}

/* The servers of a "nats://a:1,nats://b:2" URL. */
static natsStatus set_servers(natsOptions *o, const char *url)
{
	const char *v[16];
	char *copy = strdup(url), *save = NULL, *s;
	int n = 0;
	natsStatus st;
	if (!copy)
		return NATS_NO_MEMORY;
	for (s = strtok_r(copy, ",", &save); s && n < 16;
	     s = strtok_r(NULL, ",", &save))
		v[n++] = s;
	st = natsOptions_SetServers(o, v, n);
	free(copy);
	return st;
}

static int nats_open(struct hc_events *ev, const struct ev_config *cfg,
		     void **state, struct hc_err *err)
{
	struct ev_nats *t = calloc(1, sizeof(*t));
	char name[200], msg[300];
	natsStatus s;
	struct nats_pull *pulls[2];
	if (!t)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	t->ev = ev;
	t->hub = ev->hub;
	t->self = ev->hub->def->name;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	pthread_rwlock_init(&t->conn_lock, NULL);
	t->stream = strdup(cfg->nats_stream);
	t->prefix = strdup(cfg->nats_subject);
	t->url = strdup(cfg->nats_url);
	if (!t->stream || !t->prefix || !t->url) {
		nats_close(t);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	for (const char *p = t->self; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
			nats_close(t);
			return hc_err_set(err, HC_EINVAL,
					  "the hub's name '%s' is not a NATS "
					  "subject token",
					  ev->hub->def->name);
		}
	t->in = (struct nats_pull){ .t = t, .what = "events",
				    .handle = handle_events };
	t->receipts = (struct nats_pull){ .t = t, .what = "receipts",
					  .handle = handle_receipts };
	snprintf(t->in.durable, sizeof(t->in.durable), "%s-events", t->self);
	snprintf(t->in.filter, sizeof(t->in.filter), "%s.event.%s.*",
		 t->prefix, t->self);
	snprintf(t->receipts.durable, sizeof(t->receipts.durable),
		 "%s-receipts", t->self);
	snprintf(t->receipts.filter, sizeof(t->receipts.filter),
		 "%s.receipt.%s.*", t->prefix, t->self);
	snprintf(name, sizeof(name), "foshub %s", t->self);
	s = natsOptions_Create(&t->opts);
	if (s == NATS_OK)
		s = set_servers(t->opts, cfg->nats_url);
	if (s == NATS_OK)
		s = natsOptions_SetName(t->opts, name);
	if (s == NATS_OK && cfg->nats_user)
		s = natsOptions_SetUserInfo(t->opts, cfg->nats_user,
					    cfg->nats_password);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(t->opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(t->opts, 250);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(t->opts, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(t->opts, on_disconnected, t);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(t->opts, on_connected, t);
	/* the hub starts while the server is down, and connects later */
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(t->opts, true,
							on_connected, t);
	if (s == NATS_OK) {
		pthread_rwlock_wrlock(&t->conn_lock);
		s = conn_open(t);
		pthread_rwlock_unlock(&t->conn_lock);
	}
	if (s != NATS_OK) {
		int rc = hc_err_set(err, HC_EINVAL, "NATS %s: %s", t->url,
				    nats_error(s, 0, msg, sizeof(msg)));
		nats_close(t);
		return rc;
	}
	pulls[0] = &t->in;
	pulls[1] = &t->receipts;
	for (int i = 0; i < 2; i++) {
		if (pthread_create(&pulls[i]->thread, NULL, pull_main,
				   pulls[i]) != 0) {
			nats_close(t);
			return hc_err_set(err, HC_EINTERNAL,
					  "cannot start a NATS thread");
		}
		pulls[i]->started = true;
	}
	*state = t;
	return HC_OK;
}

const struct ev_transport ev_nats_transport = {
	.name = "nats",
	.open = nats_open,
	.send = nats_send,
	.thread_done = nats_thread_done,
	.close = nats_close,
};
