"""Seed 000's multi-account pattern on GCP: a task of project A reading a bucket of project
B gets one binding in B's stack for A's service account, with the same condition, and
nothing else in B."""

from __future__ import annotations

import pytest

from glacier.infra import Plan, plan
from infra.gcp.pipelines import OTHER, PROJECT, cross_project

BINDING = "gcp:storage/bucketIAMMember:BucketIAMMember"
HOME = f"gcp-{PROJECT}-europe-west1"
SHARED = f"gcp-{OTHER}-europe-west1"


@pytest.fixture(scope="module")
def cross_plan() -> Plan:
    return plan(cross_project())


def test_the_data_project_binds_the_other_projects_task_and_nothing_else(cross_plan: Plan) -> None:
    shared = cross_plan.in_environment(SHARED)
    assert sorted(r.type for r in shared) == [
        "gcp:storage/bucket:Bucket",  # the bucket it owns (declared with the defaults)
        BINDING,
        "pulumi:providers:gcp",
    ]
    (binding,) = [r for r in shared if r.type == BINDING]
    (account,) = [
        r
        for r in cross_plan.of_type("gcp:serviceaccount/account:Account")
        if r.name == f"{HOME}-join-sa"
    ]
    assert binding.account == OTHER
    assert binding.inputs["member"] == f"serviceAccount:{account.outputs['email']}"
    assert account.outputs["email"].endswith(f"@{PROJECT}.iam.gserviceaccount.com")
    assert binding.inputs["bucket"] == "acme-shared-ref"
    assert binding.inputs["role"] == "roles/storage.objectViewer"
    assert binding.inputs["condition"]["expression"] == (
        '(resource.type == "storage.googleapis.com/Object" && resource.name.startsWith('
        '"projects/_/buckets/acme-shared-ref/objects/countries/")) || '
        '(resource.type == "storage.googleapis.com/Bucket" && '
        'resource.name == "projects/_/buckets/acme-shared-ref")'
    )


def test_the_tasks_project_binds_nothing_on_the_other_projects_bucket(cross_plan: Plan) -> None:
    home = [r for r in cross_plan.in_environment(HOME) if r.type == BINDING]
    assert {r.inputs["bucket"] for r in home} == {"acme-prod-out"}


def test_each_projects_stack_plans_alone() -> None:
    alone = plan(cross_project(), env=SHARED)
    assert {r.environment for r in alone} == {SHARED}
    assert len([r for r in alone if r.type == BINDING]) == 1


def test_a_workflow_runs_a_job_of_another_project_through_a_binding_there() -> None:
    from infra.gcp.pipelines import two_projects

    planned = plan(two_projects())
    (workflow,) = planned.of_type("gcp:workflows/workflow:Workflow")
    assert workflow.environment == HOME
    source = workflow.inputs["sourceContents"]
    assert f"projects/{OTHER}/locations/europe-west1/jobs/{SHARED}-split-second" in source
    invokers = {
        (r.environment, r.inputs["name"], r.inputs["member"])
        for r in planned.of_type("gcp:cloudrunv2/jobIamMember:JobIamMember")
    }
    member = f"serviceAccount:{HOME}-split-workflow"
    assert {(env, name) for env, name, _ in invokers} == {
        (HOME, f"{HOME}-split-first"),
        (SHARED, f"{SHARED}-split-second"),
    }
    emails = {m for _, _, m in invokers}
    assert len(emails) == 1 and next(iter(emails)).endswith(f"@{PROJECT}.iam.gserviceaccount.com")
    assert next(iter(emails)).startswith(member[:30])
    # second reads a (project A's bucket): the binding is in A's stack, for B's account
    (binding,) = [
        r
        for r in planned.in_environment(HOME)
        if r.type == BINDING and r.inputs["bucket"] == "acme-prod-a" and "second" in r.name
    ]
    assert binding.inputs["member"].endswith(f"@{OTHER}.iam.gserviceaccount.com")
