"""Pictures of a pipeline's DAG: Mermaid text, Graphviz DOT, PNG and SVG.

Tasks and datasets are both nodes, so the picture shows the data, not only the order: each
task carries its compute hint (``lambda 512 MB``, ``ecs 512 cpu / 1024 MB``, ``in-process``),
each dataset its storage URI and the environment that owns it; edges run
task -> dataset -> task::

    from glacier.graph import pipeline_graph, render, to_mermaid

    print(to_mermaid(pipeline_graph(pipeline)))   # paste into Markdown
    render(pipeline, "dag.png")                   # needs Graphviz's ``dot``

Mermaid and DOT text need nothing installed; PNG and SVG need the ``graphviz`` Python package
(``pip install 'glacier-pipelines[graph]'``) and Graphviz's ``dot`` program.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glacier.dataset import is_raw_bucket, is_raw_resource
from glacier.errors import GlacierError
from glacier.extras import require
from glacier.locations import Site, locate_storage

if TYPE_CHECKING:
    from glacier.dataset import Dataset
    from glacier.environment import Environment
    from glacier.flow import FlowPipeline
    from glacier.pipeline import Pipeline
    from glacier.task import Task

#: File suffix -> output format of :func:`render`.
FORMATS = {".png": "png", ".svg": "svg", ".mmd": "mermaid", ".dot": "dot", ".gv": "dot"}

# A compute hint's config class names the service (the same config serves every cloud).
_COMPUTE_NAMES = {
    "LambdaConfig": "lambda",
    "EcsConfig": "ecs",
    "GlueConfig": "glue",
    "DatabricksConfig": "databricks",
}


class GraphRenderError(GlacierError):
    """The DAG picture cannot be written (unknown format, Graphviz missing, ...)."""


@dataclass(frozen=True, slots=True)
class Node:
    """A task or a dataset in the picture.

    ``title`` is the task or dataset name; ``details`` are the smaller lines under it.
    """

    id: str
    kind: str  # "task" | "dataset"
    title: str
    details: tuple[str, ...] = ()
    environment: str | None = None
    stored: bool = False


@dataclass(frozen=True, slots=True)
class Edge:
    """``source`` writes ``target`` (task -> dataset) or ``target`` reads ``source``."""

    source: str
    target: str


@dataclass(frozen=True, slots=True)
class PipelineGraph:
    """The picture's content as plain data; the renderers only lay it out."""

    name: str
    description: str = ""
    environment: str | None = None
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = field(default_factory=tuple)

    def node(self, node_id: str) -> Node:
        """The node with id ``node_id``."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


# -- building --------------------------------------------------------------------------------


def pipeline_graph(pipeline: Pipeline | FlowPipeline) -> PipelineGraph:
    """The tasks, datasets and edges of ``pipeline`` (a data-flow pipeline is traced).

    Example:
        >>> from glacier import Dataset, Pipeline
        >>> p = Pipeline("etl")
        >>> raw = Dataset("raw")
        >>> @p.task()
        ... def extract() -> raw:
        ...     return 1
        >>> [n.id for n in pipeline_graph(p).nodes]
        ['task:extract', 'dataset:raw']
    """
    from glacier.flow import FlowPipeline
    from glacier.runner import environment_of

    graph = pipeline.trace() if isinstance(pipeline, FlowPipeline) else pipeline
    env = environment_of(pipeline)
    dag = graph.dag
    nodes: list[Node] = []
    edges: list[Edge] = []
    seen: dict[Dataset, str] = {}

    def dataset_id(ds: Dataset) -> str:
        node_id = seen.get(ds)
        if node_id is None:
            node_id = seen[ds] = f"dataset:{ds.name}"
            nodes.append(_dataset_node(node_id, ds, env))
        return node_id

    for task in dag.tasks:
        task_id = f"task:{task.name}"
        nodes.append(
            Node(task_id, "task", task.name, (compute_hint(task),), env_name(task.env or env))
        )
        for ds in task.input_datasets:
            edges.append(Edge(dataset_id(ds), task_id))
        for ds in task.outputs:
            edges.append(Edge(task_id, dataset_id(ds)))
    return PipelineGraph(
        name=graph.name,
        description=graph.description,
        environment=env_name(env),
        nodes=tuple(nodes),
        edges=tuple(edges),
    )


def env_name(env: Environment | None) -> str | None:
    """An environment's name, tolerating objects that are not :class:`Environment`."""
    return None if env is None else str(getattr(env, "name", None) or "") or None


def compute_hint(task: Task) -> str:
    """Where the task runs once deployed: ``lambda 512 MB``, ``ecs 256 cpu / 512 MB``, ...

    ``default compute`` when the task has no compute hint (the infrastructure picks).
    """
    compute = task.compute
    if compute is None:
        return "default compute"
    if is_raw_resource(compute):
        return f"pulumi {type(compute).__module__.split('.', 1)[-1]}.{type(compute).__name__}"
    config: Any = getattr(compute, "config", None)
    service = _COMPUTE_NAMES.get(type(config).__name__) or str(
        getattr(compute, "environment_type", None) or getattr(compute, "kind", "compute")
    )
    size = ""
    if config is None:
        pass
    elif service == "lambda":
        size = f"{config.memory} MB, {config.timeout} s"
    elif service == "ecs":
        size = f"{config.cpu} cpu / {config.memory} MB"
    elif service == "glue":
        size = f"{config.num_workers} x {config.worker_type}"
    elif service == "databricks":
        size = f"{config.num_workers} x {config.instance_type}"
    return f"{service} {size}".strip()


def storage_uri(ds: Dataset, env: Environment | None) -> str:
    """Where the dataset lives (``s3://...``, ``file:///...``), or ``in memory``.

    Computed offline: when the store's adapter cannot say (no SDK, no credentials), the URI
    is the dataset's location's (:func:`glacier.locations.locate`).
    """
    storage = ds.storage
    if storage is None:
        return "in memory"
    if is_raw_bucket(storage):
        return f"pulumi {type(storage).__name__} {getattr(storage, '_name', '')}".rstrip()
    bucket: Any = storage
    if isinstance(storage, str):
        if env is None:
            return storage
        try:
            bucket = env.bucket_for(ds)
        except Exception:  # a picture is no place to fail over a path
            return storage
    try:
        return str(bucket.get_uri())
    except Exception:
        return locate_storage(ds.name, bucket, Site("local")).uri or type(bucket).__name__


def _dataset_node(node_id: str, ds: Dataset, env: Environment | None) -> Node:
    owner = getattr(ds.storage, "environment", None) if ds.storage is not None else None
    if not isinstance(owner, str):
        owner = env_name(env)
    details = [storage_uri(ds, env)]
    if ds.storage is not None and owner:
        details.append(f"env: {owner}")
    return Node(node_id, "dataset", ds.name, tuple(details), owner, ds.is_stored)


# -- Mermaid ---------------------------------------------------------------------------------


def to_mermaid(graph: PipelineGraph) -> str:
    """Mermaid ``flowchart`` text: tasks as boxes, datasets as cylinders.

    Example:
        >>> text = to_mermaid(PipelineGraph("etl", nodes=(Node("task:a", "task", "a"),)))
        >>> print(text, end="")
        ---
        title: pipeline etl
        ---
        flowchart LR
            t_a["<b>a</b>"]:::task
            classDef task fill:#e8f0fe,stroke:#1a73e8,color:#0b2a5b
            classDef dataset fill:#fef7e0,stroke:#f9ab00,color:#3c2f00
            classDef memory fill:#f1f3f4,stroke:#9aa0a6,color:#202124,stroke-dasharray:4 3
    """
    ids = _short_ids(graph)
    lines = ["---", f"title: {_mermaid_text(_title(graph))}", "---", "flowchart LR"]
    for n in graph.nodes:
        label = "<br/>".join(
            [f"<b>{_mermaid_text(n.title)}</b>"]
            + [f"<small>{_mermaid_text(d)}</small>" for d in n.details]
        )
        if n.kind == "task":
            lines.append(f'    {ids[n.id]}["{label}"]:::task')
        elif n.stored:
            lines.append(f'    {ids[n.id]}[("{label}")]:::dataset')
        else:
            lines.append(f'    {ids[n.id]}(["{label}"]):::memory')
    for e in graph.edges:
        lines.append(f"    {ids[e.source]} --> {ids[e.target]}")
    lines += [
        "    classDef task fill:#e8f0fe,stroke:#1a73e8,color:#0b2a5b",
        "    classDef dataset fill:#fef7e0,stroke:#f9ab00,color:#3c2f00",
        "    classDef memory fill:#f1f3f4,stroke:#9aa0a6,color:#202124,stroke-dasharray:4 3",
    ]
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Mermaid has entity codes, not backslash escapes; '<' would open an HTML tag.
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def _short_ids(graph: PipelineGraph) -> dict[str, str]:
    ids: dict[str, str] = {}
    used: set[str] = set()
    for n in graph.nodes:
        base = ("t_" if n.kind == "task" else "d_") + re.sub(r"\W", "_", n.title)
        candidate, k = base, 1
        while candidate in used:
            k += 1
            candidate = f"{base}_{k}"
        used.add(candidate)
        ids[n.id] = candidate
    return ids


def _title(graph: PipelineGraph) -> str:
    title = f"pipeline {graph.name}"
    if graph.environment:
        title += f" (env {graph.environment})"
    return title


# -- Graphviz --------------------------------------------------------------------------------


def to_dot(graph: PipelineGraph) -> str:
    """Graphviz DOT source: tasks as boxes, stored datasets as cylinders, in-memory ones dashed.

    Example:
        >>> "digraph" in to_dot(PipelineGraph("etl"))
        True
    """
    ids = _short_ids(graph)
    label = _title(graph)
    if graph.description:
        label += "\n" + graph.description
    out = [
        f"digraph {_dot_id(graph.name)} {{",
        "    graph [rankdir=LR, fontname=Helvetica, fontsize=12, labelloc=t, "
        f"pad=0.3, nodesep=0.35, ranksep=0.5, label={_dot_string(label)}];",
        "    node [fontname=Helvetica, fontsize=11];",
        '    edge [color="#5f6368", arrowsize=0.7];',
    ]
    for n in graph.nodes:
        html = _dot_label(n)
        if n.kind == "task":
            style = 'shape=box, style="rounded,filled", fillcolor="#e8f0fe", color="#1a73e8"'
        elif n.stored:
            style = (
                'shape=cylinder, style=filled, fillcolor="#fef7e0", color="#f9ab00", '
                'margin="0.2,0.16"'
            )
        else:
            style = 'shape=box, style="dashed,filled", fillcolor="#f1f3f4", color="#9aa0a6"'
        out.append(f"    {ids[n.id]} [label=<{html}>, {style}];")
    for e in graph.edges:
        out.append(f"    {ids[e.source]} -> {ids[e.target]};")
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_label(n: Node) -> str:
    parts = [f"<B>{_html(n.title)}</B>"]
    parts += [f'<FONT POINT-SIZE="9" COLOR="#5f6368">{_html(d)}</FONT>' for d in n.details]
    return "<BR/>".join(parts)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_id(name: str) -> str:
    return _dot_string(name)


# -- files -----------------------------------------------------------------------------------


def render(pipeline: Pipeline | FlowPipeline | PipelineGraph, path: str | Path) -> Path:
    """Write the DAG picture to ``path``; the suffix picks the format (see :data:`FORMATS`).

    Raises:
        GraphRenderError: Unknown suffix, or PNG/SVG without Graphviz's ``dot`` program.
        MissingExtraError: PNG/SVG without the ``graph`` extra.
    """
    out = Path(path)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise GraphRenderError(
            f"Cannot write a DAG picture to {str(out)!r}: unknown suffix {out.suffix!r}. "
            f"Use one of {', '.join(FORMATS)}."
        )
    graph = pipeline if isinstance(pipeline, PipelineGraph) else pipeline_graph(pipeline)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "mermaid":
        out.write_text(to_mermaid(graph), encoding="utf-8")
    elif fmt == "dot":
        out.write_text(to_dot(graph), encoding="utf-8")
    else:
        out.write_bytes(_graphviz_render(to_dot(graph), fmt))
    return out


def _graphviz_render(source: str, fmt: str) -> bytes:
    graphviz = require("graphviz", "graph", "Writing PNG or SVG (Mermaid .mmd and DOT .dot do not)")
    try:
        return bytes(graphviz.Source(source).pipe(format=fmt))
    except graphviz.ExecutableNotFound as exc:
        raise GraphRenderError(
            "Writing PNG or SVG needs Graphviz's 'dot' program on PATH: install Graphviz "
            "(apt-get install graphviz, brew install graphviz, or https://graphviz.org/download/). "
            "Mermaid (.mmd) and DOT (.dot) need nothing."
        ) from exc
    except graphviz.CalledProcessError as exc:
        raise GraphRenderError(f"Graphviz failed to render the DAG as {fmt}: {exc}") from exc
