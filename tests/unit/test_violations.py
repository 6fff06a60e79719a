"""Electronic supervision's violations (docs/domain.md, "Lights, cards and violations"), found
from the facts a case recorded. Each story below is told as the service would record it: the
case, its branches with their clocks, and a hash-chained trail, on the real China calendar."""
from __future__ import annotations

import copy
import hashlib
import itertools
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import catalog
from chalicelib.adapters.idempotency import PowertoolsIdempotency
from chalicelib.adapters.memory import (InMemoryCases, InMemoryCertificates, InMemoryEngine,
                                        InMemoryIdempotencyStore, InMemoryMaterials,
                                        InMemoryNotifier, InMemorySupervision)
from chalicelib.domain import approval as rules
from chalicelib.domain import trail as trails
from chalicelib.domain import violations as v
from chalicelib.domain.approval import ACCEPTANCE, CASE, CASE_CLOCK, DECISION, Branch, Decision
from chalicelib.domain.cases import ACCEPTED, CHINA_TIME, CORRECTION, SUBMITTED, Caller, Case
from chalicelib.domain.clock import ChinaWorkingCalendar, CompressedClock
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.violations import CaseFacts, Policy, detect
from chalicelib.domain.violations.findings import TITLES
from chalicelib.service.approval import Approval
from chalicelib.service.intake import Intake

PUBLISHED = catalog.published()
CALENDAR = ChinaWorkingCalendar()
CITIZEN = "citizen:sub-alice"
WORKFLOW = "system:workflow"


def cn(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TIME)


def utc(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat()


WED = cn(2026, 11, 18, 10)      # Wednesday 18 November 2026, 10:00 in China; no holiday near


def staff_at(department: str, post: str, hall: str = "BZ") -> tuple[str, str]:
    """(window, staff) of the department's first window in the hall with someone at that post."""
    dept = PUBLISHED.departments[department]
    window = next((w for w in dept["windows"] if w["hall"] == hall), dept["windows"][0])
    person = next((s for s in window["staff"] if s.get("post") == post), window["staff"][0])
    return window["code"], person["staff_id"]


def chief(department: str) -> str:
    return PUBLISHED.departments[department]["chief_representative"]["staff_id"]


class Story:
    """A case told as it happens; every step leaves what the service would leave."""

    def __init__(self, item_code: str = "SCJG-001", at: datetime = WED, item: dict | None = None,
                 case_id: str = "case0001"):
        self.item = item or PUBLISHED.item(item_code)
        self.now = at
        self.hall = self.item["halls"][0]
        self.trail: list[trails.TrailRecord] = []
        self.branches: dict[str, Branch] = {}
        self.case = Case(case_id=case_id, item_code=self.item["code"], hall=self.hall,
                         channel="online", applicant={"name": "张三", "kind": "person",
                                                      "id_number": "341602199001011234",
                                                      "phone": "13800138000"},
                         form=copy.deepcopy(self.item["form"]["examples"][0]),
                         created_at=at.isoformat(), created_by=CITIZEN)
        self.record("created", CITIZEN, {"item": self.item["code"], "hall": self.hall})
        for spec in self.item["materials"]:
            if spec["required"]:
                self.upload(spec["id"])
        self.case.status, self.case.submitted_at = SUBMITTED, self.now.isoformat()
        self.case.case_no = f"{self.hall}-20261118-00001"
        self.record("submitted", CITIZEN, {"case_no": self.case.case_no})
        lead = self.item["lead_department"]
        self.add_branch(ACCEPTANCE, 0, "受理", lead, "受理（预审）",
                        self.item["acceptance_limit_days"])
        self.add_branch(CASE, -1, "承诺时限", lead, self.item["name"],
                        self.item["promised_limit_days"], branch_id=CASE_CLOCK)

    # -- time and records ----------------------------------------------------------------------
    def at(self, when: datetime) -> "Story":
        self.now = when
        return self

    def later(self, **delta) -> "Story":
        self.now += timedelta(**delta)
        return self

    def record(self, action: str, actor: str, data: dict) -> None:
        record = trails.append(self.case.case_id, self.case.trail_seq, self.case.trail_hash,
                               action, actor, self.now.astimezone(timezone.utc).isoformat(),
                               data)
        self.case.trail_seq, self.case.trail_hash = record.seq, record.hash
        self.trail.append(record)

    def upload(self, material: str) -> None:
        self.case.materials[material] = {"material": material, "status": "received",
                                         "announced_at": self.now.isoformat(),
                                         "sha256": f"{material:0<64}"[:64]}
        self.record("material_announced", CITIZEN, {"material": material})
        self.record("material_received", "system:s3", {"material": material})

    def add_branch(self, kind: str, stage: int, stage_name: str, department: str, task: str,
                   days: int, branch_id: str | None = None) -> Branch:
        window, staff = staff_at(department, "受理" if kind == ACCEPTANCE else "审核", self.hall)
        branch = Branch(case_id=self.case.case_id, branch_id=branch_id or f"{stage}:{department}",
                        kind=kind, stage=stage, stage_name=stage_name, department=department,
                        task=task, window=window, staff_id=staff,
                        chief_staff_id=chief(department), clock=rules.new_clock(self.now, days))
        self.branches[branch.branch_id] = branch
        return branch

    # -- what departments and the applicant do -------------------------------------------------
    def decide(self, branch_id: str, decision: str, staff: str | None = None,
               reasons: str | None = None, fee: float = 0.0, materials=()) -> "Story":
        """A decision as recorded, unchecked: the stories must be able to break the rules."""
        branch = self.branches[branch_id]
        staff = staff or branch.staff_id
        rules.apply(branch, Decision(decision, staff, reasons, fee, tuple(materials)), self.now,
                    f"staff:{staff}")
        if decision == "correction":
            notice = self.case.correction or {"branches": [], "materials": [],
                                              "requested_at": self.now.isoformat()}
            notice["branches"].append(branch_id)
            notice["materials"] = list(dict.fromkeys(notice["materials"] + list(materials)))
            self.case.status, self.case.correction = CORRECTION, notice
        self._follow_case_clock()
        data = {"branch": branch_id, "decision": decision, "staff_id": staff, "fee_yuan": fee}
        if reasons is not None:
            data["reasons"] = reasons
        if materials:
            data["materials"] = list(materials)
        self.record(f"decision_{decision}", f"department:{branch.department}", data)
        return self

    def correct(self) -> "Story":
        notice = self.case.correction
        for material in notice["materials"]:
            self.upload(material)
        for branch_id in notice["branches"]:
            rules.end_correction(self.branches[branch_id], self.now)
        self.case.status = ACCEPTED if self.case.accepted_at else SUBMITTED
        self.case.correction = None
        self._follow_case_clock()
        self.record("corrected", CITIZEN, {"branches": notice["branches"],
                                           "materials": notice["materials"]})
        return self

    def _follow_case_clock(self) -> None:
        whole = self.branches[CASE_CLOCK]
        if not self.case.accepted_at or whole.status == rules.DECIDED:
            return
        paused = any(b.status == rules.PAUSED for b in self.branches.values() if b.kind != CASE)
        step = whole.step_clock
        if paused and not step.paused:
            whole.with_clock(step.pause(self.now))
        elif not paused and step.paused:
            whole.with_clock(step.resume(self.now))

    def pass_stage(self) -> "Story":
        """The workflow hears that the current stage is decided: next stage, or completion."""
        stage = self.case.stage
        outcome = rules.stage_outcome([b for b in self.branches.values() if b.stage == stage])
        if stage == 0 and outcome == "passed":
            self.case.status, self.case.accepted_at = ACCEPTED, self.now.isoformat()
            self.branches[CASE_CLOCK].clock = rules.new_clock(self.now,
                                                              self.item["promised_limit_days"])
        if outcome == "passed" and not rules.is_final_stage(self.item, stage):
            spec = self.item["stages"][stage]
            for b in spec["departments"]:
                self.add_branch(DECISION, stage + 1, spec["name"], b["department"], b["task"],
                                b["limit_days"])
            self.case.stage = stage + 1
            self.record("stage_started", WORKFLOW, {"stage": stage + 1, "name": spec["name"]})
            return self
        whole = self.branches[CASE_CLOCK]
        whole.status = rules.DECIDED
        self.case.completed_at = self.now.isoformat()
        self.case.status = "refused" if outcome == "refused" else "completed"
        whole.outcome = self.case.status
        self.record(self.case.status, WORKFLOW, {"outcome": outcome})
        return self

    # -- shortcuts -----------------------------------------------------------------------------
    def accept(self, **after) -> "Story":
        lead = self.item["lead_department"]
        return self.later(**(after or {"hours": 1})).decide(f"0:{lead}", "accept").pass_stage()

    def approve_stage(self, **after) -> "Story":
        self.later(**(after or {"hours": 2}))
        for branch in self.stage_branches():
            self.decide(branch.branch_id, "approve")
        return self.pass_stage()

    def stage_branches(self) -> list[Branch]:
        return [b for b in self.branches.values() if b.stage == self.case.stage]

    def on_time(self) -> "Story":
        self.accept()
        while self.case.status != "completed":
            self.approve_stage()
        return self

    def facts(self, **over) -> CaseFacts:
        return CaseFacts(self.case, list(self.branches.values()), list(self.trail), self.item,
                         PUBLISHED.departments, over.pop("clock", CALENDAR), **over)


def found(facts: CaseFacts, rule=None, policy: Policy = v.DEFAULT_POLICY) -> list:
    return rule(facts, policy) if rule else detect(facts, policy)


def ids(findings) -> list[str]:
    return [f.finding_id for f in findings]


def people(finding) -> tuple:
    return finding.department, finding.window, finding.staff_id, finding.chief_staff_id


# -- clean cases --------------------------------------------------------------------------------
def test_a_clean_on_time_company_setup_finds_nothing():
    story = Story("SCJG-001").accept(hours=1)
    story.at(cn(2026, 11, 19, 10))
    for branch in story.stage_branches():
        story.decide(branch.branch_id, "approve").later(minutes=10)
    story.pass_stage()
    assert story.case.status == "completed"
    assert detect(story.facts()) == []


@pytest.mark.parametrize("code", sorted(PUBLISHED.items))
def test_every_item_handled_on_time_finds_nothing(code):
    assert detect(Story(code).on_time().facts()) == []


# -- 1 refused_without_valid_reason ---------------------------------------------------------------
def refused(reasons, code="SCJG-003", before=None) -> Story:
    story = Story(code).later(hours=1)
    if before:
        before(story)
    return story.decide("0:SCJG", "refuse", reasons=reasons).pass_stage()


def test_refused_without_valid_reason_finds_boilerplate_reasons():
    story = refused("经审查，材料不全，不予受理。")
    [finding] = found(story.facts(), v.refused_without_valid_reason)
    assert (finding.rule, finding.number, finding.title, finding.severity) == \
        ("refused_without_valid_reason", 1, "无正当理由不予受理", "red")
    assert people(finding) == ("SCJG", "BZ-A01", "SCJG-001", "SCJG-000")
    assert finding.branch_id == "0:SCJG" and finding.at == utc(cn(2026, 11, 18, 11))
    assert finding.evidence["ground"] == "boilerplate"
    assert finding.evidence["reasons"] == "经审查，材料不全，不予受理。"
    assert [f.rule for f in detect(story.facts())] == ["refused_without_valid_reason"]


def test_refused_without_valid_reason_finds_a_qualifying_application_refused_on_no_ground():
    [finding] = found(refused("窗口认为店铺位置偏僻，客流太少").facts(),
                      v.refused_without_valid_reason)
    assert finding.evidence == {"ground": "qualifying_application",
                                "reasons": "窗口认为店铺位置偏僻，客流太少",
                                "missing_materials": [], "form_problems": []}


@pytest.mark.parametrize("reasons", [
    "依据《中华人民共和国行政许可法》第三十二条，本事项不属于本机关职权范围，请向谯城区市场监管局申请",
    "经营场所与有毒有害场所未保持规定距离",          # names a published condition of SCJG-003
])
def test_refused_without_valid_reason_accepts_a_cited_provision_or_a_named_condition(reasons):
    assert found(refused(reasons).facts(), v.refused_without_valid_reason) == []


def test_refused_without_valid_reason_finds_an_incomplete_application_refused_not_corrected():
    def blurred(story):
        story.case.materials["business_licence"]["status"] = "rejected"
    [finding] = found(refused("营业执照复印件模糊无法辨认", before=blurred).facts(),
                      v.refused_without_valid_reason)
    assert finding.evidence["ground"] == "refused_instead_of_correction"
    assert finding.evidence["missing_materials"] == ["business_licence"]


def test_refused_without_valid_reason_accepts_a_refusal_after_a_correction_notice_failed():
    def corrected_badly(story):
        story.decide("0:SCJG", "correction", materials=["business_licence"])
        story.later(hours=2).correct().later(minutes=30)
        story.case.materials["business_licence"]["status"] = "rejected"
    story = refused("补正后的营业执照仍无法辨认", before=corrected_badly)
    assert found(story.facts(), v.refused_without_valid_reason) == []


# -- 2 exceeded_promised_limit -------------------------------------------------------------------
def food_licence(decided: datetime, completed: datetime | None = None) -> Story:
    """SCJG-003: promised 5 working days from acceptance on Wednesday 18 November: due 24:00
    Wednesday 25 November (counting starts Thursday; no weekend day counts)."""
    story = Story("SCJG-003").accept(hours=1)
    story.at(decided).decide("1:SCJG", "approve")
    return story.at(completed or decided + timedelta(hours=1)).pass_stage()


def test_exceeded_promised_limit_finds_a_case_completed_after_its_deadline():
    story = food_licence(cn(2026, 11, 26, 9))
    [finding] = found(story.facts(), v.exceeded_promised_limit)
    assert (finding.number, finding.title, finding.severity) == (2, "超时办理", "red")
    assert finding.finding_id == "case0001#exceeded_promised_limit#case"
    assert people(finding) == ("SCJG", "BZ-A01", "SCJG-001", "SCJG-000")   # the accepting window
    assert finding.at == utc(cn(2026, 11, 26) + timedelta(seconds=1))      # red one second after
    assert finding.evidence["deadline"] == utc(cn(2026, 11, 26))
    assert finding.evidence["completed_at"] == utc(cn(2026, 11, 26, 10))
    assert finding.evidence["late_steps"] == ["1:SCJG"]
    assert finding.evidence["limit_days"] == 5
    # The whole is late: the late step is named here, not reported again under rule 3.
    assert found(story.facts(), v.step_over_its_limit) == []


def test_exceeded_promised_limit_finds_nothing_for_a_case_completed_on_its_last_day():
    story = food_licence(cn(2026, 11, 25, 22), cn(2026, 11, 25, 23, 59))
    assert found(story.facts(), v.exceeded_promised_limit) == []


def test_exceeded_promised_limit_counts_no_time_while_the_applicant_corrects():
    story = Story("SCJG-003").accept(hours=1)
    story.at(cn(2026, 11, 23, 10)).decide("1:SCJG", "correction", materials=["layout_plan"])
    story.at(cn(2026, 11, 25, 10)).correct()               # two working days paused
    story.at(cn(2026, 11, 26, 10)).decide("1:SCJG", "approve").pass_stage()
    assert found(story.facts(), v.exceeded_promised_limit) == []
    assert found(story.facts(), v.step_over_its_limit) == []


def test_exceeded_promised_limit_finds_an_open_case_past_its_deadline_when_asked_as_of_now():
    story = Story("SCJG-003").accept(hours=1)
    assert found(story.facts(as_of=cn(2026, 11, 27, 9)), v.exceeded_promised_limit)[0] \
        .evidence["completed_at"] is None
    assert found(story.facts(), v.exceeded_promised_limit) == []
    assert found(story.facts(as_of=cn(2026, 11, 25, 23)), v.exceeded_promised_limit) == []


def test_exceeded_promised_limit_names_the_lead_department_when_no_acceptance_is_recorded():
    window, staff = staff_at("SCJG", "受理")
    story = food_licence(cn(2026, 11, 26, 9))
    story.case.registered_by = {"department": "SCJG", "window": window, "staff_id": staff}
    branches = [b for b in story.branches.values() if b.kind != ACCEPTANCE]
    facts = CaseFacts(story.case, branches, story.trail, story.item, PUBLISHED.departments)
    [finding] = found(facts, v.exceeded_promised_limit)
    assert finding.branch_id is None
    assert people(finding) == ("SCJG", window, staff, "SCJG-000")


# -- 3 step_over_its_limit -----------------------------------------------------------------------
def pharmacy(first_stage_decided: datetime) -> Story:
    """SCJG-004: an 8-day review then a 2-day decision, 10 days promised. Accepted Wednesday 18
    November: the review is due 24:00 Monday 30 November, the whole 24:00 Wednesday 2 December."""
    story = Story("SCJG-004").accept(hours=1)
    story.at(first_stage_decided).decide("1:SCJG", "approve").pass_stage()
    return story.later(hours=4).decide("2:SCJG", "approve").later(hours=1).pass_stage()


def test_step_over_its_limit_finds_a_late_step_in_a_case_on_time():
    story = pharmacy(cn(2026, 12, 1, 10))
    [finding] = found(story.facts(), v.step_over_its_limit)
    assert (finding.number, finding.severity, finding.branch_id) == (3, "yellow", "1:SCJG")
    assert people(finding) == ("SCJG", "BZ-A01", "SCJG-002", "SCJG-000")
    assert finding.at == utc(cn(2026, 12, 1) + timedelta(seconds=1))
    assert finding.evidence["limit_days"] == 8
    assert finding.evidence["decided_at"] == utc(cn(2026, 12, 1, 10))
    assert found(story.facts(), v.exceeded_promised_limit) == []


def test_step_over_its_limit_finds_nothing_when_every_step_keeps_its_limit():
    assert found(pharmacy(cn(2026, 11, 30, 16)).facts(), v.step_over_its_limit) == []


def test_step_over_its_limit_names_the_staff_member_who_decided():
    story = Story("SCJG-004").accept(hours=1)
    story.at(cn(2026, 12, 1, 10)).decide("1:SCJG", "approve", staff="SCJG-005")
    [finding] = found(story.facts(), v.step_over_its_limit)
    assert people(finding) == ("SCJG", "BZ-A02", "SCJG-005", "SCJG-000")


# -- 4 pre_review_late ---------------------------------------------------------------------------
def test_pre_review_late_finds_an_acceptance_after_the_items_acceptance_limit():
    story = Story("SCJG-003").at(cn(2026, 11, 20, 9)).decide("0:SCJG", "accept").pass_stage()
    [finding] = found(story.facts(), v.pre_review_late)
    assert (finding.number, finding.title, finding.severity) == (4, "预审或转报超时", "yellow")
    assert people(finding) == ("SCJG", "BZ-A01", "SCJG-001", "SCJG-000")
    assert finding.at == utc(cn(2026, 11, 20) + timedelta(seconds=1))
    assert finding.evidence["limit_days"] == 1


def test_pre_review_late_finds_nothing_for_an_acceptance_on_the_next_working_day():
    story = Story("SCJG-003").at(cn(2026, 11, 19, 16)).decide("0:SCJG", "accept").pass_stage()
    assert found(story.facts(), v.pre_review_late) == []


def test_pre_review_late_never_allows_more_than_five_working_days():
    item = {**PUBLISHED.item("SCJG-003"), "acceptance_limit_days": 8}
    story = Story(item=item).at(cn(2026, 11, 26, 10)).decide("0:SCJG", "accept").pass_stage()
    [finding] = found(story.facts(), v.pre_review_late)
    assert finding.evidence["limit_days"] == 5
    assert finding.evidence["deadline"] == utc(cn(2026, 11, 26))


def test_pre_review_late_finds_a_late_forwarding_step_instead_of_rule_three():
    story = Story("FGW-003").accept(hours=1)            # 审核转报: 初审转报 in 5 days
    story.at(cn(2026, 11, 26, 10)).decide("1:FGW", "approve").pass_stage()
    [finding] = found(story.facts(), v.pre_review_late)
    assert finding.branch_id == "1:FGW" and finding.evidence["task"]
    assert found(story.facts(), v.step_over_its_limit) == []


# -- 5 decided_without_reasons -------------------------------------------------------------------
def test_decided_without_reasons_finds_a_refusal_without_reasons():
    story = refused(None)
    [finding] = found(story.facts(), v.decided_without_reasons)
    assert (finding.number, finding.severity, finding.branch_id) == (5, "red", "0:SCJG")
    assert finding.evidence == {"decision": "refuse", "reasons": None}
    assert [f.rule for f in detect(story.facts())] == ["decided_without_reasons"]


def test_decided_without_reasons_finds_a_denial_with_blank_reasons():
    story = Story("SCJG-001").accept(hours=1).later(hours=3)
    for branch in story.stage_branches():
        if branch.department == "SW":
            story.decide(branch.branch_id, "deny", reasons="  ")
        else:
            story.decide(branch.branch_id, "approve")
    story.pass_stage()
    [finding] = found(story.facts(), v.decided_without_reasons)
    assert finding.branch_id == "1:SW"
    assert people(finding) == ("SW", *staff_at("SW", "审核"), "SW-000")


def test_decided_without_reasons_finds_nothing_when_the_denial_gives_them():
    story = Story("SCJG-003").accept(hours=1).later(hours=3)
    story.decide("1:SCJG", "deny", reasons="经现场核查，经营场所与有毒有害场所距离不足").pass_stage()
    assert found(story.facts(), v.decided_without_reasons) == []


# -- 6 off_system_handling -----------------------------------------------------------------------
def hurried(code: str, step_minutes: float, case_minutes: float) -> Story:
    story = Story(code).accept(hours=1).later(minutes=step_minutes)
    for branch in story.stage_branches():
        story.decide(branch.branch_id, "approve")
    return story.later(minutes=case_minutes - step_minutes).pass_stage()


def test_off_system_handling_finds_a_case_and_its_steps_done_in_minutes():
    story = hurried("SCJG-001", step_minutes=5, case_minutes=6)
    findings = found(story.facts(), v.off_system_handling)
    assert ids(findings) == ["case0001#off_system_handling#case#too_fast"] + [
        f"case0001#off_system_handling#1:{d}#too_fast" for d in sorted(
            b["department"] for b in story.item["stages"][0]["departments"])]
    whole = findings[0]
    assert (whole.number, whole.title, whole.severity) == (6, "体外循环", "red")
    assert people(whole) == ("SCJG", "BZ-A01", "SCJG-001", "SCJG-000")
    assert whole.evidence["working_minutes"] == 6.0 and whole.evidence["fastest_minutes"] == 60
    assert whole.evidence["category"] == "行政许可"
    ga = next(f for f in findings if f.branch_id == "1:GA")
    assert people(ga) == ("GA", *staff_at("GA", "审核"), "GA-000")
    assert ga.evidence["working_minutes"] == 5.0 and ga.evidence["fastest_minutes"] == 15


def test_off_system_handling_finds_nothing_in_a_case_that_took_its_time():
    assert found(hurried("SCJG-001", step_minutes=90, case_minutes=120).facts(),
                 v.off_system_handling) == []


def test_off_system_handling_leaves_out_the_time_a_step_waited_for_corrections():
    story = Story("SCJG-003").accept(hours=1).later(minutes=6)
    story.decide("1:SCJG", "correction", materials=["layout_plan"]).later(hours=20).correct()
    story.later(minutes=6).decide("1:SCJG", "approve").later(hours=1).pass_stage()
    [finding] = found(story.facts(), v.off_system_handling)
    assert finding.branch_id == "1:SCJG" and finding.evidence["working_minutes"] == 12.0


def test_off_system_handling_thresholds_come_from_the_policy_per_category():
    story = hurried("ZRZY-003", step_minutes=12, case_minutes=20)   # 行政确认: 30 / 10 minutes
    assert ids(found(story.facts(), v.off_system_handling)) == \
        ["case0001#off_system_handling#case#too_fast"]
    slow = {"case_minutes": 600, "step_minutes": 600}
    licences_only = Policy.from_dict({"fastest": {"行政许可": slow}})
    assert len(found(story.facts(), v.off_system_handling, licences_only)) == 1
    lenient = Policy.from_dict({"fastest": {"行政确认": {"case_minutes": 15, "step_minutes": 5}}})
    assert found(story.facts(), v.off_system_handling, lenient) == []
    strict = Policy.from_dict({"fastest": {"行政确认": {"case_minutes": 30, "step_minutes": 13}}})
    assert len(found(story.facts(), v.off_system_handling, strict)) == 2
    unchecked = Policy.from_dict({"fastest": {"行政确认": None}})
    assert found(story.facts(), v.off_system_handling, unchecked) == []


def test_off_system_handling_leaves_immediate_items_alone_unless_the_hall_sets_a_floor():
    story = hurried("SCJG-002", step_minutes=1, case_minutes=2)      # 即办件
    assert found(story.facts(), v.off_system_handling) == []
    floor = Policy.from_dict({"fastest_immediate": {"case_minutes": 5, "step_minutes": 2}})
    assert len(found(story.facts(), v.off_system_handling, floor)) == 2


def test_off_system_handling_judges_work_done_while_the_hall_is_closed_by_its_real_time():
    story = Story("SCJG-003", at=cn(2026, 11, 21, 9))                 # a Saturday duty
    story.accept(hours=1).later(hours=3).decide("1:SCJG", "approve").later(hours=1).pass_stage()
    assert found(story.facts(), v.off_system_handling) == []          # three real hours
    quick = Story("SCJG-003", at=cn(2026, 11, 21, 9))
    quick.accept(hours=1).later(minutes=1).decide("1:SCJG", "approve").later(minutes=1)
    findings = found(quick.pass_stage().facts(), v.off_system_handling)
    assert {f.branch_id for f in findings} >= {"1:SCJG"}             # the step: one minute
    step = next(f for f in findings if f.finding_id.endswith("1:SCJG#too_fast"))
    assert step.evidence["working_minutes"] == 1.0


def test_off_system_handling_finds_decisions_entered_outside_the_halls_office_hours():
    story = Story("SCJG-003").accept(hours=1).at(cn(2026, 11, 19, 23, 40))
    story.decide("1:SCJG", "approve").later(minutes=5).pass_stage()
    assert found(story.facts(), v.off_system_handling) == []
    hours = Policy.from_dict({"office_hours": ["08:30", "17:30"]})
    [finding] = found(story.facts(), v.off_system_handling, hours)
    assert finding.finding_id == "case0001#off_system_handling#1:SCJG#after_hours"
    assert finding.evidence["china_time"] == "2026-11-19 23:40"
    assert finding.evidence["working_day"] is True


# -- 7 fee_above_standard ------------------------------------------------------------------------
def charged(code: str, fees: dict[str, float]) -> Story:
    story = Story(code).accept(hours=1).later(hours=3)
    for branch in story.stage_branches():
        story.decide(branch.branch_id, "approve", fee=fees.get(branch.department, 0.0))
    return story.pass_stage()


def test_fee_above_standard_finds_a_fee_where_none_is_due():
    story = charged("SCJG-001", {"GA": 50})                  # company setup is free of charge
    [finding] = found(story.facts(), v.fee_above_standard)
    assert (finding.number, finding.title, finding.severity) == (7, "违规收费", "red")
    assert finding.branch_id == "1:GA"
    assert people(finding) == ("GA", *staff_at("GA", "审核"), "GA-000")
    assert finding.evidence["charged_yuan"] == 50 and finding.evidence["none_due"] is True


@pytest.mark.parametrize("code, fee", [("GA-002", 20), ("GA-002", 0), ("ZRZY-003", 80),
                                       ("ZRZY-003", 90), ("ZRZY-003", 110)])
def test_fee_above_standard_finds_nothing_within_the_standard(code, fee):
    department = PUBLISHED.item(code)["lead_department"]
    assert found(charged(code, {department: fee}).facts(), v.fee_above_standard) == []


@pytest.mark.parametrize("code, fee", [("GA-002", 40), ("ZRZY-003", 85), ("ZRZY-003", 120.5)])
def test_fee_above_standard_finds_a_fee_beyond_the_standard(code, fee):
    department = PUBLISHED.item(code)["lead_department"]
    [finding] = found(charged(code, {department: fee}).facts(), v.fee_above_standard)
    assert finding.evidence["charged_yuan"] == fee and finding.evidence["none_due"] is False


# -- 8 not_one_time_notice -----------------------------------------------------------------------
def two_notices(first: list[str], second: list[str]) -> Story:
    story = Story("SCJG-003").later(hours=1)
    story.decide("0:SCJG", "correction", materials=first).later(hours=5).correct()
    return story.later(hours=1).decide("0:SCJG", "correction", materials=second)


def test_not_one_time_notice_finds_a_second_notice_for_a_material_the_first_could_have_asked():
    story = two_notices(["business_licence"], ["layout_plan", "business_licence"])
    [finding] = found(story.facts(), v.not_one_time_notice)
    assert (finding.number, finding.title, finding.severity) == (8, "未一次性告知", "yellow")
    assert finding.finding_id == "case0001#not_one_time_notice#0:SCJG#notice2"
    assert people(finding) == ("SCJG", "BZ-A01", "SCJG-001", "SCJG-000")
    assert finding.evidence["materials"] == ["layout_plan"]
    assert finding.evidence["first_notice_at"] == utc(cn(2026, 11, 18, 11))
    assert finding.at == utc(cn(2026, 11, 18, 17))


def test_not_one_time_notice_finds_nothing_when_a_corrected_material_is_faulty_again():
    assert found(two_notices(["business_licence"], ["business_licence"]).facts(),
                 v.not_one_time_notice) == []


def test_not_one_time_notice_reads_the_notices_alone_when_the_trail_holds_no_uploads():
    story = two_notices(["business_licence"], ["business_licence", "layout_plan"])
    notices = [r for r in story.trail if not r.action.startswith("material_")]
    facts = CaseFacts(story.case, list(story.branches.values()), notices, story.item,
                      PUBLISHED.departments, CALENDAR)
    [finding] = found(facts, v.not_one_time_notice)
    assert finding.evidence["materials"] == ["layout_plan"]


def test_not_one_time_notice_counts_departments_asking_at_once_as_one_notice():
    story = Story("SCJG-001").accept(hours=1).later(hours=2)
    story.decide("1:GA", "correction", materials=["shareholder_ids"])
    story.later(minutes=20).decide("1:SW", "correction", materials=["premises_proof"])
    story.later(hours=3).correct()
    assert found(story.facts(), v.not_one_time_notice) == []


def test_not_one_time_notice_finds_a_department_asking_after_the_acceptance_notice():
    story = Story("SCJG-001").later(hours=1)
    story.decide("0:SCJG", "correction", materials=["premises_proof"]).later(hours=2).correct()
    story.accept(hours=1).later(hours=2)
    story.decide("1:GA", "correction", materials=["shareholder_ids"])
    [finding] = found(story.facts(), v.not_one_time_notice)
    assert finding.branch_id == "1:GA" and finding.evidence["materials"] == ["shareholder_ids"]
    assert finding.evidence["asked_before"] == ["premises_proof"]


# -- 9 outside_power_list ------------------------------------------------------------------------
def test_outside_power_list_finds_a_department_deciding_an_item_it_is_not_empowered_for():
    story = Story("SCJG-001").accept(hours=1)
    story.add_branch(DECISION, 1, "多证联办", "XF", "消防意见", 1)
    story.later(hours=3)
    for branch in story.stage_branches():
        story.decide(branch.branch_id, "approve")
    story.pass_stage()
    [finding] = found(story.facts(), v.outside_power_list)
    assert (finding.number, finding.title, finding.severity) == (9, "擅自设定许可事项", "red")
    assert finding.finding_id == "case0001#outside_power_list#XF"
    assert finding.branch_id == "1:XF"
    assert people(finding) == ("XF", *staff_at("XF", "审核"), "XF-000")
    assert finding.evidence["item"] == "SCJG-001" and finding.evidence["power_list"] == ["XF-001"]


def test_outside_power_list_finds_a_window_registering_an_item_outside_its_list():
    window, staff = staff_at("MZ", "受理")
    story = Story("SCJG-003")
    story.case.channel = "window"
    story.case.registered_by = {"department": "MZ", "window": window, "staff_id": staff}
    [finding] = found(story.facts(), v.outside_power_list)
    assert people(finding) == ("MZ", window, staff, "MZ-000")
    assert finding.evidence["handled_by"] == "registered" and finding.branch_id is None


def test_outside_power_list_finds_nothing_when_every_department_is_empowered():
    assert found(Story("FGW-001").on_time().facts(), v.outside_power_list) == []


# -- detection as a whole -----------------------------------------------------------------------
def troubled() -> Story:
    """Late acceptance, a second notice, a fee where none is due, a step decided in minutes."""
    story = Story("SCJG-001").later(hours=1)
    story.decide("0:SCJG", "correction", materials=["premises_proof"]).later(hours=2).correct()
    story.later(hours=1).decide("0:SCJG", "correction", materials=["shareholder_ids"])
    story.later(hours=1).correct()
    story.at(cn(2026, 11, 20, 10)).decide("0:SCJG", "accept").pass_stage()
    for branch in story.stage_branches():
        story.later(minutes=1).decide(branch.branch_id, "approve",
                                      fee=30 if branch.department == "GJJ" else 0)
    return story.at(cn(2026, 11, 20, 15)).pass_stage()


def test_detection_finds_every_violation_once_in_the_order_of_the_rules():
    findings = detect(troubled().facts())
    assert [f.rule for f in findings] == ["pre_review_late"] + ["off_system_handling"] * 5 + \
        ["fee_above_standard", "not_one_time_notice"]
    assert len(set(ids(findings))) == len(findings)


def test_detection_is_idempotent_same_ids_from_the_same_facts_however_stored():
    story = troubled()
    first = detect(story.facts())
    assert detect(story.facts()) == first
    stored = CaseFacts(story.case.to_dict(), [b.to_dict() for b in story.branches.values()],
                       [r.to_dict() for r in story.trail], story.item, PUBLISHED.departments,
                       CALENDAR)
    assert detect(stored) == first
    assert ids(detect(story.facts(as_of=cn(2026, 12, 1)))) == ids(first)


def test_detection_reads_a_branchs_history_when_the_trail_has_no_decisions():
    story = charged("SCJG-001", {"GA": 50})
    without = [r for r in story.trail if not r.action.startswith("decision_")]
    facts = CaseFacts(story.case, list(story.branches.values()), without, story.item,
                      PUBLISHED.departments, CALENDAR)
    assert ids(found(facts, v.fee_above_standard)) == ["case0001#fee_above_standard#1:GA"]


def test_detection_reads_the_facts_the_service_records():
    """The same reading of a case the approval service ran (in memory, compressed clock)."""
    now, clock = [WED], CompressedClock(10)
    alice = Caller("citizen", "sub-alice", id_number="341602199001011234", name="张三",
                   phone="13800138000")
    cases, materials, engine = InMemoryCases(), InMemoryMaterials(), InMemoryEngine()
    approval = Approval(PUBLISHED, cases, InMemorySupervision(), engine, InMemoryNotifier(),
                        InMemoryCertificates(), PowertoolsIdempotency(InMemoryIdempotencyStore()),
                        clock, now=lambda: now[0], materials=materials)
    intake = Intake(PUBLISHED, cases, materials, PowertoolsIdempotency(InMemoryIdempotencyStore()),
                    now=lambda: now[0], new_id=lambda: "case0001", on_submitted=approval.start)
    keys = itertools.count()
    item = PUBLISHED.item("SCJG-001")
    case_id = intake.create(alice, {"item": "SCJG-001", "hall": "BZ",
                                    "form": item["form"]["examples"][0]})["case_id"]
    for spec in item["materials"]:
        if spec["required"]:
            body = f"%PDF-1.7 {spec['id']}".encode()
            ticket = intake.request_upload(alice, case_id, {
                "material": spec["id"], "filename": "a.pdf", "content_type": "application/pdf",
                "size": len(body), "sha256": hashlib.sha256(body).hexdigest()})
            materials.put(ticket["key"], "application/pdf", body)
    intake.submit(alice, case_id, {}, "submit-key-1")

    def decide(branch_id, body):
        now[0] += timedelta(seconds=2)
        approval.decide(Caller.of_staff(PUBLISHED.staff(body["staff_id"])), case_id, branch_id,
                        body, f"decide-key-{next(keys):04d}")

    def stage_decided(stage):
        approval.on_workflow_message({"type": "stage_decided", "case_id": case_id,
                                      "stage": stage, "token": f"t{stage}"})

    decide("0:SCJG", {"decision": "accept", "staff_id": "SCJG-001"})
    stage_decided(0)
    for code in ("SCJG", "GA", "SW", "RSJ", "GJJ"):
        decide(f"1:{code}", {"decision": "approve", "staff_id": f"{code}-002",
                             "fee_yuan": 30 if code == "SW" else 0})
    stage_decided(1)
    case = cases.get(case_id)
    assert case.status == "completed"
    facts = CaseFacts.of(case, cases.branches(case_id), cases.trail(case_id), PUBLISHED, clock)
    findings = detect(facts)
    assert ids(findings) == ["case0001#fee_above_standard#1:SW"]
    assert people(findings[0]) == ("SW", *staff_at("SW", "审核"), "SW-000")


# -- the policy ---------------------------------------------------------------------------------
def test_the_policy_sets_each_rules_severity():
    story = two_notices(["business_licence"], ["layout_plan"])
    stern = Policy.from_dict({"severity": {"not_one_time_notice": "red"}})
    assert found(story.facts(), v.not_one_time_notice, stern)[0].severity == "red"
    assert v.DEFAULT_POLICY.severity_of("not_one_time_notice") == "yellow"
    assert {r: v.DEFAULT_POLICY.severity_of(r) for r in TITLES} == {
        "refused_without_valid_reason": "red", "exceeded_promised_limit": "red",
        "step_over_its_limit": "yellow", "pre_review_late": "yellow",
        "decided_without_reasons": "red", "off_system_handling": "red",
        "fee_above_standard": "red", "not_one_time_notice": "yellow",
        "outside_power_list": "red"}


def test_the_policy_reads_back_what_it_writes():
    policy = Policy.from_dict({"severity": {"pre_review_late": "red"},
                               "fastest": {"公共服务": {"case_minutes": 3, "step_minutes": 1}},
                               "fastest_immediate": {"case_minutes": 2, "step_minutes": 1},
                               "office_hours": ["08:30", "17:30"],
                               "boilerplate_reasons": ["不行"]})
    assert Policy.from_dict(policy.to_dict()) == policy
    assert Policy.from_dict({}) == Policy() == Policy.from_dict(None)
    assert policy.is_boilerplate("不行！") and not policy.is_boilerplate("材料不全")


@pytest.mark.parametrize("data", [
    {"severity": {"exceeded_promised_limit": "orange"}},
    {"severity": {"no_such_rule": "red"}},
    {"fastest": {"行政处罚": {"case_minutes": 1, "step_minutes": 1}}},
    {"fastest": {"行政许可": {"case_minutes": -1, "step_minutes": 1}}},
    {"fastest": {"行政许可": {"case_minutes": 1}}},
    {"office_hours": ["18:00", "08:00"]},
    {"office_hours": "08:00"},
    {"boilerplate_reasons": "材料不全"},
    {"severities": {}},
    ["not", "an", "object"],
])
def test_the_policy_refuses_settings_it_cannot_apply(data):
    with pytest.raises(InvalidInput):
        Policy.from_dict(data)
