"""The rules of electronic supervision (电子监察) over what a case's steps decided, charged and
asked for: a refusal without a valid reason (1) or without any (5), fees above the published
standard (7), a correction notice that was not the one-time notice (8), and a department handling
an item outside its power list (9)."""
from __future__ import annotations

import math
import re
from datetime import datetime

from ..approval import ACCEPTANCE, NEEDS_REASONS
from ..cases import form_problems, missing_materials
from .facts import Act, CaseFacts
from .findings import Finding, _finding, _instant, _iso, _people
from .policy import _NOT_TEXT, Policy

MIN_REASON_CHARS = 4             # what parse_decision asks of a refusal's or denial's reasons
PER_UNIT_FEE = "每增加"           # a fee named so is charged once per additional unit
SHARED_WORDS = 4                 # two-character words reasons share with a condition it names
UPLOADS = ("material_announced", "material_received", "certificate_attached")
_LEGAL_CITATION = re.compile(r"《[^》]+》|第[一二三四五六七八九十百千零〇两\d]+[条款项]")


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
        role, _, who = record.actor.partition(":")
        if role == "staff":               # a signed-in staff member acted for their department
            department = _department_of_staff(facts, who)
            if department:
                handled(department, record.at, record.data.get("branch"), who, record.action)
        elif role == "department":        # records from before staff signed in as themselves
            handled(who, record.at, record.data.get("branch"),
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


def _department_of_staff(facts: CaseFacts, staff_id: str) -> str | None:
    """The department a staff member works for (window staff or chief representative), if any:
    supervision offices' staff and agent point operators act for none."""
    for code, department in facts.departments.items():
        if (department.get("chief_representative") or {}).get("staff_id") == staff_id:
            return code
        for window in department.get("windows", ()):
            if any(p.get("staff_id") == staff_id for p in window.get("staff", ())):
                return code
    return None
