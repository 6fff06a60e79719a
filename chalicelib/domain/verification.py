"""A visitor without an account proves a mobile number before the system acts for them: a
6-digit code sent by text message, valid 10 minutes, void after 5 wrong tries, used once. The
code is kept only as a salted hash. Sending is limited per number: one code a minute, five a
day (China day). Plain rules, no I/O: the service stores the record and sends the text."""
from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from .errors import DomainError, Forbidden, InvalidInput

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
SENDS_PER_DAY = 5
HASH_ITERATIONS = 50_000          # PBKDF2-HMAC-SHA256: a stored hash is slow to try a code on
CHINA_TIME = timezone(timedelta(hours=8))
_MOBILE = re.compile(r"1[3-9]\d{9}")
_CODE = re.compile(r"\d{%d}" % CODE_DIGITS)


class TooManyRequests(DomainError):
    status = 429
    code = "TooManyRequests"


def phone_of(value) -> str:
    """A mainland mobile number, 11 digits (a +86 or 86 prefix and spaces or dashes are
    dropped)."""
    if not isinstance(value, str):
        raise InvalidInput("phone is a mainland mobile number of 11 digits", field="phone")
    digits = re.sub(r"[\s-]", "", value.strip())
    digits = re.sub(r"^(\+?86)(?=1\d{10}$)", "", digits)
    if not _MOBILE.fullmatch(digits):
        raise InvalidInput("phone is a mainland mobile number of 11 digits, e.g. 13955812345",
                           field="phone")
    return digits


def code_of(value) -> str:
    if not isinstance(value, str) or not _CODE.fullmatch(value.strip()):
        raise InvalidInput(f"code is the {CODE_DIGITS}-digit code sent to the phone by text "
                           "message", field="code")
    return value.strip()


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def digest(phone: str, code: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", f"{phone}:{code}".encode(), bytes.fromhex(salt),
                               HASH_ITERATIONS).hex()


def china_day(at: datetime) -> str:
    return at.astimezone(CHINA_TIME).date().isoformat()


@dataclass
class Verification:
    """One mobile number's current code and today's sends."""
    phone: str
    digest: str = ""
    salt: str = ""
    issued_at: str = ""
    expires_at: str = ""
    attempts: int = 0
    used_at: str | None = None
    day: str = ""                     # the China day the sends below were made on
    sends: list[str] = field(default_factory=list)
    version: int = 0                  # the stored version this was read at (0: none)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Verification":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def keep_until(self) -> datetime:
        """When the record may go (DynamoDB's TTL): after the code expired and the day whose
        sends it counts is over."""
        day_ends = datetime.fromisoformat(self.day).replace(tzinfo=CHINA_TIME) + timedelta(days=1)
        return max(datetime.fromisoformat(self.expires_at), day_ends)


def issue(record: Verification | None, phone: str, now: datetime, code: str | None = None,
          salt: str | None = None) -> tuple[Verification, str]:
    """A new code for `phone` if the number may get one now; any earlier code is replaced.
    Returns the record to store and the code to text."""
    record = record or Verification(phone=phone)
    today = china_day(now)
    sends = [s for s in record.sends if china_day(datetime.fromisoformat(s)) == today]
    if sends:
        last = datetime.fromisoformat(sends[-1])
        wait = RESEND_AFTER - (now - last)
        if wait > timedelta(0):
            raise TooManyRequests(f"a code was sent to this number "
                                  f"{int((now - last).total_seconds())} s ago; request another "
                                  f"in {math.ceil(wait.total_seconds())} s", field="phone")
    if len(sends) >= SENDS_PER_DAY:
        raise TooManyRequests(f"this number received {SENDS_PER_DAY} codes today, the most a "
                              "day allows; try again tomorrow", field="phone")
    code = code or new_code()
    salt = salt or secrets.token_hex(16)
    record.digest, record.salt = digest(phone, code, salt), salt
    record.issued_at = now.isoformat()
    record.expires_at = (now + CODE_TTL).isoformat()
    record.attempts, record.used_at = 0, None
    record.day, record.sends = today, sends + [now.isoformat()]
    return record, code


def sends_left(record: Verification, now: datetime) -> int:
    today = [s for s in record.sends if china_day(datetime.fromisoformat(s)) == china_day(now)]
    return max(0, SENDS_PER_DAY - len(today))


def check(record: Verification | None, code: str, now: datetime) -> tuple[bool, str]:
    """Tries `code` against the number's current code. Returns (holds, why not); a wrong code
    counts an attempt on the record (the caller stores it either way), a right one uses it."""
    if record is None or not record.digest:
        return False, "no code was sent to this number; request one first"
    if record.used_at:
        return False, "this code was used already; request a new one"
    if now >= datetime.fromisoformat(record.expires_at):
        return False, "the code has expired (codes last 10 minutes); request a new one"
    if record.attempts >= MAX_ATTEMPTS:
        return False, f"{MAX_ATTEMPTS} wrong codes were tried: this code is void; request a new one"
    if not hmac.compare_digest(digest(record.phone, code, record.salt), record.digest):
        record.attempts += 1
        left = MAX_ATTEMPTS - record.attempts
        return False, ("wrong code; " + (f"{left} more tries before it is void" if left
                                         else "this code is now void; request a new one"))
    record.used_at = now.isoformat()
    return True, ""


def release(record: Verification, now: datetime) -> bool:
    """Gives a used code back when what it was used for could not be done (the visitor may
    correct the request and send it again with the same code while it lasts)."""
    if record.used_at and now < datetime.fromisoformat(record.expires_at):
        record.used_at = None
        return True
    return False


def refused(reason: str) -> Forbidden:
    return Forbidden(reason, field="code")
