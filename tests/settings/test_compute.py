"""settings/compute.py: Lambda, ECS, Glue and Databricks configs stay within each service's
limits, and an error lists what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from glacier.settings import FARGATE_MEMORY, DatabricksConfig, EcsConfig, GlueConfig, LambdaConfig

from .conftest import config_error


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"memory": 127}, ("memory=127 is invalid: allowed range is 128 to 10240 MB",)),
        ({"memory": 10241}, ("memory=10241", "128 to 10240")),
        ({"timeout": 901}, ("timeout=901 is invalid: allowed range is 1 to 900 seconds",)),
        ({"runtime": "python3.9"}, ("runtime='python3.9' is invalid", "'python3.11'")),
        ({"architecture": "arm"}, ("architecture='arm'", "'arm64'")),
        (
            {"layers": ["arn:aws:lambda:us-east-1:123456789012:layer:polars:3"] * 6},
            ("at most 5 layers, got 6",),
        ),
        (
            {"layers": ["arn:aws:lambda:us-east-1:123456789012:layer:polars:3", "polars"]},
            ("layers[1]='polars' is invalid", "layer version ARN"),
        ),
        ({"reserved_concurrent_executions": -1}, ("reserved_concurrent_executions=-1",)),
        ({"ephemeral_storage": 511}, ("ephemeral_storage=511", "512 to 10240")),
        ({"function_name": "my function"}, ("function_name='my function'", "1 to 64")),
        ({"environment_vars": {"AWS_REGION": "x"}}, ("'AWS_REGION' is set by the Lambda",)),
        ({"environment_vars": {"1X": "x"}}, ("'1X' is not",)),
        ({"environment_vars": {"BIG": "x" * 5000}}, ("4 KB",)),
    ],
)
def test_lambda_limits(kwargs: dict[str, Any], fragments: tuple[str, ...]) -> None:
    config_error(lambda: LambdaConfig(**kwargs), "LambdaConfig: ", *fragments)


def test_lambda_config_from_the_seeds() -> None:
    config = LambdaConfig(
        memory=3008,
        timeout=900,
        runtime="python3.11",
        environment_vars={"LOG_LEVEL": "INFO"},
        reserved_concurrent_executions=10,
    )
    assert config.memory == 3008


@pytest.mark.parametrize(("cpu", "memories"), sorted(FARGATE_MEMORY.items()))
def test_ecs_fargate_sizes(cpu: int, memories: tuple[int, ...]) -> None:
    for memory in (memories[0], memories[-1]):
        assert EcsConfig(cpu=cpu, memory=memory).memory == memory
    config_error(
        lambda: EcsConfig(cpu=cpu, memory=memories[-1] + 1),
        f"memory={memories[-1] + 1} is not valid with cpu={cpu} on Fargate",
        f"allowed memory for cpu={cpu} is",
        str(memories[0]),
    )


def test_ecs_size_errors_list_what_is_allowed() -> None:
    config_error(
        lambda: EcsConfig(cpu=256, memory=4096), "allowed memory for cpu=256 is 512, 1024, 2048"
    )
    config_error(lambda: EcsConfig(cpu=4096, memory=4096), "8192 to 30720 in steps of 1024 (MiB)")
    config_error(lambda: EcsConfig(cpu=300), "cpu=300", "256, 512, 1024, 2048, 4096, 8192, 16384")
    assert EcsConfig(launch_type="EC2", cpu=300, memory=700).cpu == 300
    config_error(lambda: EcsConfig(launch_type="EC2", spot=True), "spot=True runs on Fargate Spot")


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"worker_type": "G.3X"}, ("worker_type='G.3X' is invalid", "'G.2X'")),
        ({"num_workers": 1}, ("num_workers=1", "2 to 299")),
        ({"num_workers": 300, "worker_type": "G.2X"}, ("num_workers=300", "2 to 299")),
        ({"glue_version": "2.0"}, ("glue_version='2.0'", "'5.0'")),
        ({"timeout_minutes": 10081}, ("timeout_minutes=10081", "1 to 10080")),
        ({"max_retries": 11}, ("max_retries=11", "0 to 10")),
    ],
)
def test_glue_limits(kwargs: dict[str, Any], fragments: tuple[str, ...]) -> None:
    config_error(lambda: GlueConfig(**kwargs), "GlueConfig: ", *fragments)


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"num_workers": 1001}, ("num_workers=1001", "0 to 1000")),
        ({"autotermination_minutes": 5}, ("autotermination_minutes=5", "10 to 10000")),
        ({"spark_version": "15.4"}, ("spark_version='15.4'", "'15.4.x-scala2.12'")),
        ({"instance_type": " "}, ("instance_type=' '", "'m5.xlarge'")),
    ],
)
def test_databricks_limits(kwargs: dict[str, Any], fragments: tuple[str, ...]) -> None:
    config_error(lambda: DatabricksConfig(**kwargs), "DatabricksConfig: ", *fragments)
