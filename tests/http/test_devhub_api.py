"""test_devhub_api.py - dev-hub over HTTP with the example workplan imported:
the figures the example must show, lists and pagination, lookups, every
error case with its RFC 9457 problem body, and the hub-core resources."""

import json
import time
import uuid

from harness import EXAMPLE, HubTestCase

WS = "CUST-WP-0025"


class ExampleFigures(HubTestCase):
    def tasks(self, query=""):
        items, _ = self.hub.all_items("/tasks?workstream=%s%s" % (WS, query),
                                      limit=500)
        return items

    def test_task_counts(self):
        self.assertEqual(len(self.tasks()), 26)
        for status, n in (("done", 4), ("in_progress", 1), ("todo", 21),
                          ("blocked", 0), ("cancelled", 0)):
            self.assertEqual(len(self.tasks("&status=" + status)), n, status)
        for prio, n in (("high", 7), ("medium", 13), ("low", 6)):
            self.assertEqual(len(self.tasks("&priority=" + prio)), n, prio)
        # several values of one filter mean any of them
        self.assertEqual(len(self.tasks("&status=done,in_progress")), 5)
        self.assertEqual(len(self.tasks("&status=done&status=todo")), 25)
        # the issue's own example query
        r = self.hub.get("/tasks?workstream=%s&status=todo&limit=500" % WS)
        self.assertEqual(len(r.json()["items"]), 21)

    def test_phases(self):
        ws = self.hub.get("/workstreams/" + WS).json()
        self.assertEqual([p["key"] for p in ws["phases"]], ["1", "2", "3", "4"])
        self.assertEqual([p["task_count"] for p in ws["phases"]], [4, 8, 7, 7])
        self.assertEqual(ws["phases"][2]["title"], "Ops Hub")
        for key, n in (("1", 4), ("2", 8), ("3", 7), ("4", 7)):
            self.assertEqual(len(self.tasks("&phase=" + key)), n)
        self.assertEqual(ws["tasks"]["total"], 26)
        self.assertEqual(ws["tasks"]["by_status"]["done"], 4)

    def test_workstream(self):
        ws = self.hub.get("/workstreams/" + WS).json()
        self.assertEqual(ws["state_hub_workstream_id"],
                         "293a74fe-a85a-4ad6-8933-23d52a72fe8b")
        self.assertEqual(ws["domain"], "custodian")
        self.assertEqual(ws["topic"], "custodian")
        self.assertEqual(ws["repo"], "the-custodian")
        self.assertEqual(ws["status"], "active")
        self.assertEqual(ws["created_on"], "2026-03-20")
        self.assertEqual(ws["updated_on"], "2026-06-07")
        self.assertTrue(ws["title"].startswith("FOS Hub Bootstrap"))
        self.assertIn("Key Decisions", ws["description"])
        topic = self.hub.get("/topics/custodian").json()
        self.assertEqual(topic["domain"], "custodian")
        decisions = self.hub.get("/decisions?workstream=" + WS).json()["items"]
        self.assertEqual(len(decisions), 4)
        self.assertEqual(decisions[0]["title"], "Hub-core packaging")
        self.assertEqual(decisions[0]["status"], "accepted")
        self.assertEqual(decisions[0]["domain"], "custodian")

    def test_task_t08(self):
        r = self.hub.get("/tasks/CUST-WP-0025-T08")
        self.assertEqual(r.status, 200)
        t = r.json()
        self.assertEqual(t["status"], "in_progress")
        self.assertEqual(t["priority"], "high")
        self.assertEqual(t["phase"], "2")
        self.assertEqual(t["workstream"], WS)
        self.assertEqual(t["state_hub_task_id"],
                         "daf1d8ac-b55a-4692-b359-2671ddf6fc8a")
        self.assertEqual(t["title"], "Refactor state-hub to import from hub-core")
        d = t["description"]
        self.assertIn("Implementation start (2026-06-07)", d)
        for i in range(2, 10):
            self.assertIn("Implementation slice %d" % i, d)
        self.assertTrue(d.rstrip().endswith("focused tests passed with 100 tests."))

    def test_description_lines_are_text_not_fields(self):
        t = self.hub.get("/tasks/CUST-WP-0025-T01").json()
        self.assertTrue(t["description"].endswith(
            "Cross-reference: net-kingdom NK-WP-0001."))
        self.assertNotIn("cross_reference", t)
        self.assertNotIn("Cross-reference", t)

    def test_domain_summary(self):
        r = self.hub.get("/domains/custodian/summary")
        self.assertEqual(r.status, 200)
        s = r.json()
        self.assertEqual(s["domain"]["slug"], "custodian")
        self.assertEqual(s["tasks"]["total"], 26)
        self.assertEqual(s["tasks"]["by_status"],
                         {"todo": 21, "in_progress": 1, "blocked": 0,
                          "done": 4, "cancelled": 0})
        self.assertEqual(s["tasks"]["by_priority"],
                         {"high": 7, "medium": 13, "low": 6})
        self.assertEqual(s["workstreams"]["total"], 1)
        self.assertEqual(s["workstreams"]["by_status"]["active"], 1)
        self.assertEqual(s["workstreams"]["items"][0]["id"], WS)
        self.assertEqual(s["workstreams"]["items"][0]["tasks"]["total"], 26)
        for k in ("messages", "risks", "alerts"):
            self.assertIn(k, s)


class ListsAndLookups(HubTestCase):
    def test_pagination_across_pages(self):
        items, pages = self.hub.all_items("/tasks", limit=5)
        ids = [t["id"] for t in items]
        self.assertEqual(pages, 6)
        self.assertEqual(len(ids), 26)
        self.assertEqual(len(set(ids)), 26)
        self.assertEqual(ids[0], "CUST-WP-0025-T01")
        self.assertEqual(ids[-1], "CUST-WP-0025-T26")
        # a page exactly at the end says so
        r = self.hub.get("/tasks?limit=26").json()
        self.assertEqual(len(r["items"]), 26)
        self.assertIsNone(r["next_cursor"])
        # filters hold across pages
        items, _ = self.hub.all_items("/tasks?status=todo&priority=medium",
                                      limit=3)
        self.assertTrue(all(t["status"] == "todo" and t["priority"] == "medium"
                            for t in items))
        self.assertEqual(len(items), 11)

    def test_default_page_and_shape(self):
        r = self.hub.get("/tasks")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/json")
        body = r.json()
        self.assertEqual(set(body), {"items", "next_cursor"})
        self.assertEqual(len(body["items"]), 26)

    def test_bad_list_parameters(self):
        for q, field in (("limit=0", "limit"), ("limit=501", "limit"),
                         ("limit=+5", "limit"), ("limit=%205", "limit"),
                         ("limit=1&limit=2", "limit"),
                         ("limit=abc", "limit"), ("cursor=zzz", "cursor"),
                         ("status=doing", "status"), ("colour=red", "colour"),
                         ("title=x", "title"), ("priority=", "priority")):
            self.assertProblem(self.hub.get("/tasks?" + q), 400, field)

    def test_nul_bytes_are_not_decoded(self):
        # %00 must not cut a value short: "todo%00x" is not "todo"
        self.assertProblem(self.hub.get("/tasks?status=todo%00x"), 400,
                           "status")
        self.assertProblem(self.hub.get("/tasks/CUST-WP-0025-T01%00x"), 404)
        r = self.hub.get("/tasks?workstream=%s%%00" % WS)
        self.assertEqual(r.json()["items"], [])
        # other escapes decode as usual
        r = self.hub.get("/tasks?workstream=CUST%2DWP-0025&limit=1")
        self.assertEqual(len(r.json()["items"]), 1)

    def test_injection_strings_are_values(self):
        for v in ("x' OR '1'='1", "x\"; DROP TABLE tasks; --", "%27"):
            r = self.hub.get("/tasks?workstream=" + v.replace(" ", "%20")
                             .replace('"', "%22").replace(";", "%3B"))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["items"], [])
        self.assertEqual(len(self.hub.get("/tasks?limit=500").json()["items"]), 26)

    def test_empty_query_separators(self):
        a = self.hub.get("/tasks?&status=done&&priority=high&").json()
        b = self.hub.get("/tasks?status=done&priority=high").json()
        self.assertEqual(a, b)
        self.assertEqual(len(a["items"]), 2)

    def test_trailing_slash(self):
        a = self.hub.get("/tasks/?limit=3").json()
        b = self.hub.get("/tasks?limit=3").json()
        self.assertEqual(a, b)
        self.assertEqual(self.hub.get("/domains/custodian/").status, 200)
        self.assertEqual(self.hub.get("//domains//custodian").status, 200)

    def test_lookup_by_slug_or_id(self):
        by_slug = self.hub.get("/domains/custodian").json()
        by_id = self.hub.get("/domains/" + by_slug["id"]).json()
        self.assertEqual(by_slug, by_id)
        # a name is normalized to its slug
        self.assertEqual(self.hub.get("/domains/Custodian").json()["id"],
                         by_slug["id"])
        # filters accept the id of a referenced row too
        items = self.hub.get("/workstreams?domain=" + by_slug["id"]).json()
        self.assertEqual([w["id"] for w in items["items"]], [WS])

    def test_unknown_ids(self):
        for path in ("/tasks/CUST-WP-0025-T99", "/domains/nope",
                     "/workstreams/NOPE-WP-1", "/messages/" + str(uuid.uuid4()),
                     "/domains/nope/summary", "/nothing"):
            self.assertProblem(self.hub.get(path), 404)

    def test_root_and_health(self):
        r = self.hub.get("/").json()
        self.assertEqual(r["name"], "dev-hub")
        self.assertIn("/tasks", r["resources"])
        self.assertEqual(self.hub.get("/healthz").json(), {"status": "ok"})
        r = self.hub.get("/readyz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["status"], "ready")

    def test_head_and_options(self):
        r = self.hub.request("HEAD", "/tasks/CUST-WP-0025-T01")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, "")
        r = self.hub.request("OPTIONS", "/tasks")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("Allow"), "GET, HEAD, POST")


class Errors(HubTestCase):
    """Every refusal: the right status, a problem body naming the place,
    and nothing stored."""

    hub_args = ("--max-body", "65536")

    def setUp(self):
        self.before = self.hub.dump()

    def assertUnchanged(self):
        self.assertEqual(self.hub.dump(), self.before)

    def test_malformed_json(self):
        r = self.hub.post("/domains", raw='{"name": "x",\n  "slug": }',
                          headers={"Content-Type": "application/json"})
        p = self.assertProblem(r, 400)
        self.assertEqual(p["line"], 2)
        self.assertEqual(p["column"], 11)
        self.assertIn("line 2", p["detail"])
        r = self.hub.post("/domains", raw="", headers={
            "Content-Type": "application/json"})
        self.assertProblem(r, 400)
        # duplicate keys are ambiguous, so refused
        r = self.hub.post("/domains", raw='{"name": "a", "name": "b"}')
        self.assertProblem(r, 400)
        self.assertUnchanged()

    def test_not_an_object(self):
        self.assertProblem(self.hub.post("/domains", body=["x"]), 422)
        self.assertUnchanged()

    def test_unknown_field(self):
        r = self.hub.post("/domains", body={"name": "Zed", "colour": "red"})
        p = self.assertProblem(r, 422, "colour")
        self.assertIn("colour", p["detail"])
        self.assertUnchanged()

    def test_wrong_types(self):
        cases = (
            ("/domains", {"name": 5}, "name"),
            ("/domains", {"name": "Zed", "archived": "yes"}, "archived"),
            ("/tasks", {"workstream": WS, "title": "t", "status": "doing"},
             "status"),
            ("/tasks", {"workstream": WS, "title": "t", "priority": 1},
             "priority"),
            ("/tasks", {"workstream": WS, "title": ""}, "title"),
            ("/tasks", {"workstream": WS}, "title"),
            ("/tasks", {"workstream": "NOPE", "title": "t"}, "workstream"),
            ("/tasks", {"workstream": WS, "title": "t", "phase": "9"}, "phase"),
            ("/tasks", {"workstream": WS, "title": "t",
                        "state_hub_task_id": "nope"}, "state_hub_task_id"),
            ("/tasks", {"workstream": WS, "title": "t", "external_ids": []},
             "external_ids"),
            ("/repos", {"name": "r", "domain": "custodian",
                        "host_paths": {"h": "relative"}}, "host_paths"),
            ("/messages", {"from_agent": "a", "subject": "s"}, "to_agent"),
            ("/messages", {"from_agent": "a", "subject": "s", "to_agent": "b",
                           "read": True}, "read"),
            ("/domains", {"name": "Zed", "created_at": "2026-01-01T00:00:00Z"},
             "created_at"),
            ("/domains", {"name": "Zed", "id": str(uuid.uuid4())}, "id"),
        )
        for path, body, field in cases:
            with self.subTest(path=path, body=body):
                self.assertProblem(self.hub.post(path, body=body), 422, field)
        more = (
            # a task id names its workstream: no foreign or odd ids
            ("/tasks", {"workstream": WS, "id": "FOSHUB-WP-0001-T99",
                        "title": "t"}, "id"),
            ("/tasks", {"workstream": WS, "id": WS + "-T1x", "title": "t"},
             "id"),
            ("/tasks", {"workstream": WS, "id": ".", "title": "t"}, "id"),
            ("/tasks", {"workstream": WS, "id": "..", "title": "t"}, "id"),
            ("/tasks", {"workstream": WS, "title": "   "}, "title"),
            ("/workstreams", {"id": "new-wp-1", "title": "t",
                              "domain": "custodian"}, "id"),
            ("/repos", {"name": "a/b", "domain": "custodian"}, "name"),
            ("/repos", {"name": "..", "domain": "custodian"}, "name"),
            ("/repos", {"name": "r", "domain": "custodian",
                        "default_path": "/abs/../etc"}, "default_path"),
            ("/decisions", {"title": "d", "workstream": WS,
                            "domain": "foshub"}, "domain"),
            ("/decisions", {"title": "d"}, "domain"),
        )
        for path, body, field in more:
            with self.subTest(path=path, body=body):
                self.assertProblem(self.hub.post(path, body=body), 422, field)
        r = self.hub.patch("/tasks/CUST-WP-0025-T01", body={"status": "nope"})
        self.assertProblem(r, 422, "status")
        # the refusal names the task's workstream, read from the task
        r = self.hub.patch("/tasks/CUST-WP-0025-T01", body={"phase": "99"})
        p = self.assertProblem(r, 422, "phase")
        self.assertEqual(p["detail"], "field 'phase': workstream "
                         "'CUST-WP-0025' has no phase '99'")
        r = self.hub.patch("/tasks/CUST-WP-0025-T01", body={"workstream": "X"})
        self.assertProblem(r, 422, "workstream")
        self.assertUnchanged()

    def test_duplicates(self):
        r = self.hub.post("/domains", body={"slug": "custodian", "name": "again"})
        p = self.assertProblem(r, 409, "slug")
        self.assertIn("custodian", p["detail"])
        r = self.hub.post("/domains", body={"name": "Custodian!"})
        self.assertProblem(r, 409, "slug")
        r = self.hub.post("/tasks", body={"id": "CUST-WP-0025-T01",
                                          "workstream": WS, "title": "dup"})
        self.assertProblem(r, 409, "id")
        # UUIDs are compared in one spelling: upper case is the same UUID
        r = self.hub.patch("/tasks/CUST-WP-0025-T10", body={
            "state_hub_task_id": "F55078B6-7FA3-49AB-BE30-37DB622D64C9"})
        self.assertProblem(r, 409, "state_hub_task_id")
        self.assertUnchanged()

    def test_body_too_large(self):
        big = json.dumps({"name": "x" * 70000})
        r = self.hub.post("/domains", raw=big,
                          headers={"Content-Type": "application/json"})
        self.assertProblem(r, 413)
        # the same without a Content-Length: counted while it arrives
        chunk = b'{"name": "' + b"x" * 8000
        r = self.hub.post("/domains", chunks=[chunk] + [b"y" * 8000] * 10
                          + [b'"}'], headers={"Content-Type": "application/json"})
        self.assertProblem(r, 413)
        self.assertUnchanged()

    def test_method_not_allowed(self):
        r = self.hub.request("DELETE", "/domains/custodian")
        p = self.assertProblem(r, 405)
        self.assertEqual(r.header("Allow"), "GET, HEAD, PATCH")
        self.assertIn("DELETE", p["detail"])
        r = self.hub.request("PUT", "/tasks", body={})
        self.assertProblem(r, 405)
        self.assertEqual(r.header("Allow"), "GET, HEAD, POST")
        self.assertUnchanged()

    def test_ambiguous_content_length(self):
        import socket
        s = socket.create_connection(("127.0.0.1", self.hub.port))
        s.sendall(b"POST /domains HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: 2\r\nContent-Length: 40\r\n"
                  b"Connection: close\r\n\r\n"
                  b'{}{"name": "smuggled domain", "x": 1}')
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 400"), data[:100])
        self.assertIn(b"more than one Content-Length", data)
        self.assertEqual(data.count(b"HTTP/1.1"), 1)
        self.assertUnchanged()

    def test_log_lines_cannot_be_forged(self):
        self.hub.get("/tasks/x%0A2026-01-01T00:00:00.000Z%20error%20FORGED"
                     "%1B[31m")
        # the hub logs the request after it has answered: wait for it
        deadline = time.time() + 5
        while True:
            lines = [l for l in self.hub.log if "FORGED" in l]
            if lines or time.time() > deadline:
                break
            time.sleep(0.01)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("\\x0a2026", lines[0])
        self.assertIn("\\x1b[31m", lines[0])
        self.assertNotIn("\x1b", lines[0])

    def test_unsupported_media_type(self):
        r = self.hub.post("/domains", raw='{"name": "Zed"}',
                          headers={"Content-Type": "text/csv"})
        self.assertProblem(r, 415)
        self.assertUnchanged()

    def test_malformed_workplan_upload(self):
        with open(EXAMPLE, encoding="utf-8") as f:
            text = f.read()
        bad = text.replace("id: CUST-WP-0025-T05\nstatus: done",
                           "id: CUST-WP-0025-T05\nstatus: finished")
        self.assertNotEqual(bad, text)
        line = bad.splitlines().index("status: finished") + 1
        r = self.hub.post("/workplans?source=plan.txt", raw=bad,
                          headers={"Content-Type": "text/plain"})
        p = self.assertProblem(r, 422)
        self.assertEqual(p["source"], "plan.txt")
        self.assertEqual(p["line"], line)
        self.assertIn("finished", p["detail"])
        # what the store refuses of a parsed file is a document problem
        # at the line of the metadata
        long_title = text.replace("FOS Hub Bootstrap", "X" * 400, 2)
        r = self.hub.post("/workplans?source=long.txt", raw=long_title,
                          headers={"Content-Type": "text/plain"})
        p = self.assertProblem(r, 422)
        self.assertEqual(p["type"], "urn:foshub:problem:unprocessable-document")
        self.assertEqual((p["source"], p["line"]), ("long.txt", 5))
        self.assertUnchanged()


class Writes(HubTestCase):
    def test_create_read_update(self):
        r = self.hub.post("/domains", body={"name": "Ops Hub!",
                                            "description": "runtime"})
        self.assertEqual(r.status, 201, r)
        d = r.json()
        self.assertEqual(d["slug"], "ops-hub")
        self.assertEqual(r.header("Location"), "/domains/" + d["id"])
        self.assertEqual(self.hub.get(r.header("Location")).json(), d)
        r = self.hub.patch("/domains/ops-hub", body={"archived": True})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.json()["archived"])
        self.assertEqual(r.json()["created_at"], d["created_at"])
        archived = self.hub.get("/domains?archived=true").json()["items"]
        self.assertEqual([x["slug"] for x in archived], ["ops-hub"])

    def test_chunked_body(self):
        r = self.hub.post("/topics", chunks=[b'{"name": "Chunked", ',
                                             b'"slug": "chunked", ',
                                             b'"domain": "custodian"}'],
                          headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.hub.get("/topics/chunked").json()["name"],
                         "Chunked")

    def test_task_lifecycle(self):
        r = self.hub.post("/tasks", body={"workstream": WS, "title": "New work",
                                          "phase": "3", "priority": "low"})
        self.assertEqual(r.status, 201, r)
        t = r.json()
        self.assertEqual(t["id"], "CUST-WP-0025-T27")
        self.assertEqual(t["status"], "todo")
        r = self.hub.patch("/tasks/" + t["id"], body={"status": "done",
                                                      "assignee": "agent-1"})
        self.assertEqual(r.json()["status"], "done")
        done = self.hub.get("/tasks?workstream=%s&assignee=agent-1" % WS)
        self.assertEqual([x["id"] for x in done.json()["items"]], [t["id"]])

    def test_workplan_upload_is_idempotent(self):
        with open(EXAMPLE, encoding="utf-8") as f:
            text = f.read()
        r = self.hub.post("/workplans?source=CUST-WP-0025.txt", raw=text,
                          headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 200, r)
        res = r.json()
        self.assertEqual(res["workstream"], WS)
        self.assertFalse(res["workstream_created"])
        self.assertEqual(res["tasks"], 26)

    def test_phases_can_change_under_tasks(self):
        self.hub.post("/workstreams", body={
            "id": "PH-WP-1", "title": "phased", "domain": "custodian",
            "phases": [{"key": "1", "title": "one"},
                       {"key": "2", "title": "two"}]})
        r = self.hub.post("/tasks", body={"workstream": "PH-WP-1",
                                          "title": "in one", "phase": "1"})
        self.assertEqual(r.status, 201, r)
        tid = r.json()["id"]
        self.assertEqual(tid, "PH-WP-1-T01")
        r = self.hub.patch("/workstreams/PH-WP-1",
                           body={"phases": [{"key": "2", "title": "two"}]})
        self.assertEqual(r.status, 200, r)
        # the update answers with the same counts a GET adds
        self.assertEqual(r.json()["tasks"]["total"], 1)
        self.assertEqual(r.json()["phases"][0]["task_count"], 0)
        # the task whose phase went away stays editable ...
        r = self.hub.patch("/tasks/" + tid, body={"title": "still editable"})
        self.assertEqual(r.status, 200, r)
        # ... but cannot be moved to a phase that does not exist
        p = self.assertProblem(self.hub.patch("/tasks/" + tid,
                                              body={"phase": "3"}),
                               422, "phase")
        self.assertEqual(p["detail"], "field 'phase': workstream 'PH-WP-1' "
                         "has no phase '3'")

    def test_repos(self):
        r = self.hub.post("/repos", body={
            "name": "the-custodian", "domain": "custodian",
            "host_paths": {"laptop": "/home/w/the-custodian"},
            "default_path": "/srv/the-custodian"})
        self.assertEqual(r.status, 201, r)
        repos = self.hub.get("/repos?domain=custodian").json()["items"]
        self.assertEqual([x["name"] for x in repos], ["the-custodian"])
        self.assertEqual(self.hub.get("/repos/the-custodian").json()
                         ["host_paths"], {"laptop": "/home/w/the-custodian"})

    def test_messages_and_summary(self):
        self.hub.post("/domains", body={"slug": "msgs", "name": "Messages"})
        r = self.hub.post("/messages", body={
            "from_agent": "agent-a", "to_domain": "msgs",
            "subject": "Hello", "body": "Please look at T08."})
        self.assertEqual(r.status, 201, r)
        m = r.json()
        self.assertFalse(m["read"])
        self.assertEqual(m["thread_id"], m["id"])
        s = self.hub.get("/domains/msgs/summary").json()
        self.assertEqual(s["messages"]["unread"], 1)
        unread = self.hub.get("/messages?to_domain=msgs&read=false").json()
        self.assertEqual(len(unread["items"]), 1)
        r = self.hub.post("/messages/%s/read" % m["id"])
        self.assertEqual(r.status, 200)
        self.assertTrue(r.json()["read"])
        self.assertIsNotNone(r.json()["read_at"])
        self.assertEqual(self.hub.get("/domains/msgs/summary").json()
                         ["messages"]["unread"], 0)
        r = self.hub.post("/messages/%s/reply" % m["id"],
                          body={"from_agent": "agent-b", "body": "Done."})
        self.assertEqual(r.status, 201, r)
        reply = r.json()
        self.assertEqual(reply["to_agent"], "agent-a")
        self.assertEqual(reply["thread_id"], m["id"])
        self.assertEqual(reply["reply_to"], m["id"])
        self.assertEqual(reply["subject"], "Re: Hello")
        thread = self.hub.get("/messages?thread_id=" + m["id"]).json()["items"]
        # newest first
        self.assertEqual([x["id"] for x in thread], [reply["id"], m["id"]])

    def test_risks_and_alerts(self):
        self.hub.post("/domains", body={"slug": "riskdom", "name": "Risky"})

        def event(t, corr, summary):
            r = self.hub.post("/progress", body={
                "event_type": t, "domain": "riskdom", "correlation_id": corr,
                "severity": "high", "summary": summary,
                "subject_refs": {"workstream": WS}, "payload": {"n": 1}})
            self.assertEqual(r.status, 201, r)
            return r.json()

        event("risk_surfaced", "R1", "Keycloak late")
        event("risk_surfaced", "R2", "Budget thin")
        event("risk_mitigated", "R1", "Keycloak done")
        event("alert_raised", "A1", "Disk full")
        event("alert_acknowledged", "A1", "Looking")
        event("alert_raised", "A2", "Cert expiring")
        event("alert_resolved", "A2", "Renewed")
        event("task_completed", None, "not a risk")

        risks = self.hub.get("/progress/risks?domain=riskdom").json()["items"]
        self.assertEqual(len(risks), 3)
        open_risks = self.hub.get("/progress/risks?domain=riskdom&open=true")
        self.assertEqual([r["correlation_id"] for r in open_risks.json()["items"]],
                         ["R2"])
        open_alerts = self.hub.get("/progress/alerts?open=true&domain=riskdom")
        items = open_alerts.json()["items"]
        self.assertEqual([(a["correlation_id"], a["event_type"]) for a in items],
                         [("A1", "alert_acknowledged")])
        s = self.hub.get("/domains/riskdom/summary").json()
        self.assertEqual(s["risks"]["open"], 1)
        self.assertEqual(s["risks"]["latest"][0]["summary"], "Budget thin")
        self.assertEqual(s["alerts"]["open"], 1)
        all_events = self.hub.get("/progress?domain=riskdom").json()["items"]
        self.assertEqual(len(all_events), 8)
        self.assertEqual(all_events[0]["event_type"], "task_completed")
        self.assertProblem(self.hub.get("/progress/risks?open=maybe"), 400, "open")
        r = self.hub.post("/progress", body={"event_type": "Bad Type!"})
        self.assertProblem(r, 422, "event_type")
        # events are append-only
        self.assertProblem(self.hub.patch("/progress/" + all_events[0]["id"],
                                          body={"summary": "x"}), 405)
