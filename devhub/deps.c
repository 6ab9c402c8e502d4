/*
 * deps.c - typed dependencies between tasks and between workstreams, and
 * the ready / blocked views built on them.
 *
 * A dependency says that `item` depends on `depends_on`, both of one kind
 * (two tasks or two workstreams):
 *
 *   blocks        item cannot start before depends_on is done
 *   parent_child  depends_on is the parent of item (structure only)
 *   related       a pointer between the two (information only)
 *
 * blocks and parent_child edges must not form a cycle: an edge that would
 * close one is refused with the cycle spelled out. Only blocks edges decide
 * readiness: a task is ready when it is todo, nobody holds it, every task
 * that blocks it is done, and every workstream that blocks its workstream
 * is completed or done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "devhub/devhub.h"
#include "hubcore/buf.h"
#include "hubcore/json.h"

const char *const dh_dependency_kinds[] = { "task", "workstream", NULL };
const char *const dh_dependency_types[] = { "blocks", "parent_child",
					    "related", NULL };

/* ---- cycle detection ------------------------------------------------------ */

static ssize_t find_node(const char *const *nodes, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nodes[i], s) == 0)
			return (ssize_t)i;
	return -1;
}

int dh_dep_find_cycle(const struct dh_dep_edge *edges, size_t nedges,
		      const char *item, const char *depends_on,
		      struct hc_buf *cycle)
{
	/* Is item reachable from depends_on? Then item -> depends_on closes
	 * a cycle. Breadth first over the distinct nodes, with the parent of
	 * each node kept to spell the path. */
	const char **nodes = NULL;
	ssize_t *parent = NULL;
	size_t n = 0, head = 0, cap = nedges * 2 + 2;
	int found = 0;

	if (strcmp(item, depends_on) == 0) {
		hc_buf_addf(cycle, "%s -> %s", item, item);
		return 1;
	}
	nodes = malloc(cap * sizeof(*nodes));
	parent = malloc(cap * sizeof(*parent));
	if (!nodes || !parent) {
		free(nodes);
		free(parent);
		return -1;
	}
	nodes[n] = depends_on;
	parent[n++] = -1;
	while (head < n && !found) {
		const char *cur = nodes[head];
		for (size_t e = 0; e < nedges && !found; e++) {
			if (strcmp(edges[e].item, cur) != 0)
				continue;
			if (find_node(nodes, n, edges[e].depends_on) >= 0)
				continue;
			if (n == cap)
				break; /* cannot happen: at most 2e+1 nodes */
			nodes[n] = edges[e].depends_on;
			parent[n++] = (ssize_t)head;
			if (strcmp(edges[e].depends_on, item) == 0)
				found = 1;
		}
		head++;
	}
	if (found) {
		/* item -> depends_on -> ... -> item, read back from item */
		size_t len = 0;
		ssize_t *path = malloc(n * sizeof(*path));
		if (!path) {
			free(nodes);
			free(parent);
			return -1;
		}
		for (ssize_t i = (ssize_t)n - 1; i >= 0; i = parent[i])
			path[len++] = i;
		hc_buf_adds(cycle, item);
		while (len-- > 0)
			hc_buf_addf(cycle, " -> %s", nodes[path[len]]);
		free(path);
	}
	free(nodes);
	free(parent);
	return found;
}

/* ---- the resource ------------------------------------------------------------ */

static const struct hc_resource *kind_resource(const char *kind)
{
	return strcmp(kind, "workstream") == 0 ? &dh_workstream_resource
					       : &dh_task_resource;
}

static int load_edges(struct hc_conn *c, const char *kind, const char *type,
		      const char *except_id, struct dh_dep_edge **out,
		      size_t *n, struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(kind), hc_vtext(type),
				hc_vtext(except_id ? except_id : "") };
	struct dh_dep_edge *v = NULL;
	size_t cap = 0;
	struct hc_stmt *st = NULL;
	int rc = hc_query(c, &st,
			  "SELECT item, depends_on FROM dependencies WHERE "
			  "kind = ? AND type = ? AND id <> ? ORDER BY seq",
			  p, 3, err);
	*n = 0;
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		if (*n == cap) {
			struct dh_dep_edge *nv;
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				rc = hc_err_set(err, HC_ENOMEM, "out of memory");
				break;
			}
			v = nv;
		}
		v[*n].item = strdup(hc_stmt_text(st, 0, NULL));
		v[*n].depends_on = strdup(hc_stmt_text(st, 1, NULL));
		(*n)++;
	}
	hc_stmt_finish(st);
	*out = v;
	return rc == HC_ROW_DONE ? HC_OK : rc;
}

static void free_edges(struct dh_dep_edge *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)v[i].item);
		free((char *)v[i].depends_on);
	}
	free(v);
}

static int dep_prepare(struct hc_conn *c, const struct hc_resource *r,
		       enum hc_write_mode mode, json_t *obj, const json_t *old,
		       struct hc_err *err)
{
	const char *kind = hc_json_str(obj, "kind");
	const char *item = hc_json_str(obj, "item");
	const char *dep = hc_json_str(obj, "depends_on");
	const char *type = hc_json_str(obj, "type");
	const char *fields[] = { "item", "depends_on" };
	const char *vals[] = { item, dep };
	struct dh_dep_edge *edges = NULL;
	struct hc_buf cycle = HC_BUF_INIT(4096);
	size_t n = 0;
	int rc, found;

	if (!kind || !item || !dep || !type)
		return HC_OK; /* check_required names the missing one */
	if (strcmp(item, dep) == 0)
		return hc_err_field(err, HC_EINVAL, "depends_on",
				    "field 'depends_on': a %s cannot depend "
				    "on itself ('%s')",
				    kind, item);
	for (size_t i = 0; i < 2; i++) {
		json_t *row = NULL;
		struct hc_err e2 = { 0 };
		rc = hc_res_get_plain(c, kind_resource(kind), vals[i], &row,
				      &e2);
		if (rc == HC_ENOTFOUND)
			return hc_err_field(err, HC_EINVAL, fields[i],
					    "field '%s': no %s '%s'", fields[i],
					    kind, vals[i]);
		if (rc != HC_OK) {
			*err = e2;
			return rc;
		}
		/* store the canonical id, however the row was named */
		hc_json_set_str(obj, fields[i], hc_json_str(row, "id"));
		json_decref(row);
	}
	item = hc_json_str(obj, "item");
	dep = hc_json_str(obj, "depends_on");
	if (strcmp(type, "related") == 0)
		return HC_OK;
	rc = load_edges(c, kind, type, hc_json_str(obj, "id"), &edges, &n,
			err);
	if (rc != HC_OK) {
		free_edges(edges, n);
		return rc;
	}
	found = dh_dep_find_cycle(edges, n, item, dep, &cycle);
	free_edges(edges, n);
	if (found < 0)
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	else if (found)
		rc = hc_err_field(err, HC_ECONFLICT, "depends_on",
				  "%s dependency would make a cycle: %s", type,
				  cycle.data ? cycle.data : "");
	hc_buf_release(&cycle);
	return rc;
}

static const struct hc_field dep_fields[] = {
	{ .name = "kind", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .enum_values = dh_dependency_kinds, .default_value = "task",
	  .doc = "task (between two tasks) or workstream (between two "
		 "workstreams)." },
	{ .name = "item", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .max_len = 128,
	  .doc = "The task or workstream that depends on the other." },
	{ .name = "depends_on", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .max_len = 128,
	  .doc = "The task or workstream it depends on (for blocks: the one "
		 "that must be done first)." },
	{ .name = "type", .type = HC_FT_ENUM,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .enum_values = dh_dependency_types, .default_value = "blocks",
	  .doc = "blocks, parent_child (depends_on is the parent) or "
		 "related." },
	{ .name = "note", .type = HC_FT_TEXT, .max_len = 4096,
	  .doc = "Why the dependency exists." },
	{ .name = "created_by", .type = HC_FT_STRING, .flags = HC_F_FILTER,
	  .max_len = 100, .doc = "The agent or person who recorded it." },
};

static const char *const dep_unique_fields[] = { "kind", "item",
						 "depends_on", NULL };
static const struct hc_unique dep_uniques[] = { { dep_unique_fields, 0 } };

const struct hc_resource dh_dependency_resource = {
	.name = "dependency",
	.plural = "dependencies",
	.table = "dependencies",
	.doc = "A typed dependency between two tasks or two workstreams.",
	.id_policy = HC_ID_UUID,
	.fields = dep_fields,
	.nfields = HC_COUNT(dep_fields),
	.uniques = dep_uniques,
	.nuniques = HC_COUNT(dep_uniques),
	.hooks = { .prepare = dep_prepare },
};

/* ---- ready and blocked -------------------------------------------------------- */

/* Unresolved blockers of task t: tasks not done that block it, and
 * workstreams not completed or done that block its workstream. */
#define OPEN_TASK_BLOCKERS                                                   \
	"SELECT 1 FROM dependencies d JOIN tasks b ON b.id = d.depends_on "  \
	"WHERE d.kind = 'task' AND d.type = 'blocks' AND d.item = t.id "     \
	"AND b.status <> 'done'"
#define OPEN_WS_BLOCKERS                                                     \
	"SELECT 1 FROM dependencies d JOIN workstreams w ON w.id = "         \
	"d.depends_on WHERE d.kind = 'workstream' AND d.type = 'blocks' "    \
	"AND d.item = t.workstream AND w.status NOT IN ('completed', "       \
	"'done')"

/* Open blockers of another hub (an incident in ops-hub) on task t or on
 * its workstream. */
#define OPEN_EXT_BLOCKERS                                                    \
	"SELECT 1 FROM external_blockers x WHERE x.status = 'open' AND "     \
	"((x.kind = 'task' AND x.item = t.id) OR (x.kind = 'workstream' "    \
	"AND x.item = t.workstream))"

const char dh_ready_where[] =
	"t.status = 'todo' AND t.assignee IS NULL AND NOT EXISTS ("
	OPEN_TASK_BLOCKERS ") AND NOT EXISTS (" OPEN_WS_BLOCKERS ") AND NOT "
	"EXISTS (" OPEN_EXT_BLOCKERS ")";

static const char blocked_where[] =
	"t.status NOT IN ('done', 'cancelled') AND (t.status = 'blocked' OR "
	"EXISTS (" OPEN_TASK_BLOCKERS ") OR EXISTS (" OPEN_WS_BLOCKERS ") OR "
	"EXISTS (" OPEN_EXT_BLOCKERS "))";

#define PRIORITY_ORDER                                                       \
	" ORDER BY CASE t.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 " \
	"ELSE 2 END, t.workstream, t.position IS NULL, t.position, t.seq"

/* Task ids matching where (and the optional filters), in priority order. */
static int query_tasks(struct hc_conn *c, const char *where,
		       const struct dh_work_filter *f, json_t **ids,
		       struct hc_err *err)
{
	struct hc_buf sql = HC_BUF_INIT(8192);
	struct hc_value p[3];
	struct hc_stmt *st = NULL;
	size_t np = 0, limit = f->limit ? f->limit : HC_LIST_DEFAULT_LIMIT;
	int rc;

	if (limit > HC_LIST_MAX_LIMIT)
		return hc_err_field(err, HC_EPARAM, "limit",
				    "parameter 'limit' must be 1 to %d",
				    HC_LIST_MAX_LIMIT);
	rc = hc_buf_addf(&sql, "SELECT t.id FROM tasks t WHERE %s", where);
	if (f->workstream) {
		rc = rc ? rc : hc_buf_adds(&sql, " AND t.workstream = ?");
		p[np++] = hc_vtext(f->workstream);
	}
	if (f->domain) {
		rc = rc ? rc
			: hc_buf_adds(&sql, " AND t.workstream IN (SELECT id "
					    "FROM workstreams WHERE domain = "
					    "?)");
		p[np++] = hc_vtext(f->domain);
	}
	rc = rc ? rc : hc_buf_adds(&sql, PRIORITY_ORDER " LIMIT ?");
	p[np++] = hc_vint((int64_t)limit);
	if (rc != HC_OK) {
		hc_buf_release(&sql);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	*ids = json_array();
	rc = hc_query(c, &st, sql.data, p, np, err);
	hc_buf_release(&sql);
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY)
		json_array_append_new(*ids,
				      json_string(hc_stmt_text(st, 0, NULL)));
	hc_stmt_finish(st);
	return rc == HC_ROW_DONE ? HC_OK : rc;
}

/* Check the filters name existing rows: a typo should not look like "no
 * work". The domain is resolved to its slug. */
static int check_filter(struct hc_conn *c, struct dh_work_filter *f,
			char **domain_slug, struct hc_err *err)
{
	json_t *row = NULL;
	int rc;
	*domain_slug = NULL;
	if (f->workstream) {
		rc = hc_res_get_plain(c, &dh_workstream_resource,
				      f->workstream, &row, err);
		if (rc != HC_OK)
			return rc;
		json_decref(row);
	}
	if (f->domain) {
		rc = hc_res_resolve(c, &hc_domain_resource, f->domain, "slug",
				    domain_slug, err);
		if (rc == HC_ENOTFOUND)
			return hc_err_field(err, HC_ENOTFOUND, "domain",
					    "no domain '%s'", f->domain);
		if (rc != HC_OK)
			return rc;
		f->domain = *domain_slug;
	}
	return HC_OK;
}

static int task_rows(struct hc_conn *c, json_t *ids, json_t **items,
		     bool with_blockers, struct hc_err *err)
{
	json_t *id;
	size_t i;
	*items = json_array();
	json_array_foreach(ids, i, id)
	{
		json_t *row = NULL, *bl = NULL;
		int rc = hc_res_get_plain(c, &dh_task_resource,
					  json_string_value(id), &row, err);
		if (rc == HC_OK && with_blockers) {
			rc = dh_task_blockers(c, json_string_value(id), &bl,
					      err);
			if (rc == HC_OK)
				json_object_set_new(row, "blockers", bl);
		}
		if (rc != HC_OK) {
			json_decref(row);
			return rc;
		}
		json_array_append_new(*items, row);
	}
	return HC_OK;
}

static int work_view(struct hc_conn *c, const char *where, bool blockers,
		     const struct dh_work_filter *filter, json_t **out,
		     struct hc_err *err)
{
	struct dh_work_filter f = *filter;
	json_t *ids = NULL, *items = NULL;
	char *slug = NULL;
	int rc = check_filter(c, &f, &slug, err);
	if (rc == HC_OK)
		rc = query_tasks(c, where, &f, &ids, err);
	if (rc == HC_OK)
		rc = task_rows(c, ids, &items, blockers, err);
	json_decref(ids);
	free(slug);
	if (rc != HC_OK) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{so}", "items", items);
	return HC_OK;
}

int dh_list_ready_tasks(struct hc_conn *c, const struct dh_work_filter *f,
			json_t **out, struct hc_err *err)
{
	return work_view(c, dh_ready_where, false, f, out, err);
}

int dh_list_blocked_tasks(struct hc_conn *c, const struct dh_work_filter *f,
			  json_t **out, struct hc_err *err)
{
	return work_view(c, blocked_where, true, f, out, err);
}

int dh_task_blockers(struct hc_conn *c, const char *task, json_t **out,
		     struct hc_err *err)
{
	static const char sql[] =
		"SELECT 'task', b.id, b.title, b.status FROM dependencies d "
		"JOIN tasks b ON b.id = d.depends_on WHERE d.kind = 'task' "
		"AND d.type = 'blocks' AND d.item = ? AND b.status <> 'done' "
		"UNION ALL "
		"SELECT 'workstream', w.id, w.title, w.status FROM tasks t "
		"JOIN dependencies d ON d.item = t.workstream JOIN "
		"workstreams w ON w.id = d.depends_on WHERE t.id = ? AND "
		"d.kind = 'workstream' AND d.type = 'blocks' AND w.status NOT "
		"IN ('completed', 'done') "
		"UNION ALL "
		"SELECT x.reason, x.reference, x.title, x.status FROM tasks t "
		"JOIN external_blockers x ON (x.kind = 'task' AND x.item = "
		"t.id) OR (x.kind = 'workstream' AND x.item = t.workstream) "
		"WHERE t.id = ? AND x.status = 'open'";
	struct hc_value p[] = { hc_vtext(task), hc_vtext(task),
				hc_vtext(task) };
	struct hc_stmt *st = NULL;
	int rc = hc_query(c, &st, sql, p, 3, err);
	if (rc != HC_OK)
		return rc;
	*out = json_array();
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY)
		json_array_append_new(
			*out, json_pack("{ssssssss}", "kind",
					hc_stmt_text(st, 0, NULL), "id",
					hc_stmt_text(st, 1, NULL), "title",
					hc_stmt_text(st, 2, NULL), "status",
					hc_stmt_text(st, 3, NULL)));
	hc_stmt_finish(st);
	if (rc != HC_ROW_DONE) {
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	return HC_OK;
}

int dh_dependency_delete(struct hc_conn *c, const char *id,
			 struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(id) };
	int rc = hc_exec(c, "DELETE FROM dependencies WHERE id = ?", p, 1,
			 err);
	if (rc == HC_OK && hc_changes(c) == 0)
		return hc_err_set(err, HC_ENOTFOUND, "no dependency '%s'",
				  id ? id : "");
	return rc;
}
