"""A GCP environment's plan, read for a rehearsal (the one module that knows its shapes).

Read: buckets (``gcp:storage/bucket:Bucket``), custom roles
(``gcp:projects/iAMCustomRole:IAMCustomRole``: their ``permissions``), bucket IAM members
(``gcp:storage/bucketIAMMember:BucketIAMMember``: bucket, role, ``serviceAccount:<email>``,
the condition's expression, parsed), Cloud Run jobs (``gcp:cloudrunv2/job:Job``: the
template's service account, the container's ``commands``/``args`` and ``envs``,
``maxRetries``, ``timeout``) and the Workflows definition (``gcp:workflows/workflow:Workflow``
``sourceContents``): its steps in order, a ``parallel`` step's branches together, each call
of ``googleapis.run.v2.projects.locations.jobs.run`` naming a job by
``projects/<p>/locations/<r>/jobs/<name>``. A ``try`` around that call with a ``retry``
policy (``max_retries``, or ``${http.default_retry}``: 5) re-runs the job's execution, each
with the attempts its own ``maxRetries`` gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from glacier import env_vars
from glacier.errors import InfraError
from glacier.infra.rehearse.cloud_plan import CloudPlan, Job, of_type, one, seconds, variables
from glacier.infra.rehearse.conditions import parse_cel
from glacier.infra.rehearse.evaluator import Grant, gcp_role

BUCKET = "gcp:storage/bucket:Bucket"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
JOB = "gcp:cloudrunv2/job:Job"
WORKFLOW = "gcp:workflows/workflow:Workflow"
#: The Workflows connector that runs a Cloud Run job (and waits for it).
RUN_JOB = "googleapis.run.v2.projects.locations.jobs.run"
#: Retries of Workflows' predefined policies (``${http.default_retry}`` and its variants).
DEFAULT_RETRIES = 5


def read(resources: Iterable[Any], data: Iterable[Any] = ()) -> CloudPlan:
    """The :class:`CloudPlan` of a GCP environment's planned resources; ``data``: the
    resources of other projects' environments holding data its tasks reach (their buckets
    and the bindings there are added; their jobs are not this environment's)."""
    planned = list(resources)
    buckets, grants = storage(planned)
    theirs = storage(list(data))
    jobs = {job.name: job for job in (_job(r) for r in of_type(planned, JOB))}
    workflow = one(planned, WORKFLOW, "Workflows workflow")
    order, retries = steps(str(workflow.inputs["sourceContents"]))
    for name, extra in retries.items():
        if name in jobs:  # each retry of the step is a new execution of the job
            job = jobs[name]
            jobs[name] = replace(job, attempts=job.attempts * (1 + extra))
    return CloudPlan(
        cloud="gcp",
        buckets=tuple(dict.fromkeys((*buckets, *theirs[0]))),
        grants=(*grants, *theirs[1]),
        jobs=jobs,
        levels=order,
        orchestration=str(workflow.inputs.get("name") or workflow.name),
    )


def storage(planned: list[Any]) -> tuple[tuple[str, ...], tuple[Grant, ...]]:
    """The buckets and the bindings on them (with custom roles resolved) of resources."""
    custom: dict[str, list[str]] = {}
    for r in of_type(planned, CUSTOM_ROLE):
        permissions = [str(p) for p in r.inputs.get("permissions") or ()]
        role_id = str(r.inputs.get("roleId") or r.name)
        custom[role_id] = permissions
        if r.inputs.get("project"):
            custom[f"projects/{r.inputs['project']}/roles/{role_id}"] = permissions
        if r.outputs.get("name"):
            custom[str(r.outputs["name"])] = permissions
    grants = []
    for r in of_type(planned, MEMBER):
        member = str(r.inputs["member"])
        if not member.startswith("serviceAccount:"):
            raise InfraError(
                f"Bucket IAM member {r.name!r} grants {member!r}; a rehearsal runs tasks as "
                "their service accounts (serviceAccount:<email>) only."
            )
        condition = r.inputs.get("condition") or {}
        expression = condition.get("expression") if isinstance(condition, Mapping) else None
        role = str(r.inputs["role"])
        grants.append(
            Grant(
                cloud="gcp",
                identity=member.removeprefix("serviceAccount:"),
                bucket=str(r.inputs["bucket"]),
                actions=gcp_role(role, custom),
                role=role,
                condition=parse_cel(str(expression)) if expression else None,
            )
        )
    buckets = tuple(str(r.inputs.get("name") or r.name) for r in of_type(planned, BUCKET))
    return buckets, tuple(grants)


def _job(r: Any) -> Job:
    template = (r.inputs.get("template") or {}).get("template") or {}
    containers = template.get("containers") or []
    if not containers:
        raise InfraError(f"Cloud Run job {r.name!r} has no container in its template.")
    container = containers[0]
    found, secrets = variables(container.get("envs"))
    command = (*(container.get("commands") or ()), *(container.get("args") or ()))
    return Job(
        task=found.get(env_vars.GLACIER_TASK_NAME) or str(r.name),
        name=str(r.inputs.get("name") or r.name),
        identity=str(template.get("serviceAccount") or ""),
        command=tuple(str(c) for c in command),
        variables=found,
        attempts=1 + int(template.get("maxRetries") or 0),
        timeout=seconds(template.get("timeout")),
        secrets=secrets,
    )


def levels(source: str) -> tuple[tuple[str, ...], ...]:
    """The jobs a Workflows definition runs, step by step (a ``parallel`` step's branches
    together), by job name."""
    return steps(source)[0]


def steps(source: str) -> tuple[tuple[tuple[str, ...], ...], dict[str, int]]:
    """:func:`levels`, and the retries of the steps that run each job (by job name)."""
    import yaml

    try:
        document = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise InfraError(f"The Workflows definition is not valid YAML: {exc}") from exc
    main = document.get("main") if isinstance(document, Mapping) else None
    listed = main.get("steps") if isinstance(main, Mapping) else document
    if not isinstance(listed, list):
        raise InfraError("The Workflows definition has no list of steps (main.steps).")
    retries: dict[str, int] = {}
    out = [level for level in (_step_jobs(step, retries) for step in listed) if level]
    return tuple(tuple(level) for level in out), retries


def _step_jobs(step: Any, retries: dict[str, int]) -> list[str]:
    """The jobs one step (``{name: body}``) runs; a parallel step's branches' together."""
    found: list[str] = []
    bodies = step.values() if isinstance(step, Mapping) else ()
    for body in bodies:
        _collect(body, found, retries, 0)
    return found


def _retries(policy: Any) -> int:
    if isinstance(policy, Mapping) and "max_retries" in policy:
        return int(policy["max_retries"])
    if isinstance(policy, str) and "default_retry" in policy:
        return DEFAULT_RETRIES
    raise InfraError(
        f"A Workflows step retries with {policy!r}; a rehearsal reads a policy with "
        "max_retries or ${http.default_retry}."
    )


def _collect(node: Any, found: list[str], retries: dict[str, int], retried: int) -> None:
    if isinstance(node, Mapping):
        if "try" in node and "retry" in node:
            _collect(node["try"], found, retries, _retries(node["retry"]))
            return
        if node.get("call") == RUN_JOB:
            name = str((node.get("args") or {}).get("name") or "")
            if "/jobs/" not in name:
                raise InfraError(
                    f"A Workflows step calls {RUN_JOB} with args.name {name!r}; expected "
                    "projects/<project>/locations/<region>/jobs/<job>."
                )
            job = name.rsplit("/jobs/", 1)[1]
            found.append(job)
            if retried:
                retries[job] = retried
            return
        for value in node.values():
            _collect(value, found, retries, retried)
    elif isinstance(node, list):
        for item in node:
            _collect(item, found, retries, retried)
