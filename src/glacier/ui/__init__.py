"""``glacier ui`` and self-contained HTML reports: see the pipeline and its runs.

A local, read-only web page over the run store and the pipeline: the DAG coloured by the last
run, task and dataset panels, runs filtered by pipeline and status, a run's timeline (one bar
per attempt), logs and errors, and per environment the plan. ``--html`` writes the same page
as one file with everything inlined.

- :mod:`glacier.ui.model`: the page's data, plain JSON-able dicts;
- :mod:`glacier.ui.api`: the questions the page asks (``/api/...``) and their answers;
- :mod:`glacier.ui.page`: the HTML template, with the vendored layout library (dagre);
- :mod:`glacier.ui.server`: the standard library's HTTP server around them;
- :mod:`glacier.ui.reports`: a run's or a pipeline's page, written to one file.
"""

from __future__ import annotations

from glacier.ui.api import Api, NotFound
from glacier.ui.reports import graph_report, run_report, write_report
from glacier.ui.server import UiServer

__all__ = ["Api", "NotFound", "UiServer", "graph_report", "run_report", "write_report"]
