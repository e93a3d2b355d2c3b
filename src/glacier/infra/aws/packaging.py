"""The code a deployed task runs: the pipeline's modules, Glacier's own, and a Lambda handler.

A deployment is self-contained: the archive carries the version of Glacier that generated it
(pure Python, copied from this installation) and the pipeline's code (its top-level package,
or the modules beside its file), with their bytecode (:func:`bytecode`). What Glacier builds
on (polars, ...) comes from a layer (:mod:`glacier.infra.layer`), an image or pip, pinned to
the versions installed here.

Example:
    >>> print(handler_source("etl/pipeline.py:pipeline").splitlines()[4])
    TARGET = 'etl/pipeline.py:pipeline'
"""

from __future__ import annotations

import hashlib
import os
import py_compile
import sys
from pathlib import Path
from typing import Any

from glacier.errors import InfraError
from glacier.infra.aws.stack import Stack
from glacier.infra.layer import LAMBDA_UNZIPPED_LIMIT, cache_root
from glacier.infra.model import CodeSpec

#: Lambda handler inside the generated package.
HANDLER = "glacier_handler.handler"


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
    modules = {**glacier_files(), **code_files(code)}
    assets.update({name: pulumi.FileAsset(str(p)) for name, p in bytecode(modules).items()})
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


def bytecode(files: dict[str, Path]) -> dict[str, Path]:
    """Compiled bytecode of the ``.py`` files among ``files``, by its name in the package
    (``glacier/__pycache__/task.cpython-311.pyc``), for this interpreter's Python.

    Lambda's code directory is read-only, so without bytecode in the package every cold start
    compiles every module it imports. The files are "unchecked-hash" bytecode: Python uses
    them without comparing timestamps, which a zip archive does not keep. They are made once
    per source content, under the cache directory; a runtime of another Python ignores them.
    """
    tag = sys.implementation.cache_tag
    cache = cache_root() / "bytecode" / tag
    out: dict[str, Path] = {}
    for name, path in files.items():
        if not name.endswith(".py") or not path.is_file():
            continue
        source = path.read_bytes()
        digest = hashlib.sha256(name.encode() + b"\0" + source).hexdigest()[:24]
        compiled = cache / f"{digest}.pyc"
        if not compiled.is_file():
            cache.mkdir(parents=True, exist_ok=True)
            partial = cache / f".{digest}.{os.getpid()}.partial"
            py_compile.compile(
                str(path),
                cfile=str(partial),
                dfile=name,
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            os.replace(partial, compiled)
        package, _, module = name.rpartition("/")
        pyc = f"__pycache__/{module[:-3]}.{tag}.pyc"
        out[f"{package}/{pyc}" if package else pyc] = compiled
    return out


def check_package_size(stack: Stack, task_name: str, location: str, layer_size: int = 0) -> None:
    """Refuse a function whose package and dependencies layer cannot fit Lambda's unzipped
    limit (the layer's ``layer_size`` bytes, measured or estimated)."""
    paths = [*glacier_files().values(), *code_files(code_spec(stack)).values()]
    code = sum(_size(p) for p in paths)
    if code + layer_size > LAMBDA_UNZIPPED_LIMIT:
        raise InfraError(
            f"Task {task_name!r} ({location}) would be deployed as a Lambda function of "
            f"{(code + layer_size) / 2**20:.0f} MB unzipped (its pipeline's code and Glacier "
            f"{code / 2**20:.0f} MB, the dependencies layer {layer_size / 2**20:.0f} MB), more "
            f"than Lambda's {LAMBDA_UNZIPPED_LIMIT // 2**20} MB limit for a function and its "
            "layers. Run it on ECS (compute=env.compute.ecs(...)), whose image has no such "
            "limit, or keep data files out of the code's package."
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
