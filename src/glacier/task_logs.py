"""Capturing what a task logs and prints, tagged with its run, task, attempt and environment.

A data engineer reading a failed run wants the lines *that task* wrote, not an interleaving
of every thread's output. Capture is shaped to cost nothing on the hot path of a run of tiny
tasks:

- one :class:`CaptureHandler` on the root logger and one tee on ``sys.stdout``/``sys.stderr``
  are installed once per run (:func:`acquire`/:func:`release`, or :func:`capturing`), not
  per task;
- per task, the executor only points a thread-local at the run's :class:`RunLogs` and the
  task's index (:func:`begin`/:func:`end`); a record or a write is kept only when a task is
  running on that thread, and the task's entry list is created at the first line it writes;
- printed output still reaches the terminal (the streams are teed, not swallowed).

Records are filtered by the loggers' levels as the application configured them (the CLI's
``--log-level``); Glacier's own loggers are ``glacier.*``.

>>> import logging
>>> run = RunLogs("run-1", "dev", ["extract"], [None])
>>> with capturing():
...     begin(run, 0)
...     logging.getLogger("etl").warning("3 rows dropped")
...     end()
>>> [(e["task"], e["level"], e["message"]) for e in run.logs[0]]
[('extract', 'WARNING', '3 rows dropped')]
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from glacier.redaction import redact

__all__ = [
    "CaptureHandler",
    "JsonFormatter",
    "RunLogs",
    "TextFormatter",
    "acquire",
    "begin",
    "capturing",
    "configure_logging",
    "console_logging",
    "current",
    "end",
    "log_level",
    "note_attempt",
    "release",
]

_local = threading.local()
_local.cur = None


class RunLogs:
    """One run's captured lines, per task: ``logs[i]`` is task ``i``'s entries (``None``
    until it writes one). Made once per run; a task only points the thread at it."""

    __slots__ = ("attempt_of", "environment", "logs", "names", "run_id")

    def __init__(
        self,
        run_id: str,
        environment: str | None,
        names: Sequence[str],
        logs: list[list[dict[str, Any]] | None],
    ) -> None:
        self.run_id = run_id
        self.environment = environment
        self.names = names
        self.logs = logs
        #: Attempts after the first, by task index (retries are rare: no column for them).
        self.attempt_of: dict[int, int] = {}

    def fields(self, i: int) -> dict[str, Any]:
        """The tags every line of task ``i`` carries."""
        return {
            "run_id": self.run_id,
            "task": self.names[i],
            "attempt": self.attempt_of.get(i, 1),
            "environment": self.environment,
        }

    def add(self, i: int, level: str, logger: str, message: str, created: float) -> None:
        entries = self.logs[i]
        if entries is None:
            entries = self.logs[i] = []
        # Kept in the run record: credentials masked, as everywhere a message leaves Glacier.
        entry = {"time": created, "level": level, "logger": logger, "message": redact(message)}
        entries.append(entry | self.fields(i))


def begin(run: RunLogs, i: int) -> None:
    """Capture for task ``i`` of ``run`` on this thread (until :func:`end`)."""
    _local.cur = (run, i)


def end() -> None:
    """Stop capturing on this thread."""
    _local.cur = None


def note_attempt(attempt: int) -> None:
    """The task running on this thread started attempt ``attempt`` (tags later lines)."""
    cur = getattr(_local, "cur", None)
    if cur is not None:
        cur[0].attempt_of[cur[1]] = attempt


def current() -> tuple[RunLogs, int] | None:
    """The run and index of the task running on this thread, if any."""
    cur: tuple[RunLogs, int] | None = getattr(_local, "cur", None)
    return cur


class CaptureHandler(logging.Handler):
    """Keeps each record emitted while a task runs on the emitting thread in that task's log."""

    def emit(self, record: logging.LogRecord) -> None:
        cur = getattr(_local, "cur", None)
        if cur is None:
            return
        try:
            cur[0].add(cur[1], record.levelname, record.name, record.getMessage(), record.created)
        except Exception:  # a bad format string must not fail the task
            self.handleError(record)


class _Tee:
    """A stand-in for ``sys.stdout``/``sys.stderr``: writes go to the real stream and, while a
    task runs on the writing thread, into its log (one entry per line)."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self._stream = stream
        self._name = name
        self._partial = threading.local()

    def write(self, text: str) -> int:
        cur = getattr(_local, "cur", None)
        if cur is not None and text:
            pending = getattr(self._partial, "text", "") + text
            *lines, rest = pending.split("\n")
            for line in lines:
                cur[0].add(cur[1], self._name, self._name, line, time.time())
            self._partial.text = rest
        return self._stream.write(text)

    def flush(self) -> None:
        cur = getattr(_local, "cur", None)
        rest = getattr(self._partial, "text", "")
        if cur is not None and rest:
            cur[0].add(cur[1], self._name, self._name, rest, time.time())
            self._partial.text = ""
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_install_lock = threading.Lock()
_installed = 0
_handler = CaptureHandler()
_saved: tuple[Any, Any] | None = None


def acquire() -> None:
    """Install the capture (root handler, stream tees) unless already installed; counted."""
    global _installed, _saved
    with _install_lock:
        if _installed == 0:
            logging.getLogger().addHandler(_handler)
            _saved = (sys.stdout, sys.stderr)
            sys.stdout = _Tee(sys.stdout, "stdout")  # type: ignore[assignment]
            sys.stderr = _Tee(sys.stderr, "stderr")  # type: ignore[assignment]
        _installed += 1


def release() -> None:
    """Undo one :func:`acquire`; the last one removes the handler and the tees."""
    global _installed, _saved
    with _install_lock:
        if _installed == 0:
            return
        _installed -= 1
        if _installed == 0:
            logging.getLogger().removeHandler(_handler)
            if _saved is not None:
                # Only undo our own tee: someone may have replaced it meanwhile.
                if isinstance(sys.stdout, _Tee):
                    sys.stdout = _saved[0]
                if isinstance(sys.stderr, _Tee):
                    sys.stderr = _saved[1]
                _saved = None


@contextmanager
def capturing() -> Iterator[None]:
    """Within the block, tasks started with :func:`begin` capture their logs and output.

    Nested and concurrent runs share one installation (counted), so a run inside a task, or
    two pipelines in two threads, neither double-capture nor restore the streams early."""
    acquire()
    try:
        yield
    finally:
        release()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the running task's
    ``run_id``, ``task``, ``attempt`` and ``environment`` (``null`` outside a task); what
    ``--log-format json`` and deployed tasks write, for log collectors to index."""

    def format(self, record: logging.LogRecord) -> str:
        cur = getattr(_local, "cur", None)
        # Outside a task, a record may carry the fields itself (``extra={"task": ...}``).
        tags = (
            cur[0].fields(cur[1])
            if cur is not None
            else {k: getattr(record, k, None) for k in ("run_id", "task", "attempt", "environment")}
        )
        out: dict[str, Any] = {
            "time": record.created,
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            **tags,
        }
        if record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """``LEVEL task: message``; the task name left out outside a task."""

    def format(self, record: logging.LogRecord) -> str:
        cur = getattr(_local, "cur", None)
        where = f" {cur[0].names[cur[1]]}" if cur is not None else ""
        text = f"{record.levelname}{where} [{record.name}]: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return redact(text)


class _ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`configure_logging` installs (and replaces on the next call)."""


def configure_logging(
    level: str = "INFO", fmt: str = "text", stream: TextIO | None = None
) -> logging.Handler:
    """Send log records at ``level`` and above to ``stream`` (stderr) as ``text`` or ``json``
    lines, tagged with the running task; what deployed tasks use. Calling it again replaces
    the previous configuration. The root logger passes INFO records at least, so that tasks'
    INFO lines reach their records even when the console shows only warnings.

    Raises:
        ValueError: an unknown level or format.
    """
    numeric = log_level(level, fmt)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ConsoleHandler)]:
        root.removeHandler(old)
    # The stream as it is now, not a run's tee: a log line is not a task's printed output.
    handler = _ConsoleHandler(stream or sys.stderr)
    handler.setLevel(numeric)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(min(numeric, logging.INFO))
    return handler


def log_level(level: str, fmt: str = "text") -> int:
    """``level`` as a number, after checking it and ``fmt``.

    Raises:
        ValueError: an unknown level or format, naming the allowed ones.
    """
    if fmt not in ("text", "json"):
        raise ValueError(f"log format {fmt!r} is not one of: text, json")
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"log level {level!r} is not one of: DEBUG, INFO, WARNING, ERROR")
    return numeric


@contextmanager
def console_logging(
    level: str = "INFO", fmt: str = "text", stream: TextIO | None = None
) -> Iterator[None]:
    """:func:`configure_logging` for the block, then the logging configuration as before
    (``glacier run`` in a process that goes on, as in tests)."""
    root = logging.getLogger()
    before = root.level
    handler = configure_logging(level, fmt, stream)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
