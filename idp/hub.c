/*
 * hub.c - the IdP as a hub: its definition, schema, life cycle (load the
 * configuration and keys on start, swap both on SIGHUP) and the lookups
 * every endpoint shares.
 */
#include <liboath/oath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/auth.h"
#include "hubcore/json.h"
#include "idp/idp.h"
#include "idp/idp_internal.h"

struct idp *idp_of(struct hc_hub *hub)
{
	return hub->ext;
}

struct idp_config *idp_config(struct idp *p)
{
	struct idp_config *c;
	pthread_mutex_lock(&p->lock);
	c = idp_config_ref(p->cfg);
	pthread_mutex_unlock(&p->lock);
	return c;
}

static const char *config_path(struct hc_hub *hub)
{
	const char *env = getenv("FOSHUB_IDP_CONFIG");
	if (hub->config.config_path)
		return hub->config.config_path;
	return env && *env ? env : "idp.yaml";
}

char *idp_keys_dir(const struct idp_config *cfg, const char *db_url)
{
	const char *path, *slash;
	char *dir;
	if (!cfg->keys_dir_default || !db_url || strncmp(db_url, "sqlite:", 7))
		return strdup(cfg->keys_dir);
	path = db_url + 7;
	slash = strrchr(path, '/');
	if (asprintf(&dir, "%.*sidp-keys", slash ? (int)(slash - path + 1) : 0,
		     path) < 0)
		return NULL;
	return dir;
}

static int keys_beside_db(struct idp *p, struct idp_config *cfg,
			  struct hc_err *err)
{
	char *dir = idp_keys_dir(cfg, hc_store_url(p->hub->store));
	if (!dir)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	free(cfg->keys_dir);
	cfg->keys_dir = dir;
	return HC_OK;
}

/* Load configuration and keys; on success they replace the running ones. */
static int load(struct idp *p, const char *path, struct hc_err *err)
{
	struct idp_config *cfg = NULL;
	struct idp_keys *keys = NULL;
	int rc = idp_config_load(path, &cfg, err);
	if (rc == HC_OK)
		rc = keys_beside_db(p, cfg, err);
	if (rc == HC_OK)
		rc = idp_keys_load(cfg->keys_dir, &keys, err);
	if (rc != HC_OK) {
		idp_config_unref(cfg);
		return rc;
	}
	pthread_mutex_lock(&p->lock);
	idp_config_unref(p->cfg);
	idp_keys_free(p->keys);
	p->cfg = cfg;
	p->keys = keys;
	pthread_mutex_unlock(&p->lock);
	return HC_OK;
}

static int idp_start(struct hc_hub *hub, struct hc_err *err)
{
	struct idp *p = calloc(1, sizeof(*p));
	int rc;
	if (!p)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (oath_init() != OATH_OK) {
		free(p);
		return hc_err_set(err, HC_EINTERNAL, "liboath did not start");
	}
	p->hub = hub;
	pthread_mutex_init(&p->lock, NULL);
	idp_slots_init(&p->argon2);
	p->config_path = strdup(config_path(hub));
	rc = p->config_path ? load(p, p->config_path, err) : HC_ENOMEM;
	if (rc == HC_OK)
		rc = idp__purger_start(p, err);
	if (rc != HC_OK) {
		idp_config_unref(p->cfg);
		idp_keys_free(p->keys);
		free(p->config_path);
		idp_slots_destroy(&p->argon2);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return rc;
	}
	hub->ext = p;
	hc_log_info(&hub->log, "configuration %s, issuer %s, %zu users, %zu "
			       "clients, keys in %s",
		    p->config_path, p->cfg->issuer, p->cfg->nusers,
		    p->cfg->nclients, p->cfg->keys_dir);
	return HC_OK;
}

static void idp_stop(struct hc_hub *hub)
{
	struct idp *p = hub->ext;
	if (!p)
		return;
	idp__purger_stop(p);
	idp_config_unref(p->cfg);
	idp_slots_destroy(&p->argon2);
	idp_keys_free(p->keys);
	pthread_mutex_destroy(&p->lock);
	free(p->config_path);
	free(p);
	hub->ext = NULL;
}

/* SIGHUP: a configuration (or key set) that does not load is refused and
 * the running one stays. */
static int idp_reload(struct hc_hub *hub, struct hc_err *err)
{
	struct idp *p = hub->ext;
	return p ? load(p, p->config_path, err) : HC_OK;
}

/* ---- clients, including registered ones ------------------------------------------- */

void idp__client_free(struct idp_client *c)
{
	if (!c)
		return;
	free(c->client_id);
	free(c->secret_hash);
	free(c->name);
	free(c->default_audience);
	free(c->alg);
	for (size_t i = 0; i < c->redirect_uris.n; i++)
		free(c->redirect_uris.v[i]);
	free(c->redirect_uris.v);
	for (size_t i = 0; i < c->grant_types.n; i++)
		free(c->grant_types.v[i]);
	free(c->grant_types.v);
	for (size_t i = 0; i < c->post_logout_redirect_uris.n; i++)
		free(c->post_logout_redirect_uris.v[i]);
	free(c->post_logout_redirect_uris.v);
	for (size_t i = 0; i < c->audiences.n; i++)
		free(c->audiences.v[i]);
	free(c->audiences.v);
	free(c);
}

static void strings_from(json_t *a, struct idp_strings *s)
{
	size_t i;
	json_t *v;
	s->v = calloc(json_array_size(a) + 1, sizeof(char *));
	s->n = 0;
	json_array_foreach(a, i, v)
		if (json_is_string(v) && s->v)
			s->v[s->n++] = strdup(json_string_value(v));
}

int idp__find_client(struct hc_conn *c, struct idp_config *cfg,
		     const char *client_id, struct idp_client **owned,
		     const struct idp_client **out)
{
	const struct idp_client *fixed = idp_config_client(cfg, client_id);
	struct hc_stmt *st = NULL;
	struct idp_client *dyn;
	json_t *meta = NULL;
	int rc;
	*owned = NULL;
	if (fixed) {
		*out = fixed;
		return HC_OK;
	}
	if (!client_id || !c)
		return HC_ENOTFOUND;
	{
		struct hc_value p[] = { hc_vtext(client_id) };
		rc = hc_query(c, &st,
			      "SELECT metadata, secret_hash FROM idp_clients "
			      "WHERE client_id = ?",
			      p, 1, NULL);
	}
	if (rc != HC_OK)
		return rc;
	if (hc_stmt_step(st, NULL) != HC_ROW_READY) {
		hc_stmt_finish(st);
		return HC_ENOTFOUND;
	}
	meta = json_loads(hc_stmt_text(st, 0, NULL), 0, NULL);
	dyn = calloc(1, sizeof(*dyn));
	if (!meta || !dyn) {
		hc_stmt_finish(st);
		json_decref(meta);
		free(dyn);
		return HC_ENOMEM;
	}
	dyn->client_id = strdup(client_id);
	if (!hc_stmt_isnull(st, 1))
		dyn->secret_hash = strdup(hc_stmt_text(st, 1, NULL));
	hc_stmt_finish(st);
	dyn->public_client = !dyn->secret_hash;
	dyn->registered = true;
	dyn->require_pkce = true;
	/* anyone may register: such a client gets tokens only for the
	 * resources the file allows registered clients */
	dyn->audiences.v = calloc(cfg->registration_audiences.n + 1,
				  sizeof(char *));
	for (size_t i = 0; dyn->audiences.v &&
			   i < cfg->registration_audiences.n;
	     i++)
		dyn->audiences.v[dyn->audiences.n++] =
			strdup(cfg->registration_audiences.v[i]);
	if (hc_json_str(meta, "client_name"))
		dyn->name = strdup(hc_json_str(meta, "client_name"));
	strings_from(json_object_get(meta, "redirect_uris"),
		     &dyn->redirect_uris);
	strings_from(json_object_get(meta, "grant_types"), &dyn->grant_types);
	strings_from(json_object_get(meta, "post_logout_redirect_uris"),
		     &dyn->post_logout_redirect_uris);
	json_decref(meta);
	*owned = dyn;
	*out = dyn;
	return HC_OK;
}

/* ---- schema and routes --------------------------------------------------------------- */

static const char schema_v1[] =
	"CREATE TABLE idp_sessions (id_hash TEXT PRIMARY KEY, username TEXT "
	"NOT NULL, auth_time INTEGER NOT NULL, amr TEXT NOT NULL, expires "
	"INTEGER NOT NULL);"
	"CREATE TABLE idp_requests (id TEXT PRIMARY KEY, csrf TEXT NOT NULL, "
	"client_id TEXT NOT NULL, params TEXT NOT NULL, expires INTEGER NOT "
	"NULL);"
	"CREATE TABLE idp_codes (code_hash TEXT PRIMARY KEY, client_id TEXT "
	"NOT NULL, username TEXT NOT NULL, redirect_uri TEXT NOT NULL, scope "
	"TEXT NOT NULL, nonce TEXT, challenge TEXT, resource TEXT, auth_time "
	"INTEGER NOT NULL, amr TEXT NOT NULL, family TEXT NOT NULL, expires "
	"INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE idp_families (family TEXT PRIMARY KEY, client_id TEXT "
	"NOT NULL, username TEXT, session TEXT, revoked INTEGER NOT NULL "
	"DEFAULT 0, created INTEGER NOT NULL);"
	"CREATE INDEX idp_families_session ON idp_families (session);"
	"CREATE TABLE idp_refresh (token_hash TEXT PRIMARY KEY, family TEXT "
	"NOT NULL REFERENCES idp_families(family), client_id TEXT NOT NULL, "
	"username TEXT NOT NULL, scope TEXT NOT NULL, resource TEXT, "
	"auth_time INTEGER NOT NULL, amr TEXT NOT NULL, expires INTEGER NOT "
	"NULL, used INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);"
	"CREATE INDEX idp_refresh_family ON idp_refresh (family);"
	"CREATE TABLE idp_access (jti TEXT PRIMARY KEY, family TEXT, "
	"client_id TEXT NOT NULL, expires INTEGER NOT NULL, revoked INTEGER "
	"NOT NULL DEFAULT 0);"
	"CREATE INDEX idp_access_family ON idp_access (family);"
	"CREATE TABLE idp_totp_used (username TEXT PRIMARY KEY, last_step "
	"INTEGER NOT NULL);"
	"CREATE TABLE idp_throttle (key TEXT PRIMARY KEY, failures INTEGER "
	"NOT NULL, last_failure INTEGER NOT NULL, locked_until INTEGER NOT "
	"NULL DEFAULT 0);"
	"CREATE TABLE idp_clients (client_id TEXT PRIMARY KEY, secret_hash "
	"TEXT, metadata TEXT NOT NULL, created INTEGER NOT NULL);";

/* The purge looks codes up by family (idp/purge.c), as logout does. */
static const char schema_v2[] =
	"CREATE INDEX idp_codes_family ON idp_codes (family);";

static const struct hc_migration idp_steps[] = {
	{ .version = 1,
	  .name = "sessions, codes, token families, throttling, clients",
	  .sql = schema_v1 },
	{ .version = 2, .name = "codes by family", .sql = schema_v2 },
};

static const struct hc_migration_set idp_migrations = {
	.component = "idp",
	.steps = idp_steps,
	.count = HC_COUNT(idp_steps),
};

static const struct hc_migration_set *const migrations[] = {
	&hc_core_migrations, &idp_migrations
};

static const struct hc_route_table *const routes[] = { &idp_routes,
						       &hc_health_routes, &hc_auth_routes };

static const struct hc_resource *const resources[] = {
	&hc_progress_resource,
};

const struct hc_hub_def idp_def = {
	.name = "idp",
	.short_name = "idp",
	.description = "NetKingdom IdP: a file-based OpenID Connect provider "
		       "for local, development and sandbox use",
	.default_listen = "127.0.0.1:8000",
	.default_db = "sqlite:var/idp.db",
	.migrations = migrations,
	.nmigrations = HC_COUNT(migrations),
	.routes = routes,
	.nroutes = HC_COUNT(routes),
	.resources = resources,
	.nresources = HC_COUNT(resources),
	.start = idp_start,
	.stop = idp_stop,
	.reload = idp_reload,
};
