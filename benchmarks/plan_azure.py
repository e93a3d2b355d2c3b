"""How much Glacier adds to a Pulumi program on Azure: plan a 500-task pipeline, and declare
the same resources directly with pulumi-azure-native, under the same mock engine, in one
process (the Azure twin of ``benchmarks/plan.py``).

    .venv/bin/python benchmarks/plan_azure.py [--tasks 500] [--repeat 3]

Both sides run through :func:`glacier.infra.mocks.run_with_mocks` with the same recording
mocks and declare the same resources with the same inputs (checked at the end): the
difference is Glacier's own work (the model from the DAG, the ABAC conditions, the Logic App
definition). Constants a hand-written program would paste (the baked settings, the image tag,
the code target) are computed once, outside the timing. Prints wall-clock and CPU medians of
interleaved runs and their ratios (the target is at most 1.2x).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
import warnings
from typing import Any

warnings.filterwarnings("ignore", category=DeprecationWarning)

from glacier import Dataset, Pipeline, Provider  # noqa: E402
from glacier.infra import build_model, plan  # noqa: E402
from glacier.infra.mocks import RecordingMocks, run_with_mocks  # noqa: E402
from glacier.settings import AzureConfig  # noqa: E402

SUB, LOCATION, ACCOUNT, PREFIX, NAME = (
    "00000000-1111-2222-3333-444444444444",
    "westeurope",
    "benchdata",
    "bench",
    "bench",
)
CHAINS = 10
GROUP = f"{PREFIX}-{NAME}"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
ROLES = "/subscriptions/" + SUB + "/providers/Microsoft.Authorization/roleDefinitions/"
READER, CONTRIBUTOR, ACR_PULL = (
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "7f951dda-4ed3-4680-a7ca-43fe172d538d",
)
ASSIGNMENTS = uuid.UUID("6f1d6c1e-9a51-4c1b-8d0e-5a7e3c2f9b10")
STARTER = uuid.UUID("4c0b2b1e-7f0e-4f0f-9b3a-1d2c3e4f5a6b")
ARM = "https://management.azure.com"

env = Provider(
    config=AzureConfig(subscription_id=SUB, location=LOCATION, storage_account=ACCOUNT)
).env(name=PREFIX)


def build_pipeline(tasks: int) -> Pipeline:
    """``CHAINS`` independent chains; each task reads its predecessor's stored output."""
    pipeline = Pipeline(NAME, env=env)
    previous: dict[int, Dataset] = {}
    for i in range(tasks):
        chain = i % CHAINS
        out = Dataset(f"d{i}", storage=env.storage.blob(f"bench-data-{chain}", f"d{i}/"))
        source = previous.get(chain)
        namespace: dict[str, Any] = {"out": out, "source": source}
        if source is None:
            exec(f"def t{i}() -> out:\n    return None", namespace)
        else:
            exec(f"def t{i}(x: source) -> out:\n    return x", namespace)
        pipeline.task()(namespace[f"t{i}"])
        previous[chain] = out
    return pipeline


def constants(pipeline: Pipeline) -> dict[str, Any]:
    """What a hand-written program would paste: the settings the tasks start with, the
    image tag, the code target."""
    from glacier.infra.azure.registry import image_tag
    from glacier.infra.azure.stack import open_stack

    model = build_model(pipeline)
    box: dict[str, Any] = {}

    def grab() -> None:
        from glacier.infra.azure.task_environment import settings_variables

        stack = open_stack(model, model.envs[PREFIX])
        box["settings"] = settings_variables(stack, model.tasks[0])
        box["tag"] = image_tag(stack)

    run_with_mocks(grab, RecordingMocks(), project=NAME, stack=PREFIX)
    target = model.code.relative_target if model.code else model.pipeline
    return {**box, "target": target}


def _clause(about: str, allowed: list[str]) -> str:
    return f"(!({about}) OR " + " OR ".join(allowed) + ")" if allowed else f"(!({about}))"


def _condition(reads: list[str], writes: list[str]) -> str:
    path = f"@Resource[{BLOBS}:path]"
    prefix = f"@Request[{BLOBS}:prefix]"
    read = f"ActionMatches{{'{BLOBS}/read'}}"
    listing = "SubOperationMatches{'Blob.List'}"
    paths = [
        x
        for p in reads
        for x in (f"{path} StringStartsWith '{p}'", f"{path} StringEquals '{p[:-1]}'")
    ]
    clauses = [
        _clause(f"{read} AND !({listing})", paths),
        _clause(f"{read} AND {listing}", [f"{prefix} StringStartsWith '{p}'" for p in reads]),
    ]
    if writes:
        write = f"ActionMatches{{'{BLOBS}/write'}} OR ActionMatches{{'{BLOBS}/add/action'}}"
        clauses.append(_clause(write, [f"{path} StringStartsWith '{p}'" for p in writes]))
        clauses.append(_clause(f"ActionMatches{{'{BLOBS}/delete'}}", []))
    return "\nAND\n".join(clauses)


def raw_program(tasks: int, const: dict[str, Any]) -> None:
    """The same resources with the same inputs, declared by hand with pulumi-azure-native."""
    import pulumi
    import pulumi_azure_native.app as app
    import pulumi_azure_native.authorization as authorization
    import pulumi_azure_native.containerregistry as acr
    import pulumi_azure_native.logic as logic
    import pulumi_azure_native.managedidentity as msi
    import pulumi_azure_native.resources as resources
    import pulumi_azure_native.storage as storage
    from pulumi_azure_native.provider import Provider as AzureProvider

    provider = AzureProvider(PREFIX, subscription_id=SUB, location=LOCATION)
    opts = pulumi.ResourceOptions(provider=provider)

    def after(*deps: Any) -> Any:
        return pulumi.ResourceOptions(provider=provider, depends_on=list(deps))

    tags = {"ManagedBy": "glacier", "glacier-pipeline": NAME}
    group_id = f"/subscriptions/{SUB}/resourceGroups/{GROUP}"
    group = resources.ResourceGroup(
        f"{PREFIX}-resource-group",
        resource_group_name=GROUP,
        location=LOCATION,
        tags=tags,
        opts=opts,
    )
    account = storage.StorageAccount(
        f"{PREFIX}-storage-account",
        account_name=ACCOUNT,
        resource_group_name=GROUP,
        location=LOCATION,
        kind="StorageV2",
        sku={"name": "Standard_LRS"},
        access_tier="Hot",
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        allow_shared_key_access=False,
        default_to_o_auth_authentication=True,
        public_network_access="Enabled",
        encryption={
            "require_infrastructure_encryption": True,
            "key_source": "Microsoft.Storage",
            "services": {"blob": {"enabled": True, "key_type": "Account"}},
        },
        tags=tags,
        opts=after(group),
    )
    storage.BlobServiceProperties(
        f"{PREFIX}-blob-service",
        account_name=ACCOUNT,
        resource_group_name=GROUP,
        blob_services_name="default",
        is_versioning_enabled=True,
        delete_retention_policy={"enabled": True, "days": 7},
        container_delete_retention_policy={"enabled": True, "days": 7},
        opts=after(account),
    )
    containers = [
        storage.BlobContainer(
            f"{PREFIX}-container-bench-data-{c}",
            account_name=ACCOUNT,
            container_name=f"bench-data-{c}",
            resource_group_name=GROUP,
            public_access="None",
            metadata={"glacier_pipeline": NAME},
            opts=after(account),
        )
        for c in range(CHAINS)
    ]
    registry_name = "benchbenchac54dd"
    registry_id = f"{group_id}/providers/Microsoft.ContainerRegistry/registries/{registry_name}"
    registry = acr.Registry(
        f"{PREFIX}-registry",
        registry_name=registry_name,
        resource_group_name=GROUP,
        location=LOCATION,
        sku={"name": "Basic"},
        admin_user_enabled=False,
        anonymous_pull_enabled=False,
        tags=tags,
        opts=after(group),
    )
    apps = app.ManagedEnvironment(
        f"{PREFIX}-apps-environment",
        environment_name=GROUP,
        resource_group_name=GROUP,
        location=LOCATION,
        tags=tags,
        opts=after(group),
    )
    image = registry.login_server.apply(lambda s: f"{s}/glacier:{const['tag']}")

    def assign(
        logical: str,
        who: Any,
        role: str,
        scope: str,
        key: str,
        text: str,
        deps: list[Any],
        condition: str | None = None,
    ) -> None:
        extra = {"condition": condition, "condition_version": "2.0"} if condition else {}
        authorization.RoleAssignment(
            logical,
            principal_id=who,
            principal_type="ServicePrincipal",
            role_definition_id=ROLES + role,
            scope=scope,
            role_assignment_name=str(uuid.uuid5(ASSIGNMENTS, f"{scope}|{key}|{text}")),
            description=text_of[logical],
            opts=after(*deps),
            **extra,
        )

    text_of: dict[str, str] = {}
    jobs = []
    actions: dict[str, Any] = {}
    auth = {"type": "ManagedServiceIdentity", "audience": f"{ARM}/"}
    for i in range(tasks):
        chain, task = i % CHAINS, f"t{i}"
        ident_name = f"{PREFIX}-{NAME}-{task}"
        identity = msi.UserAssignedIdentity(
            f"{PREFIX}-{task}-identity",
            resource_name_=ident_name,
            resource_group_name=GROUP,
            location=LOCATION,
            tags={**tags, "glacier-task": task},
            opts=after(group),
        )
        scope = (
            f"{group_id}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}/blobServices/"
            f"default/containers/bench-data-{chain}"
        )
        if i >= CHAINS:
            logical = f"{PREFIX}-{task}-reader-bench-data-{chain}"
            text_of[logical] = (
                f"Glacier task {task!r} ({PREFIX}): reader of its datasets in bench-data-{chain}"
            )
            assign(
                logical,
                identity.principal_id,
                READER,
                scope,
                ident_name,
                "Storage Blob Data Reader",
                [containers[chain]],
                _condition([f"d{i - CHAINS}/"], []),
            )
        logical = f"{PREFIX}-{task}-contributor-bench-data-{chain}"
        text_of[logical] = (
            f"Glacier task {task!r} ({PREFIX}): contributor of its datasets in bench-data-{chain}"
        )
        assign(
            logical,
            identity.principal_id,
            CONTRIBUTOR,
            scope,
            ident_name,
            "Storage Blob Data Contributor",
            [containers[chain]],
            _condition([f"d{i}/"], [f"d{i}/"]),
        )
        logical = f"{PREFIX}-{task}-acr-pull"
        text_of[logical] = f"Glacier task {task!r} pulls its image"
        assign(logical, identity.principal_id, ACR_PULL, registry_id, task, "AcrPull", [registry])
        variables = {
            "AZURE_CLIENT_ID": identity.client_id,
            "GLACIER_DEPLOYED": "1",
            "GLACIER_ENVIRONMENT": PREFIX,
            "GLACIER_PIPELINE": NAME,
            "GLACIER_TASK_NAME": task,
            **const["settings"],
        }
        jobs.append(
            app.Job(
                f"{PREFIX}-{task}-job",
                job_name=f"{PREFIX}-{NAME}-{task}",
                resource_group_name=GROUP,
                location=LOCATION,
                environment_id=apps.id,
                identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
                configuration={
                    "trigger_type": "Manual",
                    "replica_timeout": 1800,
                    "replica_retry_limit": 0,
                    "manual_trigger_config": {"parallelism": 1, "replica_completion_count": 1},
                    "registries": [{"server": registry.login_server, "identity": identity.id}],
                },
                template={
                    "containers": [
                        {
                            "name": "task",
                            "image": image,
                            "command": [
                                "python",
                                "-m",
                                "glacier.infra.runtime",
                                const["target"],
                                task,
                            ],
                            "env": [{"name": k, "value": v} for k, v in sorted(variables.items())],
                            "resources": {"cpu": 0.5, "memory": "1.0Gi"},
                        }
                    ]
                },
                tags={**tags, "glacier-task": task},
                opts=after(registry),
            )
        )
        run_after: dict[str, list[str]] = {}
        if i >= CHAINS:
            up = f"t{i - CHAINS}"
            run_after = {f"start_{up}": ["Succeeded"], f"check_{up}": ["Succeeded"]}
        status = f"body('poll_{task}')?['properties']?['status']"
        actions[f"start_{task}"] = {
            "type": "Http",
            "inputs": {
                "method": "POST",
                "authentication": auth,
                "uri": f"{ARM}{group_id}/providers/Microsoft.App/jobs/{PREFIX}-{NAME}-{task}"
                "/start?api-version=2024-03-01",
            },
            "runAfter": run_after,
        }
        actions[f"wait_{task}"] = {
            "type": "Until",
            "expression": "@contains(createArray('Succeeded', 'Failed', 'Stopped', 'Degraded'), "
            f"{status})",
            "limit": {"count": 5000, "timeout": "PT2700S"},
            "actions": {
                f"pause_{task}": {
                    "type": "Wait",
                    "inputs": {"interval": {"count": 30, "unit": "Second"}},
                    "runAfter": {},
                },
                f"poll_{task}": {
                    "type": "Http",
                    "inputs": {
                        "method": "GET",
                        "authentication": auth,
                        "uri": f"{ARM}@{{body('start_{task}')?['id']}}?api-version=2024-03-01",
                    },
                    "runAfter": {f"pause_{task}": ["Succeeded"]},
                },
            },
            "runAfter": {f"start_{task}": ["Succeeded"]},
        }
        actions[f"check_{task}"] = {
            "type": "If",
            "expression": {"and": [{"equals": [f"@{status}", "Succeeded"]}]},
            "actions": {},
            "else": {
                "actions": {
                    f"fail_{task}": {
                        "type": "Terminate",
                        "inputs": {
                            "runStatus": "Failed",
                            "runError": {
                                "code": "TaskFailed",
                                "message": f"Glacier task {task!r} ended @{{{status}}}",
                            },
                        },
                        "runAfter": {},
                    }
                }
            },
            "runAfter": {f"wait_{task}": ["Succeeded", "Failed", "TimedOut"]},
        }
    workflow = logic.Workflow(
        f"{PREFIX}-orchestrator",
        workflow_name=f"{PREFIX}-{NAME}-orchestrator",
        resource_group_name=GROUP,
        location=LOCATION,
        identity={"type": "SystemAssigned"},
        state="Enabled",
        definition={
            "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {},
            "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": {}}}},
            "actions": actions,
            "outputs": {},
        },
        tags=tags,
        opts=after(group, *jobs),
    )
    guid = str(uuid.uuid5(STARTER, f"{SUB}|{GROUP}|{NAME}"))
    role = authorization.RoleDefinition(
        f"{PREFIX}-job-starter-role",
        role_definition_id=guid,
        role_name=f"Glacier job starter ({GROUP}/{NAME})",
        description=f"Starts the Container Apps jobs of Glacier pipeline {NAME!r}",
        role_type="CustomRole",
        scope=group_id,
        assignable_scopes=[group_id],
        permissions=[
            {
                "actions": [
                    "Microsoft.App/jobs/start/action",
                    "Microsoft.App/jobs/read",
                    "Microsoft.App/jobs/executions/read",
                ],
                "not_actions": [],
            }
        ],
        opts=opts,
    )
    principal = workflow.identity.apply(lambda i: i.principal_id if i else None)
    for i, job in enumerate(jobs):
        task = f"t{i}"
        scope = f"{group_id}/providers/Microsoft.App/jobs/{PREFIX}-{NAME}-{task}"
        logical = f"{PREFIX}-orchestrator-starts-{task}"
        text_of[logical] = f"The orchestrator of {NAME!r} starts task {task!r}"
        assign(logical, principal, guid, scope, "orchestrator", guid, [role, job])


def time_glacier(pipeline: Pipeline) -> tuple[float, float, int]:
    t0, c0 = time.perf_counter(), time.process_time()
    count = len(plan(pipeline))
    return time.perf_counter() - t0, time.process_time() - c0, count


def time_raw(tasks: int, const: dict[str, Any]) -> tuple[float, float, int]:
    mocks = RecordingMocks({PREFIX: build_model(build_pipeline(1)).envs[PREFIX]})
    t0, c0 = time.perf_counter(), time.process_time()
    run_with_mocks(lambda: raw_program(tasks, const), mocks, project=NAME, stack=PREFIX)
    return time.perf_counter() - t0, time.process_time() - c0, len(mocks.resources)


def differences(tasks: int, const: dict[str, Any]) -> list[str]:
    """Resources whose type, name or inputs differ between the two sides (empty: the same)."""
    globals()["check_pipeline"] = pipeline = build_pipeline(tasks)
    const = constants(pipeline)
    ours = {(r.type, r.name): dict(r.inputs) for r in plan(pipeline)}
    mocks = RecordingMocks({PREFIX: build_model(pipeline).envs[PREFIX]})
    run_with_mocks(lambda: raw_program(tasks, const), mocks, project=NAME, stack=PREFIX)
    theirs = {(r.type, r.name): dict(r.inputs) for r in mocks.resources}
    out = []
    for k in sorted(set(ours) | set(theirs)):
        a, b = ours.get(k) or {}, theirs.get(k) or {}
        if a != b:
            keys = sorted(x for x in set(a) | set(b) if a.get(x) != b.get(x))
            out.append(f"{k}: {keys} {[(str(a.get(x))[:300], str(b.get(x))[:300]) for x in keys]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    pipeline = build_pipeline(args.tasks)
    build = time.perf_counter() - t0
    globals()["bench_pipeline"] = pipeline
    const = constants(pipeline)
    time_raw(CHAINS, const)  # warm up: imports and first-use costs of both sides
    globals()["warm_pipeline"] = warm = build_pipeline(CHAINS)
    time_glacier(warm)

    runs: dict[str, list[tuple[float, float]]] = {"glacier": [], "raw": []}
    counts = {}
    for _ in range(args.repeat):  # interleaved, so drift affects both alike
        g_wall, g_cpu, counts["glacier"] = time_glacier(pipeline)
        r_wall, r_cpu, counts["raw"] = time_raw(args.tasks, const)
        runs["glacier"].append((g_wall, g_cpu))
        runs["raw"].append((r_wall, r_cpu))
    med = {
        side: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for side, v in runs.items()
    }
    (g_wall, g_cpu), (r_wall, r_cpu) = med["glacier"], med["raw"]
    print(f"pipeline: {args.tasks} tasks in {CHAINS} chains on Azure (built in {build:.2f} s)")
    print("                 wall      cpu   (medians of interleaved runs)")
    print(f"glacier plan : {g_wall:6.2f} s {g_cpu:6.2f} s  {counts['glacier']} resources")
    print(f"raw pulumi   : {r_wall:6.2f} s {r_cpu:6.2f} s  {counts['raw']} resources")
    print(f"ratio        : {g_wall / r_wall:6.2f}x {g_cpu / r_cpu:6.2f}x  (target <= 1.20x)")
    diff = differences(3 * CHAINS, const)
    print(f"same resources and inputs (checked at {3 * CHAINS} tasks): {not diff}")
    for line in diff[:10]:
        print(f"  differs: {line}")


if __name__ == "__main__":
    main()
