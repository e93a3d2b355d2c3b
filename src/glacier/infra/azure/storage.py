"""The environment's resource group, its storage account and the blob containers in it.

An Azure environment keeps its data in one storage account (``AzureConfig.storage_account``),
each Glacier bucket a container in it. The account is created secure: HTTPS only, TLS 1.2 at
least, no public blob access, and no shared-key access: Glacier's own clients (adlfs, and
delta-rs through object_store) authenticate with Microsoft Entra ID (a deployed task's managed
identity, a developer's ``az login``), so account keys and SAS tokens signed with them are
refused by the account itself. The account's settings come from the containers' ``BlobConfig``
(``AzureBlobConfig``): replication, access tier, infrastructure encryption, versioning and
soft delete are properties of the account, so the containers of one environment must agree on
them.
"""

from __future__ import annotations

from typing import Any

from glacier.errors import InfraError
from glacier.infra.azure.naming import container_id
from glacier.infra.azure.stack import Stack, add, logical_name, native
from glacier.infra.model import Store

#: What the account takes from a container's BlobConfig (settings of the whole account).
ACCOUNT_SETTINGS = (
    "tier",
    "replication",
    "infrastructure_encryption",
    "versioning",
    "soft_delete_retention_days",
)


def resource_group(stack: Stack) -> Any:
    """Declare the environment's resource group (the one its settings name, else its own)."""
    resources = native("resources")
    group = add(
        stack,
        resources.ResourceGroup,
        logical_name(stack, "resource-group"),
        resource_group_name=stack.group,
        location=stack.location,
        tags=stack.tags,
    )
    stack.out.resource_group = group
    return group


def account_config(stack: Stack, stores: list[Store]) -> Any:
    """The BlobConfig the account is created with: the containers' (which must agree)."""
    from glacier.settings import BlobConfig

    chosen: tuple[str, Any] | None = None
    for store in stores:
        cfg = store.config if isinstance(store.config, BlobConfig) else None
        if cfg is None:
            continue
        if chosen is None:
            chosen = (str(store.bucket_name), cfg)
            continue
        first, other = chosen
        for name in ACCOUNT_SETTINGS:
            if getattr(cfg, name) != getattr(other, name):
                raise InfraError(
                    f"Containers {first!r} and {store.bucket_name!r} of Azure environment "
                    f"{stack.env.key!r} ask for {name}={getattr(other, name)!r} and "
                    f"{name}={getattr(cfg, name)!r}, but {name} is a setting of their storage "
                    f"account {stack.account!r}. Give both the same BlobConfig.{name}."
                )
    cfg = chosen[1] if chosen else BlobConfig()
    if cfg.tier == "Archive":
        raise InfraError(
            f"BlobConfig(tier='Archive') in Azure environment {stack.env.key!r}: Archive is a "
            "tier of single blobs, not an account's default (blobs there cannot be read until "
            "rehydrated). Use tier 'Hot', 'Cool' or 'Cold', and a lifecycle policy to archive."
        )
    return cfg


def storage_account(stack: Stack, stores: list[Store]) -> Any:
    """Declare the storage account and its blob service settings (versioning, soft delete)."""
    storage = native("storage")
    cfg = account_config(stack, stores)
    account = add(
        stack,
        storage.StorageAccount,
        logical_name(stack, "storage-account"),
        depends_on=[stack.out.resource_group],
        account_name=stack.account,
        resource_group_name=stack.group,
        location=stack.location,
        kind="StorageV2",
        sku={"name": f"Standard_{cfg.replication}"},
        access_tier=cfg.tier,
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
        allow_shared_key_access=False,
        default_to_o_auth_authentication=True,
        public_network_access="Enabled",
        encryption={
            "require_infrastructure_encryption": cfg.infrastructure_encryption,
            "key_source": "Microsoft.Storage",
            "services": {"blob": {"enabled": True, "key_type": "Account"}},
        },
        tags={**stack.tags, **cfg.tags},
    )
    stack.out.storage_account = account
    add(
        stack,
        storage.BlobServiceProperties,
        logical_name(stack, "blob-service"),
        depends_on=[account],
        account_name=stack.account,
        resource_group_name=stack.group,
        blob_services_name="default",
        is_versioning_enabled=cfg.versioning,
        delete_retention_policy={"enabled": True, "days": cfg.soft_delete_retention_days},
        container_delete_retention_policy={
            "enabled": True,
            "days": cfg.soft_delete_retention_days,
        },
    )
    return account


def container(stack: Stack, store: Store) -> Any:
    """Declare the container of ``store`` (private: no anonymous access)."""
    storage = native("storage")
    made = add(
        stack,
        storage.BlobContainer,
        logical_name(stack, "container", _label(store)),
        depends_on=[stack.out.storage_account],
        account_name=stack.account,
        container_name=store.bucket_name,
        resource_group_name=stack.group,
        public_access="None",
        metadata={"glacier_pipeline": stack.model.pipeline},
    )
    stack.out.containers[store.key] = made
    return made


def _label(store: Store) -> str:
    return "artifacts" if store.kind == "artifacts" else str(store.bucket_name)


def scope_of(stack: Stack, store: Store) -> Any:
    """The id of ``store``'s container (a string computed from names, or a raw container
    resource's id output): the scope of role assignments on its data."""
    if store.kind == "raw":
        return store.resource.id
    home = stack.model.envs[store.env]
    from glacier.infra.azure.naming import resource_group_name

    if home.cloud != "azure" or home.config is None:
        raise InfraError(
            f"Container {store.bucket_name!r} is in {home.cloud} environment {home.key!r}; an "
            "Azure task can be granted only Azure containers."
        )
    return container_id(
        str(home.account_id),
        resource_group_name(stack.model, home),
        str(home.config.storage_account),
        str(store.bucket_name),
    )
