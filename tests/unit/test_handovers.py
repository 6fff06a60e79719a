"""The hand-overs to the case workflow (the outbox): committed with the change that needs them,
carried out at once or, after a fault, by the sweeper; never lost, never done twice. The
in-memory engine and counters fail on demand, as Step Functions or DynamoDB would."""
from datetime import datetime, timedelta

import pytest

from chalicelib.adapters.memory import InMemoryCounters
from chalicelib.domain import events
from chalicelib.domain.counting import APPLICATIONS
from chalicelib.domain.errors import Conflict
from chalicelib.service.performance import Performance

from .test_approval_service import (ACCEPTING, ALICE, T0, awaiting, decide,  # noqa: F401
                                    stage_decided, submit, tick, told, w)

GRACE = 20        # seconds the sweeper leaves a fresh hand-over to the request that made it


class Down(Exception):
    """What a client raises while its service's endpoint does not answer."""


class Faulty:
    """Wraps an adapter: while `down`, every call of the named methods fails."""

    def __init__(self, inner, *methods):
        self.inner, self.methods, self.down = inner, set(methods), False

    def __getattr__(self, name):
        found = getattr(self.inner, name)
        if name not in self.methods:
            return found

        def call(*args, **kwargs):
            if self.down:
                raise Down(f"{name}: endpoint unreachable")
            return found(*args, **kwargs)
        return call


@pytest.fixture
def f(w):
    """The service wiring of test_approval_service, with a failing engine and counters."""
    w.engine_faults = Faulty(w.engine, "start", "deliver")
    w.approval.engine = w.engine_faults
    w.counters = InMemoryCounters()
    w.counter_faults = Faulty(w.counters, "add")
    performance = Performance(w.catalog, w.counter_faults, None, lambda: w.now[0])
    w.events.subscribe(events.CaseSubmitted, performance.count)
    return w


def submitted_count(w) -> int:
    return sum(m.get(APPLICATIONS, 0) for (scope, _, period), m in w.counters.rows.items()
               if scope == "department" and len(period) == 10)


def sweep_later(w, seconds=GRACE + 1) -> dict:
    tick(w, seconds)
    return w.approval.sweep(grace_seconds=GRACE)


def test_a_submission_while_step_functions_is_down_is_answered_and_started_by_the_sweeper(f):
    f.engine_faults.down = True
    case_id = submit(f)                        # answered: the submission is committed
    case = f.cases.get(case_id)
    assert case.status == "submitted" and set(case.handovers) == {"start"}
    assert f.engine.started == {} and submitted_count(f) == 0
    assert sweep_later(f) == {"found": 1, "carried_out": 0, "left": 1,
                              "oldest_pending_seconds": GRACE + 1}
    f.engine_faults.down = False
    assert sweep_later(f)["carried_out"] == 1
    assert list(f.engine.started) == [case_id]
    assert f.cases.get(case_id).handovers == {}
    assert submitted_count(f) == 1
    assert sweep_later(f) == {"found": 0, "carried_out": 0, "left": 0,
                              "oldest_pending_seconds": 0}
    # Branches created once, one workflow_started record.
    actions = [r["action"] for r in f.intake.timeline(case_id)]
    assert actions.count("workflow_started") == 1 and actions.count("submitted") == 1


def test_a_fresh_hand_over_is_left_to_the_request_that_made_it(f):
    f.engine_faults.down = True
    submit(f)
    f.engine_faults.down = False
    tick(f, GRACE - 1)
    assert f.approval.sweep(grace_seconds=GRACE)["found"] == 0
    assert f.engine.started == {}


def test_a_count_that_failed_is_counted_once_when_the_hand_over_is_carried_out_again(f):
    f.counter_faults.down = True               # DynamoDB fails after the branches were written
    case_id = submit(f)
    assert list(f.engine.started) == [case_id]       # the execution did start
    assert set(f.cases.get(case_id).handovers) == {"start"} and submitted_count(f) == 0
    f.counter_faults.down = False
    sweep_later(f)
    sweep_later(f)
    f.approval.carry_out(case_id)              # nothing pending: nothing done
    f.approval.start(f.cases.get(case_id))     # even started again by hand: counted once
    assert submitted_count(f) == 1


def test_a_retried_submission_gets_the_first_answer_and_another_key_is_refused(f):
    case_id = submit(f)
    first = f.cases.get(case_id)
    # The answer was not stored (the function failed after the commit): the same key again.
    f.intake.idempotency.persistence_store.records.clear()
    again = f.intake.submit(ALICE, case_id, {}, "submit-key-1")
    assert (again["status"], again["case_no"]) == ("submitted", first.case_no)
    with pytest.raises(Conflict) as refused:
        f.intake.submit(ALICE, case_id, {}, "another-key-2")
    assert refused.value.field == "case_id"
    assert [r["action"] for r in f.intake.timeline(case_id)].count("submitted") == 1


def test_a_decision_while_step_functions_is_down_reaches_its_task_by_the_sweeper(f):
    case_id = submit(f)
    token, _ = awaiting(f, case_id, ACCEPTING, 1)
    tick(f, 2)
    f.engine_faults.down = True
    answer = decide(f, case_id, ACCEPTING, {"decision": "accept", "staff_id": "SCJG-001"})
    assert answer["status"] == "decided" and told(f, token) == []
    assert set(f.cases.get(case_id).handovers) == {f"deliver:{ACCEPTING}"}
    f.engine_faults.down = False
    sweep_later(f)
    [delivered] = told(f, token)
    assert delivered["outcome"] == "accepted"
    sweep_later(f)
    assert len(told(f, token)) == 1            # once
    said, _ = stage_decided(f, case_id, 0)
    assert said == "next stage"


def test_an_answer_goes_only_to_the_task_it_was_meant_for(f):
    """A later task's own message tells it (the branch is decided): the sweeper does not."""
    case_id = submit(f)
    token, _ = awaiting(f, case_id, ACCEPTING, 1)
    tick(f, 2)
    f.engine_faults.down = True
    decide(f, case_id, ACCEPTING, {"decision": "accept", "staff_id": "SCJG-001"})
    f.engine_faults.down = False
    f.engine.stale.add(token)                  # the task timed out meanwhile
    later, said = awaiting(f, case_id, ACCEPTING, 1, timer=1, since=T0 + timedelta(seconds=9))
    assert said.endswith("answer delivered again") and len(told(f, later)) == 1
    sweep_later(f)
    assert len(told(f, later)) == 1 and told(f, token) == []
    assert f.cases.get(case_id).handovers == {}


def test_hand_overs_committed_again_meanwhile_stay_pending(f):
    case_id = submit(f)
    carried_out = {"start": {"at": "2026-11-18T02:00:00+00:00"}}
    again = {"start": {"at": "2026-11-18T02:00:09+00:00"}}
    f.cases.items[case_id]["handovers"] = dict(again)
    f.cases.clear_hand_overs(case_id, carried_out)
    assert f.cases.get(case_id).handovers == again


def test_a_retried_decision_gets_the_branch_and_is_taken_once(f):
    case_id = submit(f)
    awaiting(f, case_id, ACCEPTING, 1)
    tick(f, 2)
    body = {"decision": "accept", "staff_id": "SCJG-001"}
    first = decide(f, case_id, ACCEPTING, body, key="accept-key-1")
    f.approval.idempotency.persistence_store.records.clear()   # its answer was not stored
    again = decide(f, case_id, ACCEPTING, body, key="accept-key-1")
    assert (again["status"], again["decided_at"]) == (first["status"], first["decided_at"])
    with pytest.raises(Conflict):
        decide(f, case_id, ACCEPTING, body, key="accept-key-2")     # another decision: refused
    assert [r["action"] for r in f.intake.timeline(case_id)].count("decision_accept") == 1


# -- supervised work: a task's workflow start is its own outbox --------------------------------
def test_a_task_opened_while_step_functions_is_down_is_started_by_the_sweeper():
    from . import test_supervision_service as sv

    s = sv.w.__wrapped__()         # the supervision service's wiring, in memory
    faults = Faulty(s.engine, "start")
    s.service.work.engine = faults
    faults.down = True
    order = s.service.work.issue_order(sv.CITY, {"case_id": sv.completed_case(s),
                                                 "text": "请说明办理情况"})
    task_id = order["task_id"]
    assert s.engine.started == {} and s.tasks.get(task_id).start_due == T0.isoformat()
    sv.tick(s, GRACE - 1)
    assert s.service.work.sweep_starts(GRACE)["found"] == 0        # the request's own moment
    sv.tick(s, 2)
    assert s.service.work.sweep_starts(GRACE) == {"found": 1, "carried_out": 0, "left": 1,
                                                  "oldest_pending_seconds": GRACE + 1}
    faults.down = False
    assert s.service.work.sweep_starts(GRACE)["carried_out"] == 1
    payload = s.engine.started[task_id]
    # Counted from the sweep: the escalation still lands on its instant.
    escalation = s.tasks.get(task_id).timers[-1]["at"]
    assert payload["i"] == 0 and payload["timers"][0] == round(
        (datetime.fromisoformat(escalation) - s.now[0]).total_seconds())
    assert s.tasks.get(task_id).start_due is None
    assert s.service.work.sweep_starts(GRACE)["found"] == 0


def test_a_task_started_at_once_leaves_nothing_for_the_sweeper():
    from . import test_supervision_service as sv

    s = sv.w.__wrapped__()
    order = s.service.work.issue_order(sv.CITY, {"case_id": sv.completed_case(s),
                                                 "text": "请说明办理情况"})
    assert list(s.engine.started) == [order["task_id"]]
    assert s.tasks.get(order["task_id"]).start_due is None
    sv.tick(s, GRACE + 1)
    assert s.service.work.sweep_starts(GRACE) == {"found": 0, "carried_out": 0, "left": 0,
                                                  "oldest_pending_seconds": 0}


def test_an_answer_while_step_functions_is_down_stands_and_reaches_the_next_wait():
    from . import test_supervision_service as sv
    from chalicelib.domain.cases import Caller

    s = sv.w.__wrapped__()
    answered = []
    s.events.subscribe(events.TaskAnswered, answered.append)
    order = s.service.work.issue_order(sv.CITY, {"case_id": sv.completed_case(s),
                                                 "text": "请说明"})
    token, _ = sv.awaiting(s, order["task_id"])
    faults = Faulty(s.engine, "deliver")
    s.service.work.engine, faults.down = faults, True
    view = s.service.work.answer(Caller("department", "SCJG"), order["task_id"],
                                 {"answer": "已核实，按期办结"})
    assert view["status"] == "answered" and len(answered) == 1      # counted all the same
    assert sv.told(s, token) == []
    faults.down = False
    sv.tick(s, 1)
    _, said = sv.awaiting(s, order["task_id"], timer=0)    # the bounded wait asks again
    assert said.endswith("answer delivered again")
