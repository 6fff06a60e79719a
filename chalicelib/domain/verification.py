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
        raise InvalidInput("手机号须为 11 位大陆手机号码", field="phone")
    digits = re.sub(r"[\s-]", "", value.strip())
    digits = re.sub(r"^(\+?86)(?=1\d{10}$)", "", digits)
    if not _MOBILE.fullmatch(digits):
        raise InvalidInput("手机号须为 11 位大陆手机号码，如 13955812345", field="phone")
    return digits


def code_of(value) -> str:
    if not isinstance(value, str) or not _CODE.fullmatch(value.strip()):
        raise InvalidInput(f"验证码为短信发送到手机的 {CODE_DIGITS} 位数字", field="code")
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
            raise TooManyRequests(f"验证码已于 {int((now - last).total_seconds())} 秒前发送至该号码，"
                                  f"请 {math.ceil(wait.total_seconds())} 秒后再获取",
                                  field="phone")
    if len(sends) >= SENDS_PER_DAY:
        raise TooManyRequests(f"该手机号今日获取验证码的次数已达上限（{SENDS_PER_DAY} 次），请明天再试",
                              field="phone")
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
        return False, "该手机号尚未获取验证码，请先获取验证码"
    if record.used_at:
        return False, "该验证码已使用，请重新获取"
    if now >= datetime.fromisoformat(record.expires_at):
        return False, "验证码已过期（10 分钟内有效），请重新获取"
    if record.attempts >= MAX_ATTEMPTS:
        return False, f"验证码错误次数过多（{MAX_ATTEMPTS} 次），已失效，请重新获取"
    if not hmac.compare_digest(digest(record.phone, code, record.salt), record.digest):
        record.attempts += 1
        left = MAX_ATTEMPTS - record.attempts
        return False, (f"验证码不正确，还可尝试 {left} 次" if left
                       else "验证码不正确，该验证码已失效，请重新获取")
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
