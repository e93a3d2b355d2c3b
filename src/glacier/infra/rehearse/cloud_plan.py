"""What a rehearsal on GCP or Azure reads from a plan, in one neutral shape.

Each cloud's module (:mod:`~glacier.infra.rehearse.gcp_plan`,
:mod:`~glacier.infra.rehearse.azure_plan`) is the only place that knows its resource types
and inputs; it returns a :class:`CloudPlan`: the buckets or containers to create, the grants
(:class:`~glacier.infra.rehearse.evaluator.Grant`), each task's job as the cloud would start
it (:class:`Job`), and the orchestration's order (levels of jobs that run together).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from glacier.errors import InfraError
from glacier.infra.rehearse.evaluator import Grant


@dataclass(frozen=True)
class Job:
    """One task's compute as planned: the job's name, the identity it runs as, its
    container's command, its variables, how many attempts it gets and its timeout."""

    task: str
    name: str
    identity: str
    command: tuple[str, ...]
    variables: Mapping[str, str] = field(repr=False)
    attempts: int = 1
    timeout: float | None = None
    #: Variables the cloud fills from a secret (Secret Manager, Key Vault): the rehearsal
    #: gives them a generated test value.
    secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class CloudPlan:
    """A GCP or Azure environment's plan, as a rehearsal needs it."""

    cloud: str
    buckets: tuple[str, ...]
    grants: tuple[Grant, ...]
    jobs: Mapping[str, Job]
    levels: tuple[tuple[str, ...], ...]
    orchestration: str
    #: Storage accounts by container (Azure), for reports and requests.
    accounts: Mapping[str, str] = field(default_factory=dict)

    def job(self, name: str) -> Job:
        """The job ``name`` the orchestration starts; an error if the plan has none."""
        if name not in self.jobs:
            raise InfraError(
                f"The orchestration {self.orchestration!r} starts job {name!r}, which no "
                f"task of the plan deploys (jobs: {', '.join(sorted(self.jobs)) or 'none'})."
            )
        return self.jobs[name]


def of_type(resources: Iterable[Any], type_: str) -> list[Any]:
    """The resources of one type token."""
    return [r for r in resources if r.type == type_]


def one(resources: Iterable[Any], type_: str, what: str) -> Any:
    """The one resource of ``type_``; an error naming ``what`` when there is none or several."""
    found = of_type(resources, type_)
    if len(found) != 1:
        raise InfraError(
            f"A rehearsal needs exactly one {what} ({type_}) in the environment's plan; it "
            f"has {len(found)}."
        )
    return found[0]


def variables(pairs: Iterable[Mapping[str, Any]] | None) -> tuple[dict[str, str], tuple[str, ...]]:
    """``[{name, value}]`` (a container's environment) as a mapping, and the names of those
    the cloud fills from a secret (GCP's ``valueSource``, Azure's ``secretRef``), which get a
    generated test value (:func:`~glacier.infra.rehearse.declared.test_value`)."""
    from glacier.infra.rehearse.declared import test_value

    found: dict[str, str] = {}
    secret: list[str] = []
    for p in pairs or ():
        name = str(p["name"])
        if "value" in p and p["value"] is not None:
            found[name] = str(p["value"])
        elif p.get("valueSource") or p.get("secretRef"):
            found[name] = test_value()
            secret.append(name)
        else:
            raise InfraError(f"The job's variable {name!r} has neither a value nor a secret.")
    return found, tuple(secret)


def seconds(value: Any) -> float | None:
    """``"600s"`` or ``"PT10M"``-less plain numbers as seconds; None when unset."""
    if value is None or value == "":
        return None
    text = str(value).strip().removesuffix("s")
    try:
        return float(text)
    except ValueError:
        raise InfraError(f"A job's timeout {value!r} is not a number of seconds.") from None
