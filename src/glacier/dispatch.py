"""Where ``pipeline.run()`` finds the runner: the runner registers itself here.

The road of a run goes one way — command → runner → executor → task — and the runner
(:mod:`glacier.runner`) composes the pipeline, never the reverse: no graph module imports it.
``Pipeline.run`` and ``FlowPipeline.run`` stay the API users know, as thin functions that
hand the pipeline to the runner registered here. The runner registers itself when it is
imported; the package (``glacier/__init__.py``, the composition root, outside the layers) says
how to import it the first time a run needs it, so ``import glacier`` stays light.

>>> class Recording:
...     def run_pipeline(self, pipeline, mode, options): return ("ran", pipeline, mode)
...     def run_flow(self, flow, mode, options, *, args=()): return ("flowed", flow, mode)
...     def default_environment(self): return "env"
...     def environment_serving(self, pipeline): return None
...     def new_environment(self, provider, **kwargs): return "env"
...     def environment_state(self, env, *, deployed=None): return {}
...     def export_state(self, env, path, *, deployed=None): return path
>>> before = registered()
>>> register(Recording())
>>> runner().run_pipeline("p", "local", None)
('ran', 'p', 'local')
>>> register(before)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Runner", "load_with", "register", "registered", "runner"]


class Runner(Protocol):
    """What ``pipeline.run()`` hands a pipeline to (:mod:`glacier.runner` is one)."""

    def run_pipeline(self, pipeline: Any, mode: str, options: Any, /) -> Any:
        """Run a :class:`~glacier.Pipeline` in ``mode`` with ``options`` (a ``RunOptions``)."""
        ...

    def run_flow(self, flow: Any, mode: str, options: Any, /, *, args: Any = ()) -> Any:
        """Run an ``@env.pipeline()`` function in ``mode``; ``args`` go to its body."""
        ...

    def default_environment(self) -> Any:
        """The environment a pipeline without one runs in."""
        ...

    def environment_serving(self, pipeline: Any, /) -> Any:
        """The environment a pipeline without ``env=`` belongs to through its resources (a
        factory's ``Pipeline(name)`` over ``env.storage.s3(...)``), or ``None``."""
        ...

    def new_environment(self, provider: Any, /, **kwargs: Any) -> Any:
        """What ``provider.env(name=...)`` builds: an environment around ``provider``."""
        ...

    def environment_state(self, env: Any, /, *, deployed: bool | None = None) -> Any:
        """``env.get_state()``: the resources it declares, with the deployed stack's outputs."""
        ...

    def export_state(self, env: Any, path: Any, /, *, deployed: bool | None = None) -> Any:
        """``env.export_state(path)``: the state written to ``path`` as JSON."""
        ...


_registered: Runner | None = None
_loader: Callable[[], None] | None = None


def register(runner: Runner | None) -> None:
    """Make ``runner`` the one ``pipeline.run()`` uses (``None`` forgets it)."""
    global _registered
    _registered = runner


def registered() -> Runner | None:
    """The registered runner, if one is."""
    return _registered


def load_with(loader: Callable[[], None]) -> None:
    """How to get the default runner registered when a run needs one (importing it)."""
    global _loader
    _loader = loader


def runner() -> Runner:
    """The registered runner, loading the default one on first use.

    Raises:
        ConfigError: when no runner is registered and none can be loaded.
    """
    if _registered is None and _loader is not None:
        _loader()
    if _registered is None:
        # Here, not at import: the package imports this module (to say how to load the
        # runner), and importing it stays free for `import glacier` and the pytest plugin.
        from glacier.errors import ConfigError

        raise ConfigError(
            "No runner is registered to run pipelines: import glacier.runner (it registers "
            "itself), or call glacier.dispatch.register(...) with a runner of your own."
        )
    return _registered
