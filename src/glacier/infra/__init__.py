"""Infrastructure from the pipeline: a Pulumi program, an offline plan, generation and deploy.

The pipeline and its environments determine the infrastructure (see ``docs/infra.md``)::

    from glacier import infra

    plan = infra.plan(pipeline)                        # offline, under Pulumi's mock engine
    print(plan.to_text())
    infra.generate(pipeline, "infra/", [dev, prod])    # a runnable Pulumi project
    infra.rehearse(pipeline, prod)                     # run it on moto, under its IAM roles
    infra.up(pipeline, prod)                           # deploy (needs the Pulumi CLI)

This package imports nothing heavy: Pulumi and ``pulumi_aws`` load when a program runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glacier.lazy_exports import keep_exports, lazy_exports

if TYPE_CHECKING:
    from glacier.infra.deploy import up
    from glacier.infra.mocks import Plan, PlannedResource, plan
    from glacier.infra.model import InfraModel, build_model
    from glacier.infra.project import generate
    from glacier.infra.pulumi_program import program
    from glacier.infra.rehearse import Rehearsal, rehearse

__all__ = [
    "InfraModel",
    "Plan",
    "PlannedResource",
    "Rehearsal",
    "build_model",
    "generate",
    "plan",
    "program",
    "rehearse",
    "up",
]

_WHERE = {
    "InfraModel": "glacier.infra.model",
    "build_model": "glacier.infra.model",
    "Plan": "glacier.infra.mocks",
    "PlannedResource": "glacier.infra.mocks",
    "plan": "glacier.infra.mocks",
    "program": "glacier.infra.pulumi_program",
    "generate": "glacier.infra.project",
    "up": "glacier.infra.deploy",
    "rehearse": "glacier.infra.rehearse",
    "Rehearsal": "glacier.infra.rehearse",
}


__getattr__ = lazy_exports(__name__, _WHERE, globals())
# `rehearse` is the function, also when the subpackage `glacier.infra.rehearse` was imported first.
keep_exports(__name__, _WHERE)


def __dir__() -> list[str]:
    return sorted(__all__)
