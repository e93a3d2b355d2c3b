"""Run a pipeline on a Dask distributed cluster, for work that outgrows one machine.

Tasks become Dask futures in dependency order; retries, timeouts, the cache and stored
dataset writes run inside each Dask task through the same code as the local executor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from glacier.errors import ConfigError
from glacier.executors.base import PreparedRun

if TYPE_CHECKING:
    from glacier.context import RunContext
    from glacier.pipeline import Pipeline
    from glacier.result import RunResult


class DaskExecutor:
    """Submits tasks to ``dask.distributed``.

    Args:
        address: Scheduler address (``tcp://host:8786``). ``None`` starts an in-process
            ``LocalCluster`` with threads for the duration of each run.
    """

    def __init__(self, address: str | None = None, n_workers: int = 2) -> None:
        if n_workers < 1:
            raise ConfigError(f"DaskExecutor: n_workers={n_workers} is invalid: use 1 or more.")
        self.address = address
        self.n_workers = n_workers

    def execute(
        self,
        pipeline: Pipeline,
        targets: Sequence[Any] | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        env: RunContext | None = None,
        use_cache: bool = True,
        hooks: Sequence[object] = (),
        resume: Mapping[str, Any] | None = None,
    ) -> RunResult:
        """Run the tasks ``targets`` need on the cluster and return the result."""
        try:
            from distributed import Client, LocalCluster  # type: ignore[attr-defined]
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "The Dask executor needs dask.distributed: pip install 'glacier[dask]'."
            ) from exc
        if env is None:
            env = pipeline.environment()
        run = PreparedRun(
            pipeline, env, targets, params, use_cache=use_cache, hooks=hooks, resume=resume
        )
        if self.address is None:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=self.n_workers, processes=False, dashboard_address=None
            )
            client = Client(cluster, set_as_default=False)  # type: ignore[no-untyped-call]
        else:
            cluster = None
            client = Client(self.address, set_as_default=False)  # type: ignore[no-untyped-call]
        try:
            # Dask serialises arguments, even in-process: each Dask task gets its own copy of
            # the run, so upstream outputs travel as results of upstream futures and the
            # records come back to this process, which owns the run.
            upstream: list[list[int]] = [[] for _ in range(len(run))]
            for u, downs in enumerate(run.downstream):
                for d in downs:
                    upstream[d].append(u)
            futures: list[Any] = []
            for i in range(len(run)):
                deps = [futures[u] for u in upstream[i]]
                key = f"{run.tasks[i].name}-{run.run_id}"
                futures.append(client.submit(_run_one, run, i, deps, key=key, pure=False))
            outcomes = client.gather(futures)  # type: ignore[no-untyped-call]
        finally:
            client.close()  # type: ignore[no-untyped-call]
            if cluster is not None:
                cluster.close()  # type: ignore[no-untyped-call]
        for i, ok, outputs, record in outcomes:
            if record is None:  # skipped: an upstream task failed
                continue
            run.table.set(i, record)
            run.outputs[i] = outputs
            if not ok:
                run.skip_downstream(i)
        return run.finish()


def _run_one(
    run: PreparedRun, i: int, deps: list[tuple[int, bool, Any, Any]]
) -> tuple[int, bool, Any, Any]:
    for u, ok, outputs, _ in deps:
        if not ok:
            return i, False, None, None
        run.outputs[u] = outputs
    ok = run.execute_task(i)
    return i, ok, run.outputs[i], run.table.record(i)
