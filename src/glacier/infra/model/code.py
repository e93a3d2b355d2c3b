"""Where a pipeline's code is: the file and attribute a deployed task loads it from.

:func:`find_code` looks for the object among the imported modules of the user's project (not
Python's, not installed packages'), so the plan packages the code the pipeline came from.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glacier.flow import PipelineLike

if TYPE_CHECKING:
    from glacier.pipeline import Pipeline

__all__ = ["CodeSpec", "find_code"]


@dataclass(frozen=True)
class CodeSpec:
    """Where the pipeline's code is: a target for :func:`glacier.targets.load_target`.

    ``file`` is the module defining the pipeline; ``root`` the directory its import path
    starts from (the file's directory, or above its top-level package); ``attr`` the
    attribute (or pipeline name) inside it.
    """

    file: Path
    attr: str
    root: Path

    @property
    def target(self) -> str:
        """``/abs/path/file.py:attr``."""
        return f"{self.file}:{self.attr}"

    @property
    def relative_target(self) -> str:
        """The target relative to :attr:`root` (how a packaged function finds it)."""
        return f"{self.file.relative_to(self.root).as_posix()}:{self.attr}"

    @property
    def module_target(self) -> str:
        """The target as ``package.module:attr`` (how code on ``sys.path`` is found)."""
        module = self.file.relative_to(self.root).with_suffix("").as_posix().replace("/", ".")
        return f"{module}:{self.attr}"

    @property
    def package(self) -> Path | None:
        """The top-level package directory holding the file, if it is in one."""
        rel = self.file.relative_to(self.root)
        return self.root / rel.parts[0] if len(rel.parts) > 1 else None


def find_code(origin: Any, pipeline: Pipeline) -> CodeSpec | None:
    """Where ``origin`` (a Pipeline or FlowPipeline) is defined, as a loadable target.

    A module-level attribute holding the object wins; else the file of its first task, with
    the pipeline's name (which :func:`~glacier.targets.load_target` also accepts).
    """
    named: list[tuple[Any, str]] = []
    for module in _user_modules():
        for attr, value in list(vars(module).items()):
            if attr.startswith("_"):
                continue
            if value is origin:
                return _code_spec(Path(module.__file__), attr)
            if isinstance(value, PipelineLike) and value.name == pipeline.name:
                named.append((module, attr))
    # A traced data-flow pipeline is a new object; the function it came from is not.
    if len(named) == 1:
        module, attr = named[0]
        return _code_spec(Path(module.__file__), attr)
    for task in pipeline.tasks.values():
        file = task.location.file
        if file.endswith(".py") and Path(file).exists():
            return _code_spec(Path(file), pipeline.name)
    return None


def _code_spec(file: Path, attr: str) -> CodeSpec:
    file = file.resolve()
    root = file.parent
    while (root / "__init__.py").exists() and root.parent != root:
        root = root.parent
    return CodeSpec(file=file, attr=attr, root=root)


def _user_modules() -> list[Any]:
    """Imported modules that are not part of Python or an installed package."""
    skip = tuple(p for p in {sys.prefix, sys.base_prefix, sys.exec_prefix} if p)
    out = []
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.endswith(".py") and not file.startswith(skip):
            out.append(module)
    return out
