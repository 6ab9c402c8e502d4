/*
 * hub.c - opening and closing a hub: store, migrations, logging.
 */
#include <stdlib.h>
#include <string.h>

#include "hubcore/auth.h"
#include "hubcore/events.h"
#include "hubcore/hub.h"
#include "hubcore/view.h"
#include "hubcore/watch.h"

const char *hc_version(void)
{
	return FOSHUB_VERSION;
}

int hc_hub_open(struct hc_hub **out, const struct hc_hub_def *def,
		const struct hc_hub_config *cfg, struct hc_err *err)
{
	struct hc_hub *hub = calloc(1, sizeof(*hub));
	struct hc_store_options sopt = { 0 };
	int applied = 0;
	int rc;

	if (!hub)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	hub->def = def;
	pthread_mutex_init(&hub->watch_lock, NULL);
	pthread_mutex_init(&hub->view_lock, NULL);
	if (cfg)
		hub->config = *cfg;
	if (!hub->config.db_url)
		hub->config.db_url = def->default_db;
	if (!hub->config.listen)
		hub->config.listen = def->default_listen;
	hc_log_init(&hub->log, stderr, def->name, hub->config.log_level);
	/* One connection per worker thread, plus a few for background work. */
	sopt.pool_size = (hub->config.threads ? hub->config.threads : 4) + 4;
	rc = hc_store_open(&hub->store, hub->config.db_url, &sopt, err);
	if (rc == HC_OK)
		rc = hc_migrate(hub->store, def->migrations, def->nmigrations,
				&applied, err);
	if (rc != HC_OK) {
		hc_hub_close(hub);
		return rc;
	}
	if (applied)
		hc_log_info(&hub->log, "applied %d schema migration%s to %s",
			    applied, applied == 1 ? "" : "s",
			    hub->config.db_url);
	*out = hub;
	return HC_OK;
}

int hc_hub_start(struct hc_hub *hub, struct hc_err *err)
{
	int rc = hub->def->events ? hc_events_open(hub, err) : HC_OK;
	if (rc == HC_OK && hub->def->start)
		rc = hub->def->start(hub, err);
	hub->started = rc == HC_OK;
	return rc;
}

int hc_hub_reload(struct hc_hub *hub, struct hc_err *err)
{
	int rc = hub->events ? hc_events_reload(hub, err) : HC_OK;
	if (rc != HC_OK)
		return rc;
	return hub->def->reload ? hub->def->reload(hub, err) : HC_OK;
}

void hc_hub_close(struct hc_hub *hub)
{
	if (!hub)
		return;
	if (hub->started && hub->def->stop)
		hub->def->stop(hub);
	hc_events_close(hub);
	hc_view_free(hub);
	hc_watch_stop(hub->watch);
	pthread_mutex_destroy(&hub->watch_lock);
	pthread_mutex_destroy(&hub->view_lock);
	hc_auth_free(hub->auth);
	hc_store_close(hub->store);
	hc_log_release(&hub->log);
	free(hub);
}

struct hc_watch *hc_hub_watch(struct hc_hub *hub, struct hc_err *err)
{
	struct hc_watch *w;
	pthread_mutex_lock(&hub->watch_lock);
	if (!hub->watch)
		hc_watch_start(&hub->watch, hub->store, 0, err);
	w = hub->watch;
	pthread_mutex_unlock(&hub->watch_lock);
	return w;
}

const struct hc_resource *hc_hub_resource(const struct hc_hub *hub,
					  const char *name)
{
	for (size_t i = 0; i < hub->def->nresources; i++) {
		const struct hc_resource *r = hub->def->resources[i];
		if (strcmp(r->plural, name) == 0 || strcmp(r->name, name) == 0)
			return r;
	}
	return NULL;
}
