"""A deployed task's cold start, with Python's cyclic garbage collector paused.

A deployed task's start creates a few hundred thousand objects that live as long as the
process (modules, classes, settings models); the cyclic collector would walk them again and
again while they load, about a tenth of the cold start (docs/performance.md). Importing this
module pauses it in a deployed task (``GLACIER_DEPLOYED=1``): :mod:`glacier.infra.runtime`,
which every deployed entry imports first, imports it before anything heavy.
:func:`end_cold_start` (called once the pipeline is loaded) freezes what the start created
out of the collector's way (``gc.freeze``) and resumes it, so the task itself runs with the
collector on, as anywhere else. Elsewhere (tests, a laptop, the CLI) importing it changes
nothing.
"""

from __future__ import annotations

import gc
import os

from glacier import env_vars

__all__ = ["end_cold_start", "paused"]

_paused = os.environ.get(env_vars.GLACIER_DEPLOYED) == "1" and gc.isenabled()
if _paused:
    gc.disable()


def paused() -> bool:
    """Whether the collector is paused for this process's cold start."""
    return _paused


def end_cold_start() -> None:
    """Resume the collector paused for the cold start (if this module paused it), first
    freezing what the start created: long-lived, and not worth walking again."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
