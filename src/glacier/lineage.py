"""OpenLineage events of a run: a run hook that tells a lineage server what ran and what it
read and wrote.

Off by default. A settings file's ``[lineage]`` section (:class:`~glacier.settings.lineage.
LineageSettings`) or ``glacier run --lineage FILE|URL`` switches it on; in Python, pass
``hooks=[lineage_hook(...)]`` to ``pipeline.run``. Each run emits:

- for the pipeline, a ``START`` event when the run starts and ``COMPLETE`` (every task
  succeeded) or ``FAIL`` when it ends: the *parent* run, job name ``<pipeline>``;
- for each task that runs, ``START`` and then ``COMPLETE`` or ``FAIL`` (with the error in an
  ``errorMessage`` facet), job name ``<pipeline>.<task>``, a ``parent`` facet naming the
  pipeline's run, the datasets it reads as inputs and those it writes as outputs.

Run ids are UUIDs (OpenLineage requires them) derived from Glacier's run id and the task's
name, so a task's ``START`` and ``COMPLETE`` carry the same id wherever the task ran, and the
same Glacier run always maps to the same ids. Datasets are named as OpenLineage's naming
specification says (:func:`dataset_id`): ``s3://<bucket>`` + key, ``gs://<bucket>`` + key,
``abfss://<container>@<account>.dfs.core.windows.net`` + path, ``file`` + absolute path;
a dataset kept in memory between two tasks is ``glacier://<pipeline>`` + its name.

Hooks run where the run is watched (with Dask too: task events reach the client), so events
are emitted from this process. A lineage server that is down or slow never fails a run: the
event is logged as a warning on the ``glacier.lineage`` logger and the run goes on.

>>> dataset_id("s3://lake/sales/2024.parquet")
DatasetId(namespace='s3://lake', name='sales/2024.parquet')
>>> dataset_id("az://raw/orders/", account="acmedata")
DatasetId(namespace='abfss://raw@acmedata.dfs.core.windows.net', name='orders')
>>> dataset_id("file:///srv/data/clean.parquet")
DatasetId(namespace='file', name='/srv/data/clean.parquet')
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, uuid5

from glacier.extras import require
from glacier.redaction import redact, traceback_text
from glacier.result import FAILED, SUCCEEDED
from glacier.uris import parse_uri
from glacier.version import __version__

if TYPE_CHECKING:
    from glacier.dataset import Dataset
    from glacier.result import RunResult, TaskRun
    from glacier.settings.lineage import LineageSettings

__all__ = [
    "PRODUCER",
    "DatasetId",
    "LineageHook",
    "dataset_id",
    "lineage_hook",
    "settings_from_target",
    "state_directory",
    "with_lineage",
]

log = logging.getLogger(__name__)

#: The ``producer`` of every event: what made it, as OpenLineage asks (a URI).
PRODUCER = "https://pypi.org/project/glacier-pipelines/"

#: Job namespace when neither the settings nor the caller names one.
DEFAULT_NAMESPACE = "glacier"


@dataclass(frozen=True)
class DatasetId:
    """A dataset as OpenLineage names it: a namespace (where) and a name (what)."""

    namespace: str
    name: str


# OpenLineage's naming specification, one row per cloud of glacier.uris.SCHEMES:
# (bucket, account) -> namespace. The name is the key (the absolute path for local files).
_NAMESPACES: Mapping[str, Callable[[str, str | None], str]] = {
    "aws": lambda bucket, account: f"s3://{bucket}",
    "gcp": lambda bucket, account: f"gs://{bucket}",
    "azure": lambda bucket, account: (
        f"abfss://{bucket}"
        if "@" in bucket or not account
        else f"abfss://{bucket}@{account}.dfs.core.windows.net"
    ),
    "local": lambda bucket, account: "file",
    "memory": lambda bucket, account: f"memory://{bucket}",
}


def dataset_id(uri: str, *, account: str | None = None) -> DatasetId:
    """The OpenLineage namespace and name of the dataset stored at ``uri``.

    ``account`` is the Azure storage account (an ``az://container/path`` URI does not say it).
    A directory dataset (a table, a partitioned dataset) is named without its trailing ``/``.
    """
    parsed = parse_uri(uri)
    namespace = _NAMESPACES[parsed.scheme.cloud](parsed.bucket, account)
    name = parsed.key.rstrip("/") or parsed.key
    return DatasetId(namespace, name)


def _task_uuid(run_id: str, job: str) -> str:
    """The OpenLineage run id of ``job`` in Glacier run ``run_id``: the same on every call,
    in every process."""
    return str(uuid5(NAMESPACE_URL, f"{PRODUCER}runs/{run_id}/{job}"))


def _now() -> str:
    return datetime.now(UTC).isoformat()


class LineageHook:
    """Run hook emitting OpenLineage events through ``client`` (an ``OpenLineageClient``, or
    anything with ``emit(event)``).

    Args:
        client: Where events go.
        namespace: The jobs' namespace.
        pipeline: The pipeline being run; its DAG says which datasets each task reads and
            writes (without it, events carry no datasets).
        env: The run's environment (a run context; default: the pipeline's own): it resolves
            stored datasets to their URIs. Without one, and for datasets kept in memory,
            datasets are named in the ``glacier://<pipeline>`` namespace.
    """

    def __init__(
        self,
        client: Any,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        pipeline: Any = None,
        env: Any = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.pipeline = pipeline
        self.env = env if env is not None else getattr(pipeline, "env", None)
        self._ol = require("openlineage.client.event_v2", "lineage", "Lineage events")
        self._facets = require("openlineage.client.facet_v2", "lineage", "Lineage events")
        self._lock = threading.Lock()
        self._pipeline = ""
        self._run_id = ""
        self._parent: Any = None
        self._io: dict[str, tuple[list[DatasetId], list[DatasetId]]] = {}
        #: Each task's output datasets by name, in the order of its outputs' ids in ``_io``.
        self._output_names: dict[str, list[str]] = {}
        self._started: set[str] = set()
        #: An event could not be sent: the rest of this run's are dropped (and counted).
        self._broken = False
        self._dropped = 0

    # -- the hook methods ------------------------------------------------------------------

    def on_run_start(self, pipeline: str, run_id: str, tasks: list[str]) -> None:
        with self._lock:
            self._pipeline, self._run_id = pipeline, run_id
            self._io = self._datasets(pipeline, tasks)
            self._started = set()
            self._broken, self._dropped = False, 0
            job = self._job(pipeline, "PIPELINE")
            run = self._ol.Run(runId=_task_uuid(run_id, pipeline), facets=self._run_facets())
            self._parent = self._facets.parent_run.ParentRunFacet(
                run=self._facets.parent_run.Run(runId=run.runId),
                job=self._facets.parent_run.Job(namespace=self.namespace, name=pipeline),
                root=self._facets.parent_run.Root(
                    run=self._facets.parent_run.RootRun(runId=run.runId),
                    job=self._facets.parent_run.RootJob(namespace=self.namespace, name=pipeline),
                ),
                producer=PRODUCER,
            )
            self._emit(self._event("START", run, job))

    def on_task_start(self, run: TaskRun) -> None:
        with self._lock:
            if not self._run_id:
                return
            self._started.add(run.name)
            self._emit(self._task_event("START", run))

    def on_task_end(self, run: TaskRun) -> None:
        with self._lock:
            if not self._run_id or run.name not in self._started:
                return  # skipped: it never started, so it has no run to end
            state = "COMPLETE" if run.status == SUCCEEDED else "FAIL"
            self._emit(self._task_event(state, run))

    def on_run_end(self, result: RunResult) -> None:
        with self._lock:
            if not self._run_id:
                return
            facets = self._run_facets()
            failed = [r.name for r in result.tasks.values() if r.status == FAILED]
            if failed:
                facets["errorMessage"] = self._facets.error_message_run.ErrorMessageRunFacet(
                    message=f"failed tasks: {', '.join(failed)}",
                    programmingLanguage="python",
                    producer=PRODUCER,
                )
            run = self._ol.Run(runId=_task_uuid(self._run_id, self._pipeline), facets=facets)
            job = self._job(self._pipeline, "PIPELINE")
            self._emit(self._event("COMPLETE" if result.ok else "FAIL", run, job))
            if self._dropped:
                log.warning("lineage: %d events of run %s dropped", self._dropped, self._run_id)
            self._run_id = ""

    # -- events ----------------------------------------------------------------------------

    def _task_event(self, state: str, task_run: TaskRun) -> Any:
        name = f"{self._pipeline}.{task_run.name}"
        facets = self._run_facets()
        facets["parent"] = self._parent
        if state == "FAIL" and task_run.error is not None:
            error = task_run.error
            facets["errorMessage"] = self._facets.error_message_run.ErrorMessageRunFacet(
                message=redact(f"{type(error).__name__}: {error}"),
                programmingLanguage="python",
                stackTrace=traceback_text(error),
                producer=PRODUCER,
            )
        run = self._ol.Run(runId=_task_uuid(self._run_id, name), facets=facets)
        inputs, outputs = self._io.get(task_run.name, ([], []))
        return self._event(
            state,
            run,
            self._job(name, "TASK"),
            inputs=[self._ol.InputDataset(namespace=d.namespace, name=d.name) for d in inputs]
            + self._checked(task_run, outputs),
            outputs=self._outputs(task_run, outputs),
        )

    def _outputs(self, task_run: TaskRun, outputs: Sequence[DatasetId]) -> list[Any]:
        """The task's outputs; with the ``outputStatistics`` facet (``rowCount``) for those
        whose rows the run counted as it wrote them (see :mod:`glacier.row_counts`)."""
        rows = task_run.rows or {}
        names = self._output_names.get(task_run.name, [])
        out = []
        for name, d in zip(names, outputs, strict=False):
            count = rows.get(name)
            facets: dict[str, Any] = {}
            if count is not None:
                facets["outputStatistics"] = (
                    self._facets.output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                        rowCount=count, producer=PRODUCER
                    )
                )
            out.append(
                self._ol.OutputDataset(namespace=d.namespace, name=d.name, outputFacets=facets)
            )
        return out

    def _checked(self, task_run: TaskRun, outputs: Sequence[DatasetId]) -> list[Any]:
        """The task's outputs its data checks read back (see :mod:`glacier.checks`), as
        inputs with the ``dataQualityAssertions`` facet (an input facet in the spec)."""
        if not task_run.checks:
            return []
        from glacier.checks.report import by_dataset

        facet = self._facets.data_quality_assertions_dataset
        dag = getattr(self.pipeline, "dag", None)
        task = next((t for t in dag.tasks if t.name == task_run.name), None) if dag else None
        ids = dict(zip((ds.name for ds in task.outputs), outputs, strict=False)) if task else {}
        checked = []
        for dataset, assertions in by_dataset(task_run.checks).items():
            found = ids.get(dataset) or DatasetId(f"glacier://{self._pipeline}", dataset)
            quality = facet.DataQualityAssertionsDatasetFacet(
                assertions=[facet.Assertion(**a) for a in assertions], producer=PRODUCER
            )
            checked.append(
                self._ol.InputDataset(
                    namespace=found.namespace,
                    name=found.name,
                    inputFacets={"dataQualityAssertions": quality},
                )
            )
        return checked

    def _event(
        self,
        state: str,
        run: Any,
        job: Any,
        inputs: list[Any] | None = None,
        outputs: list[Any] | None = None,
    ) -> Any:
        return self._ol.RunEvent(
            eventType=self._ol.RunState[state],
            eventTime=_now(),
            run=run,
            job=job,
            inputs=inputs or [],
            outputs=outputs or [],
            producer=PRODUCER,
        )

    def _job(self, name: str, kind: str) -> Any:
        job_type = self._facets.job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="GLACIER", jobType=kind, producer=PRODUCER
        )
        return self._ol.Job(namespace=self.namespace, name=name, facets={"jobType": job_type})

    def _run_facets(self) -> dict[str, Any]:
        engine = self._facets.processing_engine_run.ProcessingEngineRunFacet(
            version=__version__, name="glacier", producer=PRODUCER
        )
        return {"processing_engine": engine}

    def _emit(self, event: Any) -> None:
        if self._broken:
            self._dropped += 1
            return
        try:
            self.client.emit(event)
        except Exception as exc:  # a lineage server never fails a run, nor stalls it
            self._broken = True
            log.warning(
                "lineage event %s of %s not sent: %s: %s; the run's further lineage events "
                "are dropped",
                event.eventType.value,
                event.job.name,
                type(exc).__name__,
                exc,
            )

    # -- datasets --------------------------------------------------------------------------

    def _datasets(
        self, pipeline: str, names: Sequence[str]
    ) -> dict[str, tuple[list[DatasetId], list[DatasetId]]]:
        dag = getattr(self.pipeline, "dag", None)
        if dag is None:
            return {}
        wanted = set(names)
        ids: dict[Dataset, DatasetId] = {}
        io: dict[str, tuple[list[DatasetId], list[DatasetId]]] = {}
        for task in dag.tasks:
            if task.name not in wanted:
                continue
            io[task.name] = (
                [self._dataset(ds, pipeline, ids) for ds in task.input_datasets],
                [self._dataset(ds, pipeline, ids) for ds in task.outputs],
            )
            self._output_names[task.name] = [ds.name for ds in task.outputs]
        return io

    def _dataset(self, ds: Dataset, pipeline: str, ids: dict[Dataset, DatasetId]) -> DatasetId:
        known = ids.get(ds)
        if known is not None:
            return known
        found = DatasetId(f"glacier://{pipeline}", ds.name)
        if ds.storage is not None and self.env is not None:
            try:
                # The runtime's bucket names the store as its adapter reaches it (a
                # filesystem swapped in for tests is memory://); the location the account.
                uri = self.env.bucket_for(ds).get_uri()
                found = dataset_id(uri, account=self.env.locate(ds).storage_account)
            except Exception as exc:  # lineage names what it can; it never stops a run
                log.warning("lineage: no URI for dataset %r: %s", ds.name, exc)
        ids[ds] = found
        return found


# -- building the hook -----------------------------------------------------------------------


def _client(transport: Any) -> Any:
    client_module = require("openlineage.client", "lineage", "Lineage events")
    return client_module.OpenLineageClient(transport=transport)


def lineage_hook(
    settings: LineageSettings,
    *,
    pipeline: Any = None,
    env: Any = None,
    state_dir: Path | None = None,
) -> LineageHook:
    """A :class:`LineageHook` sending events where ``settings`` say.

    A relative ``path`` of the ``file`` transport is under ``state_dir`` when given.
    """
    transports = require("openlineage.client.transport", "lineage", "Lineage events")
    if settings.transport == "file":
        path = Path(str(settings.path))
        if not path.is_absolute() and state_dir is not None:
            path = Path(state_dir) / path
        path.parent.mkdir(parents=True, exist_ok=True)
        file = require("openlineage.client.transport.file", "lineage", "Lineage events")
        transport = file.FileTransport(file.FileConfig(log_file_path=str(path), append=True))
    elif settings.transport == "http":
        transport = transports.HttpTransport(
            transports.HttpConfig(
                url=str(settings.url),
                endpoint=settings.endpoint,
                timeout=settings.timeout,
                retry={
                    "total": settings.retries,
                    "connect": settings.retries,
                    "read": settings.retries,
                    "backoff_factor": 0.1,
                    "status_forcelist": [500, 502, 503, 504],
                    "allowed_methods": ["POST"],
                },
            )
        )
    else:
        console = require("openlineage.client.transport.console", "lineage", "Lineage events")
        transport = console.ConsoleTransport(console.ConsoleConfig())
    namespace = settings.namespace or _default_namespace(env)
    return LineageHook(_client(transport), namespace=namespace, pipeline=pipeline, env=env)


def settings_from_target(target: str, namespace: str | None = None) -> LineageSettings:
    """The settings ``glacier run --lineage TARGET`` means: an ``http(s)://`` URL is a
    lineage server, anything else a file events are appended to.

    >>> settings_from_target("http://marquez:5000").transport
    'http'
    >>> settings_from_target("runs/lineage.ndjson").path
    PosixPath('runs/lineage.ndjson')
    """
    from glacier.settings.lineage import LineageSettings

    if target.startswith(("http://", "https://")):
        return LineageSettings(transport="http", url=target, namespace=namespace)
    return LineageSettings(transport="file", path=Path(target), namespace=namespace)


def with_lineage(hooks: Sequence[object], pipeline: Any, env: Any) -> list[object]:
    """``hooks``, plus a :class:`LineageHook` when ``env``'s settings switch lineage on and
    no lineage hook is among them already (``--lineage`` gave one)."""
    settings = getattr(getattr(env, "settings", None), "lineage", None)
    if settings is None or not settings.enabled or any(isinstance(h, LineageHook) for h in hooks):
        return list(hooks)
    hook = lineage_hook(settings, pipeline=pipeline, env=env, state_dir=state_directory(env))
    return [*hooks, hook]


def state_directory(env: Any) -> Path | None:
    """The project's state directory of ``env`` (where a relative lineage file goes)."""
    try:
        return Path(env.container.state_dir())
    except Exception:  # a run context without a container: the settings' own, if any
        state_dir = getattr(getattr(env, "settings", None), "state_dir", None)
        return None if state_dir is None else Path(state_dir)


def _default_namespace(env: Any) -> str:
    name = getattr(env, "name", None)
    return f"{DEFAULT_NAMESPACE}/{name}" if name else DEFAULT_NAMESPACE
