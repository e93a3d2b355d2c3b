"""The stack of an environment: one provider per environment, every resource bound to it, in
its region."""

from __future__ import annotations

import json

import infra_pipelines as seeds
from glacier import AWSEnvironment
from glacier.infra import Plan, plan
from infra.plans import BUCKET, FUNCTION, ROLE, definition, providers_of, statement, task_policy


def test_one_provider_per_environment_with_region_profile_accounts_and_tags(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    dev = providers_of(dev_plan)["dev"].inputs
    assert dev["region"] == "us-west-2"
    assert dev["profile"] == "dev"
    assert dev["allowedAccountIds"] == '["111111111111"]'
    assert json.loads(dev["defaultTags"]) == {
        "tags": {"Environment": "development", "ManagedBy": "glacier"}
    }
    prod = providers_of(prod_plan)["prod"].inputs
    assert (prod["region"], prod["profile"]) == ("us-east-1", "production")
    assert prod["allowedAccountIds"] == '["999999999999"]'
    assert json.loads(prod["defaultTags"])["tags"] == {
        "Environment": "production",
        "CostCenter": "ops",
        "ManagedBy": "glacier",
    }


def test_an_emulator_endpoint_reaches_every_service() -> None:
    moto = AWSEnvironment(
        account_id="123456789012",
        region="us-east-1",
        environment="moto",
        endpoint_url="http://127.0.0.1:5000",
    )
    p = plan(seeds.create_pipeline(moto))
    inputs = providers_of(p)["moto"].inputs
    (endpoints,) = json.loads(inputs["endpoints"])
    assert {k: endpoints[k] for k in ("s3", "iam", "lambda", "sfn", "logs")} == dict.fromkeys(
        ("s3", "iam", "lambda", "sfn", "logs"), "http://127.0.0.1:5000"
    )
    assert inputs["s3UsePathStyle"] == "true"


def test_every_resource_is_bound_to_its_environments_provider(dev_plan: Plan) -> None:
    assert list(providers_of(dev_plan)) == ["dev"]
    others = [r for r in dev_plan if not r.is_provider]
    assert len(others) > 20
    assert {r.provider for r in others} == {"dev"}
    assert {(r.environment, r.account, r.region) for r in others} == {
        ("dev", "111111111111", "us-west-2")
    }


def test_multi_region_resources_live_in_their_regions() -> None:
    us, eu = plan(seeds.us_pipeline), plan(seeds.eu_pipeline)
    assert providers_of(us)["prod-us"].inputs["region"] == "us-east-1"
    assert providers_of(eu)["prod-eu"].inputs["region"] == "eu-west-1"
    assert {r.region for r in eu if not r.is_provider} == {"eu-west-1"}
    fn = eu.get(FUNCTION, "prod-eu-summarize-function")
    assert fn.outputs["arn"].startswith("arn:aws:lambda:eu-west-1:123456789012:function:")
    assert definition(eu)["States"]["summarize"]["Parameters"]["FunctionName"] == fn.outputs["arn"]
    # same account, no cross-account machinery; one bucket shared by two datasets
    assert not [r for r in us.of_type(ROLE) if "-from-" in r.name]
    assert [r.inputs["bucket"] for r in us.of_type(BUCKET)] == ["acme-prod-us-events"]
    summarize = task_policy(us, "prod-us", "summarize")
    assert statement(summarize, "Read")["Resource"] == [
        "arn:aws:s3:::acme-prod-us-events/daily.parquet*",
        "arn:aws:s3:::acme-prod-us-events/events.parquet*",
    ]
    assert statement(summarize, "Write")["Resource"] == [
        "arn:aws:s3:::acme-prod-us-events/daily.parquet*",
    ]
