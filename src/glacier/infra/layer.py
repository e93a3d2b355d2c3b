"""The Lambda layer of a deployment: Glacier's runtime dependencies, built for Lambda's platform.

A function's package carries the pipeline's code and Glacier's own pure-Python modules; what
they build on (polars, pydantic, dependency-injector, s3fs, ...) comes from one layer, built
with pip for the function's platform, whatever the machine deploying it runs::

    pip install --platform manylinux2014_x86_64 --only-binary=:all: --python-version 3.11 \\
        --implementation cp --target <layer>/python <name==version ...>

(Lambda puts a layer's ``python/`` directory on the path.) The versions are those installed
on the deploying machine (:func:`pinned`), so a deployed task runs the libraries it was tested
with; the layer is built once per requirement set and kept in the cache directory under a
hash of that set (:attr:`LayerSpec.key`), less what nothing imports (:data:`PRUNED_SUFFIXES`).
What goes in is derived from what the function's tasks import
(:mod:`glacier.infra.requirements`, the same function the images' Dockerfiles use); Glue's
``--additional-python-modules`` are pinned alike.

Lambda allows 250 MB unzipped for a function and its layers together
(:data:`LAMBDA_UNZIPPED_LIMIT`); a plan refuses a task whose package and layer exceed it,
measuring the layer when it is built and, before that, estimating it from the same
distributions installed here (:func:`estimated_size`).

Example:
    >>> spec = LayerSpec(("polars==2.1.0",), python_version="3.11")
    >>> spec.platform, len(spec.key)
    ('manylinux2014_x86_64', 16)
    >>> spec.key == LayerSpec(("polars==2.1.0",), python_version="3.11").key
    True
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from glacier import env_vars
from glacier.errors import InfraError
from glacier.infra.requirements import TABLES, distributions
from glacier.infra.requirements import pinned as pinned  # re-exported for its older callers

#: Lambda's limit on a function's unzipped code and layers together (AWS Lambda quotas).
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
#: Distributions a deployed AWS task with neither tables nor databases imports (what it imports
#: is derived in one place: :mod:`glacier.infra.requirements`).
RUNTIME_DISTRIBUTIONS = distributions(["aws"])
#: Added for a task that reads or writes Delta tables. ``deltalake``'s library (about
#: 130 MB unzipped) and polars' (about 170 MB) do not fit Lambda's 250 MB together, so such
#: a task runs as a Lambda container image (or on ECS).
TABLE_DISTRIBUTIONS = TABLES
#: pip's platform tag for each Lambda architecture.
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
#: Files a wheel may carry that nothing imports at run time: C and Cython sources (about
#: 12 MB in dependency-injector's wheel) and type stubs. Removed from a built layer.
PRUNED_SUFFIXES = (".c", ".pyx", ".pxd", ".pyi")
#: Written last into a built layer: its requirement set and size (a layer without it is
#: an interrupted build).
MARKER = "glacier-layer.json"


@dataclass(frozen=True)
class LayerSpec:
    """What a layer holds and for which platform: pinned requirements, Python, pip platform."""

    requirements: tuple[str, ...]
    python_version: str = "3.11"
    platform: str = PLATFORMS["x86_64"]

    @classmethod
    def for_function(
        cls,
        runtime: str,
        architecture: str,
        tables: bool = False,
        needs: Sequence[str] | None = None,
    ) -> LayerSpec:
        """The layer of a function running ``runtime`` (``python3.11``) on ``architecture``,
        holding ``needs`` (what its tasks import: :mod:`glacier.infra.requirements`; by
        default an AWS task's, with ``deltalake`` when it reads or writes ``tables``),
        pinned to the versions installed here."""
        wanted = needs if needs is not None else distributions(["aws"], tables=tables)
        return cls(
            tuple(pinned(wanted)),
            python_version=runtime.removeprefix("python"),
            platform=PLATFORMS[architecture],
        )

    @property
    def key(self) -> str:
        """A short hash of the requirement set and platform: the layer's cache key."""
        text = json.dumps([sorted(self.requirements), self.python_version, self.platform])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def pip_command(self, target: Path, find_links: Sequence[Path] = ()) -> list[str]:
        """The pip call that installs the layer's content into ``target`` (its ``python/``);
        with ``find_links``, from those directories of wheels only (no package index)."""
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--platform",
            self.platform,
            "--only-binary=:all:",
            "--python-version",
            self.python_version,
            "--implementation",
            "cp",
            "--target",
            str(target),
        ]
        if find_links:
            command.append("--no-index")
            for directory in find_links:
                command += ["--find-links", str(directory)]
        return [*command, *self.requirements]


@dataclass(frozen=True)
class Layer:
    """A built layer: its directory (holding ``python/``) and its unzipped size in bytes."""

    path: Path
    size: int


def cache_root() -> Path:
    """Where Glacier keeps what it builds for deployments: ``GLACIER_CACHE_DIR``, else
    ``~/.cache/glacier``."""
    return Path(os.environ.get(env_vars.GLACIER_CACHE_DIR) or Path.home() / ".cache" / "glacier")


def cache_dir() -> Path:
    """Where built layers are kept, each under ``<key>/``."""
    return cache_root() / "layers"


def built(spec: LayerSpec, cache: Path | None = None) -> Layer | None:
    """The layer of ``spec`` if it has been built into the cache, else None."""
    path = (cache or cache_dir()) / spec.key
    marker = path / MARKER
    if not marker.is_file():
        return None
    return Layer(path, int(json.loads(marker.read_text())["size"]))


def build_layer(
    spec: LayerSpec, cache: Path | None = None, *, find_links: Sequence[Path] = ()
) -> Layer:
    """The layer of ``spec``, built with pip into the cache unless it is there already.

    Args:
        spec: The requirements and platform.
        cache: The cache directory (default :func:`cache_dir`).
        find_links: Install from these wheel directories only (offline), not the index.

    Raises:
        InfraError: pip could not install the set for the platform (a requirement with no
            wheel for it, no network); the message holds pip's own last lines.
    """
    cache = cache or cache_dir()
    found = built(spec, cache)
    if found is not None:
        return found
    final = cache / spec.key
    partial = cache / f".{spec.key}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    done = subprocess.run(
        spec.pip_command(partial / "python", find_links),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        said = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise InfraError(
            f"Could not build the Lambda layer ({', '.join(spec.requirements)}) for "
            f"{spec.platform}, Python {spec.python_version}: pip said:\n{said}\n"
            "Every requirement needs a wheel for that platform (pip install --only-binary), "
            "and the package index must be reachable; or run the task on ECS "
            "(compute=env.compute.ecs(...)), whose image is built by your CI."
        )
    for path in list(partial.rglob("*")):
        if path.suffix in PRUNED_SUFFIXES and path.is_file():
            path.unlink()
    size = directory_size(partial)
    (partial / MARKER).write_text(json.dumps({**_describe(spec), "size": size}))
    try:
        partial.rename(final)
    except OSError:  # built meanwhile by another process: theirs is as good
        shutil.rmtree(partial, ignore_errors=True)
    return Layer(final, size)


def directory_size(path: Path) -> int:
    """Bytes of every file under ``path`` (what Lambda counts, unzipped)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def estimated_size(spec: LayerSpec) -> int:
    """The layer's size before it is built: the installed size here of the distributions it
    pins, and of what they depend on (wheels for Lambda's platform are of the same size,
    give or take their bytecode)."""
    from importlib.metadata import PackageNotFoundError, distribution

    seen: set[str] = set()
    todo = [_name(r) for r in spec.requirements]
    total = 0
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        for file in dist.files or ():
            total += file.size or 0
        todo += [_name(r) for r in dist.requires or () if "extra ==" not in r]
    return total


def _name(requirement: str) -> str:
    for i, char in enumerate(requirement):
        if char in "<>=!~[ ;(":
            requirement = requirement[:i]
            break
    return requirement.strip().lower().replace("_", "-")


def _describe(spec: LayerSpec) -> dict[str, object]:
    return {
        "requirements": list(spec.requirements),
        "python_version": spec.python_version,
        "platform": spec.platform,
    }
