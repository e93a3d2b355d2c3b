"""Every example runs: an example that does not run is a failing test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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
        "jaffle_shop.py",
        "cloud_plugin.py",
        "switch_clouds.py",
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


def test_jaffle_shop_passes_its_20_tests_and_gates_the_marts_on_bad_seeds(tmp_path: Path) -> None:
    data = {"JAFFLE_SHOP_DATA": str(tmp_path / "jaffle")}
    out = run_example(str(EXAMPLES / "jaffle_shop.py"), cwd=tmp_path, env=data)
    assert "5 succeeded" in out
    assert out.count(" passed  ") == 20 and "failed" not in out
    bad = run_example(str(EXAMPLES / "jaffle_shop.py"), "--bad", cwd=tmp_path, env=data)
    assert "failed  stg_orders: unique(order_id)  (2 failing row(s))" in bad
    assert "failed  stg_orders: accepted_values(status)  (1 failing row(s))" in bad
    assert "skipped (downstream of a failed check): build_orders, build_customers" in bad
    # `glacier test` reads what is stored (the bad staging model was written) and fails.
    proc = subprocess.run(
        [sys.executable, "-m", "glacier", "test", str(EXAMPLES / "jaffle_shop.py"), "-s", "stg_*"],
        cwd=tmp_path,
        env={**os.environ, **data},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "8 check(s): 6 passed, 0 warned, 2 failed" in proc.stdout


def _plans_of(file: Path, monkeypatch: Any, glacier_env: str | None = None) -> dict[str, Any]:
    """Every module-level pipeline of example ``file`` planned (fresh import, so a module that
    builds its environment from GLACIER_ENV sees ``glacier_env``), or the error refusing it."""
    from glacier.errors import GlacierError
    from glacier.infra import plan
    from glacier.targets import find_pipelines, import_target_module

    if glacier_env is not None:
        monkeypatch.setenv("GLACIER_ENV", glacier_env)
    monkeypatch.setenv("GLACIER_SETTINGS_DIR", str(REPO / "containers"))
    monkeypatch.setattr(sys, "argv", [str(file)])
    before = set(sys.modules)
    module = import_target_module(str(file))
    out: dict[str, Any] = {}
    try:
        for name, pipeline in find_pipelines(module).items():
            try:
                out[name] = plan(pipeline)
            except GlacierError as exc:
                out[name] = exc
    finally:  # the example's own modules, imported again for the next environment
        for name in set(sys.modules) - before:
            origin = str(getattr(sys.modules[name], "__file__", "") or "")
            if origin.startswith((str(EXAMPLES), str(REPO / "containers"))):
                del sys.modules[name]
    return out


def test_every_example_plans(monkeypatch: Any) -> None:
    """Each example's pipelines plan on the defaults (issue 22: `prod_pipeline` of
    environments.py stopped at plan when a bucket's root became a Delta table); registry.py's
    pipeline branches on a task result, which tracing refuses naming the line (its point)."""
    from glacier.errors import TracingError

    files = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("test_"))
    planned: dict[str, Any] = {}
    for file in files:
        envs = ["dev", "staging", "prod"] if file.name == "medallion.py" else [None]
        for glacier_env in envs:
            for name, result in _plans_of(file, monkeypatch, glacier_env).items():
                planned[f"{file.name}:{name}" + (f"@{glacier_env}" if glacier_env else "")] = result
    refused = {k: v for k, v in planned.items() if isinstance(v, Exception)}
    assert list(refused) == ["registry.py:sales_enrichment_pipeline"], refused
    assert isinstance(refused["registry.py:sales_enrichment_pipeline"], TracingError)
    assert "registry.py:89" in str(refused["registry.py:sales_enrichment_pipeline"])
    # The shortest cloud pipelines plan, their Delta tasks packaged as Lambda container images.
    prod = planned["environments.py:prod_pipeline"]
    assert [c.text for c in prod.choices] == [
        f"{task}: Lambda container image — Delta tables need deltalake, "
        + prod.choices[0].reason.rsplit(", ", 1)[1]
        for task in ("extract", "clean")
    ]
    functions = prod.of_type("aws:lambda/function:Function")
    assert {f.inputs["packageType"] for f in functions} == {"Image"}
    assert (
        len(planned["medallion.py:pipeline@prod"].of_type("aws:sfn/stateMachine:StateMachine")) == 1
    )
    # models.py builds its pipelines in functions: planned for AWS the way its plan_aws does.
    module = import_target_module_fresh(EXAMPLES / "models.py", monkeypatch)
    env = module.aws_environment()
    from glacier.infra import plan

    for pipeline in (module.training_pipeline(env), module.prediction_pipeline(env)):
        assert plan(pipeline).of_type("aws:sfn/stateMachine:StateMachine")


def import_target_module_fresh(file: Path, monkeypatch: Any) -> Any:
    from glacier.targets import import_target_module

    monkeypatch.setattr(sys, "argv", [str(file)])
    return import_target_module(str(file))


def test_cloud_plugin(tmp_path: Path) -> None:
    out = run_example(str(EXAMPLES / "cloud_plugin.py"), str(tmp_path / "root"), cwd=tmp_path)
    assert "folder://lake/totals.parquet [{'region': 'n', 'amount': 4.0}" in out
    assert (tmp_path / "root" / "lake" / "totals.parquet").is_file()


def test_switch_clouds_runs_on_dev_and_plans_for_aws_gcp_and_azure(tmp_path: Path) -> None:
    """The seeds' "Example 2": the same tasks run locally and plan for AWS, GCP and Azure."""
    out = run_example(str(EXAMPLES / "switch_clouds.py"), cwd=tmp_path)
    assert "'extract': 'succeeded'" in out and "'summarise': 'succeeded'" in out
    assert "15.0" in out  # mon's revenue
    out = run_example(str(EXAMPLES / "switch_clouds.py"), "plan", cwd=tmp_path)
    assert "aws:lambda/function:Function" in out and "aws:sfn/stateMachine:StateMachine" in out
    assert "gcp:cloudrunv2/job:Job" in out and "gcp:workflows/workflow:Workflow" in out
    assert "prod-gcp-summarise-acme-reports-writer" in out
    assert "azure-native:app:Job" in out and "azure-native:logic:Workflow" in out
    # summarise reads orders and writes revenue, through role assignments of its own only
    assert "prod-azure-summarise-reader-acme-orders" in out
    assert "prod-azure-summarise-contributor-acme-reports" in out
    assert "prod-azure-extract-contributor-acme-reports" not in out


def test_switch_clouds_plans_the_same_pipeline_on_three_clouds(monkeypatch: Any) -> None:
    """One pipeline, three clouds: every cloud plans one job per task and the same grants
    (extract writes orders; summarise reads orders and writes revenue), in the seeds' Azure
    resource group."""
    planned = _plans_of(EXAMPLES / "switch_clouds.py", monkeypatch)
    assert sorted(planned) == ["aws_pipeline", "azure_pipeline", "dev_pipeline", "gcp_pipeline"]
    assert not [r for r in planned["dev_pipeline"] if not r.is_provider]
    jobs = {
        "aws_pipeline": "aws:lambda/function:Function",
        "gcp_pipeline": "gcp:cloudrunv2/job:Job",
        "azure_pipeline": "azure-native:app:Job",
    }
    for name, job in jobs.items():
        assert len(planned[name].of_type(job)) == 2, name
    azure = planned["azure_pipeline"]
    (group,) = azure.of_type("azure-native:resources:ResourceGroup")
    assert group.inputs["resourceGroupName"] == "prod-data-rg"
    assert group.inputs["location"] == "eastus"
    granted = sorted(
        r.name.removeprefix("prod-azure-")
        for r in azure.of_type("azure-native:authorization:RoleAssignment")
        if "-acme-" in r.name
    )
    assert granted == [
        "extract-contributor-acme-orders",
        "summarise-contributor-acme-reports",
        "summarise-reader-acme-orders",
    ]
