"""好差评: the applicant rates a completed case, once (一事一评), on five levels and the national
system's dimensions; a 差评 (below 基本满意) opens a rectification at the responsible
department, after whose report the applicant may rate again; a hall may count a case left
unrated for its period as 满意; a department may appeal a malicious 差评 (恶意差评), which the
supervision office upholds (the rating is struck out) or rejects. Plain rules, no I/O."""
from __future__ import annotations

from datetime import datetime

from .errors import Conflict, InvalidInput

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
    level = body.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
        raise InvalidInput("level is 5 非常满意, 4 满意, 3 基本满意, 2 不满意 or 1 非常不满意",
                           field="level")
    dimensions = body.get("dimensions") or {}
    if not isinstance(dimensions, dict):
        raise InvalidInput("dimensions is an object of scores 1-5", field="dimensions")
    for name, score in dimensions.items():
        if name not in DIMENSIONS:
            raise InvalidInput(f"unknown rating dimension {name!r}; known: "
                               f"{', '.join(DIMENSIONS)}", field=f"dimensions.{name}")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidInput("each dimension scores 1 to 5", field=f"dimensions.{name}")
    comment = body.get("comment") or ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise InvalidInput(f"comment is text of at most {MAX_COMMENT} characters",
                           field="comment")
    return level, dimensions, comment


def rate(earlier: dict | None, level: int, dimensions: dict, comment: str,
         at: datetime) -> dict:
    """The case's rating after the applicant rates: once, or again after a rectification (the
    earlier one kept in the history)."""
    earlier = earlier or {}
    if earlier and not earlier.get("may_rerate"):
        raise Conflict("this case was rated already (一事一评)", field="case_id")
    history = earlier.get("history", []) + (
        [{"level": earlier["level"], "at": earlier["at"]}] if earlier.get("level") else [])
    return {"level": level, "label": LEVELS[level], "dimensions": dimensions,
            "comment": comment, "at": at.isoformat(), "by": "applicant", "history": history}


def by_default(at: datetime) -> dict:
    """满意, given by no one: the hall's period passed without a rating."""
    return {"level": DEFAULT_LEVEL, "label": LEVELS[DEFAULT_LEVEL], "dimensions": {},
            "comment": "", "at": at.isoformat(), "by": "default", "history": []}


def rectified(rating: dict, report: str) -> dict:
    """The department reported its rectification: the applicant may rate again."""
    return {**rating, "may_rerate": True, "rectified": report}


def appealed(rating: dict | None, reason: str, by: str, at: datetime) -> dict:
    if not rating or is_satisfied(rating["level"]):
        raise Conflict("only a 差评 can be appealed", field="case_id")
    if rating.get("appeal"):
        raise Conflict("this rating was appealed already", field="case_id")
    return {**rating, "appeal": {"reason": reason, "at": at.isoformat(), "by": by,
                                 "status": "pending"}}


def appeal_decided(rating: dict | None, upheld: bool, reason: str, by: str,
                   at: datetime) -> dict:
    """Upheld: the rating is struck out (no longer counted); rejected: it stands."""
    appeal = (rating or {}).get("appeal")
    if not appeal or appeal["status"] != "pending":
        raise Conflict("there is no pending appeal on this case's rating", field="case_id")
    appeal = {**appeal, "status": "upheld" if upheld else "rejected", "decided_by": by,
              "decided_at": at.isoformat(), "decision_reason": reason}
    return {**rating, "appeal": appeal, **({"struck_out": True} if upheld else {})}
