"""Parallel approval through the service layer with in-memory adapters. The case workflow is
played by hand: each test sends the messages statemachines/case.asl.json sends (awaiting,
timeout, stage_decided) and reads what the engine was told back."""
import hashlib
import itertools
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from chalicelib.domain import events
from chalicelib.service.bus import Recorder

from chalicelib import catalog
from chalicelib.adapters.idempotency import PowertoolsIdempotency
from chalicelib.adapters.memory import (InMemoryCases, InMemoryCertificates, InMemoryEngine,
                                        InMemoryIdempotencyStore, InMemoryMaterials,
                                        InMemoryNotifier, InMemorySupervision)
from chalicelib.domain.approval import CASE_CLOCK, WAIT_FOREVER
from chalicelib.domain.cases import Caller
from chalicelib.domain.clock import CompressedClock
from chalicelib.domain.errors import Conflict, Forbidden, Unprocessable
from chalicelib.service.approval import Approval
from chalicelib.service.intake import Intake

ALICE = Caller("citizen", "sub-alice", id_number="341602199001011234", name="张三",
               phone="13800138000")
COMPANY_SETUP = "SCJG-001"
DEPARTMENTS = ["SCJG", "GA", "SW", "RSJ", "GJJ"]        # SCJG-001's stage, in catalog order
ACCEPTING = "0:SCJG"
REVIEWERS = {"SCJG": "SCJG-002", "GA": "GA-002", "SW": "SW-002", "RSJ": "RSJ-002",
             "GJJ": "GJJ-002"}
T0 = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)   # a Wednesday, 10:00 in China
WORKDAY = 10                                              # seconds in a compressed working day


def dept(code: str) -> Caller:
    """A department's staff member who reads its tasks (its first approver)."""
    return signed_in(REVIEWERS.get(code) or f"{code}-002")


def signed_in(staff_id: str) -> Caller:
    """A staff member signed in as themself."""
    return Caller.of_staff(catalog.published().staff(staff_id))


@pytest.fixture
def w():
    published = catalog.published()
    now = [T0]
    cases, materials = InMemoryCases(), InMemoryMaterials()
    engine, notifier = InMemoryEngine(), InMemoryNotifier()
    supervision, certificates = InMemorySupervision(), InMemoryCertificates()
    events = Recorder()
    approval = Approval(published, cases, supervision, engine, notifier, certificates,
                        PowertoolsIdempotency(InMemoryIdempotencyStore()),
                        CompressedClock(WORKDAY), now=lambda: now[0], materials=materials,
                        events=events)
    ids = (f"case{n:04d}" for n in itertools.count(1))
    intake = Intake(published, cases, materials,
                    PowertoolsIdempotency(InMemoryIdempotencyStore()), now=lambda: now[0],
                    new_id=lambda: next(ids), on_submitted=approval.hand_over)
    return SimpleNamespace(catalog=published, now=now, cases=cases, materials=materials,
                           engine=engine, notifier=notifier, supervision=supervision,
                           certificates=certificates, approval=approval, intake=intake,
                           events=events,
                           tokens=itertools.count(1), keys=itertools.count(1))


# -- playing the applicant, the departments and the workflow ----------------------------------
def tick(w, seconds: float) -> None:
    w.now[0] += timedelta(seconds=seconds)


def upload(w, case_id: str, material: str, content: bytes, item: str = COMPANY_SETUP) -> None:
    spec = next(m for m in w.catalog.item(item)["materials"] if m["id"] == material)
    ticket = w.intake.request_upload(ALICE, case_id, {
        "material": material, "filename": f"{material}.pdf",
        "content_type": spec["content_types"][0], "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest()})
    w.materials.put(ticket["key"], spec["content_types"][0], content)


def submit(w) -> str:
    item = w.catalog.item(COMPANY_SETUP)
    case = w.intake.create(ALICE, {"item": COMPANY_SETUP, "hall": "BZ",
                                   "form": item["form"]["examples"][0]})
    for spec in item["materials"]:
        if spec["required"]:
            upload(w, case["case_id"], spec["id"], f"%PDF-1.7 {spec['id']}".encode())
    w.intake.submit(ALICE, case["case_id"], {}, "submit-key-1")
    return case["case_id"]


def awaiting(w, case_id: str, branch_id: str, plan: int, timer: int = 0,
             since: datetime | None = None) -> tuple[str, str]:
    """The workflow enters a task on the branch: returns (token, what the service said)."""
    token = f"{branch_id}@{next(w.tokens)}"
    since = since or w.now[0] + timedelta(microseconds=next(w.tokens))
    said = w.approval.on_workflow_message({
        "type": "awaiting", "case_id": case_id, "branch_id": branch_id, "plan": plan,
        "timer": timer, "since": since.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "token": token})
    return token, said


def timeout(w, case_id: str, branch_id: str, plan: int, timer: int) -> str:
    """The timer runs out: the workflow at once waits on the next one, and that task's message
    says which ran out. Returns what the service said of the timer that ran out."""
    _, said = awaiting(w, case_id, branch_id, plan, timer=timer + 1, since=w.now[0])
    return said.split("; ")[0]


def stage_decided(w, case_id: str, stage: int) -> tuple[str, dict]:
    token = f"stage-{stage}@{next(w.tokens)}"
    results = [{"branch_id": b.branch_id, "outcome": b.outcome}
               for b in w.cases.branches(case_id) if b.stage == stage]
    said = w.approval.on_workflow_message({"type": "stage_decided", "case_id": case_id,
                                           "stage": stage, "results": results, "token": token})
    return said, told(w, token)[-1]


def decide(w, case_id: str, branch_id: str, body: dict, key: str | None = None,
           by: str | None = None) -> dict:
    """A decision by the signed-in staff member `by` (the one the body names, by default)."""
    return w.approval.decide(signed_in(by or body["staff_id"]), case_id, branch_id, body,
                             key or f"decide-key-{next(w.keys):04d}")


def told(w, token: str) -> list[dict]:
    return [answer for t, answer in w.engine.delivered if t == token]


def branch(w, case_id: str, branch_id: str):
    return w.cases.branch(case_id, branch_id)


def actions(w, case_id: str) -> list[str]:
    return [r["action"] for r in w.intake.timeline(case_id)]


def accepted(w) -> tuple[str, dict]:
    """A submitted case the window accepts; the workflow now waits on the five departments.
    Returns the case and the case clock's current token under 'case'."""
    case_id = submit(w)
    tokens = {CASE_CLOCK: awaiting(w, case_id, CASE_CLOCK, 0)[0],
              ACCEPTING: awaiting(w, case_id, ACCEPTING, 1)[0]}
    tick(w, 2)
    decide(w, case_id, ACCEPTING, {"decision": "accept", "staff_id": "SCJG-001"})
    stage_decided(w, case_id, 0)
    tokens[CASE_CLOCK] = awaiting(w, case_id, CASE_CLOCK, branch(w, case_id, CASE_CLOCK).plan)[0]
    for code in DEPARTMENTS:
        tokens[f"1:{code}"] = awaiting(w, case_id, f"1:{code}", 1)[0]
    return case_id, tokens


# -- starting ---------------------------------------------------------------------------------
def test_submission_starts_one_execution_named_after_the_case(w):
    case_id = submit(w)
    assert list(w.engine.started) == [case_id]
    payload = w.engine.started[case_id]
    assert payload["case_id"] == case_id
    assert payload["stage"]["index"] == 0
    [first] = payload["stage"]["branches"]
    assert first["branch_id"] == ACCEPTING and first["plan"] == 1
    assert first["timers"][:2] == [8, 3]                     # yellow at 80 %, red 1 s late
    assert payload["case_clock"] == {"branch_id": CASE_CLOCK, "plan": 0, "i": 0,
                                     "timers": [WAIT_FOREVER], "wait": WAIT_FOREVER}
    assert {b.branch_id for b in w.cases.branches(case_id)} == {ACCEPTING, CASE_CLOCK}
    assert "workflow_started" in actions(w, case_id)


def test_starting_twice_creates_nothing_new(w):
    case_id = submit(w)
    before = ({b.branch_id: b for b in w.cases.branches(case_id)}, len(actions(w, case_id)),
              dict(w.engine.started))
    w.approval.start(w.cases.get(case_id))
    assert ({b.branch_id: b for b in w.cases.branches(case_id)}, len(actions(w, case_id)),
            dict(w.engine.started)) == before


# -- the workflow's messages ------------------------------------------------------------------
def test_awaiting_keeps_the_token_and_ignores_an_older_task(w):
    case_id = submit(w)
    later = T0 + timedelta(seconds=5)
    token, said = awaiting(w, case_id, ACCEPTING, 1, since=later)
    assert said == "token kept" and branch(w, case_id, ACCEPTING).token == token
    _, said = awaiting(w, case_id, ACCEPTING, 1, since=later - timedelta(seconds=1))
    assert said == "ignored: an older task"
    assert branch(w, case_id, ACCEPTING).token == token
    assert w.engine.delivered == []


def test_a_timeout_records_one_supervision_event_and_warns_staff_and_chief(w):
    case_id = submit(w)
    awaiting(w, case_id, ACCEPTING, 1)
    tick(w, 8)
    assert timeout(w, case_id, ACCEPTING, 1, 0) == "yellow"
    [event] = w.supervision.of_case(case_id)
    case = w.cases.get(case_id)
    assert {k: event[k] for k in ("case_id", "case_no", "kind", "light", "stage", "task",
                                  "department", "window", "staff_id", "staff_name",
                                  "chief_staff_id", "chief_name")} == {
        "case_id": case_id, "case_no": case.case_no, "kind": "yellow", "light": "yellow",
        "stage": 0, "task": "受理（预审）", "department": "SCJG", "window": "BZ-A01",
        "staff_id": "SCJG-001", "staff_name": "李俊杰", "chief_staff_id": "SCJG-000",
        "chief_name": "王丽娟"}
    assert event["deadline"] == (T0 + timedelta(seconds=WORKDAY)).isoformat()
    warned = {phone: text for phone, text in w.notifier.sent
              if case.case_no in text and "查询码" not in text}       # not the applicant's
    assert set(warned) == {w.catalog.staff("SCJG-001").phone,       # staff and chief
                           w.catalog.staff("SCJG-000").phone}
    assert set(warned) == {"+447700900002", "+447700900001"}       # numbers that reach no one
    assert all("黄灯预警" in text for text in warned.values())
    assert actions(w, case_id)[-1] == "supervision_yellow"
    sent, trail = len(w.notifier.sent), len(actions(w, case_id))
    assert timeout(w, case_id, ACCEPTING, 1, 0).startswith("ignored")    # redelivered
    assert len(w.supervision.of_case(case_id)) == 1
    assert (len(w.notifier.sent), len(actions(w, case_id))) == (sent, trail)


def test_a_red_card_comes_from_the_red_timer(w):
    case_id = submit(w)
    tick(w, 11)
    assert timeout(w, case_id, ACCEPTING, 1, 1) == "red"
    [event] = w.supervision.of_case(case_id)
    assert event["light"] == "red" and event["kind"] == "red"
    assert any("红牌" in text and "已超时" in text for _, text in w.notifier.sent)
    # What the rest of the system hears of it: one red card against the accepting window.
    [raised] = w.events.of(events.CardRaised)
    assert (raised.case_id, raised.color, raised.handler) == (
        case_id, "red", events.Handler("SCJG", "BZ-A01", "SCJG-001"))
    assert raised.record == event


def test_submitting_publishes_the_case_submitted_under_one_id(w):
    case_id = submit(w)
    [submitted] = w.events.of(events.CaseSubmitted)
    assert (submitted.case_id, submitted.channel, submitted.handler.department) == (
        case_id, "online", "SCJG")
    w.approval.start(w.cases.get(case_id))                 # a hand-over carried out again
    # Published again, under the same id: counted once (tests/unit/test_handovers.py).
    assert {e.once_id for e in w.events.of(events.CaseSubmitted)} == {f"{case_id}:submitted"}


def test_a_timeout_message_of_an_execution_started_before_the_fold_still_raises_its_light(w):
    case_id = submit(w)
    awaiting(w, case_id, ACCEPTING, 1)
    tick(w, 8)
    assert w.approval.on_workflow_message({
        "type": "timeout", "case_id": case_id, "branch_id": ACCEPTING, "plan": 1, "timer": 0,
        "at": w.now[0].isoformat()}) == "yellow"
    assert timeout(w, case_id, ACCEPTING, 1, 0).startswith("ignored")   # and only once
    assert [e["kind"] for e in w.supervision.of_case(case_id)] == ["yellow"]


def test_a_timeout_of_a_stale_plan_records_nothing(w):
    case_id = submit(w)
    assert timeout(w, case_id, ACCEPTING, 0, 0).startswith("ignored")
    assert timeout(w, case_id, ACCEPTING, 1, 99).startswith("ignored")
    assert w.supervision.of_case(case_id) == []


# -- stages -----------------------------------------------------------------------------------
def test_acceptance_opens_every_department_of_the_stage_at_once_and_starts_the_case_clock(w):
    case_id = submit(w)
    case_token, _ = awaiting(w, case_id, CASE_CLOCK, 0)
    accept_token, _ = awaiting(w, case_id, ACCEPTING, 1)
    tick(w, 2)
    decide(w, case_id, ACCEPTING, {"decision": "accept", "staff_id": "SCJG-001"})
    assert told(w, accept_token) == [{"outcome": "accepted"}]
    said, answer = stage_decided(w, case_id, 0)
    assert said == "next stage" and answer["done"] is False
    assert answer["index"] == 1 and answer["done"] is False
    plans = answer["branches"]
    assert [p["branch_id"] for p in plans] == [f"1:{d}" for d in DEPARTMENTS]
    assert all(p["plan"] == 1 and p["timers"][:2] == [8, 3] for p in plans)
    case = w.cases.get(case_id)
    assert case.status == "accepted" and case.accepted_at == w.now[0].isoformat()
    [resumed] = told(w, case_token)
    assert resumed["outcome"] == "resumed" and resumed["plan"] == 1
    assert resumed["timers"][:2] == [8, 3]                   # 1 working day promised
    assert branch(w, case_id, CASE_CLOCK).step_clock.start == w.now[0]


def test_a_stage_decided_message_redelivered_gets_the_same_answer(w):
    case_id, _ = accepted(w)
    _, again = stage_decided(w, case_id, 0)
    assert again == w.cases.get(case_id).stage_answers["0"]
    assert len([b for b in w.cases.branches(case_id) if b.stage == 1]) == 5


def test_a_department_cannot_decide_another_departments_branch(w):
    case_id, _ = accepted(w)
    with pytest.raises(Forbidden) as refused:
        w.approval.decide(dept("GA"), case_id, "1:SCJG",
                          {"decision": "approve", "staff_id": "GA-002"}, "decide-key-x1")
    assert refused.value.field == "branch_id"
    assert branch(w, case_id, "1:SCJG").status == "open"


def test_staff_of_another_department_cannot_decide(w):
    case_id, _ = accepted(w)
    with pytest.raises(Forbidden) as refused:
        decide(w, case_id, "1:SCJG", {"decision": "approve", "staff_id": "GA-002"})
    assert refused.value.field == "branch_id"
    assert branch(w, case_id, "1:SCJG").status == "open"


def test_a_staff_member_cannot_decide_in_a_colleagues_name(w):
    case_id, _ = accepted(w)
    with pytest.raises(Forbidden) as refused:
        decide(w, case_id, "1:SCJG", {"decision": "approve", "staff_id": "SCJG-005"},
               by="SCJG-002")
    assert refused.value.field == "staff_id" and "SCJG-002" in refused.value.message
    assert branch(w, case_id, "1:SCJG").status == "open"
    decide(w, case_id, "1:SCJG", {"decision": "approve"}, by="SCJG-002")   # no name needed
    assert branch(w, case_id, "1:SCJG").decided_by == "staff:SCJG-002"


def test_approval_by_all_five_grants_the_case_with_a_verifiable_certificate(w):
    case_id, tokens = accepted(w)
    tick(w, 3)
    for code in DEPARTMENTS:
        decide(w, case_id, f"1:{code}", {"decision": "approve", "staff_id": REVIEWERS[code]})
        assert told(w, tokens[f"1:{code}"]) == [{"outcome": "approved"}]
    said, answer = stage_decided(w, case_id, 1)
    assert said == "done" and answer == {"done": True}
    case = w.cases.get(case_id)
    assert case.status == "completed" and case.result["outcome"] == "granted"
    licence = w.certificates.get(case.result["certificate"])
    assert licence["status"] == "valid" and licence["case_no"] == case.case_no
    assert licence["holder"]["kind"] == "company"          # the new company, not the person
    assert licence["holder"]["name"] == case.form["company_name"]
    assert licence["applicant_id_number"] == ALICE.id_number
    assert licence["departments"] == sorted(DEPARTMENTS)
    assert told(w, tokens[CASE_CLOCK]) == [{"outcome": "completed"}]


def test_one_denial_completes_the_case_denied_with_its_reasons(w):
    case_id, tokens = accepted(w)
    for code in DEPARTMENTS:
        body = {"decision": "approve", "staff_id": REVIEWERS[code]}
        if code == "SW":
            body = {"decision": "deny", "staff_id": "SW-002", "reasons": "法定代表人为失信被执行人"}
        decide(w, case_id, f"1:{code}", body)
    assert told(w, tokens["1:SW"]) == [{"outcome": "denied"}]
    assert stage_decided(w, case_id, 1) == ("done", {"done": True})
    case = w.cases.get(case_id)
    assert case.status == "completed" and case.result["outcome"] == "denied"
    assert [(r["department"], r["reasons"]) for r in case.result["reasons"]] == \
        [("SW", "法定代表人为失信被执行人")]
    assert "certificate" not in case.result and w.certificates.documents == {}
    assert told(w, tokens[CASE_CLOCK]) == [{"outcome": "completed"}]


def test_a_refusal_at_acceptance_ends_the_case_refused(w):
    case_id = submit(w)
    case_token, _ = awaiting(w, case_id, CASE_CLOCK, 0)
    decide(w, case_id, ACCEPTING, {"decision": "refuse", "staff_id": "SCJG-001",
                                   "reasons": "经营范围含须前置审批的项目"})
    assert stage_decided(w, case_id, 0) == ("done", {"done": True})
    case = w.cases.get(case_id)
    assert case.status == "refused" and case.accepted_at is None
    assert case.result["reasons"][0]["reasons"] == "经营范围含须前置审批的项目"
    assert told(w, case_token) == [{"outcome": "refused"}]
    assert [b.branch_id for b in w.cases.branches(case_id) if b.stage == 1] == []


# -- starting again when the executions are gone (the local stack's restart) --------------------
def test_a_lost_execution_starts_again_at_the_current_stage_with_new_plans_from_now(w):
    case_id, _ = accepted(w)
    decide(w, case_id, "1:GA", {"decision": "approve", "staff_id": "GA-002"})
    tick(w, 3)
    w.engine.started.clear()                  # every execution is gone
    assert w.approval.resume(case_id) is True
    payload = w.engine.started[case_id]
    assert payload["case_id"] == case_id
    assert payload["stage"]["index"] == 1 and payload["stage"]["done"] is False
    plans = {p["branch_id"]: p for p in payload["stage"]["branches"]}
    assert set(plans) == {f"1:{code}" for code in DEPARTMENTS if code != "GA"}   # GA decided
    # A new plan each, counted from now: yellow 8 s after the step began (3 s ago), red 1 s
    # after its 10 s.
    assert all(p["plan"] == 2 and p["timers"][:2] == [5, 3] for p in plans.values())
    assert w.cases.answer(case_id, "1:SCJG") == {"outcome": "resumed", "plan": 2,
                                                 "timers": plans["1:SCJG"]["timers"]}
    clock = payload["case_clock"]
    assert clock["branch_id"] == CASE_CLOCK and clock["plan"] == 2 and clock["i"] == 0
    # The case's promised day (SCJG-001: 1) began at acceptance, 3 s ago: yellow in 5 s.
    assert clock["timers"][:2] == [5, 3] and clock["wait"] == 5
    assert branch(w, case_id, CASE_CLOCK).plan == 2
    # The new execution's tasks are taken as any: their tokens kept, a decision ends them.
    token, said = awaiting(w, case_id, "1:SCJG", 2)
    assert said == "token kept"
    decide(w, case_id, "1:SCJG", {"decision": "approve", "staff_id": "SCJG-002"})
    assert told(w, token) == [{"outcome": "approved"}]


def test_a_light_that_fell_due_while_nothing_ran_is_raised_once_the_workflow_runs_again(w):
    case_id = submit(w)
    awaiting(w, case_id, ACCEPTING, 1)
    tick(w, 9)                                # the yellow instant (8 s) passed unseen
    w.engine.started.clear()
    w.approval.resume(case_id)
    payload = w.engine.started[case_id]
    [plan] = payload["stage"]["branches"]
    assert plan["branch_id"] == ACCEPTING and plan["plan"] == 2
    assert plan["timers"][:2] == [1, 1]       # yellow at once, red at its instant (11 s)
    # Before acceptance the whole case's clock waits for nothing, as at submission.
    assert payload["case_clock"]["timers"] == [WAIT_FOREVER]
    tick(w, 1)
    assert timeout(w, case_id, ACCEPTING, 2, 0) == "yellow"
    assert [e["kind"] for e in w.supervision.of_case(case_id)] == ["yellow"]
    # Started again once more: the yellow light raised already is not planned again.
    w.engine.started.clear()
    w.approval.resume(case_id)
    assert [t["kind"] for t in branch(w, case_id, ACCEPTING).plan_timers][:1] == ["red"]


def test_a_case_refused_or_unknown_has_no_workflow_to_start_again(w):
    case_id = submit(w)
    decide(w, case_id, ACCEPTING, {"decision": "refuse", "staff_id": "SCJG-001",
                                   "reasons": "经营范围含须前置审批的项目"})
    stage_decided(w, case_id, 0)
    w.engine.started.clear()
    assert w.approval.resume(case_id) is False
    assert w.approval.resume("no-such-case") is False
    assert w.engine.started == {}


# -- corrections ------------------------------------------------------------------------------
def test_a_correction_at_acceptance_pauses_until_the_listed_material_is_uploaded_again(w):
    case_id = submit(w)
    token, _ = awaiting(w, case_id, ACCEPTING, 1)
    due = branch(w, case_id, ACCEPTING).step_clock.deadline(w.approval.clock)
    tick(w, 2)
    decide(w, case_id, ACCEPTING, {"decision": "correction", "staff_id": "SCJG-001",
                                   "materials": ["premises_proof"], "note": "租赁合同缺页"})
    case = w.cases.get(case_id)
    assert case.status == "correction_requested"
    assert case.correction["materials"] == ["premises_proof"]
    assert told(w, token) == [{"outcome": "resumed", "plan": 2, "timers": [WAIT_FOREVER]}]
    token, said = awaiting(w, case_id, ACCEPTING, 2)
    assert said == "token kept"
    tick(w, 30)                              # paused: no working time is lost meanwhile
    with pytest.raises(Unprocessable, match="premises_proof"):
        w.approval.correct(ALICE, case_id, {}, "correct-key-1")
    with pytest.raises(Conflict):            # only what the notice lists may be uploaded
        upload(w, case_id, "articles_of_association", b"%PDF-1.7 new articles")
    upload(w, case_id, "premises_proof", b"%PDF-1.7 complete lease")
    tick(w, 1)
    w.approval.correct(ALICE, case_id, {}, "correct-key-2")
    resumed = branch(w, case_id, ACCEPTING)
    assert resumed.status == "open" and w.cases.get(case_id).status == "submitted"
    assert resumed.step_clock.deadline(w.approval.clock) == due + timedelta(seconds=31)
    [answer] = told(w, token)
    assert answer["outcome"] == "resumed" and answer["plan"] == 3
    assert answer["timers"][:2] == [6, 3]    # 2 of the 10 s were used before the pause


def test_two_departments_asking_for_corrections_at_once_both_get_them(w):
    case_id, _ = accepted(w)
    decide(w, case_id, "1:GA", {"decision": "correction", "staff_id": "GA-002",
                                "materials": ["premises_proof"]})
    try:
        decide(w, case_id, "1:SW", {"decision": "correction", "staff_id": "SW-002",
                                    "materials": ["application_form"]})
    except Conflict:
        pass                                 # refusing a second notice meanwhile is fine too
    notice = w.cases.get(case_id).correction
    for material in notice["materials"]:
        upload(w, case_id, material, f"%PDF-1.7 corrected {material}".encode())
    w.approval.correct(ALICE, case_id, {}, "correct-key-1")
    stuck = [b.branch_id for b in w.cases.branches(case_id)
             if b.pause_reason == "correction"]
    case = w.cases.get(case_id)
    # Bug: chalicelib/service/approval.py `_decide` overwrites case.correction with the second
    # department's notice, so answering it resumes only 1:SW; 1:GA stays paused while the case
    # is back to `accepted` and the applicant has no notice left to answer.
    assert stuck == [] or case.status == "correction_requested", \
        f"{stuck} still paused for a correction, yet the case is {case.status}"


# -- races and retries ------------------------------------------------------------------------
def test_a_decision_lost_on_a_stale_token_is_delivered_to_the_next_task(w):
    case_id = submit(w)
    stale, _ = awaiting(w, case_id, ACCEPTING, 1)
    tick(w, 8.5)
    w.engine.stale.add(stale)                # the yellow timer fired a moment before
    decide(w, case_id, ACCEPTING, {"decision": "accept", "staff_id": "SCJG-001"})
    assert told(w, stale) == []
    # The yellow timer's wait ran out (8 s had passed: rightly yellow, raised by the decision
    # that came after its instant); the next wait's task gets the answer the stale token lost.
    assert [e["kind"] for e in w.supervision.of_case(case_id)] == ["yellow"]
    token, said = awaiting(w, case_id, ACCEPTING, 1, timer=1)
    assert said == "ignored: stale or repeated timer; answer delivered again"
    assert told(w, token) == [{"outcome": "accepted"}]


def test_a_timeout_racing_a_decision_made_before_its_instant_raises_no_card(w):
    case_id = submit(w)
    awaiting(w, case_id, ACCEPTING, 1)
    tick(w, 8)
    stale, said = awaiting(w, case_id, ACCEPTING, 1, timer=1)    # a rightful yellow
    assert said == "yellow; token kept"
    tick(w, 2)                                                # at the deadline: in time
    w.engine.stale.add(stale)                                 # the red timer wins the race
    decide(w, case_id, ACCEPTING, {"decision": "accept", "staff_id": "SCJG-001"})
    tick(w, 1)
    token, said = awaiting(w, case_id, ACCEPTING, 1, timer=2)    # the red timer ran out
    # Bug: chalicelib/service/approval.py `_timeout` does not look at the branch's decision,
    # so a step decided in time gets a red card (超时办理) when the red timer beats the answer.
    assert [e["kind"] for e in w.supervision.of_case(case_id)] == ["yellow"], \
        "a branch decided before its red instant was given a red card"
    assert said == "ignored: decided before this instant; answer delivered again"
    assert told(w, token) == [{"outcome": "accepted"}]


def test_a_replayed_decision_returns_the_same_answer_and_applies_once(w):
    case_id = submit(w)
    token, _ = awaiting(w, case_id, ACCEPTING, 1)
    body = {"decision": "accept", "staff_id": "SCJG-001"}
    first = decide(w, case_id, ACCEPTING, body, key="accept-key-1")
    tick(w, 1)
    again = decide(w, case_id, ACCEPTING, body, key="accept-key-1")
    assert again == first and first["outcome"] == "accepted"
    assert actions(w, case_id).count("decision_accept") == 1
    assert told(w, token) == [{"outcome": "accepted"}]
    with pytest.raises(Conflict, match="already decided"):
        decide(w, case_id, ACCEPTING, body, key="accept-key-2")


# -- reading ----------------------------------------------------------------------------------
def test_tasks_list_the_open_branches_of_a_department_with_light_and_deadline(w):
    case_id, _ = accepted(w)
    started = w.now[0]
    [task] = w.approval.tasks(dept("GA"))["tasks"]
    assert (task["case_id"], task["branch_id"], task["light"]) == (case_id, "1:GA", "green")
    assert task["deadline"] == (started + timedelta(seconds=WORKDAY)).isoformat()
    assert task["applicant"] == "张三" and task["item_code"] == COMPANY_SETUP
    tick(w, 8)
    assert w.approval.tasks(dept("GA"))["tasks"][0]["light"] == "yellow"
    tick(w, 3)
    assert w.approval.tasks(dept("GA"))["tasks"][0]["light"] == "red"
    [own] = w.approval.tasks(dept("SCJG"))["tasks"]           # acceptance is decided
    assert own["branch_id"] == "1:SCJG"
    decide(w, case_id, "1:GA", {"decision": "approve", "staff_id": "GA-002"})
    assert w.approval.tasks(dept("GA"))["tasks"] == []


def test_the_trail_stays_verifiable_after_a_full_run(w):
    case_id, tokens = accepted(w)
    tick(w, 8)
    timeout(w, case_id, "1:GA", 1, 0)
    decide(w, case_id, "1:GA", {"decision": "special_start", "staff_id": "GA-003",
                                "procedure": "检验"})
    tokens["1:GA"], _ = awaiting(w, case_id, "1:GA", 2)
    tick(w, 5)
    decide(w, case_id, "1:GA", {"decision": "special_end", "staff_id": "GA-003"})
    for code in DEPARTMENTS:
        decide(w, case_id, f"1:{code}", {"decision": "approve", "staff_id": REVIEWERS[code],
                                         "fee_yuan": 0})
    assert stage_decided(w, case_id, 1)[0] == "done"
    assert w.cases.get(case_id).result["outcome"] == "granted"
    verdict = w.intake.verify_trail(case_id)
    assert verdict.intact
    assert {"submitted", "workflow_started", "decision_accept", "stage_started",
            "supervision_yellow", "decision_special_start", "decision_special_end",
            "decision_approve", "completed"} <= set(actions(w, case_id))


# -- who may decide what (chalicelib/domain/rights.py) -----------------------------------------
def test_each_decision_needs_the_right_of_the_signed_in_staff_members_role(w):
    from chalicelib.domain.rights import MissingRight

    case_id = submit(w)
    awaiting(w, case_id, ACCEPTING, 1)
    with pytest.raises(MissingRight) as refused:          # an approver does not pre-review
        decide(w, case_id, ACCEPTING, {"decision": "accept"}, by="SCJG-002")
    assert refused.value.right == "pre_review"
    decide(w, case_id, ACCEPTING, {"decision": "accept"}, by="SCJG-001")
    stage_decided(w, case_id, 0)
    with pytest.raises(MissingRight) as refused:          # a window clerk does not approve
        decide(w, case_id, "1:SCJG", {"decision": "approve"}, by="SCJG-001")
    assert refused.value.right == "decide_branches"
    with pytest.raises(MissingRight) as refused:          # nor does an approver run 听证
        decide(w, case_id, "1:SCJG", {"decision": "special_start", "procedure": "听证"},
               by="SCJG-002")
    assert refused.value.right == "run_special_procedures"
    assert branch(w, case_id, "1:SCJG").status == "open"


def test_an_extension_is_approved_by_another_senior_never_by_the_chief_who_asked(w):
    from chalicelib.domain.rights import MissingRight

    case_id, _ = accepted(w)
    limit = branch(w, case_id, "1:SCJG").step_clock.limit
    decide(w, case_id, "1:SCJG", {"decision": "extension_request", "note": "需现场核查"},
           by="SCJG-003")                                 # the section chief asks
    with pytest.raises(Forbidden) as refused:
        decide(w, case_id, "1:SCJG", {"decision": "extension_approve"}, by="SCJG-003")
    assert "asked for this extension" in refused.value.message
    with pytest.raises(MissingRight) as refused:
        decide(w, case_id, "1:SCJG", {"decision": "extension_approve"}, by="SCJG-002")
    assert refused.value.right == "approve_extensions"
    approved = decide(w, case_id, "1:SCJG", {"decision": "extension_approve"}, by="SCJG-000")
    assert approved["limit_days"] == limit + 10
    records = [r for r in w.intake.timeline(case_id) if r["action"].startswith("decision_ext")]
    assert [(r["action"], r["actor"]) for r in records] == [
        ("decision_extension_request", "staff:SCJG-003"),
        ("decision_extension_approve", "staff:SCJG-000")]


def test_the_whole_case_is_not_late_when_its_last_stage_was_decided_in_time(w):
    """Every department decided before the promised limit, but the stage's message (which
    completes the case) is still queued when the whole case's red instant runs out."""
    case_id, tokens = accepted(w)
    for code in DEPARTMENTS:
        decide(w, case_id, f"1:{code}", {"decision": "approve", "staff_id": REVIEWERS[code]})
    whole = branch(w, case_id, CASE_CLOCK)
    red = next(i for i, t in enumerate(whole.plan_timers) if t["kind"] == "red")
    w.now[0] = datetime.fromisoformat(whole.plan_timers[red]["at"]) + timedelta(seconds=1)
    assert timeout(w, case_id, CASE_CLOCK, whole.plan, red) == \
        "ignored: decided before this instant"
    assert not [e for e in w.supervision.of_case(case_id) if e.get("light") == "red"]


def test_the_whole_case_is_late_while_a_step_is_still_open_at_its_red_instant(w):
    case_id, tokens = accepted(w)
    for code in DEPARTMENTS[:-1]:
        decide(w, case_id, f"1:{code}", {"decision": "approve", "staff_id": REVIEWERS[code]})
    whole = branch(w, case_id, CASE_CLOCK)
    red = next(i for i, t in enumerate(whole.plan_timers) if t["kind"] == "red")
    w.now[0] = datetime.fromisoformat(whole.plan_timers[red]["at"]) + timedelta(seconds=1)
    assert timeout(w, case_id, CASE_CLOCK, whole.plan, red) == "red"


@pytest.mark.parametrize("kind", ["yellow", "red"])
def test_a_light_whose_message_comes_after_the_completion_is_still_raised(w, kind):
    """The last step was decided after the whole case's instant ran out, and the stage's
    message (which completes the case) was handled before the timer's: the case was late."""
    case_id, tokens = accepted(w)
    whole = branch(w, case_id, CASE_CLOCK)
    index = next(i for i, t in enumerate(whole.plan_timers) if t["kind"] == kind)
    plan = whole.plan
    w.now[0] = datetime.fromisoformat(whole.plan_timers[index]["at"]) + timedelta(seconds=1)
    for code in DEPARTMENTS:
        decide(w, case_id, f"1:{code}", {"decision": "approve", "staff_id": REVIEWERS[code]})
    stage_decided(w, case_id, 1)
    assert w.cases.get(case_id).status == "completed"
    # Raised as the case completed, judged by its last decision; the timer's own message, when
    # it comes (and again: the queue delivers at least once), finds it raised.
    assert timeout(w, case_id, CASE_CLOCK, plan, index) == "ignored: stale or repeated timer"
    assert timeout(w, case_id, CASE_CLOCK, plan, index) == "ignored: stale or repeated timer"
    lights = [e for e in w.supervision.of_case(case_id)
              if e.get("light") == kind and e.get("scope") == "case"]
    assert len(lights) == 1 and lights[0]["event_id"] == f"{CASE_CLOCK}#{plan}#{index}"


def test_a_decision_that_overtakes_its_red_timeout_raises_the_red_first(w):
    """Under load the engine fires late: the step is decided after its red instant, before the
    workflow's timeout has said so (its message may never come: the answer ends the task)."""
    case_id, tokens = accepted(w)
    step = branch(w, case_id, "1:GA")
    red = next(i for i, t in enumerate(step.plan_timers) if t["kind"] == "red")
    w.now[0] = datetime.fromisoformat(step.plan_timers[red]["at"]) + timedelta(seconds=4)
    decide(w, case_id, "1:GA", {"decision": "approve", "staff_id": REVIEWERS["GA"]})
    cards = [e for e in w.supervision.of_case(case_id) if e["branch_id"] == "1:GA"]
    assert [e["kind"] for e in cards] == ["yellow", "red"]
    assert cards[1]["planned_at"] == step.plan_timers[red]["at"]
    assert cards[1]["delay_seconds"] == 4          # raised late, and saying so
    raised = [e for e in w.events.published if isinstance(e, events.CardRaised)
              and e.record["branch_id"] == "1:GA"]
    assert [(e.color, e.repeated) for e in raised] == [("yellow", False), ("red", False)]
    stored = branch(w, case_id, "1:GA")
    assert stored.status == "decided" and stored.emitted == ["yellow", "red"]
    # In the decision's own change (one write, however many decide at once), lights first.
    assert actions(w, case_id)[-3:] == ["supervision_yellow", "supervision_red",
                                        "decision_approve"]
    assert sum("红牌" in text for _, text in w.notifier.sent) == 2     # staff and chief
    # The engine's own timeout, late, raises nothing more and the task gets its answer.
    token, said = awaiting(w, case_id, "1:GA", step.plan, timer=red + 1)
    assert said == "ignored: stale or repeated timer; answer delivered again"
    assert len([e for e in w.supervision.of_case(case_id) if e["kind"] == "red"]) == 1


def test_a_decision_between_yellow_and_red_raises_the_yellow_only(w):
    case_id, tokens = accepted(w)
    step = branch(w, case_id, "1:GA")
    red = next(t for t in step.plan_timers if t["kind"] == "red")
    w.now[0] = datetime.fromisoformat(red["at"]) - timedelta(seconds=2)
    decide(w, case_id, "1:GA", {"decision": "approve", "staff_id": REVIEWERS["GA"]})
    assert [e["kind"] for e in w.supervision.of_case(case_id)] == ["yellow"]
    assert branch(w, case_id, "1:GA").emitted == ["yellow"]


def test_an_item_whose_law_says_days_runs_its_steps_and_case_on_natural_days(w):
    # 失业保险金申领 (RSJ-002): the regulation gives the office 10 日, so the hall's 3-day
    # promise and the step are counted in natural days; acceptance stays in working days.
    item = w.catalog.item("RSJ-002")
    assert item["limit_unit"] == "natural_days"
    case = w.intake.create(ALICE, {"item": "RSJ-002", "hall": "BZ",
                                   "form": item["form"]["examples"][0]})
    for spec in item["materials"]:
        if spec["required"]:
            upload(w, case["case_id"], spec["id"], b"%PDF-1.7 id", item="RSJ-002")
    w.intake.submit(ALICE, case["case_id"], {}, "submit-rsj")
    case_id = case["case_id"]
    assert branch(w, case_id, "0:RSJ").step_clock.unit == "working_days"
    awaiting(w, case_id, CASE_CLOCK, 0)
    awaiting(w, case_id, "0:RSJ", 1)
    decide(w, case_id, "0:RSJ", {"decision": "accept", "staff_id": "RSJ-001"})
    stage_decided(w, case_id, 0)
    assert branch(w, case_id, CASE_CLOCK).step_clock.unit == "natural_days"
    assert branch(w, case_id, CASE_CLOCK).step_clock.days == 3
    assert branch(w, case_id, "1:RSJ").step_clock.unit == "natural_days"


def test_a_step_in_a_district_hall_is_shown_as_the_district_bureaus_with_its_unit(w):
    item = w.catalog.item(COMPANY_SETUP)
    case = w.intake.create(ALICE, {"item": COMPANY_SETUP, "hall": "BZQC",
                                   "form": item["form"]["examples"][0]})
    for spec in item["materials"]:
        if spec["required"]:
            upload(w, case["case_id"], spec["id"], f"%PDF-1.7 {spec['id']}".encode())
    w.intake.submit(ALICE, case["case_id"], {}, "submit-bzqc")
    stored = w.cases.get(case["case_id"])
    view = w.approval.branch_view(stored, branch(w, case["case_id"], ACCEPTING), w.now[0])
    assert view["window"] == "BZQC-A01" and view["department_name"] == "亳州市市场监督管理局"
    assert view["body_name"] == "亳州市谯城区市场监督管理局"
    assert view["limit_unit"] == "working_days"
