"""The page's questions and their answers: one object over a pipeline and a run store.

The server answers ``GET /api/...`` with :meth:`Api.answer`; a report asks the same
questions when it is written and inlines the answers, so the page's script reads both alike:

==========================  ========================================================
``/api/graph``              tasks, datasets, the last run (statuses), dataset history
``/api/runs?pipeline&status``  runs, latest first, and the values to filter by
``/api/run/<RUN_ID>``       one run: attempt bars, logs, errors, datasets, checks
``/api/plan``               per environment: resources and each task's grants
==========================  ========================================================
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from glacier.errors import GlacierError, UnknownRunError
from glacier.ui.model import dataset_history, graph_data, plan_data, run_data, runs_data

if TYPE_CHECKING:
    from glacier.flow import FlowPipeline
    from glacier.pipeline import Pipeline
    from glacier.runstore import RunStore

__all__ = ["Api", "NotFound"]


class NotFound(GlacierError):
    """The page asked for something that does not exist (an unknown path or run)."""


class Api:
    """Answers about ``pipeline`` (optional) and the runs in ``store``.

    Example:
        >>> import tempfile
        >>> from glacier.runstore import RunStore
        >>> api = Api(None, RunStore(tempfile.mkdtemp()))
        >>> api.answer("/api/runs", {})["runs"]
        []
    """

    def __init__(self, pipeline: Pipeline | FlowPipeline | None, store: RunStore) -> None:
        self.pipeline = pipeline
        self.store = store
        self._graph: dict[str, Any] | None = None
        self._plan: dict[str, Any] | None = None
        # Two locks: a plan takes seconds (Pulumi's mock engine), the graph must not wait.
        self._graph_lock = threading.Lock()
        self._plan_lock = threading.Lock()

    @property
    def pipeline_name(self) -> str | None:
        """The pipeline's name (``None`` without a pipeline)."""
        return None if self.pipeline is None else str(self.pipeline.name)

    def answer(self, path: str, query: Mapping[str, str]) -> dict[str, Any]:
        """The answer to ``GET path?query``.

        Raises:
            NotFound: An unknown path, a run not in the store, a pipeline not given.
        """
        if path == "/api/runs":
            return runs_data(self.store, query.get("pipeline") or None, query.get("status") or None)
        if path.startswith("/api/run/"):
            run_id = unquote(path.removeprefix("/api/run/"))
            try:
                return run_data(self.store.load(run_id))
            except UnknownRunError as exc:
                raise NotFound(str(exc)) from None
        if path == "/api/graph":
            return self.graph()
        if path == "/api/plan":
            return self.plan()
        raise NotFound(f"No page data at {path!r}; the page asks /api/graph, /api/runs, ...")

    def graph(self) -> dict[str, Any]:
        """The pipeline's graph, with its last run and the history of its datasets."""
        pipeline = self._need_pipeline()
        with self._graph_lock:
            if self._graph is None:
                self._graph = graph_data(pipeline)
            graph = self._graph
        last = self.store.last(str(pipeline.name))
        return {
            "graph": graph,
            "last_run": None if last is None else run_data(last),
            "history": dataset_history(self.store, str(pipeline.name)),
        }

    def plan(self) -> dict[str, Any]:
        """The pipeline's plan (computed once: it runs the Pulumi program under mocks)."""
        pipeline = self._need_pipeline()
        with self._plan_lock:
            if self._plan is None:
                self._plan = plan_data(pipeline)
            return self._plan

    def _need_pipeline(self) -> Pipeline | FlowPipeline:
        if self.pipeline is None:
            raise NotFound(
                "No pipeline was given: start `glacier ui TARGET` to see its DAG and plan."
            )
        return self.pipeline
