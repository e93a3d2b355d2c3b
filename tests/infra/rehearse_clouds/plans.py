"""Hand-built plans of the contract's shapes: a GCP environment (buckets, service accounts,
conditional bucket IAM members, Cloud Run jobs, a Workflows definition) and an Azure one
(containers, user-assigned identities, conditional role assignments, Container Apps jobs, a
Logic Apps workflow).

:func:`gcp_plan` and :func:`azure_plan` take the same :class:`TaskPlan` list: what each task
reads and writes (bucket, prefix), and the levels of the orchestration.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from glacier.infra import Plan, PlannedResource

PROJECT = "acme-rehearse"
REGION = "europe-west1"
SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
GROUP = "rg-rehearse"
ACCOUNT = "acmerehearse"
READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"


@dataclass(frozen=True)
class TaskPlan:
    """A task as a builder sees it: its name, what it reads and writes (bucket, prefix), the
    target its container runs, and the variables the builder gives it."""

    name: str
    reads: tuple[tuple[str, str], ...] = ()
    writes: tuple[tuple[str, str], ...] = ()
    target: str = "pipeline.py:pipeline"
    variables: dict[str, str] = field(default_factory=dict)
    retries: int = 0


def _variables(task: TaskPlan, env: str) -> list[dict[str, str]]:
    found = {
        "GLACIER_PIPELINE": "sales",
        "GLACIER_TASK_NAME": task.name,
        "GLACIER_ENVIRONMENT": env,
        "GLACIER_TARGET": task.target,
        **task.variables,
    }
    return [{"name": k, "value": v} for k, v in found.items()]


def _command(task: TaskPlan) -> tuple[list[str], list[str]]:
    return ["python"], ["-m", "glacier.infra.runtime", task.target, task.name]


def _resource(type_: str, name: str, inputs: dict, outputs: dict | None = None) -> PlannedResource:
    return PlannedResource(type_, name, inputs, "", _ENV[0], None, None, outputs or {})


#: The environment the resources being built belong to (set by gcp_plan/azure_plan).
_ENV = ["gcpdev"]


# -- GCP -----------------------------------------------------------------------------------


def gcs_object_prefix(bucket: str, prefix: str) -> str:
    return f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}")'


def gcs_list(bucket: str) -> str:
    return (
        f'resource.type == "storage.googleapis.com/Bucket" && '
        f'resource.name == "projects/_/buckets/{bucket}"'
    )


def _job_path(env: str, name: str) -> str:
    return f"projects/{PROJECT}/locations/{REGION}/jobs/{env}-{name}"


def gcp_plan(
    tasks: Sequence[TaskPlan], levels: Sequence[Sequence[str]], env: str = "gcpdev"
) -> Plan:
    """A GCP environment's plan for ``tasks``, orchestrated level by level."""
    _ENV[0] = env
    out: list[PlannedResource] = []
    buckets = sorted({b for t in tasks for b, _ in (*t.reads, *t.writes)})
    for b in buckets:
        out.append(
            _resource(
                "gcp:storage/bucket:Bucket",
                b,
                {
                    "name": b,
                    "location": "EU",
                    "uniformBucketLevelAccess": True,
                    "publicAccessPrevention": "enforced",
                },
            )
        )
    for t in tasks:
        account = f"{env}-{t.name}"
        email = f"{account}@{PROJECT}.iam.gserviceaccount.com"
        out.append(
            _resource(
                "gcp:serviceaccount/account:Account",
                account,
                {"accountId": account},
                {"email": email},
            )
        )
        member = f"serviceAccount:{email}"
        for access, pairs, role in (
            ("read", t.reads, "roles/storage.objectViewer"),
            ("write", t.writes, "roles/storage.objectUser"),
        ):
            for bucket, prefix in pairs:
                expression = f"({gcs_object_prefix(bucket, prefix)}) || ({gcs_list(bucket)})"
                out.append(
                    _resource(
                        "gcp:storage/bucketIAMMember:BucketIAMMember",
                        f"{t.name}-{access}-{bucket}-{prefix}",
                        {
                            "bucket": bucket,
                            "role": role,
                            "member": member,
                            "condition": {
                                "title": f"{t.name} {access}",
                                "description": f"{access} {prefix}",
                                "expression": expression,
                            },
                        },
                    )
                )
        commands, args = _command(t)
        out.append(
            _resource(
                "gcp:cloudrunv2/job:Job",
                f"{env}-{t.name}",
                {
                    "name": f"{env}-{t.name}",
                    "location": REGION,
                    "template": {
                        "template": {
                            "serviceAccount": email,
                            "containers": [
                                {
                                    "image": f"{REGION}-docker.pkg.dev/{PROJECT}/glacier/sales:abc",
                                    "commands": commands,
                                    "args": args,
                                    "envs": _variables(t, env),
                                }
                            ],
                            "maxRetries": t.retries,
                            "timeout": "600s",
                        }
                    },
                },
            )
        )
    steps = []
    for i, level in enumerate(levels):
        branches = [
            {
                f"branch_{name}": {
                    "steps": [
                        {
                            f"run_{name}": {
                                "call": "googleapis.run.v2.projects.locations.jobs.run",
                                "args": {"name": _job_path(env, name)},
                            }
                        }
                    ]
                }
            }
            for name in level
        ]
        steps.append({f"level_{i}": {"parallel": {"branches": branches}}})
    out.append(
        _resource(
            "gcp:workflows/workflow:Workflow",
            f"{env}-sales",
            {
                "name": f"{env}-sales",
                "region": REGION,
                "sourceContents": yaml.safe_dump({"main": {"steps": steps}}, sort_keys=False),
            },
        )
    )
    return Plan("sales", tuple(out), (env,))


# -- Azure ---------------------------------------------------------------------------------


def principal(name: str) -> str:
    return str(uuid.UUID(hashlib.sha256(f"principal:{name}".encode()).hexdigest()[:32]))


def container_id(container: str) -> str:
    return (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Storage/"
        f"storageAccounts/{ACCOUNT}/blobServices/default/containers/{container}"
    )


def abac(actions: Sequence[str], prefix: str) -> str:
    """Glacier's shape of a condition: the actions it names are allowed only under the
    prefix (a listing only with a prefix under it); other actions are unconditioned."""
    names = ", ".join(f"'{BLOBS}/{a}'" for a in actions)
    return (
        f"((!(ActionMatches{{{names}}}) AND !(SubOperationMatches{{'Blob.List'}})) OR "
        f"(@Resource[{BLOBS}:path] StringStartsWith '{prefix}') OR "
        f"(SubOperationMatches{{'Blob.List'}} AND "
        f"@Request[{BLOBS}:prefix] StringStartsWith '{prefix}'))"
    )


def azure_plan(
    tasks: Sequence[TaskPlan], levels: Sequence[Sequence[str]], env: str = "azdev"
) -> Plan:
    """An Azure environment's plan for ``tasks``, orchestrated level by level."""
    _ENV[0] = env
    out: list[PlannedResource] = [
        _resource("azure-native:resources:ResourceGroup", GROUP, {"resourceGroupName": GROUP}),
        _resource("azure-native:storage:StorageAccount", ACCOUNT, {"accountName": ACCOUNT}),
    ]
    containers = sorted({b for t in tasks for b, _ in (*t.reads, *t.writes)})
    for c in containers:
        out.append(
            _resource(
                "azure-native:storage:BlobContainer",
                c,
                {"accountName": ACCOUNT, "containerName": c, "resourceGroupName": GROUP},
                {"id": container_id(c)},
            )
        )
    actions: dict[str, dict] = {}
    previous: list[str] = []
    for level in levels:
        for name in level:
            actions[f"start_{name}"] = {
                "type": "Http",
                "inputs": {
                    "method": "POST",
                    "uri": (
                        f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/resourceGroups/"
                        f"{GROUP}/providers/Microsoft.App/jobs/{env}-{name}/start?api-version=2024-03-01"
                    ),
                },
                "runAfter": {p: ["Succeeded"] for p in previous},
            }
        previous = [f"start_{name}" for name in level]
    for t in tasks:
        ident = f"{env}-{t.name}"
        ident_id = (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/{ident}"
        )
        out.append(
            _resource(
                "azure-native:managedidentity:UserAssignedIdentity",
                ident,
                {"resourceName": ident, "resourceGroupName": GROUP},
                {
                    "principalId": principal(ident),
                    "clientId": principal("client" + ident),
                    "id": ident_id,
                },
            )
        )
        for access, pairs, role, names in (
            ("read", t.reads, READER, ("read",)),
            ("write", t.writes, CONTRIBUTOR, ("read", "write", "add/action", "delete")),
        ):
            for container, prefix in pairs:
                out.append(
                    _resource(
                        "azure-native:authorization:RoleAssignment",
                        f"{t.name}-{access}-{container}-{prefix}",
                        {
                            "principalId": principal(ident),
                            "principalType": "ServicePrincipal",
                            "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}/providers/"
                            f"Microsoft.Authorization/roleDefinitions/{role}",
                            "scope": container_id(container),
                            "conditionVersion": "2.0",
                            "condition": abac(names, prefix),
                        },
                    )
                )
        command, args = _command(t)
        out.append(
            _resource(
                "azure-native:app:Job",
                ident,
                {
                    "jobName": ident,
                    "resourceGroupName": GROUP,
                    "identity": {"type": "UserAssigned", "userAssignedIdentities": [ident_id]},
                    "configuration": {
                        "triggerType": "Manual",
                        "replicaRetryLimit": t.retries,
                        "replicaTimeout": 600,
                    },
                    "template": {
                        "containers": [
                            {
                                "name": t.name,
                                "image": "acr.azurecr.io/sales:abc",
                                "command": command,
                                "args": args,
                                "env": _variables(t, env),
                            }
                        ]
                    },
                },
            )
        )
    out.append(
        _resource(
            "azure-native:logic:Workflow",
            f"{env}-sales",
            {
                "workflowName": f"{env}-sales",
                "resourceGroupName": GROUP,
                "definition": {"triggers": {}, "actions": actions},
            },
        )
    )
    return Plan("sales", tuple(out), (env,))


def to_json(plan: Plan) -> str:
    return json.dumps([r.to_dict() for r in plan], indent=1)
