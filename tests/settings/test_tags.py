"""settings/tags.py: tags and labels are checked against each cloud's limits."""

from __future__ import annotations

from glacier.settings import AwsConfig, GcpConfig, S3Config

from .conftest import config_error


def test_aws_tags_respect_aws_limits() -> None:
    config_error(
        lambda: AwsConfig(region="us-east-1", tags={"aws:owner": "me"}),
        "tags={'aws:owner': 'me'} is invalid",
        "'aws:' is reserved",
    )
    config_error(lambda: S3Config(tags={"k": "v" * 257}), "at most 256 characters")


def test_gcp_labels_are_lowercase() -> None:
    config_error(
        lambda: GcpConfig(project="acme-data", labels={"Team": "data"}),
        "labels={'Team': 'data'} is invalid",
        "lowercase",
    )
