/*
 * fileedit.c - byte-preserving edits and atomic replacement of files (see
 * fileedit.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devhub/fileedit.h"

int dh_lines_split(struct dh_lines *l, const char *data, size_t len)
{
	size_t pos = 0, cap = 64;
	memset(l, 0, sizeof(*l));
	l->data = data;
	l->len = len;
	l->eol = "\n";
	l->start = malloc((cap + 1) * sizeof(size_t));
	l->end = malloc((cap + 1) * sizeof(size_t));
	l->next = malloc((cap + 1) * sizeof(size_t));
	if (!l->start || !l->end || !l->next) {
		dh_lines_release(l);
		return HC_ENOMEM;
	}
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	bool eol_seen = false;
	while (pos < len) {
		size_t s = pos, e;
		while (pos < len && data[pos] != '\n' && data[pos] != '\r')
			pos++;
		e = pos;
		if (pos < len && data[pos] == '\r' && pos + 1 < len &&
		    data[pos + 1] == '\n')
			pos += 2;
		else if (pos < len)
			pos++;
		if (!eol_seen && pos > e) {
			eol_seen = true;
			l->eol = pos - e == 2 ? "\r\n"
				 : data[e] == '\r' ? "\r"
						   : "\n";
		}
		if ((size_t)l->n + 1 > cap) {
			size_t *a, *b, *c;
			cap *= 2;
			a = realloc(l->start, (cap + 1) * sizeof(size_t));
			if (a)
				l->start = a;
			b = realloc(l->end, (cap + 1) * sizeof(size_t));
			if (b)
				l->end = b;
			c = realloc(l->next, (cap + 1) * sizeof(size_t));
			if (c)
				l->next = c;
			if (!a || !b || !c) {
				dh_lines_release(l);
				return HC_ENOMEM;
			}
		}
		l->n++;
		l->start[l->n] = s;
		l->end[l->n] = e;
		l->next[l->n] = pos;
	}
	return HC_OK;
}

void dh_lines_release(struct dh_lines *l)
{
	free(l->start);
	free(l->end);
	free(l->next);
	l->start = l->end = l->next = NULL;
	l->n = 0;
}

const char *dh_line_eol(const struct dh_lines *l, int i)
{
	size_t n = l->next[i] - l->end[i];
	if (n == 0)
		return "";
	if (n == 2)
		return "\r\n";
	return l->data[l->end[i]] == '\r' ? "\r" : "\n";
}

int dh_edits_add(struct dh_edits *e, size_t at, size_t del, const char *text)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		struct dh_edit *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return HC_ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n].at = at;
	e->v[e->n].del = del;
	e->v[e->n].text = strdup(text ? text : "");
	e->v[e->n].seq = e->n;
	if (!e->v[e->n].text)
		return HC_ENOMEM;
	e->n++;
	return HC_OK;
}

int dh_edits_insert_after(struct dh_edits *e, const struct dh_lines *l,
			  int i, const char *text)
{
	const char *eol = dh_line_eol(l, i);
	char *s = NULL;
	int rc;
	/* after a last line without an EOL, the new line starts with one */
	if (*eol)
		rc = asprintf(&s, "%s%s", text, eol);
	else
		rc = asprintf(&s, "%s%s", l->eol, text);
	if (rc < 0)
		return HC_ENOMEM;
	rc = dh_edits_add(e, l->next[i], 0, s);
	free(s);
	return rc;
}

int dh_edits_insert_before(struct dh_edits *e, const struct dh_lines *l,
			   int i, const char *text)
{
	const char *eol = dh_line_eol(l, i);
	char *s = NULL;
	int rc;
	if (asprintf(&s, "%s%s", text, *eol ? eol : l->eol) < 0)
		return HC_ENOMEM;
	rc = dh_edits_add(e, l->start[i], 0, s);
	free(s);
	return rc;
}

int dh_edits_replace_line(struct dh_edits *e, const struct dh_lines *l,
			  int i, const char *text)
{
	return dh_edits_add(e, l->start[i], l->end[i] - l->start[i], text);
}

static int cmp_edit(const void *a, const void *b)
{
	const struct dh_edit *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int dh_edits_apply(const struct dh_edits *e, const char *data, size_t len,
		   char **out, size_t *out_len, struct hc_err *err)
{
	struct dh_edit *v = NULL;
	size_t total = len, pos = 0, o = 0;
	char *buf;
	if (e->n) {
		v = malloc(e->n * sizeof(*v));
		if (!v)
			return hc_err_set(err, HC_ENOMEM, "out of memory");
		memcpy(v, e->v, e->n * sizeof(*v));
		qsort(v, e->n, sizeof(*v), cmp_edit);
	}
	for (size_t i = 0; i < e->n; i++) {
		if (v[i].at < pos || v[i].at + v[i].del > len) {
			size_t at = v[i].at;
			free(v);
			return hc_err_set(err, HC_EINTERNAL,
					  "overlapping edits at byte %zu", at);
		}
		pos = v[i].at + v[i].del;
		total += strlen(v[i].text);
	}
	buf = malloc(total + 1);
	if (!buf) {
		free(v);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	pos = 0;
	for (size_t i = 0; i < e->n; i++) {
		size_t tl = strlen(v[i].text);
		memcpy(buf + o, data + pos, v[i].at - pos);
		o += v[i].at - pos;
		memcpy(buf + o, v[i].text, tl);
		o += tl;
		pos = v[i].at + v[i].del;
	}
	memcpy(buf + o, data + pos, len - pos);
	o += len - pos;
	buf[o] = '\0';
	free(v);
	*out = buf;
	*out_len = o;
	return HC_OK;
}

void dh_edits_release(struct dh_edits *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

int dh_file_read(const char *path, size_t max, char **data, size_t *len,
		 struct stat *st, struct hc_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	char *buf;
	if (fd < 0)
		return hc_err_at(err, errno == ENOENT ? HC_ENOTFOUND : HC_EIO,
				 path, 0, 0, "cannot open: %s",
				 strerror(errno));
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return hc_err_at(err, HC_EIO, path, 0, 0,
				 "not a regular file");
	}
	if ((size_t)st->st_size > max) {
		close(fd);
		return hc_err_at(err, HC_ETOOBIG, path, 0, 0,
				 "larger than %zu bytes", max);
	}
	buf = malloc((size_t)st->st_size + 1);
	if (!buf) {
		close(fd);
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	}
	while (n < (size_t)st->st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st->st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n != (size_t)st->st_size) {
		free(buf);
		return hc_err_at(err, HC_EIO, path, 0, 0, "short read");
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return HC_OK;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Keep the original at backup: a hard link to it (the same bytes, for
 * free), or a copy where links are not possible. */
static int keep_backup(const char *real, const char *backup,
		       const struct stat *st, struct hc_err *err)
{
	char *data = NULL;
	size_t len = 0;
	struct stat st2;
	int fd, rc;
	if (unlink(backup) != 0 && errno != ENOENT)
		return hc_err_at(err, HC_EIO, backup, 0, 0,
				 "cannot replace the old backup: %s",
				 strerror(errno));
	if (link(real, backup) == 0)
		return HC_OK;
	rc = dh_file_read(real, (size_t)1 << 30, &data, &len, &st2, err);
	if (rc != HC_OK)
		return rc;
	fd = open(backup, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		  st->st_mode & 07777);
	if (fd < 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		rc = hc_err_at(err, HC_EIO, backup, 0, 0,
			       "cannot write the backup: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(backup);
		free(data);
		return rc;
	}
	close(fd);
	free(data);
	return HC_OK;
}

int dh_file_replace(const char *path, const char *data, size_t len,
		    const char *backup, const struct stat *expect,
		    struct hc_err *err)
{
	char real[PATH_MAX], dir[PATH_MAX], *tmp = NULL;
	struct stat st;
	int fd, rc = HC_OK;

	if (!realpath(path, real))
		return hc_err_at(err, HC_EIO, path, 0, 0, "cannot resolve: %s",
				 strerror(errno));
	if (stat(real, &st) != 0)
		return hc_err_at(err, HC_EIO, path, 0, 0, "cannot stat: %s",
				 strerror(errno));
	if (expect && (st.st_ino != expect->st_ino ||
		       st.st_size != expect->st_size ||
		       st.st_mtim.tv_sec != expect->st_mtim.tv_sec ||
		       st.st_mtim.tv_nsec != expect->st_mtim.tv_nsec))
		return hc_err_at(err, HC_ECONFLICT, path, 0, 0,
				 "the file changed while it was being edited; "
				 "nothing was written");
	snprintf(dir, sizeof(dir), "%s", real);
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dirname(dir),
		     strrchr(real, '/') + 1) < 0)
		return hc_err_set(err, HC_ENOMEM, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = hc_err_at(err, HC_EIO, path, 0, 0,
			       "cannot create a temporary file: %s",
			       strerror(errno));
		free(tmp);
		return rc;
	}
	if (write_all(fd, data, len) != 0 ||
	    fchmod(fd, st.st_mode & 07777) != 0 || fsync(fd) != 0) {
		rc = hc_err_at(err, HC_EIO, path, 0, 0, "cannot write: %s",
			       strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return rc;
	}
	close(fd);
	if (backup)
		rc = keep_backup(real, backup, &st, err);
	if (rc == HC_OK && rename(tmp, real) != 0)
		rc = hc_err_at(err, HC_EIO, path, 0, 0, "cannot rename: %s",
			       strerror(errno));
	if (rc != HC_OK)
		unlink(tmp);
	free(tmp);
	return rc;
}
