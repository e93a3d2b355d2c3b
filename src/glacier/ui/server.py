"""``glacier ui``'s web server: read-only, local, the standard library's ``http.server``.

``GET /`` is the page (:mod:`glacier.ui.page`); ``GET /api/...`` are its data
(:class:`~glacier.ui.api.Api`), read from the run store at each request, so a running run's
page, which polls its ``/api/run/<id>``, follows it. Nothing else: other methods get 405.

It binds to 127.0.0.1 by default and then answers only requests addressed to a loopback name
(``Host: 127.0.0.1``/``localhost``), which keeps a web page elsewhere from reading it through
DNS rebinding.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from glacier.errors import GlacierError
from glacier.ui.api import Api, NotFound
from glacier.ui.page import content_security_policy, render_page

__all__ = ["UiServer", "page_data"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
_CSP = content_security_policy("server") + "; frame-ancestors 'none'"


def page_data(api: Api) -> dict[str, Any]:
    """What the served page starts from: its sections and first route (data is fetched)."""
    has_graph = api.pipeline is not None
    return {
        "start": "graph" if has_graph else "runs",
        "has": {"graph": has_graph, "runs": True, "plan": has_graph},
        "api": {},
    }


class UiServer(ThreadingHTTPServer):
    """The server of one :class:`Api`; ``serve_forever()`` or :meth:`start` in a thread.

    Example::

        server = UiServer(api, "127.0.0.1", 0)   # port 0: a free one
        server.start()
        print(server.url)
        ...
        server.stop()
    """

    daemon_threads = True

    def __init__(self, api: Api, host: str = "127.0.0.1", port: int = 8765) -> None:
        self.api = api
        self.loopback_only = host in _LOOPBACK
        title = f"{api.pipeline_name} · glacier" if api.pipeline_name else "runs · glacier"
        self.page = render_page(title, page_data(api), mode="server").encode("utf-8")
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        """The page's address."""
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}/"

    def start(self) -> None:
        """Serve on a daemon thread (tests, notebooks)."""
        self._thread = threading.Thread(target=self.serve_forever, name="glacier-ui", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join()


class _Handler(BaseHTTPRequestHandler):
    server: UiServer
    server_version = "glacier-ui"

    def do_GET(self) -> None:
        if not self._host_allowed():
            self._send(HTTPStatus.MISDIRECTED_REQUEST, {"error": "not a loopback host name"})
            return
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            self._body(HTTPStatus.OK, self.server.page, "text/html; charset=utf-8")
            return
        if not url.path.startswith("/api/"):
            self._send(HTTPStatus.NOT_FOUND, {"error": f"nothing at {url.path}"})
            return
        try:
            data = self.server.api.answer(url.path, dict(parse_qsl(url.query)))
        except NotFound as exc:
            self._send(HTTPStatus.NOT_FOUND, {"error": str(exc)})
        except GlacierError as exc:
            self._send(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(exc)})
        except Exception as exc:  # the page shows it; the server keeps serving
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"})
        else:
            self._send(HTTPStatus.OK, data)

    def do_HEAD(self) -> None:
        self._body(HTTPStatus.OK, b"", "text/html; charset=utf-8")

    def _refuse(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

    def _host_allowed(self) -> bool:
        if not self.server.loopback_only:
            return True
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0] if self.headers else ""
        return host in _LOOPBACK

    def _send(self, status: HTTPStatus, data: Any) -> None:
        body = json.dumps(data, default=str).encode("utf-8")
        self._body(status, body, "application/json")

    def _body(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        # As the page's own, and no framing (a header can say that; a <meta> cannot).
        self.send_header("Content-Security-Policy", _CSP)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a quiet local tool: errors reach the page, not the terminal
