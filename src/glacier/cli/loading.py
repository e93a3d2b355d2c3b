"""How a command finds its pipeline: the target imported afresh under the selected environment.

``--env`` and ``--settings-dir`` are set as ``GLACIER_ENV``/``GLACIER_SETTINGS_DIR`` *before*
the target is imported (:func:`selected_environment`), because a pipeline file usually builds
its environment at module level (``Environment.from_env()``); that is all ``--env`` does, so
``--env X`` and ``GLACIER_ENV=X`` are the same selection for every command.
:func:`load_pipeline` then imports the target as a new process would and gives a pipeline
that belongs to no environment the selected one (:func:`follow_selected_environment`), and
:func:`pipeline_environment` says which environment the loaded pipeline runs in.

The two styles of pipeline (annotation-style :class:`~glacier.pipeline.Pipeline`, data-flow
:class:`~glacier.flow.FlowPipeline`) differ for the commands in one place only:
:func:`is_dataflow`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from glacier import env_vars
from glacier.cli.app import raising_frame
from glacier.cli.console import relative
from glacier.errors import TargetImportError, UnknownEnvironmentError

if TYPE_CHECKING:
    # Only for the annotation (typing.TypeIs arrives with Python 3.13).
    from typing_extensions import TypeIs

    from glacier.environment import Environment
    from glacier.flow import FlowPipeline
    from glacier.targets import PipelineLike

# Raised at import, these keep their usual meaning: an Exception is the target's error (the
# command shows the line that raised it), Ctrl-C and sys.exit() stop the command. Any other
# BaseException (GeneratorExit, a class of the target's own) is reported as such.
_PASS_THROUGH = (Exception, KeyboardInterrupt, SystemExit)


def load_pipeline(target: str) -> PipelineLike:
    """The pipeline ``target`` names, imported afresh.

    File targets are imported under a cached module name; dropping the cached modules makes
    each command see the environment it selected, as a new process would.

    Raises:
        TargetImportError: The target's module raised a ``BaseException`` that is not an
            ``Exception`` while it was imported (an ``Exception`` propagates as it is, and
            the command reports it with the line that raised it).
    """
    from glacier.targets import load_target

    for module in [m for m in sys.modules if m.startswith("glacier_target_")]:
        del sys.modules[module]
    try:
        pipeline = load_target(target)
    except _PASS_THROUGH:
        raise
    except BaseException as exc:
        raise _import_error(target, exc) from exc
    follow_selected_environment(pipeline)
    return pipeline


def _import_error(target: str, exc: BaseException) -> TargetImportError:
    frame = raising_frame(exc)
    where = f"{relative(frame.filename)}:{frame.lineno}" if frame is not None else repr(target)
    # The bare name: a class defined in the target lives under a generated module name.
    kind = type(exc).__name__
    return TargetImportError(
        f"importing {target!r} stopped at {where} with {kind}: {exc}; {kind} derives from "
        f"BaseException, not Exception: fix the module so it imports, or derive {kind} from "
        "Exception"
    )


def is_dataflow(pipeline: PipelineLike) -> TypeIs[FlowPipeline]:
    """Whether ``pipeline`` is a data-flow pipeline (``@env.pipeline()``) rather than an
    annotation-style graph; the one place the commands tell the two styles apart."""
    from glacier.flow import FlowPipeline

    return isinstance(pipeline, FlowPipeline)


def pipeline_environment(pipeline: PipelineLike) -> Environment | None:
    """The environment the pipeline runs in (its own, or the local default)."""
    # Below the environment layer a pipeline's environment is a run context (typed Any); here,
    # above it, it is the Environment the commands describe.
    from glacier.runner import environment_of

    env = environment_of(pipeline)
    return cast("Environment | None", env)


def describe_environment(env: Environment) -> str:
    """``dev (local)``, ``prod (aws 999999999999 ca-central-1)``."""
    config = env.config
    kind = str(getattr(config, "kind", None) or "local")
    details = [kind]
    if env.account_id:
        details.append(str(env.account_id))
    if env.region:
        details.append(str(env.region))
    return f"{env.name} ({' '.join(details)})"


def nothing_to_deploy(command: str, target: str, pipeline: PipelineLike, env: Any) -> str:
    """What to do when ``command`` (plan, generate) has nothing to do: the pipeline's
    environment keeps its data on local files, which need no cloud resources. Names the
    environments of the settings directory, to pick one with a cloud provider."""
    from glacier.settings import GlacierSettings

    where = describe_environment(env) if env is not None else "local files"
    directory = Path(os.environ.get(env_vars.GLACIER_SETTINGS_DIR) or "containers")
    names = GlacierSettings.available(directory.expanduser().resolve())
    choice = f" (the settings directory has: {', '.join(names)})" if names else ""
    return (
        f"Nothing to {command}: pipeline {pipeline.name!r} runs in {where}, which needs no "
        f"cloud resources. Choose an environment with a cloud provider: glacier {command} "
        f"{target} --env NAME{choice}."
    )


@contextmanager
def selected_environment(env: str | None, settings_dir: Path | None) -> Iterator[None]:
    """Within the block, ``GLACIER_ENV`` (and ``GLACIER_SETTINGS_DIR``) select ``env``.

    Raises:
        UnknownEnvironmentError: ``env`` has no settings file; lists the known ones.
    """
    changes: dict[str, str] = {}
    if settings_dir is not None:
        changes[env_vars.GLACIER_SETTINGS_DIR] = str(settings_dir.expanduser().resolve())
    if env is not None:
        from glacier.settings import GlacierSettings
        from glacier.settings.variables import provider_kind

        directory = settings_dir or os.environ.get(env_vars.GLACIER_SETTINGS_DIR)
        # Without a file, GLACIER_PROVIDER builds the environment from variables alone.
        if env not in GlacierSettings.available(directory) and provider_kind() is None:
            try:
                GlacierSettings.load(env, directory)  # raises with the known environments
            except UnknownEnvironmentError as exc:
                # --env selects a settings file; a pipeline whose environments its code builds
                # (Provider(config=...).env(name=...)) is planned for its own without it.
                raise UnknownEnvironmentError(
                    f"{exc} --env selects a settings file: if the pipeline builds its "
                    "environments in its code (Provider(config=...).env(...)), leave out --env "
                    "and name the pipeline instead (FILE:attribute)."
                ) from None
        changes[env_vars.GLACIER_ENV] = env
    before = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def selected_environment_name() -> str | None:
    """The environment selected for this command: ``GLACIER_ENV``, which ``--env`` sets (so
    ``--env X`` and ``GLACIER_ENV=X`` are one selection); ``None`` when none is."""
    return os.environ.get(env_vars.GLACIER_ENV) or None


def follow_selected_environment(pipeline: PipelineLike) -> None:
    """Give a pipeline that belongs to no environment the selected one.

    A pipeline's environment is, in order: its own (``Pipeline(name, env=...)``,
    ``@env.pipeline()``), the one its resources belong to (a factory's ``Pipeline(name)``
    over ``env.storage.s3(...)``, see :meth:`~glacier.Pipeline.environment`), else the
    selected environment (``--env`` or ``GLACIER_ENV``), else local files. Decided from the
    objects the module built, never from its source text.
    """
    if is_dataflow(pipeline) or pipeline.env is not None:
        return
    if selected_environment_name() is None:
        return
    from glacier.environment import Environment
    from glacier.runner import environment_serving

    if environment_serving(pipeline) is None:
        pipeline.env = Environment.from_env()
