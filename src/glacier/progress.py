"""A run hook that shows task progress with rich.

On a terminal, a live table redraws as tasks start and finish (pending, running with its
elapsed time and attempt, succeeded, cached, failed, skipped); elsewhere (a pipe, CI logs)
it prints one line per finished task, so logs stay readable::

    from rich.console import Console
    from glacier.progress import RunProgress

    with RunProgress(Console()) as progress:
        result = pipeline.run(hooks=[progress], raise_on_failure=False)

The executor calls the hook from its worker threads; every method takes one lock, and the
live display reads the same state under it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from glacier.redaction import redact
from glacier.result import FAILED, SKIPPED, SUCCEEDED
from glacier.task_logs import current as current_task

if TYPE_CHECKING:
    from glacier.result import RunResult, TaskRun

PENDING = "pending"
RUNNING = "running"
CACHED = "cached"
RESUMED = "resumed"

#: status -> (glyph, ascii glyph, style)
_LOOK: dict[str, tuple[str, str, str]] = {
    PENDING: ("·", ".", "dim"),
    RUNNING: ("▸", ">", "cyan"),
    SUCCEEDED: ("✓", "+", "green"),
    CACHED: ("↺", "=", "blue"),
    RESUMED: ("↺", "=", "blue"),
    FAILED: ("✗", "x", "bold red"),
    SKIPPED: ("↷", "-", "yellow"),
}


@dataclass
class TaskState:
    """What the display knows about one task (its own copy, not the executor's record)."""

    name: str
    status: str = PENDING
    started: float | None = None
    duration: float | None = None
    attempts: int = 0
    error: str = ""
    #: The executor's record while the task runs, to show its attempt count live.
    record: TaskRun | None = None
    #: The last line the task logged while running (shown beside it on a terminal).
    last_line: str = ""


#: Which rows stay when the screen is short: lower first.
_PRIORITY = {RUNNING: 0, FAILED: 1, PENDING: 2, SKIPPED: 3}


def _by_priority(states: list[TaskState]) -> list[TaskState]:
    """Running and failed tasks first, then the next pending ones, then the finished ones
    latest first (the earliest are the first to collapse)."""
    order = sorted(
        enumerate(states),
        key=lambda item: (
            _PRIORITY.get(item[1].status, 4),
            item[0] if item[1].status in (RUNNING, FAILED, PENDING) else -item[0],
        ),
    )
    return [s for _, s in order]


def display_status(run: TaskRun) -> str:
    """The status to show for a finished task: ``cached`` and ``resumed`` stand out."""
    if run.status == SUCCEEDED and run.cached:
        return CACHED
    if run.status == SUCCEEDED and run.resumed:
        return RESUMED
    return run.status


def format_duration(seconds: float | None) -> str:
    """``12 ms``, ``1.24 s``, ``2m 05s``."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s"


def error_line(error: BaseException | None) -> str:
    """``ValueError: boom``: the exception's type and the first line of its message."""
    if error is None:
        return ""
    message = redact(str(error)).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


class RunProgress:
    """Shows a run's progress on ``console``; a hook for ``pipeline.run(hooks=[...])``.

    Args:
        console: Where to draw. On a terminal the display is live, else line by line.
        live: Force the live display on or off (default: whether ``console`` is a terminal).
        refresh_per_second: Redraw rate of the live display.

    Use it as a context manager so the live display stops even if the run raises.
    """

    def __init__(
        self, console: Console, *, live: bool | None = None, refresh_per_second: float = 8
    ) -> None:
        self.console = console
        self.live_mode = console.is_terminal if live is None else live
        self.pipeline = ""
        self.tasks: dict[str, TaskState] = {}
        self.result: RunResult | None = None
        self._lock = threading.Lock()
        self._live: Live | None = None
        self._refresh = refresh_per_second
        self._ascii = not (console.encoding or "").lower().startswith("utf")
        self._began: float | None = None
        self._lines = _LastLines(self)

    # -- lifetime --------------------------------------------------------------------------

    def __enter__(self) -> RunProgress:
        if self.live_mode:
            self._live = Live(
                get_renderable=self.render,
                console=self.console,
                refresh_per_second=self._refresh,
                transient=True,
            )
            self._live.start()
            # Each running task's latest log line shows in its row, where one looks for it.
            logging.getLogger().addHandler(self._lines)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            logging.getLogger().removeHandler(self._lines)
            self._live.stop()
            self._live = None

    # -- hooks (called from worker threads) ------------------------------------------------

    def on_run_start(self, pipeline: str, run_id: str, tasks: list[str]) -> None:
        """Every task the run will consider starts as pending (data-flow runs list none)."""
        with self._lock:
            self.pipeline = pipeline
            self._began = time.perf_counter()
            for name in tasks:
                self.tasks.setdefault(name, TaskState(name))

    def on_task_start(self, run: TaskRun) -> None:
        """A task started: it shows as running with a live clock."""
        with self._lock:
            state = self.tasks.setdefault(run.name, TaskState(run.name))
            state.status = RUNNING
            state.started = time.perf_counter()
            state.record = run

    def on_task_end(self, run: TaskRun) -> None:
        """A task finished: record how; without a live display, print its line."""
        with self._lock:
            state = self._update(run)
            if not self.live_mode:
                self._print_line(state)

    def on_run_end(self, result: RunResult) -> None:
        """Tasks skipped because of a failure get no task hook; pick them up here."""
        with self._lock:
            self.result = result
            for run in result.tasks.values():
                state = self.tasks.get(run.name)
                if run.status == SKIPPED and (state is None or state.status != SKIPPED):
                    state = self._update(run)
                    if not self.live_mode:
                        self._print_line(state)

    # -- display ---------------------------------------------------------------------------

    def render(self) -> RenderableType:
        """The live view: an overall bar with counts and times, then one row per task.

        When the rows do not fit the console's height, running and failed tasks stay
        visible, then the next pending ones, and the finished ones are collapsed into one
        line of counts: the task a person waits for is never the one cut off.
        """
        with self._lock:
            states = list(self.tasks.values())
            now = time.perf_counter()
            done = sum(s.status not in (PENDING, RUNNING) for s in states)
            header = self._header(states, done, now)
            # The header, the bar line and a line of what was left out.
            room = max(self.console.height - 3, 1)
            shown = states
            hidden: dict[str, int] = {}
            if len(states) > room:
                keep = set(map(id, _by_priority(states)[: room - 1]))
                shown = [s for s in states if id(s) in keep]
                for s in states:
                    if id(s) not in keep:
                        hidden[s.status] = hidden.get(s.status, 0) + 1
            table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
            table.add_column(width=1)
            table.add_column(no_wrap=True)
            table.add_column(no_wrap=True)
            table.add_column(justify="right", no_wrap=True)
            table.add_column(overflow="ellipsis", no_wrap=True)
            for s in shown:
                glyph, _, style = _LOOK.get(s.status, ("?", "?", ""))
                mark: RenderableType = (
                    Spinner("dots", style=style) if s.status == RUNNING else Text(glyph, style)
                )
                elapsed = s.duration
                if s.status == RUNNING and s.started is not None:
                    elapsed = now - s.started
                note = s.error
                attempts = s.record.attempts if s.record is not None else s.attempts
                if s.status == RUNNING:
                    again = f"attempt {attempts}" if attempts > 1 else ""
                    note = " · ".join(part for part in (again, s.last_line) if part)
                table.add_row(
                    mark,
                    Text(s.name, style="bold" if s.status == RUNNING else ""),
                    Text(s.status, style=style),
                    format_duration(elapsed),
                    Text(note, style="red" if s.status == FAILED else "dim"),
                )
            parts: list[RenderableType] = [*header, table]
            if hidden:
                counts = ", ".join(f"{n} {status}" for status, n in hidden.items())
                parts.append(Text(f"… and {counts} not shown", style="dim"))
            return Group(*parts)

    def _header(self, states: list[TaskState], done: int, now: float) -> list[RenderableType]:
        if self._began is None:
            self._began = now
        elapsed = now - self._began
        title = Text.assemble(("Running ", "bold"), (self.pipeline or "pipeline", "bold cyan"))
        if not states:
            return [title]
        counts: dict[str, int] = {}
        for s in states:
            counts[s.status] = counts.get(s.status, 0) + 1
        line = Text(f" {done}/{len(states)} tasks done")
        for status in (SUCCEEDED, CACHED, RESUMED, FAILED, SKIPPED, RUNNING):
            if counts.get(status):
                line.append(f"  {counts[status]} {status}", _LOOK[status][2])
        line.append(f"  elapsed {format_duration(elapsed)}", "dim")
        if 0 < done < len(states):
            # The average task so far, times what is left: rough, and said to be.
            line.append(f"  ~{format_duration(elapsed / done * (len(states) - done))} left", "dim")
        bar = ProgressBar(total=len(states), completed=done, width=30)
        return [title, Columns([bar, line], padding=0)]

    def note_line(self, task: str, line: str) -> None:
        """``task`` logged ``line`` (called on the task's thread)."""
        with self._lock:
            state = self.tasks.get(task)
            if state is not None:
                state.last_line = line.splitlines()[0] if line else ""

    def _update(self, run: TaskRun) -> TaskState:
        state = self.tasks.setdefault(run.name, TaskState(run.name))
        state.status = display_status(run)
        state.attempts = run.attempts
        state.record = None
        state.duration = run.duration if run.status != SKIPPED else None
        if run.status == FAILED:
            state.error = error_line(run.error)
        elif run.status == SKIPPED:
            state.error = "an upstream task failed"
        return state

    def _print_line(self, state: TaskState) -> None:
        glyph, ascii_glyph, style = _LOOK.get(state.status, ("?", "?", ""))
        line = Text.assemble(
            (ascii_glyph if self._ascii else glyph, style),
            " ",
            (f"{state.name:<24}", "bold"),
            " ",
            (f"{state.status:<9}", style),
            f" {format_duration(state.duration):>9}",
        )
        if state.attempts > 1:
            line.append(f"  ({state.attempts} attempts)", "dim")
        if state.error:
            line.append(f"  {state.error}", "red" if state.status == FAILED else "dim")
        self.console.print(line, soft_wrap=True)


class _LastLines(logging.Handler):
    """Hands the display each log record emitted while a task runs on the emitting thread
    (the records the run keeps; the levels are the loggers' own)."""

    def __init__(self, progress: RunProgress) -> None:
        super().__init__()
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        running = current_task()
        if running is None:
            return
        logs, i = running
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the logging module's to report
            return
        self.progress.note_line(logs.names[i], message)
