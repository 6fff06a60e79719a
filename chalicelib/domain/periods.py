"""Periods (统计周期) of the performance figures: China-time calendar periods, a day
"2026-11-21", a month "2026-11", a quarter "2026-Q4". An instant falls in one of each, read on
the China calendar (an instant late on 31 December UTC is already the new year in China).
A week "2026-W48" (ISO 8601: Monday to Sunday, the week of its Thursday's year) is counted as
its seven days (`days_of_week`), for the weekly report. Plain rules, no I/O."""
from __future__ import annotations

import re
from datetime import date, datetime

from .cases import CHINA_TIME
from .errors import InvalidInput

DAY, WEEK, MONTH, QUARTER = "day", "week", "month", "quarter"
_DAY_ID = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MONTH_ID = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_QUARTER_ID = re.compile(r"^[0-9]{4}-Q[1-4]$")
_WEEK_ID = re.compile(r"^([0-9]{4})-W(0[1-9]|[1-4][0-9]|5[0-3])$")


def day_id(day: date) -> str:
    return day.isoformat()


def month_id(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_id(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def week_id(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def days_of_week(week: str) -> tuple[str, ...]:
    """The seven day ids of an ISO week, Monday first."""
    if period_kind(week) != WEEK:
        raise InvalidInput(f"not a week: {week!r}", field="period")
    monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    return tuple(day_id(date.fromordinal(monday.toordinal() + n)) for n in range(7))


def previous(period: str) -> str:
    """The week or month before a week or month."""
    kind = period_kind(period)
    if kind == WEEK:
        monday = date.fromisocalendar(int(period[:4]), int(period[6:]), 1)
        return week_id(date.fromordinal(monday.toordinal() - 7))
    if kind == MONTH:
        year, month = int(period[:4]), int(period[5:])
        return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"
    raise InvalidInput(f"a week or a month has a period before it, not {period!r}",
                       field="period")


def china_day(at: datetime | date | str) -> date:
    """The China-time calendar day of an instant (aware datetime or ISO-8601 with offset)."""
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            raise InvalidInput(f"not an ISO-8601 instant: {at!r}", field="at")
    if isinstance(at, datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidInput(f"an event's instant needs its UTC offset, not {at.isoformat()}",
                               field="at")
        return at.astimezone(CHINA_TIME).date()
    if isinstance(at, date):
        return at
    raise InvalidInput(f"an event needs an instant, not {at!r}", field="at")


def periods_of(at: datetime | date | str) -> tuple[str, str, str]:
    """The day, month and quarter an instant falls in, in China time."""
    day = china_day(at)
    return day_id(day), month_id(day), quarter_id(day)


def period_kind(period: str) -> str:
    """day, month or quarter; a malformed period id is refused."""
    if isinstance(period, str):
        if _QUARTER_ID.match(period):
            return QUARTER
        found = _WEEK_ID.match(period)
        if found:
            try:
                date.fromisocalendar(int(found[1]), int(found[2]), 1)
                return WEEK
            except ValueError:      # week 53 of a year that has 52
                pass
        if _MONTH_ID.match(period):
            return MONTH
        if _DAY_ID.match(period):
            try:
                date.fromisoformat(period)
                return DAY
            except ValueError:
                pass
    raise InvalidInput(f"a period reads 2026-11-21, 2026-W48, 2026-11 or 2026-Q4, not "
                       f"{period!r}", field="period")


def months_of_quarter(quarter: str) -> tuple[str, str, str]:
    if period_kind(quarter) != QUARTER:
        raise InvalidInput(f"not a quarter: {quarter!r}", field="period")
    first = (int(quarter[-1]) - 1) * 3 + 1
    return tuple(f"{quarter[:4]}-{m:02d}" for m in range(first, first + 3))
