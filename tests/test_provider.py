"""The provider: one cloud container, a frozen identity, and adapters injected into resources."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dependency_injector import providers

from glacier import Bucket, Environment, Provider
from glacier.cloud import CloudContainer
from glacier.config import LocalConfig, S3Config
from glacier.errors import ConfigError
from glacier.provider import Identity
from glacier.settings import Network


class _Recorded:
    def __init__(self, resource: Any) -> None:
        self.resource = resource

    def get_uri(self) -> str:
        return f"recorded://{self.resource.bucket_name}"


def test_a_resource_uses_the_adapter_factory_it_was_given(tmp_path: Path) -> None:
    made: list[Any] = []

    def factory(resource: Any) -> _Recorded:
        made.append(resource)
        return _Recorded(resource)

    bucket = Bucket("raw", path="a.parquet", provider=Provider(), adapter=factory)
    assert bucket.get_uri() == "recorded://raw"
    assert made == [bucket]


def test_a_resource_whose_provider_gives_no_adapter_says_how_to_get_one() -> None:
    class Bare:
        kind = "local"

    bucket = Bucket("raw", path="a.parquet", provider=Bare())
    with pytest.raises(ConfigError, match=r"provider\.bucket\(\.\.\.\)"):
        bucket.get_uri()


def test_a_bucket_made_directly_reads_and_writes_through_its_provider(tmp_path: Path) -> None:
    # Seed 001's constructor injection: Bucket(provider=..., bucket_name=..., path=..., config=...).
    provider = Provider(config=LocalConfig(base_path=tmp_path))
    bucket = Bucket(provider=provider, bucket_name="data", path="sales.parquet", config=S3Config())
    assert bucket.adapter_factory is provider.cloud.bucket_adapter
    assert bucket.get_uri().endswith("data/sales.parquet")
    bucket.write(pl.DataFrame({"amount": [1, 2]}))
    assert bucket.read()["amount"].to_list() == [1, 2]


def test_a_bucket_made_directly_on_s3_reads_what_the_factorys_bucket_wrote(
    s3: Provider, bucket_name: str
) -> None:
    direct = Bucket(provider=s3, bucket_name=bucket_name, path="sales.parquet", config=S3Config())
    assert direct.get_uri() == f"s3://{bucket_name}/sales.parquet"
    s3.bucket(bucket_name, path="sales.parquet").write(pl.DataFrame({"amount": [3]}))
    assert direct.read()["amount"].to_list() == [3]


def test_a_provider_names_the_kinds_it_serves_for_an_unknown_one() -> None:
    with pytest.raises(ConfigError, match=r"kind 'queue'.*bucket, database"):
        Provider().adapter_factory("queue")


def test_the_provider_injects_its_cloud_containers_factory(tmp_path: Path) -> None:
    provider = Provider(config=LocalConfig(base_path=tmp_path))
    bucket = provider.bucket("raw", path="a.parquet")
    assert bucket.adapter_factory is provider.cloud.bucket_adapter
    assert provider.cloud.kind() == "local"
    assert type(provider.cloud.bucket_adapter) is type(CloudContainer.bucket_adapter)


def test_an_override_reaches_resources_made_before_it(tmp_path: Path) -> None:
    env = Environment(Provider(config=LocalConfig(base_path=tmp_path)), name="dev")
    bucket = env.provider.bucket("raw", path="a.parquet")
    before = bucket.get_uri()
    with env.container.cloud.bucket_adapter.override(providers.Factory(_Recorded)):
        assert bucket.get_uri() == "recorded://raw"
    assert bucket.get_uri() == before


def test_the_environments_cloud_container_is_its_providers(tmp_path: Path) -> None:
    provider = Provider(config=LocalConfig(base_path=tmp_path))
    env = Environment(provider, name="dev")
    assert env.container.cloud() is provider.cloud
    assert env.container.bucket_adapter is provider.cloud.bucket_adapter
    built = Environment.local(tmp_path / "other", name="other")
    assert built.container.cloud() is built.provider.cloud


def test_an_environment_gives_its_provider_an_identity(tmp_path: Path) -> None:
    network = Network(vpc_id="vpc-1", subnet_ids=("subnet-a",))
    provider = Provider(config=LocalConfig(base_path=tmp_path), tags={"team": "data"})
    Environment(provider, name="dev", tags={"env": "dev"}, network=network)
    assert provider.identity == Identity(
        environment="dev",
        naming_prefix="dev",
        tags={"team": "data", "env": "dev"},
        network=network,
    )
    # A second environment adds its tags but does not rename the provider.
    Environment(provider, name="prod", tags={"extra": "1"})
    assert provider.identity.environment == "dev"
    assert provider.identity.tags["extra"] == "1"


def test_the_identity_and_the_provider_pickle_without_an_environment(tmp_path: Path) -> None:
    identity = Identity(environment="dev", naming_prefix="acme-dev", tags={"a": "b"})
    assert pickle.loads(pickle.dumps(identity)) == identity
    provider = Provider(config=LocalConfig(base_path=tmp_path), identity=identity)
    copy = pickle.loads(pickle.dumps(provider))
    assert copy.identity == identity
    assert copy.bucket("raw", path="a.parquet").environment == "dev"


def test_the_provider_has_no_way_back_to_an_environment(tmp_path: Path) -> None:
    provider = Provider(config=LocalConfig(base_path=tmp_path))
    Environment(provider, name="dev")
    provider.env(name="prod")  # a factory (seed 001): it builds one, keeps no reference
    assert not hasattr(provider, "environment")
    assert not any(isinstance(v, Environment) for v in vars(provider).values())


def test_env_executor_picks_from_the_containers_table(tmp_path: Path) -> None:
    from glacier.executors.dask import DaskExecutor
    from glacier.executors.local import LocalExecutor

    env = Environment.local(tmp_path, state_dir=tmp_path / "state")
    assert isinstance(env.executor(), LocalExecutor)
    assert isinstance(env.executor("dask"), DaskExecutor)
    with pytest.raises(ConfigError, match="'local' or 'dask'"):
        env.executor("spark")


def test_an_override_through_the_environment_reaches_a_providers_own_cloud(
    tmp_path: Path,
) -> None:
    config = LocalConfig(base_path=tmp_path)
    provider = Provider(config=config, cloud=CloudContainer(config=providers.Object(config)))
    env = Environment(provider, name="dev")
    bucket = provider.bucket("raw", path="a.parquet")
    with env.container.bucket_adapter.override(providers.Factory(_Recorded)):
        assert bucket.get_uri() == "recorded://raw"
    with env.container.cloud.bucket_adapter.override(providers.Factory(_Recorded)):
        assert bucket.get_uri() == "recorded://raw"
