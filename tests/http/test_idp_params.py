"""test_idp_params.py - the IdP refuses parameters it cannot read as text:
a form field or query parameter whose name or value is not UTF-8 is
answered 400 naming it, never dropped as if it had not been sent (a
token for the default audience instead of the one asked for). The IdP's
flows are tests/idp; this is the input layer under them (hc_req_form,
hc_req_query).
"""

import base64
import http.client
import json
import os
import socket
import tempfile
import shutil
import unittest
import urllib.parse

from harness import Hub, run_cli

# TEST FIXTURE: a made-up secret for these tests only.
SECRET = "test-svc-secret"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class IdpParams(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="foshub-idp-")
        code, out, err = run_cli("idp", "hash-password", input=SECRET + "\n")
        assert code == 0, err
        port = free_port()
        config = os.path.join(cls.dir, "idp.yaml")
        with open(config, "w") as f:
            f.write('issuer: "http://127.0.0.1:%d"\n'
                    'keys_dir: "%s"\n'
                    "service_accounts:\n"
                    "  - client_id: dev-hub\n"
                    '    secret_hash: "%s"\n'
                    "    roles: [service]\n"
                    '    audiences: ["http://127.0.0.1:8001"]\n'
                    % (port, os.path.join(cls.dir, "keys"), out.strip()))
        cls.idp = Hub("idp", workdir=cls.dir,
                      args=("--config", config,
                            "--listen", "127.0.0.1:%d" % port))
        cls.idp.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.idp.stop()
        finally:
            cls.idp.cleanup()
            shutil.rmtree(cls.dir, ignore_errors=True)

    def raw(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.idp.port,
                                          timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type"), r.read()
        finally:
            conn.close()

    def token(self, form):
        """POST /token as dev-hub with form, a str already encoded."""
        basic = base64.b64encode(("dev-hub:" + SECRET).encode()).decode()
        status, _, body = self.raw(
            "POST", "/token", form,
            {"Authorization": "Basic " + basic,
             "Content-Type": "application/x-www-form-urlencoded"})
        return status, json.loads(body)

    def test_a_resource_that_is_not_utf8_is_refused_not_dropped(self):
        # the report: resource=%ff got a token for the default audience
        status, j = self.token("grant_type=client_credentials&resource=%ff")
        self.assertEqual(status, 400, j)
        self.assertEqual(j, {"error": "invalid_request",
                             "error_description":
                                 "field 'resource' is not valid UTF-8"})
        # overlong, surrogate, cut short: none is UTF-8 either
        for bad in ("%c0%af", "%ed%a0%80",
                    "http%3A%2F%2F127.0.0.1%3A8001%e2%82"):
            status, j = self.token("grant_type=client_credentials&resource="
                                   + bad)
            self.assertEqual((status, j["error"]), (400, "invalid_request"),
                             bad)
        # the same request with a resource it can read is served
        status, j = self.token("grant_type=client_credentials&resource="
                               + urllib.parse.quote("http://127.0.0.1:8001",
                                                    safe=""))
        self.assertEqual(status, 200, j)

    def test_a_field_name_that_is_not_utf8_is_named_as_sent(self):
        status, j = self.token("grant_type=client_credentials&re%ffsource=x")
        self.assertEqual(status, 400, j)
        self.assertEqual(j["error_description"],
                         "field 're%FFsource' is not valid UTF-8")

    def test_long_utf8_values_arriving_in_pieces_are_whole(self):
        # a value longer than the form decoder's buffer arrives in pieces
        # cut anywhere, a character's bytes included: checked once whole
        note = urllib.parse.quote("\u00e9" * 3000 + "\u20ac" * 1000, safe="")
        status, j = self.token("grant_type=client_credentials&x_note=" + note)
        self.assertEqual(status, 200, j)
        status, j = self.token("grant_type=client_credentials&x_note="
                               + note + "%ff")
        self.assertEqual(status, 400, j)
        self.assertIn("'x_note'", j["error_description"])

    def test_query_parameters_that_are_not_utf8_are_refused(self):
        status, ctype, body = self.raw(
            "GET", "/authorize?client_id=dev-hub&state=%ff")
        self.assertEqual(status, 400)
        self.assertTrue(ctype.startswith("text/html"), ctype)
        self.assertIn("parameter &#39;state&#39; is not valid UTF-8",
                      body.decode("utf-8"))
        status, ctype, body = self.raw("GET", "/logout?state=%ff")
        self.assertEqual(status, 400)
        p = json.loads(body)
        self.assertEqual((p["field"], p["detail"]),
                         ("state", "parameter 'state' is not valid UTF-8"))
        # given twice is refused at /logout as at /authorize
        status, _, body = self.raw("GET", "/logout?state=a&state=b")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["detail"],
                         "parameter 'state' is given twice")


if __name__ == "__main__":
    unittest.main()
