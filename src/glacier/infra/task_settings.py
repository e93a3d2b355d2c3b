"""The settings a deployed task starts with, on every cloud: ``GLACIER_ENV``, the baked
``GLACIER_SETTINGS`` of its environment (a deployed task has no settings file), validated
here once, and their digest ``GLACIER_SETTINGS_DIGEST``, which lets the task build them at
start without validating them again (:mod:`glacier.settings.baked`)."""

from __future__ import annotations

import json

from glacier import env_vars
from glacier.errors import ConfigError, InfraError
from glacier.infra.model import EnvSpec, TaskSpec
from glacier.settings.baked import DIGEST_VARIABLE, Unconstructible, construct, settings_digest
from glacier.settings.environment import SETTINGS_VARIABLE, GlacierSettings, bake_settings

__all__ = ["baked_variables", "settings_variables"]


def settings_variables(env: EnvSpec, task: TaskSpec) -> dict[str, str]:
    """``GLACIER_ENV``, ``GLACIER_SETTINGS`` and ``GLACIER_SETTINGS_DIGEST`` of ``task``'s
    environment ``env``, when it was built from settings (an environment's file, or settings
    given in code); refused when the baked settings would not load without their file."""
    settings = getattr(env.source, "settings", None)
    if not isinstance(settings, GlacierSettings):
        return {}
    try:
        return baked_variables(settings)
    except ConfigError as exc:
        raise InfraError(
            f"Task {task.name!r} ({task.location}): the settings of environment "
            f"{env.key!r} do not load without their file, so the deployed task could "
            f"not resolve them: {exc}. Keep what the environment needs in its settings file "
            "(containers/<env>.toml), not in variables of this machine."
        ) from exc


def baked_variables(settings: GlacierSettings) -> dict[str, str]:
    """The variables a deployed task finds ``settings`` in: ``GLACIER_ENV``, the baked
    ``GLACIER_SETTINGS`` validated here as the task would read them, and their digest
    ``GLACIER_SETTINGS_DIGEST`` when the task, building them without validation, gets
    exactly what validation gives (else it validates them at start).

    Raises:
        ConfigError: The baked settings do not load without their file.
    """
    baked = bake_settings(settings, deployed=True)
    validated = GlacierSettings.model_validate(json.loads(baked))
    variables = {env_vars.GLACIER_ENV: settings.env, SETTINGS_VARIABLE: baked}
    if _constructs_as_validated(baked, validated):
        variables[DIGEST_VARIABLE] = settings_digest(baked)
    return variables


def _constructs_as_validated(baked: str, validated: GlacierSettings) -> bool:
    try:
        return construct(GlacierSettings, json.loads(baked)) == validated
    except Unconstructible:
        return False
