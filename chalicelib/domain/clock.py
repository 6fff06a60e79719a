"""The legal clock: time limits counted in working days (工作日) or in natural days (日). Plain
rules, no I/O.

Weekends and China's statutory holidays do not count; the weekend days the State Council makes
working days (调休) do; a hall may close on days of its own. A period follows the Civil Code
(art. 201): the day it starts does not count, so a step started at T with N working days is due
at 24:00 China time of the Nth working day after T's day. Working time is measured in working
seconds: every working day brings its 86,400, every other day none. Correction (补正) and special
procedures (art. 45) pause the clock, which resumes where it stopped; an approved extension
(art. 42) adds working days. Instants go in aware and come out in UTC.

A limit the law states in 日 (natural days) counts every day, weekends and holidays included,
from the day after it starts; when its last day is a rest day (a weekend day or a statutory
holiday that is not a 调休 working day), the period ends at 24:00 of the next working day
(Civil Code art. 203). `clock.in_unit(NATURAL_DAYS)` is the clock such a limit is read on."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Iterator

from .cases import CHINA_TIME
from .errors import Conflict, InvalidInput

WORKING_DAY = 86_400.0   # working seconds in one working day, on either clock
ONE_DAY = timedelta(days=1)
WORKING_DAYS, NATURAL_DAYS = "working_days", "natural_days"   # a limit's unit: 工作日, 日
UNITS = (WORKING_DAYS, NATURAL_DAYS)


def check_unit(unit: str, field: str = "limit_unit") -> str:
    if unit not in UNITS:
        raise InvalidInput(f"a limit is counted in {' or '.join(UNITS)}, not {unit!r}",
                           field=field)
    return unit


def _aware(t: datetime) -> datetime:
    # A naive instant would be read in the server's zone, which is neither China's nor UTC.
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"the clock needs aware datetimes, not {t!r}")
    return t


def _utc(t: datetime) -> datetime:
    return t.astimezone(timezone.utc)


def _china_day(t: datetime) -> date:
    return _aware(t).astimezone(CHINA_TIME).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), CHINA_TIME)


class WorkingClock(ABC):
    """What callers use; the real calendar and the compressed demo clock answer alike."""

    @abstractmethod
    def counting_starts(self, start: datetime) -> datetime:
        """The instant from which a period started at `start` is counted."""

    @abstractmethod
    def working_seconds(self, a: datetime, b: datetime) -> float:
        """Working time between two instants; negative when b is before a."""

    @abstractmethod
    def add_working_seconds(self, t: datetime, seconds: float) -> datetime:
        """The earliest instant with `seconds` of working time after t (the latest before it
        when negative): a deadline is 24:00 of a working day, not the next Monday's 00:00."""

    def period_end(self, start: datetime, days: int) -> datetime:
        """Where `days` of this clock's days run out, before the last-day rule."""
        if days < 0:
            raise InvalidInput(f"a time limit cannot be negative, got {days}", field="days")
        return self.add_working_seconds(self.counting_starts(start), days * WORKING_DAY)

    def last_day(self, end: datetime) -> datetime:
        """The end of a period as the law reads it: a working-day period always ends on a
        working day, so as it is (NaturalDays moves one that ends on a rest day)."""
        return _utc(_aware(end))

    def deadline(self, start: datetime, days: int) -> datetime:
        return self.last_day(self.period_end(start, days))

    def in_unit(self, unit: str) -> "WorkingClock":
        """The clock a limit in `unit` is read on: this one for working days, its NaturalDays
        for natural days."""
        return NaturalDays(self) if check_unit(unit) == NATURAL_DAYS else self

    @property
    def working(self) -> "WorkingClock":
        """The working-day clock under this one (itself, unless it counts natural days)."""
        return self

    def after_rest_days(self, end: datetime) -> datetime:
        """24:00 of the first working day at or after the day `end` closes (Civil Code art.
        203's rule for a period whose last day is a rest day); every day works here."""
        return _utc(_aware(end))

    def allowance(self, start: datetime, deadline: datetime) -> tuple[datetime, float]:
        """Where counting begins and how much working time lies before the deadline."""
        origin = self.counting_starts(start)
        budget = self.working_seconds(origin, deadline)
        if budget > 0:
            return origin, budget
        # An immediate item (N = 0) has what is left of its start day; on a day off, nothing.
        budget = self.working_seconds(start, deadline)
        return (_utc(start) if budget > 0 else _utc(deadline)), max(budget, 0.0)

    def share_elapsed(self, start: datetime, deadline: datetime, at: datetime) -> float:
        origin, budget = self.allowance(start, deadline)
        if budget == 0:
            return 1.0 if at >= deadline else 0.0
        return max(0.0, self.working_seconds(origin, at) / budget)

    def instant_of_share(self, start: datetime, deadline: datetime, share: float) -> datetime:
        origin, budget = self.allowance(start, deadline)
        return _utc(deadline) if budget == 0 else self.add_working_seconds(origin, share * budget)

    def remaining(self, deadline: datetime, at: datetime) -> float:
        """Working seconds left; negative once working time has passed beyond the deadline.
        Red starts the instant after the deadline even when no working time has passed yet
        (a Friday deadline is red all weekend, at remaining 0): compare instants for red."""
        return self.working_seconds(at, deadline)

    def shortest_span(self, days: int) -> timedelta:
        """The least real time `days` working days can take: a working day is a whole day,
        so never less than as many calendar days (a bound for finding what may be due)."""
        return timedelta(days=days)

    def overdue_instant(self, deadline: datetime, working_days: int = 1) -> datetime:
        """When a step is `working_days` working days late: each escalation waits one more."""
        return self.add_working_seconds(deadline, working_days * WORKING_DAY)


@lru_cache(maxsize=None)
def _china_days_off(year: int) -> frozenset[date]:
    """Weekends and statutory holidays of one year, less the 调休 weekend working days.
    Computed once a year per process: the clock sits on every request's hot path."""
    import holidays  # deferred: its 50 ms of import are not paid at cold start

    # `is_working_day` already weighs a weekend day against `weekend_workdays`, the Saturdays
    # and Sundays the State Council's notice turns into working days. A year whose notice is
    # not in the installed package yet has its statutory days but no 调休: update it yearly.
    calendar = holidays.China(years=year)
    first = date(year, 1, 1)
    days = (first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days))
    return frozenset(day for day in days if not calendar.is_working_day(day))


class ChinaWorkingCalendar(WorkingClock):
    """The real calendar, days counted in China time."""

    def __init__(self, closures: Iterable[date | str] = frozenset()):
        self.closures = frozenset(d if isinstance(d, date) else date.fromisoformat(d)
                                  for d in closures)

    def is_working_day(self, day: date) -> bool:
        return day not in self.closures and day not in _china_days_off(day.year)

    def is_rest_day(self, day: date) -> bool:
        """A weekend day or a statutory holiday, less the 调休 working days (法定休假日). A
        hall's own closure is not one: it stops working time, not a natural-day period."""
        return day in _china_days_off(day.year)

    def after_rest_days(self, end: datetime) -> datetime:
        last = _china_day(_aware(end) - timedelta(microseconds=1))   # the day `end` closes
        while self.is_rest_day(last):
            last += ONE_DAY
        return _utc(_midnight(last + ONE_DAY))

    def counting_starts(self, start: datetime) -> datetime:
        return _utc(_midnight(_china_day(start) + ONE_DAY))   # art. 201: from the next day

    def working_seconds(self, a: datetime, b: datetime) -> float:
        if _aware(b) < _aware(a):
            return -self.working_seconds(b, a)
        first, last = _china_day(a), _china_day(b)
        if first == last:
            return (b - a).total_seconds() if self.is_working_day(first) else 0.0
        part = timedelta()   # the two partial days at the ends, then the whole days between
        if self.is_working_day(first):
            part += _midnight(first + ONE_DAY) - a
        if self.is_working_day(last):
            part += b - _midnight(last)
        whole = sum(self.is_working_day(first + timedelta(days=n))
                    for n in range(1, (last - first).days))
        return part.total_seconds() + whole * WORKING_DAY

    def add_working_seconds(self, t: datetime, seconds: float) -> datetime:
        if seconds == 0:
            return _utc(_aware(t))
        step = ONE_DAY if seconds > 0 else -ONE_DAY
        left, day = timedelta(seconds=abs(seconds)), _china_day(t)
        # What t's own day still offers in the direction of travel, then whole days.
        edge = _midnight(day + ONE_DAY) if seconds > 0 else _midnight(day)
        if self.is_working_day(day):
            if left <= abs(edge - t):
                return _utc(t + left if seconds > 0 else t - left)
            left -= abs(edge - t)
        while True:
            day += step
            if self.is_working_day(day):
                if left <= ONE_DAY:
                    return _utc(_midnight(day) + left if seconds > 0
                                else _midnight(day + ONE_DAY) - left)
                left -= ONE_DAY


class NaturalDays(WorkingClock):
    """A limit stated in 日: every day counts, from the day after the start (as the calendar it
    wraps counts: the compressed clock from the start itself), and a period whose last day is
    a rest day ends with the next working day. Time is measured in seconds of natural days."""

    def __init__(self, calendar: WorkingClock):
        self.calendar = calendar

    @property
    def working(self) -> WorkingClock:
        return self.calendar

    def in_unit(self, unit: str) -> WorkingClock:
        return self.calendar.in_unit(unit)

    def counting_starts(self, start: datetime) -> datetime:
        return self.calendar.counting_starts(start)

    def working_seconds(self, a: datetime, b: datetime) -> float:
        # On the compressed clock every day is a working day: its seconds are the days'.
        if isinstance(self.calendar, CompressedClock):
            return self.calendar.working_seconds(a, b)
        return (_aware(b) - _aware(a)).total_seconds()

    def add_working_seconds(self, t: datetime, seconds: float) -> datetime:
        if isinstance(self.calendar, CompressedClock):
            return self.calendar.add_working_seconds(t, seconds)
        return _utc(_aware(t) + timedelta(seconds=seconds))

    def last_day(self, end: datetime) -> datetime:
        return self.calendar.after_rest_days(end)

    def shortest_span(self, days: int) -> timedelta:
        return self.calendar.shortest_span(days)


class CompressedClock(WorkingClock):
    """Demos and tests: one working day lasts `seconds_per_day` real seconds, every day works,
    and counting starts at once. Working time is still in working seconds (86,400 a day), so
    callers read shares, remaining days and deadlines exactly as on the real calendar."""

    def __init__(self, seconds_per_day: float):
        if not seconds_per_day > 0:
            raise ValueError(f"a compressed working day must last > 0 s, not {seconds_per_day}")
        self.seconds_per_day = seconds_per_day

    def counting_starts(self, start: datetime) -> datetime:
        return _utc(_aware(start))

    def working_seconds(self, a: datetime, b: datetime) -> float:
        real = (_aware(b) - _aware(a)).total_seconds()
        return real * WORKING_DAY / self.seconds_per_day

    def add_working_seconds(self, t: datetime, seconds: float) -> datetime:
        return _utc(_aware(t) + timedelta(seconds=seconds * self.seconds_per_day / WORKING_DAY))

    def shortest_span(self, days: int) -> timedelta:
        return timedelta(seconds=days * self.seconds_per_day)


def clock_from_settings(compressed_seconds_per_day: float | None,
                        closures: Iterable[date | str] = ()) -> WorkingClock:
    if compressed_seconds_per_day is None:
        return ChinaWorkingCalendar(closures)
    return CompressedClock(compressed_seconds_per_day)


@dataclass(frozen=True)
class StepClock:
    """The clock of one step or case: when it started, its limit in days of its unit (working
    days unless the law says 日), its pauses (resumed_at None while paused) and its approved
    extensions. Promised and legal limits are two StepClocks with the same pauses
    (`dataclasses.replace(step, days=...)`): a pause moves both. A natural-day limit runs
    through rest days, and its deadline, paused time added, moves off a rest day to the end of
    the next working day."""
    start: datetime
    days: int
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()
    extensions: tuple[int, ...] = ()
    unit: str = WORKING_DAYS

    def __post_init__(self):
        if self.days < 0:
            raise InvalidInput(f"a time limit cannot be negative, got {self.days}", field="days")
        check_unit(self.unit)
        object.__setattr__(self, "start", _utc(_aware(self.start)))

    @property
    def limit(self) -> int:
        return self.days + sum(self.extensions)

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None

    def pause(self, at: datetime) -> "StepClock":
        if self.paused:
            raise Conflict("the clock is already paused", field="clock")
        since = self.pauses[-1][1] if self.pauses else self.start
        if _aware(at) < since:
            raise InvalidInput(f"a pause cannot begin before {since.isoformat()}", field="at")
        return replace(self, pauses=self.pauses + ((_utc(at), None),))

    def resume(self, at: datetime) -> "StepClock":
        if not self.paused:
            raise Conflict("the clock is running, there is nothing to resume", field="clock")
        paused_at = self.pauses[-1][0]
        if _aware(at) < paused_at:
            raise InvalidInput(f"cannot resume before the pause of {paused_at.isoformat()}",
                               field="at")
        return replace(self, pauses=self.pauses[:-1] + ((paused_at, _utc(at)),))

    def extend(self, days: int) -> "StepClock":
        if days <= 0:
            raise InvalidInput(f"an extension adds working days, not {days}", field="days")
        return replace(self, extensions=self.extensions + (days,))

    # -- reading the clock ---------------------------------------------------------------------
    def _allowance(self, clock: WorkingClock) -> tuple[datetime, float]:
        """Read on the clock of the limit's unit (callers pass the working clock)."""
        return clock.allowance(self.start, clock.period_end(self.start, self.limit))

    def _running(self, origin: datetime) -> Iterator[tuple[datetime, datetime | None]]:
        """The stretches from `origin` on in which the clock runs, i.e. between the pauses."""
        cursor = origin
        for paused_at, resumed_at in self.pauses:
            if paused_at > cursor:
                yield cursor, paused_at
            if resumed_at is None:
                return
            cursor = max(cursor, resumed_at)
        yield cursor, None

    def used(self, clock: WorkingClock, at: datetime) -> float:
        """Working seconds the step has consumed by `at`, whatever its unit (how long a case
        took is told in working days); paused time consumes none."""
        working = clock.working
        return self._used(working, self._allowance(working)[0], at)

    def _used(self, clock: WorkingClock, origin: datetime, at: datetime) -> float:
        used = 0.0
        for begin, end in self._running(origin):
            if at <= begin:
                break
            used += clock.working_seconds(begin, at if end is None else min(end, at))
        return used

    def _when_used(self, clock: WorkingClock, share: float = 1.0,
                   working_days: int = 0) -> datetime | None:
        """The earliest instant at which this share of the allowance plus these days (of the
        limit's unit) are consumed; None when an open pause stops the clock short of it."""
        clock = clock.in_unit(self.unit)
        origin, budget = self._allowance(clock)
        target, used = share * budget + working_days * WORKING_DAY, 0.0
        for begin, end in self._running(origin):
            span = None if end is None else clock.working_seconds(begin, end)
            if span is None or target <= used + span:
                return clock.add_working_seconds(begin, target - used)
            used += span
        return None

    def deadline(self, clock: WorkingClock) -> datetime | None:
        """24:00 China time of the last day (a working day); None while paused with time left."""
        end = self._when_used(clock)
        return None if end is None else clock.in_unit(self.unit).last_day(end)

    def is_overdue(self, clock: WorkingClock, at: datetime) -> bool:
        """Red: one second after the deadline is already too late."""
        deadline = self.deadline(clock)
        return deadline is not None and at > deadline

    def share(self, clock: WorkingClock, at: datetime) -> float:
        """Share of the allowance consumed: 0.8 is the usual yellow, above 1 is overdue."""
        clock = clock.in_unit(self.unit)
        origin, budget = self._allowance(clock)
        if budget == 0:   # an immediate item with no working time left: due, or not yet
            deadline = self.deadline(clock)
            return 1.0 if deadline is not None and at >= deadline else 0.0
        return self._used(clock, origin, at) / budget

    def remaining(self, clock: WorkingClock, at: datetime) -> float:
        """Seconds of the limit's days left, frozen while paused; see WorkingClock.remaining
        on red."""
        clock = clock.in_unit(self.unit)
        origin, budget = self._allowance(clock)
        return budget - self._used(clock, origin, at)

    def instant_of_share(self, clock: WorkingClock, share: float) -> datetime | None:
        return self._when_used(clock, share)

    def overdue_instant(self, clock: WorkingClock, working_days: int = 1) -> datetime | None:
        """When the step is that many days (of its unit) past its deadline."""
        if self.unit == WORKING_DAYS:
            return self._when_used(clock, 1.0, working_days)
        due = self.deadline(clock)
        return None if due is None else \
            clock.in_unit(self.unit).add_working_seconds(due, working_days * WORKING_DAY)

    # -- storage -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        out = {"start": self.start.isoformat(), "days": self.days,
               "pauses": [[p.isoformat(), r.isoformat() if r else None] for p, r in self.pauses],
               "extensions": list(self.extensions)}
        if self.unit != WORKING_DAYS:           # clocks stored before units read as working days
            out["unit"] = self.unit
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "StepClock":
        read = datetime.fromisoformat
        return cls(_utc(read(data["start"])), data["days"],
                   tuple((_utc(read(p)), _utc(read(r)) if r else None) for p, r in data["pauses"]),
                   tuple(data["extensions"]), data.get("unit", WORKING_DAYS))
