"""Every example runs: an example that does not run is a failing test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def run_example(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_every_example_is_covered() -> None:
    covered = {
        "quickstart.py",
        "simple_etl.py",
        "multi_environment.py",
        "registry.py",
        "config_cascade.py",
        "environments.py",
        "medallion.py",
        "models.py",
        "test_mock_environment.py",
        "cloud_plugin.py",
    }
    assert {p.name for p in EXAMPLES.glob("*.py")} == covered


def test_quickstart(tmp_path: Path) -> None:
    out = run_example(
        str(EXAMPLES / "quickstart.py"), "--rows", "400", "--base-path", str(tmp_path), cwd=tmp_path
    )
    assert "aggregate" in out and "succeeded" in out
    assert "north" in out and "3 succeeded" in out
    assert (tmp_path / "demo-output" / "quickstart" / "revenue.parquet").exists()


def test_simple_etl(tmp_path: Path) -> None:
    out = run_example(str(EXAMPLES / "simple_etl.py"), str(tmp_path), cwd=tmp_path)
    assert "3 succeeded" in out
    assert (tmp_path / "processed" / "data.parquet").exists()
    import polars as pl

    assert pl.read_parquet(tmp_path / "processed" / "data.parquet")["id"].to_list() == [1, 3]


def test_multi_environment_runs_dev_and_analyzes_prod(tmp_path: Path) -> None:
    script = str(EXAMPLES / "multi_environment.py")
    dev = run_example(
        script, str(tmp_path), cwd=tmp_path, env={"GLACIER_EXAMPLE_ENV": "development"}
    )
    assert "450" in dev  # category a: 150 + 300
    prod = run_example(
        script, str(tmp_path), cwd=tmp_path, env={"GLACIER_EXAMPLE_ENV": "production"}
    )
    assert "['extract', 'transform', 'aggregate']" in prod


def test_registry(tmp_path: Path) -> None:
    out = run_example(str(EXAMPLES / "registry.py"), str(tmp_path), cwd=tmp_path)
    assert "succeeded" in out and "ent" in out
    import polars as pl

    saved = pl.read_parquet(tmp_path / "sales" / "processed" / "transactions.parquet")
    assert sorted(saved["amount"].to_list()) == [250, 400]


def test_registry_branch_is_refused_when_traced(tmp_path: Path) -> None:
    code = (
        "import sys; sys.argv=['x', sys.argv[1]]\n"
        "import runpy\n"
        f"ns = runpy.run_path({str(EXAMPLES / 'registry.py')!r})\n"
        "from glacier.errors import TracingError\n"
        "try:\n"
        "    ns['sales_enrichment_pipeline'].run(mode='analyze')\n"
        "except TracingError as e:\n"
        "    print('refused:', e)\n"
    )
    out = run_example("-c", code, str(tmp_path), cwd=tmp_path)
    assert "refused:" in out and "registry.py:" in out and "cannot use .get on" in out


def test_config_cascade(tmp_path: Path) -> None:
    out = run_example(str(EXAMPLES / "config_cascade.py"), cwd=tmp_path)
    assert "'tier': 'critical'" in out and "'managed-by': 'glacier'" in out
    assert "'retries': 3" in out and "'timeout': 600.0" not in out.split("transform")[0][-5:]
    assert "lambda_memory: 3008" in out


def test_environments(tmp_path: Path) -> None:
    out = run_example(str(EXAMPLES / "environments.py"), cwd=tmp_path)
    for env in ("dev", "staging", "prod"):
        assert f"analytics-{env}: tasks=['extract', 'clean']" in out
        assert f"'{env}-raw-data'" in out


def test_medallion_runs_on_dev(tmp_path: Path) -> None:
    out = run_example(
        str(EXAMPLES / "medallion.py"),
        cwd=REPO,
        env={
            "GLACIER_ENV": "test",
            "GLACIER_STATE_DIR": str(tmp_path / "state"),
            "GLACIER_PROVIDER__BASE_PATH": str(tmp_path / "data"),
        },
    )
    assert "4 succeeded" in out and "revenue_usd" in out


def test_models_trains_stores_loads_in_a_later_run_and_plans_for_aws(tmp_path: Path) -> None:
    script = str(EXAMPLES / "models.py")
    data = tmp_path / "data"
    trained = run_example(script, "train", str(data), cwd=tmp_path)
    assert "3 succeeded" in trained and "'r2': 0.99" in trained
    assert (data / "acme-models" / "regressor.joblib").is_file()
    metrics = json.loads((data / "acme-reports" / "metrics.doc.json").read_text())
    assert metrics["coef"] == [3.0, 0.5, -1.2]

    predicted = run_example(script, "predict", str(data), cwd=tmp_path)
    assert "1 succeeded" in predicted and "16.38" in predicted

    planned = run_example(script, "plan-aws", cwd=tmp_path)
    train = [line for line in planned.splitlines() if "prod-train-policy" in line]
    predict = [line for line in planned.splitlines() if "prod-predict-policy" in line]
    assert any("s3:PutObject" in line and "regressor.joblib" in line for line in train)
    assert predict and not any("s3:PutObject" in line for line in predict)  # read-only there


def test_mock_environment_example_tests_pass(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(EXAMPLES / "test_mock_environment.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_cloud_plugin(tmp_path: Path) -> None:
    out = run_example(str(EXAMPLES / "cloud_plugin.py"), str(tmp_path / "root"), cwd=tmp_path)
    assert "folder://lake/totals.parquet [{'region': 'n', 'amount': 4.0}" in out
    assert (tmp_path / "root" / "lake" / "totals.parquet").is_file()
