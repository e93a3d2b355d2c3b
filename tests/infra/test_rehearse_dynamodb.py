"""A task that writes a DynamoDB table rehearses: the rehearsal creates the table the plan
declares (it created none before, so such a task could only fail), and the task writes it
under its own role."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from glacier.infra import plan, rehearse
from glacier.infra.rehearse import stop_server

PIPELINE = """
import polars as pl
from glacier import Dataset, Environment, Pipeline
from glacier.settings import GlacierSettings

env = Environment.from_settings(
    GlacierSettings(
        env="ddb",
        provider={"kind": "aws", "region": "us-east-1", "account_id": "777777777777"},
        databases={"events": {"identifier": "ddb-events",
                              "dynamodb": {"hash_key": "customer", "range_key": "seq",
                                           "range_key_type": "N"}}},
    )
)
pipeline = Pipeline("events", env=env)
events = Dataset("events", storage=env.get("events"))


@pipeline.task(compute=env.compute.lambda_())
def land() -> events:
    return pl.DataFrame({"customer": ["a", "b"], "seq": [1, 2], "amount": [1.5, 2.5]})
"""


def test_a_task_writing_a_dynamodb_table_rehearses(tmp_path: Path) -> None:
    import boto3

    module = tmp_path / "events_pipeline.py"
    module.write_text(PIPELINE)
    target = f"{module}:pipeline"
    (table,) = plan(target).of_type("aws:dynamodb/table:Table")
    assert table.inputs["name"] == "ddb-events"
    report = rehearse(target, "ddb", keep_server=True)
    try:
        assert report.ok, report.to_text()
        assert report.task("land").status == "succeeded"
        client = boto3.client(
            "dynamodb",
            endpoint_url=report.endpoint,
            region_name="us-east-1",
            aws_access_key_id="rehearsal-setup",
            aws_secret_access_key="rehearsal-setup",
        )
        items = client.scan(TableName="ddb-events")["Items"]
        assert sorted(i["customer"]["S"] for i in items) == ["a", "b"]
    finally:
        stop_server(report.endpoint)


def test_rehearse_imported_from_glacier_infra_is_callable_after_its_modules() -> None:
    # Importing a module of the package first binds glacier.infra.rehearse to the package,
    # which shadowed the function: the documented call failed with "module is not callable".
    # (In a fresh interpreter: in this one, the order of earlier imports decides.)
    code = (
        "import glacier.infra.rehearse.server\n"
        "from glacier.infra import rehearse\n"
        "try:\n"
        "    rehearse('nosuch.py:pipeline', 'nowhere')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() != "TypeError", done.stdout  # "'module' object is not callable"
    assert done.stdout.strip().endswith("Error"), done.stdout + done.stderr
