"""Databricks jobs from Python, through the Jobs API of ``databricks-sdk`` (extra ``databricks``).

``provider.databricks("etl").submit_job({"python_file": "dbfs:/jobs/etl.py"})`` submits a
one-time run on a new job cluster sized by the resource's
:class:`~glacier.settings.DatabricksConfig` (runtime, node type, workers, tags);
``{"job_id": 123}`` runs an existing job instead. ``get_job_status(run_id)`` maps the run's
life-cycle and result states onto ``PENDING``, ``RUNNING``, ``SUCCEEDED``, ``FAILED``.

The workspace and its credentials come from Databricks' own configuration, never from code:
``DATABRICKS_HOST`` with ``DATABRICKS_TOKEN`` (or a profile of ``~/.databrickscfg`` named by
``DATABRICKS_CONFIG_PROFILE``, or any other method the SDK's unified authentication reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glacier.errors import ConfigError

__all__ = ["DatabricksJobsAdapter"]

_KEYS = {"python_file", "parameters", "job_id", "run_name", "timeout_seconds"}
_RUNNING = {"RUNNING", "TERMINATING"}
_PENDING = {"PENDING", "QUEUED", "BLOCKED", "WAITING_FOR_RETRY"}


class DatabricksJobsAdapter:
    """Submits and watches the runs of one Databricks execution environment."""

    def __init__(self, resource: Any, config: Any = None) -> None:
        self.resource = resource

    def submit_job(self, job: Mapping[str, Any]) -> str:
        """Submit a run (``python_file``, ``parameters``) or run ``job_id``; its run id."""
        unknown = sorted(set(job) - _KEYS)
        if unknown or ("python_file" in job) == ("job_id" in job):
            raise ConfigError(
                f"databricks {self.resource.environment_name!r}.submit_job(): give either "
                "'python_file' (a one-time run on a new job cluster) or 'job_id' (an existing "
                f"job), with optional {', '.join(sorted(_KEYS - {'python_file', 'job_id'}))}"
                + (f"; unknown key {unknown[0]!r}" if unknown else "")
                + ". Nothing was submitted."
            )
        client = self._client()
        parameters = [str(p) for p in job.get("parameters", ())]
        if "job_id" in job:
            waiter = client.jobs.run_now(job_id=int(job["job_id"]), python_params=parameters)
            return str(waiter.run_id)
        from databricks.sdk.service import compute, jobs

        config = self.resource.config
        cluster = compute.ClusterSpec(
            spark_version=config.spark_version,
            node_type_id=config.instance_type,
            num_workers=config.num_workers,
            custom_tags={**self.resource.tags, **config.tags} or None,
        )
        name = str(job.get("run_name") or self.resource.environment_name)
        waiter = client.jobs.submit(
            run_name=name,
            timeout_seconds=job.get("timeout_seconds"),
            tasks=[
                jobs.SubmitTask(
                    task_key=name,
                    new_cluster=cluster,
                    spark_python_task=jobs.SparkPythonTask(
                        python_file=str(job["python_file"]), parameters=parameters
                    ),
                )
            ],
        )
        return str(waiter.run_id)

    def get_job_status(self, job_id: str) -> str:
        """``PENDING``, ``RUNNING``, ``SUCCEEDED`` or ``FAILED``."""
        run = self._client().jobs.get_run(run_id=int(job_id))
        state = run.state
        life = getattr(getattr(state, "life_cycle_state", None), "value", None)
        result = getattr(getattr(state, "result_state", None), "value", None)
        if life in _PENDING:
            return "PENDING"
        if life in _RUNNING:
            return "RUNNING"
        return "SUCCEEDED" if result == "SUCCESS" else "FAILED"

    def _client(self) -> Any:
        from glacier.extras import require

        sdk = require("databricks.sdk", "databricks", "Submitting Databricks jobs")
        return sdk.WorkspaceClient()
