"""Personal identifiers never reach a log line in clear (Personal Information Protection Law,
art. 51): identity card numbers keep their region prefix and check digit, mobile numbers
their first three and last four digits."""
from __future__ import annotations

import re

# 18-character resident identity number: 6-digit region, 8-digit birth date, 3-digit order, check.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
# Mainland mobile numbers, with or without the +86 prefix.
_MOBILE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_id_number(value: str) -> str:
    return _ID_NUMBER.sub(lambda m: m.group(1) + "*" * 11 + m.group(2)[-1], value)


def mask_phone(value: str) -> str:
    return _MOBILE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(3)}", value)


def mask_text(text: str) -> str:
    """Masks every identity and mobile number inside free text (a serialised log line)."""
    return mask_phone(mask_id_number(text))


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***; a company's name keeps its first two and last two
    characters (亳州市芍香中药材贸易有限公司 → 亳州**********公司)."""
    if not name:
        return ""
    if len(name) <= 4:
        return name[0] + "*" * (len(name) - 1)
    return name[:2] + "*" * (len(name) - 4) + name[-2:]
