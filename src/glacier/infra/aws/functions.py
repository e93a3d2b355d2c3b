"""What the model asks the AWS builder about Lambda tasks, through its row of
:data:`glacier.infra.builders.BUILDERS` (``task_config`` and ``check_tasks``).

A task whose compute is a ``Serverless`` resource (``provider.serverless(...)``) runs as a
Lambda function: its :class:`~glacier.settings.LambdaConfig` is the resource's config with
the function name and runtime given to the resource. A function runs one task, so two tasks
given one function name are refused while the model is built, before anything is declared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from glacier.errors import InfraError
from glacier.infra.model import TaskSpec

if TYPE_CHECKING:
    from glacier.resources import Serverless
    from glacier.task import Task


def serverless_config(task: Task, compute: Serverless) -> Any:
    """The LambdaConfig of a task running on ``compute``: its config, with the function name
    and runtime given to ``provider.serverless(...)`` (nothing it was given is dropped)."""
    from glacier.settings import LambdaConfig

    if compute.handler is not None:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) runs on a Serverless resource created with "
            "handler=..., but a task's function runs the task itself (through Glacier's "
            "handler). Drop handler= from provider.serverless(...), or use "
            "env.compute.lambda_(...)."
        )
    config = compute.config or LambdaConfig()
    changes: dict[str, Any] = {}
    if compute.function_name and not config.function_name:
        changes["function_name"] = compute.function_name
    if compute.runtime and compute.runtime != config.runtime:
        changes["runtime"] = compute.runtime
    return config.replace(**changes) if changes else config


def check_function_names(specs: Sequence[TaskSpec]) -> None:
    """Two tasks given one function name (one Serverless as the compute of both) would be one
    function; refused."""
    seen: dict[tuple[str, str], str] = {}
    for spec in specs:
        name = getattr(spec.config, "function_name", None) if spec.compute == "lambda" else None
        if not name:
            continue
        other = seen.setdefault((spec.env, name), spec.name)
        if other != spec.name:
            raise InfraError(
                f"Tasks {other!r} and {spec.name!r} both run as Lambda function {name!r}; a "
                "function runs one task. Give each task its own compute "
                "(env.compute.lambda_(...)) or no function_name."
            )
