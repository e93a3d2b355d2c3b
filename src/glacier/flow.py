"""Data-flow pipelines: ``@env.pipeline()`` functions that call ``@env.task()`` tasks.

::

    @env.pipeline(name="sales")
    def sales():
        df = extract(env.get("sales_raw"))
        return transform(df)

    sales.run(mode="local")     # runs the body; each task call runs (retries, cache, ...)
    sales.run(mode="analyze")   # traces the body: no task runs, the DAG comes back
    sales.run(mode="generate", output_dir="infra/")

Tracing replaces each task call's result with a :class:`Placeholder`; passing placeholders to
other tasks records the edges, so the traced graph is an ordinary :class:`~glacier.Pipeline`,
the same the annotation style builds. Using a placeholder as a value (``if df:``,
``df.filter(...)``) cannot be traced and raises :class:`~glacier.errors.TracingError` naming
the line.
"""

from __future__ import annotations

import inspect
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from glacier import dispatch
from glacier.dataset import Dataset
from glacier.errors import GlacierError, InfraError, PipelineRunError, TracingError
from glacier.executors.base import PreparedRun
from glacier.hooks import HookSet
from glacier.node import Node
from glacier.pipeline import Pipeline, check_pipeline
from glacier.result import RunResult, TaskRun, new_run_id
from glacier.run_options import RunOptions
from glacier.task import ACTIVE_FLOW, Task
from glacier.task_logs import capturing

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_line() -> str:
    """``file:line`` of the innermost frame outside Glacier: where the user's code is."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class Placeholder:
    """The traced result of a task call: something to pass to other tasks, nothing more."""

    __slots__ = ("dataset", "task_name")

    def __init__(self, dataset: Dataset, task_name: str) -> None:
        self.dataset = dataset
        self.task_name = task_name

    def _refuse(self, what: str) -> NoReturn:
        raise TracingError(
            f"{_user_line()}: {what} the result of task {self.task_name!r} while the pipeline "
            "is traced (analyze/generate modes). Task results are placeholders until the "
            "pipeline runs; move this logic into a task, and pass results only to tasks."
        )

    def __bool__(self) -> bool:
        self._refuse("cannot branch on")

    def __iter__(self) -> NoReturn:
        self._refuse("cannot iterate over or unpack")

    def __len__(self) -> int:
        self._refuse("cannot take len() of")

    def __getitem__(self, key: Any) -> NoReturn:
        self._refuse("cannot index")

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("__"):
            raise AttributeError(name)
        self._refuse(f"cannot use .{name} on")

    def __add__(self, other: Any) -> NoReturn:
        self._refuse("cannot compute with")

    __radd__ = __sub__ = __mul__ = __truediv__ = __gt__ = __lt__ = __ge__ = __le__ = __add__

    def __repr__(self) -> str:
        return f"<result of {self.task_name}>"


class _Tracer:
    """Records task calls as a :class:`Pipeline` without running any task body."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.counts: dict[str, int] = {}

    def call(self, task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Placeholder:
        name = _unique(self.counts, task.name)
        try:
            bound = task.signature.bind_partial(*args, **kwargs)
        except TypeError as exc:
            raise TracingError(f"{_user_line()}: calling task {task.name!r}: {exc}") from exc
        inputs: dict[str, Dataset] = {}
        constants: dict[str, Any] = {}
        for pname, value in bound.arguments.items():
            if isinstance(value, Placeholder):
                inputs[pname] = value.dataset
            elif _contains_placeholder(value):
                raise TracingError(
                    f"{_user_line()}: task {task.name!r} got a container holding task "
                    f"results for {pname!r}; pass each result as its own argument."
                )
            else:
                constants[pname] = value
        out = Dataset(name, checks=task.task_options.checks)
        self.pipeline.add(Node(task, name, inputs, constants, out))
        return Placeholder(out, name)


class _EagerRun:
    """Runs each task call as it happens (``mode="local"``).

    Each call becomes a one-node graph run through the executors' per-task path
    (:meth:`~glacier.executors.base.PreparedRun.execute_task`): resources, retries, timeout,
    cache, records and hooks are those of every other run.
    """

    def __init__(self, flow: FlowPipeline, use_cache: bool, hooks: Sequence[object]) -> None:
        self.flow = flow
        self.env = flow.env
        self.use_cache = use_cache
        self.hook_list = list(hooks)
        self.hooks = HookSet(self.hook_list) if hooks else None
        self.counts: dict[str, int] = {}
        self.runs: dict[str, TaskRun] = {}
        self.values: dict[Dataset, Any] = {}
        self.outputs: dict[str, tuple[Any, ...]] = {}

    def call(self, task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        name = _unique(self.counts, task.name)
        out = Dataset(name, checks=task.task_options.checks)
        env = task.env or self.env
        graph = Pipeline(self.flow.name, env=env)
        graph.add(_call_node(task, name, args, kwargs, out))
        run = PreparedRun(
            graph,
            env,
            None,
            None,
            use_cache=self.use_cache,
            hooks=self.hook_list,
            announce=False,
        )
        with capturing():
            ok = run.execute_task(0)
        self.runs[name] = run.table.record(0)
        if not ok:
            raise run.table.error[0]  # type: ignore[misc]  # the task's own exception
        value = run.outputs[0][0]  # type: ignore[index]
        self.values[out] = value
        self.outputs[name] = (value,)
        return value


def _call_node(
    task: Task, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Dataset
) -> Node:
    """The node of one eager call: its arguments become the node's params."""
    bound = task.signature.bind_partial(*args, **kwargs)
    node = Node(task, name, {}, bound.arguments, out)
    kinds = {p.kind for p in bound.signature.parameters.values()}
    if kinds & {_POSITIONAL_ONLY, _VAR_POSITIONAL, _VAR_KEYWORD}:
        # Arguments that cannot be passed by name are passed as the caller passed them;
        # what the run adds (injected resources, defaults) by name.
        fn, given = task.fn, set(bound.arguments)

        def call(**named: Any) -> Any:
            extra = {k: v for k, v in named.items() if k not in given}
            return fn(*bound.args, **{**bound.kwargs, **extra})

        node.fn = call
    return node


_POSITIONAL_ONLY = inspect.Parameter.POSITIONAL_ONLY
_VAR_POSITIONAL = inspect.Parameter.VAR_POSITIONAL
_VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD


class FlowPipeline:
    """A pipeline written as a function over ``@env.task()`` calls (see module docs)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        env: Any,
        name: str | None = None,
        schedule: str | None = None,
    ) -> None:
        self.fn = fn
        #: The environment the body's tasks run in (a run context: an Environment, in
        #: practice, which declares the pipeline with ``@env.pipeline()``).
        self.env = env
        self.name = name or fn.__name__
        self.schedule = schedule
        check_pipeline(self.name, schedule)
        self.__doc__ = fn.__doc__

    def trace(self, *args: Any, **kwargs: Any) -> Pipeline:
        """The pipeline's DAG, by calling the body with task calls traced (no task runs)."""
        pipeline = Pipeline(self.name, env=self.env, schedule=self.schedule)
        token = ACTIVE_FLOW.set(_Tracer(pipeline))
        try:
            self.fn(*args, **kwargs)
        finally:
            ACTIVE_FLOW.reset(token)
        return pipeline

    as_pipeline = trace

    @property
    def dag(self) -> Any:
        """The traced DAG."""
        return self.trace().dag

    def describe(self) -> dict[str, Any]:
        """Tasks, DAG edges, datasets and resources, from tracing."""
        return self.trace().describe()

    def run(
        self,
        mode: str = "local",
        *,
        use_cache: bool = True,
        hooks: Sequence[object] = (),
        output_dir: str | Path | None = None,
        environments: Sequence[Any] | None = None,
        args: Sequence[Any] = (),
        **kwargs: Any,
    ) -> Any:
        """Run (``local``), describe (``analyze``) or generate infrastructure (``generate``);
        see :func:`glacier.runner.run_flow`.

        ``local`` returns a :class:`~glacier.RunResult` whose ``output`` is the body's return
        value and whose ``result["extract"]`` is each call's value.
        """
        options = RunOptions.given(
            RunOptions(
                use_cache=use_cache,
                hooks=tuple(hooks),
                output_dir=output_dir,
                environments=tuple(environments) if environments is not None else None,
            ),
            kwargs,
        )
        return dispatch.runner().run_flow(self, mode, options, args=args)

    def environment(self) -> Any:
        """The environment the pipeline's tasks run in."""
        return self.env

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<FlowPipeline {self.name} env={self.env.name!r}>"


#: Either kind of pipeline: what the command line, targets and infrastructure accept.
PipelineLike = Pipeline | FlowPipeline


def as_pipeline(obj: Any, *args: Any) -> Pipeline:
    """The graph of either kind of pipeline: a :class:`~glacier.Pipeline` as is, an
    ``@env.pipeline()`` function traced (its body called with ``args``)."""
    if isinstance(obj, Pipeline):
        return obj
    if isinstance(obj, FlowPipeline):
        return obj.trace(*args)
    raise InfraError(
        f"Expected a Pipeline or an @env.pipeline() function, got {type(obj).__name__}."
    )


def run_eagerly(
    flow: FlowPipeline, args: Sequence[Any], *, use_cache: bool, hooks: Sequence[object]
) -> RunResult:
    """Run the body of ``flow``, each task call as it happens (the ``local`` mode)."""
    eager = _EagerRun(flow, use_cache, hooks)
    run_id = new_run_id()
    started, t0 = time.time(), time.perf_counter_ns()
    if eager.hooks:
        eager.hooks.run_start(flow.name, run_id, [])
    token = ACTIVE_FLOW.set(eager)
    error: Exception | None = None
    output: Any = None
    try:
        output = flow.fn(*args)
    except Exception as exc:
        error = exc
    finally:
        ACTIVE_FLOW.reset(token)
    result = RunResult(
        pipeline=flow.name,
        run_id=run_id,
        tasks=eager.runs,
        values=eager.values,
        outputs_by_task=eager.outputs,
        started=started,
        duration=(time.perf_counter_ns() - t0) / 1e9,
        clock_ns=t0,
    )
    result.output = output
    flow.env.record_run(result, {})
    if eager.hooks:
        eager.hooks.run_end(result)
    if error is not None:
        if isinstance(error, GlacierError) and not result.failed:
            raise error
        raise PipelineRunError(
            result.failure_report() if result.failed else f"{flow.name} failed: {error}",
            result,
        ) from error
    return result


def _unique(counts: dict[str, int], name: str) -> str:
    n = counts.get(name, 0) + 1
    counts[name] = n
    return name if n == 1 else f"{name}_{n}"


def _contains_placeholder(value: Any) -> bool:
    if isinstance(value, list | tuple | set):
        return any(isinstance(v, Placeholder) for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, Placeholder) for v in value.values())
    return False
