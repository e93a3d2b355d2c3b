"""Data in another environment or account: the opt-in, the role in the data's account, and
the bucket policy granting it."""

from __future__ import annotations

import json

import pytest

import infra_pipelines as seeds
from glacier.errors import CrossEnvironmentAccessError
from glacier.infra import Plan, plan
from infra.plans import (
    BUCKET_POLICY,
    FUNCTION,
    ROLE,
    ROLE_POLICY,
    STATE_MACHINE,
    providers_of,
    s3_resources,
    statement,
    task_policy,
)


def test_cross_environment_access_is_refused_without_opt_in() -> None:
    with pytest.raises(CrossEnvironmentAccessError) as caught:
        plan(seeds.dev_reads_prod(opt_in=False))
    message = str(caught.value)
    for part in (
        "test_with_prod_data",
        "prod_data",
        "'dev'",
        "'prod'",
        "allow_cross_environment=True",
    ):
        assert part in message


def test_cross_account_access_gets_a_role_in_the_data_account(cross_plan: Plan) -> None:
    caller = "arn:aws:iam::111111111111:role/dev-prod-sample-test-test_with_prod_data"
    remote = (
        "arn:aws:iam::999999999999:role/prod-prod-sample-test-test_with_prod_data-from-111111111111"
    )
    role = cross_plan.get(ROLE, "prod-test_with_prod_data-from-111111111111")
    assert role.provider == "prod" and role.account == "999999999999"
    trust = role.policy()["Statement"][0]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    assert trust["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [caller]}}
    access = cross_plan.get(
        ROLE_POLICY, "prod-test_with_prod_data-from-111111111111-policy"
    ).policy()
    assert s3_resources(access) == {
        "arn:aws:s3:::prod-data/orders.parquet*",
        "arn:aws:s3:::prod-data",
    }
    assert "Write" not in {s["Sid"] for s in access["Statement"]}  # it only reads prod
    mine = task_policy(cross_plan, "dev", "test_with_prod_data")
    assert statement(mine, "AssumeCrossAccountRoles")["Resource"] == [remote]
    # prod's data is reached through that role only: no S3 action of its own on it
    assert s3_resources(mine) == {
        "arn:aws:s3:::dev-results/results.parquet*",
        "arn:aws:s3:::dev-results",
    }
    # and the deployed task is told which role to assume for prod's account
    function = cross_plan.get(FUNCTION, "dev-test_with_prod_data-function")
    assert json.loads(function.inputs["environment"]["variables"]["GLACIER_DATA_ROLES"]) == {
        "999999999999": remote
    }


def test_cross_account_bucket_policy_grants_exactly_the_task_role(cross_plan: Plan) -> None:
    doc = cross_plan.get(BUCKET_POLICY, "prod-prod-data-policy").policy()
    grants = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
    assert {s["Sid"] for s in grants} == {
        "ReadTestWithProdDataFrom111111111111",
        "List1TestWithProdDataFrom111111111111",
    }
    for stmt in grants:
        assert stmt["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
        assert stmt["Condition"]["ArnEquals"] == {
            "aws:PrincipalArn": [
                "arn:aws:iam::111111111111:role/dev-prod-sample-test-test_with_prod_data"
            ]
        }
    assert s3_resources({"Statement": grants}) == {
        "arn:aws:s3:::prod-data/orders.parquet*",
        "arn:aws:s3:::prod-data",
    }
    # the dev bucket has no foreign reader, so only the TLS statement
    dev_doc = cross_plan.get(BUCKET_POLICY, "dev-dev-results-policy").policy()
    assert [s["Sid"] for s in dev_doc["Statement"]] == ["DenyInsecureTransport"]


def test_planning_one_environment_is_what_its_stack_deploys(cross_plan: Plan) -> None:
    prod_only = plan(seeds.cross_account_pipeline, env="prod")
    assert {r.environment for r in prod_only} == {"prod"}
    assert [r.name for r in prod_only] == [r.name for r in cross_plan.in_environment("prod")]
    assert not prod_only.of_type(STATE_MACHINE)  # orchestration lives with the tasks, in dev


def test_data_lake_accounts_without_environment_names_need_no_opt_in(lake_plan: Plan) -> None:
    assert set(providers_of(lake_plan)) == {
        "aws-111111111111-us-east-1",
        "aws-222222222222-us-west-2",
        "aws-999999999999-us-east-1",
    }
    lake = "aws-999999999999-us-east-1"
    roles = {r.name: r for r in lake_plan.of_type(ROLE) if r.environment == lake}
    assert set(roles) == {
        f"{lake}-extract_events-from-111111111111",
        f"{lake}-train-from-222222222222",
    }
    train_trust = roles[f"{lake}-train-from-222222222222"].policy()["Statement"][0]
    assert train_trust["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    assert train_trust["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [
        "arn:aws:iam::222222222222:role/aws-222222222222-us-west-2-churn-train"
    ]
    bucket_policy = lake_plan.get(BUCKET_POLICY, f"{lake}-acme-data-lake-policy").policy()
    principals = {
        s["Principal"]["AWS"] for s in bucket_policy["Statement"] if s["Effect"] == "Allow"
    }
    assert principals == {"arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"}
    # writer writes, reader only reads; bucket policies hold S3 actions only
    writes = [s for s in bucket_policy["Statement"] if s["Sid"].startswith("Write")]
    assert [s["Sid"] for s in writes] == ["WriteExtractEventsFrom111111111111"]
    actions = {a for s in bucket_policy["Statement"] for a in s["Action"]}
    assert all(a.startswith("s3:") for a in actions)
