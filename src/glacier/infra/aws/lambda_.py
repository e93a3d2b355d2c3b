"""Lambda functions: a task as a function running Glacier's handler on the packaged code.

The function runs as the task's role, logs to the task's log group (declared beforehand, so
that it has a retention), takes its memory, timeout, architecture and layers from the task's
:class:`~glacier.settings.LambdaConfig`, and is placed in the environment's subnets when the
environment has a network; a task that declares a volume mounts its access point.

Its code is a zip package whose first layer holds Glacier's runtime dependencies
(:func:`dependencies_layer`, one ``aws.lambda_.LayerVersion`` per runtime and architecture),
or, when the runtime cannot fit a zip (a task with Delta tables: deltalake beside polars) or
the settings ask for it, a container image from the environment's ECR repository
(:mod:`glacier.infra.aws.ecr`), built from the generated ``Dockerfile.lambda`` with the same
pins. The choice is :func:`package_choice`'s, shown in the plan.
"""

from __future__ import annotations

import math
from typing import Any

from glacier import env_vars
from glacier.errors import InfraError
from glacier.infra.aws.ecr import image_uri
from glacier.infra.aws.efs import lambda_file_system
from glacier.infra.aws.naming import NAME_CHARS, function_name
from glacier.infra.aws.network import lambda_vpc_config
from glacier.infra.aws.packaging import (
    HANDLER,
    check_package_size,
    code_files,
    code_spec,
    function_archive,
    glacier_files,
)
from glacier.infra.aws.stack import Stack, add, logical_name
from glacier.infra.aws.task_environment import task_variables
from glacier.infra.image import IMAGE_HANDLER
from glacier.infra.lambda_package import (
    PackageChoice,
    TimingChoice,
    choose,
    function_spec,
    heavy_needs,
    layer_size,
)
from glacier.infra.layer import (
    LAMBDA_UNZIPPED_LIMIT,
    RUNTIME_DISTRIBUTIONS,
    LayerSpec,
    build_layer,
    built,
    estimated_size,
)
from glacier.infra.model import TaskSpec, physical_name
from glacier.retries import attempts_seconds

#: The longest a Lambda function may run, in seconds.
LAMBDA_MAX_TIMEOUT = 900


def timing(task: TaskSpec) -> TimingChoice | None:
    """The function's timeout and who retries Lambda task ``task``, when the plan chose.

    A Lambda task retries in its own process (see :mod:`glacier.infra.aws.definition`), so
    every attempt and every wait runs inside one invocation. When the task has a ``timeout``
    and its attempts do not fit the function's timeout: a timeout its settings did not name
    is raised to fit them (up to 900 s); past that — or past a timeout they named — the state
    machine retries instead, one attempt per invocation with the same waits. An attempt
    allowed longer than the function may run (a template's hour, say) is ended when the
    function times out; the plan says so. Without a task ``timeout`` an attempt's length is
    unknown and nothing is chosen.
    """
    cfg = task.config
    given = "timeout" in cfg.model_fields_set
    if task.timeout is None:
        return None
    seconds = attempts_seconds_of(task)
    attempts = task.retries + 1
    if seconds <= cfg.timeout:
        return None  # they fit the timeout as it is
    most = int(cfg.timeout) if given else LAMBDA_MAX_TIMEOUT
    if task.timeout > most:  # each attempt may outlast the function: at most one per start
        return TimingChoice(
            task.name, most, attempts, seconds, by_state=attempts > 1, cut=float(task.timeout)
        )
    if given or seconds > LAMBDA_MAX_TIMEOUT:
        function_timeout = (
            int(cfg.timeout) if given else max(int(cfg.timeout), math.ceil(task.timeout))
        )
        return TimingChoice(task.name, function_timeout, attempts, seconds, by_state=True)
    return TimingChoice(task.name, math.ceil(seconds), attempts, seconds, by_state=False)


def function_timeout(task: TaskSpec) -> int:
    """The timeout of ``task``'s function: its settings', or the one the plan chose."""
    chosen = timing(task)
    return chosen.function_timeout if chosen is not None else int(task.config.timeout)


def retried_by_state(task: TaskSpec) -> bool:
    """Whether the state machine retries Lambda task ``task`` (see :func:`timing`)."""
    chosen = timing(task)
    return chosen is not None and chosen.by_state


def attempts_seconds_of(task: TaskSpec) -> float:
    """The longest ``task``'s attempts and the waits between them may take."""
    assert task.timeout is not None
    return attempts_seconds(
        timeout=task.timeout,
        retries=task.retries,
        retry_delay=task.retry_delay,
        backoff=task.backoff,
        max_delay=task.max_delay,
        jitter=task.jitter,
    )


def function(stack: Stack, task: TaskSpec, role: Any, log_group: Any, policy: Any) -> None:
    """Declare ``task``'s function, running as ``role`` and logging to ``log_group``: a zip
    package with Glacier's layer, or a container image (:func:`package_choice`)."""
    aws, cfg, env = stack.aws, task.config, stack.env
    choice = package_choice(stack, task)
    chosen = timing(task)
    if choice.package == "Image":
        package: dict[str, Any] = {
            "package_type": "Image",
            "image_uri": image_uri(stack, task),
            "image_config": aws.lambda_.FunctionImageConfigArgs(commands=[IMAGE_HANDLER]),
        }
    else:
        spec = function_spec(stack.model, task)
        check_runtime_fits(task, spec)
        layer, layer_size = dependencies_layer(stack, spec, cfg.runtime, cfg.architecture)
        check_package_size(stack, task.name, task.location, layer_size)
        package = {
            "package_type": "Zip",
            "runtime": cfg.runtime,
            "handler": HANDLER,
            "code": function_archive(stack),
            "layers": [layer.arn, *cfg.layers],
        }
    variables = task_variables(stack, task)
    if choice.package == "Image":  # the image's handler finds the pipeline through it
        variables[env_vars.GLACIER_TARGET] = code_spec(stack).relative_target
    if chosen is not None:
        stack.out.choices.append(chosen)
        if chosen.by_state:
            variables[env_vars.GLACIER_ONE_ATTEMPT] = "1"
    made = add(
        stack,
        aws.lambda_.Function,
        logical_name(stack, task.name, "function"),
        depends_on=[log_group, policy],
        name=function_name(stack.model, env, task),
        role=role.arn,
        **package,
        memory_size=cfg.memory,
        timeout=function_timeout(task),
        architectures=[cfg.architecture],
        ephemeral_storage=aws.lambda_.FunctionEphemeralStorageArgs(size=cfg.ephemeral_storage),
        reserved_concurrent_executions=cfg.reserved_concurrent_executions,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
        vpc_config=lambda_vpc_config(stack, task),
        file_system_config=lambda_file_system(stack, task),
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="Text", log_group=log_group.name
        ),
        tags={**stack.tags, **cfg.tags, "glacier:task": task.name},
    )
    stack.out.functions[task.name] = made


def package_choice(stack: Stack, task: TaskSpec) -> PackageChoice:
    """How ``task``'s code is packaged (:func:`glacier.infra.lambda_package.choose`),
    recorded in the stack's output for the plan to show."""
    paths = [*glacier_files().values(), *code_files(code_spec(stack)).values()]
    choice = choose(task, sum(p.stat().st_size for p in paths), function_spec(stack.model, task))
    stack.out.choices.append(choice)
    return choice


def check_runtime_fits(task: TaskSpec, spec: LayerSpec) -> None:
    """Refuse, at plan time, a zip function whose runtime ``spec`` holds what cannot fit
    Lambda's unzipped limit beside polars (measured, or estimated from the versions installed
    here): deltalake for Delta tables, the PostgreSQL driver and pyarrow for a database.
    Measured here: polars' library alone is 132 MB even with its debug symbols stripped and
    deltalake's (already stripped) 128 MB, so the pair cannot fit 250 MB
    (``docs/deploying.md``, "What an image or layer installs")."""
    heavy = heavy_needs(spec)
    if not heavy:
        return
    size = layer_size(spec)
    if size <= LAMBDA_UNZIPPED_LIMIT:
        return
    what = []
    if task.tables:
        what.append(f"reads or writes Delta table(s) {', '.join(repr(t) for t in task.tables)}")
    if task.databases:
        what.append(f"uses database(s) {', '.join(repr(d) for d in task.databases)}")
    raise InfraError(
        f"Task {task.name!r} ({task.location}) {' and '.join(what) or 'has a large runtime'}: "
        f"{' and '.join(heavy)}, {size / 2**20:.0f} MB unzipped with polars, more than "
        f"Lambda's {LAMBDA_UNZIPPED_LIMIT // 2**20} MB limit for a function and its layers. "
        "Run it on ECS (compute=env.compute.ecs(...), built from the generated Dockerfile)"
        + (", or store the dataset as one file (a path ending in .parquet)" if task.tables else "")
        + "; or package it as a container image (env.compute.lambda_(package_type='Image'), "
        "what the plan chooses when package_type is not set)."
    )


def dependencies_layer(
    stack: Stack, spec: LayerSpec, runtime: str, architecture: str
) -> tuple[Any, int]:
    """The layer of ``spec`` (Glacier's runtime dependencies for ``runtime`` on
    ``architecture``), declared once per environment, and its unzipped size in bytes.

    Deploying (``pulumi up``, ``preview``) builds the layer when it is not in the cache yet:
    Pulumi archives its directory. An offline plan (the mock engine) builds nothing; it
    measures the layer if it was built, and estimates it otherwise.
    """
    made: tuple[Any, int] | None = stack.shared.get(f"layer:{spec.key}")
    if made is not None:
        return made
    layer = built(spec)
    if layer is None and not _offline_plan(stack.pulumi):
        layer = build_layer(spec)
    path = layer.path if layer is not None else spec.key
    size = layer.size if layer is not None else estimated_size(spec)
    python = spec.python_version.replace(".", "")
    # Functions of one environment may need different sets (a format's extra): each set is
    # its own layer, named after what it adds to an AWS task's default set.
    extra = sorted({r.split("==")[0] for r in spec.requirements} - set(RUNTIME_DISTRIBUTIONS))
    suffix = "".join(f"-{name}" for name in extra)
    version = add(
        stack,
        stack.aws.lambda_.LayerVersion,
        logical_name(stack, f"layer-py{python}-{architecture}{suffix}"),
        layer_name=physical_name(
            stack.env.naming_prefix,
            stack.model.pipeline,
            f"deps-py{python}-{architecture}{suffix}",
            limit=140,
            allowed=NAME_CHARS,
        ),
        code=stack.pulumi.FileArchive(str(path)),
        compatible_runtimes=[runtime],
        compatible_architectures=[architecture],
        description=f"Glacier's runtime dependencies ({spec.key}): "
        + ", ".join(spec.requirements)[:200],
    )
    made = stack.shared[f"layer:{spec.key}"] = (version, size)
    return made


def _offline_plan(pulumi: Any) -> bool:
    """Whether the program runs under Pulumi's mock engine (``glacier plan``, the tests)."""
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_monitor

    return isinstance(get_monitor(), MockMonitor)
