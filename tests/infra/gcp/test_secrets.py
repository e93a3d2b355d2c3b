"""Secret Manager on GCP: each task that names a secret gets ``secretAccessor`` on that
secret alone; a declared secret is declared (never its value)."""

from __future__ import annotations

import dataclasses

import pytest

from glacier.errors import InfraError
from glacier.infra.gcp import declare
from glacier.infra.mocks import RecordingMocks, make_plan, run_with_mocks
from glacier.infra.model import SecretRef, build_model
from infra.gcp.pipelines import PROJECT, daily

MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"


def _with_secrets(**by_task: tuple[SecretRef, ...]):  # type: ignore[no-untyped-def]
    # The model reads secrets from the settings' [secrets] (AWS or variables today); the
    # builder is given them directly here.
    model = build_model(daily())
    tasks = tuple(dataclasses.replace(t, secrets=by_task.get(t.name, ())) for t in model.tasks)
    model = dataclasses.replace(model, tasks=tasks)
    mocks = RecordingMocks(model.envs)
    run_with_mocks(lambda: declare(model, "prod"), mocks, project="daily", stack="prod")
    return make_plan(model.pipeline, mocks.resources, ("prod",))


def test_each_task_reads_exactly_the_secrets_it_names() -> None:
    api = SecretRef("api_key", "fmp-api-key", declared=True)
    token = SecretRef("token", "slack-token")
    planned = _with_secrets(tidy=(api,), publish=(api, token))
    bindings = sorted(
        (r.inputs["secretId"], r.inputs["member"], r.inputs["role"])
        for r in planned.of_type(MEMBER)
    )
    sa = "serviceAccount:prod-daily-{}@" + PROJECT + ".iam.gserviceaccount.com"
    role = "roles/secretmanager.secretAccessor"
    assert bindings == [
        ("fmp-api-key", sa.format("publish"), role),
        ("fmp-api-key", sa.format("tidy"), role),
        ("slack-token", sa.format("publish"), role),
    ]
    (secret,) = planned.of_type("gcp:secretmanager/secret:Secret")  # only the declared one
    assert secret.inputs["secretId"] == "fmp-api-key"
    assert secret.inputs["replication"] == {"auto": {}}


def test_a_secret_name_that_is_no_secret_manager_id_is_refused() -> None:
    with pytest.raises(InfraError, match=r"'/prod/fmp/api_key'.*Secret Manager"):
        _with_secrets(tidy=(SecretRef("api_key", "/prod/fmp/api_key"),))
