"""Execution environments as resources (seed 004, "Example 3" and "Decision 5"): Glue job runs
and ECS tasks started and watched through the resource against moto, Databricks runs against a
local fake of its Jobs API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from fake_databricks import FakeDatabricks, fake_databricks
from glacier import Provider
from glacier.config import AwsConfig, DatabricksConfig, LocalConfig
from glacier.errors import ConfigError, NotSupportedError


@pytest.fixture
def aws(moto_endpoint: str) -> Provider:
    return Provider(config=AwsConfig(region="us-east-1", endpoint_url=moto_endpoint))


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def test_glue_job_is_submitted_watched_and_waited_for(aws: Provider, moto_endpoint: str) -> None:
    glue = _client("glue", moto_endpoint)
    glue.create_job(
        Name="nightly-sales",
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/nightly.py"},
    )
    job = aws.glue("nightly-sales")
    run_id = job.submit_job({"arguments": {"--date": "2025-01-01"}, "number_of_workers": 2})
    run = glue.get_job_run(JobName="nightly-sales", RunId=run_id)["JobRun"]
    assert run["Arguments"] == {"--date": "2025-01-01"}
    assert job.get_job_status(run_id) in {"PENDING", "RUNNING", "SUCCEEDED"}
    assert job.wait(run_id, poll=0.05) == "SUCCEEDED"
    assert aws.adapter_for(job).get_job_status(run_id) == "SUCCEEDED"


def test_ecs_task_is_run_and_its_status_read(aws: Provider, moto_endpoint: str) -> None:
    ecs = _client("ecs", moto_endpoint)
    ecs.create_cluster(clusterName="jobs")
    ecs.register_task_definition(
        family="transform",
        containerDefinitions=[{"name": "transform", "image": "python:3.11", "memory": 512}],
    )
    job = aws.ecs("transform")
    arn = job.run_task(
        {"cluster": "jobs", "command": ["python", "-m", "t"], "environment": {"A": "1"}}
    )
    [task] = ecs.describe_tasks(cluster="jobs", tasks=[arn])["tasks"]
    assert task["overrides"]["containerOverrides"][0]["command"] == ["python", "-m", "t"]
    assert job.get_job_status(arn) in {"PENDING", "RUNNING"}
    ecs.stop_task(cluster="jobs", task=arn, reason="done")
    # moto stops the task with its container's exit code 0: the job succeeded.
    assert job.wait(arn, poll=0.05) == "SUCCEEDED"


def test_ecs_task_stopped_with_a_failing_container_failed(aws: Provider) -> None:
    class Answers:
        def describe_tasks(self, cluster: str, tasks: list[str]) -> dict[str, Any]:
            assert cluster == "jobs"  # read from the task ARN
            containers = [{"exitCode": 0}, {"exitCode": 1}]
            return {"tasks": [{"lastStatus": "STOPPED", "containers": containers}]}

    adapter = aws.adapter_for(aws.ecs("transform"))
    adapter._client = lambda service: Answers()
    assert adapter.get_job_status("arn:aws:ecs:us-east-1:1:task/jobs/abc") == "FAILED"


def test_a_job_key_neither_service_takes_is_refused_before_starting(aws: Provider) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'args'; a glue job takes arguments"):
        aws.glue("nightly").submit_job({"args": []})
    with pytest.raises(ConfigError, match=r"unknown key 'image'; a ecs job takes cluster"):
        aws.ecs("transform").run_task({"image": "x"})


def test_jobs_of_an_unknown_environment_type_are_refused(aws: Provider) -> None:
    with pytest.raises(NotSupportedError, match="submitting jobs of a 'emr' execution"):
        aws.execution("emr", "cluster").submit_job({})
    with pytest.raises(NotSupportedError, match="submitting glue jobs"):
        Provider().glue("nightly").submit_job({})


def test_adapter_for_belongs_to_the_resources_provider(aws: Provider) -> None:
    other = Provider(config=LocalConfig())
    job = aws.glue("nightly")
    with pytest.raises(ConfigError, match="belongs to another provider"):
        other.adapter_for(job)
    bucket = other.bucket("raw", path="a.parquet")
    assert type(other.adapter_for(bucket)).__name__ == type(bucket.adapter).__name__


# -- Databricks, against a local fake of its Jobs API ---------------------------------------


@pytest.fixture
def databricks(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDatabricks]:
    with fake_databricks() as fake:
        for name in [n for n in os.environ if n.startswith("DATABRICKS_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("DATABRICKS_HOST", fake.host)
        monkeypatch.setenv("DATABRICKS_TOKEN", "fake-token")  # the SDK reads it, never code
        yield fake


def test_databricks_run_is_submitted_on_a_job_cluster_and_waited_for(
    databricks: FakeDatabricks,
) -> None:
    provider = Provider(config=LocalConfig(), tags={"team": "data"})
    cluster = provider.databricks(
        "nightly", DatabricksConfig(num_workers=4, instance_type="i3.xlarge")
    )
    run_id = cluster.submit_job(
        {"python_file": "dbfs:/jobs/etl.py", "parameters": ["--date", "2025-01-01"]}
    )
    [(method, path, body)] = databricks.requests
    assert (method, path) == ("POST", "/api/2.2/jobs/runs/submit")
    [task] = body["tasks"]
    assert task["spark_python_task"] == {
        "python_file": "dbfs:/jobs/etl.py",
        "parameters": ["--date", "2025-01-01"],
    }
    assert task["new_cluster"]["num_workers"] == 4
    assert task["new_cluster"]["node_type_id"] == "i3.xlarge"
    assert task["new_cluster"]["custom_tags"] == {"team": "data"}
    assert cluster.get_job_status(run_id) == "PENDING"
    assert cluster.get_job_status(run_id) == "RUNNING"
    assert cluster.wait(run_id, poll=0.01) == "SUCCEEDED"


def test_databricks_existing_job_runs_and_a_failed_run_is_failed(
    databricks: FakeDatabricks,
) -> None:
    cluster = Provider(config=AwsConfig(region="us-east-1")).databricks("etl")
    run_id = cluster.submit_job({"job_id": 42, "parameters": ["x"]})
    assert databricks.requests[-1][1:] == (
        "/api/2.2/jobs/run-now",
        {"job_id": 42, "python_params": ["x"]},
    )
    assert cluster.wait(run_id, poll=0.01) == "SUCCEEDED"
    failing = cluster.submit_job({"python_file": "dbfs:/jobs/fail.py"})
    assert cluster.wait(failing, poll=0.01) == "FAILED"


def test_databricks_job_needs_a_file_or_a_job(databricks: FakeDatabricks) -> None:
    cluster = Provider().databricks("etl")
    with pytest.raises(ConfigError, match=r"give either 'python_file'.*or 'job_id'"):
        cluster.submit_job({})
    with pytest.raises(ConfigError, match="unknown key 'notebook'"):
        cluster.submit_job({"python_file": "x.py", "notebook": "n"})
    assert databricks.requests == []
