"""The seeds' first cloud pipelines in their own shapes: datasets at a bucket's root or under
a prefix (Delta tables), tasks on the default compute or ``env.compute.lambda_(...)``.

They stopped planning when a prefix became a Delta table while Lambda stayed the default
(deltalake beside polars does not fit a zip); each must plan, its table tasks packaged as
Lambda container images. Module level on purpose: generated programs import from here.
"""

from __future__ import annotations

import polars as pl

from glacier import AWSEnvironment, Dataset, Pipeline, Provider
from glacier.settings import AwsConfig, LifecycleRule, S3Config

aws_dev = AWSEnvironment(account_id="111111111111", region="us-west-2", environment="dev")
aws_staging = AWSEnvironment(account_id="222222222222", region="us-east-1", environment="staging")
aws_prod = AWSEnvironment(account_id="999999999999", region="us-east-1", environment="prod")


def create_pipeline(env: AWSEnvironment) -> Pipeline:
    """Seed 000's factory: bucket roots, scheduled, explicit Lambda settings."""
    pipeline = Pipeline(name=f"analytics-{env.environment}", schedule="rate(1 day)")
    raw_data = Dataset("raw_data", storage=env.storage.s3(bucket=f"{env.environment}-raw-data"))
    clean_data = Dataset(
        "clean_data",
        storage=env.storage.s3(
            bucket=f"{env.environment}-clean-data",
            path="clean/",
            lifecycle_rules=[
                LifecycleRule(id="archive", transition_days=90, storage_class="GLACIER")
            ],
        ),
    )

    @pipeline.task(compute=env.compute.lambda_(memory=512))
    def extract() -> raw_data:
        return pl.DataFrame({"amount": [1, -2, 3]})

    @pipeline.task(compute=env.compute.lambda_(memory=1024), retries=2, timeout=600)
    def clean(data: raw_data) -> clean_data:
        return data.filter(pl.col("amount") > 0)

    return pipeline


dev_pipeline = create_pipeline(aws_dev)
staging_pipeline = create_pipeline(aws_staging)
prod_pipeline = create_pipeline(aws_prod)

# Seed 000: dev reads prod (another account), datasets under prefixes.
prod_orders = Dataset(
    "prod_orders", storage=aws_prod.storage.s3(bucket="prod-data", path="orders/")
)
dev_results = Dataset("dev_results", storage=aws_dev.storage.s3(bucket="dev-results"))
cross_account_pipeline = Pipeline(name="prod-sample-test")


@cross_account_pipeline.task(
    compute=aws_dev.compute.lambda_(memory=512), allow_cross_environment=True
)
def test_with_prod_data(data: prod_orders) -> dev_results:
    return data


# Seed 000: one account, two regions.
aws_us = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="prod-us")
aws_eu = AWSEnvironment(account_id="123456789012", region="eu-west-1", environment="prod-eu")


def regional_pipeline(env: AWSEnvironment) -> Pipeline:
    pipeline = Pipeline(name=f"events-{env.environment}")
    events = Dataset("events", storage=env.storage.s3(bucket=f"acme-{env.environment}-events"))
    daily = Dataset(
        "daily", storage=env.storage.s3(bucket=f"acme-{env.environment}-events", path="daily/")
    )

    @pipeline.task(compute=env.compute.lambda_())
    def ingest() -> events:
        return pl.DataFrame({"day": ["2026-01-01"], "n": [1]})

    @pipeline.task()
    def summarize(data: events) -> daily:
        return data.group_by("day").agg(pl.col("n").sum())

    return pipeline


us_pipeline = regional_pipeline(aws_us)
eu_pipeline = regional_pipeline(aws_eu)

# Seed 002's layer 2: an environment of one account, a dataset at a bucket's root.
layer2_prod = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="prod")
layer2_data = Dataset(name="data", storage=layer2_prod.storage.s3(bucket="prod-data"))
layer2_pipeline = Pipeline(name="layer-two", env=layer2_prod)


@layer2_pipeline.task()
def process() -> layer2_data:
    return pl.DataFrame({"x": [1]})


# Seed 004: hot and cold storage configs of one bucket, under prefixes.
provider = Provider(config=AwsConfig(region="us-east-1", account_id="123456789012"))
hot = provider.bucket(
    bucket_name="analytics-data",
    path="hot-data/",
    config=S3Config(
        versioning=False,
        encryption="aws:kms",
        lifecycle_rules=[
            {"id": "archive-old-data", "transition": {"days": 30, "storage_class": "GLACIER"}}
        ],
    ),
)
# (One bucket configured twice, differently, is refused where the datasets are declared: the
# cold zone has a bucket of its own here.)
cold = provider.bucket(
    bucket_name="analytics-archive",
    path="archive/",
    config=S3Config(
        lifecycle_rules=[
            {"id": "immediate-archive", "transition": {"days": 0, "storage_class": "DEEP_ARCHIVE"}}
        ]
    ),
)
hot_data = Dataset("hot", storage=hot)
cold_data = Dataset("cold", storage=cold)
storage_pipeline = Pipeline(name="hot-cold")


@storage_pipeline.task()
def land() -> hot_data:
    return pl.DataFrame({"x": [1]})


@storage_pipeline.task()
def archive(data: hot_data) -> cold_data:
    return data


#: Every seed pattern, by name.
PATTERNS = {
    "dev_pipeline": dev_pipeline,
    "staging_pipeline": staging_pipeline,
    "prod_pipeline": prod_pipeline,
    "cross_account_pipeline": cross_account_pipeline,
    "us_pipeline": us_pipeline,
    "eu_pipeline": eu_pipeline,
    "layer2_pipeline": layer2_pipeline,
    "storage_pipeline": storage_pipeline,
}
