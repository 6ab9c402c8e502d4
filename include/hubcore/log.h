/*
 * hubcore/log.h - line-oriented logging to a stream (stderr by default).
 *
 * One struct hc_log per hub, passed in the hub context; no global logger.
 * Each record is one line: "2026-12-03T16:42:39.123Z info dev-hub: msg",
 * written to the stream's descriptor with one write(2).
 * Never log secrets or whole request bodies.
 */
#ifndef HUBCORE_LOG_H
#define HUBCORE_LOG_H

#include <pthread.h>
#include <stdio.h>

/* NOTICE records are always written, whatever the level (the address a
 * server listens on must be findable even with --log-level error). */
enum hc_log_level {
	HC_LOG_DEBUG,
	HC_LOG_INFO,
	HC_LOG_WARN,
	HC_LOG_ERROR,
	HC_LOG_NOTICE,
};

/* The longest line, newline included: PIPE_BUF, so that a line written to
 * a pipe other processes write to as well (the hubs of `foshub up`) is
 * never mixed with theirs. A longer one is cut, ending in " [truncated]". */
#define HC_LOG_LINE_MAX 4096

struct hc_log {
	FILE *out;
	enum hc_log_level level;
	const char *name; /* the component, e.g. "dev-hub" */
	pthread_mutex_t lock;
};

void hc_log_init(struct hc_log *log, FILE *out, const char *name,
		 enum hc_log_level level);
void hc_log_release(struct hc_log *log);
/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int hc_log_level_parse(const char *s);

void hc_log(struct hc_log *log, enum hc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define hc_log_debug(l, ...) hc_log((l), HC_LOG_DEBUG, __VA_ARGS__)
#define hc_log_info(l, ...) hc_log((l), HC_LOG_INFO, __VA_ARGS__)
#define hc_log_warn(l, ...) hc_log((l), HC_LOG_WARN, __VA_ARGS__)
#define hc_log_error(l, ...) hc_log((l), HC_LOG_ERROR, __VA_ARGS__)
#define hc_log_notice(l, ...) hc_log((l), HC_LOG_NOTICE, __VA_ARGS__)

#endif
