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

The package, one module a concept: `findings` (what a finding is, the rules' numbers and titles,
who answers for it), `policy` (what a hall configures), `facts` (what detection reads), `timing`
(the rules of time: 2, 3, 4 and 6) and `decisions` (the rules of what was decided, charged and
asked for: 1, 5, 7, 8 and 9). Detection's callers need only what this module names.
"""
from __future__ import annotations

from typing import Callable

from .decisions import (decided_without_reasons, fee_above_standard, not_one_time_notice,
                        outside_power_list, refused_without_valid_reason)
from .facts import CaseFacts
from .findings import Finding
from .policy import DEFAULT_POLICY, Policy
from .timing import (exceeded_promised_limit, off_system_handling, pre_review_late,
                     step_over_its_limit)

__all__ = ["CaseFacts", "DEFAULT_POLICY", "Finding", "Policy", "RULES", "detect",
           "refused_without_valid_reason", "exceeded_promised_limit", "step_over_its_limit",
           "pre_review_late", "decided_without_reasons", "off_system_handling",
           "fee_above_standard", "not_one_time_notice", "outside_power_list"]

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
