"""The data checks of one run: which task's outputs have which checks, when they run, and
what a failure stops.

A run plans its checks once (:meth:`RunChecks.plan`, on the side that prepares the run, so a
Dask worker gets them ready): each check's severity as the environment's ``[checks]`` settings
make it, and the order a ``relationships`` check needs — the producer of the dataset it refers
to runs before the task whose output it checks, so the check sees both and a failure still
stops the consumers before they start. After a task's outputs are written, the executors'
shared per-task path (:class:`~glacier.executors.base.PreparedRun`) evaluates their checks
(:func:`glacier.checks.evaluate.evaluate`) and calls :func:`gate`: a failed check of severity
``error`` fails the task with :class:`~glacier.errors.CheckFailedError`, so its consumers are
skipped, as in ``dbt build``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glacier.checks.builtins import Check, RelationshipsCheck
from glacier.checks.evaluate import FAILED, WARNED, CheckResult, evaluate
from glacier.errors import CheckDefinitionError, CheckFailedError, ConfigError
from glacier.settings.checks import ALL_CHECKS

if TYPE_CHECKING:
    from glacier.dataset import Dataset
    from glacier.pipeline import Pipeline
    from glacier.settings.checks import CheckSettings
    from glacier.task import Task

__all__ = ["RunChecks", "check_stored", "gate", "with_settings"]


@dataclass(frozen=True, slots=True)
class OutputChecks:
    """The checks of one output of a task: its position, its dataset, its checks (with the
    environment's severities)."""

    position: int
    dataset: Dataset
    checks: tuple[Check, ...]


class RunChecks:
    """The checks of a run's tasks, by task index (``None``: that task's outputs have none)."""

    __slots__ = ("by_task", "producers", "targets")

    def __init__(
        self,
        by_task: list[tuple[OutputChecks, ...] | None],
        producers: dict[Dataset, tuple[int, int]],
        targets: tuple[Dataset, ...],
    ) -> None:
        self.by_task = by_task
        #: Where each dataset a ``relationships`` check refers to is produced in this run:
        #: (task index, output position).
        self.producers = producers
        #: The datasets ``relationships`` checks refer to (read from storage when not
        #: produced in this run).
        self.targets = targets

    @classmethod
    def plan(
        cls, pipeline: Pipeline, tasks: Sequence[Task], settings: CheckSettings | None
    ) -> RunChecks | None:
        """The run's checks, or ``None`` when none of its tasks' outputs has any."""
        if not getattr(pipeline, "has_checks", True):
            return None  # the usual case, decided once per pipeline shape
        checks_of = getattr(pipeline, "checks_of", None)
        if checks_of is None:  # a data-flow pipeline: its datasets carry their own checks
            checks_of = _own_checks
        by_task: list[tuple[OutputChecks, ...] | None] = []
        producers: dict[Dataset, tuple[int, int]] = {}
        targets: dict[Dataset, None] = {}
        for i, task in enumerate(tasks):
            outs = []
            for pos, ds in enumerate(task.outputs):
                producers[ds] = (i, pos)
                checks = checks_of(ds)
                if checks:
                    outs.append(OutputChecks(pos, ds, with_settings(ds.name, checks, settings)))
                    for c in checks:
                        if isinstance(c, RelationshipsCheck):
                            targets.setdefault(c.to)
            by_task.append(tuple(outs) or None)
        if not any(by_task):
            return None
        needed = {ds: producers[ds] for ds in targets if ds in producers}
        return cls(by_task, needed, tuple(targets))

    def order(self, downstream: list[tuple[int, ...]], upstream_count: list[int]) -> None:
        """Make each task whose output has a ``relationships`` check wait for the producer of
        the dataset it refers to (edges added to the run's ``downstream`` lists and
        ``upstream_count``, in place)."""
        for i, outs in enumerate(self.by_task):
            for out in outs or ():
                for c in out.checks:
                    if not isinstance(c, RelationshipsCheck) or c.to not in self.producers:
                        continue
                    p = self.producers[c.to][0]
                    if p == i or i in downstream[p]:
                        continue
                    if _reaches(downstream, i, p):
                        raise CheckDefinitionError(
                            f"Dataset {out.dataset.name!r}: check {c.name} refers to "
                            f"{c.to.name!r}, which is made from {out.dataset.name!r} (downstream "
                            "of it); a check runs before its dataset's consumers, so it can "
                            "only refer to datasets that do not depend on it."
                        )
                    downstream[p] = (*downstream[p], i)
                    upstream_count[i] += 1

    def run(
        self, i: int, outputs: Sequence[Any], read: Callable[[Dataset], Any], run_outputs: Any
    ) -> list[CheckResult]:
        """Evaluate the checks of task ``i``'s ``outputs``; ``run_outputs[j]`` are task
        ``j``'s outputs in this run and ``read(dataset)`` scans a stored dataset."""

        def lookup(ds: Dataset) -> Any:
            where = self.producers.get(ds)
            if where is not None:
                try:  # a list here, the upstream outputs a Dask worker has (a dict) there
                    outs = run_outputs[where[0]]
                except (KeyError, IndexError):
                    outs = None
                if outs is not None:
                    return outs[where[1]]
            try:
                return read(ds)
            except KeyError:  # not stored: nothing to read
                return None

        results: list[CheckResult] = []
        for out in self.by_task[i] or ():
            results.extend(
                evaluate(out.dataset.name, out.checks, outputs[out.position], lookup=lookup)
            )
        return results


def gate(task: Task, results: Sequence[CheckResult]) -> None:
    """Raise :class:`CheckFailedError` when a check of severity ``error`` failed."""
    failed = [r for r in results if r.status == FAILED]
    if not failed:
        return
    what = "; ".join(f"{r.dataset}: {r.check} ({r.message})" for r in failed)
    raise CheckFailedError(
        f"Task {task.name!r} ({task.location}): {len(failed)} data check(s) failed: {what}. "
        "Its outputs were written; its consumers are skipped. Fix the data or the task, or "
        "relax the check (severity='warn', or the settings' [checks] section)."
    )


def with_settings(
    dataset: str, checks: Sequence[Check], settings: CheckSettings | None
) -> tuple[Check, ...]:
    """``checks`` of ``dataset`` with the severities ``settings`` give them; a check name
    the settings give that the dataset lacks is refused (it would change nothing)."""
    if settings is None:
        return tuple(checks)
    named: Mapping[str, str] = settings.datasets.get(dataset, {})
    unknown = sorted(set(named) - {c.name for c in checks} - {ALL_CHECKS})
    if unknown:
        raise ConfigError(
            f"The settings' [checks.datasets.{dataset}] name check(s) {unknown}, which dataset "
            f"{dataset!r} does not have (its checks: {[c.name for c in checks]}); fix the "
            "names (as `glacier runs show` prints them) or remove them."
        )
    return tuple(c.with_severity(settings.severity_of(dataset, c.name, c.severity)) for c in checks)


def check_stored(
    pipeline: Pipeline, env: Any, select: Sequence[str] = ()
) -> tuple[list[CheckResult], list[Dataset]]:
    """Evaluate the checks of the pipeline's stored datasets on what is stored, running no
    task (``glacier test``, like ``dbt test``); ``select`` keeps the datasets whose name
    matches one of its shell patterns (``orders``, ``stg_*``). Returns the results and the
    datasets with checks left out because they are not stored (they live in memory only).

    Raises:
        ConfigError: a ``select`` pattern matching no dataset with checks.
    """
    import fnmatch

    dag = pipeline.dag  # validates the pipeline and its checks' references
    settings = getattr(getattr(env, "settings", None), "checks", None)
    checked = [ds for ds in dag.datasets if pipeline.checks_of(ds)]
    if select:
        names = [ds.name for ds in checked]
        unmatched = [p for p in select if not fnmatch.filter(names, p)]
        if unmatched:
            raise ConfigError(
                f"--select {unmatched[0]!r} matches no dataset with checks in pipeline "
                f"{pipeline.name!r} (those with checks: {names or '(none)'})."
            )
        checked = [ds for ds in checked if any(fnmatch.fnmatch(ds.name, p) for p in select)]
    stored = [ds for ds in checked if ds.is_stored]
    targets = {
        c.to: None
        for ds in stored
        for c in pipeline.checks_of(ds)
        if isinstance(c, RelationshipsCheck) and c.to.is_stored
    }
    buckets = env.buckets_for(list(dict.fromkeys([*stored, *targets])))

    def lookup(ds: Dataset) -> Any:
        bucket = buckets.get(ds)
        return None if bucket is None else bucket.load()

    results: list[CheckResult] = []
    for ds in stored:
        checks = with_settings(ds.name, pipeline.checks_of(ds), settings)
        try:
            data = buckets[ds].load()
        except Exception as exc:  # nothing stored yet, or unreadable: each check says so
            data = f"nothing readable is stored ({type(exc).__name__}: {exc})"
        if isinstance(data, str):
            results.extend(
                CheckResult(ds.name, c.name, c.severity, _status(c), None, (), data, 0, c.columns)
                for c in checks
            )
            continue
        results.extend(evaluate(ds.name, checks, data, lookup=lookup))
    return results, [ds for ds in checked if not ds.is_stored]


def _status(check: Check) -> str:
    return FAILED if check.severity == "error" else WARNED


def _own_checks(ds: Dataset) -> tuple[Check, ...]:
    return tuple(getattr(ds, "checks", ()))


def _reaches(downstream: Sequence[Sequence[int]], start: int, goal: int) -> bool:
    """Whether task ``goal`` is downstream of task ``start``."""
    seen = {start}
    stack = [start]
    while stack:
        for d in downstream[stack.pop()]:
            if d == goal:
                return True
            if d not in seen:
                seen.add(d)
                stack.append(d)
    return False
