"""The conditions of grants, parsed and evaluated: GCP's IAM Conditions (a CEL subset) and
Azure's ABAC conditions (a subset of its condition language).

Only the forms Glacier's builders write are understood; anything else is refused, naming the
part that is not, so a rehearsal never guesses what a condition means:

- **CEL** (GCP): ``resource.name.startsWith("...")``, ``resource.name == "..."``,
  ``resource.type == "..."`` (and ``!=``), combined with ``&&``, ``||``, ``!`` and
  parentheses.
- **ABAC** (Azure): ``ActionMatches{'...'}``, ``SubOperationMatches{'...'}``,
  ``@Resource[...blobs:path]`` and ``@Request[...blobs:prefix]`` compared with
  ``StringStartsWith`` or ``StringEquals``, combined with ``AND``, ``OR``, ``!``/``NOT`` and
  parentheses.

A condition is evaluated against the attributes of one request (a mapping: ``resource.name``,
``resource.type`` on GCP; ``action``, ``suboperation``, ``path``, ``prefix`` on Azure). An
attribute the request does not have (a blob's path when listing) makes a comparison false, as
both clouds do.

Example:
    >>> c = parse_cel('resource.name.startsWith("projects/_/buckets/b/objects/sales/")')
    >>> c.holds({"resource.name": "projects/_/buckets/b/objects/sales/x.parquet"})
    True
    >>> c.holds({"resource.name": "projects/_/buckets/b/objects/sales2/x.parquet"})
    False
    >>> a = parse_abac("@Request[Microsoft.Storage/storageAccounts/blobServices/containers/"
    ...                "blobs:prefix] StringStartsWith 'sales/'")
    >>> a.holds({"prefix": "sales/2024"}), a.holds({"path": "sales/x"})
    (True, False)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from glacier.errors import InfraError

__all__ = ["Condition", "parse_abac", "parse_cel"]

#: A request's attributes, by the name a condition uses.
Attributes = Mapping[str, str]


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its text and how it decides."""

    text: str
    test: Callable[[Attributes], bool]

    def holds(self, attributes: Attributes) -> bool:
        """Whether the condition is true for a request with ``attributes``."""
        return self.test(attributes)


class _Tokens:
    def __init__(self, text: str, pattern: re.Pattern[str], grammar: str) -> None:
        self.text = text
        self.grammar = grammar
        self.items: list[str] = []
        position = 0
        while position < len(text):
            match = pattern.match(text, position)
            if match is None:
                self.fail(f"cannot read {text[position : position + 30]!r}")
            assert match is not None
            if match.group().strip():
                self.items.append(match.group().strip())
            position = match.end()
        self.index = 0

    def peek(self) -> str | None:
        return self.items[self.index] if self.index < len(self.items) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            self.fail(f"expected {expected or 'more'} but found {token or 'the end'}")
        assert token is not None
        self.index += 1
        return token

    def fail(self, what: str) -> None:
        raise InfraError(
            f"The condition {self.text!r} is outside the {self.grammar} a rehearsal evaluates "
            f"({what}); Glacier's builders write only that subset (see docs/deploy.md, "
            "'Rehearsing on GCP and Azure')."
        )


def _unquote(token: str) -> str:
    return token[1:-1].replace('\\"', '"').replace("\\'", "'")


# -- CEL (GCP IAM Conditions) ---------------------------------------------------------------

_CEL = re.compile(
    r"""\s+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|&&|\|\||==|!=|!|\(|\)|[A-Za-z_][A-Za-z0-9_.]*"""
)
_CEL_ATTRIBUTES = ("resource.name", "resource.type")


def parse_cel(text: str) -> Condition:
    """Parse a GCP IAM Condition expression of the subset Glacier writes (module docs)."""
    tokens = _Tokens(text, _CEL, "CEL subset (resource.name/resource.type, &&, ||, !)")
    test = _cel_or(tokens)
    if tokens.peek() is not None:
        tokens.fail(f"unexpected {tokens.peek()!r}")
    return Condition(text, test)


def _cel_or(tokens: _Tokens) -> Callable[[Attributes], bool]:
    parts = [_cel_and(tokens)]
    while tokens.peek() == "||":
        tokens.take()
        parts.append(_cel_and(tokens))
    return parts[0] if len(parts) == 1 else lambda a: any(p(a) for p in parts)


def _cel_and(tokens: _Tokens) -> Callable[[Attributes], bool]:
    parts = [_cel_unary(tokens)]
    while tokens.peek() == "&&":
        tokens.take()
        parts.append(_cel_unary(tokens))
    return parts[0] if len(parts) == 1 else lambda a: all(p(a) for p in parts)


def _cel_unary(tokens: _Tokens) -> Callable[[Attributes], bool]:
    token = tokens.peek()
    if token == "!":
        tokens.take()
        inner = _cel_unary(tokens)
        return lambda a: not inner(a)
    if token == "(":
        tokens.take()
        inner = _cel_or(tokens)
        tokens.take(")")
        return inner
    word = tokens.take()
    if word.endswith(".startsWith") and word.removesuffix(".startsWith") in _CEL_ATTRIBUTES:
        attribute = word.removesuffix(".startsWith")
        tokens.take("(")
        prefix = _cel_string(tokens)
        tokens.take(")")
        return lambda a: a.get(attribute) is not None and a[attribute].startswith(prefix)
    if word in _CEL_ATTRIBUTES:
        operator = tokens.take()
        if operator not in ("==", "!="):
            tokens.fail(f"{operator!r} after {word}")
        value = _cel_string(tokens)
        if operator == "==":
            return lambda a: a.get(word) == value
        return lambda a: a.get(word) is not None and a[word] != value
    tokens.fail(f"{word!r} is not resource.name or resource.type")
    raise AssertionError  # unreachable: fail raises


def _cel_string(tokens: _Tokens) -> str:
    token = tokens.take()
    if token[:1] not in ('"', "'"):
        tokens.fail(f"{token!r} is not a string")
    return _unquote(token)


# -- ABAC (Azure role assignment conditions) ------------------------------------------------

_ABAC = re.compile(
    r"\s+|'(?:[^'\\]|\\.)*'|@(?:Resource|Request)\[[^\]]*\]|[{}(),!]|[A-Za-z][A-Za-z0-9_.]*"
)
_BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
_ABAC_ATTRIBUTES = {
    f"@Resource[{_BLOBS}:path]": "path",
    f"@Request[{_BLOBS}:prefix]": "prefix",
}
_ABAC_OPERATORS: Mapping[str, Callable[[str, str], bool]] = {
    "StringStartsWith": str.startswith,
    "StringEquals": str.__eq__,
    "StringNotEquals": str.__ne__,
}


def parse_abac(text: str) -> Condition:
    """Parse an Azure ABAC condition of the subset Glacier writes (module docs)."""
    tokens = _Tokens(text, _ABAC, "ABAC subset (ActionMatches, blob path/prefix, AND, OR, !)")
    test = _abac_or(tokens)
    if tokens.peek() is not None:
        tokens.fail(f"unexpected {tokens.peek()!r}")
    return Condition(text, test)


def _abac_or(tokens: _Tokens) -> Callable[[Attributes], bool]:
    parts = [_abac_and(tokens)]
    while tokens.peek() == "OR":
        tokens.take()
        parts.append(_abac_and(tokens))
    return parts[0] if len(parts) == 1 else lambda a: any(p(a) for p in parts)


def _abac_and(tokens: _Tokens) -> Callable[[Attributes], bool]:
    parts = [_abac_unary(tokens)]
    while tokens.peek() == "AND":
        tokens.take()
        parts.append(_abac_unary(tokens))
    return parts[0] if len(parts) == 1 else lambda a: all(p(a) for p in parts)


def _abac_unary(tokens: _Tokens) -> Callable[[Attributes], bool]:
    token = tokens.peek()
    if token in ("!", "NOT"):
        tokens.take()
        inner = _abac_unary(tokens)
        return lambda a: not inner(a)
    if token == "(":
        tokens.take()
        inner = _abac_or(tokens)
        tokens.take(")")
        return inner
    word = tokens.take()
    if word in ("ActionMatches", "SubOperationMatches"):
        key = "action" if word == "ActionMatches" else "suboperation"
        tokens.take("{")
        values = {_abac_string(tokens)}
        while tokens.peek() == ",":
            tokens.take()
            values.add(_abac_string(tokens))
        tokens.take("}")
        return lambda a: a.get(key) in values
    if word in _ABAC_ATTRIBUTES:
        attribute = _ABAC_ATTRIBUTES[word]
        operator = tokens.take()
        if operator not in _ABAC_OPERATORS:
            tokens.fail(f"the operator {operator!r}")
        compare = _ABAC_OPERATORS[operator]
        value = _abac_string(tokens)
        return lambda a: a.get(attribute) is not None and compare(a[attribute], value)
    tokens.fail(f"{word!r} is not ActionMatches, SubOperationMatches or a blob path/prefix")
    raise AssertionError  # unreachable: fail raises


def _abac_string(tokens: _Tokens) -> str:
    token = tokens.take()
    if not token.startswith("'"):
        tokens.fail(f"{token!r} is not a string")
    return _unquote(token)
