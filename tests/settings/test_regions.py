"""settings/regions.py: real regions are accepted, a typo gets the closest ones, and the
partition follows the region."""

from __future__ import annotations

import pytest

from glacier.settings import AwsConfig, AzureConfig, GcpConfig

from .conftest import config_error


@pytest.mark.parametrize(
    "region",
    [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "ap-southeast-1",
        "ap-northeast-1",
        "ap-south-1",
        "sa-east-1",
        "me-south-1",
        "me-central-1",
        "af-south-1",
        "il-central-1",
        "mx-central-1",
        "us-gov-west-1",
        "us-gov-east-1",
        "cn-north-1",
        "cn-northwest-1",
    ],
)
def test_aws_accepts_real_regions(region: str) -> None:
    assert AwsConfig(region=region).region == region


def test_aws_unknown_region_suggests_the_closest_and_lists_valid_ones() -> None:
    config_error(
        lambda: AwsConfig(region="us-est-1"),
        "AwsConfig: region='us-est-1' is invalid: not an AWS region",
        "did you mean 'us-east-1' or 'us-west-1'?",
        "valid values include us-east-1, us-west-2, eu-west-1",
    )
    config_error(lambda: AwsConfig(region="invalid-region"), "region='invalid-region'")


@pytest.mark.parametrize(
    ("region", "partition"),
    [("eu-west-1", "aws"), ("us-gov-west-1", "aws-us-gov"), ("cn-northwest-1", "aws-cn")],
)
def test_aws_partition_follows_region(region: str, partition: str) -> None:
    assert AwsConfig(region=region).partition == partition


def test_gcp_region() -> None:
    assert GcpConfig(project="acme-data", region="europe-west4").region == "europe-west4"
    config_error(
        lambda: GcpConfig(project="acme-data", region="us-central"),
        "region='us-central' is invalid: not a GCP region",
        "did you mean 'us-central1'?",
    )


def test_azure_location() -> None:
    assert AzureConfig(location="West Europe").location == "westeurope"
    config_error(
        lambda: AzureConfig(location="europe-west"),
        "location='europe-west' is invalid: not an Azure location",
        "eastus",
    )
