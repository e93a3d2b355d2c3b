"""The platform container: settings chosen by ``GLACIER_ENV``, Glacier's environment, and
the named zones of the medallion architecture (bronze, silver, gold).

Shaped like dependency-injector's application example: the container says what exists and how
it is built; code asks for what it needs (``Provide[Platform.bronze_orders]``)::

    platform = Platform()                      # GLACIER_ENV=dev unless set
    platform.config.env.from_value("prod")     # or choose explicitly
    env = platform.environment()
"""

from __future__ import annotations

from pathlib import Path

from dependency_injector import containers, providers

from glacier import Environment
from glacier.settings import GlacierSettings

SETTINGS_DIR = Path(__file__).resolve().parent


def _load(env: str | None) -> GlacierSettings:
    return GlacierSettings.load(env=env or None, settings_dir=SETTINGS_DIR)


def _resource(environment: Environment, name: str) -> object:
    return environment.get(name)


class Platform(containers.DeclarativeContainer):
    """Everything a pipeline of this platform may ask for."""

    config = providers.Configuration()

    settings = providers.Singleton(_load, env=config.env)
    environment = providers.Singleton(Environment.from_settings, settings)

    # The medallion zones, as declared under [buckets.*] in each environment's file.
    bronze_orders = providers.Callable(_resource, environment, "bronze_orders")
    silver_orders = providers.Callable(_resource, environment, "silver_orders")
    gold_daily_revenue = providers.Callable(_resource, environment, "gold_daily_revenue")
    gold_customers = providers.Callable(_resource, environment, "gold_customers")
