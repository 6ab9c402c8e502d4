"""test_ops_api.py - ops-hub's resources over HTTP: incidents and their
transitions (skips and steps back refused, timeline, time to acknowledge
and resolve), runbooks and their execution log, access path checks,
change records and operational debt, the domain summary, and the
inventory import (CLI and HTTP): idempotent, and refused with file:line
without storing anything."""

import os
import shutil
import tempfile

from harness import ROOT, HubTestCase, run_cli
from ops_support import SshBanner, free_port

INVENTORY = os.path.join(ROOT, "examples", "ops", "inventory.yaml")


class OpsCase(HubTestCase):
    hub_name = "ops"
    import_examples = False


class Incidents(OpsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.hub.request("PUT", "/services/gitea", body={"probes": []})
        assert r.status == 201, r
        assert cls.hub.post("/domains", body={"name": "railiance"}).status == 201

    def open_incident(self, **fields):
        body = {"title": "git.example.org answers 502", "severity": "SEV2",
                "impact": "major", "services": ["gitea"],
                "domain": "railiance", "opened_by": "agent-7"}
        body.update(fields)
        r = self.hub.post("/incidents", body=body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def move(self, inc, status, author="agent-7", note=None, **kw):
        body = {"author": author, "status": status}
        if note:
            body["note"] = note
        body.update(kw)
        return self.hub.post("/incidents/%s/updates" % inc["id"], body=body)

    def test_life_cycle(self):
        inc = self.open_incident()
        self.assertEqual(inc["status"], "investigating")
        self.assertEqual(self.hub.get("/incidents/" + inc["id"]).json()
                         ["timeline"][0]["to"], "investigating")
        self.assertEqual(inc["timeline"][0]["author"], "agent-7")
        self.assertIsNone(inc["time_to_acknowledge_s"])
        r = self.move(inc, "identified", note="the ingress lost its cert")
        self.assertEqual(r.status, 200, r)
        inc2 = r.json()
        self.assertEqual(inc2["status"], "identified")
        self.assertIsNotNone(inc2["acknowledged_at"])
        self.assertGreaterEqual(inc2["time_to_acknowledge_s"], 0)
        # a note alone, and a field change with it
        r = self.hub.post("/incidents/%s/updates" % inc["id"], body={
            "author": "bob", "note": "cert-manager renewing", "impact": "minor"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["impact"], "minor")
        self.assertEqual(r.json()["status"], "identified")
        self.assertEqual(self.move(inc, "monitoring").status, 200)
        r = self.hub.post("/incidents/%s/resolve" % inc["id"],
                          body={"author": "bob", "note": "cert renewed"})
        self.assertEqual(r.status, 200, r)
        done = r.json()
        self.assertEqual(done["status"], "resolved")
        self.assertGreaterEqual(done["time_to_resolve_s"], 0)
        self.assertEqual([(e.get("from"), e.get("to"), e["author"])
                          for e in done["timeline"]],
                         [(None, "investigating", "agent-7"),
                          ("investigating", "identified", "agent-7"),
                          (None, None, "bob"),
                          ("identified", "monitoring", "agent-7"),
                          ("monitoring", "resolved", "bob")])
        self.assertEqual(done["timeline"][-1]["note"], "cert renewed")
        for e in done["timeline"]:
            self.assertRegex(e["at"], r"^\d{4}-\d\d-\d\dT")
        r = self.move(inc, "postmortem", postmortem="https://wiki/pm/42")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["postmortem"], "https://wiki/pm/42")
        self.assertEqual(self.hub.get("/incidents?status=postmortem")
                         .json()["items"][0]["id"], inc["id"])

    def test_refusals_change_nothing(self):
        inc = self.open_incident(title="backups stale")
        before = self.hub.dump()
        p = self.assertProblem(self.move(inc, "monitoring"), 409, "status")
        self.assertIn("cannot skip to monitoring (next: identified)",
                      p["detail"])
        p = self.assertProblem(self.move(inc, "resolved"), 409, "status")
        self.assertProblem(self.hub.post(
            "/incidents/%s/resolve" % inc["id"], body={"author": "x"}), 409,
            "status")
        self.assertProblem(self.move(inc, "fixed"), 422, "status")
        self.assertProblem(self.move(inc, "identified", author=""), 422,
                           "author")
        self.assertProblem(self.hub.post("/incidents/%s/updates" % inc["id"],
                                         body={"author": "x"}), 422)
        self.assertProblem(self.move(inc, "identified", severity="SEV9"), 422,
                           "severity")
        self.assertProblem(self.hub.patch("/incidents/" + inc["id"],
                                          body={"status": "resolved"}),
                           422, "status")
        self.assertProblem(self.hub.post("/incidents", body={
            "title": "t", "services": ["ghost"], "opened_by": "a"}), 422,
            "services")
        self.assertProblem(self.hub.post("/incidents", body={
            "title": "t", "severity": "SEV0", "opened_by": "a"}), 422,
            "severity")
        self.assertProblem(self.hub.post("/incidents", body={"title": "t"}),
                           422, "author")
        self.assertEqual(self.hub.dump(), before)
        self.assertEqual(self.move(inc, "identified").status, 200)
        before = self.hub.dump()
        p = self.assertProblem(self.move(inc, "investigating"), 409, "status")
        self.assertIn("cannot go back to investigating", p["detail"])
        self.assertEqual(self.hub.dump(), before)
        self.assertEqual(self.move(inc, "monitoring").status, 200)
        self.assertEqual(self.move(inc, "resolved").status, 200)
        self.assertEqual(self.move(inc, "postmortem").status, 200)
        p = self.assertProblem(self.move(inc, "resolved"), 409, "status")
        self.assertIn("final", p["detail"])

    def test_summary(self):
        self.open_incident(title="summary incident")
        s = self.hub.get("/domains/railiance/summary")
        self.assertEqual(s.status, 200, s)
        s = s.json()
        self.assertIn("investigating", s["incidents"]["by_status"])
        self.assertIn("unknown", s["services"]["by_health"])


class RunbooksAccessRecords(OpsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ssh = SshBanner()
        r = cls.hub.request("PUT", "/services/longhorn", body={"probes": []})
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.ssh.stop()
        super().tearDownClass()

    def test_runbook_steps_are_recorded(self):
        r = self.hub.post("/runbooks", body={
            "name": "longhorn-degraded", "service": "longhorn",
            "title": "A volume is degraded",
            "trigger_conditions": ["alert_raised for longhorn"],
            "steps": [{"title": "list volumes",
                       "command": "kubectl -n longhorn-system get volumes",
                       "expected": "the degraded ones"},
                      {"title": "rebuild", "instruction": "evict replicas"}]})
        self.assertEqual(r.status, 201, r)
        self.assertIsNone(r.json()["last_executed"])
        r = self.hub.post("/runbooks/longhorn-degraded/steps/1/execute", body={
            "actor": "agent-7", "outcome": "success",
            "output": "pvc-gitea-data degraded"})
        self.assertEqual(r.status, 201, r)
        ex = r.json()
        self.assertEqual((ex["step"], ex["step_title"], ex["actor"]),
                         (1, "list volumes", "agent-7"))
        self.assertEqual(ex["step_detail"]["command"],
                         "kubectl -n longhorn-system get volumes")
        rb = self.hub.get("/runbooks/longhorn-degraded").json()
        self.assertIsNotNone(rb["last_executed"])
        log = self.hub.get("/runbook-executions?runbook=longhorn-degraded")
        self.assertEqual(len(log.json()["items"]), 1)
        before = self.hub.dump()
        for step, body, status, field in (
                (3, {"actor": "a", "outcome": "success"}, 422, "step"),
                (1, {"actor": "a", "outcome": "done"}, 422, "outcome"),
                (1, {"outcome": "success"}, 422, "actor"),
                (1, {"actor": "a", "outcome": "success", "run": True}, 422,
                 "run")):
            self.assertProblem(self.hub.post(
                "/runbooks/longhorn-degraded/steps/%d/execute" % step,
                body=body), status, field)
        self.assertProblem(self.hub.post("/runbooks/nope/steps/1/execute",
                                         body={"actor": "a",
                                               "outcome": "success"}), 404)
        self.assertProblem(self.hub.post("/runbooks", body={
            "name": "bad", "title": "t", "steps": [{"title": "no command"}]}),
            422, "steps")
        self.assertEqual(self.hub.dump(), before)

    def test_access_paths(self):
        r = self.hub.post("/access-paths", body={
            "name": "bastion", "type": "ssh",
            "target": "ops@127.0.0.1:%d" % self.ssh.port,
            "auth_method": "ssh-key", "service": "longhorn"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["status"], "unknown")
        r = self.hub.post("/access-paths/bastion/check")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["ok"], r)
        self.assertEqual(r.json()["access_path"]["status"], "ok")
        self.assertTrue(r.json()["values"]["banner"].startswith("SSH-2.0"))
        self.hub.post("/access-paths", body={
            "name": "dead-http", "type": "http",
            "target": "http://127.0.0.1:%d/" % free_port(),
            "auth_method": "none"})
        r = self.hub.post("/access-paths/dead-http/check").json()
        self.assertFalse(r["ok"])
        self.assertEqual(r["access_path"]["status"], "failing")
        self.assertEqual(len(self.hub.get("/access-paths?status=ok")
                             .json()["items"]), 1)
        self.assertProblem(self.hub.post("/access-paths", body={
            "name": "x", "type": "http", "target": "ssh://h"}), 422, "target")
        self.assertProblem(self.hub.post("/access-paths", body={
            "name": "y", "type": "telnet", "target": "h"}), 422, "type")

    def test_changes_and_debt(self):
        r = self.hub.post("/changes", body={
            "summary": "Longhorn 1.6.1 -> 1.6.2", "service": "longhorn",
            "changed_by": "flux", "source": "deployment",
            "rollback": "helm rollback longhorn 41", "reference": "a1b2c3d"})
        self.assertEqual(r.status, 201, r)
        self.assertIsNotNone(r.json()["changed_at"])
        self.assertEqual(self.hub.get("/changes?source=deployment")
                         .json()["items"][0]["reference"], "a1b2c3d")
        self.assertProblem(self.hub.post("/changes", body={
            "summary": "x", "changed_by": "me", "source": "magic"}), 422,
            "source")
        r = self.hub.post("/operational-debts", body={
            "title": "etcd snapshots are not copied off-site",
            "category": "backup", "severity": "high",
            "location": "k3s-1:/var/lib/rancher", "owner": "ops"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["status"], "open")
        r = self.hub.patch("/operational-debts/" + r.json()["id"],
                           body={"status": "in_progress"})
        self.assertEqual(r.json()["status"], "in_progress")


class Inventory(OpsCase):
    # the example's hosts are not reachable from a test: no probing here
    hub_env = {"FOSHUB_OPS_PROBES": "off"}

    def test_import_is_idempotent(self):
        db = self.hub.db
        code, out, err = run_cli("ops", "import-inventory", "--db", db,
                                 INVENTORY)
        self.assertEqual(code, 0, err)
        self.assertIn("7 services (7 new, 0 updated)", out)
        self.assertIn("2 locations (2 new, 0 updated)", out)
        before = self.hub.dump()
        code, out, err = run_cli("ops", "import-inventory", "--db", db,
                                 INVENTORY)
        self.assertEqual(code, 0, err)
        self.assertIn("7 services (0 new, 0 updated)", out)
        self.assertEqual(self.hub.dump(), before)
        # the same file over HTTP changes nothing either
        with open(INVENTORY, "rb") as f:
            data = f.read()
        r = self.hub.post("/inventory?source=inventory.yaml", raw=data,
                          headers={"Content-Type": "application/yaml"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["services"],
                         {"total": 7, "created": 0, "updated": 0})
        self.assertEqual(self.hub.dump(), before)
        s = self.hub.get("/services/gitea").json()
        self.assertEqual(s["depends_on"], ["ingress", "longhorn"])
        self.assertEqual(s["owner_domain"], "railiance")
        self.assertEqual(s["probes"][1]["kind"], "ssh")
        nb = self.hub.get("/services/nightly-backup").json()
        self.assertNotIn("change-me", str(nb))
        self.assertEqual(self.hub.get("/runbooks/longhorn-degraded").json()
                         ["service"], "longhorn")
        # an edited file updates what changed
        tmp = tempfile.mkdtemp(prefix="foshub-inv-")
        self.addCleanup(shutil.rmtree, tmp, True)
        edited = os.path.join(tmp, "inventory.yaml")
        with open(edited, "w") as f:
            f.write(data.decode().replace("port: 2222", "port: 2223"))
        code, out, err = run_cli("ops", "import-inventory", "--db", db, edited)
        self.assertEqual(code, 0, err)
        self.assertIn("7 services (0 new, 1 updated)", out)

    def test_errors_name_file_and_line(self):
        tmp = tempfile.mkdtemp(prefix="foshub-inv-")
        self.addCleanup(shutil.rmtree, tmp, True)
        before = self.hub.dump()
        cases = (
            ("version: 1\nservices:\n  - name: a\n    probes:\n"
             "      - kind: http\n        url: http://x\n"
             "        conditions:\n          - \"[STATUS] = 200\"\n",
             ":8: field 'probes[0].conditions[0]': condition '[STATUS] = 200' "
             "at column 10"),
            ("version: 1\nservices:\n  - name: a\n  - name: [\n",
             ":5:"),
            ("version: 1\nservices:\n  - name: a\n  - name: b\n"
             "    depends_on: [ghost]\n", ":5: field 'depends_on': no service "
             "'ghost'"),
            ("version: 1\nservice:\n  - name: a\n", ":2: unknown key "
             "'service'"),
            ("version: 1\nservices:\n  - name: a\n  - name: a\n",
             ":4: services: 'a' is listed twice (first at line 3)"),
            ("version: 1\nservices:\n  - name: a\n    depends_on: [b]\n"
             "  - name: b\n    depends_on: [a]\n", "cycle"),
            ("version: 1\nservices:\n  - name: ok\n  - name: b\n"
             "    lifecycle: zombie\n", ":5: field 'lifecycle'"),
            ("version: 1\nlocations:\n  - name: c\n    kind: cluster\n"
             "    api_server: ftp://x\n", ":5: field 'api_server'"),
        )
        for i, (text, want) in enumerate(cases):
            path = os.path.join(tmp, "bad%d.yaml" % i)
            with open(path, "w") as f:
                f.write(text)
            code, out, err = run_cli("ops", "import-inventory", "--db",
                                     self.hub.db, path)
            self.assertEqual(code, 1, (text, out, err))
            self.assertIn(path, err)
            self.assertIn(want, err)
        # the first service of a refused file is not stored either
        self.assertEqual(self.hub.dump(), before)
        self.assertEqual(self.hub.get("/services/ok").status, 404)
        r = self.hub.post("/inventory?source=up.yaml", raw=cases[0][0])
        p = self.assertProblem(r, 422)
        self.assertEqual((p["source"], p["line"]), ("up.yaml", 8))
        code, out, err = run_cli("ops", "import-inventory", "--db",
                                 self.hub.db, os.path.join(tmp, "none.yaml"))
        self.assertEqual(code, 1)
        code, out, err = run_cli("ops", "import-inventory")
        self.assertEqual(code, 2)
