#!/usr/bin/env python3
"""Set up Glacier's development environment and run its main job or its test suite.

    python3 dev.py demo    # set up, then run the demo pipeline on local files
    python3 dev.py test    # set up, then run ruff, mypy, lint-imports and the whole pytest suite

Needs only python3. Creates ``.venv`` and installs the project with all extras; reinstalls
only when ``pyproject.toml`` changes. Installs the non-Python components the tests start
(Azurite from npm, graphviz from Debian) when they are missing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PY = BIN / "python"
NODE_PREFIX = ROOT / ".cache" / "node"
STAMP = VENV / ".glacier-deps"


def log(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


def deps_hash() -> str:
    h = hashlib.sha256()
    h.update((ROOT / "pyproject.toml").read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()


def ensure_venv() -> None:
    if not PY.exists():
        log("creating .venv")
        run([sys.executable, "-m", "venv", str(VENV)])
    want = deps_hash()
    if STAMP.exists() and STAMP.read_text() == want:
        log(".venv is up to date with pyproject.toml")
        return
    t0 = time.time()
    log("installing glacier[all,dev] into .venv (first time: several minutes)")
    run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([str(PY), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[all,dev]"])
    STAMP.write_text(want)
    log(f"installed in {time.time() - t0:.0f}s")


def apt_install(*packages: str) -> None:
    if shutil.which("apt-get") is None:
        raise SystemExit(f"[dev] need {', '.join(packages)} but apt-get is not available")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run([*sudo, "apt-get", "update", "-qq"], env=env)
    run([*sudo, "apt-get", "install", "-y", "-qq", *packages], env=env)


def ensure_graphviz() -> None:
    if shutil.which("dot") is None:
        log("installing graphviz (for glacier graph PNG/SVG)")
        apt_install("graphviz")


def ensure_azurite() -> None:
    if (NODE_PREFIX / "node_modules" / ".bin" / "azurite-blob").exists():
        return
    if shutil.which("npm") is None:
        log("installing nodejs and npm (for the Azurite emulator)")
        apt_install("nodejs", "npm")
    NODE_PREFIX.mkdir(parents=True, exist_ok=True)
    log("installing Azurite (Azure Blob emulator) from npm")
    run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(NODE_PREFIX),
         "azurite"])


def tool_env() -> dict[str, str]:
    env = dict(os.environ)
    # Let Python cache our own bytecode: imports without .pyc are ~2.5x slower.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def demo(args: list[str]) -> int:
    """The README's main job: run the medallion example on local files, draw it, plan prod."""
    ensure_venv()
    ensure_graphviz()
    env = tool_env()
    for var in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR"):
        env.pop(var, None)  # the demo is dev on local files, whatever the shell says
    glacier = str(BIN / "glacier")
    picture = ROOT / "demo-output" / "medallion.png"
    steps = [
        [glacier, "run", "examples/medallion.py", *args],
        [glacier, "graph", "examples/medallion.py", "-o", str(picture.relative_to(ROOT))],
        [glacier, "plan", "examples/medallion.py", "--env", "prod"],
    ]
    for cmd in steps:
        print(flush=True)
        log("$ " + " ".join(Path(c).name if c == glacier else c for c in cmd))
        code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        if code != 0:
            log(f"demo failed at: glacier {cmd[1]} (exit {code})")
            return code
    print(flush=True)
    log("demo done:")
    log(f"  data written under {ROOT / 'data' / 'dev'} (bronze, silver, gold zones)")
    log(f"  DAG picture: {picture}")
    log(f"  run records: {ROOT / '.glacier'}")
    return 0


def test(args: list[str]) -> int:
    ensure_venv()
    ensure_graphviz()
    ensure_azurite()
    env = tool_env()
    steps = [
        [str(BIN / "ruff"), "check", "src", "tests", "examples", "benchmarks", "containers"],
        [str(BIN / "ruff"), "format", "--check", "src"],
        [str(BIN / "mypy"), "src/glacier"],
        [str(BIN / "lint-imports")],
        [str(BIN / "pytest"), "-p", "no:cacheprovider", *args],
    ]
    for cmd in steps:
        log("$ " + " ".join(cmd))
        code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        if code != 0:
            log(f"failed: {' '.join(cmd[:2])} (exit {code})")
            return code
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"demo", "test", "setup"}:
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "setup":
        ensure_venv()
        ensure_graphviz()
        ensure_azurite()
        return 0
    return demo(rest) if command == "demo" else test(rest)


if __name__ == "__main__":
    sys.exit(main())
