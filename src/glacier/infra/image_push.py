"""Building and pushing the container images a deployment needs, before what runs them.

A Lambda function or ECS task created from an image (AWS), a Cloud Run job (GCP) or a
Container Apps job (Azure) needs its image in the environment's registry (ECR, Artifact
Registry, Azure Container Registry: :data:`REGISTRIES`), so ``glacier deploy`` deploys in two
steps when a stack runs images it builds: first the registry (a targeted ``pulumi up``), then,
for each image tag not in the registry yet, ``docker buildx build --push`` from the generated
``Dockerfile.lambda`` or ``Dockerfile`` (the build context is the pipeline's code root), then
the whole stack. Without Docker (and its buildx plugin) nothing is built: the deployment stops
after the registry with an error listing the exact commands to run (:meth:`ImagePush.commands`),
after which ``glacier deploy`` finds the image and goes on.

Whether a tag is there is asked of the registry: ECR's API on AWS; elsewhere the Docker
Registry HTTP API v2 every registry serves (:func:`in_registry`: ``HEAD`` of the manifest,
with the token handshake of its ``WWW-Authenticate`` challenge), so no Docker is needed for it.

``--provenance=false``: buildx otherwise pushes an image index with an attestation manifest,
which Lambda does not accept as a function's image.

Example:
    >>> push = ImagePush("1.dkr.ecr.us-east-1.amazonaws.com/dev-etl", "py311-x86_64-ab",
    ...                  "linux/amd64", "infra/Dockerfile.lambda", ".", "us-east-1", None)
    >>> push.uri
    '1.dkr.ecr.us-east-1.amazonaws.com/dev-etl:py311-x86_64-ab'
    >>> push.commands()[0].split(" | ")[0]
    'aws ecr get-login-password --region us-east-1'
    >>> gar = ImagePush("europe-west1-docker.pkg.dev/acme/prod-etl/etl", "py311-ab",
    ...                 "linux/amd64", "Dockerfile", ".", "europe-west1", None, "artifact-registry")
    >>> gar.commands()[0].split(" | ")[1]
    'docker login --username oauth2accesstoken --password-stdin europe-west1-docker.pkg.dev'
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from glacier.errors import InfraError


@dataclass(frozen=True)
class Registry:
    """A kind of image registry: the user name ``docker login`` takes with its password, and
    the shell command that logs Docker in (``{host}``, ``{region}``, ``{profile}``,
    ``{name}``: the registry's host, region, the AWS profile option, the registry's name)."""

    kind: str
    cloud: str
    username: str
    login: str


#: The registries Glacier pushes to, by kind.
REGISTRIES: dict[str, Registry] = {
    r.kind: r
    for r in (
        Registry(
            "ecr",
            "aws",
            "AWS",
            "aws ecr get-login-password --region {region}{profile} | docker login "
            "--username AWS --password-stdin {host}",
        ),
        Registry(
            "artifact-registry",
            "gcp",
            "oauth2accesstoken",
            "gcloud auth print-access-token | docker login --username oauth2accesstoken "
            "--password-stdin {host}",
        ),
        # ACR's user for a token from the Entra exchange (what `az acr login` does).
        Registry(
            "acr", "azure", "00000000-0000-0000-0000-000000000000", "az acr login --name {name}"
        ),
    )
}

#: The registry an image of each kind (``ContainerImage.kind``: what runs it) goes to.
REGISTRY_OF = {
    "lambda": "ecr",
    "ecs": "ecr",
    "cloud_run": "artifact-registry",
    "container_app": "acr",
}


@dataclass(frozen=True)
class ImagePush:
    """One image to build and push: where (repository URL and tag), for which platform, and
    from which Dockerfile and build context; region and profile of its registry, and the
    registry's kind (a key of :data:`REGISTRIES`)."""

    repository_url: str
    tag: str
    platform: str
    dockerfile: str
    context: str
    region: str
    profile: str | None
    registry_kind: str = "ecr"

    @property
    def uri(self) -> str:
        """``<repository URL>:<tag>``."""
        return f"{self.repository_url}:{self.tag}"

    @property
    def registry(self) -> str:
        """The registry's host (``<account>.dkr.ecr.<region>.amazonaws.com``,
        ``<region>-docker.pkg.dev``, ``<name>.azurecr.io``)."""
        return self.repository_url.split("/", 1)[0]

    @property
    def repository(self) -> str:
        """The repository's path in its registry (``prod-etl/etl``)."""
        return self.repository_url.split("/", 1)[1]

    @property
    def username(self) -> str:
        """The user ``docker login`` takes with the registry's password."""
        return REGISTRIES[self.registry_kind].username

    def build_command(self) -> list[str]:
        """The ``docker buildx build --push`` call building and pushing the image."""
        return [
            "docker",
            "buildx",
            "build",
            "--platform",
            self.platform,
            "--provenance=false",
            "-f",
            self.dockerfile,
            "-t",
            self.uri,
            "--push",
            self.context,
        ]

    def commands(self) -> list[str]:
        """The shell commands that log in to the registry, then build and push the image."""
        profile = f" --profile {shlex.quote(self.profile)}" if self.profile else ""
        login = REGISTRIES[self.registry_kind].login.format(
            host=self.registry,
            region=self.region,
            profile=profile,
            name=self.registry.split(".", 1)[0],
        )
        return [login, shlex.join(self.build_command())]


def has_buildx(docker: str | None = None) -> bool:
    """Whether Docker and its buildx plugin are installed here."""
    docker = docker or shutil.which("docker")
    if docker is None:
        return False
    done = subprocess.run(
        [docker, "buildx", "version"], capture_output=True, text=True, check=False
    )
    return done.returncode == 0


def push_images(
    pushes: Sequence[ImagePush],
    *,
    exists: Callable[[ImagePush], bool],
    login_password: Callable[[ImagePush], str],
    on_output: Callable[[str], object] | None = None,
) -> list[ImagePush]:
    """Build and push each image of ``pushes`` that ``exists`` does not find; returns those
    pushed.

    Raises:
        InfraError: an image is missing and Docker with buildx is not installed here (the
            message lists the commands to run), or a build failed (Docker's last lines).
    """
    missing = [p for p in pushes if not exists(p)]
    if not missing:
        return []
    if not has_buildx():
        commands = "\n".join(f"  {c}" for p in missing for c in p.commands())
        raise InfraError(
            f"The container image(s) {', '.join(p.uri for p in missing)} are not in "
            "their repository yet, and Docker with its buildx plugin is not installed here to "
            "build them. The registry is deployed; build and push the image(s) with:\n"
            f"{commands}\nthen run glacier deploy again."
        )
    say = on_output or (lambda line: None)
    for push in missing:
        say(f"pushing {push.uri} (built from {push.dockerfile})\n")
        _run(
            ["docker", "login", "--username", push.username, "--password-stdin", push.registry],
            stdin=login_password(push),
        )
        _run(push.build_command())
    return missing


def _run(command: list[str], stdin: str | None = None) -> None:
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise InfraError(
            f"{shlex.join(command[:3])} ... failed (exit {done.returncode}):\n{said}\n"
            "Fix what Docker says, then run glacier deploy again."
        )


#: The manifest types a registry may hold an image as (single-platform and index, Docker's
#: and OCI's).
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


def in_registry(push: ImagePush, password: str, *, scheme: str = "https") -> bool:
    """Whether ``push``'s tag is in its registry, asked through the Docker Registry HTTP API
    v2: ``HEAD /v2/<repository>/manifests/<tag>``; a ``Bearer`` challenge is answered by
    fetching a token from its realm (for ``repository:<repository>:pull``) with
    ``push.username`` and ``password``, a ``Basic`` one with them directly.

    Raises:
        InfraError: the registry refused the credentials or answered something else than
            found (200) or not found (404).
    """
    import base64
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    url = f"{scheme}://{push.registry}/v2/{push.repository}/manifests/{push.tag}"
    basic = base64.b64encode(f"{push.username}:{password}".encode()).decode()

    def head(authorization: str | None) -> tuple[int, str]:
        request = urllib.request.Request(url, method="HEAD")
        request.add_header("Accept", ", ".join(MANIFEST_TYPES))
        if authorization:
            request.add_header("Authorization", authorization)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, ""
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("WWW-Authenticate", "")

    status, challenge = head(None)
    if status == 401:
        scheme_name, _, params = challenge.partition(" ")
        if scheme_name.lower() == "bearer":
            fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
            query = {"service": fields.get("service", push.registry)}
            query["scope"] = fields.get("scope", f"repository:{push.repository}:pull")
            request = urllib.request.Request(
                f"{fields.get('realm', '')}?{urllib.parse.urlencode(query)}",
                headers={"Authorization": f"Basic {basic}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = json.loads(response.read())
            except urllib.error.HTTPError as error:
                raise InfraError(
                    f"Registry {push.registry} refused a token for {push.repository} "
                    f"(HTTP {error.code}): check your credentials for it ({push.commands()[0]} "
                    "uses the same), then run glacier deploy again."
                ) from None
            token = answer.get("token") or answer.get("access_token")
            status, _ = head(f"Bearer {token}")
        else:
            status, _ = head(f"Basic {basic}")
    if status in (200, 404):
        return status == 200
    raise InfraError(
        f"Registry {push.registry} answered HTTP {status} when asked for {push.uri}; "
        "check your credentials for it, then run glacier deploy again."
    )
