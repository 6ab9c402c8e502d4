/*
 * policy.c - the policy documents of a hub: list, read and atomic write of
 * the files of one directory, never reaching outside it (see
 * hubcore/policy.h).
 *
 * Two defences, each enough on its own for a path that passed
 * hc_policy_check_path: the path is resolved with realpath() and must stay
 * beneath the directory's own realpath, so a symbolic link is followed only
 * while it points inside; and the resolved path is then opened one
 * component at a time from a descriptor of the directory with O_NOFOLLOW,
 * so a component replaced by a link between the two steps is refused
 * rather than followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/policy.h"
#include "hubcore/util.h"

#define PATH_BYTES_MAX 1024
#define SEGMENTS_MAX 32
#define SEGMENT_MAX 255
#define LIST_MAX 10000

/* The policy directory of a request: its real path and a descriptor. */
struct root {
	char real[PATH_MAX];
	size_t len;
	int fd;
};

static int no_dir(struct hc_err *err)
{
	return hc_err_set(err, HC_ENOTFOUND, "no policy directory configured");
}

/* A refused path: 400 naming it, field "path". */
static int bad_path(struct hc_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad_path(struct hc_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hc_err_vset(err, HC_EBADREQ, fmt, ap);
	va_end(ap);
	if (err)
		snprintf(err->field, sizeof(err->field), "path");
	return HC_EBADREQ;
}

int hc_policy_check_path(const char *path, struct hc_err *err)
{
	size_t segments = 0;
	const char *p = path;

	if (!path || !*path)
		return hc_err_field(err, HC_EBADREQ, "path",
				    "a policy path must not be empty");
	if (strlen(path) > PATH_BYTES_MAX)
		return hc_err_field(err, HC_EBADREQ, "path",
				    "policy path '%.64s...' is longer than %d "
				    "bytes",
				    path, PATH_BYTES_MAX);
	if (path[0] == '/')
		return bad_path(err,
				"policy path '%s' must be relative to the "
				"policy directory, not absolute",
				path);
	for (;;) {
		size_t n = strcspn(p, "/");
		if (n == 0)
			return bad_path(err,
					"policy path '%s' has an empty segment",
					path);
		if (p[0] == '.')
			return bad_path(err,
					"policy path '%s' has a segment "
					"starting with '.' (no '.', '..' or "
					"hidden files)",
					path);
		if (n > SEGMENT_MAX)
			return bad_path(err,
					"policy path '%s' has a segment longer "
					"than 255 bytes",
					path);
		if (++segments > SEGMENTS_MAX)
			return bad_path(err,
					"policy path '%s' is more than 32 "
					"segments deep",
					path);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c < 0x20 || c == 0x7f)
				return bad_path(err,
						"policy path '%s' contains a "
						"control character",
						path);
			/* '%' is an escape the server left undecoded, as
			 * it does %00 */
			if (c == '\\' || c == '%')
				return hc_err_field(err, HC_EBADREQ, "path",
						    "policy path '%s' contains "
						    "'%c', which is not allowed",
						    path, c);
		}
		if (!p[n])
			return HC_OK;
		p += n + 1;
	}
}

const char *hc_policy_media_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && !strchr(dot, '/') &&
	    (strcasecmp(dot, ".md") == 0 || strcasecmp(dot, ".markdown") == 0))
		return "text/markdown; charset=utf-8";
	return "text/plain; charset=utf-8";
}

int hc_policy_check_dir(const char *dir, struct hc_err *err)
{
	struct stat st;
	if (!dir || !*dir)
		return hc_err_field(err, HC_EUSAGE, "policy_dir",
				    "the policy directory must not be empty");
	if (stat(dir, &st) != 0)
		return hc_err_field(err, HC_EUSAGE, "policy_dir",
				    "policy directory '%s': %s", dir,
				    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return hc_err_field(err, HC_EUSAGE, "policy_dir",
				    "policy directory '%s' is not a directory",
				    dir);
	if (access(dir, R_OK | X_OK) != 0)
		return hc_err_field(err, HC_EUSAGE, "policy_dir",
				    "policy directory '%s' is not readable",
				    dir);
	return HC_OK;
}

static int open_root(const struct hc_hub *hub, struct root *rt,
		     struct hc_err *err)
{
	const char *dir = hub->config.policy_dir;
	rt->fd = -1;
	if (!dir || !*dir)
		return no_dir(err);
	if (!realpath(dir, rt->real))
		return hc_err_set(err, HC_EIO,
				  "the policy directory is not available: %s",
				  strerror(errno));
	rt->len = strlen(rt->real);
	rt->fd = open(rt->real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rt->fd < 0)
		return hc_err_set(err, HC_EIO,
				  "the policy directory cannot be opened: %s",
				  strerror(errno));
	return HC_OK;
}

static void close_root(struct root *rt)
{
	if (rt->fd >= 0)
		close(rt->fd);
	rt->fd = -1;
}

/* The part of an absolute real path below the root ("" for the root
 * itself), or NULL when it is not below it. */
static const char *beneath(const struct root *rt, const char *real)
{
	if (rt->len == 1) /* the root directory is "/" */
		return real + 1;
	if (strncmp(real, rt->real, rt->len) != 0)
		return NULL;
	if (real[rt->len] == '\0')
		return real + rt->len;
	return real[rt->len] == '/' ? real + rt->len + 1 : NULL;
}

/*
 * Open the directory dir (relative to the root, "" for the root) one
 * component at a time without following links, creating missing ones when
 * create is set. *out is a new descriptor.
 */
static int open_dir(const struct root *rt, const char *dir, bool create,
		    const char *path, int *out, struct hc_err *err)
{
	char seg[SEGMENT_MAX + 1];
	int fd = dup(rt->fd);
	const char *p = dir;

	if (fd < 0)
		return hc_err_set(err, HC_EIO, "dup: %s", strerror(errno));
	while (*p) {
		size_t n = strcspn(p, "/");
		int next;
		if (n > SEGMENT_MAX) {
			close(fd);
			return bad_path(err, "policy path '%s' is too long",
					path);
		}
		memcpy(seg, p, n);
		seg[n] = '\0';
		next = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					       O_CLOEXEC);
		if (next < 0 && errno == ENOTDIR) {
			/* a link may be reported as not a directory */
			struct stat st;
			if (fstatat(fd, seg, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				errno = ELOOP;
			else
				errno = ENOTDIR;
		}
		if (next < 0 && errno == ENOENT && create &&
		    (mkdirat(fd, seg, 0755) == 0 || errno == EEXIST))
			next = openat(fd, seg, O_RDONLY | O_DIRECTORY |
						       O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = errno;
			close(fd);
			if (e == ENOENT)
				return hc_err_field(err, HC_ENOTFOUND, "path",
						    "no policy file '%s'",
						    path);
			if (e == ELOOP)
				return bad_path(err,
						"policy path '%s' passes "
						"through a symbolic link that "
						"cannot be followed safely",
						path);
			if (e == ENOTDIR)
				return hc_err_field(err, HC_ECONFLICT, "path",
						    "policy path '%s': '%.*s' is "
						    "not a directory",
						    path, (int)n, p);
			return hc_err_set(err, HC_EIO,
					  "policy path '%s': %s", path,
					  strerror(e));
		}
		close(fd);
		fd = next;
		p += n;
		if (*p == '/')
			p++;
	}
	*out = fd;
	return HC_OK;
}

/* Split "a/b/c.md" into "a/b" and "c.md" in place; name points into rel. */
static void split(char *rel, const char **name)
{
	char *slash = strrchr(rel, '/');
	if (slash) {
		*slash = '\0';
		*name = slash + 1;
	} else {
		*name = rel;
	}
}

/*
 * Where path leads: the real path of the deepest part of it that exists
 * (so links inside the directory are followed, and must stay inside),
 * followed by the parts that do not exist yet. rel receives it, below the
 * root. This is where a write goes, and it tells a read whether a path
 * that names nothing would lead outside.
 */
static int resolve_target(const struct root *rt, const char *path,
			  char rel[PATH_MAX], struct hc_err *err)
{
	char prefix[PATH_MAX], real[PATH_MAX];
	size_t plen = strlen(path), cut = plen;
	const char *below;

	for (;;) {
		if (snprintf(prefix, sizeof(prefix), "%s/%.*s", rt->real,
			     (int)cut, path) >= (int)sizeof(prefix))
			return bad_path(err, "policy path '%s' is too long",
					path);
		if (realpath(prefix, real))
			break;
		if (errno == ENOTDIR)
			return hc_err_field(err, HC_ECONFLICT, "path",
					    "policy path '%s': a part of it "
					    "is a file, not a directory",
					    path);
		if (errno != ENOENT)
			return bad_path(err, "policy path '%s' cannot be "
					     "resolved (a symbolic link loop "
					     "or no access)",
					path);
		if (cut == 0)
			return hc_err_set(err, HC_EIO,
					  "the policy directory is not "
					  "available");
		/* one segment less: "a/b/c.md" -> "a/b" -> "a" -> "" */
		while (cut > 0 && path[cut - 1] != '/')
			cut--;
		if (cut > 0)
			cut--;
	}
	below = beneath(rt, real);
	if (!below)
		return bad_path(err,
				"policy path '%s' leads outside the policy "
				"directory",
				path);
	if (snprintf(rel, PATH_MAX, "%s%s%s", below,
		     *below && cut < plen ? "/" : "",
		     cut < plen ? path + cut + (cut > 0) : "") >= PATH_MAX)
		return bad_path(err, "policy path '%s' is too long", path);
	if (!*rel)
		return hc_err_field(err, HC_ECONFLICT, "path",
				    "policy path '%s' is the policy directory "
				    "itself",
				    path);
	return HC_OK;
}

/* ---- reading ------------------------------------------------------------ */

/* The resolved path of an existing file, below the root, in rel. */
static int resolve_existing(const struct root *rt, const char *path,
			    char rel[PATH_MAX], struct hc_err *err)
{
	char full[PATH_MAX], real[PATH_MAX];
	const char *below;
	if (snprintf(full, sizeof(full), "%s/%s", rt->real, path) >=
	    (int)sizeof(full))
		return bad_path(err, "policy path '%s' is too long", path);
	if (!realpath(full, real)) {
		struct hc_err e2 = { 0 };
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			return hc_err_set(err, HC_EIO, "policy path '%s': %s",
					  path, strerror(errno));
		/* nothing there; but say so only for a path that stays
		 * inside, as a write would refuse the others */
		if (resolve_target(rt, path, real, &e2) == HC_EBADREQ) {
			*err = e2;
			return HC_EBADREQ;
		}
		return hc_err_field(err, HC_ENOTFOUND, "path",
				    "no policy file '%s'", path);
	}
	below = beneath(rt, real);
	if (!below)
		return bad_path(err,
				"policy path '%s' leads outside the policy "
				"directory",
				path);
	if (!*below)
		return hc_err_field(err, HC_ENOTFOUND, "path",
				    "policy path '%s' is a directory, not a "
				    "file",
				    path);
	snprintf(rel, PATH_MAX, "%s", below);
	return HC_OK;
}

/* Open the regular file at rel (resolved, below the root) for reading. */
static int open_file(const struct root *rt, char *rel, const char *path,
		     int *out, struct stat *st, struct hc_err *err)
{
	const char *name;
	int dfd = -1, fd;
	int rc;

	split(rel, &name);
	rc = open_dir(rt, name == rel ? "" : rel, false, path, &dfd, err);
	if (rc != HC_OK)
		return rc;
	/* O_NONBLOCK: a FIFO must not stall the request */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		close(dfd);
		if (e == ELOOP)
			return bad_path(err,
					"policy path '%s' passes through a "
					"symbolic link that cannot be followed "
					"safely",
					path);
		if (e == ENOENT)
			return hc_err_field(err, HC_ENOTFOUND, "path",
					    "no policy file '%s'", path);
		return hc_err_set(err, HC_EIO, "policy path '%s': %s", path,
				  strerror(e));
	}
	close(dfd);
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return hc_err_field(err, HC_ENOTFOUND, "path",
				    "policy path '%s' is not a regular file",
				    path);
	}
	*out = fd;
	return HC_OK;
}

int hc_policy_read(const struct hc_hub *hub, const char *path,
		   char **content, size_t *len, const char **media_type,
		   struct hc_err *err)
{
	struct root rt;
	struct stat st;
	char rel[PATH_MAX];
	char *buf = NULL;
	size_t got = 0;
	int fd = -1;
	int rc = open_root(hub, &rt, err);

	if (rc == HC_OK)
		rc = hc_policy_check_path(path, err);
	if (rc == HC_OK)
		rc = resolve_existing(&rt, path, rel, err);
	if (rc == HC_OK)
		rc = open_file(&rt, rel, path, &fd, &st, err);
	if (rc != HC_OK)
		goto out;
	if (st.st_size > HC_POLICY_MAX_READ) {
		rc = hc_err_set(err, HC_EIO,
				"policy file '%s' is larger than %d bytes and "
				"is not served",
				path, HC_POLICY_MAX_READ);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	/* Read what fstat promised; a file growing meanwhile is cut there. */
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hc_err_set(err, HC_EIO, "policy file '%s': %s",
					path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*content = buf;
	*len = got;
	*media_type = hc_policy_media_type(path);
	buf = NULL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	close_root(&rt);
	return rc;
}

int hc_policy_get(const struct hc_hub *hub, const char *path, json_t **out,
		  struct hc_err *err)
{
	const char *type = NULL;
	char *content = NULL;
	size_t len = 0;
	json_t *text, *res;
	int rc = hc_policy_read(hub, path, &content, &len, &type, err);
	if (rc != HC_OK)
		return rc;
	/* jansson checks UTF-8 and refuses NUL bytes */
	text = json_stringn(content, len);
	free(content);
	if (!text)
		return hc_err_field(err, HC_EINVAL, "path",
				    "policy file '%s' is not UTF-8 text; ask "
				    "for it without Accept: application/json",
				    path);
	res = json_pack("{sssssIso}", "path", path, "media_type", type,
			"size", (json_int_t)len, "content", text);
	if (!res)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	*out = res;
	return HC_OK;
}

/* ---- listing ------------------------------------------------------------ */

struct listing {
	const struct root *rt;
	json_t *items;
	bool truncated;
};

static int add_item(struct listing *l, const char *rel, const struct stat *st,
		    struct hc_err *err)
{
	char modified[HC_TIME_LEN + 1];
	json_t *item;
	if (json_array_size(l->items) >= LIST_MAX) {
		l->truncated = true;
		return HC_OK;
	}
	hc_time_format(&st->st_mtim, modified);
	item = json_pack("{sssIssss}", "path", rel, "size",
			 (json_int_t)st->st_size, "modified", modified,
			 "media_type", hc_policy_media_type(rel));
	/* a name that is not UTF-8 cannot be a JSON string: skip it */
	if (item && !json_array_append_new(l->items, item))
		return HC_OK;
	return item ? hc_err_set(err, HC_ENOMEM, "out of memory") : HC_OK;
}

/* A link found while listing is listed when it leads to a regular file
 * inside the directory, like a read would. */
static bool link_inside(const struct root *rt, const char *rel,
			struct stat *st)
{
	char full[PATH_MAX], real[PATH_MAX];
	if (snprintf(full, sizeof(full), "%s/%s", rt->real, rel) >=
	    (int)sizeof(full))
		return false;
	if (!realpath(full, real))
		return false;
	return beneath(rt, real) && *beneath(rt, real) &&
	       stat(real, st) == 0 && S_ISREG(st->st_mode);
}

/* List the directory open as fd (taken over), at rel below the root. */
static int list_dir(struct listing *l, int fd, const char *rel, int depth,
		    struct hc_err *err)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	int rc = HC_OK;

	if (!d) {
		close(fd);
		return hc_err_set(err, HC_EIO, "cannot list '%s': %s",
				  *rel ? rel : "/", strerror(errno));
	}
	while (rc == HC_OK && !l->truncated && (e = readdir(d)) != NULL) {
		char sub[PATH_BYTES_MAX + SEGMENT_MAX + 2];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
			     e->d_name) >= (int)sizeof(sub) ||
		    hc_policy_check_path(sub, NULL) != HC_OK)
			continue; /* a path no read would accept */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* gone meanwhile */
		if (S_ISDIR(st.st_mode) && depth + 1 < SEGMENTS_MAX) {
			int sfd = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);
			if (sfd >= 0)
				rc = list_dir(l, sfd, sub, depth + 1, err);
		} else if (S_ISREG(st.st_mode) ||
			   (S_ISLNK(st.st_mode) &&
			    link_inside(l->rt, sub, &st))) {
			rc = add_item(l, sub, &st, err);
		}
	}
	closedir(d);
	return rc;
}

static int cmp_items(const void *a, const void *b)
{
	return strcmp(hc_json_str(*(json_t *const *)a, "path"),
		      hc_json_str(*(json_t *const *)b, "path"));
}

int hc_policy_list(const struct hc_hub *hub, json_t **out,
		   struct hc_err *err)
{
	struct root rt;
	struct listing l = { &rt, json_array(), false };
	json_t **sorted = NULL, *items = NULL, *res = NULL, *v;
	size_t i, n;
	int fd;
	int rc = open_root(hub, &rt, err);

	if (rc == HC_OK && !l.items)
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	if (rc != HC_OK)
		goto out;
	fd = dup(rt.fd);
	rc = fd >= 0 ? list_dir(&l, fd, "", 0, err)
		     : hc_err_set(err, HC_EIO, "dup: %s", strerror(errno));
	if (rc != HC_OK)
		goto out;
	/* readdir order is the file system's: sort by path */
	n = json_array_size(l.items);
	sorted = calloc(n ? n : 1, sizeof(*sorted));
	items = json_array();
	if (!sorted || !items) {
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(l.items, i, v)
		sorted[i] = v;
	qsort(sorted, n, sizeof(*sorted), cmp_items);
	for (i = 0; i < n; i++)
		json_array_append(items, sorted[i]);
	res = json_pack("{sbsOsb}", "writable", hub->config.policy_writable,
			"items", items, "truncated", l.truncated);
	if (res)
		*out = res;
	else
		rc = hc_err_set(err, HC_ENOMEM, "out of memory");
out:
	free(sorted);
	json_decref(items);
	json_decref(l.items);
	close_root(&rt);
	return rc;
}

/* ---- writing ------------------------------------------------------------ */

/* Well-formed UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF) without NUL bytes. */
static bool utf8_text(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		unsigned c = *p;
		size_t n;
		unsigned cp;
		if (c == 0)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
			return false;
		if (n == 3 && (cp < 0x10000 || cp > 0x10ffff))
			return false;
		p += n + 1;
	}
	return true;
}

/* Write content to a temporary file in dfd and rename it over name. */
static int replace_file(int dfd, const char *name, const char *content,
			size_t len, const char *path, bool *created,
			struct hc_err *err)
{
	char tmp[64], uuid[HC_UUID_LEN + 1];
	struct stat st;
	mode_t mode = 0644;
	size_t done = 0;
	int fd, rc = HC_OK;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return hc_err_field(err, HC_ECONFLICT, "path",
					    "policy path '%s' is a directory",
					    path);
		/* A link that resolved inside was followed already; one
		 * left here dangles or points outside: never replace it. */
		if (S_ISLNK(st.st_mode))
			return bad_path(err,
					"policy path '%s' is a symbolic link "
					"that cannot be followed safely",
					path);
		*created = false;
		if (S_ISREG(st.st_mode))
			mode = st.st_mode & 07777; /* keep its permissions */
	} else if (errno == ENOENT) {
		*created = true;
	} else {
		return hc_err_set(err, HC_EIO, "policy path '%s': %s", path,
				  strerror(errno));
	}
	if (hc_uuid_v4(uuid) != HC_OK)
		return hc_err_set(err, HC_EIO, "no randomness for a file name");
	/* hidden, so never listed or served while it exists */
	snprintf(tmp, sizeof(tmp), ".policy-%s.tmp", uuid);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				      O_CLOEXEC,
		    mode);
	if (fd < 0)
		return hc_err_set(err, HC_EIO, "policy path '%s': %s", path,
				  strerror(errno));
	while (rc == HC_OK && done < len) {
		ssize_t n = write(fd, content + done, len - done);
		if (n < 0 && errno != EINTR)
			rc = hc_err_set(err, HC_EIO, "policy path '%s': %s",
					path, strerror(errno));
		else if (n > 0)
			done += (size_t)n;
	}
	if (rc == HC_OK && (fchmod(fd, mode) != 0 || fsync(fd) != 0))
		rc = hc_err_set(err, HC_EIO, "policy path '%s': %s", path,
				strerror(errno));
	if (close(fd) != 0 && rc == HC_OK)
		rc = hc_err_set(err, HC_EIO, "policy path '%s': %s", path,
				strerror(errno));
	if (rc == HC_OK && renameat(dfd, tmp, dfd, name) != 0)
		rc = errno == EISDIR
			     ? hc_err_field(err, HC_ECONFLICT, "path",
					    "policy path '%s' is a directory",
					    path)
			     : hc_err_set(err, HC_EIO, "policy path '%s': %s",
					  path, strerror(errno));
	if (rc != HC_OK) {
		unlinkat(dfd, tmp, 0);
		return rc;
	}
	/* the rename itself must survive a crash too */
	fsync(dfd);
	return HC_OK;
}

int hc_policy_write(const struct hc_hub *hub, const char *path,
		    const char *content, size_t len, bool *created,
		    json_t **out, struct hc_err *err)
{
	struct root rt = { .fd = -1 };
	char rel[PATH_MAX];
	const char *name;
	bool is_new = false;
	int dfd = -1;
	int rc;

	if (!hub->config.policy_dir || !*hub->config.policy_dir)
		return no_dir(err);
	if (!hub->config.policy_writable)
		return hc_err_set(err, HC_EMETHOD,
				  "policy documents are read-only on this hub "
				  "(it was not started with "
				  "--policy-writable)");
	rc = hc_policy_check_path(path, err);
	if (rc != HC_OK)
		return rc;
	if (len > HC_POLICY_MAX_BYTES)
		return hc_err_field(err, HC_ETOOBIG, "content",
				    "policy file '%s' would be %zu bytes; the "
				    "limit is %d",
				    path, len, HC_POLICY_MAX_BYTES);
	if (!utf8_text(content, len))
		return hc_err_field(err, HC_EINVAL, "content",
				    "policy file '%s' must be UTF-8 text "
				    "without NUL bytes",
				    path);
	rc = open_root(hub, &rt, err);
	if (rc == HC_OK)
		rc = resolve_target(&rt, path, rel, err);
	if (rc != HC_OK)
		goto out;
	split(rel, &name);
	rc = open_dir(&rt, name == rel ? "" : rel, true, path, &dfd, err);
	if (rc == HC_OK)
		rc = replace_file(dfd, name, content, len, path, &is_new, err);
	if (rc != HC_OK)
		goto out;
	if (created)
		*created = is_new;
	if (out) {
		*out = json_pack("{sssssIsb}", "path", path, "media_type",
				 hc_policy_media_type(path), "size",
				 (json_int_t)len, "created", is_new);
		if (!*out)
			rc = hc_err_set(err, HC_ENOMEM, "out of memory");
	}
out:
	if (dfd >= 0)
		close(dfd);
	close_root(&rt);
	return rc;
}
