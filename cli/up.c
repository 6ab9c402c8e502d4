/*
 * up.c - `foshub up`: the whole federation in one command.
 *
 * Every hub of the hubs table (cli/main.c) is started as a child process
 * running this same binary with `serve NAME`, on 127.0.0.1 at the base
 * port plus the hub's offset (its default port minus 8000: the IdP 8000,
 * dev-hub 8001, ops-hub 8002, fin-hub 8003), with its SQLite database
 * under the var directory. A port already taken (another federation
 * running) makes up refuse with the address before it starts anything. up
 * waits until each hub answers GET /readyz, its own process being the one
 * listening on its port (another process answering there does not count),
 * prints the URLs and how to log in, then supervises: a hub that dies is
 * reported and started again after a delay that doubles on every quick
 * death (1 s up to 30 s; a hub that ran for a minute starts over at 1 s).
 * SIGINT or SIGTERM stops every hub with SIGTERM (SIGKILL after 15 s) and
 * up exits 0 when all stopped cleanly.
 *
 * The hubs are wired to each other by default (docs/events.md): up writes
 * each hub's configuration to VAR/HUB.yaml on every start, with the
 * subscriptions and senders between the hubs it starts, and gives each the
 * service account named after it when --secrets-dir has its secret.
 *
 * The children run in their own process group, so Ctrl-C reaches up only
 * and the hubs are stopped in order; they also get SIGTERM should up
 * itself die (PR_SET_PDEATHSIG).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "hubcore/util.h"
#include "hubcore/view.h"

#define UP_MAX_HUBS 16
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define STABLE_MS 60000
#define STOP_GRACE_MS 15000

int cli_hub_port_offset(const struct hc_hub_def *def)
{
	const char *colon = strrchr(def->default_listen, ':');
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;
	return port >= 8000 && port < 8100 ? (int)(port - 8000) : 0;
}

bool cli_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *s = list; *s;) {
		size_t len = strcspn(s, ",");
		if (len == n && strncmp(s, name, n) == 0)
			return true;
		s += len;
		if (*s == ',')
			s++;
	}
	return false;
}

struct child {
	const struct hc_hub_def *def;
	const char *config; /* --config of its serve, or NULL */
	char config_buf[PATH_MAX];
	char secret[PATH_MAX]; /* its service account's secret file, or "" */
	char login_secret[PATH_MAX]; /* the page login client's, or "" */
	char issuer[64];    /* --auth-issuer of its serve, or "" */
	bool no_auth;
	unsigned port;
	char db[PATH_MAX + 16];
	pid_t pid;         /* 0 while not running */
	int64_t started;   /* ms */
	int64_t next_start; /* ms; when to start it again (pid 0) */
	int64_t backoff;
	bool ready;
	bool impostor_told; /* said another process answers on its port */
	unsigned restarts;
	int last_status;
};

/* Who sends what to whom in the federation (docs/events.md). */
static const struct {
	const char *from, *to, *types;
} wiring[] = {
	{ "dev", "ops", "deployment_started, deployment_succeeded, "
			"deployment_failed" },
	{ "ops", "dev", "incident_opened, incident_resolved, alert_raised, "
			"alert_resolved" },
	{ "fin", "dev", "budget_alert, runway_alert" },
	{ "fin", "ops", "cost_attribution" },
};

static const struct child *find_child(const struct child *cs, size_t n,
				      const char *short_name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(cs[i].def->short_name, short_name) == 0)
			return &cs[i];
	return NULL;
}

/* Does the wiring connect c to another hub started? */
static bool has_peer(const struct child *c, const struct child *cs, size_t n)
{
	const char *me = c->def->short_name;
	for (size_t i = 0; i < HC_COUNT(wiring); i++) {
		if (strcmp(wiring[i].from, me) == 0 &&
		    find_child(cs, n, wiring[i].to))
			return true;
		if (strcmp(wiring[i].to, me) == 0 &&
		    find_child(cs, n, wiring[i].from))
			return true;
	}
	return false;
}

/* VAR/HUB.yaml: the events of one hub, wired to the others started. */
static int write_hub_config(struct child *c, const struct child *cs, size_t n,
			    const char *var)
{
	const char *me = c->def->short_name;
	bool subs = false, senders = false;
	FILE *f;
	snprintf(c->config_buf, sizeof(c->config_buf), "%s/%s.yaml", var,
		 c->def->name);
	f = fopen(c->config_buf, "w");
	if (!f) {
		fprintf(stderr, "foshub: error: %s: cannot write: %s\n",
			c->config_buf, strerror(errno));
		return -1;
	}
	fprintf(f, "# %s's configuration, written by `foshub up` on every "
		   "start:\n# the events between the hubs it started "
		   "(docs/events.md). To change it,\n# copy it and run "
		   "`foshub serve %s --config COPY` yourself.\n",
		c->def->name, me);
	if (!has_peer(c, cs, n)) {
		/* an empty 'events:' would be null, not a mapping */
		fprintf(f, "events: {} # no other hub started\n");
		goto done;
	}
	fprintf(f, "events:\n");
	if (strcmp(me, "dev") == 0 && find_child(cs, n, "fin"))
		fprintf(f, "  # the canon (System 5): runway alerts escalate "
			   "here\n  escalation_domain: custodian\n");
	for (size_t i = 0; i < HC_COUNT(wiring); i++) {
		const struct child *to = find_child(cs, n, wiring[i].to);
		if (strcmp(wiring[i].from, me) != 0 || !to)
			continue;
		if (!subs)
			fprintf(f, "  subscribers:\n");
		subs = true;
		fprintf(f,
			"    - hub: %s\n      url: http://127.0.0.1:%u\n"
			"      types: [%s]\n",
			to->def->name, to->port, wiring[i].types);
	}
	for (size_t i = 0; i < HC_COUNT(wiring); i++) {
		const struct child *from = find_child(cs, n, wiring[i].from);
		bool dup = false;
		if (strcmp(wiring[i].to, me) != 0 || !from)
			continue;
		for (size_t k = 0; k < i; k++)
			dup = dup || (strcmp(wiring[k].to, me) == 0 &&
				      strcmp(wiring[k].from, wiring[i].from) ==
					      0);
		if (dup)
			continue;
		if (!senders)
			fprintf(f, "  senders:\n");
		senders = true;
		fprintf(f, "    - hub: %s\n", from->def->name);
	}
done:
	if (fclose(f) != 0)
		return -1;
	c->config = c->config_buf;
	return 0;
}

static int64_t now_ms(void)
{
	return hc_clock_ms();
}

/* GET /readyz answered 200? */
static bool probe_ready(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	static const char req[] = "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				  "Connection: close\r\n\r\n";
	char buf[64];
	struct pollfd p;
	ssize_t n = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = false;
	if (fd < 0)
		return false;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1)) {
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, 1000) == 1)
			n = read(fd, buf, sizeof(buf) - 1);
		if (n > 12) {
			buf[n] = '\0';
			ok = strncmp(buf + 8, " 200", 4) == 0;
		}
	}
	close(fd);
	return ok;
}

/*
 * Is 127.0.0.1:PORT free for a hub? Tried the way the hub binds it (with
 * SO_REUSEADDR: a port left in TIME_WAIT by a stopped hub is free; one
 * that another process listens on is not). 0, or the errno of the bind.
 */
static int port_busy(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	int on = 1, e = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		e = errno;
	close(fd);
	return e;
}

/* Refuse to start when a hub's address is taken: say which, for all. */
static bool ports_free(const struct child *cs, size_t n)
{
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		int e = port_busy(cs[i].port);
		if (!e)
			continue;
		fprintf(stderr, "foshub: error: cannot start %s: "
				"127.0.0.1:%u: %s\n",
			cs[i].def->name, cs[i].port, strerror(e));
		ok = false;
	}
	if (!ok)
		fprintf(stderr, "foshub: nothing started; is another `foshub "
				"up` running? Stop it, or choose other ports "
				"with --base-port\n");
	return ok;
}

/*
 * Is the socket listening on 127.0.0.1:PORT one of pid's? Then an answer
 * on that port is the child's own, not another process's. Read from
 * /proc/net/tcp (LISTEN entries of the port) and /proc/PID/fd. 1 yes,
 * 0 no, -1 when /proc cannot tell (then the answer is taken as it is).
 */
static int child_listens(pid_t pid, unsigned port)
{
	unsigned long inodes[8];
	size_t ni = 0;
	char line[512], path[64], link[64];
	struct dirent *de;
	FILE *f = fopen("/proc/net/tcp", "r");
	DIR *dir;
	int found = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && ni < HC_COUNT(inodes)) {
		unsigned long addr, inode;
		unsigned lport, state;
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*u: %lx:%x %*x:%*x %x %*x:%*x %*x:%*x %*x "
				 "%*u %*u %lu",
			   &addr, &lport, &state, &inode) == 4 &&
		    state == 0x0A && lport == port &&
		    (uint32_t)addr == htonl(INADDR_LOOPBACK))
			inodes[ni++] = inode;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = ni ? opendir(path) : NULL;
	if (!dir)
		return ni ? -1 : 0;
	while (!found && (de = readdir(dir))) {
		char fd_path[320];
		ssize_t len;
		snprintf(fd_path, sizeof(fd_path), "%s/%s", path, de->d_name);
		len = readlink(fd_path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		for (size_t i = 0; i < ni && !found; i++) {
			char want[40];
			snprintf(want, sizeof(want), "socket:[%lu]", inodes[i]);
			found = strcmp(link, want) == 0;
		}
	}
	closedir(dir);
	return found;
}

/*
 * Is the child ready: alive (not reaped), answering GET /readyz with 200,
 * and the one listening on its port? An answer from another process on
 * the port (another federation) does not count; it is reported once.
 */
static bool child_ready(struct child *c)
{
	int mine;
	if (!c->pid || !probe_ready(c->port))
		return false;
	mine = child_listens(c->pid, c->port);
	if (mine == 0 && !c->impostor_told) {
		printf("foshub up: 127.0.0.1:%u answers, but not %s (pid %d) "
		       "listens there: another process has the port\n",
		       c->port, c->def->name, (int)c->pid);
		c->impostor_told = true;
	}
	return mine != 0;
}

static int spawn(struct child *c, const char *self, const sigset_t *mask)
{
	char listen[64];
	pid_t pid;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", c->port);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *args[24];
		int n = 0;
		args[n++] = (char *)self;
		args[n++] = "serve";
		args[n++] = (char *)c->def->short_name;
		args[n++] = "--listen";
		args[n++] = listen;
		args[n++] = "--db";
		args[n++] = c->db;
		if (c->config) {
			args[n++] = "--config";
			args[n++] = (char *)c->config;
		}
		/* the hubs trust this federation's IdP, or nothing at all */
		if (c->no_auth) {
			args[n++] = "--no-auth";
		} else if (c->issuer[0]) {
			args[n++] = "--auth-issuer";
			args[n++] = c->issuer;
		}
		if (!c->no_auth && c->secret[0]) {
			args[n++] = "--auth-client-id";
			args[n++] = (char *)c->def->name;
			args[n++] = "--auth-client-secret-file";
			args[n++] = c->secret;
		}
		/* people sign in to the pages through the IdP's hub-portal */
		if (!c->no_auth && c->login_secret[0]) {
			args[n++] = "--login-client-id";
			args[n++] = "hub-portal";
			args[n++] = "--login-client-secret-file";
			args[n++] = c->login_secret;
		}
		args[n] = NULL;
		sigset_t none;
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execv(self, args);
		fprintf(stderr, "foshub up: cannot run %s: %s\n", self,
			strerror(errno));
		_exit(127);
	}
	(void)mask;
	c->pid = pid;
	c->started = now_ms();
	c->ready = false;
	c->impostor_told = false;
	return 0;
}

static void describe_status(int status, char *out, size_t size)
{
	if (WIFEXITED(status))
		snprintf(out, size, "exited with status %d",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, size, "was killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, size, "stopped (status %d)", status);
}

/* Reap dead children; schedule their restart unless stopping. */
static void reap(struct child *cs, size_t n, bool stopping)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct child *c = &cs[i];
			char what[96];
			int64_t ran;
			if (c->pid != pid)
				continue;
			c->pid = 0;
			c->ready = false;
			c->last_status = status;
			if (stopping)
				break;
			ran = now_ms() - c->started;
			c->backoff = ran >= STABLE_MS ? BACKOFF_MIN_MS
				     : c->backoff ? (c->backoff * 2 > BACKOFF_MAX_MS
							     ? BACKOFF_MAX_MS
							     : c->backoff * 2)
						  : BACKOFF_MIN_MS;
			c->next_start = now_ms() + c->backoff;
			describe_status(status, what, sizeof(what));
			printf("foshub up: %s (pid %d) %s after %.1f s; "
			       "restarting in %.0f s\n",
			       c->def->name, (int)pid, what, ran / 1000.0,
			       c->backoff / 1000.0);
			break;
		}
	}
}

static void print_urls(const struct child *cs, size_t n, bool all_ready,
		       long timeout_s)
{
	const struct child *idp = NULL;
	if (all_ready)
		printf("foshub up: the federation is running\n");
	else
		printf("foshub up: not every hub is ready after %ld s (still "
		       "waiting; see the messages above)\n",
		       timeout_s);
	for (size_t i = 0; i < n; i++) {
		const struct child *c = &cs[i];
		if (strcmp(c->def->short_name, "idp") == 0)
			idp = c;
		const char *page = hc_view_page_path(c->def);
		printf("  %-8s http://127.0.0.1:%u%s  (database %s, pid %d%s)\n",
		       c->def->name, c->port, c->def->mcp ? "  MCP /mcp" : "",
		       c->db + 7, (int)c->pid,
		       c->ready ? "" : ", not ready yet");
		if (page)
			printf("  %-8s in a browser: http://127.0.0.1:%u%s\n", "",
			       c->port, page);
	}
	if (idp && !idp->no_auth)
		printf("log in: the hubs check tokens from the IdP at "
		       "http://127.0.0.1:%u (docs/iam-profile.md).\n"
		       "  a token for curl, from a service account of the IdP's "
		       "file, for one hub (HUB_URL, above; another hub refuses "
		       "it):\n"
		       "    FOSHUB_AUTH_CLIENT_ID=ID FOSHUB_AUTH_CLIENT_SECRET=S "
		       "foshub token --issuer http://127.0.0.1:%u HUB_URL\n"
		       "  MCP clients log in through the IdP's page by "
		       "themselves; users and clients: foshub idp add-user, "
		       "foshub idp add-client\n"
		       "  the pages sign you in through the IdP when "
		       "SECRETS/hub-portal.secret is there (--secrets-dir)\n",
		       idp->port, idp->port);
	else if (n && cs[0].no_auth)
		printf("log in: none, identity checks are off (--no-auth): "
		       "anyone who can reach 127.0.0.1 may read and write\n");
	else
		printf("log in: the hubs accept only tokens from %s, which up "
		       "did not start (no --idp-config): every call but health "
		       "and metadata is refused (401) until an IdP answers "
		       "there; for local use without login: foshub up "
		       "--no-auth\n",
		       n && cs[0].issuer[0] ? cs[0].issuer
					    : getenv("FOSHUB_AUTH_ISSUERS"));
	printf("stop with Ctrl-C (SIGINT) or SIGTERM\n");
}

static int stop_all(struct child *cs, size_t n, sigset_t *set)
{
	int64_t deadline = now_ms() + STOP_GRACE_MS;
	bool clean = true, left = true;
	for (size_t i = 0; i < n; i++)
		if (cs[i].pid > 0)
			kill(cs[i].pid, SIGTERM);
	while (left) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		left = false;
		reap(cs, n, true);
		for (size_t i = 0; i < n; i++)
			left = left || cs[i].pid > 0;
		if (!left)
			break;
		if (now_ms() > deadline) {
			for (size_t i = 0; i < n; i++)
				if (cs[i].pid > 0) {
					printf("foshub up: %s did not stop; "
					       "killing it\n",
					       cs[i].def->name);
					kill(cs[i].pid, SIGKILL);
				}
			deadline = now_ms() + 5000;
		}
		sigtimedwait(set, NULL, &ts);
	}
	for (size_t i = 0; i < n; i++) {
		int st = cs[i].last_status;
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
			char what[96];
			describe_status(st, what, sizeof(what));
			printf("foshub up: %s %s\n", cs[i].def->name, what);
			clean = false;
		}
	}
	printf("foshub up: stopped\n");
	return clean ? 0 : 1;
}

int cli_up(const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base-port", required_argument, NULL, 'p' },
		{ "var", required_argument, NULL, 'v' },
		{ "hubs", required_argument, NULL, 'H' },
		{ "ready-timeout", required_argument, NULL, 't' },
		{ "idp-config", required_argument, NULL, 'c' },
		{ "no-auth", no_argument, NULL, 'N' },
		{ "secrets-dir", required_argument, NULL, 's' },
		{ "no-events", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct child cs[UP_MAX_HUBS];
	const char *var = "var", *only = NULL;
	const char *idp_config = getenv("FOSHUB_IDP_CONFIG");
	const char *issuers = getenv("FOSHUB_AUTH_ISSUERS");
	const char *secrets = getenv("FOSHUB_SECRETS_DIR");
	bool no_auth = false, no_events = false;
	char self[PATH_MAX];
	long base = 8000, timeout_s = 30;
	size_t n = 0;
	sigset_t set, old;
	int ch, sig;
	bool announced = false;
	int64_t ready_deadline;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		switch (ch) {
		case 'p':
			base = strtol(optarg, &end, 10);
			if (*end || base < 1 || base > 65000)
				return cli_usage_error(cmd,
						       "--base-port must be 1 "
						       "to 65000, not '%s'",
						       optarg);
			break;
		case 'v':
			var = optarg;
			break;
		case 'H':
			only = optarg;
			break;
		case 'c':
			idp_config = optarg;
			break;
		case 'N':
			no_auth = true;
			break;
		case 's':
			secrets = optarg;
			break;
		case 'E':
			no_events = true;
			break;
		case 't':
			timeout_s = strtol(optarg, &end, 10);
			if (*end || timeout_s < 1 || timeout_s > 3600)
				return cli_usage_error(cmd,
						       "--ready-timeout must be "
						       "1 to 3600 seconds");
			break;
		case 'h':
			fputs(cmd->usage, stdout);
			return 0;
		default:
			return cli_usage_error(cmd, "unknown or incomplete "
						    "option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	/* as serve reads it: the children inherit it */
	if (getenv("FOSHUB_AUTH") && strcmp(getenv("FOSHUB_AUTH"), "off") == 0)
		no_auth = true;
	if (!realpath("/proc/self/exe", self)) {
		fprintf(stderr, "foshub: error: cannot find my own binary\n");
		return 1;
	}
	/* the hubs, by port */
	for (size_t i = 0; i < cli_hub_count() && n < UP_MAX_HUBS; i++) {
		const struct hc_hub_def *def = cli_hub_at(i);
		bool idp = strcmp(def->short_name, "idp") == 0;
		if (only && !cli_list_has(only, def->short_name))
			continue;
		if (idp && (!idp_config || !*idp_config)) {
			/* it has no users or clients without its file */
			printf("foshub up: not starting the IdP: give its "
			       "file with --idp-config FILE or "
			       "FOSHUB_IDP_CONFIG (see docs/idp.md)\n");
			continue;
		}
		if (idp && access(idp_config, R_OK) != 0) {
			fprintf(stderr, "foshub: error: %s: cannot read the "
					"IdP's file: %s\n",
				idp_config, strerror(errno));
			return 1;
		}
		memset(&cs[n], 0, sizeof(cs[n]));
		cs[n].def = def;
		cs[n].config = idp ? idp_config : NULL;
		cs[n].no_auth = no_auth;
		/* FOSHUB_AUTH_ISSUERS, when set, reaches the children as it
		 * is; else they trust the IdP on the base port */
		if (!issuers || !*issuers)
			snprintf(cs[n].issuer, sizeof(cs[n].issuer),
				 "http://127.0.0.1:%ld", base);
		cs[n].port = (unsigned)(base + cli_hub_port_offset(def));
		snprintf(cs[n].db, sizeof(cs[n].db), "sqlite:%s/%s.db", var,
			 def->name);
		/* the hub's service account, for its events to the others */
		if (!idp && secrets && *secrets) {
			snprintf(cs[n].secret, sizeof(cs[n].secret),
				 "%s/%s.secret", secrets, def->name);
			if (access(cs[n].secret, R_OK) != 0)
				cs[n].secret[0] = '\0';
			if (hc_view_page_path(def)) {
				snprintf(cs[n].login_secret,
					 sizeof(cs[n].login_secret),
					 "%s/hub-portal.secret", secrets);
				if (access(cs[n].login_secret, R_OK) != 0)
					cs[n].login_secret[0] = '\0';
			}
		}
		n++;
	}
	if (!n)
		return cli_usage_error(cmd, "no hub to start (--hubs '%s'; "
					    "hubs: %s)",
				       only ? only : "", cli_hub_names());
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && cs[k].port < cs[k - 1].port; k--) {
			struct child t = cs[k];
			cs[k] = cs[k - 1];
			cs[k - 1] = t;
		}
	/* before anything is written or started */
	if (!ports_free(cs, n))
		return 1;
	if (mkdir(var, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "foshub: error: %s: cannot create: %s\n", var,
			strerror(errno));
		return 1;
	}
	/* after sorting: config points into the child itself */
	for (size_t i = 0; i < n && !no_events; i++)
		if (cs[i].def->events &&
		    write_hub_config(&cs[i], cs, n, var) != 0)
			return 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);

	for (size_t i = 0; i < n; i++) {
		if (spawn(&cs[i], self, &set) != 0) {
			fprintf(stderr, "foshub: error: cannot start %s: %s\n",
				cs[i].def->name, strerror(errno));
			return stop_all(cs, n, &set) ? 1 : 1;
		}
		printf("foshub up: started %s (pid %d) on http://127.0.0.1:%u\n",
		       cs[i].def->name, (int)cs[i].pid, cs[i].port);
	}
	ready_deadline = now_ms() + timeout_s * 1000;
	for (;;) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		bool all_ready = true;
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM) {
			printf("foshub up: %s received, stopping the hubs\n",
			       sig == SIGINT ? "SIGINT" : "SIGTERM");
			return stop_all(cs, n, &set);
		}
		reap(cs, n, false);
		for (size_t i = 0; i < n; i++) {
			struct child *c = &cs[i];
			if (!c->pid && now_ms() >= c->next_start) {
				if (spawn(c, self, &set) == 0) {
					c->restarts++;
					printf("foshub up: started %s again "
					       "(pid %d, restart %u)\n",
					       c->def->name, (int)c->pid,
					       c->restarts);
				} else {
					c->next_start = now_ms() + c->backoff;
				}
			}
			if (!c->ready && child_ready(c)) {
				c->ready = true;
				printf("foshub up: %s is ready at "
				       "http://127.0.0.1:%u\n",
				       c->def->name, c->port);
			}
			all_ready = all_ready && c->ready;
		}
		if (!announced && (all_ready || now_ms() > ready_deadline)) {
			announced = true;
			print_urls(cs, n, all_ready, timeout_s);
		}
	}
}
