"""settings/databases.py: RDS, DynamoDB and EFS configs."""

from __future__ import annotations

from glacier.settings import DynamoDbConfig, EfsConfig, RdsConfig

from .conftest import config_error


def test_database_configs() -> None:
    assert RdsConfig(engine="mysql", engine_version="8.0.39").engine == "mysql"
    config_error(lambda: RdsConfig(engine="oracle"), "engine='oracle'", "'postgres'")
    config_error(lambda: RdsConfig(instance_class="t3.micro"), "instance_class='t3.micro'", "db.")
    config_error(lambda: RdsConfig(allocated_storage=19), "allocated_storage=19", "20 to 65536")
    config_error(lambda: RdsConfig(engine_version="latest"), "engine_version='latest'")
    config_error(lambda: DynamoDbConfig(billing_mode="ON_DEMAND"), "'PAY_PER_REQUEST'")
    config_error(lambda: DynamoDbConfig(range_key="id"), "range_key='id' is the same")
    config_error(lambda: EfsConfig(performance_mode="fast"), "performance_mode='fast'", "'maxIO'")
