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
	char ts[HC_TIME_LEN + 1];
	va_list ap;
	if (!log || level < log->level || !log->out)
		return;
	hc_time_now(ts);
	pthread_mutex_lock(&log->lock);
	fprintf(log->out, "%s %s %s: ", ts, level_names[level],
		log->name ? log->name : "foshub");
	va_start(ap, fmt);
	vfprintf(log->out, fmt, ap);
	va_end(ap);
	fputc('\n', log->out);
	fflush(log->out);
	pthread_mutex_unlock(&log->lock);
}
