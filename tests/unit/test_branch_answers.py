"""The answer a branch's item keeps for the case workflow. When a pause, its end or an extension
fails a department's task with `Resumed`, the workflow's LoadPlan state reads the new plan from
the branch's item (statemachines/case.asl.json). The approval service computes that answer on its
own clock and hands it to the repository with the branch, so the in-memory adapter keeps exactly
what the workflow would read, and what the task was told."""
from chalicelib.domain import approval as rules

from .test_approval_service import (  # noqa: F401 (w: the approval service's fixture)
    ACCEPTING, ALICE, CASE_CLOCK, WAIT_FOREVER, accepted, awaiting, branch, decide, submit, tick,
    told, upload, w)


def test_a_submitted_case_keeps_the_plan_of_its_accepting_window(w):  # noqa: F811
    case_id = submit(w)
    stored = w.cases.answer(case_id, ACCEPTING)
    assert stored == rules.answer(branch(w, case_id, ACCEPTING), w.now[0])
    assert stored["outcome"] == "resumed" and stored["plan"] == 1
    assert stored["timers"][:2] == [8, 3]                    # yellow at 80 %, red 1 s late
    assert w.cases.answer(case_id, CASE_CLOCK) == {"outcome": "resumed", "plan": 0,
                                                   "timers": [WAIT_FOREVER]}


def test_a_paused_and_resumed_branch_keeps_the_plan_its_task_was_told(w):  # noqa: F811
    case_id = submit(w)
    token, _ = awaiting(w, case_id, ACCEPTING, 1)
    tick(w, 2)
    decide(w, case_id, ACCEPTING, {"decision": "correction", "staff_id": "SCJG-001",
                                   "materials": ["premises_proof"], "note": "租赁合同缺页"})
    [paused] = told(w, token)
    assert w.cases.answer(case_id, ACCEPTING) == paused == {
        "outcome": "resumed", "plan": 2, "timers": [WAIT_FOREVER]}   # waits for the correction
    token, _ = awaiting(w, case_id, ACCEPTING, 2)
    tick(w, 30)
    upload(w, case_id, "premises_proof", b"%PDF-1.7 complete lease")
    tick(w, 1)
    w.approval.correct(ALICE, case_id, {}, "correct-key-1")
    [resumed] = told(w, token)
    assert w.cases.answer(case_id, ACCEPTING) == resumed
    assert resumed["plan"] == 3 and resumed["timers"][:2] == [6, 3]   # on the service's clock


def test_a_decided_branch_keeps_no_plan(w):  # noqa: F811
    case_id, _ = accepted(w)
    assert branch(w, case_id, ACCEPTING).status == rules.DECIDED
    assert w.cases.answer(case_id, ACCEPTING) is None
    whole = branch(w, case_id, CASE_CLOCK)
    assert w.cases.answer(case_id, CASE_CLOCK) == rules.answer(whole, w.now[0])
    assert w.cases.answer(case_id, "1:GA")["plan"] == 1
