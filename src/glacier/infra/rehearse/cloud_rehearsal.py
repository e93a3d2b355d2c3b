"""A rehearsal of a GCP or Azure environment: its plan's jobs, run on a storage emulator in the
orchestration's order, every storage request checked against the plan's grants.

Steps: read the plan (:mod:`~glacier.infra.rehearse.gcp_plan` or
:mod:`~glacier.infra.rehearse.azure_plan`); start the emulator (or use the one given) and
create the plan's buckets or containers there; start the recording proxies
(:mod:`~glacier.infra.rehearse.storage_proxy`); then follow the orchestration's levels (the
Workflows steps, the Logic Apps ``runAfter`` order), running each job's container command
(``python -m glacier.infra.runtime <target> <task>``) from the task's code package, in a clean
process, with the attempts its job allows. A level whose task failed stops the dependants
(``not run``), as the orchestration would.

The process's environment is the job's variables from the plan, plus only:

- the storage endpoint of that task's own proxy port: ``STORAGE_EMULATOR_HOST`` (GCP: read by
  gcsfs, Google's clients and :meth:`GcpConfig.from_env`) or the development account's
  ``AZURE_STORAGE_CONNECTION_STRING`` with the proxy as ``BlobEndpoint`` (Azure: read by
  Glacier's Blob Storage adapter and adlfs) — the emulator's address and credentials, which
  stand in for the cloud's endpoint and the identity's token;
- GCP: ``NO_GCE_CHECK=true`` (there is no metadata server to ask for the service account's
  token: Google's auth library then finds no credentials at once, and the client goes
  anonymous, as the emulator expects) and ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` (else
  gcsfs waits 60 s per bucket on a gRPC probe the emulator never answers);
- what the platform sets in every job: Cloud Run's ``CLOUD_RUN_JOB``,
  ``CLOUD_RUN_EXECUTION``, ``CLOUD_RUN_TASK_INDEX``, ``CLOUD_RUN_TASK_COUNT``,
  ``CLOUD_RUN_TASK_ATTEMPT``; Container Apps' ``CONTAINER_APP_JOB_NAME`` and
  ``CONTAINER_APP_JOB_EXECUTION_NAME``;
- ``GLACIER_RUN_ID`` (the orchestration's run), an empty ``HOME``, ``PATH=/usr/bin:/bin`` and
  ``PYTHONPATH`` = the code package (where the image's working directory would be).

The identity a task runs as is the port it talks to: the grants of that identity decide.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from glacier import env_vars
from glacier.errors import InfraError
from glacier.infra.rehearse import task_process
from glacier.infra.rehearse.artifacts import Artifact
from glacier.infra.rehearse.cloud_plan import CloudPlan, Job
from glacier.infra.rehearse.emulators import Emulator, azurite_connection
from glacier.infra.rehearse.report import Rehearsal, TaskReport
from glacier.infra.rehearse.seed import seed_files, seed_notes
from glacier.infra.rehearse.storage_proxy import StorageProxies

__all__ = ["CLOUDS", "NOT_CHECKED", "check_cloud_rehearsable", "read_plan", "rehearse_plan"]

#: The clouds rehearsed here (AWS is rehearsed on moto, :mod:`~glacier.infra.rehearse.rehearsal`).
CLOUDS = ("gcp", "azure")

#: What a rehearsal on GCP or Azure cannot check, said in every report.
NOT_CHECKED: Mapping[str, tuple[str, ...]] = {
    "gcp": (
        "the GCS emulator enforces no IAM: Glacier's evaluator checked every storage request "
        "against the plan's bucket IAM members and their conditions",
        "the Workflows definition was interpreted by Glacier (its steps in order, parallel "
        "branches together); Cloud Run jobs ran as local processes from the code package",
        "not exercised: networks, Secret Manager, Cloud Scheduler, Artifact Registry, the "
        "service accounts' tokens (the emulator is reached anonymously)",
    ),
    "azure": (
        "Azurite enforces no RBAC: Glacier's evaluator checked every storage request against "
        "the plan's role assignments and their ABAC conditions",
        "every storage account of the plan is stood in for by Azurite's development account; "
        "containers are matched by name",
        "the Logic Apps definition was interpreted by Glacier (actions in runAfter order); "
        "Container Apps jobs ran as local processes from the code package",
        "not exercised: networks, Key Vault, the registry, the identities' tokens (the "
        "emulator's account key stands in for them)",
    ),
}


def check_cloud_rehearsable(model: Any, key: str) -> None:
    """Refuse, before anything starts, a task using what a storage emulator cannot stand up:
    a database or a volume."""
    for task in model.tasks_in(key):
        if task.databases or task.volumes:
            what = (
                f"database {model.databases[task.databases[0]].identifier!r}"
                if task.databases
                else (f"volume {task.volumes[0]!r}")
            )
            raise InfraError(
                f"Task {task.name!r} uses {what}, which a rehearsal on a storage emulator "
                "cannot stand up. `glacier plan` and `glacier generate` still cover its "
                "infrastructure; rehearse the tasks that use neither in a pipeline of their own."
            )


def read_plan(cloud: str, resources: Iterable[Any], data: Iterable[Any] = ()) -> CloudPlan:
    """The :class:`CloudPlan` of one environment's resources on ``cloud`` (``data``: those of
    the environments of other projects or subscriptions whose data its tasks reach)."""
    if cloud == "gcp":
        from glacier.infra.rehearse import gcp_plan

        return gcp_plan.read(resources, data)
    from glacier.infra.rehearse import azure_plan

    return azure_plan.read(resources, data)


def rehearse_plan(
    cloud: str,
    resources: Iterable[Any],
    files: Mapping[str, Path | str],
    *,
    pipeline: str,
    environment: str,
    emulator: str | None = None,
    data: Iterable[Any] = (),
    python: str | None = None,
    seed: str | Path | None = None,
) -> Rehearsal:
    """Rehearse a GCP or Azure environment's planned ``resources`` (see the module docs).

    Args:
        cloud: ``"gcp"`` or ``"azure"``.
        resources: The environment's planned resources.
        files: The code package every job's image holds (name -> path or text).
        pipeline: The pipeline's name, for the report.
        environment: The environment's key, for the report.
        emulator: The URL of a running emulator to use (else one is started and stopped).
        data: The planned resources of other projects' or subscriptions' environments whose
            data the tasks reach: their buckets are created and their grants evaluated.
        python: The interpreter the jobs run with (default: this one, which has everything
            installed): e.g. that of a virtual environment holding exactly what the image
            installs (:func:`glacier.infra.image.image_requirements`).
        seed: A directory of ``<bucket>/<key>`` files put in the buckets before the first
            task runs (:mod:`~glacier.infra.rehearse.seed`).
    """
    plan = read_plan(cloud, resources, data)
    sources = seed_files(seed, plan.buckets) if seed is not None else []
    store = Emulator(cloud, emulator)
    proxies = StorageProxies(cloud, store.url, plan.grants)
    try:
        store.create_buckets(plan.buckets)
        for source in sources:
            store.put(source.bucket, source.key, source.path.read_bytes())
        run_id = time.strftime("rehearsal-%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        reports = _follow(plan, files, proxies, run_id, python)
    finally:
        proxies.stop()
        store.stop()
    return Rehearsal(
        pipeline=pipeline,
        environment=environment,
        endpoint=store.url,
        state_machine=plan.orchestration,
        tasks=tuple(reports),
        notes=(
            _checked(plan, proxies),
            *NOT_CHECKED[cloud],
            *_secret_notes(plan),
            *seed_notes(sources),
        ),
    )


def _checked(plan: CloudPlan, proxies: StorageProxies) -> str:
    """How many storage requests each task made, all checked against the grants."""
    counts = [
        f"{job.task} {sum(1 for r in proxies.records if r.identity == job.identity)}"
        for job in plan.jobs.values()
    ]
    return f"storage requests checked against the grants: {', '.join(counts)}"


def _secret_notes(plan: CloudPlan) -> tuple[str, ...]:
    filled = [f"{job.task}: {', '.join(job.secrets)}" for job in plan.jobs.values() if job.secrets]
    if not filled:
        return ()
    return (
        "variables the cloud fills from secrets were given a generated test value ("
        + "; ".join(sorted(filled))
        + ")",
    )


def _follow(
    plan: CloudPlan,
    files: Mapping[str, Path | str],
    proxies: StorageProxies,
    run_id: str,
    python: str | None = None,
) -> list[TaskReport]:
    levels = [[plan.job(name) for name in level] for level in plan.levels]
    reports: list[TaskReport] = []
    with tempfile.TemporaryDirectory(prefix="glacier-rehearsal-") as tmp:
        work = Path(tmp)
        for level in levels:
            if any(r.status != "succeeded" for r in reports):  # the orchestration stopped
                reports.extend(TaskReport(j.task, _compute(plan), "not run") for j in level)
                continue
            with ThreadPoolExecutor(max_workers=len(level)) as pool:
                reports.extend(
                    pool.map(lambda j: _run(plan, j, files, proxies, work, run_id, python), level)
                )
    return reports


def _compute(plan: CloudPlan) -> str:
    return "cloudrun" if plan.cloud == "gcp" else "containerapp"


def _run(
    plan: CloudPlan,
    job: Job,
    files: Mapping[str, Path | str],
    proxies: StorageProxies,
    work: Path,
    run_id: str,
    python: str | None = None,
) -> TaskReport:
    art = Artifact(
        task=job.task,
        compute=_compute(plan),
        role_arn=job.identity,
        region="",
        variables=job.variables,
        entry=job.command,
        files=files,
        reference=job.name,
    )
    code = art.unpack(work / job.task / "code")
    home = work / job.task / "home"
    home.mkdir(parents=True, exist_ok=True)
    endpoint = proxies.url_of(job.identity)
    outcome = task_process.Outcome(False, (), "", 0.0)
    seconds, attempts = 0.0, 0
    while attempts < job.attempts:
        attempts += 1
        env = environment(plan.cloud, job, code, home, endpoint, run_id, attempts)
        timeout = job.timeout or task_process.TASK_TIMEOUT
        outcome = task_process.run(art, code, env, run_id, timeout, python)
        seconds += outcome.seconds
        if outcome.succeeded:
            break
    return TaskReport(
        task=job.task,
        compute=art.compute,
        status="succeeded" if outcome.succeeded else "failed",
        attempts=attempts,
        seconds=seconds,
        written=outcome.written,
        denied=tuple(proxies.denied_to(job.identity)),
        error=outcome.error,
    )


def environment(
    cloud: str, job: Job, code: Path, home: Path, endpoint: str, run_id: str, attempt: int
) -> dict[str, str]:
    """The job's process environment (see the module docs for each variable added)."""
    env = {
        **job.variables,
        env_vars.GLACIER_RUN_ID: run_id,
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(code),
    }
    if cloud == "gcp":
        env.update(
            STORAGE_EMULATOR_HOST=endpoint,
            NO_GCE_CHECK="true",
            GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT="false",
            CLOUD_RUN_JOB=job.name,
            CLOUD_RUN_EXECUTION=f"{job.name}-{run_id[-6:]}",
            CLOUD_RUN_TASK_INDEX="0",
            CLOUD_RUN_TASK_COUNT="1",
            CLOUD_RUN_TASK_ATTEMPT=str(attempt - 1),
        )
    else:
        env.update(
            AZURE_STORAGE_CONNECTION_STRING=azurite_connection(endpoint),
            CONTAINER_APP_JOB_NAME=job.name,
            CONTAINER_APP_JOB_EXECUTION_NAME=f"{job.name}-{run_id[-6:]}",
        )
    return env
