"""test_views.py - the pages for people over HTTP: ops-hub /now, fin-hub
/runway, dev-hub /board. Their HTML and headers, the escaping of what
users wrote, errors for bad arguments, the event streams (an update after
a change through the API, only the sections that changed, a clean end when
the hub stops), and that open streams hold no worker thread. The pages in
a real browser are tests/ui.
"""

import http.client
import json
import os
import queue
import socket
import threading
import time
import unittest

from harness import EXAMPLE, Hub, ROOT, test_pg

INVENTORY = os.path.join(ROOT, "examples", "ops", "inventory.yaml")
PUSH_TOKEN = "change-me-to-a-long-random-token"


class Stream:
    """One event stream of a page, read on a thread into a queue of
    (event, data, id) tuples; None is queued at the end of the body, and
    "error" when the body broke off instead of ending."""

    def __init__(self, hub, path, last_event_id=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", hub.port,
                                               timeout=120)
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", path, headers=headers)
        self.resp = self.conn.getresponse()
        self.events = queue.Queue()
        self.ended = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        event, data, eid = "message", [], None
        buf = b""
        try:
            while True:
                chunk = self.resp.read1(65536)
                if not chunk:
                    self.events.put(None)
                    return
                buf += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    line = raw.decode()
                    if line == "":
                        if data:
                            self.events.put((event, "\n".join(data), eid))
                        event, data = "message", []
                    elif line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
                    elif line.startswith("id: "):
                        eid = line[4:]
                    elif line.startswith(": "):
                        self.events.put(("comment", line[2:], None))
        except (http.client.IncompleteRead, ConnectionError, OSError,
                ValueError, AttributeError):
            # AttributeError and ValueError: the test closed the
            # connection under the reader
            self.events.put("error")

    def next(self, kinds=("update",), timeout=30):
        """The next event of one of kinds (pings are skipped)."""
        deadline = time.time() + timeout
        while self.ended is False:
            ev = self.events.get(timeout=max(0.1, deadline - time.time()))
            if ev is None or ev == "error":
                self.ended = ev
            elif ev[0] in kinds:
                return ev
        return self.ended

    def close(self):
        # wake the reader blocked in recv first: closing the response
        # waits for the lock the reader holds
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass
        self.conn.close()


def update(ev):
    assert ev and ev != "error" and ev[0] == "update", ev
    return json.loads(ev[1])


class OpsNowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub("ops", env={"FOSHUB_OPS_PROBES": "off"}).start()
        with open(INVENTORY, "rb") as f:
            r = cls.hub.post("/inventory?source=inventory.yaml", raw=f.read())
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        try:
            cls.hub.stop()
        finally:
            cls.hub.cleanup()

    def test_page_headers_and_content(self):
        r = self.hub.get("/now")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        csp = r.header("Content-Security-Policy")
        self.assertIn("script-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertEqual(r.header("Vary"), "Accept")
        for text in ('<html lang="en">', "<h1>Now</h1>", 'id="services"',
                     'id="svc-gitea"', 'id="incidents"', 'id="access"',
                     'id="path-backup-ssh"', 'id="storage"', 'id="changes"',
                     '<script src="/ui/live.js" defer></script>'):
            self.assertIn(text, r.body)
        # no inline script or style anywhere
        self.assertNotIn("<script>", r.body)
        self.assertNotIn("style=", r.body)

    def test_assets(self):
        for path, ctype, text in (
                ("/ui/live.js", "text/javascript; charset=utf-8", "EventSource"),
                ("/ui/hub.css", "text/css; charset=utf-8", "prefers-color-scheme"),
                ("/ui/icon.svg", "image/svg+xml", "<svg")):
            r = self.hub.get(path)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("Content-Type"), ctype)
            self.assertIn(text, r.body)
        self.assertEqual(self.hub.get("/ui/nothing.js").status, 404)

    def test_user_text_is_escaped(self):
        title = "<script>alert('x')</script> & \"quotes\""
        r = self.hub.post("/incidents", {"title": title, "opened_by": "<b>eve</b>",
                                         "severity": "SEV2", "services": ["gitea"]})
        self.assertEqual(r.status, 201, r)
        body = self.hub.get("/now").body
        self.assertNotIn("<script>alert", body)
        self.assertNotIn("<b>eve</b>", body)
        self.assertIn("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                      "&quot;quotes&quot;", body)
        self.assertIn("by &lt;b&gt;eve&lt;/b&gt;", body)

    def test_bad_arguments_are_refused_with_an_html_page(self):
        r = self.hub.get("/now?domain=x")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        self.assertIn("unknown query parameter &#39;domain&#39; of /now", r.body)

    def test_stream_sends_what_changed(self):
        s = Stream(self.hub, "/now")
        try:
            self.assertEqual(s.resp.status, 200)
            self.assertEqual(s.resp.getheader("Content-Type"), "text/event-stream")
            first = update(s.next())
            self.assertEqual(sorted(first["sections"]),
                             ["access", "changes", "incidents", "services", "storage"])
            self.assertEqual(len(first["version"]), 16)
            self.assertNotIn("nightly-backup is down", first["sections"]["services"])
            # a push job reports failures: the service goes down
            for _ in range(3):
                r = self.hub.post("/services/nightly-backup/push",
                                  {"success": False, "message": "rsync exited 23"},
                                  headers={"Authorization": "Bearer " + PUSH_TOKEN})
                self.assertEqual(r.status, 200, r)
            seen = ""
            while 'class="tile red" id="svc-nightly-backup"' not in seen:
                seen = update(s.next()).get("sections", {}).get("services", seen)
            self.assertIn("rsync exited 23", seen)
            # a change record: only the change log is sent again
            r = self.hub.post("/changes", {"summary": "gitea 1.23", "changed_by": "bob"})
            self.assertEqual(r.status, 201, r)
            u = update(s.next())
            self.assertEqual(list(u["sections"]), ["changes"])
            self.assertIn("gitea 1.23", u["sections"]["changes"])
        finally:
            s.close()

    def test_reconnect_with_the_current_version_gets_only_changes(self):
        s = Stream(self.hub, "/now")
        version = update(s.next())["version"]
        s.close()
        again = Stream(self.hub, "/now", last_event_id=version)
        try:
            # the hub has seen that this page is current
            self.assertEqual(again.next(kinds=("comment",)),
                             ("comment", "current", None))
            r = self.hub.post("/changes", {"summary": "after reconnect", "changed_by": "bob"})
            self.assertEqual(r.status, 201, r)
            u = update(again.next())
            self.assertEqual(list(u["sections"]), ["changes"])
        finally:
            again.close()


class StorageOnNowTest(unittest.TestCase):
    """Storage and certificate health from real probe results: Longhorn
    and cert-manager answers recorded in tests/data/ops (served over
    HTTPS), and a TLS server whose certificate expires in 2 days."""

    def test_volumes_backups_and_certificates(self):
        import shutil
        import tempfile
        from ops_support import ClusterFixture, TlsServer, make_cert
        tmp = tempfile.mkdtemp(prefix="foshub-views-")
        hub = Hub("ops", env={"FOSHUB_OPS_PROBES": "off"}).start()
        fixture = ClusterFixture(tmp)
        cert, key = make_cert(tmp, "short", 2)
        tls = TlsServer(cert, key)
        try:
            self.assertEqual(hub.post("/locations", fixture.location()).status, 201)
            for name, probes in (
                    ("longhorn", [{"kind": "longhorn", "location": "k3s-test",
                                   "max_backup_age": "26h"}]),
                    ("certs", [{"kind": "cert-manager", "location": "k3s-test"}]),
                    ("web", [{"kind": "tls", "host": "127.0.0.1", "port": tls.port,
                              "ca_file": cert}])):
                r = hub.request("PUT", "/services/" + name, body={"probes": probes})
                self.assertIn(r.status, (200, 201), r)
                r = hub.post("/services/%s/probe" % name)
                self.assertEqual(r.status, 200, r)
            body = hub.get("/now").body
            storage = body[body.index('id="storage"'):body.index('id="h-changes"')]
            self.assertIn("<h3>Longhorn: longhorn</h3>", storage)
            self.assertIn('<span class="badge green">2 healthy</span>', storage)
            self.assertRegex(storage, r'<th scope="row">pvc-gitea-data</th><td><time '
                                      r'[^>]*>\d+ h ago</time></td><td><span class="badge '
                                      r'green">\d+ h</span>')
            self.assertIn("Backup target default: <span class=\"badge green\">"
                          "available</span>", storage)
            # the certificate of the TLS probe, 2 days left: red, no renewal
            self.assertRegex(storage, r'<th scope="row">web</th><td>probe tls \(tls\)'
                                      r'</td><td class="num">1</td><td><span class='
                                      r'"badge red">expires soon</span>')
            # cert-manager's: 48 h left but a renewal is scheduled
            self.assertRegex(storage, r'apps-example-org</th><td>certs \(cert-manager\)'
                                      r'</td><td class="num">1</td><td><span class='
                                      r'"badge amber">renewal scheduled</span>')
        finally:
            tls.stop()
            fixture.stop()
            hub.stop()
            hub.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)


class StreamsHoldNoWorkerTest(unittest.TestCase):
    """With two worker threads, forty open pages still leave the hub
    answering, and every stream ends cleanly when the hub stops."""

    def test_many_streams_and_a_clean_stop(self):
        hub = Hub("ops", args=["--threads", "2"],
                  env={"FOSHUB_OPS_PROBES": "off"}).start()
        streams = []
        try:
            for _ in range(40):
                streams.append(Stream(hub, "/now"))
            for s in streams:
                self.assertEqual(update(s.next())["sections"].keys() >= {"services"}, True)
            r = hub.get("/healthz")
            self.assertEqual(r.status, 200, r)
            r = hub.post("/changes", {"summary": "seen by all", "changed_by": "bob"})
            self.assertEqual(r.status, 201, r)
            for s in streams:
                self.assertIn("seen by all", update(s.next())["sections"]["changes"])
            hub.stop()  # SIGTERM; fails unless the hub exits 0
            for s in streams:
                self.assertEqual(s.next(kinds=("close",))[0:2],
                                 ("close", "the hub is stopping"))
                self.assertIsNone(s.next(), "the body must end cleanly")
        finally:
            for s in streams:
                s.close()
            hub.cleanup()


class FinRunwayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub("fin").start()
        h = cls.hub
        for name in ("ops", "cloud"):
            assert h.post("/domains", {"name": name}).status == 201
        assert h.post("/accounts", {"domain": "ops", "balance": 6000000,
                                    "currency": "EUR", "as_of": "2026-05-01"}).status == 201
        assert h.post("/commitments", {"domain": "ops", "currency": "EUR",
                                       "type": "salary", "vendor": "Staff",
                                       "amount": 500000, "cadence": "monthly",
                                       "start_date": "2026-01-01"}).status == 201

    @classmethod
    def tearDownClass(cls):
        try:
            cls.hub.stop()
        finally:
            cls.hub.cleanup()

    def test_json_api_is_unchanged(self):
        r = self.hub.get("/runway/ops")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "application/json")
        w = r.json()
        self.assertEqual(w["balance"], {"amount": 6000000, "text": "60000.00"})
        self.assertEqual(w["monthly_burn"]["net"]["amount"], 500000)
        self.assertEqual(len(w["projection"]), 12)
        p = self.hub.get("/runway/nope")
        self.assertEqual(p.status, 404)
        self.assertEqual(p.header("Content-Type"), "application/problem+json")

    def test_page(self):
        r = self.hub.get("/runway")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        for text in ('id="rw-ops"', "60000.00 EUR", "12.0 months",
                     'role="img"', "Projected balance of ops",
                     '<a href="/runway?domain=ops" aria-current="false">ops</a>',
                     '<a href="/runway" aria-current="page">All domains</a>'):
            self.assertIn(text, r.body)
        one = self.hub.get("/runway?domain=cloud")
        self.assertEqual(one.status, 200, one)
        self.assertNotIn('id="rw-ops"', one.body)
        self.assertIn("No cash account for this domain", one.body)

    def test_cash_out_wording_follows_its_definition(self):
        # cash_out_month is the first month closing below zero
        # (docs/fin-hub.md): a month closing at exactly zero is the last
        # the cash covers, and the page says both
        h = self.hub
        for name, balance in (("lab", 5000000), ("broke", 100000)):
            self.assertEqual(h.post("/domains", {"name": name}).status, 201)
            self.assertEqual(h.post("/accounts", {
                "domain": name, "balance": balance, "currency": "EUR",
                "as_of": "2026-05-01"}).status, 201)
            self.assertEqual(h.post("/commitments", {
                "domain": name, "currency": "EUR", "type": "salary",
                "vendor": "Staff", "amount": 500000, "cadence": "monthly",
                "start_date": "2026-01-01"}).status, 201)
        w = h.get("/runway/lab").json()
        self.assertEqual(w["cash_out_month"], "2027-03")
        feb = [m for m in w["projection"] if m["month"] == "2027-02"][0]
        self.assertEqual(feb["balance_end"], 0)
        page = h.get("/runway?domain=lab").body
        self.assertIn("The projected balance goes below zero in 2027-03: "
                      "2027-02 is the last month the cash covers.", page)
        self.assertNotIn("Cash runs out", page)
        page = h.get("/runway?domain=broke").body
        self.assertIn("The projected balance goes below zero in 2026-05, "
                      "the first month projected: the cash does not cover "
                      "it.", page)
        # ops closes its twelfth month at exactly zero: never below
        self.assertIsNone(h.get("/runway/ops").json()["cash_out_month"])
        self.assertNotIn("below zero", h.get("/runway?domain=ops").body)

    def test_bad_domain(self):
        r = self.hub.get("/runway?domain=nope")
        self.assertEqual(r.status, 404, r)
        self.assertIn("no domain &#39;nope&#39; (query parameter &#39;domain&#39;)", r.body)
        s = Stream(self.hub, "/runway?domain=nope")
        self.assertEqual(s.resp.status, 404)
        self.assertEqual(s.resp.getheader("Content-Type"), "application/problem+json")
        s.close()

    def test_text_that_is_not_utf8_is_replaced(self):
        """A page is UTF-8: bytes of a query value that are not (echoed by
        the error) come out as U+FFFD, not raw."""
        conn = http.client.HTTPConnection("127.0.0.1", self.hub.port,
                                          timeout=30)
        try:
            conn.request("GET", "/runway?domain=%ff%3Cb%3E%c3%a9%e2%82")
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        self.assertEqual(r.getheader("Content-Type"),
                         "text/html; charset=utf-8")
        body = raw.decode("utf-8")  # strict: raises on a stray byte
        if test_pg():
            # PostgreSQL refuses the lookup of text that is not UTF-8
            self.assertEqual(r.status, 422)
            self.assertIn("invalid value", body)
            return
        self.assertEqual(r.status, 404)
        self.assertIn("no domain &#39;\ufffd&lt;b&gt;\u00e9\ufffd\ufffd&#39;",
                      body)

    def test_stream_follows_a_balance(self):
        s = Stream(self.hub, "/runway?domain=ops")
        try:
            update(s.next())
            r = self.hub.patch("/accounts/ops", {"balance": 1000000})
            self.assertEqual(r.status, 200, r)
            u = update(s.next())
            self.assertIn("10000.00 EUR", u["sections"]["runway"])
            self.assertIn("below the threshold", u["sections"]["runway"])
        finally:
            s.close()


class DevBoardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub("dev")
        cls.hub.import_workplans(EXAMPLE)
        cls.hub.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.hub.stop()
        finally:
            cls.hub.cleanup()

    def test_page_and_a_task_done(self):
        r = self.hub.get("/board")
        self.assertEqual(r.status, 200, r)
        for text in ('id="ws-CUST-WP-0025"', 'id="task-CUST-WP-0025-T09"',
                     'id="blocked"', 'id="messages"', 'id="risks"',
                     'id="decisions"'):
            self.assertIn(text, r.body)
        s = Stream(self.hub, "/board")
        try:
            update(s.next())
            r = self.hub.patch("/tasks/CUST-WP-0025-T09", {"status": "done"})
            self.assertEqual(r.status, 200, r)
            u = update(s.next())
            ws = u["sections"]["workstreams"]
            done = ws[ws.index("<h4>Done"):]
            self.assertIn('id="task-CUST-WP-0025-T09"', done.split("</ul>")[0])
        finally:
            s.close()


if __name__ == "__main__":
    unittest.main()
