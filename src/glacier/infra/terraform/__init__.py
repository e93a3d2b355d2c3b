"""Terraform JSON: the pipeline's infrastructure as ``*.tf.json``, one directory per environment.

A second writer of the same plan: the Pulumi program Glacier runs for ``glacier plan`` runs
under mocks answering with Terraform references
(:mod:`glacier.infra.terraform.references`), and each recorded resource is translated
(:mod:`glacier.infra.terraform.translate`, names in :mod:`glacier.infra.terraform.types`)::

    from glacier.infra.terraform import generate, package

    generate(pipeline, "infra/terraform")        # DIR/<env>/main.tf.json, variables, outputs
    package(pipeline, "infra/terraform")         # DIR/<env>/artifacts/ (Lambda code, layers)

A resource type, input or lookup with no Terraform mapping is refused, naming it.
"""

from __future__ import annotations

from glacier.errors import ConfigError
from glacier.infra.terraform.artifacts import package
from glacier.infra.terraform.configuration import write as generate

#: The targets ``glacier generate --target`` writes; the first is the default.
TARGETS = ("pulumi", "terraform")

__all__ = ["TARGETS", "check_target", "generate", "package"]


def check_target(target: str) -> str:
    """``target`` when it is one of :data:`TARGETS`; refused, listing them, otherwise.

    Example:
        >>> check_target("terraform")
        'terraform'
    """
    if target not in TARGETS:
        raise ConfigError(
            f"Unknown target {target!r}; use one of {', '.join(TARGETS)} (default {TARGETS[0]})."
        )
    return target
