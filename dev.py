#!/usr/bin/env python3
"""Set up Glacier's development environment and run its main job or its test suite.

    python3 dev.py demo              # set up, then run the demo pipeline on local files
    python3 dev.py test [PYTEST...]  # set up, then ruff, mypy, lint-imports, docs, all tests
    python3 dev.py test --stress     # also the full matrices and long trials (tests/stress.py)
    python3 dev.py test --lowest     # the suite on the lowest versions pyproject.toml allows
    python3 dev.py test --newest     # the suite on the newest versions released today
    python3 dev.py lock              # re-resolve requirements-dev.lock after editing pyproject

Needs only python3. Creates ``.venv``, puts uv in it with pip, and installs the project with
all extras at the versions pinned in ``requirements-dev.lock``; reinstalls only when
``pyproject.toml`` or the lock changes. ``--lowest`` and ``--newest`` resolve afresh into
``.venv-lowest`` / ``.venv-newest`` (not the lock) and run pytest there: they prove that the
ranges ``pyproject.toml`` states are ranges that work. Installs the non-Python components the
tests start (Azurite from npm, graphviz, PostgreSQL and Chromium from Debian) when they are
missing.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LOCK = ROOT / "requirements-dev.lock"
EXTRAS = "all,dev"
NODE_PREFIX = ROOT / ".cache" / "node"
LINTED = ["src", "tests", "examples", "benchmarks", "containers"]

#: --lowest / --newest: uv's resolution strategy. "lowest-direct" takes the lower bound of each
#: of our own requirements (their dependencies at their newest), which is what a bound claims.
RESOLUTIONS = {"--lowest": "lowest-direct", "--newest": "highest"}


def log(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Venv:
    """A virtualenv of this checkout, and how its packages are chosen."""

    path: Path
    #: None: the versions pinned in the lock; else a uv resolution strategy (no lock).
    resolution: str | None = None
    #: The extras of glacier-pipelines installed into it.
    extras: str = EXTRAS
    #: Byte-compile at install (imports without .pyc files are ~2.5x slower, and uv skips
    #: them): worth it for the suite's many runs; the demo compiles only what it imports.
    compile: bool = True

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def stamp(self) -> Path:
        return self.path / ".glacier-deps"

    def deps_hash(self) -> str:
        h = hashlib.sha256()
        h.update((ROOT / "pyproject.toml").read_bytes())
        pins = LOCK.read_bytes() if LOCK.exists() else b""
        h.update(pins if self.resolution is None else self.resolution.encode())
        h.update(self.extras.encode())
        h.update(sys.version.encode())
        return h.hexdigest()


DEV = Venv(ROOT / ".venv")
#: The demo's own virtualenv: Glacier with only what the demo uses (running, planning), at the
#: lock's versions, so that the README's first command is quick on a fresh machine.
DEMO = Venv(ROOT / ".venv-demo", extras="deploy", compile=False)


def uv(venv: Venv) -> Path:
    """uv inside ``venv``, installed with the venv's own pip the first time (needs only python3)."""
    exe = venv.bin / "uv"
    if not exe.exists():
        run([str(venv.python), "-m", "pip", "install", "-qq", "--disable-pip-version-check",
             "uv"])
    return exe


def ensure_venv(venv: Venv = DEV, *, quiet: bool = False) -> None:
    if not venv.python.exists():
        log(f"creating {venv.path.name}")
        run([sys.executable, "-m", "venv", str(venv.path)])
    want = venv.deps_hash()
    if venv.stamp.exists() and venv.stamp.read_text() == want:
        log(f"{venv.path.name} is up to date with pyproject.toml")
        return
    t0 = time.time()
    pinned = "the lock" if venv.resolution is None else f"resolution {venv.resolution}"
    log(f"installing glacier-pipelines[{venv.extras}] into {venv.path.name} ({pinned})")
    # --compile-bytecode: imports without .pyc files are ~2.5x slower, and uv skips them.
    # The distribution was called `glacier` before; two installs would both own `glacier/`.
    if any(venv.path.glob("lib/python*/site-packages/glacier-*.dist-info")):
        run([str(uv(venv)), "pip", "uninstall", "--python", str(venv.python), "glacier"])
    cmd = [str(uv(venv)), "pip", "install", "--python", str(venv.python)]
    if venv.compile:
        cmd.append("--compile-bytecode")
    if quiet:
        cmd.append("--quiet")
    if venv.resolution is None and LOCK.exists():
        cmd += ["--constraints", str(LOCK)]
    else:
        cmd += ["--resolution", venv.resolution, "--upgrade"]
    run([*cmd, "--editable", f"{ROOT}[{venv.extras}]"])
    venv.stamp.write_text(want)
    log(f"installed in {time.time() - t0:.0f}s")


def lock(args: list[str]) -> int:
    """Re-resolve ``requirements-dev.lock`` (newest versions pyproject.toml allows)."""
    ensure_venv()
    run(
        [str(uv(DEV)), "pip", "compile", "pyproject.toml", "--extra", "all", "--extra", "dev",
         "--python-version", "3.11", "--universal", "--upgrade", "-o", LOCK.name, *args],
        cwd=ROOT,
    )
    return 0


#: pytest's worker processes (pytest-xdist), a module's tests on one worker so its module
#: fixtures start once (docs/testing.md, "How long the suite takes and why").
SUITE_WORKERS = ["-n", "2", "--dist", "loadfile"]


def pytest_command(venv: Venv, args: list[str]) -> list[str]:
    """pytest in ``venv`` with ``args``, on :data:`SUITE_WORKERS` unless ``args`` choose
    (``-n 0``: one process)."""
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) for a in args)
    return [str(venv.bin / "pytest"), "-p", "no:cacheprovider", *([] if chosen else SUITE_WORKERS),
            *args]


#: Tools the suite runs that cannot share the project's environment: checkov pins packaging
#: and boto3 versions that conflict with the lock, so it gets a virtualenv of its own.
TOOLS = {"checkov": "checkov==3.3.30"}


def ensure_tool(name: str) -> Path:
    """``.venv-<name>`` with the pinned tool, made (quietly) the first time; its executable."""
    venv = ROOT / f".venv-{name}"
    exe = venv / "bin" / name
    stamp = venv / ".glacier-tool"
    if exe.exists() and stamp.exists() and stamp.read_text() == TOOLS[name]:
        return exe
    log(f"installing {TOOLS[name]} into {venv.name} (a tool of the suite)")
    run([sys.executable, "-m", "venv", "--clear", str(venv)])
    run([str(uv(DEV)), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         TOOLS[name]])
    stamp.write_text(TOOLS[name])
    return exe


def apt_install(*packages: str) -> None:
    if shutil.which("apt-get") is None:
        raise SystemExit(f"[dev] need {', '.join(packages)} but apt-get is not available")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # apt's progress goes to a log, shown only when it fails.
    logfile = ROOT / ".cache" / "apt.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    for cmd in ([*sudo, "apt-get", "update", "-qq"],
                [*sudo, "apt-get", "install", "-y", "-qq", *packages]):
        log("$ " + " ".join(cmd))
        with logfile.open("w") as out:
            done = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            print(logfile.read_text()[-4000:], file=sys.stderr)
            raise SystemExit(f"[dev] {' '.join(cmd)} failed (exit {done.returncode})")


def ensure_graphviz() -> None:
    if shutil.which("dot") is None:
        log("installing graphviz (for glacier graph PNG/SVG)")
        apt_install("graphviz")


def has_postgres() -> bool:
    """``initdb`` and ``pg_ctl`` on PATH or in Debian's versioned directory (as
    ``tests/postgres.py`` looks for them)."""
    return all(
        shutil.which(tool) or glob.glob(f"/usr/lib/postgresql/*/bin/{tool}")
        for tool in ("initdb", "pg_ctl", "psql")
    )


def ensure_chromium() -> None:
    # The UI's tests drive Debian's headless Chromium (tests/browser.py).
    if not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")):
        log("installing chromium (for the UI's browser tests)")
        apt_install("chromium")


def ensure_postgres() -> None:
    # The database tests and benchmark start a real server (initdb/pg_ctl as `postgres`).
    if not has_postgres():
        log("installing PostgreSQL (for the database tests)")
        apt_install("postgresql")


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


def tool_env(venv: Venv = DEV) -> dict[str, str]:
    env = dict(os.environ)
    # Let Python cache our own bytecode: imports without .pyc are ~2.5x slower.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PATH"] = f"{venv.bin}{os.pathsep}{env.get('PATH', '')}"
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's banner about MkDocs 2 on every build
    return env


def demo(args: list[str]) -> int:
    """The README's main job: run the medallion example on local files, draw it, plan prod.

    It installs only what the demo uses (Glacier with the ``deploy`` extra, into
    ``.venv-demo``), quietly; the DAG is a self-contained HTML page (no Graphviz needed).
    """
    ensure_venv(DEMO, quiet=True)
    env = tool_env(DEMO)
    for var in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR"):
        env.pop(var, None)  # the demo is dev on local files, whatever the shell says
    glacier = str(DEMO.bin / "glacier")
    picture = ROOT / "demo-output" / "medallion.html"
    steps = [
        [glacier, "run", "examples/medallion.py", *args],
        [glacier, "graph", "examples/medallion.py", "--html", str(picture.relative_to(ROOT))],
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
    log(f"  DAG and last run (open in a browser): {picture}")
    log(f"  run records: {ROOT / '.glacier'}")
    return 0


def test(args: list[str]) -> int:
    modes = [a for a in args if a in RESOLUTIONS]
    pytest_args = [a for a in args if a not in RESOLUTIONS]
    if len(modes) > 1:
        raise SystemExit("[dev] choose one of --lowest and --newest")
    ensure_graphviz()
    ensure_azurite()
    ensure_postgres()
    ensure_chromium()
    ensure_venv(DEV)  # its uv installs the tools
    ensure_tool("checkov")
    if modes:
        # Only the suite: the linters' own versions are not what these modes check.
        mode = modes[0]
        venv = Venv(ROOT / f".venv-{mode.removeprefix('--')}", RESOLUTIONS[mode])
        ensure_venv(venv)
        steps = [pytest_command(venv, pytest_args)]
        beside: list[str] | None = None
    else:
        venv = DEV
        ensure_venv(venv)
        steps = [
            [str(venv.bin / "ruff"), "check", *LINTED],
            [str(venv.bin / "ruff"), "format", "--check", "src"],
            [str(venv.bin / "lint-imports")],
            # The site goes to site/ (ignored by git): the check is that it builds, strictly.
            [str(venv.bin / "mkdocs"), "build", "--strict", "--quiet", "--site-dir", "site"],
            pytest_command(venv, pytest_args),
        ]
        # mypy (2-3 minutes without its cache, as in a fresh clone) runs beside pytest, whose
        # processes leave a core idle much of the time; its output follows pytest's.
        beside = [str(venv.bin / "mypy"), "src/glacier"]
    env = tool_env(venv)
    for cmd in steps:
        checker = None
        if beside is not None and cmd is steps[-1]:
            log("$ " + " ".join(beside) + "  (beside pytest; its output follows)")
            checker = subprocess.Popen(beside, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
        log("$ " + " ".join(cmd))
        code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        if checker is not None:
            output, _ = checker.communicate()
            log("$ " + " ".join(beside))
            print(output, end="", flush=True)
            if checker.returncode != 0:
                log(f"failed: {' '.join(beside[:2])} (exit {checker.returncode})")
                return checker.returncode
        if code != 0:
            log(f"failed: {' '.join(cmd[:2])} (exit {code})")
            return code
    return 0


def main() -> int:
    commands = {"demo": demo, "test": test, "lock": lock, "setup": setup}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


def setup(args: list[str]) -> int:
    ensure_venv()
    ensure_tool("checkov")  # tests/infra/test_terraform_checkov.py runs it
    ensure_graphviz()
    ensure_azurite()
    ensure_postgres()
    ensure_chromium()
    return 0


if __name__ == "__main__":
    sys.exit(main())
