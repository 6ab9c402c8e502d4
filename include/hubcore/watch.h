/*
 * hubcore/watch.h - noticing committed changes to a hub's database, made
 * by this process or by any other (an import from the CLI, another replica
 * sharing the file).
 *
 * A watch polls the store's data version (hc_data_version: SQLite's
 * data_version pragma, PostgreSQL's change notifications) on a connection
 * of its own, which changes whenever another connection commits; listeners are called on the
 * watch's thread after each change. It drives live views and MCP resource
 * subscriptions. Cheap when nothing changes: one small query per interval.
 */
#ifndef HUBCORE_WATCH_H
#define HUBCORE_WATCH_H

#include <stdint.h>

#include "hubcore/status.h"
#include "hubcore/store.h"

struct hc_watch;

/* Called on the watch's thread with the new change count. */
typedef void hc_watch_fn(void *ctx, uint64_t seq);

/* Start watching a store, checking every interval_ms (0 = 250). */
int hc_watch_start(struct hc_watch **out, struct hc_store *store,
		   unsigned interval_ms, struct hc_err *err);
/* Stop the thread and free; listeners are no longer called after. */
void hc_watch_stop(struct hc_watch *w);

/* Add a listener; returns its id for hc_watch_unlisten (0 on failure).
 * ctx must stay valid until unlisten returns. */
int hc_watch_listen(struct hc_watch *w, hc_watch_fn *fn, void *ctx);
/* Remove a listener; once this returns it is not running and will not
 * run again. */
void hc_watch_unlisten(struct hc_watch *w, int id);

/* How many changes were seen so far. */
uint64_t hc_watch_seq(struct hc_watch *w);
/* Wait until the count differs from seen, or timeout_ms passes; returns
 * the count. */
uint64_t hc_watch_wait(struct hc_watch *w, uint64_t seen, int timeout_ms);

#endif
