"""A fault-injecting HTTP proxy for the storage emulators, and a socket that never answers.

:class:`FaultProxy` sits in front of an emulator (the moto server in the reliability tests)
and forwards each HTTP request on a fresh upstream connection, unless a :class:`Fault` rule
matches it. A rule names the method, a regular expression on the request target, how many
matching requests it hits, and what happens to them:

- ``error``: answer ``status`` (500, 503) without forwarding: the store never saw it;
- ``commit_then_error``: forward it (the store applies it), then answer ``status`` instead
  of the store's answer: the *ambiguous commit*;
- ``reset`` / ``commit_then_reset``: drop the connection (RST) before / after forwarding;
- ``truncate``: forward it and send the store's answer cut in half (a full
  ``Content-Length``, half the body, then close);
- ``latency``: wait ``delay`` seconds, then forward.

``requests`` records every request line seen and ``hits`` the ones a fault hit, so a test
can check that the fault it meant was exercised.

:class:`SilentServer` accepts TCP connections and never answers: a dead endpoint whose
socket is still open, the case only a read timeout ends.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Action = Literal["error", "commit_then_error", "reset", "commit_then_reset", "truncate", "latency"]

_ERROR_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
    b"<Message>injected fault</Message></Error>"
)
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}


@dataclass
class Fault:
    """One rule: ``action`` on the next ``times`` requests matching ``method`` and ``path``
    (a regular expression searched in the request target, query string included)."""

    action: Action
    method: str = "*"
    path: str = ""
    times: int = 1
    status: int = 500
    delay: float = 0.0
    hits: int = field(default=0, init=False)

    def matches(self, method: str, target: str) -> bool:
        return (
            self.hits < self.times
            and self.method in ("*", method)
            and re.search(self.path, target) is not None
        )


class FaultProxy:
    """An HTTP proxy to ``127.0.0.1:target_port`` that injects :class:`Fault` rules."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.faults: list[Fault] = []
        self.requests: list[str] = []
        self.hits: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def handle_one_request(self) -> None:
                try:
                    super().handle_one_request()
                except (ConnectionError, TimeoutError):
                    self.close_connection = True

            def _any(self) -> None:
                proxy._serve(self)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    @contextlib.contextmanager
    def inject(self, *faults: Fault) -> Iterator[list[Fault]]:
        """Apply ``faults`` inside the block (first matching rule wins)."""
        with self._lock:
            self.faults.extend(faults)
        try:
            yield list(faults)
        finally:
            with self._lock:
                for fault in faults:
                    self.faults.remove(fault)

    # -- serving ---------------------------------------------------------------------------

    def _match(self, method: str, target: str) -> Fault | None:
        with self._lock:
            self.requests.append(f"{method} {target}")
            for fault in self.faults:
                if fault.matches(method, target):
                    fault.hits += 1
                    self.hits.append((fault.action, f"{method} {target}"))
                    return fault
        return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        method, target = handler.command, handler.path
        body = _read_body(handler)
        fault = self._match(method, target)
        action = fault.action if fault else None
        if fault is not None and action == "latency":
            time.sleep(fault.delay)
        if action == "reset":
            _reset(handler)
            return
        if action == "error":
            assert fault is not None
            _answer_error(handler, fault.status)
            return
        status, reason, headers, payload = self._forward(method, target, handler, body)
        if action == "commit_then_reset":
            _reset(handler)
            return
        if action == "commit_then_error":
            assert fault is not None
            _answer_error(handler, fault.status)
            return
        handler.send_response(status, reason)
        length = len(payload)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                handler.send_header(name, value)
        if method == "HEAD":
            length = int(dict((k.lower(), v) for k, v in headers).get("content-length", 0))
        handler.send_header("Content-Length", str(length))
        if action == "truncate":
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(payload[: len(payload) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.end_headers()
        if method != "HEAD" and payload:
            handler.wfile.write(payload)

    def _forward(
        self, method: str, target: str, handler: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection("127.0.0.1", self.target_port, timeout=60)
        try:
            headers = {
                k: v
                for k, v in handler.headers.items()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
            }
            headers["Content-Length"] = str(len(body))
            headers["Connection"] = "close"
            upstream.request(method, target, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            upstream.close()


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _answer_error(handler: BaseHTTPRequestHandler, status: int) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/xml")
    handler.send_header("Content-Length", str(len(_ERROR_BODY)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(_ERROR_BODY)


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Close the client's connection with a TCP RST (SO_LINGER 0), as a dropped peer does."""
    sock = handler.connection
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    with contextlib.suppress(OSError):
        sock.close()


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers (nor closes them).

    ``requests`` holds the request line of each request received (``"GET /lake/k"``), so a
    test can count the attempts a client made; a connection that sent nothing (an
    endpoint probe) is not a request.
    """

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._held: list[socket.socket] = []
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self._held.append(client)  # held open, never answered
            threading.Thread(target=self._record, args=(client,), daemon=True).start()

    def _record(self, client: socket.socket) -> None:
        """Read the request line (and whatever follows, unanswered) until the client goes."""
        data = b""
        with contextlib.suppress(OSError):
            while b"\r\n" not in data and (chunk := client.recv(4096)):
                data += chunk
        if data:
            line = data.split(b"\r\n", 1)[0].decode(errors="replace").rsplit(" ", 1)[0]
            with self._lock:
                self.requests.append(line)
        with contextlib.suppress(OSError):
            while client.recv(1 << 16):
                pass

    def close(self) -> None:
        """Stop accepting and drop the held connections."""
        self._closed = True
        self._server.close()
        for sock in self._held:
            with contextlib.suppress(OSError):
                sock.close()
