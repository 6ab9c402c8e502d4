/*
 * admin.c - editing the IdP's YAML file in place for the admin commands
 * (add a user or a client, enrol TOTP), keeping every other byte: libyaml's
 * event marks say where a list or a mapping ends, and new text goes in
 * there, with the indentation the file already uses. The edited file is
 * loaded as a configuration before it replaces the old one (through a
 * temporary file and rename, with a backup), so an edit can never leave a
 * file the IdP refuses.
 *
 * Also the Keycloak realm export, so that production can be set up from
 * the same file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "hubcore/buf.h"
#include "idp/idp.h"
#include "idp/idp_admin.h"

static int read_file(const char *path, struct hc_buf *b, struct hc_err *err)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	if (!f)
		return hc_err_at(err, HC_EIO, path, 0, 0, "cannot read: %s",
				 strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (hc_buf_add(b, chunk, n) != HC_OK) {
			fclose(f);
			return hc_err_at(err, HC_ETOOBIG, path, 0, 0,
					 "too large");
		}
	fclose(f);
	return HC_OK;
}

/* A mark at the first non-blank of a line means "this line": move it to
 * the line's start, so that text inserted there keeps that line whole. */
static size_t line_start(const char *text, size_t at)
{
	size_t i = at;
	while (i > 0 && text[i - 1] == ' ')
		i--;
	return i == 0 || text[i - 1] == '\n' ? i : at;
}

/* Positions found in the file. */
struct spots {
	size_t list_end;   /* where to append to the list of `list_key` */
	int item_indent;   /* column of its "- ", or -1 */
	bool list_found;
	bool list_flow;
	size_t user_end;   /* where to append to the mapping of the user */
	int user_key_indent;
	bool user_found;
	bool user_has_totp;
};

/*
 * Walk the events: the top-level key list_key's block sequence, and in it
 * the mapping whose "username" (or "client_id") is name.
 */
static int find(const char *text, size_t len, const char *list_key,
		const char *id_key, const char *name, struct spots *s,
		struct hc_err *err, const char *path)
{
	yaml_parser_t p;
	yaml_event_t e;
	int depth = 0, rc = HC_OK;
	bool next_is_list = false, in_list = false, want_value = false;
	bool in_item = false, item_matches = false, key_turn = true;
	int item_depth = 0, documents = 0;
	const char *last_key = NULL;
	char keybuf[128] = "";

	memset(s, 0, sizeof(*s));
	s->item_indent = -1;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &e)) {
			rc = hc_err_at(err, HC_EPARSE, path,
				       (int)p.problem_mark.line + 1, 0,
				       "invalid YAML: %s",
				       p.problem ? p.problem : "?");
			break;
		}
		if (e.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&e);
			break;
		}
		/* the IdP reads one document: an edit of another one would
		 * be lost on it */
		if (e.type == YAML_DOCUMENT_START_EVENT && ++documents > 1) {
			rc = hc_err_at(err, HC_EPARSE, path,
				       (int)e.start_mark.line + 1, 0,
				       "a second YAML document: the IdP's "
				       "file holds one, so it is not edited");
			yaml_event_delete(&e);
			break;
		}
		/* a mapping or list as the value of a key (top level, or in
		 * an item): that value is taken, the next scalar is a key */
		if (e.type == YAML_MAPPING_START_EVENT ||
		    e.type == YAML_SEQUENCE_START_EVENT) {
			if (in_item && depth == item_depth + 1 && want_value)
				want_value = false;
			if (depth == 1 && !key_turn)
				key_turn = true;
		}
		switch (e.type) {
		case YAML_MAPPING_START_EVENT:
			depth++;
			if (in_list && depth == item_depth + 1 && !in_item) {
				in_item = true;
				item_matches = false;
				key_turn = true;
			}
			if (depth == 1)
				key_turn = true;
			break;
		case YAML_MAPPING_END_EVENT:
			if (in_item && depth == item_depth + 1) {
				if (item_matches) {
					s->user_found = true;
					s->user_end = e.start_mark.index;
				}
				in_item = false;
			}
			depth--;
			break;
		case YAML_SEQUENCE_START_EVENT:
			depth++;
			if (next_is_list) {
				in_list = true;
				item_depth = depth;
				s->list_found = true;
				s->list_flow = e.data.sequence_start.style ==
					       YAML_FLOW_SEQUENCE_STYLE;
			}
			next_is_list = false;
			break;
		case YAML_SEQUENCE_END_EVENT:
			if (in_list && depth == item_depth) {
				s->list_end = e.start_mark.index;
				in_list = false;
			}
			depth--;
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)e.data.scalar.value;
			if (depth == 1) {
				if (key_turn) {
					next_is_list = strcmp(v, list_key) == 0;
					key_turn = false;
				} else {
					key_turn = true;
				}
				break;
			}
			if (in_item && depth == item_depth + 1) {
				if (!want_value) {
					snprintf(keybuf, sizeof(keybuf), "%s",
						 v);
					last_key = keybuf;
					want_value = true;
					if (strcmp(v, "totp_secret") == 0 &&
					    item_matches)
						s->user_has_totp = true;
					if (s->user_key_indent == 0 ||
					    !item_matches)
						s->user_key_indent =
							(int)e.start_mark
								.column;
				} else {
					if (last_key &&
					    strcmp(last_key, id_key) == 0 &&
					    name && strcmp(v, name) == 0)
						item_matches = true;
					want_value = false;
				}
			}
			break;
		}
		default:
			break;
		}
		/* the column of the first item's "- " */
		if (in_list && s->item_indent < 0 &&
		    e.type == YAML_MAPPING_START_EVENT && depth == item_depth + 1)
			s->item_indent = (int)e.start_mark.column - 2;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	if (rc == HC_OK) {
		if (s->list_found && !s->list_flow)
			s->list_end = line_start(text, s->list_end);
		if (s->user_found)
			s->user_end = line_start(text, s->user_end);
	}
	return rc;
}

void idp_yaml_quote(struct hc_buf *b, const char *s)
{
	hc_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			hc_buf_addf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			hc_buf_addf(b, "\\x%02x", c);
		else
			hc_buf_addc(b, (char)c);
	}
	hc_buf_addc(b, '"');
}

/*
 * The file an edit changes: path itself, or the file a symbolic link
 * points to, so that the link stays a link (and the temporary file and
 * the backup go beside the real file, where the rename can replace it).
 * A new string.
 */
static int edit_target(const char *path, char **out, struct hc_err *err)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return hc_err_at(err, HC_EIO, path, 0, 0, "cannot read: %s",
				 strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		char *real = realpath(path, NULL);
		if (!real)
			return hc_err_at(err, HC_EIO, path, 0, 0,
					 "a symbolic link that cannot be "
					 "followed: %s",
					 strerror(errno));
		if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(real);
			return hc_err_at(err, HC_EUSAGE, path, 0, 0,
					 "a symbolic link to something other "
					 "than a file");
		}
		*out = real;
	} else if (!S_ISREG(st.st_mode)) {
		return hc_err_at(err, HC_EUSAGE, path, 0, 0, "not a file");
	} else {
		*out = strdup(path);
	}
	return *out ? HC_OK : hc_err_set(err, HC_ENOMEM, "out of memory");
}

/* Replace the file with new content, keeping a backup and checking that
 * the result is a configuration the IdP accepts. path is a file, not a
 * link (edit_target). */
static int commit(const char *path, const char *text, size_t len,
		  struct hc_err *err)
{
	char tmp[4200], bak[4200];
	struct idp_config *cfg = NULL;
	struct stat st;
	int fd, rc;
	time_t now = time(NULL);
	struct tm tm;

	/* a name of this process only, created new: never through a link
	 * someone left there, never over another edit's file */
	snprintf(tmp, sizeof(tmp), "%s.%ld.new", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return hc_err_set(err, HC_EIO, "cannot create %s: %s", tmp,
				  strerror(errno));
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return hc_err_set(err, HC_EIO, "cannot write %s: %s", tmp,
				  strerror(e));
	}
	close(fd);
	rc = idp_config_load(tmp, &cfg, err);
	idp_config_unref(cfg);
	if (rc != HC_OK) {
		unlink(tmp);
		return hc_err_prefix(err, "the edited file would be refused");
	}
	gmtime_r(&now, &tm);
	snprintf(bak, sizeof(bak), "%s.%04d%02d%02dT%02d%02d%02dZ.bak", path,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	if (stat(path, &st) == 0)
		chmod(tmp, st.st_mode & 0777);
	if (link(path, bak) != 0 && errno != EEXIST) {
		int e = errno;
		unlink(tmp);
		return hc_err_set(err, HC_EIO, "cannot keep a backup %s: %s",
				  bak, strerror(e));
	}
	if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return hc_err_set(err, HC_EIO, "cannot replace %s: %s", path,
				  strerror(e));
	}
	return HC_OK;
}

/* Insert item (lines without indentation, first one starting "- ") into
 * the list list_key, or make the list. */
static int insert_item(const char *link_path, const char *list_key,
		       const char *id_key, const char *id, const char *item,
		       struct hc_err *err)
{
	struct hc_buf in = HC_BUF_INIT(16 * 1024 * 1024);
	struct hc_buf out = HC_BUF_INIT(17 * 1024 * 1024);
	struct spots s;
	char *path = NULL;
	int rc = edit_target(link_path, &path, err), indent;
	if (rc == HC_OK)
		rc = read_file(path, &in, err);
	if (rc == HC_OK)
		rc = find(in.data, in.len, list_key, id_key, id, &s, err,
			  path);
	if (rc != HC_OK)
		goto out;
	if (s.user_found) {
		rc = hc_err_set(err, HC_ECONFLICT, "%s '%s' already exists in %s",
				id_key, id, path);
		goto out;
	}
	if (s.list_flow) {
		rc = hc_err_set(err, HC_EUSAGE,
				"'%s' in %s is written in flow style ([...]); "
				"write it as a block list to edit it here",
				list_key, path);
		goto out;
	}
	indent = s.item_indent >= 0 ? s.item_indent : 2;
	if (s.list_found) {
		hc_buf_add(&out, in.data, s.list_end);
		/* the list may end without a newline at end of file */
		if (s.list_end && in.data[s.list_end - 1] != '\n')
			hc_buf_addc(&out, '\n');
	} else {
		hc_buf_add(&out, in.data, in.len);
		if (in.len && in.data[in.len - 1] != '\n')
			hc_buf_addc(&out, '\n');
		hc_buf_addf(&out, "%s:\n", list_key);
	}
	for (const char *l = item; *l;) {
		size_t n = strcspn(l, "\n");
		hc_buf_addf(&out, "%*s%s%.*s\n", indent, "",
			    l == item ? "" : "  ", (int)n, l);
		l += n + (l[n] == '\n');
	}
	if (s.list_found)
		hc_buf_add(&out, in.data + s.list_end, in.len - s.list_end);
	rc = commit(path, out.data, out.len, err);
out:
	free(path);
	hc_buf_release(&in);
	hc_buf_release(&out);
	return rc;
}

int idp_admin_add_user(const char *path, const char *username,
		       const char *password_hash, const char *name,
		       const char *email, const struct idp_strings *roles,
		       const struct idp_strings *groups, struct hc_err *err)
{
	struct hc_buf item = HC_BUF_INIT(64 * 1024);
	int rc;
	if (!username || !*username)
		return hc_err_set(err, HC_EUSAGE, "a username must not be "
						  "empty");
	hc_buf_adds(&item, "- username: ");
	idp_yaml_quote(&item, username);
	hc_buf_adds(&item, "\npassword_hash: ");
	idp_yaml_quote(&item, password_hash);
	hc_buf_addc(&item, '\n');
	if (name) {
		hc_buf_adds(&item, "name: ");
		idp_yaml_quote(&item, name);
		hc_buf_addc(&item, '\n');
	}
	if (email) {
		hc_buf_adds(&item, "email: ");
		idp_yaml_quote(&item, email);
		hc_buf_addc(&item, '\n');
	}
	if (roles->n) {
		hc_buf_adds(&item, "roles: [");
		for (size_t i = 0; i < roles->n; i++) {
			hc_buf_adds(&item, i ? ", " : "");
			idp_yaml_quote(&item, roles->v[i]);
		}
		hc_buf_adds(&item, "]\n");
	}
	if (groups->n) {
		hc_buf_adds(&item, "groups: [");
		for (size_t i = 0; i < groups->n; i++) {
			hc_buf_adds(&item, i ? ", " : "");
			idp_yaml_quote(&item, groups->v[i]);
		}
		hc_buf_adds(&item, "]\n");
	}
	rc = insert_item(path, "users", "username", username, item.data, err);
	hc_buf_release(&item);
	return rc;
}

int idp_admin_add_client(const char *path, const char *text_item,
			 const char *client_id, bool service,
			 struct hc_err *err)
{
	return insert_item(path, service ? "service_accounts" : "clients",
			   "client_id", client_id, text_item, err);
}

int idp_admin_set_totp(const char *link_path, const char *username,
		       const char *secret, struct hc_err *err)
{
	struct hc_buf in = HC_BUF_INIT(16 * 1024 * 1024);
	struct hc_buf out = HC_BUF_INIT(17 * 1024 * 1024);
	struct spots s;
	char *path = NULL;
	int rc = edit_target(link_path, &path, err);
	if (rc == HC_OK)
		rc = read_file(path, &in, err);
	if (rc == HC_OK)
		rc = find(in.data, in.len, "users", "username", username, &s,
			  err, path);
	if (rc != HC_OK)
		goto out;
	if (!s.user_found) {
		rc = hc_err_set(err, HC_ENOTFOUND, "no user '%s' in %s",
				username, path);
		goto out;
	}
	if (s.user_has_totp) {
		rc = hc_err_set(err, HC_ECONFLICT,
				"user '%s' already has a totp_secret; remove it "
				"first to enrol again",
				username);
		goto out;
	}
	hc_buf_add(&out, in.data, s.user_end);
	if (s.user_end && in.data[s.user_end - 1] != '\n')
		hc_buf_addc(&out, '\n');
	hc_buf_addf(&out, "%*stotp_secret: \"%s\"\n", s.user_key_indent, "",
		    secret);
	hc_buf_add(&out, in.data + s.user_end, in.len - s.user_end);
	rc = commit(path, out.data, out.len, err);
out:
	free(path);
	hc_buf_release(&in);
	hc_buf_release(&out);
	return rc;
}

/* ---- Keycloak realm export --------------------------------------------------------- */

static json_t *strs(const struct idp_strings *s, const char *prefix)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, json_sprintf("%s%s", prefix,
						      s->v[i]));
	return a;
}

static void add_unique(json_t *names, const struct idp_strings *s)
{
	for (size_t i = 0; i < s->n; i++) {
		bool have = false;
		size_t k;
		json_t *v;
		json_array_foreach(names, k, v)
			have = have || strcmp(json_string_value(v), s->v[i]) == 0;
		if (!have)
			json_array_append_new(names, json_string(s->v[i]));
	}
}

int idp_keycloak_realm(const struct idp_config *cfg, const char *realm,
		       json_t **out, struct hc_err *err)
{
	json_t *role_names = json_array(), *group_names = json_array();
	json_t *roles = json_array(), *groups = json_array();
	json_t *users = json_array(), *clients = json_array(), *r, *v;
	size_t i;

	for (i = 0; i < cfg->nusers; i++) {
		const struct idp_user *u = &cfg->users[i];
		json_t *ju;
		add_unique(role_names, &u->roles);
		add_unique(group_names, &u->groups);
		/* no credentials: passwords and TOTP are set in Keycloak */
		ju = json_pack("{sssbsbsoso}", "username", u->username,
			       "enabled", !u->disabled, "emailVerified",
			       u->email != NULL, "realmRoles",
			       strs(&u->roles, ""), "groups",
			       strs(&u->groups, "/"));
		if (u->email)
			json_object_set_new(ju, "email", json_string(u->email));
		if (u->name)
			json_object_set_new(ju, "firstName",
					    json_string(u->name));
		if (u->totp_secret)
			json_object_set_new(ju, "requiredActions",
					    json_pack("[s]", "CONFIGURE_TOTP"));
		json_array_append_new(users, ju);
	}
	for (i = 0; i < cfg->nclients; i++) {
		const struct idp_client *c = &cfg->clients[i];
		bool code = idp_strings_has(&c->grant_types,
					    "authorization_code");
		bool cc = idp_strings_has(&c->grant_types,
					  "client_credentials");
		struct hc_buf post = HC_BUF_INIT(64 * 1024);
		json_t *jc, *mappers = json_array();
		add_unique(role_names, &c->roles);
		for (size_t k = 0; k < c->post_logout_redirect_uris.n; k++)
			hc_buf_addf(&post, "%s%s", k ? "##" : "",
				    c->post_logout_redirect_uris.v[k]);
		if (c->default_audience)
			json_array_append_new(
				mappers,
				json_pack("{sssssss{ssssss}}", "name",
					  "audience", "protocol",
					  "openid-connect", "protocolMapper",
					  "oidc-audience-mapper", "config",
					  "included.custom.audience",
					  c->default_audience,
					  "access.token.claim", "true",
					  "id.token.claim", "false"));
		jc = json_pack("{sssbsssbsbsbsbsos{ssss}so}", "clientId",
			       c->client_id, "enabled", 1, "protocol",
			       "openid-connect", "publicClient",
			       c->public_client, "standardFlowEnabled", code,
			       "serviceAccountsEnabled", cc,
			       "directAccessGrantsEnabled", 0, "redirectUris",
			       strs(&c->redirect_uris, ""), "attributes",
			       "pkce.code.challenge.method", "S256",
			       "post.logout.redirect.uris",
			       post.data ? post.data : "", "protocolMappers",
			       mappers);
		hc_buf_release(&post);
		if (c->name)
			json_object_set_new(jc, "name", json_string(c->name));
		json_array_append_new(clients, jc);
		if (cc) {
			char sa[300];
			snprintf(sa, sizeof(sa), "service-account-%s",
				 c->client_id);
			json_array_append_new(
				users, json_pack("{sssbssso}", "username", sa,
						 "enabled", 1,
						 "serviceAccountClientId",
						 c->client_id, "realmRoles",
						 strs(&c->roles, "")));
		}
	}
	json_array_foreach(role_names, i, v)
		json_array_append_new(roles, json_pack("{sO}", "name", v));
	json_array_foreach(group_names, i, v)
		json_array_append_new(
			groups, json_pack("{sOso}", "name", v, "path",
					  json_sprintf("/%s",
						       json_string_value(v))));
	r = json_pack("{sssbs{so}sososo}", "realm", realm, "enabled", 1,
		      "roles", "realm", roles, "groups", groups, "users", users,
		      "clients", clients);
	json_decref(role_names);
	json_decref(group_names);
	if (!r)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	*out = r;
	return HC_OK;
}
