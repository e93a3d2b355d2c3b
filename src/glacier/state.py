"""An environment's state: what it declares, and what its deployed stacks report.

``env.get_state()`` is plain data (JSON-able)::

    {"environment": "production",
     "provider": {"kind": "aws", "region": "us-east-1", ...},
     "resources": ["customers", "sales"],                  # env.register(...) names
     "resource_details": {"sales": {"kind": "bucket", ...}},
     "tasks": ["extract", "transform"],                     # @env.task() names
     "pipelines": ["etl_pipeline"],                         # @env.pipeline() names
     "planned": {"etl_pipeline": [{"type": "aws:s3/bucket:Bucket", "name": ...}, ...]},
     "plan_refused": {...},                                 # why a plan could not be made
     "source": "plan",                                      # or "stack"
     "stacks": {...}}                                       # deployed outputs, per pipeline

``planned`` is each pipeline's offline plan for this environment (Pulumi's mock engine, no
cloud). The outputs of a deployed stack are read through the Pulumi Automation API, which
needs the ``pulumi`` program: ``deployed=True`` requires it (``PulumiNotInstalledError``
otherwise); the default (``deployed=None``) reads them when the program is there and says
``"source": "plan"`` with a note when it is not.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from glacier.errors import InfraError, OutputPathError
from glacier.infra.deploy import require_pulumi
from glacier.infra.mocks import plan

__all__ = ["environment_state", "export_state"]


def environment_state(env: Any, *, deployed: bool | None = None) -> dict[str, Any]:
    """The state of ``env`` (see the module docs)."""
    registry: dict[str, Any] = env.container.registry()
    config = env.config
    state: dict[str, Any] = {
        "environment": env.name,
        "production": env.is_production,
        "provider": config.model_dump(mode="json") if config is not None else None,
        "resources": sorted(registry),
        "resource_details": {name: _describe(registry[name]) for name in sorted(registry)},
        "tasks": list(env.tasks),
        "pipelines": list(env.pipelines),
    }
    if env.compute_provider is not env.provider:
        state["compute_provider"] = env.compute_provider.config.model_dump(mode="json")
    pipelines = env._pipelines
    planned: dict[str, list[dict[str, str]]] = {}
    refused: dict[str, str] = {}
    for name, flow in pipelines.items():
        if env.provider.kind == "local":
            continue  # local environments need no cloud infrastructure
        try:
            planned[name] = [
                {"type": r.type, "name": r.name} for r in plan(flow, env=env) if not r.is_provider
            ]
        except InfraError as exc:  # e.g. a plugin cloud, or compute on a cloud without builder
            refused[name] = str(exc)
    state["planned"] = planned
    if refused:
        state["plan_refused"] = refused
    use_stack = deployed if deployed is not None else shutil.which("pulumi") is not None
    if use_stack:
        state["stacks"] = {name: _stack_outputs(env, name) for name in pipelines}
        state["source"] = "stack"
    else:
        state["source"] = "plan"
        state["note"] = (
            "Deployed outputs not read: the Pulumi CLI ('pulumi') is not on the PATH; the "
            "resources listed are those the plan declares."
        )
    return state


def export_state(env: Any, path: str | Path, *, deployed: bool | None = None) -> Path:
    """Write ``env``'s state as JSON to ``path``; returns the path written."""
    target = Path(path)
    if target.is_dir():
        raise OutputPathError(
            f"export_state({str(path)!r}): that is a directory; give a file path such as "
            f"{str(target / (env.name + '.json'))!r}."
        )
    state = environment_state(env, deployed=deployed)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(state, indent=2, sort_keys=True, default=str) + "\n")
    partial.replace(target)  # a reader never sees half a file
    return target


def _describe(resource: Any) -> Any:
    describe = getattr(resource, "describe", None)
    if callable(describe):
        return describe()
    return {"kind": "pulumi", "type": f"{type(resource).__module__}.{type(resource).__name__}"}


def _stack_outputs(env: Any, pipeline_name: str) -> dict[str, Any]:
    """The outputs of the deployed stack of ``pipeline_name`` in ``env``."""
    require_pulumi()
    from pulumi import automation as auto

    from glacier.infra.mocks import _project_name

    try:
        stack = auto.select_stack(
            stack_name=env.name,
            project_name=_project_name(pipeline_name),
            program=lambda: None,
        )
        outputs = stack.outputs()
    except auto.errors.CommandError as exc:
        raise InfraError(
            f"Reading the deployed stack {env.name!r} of pipeline {pipeline_name!r}: {exc}. "
            "Deploy it first (glacier deploy), or call get_state(deployed=False) for the plan."
        ) from exc
    return {key: value.value for key, value in outputs.items()}
