"""How much Glacier adds to a Pulumi program: plan a 500-task pipeline, and declare the same
resources directly with pulumi_aws, under the same mock engine, in one process.

    .venv/bin/python benchmarks/plan.py [--tasks 500] [--repeat 3]

Both sides run through :func:`glacier.infra.mocks.run_with_mocks` with the same recording
mocks, so the difference is Glacier's own work: deriving the model from the DAG, building
least-privilege policies and the state machine definition. Prints both times and the ratio
(the target is at most 1.2x).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from typing import Any

warnings.filterwarnings("ignore", category=DeprecationWarning)

from glacier import AWSEnvironment, Dataset, Pipeline  # noqa: E402
from glacier.infra import plan  # noqa: E402
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
            exec(f"def t{i}() -> out:\n    return None", namespace)  # noqa: S102
        else:
            exec(f"def t{i}(x: source) -> out:\n    return x", namespace)  # noqa: S102
        pipeline.task(compute=env.compute.lambda_(memory=512))(namespace[f"t{i}"])
        previous[chain] = out
    return pipeline


def raw_program(tasks: int) -> None:
    """The same resources, declared by hand with pulumi_aws (what one would write without
    Glacier, with the same physical names and policies)."""
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
    for c in range(CHAINS):
        name = f"bench-data-{c}"
        bucket = aws.s3.Bucket(f"{PREFIX}-{name}", bucket=name, opts=opts)
        aws.s3.BucketVersioning(
            f"{PREFIX}-{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=opts,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{PREFIX}-{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=opts,
        )
        aws.s3.BucketPublicAccessBlock(
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
        aws.s3.BucketPolicy(
            f"{PREFIX}-{name}-policy", bucket=bucket.id, policy=json.dumps(tls), opts=opts
        )
    code = pulumi.AssetArchive(
        {
            "glacier_handler.py": pulumi.StringAsset("def handler(event, context): ...\n"),
            "plan.py": pulumi.FileAsset(__file__),
        }
    )
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    functions = []
    for i in range(tasks):
        chain = i % CHAINS
        fn_name = f"{PREFIX}-{NAME}-t{i}"
        log_group = aws.cloudwatch.LogGroup(
            f"{PREFIX}-t{i}-logs", name=f"/aws/lambda/{fn_name}", retention_in_days=30, opts=opts
        )
        role = aws.iam.Role(
            f"{PREFIX}-t{i}-role", name=fn_name, assume_role_policy=trust, opts=opts
        )
        bucket = f"arn:aws:s3:::bench-data-{chain}"
        objects = [f"{bucket}/d{i}/*"] + ([f"{bucket}/d{i - CHAINS}/*"] if i >= CHAINS else [])
        prefixes = [f"d{i}/*"] + ([f"d{i - CHAINS}/*"] if i >= CHAINS else [])
        statements = [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": objects},
            {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": [f"{bucket}/d{i}/*"]},
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket],
                "Condition": {"StringLike": {"s3:prefix": prefixes}},
            },
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_group.arn.apply(lambda a: f"{a}:*")],
            },
        ]
        policy = aws.iam.RolePolicy(
            f"{PREFIX}-t{i}-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
            opts=opts,
        )
        functions.append(
            aws.lambda_.Function(
                f"{PREFIX}-t{i}-function",
                name=fn_name,
                role=role.arn,
                runtime="python3.11",
                handler="glacier_handler.handler",
                code=code,
                memory_size=512,
                timeout=300,
                environment=aws.lambda_.FunctionEnvironmentArgs(
                    variables={"GLACIER_TASK": f"t{i}"}
                ),
                opts=pulumi.ResourceOptions(provider=provider, depends_on=[log_group, policy]),
            )
        )
    sm_role = aws.iam.Role(
        f"{PREFIX}-orchestrator",
        name=f"{PREFIX}-{NAME}-orchestrator",
        assume_role_policy=trust.replace("lambda", "states"),
        opts=opts,
    )
    sm_policy = aws.iam.RolePolicy(
        f"{PREFIX}-orchestrator-policy",
        role=sm_role.id,
        policy=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["lambda:InvokeFunction"],
                        "Resource": [f.arn for f in functions],
                    }
                ],
            }
        ),
        opts=opts,
    )
    states: dict[str, Any] = {}
    levels = [list(range(level, min(level + CHAINS, tasks))) for level in range(0, tasks, CHAINS)]
    for n, level in enumerate(levels):
        states[f"Level {n + 1}"] = {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": f"t{i}",
                    "States": {
                        f"t{i}": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": functions[i].arn},
                            "End": True,
                        }
                    },
                }
                for i in level
            ],
            **({"Next": f"Level {n + 2}"} if n + 1 < len(levels) else {"End": True}),
        }
    aws.sfn.StateMachine(
        f"{PREFIX}-state-machine",
        name=f"{PREFIX}-{NAME}",
        role_arn=sm_role.arn,
        definition=pulumi.Output.json_dumps({"StartAt": "Level 1", "States": states}),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[sm_policy]),
    )


def time_glacier(pipeline: Pipeline) -> tuple[float, int]:
    t0 = time.perf_counter()
    count = len(plan(pipeline))
    return time.perf_counter() - t0, count


def time_raw(tasks: int) -> tuple[float, int]:
    mocks = RecordingMocks()
    t0 = time.perf_counter()
    run_with_mocks(lambda: raw_program(tasks), mocks, project=NAME, stack=PREFIX)
    return time.perf_counter() - t0, len(mocks.resources)


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

    glacier_times, raw_times = [], []
    for _ in range(args.repeat):  # interleaved, so drift affects both alike
        g, g_count = time_glacier(pipeline)
        r, r_count = time_raw(args.tasks)
        glacier_times.append(g)
        raw_times.append(r)
    g_med, r_med = statistics.median(glacier_times), statistics.median(raw_times)
    print(f"pipeline: {args.tasks} tasks in {CHAINS} chains (built in {build:.2f} s)")
    print(f"glacier plan : {g_med:6.2f} s  ({g_count} resources)  runs: {_fmt(glacier_times)}")
    print(f"raw pulumi   : {r_med:6.2f} s  ({r_count} resources)  runs: {_fmt(raw_times)}")
    print(f"ratio        : {g_med / r_med:6.2f}x  (target <= 1.20x)")
    print(f"per resource : glacier {1000 * g_med / g_count:.2f} ms, raw {1000 * r_med / r_count:.2f} ms")
    if g_count != r_count:
        print(f"note: resource counts differ ({g_count} vs {r_count})")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
