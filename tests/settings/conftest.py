"""Shared by the settings tests: no cloud variable of the machine, the ``config_error`` check,
and a project whose settings files describe dev, test, staging and prod."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pydantic
import pytest

from conftest import clear_cloud_variables
from glacier.errors import ConfigError


@pytest.fixture(autouse=True, scope="package")
def without_cloud_variables() -> Iterator[None]:
    """No cloud or Glacier variable from the machine running the tests leaks into them.

    Cleared once for the whole package, not around every test: each change of the process's
    environment races native threads of earlier tests (polars, gRPC) that may read it.
    """
    with pytest.MonkeyPatch.context() as patch:
        clear_cloud_variables(patch)
        yield


def config_error(
    build: Callable[[], object], *fragments: str, kind: type[ConfigError] = ConfigError
) -> str:
    """Run ``build``, expect ``kind``, check each fragment is in the message, return it."""
    with pytest.raises(kind) as caught:
        build()
    message = str(caught.value)
    assert not isinstance(caught.value, pydantic.ValidationError)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    return message


_ENVIRONMENTS = {
    "dev": """
        [provider]
        kind = "local"
        base_path = "data"

        [executor]
        max_workers = 2
    """,
    "test": """
        state_dir = "build/state"

        [provider]
        kind = "local"
        base_path = "/tmp/glacier-test-data"
        create_dirs = false
    """,
    "staging": """
        naming_prefix = "acme-stg"
        tags = { environment = "staging" }

        [provider]
        kind = "gcp"
        project_id = "acme-data-staging"
        region = "europe-west1"

        [buckets.raw]
        bucket_name = "acme-stg-raw"
        gcs = { storage_class = "NEARLINE" }
    """,
    "prod": """
        name = "production"
        naming_prefix = "acme-prod"
        tags = { environment = "production", team = "data" }

        [provider]
        kind = "aws"
        region = "us-east-1"
        profile = "prod"
        account_id = "999999999999"

        [executor]
        kind = "dask"
        max_workers = 4

        [task]
        retries = 3
        timeout = 600

        [buckets.raw]
        bucket_name = "acme-prod-raw"
        path = "sales/"
        partition_by = ["day"]
        s3 = { storage_class = "INTELLIGENT_TIERING", lifecycle_rules = [
            { days = 30, transition = "GLACIER" },
            { days = 365, expiration = true },
        ] }
    """,
}


def write_settings(directory: Path, env: str, text: str) -> Path:
    """Write ``<directory>/<env>.toml`` from ``text``, its lines stripped of indentation."""
    path = directory / f"{env}.toml"
    path.write_text("\n".join(line.strip() for line in text.splitlines()) + "\n")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root whose ``containers/`` holds dev, test, staging and prod settings."""
    settings_dir = tmp_path / "containers"
    settings_dir.mkdir()
    for env, text in _ENVIRONMENTS.items():
        write_settings(settings_dir, env, text)
    return tmp_path
