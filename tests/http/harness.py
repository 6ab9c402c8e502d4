"""harness.py - start real foshub processes on free loopback ports and talk
HTTP to them. Standard library only.

The binary under test comes from $FOSHUB_BIN (set by run.py). With
$FOSHUB_TEST_PG set to the URL of a PostgreSQL cluster (make test starts a
throwaway one, tests/pg/cluster.sh), each hub gets a fresh database there
instead of a SQLite file, dropped when the hub is cleaned up; psql reads
and dumps it. A hub is
started with --listen 127.0.0.1:0 so the kernel picks a free port; the port
is read from the "listening on" line the hub logs. Stopping a hub sends
SIGTERM and requires a clean exit (status 0): under AddressSanitizer that
also means no leak and no memory error was reported.
"""

import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples", "workplans")
EXAMPLE = os.path.join(EXAMPLES, "CUST-WP-0025.txt")
DATA = os.path.join(ROOT, "tests", "data")


_db_counter = [0]


def test_pg():
    """The PostgreSQL cluster the tests run against, or None (SQLite)."""
    return os.environ.get("FOSHUB_TEST_PG") or None


def psql(url, sql):
    """Run sql on a PostgreSQL database; return its unaligned output."""
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                        "-d", url, "-c", sql], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("psql %s: %s" % (sql, p.stderr))
    return p.stdout


def new_pg_db():
    """A fresh database on the test cluster; returns its URL."""
    admin = test_pg()
    _db_counter[0] += 1
    name = "h_%d_%d" % (os.getpid(), _db_counter[0])
    psql(admin, "CREATE DATABASE %s" % name)
    return admin.rsplit("/", 1)[0] + "/" + name


def drop_pg_db(url):
    name = url.rsplit("/", 1)[1]
    psql(test_pg(), "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


def dump_pg_db(url):
    """Every row of every table, in a stable order (one psql run)."""
    script = ("SELECT format('SELECT %L, t::text FROM %I t ORDER BY 2', "
              "tablename, tablename) FROM pg_tables WHERE schemaname = "
              "current_schema() ORDER BY tablename \\gexec\n")
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                        "-d", url, "-f", "-"], input=script,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("psql dump: %s" % p.stderr)
    return p.stdout


def foshub_bin():
    return os.environ.get("FOSHUB_BIN", os.path.join(ROOT, "build", "foshub"))


def run_cli(*args, env=None, timeout=60, input=None):
    """Run `foshub ARGS` (input on its stdin); return (exit status, stdout,
    stderr)."""
    e = dict(os.environ)
    e.pop("FOSHUB_DB", None)
    e.pop("FOSHUB_LISTEN", None)
    e.pop("FOSHUB_POLICY_DIR", None)
    # functional tests run hubs without identity checks; tests/auth
    # checks those
    e["FOSHUB_AUTH"] = "off"
    if env:
        e.update(env)
    p = subprocess.run([foshub_bin(), *args], capture_output=True, text=True,
                       timeout=timeout, env=e, cwd=ROOT, input=input)
    return p.returncode, p.stdout, p.stderr


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Hub:
    """One `foshub serve HUB` process with its own temporary database."""

    def __init__(self, hub="dev", workdir=None, args=(), env=None, db=None):
        self.hub = hub
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="foshub-http-")
        self.db_path = os.path.join(self.dir, "%s-hub.db" % hub)
        self.db = "sqlite:" + self.db_path
        self.pg_db = None
        if db:
            self.db = db  # another replica's database: not ours to drop
        elif test_pg():
            self.pg_db = self.db = new_pg_db()
        self.args = list(args)
        self.env = env
        self.proc = None
        self.port = None
        self.log = []

    def import_workplans(self, *paths):
        code, out, err = run_cli("workplan", "import", "--db", self.db, *paths)
        if code != 0:
            raise AssertionError("import failed (%d): %s%s" % (code, out, err))
        return out

    def start(self):
        e = dict(os.environ)
        e.pop("FOSHUB_DB", None)
        e.pop("FOSHUB_LISTEN", None)
        e.pop("FOSHUB_POLICY_DIR", None)
        e["FOSHUB_AUTH"] = "off"  # see run_cli
        if self.env:
            e.update(self.env)
        cmd = [foshub_bin(), "serve", self.hub, "--db", self.db,
               "--listen", "127.0.0.1:0", *self.args]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, text=True,
                                     cwd=ROOT, env=e)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if not self.port:
            self.proc.kill()
            raise AssertionError("hub did not start:\n" + "".join(self.log)
                                 + self.proc.stderr.read())
        # keep draining stderr so the hub never blocks on a full pipe
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        return self

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def kill(self):
        """SIGKILL: the process dies mid-way, as on a crash or OOM kill."""
        self.proc.kill()
        self.proc.wait(timeout=30)
        self.reader.join(timeout=10)
        self.proc = None

    def stop(self, check=True):
        if not self.proc:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("hub did not stop on SIGTERM")
        self.reader.join(timeout=10)
        self.proc = None
        if check and code != 0:
            raise AssertionError("hub exited with %d:\n%s"
                                 % (code, "".join(self.log[-60:])))
        for line in self.log:
            if "ERROR: AddressSanitizer" in line or "runtime error:" in line:
                raise AssertionError("sanitizer report:\n" + "".join(self.log))

    def cleanup(self):
        self.stop(check=False)
        if self.pg_db:
            drop_pg_db(self.pg_db)
            self.pg_db = None
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, headers=None, raw=None,
                chunks=None):
        """body: a JSON value to send; raw: bytes or str sent as is;
        chunks: a list of byte strings sent with chunked encoding."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        data = None
        if raw is not None:
            data = raw.encode() if isinstance(raw, str) else raw
        elif body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if chunks is not None:
            h["Transfer-Encoding"] = "chunked"
            conn.request(method, path, body=iter(chunks), headers=h,
                         encode_chunked=True)
        else:
            conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        resp = Response(r.status, r.getheaders(),
                        r.read().decode("utf-8", "replace"))
        conn.close()
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def all_items(self, path, limit=7):
        """Follow next_cursor through every page of a list."""
        sep = "&" if "?" in path else "?"
        url = "%s%slimit=%d" % (path, sep, limit)
        items, pages = [], 0
        while True:
            r = self.get(url)
            assert r.status == 200, r
            page = r.json()
            items.extend(page["items"])
            pages += 1
            if page["next_cursor"] is None:
                return items, pages
            url = "%s%slimit=%d&cursor=%s" % (path, sep, limit,
                                              page["next_cursor"])

    def dump(self):
        """Every row of the database, to prove a refusal changed nothing.
        Read-only, so that closing it never checkpoints or removes the
        write-ahead log under a hub that is writing (ops-hub's probes)."""
        if self.db.startswith("postgresql:"):
            return dump_pg_db(self.db)
        con = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True)
        try:
            return "\n".join(con.iterdump())
        finally:
            con.close()


class HubTestCase(unittest.TestCase):
    """A test case with one hub for the whole class: dev-hub with the
    example imported unless a subclass sets hub_name (e.g. "ops")."""

    hub_name = "dev"
    hub_args = ()
    hub_env = None
    import_examples = True

    @classmethod
    def setUpClass(cls):
        cls.hub = Hub(hub=cls.hub_name, args=cls.hub_args, env=cls.hub_env)
        if cls.import_examples and cls.hub_name == "dev":
            cls.hub.import_workplans(EXAMPLE)
        cls.hub.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.hub.stop()
        finally:
            cls.hub.cleanup()

    def assertProblem(self, r, status, field=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/problem+json")
        p = r.json()
        self.assertEqual(p["status"], status)
        for k in ("type", "title", "detail"):
            self.assertIn(k, p)
        if field is not None:
            self.assertEqual(p.get("field"), field, p)
        return p
