"""One storage resolution: the place the runtime reads and writes a dataset is the place the
plan grants its tasks (:mod:`glacier.locations`).

For generated datasets (objects, bucket roots, directories, partitioned directories; csv,
parquet and delta; Buckets, URIs, local paths, raw Pulumi buckets, in-memory datasets) and
environments (local files, an in-memory filesystem, AWS with and without a naming prefix), a
producer and a consumer task are planned and the runtime's Bucket for the dataset is
compared with the grants of both tasks.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glacier import AWSEnvironment, Dataset, Environment, Pipeline
from glacier.errors import ConfigError, InfraError
from glacier.infra.model import READ, REPLACE, WRITE, build_model
from glacier.locations import DIRECTORY, MEMORY, OBJECT, TABLE, Site, locate
from glacier.testing import memory_filesystem

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
BUCKETS = st.from_regex(r"[a-z][a-z0-9-]{2,12}[a-z0-9]", fullmatch=True)


@st.composite
def places(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...]]:
    """A path, a format and partition columns: an object, the bucket's root, a directory or
    a partitioned directory, in csv, parquet or delta."""
    stem = draw(NAMES)
    shape = draw(st.sampled_from(["object", "root", "directory", "partitioned"]))
    fmt = draw(
        st.sampled_from(["csv", "parquet", "delta"] if shape != "object" else ["csv", "parquet"])
    )
    if shape == "object":
        return f"{draw(st.sampled_from(['', 'in/']))}{stem}.{fmt}", fmt, ()
    partition_by = ("day",) if shape == "partitioned" else ()
    path = "" if shape == "root" else f"{stem}/"
    return path, fmt, partition_by


class FakeRawBucket:
    """Stands in for ``aws.s3.Bucket(...)``: the module and class name Glacier recognises."""

    def __init__(self, logical: str) -> None:
        self._name = logical


FakeRawBucket.__module__ = "pulumi_aws.s3"
FakeRawBucket.__name__ = FakeRawBucket.__qualname__ = "Bucket"


def aws_env(prefix: str | None) -> AWSEnvironment:
    return AWSEnvironment(
        account_id="123456789012", region="eu-west-1", environment="prop", naming_prefix=prefix
    )


def storage_for(draw: st.DrawFn, env: Environment, kind: str, base: Path) -> Any:
    path, fmt, partition_by = draw(places())
    bucket = draw(BUCKETS)
    if kind == "bucket":
        return env.provider.bucket(bucket, path=path, format=fmt, partition_by=partition_by or None)
    if kind == "uri":
        return f"s3://{bucket}/{path}"
    if kind == "path":
        # A local path names one file (a directory there is a Bucket's).
        return str(base / bucket / (path if path.endswith((".csv", ".parquet")) else "x.parquet"))
    if kind == "raw":
        return FakeRawBucket(bucket)
    return None


def two_tasks(env: Environment, ds: Dataset, cloud: bool) -> Pipeline:
    pipeline = Pipeline("loc", env=env)
    # On ECS: Lambda refuses tasks that write Delta tables (deltalake does not fit).
    compute = {"compute": env.compute.ecs(image="python:3.11-slim")} if cloud else {}

    @pipeline.task(name="produce", **compute)
    def produce() -> ds:  # type: ignore[valid-type]
        return None

    @pipeline.task(name="consume", **compute)
    def consume(data: ds) -> None:  # type: ignore[valid-type]
        return None

    return pipeline


@PROPERTY
@given(data=st.data())
def test_the_runtime_reads_and_writes_where_the_plan_grants(data: st.DataObject) -> None:
    prefix = data.draw(st.sampled_from([None, "acme-data"]))
    env = aws_env(prefix)
    kind = data.draw(st.sampled_from(["bucket", "uri", "raw", "memory"]))
    storage = storage_for(data.draw, env, kind, Path("/unused"))
    name = data.draw(NAMES)
    ds = Dataset(name, storage=storage)
    model = build_model(two_tasks(env, ds, cloud=True), [env])
    location = env.locate(ds)

    for task in model.tasks:
        (grant,) = [g for g in task.grants if g.location.dataset == name]
        store = model.stores[grant.location.store]
        wanted = READ if task.name == "consume" else (REPLACE if location.sweeps else WRITE)
        assert grant.access == wanted
        if kind == "memory":
            # Between two cloud processes an in-memory dataset passes through the artifacts
            # bucket; the runtime keeps it in memory and has no Bucket for it.
            assert location.layout == MEMORY and store.kind == "artifacts"
            assert grant.location.prefix == f"{name}/"
            continue
        bucket = env.bucket_for(ds)
        assert grant.location.prefix == bucket.path == location.key
        assert grant.location.sweeps == location.sweeps
        if kind == "raw":
            # The plan grants the resource's bucket; the runtime reaches the same resource by
            # its logical name.
            assert store.kind == "raw" and store.resource is storage
            assert bucket.bucket_name == storage._name == location.bucket
        else:
            assert store.bucket_name == bucket.bucket_name == location.bucket
        directory = location.layout in (DIRECTORY, TABLE)
        assert directory == (
            not bucket.path or bucket.path.endswith("/") or bool(bucket.partition_by)
        )


@PROPERTY
@given(data=st.data())
def test_local_and_memory_runtimes_use_the_location(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        env = Environment.local(base / "data", name="laptop")
        in_memory = data.draw(st.booleans())
        if in_memory:  # an in-memory filesystem swapped in, as the store fixtures do
            env.provider.cloud.filesystem.override(providers.Object(memory_filesystem()))
        kind = data.draw(st.sampled_from(["bucket", "path", "memory"]))
        ds = Dataset(data.draw(NAMES), storage=storage_for(data.draw, env, kind, base))
        location = env.locate(ds)
        model = build_model(two_tasks(env, ds, cloud=False), [env])
        # Local tasks need no grants: nothing is declared for them.
        assert all(not t.grants for t in model.tasks)
        if kind == "memory":
            assert location.layout == MEMORY and location.uri is None
            return
        bucket = env.bucket_for(ds)
        assert (bucket.bucket_name, bucket.path) == (location.bucket, location.key)
        assert bucket.format == location.format
        uri = bucket.get_uri()
        if in_memory and kind == "bucket":
            assert uri == f"memory://{location.bucket}/{location.key}".rstrip("/") + (
                "/" if location.layout != OBJECT else ""
            )
        else:
            assert uri == location.uri


@pytest.mark.parametrize(
    ("storage", "cloud", "error"),
    [
        ("gs://lake/x.parquet", "aws", ConfigError),
        ("s3://lake/x.parquet", "local", ConfigError),
    ],
)
def test_a_uri_of_another_cloud_is_refused_by_the_one_resolution(
    storage: str, cloud: str, error: type[Exception]
) -> None:
    ds = Dataset("x", storage=storage)
    with pytest.raises(error, match=r"environment 'e' is on"):
        locate(ds, Site(cloud, name="e"))


def test_the_plan_refuses_a_uri_the_runtime_would_refuse() -> None:
    env = aws_env(None)
    ds = Dataset("x", storage="gs://lake/x.parquet")
    with pytest.raises(InfraError, match=r"'gs://lake/x\.parquet'.*environment 'prop' is on aws"):
        build_model(two_tasks(env, ds, cloud=True), [env])


def test_layouts() -> None:
    site = Site("aws", "123456789012", "eu-west-1")
    cases = {
        "s3://b/x.parquet": OBJECT,
        "s3://b/x/": TABLE,
        "s3://b/x.csv": OBJECT,
        "s3://b/": TABLE,
    }
    for uri, layout in cases.items():
        assert locate(Dataset("x", storage=uri), site).layout == layout, uri


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_planned_policies_name_the_runtime_objects(data: st.DataObject) -> None:
    """The same property through the whole plan (Pulumi's mock engine): each task's role
    policy allows the objects under the runtime Bucket's bucket and path."""
    from glacier.infra import plan

    env = aws_env(data.draw(st.sampled_from([None, "acme-data"])))
    kind = data.draw(st.sampled_from(["bucket", "uri"]))
    ds = Dataset(data.draw(NAMES), storage=storage_for(data.draw, env, kind, Path("/unused")))
    planned = plan(two_tasks(env, ds, cloud=True))
    bucket = env.bucket_for(ds)
    objects = f"arn:aws:s3:::{bucket.bucket_name}/{bucket.path}*"
    for task in ("produce", "consume"):
        policies = [
            r.policy()
            for r in planned.of_type("aws:iam/rolePolicy:RolePolicy")
            if r.name.endswith(f"{task}-policy")
        ]
        (policy,) = policies
        resources: set[str] = set()
        for statement in policy["Statement"]:
            if any(a.startswith("s3:Get") for a in statement["Action"]):
                found = statement["Resource"]
                resources.update([found] if isinstance(found, str) else found)
        assert objects in resources, (objects, sorted(resources))
