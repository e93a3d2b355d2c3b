"""The live display of ``glacier run`` (:class:`glacier.progress.RunProgress`), on a
terminal and off one."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from glacier.progress import RunProgress
from glacier.result import FAILED, SKIPPED, SUCCEEDED, RunResult, TaskRun


def test_progress_live_display_tracks_every_state() -> None:
    buffer = StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    progress = RunProgress(console, refresh_per_second=50)
    assert progress.live_mode
    with progress:
        progress.on_run_start("demo", "run-1", ["a", "b", "c", "d"])
        a, b = TaskRun("a"), TaskRun("b")
        progress.on_task_start(a)
        progress.on_task_start(b)
        text = _render(progress)
        assert "running" in text and "pending" in text and "0/4 tasks done" in text
        a.status, a.attempts, a.duration = SUCCEEDED, 1, 0.25
        progress.on_task_end(a)
        b.status, b.attempts, b.error = FAILED, 3, ValueError("bad\nsecond line")
        progress.on_task_end(b)
        c = TaskRun("c", status=SUCCEEDED, cached=True, attempts=0)
        progress.on_task_start(c)
        progress.on_task_end(c)
        d = TaskRun("d", status=SKIPPED)
        progress.on_run_end(RunResult("demo", "run-1", {r.name: r for r in (a, b, c, d)}))
        text = _render(progress)
    assert "4/4 tasks done" in text
    assert "succeeded" in text and "250 ms" in text
    assert "failed" in text and "ValueError: bad" in text and "second line" not in text
    assert "cached" in text and "skipped" in text
    assert progress.tasks["d"].status == SKIPPED


def test_progress_without_a_terminal_prints_lines() -> None:
    buffer = StringIO()
    progress = RunProgress(Console(file=buffer, width=100))
    assert not progress.live_mode
    with progress:
        progress.on_run_start("demo", "r", ["a", "b"])
        a = TaskRun("a")
        progress.on_task_start(a)
        a.status, a.attempts, a.duration = FAILED, 2, 1.5
        a.error = KeyError("x")
        progress.on_task_end(a)
        b = TaskRun("b", status=SKIPPED)
        progress.on_run_end(RunResult("demo", "r", {"a": a, "b": b}))
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("✗ a") and "1.50 s" in lines[0] and "(2 attempts)" in lines[0]
    assert "KeyError" in lines[0]
    assert lines[1].startswith("↷ b") and "skipped" in lines[1]


def _render(progress: RunProgress) -> str:
    console = Console(file=StringIO(), width=100, color_system=None)
    console.print(progress.render())
    assert isinstance(console.file, StringIO)
    return console.file.getvalue()


def test_a_short_screen_keeps_running_and_failed_tasks_in_view() -> None:
    console = Console(file=StringIO(), force_terminal=True, width=100, height=24)
    progress = RunProgress(console, live=True)
    names = [f"task_{i:02d}" for i in range(30)]
    progress.on_run_start("wide", "run-1", names)
    for name in names[:25]:
        run = TaskRun(name, status=SUCCEEDED, attempts=1, duration_ns=10_000_000)
        progress.on_task_start(run)
        progress.on_task_end(run)
    progress.on_task_start(failed := TaskRun("task_25"))
    failed.status, failed.error = FAILED, ValueError("bad row")
    progress.on_task_end(failed)
    progress.on_task_start(TaskRun("task_28"))  # running, late in the list

    lines = _render(progress).splitlines()
    text = "\n".join(lines)
    assert len(lines) <= 24
    assert "task_28" in text and "running" in text
    assert "task_25" in text and "ValueError: bad row" in text
    assert "26/30 tasks done" in text and "25 succeeded" in text and "1 failed" in text
    assert "left" in text and "elapsed" in text  # the time so far and the estimate
    assert "not shown" in text and "succeeded not shown" in text
    assert "task_00" not in text  # the finished ones are what collapses


def test_a_running_task_shows_its_latest_log_line() -> None:
    import logging

    from glacier.task_logs import RunLogs, begin, capturing, end

    console = Console(file=StringIO(), force_terminal=True, width=120)
    progress = RunProgress(console, refresh_per_second=50)
    logs = RunLogs("run-1", "dev", ["load"], [None])
    with progress, capturing():
        progress.on_run_start("demo", "run-1", ["load"])
        run = TaskRun("load")
        progress.on_task_start(run)
        begin(logs, 0)
        logging.getLogger("etl.load").warning("loaded %d of 9 files", 4)
        end()
        logging.getLogger("etl").warning("not from a task")  # no task: not shown
        text = _render(progress)
        assert "loaded 4 of 9 files" in text and "not from a task" not in text
        run.status, run.attempts = SUCCEEDED, 1
        progress.on_task_end(run)
        assert "loaded 4 of 9 files" not in _render(progress)  # finished: its row is quiet
    assert progress._lines not in logging.getLogger().handlers  # removed with the display
