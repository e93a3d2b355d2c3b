"""``glacier package``: the files a Terraform configuration refers to, built and written.

Terraform uploads what it is given; it does not build Glacier's code package or the
dependencies layer. :func:`package` runs the same plan as the configuration, so the files it
writes are exactly the ones the configuration names (``artifacts/code-<hash>.zip``,
``artifacts/<layer key>.zip``). Zips are reproducible: fixed timestamps and order, so
``source_code_hash`` changes only when the code does.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from glacier.errors import TerraformError
from glacier.infra.layer import MARKER, LayerSpec, build_layer
from glacier.infra.terraform.configuration import configurations
from glacier.infra.terraform.translate import Artifact

_EPOCH = (1980, 1, 1, 0, 0, 0)


def package(
    pipeline: Any,
    output_dir: str | Path,
    environments: Sequence[Any] | None = None,
    *,
    images: dict[str, list[Any]] | None = None,
) -> dict[str, list[str]]:
    """Write every environment's artifacts under ``output_dir/<environment>/artifacts/``.

    Layers not yet in Glacier's cache are built with pip for the function's platform
    (:func:`glacier.infra.layer.build_layer`: this needs the package index). ``images``, when
    given, is filled with each environment's container images (``ContainerImage``), which
    Terraform does not build either (``glacier package`` writes how to).

    Returns:
        The files written, by environment.
    """
    out = Path(output_dir)
    written: dict[str, list[str]] = {}
    for cfg in configurations(pipeline, environments):
        key = cfg.env.key
        layers = _layer_specs(cfg.plan.resources)
        files = []
        for artifact in cfg.artifacts.values():
            target = out / key / artifact.file
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_artifact(artifact, target, layers)
            files.append(str(target))
        written[key] = files
        if images is not None:
            images[key] = list(cfg.plan.images)
    return written


def _layer_specs(resources: Iterable[Any]) -> dict[str, LayerSpec]:
    """The layer each layer version's archive stands for, by its cache key."""
    specs = {}
    for r in resources:
        if r.type == "aws:lambda/layerVersion:LayerVersion":
            runtime = r.inputs["compatibleRuntimes"][0]
            arch = r.inputs["compatibleArchitectures"][0]
            spec = LayerSpec.for_function(runtime, arch)
            specs[spec.key] = spec
    return specs


def _write_artifact(artifact: Artifact, target: Path, layers: dict[str, LayerSpec]) -> None:
    source = artifact.source
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    if artifact.kind == "archive":
        members = {name: _content(asset) for name, asset in source.assets.items()}
        _zip(members, partial)
    elif artifact.kind == "directory":
        directory = Path(str(source.path))
        if not directory.is_dir():
            spec = layers.get(directory.name)
            if spec is None:
                raise TerraformError(
                    f"{artifact.file}: directory {str(directory)!r} does not exist and is not a "
                    "dependencies layer Glacier can build."
                )
            directory = build_layer(spec).path
        members = {
            p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*"))
            if p.is_file() and p.name != MARKER
        }
        _zip(members, partial)
    else:
        shutil.copyfile(str(source.path), partial)
    os.replace(partial, target)


def _content(asset: Any) -> bytes:
    path = getattr(asset, "path", None)
    if path is not None:
        return Path(str(path)).read_bytes()
    return str(asset.text).encode("utf-8")


def _zip(members: dict[str, bytes], target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name])
