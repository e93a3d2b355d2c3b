"""Execution environments (ECS, Glue, Databricks, ...) as one resource."""

from __future__ import annotations

from typing import Any, ClassVar

from glacier.resources.base import Resource


class ExecutionEnvironment(Resource):
    """Where a task runs when it outgrows a function: a container, a Glue job, a cluster.

    ``environment_type`` is one of ``"ecs"``, ``"glue"``, ``"databricks"`` (or a custom type a
    wired adapter understands); the config carries the type's settings.
    """

    kind: ClassVar[str] = "execution"

    def __init__(self, environment_type: str, environment_name: str, **kwargs: Any) -> None:
        self.environment_type = environment_type
        self.environment_name = environment_name
        super().__init__(**kwargs)

    def _default_name(self) -> str:
        return f"{self.environment_type}-{self.environment_name}"

    def submit_job(self, job: dict[str, Any]) -> str:
        """Submit a job; returns the job id."""
        return str(self.adapter.submit_job(job))

    def get_job_status(self, job_id: str) -> str:
        """PENDING, RUNNING, SUCCEEDED or FAILED."""
        return str(self.adapter.get_job_status(job_id))

    def run_task(self, job: dict[str, Any] | None = None) -> str:
        """Run an ECS task (``submit_job`` under the seeds' name for ECS); returns its id."""
        return self.submit_job(job or {})

    def wait(self, job_id: str, *, timeout: float = 3600.0, poll: float = 5.0) -> str:
        """Poll :meth:`get_job_status` until the job ends; its final state (``SUCCEEDED`` or
        ``FAILED``).

        Raises:
            TaskTimeoutError: the job was still running after ``timeout`` seconds.
        """
        import time

        from glacier.errors import TaskTimeoutError

        deadline = time.monotonic() + timeout
        while True:
            state = self.get_job_status(job_id)
            if state in {"SUCCEEDED", "FAILED"}:
                return state
            if time.monotonic() >= deadline:
                raise TaskTimeoutError(
                    f"{self.environment_type} {self.environment_name!r} job {job_id!r} was "
                    f"still {state} after {timeout:g} s; wait longer (timeout=...) or check it "
                    "in the cloud's console."
                )
            time.sleep(poll)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(environment_type=self.environment_type)
        if self.config is not None:
            out["config"] = self.config.model_dump(mode="json")
        return out
