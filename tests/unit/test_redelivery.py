"""A workflow message handled again (the queue delivers at least once, and a message whose
handling failed half-way is received again) runs its follow-up steps again, idempotently: a
stage's completions are counted, the violation rules run and the case clock's answer is given,
each once in effect, however often and wherever the handling stopped before."""
from datetime import timedelta

import pytest

from chalicelib.adapters.memory import InMemoryCounters, InMemoryReports
from chalicelib.domain import events
from chalicelib.service.performance import Performance
from chalicelib.service.supervision import Supervision
from tests.unit.conftest import window_cameras
from tests.unit.test_approval_service import (ACCEPTING, CASE_CLOCK, DEPARTMENTS, REVIEWERS, T0,
                                              WORKDAY, accepted, awaiting, branch, decide,
                                              submit, tick, told, w)  # noqa: F401


class Down(RuntimeError):
    """The counters' table failing, as a dead endpoint does."""


class FlakyCounters(InMemoryCounters):
    """Counters whose next `failures` adds of an event kind fail before writing anything."""

    def __init__(self):
        super().__init__()
        self.failures: dict[str, int] = {}

    def add(self, grouped, once=None):
        kind = (once or "").split(":")[1] if once and ":" in once else None
        if self.failures.get(kind, 0) > 0:
            self.failures[kind] -= 1
            raise Down(f"counting {once} failed")
        return super().add(grouped, once=once)


@pytest.fixture
def counted(w):
    """The approval world with the performance counters and the violation rules subscribed,
    as chalicelib/bootstrap.py wires them."""
    from chalicelib.adapters.evidence import InMemoryEvidence
    from chalicelib.adapters.memory import InMemoryFaqs, InMemoryTasks
    from chalicelib.domain.clock import CompressedClock

    counters = FlakyCounters()
    performance = Performance(w.catalog, counters, InMemoryReports(), lambda: w.now[0])
    for kind in events.COUNTED:
        w.events.subscribe(kind, performance.count)
    supervision = Supervision(w.catalog, w.cases, InMemoryTasks(), w.supervision, w.engine,
                              w.notifier, window_cameras(w.catalog, T0, T0 + timedelta(hours=1)), InMemoryEvidence(),
                              InMemoryFaqs(), CompressedClock(WORKDAY), lambda: w.now[0],
                              events_bus=w.events)
    supervision.subscribe(w.events)
    w.counters = counters
    return w


def stage_message(w, case_id, stage, token):
    return {"type": "stage_decided", "case_id": case_id, "stage": stage, "token": token,
            "results": [{"branch_id": b.branch_id, "outcome": b.outcome}
                        for b in w.cases.branches(case_id) if b.stage == stage]}


def totals(counters: InMemoryCounters, period_prefix="2026-11-18") -> dict:
    """Each department's counters of the day, as the figures read them."""
    return {key[1]: dict(metrics) for key, metrics in counters.rows.items()
            if key[0] == "department" and key[2] == period_prefix}


def all_decided(w):
    case_id, tokens = accepted(w)
    tick(w, 2)
    for code in DEPARTMENTS:
        decide(w, case_id, f"1:{code}", {"decision": "approve", "staff_id": REVIEWERS[code]})
    return case_id, tokens


def test_a_stage_message_failing_at_the_count_counts_every_completion_once_when_handled_again(
        counted):
    w = counted
    case_id, tokens = all_decided(w)
    w.counters.failures["completed"] = 1          # the first completion's count fails
    message = stage_message(w, case_id, 1, "stage-1@first")
    with pytest.raises(Down):
        w.approval.on_workflow_message(message)
    case = w.cases.get(case_id)
    assert case.status == "completed"             # the stage was recorded before the count
    assert not any(m.get("steps_completed") for m in totals(w.counters).values())
    # The queue delivers the message again; every follow-up step runs again.
    assert w.approval.on_workflow_message({**message, "token": "stage-1@again"}) == "done"
    assert told(w, "stage-1@again") == [{"done": True}]
    # ...and once more, as a queue may: nothing is counted twice.
    assert w.approval.on_workflow_message({**message, "token": "stage-1@third"}) == "done"
    day = totals(w.counters)
    assert {department: day[department].get("steps_completed") for department in DEPARTMENTS} == \
        {department: 1 for department in DEPARTMENTS}
    assert sum(m.get("completed", 0) for m in day.values()) == 1     # the case, at its lead
    assert sum(m.get("applications", 0) for m in day.values()) == 1
    completed = [e for e in w.events.of(events.CaseCompleted)]
    assert {e.handler.department for e in completed} == set(DEPARTMENTS)
    # The applicant hears of the completion once, from the handling that recorded it.
    assert sum("已办结" in text for _, text in w.notifier.sent) == 1


def test_a_stage_message_failing_half_way_through_the_counts_finishes_them_once(counted):
    w = counted
    case_id, _ = all_decided(w)
    message = stage_message(w, case_id, 1, "stage-1@first")

    failing_after = {"left": 2}
    add = w.counters.add

    def add_then_fail(grouped, once=None):        # two departments counted, then a failure
        if once and ":completed:" in once:
            if failing_after["left"] == 0:
                raise Down("the table went away")
            failing_after["left"] -= 1
        return add(grouped, once=once)
    w.counters.add = add_then_fail
    with pytest.raises(Down):
        w.approval.on_workflow_message(message)
    assert sum(m.get("steps_completed", 0) for m in totals(w.counters).values()) == 2
    w.counters.add = add
    w.approval.on_workflow_message({**message, "token": "stage-1@again"})
    assert {d: totals(w.counters)[d].get("steps_completed") for d in DEPARTMENTS} == \
        {d: 1 for d in DEPARTMENTS}


def test_a_card_whose_count_failed_is_counted_once_when_its_message_is_handled_again(counted):
    w = counted
    case_id = submit(w)
    awaiting(w, case_id, ACCEPTING, 1)
    tick(w, 8)                                     # the yellow instant
    w.counters.failures["card"] = 1
    with pytest.raises(Down):
        awaiting(w, case_id, ACCEPTING, 1, timer=1, since=w.now[0])
    assert [e["kind"] for e in w.supervision.of_case(case_id)] == ["yellow"]   # recorded
    assert branch(w, case_id, ACCEPTING).emitted == []
    awaiting(w, case_id, ACCEPTING, 1, timer=1, since=w.now[0])               # again
    awaiting(w, case_id, ACCEPTING, 1, timer=1, since=w.now[0])               # and again
    assert totals(w.counters)["SCJG"].get("cards_yellow") == 1
    assert branch(w, case_id, ACCEPTING).emitted == ["yellow"]
    assert [e["kind"] for e in w.supervision.of_case(case_id)] == ["yellow"]
    # The staff member and the chief representative are texted once.
    assert sum("黄灯预警" in text for _, text in w.notifier.sent) == 2


def test_a_stage_message_handled_again_gives_the_case_clock_its_pending_answer(counted):
    w = counted
    case_id = submit(w)
    clock, _ = awaiting(w, case_id, CASE_CLOCK, 0)
    awaiting(w, case_id, ACCEPTING, 1)
    tick(w, 2)
    decide(w, case_id, ACCEPTING, {"decision": "accept", "staff_id": "SCJG-001"})
    w.engine.stale.add(clock)                     # the case clock's answer fails to land
    failing = {"on": True}
    deliver = w.engine.deliver

    def deliver_or_fail(token, output):
        if failing["on"] and token == clock:
            raise Down("Step Functions went away")
        return deliver(token, output)
    w.engine.deliver = deliver_or_fail
    w.engine.stale.discard(clock)
    message = stage_message(w, case_id, 0, "stage-0@first")
    w.approval.on_workflow_message(message)       # recorded; the clock's answer left pending
    assert told(w, clock) == []
    assert w.cases.get(case_id).handovers
    failing["on"] = False
    w.approval.on_workflow_message({**message, "token": "stage-0@again"})
    [answer] = told(w, clock)
    assert answer["outcome"] == "resumed" and answer["plan"] == branch(w, case_id, CASE_CLOCK).plan
    assert not w.cases.get(case_id).handovers
    assert told(w, "stage-0@again") == [w.cases.get(case_id).stage_answers["0"]]


def test_a_wait_message_handled_again_after_its_answer_failed_gives_the_answer(counted):
    """The token was kept, then giving the decided branch's answer failed: the same message
    received again gives it, instead of being taken for an older wait."""
    w = counted
    case_id, tokens = accepted(w)
    decide(w, case_id, "1:SW", {"decision": "approve", "staff_id": "SW-002"})
    original = w.engine.deliver
    calls = []

    def down_once(token, output):
        calls.append(token)
        if len(calls) == 1:
            raise Down("Step Functions did not answer")
        return original(token, output)
    w.engine.deliver = down_once
    since = w.now[0] + timedelta(seconds=1)
    message = {"type": "awaiting", "case_id": case_id, "branch_id": "1:SW",
               "plan": branch(w, case_id, "1:SW").plan, "timer": 0,
               "since": since.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "token": "1:SW@again"}
    with pytest.raises(Down):
        w.approval.on_workflow_message(dict(message))
    assert told(w, "1:SW@again") == []
    assert w.approval.on_workflow_message(dict(message)) == "answer delivered again"
    assert len(told(w, "1:SW@again")) == 1
    older = {**message, "token": "1:SW@older",
             "since": (since - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    assert w.approval.on_workflow_message(older) == "ignored: an older task"
