"""``rehearse(pipeline, env)``: a deployment run as the cloud would run it, on this machine.

Steps: plan the environment's share (the mock engine), and the share of every environment of
another account whose data its tasks reach (cross-account access); start a moto server of
its own; create there what the plans declare, each in its own account
(:mod:`~glacier.infra.rehearse.declared`); switch IAM
enforcement on; then follow the state machine's definition
(:mod:`~glacier.infra.rehearse.definition`) and run each task's artifact
(:mod:`~glacier.infra.rehearse.artifacts`) in a clean process under a session of its own role
(:mod:`~glacier.infra.rehearse.task_process`). Every request IAM denies is recorded against
the task that made it.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glacier.errors import ConfigError, InfraError
from glacier.infra.rehearse import declared, identity, task_process
from glacier.infra.rehearse.artifacts import Artifact, artifacts, package_files
from glacier.infra.rehearse.cloud_rehearsal import CLOUDS, check_cloud_rehearsable, rehearse_plan
from glacier.infra.rehearse.definition import TaskState, steps
from glacier.infra.rehearse.report import Rehearsal, TaskReport
from glacier.infra.rehearse.seed import seed_files, seed_notes
from glacier.infra.rehearse.server import MotoProcess, RecordingProxy, enforce_iam


@dataclass
class _Clients:
    s3: Any
    iam: Any
    sts: Any
    sfn: Any
    secrets: Any
    dynamodb: Any


def rehearse(
    pipeline: Any,
    env: Any = None,
    *,
    keep_server: bool = False,
    emulator: str | None = None,
    python: str | None = None,
    seed: str | Path | None = None,
) -> Rehearsal:
    """Rehearse the deployment of ``env``'s share of ``pipeline`` (see the module docs; a GCP
    or Azure environment is rehearsed by :mod:`~glacier.infra.rehearse.cloud_rehearsal`).

    Args:
        pipeline: What :func:`glacier.infra.plan` takes: a Pipeline, an ``@env.pipeline()``
            function or a target ``"file.py:name"``; defined in a file (its code is packaged).
        env: The environment (or its name) whose stack is rehearsed; the orchestrating one
            when omitted.
        keep_server: Leave the moto server running (its URL is the report's ``endpoint``),
            IAM enforcement off again, e.g. to start the state machine on it with
            ``glacier run --remote --endpoint URL``. Stop it with :func:`stop_server`.
            AWS only.
        emulator: GCP and Azure only: the URL of a running storage emulator (the GCS
            emulator, Azurite) to rehearse on instead of starting one.
        python: GCP and Azure only: the interpreter the jobs run with (default: this one),
            e.g. a virtual environment's holding exactly what the image installs.
        seed: A directory of source data, ``<bucket>/<key>`` files (a local environment's
            ``base_path``), put in the plan's buckets before the first task runs
            (:mod:`~glacier.infra.rehearse.seed`).

    Returns:
        A :class:`Rehearsal`: per task, succeeded or failed with its own error, the
        datasets written and the requests IAM denied; ``ok`` when all succeeded unharmed.
    """
    from glacier.extras import require
    from glacier.infra.mocks import plan
    from glacier.infra.model import build_model

    model = build_model(_loaded(pipeline))
    key = _environment(env, model)
    cloud = model.envs[key].cloud
    if cloud in CLOUDS:
        if keep_server:
            raise ConfigError(
                f"keep_server applies to a rehearsal on moto (AWS); environment {key!r} is "
                f"on {cloud}, rehearsed on a storage emulator: give emulator=URL of one you "
                "keep running instead."
            )
        return _rehearse_on(cloud, pipeline, model, key, emulator, python, seed)
    if python is not None:
        raise ConfigError(
            f"python= applies to GCP and Azure environments; {key!r} is on {cloud}, whose "
            "rehearsal runs each task as its Lambda, ECS or Glue artifact with this "
            "interpreter."
        )
    if emulator is not None:
        raise ConfigError(
            f"emulator= applies to GCP and Azure environments; {key!r} is on {cloud}, "
            "rehearsed on a moto server of the rehearsal's own (IAM enforcement is switched "
            "on there, never on a server of yours)."
        )
    require("moto.server", "rehearse", "glacier rehearse")  # before minutes of planning
    _check_rehearsable(model, key)
    planned = plan(pipeline, env)
    spec = model.envs[key]
    mine = [r for r in planned if r.environment == key]
    found = artifacts(mine, model)
    theirs = [
        r
        for other in _data_environments(model, key)
        for r in plan(pipeline, other)
        if r.environment == other
    ]
    # Where each bucket is, and the source data for them, checked before a server starts.
    accounts = {str(r.inputs["bucket"]): r.account for r in _of(declared.BUCKET, mine, theirs)}
    sources = seed_files(seed, accounts) if seed is not None else []
    server = MotoProcess(spec.account_id)
    proxy = RecordingProxy(server.url)
    region = spec.region or "us-east-1"
    try:
        user_arn, user = identity.create_user(_clients(server.url, region).iam)

        def clients_of(account: str | None) -> _Clients:
            return _clients(server.url, region, account)

        made = declared.create([*mine, *theirs], clients_of, user_arn, _read_secrets(model, key))
        if made.definition is None:
            raise InfraError(
                f"Environment {key!r} does not orchestrate pipeline {model.pipeline!r}: "
                f"rehearse the orchestrating one ({model.orchestrator!r})."
            )
        for source in sources:
            clients_of(accounts[source.bucket]).s3.put_object(
                Bucket=source.bucket, Key=source.key, Body=source.path.read_bytes()
            )
        enforce_iam(server.url)
        sts = _client("sts", server.url, spec.region or "us-east-1", user)
        run_id = time.strftime("rehearsal-%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        reports = _follow(json.loads(made.definition), found, sts, proxy, run_id)
    finally:
        proxy.stop()
        if keep_server:
            enforce_iam(server.url, False)  # the rehearsal is over: a plain emulator now
        else:
            server.stop()
    if keep_server:
        _SERVERS[server.url] = server
    return Rehearsal(
        pipeline=model.pipeline,
        environment=key,
        endpoint=server.url,
        state_machine=made.state_machine,
        tasks=tuple(reports),
        notes=declared.NOT_CREATED + declared.secret_notes(made) + seed_notes(sources),
    )


def _rehearse_on(
    cloud: str,
    pipeline: Any,
    model: Any,
    key: str,
    emulator: str | None,
    python: str | None = None,
    seed: str | Path | None = None,
) -> Rehearsal:
    """A GCP or Azure environment: its plan's jobs on a storage emulator, every request
    checked by Glacier's evaluator (:mod:`~glacier.infra.rehearse.cloud_rehearsal`)."""
    from glacier.infra.mocks import plan

    check_cloud_rehearsable(model, key)
    planned = [r for r in plan(pipeline, key) if r.environment == key]
    theirs = [
        r
        for other in _data_environments(model, key)
        for r in plan(pipeline, other)
        if r.environment == other
    ]
    return rehearse_plan(
        cloud,
        planned,
        package_files(model),
        pipeline=model.pipeline,
        environment=key,
        emulator=emulator,
        data=theirs,
        python=python,
        seed=seed,
    )


def _of(kind: str, *groups: list[Any]) -> list[Any]:
    """The planned resources of type ``kind`` in ``groups``."""
    return [r for group in groups for r in group if r.type == kind]


#: Servers kept running by ``rehearse(..., keep_server=True)``, by URL.
_SERVERS: dict[str, MotoProcess] = {}


def stop_server(endpoint: str) -> None:
    """Stop a server a rehearsal left running."""
    server = _SERVERS.pop(endpoint, None)
    if server is not None:
        server.stop()


def _follow(
    definition: dict[str, Any],
    found: dict[str, Artifact],
    sts: Any,
    proxy: RecordingProxy,
    run_id: str,
) -> list[TaskReport]:
    planned = [
        [(state, _artifact_of(state, found)) for state in step] for step in steps(definition)
    ]
    reports: list[TaskReport] = []
    with tempfile.TemporaryDirectory(prefix="glacier-rehearsal-") as tmp:
        work = Path(tmp)
        for step in planned:
            if any(r.status != "succeeded" for r in reports):  # the state machine stopped
                reports.extend(TaskReport(a.task, a.compute, "not run") for _, a in step)
                continue
            with ThreadPoolExecutor(max_workers=len(step)) as pool:
                reports.extend(
                    pool.map(lambda sa: _run_task(sa[0], sa[1], sts, proxy, work, run_id), step)
                )
    return reports


def _run_task(
    state: TaskState,
    art: Artifact,
    sts: Any,
    proxy: RecordingProxy,
    work: Path,
    run_id: str,
) -> TaskReport:
    code = art.unpack(work / art.task / "code")
    home = work / art.task / "home"
    home.mkdir(parents=True, exist_ok=True)
    credentials = identity.assume(sts, art.role_arn, f"{art.task}-{run_id}")
    env = task_process.environment(art, code, home, credentials, proxy.url)
    outcome = task_process.Outcome(False, (), "", 0.0)
    seconds, attempts = 0.0, 0
    while True:  # the state's Retry, for the errors it names
        attempts += 1
        outcome = task_process.run(art, code, env, run_id)
        seconds += outcome.seconds
        if outcome.succeeded or not state.retries(outcome.error, attempts):
            break
    denied = tuple(proxy.denied_to(credentials.access_key))
    assumed = tuple(dict.fromkeys(s.role_arn for s in proxy.opened_by(credentials.access_key)))
    return TaskReport(
        task=art.task,
        compute=art.compute,
        status="succeeded" if outcome.succeeded else "failed",
        attempts=attempts,
        seconds=seconds,
        written=outcome.written,
        denied=denied,
        error=outcome.error,
        assumed=assumed,
    )


def _artifact_of(state: TaskState, found: dict[str, Artifact]) -> Artifact:
    # A function by ARN, a job by name, a task definition by ARN ending in family:revision.
    family = state.target.rsplit("/", 1)[-1].split(":")[0]
    for art in found.values():
        if art.reference in (state.target, family):
            return art
    raise InfraError(
        f"State {state.name!r} starts {state.target!r}, which no task of the plan deploys."
    )


def _check_rehearsable(model: Any, key: str) -> None:
    """Refuse, before anything starts, a task the emulator cannot give what it reaches: an
    RDS database (moto runs no database engine), an EFS volume (nothing to mount) or a
    Databricks job (no emulator of a workspace)."""
    for task in model.tasks_in(key):
        if task.compute == "databricks":
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs on Databricks, which a rehearsal "
                "cannot run: there is no emulator of a Databricks workspace. `glacier plan` "
                "shows its job; to rehearse the pipeline, run that task on ECS "
                "(compute=env.compute.ecs(...))."
            )
        relational = [model.databases[k] for k in task.databases]
        relational = [db for db in relational if not db.is_dynamodb]
        if relational:
            what = f"RDS database {relational[0].identifier!r}"
        elif task.volumes:
            what = f"EFS volume {model.volumes[task.volumes[0]].name!r}"
        else:
            continue
        raise InfraError(
            f"Task {task.name!r} ({task.location}) uses {what}, which a rehearsal cannot "
            "stand up (moto runs no database engine and mounts no file system). `glacier "
            "plan` and `glacier generate` still cover its infrastructure; test the task "
            "against a local database (docs/databases.md) and rehearse the tasks that use "
            "neither in a pipeline of their own."
        )


def _read_secrets(model: Any, key: str) -> list[tuple[str | None, str]]:
    """``(account, name)`` of the secrets tasks of ``key`` read that the plan does not declare
    (they exist in the account; a rehearsal stands one in). A secret named by ARN cannot be
    created under that ARN: the task's read of it is what the rehearsal reports."""
    found = {
        (model.envs[task.env].account_id, ref.cloud_name)
        for task in model.tasks_in(key)
        for ref in task.secrets
        if not ref.declared and not ref.cloud_name.startswith("arn:")
    }
    return sorted(found, key=lambda pair: pair[1])


def _data_environments(model: Any, key: str) -> list[str]:
    """Environments of other accounts holding data that tasks of ``key`` reach."""
    return sorted({c.store_env for c in model.cross_account if c.task_env == key} - {key})


def _environment(env: Any, model: Any) -> str:
    if env is None:
        if model.orchestrator is None:
            # A usage error (exit code 2): the command was pointed at the wrong environment.
            raise ConfigError(
                f"Pipeline {model.pipeline!r} has nothing to deploy: its environment is local. "
                "Rehearse an environment with a cloud provider (e.g. --env prod)."
            )
        return str(model.orchestrator)
    return env if isinstance(env, str) else str(env.name)


def _loaded(pipeline: Any) -> Any:
    if isinstance(pipeline, str):
        from glacier.targets import load_target

        return load_target(pipeline)
    return pipeline() if callable(pipeline) and not hasattr(pipeline, "dag") else pipeline


def _client(service: str, endpoint: str, region: str, creds: identity.Credentials) -> Any:
    from glacier.adapters.credentials import aws_client

    return aws_client(service, region=region, endpoint_url=endpoint, credentials=creds)


def _clients(endpoint: str, region: str, account: str | None = None) -> _Clients:
    """Set-up clients (before IAM is enforced, moto accepts any key), acting in ``account``
    (the server's default account when None)."""
    setup = identity.Credentials("rehearsal-setup", "rehearsal-setup")
    services = ("s3", "iam", "sts", "stepfunctions", "secretsmanager", "dynamodb")
    made = [_client(s, endpoint, region, setup) for s in services]
    if account:
        for client in made:
            client.meta.events.register("before-sign", _in_account(account))
    return _Clients(*made)


def _in_account(account: str) -> Any:
    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account  # moto's own header, see server

    return add_header
