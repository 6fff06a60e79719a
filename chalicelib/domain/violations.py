"""电子监察: the nine violations (docs/domain.md, "Lights, cards and violations"), found in what
a case has recorded. Plain rules, no I/O.

Detection reads facts only: the case, its branches (each step's clock, people and decision), its
audit trail (全程留痕), the item's guide and the departments with their power lists. Each rule
is one small function named after the violation; `detect` runs them all. A finding names the
case, the step, the department, the window, the staff member and the chief representative, as
every warning must, and carries the few facts that prove it. Its id is made of the case, the
rule and the step (nothing that changes with the time of detection), so running detection again
on the same facts finds the same findings under the same ids: whoever stores them puts them
again and nothing doubles.

 1 refused_without_valid_reason  不予受理 with boilerplate reasons; or of an application that
                                 qualifies on its face (every required material received, the
                                 form valid) without citing a legal provision or naming a
                                 published condition it fails; or of an incomplete application
                                 that was never given a correction notice (Licensing Law art. 32)
 2 exceeded_promised_limit       completed after the promised deadline (pauses and extensions
                                 counted), or still open past it when detection runs
 3 step_over_its_limit           a step decided after its own deadline while the whole case is
                                 in time (when the whole is late, rule 2 reports it and names
                                 the late steps)
 4 pre_review_late               acceptance (预审) after its limit, never more than 5 working
                                 days (art. 32); the forwarding step of a 审核转报 item after
                                 its own limit
 5 decided_without_reasons       a refusal or a denial without reasons (art. 38)
 6 off_system_handling           accepted-to-completed, or a step, in less working time than
                                 the hall finds believable for the item's power category; and,
                                 where the hall sets office hours, decisions entered outside them
 7 fee_above_standard            fees beyond the item's published standard, or where none is due
 8 not_one_time_notice           a later correction notice asking for a material the first
                                 could have asked for (一次性告知)
 9 outside_power_list            a department handling an item not on its power list
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, time, timezone
from functools import cached_property
from typing import Callable, Iterable, Mapping

from .approval import (ACCEPTANCE, CASE, CASE_CLOCK, DECIDED, DECISION, FINAL, NEEDS_REASONS,
                       RED_AFTER, Branch)
from .cases import CHINA_TIME, Case, form_problems, missing_materials
from .catalog import POWER_CATEGORIES
from .clock import WORKING_DAY, ChinaWorkingCalendar, StepClock, WorkingClock
from .errors import InvalidInput
from .trail import TrailRecord

YELLOW, RED = "yellow", "red"
SEVERITIES = (YELLOW, RED)

# rule → (number in docs/domain.md, title as the supervision office writes it)
TITLES: dict[str, tuple[int, str]] = {
    "refused_without_valid_reason": (1, "无正当理由不予受理"),
    "exceeded_promised_limit": (2, "超时办理"),
    "step_over_its_limit": (3, "环节超时"),
    "pre_review_late": (4, "预审或转报超时"),
    "decided_without_reasons": (5, "不予受理或不予许可未说明理由"),
    "off_system_handling": (6, "体外循环"),
    "fee_above_standard": (7, "违规收费"),
    "not_one_time_notice": (8, "未一次性告知"),
    "outside_power_list": (9, "擅自设定许可事项"),
}

PRE_REVIEW_MAX_DAYS = 5          # art. 32: after five days the application counts as accepted
MIN_REASON_CHARS = 4             # what parse_decision asks of a refusal's or denial's reasons
PER_UNIT_FEE = "每增加"           # a fee named so is charged once per additional unit
SHARED_WORDS = 4                 # two-character words reasons share with a condition it names
UPLOADS = ("material_announced", "material_received", "certificate_attached")
_OUTCOME_DECISION = {outcome: decision for decision, outcome in FINAL.items()}
_NOT_TEXT = re.compile(r"[\W_]+")                       # punctuation and spaces, any script
_LEGAL_CITATION = re.compile(r"《[^》]+》|第[一二三四五六七八九十百千零〇两\d]+[条款项]")


# -- what a finding is --------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    finding_id: str                 # case#rule#step: the same facts give the same id
    rule: str
    number: int
    title: str
    severity: str                   # yellow | red
    case_id: str
    branch_id: str | None
    department: str | None
    window: str | None
    staff_id: str | None
    chief_staff_id: str | None
    at: str                         # the instant the violation happened, ISO in UTC
    evidence: dict

    def to_dict(self) -> dict:
        return asdict(self)


# -- what a hall configures ---------------------------------------------------------------------
@dataclass(frozen=True)
class Fastest:
    """The least working time in which an item of one power category is believably handled in
    the system: from acceptance to completion, and for one deciding step."""
    case_minutes: float
    step_minutes: float

    def to_dict(self) -> dict:
        return asdict(self)


# Red for what wrongs the applicant or the law outright; yellow for what slips inside a case
# that still reaches the applicant lawfully (a step late while the whole is on time, acceptance
# late when the statute already counts the application as accepted, a second notice).
DEFAULT_SEVERITY: Mapping[str, str] = {
    "refused_without_valid_reason": RED,     # the applicant is shut out of the procedure
    "exceeded_promised_limit": RED,          # Nanjing: red one second after the deadline
    "step_over_its_limit": YELLOW,           # the whole is still in time
    "pre_review_late": YELLOW,               # art. 32 counts it as accepted on receipt anyway
    "decided_without_reasons": RED,          # art. 38: without reasons there is nothing to appeal
    "off_system_handling": RED,              # what happens outside cannot be supervised
    "fee_above_standard": RED,               # money taken without a legal basis
    "not_one_time_notice": YELLOW,           # costs the applicant another round, the case goes on
    "outside_power_list": RED,               # art. 71: no licence may be invented
}

# Starting points a hall tunes to its own records: licences get the longest (several sections
# read the file), filings and public services the shortest. Harbin Songbei's ten-minute
# city-district review is a 审核转报 step and stays above its floor. Working minutes, so the
# compressed demo clock scales with them.
DEFAULT_FASTEST: Mapping[str, Fastest] = {
    "行政许可": Fastest(case_minutes=60, step_minutes=15),
    "行政确认": Fastest(case_minutes=30, step_minutes=10),
    "行政给付": Fastest(case_minutes=30, step_minutes=10),
    "审核转报": Fastest(case_minutes=30, step_minutes=5),
    "行政备案": Fastest(case_minutes=10, step_minutes=2),
    "公共服务": Fastest(case_minutes=10, step_minutes=2),
}

# Phrases that state no reason at all. A refusal whose reasons are nothing but these (spaces and
# punctuation aside) is boilerplate; one naming what is wrong keeps something once they are gone.
DEFAULT_BOILERPLATE: tuple[str, ...] = (
    "经审查", "经审核", "经研究", "您的申请", "你的申请", "该申请", "申请",
    "材料不全", "材料不齐全", "材料不齐", "资料不全", "资料不齐", "材料有误",
    "不符合受理条件", "不符合相关规定", "不符合有关规定", "不符合条件", "不符合要求",
    "不符合规定", "条件不符", "不予受理", "不予办理", "暂不受理", "其他原因", "其他", "其它",
    "详见附件", "见附件", "另行通知", "因", "故", "无")


@dataclass(frozen=True)
class Policy:
    severity: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    fastest: Mapping[str, Fastest] = field(default_factory=lambda: dict(DEFAULT_FASTEST))
    # 即办件 are decided on the spot: speed is their point, so they are exempt unless set.
    fastest_immediate: Fastest | None = None
    # Where set (China time, start inclusive, end exclusive), a decision entered outside these
    # hours or on a day the hall is closed is a sign of work done elsewhere and typed in later.
    # Off by default: online staff may work late, and the demo clock has no hours.
    office_hours: tuple[time, time] | None = None
    boilerplate_reasons: tuple[str, ...] = DEFAULT_BOILERPLATE

    def severity_of(self, rule: str) -> str:
        return self.severity.get(rule, DEFAULT_SEVERITY[rule])

    def fastest_for(self, item: dict) -> Fastest | None:
        if item.get("kind") == "immediate":
            return self.fastest_immediate
        return self.fastest.get(item.get("category"))

    def is_boilerplate(self, reasons: str) -> bool:
        text = _NOT_TEXT.sub("", reasons)
        for phrase in sorted((_NOT_TEXT.sub("", p) for p in self.boilerplate_reasons),
                             key=len, reverse=True):
            if phrase:
                text = text.replace(phrase, "")
        return not text

    @classmethod
    def from_dict(cls, data: dict | None) -> "Policy":
        """A hall's settings over the defaults, e.g. {"severity": {"not_one_time_notice": "red"},
        "fastest": {"行政许可": {"case_minutes": 120, "step_minutes": 30}, "公共服务": null},
        "fastest_immediate": {...} | null, "office_hours": ["08:00", "18:00"] | null,
        "boilerplate_reasons": [...]}. A category set to null is not checked for speed."""
        data = data or {}
        if not isinstance(data, dict):
            raise InvalidInput("a supervision policy is an object", field="policy")
        unknown = set(data) - {"severity", "fastest", "fastest_immediate", "office_hours",
                               "boilerplate_reasons"}
        if unknown:
            raise InvalidInput(f"unknown policy settings: {', '.join(sorted(unknown))}",
                               field="policy")
        severity = dict(DEFAULT_SEVERITY)
        for rule, level in _mapping(data, "severity").items():
            if rule not in TITLES:
                raise InvalidInput(f"no rule {rule!r}; the rules are {', '.join(TITLES)}",
                                   field="policy.severity")
            if level not in SEVERITIES:
                raise InvalidInput(f"severity of {rule} must be yellow or red, not {level!r}",
                                   field=f"policy.severity.{rule}")
            severity[rule] = level
        fastest = dict(DEFAULT_FASTEST)
        for category, limits in _mapping(data, "fastest").items():
            if category not in POWER_CATEGORIES:
                raise InvalidInput(f"no power category {category!r}; they are "
                                   f"{', '.join(POWER_CATEGORIES)}", field="policy.fastest")
            if limits is None:
                fastest.pop(category, None)
            else:
                fastest[category] = _fastest(limits, f"policy.fastest.{category}")
        immediate = data.get("fastest_immediate")
        hours = data.get("office_hours")
        return cls(severity=severity, fastest=fastest,
                   fastest_immediate=None if immediate is None
                   else _fastest(immediate, "policy.fastest_immediate"),
                   office_hours=None if hours is None else _hours(hours),
                   boilerplate_reasons=_phrases(data["boilerplate_reasons"])
                   if "boilerplate_reasons" in data else DEFAULT_BOILERPLATE)

    def to_dict(self) -> dict:
        return {"severity": dict(self.severity),
                "fastest": {c: f.to_dict() for c, f in self.fastest.items()},
                "fastest_immediate": self.fastest_immediate.to_dict()
                if self.fastest_immediate else None,
                "office_hours": [f"{t:%H:%M}" for t in self.office_hours]
                if self.office_hours else None,
                "boilerplate_reasons": list(self.boilerplate_reasons)}


def _mapping(data: dict, name: str) -> dict:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} is an object", field=f"policy.{name}")
    return value


def _fastest(data: object, where: str) -> Fastest:
    if not isinstance(data, dict):
        raise InvalidInput("give case_minutes and step_minutes", field=where)
    values = []
    for name in ("case_minutes", "step_minutes"):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < 0:
            raise InvalidInput(f"{name} must be a non-negative number of working minutes",
                               field=f"{where}.{name}")
        values.append(float(value))
    return Fastest(*values)


def _hours(data: object) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(t) for t in data)    # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InvalidInput('office_hours must be two times such as ["08:00", "18:00"]',
                           field="policy.office_hours")
    if not start < end:
        raise InvalidInput("office hours must end after they start", field="policy.office_hours")
    return start, end


def _phrases(data: object) -> tuple[str, ...]:
    if not isinstance(data, list) or not all(isinstance(p, str) and p.strip() for p in data):
        raise InvalidInput("boilerplate_reasons must be a list of phrases",
                           field="policy.boilerplate_reasons")
    return tuple(data)


DEFAULT_POLICY = Policy()


# -- what detection reads -----------------------------------------------------------------------
@dataclass(frozen=True)
class Act:
    """One decision as recorded: on which step, what, when, by whom, with which reasons, fee and
    (for a correction notice) materials."""
    branch_id: str
    decision: str
    at: datetime
    staff_id: str | None = None
    reasons: str | None = None
    fee_yuan: float = 0.0
    materials: tuple[str, ...] = ()


@dataclass(frozen=True)
class Record:
    """A trail record as detection reads it (from a TrailRecord or a timeline dict)."""
    seq: int
    at: datetime
    action: str
    actor: str
    data: dict


@dataclass(frozen=True)
class CaseFacts:
    case: Case
    branches: tuple[Branch, ...]
    trail: tuple                      # TrailRecord or {"action", "actor", "at", "data"[, "seq"]}
    item: dict
    departments: Mapping[str, dict]   # code → department of the service guide
    clock: WorkingClock = field(default_factory=ChinaWorkingCalendar)
    as_of: datetime | None = None     # when given, what is still open past a deadline counts

    def __post_init__(self):
        # Stored shapes are welcome: a case or branch as its dict, lists instead of tuples.
        if isinstance(self.case, dict):
            object.__setattr__(self, "case", Case.from_dict(self.case))
        object.__setattr__(self, "branches", tuple(
            Branch.from_dict(b) if isinstance(b, dict) else b for b in self.branches))
        object.__setattr__(self, "trail", tuple(self.trail))

    @classmethod
    def of(cls, case: Case, branches: Iterable[Branch], trail: Iterable, catalog,
           clock: WorkingClock | None = None, as_of: datetime | None = None) -> "CaseFacts":
        """The facts of a case with its item and departments taken from a published Catalog."""
        return cls(case, tuple(branches), tuple(trail), catalog.items[case.item_code],
                   catalog.departments, clock or ChinaWorkingCalendar(), as_of)

    # -- the trail and the decisions, read once ----------------------------------------------
    @cached_property
    def records(self) -> tuple[Record, ...]:
        read = []
        for n, r in enumerate(self.trail):
            r = r.to_dict() if isinstance(r, TrailRecord) else r
            read.append(Record(int(r.get("seq", n + 1)), _instant(r["at"]), r["action"],
                               r.get("actor", ""), r.get("data") or {}))
        return tuple(sorted(read, key=lambda r: (r.seq, r.at)))

    @cached_property
    def acts(self) -> tuple[Act, ...]:
        """Every decision, oldest first. The trail is the record of what happened; a branch's
        own history and outcome fill in what the trail given to us does not hold."""
        found: list[Act] = []
        seen: set = set()

        def add(act: Act) -> None:
            if (act.branch_id, act.decision, act.at) not in seen:
                seen.add((act.branch_id, act.decision, act.at))
                found.append(act)

        for r in self.records:
            if r.action.startswith("decision_"):
                d = r.data
                add(Act(str(d.get("branch", "")), d.get("decision") or r.action[9:], r.at,
                        d.get("staff_id"), d.get("reasons"), _yuan(d.get("fee_yuan")),
                        tuple(d.get("materials") or ())))
        for b in self.branches:
            if b.kind == CASE:
                continue
            for h in b.history:
                add(Act(b.branch_id, h["decision"], _instant(h["at"]), h.get("staff_id"),
                        h.get("reasons"), _yuan(h.get("fee_yuan"))))
            if b.status == DECIDED and b.outcome in _OUTCOME_DECISION and b.decided_at:
                add(Act(b.branch_id, _OUTCOME_DECISION[b.outcome], _instant(b.decided_at),
                        _staff_of(b.decided_by) or b.staff_id, b.reasons, _yuan(b.fee_yuan)))
        return tuple(sorted(found, key=lambda a: a.at))     # stable: trail order on ties

    def final_act(self, branch_id: str) -> Act | None:
        """The decision that ended a step (accept, refuse, approve, deny), if any."""
        return next((a for a in reversed(self.acts)
                     if a.branch_id == branch_id and a.decision in FINAL), None)

    @property
    def final_acts(self) -> list[Act]:
        return [a for a in self.acts if a.decision in FINAL
                and self.final_act(a.branch_id) is a]

    def branch(self, branch_id: str | None) -> Branch | None:
        return next((b for b in self.branches if b.branch_id == branch_id), None)

    def steps(self, *kinds: str) -> list[Branch]:
        return sorted((b for b in self.branches if b.kind in kinds),
                      key=lambda b: (b.stage, b.branch_id))

    def department_of(self, branch_id: str) -> str:
        branch = self.branch(branch_id)
        return branch.department if branch else branch_id.partition(":")[2]   # "stage:DEPT"


# -- the rules ----------------------------------------------------------------------------------
def refused_without_valid_reason(facts: CaseFacts, policy: Policy) -> list[Finding]:
    """1. 不予受理 is lawful only on the grounds of Licensing Law art. 32, and the file must bear
    them out. Reasons that say nothing (boilerplate) are no ground. An application whose required
    materials all arrived and whose form matches the guide qualifies on its face: it may be
    refused only because the law puts it outside this licence or this department (cite the
    provision) or because the applicant fails a published condition (name it). An incomplete or
    faulty one must first get a one-time correction notice (art. 32(4)), not a refusal. Refusals
    without any reasons are rule 5's."""
    found = []
    for branch in facts.steps(ACCEPTANCE):
        act = facts.final_act(branch.branch_id)
        if act is None or act.decision != "refuse" or not _has_reasons(act.reasons):
            continue
        ground, evidence = _refusal_fault(facts, policy, act)
        if ground:
            found.append(_finding(facts, policy, "refused_without_valid_reason",
                                  branch.branch_id, act.at, _people(facts, branch.branch_id,
                                                                    act.staff_id),
                                  {"ground": ground, "reasons": act.reasons, **evidence},
                                  branch.branch_id))
    return found


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


def decided_without_reasons(facts: CaseFacts, policy: Policy) -> list[Finding]:
    """5. A refusal (不予受理) or a denial (不予许可) always states its reasons (art. 38): at
    least what the decision endpoint asks for, four characters that are not blank."""
    found = []
    for act in facts.final_acts:
        if act.decision in NEEDS_REASONS and not _has_reasons(act.reasons):
            found.append(_finding(facts, policy, "decided_without_reasons", act.branch_id,
                                  act.at, _people(facts, act.branch_id, act.staff_id),
                                  {"decision": act.decision, "reasons": act.reasons},
                                  act.branch_id))
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


def fee_above_standard(facts: CaseFacts, policy: Policy) -> list[Finding]:
    """7. 违规收费: the fees a case may cost are the item's published standard, each once, plus
    any whole number of the fees charged per additional unit (每增加一本…). A fee on an item
    whose standard charges nothing is charged where none is due. Fees are what the deciding
    steps recorded with their decisions; the charge that takes the case's total beyond what the
    standard allows is the one reported."""
    fees = facts.item.get("fees") or []
    once = sum(_cents(f["amount_yuan"]) for f in fees if PER_UNIT_FEE not in f["name"])
    units = tuple(c for f in fees if PER_UNIT_FEE in f["name"]
                  if (c := _cents(f["amount_yuan"])) > 0)
    standard = [{"name": f["name"], "amount_yuan": f["amount_yuan"]} for f in fees]
    none_due = once == 0 and not units
    found, total = [], 0
    for act in facts.final_acts:
        charged = _cents(act.fee_yuan)
        if charged <= 0:
            continue
        total += charged
        if _within_standard(total - once, units):      # nothing is within a standard of 0
            continue
        found.append(_finding(facts, policy, "fee_above_standard", act.branch_id, act.at,
                              _people(facts, act.branch_id, act.staff_id),
                              {"charged_yuan": charged / 100, "case_total_yuan": total / 100,
                               "none_due": none_due, "standard": standard}, act.branch_id))
    return found


def not_one_time_notice(facts: CaseFacts, policy: Policy) -> list[Finding]:
    """8. 一次性告知: everything missing or faulty is asked for in one notice (several
    departments asking at once still make one notice). After the applicant has corrected, a
    further notice may ask again for what the earlier ones asked, since a new upload can itself
    be faulty; any other material lay in the file unchanged (or was missing from it) when the
    first notice went out, and that notice should have named it."""
    found = []
    rounds, open_notice = 0, False
    asked_before: set[str] = set()       # in notices the applicant has already answered
    asked_now: set[str] = set()
    first_notice: datetime | None = None
    uploads: dict[str, list[datetime]] = {}
    for record in facts.records:
        if record.action in UPLOADS and record.data.get("material"):
            uploads.setdefault(record.data["material"], []).append(record.at)
        elif record.action == "decision_correction":
            if not open_notice:
                rounds, open_notice = rounds + 1, True
            first_notice = first_notice or record.at
            materials = list(record.data.get("materials") or ())
            could_have = [m for m in materials if m not in asked_before and not any(
                first_notice < at < record.at for at in uploads.get(m, ()))]
            if rounds > 1 and could_have:
                branch_id = str(record.data.get("branch", ""))
                found.append(_finding(
                    facts, policy, "not_one_time_notice", f"{branch_id}#notice{rounds}",
                    record.at, _people(facts, branch_id, record.data.get("staff_id")),
                    {"notice": rounds, "materials": could_have,
                     "first_notice_at": _iso(first_notice),
                     "asked_before": sorted(asked_before)}, branch_id))
            asked_now.update(materials)
        elif record.action == "corrected":
            open_notice = False
            asked_before |= asked_now
            asked_now = set()
    return found


def outside_power_list(facts: CaseFacts, policy: Policy) -> list[Finding]:
    """9. 擅自设定许可事项: a department may handle only the items of its power list (权力清单).
    Handling is acting on the case: deciding a step, registering the application at a window,
    or any other record the department itself made. One finding per department, at the first
    time it acted."""
    first: dict[str, tuple[datetime, str | None, str | None, str]] = {}

    def handled(department: str, at: datetime, branch_id: str | None, staff_id: str | None,
                how: str) -> None:
        if department and (department not in first or at < first[department][0]):
            first[department] = (at, branch_id, staff_id, how)

    for act in facts.acts:
        handled(facts.department_of(act.branch_id), act.at, act.branch_id, act.staff_id,
                f"decision_{act.decision}")
    for record in facts.records:
        role, _, department = record.actor.partition(":")
        if role == "department":
            handled(department, record.at, record.data.get("branch"),
                    record.data.get("staff_id"), record.action)
    registered = facts.case.registered_by or {}
    if registered.get("department"):
        handled(registered["department"], _instant(facts.case.created_at), None,
                registered.get("staff_id"), "registered")
    code = facts.item["code"]
    found = []
    for department, (at, branch_id, staff_id, how) in sorted(first.items()):
        listed = (facts.departments.get(department) or {}).get("power_list") or ()
        if code in listed:
            continue
        found.append(_finding(facts, policy, "outside_power_list", department, at,
                              _people(facts, branch_id, staff_id, department),
                              {"item": code, "handled_by": how,
                               "power_list": list(listed)}, branch_id))
    return found


RULES: tuple[Callable[[CaseFacts, Policy], list[Finding]], ...] = (
    refused_without_valid_reason, exceeded_promised_limit, step_over_its_limit, pre_review_late,
    decided_without_reasons, off_system_handling, fee_above_standard, not_one_time_notice,
    outside_power_list)


def detect(facts: CaseFacts, policy: Policy = DEFAULT_POLICY) -> list[Finding]:
    """Every violation the facts show, in the order of the rules, each once."""
    found: dict[str, Finding] = {}
    for rule in RULES:
        for finding in rule(facts, policy):
            found.setdefault(finding.finding_id, finding)
    return list(found.values())


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


# -- refusals, fees -----------------------------------------------------------------------------
def _has_reasons(reasons: str | None) -> bool:
    return isinstance(reasons, str) and len(reasons.strip()) >= MIN_REASON_CHARS


def _refusal_fault(facts: CaseFacts, policy: Policy, act: Act) -> tuple[str | None, dict]:
    reasons = act.reasons or ""
    if policy.is_boilerplate(reasons):
        return "boilerplate", {}
    missing = [p.field.partition(".")[2] for p in missing_materials(facts.item, facts.case)]
    faults = [p.field for p in form_problems(facts.item, facts.case.form)]
    if not missing and not faults:
        conditions = facts.item.get("conditions", [])
        if _LEGAL_CITATION.search(reasons) or _names_condition(reasons, conditions):
            return None, {}
        return "qualifying_application", {"missing_materials": [], "form_problems": []}
    if not any(a.decision == "correction" and a.at <= act.at for a in facts.acts):
        return "refused_instead_of_correction", {"missing_materials": missing,
                                                 "form_problems": faults}
    return None, {}


def _names_condition(reasons: str, conditions: list[str]) -> bool:
    """Whether the reasons name one of the item's published conditions (申请条件): they share
    at least SHARED_WORDS two-character words with it."""
    said = _bigrams(reasons)
    return any(len(said & _bigrams(c)) >= SHARED_WORDS for c in conditions)


def _bigrams(text: str) -> set[str]:
    text = _NOT_TEXT.sub("", text)
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _within_standard(excess: int, units: tuple[int, ...]) -> bool:
    """Whether `excess` cents over the one-off fees is a whole number of per-unit fees."""
    if excess <= 0:
        return True
    if not units:
        return False
    step = math.gcd(*units)
    if excess % step:
        return False
    if len(units) == 1:
        return True
    target, parts = excess // step, [u // step for u in units]
    reachable = bytearray(target + 1)
    reachable[0] = 1
    for n in range(1, target + 1):
        reachable[n] = any(p <= n and reachable[n - p] for p in parts)
    return bool(reachable[target])


def _cents(yuan: object) -> int:
    return round(float(yuan or 0) * 100)


def _yuan(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


# -- people -------------------------------------------------------------------------------------
def _people(facts: CaseFacts, branch_id: str | None, staff_id: str | None = None,
            department: str | None = None) -> dict:
    """Who answers for a step: the staff member who acted (else the one it was assigned to),
    the window that person sits at, the department and its chief representative."""
    branch = facts.branch(branch_id)
    code = department or (branch.department if branch else
                          facts.department_of(branch_id) if branch_id else None)
    dept = facts.departments.get(code) or {}
    staff_id = staff_id or (branch.staff_id if branch else None)
    window = next((w["code"] for w in dept.get("windows", ()) for p in w.get("staff", ())
                   if p.get("staff_id") == staff_id), None) or (branch.window if branch else None)
    chief = (dept.get("chief_representative") or {}).get("staff_id") \
        or (branch.chief_staff_id if branch else None)
    return {"department": code, "window": window, "staff_id": staff_id, "chief_staff_id": chief}


def _case_people(facts: CaseFacts) -> tuple[str | None, dict]:
    """Who answers for the whole case: the window that accepted it (首问负责), else the lead
    department with whoever registered it there."""
    accepting = next(iter(facts.steps(ACCEPTANCE)), None)
    if accepting is not None:
        act = facts.final_act(accepting.branch_id)
        return accepting.branch_id, _people(facts, accepting.branch_id,
                                            act.staff_id if act else None)
    lead = facts.item["lead_department"]
    registered = facts.case.registered_by or {}
    staff = registered.get("staff_id") if registered.get("department") == lead else None
    return None, _people(facts, None, staff, lead)


# -- findings and instants ----------------------------------------------------------------------
def _finding(facts: CaseFacts, policy: Policy, rule: str, scope: str, at: datetime,
             people: dict, evidence: dict, branch_id: str | None = None) -> Finding:
    number, title = TITLES[rule]
    return Finding(finding_id=f"{facts.case.case_id}#{rule}#{scope}", rule=rule, number=number,
                   title=title, severity=policy.severity_of(rule), case_id=facts.case.case_id,
                   branch_id=branch_id, at=_iso(at), evidence=evidence, **people)


def _instant(value: str | datetime) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"recorded instants carry their offset, not {value!r}")
    return at.astimezone(timezone.utc)


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat()


def _staff_of(actor: str | None) -> str | None:
    role, _, who = (actor or "").partition(":")
    return who if role == "staff" and who else None
