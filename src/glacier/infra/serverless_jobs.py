"""A serverless function hint on a cloud whose builder runs tasks as container jobs.

``env.compute.lambda_(memory=512, timeout=60)`` (or ``env.compute.serverless(...)``, or
``provider.serverless(...)``) names a function on AWS. So that a pipeline switches clouds by
changing its settings only (seed 001, "Switch Clouds by Changing Config"), the same hint in a
GCP or Azure environment runs the task as that cloud's serverless job, sized from the
function's memory and timeout: a Cloud Run job (the smallest CPU count that allows the
memory, at least 512 MiB) or a Container Apps job (the smallest size whose memory covers the
function's, at least 1 GiB). Its variables travel with it; a function made with
``handler=`` (one a task invokes, not a task's compute) is refused as on AWS.

Example:
    >>> cloud_run_size(512), cloud_run_size(6000)
    ((1, 512), (2, 6000))
    >>> container_app_size(512), container_app_size(3000)
    ((0.5, 1.0), (1.5, 3.0))
"""

from __future__ import annotations

import math
from typing import Any

from glacier.errors import InfraError

__all__ = ["cloud_run_config", "cloud_run_size", "container_app_config", "container_app_size"]


def cloud_run_size(memory_mib: int) -> tuple[int, int]:
    """``(cpu, memory MiB)`` of the Cloud Run job for a function of ``memory_mib``."""
    from glacier.settings.compute import CLOUD_RUN_CPU_MEMORY

    memory = max(512, int(memory_mib))
    for cpu, (_, most) in sorted(CLOUD_RUN_CPU_MEMORY.items()):
        if memory <= most:
            return cpu, memory
    return max(CLOUD_RUN_CPU_MEMORY), memory  # refused by CloudRunConfig, naming the limit


def container_app_size(memory_mib: int) -> tuple[float, float]:
    """``(cpu, memory GiB)`` of the Container Apps job for a function of ``memory_mib``."""
    gib = max(1.0, math.ceil(int(memory_mib) / 512) / 2)
    return gib / 2, gib


def _function(task: Any, compute: Any, cloud: str, spelling: str) -> Any:
    if getattr(compute, "handler", None) is not None:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) runs on a serverless function made with "
            "handler=..., a function a task invokes, not a task's compute. Drop handler=, or "
            f"use {spelling}."
        )
    from glacier.settings import LambdaConfig

    return compute.config or LambdaConfig()


def cloud_run_config(task: Any, compute: Any) -> Any:
    """The ``CloudRunConfig`` of a task whose compute is a serverless function, on GCP."""
    from glacier.settings import CloudRunConfig

    function = _function(task, compute, "gcp", "env.compute.cloud_run(...)")
    cpu, memory = cloud_run_size(function.memory)
    return CloudRunConfig(
        cpu=cpu,  # type: ignore[arg-type]  # a key of CLOUD_RUN_CPU_MEMORY: 1, 2, 4, 6 or 8
        memory=memory,
        timeout=function.timeout,
        environment_vars=dict(function.environment_vars),
    )


def container_app_config(task: Any, compute: Any) -> Any:
    """The ``ContainerAppConfig`` of a task whose compute is a serverless function, on
    Azure."""
    from glacier.settings import ContainerAppConfig

    function = _function(task, compute, "azure", "env.compute.container_app(...)")
    cpu, memory = container_app_size(function.memory)
    return ContainerAppConfig(
        cpu=cpu,
        memory=memory,
        timeout=function.timeout,
        environment_vars=dict(function.environment_vars),
    )
