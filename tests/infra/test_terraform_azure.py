"""The Terraform target on Azure: azurerm (and one azapi) resources equal to the Pulumi plan.

pulumi-azure-native's inputs are ARM properties and azurerm's arguments are its own, so the
neutral form here is what both must agree on: the same resources by Terraform type and name
(a blob service folded into its account's ``blob_properties``), every role assignment's scope,
role definition, principal, condition and condition version, every custom role's
permissions and scopes, and each job's image, identity and environment. The Pulumi side is
the plan with the values its mocks give; the Terraform side is the written ``main.tf.json``
with every reference (``${azurerm_user_assigned_identity.x.principal_id}``,
``${var.subscription_id}``, ``${data.azurerm_user_assigned_identity.y.principal_id}``)
replaced by the value the Pulumi plan has for it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Dataset, Pipeline
from glacier.errors import TerraformError
from glacier.infra import Plan, plan
from glacier.infra.azure import mock_outputs
from glacier.infra.terraform import generate
from glacier.infra.terraform.azure_types import FOLDED, OUTPUTS, RESOURCE_TYPES
from glacier.infra.terraform.references import resource_name
from glacier.settings import BlobConfig
from infra.azure.pipelines import (
    SUB_A,
    SUB_B,
    azure_env,
    lake_pipeline,
    subnet_id,
    warehouse_pipeline,
    warehouse_settings,
)

from .plans import ROOT
from .test_terraform import AZURE_EXAMPLES

_REFERENCE = re.compile(r"(?<!\$)\$\{([a-z_][A-Za-z0-9_.\[\]]*)\}")
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE = "azure-native:authorization:RoleDefinition"
JOB = "azure-native:app:Job"
#: The role assignment arguments compared (azurerm's name -> azure-native's).
ASSIGNMENT_FIELDS = {
    "scope": "scope",
    "role_definition_id": "roleDefinitionId",
    "principal_id": "principalId",
    "condition": "condition",
    "condition_version": "conditionVersion",
}


# -- the pipelines ------------------------------------------------------------------------------


def _cross_subscription() -> tuple[Pipeline, list[Any]]:
    """A task of subscription A reading a container of subscription B: B's stack grants A's
    identity, found through a provider of A's subscription."""
    a = azure_env("a", SUB_A, "acmedata")
    b = azure_env("b", SUB_B, "acmeshared")
    shared = Dataset("shared", storage=b.storage.blob("exports", "customers/"))
    mine = Dataset("mine", storage=a.storage.blob("lake", "mine/"))
    pipeline = Pipeline("xsub")

    @pipeline.task(compute=a.compute.container_app(), allow_cross_environment=True)
    def enrich(customers: shared) -> mine:
        return customers

    return pipeline, [a, b]


def _secret_pipeline() -> tuple[Pipeline, None]:
    """Settings naming ``api_key`` in the environment's Key Vault; task ``fetch`` reads it."""
    from pydantic import SecretStr

    from glacier import Environment
    from glacier.settings import AzureConfig, GlacierSettings

    settings = GlacierSettings(
        env="dev",
        provider=AzureConfig(
            subscription_id=SUB_A, location="westeurope", storage_account="acmedata"
        ),
        secrets={"api_key": {"azure": "fmp-api-key"}},
    )
    env = Environment.from_settings(settings)
    quotes = Dataset("quotes", storage=env.storage.blob("lake", "quotes.parquet"))
    out = Dataset("out", storage=env.storage.blob("lake", "out.parquet"))
    pipeline = Pipeline("fmp", env=env)

    @pipeline.task()
    def fetch(api_key: SecretStr) -> quotes:
        return pl.DataFrame({"x": [1]})

    @pipeline.task()
    def report(data: quotes) -> out:
        return data

    return pipeline, None


def _seed_factory(stage: str, subscription: str) -> tuple[Pipeline, None]:
    """Seed 000's factory on Azure: a dataset at a container's root, one under a prefix,
    explicit function sizes (each a Container Apps job of that size), scheduled."""
    env = azure_env(stage, subscription, f"acme{stage}")
    pipeline = Pipeline(name=f"analytics-{stage}", schedule="rate(1 day)", env=env)
    raw = Dataset("raw_data", storage=env.storage.blob(f"{stage}-raw-data", ""))
    clean = Dataset("clean_data", storage=env.storage.blob(f"{stage}-clean-data", "clean/"))

    @pipeline.task(compute=env.compute.lambda_(memory=512))
    def extract() -> raw:
        return pl.DataFrame({"amount": [1, -2, 3]})

    @pipeline.task(compute=env.compute.lambda_(memory=1024), retries=2, timeout=600)
    def clean_up(data: raw) -> clean:
        return data.filter(pl.col("amount") > 0)

    return pipeline, None


def _seed_dev_reads_prod() -> tuple[Pipeline, list[Any]]:
    """Seed 000's test against prod data on Azure: dev (one subscription) reads prod's orders
    (another subscription) under a prefix."""
    dev = azure_env("dev", SUB_A, "acmedev")
    prod = azure_env("prod", SUB_B, "acmeprod")
    orders = Dataset("prod_orders", storage=prod.storage.blob("prod-data", "orders/"))
    results = Dataset("dev_results", storage=dev.storage.blob("dev-results", ""))
    pipeline = Pipeline("prod-sample-test")

    @pipeline.task(compute=dev.compute.container_app(cpu=1, memory=2), allow_cross_environment=True)
    def test_with_prod_data(data: orders) -> results:
        return data

    return pipeline, [dev, prod]


def _seed_hot_cold() -> tuple[Pipeline, None]:
    """Seed 004's hot and cold zones on Azure: a Cool, geo-replicated account without
    versioning and longer soft delete."""
    env = azure_env(
        "dev",
        SUB_A,
        "acmezones",
    )
    config = BlobConfig(
        tier="Cool", replication="GRS", versioning=False, soft_delete_retention_days=30
    )
    hot = Dataset("hot", storage=env.storage.blob("zones", "hot-data/", config=config))
    cold = Dataset("cold", storage=env.storage.blob("zones", "archive/", config=config))
    pipeline = Pipeline("hot-cold", env=env)

    @pipeline.task()
    def land() -> hot:
        return pl.DataFrame({"x": [1]})

    @pipeline.task()
    def archive(data: hot) -> cold:
        return data

    return pipeline, None


#: Every Azure pipeline compared, by name: the suite's lake pipeline (scheduled, four tasks,
#: ABAC conditions), a cross-subscription grant, a Key Vault secret, and Azure variants of the
#: seed patterns (tests/infra/seed_patterns.py).
CASES = {
    "azure-lake": lambda: lake_pipeline(),
    "azure-cross-subscription": _cross_subscription,
    "azure-secret": _secret_pipeline,
    "azure-seed-dev": lambda: _seed_factory("dev", SUB_A),
    "azure-seed-prod": lambda: _seed_factory("prod", SUB_B),
    "azure-seed-dev-reads-prod": _seed_dev_reads_prod,
    "azure-seed-hot-cold": _seed_hot_cold,
    # A PostgreSQL flexible server (tests/infra/azure/test_databases.py): in a network the
    # plan creates (subnets, private DNS zone and link), and in one the settings name.
    "azure-database": lambda: warehouse_pipeline(),
    "azure-database-named-network": lambda: warehouse_pipeline(
        warehouse_settings(
            database_subnet_id=subnet_id("postgres"), apps_subnet_id=subnet_id("jobs")
        )
    ),
    # The examples that plan for Azure (examples/switch_clouds.py's prod-azure twin).
    **{f"example-{name}": (lambda t=made: (t(), None)) for name, made in AZURE_EXAMPLES.items()},
}


def _environments(case: str) -> tuple[Pipeline, list[Any] | None]:
    pipeline, envs = CASES[case]()
    if envs is not None and not isinstance(envs, list):
        envs = [envs]
    return pipeline, envs


# -- the neutral form ---------------------------------------------------------------------------


def _address(r: Any) -> str:
    return f"{RESOURCE_TYPES[r.type]}.{resource_name(r.name)}"


def neutral_pulumi(planned: Plan) -> dict[str, Any]:
    """The Pulumi plan's resources by Terraform address, with what both targets must agree
    on (from the azure-native inputs, values as the plan's mocks give them)."""
    out: dict[str, Any] = {}
    accounts = {
        str(r.inputs["accountName"]): _address(r)
        for r in planned
        if r.type == "azure-native:storage:StorageAccount"
    }
    for r in planned:
        if r.is_provider:
            continue
        if r.type in FOLDED:
            _, block = FOLDED[r.type]
            out[f"{accounts[str(r.inputs['accountName'])]}#{block}"] = {
                "versioning_enabled": r.inputs["isVersioningEnabled"],
                "days": r.inputs["deleteRetentionPolicy"]["days"],
            }
            continue
        found: dict[str, Any] = {}
        if r.type == ASSIGNMENT:
            found = {tf: r.inputs.get(native) for tf, native in ASSIGNMENT_FIELDS.items()}
        elif r.type == ROLE:
            (permissions,) = r.inputs["permissions"]
            found = {
                "actions": permissions["actions"],
                "not_actions": permissions.get("notActions") or [],
                "assignable_scopes": r.inputs["assignableScopes"],
                "scope": r.inputs["scope"],
            }
        elif r.type == "azure-native:dbforpostgresql:Server":
            network, auth = r.inputs["network"], r.inputs["authConfig"]
            found = {
                "delegated_subnet_id": network["delegatedSubnetResourceId"],
                "private_dns_zone_id": network["privateDnsZoneArmResourceId"],
                "public": network["publicNetworkAccess"] == "Enabled",
                "entra": auth["activeDirectoryAuth"] == "Enabled",
                "password": auth["passwordAuth"] == "Enabled",
                "tenant_id": auth["tenantId"],
            }
        elif r.type == "azure-native:dbforpostgresql:Administrator":
            found = {
                k: r.inputs[k] for k in ("objectId", "principalName", "principalType", "tenantId")
            }
        elif r.type == "azure-native:app:ManagedEnvironment":
            found = {
                "subnet": (r.inputs.get("vnetConfiguration") or {}).get("infrastructureSubnetId")
            }
        elif r.type == "azure-native:logic:Workflow":
            found = {"definition": r.inputs["definition"], "identity": r.inputs.get("identity")}
        elif r.type == JOB:
            (container,) = r.inputs["template"]["containers"]
            found = {
                "image": container["image"],
                "env": {e["name"]: e.get("value", e.get("secretRef")) for e in container["env"]},
                "identity_ids": r.inputs["identity"]["userAssignedIdentities"],
            }
        out[_address(r)] = found
    return out


def neutral_terraform(directory: Path, planned: Plan) -> dict[str, Any]:
    """The written ``main.tf.json``'s resources by address, with the same fields, each
    reference replaced by the value the Pulumi plan has for it."""
    main = json.loads((directory / "main.tf.json").read_text())
    variables = json.loads((directory / "variables.tf.json").read_text())["variable"]
    by_address = {_address(r): r for r in planned if not r.is_provider and r.type not in FOLDED}
    values = {f"var.{k}": v["default"] for k, v in variables.items()}
    providers = main["provider"]["azurerm"]
    providers = providers if isinstance(providers, list) else [providers]
    subscriptions = {
        f"azurerm.{p['alias']}": p["subscription_id"] for p in providers if "alias" in p
    }

    def resolve(expression: str) -> Any:
        if expression in values:
            return values[expression]
        if expression.startswith("data."):
            _, tf_type, name, attribute = expression.split(".", 3)
            body = main["data"][tf_type][name]
            if tf_type == "azurerm_client_config":
                token, args = "azure-native:authorization:getClientConfig", {}
            else:
                token = "azure-native:managedidentity:getUserAssignedIdentity"
                args = {
                    "resourceName": body["name"],
                    "resourceGroupName": body["resource_group_name"],
                }
            account = subscriptions.get(body.get("provider", ""), values["var.subscription_id"])
            answer = mock_outputs.call(token, args, account)
            assert answer is not None
            camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), attribute)
            return answer[camel]
        tf_type, name, attribute = expression.split(".", 2)
        resource = by_address[f"{tf_type}.{name}"]
        paths = {a: p for p, a in ((("id",), "id"), (("name",), "name"), *OUTPUTS.get(tf_type, ()))}
        found: Any = resource.outputs
        for key in paths[attribute]:
            found = found[key]
        return found

    def substitute(value: Any) -> Any:
        if isinstance(value, str):
            whole = _REFERENCE.fullmatch(value)
            if whole:
                return resolve(whole.group(1))
            return _REFERENCE.sub(lambda m: str(resolve(m.group(1))), value).replace("$${", "${")
        if isinstance(value, dict):
            return {k: substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v) for v in value]
        return value

    out: dict[str, Any] = {}
    for tf_type, named in main["resource"].items():
        for name, raw in named.items():
            body = substitute({k: v for k, v in raw.items() if k != "depends_on"})
            found: dict[str, Any] = {}
            if tf_type == "azurerm_role_assignment":
                found = {f: body.get(f) for f in ASSIGNMENT_FIELDS}
            elif tf_type == "azurerm_role_definition":
                (permissions,) = body["permissions"]
                found = {
                    "actions": permissions["actions"],
                    "not_actions": permissions["not_actions"],
                    "assignable_scopes": body["assignable_scopes"],
                    "scope": body["scope"],
                }
            elif tf_type == "azurerm_postgresql_flexible_server":
                auth = body["authentication"]
                found = {
                    "delegated_subnet_id": body["delegated_subnet_id"],
                    "private_dns_zone_id": body["private_dns_zone_id"],
                    "public": body["public_network_access_enabled"],
                    "entra": auth["active_directory_auth_enabled"],
                    "password": auth["password_auth_enabled"],
                    "tenant_id": auth["tenant_id"],
                }
            elif tf_type == "azurerm_postgresql_flexible_server_active_directory_administrator":
                found = {
                    "objectId": body["object_id"],
                    "principalName": body["principal_name"],
                    "principalType": body["principal_type"],
                    "tenantId": body["tenant_id"],
                }
            elif tf_type == "azurerm_container_app_environment":
                found = {"subnet": body.get("infrastructure_subnet_id")}
            elif tf_type == "azapi_resource":
                found = {
                    "definition": body["body"]["properties"]["definition"],
                    "identity": body.get("identity"),
                }
            elif tf_type == "azurerm_container_app_job":
                (container,) = body["template"]["container"]
                found = {
                    "image": container["image"],
                    "env": {
                        e["name"]: e.get("value", e.get("secret_name")) for e in container["env"]
                    },
                    "identity_ids": body["identity"]["identity_ids"],
                }
            elif tf_type == "azurerm_storage_account" and "blob_properties" in body:
                blob = body["blob_properties"]
                out[f"{tf_type}.{name}#blob_properties"] = {
                    "versioning_enabled": blob["versioning_enabled"],
                    "days": blob["delete_retention_policy"]["days"],
                }
            out[f"{tf_type}.{name}"] = found
    return out


def assert_same_infrastructure(case: str, tmp_path: Path) -> int:
    """Generate both targets of every environment of ``case`` and compare; returns the role
    assignments compared."""
    pipeline, envs = _environments(case)
    written = generate(pipeline, tmp_path, envs)
    assert written["environments"], "no cloud environment: nothing was compared"
    assignments = 0
    for key in written["environments"]:
        planned = plan(pipeline, env=key, environments=envs)
        expected = neutral_pulumi(planned)
        actual = neutral_terraform(tmp_path / key, planned)
        assert sorted(actual) == sorted(expected)
        for where, fields in expected.items():
            assert actual[where] == fields, where
            if where.startswith("azurerm_role_assignment."):
                assert fields["scope"] and fields["principal_id"] and fields["role_definition_id"]
                assignments += 1
    return assignments


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_terraform_of_each_azure_pipeline_equals_its_pulumi_plan(
    case: str, tmp_path: Path
) -> None:
    assert assert_same_infrastructure(case, tmp_path) > 0


def test_the_directory_pins_its_providers_and_gives_variables_outputs_and_a_backend(
    tmp_path: Path,
) -> None:
    pipeline, envs = _cross_subscription()
    generate(pipeline, tmp_path, envs)
    b = tmp_path / "b"
    main = json.loads((b / "main.tf.json").read_text())
    providers = main["terraform"]["required_providers"]
    assert providers["azurerm"] == {"source": "hashicorp/azurerm", "version": "~> 4.42"}
    # B's stack finds A's identity through a provider of A's subscription.
    own, reads_a = main["provider"]["azurerm"]
    assert own == {"features": {}, "subscription_id": "${var.subscription_id}"}
    assert reads_a == {"features": {}, "alias": "b_reads_a", "subscription_id": SUB_A}
    (lookup,) = main["data"]["azurerm_user_assigned_identity"].values()
    assert lookup == {
        "name": "a-xsub-enrich",
        "resource_group_name": "a-xsub",
        "provider": "azurerm.b_reads_a",
    }
    (grant,) = main["resource"]["azurerm_role_assignment"].values()
    assert grant["principal_id"].startswith("${data.azurerm_user_assigned_identity.")
    assert grant["scope"].startswith(
        "/subscriptions/${var.subscription_id}/resourceGroups/${var.resource_group_name}/"
    )
    assert (
        grant["condition_version"] == "2.0"
        and "StringStartsWith 'customers/'" in (grant["condition"])
    )
    variables = json.loads((b / "variables.tf.json").read_text())["variable"]
    assert {k: v["default"] for k, v in variables.items()} == {
        "subscription_id": SUB_B,
        "location": "westeurope",
        "resource_group_name": "b-xsub",
    }
    backend = json.loads((b / "backend.tf.json.example").read_text())["terraform"]["backend"]
    assert backend["azurerm"]["key"] == "glacier/xsub/b.tfstate"
    a = tmp_path / "a"
    main = json.loads((a / "main.tf.json").read_text())
    assert main["terraform"]["required_providers"]["azapi"]["source"] == "Azure/azapi"
    (workflow,) = main["resource"]["azapi_resource"].values()
    assert workflow["type"] == "Microsoft.Logic/workflows@2019-05-01"
    assert workflow["parent_id"] == "${azurerm_resource_group.a_resource_group.id}"
    outputs = json.loads((a / "outputs.tf.json").read_text())["output"]
    assert outputs["workflow_id"]["value"] == "${azapi_resource.a_orchestrator.id}"
    assert outputs["registry_a_registry"]["value"] == (
        "${azurerm_container_registry.a_registry.login_server}"
    )
    (job,) = main["resource"]["azurerm_container_app_job"].values()
    (container,) = job["template"]["container"]
    # The image glacier package builds, in the registry this configuration creates.
    assert container["image"].startswith(
        "${azurerm_container_registry.a_registry.login_server}/glacier:"
    )
    readme = (a / "README.md").read_text()
    assert container["image"] in readme and "terraform apply -target=" in readme
    assert "@@" not in (a / "main.tf.json").read_text() + (b / "main.tf.json").read_text()


def test_the_storage_account_is_written_with_azurerm_4_arguments(tmp_path: Path) -> None:
    pipeline, envs = _seed_hot_cold()
    generate(pipeline, tmp_path, envs)
    main = json.loads((tmp_path / "dev" / "main.tf.json").read_text())
    (account,) = main["resource"]["azurerm_storage_account"].values()
    assert {k: account[k] for k in account if k not in ("tags", "resource_group_name")} == {
        "name": "acmezones",
        "location": "${var.location}",
        "account_kind": "StorageV2",
        "account_tier": "Standard",
        "account_replication_type": "GRS",
        "access_tier": "Cool",
        "https_traffic_only_enabled": True,
        "min_tls_version": "TLS1_2",
        "allow_nested_items_to_be_public": False,
        "shared_access_key_enabled": False,
        "default_to_oauth_authentication": True,
        "public_network_access_enabled": True,
        "infrastructure_encryption_enabled": True,
        "blob_properties": {
            "versioning_enabled": False,
            "delete_retention_policy": {"days": 30},
            "container_delete_retention_policy": {"days": 30},
        },
    }
    secret_pipeline, _ = _secret_pipeline()
    generate(secret_pipeline, tmp_path / "secret")
    main = json.loads((tmp_path / "secret" / "dev" / "main.tf.json").read_text())
    (vault,) = main["resource"]["azurerm_key_vault"].values()
    assert vault["rbac_authorization_enabled"] is True  # 4.x (enable_rbac_authorization: 3.x)
    assert vault["purge_protection_enabled"] is True
    assert vault["tenant_id"] == "${data.azurerm_client_config.current.tenant_id}"
    (job,) = [j for j in main["resource"]["azurerm_container_app_job"].values() if "secret" in j]
    (secret,) = job["secret"]
    assert secret["key_vault_secret_id"] == (
        "${azurerm_key_vault.dev_vault.vault_uri}secrets/fmp-api-key"
    )


def test_an_input_with_no_azurerm_argument_is_refused_naming_it() -> None:
    from glacier.infra.mocks import PlannedResource
    from glacier.infra.terraform.azure import resource_body
    from glacier.infra.terraform.azure_context import AzureContext

    registry = PlannedResource(
        type="azure-native:containerregistry:Registry",
        name="dev-registry",
        provider="",
        inputs={
            "registryName": "devreg",
            "resourceGroupName": "rg",
            "location": "westeurope",
            "sku": {"name": "Premium"},
            "policies": {"retentionPolicy": {"days": 7}},
        },
    )
    context = AzureContext(subscription=SUB_A, location="westeurope", group="rg")
    with pytest.raises(TerraformError, match=r"Registry 'dev-registry': input\(s\) policies"):
        resource_body(registry, context)


def test_blob_service_properties_of_an_account_not_declared_here_are_refused() -> None:
    # azurerm writes them as the account's blob_properties block: without the account in the
    # same directory there is nothing to write them into, and they are not dropped.
    from glacier.infra.mocks import PlannedResource
    from glacier.infra.terraform.azure_context import AzureContext

    service = PlannedResource(
        type="azure-native:storage:BlobServiceProperties",
        name="dev-blob-service",
        provider="",
        inputs={"accountName": "elsewhere", "resourceGroupName": "rg", "isVersioningEnabled": True},
    )
    with pytest.raises(TerraformError, match=r"storage account 'elsewhere'.*blob_properties"):
        AzureContext.of([service], SUB_A, "westeurope")


def test_a_type_with_no_writer_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.infra.terraform import types

    monkeypatch.delitem(types.RESOURCE_TYPES, "azure-native:logic:Workflow")  # type: ignore[attr-defined]
    pipeline, _ = lake_pipeline()
    with pytest.raises(TerraformError, match="'azure-native:logic:Workflow'"):
        generate(pipeline, tmp_path / "tf")
    assert not (tmp_path / "tf").exists()


@pytest.mark.parametrize("module", ["azure", "azure_context", "azure_types"])
def test_the_examples_in_the_azure_modules_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"glacier.infra.terraform.{module}"))
    assert result.failed == 0 and result.attempted > 0


def test_every_azure_skip_is_in_the_docs_with_its_reason() -> None:
    from glacier.infra.terraform.checkov import SKIPPED_CHECKS

    docs = (ROOT / "docs" / "deploying.md").read_text()
    azure = [c for c in SKIPPED_CHECKS if "AZURE" in c]
    assert azure
    for check in azure:
        assert f"| `{check}` | {SKIPPED_CHECKS[check]} |" in docs


# -- checkov ------------------------------------------------------------------------------------

#: Checks of checkov's Azure set that must have run and passed on every directory declaring
#: the resource they check: HTTPS only, TLS 1.2, no public blobs, no shared keys, soft delete
#: (storage accounts); no admin user (registries); no custom owner role (role definitions).
AZURE_PASSED = {
    "azurerm_storage_account": {
        "CKV_AZURE_3",
        "CKV_AZURE_44",
        "CKV_AZURE_190",
        "CKV2_AZURE_40",
        "CKV2_AZURE_38",
    },
    "azurerm_container_registry": {"CKV_AZURE_137"},
    "azurerm_role_definition": {"CKV_AZURE_39"},
    # purge protection, soft delete (the secret case's vault)
    "azurerm_key_vault": {"CKV_AZURE_110", "CKV_AZURE_42"},
    # geo-redundant backups (the database cases' server)
    "azurerm_postgresql_flexible_server": {"CKV_AZURE_136"},
}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[Path]], Any]:
    """Every Azure case generated under one directory and scanned by one checkov run."""
    from .test_terraform_checkov import checkov

    root = tmp_path_factory.mktemp("checkov-azure")
    directories: dict[str, list[Path]] = {}
    for case in CASES:
        pipeline, envs = _environments(case)
        written = generate(pipeline, root / case, envs)
        directories[case] = sorted({Path(f).parent for f in written["files"]})
    configs = {d / ".checkov.yaml" for ds in directories.values() for d in ds}
    assert len({c.read_text() for c in configs}) == 1  # the same skips everywhere
    return directories, checkov(root, min(configs))


@pytest.mark.parametrize("case", sorted(CASES))
def test_checkov_passes_on_the_azure_terraform_with_its_azure_checks(
    case: str, scanned: tuple[dict[str, list[Path]], Any]
) -> None:
    directories, report = scanned
    assert directories[case]
    for directory in directories[case]:
        where = "/" + directory.relative_to(directory.parents[1]).as_posix() + "/"
        failed = [c for c in report["results"]["failed_checks"] if c["file_path"].startswith(where)]
        assert failed == [], [(c["check_id"], c["resource"]) for c in failed]
        resources = json.loads((directory / "main.tf.json").read_text())["resource"]
        type_of = {name: t for t, named in resources.items() for name in named}
        passed: dict[str, set[str]] = {}
        for c in report["results"]["passed_checks"]:
            if c["file_path"].startswith(where):
                # checkov names some resources "<type>.<name>", others "resource.<name>"
                tf_type = type_of[c["resource"].rsplit(".", 1)[-1]]
                passed.setdefault(tf_type, set()).add(c["check_id"])
        declared = set(resources)
        checked = [t for t in AZURE_PASSED if t in declared]
        assert checked, directory  # an Azure directory checkov did not scan would "pass"
        for tf_type in checked:
            assert AZURE_PASSED[tf_type] <= passed.get(tf_type, set()), (directory, tf_type)


def test_without_its_skips_checkov_fails_the_azure_checks_the_skips_name(tmp_path: Path) -> None:
    import subprocess

    from glacier.infra.terraform.checkov import SKIPPED_CHECKS

    from .test_terraform_checkov import CHECKOV

    # The Key Vault's checks, and the database's and its network's, in one run.
    pipeline, _ = _secret_pipeline()
    generate(pipeline, tmp_path / "secret")
    pipeline, env = warehouse_pipeline()
    generate(pipeline, tmp_path / "database", [env])
    for config in tmp_path.rglob(".checkov.yaml"):
        config.unlink()
    done = subprocess.run(
        [str(CHECKOV), "-d", str(tmp_path), "--framework", "terraform_json", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout)
    failed = {c["check_id"] for c in report["results"]["failed_checks"]}
    azure = {c for c in SKIPPED_CHECKS if "AZURE" in c}
    assert failed == azure  # each Azure skip is needed, and nothing else fails
