"""Infrastructure from the pipeline: every resource checked under Pulumi's mock engine.

The scenarios are the design notes' (seed 000): dev/staging/prod from one factory, dev reading
prod in another account, one account in two regions, and a data lake shared by a
data-engineering and an ML account. Every generated IAM policy is linted with parliament.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from dependency_injector import providers
from parliament import analyze_policy_string

import infra_pipelines as seeds
from glacier import AWSEnvironment, Dataset, Environment, Pipeline
from glacier.errors import (
    CrossEnvironmentAccessError,
    InfraError,
    PipelineDefinitionError,
    PulumiNotInstalledError,
)
from glacier.infra import Plan, PlannedResource, build_model, generate, plan, up
from glacier.settings import EcsConfig

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PROVIDER = "pulumi:providers:aws"
BUCKET = "aws:s3/bucket:Bucket"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
FUNCTION = "aws:lambda/function:Function"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"


# -- helpers --------------------------------------------------------------------------------------


def s3_resources(doc: dict[str, Any]) -> set[str]:
    """Every resource of the statements that grant S3 actions."""
    out: set[str] = set()
    for stmt in doc["Statement"]:
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        if any(a.startswith("s3:") for a in actions) and stmt["Effect"] == "Allow":
            out.update(stmt["Resource"])
    return out


def statement(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in doc["Statement"] if s["Sid"] == sid)


def lint(resource: PlannedResource, key: str, doc: dict[str, Any]) -> list[str]:
    """Parliament's findings for one generated policy.

    A trust policy is the resource policy of its role: it is linted with the role's ARN as
    its resource (IAM forbids the Resource element in trust policies themselves)."""
    if key == "assumeRolePolicy":
        role_arn = resource.outputs["arn"]
        doc = {**doc, "Statement": [{**s, "Resource": role_arn} for s in doc["Statement"]]}
    found = analyze_policy_string(json.dumps(doc)).findings
    return [f"{resource.name}.{key}: {f.issue} {f.detail}" for f in found]


def providers_of(p: Plan) -> dict[str, PlannedResource]:
    return {r.name: r for r in p.of_type(PROVIDER)}


def task_policy(p: Plan, env: str, task: str) -> dict[str, Any]:
    return p.get(ROLE_POLICY, f"{env}-{task}-policy").policy()


def definition(p: Plan) -> dict[str, Any]:
    (machine,) = p.of_type(STATE_MACHINE)
    parsed: dict[str, Any] = json.loads(machine.inputs["definition"])
    return parsed


def levels_of(defn: dict[str, Any]) -> list[list[str]]:
    """The tasks of each state, following Next from StartAt."""
    out = []
    name: str | None = defn["StartAt"]
    while name is not None:
        state = defn["States"][name]
        if state["Type"] == "Parallel":
            out.append([b["StartAt"] for b in state["Branches"]])
        else:
            out.append([name])
        name = state.get("Next")
    return out


def assert_matches_dag(defn: dict[str, Any], pipeline: Pipeline) -> None:
    levels = levels_of(defn)
    level = {t: i for i, names in enumerate(levels) for t in names}
    assert sorted(level) == sorted(pipeline.tasks)  # every task exactly once
    assert sum(len(x) for x in levels) == len(pipeline.tasks)
    for producer, consumer, _ in pipeline.dag.edges():
        assert level[producer] < level[consumer]
    for names in levels:  # tasks sharing a level are independent
        for a in names:
            for b in names:
                assert (a, b) not in {(x, y) for x, y, _ in pipeline.dag.edges()}


@pytest.fixture(scope="module")
def dev_plan() -> Plan:
    return plan(seeds.dev_pipeline)


@pytest.fixture(scope="module")
def prod_plan() -> Plan:
    return plan(seeds.prod_pipeline)


@pytest.fixture(scope="module")
def cross_plan() -> Plan:
    return plan(seeds.cross_account_pipeline)


@pytest.fixture(scope="module")
def lake_plan() -> Plan:
    return plan(seeds.data_lake_pipeline)


# -- use case 1: dev/staging/prod from one factory ------------------------------------------------


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


def test_buckets_get_versioning_encryption_public_access_block_lifecycle_and_tls(
    dev_plan: Plan,
) -> None:
    buckets = {r.inputs["bucket"]: r for r in dev_plan.of_type(BUCKET)}
    assert sorted(buckets) == ["dev-clean-data", "dev-raw-data"]
    for name in buckets:
        logical = f"dev-{name}"
        versioning = dev_plan.get(
            "aws:s3/bucketVersioning:BucketVersioning", f"{logical}-versioning"
        )
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        sse = dev_plan.get(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"{logical}-encryption",
        )
        default = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "AES256"
        block = dev_plan.get(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            f"{logical}-public-access-block",
        )
        assert all(
            block.inputs[k]
            for k in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )
        tls = statement(
            dev_plan.get(BUCKET_POLICY, f"{logical}-policy").policy(), "DenyInsecureTransport"
        )
        assert tls["Effect"] == "Deny"
        assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert tls["Resource"] == [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]
    (lifecycle,) = dev_plan.of_type(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    assert lifecycle.name == "dev-dev-clean-data-lifecycle"
    (rule,) = lifecycle.inputs["rules"]
    assert rule["id"] == "archive"
    assert rule["status"] == "Enabled"
    assert rule["transitions"] == [{"days": 90, "storageClass": "GLACIER"}]


def test_each_task_role_lists_exactly_its_datasets(dev_plan: Plan) -> None:
    extract = task_policy(dev_plan, "dev", "extract")
    assert s3_resources(extract) == {"arn:aws:s3:::dev-raw-data/*", "arn:aws:s3:::dev-raw-data"}
    assert statement(extract, "Write")["Resource"] == ["arn:aws:s3:::dev-raw-data/*"]
    clean = task_policy(dev_plan, "dev", "clean")
    staging = "arn:aws:s3:::dev-clean-data/_glacier/tmp/*-manifest.json"
    assert s3_resources(clean) == {
        "arn:aws:s3:::dev-raw-data/*",
        "arn:aws:s3:::dev-raw-data",
        "arn:aws:s3:::dev-clean-data/clean/*",
        staging,  # an atomic write stages its manifest there, then copies it into place
        "arn:aws:s3:::dev-clean-data",
    }
    # clean reads raw_data and writes only clean_data, listing only under its prefixes
    assert statement(clean, "Write")["Resource"] == [
        staging,
        "arn:aws:s3:::dev-clean-data/clean/*",
    ]
    listing = [s for s in clean["Statement"] if s["Action"] == ["s3:ListBucket"]]
    assert {tuple(s["Resource"]): s.get("Condition") for s in listing} == {
        ("arn:aws:s3:::dev-raw-data",): None,
        ("arn:aws:s3:::dev-clean-data",): {
            "StringLike": {"s3:prefix": ["_glacier/tmp/*", "clean/*"]}
        },
    }
    logs = statement(clean, "Logs")
    assert logs["Resource"] == [
        "arn:aws:logs:us-west-2:111111111111:log-group:/aws/lambda/dev-analytics-dev-clean:*"
    ]
    for doc in (extract, clean):
        for stmt in doc["Statement"]:
            assert not ("*" in stmt["Action"] and "*" in stmt["Resource"])


def test_lambda_functions_from_compute_hints_with_packaged_code(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    fn = dev_plan.get(FUNCTION, "dev-clean-function").inputs
    assert fn["name"] == "dev-analytics-dev-clean"
    assert fn["memorySize"] == 1024
    assert fn["timeout"] == 300
    assert fn["runtime"] == "python3.11"
    assert fn["handler"] == "glacier_handler.handler"
    assert fn["role"] == "arn:aws:iam::111111111111:role/dev-analytics-dev-clean"
    assert fn["environment"]["variables"]["GLACIER_TASK_NAME"] == "clean"
    archive = fn["code"].assets
    assert "glacier_handler.py" in archive and "infra_pipelines.py" in archive
    # Glacier's own modules travel with the code, without their bytecode
    assert "glacier/infra/runtime.py" in archive and "glacier/py.typed" in archive
    assert not [name for name in archive if "__pycache__" in name]
    handler = archive["glacier_handler.py"].text
    assert "TARGET = 'infra_pipelines.py:dev_pipeline'" in handler
    compile(handler, "glacier_handler.py", "exec")
    assert "vpcConfig" not in fn
    prod_fn = prod_plan.get(FUNCTION, "prod-extract-function").inputs
    assert prod_fn["vpcConfig"] == {
        "subnetIds": ["subnet-a", "subnet-b"],
        "securityGroupIds": ["sg-prod"],
    }
    prod_policy = task_policy(prod_plan, "prod", "extract")
    eni = statement(prod_policy, "ManageNetworkInterfaces")["Resource"]
    assert "arn:aws:ec2:us-east-1:999999999999:subnet/subnet-a" in eni


def test_state_machine_follows_the_dag_with_retries_and_its_own_role(dev_plan: Plan) -> None:
    defn = definition(dev_plan)
    assert levels_of(defn) == [["extract"], ["clean"]]
    assert_matches_dag(defn, seeds.dev_pipeline)
    clean = defn["States"]["clean"]
    assert clean["Resource"] == "arn:aws:states:::lambda:invoke"
    assert clean["Parameters"]["FunctionName"] == (
        "arn:aws:lambda:us-west-2:111111111111:function:dev-analytics-dev-clean"
    )
    assert clean["Retry"][0]["MaxAttempts"] == 2
    assert clean["TimeoutSeconds"] == 600
    (machine,) = dev_plan.of_type(STATE_MACHINE)
    assert (
        machine.inputs["roleArn"] == "arn:aws:iam::111111111111:role/dev-analytics-dev-orchestrator"
    )
    orchestrator = dev_plan.get(ROLE_POLICY, "dev-orchestrator-policy").policy()
    assert orchestrator["Statement"] == [
        {
            "Sid": "InvokeTaskFunctions",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [
                "arn:aws:lambda:us-west-2:111111111111:function:dev-analytics-dev-extract",
                "arn:aws:lambda:us-west-2:111111111111:function:dev-analytics-dev-clean",
            ],
        }
    ]


def test_schedule_starts_the_state_machine(dev_plan: Plan) -> None:
    (rule,) = dev_plan.of_type("aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["scheduleExpression"] == "rate(1 day)"
    (target,) = dev_plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    machine_arn = "arn:aws:states:us-west-2:111111111111:stateMachine:dev-analytics-dev"
    assert target.inputs["arn"] == machine_arn
    start = dev_plan.get(ROLE_POLICY, "dev-scheduler-policy").policy()
    assert start["Statement"][0]["Action"] == ["states:StartExecution"]
    assert start["Statement"][0]["Resource"] == [machine_arn]
    trust = dev_plan.get(ROLE, "dev-scheduler").policy()
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}


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


# -- use case 2: dev reads prod -------------------------------------------------------------------


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
    assert s3_resources(access) == {"arn:aws:s3:::prod-data/orders/*", "arn:aws:s3:::prod-data"}
    assert "Write" not in {s["Sid"] for s in access["Statement"]}  # it only reads prod
    mine = task_policy(cross_plan, "dev", "test_with_prod_data")
    assert statement(mine, "AssumeCrossAccountRoles")["Resource"] == [remote]
    assert s3_resources(mine) == {
        "arn:aws:s3:::prod-data/orders/*",
        "arn:aws:s3:::prod-data",
        "arn:aws:s3:::dev-results/*",
        "arn:aws:s3:::dev-results",
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
        "arn:aws:s3:::prod-data/orders/*",
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


# -- use case 3: one account, two regions ---------------------------------------------------------


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
    scratch = "arn:aws:s3:::acme-prod-us-events/_glacier/tmp/*-manifest.json"
    assert statement(summarize, "Read")["Resource"] == [
        "arn:aws:s3:::acme-prod-us-events/*",
        scratch,
        "arn:aws:s3:::acme-prod-us-events/daily/*",
    ]
    assert statement(summarize, "Write")["Resource"] == [
        scratch,
        "arn:aws:s3:::acme-prod-us-events/daily/*",
    ]


# -- use case 4: a shared data lake ---------------------------------------------------------------


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


def test_customer_kms_keys_are_granted_to_the_tasks_that_use_them(lake_plan: Plan) -> None:
    key = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    train = task_policy(lake_plan, "aws-222222222222-us-west-2", "train")
    assert statement(train, "Kms1")["Resource"] == [key]
    assert statement(train, "Kms1")["Action"] == ["kms:Decrypt"]
    extract = task_policy(lake_plan, "aws-111111111111-us-east-1", "extract_events")
    assert statement(extract, "Kms1")["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    sse = next(
        r
        for r in lake_plan
        if r.type.endswith("BucketServerSideEncryptionConfiguration") and "data-lake" in r.name
    )
    rule = sse.inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key,
    }
    assert rule["bucketKeyEnabled"] is True


def test_orchestration_across_accounts_uses_an_invoker_role(lake_plan: Plan) -> None:
    defn = definition(lake_plan)
    assert levels_of(defn) == [["extract_events"], ["train"]]
    assert_matches_dag(defn, seeds.data_lake_pipeline)
    invoker = "arn:aws:iam::222222222222:role/aws-222222222222-us-west-2-churn-invoker"
    assert defn["States"]["train"]["Credentials"] == {"RoleArn": invoker}
    assert "Credentials" not in defn["States"]["extract_events"]
    home = "aws-111111111111-us-east-1"
    sm_policy = lake_plan.get(ROLE_POLICY, f"{home}-orchestrator-policy").policy()
    assert statement(sm_policy, "AssumeInvokerRoles")["Resource"] == [invoker]
    assert statement(sm_policy, "InvokeTaskFunctions")["Resource"] == [
        "arn:aws:lambda:us-east-1:111111111111:function:aws-111111111111-us-east-1-churn-extract_events"
    ]
    ml = "aws-222222222222-us-west-2"
    trust = lake_plan.get(ROLE, f"{ml}-invoker").policy()["Statement"][0]
    assert trust["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [
        "arn:aws:iam::111111111111:role/aws-111111111111-us-east-1-churn-orchestrator"
    ]
    invoke = lake_plan.get(ROLE_POLICY, f"{ml}-invoker-policy").policy()
    assert statement(invoke, "InvokeTaskFunctions")["Resource"] == [
        "arn:aws:lambda:us-west-2:222222222222:function:aws-222222222222-us-west-2-churn-train"
    ]


def test_named_environments_in_one_account_still_need_the_opt_in() -> None:
    dev = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="qa")
    prod = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="live")

    def build(opt_in: bool) -> Pipeline:
        pipeline = Pipeline("report")
        source = Dataset("orders", storage=prod.storage.s3(bucket="live-orders"))
        out = Dataset("report", storage=dev.storage.s3(bucket="qa-reports"))

        @pipeline.task(compute=dev.compute.lambda_(), allow_cross_environment=opt_in)
        def report(data: source) -> out:
            return data

        return pipeline

    with pytest.raises(CrossEnvironmentAccessError, match="'qa' but reads dataset 'orders'"):
        build_model(build(False))
    allowed = plan(build(True))
    # same account: the identity policy suffices, no cross-account role
    assert not [r for r in allowed.of_type(ROLE) if "-from-" in r.name]
    assert "arn:aws:s3:::live-orders/*" in s3_resources(task_policy(allowed, "qa", "report"))


# -- every policy passes parliament ---------------------------------------------------------------


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


# -- raw Pulumi resources pass through ------------------------------------------------------------


def raw_bucket_pipeline() -> Pipeline:
    """A factory: a raw Pulumi bucket exists only inside the program run that creates it."""
    import pulumi_aws as aws

    env = seeds.aws_dev
    landing = aws.s3.Bucket("landing", bucket="acme-landing", force_destroy=False)
    raw = Dataset("landing", storage=landing)
    curated = Dataset("curated", storage=env.storage.s3(bucket="dev-curated"))
    pipeline = Pipeline("raw-passthrough")

    @pipeline.task(compute=env.compute.lambda_())
    def curate(data: raw) -> curated:
        return data

    return pipeline


def test_raw_pulumi_resources_are_used_as_is_and_referenced_by_arn() -> None:
    p = plan(raw_bucket_pipeline)
    buckets = {r.name: r for r in p.of_type(BUCKET)}
    assert set(buckets) == {"landing", "dev-dev-curated"}
    landing = buckets["landing"]
    assert landing.inputs == {"bucket": "acme-landing", "forceDestroy": False}  # untouched
    assert landing.provider == ""  # the user's default provider, not Glacier's
    # nothing declared on it: no versioning, encryption, access block or bucket policy
    assert [r.name for r in p if "landing" in r.name] == ["landing"]
    policy = task_policy(p, "dev", "curate")
    assert "arn:aws:s3:::acme-landing/landing.parquet*" in statement(policy, "Read")["Resource"]
    assert "arn:aws:s3:::acme-landing" in s3_resources(policy)


def test_raw_resources_in_a_module_are_planned_from_the_module() -> None:
    p = plan(f"{HERE / 'infra_raw.py'}:pipeline")
    assert [r.name for r in p.of_type(BUCKET) if r.provider == ""] == ["vendor-drop"]
    policy = task_policy(p, "dev", "load")
    assert "arn:aws:s3:::acme-vendor-drop/vendor.parquet*" in statement(policy, "Read")["Resource"]
    again = plan(f"{HERE / 'infra_raw.py'}:pipeline")
    assert [r.name for r in again] == [r.name for r in p]


# -- DAG shapes, compute kinds, errors ------------------------------------------------------------


def diamond_pipeline() -> Pipeline:
    env = seeds.aws_dev
    pipeline = Pipeline("diamond")
    a, b, c, d, e = (Dataset(n) for n in "abcde")
    out = Dataset("out", storage=env.storage.s3(bucket="dev-diamond", path="out.parquet"))

    @pipeline.task(compute=env.compute.lambda_())
    def start() -> a:
        return pl.DataFrame({"x": [1]})

    @pipeline.task(compute=env.compute.lambda_())
    def left(x: a) -> b:
        return x

    @pipeline.task(compute=env.compute.lambda_())
    def right(x: a) -> c:
        return x

    @pipeline.task(compute=env.compute.lambda_())
    def side() -> e:
        return pl.DataFrame({"x": [2]})

    @pipeline.task(compute=env.compute.lambda_())
    def join(x: b, y: c, z: e) -> d:
        return x

    @pipeline.task(compute=env.compute.lambda_())
    def publish(x: d) -> out:
        return x

    return pipeline


def test_independent_tasks_run_in_parallel_branches() -> None:
    pipeline = diamond_pipeline()
    p = plan(pipeline)
    defn = definition(p)
    assert levels_of(defn) == [["start", "side"], ["left", "right"], ["join"], ["publish"]]
    assert_matches_dag(defn, pipeline)
    level2 = defn["States"]["Level 2"]
    assert level2["Type"] == "Parallel" and level2["Next"] == "join"
    assert all(b["States"][b["StartAt"]]["End"] for b in level2["Branches"])
    # in-memory datasets between processes travel through one artifacts bucket
    artifacts = [r.inputs["bucket"] for r in p.of_type(BUCKET) if "artifacts" in r.name]
    assert artifacts == ["dev-diamond-artifacts-111111111111"]
    join = task_policy(p, "dev", "join")
    base = "arn:aws:s3:::dev-diamond-artifacts-111111111111"
    scratch = f"{base}/_glacier/tmp/*-*.parquet"
    assert statement(join, "Read")["Resource"] == [
        scratch,
        f"{base}/b/*",
        f"{base}/c/*",
        f"{base}/d/*",
        f"{base}/e/*",
    ]
    assert statement(join, "Write")["Resource"] == [scratch, f"{base}/d/*"]
    env_vars = p.get(FUNCTION, "dev-join-function").inputs["environment"]["variables"]
    # Each in-memory dataset the task reads or writes, at its own prefix (not where writes
    # stage their temporary objects).
    assert json.loads(env_vars["GLACIER_ARTIFACTS"]) == {
        name: f"s3://dev-diamond-artifacts-111111111111/{name}/" for name in ("b", "c", "d", "e")
    }
    publish = task_policy(p, "dev", "publish")
    assert "arn:aws:s3:::dev-diamond/out.parquet*" in statement(publish, "Write")["Resource"]


NETWORKS: dict[str, dict[str, Any]] = {
    "full": {"vpc_id": "vpc-1", "subnet_ids": ["subnet-1"], "security_group_ids": ["sg-1"]},
    "subnets only": {"vpc_id": "vpc-1", "subnet_ids": ["subnet-1"]},
    "vpc only": {"vpc_id": "vpc-1"},
    "none": {},
}


def ecs_pipeline(
    image: str | None = "111111111111.dkr.ecr.us-west-2.amazonaws.com/etl:1",
    network: bool | str = True,
    spot: bool = False,
) -> Pipeline:
    shape = network if isinstance(network, str) else ("full" if network else "none")
    env = AWSEnvironment(
        account_id="111111111111", region="us-west-2", environment="batch", **NETWORKS[shape]
    )
    pipeline = Pipeline("heavy", env=env)  # the environment brings its network
    raw = Dataset("raw", storage=env.storage.s3(bucket="batch-raw"))
    big = Dataset("big", storage=env.storage.s3(bucket="batch-big"))

    sizing = EcsConfig(image=image, cpu=1024, memory=4096, spot=spot)

    @pipeline.task(compute=env.compute.ecs(config=sizing))
    def crunch(data: raw) -> big:
        return data

    return pipeline


def test_ecs_tasks_get_a_fargate_task_definition_and_exact_orchestration_rights() -> None:
    p = plan(ecs_pipeline())
    (definition_,) = p.of_type("aws:ecs/taskDefinition:TaskDefinition")
    inputs = definition_.inputs
    assert (inputs["cpu"], inputs["memory"]) == ("1024", "4096")
    assert inputs["requiresCompatibilities"] == ["FARGATE"]
    assert inputs["networkMode"] == "awsvpc"
    assert inputs["taskRoleArn"] == "arn:aws:iam::111111111111:role/batch-heavy-crunch"
    assert inputs["executionRoleArn"] == "arn:aws:iam::111111111111:role/batch-heavy-crunch-exec"
    (container,) = json.loads(inputs["containerDefinitions"])
    assert container["image"].endswith("/etl:1")
    assert container["command"][-1] == "crunch"
    trust = p.get(ROLE, "batch-crunch-role").policy()["Statement"][0]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    sm = p.get(ROLE_POLICY, "batch-orchestrator-policy").policy()
    assert statement(sm, "RunTaskDefinitions")["Resource"] == [
        "arn:aws:ecs:us-west-2:111111111111:task-definition/batch-heavy-crunch:*"
    ]
    assert statement(sm, "PassTaskRoles")["Resource"] == [
        "arn:aws:iam::111111111111:role/batch-heavy-crunch",
        "arn:aws:iam::111111111111:role/batch-heavy-crunch-exec",
    ]
    assert statement(sm, "TrackTasks")["Resource"] == [
        "arn:aws:ecs:us-west-2:111111111111:task/batch-heavy/*"
    ]
    state = definition(p)["States"]["crunch"]
    assert state["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert state["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == [
        "subnet-1"
    ]
    pull = statement(p.get(ROLE_POLICY, "batch-crunch-exec-policy").policy(), "EcrPull")
    assert pull["Resource"] == ["arn:aws:ecr:us-west-2:111111111111:repository/etl"]


def test_spot_tasks_run_on_fargate_spot() -> None:
    on_demand = plan(ecs_pipeline())
    assert definition(on_demand)["States"]["crunch"]["Parameters"]["LaunchType"] == "FARGATE"
    assert not on_demand.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")

    p = plan(ecs_pipeline(spot=True))
    parameters = definition(p)["States"]["crunch"]["Parameters"]
    assert "LaunchType" not in parameters
    assert parameters["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
    ]
    (providers_,) = p.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers_.inputs == {
        "clusterName": "batch-heavy",
        "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
    }


def test_fargate_without_a_network_runs_in_the_default_vpc() -> None:
    state = definition(plan(ecs_pipeline(network=False)))["States"]["crunch"]
    awsvpc = state["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert awsvpc == {
        "Subnets": ["subnet-default-a", "subnet-default-b"],  # looked up: default VPC
        "AssignPublicIp": "ENABLED",
    }


def test_fargate_with_only_a_vpc_runs_in_that_vpcs_subnets() -> None:
    state = definition(plan(ecs_pipeline(network="vpc only")))["States"]["crunch"]
    awsvpc = state["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert awsvpc == {"Subnets": ["subnet-1-a", "subnet-1-b"], "AssignPublicIp": "ENABLED"}


def test_fargate_in_subnets_without_groups_gets_the_vpcs_default_group() -> None:
    state = definition(plan(ecs_pipeline(network="subnets only")))["States"]["crunch"]
    awsvpc = state["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert awsvpc == {"Subnets": ["subnet-1"]}  # no SecurityGroups: ECS applies the default


def lambda_network_plan(network: str) -> Plan:
    env = AWSEnvironment(
        account_id="111111111111", region="us-west-2", environment="net", **NETWORKS[network]
    )
    pipeline = Pipeline("net", env=env)
    raw = Dataset("raw", storage=env.storage.s3(bucket="net-raw"))
    out = Dataset("out", storage=env.storage.s3(bucket="net-out"))

    @pipeline.task(compute=env.compute.lambda_(memory=512))
    def copy(data: raw) -> out:
        return data

    return plan(pipeline)


@pytest.mark.parametrize("network", list(NETWORKS))
def test_lambda_network_follows_the_environment_and_passes_parliament(network: str) -> None:
    p = lambda_network_plan(network)
    fn = p.get(FUNCTION, "net-copy-function").inputs
    eni = [
        s
        for s in task_policy(p, "net", "copy")["Statement"]
        if s["Sid"] == "ManageNetworkInterfaces"
    ]
    if network in ("vpc only", "none"):
        assert "vpcConfig" not in fn and eni == []
    else:
        groups = ["sg-1"] if network == "full" else ["sg-default-of-vpc-1"]  # looked up
        assert fn["vpcConfig"] == {"subnetIds": ["subnet-1"], "securityGroupIds": groups}
        (statement_,) = eni
        base = "arn:aws:ec2:us-west-2:111111111111"
        group = "sg-1" if network == "full" else "*"
        assert statement_["Resource"] == [
            f"{base}:network-interface/*",
            f"{base}:subnet/subnet-1",
            f"{base}:security-group/{group}",
        ]
    findings = [f for r, key, doc in p.policies() for f in lint(r, key, doc)]
    assert findings == []


def test_a_settings_file_gives_the_environment_its_network(tmp_path: Path) -> None:
    (tmp_path / "prod.toml").write_text(
        'naming_prefix = "acme-prod"\n'
        "[provider]\n"
        'kind = "aws"\n'
        'region = "us-west-2"\n'
        'account_id = "111111111111"\n'
        "[network]\n"
        'vpc_id = "vpc-1"\n'
        'subnet_ids = ["subnet-1"]\n'
        'security_group_ids = ["sg-1"]\n'
    )
    env = Environment.from_env("prod", settings_dir=tmp_path)
    assert env.network.configured and env.subnet_ids == ["subnet-1"]
    pipeline = Pipeline("net", env=env)
    raw = Dataset("raw", storage=env.provider.bucket("acme-prod-raw", path="raw/"))
    out = Dataset("out", storage=env.provider.bucket("acme-prod-out", path="out/"))

    @pipeline.task(compute=env.compute.lambda_())
    def copy(data: raw) -> out:
        return data

    (fn,) = plan(pipeline).of_type(FUNCTION)
    assert fn.inputs["vpcConfig"] == {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]}


def glue_pipeline(**glue: Any) -> Pipeline:
    env = AWSEnvironment(account_id="111111111111", region="us-west-2", environment="spark")
    pipeline = Pipeline("lake", env=env)
    raw = Dataset("raw", storage=env.storage.s3(bucket="spark-raw"))
    mid = Dataset("mid")  # in memory: travels through the artifacts bucket
    out = Dataset("out", storage=env.storage.s3(bucket="spark-out"))

    sizing = {"worker_type": "G.2X", "num_workers": 4, **glue}

    @pipeline.task(compute=env.compute.glue(**sizing), retries=1)
    def crunch(data: raw) -> mid:
        return data

    @pipeline.task(compute=env.compute.lambda_())
    def publish(data: mid) -> out:
        return data

    return pipeline


GLUE_JOB = "aws:glue/job:Job"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"


def test_glue_tasks_get_a_job_with_the_code_and_exact_rights() -> None:
    p = plan(glue_pipeline(additional_python_modules=("pyarrow==17.0.0",)))
    code = "s3://spark-lake-artifacts-111111111111/_glacier/code/lake/"
    (job,) = p.of_type(GLUE_JOB)
    inputs = job.inputs
    assert inputs["name"] == "spark-lake-crunch"
    assert inputs["roleArn"] == "arn:aws:iam::111111111111:role/spark-lake-crunch"
    assert (inputs["workerType"], inputs["numberOfWorkers"]) == ("G.2X", 4)
    assert inputs["glueVersion"] == "5.0"
    assert inputs["command"] == {
        "name": "glueetl",
        "scriptLocation": f"{code}glacier_glue_job.py",
        "pythonVersion": "3",
    }
    args = inputs["defaultArguments"]
    assert args["--GLACIER_TASK_NAME"] == "crunch" and args["--GLACIER_ENVIRONMENT"] == "spark"
    assert args["--GLACIER_TARGET"].endswith(":lake")  # module:pipeline, code on sys.path
    assert args["--extra-py-files"] == f"{code}code.zip"
    assert json.loads(args["--GLACIER_ARTIFACTS"]) == {
        "mid": "s3://spark-lake-artifacts-111111111111/mid/"
    }
    modules = args["--additional-python-modules"].split(",")
    assert modules[0].startswith("polars==") and modules[-1] == "pyarrow==17.0.0"
    assert args["--continuous-log-logGroup"] == "/glacier/lake/crunch"
    # the script and the code (with Glacier itself) are uploaded next to the artifacts
    script = p.get(OBJECT, "spark-glue-script").inputs
    assert script["key"] == "_glacier/code/lake/glacier_glue_job.py"
    compile(script["content"], "glacier_glue_job.py", "exec")
    archive = p.get(OBJECT, "spark-glue-code").inputs["source"].assets
    assert "glacier/infra/runtime.py" in archive and "test_infra.py" in archive
    trust = p.get(ROLE, "spark-crunch-role").policy()["Statement"][0]
    assert trust["Principal"] == {"Service": "glue.amazonaws.com"}
    policy = task_policy(p, "spark", "crunch")
    base = "arn:aws:s3:::spark-lake-artifacts-111111111111"
    assert f"{base}/_glacier/code/lake/*" in statement(policy, "Read")["Resource"]
    assert f"{base}/_glacier/code/lake/*" not in statement(policy, "Write")["Resource"]
    glue_logs = statement(policy, "GlueLogs")["Resource"]
    assert "arn:aws:logs:us-west-2:111111111111:log-group:/aws-glue/jobs/error:*" in glue_logs
    # the orchestrator runs exactly this job and waits for it
    state = definition(p)["States"]["crunch"]
    assert state["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert state["Parameters"] == {
        "JobName": "spark-lake-crunch",
        "Arguments": {"--GLACIER_RUN_ID.$": "$$.Execution.Name"},
    }
    orchestrator = p.get(ROLE_POLICY, "spark-orchestrator-policy").policy()
    assert statement(orchestrator, "RunTaskJobs")["Resource"] == [
        "arn:aws:glue:us-west-2:111111111111:job/spark-lake-crunch"
    ]
    findings = [f for r, key, doc in p.policies() for f in lint(r, key, doc)]
    assert findings == []
    # what runs leave behind expires, the jobs' code does not
    lifecycle = p.get(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "spark-spark-lake-artifacts-111111111111-lifecycle",
    ).inputs["rules"]
    expiring = sorted(r["filter"]["prefix"] for r in lifecycle if "expiration" in r)
    assert expiring == ["_glacier/tmp/", "mid/"]
    (abort,) = [r for r in lifecycle if "abortIncompleteMultipartUpload" in r]
    assert abort["filter"] == {"prefix": ""} and "expiration" not in abort


@pytest.mark.parametrize(
    ("glue", "message"),
    [
        ({"glue_version": "4.0"}, r"Glue 4\.0, whose Python is older than 3\.11"),
        ({"worker_type": "Z.2X"}, r"workers of type 'Z\.2X'.*G\.1X"),
    ],
)
def test_glue_jobs_glacier_cannot_run_on_are_refused(glue: dict[str, Any], message: str) -> None:
    with pytest.raises(InfraError, match=message):
        plan(glue_pipeline(**glue))


def _without_glacier_vars() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")}


# The two tests below set environment variables in a process of their own: changing this
# process's environment while native threads (polars, gRPC) may read it is not safe.


def job_module_head(tmp_path: Path) -> str:
    """The start of a pipeline module run as a deployed task: a local environment under
    ``tmp_path``, a pipeline ``job`` and an in-memory dataset ``mid``."""
    return (
        "import polars as pl\n"
        "from glacier import Dataset, Environment, Pipeline\n"
        f"env = Environment.local(base_path={str(tmp_path / 'data')!r},\n"
        f"                        state_dir={str(tmp_path / 's')!r})\n"
        "pipeline = Pipeline('job', env=env)\n"
        "mid = Dataset('mid')\n"
    )


def test_what_tasks_are_given_in_the_cloud_does_not_configure_settings() -> None:
    from glacier.infra.runtime import TASK_VARIABLES
    from glacier.settings import GlacierSettings

    p = plan(glue_pipeline())
    given = dict(p.get(FUNCTION, "spark-publish-function").inputs["environment"]["variables"])
    args = p.of_type(GLUE_JOB)[0].inputs["defaultArguments"]
    given.update({k[2:]: v for k, v in args.items() if k.startswith("--GLACIER_")})
    assert set(given) <= set(TASK_VARIABLES)
    fields = {f.upper() for f in GlacierSettings.model_fields}
    assert not {name.removeprefix("GLACIER_") for name in TASK_VARIABLES} & fields
    code = (
        "from glacier.settings import GlacierSettings, TaskConfig\n"
        "assert GlacierSettings().task == TaskConfig()\n"  # a deployed task loads its settings
        "print('settings loaded')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**_without_glacier_vars(), **given},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "settings loaded"


def test_the_generated_glue_script_runs_the_task_its_arguments_name(tmp_path: Path) -> None:
    from glacier.infra.aws import GLUE_JOB_SOURCE, GLUE_SCRIPT

    (tmp_path / "gluejob.py").write_text(
        "import os\n" + job_module_head(tmp_path) + "@pipeline.task()\n"
        "def make() -> mid:\n"
        "    return pl.DataFrame({'task': [os.environ['GLACIER_TASK_NAME']]})\n"
    )
    script = tmp_path / GLUE_SCRIPT
    script.write_text(GLUE_JOB_SOURCE)
    artifacts = json.dumps({"mid": str(tmp_path / "artifacts" / "mid") + "/"})
    # As Glue runs it: its own arguments among the job's, the code zip on PYTHONPATH.
    argv = [
        "--JOB_ID", "j_1", "--GLACIER_TARGET", "gluejob:pipeline", "--GLACIER_TASK_NAME", "make",
        "--GLACIER_RUN_ID", "jr_7", "--GLACIER_ARTIFACTS", artifacts, "--job-bookmark-option",
        "job-bookmark-disable",
    ]  # fmt: skip
    env = {**_without_glacier_vars(), "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(script), *argv], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["written"] == ["mid"] and result["run_id"] == "jr_7"
    written = pl.read_parquet(tmp_path / "artifacts" / "mid" / "jr_7.parquet")
    assert written["task"].to_list() == ["make"]  # the job's arguments are also env vars

    bare = subprocess.run(
        [sys.executable, str(script), "--JOB_ID", "j_1"], env=env, capture_output=True, text=True
    )
    assert bare.returncode != 0
    assert "without --GLACIER_TARGET and --GLACIER_TASK_NAME" in bare.stderr


def test_ecs_without_an_image_is_refused_with_the_fix() -> None:
    with pytest.raises(InfraError, match=r"no image.*env\.compute\.ecs\(image="):
        plan(ecs_pipeline(image=None))


def test_a_bad_schedule_is_refused_before_any_plan() -> None:
    pipeline = seeds.create_pipeline(seeds.aws_dev)
    with pytest.raises(PipelineDefinitionError, match=r"rate\(1 day\)"):
        pipeline.schedule = "every day"
    assert pipeline.schedule == "rate(1 day)"  # the bad value did not replace the good one
    pipeline.schedule = "rate(6 hours)"
    (rule,) = plan(pipeline).of_type("aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["scheduleExpression"] == "rate(6 hours)"


def test_local_datasets_cannot_be_reached_from_the_cloud(tmp_path: Path) -> None:
    pipeline = Pipeline("mixed")
    local = Dataset("local", storage=str(tmp_path / "x.parquet"))
    out = Dataset("out", storage=seeds.aws_dev.storage.s3(bucket="dev-out"))

    @pipeline.task(compute=seeds.aws_dev.compute.lambda_())
    def push(data: local) -> out:
        return data

    with pytest.raises(InfraError, match="local path"):
        build_model(pipeline)


# -- data-flow pipelines, local environments, overrides -------------------------------------------


def test_data_flow_pipelines_plan_and_generate_like_annotated_ones(tmp_path: Path) -> None:
    p = plan(seeds.sales)
    assert levels_of(definition(p)) == [["extract_sales"], ["total"]]
    extract = task_policy(p, "flow", "extract_sales")
    # a resource passed to a traced call is read and written
    assert "arn:aws:s3:::flow-sales/sales.parquet*" in statement(extract, "Write")["Resource"]
    assert p.get(FUNCTION, "flow-extract_sales-function").inputs["memorySize"] == 256
    # a task without a compute hint gets a Lambda function with the defaults
    defaults = p.get(FUNCTION, "flow-total-function").inputs
    assert (defaults["memorySize"], defaults["timeout"]) == (512, 300)
    written = seeds.sales.run(mode="generate", output_dir=tmp_path / "flow")
    assert written["stacks"] == ["flow"]
    main = (tmp_path / "flow" / "__main__.py").read_text()
    assert "'flow': (" in main and "'sales')" in main


def test_local_environments_need_no_infrastructure(tmp_path: Path) -> None:
    env = Environment.local(base_path=tmp_path / "data", state_dir=tmp_path / ".glacier")
    pipeline = Pipeline("local-only", env=env)
    raw = Dataset("raw", storage=env.provider.bucket("raw", path="a.parquet"))

    @pipeline.task()
    def make() -> raw:
        return pl.DataFrame({"x": [1]})

    assert len(plan(pipeline)) == 0
    builder = env.container.cloud.infrastructure()
    assert "needs no cloud infrastructure" in builder.describe()
    written = pipeline.run(mode="generate", output_dir=tmp_path / "infra")
    assert written["files"] == [] and not (tmp_path / "infra").exists()


def test_the_infrastructure_builder_comes_from_the_container(tmp_path: Path) -> None:
    env = AWSEnvironment(account_id="444444444444", region="us-east-1", environment="custom")
    raw = Dataset("raw", storage=env.storage.s3(bucket="custom-raw"))
    pipeline = Pipeline("custom", env=env)

    @pipeline.task()
    def make() -> raw:
        return pl.DataFrame({"x": [1]})

    calls: list[tuple[str, int]] = []

    class Recording:
        def __init__(self, config: Any = None) -> None:
            self.config = config

        def declare(self, model: Any, key: str) -> None:
            calls.append((key, len(model.tasks)))

    with env.container.cloud.infrastructure.override(providers.Factory(Recording)):
        assert len(plan(pipeline)) == 0
    assert calls == [("custom", 1)]
    assert len(plan(pipeline)) > 0  # the override is gone


def test_a_local_environment_named_like_a_cloud_one_selects_the_cloud_share(
    tmp_path: Path, dev_plan: Plan
) -> None:
    laptop = Environment.local(base_path=tmp_path / "d", name="dev", state_dir=tmp_path / "s")
    selected = plan(seeds.dev_pipeline, env=laptop)
    assert [r.name for r in selected] == [r.name for r in dev_plan]
    assert {r.account for r in selected} == {"111111111111"}


def test_repeated_plans_in_one_process_are_independent(dev_plan: Plan) -> None:
    again = plan(seeds.dev_pipeline)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in dev_plan]
    assert json.loads(again.to_json())["resources"][0]["type"] == PROVIDER
    assert "dev (111111111111, us-west-2)" in again.to_text()


# -- generate, the generated program, deploy ------------------------------------------------------


def test_generate_writes_a_project_with_a_stack_per_environment(tmp_path: Path) -> None:
    out = tmp_path / "infra"
    written = generate(seeds.dev_pipeline, out, [seeds.aws_dev, seeds.aws_staging, seeds.aws_prod])
    assert written["stacks"] == ["dev", "staging", "prod"]
    names = sorted(Path(f).name for f in written["files"])
    assert names == [
        "Pulumi.dev.yaml",
        "Pulumi.prod.yaml",
        "Pulumi.staging.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
    ]
    project = yaml.safe_load((out / "Pulumi.yaml").read_text())
    assert project["name"] == "analytics-dev"
    assert project["runtime"]["name"] == "python"
    prod = yaml.safe_load((out / "Pulumi.prod.yaml").read_text())["config"]
    assert prod["aws:region"] == "us-east-1"
    assert prod["aws:profile"] == "production"
    assert prod["aws:allowedAccountIds"] == ["999999999999"]
    assert prod["glacier:environment"] == "prod"
    assert prod["glacier:pipeline"] == "analytics-prod"  # the factory's prod pipeline serves it
    main = (out / "__main__.py").read_text()
    tree = ast.parse(main)
    stacks = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "STACKS"  # type: ignore[attr-defined]
    )
    table = ast.literal_eval(stacks)
    assert {k: attr for k, (_, attr) in table.items()} == {
        "dev": "dev_pipeline",
        "staging": "staging_pipeline",
        "prod": "prod_pipeline",
    }
    for module, _ in table.values():  # relative to the project, resolved from __main__.py
        assert not Path(module).is_absolute()
        assert (out / module).resolve() == HERE / "infra_pipelines.py"
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert any(r.startswith("pulumi-aws") for r in requirements)
    assert any(r.startswith("glacier-pipelines[deploy]") for r in requirements)


def test_the_generated_program_runs_under_mocks(tmp_path: Path, dev_plan: Plan) -> None:
    out = tmp_path / "infra"
    generate(seeds.dev_pipeline, out, [seeds.aws_dev, seeds.aws_prod])
    script = (
        "import sys, json\n"
        "from glacier.infra.mocks import plan_project\n"
        "p = plan_project(sys.argv[1], sys.argv[2])\n"
        "print(json.dumps({'count': len(p), 'envs': sorted({r.environment or '' for r in p})}))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(HERE)])}
    runs = {}
    for stack in ("dev", "prod"):
        done = subprocess.run(
            [sys.executable, "-c", script, str(out), stack],
            capture_output=True,
            text=True,
            env=env,
            cwd=out,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        runs[stack] = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs["dev"] == {"count": len(dev_plan), "envs": ["dev"]}
    assert runs["prod"]["envs"] == ["prod"]
    assert runs["prod"]["count"] == len(plan(seeds.prod_pipeline))


def test_run_generate_uses_the_pipelines_environments(tmp_path: Path) -> None:
    written = seeds.cross_account_pipeline.run(mode="generate", output_dir=tmp_path / "p")
    assert written["stacks"] == ["dev", "prod"]
    for f in written["files"]:
        if f.endswith(".yaml"):
            assert isinstance(yaml.safe_load(Path(f).read_text()), dict)
        if f.endswith(".py"):
            compile(Path(f).read_text(), f, "exec")


def test_deploying_without_the_pulumi_cli_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PulumiNotInstalledError, match=r"https://get\.pulumi\.com"):
        up(seeds.dev_pipeline, seeds.aws_dev, output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written before the check


def test_importing_glacier_loads_no_cloud_sdk() -> None:
    code = (
        "import sys, glacier, glacier.infra\n"
        "from glacier.infra import build_model\n"
        "heavy = [m for m in ('pulumi', 'pulumi_aws', 'boto3') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"


# -- running one task of a deployed pipeline ------------------------------------------------------


def test_a_deployed_task_reads_and_writes_through_buckets_and_artifacts(tmp_path: Path) -> None:
    from glacier.infra.runtime import run_task

    module = tmp_path / "flowjob.py"
    module.write_text(
        job_module_head(tmp_path)
        + "out = Dataset('out', storage=env.provider.bucket('results', path='out.parquet'))\n"
        "@pipeline.task()\n"
        "def make() -> mid:\n"
        "    return pl.DataFrame({'x': [1, 2, 3]})\n"
        "@pipeline.task()\n"
        "def double(df: mid) -> out:\n"
        "    return df.with_columns(pl.col('x') * 2)\n"
    )
    artifacts = {"mid": str(tmp_path / "artifacts" / "mid") + "/"}
    target = f"{module}:pipeline"
    first = run_task(target, "make", run_id="run-1", artifacts=artifacts)
    assert first["written"] == ["mid"]
    assert (tmp_path / "artifacts" / "mid" / "run-1.parquet").exists()
    second = run_task(target, "double", run_id="run-1", artifacts=artifacts)
    assert second["read"] == ["mid"] and second["written"] == ["out"]
    result = pl.read_parquet(tmp_path / "data" / "results" / "out.parquet")
    assert result["x"].to_list() == [2, 4, 6]
    with pytest.raises(InfraError, match="no task 'nope'"):
        run_task(target, "nope", run_id="run-1", artifacts=artifacts)
