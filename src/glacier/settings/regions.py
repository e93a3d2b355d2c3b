"""Tables of each cloud's regions, and the checks that use them.

The tables are plain data so that a new region is a one-line change. They list regions a
customer can deploy to without a special agreement (no AWS ISO or Azure sovereign-only ones).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from glacier.settings.base import close_matches

__all__ = [
    "AWS_REGIONS",
    "AZURE_LOCATIONS",
    "GCP_REGIONS",
    "aws_partition",
    "check_aws_region",
    "check_azure_location",
    "check_gcp_region",
]

AwsPartition = Literal["aws", "aws-us-gov", "aws-cn"]

AWS_REGIONS: frozenset[str] = frozenset(
    {
        # North America
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "ca-west-1",
        "mx-central-1",
        # South America
        "sa-east-1",
        # Europe
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        # Asia Pacific
        "ap-east-1",
        "ap-east-2",
        "ap-south-1",
        "ap-south-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        # Middle East and Africa
        "me-south-1",
        "me-central-1",
        "il-central-1",
        "af-south-1",
        # GovCloud (partition aws-us-gov)
        "us-gov-east-1",
        "us-gov-west-1",
        # China (partition aws-cn)
        "cn-north-1",
        "cn-northwest-1",
    }
)

GCP_REGIONS: frozenset[str] = frozenset(
    {
        "africa-south1",
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "australia-southeast2",
        "europe-central2",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "me-west1",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "northamerica-south1",
        "southamerica-east1",
        "southamerica-west1",
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
    }
)

AZURE_LOCATIONS: frozenset[str] = frozenset(
    {
        # Americas
        "eastus",
        "eastus2",
        "centralus",
        "northcentralus",
        "southcentralus",
        "westcentralus",
        "westus",
        "westus2",
        "westus3",
        "canadacentral",
        "canadaeast",
        "brazilsouth",
        "brazilsoutheast",
        "mexicocentral",
        "chilecentral",
        # Europe
        "northeurope",
        "westeurope",
        "uksouth",
        "ukwest",
        "francecentral",
        "francesouth",
        "germanywestcentral",
        "germanynorth",
        "switzerlandnorth",
        "switzerlandwest",
        "norwayeast",
        "norwaywest",
        "swedencentral",
        "swedensouth",
        "polandcentral",
        "italynorth",
        "spaincentral",
        # Asia Pacific
        "eastasia",
        "southeastasia",
        "japaneast",
        "japanwest",
        "koreacentral",
        "koreasouth",
        "centralindia",
        "southindia",
        "westindia",
        "jioindiacentral",
        "jioindiawest",
        "australiaeast",
        "australiasoutheast",
        "australiacentral",
        "australiacentral2",
        "newzealandnorth",
        "indonesiacentral",
        "malaysiawest",
        # Middle East and Africa
        "uaenorth",
        "uaecentral",
        "qatarcentral",
        "israelcentral",
        "southafricanorth",
        "southafricawest",
        # US Government
        "usgovvirginia",
        "usgovarizona",
        "usgovtexas",
        # China (21Vianet)
        "chinaeast",
        "chinaeast2",
        "chinaeast3",
        "chinanorth",
        "chinanorth2",
        "chinanorth3",
    }
)

# Shown first in "valid regions include ..." so the examples are the ones people mean.
_AWS_EXAMPLES = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1")
_GCP_EXAMPLES = ("us-central1", "us-east1", "europe-west1", "asia-east1")
_AZURE_EXAMPLES = ("eastus", "westeurope", "northeurope", "southeastasia")


def aws_partition(region: str) -> AwsPartition:
    """The AWS partition a region belongs to.

    Example:
        >>> aws_partition("us-gov-west-1"), aws_partition("cn-north-1"), aws_partition("eu-west-1")
        ('aws-us-gov', 'aws-cn', 'aws')
    """
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


def _unknown(what: str, value: str, table: Collection[str], examples: tuple[str, ...]) -> str:
    # Regions differ by a letter or a digit, so several can be equally close ('us-est-1').
    matches = close_matches(value, table, n=3)
    hint = f"did you mean {' or '.join(map(repr, matches))}? " if matches else ""
    return f"not {what}; {hint}valid values include {', '.join(examples)} ({len(table)} known)"


def check_aws_region(region: str) -> str:
    """Return ``region`` if it is an AWS region; raise ``ValueError`` saying what is valid."""
    if region not in AWS_REGIONS:
        raise ValueError(_unknown("an AWS region", region, AWS_REGIONS, _AWS_EXAMPLES))
    return region


def check_gcp_region(region: str) -> str:
    """Return ``region`` if it is a GCP region; raise ``ValueError`` saying what is valid."""
    if region not in GCP_REGIONS:
        raise ValueError(_unknown("a GCP region", region, GCP_REGIONS, _GCP_EXAMPLES))
    return region


def check_azure_location(location: str) -> str:
    """Return the Azure location's programmatic name (``"East US"`` -> ``"eastus"``).

    Raises ``ValueError`` saying what is valid when it is not an Azure location.
    """
    normalized = location.replace(" ", "").lower()
    if normalized not in AZURE_LOCATIONS:
        raise ValueError(_unknown("an Azure location", location, AZURE_LOCATIONS, _AZURE_EXAMPLES))
    return normalized
