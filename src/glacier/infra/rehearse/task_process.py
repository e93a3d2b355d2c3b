"""Running one task's artifact in a clean process, with what the cloud would give it.

The process gets exactly: the variables the plan sets on the task, its role's session
credentials, its region, the emulator's endpoint (through the recording proxy), the code
directory on the path (and, for Lambda, ``LAMBDA_TASK_ROOT``), an empty home (no
``~/.aws``) and a minimal ``PATH``. Nothing else of the caller's environment reaches it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glacier import env_vars
from glacier.infra.rehearse.artifacts import Artifact
from glacier.infra.rehearse.identity import Credentials

#: How long one task may run in a rehearsal.
TASK_TIMEOUT = 900


@dataclass(frozen=True)
class Outcome:
    """One attempt: whether it succeeded, what it wrote, its own error."""

    succeeded: bool
    written: tuple[str, ...]
    error: str
    seconds: float


def environment(
    artifact: Artifact, code: Path, home: Path, credentials: Credentials, endpoint: str
) -> dict[str, str]:
    """The task process's whole environment (see the module docs)."""
    env = {
        **artifact.variables,
        **credentials.variables(),
        "AWS_REGION": artifact.region,
        "AWS_DEFAULT_REGION": artifact.region,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ALLOW_HTTP": "true",
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(code),
    }
    if artifact.compute == "lambda":
        env["LAMBDA_TASK_ROOT"] = str(code)
    return env


def run(
    artifact: Artifact,
    code: Path,
    env: dict[str, str],
    run_id: str,
    timeout: float = TASK_TIMEOUT,
    python: str | None = None,
) -> Outcome:
    """Start the artifact once, in ``code``, with ``python`` (this interpreter by default; an
    image's own environment to prove what it installs is enough), and wait for it (at most
    ``timeout`` s)."""
    if artifact.compute != "lambda":
        env = {**env, env_vars.GLACIER_RUN_ID: run_id}  # the state's container override / argument
    start = time.perf_counter()
    try:
        done = subprocess.run(
            artifact.command(python or sys.executable, run_id),
            cwd=code,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(False, (), f"timed out after {timeout:g} s", timeout)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return Outcome(False, (), last_error(done.stderr), seconds)
    written = _result(done.stdout).get("written") or []
    return Outcome(True, tuple(str(w) for w in written), "", seconds)


def last_error(stderr: str) -> str:
    """The task's own error: the last line of its traceback."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "exited with an error and no output"


def _result(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}
