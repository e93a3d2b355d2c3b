"""Which RDS instance classes each engine runs on: a table, and the one check over it.

An instance class is ``db.<family>.<size>``. The families below are the current-generation
ones RDS offers for PostgreSQL, MySQL and MariaDB (from the "Supported DB engines for DB
instance classes" table of the Amazon RDS User Guide); burstable families stop at
``2xlarge``. Aurora-only and SQL Server/Oracle-only classes (``db.serverless``, ``db.x1``,
``db.z1d``, ...) are refused with the families that would work.

Example:
    >>> check_instance_class("postgres", "db.t3.medium")
    'db.t3.medium'
    >>> check_instance_class("postgres", "db.serverless")
    Traceback (most recent call last):
    ...
    ValueError: 'db.serverless' is not an RDS class for postgres: ...
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["BURSTABLE_SIZES", "ENGINE_FAMILIES", "SIZES", "check_instance_class"]

#: Sizes of the burstable (``t``) families.
BURSTABLE_SIZES = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
#: Sizes of the other families.
SIZES = (
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "32xlarge",
    "48xlarge",
)

_COMMON = (
    "t3",
    "t4g",
    "m5",
    "m5d",
    "m6g",
    "m6gd",
    "m6i",
    "m6id",
    "m7g",
    "m7i",
    "r5",
    "r5b",
    "r5d",
    "r6g",
    "r6gd",
    "r6i",
    "r6id",
    "r7g",
    "r7i",
)

#: Instance families per engine.
ENGINE_FAMILIES: Mapping[str, tuple[str, ...]] = {
    "postgres": (*_COMMON, "x2g"),
    "mysql": (*_COMMON, "x2g"),
    "mariadb": _COMMON,
}


def check_instance_class(engine: str, instance_class: str) -> str:
    """``instance_class`` if RDS runs ``engine`` on it, else a ValueError saying what does."""
    families = ENGINE_FAMILIES.get(engine, ())
    parts = instance_class.split(".")
    if len(parts) == 3 and parts[0] == "db" and parts[1] in families:
        sizes = BURSTABLE_SIZES if parts[1].startswith("t") else SIZES
        if parts[2] in sizes:
            return instance_class
        raise ValueError(
            f"{instance_class!r} is not an RDS class for {engine}: the {parts[1]} family comes "
            f"in {', '.join(sizes)} (e.g. 'db.{parts[1]}.{sizes[1]}')"
        )
    raise ValueError(
        f"{instance_class!r} is not an RDS class for {engine}: use db.<family>.<size> with a "
        f"family of {', '.join(families)} (e.g. 'db.t3.micro', 'db.m6i.large')"
    )
