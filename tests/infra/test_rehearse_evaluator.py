"""Glacier's evaluator of GCP and Azure grants: conditions parsed from the plan, role tables,
and what each storage request needs; the plans are hand-built in the builders' shapes."""

from __future__ import annotations

import pytest

from glacier.errors import InfraError
from glacier.infra import Plan
from glacier.infra.rehearse import azure_plan as azure_reader
from glacier.infra.rehearse import gcp_plan as gcp_reader
from glacier.infra.rehearse.conditions import parse_abac, parse_cel
from glacier.infra.rehearse.evaluator import Request, allowed
from glacier.infra.rehearse.storage_requests import BlobRequests, GcsRequests, Objects
from infra.rehearse_clouds.plans import (
    BLOBS,
    TaskPlan,
    _resource,
    azure_plan,
    gcp_plan,
    principal,
)

TASKS = [
    TaskPlan("load", writes=(("lake", "sales/"),)),
    TaskPlan("report", reads=(("lake", "sales/"),), writes=(("lake", "reports/daily.parquet"),)),
]


@pytest.fixture(scope="module")
def gcp() -> gcp_reader.CloudPlan:
    return gcp_reader.read(gcp_plan(TASKS, [["load"], ["report"]]))


@pytest.fixture(scope="module")
def azure() -> azure_reader.CloudPlan:
    return azure_reader.read(azure_plan(TASKS, [["load"], ["report"]]))


def _sa(task: str) -> str:
    return f"gcpdev-{task}@acme-rehearse.iam.gserviceaccount.com"


def _principal(task: str) -> str:
    return principal(f"azdev-{task}")


# -- GCP --------------------------------------------------------------------------------------


def test_gcp_reads_are_allowed_under_the_prefix_only(gcp: gcp_reader.CloudPlan) -> None:
    def ok(request: Request) -> bool:
        return bool(allowed(gcp.grants, _sa("report"), request))

    assert ok(Request("get", "lake", "sales/2024/a.parquet"))
    assert not ok(Request("get", "lake", "sales2/a.parquet"))  # the prefix's boundary
    assert not ok(Request("get", "lake", "sale"))
    assert not ok(Request("get", "other", "sales/a.parquet"))  # another bucket
    assert not ok(Request("delete", "lake", "sales/a.parquet"))  # a viewer deletes nothing
    assert not ok(Request("create", "lake", "sales/a.parquet"))


def test_gcp_listing_is_allowed_on_the_bucket_whatever_the_prefix(
    gcp: gcp_reader.CloudPlan,
) -> None:
    # IAM Conditions cannot restrict storage.objects.list by prefix: it is checked on the
    # bucket, which the grant's condition names.
    assert allowed(gcp.grants, _sa("report"), Request("list", "lake", "sales/"))
    assert allowed(gcp.grants, _sa("report"), Request("list", "lake", "secret/"))
    assert not allowed(gcp.grants, _sa("report"), Request("list", "other", "sales/"))


def test_gcp_writes_need_create_and_overwrites_delete_as_well(
    gcp: gcp_reader.CloudPlan,
) -> None:
    load = _sa("load")
    assert allowed(gcp.grants, load, Request("create", "lake", "sales/x.parquet"))
    assert allowed(gcp.grants, load, Request("overwrite", "lake", "sales/x.parquet"))
    assert allowed(gcp.grants, load, Request("delete", "lake", "sales/x.parquet"))
    denied = allowed(gcp.grants, load, Request("create", "lake", "reports/daily.parquet"))
    assert not denied
    assert "storage.objects.create on gs://lake/reports/daily.parquet" in denied.reason
    assert "roles/storage.objectUser on lake if" in denied.reason
    creator = gcp_reader.read(
        Plan(
            "p",
            tuple(
                r
                if r.type != gcp_reader.MEMBER
                else _resource(r.type, r.name, {**r.inputs, "role": "roles/storage.objectCreator"})
                for r in gcp_plan(TASKS[:1], [["load"]])
            ),
        )
    )
    assert allowed(creator.grants, load, Request("create", "lake", "sales/x.parquet"))
    replace = allowed(creator.grants, load, Request("overwrite", "lake", "sales/x.parquet"))
    assert not replace and "storage.objects.delete" in replace.reason


def test_gcp_custom_roles_grant_their_permissions() -> None:
    planned = list(gcp_plan(TASKS[:1], [["load"]]))
    planned = [
        _resource(
            r.type,
            r.name,
            {**r.inputs, "role": "projects/acme-rehearse/roles/glacierReadOnly"},
        )
        if r.type == gcp_reader.MEMBER
        else r
        for r in planned
    ]
    planned.append(
        _resource(
            gcp_reader.CUSTOM_ROLE,
            "read-only",
            {
                "roleId": "glacierReadOnly",
                "project": "acme-rehearse",
                "permissions": ["storage.objects.get"],
            },
        )
    )
    found = gcp_reader.read(Plan("p", tuple(planned)))
    assert allowed(found.grants, _sa("load"), Request("get", "lake", "sales/a"))
    assert not allowed(found.grants, _sa("load"), Request("list", "lake", "sales/"))


def test_gcp_an_unknown_role_or_condition_is_refused_naming_it() -> None:
    planned = list(gcp_plan(TASKS[:1], [["load"]]))
    basic = [
        _resource(r.type, r.name, {**r.inputs, "role": "roles/editor"})
        if r.type == gcp_reader.MEMBER
        else r
        for r in planned
    ]
    with pytest.raises(InfraError, match="'roles/editor'"):
        gcp_reader.read(Plan("p", tuple(basic)))
    with pytest.raises(InfraError, match=r"request\.time"):
        parse_cel('request.time < timestamp("2030-01-01T00:00:00Z")')
    with pytest.raises(InfraError, match="endsWith"):
        parse_cel('resource.name.endsWith(".parquet")')


def test_gcp_workflow_levels_name_the_jobs_in_order(gcp: gcp_reader.CloudPlan) -> None:
    assert gcp.levels == (("gcpdev-load",), ("gcpdev-report",))
    assert gcp.job("gcpdev-load").task == "load"
    assert gcp.job("gcpdev-load").identity == _sa("load")
    assert gcp.job("gcpdev-load").command == (
        "python",
        "-m",
        "glacier.infra.runtime",
        "pipeline.py:pipeline",
        "load",
    )
    together = gcp_reader.read(gcp_plan(TASKS, [["load", "report"]]))
    assert together.levels == (("gcpdev-load", "gcpdev-report"),)
    with pytest.raises(InfraError, match="starts job 'nope'"):
        gcp.job("nope")


# -- Azure ------------------------------------------------------------------------------------


def test_azure_reads_are_allowed_under_the_path_only(azure: azure_reader.CloudPlan) -> None:
    def ok(request: Request) -> bool:
        return bool(allowed(azure.grants, _principal("report"), request))

    assert ok(Request("get", "lake", "sales/2024/a.parquet"))
    assert not ok(Request("get", "lake", "sales2/a.parquet"))
    assert not ok(Request("get", "other", "sales/a.parquet"))
    assert not ok(Request("delete", "lake", "sales/a.parquet"))
    assert not ok(Request("create", "lake", "sales/a.parquet"))


def test_azure_listing_is_allowed_under_the_prefix_only(azure: azure_reader.CloudPlan) -> None:
    report = _principal("report")
    assert allowed(azure.grants, report, Request("list", "lake", "sales/2024"))
    denied = allowed(azure.grants, report, Request("list", "lake", "secret/"))
    assert not denied and "(Blob.List)" in denied.reason


def test_azure_writes_and_deletes_follow_the_contributor_grant(
    azure: azure_reader.CloudPlan,
) -> None:
    load = _principal("load")
    assert allowed(azure.grants, load, Request("create", "lake", "sales/x"))
    assert allowed(azure.grants, load, Request("overwrite", "lake", "sales/x"))
    assert allowed(azure.grants, load, Request("delete", "lake", "sales/x"))
    denied = allowed(azure.grants, load, Request("create", "lake", "sales2/x"))
    assert not denied
    assert f"{BLOBS}/write or {BLOBS}/add/action on lake/sales2/x" in denied.reason
    assert "Storage Blob Data Contributor on acmerehearse/lake if" in denied.reason


def test_azure_conditions_outside_the_subset_are_refused_naming_them() -> None:
    with pytest.raises(InfraError, match="StringLike"):
        parse_abac(f"@Resource[{BLOBS}:path] StringLike 'sales/*'")
    with pytest.raises(InfraError, match="Environment"):
        parse_abac("@Environment[isPrivateLink] BoolEquals true")
    condition = parse_abac(
        f"!(ActionMatches{{'{BLOBS}/read'}}) OR @Resource[{BLOBS}:path] StringEquals 'a'"
    )
    assert condition.holds({"action": f"{BLOBS}/write"})
    assert condition.holds({"action": f"{BLOBS}/read", "path": "a"})
    assert not condition.holds({"action": f"{BLOBS}/read", "path": "ab"})


def test_azure_logic_app_levels_follow_run_after(azure: azure_reader.CloudPlan) -> None:
    assert azure.levels == (("azdev-load",), ("azdev-report",))
    assert azure.job("azdev-report").identity == _principal("report")
    assert azure.job("azdev-report").attempts == 1
    assert azure_reader.levels(
        {
            "c": {"inputs": {"uri": "https://m/jobs/c/start"}, "runAfter": {"a": [], "b": []}},
            "b": {"inputs": {"uri": "https://m/jobs/b/start"}, "runAfter": {"a": []}},
            "a": {"inputs": {"uri": "https://m/jobs/a/start"}},
        }
    ) == (("a",), ("b",), ("c",))
    with pytest.raises(InfraError, match="cycle"):
        azure_reader.levels({"a": {"runAfter": {"b": []}}, "b": {"runAfter": {"a": []}}})


# -- requests, translated ---------------------------------------------------------------------


def test_gcs_requests_translate_uploads_copies_and_batches() -> None:
    objects = Objects()
    gcs = GcsRequests(objects)

    def asked(method: str, path: str, body: bytes = b"") -> list[str]:
        return [str(r) for r in gcs.translate(method, path, body).requests]

    multipart = b'--x\r\ncontent-type: application/json\r\n\r\n{"name": "sales/a.csv"}\r\n--x--'
    assert asked("POST", "/upload/storage/v1/b/lake/o?uploadType=multipart", multipart) == [
        "create lake/sales/a.csv"
    ]
    objects.update([("lake", "sales/a.csv")], [])
    assert asked("POST", "/upload/storage/v1/b/lake/o?uploadType=media&name=sales%2Fa.csv") == [
        "overwrite lake/sales/a.csv"
    ]
    assert asked("POST", "/storage/v1/b/lake/o/sales%2Fa.csv/rewriteTo/b/lake/o/b%2Fc.csv") == [
        "get lake/sales/a.csv",
        "create lake/b/c.csv",
    ]
    compose = b'{"sourceObjects": [{"name": "p/1"}, {"name": "p/2"}]}'
    assert asked("POST", "/storage/v1/b/lake/o/p%2Fall/compose", compose) == [
        "get lake/p/1",
        "get lake/p/2",
        "create lake/p/all",
    ]
    batch = (
        b"--b\r\nContent-Type: application/http\r\n\r\n"
        b"DELETE /storage/v1/b/lake/o/x%2F1 HTTP/1.1\r\n\r\n--b\r\n"
        b"Content-Type: application/http\r\n\r\nDELETE /storage/v1/b/lake/o/x%2F2 HTTP/1.1\r\n"
    )
    assert asked("POST", "/batch/storage/v1", batch) == ["delete lake/x/1", "delete lake/x/2"]
    assert gcs.translate("GET", "/storage/v1/b?project=p", b"").refused
    assert gcs.translate("DELETE", "/storage/v1/b/lake", b"").refused


def test_blob_requests_translate_blocks_copies_and_container_calls() -> None:
    objects = Objects()
    blob = BlobRequests(objects)

    def asked(method: str, path: str, copy: str | None = None) -> list[str]:
        return [str(r) for r in blob.translate(method, path, b"", copy).requests]

    assert asked("PUT", "/dev/lake/a/b.parquet?comp=block&blockid=MQ%3D%3D") == [
        "create lake/a/b.parquet"
    ]
    assert asked("GET", "/dev/lake?restype=container&comp=list&prefix=a%2F") == ["list lake/a/*"]
    assert asked("HEAD", "/dev/lake?restype=container") == ["bucket lake"]
    assert asked("PUT", "/dev/lake/b/c", copy="http://h/dev/lake/a/b.parquet") == [
        "get lake/a/b.parquet",
        "create lake/b/c",
    ]
    assert blob.translate("PUT", "/dev/newcontainer?restype=container", b"").refused
    assert blob.translate("GET", "/dev/?comp=list", b"").refused


@pytest.mark.parametrize(
    "module",
    [
        "glacier.infra.rehearse.conditions",
        "glacier.infra.rehearse.evaluator",
        "glacier.infra.rehearse.storage_requests",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_variables_from_secrets_get_a_test_value_and_are_named() -> None:
    planned = []
    for r in gcp_plan(TASKS[:1], [["load"]]):
        if r.type == gcp_reader.JOB:
            template = r.inputs["template"]["template"]
            container = dict(template["containers"][0])
            secret = {"secretKeyRef": {"secret": "warehouse-password", "version": "latest"}}
            container["envs"] = [*container["envs"], {"name": "DB_PASSWORD", "valueSource": secret}]
            inputs = {**r.inputs, "template": {"template": {**template, "containers": [container]}}}
            r = _resource(r.type, r.name, inputs)
        planned.append(r)
    job = gcp_reader.read(Plan("p", tuple(planned))).job("gcpdev-load")
    assert job.secrets == ("DB_PASSWORD",)
    assert job.variables["DB_PASSWORD"].startswith("rehearsal-")
    assert job.variables["GLACIER_TASK_NAME"] == "load"


def test_workflows_retries_around_a_job_multiply_its_attempts() -> None:
    source = """
main:
  steps:
    - level_0:
        parallel:
          branches:
            - b_load:
                steps:
                  - run_load:
                      try:
                        call: googleapis.run.v2.projects.locations.jobs.run
                        args: {name: projects/p/locations/r/jobs/gcpdev-load}
                      retry:
                        predicate: ${http.default_retry_predicate}
                        max_retries: 2
    - level_1:
        try:
          call: googleapis.run.v2.projects.locations.jobs.run
          args: {name: projects/p/locations/r/jobs/gcpdev-report}
        retry: ${http.default_retry}
"""
    assert gcp_reader.steps(source) == (
        (("gcpdev-load",), ("gcpdev-report",)),
        {"gcpdev-load": 2, "gcpdev-report": 5},
    )
    planned = [
        _resource(r.type, r.name, {**r.inputs, "sourceContents": source})
        if r.type == gcp_reader.WORKFLOW
        else r
        for r in gcp_plan([TaskPlan("load", retries=1), TaskPlan("report")], [["load"], ["report"]])
    ]
    found = gcp_reader.read(Plan("p", tuple(planned)))
    assert found.job("gcpdev-load").attempts == 6  # 3 executions of 2 attempts (maxRetries 1)
    assert found.job("gcpdev-report").attempts == 6
    with pytest.raises(InfraError, match="max_retries"):
        gcp_reader.steps(source.replace("max_retries: 2", "retries: 2"))


def test_grants_in_another_projects_plan_are_evaluated_too() -> None:
    # The task runs in gcpdev; the bucket it reads is in another project's environment,
    # which binds the task's service account there (cross-project access).
    mine = gcp_plan([TaskPlan("report", writes=(("lake", "reports/"),))], [["report"]])
    theirs = [
        r
        for r in gcp_plan([TaskPlan("report", reads=(("shared", "sales/"),))], [["report"]])
        if r.type in (gcp_reader.BUCKET, gcp_reader.MEMBER)
    ]
    found = gcp_reader.read(mine, theirs)
    assert set(found.buckets) == {"lake", "shared"}
    assert allowed(found.grants, _sa("report"), Request("get", "shared", "sales/a"))
    assert not allowed(found.grants, _sa("report"), Request("get", "shared", "other/a"))
    assert gcp_reader.read(mine).buckets == ("lake",)


def test_a_storage_data_role_outside_a_container_is_refused() -> None:
    planned = [
        _resource(
            r.type,
            r.name,
            {**r.inputs, "scope": r.inputs["scope"].split("/blobServices/")[0]},
        )
        if r.type == azure_reader.ASSIGNMENT
        else r
        for r in azure_plan(TASKS, [["load"], ["report"]])
    ]
    with pytest.raises(InfraError, match="not on a container"):
        azure_reader.read(Plan("p", tuple(planned)))
