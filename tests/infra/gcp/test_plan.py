"""A GCP environment's plan under Pulumi's mocks: every resource and its inputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from glacier.infra import Plan, PlannedResource, plan
from glacier.infra.gcp import CONNECTOR, WRITER_PERMISSIONS
from infra.gcp.pipelines import PROJECT, REGION, daily

BUCKET = "gcp:storage/bucket:Bucket"
BINDING = "gcp:storage/bucketIAMMember:BucketIAMMember"
ACCOUNT = "gcp:serviceaccount/account:Account"
JOB = "gcp:cloudrunv2/job:Job"
WORKFLOW = "gcp:workflows/workflow:Workflow"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
WRITER = f"projects/{PROJECT}/roles/glacier_daily_objectWriter"
VIEWER = "roles/storage.objectViewer"


@pytest.fixture(scope="module")
def daily_plan() -> Plan:
    return plan(daily())


def objects(bucket: str, *prefixes: str) -> str:
    names = " || ".join(
        f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{p}")' for p in prefixes
    )
    inner = names if len(prefixes) == 1 else f"({names})"
    return f'(resource.type == "storage.googleapis.com/Object" && {inner})'


def listing(bucket: str) -> str:
    return (
        '(resource.type == "storage.googleapis.com/Bucket" && '
        f'resource.name == "projects/_/buckets/{bucket}")'
    )


def bindings_of(p: Plan, task: str) -> dict[tuple[str, str], str]:
    """``{(bucket, role): expression}`` of the bindings of ``task``'s service account."""
    email = f"prod-daily-{task}@{PROJECT}.iam.gserviceaccount.com"
    return {
        (r.inputs["bucket"], r.inputs["role"]): r.inputs["condition"]["expression"]
        for r in p.of_type(BINDING)
        if r.inputs["member"] == f"serviceAccount:{email}"
    }


def test_buckets_have_the_security_defaults_and_the_config(daily_plan: Plan) -> None:
    lake = daily_plan.get(BUCKET, "prod-acme-prod-lake").inputs
    assert lake["name"] == "acme-prod-lake"
    assert lake["location"] == "EUROPE-WEST1"
    assert lake["uniformBucketLevelAccess"] is True
    assert lake["publicAccessPrevention"] == "enforced"
    assert lake["versioning"] == {"enabled": True}
    key = "projects/acme-data-prod/locations/europe-west1/keyRings/lake/cryptoKeys/k"
    assert lake["encryption"] == {"defaultKmsKeyName": key}
    assert lake["lifecycleRules"] == [
        {
            "action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
            "condition": {"age": 30},
        },
        {"action": {"type": "Delete"}, "condition": {"age": 365}},
    ]
    assert lake["labels"] == {
        "costcenter": "data_team",  # the environment's tags, as GCP labels
        "glacier_owner": "analytics",
        "tier": "gold",
        "glacier-pipeline": "daily",
    }
    raw = daily_plan.get(BUCKET, "prod-acme-prod-raw").inputs
    assert "encryption" not in raw and "lifecycleRules" not in raw
    artifacts = daily_plan.get(BUCKET, "prod-artifacts").inputs
    assert artifacts["name"] == f"prod-daily-artifacts-{PROJECT}"
    assert artifacts["publicAccessPrevention"] == "enforced"
    assert artifacts["lifecycleRules"] == [
        {"action": {"type": "Delete"}, "condition": {"age": 7}},
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 7}},
    ]


def test_the_provider_binds_the_project_and_sanitized_labels(daily_plan: Plan) -> None:
    (provider,) = daily_plan.of_type("pulumi:providers:gcp")
    assert provider.inputs["project"] == PROJECT and provider.inputs["region"] == REGION
    labels = json.loads(provider.inputs["defaultLabels"])
    assert labels == {
        "costcenter": "data_team",
        "glacier_owner": "analytics",
        "managed-by": "glacier",
    }


def test_one_service_account_per_task(daily_plan: Plan) -> None:
    ids = sorted(r.inputs["accountId"] for r in daily_plan.of_type(ACCOUNT))
    assert ids == [
        "prod-daily-publish",
        "prod-daily-scheduler",
        "prod-daily-summarise",
        "prod-daily-tidy",
        "prod-daily-workflow",
    ]
    sa = daily_plan.get(ACCOUNT, "prod-tidy-sa")
    assert sa.outputs["email"] == f"prod-daily-tidy@{PROJECT}.iam.gserviceaccount.com"


def test_reads_are_conditioned_on_the_prefix_and_listing_on_the_bucket(daily_plan: Plan) -> None:
    artifacts = f"prod-daily-artifacts-{PROJECT}"
    assert bindings_of(daily_plan, "tidy") == {
        (
            "acme-prod-raw",
            VIEWER,
        ): f"{objects('acme-prod-raw', 'orders/')} || {listing('acme-prod-raw')}",
        (artifacts, VIEWER): f"{objects(artifacts, 'mid/')} || {listing(artifacts)}",
        (artifacts, WRITER): objects(artifacts, "mid/"),
    }


def test_a_task_touching_three_buckets_gets_one_binding_set_each(daily_plan: Plan) -> None:
    found = bindings_of(daily_plan, "publish")
    artifacts = f"prod-daily-artifacts-{PROJECT}"
    assert found == {
        (
            "acme-prod-raw",
            VIEWER,
        ): f"{objects('acme-prod-raw', 'orders/')} || {listing('acme-prod-raw')}",
        (artifacts, VIEWER): f"{objects(artifacts, 'mid/')} || {listing(artifacts)}",
        (
            "acme-prod-lake",
            VIEWER,
        ): f"{objects('acme-prod-lake', 'clean.parquet')} || {listing('acme-prod-lake')}",
        ("acme-prod-lake", WRITER): objects("acme-prod-lake", "clean.parquet"),
    }
    # summarise reads clean and writes report in one bucket: one viewer, one writer binding
    summarise = bindings_of(daily_plan, "summarise")
    assert summarise == {
        ("acme-prod-lake", VIEWER): (
            f"{objects('acme-prod-lake', 'clean.parquet', 'report.parquet')} || "
            f"{listing('acme-prod-lake')}"
        ),
        ("acme-prod-lake", WRITER): objects("acme-prod-lake", "report.parquet"),
    }


def test_the_writer_role_holds_exactly_create_and_delete(daily_plan: Plan) -> None:
    (role,) = daily_plan.of_type(CUSTOM_ROLE)
    assert role.inputs["roleId"] == "glacier_daily_objectWriter"
    assert role.inputs["permissions"] == list(WRITER_PERMISSIONS)
    assert WRITER_PERMISSIONS == ("storage.objects.create", "storage.objects.delete")


def _roles(p: Plan) -> list[tuple[PlannedResource, str]]:
    return [(r, str(r.inputs["role"])) for r in p if "role" in r.inputs and "IAM" in r.type.upper()]


def test_no_basic_role_and_no_project_level_data_role_anywhere(daily_plan: Plan) -> None:
    roles = _roles(daily_plan)
    assert len(roles) >= 10  # every binding is looked at
    for resource, role in roles:
        assert role not in ("roles/owner", "roles/editor", "roles/viewer"), resource.name
        if resource.type.startswith("gcp:projects/"):
            assert not role.startswith("roles/storage."), resource.name
            assert role == "roles/workflows.invoker"
        if resource.type == BINDING:
            assert resource.inputs["condition"]["expression"]  # never unconditional


def test_each_task_is_a_cloud_run_job_running_the_task(daily_plan: Plan) -> None:
    job = daily_plan.get(JOB, "prod-publish-job").inputs
    assert job["name"] == "prod-daily-publish" and job["location"] == REGION
    template: dict[str, Any] = job["template"]["template"]
    assert template["serviceAccount"] == f"prod-daily-publish@{PROJECT}.iam.gserviceaccount.com"
    assert template["maxRetries"] == 0
    assert template["timeout"] == "1200s"
    (container,) = template["containers"]
    assert container["commands"] == ["python", "-m", "glacier.infra.runtime"]
    assert container["args"][1] == "publish" and container["args"][0].endswith(":daily")
    assert container["resources"] == {"limits": {"cpu": "2", "memory": "4096Mi"}}
    assert container["image"].startswith(f"{REGION}-docker.pkg.dev/{PROJECT}/prod-daily/daily:py")
    envs = {e["name"]: e["value"] for e in container["envs"]}
    assert envs["GLACIER_TASK_NAME"] == "publish"
    assert envs["GLACIER_PIPELINE"] == "daily"
    assert envs["GLACIER_ENVIRONMENT"] == "prod"
    assert envs["GLACIER_DEPLOYED"] == "1"
    assert envs["GOOGLE_CLOUD_PROJECT"] == PROJECT and envs["GOOGLE_CLOUD_REGION"] == REGION
    assert json.loads(envs["GLACIER_ARTIFACTS"]) == {
        "mid": f"gs://prod-daily-artifacts-{PROJECT}/mid/"
    }
    summarise = daily_plan.get(JOB, "prod-summarise-job").inputs
    assert summarise["labels"] == {
        "team": "bi",
        "glacier-pipeline": "daily",
        "glacier-task": "summarise",
    }
    (given,) = summarise["template"]["template"]["containers"]
    assert given["image"] == "europe-west1-docker.pkg.dev/acme-data-prod/bi/report:2"
    assert {"name": "REPORT_MODE", "value": "full"} in given["envs"]
    tidy = daily_plan.get(JOB, "prod-tidy-job").inputs["template"]["template"]
    assert tidy["timeout"] == "900s"  # the task's timeout wins over the job's default


def test_the_workflow_runs_each_level_in_parallel_with_retries(daily_plan: Plan) -> None:
    (workflow,) = daily_plan.of_type(WORKFLOW)
    assert (
        workflow.inputs["serviceAccount"]
        == f"prod-daily-workflow@{PROJECT}.iam.gserviceaccount.com"
    )
    source = json.loads(workflow.inputs["sourceContents"])
    steps = source["main"]["steps"]
    levels = [
        [next(iter(b)) for b in step[f"level_{i}"]["parallel"]["branches"]]
        for i, step in enumerate(steps[:-1])
    ]
    assert levels == [["tidy"], ["publish"], ["summarise"]]
    tidy = steps[0]["level_0"]["parallel"]["branches"][0]["tidy"]["steps"][0]["run_tidy"]
    assert tidy["try"]["call"] == CONNECTOR
    assert (
        tidy["try"]["args"]["name"] == f"projects/{PROJECT}/locations/{REGION}/jobs/prod-daily-tidy"
    )
    assert tidy["try"]["args"]["connector_params"] == {"timeout": 900 + 600}
    # every task of one execution runs under the execution's id (in-memory datasets)
    assert tidy["try"]["args"]["body"] == {
        "overrides": {
            "containerOverrides": [
                {
                    "env": [
                        {
                            "name": "GLACIER_RUN_ID",
                            "value": '${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}',
                        }
                    ]
                }
            ]
        }
    }
    assert tidy["retry"] == {
        "predicate": "${retry_any}",
        "max_retries": 3,
        "backoff": {"initial_delay": 10, "max_delay": 3600, "multiplier": 2.0},
    }
    publish = steps[1]["level_1"]["parallel"]["branches"][0]["publish"]["steps"][0]
    assert "retry" not in publish["run_publish"]  # no retries: a plain call
    assert source["retry_any"] == {"params": ["e"], "steps": [{"any": {"return": True}}]}


def test_the_workflow_may_run_exactly_the_pipelines_jobs(daily_plan: Plan) -> None:
    grants = daily_plan.of_type("gcp:cloudrunv2/jobIamMember:JobIamMember")
    assert sorted((g.inputs["name"], g.inputs["role"]) for g in grants) == [
        ("prod-daily-publish", "roles/run.jobsExecutorWithOverrides"),
        ("prod-daily-summarise", "roles/run.jobsExecutorWithOverrides"),
        ("prod-daily-tidy", "roles/run.jobsExecutorWithOverrides"),
    ]
    members = {g.inputs["member"] for g in grants}
    assert members == {f"serviceAccount:prod-daily-workflow@{PROJECT}.iam.gserviceaccount.com"}


def test_the_schedule_starts_the_workflow_through_the_executions_api(daily_plan: Plan) -> None:
    (job,) = daily_plan.of_type("gcp:cloudscheduler/job:Job")
    assert job.inputs["schedule"] == "0 6 * * 1-5"  # AWS cron(0 6 ? * 2-6 *): Monday to Friday
    assert job.inputs["timeZone"] == "Etc/UTC"
    target = job.inputs["httpTarget"]
    assert target["uri"] == (
        "https://workflowexecutions.googleapis.com/v1/projects/acme-data-prod/locations/"
        "europe-west1/workflows/prod-daily/executions"
    )
    assert target["oauthToken"]["serviceAccountEmail"] == (
        f"prod-daily-scheduler@{PROJECT}.iam.gserviceaccount.com"
    )
    (invoker,) = daily_plan.of_type("gcp:projects/iAMMember:IAMMember")
    assert invoker.inputs["role"] == "roles/workflows.invoker"
    assert invoker.inputs["member"] == target["oauthToken"]["serviceAccountEmail"].join(
        ("serviceAccount:", "")
    )


def test_the_repository_holds_the_image_the_plan_chose(daily_plan: Plan) -> None:
    (repo,) = daily_plan.of_type("gcp:artifactregistry/repository:Repository")
    assert repo.inputs["repositoryId"] == "prod-daily" and repo.inputs["format"] == "DOCKER"
    assert repo.inputs["location"] == REGION
    assert {c.task for c in daily_plan.choices} == {"tidy", "publish"}  # summarise names one
    assert all("Dockerfile" in c.text for c in daily_plan.choices)
