"""Compatibility names from Glacier's early design notes: ``from glacier_aws import ...``.

Everything lives in :mod:`glacier`. ``Environment`` is seed 002's spelling of an
:class:`~glacier.environment.AWSEnvironment`::

    from glacier_aws import Environment

    aws_prod = Environment(account="123456789012", region="us-east-1", name="prod")
    prod_bucket = aws_prod.s3(bucket="prod-data")   # env.storage.s3(bucket="prod-data")
"""

from __future__ import annotations

from typing import Any

from glacier.environment import AWSEnvironment
from glacier.errors import ConfigError


class Environment(AWSEnvironment):
    """Seed 002's ``Environment(account=..., region=..., name=...)``: an
    :class:`~glacier.environment.AWSEnvironment` whose ``account`` is its ``account_id`` and
    whose ``name`` is its ``environment`` (either spelling is accepted, not both)."""

    def __init__(
        self,
        account: str | None = None,
        region: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        for seed, current, value in (
            ("account", "account_id", account),
            ("name", "environment", name),
        ):
            if value is not None and kwargs.get(current) not in (None, value):
                raise ConfigError(
                    f"Environment got {seed}={value!r} and {current}={kwargs[current]!r}; "
                    f"give one ({seed}= is the seed's spelling of {current}=)."
                )
            if value is not None:
                kwargs[current] = value
        super().__init__(region=region, **kwargs)

    def s3(self, bucket: str, path: str = "", **settings: Any) -> Any:
        """Seed 002's ``aws_prod.s3(bucket=...)``: ``env.storage.s3(bucket, path, ...)``."""
        return self.storage.s3(bucket, path, **settings)


__all__ = ["AWSEnvironment", "Environment"]
