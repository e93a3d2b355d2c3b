"""How a command finds its pipeline: the target imported afresh under the selected environment.

``--env`` and ``--settings-dir`` are set as ``GLACIER_ENV``/``GLACIER_SETTINGS_DIR`` *before*
the target is imported (:func:`selected_environment`), because a pipeline file usually builds
its environment at module level (``Environment.from_env()``). :func:`load_pipeline` then
imports the target as a new process would, and :func:`pipeline_environment` says which
environment the loaded pipeline runs in.

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
from typing import TYPE_CHECKING, cast

from glacier.cli.app import raising_frame
from glacier.cli.console import relative
from glacier.errors import TargetImportError

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
        return load_target(target)
    except _PASS_THROUGH:
        raise
    except BaseException as exc:
        raise _import_error(target, exc) from exc


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
    env = pipeline.env if is_dataflow(pipeline) else pipeline.environment()
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


@contextmanager
def selected_environment(env: str | None, settings_dir: Path | None) -> Iterator[None]:
    """Within the block, ``GLACIER_ENV`` (and ``GLACIER_SETTINGS_DIR``) select ``env``.

    Raises:
        UnknownEnvironmentError: ``env`` has no settings file; lists the known ones.
    """
    changes: dict[str, str] = {}
    if settings_dir is not None:
        changes["GLACIER_SETTINGS_DIR"] = str(settings_dir.expanduser().resolve())
    if env is not None:
        from glacier.settings import GlacierSettings
        from glacier.settings.variables import provider_kind

        directory = settings_dir or os.environ.get("GLACIER_SETTINGS_DIR")
        # Without a file, GLACIER_PROVIDER builds the environment from variables alone.
        if env not in GlacierSettings.available(directory) and provider_kind() is None:
            GlacierSettings.load(env, directory)  # raises with the known environments
        changes["GLACIER_ENV"] = env
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


def bind_selected_environment(pipeline: PipelineLike, env: str | None) -> None:
    """Make ``--env`` take effect on a pipeline built without an environment, or refuse it.

    A pipeline whose module calls ``Environment.from_env()`` (say, only under
    ``if __name__ == "__main__"``) is meant to follow ``GLACIER_ENV``: it gets the selected
    environment. Any other would silently run against local files while the header names
    ``--env``'s environment, so the command stops and says how to make it environment-aware.
    """
    if env is None or is_dataflow(pipeline) or pipeline.env is not None:
        return
    from glacier.environment import Environment
    from glacier.errors import UnboundEnvironmentError

    files = {getattr(t.fn, "__globals__", {}).get("__file__") for t in pipeline.dag.tasks} - {None}
    for file in files:
        try:
            source = Path(str(file)).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "from_env(" in source:
            pipeline.env = Environment.from_env()
            return
    raise UnboundEnvironmentError(
        f"--env {env} was given, but pipeline {pipeline.name!r} is built without an "
        "environment, so it would run against local files regardless. Make it "
        "environment-aware: Pipeline("
        f"{pipeline.name!r}, env=Environment.from_env()) follows --env/GLACIER_ENV; or run "
        "without --env."
    )
