"""settings/__init__.py: ``glacier.config`` is an alias of ``glacier.settings``, and importing
the settings loads no cloud SDK."""

from __future__ import annotations

import subprocess
import sys

import glacier.config
import glacier.settings
from glacier.settings import AwsConfig


def test_glacier_config_is_an_alias_of_glacier_settings() -> None:
    for name in glacier.settings.__all__:
        assert getattr(glacier.config, name) is getattr(glacier.settings, name)
    assert glacier.config.AwsConfig is AwsConfig


def test_importing_settings_does_not_import_cloud_sdks() -> None:
    code = (
        "import sys, glacier.settings\n"
        "heavy = [m for m in ('boto3', 'botocore', 'pulumi', 's3fs', 'gcsfs', 'adlfs') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
