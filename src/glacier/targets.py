"""Finding a pipeline from a target string: ``path/to/file.py[:name]`` or ``module:name``.

Used by the ``glacier`` command and by generated Pulumi programs, which import the user's
pipeline to declare its infrastructure.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from glacier.errors import TargetImportError, TargetNotFoundError
from glacier.flow import PipelineLike

__all__ = ["PipelineLike", "find_objects", "find_pipelines", "import_target_module", "load_target"]


def load_target(target: str) -> PipelineLike:
    """The pipeline ``target`` names.

    ``file.py`` alone works when the file defines exactly one pipeline; otherwise name it
    (``file.py:etl``). The name is a module attribute or a pipeline's ``name``.
    """
    module, attr = _import(target)
    found = find_pipelines(module)
    if attr:
        obj = getattr(module, attr, None)
        if isinstance(obj, PipelineLike):
            return obj
        by_name = [p for p in found.values() if p.name == attr]
        if len(by_name) == 1:
            return by_name[0]
        raise TargetNotFoundError(
            f"{target!r}: no pipeline named {attr!r}. Found: {_listing(found)}."
        )
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        raise TargetNotFoundError(
            f"{target!r} defines no pipeline. Define one at module level: "
            "pipeline = Pipeline('name') or an @env.pipeline() function."
        )
    raise TargetNotFoundError(
        f"{target!r} defines several pipelines; pick one with {target}:NAME. "
        f"Found: {_listing(found)}."
    )


def find_pipelines(module: ModuleType) -> dict[str, PipelineLike]:
    """Module-level pipelines by attribute name."""
    return {k: v for k, v in vars(module).items() if isinstance(v, PipelineLike)}


def find_objects(module: ModuleType, kind: type) -> dict[str, Any]:
    """Module-level objects of ``kind`` by attribute name (e.g. environments)."""
    return {k: v for k, v in vars(module).items() if isinstance(v, kind)}


def import_target_module(target: str) -> ModuleType:
    """The module part of a target, imported."""
    return _import(target)[0]


def _import(target: str) -> tuple[ModuleType, str]:
    path_part, attr = _split(target)
    if path_part.endswith(".py") or "/" in path_part or Path(path_part).exists():
        path = Path(path_part)
        if not path.exists():
            raise TargetNotFoundError(
                f"Pipeline file {path_part!r} does not exist (looked in {Path.cwd()}). "
                "Give a path to a .py file or a module name such as 'mypkg.pipelines:etl'."
            )
        return _import_file(path.resolve()), attr
    try:
        return importlib.import_module(path_part), attr
    except ModuleNotFoundError as exc:
        raise TargetNotFoundError(
            f"Cannot import module {path_part!r} ({exc}). Give a path to a .py file, or a "
            "module importable from the current directory."
        ) from None
    except SyntaxError as exc:
        raise TargetImportError(
            f"Module {path_part!r} ({exc.filename}:{exc.lineno}) is not valid Python "
            f"({exc.msg}); fix the file so that it imports."
        ) from None


def _split(target: str) -> tuple[str, str]:
    head, sep, tail = target.rpartition(":")
    if sep and not tail and len(head) > 1:
        raise TargetNotFoundError(
            f"Target {target!r} ends with ':' and names nothing after it: write "
            f"{head}:pipeline (the name holding the pipeline), or {head} alone to find it."
        )
    # "C:\\x.py" and plain paths have no attribute part.
    if not sep or "/" in tail or "\\" in tail or tail.endswith(".py") or len(head) == 1:
        return target, ""
    return head, tail


def _import_file(path: Path) -> ModuleType:
    name = f"glacier_target_{abs(hash(str(path)))}"
    existing = sys.modules.get(name)
    if existing is not None:
        return existing
    parent = str(path.parent)
    if parent not in sys.path:
        # Let the pipeline file import its neighbours, as `python file.py` would.
        sys.path.insert(0, parent)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TargetNotFoundError(f"Cannot load {path} as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        line = f":{exc.lineno}" if exc.lineno else ""
        raise TargetImportError(
            f"Pipeline file {path}{line} is not valid Python ({exc.msg}); fix the file so "
            f"that `python {path.name}` runs."
        ) from None
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _listing(found: dict[str, PipelineLike]) -> str:
    if not found:
        return "(none)"
    return ", ".join(f"{k} (pipeline {v.name!r})" for k, v in found.items())
