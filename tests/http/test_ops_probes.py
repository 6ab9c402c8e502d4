"""test_ops_probes.py - ops-hub's probes against real local endpoints: an
HTTP server, `openssl s_server` with a certificate that expires in 2 days,
a TCP listener sending an SSH banner, and a fixture server with recorded
Kubernetes, Longhorn and cert-manager responses over HTTPS with a bearer
token. Thresholds, state transitions and their alert events, dependency
suppression, maintenance windows, push reports and heartbeat expiry.

Probe intervals are 100-300 ms; every wait polls for a condition with a
timeout instead of sleeping."""

import shutil
import tempfile
from datetime import datetime, timedelta, timezone

from harness import HubTestCase
from ops_support import (ClusterFixture, HttpEndpoint, SshBanner, TlsServer,
                         free_port, make_cert, wait_until)


def iso(delta_s=0):
    t = datetime.now(timezone.utc) + timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class OpsProbeCase(HubTestCase):
    hub_name = "ops"
    import_examples = False

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="foshub-ops-")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def register(self, name, probes, **fields):
        body = {"probes": probes, "interval_ms": 100, "jitter_ms": 10,
                "timeout_ms": 2000}
        body.update(fields)
        r = self.hub.request("PUT", "/services/" + name, body=body)
        self.assertIn(r.status, (200, 201), r)
        return r.json()

    def service(self, name):
        r = self.hub.get("/services/" + name)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_health(self, name, health, timeout=15):
        return wait_until(
            lambda: (lambda s: s if s["health"] == health else None)(
                self.service(name)),
            timeout=timeout, what="%s to be %s" % (name, health))

    def events(self, name):
        items, _ = self.hub.all_items("/progress?source=ops-hub", limit=200)
        return [(e["event_type"], e) for e in reversed(items)
                if e["subject_refs"].get("service") == name]

    def open_alerts(self, name):
        items = self.hub.get("/progress/alerts?open=true&limit=500").json()
        return [e for e in items["items"]
                if e["subject_refs"].get("service") == name]

    def kinds(self, name):
        return [k for k, _ in self.events(name)]


class HttpThresholds(OpsProbeCase):
    def test_thresholds_transitions_and_events(self):
        ep = HttpEndpoint()
        self.addCleanup(ep.stop)
        self.register("web", [{"kind": "http", "url": ep.url,
                               "conditions": ["[STATUS] == 200",
                                              "[RESPONSE_TIME] < 2000"]}],
                      interval_ms=300, failure_threshold=3,
                      success_threshold=2, owner_domain=None)
        s = self.wait_health("web", "up")
        self.assertEqual(s["color"], "green")
        self.assertTrue(s["last_seen"])
        self.assertEqual(self.kinds("web"), [])

        ep.status = 503
        # failing but under the threshold: pending (amber), no alert yet
        s = self.wait_health("web", "pending")
        self.assertEqual(s["color"], "amber")
        self.assertLess(s["consecutive_failures"], 3)
        self.assertEqual(self.kinds("web"), [])
        s = self.wait_health("web", "down")
        self.assertEqual(s["color"], "red")
        self.assertEqual(s["consecutive_failures"], 3)
        self.assertIn("[STATUS] (503) == 200",
                      s["last_results"]["http"]["message"])
        # more failed rounds: still one alert, raised on the change only
        wait_until(lambda: self.service("web")["consecutive_failures"] >= 6,
                   what="more failed rounds")
        ev = self.events("web")
        self.assertEqual([k for k, _ in ev], ["alert_raised"])
        raised = ev[0][1]
        self.assertEqual(raised["severity"], "high")
        self.assertTrue(raised["correlation_id"].startswith("ops/web/"))
        self.assertEqual([e["correlation_id"] for e in self.open_alerts("web")],
                         [raised["correlation_id"]])

        ep.status = 200
        # one success is not enough to come back (success threshold 2)
        s = wait_until(lambda: (lambda x: x if x["consecutive_successes"] >= 1
                                else None)(self.service("web")),
                       what="a first success")
        if s["consecutive_successes"] == 1:
            self.assertEqual(s["health"], "down")
        s = self.wait_health("web", "up")
        ev = self.events("web")
        self.assertEqual([k for k, _ in ev], ["alert_raised", "alert_resolved"])
        self.assertEqual(ev[1][1]["correlation_id"], raised["correlation_id"])
        self.assertEqual(self.open_alerts("web"), [])

        # the history is kept, newest first, within the retention limit
        hist = self.hub.get("/probe-results?service=web&limit=500").json()
        self.assertGreaterEqual(len(hist["items"]), 9)
        self.assertLessEqual(len(hist["items"]), 100)
        self.assertEqual(hist["items"][0]["ok"], True)
        self.register("web", [{"kind": "http", "url": ep.url}],
                      interval_ms=300, history_limit=5)
        wait_until(lambda: len(self.hub.get(
            "/probe-results?service=web&limit=500").json()["items"]) <= 5,
            what="history trimmed to 5")
        h = self.hub.get("/services/web/health").json()
        self.assertEqual(h["health"], "up")
        self.assertLessEqual(len(h["history"]), 5)

    def test_body_conditions_and_probe_now(self):
        ep = HttpEndpoint()
        self.addCleanup(ep.stop)
        ep.body = '{"status": "ok", "checks": [{"name": "db", "up": true}]}'
        self.register("api", [{"kind": "http", "url": ep.url, "conditions": [
            "[STATUS] == 200", "[BODY].status == ok",
            "[BODY].checks[0].up == true"]}], failure_threshold=1,
            success_threshold=1)
        self.wait_health("api", "up")
        ep.body = '{"status": "degraded", "checks": [{"name": "db", "up": false}]}'
        r = self.hub.post("/services/api/probe")
        self.assertEqual(r.status, 200, r)
        res = r.json()["results"][0]
        self.assertFalse(res["ok"])
        self.assertIn("[BODY].status (degraded) == ok", res["message"])
        self.assertIn("[BODY].checks[0].up (false) == true", res["message"])
        self.assertEqual(r.json()["service"]["health"], "down")


class TlsSshTcp(OpsProbeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cert, cls.key = make_cert(cls.tmp, "short", 2)
        cls.tls = TlsServer(cls.cert, cls.key)
        cls.ssh = SshBanner()

    @classmethod
    def tearDownClass(cls):
        cls.tls.stop()
        cls.ssh.stop()
        super().tearDownClass()

    def test_certificate_expiring_in_two_days(self):
        tls = {"kind": "tls", "host": "127.0.0.1", "port": self.tls.port,
               "ca_file": self.cert}
        self.register("tls-strict", [dict(tls, conditions=[
            "[CERTIFICATE_EXPIRATION] > 72h"])], failure_threshold=1)
        self.register("tls-lenient", [dict(tls, conditions=[
            "[CERTIFICATE_EXPIRATION] > 24h", "[CONNECTED] == true"])],
            failure_threshold=1)
        # the same server over HTTPS (s_server -www answers HTTP)
        self.register("https", [{"kind": "http", "ca_file": self.cert,
                                 "url": "https://127.0.0.1:%d/" % self.tls.port,
                                 "conditions": [
                                     "[STATUS] == 200",
                                     "[CERTIFICATE_EXPIRATION] > 24h"]}],
                      failure_threshold=1)
        s = self.wait_health("tls-strict", "down")
        res = s["last_results"]["tls"]
        self.assertRegex(res["message"], r"^\[CERTIFICATE_EXPIRATION\] "
                         r"\((47h5\dm|48h00m)\) > 72h$")
        left = res["values"]["certificate_expires_in_s"]
        self.assertGreater(left, 47 * 3600)
        self.assertLessEqual(left, 48 * 3600)
        expires = datetime.strptime(res["values"]["certificate_expires_at"],
                                    "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                                        tzinfo=timezone.utc)
        self.assertLess(abs((expires - datetime.now(timezone.utc)
                             - timedelta(days=2)).total_seconds()), 3600)
        self.assertEqual(self.kinds("tls-strict"), ["alert_raised"])
        self.wait_health("tls-lenient", "up")
        s = self.wait_health("https", "up")
        self.assertEqual(s["last_results"]["http"]["values"]["status"], 200)
        # an unknown CA is a failed round, not a silent pass
        untrusted = {k: v for k, v in tls.items() if k != "ca_file"}
        self.register("tls-untrusted", [dict(untrusted, conditions=[
            "[CERTIFICATE_EXPIRATION] > 24h"])], failure_threshold=1)
        s = self.wait_health("tls-untrusted", "down")
        self.assertIn("certificate", s["last_results"]["tls"]["message"])

    def test_ssh_banner_and_tcp(self):
        ep = HttpEndpoint()
        self.addCleanup(ep.stop)
        s = self.register("sshd", [{"kind": "ssh", "host": "127.0.0.1",
                                    "port": self.ssh.port}])
        self.assertEqual(s["probes"][0]["conditions"], ["[CONNECTED] == true"])
        s = self.wait_health("sshd", "up")
        self.assertTrue(s["last_results"]["ssh"]["values"]["banner"]
                        .startswith("SSH-2.0-OpenSSH_9.2p1"))
        # an HTTP server sends no banner
        self.register("not-ssh", [{"kind": "ssh", "host": "127.0.0.1",
                                   "port": ep.port}], timeout_ms=300,
                      failure_threshold=1)
        s = self.wait_health("not-ssh", "down")
        self.assertIn("sent no SSH banner",
                      s["last_results"]["ssh"]["message"])
        self.register("tcp-open", [{"kind": "tcp", "host": "127.0.0.1",
                                    "port": self.ssh.port}])
        self.wait_health("tcp-open", "up")
        self.register("tcp-closed", [{"kind": "tcp", "host": "127.0.0.1",
                                      "port": free_port()}],
                      failure_threshold=1)
        s = self.wait_health("tcp-closed", "down")
        self.assertIn("cannot connect", s["last_results"]["tcp"]["message"])
        # the banner placeholder: [BODY] is the banner of an ssh probe
        self.register("ssh-version", [{"kind": "ssh", "host": "127.0.0.1",
                                       "port": self.ssh.port, "conditions": [
                                           "[BODY] == SSH-2.0-dropbear"]}],
                      failure_threshold=1)
        s = self.wait_health("ssh-version", "down")
        self.assertIn("(SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3) == "
                      "SSH-2.0-dropbear", s["last_results"]["ssh"]["message"])


class DependenciesMaintenancePush(OpsProbeCase):
    def test_dependency_suppresses_child_alerts(self):
        parent_ep, child_ep = HttpEndpoint(), HttpEndpoint()
        self.addCleanup(parent_ep.stop)
        self.addCleanup(child_ep.stop)
        self.register("db", [{"kind": "http", "url": parent_ep.url}],
                      failure_threshold=1, success_threshold=1)
        self.register("app", [{"kind": "http", "url": child_ep.url}],
                      depends_on=["db"], failure_threshold=3,
                      success_threshold=1)
        self.wait_health("db", "up")
        self.wait_health("app", "up")
        parent_ep.status = child_ep.status = 500
        self.wait_health("db", "down")
        s = self.wait_health("app", "down")
        wait_until(lambda: self.service("app")["consecutive_failures"] >= 5,
                   what="the child failing on")
        s = self.service("app")
        self.assertEqual(s["blocked_by"], ["db"])
        self.assertEqual(self.kinds("db"), ["alert_raised"])
        self.assertEqual(self.kinds("app"), [])
        # the parent comes back, the child is still down: now it alerts
        parent_ep.status = 200
        self.wait_health("db", "up")
        wait_until(lambda: self.kinds("app") == ["alert_raised"],
                   what="the child's held alert")
        self.assertEqual(self.service("app")["blocked_by"], [])
        child_ep.status = 200
        self.wait_health("app", "up")
        self.assertEqual(self.kinds("app"), ["alert_raised", "alert_resolved"])
        self.assertEqual(self.kinds("db"), ["alert_raised", "alert_resolved"])

    def test_maintenance_holds_alerts(self):
        ep = HttpEndpoint()
        self.addCleanup(ep.stop)
        self.register("cache", [{"kind": "http", "url": ep.url}],
                      failure_threshold=2, success_threshold=1)
        self.wait_health("cache", "up")
        r = self.hub.post("/maintenance-windows", body={
            "service": "cache", "starts_at": iso(-60), "ends_at": iso(3600),
            "reason": "upgrade", "created_by": "ops-test"})
        self.assertEqual(r.status, 201, r)
        window = r.json()
        # effective at once, not at the next round
        s = self.service("cache")
        self.assertEqual(s["health"], "maintenance")
        self.assertEqual(s["color"], "amber")
        ep.status = 503
        wait_until(lambda: self.service("cache")["consecutive_failures"] >= 4,
                   what="failed rounds in maintenance")
        s = self.service("cache")
        self.assertEqual(s["health"], "maintenance")
        self.assertEqual(s["probe_state"], "down")
        self.assertEqual(self.kinds("cache"), [])
        h = self.hub.get("/services/cache/health").json()
        self.assertEqual(h["maintenance"][0]["id"], window["id"])
        # the window ends early: the held alert is raised
        r = self.hub.patch("/maintenance-windows/" + window["id"],
                           body={"ends_at": iso(0)})
        self.assertEqual(r.status, 200, r)
        self.wait_health("cache", "down")
        wait_until(lambda: self.kinds("cache") == ["alert_raised"],
                   what="the held alert")
        ep.status = 200
        self.wait_health("cache", "up")
        # refusals (the probes keep writing: compare the windows only)
        before = self.hub.get("/maintenance-windows").json()
        p = self.assertProblem(self.hub.post("/maintenance-windows", body={
            "service": "cache", "starts_at": iso(60), "ends_at": iso(0)}),
            422, "ends_at")
        self.assertIn("after", p["detail"])
        self.assertProblem(self.hub.post("/maintenance-windows", body={
            "service": "nope", "starts_at": iso(0), "ends_at": iso(60)}),
            422, "service")
        self.assertEqual(self.hub.get("/maintenance-windows").json(), before)

    def test_push_reports_and_heartbeat(self):
        token = "push-token-for-the-backup-job"
        s = self.register("backup", [{"kind": "push", "token": token,
                                      "heartbeat": "400ms"}],
                          failure_threshold=1, success_threshold=1)
        # the token is kept as its hash only
        self.assertNotIn(token, str(s))
        self.assertEqual(len(s["probes"][0]["token_sha256"]), 64)
        auth = {"Authorization": "Bearer " + token}
        r = self.hub.post("/services/backup/push", body={
            "success": True, "message": "restic: snapshot 3f2a saved"},
            headers=auth)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["health"], "up")
        self.assertEqual(r.json()["last_results"]["push"]["message"],
                         "restic: snapshot 3f2a saved")
        before_push = self.service("backup")["last_push_at"]
        for headers, status in (({}, 401),
                                ({"Authorization": "Bearer wrong-token-xxxxx"},
                                 401),
                                ({"Authorization": "Basic eDp5"}, 401)):
            self.assertProblem(self.hub.post(
                "/services/backup/push", body={"success": True},
                headers=headers), status)
        self.assertProblem(self.hub.post("/services/backup/push",
                                         body={"succes": True}, headers=auth),
                           422, "succes")
        self.assertEqual(self.service("backup")["last_push_at"], before_push)
        # a push service cannot be probed, only reported
        self.assertProblem(self.hub.post("/services/backup/probe"), 422,
                           "service")
        # silence past the heartbeat is a failure
        s = self.wait_health("backup", "down", timeout=10)
        self.assertIn("no report", s["last_results"]["push"]["message"])
        self.assertEqual(self.kinds("backup"), ["alert_raised"])
        r = self.hub.post("/services/backup/push", body={"success": True},
                          headers=auth)
        self.assertEqual(r.json()["health"], "up")
        self.assertEqual(self.kinds("backup"), ["alert_raised",
                                                "alert_resolved"])
        # a reported failure is a failed round
        r = self.hub.post("/services/backup/push", body={
            "success": False, "message": "restic: repository locked"},
            headers=auth)
        self.assertEqual(r.json()["health"], "down")
        self.assertIn("repository locked",
                      self.events("backup")[-1][1]["summary"])


class ClusterProbes(OpsProbeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fixture = ClusterFixture(cls.tmp)
        r = cls.hub.post("/locations", body=cls.fixture.location())
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.fixture.stop()
        super().tearDownClass()

    def test_healthy_then_broken(self):
        # children fail later than their parent (a higher threshold), so
        # that the parent's verdict comes first
        common = {"location": "k3s-test", "success_threshold": 1,
                  "interval_ms": 200}
        self.register("k3s-api", [{"kind": "kubernetes"}],
                      failure_threshold=1, **common)
        self.register("longhorn", [{"kind": "longhorn",
                                    "max_backup_age": "26h"}],
                      depends_on=["k3s-api"], failure_threshold=2, **common)
        self.register("certs", [{"kind": "cert-manager",
                                 "min_validity": "72h"}],
                      depends_on=["k3s-api"], failure_threshold=2, **common)
        for name in ("k3s-api", "longhorn", "certs"):
            self.wait_health(name, "up")
        self.assertEqual(self.service("longhorn")["probes"][0]["location"],
                         "k3s-test")
        k = self.service("k3s-api")["last_results"]["kubernetes"]["values"]
        self.assertEqual(k["nodes"], {"total": 3, "ready": 3})
        self.assertEqual(k["pods"]["succeeded"], 1)
        lh = self.service("longhorn")["last_results"]["longhorn"]["values"]
        self.assertEqual(lh["volumes"]["detached"], 1)  # unknown, no failure
        self.assertLess(lh["backups"]["pvc-gitea-data"]["age_s"], 7 * 3600)
        c = self.service("certs")["last_results"]["cert-manager"]["values"]
        apps = [x for x in c["certificates"]["items"]
                if x["name"] == "apps-example-org"][0]
        self.assertTrue(apps["renewal_scheduled"])  # expires in 48h: fine
        rep = self.hub.get("/locations/k3s-test/cluster-health").json()
        self.assertTrue(rep["healthy"], rep)
        self.assertEqual({s["name"] for s in rep["services"]},
                         {"k3s-api", "longhorn", "certs"})
        rep = self.hub.get("/locations/k3s-test/storage-health").json()
        self.assertTrue(rep["healthy"], rep)
        # every request carried the bearer token (401 otherwise)
        self.assertIn("/api/v1/nodes", self.fixture.requests)

        self.fixture.variant = "broken"
        s = self.wait_health("k3s-api", "down")
        parts = ("/readyz answered HTTP 500", "node k3s-2 is not Ready",
                 "node k3s-3 has MemoryPressure",
                 "gitea/gitea-0: container gitea CrashLoopBackOff",
                 "apps/web-7d9f8-abcde is Pending",
                 "container web ImagePullBackOff",
                 "container worker OOMKilled")

        def problems():
            s = self.service("k3s-api")
            return " | ".join(s["last_results"]["kubernetes"]["values"]
                              ["problems"])
        # a round that began before the switch may have seen half of it
        # (the healthy /readyz, the broken nodes): wait for a whole one
        msg = wait_until(lambda: (lambda m: m if all(p in m for p in parts)
                                  else None)(problems()),
                         what="a round of the broken cluster")
        for part in parts:
            self.assertIn(part, msg)
        self.assertNotIn("restic", msg)  # Succeeded is fine
        self.assertNotIn("coredns", msg)
        self.assertEqual(self.kinds("k3s-api"), ["alert_raised"])
        s = self.wait_health("longhorn", "down")
        probs = s["last_results"]["longhorn"]["values"]["problems"]
        msg = " | ".join(probs)
        for part in ("volume pvc-gitea-data is degraded",
                     "volume pvc-postgres is faulted",
                     "backup target default is not available",
                     "volume pvc-postgres has no completed backup",
                     "volume pvc-gitea-data: last completed backup 30h ago"):
            self.assertIn(part, msg)
        self.assertNotIn("pvc-old-archive", msg)
        # its parent is down: marked, no alert of its own
        self.assertEqual(s["blocked_by"], ["k3s-api"])
        self.assertEqual(self.kinds("longhorn"), [])
        s = self.wait_health("certs", "down")
        msg = " | ".join(s["last_results"]["cert-manager"]["values"]
                         ["problems"])
        self.assertIn("certificate gitea/git-example-org is not Ready: "
                      "Issuing certificate as Secret does not exist", msg)
        self.assertIn("certificate apps/apps-example-org expires in 4", msg)
        rep = self.hub.get("/locations/k3s-test/cluster-health").json()
        self.assertFalse(rep["healthy"])
        self.fixture.variant = "healthy"
        for name in ("k3s-api", "longhorn", "certs"):
            self.wait_health(name, "up")

    def test_wrong_token_and_refusals(self):
        loc = self.fixture.location("k3s-wrong")
        with open(self.tmp + "/wrong.token", "w") as f:
            f.write("not-the-token\n")
        loc["token_file"] = self.tmp + "/wrong.token"
        self.assertEqual(self.hub.post("/locations", body=loc).status, 201)
        self.register("wrong-api", [{"kind": "kubernetes",
                                     "location": "k3s-wrong"}],
                      failure_threshold=1)
        s = self.wait_health("wrong-api", "down")
        self.assertIn("answered HTTP 401",
                      s["last_results"]["kubernetes"]["message"])
        names = lambda: [x["name"] for x in self.hub.get(
            "/services?limit=500").json()["items"]]
        before = names()
        for probes, field in (
                ([{"kind": "kubernetes"}], "probes[0].location"),
                ([{"kind": "kubernetes", "location": "nowhere"}],
                 "probes[0].location"),
                ([{"kind": "longhorn", "location": "k3s-test",
                   "conditions": ["[STATUS] == 200"]}],
                 "probes[0].conditions"),
                ([{"kind": "longhorn", "location": "k3s-test",
                   "max_backup_age": "soon"}], "probes[0].max_backup_age")):
            self.assertProblem(self.hub.request(
                "PUT", "/services/bad", body={"probes": probes}), 422, field)
        self.assertEqual(names(), before)


class Refusals(OpsProbeCase):
    def test_bad_conditions_are_refused_with_their_position(self):
        before = self.hub.dump()
        cases = (
            ("[STATUS] = 200", "probes[0].conditions[0]", 10, "operator"),
            ("[STATUSS] == 200", "probes[0].conditions[0]", 1,
             "unknown placeholder [STATUSS]"),
            ("[STATUS] == ok", "probes[0].conditions[0]", 13,
             "compares with a number"),
            ("[RESPONSE_TIME] < fast", "probes[0].conditions[0]", 19,
             "duration"),
            ("[CONNECTED] >= true", "probes[0].conditions[0]", 13, "=="),
            ("[BODY].status < ok", "probes[0].conditions[0]", 17,
             "numbers only"),
            ("[STATUS] ==", "probes[0].conditions[0]", 12, "value"),
        )
        for expr, field, col, words in cases:
            r = self.hub.request("PUT", "/services/bad", body={"probes": [
                {"kind": "http", "url": "http://127.0.0.1:1/",
                 "conditions": [expr]}]})
            p = self.assertProblem(r, 422, field)
            self.assertEqual(p.get("column"), col, (expr, p))
            self.assertIn(words, p["detail"])
        # a placeholder the kind does not have
        p = self.assertProblem(self.hub.request("PUT", "/services/bad", body={
            "probes": [{"kind": "tcp", "host": "127.0.0.1", "port": 1,
                        "conditions": ["[CONNECTED] == true",
                                       "[STATUS] == 200"]}]}),
            422, "probes[0].conditions[1]")
        self.assertIn("a tcp probe cannot use", p["detail"])
        for body, field in (
                ({"probes": [{"kind": "ftp"}]}, "probes[0].kind"),
                ({"probes": [{"kind": "http"}]}, "probes[0].url"),
                ({"probes": [{"kind": "http", "url": "ftp://x"}]},
                 "probes[0].url"),
                ({"probes": [{"kind": "tcp", "host": "h", "port": 70000}]},
                 "probes[0].port"),
                ({"probes": [{"kind": "http", "url": "http://x", "pth": 1}]},
                 "probes[0].pth"),
                ({"probes": [{"kind": "push", "token": "short",
                              "heartbeat": "1h"}]}, "probes[0].token"),
                ({"probes": [{"kind": "push",
                              "token": "long-enough-token-123"}]},
                 "probes[0].heartbeat"),
                ({"probes": "http"}, "probes"),
                ({"depends_on": ["ghost"]}, "depends_on"),
                ({"interval_ms": 10}, "interval_ms"),
                ({"failure_threshold": 0}, "failure_threshold"),
                ({"health": "up"}, "health"),
                ({"lifecycle": "zombie"}, "lifecycle"),
                ({"name": "other"}, "name")):
            self.assertProblem(self.hub.request("PUT", "/services/bad",
                                                body=body), 422, field)
        self.assertEqual(self.hub.dump(), before)

    def test_dependency_cycles_are_refused(self):
        self.register("a", [], interval_ms=60000)
        self.register("b", [], depends_on=["a"], interval_ms=60000)
        before = self.hub.dump()
        p = self.assertProblem(self.hub.request(
            "PUT", "/services/a", body={"depends_on": ["b"]}), 422,
            "depends_on")
        self.assertIn("cycle", p["detail"])
        self.assertProblem(self.hub.request(
            "PUT", "/services/a", body={"depends_on": ["a"]}), 422,
            "depends_on")
        self.assertEqual(self.hub.dump(), before)
        # a service without probes is not probed
        self.assertProblem(self.hub.post("/services/a/probe"), 422, "service")
        self.assertEqual(self.service("a")["health"], "unknown")
