"""What a rehearsal found: per task, its outcome, the datasets it wrote, the requests denied."""

from __future__ import annotations

from dataclasses import dataclass, field

from glacier.infra.rehearse.server import Denied


@dataclass(frozen=True)
class TaskReport:
    """One task's rehearsal. ``status`` is ``succeeded``, ``failed`` or ``not run`` (an
    earlier step failed, so the state machine would have stopped); ``assumed``: the roles
    the task assumed from its own (data in other accounts), in order."""

    task: str
    compute: str
    status: str
    attempts: int = 0
    seconds: float = 0.0
    written: tuple[str, ...] = ()
    denied: tuple[Denied, ...] = ()
    error: str = ""
    assumed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Succeeded with no request denied (a denial is a policy too narrow)."""
        return self.status == "succeeded" and not self.denied


@dataclass(frozen=True)
class Rehearsal:
    """A rehearsal of one environment's deployment (see :func:`glacier.infra.rehearse`)."""

    pipeline: str
    environment: str
    endpoint: str
    state_machine: str | None
    tasks: tuple[TaskReport, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Every task succeeded and IAM denied nothing."""
        return all(t.ok for t in self.tasks)

    def task(self, name: str) -> TaskReport:
        """The report of task ``name``."""
        return next(t for t in self.tasks if t.task == name)

    def to_text(self) -> str:
        """A readable report."""
        lines = [
            f"Rehearsal of pipeline {self.pipeline!r}, environment {self.environment!r} "
            f"on {self.endpoint}: {'passed' if self.ok else 'FAILED'}"
        ]
        # Columns as wide as their longest entry ("containerapp", a long task name).
        name = max((len(t.task) for t in self.tasks), default=0)
        kind = max((len(t.compute) for t in self.tasks), default=0)
        for t in self.tasks:
            lines.append(
                f"  {t.task:<{max(name, 20)}} {t.compute:<{max(kind, 7)}} {t.status:<10} "
                f"{t.seconds:6.1f} s  "
                f"wrote: {', '.join(t.written) or '-'}"
            )
            lines.extend(f"      assumed {role}" for role in t.assumed)
            lines.extend(f"      denied {d}" for d in t.denied)
            if t.error:
                lines.append(f"      error: {t.error}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)
