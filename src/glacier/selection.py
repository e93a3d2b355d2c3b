"""Which tasks a run runs: dbt-style selectors over a pipeline's DAG.

A selector names a task, a dataset (its producing task) or ``tag:NAME`` (every task tagged
``NAME``), with graph operators: ``+x`` adds what ``x`` needs (upstream), ``x+`` what needs
``x`` (downstream), ``+x+`` both. ``select`` is the union of its selectors (every task when
empty), ``exclude`` removes the union of its own.

A selected task whose input comes from an unselected task reads that input from storage. An
in-memory input has nowhere to be read from, so its producer runs too (and its own in-memory
inputs' producers): selecting ``report`` alone still works when ``report`` takes a frame held
in memory, and runs exactly what it must.

The CLI's ``--select``/``--exclude`` (and ``--only X``, which is ``--select +X``) and
``pipeline.run(select=..., exclude=...)`` both use :func:`select_tasks`.

Example:
    >>> from glacier import Dataset, Pipeline
    >>> p = Pipeline("etl")
    >>> raw, clean, report = Dataset("raw"), Dataset("clean"), Dataset("report")
    >>> @p.task(tags=["nightly"])
    ... def extract() -> raw: ...
    >>> @p.task()
    ... def tidy(r: raw) -> clean: ...
    >>> @p.task(tags=["nightly"])
    ... def summarise(c: clean) -> report: ...
    >>> names = lambda s: [p.dag.tasks[i].name for i in s.indexes]
    >>> names(select_tasks(p.dag, ["tidy+"]))   # tidy's input is in memory: extract runs too
    ['extract', 'tidy', 'summarise']
    >>> names(select_tasks(p.dag, ["tag:nightly"], exclude=["summarise"]))
    ['extract']
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glacier.errors import UnknownTaskError

if TYPE_CHECKING:
    from glacier.dag import DAG

__all__ = ["TaskSelection", "parse_selector", "select_tasks"]


@dataclass(frozen=True, slots=True)
class TaskSelection:
    """The indexes (in the DAG's topological order) of the tasks a run runs.

    Passed as a run's ``targets``, it runs exactly these tasks (targets otherwise add
    everything upstream).
    """

    indexes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Selector:
    """One parsed selector: what it names, and which graph operators apply."""

    name: str
    upstream: bool = False
    downstream: bool = False

    @property
    def tag(self) -> str | None:
        """The tag this selector names (``tag:NAME``), or ``None``."""
        return self.name[4:] if self.name.startswith("tag:") else None


def parse_selector(text: str) -> Selector:
    """``"+clean+"`` -> ``Selector("clean", upstream=True, downstream=True)``.

    Example:
        >>> parse_selector("+tag:nightly")
        Selector(name='tag:nightly', upstream=True, downstream=False)
    """
    raw = text.strip()
    upstream = raw.startswith("+")
    downstream = raw.endswith("+") and len(raw) > 1
    name = raw[1 if upstream else 0 : -1 if downstream else None]
    if not name or "+" in name:
        raise UnknownTaskError(
            f"Selector {text!r} is not TASK, DATASET or tag:NAME with an optional '+' before "
            "(upstream) or after (downstream), e.g. '+clean', 'clean+', 'tag:nightly'."
        )
    return Selector(name, upstream, downstream)


def select_tasks(
    dag: DAG, select: Iterable[str] | None, exclude: Iterable[str] | None = None
) -> TaskSelection:
    """The tasks ``select`` minus ``exclude`` name, plus the producers of their in-memory
    inputs (see the module docstring).

    Raises:
        UnknownTaskError: A selector names no task, dataset or tag; the message lists the
            close names.
    """
    chosen = set(range(len(dag.tasks)))
    selectors = [parse_selector(s) for s in select or ()]
    if selectors:
        chosen = set().union(*(_matches(dag, s) for s in selectors))
    for s in exclude or ():
        chosen -= _matches(dag, parse_selector(s))
    if not chosen:
        raise UnknownTaskError(
            f"The selection (select={list(select or [])}, exclude={list(exclude or [])}) "
            "leaves no task to run."
        )
    return TaskSelection(tuple(sorted(_with_memory_inputs(dag, chosen))))


def _matches(dag: DAG, selector: Selector) -> set[int]:
    base = _named(dag, selector)
    out = set(base)
    if selector.upstream:
        out |= _closure(base, dag.upstream)
    if selector.downstream:
        out |= _closure(base, dag.downstream)
    return out


def _named(dag: DAG, selector: Selector) -> set[int]:
    tag = selector.tag
    if tag is not None:
        found = {i for i, t in enumerate(dag.tasks) if tag in _tags(t.options.get("tags"))}
        if not found:
            known = sorted({str(x) for t in dag.tasks for x in _tags(t.options.get("tags"))})
            raise UnknownTaskError(
                f"No task is tagged {tag!r}.{_close(tag, known)} Select one of the tags "
                f"({', '.join(known) or 'none yet'}), or tag a task: @pipeline.task(tags=[...])."
            )
        return found
    name = selector.name
    i = dag.index.get(name)
    if i is not None:
        return {i}
    for ds, (producer, _) in dag.producers.items():
        if ds.name == name:
            return {producer}
    consumers = {
        i for i, srcs in enumerate(dag.sources) if any(s.dataset.name == name for _, s in srcs)
    }
    if consumers:
        # A source dataset (stored, produced elsewhere): downstream of it means its readers.
        return consumers if selector.downstream else set()
    known = sorted(set(dag.index) | {ds.name for ds in dag.datasets})
    raise UnknownTaskError(
        f"Selector {name!r} names no task or dataset of this pipeline.{_close(name, known)} "
        f"Tasks: {', '.join(sorted(dag.index)) or '(none)'}."
    )


def _tags(tags: Any) -> Iterable[Any]:
    return tags if tags else ()


def _close(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _closure(start: Iterable[int], edges: Sequence[tuple[int, ...]]) -> set[int]:
    seen: set[int] = set()
    stack = list(start)
    while stack:
        for j in edges[stack.pop()]:
            if j not in seen:
                seen.add(j)
                stack.append(j)
    return seen


def _with_memory_inputs(dag: DAG, chosen: set[int]) -> set[int]:
    out = set(chosen)
    stack = list(chosen)
    while stack:
        for _, src in dag.sources[stack.pop()]:
            producer = src.producer
            if producer >= 0 and producer not in out and not src.dataset.is_stored:
                out.add(producer)
                stack.append(producer)
    return out
