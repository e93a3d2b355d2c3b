"""Tag and label types with each cloud's limits.

AWS, Azure and GCP all refuse tags at deploy time for reasons that are cheap to check when the
config is built: too many, too long, a reserved prefix, or (GCP) uppercase letters.

Example:
    >>> from glacier.settings import S3Config
    >>> S3Config(tags={"aws:owner": "me"})
    Traceback (most recent call last):
    ...
    glacier.errors.ConfigError: S3Config: tags={'aws:owner': 'me'} is invalid: ...
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["AwsTags", "AzureTags", "GcpLabels", "Tags"]

_GCP_LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_GCP_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
_AZURE_FORBIDDEN = set("<>%&\\?/")


def _check_aws_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > 50:
        raise ValueError(f"AWS allows at most 50 tags per resource, got {len(tags)}")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            raise ValueError(f"AWS tag keys are 1 to 128 characters long; {key!r} is not")
        if key.lower().startswith("aws:"):
            raise ValueError(f"the tag key prefix 'aws:' is reserved by AWS (key {key!r})")
        if len(value) > 256:
            raise ValueError(f"AWS tag values are at most 256 characters long (key {key!r})")
    return tags


def _check_gcp_labels(labels: dict[str, str]) -> dict[str, str]:
    if len(labels) > 64:
        raise ValueError(f"GCP allows at most 64 labels per resource, got {len(labels)}")
    for key, value in labels.items():
        if not _GCP_LABEL_KEY.fullmatch(key):
            raise ValueError(
                f"GCP label keys are 1 to 63 lowercase letters, digits, '_' or '-' and start "
                f"with a letter; {key!r} is not (e.g. 'cost_center')"
            )
        if not _GCP_LABEL_VALUE.fullmatch(value):
            raise ValueError(
                f"GCP label values are at most 63 lowercase letters, digits, '_' or '-'; "
                f"{key}={value!r} is not (e.g. 'data-eng')"
            )
    return labels


def _check_azure_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > 50:
        raise ValueError(f"Azure allows at most 50 tags per resource, got {len(tags)}")
    for key, value in tags.items():
        if not 1 <= len(key) <= 512 or _AZURE_FORBIDDEN & set(key):
            raise ValueError(
                f"Azure tag names are 1 to 512 characters without < > % & \\ ? /; {key!r} is not"
            )
        if len(value) > 256:
            raise ValueError(f"Azure tag values are at most 256 characters long (tag {key!r})")
    return tags


#: Tags with no cloud-specific limits (environment and task tags, Databricks cluster tags).
Tags = dict[str, str]
#: AWS resource tags: at most 50, keys 1-128 characters, no ``aws:`` prefix, values <= 256.
AwsTags = Annotated[dict[str, str], AfterValidator(_check_aws_tags)]
#: GCP labels: at most 64, lowercase keys starting with a letter, values <= 63 characters.
GcpLabels = Annotated[dict[str, str], AfterValidator(_check_gcp_labels)]
#: Azure tags: at most 50, names <= 512 characters without ``<>%&\\?/``, values <= 256.
AzureTags = Annotated[dict[str, str], AfterValidator(_check_azure_tags)]
