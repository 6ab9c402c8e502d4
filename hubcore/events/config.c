/*
 * config.c - a hub's configuration file (--config): its events section,
 * read with libyaml's document API so that every refusal names file:line.
 * The keys are const tables: the file cannot hold a key they do not
 * describe.
 *
 *   events:
 *     max_attempts: 8          # refusals before an event is dead-lettered
 *     retry_base: 1s           # first backoff, doubling with jitter
 *     retry_max: 5m            # longest backoff
 *     batch: 100               # events per delivery request
 *     timeout: 10s             # per delivery request
 *     poll: 500ms              # how often an idle forwarder looks
 *     retention: 7d            # delivered events kept this long
 *     escalation_domain: custodian   # the canon's domain (System 5)
 *     subscribers:             # hubs this hub sends events to
 *       - hub: ops-hub
 *         url: http://127.0.0.1:8002
 *         audience: http://127.0.0.1:8002   # default: url
 *         types: [deployment_started, deployment_succeeded]
 *     senders:                 # hubs this hub accepts events from
 *       - hub: ops-hub
 *         client_id: ops-hub   # its service account (default: hub)
 *     nats: nats://127.0.0.1:4222   # events over NATS JetStream instead
 *     nats_stream: FOSHUB_EVENTS    # the stream (created when missing)
 *     nats_subject: foshub.events   # its subjects' prefix
 *     nats_user: dev-hub            # this hub's NATS user, and
 *     nats_password_file: FILE      # its password (first line)
 *
 * With 'nats', a subscriber needs no 'url'; hub names must be NATS
 * subject tokens (letters, digits, '-' and '_').
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "events_internal.h"

struct ctx {
	yaml_document_t *doc;
	const char *path;
	struct hc_err *err;
};

static int line_of(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

static int fail(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[HC_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hc_err_at(x->err, HC_EPARSE, x->path, line_of(n),
			 n ? (int)n->start_mark.column + 1 : 0, "%s", msg);
}

static yaml_node_t *node(struct ctx *x, int i)
{
	return yaml_document_get_node(x->doc, i);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE
		       ? (const char *)n->data.scalar.value
		       : NULL;
}

enum kind { K_STRING, K_URL, K_INT, K_DURATION, K_TYPES, K_SUBS, K_SENDERS,
	    K_EVENTS, K_NATS_URL, K_NAME, K_SUBJECT, K_SECRET_FILE };

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	bool required;
	int64_t min, max; /* K_INT, K_DURATION (ms) */
};

/* "250ms", "10s", "5m", "2h", "7d", or a number of milliseconds. */
static bool duration_ms(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		      { "h", 3600000 }, { "d", 86400000 }, { "", 1 } };
	char *end;
	long long v;
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v > 1000000000LL)
		return false;
	for (size_t i = 0; i < HC_COUNT(units); i++)
		if (strcmp(end, units[i].unit) == 0) {
			*out = v * units[i].ms;
			return true;
		}
	return false;
}

static int set_string(struct ctx *x, yaml_node_t *v, const char *name,
		      char **dst)
{
	const char *s = scalar(v);
	if (!s || !*s)
		return fail(x, v, "'%s' must be a text value", name);
	if (strlen(s) != v->data.scalar.length)
		return fail(x, v, "'%s' contains a NUL byte", name);
	free(*dst);
	*dst = strdup(s);
	return *dst ? HC_OK : hc_err_set(x->err, HC_ENOMEM, "out of memory");
}

static int walk(struct ctx *x, yaml_node_t *map, const struct key *keys,
		size_t nkeys, void *base, const char *what);

static const struct key sub_keys[] = {
	{ "hub", K_STRING, offsetof(struct ev_sub, name), true, 0, 0 },
	{ "url", K_URL, offsetof(struct ev_sub, url), false, 0, 0 },
	{ "audience", K_URL, offsetof(struct ev_sub, audience), false, 0, 0 },
	{ "types", K_TYPES, 0, true, 0, 0 },
};

static const struct key sender_keys[] = {
	{ "hub", K_STRING, offsetof(struct ev_sender, name), true, 0, 0 },
	{ "client_id", K_STRING, offsetof(struct ev_sender, client_id), false,
	  0, 0 },
};

#define E(f) offsetof(struct ev_config, f)
static const struct key event_keys[] = {
	{ "max_attempts", K_INT, E(max_attempts), false, 1, 1000 },
	{ "retry_base", K_DURATION, E(retry_base_ms), false, 10, 3600000 },
	{ "retry_max", K_DURATION, E(retry_max_ms), false, 10, 86400000 },
	{ "batch", K_INT, E(batch), false, 1, 500 },
	{ "timeout", K_DURATION, E(timeout_ms), false, 100, 600000 },
	{ "poll", K_DURATION, E(poll_ms), false, 10, 60000 },
	{ "retention", K_DURATION, E(retention_ms), false, 60000,
	  INT64_C(3650) * 86400000 },
	{ "escalation_domain", K_STRING, E(escalation_domain), false, 0, 0 },
	{ "subscribers", K_SUBS, 0, false, 0, 0 },
	{ "senders", K_SENDERS, 0, false, 0, 0 },
	{ "nats", K_NATS_URL, E(nats_url), false, 0, 0 },
	{ "nats_stream", K_NAME, E(nats_stream), false, 0, 0 },
	{ "nats_subject", K_SUBJECT, E(nats_subject), false, 0, 0 },
	{ "nats_user", K_STRING, E(nats_user), false, 0, 0 },
	{ "nats_password_file", K_SECRET_FILE, E(nats_password), false, 0, 0 },
};

static const struct key top_keys[] = {
	{ "events", K_EVENTS, 0, false, 0, 0 },
};

static int set_types(struct ctx *x, yaml_node_t *v, struct ev_sub *s)
{
	yaml_node_item_t *it;
	size_t n;
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return fail(x, v, "'types' must be a list of event types "
				  "(or [\"*\"] for every type)");
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (!n)
		return fail(x, v, "'types' is empty: name the event types the "
				  "hub gets");
	s->types = calloc(n, sizeof(char *));
	if (!s->types)
		return hc_err_set(x->err, HC_ENOMEM, "out of memory");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = node(x, *it);
		const char *t = scalar(e);
		if (!t || (strcmp(t, "*") != 0 && !ev_type_ok(t)))
			return fail(x, e,
				    "'%s' is not an event type: lower-case "
				    "letters, digits, '_' and '.'",
				    t ? t : "(not a text)");
		s->types[s->ntypes] = strdup(t);
		if (!s->types[s->ntypes++])
			return hc_err_set(x->err, HC_ENOMEM, "out of memory");
	}
	return HC_OK;
}

static int set_list(struct ctx *x, const struct key *k, yaml_node_t *v,
		    struct ev_config *cfg)
{
	bool subs = k->kind == K_SUBS;
	size_t n, elem = subs ? sizeof(struct ev_sub) : sizeof(struct ev_sender);
	char *arr;
	yaml_node_item_t *it;
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return fail(x, v, "'%s' must be a list", k->name);
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	arr = calloc(n + 1, elem);
	if (!arr)
		return hc_err_set(x->err, HC_ENOMEM, "out of memory");
	if (subs)
		cfg->subs = (struct ev_sub *)(void *)arr;
	else
		cfg->senders = (struct ev_sender *)(void *)arr;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = node(x, *it);
		void *base = arr + elem * (subs ? cfg->nsubs : cfg->nsenders);
		const char *name;
		int rc;
		if (subs)
			cfg->nsubs++;
		else
			cfg->nsenders++;
		rc = subs ? walk(x, e, sub_keys, HC_COUNT(sub_keys), base,
				 "a subscriber")
			  : walk(x, e, sender_keys, HC_COUNT(sender_keys),
				 base, "a sender");
		if (rc != HC_OK)
			return rc;
		if (subs) {
			struct ev_sub *s = base;
			s->line = line_of(e);
			name = s->name;
			for (size_t i = 0; i + 1 < cfg->nsubs; i++)
				if (strcmp(cfg->subs[i].name, name) == 0)
					return fail(x, e,
						    "subscriber '%s' is listed "
						    "twice",
						    name);
		} else {
			struct ev_sender *s = base;
			s->line = line_of(e);
			name = s->name;
			if (!s->client_id && !(s->client_id = strdup(name)))
				return hc_err_set(x->err, HC_ENOMEM,
						  "out of memory");
			for (size_t i = 0; i + 1 < cfg->nsenders; i++)
				if (strcmp(cfg->senders[i].name, name) == 0 ||
				    strcmp(cfg->senders[i].client_id,
					   s->client_id) == 0)
					return fail(x, e,
						    "sender '%s' (client_id "
						    "'%s') is listed twice",
						    name, s->client_id);
		}
		hc_err_clear(x->err);
	}
	return HC_OK;
}

/* A NATS name or subject token: letters, digits, '-' and '_'. */
static bool nats_token(const char *s, size_t n)
{
	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return true;
}

/* "nats://host:port", several separated by commas (a cluster); no user
 * or password in it: those have keys of their own. */
static bool nats_url_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 1000 || strpbrk(s, " \t\r\n@?#"))
		return false;
	while (*s) {
		size_t n = strcspn(s, ",");
		if (n <= 7 || strncmp(s, "nats://", 7) != 0)
			return false;
		s += n;
		if (*s == ',' && !*++s)
			return false;
	}
	return true;
}

/* The first line of a file that holds a secret. */
static int read_secret(struct ctx *x, yaml_node_t *v, const char *name,
		       char **dst)
{
	const char *path = scalar(v);
	char line[1024];
	FILE *f;
	size_t n;
	if (!path || !*path)
		return fail(x, v, "'%s' must be the path of a file", name);
	f = fopen(path, "r");
	if (!f)
		return fail(x, v, "'%s': cannot read %s: %s", name, path,
			    strerror(errno));
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (!n) {
		explicit_bzero(line, sizeof(line));
		return fail(x, v, "'%s': %s is empty", name, path);
	}
	free(*dst);
	*dst = strdup(line);
	explicit_bzero(line, sizeof(line));
	return *dst ? HC_OK : hc_err_set(x->err, HC_ENOMEM, "out of memory");
}

static int set_value(struct ctx *x, const struct key *k, yaml_node_t *v,
		     void *base)
{
	char *p = (char *)base + k->off;
	const char *s = scalar(v);
	switch (k->kind) {
	case K_STRING:
		return set_string(x, v, k->name, (char **)(void *)p);
	case K_URL:
		if (!s || (strncmp(s, "http://", 7) != 0 &&
			   strncmp(s, "https://", 8) != 0) ||
		    strpbrk(s, " \t\r\n?#"))
			return fail(x, v,
				    "'%s' must be an http(s) URL without a "
				    "query or fragment",
				    k->name);
		if (set_string(x, v, k->name, (char **)(void *)p) != HC_OK)
			return x->err->status;
		{
			/* no trailing slash: paths are appended */
			char *u = *(char **)(void *)p;
			size_t n = strlen(u);
			while (n > 8 && u[n - 1] == '/')
				u[--n] = '\0';
		}
		return HC_OK;
	case K_INT: {
		char *end;
		long long n;
		errno = 0;
		n = s && *s ? strtoll(s, &end, 10) : 0;
		if (!s || !*s || *end || errno || n < k->min || n > k->max)
			return fail(x, v,
				    "'%s' must be a whole number from %lld to "
				    "%lld",
				    k->name, (long long)k->min,
				    (long long)k->max);
		*(int *)(void *)p = (int)n;
		return HC_OK;
	}
	case K_DURATION: {
		int64_t ms;
		if (!duration_ms(s, &ms) || ms < k->min || ms > k->max)
			return fail(x, v,
				    "'%s' must be a duration such as 500ms, "
				    "10s, 5m, 2h or 7d, from %lld ms to %lld "
				    "ms",
				    k->name, (long long)k->min,
				    (long long)k->max);
		*(int64_t *)(void *)p = ms;
		return HC_OK;
	}
	case K_TYPES:
		return set_types(x, v, base);
	case K_SUBS:
	case K_SENDERS:
		return set_list(x, k, v, base);
	case K_EVENTS:
		((struct ev_config *)base)->events_line = line_of(v);
		return walk(x, v, event_keys, HC_COUNT(event_keys), base,
			    "'events'");
	case K_NATS_URL:
		if (!nats_url_ok(s))
			return fail(x, v,
				    "'%s' must be a NATS URL such as "
				    "nats://127.0.0.1:4222 (several separated "
				    "by commas), without a user or password "
				    "(nats_user, nats_password_file)",
				    k->name);
		((struct ev_config *)base)->nats_line = line_of(v);
		return set_string(x, v, k->name, (char **)(void *)p);
	case K_NAME:
		if (!s || !nats_token(s, strlen(s)))
			return fail(x, v,
				    "'%s' must be 1 to 64 letters, digits, "
				    "'-' or '_'",
				    k->name);
		return set_string(x, v, k->name, (char **)(void *)p);
	case K_SUBJECT: {
		const char *t = s;
		bool ok = s && *s && strlen(s) <= 200;
		while (ok && *t) {
			size_t n = strcspn(t, ".");
			ok = nats_token(t, n);
			t += n;
			if (*t == '.' && !*++t)
				ok = false;
		}
		if (!ok)
			return fail(x, v,
				    "'%s' must be NATS subject tokens (letters, "
				    "digits, '-' or '_') separated by dots, "
				    "without wildcards",
				    k->name);
		return set_string(x, v, k->name, (char **)(void *)p);
	}
	case K_SECRET_FILE:
		return read_secret(x, v, k->name, (char **)(void *)p);
	}
	return HC_OK;
}

static int walk(struct ctx *x, yaml_node_t *map, const struct key *keys,
		size_t nkeys, void *base, const char *what)
{
	bool seen[32] = { false };
	yaml_node_pair_t *p;
	if (!map || map->type != YAML_MAPPING_NODE)
		return fail(x, map, "%s must be a mapping of keys", what);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(x, p->key), *v = node(x, p->value);
		const char *name = scalar(kn);
		size_t i;
		int rc;
		for (i = 0; name && i < nkeys; i++)
			if (strcmp(keys[i].name, name) == 0)
				break;
		if (!name || i == nkeys) {
			char known[512] = "";
			for (size_t k = 0; k < nkeys; k++)
				snprintf(known + strlen(known),
					 sizeof(known) - strlen(known), "%s%s",
					 k ? ", " : "", keys[k].name);
			return fail(x, kn, "unknown key '%s' in %s (known: %s)",
				    name ? name : "?", what, known);
		}
		if (seen[i])
			return fail(x, kn, "key '%s' is given twice", name);
		seen[i] = true;
		rc = set_value(x, &keys[i], v, base);
		if (rc != HC_OK)
			return rc;
	}
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].required && !seen[i])
			return fail(x, map, "%s lacks the key '%s'", what,
				    keys[i].name);
	return HC_OK;
}

static void config_free(struct ev_config *c)
{
	for (size_t i = 0; i < c->nsubs; i++) {
		free(c->subs[i].name);
		free(c->subs[i].url);
		free(c->subs[i].audience);
		for (size_t k = 0; k < c->subs[i].ntypes; k++)
			free(c->subs[i].types[k]);
		free(c->subs[i].types);
	}
	free(c->subs);
	for (size_t i = 0; i < c->nsenders; i++) {
		free(c->senders[i].name);
		free(c->senders[i].client_id);
	}
	free(c->senders);
	free(c->escalation_domain);
	free(c->nats_url);
	free(c->nats_stream);
	free(c->nats_subject);
	free(c->nats_user);
	if (c->nats_password) {
		explicit_bzero(c->nats_password, strlen(c->nats_password));
		free(c->nats_password);
	}
	free(c->path);
	free(c);
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool ev_config_same_transport(const struct ev_config *a,
			      const struct ev_config *b)
{
	return same(a->nats_url, b->nats_url) &&
	       same(a->nats_stream, b->nats_stream) &&
	       same(a->nats_subject, b->nats_subject) &&
	       same(a->nats_user, b->nats_user) &&
	       same(a->nats_password, b->nats_password);
}

/* What the keys cannot say alone: a subscriber needs a URL unless events
 * go over NATS, and over NATS hub names are subject tokens. */
static int check(struct ctx *x, struct ev_config *cfg)
{
	const char *path = x->path;
	if (cfg->retry_max_ms < cfg->retry_base_ms)
		return hc_err_at(x->err, HC_EPARSE, path, cfg->events_line, 0,
				 "'retry_max' is shorter than 'retry_base'");
	if (!cfg->nats_url && (cfg->nats_stream || cfg->nats_subject ||
			       cfg->nats_user || cfg->nats_password))
		return hc_err_at(x->err, HC_EPARSE, path, cfg->events_line, 0,
				 "the nats_* keys need 'nats' (the NATS "
				 "server's URL)");
	if (!cfg->nats_user != !cfg->nats_password)
		return hc_err_at(x->err, HC_EPARSE, path, cfg->nats_line, 0,
				 "'nats_user' and 'nats_password_file' go "
				 "together");
	for (size_t i = 0; i < cfg->nsubs; i++) {
		const struct ev_sub *s = &cfg->subs[i];
		if (!cfg->nats_url && !s->url)
			return hc_err_at(x->err, HC_EPARSE, path, s->line, 0,
					 "subscriber '%s' lacks the key 'url' "
					 "(events go over HTTP unless 'nats' "
					 "is set)",
					 s->name);
		if (cfg->nats_url && !nats_token(s->name, strlen(s->name)))
			return hc_err_at(x->err, HC_EPARSE, path, s->line, 0,
					 "subscriber '%s': over NATS a hub "
					 "name is letters, digits, '-' or '_'",
					 s->name);
	}
	for (size_t i = 0; cfg->nats_url && i < cfg->nsenders; i++)
		if (!nats_token(cfg->senders[i].name,
				strlen(cfg->senders[i].name)))
			return hc_err_at(x->err, HC_EPARSE, path,
					 cfg->senders[i].line, 0,
					 "sender '%s': over NATS a hub name is "
					 "letters, digits, '-' or '_'",
					 cfg->senders[i].name);
	if (cfg->nats_url &&
	    ((!cfg->nats_stream && !(cfg->nats_stream = strdup(
					     "FOSHUB_EVENTS"))) ||
	     (!cfg->nats_subject &&
	      !(cfg->nats_subject = strdup("foshub.events")))))
		return hc_err_set(x->err, HC_ENOMEM, "out of memory");
	return HC_OK;
}

struct ev_config *ev_config_ref(struct ev_config *c)
{
	if (c)
		atomic_fetch_add(&c->refs, 1);
	return c;
}

void ev_config_unref(struct ev_config *c)
{
	if (c && atomic_fetch_sub(&c->refs, 1) == 1)
		config_free(c);
}

int ev_config_load(const char *path, struct ev_config **out,
		   struct hc_err *err)
{
	struct ev_config *cfg = calloc(1, sizeof(*cfg));
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx x = { &doc, path, err };
	FILE *f;
	int rc = HC_OK;

	if (!cfg)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	atomic_init(&cfg->refs, 1);
	cfg->max_attempts = 8;
	cfg->retry_base_ms = 1000;
	cfg->retry_max_ms = 300000;
	cfg->batch = 100;
	cfg->timeout_ms = 10000;
	cfg->poll_ms = 500;
	cfg->retention_ms = INT64_C(7) * 86400000;
	if (!path) {
		*out = cfg;
		return HC_OK;
	}
	cfg->path = strdup(path);
	f = fopen(path, "rb");
	if (!f) {
		config_free(cfg);
		return hc_err_at(err, HC_EIO, path, 0, 0, "cannot read: %s",
				 strerror(errno));
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = hc_err_at(err, HC_EPARSE, path,
			       (int)parser.problem_mark.line + 1,
			       (int)parser.problem_mark.column + 1, "%s",
			       parser.problem ? parser.problem : "bad YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		config_free(cfg);
		return rc;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	{
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (root) /* an empty file is the defaults */
			rc = walk(&x, root, top_keys, HC_COUNT(top_keys), cfg,
				  "the hub configuration");
	}
	if (rc == HC_OK)
		rc = check(&x, cfg);
	yaml_document_delete(&doc);
	if (rc != HC_OK) {
		config_free(cfg);
		return rc;
	}
	*out = cfg;
	return HC_OK;
}

int64_t ev_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ev_backoff(int attempt, int64_t base, int64_t max)
{
	int64_t d = base;
	for (int i = 1; i < attempt && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	/* jitter: between half and all of it, so that hubs that failed
	 * together do not come back together */
	return d / 2 + (int64_t)arc4random_uniform((uint32_t)(d / 2 + 1));
}

bool ev_type_ok(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	if (n == 0 || n > 64)
		return false;
	for (const char *p = t; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '.'))
			return false;
	return true;
}
