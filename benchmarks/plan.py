"""How much Glacier adds to a Pulumi program: plan a 500-task pipeline, and declare the same
resources directly with pulumi_aws, under the same mock engine, in one process.

    .venv/bin/python benchmarks/plan.py [--tasks 500] [--repeat 3]

Both sides run through :func:`glacier.infra.mocks.run_with_mocks` with the same recording
mocks, and declare the same resources with the same inputs (checked at the end), so the
difference is Glacier's own work: deriving the model from the DAG, building least-privilege
policies and the state machine definition. Prints wall-clock and CPU medians of interleaved
runs and their ratios (the target is at most 1.2x).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", category=DeprecationWarning)

import glacier  # noqa: E402
from glacier import AWSEnvironment, Dataset, Pipeline  # noqa: E402
from glacier.infra import build_model, plan  # noqa: E402
from glacier.infra.mocks import RecordingMocks, run_with_mocks  # noqa: E402

ACCOUNT, REGION, PREFIX, NAME = "111111111111", "us-west-2", "bench", "bench"
CHAINS = 10

env = AWSEnvironment(account_id=ACCOUNT, region=REGION, profile="bench", environment=PREFIX)


def build_pipeline(tasks: int) -> Pipeline:
    """``CHAINS`` independent chains; each task reads its predecessor's stored output."""
    pipeline = Pipeline(NAME, env=env)
    buckets = [env.storage.s3(bucket=f"bench-data-{c}") for c in range(CHAINS)]
    previous: dict[int, Dataset] = {}
    for i in range(tasks):
        chain = i % CHAINS
        bucket = buckets[chain]
        out = Dataset(
            f"d{i}",
            storage=env.storage.s3(bucket=bucket.bucket_name, path=f"d{i}/"),
        )
        source = previous.get(chain)
        namespace: dict[str, Any] = {"out": out, "source": source}
        if source is None:
            exec(f"def t{i}() -> out:\n    return None", namespace)
        else:
            exec(f"def t{i}(x: source) -> out:\n    return x", namespace)
        pipeline.task(compute=env.compute.lambda_(memory=512))(namespace[f"t{i}"])
        previous[chain] = out
    return pipeline


def raw_program(tasks: int) -> None:
    """The same resources with the same inputs, declared by hand with pulumi_aws: what one
    would write without Glacier (physical names, policies and definition spelled out)."""
    import pulumi
    import pulumi_aws as aws

    provider = aws.Provider(
        PREFIX,
        region=REGION,
        profile="bench",
        allowed_account_ids=[ACCOUNT],
        default_tags=aws.ProviderDefaultTagsArgs(tags={"ManagedBy": "glacier"}),
    )
    opts = pulumi.ResourceOptions(provider=provider)
    tags = {"glacier:pipeline": NAME}
    s3 = aws.s3
    for c in range(CHAINS):
        name = f"bench-data-{c}"
        bucket = s3.Bucket(
            f"{PREFIX}-{name}", bucket=name, force_destroy=False, tags=tags, opts=opts
        )
        s3.BucketVersioning(
            f"{PREFIX}-{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=opts,
        )
        sse = s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="AES256"
        )
        s3.BucketServerSideEncryptionConfiguration(
            f"{PREFIX}-{name}-encryption",
            bucket=bucket.id,
            rules=[
                s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=sse
                )
            ],
            opts=opts,
        )
        s3.BucketPublicAccessBlock(
            f"{PREFIX}-{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        )
        arn = f"arn:aws:s3:::{name}"
        tls = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["s3:*"],
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
        s3.BucketPolicy(
            f"{PREFIX}-{name}-policy", bucket=bucket.id, policy=json.dumps(tls), opts=opts
        )
    here = Path(__file__).resolve().parent
    own = Path(glacier.__file__).parent  # the package carries Glacier's modules too
    code = pulumi.AssetArchive(
        {
            "glacier_handler.py": pulumi.StringAsset("def handler(event, context): ...\n"),
            **{
                f"glacier/{f.relative_to(own).as_posix()}": pulumi.FileAsset(str(f))
                for f in sorted(own.rglob("*"))
                if f.suffix in (".py", ".typed") and "__pycache__" not in f.parts
            },
            **{f.name: pulumi.FileAsset(str(f)) for f in sorted(here.glob("*.py"))},
        }
    )

    def trust(service: str) -> str:
        statement = {
            "Sid": "Trust",
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    read = ["s3:GetObject", "s3:GetObjectVersion"]
    write = [
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    ]
    functions = []
    for i in range(tasks):
        chain = i % CHAINS
        task = f"t{i}"
        fn_name = f"{PREFIX}-{NAME}-{task}"
        task_tags = {**tags, "glacier:task": task}
        log_group = aws.cloudwatch.LogGroup(
            f"{PREFIX}-{task}-logs",
            name=f"/aws/lambda/{fn_name}",
            retention_in_days=30,
            tags=tags,
            opts=opts,
        )
        role = aws.iam.Role(
            f"{PREFIX}-{task}-role",
            name=fn_name,
            assume_role_policy=trust("lambda.amazonaws.com"),
            description=f"Glacier task {task!r} of pipeline {NAME!r}",
            tags=task_tags,
            opts=opts,
        )
        bucket = f"arn:aws:s3:::bench-data-{chain}"
        scratch = f"{bucket}/_glacier/tmp/*-manifest.json"
        mine = f"{bucket}/d{i}/*"
        upstream = [f"{bucket}/d{i - CHAINS}/*"] if i >= CHAINS else []
        prefixes = sorted(
            {"_glacier/tmp/*", f"d{i}/*", *([f"d{i - CHAINS}/*"] if upstream else [])}
        )
        statements = [
            {
                "Sid": "Read",
                "Effect": "Allow",
                "Action": read,
                "Resource": sorted({scratch, mine, *upstream}),
            },
            {
                "Sid": "Write",
                "Effect": "Allow",
                "Action": write,
                "Resource": sorted({scratch, mine}),
            },
            {
                "Sid": "List1",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket],
                "Condition": {"StringLike": {"s3:prefix": prefixes}},
            },
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_group.arn.apply(lambda a: f"{a}:*")],
            },
        ]
        policy = aws.iam.RolePolicy(
            f"{PREFIX}-{task}-policy",
            name="glacier-data-access",
            role=role.id,
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
            opts=opts,
        )
        functions.append(
            aws.lambda_.Function(
                f"{PREFIX}-{task}-function",
                name=fn_name,
                role=role.arn,
                runtime="python3.11",
                handler="glacier_handler.handler",
                code=code,
                memory_size=512,
                timeout=300,
                architectures=["x86_64"],
                ephemeral_storage=aws.lambda_.FunctionEphemeralStorageArgs(size=512),
                environment=aws.lambda_.FunctionEnvironmentArgs(
                    variables={
                        "GLACIER_PIPELINE": NAME,
                        "GLACIER_TASK_NAME": task,
                        "GLACIER_ENVIRONMENT": PREFIX,
                    }
                ),
                logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                    log_format="Text", log_group=log_group.name
                ),
                tags=task_tags,
                opts=pulumi.ResourceOptions(provider=provider, depends_on=[log_group, policy]),
            )
        )
    sm_role = aws.iam.Role(
        f"{PREFIX}-orchestrator",
        name=f"{PREFIX}-{NAME}-orchestrator",
        assume_role_policy=trust("states.amazonaws.com"),
        description=f"Step Functions role of Glacier pipeline {NAME!r}",
        tags=tags,
        opts=opts,
    )
    invoke = {
        "Sid": "InvokeTaskFunctions",
        "Effect": "Allow",
        "Action": ["lambda:InvokeFunction"],
        "Resource": [f.arn for f in functions],
    }
    sm_policy = aws.iam.RolePolicy(
        f"{PREFIX}-orchestrator-policy",
        name="glacier-orchestration",
        role=sm_role.id,
        policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [invoke]}),
        opts=opts,
    )
    states: dict[str, Any] = {}
    levels = [list(range(level, min(level + CHAINS, tasks))) for level in range(0, tasks, CHAINS)]
    for n, level in enumerate(levels):
        branches = []
        for i in level:
            payload = {"pipeline": NAME, "task": f"t{i}", "run_id.$": "$$.Execution.Name"}
            state = {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": functions[i].arn, "Payload": payload},
                "ResultPath": None,
                "End": True,
            }
            branches.append({"StartAt": f"t{i}", "States": {f"t{i}": state}})
        states[f"Level {n + 1}"] = {
            "Type": "Parallel",
            "Comment": "Independent tasks: " + ", ".join(f"t{i}" for i in level),
            "Branches": branches,
            "ResultPath": None,
            **({"Next": f"Level {n + 2}"} if n + 1 < len(levels) else {"End": True}),
        }
    definition = {"Comment": f"Glacier pipeline {NAME}", "StartAt": "Level 1", "States": states}
    aws.sfn.StateMachine(
        f"{PREFIX}-state-machine",
        name=f"{PREFIX}-{NAME}",
        role_arn=sm_role.arn,
        definition=pulumi.Output.json_dumps(definition),
        tags=tags,
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[sm_policy]),
    )


def time_glacier(pipeline: Pipeline) -> tuple[float, float, int]:
    """Wall-clock and CPU seconds of a plan (CPU time is steadier on a shared machine)."""
    t0, c0 = time.perf_counter(), time.process_time()
    count = len(plan(pipeline))
    return time.perf_counter() - t0, time.process_time() - c0, count


def time_raw(tasks: int) -> tuple[float, float, int]:
    # The same account and region in computed ARNs as Glacier's plan gets.
    mocks = RecordingMocks({PREFIX: build_model(build_pipeline(1)).envs[PREFIX]})
    t0, c0 = time.perf_counter(), time.process_time()
    run_with_mocks(lambda: raw_program(tasks), mocks, project=NAME, stack=PREFIX)
    return time.perf_counter() - t0, time.process_time() - c0, len(mocks.resources)


def same_inputs(tasks: int) -> bool:
    """Whether both sides declare the same resources with the same inputs (code archives
    aside: both package this directory's files, under different handlers)."""
    globals()["check_pipeline"] = pipeline = build_pipeline(tasks)
    ours = {(r.type, r.name): dict(r.inputs) for r in plan(pipeline)}
    mocks = RecordingMocks({PREFIX: build_model(pipeline).envs[PREFIX]})
    run_with_mocks(lambda: raw_program(tasks), mocks, project=NAME, stack=PREFIX)
    theirs = {(r.type, r.name): dict(r.inputs) for r in mocks.resources}
    for inputs in (*ours.values(), *theirs.values()):
        inputs.pop("code", None)
    return ours == theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    pipeline = build_pipeline(args.tasks)
    build = time.perf_counter() - t0
    # Module level, as in a user's pipelines file: the plan packages this file as the code.
    globals()["bench_pipeline"] = pipeline
    time_raw(CHAINS)  # warm up: imports and first-use costs of both sides
    globals()["warm_pipeline"] = warm = build_pipeline(CHAINS)
    time_glacier(warm)

    runs: dict[str, list[tuple[float, float]]] = {"glacier": [], "raw": []}
    for _ in range(args.repeat):  # interleaved, so drift affects both alike
        g_wall, g_cpu, g_count = time_glacier(pipeline)
        r_wall, r_cpu, r_count = time_raw(args.tasks)
        runs["glacier"].append((g_wall, g_cpu))
        runs["raw"].append((r_wall, r_cpu))
    t0 = time.perf_counter()
    build_model(pipeline)
    model = time.perf_counter() - t0
    med = {
        side: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for side, v in runs.items()
    }
    (g_wall, g_cpu), (r_wall, r_cpu) = med["glacier"], med["raw"]
    print(f"pipeline: {args.tasks} tasks in {CHAINS} chains (built in {build:.2f} s)")
    print("                 wall      cpu   (medians of interleaved runs)")
    print(f"glacier plan : {g_wall:6.2f} s {g_cpu:6.2f} s  {g_count} resources")
    print(f"raw pulumi   : {r_wall:6.2f} s {r_cpu:6.2f} s  {r_count} resources")
    print(f"ratio        : {g_wall / r_wall:6.2f}x {g_cpu / r_cpu:6.2f}x  (target <= 1.20x)")
    print(f"model alone  : {model:6.3f} s  (DAG -> environments, stores, grants, levels)")
    per_g, per_r = 1000 * g_cpu / g_count, 1000 * r_cpu / r_count
    print(f"per resource : glacier {per_g:.2f} ms, raw {per_r:.2f} ms (cpu)")
    print(f"glacier runs : {_fmt(runs['glacier'])}")
    print(f"raw runs     : {_fmt(runs['raw'])}")
    print(f"same resources and inputs (checked at {3 * CHAINS} tasks): {same_inputs(3 * CHAINS)}")


def _fmt(values: list[tuple[float, float]]) -> str:
    return "runs (wall/cpu): " + ", ".join(f"{w:.1f}/{c:.1f}" for w, c in values)


if __name__ == "__main__":
    main()
