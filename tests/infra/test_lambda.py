"""Tasks as Lambda functions: compute hints, packaged code, the environment's network."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from glacier import AWSEnvironment, Dataset, Environment, Pipeline
from glacier.infra import Plan, plan
from infra.pipelines import NETWORKS
from infra.plans import FUNCTION, lint, statement, task_policy


def test_lambda_functions_from_compute_hints_with_packaged_code(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    fn = dev_plan.get(FUNCTION, "dev-clean-function").inputs
    assert fn["name"] == "dev-analytics-dev-clean"
    assert fn["memorySize"] == 1024
    # retries=2, timeout=600 (tests/infra_pipelines.py): three attempts cannot fit 900 s, so
    # the function runs one attempt of up to 600 s and its state retries (see definition).
    assert fn["timeout"] == 600
    assert fn["environment"]["variables"]["GLACIER_ONE_ATTEMPT"] == "1"
    assert fn["runtime"] == "python3.11"
    assert fn["handler"] == "glacier_handler.handler"
    assert fn["role"] == "arn:aws:iam::111111111111:role/dev-analytics-dev-clean"
    assert fn["environment"]["variables"]["GLACIER_TASK_NAME"] == "clean"
    archive = fn["code"].assets
    assert "glacier_handler.py" in archive and "infra_pipelines.py" in archive
    # Glacier's own modules travel with the code, with bytecode compiled for this Python
    # (Lambda's code directory is read-only: without it, each cold start compiles them)
    assert "glacier/infra/runtime.py" in archive and "glacier/py.typed" in archive
    tag = sys.implementation.cache_tag
    assert f"glacier/infra/__pycache__/runtime.{tag}.pyc" in archive
    assert f"__pycache__/infra_pipelines.{tag}.pyc" in archive
    sources = {n for n in archive if n.endswith(".py") and n != "glacier_handler.py"}
    compiled = {n for n in archive if n.endswith(".pyc")}
    assert len(compiled) == len(sources)
    assert "layers" in fn and len(fn["layers"]) == 1  # Glacier's dependencies layer
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


def lambda_network_plan(network: str) -> Plan:
    env = AWSEnvironment(
        account_id="111111111111", region="us-west-2", environment="net", **NETWORKS[network]
    )
    pipeline = Pipeline("net", env=env)
    raw = Dataset("raw", storage=env.storage.s3(bucket="net-raw", path="raw.parquet"))
    out = Dataset("out", storage=env.storage.s3(bucket="net-out", path="out.parquet"))

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
    raw = Dataset("raw", storage=env.provider.bucket("acme-prod-raw", path="raw.parquet"))
    out = Dataset("out", storage=env.provider.bucket("acme-prod-out", path="out.parquet"))

    @pipeline.task(compute=env.compute.lambda_())
    def copy(data: raw) -> out:
        return data

    (fn,) = plan(pipeline).of_type(FUNCTION)
    assert fn.inputs["vpcConfig"] == {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]}


def _timed_pipeline(compute_timeout: int | None, timeout: float, retries: int) -> Pipeline:
    env = AWSEnvironment(account_id="555555555555", region="us-east-1", environment="tm")
    pipeline = Pipeline("timed")
    out = Dataset("out", storage=env.storage.s3(bucket="tm-out", path="out.parquet"))
    compute = (
        env.compute.lambda_()
        if compute_timeout is None
        else env.compute.lambda_(timeout=compute_timeout)
    )

    @pipeline.task(compute=compute, retries=retries, timeout=timeout)
    def work() -> out:
        raise NotImplementedError

    return pipeline


def test_an_unset_function_timeout_is_raised_to_fit_the_attempts() -> None:
    # Two attempts of 400 s fit 900 s: the function may run 800 s, and the task retries.
    planned = plan(_timed_pipeline(None, 400, 1))
    (fn,) = planned.of_type(FUNCTION)
    assert fn.inputs["timeout"] == 800
    assert "GLACIER_ONE_ATTEMPT" not in fn.inputs["environment"]["variables"]
    assert [c.text for c in planned.choices if c.task == "work"][-1].startswith(
        "work: Lambda timeout 800 s"
    )


def test_attempts_that_fit_the_function_choose_nothing() -> None:
    planned = plan(_timed_pipeline(600, 200, 2))
    (fn,) = planned.of_type(FUNCTION)
    assert fn.inputs["timeout"] == 600
    assert not [c for c in planned.choices if "timeout" in c.text or "retried" in c.text]


def test_an_attempt_allowed_longer_than_the_function_may_run_is_said_in_the_plan() -> None:
    # A task timeout of an hour (a template's default) on Lambda: the function runs 900 s at
    # most (or the timeout it was given), an attempt still running then is ended, and with
    # retries each attempt is an invocation of its own. The plan says so; it plans.
    for given, timeout, retries, most, by_state in (
        (600, 700, 0, 600, False),
        (None, 3600, 2, 900, True),
    ):
        planned = plan(_timed_pipeline(given, timeout, retries))
        (fn,) = planned.of_type(FUNCTION)
        assert fn.inputs["timeout"] == most
        variables = fn.inputs["environment"]["variables"]
        assert ("GLACIER_ONE_ATTEMPT" in variables) is by_state
        (text,) = [c.text for c in planned.choices if c.task == "work" and "timeout=" in c.text]
        assert text.startswith(f"work: Lambda timeout {most} s, less than the task's timeout=")
        assert "ECS" in text
