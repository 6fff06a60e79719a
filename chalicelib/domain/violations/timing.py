"""The rules of time of electronic supervision (电子监察): a case completed, or still open, past
its promised limit (2); a step past its own limit while the whole is in time (3); pre-review or
forwarding late (4); and work too fast, or entered outside office hours, to have been done in
the system (6). Every clock is a working clock, pauses and extensions counted."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Callable

from ..approval import ACCEPTANCE, CASE_CLOCK, DECISION, RED_AFTER, Branch
from ..cases import CHINA_TIME
from ..clock import WORKING_DAY, StepClock, WorkingClock
from .facts import CaseFacts
from .findings import Finding, _case_people, _finding, _instant, _iso, _people
from .policy import Policy

PRE_REVIEW_MAX_DAYS = 5          # art. 32: after five days the application counts as accepted


# -- the rules ----------------------------------------------------------------------------------
def exceeded_promised_limit(facts: CaseFacts, policy: Policy) -> list[Finding]:
    """2. 超时办理: the case's clock runs from acceptance over the promised limit, stopped by
    corrections and special procedures and lengthened by approved extensions; completing one
    second after its deadline is late. The lead department answers for the whole (its accepting
    window took the case); the steps that overran are named in the evidence."""
    late = _case_late(facts)
    if late is None:
        return []
    due, done, step = late
    branch_id, people = _case_people(facts)
    until = done or facts.as_of
    return [_finding(facts, policy, "exceeded_promised_limit", "case", due + RED_AFTER, people, {
        "promised_limit_days": facts.item.get("promised_limit_days"), "limit_days": step.limit,
        "extensions": list(step.extensions), "accepted_at": facts.case.accepted_at,
        "deadline": _iso(due), "completed_at": _iso(done) if done else None,
        "overdue_working_days": round(facts.clock.working_seconds(due, until) / WORKING_DAY, 2),
        "late_steps": [b.branch_id for b in facts.steps(ACCEPTANCE, DECISION)
                       if b.stage > 0 and _step_late(facts, b)]}, branch_id)]


def step_over_its_limit(facts: CaseFacts, policy: Policy) -> list[Finding]:
    """3. A deciding step past its own step limit (extensions and pauses counted) while the whole
    case is in time. Acceptance and forwarding steps are rule 4's."""
    if _case_late(facts) is not None:
        return []
    found = []
    for branch in facts.steps(DECISION):
        if _is_forwarding(facts.item, branch):
            continue
        late = _step_late(facts, branch)
        if late:
            found.append(_lateness(facts, policy, "step_over_its_limit", branch, *late))
    return found


def pre_review_late(facts: CaseFacts, policy: Policy) -> list[Finding]:
    """4. Pre-review (受理) must end within the item's acceptance limit and never later than 5
    working days after receipt (art. 32), pauses for correction aside; the forwarding step of a
    审核转报 item within its own limit."""
    found = []
    for branch in facts.steps(ACCEPTANCE):
        step = branch.step_clock
        if step.limit > PRE_REVIEW_MAX_DAYS:
            step = replace(step, days=PRE_REVIEW_MAX_DAYS, extensions=())
        late = _step_late(facts, branch, step)
        if late:
            found.append(_lateness(facts, policy, "pre_review_late", branch, *late, step=step))
    for branch in facts.steps(DECISION):
        late = _step_late(facts, branch) if _is_forwarding(facts.item, branch) else None
        if late:
            found.append(_lateness(facts, policy, "pre_review_late", branch, *late))
    return found


def off_system_handling(facts: CaseFacts, policy: Policy) -> list[Finding]:
    """6. 体外循环: work done outside the system leaves one trace in it, a case accepted and
    completed, or a deciding step started and decided, in less working time than anyone could
    read the file (acceptance is left out: a quick pre-review is what the hall wants). The floor
    is the hall's, per power category (Policy.fastest). Working time is the
    clock's, pauses excluded: time on days the hall is closed does not count, so work that lies
    wholly on such days measures as none. Where the hall sets office hours, a decision entered
    outside them is the other trace."""
    found = []
    fastest = policy.fastest_for(facts.item)
    case = facts.case
    if fastest is not None and case.accepted_at and case.completed_at:
        whole = facts.branch(CASE_CLOCK)
        start, end = _instant(case.accepted_at), _instant(case.completed_at)
        minutes = _running_minutes(facts.clock, whole.step_clock if whole else None, start, end)
        if minutes < fastest.case_minutes:
            branch_id, people = _case_people(facts)
            found.append(_finding(facts, policy, "off_system_handling", "case#too_fast", end,
                                  people, _too_fast(facts, start, end, minutes,
                                                    fastest.case_minutes), branch_id))
    if fastest is not None:
        for branch in facts.steps(DECISION):
            act = facts.final_act(branch.branch_id)
            if act is None:
                continue
            step = branch.step_clock
            minutes = _running_minutes(facts.clock, step, step.start, act.at)
            if minutes < fastest.step_minutes:
                found.append(_finding(facts, policy, "off_system_handling",
                                      f"{branch.branch_id}#too_fast", act.at,
                                      _people(facts, branch.branch_id, act.staff_id),
                                      _too_fast(facts, step.start, act.at, minutes,
                                                fastest.step_minutes), branch.branch_id))
    if policy.office_hours:
        opens, closes = policy.office_hours
        is_working_day: Callable | None = getattr(facts.clock, "is_working_day", None)
        for branch in facts.steps(ACCEPTANCE, DECISION):
            act = facts.final_act(branch.branch_id)
            if act is None:
                continue
            local = act.at.astimezone(CHINA_TIME)
            working_day = is_working_day(local.date()) if is_working_day else True
            if working_day and opens <= local.time() < closes:
                continue
            found.append(_finding(facts, policy, "off_system_handling",
                                  f"{branch.branch_id}#after_hours", act.at,
                                  _people(facts, branch.branch_id, act.staff_id),
                                  {"sign": "outside_office_hours", "decision": act.decision,
                                   "decided_at": _iso(act.at),
                                   "china_time": f"{local:%Y-%m-%d %H:%M}",
                                   "working_day": working_day,
                                   "office_hours": [f"{opens:%H:%M}", f"{closes:%H:%M}"]},
                                  branch.branch_id))
    return found


# -- clocks -------------------------------------------------------------------------------------
def _late(step: StepClock, clock: WorkingClock, done: datetime | None,
          as_of: datetime | None) -> tuple[datetime, datetime | None] | None:
    """(deadline, when it ended) if the step ended after its deadline, or (deadline, None) if it
    is still open past it at `as_of`. A clock paused with time left has no deadline yet."""
    due = step.deadline(clock)
    if due is None:
        return None
    if done is not None:
        return (due, done) if done > due else None
    return (due, None) if as_of is not None and as_of > due else None


def _case_late(facts: CaseFacts):
    whole = facts.branch(CASE_CLOCK)
    if whole is None or not facts.case.accepted_at:   # before acceptance the clock is idle
        return None
    step = whole.step_clock
    done = _instant(facts.case.completed_at) if facts.case.completed_at else None
    late = _late(step, facts.clock, done, facts.as_of)
    return (late[0], late[1], step) if late else None


def _step_late(facts: CaseFacts, branch: Branch, step: StepClock | None = None):
    act = facts.final_act(branch.branch_id)
    return _late(step or branch.step_clock, facts.clock, act.at if act else None, facts.as_of)


def _lateness(facts: CaseFacts, policy: Policy, rule: str, branch: Branch, due: datetime,
              done: datetime | None, step: StepClock | None = None) -> Finding:
    act = facts.final_act(branch.branch_id)
    return _finding(facts, policy, rule, branch.branch_id, due + RED_AFTER,
                    _people(facts, branch.branch_id, act.staff_id if act else None),
                    {"stage": branch.stage, "stage_name": branch.stage_name,
                     "task": branch.task, "limit_days": (step or branch.step_clock).limit,
                     "deadline": _iso(due), "decided_at": _iso(done) if done else None},
                    branch.branch_id)


def _is_forwarding(item: dict, branch: Branch) -> bool:
    """The step of a 审核转报 item that forwards the file upwards (its task says 转报)."""
    return item.get("category") == "审核转报" and "转报" in f"{branch.stage_name}{branch.task}"


def _running_minutes(clock: WorkingClock, step: StepClock | None, start: datetime,
                     end: datetime) -> float:
    """Working minutes from start to end, less the stretches the step's clock was paused.
    Work done wholly while the hall was closed (a weekend duty) is judged by the real time it
    took: the calendar's zero would make any weekend decision look implausibly fast."""
    minutes = _counted_minutes(clock, step, start, end)
    if minutes == 0 and end > start:
        return _counted_minutes(_REAL_TIME, step, start, end)
    return minutes


class _RealTime:
    @staticmethod
    def working_seconds(a: datetime, b: datetime) -> float:
        return (b - a).total_seconds()


_REAL_TIME = _RealTime()


def _counted_minutes(clock, step: StepClock | None, start: datetime, end: datetime) -> float:
    seconds, cursor = 0.0, start
    for paused_at, resumed_at in (step.pauses if step else ()):
        if paused_at >= end:
            break
        if paused_at > cursor:
            seconds += clock.working_seconds(cursor, paused_at)
        if resumed_at is None:
            return seconds / 60
        cursor = max(cursor, resumed_at)
    if end > cursor:
        seconds += clock.working_seconds(cursor, end)
    return seconds / 60


def _too_fast(facts: CaseFacts, start: datetime, end: datetime, minutes: float,
              floor: float) -> dict:
    return {"sign": "too_fast", "category": facts.item.get("category"),
            "kind": facts.item.get("kind"), "from": _iso(start), "to": _iso(end),
            "working_minutes": round(minutes, 1), "fastest_minutes": floor}
