"""test_cli.py - the foshub command line: help and version, workplan import
(idempotent, refusing malformed files with file:line and storing nothing),
environment fallbacks, and data surviving a restart."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

from harness import DATA, EXAMPLE, EXAMPLES, Hub, foshub_bin, run_cli


class Help(unittest.TestCase):
    def test_version(self):
        code, out, _ = run_cli("--version")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^foshub \d+\.\d+\.\d+\n$")

    def test_help_lists_commands(self):
        code, out, _ = run_cli("--help")
        self.assertEqual(code, 0)
        self.assertIn("serve", out)
        self.assertIn("workplan import", out)
        # every hub, not only dev-hub, with its port and what it is for
        for line in ("  idp  idp      8000  NetKingdom IdP",
                     "  dev  dev-hub  8001  Development coordination",
                     "  ops  ops-hub  8002  Runtime operations",
                     "  fin  fin-hub  8003  Resource viability"):
            self.assertIn(line, out)
        hubs = out.split("commands:")[0]
        self.assertTrue(all(len(l) < 80 for l in hubs.splitlines()), hubs)

    def test_subcommand_help(self):
        for args in (("serve", "--help"), ("workplan", "import", "--help"),
                     ("help", "serve"), ("workplan", "--help")):
            code, out, _ = run_cli(*args)
            self.assertEqual(code, 0, args)
            self.assertTrue(out.startswith("usage: foshub "), out)
        code, out, _ = run_cli("serve", "--help")
        for opt in ("--listen", "--db", "FOSHUB_DB", "FOSHUB_LISTEN",
                    "--max-per-address"):
            self.assertIn(opt, out)

    def test_db_default_is_each_hubs_own_file(self):
        # what the code does (db status names the database it opens, in
        # an empty directory) is what serve --help and mcp --help say
        _, serve_help, _ = run_cli("serve", "--help")
        _, mcp_help, _ = run_cli("mcp", "--help")
        d = tempfile.mkdtemp(prefix="foshub-cli-")
        try:
            for hub, name in (("dev", "dev-hub"), ("ops", "ops-hub"),
                              ("fin", "fin-hub"), ("idp", "idp")):
                p = subprocess.run([foshub_bin(), "db", "status", hub],
                                   capture_output=True, text=True, cwd=d,
                                   env={k: v for k, v in os.environ.items()
                                        if k != "FOSHUB_DB"}, timeout=60)
                self.assertEqual(p.stdout.splitlines()[0],
                                 "database sqlite:var/%s.db (sqlite)" % name,
                                 p.stdout + p.stderr)
                self.assertIn("var/%s.db" % name, serve_help)
                if hub != "idp":
                    self.assertIn("var/%s.db" % name, mcp_help)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_usage_errors(self):
        for args, msg in ((("frobnicate",), "unknown command"),
                          (("serve",), "which hub"),
                          (("serve", "nope"), "unknown hub 'nope'"),
                          # mcp names only the hubs it serves
                          (("mcp", "idp"), "idp has no MCP tools; one of: "
                                           "dev, fin, ops\n"),
                          (("mcp", "nope"), "unknown hub 'nope'; one of: "
                                            "dev, fin, ops\n"),
                          (("mcp",), "which hub? one of: dev, fin, ops\n"),
                          (("serve", "dev", "--threads", "0"), "--threads"),
                          (("serve", "dev", "--max-per-address", "0"),
                           "--max-per-address must be 1 to 1024"),
                          (("serve", "dev", "--max-per-address", "1025"),
                           "--max-per-address must be 1 to 1024"),
                          (("serve", "dev", "--bogus"), "--bogus"),
                          (("workplan", "import"), "no workplan files"),
                          (("workplan",), "needs a subcommand"),
                          (("workplan", "frob"), "unknown subcommand 'frob'"),
                          ((), "usage")):
            code, _, err = run_cli(*args)
            self.assertEqual(code, 2, args)
            self.assertIn(msg, err)


class Import(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="foshub-cli-")
        self.db = "sqlite:" + os.path.join(self.dir, "dev.db")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def dump(self):
        import sqlite3
        con = sqlite3.connect(os.path.join(self.dir, "dev.db"))
        try:
            return "\n".join(con.iterdump())
        finally:
            con.close()

    def test_import_twice(self):
        code, out, err = run_cli("workplan", "import", "--db", self.db, EXAMPLE)
        self.assertEqual(code, 0, err)
        self.assertIn("imported CUST-WP-0025", out)
        self.assertIn("26 tasks (26 new, 0 updated, 0 unchanged), 4 decisions",
                      out)
        before = self.dump()
        code, out, err = run_cli("workplan", "import", "--db", self.db, EXAMPLE)
        self.assertEqual(code, 0, err)
        self.assertIn("26 tasks (0 new, 0 updated, 26 unchanged)", out)
        self.assertEqual(self.dump(), before)

    def test_import_directory(self):
        code, out, err = run_cli("workplan", "import", "--db", self.db,
                                 EXAMPLES)
        self.assertEqual(code, 0, err)
        self.assertGreaterEqual(out.count("imported "), 1)

    def test_malformed_file_changes_nothing(self):
        run_cli("workplan", "import", "--db", self.db, EXAMPLE)
        before = self.dump()
        with open(EXAMPLE, encoding="utf-8") as f:
            lines = f.read().split("\n")
        i = lines.index("id: CUST-WP-0025-T20")
        lines[i + 2] = "priority: urgent"
        bad = os.path.join(self.dir, "bad.txt")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        code, out, err = run_cli("workplan", "import", "--db", self.db, bad)
        self.assertEqual(code, 1)
        self.assertIn("%s:%d:" % (bad, i + 3), err)
        self.assertIn("urgent", err)
        self.assertEqual(out, "")
        self.assertEqual(self.dump(), before)

    def test_each_bad_fixture_is_refused_with_its_line(self):
        bad_dir = os.path.join(DATA, "workplans", "bad")
        names = sorted(os.listdir(bad_dir))
        self.assertGreater(len(names), 10)
        for name in names:
            path = os.path.join(bad_dir, name)
            code, out, err = run_cli("workplan", "import", "--db", self.db,
                                     path)
            with self.subTest(name=name):
                self.assertEqual(code, 1, err)
                self.assertRegex(err, r"foshub: error: %s:\d+:" %
                                 re.escape(path))
        # not even a domain was created by any of them
        self.assertNotIn('INSERT INTO "domains"', self.dump())

    def test_same_workplan_twice_in_one_run(self):
        other = os.path.join(self.dir, "copy.txt")
        shutil.copy(EXAMPLE, other)
        code, out, err = run_cli("workplan", "import", "--db", self.db,
                                 EXAMPLE, other)
        self.assertEqual(code, 1)
        self.assertEqual(out.count("imported CUST-WP-0025"), 1)
        self.assertIn("%s:5:" % other, err)  # the metadata row
        self.assertIn("already imported from %s" % EXAMPLE, err)

    def test_workplan_level_errors_have_a_line(self):
        with open(EXAMPLE, encoding="utf-8") as f:
            text = f.read()
        bad = os.path.join(self.dir, "long.txt")
        with open(bad, "w", encoding="utf-8") as f:
            f.write(text.replace("FOS Hub Bootstrap", "X" * 400, 2))
        code, _, err = run_cli("workplan", "import", "--db", self.db, bad)
        self.assertEqual(code, 1)
        self.assertIn("%s:5: workstream: field 'title'" % bad, err)

    def test_empty_directory(self):
        empty = os.path.join(self.dir, "empty")
        os.mkdir(empty)
        code, _, err = run_cli("workplan", "import", "--db", self.db, empty)
        self.assertEqual(code, 1)
        self.assertIn("no workplan files", err)

    def test_missing_file_and_bad_db(self):
        code, _, err = run_cli("workplan", "import", "--db", self.db,
                               "/no/such/plan.md")
        self.assertEqual(code, 1)
        self.assertIn("/no/such/plan.md", err)
        # nothing listens on port 1; the password is not shown
        code, _, err = run_cli("workplan", "import", "--db",
                               "postgresql://u:pw-x1@127.0.0.1:1/x", EXAMPLE)
        self.assertEqual(code, 1)
        self.assertIn("cannot connect to database "
                      "'postgresql://u:***@127.0.0.1:1/x'", err)
        self.assertNotIn("pw-x1", err)
        # a bare word is not silently taken as a file name
        code, _, err = run_cli("workplan", "import", "--db", "sqlite", EXAMPLE)
        self.assertEqual(code, 1)
        self.assertIn("give sqlite:PATH", err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "sqlite")))
        # the scheme is case-insensitive
        code, _, err = run_cli("workplan", "import", "--db",
                               "SQLITE:" + os.path.join(self.dir, "u.db"),
                               EXAMPLE)
        self.assertEqual(code, 0, err)

    def test_environment_fallbacks(self):
        code, _, err = run_cli("workplan", "import", EXAMPLE,
                               env={"FOSHUB_DB": self.db})
        self.assertEqual(code, 0, err)
        hub = Hub(workdir=self.dir)
        hub.db = self.db
        # FOSHUB_LISTEN and FOSHUB_DB are used when the options are absent
        import subprocess
        import signal
        from harness import foshub_bin, ROOT
        env = dict(os.environ, FOSHUB_DB=self.db, FOSHUB_LISTEN="127.0.0.1:0",
                   FOSHUB_AUTH="off")
        p = subprocess.Popen([foshub_bin(), "serve", "dev"], cwd=ROOT, env=env,
                             stderr=subprocess.PIPE, text=True)
        line = ""
        for line in p.stderr:
            if "listening on" in line:
                break
        self.assertIn(self.db, line)
        port = int(re.search(r":(\d+) ", line).group(1))
        hub.port = port
        self.assertEqual(len(hub.get("/tasks?limit=100").json()["items"]), 26)
        p.send_signal(signal.SIGTERM)
        p.stderr.read()
        self.assertEqual(p.wait(timeout=30), 0)


class Serve(unittest.TestCase):
    def test_data_survives_restart(self):
        hub = Hub()
        try:
            hub.start()
            r = hub.post("/domains", body={"name": "Durable"})
            self.assertEqual(r.status, 201)
            hub.stop()
            hub.start()
            self.assertEqual(hub.get("/domains/durable").json()["name"],
                             "Durable")
            hub.stop()
        finally:
            hub.cleanup()

    def test_bad_listen_is_refused_before_touching_the_database(self):
        d = tempfile.mkdtemp(prefix="foshub-cli-")
        try:
            db = os.path.join(d, "never.db")
            for listen in ("", "127.0.0.1: 80", "127.0.0.1:+80",
                           "127.0.0.1:65536"):
                code, _, err = run_cli("serve", "dev", "--db", "sqlite:" + db,
                                       "--listen", listen)
                self.assertEqual(code, 1, listen)
                self.assertIn("listen address", err)
                self.assertFalse(os.path.exists(db), listen)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_quiet_log_still_says_where(self):
        hub = Hub(args=("--log-level", "error"))
        try:
            hub.start()   # finds the port in the "listening on" line
            self.assertEqual(hub.get("/healthz").status, 200)
            hub.stop()
            self.assertFalse(any(" info " in l for l in hub.log), hub.log)
        finally:
            hub.cleanup()

    def test_port_in_use(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        d = tempfile.mkdtemp(prefix="foshub-cli-")
        try:
            code, _, err = run_cli("serve", "dev", "--db",
                                   "sqlite:" + os.path.join(d, "x.db"),
                                   "--listen", "127.0.0.1:%d" % port)
            self.assertEqual(code, 1)
            self.assertIn("cannot listen on 127.0.0.1:%d: Address already "
                          "in use" % port, err)
            # libmicrohttpd's own message named the port argument (0)
            self.assertNotIn("port 0", err)
            code, _, err = run_cli("serve", "dev", "--db",
                                   "sqlite:" + os.path.join(d, "x.db"),
                                   "--listen", "localhost")
            self.assertEqual(code, 1)
            self.assertIn("not HOST:PORT", err)
        finally:
            s.close()
            shutil.rmtree(d, ignore_errors=True)
