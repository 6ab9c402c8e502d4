/*
 * mcpconfig.c - renaming and registering MCP servers in a client's JSON
 * configuration by editing its text in place (see mcpconfig.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devhub/mcpconfig.h"
#include "hubcore/json.h"

/* ---- a scanner that keeps positions ------------------------------------------ */

struct jmember;

struct jnode {
	char type;    /* 'o' object, 'a' array, 's' string, 'v' other */
	size_t start; /* first byte of the value */
	size_t end;   /* one past its last byte */
	struct jmember *m; /* objects: members in order; arrays: elements */
	size_t nm;
};

struct jmember {
	char *key;     /* decoded; NULL for an array element */
	size_t kstart; /* the key's opening quote (an element: its start) */
	struct jnode v;
};

struct scan {
	const char *s;
	size_t len, pos;
	int depth;
};

static void node_free(struct jnode *n)
{
	for (size_t i = 0; i < n->nm; i++) {
		free(n->m[i].key);
		node_free(&n->m[i].v);
	}
	free(n->m);
}

static void ws(struct scan *x)
{
	while (x->pos < x->len &&
	       (x->s[x->pos] == ' ' || x->s[x->pos] == '\t' ||
		x->s[x->pos] == '\n' || x->s[x->pos] == '\r'))
		x->pos++;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* A string at pos; *out (may be NULL) gets it decoded (escapes of
 * characters above U+007F are kept as '?', enough to compare keys). */
static int string(struct scan *x, char **out)
{
	struct hc_buf b = HC_BUF_INIT(1 << 20);
	if (x->pos >= x->len || x->s[x->pos] != '"')
		return -1;
	x->pos++;
	while (x->pos < x->len && x->s[x->pos] != '"') {
		char c = x->s[x->pos++];
		if (c == '\\') {
			char e;
			if (x->pos >= x->len)
				break;
			e = x->s[x->pos++];
			if (e == 'u') {
				int v = 0;
				for (int i = 0; i < 4; i++) {
					int h = x->pos < x->len
							? hexval(x->s[x->pos++])
							: -1;
					if (h < 0) {
						hc_buf_release(&b);
						return -1;
					}
					v = v * 16 + h;
				}
				c = v < 0x80 ? (char)v : '?';
			} else {
				c = e == 'n'   ? '\n'
				    : e == 't' ? '\t'
				    : e == 'r' ? '\r'
				    : e == 'b' ? '\b'
				    : e == 'f' ? '\f'
					       : e;
			}
		}
		if (out)
			hc_buf_addc(&b, c);
	}
	if (x->pos >= x->len) {
		hc_buf_release(&b);
		return -1;
	}
	x->pos++;
	if (out) {
		hc_buf_add(&b, "", 0);
		*out = hc_buf_detach(&b, NULL);
		if (!*out)
			*out = strdup("");
	}
	hc_buf_release(&b);
	return 0;
}

/* A new member (or element) at the end of n's list, zeroed. */
static struct jmember *add_member(struct jnode *n, size_t *cap)
{
	if (n->nm == *cap) {
		struct jmember *v;
		*cap = *cap ? *cap * 2 : 8;
		v = realloc(n->m, *cap * sizeof(*v));
		if (!v)
			return NULL;
		n->m = v;
	}
	memset(&n->m[n->nm], 0, sizeof(n->m[0]));
	return &n->m[n->nm++];
}

static int value(struct scan *x, struct jnode *n)
{
	size_t cap = 0;
	memset(n, 0, sizeof(*n));
	ws(x);
	n->start = x->pos;
	if (x->pos >= x->len || ++x->depth > 512)
		return -1;
	switch (x->s[x->pos]) {
	case '{':
		n->type = 'o';
		x->pos++;
		ws(x);
		if (x->pos < x->len && x->s[x->pos] == '}') {
			x->pos++;
			break;
		}
		for (;;) {
			struct jmember *m;
			ws(x);
			if (!(m = add_member(n, &cap)))
				return -1;
			m->kstart = x->pos;
			if (string(x, &m->key) != 0)
				return -1;
			ws(x);
			if (x->pos >= x->len || x->s[x->pos] != ':')
				return -1;
			x->pos++;
			if (value(x, &m->v) != 0)
				return -1;
			ws(x);
			if (x->pos < x->len && x->s[x->pos] == ',') {
				x->pos++;
				continue;
			}
			if (x->pos < x->len && x->s[x->pos] == '}') {
				x->pos++;
				break;
			}
			return -1;
		}
		break;
	case '[':
		n->type = 'a';
		x->pos++;
		ws(x);
		if (x->pos < x->len && x->s[x->pos] == ']') {
			x->pos++;
			break;
		}
		for (;;) {
			struct jmember *m = add_member(n, &cap);
			if (!m || value(x, &m->v) != 0)
				return -1;
			m->kstart = m->v.start;
			ws(x);
			if (x->pos < x->len && x->s[x->pos] == ',') {
				x->pos++;
				continue;
			}
			if (x->pos < x->len && x->s[x->pos] == ']') {
				x->pos++;
				break;
			}
			return -1;
		}
		break;
	case '"':
		n->type = 's';
		if (string(x, NULL) != 0)
			return -1;
		break;
	default:
		n->type = 'v';
		while (x->pos < x->len && strchr(",}] \t\r\n", x->s[x->pos]) ==
						  NULL)
			x->pos++;
		if (x->pos == n->start)
			return -1;
	}
	x->depth--;
	n->end = x->pos;
	return 0;
}

static struct jmember *member(const struct jnode *o, const char *key)
{
	if (!o || o->type != 'o')
		return NULL;
	for (size_t i = 0; i < o->nm; i++)
		if (strcmp(o->m[i].key, key) == 0)
			return &o->m[i];
	return NULL;
}

/* Parse twice: jansson says whether the text is valid JSON (refusing
 * duplicate keys), the scanner gives positions. */
static int load(const char *source, const char *data, size_t len,
		json_t **doc, struct jnode *root, struct hc_err *err)
{
	struct scan x = { data, len, 0, 0 };
	int rc = hc_json_parse(data, len, doc, err);
	if (rc != HC_OK) {
		snprintf(err->source, sizeof(err->source), "%s", source);
		return rc;
	}
	if (!json_is_object(*doc)) {
		json_decref(*doc);
		return hc_err_at(err, HC_EINVAL, source, 1, 1,
				 "the configuration must be a JSON object");
	}
	if (value(&x, root) != 0 || root->type != 'o') {
		node_free(root);
		json_decref(*doc);
		return hc_err_at(err, HC_EINVAL, source, 0, 0,
				 "cannot follow the file's structure");
	}
	return HC_OK;
}

/* ---- migrate ---------------------------------------------------------------------- */

static json_t *value_json(const char *data, const struct jnode *n)
{
	json_error_t e;
	return json_loadb(data + n->start, n->end - n->start,
			  JSON_DECODE_ANY, &e);
}

/* An object with key old renamed to new in place (same position), or
 * without old when drop is set; a new reference. */
static json_t *renamed(const json_t *obj, const char *old, const char *new,
		       bool drop)
{
	json_t *o = json_object(), *v;
	const char *k;
	json_object_foreach((json_t *)obj, k, v)
	{
		if (strcmp(k, old) == 0) {
			if (!drop)
				json_object_set(o, new, v);
		} else {
			json_object_set(o, k, v);
		}
	}
	return o;
}

/* Put servers (stolen) as the mcpServers of the top level or a project
 * of the expected document. */
static void replace_servers(json_t *expected, const char *project,
			    json_t *servers)
{
	json_t *parent = project ? json_object_get(json_object_get(expected,
								   "projects"),
						   project)
				 : expected;
	json_object_set_new(parent, "mcpServers", servers);
}

/* Serialisations compared to prove the edit: same members, same order. */
static int verify(const char *source, const char *out, size_t out_len,
		  const json_t *expected, struct hc_err *err)
{
	json_t *got = NULL;
	char *a, *b;
	int same;
	int rc = hc_json_parse(out, out_len, &got, err);
	if (rc != HC_OK)
		return hc_err_at(err, HC_EINTERNAL, source, 0, 0,
				 "the edited file would not parse (a bug); "
				 "nothing was written");
	a = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
	b = json_dumps(expected, JSON_COMPACT | JSON_ENCODE_ANY);
	same = a && b && strcmp(a, b) == 0;
	free(a);
	free(b);
	json_decref(got);
	return same ? HC_OK
		    : hc_err_at(err, HC_EINTERNAL, source, 0, 0,
				"the edited file would not mean what was "
				"intended (a bug); nothing was written");
}

/* Remove member i of object o from the text. */
static int remove_member(struct dh_edits *e, const struct jnode *o, size_t i)
{
	if (i > 0)
		return dh_edits_add(e, o->m[i - 1].v.end,
				    o->m[i].v.end - o->m[i - 1].v.end, NULL);
	if (o->nm > 1)
		return dh_edits_add(e, o->m[0].kstart,
				    o->m[1].kstart - o->m[0].kstart, NULL);
	return dh_edits_add(e, o->start + 1, o->end - 1 - (o->start + 1),
			    NULL);
}

/* The end of the key string starting at kstart. */
static size_t key_end(const char *data, size_t len, size_t kstart)
{
	struct scan x = { data, len, kstart, 0 };
	return string(&x, NULL) == 0 ? x.pos : kstart;
}

/* Migrate one mcpServers object o of the document (servers is the same
 * object as jansson read it). */
static int migrate_obj(const char *source, const char *data, size_t len,
		       const struct jnode *o, const json_t *servers,
		       const char *where, const char *project,
		       json_t *expected, struct dh_edits *edits,
		       struct dh_report *rep, struct hc_err *err)
{
	size_t si = o->nm, di = o->nm;
	for (size_t k = 0; k < o->nm; k++) {
		if (strcmp(o->m[k].key, "state-hub") == 0)
			si = k;
		if (strcmp(o->m[k].key, "dev-hub") == 0)
			di = k;
	}
	if (si == o->nm)
		return HC_OK;
	if (di == o->nm) {
		size_t ke = key_end(data, len, o->m[si].kstart);
		int rc = dh_edits_add(edits, o->m[si].kstart,
				      ke - o->m[si].kstart, "\"dev-hub\"");
		if (rc != HC_OK)
			return hc_err_set(err, rc, "out of memory");
		replace_servers(expected, project,
				renamed(servers, "state-hub", "dev-hub",
					false));
		dh_report_add(rep, false, source, 0,
			      "%s: renamed \"state-hub\" to \"dev-hub\"",
			      where);
		return HC_OK;
	}
	{
		json_t *a = value_json(data, &o->m[si].v);
		json_t *b = value_json(data, &o->m[di].v);
		bool same = a && b && json_equal(a, b);
		int rc;
		json_decref(a);
		json_decref(b);
		if (!same)
			return hc_err_at(err, HC_ECONFLICT, source, 0, 0,
					 "%s has both \"state-hub\" and a "
					 "different \"dev-hub\" entry; "
					 "refusing to choose (nothing was "
					 "changed)",
					 where);
		rc = remove_member(edits, o, si);
		if (rc != HC_OK)
			return hc_err_set(err, rc, "out of memory");
		replace_servers(expected, project,
				renamed(servers, "state-hub", NULL, true));
		dh_report_add(rep, false, source, 0,
			      "%s: removed \"state-hub\", the same as the "
			      "\"dev-hub\" entry already there",
			      where);
	}
	return HC_OK;
}

/* ---- the server's name in lists ---------------------------------------------------- */

/* How a list names the server. */
enum name_match {
	NAME_SERVER,    /* the server's name: "state-hub" */
	NAME_TOOL_RULE, /* a permission rule: "mcp__state-hub" (every tool)
			 * or "mcp__state-hub__get_task" (one tool) */
};

/*
 * The lists of strings that name MCP servers besides the mcpServers keys,
 * looked for in the top-level object and in every projects entry: Claude
 * Code's approvals of a project's .mcp.json servers, and the permission
 * rules of ~/.claude.json (allowedTools) and of settings files
 * (permissions.allow, ask, deny).
 */
static const struct name_list {
	const char *path[2]; /* member names; the second NULL when direct */
	enum name_match match;
} name_lists[] = {
	{ { "enabledMcpjsonServers", NULL }, NAME_SERVER },
	{ { "disabledMcpjsonServers", NULL }, NAME_SERVER },
	{ { "allowedTools", NULL }, NAME_TOOL_RULE },
	{ { "permissions", "allow" }, NAME_TOOL_RULE },
	{ { "permissions", "ask" }, NAME_TOOL_RULE },
	{ { "permissions", "deny" }, NAME_TOOL_RULE },
};

static const struct {
	const char *old, *new;
	bool whole; /* the element is exactly old; else old is a prefix */
} name_forms[] = {
	[NAME_SERVER] = { "state-hub", "dev-hub", true },
	[NAME_TOOL_RULE] = { "mcp__state-hub", "mcp__dev-hub", false },
};

/* Does the string s (as jansson read it) name the old server? */
static bool names_old(const json_t *s, enum name_match match)
{
	const char *old = name_forms[match].old, *v = json_string_value(s);
	size_t n = strlen(old), len = json_string_length(s);
	if (!v || len < n || memcmp(v, old, n) != 0)
		return false;
	return len == n || (!name_forms[match].whole && len >= n + 2 &&
			    memcmp(v + n, "__", 2) == 0);
}

/*
 * Edit element e (a string naming the old server) to name the new one,
 * nv. When the old name is written plainly only its bytes change and the
 * rest of the string stays as written; a name written with escapes (Claude
 * Code never does) makes the whole string rewritten.
 */
static int rename_element(struct dh_edits *edits, const char *data,
			  const struct jnode *e, const json_t *nv,
			  enum name_match match)
{
	const char *old = name_forms[match].old;
	size_t n = strlen(old);
	char *text;
	int rc;
	if (e->end - e->start >= n + 2 &&
	    memcmp(data + e->start + 1, old, n) == 0)
		return dh_edits_add(edits, e->start + 1, n,
				    name_forms[match].new);
	text = json_dumps(nv, JSON_ENCODE_ANY);
	if (!text)
		return HC_ENOMEM;
	rc = dh_edits_add(edits, e->start, e->end - e->start, text);
	free(text);
	return rc;
}

/* The string s (as jansson read it) with the old name's prefix replaced. */
static json_t *renamed_name(const json_t *s, enum name_match match)
{
	size_t n = strlen(name_forms[match].old);
	const char *v = json_string_value(s);
	size_t len = json_string_length(s);
	struct hc_buf b = HC_BUF_INIT(1 << 20);
	json_t *out;
	if (hc_buf_adds(&b, name_forms[match].new) != HC_OK ||
	    hc_buf_add(&b, v + n, len - n) != HC_OK) {
		hc_buf_release(&b);
		return NULL;
	}
	out = json_stringn(b.data ? b.data : "", b.len);
	hc_buf_release(&b);
	return out;
}

static bool list_has(const json_t *list, const json_t *v)
{
	size_t i;
	json_t *x;
	json_array_foreach((json_t *)list, i, x)
		if (json_equal(x, v))
			return true;
	return false;
}

/*
 * Remove the elements of array a marked in gone: each run of removed
 * elements goes with the separator before it (or, at the start, after
 * it), so the edits never overlap and the rest keeps its layout.
 */
static int remove_elements(struct dh_edits *e, const struct jnode *a,
			   const bool *gone)
{
	for (size_t i = 0; i < a->nm;) {
		size_t j = i;
		int rc;
		if (!gone[i]) {
			i++;
			continue;
		}
		while (j + 1 < a->nm && gone[j + 1])
			j++;
		if (i > 0)
			rc = dh_edits_add(e, a->m[i - 1].v.end,
					  a->m[j].v.end - a->m[i - 1].v.end,
					  NULL);
		else if (j + 1 < a->nm)
			rc = dh_edits_add(e, a->m[0].v.start,
					  a->m[j + 1].v.start - a->m[0].v.start,
					  NULL);
		else
			rc = dh_edits_add(e, a->start + 1,
					  a->end - 1 - (a->start + 1), NULL);
		if (rc != HC_OK)
			return rc;
		i = j + 1;
	}
	return HC_OK;
}

/*
 * Rename the old server in one list: a (scanned) and list (as jansson read
 * it) are the same array; *expected_list gets what it should become. An
 * element whose new name the list already has is removed instead.
 */
static int migrate_list(const char *source, const char *data,
			const struct jnode *a, const json_t *list,
			enum name_match match, const char *where,
			json_t **expected_list, struct dh_edits *edits,
			struct dh_report *rep, struct hc_err *err)
{
	json_t *have = json_array(), *result = json_array();
	bool *gone = calloc(a->nm ? a->nm : 1, sizeof(*gone));
	int rc = gone && have && result ? HC_OK : HC_ENOMEM;

	*expected_list = NULL;
	for (size_t i = 0; rc == HC_OK && i < a->nm; i++)
		if (!names_old(json_array_get(list, i), match))
			json_array_append(have, json_array_get(list, i));
	for (size_t i = 0; rc == HC_OK && i < a->nm; i++) {
		json_t *v = json_array_get(list, i), *nv;
		if (!names_old(v, match)) {
			json_array_append(result, v);
			continue;
		}
		nv = renamed_name(v, match);
		if (!nv) {
			rc = HC_ENOMEM;
			break;
		}
		if (list_has(have, nv)) {
			gone[i] = true;
			dh_report_add(rep, false, source, 0,
				      "%s: removed \"%s\", \"%s\" is already "
				      "there",
				      where, json_string_value(v),
				      json_string_value(nv));
			json_decref(nv);
			continue;
		}
		rc = rename_element(edits, data, &a->m[i].v, nv, match);
		dh_report_add(rep, false, source, 0,
			      "%s: renamed \"%s\" to \"%s\"", where,
			      json_string_value(v), json_string_value(nv));
		json_array_append(have, nv);
		json_array_append_new(result, nv);
	}
	if (rc == HC_OK)
		rc = remove_elements(edits, a, gone);
	free(gone);
	json_decref(have);
	if (rc != HC_OK) {
		json_decref(result);
		return hc_err_set(err, rc, "out of memory");
	}
	*expected_list = result;
	return HC_OK;
}

/*
 * Every name list of obj (the scanned top level or a projects entry;
 * jobj and exp the same object as read and as expected), where names
 * where it is ("" at the top level).
 */
static int migrate_lists(const char *source, const char *data,
			 const struct jnode *obj, const json_t *jobj,
			 json_t *exp, const char *where,
			 struct dh_edits *edits, struct dh_report *rep,
			 struct hc_err *err)
{
	int rc = HC_OK;
	for (size_t k = 0; rc == HC_OK && k < HC_COUNT(name_lists); k++) {
		const struct name_list *nl = &name_lists[k];
		const struct jmember *m = member(obj, nl->path[0]);
		const json_t *list = json_object_get(jobj, nl->path[0]);
		json_t *parent = exp, *result = NULL;
		const char *key = nl->path[0];
		char at[700];
		if (m && nl->path[1]) {
			m = member(&m->v, nl->path[1]);
			list = json_object_get(list, nl->path[1]);
			parent = json_object_get(exp, nl->path[0]);
			key = nl->path[1];
		}
		if (!m || m->v.type != 'a' || !json_is_array(list))
			continue;
		snprintf(at, sizeof(at), "%s%s%s%s%s", where, *where ? "." : "",
			 nl->path[0], nl->path[1] ? "." : "",
			 nl->path[1] ? nl->path[1] : "");
		rc = migrate_list(source, data, &m->v, list, nl->match, at,
				  &result, edits, rep, err);
		if (rc == HC_OK)
			json_object_set_new(parent, key, result);
	}
	return rc;
}

int dh_mcpcfg_migrate(const char *source, const char *data, size_t len,
		      char **out, size_t *out_len, struct dh_report *rep,
		      struct dh_edits *edits_out, struct hc_err *err)
{
	struct jnode root;
	struct dh_edits edits = { 0 };
	json_t *doc = NULL, *expected = NULL;
	const struct jmember *top, *projects;
	int rc = load(source, data, len, &doc, &root, err);
	if (rc != HC_OK)
		return rc;
	expected = json_deep_copy(doc);
	top = member(&root, "mcpServers");
	if (top && top->v.type == 'o')
		rc = migrate_obj(source, data, len, &top->v,
				 json_object_get(doc, "mcpServers"),
				 "mcpServers", NULL, expected, &edits, rep,
				 err);
	if (rc == HC_OK)
		rc = migrate_lists(source, data, &root, doc, expected, "",
				   &edits, rep, err);
	projects = member(&root, "projects");
	if (projects && projects->v.type == 'o')
		for (size_t i = 0; rc == HC_OK && i < projects->v.nm; i++) {
			const struct jmember *p = &projects->v.m[i];
			const struct jmember *sv = member(&p->v, "mcpServers");
			const json_t *jp = json_object_get(
				json_object_get(doc, "projects"), p->key);
			char where[600];
			snprintf(where, sizeof(where), "projects[\"%s\"]",
				 p->key);
			if (p->v.type == 'o')
				rc = migrate_lists(
					source, data, &p->v, jp,
					json_object_get(
						json_object_get(expected,
								"projects"),
						p->key),
					where, &edits, rep, err);
			if (rc != HC_OK || !sv || sv->v.type != 'o')
				continue;
			snprintf(where, sizeof(where),
				 "projects[\"%s\"].mcpServers", p->key);
			rc = migrate_obj(source, data, len, &sv->v,
					 json_object_get(jp, "mcpServers"),
					 where, p->key, expected, &edits, rep,
					 err);
		}
	if (rc == HC_OK)
		rc = dh_edits_apply(&edits, data, len, out, out_len, err);
	if (rc == HC_OK && edits.n &&
	    (rc = verify(source, *out, *out_len, expected, err)) != HC_OK) {
		free(*out);
		*out = NULL;
	}
	if (rc == HC_OK && edits_out) {
		*edits_out = edits;
		memset(&edits, 0, sizeof(edits));
	}
	dh_edits_release(&edits);
	node_free(&root);
	json_decref(doc);
	json_decref(expected);
	return rc;
}

/* ---- add ---------------------------------------------------------------------------- */

/* The whitespace that starts the line holding byte at. */
static void indent_of(const char *data, size_t at, char *out, size_t size)
{
	size_t b = at, n = 0;
	while (b > 0 && data[b - 1] != '\n' && data[b - 1] != '\r')
		b--;
	while (b + n < at && (data[b + n] == ' ' || data[b + n] == '\t') &&
	       n + 1 < size)
		n++;
	memcpy(out, data + b, n);
	out[n] = '\0';
}

/* value as JSON indented by unit spaces, every line after the first
 * prefixed with indent; compact when unit is 0. */
static char *format_value(const json_t *v, int unit, const char *indent,
			  const char *eol)
{
	char *raw = json_dumps(v, (unit ? JSON_INDENT(unit) : JSON_COMPACT) |
					  JSON_ENCODE_ANY);
	struct hc_buf b = HC_BUF_INIT(1 << 20);
	char *res;
	if (!raw)
		return NULL;
	for (const char *p = raw; *p; p++) {
		if (*p == '\n') {
			hc_buf_adds(&b, eol);
			hc_buf_adds(&b, indent);
		} else {
			hc_buf_addc(&b, *p);
		}
	}
	free(raw);
	hc_buf_add(&b, "", 0);
	res = hc_buf_detach(&b, NULL);
	return res ? res : strdup("");
}

/* Guess the indentation unit from the first member of the top object. */
static int guess_unit(const char *data, const struct jnode *root)
{
	char ind[64];
	if (root->nm == 0)
		return 2;
	indent_of(data, root->m[0].kstart, ind, sizeof(ind));
	if (ind[0] == '\t')
		return 2;
	/* a one-line file has its first key right after '{' */
	if (root->m[0].kstart > 0 && memchr(data, '\n', root->m[0].kstart) ==
					     NULL)
		return 0;
	return (int)strlen(ind) ? (int)strlen(ind) : 2;
}

/* Insert "key": value as the last member of object o. */
static int insert_member(struct dh_edits *e, const char *data,
			 const struct jnode *o, const char *key,
			 const json_t *v, int unit, const char *eol)
{
	char ind[128], close_ind[128], *val, *text = NULL;
	int rc;
	bool multiline = unit > 0;
	if (o->nm) {
		indent_of(data, o->m[0].kstart, ind, sizeof(ind));
		multiline = memchr(data + o->start, '\n',
				   o->m[0].kstart - o->start) != NULL ||
			    memchr(data + o->start, '\r',
				   o->m[0].kstart - o->start) != NULL;
	} else {
		indent_of(data, o->start, close_ind, sizeof(close_ind));
		snprintf(ind, sizeof(ind), "%s%*s", close_ind, unit, "");
	}
	val = format_value(v, multiline ? unit : 0, ind, eol);
	if (!val)
		return HC_ENOMEM;
	if (o->nm && multiline)
		rc = asprintf(&text, ",%s%s\"%s\": %s", eol, ind, key, val);
	else if (o->nm)
		rc = asprintf(&text, ", \"%s\": %s", key, val);
	else if (multiline)
		rc = asprintf(&text, "%s%s\"%s\": %s%s%s", eol, ind, key, val,
			      eol, close_ind);
	else
		rc = asprintf(&text, "\"%s\": %s", key, val);
	free(val);
	if (rc < 0)
		return HC_ENOMEM;
	rc = o->nm ? dh_edits_add(e, o->m[o->nm - 1].v.end, 0, text)
		   : dh_edits_add(e, o->start + 1, o->end - 1 - (o->start + 1),
				  text);
	free(text);
	return rc;
}

int dh_mcpcfg_add(const char *source, const char *data, size_t len,
		  const char *project, const struct dh_mcpcfg_entry *entries,
		  size_t n, char **out, size_t *out_len, struct dh_report *rep,
		  struct dh_edits *edits_out, struct hc_err *err)
{
	struct jnode root;
	struct dh_edits edits = { 0 };
	json_t *doc = NULL, *expected = NULL, *exp_parent, *exp_servers;
	const struct jnode *parent = &root;
	const struct jmember *servers;
	char where[600];
	struct dh_lines lines;
	json_t *new_servers = NULL;
	int unit, rc = load(source, data, len, &doc, &root, err);
	if (rc != HC_OK)
		return rc;
	expected = json_deep_copy(doc);
	exp_parent = expected;
	snprintf(where, sizeof(where), "mcpServers");
	if (project) {
		const struct jmember *ps = member(&root, "projects");
		const struct jmember *p = ps ? member(&ps->v, project) : NULL;
		if (!p || p->v.type != 'o') {
			rc = hc_err_at(err, HC_ENOTFOUND, source, 0, 0,
				       "no project \"%s\" in the file",
				       project);
			goto out;
		}
		parent = &p->v;
		exp_parent = json_object_get(json_object_get(expected,
							     "projects"),
					     project);
		snprintf(where, sizeof(where), "projects[\"%s\"].mcpServers",
			 project);
	}
	dh_lines_split(&lines, data, len);
	unit = guess_unit(data, &root);
	servers = member(parent, "mcpServers");
	if (servers && servers->v.type != 'o') {
		rc = hc_err_at(err, HC_EINVAL, source, 0, 0,
			       "%s is not an object", where);
		dh_lines_release(&lines);
		goto out;
	}
	exp_servers = json_object_get(exp_parent, "mcpServers");
	new_servers = exp_servers ? json_deep_copy(exp_servers) : json_object();
	for (size_t i = 0; rc == HC_OK && i < n; i++) {
		const struct jmember *have =
			servers ? member(&servers->v, entries[i].name) : NULL;
		if (have) {
			json_t *a = value_json(data, &have->v);
			bool same = a && json_equal(a, entries[i].value);
			json_decref(a);
			if (!same)
				rc = hc_err_at(err, HC_ECONFLICT, source, 0, 0,
					       "%s already has a different "
					       "\"%s\" entry; refusing to "
					       "replace it (nothing was "
					       "changed)",
					       where, entries[i].name);
			else
				dh_report_add(rep, false, source, 0,
					      "%s: \"%s\" is already "
					      "registered",
					      where, entries[i].name);
			continue;
		}
		json_object_set(new_servers, entries[i].name,
				(json_t *)entries[i].value);
		if (servers)
			rc = insert_member(&edits, data, &servers->v,
					   entries[i].name, entries[i].value,
					   unit, lines.eol);
		dh_report_add(rep, false, source, 0, "%s: added \"%s\"", where,
			      entries[i].name);
	}
	if (rc == HC_OK && !servers && json_object_size(new_servers))
		rc = insert_member(&edits, data, parent, "mcpServers",
				   new_servers, unit, lines.eol);
	dh_lines_release(&lines);
	if (rc != HC_OK)
		goto out;
	json_object_set(exp_parent, "mcpServers", new_servers);
	rc = dh_edits_apply(&edits, data, len, out, out_len, err);
	if (rc == HC_OK && edits.n &&
	    (rc = verify(source, *out, *out_len, expected, err)) != HC_OK) {
		free(*out);
		*out = NULL;
	}
	if (rc == HC_OK && edits_out) {
		*edits_out = edits;
		memset(&edits, 0, sizeof(edits));
	}
out:
	json_decref(new_servers);
	dh_edits_release(&edits);
	node_free(&root);
	json_decref(doc);
	json_decref(expected);
	return rc;
}
