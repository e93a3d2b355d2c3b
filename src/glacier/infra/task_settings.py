"""The settings a deployed task starts with, on every cloud: ``GLACIER_ENV`` and the baked
``GLACIER_SETTINGS`` of its environment (a deployed task has no settings file)."""

from __future__ import annotations

import json

from glacier import env_vars
from glacier.errors import ConfigError, InfraError
from glacier.infra.model import EnvSpec, TaskSpec
from glacier.settings.environment import SETTINGS_VARIABLE, GlacierSettings, bake_settings

__all__ = ["settings_variables"]


def settings_variables(env: EnvSpec, task: TaskSpec) -> dict[str, str]:
    """``GLACIER_ENV`` and ``GLACIER_SETTINGS`` of ``task``'s environment ``env``, when it was
    built from settings (an environment's file, or settings given in code); refused when the
    baked settings would not load without their file."""
    settings = getattr(env.source, "settings", None)
    if not isinstance(settings, GlacierSettings):
        return {}
    baked = bake_settings(settings, deployed=True)
    try:
        GlacierSettings.model_validate(json.loads(baked))
    except ConfigError as exc:
        raise InfraError(
            f"Task {task.name!r} ({task.location}): the settings of environment "
            f"{env.key!r} do not load without their file, so the deployed task could "
            f"not resolve them: {exc}. Keep what the environment needs in its settings file "
            "(containers/<env>.toml), not in variables of this machine."
        ) from exc
    return {env_vars.GLACIER_ENV: settings.env, SETTINGS_VARIABLE: baked}
