"""The Terraform target: the same infrastructure as the Pulumi plan, written as ``*.tf.json``.

The proof of equality translates both targets to one neutral form — Terraform resource type
and name -> arguments — and compares them: the Pulumi plan (realistic values) through the
writer's own translation, and the written ``main.tf.json`` with every reference
(``${aws_iam_role.x.arn}``, ``${var.region}``) replaced by the value the Pulumi plan gives
that attribute. Same resources by type and name, same arguments, every IAM policy equal.
"""

from __future__ import annotations

import json
import re
import runpy
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import infra_pipelines as seeds
from glacier.errors import ConfigError, GlacierError, InfraError, TerraformError
from glacier.infra import Plan, plan
from glacier.infra.mocks import DEFAULT_ACCOUNT, DEFAULT_REGION, RecordingMocks
from glacier.infra.terraform import generate, package
from glacier.infra.terraform.references import DATA_SOURCES, address
from glacier.infra.terraform.translate import resource_body
from glacier.infra.terraform.types import attribute_name
from infra import pipelines as more
from infra import seed_patterns
from infra.gcp import pipelines as gcp_pipelines

from .plans import ROOT

EXAMPLES = ROOT / "examples"
POLICY_ARGUMENTS = ("policy", "assume_role_policy")
#: GCP's IAM: bindings of a role to a member on a bucket (with its condition), a job, a
#: secret or the project.
GOOGLE_BINDINGS = (
    "google_storage_bucket_iam_member",
    "google_cloud_run_v2_job_iam_member",
    "google_secret_manager_secret_iam_member",
    "google_project_iam_member",
)
#: JSON documents compared parsed: policies, and state machine definitions (a list a lookup
#: answers is written into them as ``${jsonencode(...)}``, whose spacing is Terraform's).
JSON_ARGUMENTS = (*POLICY_ARGUMENTS, "definition")
_REFERENCE = re.compile(r"(?<!\$)\$\{(jsonencode\()?([a-z_][A-Za-z0-9_.\[\]]*)\)?\}")
_INDEXED = re.compile(r"([a-z0-9_]+)\[(\d+)\]\.([a-z0-9_]+)$")


# -- the neutral form ---------------------------------------------------------------------------


def neutral_pulumi(planned: Plan) -> dict[str, dict[str, Any]]:
    """The Pulumi plan's resources by Terraform address, arguments translated, values as the
    plan has them (no references). A type with no mapping fails here, naming it."""
    out = {}
    for r in planned:
        if r.is_provider:
            continue
        tf_type, name, body = resource_body(r, None, {})
        out[f"{tf_type}.{name}"] = _parsed_policies(body)
    return out


def neutral_terraform(directory: Path, planned: Plan) -> dict[str, dict[str, Any]]:
    """The written ``main.tf.json``'s resources by address, each reference replaced by the
    value the Pulumi plan has for it."""
    main = json.loads((directory / "main.tf.json").read_text())
    variables = json.loads((directory / "variables.tf.json").read_text())["variable"]
    by_address = {address(r.type, r.name): r for r in planned if not r.is_provider}
    values = {f"var.{k}": v["default"] for k, v in variables.items()}
    values["data.aws_caller_identity.current.account_id"] = DEFAULT_ACCOUNT
    values["data.aws_region.current.region"] = DEFAULT_REGION
    # The zones the mocks answer (glacier.infra.mocks): <region>a, <region>b, <region>c.
    region = str(values.get("var.region") or DEFAULT_REGION)
    for i, zone in enumerate("abc"):
        values[f"data.aws_availability_zones.available.names[{i}]"] = f"{region}{zone}"

    def resolve(expression: str) -> Any:
        if expression in values:
            return values[expression]
        if expression.startswith("data."):
            return lookup(expression)
        tf_type, name, attr = expression.split(".", 2)
        resource = by_address[f"{tf_type}.{name}"]
        indexed = _INDEXED.match(attr)
        head = indexed.group(1) if indexed else attr
        key = next(k for k in resource.outputs if attribute_name(tf_type, k) == head)
        found = resource.outputs[key]
        if indexed:
            block = found[int(indexed.group(2))]
            found = next(v for k, v in block.items() if attribute_name(tf_type, k) == indexed[3])
        return found

    def lookup(expression: str) -> Any:
        """A data source's attribute: what the plan's mocks answer the lookup Pulumi makes
        with the data source's arguments (references in them resolved first)."""
        _, tf_type, name, attr = expression.split(".", 3)
        token, source = next((t, d) for t, d in DATA_SOURCES.items() if d.type == tf_type)
        arguments = _pulumi_arguments(substitute(main["data"][tf_type][name]))
        answer, _ = RecordingMocks().call(SimpleNamespace(token=token, args=arguments))
        key = next(k for k, a in source.attributes.items() if a.rstrip("[]*") == attr)
        return answer[key]

    def text(m: re.Match[str]) -> str:
        found = resolve(m.group(2))
        return json.dumps(found) if m.group(1) else str(found)

    def substitute(value: Any) -> Any:
        if isinstance(value, str):
            whole = _REFERENCE.fullmatch(value)
            if whole and not whole.group(1):
                return resolve(whole.group(2))
            return _REFERENCE.sub(text, value)
        if isinstance(value, dict):
            return {k: substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v) for v in value]
        return value

    return {
        f"{tf_type}.{name}": _parsed_policies(
            substitute({k: v for k, v in body.items() if k != "depends_on"})  # Terraform's own
        )
        for tf_type, named in main["resource"].items()
        for name, body in named.items()
    }


def _parsed_policies(body: dict[str, Any]) -> dict[str, Any]:
    return {
        k: json.loads(v) if k in JSON_ARGUMENTS and isinstance(v, str) else v
        for k, v in body.items()
    }


def _pulumi_arguments(body: dict[str, Any]) -> dict[str, Any]:
    """A data source's Terraform arguments as the lookup's Pulumi arguments (camelCase, a
    ``filter`` block as ``filters``)."""
    plural = {"filter": "filters"}

    def camel(key: str) -> str:
        head, *rest = key.split("_")
        return plural.get(key) or head + "".join(w.title() for w in rest)

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {camel(k): convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    converted: dict[str, Any] = convert(body)
    return converted


def assert_same_infrastructure(pipeline: Any, tmp_path: Path) -> int:
    """Generate both targets of every environment and compare; returns the policies (AWS) or
    bindings (GCP) compared."""
    written = generate(pipeline, tmp_path)
    assert written["environments"], "no cloud environment: nothing was compared"
    policies = 0
    for key in written["environments"]:
        planned = plan(pipeline, env=key)
        expected = neutral_pulumi(planned)
        actual = neutral_terraform(tmp_path / key, planned)
        assert sorted(actual) == sorted(expected)
        for where, body in expected.items():
            assert actual[where] == body, where
            for argument in POLICY_ARGUMENTS:
                if argument in body and "Statement" in body[argument]:  # IAM, not ECR's
                    assert actual[where][argument] == body[argument]
                    assert body[argument]["Statement"], where
                    policies += 1
            if where.split(".")[0] in GOOGLE_BINDINGS:
                assert body["role"] and body["member"], where
                for argument in ("role", "member", "condition"):
                    assert actual[where].get(argument) == body.get(argument), where
                policies += 1
    return policies


def _example(name: str, attr: str, *args: str) -> Any:
    module = runpy.run_path(str(EXAMPLES / name))
    value = module[attr]
    return value(*(module[a]() for a in args)) if args else value


# -- equality with the Pulumi plan ---------------------------------------------------------------

SEEDS = {
    "dev": lambda: seeds.dev_pipeline,
    "prod": lambda: seeds.prod_pipeline,
    "cross-account": lambda: seeds.cross_account_pipeline,
    "data-lake": lambda: seeds.data_lake_pipeline,
    "regional": lambda: seeds.eu_pipeline,
    "data-flow": lambda: seeds.sales,
    "diamond": more.diamond_pipeline,
    "ecs": more.ecs_pipeline,
    "glue": more.glue_pipeline,
    "attached": more.attached_pipeline,
    "every-option": lambda: more.every_option_pipeline,
    "raw-bucket": lambda: more.raw_bucket_pipeline,
    # The seeds' first cloud pipelines in their own shapes (Delta tables on Lambda images).
    **{f"seed-pattern-{name}": (lambda p=p: p) for name, p in seed_patterns.PATTERNS.items()},
    # GCP (tests/infra/gcp/pipelines.py): a scheduled DAG with IAM Conditions on prefixes; a
    # task reading another project's bucket; a workflow running a job in another project.
    "gcp-daily": gcp_pipelines.daily,
    "gcp-cross-project": gcp_pipelines.cross_project,
    "gcp-two-projects": gcp_pipelines.two_projects,
    # Cloud SQL with the network the plan creates, and in a network the settings name.
    "gcp-database": gcp_pipelines.shop,
    "gcp-database-existing-network": lambda: gcp_pipelines.shop(
        network="shared-vpc", subnetwork="data"
    ),
}


@pytest.mark.parametrize("case", sorted(SEEDS))
def test_the_terraform_of_each_seed_pipeline_equals_its_pulumi_plan(
    case: str, tmp_path: Path
) -> None:
    assert assert_same_infrastructure(SEEDS[case](), tmp_path) > 0


def _medallion(stage: str) -> Any:
    from glacier import Environment

    build = _example("medallion.py", "build")
    return build(Environment.from_env(stage, settings_dir=ROOT / "containers"))


#: Every pipeline of ``examples/`` with cloud resources (``test_every_example_file_is_covered``
#: keeps this and :data:`EXAMPLES_WITHOUT_CLOUD` equal to the directory).
EXAMPLE_PIPELINES = {
    "config_cascade": lambda: str(EXAMPLES / "config_cascade.py"),
    "environments-dev": lambda: _example("environments.py", "dev_pipeline"),
    "environments-staging": lambda: _example("environments.py", "staging_pipeline"),
    # Lambda in the prod VPC: its default security group found by data.aws_security_group.
    "environments-prod": lambda: _example("environments.py", "prod_pipeline"),
    # ECS on Fargate in the account's default VPC: data.aws_vpc and data.aws_subnets, the
    # subnet ids written into the state machine's definition as jsonencode(...).
    "medallion-staging": lambda: _medallion("staging"),
    "medallion-prod": lambda: _medallion("prod"),
    "multi_environment-staging": lambda: f"{EXAMPLES / 'multi_environment.py'}:staging_pipeline",
    "multi_environment-prod": lambda: f"{EXAMPLES / 'multi_environment.py'}:prod_pipeline",
    "switch_clouds-aws": lambda: f"{EXAMPLES / 'switch_clouds.py'}:aws_pipeline",
    "switch_clouds-gcp": lambda: f"{EXAMPLES / 'switch_clouds.py'}:gcp_pipeline",
    "models-training": lambda: _example("models.py", "training_pipeline", "aws_environment"),
    "models-prediction": lambda: _example("models.py", "prediction_pipeline", "aws_environment"),
}

#: Example pipelines on Azure: compared (and scanned) by tests/infra/test_terraform_azure.py,
#: whose neutral form is Azure's (role assignments and their ABAC conditions).
AZURE_EXAMPLES = {
    "switch_clouds-azure": lambda: f"{EXAMPLES / 'switch_clouds.py'}:azure_pipeline",
}

#: The example files with no cloud pipeline, and what both targets do with them.
EXAMPLES_WITHOUT_CLOUD = {
    "quickstart.py": "local",
    "simple_etl.py": "local",
    "jaffle_shop.py": "local",
    "registry.py": "refused",  # a traced pipeline reading a task's result: no plan either
    "cloud_plugin.py": "refused",  # a plug-in cloud, no pipeline
    "test_mock_environment.py": "refused",  # a user's test module, no pipeline
}


@pytest.mark.parametrize("case", sorted(EXAMPLE_PIPELINES))
def test_the_terraform_of_each_example_equals_its_pulumi_plan(case: str, tmp_path: Path) -> None:
    assert assert_same_infrastructure(EXAMPLE_PIPELINES[case](), tmp_path) > 0


@pytest.mark.parametrize("name", sorted(EXAMPLES_WITHOUT_CLOUD))
def test_an_example_without_a_cloud_pipeline_gets_what_its_plan_gets(
    name: str, tmp_path: Path
) -> None:
    target = str(EXAMPLES / name)
    if EXAMPLES_WITHOUT_CLOUD[name] == "local":
        assert not [r for r in plan(target) if not r.is_provider]
        written = generate(target, tmp_path / "tf")
        assert written["files"] == [] and "Every environment is local" in written["message"]
    else:
        with pytest.raises(GlacierError) as pulumi_side:
            plan(target)
        with pytest.raises(GlacierError) as terraform_side:
            generate(target, tmp_path / "tf")
        assert str(terraform_side.value) == str(pulumi_side.value)
    assert not (tmp_path / "tf").exists()


def test_every_example_file_is_covered() -> None:
    covered = {case.split("-")[0] + ".py" for case in (*EXAMPLE_PIPELINES, *AZURE_EXAMPLES)} | set(
        EXAMPLES_WITHOUT_CLOUD
    )
    assert covered == {p.name for p in EXAMPLES.glob("*.py")}


def test_the_default_vpc_lookups_are_data_sources_with_their_arguments(tmp_path: Path) -> None:
    generate(_medallion("prod"), tmp_path)
    main = json.loads((tmp_path / "prod" / "main.tf.json").read_text())
    assert main["data"]["aws_vpc"] == {"default": {"default": True}}
    assert main["data"]["aws_subnets"] == {
        "vpc_id_default": {"filter": [{"name": "vpc-id", "values": ["${data.aws_vpc.default.id}"]}]}
    }
    (machine,) = main["resource"]["aws_sfn_state_machine"].values()
    # The list of subnet ids is a JSON list in the definition, not a string.
    assert (
        '"Subnets": ${jsonencode(data.aws_subnets.vpc_id_default.ids)}' in (machine["definition"])
    )
    generate(_example("environments.py", "prod_pipeline"), tmp_path / "environments")
    main = json.loads((tmp_path / "environments" / "prod" / "main.tf.json").read_text())
    assert main["data"]["aws_security_group"] == {
        "default_vpc_prod123": {"name": "default", "vpc_id": "vpc-prod123"}
    }
    function = main["resource"]["aws_lambda_function"]["prod_extract_function"]
    assert function["vpc_config"]["security_group_ids"] == [
        "${data.aws_security_group.default_vpc_prod123.id}"
    ]


def test_a_lookup_with_no_data_source_is_still_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.infra.terraform import references

    monkeypatch.delitem(references.DATA_SOURCES, "aws:ec2/getSubnets:getSubnets")  # type: ignore[attr-defined]
    pipeline = _medallion("prod")
    assert plan(pipeline).of_type("aws:ecs/taskDefinition:TaskDefinition")  # Pulumi plans it
    with pytest.raises(TerraformError) as refused:
        generate(pipeline, tmp_path / "tf")
    assert "lookup 'aws:ec2/getSubnets:getSubnets'" in str(refused.value)
    assert not (tmp_path / "tf").exists()


def test_a_pipeline_the_plan_refuses_is_refused_by_terraform_the_same_way(
    tmp_path: Path,
) -> None:
    # An explicit zip Lambda for a task with Delta tables stays refused (it cannot fit).
    from glacier import AWSEnvironment, Dataset, Pipeline

    env = AWSEnvironment(account_id="444444444444", region="eu-west-1", environment="dev")
    pipeline = Pipeline("zip-delta", env=env)
    table = Dataset("table", storage=env.storage.s3(bucket="dev-zip-delta", path="t/"))

    @pipeline.task(compute=env.compute.lambda_(package_type="Zip"))
    def make() -> table:
        return None

    with pytest.raises(InfraError) as pulumi_side:
        plan(pipeline)
    with pytest.raises(InfraError) as terraform_side:
        generate(pipeline, tmp_path)
    assert str(terraform_side.value) == str(pulumi_side.value)
    assert "Delta table" in str(terraform_side.value)
    assert not any(tmp_path.iterdir())


# -- the files, the Python API, the artifacts ----------------------------------------------------


def test_run_generate_with_target_terraform_writes_variables_outputs_and_a_backend_example(
    tmp_path: Path,
) -> None:
    written = seeds.prod_pipeline.run(mode="generate", target="terraform", output_dir=tmp_path)
    assert written["target"] == "terraform" and written["environments"] == ["prod"]
    prod = tmp_path / "prod"
    variables = json.loads((prod / "variables.tf.json").read_text())["variable"]
    assert variables["region"]["default"] == "us-east-1"
    assert variables["account_id"]["default"] == "999999999999"
    outputs = json.loads((prod / "outputs.tf.json").read_text())["output"]
    assert (
        outputs["state_machine_arn"]["value"] == "${aws_sfn_state_machine.prod_state_machine.arn}"
    )
    assert (
        outputs["bucket_prod_prod_raw_data"]["value"]
        == "${aws_s3_bucket.prod_prod_raw_data.bucket}"
    )
    backend = json.loads((prod / "backend.tf.json.example").read_text())["terraform"]["backend"]
    assert backend["s3"]["key"] == "glacier/analytics-prod/prod.tfstate"
    main = json.loads((prod / "main.tf.json").read_text())
    assert main["provider"]["aws"]["allowed_account_ids"] == ["${var.account_id}"]
    function = main["resource"]["aws_lambda_function"]["prod_extract_function"]
    assert function["function_name"] == "prod-analytics-prod-extract"
    assert function["role"] == "${aws_iam_role.prod_extract_role.arn}"
    assert function["filename"] in written["artifacts"]["prod"]
    # Pulumi's explicit depends_on, which no reference carries: after its policy.
    assert function["depends_on"] == ["aws_iam_role_policy.prod_extract_policy"]
    readme = (prod / "README.md").read_text()
    assert "terraform init" in readme and "glacier package" in readme
    assert "@@" not in (prod / "main.tf.json").read_text()


def test_a_data_flow_pipeline_generates_terraform_through_its_run_method(tmp_path: Path) -> None:
    written = seeds.sales.run(mode="generate", target="terraform", output_dir=tmp_path)
    assert written["environments"] == ["flow"]
    main = json.loads((tmp_path / "flow" / "main.tf.json").read_text())
    assert main["resource"]["aws_sfn_state_machine"]


def test_generate_defaults_to_pulumi_and_other_modes_refuse_a_target(tmp_path: Path) -> None:
    written = seeds.prod_pipeline.run(mode="generate", output_dir=tmp_path)
    assert (tmp_path / "Pulumi.yaml").is_file() and written["stacks"] == ["prod"]
    with pytest.raises(ConfigError, match="chooses what mode='generate' writes"):
        seeds.prod_pipeline.run(mode="analyze", target="terraform")
    with pytest.raises(ConfigError, match="use one of pulumi, terraform"):
        seeds.prod_pipeline.run(mode="generate", target="cdk", output_dir=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_a_resource_type_without_a_terraform_type_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.infra.terraform import types

    monkeypatch.delitem(types.RESOURCE_TYPES, "aws:sfn/stateMachine:StateMachine")  # type: ignore[attr-defined]
    with pytest.raises(TerraformError, match="'aws:sfn/stateMachine:StateMachine'"):
        generate(seeds.prod_pipeline, tmp_path)
    assert not any(tmp_path.iterdir())


def test_package_writes_the_artifacts_the_configuration_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.infra.layer import MARKER, LayerSpec

    # A layer already built into Glacier's cache (building one needs the package index).
    monkeypatch.setenv("GLACIER_CACHE_DIR", str(tmp_path / "cache"))
    spec = LayerSpec.for_function("python3.11", "x86_64")
    layer = tmp_path / "cache" / "layers" / spec.key
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "dependency.py").write_text("VALUE = 1\n")
    (layer / MARKER).write_text(json.dumps({"size": 10}))
    out = tmp_path / "tf"
    written = generate(seeds.prod_pipeline, out)
    packaged = package(seeds.prod_pipeline, out)
    assert (
        sorted(Path(f).relative_to(out / "prod").as_posix() for f in packaged["prod"])
        == (written["artifacts"]["prod"])
    )
    main = json.loads((out / "prod" / "main.tf.json").read_text())
    function = main["resource"]["aws_lambda_function"]["prod_extract_function"]
    with zipfile.ZipFile(out / "prod" / function["filename"]) as code:
        names = code.namelist()
        assert "glacier_handler.py" in names and "glacier/__init__.py" in names
        assert "infra_pipelines.py" in names
        assert "lambda_handler" in code.read("glacier_handler.py").decode()
    (version,) = main["resource"]["aws_lambda_layer_version"].values()
    assert version["filename"] == f"artifacts/{spec.key}.zip"
    with zipfile.ZipFile(out / "prod" / version["filename"]) as deps:
        assert deps.namelist() == ["python/dependency.py"]
    first = (out / "prod" / function["filename"]).read_bytes()
    package(seeds.prod_pipeline, out)
    assert (out / "prod" / function["filename"]).read_bytes() == first  # reproducible


@pytest.mark.parametrize("module", ["types", "references", "translate", "__init__"])
def test_the_examples_in_the_terraform_modules_run(module: str) -> None:
    import doctest
    import importlib

    name = "glacier.infra.terraform" + ("" if module == "__init__" else f".{module}")
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0


def test_an_environment_listed_that_the_pipeline_does_not_use_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TerraformError, match=r"no resources in environment\(s\) 'prod'"):
        generate(seeds.dev_pipeline, tmp_path, [seeds.aws_dev, seeds.aws_prod])
    assert not any(tmp_path.iterdir())
    written = generate(seeds.dev_pipeline, tmp_path, [seeds.aws_dev])
    assert written["environments"] == ["dev"]


def test_every_check_skipped_is_in_the_docs_with_its_reason(tmp_path: Path) -> None:
    from glacier.infra.terraform.checkov import SKIPPED_CHECKS

    docs = (ROOT / "docs" / "deploying.md").read_text()
    generate(seeds.dev_pipeline, tmp_path)
    config = (tmp_path / "dev" / ".checkov.yaml").read_text()
    assert config.startswith("framework:\n  - terraform_json\nskip-check:\n")
    for check, why in SKIPPED_CHECKS.items():
        assert f"| `{check}` | {why} |" in docs
        assert f"  - {check}  # {why}\n" in config


def test_a_local_pipeline_writes_nothing_and_says_why(tmp_path: Path) -> None:
    from glacier import Dataset, Pipeline

    pipeline = Pipeline("local-only")
    numbers = Dataset("numbers")

    @pipeline.task()
    def make() -> numbers:
        return None

    written = generate(pipeline, tmp_path / "tf")
    assert written["files"] == [] and "Every environment is local" in written["message"]
    assert not (tmp_path / "tf").exists()


def test_a_literal_dollar_brace_in_user_text_is_escaped_not_interpolated(tmp_path: Path) -> None:
    from glacier import AWSEnvironment, Dataset, Pipeline

    env = AWSEnvironment(
        account_id="444444444444",
        region="eu-west-1",
        environment="tagged",
        tags={"Template": "${team}-%{x}"},
    )
    pipeline = Pipeline("tagged")
    out = Dataset("out", storage=env.storage.s3(bucket="tagged-out", path="o.parquet"))

    @pipeline.task(compute=env.compute.lambda_())
    def make() -> out:
        return None

    assert assert_same_infrastructure(pipeline, tmp_path) > 0
    main = json.loads((tmp_path / "tagged" / "main.tf.json").read_text())
    assert main["provider"]["aws"]["default_tags"]["tags"]["Template"] == "$${team}-%%{x}"


def test_the_terraform_of_a_pipeline_with_a_created_network_equals_its_pulumi_plan(
    tmp_path: Path,
) -> None:
    # An RDS database in an environment without [network]: the VPC, subnets in the zones a
    # lookup names (data.aws_availability_zones), groups and endpoints the plan creates.
    from . import test_first_pipelines_data as first

    target = first.project(
        tmp_path / "project", "tf_first_db", first.DATABASE_SETTINGS, first.DATABASE_PIPELINE
    )
    out = tmp_path / "out"
    out.mkdir()
    assert assert_same_infrastructure(target, out) > 0
    main = json.loads((out / "probe" / "main.tf.json").read_text())
    assert {"aws_vpc", "aws_subnet", "aws_vpc_endpoint", "aws_db_instance"} <= set(main["resource"])
    zones = {s["availability_zone"] for s in main["resource"]["aws_subnet"].values()}
    assert zones == {
        "${data.aws_availability_zones.available.names[0]}",
        "${data.aws_availability_zones.available.names[1]}",
    }


def test_a_subnets_vpc_and_its_default_group_are_data_sources_equal_to_the_plan(
    tmp_path: Path,
) -> None:
    # Subnets without a VPC id: the VPC is looked up from the first subnet (data.aws_subnet),
    # and the functions get that VPC's default security group (data.aws_security_group).
    from glacier import AWSEnvironment, Dataset, Pipeline

    env = AWSEnvironment(
        account_id="444444444444",
        region="eu-west-1",
        environment="netted",
        subnet_ids=["subnet-0a1", "subnet-0b2"],
    )
    pipeline = Pipeline("netted", env=env)
    out = Dataset("out", storage=env.storage.s3(bucket="netted-out", path="o.parquet"))

    @pipeline.task(compute=env.compute.lambda_())
    def make() -> out:
        return None

    assert assert_same_infrastructure(pipeline, tmp_path) > 0
    main = json.loads((tmp_path / "netted" / "main.tf.json").read_text())
    assert main["data"]["aws_subnet"] == {"subnet_0a1": {"id": "subnet-0a1"}}
    assert main["data"]["aws_security_group"] == {
        "default_subnet_0a1": {"name": "default", "vpc_id": "${data.aws_subnet.subnet_0a1.vpc_id}"}
    }


def test_gcp_secret_bindings_refer_to_the_declared_secret_and_the_tasks_account() -> None:
    # No pipeline plans GCP secrets yet (docs/gcp.md): the builder is given them directly,
    # as tests/infra/gcp/test_secrets.py does, and its resources are translated.
    import dataclasses

    from glacier.infra.gcp import declare
    from glacier.infra.mocks import run_with_mocks
    from glacier.infra.model import SecretRef, build_model
    from glacier.infra.terraform.references import TerraformMocks

    model = build_model(gcp_pipelines.daily())
    api = SecretRef("api_key", "fmp-api-key", declared=True)
    tasks = tuple(
        dataclasses.replace(t, secrets=(api,) if t.name == "tidy" else ()) for t in model.tasks
    )
    model = dataclasses.replace(model, tasks=tasks)
    mocks = TerraformMocks()
    mocks.environments = dict(model.envs)
    run_with_mocks(lambda: declare(model, "prod"), mocks, project="daily", stack="prod")
    mocks.check()
    bodies = {
        f"{t}.{n}": body
        for t, n, body in (
            resource_body(r, model.envs["prod"], {}, mocks.arns)
            for r in mocks.resources
            if not r.is_provider
        )
    }
    assert bodies["google_secret_manager_secret.prod_secret_fmp_api_key"] == {
        "secret_id": "fmp-api-key",
        "replication": {"auto": {}},
        "labels": {"glacier-pipeline": "daily"},
    }
    assert bodies["google_secret_manager_secret_iam_member.prod_tidy_secret_fmp_api_key"] == {
        "project": "${var.project}",
        "secret_id": "${google_secret_manager_secret.prod_secret_fmp_api_key.secret_id}",
        "role": "roles/secretmanager.secretAccessor",
        "member": "serviceAccount:${google_service_account.prod_tidy_sa.email}",
    }
