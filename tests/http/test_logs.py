"""test_logs.py - log lines stay whole when processes share one stderr.

`foshub up` runs every hub with the same stderr; each log line must reach
it whole (one write per line), never cut by another process's line.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest
import urllib.error
import urllib.request

from harness import foshub_bin, ROOT

TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
LINE = re.compile(r"^%s (debug|info|warn|error|notice) [a-z-]+: " % TS)


def request(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=30) as r:
            r.read()
    except urllib.error.HTTPError as e:
        e.read()


class SharedStderr(unittest.TestCase):
    def test_two_hubs_on_one_pipe_write_whole_lines(self):
        tmp = tempfile.mkdtemp(prefix="foshub-logs-")
        rfd, wfd = os.pipe()
        env = dict(os.environ, FOSHUB_AUTH="off")
        for k in ("FOSHUB_DB", "FOSHUB_LISTEN", "FOSHUB_POLICY_DIR"):
            env.pop(k, None)
        procs, out, ports = [], [], []
        lock = threading.Lock()
        got_ports = threading.Event()

        def read():
            buf = b""
            with os.fdopen(rfd, "rb") as f:
                while True:
                    data = f.read1(65536)
                    if not data:
                        break
                    with lock:
                        out.append(data)
                        buf += data
                        if len(ports) < 2:
                            ports[:] = [int(p) for p in re.findall(
                                rb"listening on http://127\.0\.0\.1:(\d+)",
                                buf)]
                            if len(ports) == 2:
                                got_ports.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            for name in ("a", "b"):
                procs.append(subprocess.Popen(
                    [foshub_bin(), "serve", "dev", "--db",
                     "sqlite:" + os.path.join(tmp, name + ".db"),
                     "--listen", "127.0.0.1:0", "--threads", "4"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=wfd, cwd=ROOT, env=env))
            os.close(wfd)
            wfd = None
            self.assertTrue(got_ports.wait(30), b"".join(out))
            # long lines (the path is logged) from 8 threads per hub:
            # each request is one info line
            path = "/no-such-page/" + "x" * 400

            def load(port):
                for _ in range(150):
                    request(port, path)

            threads = [threading.Thread(target=load, args=(p,))
                       for p in ports for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            # the reported case: both stop at once
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                self.assertEqual(p.wait(60), 0)
            reader.join(30)
        finally:
            if wfd is not None:
                os.close(wfd)
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            shutil.rmtree(tmp, ignore_errors=True)
        text = b"".join(out).decode("utf-8", "replace")
        self.assertTrue(text.endswith("\n"), text[-200:])
        lines = text[:-1].split("\n")
        bad = [ln for ln in lines
               if not LINE.match(ln) or len(re.findall(TS, ln)) != 1]
        self.assertEqual(bad[:5], [], "%d of %d lines are not whole"
                         % (len(bad), len(lines)))
        self.assertEqual(sum("GET /no-such-page/" in ln for ln in lines),
                         2 * 8 * 150)
        self.assertEqual(sum("SIGTERM received" in ln for ln in lines), 2)


if __name__ == "__main__":
    unittest.main()
