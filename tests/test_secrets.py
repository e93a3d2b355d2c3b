"""Secrets per environment: declared by store in ``[secrets]``, read at run time from the
environment, a ``.env`` file or AWS Secrets Manager (the moto server), handed out as
``SecretStr``, and never written to a log, a run record, the graph, the plan, generated files
or an exception message."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest
from pydantic import SecretStr

from glacier import Dataset, Environment, Pipeline
from glacier.errors import ConfigError, InfraError, SecretError, SecretNotFoundError
from glacier.graph import pipeline_graph, to_mermaid
from glacier.infra import plan
from glacier.secrets import Secrets
from glacier.settings import GlacierSettings

KNOWN = "sk-live-0123456789abcdef"


def write_settings(root: Path, env: str, body: str) -> Path:
    (root / "containers").mkdir(parents=True, exist_ok=True)
    path = root / "containers" / f"{env}.toml"
    path.write_text(body)
    return root / "containers"


def test_env_secret_comes_from_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FMP_API_KEY", KNOWN)
    env = Environment.from_settings(GlacierSettings(secrets={"api_key": {"env": "FMP_API_KEY"}}))
    value = env.secret("api_key")
    assert isinstance(value, SecretStr)
    assert value.get_secret_value() == KNOWN
    assert KNOWN not in f"{value} {value!r}"


def test_env_secret_falls_back_to_the_projects_dotenv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FMP_API_KEY", raising=False)
    directory = write_settings(tmp_path, "dev", '[secrets]\napi_key = { env = "FMP_API_KEY" }\n')
    (tmp_path / ".env").write_text(f"# local only\nFMP_API_KEY='{KNOWN}'\n")
    settings = GlacierSettings.load("dev", settings_dir=directory)
    assert Secrets(settings).get("api_key").get_secret_value() == KNOWN


def test_aws_secret_is_read_from_secrets_manager(moto_endpoint: str) -> None:
    client = boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_secret(Name="/dev/fmp/api_key", SecretString=KNOWN)
    settings = GlacierSettings(
        provider={"kind": "aws", "region": "us-east-1", "endpoint_url": moto_endpoint},
        secrets={"api_key": {"aws": "/dev/fmp/api_key"}, "gone": {"aws": "/dev/nothing"}},
    )
    secrets = Secrets(settings)
    assert secrets.get("api_key").get_secret_value() == KNOWN
    with pytest.raises(SecretNotFoundError, match=r"'gone'.*'/dev/nothing'.*create-secret"):
        secrets.get("gone")


def test_a_secret_missing_in_the_environment_names_it_and_its_file(tmp_path: Path) -> None:
    directory = write_settings(tmp_path, "staging", '[secrets]\nother = { env = "OTHER" }\n')
    env = Environment.from_settings(GlacierSettings.load("staging", settings_dir=directory))
    with pytest.raises(SecretNotFoundError) as caught:
        env.secret("api_key")
    message = str(caught.value)
    assert "environment 'staging'" in message
    assert str(directory / "staging.toml") in message
    assert "api_key = { aws = " in message


def test_a_value_written_in_the_settings_file_is_refused_without_showing_it(
    tmp_path: Path,
) -> None:
    directory = write_settings(tmp_path, "dev", f'[secrets]\napi_key = "{KNOWN}"\n')
    with pytest.raises(ConfigError) as caught:
        GlacierSettings.load("dev", settings_dir=directory)
    assert "secrets.api_key holds a value written in the settings file" in str(caught.value)
    assert "name a secret store" in str(caught.value) or "only name a secret" in str(caught.value)
    assert KNOWN not in str(caught.value)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            {"vault": "x"},
            r"secrets.api_key: unknown field 'vault'; allowed fields: aws, azure, declare, "
            r"env, gcp",
        ),
        ({}, r"name exactly one store"),
        ({"aws": "/a", "env": "A"}, r"name exactly one store.*got aws and env"),
        ({"env": "1BAD"}, r"environment variable name"),
        (
            {"gcp": "projects/p/secrets/x"},
            r"secrets.api_key.gcp: a Secret Manager secret is named by its id",
        ),
        ({"azure": "fmp_api_key"}, r"secrets.api_key.azure: a Key Vault secret is named"),
        ({"gcp": "a", "azure": "b"}, r"name exactly one store.*got gcp and azure"),
    ],
)
def test_bad_sources_name_the_field_and_the_fix(source: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        GlacierSettings(secrets={"api_key": source})


def test_a_task_parameter_receives_the_secret_and_no_sink_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FMP_API_KEY", KNOWN)
    settings = GlacierSettings(
        state_dir=tmp_path / "state", secrets={"api_key": {"env": "FMP_API_KEY"}}
    )
    env = Environment.from_settings(settings)
    pipeline = Pipeline("fmp", env=env)
    prices = Dataset("prices")
    seen: list[int] = []

    @pipeline.task()
    def fetch(api_key: SecretStr) -> prices:
        logging.getLogger("fmp").warning("calling the API with %s (%r)", api_key, api_key)
        print("key:", api_key)
        seen.append(len(api_key.get_secret_value()))
        return pl.DataFrame({"n": [1]})

    @pipeline.task()
    def fail(data: prices, api_key: SecretStr) -> None:
        raise ValueError(f"the API refused {api_key}")

    with caplog.at_level(logging.DEBUG):
        result = pipeline.run(raise_on_failure=False)
    assert seen == [len(KNOWN)]  # the task got the real value
    assert not result.ok
    sinks = {
        "logs": caplog.text,
        "task logs": json.dumps([result.tasks[t].logs for t in result.tasks], default=str),
        "exception": result.failure_report(),
        "run records": "".join(
            p.read_text(errors="replace") for p in (tmp_path / "state").rglob("*") if p.is_file()
        ),
        "graph": to_mermaid(pipeline_graph(pipeline)),
        "analysis": json.dumps(pipeline.run(mode="analyze"), default=str),
    }
    assert "**********" in sinks["exception"]  # what was logged is there, masked
    for name, text in sinks.items():
        assert KNOWN not in text, name


def test_plan_and_generated_files_hold_the_secrets_name_never_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.pipelines import attached_pipeline

    monkeypatch.setenv("FMP_API_KEY", KNOWN)  # even with the value at hand
    pipeline = attached_pipeline()
    planned = json.dumps([dict(r.inputs) for r in plan(pipeline).resources], default=str)
    assert "/prod/fmp/api_key-??????" in planned
    assert KNOWN not in planned
    pipeline.run(mode="generate", output_dir=tmp_path / "out")
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert written
    for path in written:
        assert KNOWN.encode() not in path.read_bytes(), path


def test_the_plan_grants_exactly_the_secrets_a_task_declares() -> None:
    from infra.pipelines import attached_pipeline
    from infra.plans import statement, task_policy

    p = plan(attached_pipeline())
    grant = statement(task_policy(p, "prod", "fetch"), "Secrets")
    assert grant["Action"] == ["secretsmanager:GetSecretValue"]
    # "other" is declared in [secrets] but no task asks for it
    assert grant["Resource"] == [
        "arn:aws:secretsmanager:ca-central-1:999999999999:secret:/prod/fmp/api_key-??????"
    ]
    report = task_policy(p, "prod", "report")
    assert not any(s["Sid"] == "Secrets" for s in report["Statement"])


def test_a_deployed_task_cannot_read_an_env_secret_of_this_machine() -> None:
    from infra.pipelines import attached_pipeline, attached_settings

    settings = attached_settings(secrets={"api_key": {"env": "FMP_API_KEY"}})
    with pytest.raises(InfraError, match=r"secret 'api_key'.*env variable FMP_API_KEY.*aws = "):
        plan(attached_pipeline(settings))


def test_a_task_secret_missing_in_the_environment_is_refused_at_plan_time() -> None:
    from infra.pipelines import attached_pipeline, attached_settings

    with pytest.raises(SecretNotFoundError, match=r"'api_key' is not declared in environment"):
        plan(attached_pipeline(attached_settings(secrets={})))


def test_secrets_manager_failures_say_why_without_a_value(moto_endpoint: str) -> None:
    class Denied:
        def get_secret_value(self, SecretId: str) -> dict[str, str]:
            error = RuntimeError("denied")
            error.response = {"Error": {"Code": "AccessDeniedException"}}  # type: ignore[attr-defined]
            raise error

    settings = GlacierSettings(secrets={"api_key": {"aws": "/prod/fmp/api_key"}})
    with pytest.raises(SecretError, match=r"AccessDeniedException.*GetSecretValue"):
        Secrets(settings, aws_client=Denied()).get("api_key")


def test_a_database_password_comes_from_the_secret_it_names() -> None:
    settings = GlacierSettings(
        databases={"wh": {"identifier": "wh", "rds": {}, "password_secret": "wh_password"}},
        secrets={"wh_password": {"env": "WH_PASSWORD"}},
    )
    secrets = Secrets(settings, environ={"WH_PASSWORD": KNOWN})
    assert secrets.password_for("wh").get_secret_value() == KNOWN
    with pytest.raises(SecretNotFoundError, match=r"Database 'nope' is not declared.*password"):
        secrets.password_for("nope")


def test_an_optional_secret_parameter_is_none_where_the_environment_declares_none() -> None:
    env = Environment.from_settings(GlacierSettings())

    @env.task()
    def fetch(api_key: SecretStr | None) -> bool:
        return api_key is None

    assert fetch() is True


# -- secrets the plan declares (declare = true) ------------------------------------------------


def test_a_declared_secret_is_planned_without_a_value_and_granted_by_its_arn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.pipelines import attached_pipeline, attached_settings
    from infra.plans import statement, task_policy

    monkeypatch.setenv("FMP_API_KEY", KNOWN)  # the value at hand changes nothing
    settings = attached_settings(secrets={"api_key": {"aws": "/prod/fmp/api_key", "declare": True}})
    pipeline = attached_pipeline(settings)
    planned = plan(pipeline)
    (secret,) = planned.of_type("aws:secretsmanager/secret:Secret")
    assert secret.inputs["name"] == "/prod/fmp/api_key"
    assert not planned.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert not any("secretString" in r.inputs for r in planned.resources)
    grant = statement(task_policy(planned, "prod", "fetch"), "Secrets")
    assert grant["Resource"] == [secret.outputs["arn"]]
    assert secret.outputs["arn"].endswith(":secret:/prod/fmp/api_key-AbCdEf")
    report = task_policy(planned, "prod", "report")
    assert "secretsmanager" not in json.dumps(report)
    everything = json.dumps([dict(r.inputs) for r in planned.resources], default=str)
    assert KNOWN not in everything
    pipeline.run(mode="generate", output_dir=tmp_path / "out")
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert any(p.name.startswith("Pulumi.") for p in written)
    for path in written:
        assert KNOWN.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"env": "FMP_API_KEY", "declare": True}, r"declare = true.*aws = '/<env>/\.\.\.'"),
        (
            {"aws": "arn:aws:secretsmanager:us-east-1:111111111111:secret:x", "declare": True},
            r"declare = true creates the secret, so it is named, not given by an ARN",
        ),
    ],
)
def test_a_declared_secret_is_named_in_aws(source: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        GlacierSettings(secrets={"api_key": source})


@pytest.mark.parametrize("store", ["gcp", "azure"])
def test_a_deployed_gcp_or_azure_task_reads_the_variable_its_platform_filled(store: str) -> None:
    from glacier.env_vars import secret_variable

    settings = GlacierSettings(secrets={"api_key": {store: "fmp-api-key"}})
    environ = {"GLACIER_DEPLOYED": "1", secret_variable("api_key"): KNOWN}
    value = Secrets(settings, environ=environ).get("api_key")
    assert secret_variable("api_key") == "GLACIER_SECRET_API_KEY"
    assert value.get_secret_value() == KNOWN
    with pytest.raises(SecretNotFoundError, match=r"'api_key'.*'fmp-api-key'") as caught:
        Secrets(settings, environ={"GLACIER_DEPLOYED": "1"}).get("api_key")
    assert "deployed by this plan" in str(caught.value)


@pytest.mark.parametrize("store", ["gcp", "azure"])
def test_a_gcp_or_azure_secret_is_refused_outside_a_deployed_task(store: str) -> None:
    settings = GlacierSettings(secrets={"api_key": {store: "fmp-api-key"}})
    # The variable alone is not enough: outside a deployed job nothing filled it.
    environ = {"GLACIER_SECRET_API_KEY": KNOWN}
    with pytest.raises(
        SecretError,
        match=rf"a {store} secret, read by the deployed job; "
        r"locally give it \{ env = \"API_KEY\" \} in the dev settings",
    ):
        Secrets(settings, environ=environ).get("api_key")


@pytest.mark.parametrize("store", ["gcp", "azure"])
def test_a_bad_gcp_or_azure_reference_is_refused_without_showing_it(store: str) -> None:
    with pytest.raises(ConfigError, match=rf"secrets\.api_key\.{store}") as caught:
        GlacierSettings(secrets={"api_key": {store: KNOWN + "/!"}})
    assert KNOWN not in str(caught.value)
