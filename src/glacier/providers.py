"""The seeds' per-cloud provider classes, refused with the current spelling.

Seed 001 wrote ``AWSProvider(config=AwsConfig(...))``; Glacier has one :class:`~glacier.Provider`
whose behaviour comes from its config (docs/seeds.md):

>>> try:
...     from glacier.providers import AWSProvider
... except ImportError as exc:
...     print(str(exc).split(":")[0])
glacier.providers.AWSProvider is Provider(config=AwsConfig(...)) now
"""

from __future__ import annotations

from typing import NoReturn

from glacier.errors import RenamedError

_CONFIGS = {
    "AWSProvider": "AwsConfig",
    "GCPProvider": "GcpConfig",
    "AzureProvider": "AzureConfig",
    "LocalProvider": "LocalConfig",
}


def __getattr__(name: str) -> NoReturn:
    config = _CONFIGS.get(name)
    if config is None:
        raise AttributeError(f"module 'glacier.providers' has no attribute {name!r}")
    raise RenamedError(
        f"glacier.providers.{name} is Provider(config={config}(...)) now: from glacier import "
        f"Provider; from glacier.config import {config}."
    )
