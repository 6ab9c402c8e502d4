"""ops_support.py - real local endpoints for ops-hub's probe tests: an HTTP
server, `openssl s_server` with a certificate made here, a TCP listener
that sends an SSH banner, and a fixture server that serves the recorded
Kubernetes, Longhorn and cert-manager responses of tests/data/ops over
HTTPS with a bearer token. Standard library and the openssl CLI only.
"""

import http.server
import json
import os
import re
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

from harness import DATA

OPS_DATA = os.path.join(DATA, "ops")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(directory, name, days):
    """A self-signed certificate for 127.0.0.1 and localhost that expires
    in `days` days; returns (cert path, key path)."""
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", str(days),
         "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True, timeout=60)
    return cert, key


def wait_until(cond, timeout=15.0, interval=0.05, what="condition"):
    """Poll cond() until it returns something true; fail after timeout."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


class HttpEndpoint:
    """A plain HTTP server whose answer the test sets: status and body."""

    def __init__(self):
        self.status = 200
        self.body = json.dumps({"status": "ok"})
        self.delay = 0.0
        self.hits = 0
        outer = self

        class Handler(_Quiet):
            def do_GET(self):
                outer.hits += 1
                if outer.delay:
                    time.sleep(outer.delay)
                data = outer.body.encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/health" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class SshBanner:
    """A TCP listener that greets every connection with an SSH banner."""

    def __init__(self, banner=b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"):
        self.banner = banner
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                conn.sendall(self.banner)
                conn.settimeout(1)
                try:
                    conn.recv(256)
                except OSError:
                    pass
            finally:
                conn.close()

    def stop(self):
        self.running = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class TlsServer:
    """`openssl s_server` with the given certificate."""

    def __init__(self, cert, key):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", "127.0.0.1:%d" % self.port,
             "-cert", cert, "-key", key, "-www", "-quiet"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

        def accepting():
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_until(accepting, what="openssl s_server")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


_NOW = re.compile(r"\$\{NOW(?:([+-])(\d+)h)?\}")


def expand_times(text):
    """Replace ${NOW}, ${NOW-30h}, ${NOW+48h} with RFC 3339 UTC times."""
    now = datetime.now(timezone.utc).replace(microsecond=0)

    def one(m):
        t = now
        if m.group(1):
            delta = timedelta(hours=int(m.group(2)))
            t = now + delta if m.group(1) == "+" else now - delta
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return _NOW.sub(one, text)


class ClusterFixture:
    """The recorded cluster API over HTTPS; requests need the bearer token.
    variant is "healthy" or "broken" and can be switched at any time."""

    PATHS = {
        "/readyz": "readyz.txt",
        "/api/v1/nodes": "nodes.json",
        "/api/v1/pods": "pods.json",
        "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes":
            "volumes.json",
        "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/backups":
            "backups.json",
        "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/backuptargets":
            "backuptargets.json",
        "/apis/cert-manager.io/v1/certificates": "certificates.json",
    }

    def __init__(self, directory, token="fixture-token-0123456789"):
        self.token = token
        self.variant = "healthy"
        self.requests = []
        self.cert, self.key = make_cert(directory, "cluster", 30)
        outer = self

        class Handler(_Quiet):
            def do_GET(self):
                path = self.path.split("?")[0]
                outer.requests.append(path)
                if self.headers.get("Authorization") != "Bearer " + outer.token:
                    return self._send(401, b'{"kind":"Status","code":401}')
                name = outer.PATHS.get(path)
                if not name:
                    return self._send(404, b'{"kind":"Status","code":404}')
                with open(os.path.join(OPS_DATA, outer.variant, name)) as f:
                    text = expand_times(f.read())
                status = 200
                if name == "readyz.txt" and outer.variant == "broken":
                    status = 500
                self._send(status, text.encode())

            def _send(self, status, data):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.server.socket = ctx.wrap_socket(self.server.socket,
                                             server_side=True)
        self.port = self.server.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self.token_file = os.path.join(directory, "cluster.token")
        with open(self.token_file, "w") as f:
            f.write(token + "\n")
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def location(self, name="k3s-test"):
        return {"name": name, "kind": "cluster", "api_server": self.url,
                "token_file": self.token_file, "ca_file": self.cert}

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


socketserver.TCPServer.allow_reuse_address = True
