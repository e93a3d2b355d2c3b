"""A task's role and its least-privilege policy; every generated policy passes parliament."""

from __future__ import annotations

import json
import re

import pytest
from parliament import analyze_policy_string

from glacier import AWSEnvironment, Dataset, Pipeline
from glacier.errors import CrossEnvironmentAccessError
from glacier.infra import Plan, build_model, plan
from infra.pipelines import ecs_pipeline
from infra.plans import ROLE, ROOT, lint, s3_resources, statement, task_policy


def test_each_task_role_lists_exactly_its_datasets(dev_plan: Plan) -> None:
    extract = task_policy(dev_plan, "dev", "extract")
    raw = "arn:aws:s3:::dev-raw-data/raw.parquet*"
    assert s3_resources(extract) == {raw, "arn:aws:s3:::dev-raw-data"}
    assert statement(extract, "Write")["Resource"] == [raw]
    clean = task_policy(dev_plan, "dev", "clean")
    assert s3_resources(clean) == {
        raw,
        "arn:aws:s3:::dev-raw-data",
        "arn:aws:s3:::dev-clean-data/clean/data.parquet*",
        "arn:aws:s3:::dev-clean-data",
    }
    # clean reads raw_data and writes only clean_data, listing only under its prefixes
    assert statement(clean, "Write")["Resource"] == [
        "arn:aws:s3:::dev-clean-data/clean/data.parquet*",
    ]
    listing = [s for s in clean["Statement"] if s["Action"] == ["s3:ListBucket"]]
    assert {tuple(s["Resource"]): s.get("Condition") for s in listing} == {
        ("arn:aws:s3:::dev-raw-data",): {"StringLike": {"s3:prefix": ["raw.parquet*"]}},
        ("arn:aws:s3:::dev-clean-data",): {"StringLike": {"s3:prefix": ["clean/data.parquet*"]}},
    }
    logs = statement(clean, "Logs")
    assert logs["Resource"] == [
        "arn:aws:logs:us-west-2:111111111111:log-group:/aws/lambda/dev-analytics-dev-clean:*"
    ]
    for doc in (extract, clean):
        for stmt in doc["Statement"]:
            assert not ("*" in stmt["Action"] and "*" in stmt["Resource"])


def test_named_environments_in_one_account_still_need_the_opt_in() -> None:
    dev = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="qa")
    prod = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="live")

    def build(opt_in: bool) -> Pipeline:
        pipeline = Pipeline("report")
        source = Dataset(
            "orders", storage=prod.storage.s3(bucket="live-orders", path="orders.parquet")
        )
        out = Dataset("report", storage=dev.storage.s3(bucket="qa-reports", path="report.parquet"))

        @pipeline.task(compute=dev.compute.lambda_(), allow_cross_environment=opt_in)
        def report(data: source) -> out:
            return data

        return pipeline

    with pytest.raises(CrossEnvironmentAccessError, match="'qa' but reads dataset 'orders'"):
        build_model(build(False))
    allowed = plan(build(True))
    # same account: the identity policy suffices, no cross-account role
    assert not [r for r in allowed.of_type(ROLE) if "-from-" in r.name]
    assert "arn:aws:s3:::live-orders/orders.parquet*" in s3_resources(
        task_policy(allowed, "qa", "report")
    )


def test_every_generated_policy_passes_parliament(
    dev_plan: Plan, prod_plan: Plan, cross_plan: Plan, lake_plan: Plan
) -> None:
    checked: list[str] = []
    findings: list[str] = []
    for p in (dev_plan, prod_plan, cross_plan, lake_plan, plan(ecs_pipeline())):
        for resource, key, doc in p.policies():
            findings.extend(lint(resource, key, doc))
            checked.append(f"{resource.type} {resource.name} {key}")
    assert findings == []
    assert len(checked) >= 50
    kinds = ("role:Role", "rolePolicy:RolePolicy", "bucketPolicy:BucketPolicy")
    assert all(any(k in c for c in checked) for k in kinds)
    for purpose in ("-role ", "orchestrator-policy", "-from-", "invoker-policy", "exec-policy"):
        assert any(purpose in c for c in checked), purpose


def test_parliament_would_catch_a_bad_policy() -> None:
    # the check above can fail: parliament flags what Glacier must never generate
    bad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}],
    }
    assert analyze_policy_string(json.dumps(bad)).findings


def wildcard_actions(plans: list[Plan]) -> set[str]:
    """Every action a generated policy allows on the resource ``*``."""
    found: set[str] = set()
    for p in plans:
        for _, _, doc in p.policies():
            for stmt in doc["Statement"]:
                resources = stmt.get("Resource", [])
                resources = resources if isinstance(resources, list) else [resources]
                actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
                if stmt["Effect"] == "Allow" and "*" in resources:
                    found.update(actions)
    return found


def test_every_action_on_star_is_listed_and_explained_in_the_deploy_docs(
    dev_plan: Plan, prod_plan: Plan, cross_plan: Plan, lake_plan: Plan
) -> None:
    actions = wildcard_actions([dev_plan, prod_plan, cross_plan, lake_plan, plan(ecs_pipeline())])
    # the planned pipelines exercise both known cases, so the check below can fail
    assert {"ec2:DescribeNetworkInterfaces", "ecr:GetAuthorizationToken"} <= actions
    doc = (ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")
    section = doc.split("### Statements on `*`", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9-]+:[A-Za-z*]+)` \|", section, re.MULTILINE))
    assert actions <= documented, (
        f"actions on * missing from docs/deploying.md: {actions - documented}"
    )
