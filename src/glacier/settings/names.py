"""Validators for the names clouds put limits on: buckets, containers, functions, projects.

Each returns the name unchanged when it is valid and otherwise raises
:class:`~glacier.settings.base.InvalidValueError` (a :class:`~glacier.errors.ConfigError`)
naming the value, the rule it breaks and an example of a valid name. They are plain functions
so that resources and adapters can check a physical name after prefixes are added.
"""

from __future__ import annotations

import ipaddress
import re

from glacier.settings.base import InvalidValueError

__all__ = [
    "validate_azure_container_name",
    "validate_azure_storage_account_name",
    "validate_bucket_segment",
    "validate_gcp_project_id",
    "validate_gcs_bucket_name",
    "validate_lambda_function_name",
    "validate_s3_bucket_name",
]

_S3_CHARS = re.compile(r"[a-z0-9.-]+")
_GCS_CHARS = re.compile(r"[a-z0-9._-]+")
_AZURE_CONTAINER = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_LAMBDA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_GCP_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_STORAGE_ACCOUNT = re.compile(r"[a-z0-9]{3,24}")

# Prefixes and suffixes S3 reserves for access points, Object Lambda, directory and table
# buckets; a bucket named like them is refused by CreateBucket.
_S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def validate_bucket_segment(name: object) -> str:
    """Check that a bucket name is one path segment, on every store.

    A local bucket is the directory ``<base_path>/<name>``: a name with a separator, ``..``
    or a leading ``/`` would put the data outside ``base_path`` (the cloud rules above refuse
    those too, but only where the provider is a cloud's).

    Example:
        >>> validate_bucket_segment("raw-data")
        'raw-data'
        >>> validate_bucket_segment("../x")
        Traceback (most recent call last):
        ...
        glacier.settings.base.InvalidValueError: Bucket name '../x' is invalid: ...
    """

    def fail(rule: str) -> InvalidValueError:
        hint = "give one name such as 'raw-data' and put folders in path="
        return InvalidValueError("Bucket name", name, f"{rule}; {hint}")

    if not isinstance(name, str) or not name.strip():
        raise fail("a bucket name is a non-empty string")
    if name in (".", "..") or "/" in name or "\\" in name:
        raise fail("a bucket name is one directory name, without '/', '\\', '.' or '..'")
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        raise fail("a bucket name has no control characters")
    if name != name.strip():
        raise fail("a bucket name has no leading or trailing spaces")
    return name


def validate_s3_bucket_name(name: str) -> str:
    """Check an S3 bucket name against AWS's naming rules.

    Example:
        >>> validate_s3_bucket_name("prod-sales-data")
        'prod-sales-data'
        >>> validate_s3_bucket_name("Sales_Data")
        Traceback (most recent call last):
        ...
        glacier.settings.base.InvalidValueError: S3 bucket name 'Sales_Data' is invalid: ...
    """
    example = "an example of a valid name is 'prod-sales-data'"

    def fail(rule: str) -> InvalidValueError:
        return InvalidValueError("S3 bucket name", name, f"{rule}; {example}")

    if not isinstance(name, str) or not 3 <= len(name) <= 63:
        raise fail("an S3 bucket name is 3 to 63 characters long")
    if not _S3_CHARS.fullmatch(name):
        raise fail("an S3 bucket name uses only lowercase letters, digits, dots and hyphens")
    if not (name[0].isalnum() and name[-1].isalnum()):
        raise fail("an S3 bucket name starts and ends with a letter or digit")
    if ".." in name:
        raise fail("an S3 bucket name has no two adjacent dots")
    if _is_ip_address(name):
        raise fail("an S3 bucket name must not look like an IP address")
    for prefix in _S3_RESERVED_PREFIXES:
        if name.startswith(prefix):
            raise fail(f"the prefix {prefix!r} is reserved by S3")
    for suffix in _S3_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            raise fail(f"the suffix {suffix!r} is reserved by S3")
    return name


def validate_gcs_bucket_name(name: str) -> str:
    """Check a Cloud Storage bucket name against Google's naming rules.

    Example:
        >>> validate_gcs_bucket_name("prod_sales-data")
        'prod_sales-data'
    """
    example = "an example of a valid name is 'prod-sales-data'"

    def fail(rule: str) -> InvalidValueError:
        return InvalidValueError("GCS bucket name", name, f"{rule}; {example}")

    if not isinstance(name, str) or not 3 <= len(name) <= 222:
        raise fail("a GCS bucket name is 3 to 63 characters long (222 with dots)")
    if not _GCS_CHARS.fullmatch(name):
        raise fail(
            "a GCS bucket name uses only lowercase letters, digits, hyphens, underscores and dots"
        )
    if not (name[0].isalnum() and name[-1].isalnum()):
        raise fail("a GCS bucket name starts and ends with a letter or digit")
    parts = name.split(".")
    if "." not in name and len(name) > 63:
        raise fail("a GCS bucket name without dots is at most 63 characters long")
    if any(not 1 <= len(part) <= 63 for part in parts):
        raise fail("each dot-separated part of a GCS bucket name is 1 to 63 characters long")
    if _is_ip_address(name):
        raise fail("a GCS bucket name must not look like an IP address")
    if name.startswith("goog"):
        raise fail("a GCS bucket name must not start with 'goog'")
    if "google" in name or "g00gle" in name:
        raise fail("a GCS bucket name must not contain 'google'")
    return name


def validate_azure_container_name(name: str) -> str:
    """Check an Azure Blob container name against Azure's naming rules.

    Example:
        >>> validate_azure_container_name("sales-data")
        'sales-data'
    """
    example = "an example of a valid name is 'sales-data'"

    def fail(rule: str) -> InvalidValueError:
        return InvalidValueError("Azure container name", name, f"{rule}; {example}")

    if name in ("$root", "$web", "$logs"):
        # Azure's special containers: the account root, static websites and analytics logs.
        return name
    if not isinstance(name, str) or not 3 <= len(name) <= 63:
        raise fail("an Azure container name is 3 to 63 characters long")
    if not re.fullmatch(r"[a-z0-9-]+", name):
        raise fail("an Azure container name uses only lowercase letters, digits and hyphens")
    if not _AZURE_CONTAINER.fullmatch(name):
        raise fail(
            "an Azure container name starts and ends with a letter or digit and has no "
            "consecutive hyphens"
        )
    return name


def validate_lambda_function_name(name: str) -> str:
    """Check an AWS Lambda function name (1-64 letters, digits, hyphens, underscores).

    Example:
        >>> validate_lambda_function_name("sales-etl_clean")
        'sales-etl_clean'
    """
    if not isinstance(name, str) or not _LAMBDA_NAME.fullmatch(name):
        raise InvalidValueError(
            "Lambda function name",
            name,
            "a Lambda function name is 1 to 64 letters, digits, hyphens or underscores; "
            "an example of a valid name is 'prod-sales-clean'",
        )
    return name


def validate_gcp_project_id(project: str) -> str:
    """Check a GCP project id (6-30 lowercase letters, digits, hyphens; starts with a letter).

    Example:
        >>> validate_gcp_project_id("acme-data-prod")
        'acme-data-prod'
    """
    if not isinstance(project, str) or not _GCP_PROJECT.fullmatch(project):
        raise InvalidValueError(
            "GCP project id",
            project,
            "a GCP project id is 6 to 30 lowercase letters, digits or hyphens, starts with a "
            "letter and does not end with a hyphen; an example is 'acme-data-prod'",
        )
    return project


def validate_azure_storage_account_name(name: str) -> str:
    """Check an Azure storage account name (3-24 lowercase letters and digits).

    Example:
        >>> validate_azure_storage_account_name("acmedataprod")
        'acmedataprod'
    """
    if not isinstance(name, str) or not _STORAGE_ACCOUNT.fullmatch(name):
        raise InvalidValueError(
            "Azure storage account name",
            name,
            "an Azure storage account name is 3 to 24 lowercase letters or digits (no hyphens); "
            "an example is 'acmedataprod'",
        )
    return name
