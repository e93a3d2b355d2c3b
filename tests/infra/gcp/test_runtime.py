"""A deployed Cloud Run task's in-memory datasets travel through the artifacts bucket
(``gs://``), under the run id the workflow gives every task of one execution."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import GCP_PROJECT, clear_cloud_variables
from glacier.infra.runtime import artifact_bucket


def test_an_in_memory_dataset_travels_through_gcs_between_two_tasks(
    monkeypatch: pytest.MonkeyPatch, gcs_endpoint: str, bucket_name: str
) -> None:
    from gcsfs import GCSFileSystem

    clear_cloud_variables(monkeypatch)
    # What the job's variables say (task_environment), and the emulator standing in for GCS.
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", GCP_PROJECT)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_endpoint)
    GCSFileSystem(endpoint_url=gcs_endpoint, token="anon", project=GCP_PROJECT).mkdir(bucket_name)
    frame = pl.DataFrame({"x": [1, 2, 3]})
    writer = artifact_bucket(f"gs://{bucket_name}/mid/", "run-1")  # the producing task
    writer.write(frame)
    reader = artifact_bucket(f"gs://{bucket_name}/mid/", "run-1")  # the consuming task
    assert reader.get_uri() == f"gs://{bucket_name}/mid/run-1.parquet"
    assert_frame_equal(reader.read(), frame)
    other_run = artifact_bucket(f"gs://{bucket_name}/mid/", "run-2")
    assert not other_run.exists()  # another execution never sees this run's data
