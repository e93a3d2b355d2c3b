"""Where a run's OpenLineage events go: the ``[lineage]`` section of a settings file.

Lineage is off unless a transport is chosen. ``file`` appends one JSON event per line to
``path`` (relative paths are under the project's state directory); ``http`` posts each
event to ``url`` (an OpenLineage endpoint such as Marquez); ``console`` logs them through the
``openlineage`` logger. See :mod:`glacier.lineage` for the events themselves.

Example:
    A settings file's section::

        [lineage]
        transport = "http"
        url = "http://marquez:5000"
        namespace = "acme-prod"

    >>> LineageSettings(transport="file", path="lineage.ndjson").enabled
    True
    >>> LineageSettings().enabled
    False
    >>> LineageSettings(transport="http")
    Traceback (most recent call last):
    ...
    glacier.errors.ConfigError: LineageSettings: ... transport='http' needs url=...
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from glacier.settings.base import GlacierModel

__all__ = ["LineageSettings"]


class LineageSettings(GlacierModel):
    """OpenLineage events of every run (``transport = "none"``: off, the default).

    Args:
        transport: ``none``, ``file``, ``http`` or ``console``.
        path: With ``file``: the file events are appended to, one JSON object per line.
        url: With ``http``: the OpenLineage server (events go to ``url`` + ``endpoint``).
        endpoint: With ``http``: the server's path for events.
        timeout: With ``http``: seconds to wait for the server before giving the event up
            (a lineage server never fails or stalls a run for long).
        retries: With ``http``: extra tries of an event the server did not take (connection
            refused, 5xx), with a short backoff. Once an event is given up, the rest of that
            run's events are dropped too (one warning), so a server that is down costs a run
            one event's wait, not one per task.
        namespace: The jobs' OpenLineage namespace (default: ``glacier/<environment>``).
    """

    transport: Literal["none", "file", "http", "console"] = "none"
    path: Path | None = None
    url: str | None = None
    endpoint: str = "api/v1/lineage"
    timeout: Annotated[float, Field(gt=0)] = 5.0
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    namespace: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether runs emit lineage events."""
        return self.transport != "none"

    @model_validator(mode="after")
    def transport_has_its_target(self) -> Self:
        if self.transport == "file" and self.path is None:
            raise ValueError(
                "transport='file' needs path='lineage.ndjson' (the file events are appended to)."
            )
        if self.transport == "http" and not self.url:
            raise ValueError(
                "transport='http' needs url='http://host:port' (an "
                "OpenLineage endpoint, e.g. Marquez's)."
            )
        return self
