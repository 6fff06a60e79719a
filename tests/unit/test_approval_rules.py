"""The rules of parallel approval (并联审批), without I/O: when supervision hears of a step, how a
plan becomes the workflow's waits, which decisions a branch accepts and what they do to it."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import approval as rules
from chalicelib.domain.approval import (ACCEPTANCE, DECISION, DECIDED, GREEN, MAX_ESCALATIONS,
                                        OPEN, PAUSED, RED, WAIT_FOREVER, YELLOW, Branch,
                                        Decision)
from chalicelib.domain.cases import CHINA_TIME
from chalicelib.domain.clock import ChinaWorkingCalendar, CompressedClock, StepClock
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, Unprocessable

FAST = CompressedClock(10)          # one working day lasts ten real seconds
CALENDAR = ChinaWorkingCalendar()
T0 = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)     # Wednesday 10:00 in China
SECOND = timedelta(seconds=1)
MATERIALS = ["application_form", "articles_of_association", "premises_proof"]


def cn(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TIME)


def branch(kind=DECISION, start=T0, days=1, **over) -> Branch:
    return Branch(case_id="case0001", branch_id="0:SCJG" if kind == ACCEPTANCE else "1:SCJG",
                  kind=kind, stage=0 if kind == ACCEPTANCE else 1, stage_name="多证联办",
                  department="SCJG", task="核发营业执照", window="BZ-A01", staff_id="SCJG-002",
                  chief_staff_id="SCJG-000", clock=rules.new_clock(start, days), **over)


def decision(name, staff="SCJG-002", **over) -> Decision:
    return Decision(name, staff, **over)


def at(timer: dict) -> datetime:
    return datetime.fromisoformat(timer["at"])


# -- supervision instants ---------------------------------------------------------------------
def test_yellow_comes_at_the_configured_share_and_red_one_second_after_the_deadline():
    step = StepClock(T0, 1)
    instants = rules.supervision_instants(step, FAST, 0.7)
    assert instants[0] == {"kind": "yellow", "at": T0 + timedelta(seconds=7)}
    assert instants[1] == {"kind": "red", "at": T0 + timedelta(seconds=10) + SECOND}
    assert step.deadline(FAST) == T0 + timedelta(seconds=10)


def test_an_escalation_follows_every_further_working_day_overdue():
    instants = rules.supervision_instants(StepClock(T0, 2), FAST, 0.8)
    escalations = instants[2:]
    assert [i["kind"] for i in escalations] == \
        [f"escalation:{k}" for k in range(1, MAX_ESCALATIONS + 1)]
    due = T0 + timedelta(seconds=20)
    assert [i["at"] for i in escalations] == \
        [due + timedelta(seconds=10 * k) + SECOND for k in range(1, MAX_ESCALATIONS + 1)]


def test_on_the_real_calendar_escalations_skip_the_weekend():
    # Started Wednesday 18 November 2026 with one working day: counting starts Thursday,
    # due at 24:00 Thursday; one day late at 24:00 Friday, two days late at 24:00 Monday.
    instants = rules.supervision_instants(StepClock(cn(2026, 11, 18, 10), 1), CALENDAR, 0.8)
    by_kind = {i["kind"]: i["at"] for i in instants}
    assert by_kind["yellow"] == cn(2026, 11, 19, 19, 12)
    assert by_kind["red"] == cn(2026, 11, 20) + SECOND
    assert by_kind["escalation:1"] == cn(2026, 11, 21) + SECOND
    assert by_kind["escalation:2"] == cn(2026, 11, 24) + SECOND
    assert by_kind["escalation:3"] == cn(2026, 11, 25) + SECOND


def test_a_paused_step_has_no_supervision_instants():
    assert rules.supervision_instants(StepClock(T0, 1).pause(T0 + SECOND), FAST, 0.8) == []


# -- plans and waits --------------------------------------------------------------------------
def test_waits_are_whole_seconds_that_never_drift_and_end_waiting_forever():
    b = branch(start=T0, days=1)
    clock = CompressedClock(7)                       # instants at fractions of a second
    rules.replan(b, clock, 0.75)
    now = T0 + timedelta(milliseconds=300)
    waits = rules.waits(b.plan_timers, now)
    assert all(isinstance(w, int) and w >= 1 for w in waits)
    assert waits[-1] == WAIT_FOREVER and len(waits) == len(b.plan_timers) + 1
    for k, timer in enumerate(b.plan_timers):
        assert sum(waits[:k + 1]) == round((at(timer) - now).total_seconds())


def test_instants_already_past_are_waited_for_one_second_each():
    timers = [{"kind": "yellow", "at": (T0 - timedelta(seconds=30)).isoformat()},
              {"kind": "red", "at": (T0 - timedelta(seconds=5)).isoformat()}]
    assert rules.waits(timers, T0) == [1, 1, WAIT_FOREVER]


def test_a_paused_branch_is_answered_with_a_plan_that_only_waits_for_its_resumption():
    b = branch()
    rules.apply(b, decision("correction", materials=("premises_proof",)), T0 + SECOND, "staff")
    rules.replan(b, FAST, 0.8)
    assert rules.answer(b, T0 + SECOND) == {"outcome": "resumed", "plan": 1,
                                            "timers": [WAIT_FOREVER]}


def test_a_decided_branch_is_answered_with_its_outcome():
    b = branch()
    rules.apply(b, decision("approve"), T0 + SECOND, "staff:SCJG-002")
    assert rules.answer(b, T0 + SECOND) == {"outcome": "approved"}


def test_kinds_already_emitted_are_not_planned_again():
    b = branch()
    rules.replan(b, FAST, 0.8)
    b.emitted = ["yellow", "red"]
    rules.replan(b, FAST, 0.8)
    kinds = [t["kind"] for t in b.plan_timers]
    assert b.plan == 2 and "yellow" not in kinds and "red" not in kinds
    assert kinds[0] == "escalation:1" and len(kinds) == MAX_ESCALATIONS


def test_timer_kind_names_the_instant_of_the_current_plan_and_ignores_stale_ones():
    b = branch()
    rules.replan(b, FAST, 0.8)
    assert rules.timer_kind(b, 1, 1)["kind"] == "red"
    rules.replan(b, FAST, 0.8)
    assert rules.timer_kind(b, 1, 0) is None                        # an older plan
    assert rules.timer_kind(b, 2, len(b.plan_timers)) is None       # the WAIT_FOREVER slot
    assert rules.timer_kind(b, 2, -1) is None
    assert rules.timer_kind(b, 2, 0)["kind"] == "yellow"


# -- parsing decisions ------------------------------------------------------------------------
@pytest.mark.parametrize("reasons", [None, "", "  不行 ", 42])
def test_a_denial_without_reasons_is_refused(reasons):
    with pytest.raises(Unprocessable) as refused:
        rules.parse_decision(branch(), {"decision": "deny", "staff_id": "SCJG-002",
                                        "reasons": reasons}, MATERIALS)
    assert refused.value.field == "reasons"


def test_a_refusal_to_accept_without_reasons_is_refused():
    with pytest.raises(Unprocessable) as refused:
        rules.parse_decision(branch(ACCEPTANCE), {"decision": "refuse",
                                                  "staff_id": "SCJG-001"}, MATERIALS)
    assert refused.value.field == "reasons"
    ok = rules.parse_decision(branch(ACCEPTANCE), {"decision": "refuse", "staff_id": "SCJG-001",
                                                   "reasons": "  经营范围含前置审批项目  "},
                              MATERIALS)
    assert ok.reasons == "经营范围含前置审批项目"


@pytest.mark.parametrize("listed", [None, [], "premises_proof"])
def test_a_correction_notice_lists_its_materials_at_once(listed):
    with pytest.raises(Unprocessable) as refused:
        rules.parse_decision(branch(), {"decision": "correction", "staff_id": "SCJG-002",
                                        "materials": listed}, MATERIALS)
    assert refused.value.field == "materials"


def test_a_correction_notice_names_only_materials_the_item_asks_for():
    with pytest.raises(Unprocessable, match="no_such_paper") as refused:
        rules.parse_decision(branch(), {"decision": "correction", "staff_id": "SCJG-002",
                                        "materials": ["premises_proof", "no_such_paper"]},
                             MATERIALS)
    assert refused.value.field == "materials"
    ok = rules.parse_decision(branch(), {"decision": "correction", "staff_id": "SCJG-002",
                                         "materials": ["premises_proof", "application_form",
                                                       "premises_proof"]}, MATERIALS)
    assert ok.materials == ("premises_proof", "application_form")


@pytest.mark.parametrize("procedure", [None, "开会研究", ""])
def test_a_special_procedure_is_one_the_law_names(procedure):
    with pytest.raises(InvalidInput) as refused:
        rules.parse_decision(branch(), {"decision": "special_start", "staff_id": "SCJG-002",
                                        "procedure": procedure}, MATERIALS)
    assert refused.value.field == "procedure"
    assert rules.parse_decision(branch(), {"decision": "special_start", "staff_id": "SCJG-002",
                                           "procedure": "专家评审"}, MATERIALS).procedure == "专家评审"


@pytest.mark.parametrize("fee", [-1, -0.01, "100", True, None, float("inf"), 1e8])
def test_a_fee_is_a_non_negative_amount(fee):
    with pytest.raises(InvalidInput) as refused:
        rules.parse_decision(branch(), {"decision": "approve", "staff_id": "SCJG-002",
                                        "fee_yuan": fee}, MATERIALS)
    assert refused.value.field == "fee_yuan"


def test_a_fee_that_is_not_a_number_is_refused():
    # json.loads (chalicelib/adapters/http.py) turns a body's `NaN` into float("nan"), which
    # passes both `fee < 0` and `fee > 1e7` as False.
    with pytest.raises(InvalidInput) as refused:
        rules.parse_decision(branch(), {"decision": "approve", "staff_id": "SCJG-002",
                                        "fee_yuan": float("nan")}, MATERIALS)
    assert refused.value.field == "fee_yuan"


def test_a_fee_in_yuan_is_kept_as_a_float():
    parsed = rules.parse_decision(branch(), {"decision": "approve", "staff_id": "SCJG-002",
                                             "fee_yuan": 30}, MATERIALS)
    assert parsed.fee_yuan == 30.0 and isinstance(parsed.fee_yuan, float)


@pytest.mark.parametrize("kind, name", [
    (ACCEPTANCE, "approve"), (ACCEPTANCE, "deny"), (ACCEPTANCE, "extension_request"),
    (ACCEPTANCE, "special_start"), (DECISION, "accept"), (DECISION, "refuse"),
    (DECISION, "grant"), (DECISION, None)])
def test_each_kind_of_branch_takes_its_own_decisions(kind, name):
    with pytest.raises(InvalidInput) as refused:
        rules.parse_decision(branch(kind), {"decision": name, "staff_id": "SCJG-002",
                                            "reasons": "理由充分具体"}, MATERIALS)
    assert refused.value.field == "decision"


def test_a_decision_names_its_staff_member():
    with pytest.raises(InvalidInput) as refused:
        rules.parse_decision(branch(), {"decision": "approve"}, MATERIALS)
    assert refused.value.field == "staff_id"


# -- who may decide what, when ----------------------------------------------------------------
def test_a_decided_branch_takes_no_further_decision():
    b = branch()
    rules.apply(b, decision("approve"), T0 + SECOND, "staff:SCJG-002")
    with pytest.raises(Conflict, match="already decided"):
        rules.check_can_decide(b, decision("deny", reasons="材料不实"))


def test_a_paused_branch_takes_no_decision_until_it_resumes():
    b = branch()
    rules.apply(b, decision("special_start", procedure="听证"), T0 + SECOND, "staff")
    for name in ("approve", "correction", "extension_request", "special_start"):
        with pytest.raises(Conflict, match="paused"):
            rules.check_can_decide(b, decision(name))
    rules.check_can_decide(b, decision("special_end"))


def test_special_end_needs_a_special_procedure_running():
    b = branch()
    with pytest.raises(Conflict, match="no special procedure"):
        rules.check_can_decide(b, decision("special_end"))
    rules.apply(b, decision("correction", materials=("premises_proof",)), T0 + SECOND, "staff")
    with pytest.raises(Conflict, match="no special procedure"):
        rules.check_can_decide(b, decision("special_end"))


def test_an_extension_is_approved_by_someone_other_than_who_asked():
    b = branch()
    with pytest.raises(Conflict, match="no extension"):
        rules.check_can_decide(b, decision("extension_approve", staff="SCJG-003"))
    rules.apply(b, decision("extension_request"), T0 + SECOND, "staff:SCJG-002")
    with pytest.raises(Forbidden) as refused:
        rules.check_can_decide(b, decision("extension_approve", staff="SCJG-002"))
    assert refused.value.field == "staff_id"
    rules.check_can_decide(b, decision("extension_approve", staff="SCJG-003"))


def test_an_extension_is_requested_once_at_a_time():
    b = branch()
    rules.apply(b, decision("extension_request"), T0 + SECOND, "staff:SCJG-002")
    with pytest.raises(Conflict, match="already awaiting"):
        rules.check_can_decide(b, decision("extension_request", staff="SCJG-005"))


# -- what decisions do ------------------------------------------------------------------------
def test_a_correction_pauses_the_branch_and_keeps_the_notice():
    b = branch()
    effect = rules.apply(b, decision("correction", materials=("premises_proof",), note="模糊"),
                         T0 + 2 * SECOND, "staff:SCJG-002")
    assert effect == "replan" and b.status == PAUSED and b.pause_reason == "correction"
    assert b.step_clock.paused and b.correction["materials"] == ["premises_proof"]
    assert rules.deadline(b, FAST) is None
    rules.end_correction(b, T0 + 7 * SECOND)
    assert b.status == OPEN and b.correction is None
    assert rules.deadline(b, FAST) == T0 + timedelta(seconds=15)   # 10 s + 5 s paused


def test_a_special_procedure_pauses_and_its_end_resumes():
    b = branch()
    assert rules.apply(b, decision("special_start", procedure="检测"), T0 + SECOND,
                       "staff") == "replan"
    assert b.status == PAUSED and b.pause_reason == "special"
    assert b.special["procedure"] == "检测"
    assert rules.apply(b, decision("special_end"), T0 + 4 * SECOND, "staff") == "replan"
    assert b.status == OPEN and b.pause_reason is None and b.special is None
    assert rules.deadline(b, FAST) == T0 + timedelta(seconds=13)


def test_an_approved_extension_adds_ten_working_days():
    b = branch(days=1)
    assert rules.apply(b, decision("extension_request"), T0 + SECOND, "s") == "none"
    assert rules.apply(b, decision("extension_approve", staff="SCJG-003"), T0 + 2 * SECOND,
                       "s") == "replan"
    assert b.extension_request is None and b.step_clock.limit == 11
    assert rules.deadline(b, FAST) == T0 + timedelta(seconds=110)


def test_final_decisions_end_the_branch_with_outcome_reasons_and_fee():
    b = branch()
    effect = rules.apply(b, Decision("deny", "SCJG-002", reasons="住所证明不实", fee_yuan=0.0),
                         T0 + SECOND, "staff:SCJG-002")
    assert effect == "decided" and b.status == DECIDED and b.outcome == "denied"
    assert b.reasons == "住所证明不实" and b.decided_by == "staff:SCJG-002"
    assert [h["decision"] for h in b.history] == ["deny"]


def test_branch_survives_storage_unchanged():
    b = branch()
    rules.replan(b, FAST, 0.8)
    assert Branch.from_dict(b.to_dict()) == b


# -- stages and lights ------------------------------------------------------------------------
@pytest.mark.parametrize("outcomes, expected", [
    (["approved"] * 5, "passed"), (["accepted"], "passed"), (["refused"], "refused"),
    (["approved", "denied", "approved"], "denied"), (["denied", "approved"], "denied")])
def test_one_refusal_or_denial_decides_the_stage(outcomes, expected):
    decided = []
    for outcome in outcomes:
        b = branch()
        b.status, b.outcome = DECIDED, outcome
        decided.append(b)
    assert rules.stage_outcome(decided) == expected


def test_the_light_is_green_then_yellow_at_the_share_then_red_after_the_deadline():
    b = branch(days=1)
    assert rules.light(b, FAST, T0 + timedelta(seconds=7.9), 0.8) == GREEN
    assert rules.light(b, FAST, T0 + timedelta(seconds=8), 0.8) == YELLOW
    assert rules.light(b, FAST, T0 + timedelta(seconds=10), 0.8) == YELLOW
    assert rules.light(b, FAST, T0 + timedelta(seconds=10.001), 0.8) == RED


def test_a_friday_deadline_stays_red_over_the_weekend():
    b = branch(start=cn(2026, 11, 19, 9), days=1)          # Thursday: due Friday 24:00
    assert rules.light(b, CALENDAR, cn(2026, 11, 20, 12), 0.8) == GREEN
    assert rules.light(b, CALENDAR, cn(2026, 11, 20, 23), 0.8) == YELLOW
    assert rules.light(b, CALENDAR, cn(2026, 11, 22, 12), 0.8) == RED


def test_a_plan_started_late_is_realigned_once():
    from datetime import datetime, timedelta, timezone

    from chalicelib.domain import approval as rules
    from chalicelib.domain.clock import CompressedClock

    clock = CompressedClock(10)
    start = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    branch = rules.Branch("c", "0:SCJG", rules.ACCEPTANCE, 0, "受理", "SCJG", "受理", "W", "S",
                          "C", rules.new_clock(start, 1))
    rules.replan(branch, clock, 0.8)
    first_wait = rules.answer(branch, start)["timers"][0]          # yellow at 8 s
    on_time = {"plan": branch.plan, "timer": 0, "wait": first_wait,
               "since": start.isoformat()}
    assert not rules.late_start(branch, on_time)
    late = {**on_time, "since": (start + timedelta(seconds=0.9)).isoformat()}
    assert rules.late_start(branch, late)
    branch.calibrated = branch.plan
    assert not rules.late_start(branch, late)                      # once per plan
    assert not rules.late_start(branch, {**late, "timer": 1})      # only a plan's first wait
