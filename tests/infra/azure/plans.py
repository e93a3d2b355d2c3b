"""Reading Azure plans in tests."""

from __future__ import annotations

from typing import Any

from glacier.infra import Plan
from glacier.infra.mocks import PlannedResource

ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
JOB = "azure-native:app:Job"
WORKFLOW = "azure-native:logic:Workflow"
CONTAINER = "azure-native:storage:BlobContainer"
ACCOUNT = "azure-native:storage:StorageAccount"
READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
PATH = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]"
PREFIX = "@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix]"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"


def role_of(r: PlannedResource) -> str:
    """The role GUID of an assignment."""
    return str(r.inputs["roleDefinitionId"]).rsplit("/", 1)[-1]


def principal(p: Plan, env: str, task: str) -> str:
    """The principal id of ``task``'s identity."""
    return str(p.get(IDENTITY, f"{env}-{task}-identity").outputs["principalId"])


def assignments_of(p: Plan, env: str, task: str, role: str | None = None) -> list[PlannedResource]:
    """Assignments to ``task``'s identity (of ``role`` when given)."""
    who = principal(p, env, task)
    return [
        r
        for r in p.of_type(ASSIGNMENT)
        if r.inputs["principalId"] == who and (role is None or role_of(r) == role)
    ]


def container_scope(sub: str, group: str, account: str, container: str) -> str:
    return (
        f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Storage/"
        f"storageAccounts/{account}/blobServices/default/containers/{container}"
    )


def clauses(condition: str) -> list[str]:
    """The clauses of a condition, as Glacier writes them (one per line, joined by AND)."""
    return condition.split("\nAND\n")


def job_env(p: Plan, env: str, task: str) -> dict[str, Any]:
    container = p.get(JOB, f"{env}-{task}-job").inputs["template"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"]}
