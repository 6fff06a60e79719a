"""What the performance figures count (绩效考核): the scopes, the metrics and the events, and
the counter increments each event makes. Plain rules, no I/O.

Every event that happens (a case submitted, completed, a card raised, a rating given…) becomes
counter increments at once (`increments`), each keyed by (scope, subject, period): a storage
adapter keeps one item per key and applies them with an atomic ADD. Compiling a period then reads
one counter set per subject and never a case, so its cost grows with departments x periods, not
with the number of cases.

An event increments its day, its month and its quarter (`periods.periods_of`), for every scope it
names (its department, its window, its staff). Counters are integers only, so increments add up
to the same totals in any order."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from .cases import AGENT, ONLINE, WINDOW
from .clock import WORKING_DAY, StepClock, WorkingClock
from .errors import InvalidInput
from .periods import periods_of

# -- scopes ------------------------------------------------------------------------------------
SCOPE_DEPARTMENT, SCOPE_WINDOW, SCOPE_STAFF = "department", "window", "staff"
SCOPES = (SCOPE_DEPARTMENT, SCOPE_WINDOW, SCOPE_STAFF)

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
