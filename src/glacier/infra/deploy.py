"""Deploying a pipeline's infrastructure with the Pulumi Automation API.

The Automation API drives the ``pulumi`` command-line program, so deploying needs it on the
PATH (``plan`` does not: it runs offline under the mock engine). State goes wherever Pulumi
is logged in (``pulumi login``, or ``PULUMI_BACKEND_URL``, e.g. an S3 bucket).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from glacier.errors import InfraError, PulumiNotInstalledError
from glacier.extras import require
from glacier.infra.project import generate

INSTALL_HINT = (
    "Install it with 'curl -fsSL https://get.pulumi.com | sh' (see "
    "https://www.pulumi.com/docs/install/), make sure 'pulumi' is on your PATH, and log in to "
    "a state backend ('pulumi login' or 'pulumi login s3://my-state-bucket'). To see what "
    "would be deployed without it, use glacier.infra.plan(pipeline) (offline)."
)


def require_pulumi() -> str:
    """The path of the ``pulumi`` program; :class:`PulumiNotInstalledError` if missing."""
    path = shutil.which("pulumi")
    if path is None:
        raise PulumiNotInstalledError(
            "Deploying needs the Pulumi CLI, and 'pulumi' is not on the PATH. " + INSTALL_HINT
        )
    require("pulumi.automation", "deploy", "Deploying")
    return path


def up(
    pipeline: Any,
    env: Any,
    *,
    output_dir: str | Path | None = None,
    environments: Sequence[Any] = (),
    preview: bool = False,
    on_output: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Deploy (or preview) environment ``env``'s share of ``pipeline``'s infrastructure.

    Writes the Pulumi project (to ``output_dir``, else a temporary directory), selects or
    creates the stack named after the environment, and runs ``pulumi up`` (``preview`` for
    a preview) through the Automation API.

    Returns:
        ``{"stack": name, "project_dir": path, "summary": {...}, "outputs": {...}}``.

    Raises:
        PulumiNotInstalledError: the ``pulumi`` program is not on the PATH.
    """
    require_pulumi()
    from pulumi import automation as auto

    name = env if isinstance(env, str) else str(env.name)
    envs = [e for e in (*environments, env) if not isinstance(e, str)]
    work = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix="glacier-infra-"))
    written = generate(pipeline, work, envs or None)
    if name not in written["stacks"]:
        raise InfraError(
            f"Pipeline {getattr(pipeline, 'name', pipeline)!r} has no infrastructure in "
            f"environment {name!r}; stacks written: {', '.join(written['stacks']) or 'none'}."
        )
    stack = auto.create_or_select_stack(stack_name=name, work_dir=str(work))
    if preview:
        result = stack.preview(on_output=on_output)
        return {
            "stack": name,
            "project_dir": str(work),
            "summary": dict(result.change_summary),
            "outputs": {},
        }
    done = stack.up(on_output=on_output)
    return {
        "stack": name,
        "project_dir": str(work),
        "summary": dict(done.summary.resource_changes or {}),
        "outputs": {k: v.value for k, v in done.outputs.items()},
    }
