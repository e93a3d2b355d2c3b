"""Starting a deployed pipeline: an execution of its orchestration, followed until it ends.

AWS: a Step Functions execution, followed through its history; GCP: a Workflows execution
(:func:`start_workflow`); Azure: a run of the Logic App (:mod:`glacier.infra.azure.remote`).
The orchestration's ARN, path or id is computed from the pipeline and its orchestrating
environment (the same deterministic name the infrastructure gave it), so starting needs no
stack outputs. The caller's credentials are the deploying side's: the environment's profile,
else the default chain (Application Default Credentials on GCP, ``DefaultAzureCredential`` on
Azure). ``endpoint_url`` points at another server of the same API instead: on AWS an emulator
(the moto server of ``glacier rehearse --keep-server``) reached with the default chain; on GCP
and Azure a stand-in, which is sent no credentials of the caller's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Statuses an execution ends in (Step Functions API).
FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
#: History events worth a line: a task state entered, ended or failed, and the run's end.
_SHOWN = {
    "TaskStateEntered": "started",
    "TaskStateExited": "ended",
    "TaskFailed": "failed",
    "ExecutionFailed": "execution failed",
    "ExecutionSucceeded": "execution succeeded",
}


@dataclass(frozen=True)
class RemoteRun:
    """An execution of a deployed pipeline: its ARN and the status it was last seen in."""

    state_machine: str
    execution: str
    status: str

    @property
    def finished(self) -> bool:
        """Whether the execution has ended."""
        return self.status in FINISHED


def state_machine_arn(pipeline: Any) -> tuple[str, Any]:
    """The ARN of ``pipeline``'s state machine and the environment orchestrating it."""
    from glacier.errors import InfraError
    from glacier.infra.aws.naming import env_arn, state_machine_name
    from glacier.infra.model import build_model

    model = build_model(pipeline)
    if model.orchestrator is None:
        raise InfraError(f"Pipeline {model.pipeline!r} has no cloud tasks: nothing is deployed.")
    env = model.envs[model.orchestrator]
    if env.cloud == "gcp":  # the workflow's path, the same deterministic name
        from glacier.infra.gcp.naming import workflow_path

        return workflow_path(model.pipeline, env), env
    if env.cloud == "azure":  # a Logic App, named by its id
        from glacier.infra.azure.remote import workflow_of

        return workflow_of(model)[0], env
    name = state_machine_name(model, env)
    return env_arn(env, "states", f"stateMachine:{name}"), env


def start(
    pipeline: Any,
    *,
    endpoint_url: str | None = None,
    timeout: float = 3600,
    poll: float = 2.0,
    on_event: Callable[[str], Any] | None = None,
) -> RemoteRun:
    """Start an execution of ``pipeline``'s deployed orchestration (a Step Functions state
    machine, a GCP workflow or an Azure Logic App) and follow it until it ends or ``timeout``
    seconds pass, looking every ``poll`` seconds; ``on_event`` gets a line per task started
    or ended. ``endpoint_url`` is the orchestrator's API at another address (an emulator or a
    stand-in), reached without the cloud's credentials."""
    from glacier.adapters.credentials import aws_client

    arn, env = state_machine_arn(pipeline)
    if env.cloud == "gcp":
        return start_workflow(
            arn, endpoint_url=endpoint_url, timeout=timeout, poll=poll, on_event=on_event
        )
    if env.cloud == "azure":
        from glacier.infra.azure import remote as azure
        from glacier.infra.model import build_model

        wid, run, status = azure.start(
            build_model(pipeline),
            endpoint_url=endpoint_url,
            timeout=timeout,
            poll=poll,
            on_event=on_event,
        )
        return RemoteRun(wid, run, status)
    config = getattr(getattr(env.source, "provider", env.source), "config", None)
    # An emulator given here is not the account the environment's profile reaches.
    client = aws_client(
        "stepfunctions",
        config if endpoint_url is None else None,
        region=env.region,
        endpoint_url=endpoint_url or env.endpoint_url,
    )
    started = client.start_execution(stateMachineArn=arn)
    execution = str(started["executionArn"])
    seen = 0
    status = "RUNNING"
    deadline = time.monotonic() + timeout
    while True:
        status = str(client.describe_execution(executionArn=execution)["status"])
        events = client.get_execution_history(executionArn=execution)["events"]
        for event in events[seen:]:
            what = _SHOWN.get(str(event.get("type")))
            if what and on_event is not None:
                details = event.get("stateEnteredEventDetails") or event.get(
                    "stateExitedEventDetails"
                )
                name = (details or {}).get("name", "")
                on_event(f"{what} {name}".strip())
        seen = len(events)
        if status in FINISHED or time.monotonic() >= deadline:
            break
        time.sleep(poll)
    return RemoteRun(arn, execution, status)


#: Workflows execution states, as the Step Functions statuses ``glacier run --remote`` shows.
_WORKFLOW_STATES = {"SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED", "CANCELLED": "ABORTED"}


def start_workflow(
    path: str,
    *,
    endpoint_url: str | None = None,
    timeout: float = 3600,
    poll: float = 2.0,
    on_event: Callable[[str], Any] | None = None,
) -> RemoteRun:
    """Start an execution of the GCP workflow at ``path``
    (``projects/<p>/locations/<r>/workflows/<w>``) through the Workflows executions API, as
    Application Default Credentials allow, and follow it until it ends or ``timeout`` passes.

    ``on_event`` gets a line when the execution starts, one per step it is seen at (its
    ``status.currentSteps``), and its end (with the error's payload when it failed).
    ``endpoint_url`` (``host:port``, an ``http://`` prefix allowed) is another server of the
    same API (a stand-in or an emulator), reached over plaintext gRPC without credentials,
    so no Google token leaves for it.

    Needs the ``google-cloud-workflows`` client (the ``gcp`` extra); without it, refused
    naming the ``gcloud`` command that starts the same execution.
    """
    from glacier.errors import InfraError

    try:
        from google.cloud.workflows import executions_v1
    except ImportError:
        _, project, _, region, _, name = path.split("/")
        raise InfraError(
            f"Starting GCP workflow {path} needs the google-cloud-workflows client, which is "
            "not installed: pip install 'glacier-pipelines[gcp]', or start it with "
            f"gcloud workflows run {name} --location={region} --project={project}"
        ) from None
    with _executions_client(executions_v1, endpoint_url) as client:
        say = on_event or (lambda line: None)
        made = client.create_execution(
            parent=path, execution=executions_v1.Execution(argument="{}")
        )
        say(f"started {made.name}")
        deadline = time.monotonic() + timeout
        seen: set[str] = set()
        while True:
            execution = client.get_execution(name=made.name)
            status = _WORKFLOW_STATES.get(execution.state.name, "RUNNING")
            for step in execution.status.current_steps:
                where = f"{step.routine}.{step.step}"
                if where not in seen:
                    seen.add(where)
                    say(f"at step {where}")
            if status in FINISHED or time.monotonic() >= deadline:
                break
            time.sleep(poll)
    if status in FINISHED:
        error = execution.error.payload if status != "SUCCEEDED" else ""
        say(f"execution {status.lower()}" + (f": {error}" if error else ""))
    return RemoteRun(path, str(made.name), status)


def _executions_client(executions_v1: Any, endpoint_url: str | None) -> Any:
    """The Executions client: Google's endpoint with Application Default Credentials, or
    ``endpoint_url`` over a plaintext gRPC channel with none."""
    if endpoint_url is None:
        return executions_v1.ExecutionsClient()
    import grpc
    from google.cloud.workflows.executions_v1.services.executions.transports import (
        ExecutionsGrpcTransport,
    )

    channel = grpc.insecure_channel(endpoint_url.split("://", 1)[-1].rstrip("/"))
    return executions_v1.ExecutionsClient(transport=ExecutionsGrpcTransport(channel=channel))
