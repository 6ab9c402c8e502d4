"""test_devhub_ops.py - dev-hub complete: dependencies and ready work, goals,
contributions, TD and EP, SBOMs and the DoI over REST; and the operator
commands against the real binary: workplan check/fix round trips in both
forms with deliberate drift, rule rendering over three repos with one
escaping, mcp-config migrate on a realistic ~/.claude.json, the deprecated
state-hub name, and `foshub up` started, probed, a hub killed and
restarted, and stopped."""

import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from harness import DATA, EXAMPLE, Hub, HubTestCase, ROOT, foshub_bin, run_cli

WS = "CUST-WP-0025"

CDX = {"bomFormat": "CycloneDX", "specVersion": "1.6",
       "components": [{"type": "library", "name": "lodash", "version": "4.17.21",
                       "purl": "pkg:npm/lodash@4.17.21",
                       "licenses": [{"license": {"id": "MIT"}}]}]}
SPDX = {"spdxVersion": "SPDX-2.3", "name": "x",
        "packages": [{"SPDXID": "SPDXRef-1", "name": "lodash", "versionInfo": "4.17.20",
                      "licenseConcluded": "MIT",
                      "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER",
                                        "referenceType": "purl",
                                        "referenceLocator": "pkg:npm/lodash@4.17.20"}]}]}


class Work(HubTestCase):
    def ids(self, r):
        self.assertEqual(r.status, 200, r)
        return [t["id"] for t in r.json()["items"]]

    def test_dependencies_ready_blocked_claim(self):
        h = self.hub
        r = h.post("/dependencies", {"item": WS + "-T09", "depends_on": WS + "-T10"})
        self.assertEqual(r.status, 201, r)
        dep = r.json()["id"]
        r = h.post("/dependencies", {"item": WS + "-T10", "depends_on": WS + "-T09"})
        p = self.assertProblem(r, 409, "depends_on")
        self.assertIn(WS + "-T10 -> " + WS + "-T09 -> " + WS + "-T10", p["detail"])
        before = h.dump()
        self.assertProblem(h.post("/dependencies", {"item": WS + "-T99", "depends_on": WS + "-T01"}),
                           422, "item")
        self.assertEqual(h.dump(), before)
        ready = self.ids(h.get("/tasks/ready?workstream=" + WS + "&limit=500"))
        self.assertNotIn(WS + "-T09", ready)
        self.assertIn(WS + "-T10", ready)
        r = h.get("/tasks/blocked?workstream=" + WS)
        blocked = {t["id"]: t for t in r.json()["items"]}
        self.assertEqual(blocked[WS + "-T09"]["blockers"][0]["id"], WS + "-T10")
        # one task read on its own says what blocks it; a task without
        # open blockers says so with an empty list
        t = h.get("/tasks/" + WS + "-T09").json()
        self.assertEqual([(b["kind"], b["id"]) for b in t["blockers"]], [("task", WS + "-T10")])
        self.assertEqual(t["blockers"][0]["status"], "todo")
        self.assertEqual(h.get("/tasks/" + WS + "-T10").json()["blockers"], [])
        self.assertProblem(h.get("/tasks/ready?limit=0"), 400, "limit")
        self.assertProblem(h.get("/tasks/ready?bogus=1"), 400)
        self.assertEqual(h.get("/tasks/ready?domain=nope").status, 404)
        r = h.post("/workstreams/" + WS + "/claim", {"agent": "a1"})
        self.assertNotEqual(r.json()["task"]["id"], WS + "-T09")
        h.post("/tasks/%s/release" % r.json()["task"]["id"], {"agent": "a1"})
        self.assertEqual(h.request("DELETE", "/dependencies/" + dep).status, 204)
        self.assertEqual(h.request("DELETE", "/dependencies/" + dep).status, 404)
        self.assertIn(WS + "-T09", self.ids(h.get("/tasks/ready?workstream=" + WS + "&limit=500")))

    def test_goals_contributions_td_ep(self):
        h = self.hub
        r = h.post("/goals", {"title": "Level 3", "domain": "custodian", "workstreams": [WS]})
        self.assertEqual(r.status, 201, r)
        g = h.get("/goals/" + r.json()["id"]).json()
        self.assertEqual(g["workstream_progress"][0]["tasks_total"], 26)
        self.assertProblem(h.post("/goals", {"title": "x", "domain": "custodian",
                                             "workstreams": ["NOPE-1"]}), 422, "workstreams")
        r = h.post("/contributions", {"task": WS + "-T05", "contributor": "agent-7",
                                      "summary": "extracted hub-core", "session_id": "s-1"})
        self.assertEqual(r.status, 201, r)
        c = r.json()
        self.assertEqual(c["workstream"], WS)
        self.assertTrue(c["at"])
        self.assertEqual(h.get("/contributions?session_id=s-1").json()["items"][0]["id"], c["id"])
        self.assertProblem(h.post("/contributions", {"task": WS + "-T05", "contributor": "a",
                                                     "summary": "x", "workstream": WS}), 422,
                           "workstream")
        r = h.post("/tech-debt", {"title": "no pool", "domain": "custodian", "severity": "high"})
        self.assertEqual(r.status, 201, r)
        self.assertTrue(re.match(r"^TD-\d{4}$", r.json()["id"]))
        td = r.json()["id"]
        self.assertEqual(h.patch("/tech-debt/" + td, {"status": "resolved", "owner": "w"})
                         .json()["status"], "resolved")
        self.assertProblem(h.post("/tech-debt", {"title": "x", "domain": "custodian",
                                                 "status": "gone"}), 422, "status")
        r = h.post("/enhancement-proposals", {"title": "push", "domain": "custodian",
                                              "motivation": "poll is slow"})
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.json()["id"].startswith("EP-"))
        self.assertEqual(r.json()["status"], "proposed")

    def test_sbom(self):
        h = self.hub
        for name in ("app", "svc"):
            self.assertEqual(h.post("/repos", {"name": name, "domain": "custodian"}).status, 201)
        r = h.post("/repos/app/sbom?source=bom.json", CDX)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["licenses"], {"MIT": 1})
        self.assertEqual(h.post("/repos/app/sbom", CDX).status, 200)
        self.assertEqual(h.post("/repos/svc/sbom", SPDX).status, 201)
        items = h.get("/sbom/components?repo=app").json()["items"]
        self.assertEqual([(c["name"], c["version"]) for c in items], [("lodash", "4.17.21")])
        u = h.get("/sbom/usage?component=pkg:npm/lodash").json()
        self.assertEqual([x["repo"] for x in u["repos"]], ["app", "svc"])
        before = h.dump()
        bad = dict(CDX, specVersion="1.3")
        self.assertProblem(h.post("/repos/app/sbom", bad), 422, "specVersion")
        self.assertEqual(h.post("/repos/nope/sbom", CDX).status, 404)
        self.assertEqual(h.dump(), before)
        self.assertProblem(h.get("/sbom/usage"), 400, "component")

    def test_doi(self):
        h = self.hub
        d = tempfile.mkdtemp(prefix="foshub-doi-")
        try:
            with open(os.path.join(d, "README.md"), "w") as f:
                f.write("# r\n")
            h.post("/repos", {"name": "doi-repo", "domain": "custodian", "default_path": d})
            r = h.get("/repos/doi-repo/doi")
            self.assertEqual(r.status, 200, r)
            items = {i["id"]: i for i in r.json()["items"]}
            self.assertTrue(items["readme"]["passed"])
            self.assertFalse(items["rule-files"]["passed"])
            self.assertIn("rules render", items["rule-files"]["reason"])
            s = h.get("/doi/summary?domain=custodian").json()
            self.assertIn("doi-repo", [x["repo"] for x in s["repos"]])
            self.assertProblem(h.get("/repos/doi-repo/doi?refresh=maybe"), 400, "refresh")
            self.assertEqual(h.get("/repos/nope/doi").status, 404)
        finally:
            shutil.rmtree(d, ignore_errors=True)


def strip_ids(text, crlf):
    lines = [l for l in text.split("\n") if "state_hub_task_id" not in l]
    out = "\n".join(lines)
    return out.replace("\n", "\r\n") if crlf else out


class Consistency(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="foshub-wp-")
        self.db = "sqlite:" + os.path.join(self.dir, "dev.db")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def roundtrip(self, src, name, crlf):
        with open(src, newline="") as f:
            text = f.read()
        path = os.path.join(self.dir, name)
        code, out, err = run_cli("workplan", "import", "--db", self.db, src)
        self.assertEqual(code, 0, err)
        drifted = strip_ids(text, crlf).replace("id: CUST-WP-0025-T03\nstatus: todo",
                                                "id: CUST-WP-0025-T03\nstatus: done")
        drifted = drifted.replace("id: CUST-WP-0025-T03\r\nstatus: todo",
                                  "id: CUST-WP-0025-T03\r\nstatus: done")
        with open(path, "w", newline="") as f:
            f.write(drifted)
        code, out, err = run_cli("workplan", "check", "--db", self.db, path)
        self.assertEqual(code, 1, out + err)
        self.assertRegex(out, re.escape(path) + r":\d+: task CUST-WP-0025-T03: status is "
                         r"'done' in the file, 'todo' in the database")
        self.assertRegex(out, r"task CUST-WP-0025-T01: no state_hub_task_id in the file")
        self.assertRegex(out, r"in the database was imported from")
        code, out, err = run_cli("workplan", "fix", "--db", self.db, path)
        self.assertEqual(code, 0, out + err)
        self.assertIn("wrote 26 state_hub ids", out)
        code, out, err = run_cli("workplan", "check", "--db", self.db, path)
        self.assertEqual(code, 0, out + err)
        with open(path, newline="") as f:
            fixed = f.read()
        # the database's ids went back in; every other byte is the same
        self.assertEqual(strip_ids(fixed.replace("\r\n", "\n"), crlf), drifted)
        for m in re.finditer(r'state_hub_task_id: "([0-9a-f-]+)"', text):
            self.assertIn(m.group(1), fixed)
        with open(path + ".bak", newline="") as f:
            self.assertEqual(f.read(), drifted)
        code, out, _ = run_cli("workplan", "fix", "--db", self.db, path)
        self.assertNotIn("wrote", out)

    def test_text_form_crlf(self):
        self.roundtrip(EXAMPLE, "plan.txt", True)

    def test_markdown_form(self):
        self.roundtrip(os.path.join(DATA, "workplans", "CUST-WP-0025.md"), "plan.md", False)

    def test_nothing_to_check(self):
        # no PATH and no registered repo, or paths without workplan
        # files: not "0 findings" and success, but what to name instead
        empty = os.path.join(self.dir, "empty")
        os.makedirs(empty)
        for verb in ("check", "fix"):
            code, out, err = run_cli("workplan", verb, "--db", self.db)
            self.assertEqual(code, 2, out + err)
            self.assertIn("nothing to %s: no PATH given, and no repo "
                          "registered" % verb, err)
            self.assertIn("foshub workplan %s PATH..." % verb, err)
            self.assertNotIn("0 findings", err)
            code, out, err = run_cli("workplan", verb, "--db", self.db, empty)
            self.assertEqual(code, 2, out + err)
            self.assertIn("nothing to %s: no workplan files" % verb, err)
        # a file given is checked, even when all is well
        code, out, err = run_cli("workplan", "import", "--db", self.db,
                                 EXAMPLE)
        self.assertEqual(code, 0, err)
        code, out, err = run_cli("workplan", "check", "--db", self.db,
                                 EXAMPLE)
        self.assertIn("in 1 file", err)
        self.assertNotIn("nothing to check", err)

    def test_duplicate_and_registered_repos(self):
        a = os.path.join(self.dir, "repo", "workplans")
        os.makedirs(a)
        shutil.copy(EXAMPLE, os.path.join(a, "one.txt"))
        shutil.copy(os.path.join(DATA, "workplans", "CUST-WP-0025.md"), os.path.join(a, "two.md"))
        hub = Hub(workdir=self.dir)
        hub.db, hub.db_path = self.db, os.path.join(self.dir, "dev.db")
        hub.import_workplans(os.path.join(a, "one.txt"))
        hub.start()
        try:
            hub.post("/repos", {"name": "repo", "domain": "custodian",
                                "default_path": os.path.join(self.dir, "repo")})
        finally:
            hub.stop()
        code, out, err = run_cli("workplan", "check", "--db", self.db)
        self.assertEqual(code, 1, out + err)
        self.assertIn("is also given by", out)


class Rules(unittest.TestCase):
    def test_three_repos_one_escaping(self):
        d = tempfile.mkdtemp(prefix="foshub-rules-")
        try:
            db = "sqlite:" + os.path.join(d, "dev.db")
            for name in ("plain", "infra", "escape", "outside"):
                os.makedirs(os.path.join(d, name))
            os.makedirs(os.path.join(d, "infra", "helm"))
            os.symlink(os.path.join(d, "outside"), os.path.join(d, "escape", ".claude"))
            hub = Hub(workdir=d)
            hub.db, hub.db_path = db, os.path.join(d, "dev.db")
            hub.start()
            try:
                hub.post("/domains", {"name": "Ops"})
                for name in ("plain", "infra", "escape"):
                    r = hub.post("/repos", {"name": name, "domain": "ops",
                                            "default_path": os.path.join(d, name)})
                    self.assertEqual(r.status, 201, r)
            finally:
                hub.stop()
            code, out, err = run_cli("rules", "render", "--db", db)
            self.assertEqual(code, 1, out + err)
            self.assertIn("created %s/plain/.claude/rules/session-protocol.md" % d, out)
            self.assertIn("created %s/infra/.claude/rules/session-protocol.md" % d, out)
            self.assertIn("repo escape", err)
            self.assertIn("symbolic link", err)
            self.assertEqual(os.listdir(os.path.join(d, "outside")), [])
            with open(os.path.join(d, "infra", ".claude", "rules", "session-protocol.md")) as f:
                infra = f.read()
            with open(os.path.join(d, "plain", ".claude", "rules", "session-protocol.md")) as f:
                plain = f.read()
            self.assertIn("ops-hub's `get_domain_summary`", infra)
            self.assertIn("(helm)", infra)
            self.assertNotIn("ops-hub's `get_domain_summary`", plain)
            self.assertIn('`get_domain_summary` with `domain: "ops"`', plain)
            mtime = os.stat(os.path.join(d, "plain", ".claude", "rules",
                                         "session-protocol.md")).st_mtime_ns
            code, out, err = run_cli("rules", "render", "--db", db, "--repo", "plain",
                                     "--repo", "infra")
            self.assertEqual(code, 0, err)
            self.assertEqual(out.count("unchanged"), 2)
            self.assertEqual(os.stat(os.path.join(d, "plain", ".claude", "rules",
                                                  "session-protocol.md")).st_mtime_ns, mtime)
            code, out, err = run_cli("rules", "render", "--db", db, "--target", "../x.md")
            self.assertEqual(code, 1)
            self.assertIn("escapes", err)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class McpConfigAndRename(unittest.TestCase):
    def test_migrate_cli(self):
        d = tempfile.mkdtemp(prefix="foshub-mcpcfg-")
        try:
            path = os.path.join(d, ".claude.json")
            shutil.copy(os.path.join(DATA, "mcp-config", "claude.json"), path)
            with open(path) as f:
                orig = f.read()
            code, out, _ = run_cli("mcp-config", "migrate", "--file", path, "--dry-run")
            self.assertEqual(code, 0)
            self.assertIn('-    "state-hub": {', out)
            self.assertIn('+    "dev-hub": {', out)
            with open(path) as f:
                self.assertEqual(f.read(), orig)
            code, out, err = run_cli("mcp-config", "migrate", "--file", path)
            self.assertEqual(code, 0, err)
            baks = [n for n in os.listdir(d) if n.startswith(".claude.json.bak-")]
            self.assertEqual(len(baks), 1)
            with open(os.path.join(d, baks[0])) as f:
                self.assertEqual(f.read(), orig)
            with open(path) as f:
                new = f.read()
            # only the keys changed, and the duplicate entry went
            expected = orig.replace(',\n        "state-hub": {"type": "http", "url": '
                                    '"http://127.0.0.1:8001/mcp"}', '')
            self.assertEqual(new, expected.replace('"state-hub"', '"dev-hub"'))
            code, out, _ = run_cli("mcp-config", "migrate", "--file", path)
            self.assertEqual(code, 0)
            self.assertIn("nothing to change", out)
            # a different dev-hub entry: refused, nothing changed
            conflict = os.path.join(d, "c.json")
            with open(conflict, "w") as f:
                json.dump({"mcpServers": {"state-hub": {"command": "a"},
                                          "dev-hub": {"command": "b"}}}, f)
            with open(conflict) as f:
                before = f.read()
            code, _, err = run_cli("mcp-config", "migrate", "--file", conflict)
            self.assertEqual(code, 1)
            self.assertIn("refusing", err)
            with open(conflict) as f:
                self.assertEqual(f.read(), before)
            code, out, err = run_cli("mcp-config", "add", "--file", conflict, "--transport",
                                     "http", "--hubs", "ops")
            self.assertEqual(code, 0, err)
            with open(conflict) as f:
                self.assertEqual(json.load(f)["mcpServers"]["ops-hub"]["url"],
                                 "http://127.0.0.1:8002/mcp")
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_migrate_name_lists_cli(self):
        """A realistic ~/.claude.json with the old name in server lists and
        permission rules, and a project's settings.local.json: the result
        is the hand-written golden file, byte for byte."""
        d = tempfile.mkdtemp(prefix="foshub-mcpcfg-")
        try:
            for name in ("claude-projects", "settings.local"):
                path = os.path.join(d, name + ".json")
                shutil.copy(os.path.join(DATA, "mcp-config", name + ".json"), path)
                with open(path, "rb") as f:
                    orig = f.read()
                with open(os.path.join(DATA, "mcp-config", name + ".migrated.json"), "rb") as f:
                    golden = f.read()
                code, out, err = run_cli("mcp-config", "migrate", "--file", path, "--dry-run")
                self.assertEqual(code, 0, err)
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), orig)
                if name == "claude-projects":
                    # one hunk for two neighbouring lines, in file order
                    self.assertIn('@@ line 28 @@\n'
                                  '-        "mcp__state-hub__get_domain_summary",\n'
                                  '-        "mcp__state-hub__claim_next_task",\n'
                                  '+        "mcp__dev-hub__get_domain_summary",\n'
                                  '+        "mcp__dev-hub__claim_next_task",\n', out)
                    self.assertLess(out.index("@@ line 14 @@"), out.index("@@ line 102 @@"))
                    self.assertIn('projects["/home/w/foshub"].allowedTools: removed '
                                  '"mcp__state-hub__get_task", "mcp__dev-hub__get_task" is '
                                  'already there', out)
                code, out, err = run_cli("mcp-config", "migrate", "--file", path)
                self.assertEqual(code, 0, err)
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), golden)
                baks = [n for n in os.listdir(d) if n.startswith(name + ".json.bak-")]
                self.assertEqual(len(baks), 1)
                with open(os.path.join(d, baks[0]), "rb") as f:
                    self.assertEqual(f.read(), orig)
                code, out, _ = run_cli("mcp-config", "migrate", "--file", path)
                self.assertEqual(code, 0)
                self.assertIn("nothing to change", out)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_mcp_state_alias_deprecated(self):
        """`foshub mcp state` (and state-hub) still serves dev-hub over
        stdio, with a warning on stderr that keeps stdout pure JSON-RPC."""
        d = tempfile.mkdtemp(prefix="foshub-mcpstate-")
        try:
            db = "sqlite:" + os.path.join(d, "dev-hub.db")
            msgs = [
                {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                            "clientInfo": {"name": "t", "version": "1"}}},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
                {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                 "params": {"name": "send_message",
                            "arguments": {"from_agent": "old-client", "to_agent": "me",
                                          "subject": "still here"}}},
            ]
            for name in ("state", "state-hub"):
                p = subprocess.run([foshub_bin(), "mcp", name, "--db", db],
                                   input="".join(json.dumps(m) + "\n" for m in msgs),
                                   capture_output=True, text=True, timeout=60, cwd=ROOT)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("the hub name '%s' is deprecated" % name, p.stderr)
                self.assertIn("use 'dev'", p.stderr)
                out = [json.loads(l) for l in p.stdout.splitlines()]
                self.assertEqual([m["id"] for m in out], [1, 2, 3])
                self.assertEqual(out[0]["result"]["serverInfo"]["name"], "dev-hub")
                names = {t["name"] for t in out[1]["result"]["tools"]}
                for want in ("get_task", "claim_next_task", "list_ready_tasks"):
                    self.assertIn(want, names)
                self.assertFalse(out[2]["result"].get("isError", False), out[2])
            # what the old names wrote is dev-hub's: `mcp dev` on the same
            # database reads both messages, and does not warn
            read = {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                    "params": {"name": "get_messages", "arguments": {"to_agent": "me"}}}
            p = subprocess.run([foshub_bin(), "mcp", "dev", "--db", db],
                               input="".join(json.dumps(m) + "\n" for m in msgs[:2] + [read]),
                               capture_output=True, text=True, timeout=60, cwd=ROOT)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn("deprecated", p.stderr)
            got = json.loads(p.stdout.splitlines()[-1])["result"]["structuredContent"]
            self.assertEqual([m["subject"] for m in got["items"]], ["still here"] * 2)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_state_hub_name_deprecated(self):
        hub = Hub(hub="state")
        hub.db_path = os.path.join(hub.dir, "dev-hub.db")
        hub.db = "sqlite:" + hub.db_path
        try:
            hub.start()
            self.assertEqual(hub.get("/").json()["name"], "dev-hub")
            hub.stop()
            log = "".join(hub.log)
            self.assertIn("deprecated", log)
            self.assertIn("dev-hub", log)
        finally:
            hub.cleanup()


def free_base():
    for _ in range(200):
        base = random.randrange(20000, 60000)
        socks = []
        try:
            for off in range(4):
                s = socket.socket()
                s.bind(("127.0.0.1", base + off))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free ports")


class UpRun:
    """`foshub up` in the background, its output (stdout and stderr) read
    by a thread so that a test can wait for a line without hanging."""

    def __init__(self, base, var, *args):
        env = dict(os.environ)
        for k in ("FOSHUB_DB", "FOSHUB_LISTEN", "FOSHUB_POLICY_DIR",
                  "FOSHUB_IDP_CONFIG", "FOSHUB_AUTH_ISSUERS", "FOSHUB_AUTH"):
            env.pop(k, None)
        self.lines = []
        self.p = subprocess.Popen(
            [foshub_bin(), "up", "--base-port", str(base), "--var", var,
             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, cwd=ROOT, env=env)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line)

    def out(self):
        return "".join(self.lines)

    def wait_for(self, text, timeout=60, since=0):
        """True once text is in the output (from offset since on); False
        after timeout."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.out()[since:]:
                return True
            time.sleep(0.05)
        return text in self.out()[since:]

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            code = self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            code = self.p.wait()
        self.t.join(timeout=10)
        return code


class Impostor:
    """Another process on a hub's port, answering 200 to every GET."""

    def __init__(self, port, timeout=3):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b'{"status": "ready"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        deadline = time.time() + timeout
        while True:
            try:
                self.srv = http.server.ThreadingHTTPServer(
                    ("127.0.0.1", port), Handler)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.01)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class Up(unittest.TestCase):
    def test_up_refuses_a_busy_port(self):
        # another instance holds ops-hub's port: up says which address,
        # exits non-zero, and starts nothing
        d = tempfile.mkdtemp(prefix="foshub-up-")
        var = os.path.join(d, "var")
        base = free_base()
        s = socket.socket()
        s.bind(("127.0.0.1", base + 2))
        s.listen(1)
        try:
            code, out, err = run_cli("up", "--base-port", str(base), "--var",
                                     var, "--hubs", "dev,ops,fin")
            self.assertEqual(code, 1, out + err)
            self.assertIn("cannot start ops-hub: 127.0.0.1:%d: Address "
                          "already in use" % (base + 2), err)
            self.assertIn("nothing started", err)
            self.assertNotIn("started", out)
            self.assertNotIn("running", out)
            self.assertFalse(os.path.exists(var))
            for off in (1, 3):
                with self.assertRaises(OSError):
                    socket.create_connection(("127.0.0.1", base + off),
                                             timeout=2).close()
        finally:
            s.close()
            shutil.rmtree(d, ignore_errors=True)

    def test_up_ready_only_when_its_own_hub_answers(self):
        # dev-hub dies and another process takes its port before the
        # restart: that process's 200 on /readyz is not dev-hub being
        # ready; once the port is free again, dev-hub is
        d = tempfile.mkdtemp(prefix="foshub-up-")
        base = free_base()
        u = UpRun(base, d, "--hubs", "dev")
        imp = None
        try:
            self.assertTrue(u.wait_for("stop with Ctrl-C"), u.out())
            pid = int(re.search(r"started dev-hub \(pid (\d+)\)",
                                u.out()).group(1))
            os.kill(pid, signal.SIGKILL)
            imp = Impostor(base + 1)
            mark = len(u.out())
            self.assertTrue(u.wait_for("cannot listen on 127.0.0.1:%d"
                                       % (base + 1), timeout=20, since=mark),
                            u.out())
            time.sleep(2)
            self.assertNotIn("dev-hub is ready", u.out()[mark:])
            imp.close()
            imp = None
            self.assertTrue(u.wait_for("dev-hub is ready", since=mark),
                            u.out())
            self.assertEqual(u.stop(), 0, u.out())
        finally:
            if imp:
                imp.close()
            u.stop()
            shutil.rmtree(d, ignore_errors=True)

    def test_up_one_hub_alone(self):
        # no other hub to wire it to: its VAR/HUB.yaml is still valid.
        # No --idp-config: the hub still wants tokens from the IdP on the
        # base port, which up did not start, and up says so
        d = tempfile.mkdtemp(prefix="foshub-up-")
        base = free_base()
        u = UpRun(base, d, "--hubs", "dev")
        try:
            self.assertTrue(u.wait_for("stop with Ctrl-C"), u.out())
            self.assertIn("dev-hub is ready", u.out())
            self.assertIn("log in: the hubs accept only tokens from "
                          "http://127.0.0.1:%d, which up did not start"
                          % base, u.out())
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen("http://127.0.0.1:%d/whoami"
                                       % (base + 1), timeout=10)
            self.assertEqual(cm.exception.code, 401)
            self.assertEqual(u.stop(), 0, u.out())
            self.assertNotIn("restarting", u.out())
        finally:
            u.stop()
            shutil.rmtree(d, ignore_errors=True)

    def test_up_probe_restart_stop(self):
        d = tempfile.mkdtemp(prefix="foshub-up-")
        base = free_base()
        env = dict(os.environ)
        for k in ("FOSHUB_DB", "FOSHUB_LISTEN", "FOSHUB_POLICY_DIR"):
            env.pop(k, None)
        p = subprocess.Popen([foshub_bin(), "up", "--base-port", str(base), "--var", d,
                              "--hubs", "dev,ops,fin"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
        lines = []
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                line = p.stdout.readline()
                if not line:
                    break
                lines.append(line)
                if "stop with Ctrl-C" in line:
                    break
            out = "".join(lines)
            self.assertIn("the federation is running", out)
            self.assertIn("http://127.0.0.1:%d" % (base + 1), out)
            self.assertIn("log in:", out)
            for off, page in ((1, "/board"), (2, "/now"), (3, "/runway")):
                self.assertIn("in a browser: http://127.0.0.1:%d%s\n"
                              % (base + off, page), out)
            for off in (1, 2, 3):
                with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % (base + off),
                                            timeout=10) as r:
                    self.assertEqual(r.status, 200)
            self.assertTrue(os.path.exists(os.path.join(d, "dev-hub.db")))
            pid = int(re.search(r"started dev-hub \(pid (\d+)\)", out).group(1))
            os.kill(pid, signal.SIGKILL)
            deadline = time.time() + 60
            while time.time() < deadline:
                line = p.stdout.readline()
                lines.append(line)
                if "dev-hub is ready" in line:
                    break
            out = "".join(lines)
            self.assertIn("dev-hub (pid %d) was killed by signal 9" % pid, out)
            self.assertIn("started dev-hub again", out)
            with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % (base + 1),
                                        timeout=10) as r:
                self.assertEqual(r.status, 200)
            p.send_signal(signal.SIGTERM)
            rest, _ = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, rest)
            self.assertIn("stopped", rest)
            for off in (1, 2, 3):
                with self.assertRaises(OSError):
                    socket.create_connection(("127.0.0.1", base + off), timeout=2).close()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
