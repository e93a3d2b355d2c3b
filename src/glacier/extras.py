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
"""

from __future__ import annotations

import importlib
from types import ModuleType

from glacier.errors import MissingExtraError

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
