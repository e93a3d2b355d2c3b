"""The resource group, the storage account and its containers of an Azure environment."""

from __future__ import annotations

import pytest

from glacier import Dataset, Pipeline
from glacier.errors import InfraError
from glacier.infra import Plan, plan
from glacier.settings import BlobConfig
from infra.azure.pipelines import SUB_A, azure_env
from infra.azure.plans import ACCOUNT, CONTAINER


def test_the_account_is_secure_by_default(lake_plan: Plan) -> None:
    group = lake_plan.get("azure-native:resources:ResourceGroup", "dev-resource-group")
    assert (group.inputs["resourceGroupName"], group.inputs["location"]) == (
        "dev-etl",
        "westeurope",
    )
    account = lake_plan.get(ACCOUNT, "dev-storage-account").inputs
    assert account["accountName"] == "acmedata"
    assert account["enableHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    assert account["defaultToOAuthAuthentication"] is True
    assert account["encryption"]["requireInfrastructureEncryption"] is True
    assert account["sku"] == {"name": "Standard_LRS"} and account["accessTier"] == "Hot"
    assert account["tags"]["ManagedBy"] == "glacier"
    service = lake_plan.get("azure-native:storage:BlobServiceProperties", "dev-blob-service")
    assert service.inputs["isVersioningEnabled"] is True
    assert service.inputs["deleteRetentionPolicy"] == {"enabled": True, "days": 7}


def test_every_container_is_private_in_the_account(lake_plan: Plan) -> None:
    containers = {r.inputs["containerName"]: r.inputs for r in lake_plan.of_type(CONTAINER)}
    assert set(containers) == {"lake", "reference", f"dev-etl-artifacts-{SUB_A}"}
    for inputs in containers.values():
        assert inputs["accountName"] == "acmedata"
        assert inputs["resourceGroupName"] == "dev-etl"
        assert inputs["publicAccess"] == "None"


def _one_container(config: BlobConfig, **env_config: object) -> Plan:
    env = azure_env(**env_config)  # type: ignore[arg-type]
    out = Dataset("out", storage=env.storage.blob("lake", "out/", config=config))
    pipeline = Pipeline("cfg")

    @pipeline.task()
    def make() -> out: ...

    return plan(pipeline, environments=[env])


def test_blob_config_sets_the_account_and_the_named_resource_group() -> None:
    cfg = BlobConfig(
        tier="Cool",
        replication="ZRS",
        versioning=False,
        soft_delete_retention_days=30,
        infrastructure_encryption=False,
        tags={"team": "data"},
    )
    p = _one_container(cfg, resource_group="data-rg", tags={"cost": "lake"})
    account = p.get(ACCOUNT, "dev-storage-account").inputs
    assert (account["accessTier"], account["sku"]["name"]) == ("Cool", "Standard_ZRS")
    assert account["encryption"]["requireInfrastructureEncryption"] is False
    assert account["tags"]["team"] == "data" and account["tags"]["cost"] == "lake"
    assert account["resourceGroupName"] == "data-rg"
    service = p.get("azure-native:storage:BlobServiceProperties", "dev-blob-service").inputs
    assert service["isVersioningEnabled"] is False
    assert service["deleteRetentionPolicy"]["days"] == 30


def test_containers_disagreeing_on_account_settings_are_refused() -> None:
    env = azure_env()
    a = Dataset("a", storage=env.storage.blob("one", "a/", config=BlobConfig(replication="LRS")))
    b = Dataset("b", storage=env.storage.blob("two", "b/", config=BlobConfig(replication="GRS")))
    pipeline = Pipeline("disagree")

    @pipeline.task()
    def make() -> tuple[a, b]: ...  # type: ignore[valid-type]

    with pytest.raises(InfraError, match=r"replication='LRS' and replication='GRS'.*acmedata"):
        plan(pipeline, environments=[env])


def test_an_archive_account_tier_is_refused() -> None:
    with pytest.raises(InfraError, match=r"tier='Archive'.*'Hot', 'Cool' or 'Cold'"):
        _one_container(BlobConfig(tier="Archive"))


@pytest.mark.parametrize(
    ("config", "field"),
    [({"subscription": None}, "subscription_id"), ({"account": None}, "storage_account")],
)
def test_an_environment_missing_what_ids_need_is_refused(
    config: dict[str, object], field: str
) -> None:
    with pytest.raises(InfraError, match=f"names no {field}"):
        _one_container(BlobConfig(), **config)
