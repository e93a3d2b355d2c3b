"""``glacier shell``: an interactive shell with the environment, the pipeline and its datasets
bound, driven through its stdin as a user would type; production storage is read-only."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PIPELINE = textwrap.dedent(
    """
    import polars as pl
    from glacier import Dataset, Environment, Pipeline

    env = Environment.from_env()
    raw = Dataset("raw", storage=env.get("raw"))
    totals = Dataset("totals", storage=env.provider.bucket("lake", path="totals.parquet"))
    pipeline = Pipeline("sales", env=env)

    @pipeline.task()
    def total(data: raw) -> totals:
        return data.select(pl.col("amount").sum())
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    settings = tmp_path / "containers"
    settings.mkdir()
    for name in ("dev", "prod"):
        (settings / f"{name}.toml").write_text(
            f'[provider]\nkind = "local"\nbase_path = "data/{name}"\n\n'
            '[buckets.raw]\nbucket_name = "lake"\npath = "raw.parquet"\n',
            encoding="utf-8",
        )
        raw = tmp_path / "data" / name / "lake"
        raw.mkdir(parents=True)
        import polars as pl

        pl.DataFrame({"amount": [1.0, 2.0]}).write_parquet(raw / "raw.parquet")
    (tmp_path / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
    return tmp_path


def shell(
    project: Path,
    *args: str,
    stdin: str,
    pythonpath: Path | None = None,
    variables: dict[str, str] | None = None,
) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")}
    env.update(variables or {})
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(
        [sys.executable, "-m", "glacier", "shell", *args],
        cwd=project,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


TYPED = textwrap.dedent(
    """
    print("names", sorted(datasets), type(pipeline).__name__, env.name)
    print("rows", env.get("raw").read().height, raw.name)
    env.get("raw").write(pl.DataFrame({"amount": [9.0]}))
    print("after", env.get("raw").read()["amount"].to_list())
    """
)


def test_shell_binds_env_pipeline_and_datasets_and_production_is_read_only(
    project: Path,
) -> None:
    out, err = shell(project, "--env", "prod", "--interface", "python", "pipeline.py", stdin=TYPED)
    assert "names ['raw', 'totals'] Pipeline prod" in out
    assert "rows 2 raw" in out
    assert "storage read-only (production; --writable to write)" in err
    assert "ReadOnlyError" in err
    assert "environment 'prod' is production" in err
    assert "after [1.0, 2.0]" in out  # the write was refused, the data is intact


def test_shell_writes_in_production_only_with_writable(project: Path) -> None:
    out, _ = shell(
        project, "--env", "prod", "--writable", "--interface", "python", "pipeline.py", stdin=TYPED
    )
    assert "after [9.0]" in out


def test_shell_without_target_binds_the_environment(project: Path) -> None:
    out, err = shell(
        project,
        "--env",
        "dev",
        "--interface",
        "python",
        stdin='print("resources", env.list_resources(), "pipeline" in dir())\n',
    )
    assert "resources ['raw'] False" in out
    assert "storage writable" in err


def test_shell_uses_ipython_when_it_is_installed(project: Path, tmp_path: Path) -> None:
    # A stand-in IPython records what the shell hands it (IPython is not a dependency).
    fake = tmp_path / "fake"
    (fake / "IPython").mkdir(parents=True)
    (fake / "IPython" / "__init__.py").write_text(
        "def start_ipython(argv, user_ns):\n"
        "    print('ipython', argv, sorted(k for k in user_ns if not k.startswith('_')))\n",
        encoding="utf-8",
    )
    out, _ = shell(project, "--env", "dev", stdin="", pythonpath=fake)
    assert "ipython ['--no-banner'] ['env', 'pl']" in out


def test_shell_on_an_environment_from_variables_alone(project: Path) -> None:
    # No containers/production.toml: GLACIER_PROVIDER and the cloud's variables make it.
    out, err = shell(
        project,
        "--env",
        "production",
        "--interface",
        "python",
        stdin="print('on', env.name, env.provider.kind, env.region, env.is_production)\n",
        variables={"GLACIER_PROVIDER": "aws", "AWS_REGION": "ap-southeast-1"},
    )
    assert "on production aws ap-southeast-1 True" in out
    assert "read-only (production" in err
