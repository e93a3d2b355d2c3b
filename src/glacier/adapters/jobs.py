"""Jobs on AWS execution environments: start a Glue job run or an ECS task, read its status.

``provider.glue("nightly").submit_job({...})`` starts a run of the Glue job named
``nightly`` (deployed by the plan, or made by hand) and returns its run id;
``provider.ecs("transform").submit_job({...})`` (also ``run_task``) runs the ECS task
definition family ``transform`` and returns the task's ARN. ``get_job_status(job_id)`` gives
one of :data:`STATES`; the cloud's own states map onto them through one table per service.

What each job dict may hold:

- Glue: ``arguments`` (``{"--date": "2025-01-01"}``), ``timeout`` (minutes), ``worker_type``,
  ``number_of_workers``;
- ECS: ``cluster`` (default ``"default"``), ``subnets``, ``security_groups`` (default: the
  environment's network), ``command`` and ``environment`` (container overrides),
  ``container`` (the container they apply to; default: the family's name), ``count``.

A key neither service takes is refused, named, before anything starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glacier.errors import ConfigError, NotSupportedError

__all__ = ["STATES", "AwsJobsAdapter", "execution_adapter"]

#: What ``get_job_status`` returns.
STATES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED")

_GLUE_STATES = {
    "STARTING": "PENDING",
    "WAITING": "PENDING",
    "RUNNING": "RUNNING",
    "STOPPING": "RUNNING",
    "SUCCEEDED": "SUCCEEDED",
    "STOPPED": "FAILED",
    "FAILED": "FAILED",
    "TIMEOUT": "FAILED",
    "ERROR": "FAILED",
    "EXPIRED": "FAILED",
}
_ECS_STATES = {
    "PROVISIONING": "PENDING",
    "PENDING": "PENDING",
    "ACTIVATING": "PENDING",
    "RUNNING": "RUNNING",
    "DEACTIVATING": "RUNNING",
    "STOPPING": "RUNNING",
    "DEPROVISIONING": "RUNNING",
}
_JOB_KEYS = {
    "glue": {"arguments", "timeout", "worker_type", "number_of_workers"},
    "ecs": {
        "cluster",
        "subnets",
        "security_groups",
        "command",
        "environment",
        "container",
        "count",
    },
}


class AwsJobsAdapter:
    """Starts and watches jobs of one Glue job or ECS task definition (see the module docs)."""

    def __init__(self, resource: Any, config: Any) -> None:
        self.resource = resource
        self.config = config

    def submit_job(self, job: Mapping[str, Any]) -> str:
        """Start the job; its id (a Glue run id, an ECS task ARN)."""
        kind = self._kind()
        unknown = sorted(set(job) - _JOB_KEYS[kind])
        if unknown:
            raise ConfigError(
                f"{self._what()}.submit_job(): unknown key {unknown[0]!r}; a {kind} job takes "
                f"{', '.join(sorted(_JOB_KEYS[kind]))}. Nothing was started."
            )
        return self._glue_start(job) if kind == "glue" else self._ecs_run(job)

    def get_job_status(self, job_id: str) -> str:
        """``PENDING``, ``RUNNING``, ``SUCCEEDED`` or ``FAILED``."""
        if self._kind() == "glue":
            run = self._client("glue").get_job_run(
                JobName=self.resource.environment_name, RunId=job_id
            )["JobRun"]
            return _GLUE_STATES.get(str(run["JobRunState"]), "FAILED")
        return self._ecs_status(job_id)

    # -- Glue ------------------------------------------------------------------------------

    def _glue_start(self, job: Mapping[str, Any]) -> str:
        request: dict[str, Any] = {"JobName": self.resource.environment_name}
        if job.get("arguments"):
            request["Arguments"] = {str(k): str(v) for k, v in dict(job["arguments"]).items()}
        if job.get("timeout") is not None:
            request["Timeout"] = int(job["timeout"])
        if job.get("worker_type") is not None:
            request["WorkerType"] = str(job["worker_type"])
        if job.get("number_of_workers") is not None:
            request["NumberOfWorkers"] = int(job["number_of_workers"])
        return str(self._client("glue").start_job_run(**request)["JobRunId"])

    # -- ECS -------------------------------------------------------------------------------

    def _ecs_run(self, job: Mapping[str, Any]) -> str:
        network = getattr(getattr(self.resource.provider, "identity", None), "network", None)
        subnets = list(job.get("subnets") or getattr(network, "subnet_ids", ()) or ())
        groups = list(
            job.get("security_groups") or getattr(network, "security_group_ids", ()) or ()
        )
        family = self.resource.environment_name
        launch = getattr(self.resource.config, "launch_type", "FARGATE")
        request: dict[str, Any] = {
            "cluster": str(job.get("cluster") or "default"),
            "taskDefinition": family,
            "launchType": launch,
            "count": int(job.get("count", 1)),
        }
        if subnets:
            request["networkConfiguration"] = {
                "awsvpcConfiguration": {
                    "subnets": subnets,
                    "securityGroups": groups,
                    "assignPublicIp": "DISABLED",
                }
            }
        override: dict[str, Any] = {}
        if job.get("command") is not None:
            override["command"] = [str(part) for part in job["command"]]
        if job.get("environment"):
            override["environment"] = [
                {"name": str(k), "value": str(v)} for k, v in dict(job["environment"]).items()
            ]
        if override:
            override["name"] = str(job.get("container") or family)
            request["overrides"] = {"containerOverrides": [override]}
        answer = self._client("ecs").run_task(**request)
        if answer.get("failures") or not answer.get("tasks"):
            reason = (answer.get("failures") or [{"reason": "no task started"}])[0]
            raise NotSupportedError(f"{self._what()}: ECS did not start the task: {reason}.")
        return str(answer["tasks"][0]["taskArn"])

    def _ecs_status(self, task_arn: str) -> str:
        # arn:aws:ecs:<region>:<account>:task/<cluster>/<id>: the cluster is in the ARN.
        parts = task_arn.split(":task/", 1)[-1].split("/")
        cluster = parts[0] if len(parts) == 2 else "default"
        found = self._client("ecs").describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"]
        if not found:
            raise ConfigError(f"{self._what()}: no ECS task {task_arn!r} in cluster {cluster!r}.")
        task = found[0]
        last = str(task.get("lastStatus", "PENDING"))
        if last != "STOPPED":
            return _ECS_STATES.get(last, "PENDING")
        codes = [c.get("exitCode") for c in task.get("containers", [])]
        return "SUCCEEDED" if codes and all(code == 0 for code in codes) else "FAILED"

    # -- internals -------------------------------------------------------------------------

    def _kind(self) -> str:
        kind = str(self.resource.environment_type)
        if kind not in _JOB_KEYS:
            raise NotSupportedError(
                f"{self._what()}: submitting {kind} jobs is not available on AWS (Glue, ECS "
                "and Databricks are)."
            )
        return kind

    def _what(self) -> str:
        return f"{self.resource.environment_type} {self.resource.environment_name!r}"

    def _client(self, service: str) -> Any:
        import boto3

        from glacier.adapters.credentials import aws_profile

        session = boto3.Session(
            profile_name=aws_profile(self.config), region_name=self.config.region
        )
        return session.client(service, endpoint_url=self.config.endpoint_url)


def execution_adapter(resource: Any, config: Any) -> Any:
    """The adapter of an execution environment, by its type: Databricks on any cloud
    (``glacier.adapters.databricks``), Glue and ECS on AWS; anything else refused on use."""
    kind = str(resource.environment_type)
    if kind == "databricks":
        from glacier.adapters.databricks import DatabricksJobsAdapter

        return DatabricksJobsAdapter(resource, config)
    cloud = getattr(config, "kind", None)
    if kind in _JOB_KEYS and cloud == "aws":
        return AwsJobsAdapter(resource, config)
    from glacier.adapters.unavailable import UnavailableAdapter

    where = f"{kind} jobs" if kind in _JOB_KEYS else f"jobs of a {kind!r} execution environment"
    return UnavailableAdapter(what=f"submitting {where}", cloud=str(cloud), resource=resource)
