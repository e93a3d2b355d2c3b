"""Where the commands print, and how paths and sizes read there.

Output goes through rich consoles (stdout for results, stderr for errors); paths are shown
relative to the directory the user ran the command in, as they would type them.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console


def console(*, stderr: bool = False) -> Console:
    """A console on stdout or stderr; wide when it is not a terminal, so logs do not wrap."""
    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = Console(stderr=stderr, highlight=False, width=160)
    return out


def relative(path: str) -> str:
    """``path`` relative to the current directory when it is inside it (``file:line`` too)."""
    cwd = str(Path.cwd())
    if path.startswith(cwd + os.sep):
        return path[len(cwd) + 1 :]
    return path


def shell_path(path: str) -> str:
    """:func:`relative`, quoted for a POSIX shell when it needs quoting, for the commands a
    "Next:" line tells the user to type.

    Example:
        >>> shell_path("/nowhere/bad name!")
        "'/nowhere/bad name!'"
    """
    import shlex

    return shlex.quote(relative(path))


def size(n: int) -> str:
    """A file size as a person reads it.

    Example:
        >>> size(512), size(2048)
        ('512 bytes', '2.0 KB')
    """
    return f"{n} bytes" if n < 1024 else f"{n / 1024:.1f} KB"
