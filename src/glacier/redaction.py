"""Credentials masked out of text: the one function every output of Glacier goes through.

A database URL, a connection string or an exception message may carry a password (a user's
own code may raise ``RuntimeError(f"cannot reach {url}")``). Before such text reaches an
error line, a run record, a lineage event, a JUnit report, a ``--json`` output or a
``repr``, :func:`redact` replaces what could be a credential with :data:`MASK`:

- the password of a URL's user info (``scheme://user:PASSWORD@host``);
- the value of a secret-looking URL query parameter (``?password=``, ``sslpassword=``,
  ``token=``, ``sig=``, ...);
- the value of a secret-looking ``key=value`` keyword, as libpq connection strings
  (``host=db password=PASSWORD``) and many messages write them.

:func:`credential_in_url` says where a URL or connection string holds a password, for the
settings that refuse them (:class:`~glacier.settings.DatabaseConnection`).

Example:
    >>> redact("could not connect to postgresql://etl:hunter2@db/analytics?sslmode=require")
    'could not connect to postgresql://etl:****@db/analytics?sslmode=require'
    >>> mask_url("postgresql://etl@db/analytics?password=hunter2")
    'postgresql://etl@db/analytics?password=****'
    >>> redact("host=db dbname=analytics password='hunter 2'")
    'host=db dbname=analytics password=****'
    >>> redact('api_key = { env = "FMP_API_KEY" }')  # an example in a message, not a value
    'api_key = { env = "FMP_API_KEY" }'
    >>> credential_in_url("postgresql://etl@db/x?sslmode=require&password=hunter2")
    "query parameter 'password'"
"""

from __future__ import annotations

import re
import traceback
from urllib.parse import parse_qsl, urlsplit

__all__ = ["MASK", "credential_in_url", "mask_url", "redact", "traceback_text"]

#: What a credential is replaced by.
MASK = "****"

#: Names (of query parameters and ``key=value`` keywords) whose value is a credential: a
#: name holding one of these words, or equal to one of :data:`_SECRET_NAMES`.
_SECRET_WORDS = ("password", "passwd", "secret", "token", "credential", "apikey", "api_key")
_SECRET_NAMES = frozenset({"pwd", "sig", "signature", "access_key", "accountkey"})

#: A URL in free text: a scheme, ``://``, then up to the first blank or quote.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
#: A ``name=value`` keyword in free text (value: quoted with escapes, or up to a blank).
_KEYWORD = re.compile(
    r"(?P<name>\b[A-Za-z_][A-Za-z0-9_]*)(?P<eq>\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'?|\"(?:[^\"\\]|\\.)*\"?|[^\s&;,'\")]+)"
)
#: What follows ``name =`` in an example rather than a value: an opening bracket (``api_key =
#: { env = "X" }``, a TOML inline table), or the mask itself.
_NOT_A_VALUE = frozenset({"{", "[", "(", MASK})
#: A URL's user info with a password: ``//user:password@``.
_USERINFO = re.compile(r"(?P<head>//[^/@\s:]*:)(?P<password>[^/@\s]*)(?P<at>@)")
#: One query parameter: ``name=value`` between ``?``/``&``/``;`` and the next of them.
_PARAMETER = re.compile(r"(?P<head>[?&;](?P<name>[^=&;#]+)=)(?P<value>[^&;#]*)")


def is_secret_name(name: str) -> bool:
    """Whether a parameter or keyword called ``name`` holds a credential.

    >>> [is_secret_name(n) for n in ("password", "sslpassword", "sslmode", "password_env")]
    [True, True, False, False]
    """
    lowered = name.lower()
    if lowered.endswith(("_env", "_secret", "_file", "file")):
        # These name where a secret is (a variable, a secret store's entry, a file), not it.
        return False
    return lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS)


def mask_url(url: str) -> str:
    """``url`` with the password of its user info and its secret query parameters masked.

    >>> mask_url("s3://key:secret@bucket/a?x=1")
    's3://key:****@bucket/a?x=1'
    """
    masked = _USERINFO.sub(lambda m: m["head"] + MASK + m["at"], url, count=1)
    return _PARAMETER.sub(
        lambda m: m["head"] + MASK if is_secret_name(m["name"]) and m["value"] else m[0], masked
    )


def redact(text: str) -> str:
    """``text`` with every credential in it masked: in URLs and in ``key=value`` keywords."""
    if "=" not in text and "@" not in text:
        return text  # the common case: nothing that could hold a credential
    text = _URL.sub(lambda m: mask_url(m[0]), text)
    return _KEYWORD.sub(
        lambda m: (
            m["name"] + m["eq"] + MASK
            if is_secret_name(m["name"]) and m["value"] not in _NOT_A_VALUE
            else m[0]
        ),
        text,
    )


def traceback_text(error: BaseException) -> str:
    """``error``'s traceback and chain, as Python prints them, credentials masked."""
    return redact("".join(traceback.format_exception(error)))


def credential_in_url(url: str) -> str | None:
    """Where ``url`` (a URL or a ``key=value`` connection string) holds a credential:
    ``"user info"``, ``"query parameter 'NAME'"`` or ``"keyword 'NAME'"``; ``None`` if it
    holds none.

    >>> credential_in_url("postgresql://etl:pw@db/x"), credential_in_url("host=db password=pw")
    ('user info', "keyword 'password'")
    """
    if "://" in url:
        parts = urlsplit(url)
        try:
            has_password = parts.password is not None
        except ValueError:  # a malformed port: the user info is still readable
            has_password = ":" in parts.netloc.rpartition("@")[0]
        if has_password or ":" in parts.netloc.rpartition("@")[0]:
            return "user info"
        for name, _ in parse_qsl(parts.query, keep_blank_values=True):
            if is_secret_name(name):
                return f"query parameter {name!r}"
        return None
    for match in _KEYWORD.finditer(url):
        if is_secret_name(match["name"]):
            return f"keyword {match['name']!r}"
    return None
