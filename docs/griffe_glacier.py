"""A griffe extension for Glacier's API reference (mkdocs.yml loads it).

Glacier's docstrings cross-reference with Sphinx roles (``:class:`~glacier.Environment```),
which read well in ``help()`` and an IDE, and which mkdocstrings' Google-style parser leaves
as literal text. Rather than rewrite every docstring into one renderer's syntax, this
extension turns each role into inline code when the site is built: ``~glacier.Environment``
shows as ``Environment``, ``glacier.task`` as itself.

It also hides the ``**unknown`` catch-all of decorators such as ``Pipeline.task``: it exists
only to refuse a misspelt option with a GlacierError naming it, and is no option to document.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

#: ``:role:`target``` or ``:role:`~target```, the roles Glacier's docstrings use.
ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|const):`(~?)([^`]+)`")


def plain_roles(text: str) -> str:
    """Sphinx roles as inline code.

    >>> plain_roles("see :class:`~glacier.Environment` and :func:`glacier.task`")
    'see `Environment` and `glacier.task`'
    """

    def code(match: re.Match[str]) -> str:
        tilde, target = match.groups()
        shown = target.rsplit(".", 1)[-1] if tilde else target
        return f"`{shown}`"

    return ROLE.sub(code, text)


class GlacierDocs(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(obj.docstring.value)

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        hidden = [
            p.name
            for p in func.parameters
            if p.name == "unknown" and p.kind is griffe.ParameterKind.var_keyword
        ]
        for name in hidden:
            del func.parameters[name]
