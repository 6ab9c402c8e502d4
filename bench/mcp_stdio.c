/*
 * mcp_stdio.c - one MCP client over stdio, calling a tool sequentially as
 * fast as the server answers (the benchmark's stdio row).
 *
 *   mcp-stdio CALLS REQUEST_FILE -- SERVER_COMMAND [ARGS...]
 *
 * Starts the server with its stdin and stdout on pipes, sends the request
 * (one JSON-RPC line, read from REQUEST_FILE) CALLS times, each after the
 * answer to the one before, and prints one line:
 *
 *   BENCH {"calls": N, "seconds": S, "cps": C, "p50_us": ..., "p99_us": ...}
 *
 * An answer that is not a result (an error, or a tool result with
 * "isError":true) stops the run with exit status 1. A client in C, so
 * that the figure is the server's and not the client's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct reader {
	int fd;
	char *buf;
	size_t len, cap, line_end; /* the current line is buf[0..line_end) */
};

/* Read one line (the answer); drop the one before. */
static int read_line(struct reader *r)
{
	if (r->line_end) {
		memmove(r->buf, r->buf + r->line_end + 1,
			r->len - r->line_end - 1);
		r->len -= r->line_end + 1;
		r->line_end = 0;
	}
	for (size_t scanned = 0;;) {
		char *nl = memchr(r->buf + scanned, '\n', r->len - scanned);
		ssize_t n;
		if (nl) {
			r->line_end = (size_t)(nl - r->buf);
			*nl = '\0';
			return 0;
		}
		scanned = r->len;
		if (r->cap - r->len < 65536) {
			char *nb = realloc(r->buf, r->cap * 2);
			if (!nb)
				return -1;
			r->buf = nb;
			r->cap *= 2;
		}
		n = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		r->len += (size_t)n;
	}
}

int main(int argc, char **argv)
{
	int to_srv[2], from_srv[2];
	struct reader r = { 0 };
	char *req = NULL;
	size_t req_len = 0;
	long calls;
	double *lat, t0, total;
	pid_t pid;
	FILE *f;
	int status;

	if (argc < 5 || strcmp(argv[3], "--") != 0 ||
	    (calls = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: mcp-stdio CALLS REQUEST_FILE -- "
				"COMMAND [ARGS...]\n");
		return 2;
	}
	f = fopen(argv[2], "rb");
	if (!f || getdelim(&req, &req_len, '\0', f) < 0) {
		fprintf(stderr, "mcp-stdio: cannot read %s\n", argv[2]);
		return 2;
	}
	fclose(f);
	req_len = strlen(req);
	while (req_len && (req[req_len - 1] == '\n' || req[req_len - 1] == '\r'))
		req[--req_len] = '\0';
	req[req_len++] = '\n';

	signal(SIGPIPE, SIG_IGN);
	if (pipe(to_srv) || pipe(from_srv))
		return perror("pipe"), 2;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 2;
	if (pid == 0) {
		dup2(to_srv[0], 0);
		dup2(from_srv[1], 1);
		close(to_srv[0]);
		close(to_srv[1]);
		close(from_srv[0]);
		close(from_srv[1]);
		execvp(argv[4], argv + 4);
		perror(argv[4]);
		_exit(127);
	}
	close(to_srv[0]);
	close(from_srv[1]);
	r.fd = from_srv[0];
	r.cap = 1 << 20;
	r.buf = malloc(r.cap);
	lat = malloc(sizeof(*lat) * (size_t)calls);
	if (!r.buf || !lat)
		return 2;

	t0 = now_s();
	for (long i = 0; i < calls; i++) {
		double t = now_s();
		if (write_all(to_srv[1], req, req_len) || read_line(&r)) {
			fprintf(stderr, "mcp-stdio: the server stopped after "
					"%ld calls\n", i);
			return 1;
		}
		lat[i] = now_s() - t;
		if (!strstr(r.buf, "\"result\"") ||
		    strstr(r.buf, "\"isError\":true")) {
			fprintf(stderr, "mcp-stdio: not a result: %.300s\n",
				r.buf);
			return 1;
		}
	}
	total = now_s() - t0;
	close(to_srv[1]);
	waitpid(pid, &status, 0);
	qsort(lat, (size_t)calls, sizeof(*lat), cmp_double);
	printf("BENCH {\"calls\": %ld, \"seconds\": %.6f, \"cps\": %.1f, "
	       "\"p50_us\": %.0f, \"p99_us\": %.0f}\n",
	       calls, total, (double)calls / total,
	       lat[calls / 2] * 1e6, lat[(size_t)((double)calls * 0.99)] * 1e6);
	free(lat);
	free(r.buf);
	free(req);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
