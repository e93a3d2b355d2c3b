"""Optional dependencies: which extra brings which module, and the one error that says so.

``pip install glacier-pipelines`` runs pipelines on local files. Everything cloud- or
tool-specific is an extra, named after what a user does (``s3``, ``gcs``, ``azure``,
``deploy``, ``dask``, ``graph``, ``lineage``, ``testing``). A feature imports its optional
module through :func:`require`, so a missing one is a :class:`~glacier.errors.MissingExtraError`
whose one line names the install command, never a bare ``ModuleNotFoundError`` from deep
inside a call.

>>> require("json", "testing").__name__
'json'
>>> install_command("deploy")
"pip install 'glacier-pipelines[deploy]'"
>>> satisfies("1.43.117", "<1.43.118,>=1.43.115"), satisfies("0.4.2", ">=2026.9")
(True, False)
"""

from __future__ import annotations

import functools
import importlib
import re
from importlib.metadata import PackageNotFoundError, requires, version
from types import ModuleType

from glacier.errors import ConfigError, MissingExtraError

#: The name Glacier is published under; the import name and the command stay ``glacier``.
DISTRIBUTION = "glacier-pipelines"


def install_command(extra: str) -> str:
    """The command that installs ``extra``, quoted for a POSIX shell."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def require(module: str, extra: str, feature: str = "") -> ModuleType:
    """Import ``module``; if it, or a package it needs, is missing, say which extra to install.

    Args:
        module: The module to import (``"pulumi"``, ``"distributed"``, ``"graphviz"``).
        extra: The extra of ``glacier-pipelines`` that installs it.
        feature: What needs it, for the message (``"glacier plan"``); the module's name when
            empty.

    Raises:
        MissingExtraError: the import failed because a module is not installed. An extra
            installed only in part (a dependency of ``module`` missing) gets the same answer,
            naming the module that is missing.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module
        needs = f"{feature} needs" if feature else "This needs"
        own = missing == module or module.startswith(missing + ".")
        what = module if own else f"{module} (its dependency {missing} is missing)"
        # `from None`: the message is the whole story; the CLI prints it as one line.
        raise MissingExtraError(
            f"{needs} {what}, which is not installed: {install_command(extra)}"
        ) from None


def _findable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a broken install
        return False


def check_installed(modules: tuple[str, ...], extra: str, feature: str) -> None:
    """Refuse, without importing anything, a feature whose modules are not installed: for the
    places that know the need before the work starts (a dataset's format where it is
    declared, an executor where it is made).

    Raises:
        MissingExtraError: one line naming the missing modules and the install command.
    """
    missing = [m for m in modules if not _findable(m)]
    if missing:
        raise MissingExtraError(
            f"{feature} needs {' and '.join(missing)}, not installed: {install_command(extra)}"
        )


#: ``name<op>version`` parts of a requirement's specifier.
_CLAUSE = re.compile(r"\s*(<=|>=|==|!=|<|>|~=)\s*([0-9][0-9A-Za-z.+!*-]*)\s*")


def _release(text: str) -> tuple[int, ...]:
    """The numeric release of a version (``"2026.9.0"`` -> ``(2026, 9)``), trailing zeros
    dropped so that ``2026.9`` and ``2026.9.0`` compare equal; pre-release tags are ignored."""
    parts = [int(p) for p in re.findall(r"\d+", text.split("+")[0].split("rc")[0])[:4]]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def satisfies(installed: str, specifier: str) -> bool:
    """Whether ``installed`` meets every clause of ``specifier`` (numeric releases only: the
    floors and pins of the cloud libraries are plain ``X.Y.Z``)."""
    have = _release(installed)
    checks = {
        ">=": lambda v: have >= v,
        ">": lambda v: have > v,
        "<=": lambda v: have <= v,
        "<": lambda v: have < v,
        "==": lambda v: have == v,
        "!=": lambda v: have != v,
        "~=": lambda v: have >= v,
    }
    for clause in filter(None, (c.strip() for c in specifier.split(","))):
        match = _CLAUSE.fullmatch(clause)
        if match is None or "*" in match.group(2):
            continue  # a form this check does not read is not its to refuse
        if not checks[match.group(1)](_release(match.group(2))):
            return False
    return True


def _installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _wanted(requirements: list[str] | None, name: str, *, extras: bool = False) -> str | None:
    """The specifier ``requirements`` put on ``name`` (without markers), if any; requirements
    of the package's own extras count only with ``extras`` (another package's ``[s3]`` pins
    are not in force unless that extra was asked for)."""
    for req in requirements or ():
        if not extras and "extra ==" in req.partition(";")[2]:
            continue
        match = re.match(rf"\s*{re.escape(name)}(?:\[[^\]]*\])?\s*([^;]*)", req, re.IGNORECASE)
        if match and (not match.group(1) or match.group(1)[0] in "<>=!~ ,"):
            return match.group(1).strip()
    return None


def _floor(specifier: str | None) -> str | None:
    """The lower clauses of ``specifier`` (``">=1.43.115,<1.43.118"`` -> ``">=1.43.115"``).

    >>> _floor(">=1.43.115,<1.43.118"), _floor("<2"), _floor(None)
    ('>=1.43.115', None, None)
    """
    clauses = [c.strip() for c in (specifier or "").split(",") if c.strip().startswith(">")]
    return ",".join(clauses) or None


@functools.cache
def check_combination(extra: str, names: tuple[str, ...]) -> None:
    """Refuse, at first use, installed cloud libraries that import but cannot work together.

    Each of ``names`` must meet Glacier's own floor for it (from this distribution's
    metadata; its ceilings only guide the resolver, see the ``s3`` extra in
    ``pyproject.toml``), and every pin one of them puts on another must hold: an upgrade of
    boto3 beside s3fs has been seen to pull an s3fs from before aiobotocore (0.4.2), or a
    botocore that aiobotocore does not accept; both then fail at the first call, deep in a
    traceback.

    Raises:
        ConfigError: one line naming the package, its version, what is needed and the fix.
    """
    try:
        ours = requires(DISTRIBUTION)
    except PackageNotFoundError:
        ours = None  # run from a source tree without metadata: nothing to compare against
    fix = "reinstall them together: " + install_command(extra).replace(
        "pip install", "pip install --force-reinstall"
    )
    for name in names:
        have = _installed(name)
        if have is None:
            continue
        floor = _floor(_wanted(ours, name, extras=True))
        if floor and not satisfies(have, floor):
            raise ConfigError(f"{name} {have} is installed, but Glacier needs {name}{floor}; {fix}")
        try:
            pins = requires(name)
        except PackageNotFoundError:
            continue
        for other in names:
            other_have = _installed(other) if other != name else None
            wanted = _wanted(pins, other) if other_have else None
            if wanted and other_have and not satisfies(other_have, wanted):
                raise ConfigError(
                    f"{name} {have} needs {other}{wanted}, but {other} {other_have} is "
                    f"installed (they are released in step); {fix}"
                )
