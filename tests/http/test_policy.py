"""test_policy.py - policy documents over HTTP: listing, reading as text or
JSON, writing on a writable hub only, and the path attacks: '..' (also
percent-encoded), absolute paths, NUL, hidden files and symbolic links
created by the test that lead outside, on read and on write."""

import json
import os
import shutil
import tempfile
import unittest

from harness import Hub, HubTestCase, run_cli

SECRET = "top secret, outside the policy directory\n"


def make_tree(root):
    """policy/ with files and links, outside/ next to it with a secret."""
    policy = os.path.join(root, "policy")
    outside = os.path.join(root, "outside")
    os.makedirs(os.path.join(policy, "legal"))
    os.makedirs(outside)
    files = {"privacy.md": "# Privacy\n\nWe keep little.\n",
             "legal/terms.txt": "terms\n",
             ".hidden.md": "hidden\n"}
    for rel, text in files.items():
        with open(os.path.join(policy, rel), "w") as f:
            f.write(text)
    with open(os.path.join(outside, "secret.md"), "w") as f:
        f.write(SECRET)
    os.symlink("privacy.md", os.path.join(policy, "alias.md"))
    os.symlink(outside, os.path.join(policy, "escape"))
    os.symlink(os.path.join(outside, "secret.md"),
               os.path.join(policy, "leak.md"))
    os.symlink(os.path.join(outside, "planted.md"),
               os.path.join(policy, "dangling.md"))
    os.symlink("..", os.path.join(policy, "up"))
    return policy, outside


class PolicyCase(HubTestCase):
    import_examples = False
    writable = False

    @classmethod
    def setUpClass(cls):
        cls.tree = tempfile.mkdtemp(prefix="foshub-policy-")
        cls.policy, cls.outside = make_tree(cls.tree)
        cls.hub_args = ("--policy-dir", cls.policy) + (
            ("--policy-writable",) if cls.writable else ())
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tree, ignore_errors=True)

    def outside_files(self):
        return sorted(os.listdir(self.outside))

    def assertOutsideUntouched(self):
        self.assertEqual(self.outside_files(), ["secret.md"])
        with open(os.path.join(self.outside, "secret.md")) as f:
            self.assertEqual(f.read(), SECRET)

    def put(self, rel, text, ctype="text/markdown", **kw):
        return self.hub.request("PUT", "/policy/" + rel, raw=text,
                                headers={"Content-Type": ctype}, **kw)

    # every way out, as the request path after /policy/
    ESCAPES_400 = ("../etc/passwd", "..%2fetc%2fpasswd",
                   "%2e%2e/%2e%2e/etc/passwd", "legal/%2e%2e/%2e%2e/x.md",
                   "legal/../../outside/secret.md", ".hidden.md",
                   "legal/.%2e/privacy.md", "escape/secret.md",
                   "escape/planted.md", "leak.md", "up/outside/secret.md",
                   "a%00.md", "privacy.md%00.txt", "a%5cb.md")


class ReadOnly(PolicyCase):
    def test_list(self):
        r = self.hub.get("/policy")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["writable"], False)
        self.assertEqual(body["truncated"], False)
        self.assertEqual([i["path"] for i in body["items"]],
                         ["alias.md", "legal/terms.txt", "privacy.md"])
        terms = body["items"][1]
        self.assertEqual(terms["size"], 6)
        self.assertEqual(terms["media_type"], "text/plain; charset=utf-8")
        self.assertRegex(terms["modified"], r"^\d{4}-\d\d-\d\dT.*Z$")
        self.assertNotIn(SECRET.strip(), r.body)
        self.assertProblem(self.hub.get("/policy?x=1"), 400, "x")

    def test_read_text(self):
        r = self.hub.get("/policy/privacy.md")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"),
                         "text/markdown; charset=utf-8")
        self.assertEqual(r.body, "# Privacy\n\nWe keep little.\n")
        r = self.hub.get("/policy/legal/terms.txt")
        self.assertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual(r.body, "terms\n")
        # a link that stays inside is followed
        self.assertEqual(self.hub.get("/policy/alias.md").body,
                         "# Privacy\n\nWe keep little.\n")
        r = self.hub.request("HEAD", "/policy/privacy.md")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, "")

    def test_read_json(self):
        r = self.hub.get("/policy/legal/terms.txt",
                         headers={"Accept": "application/json"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertEqual(r.json(), {"path": "legal/terms.txt",
                                    "media_type": "text/plain; charset=utf-8",
                                    "size": 6, "content": "terms\n"})
        r = self.hub.get("/policy/privacy.md", headers={
            "Accept": "text/html, application/json;q=0.9"})
        self.assertEqual(r.json()["content"], "# Privacy\n\nWe keep little.\n")

    def test_not_found(self):
        for rel in ("nope.md", "legal", "legal/nope/x.md", "dangling.md",
                    "privacy.md/x"):
            with self.subTest(rel=rel):
                p = self.assertProblem(self.hub.get("/policy/" + rel), 404)
                self.assertNotIn(SECRET.strip(), p["detail"])
        # "//" is collapsed by the server: an absolute path in the URL is
        # a path inside the directory
        self.assertProblem(self.hub.get("/policy//etc/passwd"), 404)
        self.assertProblem(self.hub.get("/policy/%2Fetc%2Fpasswd"), 404)

    def test_path_attacks(self):
        for rel in self.ESCAPES_400:
            with self.subTest(rel=rel):
                for accept in (None, "application/json"):
                    r = self.hub.get("/policy/" + rel, headers={
                        "Accept": accept} if accept else None)
                    p = self.assertProblem(r, 400)
                    self.assertNotIn(SECRET.strip(), r.body)
                    # the problem names the path (its field, or the
                    # request path the server refused before routing)
                    self.assertTrue(p.get("field") == "path" or
                                    p["instance"].startswith("/policy/"), p)
        p = self.assertProblem(self.hub.get("/policy/escape/secret.md"), 400,
                               "path")
        self.assertIn("escape/secret.md", p["detail"])
        self.assertIn("outside the policy directory", p["detail"])
        p = self.assertProblem(self.hub.get("/policy/leak.md"), 400, "path")
        self.assertIn("leak.md", p["detail"])
        self.assertOutsideUntouched()

    def test_put_is_refused(self):
        before = sorted(os.listdir(self.policy))
        for body in ("x", json.dumps({"content": "x"})):
            r = self.put("new.md", body)
            p = self.assertProblem(r, 405)
            self.assertEqual(r.header("Allow"), "GET, HEAD")
            self.assertIn("read-only", p["detail"])
        self.assertProblem(self.put("privacy.md", "changed"), 405)
        self.assertEqual(sorted(os.listdir(self.policy)), before)
        self.assertEqual(self.hub.get("/policy/privacy.md").body,
                         "# Privacy\n\nWe keep little.\n")


class Writable(PolicyCase):
    writable = True

    def tearDown(self):
        # no temporary file is ever left behind
        for dirpath, _, names in os.walk(self.policy):
            for n in names:
                self.assertFalse(n.startswith(".policy-"), n)

    def test_write_new_and_replace(self):
        r = self.put("guides/onboarding/welcome.md", "# Welcome\n")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("Location"),
                         "/policy/guides/onboarding/welcome.md")
        self.assertEqual(r.json(), {"path": "guides/onboarding/welcome.md",
                                    "media_type":
                                    "text/markdown; charset=utf-8",
                                    "size": 10, "created": True})
        self.assertEqual(self.hub.get(
            "/policy/guides/onboarding/welcome.md").body, "# Welcome\n")
        r = self.put("guides/onboarding/welcome.md", "# Welcome!\n")
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json()["created"])
        with open(os.path.join(self.policy, "guides/onboarding/welcome.md")) \
                as f:
            self.assertEqual(f.read(), "# Welcome!\n")
        paths = [i["path"] for i in self.hub.get("/policy").json()["items"]]
        self.assertIn("guides/onboarding/welcome.md", paths)
        self.assertTrue(self.hub.get("/policy").json()["writable"])

    def test_body_forms(self):
        r = self.hub.request("PUT", "/policy/forms/json.md",
                             body={"content": "från JSON\n"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.hub.get("/policy/forms/json.md").body,
                         "från JSON\n")
        for ctype in ("text/plain", "application/octet-stream",
                      "application/x-www-form-urlencoded",
                      "text/markdown; charset=utf-8"):
            with self.subTest(ctype=ctype):
                r = self.put("forms/raw.txt", "raw " + ctype, ctype=ctype)
                self.assertIn(r.status, (200, 201), r)
                self.assertEqual(self.hub.get("/policy/forms/raw.txt").body,
                                 "raw " + ctype)
        # through a link inside: the target changes, the link stays
        self.assertEqual(self.put("alias.md", "# Privacy v2\n").status, 200)
        self.assertTrue(os.path.islink(os.path.join(self.policy,
                                                    "alias.md")))
        with open(os.path.join(self.policy, "privacy.md")) as f:
            self.assertEqual(f.read(), "# Privacy v2\n")

    def test_bad_bodies(self):
        before = sorted(os.listdir(self.policy))
        self.assertProblem(self.put("b.md", "x", ctype="image/png"), 415)
        self.assertProblem(self.hub.request("PUT", "/policy/b.md", body={
            "content": "x", "mode": 777}), 422, "mode")
        self.assertProblem(self.hub.request("PUT", "/policy/b.md",
                                            body={"text": "x"}), 422, "text")
        self.assertProblem(self.hub.request("PUT", "/policy/b.md",
                                            body={"content": 5}), 422,
                           "content")
        self.assertProblem(self.put("b.md", "{", ctype="application/json"),
                           400)
        self.assertProblem(self.put("b.md", b"a\x00b"), 422, "content")
        self.assertProblem(self.put("b.md", b"\xff\xfe"), 422, "content")
        r = self.put("b.md", "a" * (512 * 1024 + 1))
        p = self.assertProblem(r, 413)
        self.assertIn("524288", p["detail"])
        self.assertEqual(self.put("b-max.md", "a" * (512 * 1024)).status, 201)
        os.unlink(os.path.join(self.policy, "b-max.md"))
        self.assertEqual(sorted(os.listdir(self.policy)), before)

    def test_write_attacks(self):
        before = sorted(os.listdir(self.policy))
        for rel in self.ESCAPES_400 + ("escape/new/deeper.md",
                                       "dangling.md"):
            with self.subTest(rel=rel):
                self.assertProblem(self.put(rel, "owned\n"), 400)
        # the dangling link still dangles: nothing was planted
        self.assertTrue(os.path.islink(os.path.join(self.policy,
                                                    "dangling.md")))
        self.assertOutsideUntouched()
        self.assertEqual(sorted(os.listdir(self.policy)), before)
        # the wrong kind of file
        p = self.assertProblem(self.put("legal", "x"), 409, "path")
        self.assertIn("directory", p["detail"])
        self.assertProblem(self.put("legal/terms.txt/x.md", "x"), 409,
                           "path")
        self.assertProblem(self.hub.request("PUT", "/policy"), 405)
        self.assertProblem(self.hub.request("DELETE", "/policy/privacy.md"),
                           405)


class NoDirectory(HubTestCase):
    import_examples = False

    def test_everything_404(self):
        for method, path in (("GET", "/policy"), ("GET", "/policy/a.md"),
                             ("PUT", "/policy/a.md")):
            with self.subTest(method=method):
                r = self.hub.request(method, path, raw="x", headers={
                    "Content-Type": "text/plain"})
                p = self.assertProblem(r, 404)
                self.assertEqual(p["detail"], "no policy directory configured")


class Options(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="foshub-policy-cli-")
        self.db = "sqlite:" + os.path.join(self.dir, "d.db")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_bad_options(self):
        code, _, err = run_cli("serve", "dev", "--db", self.db, "--listen",
                               "127.0.0.1:0", "--policy-dir",
                               os.path.join(self.dir, "missing"))
        self.assertEqual(code, 1)
        self.assertIn("missing", err)
        f = os.path.join(self.dir, "file")
        open(f, "w").close()
        code, _, err = run_cli("serve", "dev", "--db", self.db, "--listen",
                               "127.0.0.1:0", "--policy-dir", f)
        self.assertEqual(code, 1)
        self.assertIn("not a directory", err)
        code, _, err = run_cli("serve", "dev", "--db", self.db, "--listen",
                               "127.0.0.1:0", "--policy-writable")
        self.assertEqual(code, 2)
        self.assertIn("--policy-writable", err)
        code, out, _ = run_cli("serve", "--help")
        self.assertIn("--policy-dir", out)
        self.assertIn("FOSHUB_POLICY_DIR", out)

    def test_environment(self):
        policy = os.path.join(self.dir, "p")
        os.makedirs(policy)
        with open(os.path.join(policy, "a.md"), "w") as f:
            f.write("A")
        hub = Hub(workdir=self.dir, env={"FOSHUB_POLICY_DIR": policy})
        try:
            hub.start()
            self.assertEqual(hub.get("/policy/a.md").body, "A")
            self.assertFalse(hub.get("/policy").json()["writable"])
            hub.stop()
        finally:
            hub.cleanup()
