"""Schedule expressions of EventBridge rules: rate(...) and AWS's six-field cron(...), in UTC.

Written here because no installed library speaks AWS's cron dialect (year field, `?`, `L`, `W`, `#`,
day-of-week 1-7 = SUN-SAT). Supported:
- rate(N minute|minutes|hour|hours|day|days)
- cron(minutes hours day-of-month month day-of-week year) with `*`, `?`, lists `a,b`, ranges `a-b`,
  steps `a/n` and `a-b/n`, month names JAN-DEC, day names SUN-SAT; day-of-month `L` (last day), `nW`
  (weekday nearest day n, within the month), `LW`; day-of-week `nL` (last such weekday of the month),
  `n#k` (k-th such weekday).

A faster clock for tests and demos: LOCAL_SCHEDULE_RATE_DIVISOR=60 makes schedule time run 60 times
faster than wall-clock time (a `rate(1 minute)` rule fires every second, `cron(* * * * ? *)` too); the
scheduled events then carry that accelerated clock's time.
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DIVISOR_VARIABLE = "LOCAL_SCHEDULE_RATE_DIVISOR"
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: i + 1 for i, name in enumerate(_MONTH_NAMES)}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_SEARCH_DAYS = 366 * 5  # a cron that fires less than once in five years is treated as never firing


class ScheduleError(ValueError):
    pass


def rate_divisor() -> float:
    raw = os.environ.get(DIVISOR_VARIABLE, "1")
    try:
        divisor = float(raw)
    except ValueError:
        raise ScheduleError(f"{DIVISOR_VARIABLE}={raw!r} is not a number") from None
    if divisor <= 0:
        raise ScheduleError(f"{DIVISOR_VARIABLE} must be positive")
    return divisor


@dataclass(frozen=True)
class Schedule:
    expression: str
    next_after: Callable[[datetime], datetime | None]  # first firing strictly after the given UTC time


def parse(expression: str, created: datetime) -> Schedule:
    """A schedule; rate() rules count their periods from `created` (AWS fires them about then too)."""
    expression = expression.strip()
    rate = _RATE.match(expression)
    if rate:
        period = timedelta(seconds=int(rate.group(1)) * _UNIT_SECONDS[rate.group(2).rstrip("s")])
        if period.total_seconds() <= 0:
            raise ScheduleError(f"{expression}: the rate must be positive")

        def next_rate(after: datetime) -> datetime:
            periods = int((after - created) / period) + 1
            return created + periods * period

        return Schedule(expression, next_rate)
    cron = _CRON.match(expression)
    if cron:
        return Schedule(expression, _Cron(cron.group(1)).next_after)
    raise ScheduleError(f"{expression!r} is neither rate(...) nor cron(...)")


def _number(token: str, names: dict[str, int]) -> int:
    token = token.upper()
    if token in names:
        return names[token]
    if not token.isdigit():
        raise ScheduleError(f"{token!r} is not a number")
    return int(token)


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    """The allowed values of a plain field, or None for `*` / `?` (anything)."""
    names = names or {}
    if text in ("*", "?"):
        return None
    allowed: set[int] = set()
    for item in text.split(","):
        part, step = item, 1
        if "/" in item:
            part, step_text = item.split("/", 1)
            step = int(step_text)
            if step <= 0:
                raise ScheduleError(f"step {step_text!r} must be positive")
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _number(first, names), _number(last, names)
        else:
            start = _number(part, names)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high):
            raise ScheduleError(f"{part!r} is outside {low}-{high}")
        allowed.update(range(start, end + 1, step))
    return allowed


class _Cron:
    def __init__(self, body: str) -> None:
        fields = body.split()
        if len(fields) != 6:
            raise ScheduleError(f"cron({body}) needs six fields: minutes hours day-of-month month day-of-week year")
        minutes, hours, self.day_of_month, months, self.day_of_week, years = fields
        if (self.day_of_month == "?") == (self.day_of_week == "?"):
            raise ScheduleError(f"cron({body}): exactly one of day-of-month and day-of-week must be '?'")
        self.minutes = _field(minutes, 0, 59)
        self.hours = _field(hours, 0, 23)
        self.months = _field(months, 1, 12, _MONTHS)
        self.years = _field(years, 1970, 2199)
        self._day_matches = self._day_matcher()

    def _day_matcher(self) -> Callable[[datetime], bool]:
        dom, dow = self.day_of_month.upper(), self.day_of_week.upper()
        if dom != "?":
            return self._dom_matcher(dom)
        if dow.endswith("L") and dow != "L":
            weekday = _number(dow[:-1], _DAYS)
            return lambda day: _aws_weekday(day) == weekday and day.day + 7 > _last_day(day)
        if "#" in dow:
            weekday_text, nth = dow.split("#", 1)
            weekday, ordinal = _number(weekday_text, _DAYS), int(nth)
            return lambda day: _aws_weekday(day) == weekday and (day.day - 1) // 7 + 1 == ordinal
        allowed = _field("7" if dow == "L" else dow, 1, 7, _DAYS)
        return lambda day: allowed is None or _aws_weekday(day) in allowed

    @staticmethod
    def _dom_matcher(dom: str) -> Callable[[datetime], bool]:
        if dom == "L":
            return lambda day: day.day == _last_day(day)
        if dom == "LW":
            return lambda day: day.day == _nearest_weekday(day, _last_day(day))
        if dom.endswith("W"):
            target = int(dom[:-1])
            return lambda day: day.day == _nearest_weekday(day, min(target, _last_day(day)))
        allowed = _field(dom, 1, 31)
        return lambda day: allowed is None or day.day in allowed

    def next_after(self, after: datetime) -> datetime | None:
        start = (after + timedelta(minutes=1)).replace(second=0, microsecond=0)
        day = start.replace(hour=0, minute=0)
        for _ in range(_SEARCH_DAYS):
            if (
                (self.years is None or day.year in self.years)
                and (self.months is None or day.month in self.months)
                and self._day_matches(day)
            ):
                for hour in sorted(self.hours) if self.hours is not None else range(24):
                    for minute in sorted(self.minutes) if self.minutes is not None else range(60):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        return None


def _aws_weekday(day: datetime) -> int:
    return (day.weekday() + 1) % 7 + 1  # Monday (0 in Python) is 2 in AWS cron; Sunday is 1


def _last_day(day: datetime) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(day: datetime, target: int) -> int:
    """The weekday (Mon-Fri) nearest to day `target` of day's month, not crossing the month's bounds."""
    candidate = day.replace(day=target)
    weekday = candidate.weekday()
    if weekday == 5:  # Saturday -> Friday, or Monday when the 1st is a Saturday
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday -> Monday, or Friday when Sunday is the month's last day
        return target + 1 if target < _last_day(day) else target - 2
    return target


def utc_now() -> datetime:
    return datetime.now(UTC)
