"""test_replicas.py - several processes of one hub on one database, as
replicas behind a load balancer: concurrent writes and claims through both,
one killed with SIGKILL mid-way, and nothing acknowledged lost, doubled or
claimed twice; stale writes refused across replicas (If-Match -> 412); the
ops-hub probe scheduler elected once and taken over when its process dies.

Runs on SQLite (processes sharing a file) and, under make pg-test, on
PostgreSQL (FOSHUB_TEST_PG)."""

import os
import shutil
import tempfile
import threading
import unittest

from harness import Hub
from ops_support import HttpEndpoint, wait_until

WS = "REPL-WP-0001"
NTASKS = 60


def write_plan(d):
    lines = ["---", "id: %s" % WS, "type: workplan", "title: Replicas",
             "domain: replicas", "created: 2026-03-20", "---",
             "# Replicas", "", "## Phase 1 — All", ""]
    for i in range(1, NTASKS + 1):
        lines += ["### T%02d — Task %d" % (i, i), "", "```yaml",
                  "id: %s-T%02d" % (WS, i), "status: todo",
                  "priority: %s" % ("high" if i % 3 == 0 else "medium"),
                  "```", "", "Task %d." % i, ""]
    path = os.path.join(d, "plan.md")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


class Replicas(unittest.TestCase):
    hub_name = "dev"

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="foshub-repl-")
        self.a = Hub(hub=self.hub_name, workdir=self.dir)
        self.b = Hub(hub=self.hub_name, workdir=self.dir, db=self.a.db)
        self.b.db_path = self.a.db_path

    def tearDown(self):
        try:
            for h in (self.b, self.a):
                h.stop()
        finally:
            self.b.cleanup()
            self.a.cleanup()
            shutil.rmtree(self.dir, ignore_errors=True)

    def messages(self, hub, name, acked, n=40):
        for i in range(n):
            try:
                r = hub.post("/messages", body={
                    "from_agent": name, "to_domain": "replicas",
                    "subject": "%s-%d" % (name, i)})
            except OSError:
                return  # the hub died: this write was not acknowledged
            if r.status == 201:
                acked.append((r.json()["id"], "%s-%d" % (name, i)))

    def check_messages(self, hub, acked):
        items, _ = hub.all_items("/messages?to_domain=replicas", limit=500)
        subjects = [m["subject"] for m in items]
        self.assertEqual(len(subjects), len(set(subjects)), "doubled")
        stored = {m["id"]: m["subject"] for m in items}
        for mid, subject in acked:
            self.assertEqual(stored.get(mid), subject, "lost %s" % mid)


class DevReplicas(Replicas):
    def test_claims_and_writes_survive_a_killed_replica(self):
        self.a.import_workplans(write_plan(self.dir))
        self.a.start()
        self.b.start()
        claims, msgs, lock = [], [], threading.Lock()
        halfway = threading.Event()

        def claimer(hub, agent):
            while True:
                try:
                    r = hub.post("/workstreams/%s/claim" % WS,
                                 body={"agent": agent})
                except OSError:
                    return
                self.assertIn(r.status, (200, 409, 503), r)
                if r.status != 200:
                    continue
                task = r.json()["task"]
                if task is None:
                    return
                self.assertEqual(task["assignee"], agent)
                with lock:
                    claims.append((task["id"], agent))
                    if len(claims) >= NTASKS // 3:
                        halfway.set()

        threads = [threading.Thread(target=claimer, args=(h, "%s-%d" % (n, i)))
                   for h, n in ((self.a, "a"), (self.b, "b"))
                   for i in range(3)]
        threads += [threading.Thread(target=self.messages,
                                     args=(h, n, msgs))
                    for h, n in ((self.a, "wa"), (self.b, "wb"))]
        for t in threads:
            t.start()
        self.assertTrue(halfway.wait(timeout=120))
        self.a.kill()
        for t in threads:
            t.join(timeout=300)
        ids = [t for t, _ in claims]
        self.assertEqual(len(ids), len(set(ids)), "a task claimed twice")
        # every task is claimed once, by the agent that was told so
        tasks, _ = self.b.all_items("/tasks?workstream=%s" % WS, limit=100)
        self.assertEqual(len(tasks), NTASKS)
        by_id = {t["id"]: t for t in tasks}
        self.assertEqual([t["id"] for t in tasks
                          if t["status"] != "in_progress"], [])
        for tid, agent in claims:
            self.assertEqual(by_id[tid]["assignee"], agent)
        # each claim was recorded once
        events, _ = self.b.all_items("/progress?event_type=task_claimed",
                                     limit=500)
        claimed = [e["subject_refs"]["task"] for e in events]
        self.assertEqual(sorted(claimed), sorted(by_id))
        self.check_messages(self.b, msgs)
        # the survivor still serves writes
        r = self.b.patch("/tasks/%s-T01" % WS, body={"status": "done"})
        self.assertEqual(r.status, 200, r)

    def test_stale_write_refused_across_replicas(self):
        self.a.import_workplans(write_plan(self.dir))
        self.a.start()
        self.b.start()
        path = "/tasks/%s-T02" % WS
        r = self.a.get(path)
        self.assertEqual(r.header("ETag"), '"%d"' % r.json()["revision"])
        tag = r.header("ETag")
        r = self.b.patch(path, body={"priority": "low"},
                         headers={"If-Match": tag})
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(r.header("ETag"), tag)
        before = self.a.dump()
        r = self.a.patch(path, body={"priority": "high"},
                         headers={"If-Match": tag})
        self.assertEqual(r.status, 412, r)
        p = r.json()
        self.assertEqual(p["field"], "revision")
        self.assertIn("changed meanwhile", p["detail"])
        self.assertEqual(self.a.dump(), before)
        r = self.a.patch(path, body={"priority": "high"},
                         headers={"If-Match": "*"})
        self.assertEqual(r.status, 200, r)
        r = self.a.patch(path, body={"priority": "low"},
                         headers={"If-Match": "bogus"})
        self.assertEqual(r.status, 412, r)
        # racing writers with If-Match: each revision is won once
        rev = self.b.get(path).json()["revision"]
        results = []

        def patch(hub, prio):
            r = hub.patch(path, body={"priority": prio},
                          headers={"If-Match": '"%d"' % rev})
            results.append(r.status)

        threads = [threading.Thread(target=patch, args=(h, p))
                   for h, p in ((self.a, "low"), (self.b, "medium"),
                                (self.a, "medium"), (self.b, "low"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), [200, 412, 412, 412])
        self.assertEqual(self.b.get(path).json()["revision"], rev + 1)


class OpsReplicas(Replicas):
    hub_name = "ops"

    def leaders(self):
        return [h for h in (self.a, self.b)
                if any("probe scheduler: leading" in l for l in h.log)]

    def test_one_scheduler_and_takeover_after_kill(self):
        ep = HttpEndpoint()
        self.addCleanup(ep.stop)
        self.a.start()
        self.b.start()
        r = self.a.request("PUT", "/services/web", body={
            "probes": [{"kind": "http", "url": ep.url}],
            "interval_ms": 200, "jitter_ms": 10, "timeout_ms": 2000})
        self.assertIn(r.status, (200, 201), r)
        wait_until(lambda: self.leaders(), what="a leader")
        first = self.b.get("/services/web").json()
        wait_until(lambda: self.b.get("/services/web").json()["last_checked"]
                   != first["last_checked"], what="probe rounds")
        self.assertEqual(len(self.leaders()), 1)
        leader = self.leaders()[0]
        standby = self.b if leader is self.a else self.a
        msgs = []
        writers = [threading.Thread(target=self.messages,
                                    args=(h, n, msgs, 30))
                   for h, n in ((leader, "wl"), (standby, "ws"))]
        for t in writers:
            t.start()
        leader.kill()
        for t in writers:
            t.join(timeout=120)
        wait_until(lambda: any("probe scheduler: leading" in l
                               for l in standby.log),
                   timeout=30, what="the standby to take over")
        hits = ep.hits
        wait_until(lambda: ep.hits > hits + 2, timeout=30,
                   what="probes from the new leader")
        s = standby.get("/services/web").json()
        self.assertEqual(s["health"], "up")
        self.check_messages(standby, msgs)


if __name__ == "__main__":
    unittest.main()
