"""Package-level promises: a light import, a small public surface, runnable docstrings."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import glacier
from glacier import Environment

HEAVY = (
    *("boto3", "botocore", "pulumi", "pulumi_aws", "s3fs", "gcsfs", "adlfs", "dask"),
    *("deltalake", "pyarrow"),
    *("adbc_driver_manager", "adbc_driver_postgresql", "connectorx"),
)


def test_import_glacier_loads_no_cloud_sdk() -> None:
    code = (
        "import sys, glacier, glacier.config, glacier.testing\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_public_names_are_exported() -> None:
    for name in glacier.__all__:
        assert getattr(glacier, name) is not None
    assert glacier.GlacierEnv is glacier.Environment


@pytest.mark.parametrize(
    "module",
    [
        "glacier",
        "glacier.dataset",
        "glacier.provider",
        "glacier.environment",
        "glacier.executors.local",
        "glacier.cache",
        "glacier.runstore",
        "glacier.result",
        "glacier.formats",
        "glacier.uris",
        "glacier.adapters.manifest",
        "glacier.adapters.partitions",
        "glacier.adapters.tables",
        "glacier.adapters.storage_errors",
        "glacier.schemas",
        "glacier.checks.builtins",
        "glacier.checks.evaluate",
        "glacier.checks.report",
        "glacier.settings.checks",
        "glacier.task_options",
        "glacier.resources.database",
        "glacier.env_vars",
        "glacier.dispatch",
        "glacier.run_options",
        "glacier.infra.gcp.conditions",
        "glacier.infra.gcp.data_access",
        "glacier.infra.gcp.definition",
        "glacier.infra.gcp.labels",
        "glacier.infra.gcp.mock_outputs",
        "glacier.infra.gcp.naming",
        "glacier.infra.gcp.orchestration",
        "glacier.infra.gcp.registry",
        "glacier.row_counts",
    ],
)
def test_docstring_examples_run(module: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


def test_dask_executor_runs_the_same_pipeline(glacier_env: Environment) -> None:
    import polars as pl

    from glacier import Dataset, Pipeline
    from glacier.executors.dask import DaskExecutor

    pipeline = Pipeline("dask", env=glacier_env)
    a, b, c = Dataset("a"), Dataset("b"), Dataset("c")

    @pipeline.task()
    def make() -> a:
        return pl.DataFrame({"v": [1, 2, 3]})

    @pipeline.task(retries=1)
    def double(x: a) -> b:
        return x.with_columns(pl.col("v") * 2)

    @pipeline.task()
    def broken(x: a) -> c:
        raise ValueError("boom")

    result = pipeline.run(executor=DaskExecutor(n_workers=1), raise_on_failure=False)
    assert result["b"]["v"].to_list() == [2, 4, 6]
    assert result.tasks["broken"].status == "failed"
    assert result.tasks["broken"].attempts == 1


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel of this checkout, built as a release would build them."""
    out = tmp_path_factory.mktemp("dist")
    uv = Path(sys.executable).with_name("uv")
    subprocess.run(
        [str(uv), "build", "--sdist", "--wheel", "--out-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return out


def test_the_sdist_holds_the_whole_test_suite(built: Path) -> None:
    (sdist,) = built.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name}
    suite = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "tests").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert suite, "no test files found"
    assert suite <= members, sorted(suite - members)[:10]
    assert {"dev.py", "requirements-dev.lock", "tests/conftest.py"} <= members


def test_the_wheel_installs_glacier_and_the_documented_compatibility_packages(
    built: Path,
) -> None:
    (wheel,) = built.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top = {
            n.split("/", 1)[0]
            for n in archive.namelist()
            if not n.split("/")[0].endswith((".dist-info", ".data"))
        }
    assert top == {"glacier", "glacier_aws", "glacier_local"}
    docs = (ROOT / "docs" / "getting-started.md").read_text()
    assert all(f"`{name}`" in docs for name in top)


def test_environment_variable_names_are_said_once() -> None:
    """Code names Glacier's variables through glacier.env_vars, not as string literals
    (messages, docstrings and the code templates of ``glacier init`` and generated projects
    spell them out)."""
    import re

    import glacier.env_vars as env_vars

    src = Path(glacier.__file__).parent
    names = [n for n in env_vars.__all__ if n.startswith("GLACIER_")]
    literal = re.compile(r'(?<![\w{])"(' + "|".join(names) + r')"')
    found = [
        f"{path.relative_to(src)}:{n}"
        for path in sorted(src.rglob("*.py"))
        if path.name not in {"env_vars.py", "scaffold.py", "project.py"}
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line) and not line.lstrip().startswith((">>>", "..."))
    ]
    assert found == []
