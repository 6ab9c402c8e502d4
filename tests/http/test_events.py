"""test_events.py - durable events between real dev-hub, ops-hub and fin-hub
processes on loopback (docs/events.md): the effects of each event type, a
receiver down while 1,000 events are emitted, a sender killed with SIGKILL
mid-delivery, poison events in the dead letters, and refusals.

The same tests run twice: over HTTP, and over NATS JetStream with a real
nats-server (`-js`, a free port, its storage in a temporary directory)
started here, plus the server's own restarts. The NATS runs are skipped,
saying so, only when nats-server is not installed.

Every hub runs with a configuration file written here; retries are short
so that the tests take seconds. Waiting for delivery polls the receiver
until the expected state is there (or a generous deadline passes): the
assertions are on what arrived, never on how fast.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import EXAMPLE, ROOT, Hub, foshub_bin, run_cli

FAST = """  retry_base: 50ms
  retry_max: 500ms
  poll: 50ms
  max_attempts: 3
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(subscribers=(), senders=(), extra="", nats=None):
    """The YAML of a hub configuration: subscribers are (hub, port, types),
    senders hub names; with nats (a URL) events go over NATS JetStream."""
    out = ["events:", FAST.rstrip("\n"), extra.rstrip("\n")]
    if nats:
        out.append("  nats: %s" % nats)
    if subscribers:
        out.append("  subscribers:")
        for name, port, types in subscribers:
            out.append("    - hub: %s" % name)
            if not nats:  # over NATS a subscriber needs no URL
                out.append("      url: http://127.0.0.1:%d" % port)
            out.append("      types: [%s]" % ", ".join(types))
    if senders:
        out.append("  senders:")
        for name in senders:
            out.append("    - hub: %s" % name)
    return "\n".join(line for line in out if line) + "\n"


def wait_for(fn, what, timeout=120, logs=()):
    """Poll fn until it returns a true value; fail naming what, with the
    end of the logs of the hubs in logs."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.05)
    def tail(h):
        lines = [x for x in h.log if "/events/status" not in x
                 and "POST /deployments" not in x]
        return "".join(lines[:25] + ["...\n"] + lines[-25:])
    raise AssertionError("%s did not happen (last: %r)%s" % (
        what, last, "".join("\n--- %s:\n%s" % (h.hub, tail(h)) for h in logs)))


DEPLOY = ["deployment_started", "deployment_succeeded", "deployment_failed"]
INCIDENT = ["incident_opened", "incident_resolved"]
FIN = ["budget_alert", "runway_alert"]


def nats_server_bin():
    """nats-server (Debian puts it in /usr/sbin), or None."""
    return shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server")
         if os.access(p, os.X_OK)), None)


NO_NATS = ("nats-server is not installed (scripts/install-deps.sh test "
           "installs it): events over NATS JetStream are not tested")


class NatsServer:
    """A nats-server with JetStream on a free loopback port, its storage in
    a directory of its own; stop and start keep both, so a restart finds
    its streams again (wipe=True loses them, as a lost disk would)."""

    hub = "nats-server"

    def __init__(self, args=()):
        self.args = list(args)
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="foshub-nats-")
        self.proc = None
        self.url = "nats://127.0.0.1:%d" % self.port

    @property
    def log(self):
        with open(os.path.join(self.dir, "server.log")) as f:
            return f.readlines()

    def start(self, wipe=False):
        store = os.path.join(self.dir, "store")
        if wipe:
            shutil.rmtree(store, ignore_errors=True)
        self.logf = open(os.path.join(self.dir, "server.log"), "a")
        self.proc = subprocess.Popen(
            [nats_server_bin(), "-js", "-a", "127.0.0.1", "-p", str(self.port),
             "-sd", store, *self.args], stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        with open(os.path.join(self.dir, "server.log")) as f:
            raise AssertionError("nats-server did not start:\n" + f.read())

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self.logf.close()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Federation:
    """dev-hub, ops-hub and fin-hub wired to each other, on fixed ports so
    that a hub can be stopped and started again where the others look;
    over NATS with nats (a NatsServer)."""

    def __init__(self, dev_extra="", sender_batch=None, nats=None):
        self.ports = {h: free_port() for h in ("dev", "ops", "fin")}
        self.hubs = {}
        self.dir = None
        extra = "  batch: %d\n" % sender_batch if sender_batch else ""
        url = nats.url if nats else None
        self.configs = {
            "dev": config([("ops-hub", self.ports["ops"], DEPLOY)],
                          ["ops-hub", "fin-hub"],
                          "  escalation_domain: custodian\n" + dev_extra + extra,
                          nats=url),
            "ops": config([("dev-hub", self.ports["dev"], INCIDENT + ["alert_raised"])],
                          ["dev-hub", "fin-hub"], extra, nats=url),
            "fin": config([("dev-hub", self.ports["dev"], FIN),
                           ("ops-hub", self.ports["ops"], ["cost_attribution"])],
                          [], extra, nats=url),
        }

    def hub(self, name, start=True):
        h = self.hubs.get(name)
        if h is None:
            h = Hub(hub=name, workdir=self.dir)
            if self.dir is None:
                self.dir = h.dir
            path = os.path.join(h.dir, "%s.yaml" % name)
            with open(path, "w") as f:
                f.write(self.configs[name])
            h.args = ["--config", path, "--listen",
                      "127.0.0.1:%d" % self.ports[name]]
            if name == "dev":
                h.import_workplans(EXAMPLE)
            self.hubs[name] = h
        if start and h.proc is None:
            h.start()
        return h

    def close(self):
        for h in self.hubs.values():
            h.stop(check=False)
        for h in self.hubs.values():
            h.own_dir = False
        if self.dir:
            import shutil
            shutil.rmtree(self.dir, ignore_errors=True)


def changes(ops):
    return ops.all_items("/changes?source=deployment", limit=500)[0]


def status(hub):
    """The status of a hub's first subscription."""
    return hub.get("/events/status").json()["subscriptions"][0]


class EventFlowTest(unittest.TestCase):
    """(1) each coupling end to end, (4) a poison event, refusals."""

    nats = None

    @classmethod
    def setUpClass(cls):
        cls.fed = Federation(nats=cls.nats)
        cls.dev = cls.fed.hub("dev")
        cls.ops = cls.fed.hub("ops")
        cls.fin = cls.fed.hub("fin")

    @classmethod
    def tearDownClass(cls):
        try:
            for h in (cls.dev, cls.ops, cls.fin):
                h.stop()
        finally:
            cls.fed.close()

    def test_1_deployment_becomes_a_change_record(self):
        r = self.dev.post("/deployments", {"service": "web", "version": "v1.2.3",
                                           "deployed_by": "ci", "note": "rolling"})
        self.assertEqual(r.status, 201, r)
        dep = r.json()
        self.assertEqual(dep["status"], "started")
        rec = wait_for(lambda: [c for c in changes(self.ops)
                                if c["deployment"] == dep["id"]],
                       "a change record of the deployment")[0]
        self.assertEqual(rec["outcome"], "started")
        self.assertEqual(rec["changed_by"], "ci")
        self.assertEqual(rec["reference"], "v1.2.3")
        self.assertIn("deploy web v1.2.3", rec["summary"])
        r = self.dev.post("/deployments/%s/finish" % dep["id"], {"status": "succeeded"})
        self.assertEqual(r.status, 200, r)
        # a change of state is a new revision (ETags follow it)
        self.assertEqual(r.json()["revision"], dep["revision"] + 1)
        rec_rev = rec["revision"]
        rec = wait_for(lambda: [c for c in changes(self.ops)
                                if c["deployment"] == dep["id"]
                                and c["outcome"] == "succeeded"],
                       "the change record's outcome")[0]
        self.assertGreater(rec["revision"], rec_rev)
        self.assertEqual([e["type"] for e in rec["events"]],
                         ["deployment_started", "deployment_succeeded"])
        # a second finish is refused and emits nothing
        self.assertEqual(self.dev.post("/deployments/%s/finish" % dep["id"],
                                       {"status": "failed"}).status, 409)

    def test_2_incident_blocks_the_linked_task_until_resolved(self):
        task = "CUST-WP-0025-T17"
        blocked = lambda: [t for t in self.dev.get("/tasks/blocked?limit=500").json()["items"]
                           if t["id"] == task]
        self.assertEqual(blocked(), [])
        r = self.ops.post("/incidents", {"title": "database down", "opened_by": "oncall",
                                         "severity": "SEV2", "tasks": [task]})
        self.assertEqual(r.status, 201, r)
        inc = r.json()["id"]
        t = wait_for(blocked, "the task blocked in dev-hub")[0]
        self.assertEqual([(b["kind"], b["id"], b["title"]) for b in t["blockers"]],
                         [("incident", inc, "database down")])
        ready = [x["id"] for x in self.dev.get("/tasks/ready?limit=500").json()["items"]]
        self.assertNotIn(task, ready)
        for st in ("identified", "monitoring"):
            r = self.ops.post("/incidents/%s/updates" % inc, {"author": "oncall", "status": st})
            self.assertEqual(r.status, 200, r)
        r = self.ops.post("/incidents/%s/resolve" % inc, {"author": "oncall"})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: not blocked(), "the blocker lifted")
        x = self.dev.get("/external-blockers?item=%s" % task).json()["items"]
        self.assertEqual([(b["reference"], b["status"]) for b in x], [(inc, "lifted")])

    def test_3_runway_alert_reaches_the_domain_summary(self):
        for body in ({"slug": "custodian", "name": "Custodian"},):
            self.assertIn(self.fin.post("/domains", body).status, (201, 409))
        r = self.fin.post("/commitments", {"domain": "custodian", "type": "salary",
                                           "vendor": "Staff", "amount": 500000,
                                           "cadence": "monthly", "currency": "EUR",
                                           "start_date": "2026-01-01"})
        self.assertEqual(r.status, 201, r)
        r = self.fin.post("/accounts", {"domain": "custodian", "balance": 100000,
                                        "currency": "EUR",
                                        "as_of": time.strftime("%Y-%m-%d", time.gmtime())})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["runway_state"], "below_threshold")
        summary = lambda: self.dev.get("/domains/custodian/summary").json()
        s = wait_for(lambda: summary()["resource_pressure"]["open"] == 1 and summary(),
                     "resource pressure in dev-hub's summary")
        p = s["resource_pressure"]["items"][0]
        self.assertEqual((p["kind"], p["source"], p["state"], p["key"]),
                         ("runway", "fin-hub", "raised", "runway_alert:custodian"))
        # and escalated to the canon's domain (System 5) as a risk
        risks = [x for x in s["risks"]["latest"] if x["event_type"] == "risk_escalated"]
        self.assertEqual(len(risks), 1, s["risks"])
        self.assertEqual(risks[0]["severity"], "critical")
        # back above the threshold: the pressure and the risk go
        r = self.fin.patch("/accounts/custodian", {"balance": 90000000})
        self.assertEqual(r.json()["runway_state"], "ok")
        s = wait_for(lambda: summary()["resource_pressure"]["open"] == 0 and summary(),
                     "resource pressure resolved")
        self.assertEqual([x for x in s["risks"]["latest"]
                          if x["event_type"] == "risk_escalated"], [])

    def test_4_poison_event_goes_to_dead_letter_and_others_pass(self):
        # an incident linked to a task dev-hub does not have: refused
        r = self.ops.post("/incidents", {"title": "poison", "opened_by": "oncall",
                                         "tasks": ["CUST-WP-0025-T99"]})
        self.assertEqual(r.status, 201, r)
        poison = r.json()["id"]
        # events behind it still arrive
        r = self.ops.post("/incidents", {"title": "fine", "opened_by": "oncall",
                                         "tasks": ["CUST-WP-0025-T18"]})
        fine = r.json()["id"]
        wait_for(lambda: [b for b in self.dev.get("/external-blockers?reference=%s" % fine)
                          .json()["items"]], "the event after the poison one")
        dead = wait_for(lambda: self.ops.get("/events/dead").json()["items"],
                        "the poison event in the dead letters")
        self.assertEqual(len(dead), 1, dead)
        d = dead[0]
        self.assertEqual((d["subscriber"], d["event"]["type"], d["event"]["payload"]["incident"]),
                         ("dev-hub", "incident_opened", poison))
        self.assertEqual(d["attempts"], 3)
        self.assertIn("CUST-WP-0025-T99", d["last_error"])
        st = self.ops.get("/events/status").json()
        sub = [s for s in st["subscriptions"] if s["subscriber"] == "dev-hub"][0]
        self.assertEqual(sub["dead"], 1)
        self.assertIsNotNone(sub["last_error"])
        # fix the cause (the task exists now), then redrive
        r = self.dev.post("/tasks", {"id": "CUST-WP-0025-T99", "workstream": "CUST-WP-0025",
                                     "title": "made for the test"})
        self.assertEqual(r.status, 201, r)
        self.assertProblem(self.ops.post("/events/dead/redrive", {"delivery": "999999"}), 404)
        r = self.ops.post("/events/dead/redrive", {"delivery": d["delivery"]})
        self.assertEqual(r.json(), {"redriven": 1})
        wait_for(lambda: [b for b in self.dev.get("/external-blockers?reference=%s" % poison)
                          .json()["items"]], "the redriven event applied")
        self.assertEqual(self.ops.get("/events/dead").json()["items"], [])

    def test_5_inbox_refuses_unknown_senders_and_ignores_unknown_types(self):
        before = self.dev.dump()
        ev = {"id": "e-1", "type": "incident_opened", "source": "evil-hub",
              "time": "2026-01-01T00:00:00Z", "payload": {"incident": "x"}}
        self.assertProblem(self.dev.post("/events/inbox", ev), 403)
        self.assertEqual(self.dev.dump(), before)
        # a known sender: an unknown type is stored and ignored, once
        ev.update(source="ops-hub", type="something_new", id="e-2")
        for _ in range(2):
            r = self.dev.post("/events/inbox", {"events": [ev]})
            self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["results"], [{"id": "e-2", "status": "duplicate"}])
        st = self.dev.get("/events/status").json()
        self.assertGreaterEqual(st["inbox"]["ignored"], 1)
        # a batch with a bad envelope: that event is refused, the other applied
        bad = dict(ev, id="e-3", time="yesterday")
        good = dict(ev, id="e-4")
        r = self.dev.post("/events/inbox", {"events": [bad, good]})
        self.assertEqual([x["status"] for x in r.json()["results"]], ["rejected", "ignored"])
        self.assertIn("time", r.json()["results"][0]["error"])

    def test_6_emit_by_hand_and_refusals(self):
        self.assertProblem(self.dev.post("/events", {"type": "Bad Type"}), 422, "type")
        self.assertProblem(self.dev.post("/events", {"type": "x", "payload": []}), 422, "payload")
        self.assertProblem(self.dev.post("/events", {"type": "x", "extra": 1}), 422, "extra")
        r = self.dev.post("/events", {"type": "deployment_started",
                                      "payload": {"deployment": "manual-1", "service": "db"}})
        self.assertEqual(r.status, 201, r)
        wait_for(lambda: [c for c in changes(self.ops) if c["deployment"] == "manual-1"],
                 "the hand-made event delivered")
        st = self.dev.get("/events/status").json()
        sub = st["subscriptions"][0]
        self.assertEqual((sub["subscriber"], sub["types"]), ("ops-hub", DEPLOY))
        self.assertIsNotNone(sub["last_success_at"])
        # in the hub's summaries too
        self.assertEqual(self.dev.get("/domains/custodian/summary").json()["events"]
                         ["subscriptions"][0]["subscriber"], "ops-hub")

    def test_7_mcp_status_dead_letters_and_redrive(self):
        r = self.ops.post("/incidents", {"title": "poison again", "opened_by": "oncall",
                                         "tasks": ["CUST-WP-0025-T98"]})
        self.assertEqual(r.status, 201, r)
        wait_for(lambda: self.ops.get("/events/dead").json()["items"], "a dead letter")
        msgs = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "t", "version": "1"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
             "params": {"name": "get_event_status", "arguments": {}}},
            {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
             "params": {"name": "list_dead_events", "arguments": {"subscriber": "dev-hub"}}},
            {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
             "params": {"name": "redrive_dead_events", "arguments": {"subscriber": "dev-hub"}}},
        ]
        p = subprocess.run([foshub_bin(), "mcp", "ops", "--db", self.ops.db],
                           input="".join(json.dumps(m) + "\n" for m in msgs),
                           capture_output=True, text=True, timeout=60, cwd=ROOT)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = [json.loads(line) for line in p.stdout.splitlines()]
        st = out[1]["result"]["structuredContent"]
        self.assertEqual([s["subscriber"] for s in st["subscriptions"]], ["dev-hub"])
        self.assertEqual(st["subscriptions"][0]["dead"], 1)
        dead = out[2]["result"]["structuredContent"]["items"]
        self.assertEqual(dead[0]["event"]["payload"]["tasks"], ["CUST-WP-0025-T98"])
        self.assertEqual(out[3]["result"]["structuredContent"], {"redriven": 1})
        # it fails again and is dead again: the cause is not fixed
        wait_for(lambda: self.ops.get("/events/dead").json()["items"], "dead again")

    def assertProblem(self, r, status, field=None):
        self.assertEqual(r.status, status, r)
        p = r.json()
        if field:
            self.assertEqual(p.get("field"), field, p)
        return p


class EventDurabilityTest(unittest.TestCase):
    """(2) the receiver is down while 1,000 events are emitted; (3) the
    sender is killed with SIGKILL mid-delivery."""

    nats = None

    def setUp(self):
        self.fed = Federation(sender_batch=25, nats=self.nats)

    def tearDown(self):
        self.fed.close()

    def emit(self, dev, n, prefix):
        ids = []
        for i in range(n):
            r = dev.post("/deployments", {"service": "svc-%d" % (i % 7),
                                          "version": "%s-%d" % (prefix, i),
                                          "deployed_by": "ci"})
            self.assertEqual(r.status, 201, r)
            ids.append(r.json()["id"])
        return ids

    def check_exactly_once(self, ops, ids):
        recs = changes(ops)
        by = {}
        for c in recs:
            by.setdefault(c["deployment"], []).append(c)
        self.assertEqual(sorted(by), sorted(ids))
        for dep, cs in by.items():
            self.assertEqual(len(cs), 1, dep)
            self.assertEqual(len(cs[0]["events"]), 1, cs[0])
        inbox = ops.get("/events/status").json()["inbox"]
        self.assertEqual(inbox["applied"], len(ids))

    def test_1_receiver_down_while_1000_events_are_emitted(self):
        dev = self.fed.hub("dev")
        ops = self.fed.hub("ops", start=False)
        ids = self.emit(dev, 1000, "down")
        st = dev.get("/events/status").json()["subscriptions"][0]
        self.assertEqual(st["backlog"], 1000)
        if self.nats:
            # the stream has them, waiting for the receiver
            wait_for(lambda: status(dev)["in_stream"] == 1000, "all 1000 in the stream")
        else:
            self.assertIsNotNone(st["last_error"])
        self.assertGreater(st["lag_seconds"], 0)
        ops.start()
        wait_for(lambda: dev.get("/events/status").json()["subscriptions"][0]["backlog"] == 0,
                 "the backlog delivered")
        self.check_exactly_once(ops, ids)
        st = dev.get("/events/status").json()["subscriptions"][0]
        self.assertEqual((st["delivered"], st["dead"]), (1000, 0))
        dev.stop()
        ops.stop()

    def test_2_sender_killed_mid_delivery(self):
        dev = self.fed.hub("dev")
        ops = self.fed.hub("ops", start=False)
        ids = self.emit(dev, 1000, "kill")
        ops.start()
        seen = wait_for(lambda: len(changes(ops)), "a first delivery")
        dev.proc.send_signal(signal.SIGKILL)
        dev.proc.wait()
        dev.proc = None
        at_kill = len(changes(ops))
        print("\n  sender killed with %d of 1000 delivered (first seen %d)"
              % (at_kill, seen), end="")
        dev.log.clear()
        dev.start()
        wait_for(lambda: dev.get("/events/status").json()["subscriptions"][0]["backlog"] == 0,
                 "the rest delivered after the restart")
        self.check_exactly_once(ops, ids)
        dev.stop()
        ops.stop()


@unittest.skipUnless(nats_server_bin(), NO_NATS)
class NatsEventFlowTest(EventFlowTest):
    """(5) the couplings, poison events and refusals over NATS JetStream."""

    @classmethod
    def setUpClass(cls):
        cls.nats = NatsServer().start()
        try:
            super().setUpClass()
        except BaseException:
            cls.nats.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.nats.close()

    def test_8_status_names_the_stream(self):
        st = status(self.dev)
        self.assertEqual(st["transport"], "nats")
        self.assertEqual(st["url"], "nats:FOSHUB_EVENTS/foshub.events.event.ops-hub")


@unittest.skipUnless(nats_server_bin(), NO_NATS)
class NatsEventDurabilityTest(EventDurabilityTest):
    """(5) the receiver down, the sender killed, and nats-server restarting
    (with its storage, and without: what the stream lost goes again)."""

    def setUp(self):
        self.nats = NatsServer().start()
        super().setUp()

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.nats.close()

    def test_2_sender_killed_mid_delivery(self):
        # NATS is down while the events are emitted; when it comes back
        # the sender publishes, and is killed as soon as the stream has
        # some: whatever it published without recording it goes again
        # with the same message id
        dev = self.fed.hub("dev")
        ops = self.fed.hub("ops", start=False)
        self.nats.stop()
        ids = self.emit(dev, 1000, "kill")
        self.nats.start()
        seen = wait_for(lambda: status(dev)["in_stream"], "a first publish", logs=[dev, self.nats])
        dev.kill()
        print("\n  sender killed with %d of 1000 in the stream" % seen, end="")
        dev.log.clear()
        ops.start()
        dev.start()
        wait_for(lambda: status(dev)["backlog"] == 0,
                 "the rest delivered after the restart", logs=[dev, ops])
        self.check_exactly_once(ops, ids)
        self.assertEqual((status(dev)["delivered"], status(dev)["dead"]), (1000, 0))
        dev.stop()
        ops.stop()

    def test_3_nats_server_restarts(self):
        dev = self.fed.hub("dev")
        ops = self.fed.hub("ops")
        ids = self.emit(dev, 50, "before")
        wait_for(lambda: status(dev)["backlog"] == 0, "the first events delivered", logs=[dev, ops])
        # the server goes away and comes back with its storage: both hubs
        # reconnect, what was emitted meanwhile arrives
        self.nats.stop()
        ids += self.emit(dev, 50, "down")
        wait_for(lambda: status(dev)["last_error"], "the sender noticing", logs=[dev])
        self.nats.start()
        wait_for(lambda: status(dev)["backlog"] == 0, "delivery after the restart", logs=[dev, ops])
        self.check_exactly_once(ops, ids)
        # the server loses its storage with events in the stream: the
        # sender sees a newer stream and sends them again
        ops.stop()
        ids += self.emit(dev, 50, "lost")
        wait_for(lambda: status(dev)["in_stream"] == 50, "the events in the stream", logs=[dev])
        self.nats.stop()
        self.nats.start(wipe=True)
        ops.start()
        wait_for(lambda: status(dev)["backlog"] == 0, "the lost events sent again", logs=[dev, ops])
        self.check_exactly_once(ops, ids)
        self.assertIn("sending them again", "".join(dev.log))
        dev.stop()
        ops.stop()


@unittest.skipUnless(nats_server_bin(), NO_NATS)
class NatsEventUserTest(unittest.TestCase):
    """A server that wants a user and password: the hubs give theirs
    (nats_user, nats_password_file); a wrong one delivers nothing and
    says why."""

    PASSWORD = "nats-test-fixture-password"  # a test fixture, not a secret

    def test_user_and_password(self):
        nats = NatsServer(["--user", "foshub", "--pass", self.PASSWORD])
        nats.start()
        fed = Federation(nats=nats)
        try:
            d = tempfile.mkdtemp(prefix="foshub-nats-pw-")
            good = os.path.join(d, "good")
            with open(good, "w") as f:
                f.write(self.PASSWORD + "\n")
            auth = "  nats_user: foshub\n  nats_password_file: %s\n" % good
            for h in ("dev", "ops"):
                fed.configs[h] = fed.configs[h].replace(
                    "  nats: ", auth + "  nats: ")
            dev, ops = fed.hub("dev"), fed.hub("ops")
            r = dev.post("/deployments", {"service": "web", "version": "v9",
                                          "deployed_by": "ci"})
            self.assertEqual(r.status, 201, r)
            wait_for(lambda: changes(ops), "the deployment over NATS with a password",
                     logs=[dev, ops])
            # a wrong password: nothing goes, the status says why
            dev.stop()
            with open(good, "w") as f:
                f.write("wrong\n")
            dev.start()
            r = dev.post("/deployments", {"service": "web", "version": "v10",
                                          "deployed_by": "ci"})
            wait_for(lambda: status(dev)["last_error"] and
                     "not connected" in status(dev)["last_error"],
                     "the error", logs=[dev])
            self.assertEqual(status(dev)["backlog"], 1)
            self.assertEqual(len(changes(ops)), 1)
            dev.stop()
            ops.stop()
        finally:
            fed.close()
            nats.close()
            shutil.rmtree(d, ignore_errors=True)


class EventConfigTest(unittest.TestCase):
    def test_bad_configuration_names_file_and_line(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="foshub-events-")
        cases = [
            ("events:\n  max_attempts: 0\n", 2, "max_attempts"),
            ("events:\n  subscribers:\n    - hub: ops-hub\n      url: ftp://x\n"
             "      types: [a]\n", 4, "url"),
            ("events:\n  subscribers:\n    - hub: ops-hub\n      url: http://x\n"
             "      types: [Bad]\n", 5, "Bad"),
            ("events:\n  retry_base: soon\n", 2, "retry_base"),
            ("events:\n  colour: blue\n", 2, "unknown key 'colour'"),
            ("events:\n  senders:\n    - hub: a\n    - hub: a\n", 4, "twice"),
            # over NATS
            ("events:\n  nats: http://127.0.0.1:4222\n", 2, "NATS URL"),
            ("events:\n  nats: nats://127.0.0.1:4222\n  nats_stream: a.b\n", 3,
             "nats_stream"),
            ("events:\n  nats: nats://127.0.0.1:4222\n  nats_user: dev-hub\n"
             "  nats_password_file: /nonexistent/secret\n", 4, "cannot read"),
            ("events:\n  nats_stream: EVENTS\n", 2, "need 'nats'"),
            ("events:\n  subscribers:\n    - hub: ops-hub\n      types: [a]\n", 3,
             "lacks the key 'url'"),
            ("events:\n  nats: nats://127.0.0.1:4222\n  senders:\n    - hub: a.b\n", 4,
             "over NATS"),
        ]
        for text, line, word in cases:
            path = os.path.join(d, "hub.yaml")
            with open(path, "w") as f:
                f.write(text)
            code, out, err = run_cli("serve", "dev", "--db",
                                     "sqlite:" + os.path.join(d, "x.db"),
                                     "--listen", "127.0.0.1:0", "--config", path)
            self.assertEqual(code, 1, err)
            self.assertIn("%s:%d:" % (path, line), err)
            self.assertIn(word, err)


if __name__ == "__main__":
    unittest.main()
