"""A task's outputs written together: every output checked before any is written, and the
stores that commit in one transaction written last.

Stores cannot commit together: a database table commits its own transaction, an object or a
Delta table its own atomic write, and no protocol spans them. So a task's outputs land
together as far as checking first can make them:

1. every output is checked before any is written: its format holds the value (the format
   checks), its schema (a Dataset's ``schema=``), a read-only storage, and for a database
   table everything its write would refuse (columns and types against the table's, keys);
2. outputs in object stores are written first, database tables last: a failed object write
   leaves every table as it was, and a table's own write is all or nothing;
3. if a store still refuses after another output landed (a database constraint only the
   server knows, a lost connection), :class:`~glacier.errors.OutputsPartlyWrittenError`
   names the outputs left written and the one that failed; the run record keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glacier.errors import OutputsPartlyWrittenError

__all__ = ["check_writes", "partly_written", "write_order"]

#: What a database table calls itself (``DatabaseTable.kind``): written last.
_TRANSACTIONAL = "database_table"


def write_order(outputs: Sequence[Any], storage: Mapping[Any, Any]) -> list[int]:
    """The positions of ``outputs`` in the order to write them: database tables last.

    >>> class Table:
    ...     kind = "database_table"
    >>> write_order(["t", "f"], {"t": Table(), "f": object()})
    [1, 0]
    """
    positions = range(len(outputs))
    return sorted(
        positions, key=lambda p: getattr(storage.get(outputs[p]), "kind", "") == _TRANSACTIONAL
    )


def check_writes(
    outputs: Sequence[Any], values: Sequence[Any], storage: Mapping[Any, Any]
) -> tuple[Any, ...]:
    """Refuse, before anything is written, what a stored output's write would refuse that
    can be known in advance; returns the values to write (a database table's frame
    collected once, so it is not computed twice)."""
    checked = list(values)
    for pos, ds in enumerate(outputs):
        target = storage.get(ds)
        if target is None:
            continue
        check = getattr(target, "check_write", None)
        if check is not None:
            checked[pos] = check(values[pos], **ds.write)
        else:
            writable = getattr(target, "check_writable", None)
            if writable is not None:
                writable("write")
    return tuple(checked)


def partly_written(
    task: Any, written: Sequence[str], failed: str, error: BaseException
) -> OutputsPartlyWrittenError:
    """The error of a task whose output ``failed`` was not written after ``written`` were."""
    return OutputsPartlyWrittenError(
        f"Task {task.name!r}: output {failed!r} could not be written "
        f"({type(error).__name__}: {error}); left written: {list(written)} (their stores "
        "cannot commit together with it). Fix the cause and run the task again: it rewrites "
        "them with the same write options.",
        written=tuple(written),
        failed=failed,
    )
