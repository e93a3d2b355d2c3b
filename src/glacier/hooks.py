"""Run lifecycle hooks: progress displays, tracing and metrics plug in here.

A hook is any object with some of these methods; the executor calls the ones it has. No
hooks, no cost: the executor checks once per run.

``on_task_start`` and ``on_task_end`` get the task's record as it is at that moment (a
:class:`~glacier.result.TaskRun` copy: keep it, it will not change); ``on_run_end`` gets the
:class:`~glacier.result.RunResult`. With the local executor, hooks of tasks that run on
worker threads are called from those threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from glacier.errors import ConfigError

if TYPE_CHECKING:
    from glacier.result import RunResult, TaskRun


@runtime_checkable
class RunHooks(Protocol):
    """The methods a hook may implement (all optional in practice)."""

    def on_run_start(self, pipeline: str, run_id: str, tasks: list[str]) -> None: ...

    def on_task_start(self, run: TaskRun) -> None: ...

    def on_task_end(self, run: TaskRun) -> None: ...

    def on_run_end(self, result: RunResult) -> None: ...


#: The methods a run hook may define; an object with none of them is not a hook.
HOOK_METHODS = ("on_run_start", "on_task_start", "on_task_end", "on_run_end")


class HookSet:
    """Fans each call out to the hooks that define it."""

    def __init__(self, hooks: list[object]) -> None:
        for hook in hooks:
            if not any(hasattr(hook, m) for m in HOOK_METHODS):
                raise ConfigError(
                    f"hooks=[...] holds {hook!r} of type {type(hook).__name__}, which is not a "
                    f"run hook: a hook is an object with one or more of the methods "
                    f"{', '.join(HOOK_METHODS)} (see glacier.hooks.RunHooks)."
                )
        self._start = [h.on_task_start for h in hooks if hasattr(h, "on_task_start")]
        self._end = [h.on_task_end for h in hooks if hasattr(h, "on_task_end")]
        self._run_start = [h.on_run_start for h in hooks if hasattr(h, "on_run_start")]
        self._run_end = [h.on_run_end for h in hooks if hasattr(h, "on_run_end")]

    def run_start(self, pipeline: str, run_id: str, tasks: list[str]) -> None:
        for f in self._run_start:
            f(pipeline, run_id, tasks)

    def task_start(self, run: TaskRun) -> None:
        for f in self._start:
            f(run)

    def task_end(self, run: TaskRun) -> None:
        for f in self._end:
            f(run)

    def run_end(self, result: RunResult) -> None:
        for f in self._run_end:
            f(result)
