"""settings/names.py: the validators of names clouds put limits on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from glacier.errors import ConfigError
from glacier.settings import (
    InvalidValueError,
    validate_azure_container_name,
    validate_azure_storage_account_name,
    validate_gcp_project_id,
    validate_gcs_bucket_name,
    validate_lambda_function_name,
    validate_s3_bucket_name,
)

_NAME_CASES: list[tuple[Callable[[str], str], list[str], list[tuple[str, str]]]] = [
    (
        validate_s3_bucket_name,
        ["acme-raw", "acme.raw.v2", "a1b"],
        [
            ("ab", "3 to 63"),
            ("a" * 64, "3 to 63"),
            ("Acme_Raw", "lowercase letters, digits, dots and hyphens"),
            ("-acme", "starts and ends"),
            ("acme-", "starts and ends"),
            ("acme..raw", "adjacent dots"),
            ("192.168.5.4", "IP address"),
            ("xn--acme", "'xn--'"),
            ("acme-s3alias", "'-s3alias'"),
        ],
    ),
    (
        validate_gcs_bucket_name,
        ["acme_raw", "acme-raw", "acme.example.com"],
        [
            ("ab", "3 to 63"),
            ("Acme", "lowercase"),
            ("goog-data", "'goog'"),
            ("my-google-data", "'google'"),
            ("_acme", "starts and ends"),
        ],
    ),
    (
        validate_azure_container_name,
        ["acme-raw", "abc", "$web"],
        [
            ("ab", "3 to 63"),
            ("acme_raw", "lowercase letters, digits and hyphens"),
            ("acme--raw", "consecutive hyphens"),
            ("-acme", "starts and ends"),
        ],
    ),
    (
        validate_lambda_function_name,
        ["sales-etl_clean", "a"],
        [("", "1 to 64"), ("a" * 65, "1 to 64"), ("sales etl", "1 to 64")],
    ),
    (validate_gcp_project_id, ["acme-data"], [("acme", "6 to 30")]),
    (validate_azure_storage_account_name, ["acmedata"], [("acme-data", "3 to 24")]),
]


@pytest.mark.parametrize(("validate", "valid", "invalid"), _NAME_CASES, ids=lambda v: "")
def test_name_validators(
    validate: Callable[[str], str], valid: list[str], invalid: list[tuple[str, str]]
) -> None:
    for name in valid:
        assert validate(name) == name
    for name, rule in invalid:
        with pytest.raises(InvalidValueError) as caught:
            validate(name)
        message = str(caught.value)
        assert repr(name) in message and rule in message, message
        assert "e.g." in message or "example" in message, message
        assert isinstance(caught.value, ConfigError)
