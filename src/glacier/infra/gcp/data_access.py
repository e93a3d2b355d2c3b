"""Bucket IAM bindings of a task: its grants as roles on buckets with IAM Conditions.

GCP has no identity policies: access is granted on the bucket, to the task's service
account, with a condition on the object name. For each bucket a task touches Glacier binds
at most two roles (:data:`ROLES` says which access needs which):

- ``roles/storage.objectViewer`` for ``read`` and ``list``: reads by object-name prefix, and
  the listing of the bucket (which GCS checks against the bucket, so no prefix can limit it:
  see :mod:`glacier.infra.gcp.conditions`);
- the pipeline's custom role ``objectWriter`` (:data:`WRITER_PERMISSIONS`) for ``write`` and
  ``delete``, by object-name prefix. GCS checks ``storage.objects.delete`` when an upload
  *replaces* an object, which Glacier's writes do (an object rewritten every run, a Delta
  table's checkpoint pointer), and IAM cannot tell that check from a deletion, so a writer
  may delete under the prefixes it writes, and only there. ``roles/storage.objectCreator``
  cannot replace an object; ``roles/storage.objectUser`` would add metadata updates, restores
  and managed folders, which Glacier never uses.

Never a basic role (owner, editor, viewer), never a project-level binding: every binding is
a ``BucketIAMMember`` with a condition.

Example:
    >>> sorted(ROLES)
    ['delete', 'list', 'read', 'write']
    >>> ROLES["list"]
    'roles/storage.objectViewer'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from glacier.infra.gcp.conditions import any_of, objects_under, the_bucket
from glacier.infra.gcp.naming import custom_role_id
from glacier.infra.gcp.stack import GcpStack, add, logical_name
from glacier.infra.model import Grant, Store, TaskSpec

__all__ = ["ROLES", "VIEWER", "WRITER", "WRITER_PERMISSIONS", "bind_task", "writer_role"]

#: The predefined role of reads and listings.
VIEWER = "roles/storage.objectViewer"
#: The custom role of writes (its id is per pipeline: :func:`~glacier.infra.gcp.naming.
#: custom_role_id`), and exactly what it allows.
WRITER = "objectWriter"
WRITER_PERMISSIONS = ("storage.objects.create", "storage.objects.delete")
#: Which role each access of the model needs.
ROLES = {"read": VIEWER, "list": VIEWER, "write": WRITER, "delete": WRITER}


def writer_role(stack: GcpStack) -> str:
    """The pipeline's writer role in the stack's project (declared once), as
    ``projects/<project>/roles/<id>``."""
    made = stack.shared.get("writer_role")
    if made is None:
        role_id = custom_role_id(stack.model.pipeline, WRITER)
        made = stack.shared["writer_role"] = add(
            stack,
            stack.gcp.projects.IAMCustomRole,
            logical_name(stack, "object-writer-role"),
            role_id=role_id,
            title=f"Glacier {stack.model.pipeline} object writer"[:100],
            description=(
                "Create objects, and replace or delete them (GCS checks delete when an upload "
                "replaces an object); bound per bucket with a condition on the object prefix"
            ),
            permissions=list(WRITER_PERMISSIONS),
            stage="GA",
        )
        stack.out.custom_roles[WRITER] = made
    return f"projects/{stack.project}/roles/{custom_role_id(stack.model.pipeline, WRITER)}"


def bind_task(
    stack: GcpStack, task: TaskSpec, member: Any, grants: Sequence[Grant], depends_on: Any = None
) -> list[Any]:
    """Bind ``task``'s service account (``member``: ``serviceAccount:<email>``) on every
    bucket of the stack's environment its ``grants`` reach: one binding per bucket and
    role."""
    by_store: dict[str, list[Grant]] = {}
    for g in grants:
        by_store.setdefault(g.location.store, []).append(g)
    made = []
    for key, store_grants in by_store.items():
        store = stack.model.stores[key]
        made.extend(_bind_bucket(stack, task, member, store, store_grants, depends_on))
    stack.out.bindings.extend(made)
    return made


def _bind_bucket(
    stack: GcpStack,
    task: TaskSpec,
    member: Any,
    store: Store,
    grants: Sequence[Grant],
    depends_on: Any,
) -> list[Any]:
    reads = [g.location.prefix for g in grants if "read" in g.access]
    lists = any("list" in g.access for g in grants)
    writes = [g.location.prefix for g in grants if {"write", "delete"} & set(g.access)]
    datasets = ", ".join(dict.fromkeys(g.location.dataset for g in grants))
    bucket = _bucket_name(stack, store)
    part = store.key.split(":", 1)[-1].replace(":", "-")
    who = (task.name,) if task.env == stack.env.key else (task.env, task.name)
    deps = [depends_on] if depends_on is not None else []
    made = []
    if reads or lists:

        def viewer(name: str) -> str:
            parts = [objects_under(name, reads)] if reads else []
            return any_of(*parts, *([the_bucket(name)] if lists else []))

        made.append(
            _binding(
                stack,
                logical_name(stack, *who, part, "viewer"),
                bucket,
                VIEWER,
                member,
                f"glacier {task.name} reads",
                f"Task {task.name!r} reads {datasets} (and lists the bucket's object names)",
                viewer,
                deps,
            )
        )
    if writes:
        role = writer_role(stack)
        made.append(
            _binding(
                stack,
                logical_name(stack, *who, part, "writer"),
                bucket,
                role,
                member,
                f"glacier {task.name} writes",
                f"Task {task.name!r} writes {datasets}",
                lambda name: objects_under(name, writes),
                [*deps, stack.shared["writer_role"]],
            )
        )
    return made


def _binding(
    stack: GcpStack,
    logical: str,
    bucket: Any,
    role: str,
    member: Any,
    title: str,
    description: str,
    expression: Any,
    depends_on: Iterable[Any],
) -> Any:
    gcp = stack.gcp
    text = (
        bucket.apply(expression) if isinstance(bucket, stack.pulumi.Output) else expression(bucket)
    )
    return add(
        stack,
        gcp.storage.BucketIAMMember,
        logical,
        depends_on=list(depends_on),
        bucket=bucket,
        role=role,
        member=member,
        condition=gcp.storage.BucketIAMMemberConditionArgs(
            title=title[:100], description=description[:256], expression=text
        ),
    )


def _bucket_name(stack: GcpStack, store: Store) -> Any:
    """The bucket's name: Glacier's and external buckets by name, a raw resource by its
    ``name`` output."""
    if store.kind == "raw":
        return store.resource.name
    return store.bucket_name
