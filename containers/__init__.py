"""The reference wiring of a data platform built with Glacier.

One settings file per environment (``dev.toml``, ``staging.toml``, ``prod.toml``,
``test.toml``); ``GLACIER_ENV`` selects one. :class:`Platform` composes Glacier's
environment container with the platform's own parts. A team copies this folder to start.
"""

from containers.platform import SETTINGS_DIR, Platform

__all__ = ["SETTINGS_DIR", "Platform"]
