"""Headless Chromium driven over the DevTools protocol, with the standard library only.

Chromium's ``--remote-debugging-pipe`` reads protocol messages on file descriptor 3 and writes
its answers and events on 4, each a JSON text ended by a NUL byte: no WebSocket client, no
Playwright browser download (which cannot work on these machines). Debian's ``chromium`` is
the browser (``dev.py`` installs it when missing).

    with Chromium(tmp_path) as browser:
        page = browser.open("http://127.0.0.1:8765/")
        page.wait_for("document.body.dataset.ready === 'graph'")
        names = page.eval("[...document.querySelectorAll('.node')].map(n => n.dataset.name)")
        page.screenshot(tmp_path / "dag.png")

Waiting is on events: :meth:`Page.wait_for` hands the page a promise that resolves on the
animation frame where the condition first holds. The only timeout is a safety net that turns
a hung browser into a failure instead of a stuck suite.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

#: A hung browser fails the test after this long (a safety net, never a measurement).
SAFETY_NET_S = 60.0

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--remote-debugging-pipe",
)


def chromium_executable() -> str:
    """Debian's Chromium (``/usr/bin/chromium``), or ``chromium``/``chromium-browser`` on PATH."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(
        "Chromium is not installed: `apt-get install -y chromium` (python3 dev.py test "
        "installs it when missing)."
    )


class ProtocolError(RuntimeError):
    """The browser answered a command with an error, or a page threw."""


class Chromium:
    """One headless Chromium process and its protocol connection."""

    def __init__(self, profile_dir: Path) -> None:
        self.profile_dir = profile_dir
        self._next_id = 0
        self._lock = threading.Lock()
        self._answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Chromium:
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()

        def fds() -> None:  # in the child: the protocol's descriptors are 3 and 4
            # Out of the way first (a pipe may itself be 3 or 4), then into place; dup2 makes
            # them inheritable, so they survive the exec.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            for wanted, fd in zip((3, 4), high, strict=True):
                os.dup2(fd, wanted)

        self._proc = subprocess.Popen(
            [chromium_executable(), *FLAGS, f"--user-data-dir={self.profile_dir}", "about:blank"],
            preexec_fn=fds,
            close_fds=False,  # the parent's descriptors are close-on-exec; 3 and 4 are not
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._out = os.fdopen(to_browser_w, "wb", buffering=0)
        self._in = os.fdopen(from_browser_r, "rb", buffering=0)
        self._reader = threading.Thread(target=self._read, name="chromium-reader", daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            self.send("Browser.close")
        except Exception:
            proc.kill()
        try:
            proc.wait(timeout=SAFETY_NET_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._out.close()

    # -- protocol ----------------------------------------------------------------------------

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = self._in.read(1 << 16)
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        box = self._answers.get(message["id"])
                    if box is not None:
                        box.put(message)
                else:
                    with self._lock:
                        self._events.setdefault(message["method"], []).append(message)
        with self._lock:  # the browser is gone: wake every waiter
            for box in self._answers.values():
                box.put({"error": {"message": "the browser closed the connection"}})

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command; its result (raises :class:`ProtocolError` on an error answer)."""
        box: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=1)
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            self._answers[ident] = box
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        try:
            answer = box.get(timeout=SAFETY_NET_S)
        except queue.Empty:
            raise ProtocolError(f"{method}: no answer from the browser") from None
        finally:
            with self._lock:
                self._answers.pop(ident, None)
        if "error" in answer:
            raise ProtocolError(f"{method}: {answer['error'].get('message')}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def events(self, method: str, session: str | None = None) -> list[dict[str, Any]]:
        """The events of ``method`` received so far (of one page's session when given)."""
        with self._lock:
            got = list(self._events.get(method, ()))
        return [e["params"] for e in got if session is None or e.get("sessionId") == session]

    def open(self, url: str, width: int = 1400, height: int = 900) -> Page:
        """A new tab showing ``url``, once its load event has fired."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        page.goto(url)
        return page


class Page:
    """One tab: evaluate script, wait for conditions, take screenshots."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser = browser
        self.session = session

    def goto(self, url: str) -> None:
        """Navigate and wait until the document has loaded (``readyState === 'complete'``)."""
        answer = self.browser.send("Page.navigate", self.session, url=url)
        if answer.get("errorText"):
            raise ProtocolError(f"cannot open {url}: {answer['errorText']}")
        self.wait_for("document.readyState === 'complete'")

    def eval(self, expression: str) -> Any:
        """The value of ``expression`` in the page (promises are awaited)."""
        answer = self.browser.send(
            "Runtime.evaluate",
            self.session,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise ProtocolError(f"{expression[:80]!r} threw: {text}")
        return answer["result"].get("value")

    def wait_for(self, condition: str) -> Any:
        """Wait until ``condition`` (a JS expression) is truthy; its value. The page checks it
        on every animation frame and on every change to the document."""
        return self.eval(
            "new Promise((resolve) => {"
            "  const check = () => { let v; try { v = (" + condition + "); } catch (e) {}"
            "    if (v) { observer.disconnect(); resolve(v); return true; } return false; };"
            "  const observer = new MutationObserver(check);"
            "  if (!check()) { observer.observe(document, {subtree: true, childList: true,"
            "    attributes: true, characterData: true});"
            "    const frame = () => { if (!check()) requestAnimationFrame(frame); };"
            "    requestAnimationFrame(frame); }"
            "})"
        )

    def click(self, selector: str) -> None:
        """Dispatch a click on the first element matching ``selector``."""
        found = self.eval(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            " if (!el) return false;"
            " el.dispatchEvent(new MouseEvent('click', {bubbles: true})); return true; })()"
        )
        if not found:
            raise ProtocolError(f"nothing matches {selector!r}")

    def screenshot(self, path: Path) -> Path:
        """A PNG of the viewport, written to ``path``."""
        data = self.browser.send("Page.captureScreenshot", self.session, format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def errors(self) -> list[str]:
        """Exceptions the page threw and errors it logged (CSP violations among them)."""
        thrown = [
            str(e["exceptionDetails"].get("exception", {}).get("description") or e)
            for e in self.browser.events("Runtime.exceptionThrown", self.session)
        ]
        logged = [
            str(e["entry"].get("text"))
            for e in self.browser.events("Log.entryAdded", self.session)
            if e["entry"].get("level") == "error"
        ]
        return thrown + logged

    def requests(self) -> list[str]:
        """The URLs the page requested."""
        return [
            str(e["request"]["url"])
            for e in self.browser.events("Network.requestWillBeSent", self.session)
        ]
