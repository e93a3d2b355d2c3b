"""Scenario 2 of the UX design: one set of tasks, bound to dev (local), staging and prod (AWS).

    GLACIER_EXAMPLE_ENV=development python examples/multi_environment.py   # runs locally
    GLACIER_EXAMPLE_ENV=production  python examples/multi_environment.py   # describes prod

Tasks are defined once by a factory and bound to each environment; the pipeline runs in dev
and is analysed (no cloud needed) for prod.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import polars as pl

from glacier import Bucket, GlacierEnv, Provider
from glacier.config import AwsConfig, LocalConfig


def create_tasks(env: GlacierEnv) -> tuple[Any, Any, Any]:
    """Create tasks bound to the given environment."""

    @env.task()
    def extract(source: Bucket) -> pl.LazyFrame:
        return source.scan()

    @env.task()
    def transform(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount") > 100)

    @env.task()
    def aggregate(df: pl.LazyFrame) -> pl.DataFrame:
        return df.group_by("category").agg(pl.sum("amount")).sort("category").collect()

    return extract, transform, aggregate


def create_pipeline(env: GlacierEnv, extract: Any, transform: Any, aggregate: Any) -> Any:
    """Create the pipeline for the given environment."""

    @env.pipeline(name="data_pipeline")
    def pipeline() -> Any:
        source = env.provider.bucket("data", path="sales.parquet")
        df = extract(source)
        df = transform(df)
        return aggregate(df)

    return pipeline


base_path = sys.argv[1] if len(sys.argv) > 1 else ".glacier/examples/multi_environment"
dev_env = GlacierEnv(provider=Provider(config=LocalConfig(base_path=base_path)), name="development")
staging_env = GlacierEnv(
    provider=Provider(config=AwsConfig(region="us-east-1", profile="staging")), name="staging"
)
prod_env = GlacierEnv(
    provider=Provider(config=AwsConfig(region="us-east-1", profile="prod")), name="production"
)

dev_pipeline = create_pipeline(dev_env, *create_tasks(dev_env))
staging_pipeline = create_pipeline(staging_env, *create_tasks(staging_env))
prod_pipeline = create_pipeline(prod_env, *create_tasks(prod_env))


def main() -> None:
    env_name = os.getenv("GLACIER_EXAMPLE_ENV", "development")
    if env_name == "development":
        sales = dev_env.provider.bucket("data", path="sales.parquet")
        sales.write(pl.DataFrame({"category": ["a", "b", "a", "c"], "amount": [150, 90, 300, 120]}))
        result = dev_pipeline.run(mode="local")
        print(result.output)
    elif env_name in {"staging", "production"}:
        flow = staging_pipeline if env_name == "staging" else prod_pipeline
        analysis = flow.run(mode="analyze")
        print("tasks:", [t["name"] for t in analysis["tasks"]])
        print("dag:", [(e["from"], e["to"]) for e in analysis["dag"]])
    else:
        raise SystemExit(f"Unknown environment: {env_name} (development, staging, production)")


if __name__ == "__main__":
    main()
