/*
 * rules.c - the rule files dev-hub generates in registered repos:
 * .claude/rules/session-protocol.md, rendered from the project's template
 * (devhub/templates/session-protocol.md.tmpl, built into the binary) with
 * the repo's domain, name, the hub URLs and the orientation calls to make.
 *
 * Writing is confined to the repo: the target is a relative path without
 * "." or ".." segments, opened one directory at a time from the repo's
 * directory with O_NOFOLLOW, so a symbolic link anywhere on the way
 * (.claude -> /elsewhere) is refused rather than followed, also when it is
 * swapped in after the check. An unchanged file is not rewritten; a
 * changed one is replaced atomically (temporary file + rename in the same
 * directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devhub/devhub.h"
#include "devhub/fileedit.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

/* The template, built in (the Makefile makes rules.o depend on it). */
__asm__(".section .rodata\n"
	".global dh_session_template\n"
	".type dh_session_template, @object\n"
	"dh_session_template:\n"
	".incbin \"devhub/templates/session-protocol.md.tmpl\"\n"
	".global dh_session_template_end\n"
	"dh_session_template_end:\n"
	".byte 0\n"
	".previous\n");
extern const char dh_session_template[];
extern const char dh_session_template_end[];

const char *dh_rules_template(size_t *len)
{
	*len = (size_t)(dh_session_template_end - dh_session_template);
	return dh_session_template;
}

const char dh_rules_default_target[] = ".claude/rules/session-protocol.md";

/* Top-level entries that say a repo touches infrastructure. */
static const char *const infra_markers[] = {
	"Dockerfile", "docker-compose.yml", "docker-compose.yaml",
	"compose.yml", "compose.yaml", "k8s", "kubernetes", "helm",
	"charts", "terraform", "ansible", "infra", "deploy", NULL
};

/* ---- confined file access ---------------------------------------------------- */

/* A relative path of plain segments: no "", ".", ".." or absolute. */
int dh_rel_path_check(const char *rel, struct hc_err *err)
{
	const char *s = rel;
	if (!rel || !*rel || rel[0] == '/')
		return hc_err_field(err, HC_EBADREQ, "path",
				    "'%s' must be a relative path inside the "
				    "repo",
				    rel ? rel : "");
	while (*s) {
		size_t n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return hc_err_field(err, HC_EBADREQ, "path",
					    "'%s' escapes the repo: '.', '..' "
					    "and empty segments are refused",
					    rel);
		s += n;
		if (*s == '/')
			s++;
	}
	return HC_OK;
}

/*
 * Open the directory holding rel's last segment, from root, one segment at
 * a time without following links (creating missing directories when
 * create is set). *base points into rel at the last segment. -1 with err
 * filled on refusal; a missing directory without create is HC_ENOTFOUND.
 */
int dh_open_parent(const char *root, const char *rel, bool create,
		   const char **base, int *dirfd, struct hc_err *err)
{
	char seg[256];
	const char *s = rel;
	int fd, rc = dh_rel_path_check(rel, err);
	if (rc != HC_OK)
		return rc;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return hc_err_at(err, HC_EIO, root, 0, 0,
				 "the repo's path cannot be opened: %s",
				 strerror(errno));
	for (;;) {
		size_t n = strcspn(s, "/");
		struct stat st;
		int next;
		if (!s[n])
			break;
		if (n >= sizeof(seg)) {
			close(fd);
			return hc_err_field(err, HC_EBADREQ, "path",
					    "a segment of '%s' is too long",
					    rel);
		}
		memcpy(seg, s, n);
		seg[n] = '\0';
		if (fstatat(fd, seg, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT || !create) {
				rc = errno == ENOENT ? HC_ENOTFOUND : HC_EIO;
				close(fd);
				return hc_err_at(err, rc, root, 0, 0,
						 "%.*s: %s", (int)(s - rel + n),
						 rel, strerror(errno));
			}
			if (mkdirat(fd, seg, 0755) != 0 && errno != EEXIST) {
				close(fd);
				return hc_err_at(err, HC_EIO, root, 0, 0,
						 "cannot create %.*s: %s",
						 (int)(s - rel + n), rel,
						 strerror(errno));
			}
		} else if (S_ISLNK(st.st_mode)) {
			close(fd);
			return hc_err_field(err, HC_EBADREQ, "path",
					    "%s/%.*s is a symbolic link: "
					    "refusing to follow it out of the "
					    "repo",
					    root, (int)(s - rel + n), rel);
		}
		next = openat(fd, seg,
			      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return hc_err_field(err, HC_EBADREQ, "path",
					    "%s/%.*s is not a directory inside "
					    "the repo (%s)",
					    root, (int)(s - rel + n), rel,
					    strerror(errno));
		fd = next;
		s += n + 1;
	}
	*base = s;
	*dirfd = fd;
	return HC_OK;
}

/* Read the file base in dirfd without following a link: HC_ENOTFOUND when
 * it does not exist. */
static int read_at(int dirfd, const char *base, const char *shown,
		   char **data, size_t *len, mode_t *mode, struct hc_err *err)
{
	struct stat st;
	size_t n = 0;
	int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char *buf;
	if (fd < 0) {
		if (errno == ENOENT)
			return HC_ENOTFOUND;
		if (errno == ELOOP)
			return hc_err_field(err, HC_EBADREQ, "path",
					    "%s is a symbolic link: refusing "
					    "to follow it out of the repo",
					    shown);
		return hc_err_at(err, HC_EIO, shown, 0, 0, "cannot open: %s",
				 strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (16 << 20)) {
		close(fd);
		return hc_err_at(err, HC_EIO, shown, 0, 0,
				 "not a regular file of at most 16 MiB");
	}
	*mode = st.st_mode & 07777;
	buf = malloc((size_t)st.st_size + 1);
	while (buf && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!buf || n != (size_t)st.st_size) {
		free(buf);
		return hc_err_at(err, HC_EIO, shown, 0, 0, "cannot read");
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return HC_OK;
}

static int write_at(int dirfd, const char *base, const char *shown,
		    const char *data, size_t len, mode_t mode,
		    struct hc_err *err)
{
	char tmp[300], id[HC_UUID_LEN + 1];
	int fd;
	size_t off = 0;
	hc_uuid_v4(id);
	snprintf(tmp, sizeof(tmp), ".%.200s.%s.tmp", base, id);
	fd = openat(dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return hc_err_at(err, HC_EIO, shown, 0, 0,
				 "cannot create a temporary file: %s",
				 strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off != len || fchmod(fd, mode) != 0 || fsync(fd) != 0 ||
	    close(fd) != 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return hc_err_at(err, HC_EIO, shown, 0, 0, "cannot write: %s",
				 strerror(e));
	}
	if (renameat(dirfd, tmp, dirfd, base) != 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return hc_err_at(err, HC_EIO, shown, 0, 0,
				 "cannot rename into place: %s", strerror(e));
	}
	return HC_OK;
}

int dh_repo_file_exists(const char *root, const char *rel, bool *exists,
			struct hc_err *err)
{
	const char *base;
	struct stat st;
	int dirfd, rc = dh_open_parent(root, rel, false, &base, &dirfd, err);
	*exists = false;
	if (rc == HC_ENOTFOUND)
		return HC_OK;
	if (rc != HC_OK)
		return rc;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		*exists = S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
	close(dirfd);
	return HC_OK;
}

/* ---- rendering ---------------------------------------------------------------------- */

static void find_infra(const char *root, char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	for (const char *const *m = infra_markers; *m; m++) {
		bool there = false;
		struct hc_err e = { 0 };
		if (dh_repo_file_exists(root, *m, &there, &e) == HC_OK &&
		    there)
			n += (size_t)snprintf(out + n, n < size ? size - n : 0,
					      "%s%s", n ? ", " : "", *m);
	}
}

int dh_rules_render_repo(struct hc_conn *c, const json_t *repo,
			 const struct dh_rules_opts *o,
			 struct dh_rules_result *res, struct hc_err *err)
{
	const char *root = dh_repo_path(repo, o->host);
	const char *target = o->target ? o->target : dh_rules_default_target;
	const char *tmpl = o->template_text, *base;
	size_t tlen = o->template_len, len = 0, old_len = 0;
	char infra[300], *text = NULL, *old = NULL, *dname = NULL;
	mode_t mode = 0644;
	int dirfd = -1, rc;

	memset(res, 0, sizeof(*res));
	snprintf(res->repo, sizeof(res->repo), "%s", hc_json_str(repo, "name"));
	if (!root)
		return hc_err_field(err, HC_EINVAL, "default_path",
				    "repo %s has no path on this machine "
				    "(host_paths or default_path)",
				    res->repo);
	snprintf(res->path, sizeof(res->path), "%s/%s", root, target);
	if (!tmpl)
		tmpl = dh_rules_template(&tlen);
	find_infra(root, infra, sizeof(infra));
	hc_res_resolve(c, &hc_domain_resource, hc_json_str(repo, "domain"),
		       "name", &dname, &(struct hc_err){ 0 });
	{
		const struct dh_tvar vars[] = {
			{ "repo", res->repo },
			{ "domain", hc_json_str(repo, "domain") },
			{ "domain_name", dname },
			{ "repo_path", root },
			{ "dev_hub_url",
			  o->dev_url ? o->dev_url : "http://127.0.0.1:8001" },
			{ "ops_hub_url",
			  o->ops_url ? o->ops_url : "http://127.0.0.1:8002" },
			{ "infra", infra[0] ? "yes" : "" },
			{ "infra_markers", infra },
		};
		rc = dh_template_render(o->template_name ? o->template_name
							 : "session-protocol."
							   "md.tmpl",
					tmpl, tlen, vars, HC_COUNT(vars), &text,
					&len, err);
	}
	free(dname);
	if (rc != HC_OK)
		return rc;
	rc = dh_open_parent(root, target, !o->dry_run, &base, &dirfd, err);
	if (rc == HC_ENOTFOUND && o->dry_run) {
		res->outcome = DH_RULES_CREATED;
		rc = HC_OK;
		goto out;
	}
	if (rc != HC_OK)
		goto out;
	rc = read_at(dirfd, base, res->path, &old, &old_len, &mode, err);
	if (rc == HC_ENOTFOUND) {
		res->outcome = DH_RULES_CREATED;
		rc = HC_OK;
	} else if (rc == HC_OK) {
		res->outcome = old_len == len && memcmp(old, text, len) == 0
				       ? DH_RULES_UNCHANGED
				       : DH_RULES_UPDATED;
	}
	if (rc == HC_OK && !o->dry_run && res->outcome != DH_RULES_UNCHANGED)
		rc = write_at(dirfd, base, res->path, text, len, mode, err);
out:
	if (dirfd >= 0)
		close(dirfd);
	free(old);
	free(text);
	return rc;
}

const char *dh_rules_outcome_name(enum dh_rules_outcome o)
{
	return o == DH_RULES_CREATED   ? "created"
	       : o == DH_RULES_UPDATED ? "updated"
				       : "unchanged";
}
