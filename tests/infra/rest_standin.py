"""A local HTTP server answering a cloud REST API's requests from a script, for the clients
Glacier drives where no emulator exists (Workflows executions, Logic Apps runs).

It is a stand-in, not an emulator: it answers only the requests a test scripts, records each
request (method, path, query, headers, JSON body) so the test can assert what the real client
sent. The clients are synchronous, so a request is recorded before the call that sent it
returns: nothing to wait for. Subclasses implement :meth:`answer`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    """One request the stand-in received (a form body as ``parse_qs`` reads it)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Answer:
    """What the stand-in replies: a status, a JSON body (None: empty) and headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class RestStandIn:
    """A threaded HTTP server on 127.0.0.1 whose replies come from :meth:`answer`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                form = self.headers.get("Content-Type", "").startswith("application/x-www-form")
                body = parse_qs(raw.decode()) if form else json.loads(raw) if raw else None
                request = Request(
                    self.command,
                    url.path,
                    parse_qs(url.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with stand_in._lock:
                    stand_in.requests.append(request)
                    answer = stand_in.answer(request)
                data = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, request: Request) -> Answer:
        """The reply to ``request`` (called under a lock, in the order requests arrive)."""
        raise NotImplementedError

    def paths(self, method: str | None = None) -> list[str]:
        """The paths requested, in order (of ``method`` only, when given)."""
        return [r.path for r in self.requests if method is None or r.method == method]

    @contextmanager
    def serving(self) -> Iterator[RestStandIn]:
        """Serve on a thread while the block runs."""
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()
