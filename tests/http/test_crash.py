"""test_crash.py - what a hub promises when things go wrong: every write it
acknowledged survives a SIGKILL, nothing half-written is visible after
one, and the database passes SQLite's integrity check; a SIGTERM lets
requests in flight finish; idle and slow connections (slowloris) do not
hold the server.
"""

import http.client
import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import unittest

from harness import Hub, foshub_bin, ROOT


def integrity(db_path):
    out = subprocess.run(["sqlite3", db_path, "PRAGMA integrity_check;"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


class Crash(unittest.TestCase):
    def test_acknowledged_writes_survive_sigkill(self):
        hub = Hub().start()
        acked = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n):
            i = 0
            conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=10)
            while not stop.is_set():
                i += 1
                body = ('{"from_agent": "w%d", "to_agent": "x", "subject": "m%d-%d"}'
                        % (n, n, i))
                try:
                    conn.request("POST", "/messages", body=body,
                                 headers={"Content-Type": "application/json"})
                    r = conn.getresponse()
                    data = r.read()
                except (OSError, http.client.HTTPException):
                    return  # the hub died under us
                if r.status == 201:
                    with lock:
                        acked.append(json.loads(data)["id"])

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        deadline = time.time() + 30
        while time.time() < deadline and len(acked) < 300:
            time.sleep(0.05)
        hub.proc.kill()  # SIGKILL, mid-write
        hub.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(len(acked), 50)
        self.assertEqual(integrity(hub.db_path), "ok")
        hub.proc = None
        hub.start()
        try:
            missing = [i for i in acked if hub.get("/messages/" + i).status != 200]
            self.assertEqual(missing, [], "acknowledged but lost")
        finally:
            hub.stop()
            hub.cleanup()

    def test_an_import_killed_midway_leaves_nothing_half_written(self):
        hub = Hub()
        # a large workplan: 5000 tasks, imported in one transaction
        path = os.path.join(hub.dir, "BIG-WP-0001.md")
        with open(path, "w") as f:
            f.write("---\nid: BIG-WP-0001\ntype: workplan\ntitle: Big\n"
                    "domain: big\nrepo: big\nstatus: active\nowner: big\n"
                    "topic_slug: big\n---\n# Big\n\n## Phase 1 — Everything\n")
            for i in range(1, 5001):
                f.write("\n### T%04d — Task %d\n\n```yaml\nid: BIG-WP-0001-T%04d\n"
                        "status: todo\npriority: low\n```\n\n%s\n"
                        % (i, i, i, "x" * 200))
        env = dict(os.environ, FOSHUB_AUTH="off")
        env.pop("FOSHUB_DB", None)

        def run(db, kill_after=None):
            p = subprocess.Popen([foshub_bin(), "workplan", "import", "--db",
                                  "sqlite:" + db, path],
                                 cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            if kill_after is not None:
                time.sleep(kill_after)
                p.kill()
            return p.wait()

        def tasks(db):
            out = subprocess.run(["sqlite3", db,
                                  "SELECT count(*) FROM tasks WHERE workstream = "
                                  "'BIG-WP-0001';"],
                                 capture_output=True, text=True)
            return out.stdout.strip()

        # how long a whole import takes on this machine, then kills at
        # points spread over that time, each into a fresh database: the
        # kill lands mid-import whatever the machine's speed
        full = os.path.join(hub.dir, "full.db")
        t0 = time.monotonic()
        self.assertEqual(run(full), 0)
        took = time.monotonic() - t0
        self.assertEqual(tasks(full), "5000")
        killed_midway = 0
        for n, frac in enumerate((0.5, 0.3, 0.7, 0.15, 0.85, 0.05, 0.95)):
            db = os.path.join(hub.dir, "killed-%d.db" % n)
            if run(db, took * frac) == -signal.SIGKILL:
                killed_midway += 1
            if os.path.exists(db):
                self.assertEqual(integrity(db), "ok")
                # all or nothing
                self.assertIn(tasks(db), ("", "0", "5000"),
                              "half an import is visible")
        self.assertGreater(killed_midway, 0, "no run was killed during the import")
        hub.cleanup()


class Drain(unittest.TestCase):
    def test_sigterm_lets_requests_in_flight_finish(self):
        hub = Hub().start()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=30)
            big = ('{"from_agent": "a", "to_agent": "b", "subject": "s", "body": "%s"}'
                   % ("y" * 200000))
            # send the headers and half the body, then SIGTERM, then the rest
            conn.putrequest("POST", "/messages")
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(len(big)))
            conn.endheaders()
            conn.send(big[:1000].encode())
            time.sleep(0.2)
            hub.proc.send_signal(signal.SIGTERM)
            time.sleep(0.2)
            conn.send(big[1000:].encode())
            r = conn.getresponse()
            self.assertEqual(r.status, 201, r.read())
            self.assertEqual(hub.proc.wait(timeout=60), 0)
        finally:
            if hub.proc.poll() is None:
                hub.proc.kill()
            hub.proc = None
            hub.cleanup()


class Overload(unittest.TestCase):
    @unittest.skipIf(os.environ.get("FOSHUB_TEST_PG"), "a SQLite file lock")
    def test_a_write_that_cannot_get_the_database_is_answered_503(self):
        """Another process holds the database's write lock past the busy
        timeout (5 s): the write is refused with 503 and Retry-After,
        changes nothing, and goes through once the lock is gone."""
        hub = Hub().start()
        try:
            con = sqlite3.connect(hub.db_path, isolation_level=None, timeout=1)
            con.execute("BEGIN IMMEDIATE")
            try:
                r = hub.post("/messages", {"from_agent": "a", "to_agent": "b",
                                           "subject": "while locked"})
            finally:
                con.execute("ROLLBACK")
                con.close()
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.header("Retry-After"), "1")
            self.assertEqual(r.json()["title"], "Service busy")
            self.assertNotIn("while locked",
                             [m["subject"] for m in hub.get("/messages?limit=100").json()["items"]])
            r = hub.post("/messages", {"from_agent": "a", "to_agent": "b",
                                       "subject": "after"})
            self.assertEqual(r.status, 201, r)
        finally:
            hub.stop()
            hub.cleanup()


def half_open(port, n, source="127.0.0.1"):
    """n connections that each sent part of a request header, never the
    rest (slowloris)."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                     source_address=(source, 0))
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            pass  # already closed by the server
        socks.append(s)
    return socks


def closed_by_server(socks, wait):
    """For each socket, whether the server closed it within wait
    seconds."""
    closed = [False] * len(socks)
    index = {s.fileno(): i for i, s in enumerate(socks)}
    poll = select.poll()
    for fd in index:
        poll.register(fd, select.POLLIN)
    deadline = time.monotonic() + wait
    while index and time.monotonic() < deadline:
        left = deadline - time.monotonic()
        for fd, _ in poll.poll(max(left, 0) * 1000):
            try:
                closed[index[fd]] = socks[index[fd]].recv(1) == b""
            except OSError:  # reset
                closed[index[fd]] = True
            poll.unregister(fd)
            del index[fd]
    return closed


def healthz_from(port, source, timeout=5):
    """GET /healthz from the source address; its status, or None when the
    connection was closed without an answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status
    except (ConnectionError, http.client.RemoteDisconnected):
        return None
    finally:
        conn.close()


class SlowClients(unittest.TestCase):
    def test_idle_and_slow_connections_do_not_hold_the_server(self):
        hub = Hub().start()
        socks = []
        try:
            for i in range(200):
                s = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
                # slowloris: a request line and one header, never finished
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                socks.append(s)
            for _ in range(20):
                r = hub.get("/healthz")
                self.assertEqual(r.status, 200)
            self.assertEqual(hub.get("/tasks?limit=1").status, 200)
        finally:
            for s in socks:
                s.close()
            hub.stop()
            hub.cleanup()

    def test_one_address_cannot_take_every_connection(self):
        """--max-per-address: past it, a client's new connections are
        closed at once; another address (127.0.0.2, also loopback) is
        still answered, and the client is again once it lets go."""
        hub = Hub(args=("--max-per-address", "8")).start()
        socks = []
        try:
            socks = half_open(hub.port, 24)
            closed = closed_by_server(socks, 2)
            self.assertEqual(closed.count(True), 16, closed)
            t0 = time.monotonic()
            self.assertEqual(healthz_from(hub.port, "127.0.0.2"), 200)
            self.assertLess(time.monotonic() - t0, 2)
            self.assertIsNone(healthz_from(hub.port, "127.0.0.1"))
            for s in socks:
                s.close()
            socks = []
            deadline = time.monotonic() + 10
            while (healthz_from(hub.port, "127.0.0.1") != 200 and
                   time.monotonic() < deadline):
                time.sleep(0.1)
            self.assertEqual(healthz_from(hub.port, "127.0.0.1"), 200)
        finally:
            for s in socks:
                s.close()
            hub.stop()
            hub.cleanup()

    def test_more_half_open_connections_than_the_server_takes(self):
        """The report: 1,100 half-sent requests from one address, more
        than the 1,024 connections a hub takes; with the default limit
        per address another address is still answered at once."""
        hub = Hub().start()
        socks = []
        try:
            socks = half_open(hub.port, 1100)
            t0 = time.monotonic()
            self.assertEqual(healthz_from(hub.port, "127.0.0.2"), 200)
            self.assertLess(time.monotonic() - t0, 2)
            self.assertEqual(closed_by_server(socks, 2).count(False), 256)
        finally:
            for s in socks:
                s.close()
            hub.stop()
            hub.cleanup()
