"""Plans of the seed's scenarios, computed once per session and shared by the infra tests
(planning is the slow part: each resource passes through Pulumi's mock engine)."""

from __future__ import annotations

import pytest

import infra_pipelines as seeds
from glacier.infra import Plan, plan


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return plan(seeds.dev_pipeline)


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return plan(seeds.prod_pipeline)


@pytest.fixture(scope="session")
def cross_plan() -> Plan:
    return plan(seeds.cross_account_pipeline)


@pytest.fixture(scope="session")
def lake_plan() -> Plan:
    return plan(seeds.data_lake_pipeline)
