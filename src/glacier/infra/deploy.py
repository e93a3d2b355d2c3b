"""Deploying a pipeline's infrastructure with the Pulumi Automation API.

The Automation API drives the ``pulumi`` command-line program, so deploying needs it on the
PATH (``plan`` does not: it runs offline under the mock engine). State goes wherever Pulumi
is logged in (``pulumi login``, or ``PULUMI_BACKEND_URL``, e.g. an S3 bucket).

A stack whose Lambda functions, ECS tasks, Cloud Run jobs or Container Apps jobs run images
Glacier builds is deployed in two steps: its image registry first (ECR, Artifact Registry or
Azure Container Registry), then the images are built and pushed
(:mod:`glacier.infra.image_push`), then the whole stack.
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


#: What a targeted ``pulumi up`` deploys before the images, per registry kind: the Pulumi
#: type and the logical name's suffix (after the environment's key) of each resource, in the
#: order the builders declare them (the provider first).
REGISTRY_RESOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "ecr": (("pulumi:providers:aws", ""), ("aws:ecr/repository:Repository", "-images")),
    "artifact-registry": (
        ("pulumi:providers:gcp", ""),
        ("gcp:artifactregistry/repository:Repository", "-images"),
    ),
    "acr": (
        ("pulumi:providers:azure-native", ""),
        ("azure-native:resources:ResourceGroup", "-resource-group"),
        ("azure-native:containerregistry:Registry", "-registry"),
    ),
}


def prepare_images(
    stack: Any,
    project: str,
    name: str,
    images: Sequence[dict[str, Any]],
    on_output: Callable[[str], Any] | None = None,
) -> None:
    """Deploy stack ``name``'s image registry (a targeted ``pulumi up``), then build and push
    the images its functions and jobs run that the registry does not hold yet."""
    from glacier.infra.image_push import REGISTRY_OF, ImagePush, push_images

    prefix = f"urn:pulumi:{name}::{project}::"
    kind = REGISTRY_OF[str(images[0].get("kind", "lambda"))]
    targets = [f"{prefix}{typ}::{name}{suffix}" for typ, suffix in REGISTRY_RESOURCES[kind]]
    if any(i.get("kind", "lambda") == "lambda" for i in images):  # the Lambda service's pull
        targets.append(f"{prefix}aws:ecr/repositoryPolicy:RepositoryPolicy::{name}-images-policy")
    stack.up(target=targets, on_output=on_output)
    if kind == "ecr":  # its URL holds the account: read it from the deployed repository
        url = repository_url(stack.export_stack().deployment, targets[1])
    pushes = [
        ImagePush(
            repository_url=url if kind == "ecr" else str(i["repository"]),
            tag=i["tag"],
            platform=i["platform"],
            dockerfile=i["dockerfile"],
            context=i["context"],
            region=i["region"],
            profile=i["profile"],
            registry_kind=kind,
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
    """Whether ``push``'s tag is in its registry (ECR's API; else the registry's own)."""
    if push.registry_kind != "ecr":
        from glacier.infra.image_push import in_registry

        return in_registry(push, _login_password(push))
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
    """The password ``docker login`` takes for ``push``'s registry, from the caller's cloud
    credentials: ECR's authorization token, a Google access token (Application Default
    Credentials), or an ACR refresh token for an Entra token (``DefaultAzureCredential``)."""
    if push.registry_kind == "artifact-registry":
        return google_access_token()
    if push.registry_kind == "acr":
        identity = require("azure.identity", "azure-deploy", "Pushing Container Apps images")
        return acr_refresh_token(push.registry, identity.DefaultAzureCredential())
    import base64

    token = _ecr(push).get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return base64.b64decode(token).decode().split(":", 1)[1]


def google_access_token() -> str:
    """An access token of Application Default Credentials (``gcloud auth application-default
    login``, a service account): Artifact Registry's password for ``oauth2accesstoken``."""
    auth = require("google.auth", "gcp", "Pushing Cloud Run images")
    from google.auth.transport.requests import Request

    credentials, _ = auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    credentials.refresh(Request())
    return str(credentials.token)


#: The scope of the Entra token an ACR refresh token is exchanged for (as ``az acr login``).
ARM_SCOPE = "https://management.azure.com/.default"


def acr_refresh_token(server: str, credential: Any, *, scheme: str = "https") -> str:
    """Exchange an Entra token of ``credential`` for a refresh token of registry ``server``
    (``POST /oauth2/exchange``, what ``az acr login`` does): ACR's password for the user
    ``00000000-0000-0000-0000-000000000000``."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    token = credential.get_token(ARM_SCOPE).token
    form = {"grant_type": "access_token", "service": server, "access_token": token}
    request = urllib.request.Request(
        f"{scheme}://{server}/oauth2/exchange",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.loads(response.read())["refresh_token"])
    except urllib.error.HTTPError as error:
        raise InfraError(
            f"Azure Container Registry {server} refused to exchange your Entra token "
            f"(HTTP {error.code}): sign in with 'az login' to an identity that may push to it "
            "(AcrPush), then run glacier deploy again."
        ) from None
