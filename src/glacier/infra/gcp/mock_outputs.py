"""What GCP would answer for the resources of a plan run under Pulumi's mock engine.

:func:`outputs` gives each ``gcp:`` resource the outputs the real API computes, from its
inputs, the project and the region only (deterministic: the same plan twice is the same): a
service account's ``email``, ids in GCP's ``projects/<p>/...`` form, a repository's Docker
host. :mod:`glacier.infra.mocks` dispatches ``gcp:`` types here.

Example:
    >>> rid, out = outputs("gcp:serviceaccount/account:Account", "x", {"accountId": "etl-clean"},
    ...                    "acme", "europe-west1")
    >>> out["email"]
    'etl-clean@acme.iam.gserviceaccount.com'
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["outputs"]


def _number(text: str, digits: int = 12) -> str:
    return str(int(hashlib.sha1(text.encode()).hexdigest(), 16))[:digits]


def outputs(
    typ: str, name: str, inputs: dict[str, Any], project: str, region: str
) -> tuple[str, dict[str, Any]]:
    """``(id, outputs)`` of a ``gcp:`` resource (see the module docs)."""
    out = dict(inputs)
    project = str(inputs.get("project") or project)
    region = str(inputs.get("region") or inputs.get("location") or region)
    physical = str(inputs.get("name") or name)
    rid = physical
    if typ == "gcp:serviceaccount/account:Account":
        email = f"{inputs.get('accountId')}@{project}.iam.gserviceaccount.com"
        rid = f"projects/{project}/serviceAccounts/{email}"
        out.update(
            email=email,
            name=rid,
            member=f"serviceAccount:{email}",
            uniqueId=_number(email, 21),
        )
    elif typ == "gcp:storage/bucket:Bucket":
        out.update(
            url=f"gs://{physical}", selfLink=f"https://www.googleapis.com/storage/v1/b/{physical}"
        )
    elif typ == "gcp:cloudrunv2/job:Job":
        rid = f"projects/{project}/locations/{region}/jobs/{physical}"
        out["uid"] = _number(rid)
    elif typ == "gcp:workflows/workflow:Workflow":
        rid = f"projects/{project}/locations/{region}/workflows/{physical}"
        out["revisionId"] = "000001-abc"
    elif typ == "gcp:artifactregistry/repository:Repository":
        repo = str(inputs.get("repositoryId"))
        rid = f"projects/{project}/locations/{region}/repositories/{repo}"
        out.update(name=repo, registryUri=f"{region}-docker.pkg.dev/{project}/{repo}")
    elif typ == "gcp:projects/iAMCustomRole:IAMCustomRole":
        rid = f"projects/{project}/roles/{inputs.get('roleId')}"
        out["name"] = rid
    elif typ == "gcp:secretmanager/secret:Secret":
        secret = str(inputs.get("secretId"))
        rid = f"projects/{project}/secrets/{secret}"
        out["name"] = f"projects/{_number(project)}/secrets/{secret}"
    elif typ == "gcp:cloudscheduler/job:Job":
        rid = f"projects/{project}/locations/{region}/jobs/{physical}"
    elif typ == "gcp:sql/databaseInstance:DatabaseInstance":
        n = int(_number(physical, 6))
        address = f"10.{20 + n % 200}.{n // 200 % 250}.{3 + n % 200}"
        out.update(
            privateIpAddress=address,
            firstIpAddress=address,
            connectionName=f"{project}:{region}:{physical}",
            selfLink=f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{physical}",
        )
    elif typ == "gcp:compute/network:Network":
        rid = f"projects/{project}/global/networks/{physical}"
        out["selfLink"] = f"https://www.googleapis.com/compute/v1/{rid}"
    elif typ == "gcp:compute/subnetwork:Subnetwork":
        rid = f"projects/{project}/regions/{region}/subnetworks/{physical}"
        out["selfLink"] = f"https://www.googleapis.com/compute/v1/{rid}"
    elif typ == "gcp:compute/globalAddress:GlobalAddress":
        rid = f"projects/{project}/global/addresses/{physical}"
        out["address"] = "10.96.0.0"
    elif typ == "gcp:servicenetworking/connection:Connection":
        rid = f"{inputs.get('network')}:{inputs.get('service')}"
        out["peering"] = "servicenetworking-googleapis-com"
    elif "IAMMember" in typ or "IamMember" in typ:
        target = inputs.get("bucket") or inputs.get("name") or inputs.get("secretId") or project
        rid = f"{target}/{inputs.get('role')}/{inputs.get('member')}"
        out["etag"] = "BwX" + _number(rid, 8)
    out.setdefault("name", physical)
    out["id"] = rid
    return rid, out
