"""The Azure plans the tests read, computed once per session (planning is the slow part)."""

from __future__ import annotations

import pytest

from glacier.infra import Plan, plan
from infra.azure.pipelines import lake_pipeline


@pytest.fixture(scope="session")
def lake_plan() -> Plan:
    pipeline, env = lake_pipeline()
    return plan(pipeline, environments=[env])
