/*
 * inventory.c - the service inventory file (YAML, read with libyaml):
 * locations, services with their probes and evidence, runbooks and access
 * paths, imported in one transaction and idempotently. Every error names
 * the file and the line of the node at fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "opshub/internal.h"

#define INVENTORY_MAX (16 * 1024 * 1024)
#define DEPTH_MAX 64

struct oh_inventory {
	char *source;
	json_t *doc;   /* the document as JSON */
	json_t *lines; /* {"path": line} */
};

/* ---- YAML to JSON ------------------------------------------------------------ */

struct conv {
	yaml_document_t *doc;
	json_t *lines;
	const char *source;
	struct hc_err *err;
};

static bool all_digits(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s || strlen(s) > 18)
		return false;
	return strspn(s, "0123456789") == strlen(s);
}

static json_t *scalar(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, len);
	if (strlen(s) != len)
		return json_stringn(s, len);
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null"))
		return json_null();
	if (all_digits(s))
		return json_integer(strtoll(s, NULL, 10));
	return json_stringn(s, len);
}

static int convert(struct conv *cv, yaml_node_t *n, const char *path,
		   int depth, json_t **out)
{
	char sub[1024];
	json_object_set_new(cv->lines, path,
			    json_integer((json_int_t)n->start_mark.line + 1));
	if (depth > DEPTH_MAX)
		return hc_err_at(cv->err, HC_EPARSE, cv->source,
				 (int)n->start_mark.line + 1,
				 (int)n->start_mark.column + 1,
				 "nested too deeply");
	switch (n->type) {
	case YAML_SCALAR_NODE:
		*out = scalar(n);
		return *out ? HC_OK : hc_err_set(cv->err, HC_ENOMEM, "no memory");
	case YAML_SEQUENCE_NODE: {
		json_t *a = json_array();
		size_t i = 0;
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++, i++) {
			json_t *v = NULL;
			int rc;
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			rc = convert(cv, yaml_document_get_node(cv->doc, *it),
				     sub, depth + 1, &v);
			if (rc != HC_OK) {
				json_decref(a);
				return rc;
			}
			json_array_append_new(a, v);
		}
		*out = a;
		return HC_OK;
	}
	case YAML_MAPPING_NODE: {
		json_t *o = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(cv->doc, p->key);
			json_t *v = NULL;
			const char *key;
			int rc;
			if (k->type != YAML_SCALAR_NODE ||
			    strlen((const char *)k->data.scalar.value) !=
				    k->data.scalar.length) {
				json_decref(o);
				return hc_err_at(cv->err, HC_EPARSE,
						 cv->source,
						 (int)k->start_mark.line + 1,
						 (int)k->start_mark.column + 1,
						 "a key must be plain text");
			}
			key = (const char *)k->data.scalar.value;
			if (json_object_get(o, key)) {
				json_decref(o);
				return hc_err_at(cv->err, HC_EPARSE,
						 cv->source,
						 (int)k->start_mark.line + 1,
						 (int)k->start_mark.column + 1,
						 "duplicate key '%s'", key);
			}
			snprintf(sub, sizeof(sub), "%s%s%s", path,
				 *path ? "." : "", key);
			rc = convert(cv,
				     yaml_document_get_node(cv->doc, p->value),
				     sub, depth + 1, &v);
			if (rc != HC_OK) {
				json_decref(o);
				return rc;
			}
			json_object_set_new(cv->lines, sub,
					    json_integer((json_int_t)
							 k->start_mark.line +
						 1));
			json_object_set_new(o, key, v);
		}
		*out = o;
		return HC_OK;
	}
	default:
		*out = json_null();
		return HC_OK;
	}
}

int oh_yaml_to_json(const char *source, const char *data, size_t len,
		    json_t **out, json_t **lines, struct hc_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct conv cv = { &doc, json_object(), source, err };
	yaml_node_t *root;
	int rc;

	*out = NULL;
	if (!yaml_parser_initialize(&parser)) {
		json_decref(cv.lines);
		return hc_err_set(err, HC_ENOMEM, "cannot start the YAML parser");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = hc_err_at(err, HC_EPARSE, source,
			       (int)parser.problem_mark.line + 1,
			       (int)parser.problem_mark.column + 1, "%s%s%s",
			       parser.problem ? parser.problem : "bad YAML",
			       parser.context ? " " : "",
			       parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		json_decref(cv.lines);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root)
		rc = hc_err_at(err, HC_EPARSE, source, 1, 0,
			       "the file is empty");
	else
		rc = convert(&cv, root, "", 0, out);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc == HC_OK && lines)
		*lines = json_incref(cv.lines);
	json_decref(cv.lines);
	return rc;
}

/* ---- the inventory --------------------------------------------------------------- */

static int line_of(const struct oh_inventory *inv, const char *path)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		json_t *l = json_object_get(inv->lines, p);
		char *cut;
		if (l)
			return (int)json_integer_value(l);
		cut = strrchr(p, '.');
		if (!cut || (strrchr(p, '[') && strrchr(p, '[') > cut))
			cut = strrchr(p, '[');
		if (!cut)
			return 0;
		*cut = '\0';
	}
}

static int fail_at(const struct oh_inventory *inv, const char *path,
		   struct hc_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(const struct oh_inventory *inv, const char *path,
		   struct hc_err *err, const char *fmt, ...)
{
	char msg[HC_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hc_err_at(err, HC_EPARSE, inv->source, line_of(inv, path), 0,
			 "%s", msg);
}

/* Put the place of an element's error in front of what went wrong. */
static int place(const struct oh_inventory *inv, const char *elem,
		 struct hc_err *err)
{
	char path[1200];
	int line;
	if (err->field[0])
		snprintf(path, sizeof(path), "%s.%s", elem, err->field);
	else
		snprintf(path, sizeof(path), "%s", elem);
	line = line_of(inv, path);
	snprintf(err->source, sizeof(err->source), "%s", inv->source);
	err->line = line;
	err->column = 0;
	return err->status;
}

static const char *const top_keys[] = { "version", "defaults", "locations",
					"services", "runbooks", "access_paths",
					NULL };

int oh_inventory_parse(const char *source, const char *data, size_t len,
		       struct oh_inventory **out, struct hc_err *err)
{
	struct oh_inventory *inv = calloc(1, sizeof(*inv));
	const char *key;
	json_t *v;
	int rc;

	*out = NULL;
	if (!inv)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	inv->source = strdup(source);
	rc = oh_yaml_to_json(source, data, len, &inv->doc, &inv->lines, err);
	if (rc != HC_OK)
		goto fail;
	if (!json_is_object(inv->doc)) {
		rc = fail_at(inv, "", err,
			     "an inventory is a mapping with locations, "
			     "services, runbooks and access_paths");
		goto fail;
	}
	json_object_foreach(inv->doc, key, v)
	{
		bool known = false;
		for (const char *const *k = top_keys; *k; k++)
			known = known || strcmp(*k, key) == 0;
		if (!known) {
			rc = fail_at(inv, key, err,
				     "unknown key '%s'; one of version, "
				     "defaults, locations, services, runbooks, "
				     "access_paths",
				     key);
			goto fail;
		}
		if (strcmp(key, "version") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) != 1) {
				rc = fail_at(inv, key, err,
					     "version must be 1");
				goto fail;
			}
		} else if (strcmp(key, "defaults") == 0) {
			if (!json_is_object(v)) {
				rc = fail_at(inv, key, err,
					     "defaults must be a mapping of "
					     "service fields");
				goto fail;
			}
		} else if (!json_is_array(v)) {
			rc = fail_at(inv, key, err, "%s must be a list", key);
			goto fail;
		} else {
			json_t *e;
			size_t i;
			json_array_foreach(v, i, e)
			{
				char path[200];
				snprintf(path, sizeof(path), "%s[%zu]", key, i);
				if (!json_is_object(e) || !oh_str(e, "name")) {
					rc = fail_at(inv, path, err,
						     "each of %s must be a "
						     "mapping with a name",
						     key);
					goto fail;
				}
				for (size_t k = 0; k < i; k++) {
					char first[200];
					if (strcmp(oh_str(json_array_get(v, k),
							  "name"),
						   oh_str(e, "name")) != 0)
						continue;
					snprintf(first, sizeof(first),
						 "%s[%zu]", key, k);
					rc = fail_at(inv, path, err,
						     "%s: '%s' is listed twice "
						     "(first at line %d)",
						     key, oh_str(e, "name"),
						     line_of(inv, first));
					goto fail;
				}
			}
		}
	}
	*out = inv;
	return HC_OK;
fail:
	oh_inventory_free(inv);
	return rc;
}

int oh_inventory_parse_file(const char *path, struct oh_inventory **out,
			    struct hc_err *err)
{
	FILE *f = fopen(path, "rb");
	struct hc_buf b = HC_BUF_INIT(INVENTORY_MAX);
	char chunk[8192];
	size_t n;
	int rc = HC_OK;
	if (!f)
		return hc_err_at(err, HC_EIO, path, 0, 0, "cannot open the file");
	while (rc == HC_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = hc_buf_add(&b, chunk, n);
	fclose(f);
	if (rc != HC_OK) {
		hc_buf_release(&b);
		return hc_err_at(err, HC_ETOOBIG, path, 0, 0,
				 "the file is larger than %d bytes",
				 INVENTORY_MAX);
	}
	rc = oh_inventory_parse(path, b.data ? b.data : "", b.len, out, err);
	hc_buf_release(&b);
	return rc;
}

void oh_inventory_free(struct oh_inventory *inv)
{
	if (!inv)
		return;
	free(inv->source);
	json_decref(inv->doc);
	json_decref(inv->lines);
	free(inv);
}

json_t *oh_import_result_json(const struct oh_import_result *r)
{
	return json_pack("{s{sisisi}s{sisisi}sisi}", "locations", "total",
			 r->locations, "created", r->locations_created,
			 "updated", r->locations_updated, "services", "total",
			 r->services, "created", r->services_created,
			 "updated", r->services_updated, "runbooks",
			 r->runbooks, "access_paths", r->access_paths);
}

/* Upsert one element by its name. */
static int upsert(struct hc_conn *c, const struct hc_resource *r,
		  const json_t *e, bool *created, bool *changed,
		  struct hc_err *err)
{
	json_t *obj = json_deep_copy(e), *row = NULL;
	int rc;
	if (!obj)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	json_object_set_new(obj, "id", json_string(oh_str(e, "name")));
	rc = hc_res_upsert(c, r, obj, created, changed, &row, err);
	json_decref(obj);
	json_decref(row);
	return rc;
}

/* Services in an order where each comes after the services of the file
 * it depends on. */
static int import_services(struct hc_conn *c, const struct oh_inventory *inv,
			   struct oh_import_result *res, struct hc_err *err)
{
	json_t *list = json_object_get(inv->doc, "services");
	json_t *defaults = json_object_get(inv->doc, "defaults");
	size_t n = json_array_size(list), done_count = 0;
	bool *done = calloc(n + 1, sizeof(*done));
	int rc = HC_OK;

	if (!done)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	while (rc == HC_OK && done_count < n) {
		bool progress = false;
		for (size_t i = 0; rc == HC_OK && i < n; i++) {
			json_t *e = json_array_get(list, i), *d, *obj, *row;
			bool ready = !done[i], created = false, changed = false;
			char path[64];
			size_t k;
			json_array_foreach(json_object_get(e, "depends_on"), k, d)
			{
				/* a parent listed later in the file first */
				for (size_t j = 0; ready && j < n; j++)
					if (!done[j] && j != i &&
					    json_is_string(d) &&
					    !strcmp(oh_str(json_array_get(list,
									  j),
							   "name"),
						    json_string_value(d)))
						ready = false;
			}
			if (!ready)
				continue;
			snprintf(path, sizeof(path), "services[%zu]", i);
			obj = json_deep_copy(defaults ? defaults : e);
			if (defaults)
				json_object_update(obj, e);
			if (oh_str(obj, "owner_domain"))
				rc = oh_ensure_domain(
					c, oh_str(obj, "owner_domain"), err);
			row = NULL;
			if (rc == HC_OK)
				rc = oh_service_register(c, obj, &created,
							 &changed, &row, err);
			json_decref(obj);
			json_decref(row);
			if (rc != HC_OK) {
				place(inv, path, err);
				break;
			}
			done[i] = true;
			done_count++;
			progress = true;
			res->services++;
			res->services_created += created;
			res->services_updated += !created && changed;
		}
		if (rc == HC_OK && !progress) {
			for (size_t i = 0; i < n; i++)
				if (!done[i]) {
					char path[64];
					snprintf(path, sizeof(path),
						 "services[%zu].depends_on", i);
					rc = fail_at(inv, path, err,
						     "services depend on each "
						     "other in a cycle, '%s' "
						     "among them",
						     oh_str(json_array_get(list,
									   i),
							    "name"));
					break;
				}
		}
	}
	free(done);
	return rc;
}

int oh_inventory_import(struct hc_conn *c, const struct oh_inventory *inv,
			struct oh_import_result *res, struct hc_err *err)
{
	static const struct {
		const char *key;
		const struct hc_resource *r;
	} simple[] = {
		{ "runbooks", &oh_runbook_resource },
		{ "access_paths", &oh_access_path_resource },
	};
	json_t *e;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = hc_tx_begin(c, true, err);
	if (rc != HC_OK)
		return rc;
	json_array_foreach(json_object_get(inv->doc, "locations"), i, e)
	{
		bool created = false, changed = false;
		char path[64];
		rc = upsert(c, &oh_location_resource, e, &created, &changed,
			    err);
		if (rc != HC_OK) {
			snprintf(path, sizeof(path), "locations[%zu]", i);
			place(inv, path, err);
			goto out;
		}
		res->locations++;
		res->locations_created += created;
		res->locations_updated += !created && changed;
	}
	rc = import_services(c, inv, res, err);
	if (rc != HC_OK)
		goto out;
	for (size_t s = 0; s < HC_COUNT(simple); s++) {
		json_array_foreach(json_object_get(inv->doc, simple[s].key), i,
				   e)
		{
			char path[64];
			rc = upsert(c, simple[s].r, e, NULL, NULL, err);
			if (rc != HC_OK) {
				snprintf(path, sizeof(path), "%s[%zu]",
					 simple[s].key, i);
				place(inv, path, err);
				goto out;
			}
			if (s == 0)
				res->runbooks++;
			else
				res->access_paths++;
		}
	}
out:
	if (rc == HC_OK)
		return hc_tx_commit(c, err);
	hc_tx_rollback(c);
	return rc;
}
