"""Baked settings: a deployed task's settings, validated once at plan time, built at start.

A deployed task has no settings file: the plan validates its environment's settings and
bakes them into ``GLACIER_SETTINGS`` (JSON, see :func:`~glacier.settings.environment.bake_settings`)
with their digest in ``GLACIER_SETTINGS_DIGEST``. At a cold start, when the digest still
matches and no ``GLACIER_<field>`` variable or argument refines them,
:meth:`GlacierSettings.load <glacier.settings.GlacierSettings.load>` builds the settings
objects from that JSON directly (pydantic's ``model_construct``, guided by the models' field
types): neither pydantic-settings' sources nor pydantic's validators run, so no validator of
a settings model is built at start (they are deferred, ``defer_build``). The objects are
equal to those validation makes (``tests/test_settings_baked.py``).

What validation would have refused cannot slip through an edit: a ``GLACIER_SETTINGS``
changed after the plan no longer matches its digest and is refused, naming both variables.
The digest detects edits, not malice (whoever can change a function's variables can change
its code). Without a digest (a variable set by hand, or an older deployment) the settings are
validated as before.

Example:
    >>> from glacier.settings import LocalConfig
    >>> construct(LocalConfig, {"kind": "local", "base_path": "/data"}) == LocalConfig(
    ...     base_path="/data")
    True
    >>> len(settings_digest('{"env":"prod"}'))
    64
"""

from __future__ import annotations

import hashlib
import os
import types
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

from glacier import env_vars
from glacier.errors import ConfigError

__all__ = [
    "DIGEST_VARIABLE",
    "Unconstructible",
    "check_digest",
    "construct",
    "refining_variables",
    "settings_digest",
]

#: The variable holding the digest of ``GLACIER_SETTINGS`` as the plan validated it.
DIGEST_VARIABLE = env_vars.GLACIER_SETTINGS_DIGEST

_M = TypeVar("_M", bound=BaseModel)
_PREFIX = "GLACIER_"
_SCALARS = (str, int, bool)


class Unconstructible(Exception):
    """A field type :func:`construct` does not build without validation (then validate)."""


def settings_digest(baked: str) -> str:
    """The digest baked beside ``GLACIER_SETTINGS``: SHA-256 of its exact text, in hex."""
    return hashlib.sha256(baked.encode()).hexdigest()


def check_digest(baked: str) -> bool:
    """Whether ``baked`` (the text of ``GLACIER_SETTINGS``) comes with its digest: True when
    ``GLACIER_SETTINGS_DIGEST`` matches it, False when there is none (validate it then).

    Raises:
        ConfigError: The digest does not match: the variable was changed after the plan.
    """
    digest = os.environ.get(DIGEST_VARIABLE)
    if not digest:
        return False
    if digest.strip().lower() != settings_digest(baked):
        raise ConfigError(
            f"{env_vars.GLACIER_SETTINGS} does not match {DIGEST_VARIABLE}: the settings were "
            "changed after the plan validated them. Change the settings file and regenerate "
            f"and redeploy the infrastructure (or remove {DIGEST_VARIABLE} to have the edited "
            "settings validated at every start)."
        )
    return True


def refining_variables(fields: Sequence[str]) -> list[str]:
    """The ``GLACIER_<field>`` variables set here (``GLACIER_ENV`` aside, which only selects
    the environment): settings that refine the baked ones, so they must go through
    pydantic-settings' sources as on any other machine."""
    names = {name.lower() for name in fields} - {"env"}
    found = []
    for variable in os.environ:
        upper = variable.upper()
        if upper.startswith(_PREFIX) and upper[len(_PREFIX) :].split("__")[0].lower() in names:
            found.append(variable)
    return sorted(found)


def construct(cls: type[_M], data: Mapping[str, Any]) -> _M:
    """``cls`` built from ``data`` (a validated model's JSON dump) without validating.

    Each value is converted as the field's type says (nested models, the member of a union
    of models its ``kind`` names, dicts, lists, tuples, paths); the fields given are the
    fields set, as validation would record them.

    Raises:
        Unconstructible: A field's type is one this function does not convert.
    """
    fields = cls.model_fields
    values: dict[str, Any] = {}
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            raise Unconstructible(f"{cls.__name__} has no field {key!r}")
        values[key] = _convert(field.annotation, value)
    given = set(values)
    for name, field in fields.items():
        # A class as default factory (dict, list, a model) is called here: pydantic would
        # first read its signature, which for a builtin means tokenizing its text signature;
        # a model's defaults are built as the rest, without validation.
        factory = field.default_factory
        if name not in values and isinstance(factory, type):
            values[name] = (
                factory.model_construct() if issubclass(factory, BaseModel) else factory()
            )
    return cls.model_construct(_fields_set=given, **values)


def _convert(tp: Any, value: Any) -> Any:
    origin = get_origin(tp)
    if origin is Annotated:
        return _convert(get_args(tp)[0], value)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        return _convert_union(get_args(tp), value)
    if value is None:
        raise Unconstructible(f"None for {tp!r}")
    if origin is Literal:
        if value not in get_args(tp):
            raise Unconstructible(f"{value!r} is not one of {get_args(tp)}")
        return value
    if origin in (dict, Mapping) and isinstance(value, Mapping):
        key_type, item_type = get_args(tp)
        return {_convert(key_type, k): _convert(item_type, v) for k, v in value.items()}
    if origin in (list, tuple, Sequence, frozenset) and isinstance(value, list):
        args = get_args(tp)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise Unconstructible(f"fixed-length tuple {tp!r}")
        items = [_convert(args[0], item) for item in value]
        return list(items) if origin in (list, Sequence) else origin(items)
    if isinstance(tp, type):
        if issubclass(tp, BaseModel) and isinstance(value, Mapping):
            return construct(tp, value)
        if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if issubclass(tp, PurePath) and isinstance(value, str):
            return tp(value)
        if tp in _SCALARS and type(value) is tp:
            return value
    raise Unconstructible(f"{value!r} as {tp!r}")


def _convert_union(members: tuple[Any, ...], value: Any) -> Any:
    if value is None:
        if type(None) in members:
            return None
        raise Unconstructible(f"None for {members!r}")
    options = [m for m in members if m is not type(None)]
    if len(options) == 1:
        return _convert(options[0], value)
    # A union of models told apart by their `kind` literal (ProviderConfig).
    kind = value.get("kind") if isinstance(value, Mapping) else None
    for member in options:
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            raise Unconstructible(f"union {members!r}")
        field = member.model_fields.get("kind")
        if field is not None and kind in get_args(field.annotation):
            return construct(member, value)
    raise Unconstructible(f"no member of {members!r} has kind {kind!r}")
