"""How strict an environment is about data checks: the ``[checks]`` section of a settings file.

A check's severity is written with it in code (``unique("id", severity="warn")``; ``error`` by
default). An environment may relax or tighten it without touching the code: warn in dev, error
in prod. The most specific setting wins: one check of one dataset, then every check of one
dataset (``"*"``), then every check (``severity``), then the code.

Example:
    ``containers/dev.toml``::

        [checks]
        severity = "warn"                    # in dev, no check stops a run...

        [checks.datasets.orders]
        "unique(order_id)" = "error"         # ...but this one

    >>> strict = {"orders": {"unique(order_id)": "error"}}
    >>> settings = CheckSettings(severity="warn", datasets=strict)
    >>> settings.severity_of("orders", "unique(order_id)", "error")
    'error'
    >>> settings.severity_of("orders", "not_null(order_id)", "error")
    'warn'
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import model_validator

from glacier.settings.base import GlacierModel

__all__ = ["ALL_CHECKS", "CheckSettings"]

#: The key naming every check of a dataset in ``[checks.datasets.<name>]``.
ALL_CHECKS = "*"

Severity = Literal["error", "warn"]


class CheckSettings(GlacierModel):
    """Severities of data checks in one environment (see :mod:`glacier.checks`).

    Args:
        severity: Every check's severity here (``None``: as written in the code).
        datasets: Per dataset name, the severity of its checks by check name
            (``"unique(order_id)"``, as ``glacier runs show`` prints it), or ``"*"`` for all
            of them. A dataset of the pipeline that has no check of a name given here is
            refused when a run starts (a misspelt name would otherwise change nothing).
    """

    severity: Severity | None = None
    datasets: dict[str, dict[str, Severity]] = {}

    @model_validator(mode="after")
    def checks_are_named(self) -> Self:
        for dataset, checks in self.datasets.items():
            for name in checks:
                if not name.strip():
                    raise ValueError(
                        f"[checks.datasets.{dataset}] has an empty key: a check is named by its "
                        'name, e.g. "unique(order_id)" = "warn", or "*" for all its checks.'
                    )
        return self

    def severity_of(self, dataset: str, check: str, declared: str) -> str:
        """The severity of check ``check`` of ``dataset`` here (``declared``: the code's)."""
        own = self.datasets.get(dataset)
        if own is not None:
            chosen = own.get(check) or own.get(ALL_CHECKS)
            if chosen is not None:
                return chosen
        return self.severity or declared
