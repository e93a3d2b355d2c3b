"""An environment from variables alone: ``GLACIER_PROVIDER=aws`` and the cloud's own variables.

A CI job or a container often has no settings file, only variables::

    GLACIER_ENV=prod GLACIER_PROVIDER=aws AWS_REGION=ap-southeast-1 python job.py

``GLACIER_PROVIDER`` holds a provider kind (``local``, ``aws``, ``gcp``, ``azure``); the
provider's fields then come from the variables that cloud's tools read (``AWS_REGION``,
``AWS_PROFILE``, ``GOOGLE_CLOUD_PROJECT``, ``AZURE_LOCATION``, ... — see each config's
``from_env``). When the environment has a settings file, the file wins: a bare kind in
``GLACIER_PROVIDER`` is then ignored (a JSON object there still refines the file, as every
``GLACIER_*`` variable does).

Example:
    >>> provider_from_kind("local").kind
    'local'
    >>> try:
    ...     provider_from_kind("ibm")
    ... except ConfigError as exc:
    ...     print(str(exc).split(";")[0])
    GLACIER_PROVIDER='ibm' is not a provider kind
"""

from __future__ import annotations

import os
from typing import Any

from pydantic_settings import PydanticBaseSettingsSource

from glacier.errors import ConfigError
from glacier.settings.clouds import PROVIDER_KINDS, AwsConfig, AzureConfig, GcpConfig, LocalConfig

__all__ = ["PROVIDER_VARIABLE", "ProviderKindSource", "provider_from_kind", "provider_kind"]

#: The variable naming the provider kind of an environment without a settings file.
PROVIDER_VARIABLE = "GLACIER_PROVIDER"

_CONFIGS: dict[str, Any] = {
    "local": LocalConfig,
    "aws": AwsConfig,
    "gcp": GcpConfig,
    "azure": AzureConfig,
}


def provider_kind() -> str | None:
    """The bare provider kind ``GLACIER_PROVIDER`` holds (None: unset, or a JSON object)."""
    value = os.environ.get(PROVIDER_VARIABLE, "").strip()
    if not value or value.startswith("{"):
        return None
    return value.lower()


def provider_from_kind(kind: str) -> Any:
    """The provider config of ``kind``, its fields read from the cloud's own variables."""
    config = _CONFIGS.get(kind)
    if config is None:
        raise ConfigError(
            f"{PROVIDER_VARIABLE}={kind!r} is not a provider kind; use "
            f"{', '.join(PROVIDER_KINDS[:-1])} or {PROVIDER_KINDS[-1]} (its settings then come "
            "from the cloud's own variables, e.g. AWS_REGION)."
        )
    return config.from_env()


class ProviderKindSource(PydanticBaseSettingsSource):
    """The ``GLACIER_*`` variables, with a bare kind in ``GLACIER_PROVIDER`` understood.

    Wraps pydantic-settings' env source: with a settings file (``from_file``) the bare kind
    is dropped, so the file's ``[provider]`` wins; without one it becomes that kind's config
    read from the cloud's variables.
    """

    def __init__(self, env_source: PydanticBaseSettingsSource, *, from_file: bool) -> None:
        super().__init__(env_source.settings_cls)
        self._env = env_source
        self._from_file = from_file

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: values come from the wrapped source as a whole."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        data = dict(self._env())
        kind = provider_kind()
        if kind is None or not isinstance(data.get("provider"), str):
            return data
        data.pop("provider")
        # Read the cloud's variables only when nothing above (arguments) gives the provider:
        # a stray GLACIER_PROVIDER must not break Environment(Provider(...)) in code.
        if not self._from_file and "provider" not in self.current_state:
            data["provider"] = provider_from_kind(kind)
        return data
