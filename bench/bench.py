#!/usr/bin/env python3
"""bench.py - measure the hubs against the limit of the machine.

    python3 bench/bench.py --bin build/foshub [--runs N] [--duration S]
                           [--scale-tasks N] [--only NAME,...] [--out FILE]
    python3 bench/bench.py --bin build/foshub --smoke --out FILE

Runs every benchmark of bench/README.md several times, interleaving each
hub figure with its reference (nginx serving the same response bytes as a
static file, with the same wrk settings) in the same run, and writes a
Markdown table of medians, ratios and targets. --smoke runs each benchmark
once, briefly, on a tiny database, and fails unless every row came out
well-formed: it is what `make test` runs so that the scripts do not rot.

Needs wrk, hyperfine, nginx and sqlite3 (Debian; scripts/install-deps.sh
bench) and build/bench/mcp-stdio (make bench builds it).
"""

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LUA = os.path.join(HERE, "lua")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# The task that "GET one task" reads: the README's example, a real task of
# the design workplan with a long description.
TASK_ID = "CUST-WP-0025-T08"
GEN_DOMAINS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
               "golf", "hotel", "india", "juliet"]
STATUSES = ["todo", "in_progress", "blocked", "done", "cancelled"]
PRIORITIES = ["high", "medium", "low"]


class BenchError(Exception):
    pass


# ---- processes and ports ----------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_ready(url, proc, timeout=15.0, poll=0.0005):
    """Poll url until it answers 200; the time it took, in seconds."""
    t0 = time.perf_counter()
    host, port = url.split("/")[2].rsplit(":", 1)
    path = "/" + url.split("/", 3)[3]
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise BenchError("%s exited with %s" % (proc.args[:3],
                                                    proc.returncode))
        try:
            with socket.create_connection((host, int(port)), timeout=1) as s:
                s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
                           "Connection: close\r\n\r\n"
                           % (path, host, port)).encode())
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"HTTP/1.1 200"):
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(poll)
    raise BenchError("%s did not become ready" % url)


class Proc:
    """A server process started for the benchmark, stopped on exit."""

    def __init__(self, args, log, env=None, ready_url=None):
        self.log = open(log, "ab")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=self.log,
                                  stdin=subprocess.DEVNULL, env=env,
                                  cwd=ROOT)
        self.ready_s = wait_ready(ready_url, self.p) if ready_url else None

    @property
    def pid(self):
        return self.p.pid

    def private_kb(self):
        """Private memory (USS): the pages only this process has, what
        it costs beyond the shared libraries' text."""
        n = 0
        with open("/proc/%d/smaps_rollup" % self.p.pid) as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    n += int(line.split()[1])
        return n

    def rss_kb(self, field="VmRSS"):
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise BenchError("no %s for %d" % (field, self.p.pid))

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin)
        self.stdio_client = os.path.abspath(args.stdio_client)
        self.work = tempfile.mkdtemp(prefix="foshub-bench-")
        # nginx's workers run as another user when started by root
        os.chmod(self.work, 0o755)
        self.procs = []
        self.rows = []
        self.notes = []
        self.raw = {}

    # ---- helpers ------------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def start(self, args, name, ready_url=None):
        p = Proc(args, self.path(name + ".log"), ready_url=ready_url)
        self.procs.append(p)
        return p

    def stop(self, p):
        p.stop()
        self.procs.remove(p)

    def hub(self, kind, db, extra=(), name=None, auth=False):
        """A hub on db; without auth (identity is measured on its own, in
        bench_protected_get) unless auth."""
        port = free_port()
        args = [self.bin, "serve", kind, "--listen", "127.0.0.1:%d" % port,
                "--db", "sqlite:" + db, "--log-level", "warn"] + list(extra)
        if not auth:
            args.append("--no-auth")
        p = self.start(args, name or kind,
                       ready_url="http://127.0.0.1:%d/readyz" % port)
        p.url = "http://127.0.0.1:%d" % port
        return p

    def wrk(self, url, script="report.lua", script_args=(), threads=2,
            conns=64, duration=None):
        duration = duration or self.args.duration
        # a request slower than 10 s is an error (wrk's default is 2 s:
        # too short for a domain summary at a million tasks)
        cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ss" % duration,
               "--timeout", "10s", "-s", os.path.join(LUA, script), url]
        if script_args:
            cmd += ["--"] + list(script_args)
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=float(duration) + 60)
        m = re.search(r"^BENCH (\{.*\})$", out.stdout, re.M)
        if out.returncode != 0 or not m:
            raise BenchError("wrk %s failed:\n%s%s" % (url, out.stdout,
                                                        out.stderr))
        r = json.loads(m.group(1))
        bad = {k: v for k, v in r["errors"].items() if v}
        if bad or r["requests"] == 0:
            raise BenchError("wrk %s: %d requests, errors %s"
                             % (url, r["requests"], bad))
        return r

    def warm(self, url, **kw):
        if not self.args.smoke:
            self.wrk(url, duration=1, **kw)

    def row(self, name, figure, unit, values, target=None, ok=None,
            ref=None, ratio=None, note=None, spread=None):
        """One line of the results table. values: the figure of every run
        (the median is reported); ref: the reference's median; ratio: the
        median of the per-run ratios."""
        values = [v for v in values if v is not None]
        if not values:
            raise BenchError("%s: no value" % name)
        med = statistics.median(values)
        self.rows.append(dict(name=name, figure=figure, unit=unit,
                              median=med, values=values, ref=ref,
                              ratio=ratio, target=target, ok=ok, note=note))
        print("  %-44s %12s %s%s" % (figure, fmt(med, unit), unit,
                                     "" if ratio is None
                                     else "  (%s of reference)"
                                     % fmt_ratio(ratio)), flush=True)
        return med

    def pending(self, name, figure, target, reason):
        self.rows.append(dict(name=name, figure=figure, unit="", median=None,
                              values=[], ref=None, ratio=None, target=target,
                              ok=None, note=reason))
        print("  %-44s pending" % figure, flush=True)

    # ---- data ---------------------------------------------------------------

    def gen_workplans(self, outdir, nplans, ntasks, prefix="GEN",
                      desc_words=30):
        """Generated Markdown workplans: nplans files of ntasks tasks each,
        spread over GEN_DOMAINS, with a task description of desc_words
        words."""
        os.makedirs(outdir, exist_ok=True)
        words = ("the hub keeps tasks and their state so agents can claim "
                 "work report progress and leave decisions for people to "
                 "read later").split()
        for w in range(nplans):
            wid = "%s-WP-%04d" % (prefix, w)
            out = ["---", "id: " + wid, "type: workplan",
                   "title: Generated plan %d" % w,
                   "domain: " + GEN_DOMAINS[w % len(GEN_DOMAINS)],
                   "status: active", "created: 2026-01-01", "---",
                   "# Generated plan %d" % w, "", "A workplan made by "
                   "bench.py.", ""]
            phase = None
            for t in range(ntasks):
                if t % 25 == 0:
                    phase = t // 25 + 1
                    out += ["## Phase %d — Part %d" % (phase, phase), ""]
                key = "T%03d" % (t + 1)
                desc = " ".join(words[(t + i) % len(words)]
                                for i in range(desc_words))
                out += ["### %s — Task %d of plan %d" % (key, t + 1, w), "",
                        "```yaml", "id: %s-%s" % (wid, key),
                        "status: " + STATUSES[(w + t) % len(STATUSES)],
                        "priority: " + PRIORITIES[(w * 7 + t) % 3],
                        "```", "", desc.capitalize() + ".", ""]
            with open(os.path.join(outdir, wid + ".md"), "w") as f:
                f.write("\n".join(out))

    def import_plans(self, db, paths):
        out = subprocess.run([self.bin, "workplan", "import", "--db",
                              "sqlite:" + db] + list(paths),
                             capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            raise BenchError("import failed:\n" + out.stderr[-2000:])

    def dev_db(self):
        """The database of the HTTP benchmarks: the examples and 20
        generated workplans of 100 tasks (2,000 tasks)."""
        db = self.path("dev.db")
        if not os.path.exists(db):
            self.gen_workplans(self.path("plans-http"), 20, 100)
            self.import_plans(db, [os.path.join(ROOT, "examples",
                                                "workplans"),
                                   self.path("plans-http")])
        return db

    # ---- nginx: the reference -------------------------------------------------

    def nginx(self):
        if getattr(self, "_nginx", None):
            return self._nginx
        d = self.path("nginx")
        os.makedirs(os.path.join(d, "www"), exist_ok=True)
        os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
        port = free_port()
        # Two workers for two cores; the hub's response bytes are served
        # as files with the same Content-Type; no access log (the hubs
        # run with --log-level warn, no line per request either).
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write("""worker_processes 2;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %(d)s/tmp; proxy_temp_path %(d)s/tmp;
  fastcgi_temp_path %(d)s/tmp; uwsgi_temp_path %(d)s/tmp;
  scgi_temp_path %(d)s/tmp;
  types { }
  default_type application/json;
  server {
    listen 127.0.0.1:%(port)d;
    root %(d)s/www;
    location = /readyz { return 200 "ok"; }
  }
}
""" % {"d": d, "port": port})
        # nginx writes its startup errors to the compiled-in log path
        # unless told otherwise with -e
        self._nginx = self.start([NGINX, "-c", os.path.join(d, "nginx.conf"),
                                  "-e", os.path.join(d, "error.log")],
                                 "nginx",
                                 ready_url="http://127.0.0.1:%d/readyz"
                                 % port)
        self._nginx.url = "http://127.0.0.1:%d" % port
        self._nginx.www = os.path.join(d, "www")
        return self._nginx

    def static(self, name, body):
        ng = self.nginx()
        with open(os.path.join(ng.www, name), "wb") as f:
            f.write(body)
        return ng.url + "/" + name

    def against_nginx(self, url, name, figure, target_ratio=None,
                      p99_target_us=None):
        """Measure a GET on a hub and nginx serving the same bytes, in
        turns; one row for requests/s (with the ratio) and, when asked,
        one for the p99 latency."""
        st, body = http("GET", url)
        if st != 200:
            raise BenchError("%s answered %d" % (url, st))
        ref_url = self.static(name + ".json", body)
        self.warm(url)
        self.warm(ref_url)
        hub, ref, ratios = [], [], []
        for _ in range(self.args.runs):
            r_ref = self.wrk(ref_url)
            r_hub = self.wrk(url)
            hub.append(r_hub)
            ref.append(r_ref)
            ratios.append(r_hub["rps"] / r_ref["rps"])
        self.raw[name] = dict(hub=hub, nginx=ref, bytes=len(body))
        ratio = statistics.median(ratios)
        ref_med = statistics.median(r["rps"] for r in ref)
        self.row(name, figure + " (%d bytes)" % len(body), "req/s",
                 [r["rps"] for r in hub], ref=ref_med, ratio=ratio,
                 target=None if target_ratio is None
                 else "≥ %d%% of nginx" % (target_ratio * 100),
                 ok=None if target_ratio is None else ratio >= target_ratio)
        if p99_target_us:
            p99 = statistics.median(r["p99_us"] for r in hub)
            self.row(name + "_p99", figure + ": p99 latency", "ms",
                     [r["p99_us"] / 1000 for r in hub],
                     ref=statistics.median(r["p99_us"] for r in ref) / 1000,
                     target="≤ %g ms" % (p99_target_us / 1000),
                     ok=p99 <= p99_target_us)
        return statistics.median(r["rps"] for r in hub)

    # ---- the benchmarks -------------------------------------------------------

    def bench_rest(self):
        """GET one task; GET a filtered page of 50; POST a message."""
        db = self.dev_db()
        h = self.hub("dev", db)
        try:
            self.rest_get_rps = self.against_nginx(
                h.url + "/tasks/" + TASK_ID, "get_task",
                "GET one task by id, wrk -t2 -c64", 0.5, 5000)
            # a page of 50 tasks filtered by status
            url = h.url + "/tasks?status=todo&limit=50"
            st, body = http("GET", url)
            n = len(json.loads(body)["items"])
            if n != 50:
                raise BenchError("the page has %d tasks, not 50" % n)
            self.against_nginx(url, "list_tasks",
                               "GET a filtered page of 50 tasks", 0.25)
            self.bench_post_message(h)
            self.bench_mcp_http(h)
        finally:
            self.stop(h)

    def fsync_rate(self, seconds=None):
        """The machine's limit for durable commits: 4 KiB appends to a
        file in the work directory, each followed by fdatasync, as a
        WAL commit does; per second."""
        seconds = seconds or (0.3 if self.args.smoke else 2.0)
        path = self.path("fsync-probe")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        block, n = b"x" * 4096, 0
        t0 = time.perf_counter()
        try:
            while time.perf_counter() - t0 < seconds:
                os.write(fd, block)
                os.fdatasync(fd)
                n += 1
        finally:
            os.close(fd)
            os.unlink(path)
        return n / (time.perf_counter() - t0)

    def bench_post_message(self, h):
        body = self.path("message.json")
        with open(body, "w") as f:
            json.dump({"from_agent": "bench", "to_domain": "custodian",
                       "subject": "benchmark", "body": "A message that "
                       "the hub commits before it answers 201."}, f)
        st, _ = http("POST", h.url + "/messages", open(body, "rb").read(),
                     {"Content-Type": "application/json"})
        if st != 201:
            raise BenchError("POST /messages answered %d" % st)
        args = dict(script="post.lua", script_args=[body,
                                                    "application/json"])
        self.warm(h.url + "/messages", **args)
        runs, syncs = [], []
        for _ in range(self.args.runs):
            syncs.append(self.fsync_rate())
            runs.append(self.wrk(h.url + "/messages", **args))
        self.raw["post_message"] = dict(wrk=runs, fsync_per_s=syncs)
        med = statistics.median(r["rps"] for r in runs)
        self.row("fsync", "machine: durable 4 KiB appends (write + "
                 "fdatasync) one after the other", "/s", syncs,
                 note="the limit of commits that each wait for the disk; "
                 "measured in turns with the POSTs")
        self.row("post_message", "POST a message (committed before 201), "
                 "wrk -t2 -c64", "req/s", [r["rps"] for r in runs],
                 ref=statistics.median(syncs),
                 ratio=statistics.median(r["rps"] / f for r, f in
                                         zip(runs, syncs)),
                 target="≥ 10,000/s", ok=med >= 10000,
                 note="reference: the fsync rate above; the ratio is "
                 "messages committed per sync of the disk (group "
                 "commit)")

    def mcp_call(self, tool, arguments, rpc_id=1):
        return {"jsonrpc": "2.0", "id": rpc_id, "method": "tools/call",
                "params": {"name": tool, "arguments": arguments,
                           "_meta": {
                               "io.modelcontextprotocol/protocolVersion":
                               "2026-07-28",
                               "io.modelcontextprotocol/clientCapabilities":
                               {}}}}

    def bench_mcp_http(self, h):
        """tools/call get_task over Streamable HTTP (the stateless era:
        one POST per call, no session), against the REST figure of the
        same read measured above."""
        body = self.path("mcp-call.json")
        with open(body, "w") as f:
            json.dump(self.mcp_call("get_task", {"id": TASK_ID}), f)
        headers = ["Accept: application/json, text/event-stream",
                   "MCP-Protocol-Version: 2026-07-28",
                   "Mcp-Method: tools/call", "Mcp-Name: get_task"]
        st, out = http("POST", h.url + "/mcp", open(body, "rb").read(),
                       dict(x.split(": ", 1) for x in headers) |
                       {"Content-Type": "application/json"})
        if st != 200 or b'"result"' not in out or b'"isError":true' in out:
            raise BenchError("MCP over HTTP: %d %s" % (st, out[:300]))
        args = dict(script="post.lua",
                    script_args=[body, "application/json"] + headers)
        self.warm(h.url + "/mcp", **args)
        runs, rest = [], []
        for _ in range(self.args.runs):
            rest.append(self.wrk(h.url + "/tasks/" + TASK_ID))
            runs.append(self.wrk(h.url + "/mcp", **args))
        self.raw["mcp_http"] = dict(mcp=runs, rest=rest)
        ratio = statistics.median(m["rps"] / r["rps"]
                                  for m, r in zip(runs, rest))
        self.row("mcp_http", "MCP tools/call get_task, Streamable HTTP, "
                 "wrk -t2 -c64", "calls/s", [r["rps"] for r in runs],
                 ref=statistics.median(r["rps"] for r in rest), ratio=ratio,
                 target="≥ 50% of REST GET", ok=ratio >= 0.5,
                 note="reference: GET /tasks/{id} on the same hub, "
                 "measured in turns")

    def bench_mcp_stdio(self):
        db = self.dev_db()
        body = self.path("mcp-stdio-call.json")
        with open(body, "w") as f:
            json.dump(self.mcp_call("get_task", {"id": TASK_ID}), f)
        calls = 200 if self.args.smoke else 20000
        runs = []
        for _ in range(self.args.runs):
            out = subprocess.run([self.stdio_client, str(calls), body, "--",
                                  self.bin, "mcp", "dev", "--db",
                                  "sqlite:" + db],
                                 capture_output=True, text=True, timeout=600)
            m = re.search(r"^BENCH (\{.*\})$", out.stdout, re.M)
            if out.returncode != 0 or not m:
                raise BenchError("mcp-stdio failed:\n" + out.stderr[-2000:])
            runs.append(json.loads(m.group(1)))
        self.raw["mcp_stdio"] = runs
        med = statistics.median(r["cps"] for r in runs)
        self.row("mcp_stdio", "MCP tools/call get_task, stdio, sequential, "
                 "one client", "calls/s", [r["cps"] for r in runs],
                 target="≥ 20,000/s", ok=med >= 20000)

    def idp_config(self, port):
        d = self.path("idp")
        os.makedirs(d, exist_ok=True)
        cfg = os.path.join(d, "idp.yaml")
        # BENCHMARK FIXTURE: no users, one service account whose random
        # secret add-client prints once and stores as sha256:...
        with open(cfg, "w") as f:
            f.write('issuer: "http://127.0.0.1:%d"\nkeys_dir: "%s"\n'
                    % (port, os.path.join(d, "keys")))
        out = subprocess.run([self.bin, "idp", "add-client", "--config",
                              cfg, "--service-account", "--role", "service",
                              "--audience", "http://127.0.0.1:8001",
                              "bench"], capture_output=True, text=True,
                             cwd=ROOT)
        if out.returncode != 0:
            raise BenchError("idp add-client:\n" + out.stderr)
        secret = out.stdout.strip().split()[-1]
        text = open(cfg).read()
        if "sha256:" not in text:
            raise BenchError("add-client did not store a sha256 secret")
        # ES256 tokens for this client: add token_alg to its YAML item
        text = re.sub(r"(\n(\s*)- client_id: \"?bench\"?\n)",
                      r"\1\2  token_alg: ES256\n", text, count=1)
        if "token_alg: ES256" not in text:
            raise BenchError("could not set token_alg in\n" + text)
        with open(cfg, "w") as f:
            f.write(text)
        return cfg, secret

    def idp(self):
        port = free_port()
        cfg, secret = self.idp_config(port)
        p = self.start([self.bin, "serve", "idp", "--config", cfg,
                        "--listen", "127.0.0.1:%d" % port, "--db",
                        "sqlite:" + self.path("idp", "idp.db"),
                        "--log-level", "warn"], "idp",
                       ready_url="http://127.0.0.1:%d/readyz" % port)
        p.url = "http://127.0.0.1:%d" % port
        p.secret = secret
        return p

    def bench_idp(self):
        p = self.idp()
        try:
            body = self.path("token-request.txt")
            with open(body, "w") as f:
                # resource (RFC 8707): the hub the token is for, its aud
                f.write("grant_type=client_credentials&resource="
                        "http%3A%2F%2F127.0.0.1%3A8001")
            auth = "Basic " + base64.b64encode(
                ("bench:" + p.secret).encode()).decode()
            st, out = http("POST", p.url + "/token", open(body, "rb").read(),
                           {"Content-Type":
                            "application/x-www-form-urlencoded",
                            "Authorization": auth})
            if st != 200:
                raise BenchError("token: %d %s" % (st, out[:300]))
            token = json.loads(out)["access_token"]
            header = json.loads(base64.urlsafe_b64decode(
                token.split(".")[0] + "=="))
            if header.get("alg") != "ES256":
                raise BenchError("token alg is %s, not ES256" % header)
            args = dict(script="post.lua",
                        script_args=[body,
                                     "application/x-www-form-urlencoded",
                                     "Authorization: " + auth])
            self.warm(p.url + "/token", **args)
            runs = [self.wrk(p.url + "/token", **args)
                    for _ in range(self.args.runs)]
            self.raw["idp_token"] = runs
            med = statistics.median(r["rps"] for r in runs)
            self.row("idp_token", "IdP client_credentials tokens (ES256), "
                     "wrk -t2 -c64", "tokens/s", [r["rps"] for r in runs],
                     target="≥ 5,000/s", ok=med >= 5000)
            self.bench_protected_get(p, token)
        finally:
            self.stop(p)

    def bench_protected_get(self, idp, token):
        """A GET with a bearer token checked against the IdP's cached
        JWKS, as a ratio to the same GET without auth: the same database,
        two hubs, measured in turns."""
        db = self.dev_db()
        plain = self.hub("dev", db, name="dev-noauth")
        guarded = self.hub("dev", db, name="dev-auth", auth=True,
                           extra=["--auth-issuer", idp.url,
                                  "--auth-audience", "http://127.0.0.1:8001"])
        try:
            path = "/tasks/" + TASK_ID
            bearer = "Authorization: Bearer " + token
            st, _ = http("GET", guarded.url + path)
            if st != 401:
                raise BenchError("GET without a token answered %d, not 401"
                                 % st)
            st, out = http("GET", guarded.url + path, headers={
                "Authorization": "Bearer " + token})
            if st != 200:
                raise BenchError("GET with the token: %d %s" % (st, out[:300]))
            args = dict(script="get.lua", script_args=[bearer])
            self.warm(plain.url + path)
            self.warm(guarded.url + path, **args)
            with_auth, without, ratios = [], [], []
            for _ in range(self.args.runs):
                r0 = self.wrk(plain.url + path)
                r1 = self.wrk(guarded.url + path, **args)
                without.append(r0)
                with_auth.append(r1)
                ratios.append(r1["rps"] / r0["rps"])
            self.raw["protected_get"] = dict(auth=with_auth, plain=without)
            ratio = statistics.median(ratios)
            self.row("protected_get", "protected GET one task, ES256 token, "
                     "cached JWKS, wrk -t2 -c64", "req/s",
                     [r["rps"] for r in with_auth],
                     ref=statistics.median(r["rps"] for r in without),
                     ratio=ratio, target="≥ 80% of the GET without auth",
                     ok=ratio >= 0.8)
        finally:
            self.stop(guarded)
            self.stop(plain)

    def bench_import(self):
        nplans = 20 if self.args.smoke else 1000
        plans = self.path("plans-import")
        self.gen_workplans(plans, nplans, 100, prefix="IMP")
        db = self.path("import.db")
        out_json = self.path("hyperfine.json")
        runs = 1 if self.args.smoke else max(3, self.args.runs)
        cmd = ["hyperfine", "--style", "none", "--runs", str(runs),
               "--export-json", out_json,
               "--prepare", "rm -f %s %s-wal %s-shm" % (db, db, db),
               "%s workplan import --db sqlite:%s %s"
               % (self.bin, db, plans)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            raise BenchError("hyperfine:\n" + out.stdout + out.stderr)
        times = json.load(open(out_json))["results"][0]["times"]
        n = int(subprocess.run(["sqlite3", db, "SELECT count(*) FROM tasks"],
                               capture_output=True, text=True).stdout)
        if n != nplans * 100:
            raise BenchError("import stored %d tasks, not %d"
                             % (n, nplans * 100))
        self.raw["import"] = times
        vals = [n / t for t in times]
        med = statistics.median(vals)
        self.row("import", "workplan import, %d workplans of 100 tasks "
                 "(one transaction each)" % nplans, "tasks/s", vals,
                 target="≥ 100,000/s", ok=med >= 100000)

    def scale_db(self, ntasks, nevents):
        """A database with ntasks tasks (imported, 1,000 tasks a
        workplan) and nevents progress events (inserted by SQL)."""
        db = self.path("scale.db")
        per = 1000 if ntasks >= 100000 else 100
        plans = self.path("plans-scale")
        self.gen_workplans(plans, ntasks // per, per, prefix="SCALE",
                           desc_words=20)
        t0 = time.perf_counter()
        self.import_plans(db, [plans])
        took = time.perf_counter() - t0
        shutil.rmtree(plans)
        subprocess.run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE);"],
                       check=True, capture_output=True)
        size_tasks = os.path.getsize(db)
        # progress events: 1 in 20 is a risk or an alert, half of those
        # resolved later; spread over the generated domains
        sql = """
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d),
  d(k, slug) AS (VALUES %s)
INSERT INTO progress_events (id, event_type, domain, correlation_id,
  severity, summary, source, subject_refs, payload, created_at, updated_at)
SELECT lower(printf('%%08x-%%04x-4%%03x-8%%03x-%%012x', i, i %% 65536,
                    i %% 4096, (i / 7) %% 4096, i * 2654435761 %% 281474976710656)),
  CASE WHEN i %% 40 = 0 THEN 'risk_surfaced'
       WHEN i %% 40 = 1 THEN 'risk_mitigated'
       WHEN i %% 40 = 20 THEN 'alert_raised'
       WHEN i %% 80 = 21 THEN 'alert_resolved'
       ELSE 'task_status_changed' END,
  d.slug,
  CASE WHEN i %% 40 IN (0, 20) THEN 'corr-' || i
       WHEN i %% 40 IN (1, 21) THEN 'corr-' || (i - 1) ELSE NULL END,
  CASE WHEN i %% 40 IN (0, 20) THEN 'high' ELSE 'info' END,
  'generated event ' || i, 'bench', '[]', '{}',
  strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-' || (%d - i) || ' seconds'),
  strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-' || (%d - i) || ' seconds')
FROM n JOIN d ON d.k = n.i %% %d;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
""" % (nevents, ", ".join("(%d, '%s')" % (k, slug) for k, slug
                       in enumerate(GEN_DOMAINS)),
       nevents, nevents, len(GEN_DOMAINS))
        out = subprocess.run(["sqlite3", db], input=sql, text=True,
                             capture_output=True)
        if out.returncode != 0:
            raise BenchError("inserting progress events:\n" + out.stderr)
        counts = subprocess.run(
            ["sqlite3", db, "SELECT (SELECT count(*) FROM tasks), "
             "(SELECT count(*) FROM progress_events)"],
            capture_output=True, text=True).stdout.strip().split("|")
        if [int(c) for c in counts] != [ntasks, nevents]:
            raise BenchError("scale database has %s" % counts)
        return db, size_tasks, took

    def bench_scale(self):
        ntasks = self.args.scale_tasks
        db, size_tasks, took = self.scale_db(ntasks, ntasks)
        label = "%s tasks + %s events" % (f"{ntasks:,}", f"{ntasks:,}")
        self.row("db_size", "database size per million tasks (tasks, "
                 "workstreams, indexes)", "MB",
                 [size_tasks / ntasks * 1e6 / 1e6],
                 note="%s tasks: %.0f MB; the import took %.1f s"
                 % (f"{ntasks:,}", size_tasks / 1e6, took))
        h = self.hub("dev", db, name="dev-scale")
        try:
            page = (h.url + "/tasks?workstream=SCALE-WP-%04d&status=todo"
                    "&priority=high&limit=50" % (ntasks // 2000))
            summary = h.url + "/domains/alpha/summary"
            for url in (page, summary):
                st, body = http("GET", url)
                if st != 200:
                    raise BenchError("%s: %d %s" % (url, st, body[:200]))
            # one connection: the time of one request on an idle hub
            runs_p, runs_s = [], []
            for _ in range(self.args.runs):
                runs_p.append(self.wrk(page, threads=1, conns=1))
                runs_s.append(self.wrk(summary, threads=1, conns=1))
            self.raw["scale"] = dict(page=runs_p, summary=runs_s)
            p99 = statistics.median(r["p99_us"] for r in runs_p)
            self.row("scale_page_p99", "%s: filtered page p99, one "
                     "connection" % label, "ms",
                     [r["p99_us"] / 1000 for r in runs_p],
                     target="≤ 5 ms", ok=p99 <= 5000)
            s99 = statistics.median(r["p99_us"] for r in runs_s)
            self.row("scale_summary", "%s: domain summary p99, one "
                     "connection" % label, "ms",
                     [r["p99_us"] / 1000 for r in runs_s],
                     target="≤ 20 ms", ok=s99 <= 20000,
                     note="median %.1f ms" % (statistics.median(
                         r["p50_us"] for r in runs_s) / 1000))
        finally:
            self.stop(h)

    def bench_memory(self):
        """Idle RSS, peak RSS under the read load, start to ready, for
        every hub."""
        db = self.dev_db()
        hubs = [("dev", "/tasks/" + TASK_ID), ("ops", "/domains"),
                ("fin", "/domains"),
                ("idp", "/.well-known/openid-configuration")]
        for kind, read in hubs:
            idle, peak, ready, private = [], [], [], []
            hdb = db if kind == "dev" else self.path("%s.db" % kind)
            # start to ready is a restart's: the first start makes the
            # database (and the idp's keys)
            self.stop(self.idp() if kind == "idp" else self.hub(kind, hdb))
            for i in range(self.args.runs):
                if kind == "idp":
                    p = self.idp()
                else:
                    p = self.hub(kind, hdb)
                try:
                    ready.append(p.ready_s * 1000)
                    time.sleep(0.3)
                    idle.append(p.rss_kb() / 1024)
                    private.append(p.private_kb() / 1024)
                    self.wrk(p.url + read,
                             duration=1 if self.args.smoke else 3)
                    peak.append(p.rss_kb("VmHWM") / 1024)
                finally:
                    self.stop(p)
            self.raw["memory_" + kind] = dict(idle_mb=idle, peak_mb=peak,
                                              ready_ms=ready,
                                              private_mb=private)
            self.row("rss_idle_" + kind, "%s-hub: idle RSS after start"
                     % kind, "MB", idle, target="≤ 8 MB",
                     ok=statistics.median(idle) <= 8)
            self.row("private_idle_" + kind, "%s-hub: idle private memory "
                     "(RSS less shared library pages)" % kind, "MB",
                     private)
            self.row("rss_load_" + kind, "%s-hub: peak RSS under wrk -t2 "
                     "-c64 on GET %s" % (kind, read), "MB", peak,
                     target="≤ 32 MB", ok=statistics.median(peak) <= 32)
            self.row("ready_" + kind, "%s-hub: start to ready (/readyz "
                     "200)" % kind, "ms", ready, target="≤ 50 ms",
                     ok=statistics.median(ready) <= 50)

    # ---- the report ---------------------------------------------------------

    def machine(self):
        model = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break

        def version(cmd, pat):
            try:
                out = subprocess.run(cmd, capture_output=True, text=True)
                m = re.search(pat, out.stdout + out.stderr)
                return m.group(1) if m else "?"
            except OSError:
                return "?"
        return {
            "cpus": os.cpu_count(),
            "model": model,
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") *
                               os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "kernel": platform.release(),
            "os": platform.freedesktop_os_release().get("PRETTY_NAME", "?")
            if hasattr(platform, "freedesktop_os_release") else "?",
            "wrk": version(["wrk", "--version"], r"wrk (\S+)"),
            "nginx": version([NGINX, "-v"], r"nginx/(\S+)"),
            "sqlite": version(["sqlite3", "--version"], r"^(\S+)"),
            "foshub": version([self.bin, "--version"], r"(\d+\.\d+\.\d+)"),
        }

    def write(self, path, took):
        m = self.machine()
        a = self.args
        lines = [
            "# foshub benchmark results",
            "",
            "Written by `make bench` (bench/bench.py); do not edit. "
            "Every figure is the median of %d runs%s; a ratio is the "
            "median of per-run ratios to a reference measured in turns "
            "with it in the same run." % (a.runs, " (SMOKE RUN: tiny "
                                          "durations, not figures)"
                                          if a.smoke else ""),
            "",
            "| machine | |",
            "|---|---|",
            "| CPU | %s, %d cores |" % (m["model"], m["cpus"]),
            "| memory | %s GiB |" % m["memory_gb"],
            "| system | %s, Linux %s |" % (m["os"], m["kernel"]),
            "| tools | wrk %s, nginx %s, SQLite %s, foshub %s |"
            % (m["wrk"], m["nginx"], m["sqlite"], m["foshub"]),
            "| settings | wrk -t2 -c64 -d%ss unless said; hubs with "
            "--log-level warn (no line per request), nginx with "
            "access_log off |" % a.duration,
            "| date | %s, the whole run took %.0f s |"
            % (time.strftime("%Y-%m-%d %H:%M %Z"), took),
            "",
            "| benchmark | median | reference | ratio | target | met |",
            "|---|---:|---:|---:|---|:-:|",
        ]
        for r in self.rows:
            if r["median"] is None:
                lines.append("| %s | pending | | | %s | – |"
                             % (r["figure"], r["target"] or ""))
                continue
            lines.append("| %s | %s %s | %s | %s | %s | %s |" % (
                r["figure"], fmt(r["median"], r["unit"]), r["unit"],
                "" if r["ref"] is None else "%s %s" % (fmt(r["ref"],
                                                           r["unit"]),
                                                       r["unit"]),
                fmt_ratio(r["ratio"]),
                r["target"] or "",
                "" if r["ok"] is None else ("yes" if r["ok"] else "**no**")))
        notes = [r for r in self.rows if r["note"]]
        if notes:
            lines += ["", "Notes:", ""]
            lines += ["- %s: %s" % (r["figure"], r["note"]) for r in notes]
        lines += ["", "All runs (per benchmark, in order):", ""]
        for r in self.rows:
            if r["values"]:
                lines.append("- %s: %s" % (r["name"], ", ".join(
                    fmt(v, r["unit"]) for v in r["values"])))
        if a.explain and os.path.exists(a.explain):
            lines += ["", open(a.explain).read().rstrip()]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(self.path("raw.json"), "w") as f:
            json.dump(dict(machine=m, rows=self.rows, raw=self.raw), f,
                      indent=1)

    def cleanup(self):
        for p in list(self.procs):
            p.stop()
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def fmt_ratio(r):
    if r is None:
        return ""
    return "%.0f%%" % (r * 100) if r < 2 else "%.1f×" % r


def fmt(v, unit):
    if unit in ("ms", "MB"):
        return "%.2f" % v if v < 10 else "%.1f" % v
    return f"{v:,.0f}"


BENCHES = {
    "rest": Bench.bench_rest,
    "stdio": Bench.bench_mcp_stdio,
    "idp": Bench.bench_idp,
    "import": Bench.bench_import,
    "scale": Bench.bench_scale,
    "memory": Bench.bench_memory,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "foshub"))
    ap.add_argument("--stdio-client",
                    default=os.path.join(ROOT, "build", "bench",
                                         "mcp-stdio"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", default="5", help="seconds per wrk run")
    ap.add_argument("--scale-tasks", type=int, default=1000000)
    ap.add_argument("--only", help="comma-separated: " + ",".join(BENCHES))
    ap.add_argument("--smoke", action="store_true",
                    help="each benchmark once, briefly, on tiny data")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--explain", default=os.path.join(HERE, "ANALYSIS.md"),
                    help="Markdown appended to the results (why a target "
                    "is not met, with the profile)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory")
    args = ap.parse_args()
    if args.smoke:
        args.runs, args.duration, args.scale_tasks = 1, "1", 2000
    for tool in ("wrk", "hyperfine", "sqlite3", NGINX, args.bin,
                 args.stdio_client):
        if not shutil.which(tool) and not os.access(tool, os.X_OK):
            sys.exit("bench: %s not found (make bench installs and builds "
                     "what it needs)" % tool)
    names = args.only.split(",") if args.only else list(BENCHES)
    for n in names:
        if n not in BENCHES:
            sys.exit("bench: unknown benchmark '%s'" % n)
    b = Bench(args)
    t0 = time.time()
    try:
        for n in names:
            print("== %s" % n, flush=True)
            BENCHES[n](b)
        b.write(args.out, time.time() - t0)
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        print("bench: logs in %s" % b.work, file=sys.stderr)
        args.keep = True
        sys.exit(1)
    finally:
        b.cleanup()
    bad = [r for r in b.rows if r["median"] is not None and
           (r["median"] <= 0 or any(v <= 0 for v in r["values"]))]
    if bad:
        sys.exit("bench: malformed rows: %s" % [r["name"] for r in bad])
    print("bench: wrote %s" % args.out)


if __name__ == "__main__":
    main()
