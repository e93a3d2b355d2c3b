"""``GlacierSettings``: one environment's settings, from its file and ``GLACIER_*`` env vars.

An environment is a TOML file in the settings directory (``./containers`` unless
``GLACIER_SETTINGS_DIR`` says otherwise); ``GLACIER_ENV`` picks which one::

    containers/
        dev.toml        # GLACIER_ENV=dev (the default)
        staging.toml
        prod.toml

Precedence, highest first: arguments to :meth:`GlacierSettings.load`, ``GLACIER_*`` env vars
(nested fields with ``__``: ``GLACIER_EXECUTOR__MAX_WORKERS=8``), the file, the defaults.

A deployed task has no settings directory: the generated infrastructure bakes the
environment's settings into the variable ``GLACIER_SETTINGS`` (JSON, see :func:`bake_settings`),
which :meth:`GlacierSettings.load` prefers to a file when it names the environment asked for.

Relative paths written in a settings file (``provider.base_path`` of a local provider and
``state_dir``) are relative to the project root, the settings directory's parent, so
``base_path = "data"`` in ``containers/dev.toml`` means ``<project>/data`` wherever the
command runs from; without ``state_dir``, an environment loaded from a file keeps its runs
and cache in ``<project>/.glacier``. Relative paths from env vars or arguments stay relative
to the current directory.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from pydantic import PrivateAttr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from glacier import env_vars
from glacier.errors import ConfigError, UnknownEnvironmentError
from glacier.settings.base import (
    InvalidValueError,
    config_errors,
    freeze,
    refuse_credentials,
    refuse_unknown,
)
from glacier.settings.checks import CheckSettings
from glacier.settings.clouds import PROVIDER_KINDS, LocalConfig, ProviderConfig
from glacier.settings.database_connection import DatabaseConnection
from glacier.settings.databases import DatabaseSettings, VolumeSettings
from glacier.settings.execution import ExecutorSettings, TaskConfig
from glacier.settings.lineage import LineageSettings
from glacier.settings.names import (
    validate_azure_container_name,
    validate_gcs_bucket_name,
    validate_s3_bucket_name,
)
from glacier.settings.network import Network
from glacier.settings.secrets import SecretSource, check_secrets_section
from glacier.settings.storage import BucketSettings
from glacier.settings.tags import Tags
from glacier.settings.variables import ProviderKindSource

__all__ = ["SETTINGS_VARIABLE", "GlacierSettings", "bake_settings"]

#: The variable a deployed task (or a generated Pulumi program) finds its settings in.
SETTINGS_VARIABLE = env_vars.GLACIER_SETTINGS
#: Provider fields that belong to the deploying side: a deployed task uses its role.
_DEPLOYER_ONLY = ("profile", "role_arn")

_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_NAMING_PREFIX = re.compile(r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?")
_ENV_PREFIX = "GLACIER_"

# Per cloud: the bucket name rule, and which bucket config section belongs to that cloud.
_BUCKET_RULES = {
    "aws": (validate_s3_bucket_name, "s3"),
    "gcp": (validate_gcs_bucket_name, "gcs"),
    "azure": (validate_azure_container_name, "blob"),
}


@dataclass(frozen=True)
class _Loading:
    env: str
    path: Path


# Set by ``load()`` while it builds the settings: ``settings_customise_sources`` is a
# classmethod pydantic-settings calls with no way to pass the file, and error messages need it.
_LOADING: ContextVar[_Loading | None] = ContextVar("glacier_settings_loading", default=None)


def _project_path(value: Any, root: Path) -> Any:
    if not isinstance(value, str | Path):
        return value
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


class _SettingsFileSource(TomlConfigSettingsSource):
    """An environment's TOML file, with its relative paths made relative to the project."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls, toml_file=path)
        self._root = path.resolve().parent.parent

    def __call__(self) -> dict[str, Any]:
        data = dict(super().__call__())
        # Runs and the cache belong to the project, not to wherever the command was started:
        # without a state_dir, the file's environment keeps its state beside the settings.
        data["state_dir"] = _project_path(data.get("state_dir", ".glacier"), self._root)
        provider = data.get("provider")
        if (
            isinstance(provider, Mapping)
            and provider.get("kind") == "local"
            and "base_path" in provider
        ):
            base_path = _project_path(provider["base_path"], self._root)
            data["provider"] = {**provider, "base_path": base_path}
        return data


def _settings_dir(settings_dir: str | Path | None) -> Path:
    if settings_dir is None:
        settings_dir = os.environ.get(env_vars.GLACIER_SETTINGS_DIR) or Path.cwd() / "containers"
    return Path(settings_dir).expanduser().resolve()


def _hide_provider_kind(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # pydantic puts the chosen union member in the path (provider.aws.region); the user
    # wrote provider.region.
    if len(loc) > 1 and loc[0] == "provider" and loc[1] in PROVIDER_KINDS:
        return loc[:1] + loc[2:]
    return loc


def _env_var_note(loc: tuple[int | str, ...]) -> str | None:
    """Which ``GLACIER_*`` env var set the value at ``loc``, if one did."""
    names = {name.upper() for name in os.environ}
    parts = [str(p).upper() for p in _hide_provider_kind(loc)]
    for end in range(len(parts), 0, -1):
        name = _ENV_PREFIX + "__".join(parts[:end])
        if name in names:
            return f"set by env var {name}"
    return None


class GlacierSettings(BaseSettings):
    """One environment's settings: its cloud, executor, task defaults, buckets, network, tags.

    ``GlacierSettings.load()`` reads ``containers/$GLACIER_ENV.toml`` and the ``GLACIER_*``
    env vars; ``GlacierSettings(...)`` reads the env vars only.

    Example:
        A ``containers/prod.toml``::

            naming_prefix = "acme-prod"
            tags = { team = "data" }

            [provider]
            kind = "aws"
            region = "eu-west-1"
            profile = "prod"

            [executor]
            max_workers = 8

            [network]
            vpc_id = "vpc-0a1b2c3d"
            subnet_ids = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
            security_group_ids = ["sg-0a1b2c3d"]

            [buckets.raw]
            bucket_name = "acme-prod-raw"
            s3 = { versioning = true }

            [databases.warehouse]
            host = "warehouse.internal"
            dbname = "analytics"
            user = "pipeline"
            password_env = "WAREHOUSE_PASSWORD"

        and in code::

            settings = GlacierSettings.load()              # GLACIER_ENV=prod
            settings.provider.region                       # 'eu-west-1'
            GlacierSettings.load("dev", executor={"max_workers": 2})
    """

    model_config = SettingsConfigDict(
        env_prefix=_ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    env: str = "dev"
    name: str | None = None
    naming_prefix: str | None = None
    tags: Tags = {}
    provider: ProviderConfig = LocalConfig()
    executor: ExecutorSettings = ExecutorSettings()
    task: TaskConfig = TaskConfig()
    buckets: dict[str, BucketSettings] = {}
    network: Network = Network()
    databases: dict[str, DatabaseSettings] = {}
    volumes: dict[str, VolumeSettings] = {}
    secrets: dict[str, SecretSource] = {}
    lineage: LineageSettings = LineageSettings()
    checks: CheckSettings = CheckSettings()
    state_dir: Path = Path(".glacier")
    #: The file these settings were loaded from (None: built in code, or baked).
    _file: Path | None = PrivateAttr(default=None)

    def __init__(self, /, **values: Any) -> None:
        loading = _LOADING.get()
        title = (
            f"GlacierSettings for environment {loading.env!r} ({loading.path})"
            if loading is not None
            else "GlacierSettings"
        )
        try:
            with config_errors(title, note=_env_var_note, drop=_hide_provider_kind):
                super().__init__(**values)
            if loading is not None:
                private = self.__pydantic_private__
                if private is not None:  # set by pydantic for a model with private attributes
                    private["_file"] = loading.path
        except SettingsError as exc:
            raise ConfigError(
                f"{title}: {exc}. Env vars for structured settings hold JSON "
                f'(GLACIER_TAGS=\'{{"team": "data"}}\') or name one nested field '
                f"(GLACIER_PROVIDER__KIND=aws)."
            ) from exc

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then ``GLACIER_*`` env vars, then the environment's file (in ``load``)."""
        loading = _LOADING.get()
        variables = ProviderKindSource(env_settings, from_file=loading is not None)
        if loading is None:
            return (init_settings, variables)
        return (init_settings, variables, _SettingsFileSource(settings_cls, loading.path))

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate a dict of settings (no env vars, no file), raising :class:`ConfigError`."""
        with config_errors(cls.__name__, drop=_hide_provider_kind):
            return super().model_validate(obj, *args, **kwargs)

    @classmethod
    def load(
        cls,
        env: str | None = None,
        settings_dir: str | Path | None = None,
        **overrides: Any,
    ) -> GlacierSettings:
        """Load environment ``env`` from ``<settings_dir>/<env>.toml`` plus ``GLACIER_*`` vars.

        Args:
            env: The environment; ``GLACIER_ENV`` or ``"dev"`` when omitted.
            settings_dir: Where the files are; ``GLACIER_SETTINGS_DIR`` or ``./containers``.
            **overrides: Settings that win over env vars and the file.

        Raises:
            UnknownEnvironmentError: There is no file for ``env``; lists the ones there are.
            ConfigError: The file is not valid TOML or holds an invalid setting.

        Example:
            >>> GlacierSettings.load("nope", settings_dir="/nonexistent")
            Traceback (most recent call last):
            ...
            glacier.errors.UnknownEnvironmentError: No settings file for environment 'nope': ...
        """
        env = env or os.environ.get(env_vars.GLACIER_ENV) or "dev"
        baked = _baked_settings(env)
        if baked is not None:
            return cls(**{**baked, **overrides})
        directory = _settings_dir(settings_dir)
        if not _ENV_NAME.fullmatch(env):
            raise ConfigError(
                f"GLACIER_ENV={env!r} is invalid: an environment name is letters, digits, "
                f"'.', '_' or '-' and names a file <name>.toml in {directory}; set it to "
                "such a name (e.g. dev)."
            )
        path = directory / f"{env}.toml"
        if not path.is_file():
            raise UnknownEnvironmentError(_missing_environment(env, directory))
        token = _LOADING.set(_Loading(env, path))
        try:
            return cls(env=env, **overrides)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"Settings file {path} is not valid TOML: {exc}; fix that line (see "
                "https://toml.io for the syntax)."
            ) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"Settings file {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                f"offset {exc.start}); save it as UTF-8, as TOML requires."
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"Settings file {path} cannot be read ({exc.strerror or exc}); check that it is "
                "a readable file."
            ) from None
        finally:
            _LOADING.reset(token)

    @classmethod
    def available(cls, settings_dir: str | Path | None = None) -> list[str]:
        """The environments that have a settings file, sorted.

        Example:
            >>> GlacierSettings.available("/nonexistent")
            []
        """
        directory = _settings_dir(settings_dir)
        if not directory.is_dir():
            return []
        return sorted(path.stem for path in directory.glob("*.toml") if path.is_file())

    @property
    def resolved_naming_prefix(self) -> str:
        """The prefix for physical resource names: ``naming_prefix``, else the env name."""
        return self.naming_prefix or self.env

    @model_validator(mode="before")
    @classmethod
    def _check_input(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        refuse_credentials(data.keys(), None)
        refuse_unknown(data.keys(), sorted(cls.model_fields))
        data = dict(data)
        provider = data.get("provider")
        if isinstance(provider, Mapping) and "kind" not in provider:
            kinds = ", ".join(map(repr, PROVIDER_KINDS))
            raise ConfigError(f"provider needs a kind: add kind = one of {kinds}.")
        if data.get("name") is None:
            data["name"] = data.get("env", cls.model_fields["env"].default)
        return data

    @field_validator("env")
    @classmethod
    def _env(cls, value: str) -> str:
        if not _ENV_NAME.fullmatch(value):
            raise ValueError("an environment name is letters, digits, '.', '_' or '-'")
        return value

    @field_validator("databases", mode="before")
    @classmethod
    def _connections_are_databases(cls, value: Any) -> Any:
        # A DatabaseConnection made in code is a database reached as an existing server.
        if isinstance(value, dict):
            return {
                key: DatabaseSettings.model_validate(db.model_dump(exclude_unset=True))
                if isinstance(db, DatabaseConnection) and not isinstance(db, DatabaseSettings)
                else db
                for key, db in value.items()
            }
        return value

    @field_validator("secrets", mode="before")
    @classmethod
    def _secrets_name_stores(cls, value: Any) -> Any:
        return check_secrets_section(value)

    @property
    def settings_file(self) -> Path | None:
        """The file these settings were loaded from; None when built in code or baked."""
        return self._file

    @field_validator("naming_prefix")
    @classmethod
    def _naming_prefix(cls, value: str | None) -> str | None:
        if value is not None and not _NAMING_PREFIX.fullmatch(value):
            raise ValueError(
                "a naming prefix is 1 to 32 lowercase letters, digits or hyphens, starting and "
                "ending with a letter or digit, because it starts bucket and function names "
                "(e.g. 'acme-prod')"
            )
        return value

    @model_validator(mode="after")
    def _buckets_fit_the_cloud(self) -> Self:
        rule = _BUCKET_RULES.get(self.provider.kind)
        if rule is None:
            return self
        check_name, section = rule
        for key, bucket in self.buckets.items():
            try:
                check_name(bucket.bucket_name)
            except InvalidValueError as exc:
                raise ConfigError(
                    f"buckets.{key}.bucket_name={bucket.bucket_name!r} is invalid: {exc.rule}."
                ) from None
            for other in ("s3", "gcs", "blob"):
                if other != section and getattr(bucket, other) is not None:
                    raise ConfigError(
                        f"buckets.{key}.{other} is set but the provider is "
                        f"{self.provider.kind!r}; use buckets.{key}.{section} instead."
                    )
        return self

    @model_validator(mode="after")
    def _databases_fit_the_cloud(self) -> Self:
        # What each cloud's plan creates; a local environment keeps (and ignores) them all.
        made_by: dict[str, tuple[str, ...]] = {
            "aws": ("rds", "dynamodb"),
            "gcp": (),
            "azure": ("azure_postgres",),
        }
        allowed = made_by.get(self.provider.kind, ("rds", "dynamodb", "azure_postgres"))
        for key, db in self.databases.items():
            for field in ("rds", "dynamodb", "azure_postgres"):
                if getattr(db, field) is not None and field not in allowed:
                    fix = f"use databases.{key}.{allowed[0]}" if allowed else "remove it"
                    raise ConfigError(
                        f"databases.{key}.{field} is set but the provider is "
                        f"{self.provider.kind!r}, which creates no such database; {fix}, or "
                        "name an existing server (url or host) instead."
                    )
        return self

    @model_validator(mode="after")
    def _password_secrets_declared(self) -> Self:
        for key, db in self.databases.items():
            if db.password_secret is not None and db.password_secret not in self.secrets:
                declared = ", ".join(sorted(self.secrets)) or "none"
                raise ConfigError(
                    f"databases.{key}.password_secret={db.password_secret!r} names no entry "
                    f"of [secrets] (declared: {declared}); add {db.password_secret} = "
                    f'{{ aws = "/{self.env}/..." }} to [secrets].'
                )
        return self

    def __hash__(self) -> int:
        return hash((type(self), freeze(self.__dict__)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise ConfigError(
            f"GlacierSettings are frozen: cannot set {name!r}; build new settings with "
            f"GlacierSettings.load(..., {name}=...)."
        )


def bake_settings(settings: GlacierSettings, *, deployed: bool) -> str:
    """``settings`` as the JSON of :data:`SETTINGS_VARIABLE`: what was set (in the file, by
    ``GLACIER_*`` variables or in code), never credentials (settings refuse those).

    ``deployed`` drops the provider's ``profile`` and ``role_arn`` (how the deploying side
    reaches the account; a deployed task runs with its own role's credentials). ``state_dir``
    is never baked: it is a path on the generating machine (made absolute when the settings
    file was read), meaningless on another, and the infrastructure needs no run records.

    Example:
        >>> from glacier.settings import AwsConfig
        >>> s = GlacierSettings(env="prod", provider=AwsConfig(region="eu-west-1", profile="p"))
        >>> bake_settings(s, deployed=True)
        '{"env":"prod","name":"prod","provider":{"kind":"aws","region":"eu-west-1"}}'
    """
    data = settings.model_dump(mode="json", exclude_unset=True)
    provider = dict(data.get("provider") or {})
    provider["kind"] = settings.provider.kind
    if deployed:
        for key in _DEPLOYER_ONLY:
            provider.pop(key, None)
    data.pop("state_dir", None)  # a path on the generating machine
    data["provider"] = provider
    return json.dumps(data, separators=(",", ":"))


def _baked_settings(env: str) -> dict[str, Any] | None:
    raw = os.environ.get(SETTINGS_VARIABLE)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(
            f"{SETTINGS_VARIABLE} holds no valid JSON ({exc}); it is written by Glacier's "
            "generated infrastructure. Regenerate and redeploy, or unset it."
        ) from exc
    if not isinstance(data, dict) or data.get("env") != env:
        return None  # another environment's: this one comes from its file
    return data


def _missing_environment(env: str, directory: Path) -> str:
    if not directory.is_dir():
        return (
            f"No settings file for environment {env!r}: the settings directory {directory} "
            f"does not exist. Set GLACIER_SETTINGS_DIR or pass settings_dir=."
        )
    known = GlacierSettings.available(directory)
    found = ", ".join(known) if known else "none"
    return (
        f"No settings file for environment {env!r}: {directory / (env + '.toml')} does not "
        f"exist. Environments in {directory}: {found}. Set GLACIER_ENV to one of them or "
        f"create {env}.toml."
    )
