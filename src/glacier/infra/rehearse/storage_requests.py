"""What a storage request asks, in the evaluator's words: GCS's JSON and XML APIs, and Azure's
Blob REST API, each HTTP request translated into :class:`~glacier.infra.rehearse.evaluator.Request`
objects (a copy is a read of its source and a write of its target).

Whether a write creates an object or replaces one (which GCS and Azure authorize
differently) is decided from :class:`Objects`: the objects the rehearsal's buckets hold. The
buckets start empty and every request of every task passes through a recording proxy, so
the proxies' own record of what was written and deleted is exact.

A request a task has no business making (creating or deleting a bucket, listing every
bucket of the project) is refused outright (:attr:`Asked.refused`).

Example:
    >>> objects = Objects()
    >>> gcs = GcsRequests(objects)
    >>> asked = gcs.translate("GET", "/storage/v1/b/lake/o?prefix=sales%2F", b"")
    >>> [str(r) for r in asked.requests]
    ['list lake/sales/*']
    >>> blob = BlobRequests(objects)
    >>> [str(r) for r in blob.translate("DELETE", "/dev/lake/a/b.csv", b"").requests]
    ['delete lake/a/b.csv']
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from glacier.infra.rehearse.evaluator import Request

__all__ = ["Asked", "BlobRequests", "GcsRequests", "Objects"]


class Objects:
    """The objects the rehearsal's buckets hold, as ``(bucket, name)`` (thread-safe)."""

    def __init__(self) -> None:
        self._held: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def exists(self, bucket: str, name: str) -> bool:
        with self._lock:
            return (bucket, name) in self._held

    def update(
        self, written: Iterable[tuple[str, str]], deleted: Iterable[tuple[str, str]]
    ) -> None:
        with self._lock:
            self._held.update(written)
            self._held.difference_update(deleted)


@dataclass
class Asked:
    """What one HTTP request asks: evaluator requests; the objects it writes and deletes
    (recorded once it succeeded); or ``refused``, why no grant could allow it."""

    requests: list[Request] = field(default_factory=list)
    written: list[tuple[str, str]] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    refused: str = ""
    #: A resumable upload this request starts (GCS): the object it will write.
    starts_upload: tuple[str, str] | None = None

    def read(self, bucket: str, name: str) -> None:
        self.requests.append(Request("get", bucket, name))

    def write(self, objects: Objects, bucket: str, name: str) -> None:
        action = "overwrite" if objects.exists(bucket, name) else "create"
        self.requests.append(Request(action, bucket, name))
        self.written.append((bucket, name))

    def delete(self, bucket: str, name: str) -> None:
        self.requests.append(Request("delete", bucket, name))
        self.deleted.append((bucket, name))


_EMBEDDED = re.compile(rb"^(GET|HEAD|PUT|POST|DELETE|PATCH) (\S+) HTTP/1\.[01]\r?$", re.M)


def _embedded(body: bytes) -> list[tuple[str, str]]:
    """The requests of a batch body (GCS's and Azure's batches are multipart/mixed)."""
    return [(m.group(1).decode(), m.group(2).decode()) for m in _EMBEDDED.finditer(body)]


def _query(path: str) -> tuple[str, dict[str, str]]:
    split = urlsplit(path)
    return split.path, {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}


# -- GCS --------------------------------------------------------------------------------------

_JSON_NAME = re.compile(rb'"name"\s*:\s*("(?:[^"\\]|\\.)*")')


class GcsRequests:
    """Translates GCS requests (JSON API, and the XML API's object paths)."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self._uploads: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def uploaded(self, upload_id: str, target: tuple[str, str]) -> None:
        """Note that resumable upload ``upload_id`` writes ``target``."""
        with self._lock:
            self._uploads[upload_id] = target

    def translate(self, method: str, path: str, body: bytes) -> Asked:
        """What ``method path`` (with ``body``) asks."""
        asked = Asked()
        route, query = _query(path)
        if route.startswith("/batch/"):
            for inner_method, inner_path in _embedded(body):
                inner = self.translate(inner_method, inner_path, b"")
                asked.requests += inner.requests
                asked.written += inner.written
                asked.deleted += inner.deleted
                asked.refused = asked.refused or inner.refused
            return asked
        for api in ("/upload/storage/v1/", "/download/storage/v1/", "/storage/v1/"):
            if route.startswith(api):
                self._json(asked, method, route.removeprefix(api), query, body, api)
                return asked
        self._xml(asked, method, route, query)
        return asked

    def _json(
        self, asked: Asked, method: str, route: str, query: dict[str, str], body: bytes, api: str
    ) -> None:
        parts = route.split("/")
        if parts[0] != "b" or len(parts) == 1 or not parts[1]:
            asked.refused = "listing or creating the project's buckets is no task's grant"
            return
        bucket = unquote(parts[1])
        if len(parts) == 2:
            if method in ("GET", "HEAD"):
                asked.requests.append(Request("bucket", bucket))
            else:
                asked.refused = f"changing bucket {bucket} is no task's grant"
            return
        if parts[2] != "o":
            asked.refused = f"{method} on bucket {bucket}'s {parts[2]} is no task's grant"
            return
        rest = "/".join(parts[3:])
        if not rest:  # the bucket's objects: a listing, or an upload
            if method == "GET":
                asked.requests.append(Request("list", bucket, query.get("prefix", "")))
            elif "upload_id" in query:  # a resumable upload's bytes (DELETE: cancelled)
                with self._lock:
                    target = self._uploads.get(query["upload_id"])
                if target is None and query.get("name"):
                    target = (bucket, query["name"])
                if target is None:
                    asked.refused = "bytes of a resumable upload this proxy never saw start"
                elif method in ("PUT", "POST"):
                    asked.write(self.objects, *target)
            elif method == "POST":
                name = query.get("name") or _metadata_name(body)
                if name is None:
                    asked.refused = "an upload that names no object"
                    return
                asked.write(self.objects, bucket, name)
                if query.get("uploadType") == "resumable":
                    asked.written.clear()  # written once the upload completes
                    asked.starts_upload = (bucket, name)
            return
        for verb in ("/rewriteTo/", "/copyTo/"):
            if verb in rest:
                source, copy = rest.split(verb, 1)
                tparts = copy.split("/", 3)  # b/<bucket>/o/<name>
                asked.read(bucket, unquote(source))
                asked.write(self.objects, unquote(tparts[1]), unquote(tparts[3]))
                return
        if rest.endswith("/compose"):
            name = unquote(rest.removesuffix("/compose"))
            sources = json.loads(body or b"{}").get("sourceObjects") or []
            for source in sources:
                asked.read(bucket, str(source.get("name")))
            asked.write(self.objects, bucket, name)
            return
        name = unquote(rest)
        if method in ("GET", "HEAD"):
            asked.read(bucket, name)
        elif method == "DELETE":
            asked.delete(bucket, name)
        else:  # PATCH/PUT: the object's metadata
            asked.write(self.objects, bucket, name)

    def _xml(self, asked: Asked, method: str, route: str, query: dict[str, str]) -> None:
        bucket, _, name = route.lstrip("/").partition("/")
        bucket, name = unquote(bucket), unquote(name)
        if not bucket:
            asked.refused = "listing the project's buckets is no task's grant"
        elif not name:
            if method == "GET":
                asked.requests.append(Request("list", bucket, query.get("prefix", "")))
            elif method == "HEAD":
                asked.requests.append(Request("bucket", bucket))
            else:
                asked.refused = f"changing bucket {bucket} is no task's grant"
        elif method in ("GET", "HEAD"):
            asked.read(bucket, name)
        elif method == "DELETE":
            asked.delete(bucket, name)
        else:
            asked.write(self.objects, bucket, name)


def _metadata_name(body: bytes) -> str | None:
    """The object's name in an upload's JSON metadata (a multipart upload's first part, or a
    resumable upload's initiation)."""
    found = _JSON_NAME.search(body[:65536])
    return str(json.loads(found.group(1))) if found else None


# -- Azure Blob Storage -----------------------------------------------------------------------

_WRITES = {"block", "blocklist", "appendblock", "page", "metadata", "properties", "tags", "tier"}


class BlobRequests:
    """Translates Blob REST API requests (path style: ``/<account>/<container>/<blob>``)."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects

    def translate(
        self, method: str, path: str, body: bytes, copy_source: str | None = None
    ) -> Asked:
        """What ``method path`` asks (``copy_source``: a copy's ``x-ms-copy-source``)."""
        asked = Asked()
        route, query = _query(path)
        parts = route.lstrip("/").split("/", 2)
        comp = query.get("comp", "")
        if comp == "batch":
            for inner_method, inner_path in _embedded(body):
                inner_parts = inner_path.lstrip("/").split("/", 2)
                if len(inner_parts) == 2:  # /<container>/<blob>: account-relative
                    inner_path = f"/{parts[0]}{inner_path}"
                inner = self.translate(inner_method, inner_path, b"")
                asked.requests += inner.requests
                asked.deleted += inner.deleted
                asked.written += inner.written
                asked.refused = asked.refused or inner.refused
            return asked
        if len(parts) < 2 or not parts[1]:
            asked.refused = "listing the account's containers or its properties is no task's grant"
            return asked
        container = unquote(parts[1])
        if len(parts) == 2 or not parts[2]:
            if method in ("GET", "HEAD") and comp == "list":
                asked.requests.append(Request("list", container, query.get("prefix", "")))
            elif method in ("GET", "HEAD"):
                asked.requests.append(Request("bucket", container))
            else:
                asked.refused = f"changing container {container} is no task's grant"
            return asked
        blob = unquote(parts[2])
        if method in ("GET", "HEAD"):
            asked.read(container, blob)
        elif method == "DELETE":
            asked.delete(container, blob)
        elif comp and comp not in _WRITES and comp != "lease":
            asked.refused = f"{method} {blob}?comp={comp} is an operation Glacier never makes"
        else:
            if copy_source:
                source = urlsplit(copy_source).path.lstrip("/").split("/", 2)
                if len(source) == 3:
                    asked.read(unquote(source[1]), unquote(source[2]))
            asked.write(self.objects, container, blob)
            if comp == "block":  # staged, not yet an object
                asked.written.clear()
        return asked
