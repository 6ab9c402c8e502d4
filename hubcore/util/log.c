/*
 * log.c - one line per record to a stream (see hubcore/log.h).
 */
#include <stdarg.h>
#include <string.h>

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

void hc_log(struct hc_log *log, enum hc_log_level level, const char *fmt, ...)
{
	char ts[HC_TIME_LEN + 1], msg[4096];
	unsigned char esc[4 * sizeof(msg) + 1];
	size_t n = 0;
	va_list ap;
	if (!log || level < log->level || !log->out)
		return;
	hc_time_now(ts);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One event, one line: a control character in a value (a username
	 * with a newline, a terminal escape) is written as \xNN, so no one
	 * can forge a log line or rewrite the terminal. */
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf((char *)esc + n, sizeof(esc) - n, "\\x%02x", *p);
			n += 4;
		} else {
			esc[n++] = *p;
		}
		if (n >= sizeof(esc) - 5)
			break;
	}
	esc[n] = '\0';
	pthread_mutex_lock(&log->lock);
	fprintf(log->out, "%s %s %s: %s", ts, level_names[level],
		log->name ? log->name : "foshub", (const char *)esc);
	fputc('\n', log->out);
	fflush(log->out);
	pthread_mutex_unlock(&log->lock);
}
