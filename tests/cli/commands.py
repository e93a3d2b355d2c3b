"""Two ways to run ``glacier``: in this process (typer's runner) and as a user's subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from glacier.cli import app

GLACIER_SCRIPT = Path(sys.executable).parent / "glacier"


def invoke(*args: str) -> tuple[int, str, str]:
    """Run ``glacier ARGS`` in this process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def glacier(*args: str, cwd: Path, script: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``glacier ARGS`` as a subprocess (``python -m glacier``, or the console script)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")}
    env.pop("COLUMNS", None)
    cmd = [str(GLACIER_SCRIPT)] if script else [sys.executable, "-m", "glacier"]
    return subprocess.run(
        [*cmd, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
