"""Periods (统计周期) of the performance figures: China-time calendar periods, a day
"2026-11-21", a month "2026-11", a quarter "2026-Q4". An instant falls in one of each, read on
the China calendar (an instant late on 31 December UTC is already the new year in China).
Plain rules, no I/O."""
from __future__ import annotations

import re
from datetime import date, datetime

from .cases import CHINA_TIME
from .errors import InvalidInput

DAY, MONTH, QUARTER = "day", "month", "quarter"
_DAY_ID = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MONTH_ID = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_QUARTER_ID = re.compile(r"^[0-9]{4}-Q[1-4]$")


def day_id(day: date) -> str:
    return day.isoformat()


def month_id(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_id(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


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
        if _MONTH_ID.match(period):
            return MONTH
        if _DAY_ID.match(period):
            try:
                date.fromisoformat(period)
                return DAY
            except ValueError:
                pass
    raise InvalidInput(f"a period reads 2026-11-21, 2026-11 or 2026-Q4, not {period!r}",
                       field="period")


def months_of_quarter(quarter: str) -> tuple[str, str, str]:
    if period_kind(quarter) != QUARTER:
        raise InvalidInput(f"not a quarter: {quarter!r}", field="period")
    first = (int(quarter[-1]) - 1) * 3 + 1
    return tuple(f"{quarter[:4]}-{m:02d}" for m in range(first, first + 3))
