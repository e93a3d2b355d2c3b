"""The base every config model shares, and the one place pydantic errors become ConfigErrors.

A user never sees a ``pydantic.ValidationError``: construction failures are rewritten into a
:class:`~glacier.errors.ConfigError` whose message names the model, each bad field, the value
given and what is allowed::

    AwsConfig: account_id='123' is invalid: an AWS account id is exactly 12 digits
    (e.g. '123456789012').

Credentials are refused here too, before any field is looked at, so that no config class can
forget to refuse them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, Literal, NoReturn, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import ErrorDetails

from glacier.errors import ConfigError, CredentialsInCodeError

__all__ = [
    "CREDENTIAL_FIELDS",
    "GlacierModel",
    "InvalidValueError",
    "between",
    "refuse_secret_variables",
]

#: Argument names that can only carry a secret. Refused by every config, in any letter case.
CREDENTIAL_FIELDS: frozenset[str] = frozenset(
    {
        "access_key",
        "secret_key",
        "aws_access_key_id",
        "aws_secret_access_key",
        "session_token",
        "aws_session_token",
        "password",
        "client_secret",
        "account_key",
        "connection_string",
        "credentials",
        "token",
    }
)

Cloud = Literal["aws", "gcp", "azure"]

# Where each cloud's SDK finds credentials on its own. Kept short: the user reads it in a
# traceback and should know the next command to type.
_CREDENTIAL_HINTS: dict[str, str] = {
    "aws": (
        "AWS: use a named profile (profile='prod' or AWS_PROFILE), a role to assume "
        "(role_arn=... or AWS_ROLE_ARN) or the default credential chain (SSO, instance and "
        "task roles, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY set in the environment, "
        "which boto3 reads itself)"
    ),
    "gcp": (
        "GCP: use Application Default Credentials (`gcloud auth application-default login`, "
        "the workload's service account, or GOOGLE_APPLICATION_CREDENTIALS pointing to a key "
        "file kept out of the code)"
    ),
    "azure": (
        "Azure: use `az login`, a managed identity or the DefaultAzureCredential chain; for the "
        "Azurite emulator set the AZURE_STORAGE_CONNECTION_STRING env var instead of passing it"
    ),
}


def credentials_hint(cloud: Cloud | None) -> str:
    """Where credentials should come from, for ``cloud`` or (``None``) for every cloud."""
    if cloud is not None:
        return _CREDENTIAL_HINTS[cloud] + "."
    return "; ".join(_CREDENTIAL_HINTS.values()) + "."


def refuse_credentials(keys: Iterable[object], cloud: Cloud | None) -> None:
    """Raise :class:`CredentialsInCodeError` if any of ``keys`` names a credential.

    Only the key is reported, never its value: the message ends up in logs.
    """
    found = sorted(k for k in keys if isinstance(k, str) and k.lower() in CREDENTIAL_FIELDS)
    if found:
        raise CredentialsInCodeError(
            f"credentials are never accepted in code or settings files (got {', '.join(found)}). "
            f"{credentials_hint(cloud)}"
        )


#: Words that mark an environment variable as holding a secret (``DB_PASSWORD``,
#: ``STRIPE_API_KEY``): its value would be readable by anyone who can read the function's
#: configuration, so such variables are refused, not only the exact names above.
SECRET_WORDS: tuple[str, ...] = (
    "PASSWORD",
    "PASSWD",
    "PWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "ACCOUNT_KEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "CONNECTION_STRING",
)


def refuse_secret_variables(keys: Iterable[object], cloud: Cloud | None) -> None:
    """Raise :class:`CredentialsInCodeError` if a variable name says it holds a secret.

    A name is split at ``_``; it is refused when a run of its words is one of
    :data:`SECRET_WORDS` (``DB_PASSWORD``, ``github_token``), so ``TOKENIZER`` passes.

    Example:
        >>> refuse_secret_variables(["LOG_LEVEL", "TOKENIZER"], "aws")
        >>> refuse_secret_variables(["DB_PASSWORD"], "aws")
        Traceback (most recent call last):
        ...
        glacier.errors.CredentialsInCodeError: environment variable(s) DB_PASSWORD ...
    """
    refuse_credentials(keys, cloud)
    found = sorted(k for k in keys if isinstance(k, str) and names_secret(k))
    if found:
        raise CredentialsInCodeError(
            f"environment variable(s) {', '.join(found)} would hold a secret in the deployed "
            "configuration, readable by anyone who can read it; read the secret at run time "
            f"from a secret store (AWS Secrets Manager, SSM Parameter Store) instead. "
            f"{credentials_hint(cloud)}"
        )


def names_secret(key: str) -> bool:
    """Whether a variable called ``key`` says it holds a secret (``DB_PASSWORD``; not
    ``TOKENIZER``)."""
    words = [w for w in key.upper().split("_") if w]
    return any(
        "_".join(words[i:j]) in SECRET_WORDS
        for i in range(len(words))
        for j in range(i + 1, min(i + 3, len(words)) + 1)
    )


class InvalidValueError(ConfigError):
    """A single value broke a rule; ``rule`` says what is allowed.

    Raised by the name validators (:func:`~glacier.settings.names.validate_s3_bucket_name`,
    ...). Inside a model the rule is reported against the field that held the value.

    Example:
        >>> err = InvalidValueError("S3 bucket name", "My_Bucket", "use lowercase letters")
        >>> str(err)
        "S3 bucket name 'My_Bucket' is invalid: use lowercase letters."
    """

    def __init__(self, what: str, value: object, rule: str) -> None:
        self.what = what
        self.value = value
        self.rule = rule
        super().__init__(f"{what} {value!r} is invalid: {_sentence(rule)}")


def close_matches(value: object, choices: Iterable[str], n: int = 3) -> list[str]:
    """The choices most similar to ``value`` (ties included, up to ``n``), sorted.

    Only matches similar enough to be a plausible typo are returned.
    """
    if not isinstance(value, str):
        return []
    matcher = difflib.SequenceMatcher(b=value)
    scores: dict[str, float] = {}
    for choice in choices:
        matcher.set_seq1(choice)
        scores[choice] = matcher.ratio()
    best = max(scores.values(), default=0.0)
    if best < 0.6:
        return []
    return sorted(choice for choice, score in scores.items() if score == best)[:n]


def closest(value: object, choices: Iterable[str]) -> str | None:
    """The choice most similar to ``value``, if any is similar enough to suggest."""
    matches = close_matches(value, choices, n=1)
    return matches[0] if matches else None


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` or the empty string."""
    match = closest(value, choices)
    return f"; did you mean {match!r}?" if match else ""


def between(low: float, high: float, unit: str = "") -> AfterValidator:
    """A validator for ``low <= value <= high`` whose error states the whole allowed range.

    Pydantic's own ``ge``/``le`` report one bound at a time; a user fixing a value wants both.

    Example:
        >>> from typing import Annotated
        >>> Memory = Annotated[int, between(128, 10240, "MB (the AWS Lambda limit)")]
    """
    suffix = f" {unit}" if unit else ""

    def check(value: float) -> float:
        if not low <= value <= high:
            raise ValueError(f"allowed range is {low:g} to {high:g}{suffix}")
        return value

    return AfterValidator(check)


def freeze(value: Any) -> Any:
    """A hashable stand-in for ``value`` (dicts and lists become frozensets and tuples)."""
    if isinstance(value, Mapping):
        return frozenset((k, freeze(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(freeze(v) for v in value)
    return value


class GlacierModel(BaseModel):
    """Base of every Glacier config: frozen, hashable, strict about names, friendly on error.

    Subclasses declare fields as usual. On top of pydantic they get:

    - unknown fields refused with the closest valid name suggested;
    - credential arguments refused with :class:`~glacier.errors.CredentialsInCodeError`;
    - every validation failure raised as :class:`~glacier.errors.ConfigError`, from the
      constructor and from ``model_validate`` alike;
    - ``replace(**changes)``: a validated copy (``model_copy`` does not validate).

    Example:
        >>> class MyConfig(GlacierModel):
        ...     size: int = 1
        >>> MyConfig(sise=2)
        Traceback (most recent call last):
        ...
        glacier.errors.ConfigError: MyConfig: unknown field 'sise' (did you mean 'size'?); ...
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    #: The cloud whose credential chain the credentials error points to (None: all of them).
    _cloud: ClassVar[Cloud | None] = None
    #: Other input names accepted for a field, e.g. ``{"project_id": "project"}``.
    _input_aliases: ClassVar[Mapping[str, str]] = {}

    def __init__(self, /, **data: Any) -> None:
        with config_errors(type(self).__name__):
            super().__init__(**data)

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate ``obj`` (usually a dict), raising :class:`ConfigError` when it is invalid."""
        with config_errors(cls.__name__):
            return super().model_validate(obj, *args, **kwargs)

    @classmethod
    def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate a JSON document, raising :class:`ConfigError` when it is invalid."""
        with config_errors(cls.__name__):
            return super().model_validate_json(json_data, *args, **kwargs)

    @classmethod
    def model_validate_strings(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate a dict of strings, raising :class:`ConfigError` when it is invalid."""
        with config_errors(cls.__name__):
            return super().model_validate_strings(obj, *args, **kwargs)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied, validated like a freshly built config.

        Example:
            >>> class MyConfig(GlacierModel):
            ...     size: int = 1
            >>> MyConfig().replace(size=3).size
            3
        """
        return self.model_validate({**dict(self), **changes})

    def __hash__(self) -> int:
        # pydantic's frozen hash fails on dict and list fields (tags, lifecycle rules); configs
        # are used as cache and container keys, so hash a frozen view of the fields instead.
        return hash((type(self), freeze(self.__dict__)))

    def __setattr__(self, name: str, value: Any) -> None:
        # Without this, assignment raises pydantic's ValidationError, which is not a
        # GlacierError and does not say how to get a changed config.
        raise ConfigError(
            f"{type(self).__name__} is frozen: cannot set {name!r}; "
            f"use config.replace({name}=...) to get a changed copy."
        )

    def __delattr__(self, name: str) -> None:
        raise ConfigError(f"{type(self).__name__} is frozen: cannot delete {name!r}.")

    @classmethod
    def _normalize_input(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Hook: rewrite accepted input shapes into field names (after aliases are applied)."""
        return data

    @model_validator(mode="before")
    @classmethod
    def _check_input(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        refuse_credentials(data.keys(), cls._cloud)
        data = rename_aliases(dict(data), cls._input_aliases)
        data = cls._normalize_input(data)
        refuse_unknown(data.keys(), allowed_fields(cls))
        return data


def allowed_fields(model: type[BaseModel]) -> list[str]:
    """Field names a model accepts, including its extra input aliases, sorted."""
    names = set(model.model_fields)
    names.update(getattr(model, "_input_aliases", {}))
    return sorted(names)


def rename_aliases(data: dict[str, Any], aliases: Mapping[str, str]) -> dict[str, Any]:
    """Move values given under an alias to the field name; both at once is ambiguous."""
    for alias, field in aliases.items():
        if alias in data:
            if field in data and data[field] != data[alias]:
                raise ConfigError(
                    f"{alias}={data[alias]!r} and {field}={data[field]!r} are the same setting "
                    f"with different values; pass only {field}."
                )
            data[field] = data.pop(alias)
    return data


def refuse_unknown(keys: Iterable[object], allowed: Collection[str]) -> None:
    """Raise :class:`ConfigError` naming the first unknown key and the closest allowed one."""
    unknown = [k for k in keys if k not in allowed]
    if not unknown:
        return
    first = unknown[0]
    message = f"unknown field {first!r}"
    if len(unknown) > 1:
        message += f" (and {', '.join(map(repr, unknown[1:]))})"
    match = closest(first, allowed)
    if match:
        message += f" (did you mean {match!r}?)"
    raise ConfigError(f"{message}; allowed fields: {', '.join(allowed)}.")


# -- turning a ValidationError into a ConfigError ----------------------------------------------


def format_loc(loc: Iterable[int | str]) -> str:
    """``('lifecycle_rules', 0, 'days')`` -> ``lifecycle_rules[0].days``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            out += " (key)"
        else:
            out += f".{part}" if out else part
    return out


def _short_repr(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def describe_error(error: ErrorDetails, where: str) -> str:
    """One sentence for one pydantic error; ``where`` is the dotted field path (may be empty)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    cause = ctx.get("error")
    shown = _short_repr(value)
    at = f"{where}={shown} is invalid: " if where else f"{shown} is invalid: "

    if isinstance(cause, InvalidValueError):
        return at + _sentence(cause.rule)
    if isinstance(cause, ConfigError):
        # Already a whole sentence (unknown field, credentials, a rule across fields).
        return f"{where}: {cause}" if where else str(cause)
    if isinstance(cause, ValueError | AssertionError):
        return at + _sentence(str(cause))
    if kind == "missing":
        return f"{where or 'a field'} is required."
    if kind == "extra_forbidden":
        return f"unknown field {where!r}."
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        options = [part.strip("'\"") for part in expected.replace(" or ", ", ").split(", ")]
        return at + f"allowed values are {expected}" + _sentence(did_you_mean(value, options))
    if kind == "union_tag_invalid":
        field = str(ctx.get("discriminator", "kind")).strip("'")
        tag = ctx.get("tag")
        options = [part.strip("' ") for part in str(ctx.get("expected_tags", "")).split(",")]
        return (
            f"{where + '.' if where else ''}{field}={tag!r} is invalid: allowed values are "
            f"{ctx.get('expected_tags')}" + _sentence(did_you_mean(tag, options))
        )
    message = error["msg"]
    if message.startswith("Input should be"):
        message = "must be" + message[len("Input should be") :]
    return at + _sentence(message[:1].lower() + message[1:])


def build_config_error(
    title: str,
    exc: ValidationError,
    *,
    note: Callable[[tuple[int | str, ...]], str | None] | None = None,
    drop: Callable[[tuple[int | str, ...]], tuple[int | str, ...]] | None = None,
) -> ConfigError:
    """One :class:`ConfigError` (or :class:`CredentialsInCodeError`) for every error in ``exc``.

    Args:
        title: Starts the message, usually the model's name.
        note: Optional extra text per error location (e.g. which env var set the value).
        drop: Optional rewrite of an error location (e.g. to hide a union's tag).
    """
    lines: list[str] = []
    credentials = False
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        credentials = credentials or isinstance(cause, CredentialsInCodeError)
        loc = tuple(error["loc"])
        if drop is not None:
            loc = drop(loc)
        line = describe_error(error, format_loc(loc))
        extra = note(tuple(error["loc"])) if note is not None else None
        if extra:
            line = f"{line.removesuffix('.')} ({extra})."
        lines.append(line)
    cls = CredentialsInCodeError if credentials else ConfigError
    if len(lines) == 1:
        return cls(f"{title}: {lines[0]}")
    return cls(f"{title}: {len(lines)} invalid settings:\n" + "\n".join(f"  - {x}" for x in lines))


# True while an outer model is being validated. A model with its own ``__init__`` is built by
# calling that ``__init__`` even when nested, and pydantic only merges a nested failure into
# the parent's error (with the full field path) if it stays a ValidationError.
_VALIDATING: ContextVar[bool] = ContextVar("glacier_settings_validating", default=False)


@contextmanager
def config_errors(title: str, **kwargs: Any) -> Iterator[None]:
    """Raise a :class:`ConfigError` for a ``ValidationError`` in the block, outermost model only.

    ``kwargs`` go to :func:`build_config_error`.
    """
    if _VALIDATING.get():
        yield
        return
    token = _VALIDATING.set(True)
    try:
        yield
    except ValidationError as exc:
        raise_config_error(title, exc, **kwargs)
    finally:
        _VALIDATING.reset(token)


def raise_config_error(title: str, exc: ValidationError, **kwargs: Any) -> NoReturn:
    """Raise :func:`build_config_error`'s error; credential errors hide the pydantic cause.

    The cause's text repeats the input, which for credentials is the secret itself.
    """
    error = build_config_error(title, exc, **kwargs)
    if isinstance(error, CredentialsInCodeError):
        raise error from None
    raise error from exc
