"""The Pulumi program of a pipeline: declare its infrastructure for one or more environments.

The same function runs in three places: inside a generated project's ``__main__.py`` (one
environment per stack), under Pulumi's mock engine for :func:`plan`, and inside
:func:`~glacier.infra.up` through the Automation API.

Each environment's resources are declared by the infrastructure builder its cloud container
wires (``env.container.cloud.infrastructure``: ``AwsInfrastructure`` for AWS,
``LocalInfrastructure`` for local), so overriding that provider changes what is declared.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from glacier.dataset import is_raw_bucket
from glacier.errors import InfraError
from glacier.flow import PipelineLike, as_pipeline
from glacier.infra.model import EnvSpec, InfraModel, build_model, find_code

#: The mocks of the plan running in this context, told about environments as they are found
#: (so the ARNs they compute carry the right account and region).
ACTIVE_MOCKS: ContextVar[Any] = ContextVar("glacier_active_mocks", default=None)


def program(
    pipeline: Any,
    environment: Any = None,
    environments: Sequence[Any] = (),
    *,
    model: InfraModel | None = None,
) -> dict[str, Any]:
    """Declare ``pipeline``'s infrastructure; call it inside a Pulumi program.

    Args:
        pipeline: A :class:`~glacier.Pipeline` or an ``@env.pipeline()`` function.
        environment: Only this environment's share (an Environment or its name), as a stack
            does; every environment the pipeline touches when omitted.
        environments: Environment objects the pipeline's resources belong to (found from the
            pipeline when not listed; listing them supplies their network settings).

    Returns:
        What each environment's builder declared, by environment name.

    Raises:
        CrossEnvironmentAccessError: a task reaches another named environment's data
            without ``allow_cross_environment=True``.
        InfraError: the pipeline cannot be deployed as defined (the message says why).
    """
    model = model or build_model(pipeline, environments)
    observe(model)
    out: dict[str, Any] = {}
    for key in select_environments(model, environment):
        out[key] = builder_for(model.envs[key]).declare(model, key)
    return out


def select_environments(model: InfraModel, environment: Any = None) -> list[str]:
    """Keys of the environments to declare: ``environment`` alone, or every one in use."""
    if environment is None:
        return list(model.envs)
    key = environment if isinstance(environment, str) else str(environment.name)
    if key not in model.envs:
        raise InfraError(
            f"Pipeline {model.pipeline!r} has no resources in environment {key!r}; it uses "
            f"{', '.join(model.envs) or 'none'}. Deploy one of those, or build the pipeline "
            f"for {key!r} (e.g. create_pipeline(env))."
        )
    return [key]


def builder_for(env: EnvSpec) -> Any:
    """The infrastructure builder the environment's cloud container wires."""
    source = env.source
    container = getattr(source, "container", None)
    cloud = getattr(container, "cloud", None) if container is not None else None
    if cloud is None:
        cloud = getattr(source, "cloud", None)
    factory = getattr(cloud, "infrastructure", None)
    if factory is None and source is None and env.cloud == "local":
        # The model's local default (no environment was given: it makes none) declares
        # nothing, as every local environment's builder does.
        from glacier.infra.local import LocalInfrastructure

        return LocalInfrastructure()
    if factory is None:
        raise InfraError(
            f"Environment {env.key!r} has no infrastructure builder: its cloud container "
            "lacks an 'infrastructure' provider."
        )
    return factory()


def observe(model: InfraModel) -> None:
    """Tell the plan's mocks (if any) about the model's environments."""
    mocks = ACTIVE_MOCKS.get()
    known = getattr(mocks, "environments", None)
    if isinstance(known, dict):
        known.update(model.envs)


def program_for_target(target: str, environment: str | None = None) -> dict[str, Any]:
    """Load the pipeline ``target`` names (``file.py:name``) and declare its infrastructure;
    what a generated ``__main__.py`` calls. Environments defined in the target's module are
    used for their network settings."""
    from glacier.environment import Environment
    from glacier.targets import find_objects, import_target_module, load_target

    pipeline = load_target(target)
    module = import_target_module(target)
    environments = list(find_objects(module, Environment).values())
    declared = program(pipeline, environment, environments)
    _export(declared)
    return declared


def _export(declared: dict[str, Any]) -> None:
    import pulumi

    for key, resources in declared.items():
        machine = getattr(resources, "state_machine", None)
        if machine is not None:
            pulumi.export(f"{key}.state_machine_arn", machine.arn)
        workflow = getattr(resources, "workflow", None)
        if workflow is not None:
            pulumi.export(f"{key}.workflow", workflow.name)
        for name, bucket in (getattr(resources, "buckets", None) or {}).items():
            # An S3 bucket's name is its ``bucket`` output; a GCS bucket's its ``name``.
            physical = getattr(bucket, "bucket", None) or bucket.name
            pulumi.export(f"{key}.bucket.{name.split(':', 1)[-1]}", physical)
        for name, function in (getattr(resources, "functions", None) or {}).items():
            pulumi.export(f"{key}.function.{name}", function.name)


# -- loading a pipeline inside a program -------------------------------------------------------


def loader_for(
    pipeline: Any, environments: Sequence[Any] = ()
) -> Callable[[], tuple[Any, list[Any]]]:
    """How a program run obtains the pipeline: ``() -> (pipeline, environments)``.

    Pulumi resources belong to the program run that created them, so a pipeline whose
    datasets use raw Pulumi resources is re-imported from its module inside the run; a
    target string is imported there; a factory is called there.
    """
    if isinstance(pipeline, str):
        target = pipeline
        return lambda: load_fresh(target)
    if isinstance(pipeline, PipelineLike):
        if not _uses_raw_resources(pipeline):
            return lambda: (pipeline, list(environments))
        code = find_code(pipeline, as_pipeline(pipeline))
        if code is None or not _defines(code.file, pipeline):
            raise InfraError(
                f"Pipeline {pipeline.name!r} stores data in raw Pulumi resources, which only "
                "exist inside the Pulumi program that creates them. Plan it from its module "
                "(plan('pipelines.py:name')) or from a function that builds it "
                "(plan(create_pipeline))."
            )
        target = code.target
        return lambda: load_fresh(target)
    if callable(pipeline):
        factory = pipeline
        return lambda: (factory(), list(environments))
    raise InfraError(
        f"Expected a Pipeline, an @env.pipeline() function, a target 'file.py:name' or a "
        f"function returning a pipeline; got {type(pipeline).__name__}."
    )


def load_fresh(target: str) -> tuple[Any, list[Any]]:
    """Import ``target``'s module anew (its resources are created again in the current
    program run) and return its pipeline and the environments it defines. The process's
    already-imported module is left in place."""
    from glacier.environment import Environment
    from glacier.targets import find_objects, import_target_module, load_target

    file = _target_file(target)
    saved = {
        name: mod
        for name, mod in list(sys.modules.items())
        if file is not None and _same_file(getattr(mod, "__file__", None), file)
    }
    for name in saved:
        del sys.modules[name]
    try:
        pipeline = load_target(target)
        module = import_target_module(target)
        environments = list(find_objects(module, Environment).values())
    finally:
        for name in list(sys.modules):
            if file is not None and _same_file(getattr(sys.modules[name], "__file__", None), file):
                del sys.modules[name]
        sys.modules.update(saved)
    return pipeline, environments


def _target_file(target: str) -> Path | None:
    head, sep, tail = target.rpartition(":")
    path = target if not sep or "/" in tail or tail.endswith(".py") or len(head) == 1 else head
    if path.endswith(".py") or "/" in path or Path(path).exists():
        return Path(path).resolve()
    try:
        spec = importlib.util.find_spec(path)
    except (ImportError, ValueError):
        return None
    origin = getattr(spec, "origin", None)
    return Path(origin).resolve() if origin else None


def _same_file(a: str | None, b: Path) -> bool:
    if not a:
        return False
    try:
        return Path(a).resolve() == b
    except OSError:
        return False


def _defines(file: Path, pipeline: Any) -> bool:
    for mod in list(sys.modules.values()):
        if _same_file(getattr(mod, "__file__", None), file) and any(
            v is pipeline for v in vars(mod).values()
        ):
            return True
    return False


def _uses_raw_resources(pipeline: Any) -> bool:
    pipe = as_pipeline(pipeline)
    for t in pipe.tasks.values():
        for ds in (*t.input_datasets, *t.outputs):
            if is_raw_bucket(ds.storage):
                return True
    return False
