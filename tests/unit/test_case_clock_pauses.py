"""The whole case's promised-limit clock (the CASE_CLOCK branch) follows its steps' pauses: it
stops with the first paused step and runs again when the last one resumes, however the pauses
end (one correction notice merged from several departments, a special procedure)."""
from tests.unit.test_approval_service import (ALICE, CASE_CLOCK, accepted, awaiting, branch,
                                              decide, tick, told, upload, w)  # noqa: F401


def correction(w, case_id, branch_id, staff_id, material):
    return decide(w, case_id, branch_id, {"decision": "correction", "staff_id": staff_id,
                                          "materials": [material]})


def test_a_merged_correction_notice_answered_resumes_the_case_clock(w):
    case_id, tokens = accepted(w)
    tick(w, 1)
    correction(w, case_id, "1:GA", "GA-002", "premises_proof")
    assert branch(w, case_id, CASE_CLOCK).step_clock.paused
    correction(w, case_id, "1:SW", "SW-002", "application_form")
    notice = w.cases.get(case_id).correction
    assert notice["branches"] == ["1:GA", "1:SW"]          # one notice for the applicant
    clock, _ = awaiting(w, case_id, CASE_CLOCK, branch(w, case_id, CASE_CLOCK).plan)
    tick(w, 30)
    for material in notice["materials"]:
        upload(w, case_id, material, f"%PDF-1.7 corrected {material}".encode())
    w.approval.correct(ALICE, case_id, {}, "correct-key-1")

    assert [b.status for b in w.cases.branches(case_id) if b.branch_id in notice["branches"]] \
        == ["open", "open"]
    whole = branch(w, case_id, CASE_CLOCK)
    assert not whole.step_clock.paused, "the case clock stayed stopped after the last resumption"
    assert whole.plan_timers, "a running case clock has its lights planned"
    # The workflow waiting on the case clock is told its new plan, as for any resumption.
    [answer] = told(w, clock)
    assert answer["outcome"] == "resumed" and answer["plan"] == whole.plan
    # The 30 s paused do not count: the promised deadline moved by them.
    assert whole.step_clock.pauses[-1][1] == w.now[0]


def test_the_case_clock_waits_for_every_paused_step(w):
    case_id, _ = accepted(w)
    correction(w, case_id, "1:GA", "GA-002", "premises_proof")
    decide(w, case_id, "1:RSJ", {"decision": "special_start", "staff_id": "RSJ-003",
                                 "procedure": "专家评审"}, by="RSJ-003")
    tick(w, 5)
    upload(w, case_id, "premises_proof", b"%PDF-1.7 corrected lease")
    w.approval.correct(ALICE, case_id, {}, "correct-key-1")
    assert branch(w, case_id, CASE_CLOCK).step_clock.paused     # the special procedure runs on
    tick(w, 5)
    decide(w, case_id, "1:RSJ", {"decision": "special_end", "staff_id": "RSJ-003"},
           by="RSJ-003")
    assert not branch(w, case_id, CASE_CLOCK).step_clock.paused
