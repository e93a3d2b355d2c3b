"""Tasks: plain functions whose signature says what they consume, produce and need.

A task's parameters fall into four kinds, read once from its signature:

- **inputs**: annotated with a :class:`~glacier.Dataset` (``data: raw``);
- **resources**: annotated with a resource type (``source: Bucket``) or defaulting to a
  dependency-injector marker (``source: Bucket = Provide["sales"]``); filled by the environment;
- **params**: any other parameter with a default (``threshold: float = 0.5``), overridable per
  run with ``pipeline.run(params={"task.threshold": 0.9})``;
- **arguments**: in the data-flow style (``@env.task()``), everything else is passed by the
  caller inside an ``@env.pipeline()`` function.

The return annotation names the output: one dataset, ``tuple[a, b]`` for several, or nothing.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Protocol, TypeVar, overload

from pydantic import SecretStr

from glacier.dataset import Dataset
from glacier.errors import InvalidAnnotationError, InvalidTaskError
from glacier.resources.base import Resource
from glacier.task_code import CodeIdentity, code_identity
from glacier.task_options import NO_OPTIONS, TASK_OPTIONS, TaskOptions

__all__ = [
    "TASK_OPTIONS",
    "Inject",
    "Location",
    "ParamKind",
    "ResourceRequest",
    "Task",
    "TypedTask",
    "task",
]


class ParamKind(Enum):
    """How a task parameter gets its value."""

    INPUT = "input"
    RESOURCE = "resource"
    PARAM = "param"
    ARGUMENT = "argument"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a task was defined, for error messages."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class ResourceRequest:
    """A parameter the environment fills: by type, by a ``Provide[...]`` marker, or by name."""

    param: str
    annotation: Any = None
    marker: Any = None
    optional: bool = False


class CallInterceptor(Protocol):
    """What a running data-flow pipeline does with a task call (trace it or execute it)."""

    def call(self, task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...


#: Set while an ``@env.pipeline()`` body runs; task calls are routed through it.
ACTIVE_FLOW: ContextVar[CallInterceptor | None] = ContextVar("glacier_active_flow", default=None)


class Task:
    """A function bound into a pipeline or environment, with its parsed signature.

    Tasks are created by ``@pipeline.task()``, ``@env.task()`` or :func:`task`; calling a task
    outside a running pipeline simply calls the function (resources injected if the task is
    bound to an environment), so tasks stay unit-testable.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        options: TaskOptions | None = None,
        dataflow: bool = False,
        env: Any = None,
        namespace: Mapping[str, Any] | None = None,
    ) -> None:
        check_task_function(fn)
        options = options or NO_OPTIONS
        self.fn = fn
        self._source: str | None = None
        self.name: str = str(options.name or getattr(fn, "__name__", type(fn).__name__))
        self.location = _location(fn)
        options.check(f"Task {self.name!r} ({self.location})")
        #: The decorator's options, as one record.
        self.task_options = options
        #: The options refining the environment's task defaults (only those set).
        self.options: dict[str, Any] = dict(options.refinements)
        self.compute = options.compute
        self.allow_cross_environment = options.allow_cross_environment
        #: The environment the task is bound to (a run context: an Environment, in practice);
        #: it fills the resource parameters of direct calls.
        self.env = env
        self.namespace: dict[str, Any] = dict(namespace or {})
        #: Resources passed to a traced data-flow call, by parameter (read and written).
        self.resource_args: dict[str, Resource] = {}
        hints = _resolve_annotations(fn, namespace or {}, self)
        self.inputs: tuple[tuple[str, Dataset], ...] = ()
        self.resources: tuple[ResourceRequest, ...] = ()
        self.params: dict[str, Any] = {}
        self.arguments: tuple[str, ...] = ()
        self._classify(hints, dataflow)
        self.outputs, self.returns_tuple = _outputs(hints.get("return", _MISSING), self, dataflow)
        functools_update(self, fn)

    # -- signature parsing -----------------------------------------------------------------

    @functools.cached_property
    def signature(self) -> inspect.Signature:
        """The function's signature, built on first use (parsing the task does not need it)."""
        return inspect.signature(self.fn)

    def _classify(self, hints: Mapping[str, Any], dataflow: bool) -> None:
        inputs: list[tuple[str, Dataset]] = []
        resources: list[ResourceRequest] = []
        arguments: list[str] = []
        parameters = _parameters(self.fn)
        #: Parameter names in order: which ones a direct call's positional arguments fill.
        self._names = tuple(pname for pname, _, _ in parameters)
        for pname, variadic, default in parameters:
            if variadic:
                if dataflow:
                    arguments.append(pname)
                    continue
                raise InvalidAnnotationError(
                    f"Task {self.name!r} ({self.location}) has *{pname}: tasks take named "
                    "parameters only. Declare each input as 'name: dataset'."
                )
            ann = hints.get(pname, _MISSING)
            if isinstance(ann, Dataset):
                inputs.append((pname, ann))
            elif _is_marker(default):
                resources.append(ResourceRequest(pname, _strip_optional(ann)[0], default))
            elif _is_resource_type(ann):
                inner, optional = _strip_optional(ann)
                resources.append(ResourceRequest(pname, inner, None, optional))
            elif default is not _EMPTY:
                self.params[pname] = default
            elif dataflow:
                arguments.append(pname)
            elif ann is _MISSING:
                raise InvalidAnnotationError(
                    f"Parameter {pname!r} of task {self.name!r} ({self.location}) has no "
                    "annotation and no default. Annotate it with the Dataset it consumes "
                    f"('{pname}: my_dataset'), a resource type ('{pname}: Bucket'), or give "
                    "it a default to make it a run parameter."
                )
            elif isinstance(ann, Task):
                raise InvalidAnnotationError(_shadowed(pname, self, ann))
            else:
                raise InvalidAnnotationError(
                    f"Parameter {pname!r} of task {self.name!r} ({self.location}) is annotated "
                    f"with {_show(ann)}, which is neither a Dataset nor a resource type, and "
                    "has no default. Annotate it with the Dataset it consumes, or give it a "
                    "default to make it a run parameter."
                )
        self.inputs = tuple(inputs)
        self.resources = tuple(resources)
        self.arguments = tuple(arguments)

    # -- behaviour -------------------------------------------------------------------------

    @property
    def input_datasets(self) -> tuple[Dataset, ...]:
        """The datasets this task consumes, in parameter order."""
        return tuple(ds for _, ds in self.inputs)

    @property
    def is_dataflow(self) -> bool:
        """Whether the task is called from an ``@env.pipeline()`` body (data-flow style)."""
        return bool(self.arguments) or self.env is not None or self._sent_dataflow

    #: Whether a task sent to another process was a data-flow task where it was made (it
    #: travels without the environment that said so; see __getstate__).
    _sent_dataflow: bool = False

    def __getstate__(self) -> dict[str, Any]:
        # The caller's namespace only resolves annotations at definition; it may hold
        # anything (a test's fixtures, a cluster), so a task sent to another process (a Dask
        # worker) goes without it. So does its environment: the run resolved the task's
        # resources, config and buckets before sending it, and the environment holds what
        # belongs to this process (the run store's open database, clients, caches).
        state = dict(self.__dict__)
        state["namespace"] = {}
        if state.get("env") is not None:
            state["env"] = None
            state["_sent_dataflow"] = True
        return state

    def source(self) -> str:
        """The function's source code (its bytecode when the source is not available)."""
        cached: str | None = self._source
        if cached is None:
            try:
                cached = inspect.getsource(self.fn)
            except (OSError, TypeError):
                code = getattr(self.fn, "__code__", None)
                cached = repr((code.co_code, code.co_consts)) if code else repr(self.fn)
            self._source = cached
        return cached

    def code_identity(self) -> CodeIdentity:
        """The identity of the function's code, the project code it reaches and the values it
        reads, as of now (see :mod:`glacier.task_code`): what the cache key and resume know
        of the task's code."""
        return code_identity(self.fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        flow = ACTIVE_FLOW.get()
        if flow is not None:
            return flow.call(self, args, kwargs)
        if self.env is not None and self.resources:
            # Names from the parsed parameters: building a list from the Signature took half
            # the cost of a direct call.
            given = self._names[: len(args)] + tuple(kwargs) if args or kwargs else ()
            extra = self.env.resolve_resources(self, given)
            if extra:
                kwargs = {**kwargs, **extra}
        return self.fn(*args, **kwargs)

    def bind(self, env: Any) -> Task:
        """A copy of this task bound to ``env`` (deferred binding: define once, bind to many)."""
        options = TaskOptions(
            refinements=self.options,
            compute=self.compute,
            allow_cross_environment=self.allow_cross_environment,
            name=self.name,
            checks=self.task_options.checks,
        )
        cls = TypedTask if isinstance(self, TypedTask) else Task
        return cls(self.fn, options=options, dataflow=True, env=env, namespace=self.namespace)

    def run(
        self,
        mode: str = "local",
        *,
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
        output_dir: Any = None,
        **options: Any,
    ) -> Any:
        """Run this task alone in its environment: ``mode="local"`` calls it (resources
        injected, stored inputs read from storage) and returns the run's result;
        ``"analyze"`` describes it; ``"generate"`` writes its infrastructure to
        ``output_dir``. ``args``/``kwargs`` are the call's arguments.

        Raises:
            InvalidTaskError: the task is bound to no environment.
        """
        if self.env is None or not hasattr(self.env, "run_task"):
            raise InvalidTaskError(
                f"Task {self.name!r} ({self.location}) is bound to no environment, so "
                "task.run() has nowhere to run it; bind it first (env.bind(task), @task(env) "
                "or @env.task()), or run its pipeline with pipeline.run(...)."
            )
        return self.env.run_task(
            self, mode, args=args, kwargs=kwargs, output_dir=output_dir, **options
        )

    def iter_param_names(self) -> Iterator[str]:
        """Names of the run parameters, in signature order."""
        return iter(self.params)

    def __repr__(self) -> str:
        ins = ", ".join(ds.name for ds in self.input_datasets)
        outs = ", ".join(ds.name for ds in self.outputs)
        return f"<Task {self.name} ({ins}) -> ({outs}) at {self.location}>"


P = ParamSpec("P")
R = TypeVar("R", covariant=True)


class TypedTask(Task, Generic[P, R]):
    """A :class:`Task` that keeps its function's signature for type checkers.

    ``@env.task()``, ``@task`` and ``@task(env)`` make these: calling one directly takes the
    function's parameters and returns its result type, so mypy or pyright report a wrong
    argument. (Inside a traced ``@env.pipeline()`` body a call returns a placeholder that
    stands for that result.) A parameter the environment fills by name should carry a
    default, ``Inject("name")``, so calls without it type-check.
    """

    # Only for type checkers: at run time a TypedTask is a Task (no extra call per task call).
    if TYPE_CHECKING:

        def __init__(
            self,
            fn: Callable[P, R],
            *,
            options: TaskOptions | None = None,
            dataflow: bool = False,
            env: Any = None,
            namespace: Mapping[str, Any] | None = None,
        ) -> None: ...

        def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

        def bind(self, env: Any) -> TypedTask[P, R]: ...


class EnvironmentLike(Protocol):
    """What ``@task(env)`` needs of an environment: to bind a task to it."""

    def bind(self, task: Task) -> Task: ...

    def register(self, name: str, resource: Any) -> Any: ...


@overload
def task(fn: Callable[P, R], *, name: str | None = None, **options: Any) -> TypedTask[P, R]: ...


@overload
def task(
    fn: EnvironmentLike | None = None, *, name: str | None = None, **options: Any
) -> Callable[[Callable[P, R]], TypedTask[P, R]]: ...


def task(
    fn: Any = None,
    *,
    name: str | None = None,
    **options: Any,
) -> Any:
    """Define a task without binding it, for reuse across environments.

    ``env.bind(t)`` or ``pipeline.add(t)`` binds it later::

        @task
        def extract(source: Bucket) -> pl.LazyFrame:
            return source.scan()

        dev_extract = dev_env.bind(extract)
    """
    namespace = _caller_namespace(1)
    parsed = TaskOptions.parse(
        {**options, "name": name}, decorator="@task", error=InvalidAnnotationError
    )
    env: Any = None
    if fn is not None and _is_environment(fn):
        # @task(env): the environment given as the decorator's argument (seed 001).
        env, fn = fn, None

    def wrap(f: Callable[..., Any]) -> Task:
        defined = TypedTask(f, options=parsed, dataflow=True, namespace=namespace)
        if env is None:
            return defined
        bound: Task = env.bind(defined)
        return bound

    return wrap(fn) if fn is not None else wrap


def Inject(name: str) -> Any:
    """A parameter default meaning "the resource registered as ``name``".

    ``def extract(source: Bucket = Inject("sales_data"))`` is filled from the environment's
    registry when the caller does not pass ``source`` (a direct call, or a call inside an
    ``@env.pipeline()`` body); it is dependency-injector's ``Provide["sales_data"]``.
    """
    from dependency_injector.wiring import Provide

    if not isinstance(name, str) or not name:
        raise InvalidAnnotationError(
            f"Inject({name!r}): give the registered resource's name, e.g. Inject('sales_data')."
        )
    return Provide[name]


def _is_environment(obj: Any) -> bool:
    """Whether ``obj`` is an environment (given to ``@task(env)``), told by what it does."""
    return not callable(obj) and all(hasattr(obj, a) for a in ("bind", "register", "run_task"))


# -- helpers -------------------------------------------------------------------------------

_MISSING: Any = object()


def functools_update(task_obj: Task, fn: Callable[..., Any]) -> None:
    """Copy the function's docs so ``help(task)`` shows the user's docstring."""
    task_obj.__doc__ = getattr(fn, "__doc__", None)
    task_obj.__wrapped__ = fn  # type: ignore[attr-defined]
    task_obj.__module__ = getattr(fn, "__module__", __name__)


def _location(fn: Callable[..., Any]) -> Location:
    code = getattr(fn, "__code__", None)
    if code is None:
        return Location(repr(fn), 0)
    return Location(code.co_filename, code.co_firstlineno)


def _caller_namespace(depth: int) -> dict[str, Any]:
    """Locals of the frame that applied the decorator.

    With ``from __future__ import annotations``, ``def clean(x: raw) -> cleaned`` keeps the
    names as strings, and when the datasets are locals of a factory function
    (``def create_pipeline(env): raw = Dataset(...)``) they are in no module namespace. The
    decorating frame still has them.
    """
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:
        return {}
    if frame.f_locals is frame.f_globals:
        return {}
    return dict(frame.f_locals)


_EMPTY: Any = inspect.Parameter.empty


def check_task_function(fn: Any) -> None:
    """Refuse what cannot run as a task: a non-callable, a generator or ``async`` function
    (calling one returns a generator or coroutine object, not the task's value)."""
    if not callable(fn):
        raise InvalidTaskError(
            f"@task needs a function, got {fn!r} of type {type(fn).__name__}; decorate a "
            "'def' function."
        )
    kind = (
        "an async generator"
        if inspect.isasyncgenfunction(fn)
        else "a generator"
        if inspect.isgeneratorfunction(fn)
        else "an async"
        if inspect.iscoroutinefunction(fn)
        else None
    )
    if kind is not None:
        name = getattr(fn, "__qualname__", repr(fn))
        raise InvalidTaskError(
            f"Task function {name!r} ({_location(fn)}) is {kind} function: calling it returns "
            f"a {'coroutine' if kind == 'an async' else 'generator'} object, not the task's "
            "value. Make it a plain 'def' that returns its result (collect a generator's "
            "items into a frame or list; run async code with asyncio.run inside the task)."
        )


def _parameters(fn: Callable[..., Any]) -> list[tuple[str, bool, Any]]:
    """``(name, variadic, default)`` of each parameter, in signature order (``_EMPTY``: no
    default; ``variadic``: ``*args`` or ``**kwargs``).

    A plain function's are read from its code object: ``inspect.signature`` builds a
    Signature and a Parameter per argument, a third of the cost of decorating a task, and
    thousands of objects the garbage collector then walks. Anything else (callable objects,
    partials, wrapped or re-signed functions) goes through ``inspect.signature``.
    """
    if type(fn) is not types.FunctionType or {"__wrapped__", "__signature__"} & fn.__dict__.keys():
        return [
            (name, p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD), p.default)
            for name, p in inspect.signature(fn).parameters.items()
        ]
    code = fn.__code__
    names = code.co_varnames
    n_pos, n_kw = code.co_argcount, code.co_kwonlyargcount
    defaults = fn.__defaults__ or ()
    kwdefaults = fn.__kwdefaults__ or {}
    first_default = n_pos - len(defaults)
    out = [
        (names[k], False, defaults[k - first_default] if k >= first_default else _EMPTY)
        for k in range(n_pos)
    ]
    # co_varnames holds the positional, then keyword-only names, then *args, then **kwargs;
    # a signature lists *args before the keyword-only parameters.
    extra = n_pos + n_kw
    if code.co_flags & inspect.CO_VARARGS:
        out.append((names[extra], True, _EMPTY))
        extra += 1
    out.extend(
        (names[k], False, kwdefaults.get(names[k], _EMPTY)) for k in range(n_pos, n_pos + n_kw)
    )
    if code.co_flags & inspect.CO_VARKEYWORDS:
        out.append((names[extra], True, _EMPTY))
    return out


def _resolve_annotations(
    fn: Callable[..., Any], namespace: Mapping[str, Any], owner: Task
) -> dict[str, Any]:
    raw = inspect.get_annotations(fn) if callable(fn) else {}
    if not raw:
        return {}
    globalns = getattr(fn, "__globals__", {})
    localns = dict(namespace)
    closure = getattr(fn, "__closure__", None) or ()
    for cname, cell in zip(getattr(fn.__code__, "co_freevars", ()), closure, strict=False):
        # An empty cell (ValueError) is a variable assigned later: nothing to resolve yet.
        with contextlib.suppress(ValueError):
            localns.setdefault(cname, cell.cell_contents)
    hints: dict[str, Any] = {}
    for key, ann in raw.items():
        if isinstance(ann, str):
            try:
                ann = _evaluate(ann, globalns, localns)
            except Exception as exc:
                what = "return annotation" if key == "return" else f"parameter {key!r}"
                raise InvalidAnnotationError(
                    f"The {what} of task {owner.name!r} ({owner.location}) is {ann!r}, "
                    f"which does not name anything defined ({type(exc).__name__}: {exc}). "
                    "Define the Dataset before the task that uses it."
                ) from exc
        hints[key] = ann
    return hints


def _evaluate(ann: str, globalns: dict[str, Any], localns: Mapping[str, Any]) -> Any:
    """The object a postponed annotation names, as ``eval`` finds it.

    Most annotations are a single name (``data: raw``); looking it up directly (locals, then
    globals, the order eval uses) skips compiling the string, which was the largest cost of
    decorating thousands of tasks. Anything else, builtins included, goes through eval.
    """
    if ann.isidentifier():
        if ann in localns:
            return localns[ann]
        if ann in globalns:
            return globalns[ann]
    return eval(ann, globalns, localns)


def _outputs(ann: Any, owner: Task, dataflow: bool) -> tuple[tuple[Dataset, ...], bool]:
    if ann is _MISSING or ann is None or ann is type(None):
        return (), False
    if isinstance(ann, Dataset):
        return (ann,), False
    members: tuple[Any, ...] | None = None
    if isinstance(ann, tuple):
        members = ann
    elif getattr(ann, "__origin__", None) is tuple:
        members = tuple(ann.__args__)
    if members is not None and members and all(isinstance(m, Dataset) for m in members):
        seen: set[int] = set()
        for m in members:
            if id(m) in seen:
                raise InvalidAnnotationError(
                    f"Task {owner.name!r} ({owner.location}) returns dataset {m.name!r} twice "
                    "in its tuple annotation. Each output must be a different Dataset."
                )
            seen.add(id(m))
        return members, True
    if dataflow:
        return (), False
    raise InvalidAnnotationError(
        f"Task {owner.name!r} ({owner.location}) has return annotation {_show(ann)}, which is "
        "not a Dataset. Annotate the output with the Dataset it produces ('-> clean'), a "
        "tuple of datasets ('-> tuple[train, test]'), or nothing for a task with no output."
    )


def _strip_optional(ann: Any) -> tuple[Any, bool]:
    if isinstance(ann, types.UnionType) or getattr(ann, "__origin__", None) is types.UnionType:
        args = [a for a in ann.__args__ if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) != len(ann.__args__)
    origin = getattr(ann, "__origin__", None)
    if origin is not None and str(origin) == "typing.Union":
        args = [a for a in ann.__args__ if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return (None if ann is _MISSING else ann), False


def _is_resource_type(ann: Any) -> bool:
    inner, _ = _strip_optional(ann)
    # A SecretStr parameter is the environment's secret of that name (see glacier.secrets).
    return isinstance(inner, type) and (issubclass(inner, Resource) or inner is SecretStr)


def _is_marker(default: Any) -> bool:
    """Whether ``default`` is dependency-injector's ``Provide[...]``/``Provider[...]`` marker.

    Asked without importing dependency-injector (a third of ``import glacier``'s time): a
    marker exists only once the user's module imported ``dependency_injector.wiring``.
    """
    wiring = sys.modules.get("dependency_injector.wiring")
    return wiring is not None and isinstance(default, wiring._Marker)


def _shadowed(pname: str, task: Task, other: Task) -> str:
    """The message for an input annotated with a task: almost always a function named like
    its output dataset, whose ``def`` rebound the dataset's name to the task."""
    fn = getattr(other.fn, "__name__", other.name)
    return (
        f"Parameter {pname!r} of task {task.name!r} ({task.location}) is annotated with the "
        f"task {other.name!r}, not a Dataset: the function {fn!r} has the name of a dataset, "
        "so its def rebound that name to the task. Give the function another name and keep "
        f"the task's name with name=: @pipeline.task(name={fn!r}) def build_{fn}(...)."
    )


def _show(ann: Any) -> str:
    if isinstance(ann, type):
        return ann.__qualname__
    return repr(ann)
