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

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from . import events
from .cases import AGENT, ONLINE, WINDOW
from .clock import WORKING_DAY, StepClock, WorkingClock
from .periods import periods_of
from .ratings import is_satisfied

VERY_SATISFIED = 5                             # 非常满意

# -- scopes ------------------------------------------------------------------------------------
SCOPE_DEPARTMENT, SCOPE_WINDOW, SCOPE_STAFF = "department", "window", "staff"
SCOPES = (SCOPE_DEPARTMENT, SCOPE_WINDOW, SCOPE_STAFF)

# -- metrics: what the counters count (integers, so any order of increments adds up alike) -----
APPLICATIONS = "applications"                  # 申报件数, every channel
APPLICATIONS_ONLINE = "applications_online"    # submitted online or at an agent point
# A case completes once: counted at its lead department (and its deciding window and staff),
# on the whole case's promised limit. Every department's part of it is a step, counted apart.
COMPLETED = "completed"                        # 办结件数: cases
COMPLETED_ON_TIME = "completed_on_time"        # …within the promised limit
COMPLETED_EARLY = "completed_early"            # …a whole working day or more before the deadline
WORKING_SECONDS = "working_seconds"            # working time used by the completed cases, summed
STEPS_COMPLETED = "steps_completed"            # 办结环节: each department's part of a completed
#                                                 case (the lead's part on the whole case's limit)
STEPS_ON_TIME = "steps_on_time"                # …within its own limit
CARDS_YELLOW = "cards_yellow"                  # 黄牌
CARDS_RED = "cards_red"                        # 红牌: a case's, an investigation's, a consultation's
ORDERS_OPENED = "orders_opened"                # 督办单 opened in the period
ORDERS_ANSWERED = "orders_answered"            # …of those, answered since (counted in the
#                                                 period the order was opened: open = difference)
ORDERS_OVERDUE = "orders_overdue"              # orders unanswered at their deadline (escalated)
COMPLAINTS = "complaints"                      # 投诉
RATINGS = "ratings"                            # 好差评: one per case, the last one given
RATINGS_SATISFIED = "ratings_satisfied"        # level ≥ 3: 基本满意 or better
RATINGS_VERY_SATISFIED = "ratings_very_satisfied"   # level 5: 非常满意
RATINGS_BAD = "ratings_bad"                    # level ≤ 2: 差评
RATING_LEVELS = "rating_levels"                # sum of the levels, for the average
RECTIFICATIONS_OVERDUE = "rectifications_overdue"   # 整改 of a 差评 past its deadline
HOTLINE_REQUESTS = "hotline_requests"          # 12345 requests (enquiries, complaints) received
HOTLINE_ANSWERED = "hotline_answered"          # …of those, answered since (counted in the period
#                                                 the request was received)
HOTLINE_REPRIMANDS = "hotline_reprimands"      # 通报批评: a 12345 request still open 5 working
#                                                 days after its deadline

METRICS = (APPLICATIONS, APPLICATIONS_ONLINE, COMPLETED, COMPLETED_ON_TIME, COMPLETED_EARLY,
           WORKING_SECONDS, STEPS_COMPLETED, STEPS_ON_TIME, CARDS_YELLOW, CARDS_RED,
           ORDERS_OPENED, ORDERS_ANSWERED, ORDERS_OVERDUE, COMPLAINTS, RATINGS,
           RATINGS_SATISFIED, RATINGS_VERY_SATISFIED, RATINGS_BAD, RATING_LEVELS,
           RECTIFICATIONS_OVERDUE, HOTLINE_REQUESTS, HOTLINE_ANSWERED, HOTLINE_REPRIMANDS)

HOTLINE_KINDS = ("enquiry", "hotline_complaint")
# A supervised task's red instant (TaskLightRaised's record kind) → what it counts as.
TASK_REDS = {("order", "escalation"): ORDERS_OVERDUE, ("rectification", "red"): RECTIFICATIONS_OVERDUE,
             ("enquiry", "reprimand"): HOTLINE_REPRIMANDS,
             ("hotline_complaint", "reprimand"): HOTLINE_REPRIMANDS,
             ("investigation", "red"): CARDS_RED, ("consultation", "red"): CARDS_RED}

CHANNELS = (ONLINE, WINDOW, AGENT)
ONLINE_CHANNELS = (ONLINE, AGENT)   # an agent point files online for the applicant


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


def _subjects(handler: events.Handler) -> list[tuple[str, str]]:
    named = [(SCOPE_DEPARTMENT, handler.department)]
    if handler.window:
        named.append((SCOPE_WINDOW, handler.window))
    staff = handler.staff or ()
    for person in [staff] if isinstance(staff, str) else staff:
        if (SCOPE_STAFF, person) not in named:
            named.append((SCOPE_STAFF, person))
    return named


def _rating(level: int, sign: int) -> list[tuple[str, int]]:
    satisfied = is_satisfied(level)
    return [(RATINGS, sign), (RATINGS_SATISFIED if satisfied else RATINGS_BAD, sign),
            (RATING_LEVELS, sign * level)] \
        + [(RATINGS_VERY_SATISFIED, sign)] * (level == VERY_SATISFIED)


def _changes(event) -> tuple[events.Handler | None, list[tuple[datetime, str, int]]]:
    """Whom an event counts for, and (instant whose periods it counts in, metric, amount)."""
    match event:
        case events.CaseSubmitted(at=at, channel=channel, handler=handler):
            online = [(at, APPLICATIONS_ONLINE, 1)] if channel in ONLINE_CHANNELS else []
            return handler, [(at, APPLICATIONS, 1)] + online
        case events.CaseCompleted(at=at, handler=handler, on_time=on_time, early=early):
            steps = [(at, STEPS_COMPLETED, 1)] + [(at, STEPS_ON_TIME, 1)] * on_time
            if not event.lead:     # another department's part: a step, not the case
                return handler, steps
            return handler, steps + [(at, COMPLETED, 1),
                                     (at, WORKING_SECONDS, round(event.working_days * WORKING_DAY))] \
                + [(at, COMPLETED_ON_TIME, 1)] * on_time + [(at, COMPLETED_EARLY, 1)] * early
        case events.CardRaised(at=at, color=color, handler=handler):
            return handler, [(at, CARDS_YELLOW if color == events.YELLOW else CARDS_RED, 1)]
        case events.TaskOpened(kind="order", at=at, department=department):
            return events.Handler(department), [(at, ORDERS_OPENED, 1)]
        case events.TaskOpened(kind=kind, at=at, department=department) if kind in HOTLINE_KINDS:
            return events.Handler(department), [(at, HOTLINE_REQUESTS, 1)]
        case events.TaskAnswered(kind=kind, opened_at=opened_at, department=department) \
                if kind in HOTLINE_KINDS:
            return events.Handler(department), [(opened_at, HOTLINE_ANSWERED, 1)]
        case events.TaskLightRaised(at=at, record=record):
            metric = TASK_REDS.get((record.get("task_kind"), record.get("kind")))
            if metric is None or not record.get("department"):
                return None, []
            return events.Handler(record["department"]), [(at, metric, 1)]
        case events.TaskAnswered(kind="order", opened_at=opened_at, department=department):
            # Counted where the order was opened, so a period's open orders = opened - answered.
            return events.Handler(department), [(opened_at, ORDERS_ANSWERED, 1)]
        case events.TaskOverdue(kind="order", at=at, department=department):
            return events.Handler(department), [(at, ORDERS_OVERDUE, 1)]
        case events.TaskOverdue(kind="rectification", at=at, department=department):
            return events.Handler(department), [(at, RECTIFICATIONS_OVERDUE, 1)]
        case events.ComplaintFiled(at=at, handler=handler):
            return handler, [(at, COMPLAINTS, 1)]
        case events.RatingGiven(at=at, level=level, handler=handler, replaces=replaces):
            # One rating per case: a re-rating takes the earlier one out where it was counted.
            earlier = [(replaces[1], metric, n) for metric, n in _rating(replaces[0], -1)] \
                if replaces else []
            return handler, [(at, metric, n) for metric, n in _rating(level, +1)] + earlier
        case events.RatingWithdrawn(rated_at=rated_at, level=level, handler=handler):
            return handler, [(rated_at, metric, n) for metric, n in _rating(level, -1)]
    return None, []          # not counted (other kinds of supervised work, say)


def increments(event) -> list[Increment]:
    """The counter increments an event (chalicelib/domain/events.py) makes, for every scope it
    names (its department, window and staff) and all three periods; none for an event the
    figures do not count."""
    handler, changes = _changes(event)
    if handler is None:
        return []
    named = _subjects(handler)
    rated = _rated_departments(event)
    if rated is not None:       # a rating counts for the departments it rates, by their levels
        named = [(scope, subject) for scope, subject in named if scope != SCOPE_DEPARTMENT]
    out = []
    for when, metric, amount in changes:
        if amount == 0:
            continue
        for period in periods_of(when):
            out.extend(Increment(scope, subject, period, metric, amount)
                       for scope, subject in named)
    for when, department, metric, amount in rated or ():
        out.extend(Increment(SCOPE_DEPARTMENT, department, period, metric, amount)
                   for period in periods_of(when) if amount)
    return out


def _rated_departments(event) -> list[tuple[datetime, str, str, int]] | None:
    """A rating's department counters: each department by the level it was given
    (`department_levels`: the departments the applicant rated, else the handler's department
    by the rating's level), the window and staff by the rating's own. None: not a rating."""
    def levels(when, by_department, sign):
        return [(when, department, metric, n) for department, level in by_department.items()
                for metric, n in _rating(level, sign)]
    match event:
        case events.RatingGiven(at=at, replaces=replaces):
            return levels(at, event.department_levels, +1) + (
                levels(replaces[1], event.replaced_department_levels, -1) if replaces else [])
        case events.RatingWithdrawn(rated_at=rated_at):
            return levels(rated_at, event.department_levels, -1)
    return None


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
