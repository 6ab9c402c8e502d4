/*
 * consistency.c - workplan files against dev-hub's database.
 *
 * check compares each file with what the database holds for its
 * workstream: a workstream or task missing on either side, status,
 * priority or title drift, state_hub ids that are missing, differ, are
 * duplicated or belong to another row, a workplan id given by two files,
 * and a workstream last imported from another file. Every finding is one
 * line "file:line: message".
 *
 * fix brings the database in line with the files (an import of each file,
 * which the files win) and writes the state_hub ids a file lacks into it:
 * the database's id when it has one, a new UUID otherwise. The file is
 * edited at the lines the ids belong to, every other byte kept, and
 * replaced atomically with a backup (see fileedit.h); the database is
 * written first, so an interrupted fix is finished by the next one.
 */
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devhub/devhub.h"
#include "devhub/fileedit.h"
#include "devhub/workplan_int.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

/* ---- the report ------------------------------------------------------------ */

void dh_report_add(struct dh_report *rep, bool finding, const char *src,
		       int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0) {
		if (asprintf(&s, "%s:%d: %s", src, line, msg) < 0)
			s = NULL;
	} else if (asprintf(&s, "%s: %s", src, msg) < 0) {
		s = NULL;
	}
	if (!s)
		return;
	if (rep->n == rep->cap) {
		size_t cap = rep->cap ? rep->cap * 2 : 32;
		struct dh_report_line *v = realloc(rep->v, cap * sizeof(*v));
		if (!v) {
			free(s);
			return;
		}
		rep->v = v;
		rep->cap = cap;
	}
	rep->v[rep->n].text = s;
	rep->v[rep->n].finding = finding;
	rep->n++;
	if (finding)
		rep->findings++;
}

void dh_report_release(struct dh_report *rep)
{
	for (size_t i = 0; i < rep->n; i++)
		free(rep->v[i].text);
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

/* ---- files ------------------------------------------------------------------- */

static bool workplan_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' &&
	       ((n > 3 && strcmp(name + n - 3, ".md") == 0) ||
		(n > 4 && strcmp(name + n - 4, ".txt") == 0));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(struct dh_paths *p, char *s)
{
	if (!s)
		return HC_ENOMEM;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		char **v = realloc(p->v, cap * sizeof(*v));
		if (!v) {
			free(s);
			return HC_ENOMEM;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = s;
	return HC_OK;
}

int dh_paths_add(struct dh_paths *p, const char *path, struct hc_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	size_t first = p->n;
	if (stat(path, &st) != 0)
		return hc_err_at(err, HC_ENOTFOUND, path, 0, 0, "no such file");
	if (!S_ISDIR(st.st_mode))
		return push(p, strdup(path)) == HC_OK
			       ? HC_OK
			       : hc_err_set(err, HC_ENOMEM, "out of memory");
	d = opendir(path);
	if (!d)
		return hc_err_at(err, HC_EIO, path, 0, 0,
				 "cannot read directory");
	while ((e = readdir(d)) != NULL) {
		char *s = NULL;
		struct stat fst;
		if (!workplan_name(e->d_name))
			continue;
		size_t pl = strlen(path);
		if (asprintf(&s, "%s%s%s", path,
			     pl && path[pl - 1] == '/' ? "" : "/",
			     e->d_name) < 0) {
			closedir(d);
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		}
		if (stat(s, &fst) != 0 || !S_ISREG(fst.st_mode)) {
			free(s);
			continue;
		}
		if (push(p, s) != HC_OK) {
			closedir(d);
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		}
	}
	closedir(d);
	if (p->n > first) /* p->v is NULL while nothing was found */
		qsort(p->v + first, p->n - first, sizeof(char *), cmp_str);
	return HC_OK;
}

void dh_paths_release(struct dh_paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* Where a repo is checked out on this host: host_paths[host], else
 * default_path; NULL when neither is set. */
const char *dh_repo_path(const json_t *repo, const char *host)
{
	const char *p = host ? hc_json_str(json_object_get(repo, "host_paths"),
					   host)
			     : NULL;
	return p ? p : hc_json_str(repo, "default_path");
}

const char *const dh_workplan_dirs[] = { "workplans", "docs/workplans",
					 NULL };

/* ---- reading the database ------------------------------------------------------ */

struct db_task {
	char *id, *title, *status, *priority, *uuid;
	bool seen;
};

struct db_ws {
	json_t *row; /* NULL when the workstream is not in the database */
	struct db_task *tasks;
	size_t ntasks;
};

static char *col(struct hc_stmt *st, int i)
{
	return hc_stmt_isnull(st, i) ? NULL
				     : strdup(hc_stmt_text(st, i, NULL));
}

static int load_ws(struct hc_conn *c, const char *id, struct db_ws *w,
		   struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(id) };
	struct hc_stmt *st = NULL;
	struct hc_err e2 = { 0 };
	size_t cap = 0;
	int rc;
	memset(w, 0, sizeof(*w));
	rc = hc_res_get_plain(c, &dh_workstream_resource, id, &w->row, &e2);
	if (rc == HC_ENOTFOUND)
		return HC_OK;
	if (rc != HC_OK) {
		*err = e2;
		return rc;
	}
	rc = hc_query(c, &st,
		      "SELECT id, title, status, priority, state_hub_task_id "
		      "FROM tasks WHERE workstream = ? ORDER BY position, seq",
		      p, 1, err);
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		struct db_task *t;
		if (w->ntasks == cap) {
			struct db_task *v;
			cap = cap ? cap * 2 : 32;
			v = realloc(w->tasks, cap * sizeof(*v));
			if (!v) {
				rc = hc_err_set(err, HC_ENOMEM,
						"out of memory");
				break;
			}
			w->tasks = v;
		}
		t = &w->tasks[w->ntasks++];
		t->id = col(st, 0);
		t->title = col(st, 1);
		t->status = col(st, 2);
		t->priority = col(st, 3);
		t->uuid = col(st, 4);
		t->seen = false;
	}
	hc_stmt_finish(st);
	return rc == HC_ROW_DONE ? HC_OK : rc;
}

static void free_ws(struct db_ws *w)
{
	for (size_t i = 0; i < w->ntasks; i++) {
		free(w->tasks[i].id);
		free(w->tasks[i].title);
		free(w->tasks[i].status);
		free(w->tasks[i].priority);
		free(w->tasks[i].uuid);
	}
	free(w->tasks);
	json_decref(w->row);
	memset(w, 0, sizeof(*w));
}

static struct db_task *find_task(struct db_ws *w, const char *id)
{
	for (size_t i = 0; i < w->ntasks; i++)
		if (strcmp(w->tasks[i].id, id) == 0)
			return &w->tasks[i];
	return NULL;
}

/* The id of the row of table that holds uuid in column, or NULL. */
static char *uuid_owner(struct hc_conn *c, const char *table,
			const char *column, const char *uuid)
{
	char sql[160];
	struct hc_value p[] = { hc_vtext(uuid) };
	struct hc_stmt *st = NULL;
	struct hc_err err = { 0 };
	char *id = NULL;
	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE %s = lower(?)",
		 table, column);
	if (hc_query(c, &st, sql, p, 1, &err) != HC_OK)
		return NULL;
	if (hc_stmt_step(st, &err) == HC_ROW_READY)
		id = strdup(hc_stmt_text(st, 0, NULL));
	hc_stmt_finish(st);
	return id;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_uuid(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcasecmp(a, b) == 0);
}

/* Was the workstream last imported from another file? Only when both
 * paths can be resolved from here (a relative path stored by an import
 * run elsewhere cannot). */
static bool imported_elsewhere(const json_t *row, const char *path,
			       char *other, size_t size)
{
	const char *src = hc_json_str(row, "source_path");
	char a[PATH_MAX], b[PATH_MAX];
	if (!src || !realpath(src, a) || !realpath(path, b))
		return false;
	snprintf(other, size, "%s", src);
	return strcmp(a, b) != 0;
}

/* ---- check ---------------------------------------------------------------------- */

struct seen_ids {
	char **ids, **where;
	size_t n, cap;
};

static const char *seen_get(const struct seen_ids *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcasecmp(s->ids[i], id) == 0)
			return s->where[i];
	return NULL;
}

static void seen_put(struct seen_ids *s, const char *id, const char *src,
		     int line)
{
	char *w = NULL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **a = realloc(s->ids, cap * sizeof(char *));
		char **b;
		if (!a)
			return;
		s->ids = a;
		b = realloc(s->where, cap * sizeof(char *));
		if (!b)
			return;
		s->where = b;
		s->cap = cap;
	}
	if (asprintf(&w, "%s:%d", src, line) < 0)
		return;
	s->ids[s->n] = strdup(id);
	s->where[s->n++] = w;
}

static void seen_release(struct seen_ids *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->ids[i]);
		free(s->where[i]);
	}
	free(s->ids);
	free(s->where);
	memset(s, 0, sizeof(*s));
}

static int check_one(struct hc_conn *c, const char *path,
		     struct seen_ids *wps, struct seen_ids *uuids,
		     struct dh_report *rep, struct hc_err *err)
{
	struct dh_workplan *wp = NULL;
	struct db_ws w;
	struct hc_err perr = { 0 };
	char other[PATH_MAX], msg[1024];
	const char *first;
	char *owner;
	int rc = dh_workplan_parse_file(path, &wp, &perr);

	if (rc != HC_OK) {
		dh_report_add(rep, true, path, perr.line, "does not parse: %s",
			   perr.msg);
		return HC_OK;
	}
	if ((first = seen_get(wps, wp->id)) != NULL) {
		dh_report_add(rep, true, path, wp->meta_line,
			   "workplan %s is also given by %s; one workplan "
			   "id, one file",
			   wp->id, first);
		dh_workplan_free(wp);
		return HC_OK;
	}
	seen_put(wps, wp->id, path, wp->meta_line);
	rc = load_ws(c, wp->id, &w, err);
	if (rc != HC_OK) {
		dh_workplan_free(wp);
		return rc;
	}
	if (!w.row) {
		dh_report_add(rep, true, path, wp->meta_line,
			   "workstream %s is missing in the database (%zu "
			   "tasks)",
			   wp->id, wp->ntasks);
		goto out;
	}
	if (imported_elsewhere(w.row, path, other, sizeof(other)))
		dh_report_add(rep, true, path, wp->meta_line,
			   "workstream %s in the database was imported from "
			   "%s",
			   wp->id, other);
	if (!same_str(wp->title, hc_json_str(w.row, "title")))
		dh_report_add(rep, true, path, wp->meta_line,
			   "workstream %s: title is '%s' in the file, '%s' in "
			   "the database",
			   wp->id, wp->title, hc_json_str(w.row, "title"));
	if (wp->status && !same_str(wp->status, hc_json_str(w.row, "status")))
		dh_report_add(rep, true, path, wp->meta_line,
			   "workstream %s: status is '%s' in the file, '%s' "
			   "in the database",
			   wp->id, wp->status, hc_json_str(w.row, "status"));
	if (!wp->state_hub_workstream_id) {
		dh_report_add(rep, true, path, wp->meta_line,
			   "workstream %s: no state_hub_workstream_id in the "
			   "file (fix writes %s)",
			   wp->id,
			   hc_json_str(w.row, "state_hub_workstream_id")
				   ? "the database's"
				   : "a new one");
	} else if (!same_uuid(wp->state_hub_workstream_id,
			      hc_json_str(w.row, "state_hub_workstream_id"))) {
		owner = uuid_owner(c, "workstreams", "state_hub_workstream_id",
				   wp->state_hub_workstream_id);
		if (owner && strcmp(owner, wp->id) != 0)
			dh_report_add(rep, true, path, wp->meta_line,
				   "workstream id %s points elsewhere: the "
				   "database gives it to workstream %s",
				   wp->state_hub_workstream_id, owner);
		else
			dh_report_add(rep, true, path, wp->meta_line,
				   "workstream %s: state_hub_workstream_id "
				   "is %s in the file, %s in the database",
				   wp->id, wp->state_hub_workstream_id,
				   hc_json_str(w.row,
					       "state_hub_workstream_id")
					   ? hc_json_str(
						     w.row,
						     "state_hub_workstream_id")
					   : "none");
		free(owner);
	}
	for (size_t i = 0; i < wp->ntasks; i++) {
		const struct dh_wp_task *t = &wp->tasks[i];
		struct db_task *d = find_task(&w, t->id);
		if (t->state_hub_task_id) {
			if ((first = seen_get(uuids, t->state_hub_task_id)))
				dh_report_add(rep, true, path, t->line,
					   "task %s: state_hub_task_id %s is "
					   "duplicated (also at %s)",
					   t->id, t->state_hub_task_id, first);
			else
				seen_put(uuids, t->state_hub_task_id, path,
					 t->line);
		}
		if (!d) {
			dh_report_add(rep, true, path, t->line,
				   "task %s is missing in the database",
				   t->id);
			continue;
		}
		d->seen = true;
		if (!same_str(t->title, d->title))
			dh_report_add(rep, true, path, t->line,
				   "task %s: title is '%s' in the file, '%s' "
				   "in the database",
				   t->id, t->title, d->title);
		if (!same_str(t->status, d->status))
			dh_report_add(rep, true, path, t->line,
				   "task %s: status is '%s' in the file, '%s' "
				   "in the database",
				   t->id, t->status, d->status);
		if (!same_str(t->priority, d->priority))
			dh_report_add(rep, true, path, t->line,
				   "task %s: priority is '%s' in the file, "
				   "'%s' in the database",
				   t->id, t->priority, d->priority);
		if (!t->state_hub_task_id) {
			dh_report_add(rep, true, path, t->line,
				   "task %s: no state_hub_task_id in the file "
				   "(fix writes %s)",
				   t->id,
				   d->uuid ? "the database's" : "a new one");
		} else if (!same_uuid(t->state_hub_task_id, d->uuid)) {
			owner = uuid_owner(c, "tasks", "state_hub_task_id",
					   t->state_hub_task_id);
			if (owner && strcmp(owner, t->id) != 0)
				snprintf(msg, sizeof(msg),
					 "task %s: state_hub_task_id %s "
					 "belongs to task %s in the database",
					 t->id, t->state_hub_task_id, owner);
			else
				snprintf(msg, sizeof(msg),
					 "task %s: state_hub_task_id is %s in "
					 "the file, %s in the database",
					 t->id, t->state_hub_task_id,
					 d->uuid ? d->uuid : "none");
			dh_report_add(rep, true, path, t->line, "%s", msg);
			free(owner);
		}
	}
	for (size_t i = 0; i < w.ntasks; i++)
		if (!w.tasks[i].seen)
			dh_report_add(rep, true, path, wp->meta_line,
				   "task %s is in the database but not in "
				   "the file",
				   w.tasks[i].id);
out:
	free_ws(&w);
	dh_workplan_free(wp);
	return HC_OK;
}

/* Workstreams of a repo that no checked file gives. */
static int check_repo_rest(struct hc_conn *c, const char *repo,
			   const struct seen_ids *wps, const char *where,
			   struct dh_report *rep, struct hc_err *err)
{
	struct hc_value p[] = { hc_vtext(repo) };
	struct hc_stmt *st = NULL;
	int rc = hc_query(c, &st,
			  "SELECT id FROM workstreams WHERE repo = ? ORDER BY "
			  "id",
			  p, 1, err);
	if (rc != HC_OK)
		return rc;
	while ((rc = hc_stmt_step(st, err)) == HC_ROW_READY) {
		const char *id = hc_stmt_text(st, 0, NULL);
		if (!seen_get(wps, id))
			dh_report_add(rep, true, where, 0,
				   "workstream %s of repo %s is in the "
				   "database but in no workplan file",
				   id, repo);
	}
	hc_stmt_finish(st);
	return rc == HC_ROW_DONE ? HC_OK : rc;
}

int dh_wp_check(struct hc_conn *c, char *const *files, size_t n,
		const char *repo, const char *where, struct dh_report *rep,
		struct hc_err *err)
{
	struct seen_ids wps = { 0 }, uuids = { 0 };
	int rc = HC_OK;
	for (size_t i = 0; rc == HC_OK && i < n; i++)
		rc = check_one(c, files[i], &wps, &uuids, rep, err);
	if (rc == HC_OK && repo)
		rc = check_repo_rest(c, repo, &wps, where ? where : repo, rep,
				     err);
	seen_release(&wps);
	seen_release(&uuids);
	return rc;
}

/* ---- writing ids into a file ------------------------------------------------------- */

static bool starts_key(struct hc_slice line, const char *key)
{
	size_t kl = strlen(key);
	return line.len > kl && memcmp(line.ptr, key, kl) == 0 &&
	       line.ptr[kl] == ':';
}

static struct hc_slice line_at(const struct dh_lines *l, int i)
{
	return hc_slice_from(l->data + l->start[i], l->end[i] - l->start[i]);
}

static bool is_fence(struct hc_slice s, char *ch, size_t *len)
{
	size_t i = 0, n = 0;
	while (i < s.len && i < 3 && s.ptr[i] == ' ')
		i++;
	if (i >= s.len || (s.ptr[i] != '`' && s.ptr[i] != '~'))
		return false;
	*ch = s.ptr[i];
	while (i + n < s.len && s.ptr[i + n] == *ch)
		n++;
	*len = n;
	return n >= 3;
}

/* Put "key: \"value\"" into the field block of lines first..last (a
 * line key: with no value is replaced), or insert it at line at (after
 * it when after is set). */
static int put_field(struct dh_edits *e, const struct dh_lines *l, int first,
		     int last, const char *key, const char *value, int at,
		     bool after)
{
	char text[200];
	snprintf(text, sizeof(text), "%s: \"%s\"", key, value);
	for (int i = first; i <= last; i++)
		if (starts_key(line_at(l, i), key))
			return dh_edits_replace_line(e, l, i, text);
	return after ? dh_edits_insert_after(e, l, at, text)
		     : dh_edits_insert_before(e, l, at, text);
}

/* A closing fence: only the opening character, at least as many. */
static bool is_closing(struct hc_slice s, char ch, size_t n)
{
	struct hc_slice t = hc_slice_trim(s);
	if (t.len < n)
		return false;
	for (size_t i = 0; i < t.len; i++)
		if (t.ptr[i] != ch)
			return false;
	return true;
}

static int md_task_id(struct dh_edits *e, const struct dh_lines *l, int head,
		      const char *uuid)
{
	int i = head + 1, close;
	char ch;
	size_t n;
	while (i <= l->n && hc_slice_trim(line_at(l, i)).len == 0)
		i++;
	if (i > l->n || !is_fence(line_at(l, i), &ch, &n))
		return HC_EPARSE;
	for (close = i + 1; close <= l->n; close++)
		if (is_closing(line_at(l, close), ch, n))
			break;
	if (close > l->n)
		return HC_EPARSE;
	return put_field(e, l, i + 1, close - 1, "state_hub_task_id", uuid,
			 close, false);
}

static int text_task_id(struct dh_edits *e, const struct dh_lines *l,
			int head, const char *uuid)
{
	int last = head;
	for (int i = head + 1; i <= l->n; i++) {
		struct hc_slice s = line_at(l, i);
		const char *colon = memchr(s.ptr, ':', s.len);
		if (!colon ||
		    !dh__is_task_field(hc_slice_from(s.ptr,
						     (size_t)(colon - s.ptr))))
			break;
		last = i;
	}
	if (last == head)
		return HC_EPARSE;
	return put_field(e, l, head + 1, last, "state_hub_task_id", uuid, last,
			 true);
}

static int md_ws_id(struct dh_edits *e, const struct dh_lines *l,
		    const char *uuid)
{
	int close;
	for (close = 2; close <= l->n; close++) {
		struct hc_slice s = hc_slice_trim(line_at(l, close));
		if (hc_slice_eq(s, "---") || hc_slice_eq(s, "..."))
			break;
	}
	if (close > l->n)
		return HC_EPARSE;
	return put_field(e, l, 2, close - 1, "state_hub_workstream_id", uuid,
			 close, false);
}

/* Split a table row into cells: offsets of the bytes between unescaped
 * pipes. Returns the number of cells. */
static size_t row_cells(struct hc_slice s, size_t *from, size_t *to,
			size_t max)
{
	size_t n = 0, i = 0, start;
	while (i < s.len && s.ptr[i] != '|')
		i++;
	if (i >= s.len)
		return 0;
	start = ++i;
	for (; i < s.len; i++) {
		if (s.ptr[i] == '\\' && i + 1 < s.len) {
			i++;
			continue;
		}
		if (s.ptr[i] == '|') {
			if (n < max) {
				from[n] = start;
				to[n] = i;
			}
			n++;
			start = i + 1;
		}
	}
	return n;
}

static int text_ws_id(struct dh_edits *e, const struct dh_lines *l,
		      const char *uuid)
{
	size_t hf[64], ht[64], vf[64], vt[64], nh, nv;
	int h = 1;
	char text[120];
	while (h <= l->n && (l->end[h] == l->start[h] ||
			     l->data[l->start[h]] != '|'))
		h++;
	if (h + 2 > l->n)
		return HC_EPARSE;
	nh = row_cells(line_at(l, h), hf, ht, 64);
	nv = row_cells(line_at(l, h + 2), vf, vt, 64);
	if (!nh || nh > 64 || nv > 64)
		return HC_EPARSE;
	for (size_t i = 0; i < nh; i++) {
		struct hc_slice name = hc_slice_trim(hc_slice_from(
			l->data + l->start[h] + hf[i], ht[i] - hf[i]));
		if (!hc_slice_eq(name, "state_hub_workstream_id"))
			continue;
		if (i >= nv)
			return HC_EPARSE;
		snprintf(text, sizeof(text), " %s ", uuid);
		return dh_edits_add(e, l->start[h + 2] + vf[i], vt[i] - vf[i],
				    text);
	}
	/* a new last column, after the closing pipe of each row */
	{
		int rows[3] = { h, h + 1, h + 2 };
		const char *add[3] = { " state_hub_workstream_id |", "---|",
				       NULL };
		snprintf(text, sizeof(text), " %s |", uuid);
		add[2] = text;
		for (int k = 0; k < 3; k++) {
			struct hc_slice s = line_at(l, rows[k]);
			size_t end = s.len;
			int rc;
			while (end && (s.ptr[end - 1] == ' ' ||
				       s.ptr[end - 1] == '\t'))
				end--;
			if (!end || s.ptr[end - 1] != '|') {
				char with_pipe[140];
				snprintf(with_pipe, sizeof(with_pipe), " |%s",
					 add[k]);
				rc = dh_edits_add(e, l->start[rows[k]] + end,
						  0, with_pipe);
			} else {
				rc = dh_edits_add(e, l->start[rows[k]] + end,
						  0, add[k]);
			}
			if (rc != HC_OK)
				return rc;
		}
	}
	return HC_OK;
}

/* ---- fix ------------------------------------------------------------------------- */

static int new_uuid(char out[HC_UUID_LEN + 1])
{
	return hc_uuid_v4(out);
}

static int prune_tasks(struct hc_conn *c, struct db_ws *w, const char *path,
		       struct dh_report *rep, struct hc_err *err)
{
	int rc = hc_tx_begin(c, true, err);
	for (size_t i = 0; rc == HC_OK && i < w->ntasks; i++) {
		struct hc_value p[] = { hc_vtext(w->tasks[i].id),
					hc_vtext(w->tasks[i].id) };
		int64_t uses = 0;
		if (w->tasks[i].seen)
			continue;
		rc = hc_query_int(c, &uses,
				  "SELECT count(*) FROM contributions WHERE "
				  "task = ?",
				  p, 1, err);
		if (rc != HC_OK)
			break;
		if (uses) {
			dh_report_add(rep, true, path, 0,
				   "task %s is not in the file but has "
				   "contributions; kept",
				   w->tasks[i].id);
			continue;
		}
		rc = hc_exec(c,
			     "DELETE FROM dependencies WHERE kind = 'task' "
			     "AND (item = ? OR depends_on = ?)",
			     p, 2, err);
		if (rc == HC_OK)
			rc = hc_exec(c, "DELETE FROM tasks WHERE id = ?", p, 1,
				     err);
		if (rc == HC_OK)
			dh_report_add(rep, false, path, 0,
				   "removed task %s from the database (not "
				   "in the file)",
				   w->tasks[i].id);
	}
	if (rc == HC_OK)
		return hc_tx_commit(c, err);
	hc_tx_rollback(c);
	return rc;
}

static int fix_one(struct hc_conn *c, const char *path,
		   const struct dh_fix_opts *o, struct seen_ids *wps,
		   struct dh_report *rep, struct hc_err *err)
{
	struct dh_workplan *wp = NULL, *wp2 = NULL;
	struct dh_edits edits = { 0 };
	struct dh_lines lines = { 0 };
	struct dh_import_result res;
	struct db_ws w = { 0 };
	struct hc_err perr = { 0 };
	struct stat st;
	char *data = NULL, *out = NULL, *owner = NULL;
	size_t len = 0, out_len = 0;
	int written = 0, rc;
	const char *first;

	rc = dh_file_read(path, DH_WP_MAX_SIZE, &data, &len, &st, &perr);
	if (rc == HC_OK)
		rc = dh_workplan_parse(path, data, len, &wp, &perr);
	if (rc != HC_OK) {
		dh_report_add(rep, true, path, perr.line, "not fixed: %s",
			   perr.msg);
		goto done;
	}
	if ((first = seen_get(wps, wp->id)) != NULL) {
		dh_report_add(rep, true, path, wp->meta_line,
			   "not fixed: workplan %s is also given by %s",
			   wp->id, first);
		goto done;
	}
	seen_put(wps, wp->id, path, wp->meta_line);
	rc = load_ws(c, wp->id, &w, err);
	if (rc != HC_OK)
		goto done;
	if (dh_lines_split(&lines, data, len) != HC_OK) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto done;
	}
	/* the workstream's id */
	if (wp->state_hub_workstream_id) {
		owner = uuid_owner(c, "workstreams", "state_hub_workstream_id",
				   wp->state_hub_workstream_id);
		if (owner && strcmp(owner, wp->id) != 0) {
			dh_report_add(rep, true, path, wp->meta_line,
				   "not fixed: workstream id %s points "
				   "elsewhere (workstream %s in the "
				   "database); correct the file",
				   wp->state_hub_workstream_id, owner);
			goto done;
		}
	} else {
		char id[HC_UUID_LEN + 1];
		const char *have = w.row ? hc_json_str(w.row,
						      "state_hub_workstream_id")
					 : NULL;
		if (have)
			snprintf(id, sizeof(id), "%s", have);
		else if (new_uuid(id) != HC_OK) {
			rc = hc_err_set(err, HC_EIO, "no randomness for ids");
			goto done;
		}
		rc = wp->format == DH_WP_MARKDOWN
			     ? md_ws_id(&edits, &lines, id)
			     : text_ws_id(&edits, &lines, id);
		if (rc != HC_OK) {
			dh_report_add(rep, true, path, wp->meta_line,
				   "not fixed: cannot place "
				   "state_hub_workstream_id in the file");
			rc = HC_OK;
			goto done;
		}
		written++;
	}
	for (size_t i = 0; i < wp->ntasks; i++) {
		const struct dh_wp_task *t = &wp->tasks[i];
		struct db_task *d = find_task(&w, t->id);
		char id[HC_UUID_LEN + 1];
		if (d)
			d->seen = true;
		if (t->state_hub_task_id) {
			free(owner);
			owner = uuid_owner(c, "tasks", "state_hub_task_id",
					   t->state_hub_task_id);
			if (owner && strcmp(owner, t->id) != 0) {
				dh_report_add(rep, true, path, t->line,
					   "not fixed: state_hub_task_id %s "
					   "of task %s belongs to task %s in "
					   "the database; correct the file",
					   t->state_hub_task_id, t->id, owner);
				goto done;
			}
			continue;
		}
		if (d && d->uuid)
			snprintf(id, sizeof(id), "%s", d->uuid);
		else if (new_uuid(id) != HC_OK) {
			rc = hc_err_set(err, HC_EIO, "no randomness for ids");
			goto done;
		}
		rc = wp->format == DH_WP_MARKDOWN
			     ? md_task_id(&edits, &lines, t->line, id)
			     : text_task_id(&edits, &lines, t->line, id);
		if (rc != HC_OK) {
			dh_report_add(rep, true, path, t->line,
				   "not fixed: cannot place state_hub_task_id "
				   "of task %s in the file",
				   t->id);
			rc = HC_OK;
			goto done;
		}
		written++;
	}
	rc = dh_edits_apply(&edits, data, len, &out, &out_len, err);
	if (rc != HC_OK)
		goto done;
	/* what is imported is what will be in the file */
	rc = dh_workplan_parse(path, out, out_len, &wp2, &perr);
	if (rc != HC_OK) {
		dh_report_add(rep, true, path, perr.line,
			   "not fixed: the edited file would not parse: %s",
			   perr.msg);
		rc = HC_OK;
		goto done;
	}
	if (o->dry_run) {
		dh_report_add(rep, false, path, 0,
			   "would import %s and write %d id%s into the file",
			   wp->id, written, written == 1 ? "" : "s");
		goto done;
	}
	rc = dh_workplan_import(c, wp2, &res, &perr);
	if (rc != HC_OK) {
		dh_report_add(rep, true, path, perr.line, "not fixed: %s",
			   perr.msg);
		rc = HC_OK;
		goto done;
	}
	dh_report_add(rep, false, path, 0,
		   "database: %s %s, %d tasks (%d new, %d updated, %d "
		   "unchanged)",
		   res.workstream_created ? "created" : "updated", wp->id,
		   res.tasks, res.tasks_created, res.tasks_updated,
		   res.tasks_unchanged);
	if (written) {
		char *backup = NULL;
		if (o->backup && asprintf(&backup, "%s.bak", path) < 0) {
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
			goto done;
		}
		rc = dh_file_replace(path, out, out_len, backup, &st, &perr);
		if (rc == HC_OK)
			dh_report_add(rep, false, path, 0,
				   "wrote %d state_hub id%s into the file%s%s%s",
				   written, written == 1 ? "" : "s",
				   backup ? " (backup " : "",
				   backup ? backup : "", backup ? ")" : "");
		else
			dh_report_add(rep, true, path, 0,
				   "ids not written into the file: %s (the "
				   "database has them; run fix again)",
				   perr.msg);
		free(backup);
		rc = HC_OK;
	}
	if (o->prune && w.row)
		rc = prune_tasks(c, &w, path, rep, err);
	else
		for (size_t i = 0; i < w.ntasks; i++)
			if (!w.tasks[i].seen)
				dh_report_add(rep, true, path, 0,
					   "task %s is in the database but "
					   "not in the file; kept (--prune "
					   "removes it)",
					   w.tasks[i].id);
done:
	free(owner);
	free(out);
	free(data);
	dh_edits_release(&edits);
	dh_lines_release(&lines);
	free_ws(&w);
	dh_workplan_free(wp);
	dh_workplan_free(wp2);
	return rc;
}

int dh_wp_fix(struct hc_conn *c, char *const *files, size_t n,
	      const struct dh_fix_opts *o, struct dh_report *rep,
	      struct hc_err *err)
{
	struct seen_ids wps = { 0 };
	int rc = HC_OK;
	for (size_t i = 0; rc == HC_OK && i < n; i++)
		rc = fix_one(c, files[i], o, &wps, rep, err);
	seen_release(&wps);
	return rc;
}
