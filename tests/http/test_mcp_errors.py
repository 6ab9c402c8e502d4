"""test_mcp_errors.py - JSON-RPC error responses of the MCP server carry the
request's id when it could be read, and "id": null when it could not (a
parse error, an unreadable id), over stdio and Streamable HTTP alike
(JSON-RPC 2.0 §5). The protocol itself is tests/mcp.
"""

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import Hub, foshub_bin, ROOT


class StdioErrors(unittest.TestCase):
    def test_ids_of_error_responses(self):
        tmp = tempfile.mkdtemp(prefix="foshub-mcp-")
        try:
            lines = [b'{"jsonrpc": "2.0", "id": 1}',
                     b'{"jsonrpc": "2.0", "id": "s"}',
                     b"not json",
                     b'{"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}',
                     b'{"jsonrpc": "2.0", "id": 2, "method": "ping"}']
            env = dict(os.environ)
            env.pop("FOSHUB_DB", None)
            p = subprocess.run(
                [foshub_bin(), "mcp", "dev", "--db",
                 "sqlite:" + os.path.join(tmp, "dev.db")],
                input=b"\n".join(lines) + b"\n", capture_output=True,
                timeout=60, cwd=ROOT, env=env)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = [json.loads(ln) for ln in p.stdout.splitlines()]
        self.assertEqual(len(out), 5, p.stdout)
        self.assertEqual([(m["id"], m["error"]["code"]) for m in out[:4]],
                         [(1, -32600), ("s", -32600), (None, -32700),
                          (None, -32600)])
        # null is sent, not left out
        for m in out[2:4]:
            self.assertIn("id", m)
        self.assertEqual((out[4]["id"], out[4]["result"]), (2, {}))


class HttpErrors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.hub.stop()
        finally:
            cls.hub.cleanup()

    def post(self, body, **headers):
        h = {"Content-Type": "application/json",
             "Accept": "application/json, text/event-stream"}
        h.update(headers)
        conn = http.client.HTTPConnection("127.0.0.1", self.hub.port,
                                          timeout=30)
        try:
            conn.request("POST", "/mcp", body=body, headers=h)
            r = conn.getresponse()
            return r.status, json.loads(r.read())
        finally:
            conn.close()

    def test_no_method_answers_with_the_request_id(self):
        status, m = self.post('{"jsonrpc": "2.0", "id": 1}')
        self.assertEqual(status, 400)
        self.assertEqual((m["jsonrpc"], m["id"], m["error"]["code"]),
                         ("2.0", 1, -32600))
        status, m = self.post('{"jsonrpc": "2.0", "id": "abc"}')
        self.assertEqual((status, m["id"]), (400, "abc"))

    def test_unreadable_ids_are_null(self):
        status, m = self.post('{"jsonrpc": "2.0", "id": ')
        self.assertEqual(status, 400)
        self.assertIn("id", m)
        self.assertEqual((m["id"], m["error"]["code"]), (None, -32700))
        status, m = self.post('[{"jsonrpc": "2.0", "id": 1, '
                              '"method": "ping"}]')
        self.assertEqual(status, 400)
        self.assertIn("id", m)
        self.assertEqual((m["id"], m["error"]["code"]), (None, -32600))
        status, m = self.post('{"jsonrpc": "2.0", "id": 1.5, '
                              '"method": "ping"}')
        self.assertEqual(status, 400)
        self.assertIn("id", m)
        self.assertEqual((m["id"], m["error"]["code"]), (None, -32600))

    def test_refused_before_reading_has_a_null_id(self):
        # a foreign Origin is refused before the body is read
        status, m = self.post('{"jsonrpc": "2.0", "id": 3, "method": "ping"}',
                              Origin="http://evil.example")
        self.assertEqual(status, 403)
        self.assertIn("id", m)
        self.assertEqual((m["id"], m["error"]["code"]), (None, -32600))

    def test_a_session_error_keeps_the_id(self):
        status, m = self.post('{"jsonrpc": "2.0", "id": 4, '
                              '"method": "tools/list"}')
        self.assertEqual(status, 400)
        self.assertEqual((m["id"], m["error"]["code"]), (4, -32600))


if __name__ == "__main__":
    unittest.main()
