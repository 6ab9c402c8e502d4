/*
 * group.c - group commit: many writers, one durable commit.
 *
 * A commit is durable when the database has synced it to disk (SQLite:
 * synchronous=FULL, one fsync of the WAL per commit); on a virtual disk
 * that takes milliseconds, so writers that each commit on their own are
 * held to a few hundred commits per second whatever the CPU. Here the
 * writes that arrive while a commit is syncing wait for it to end, then go
 * together in the next transaction: each in its own SAVEPOINT (one that
 * fails is rolled back alone and gets its own error), then one COMMIT and
 * one sync for all of them. Every caller returns only after the
 * transaction that holds its write has committed, or with an error when it
 * did not: nothing is acknowledged before it is on disk.
 *
 * The caller whose write finds no batch running leads: it runs the queued
 * writes on the store's writer connection (opened on first use, outside
 * the pool, so that waiting callers holding pool connections cannot starve
 * it) and wakes the others when their batch is committed. The next caller
 * still waiting then leads the writes that queued meanwhile.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

struct hc_write_job {
	hc_write_fn fn;
	void *arg;
	int rc;
	struct hc_err err;
	bool done;
	struct hc_write_job *next;
};

/* Writes per transaction at most: bounds the work lost to a failed
 * commit and the wait of the first writer of a batch. */
#define BATCH_MAX 256

static struct hc_conn *writer_conn(struct hc_store *s, struct hc_err *err)
{
	if (s->writer)
		return s->writer;
	s->writer = calloc(1, sizeof(*s->writer));
	if (!s->writer) {
		hc_err_set(err, HC_ENOMEM, "out of memory");
		return NULL;
	}
	s->writer->store = s;
	if (s->ops->open_conn(s, s->writer, err) != HC_OK) {
		free(s->writer);
		s->writer = NULL;
	}
	return s->writer;
}

/* Fail every job of the batch that has not failed on its own. */
static void fail_all(struct hc_write_job *batch, const struct hc_err *err)
{
	for (struct hc_write_job *j = batch; j; j = j->next) {
		if (j->rc != HC_OK)
			continue;
		j->rc = err->status ? err->status : HC_ESTORE;
		j->err = *err;
	}
}

/* Run a batch in one transaction. Called by the leader, without the
 * lock; s->writer belongs to the leader meanwhile. */
static void run_batch(struct hc_store *s, struct hc_write_job *batch)
{
	struct hc_err err = { 0 };
	struct hc_conn *c = writer_conn(s, &err);
	const struct hc_store_ops *ops = s->ops;

	for (struct hc_write_job *j = batch; j; j = j->next)
		j->rc = HC_OK;
	if (!c || hc_tx_begin(c, true, &err) != HC_OK) {
		fail_all(batch, &err);
		return;
	}
	for (struct hc_write_job *j = batch; j; j = j->next) {
		if (ops->exec_script(c, "SAVEPOINT hc_write", &err) != HC_OK)
			goto broken;
		j->rc = j->fn(c, j->arg, &j->err);
		if (j->rc != HC_OK && !j->err.status)
			j->err.status = j->rc;
		if (j->rc != HC_OK &&
		    ops->exec_script(c, "ROLLBACK TO hc_write", &err) != HC_OK)
			goto broken;
		if (ops->exec_script(c, "RELEASE hc_write", &err) != HC_OK)
			goto broken;
		if (!c->in_tx)
			HC_BUG("a batched write ended the transaction");
	}
	if (hc_tx_commit(c, &err) == HC_OK)
		return;
	fail_all(batch, &err); /* the commit rolled everything back */
	return;
broken:
	/* The transaction cannot go on (an I/O error, out of memory): none
	 * of the batch is written. */
	hc_tx_rollback(c);
	fail_all(batch, &err);
}

int hc_store_write(struct hc_store *s, hc_write_fn fn, void *arg,
		   struct hc_err *err)
{
	struct hc_write_job job = { .fn = fn, .arg = arg };

	pthread_mutex_lock(&s->lock);
	if (s->closing) {
		pthread_mutex_unlock(&s->lock);
		return hc_err_set(err, HC_EBUSY, "the store is closing");
	}
	if (s->queue_tail)
		s->queue_tail->next = &job;
	else
		s->queue = &job;
	s->queue_tail = &job;
	while (!job.done) {
		struct hc_write_job *batch, *last;
		size_t n = 1;
		if (s->leading) {
			pthread_cond_wait(&s->written, &s->lock);
			continue;
		}
		/* Lead: take up to BATCH_MAX queued writes (ours among them:
		 * it is not done, so it is still queued). */
		s->leading = true;
		batch = last = s->queue;
		while (last->next && n < BATCH_MAX) {
			last = last->next;
			n++;
		}
		s->queue = last->next;
		if (!s->queue)
			s->queue_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->lock);

		run_batch(s, batch);

		pthread_mutex_lock(&s->lock);
		for (struct hc_write_job *j = batch, *next; j; j = next) {
			next = j->next; /* j may be gone once done is seen */
			j->done = true;
		}
		s->leading = false;
		pthread_cond_broadcast(&s->written);
	}
	pthread_mutex_unlock(&s->lock);
	if (job.rc != HC_OK && err)
		*err = job.err;
	return job.rc;
}

void hc__store_close_writer(struct hc_store *s)
{
	if (!s->writer)
		return;
	s->ops->close_conn(s->writer);
	free(s->writer);
	s->writer = NULL;
}
