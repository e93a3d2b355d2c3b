"""The one HTML page, served by ``glacier ui`` or written as a self-contained report.

The page is a server-side template (:class:`string.Template`) holding the stylesheet, the
vendored layout library (dagre, MIT: ``static/dagre.LICENSE``), the page's script and the
data, all inline: a report needs nothing but the file. The data is JSON in a
``<script type="application/json">`` element with ``<``, ``>`` and ``&`` escaped, so no record
can close the element; the script then puts every value in the document as text.

The page's Content-Security-Policy allows exactly its own two scripts (by hash), inline
styles and ``data:`` images; a report may connect nowhere, a served page only to its server.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import cache
from importlib import resources
from string import Template
from typing import Any, Literal

from glacier.version import __version__

__all__ = ["STATIC_FILES", "content_security_policy", "embed_json", "render_page"]

#: The files the page inlines (in ``glacier/ui/static``), and the layout library's license.
STATIC_FILES = ("page.html", "style.css", "dagre.min.js", "dagre.LICENSE", "app.js")

_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


@cache
def _static(name: str) -> str:
    return resources.files("glacier.ui").joinpath("static", name).read_text(encoding="utf-8")


def embed_json(data: Any) -> str:
    """``data`` as JSON that is safe inside an HTML ``<script>`` element.

    Example:
        >>> print(embed_json({"name": "</script>"}))
        {"name": "\\u003c/script\\u003e"}
    """
    text = json.dumps(data, default=str, allow_nan=False)
    for raw, escaped in _ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def _sha256(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(mode: Literal["server", "report"]) -> str:
    """What the page may load: its own two scripts (by hash), inline styles, ``data:``
    images; connections to its server when served, none in a report."""
    dagre, app = _static("dagre.min.js"), _static("app.js")
    connect = "'self'" if mode == "server" else "'none'"
    return (
        f"default-src 'none'; script-src {_sha256(dagre)} {_sha256(app)}; "
        f"style-src 'unsafe-inline'; img-src data:; connect-src {connect}; "
        "base-uri 'none'; form-action 'none'"
    )


def render_page(
    title: str,
    data: dict[str, Any],
    *,
    mode: Literal["server", "report"],
) -> str:
    """The page with ``data`` (``start`` route, ``has`` sections, ``api`` answers) inline."""
    dagre, app = _static("dagre.min.js"), _static("app.js")
    for name, script in (("dagre.min.js", dagre), ("app.js", app)):
        if "</script" in script.lower():  # would end the element early
            raise RuntimeError(f"glacier/ui/static/{name} contains '</script'")
    page = Template(_static("page.html"))
    return page.substitute(
        title=html.escape(title),
        csp=content_security_policy(mode),
        version=html.escape(__version__),
        style=_static("style.css"),
        dagre=dagre,
        app=app,
        data=embed_json({**data, "mode": mode}),
    )
