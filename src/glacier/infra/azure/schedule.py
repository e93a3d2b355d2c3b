"""A pipeline's schedule as the Recurrence trigger of its Logic App.

Pipelines say their schedule in one language (``rate(1 day)`` or a six-field cron, see
:data:`glacier.pipeline.SCHEDULE`); a Logic App's Recurrence has a frequency and an interval,
or a daily or weekly list of hours and minutes. Rates and the crons that are such lists map
exactly; any other cron is refused, naming what a Recurrence cannot say.

Example:
    >>> recurrence("rate(6 hours)")
    {'frequency': 'Hour', 'interval': 6}
    >>> recurrence("cron(30 2 * * ? *)")["schedule"]
    {'hours': [2], 'minutes': [30]}
    >>> recurrence("cron(0 8 ? * MON-FRI *)")["schedule"]["weekDays"]
    ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday']
"""

from __future__ import annotations

import re
from typing import Any

from glacier.errors import InfraError

_RATE = re.compile(r"^rate\(([1-9]\d*) (minute|hour|day)s?\)$")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def recurrence(expression: str) -> dict[str, Any]:
    """The Recurrence of ``expression`` (refused when a Recurrence cannot say it)."""
    rate = _RATE.match(expression)
    if rate:
        return {"frequency": rate.group(2).capitalize(), "interval": int(rate.group(1))}
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    if len(fields) != 6:
        raise _refused(expression, "it is neither rate(...) nor a six-field cron")
    minutes, hours, dom, month, dow, year = fields
    if dom not in ("*", "?") or month != "*" or year != "*":
        raise _refused(expression, "days of the month, months and years")
    schedule: dict[str, Any] = {"hours": _numbers(hours, 23, expression)}
    schedule["minutes"] = _numbers(minutes, 59, expression)
    out: dict[str, Any] = {"frequency": "Day", "interval": 1, "timeZone": "UTC"}
    if dow not in ("*", "?"):
        out["frequency"] = "Week"
        schedule["weekDays"] = _weekdays(dow, expression)
    out["schedule"] = schedule
    return out


def _numbers(value: str, top: int, expression: str) -> list[int]:
    if not re.fullmatch(r"\d+(,\d+)*", value) or any(int(v) > top for v in value.split(",")):
        raise _refused(expression, f"the field {value!r} (only numbers and lists of them)")
    return sorted({int(v) for v in value.split(",")})


def _weekdays(value: str, expression: str) -> list[str]:
    out: list[int] = []
    for part in value.upper().split(","):
        low, _, high = part.partition("-")
        if low not in _DAYS or (high and high not in _DAYS):
            raise _refused(expression, f"the day-of-week field {value!r} (use MON-FRI, SAT,SUN)")
        first, last = _DAYS.index(low), _DAYS.index(high or low)
        out.extend(range(first, last + 1))
    return [_NAMES[d] for d in sorted(set(out))]


def _refused(expression: str, what: str) -> InfraError:
    return InfraError(
        f"Schedule {expression!r} cannot be a Logic Apps Recurrence: {what}. Use rate(...) or "
        "a cron of minutes and hours (daily), optionally with days of the week."
    )
