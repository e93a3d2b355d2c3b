"""The order a state machine runs its tasks in, read from its Amazon States Language definition.

moto ships an interpreter of the language (``moto.stepfunctions.parser``, from LocalStack),
but it dispatches a ``lambda:invoke`` state to moto's own Lambda, which runs code only in
Docker, and ``ecs:runTask.sync``/``glue:startJobRun.sync`` states to services moto does not
run at all. The states Glacier generates are few (``Task``, ``Parallel`` of single-task
branches, ``Pass``), so the rehearsal follows them itself: from ``StartAt`` along ``Next``, a
``Parallel`` state's branches together, a task state's ``Retry`` honoured for the errors it
names (a task's process failing is the task's own error, named by its exception's type, as
Lambda names a function error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glacier.errors import InfraError


@dataclass(frozen=True)
class TaskState:
    """A ``Task`` state: what it starts (a function ARN, a job name, a task definition) and
    its ``Retry`` rules, in order: ``(ErrorEquals, MaxAttempts)`` each."""

    name: str
    resource: str
    target: str
    rules: tuple[tuple[tuple[str, ...], int], ...] = ()

    @property
    def attempts(self) -> int:
        """The most attempts any of its rules allows (the first included)."""
        return 1 + max((n for _, n in self.rules), default=0)

    def retries(self, error: str, attempts: int) -> bool:
        """Whether the state starts the task again after its ``attempts``-th attempt failed
        with ``error`` (``Type: message``): as Step Functions does, the first rule naming the
        error decides (``States.ALL``, ``States.TaskFailed`` or the error's type, with or
        without its module) and allows its ``MaxAttempts`` retries."""
        kind = error.split(":", 1)[0].strip()
        names = {kind, kind.rsplit(".", 1)[-1], "States.ALL", "States.TaskFailed"}
        for errors, most in self.rules:
            if names & set(errors):
                return attempts <= most
        return False


def steps(definition: Mapping[str, Any]) -> list[list[TaskState]]:
    """The definition's task states, step by step; the states of one step run together."""
    out: list[list[TaskState]] = []
    for state_name, state in _chain(definition):
        kind = state.get("Type")
        if kind == "Task":
            out.append([_task(state_name, state)])
        elif kind == "Parallel":
            out.append([t for branch in state["Branches"] for step in steps(branch) for t in step])
        elif kind not in ("Pass", "Succeed"):
            raise InfraError(
                f"State {state_name!r} is a {kind} state, which Glacier does not generate; "
                "a rehearsal follows Task, Parallel and Pass states."
            )
    return out


def _chain(definition: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    states = definition["States"]
    name: str | None = definition["StartAt"]
    chain = []
    while name is not None:
        state = states[name]
        chain.append((name, state))
        name = None if state.get("End") else state.get("Next")
    return chain


def _task(name: str, state: Mapping[str, Any]) -> TaskState:
    params = state.get("Parameters") or {}
    target = params.get("FunctionName") or params.get("JobName") or params.get("TaskDefinition")
    rules = tuple(
        (tuple(str(e) for e in r.get("ErrorEquals", ())), int(r.get("MaxAttempts", 3)))
        for r in state.get("Retry") or ()
    )
    return TaskState(name, str(state["Resource"]), str(target or ""), rules)
