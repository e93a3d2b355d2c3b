"""The infrastructure model is cloud-neutral (issue 23, item 3): a third cloud registered as
a plugin with its own builder row is planned through the same road as AWS, and its builder
receives tasks, grants and stores in no cloud's words. What only AWS means (Lambda function
names, a Serverless resource's handler, the partition of an ARN) is asked of the AWS row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import polars as pl
import pytest

from glacier import AWSEnvironment, Dataset, Environment, Pipeline, Provider
from glacier.clouds import register_cloud
from glacier.errors import ConfigError, InfraError
from glacier.infra import plan
from glacier.infra.builders import BUILDERS, CloudBuilder
from glacier.infra.model import READ, WRITE, build_model
from infra import fake_cloud
from infra.fake_cloud import FakeBucketAdapter, FakeConfig, FakeInfrastructure
from infra.plans import ROLE_POLICY

#: Words of AWS's vocabulary that must not reach another cloud's builder.
AWS_WORDS = re.compile(r"\b(aws|s3|lambda|arn|iam|glue|ecs|sts)\b", re.IGNORECASE)


@pytest.fixture
def fake() -> Iterator[Environment]:
    """An environment of the ``fake`` plugin cloud, whose builder row is registered."""
    register_cloud(FakeConfig, bucket=FakeBucketAdapter, infrastructure=fake_cloud.BUILDER)
    FakeInfrastructure.declared.clear()
    fake_cloud.CHECKED.clear()
    try:
        yield Environment(Provider(config=FakeConfig(project="acme-data")), name="prod")
    finally:
        BUILDERS.pop("fake", None)


def shop(env: Environment) -> Pipeline:
    """Three tasks: a bucket dataset, an in-memory one between processes, a bucket one."""
    lake = env.provider
    raw = Dataset("raw", storage=lake.bucket("acme-lake", path="raw/"))
    mid = Dataset("mid")
    out = Dataset("out", storage=lake.bucket("acme-lake", path="out.parquet"))
    pipeline = Pipeline("shop")

    @pipeline.task()
    def extract() -> raw:
        return pl.DataFrame({"x": [1]})

    @pipeline.task()
    def clean(data: raw) -> mid:
        return data

    @pipeline.task()
    def publish(data: mid) -> out:
        return data

    return pipeline


def test_a_third_clouds_builder_gets_tasks_grants_and_stores_in_no_clouds_words(
    fake: Environment,
) -> None:
    planned = plan(shop(fake), env=fake)

    ((model, env),) = FakeInfrastructure.declared
    assert env == "prod"
    assert model.envs["prod"].cloud == "fake"
    assert model.envs["prod"].account_id == "acme-data"
    # Compute: the cloud's default, from its builder row.
    assert {t.name: t.compute for t in model.tasks} == dict.fromkeys(
        ("extract", "clean", "publish"), "fakejob"
    )
    # Stores: the user's bucket, and the artifacts store carrying the in-memory dataset.
    assert {k: s.kind for k, s in model.stores.items()} == {
        "prod:acme-lake": "managed",
        "prod:artifacts": "artifacts",
    }
    # Grants: read what a task consumes, write what it produces, read the pipeline's code
    # (its compute loads code from the artifacts store: code_from_artifacts).
    grants = {
        t.name: {(g.location.store, g.location.pattern, g.access) for g in t.grants}
        for t in model.tasks
    }
    code = ("prod:artifacts", "_glacier/code/shop/*", READ)
    assert grants == {
        "extract": {("prod:acme-lake", "raw/*", WRITE), code},
        "clean": {("prod:acme-lake", "raw/*", READ), ("prod:artifacts", "mid/*", WRITE), code},
        "publish": {
            ("prod:artifacts", "mid/*", READ),
            ("prod:acme-lake", "out.parquet*", WRITE),
            code,
        },
    }
    # The cloud's own check saw its tasks.
    assert fake_cloud.CHECKED == [("extract", "clean", "publish")]
    # Nothing it was handed speaks AWS.
    handed = repr((model.envs, model.stores, model.tasks, model.cross_account, model.catalog))
    assert AWS_WORDS.findall(handed) == []
    # And the plan is what the builder declared, through the same road as AWS.
    assert sorted(r.name for r in planned.of_type("fake:storage:Bucket")) == [
        "acme-lake",
        model.stores["prod:artifacts"].bucket_name,
    ]
    jobs = {r.name: r.inputs for r in planned.of_type("fake:compute:Job")}
    assert jobs["clean"]["grants"] == [
        "prod:acme-lake/raw/*=read+list",
        "prod:artifacts/mid/*=read+write+list",
        "prod:artifacts/_glacier/code/shop/*=read+list",
    ]
    assert AWS_WORDS.findall(repr(planned.resources)) == []


def test_a_third_clouds_messages_use_its_own_spelling(fake: Environment) -> None:
    pipeline = Pipeline("elsewhere", env=fake)
    local = Dataset("local", storage="/tmp/glacier-neutral/local.parquet")

    @pipeline.task()
    def write() -> local:
        return pl.DataFrame({"x": [1]})

    with pytest.raises(InfraError, match=r"store: fake\.bucket\(\.\.\.\)\.$") as caught:
        build_model(pipeline, [fake])
    assert AWS_WORDS.findall(str(caught.value)) == []


def test_a_builder_row_of_another_cloud_is_refused_at_registration() -> None:
    other = CloudBuilder(cloud="other", target="x:Y", compute=(), default_compute="x")
    with pytest.raises(ConfigError, match=r"CloudBuilder with cloud='fake', the config's kind"):
        register_cloud(FakeConfig, bucket=FakeBucketAdapter, infrastructure=other)
    assert "other" not in BUILDERS


# -- what the AWS row answers ------------------------------------------------------------------

aws_dev = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="dev")


def two_tasks_on(compute_a: object, compute_b: object) -> Pipeline:
    out = Dataset("out", storage=aws_dev.storage.s3(bucket="dev-shared-fn", path="o.parquet"))
    mid = Dataset("mid")
    pipeline = Pipeline("shared")

    @pipeline.task(compute=compute_a)
    def first() -> mid:
        return pl.DataFrame({"x": [1]})

    @pipeline.task(compute=compute_b)
    def second(data: mid) -> out:
        return data

    return pipeline


def test_two_tasks_on_one_lambda_function_are_refused_by_the_aws_row() -> None:
    fn = aws_dev.provider.serverless("shared-fn")
    with pytest.raises(InfraError, match=r"Tasks 'first' and 'second' both run as Lambda "):
        build_model(two_tasks_on(fn, fn), [aws_dev])
    # Each its own function: planned, with the name given to the resource kept.
    model = build_model(two_tasks_on(fn, aws_dev.provider.serverless("other-fn")), [aws_dev])
    assert [t.config.function_name for t in model.tasks] == ["shared-fn", "other-fn"]
    assert [t.compute for t in model.tasks] == ["lambda", "lambda"]


def test_a_serverless_resource_with_a_handler_is_refused_by_the_aws_row() -> None:
    fn = aws_dev.provider.serverless("fn", handler=lambda event: event)
    with pytest.raises(InfraError, match=r"Drop handler= from provider\.serverless"):
        build_model(two_tasks_on(fn, aws_dev.compute.lambda_()), [aws_dev])


def test_arns_are_in_the_partition_of_the_environments_config() -> None:
    china = AWSEnvironment(account_id="123456789012", region="cn-north-1", environment="cn")
    out = Dataset("out", storage=china.storage.s3(bucket="cn-lake", path="o.parquet"))
    pipeline = Pipeline("china")

    @pipeline.task(compute=china.compute.lambda_())
    def load() -> out:
        return pl.DataFrame({"x": [1]})

    planned = plan(pipeline, env=china)
    policies = " ".join(str(p.inputs["policy"]) for p in planned.of_type(ROLE_POLICY))
    arns = re.findall(r"arn:[a-z-]+:s3:::[\w.-]+", policies)
    assert arns and set(arns) == {"arn:aws-cn:s3:::cn-lake"}
