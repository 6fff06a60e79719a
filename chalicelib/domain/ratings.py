"""好差评: the applicant rates a completed case, once (一事一评), on five levels and the national
system's dimensions, and may rate each department that handled it (the national practice
rates the service and the department); a 差评 (below 基本满意) opens a rectification at each
department it is about (a department given a 差评; the lead department only when the
applicant gave none one), after whose report the applicant may rate again; a hall may count a case left
unrated for its period as 满意; a department may appeal a malicious 差评 (恶意差评), which the
supervision office upholds (the rating is struck out) or rejects. Plain rules, no I/O."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .errors import Conflict, InvalidInput, Unprocessable

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
SATISFIED_FROM = 3                  # 基本满意 and better; below it a 差评
DEFAULT_LEVEL = 4                   # what an unrated case counts as, where the hall says so
# The dimensions a rating may score (1-5 each), as the national 好差评 system asks them.
DIMENSIONS = ("service_attitude", "efficiency", "guide_clarity", "process_simplicity",
              "result_fairness")
MAX_COMMENT = 500


def is_satisfied(level: int) -> bool:
    return level >= SATISFIED_FROM


def rating_of(body: dict) -> tuple[int, dict, str]:
    """(level, dimensions, comment) of a rating as the applicant gives it."""
    level = _level(body.get("level"), "level")
    dimensions = body.get("dimensions") or {}
    if not isinstance(dimensions, dict):
        raise InvalidInput("各项评价 dimensions 须为对象，每项 1 至 5 分", field="dimensions")
    for name, score in dimensions.items():
        if name not in DIMENSIONS:
            raise InvalidInput(f"没有评价项 {name!r}；可评价的项：{'、'.join(DIMENSIONS)}",
                               field=f"dimensions.{name}")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidInput("每项评价为 1 至 5 分", field=f"dimensions.{name}")
    comment = body.get("comment") or ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise InvalidInput(f"评价内容不能超过 {MAX_COMMENT} 字", field="comment")
    return level, dimensions, comment


def _level(level, field: str) -> int:
    if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
        raise InvalidInput("评价等级为 5 非常满意、4 满意、3 基本满意、2 不满意 或 1 非常不满意",
                           field=field)
    return level


def departments_of(body: dict, handled: Iterable[str]) -> dict[str, int]:
    """The departments the applicant rates, each with its level ({code: level}): each must be
    one that handled the case (422 naming `departments` otherwise)."""
    given = body.get("departments")
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise InvalidInput("部门评价 departments 须为对象：{部门编码: 评价等级}",
                           field="departments")
    handled = set(handled)
    strangers = sorted(code for code in given if code not in handled)
    if strangers:
        raise Unprocessable(f"部门 {'、'.join(strangers)} 未办理该办件，不能评价；"
                            f"办理该办件的部门：{'、'.join(sorted(handled)) or '无'}",
                            field="departments")
    return {code: _level(level, f"departments.{code}") for code, level in given.items()}


def rectified_at(level: int, departments: dict[str, int], lead: str) -> list[str]:
    """Where a rating opens rectifications: each department given a 差评; the lead department
    when the rating as a whole is a 差评 and the applicant gave no department one."""
    bad = sorted(code for code, given in departments.items() if not is_satisfied(given))
    if bad:
        return bad
    return [] if is_satisfied(level) else [lead]


def rate(earlier: dict | None, level: int, dimensions: dict, comment: str,
         at: datetime, departments: dict[str, int] | None = None) -> dict:
    """The case's rating after the applicant rates: once, or again after a rectification (the
    earlier one kept in the history)."""
    earlier = earlier or {}
    if earlier and not earlier.get("may_rerate"):
        raise Conflict("该办件已评价（一事一评）", field="case_id")
    history = earlier.get("history", []) + (
        [{"level": earlier["level"], "at": earlier["at"],
          **({"departments": earlier["departments"]} if earlier.get("departments") else {})}]
        if earlier.get("level") else [])
    return {"level": level, "label": LEVELS[level], "dimensions": dimensions,
            "comment": comment, "at": at.isoformat(), "by": "applicant", "history": history,
            **({"departments": {code: {"level": given, "label": LEVELS[given]}
                                for code, given in sorted(departments.items())}}
               if departments else {})}


def department_levels(rating: dict | None) -> dict[str, int]:
    """The departments a stored rating rated, with their levels."""
    return {code: given["level"] for code, given in ((rating or {}).get("departments")
                                                     or {}).items()}


def by_default(at: datetime) -> dict:
    """满意, given by no one: the hall's period passed without a rating."""
    return {"level": DEFAULT_LEVEL, "label": LEVELS[DEFAULT_LEVEL], "dimensions": {},
            "comment": "", "at": at.isoformat(), "by": "default", "history": []}


def rectified(rating: dict, report: str) -> dict:
    """The department reported its rectification: the applicant may rate again."""
    return {**rating, "may_rerate": True, "rectified": report}


def appealed(rating: dict | None, reason: str, by: str, at: datetime,
             department: str | None = None, lead: str | None = None) -> dict:
    """A department appeals the 差评 it was given: its own department's, or the rating as a
    whole where it is the lead and the applicant rated no department."""
    if not rating:
        raise Conflict("只有差评可以申诉", field="case_id")
    rated = department_levels(rating)
    given = rated.get(department) if department in rated else \
        rating["level"] if department is None or (department == lead and not rated) else None
    if given is None or is_satisfied(given):
        raise Conflict("只有差评可以申诉", field="case_id")
    if rating.get("appeal"):
        raise Conflict("该评价已申诉", field="case_id")
    return {**rating, "appeal": {"reason": reason, "at": at.isoformat(), "by": by,
                                 "status": "pending",
                                 **({"department": department} if department else {})}}


def appeal_decided(rating: dict | None, upheld: bool, reason: str, by: str,
                   at: datetime) -> dict:
    """Upheld: the rating is struck out (no longer counted); rejected: it stands."""
    appeal = (rating or {}).get("appeal")
    if not appeal or appeal["status"] != "pending":
        raise Conflict("该评价没有待裁定的申诉", field="case_id")
    appeal = {**appeal, "status": "upheld" if upheld else "rejected", "decided_by": by,
              "decided_at": at.isoformat(), "decision_reason": reason}
    return {**rating, "appeal": appeal, **({"struck_out": True} if upheld else {})}
