"""The pipeline as a pure graph: who produces what, who consumes it, and in which order.

Built once per pipeline (and cached until a task is added); executors read it and never
recompute it, so a run costs O(tasks + edges), not O(tasks²).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from glacier.dataset import Dataset
from glacier.errors import CycleError, DuplicateProducerError, MissingInputError, UnknownTaskError

if TYPE_CHECKING:
    from glacier.task import Task


@dataclass(frozen=True, slots=True)
class Source:
    """Where a task input comes from: output ``position`` of task ``producer`` (an index into
    :attr:`DAG.tasks`), or storage when ``producer`` is ``-1``."""

    producer: int
    position: int
    dataset: Dataset


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

    @classmethod
    def build(cls, tasks: Iterable[Task]) -> DAG:
        """Validate the tasks and order them; raises a ``PipelineDefinitionError`` subclass."""
        task_list = list(tasks)
        producers: dict[Dataset, tuple[Task, int]] = {}
        for t in task_list:
            for pos, ds in enumerate(t.outputs):
                other = producers.get(ds)
                if other is not None:
                    raise DuplicateProducerError(
                        f"Dataset {ds.name!r} is produced by two tasks: {other[0].name!r} "
                        f"({other[0].location}) and {t.name!r} ({t.location}). A dataset has "
                        "one producer; give one of them a different output Dataset."
                    )
                producers[ds] = (t, pos)

        upstream_of: dict[str, list[Task]] = {}
        for t in task_list:
            ups: list[Task] = []
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
            upstream_of[t.name] = ups

        order = _topological(task_list, upstream_of)
        index = {t.name: i for i, t in enumerate(order)}
        prod_idx = {ds: (index[t.name], pos) for ds, (t, pos) in producers.items()}
        sources: list[tuple[tuple[str, Source], ...]] = []
        upstream: list[tuple[int, ...]] = []
        downstream_l: list[list[int]] = [[] for _ in order]
        datasets: dict[Dataset, None] = {}
        for i, t in enumerate(order):
            srcs = []
            for pname, ds in t.inputs:
                datasets.setdefault(ds)
                p = prod_idx.get(ds)
                srcs.append((pname, Source(p[0], p[1], ds) if p else Source(-1, 0, ds)))
            for ds in t.outputs:
                datasets.setdefault(ds)
            sources.append(tuple(srcs))
            up_idx = tuple(sorted({index[u.name] for u in upstream_of[t.name]}))
            upstream.append(up_idx)
            for u in up_idx:
                downstream_l[u].append(i)
        return cls(
            tasks=order,
            index=index,
            sources=sources,
            upstream=upstream,
            downstream=[tuple(d) for d in downstream_l],
            producers=prod_idx,
            datasets=list(datasets),
        )

    def __len__(self) -> int:
        return len(self.tasks)

    def needed_for(self, targets: Sequence[str | Task | Dataset] | None) -> list[int]:
        """Indexes (in topological order) of the tasks the targets need, targets included."""
        if not targets:
            return list(range(len(self.tasks)))
        wanted: set[int] = set()
        stack = [self._target_index(t) for t in targets]
        while stack:
            i = stack.pop()
            if i in wanted:
                continue
            wanted.add(i)
            stack.extend(self.upstream[i])
        return sorted(wanted)

    def _target_index(self, target: str | Task | Dataset) -> int:
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


def _topological(tasks: list[Task], upstream_of: dict[str, list[Task]]) -> list[Task]:
    """Kahn's algorithm, stable with respect to definition order; reports a cycle fully."""
    remaining = {t.name: len(upstream_of[t.name]) for t in tasks}
    down: dict[str, list[Task]] = {t.name: [] for t in tasks}
    for t in tasks:
        for u in upstream_of[t.name]:
            down[u.name].append(t)
    ready = [t for t in tasks if remaining[t.name] == 0]
    order: list[Task] = []
    head = 0
    while head < len(ready):
        t = ready[head]
        head += 1
        order.append(t)
        for d in down[t.name]:
            remaining[d.name] -= 1
            if remaining[d.name] == 0:
                ready.append(d)
    if len(order) != len(tasks):
        raise CycleError(_describe_cycle(tasks, upstream_of, {t.name for t in order}))
    return order


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
