"""Scenario 4 of the UX design: configuration cascades provider -> resource -> task.

    python examples/config_cascade.py

Provider tags flow into every resource; a resource config refines them; task options refine
the environment's task defaults. Nothing here needs an AWS account: the example inspects the
cascade and analyses the pipeline without running it.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from glacier import Bucket, GlacierEnv, Provider
from glacier.config import AwsConfig, LambdaConfig, S3Config, TaskConfig

aws_config = AwsConfig(
    region="us-east-1",
    profile="production",
    account_id="123456789012",
    tags={"environment": "production", "team": "data-engineering", "managed-by": "glacier"},
)
provider = Provider(config=aws_config)
env = GlacierEnv(
    provider=provider,
    name="production",
    task_defaults=TaskConfig(retries=1, timeout=600, tags={"owner": "data"}),
)

critical_storage_config = S3Config(
    versioning=True, encryption="AES256", storage_class="STANDARD", tags={"tier": "critical"}
)
archive_storage_config = S3Config(
    versioning=False,
    storage_class="INTELLIGENT_TIERING",
    lifecycle_rules=[{"days": 30, "transition": "GLACIER"}, {"days": 365, "expiration": True}],
)
intensive_lambda_config = LambdaConfig(
    memory=3008,
    timeout=900,
    environment_vars={"LOG_LEVEL": "INFO"},
    reserved_concurrent_executions=10,
)


@env.task(timeout=300, retries=3, cache=True)
def extract_critical_data(source: Bucket) -> pl.LazyFrame:
    """Extract critical business data with caching."""
    return source.scan()


@env.task(
    timeout=900,
    retries=5,
    tags={"owner": "ml"},
    compute=env.compute.lambda_(config=intensive_lambda_config),
)
def intensive_transformation(df: pl.LazyFrame) -> pl.LazyFrame:
    """Computationally intensive transformation, deployed as a large Lambda."""
    return df.with_columns(pl.col("amount") * 2)


@env.pipeline(name="advanced_pipeline")
def advanced_pipeline() -> Any:
    """Pipeline demonstrating the configuration cascade."""
    critical_bucket = env.provider.bucket(
        "critical-sales-data", path="transactions.parquet", config=critical_storage_config
    )
    env.provider.bucket(
        "archive-sales-data", path="historical.parquet", config=archive_storage_config
    )
    df = extract_critical_data(critical_bucket)
    return intensive_transformation(df)


def cascade() -> dict[str, Any]:
    """The effective settings at each level, as plain data."""
    analysis = advanced_pipeline.run(mode="analyze")
    critical = next(r for r in provider.get_resources() if r.name.startswith("critical"))
    return {
        "bucket_tags": critical.tags,
        "extract_config": env.task_config(extract_critical_data).model_dump(),
        "transform_config": env.task_config(intensive_transformation).model_dump(),
        "lambda_memory": intensive_transformation.compute.config.memory,
        "tasks": [t["name"] for t in analysis["tasks"]],
    }


if __name__ == "__main__":
    for key, value in cascade().items():
        print(f"{key}: {value}")
