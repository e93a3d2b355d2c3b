"""DynamoDB tables: key schema, on-demand by default, point-in-time recovery, encryption, and
item access on the one table ARN for the tasks that use it."""

from __future__ import annotations

import pytest

from glacier.errors import ConfigError
from glacier.infra import Plan, plan
from glacier.settings import DynamoDbConfig
from infra.pipelines import attached_pipeline, attached_settings
from infra.plans import statement, task_policy

TABLE = "aws:dynamodb/table:Table"


@pytest.fixture(scope="module")
def attached_plan() -> Plan:
    return plan(attached_pipeline())


def test_table_has_its_keys_on_demand_recovery_and_encryption(attached_plan: Plan) -> None:
    (table,) = attached_plan.of_type(TABLE)
    inputs = table.inputs
    assert inputs["name"] == "prod-prices"
    assert (inputs["hashKey"], inputs["rangeKey"]) == ("symbol", "date")
    assert sorted((a["name"], a["type"]) for a in inputs["attributes"]) == [
        ("date", "S"),
        ("symbol", "S"),
    ]
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert inputs["pointInTimeRecovery"] == {"enabled": True}
    assert inputs["serverSideEncryption"] == {"enabled": True}


def test_provisioned_capacity_reaches_the_plan() -> None:
    prices = {
        "identifier": "prod-prices",
        "dynamodb": {
            "hash_key": "symbol",
            "hash_key_type": "N",
            "billing_mode": "PROVISIONED",
            "read_capacity": 5,
            "write_capacity": 2,
        },
    }
    settings = attached_settings(databases={"prices": prices, "warehouse": _rds()}, volumes={})
    (table,) = plan(attached_pipeline(settings)).of_type(TABLE)
    assert table.inputs["billingMode"] == "PROVISIONED"
    assert (table.inputs["readCapacity"], table.inputs["writeCapacity"]) == (5, 2)
    assert table.inputs["attributes"] == [{"name": "symbol", "type": "N"}]


def test_task_gets_item_access_on_exactly_its_table(attached_plan: Plan) -> None:
    grant = statement(task_policy(attached_plan, "prod", "fetch"), "TableProdPrices")
    assert grant["Resource"] == ["arn:aws:dynamodb:ca-central-1:999999999999:table/prod-prices"]
    assert {"dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWriteItem"} <= set(grant["Action"])
    assert not any(a in grant["Action"] for a in ("dynamodb:*", "dynamodb:DeleteTable"))
    report = task_policy(attached_plan, "prod", "report")
    assert not any(s["Sid"].startswith("Table") for s in report["Statement"])


def test_provisioned_without_capacity_is_refused() -> None:
    with pytest.raises(ConfigError, match="PROVISIONED' needs read_capacity and write_capacity"):
        DynamoDbConfig(billing_mode="PROVISIONED")


def _rds() -> dict[str, object]:
    return {"identifier": "prod-warehouse", "rds": {}}
