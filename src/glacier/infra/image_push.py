"""Building and pushing the Lambda container images a deployment needs, before its functions.

A function created from an image needs the image in its ECR repository, so ``glacier deploy``
deploys in two steps when a stack has image functions: first the repository (a targeted
``pulumi up``), then, for each image tag not in the repository yet, ``docker buildx build
--push`` from the generated ``Dockerfile.lambda`` (the build context is the pipeline's code
root), then the whole stack. Without Docker (and its buildx plugin) nothing is built: the
deployment stops after the repository with an error listing the exact commands to run
(:meth:`ImagePush.commands`), after which ``glacier deploy`` finds the image and goes on.

``--provenance=false``: buildx otherwise pushes an image index with an attestation manifest,
which Lambda does not accept as a function's image.

Example:
    >>> push = ImagePush("1.dkr.ecr.us-east-1.amazonaws.com/dev-etl", "py311-x86_64-ab",
    ...                  "linux/amd64", "infra/Dockerfile.lambda", ".", "us-east-1", None)
    >>> push.uri
    '1.dkr.ecr.us-east-1.amazonaws.com/dev-etl:py311-x86_64-ab'
    >>> push.commands()[0].split(" | ")[0]
    'aws ecr get-login-password --region us-east-1'
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from glacier.errors import InfraError


@dataclass(frozen=True)
class ImagePush:
    """One image to build and push: where (repository URL and tag), for which platform, and
    from which Dockerfile and build context; region and profile of its registry."""

    repository_url: str
    tag: str
    platform: str
    dockerfile: str
    context: str
    region: str
    profile: str | None

    @property
    def uri(self) -> str:
        """``<repository URL>:<tag>``."""
        return f"{self.repository_url}:{self.tag}"

    @property
    def registry(self) -> str:
        """The registry's host (``<account>.dkr.ecr.<region>.amazonaws.com``)."""
        return self.repository_url.split("/", 1)[0]

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
        return [
            f"aws ecr get-login-password --region {self.region}{profile} | docker login "
            f"--username AWS --password-stdin {self.registry}",
            shlex.join(self.build_command()),
        ]


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
            f"The Lambda function image(s) {', '.join(p.uri for p in missing)} are not in "
            "their repository yet, and Docker with its buildx plugin is not installed here to "
            "build them. The repository is deployed; build and push the image(s) with:\n"
            f"{commands}\nthen run glacier deploy again."
        )
    say = on_output or (lambda line: None)
    for push in missing:
        say(f"pushing {push.uri} (built from {push.dockerfile})\n")
        _run(
            ["docker", "login", "--username", "AWS", "--password-stdin", push.registry],
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
