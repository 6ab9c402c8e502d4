#!/usr/bin/env python3
"""soak.py - a hub under a long mixed load: what it promises then.

    python3 bench/soak.py --bin build/foshub [--seconds 600] [--valgrind]
                          [--out FILE]

Starts dev-hub on a fresh database with the example workplans, and runs
wrk with bench/lua/mixed.lua against it for --seconds: reads (a task, a
filtered page), MCP tools/call over Streamable HTTP, and writes (POST
/messages), on 64 connections. Meanwhile the hub's resident memory is
sampled every second. Then the hub gets SIGTERM. It passes when:

- no request failed: no socket error or timeout, every answer 200 or 201,
  no MCP answer carrying an error;
- every message answered 201 is in the database after the hub stopped
  (and at most one more per connection: the requests in flight when wrk
  stopped, whose answers it did not count);
- the hub stopped cleanly (exit 0; under ASan or valgrind, that means no
  memory error and no leak: both make the exit status non-zero);
- its memory did not grow after warm-up: the highest RSS of the last
  fifth of the run is at most the highest of the warm-up (the first
  fifth) plus 10% (at least 2 MiB). Checked for runs of 60 s or more; a
  shorter run reports it only.

--valgrind runs the hub under valgrind's memcheck (slow: use a short
run). The report (a Markdown table) goes to --out and stdout.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TASK_ID = "CUST-WP-0025-T08"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def wait_ready(url, proc, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("soak: the hub exited with %d before it was "
                             "ready" % proc.returncode)
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("soak: the hub was not ready within %d s" % timeout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "foshub"))
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--valgrind", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    foshub = os.path.abspath(args.bin)

    work = tempfile.mkdtemp(prefix="foshub-soak-")
    db = os.path.join(work, "dev-hub.db")
    log_path = os.path.join(work, "hub.log")
    env = dict(os.environ)
    env.pop("FOSHUB_DB", None)
    out = subprocess.run([foshub, "workplan", "import", "--db", "sqlite:" + db,
                          os.path.join(ROOT, "examples", "workplans")],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    if out.returncode != 0:
        raise SystemExit("soak: import: " + out.stderr)
    body = os.path.join(work, "mcp-call.json")
    with open(body, "w") as f:
        json.dump({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": "get_task", "arguments": {"id": TASK_ID},
                              "_meta": {
                                  "io.modelcontextprotocol/protocolVersion":
                                  "2026-07-28",
                                  "io.modelcontextprotocol/clientCapabilities":
                                  {}}}}, f)

    port = free_port()
    url = "http://127.0.0.1:%d" % port
    cmd = [foshub, "serve", "dev", "--db", "sqlite:" + db, "--listen",
           "127.0.0.1:%d" % port, "--no-auth", "--log-level", "warn"]
    if args.valgrind:
        cmd = ["valgrind", "--quiet", "--error-exitcode=99",
               "--leak-check=full", "--errors-for-leak-kinds=definite",
               "--show-leak-kinds=definite"] + cmd
    log = open(log_path, "w")
    hub = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=ROOT, env=env)
    failures = []
    samples = []
    try:
        wait_ready(url + "/readyz", hub, 120 if args.valgrind else 20)
        stop = threading.Event()

        def sample():
            t0 = time.time()
            while not stop.is_set():
                kib = rss_kib(hub.pid)
                if kib is not None:
                    samples.append((time.time() - t0, kib))
                stop.wait(1.0)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        wrk = subprocess.run(
            ["wrk", "-t2", "-c%d" % args.connections,
             "-d%ds" % args.seconds, "--timeout", "10s",
             "-s", os.path.join(HERE, "lua", "mixed.lua"), url, "--",
             TASK_ID, body],
            capture_output=True, text=True, timeout=args.seconds + 120)
        stop.set()
        sampler.join()
        m = re.search(r"^BENCH (\{.*\})$", wrk.stdout, re.M)
        s = re.search(r"^SOAK (\{.*\})$", wrk.stdout, re.M)
        if wrk.returncode != 0 or not m or not s:
            raise SystemExit("soak: wrk failed (%d):\n%s%s" %
                             (wrk.returncode, wrk.stdout, wrk.stderr))
        bench, soak = json.loads(m.group(1)), json.loads(s.group(1))
    finally:
        if hub.poll() is None:
            hub.send_signal(signal.SIGTERM)
        try:
            code = hub.wait(timeout=120)
        except subprocess.TimeoutExpired:
            hub.kill()
            code = hub.wait()
        log.close()

    errors = bench["errors"]
    if any(errors.values()):
        failures.append("wrk counted errors: %s" % errors)
    if soak["bad"]:
        failures.append("%d answers were neither 200 nor 201" % soak["bad"])
    if soak["rpc_errors"]:
        failures.append("%d MCP answers carried an error" % soak["rpc_errors"])
    if bench["requests"] == 0 or soak["created"] == 0:
        failures.append("no load: %d requests, %d messages" %
                        (bench["requests"], soak["created"]))
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    stored = con.execute("SELECT count(*) FROM messages WHERE from_agent = "
                         "'soak'").fetchone()[0]
    con.close()
    # wrk stops at its deadline with a request in flight on each
    # connection: those may be written without their 201 being counted
    if not soak["created"] <= stored <= soak["created"] + args.connections:
        failures.append("%d messages answered 201, %d in the database" %
                        (soak["created"], stored))
    if code != 0:
        failures.append("the hub exited with %d after SIGTERM (see below)"
                        % code)

    fifth = max(1, len(samples) // 5)
    warm = max(k for _, k in samples[:fifth]) if samples else 0
    last = max(k for _, k in samples[-fifth:]) if samples else 0
    allowed = warm + max(2048, warm // 10)
    checked = args.seconds >= 60 and not args.valgrind
    if checked and last > allowed:
        failures.append("RSS grew after warm-up: %d KiB at most in the "
                        "first fifth, %d KiB in the last" % (warm, last))

    rows = [
        ("duration", "%d s%s" % (args.seconds,
                                 " under valgrind" if args.valgrind else "")),
        ("requests", "%d (%.0f/s)" % (bench["requests"], bench["rps"])),
        ("latency p50 / p99 / max", "%.2f / %.2f / %.1f ms" % (
            bench["p50_us"] / 1000, bench["p99_us"] / 1000,
            bench["max_us"] / 1000)),
        ("messages answered 201 / in the database",
         "%d / %d" % (soak["created"], stored)),
        ("errors (socket, status, MCP)", "%d, %d, %d" % (
            sum(errors.values()), soak["bad"], soak["rpc_errors"])),
        ("RSS: warm-up max / last fifth max / allowed",
         "%.1f / %.1f / %.1f MiB%s" % (warm / 1024, last / 1024,
                                       allowed / 1024,
                                       "" if checked else " (not checked)")),
        ("exit after SIGTERM", str(code)),
        ("verdict", "FAIL: " + "; ".join(failures) if failures else "pass"),
    ]
    text = ("# Soak: dev-hub under a mixed load\n\n"
            "| | |\n|---|---|\n" +
            "".join("| %s | %s |\n" % r for r in rows) +
            "\nRSS samples (s, KiB): " +
            " ".join("%d:%d" % (t, k) for t, k in samples[::max(1, len(samples) // 30)])
            + "\n")
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)
    if failures:
        with open(log_path) as f:
            sys.stderr.write("soak: the hub's log (last 80 lines):\n" +
                             "".join(f.readlines()[-80:]))
        shutil.rmtree(work, ignore_errors=True)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
