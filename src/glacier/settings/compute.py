"""Compute configs: serverless functions, containers and Spark jobs, with each service's limits.

The limits are the documented service quotas that cannot be raised; a value outside them would
only fail at deploy time, after the infrastructure plan was already built.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AfterValidator, Field, field_validator, model_validator

from glacier.errors import ConfigError
from glacier.settings.base import Cloud, GlacierModel, between, refuse_secret_variables
from glacier.settings.names import validate_lambda_function_name
from glacier.settings.tags import AwsTags, GcpLabels, Tags

__all__ = [
    "CLOUD_RUN_CPU_MEMORY",
    "CONTAINER_APP_SIZES",
    "FARGATE_MEMORY",
    "CloudRunConfig",
    "ContainerAppConfig",
    "DatabricksConfig",
    "EcsConfig",
    "GlueConfig",
    "LambdaConfig",
]

_LAYER_ARN = re.compile(r"arn:aws[-a-z]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+")
_LAMBDA_ENV_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]+")
_SPARK_VERSION = re.compile(r"\d+\.\d+\.x-([a-z0-9-]+-)?scala\d+\.\d+")

# Set by the Lambda runtime itself; CreateFunction refuses them in Environment.Variables.
_LAMBDA_RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def _check_layer_arn(value: str) -> str:
    if not _LAYER_ARN.fullmatch(value):
        raise ValueError(
            "a layer is a layer version ARN such as "
            "'arn:aws:lambda:us-east-1:123456789012:layer:polars:3'"
        )
    return value


#: A Lambda layer version ARN (``arn:aws:lambda:<region>:<account>:layer:<name>:<version>``).
LayerArn = Annotated[str, AfterValidator(_check_layer_arn)]


def _fargate_memory() -> dict[int, tuple[int, ...]]:
    def steps(low: int, high: int, step: int) -> tuple[int, ...]:
        return tuple(range(low, high + 1, step))

    return {
        256: (512, 1024, 2048),
        512: steps(1024, 4096, 1024),
        1024: steps(2048, 8192, 1024),
        2048: steps(4096, 16384, 1024),
        4096: steps(8192, 30720, 1024),
        8192: steps(16384, 61440, 4096),
        16384: steps(32768, 122880, 8192),
    }


#: Fargate's valid task sizes: CPU units -> the memory sizes (MiB) allowed with them.
FARGATE_MEMORY: dict[int, tuple[int, ...]] = _fargate_memory()


def _describe_sizes(sizes: tuple[int, ...]) -> str:
    if len(sizes) <= 4:
        return ", ".join(map(str, sizes))
    return f"{sizes[0]} to {sizes[-1]} in steps of {sizes[1] - sizes[0]}"


class LambdaConfig(GlacierModel):
    """How an AWS Lambda function is created.

    Example:
        >>> LambdaConfig(memory=1024, timeout=300, architecture="arm64").memory
        1024
        >>> LambdaConfig(package_type="Image").package_type
        'Image'
        >>> LambdaConfig(memory=20000)
        Traceback (most recent call last):
        ...
        glacier.errors.ConfigError: LambdaConfig: memory=20000 is invalid: allowed range is 128 ...
    """

    _cloud: ClassVar[Cloud | None] = "aws"

    memory: Annotated[int, between(128, 10240, "MB (the AWS Lambda limit)")] = 512
    timeout: Annotated[int, between(1, 900, "seconds (the AWS Lambda limit)")] = 300
    runtime: Literal["python3.10", "python3.11", "python3.12", "python3.13"] = "python3.11"
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    environment_vars: dict[str, str] = {}
    layers: list[LayerArn] = []
    reserved_concurrent_executions: Annotated[int, Field(ge=0)] | None = None
    ephemeral_storage: Annotated[int, between(512, 10240, "MB (the AWS Lambda limit)")] = 512
    function_name: str | None = None
    tags: AwsTags = {}
    #: How the function's code is packaged: ``"Zip"`` (a package and Glacier's layer, 250 MB
    #: unzipped at most) or ``"Image"`` (a container image, up to 10 GB). ``None``: the plan
    #: chooses, a zip when the runtime fits it, else an image (``docs/deploy.md``).
    package_type: Literal["Zip", "Image"] | None = None

    @model_validator(mode="after")
    def _image_has_no_layers(self) -> Self:
        if self.package_type == "Image" and self.layers:
            raise ValueError(
                "layers=... cannot be used with package_type='Image' (a container image "
                "function has no layers): put what the layers hold in the image, or use "
                "package_type='Zip'"
            )
        return self

    @field_validator("environment_vars")
    @classmethod
    def _environment_vars(cls, value: dict[str, str]) -> dict[str, str]:
        refuse_secret_variables(value.keys(), "aws")
        for key in value:
            if key in _LAMBDA_RESERVED_ENV:
                raise ValueError(f"{key!r} is set by the Lambda runtime and cannot be overridden")
            if not _LAMBDA_ENV_KEY.fullmatch(key):
                raise ValueError(
                    f"Lambda variable names are a letter then letters, digits or '_' "
                    f"(at least 2 characters); {key!r} is not"
                )
        size = sum(len(k) + len(v) for k, v in value.items())
        if size > 4096:
            raise ValueError(f"Lambda allows 4 KB of environment variables in total, got {size}")
        return value

    @field_validator("layers")
    @classmethod
    def _layers(cls, value: list[str]) -> list[str]:
        if len(value) > 5:
            raise ValueError(f"a Lambda function has at most 5 layers, got {len(value)}")
        return value

    @field_validator("function_name")
    @classmethod
    def _function_name(cls, value: str | None) -> str | None:
        return None if value is None else validate_lambda_function_name(value)


class EcsConfig(GlacierModel):
    """How an ECS task runs; on Fargate, ``cpu``/``memory`` must be one of its task sizes.

    Example:
        >>> EcsConfig(image="acme/etl:1.2", cpu=512, memory=2048).launch_type
        'FARGATE'
        >>> EcsConfig(cpu=256, memory=4096)
        Traceback (most recent call last):
        ...
        glacier.errors.ConfigError: EcsConfig: memory=4096 is not valid with cpu=256 on ...
    """

    _cloud: ClassVar[Cloud | None] = "aws"

    image: str | None = None
    cpu: Annotated[int, Field(gt=0)] = 256
    memory: Annotated[int, Field(gt=0)] = 512
    launch_type: Literal["FARGATE", "EC2"] = "FARGATE"
    spot: bool = False
    environment_vars: dict[str, str] = {}
    tags: AwsTags = {}

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c.isspace() for c in value)):
            raise ValueError("an image is a reference such as 'acme/etl:1.2' (no spaces)")
        return value

    @field_validator("environment_vars")
    @classmethod
    def _environment_vars(cls, value: dict[str, str]) -> dict[str, str]:
        refuse_secret_variables(value.keys(), "aws")
        return value

    @model_validator(mode="after")
    def _fargate_size(self) -> Self:
        if self.spot and self.launch_type != "FARGATE":
            raise ConfigError(
                f"spot=True runs on Fargate Spot, which launch_type={self.launch_type!r} is "
                "not; use launch_type='FARGATE' or spot=False."
            )
        if self.launch_type != "FARGATE":
            return self
        allowed = FARGATE_MEMORY.get(self.cpu)
        if allowed is None:
            raise ConfigError(
                f"cpu={self.cpu} is not a Fargate task size; allowed cpu values are "
                f"{', '.join(map(str, FARGATE_MEMORY))}."
            )
        if self.memory not in allowed:
            raise ConfigError(
                f"memory={self.memory} is not valid with cpu={self.cpu} on Fargate; allowed "
                f"memory for cpu={self.cpu} is {_describe_sizes(allowed)} (MiB)."
            )
        return self


#: Cloud Run jobs: the memory (MiB) each CPU count allows, lowest and highest. Source: Cloud
#: Run's "Configure CPU limits" and "Configure memory limits" pages (a job has at least 1 CPU;
#: 4 CPUs need at least 2 GiB, 6 and 8 CPUs at least 4 GiB; at most 4 GiB per CPU, 32 GiB).
CLOUD_RUN_CPU_MEMORY: dict[int, tuple[int, int]] = {
    1: (512, 4096),
    2: (512, 8192),
    4: (2048, 16384),
    6: (4096, 24576),
    8: (4096, 32768),
}
#: Variables Cloud Run sets in every job's container; a job cannot override them.
_CLOUD_RUN_RESERVED_ENV = frozenset(
    {
        "CLOUD_RUN_JOB",
        "CLOUD_RUN_EXECUTION",
        "CLOUD_RUN_TASK_INDEX",
        "CLOUD_RUN_TASK_ATTEMPT",
        "CLOUD_RUN_TASK_COUNT",
        "PORT",
    }
)


class CloudRunConfig(GlacierModel):
    """How a task runs as a Cloud Run job (GCP's default compute).

    ``memory`` is in MiB and must suit ``cpu`` (:data:`CLOUD_RUN_CPU_MEMORY`); ``timeout`` is
    one attempt's limit in seconds (Cloud Run allows up to 24 hours). Without ``image`` the
    task runs the image built from the Dockerfile ``glacier generate`` writes, pushed to the
    environment's Artifact Registry repository (the plan names it).

    Example:
        >>> CloudRunConfig(cpu=2, memory=4096, timeout=1800).memory
        4096
        >>> CloudRunConfig(cpu=1, memory=8192)
        Traceback (most recent call last):
        ...
        glacier.errors.ConfigError: CloudRunConfig: memory=8192 MiB is not valid with cpu=1 ...
    """

    _cloud: ClassVar[Cloud | None] = "gcp"

    image: str | None = None
    cpu: Literal[1, 2, 4, 6, 8] = 1
    memory: Annotated[int, between(512, 32768, "MiB (the Cloud Run limit)")] = 2048
    timeout: Annotated[int, between(1, 86400, "seconds (the Cloud Run job limit)")] = 3600
    environment_vars: dict[str, str] = {}
    labels: GcpLabels = {}

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c.isspace() for c in value)):
            raise ValueError(
                "an image is a reference such as "
                "'europe-west1-docker.pkg.dev/acme/etl/etl:1.2' (no spaces)"
            )
        return value

    @field_validator("environment_vars")
    @classmethod
    def _environment_vars(cls, value: dict[str, str]) -> dict[str, str]:
        refuse_secret_variables(value.keys(), "gcp")
        for key in value:
            if key in _CLOUD_RUN_RESERVED_ENV:
                raise ValueError(f"{key!r} is set by Cloud Run and cannot be overridden")
        return value

    @model_validator(mode="after")
    def _memory_suits_cpu(self) -> Self:
        low, high = CLOUD_RUN_CPU_MEMORY[self.cpu]
        if not low <= self.memory <= high:
            raise ConfigError(
                f"CloudRunConfig: memory={self.memory} MiB is not valid with cpu={self.cpu} on "
                f"Cloud Run; {self.cpu} CPU allow {low} to {high} MiB. Raise cpu or change "
                "memory."
            )
        return self


class GlueConfig(GlacierModel):
    """How an AWS Glue job runs.

    Example:
        >>> GlueConfig(worker_type="G.2X", num_workers=10).glue_version
        '5.0'
    """

    _cloud: ClassVar[Cloud | None] = "aws"

    worker_type: Literal["Standard", "G.1X", "G.2X", "G.4X", "G.8X", "G.025X", "Z.2X"] = "G.1X"
    num_workers: Annotated[int, Field(ge=1)] = 2
    #: Glue 5.0 runs Python 3.11, the oldest Python Glacier runs on.
    glue_version: Literal["3.0", "4.0", "5.0"] = "5.0"
    timeout_minutes: Annotated[int, between(1, 10080, "minutes (7 days, the Glue limit)")] = 60
    max_retries: Annotated[int, between(0, 10)] = 0
    #: pip requirements the job installs on top of what Glacier itself needs.
    additional_python_modules: tuple[str, ...] = ()
    tags: AwsTags = {}

    @field_validator("additional_python_modules")
    @classmethod
    def _modules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for spec in value:
            if not spec.strip() or "," in spec or " " in spec.strip():
                raise ValueError(
                    f"{spec!r} is not one pip requirement: give each as its own item, e.g. "
                    "('pyarrow==17.0.0', 's3://my-bucket/wheels/mylib-1.0-py3-none-any.whl')"
                )
        return value

    @model_validator(mode="after")
    def _workers(self) -> Self:
        if self.worker_type.startswith("G.") and not 2 <= self.num_workers <= 299:
            raise ConfigError(
                f"num_workers={self.num_workers} is invalid for worker_type="
                f"{self.worker_type!r}: allowed range is 2 to 299."
            )
        return self


class DatabricksConfig(GlacierModel):
    """How a Databricks job cluster is sized.

    Example:
        >>> DatabricksConfig(num_workers=8, spark_version="15.4.x-photon-scala2.12").num_workers
        8
    """

    instance_type: str = "m5.xlarge"
    num_workers: Annotated[int, between(0, 1000)] = 2
    spark_version: str = "15.4.x-scala2.12"
    autotermination_minutes: Annotated[int, between(10, 10000, "minutes")] = 30
    tags: Tags = {}
    #: The workspace a plan declares the task's job in (``https://<workspace>``); planning a
    #: task on Databricks needs it (submitting jobs reads ``DATABRICKS_HOST`` instead).
    workspace_host: str | None = None
    #: The secret (Secrets Manager name on AWS) holding the token the deployment and the
    #: orchestrator use for the workspace; never the token itself.
    token_secret: str | None = None
    #: The workspace group allowed to run (not edit) the task's job (``CAN_MANAGE_RUN``).
    run_group: str | None = None

    @field_validator("workspace_host")
    @classmethod
    def _workspace_host(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https://[A-Za-z0-9.-]+", value.rstrip("/")):
            raise ValueError(
                "a workspace host looks like 'https://dbc-1234abcd-5678.cloud.databricks.com'"
            )
        return value.rstrip("/") if value else value

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an instance type is a node type such as 'm5.xlarge'")
        return value

    @field_validator("spark_version")
    @classmethod
    def _spark_version(cls, value: str) -> str:
        if not _SPARK_VERSION.fullmatch(value):
            raise ValueError(
                "a Databricks runtime looks like '15.4.x-scala2.12' or '15.4.x-photon-scala2.12'"
            )
        return value


#: Container Apps' CPU and memory combinations on the Consumption plan: vCPU -> GiB (memory is
#: twice the vCPU, in steps of 0.25 vCPU up to 4; Azure Container Apps, "Containers" docs).
CONTAINER_APP_SIZES: dict[float, float] = {n / 4: n / 2 for n in range(1, 17)}


class ContainerAppConfig(GlacierModel):
    """How a task runs as an Azure Container Apps job (``env.compute.container_app(...)``).

    ``timeout`` bounds one run of the job (every attempt of the task's own retries within it;
    a task's ``timeout=`` per attempt, when set, makes the job's limit cover all of them).

    Example:
        >>> ContainerAppConfig(cpu=1, memory=2).memory
        2.0
        >>> ContainerAppConfig(cpu=0.5, memory=4)
        Traceback (most recent call last):
        ...
        glacier.errors.ConfigError: ContainerAppConfig: memory=4.0 is not valid with cpu=0.5 ...
    """

    _cloud: ClassVar[Cloud | None] = "azure"

    image: str | None = None
    cpu: float = 0.5
    memory: float = 1.0
    timeout: Annotated[int, between(1, 86400, "seconds (Glacier's bound: one day)")] = 1800
    environment_vars: dict[str, str] = {}
    tags: Tags = {}

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c.isspace() for c in value)):
            raise ValueError("an image is a reference such as 'acme.azurecr.io/etl:1.2'")
        return value

    @field_validator("environment_vars")
    @classmethod
    def _environment_vars(cls, value: dict[str, str]) -> dict[str, str]:
        refuse_secret_variables(value.keys(), "azure")
        return value

    @model_validator(mode="after")
    def _consumption_size(self) -> Self:
        allowed = CONTAINER_APP_SIZES.get(self.cpu)
        if allowed is None:
            raise ConfigError(
                f"cpu={self.cpu} is not a Container Apps size; allowed cpu "
                "values are 0.25 to 4.0 in steps of 0.25 (vCPU)."
            )
        if self.memory != allowed:
            raise ConfigError(
                f"memory={self.memory} is not valid with cpu={self.cpu} on "
                f"the Consumption plan; use memory={allowed} (GiB: twice the vCPU)."
            )
        return self
