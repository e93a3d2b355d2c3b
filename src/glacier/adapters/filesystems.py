"""The fsspec filesystem of each store, and the table of how the stores differ.

The cloud container calls one of :func:`local_filesystem`, :func:`s3_filesystem`,
:func:`gcs_filesystem` or :func:`azure_filesystem` with the provider config. Everything else
that differs between stores lives in :data:`STORES`, keyed by fsspec protocol, so the bucket
adapter never branches on the cloud:

=========  ==========  ============================  ===============================  =======
protocol   URI scheme  bucket root (fsspec path)     polars reads/writes natively     renames
=========  ==========  ============================  ===============================  =======
file       file://     ``<base_path>/<bucket>``      yes (local paths)                yes
memory     memory://   ``/<bucket>``                 no: fsspec file objects          yes
s3         s3://       ``<bucket>``                  yes (object_store keys)          no
gcs        gs://       ``<bucket>``                  yes, except against an emulator  no
abfs       abfs://     ``<container>``               yes (account key or Entra ID)    no
=========  ==========  ============================  ===============================  =======

The URI scheme of each protocol, and the other names fsspec gives the same store (``gs``,
``s3a``, ``az``, ...), are rows of :data:`glacier.uris.SCHEMES`.

Where the store renames atomically, a write goes to a temporary key that is renamed into
place. Object stores have no rename, but an upload there (S3 multipart upload, GCS resumable
session, Azure block list) becomes the object only when it is completed, so a write streams
into the upload and completes it once the data is all there; a server-side copy of a
temporary object would cost as much as the upload again (0.57x of a raw write, measured).

No cloud SDK is imported at module level: ``s3fs``, ``gcsfs`` and ``adlfs`` load inside the
function that builds their filesystem.
"""

from __future__ import annotations

import functools
import math
import os
import socket
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from glacier.adapters.credentials import aws_profile, data_role_credentials
from glacier.errors import ConfigError, EndpointUnreachableError
from glacier.extras import check_combination, require
from glacier.uris import scheme_named

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from glacier.settings import AwsConfig, AzureConfig, GcpConfig, LocalConfig, ProviderConfig

__all__ = [
    "STORES",
    "NativeAccess",
    "Store",
    "azure_filesystem",
    "check_endpoint",
    "confine_to_base",
    "gcs_filesystem",
    "local_filesystem",
    "read_back_timeout",
    "s3_filesystem",
    "store_for",
]

#: The environment variable Azure's tools read for a connection string (Azurite's included).
AZURE_CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"

#: Attempts of s3fs around botocore's own (``max_attempts`` of the config, "standard" retry
#: mode: throttling, 5xx, resets, timeouts): s3fs' retry absorbs a truncated answer, which
#: botocore does not see. A silent endpoint costs ``S3FS_ATTEMPTS * max_attempts`` read
#: timeouts per request, twice that for a read (s3fs retries its whole GET-and-read too).
S3FS_ATTEMPTS = 2
#: Seconds the Azure SDK waits before a retry, beyond one second (its default, 15 s growing
#: by powers of 3, made a silent endpoint take minutes to fail), and its random jitter.
AZURE_RETRY_BACKOFF = 0.5
AZURE_RETRY_JITTER = 0.5

# Object stores must not serve listings from a cache: another process (or another pipeline
# run) may have written since, and a stale listing would hide a new dataset version.
_NO_LISTINGS_CACHE: dict[str, Any] = {"use_listings_cache": False}


# -- filesystems (called by glacier.containers.CloudContainer) -----------------------------


def local_filesystem(config: LocalConfig, **options: Any) -> AbstractFileSystem:
    """The local disk; buckets are directories under ``config.base_path``.

    Example:
        >>> from glacier.settings import LocalConfig
        >>> local_filesystem(LocalConfig(base_path="/tmp/data")).protocol[0]
        'file'
    """
    from fsspec.implementations.local import LocalFileSystem

    return LocalFileSystem(**options)


#: The libraries of the s3 extra, released in step: each pins the next (s3fs -> aiobotocore ->
#: botocore <- boto3; s3fs -> fsspec), and a mismatch fails only at the first call.
S3_LIBRARIES = ("s3fs", "aiobotocore", "botocore", "boto3", "fsspec")


def s3_filesystem(config: AwsConfig, **options: Any) -> AbstractFileSystem:
    """An ``s3fs`` filesystem for the config's region, profile and endpoint (e.g. moto).

    Credentials come from the standard AWS chain (``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID``, an
    instance role, ...), never from code. ``options`` go to ``S3FileSystem`` and win over
    the defaults, e.g. ``config_kwargs={"retries": {"max_attempts": 1}}`` in tests.
    """
    check_combination("s3", S3_LIBRARIES)
    s3fs = require("s3fs", "s3", "An S3 bucket")
    botocore_config = {
        "connect_timeout": config.connect_timeout,
        "read_timeout": config.read_timeout,
        # botocore's "max_attempts" counts retries; "total_max_attempts" counts the first too
        "retries": {"total_max_attempts": config.max_attempts, "mode": "standard"},
        **options.pop("config_kwargs", {}),
    }
    kwargs: dict[str, Any] = {
        **_NO_LISTINGS_CACHE,
        "profile": aws_profile(config),
        "endpoint_url": config.endpoint_url,
        "client_kwargs": {"region_name": config.region},
        "config_kwargs": botocore_config,
    }
    session = data_role_credentials(config)  # data in another account: its role's session
    if session is not None:
        kwargs.update(key=session.access_key, secret=session.secret_key, token=session.token)
    kwargs.update(options)
    fs = s3fs.S3FileSystem(**kwargs)
    # s3fs retries timeouts and broken answers itself, around botocore's own attempts: one
    # retry there (absorbing a truncated answer) keeps a silent endpoint's time bounded.
    fs.retries = S3FS_ATTEMPTS
    return fs


def gcs_filesystem(config: GcpConfig, **options: Any) -> AbstractFileSystem:
    """A ``gcsfs`` filesystem: Application Default Credentials, or anonymous for an emulator.

    Against an emulator (``endpoint_url`` set) the plain ``GCSFileSystem`` is used: gcsfs'
    zonal/hierarchical-namespace extension probes each bucket over gRPC, which an emulator
    never answers (a 60 s wait per bucket).
    """
    check_combination("gcs", ("gcsfs", "fsspec"))
    require("gcsfs", "gcs", "A GCS bucket")
    if config.endpoint_url is not None:
        from gcsfs.core import GCSFileSystem
    else:
        from gcsfs import GCSFileSystem

    import aiohttp

    kwargs: dict[str, Any] = {
        **_NO_LISTINGS_CACHE,
        "project": config.project,
        "endpoint_url": config.endpoint_url,
        "token": "anon" if config.anonymous else deferred_google_credentials(),
        "requests_timeout": aiohttp.ClientTimeout(
            total=None, sock_connect=config.connect_timeout, sock_read=config.read_timeout
        ),
    }
    kwargs.update(options)
    fs = GCSFileSystem(**kwargs)
    bound_gcs_retries(fs, config.max_attempts)
    return fs


#: The request methods of gcsfs that retry: each is wrapped in ``gcsfs.retry.retry_request``
#: with six attempts fixed when the class is defined (a silent endpoint: about 50 s).
_GCS_RETRYING = ("_request", "_get_file_request", "_get_file_concurrent")


def bound_gcs_retries(fs: Any, attempts: int) -> None:
    """Make ``fs`` (a ``GCSFileSystem``) try each request ``attempts`` times, not six.

    gcsfs offers no setting for it: its retrying methods are decorated at class definition.
    The undecorated methods are re-wrapped with gcsfs' own retry (same errors retried, same
    backoff) on this instance only. A filesystem pickled to another process (a Dask worker)
    is rebuilt by fsspec without this, and retries six times there.
    """
    from gcsfs.retry import retry_request

    for name in _GCS_RETRYING:
        method = getattr(type(fs), name, None)
        raw = getattr(method, "__wrapped__", None)
        if raw is None:  # a gcsfs without this method, or no longer decorated
            continue
        retrying = retry_request(retries=attempts)(raw)
        setattr(fs, name, types.MethodType(retrying, fs))
    fs.glacier_attempts = attempts


#: The scope gcsfs asks for by default (``access="full_control"``).
_GCS_SCOPE = "https://www.googleapis.com/auth/devstorage.full_control"


def deferred_google_credentials(scope: str = _GCS_SCOPE) -> Any:
    """Application Default Credentials that are looked up at the first request, not now.

    Given ``token=None``, gcsfs resolves credentials when the filesystem is made, and off
    Google Cloud that asks the GCE metadata server first (about 15-20 s of timeouts), so
    merely naming a bucket (``get_uri()``, ``glacier graph``, a plan) waited on the network.
    These credentials do the same lookup (``google.auth.default()``: the environment's key
    file, ``gcloud auth application-default login``, the metadata server on GCP) when the
    first request needs a token, i.e. when bytes move; with no credentials anywhere they
    fall back to anonymous access, as gcsfs does. Pickled (a filesystem sent to a Dask
    worker), they travel unresolved: the worker looks its own credentials up.
    """
    return _deferred_credentials_class()(scope)


@functools.cache
def _deferred_credentials_class() -> type:
    import google.auth
    from google.auth import credentials as google_credentials
    from google.auth.exceptions import DefaultCredentialsError

    class DeferredCredentials(google_credentials.Credentials):  # type: ignore[misc]
        def __init__(self, scope: str) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self._scope = scope
            self._inner: Any = None
            self._anonymous = False

        @property
        def valid(self) -> bool:
            return self._anonymous or (self._inner is not None and bool(self._inner.valid))

        def refresh(self, request: Any) -> None:
            if self._inner is None and not self._anonymous:
                try:
                    self._inner, _ = google.auth.default(scopes=[self._scope], request=request)
                except DefaultCredentialsError:
                    self._anonymous = True  # public buckets still read
                    return
            if self._inner is not None:
                if not self._inner.valid:
                    self._inner.refresh(request)
                self.token, self.expiry = self._inner.token, self._inner.expiry

        def apply(self, headers: dict[str, str], token: str | None = None) -> None:
            if self._inner is not None:
                self._inner.apply(headers, token=token)

        def __reduce__(self) -> tuple[Any, tuple[str]]:
            # A filesystem sent to a Dask worker carries these: the worker looks its own
            # credentials up; a token resolved here never travels.
            return (deferred_google_credentials, (self._scope,))

    return DeferredCredentials


def azure_filesystem(config: AzureConfig, **options: Any) -> AbstractFileSystem:
    """An ``adlfs`` filesystem for Azure Blob Storage (containers are the buckets).

    With ``AZURE_STORAGE_CONNECTION_STRING`` set (Azurite's well-known development string, or
    a real account's), it is used; otherwise ``config.storage_account`` is reached with
    ``DefaultAzureCredential`` (``az login``, a managed identity, ...).
    """
    check_combination("azure", ("adlfs", "fsspec"))
    adlfs = require("adlfs", "azure", "An Azure Blob container")
    kwargs: dict[str, Any] = {
        **_NO_LISTINGS_CACHE,
        # The Azure SDK takes whole seconds.
        "connection_timeout": math.ceil(config.connect_timeout),
        "read_timeout": math.ceil(config.read_timeout),
    }
    connection_string = os.environ.get(AZURE_CONNECTION_STRING_ENV)
    if connection_string:
        if config.endpoint_url:  # the config's endpoint wins, as it does for polars' reads
            parts = parse_connection_string(connection_string)
            parts["BlobEndpoint"] = config.endpoint_url
            connection_string = ";".join(f"{k}={v}" for k, v in parts.items())
        kwargs["connection_string"] = connection_string
    elif config.storage_account:
        kwargs["account_name"] = config.storage_account
        if config.endpoint_url:
            kwargs["account_host"] = urlsplit(config.endpoint_url).netloc
    else:
        raise ConfigError(
            "AzureConfig needs storage_account='...' (or AZURE_STORAGE_CONNECTION_STRING in "
            "the environment, e.g. Azurite's development connection string) to reach Blob "
            "Storage."
        )
    kwargs.update(options)
    fs = adlfs.AzureBlobFileSystem(**kwargs)
    bound_azure_client(fs.service_client, config)
    return fs


def bound_azure_client(client: Any, config: AzureConfig) -> None:
    """Give the Azure SDK client of an adlfs filesystem the config's timeouts and attempts.

    adlfs builds its ``BlobServiceClient`` without them: it passes its timeouts to a few
    calls only (uploads, downloads), so listings and metadata requests waited the SDK's own
    20 s connect and 60 s read timeouts, and its retry policy (3 retries, 15 s backoff
    growing by powers of 3) made a silent endpoint take over five minutes to fail. The
    client's transport and retry policy are shared by every container and blob client
    made from it, so setting them here reaches every request.
    """
    pipeline = getattr(client, "_pipeline", None)
    transport = getattr(pipeline, "_transport", None)
    connection = getattr(transport, "connection_config", None)
    if connection is not None:
        connection.timeout = config.connect_timeout
        connection.read_timeout = config.read_timeout
    policy = getattr(getattr(client, "_config", None), "retry_policy", None)
    if policy is not None:
        retries = config.max_attempts - 1
        policy.total_retries = policy.connect_retries = retries
        policy.read_retries = policy.status_retries = retries
        if hasattr(policy, "initial_backoff"):  # backoff: initial + increment_base ** retry
            policy.initial_backoff = AZURE_RETRY_BACKOFF
            policy.increment_base = 1
            policy.random_jitter_range = AZURE_RETRY_JITTER


# -- the per-store table -------------------------------------------------------------------


@dataclass(frozen=True)
class NativeAccess:
    """How polars' own (Rust ``object_store``) readers and writers reach a store.

    ``storage_options`` uses object_store keys (``aws_region``, ``aws_endpoint_url``, ...);
    polars silently ignores s3fs-style keys such as ``key``/``secret``.
    """

    storage_options: dict[str, Any] | None = None
    credential_provider: Any = "auto"

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``pl.scan_*`` / ``sink_*``."""
        return {
            "storage_options": self.storage_options,
            "credential_provider": self.credential_provider,
        }


@dataclass(frozen=True)
class Store:
    """Everything that differs between two stores, as data and small functions.

    Attributes:
        protocol: fsspec protocol, the key of :data:`STORES`; its row of
            :data:`glacier.uris.SCHEMES` gives the URI scheme.
        bucket_root: ``(config, bucket_name) -> fsspec path`` of the bucket.
        native: ``config -> NativeAccess`` when polars can read and write the store itself,
            ``None`` when Glacier must hand polars fsspec file objects instead.
        renames: Whether ``fs.mv`` is an atomic rename (local, memory). Without one (object
            stores) a write streams into an upload that becomes the object when completed.
        endpoint: ``config -> URL`` of a configured endpoint (emulator, private endpoint).
        bucket_policy: ``"create"`` (make the directory), ``"require"`` (must exist) or
            ``"cloud"`` (the store reports a missing bucket itself).
        native_full_reads: Whether a full ``read()`` is fastest through polars' own reader
            (local files, memory-mapped) rather than one GET per object through fsspec,
            which beat polars' many ranged GETs 8x on S3 (``benchmarks/bucket_io.py``).
        delta: ``config -> storage_options`` of delta-rs (``deltalake``) for the store, or
            ``None`` where delta-rs cannot reach it (memory, the GCS emulator): tables there
            go through :mod:`glacier.adapters.table_mirror`.
        delta_scheme: The URI scheme delta-rs gives the store, where it differs from
            :attr:`scheme` (``az`` for Blob Storage: to delta-rs ``abfs`` is ADLS Gen2).
        confine: ``(config, fs path) -> None``, raising ConfigError for a path the store
            must not touch (the local disk: outside ``base_path`` through a symbolic link).
    """

    protocol: str
    bucket_root: Callable[[Any, str], str]
    native: Callable[[Any], NativeAccess | None]
    renames: bool
    endpoint: Callable[[Any], str | None] = field(default=lambda config: None)
    bucket_policy: Callable[[Any], Literal["create", "require", "cloud"]] = field(
        default=lambda config: "cloud"
    )
    native_full_reads: bool = False
    delta: Callable[[Any], dict[str, str] | None] = field(default=lambda config: None)
    delta_scheme: str | None = None
    confine: Callable[[Any, str], None] = field(default=lambda config, path: None)

    @property
    def scheme(self) -> str:
        """URI scheme of :meth:`uri` (``gs`` for the ``gcs`` protocol)."""
        row = scheme_named(self.protocol)
        return row.name if row is not None else self.protocol

    def uri(self, fs_path: str) -> str:
        """The URI of an fsspec path: ``s3://b/k``, ``file:///abs/p``, ``memory://b/k``."""
        if self.protocol == "file":  # an absolute path keeps its leading slash: file:///x
            return f"file://{fs_path}"
        return f"{self.scheme}://{fs_path.lstrip('/')}"

    def delta_uri(self, fs_path: str) -> str:
        """The table URI delta-rs takes: a local path, or the URI in delta-rs' scheme."""
        if self.protocol == "file":
            return fs_path
        return f"{self.delta_scheme or self.scheme}://{fs_path.lstrip('/')}"

    def native_path(self, fs_path: str) -> str:
        """The path polars' native readers take: a local path, or the URI."""
        return fs_path if self.protocol == "file" else self.uri(fs_path)


def _local_base(config: ProviderConfig) -> Path:
    base = getattr(config, "base_path", None)
    if base is None:  # a local filesystem swapped into a cloud provider: cwd-relative
        base = Path(".glacier/data")
    return Path(base).expanduser().resolve()


def _local_root(config: ProviderConfig, bucket: str) -> str:
    return f"{_local_base(config).as_posix()}/{bucket}"


def confine_to_base(config: ProviderConfig, fs_path: str) -> None:
    """Refuse a local path that resolves outside the base path through a symbolic link.

    Names are checked where they are declared (no ``..``, no ``/`` in a bucket name), but
    a directory under ``base_path`` may itself be a link to anywhere (``base/x -> /etc``):
    the path is resolved, links followed, and must stay under the resolved base path (a
    base path that is itself a link is fine).

    Example:
        >>> from glacier.settings import LocalConfig
        >>> confine_to_base(LocalConfig(base_path="/srv/data"), "/srv/data/lake/a.parquet")
        >>> try:
        ...     confine_to_base(LocalConfig(base_path="/srv/data"), "/srv/elsewhere")
        ... except ConfigError as error:
        ...     print(str(error).split(" (")[0])
        /srv/elsewhere resolves to /srv/elsewhere, outside the base path /srv/data
    """
    base = _local_base(config)
    target = Path(fs_path).resolve()
    if target != base and base not in target.parents:
        raise ConfigError(
            f"{fs_path} resolves to {target}, outside the base path {base} (a symbolic link "
            "on the way leads out of it). Glacier reads and writes only under base_path: "
            "remove or fix the link, or set base_path to where the data should live."
        )


def _local_bucket_policy(config: ProviderConfig) -> Literal["create", "require"]:
    return "create" if getattr(config, "create_dirs", True) else "require"


def read_back_timeout(config: Any) -> float | None:
    """Seconds allowed to read a write token back after a failed commit: twice the read
    timeout (a lost answer and one retry), ``None`` for stores without timeouts.

    Example:
        >>> from glacier.settings import AwsConfig
        >>> read_back_timeout(AwsConfig(region="us-east-1", read_timeout=2.5))
        5.0
    """
    read = getattr(config, "read_timeout", None)
    return None if read is None else 2 * float(read)


def timeouts(config: Any) -> dict[str, Any]:
    """The connect and read timeouts of polars' object_store client, from the config.

    Example:
        >>> from glacier.settings import AwsConfig
        >>> timeouts(AwsConfig(region="us-east-1", read_timeout=2.5))["read_timeout"]
        '2500ms'
    """
    return {
        "connect_timeout": f"{round(config.connect_timeout * 1000)}ms",
        "read_timeout": f"{round(config.read_timeout * 1000)}ms",
        "max_retries": config.max_attempts - 1,
    }


def delta_timeouts(config: Any) -> dict[str, str]:
    """The timeouts of delta-rs' object_store client, from the config. Its client has no
    read timeout (it accepts the key and ignores it), only one for a whole request: twice
    the read timeout, so that a part of a large upload has time to go out; and a budget
    after which no retry starts (``max_attempts - 1`` whole requests), so that a silent
    endpoint fails in about ``max_attempts * 2 * read_timeout``."""
    # No max_retries: delta-rs takes it as a string and polars (which reads the same
    # options in scan_delta) only as a number; the retry budget bounds the retries anyway.
    request = config.read_timeout * 2
    return {
        "connect_timeout": f"{round(config.connect_timeout * 1000)}ms",
        "timeout": f"{round(request * 1000)}ms",
        "retry_timeout": f"{round(request * (config.max_attempts - 1) * 1000)}ms",
    }


def _s3_native(config: AwsConfig) -> NativeAccess:
    options: dict[str, Any] = {"aws_region": config.region, **timeouts(config)}
    if config.endpoint_url:
        options["aws_endpoint_url"] = config.endpoint_url
        options["aws_allow_http"] = str(config.endpoint_url.startswith("http://")).lower()
    provider: Any = "auto"
    profile = aws_profile(config)
    session = data_role_credentials(config)
    if session is not None:
        options["aws_access_key_id"] = session.access_key
        options["aws_secret_access_key"] = session.secret_key
        options["aws_session_token"] = session.token
        provider = None
    elif profile:
        import polars as pl

        provider = pl.CredentialProviderAWS(profile_name=profile, region_name=config.region)
    return NativeAccess(options, provider)


def _gcs_emulated(config: GcpConfig) -> bool:
    """Whether GCS requests go to a custom endpoint: the config's, or the emulator gcsfs and
    Google's clients find in ``STORAGE_EMULATOR_HOST`` (which polars' own client ignores)."""
    return config.endpoint_url is not None or bool(os.environ.get("STORAGE_EMULATOR_HOST"))


def _gcs_native(config: GcpConfig) -> NativeAccess | None:
    # polars' gs:// reader needs ETag and Last-Modified headers, which the storage emulator
    # does not send; against any custom endpoint Glacier reads through gcsfs instead.
    if _gcs_emulated(config):
        return None
    # credentials: polars' "auto" provider, i.e. google.auth defaults
    return NativeAccess(timeouts(config))


def parse_connection_string(value: str) -> dict[str, str]:
    """``Key=Value;...`` pairs of an Azure storage connection string.

    Example:
        >>> parse_connection_string("AccountName=dev;BlobEndpoint=http://h/dev;")["AccountName"]
        'dev'
    """
    pairs = (part.split("=", 1) for part in value.split(";") if "=" in part)
    return {key.strip(): val.strip() for key, val in pairs}


def _azure_blob_endpoint(config: AzureConfig) -> str | None:
    if config.endpoint_url:
        return config.endpoint_url
    parts = parse_connection_string(os.environ.get(AZURE_CONNECTION_STRING_ENV, ""))
    return parts.get("BlobEndpoint")


def _azure_native(config: AzureConfig) -> NativeAccess:
    parts = parse_connection_string(os.environ.get(AZURE_CONNECTION_STRING_ENV, ""))
    account = parts.get("AccountName") or config.storage_account
    options: dict[str, Any] = {"account_name": account} if account else {}
    options.update(timeouts(config))
    # The connection string is already in this process' environment; handing its key to
    # polars keeps it in memory only, like adlfs does.
    if "AccountKey" in parts:
        options["account_key"] = parts["AccountKey"]
    if "SharedAccessSignature" in parts:
        options["sas_token"] = parts["SharedAccessSignature"]
    endpoint = _azure_blob_endpoint(config)
    if endpoint:
        options["azure_endpoint"] = endpoint
        options["azure_allow_http"] = str(endpoint.startswith("http://")).lower()
    keyed = "account_key" in options or "sas_token" in options
    return NativeAccess(options, None if keyed else "auto")


def _s3_delta(config: AwsConfig) -> dict[str, str]:
    # delta-rs takes the upper-case object_store keys; credentials come from the same AWS
    # chain as everywhere else (environment, profile, instance role), never from code.
    options = {"AWS_REGION": config.region, **delta_timeouts(config)}
    # An endpoint may also come from the process's environment (a deployed task rehearsed on
    # an emulator gets AWS_ENDPOINT_URL, as the AWS SDKs read it): plain HTTP must be allowed.
    endpoint = (
        config.endpoint_url
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
    )
    if endpoint:
        options["AWS_ENDPOINT_URL"] = endpoint
        options["AWS_ALLOW_HTTP"] = str(endpoint.startswith("http://")).lower()
    session = data_role_credentials(config)
    if session is not None:
        options["AWS_ACCESS_KEY_ID"] = session.access_key
        options["AWS_SECRET_ACCESS_KEY"] = session.secret_key
        options["AWS_SESSION_TOKEN"] = session.token
    elif config.profile:
        options["AWS_PROFILE"] = config.profile
    return options


def _gcs_delta(config: GcpConfig) -> dict[str, str] | None:
    # delta-rs lists a GCS bucket through the XML API, which gcp-storage-emulator does not
    # implement ("Method not implemented: GET - /<bucket>"): emulators take the fallback.
    return None if _gcs_emulated(config) else delta_timeouts(config)


#: The account of Azurite (and Azure's other emulators): its well-known development account.
AZURITE_ACCOUNT = "devstoreaccount1"


def _azure_delta(config: AzureConfig) -> dict[str, str]:
    native = _azure_native(config).storage_options or {}
    options = {k: str(v) for k, v in native.items() if k not in timeouts(config)}
    options.update(delta_timeouts(config))
    endpoint = options.get("azure_endpoint", "")
    if options.get("account_name") == AZURITE_ACCOUNT and endpoint.startswith("http://"):
        # delta-rs' Azure client reads the log of a table at a custom endpoint from the wrong
        # path ("Invalid table version"); in emulator mode it works, but takes the emulator's
        # address only from this variable (read by delta-rs in this process).
        os.environ["AZURITE_BLOB_STORAGE_URL"] = endpoint.rsplit(f"/{AZURITE_ACCOUNT}", 1)[0]
        del options["azure_endpoint"]
        options.pop("azure_allow_http", None)
        options.update(azure_storage_use_emulator="true", allow_http="true")
    return options


def _bucket_is_root(config: ProviderConfig, bucket: str) -> str:
    return bucket


#: The stores Glacier knows, keyed by fsspec protocol.
STORES: Mapping[str, Store] = {
    "file": Store(
        protocol="file",
        bucket_root=_local_root,
        native=lambda config: NativeAccess(),
        renames=True,
        bucket_policy=_local_bucket_policy,
        native_full_reads=True,
        delta=lambda config: {},
        confine=confine_to_base,
    ),
    "memory": Store(
        protocol="memory",
        bucket_root=lambda config, bucket: f"/{bucket}",
        native=lambda config: None,
        renames=True,
        bucket_policy=lambda config: "create",
    ),
    "s3": Store(
        protocol="s3",
        bucket_root=_bucket_is_root,
        native=_s3_native,
        renames=False,
        endpoint=lambda config: config.endpoint_url,
        delta=_s3_delta,
    ),
    "gcs": Store(
        protocol="gcs",
        bucket_root=_bucket_is_root,
        native=_gcs_native,
        renames=False,
        endpoint=lambda config: config.endpoint_url,
        delta=_gcs_delta,
    ),
    "abfs": Store(
        protocol="abfs",
        bucket_root=_bucket_is_root,
        native=_azure_native,
        renames=False,
        endpoint=_azure_blob_endpoint,
        delta=_azure_delta,
        delta_scheme="az",
    ),
}


def store_for(filesystem: AbstractFileSystem) -> Store:
    """The :class:`Store` row of an fsspec filesystem, found by its protocol.

    Example:
        >>> from fsspec.implementations.memory import MemoryFileSystem
        >>> store_for(MemoryFileSystem()).scheme
        'memory'
    """
    protocols = filesystem.protocol
    for name in (protocols,) if isinstance(protocols, str) else protocols:
        scheme = scheme_named(name)
        if scheme is not None and scheme.protocol in STORES:
            return STORES[scheme.protocol]
    known = ", ".join(sorted(STORES))
    raise ConfigError(
        f"Glacier has no storage table entry for the fsspec protocol {protocols!r} "
        f"({type(filesystem).__name__}); known protocols: {known}."
    )


def check_endpoint(url: str, timeout: float = 3.0) -> None:
    """Raise :class:`EndpointUnreachableError` if nothing accepts connections at ``url``.

    One TCP connect: the cloud SDKs retry a refused connection with backoff for 10 to 80
    seconds before failing, which hides a stopped emulator behind a long hang.
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "localhost", port), timeout=timeout).close()
    except OSError as exc:
        raise EndpointUnreachableError(
            f"Nothing answers at {url} ({exc.strerror or exc}). Start the emulator or service "
            f"there, or fix endpoint_url in the provider config."
        ) from exc
