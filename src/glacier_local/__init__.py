"""Compatibility names from Glacier's early design notes: ``from glacier_local import ...``.

Everything lives in :mod:`glacier`; these are the same objects.
"""

from glacier.executors.local import LocalExecutor

__all__ = ["LocalExecutor"]
