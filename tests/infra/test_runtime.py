"""Running one task of a deployed pipeline: through buckets and artifacts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from glacier.errors import InfraError
from infra.pipelines import job_module_head


def test_a_deployed_task_reads_and_writes_through_buckets_and_artifacts(tmp_path: Path) -> None:
    from glacier.infra.runtime import run_task

    module = tmp_path / "flowjob.py"
    module.write_text(
        job_module_head(tmp_path)
        + "out = Dataset('out', storage=env.provider.bucket('results', path='out.parquet'))\n"
        "@pipeline.task()\n"
        "def make() -> mid:\n"
        "    return pl.DataFrame({'x': [1, 2, 3]})\n"
        "@pipeline.task()\n"
        "def double(df: mid) -> out:\n"
        "    return df.with_columns(pl.col('x') * 2)\n"
    )
    artifacts = {"mid": str(tmp_path / "artifacts" / "mid") + "/"}
    target = f"{module}:pipeline"
    first = run_task(target, "make", run_id="run-1", artifacts=artifacts)
    assert first["written"] == ["mid"] and first["rows"] == {"mid": 3}
    assert (tmp_path / "artifacts" / "mid" / "run-1.parquet").exists()
    second = run_task(target, "double", run_id="run-1", artifacts=artifacts)
    assert second["read"] == ["mid"] and second["written"] == ["out"]
    assert second["rows"] == {"out": 3}  # a lazy output, counted as it was written
    result = pl.read_parquet(tmp_path / "data" / "results" / "out.parquet")
    assert result["x"].to_list() == [2, 4, 6]
    with pytest.raises(InfraError, match="no task 'nope'"):
        run_task(target, "nope", run_id="run-1", artifacts=artifacts)


def test_a_deployed_task_loads_its_pipeline_without_the_infrastructure_builders() -> None:
    """A deployed task builds no infrastructure, so its cold start does not import the
    builders (the AWS one alone cost ~20 ms of it: docs/performance.md), only their table."""
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys\n"
        "import glacier.infra.runtime\n"
        "from glacier.flow import as_pipeline\n"
        "from glacier.targets import load_target\n"
        "p = as_pipeline(load_target('examples/medallion.py:pipeline'))\n"
        "assert p.environment().provider.kind == 'aws'\n"
        "print(sorted(m for m in sys.modules if m.startswith(('glacier.infra.', 'pulumi'))))\n"
    )
    env = {"GLACIER_ENV": "prod", "GLACIER_SETTINGS_DIR": str(root / "containers")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    # The builders' table (glacier.infra.builders, which plugin clouds register with) is
    # one small module of data, cold_start a few lines; no builder, model or Pulumi module
    # is imported.
    assert done.stdout.strip() == (
        "['glacier.infra.builders', 'glacier.infra.cold_start', 'glacier.infra.runtime']"
    )
