"""Seed 000: the same pipeline in dev, staging and prod AWS accounts.

    python examples/environments.py

Each environment is an account + region + profile with its own naming and tags; the pipeline
factory creates that environment's buckets and Lambda compute. Analysing needs no cloud; see
``glacier plan`` for the resources each environment would get.
"""

from __future__ import annotations

import polars as pl

from glacier import AWSEnvironment, Dataset, Pipeline

aws_dev = AWSEnvironment(
    account_id="111111111111",
    region="us-west-2",
    profile="dev",
    environment="dev",
    tags={"Environment": "development"},
)
aws_staging = AWSEnvironment(
    account_id="222222222222",
    region="us-east-1",
    profile="staging",
    environment="staging",
    tags={"Environment": "staging"},
)
aws_prod = AWSEnvironment(
    account_id="999999999999",
    region="us-east-1",
    profile="production",
    environment="prod",
    tags={"Environment": "production", "CostCenter": "ops"},
    vpc_id="vpc-prod123",
    subnet_ids=["subnet-a", "subnet-b"],
)


def fetch_data() -> pl.DataFrame:
    return pl.DataFrame({"id": [1, 2, 3], "amount": [10.0, -1.0, 7.5]})


def process(data: pl.LazyFrame) -> pl.LazyFrame:
    return data.filter(pl.col("amount") > 0)


def create_pipeline(env: AWSEnvironment) -> Pipeline:
    """Same pipeline logic, different environments."""
    pipeline = Pipeline(name=f"analytics-{env.environment}", env=env)

    raw_data = Dataset("raw_data", storage=env.storage.s3(bucket=f"{env.environment}-raw-data"))
    clean_data = Dataset(
        "clean_data", storage=env.storage.s3(bucket=f"{env.environment}-clean-data")
    )

    @pipeline.task(compute=env.compute.lambda_(memory=512))
    def extract() -> raw_data:
        return fetch_data()

    @pipeline.task(compute=env.compute.lambda_(memory=1024))
    def clean(data: raw_data) -> clean_data:
        return process(data)

    return pipeline


dev_pipeline = create_pipeline(aws_dev)
staging_pipeline = create_pipeline(aws_staging)
prod_pipeline = create_pipeline(aws_prod)


if __name__ == "__main__":
    for p in (dev_pipeline, staging_pipeline, prod_pipeline):
        info = p.run(mode="analyze")
        buckets = [d["storage"]["bucket_name"] for d in info["datasets"]]
        print(f"{info['name']}: tasks={[t['name'] for t in info['tasks']]} buckets={buckets}")
