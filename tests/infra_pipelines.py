"""The seed's multi-account scenarios as module-level pipelines (imported by tests/infra).

Module level on purpose: generated Pulumi programs import pipelines from their module.
"""

from __future__ import annotations

import polars as pl

from glacier import AWSEnvironment, Bucket, Dataset, Pipeline
from glacier.settings import LifecycleRule, S3Config

# -- Use case 1: dev/staging/prod from one factory ---------------------------------------------

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
    security_group_ids=["sg-prod"],
)


def create_pipeline(env: AWSEnvironment) -> Pipeline:
    """The seed's factory: the same pipeline logic in any environment."""
    pipeline = Pipeline(name=f"analytics-{env.environment}", schedule="rate(1 day)")
    raw_data = Dataset(
        "raw_data", storage=env.storage.s3(bucket=f"{env.environment}-raw-data", path="raw.parquet")
    )
    clean_data = Dataset(
        "clean_data",
        storage=env.storage.s3(
            bucket=f"{env.environment}-clean-data",
            path="clean/data.parquet",
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


# -- Use case 2: dev reads prod (another account) ------------------------------------------------


def dev_reads_prod(opt_in: bool) -> Pipeline:
    """A dev task testing against prod data; refused unless the task opts in."""
    pipeline = Pipeline(name="prod-sample-test")
    prod_data = Dataset(
        "prod_data", storage=aws_prod.storage.s3(bucket="prod-data", path="orders.parquet")
    )
    dev_results = Dataset(
        "dev_results", storage=aws_dev.storage.s3(bucket="dev-results", path="results.parquet")
    )

    @pipeline.task(compute=aws_dev.compute.lambda_(memory=512), allow_cross_environment=opt_in)
    def test_with_prod_data(data: prod_data) -> dev_results:
        return data

    return pipeline


cross_account_pipeline = dev_reads_prod(opt_in=True)


# -- Use case 3: same account, two regions -------------------------------------------------------

aws_us = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="prod-us")
aws_eu = AWSEnvironment(account_id="123456789012", region="eu-west-1", environment="prod-eu")


def regional_pipeline(env: AWSEnvironment) -> Pipeline:
    pipeline = Pipeline(name=f"events-{env.environment}")
    events = Dataset(
        "events",
        storage=env.storage.s3(bucket=f"acme-{env.environment}-events", path="events.parquet"),
    )
    daily = Dataset(
        "daily",
        storage=env.storage.s3(bucket=f"acme-{env.environment}-events", path="daily.parquet"),
    )

    @pipeline.task(compute=env.compute.lambda_())
    def ingest() -> events:
        return pl.DataFrame({"n": [1]})

    @pipeline.task(compute=env.compute.lambda_())
    def summarize(data: events) -> daily:
        return data

    return pipeline


us_pipeline = regional_pipeline(aws_us)
eu_pipeline = regional_pipeline(aws_eu)


# -- Use case 4: a shared data lake, a data-engineering and an ML account -----------------------

aws_data_eng = AWSEnvironment(
    account_id="111111111111", region="us-east-1", profile="data-engineering"
)
aws_ml = AWSEnvironment(account_id="222222222222", region="us-west-2", profile="machine-learning")
aws_data_lake = AWSEnvironment(account_id="999999999999", region="us-east-1", profile="data-lake")

data_lake_dataset = Dataset(
    "events",
    storage=aws_data_lake.storage.s3(
        bucket="acme-data-lake",
        path="events.parquet",
        config=S3Config(
            encryption="aws:kms",
            kms_key_id="arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
    ),
)
model = Dataset("model", storage=aws_ml.storage.s3(bucket="acme-ml-models", path="churn.parquet"))
data_lake_pipeline = Pipeline(name="churn")


@data_lake_pipeline.task(compute=aws_data_eng.compute.lambda_())
def extract_events() -> data_lake_dataset:
    """Runs in the data-engineering account, writes to the data-lake account."""
    return pl.DataFrame({"user": [1, 2]})


@data_lake_pipeline.task(compute=aws_ml.compute.lambda_(memory=2048))
def train(data: data_lake_dataset) -> model:
    """Runs in the ML account, reads from the data-lake account."""
    return data


# -- the data-flow style -------------------------------------------------------------------------

flow_env = AWSEnvironment(account_id="333333333333", region="eu-central-1", environment="flow")
flow_env.register("sales", flow_env.storage.s3(bucket="flow-sales", path="sales.parquet"))


@flow_env.task(compute=flow_env.compute.lambda_(memory=256))
def extract_sales(source: Bucket) -> pl.LazyFrame:
    return source.scan()


@flow_env.task()
def total(df):  # type: ignore[no-untyped-def]
    return df.select(pl.col("amount").sum())


@flow_env.pipeline(name="sales")
def sales():  # type: ignore[no-untyped-def]
    return total(extract_sales(flow_env.get("sales")))
