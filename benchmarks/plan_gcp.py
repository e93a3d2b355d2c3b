"""The GCP twin of ``plan.py``: plan a 500-task pipeline in a GCP environment, and declare the
same resources directly with pulumi_gcp, under the same mock engine, in one process.

    .venv/bin/python benchmarks/plan_gcp.py [--tasks 500] [--repeat 3]

Both sides run through :func:`glacier.infra.mocks.run_with_mocks` with the same recording
mocks and declare the same resources with the same inputs (checked at the end), so the
difference is Glacier's own work: the model, the conditional bindings and the Workflows
definition. Prints wall-clock and CPU medians of interleaved runs and their ratios (the
target is at most 1.2x).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from typing import Any

warnings.filterwarnings("ignore", category=DeprecationWarning)

from glacier import Dataset, Pipeline  # noqa: E402
from glacier.infra import build_model, plan  # noqa: E402
from glacier.infra.mocks import RecordingMocks, run_with_mocks  # noqa: E402
from glacier.provider import Provider  # noqa: E402
from glacier.settings import GcpConfig  # noqa: E402
from glacier.settings.environment import bake_settings  # noqa: E402

PROJECT, REGION, PREFIX, NAME = "acme-bench", "europe-west1", "bench", "bench"
IMAGE = f"{REGION}-docker.pkg.dev/{PROJECT}/images/bench:1"
CHAINS = 10

env = Provider(config=GcpConfig(project=PROJECT, region=REGION)).env(name=PREFIX)
#: The environment's settings as a deployed task gets them (a constant of the raw program).
SETTINGS = bake_settings(env.settings, deployed=True)


def build_pipeline(tasks: int) -> Pipeline:
    """``CHAINS`` independent chains; each task reads its predecessor's stored output."""
    pipeline = Pipeline(NAME, env=env)
    buckets = [env.storage.gcs(f"bench-data-{c}") for c in range(CHAINS)]
    compute = env.compute.cloud_run(image=IMAGE)
    previous: dict[int, Dataset] = {}
    for i in range(tasks):
        chain = i % CHAINS
        out = Dataset(f"d{i}", storage=env.storage.gcs(buckets[chain].bucket_name, f"d{i}/"))
        source = previous.get(chain)
        namespace: dict[str, Any] = {"out": out, "source": source}
        if source is None:
            exec(f"def t{i}() -> out:\n    return None", namespace)
        else:
            exec(f"def t{i}(x: source) -> out:\n    return x", namespace)
        pipeline.task(compute=compute)(namespace[f"t{i}"])
        previous[chain] = out
    return pipeline


def _objects(bucket: str, prefixes: list[str]) -> str:
    names = " || ".join(
        f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{p}")' for p in prefixes
    )
    inner = names if len(prefixes) == 1 else f"({names})"
    return f'(resource.type == "storage.googleapis.com/Object" && {inner})'


def raw_program(tasks: int) -> None:
    """The same resources with the same inputs, declared by hand with pulumi_gcp: what one
    would write without Glacier (names, conditions and the workflow spelled out)."""
    import pulumi
    import pulumi_gcp as gcp

    provider = gcp.Provider(
        PREFIX, project=PROJECT, region=REGION, default_labels={"managed-by": "glacier"}
    )
    opts = pulumi.ResourceOptions(provider=provider)
    labels = {"glacier-pipeline": NAME}
    storage, run = gcp.storage, gcp.cloudrunv2
    for c in range(CHAINS):
        name = f"bench-data-{c}"
        storage.Bucket(
            f"{PREFIX}-{name}",
            name=name,
            location=REGION.upper(),
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=storage.BucketVersioningArgs(enabled=True),
            labels=labels,
            opts=opts,
        )
    role_id = f"glacier_{NAME}_objectWriter"
    writer = gcp.projects.IAMCustomRole(
        f"{PREFIX}-object-writer-role",
        role_id=role_id,
        title=f"Glacier {NAME} object writer",
        description=(
            "Create objects, and replace or delete them (GCS checks delete when an upload "
            "replaces an object); bound per bucket with a condition on the object prefix"
        ),
        permissions=["storage.objects.create", "storage.objects.delete"],
        stage="GA",
        opts=opts,
    )
    jobs = []
    for i in range(tasks):
        chain, task = i % CHAINS, f"t{i}"
        bucket = f"bench-data-{chain}"
        account = gcp.serviceaccount.Account(
            f"{PREFIX}-{task}-sa",
            account_id=f"{PREFIX}-{NAME}-{task}",
            display_name=f"Glacier task {task}",
            description=f"Runs task {task!r} of Glacier pipeline {NAME!r}",
            opts=opts,
        )
        member = account.email.apply(lambda e: f"serviceAccount:{e}")
        reads = [*([f"d{i - CHAINS}/"] if i >= CHAINS else []), f"d{i}/"]
        datasets = ", ".join(p.rstrip("/") for p in reads)
        listing = (
            '(resource.type == "storage.googleapis.com/Bucket" && '
            f'resource.name == "projects/_/buckets/{bucket}")'
        )
        after = pulumi.ResourceOptions(provider=provider, depends_on=[account])
        viewer = storage.BucketIAMMember(
            f"{PREFIX}-{task}-{bucket}-viewer",
            bucket=bucket,
            role="roles/storage.objectViewer",
            member=member,
            condition=storage.BucketIAMMemberConditionArgs(
                title=f"glacier {task} reads",
                description=f"Task {task!r} reads {datasets} (and lists the bucket's object names)",
                expression=f"{_objects(bucket, reads)} || {listing}",
            ),
            opts=after,
        )
        written = storage.BucketIAMMember(
            f"{PREFIX}-{task}-{bucket}-writer",
            bucket=bucket,
            role=f"projects/{PROJECT}/roles/{role_id}",
            member=member,
            condition=storage.BucketIAMMemberConditionArgs(
                title=f"glacier {task} writes",
                description=f"Task {task!r} writes {datasets}",
                expression=_objects(bucket, [f"d{i}/"]),
            ),
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[account, writer]),
        )
        variables = {
            "GLACIER_DEPLOYED": "1",
            "GLACIER_ENV": PREFIX,
            "GLACIER_ENVIRONMENT": PREFIX,
            "GLACIER_SETTINGS": SETTINGS,
            "GLACIER_PIPELINE": NAME,
            "GLACIER_TASK_NAME": task,
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "GOOGLE_CLOUD_REGION": REGION,
        }
        jobs.append(
            run.Job(
                f"{PREFIX}-{task}-job",
                name=f"{PREFIX}-{NAME}-{task}",
                location=REGION,
                deletion_protection=False,
                labels={**labels, "glacier-task": task},
                template=run.JobTemplateArgs(
                    task_count=1,
                    template=run.JobTemplateTemplateArgs(
                        service_account=account.email,
                        containers=[
                            run.JobTemplateTemplateContainerArgs(
                                image=IMAGE,
                                commands=["python", "-m", "glacier.infra.runtime"],
                                args=["plan_gcp.py:bench_pipeline", task],
                                envs=[
                                    run.JobTemplateTemplateContainerEnvArgs(name=k, value=v)
                                    for k, v in sorted(variables.items())
                                ],
                                resources=run.JobTemplateTemplateContainerResourcesArgs(
                                    limits={"cpu": "1", "memory": "2048Mi"}
                                ),
                            )
                        ],
                        max_retries=0,
                        timeout="3600s",
                    ),
                ),
                opts=pulumi.ResourceOptions(
                    provider=provider, depends_on=[account, viewer, written]
                ),
            )
        )
    account = gcp.serviceaccount.Account(
        f"{PREFIX}-workflow-sa",
        account_id=f"{PREFIX}-{NAME}-workflow",
        display_name=f"Glacier workflow {NAME}",
        description=f"Runs the Cloud Run jobs of Glacier pipeline {NAME!r}",
        opts=opts,
    )
    member = account.email.apply(lambda e: f"serviceAccount:{e}")
    grants = [
        run.JobIamMember(
            f"{PREFIX}-t{i}-job-invoker",
            project=PROJECT,
            location=REGION,
            name=f"{PREFIX}-{NAME}-t{i}",
            role="roles/run.jobsExecutorWithOverrides",
            member=member,
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[job, account]),
        )
        for i, job in enumerate(jobs)
    ]
    run_id = {
        "name": "GLACIER_RUN_ID",
        "value": '${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}',
    }
    steps: list[dict[str, Any]] = []
    levels = [list(range(level, min(level + CHAINS, tasks))) for level in range(0, tasks, CHAINS)]
    for n, level in enumerate(levels):
        branches = []
        for i in level:
            path = f"projects/{PROJECT}/locations/{REGION}/jobs/{PREFIX}-{NAME}-t{i}"
            call = {
                "call": "googleapis.run.v2.projects.locations.jobs.run",
                "args": {
                    "name": path,
                    "body": {"overrides": {"containerOverrides": [{"env": [run_id]}]}},
                    "connector_params": {"timeout": 3600 + 600},
                },
            }
            branches.append({f"t{i}": {"steps": [{f"run_t{i}": call}]}})
        steps.append({f"level_{n}": {"parallel": {"branches": branches}}})
    steps.append({"succeeded": {"return": "succeeded"}})
    gcp.workflows.Workflow(
        f"{PREFIX}-workflow",
        name=f"{PREFIX}-{NAME}",
        region=REGION,
        description=f"The DAG of Glacier pipeline {NAME!r}",
        service_account=account.email,
        source_contents=json.dumps({"main": {"steps": steps}}, indent=2),
        deletion_protection=False,
        labels=labels,
        opts=pulumi.ResourceOptions(provider=provider, depends_on=grants),
    )


def time_glacier(pipeline: Pipeline) -> tuple[float, float, int]:
    """Wall-clock and CPU seconds of a plan (CPU time is steadier on a shared machine)."""
    t0, c0 = time.perf_counter(), time.process_time()
    count = len(plan(pipeline))
    return time.perf_counter() - t0, time.process_time() - c0, count


def time_raw(tasks: int) -> tuple[float, float, int]:
    mocks = RecordingMocks({PREFIX: build_model(build_pipeline(1)).envs[PREFIX]})
    t0, c0 = time.perf_counter(), time.process_time()
    run_with_mocks(lambda: raw_program(tasks), mocks, project=NAME, stack=PREFIX)
    return time.perf_counter() - t0, time.process_time() - c0, len(mocks.resources)


def differences(tasks: int) -> list[str]:
    """The resources whose inputs differ between the two sides (none when they agree)."""
    globals()["bench_pipeline"] = pipeline = build_pipeline(tasks)
    ours = {(r.type, r.name): dict(r.inputs) for r in plan(pipeline)}
    mocks = RecordingMocks({PREFIX: build_model(pipeline).envs[PREFIX]})
    run_with_mocks(lambda: raw_program(tasks), mocks, project=NAME, stack=PREFIX)
    theirs = {(r.type, r.name): dict(r.inputs) for r in mocks.resources}
    keys = sorted(set(ours) | set(theirs))
    return [f"{t} {n}" for t, n in keys if ours.get((t, n)) != theirs.get((t, n))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    pipeline = build_pipeline(args.tasks)
    build = time.perf_counter() - t0
    globals()["bench_pipeline"] = pipeline  # module level, as in a user's pipelines file
    time_raw(CHAINS)  # warm up: imports and first-use costs of both sides
    time_glacier(build_pipeline(CHAINS))

    runs: dict[str, list[tuple[float, float]]] = {"glacier": [], "raw": []}
    for _ in range(args.repeat):  # interleaved, so drift affects both alike
        g_wall, g_cpu, g_count = time_glacier(pipeline)
        r_wall, r_cpu, r_count = time_raw(args.tasks)
        runs["glacier"].append((g_wall, g_cpu))
        runs["raw"].append((r_wall, r_cpu))
    med = {
        side: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for side, v in runs.items()
    }
    (g_wall, g_cpu), (r_wall, r_cpu) = med["glacier"], med["raw"]
    print(f"GCP pipeline: {args.tasks} tasks in {CHAINS} chains (built in {build:.2f} s)")
    print("                 wall      cpu   (medians of interleaved runs)")
    print(f"glacier plan : {g_wall:6.2f} s {g_cpu:6.2f} s  {g_count} resources")
    print(f"raw pulumi   : {r_wall:6.2f} s {r_cpu:6.2f} s  {r_count} resources")
    print(f"ratio        : {g_wall / r_wall:6.2f}x {g_cpu / r_cpu:6.2f}x  (target <= 1.20x)")
    differ = differences(3 * CHAINS)
    print(f"same resources and inputs (checked at {3 * CHAINS} tasks): {not differ}")
    for line in differ[:5]:
        print(f"  differs: {line}")


if __name__ == "__main__":
    main()
