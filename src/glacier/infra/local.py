"""Local environments need no cloud infrastructure.

:class:`LocalInfrastructure` is the ``local`` choice of the cloud container's
``infrastructure`` provider: a local environment's buckets are directories and its tasks run
in-process, so a program declares nothing for it.
"""

from __future__ import annotations

from typing import Any

from glacier.infra.model import InfraModel


class LocalInfrastructure:
    """Declares nothing: local data lives in directories, local tasks run in-process.

    Example:
        >>> LocalInfrastructure().declare(model=None, env="local") is None  # doctest: +SKIP
        True
    """

    cloud = "local"

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def describe(self) -> str:
        """One line on what this builder declares."""
        base = getattr(self.config, "base_path", None)
        where = f" (data under {base})" if base is not None else ""
        return (
            f"A local environment{where} runs on this machine and needs no cloud "
            "infrastructure: nothing is declared."
        )

    def declare(self, model: InfraModel, env: str) -> None:
        """Declare nothing."""
        return None
