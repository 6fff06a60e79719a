"""Performance scores (绩效考核): the four rates and the other indices per department, window and
staff member, per day, month and quarter; a composite score with weights configured per hall;
rankings, the red-flag window (红旗窗口) of each quarter and each staff member's efficiency archive
(效能档案). Plain rules, no I/O.

Compilation is incremental. Every event that happens (a case submitted, completed, a card
raised, a rating given…) becomes counter increments at once (`increments`), each keyed by
(scope, subject, period): a storage adapter keeps one item per key and applies them with an
atomic ADD. Compiling a period (`compile_period`) then reads one counter set per subject and
never a case, so its cost grows with departments x periods, not with the number of cases.

Periods are China-time calendar periods: a day "2026-11-21", a month "2026-11", a quarter
"2026-Q4". An event increments all three, for every scope it names (its department, its window,
its staff). Counters are integers only, so increments add up to the same totals in any order.

The composite score (0–100) of a subject in a period:

    base      = 100 x sum(w_k x r_k) / sum(w_k), over the rates r_k that have a denominator
                (onboarding, online, on-time, satisfaction, early completion; a rate without one
                is left out and the weights of the others renormalised, never counted as 100%)
    deduction = yellow_card x yellow cards + red_card x red cards + open_order x open
                supervision orders + complaint x complaints + overdue_rectification x
                rectifications overdue
    composite = min(100, max(0, base - deduction)), rounded to 4 decimals

A subject with no application, completion or rating in the period has no composite (None): the
onboarding rate alone, a property of the catalog, does not rank anyone. Ranking orders by
composite (higher first), then by cases completed (more first), then by applications, then by
subject code; subjects without a composite, or with fewer cases (applications + completions)
than the hall's `min_cases_ranked`, come last, unranked."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from html import escape
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from .cases import AGENT, CHINA_TIME, ONLINE, WINDOW
from .clock import WORKING_DAY, StepClock, WorkingClock
from .errors import InvalidInput

# -- scopes and periods ------------------------------------------------------------------------
SCOPE_DEPARTMENT, SCOPE_WINDOW, SCOPE_STAFF = "department", "window", "staff"
SCOPES = (SCOPE_DEPARTMENT, SCOPE_WINDOW, SCOPE_STAFF)
DAY, MONTH, QUARTER = "day", "month", "quarter"
_DAY_ID = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MONTH_ID = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_QUARTER_ID = re.compile(r"^[0-9]{4}-Q[1-4]$")

# -- metrics: what the counters count (integers, so any order of increments adds up alike) -----
APPLICATIONS = "applications"                  # 申报件数, every channel
APPLICATIONS_ONLINE = "applications_online"    # submitted online or at an agent point
COMPLETED = "completed"                        # 办结件数
COMPLETED_ON_TIME = "completed_on_time"        # within the promised limit
COMPLETED_EARLY = "completed_early"            # a whole working day or more before the deadline
WORKING_SECONDS = "working_seconds"            # working time used by the completed cases, summed
CARDS_YELLOW = "cards_yellow"                  # 黄牌
CARDS_RED = "cards_red"                        # 红牌
ORDERS_OPENED = "orders_opened"                # 督办单 opened in the period
ORDERS_ANSWERED = "orders_answered"            # …of those, answered since (counted in the
#                                                 period the order was opened: open = difference)
ORDERS_OVERDUE = "orders_overdue"              # orders whose response deadline passed
COMPLAINTS = "complaints"                      # 投诉
RATINGS = "ratings"                            # 好差评: one per case, the last one given
RATINGS_SATISFIED = "ratings_satisfied"        # level ≥ 3: 基本满意 or better
RATINGS_BAD = "ratings_bad"                    # level ≤ 2: 差评
RATING_LEVELS = "rating_levels"                # sum of the levels, for the average
RECTIFICATIONS_OVERDUE = "rectifications_overdue"   # 整改 of a 差评 past its deadline

METRICS = (APPLICATIONS, APPLICATIONS_ONLINE, COMPLETED, COMPLETED_ON_TIME, COMPLETED_EARLY,
           WORKING_SECONDS, CARDS_YELLOW, CARDS_RED, ORDERS_OPENED, ORDERS_ANSWERED,
           ORDERS_OVERDUE, COMPLAINTS, RATINGS, RATINGS_SATISFIED, RATINGS_BAD, RATING_LEVELS,
           RECTIFICATIONS_OVERDUE)

# -- events: what happens ----------------------------------------------------------------------
CASE_SUBMITTED = "case_submitted"                          # 申报
CASE_COMPLETED = "case_completed"                          # 办结
CARD_RAISED = "card_raised"                                # 黄牌 / 红牌
SUPERVISION_ORDER_OPENED = "supervision_order_opened"      # 督办单 issued
SUPERVISION_ORDER_ANSWERED = "supervision_order_answered"  # 督办单 answered
SUPERVISION_ORDER_OVERDUE = "supervision_order_overdue"    # its response deadline passed
COMPLAINT_FILED = "complaint_filed"                        # 投诉 (portal, window, 12345)
RATING_GIVEN = "rating_given"                              # 好差评, or a re-rating
RATING_WITHDRAWN = "rating_withdrawn"                      # a malicious rating, appeal upheld
RECTIFICATION_OVERDUE = "rectification_overdue"            # 整改 not done in time
EVENT_KINDS = (CASE_SUBMITTED, CASE_COMPLETED, CARD_RAISED, SUPERVISION_ORDER_OPENED,
               SUPERVISION_ORDER_ANSWERED, SUPERVISION_ORDER_OVERDUE, COMPLAINT_FILED,
               RATING_GIVEN, RATING_WITHDRAWN, RECTIFICATION_OVERDUE)

CHANNELS = (ONLINE, WINDOW, AGENT)
ONLINE_CHANNELS = (ONLINE, AGENT)   # an agent point files online for the applicant
YELLOW, RED = "yellow", "red"
RATING_LEVEL_NAMES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
SATISFIED_FROM = 3


def is_satisfied(level: int) -> bool:
    """基本满意 or better; the two lower levels are 差评, which must be rectified."""
    return level >= SATISFIED_FROM


# -- periods -----------------------------------------------------------------------------------
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


# -- events → increments -----------------------------------------------------------------------
class Increment(NamedTuple):
    scope: str
    subject: str
    period: str
    metric: str
    amount: int

    @property
    def key(self) -> tuple[str, str, str]:
        return self.scope, self.subject, self.period


def storage_key(scope: str, subject: str, period: str) -> tuple[str, str]:
    """(partition, sort) of the one item that holds a subject's counters for a period."""
    return f"{scope}#{subject}", period


def _subjects(event: Mapping) -> list[tuple[str, str]]:
    department = event.get("department")
    if not isinstance(department, str) or not department:
        raise InvalidInput("an event names the department it counts for", field="department")
    named = [(SCOPE_DEPARTMENT, department)]
    window = event.get("window")
    if window:
        if not isinstance(window, str):
            raise InvalidInput("window is a window code", field="window")
        named.append((SCOPE_WINDOW, window))
    staff = event.get("staff") or ()
    for person in [staff] if isinstance(staff, str) else staff:
        if not isinstance(person, str) or not person:
            raise InvalidInput("staff is a staff id or a list of them", field="staff")
        if (SCOPE_STAFF, person) not in named:
            named.append((SCOPE_STAFF, person))
    return named


def _flag(event: Mapping, name: str) -> bool:
    value = event.get(name)
    if not isinstance(value, bool):
        raise InvalidInput(f"{event.get('kind')} needs {name}: true or false", field=name)
    return value


def _level(event: Mapping, name: str) -> int:
    value = event.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value not in RATING_LEVEL_NAMES:
        raise InvalidInput(f"{name} is a rating level from 1 (非常不满意) to 5 (非常满意)",
                           field=name)
    return value


def _rating(level: int, sign: int) -> list[tuple[str, int]]:
    satisfied = is_satisfied(level)
    return [(RATINGS, sign), (RATINGS_SATISFIED if satisfied else RATINGS_BAD, sign),
            (RATING_LEVELS, sign * level)]


def _working_seconds(event: Mapping) -> int:
    if "working_seconds" in event:
        value, unit = event["working_seconds"], 1.0
    else:
        value, unit = event.get("working_days"), WORKING_DAY
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InvalidInput("case_completed needs working_days (or working_seconds) used, ≥ 0",
                           field="working_days")
    return round(value * unit)


def _changes(event: Mapping) -> list[tuple[object, str, int]]:
    """(instant whose periods it counts in, metric, amount) for one event."""
    kind, at = event.get("kind"), event.get("at")
    if kind == CASE_SUBMITTED:
        channel = event.get("channel")
        if channel not in CHANNELS:
            raise InvalidInput(f"channel is one of {', '.join(CHANNELS)}", field="channel")
        out = [(at, APPLICATIONS, 1)]
        if channel in ONLINE_CHANNELS:
            out.append((at, APPLICATIONS_ONLINE, 1))
        return out
    if kind == CASE_COMPLETED:
        on_time, early = _flag(event, "on_time"), _flag(event, "early")
        if early and not on_time:
            raise InvalidInput("a case completed early was completed on time", field="early")
        out = [(at, COMPLETED, 1), (at, WORKING_SECONDS, _working_seconds(event))]
        if on_time:
            out.append((at, COMPLETED_ON_TIME, 1))
        if early:
            out.append((at, COMPLETED_EARLY, 1))
        return out
    if kind == CARD_RAISED:
        color = event.get("color")
        if color not in (YELLOW, RED):
            raise InvalidInput("a card is yellow or red", field="color")
        return [(at, CARDS_YELLOW if color == YELLOW else CARDS_RED, 1)]
    if kind == SUPERVISION_ORDER_OPENED:
        return [(at, ORDERS_OPENED, 1)]
    if kind == SUPERVISION_ORDER_ANSWERED:
        # Counted where the order was opened, so a period's open orders = opened - answered.
        if not event.get("opened_at"):
            raise InvalidInput("an answer names when its order was opened", field="opened_at")
        return [(event["opened_at"], ORDERS_ANSWERED, 1)]
    if kind == SUPERVISION_ORDER_OVERDUE:
        return [(at, ORDERS_OVERDUE, 1)]
    if kind == COMPLAINT_FILED:
        return [(at, COMPLAINTS, 1)]
    if kind == RATING_GIVEN:
        out = [(at, metric, n) for metric, n in _rating(_level(event, "level"), +1)]
        if event.get("previous_level") is not None:
            # One rating per case: a re-rating takes the earlier one out where it was counted.
            before = event.get("previous_at") or at
            out += [(before, metric, n) for metric, n in
                    _rating(_level(event, "previous_level"), -1)]
        return out
    if kind == RATING_WITHDRAWN:
        if not event.get("rated_at"):
            raise InvalidInput("a withdrawn rating names when it was given", field="rated_at")
        return [(event["rated_at"], metric, n) for metric, n in
                _rating(_level(event, "level"), -1)]
    if kind == RECTIFICATION_OVERDUE:
        return [(at, RECTIFICATIONS_OVERDUE, 1)]
    raise InvalidInput(f"no such event kind {kind!r}; one of {', '.join(EVENT_KINDS)}",
                       field="kind")


def increments(event: Mapping) -> list[Increment]:
    """The counter increments an event makes, for every scope it names and all three periods.

    Every event: {"kind", "at" (aware datetime or ISO-8601 with offset), "department",
    "window" (optional), "staff" (optional: an id or a list of ids)}, plus per kind:
      case_submitted              channel: online | window | agent
      case_completed              on_time: bool, early: bool, working_days: number (or
                                  working_seconds); `completion_facts` computes the three
      card_raised                 color: yellow | red
      supervision_order_opened    —
      supervision_order_answered  opened_at: when the order was opened
      supervision_order_overdue   —
      complaint_filed             —
      rating_given                level: 1–5; a re-rating adds previous_level and previous_at
      rating_withdrawn            level and rated_at of the rating taken out
      rectification_overdue       —"""
    if not isinstance(event, Mapping):
        raise InvalidInput("an event is an object", field="event")
    named = _subjects(event)
    out = []
    for when, metric, amount in _changes(event):
        if amount == 0:
            continue
        for period in periods_of(when):
            out.extend(Increment(scope, subject, period, metric, amount)
                       for scope, subject in named)
    return out


def grouped(incs: Iterable[Increment]) -> dict[tuple[str, str, str], dict[str, int]]:
    """Increments summed per counter item: one atomic ADD per (scope, subject, period)."""
    out: dict[tuple[str, str, str], dict[str, int]] = {}
    for inc in incs:
        metrics = out.setdefault((inc.scope, inc.subject, inc.period), {})
        metrics[inc.metric] = metrics.get(inc.metric, 0) + inc.amount
    return out


def completion_facts(step: StepClock, clock: WorkingClock, at: datetime) -> dict:
    """on_time, early and working_days of a case completed at `at`, read on its promised clock:
    on time unless past the deadline; early when a whole working day or more was left (so an
    immediate item, whose limit is the day itself, is on time but never early); the working
    days used exclude pauses (补正, special procedures)."""
    on_time = not step.is_overdue(clock, at)
    return {"on_time": on_time,
            "early": on_time and step.remaining(clock, at) >= WORKING_DAY,
            "working_days": max(0.0, step.used(clock, at)) / WORKING_DAY}


# -- counters ----------------------------------------------------------------------------------
Key = tuple[str, str, str]


class Counters(Mapping):
    """A mapping (scope, subject, period) -> {metric: number}. Mergeable; indexed by period, so
    reading one period touches only the subjects counted in it."""

    def __init__(self, items: Mapping[Key, Mapping[str, int]] | None = None):
        self._by_period: dict[str, dict[tuple[str, str], dict[str, int]]] = {}
        self._periods: dict[tuple[str, str], set[str]] = {}
        for key, metrics in (items or {}).items():
            self.add(key, metrics)

    @classmethod
    def of_events(cls, events: Iterable[Mapping]) -> "Counters":
        counters = cls()
        for event in events:
            counters.record(event)
        return counters

    # -- writing ---------------------------------------------------------------------------
    def add(self, key: Key, metrics: Mapping[str, int]) -> "Counters":
        scope, subject, period = key
        if scope not in SCOPES:
            raise InvalidInput(f"scope is one of {', '.join(SCOPES)}", field="scope")
        row = self._by_period.setdefault(period, {}).get((scope, subject))
        if row is None:
            row = self._by_period[period][(scope, subject)] = {}
            self._periods.setdefault((scope, subject), set()).add(period)
        for metric, amount in metrics.items():
            row[metric] = row.get(metric, 0) + amount
        return self

    def apply(self, incs: Iterable[Increment]) -> "Counters":
        for key, metrics in grouped(incs).items():
            self.add(key, metrics)
        return self

    def record(self, event: Mapping) -> "Counters":
        return self.apply(increments(event))

    def merge(self, other: "Counters") -> "Counters":
        """A new set holding both: counters of separate shards or batches add up."""
        out = Counters()
        for source in (self, other):
            for key, metrics in source.items():
                out.add(key, metrics)
        return out

    __add__ = merge

    # -- reading ---------------------------------------------------------------------------
    def metrics(self, scope: str, subject: str, period: str) -> Mapping[str, int]:
        """A subject's counters for a period; empty when nothing was counted."""
        return self._by_period.get(period, {}).get((scope, subject), {})

    def __getitem__(self, key: Key) -> Mapping[str, int]:
        scope, subject, period = key
        row = self._by_period.get(period, {}).get((scope, subject))
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key: object) -> bool:
        try:
            self[key]   # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            return False
        return True

    def __iter__(self) -> Iterator[Key]:
        for period, rows in self._by_period.items():
            for scope, subject in rows:
                yield scope, subject, period

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._by_period.values())

    def items(self) -> Iterator[tuple[Key, Mapping[str, int]]]:   # faster than a view
        for period, rows in self._by_period.items():
            for (scope, subject), metrics in rows.items():
                yield (scope, subject, period), metrics

    def subjects(self, scope: str, period: str) -> list[str]:
        return [subject for s, subject in self._by_period.get(period, {}) if s == scope]

    def periods(self, scope: str, subject: str) -> list[str]:
        return sorted(self._periods.get((scope, subject), ()))

    def as_dict(self) -> dict[Key, dict[str, int]]:
        """Every counter item with its non-zero metrics (a re-rating can leave zeros behind)."""
        out = {}
        for key, metrics in self.items():
            kept = {m: n for m, n in metrics.items() if n}
            if kept:
                out[key] = kept
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Counters) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"Counters({len(self)} items)"

    # -- storage ---------------------------------------------------------------------------
    def to_items(self) -> list[dict]:
        return [{"scope": s, "subject": subject, "period": p, "metrics": dict(metrics)}
                for (s, subject, p), metrics in self.items()]

    @classmethod
    def from_items(cls, rows: Iterable[Mapping]) -> "Counters":
        counters = cls()
        for row in rows:
            counters.add((row["scope"], row["subject"], row["period"]),
                         {m: int(n) for m, n in row["metrics"].items()})
        return counters


# -- static facts from the catalog -------------------------------------------------------------
@dataclass(frozen=True)
class Subject:
    """What the catalog says of a department, window or staff member."""
    scope: str
    code: str
    name: str
    short_name: str
    hall: str | None
    department: str | None
    window: str | None
    items_listed: int     # items in the department's power list
    items_online: int     # …of those, online in the catalog (at the window's hall, for a window)


def subjects_of(catalog) -> dict[str, dict[str, Subject]]:
    """scope -> code -> Subject, from a `Catalog`. The onboarding rate is the share of the power
    list that the catalog publishes online: for a department anywhere, for a window (and its
    staff) at the window's hall; the chief representative, who has no window, the department's."""
    out: dict[str, dict[str, Subject]] = {scope: {} for scope in SCOPES}
    if catalog is None:
        return out
    items = catalog.items
    for code, dept in catalog.departments.items():
        listed = list(dict.fromkeys(dept.get("power_list", ())))
        online = sum(1 for item in listed if item in items)
        short = dept.get("short_name") or dept["name"]
        out[SCOPE_DEPARTMENT][code] = Subject(SCOPE_DEPARTMENT, code, dept["name"], short,
                                              dept.get("hall"), code, None, len(listed), online)
        chief = dept.get("chief_representative")
        if chief:
            out[SCOPE_STAFF][chief["staff_id"]] = Subject(
                SCOPE_STAFF, chief["staff_id"], chief["name"], chief["name"], dept.get("hall"),
                code, None, len(listed), online)
        for window in dept.get("windows", ()):
            hall = window.get("hall") or dept.get("hall")
            here = sum(1 for item in listed if item in items and hall in items[item]["halls"])
            out[SCOPE_WINDOW][window["code"]] = Subject(
                SCOPE_WINDOW, window["code"], window["name"], window["name"], hall, code,
                window["code"], len(listed), here)
            for person in window.get("staff", ()):
                out[SCOPE_STAFF][person["staff_id"]] = Subject(
                    SCOPE_STAFF, person["staff_id"], person["name"], person["name"], hall, code,
                    window["code"], len(listed), here)
    return out


# -- scorecards --------------------------------------------------------------------------------
def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Scorecard:
    scope: str
    subject: str
    period: str
    name: str | None = None
    short_name: str | None = None
    hall: str | None = None
    department: str | None = None
    items_listed: int = 0
    items_online: int = 0
    applications: int = 0
    applications_online: int = 0
    completed: int = 0
    completed_on_time: int = 0
    completed_early: int = 0
    working_seconds: int = 0
    cards_yellow: int = 0
    cards_red: int = 0
    orders_opened: int = 0
    orders_answered: int = 0
    orders_overdue: int = 0
    complaints: int = 0
    ratings: int = 0
    ratings_satisfied: int = 0
    ratings_bad: int = 0
    rating_levels: int = 0
    rectifications_overdue: int = 0

    @classmethod
    def from_counters(cls, scope: str, subject: str, period: str, metrics: Mapping[str, int],
                      facts: Subject | None = None) -> "Scorecard":
        known = {m: metrics.get(m, 0) for m in METRICS}
        if facts is None:
            return cls(scope, subject, period, **known)
        return cls(scope, subject, period, facts.name, facts.short_name, facts.hall,
                   facts.department, facts.items_listed, facts.items_online, **known)

    # -- the four rates and the other indices ----------------------------------------------
    @property
    def onboarding_rate(self) -> float | None:      # 入驻率
        return _ratio(self.items_online, self.items_listed)

    @property
    def online_rate(self) -> float | None:          # 网办率
        return _ratio(self.applications_online, self.applications)

    @property
    def on_time_rate(self) -> float | None:         # 按时办结率
        return _ratio(self.completed_on_time, self.completed)

    @property
    def satisfaction_rate(self) -> float | None:    # 满意率
        return _ratio(self.ratings_satisfied, self.ratings)

    @property
    def early_completion_rate(self) -> float | None:   # 提前办结率
        return _ratio(self.completed_early, self.completed)

    @property
    def average_working_days(self) -> float | None:    # 平均办理时长（工作日）
        return _ratio(self.working_seconds, self.completed * WORKING_DAY)

    @property
    def average_rating(self) -> float | None:
        return _ratio(self.rating_levels, self.ratings)

    @property
    def open_orders(self) -> int:                      # 未办结督办单
        return max(0, self.orders_opened - self.orders_answered)

    @property
    def active(self) -> bool:
        """Anything to score: an application, a completion or a rating in the period."""
        return bool(self.applications or self.completed or self.ratings)

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in SCORECARD_KEYS}


DERIVED = ("onboarding_rate", "online_rate", "on_time_rate", "satisfaction_rate",
           "early_completion_rate", "average_working_days", "average_rating", "open_orders")
COUNTS = tuple(f.name for f in fields(Scorecard) if f.type == "int")
SCORECARD_KEYS = tuple(f.name for f in fields(Scorecard)) + DERIVED   # all scalars


def total(cards: Iterable[Scorecard], scope: str, subject: str, period: str,
          name: str | None = None) -> Scorecard:
    """The sum of several scorecards' counts (e.g. a hall's, from its departments)."""
    sums = dict.fromkeys(COUNTS, 0)
    for card in cards:
        for count in COUNTS:
            sums[count] += getattr(card, count)
    return Scorecard(scope, subject, period, name, name, **sums)


# -- weights -----------------------------------------------------------------------------------
RATE_WEIGHTS = {"onboarding": "onboarding_rate", "online": "online_rate",
                "on_time": "on_time_rate", "satisfaction": "satisfaction_rate",
                "early_completion": "early_completion_rate"}
DEDUCTIONS = {"yellow_card": "cards_yellow", "red_card": "cards_red", "open_order": "open_orders",
              "complaint": "complaints", "overdue_rectification": "rectifications_overdue"}


@dataclass(frozen=True)
class Weights:
    """A hall's scoring rules: rate weights (relative; renormalised over the rates a subject
    has), points deducted per card, open order, complaint and overdue rectification, the
    completed cases a window needs in the quarter to be the red-flag window, and the cases
    (applications + completions) a subject needs in a period to be ranked at all."""
    onboarding: float = 10.0
    online: float = 20.0
    on_time: float = 30.0
    satisfaction: float = 30.0
    early_completion: float = 10.0
    yellow_card: float = 1.0
    red_card: float = 5.0
    open_order: float = 2.0
    complaint: float = 3.0
    overdue_rectification: float = 2.0
    red_flag_min_completed: int = 30
    min_cases_ranked: int = 1

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidInput(f"weight {f.name} must be a number ≥ 0, not {value!r}",
                                   field=f.name)
        for name in ("red_flag_min_completed", "min_cases_ranked"):
            if not isinstance(getattr(self, name), int):
                raise InvalidInput(f"{name} is a whole number of cases", field=name)
        if not any(getattr(self, name) > 0 for name in RATE_WEIGHTS):
            raise InvalidInput("at least one rate needs a weight above 0", field="weights")

    @classmethod
    def from_dict(cls, data: Mapping | None) -> "Weights":
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"unknown weights {', '.join(unknown)}; known: "
                               f"{', '.join(sorted(known))}", field=unknown[0])
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)

    def for_hall(self, hall: str | None) -> "Weights":
        return self


class HallWeights:
    """Weights configured per hall; a hall without its own takes its parent's (a district the
    city's), and a hall without any configured up the line the defaults."""

    def __init__(self, configured: Mapping[str, Weights | Mapping],
                 parents: Mapping[str, str | None] | None = None,
                 default: Weights | None = None):
        self.configured = {hall: w if isinstance(w, Weights) else Weights.from_dict(w)
                           for hall, w in configured.items()}
        self.parents = dict(parents or {})
        self.default = default or Weights()

    @classmethod
    def from_config(cls, configured: Mapping[str, Weights | Mapping], catalog=None,
                    default: Weights | None = None) -> "HallWeights":
        parents = {code: hall.get("parent") for code, hall in catalog.halls.items()} \
            if catalog is not None else {}
        return cls(configured, parents, default)

    def for_hall(self, hall: str | None) -> Weights:
        seen = set()
        while hall is not None and hall not in seen:
            if hall in self.configured:
                return self.configured[hall]
            seen.add(hall)
            hall = self.parents.get(hall)
        return self.default


def _resolver(weights, catalog=None):
    if isinstance(weights, (Weights, HallWeights)):
        return weights
    if weights is None:
        return Weights()
    if isinstance(weights, Mapping):
        return HallWeights.from_config(weights, catalog)
    raise InvalidInput("weights are a Weights, a HallWeights or {hall: weights}", field="weights")


# -- composite, ranking, red-flag window -------------------------------------------------------
def composite(card: Scorecard, weights: Weights) -> float | None:
    """The composite score, 0–100 (see the module's doc); None with nothing to score."""
    if not card.active:
        return None
    weighed = total_weight = 0.0
    for name, rate_name in RATE_WEIGHTS.items():
        rate, weight = getattr(card, rate_name), getattr(weights, name)
        if rate is not None and weight > 0:
            weighed += weight * rate
            total_weight += weight
    if total_weight == 0:
        return None
    deduction = sum(getattr(weights, name) * getattr(card, count)
                    for name, count in DEDUCTIONS.items())
    return round(min(100.0, max(0.0, 100.0 * weighed / total_weight - deduction)), 4)


@dataclass(frozen=True)
class Ranked:
    rank: int | None        # None: unranked (nothing to score, or too few cases)
    composite: float | None
    scorecard: Scorecard

    def to_dict(self) -> dict:
        return {"rank": self.rank, "composite": self.composite, **self.scorecard.to_dict()}


def _scored(card: Scorecard, weights: Weights) -> tuple[tuple, Ranked]:
    score = composite(card, weights)
    ranked = score is not None and card.applications + card.completed >= weights.min_cases_ranked
    key = (not ranked, -(score or 0.0), -card.completed, -card.applications, card.scope,
           card.subject)
    return key, Ranked(0 if ranked else None, score, card)


def rank(scorecards: Iterable[Scorecard], weights) -> list[Ranked]:
    """Best first: composite, then more cases completed, then more applications, then code.
    Each subject is scored with its hall's weights (`weights` a Weights or a HallWeights).
    A subject with no composite, or fewer cases (applications + completions) than its hall's
    `min_cases_ranked`, is listed after the ranked ones, with rank None."""
    weights = _resolver(weights)
    scored = sorted((_scored(card, weights.for_hall(card.hall)) for card in scorecards),
                    key=lambda pair: pair[0])
    out, place = [], 0
    for _, entry in scored:
        if entry.rank is not None:
            place += 1
            entry = Ranked(place, entry.composite, entry.scorecard)
        out.append(entry)
    return out


def red_flag_window(window_scorecards_of_quarter: Iterable[Scorecard], weights) -> Ranked | None:
    """The quarter's red-flag window (红旗窗口), chosen by the data alone: the best ranked window
    with at least `red_flag_min_completed` cases completed and no red card (each window read
    with its hall's weights). None if none qualifies."""
    weights = _resolver(weights)
    cards = list(window_scorecards_of_quarter)
    for card in cards:
        if card.scope != SCOPE_WINDOW or period_kind(card.period) != QUARTER:
            raise InvalidInput(f"the red-flag window is chosen among windows' quarters, not "
                               f"{card.scope} {card.period}", field="period")
    if len({card.period for card in cards}) > 1:
        raise InvalidInput("the red-flag window is chosen within one quarter", field="period")
    eligible = [card for card in cards if card.cards_red == 0
                and card.completed >= weights.for_hall(card.hall).red_flag_min_completed]
    ranked = [entry for entry in rank(eligible, weights) if entry.rank is not None]
    return ranked[0] if ranked else None


# -- efficiency archive ------------------------------------------------------------------------
ARCHIVE_COUNTS = (APPLICATIONS, COMPLETED, COMPLETED_ON_TIME, COMPLETED_EARLY, CARDS_YELLOW,
                  CARDS_RED, ORDERS_OPENED, ORDERS_OVERDUE, COMPLAINTS, RATINGS,
                  RATINGS_SATISFIED, RATINGS_BAD, RECTIFICATIONS_OVERDUE)


def _archive_line(card: Scorecard) -> dict:
    out = {count: getattr(card, count) for count in ARCHIVE_COUNTS}
    out.update(open_orders=card.open_orders, average_working_days=card.average_working_days,
               on_time_rate=card.on_time_rate, satisfaction_rate=card.satisfaction_rate,
               average_rating=card.average_rating)
    return out


def efficiency_archive(staff_id: str, counters: Counters, catalog=None) -> dict:
    """A staff member's efficiency archive (效能档案): month by month and in all, the cases
    completed and their average working days, cards, orders, complaints and ratings."""
    facts = subjects_of(catalog)[SCOPE_STAFF].get(staff_id)
    months = [p for p in counters.periods(SCOPE_STAFF, staff_id) if period_kind(p) == MONTH]
    cards = [Scorecard.from_counters(SCOPE_STAFF, staff_id, month,
                                     counters.metrics(SCOPE_STAFF, staff_id, month), facts)
             for month in months]
    return {"staff_id": staff_id,
            "name": facts.name if facts else None,
            "department": facts.department if facts else None,
            "window": facts.window if facts else None,
            "months": [{"month": card.period, **_archive_line(card)} for card in cards],
            "total": _archive_line(total(cards, SCOPE_STAFF, staff_id, "all"))}


# -- compiling a period ------------------------------------------------------------------------
RANKING_KEYS = {SCOPE_DEPARTMENT: "departments", SCOPE_WINDOW: "windows", SCOPE_STAFF: "staff"}


def compile_period(counters: Counters, catalog, period: str, weights=None,
                   hall: str | None = None) -> dict:
    """Rankings of departments, windows and staff for one period (a day, month or quarter),
    with the totals of the departments and, for a quarter, each hall's red-flag window.
    `weights`: a Weights, a HallWeights or {hall code: weights dict}. `hall` keeps the subjects
    of one hall only. Reads one counter item per subject: no case is read."""
    kind = period_kind(period)
    weights = _resolver(weights, catalog)
    facts = subjects_of(catalog)
    out: dict = {"period": period, "kind": kind, "hall": hall,
                 "hall_name": catalog.halls[hall]["name"]
                 if hall and catalog is not None and hall in catalog.halls else None}
    cards_by_scope: dict[str, list[Scorecard]] = {}
    for scope in SCOPES:
        known = facts[scope]
        codes = list(dict.fromkeys([*known, *counters.subjects(scope, period)]))
        cards = [Scorecard.from_counters(scope, code, period,
                                         counters.metrics(scope, code, period), known.get(code))
                 for code in codes]
        if hall is not None:
            cards = [card for card in cards if card.hall == hall]
        cards_by_scope[scope] = cards
        out[RANKING_KEYS[scope]] = [entry.to_dict() for entry in rank(cards, weights)]
    totals = total(cards_by_scope[SCOPE_DEPARTMENT], "hall", hall or "all", period,
                   out["hall_name"])
    out["totals"] = totals.to_dict()
    out["red_flag_windows"] = {}
    if kind == QUARTER:
        by_hall: dict[str, list[Scorecard]] = {}
        for card in cards_by_scope[SCOPE_WINDOW]:
            if card.hall is not None:   # a window the catalog no longer lists competes nowhere
                by_hall.setdefault(card.hall, []).append(card)
        for window_hall, cards in sorted(by_hall.items()):
            best = red_flag_window(cards, weights)
            if best is not None:
                out["red_flag_windows"][window_hall] = best.to_dict()
    out["subjects"] = sum(len(cards) for cards in cards_by_scope.values())
    return out


# -- export ------------------------------------------------------------------------------------
CSV_COLUMNS = (("rank", "排名"), ("subject", "编码"), ("name", "名称"), ("hall", "大厅"),
               ("department", "部门"), ("period", "统计周期"), ("composite", "综合得分"),
               ("onboarding_rate", "入驻率(%)"), ("online_rate", "网办率(%)"),
               ("on_time_rate", "按时办结率(%)"), ("satisfaction_rate", "满意率(%)"),
               ("early_completion_rate", "提前办结率(%)"),
               ("average_working_days", "平均办理时长(工作日)"), ("applications", "申报件数"),
               ("applications_online", "网上申报件数"), ("completed", "办结件数"),
               ("completed_on_time", "按时办结件数"), ("completed_early", "提前办结件数"),
               ("cards_yellow", "黄牌"), ("cards_red", "红牌"), ("open_orders", "未办结督办单"),
               ("orders_overdue", "逾期督办单"), ("complaints", "投诉"), ("ratings", "评价数"),
               ("ratings_bad", "差评数"), ("rectifications_overdue", "逾期整改"))
PERCENT = {"onboarding_rate", "online_rate", "on_time_rate", "satisfaction_rate",
           "early_completion_rate"}


def _as_dict(entry) -> Mapping:
    return entry.to_dict() if hasattr(entry, "to_dict") else entry


def _cell(key: str, value) -> str:
    if value is None:
        return ""
    if key in PERCENT:
        return f"{100 * value:.2f}"
    if key in ("composite", "average_working_days"):
        return f"{value:.2f}"
    return str(value)


def to_csv(ranking: Iterable, excel: bool = False) -> str:
    """A ranking (Ranked entries or their dicts) as CSV with Chinese column titles; rates in
    percent, empty where a rate has no denominator. `excel` adds the BOM Excel needs to read
    UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([title for _, title in CSV_COLUMNS])
    for entry in ranking:
        row = _as_dict(entry)
        writer.writerow([_cell(key, row.get(key)) for key, _ in CSV_COLUMNS])
    return ("\ufeff" if excel else "") + buffer.getvalue()


# -- the monthly report ------------------------------------------------------------------------
CJK_FONTS = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif'
RATE_TITLES = (("onboarding_rate", "入驻率"), ("online_rate", "网办率"),
               ("on_time_rate", "按时办结率"), ("satisfaction_rate", "满意率"))


def _percent(value) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def _number(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _period_title(period: str) -> str:
    kind = period_kind(period)
    if kind == MONTH:
        return f"{period[:4]}年{int(period[5:])}月"
    if kind == QUARTER:
        return f"{period[:4]}年第{period[-1]}季度"
    return f"{period[:4]}年{int(period[5:7])}月{int(period[8:])}日"


def _chart(kind: str, title: str, labels: list[str], series: list[tuple[str, list]],
           percent: bool = False, max_value: float | None = None,
           colors: tuple[str, ...] = ("#2b7bb9", "#e8793a", "#3aa57a", "#8e63b8")) -> str:
    """One inline SVG chart (pygal, its JavaScript left out so the page stands alone), bars
    horizontal and the first label on top."""
    import pygal   # deferred: only the report needs it
    from pygal.style import Style

    style = Style(font_family=CJK_FONTS, background="white", plot_background="white",
                  title_font_size=16, label_font_size=11, major_label_font_size=11,
                  legend_font_size=12, value_font_size=10, colors=colors)
    rows = max(1, len(labels)) * (max(1, len(series)) if kind == "grouped" else 1)
    chart_class = pygal.HorizontalStackedBar if kind == "stacked" else pygal.HorizontalBar
    options = {}
    if kind == "stacked":   # counts: whole-number ticks
        top = max([sum(v or 0 for v in column) for column in zip(*(v for _, v in series))] or [0])
        options["y_labels"] = list(range(0, int(top) + 2, max(1, (int(top) + 1) // 10 or 1)))
    longest = max((len(label) for label in labels), default=0)
    chart = chart_class(title=title, style=style, js=[], width=900,
                        height=max(240, 90 + 18 * rows), show_legend=len(series) > 1,
                        legend_at_bottom=True, print_values=kind == "bar",
                        value_formatter=(lambda v: f"{v:.2f}%") if percent
                        else (lambda v: f"{v:.2f}") if kind == "bar" else (lambda v: f"{v:g}"),
                        truncate_label=-1, margin_left=6 * longest,   # CJK labels run wide
                        range=(0, max_value) if max_value else None, **options)
    chart.x_labels = labels[::-1]
    for name, values in series:
        chart.add(name, values[::-1])
    return chart.render(is_unicode=True, disable_xml_declaration=True)


def _table(entries: list[dict], limit: int | None = None) -> str:
    head = ("排名", "名称", "综合得分", "入驻率", "网办率", "按时办结率", "满意率", "提前办结率",
            "平均办理时长", "办结件数", "黄牌", "红牌", "未办结督办单", "投诉")
    rows = []
    for entry in entries[:limit]:
        cells = ("—" if entry["rank"] is None else entry["rank"],
                 entry.get("name") or entry["subject"], _number(entry["composite"]),
                 _percent(entry["onboarding_rate"]), _percent(entry["online_rate"]),
                 _percent(entry["on_time_rate"]), _percent(entry["satisfaction_rate"]),
                 _percent(entry["early_completion_rate"]),
                 _number(entry["average_working_days"]), entry["completed"],
                 entry["cards_yellow"], entry["cards_red"], entry["open_orders"],
                 entry["complaints"])
        rows.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
    return ("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def monthly_report(compiled: dict, title: str | None = None, top_staff: int = 20) -> str:
    """A self-contained HTML report of one compiled period (`compile_period`'s output): the
    totals, charts of the departments' composite scores, four rates and cards / complaints, the
    department, window and staff rankings and, for a quarter, the red-flag windows."""
    period = compiled["period"]
    where = compiled.get("hall_name") or ""
    kind_title = {MONTH: "月报", QUARTER: "季报", DAY: "日报"}[period_kind(period)]
    title = title or f"{where}{_period_title(period)}绩效{kind_title}"
    departments = compiled["departments"]
    scored = [d for d in departments if d["rank"] is not None]
    labels = [d.get("short_name") or d.get("name") or d["subject"] for d in scored]
    t = compiled["totals"]
    summary = (("申报件数", t["applications"]), ("网办率", _percent(t["online_rate"])),
               ("办结件数", t["completed"]), ("按时办结率", _percent(t["on_time_rate"])),
               ("提前办结率", _percent(t["early_completion_rate"])),
               ("满意率", _percent(t["satisfaction_rate"])),
               ("平均办理时长(工作日)", _number(t["average_working_days"])),
               ("黄牌", t["cards_yellow"]), ("红牌", t["cards_red"]),
               ("未办结督办单", t["open_orders"]), ("投诉", t["complaints"]),
               ("差评", t["ratings_bad"]))
    parts = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        "<style>body{font-family:" + CJK_FONTS + ";margin:2em auto;max-width:1000px;"
        "color:#222}table{border-collapse:collapse;width:100%;font-size:13px;margin:1em 0}"
        "th,td{border:1px solid #ccc;padding:4px 6px;text-align:right}"
        "td:nth-child(2),th:nth-child(2){text-align:left}th{background:#f0f3f7}"
        "figure{margin:1em 0}svg{max-width:100%;height:auto}"
        ".summary td:first-child{text-align:left}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>统计周期：{escape(period)}　统计对象：{len(departments)} 个部门、"
        f"{len(compiled['windows'])} 个窗口、{len(compiled['staff'])} 名工作人员</p>",
        "<h2>总体情况</h2><table class=\"summary\"><tbody>"
        + "".join(f"<tr><td>{k}</td><td>{escape(str(v))}</td></tr>" for k, v in summary)
        + "</tbody></table>",
        "<h2>部门综合得分</h2><figure>"
        + _chart("bar", "部门综合得分", labels, [("综合得分", [d["composite"] for d in scored])],
                 max_value=100) + "</figure>",
        "<h2>部门“四率”</h2><figure>"
        + _chart("grouped", "部门“四率”（%）", labels,
                 [(name, [None if d[key] is None else round(100 * d[key], 2) for d in scored])
                  for key, name in RATE_TITLES], percent=True, max_value=100) + "</figure>",
        "<h2>黄牌、红牌与投诉</h2><figure>"
        + _chart("stacked", "黄牌、红牌与投诉", labels,
                 [("黄牌", [d["cards_yellow"] for d in scored]),
                  ("红牌", [d["cards_red"] for d in scored]),
                  ("投诉", [d["complaints"] for d in scored])],
                 colors=("#f2c12e", "#d9342b", "#4a6fa5")) + "</figure>",
        "<h2>部门排名</h2>" + _table(departments),
        "<h2>窗口排名</h2>" + _table(compiled["windows"]),
        f"<h2>工作人员排名（前{top_staff}名）</h2>" + _table(compiled["staff"], top_staff),
    ]
    if compiled.get("red_flag_windows"):
        parts.append("<h2>红旗窗口</h2><ul>" + "".join(
            f"<li>{escape(hall)}：{escape(w.get('name') or w['subject'])}"
            f"（综合得分 {_number(w['composite'])}，办结 {w['completed']} 件）</li>"
            for hall, w in compiled["red_flag_windows"].items()) + "</ul>")
    parts.append("<p>综合得分 = 各项比率按权重加权（无分母的比率不计），"
                 "减去黄牌、红牌、未办结督办单、投诉与逾期整改的扣分，取值 0–100。</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
