"""Names of generated resources: each environment its own, deterministic across stacks."""

from __future__ import annotations

import doctest
import importlib

import pytest

import infra_pipelines as seeds
from glacier.infra import Plan, plan
from infra.plans import BUCKET, ROLE, providers_of


def test_the_factory_gives_each_environment_its_own_names_and_account(dev_plan: Plan) -> None:
    staging = plan(seeds.staging_pipeline)
    assert list(providers_of(staging)) == ["staging"]
    assert {r.account for r in staging if not r.is_provider} == {"222222222222"}
    assert {r.inputs["bucket"] for r in staging.of_type(BUCKET)} == {
        "staging-raw-data",
        "staging-clean-data",
    }
    names = {r.inputs["name"] for r in staging.of_type(ROLE)}
    assert "staging-analytics-staging-extract" in names
    assert len(staging) == len(dev_plan)


@pytest.mark.parametrize("module", ["naming", "data_access", "packaging"])
def test_the_examples_in_the_aws_modules_run(module: str) -> None:
    found = doctest.testmod(importlib.import_module(f"glacier.infra.aws.{module}"))
    assert found.attempted > 0
    assert found.failed == 0
