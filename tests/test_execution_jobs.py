"""Execution environments as resources (seed 004, "Example 3" and "Decision 5"): Glue job runs
and ECS tasks started and watched through the resource, against moto."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from glacier import Provider
from glacier.config import AwsConfig, LocalConfig
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


def test_databricks_jobs_are_refused_naming_what_is_missing(aws: Provider) -> None:
    with pytest.raises(NotSupportedError, match="submitting databricks jobs is not available"):
        aws.databricks("cluster").submit_job({})


def test_adapter_for_belongs_to_the_resources_provider(aws: Provider) -> None:
    other = Provider(config=LocalConfig())
    job = aws.glue("nightly")
    with pytest.raises(ConfigError, match="belongs to another provider"):
        other.adapter_for(job)
    bucket = other.bucket("raw", path="a.parquet")
    assert type(other.adapter_for(bucket)).__name__ == type(bucket.adapter).__name__
