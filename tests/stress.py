"""The suite's two sizes: the default run, and the stress run.

``pytest --stress`` (``python3 dev.py test --stress``) sets ``GLACIER_STRESS=1`` before any
test module is imported; then the tests marked ``@pytest.mark.stress`` run too (the full
matrices: every first-pipeline rehearsal cell) and the repeated trials run more times. The
default run keeps at least one test of every behaviour, with fewer trials (docs/testing.md,
"How long the suite takes and why").
"""

from __future__ import annotations

import os

#: Whether this is a stress run (read once, when the suite starts).
STRESS = os.environ.get("GLACIER_STRESS", "") == "1"


def trials(default: int, stress: int) -> int:
    """How many times a repeated trial runs: ``stress`` in a stress run, else ``default``."""
    return stress if STRESS else default
