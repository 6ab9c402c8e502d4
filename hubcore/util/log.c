/*
 * log.c - one line per record to a stream (see hubcore/log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "hubcore/log.h"
#include "hubcore/util.h"

static const char *const level_names[] = { "debug", "info", "warn", "error",
					   "notice" };

void hc_log_init(struct hc_log *log, FILE *out, const char *name,
		 enum hc_log_level level)
{
	log->out = out;
	log->name = name;
	log->level = level;
	pthread_mutex_init(&log->lock, NULL);
}

void hc_log_release(struct hc_log *log)
{
	pthread_mutex_destroy(&log->lock);
}

int hc_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

/* Write all of line[0..len) to fd: one write(2) unless interrupted or cut
 * short, so that lines of processes sharing the descriptor never mix. */
static void write_line(int fd, const char *line, size_t len)
{
	while (len) {
		ssize_t n = write(fd, line, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

/*
 * Append msg to line[*n..], a control character in it (a username with a
 * newline, a terminal escape) written as \xNN so that no one can forge a
 * log line or rewrite the terminal. Leaves keep bytes of size free, and
 * never cuts a character's UTF-8 bytes apart; false when msg did not fit.
 */
static bool add_escaped(char *line, size_t *n, size_t size, size_t keep,
			const char *msg)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)msg;
	while (*p) {
		bool ctl = *p < 0x20 || *p == 0x7f;
		size_t w = 1;
		if (*p >= 0xc0)
			while (w < 4 && (p[w] & 0xc0) == 0x80)
				w++;
		if (*n + (ctl ? 4 : w) + keep > size)
			return false;
		if (ctl) {
			line[(*n)++] = '\\';
			line[(*n)++] = 'x';
			line[(*n)++] = hex[*p >> 4];
			line[(*n)++] = hex[*p & 15];
		} else {
			memcpy(line + *n, p, w);
			*n += w;
		}
		p += w;
	}
	return true;
}

void hc_log(struct hc_log *log, enum hc_log_level level, const char *fmt, ...)
{
	static const char cut[] = " [truncated]\n";
	char ts[HC_TIME_LEN + 1], msg[HC_LOG_LINE_MAX], line[HC_LOG_LINE_MAX];
	size_t n;
	int len;
	bool whole;
	va_list ap;
	if (!log || level < log->level || !log->out)
		return;
	hc_time_now(ts);
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The whole line, newline included, is built first and written at
	 * once; one longer than the buffer is cut and says so. */
	n = (size_t)snprintf(line, sizeof(line), "%s %s %s: ", ts,
			     level_names[level],
			     log->name ? log->name : "foshub");
	whole = len >= 0 && (size_t)len < sizeof(msg);
	if (add_escaped(line, &n, sizeof(line), sizeof(cut) - 1, msg) &&
	    whole) {
		line[n++] = '\n';
	} else {
		memcpy(line + n, cut, sizeof(cut) - 1);
		n += sizeof(cut) - 1;
	}
	pthread_mutex_lock(&log->lock);
	write_line(fileno(log->out), line, n);
	pthread_mutex_unlock(&log->lock);
}
