"""test_capabilities.py - the capability catalog and capability requests
over HTTP: every allowed transition and every refused one (409 naming both
states, nothing changed), reroutes, the history and its order, PATCH
rules, filters and the validation of every body."""

import threading
import uuid

from harness import HubTestCase

STATUSES = ("requested", "accepted", "in_progress", "fulfilled", "rejected",
            "disputed")
ALLOWED = {
    "requested": ("accepted", "rejected", "disputed"),
    "accepted": ("in_progress", "rejected", "disputed"),
    "in_progress": ("fulfilled", "disputed"),
    "disputed": ("requested", "accepted", "rejected"),
    "fulfilled": (),
    "rejected": (),
}
# how to bring a new request into each status
PATHS = {
    "requested": (),
    "accepted": ("accepted",),
    "in_progress": ("accepted", "in_progress"),
    "fulfilled": ("accepted", "in_progress", "fulfilled"),
    "rejected": ("rejected",),
    "disputed": ("disputed",),
}


class CapabilityCase(HubTestCase):
    import_examples = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for name in ("Ops", "Dev", "Sec", "Legal"):
            r = cls.hub.post("/domains", body={"name": name})
            assert r.status == 201, r
        for body in ({"name": "Security Review", "domain": "sec",
                      "tags": ["security", "review"],
                      "contact": "sec-lead"},
                     {"name": "DNS Changes", "domain": "ops"}):
            r = cls.hub.post("/capabilities", body=body)
            assert r.status == 201, r

    def new_request(self, capability="security-review", **extra):
        body = {"capability": capability, "requesting_domain": "dev",
                "requested_by": "agent-7", "title": "review the new API"}
        body.update(extra)
        r = self.hub.post("/capability-requests", body=body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def move(self, rid, status, actor="sec-agent", note=None, **extra):
        body = {"status": status, "actor": actor}
        if note is not None:
            body["note"] = note
        body.update(extra)
        return self.hub.post("/capability-requests/%s/transition" % rid,
                             body=body)

    def request_in(self, status):
        rid = self.new_request()["id"]
        for s in PATHS[status]:
            r = self.move(rid, s)
            self.assertEqual(r.status, 200, r)
        return rid

    def get(self, rid):
        r = self.hub.get("/capability-requests/" + rid)
        self.assertEqual(r.status, 200, r)
        return r.json()


class Catalog(CapabilityCase):
    def test_capability_crud(self):
        c = self.hub.get("/capabilities/security-review").json()
        self.assertEqual(c["domain"], "sec")
        self.assertEqual(c["status"], "active")
        self.assertEqual(c["tags"], ["security", "review"])
        self.assertEqual(c["contact"], "sec-lead")
        self.assertEqual(self.hub.get("/capabilities/" + c["id"]).json(), c)
        items = self.hub.get("/capabilities?domain=ops").json()["items"]
        self.assertEqual([i["slug"] for i in items], ["dns-changes"])
        r = self.hub.post("/capabilities", body={"name": "Legal Advice",
                                                  "slug": "Legal Advice!",
                                                  "domain": "legal"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["slug"], "legal-advice")
        self.assertEqual(r.header("Location"),
                         "/capabilities/" + r.json()["id"])
        r = self.hub.patch("/capabilities/legal-advice",
                           body={"description": "contracts"})
        self.assertEqual(r.json()["description"], "contracts")

    def test_capability_refusals(self):
        before = self.hub.dump()
        for body, status, field in (
                ({"name": "X"}, 422, "domain"),
                ({"name": "X", "domain": "nowhere"}, 422, "domain"),
                ({"domain": "ops"}, 422, "name"),
                ({"domain": "ops", "name": "!!!"}, 422, "slug"),
                ({"name": "X", "domain": "ops", "tags": "a"}, 422, "tags"),
                ({"name": "X", "domain": "ops", "tags": [1]}, 422, "tags"),
                ({"name": "X", "domain": "ops", "tags": [""]}, 422, "tags"),
                ({"name": "X", "domain": "ops", "tags": ["a\nb"]}, 422,
                 "tags"),
                ({"name": "X", "domain": "ops", "status": "gone"}, 422,
                 "status"),
                ({"name": "X", "domain": "ops", "colour": 1}, 422, "colour"),
                ({"name": "Security Review", "domain": "ops"}, 409, "slug")):
            with self.subTest(body=body):
                self.assertProblem(self.hub.post("/capabilities", body=body),
                                   status, field)
        self.assertEqual(self.hub.dump(), before)

    def test_retired_capability_takes_no_requests(self):
        self.hub.post("/capabilities", body={"name": "Fax", "domain": "ops"})
        r = self.hub.patch("/capabilities/fax", body={"status": "retired"})
        self.assertEqual(r.json()["status"], "retired")
        before = self.hub.dump()
        r = self.hub.post("/capability-requests", body={
            "capability": "fax", "requesting_domain": "dev",
            "requested_by": "a", "title": "send a fax"})
        p = self.assertProblem(r, 422, "capability")
        self.assertIn("retired", p["detail"])
        self.assertEqual(self.hub.dump(), before)


class Requests(CapabilityCase):
    def test_create(self):
        r = self.hub.post("/capability-requests", body={
            "capability": "security-review", "requesting_domain": "Dev",
            "requested_by": "agent-7", "title": "review",
            "description": "the **API**",
            "request_context": {"repo": "api", "pr": 12}})
        self.assertEqual(r.status, 201, r)
        q = r.json()
        self.assertEqual(r.header("Location"),
                         "/capability-requests/" + q["id"])
        self.assertEqual(q["providing_domain"], "sec")
        self.assertEqual(q["requesting_domain"], "dev")
        self.assertEqual(q["status"], "requested")
        self.assertIsNone(q["status_reason"])
        self.assertEqual(q["request_context"], {"repo": "api", "pr": 12})
        self.assertEqual(q["fulfillment_context"], {})
        self.assertEqual(q["next_statuses"],
                         ["accepted", "rejected", "disputed"])
        self.assertEqual(len(q["history"]), 1)
        h = q["history"][0]
        self.assertIsNone(h["from_status"])
        self.assertEqual(h["to_status"], "requested")
        self.assertEqual(h["actor"], "agent-7")
        self.assertEqual(h["to_domain"], "sec")
        self.assertEqual(self.get(q["id"]), q)
        # by the capability's id too
        cap = self.hub.get("/capabilities/dns-changes").json()
        q2 = self.new_request(capability=cap["id"])
        self.assertEqual(q2["capability"], "dns-changes")
        self.assertEqual(q2["providing_domain"], "ops")

    def test_create_refusals(self):
        before = self.hub.dump()
        base = {"capability": "security-review", "requesting_domain": "dev",
                "requested_by": "a", "title": "t"}
        for change, field in (
                ({"requesting_domain": None}, "requesting_domain"),
                ({"requesting_domain": "nowhere"}, "requesting_domain"),
                ({"capability": "nothing"}, "capability"),
                ({"requested_by": None}, "requested_by"),
                ({"requested_by": ""}, "requested_by"),
                ({"title": None}, "title"),
                ({"providing_domain": "ops"}, "providing_domain"),
                ({"status": "accepted"}, "status"),
                ({"status_reason": "x"}, "status_reason"),
                ({"request_context": []}, "request_context"),
                ({"history": []}, "history"),
                ({"id": str(uuid.uuid4())}, "id")):
            body = dict(base)
            for k, v in change.items():
                if v is None:
                    body.pop(k)
                else:
                    body[k] = v
            with self.subTest(change=change):
                self.assertProblem(self.hub.post("/capability-requests",
                                                 body=body), 422, field)
        self.assertEqual(self.hub.dump(), before)

    def test_every_allowed_transition(self):
        for frm, targets in ALLOWED.items():
            for to in targets:
                with self.subTest(frm=frm, to=to):
                    rid = self.request_in(frm)
                    n = len(self.get(rid)["history"])
                    r = self.move(rid, to, actor="actor-%s" % to,
                                  note="%s to %s" % (frm, to))
                    self.assertEqual(r.status, 200, r)
                    q = r.json()
                    self.assertEqual(q["status"], to)
                    self.assertEqual(q["status_reason"],
                                     "%s to %s" % (frm, to))
                    self.assertEqual(q["next_statuses"], list(ALLOWED[to]))
                    self.assertEqual(len(q["history"]), n + 1)
                    h = q["history"][-1]
                    self.assertEqual((h["from_status"], h["to_status"]),
                                     (frm, to))
                    self.assertEqual(h["actor"], "actor-%s" % to)
                    self.assertEqual(h["note"], "%s to %s" % (frm, to))
                    self.assertIsNone(h["from_domain"])
                    self.assertIsNone(h["to_domain"])
                    self.assertEqual(self.get(rid), q)

    def test_every_refused_transition(self):
        refused = 0
        for frm in STATUSES:
            rid = self.request_in(frm)
            for to in STATUSES:
                if to in ALLOWED[frm]:
                    continue
                with self.subTest(frm=frm, to=to):
                    before = self.hub.dump()
                    r = self.move(rid, to, note="should not stick")
                    p = self.assertProblem(r, 409, "status")
                    self.assertEqual(p["type"], "urn:foshub:problem:conflict")
                    self.assertIn("'%s'" % frm, p["detail"])
                    self.assertIn("'%s'" % to, p["detail"])
                    self.assertIn(rid, p["detail"])
                    self.assertEqual(self.hub.dump(), before)
                    refused += 1
        self.assertEqual(refused, 36 - 11)

    def test_final_statuses_say_so(self):
        for frm in ("fulfilled", "rejected"):
            rid = self.request_in(frm)
            p = self.assertProblem(self.move(rid, "accepted"), 409, "status")
            self.assertIn("'%s' is final" % frm, p["detail"])
            self.assertEqual(self.get(rid)["next_statuses"], [])

    def test_history_order(self):
        rid = self.new_request()["id"]
        steps = ("disputed", "requested", "accepted", "in_progress",
                 "disputed", "accepted", "in_progress", "fulfilled")
        for i, s in enumerate(steps):
            r = self.move(rid, s, actor="actor-%d" % i, note="step %d" % i)
            self.assertEqual(r.status, 200, r)
        h = self.get(rid)["history"]
        self.assertEqual([(x["from_status"], x["to_status"]) for x in h],
                         [(None, "requested")] +
                         list(zip(("requested",) + steps[:-1], steps)))
        self.assertEqual([x["actor"] for x in h[1:]],
                         ["actor-%d" % i for i in range(len(steps))])
        self.assertEqual([x["at"] for x in h], sorted(x["at"] for x in h))
        # the same rows, oldest first, as their own resource
        items, _ = self.hub.all_items(
            "/capability-request-transitions?request=" + rid, limit=3)
        self.assertEqual(items, h)

    def test_fulfillment_context(self):
        rid = self.request_in("in_progress")
        r = self.move(rid, "fulfilled", note="done",
                      fulfillment_context={"report": "r-1"})
        self.assertEqual(r.json()["fulfillment_context"], {"report": "r-1"})
        # a transition without one keeps it; PATCH may change it
        rid2 = self.request_in("accepted")
        self.hub.patch("/capability-requests/" + rid2,
                       body={"fulfillment_context": {"eta": "friday"}})
        r = self.move(rid2, "in_progress")
        self.assertEqual(r.json()["fulfillment_context"], {"eta": "friday"})

    def test_transition_body_refusals(self):
        rid = self.new_request()["id"]
        path = "/capability-requests/%s/transition" % rid
        before = self.hub.dump()
        for body, field in (({"actor": "a"}, "status"),
                            ({"status": "done", "actor": "a"}, "status"),
                            ({"status": 1, "actor": "a"}, "status"),
                            ({"status": "accepted"}, "actor"),
                            ({"status": "accepted", "actor": ""}, "actor"),
                            ({"status": "accepted", "actor": "a" * 201},
                             "actor"),
                            ({"status": "accepted", "actor": "a",
                              "note": 5}, "note"),
                            ({"status": "accepted", "actor": "a",
                              "fulfillment_context": []},
                             "fulfillment_context"),
                            ({"status": "accepted", "actor": "a",
                              "to_domain": "ops"}, "to_domain"),
                            ({"status": "accepted", "actor": "a",
                              "id": "x"}, "id")):
            with self.subTest(body=body):
                self.assertProblem(self.hub.post(path, body=body), 422,
                                   field)
        self.assertProblem(self.hub.post(path, raw="{", headers={
            "Content-Type": "application/json"}), 400)
        self.assertProblem(self.hub.post(path, raw="status=accepted",
                                         headers={"Content-Type":
                                                  "text/plain"}), 415)
        self.assertProblem(self.move(str(uuid.uuid4()), "accepted"), 404)
        self.assertProblem(self.hub.get(path), 405)
        self.assertEqual(self.hub.dump(), before)

    def test_patch_only_the_open_fields(self):
        q = self.new_request()
        path = "/capability-requests/" + q["id"]
        r = self.hub.patch(path, body={"title": "new title",
                                       "description": "more",
                                       "request_context": {"a": 1}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["title"], "new title")
        self.assertEqual(r.json()["status"], "requested")
        before = self.hub.dump()
        for body in ({"status": "accepted"}, {"status_reason": "x"},
                     {"providing_domain": "ops"}, {"capability": "dns-changes"},
                     {"requesting_domain": "ops"}, {"requested_by": "b"},
                     {"history": []}, {"next_statuses": []}):
            with self.subTest(body=body):
                self.assertProblem(self.hub.patch(path, body=body), 422,
                                   list(body)[0])
        self.assertEqual(self.hub.dump(), before)

    def test_filters(self):
        a = self.new_request(capability="dns-changes")["id"]
        b = self.new_request(capability="dns-changes")["id"]
        self.move(b, "accepted")
        items, _ = self.hub.all_items(
            "/capability-requests?providing_domain=ops&status=requested")
        ids = [i["id"] for i in items]
        self.assertIn(a, ids)
        self.assertNotIn(b, ids)
        self.assertTrue(all(i["providing_domain"] == "ops" and
                            i["status"] == "requested" for i in items))
        items, _ = self.hub.all_items(
            "/capability-requests?capability=dns-changes&status=accepted,"
            "requested&requesting_domain=dev")
        self.assertTrue({a, b} <= {i["id"] for i in items})
        self.assertProblem(self.hub.get("/capability-requests?status=done"),
                           400, "status")
        self.assertProblem(self.hub.get("/capability-requests?title=x"), 400,
                           "title")

    def test_transitions_are_read_only(self):
        rid = self.new_request()["id"]
        h = self.get(rid)["history"][0]
        r = self.hub.get("/capability-request-transitions/" + h["id"])
        self.assertEqual(r.json(), h)
        self.assertProblem(self.hub.post("/capability-request-transitions",
                                         body={"request": rid}), 405)
        self.assertProblem(self.hub.patch(
            "/capability-request-transitions/" + h["id"],
            body={"note": "x"}), 405)

    def test_concurrent_moves_one_wins(self):
        rid = self.new_request()["id"]
        results = []

        def go(status):
            results.append(self.move(rid, status).status)

        threads = [threading.Thread(target=go, args=(s,))
                   for s in ("accepted", "rejected", "accepted", "rejected")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # the first move wins; "accepted" may follow from accepted to
        # nothing, "rejected" may follow an accept
        q = self.get(rid)
        self.assertEqual(len(q["history"]) - 1, results.count(200))
        for x, y in zip(q["history"][1:], q["history"][2:]):
            self.assertEqual(x["to_status"], y["from_status"])
        self.assertTrue(set(results) <= {200, 409}, results)


class Reroutes(CapabilityCase):
    def reroute(self, rid, to, actor="router", note=None, **extra):
        body = {"to_domain": to, "actor": actor}
        if note is not None:
            body["note"] = note
        body.update(extra)
        return self.hub.post("/capability-requests/%s/reroute" % rid,
                             body=body)

    def test_reroute_from_requested_and_disputed(self):
        for frm in ("requested", "disputed"):
            with self.subTest(frm=frm):
                rid = self.request_in(frm)
                r = self.reroute(rid, "ops", note="ops owns this")
                self.assertEqual(r.status, 200, r)
                q = r.json()
                self.assertEqual(q["status"], "requested")
                self.assertEqual(q["providing_domain"], "ops")
                self.assertEqual(q["status_reason"], "ops owns this")
                self.assertEqual(q["capability"], "security-review")
                h = q["history"][-1]
                self.assertEqual((h["from_status"], h["to_status"]),
                                 (frm, "requested"))
                self.assertEqual((h["from_domain"], h["to_domain"]),
                                 ("sec", "ops"))
                self.assertEqual(h["actor"], "router")
                # and on: by the domain's id, to a third domain
                legal = self.hub.get("/domains/legal").json()["id"]
                r = self.reroute(rid, legal)
                self.assertEqual(r.json()["providing_domain"], "legal")
                self.assertEqual(r.json()["history"][-1]["from_domain"],
                                 "ops")
                # the new provider's queue has it
                items, _ = self.hub.all_items(
                    "/capability-requests?providing_domain=legal&"
                    "status=requested")
                self.assertIn(rid, [i["id"] for i in items])

    def test_reroute_refused_in_other_statuses(self):
        for frm in ("accepted", "in_progress", "fulfilled", "rejected"):
            with self.subTest(frm=frm):
                rid = self.request_in(frm)
                before = self.hub.dump()
                p = self.assertProblem(self.reroute(rid, "ops"), 409,
                                       "status")
                self.assertIn("'%s'" % frm, p["detail"])
                self.assertIn("'requested'", p["detail"])
                self.assertEqual(self.hub.dump(), before)

    def test_reroute_refusals(self):
        rid = self.new_request()["id"]
        before = self.hub.dump()
        p = self.assertProblem(self.reroute(rid, "sec"), 409, "to_domain")
        self.assertIn("already", p["detail"])
        self.assertProblem(self.reroute(rid, "Sec"), 409, "to_domain")
        self.assertProblem(self.reroute(rid, "nowhere"), 422, "to_domain")
        self.assertProblem(self.reroute(rid, ""), 422, "to_domain")
        self.assertProblem(self.reroute(rid, "ops", actor=""), 422, "actor")
        self.assertProblem(self.hub.post(
            "/capability-requests/%s/reroute" % rid,
            body={"to_domain": "ops"}), 422, "actor")
        self.assertProblem(self.reroute(rid, "ops", status="accepted"), 422,
                           "status")
        self.assertProblem(self.reroute(str(uuid.uuid4()), "ops"), 404)
        self.assertEqual(self.hub.dump(), before)

    def test_request_without_capability(self):
        r = self.hub.post("/capability-requests", body={
            "requesting_domain": "dev", "requested_by": "a",
            "title": "who can help with backups?"})
        self.assertEqual(r.status, 201, r)
        q = r.json()
        self.assertIsNone(q["providing_domain"])
        before = self.hub.dump()
        p = self.assertProblem(self.move(q["id"], "accepted"), 409,
                               "providing_domain")
        self.assertIn("reroute", p["detail"])
        self.assertEqual(self.hub.dump(), before)
        r = self.reroute(q["id"], "ops")
        self.assertEqual(r.json()["history"][-1]["from_domain"], None)
        self.assertEqual(self.move(q["id"], "accepted").status, 200)
