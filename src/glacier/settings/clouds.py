"""Provider configs: which cloud (or the local disk) an environment runs against.

Each config has a literal ``kind`` so that a settings file picks one with ``kind = "aws"``,
and a ``from_env()`` that reads the variables that cloud's own tools read. None of them takes
credentials: profiles, roles and the clouds' credential chains supply those.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from glacier import env_vars
from glacier.errors import ConfigError, CredentialsInCodeError
from glacier.settings.base import Cloud, GlacierModel, between, credentials_hint
from glacier.settings.names import validate_azure_storage_account_name, validate_gcp_project_id
from glacier.settings.regions import (
    AwsPartition,
    aws_partition,
    check_aws_region,
    check_azure_location,
    check_gcp_region,
)
from glacier.settings.tags import AwsTags, AzureTags, GcpLabels

__all__ = [
    "AwsConfig",
    "AzureConfig",
    "CloudTransport",
    "GcpConfig",
    "LocalConfig",
    "ProviderConfig",
]

_ACCOUNT_ID = re.compile(r"\d{12}")
_ROLE_ARN = re.compile(r"arn:(aws[-a-z]*):iam::(\d{12}):role/[\w+=,.@/-]+")
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_ARM_GROUP = r"/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[A-Za-z0-9_.()-]{1,90}/providers"
_SUBNET_ID = re.compile(
    _ARM_GROUP + r"/Microsoft\.Network/virtualNetworks/[A-Za-z0-9_.-]{2,64}"
    r"/subnets/[A-Za-z0-9_.-]{1,80}",
    re.IGNORECASE,
)
_POSTGRES_ZONE_ID = re.compile(
    _ARM_GROUP + r"/Microsoft\.Network/privateDnsZones/[a-z0-9.-]+\.postgres\.database\.azure\.com",
    re.IGNORECASE,
)
_RESOURCE_GROUP = re.compile(r"[\w().-]{0,89}[\w()-]")


#: Seconds to wait for a store's endpoint to accept a connection (every client of the store).
DEFAULT_CONNECT_TIMEOUT = 5.0
#: Seconds to wait for the next bytes of an answer once a request is sent. With the SDKs'
#: retries, an endpoint that accepts connections and never answers fails in about 25 s
#: (docs/reliability.md); a store sends the first bytes of an answer within a second.
DEFAULT_READ_TIMEOUT = 3.0
#: A connect or read timeout, in seconds.
Timeout = Annotated[float, between(0.1, 600, "seconds")]
#: Attempts of one storage request, the first included, by the store's SDK (botocore,
#: gcsfs, the Azure SDK, object_store). Two absorb a transient 5xx or reset; more multiply
#: the time a dead endpoint takes to fail (docs/reliability.md).
DEFAULT_MAX_ATTEMPTS = 2
#: Attempts of one storage request.
Attempts = Annotated[int, between(1, 10, "attempts of one request, the first included")]


def _env(*names: str) -> str | None:
    """The first of ``names`` that is set to a non-empty value."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def check_endpoint_url(url: str, cloud: Cloud | None = None) -> str:
    """Return ``url`` without a trailing slash if it is an http(s) URL with a host.

    Endpoints point at emulators (moto, the GCS emulator, Azurite) or private endpoints; a
    user name or password in the URL would be a credential in code, so it is refused.
    """
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise CredentialsInCodeError(
            f"a URL with a user name or password is a credential in code. {credentials_hint(cloud)}"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "an endpoint is an http:// or https:// URL with a host "
            "(e.g. 'http://127.0.0.1:5000' for a local emulator)"
        )
    return url.rstrip("/")


def _from_env(cls: type[GlacierModel], found: dict[str, Any], overrides: dict[str, Any]) -> Any:
    data = {key: value for key, value in found.items() if value is not None}
    data.update(overrides)
    return cls(**data)


class LocalConfig(GlacierModel):
    """Run everything on this machine: buckets are directories under ``base_path``.

    A relative ``base_path`` is relative to the current directory, except in a settings file
    (``containers/dev.toml``), where it is relative to the project root (the settings
    directory's parent).

    Example:
        >>> LocalConfig(base_path="./data").base_path
        PosixPath('data')
    """

    kind: Literal["local"] = "local"
    base_path: Path = Path(".glacier/data")
    create_dirs: bool = True
    #: Whether buckets may hold pickle/joblib objects (loading one runs its code).
    allow_pickle: bool = True

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Read ``GLACIER_BASE_PATH``; keyword arguments win over the environment.

        Example:
            >>> LocalConfig.from_env(create_dirs=False).create_dirs
            False
        """
        found = {"base_path": _env(env_vars.GLACIER_BASE_PATH)}
        result: Self = _from_env(cls, found, overrides)
        return result


class CloudTransport(GlacierModel):
    """How Glacier's clients reach a cloud's store, the same fields on every cloud:
    ``endpoint_url`` (an emulator's), ``connect_timeout``, ``read_timeout`` and
    ``max_attempts`` (see :class:`AwsConfig` for each). The base of :class:`AwsConfig`,
    :class:`GcpConfig` and :class:`AzureConfig`; each cloud's ``_cloud`` checks the endpoint.

    Example:
        >>> GcpConfig(project="acme-data", endpoint_url="http://127.0.0.1:9023").max_attempts
        2
    """

    endpoint_url: str | None = None
    connect_timeout: Timeout = DEFAULT_CONNECT_TIMEOUT
    read_timeout: Timeout = DEFAULT_READ_TIMEOUT
    max_attempts: Attempts = DEFAULT_MAX_ATTEMPTS

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint_url(cls, value: str | None) -> str | None:
        return None if value is None else check_endpoint_url(value, cls._cloud)


class AwsConfig(CloudTransport):
    """An AWS account and region, reached through a profile, a role or the default chain.

    Args:
        region: An AWS region such as ``"us-east-1"`` (GovCloud and China included).
        profile: A named profile from ``~/.aws/config``.
        account_id: The 12-digit account the resources must live in (deployments check it).
        role_arn: A role to assume, ``arn:aws:iam::123456789012:role/deployer``.
        endpoint_url: An http(s) URL of an emulator such as moto.
        connect_timeout: Seconds to wait for the storage endpoint to accept a connection.
        read_timeout: Seconds to wait for the next bytes of the store's answer; with the
            retries, a silent endpoint fails in a bounded time (docs/reliability.md).
        max_attempts: Attempts of one storage request by the store's client, the first
            included (1 to 10): the retries of a transient failure, and a factor of how long
            a dead endpoint takes to fail.
        tags: Tags applied to every resource in this account.
        allow_pickle: Whether buckets here may hold ``pickle``/``joblib`` objects, which
            run code when loaded (see docs/storage.md); ``False`` refuses them.

    Example:
        >>> cfg = AwsConfig(region="us-gov-west-1", account_id="123456789012")
        >>> cfg.partition
        'aws-us-gov'
    """

    _cloud: ClassVar[Cloud | None] = "aws"
    _input_aliases: ClassVar[dict[str, str]] = {"assume_role_arn": "role_arn"}

    kind: Literal["aws"] = "aws"
    region: str
    profile: str | None = None
    account_id: str | None = None
    role_arn: str | None = None
    session_duration: Annotated[int, between(900, 43200, "seconds (AWS's role session limits)")] = (
        3600
    )
    tags: AwsTags = {}
    allow_pickle: bool = True

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_aws_region(value)

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("a profile name is a non-empty name from ~/.aws/config")
        return value

    @field_validator("account_id")
    @classmethod
    def _account_id(cls, value: str | None) -> str | None:
        if value is not None and not _ACCOUNT_ID.fullmatch(value):
            raise ValueError("an AWS account id is exactly 12 digits (e.g. '123456789012')")
        return value

    @field_validator("role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.fullmatch(value):
            raise ValueError(
                "a role ARN looks like 'arn:aws:iam::123456789012:role/glacier-deployer'"
            )
        return value

    @model_validator(mode="after")
    def _role_in_same_partition(self) -> Self:
        # A role cannot be assumed across partitions (commercial, GovCloud, China); this is
        # otherwise only found out when the first API call fails.
        if self.role_arn is not None:
            match = _ROLE_ARN.fullmatch(self.role_arn)
            if match and match.group(1) != self.partition:
                raise ConfigError(
                    f"role_arn={self.role_arn!r} is in partition {match.group(1)!r} but "
                    f"region={self.region!r} is in partition {self.partition!r}; a role can "
                    f"only be assumed within its partition."
                )
        return self

    @property
    def partition(self) -> AwsPartition:
        """``"aws"``, ``"aws-us-gov"`` or ``"aws-cn"``, from the region."""
        return aws_partition(self.region)

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Read the variables the AWS CLI and SDKs read; keyword arguments win.

        ``AWS_REGION`` (else ``AWS_DEFAULT_REGION``, else ``"us-east-1"``), ``AWS_PROFILE``,
        ``AWS_ACCOUNT_ID``, ``AWS_ROLE_ARN`` and ``AWS_ENDPOINT_URL``. Access keys in the
        environment are left for boto3 to read; Glacier never copies them.

        Example:
            >>> AwsConfig.from_env(region="eu-west-1").region
            'eu-west-1'
        """
        found = {
            "region": _env("AWS_REGION", "AWS_DEFAULT_REGION") or "us-east-1",
            "profile": _env("AWS_PROFILE"),
            "account_id": _env("AWS_ACCOUNT_ID"),
            "role_arn": _env("AWS_ROLE_ARN"),
            "endpoint_url": _env("AWS_ENDPOINT_URL"),
        }
        result: Self = _from_env(cls, found, overrides)
        return result


class GcpConfig(CloudTransport):
    """A GCP project and region, reached through Application Default Credentials.

    ``project_id=`` is accepted as another name for ``project``.

    Args:
        project: The project id, e.g. ``"acme-data-prod"``.
        region: A GCP region, ``"us-central1"`` by default.
        endpoint_url: An http(s) URL of a storage emulator.
        connect_timeout: Seconds to wait for the storage endpoint to accept a connection.
        read_timeout: Seconds to wait for the next bytes of the store's answer; with the
            retries, a silent endpoint fails in a bounded time (docs/reliability.md).
        max_attempts: Attempts of one storage request by the store's client, the first
            included (1 to 10): the retries of a transient failure, and a factor of how long
            a dead endpoint takes to fail.
        anonymous: Do not authenticate (for emulators).
        labels: Labels applied to every resource in this project.
        allow_pickle: Whether buckets here may hold ``pickle``/``joblib`` objects, which
            run code when loaded (see docs/storage.md); ``False`` refuses them.

    Example:
        >>> GcpConfig(project_id="acme-data-prod", region="europe-west1").project
        'acme-data-prod'
    """

    _cloud: ClassVar[Cloud | None] = "gcp"
    _input_aliases: ClassVar[dict[str, str]] = {"project_id": "project"}

    kind: Literal["gcp"] = "gcp"
    project: str
    region: str = "us-central1"
    anonymous: bool = False
    labels: GcpLabels = {}
    allow_pickle: bool = True

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        return validate_gcp_project_id(value)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_gcp_region(value)

    @property
    def project_id(self) -> str:
        """The project id (same as ``project``)."""
        return self.project

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Read the variables Google's tools read; keyword arguments win.

        ``GOOGLE_CLOUD_PROJECT`` (else ``GCP_PROJECT``, else ``GCLOUD_PROJECT``),
        ``GOOGLE_CLOUD_REGION`` (else ``GCP_REGION``) and ``STORAGE_EMULATOR_HOST``, which
        becomes ``endpoint_url`` and turns on ``anonymous`` (emulators do not authenticate).

        Example:
            >>> GcpConfig.from_env(project="acme-data-dev").project_id
            'acme-data-dev'
        """
        emulator = _env("STORAGE_EMULATOR_HOST")
        if emulator is not None and "://" not in emulator:
            emulator = f"http://{emulator}"
        found: dict[str, Any] = {
            "project": _env("GOOGLE_CLOUD_PROJECT", "GCP_PROJECT", "GCLOUD_PROJECT"),
            "region": _env("GOOGLE_CLOUD_REGION", "GCP_REGION"),
            "endpoint_url": emulator,
            "anonymous": True if emulator else None,
        }
        if found["project"] is None and not {"project", "project_id"} & overrides.keys():
            raise ConfigError(
                "GcpConfig.from_env(): no GCP project is set; export GOOGLE_CLOUD_PROJECT "
                "(or GCP_PROJECT) or pass project='my-project'."
            )
        result: Self = _from_env(cls, found, overrides)
        return result


class AzureConfig(CloudTransport):
    """An Azure subscription and location, reached through ``az login`` or a managed identity.

    Args:
        subscription_id: The subscription GUID.
        resource_group: The resource group resources are created in.
        location: An Azure location, ``"eastus"`` by default (``"East US"`` is accepted).
        storage_account: The storage account holding the containers (3-24 a-z0-9).
        endpoint_url: An http(s) URL of a blob endpoint, e.g. Azurite's.
        connect_timeout: Seconds to wait for the storage endpoint to accept a connection.
        read_timeout: Seconds to wait for the next bytes of the store's answer; with the
            retries, a silent endpoint fails in a bounded time (docs/reliability.md).
        max_attempts: Attempts of one storage request by the store's client, the first
            included (1 to 10): the retries of a transient failure, and a factor of how long
            a dead endpoint takes to fail.
        tags: Tags applied to every resource in this subscription.
        allow_pickle: Whether buckets here may hold ``pickle``/``joblib`` objects, which
            run code when loaded (see docs/storage.md); ``False`` refuses them.
        database_subnet_id: An existing subnet (its resource id) delegated to
            ``Microsoft.DBforPostgreSQL/flexibleServers``, for the environment's databases;
            with ``apps_subnet_id``, of the same virtual network: the plan then creates no
            network (without both, it creates one when a database needs it).
        apps_subnet_id: An existing subnet (its resource id, /27 or larger) delegated to
            ``Microsoft.App/environments``, for the Container Apps environment.
        private_dns_zone_id: An existing private DNS zone ``*.postgres.database.azure.com``
            (its resource id) linked to that network; without it the plan creates
            ``privatelink.postgres.database.azure.com`` and links it.

    Example:
        >>> AzureConfig(location="West Europe", storage_account="acmedata").location
        'westeurope'
    """

    _cloud: ClassVar[Cloud | None] = "azure"

    kind: Literal["azure"] = "azure"
    subscription_id: str | None = None
    resource_group: str | None = None
    location: str = "eastus"
    storage_account: str | None = None
    tags: AzureTags = {}
    allow_pickle: bool = True
    database_subnet_id: str | None = None
    apps_subnet_id: str | None = None
    private_dns_zone_id: str | None = None

    @field_validator("subscription_id")
    @classmethod
    def _subscription_id(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.fullmatch(value):
            raise ValueError(
                "a subscription id is a GUID such as '00000000-1111-2222-3333-444444444444'"
            )
        return None if value is None else value.lower()

    @field_validator("resource_group")
    @classmethod
    def _resource_group(cls, value: str | None) -> str | None:
        if value is not None and not _RESOURCE_GROUP.fullmatch(value):
            raise ValueError(
                "a resource group name is 1 to 90 letters, digits, '_', '-', '.', '(' or ')' "
                "and does not end with '.' (e.g. 'data-engineering')"
            )
        return value

    @field_validator("location")
    @classmethod
    def _location(cls, value: str) -> str:
        return check_azure_location(value)

    @field_validator("storage_account")
    @classmethod
    def _storage_account(cls, value: str | None) -> str | None:
        return None if value is None else validate_azure_storage_account_name(value)

    @field_validator("database_subnet_id", "apps_subnet_id")
    @classmethod
    def _subnet_id(cls, value: str | None) -> str | None:
        if value is not None and not _SUBNET_ID.fullmatch(value):
            raise ValueError(
                "give the subnet's resource id, e.g. '/subscriptions/<guid>/resourceGroups/"
                "<group>/providers/Microsoft.Network/virtualNetworks/<network>/subnets/<subnet>'"
                " (az network vnet subnet show ... --query id)"
            )
        return value

    @field_validator("private_dns_zone_id")
    @classmethod
    def _private_dns_zone_id(cls, value: str | None) -> str | None:
        if value is not None and not _POSTGRES_ZONE_ID.fullmatch(value):
            raise ValueError(
                "give the resource id of a private DNS zone whose name ends in "
                ".postgres.database.azure.com, e.g. '/subscriptions/<guid>/resourceGroups/"
                "<group>/providers/Microsoft.Network/privateDnsZones/"
                "privatelink.postgres.database.azure.com'"
            )
        return value

    @model_validator(mode="after")
    def _subnets_of_one_network(self) -> Self:
        database, apps = self.database_subnet_id, self.apps_subnet_id
        if (database is None) != (apps is None):
            given = "database_subnet_id" if database is not None else "apps_subnet_id"
            raise ConfigError(
                f"{given} is set alone: an existing network is named by both "
                "database_subnet_id (delegated to Microsoft.DBforPostgreSQL/flexibleServers) "
                "and apps_subnet_id (delegated to Microsoft.App/environments) of one virtual "
                "network; set both, or neither and the plan creates the network."
            )
        same = (
            database is None
            or apps is None
            or (network_of_subnet(database).lower() == network_of_subnet(apps).lower())
        )
        if not same:
            raise ConfigError(
                "database_subnet_id and apps_subnet_id are subnets of different virtual "
                "networks, and the jobs reach the server inside one; give two subnets of "
                "the same network."
            )
        if self.private_dns_zone_id is not None and database is None:
            raise ConfigError(
                "private_dns_zone_id is set without database_subnet_id and apps_subnet_id: "
                "the zone must be linked to the network the server is in, and a network the "
                "plan creates gets its own zone; name the subnets too, or remove the zone."
            )
        return self

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Read ``AZURE_SUBSCRIPTION_ID``, ``AZURE_RESOURCE_GROUP``, ``AZURE_LOCATION``,
        ``AZURE_STORAGE_ACCOUNT`` and ``AZURE_STORAGE_ENDPOINT``; keyword arguments win.

        Example:
            >>> AzureConfig.from_env(location="northeurope").location
            'northeurope'
        """
        found = {
            "subscription_id": _env("AZURE_SUBSCRIPTION_ID"),
            "resource_group": _env("AZURE_RESOURCE_GROUP"),
            "location": _env("AZURE_LOCATION"),
            "storage_account": _env("AZURE_STORAGE_ACCOUNT"),
            "endpoint_url": _env("AZURE_STORAGE_ENDPOINT"),
        }
        result: Self = _from_env(cls, found, overrides)
        return result


def network_of_subnet(subnet_id: str) -> str:
    """The resource id of the virtual network a subnet (by resource id) belongs to.

    Example:
        >>> network_of_subnet("/subscriptions/s/resourceGroups/g/providers/"
        ...     "Microsoft.Network/virtualNetworks/n/subnets/db")
        '/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/n'
    """
    return subnet_id.rsplit("/subnets/", 1)[0]


#: Any provider config; settings files pick one with ``kind = "local" | "aws" | "gcp" | "azure"``.
ProviderConfig = Annotated[
    LocalConfig | AwsConfig | GcpConfig | AzureConfig, Field(discriminator="kind")
]

#: The provider kinds, in the order error messages list them.
PROVIDER_KINDS: tuple[str, ...] = ("local", "aws", "gcp", "azure")
