"""Rehearsing deployments on moto with IAM enforced: each task's real artifact, in a clean
process under its own role, in the order of the state machine's definition."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import infra_pipelines as seeds
from glacier.infra import rehearse
from glacier.infra.rehearse import stop_server
from glacier.infra.rehearse.identity import trusting
from infra.plans import ROOT


def test_the_seed_factory_pattern_runs_as_deployed_under_its_roles(moto_endpoint: str) -> None:
    import boto3

    # AWSEnvironment(..., profile="dev"): the profile is the deployer's; the tasks use roles.
    report = rehearse(seeds.dev_pipeline, "dev")
    assert report.ok, report.to_text()
    assert [(t.task, t.compute, t.status) for t in report.tasks] == [
        ("extract", "lambda", "succeeded"),
        ("clean", "lambda", "succeeded"),
    ]
    assert report.task("extract").written == ("raw_data",)
    assert report.task("clean").written == ("clean_data",)
    assert report.state_machine is not None
    assert report.state_machine.endswith(":stateMachine:dev-analytics-dev")
    assert any("trust the rehearsal's IAM user" in n for n in report.notes)
    # IAM was enforced on the rehearsal's own server only: the caller's moto is untouched.
    assert report.endpoint != moto_endpoint
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="after-a-rehearsal")
    assert "after-a-rehearsal" in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_the_medallion_example_runs_as_deployed_on_lambda_and_ecs(tmp_path: Path) -> None:
    code = (
        "import json, runpy\n"
        "from glacier.infra import rehearse\n"
        f"pipeline = runpy.run_path({str(ROOT / 'examples' / 'medallion.py')!r})['pipeline']\n"
        "r = rehearse(pipeline, 'prod')\n"
        "print(json.dumps([[t.task, t.compute, t.status, list(t.written), t.error,\n"
        "                   [str(d) for d in t.denied]] for t in r.tasks]))\n"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT / "src"),
        "HOME": str(tmp_path),
        "GLACIER_ENV": "prod",
        "GLACIER_SETTINGS_DIR": str(ROOT / "containers"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    tasks = json.loads(done.stdout.strip().splitlines()[-1])
    assert tasks == [
        ["ingest", "ecs", "succeeded", ["raw_orders"], "", []],
        ["clean", "ecs", "succeeded", ["orders"], "", []],
        ["revenue", "lambda", "succeeded", ["daily_revenue"], "", []],
        ["customer_value", "ecs", "succeeded", ["customers"], "", []],
    ]


SNEAKY = """
import polars as pl
from glacier import AWSEnvironment, Dataset, Pipeline

env = AWSEnvironment(account_id="333333333333", region="us-east-1", environment="qa")
pipeline = Pipeline("sneaky")
out = Dataset("out", storage=env.storage.s3(bucket="qa-sneaky-out", path="out.parquet"))
secret = Dataset("secret", storage=env.storage.s3(bucket="qa-sneaky-secret", path="s.parquet"))
result = Dataset("result", storage=env.storage.s3(bucket="qa-sneaky-out", path="r.parquet"))


@pipeline.task(compute=env.compute.lambda_())
def make() -> out:
    return pl.DataFrame({"x": [1, 2]})


@pipeline.task(compute=env.compute.lambda_())
def keep() -> secret:
    return pl.DataFrame({"pin": [1234]})


@pipeline.task(compute=env.compute.lambda_())
def peek(data: out) -> result:
    # Reads a dataset it does not declare: its role must not allow it.
    stolen = env.storage.s3(bucket="qa-sneaky-secret", path="s.parquet").read()
    return data.with_columns(pin=pl.lit(stolen["pin"][0]))
"""


def test_a_task_touching_an_undeclared_dataset_is_denied(tmp_path: Path) -> None:
    module = tmp_path / "sneaky.py"
    module.write_text(SNEAKY)
    report = rehearse(f"{module}:pipeline", "qa")
    assert not report.ok
    assert report.task("make").ok and report.task("keep").ok
    peek = report.task("peek")
    assert peek.status == "failed" and "permission denied" in peek.error
    assert peek.denied and all("/qa-sneaky-secret" in d.path for d in peek.denied)
    assert "peek" in report.to_text() and "denied" in report.to_text()


SHARED_LAKE = """
import polars as pl
from glacier import AWSEnvironment, Dataset, Pipeline

ops = AWSEnvironment(account_id="111111111111", region="us-east-1", environment="ops")
lake = AWSEnvironment(account_id="999999999999", region="us-east-1", environment="lake")
pipeline = Pipeline("shared-lake")
orders = Dataset("orders", storage=ops.storage.s3(bucket="ops-orders", path="orders.parquet"))
shared = Dataset(
    "shared", storage=lake.storage.s3(bucket="lake-shared", path="ops/totals.parquet")
)
report = Dataset("report", storage=ops.storage.s3(bucket="ops-orders", path="report.parquet"))
seen = Dataset("seen", storage=ops.storage.s3(bucket="ops-orders", path="seen.parquet"))


@pipeline.task(compute=ops.compute.lambda_())
def extract() -> orders:
    return pl.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]})


@pipeline.task(compute=ops.compute.lambda_(), allow_cross_environment=True)
def publish(data: orders) -> shared:  # runs in 111111111111, writes in 999999999999
    return data.group_by("k").agg(pl.col("v").sum()).sort("k")


@pipeline.task(compute=ops.compute.lambda_(), allow_cross_environment=True)
def summarize(data: shared) -> report:
    return data.with_columns(share=pl.col("v") / pl.col("v").sum())


@pipeline.task(compute=ops.compute.lambda_())
def peek(data: report) -> seen:
    # Reads the other account's dataset without declaring it: nothing lets it in.
    stolen = lake.storage.s3(bucket="lake-shared", path="ops/totals.parquet").read()
    return data.with_columns(n=pl.lit(stolen.height))
"""

OPS, LAKE = "111111111111", "999999999999"


def test_a_task_writes_another_accounts_bucket_through_the_role_it_assumes_there(
    tmp_path: Path,
) -> None:
    import boto3
    import polars as pl

    module = tmp_path / "shared_lake.py"
    module.write_text(SHARED_LAKE)
    report = rehearse(f"{module}:pipeline", "ops", keep_server=True)
    try:
        reader = boto3.client(
            "s3",
            endpoint_url=report.endpoint,
            region_name="us-east-1",
            aws_access_key_id="reader",
            aws_secret_access_key="reader",
        )
        written = reader.get_object(Bucket="lake-shared", Key="ops/totals.parquet")
        totals = pl.read_parquet(io.BytesIO(written["Body"].read()))
        owners = _bucket_accounts(report.endpoint)
        own_put, chained_put = _put_as_publish(report.endpoint)
    finally:
        stop_server(report.endpoint)
    text = report.to_text()
    publish, summarize = report.task("publish"), report.task("summarize")
    remote = f"arn:aws:iam::{LAKE}:role/lake-shared-lake-publish-from-{OPS}"
    # The writer ran in the ops account and got in through the lake's role for it, only.
    assert publish.ok and publish.written == ("shared",), text
    assert publish.assumed == (remote,), text
    assert summarize.ok and summarize.assumed == (remote.replace("publish", "summarize"),)
    assert report.task("extract").ok and report.task("extract").assumed == ()
    assert totals.to_dict(as_series=False) == {"k": ["a", "b"], "v": [4, 2]}
    # Each plan's resources were created in its own account: the bucket is the lake's.
    assert owners == {"lake-shared": LAKE, "ops-orders": OPS}
    # With IAM enforced, the writer's own role cannot write there; the chain can.
    assert own_put == "AccessDenied" and chained_put == "ok"
    # Not granted the lake's dataset, a task of the same account is denied it.
    peek = report.task("peek")
    assert peek.status == "failed" and "permission denied" in peek.error, text
    assert peek.assumed == () and peek.denied
    assert all(d.path.startswith("/lake-shared") for d in peek.denied)
    assert not report.ok


def _put_as_publish(endpoint: str) -> tuple[str, str]:
    """Write to the lake's bucket as the ``publish`` task's own role, then through the role
    it assumes there; each attempt's outcome (IAM enforced)."""
    import boto3
    from botocore.exceptions import ClientError

    from glacier.infra.rehearse.server import enforce_iam

    def client(service: str, key: str, secret: str, token: str | None = None) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
        )

    iam = client("iam", "setup", "setup")  # the server's default account: the task's
    roles = iam.list_roles()["Roles"]
    own = next(r["Arn"] for r in roles if r["RoleName"].endswith("-publish"))
    user = iam.create_user(UserName="checker")["User"]["Arn"]
    iam.put_user_policy(
        UserName="checker",
        PolicyName="assume",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="checker")["AccessKey"]
    iam.update_assume_role_policy(RoleName=own.rsplit("/", 1)[1], PolicyDocument=trusting(user))
    enforce_iam(endpoint)
    try:
        sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        mine = sts.assume_role(RoleArn=own, RoleSessionName="own")["Credentials"]
        session = (mine["AccessKeyId"], mine["SecretAccessKey"], mine["SessionToken"])
        outcomes = []
        for how in ("own", "chained"):
            if how == "chained":
                theirs = client("sts", *session).assume_role(
                    RoleArn=f"arn:aws:iam::{LAKE}:role/lake-shared-lake-publish-from-{OPS}",
                    RoleSessionName="chained",
                )["Credentials"]
                session = (theirs["AccessKeyId"], theirs["SecretAccessKey"], theirs["SessionToken"])
            try:
                client("s3", *session).put_object(
                    Bucket="lake-shared", Key="ops/totals.parquet", Body=b"x"
                )
                outcomes.append("ok")
            except ClientError as exc:
                outcomes.append(str(exc.response["Error"]["Code"]))
    finally:
        enforce_iam(endpoint, False)
    return outcomes[0], outcomes[1]


def _bucket_accounts(endpoint: str) -> dict[str, str]:
    """Which account holds each bucket: listed with moto's account header."""
    import boto3

    out = {}
    for account in (OPS, LAKE):
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="lister",
            aws_secret_access_key="lister",
        )
        s3.meta.events.register(
            "before-sign",
            lambda request, account=account, **_: request.headers.__setitem__(
                "x-moto-account-id", account
            ),
        )
        out.update({b["Name"]: account for b in s3.list_buckets()["Buckets"]})
    return out
