/*
 * doi.c - dev-hub's definition-of-integration (DoI) evaluator, the one
 * hub-core's check_repo_doi / get_doi_summary tools and DoI routes call
 * through hc_hub_def.doi.
 *
 * The checklist is YAML (libyaml), taken from the repo's own
 * .foshub/doi.yaml, else from the file $FOSHUB_DOI_CONFIG names, else the
 * built-in one below:
 *
 *   checks:
 *     - id: readme            # names the item in results
 *       kind: files           # these files exist in the working tree
 *       paths: [README.md]
 *     - id: rule-files
 *       kind: rules           # the rule file is what `rules render` makes
 *     - id: workplans
 *       kind: workplans       # they parse and match the database
 *       dirs: [workplans, docs/workplans]
 *     - id: registered-paths
 *       kind: paths           # the repo's registered paths exist here
 *
 * A repo is evaluated against its working tree on this machine; the result
 * is cached in doi_results keyed by the repo's HEAD commit (read from
 * .git, no libgit2) and a digest of the checklist and the rule template,
 * so asking again on the same commit costs nothing. Uncommitted changes do
 * not invalidate the cache: ask with refresh for that.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "devhub/devhub.h"
#include "devhub/fileedit.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

const char dh_doi_default_config[] =
	"# the definition of integration every registered repo is held to\n"
	"checks:\n"
	"  - id: readme\n"
	"    kind: files\n"
	"    paths: [README.md]\n"
	"  - id: rule-files\n"
	"    kind: rules\n"
	"  - id: workplans\n"
	"    kind: workplans\n"
	"  - id: registered-paths\n"
	"    kind: paths\n";

static const struct hc_field doi_fields[] = {
	{ .name = "repo", .type = HC_FT_REF,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_UNIQUE,
	  .ref = &hc_repo_resource, .ref_field = "name",
	  .doc = "The repo evaluated." },
	{ .name = "head", .type = HC_FT_STRING, .max_len = 64,
	  .doc = "The commit its checkout had (null outside git)." },
	{ .name = "config_digest", .type = HC_FT_STRING, .max_len = 64,
	  .doc = "Digest of the checklist and rule template used." },
	{ .name = "passed", .type = HC_FT_BOOL, .flags = HC_F_FILTER,
	  .doc = "Whether every item passed." },
	{ .name = "result", .type = HC_FT_JSON, .json_kind = HC_JSON_OBJECT,
	  .max_len = 1 << 20, .doc = "The whole result, as answered." },
};

const struct hc_resource dh_doi_result_resource = {
	.name = "doi_result",
	.plural = "doi-results",
	.table = "doi_results",
	.doc = "The cached DoI result of a repo.",
	.id_policy = HC_ID_CLIENT,
	.fields = doi_fields,
	.nfields = HC_COUNT(doi_fields),
};

/* ---- HEAD ------------------------------------------------------------------ */

static bool hex40(const char *s)
{
	for (int i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* .git is a directory, or a file "gitdir: PATH" (worktrees, submodules). */
static int git_dir(const char *root, char *out, size_t size)
{
	char buf[4200];
	struct stat st;
	snprintf(out, size, "%s/.git", root);
	if (stat(out, &st) != 0)
		return -1;
	if (S_ISDIR(st.st_mode))
		return 0;
	if (read_small(out, buf, sizeof(buf)) < 0 ||
	    strncmp(buf, "gitdir: ", 8) != 0)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[8] == '/')
		snprintf(out, size, "%s", buf + 8);
	else
		snprintf(out, size, "%s/%s", root, buf + 8);
	return 0;
}

int dh_git_head(const char *root, char out[41], struct hc_err *err)
{
	char dir[4300], path[4600], buf[512], ref[400];
	char *packed = NULL;
	size_t plen;
	struct stat st;
	if (git_dir(root, dir, sizeof(dir)) != 0)
		return HC_ENOTFOUND;
	snprintf(path, sizeof(path), "%s/HEAD", dir);
	if (read_small(path, buf, sizeof(buf)) < 6)
		return HC_ENOTFOUND;
	if (strncmp(buf, "ref: ", 5) != 0) {
		if (strlen(buf) < 40 || !hex40(buf))
			return HC_ENOTFOUND;
		memcpy(out, buf, 40);
		out[40] = '\0';
		return HC_OK;
	}
	snprintf(ref, sizeof(ref), "%s", buf + 5);
	ref[strcspn(ref, "\r\n")] = '\0';
	if (strstr(ref, "..") || ref[0] == '/')
		return HC_ENOTFOUND;
	snprintf(path, sizeof(path), "%s/%s", dir, ref);
	if (read_small(path, buf, sizeof(buf)) >= 40 && hex40(buf)) {
		memcpy(out, buf, 40);
		out[40] = '\0';
		return HC_OK;
	}
	/* a packed ref: "<sha> <ref>" lines; a worktree shares the common
	 * directory's */
	snprintf(path, sizeof(path), "%s/packed-refs", dir);
	if (dh_file_read(path, 64 << 20, &packed, &plen, &st, err) != HC_OK) {
		char common[4300];
		snprintf(path, sizeof(path), "%s/commondir", dir);
		if (read_small(path, common, sizeof(common)) <= 0)
			return HC_ENOTFOUND;
		common[strcspn(common, "\r\n")] = '\0';
		snprintf(path, sizeof(path), "%s/%s/packed-refs", dir, common);
		if (dh_file_read(path, 64 << 20, &packed, &plen, &st, err) !=
		    HC_OK)
			return HC_ENOTFOUND;
	}
	for (char *line = packed; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strlen(line) > 41 && hex40(line) && line[40] == ' ' &&
		    strcmp(line + 41, ref) == 0) {
			memcpy(out, line, 40);
			out[40] = '\0';
			free(packed);
			return HC_OK;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(packed);
	return HC_ENOTFOUND;
}

/* ---- the checklist ------------------------------------------------------------- */

enum check_kind { CK_FILES, CK_RULES, CK_WORKPLANS, CK_PATHS };
static const char *const kind_names[] = { "files", "rules", "workplans",
					  "paths", NULL };

struct check {
	char id[64];
	enum check_kind kind;
	char **paths; /* files: paths; workplans: dirs */
	size_t npaths;
};

struct checklist {
	struct check *v;
	size_t n;
};

static void checklist_release(struct checklist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		for (size_t k = 0; k < l->v[i].npaths; k++)
			free(l->v[i].paths[k]);
		free(l->v[i].paths);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int yfail(const char *src, const yaml_node_t *n, struct hc_err *err,
		 const char *msg)
{
	return hc_err_at(err, HC_EPARSE, src,
			 n ? (int)n->start_mark.line + 1 : 1,
			 n ? (int)n->start_mark.column + 1 : 0, "%s", msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
						: NULL;
}

static int strings(yaml_document_t *doc, yaml_node_t *n, const char *src,
		   struct check *c, struct hc_err *err)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return yfail(src, n, err, "expected a list of paths");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(doc, *it);
		const char *s = scalar(v);
		char **nv;
		struct hc_err e2 = { 0 };
		if (!s || dh_rel_path_check(s, &e2) != HC_OK)
			return yfail(src, v, err,
				     "a path must be relative to the repo, "
				     "without '.' or '..' segments");
		nv = realloc(c->paths, (c->npaths + 1) * sizeof(char *));
		if (!nv)
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		c->paths = nv;
		c->paths[c->npaths] = strdup(s);
		if (!c->paths[c->npaths])
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		c->npaths++;
	}
	return HC_OK;
}

static int parse_check(yaml_document_t *doc, yaml_node_t *m, const char *src,
		       struct check *c, struct hc_err *err)
{
	bool have_kind = false;
	int rc;
	if (!m || m->type != YAML_MAPPING_NODE)
		return yfail(src, m, err, "a check must be a mapping with id "
					  "and kind");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *key = scalar(k), *val = scalar(v);
		if (!key)
			return yfail(src, k, err, "keys must be strings");
		if (strcmp(key, "id") == 0) {
			if (!val || !*val || strlen(val) >= sizeof(c->id))
				return yfail(src, v, err,
					     "id must be a short string");
			snprintf(c->id, sizeof(c->id), "%s", val);
		} else if (strcmp(key, "kind") == 0) {
			size_t i;
			for (i = 0; kind_names[i]; i++)
				if (val && strcmp(val, kind_names[i]) == 0)
					break;
			if (!kind_names[i])
				return yfail(src, v, err,
					     "kind must be one of files, "
					     "rules, workplans, paths");
			c->kind = (enum check_kind)i;
			have_kind = true;
		} else if (strcmp(key, "paths") == 0 ||
			   strcmp(key, "dirs") == 0) {
			rc = strings(doc, v, src, c, err);
			if (rc != HC_OK)
				return rc;
		} else if (strcmp(key, "description") != 0) {
			char msg[160];
			snprintf(msg, sizeof(msg),
				 "unknown key '%.60s' (id, kind, paths, dirs, "
				 "description)",
				 key);
			return yfail(src, k, err, msg);
		}
	}
	if (!c->id[0] || !have_kind)
		return yfail(src, m, err, "a check needs an id and a kind");
	if (c->kind == CK_FILES && !c->npaths)
		return yfail(src, m, err, "a files check needs paths");
	return HC_OK;
}

static int parse_checklist(const char *src, const char *text,
			   struct checklist *out, struct hc_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *checks = NULL;
	int rc = HC_OK;

	memset(out, 0, sizeof(*out));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     strlen(text));
	if (!yaml_parser_load(&parser, &doc)) {
		rc = hc_err_at(err, HC_EPARSE, src,
			       (int)parser.problem_mark.line + 1,
			       (int)parser.problem_mark.column + 1,
			       "invalid yaml: %s",
			       parser.problem ? parser.problem : "error");
		yaml_parser_delete(&parser);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top; p++) {
			const char *key = scalar(
				yaml_document_get_node(&doc, p->key));
			if (key && strcmp(key, "checks") == 0)
				checks = yaml_document_get_node(&doc, p->value);
			else
				rc = yfail(src,
					   yaml_document_get_node(&doc,
								  p->key),
					   err, "unknown key: only 'checks'");
		}
	if (rc == HC_OK && (!checks || checks->type != YAML_SEQUENCE_NODE))
		rc = yfail(src, root, err, "expected 'checks:' with a list");
	if (rc == HC_OK) {
		size_t n = (size_t)(checks->data.sequence.items.top -
				    checks->data.sequence.items.start);
		out->v = calloc(n ? n : 1, sizeof(*out->v));
		if (!out->v)
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		for (size_t i = 0; rc == HC_OK && i < n; i++) {
			rc = parse_check(
				&doc,
				yaml_document_get_node(
					&doc, checks->data.sequence.items.start[i]),
				src, &out->v[i], err);
			out->n = i + 1;
			for (size_t k = 0; rc == HC_OK && k < i; k++)
				if (strcmp(out->v[k].id, out->v[i].id) == 0)
					rc = yfail(src,
						   yaml_document_get_node(
							   &doc,
							   checks->data.sequence
								   .items
								   .start[i]),
						   err, "check ids must differ");
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc != HC_OK)
		checklist_release(out);
	return rc;
}

/* ---- evaluating --------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static json_t *item(const struct check *c, bool passed, const char *reason)
{
	return json_pack("{sssssbss}", "id", c->id, "kind",
			 kind_names[c->kind], "passed", passed, "reason",
			 reason);
}

static json_t *eval_files(const struct check *c, const char *root)
{
	struct hc_buf missing = HC_BUF_INIT(8192);
	json_t *j;
	for (size_t i = 0; i < c->npaths; i++) {
		struct hc_err e = { 0 };
		bool there = false;
		int rc = dh_repo_file_exists(root, c->paths[i], &there, &e);
		if (rc != HC_OK || !there)
			hc_buf_addf(&missing, "%s%s%s%s",
				    missing.len ? ", " : "", c->paths[i],
				    rc != HC_OK ? " (" : "",
				    rc != HC_OK ? "outside the repo)" : "");
	}
	j = missing.len ? item(c, false, "") : item(c, true, "all present");
	if (missing.len)
		json_object_set_new(j, "reason",
				    json_sprintf("missing: %s", missing.data));
	hc_buf_release(&missing);
	return j;
}

static json_t *eval_rules(const struct check *c, struct hc_conn *conn,
			  const json_t *repo, const char *host)
{
	struct dh_rules_opts o = { .host = host, .dry_run = true };
	struct dh_rules_result r;
	struct hc_err e = { 0 };
	char msg[700];
	if (dh_rules_render_repo(conn, repo, &o, &r, &e) != HC_OK) {
		snprintf(msg, sizeof(msg), "cannot check: %s", e.msg);
		return item(c, false, msg);
	}
	if (r.outcome == DH_RULES_UNCHANGED)
		return item(c, true, "current");
	snprintf(msg, sizeof(msg), "%s %s; run foshub rules render",
		 dh_rules_default_target,
		 r.outcome == DH_RULES_CREATED ? "is missing" : "is out of date");
	return item(c, false, msg);
}

static json_t *eval_workplans(const struct check *c, struct hc_conn *conn,
			      const json_t *repo, const char *root)
{
	struct dh_paths files = { 0 };
	struct dh_report rep = { 0 };
	struct hc_err e = { 0 };
	char msg[1200];
	json_t *j;
	char **dirs = c->paths;
	size_t ndirs = c->npaths;
	const char *defaults[4];
	size_t nd = 0;
	if (!ndirs) {
		for (const char *const *d = dh_workplan_dirs; *d; d++)
			defaults[nd++] = *d;
		dirs = (char **)defaults;
		ndirs = nd;
	}
	for (size_t i = 0; i < ndirs; i++) {
		char *p = NULL;
		bool there = false;
		if (dh_repo_file_exists(root, dirs[i], &there, &e) != HC_OK ||
		    !there)
			continue;
		if (asprintf(&p, "%s/%s", root, dirs[i]) < 0)
			continue;
		dh_paths_add(&files, p, &e);
		free(p);
	}
	if (dh_wp_check(conn, files.v, files.n, hc_json_str(repo, "name"),
			root, &rep, &e) != HC_OK) {
		snprintf(msg, sizeof(msg), "cannot check: %s", e.msg);
		j = item(c, false, msg);
	} else if (rep.findings) {
		const char *first = "";
		for (size_t i = 0; i < rep.n; i++)
			if (rep.v[i].finding) {
				first = rep.v[i].text;
				break;
			}
		snprintf(msg, sizeof(msg),
			 "%zu finding%s in %zu file%s (foshub workplan check); "
			 "first: %s",
			 rep.findings, rep.findings == 1 ? "" : "s", files.n,
			 files.n == 1 ? "" : "s", first);
		j = item(c, false, msg);
	} else {
		snprintf(msg, sizeof(msg),
			 "%zu workplan file%s parse and match dev-hub", files.n,
			 files.n == 1 ? "" : "s");
		j = item(c, true, msg);
	}
	dh_report_release(&rep);
	dh_paths_release(&files);
	return j;
}

static json_t *eval_paths(const struct check *c, const json_t *repo,
			  const char *host)
{
	const char *dp = hc_json_str(repo, "default_path");
	const char *hp = host ? hc_json_str(json_object_get(repo, "host_paths"),
					    host)
			      : NULL;
	struct hc_buf bad = HC_BUF_INIT(8192);
	const char *paths[2] = { hp, dp };
	size_t checked = 0;
	json_t *j;
	for (size_t i = 0; i < 2; i++) {
		struct stat st;
		if (!paths[i])
			continue;
		checked++;
		if (stat(paths[i], &st) != 0 || !S_ISDIR(st.st_mode))
			hc_buf_addf(&bad, "%s%s", bad.len ? ", " : "",
				    paths[i]);
	}
	if (!checked)
		j = item(c, false,
			 "no path registered for this machine (host_paths or "
			 "default_path)");
	else if (bad.len) {
		j = item(c, false, "");
		json_object_set_new(j, "reason",
				    json_sprintf("not a directory here: %s",
						 bad.data));
	} else {
		j = item(c, true, "registered paths exist");
	}
	hc_buf_release(&bad);
	return j;
}

/* The checklist text for a repo and where it came from. */
static int load_config(const char *root, const char *given, char **text,
		       char *src, size_t src_size, struct hc_err *err)
{
	const char *env = getenv("FOSHUB_DOI_CONFIG");
	struct stat st;
	size_t len;
	int rc;
	if (given) {
		snprintf(src, src_size, "(given)");
		*text = strdup(given);
		return *text ? HC_OK : hc_err_set(err, HC_ENOMEM, "oom");
	}
	if (root) {
		const char *base;
		int dirfd;
		struct hc_err e2 = { 0 };
		if (dh_open_parent(root, ".foshub/doi.yaml", false, &base,
				   &dirfd, &e2) == HC_OK) {
			int fd = openat(dirfd, base,
					O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			close(dirfd);
			if (fd >= 0) {
				close(fd);
				snprintf(src, src_size, "%s/.foshub/doi.yaml",
					 root);
				return dh_file_read(src, 1 << 20, text, &len,
						    &st, err);
			}
		}
	}
	if (env && *env) {
		snprintf(src, src_size, "%s", env);
		rc = dh_file_read(env, 1 << 20, text, &len, &st, err);
		return rc;
	}
	snprintf(src, src_size, "built-in");
	*text = strdup(dh_doi_default_config);
	return *text ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
}

static void this_host(char *out, size_t size)
{
	if (gethostname(out, size) != 0)
		out[0] = '\0';
	out[size - 1] = '\0';
}

static int evaluate(struct hc_conn *c, const json_t *repo, const char *host,
		    const char *given, bool refresh, json_t **out,
		    struct hc_err *err)
{
	const char *root = dh_repo_path(repo, host);
	const char *name = hc_json_str(repo, "name");
	char head[41], src[4200], digest[17], now[HC_TIME_LEN + 1];
	char *text = NULL;
	struct checklist list = { 0 };
	json_t *items, *res, *cached = NULL;
	bool passed = true, have_head;
	size_t tlen;
	const char *tmpl = dh_rules_template(&tlen);
	uint64_t h = 1469598103934665603ull;
	int rc = load_config(root, given, &text, src, sizeof(src), err);

	if (rc != HC_OK)
		return rc;
	rc = parse_checklist(src, text, &list, err);
	if (rc != HC_OK) {
		free(text);
		return rc;
	}
	h = fnv(h, text, strlen(text));
	h = fnv(h, tmpl, tlen);
	snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)h);
	free(text);
	have_head = root && dh_git_head(root, head, err) == HC_OK;
	hc_err_clear(err);

	/* the cache, by HEAD and digest */
	if (have_head && !refresh && !given) {
		json_t *row = NULL;
		struct hc_err e2 = { 0 };
		if (hc_res_get_plain(c, &dh_doi_result_resource, name, &row,
				     &e2) == HC_OK &&
		    hc_json_str(row, "head") &&
		    strcmp(hc_json_str(row, "head"), head) == 0 &&
		    hc_json_str(row, "config_digest") &&
		    strcmp(hc_json_str(row, "config_digest"), digest) == 0)
			cached = json_deep_copy(json_object_get(row, "result"));
		json_decref(row);
		if (cached) {
			json_object_set_new(cached, "cached", json_true());
			checklist_release(&list);
			*out = cached;
			return HC_OK;
		}
	}

	items = json_array();
	for (size_t i = 0; i < list.n; i++) {
		const struct check *k = &list.v[i];
		json_t *j;
		if (!root && k->kind != CK_PATHS)
			j = item(k, false,
				 "the repo has no path on this machine");
		else if (k->kind == CK_FILES)
			j = eval_files(k, root);
		else if (k->kind == CK_RULES)
			j = eval_rules(k, c, repo, host);
		else if (k->kind == CK_WORKPLANS)
			j = eval_workplans(k, c, repo, root);
		else
			j = eval_paths(k, repo, host);
		passed = passed && json_is_true(json_object_get(j, "passed"));
		json_array_append_new(items, j);
	}
	checklist_release(&list);
	hc_time_now(now);
	res = json_pack("{sssssososssssbsbso}", "repo", name, "domain",
			hc_json_str(repo, "domain"), "path",
			root ? json_string(root) : json_null(), "head",
			have_head ? json_string(head) : json_null(), "config",
			src, "evaluated_at", now, "cached", false, "passed",
			passed, "items", items);
	if (!res)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	if (!given) {
		json_t *row = json_pack("{sssssssOsbsO}", "id", name, "repo",
					name, "config_digest", digest, "head",
					json_object_get(res, "head"), "passed",
					passed, "result", res);
		rc = row ? hc_res_upsert(c, &dh_doi_result_resource, row, NULL,
					 NULL, NULL, err)
			 : hc_err_set(err, HC_ENOMEM, "out of memory");
		json_decref(row);
		if (rc != HC_OK) {
			json_decref(res);
			return rc;
		}
	}
	*out = res;
	return HC_OK;
}

int dh_doi_evaluate(struct hc_conn *c, const json_t *repo, const char *host,
		    const char *config, json_t **out, struct hc_err *err)
{
	return evaluate(c, repo, host, config, true, out, err);
}

static int doi_check(struct hc_hub *hub, struct hc_conn *c, const char *key,
		     bool refresh, json_t **out, struct hc_err *err)
{
	char host[256];
	json_t *repo = NULL;
	int rc = hc_res_get_plain(c, &hc_repo_resource, key, &repo, err);
	if (rc != HC_OK)
		return rc;
	this_host(host, sizeof(host));
	rc = evaluate(c, repo, host, NULL, refresh, out, err);
	json_decref(repo);
	return rc;
}

static int doi_summary(struct hc_hub *hub, struct hc_conn *c,
		       const char *domain, bool refresh, json_t **out,
		       struct hc_err *err)
{
	struct hc_list_query q = { .limit = HC_LIST_MAX_LIMIT };
	json_t *page = NULL, *repos = json_array(), *repo;
	char host[256], cur[HC_CURSOR_MAX + 1];
	json_int_t npass = 0, nfail = 0;
	size_t i;
	int rc = HC_OK;
	if (domain)
		rc = hc_list_query_add(&q, &hc_repo_resource, "domain", domain,
				       err);
	this_host(host, sizeof(host));
	do {
		if (rc == HC_OK)
			rc = hc_res_list(c, &hc_repo_resource, &q, &page, err);
		if (rc != HC_OK)
			break;
		json_array_foreach(json_object_get(page, "items"), i, repo)
		{
			json_t *r = NULL, *failed = json_array(), *it;
			size_t k;
			rc = evaluate(c, repo, host, NULL, refresh, &r, err);
			if (rc != HC_OK) {
				json_decref(failed);
				break;
			}
			json_array_foreach(json_object_get(r, "items"), k, it)
				if (!json_is_true(json_object_get(it, "passed")))
					json_array_append(failed,
							  json_object_get(it,
									  "id"));
			if (json_is_true(json_object_get(r, "passed")))
				npass++;
			else
				nfail++;
			json_array_append_new(
				repos,
				json_pack("{sOsOsOsOsOso}", "repo",
					  json_object_get(r, "repo"), "domain",
					  json_object_get(r, "domain"),
					  "passed", json_object_get(r, "passed"),
					  "head", json_object_get(r, "head"),
					  "cached", json_object_get(r, "cached"),
					  "failed", failed));
			json_decref(r);
		}
		q.cursor = NULL;
		if (rc == HC_OK && json_is_string(json_object_get(page,
								  "next_cursor"))) {
			/* more than 500 repos: go on with the next page */
			snprintf(cur, sizeof(cur), "%s",
				 hc_json_str(page, "next_cursor"));
			q.cursor = cur;
		}
		json_decref(page);
		page = NULL;
	} while (rc == HC_OK && q.cursor);
	if (rc != HC_OK) {
		json_decref(repos);
		return rc;
	}
	*out = json_pack("{sIsIsIso}", "total", npass + nfail, "passed", npass,
			 "failed", nfail, "repos", repos);
	return HC_OK;
}

const struct hc_doi_evaluator dh_doi_evaluator = {
	.check = doi_check,
	.summary = doi_summary,
};
