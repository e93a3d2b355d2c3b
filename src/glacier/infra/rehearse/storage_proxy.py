"""The recording proxy of a rehearsal on GCP or Azure: one port per task identity before the
storage emulator, every request translated (:mod:`~glacier.infra.rehearse.storage_requests`),
checked against the plan's grants (:mod:`~glacier.infra.rehearse.evaluator`) and recorded.

The emulators enforce no IAM, so the proxy is what enforces it: a request the grants do not
allow is answered ``403`` in the store's own error format (GCS's JSON error, or its XML one;
Blob Storage's ``AuthorizationPermissionMismatch``), so the task's client fails as it would
in the cloud, and never reaches the emulator. The port a request arrives on says who made
it, as a deployed task's credentials would.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from glacier.infra.rehearse.evaluator import Grant, allowed
from glacier.infra.rehearse.server import Denied
from glacier.infra.rehearse.storage_requests import Asked, BlobRequests, GcsRequests, Objects

__all__ = ["Recorded", "StorageProxies"]

#: Headers a proxy must not copy: hop-by-hop, or recomputed for the full body it sends.
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (a cancelled read): nothing to report


@dataclass(frozen=True)
class Recorded:
    """One request a task made: who, what, and whether the grants allowed it."""

    identity: str
    method: str
    path: str
    asked: tuple[str, ...]
    allowed: bool
    reason: str = ""


class StorageProxies:
    """Proxies before one emulator (``upstream``), one port per identity (:meth:`url_of`).

    ``cloud`` is ``"gcp"`` or ``"azure"`` (how requests are read and refusals written).
    """

    def __init__(self, cloud: str, upstream: str, grants: Iterable[Grant]) -> None:
        self.cloud = cloud
        self.grants = tuple(grants)
        self.records: list[Recorded] = []
        self._lock = threading.Lock()
        self._upstream = urlsplit(upstream)
        self.objects = Objects()
        self._gcs = GcsRequests(self.objects)
        self._blob = BlobRequests(self.objects)
        self._servers: dict[str, ThreadingHTTPServer] = {}

    def url_of(self, identity: str) -> str:
        """The endpoint of ``identity``'s own port (started on first use)."""
        with self._lock:  # tasks of one level start together
            if identity not in self._servers:
                server = _Server(("127.0.0.1", 0), self._handler(identity))
                threading.Thread(target=server.serve_forever, daemon=True).start()
                self._servers[identity] = server
            port = self._servers[identity].server_address[1]
        return f"http://127.0.0.1:{port}"

    def denied_to(self, identity: str) -> list[Denied]:
        """The requests of ``identity`` the grants did not allow."""
        with self._lock:
            return [
                Denied(r.identity, r.method, r.path, r.reason)
                for r in self.records
                if r.identity == identity and not r.allowed
            ]

    def stop(self) -> None:
        """Stop every port."""
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def _asked(self, method: str, path: str, body: bytes, headers: Any) -> Asked:
        if self.cloud == "gcp":
            return self._gcs.translate(method, path, body)
        return self._blob.translate(method, path, body, headers.get("x-ms-copy-source"))

    def _decide(self, identity: str, method: str, path: str, asked: Asked) -> Recorded:
        reason = asked.refused
        if not reason:
            for request in asked.requests:
                decision = allowed(self.grants, identity, request)
                if not decision:
                    reason = f"{request} denied: {decision.reason}"
                    break
        record = Recorded(
            identity, method, path, tuple(str(r) for r in asked.requests), not reason, reason
        )
        with self._lock:
            self.records.append(record)
        return record

    def _refusal(self, path: str, reason: str) -> tuple[dict[str, str], bytes]:
        if self.cloud == "gcp" and "/storage/v1/" in path:
            error = {
                "code": 403,
                "message": reason,
                "errors": [{"message": reason, "domain": "global", "reason": "forbidden"}],
            }
            return {"Content-Type": "application/json"}, json.dumps({"error": error}).encode()
        code = "AccessDenied" if self.cloud == "gcp" else "AuthorizationPermissionMismatch"
        text = reason.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f"<Error><Code>{code}</Code><Message>{text}</Message></Error>"
        ).encode()
        headers = {"Content-Type": "application/xml"}
        if self.cloud == "azure":
            headers["x-ms-error-code"] = code
        return headers, body

    def _handler(self, identity: str) -> type[BaseHTTPRequestHandler]:
        proxies = self
        upstream = self._upstream

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _forward(self) -> None:
                body = self._body()
                asked = proxies._asked(self.command, self.path, body, self.headers)
                record = proxies._decide(identity, self.command, self.path, asked)
                if not record.allowed:
                    self._answer(403, *proxies._refusal(self.path, record.reason))
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                conn = http.client.HTTPConnection(upstream.netloc, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                finally:
                    conn.close()
                if response.status < 300:
                    proxies.objects.update(asked.written, asked.deleted)
                mine = f"127.0.0.1:{self.connection.getsockname()[1]}"
                out: dict[str, str] = {}
                for key, value in response.getheaders():
                    if key.lower() in _HOP:
                        continue
                    if key.lower() == "location":
                        value = value.replace(upstream.netloc, mine)
                        if asked.starts_upload is not None and "upload_id=" in value:
                            upload = value.split("upload_id=", 1)[1].split("&", 1)[0]
                            proxies._gcs.uploaded(upload, asked.starts_upload)
                    out[key] = value
                if self.command == "HEAD":
                    size = response.getheader("Content-Length") or "0"
                    self.send_response(response.status)
                    for key, value in out.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", size)
                    self.end_headers()
                    return
                if "json" in (response.getheader("Content-Type") or ""):  # links to itself
                    data = data.replace(upstream.netloc.encode(), mine.encode())
                self._answer(response.status, out, data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the rehearsal reports what matters

        return Handler
