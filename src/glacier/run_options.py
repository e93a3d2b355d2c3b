"""A run's options, as one frozen record passed down: command → runner → executor.

``pipeline.run(...)`` and ``glacier run`` collect what a run is asked to do into one
:class:`RunOptions`; the runner refines it (the selected tasks become ``targets``, lineage
joins the ``hooks``, ``resume`` becomes the record to resume from) and hands it to the
executor. Nothing below the user's call re-declares the twelve options.

>>> options = RunOptions.given(None, {"use_cache": False, "select": ["+clean"]})
>>> options.use_cache, options.select, options.targets
(False, ('+clean',), None)
>>> RunOptions.given(options, {"use_cache": True}).use_cache
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from glacier.errors import ConfigError

__all__ = ["RunOptions"]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What one run is asked to do (see :meth:`glacier.Pipeline.run` for each option).

    Args:
        targets: The tasks or datasets to produce (with what they need); ``None``: all.
        params: Run parameters, ``{"task.param": value}``.
        env: The run's context (an Environment); ``None``: the pipeline's, else the default.
        executor: An executor object or name; ``None``: the environment's.
        use_cache: Whether cached task results may be reused.
        raise_on_failure: Raise ``PipelineRunError`` when a task fails.
        hooks: Objects notified of the run's and each task's start and end.
        output_dir: Where ``mode="generate"`` writes the Pulumi project.
        environments: The environments ``mode="generate"`` writes stacks for.
        target: What ``mode="generate"`` writes: ``"pulumi"`` (a Pulumi project) or
            ``"terraform"`` (Terraform JSON, one directory per environment).
        resume: A run id or ``"last"`` to resume; the runner replaces it with that run's
            record before handing the options to the executor.
        select: dbt-style selectors of the tasks to run.
        exclude: dbt-style selectors of tasks to leave out.
    """

    targets: Sequence[Any] | None = None
    params: Mapping[str, Any] | None = None
    env: Any = None
    executor: Any = None
    use_cache: bool = True
    raise_on_failure: bool = True
    hooks: tuple[object, ...] = ()
    output_dir: str | Path | None = None
    environments: tuple[Any, ...] | None = None
    resume: str | Mapping[str, Any] | None = None
    select: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    target: str = "pulumi"

    def __post_init__(self) -> None:
        # Sequences given as lists become tuples: the record stays hashable-looking and
        # nobody downstream mutates the caller's list.
        for name in ("hooks", "environments", "select", "exclude"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                if isinstance(value, str) and name in ("select", "exclude"):
                    value = (value,)
                object.__setattr__(self, name, tuple(value))

    @classmethod
    def given(cls, options: RunOptions | None, keywords: Mapping[str, Any]) -> RunOptions:
        """``options`` (or the defaults) with the options named in ``keywords`` set.

        Raises:
            ConfigError: for a name that is not a run option.
        """
        unknown = sorted(set(keywords) - _NAMES)
        if unknown:
            raise ConfigError(
                f"Unknown run option(s) {unknown}; the options are {', '.join(sorted(_NAMES))}."
            )
        base = options if options is not None else cls()
        return replace(base, **keywords) if keywords else base

    def replace(self, **changes: Any) -> RunOptions:
        """A copy with ``changes`` (as :func:`dataclasses.replace`)."""
        return replace(self, **changes)


#: The names of the run options.
_NAMES = frozenset(f.name for f in fields(RunOptions))
