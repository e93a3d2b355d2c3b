"""Delta tables registered in the Glue Data Catalog (``Dataset(..., catalog=True)``), so
Athena can query them: declared in the plan, refused where they cannot be registered."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from glacier import AWSEnvironment, Dataset, Pipeline, Provider
from glacier.errors import InfraError, PipelineDefinitionError
from glacier.infra import Plan, plan
from glacier.settings import GcpConfig
from infra.plans import ROLE_POLICY

DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
TABLE = "aws:glue/catalogTable:CatalogTable"


def lake_pipeline(**catalog: bool) -> Pipeline:
    """Orders (a partitioned Delta table, merged into) and a daily summary on S3."""
    env = AWSEnvironment(
        account_id="666666666666", region="eu-west-1", environment="prod", naming_prefix="acme-prod"
    )
    ecs = env.compute.ecs(image="python:3.11-slim")
    pipeline = Pipeline("Sales-Lake")
    orders = Dataset(
        "orders",
        storage=env.storage.s3(bucket="acme-lake", path="silver/orders/", partition_by=["day"]),
        write={"mode": "merge", "on": ["order_id"]},
        catalog=catalog.get("orders", True),
    )
    daily = Dataset(
        "daily.revenue",
        storage="s3://acme-gold/daily/",
        catalog=catalog.get("daily", True),
    )
    report = Dataset("report", storage=env.storage.s3(bucket="acme-lake", path="report.csv"))

    @pipeline.task(compute=ecs)
    def load() -> orders:
        return pl.DataFrame({"order_id": [1], "day": ["d"], "amount": [2.0]})

    @pipeline.task(compute=ecs)
    def summarize(data: orders) -> daily:
        return data

    @pipeline.task(compute=ecs)
    def publish(data: daily) -> report:
        return data

    return pipeline


@pytest.fixture(scope="module")
def lake_plan() -> Plan:
    return plan(lake_pipeline())


def test_each_registered_table_is_an_external_delta_table_at_its_location(
    lake_plan: Plan,
) -> None:
    (database,) = lake_plan.of_type(DATABASE)
    assert database.inputs["name"] == "acme_prod_sales_lake"
    assert database.environment == "prod"
    tables = {t.inputs["name"]: t.inputs for t in lake_plan.of_type(TABLE)}
    assert sorted(tables) == ["daily_revenue", "orders"]
    for inputs in tables.values():
        assert inputs["databaseName"] == "acme_prod_sales_lake"
        assert inputs["tableType"] == "EXTERNAL_TABLE"
        assert inputs["parameters"] == {
            "EXTERNAL": "TRUE",
            "table_type": "DELTA",
            "spark.sql.sources.provider": "delta",
        }
        # Athena reads columns and partitions from the Delta log: none are declared
        assert set(inputs["storageDescriptor"]) == {"location"}
        assert "partitionKeys" not in inputs
    assert tables["orders"]["storageDescriptor"]["location"] == "s3://acme-lake/silver/orders/"
    assert tables["daily_revenue"]["storageDescriptor"]["location"] == "s3://acme-gold/daily/"


def test_registering_grants_the_tasks_nothing_more(lake_plan: Plan) -> None:
    unregistered = plan(lake_pipeline(orders=False, daily=False))
    assert not unregistered.of_type(DATABASE) and not unregistered.of_type(TABLE)

    def policies(p: Plan) -> dict[str, Any]:
        return {r.name: r.policy() for r in p.of_type(ROLE_POLICY)}

    assert policies(lake_plan) == policies(unregistered)
    for doc in policies(lake_plan).values():
        assert not [s for s in doc["Statement"] if any(a.startswith("glue:") for a in s["Action"])]


def test_only_the_asked_for_tables_are_registered() -> None:
    p = plan(lake_pipeline(daily=False))
    assert [t.inputs["name"] for t in p.of_type(TABLE)] == ["orders"]
    assert len(p.of_type(DATABASE)) == 1


@pytest.mark.parametrize(
    "storage",
    [
        "s3://acme-lake/orders.parquet",
        "s3://acme-lake/events/x.csv",
    ],
)
def test_a_dataset_that_is_not_a_table_cannot_be_registered(storage: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=r"Dataset 'orders': catalog=True .*not a"):
        Dataset("orders", storage=storage, catalog=True)


def test_an_object_or_manifest_bucket_or_ephemeral_dataset_cannot_be_registered() -> None:
    env = AWSEnvironment(account_id="666666666666", region="eu-west-1", environment="prod")
    for storage in (
        env.storage.s3(bucket="acme-lake", path="orders.parquet"),
        env.storage.s3(bucket="acme-lake", path="events/", format="csv"),
        None,
    ):
        with pytest.raises(PipelineDefinitionError, match=r"orders/'.*or leave catalog out"):
            Dataset("orders", storage=storage, catalog=True)
    with pytest.raises(PipelineDefinitionError, match="catalog='yes' is not True or False"):
        Dataset("orders", storage=env.storage.s3(bucket="acme-lake", path="o/"), catalog="yes")
    # a table is accepted, in parquet or delta format
    table = env.storage.s3(bucket="acme-lake", path="orders/", format="delta")
    assert Dataset("orders", storage=table, catalog=True).catalog is True


def test_a_table_on_another_cloud_is_refused_at_plan_time() -> None:
    gcs = Provider(config=GcpConfig(project="acme-data", region="europe-west1"))
    pipeline = Pipeline("gcs_lake")
    orders = Dataset("orders", storage=gcs.bucket("acme-lake", path="orders/"), catalog=True)

    @pipeline.task()
    def load() -> orders:
        return pl.DataFrame({"x": [1]})

    with pytest.raises(InfraError, match=r"Dataset 'orders' \(.*test_catalog.py:\d+\) asks"):
        plan(pipeline)
    with pytest.raises(InfraError, match=r"stored on gcp .* leave catalog out"):
        plan(pipeline)


def test_two_datasets_with_one_glue_name_are_refused() -> None:
    env = AWSEnvironment(account_id="666666666666", region="eu-west-1", environment="prod")
    pipeline = Pipeline("clash")
    a = Dataset("daily-sales", storage=env.storage.s3(bucket="acme-l", path="a/"), catalog=True)
    b = Dataset("daily.sales", storage=env.storage.s3(bucket="acme-l", path="b/"), catalog=True)

    @pipeline.task(compute=env.compute.ecs(image="python:3.11-slim"))
    def make() -> tuple[a, b]:  # type: ignore[valid-type]
        return pl.DataFrame({"x": [1]}), pl.DataFrame({"x": [2]})

    with pytest.raises(InfraError, match=r"'daily-sales' and 'daily.sales' .* 'daily_sales'"):
        plan(pipeline)
