"""``mode="generate"``: write a runnable Pulumi project for a pipeline.

The project is small and stays in sync with the code because it holds no infrastructure of
its own: ``__main__.py`` imports the user's pipeline and lets Glacier declare its resources
for the stack being deployed. One stack per environment::

    infra/analytics/
        Pulumi.yaml            project (runtime: python)
        Pulumi.dev.yaml        stack config of environment "dev" (aws:region, ...)
        Pulumi.prod.yaml
        __main__.py            the program
        requirements.txt
        Dockerfile             the image of its ECS tasks, when it has any (glacier.infra.image)
        Dockerfile.lambda      the image of its Lambda functions packaged as images, if any

``pulumi up --stack prod`` (or :func:`glacier.infra.up`) deploys prod's share. Each stack
file carries its environment's name and settings (``glacier:environment``,
``glacier:settings``), and the program exports them before importing the pipeline, so
``Environment.from_env()`` finds them with no ``GLACIER_ENV`` exported and no settings
directory beside the project.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

from glacier.errors import InfraError, OutputPathError
from glacier.extras import DISTRIBUTION
from glacier.infra.image import (
    dockerfile_source,
    image_requirements,
    lambda_dockerfile_name,
    lambda_dockerfile_source,
)
from glacier.infra.lambda_package import ContainerImage
from glacier.infra.mocks import plan
from glacier.infra.model import CodeSpec, EnvSpec, InfraModel, build_model
from glacier.settings.environment import GlacierSettings, bake_settings
from glacier.version import __version__

PULUMI_REQUIREMENTS = ("pulumi>=3.200,<4", "pulumi-aws>=7.0,<8")
#: What a project with stacks in another cloud also installs: its Pulumi package, and the
#: Glacier extra of its storage.
CLOUD_REQUIREMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "azure": ("azure", ("pulumi-azure-native>=3.0,<4",)),
    "gcp": ("gcp", ("pulumi-gcp>=10.0,<11",)),
}


def generate(
    pipeline: Any,
    output_dir: str | Path,
    environments: Sequence[Any] | None = None,
    *,
    target: str = "pulumi",
) -> dict[str, Any]:
    """Write the Pulumi project of ``pipeline`` to ``output_dir``.

    Args:
        pipeline: A :class:`~glacier.Pipeline` or an ``@env.pipeline()`` function, defined in
            a module (the generated program imports it from there).
        output_dir: Where to write; created if missing, files overwritten.
        environments: The environments to write a stack for. Default: every cloud
            environment the pipeline uses. An environment the pipeline does not use is served
            by another pipeline of the same module that does (the ``create_pipeline(env)``
            pattern: one project, a stack per environment).
        target: ``"pulumi"``, or ``"terraform"`` for Terraform JSON, one directory per
            environment (:mod:`glacier.infra.terraform`).

    Returns:
        ``{"files": [paths], "stacks": [names], "output_dir": path, "project": name,
        "images": [...]}`` (``images``: each Lambda container image to build and push: its
        environment, repository, tag, platform, Dockerfile and build context); no files and
        no stacks when every environment is local (nothing to deploy).

    Raises:
        OutputPathError: ``output_dir`` (or a part of it) is a file.
        InfraError: what :func:`glacier.infra.plan` refuses, before anything is written.
    """
    from glacier.infra import terraform

    if terraform.check_target(target) == "terraform":
        return terraform.generate(pipeline, output_dir, environments)
    out = Path(output_dir)
    check_output_directory(out)
    model = build_model(pipeline, list(environments or ()))
    wanted = _wanted(model, environments)
    if not wanted:
        return {
            "files": [],
            "stacks": [],
            "output_dir": str(out),
            "project": None,
            "message": "Every environment is local: local environments need no cloud "
            "infrastructure, so no project was written.",
        }
    code = model.code
    if code is None:
        raise InfraError(
            f"Cannot find the module defining pipeline {model.pipeline!r}; the generated "
            "program imports the pipeline from there. Define it in a .py file."
        )
    stacks: dict[str, tuple[CodeSpec, EnvSpec, InfraModel]] = {}
    images: list[ContainerImage] = []
    for key, env in wanted:
        served_code, served_env, served, source = _serving(
            key, env, model, code, environments or (), pipeline
        )
        stacks[key] = (served_code, served_env, served)
        # The stack's program under the mock engine, before anything is written: a pipeline
        # the plan refuses is refused here alike, and the plan says which images it needs.
        images += plan(source, env=key, environments=list(environments or ())).images
    out.mkdir(parents=True, exist_ok=True)
    project = _project_name(model.pipeline)
    files = [_write(out / "Pulumi.yaml", _pulumi_yaml(project, model.pipeline))]
    for key, (_, env, served) in stacks.items():
        files.append(_write(out / f"Pulumi.{key}.yaml", _stack_yaml(env, served.pipeline)))
    files.append(_write(out / "__main__.py", main_source(model.pipeline, stacks, out)))
    clouds = {env.cloud for _, env, _ in stacks.values()}
    databricks = any(
        t.compute == "databricks" for _, _, served in stacks.values() for t in served.tasks
    )
    # A Databricks task's job is declared with pulumi-databricks (the databricks extra).
    files.append(_write(out / "requirements.txt", _requirements(clouds, databricks=databricks)))
    containers = ("ecs", "cloud_run", "container_app")  # each runs the Dockerfile's image
    if any(t.compute in containers for _, _, served in stacks.values() for t in served.tasks):
        container_requirements = image_requirements(*(served for _, _, served in stacks.values()))
        files.append(container_dockerfile(model.pipeline, code.root, out, container_requirements))
    lambda_images = [i for i in images if i.kind == "lambda"]
    pythons = sorted({image.python for image in lambda_images})
    for python in pythons:
        # One Dockerfile per Python serves every environment's images: what any of them needs.
        requirements = tuple(
            dict.fromkeys(r for i in lambda_images if i.python == python for r in i.requirements)
        )
        lambda_source = lambda_dockerfile_source(
            model.pipeline,
            _relative(code.root, out),
            python=python,
            requirements=requirements,
            from_index=_installed_from_index(),
            origin=_install_origin(),
        )
        files.append(_write(out / lambda_dockerfile_name(python, pythons), lambda_source))
    return {
        "files": [str(f) for f in files],
        "stacks": list(stacks),
        "output_dir": str(out),
        "project": project,
        "images": [
            {
                "environment": i.environment,
                "repository": i.repository,
                "tag": i.tag,
                "platform": i.platform,
                "dockerfile": str(out / _dockerfile_name(i, pythons)),
                "context": str(code.root),
                "kind": i.kind,
                "region": stacks[i.environment][1].region,
                "profile": stacks[i.environment][1].profile,
            }
            for i in images
        ],
    }


def container_dockerfile(
    pipeline: str, code_root: Path, out: Path, requirements: Sequence[str]
) -> Path:
    """Write ``out/Dockerfile``: the image of ``pipeline``'s container tasks (ECS tasks, Cloud
    Run jobs, Container Apps jobs), whose build context is ``code_root``, installing
    ``requirements`` (:func:`glacier.infra.image.image_requirements`)."""
    out.mkdir(parents=True, exist_ok=True)
    source = dockerfile_source(
        pipeline,
        _relative(code_root, out),
        from_index=_installed_from_index(),
        origin=_install_origin(),
        requirements=requirements,
    )
    return _write(out / "Dockerfile", source)


def _dockerfile_name(image: ContainerImage, pythons: Sequence[str]) -> str:
    """The generated Dockerfile an image is built from."""
    if image.kind == "lambda":
        return lambda_dockerfile_name(image.python, pythons)
    return "Dockerfile"


def check_output_directory(directory: Path, label: str = "output_dir") -> None:
    """Refuse ``directory`` when it, or the nearest part of it that exists, is not a directory
    (``label`` names the option it was given as).

    Raises:
        OutputPathError: Names the path in the way and how to proceed (exit code 2).
    """
    existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if existing is None or existing.is_dir():
        return
    where = "is" if existing == directory else f"is in the way of {str(directory)!r} and is"
    raise OutputPathError(
        f"{label} {str(directory)!r}: {str(existing)!r} {where} a file, not a directory; "
        f"pass a directory (new or existing) as {label}, or move the file away."
    )


def _wanted(
    model: InfraModel, environments: Sequence[Any] | None
) -> list[tuple[str, EnvSpec | None]]:
    """The (name, spec) of each stack to write; spec is None for an environment the
    pipeline does not use itself."""
    clouds = model.cloud_envs()
    if environments:
        chosen = []
        for env in environments:
            key = str(env.name)
            spec = model.envs.get(key)
            kind = getattr(getattr(env, "provider", None), "kind", None)
            if kind == "local" or (spec is not None and spec.cloud == "local"):
                continue
            chosen.append((key, spec))
        # pipeline.run(mode="generate") passes the pipeline's default (local) environment
        # when none is given: then the environments the pipeline uses are meant.
        if chosen or not clouds:
            return chosen
    return [(k, model.envs[k]) for k in clouds]


def _serving(
    key: str,
    spec: EnvSpec | None,
    model: InfraModel,
    code: CodeSpec,
    environments: Sequence[Any],
    pipeline: Any,
) -> tuple[CodeSpec, EnvSpec, InfraModel, Any]:
    """The pipeline (as code, and itself) that has resources in environment ``key``: this
    one, or a sibling defined in the same module."""
    if spec is not None and key in model.cloud_envs():
        return code, spec, model, pipeline
    from glacier.targets import find_pipelines

    module = next((m for m in list(sys.modules.values()) if _module_file(m) == code.file), None)
    candidates = find_pipelines(module) if module is not None else {}
    for attr, other in candidates.items():
        try:
            sibling = build_model(other, list(environments))
        except InfraError:
            continue
        if key in sibling.cloud_envs():
            return CodeSpec(code.file, attr, code.root), sibling.envs[key], sibling, other
    raise InfraError(
        f"Pipeline {model.pipeline!r} has no resources in environment {key!r}, and no other "
        f"pipeline in {code.file.name} does. Build one for it (e.g. "
        f"{key}_pipeline = create_pipeline(env)) at module level, or leave {key!r} out."
    )


# -- file contents -------------------------------------------------------------------------------


def main_source(pipeline: str, stacks: dict[str, Any], out: Path) -> str:
    """The generated ``__main__.py``: which pipeline each stack deploys, and the call."""
    rows = []
    for key, (code, _, _) in stacks.items():
        rows.append(f"    {key!r}: ({_relative(code.file, out)!r}, {code.attr!r}),")
    table = "\n".join(rows)
    return f'''"""Pulumi program of Glacier pipeline {pipeline!r} (generated, do not edit).

Each stack deploys one environment's share of the pipeline's infrastructure, declared by
Glacier from the pipeline itself: `pulumi up --stack <environment>`.
"""

import json
import os
from pathlib import Path

import pulumi

from glacier.infra.pulumi_program import program_for_target

HERE = Path(__file__).resolve().parent

#: Stack (environment) -> (pipeline module relative to this file, pipeline attribute).
STACKS = {{
{table}
}}

config = pulumi.Config("glacier")
environment = config.get("environment") or pulumi.get_stack()
if environment not in STACKS:
    raise ValueError(
        f"Stack {{environment!r}} is not an environment of this project; "
        f"use one of {{', '.join(STACKS)}}."
    )
# The pipeline's module builds its environment when imported (Environment.from_env()):
# the stack's own settings select it, whatever this shell exports.
settings = config.get("settings")
if settings:
    os.environ["GLACIER_ENV"] = json.loads(settings)["env"]
    os.environ["GLACIER_SETTINGS"] = settings
module, attr = STACKS[environment]
program_for_target(f"{{(HERE / module).resolve()}}:{{attr}}", environment)
'''


def _pulumi_yaml(project: str, pipeline: str) -> str:
    description = f"Infrastructure of Glacier pipeline {pipeline} (generated by glacier)"
    return (
        f"name: {project}\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        "    virtualenv: venv\n"
        f"description: {json.dumps(description)}\n"
    )


def _stack_yaml(env: EnvSpec, pipeline: str) -> str:
    lines = ["config:"]
    if env.cloud == "gcp":
        lines.append(f"  gcp:project: {json.dumps(env.account_id)}")
        lines.append(f"  gcp:region: {json.dumps(env.region)}")
    if env.cloud == "aws":
        lines.append(f"  aws:region: {json.dumps(env.region)}")
        if env.profile:
            lines.append(f"  aws:profile: {json.dumps(env.profile)}")
        if env.account_id:
            lines.append("  aws:allowedAccountIds:")
            lines.append(f"    - {json.dumps(env.account_id)}")
    if env.cloud == "azure":
        lines.append(f"  azure-native:location: {json.dumps(env.region)}")
        if env.account_id:
            lines.append(f"  azure-native:subscriptionId: {json.dumps(env.account_id)}")
    lines.append(f"  glacier:environment: {json.dumps(env.key)}")
    lines.append(f"  glacier:pipeline: {json.dumps(pipeline)}")
    settings = getattr(env.source, "settings", None)
    if isinstance(settings, GlacierSettings):
        # JSON inside YAML: a JSON string is a valid YAML scalar.
        lines.append(f"  glacier:settings: {json.dumps(bake_settings(settings, deployed=False))}")
    return "\n".join(lines) + "\n"


def _requirements(
    clouds: set[str] | frozenset[str] = frozenset(), *, databricks: bool = False
) -> str:
    """Installable on any machine, and true about where Glacier comes from here.

    From the package index: the published distribution at the installed version. From a wheel
    or sdist file: that file's name, to be copied beside the project (never a path of this
    machine). From a checkout (editable or source install): it has no published counterpart of
    its own changes; the file says so and how to ship a wheel instead.
    """
    extras = "s3,deploy"
    more: list[str] = []
    for cloud in sorted(clouds & set(CLOUD_REQUIREMENTS)):
        extra, packages = CLOUD_REQUIREMENTS[cloud]
        extras = f"{extras.removesuffix(',deploy')},{extra},deploy"
        more += packages
    if databricks:
        extras = f"{extras},databricks"
    line = f"{DISTRIBUTION}[{extras}]=={__version__}"
    origin = _install_origin()
    if origin == "checkout":
        note = (
            "# Glacier is installed here from a checkout, whose changes may not be published.\n"
            "# To deploy exactly this code, build a wheel into this project and use it instead:\n"
            "#   pip wheel --no-deps <checkout> -w wheels/\n"
            f"#   and replace the next line with: ./wheels/<the wheel's file name>[{extras}]\n"
        )
        line = note + line
    elif origin != "index":
        note = (
            f"# Glacier is installed here from the file {origin}, not from the package index.\n"
            "# Copy that file into wheels/ beside this file; the next line installs it.\n"
        )
        line = note + f"./wheels/{origin}[{extras}]"
    return "\n".join((line, *PULUMI_REQUIREMENTS, *more)) + "\n"


def _installed_from_index() -> bool:
    """Whether Glacier was installed from a package index (not from a checkout or a file)."""
    return _install_origin() == "index"


def _install_origin() -> str:
    """``"index"``, ``"checkout"``, or the file name of the wheel or sdist Glacier was
    installed from (pip's ``direct_url.json``, PEP 610)."""
    if "site-packages" not in Path(__file__).resolve().parts:
        return "checkout"  # imported from a source tree, whatever the metadata says
    for name in (DISTRIBUTION, "glacier"):
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        raw = dist.read_text("direct_url.json")
        if raw is None:
            return "index"
        try:
            direct = json.loads(raw)
        except ValueError:
            return "checkout"
        url = str(direct.get("url", ""))
        if "archive_info" in direct and url.endswith((".whl", ".tar.gz", ".zip")):
            return url.rsplit("/", 1)[-1]
        return "checkout"
    return "checkout"


def _project_name(pipeline: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", pipeline).strip("-") or "glacier"


def _relative(file: Path, out: Path) -> str:
    try:
        return Path(os.path.relpath(file, out.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return file.as_posix()


def _module_file(module: Any) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if isinstance(file, str) else None


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
