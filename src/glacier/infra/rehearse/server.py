"""The emulator a rehearsal runs on: a moto server of its own, and a recording proxy before it.

moto switches IAM enforcement on for the whole process it runs in (its
``INITIAL_NO_AUTH_ACTION_COUNT`` setting), so the rehearsal's server is a separate process:
enforcement there never reaches another moto server of the caller (a test suite's, say). The
server starts in the account the plan's environment names (``MOTO_ACCOUNT_ID``), so the roles
and their ARNs are the ones the plan declares. One correction makes moto authorize as AWS
does: ``HeadBucket`` needs ``s3:ListBucket`` (moto checks an ``s3:HeadBucket`` action that IAM
does not have).

Tasks reach the server through :class:`RecordingProxy`, which notes every request moto's IAM
denied (HTTP 403 ``AccessDenied``) with the access key that signed it: the rehearsal reports
them per task.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any
from urllib.parse import urlsplit

from glacier.errors import InfraError

_SERVER = (
    "import sys\n"
    "from moto.s3.responses import ACTION_MAP\n"
    # AWS authorizes HeadBucket as s3:ListBucket; moto checks a made-up s3:HeadBucket.
    "ACTION_MAP['BUCKET']['HEAD']['DEFAULT'] = 'ListBucket'\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer(ip_address='127.0.0.1', port=0)\n"
    "server.start()\n"
    "print('port', server.get_host_and_port()[1], flush=True)\n"
    "sys.stdin.read()\n"  # until the rehearsal closes it
    "server.stop()\n"
)
_ACCESS_KEY = re.compile(r"Credential=([A-Z0-9]+)/")
#: Headers a proxy must not copy: hop-by-hop, or recomputed for the full body it sends.
#: (``Host`` is kept: requests are signed with it.)
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class MotoProcess:
    """A moto server in a process of its own, on a free port of 127.0.0.1."""

    def __init__(self, account_id: str | None = None) -> None:
        env = {"PATH": "/usr/bin:/bin"}
        if account_id:
            env["MOTO_ACCOUNT_ID"] = account_id
        self._process = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        stdout: IO[str] | None = self._process.stdout
        line = ""
        while stdout is not None and not line.startswith("port "):
            line = stdout.readline()
            if not line:  # the process ended
                break
        port = line.strip().removeprefix("port ")
        if not port.isdigit():
            self.stop()
            raise InfraError(
                "The rehearsal's moto server did not start. Install moto with its server: "
                "pip install 'moto[server]>=5'."
            )
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop the server (and its process)."""
        if self._process.poll() is None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def enforce_iam(endpoint: str, on: bool = True) -> None:
    """From now on, moto checks every request against the IAM policies of its signer (or,
    ``on=False``, checks none again)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=b"0" if on else b"inf",
        method="POST",
        headers={"Content-Type": "text/plain"},  # a form body would reach moto empty
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        json.loads(response.read())


@dataclass(frozen=True)
class Denied:
    """A request IAM denied: who signed it, and what it asked."""

    access_key: str
    method: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.message}"


class RecordingProxy:
    """Forwards HTTP requests to ``upstream`` and records those answered 403 (denied)."""

    def __init__(self, upstream: str) -> None:
        self.denied: list[Denied] = []
        target = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                conn = http.client.HTTPConnection(target.netloc, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                finally:
                    conn.close()
                if response.status == 403:  # HEAD answers carry no body to say more
                    proxy.record(
                        self.headers.get("Authorization", ""), self.command, self.path, data
                    )
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the rehearsal reports what matters

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def record(self, authorization: str, method: str, path: str, body: bytes) -> None:
        """Note a denied request, with the access key that signed it."""
        match = _ACCESS_KEY.search(authorization)
        text = body.decode(errors="replace")
        found = re.search(r"<Message>(.*?)</Message>", text, re.S)
        message = found.group(1).strip() if found else "Access Denied"
        self.denied.append(Denied(match.group(1) if match else "", method, path, message))

    def stop(self) -> None:
        """Stop forwarding."""
        self._server.shutdown()
        self._server.server_close()
