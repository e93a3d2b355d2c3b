"""Role assignments on containers: Reader / Contributor per task, scoped to the container,
confined by ABAC conditions on the blob path; nothing broader, anywhere."""

from __future__ import annotations

import pytest

from glacier import Dataset, Pipeline
from glacier.infra import Plan, plan
from glacier.infra.azure.conditions import contributor_condition, reader_condition
from glacier.infra.model import Grant, Location
from infra.azure.pipelines import ACCOUNT as ACCT
from infra.azure.pipelines import SUB_A, SUB_B, azure_env
from infra.azure.plans import (
    ACR_PULL,
    ASSIGNMENT,
    BLOBS,
    CONTRIBUTOR,
    PATH,
    PREFIX,
    READER,
    SECRETS_USER,
    assignments_of,
    clauses,
    container_scope,
    principal,
    role_of,
)

READ = f"ActionMatches{{'{BLOBS}/read'}}"
LIST = "SubOperationMatches{'Blob.List'}"
WRITE = f"ActionMatches{{'{BLOBS}/write'}} OR ActionMatches{{'{BLOBS}/add/action'}}"
DELETE = f"ActionMatches{{'{BLOBS}/delete'}}"
LAKE = container_scope(SUB_A, "dev-etl", ACCT, "lake")
#: The job starter, a custom role; every other role Glacier assigns is one of these.
DATA_ROLES = {READER, CONTRIBUTOR}


def test_a_reader_is_confined_to_the_paths_it_reads(lake_plan: Plan) -> None:
    (reader,) = assignments_of(lake_plan, "dev", "sweep", READER)
    assert reader.inputs["scope"] == LAKE
    assert reader.inputs["principalType"] == "ServicePrincipal"
    assert reader.inputs["conditionVersion"] == "2.0"
    assert clauses(reader.inputs["condition"]) == [
        f"(!({READ} AND !({LIST})) OR {PATH} StringStartsWith 'raw/' OR {PATH} StringEquals 'raw')",
        f"(!({READ} AND {LIST}) OR {PREFIX} StringStartsWith 'raw/')",
    ]


def test_a_writer_writes_its_outputs_only_and_deletes_only_where_writes_sweep(
    lake_plan: Plan,
) -> None:
    (extract,) = assignments_of(lake_plan, "dev", "extract", CONTRIBUTOR)
    assert extract.inputs["scope"] == LAKE
    assert clauses(extract.inputs["condition"]) == [
        f"(!({READ} AND !({LIST})) OR {PATH} StringStartsWith 'raw/' OR {PATH} StringEquals 'raw')",
        f"(!({READ} AND {LIST}) OR {PREFIX} StringStartsWith 'raw/')",
        f"(!({WRITE}) OR {PATH} StringStartsWith 'raw/')",
        f"(!({DELETE}))",
    ]
    # a csv directory of the manifest layout: each write sweeps the versions it replaced
    (sweep,) = assignments_of(lake_plan, "dev", "sweep", CONTRIBUTOR)
    assert clauses(sweep.inputs["condition"])[2:] == [
        f"(!({WRITE}) OR {PATH} StringStartsWith 'events/')",
        f"(!({DELETE}) OR {PATH} StringStartsWith 'events/')",
    ]


def test_in_memory_datasets_travel_through_the_artifacts_container(lake_plan: Plan) -> None:
    artifacts = container_scope(SUB_A, "dev-etl", ACCT, f"dev-etl-artifacts-{SUB_A}")
    (written,) = assignments_of(lake_plan, "dev", "clean", CONTRIBUTOR)
    (read,) = [
        r for r in assignments_of(lake_plan, "dev", "publish", READER) if "artifacts" in r.name
    ]
    assert written.inputs["scope"] == read.inputs["scope"] == artifacts
    # an artifact is one object per run, not a directory: no bare name beside the prefix
    assert "StringEquals" not in read.inputs["condition"]
    assert f"{PATH} StringStartsWith 'summary/'" in read.inputs["condition"]


def test_each_task_has_exactly_the_assignments_of_its_grants(lake_plan: Plan) -> None:
    def summary(task: str) -> list[tuple[str, str]]:
        return sorted(
            (role_of(r), str(r.inputs["scope"]).rsplit("/", 1)[-1])
            for r in assignments_of(lake_plan, "dev", task)
        )

    registry = "devetlac54dd"
    assert summary("extract") == sorted(
        [(READER, "reference"), (CONTRIBUTOR, "lake"), (ACR_PULL, registry)]
    )
    assert summary("publish") == sorted(
        [
            (READER, "lake"),
            (READER, f"dev-etl-artifacts-{SUB_A}"),
            (CONTRIBUTOR, "lake"),
            (ACR_PULL, registry),
        ]
    )


def test_no_assignment_is_broader_than_a_container_job_registry_or_secret(lake_plan: Plan) -> None:
    forbidden = {
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
        "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",  # User Access Administrator
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",  # Storage Blob Data Owner
        "17d1049b-9a84-46fb-8f53-869881c3d3ab",  # Storage Account Contributor
    }
    every = lake_plan.of_type(ASSIGNMENT)
    assert len(every) == 17
    for r in every:
        scope, role = str(r.inputs["scope"]), role_of(r)
        assert role not in forbidden, r.name
        parts = scope.split("/")
        # never a subscription, a resource group or an account: a resource inside one
        assert len(parts) >= 9, (r.name, scope)
        if role in DATA_ROLES:
            assert "/blobServices/default/containers/" in scope, r.name
            assert r.inputs["condition"], r.name
        elif role == ACR_PULL:
            assert "/Microsoft.ContainerRegistry/registries/" in scope
        elif role == SECRETS_USER:
            assert "/secrets/" in scope
        else:
            assert "/Microsoft.App/jobs/" in scope, r.name


def test_conditions_deny_delete_unless_a_location_sweeps() -> None:
    kept = Grant(Location("s", "t/", "t"), ("read", "write", "list", "delete"))
    assert clauses(contributor_condition([kept]))[-1] == f"(!({DELETE}))"
    swept = Grant(Location("s", "d/", "d", sweeps=True), ("read", "write", "list", "delete"))
    assert clauses(contributor_condition([kept, swept]))[-1] == (
        f"(!({DELETE}) OR {PATH} StringStartsWith 'd/')"
    )
    unlisted = Grant(Location("s", "x.parquet", "x"), ("read",))
    assert clauses(reader_condition([unlisted]))[1] == f"(!({READ} AND {LIST}))"


def _cross_subscription() -> tuple[Pipeline, list[object]]:
    a = azure_env("a", SUB_A, "acmedata")
    b = azure_env("b", SUB_B, "acmeshared")
    shared = Dataset("shared", storage=b.storage.blob("exports", "customers/"))
    mine = Dataset("mine", storage=a.storage.blob("lake", "mine/"))
    pipeline = Pipeline("xsub")

    @pipeline.task(compute=a.compute.container_app(), allow_cross_environment=True)
    def enrich(customers: shared) -> mine: ...

    return pipeline, [a, b]


def test_a_container_of_another_subscription_is_granted_in_its_own_stack() -> None:
    pipeline, envs = _cross_subscription()
    whole = plan(pipeline, environments=envs)
    home = plan(pipeline, env="a", environments=envs)
    other = plan(pipeline, env="b", environments=envs)
    identity = principal(home, "a", "enrich")
    # in B's stack: one Reader on B's container for A's task, with the same kind of condition
    (granted,) = [r for r in other.of_type(ASSIGNMENT) if r.environment == "b"]
    assert granted.inputs["principalId"] == identity
    assert role_of(granted) == READER
    assert granted.inputs["roleDefinitionId"].startswith(f"/subscriptions/{SUB_B}/")
    assert granted.inputs["scope"] == container_scope(SUB_B, "b-xsub", "acmeshared", "exports")
    assert clauses(granted.inputs["condition"]) == [
        f"(!({READ} AND !({LIST})) OR {PATH} StringStartsWith 'customers/' "
        f"OR {PATH} StringEquals 'customers')",
        f"(!({READ} AND {LIST}) OR {PREFIX} StringStartsWith 'customers/')",
    ]
    # and nothing else for it there: no identity, no job, no other assignment
    in_b = [r for r in other if r.environment == "b"]
    assert {r.type for r in in_b} == {
        "pulumi:providers:azure-native",
        "azure-native:resources:ResourceGroup",
        "azure-native:storage:StorageAccount",
        "azure-native:storage:BlobServiceProperties",
        "azure-native:storage:BlobContainer",
        ASSIGNMENT,
    }
    # A's stack grants nothing on B's container
    assert not [r for r in home.of_type(ASSIGNMENT) if SUB_B in str(r.inputs["scope"])]
    assert len(whole.of_type(ASSIGNMENT)) == len(home.of_type(ASSIGNMENT)) + 1


@pytest.mark.parametrize("prefix", ["it's/"])
def test_a_path_a_condition_cannot_quote_is_refused(prefix: str) -> None:
    from glacier.errors import InfraError

    with pytest.raises(InfraError, match="quote"):
        reader_condition([Grant(Location("s", prefix, "d"), ("read",))])
