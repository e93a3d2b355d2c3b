"""Pipelines the infrastructure tests plan (beside the seed's, in ``tests/infra_pipelines.py``),
and the module head of pipelines run as deployed tasks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl

import infra_pipelines as seeds
from glacier import AWSEnvironment, Dataset, Pipeline
from glacier.settings import EcsConfig


def raw_bucket_pipeline() -> Pipeline:
    """A factory: a raw Pulumi bucket exists only inside the program run that creates it."""
    import pulumi_aws as aws

    env = seeds.aws_dev
    landing = aws.s3.Bucket("landing", bucket="acme-landing", force_destroy=False)
    raw = Dataset("landing", storage=landing)
    curated = Dataset(
        "curated", storage=env.storage.s3(bucket="dev-curated", path="curated.parquet")
    )
    pipeline = Pipeline("raw-passthrough")

    @pipeline.task(compute=env.compute.lambda_())
    def curate(data: raw) -> curated:
        return data

    return pipeline


def diamond_pipeline() -> Pipeline:
    env = seeds.aws_dev
    pipeline = Pipeline("diamond")
    a, b, c, d, e = (Dataset(n) for n in "abcde")
    out = Dataset("out", storage=env.storage.s3(bucket="dev-diamond", path="out.parquet"))

    @pipeline.task(compute=env.compute.lambda_())
    def start() -> a:
        return pl.DataFrame({"x": [1]})

    @pipeline.task(compute=env.compute.lambda_())
    def left(x: a) -> b:
        return x

    @pipeline.task(compute=env.compute.lambda_())
    def right(x: a) -> c:
        return x

    @pipeline.task(compute=env.compute.lambda_())
    def side() -> e:
        return pl.DataFrame({"x": [2]})

    @pipeline.task(compute=env.compute.lambda_())
    def join(x: b, y: c, z: e) -> d:
        return x

    @pipeline.task(compute=env.compute.lambda_())
    def publish(x: d) -> out:
        return x

    return pipeline


NETWORKS: dict[str, dict[str, Any]] = {
    "full": {"vpc_id": "vpc-1", "subnet_ids": ["subnet-1"], "security_group_ids": ["sg-1"]},
    "subnets only": {"vpc_id": "vpc-1", "subnet_ids": ["subnet-1"]},
    "vpc only": {"vpc_id": "vpc-1"},
    "none": {},
}


def ecs_pipeline(
    image: str | None = "111111111111.dkr.ecr.us-west-2.amazonaws.com/etl:1",
    network: bool | str = True,
    spot: bool = False,
) -> Pipeline:
    shape = network if isinstance(network, str) else ("full" if network else "none")
    env = AWSEnvironment(
        account_id="111111111111", region="us-west-2", environment="batch", **NETWORKS[shape]
    )
    pipeline = Pipeline("heavy", env=env)  # the environment brings its network
    raw = Dataset("raw", storage=env.storage.s3(bucket="batch-raw"))
    big = Dataset("big", storage=env.storage.s3(bucket="batch-big"))

    sizing = EcsConfig(image=image, cpu=1024, memory=4096, spot=spot)

    @pipeline.task(compute=env.compute.ecs(config=sizing))
    def crunch(data: raw) -> big:
        return data

    return pipeline


def glue_pipeline(**glue: Any) -> Pipeline:
    env = AWSEnvironment(account_id="111111111111", region="us-west-2", environment="spark")
    pipeline = Pipeline("lake", env=env)
    raw = Dataset("raw", storage=env.storage.s3(bucket="spark-raw"))
    mid = Dataset("mid")  # in memory: travels through the artifacts bucket
    out = Dataset("out", storage=env.storage.s3(bucket="spark-out", path="out.parquet"))

    sizing = {"worker_type": "G.2X", "num_workers": 4, **glue}

    @pipeline.task(compute=env.compute.glue(**sizing), retries=1)
    def crunch(data: raw) -> mid:
        return data

    @pipeline.task(compute=env.compute.lambda_())
    def publish(data: mid) -> out:
        return data

    return pipeline


def without_glacier_vars() -> dict[str, str]:
    """This process's environment without Glacier's variables, for a clean child process."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")}


# Tests that run a deployed task set environment variables in a process of their own:
# changing this process's environment while native threads (polars, gRPC) may read it is not safe.


def job_module_head(tmp_path: Path) -> str:
    """The start of a pipeline module run as a deployed task: a local environment under
    ``tmp_path``, a pipeline ``job`` and an in-memory dataset ``mid``."""
    return (
        "import polars as pl\n"
        "from glacier import Dataset, Environment, Pipeline\n"
        f"env = Environment.local(base_path={str(tmp_path / 'data')!r},\n"
        f"                        state_dir={str(tmp_path / 's')!r})\n"
        "pipeline = Pipeline('job', env=env)\n"
        "mid = Dataset('mid')\n"
    )


def attached_settings(**changes: Any) -> Any:
    """An AWS environment's settings with a database, a table, a volume and a secret (the
    seed's prod sizing), refined by ``changes``."""
    from glacier.settings import GlacierSettings

    values: dict[str, Any] = {
        "env": "prod",
        "naming_prefix": "prod",
        "provider": {"kind": "aws", "region": "ca-central-1", "account_id": "999999999999"},
        "network": {
            "vpc_id": "vpc-1",
            "subnet_ids": ["subnet-1", "subnet-2"],
            "security_group_ids": ["sg-1"],
        },
        "databases": {
            "warehouse": {
                "identifier": "prod-warehouse",
                "rds": {
                    "instance_class": "db.t3.medium",
                    "multi_az": True,
                    "deletion_protection": True,
                },
            },
            "prices": {
                "identifier": "prod-prices",
                "dynamodb": {"hash_key": "symbol", "range_key": "date"},
            },
        },
        "volumes": {"scratch": {"file_system_name": "prod-scratch"}},
        "secrets": {"api_key": {"aws": "/prod/fmp/api_key"}, "other": {"aws": "/prod/other"}},
    }
    values.update(changes)
    return GlacierSettings(**values)


def attached_pipeline(settings: Any = None, compute: str = "lambda") -> Pipeline:
    """Task ``fetch`` uses the database, the table, the volume and one secret; task
    ``report`` uses nothing but its datasets."""
    from pydantic import SecretStr

    from glacier import Database, Environment, Volume

    env = Environment.from_settings(settings or attached_settings())
    hint = (
        env.compute.lambda_()
        if compute == "lambda"
        else env.compute.ecs(image="999999999999.dkr.ecr.ca-central-1.amazonaws.com/etl:1")
    )
    pipeline = Pipeline("fmp", env=env)
    quotes = Dataset("quotes", storage=env.storage.s3(bucket="prod-quotes", path="q.parquet"))
    report_out = Dataset("report", storage=env.storage.s3(bucket="prod-quotes", path="r.parquet"))

    @pipeline.task(compute=hint)
    def fetch(api_key: SecretStr, warehouse: Database, prices: Database, scratch: Volume) -> quotes:
        return pl.DataFrame({"x": [1]})

    @pipeline.task(compute=hint)
    def report(data: quotes) -> report_out:
        return data

    return pipeline


def every_option_pipeline() -> Pipeline:
    """Every planned option of every AWS resource config set to a value other than its
    default, for the test that walks the config fields (tests/infra/test_config_fields.py)."""
    from glacier.settings import LambdaConfig, S3Config

    settings = attached_settings(
        databases={
            "warehouse": {
                "identifier": "prod-warehouse",
                "rds": {
                    "engine": "mysql",
                    "instance_class": "db.m6i.large",
                    "allocated_storage": 50,
                    "multi_az": True,
                    "engine_version": "8.0",
                    "deletion_protection": True,
                    "backup_retention_days": 14,
                    "master_username": "admin1",
                    "iam_database_user": "etl",
                    "tags": {"tier": "db"},
                },
            },
            "prices": {
                "identifier": "prod-prices",
                "dynamodb": {
                    "billing_mode": "PROVISIONED",
                    "hash_key": "symbol",
                    "range_key": "day",
                    "hash_key_type": "B",
                    "range_key_type": "N",
                    "read_capacity": 5,
                    "write_capacity": 3,
                    "point_in_time_recovery": False,
                    "tags": {"tier": "table"},
                },
            },
        },
        volumes={
            "scratch": {
                "file_system_name": "prod-scratch",
                "efs": {
                    "performance_mode": "maxIO",
                    "encrypted": False,
                    "mount_path": "/mnt/data",
                    "tags": {"tier": "nfs"},
                },
            }
        },
        secrets={
            "api_key": {"aws": "/prod/fmp/api_key"},
            "token": {"aws": "/prod/vendor/token", "declare": True},
        },
    )
    from pydantic import SecretStr

    from glacier import Database, Environment, Volume

    env = Environment.from_settings(settings)
    replicated = S3Config(
        storage_class="INTELLIGENT_TIERING",
        lifecycle_rules=[{"id": "old", "prefix": "logs/", "expiration_days": 90}],
        public_access_block=False,
        force_destroy=True,
        replication_config={
            "destination_bucket": "prod-replica",
            "destination_region": "us-west-2",
            "storage_class": "STANDARD_IA",
        },
        cors=[
            {
                "allowed_methods": ["GET"],
                "allowed_origins": ["https://example.com"],
                "allowed_headers": ["x-amz-date"],
                "max_age_seconds": 600,
            }
        ],
        tags={"tier": "bucket"},
    )
    unversioned = S3Config(versioning=False, encryption="aws:kms", kms_key_id="alias/lake")
    first = Dataset("first", storage=env.storage.s3("prod-every-a", "a.parquet", config=replicated))
    second = Dataset(
        "second", storage=env.storage.s3("prod-every-b", "b.parquet", config=unversioned)
    )
    third = Dataset("third", storage=env.storage.s3("prod-every-a", "c.parquet", config=replicated))
    fourth = Dataset(
        "fourth", storage=env.storage.s3("prod-every-a", "d.parquet", config=replicated)
    )
    lambda_config = LambdaConfig(
        memory=1024,
        timeout=61,
        runtime="python3.12",
        architecture="arm64",
        environment_vars={"MODE": "every"},
        layers=["arn:aws:lambda:ca-central-1:999999999999:layer:polars:3"],
        reserved_concurrent_executions=3,
        ephemeral_storage=1024,
        function_name="every-option-fn",
        tags={"tier": "fn"},
        package_type="Zip",
    )
    pipeline = Pipeline("every", env=env)

    @pipeline.task(compute=env.compute.lambda_(config=lambda_config))
    def on_lambda(
        api_key: SecretStr, warehouse: Database, prices: Database, scratch: Volume
    ) -> first:
        return pl.DataFrame({"x": [1]})

    @pipeline.task(
        compute=env.compute.ecs(
            image="999999999999.dkr.ecr.ca-central-1.amazonaws.com/etl:1",
            config=EcsConfig(
                image="999999999999.dkr.ecr.ca-central-1.amazonaws.com/etl:1",
                cpu=1024,
                memory=4096,
                spot=True,
                environment_vars={"MODE": "ecs"},
                tags={"tier": "container"},
            ),
        )
    )
    def on_ecs(data: first, token: SecretStr) -> second:
        return data

    @pipeline.task(
        compute=env.compute.glue(
            worker_type="G.2X",
            num_workers=3,
            timeout_minutes=45,
            max_retries=2,
            additional_python_modules=("rapidfuzz==3.9.0",),
            tags={"tier": "spark"},
        )
    )
    def on_glue(data: second) -> third:
        return data

    @pipeline.task(compute=env.compute.lambda_())
    def plain(data: third) -> fourth:
        return data

    @pipeline.task(
        compute=env.compute.ecs(
            image="999999999999.dkr.ecr.ca-central-1.amazonaws.com/etl:1",
            config=EcsConfig(
                image="999999999999.dkr.ecr.ca-central-1.amazonaws.com/etl:1", launch_type="EC2"
            ),
        )
    )
    def on_ec2(data: fourth) -> None:
        return None

    return pipeline
