"""办件查询: the service hall's progress lookup, open to anyone who holds the receipt.

At submission the applicant is given the case's 受理编号 and a six-digit query code (查询码: on
the receipt a window prints, in the submission's text message and on the applicant's case
page). Whoever types both, signed in or not, sees how far the case is: its status and its
stage, nothing of who applied or what was filed. A wrong code is answered exactly as an unknown
number, so the lookup never tells whether a number exists; and guessing is bounded: after
WRONG_PER_CASE wrong codes for one number in a China day, or WRONG_PER_SOURCE from one address,
lookups of that number (or from that address) wait for the next day."""
from __future__ import annotations

import hmac
from typing import Callable

from .errors import NotFound
from .verification import TooManyRequests

CODE_DIGITS = 6
WRONG_PER_CASE = 5        # a million codes, five guesses a day: one chance in 200,000
WRONG_PER_SOURCE = 20     # an address trying many numbers is held back too

STATUS_NAMES = {"submitted": "已提交，待受理", "correction_requested": "待补正材料",
                "accepted": "已受理，审批中", "refused": "不予受理", "completed": "已办结"}


def new_query_code(draw: Callable[[int], int]) -> str:
    """A fresh code; `draw(n)` is a uniform secret draw below n (secrets.randbelow)."""
    return f"{draw(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def check_guesses(wrong_for_case: int, wrong_from_source: int) -> None:
    if wrong_for_case >= WRONG_PER_CASE or wrong_from_source >= WRONG_PER_SOURCE:
        raise TooManyRequests("查询码错误次数过多，请明天再试，或登录后在“我的办件”中查看",
                             field="query_code")


def unknown(case_no: str) -> NotFound:
    """The one answer for a number that is not there and for a code that does not match."""
    return NotFound(f"未查询到受理编号为 {case_no} 的办件，或查询码不正确", field="case_no")


def matches(expected: str | None, given: str) -> bool:
    """Compared in constant time; a case without a code (filed before codes) matches nothing."""
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


def public_view(case_no: str, status: str, stage_name: str | None, updated_at: str | None) -> dict:
    """What the lookup shows: the status and the stage, nothing about the people or papers."""
    return {"case_no": case_no, "status": status,
            "status_name": STATUS_NAMES.get(status, status),
            "stage_name": stage_name, "updated_at": updated_at}
