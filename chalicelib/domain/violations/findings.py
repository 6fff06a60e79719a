"""What a finding of electronic supervision (电子监察) is: the rule it breaks, by its number and
title in docs/domain.md, its severity, the case and step, the instant the violation happened and who
answers for it (the staff member, the window, the department and its chief representative).
A finding's id is made of the case, the rule and the step, so the same facts give the same id.
The helpers here are the package's own, shared by its rules."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..approval import ACCEPTANCE

if TYPE_CHECKING:
    from .facts import CaseFacts
    from .policy import Policy

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
