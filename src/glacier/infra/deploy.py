"""Deploying a pipeline's infrastructure with the Pulumi Automation API.

The Automation API drives the ``pulumi`` command-line program, so deploying needs it on the
PATH (``plan`` does not: it runs offline under the mock engine). State goes wherever Pulumi
is logged in (``pulumi login``, or ``PULUMI_BACKEND_URL``, e.g. an S3 bucket).

A stack whose Lambda functions run container images is deployed in two steps: its image
repository first, then the images are built and pushed (:mod:`glacier.infra.image_push`),
then the whole stack.
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
    images = [i for i in written.get("images", []) if i["environment"] == name]
    if images and not preview:
        prepare_images(stack, str(written["project"]), name, images, on_output)
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


def prepare_images(
    stack: Any,
    project: str,
    name: str,
    images: Sequence[dict[str, Any]],
    on_output: Callable[[str], Any] | None = None,
) -> None:
    """Deploy stack ``name``'s image repository (a targeted ``pulumi up``), then build and
    push the images its functions run that the repository does not hold yet."""
    from glacier.infra.image_push import ImagePush, push_images

    prefix = f"urn:pulumi:{name}::{project}::"
    repository = f"{prefix}aws:ecr/repository:Repository::{name}-images"
    targets = [f"{prefix}pulumi:providers:aws::{name}", repository]
    if any(i.get("kind", "lambda") == "lambda" for i in images):  # the Lambda service's pull
        targets.append(f"{prefix}aws:ecr/repositoryPolicy:RepositoryPolicy::{name}-images-policy")
    stack.up(target=targets, on_output=on_output)
    url = repository_url(stack.export_stack().deployment, repository)
    pushes = [
        ImagePush(
            repository_url=url,
            tag=i["tag"],
            platform=i["platform"],
            dockerfile=i["dockerfile"],
            context=i["context"],
            region=i["region"],
            profile=i["profile"],
        )
        for i in {i["tag"]: i for i in images}.values()
    ]
    push_images(pushes, exists=_in_repository, login_password=_login_password, on_output=on_output)


def repository_url(deployment: Any, urn: str) -> str:
    """The ``repositoryUrl`` output of resource ``urn`` in an exported deployment."""
    for resource in (deployment or {}).get("resources", []):
        if resource.get("urn") == urn:
            return str(resource["outputs"]["repositoryUrl"])
    raise InfraError(f"The deployment has no image repository {urn!r} after deploying it.")


def _ecr(push: Any) -> Any:
    boto3 = require("boto3", "s3", "Pushing Lambda images")
    return boto3.Session(profile_name=push.profile, region_name=push.region).client("ecr")


def _in_repository(push: Any) -> bool:
    ecr = _ecr(push)
    try:
        ecr.describe_images(
            repositoryName=push.repository_url.split("/", 1)[1],
            imageIds=[{"imageTag": push.tag}],
        )
    except ecr.exceptions.ImageNotFoundException:
        return False
    return True


def _login_password(push: Any) -> str:
    import base64

    token = _ecr(push).get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return base64.b64decode(token).decode().split(":", 1)[1]
