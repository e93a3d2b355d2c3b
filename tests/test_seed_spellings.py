"""Seed spellings that failed (issue 27): seed 002's ``glacier_aws.Environment(account=...,
region=..., name=...)`` and seed 001's ``env.compute.serverless("process", handler="main")``.
The page ``docs/seeds.md`` lists them with an executed example."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import AWSEnvironment, Dataset, Environment, Pipeline, Provider, Serverless, infra
from glacier.config import LambdaConfig, LocalConfig
from glacier.errors import ConfigError, InfraError


def test_glacier_aws_environment_takes_the_seeds_account_and_name() -> None:
    from glacier_aws import Environment as SeedEnvironment

    prod = SeedEnvironment(account="123456789012", region="us-east-1", name="prod")
    assert isinstance(prod, AWSEnvironment)
    assert (prod.name, prod.provider.config.account_id, prod.region) == (
        "prod",
        "123456789012",
        "us-east-1",
    )
    bucket = prod.s3(bucket="prod-data")
    assert bucket.bucket_name == "prod-data" and bucket.provider is prod.provider
    # The current spelling works through the same class.
    same = SeedEnvironment(account_id="123456789012", region="us-east-1", environment="prod")
    assert (same.name, same.provider.config.account_id) == ("prod", "123456789012")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"account": "123456"}, "an AWS account id is exactly 12 digits"),
        (
            {"account": "123456789012", "account_id": "999999999999"},
            "give one (account= is the seed's spelling of account_id=)",
        ),
        ({"name": "prod", "environment": "dev"}, "name= is the seed's spelling of environment="),
    ],
)
def test_glacier_aws_environment_refuses_what_it_cannot_take(
    values: dict[str, Any], message: str
) -> None:
    from glacier_aws import Environment as SeedEnvironment

    with pytest.raises(ConfigError) as refused:
        SeedEnvironment(region="us-east-1", **values)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_compute_serverless_with_a_name_and_handler_is_a_function_a_task_invokes(
    tmp_path: Path,
) -> None:
    env = Environment(Provider(config=LocalConfig(base_path=str(tmp_path))), name="dev")
    calls: list[dict[str, Any]] = []

    def main(payload: dict[str, Any], context: object) -> dict[str, Any]:
        calls.append(payload)
        return {"doubled": payload["x"] * 2}

    processor = env.compute.serverless("process", handler=main, memory=256)
    assert isinstance(processor, Serverless)
    assert (processor.function_name, processor.handler) == ("process", main)
    assert processor.config == LambdaConfig(memory=256)
    assert processor.invoke({"x": 21}) == {"doubled": 42}
    assert calls == [{"x": 21}]


def test_compute_serverless_without_a_name_is_a_tasks_compute_as_lambda() -> None:
    env = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="dev")
    compute = env.compute.serverless(memory=512, timeout=60)
    assert compute.handler is None and compute.function_name is None
    assert compute.config == env.compute.lambda_(memory=512, timeout=60).config


def test_compute_serverless_with_a_number_first_gives_the_current_spelling() -> None:
    env = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="dev")
    with pytest.raises(ConfigError, match=r"env\.compute\.lambda_\(memory=512\)"):
        env.compute.serverless(512)  # type: ignore[arg-type]


def test_a_function_with_a_handler_as_a_tasks_compute_is_refused_at_plan() -> None:
    env = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="prod")
    pipeline = Pipeline("seed-002", env=env)
    out = Dataset("out", storage=env.storage.s3(bucket="prod-out"))

    @pipeline.task(compute=env.compute.serverless("process", handler="main"))
    def make() -> out:
        return pl.DataFrame({"x": [1]})

    with pytest.raises(InfraError, match=r"use env\.compute\.lambda_\(\.\.\.\)"):
        infra.plan(pipeline)
