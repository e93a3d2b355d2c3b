"""The data statements every policy is built from: prefixes, listing, KMS keys, and exactly
the actions each write mode needs (proven by rehearsing on moto with IAM enforced)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import AWSEnvironment, Dataset, Pipeline
from glacier.infra import Plan, plan, rehearse
from glacier.infra.rehearse import stop_server
from infra.plans import ROLE_POLICY, lint, statement, task_policy


def test_customer_kms_keys_are_granted_to_the_tasks_that_use_them(lake_plan: Plan) -> None:
    key = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    # The lake is another account: its tasks use the key through the roles they assume there.
    lake = "aws-999999999999-us-east-1"
    train = lake_plan.get(ROLE_POLICY, f"{lake}-train-from-222222222222-policy").policy()
    assert statement(train, "Kms1")["Resource"] == [key]
    assert statement(train, "Kms1")["Action"] == ["kms:Decrypt"]
    extract = lake_plan.get(ROLE_POLICY, f"{lake}-extract_events-from-111111111111-policy")
    assert statement(extract.policy(), "Kms1")["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
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


# -- what each write mode is granted ---------------------------------------------------------

LAKE = "arn:aws:s3:::qa-modes-lake"
READ_ACTIONS = ["s3:GetObject"]
WRITE_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload"]


def modes_pipeline() -> Pipeline:
    """One producer per way of writing, and one reader, all on ECS in one account."""
    env = AWSEnvironment(account_id="444444444444", region="us-east-1", environment="qa")
    ecs = env.compute.ecs(image="python:3.11-slim")
    pipeline = Pipeline("modes")

    def s3(path: str, **kw: Any) -> Any:
        return env.storage.s3(bucket="qa-modes-lake", path=path, **kw)

    outputs = {
        "overwrite": Dataset("overwrite", storage=s3("overwrite/")),
        "append": Dataset("append", storage=s3("append/"), write={"mode": "append"}),
        "partitions": Dataset(
            "partitions",
            storage=s3("partitions/", partition_by=["day"]),
            write={"mode": "overwrite_partitions"},
        ),
        "merge": Dataset(
            "merge", storage=s3("merge/"), write={"mode": "merge", "on": ["id"], "schema": "merge"}
        ),
        "object": Dataset("object", storage=s3("object.parquet")),
        "manifest": Dataset("manifest", storage=s3("manifest/", format="csv")),
    }
    for mode, out in outputs.items():

        def produce() -> Any:
            return pl.DataFrame({"id": [1], "day": ["d"]})

        produce.__name__ = f"write_{mode}"
        produce.__annotations__ = {"return": out}
        pipeline.task(compute=ecs)(produce)
    merged = outputs["merge"]

    @pipeline.task(compute=ecs)
    def read(data: merged) -> None:  # type: ignore[valid-type]
        return None

    return pipeline


@pytest.fixture(scope="module")
def modes_plan() -> Plan:
    return plan(modes_pipeline())


@pytest.mark.parametrize("mode", ["overwrite", "append", "partitions", "merge"])
def test_a_table_writer_gets_put_get_and_list_on_its_prefix_and_no_delete(
    modes_plan: Plan, mode: str
) -> None:
    doc = task_policy(modes_plan, "qa", f"write_{mode}")
    s3 = [s for s in doc["Statement"] if s["Action"][0].startswith("s3:")]
    assert {s["Sid"]: s["Action"] for s in s3} == {
        "Read": READ_ACTIONS,
        "Write": WRITE_ACTIONS,
        "List1": ["s3:ListBucket"],
    }
    # the table's files and its _delta_log/ are under the prefix; the directory's own name
    # is probed (HEAD) to tell a file from a directory
    assert statement(doc, "Read")["Resource"] == [f"{LAKE}/{mode}", f"{LAKE}/{mode}/*"]
    assert statement(doc, "Write")["Resource"] == [f"{LAKE}/{mode}/*"]
    assert statement(doc, "List1") == {
        "Sid": "List1",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": [LAKE],
        "Condition": {"StringLike": {"s3:prefix": [f"{mode}/*"]}},
    }


def test_an_object_writer_gets_put_and_get_on_its_key_and_no_delete(modes_plan: Plan) -> None:
    doc = task_policy(modes_plan, "qa", "write_object")
    assert statement(doc, "Write") == {
        "Sid": "Write",
        "Effect": "Allow",
        "Action": WRITE_ACTIONS,
        "Resource": [f"{LAKE}/object.parquet*"],
    }
    assert statement(doc, "Read")["Resource"] == [f"{LAKE}/object.parquet*"]
    assert not [s for s in doc["Statement"] if "s3:DeleteObject" in s["Action"]]


def test_only_a_manifest_directory_writer_may_delete_and_only_under_its_prefix(
    modes_plan: Plan,
) -> None:
    doc = task_policy(modes_plan, "qa", "write_manifest")
    assert statement(doc, "Delete") == {
        "Sid": "Delete",
        "Effect": "Allow",
        "Action": ["s3:DeleteObject"],
        "Resource": [f"{LAKE}/manifest/*"],
    }
    deleters = {
        r.name
        for r in modes_plan.of_type(ROLE_POLICY)
        if any("s3:DeleteObject" in s["Action"] for s in r.policy()["Statement"])
    }
    assert deleters == {"qa-write_manifest-policy"}


def test_a_reader_gets_get_and_list_only(modes_plan: Plan) -> None:
    doc = task_policy(modes_plan, "qa", "read")
    s3 = [s for s in doc["Statement"] if s["Action"][0].startswith("s3:")]
    assert [(s["Sid"], s["Action"]) for s in s3] == [
        ("Read", READ_ACTIONS),
        ("List1", ["s3:ListBucket"]),
    ]
    assert statement(doc, "List1")["Condition"] == {"StringLike": {"s3:prefix": ["merge/*"]}}


def test_the_write_mode_policies_pass_parliament_without_wildcard_resources(
    modes_plan: Plan,
) -> None:
    findings: list[str] = []
    checked = 0
    for resource, key, doc in modes_plan.policies():
        findings.extend(lint(resource, key, doc))
        checked += 1
        if resource.type != ROLE_POLICY:
            continue
        for stmt in doc["Statement"]:
            if any(a.startswith("s3:") for a in stmt["Action"]):
                assert all(r.startswith(f"{LAKE}") for r in stmt["Resource"]), stmt
                assert "*" not in stmt["Resource"] and "s3:*" not in stmt["Action"]
    assert findings == []
    assert checked >= 7  # a role and its policy per task


# -- rehearsed: the generated roles can do the writes, and cannot delete --------------------

TABLE_PIPELINE = """
from datetime import timedelta

import polars as pl
from glacier import AWSEnvironment, Dataset, Pipeline

env = AWSEnvironment(account_id="555555555555", region="us-east-1", environment="qa")
ecs = env.compute.ecs(image="python:3.11-slim")
pipeline = Pipeline("orders")


def lake(path, **kw):
    return env.storage.s3(bucket="qa-orders-lake", path=path, **kw)


created = Dataset("created", storage=lake("orders/"))
appended = Dataset("appended", storage=lake("orders/"), write={"mode": "append"})
merged = Dataset("merged", storage=lake("orders/"), write={"mode": "merge", "on": ["id"]})
kept = Dataset("kept", storage=lake("kept.parquet"))
swept = Dataset("swept", storage=lake("orders/"), write={"mode": "append"})


@pipeline.task(compute=ecs)
def create() -> created:
    return pl.DataFrame({"id": [1, 2], "v": ["a", "b"]})


@pipeline.task(compute=ecs)
def keep() -> kept:
    return pl.DataFrame({"x": [1]})


@pipeline.task(compute=ecs)
def add(table: created) -> appended:
    return pl.DataFrame({"id": [3], "v": ["c"]})


@pipeline.task(compute=ecs)
def upsert(table: appended) -> merged:
    return pl.DataFrame({"id": [2, 4], "v": ["B", "d"]})


@pipeline.task(compute=ecs)
def sweep(table: merged) -> swept:
    # Maintenance from a task writing the table: its role has no delete, so each attempt
    # must be refused, in the table and elsewhere.
    failures = []
    try:
        lake("orders/").vacuum(timedelta(0), force=True)
    except Exception as exc:
        failures.append(f"vacuum: {exc}")
    for path in ("orders/_delta_log/00000000000000000000.json", "kept.parquet"):
        try:
            lake(path, format="json-document" if path.endswith(".json") else "parquet").delete()
        except Exception as exc:
            failures.append(f"delete {path}: {exc}")
    raise RuntimeError(" | ".join(failures))
"""


def test_generated_roles_append_and_merge_a_delta_table_and_cannot_delete(
    tmp_path: Path,
) -> None:
    import boto3

    module = tmp_path / "orders_pipeline.py"
    module.write_text(TABLE_PIPELINE)
    report = rehearse(f"{module}:pipeline", "qa", keep_server=True)
    try:
        statuses = {t.task: (t.status, t.denied) for t in report.tasks}
        # the policy is not too narrow: create, append and merge ran with nothing denied
        for task in ("create", "keep", "add", "upsert"):
            assert statuses[task] == ("succeeded", ()), report.to_text()
        # ... and not too wide: the task doing maintenance was refused every delete
        sweep = report.task("sweep")
        assert sweep.status == "failed"
        parts = sweep.error.split(" | ")
        assert len(parts) == 3, sweep.error
        assert all("denied" in p.lower() for p in parts), sweep.error
        # vacuum's bulk delete is refused key by key inside a 200 answer (its error says so);
        # deleting a commit is refused, and kept.parquet is not even visible to this task
        assert {(d.method, d.path.split("?")[0]) for d in sweep.denied} == {
            ("DELETE", "/qa-orders-lake/orders/_delta_log/00000000000000000000.json"),
            ("HEAD", "/qa-orders-lake/kept.parquet"),
        }
        # with IAM enforcement off again: every commit and every object is still there
        s3 = boto3.client(
            "s3",
            endpoint_url=report.endpoint,
            region_name="us-east-1",
            aws_access_key_id="admin",
            aws_secret_access_key="admin",
        )
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="qa-orders-lake")["Contents"]}
        commits = sorted(k for k in keys if k.startswith("orders/_delta_log/0"))
        # create, append, merge, and the start of the vacuum that could delete nothing
        assert commits == [f"orders/_delta_log/{n:020d}.json" for n in range(4)]
        assert [operation(s3, key) for key in commits] == [
            "WRITE",
            "WRITE",
            "MERGE",
            "VACUUM START",
        ]
        assert "kept.parquet" in keys
        rows = pl.read_delta(
            "s3://qa-orders-lake/orders/",
            storage_options={
                "aws_endpoint_url": report.endpoint,
                "aws_allow_http": "true",
                "aws_region": "us-east-1",
                "aws_access_key_id": "admin",
                "aws_secret_access_key": "admin",
            },
        ).sort("id")
        assert rows.rows() == [(1, "a"), (2, "B"), (3, "c"), (4, "d")]
    finally:
        stop_server(report.endpoint)


def operation(s3: Any, key: str) -> str:
    """The operation of the Delta commit stored at ``key``."""
    for line in s3.get_object(Bucket="qa-orders-lake", Key=key)["Body"].read().splitlines():
        entry = json.loads(line)
        if "commitInfo" in entry:
            return str(entry["commitInfo"]["operation"])
    return ""


def test_a_table_write_leaves_expired_log_files_to_maintenance(tmp_path: Path) -> None:
    """delta-rs deletes expired log files after a commit when a checkpoint allows it; a task
    role may not delete, so Glacier's writes leave that to vacuum (which may)."""
    import deltalake

    from glacier import Provider
    from glacier.settings import LocalConfig

    root = tmp_path / "lake" / "t"
    for n in range(3):  # expired at once, with a checkpoint: log clean-up is due
        deltalake.write_deltalake(
            str(root),
            pl.DataFrame({"id": [n]}).to_arrow(),
            mode="append",
            configuration={
                "delta.logRetentionDuration": "interval 0 seconds",
                "delta.checkpointInterval": "1",
            },
            post_commithook_properties=deltalake.PostCommitHookProperties(
                cleanup_expired_logs=False
            ),
        )
    log = root / "_delta_log"
    before = {p.name for p in log.glob("*.json")}
    assert "00000000000000000000.json" in before
    bucket = Provider(config=LocalConfig(base_path=str(tmp_path))).bucket("lake", path="t/")
    bucket.write(pl.DataFrame({"id": [7]}), mode="append")
    bucket.write(pl.DataFrame({"id": [7, 8]}), mode="merge", on=["id"])
    after = {p.name for p in log.glob("*.json")}
    assert before <= after and len(after) == len(before) + 2
    assert sorted(bucket.read()["id"]) == [0, 1, 2, 7, 8]
    bucket.vacuum(timedelta(days=7))  # maintenance: its own commits clean the log
    assert "00000000000000000000.json" not in {p.name for p in log.glob("*.json")}
