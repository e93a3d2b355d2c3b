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
    # The builder given secrets directly (the end-to-end case, from [secrets], is below).
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


def _secret_pipeline(**secrets: dict[str, object]):  # type: ignore[no-untyped-def]
    """A GCP environment from settings naming ``api_key`` in Secret Manager; task ``fetch``
    asks for it, task ``report`` does not."""
    import polars as pl
    from pydantic import SecretStr

    from glacier import Dataset, Environment, Pipeline
    from glacier.settings import GcpConfig, GlacierSettings

    settings = GlacierSettings(
        env="prod",
        provider=GcpConfig(project=PROJECT, region="europe-west1"),
        secrets=secrets or {"api_key": {"gcp": "fmp-api-key"}},
    )
    env = Environment.from_settings(settings)
    quotes = Dataset("quotes", storage=env.storage.gcs("acme-prod-lake", "quotes.parquet"))
    out = Dataset("out", storage=env.storage.gcs("acme-prod-lake", "out.parquet"))
    p = Pipeline("fmp", env=env)

    @p.task()
    def fetch(api_key: SecretStr) -> quotes:
        return pl.DataFrame({"x": [1]})

    @p.task()
    def report(data: quotes) -> out:
        return data

    return p


def _envs(planned, task: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    (job,) = [
        r
        for r in planned.of_type("gcp:cloudrunv2/job:Job")
        if r.inputs["labels"]["glacier-task"] == task
    ]
    return list(job.inputs["template"]["template"]["containers"][0]["envs"])


def test_a_task_reading_a_secret_manager_secret_is_granted_it_and_given_it_by_cloud_run() -> None:
    from glacier.infra.mocks import plan

    planned = plan(_secret_pipeline())
    bindings = [(r.inputs["secretId"], r.inputs["member"]) for r in planned.of_type(MEMBER)]
    sa = f"serviceAccount:prod-fmp-fetch@{PROJECT}.iam.gserviceaccount.com"
    assert bindings == [("fmp-api-key", sa)]  # only fetch, only its secret
    elsewhere = [
        r.name for r in planned.resources if r.type != MEMBER and "secretmanager" in str(r.inputs)
    ]
    assert elsewhere == []  # no project-level Secret Manager role
    assert planned.of_type("gcp:secretmanager/secret:Secret") == []  # not declared
    from_secrets = [e for e in _envs(planned, "fetch") if "valueSource" in e]
    assert from_secrets == [
        {
            "name": "GLACIER_SECRET_API_KEY",
            "valueSource": {"secretKeyRef": {"secret": "fmp-api-key", "version": "latest"}},
        }
    ]
    assert all("valueSource" not in e for e in _envs(planned, "report"))
    # No value of the secret anywhere: the job names it, Cloud Run resolves it.
    assert all("value" not in e for e in from_secrets)


def test_a_declared_secret_manager_secret_is_declared_and_granted() -> None:
    from glacier.infra.mocks import plan

    planned = plan(_secret_pipeline(api_key={"gcp": "fmp-api-key", "declare": True}))
    (secret,) = planned.of_type("gcp:secretmanager/secret:Secret")
    assert secret.inputs["secretId"] == "fmp-api-key"
    assert [r.inputs["secretId"] for r in planned.of_type(MEMBER)] == ["fmp-api-key"]


def test_a_variable_secret_is_refused_for_a_gcp_task_naming_secret_manager() -> None:
    from glacier.infra.mocks import plan

    with pytest.raises(InfraError, match=r"'api_key'.*GCP Secret Manager.*gcp = \"<secret id>\""):
        plan(_secret_pipeline(api_key={"env": "FMP_API_KEY"}))


def test_two_secrets_a_job_would_get_in_one_variable_are_refused() -> None:
    import polars as pl
    from pydantic import SecretStr

    from glacier import Dataset, Environment, Pipeline
    from glacier.infra.mocks import plan
    from glacier.settings import GcpConfig, GlacierSettings

    settings = GlacierSettings(
        env="prod",
        provider=GcpConfig(project=PROJECT, region="europe-west1"),
        secrets={"api_key": {"gcp": "a"}, "API_KEY": {"gcp": "b"}},
    )
    env = Environment.from_settings(settings)
    out = Dataset("out", storage=env.storage.gcs("acme-prod-lake", "out.parquet"))
    p = Pipeline("fmp", env=env)

    @p.task()
    def fetch(api_key: SecretStr, API_KEY: SecretStr) -> out:
        return pl.DataFrame({"x": [1]})

    with pytest.raises(InfraError, match=r"'api_key' and 'API_KEY'.*GLACIER_SECRET_API_KEY"):
        plan(p)
