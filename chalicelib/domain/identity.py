"""Real-name citizens (实名认证): the identity number that decides which cases a citizen sees and
acts on is set by the real-name step only, verified, and bound to one account.

- A resident identity number (公民身份号码, GB 11643-1999) has 18 characters: a six-digit area
  code (the province-level part one of GB/T 2260's, or 71/81/82/83 for Taiwan, Hong Kong and
  Macao residents' permits), the birth date (YYYYMMDD, a real day, not in the future), a
  three-digit order code and the check character of ISO 7064 MOD 11-2 over the first 17 digits.
- A name is what the register holds: Chinese characters, with the middle dot of names
  transliterated from minority languages (买买提·艾力), 2 to 30 characters.
- One account per number and one number per account (`check_binding`): the second account
  that claims a number already bound is refused with the way back into the first one.

Plain rules, no I/O: the service asks the verification port whether name and number belong
together, stores the binding and sets the account's verified attributes."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date

from .errors import Conflict, DomainError, FieldProblem, InvalidInput, Unprocessable
from .masking import mask_id_number, mask_phone

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"          # the check character for sum mod 11 = 0, 1, … 10
# Province-level area codes (GB/T 2260), and those of the residence permits of Taiwan (71,
# 83), Hong Kong (81) and Macao (82) residents.
PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43,
                       44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83})
EARLIEST_BIRTH = date(1900, 1, 1)
_SHAPE = re.compile(r"\d{17}[\dX]")
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
MIDDLE_DOT = "·"
NAME_LENGTH = (2, 30)


class VerificationUnavailable(DomainError):
    """The verification service could not answer (nothing was bound; try again later)."""
    status = 503
    code = "VerificationUnavailable"


def check_character(first_17: str) -> str:
    """ISO 7064 MOD 11-2 over the first 17 digits: 1 0 X 9 8 7 6 5 4 3 2."""
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first_17, WEIGHTS)) % 11]


def id_number_problem(value: object, today: date | None = None) -> str | None:
    """Why `value` is no resident identity number (None when it is one)."""
    if not isinstance(value, str):
        return "is an 18-character resident identity number"
    number = value.strip().upper()
    if _CREDIT_CODE.fullmatch(number) and not _SHAPE.fullmatch(number):
        return ("is a unified social credit code; the real-name step binds a person's resident "
                "identity number (a company acts through its legal representative)")
    if not _SHAPE.fullmatch(number):
        return "is 18 characters: 17 digits and a check digit or X"
    if int(number[:2]) not in PROVINCES or number[2:6] == "0000":
        return f"begins with {number[:6]}, which is no area code"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"holds {number[6:14]} as the birth date, which is no day"
    if not EARLIEST_BIRTH <= born <= (today or date.today()):
        return f"holds {born.isoformat()} as the birth date, which cannot be"
    expected = check_character(number[:17])
    if number[17] != expected:
        return "has a wrong check digit (GB 11643): it was mistyped"
    return None


def is_id_number(value: object, today: date | None = None) -> bool:
    return id_number_problem(value, today) is None


def name_problem(value: object) -> str | None:
    """Why `value` is no name as the register holds it (None when it is one)."""
    if not isinstance(value, str):
        return "is the name on the identity card"
    name = value.strip()
    low, high = NAME_LENGTH
    if not low <= len(name) <= high:
        return f"is the name on the identity card, {low} to {high} characters"
    for char in name:
        if char != MIDDLE_DOT and not unicodedata.name(char, "").startswith("CJK "):
            return "is written in Chinese characters as on the identity card (· between the " \
                   "parts of a transliterated name)"
    if name.startswith(MIDDLE_DOT) or name.endswith(MIDDLE_DOT) or MIDDLE_DOT * 2 in name:
        return "has a · only between the parts of a name"
    return None


@dataclass(frozen=True)
class RealName:
    """A name and resident identity number as typed, checked for shape."""
    name: str
    id_number: str

    @property
    def masked(self) -> str:
        return mask_id_number(self.id_number)


def parse_real_name(body: dict, today: date | None = None) -> RealName:
    """The real-name step's input, every problem named at its field."""
    problems = []
    name_wrong = name_problem(body.get("name"))
    if name_wrong:
        problems.append(FieldProblem("name", name_wrong, "姓名"))
    number_wrong = id_number_problem(body.get("id_number"), today)
    if number_wrong:
        problems.append(FieldProblem("id_number", number_wrong, "身份证号"))
    if problems:
        first = problems[0]
        raise InvalidInput(f"{first.field} {first.reason}", field=first.field,
                           problems=problems)
    return RealName(body["name"].strip(), body["id_number"].strip().upper())


# -- the verification port's answer -------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """What the register says of a name and number: they belong together, or why not."""
    matches: bool
    reason: str = ""


def refuse_mismatch(real_name: RealName, verdict: Verdict) -> Unprocessable:
    return Unprocessable(
        f"the name and identity number {real_name.masked} do not match the identity register"
        + (f" ({verdict.reason})" if verdict.reason else "")
        + "; check both against the identity card", field="id_number")


# -- attempts: an account is no oracle for trying numbers ----------------------------------------
# An account may be refused by the register five times a day (China day); then the step waits for
# the next day, so nobody can try name after name against a number, or number after number.
REFUSALS_PER_DAY = 5


def check_attempts(refused_today: int) -> None:
    from .verification import TooManyRequests

    if refused_today >= REFUSALS_PER_DAY:
        raise TooManyRequests(
            f"the register refused this account's name and identity number {refused_today} "
            f"times today; the real-name step opens again tomorrow (Beijing time), or at any "
            f"hall's window with the identity card", field="id_number")


# -- binding: one account per number, one number per account ------------------------------------
@dataclass(frozen=True)
class Binding:
    """An identity number bound to an account (written once, never changed)."""
    id_number: str
    account: str          # the account's sub
    username: str         # what the account signs in with (its mobile number on the website)
    name: str
    bound_at: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Binding":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def check_binding(real_name: RealName, account: str, bound_to_number: Binding | None,
                  number_of_account: str | None) -> bool:
    """Whether binding is still to be done (False: this very binding exists already). Refuses
    an account that holds another number, and a number another account holds, saying how to
    get back into that account."""
    if number_of_account and number_of_account != real_name.id_number:
        raise Conflict(f"this account is bound to the identity number "
                       f"{mask_id_number(number_of_account)} already; a bound number is never "
                       f"changed", field="id_number")
    if bound_to_number is None:
        return True
    if bound_to_number.account != account:
        raise AlreadyBound(real_name, masked_username(bound_to_number.username))
    return False


class AlreadyBound(Conflict):
    """A second account claims a number: refused, saying which account holds it (masked) and
    how to get back into that one."""

    def __init__(self, real_name: RealName, signs_in_with: str):
        super().__init__(
            f"the identity number {real_name.masked} is bound to another account already, "
            f"which signs in with {signs_in_with}; one identity number has one account. If it "
            f"is yours, sign in with it, or reset its password with a code texted to that "
            f"phone", field="id_number")
        self.signs_in_with = signs_in_with

    def to_dict(self) -> dict:
        return {**super().to_dict(), "bound_account": {
            "signs_in_with": self.signs_in_with, "recover": "reset_password"}}


def masked_username(username: str) -> str:
    """A mobile number as 138****8000; anything else as its first and last characters."""
    masked = mask_phone(username)
    if masked != username:
        return masked
    return username[:1] + "*" * max(0, len(username) - 2) + username[-1:] if username else ""
