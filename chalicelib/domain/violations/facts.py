"""What detection reads (电子监察): a case, its branches (each step's clock, people and decision),
its audit trail (全程留痕), the item's guide and the departments with their power lists; the trail
and the branches read once into records and acts, oldest first."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Iterable, Mapping

from ..approval import CASE, DECIDED, FINAL, Branch
from ..cases import Case
from ..clock import ChinaWorkingCalendar, WorkingClock
from ..trail import TrailRecord
from .findings import _instant

_OUTCOME_DECISION = {outcome: decision for decision, outcome in FINAL.items()}


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


# -- stored values ------------------------------------------------------------------------------
def _yuan(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _staff_of(actor: str | None) -> str | None:
    role, _, who = (actor or "").partition(":")
    return who if role == "staff" and who else None
