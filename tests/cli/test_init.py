"""``glacier init``: a new project that runs, validates and passes its own tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .commands import glacier, invoke


def test_init_scaffolds_a_project(project: Path) -> None:
    code, out, err = invoke("init", "Sales Pipeline")
    assert code == 0, err
    root = project / "Sales Pipeline"
    for name in (
        "pipeline.py",
        "containers/dev.toml",
        "containers/prod.toml",
        "tests/test_pipeline.py",
        "README.md",
    ):
        assert (root / name).is_file()
        assert name in out
    assert 'Pipeline("sales-pipeline"' in (root / "pipeline.py").read_text()
    assert "Environment.from_env(" in (root / "pipeline.py").read_text()
    assert "glacier_memory_env" in (root / "tests" / "test_pipeline.py").read_text()
    assert 'account_id = "123456789012"' in (root / "containers" / "prod.toml").read_text()


def test_init_refuses_a_non_empty_directory(project: Path) -> None:
    (project / "taken").mkdir()
    (project / "taken" / "notes.txt").write_text("mine")
    code, _, err = invoke("init", "taken")
    assert code == 2 and "not empty" in err and "--force" in err
    assert not (project / "taken" / "pipeline.py").exists()
    code, _, _ = invoke("init", "taken", "--force", "--name", "mine")
    assert code == 0
    assert (project / "taken" / "notes.txt").read_text() == "mine"
    assert 'Pipeline("mine"' in (project / "taken" / "pipeline.py").read_text()


def test_initialised_project_runs_validates_and_passes_its_tests(tmp_path: Path) -> None:
    assert glacier("init", "shop", cwd=tmp_path).returncode == 0
    root = tmp_path / "shop"
    validate = glacier("envs", "validate", cwd=root)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    run = glacier("run", "pipeline.py", "-p", "extract.rows=200", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 succeeded" in run.stdout
    assert (root / "data" / "dev" / "gold" / "revenue.parquet").exists()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env={k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout
