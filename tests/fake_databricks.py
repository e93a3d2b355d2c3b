"""A local stand-in for the Databricks Jobs REST API (the calls Glacier makes), for tests.

It keeps what it was sent, and each run moves PENDING -> RUNNING -> TERMINATED/SUCCESS one
step per ``runs/get``, so a status poll sees a run progress without waiting on a clock. A
submitted run whose task's ``python_file`` contains ``fail`` ends FAILED.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

_STEPS = [
    {"life_cycle_state": "PENDING"},
    {"life_cycle_state": "RUNNING"},
    {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
]


class FakeDatabricks:
    """What the fake server was asked, and its runs."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.runs: dict[int, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.host = ""

    def handle(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if path.startswith("/api/"):  # not the SDK's probe of the host's metadata
                self.requests.append((method, path, body))
            if method == "POST" and path.endswith("/jobs/runs/submit"):
                return 200, {"run_id": self._new_run(body)}
            if method == "POST" and path.endswith("/jobs/run-now"):
                if int(body.get("job_id", 0)) != 42:
                    return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "no job"}
                return 200, {"run_id": self._new_run(body), "number_in_job": 1}
            if method == "GET" and path.endswith("/jobs/runs/get"):
                run = self.runs.get(int(body["run_id"]))
                if run is None:
                    return 400, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no run"}
                step = min(run["polls"], len(_STEPS) - 1)
                run["polls"] += 1
                state = dict(_STEPS[step])
                if run["fails"] and state.get("result_state"):
                    state["result_state"] = "FAILED"
                return 200, {"run_id": run["id"], "state": state}
            return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": path}

    def _new_run(self, body: dict[str, Any]) -> int:
        run_id = len(self.runs) + 1
        files = [
            t.get("spark_python_task", {}).get("python_file", "") for t in body.get("tasks", [])
        ]
        self.runs[run_id] = {"id": run_id, "polls": 0, "fails": any("fail" in f for f in files)}
        return run_id


@contextmanager
def fake_databricks() -> Iterator[FakeDatabricks]:
    """Serve a :class:`FakeDatabricks` on 127.0.0.1 for the length of the block."""
    fake = FakeDatabricks()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            url = urlparse(self.path)
            if method == "GET":
                body: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
            else:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
            status, answer = fake.handle(method, url.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.host = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
