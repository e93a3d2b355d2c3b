"""The pipeline as a pure graph: who produces what, who consumes it, and in which order.

Built once per pipeline (and cached until a task is added); executors read it and never
recompute it, so a run costs O(tasks + edges), not O(tasks²).
"""

from __future__ import annotations

import functools
import gc
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from glacier.dataset import Dataset
from glacier.errors import (
    CycleError,
    DuplicateDatasetError,
    DuplicateProducerError,
    MissingInputError,
    UnknownTaskError,
)
from glacier.task import Task


@dataclass(frozen=True, slots=True)
class Source:
    """Where a task input comes from: output ``position`` of task ``producer`` (an index into
    :attr:`DAG.tasks`), or storage when ``producer`` is ``-1``."""

    producer: int
    position: int
    dataset: Dataset


@dataclass(frozen=True, slots=True)
class Selection:
    """The tasks one run needs, renumbered ``0..n-1`` in topological order, with the wiring
    an executor walks: ``sources[i]`` is ``(parameter, producer, position, dataset)`` per input
    (``producer`` -1: read from storage), ``downstream[i]`` the tasks consuming task ``i``."""

    tasks: tuple[Task, ...]
    sources: tuple[tuple[tuple[str, int, int, Dataset], ...], ...]
    downstream: tuple[tuple[int, ...], ...]
    upstream_count: tuple[int, ...]
    #: Every dataset the selected tasks consume or produce, each once.
    datasets: tuple[Dataset, ...]
    #: ``str(task.location)`` of each task, as its run records show it.
    locations: tuple[str, ...]
    #: Each task's name.
    names: tuple[str, ...]
    #: Whether each task returns exactly one dataset (not a tuple of them).
    single_output: tuple[bool, ...]
    #: Whether any task asks for injected resources.
    has_resources: bool
    #: Each task's output dataset, when every task has exactly one (else ``None``).
    single_outputs: tuple[Dataset, ...] | None


#: Distinct target sets whose :class:`Selection` a DAG remembers.
_SELECTIONS_KEPT = 8


_P = ParamSpec("_P")
_R = TypeVar("_R")


def collector_paused(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` with Python's cyclic garbage collector paused.

    Building a DAG or a run's selection allocates a few objects per task that all live as long
    as the pipeline, and runs no user code. Left on, the collector would walk the whole,
    growing heap again and again while they are made (a 100,000-task graph took 25x the time
    of a 10,000-task one, for 10x the tasks); paused, the build grows linearly. Only this
    library-internal work is covered: tasks always run with the collector as the user left it.
    """

    @functools.wraps(fn)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@dataclass(slots=True)
class DAG:
    """Tasks in topological order with their edges, indexed by position for fast execution."""

    tasks: list[Task]
    index: dict[str, int]
    sources: list[tuple[tuple[str, Source], ...]]
    upstream: list[tuple[int, ...]]
    downstream: list[tuple[int, ...]]
    producers: dict[Dataset, tuple[int, int]]
    datasets: list[Dataset] = field(default_factory=list)
    # A DAG never changes (the pipeline builds a new one when a task is added), so what runs
    # derive from it is computed once per target set rather than once per run.
    _selections: dict[tuple[int, ...], Selection] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    @collector_paused
    def build(cls, tasks: Iterable[Task]) -> DAG:
        """Validate the tasks and order them; raises a ``PipelineDefinitionError`` subclass."""
        # Tasks are numbered in definition order ("k") while ordering, then renumbered in
        # topological order ("i"); plain lists indexed by number keep a 10,000-task build
        # well under a second.
        task_list = list(tasks)
        producers: dict[Dataset, tuple[int, int]] = {}
        named: dict[str, tuple[Dataset, Task]] = {}
        for k, t in enumerate(task_list):
            for _, ds in t.inputs:
                _check_one_dataset_per_name(named, ds, t)
            for pos, ds in enumerate(t.outputs):
                _check_one_dataset_per_name(named, ds, t)
                other = producers.get(ds)
                if other is not None:
                    first = task_list[other[0]]
                    raise DuplicateProducerError(
                        f"Dataset {ds.name!r} is produced by two tasks: {first.name!r} "
                        f"({first.location}) and {t.name!r} ({t.location}). A dataset has "
                        "one producer; give one of them a different output Dataset."
                    )
                producers[ds] = (k, pos)

        upstream_of: list[list[int]] = []
        for t in task_list:
            ups: list[int] = []
            for pname, ds in t.inputs:
                prod = producers.get(ds)
                if prod is not None:
                    if prod[0] not in ups:
                        ups.append(prod[0])
                elif not ds.is_stored:
                    raise MissingInputError(
                        f"Task {t.name!r} ({t.location}) consumes dataset {ds.name!r} "
                        f"(parameter {pname!r}), but no task produces it and it has no "
                        f"storage. Add a task returning '-> {ds.name}', or give it storage: "
                        f"Dataset({ds.name!r}, storage=provider.bucket(...))."
                    )
            upstream_of.append(ups)

        order, consumers = _topological(task_list, upstream_of)
        position = [0] * len(task_list)
        for i, k in enumerate(order):
            position[k] = i
        ordered = [task_list[k] for k in order]
        index = {t.name: i for i, t in enumerate(ordered)}
        prod_idx = {ds: (position[k], pos) for ds, (k, pos) in producers.items()}
        sources: list[tuple[tuple[str, Source], ...]] = []
        upstream: list[tuple[int, ...]] = []
        downstream: list[tuple[int, ...]] = []
        datasets: dict[Dataset, None] = {}
        for k, t in zip(order, ordered, strict=True):
            srcs = []
            for pname, ds in t.inputs:
                datasets.setdefault(ds)
                p = prod_idx.get(ds)
                srcs.append((pname, Source(p[0], p[1], ds) if p else Source(-1, 0, ds)))
            for ds in t.outputs:
                datasets.setdefault(ds)
            sources.append(tuple(srcs))
            upstream.append(tuple(sorted([position[u] for u in upstream_of[k]])))
            downstream.append(tuple(sorted([position[d] for d in consumers[k]])))
        return cls(
            tasks=ordered,
            index=index,
            sources=sources,
            upstream=upstream,
            downstream=downstream,
            producers=prod_idx,
            datasets=list(datasets),
        )

    def __len__(self) -> int:
        return len(self.tasks)

    def needed_for(self, targets: Sequence[str | Task | Dataset] | None) -> list[int] | None:
        """Indexes (in topological order) of the tasks the targets need, targets included;
        ``None`` for every task (no targets)."""
        if not targets:
            return None
        wanted: set[int] = set()
        stack = [self._target_index(t) for t in targets]
        while stack:
            i = stack.pop()
            if i in wanted:
                continue
            wanted.add(i)
            stack.extend(self.upstream[i])
        return sorted(wanted)

    def selection(self, needed: Sequence[int] | None) -> Selection:
        """The :class:`Selection` of the tasks at indexes ``needed`` (from :meth:`needed_for`;
        ``None``: every task)."""
        # () stands for every task (``needed`` holds distinct indexes): the usual run looks its
        # selection up without hashing a thousand indexes.
        key = () if needed is None or len(needed) == len(self.tasks) else tuple(needed)
        found = self._selections.get(key)
        if found is not None:
            return found
        return self._select(key)

    @collector_paused
    def _select(self, key: tuple[int, ...]) -> Selection:
        # Running everything keeps the DAG's numbering.
        local = {g: k for k, g in enumerate(key)} if key else None
        key = key or tuple(range(len(self.tasks)))
        datasets: dict[Dataset, None] = {}
        sources: list[tuple[tuple[str, int, int, Dataset], ...]] = []
        for g in key:
            srcs: list[tuple[str, int, int, Dataset]] = []
            for pname, s in self.sources[g]:
                datasets.setdefault(s.dataset)
                producer = s.producer
                if producer >= 0 and local is not None:
                    # A producer outside the selection ran elsewhere (a deployed task runs
                    # alone): its output is read from where that run left it.
                    producer = local.get(producer, -1)
                srcs.append((pname, producer, s.position, s.dataset))
            sources.append(tuple(srcs))
            for ds in self.tasks[g].outputs:
                datasets.setdefault(ds)
        if local is None:
            downstream = tuple(self.downstream)
        else:
            downstream = tuple(
                tuple(local[d] for d in self.downstream[g] if d in local) for g in key
            )
        tasks = tuple(self.tasks[g] for g in key)
        single = tuple(len(t.outputs) == 1 and not t.returns_tuple for t in tasks)
        found = Selection(
            tasks=tasks,
            sources=tuple(sources),
            downstream=downstream,
            upstream_count=tuple(
                len(self.upstream[g])
                if local is None
                else sum(1 for u in self.upstream[g] if u in local)
                for g in key
            ),
            datasets=tuple(datasets),
            locations=tuple(str(t.location) for t in tasks),
            names=tuple(t.name for t in tasks),
            single_output=single,
            has_resources=any(t.resources for t in tasks),
            single_outputs=tuple(t.outputs[0] for t in tasks) if all(single) else None,
        )
        if len(self._selections) >= _SELECTIONS_KEPT:
            self._selections.clear()  # atomic, unlike evicting one while another run reads
        self._selections[() if local is None else key] = found
        return found

    def _target_index(self, target: str | Task | Dataset) -> int:
        if not isinstance(target, str | Task | Dataset):
            raise UnknownTaskError(
                f"Target {target!r} of type {type(target).__name__} is not a task: give a "
                "task name, a Task or a produced Dataset (e.g. targets=['clean'])."
            )
        if isinstance(target, Dataset):
            prod = self.producers.get(target)
            if prod is None:
                raise UnknownTaskError(
                    f"Target dataset {target.name!r} is not produced by any task of this pipeline."
                )
            return prod[0]
        name = target if isinstance(target, str) else target.name
        i = self.index.get(name)
        if i is None:
            for ds, (pi, _) in self.producers.items():
                if ds.name == name:
                    return pi
            raise UnknownTaskError(
                f"Target {name!r} is neither a task nor a produced dataset of this pipeline. "
                f"Tasks: {', '.join(sorted(self.index)) or '(none)'}."
            )
        return i

    def edges(self) -> list[tuple[str, str, str]]:
        """``(producer task, consumer task, dataset name)`` for every data dependency."""
        out = []
        for i, srcs in enumerate(self.sources):
            for _, src in srcs:
                if src.producer >= 0:
                    out.append(
                        (self.tasks[src.producer].name, self.tasks[i].name, src.dataset.name)
                    )
        return out


def _check_one_dataset_per_name(
    named: dict[str, tuple[Dataset, Task]], ds: Dataset, task: Task
) -> None:
    """Refuse two different datasets of one name: deployed, they would share storage paths
    (``artifacts/<name>/``), run records and resource names, so one task could read data
    another task wrote for someone else."""
    seen = named.get(ds.name)
    if seen is None:
        named[ds.name] = (ds, task)
        return
    other, other_task = seen
    if other is ds:
        return
    raise DuplicateDatasetError(
        f"Two different datasets are named {ds.name!r}: {other!r} declared at "
        f"{other.declared_at} (used by task {other_task.name!r}) and {ds!r} declared at "
        f"{ds.declared_at} (used by task {task.name!r}). A dataset name is unique in a "
        "pipeline: declare the dataset once and use that object in both tasks, or rename one."
    )


def _topological(
    tasks: list[Task], upstream_of: list[list[int]]
) -> tuple[list[int], list[list[int]]]:
    """Kahn's algorithm over definition numbers, stable with respect to definition order;
    reports a cycle fully. Returns the order and, for each task, the tasks consuming it."""
    remaining = [len(ups) for ups in upstream_of]
    consumers: list[list[int]] = [[] for _ in tasks]
    for k, ups in enumerate(upstream_of):
        for u in ups:
            consumers[u].append(k)
    order = [k for k, n in enumerate(remaining) if n == 0]
    head = 0
    while head < len(order):
        k = order[head]
        head += 1
        for d in consumers[k]:
            remaining[d] -= 1
            if remaining[d] == 0:
                order.append(d)
    if len(order) != len(tasks):
        by_name = {
            t.name: [tasks[u] for u in ups] for t, ups in zip(tasks, upstream_of, strict=True)
        }
        raise CycleError(_describe_cycle(tasks, by_name, {tasks[k].name for k in order}))
    return order, consumers


def _describe_cycle(tasks: list[Task], upstream_of: dict[str, list[Task]], done: set[str]) -> str:
    by_name = {t.name: t for t in tasks}
    start = next(t for t in tasks if t.name not in done)
    path: list[Task] = []
    on_path: dict[str, int] = {}
    node = start
    while node.name not in on_path:
        on_path[node.name] = len(path)
        path.append(node)
        node = next(u for u in upstream_of[node.name] if u.name not in done)
    cycle = path[on_path[node.name] :]
    cycle.reverse()  # producer -> consumer reads naturally
    # Start at the task defined first, so the message is stable and reads top-down.
    order = {t.name: i for i, t in enumerate(tasks)}
    first = min(range(len(cycle)), key=lambda k: order[cycle[k].name])
    cycle = cycle[first:] + cycle[:first]
    cycle.append(cycle[0])
    steps = []
    for a, b in itertools.pairwise(cycle):
        ds = next(ds for _, ds in b.inputs if ds in a.outputs)
        steps.append(f"{a.name} --{ds.name}--> ")
    chain = "".join(steps) + cycle[-1].name
    where = "; ".join(f"{n} at {by_name[n].location}" for n in dict.fromkeys(t.name for t in cycle))
    return (
        f"The tasks form a cycle: {chain}. A task cannot depend on its own output, directly "
        f"or through others ({where}). Break the cycle by writing to a new Dataset."
    )
