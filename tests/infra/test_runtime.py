"""Running one task of a deployed pipeline: through buckets and artifacts."""

from __future__ import annotations

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
    assert first["written"] == ["mid"]
    assert (tmp_path / "artifacts" / "mid" / "run-1.parquet").exists()
    second = run_task(target, "double", run_id="run-1", artifacts=artifacts)
    assert second["read"] == ["mid"] and second["written"] == ["out"]
    result = pl.read_parquet(tmp_path / "data" / "results" / "out.parquet")
    assert result["x"].to_list() == [2, 4, 6]
    with pytest.raises(InfraError, match="no task 'nope'"):
        run_task(target, "nope", run_id="run-1", artifacts=artifacts)
