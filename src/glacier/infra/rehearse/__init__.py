"""A rehearsal of a deployment on emulators: every task's real artifact, run under its own
IAM role, in the order of the generated state machine, with no cloud account::

    from glacier.infra import rehearse

    report = rehearse(pipeline, "prod")
    print(report.to_text())
    assert report.ok

Where to look:

====================  ======================================================================
``rehearsal``         :func:`rehearse`: the steps, in order
``server``            the moto server of its own, IAM enforcement, the recording proxy
``identity``          the rehearsal's IAM user, role sessions, rewritten trust
``declared``          what the plan declares, created on moto (and what is not)
``artifacts``         each task's package, command, variables and role, from the plan
``definition``        the order of tasks, from the state machine's definition
``task_process``      one task in a clean process, with what the cloud gives it
``report``            per-task outcomes, datasets written, requests denied
``cloud_rehearsal``   GCP and Azure: the plan's jobs on a storage emulator
``gcp_plan``          what a GCP plan holds for a rehearsal (grants, jobs, Workflows order)
``azure_plan``        what an Azure plan holds (role assignments, jobs, Logic Apps order)
``cloud_plan``        the neutral shape both read into
``evaluator``         grants, requests and :func:`allowed` (the emulators enforce no IAM)
``conditions``        IAM Conditions (CEL) and ABAC conditions, parsed and evaluated
``storage_proxy``     one recording port per task identity before the emulator
``storage_requests``  GCS and Blob REST requests, in the evaluator's words
``emulators``         the GCS emulator and Azurite, started, and their buckets
====================  ======================================================================
"""

from __future__ import annotations

from glacier.infra.rehearse.rehearsal import rehearse, stop_server
from glacier.infra.rehearse.report import Rehearsal, TaskReport
from glacier.infra.rehearse.server import Denied

__all__ = ["Denied", "Rehearsal", "TaskReport", "rehearse", "stop_server"]
