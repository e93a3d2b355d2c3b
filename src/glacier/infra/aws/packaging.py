"""The code a deployed task runs: the pipeline's modules, Glacier's own, and a Lambda handler.

A deployment is self-contained: the archive carries the version of Glacier that generated it
(pure Python, copied from this installation) and the pipeline's code (its top-level package,
or the modules beside its file). What Glacier builds on (polars, ...) comes from a layer, an
image or pip, pinned to the versions installed here (:func:`pinned`).

Example:
    >>> print(handler_source("etl/pipeline.py:pipeline").splitlines()[4])
    TARGET = 'etl/pipeline.py:pipeline'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glacier.errors import InfraError
from glacier.infra.aws.stack import Stack
from glacier.infra.model import CodeSpec

#: Lambda handler inside the generated package.
HANDLER = "glacier_handler.handler"
#: Lambda's limit on a function's unzipped code and layers together (AWS Lambda quotas).
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def function_archive(stack: Stack) -> Any:
    """The function package: the pipeline's code and a handler running one task (built once
    per environment, shared by its functions)."""
    archive = stack.shared.get("function_archive")
    if archive is not None:
        return archive
    pulumi, code = stack.pulumi, code_spec(stack)
    assets: dict[str, Any] = {
        "glacier_handler.py": pulumi.StringAsset(handler_source(code.relative_target)),
        **glacier_assets(stack),
        **code_assets(stack),
    }
    archive = stack.shared["function_archive"] = pulumi.AssetArchive(assets)
    return archive


def glacier_assets(stack: Stack) -> dict[str, Any]:
    """Glacier's own modules (pure Python), so that deployed code runs the version that
    generated it; what Glacier builds on comes from a layer, an image or pip."""
    return {name: stack.pulumi.FileAsset(str(path)) for name, path in glacier_files().items()}


#: Directories never shipped in a code archive, besides every dot-directory (``.git``,
#: ``.venv``): byte code, and environments or caches kept beside the code.
EXCLUDED_DIRECTORIES = frozenset({"__pycache__", "venv", "node_modules"})
#: File suffixes never shipped: byte code, built for the deploying machine's Python.
EXCLUDED_SUFFIXES = frozenset({".pyc", ".pyo"})


def shipped(relative: Path) -> bool:
    """Whether a file (path relative to the packaged directory) belongs in a code archive.

    Dotfiles and dot-directories (``.env``, ``.git``, ``.venv``, ``.aws``) hold secrets,
    history and local environments, never code a task runs; byte code is rebuilt there.

    Example:
        >>> shipped(Path("shop/etl.py")), shipped(Path("shop/.env"))
        (True, False)
        >>> shipped(Path("shop/.git/config")), shipped(Path("shop/__pycache__/etl.cpython-311.pyc"))
        (False, False)
    """
    parts = relative.parts
    if any(part.startswith(".") for part in parts):
        return False
    if any(part in EXCLUDED_DIRECTORIES for part in parts[:-1]):
        return False
    return relative.suffix not in EXCLUDED_SUFFIXES


def _files_under(directory: Path, prefix: str) -> dict[str, Path]:
    """The shipped files under ``directory``, by ``prefix/<relative path>``."""
    out: dict[str, Path] = {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if path.is_file() and shipped(relative):
            out[f"{prefix}/{relative.as_posix()}"] = path
    return out


def glacier_files() -> dict[str, Path]:
    """Glacier's own modules by their name in the package."""
    own = Path(__file__).resolve().parents[2]  # the glacier package: infra/aws/packaging.py
    return {
        name: path
        for name, path in _files_under(own, "glacier").items()
        if path.suffix in (".py", ".typed")
    }


def code_files(code: CodeSpec) -> dict[str, Path]:
    """The pipeline's code by name in the package, file by file: its top-level package (a
    directory, without dotfiles and byte code: see :func:`shipped`), or the modules beside
    its file."""
    if code.package is not None:
        return _files_under(code.package, code.package.name)
    return {
        path.name: path
        for path in sorted(code.root.glob("*.py"))
        if path.name != "glacier_handler.py" and shipped(Path(path.name))
    }


def check_package_size(stack: Stack, task_name: str, location: str) -> None:
    """Refuse a function whose package cannot fit Lambda's unzipped limit."""
    paths = [*glacier_files().values(), *code_files(code_spec(stack)).values()]
    size = sum(_size(p) for p in paths)
    if size > LAMBDA_UNZIPPED_LIMIT:
        raise InfraError(
            f"Task {task_name!r} ({location}) would be deployed as a Lambda package of "
            f"{size / 2**20:.0f} MB (its pipeline's code and Glacier), more than Lambda's "
            f"{LAMBDA_UNZIPPED_LIMIT // 2**20} MB unzipped limit. Run it on ECS "
            "(compute=env.compute.ecs(...)), or keep data files out of the code's package."
        )


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def code_spec(stack: Stack) -> CodeSpec:
    """Where the pipeline's code is; refused when the pipeline was not defined in a file."""
    code = stack.model.code
    if code is None:
        raise InfraError(
            f"Cannot find the file defining pipeline {stack.model.pipeline!r}, so its code "
            "cannot be packaged. Define the pipeline in a module (a .py file) and pass "
            "that file as the target."
        )
    return code


def code_assets(stack: Stack) -> dict[str, Any]:
    """The pipeline's code: its top-level package, or the modules beside its file."""
    pulumi = stack.pulumi
    return {
        name: pulumi.FileAsset(str(path)) for name, path in code_files(code_spec(stack)).items()
    }


def handler_source(target: str) -> str:
    """The Lambda entry point packaged next to the pipeline's code."""
    return (
        '"""Lambda entry point generated by Glacier: runs one task of the pipeline."""\n\n'
        "from glacier.infra.runtime import lambda_handler\n\n"
        f"TARGET = {target!r}\n\n\n"
        "def handler(event, context):\n"
        "    return lambda_handler(TARGET, event, context)\n"
    )


def pinned(distributions: Sequence[str]) -> list[str]:
    """``name==version`` of each distribution as installed here (the name if it is not)."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in distributions:
        try:
            out.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            out.append(name)
    return out
