"""Pages of a list: how many items a request may ask for, and the opaque cursor that carries a
list on from where its page ended.

A cursor holds where the store stopped reading (for DynamoDB its LastEvaluatedKey, or one per
partition when a list merges several) and a digest of what the list was asked for: the route,
the caller and every filter. It is signed with HMAC-SHA256 under the deployment's key, so a
cursor the API did not issue, one changed by a single character, one made for another caller or
for other filters is refused (400 naming `cursor`) before anything is read. Nothing here reads
the key: the HTTP edge hands it over (chalicelib/adapters/http.py)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from .errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_CHARS = 4096     # a cursor longer than any the API issues is refused unread
VERSION = 1


@dataclass(frozen=True)
class Page:
    """What one request asks of a list: at most `limit` items, from `start` (the position the
    previous page's cursor carried; None: the first page). A service answers its list with
    `next_cursor` holding the next position (None on the last page), which the edge seals."""
    limit: int = DEFAULT_LIMIT
    start: dict | None = None


def limit_of(value: str | int | None, default: int = DEFAULT_LIMIT,
             maximum: int = MAX_LIMIT) -> int:
    """The `limit` query parameter: a whole number from 1 to the maximum; 400 naming `limit`."""
    if value is None or value == "":
        return default
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise InvalidInput(f"limit is a whole number from 1 to {maximum} (the items of one page; "
                           f"{default} when not given), not {str(value)[:20]!r}", field="limit")
    return int(text)


def scope_digest(scope: dict) -> str:
    """What a cursor is bound to (route, caller, filters), as a short canonical digest."""
    canonical = json.dumps(scope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


class Cursors:
    """Seals a position into a cursor and opens one again, under one secret key."""

    def __init__(self, key: bytes | str):
        key = key.encode("utf-8") if isinstance(key, str) else key
        if len(key) < 32:
            raise ValueError("the cursor key has at least 32 bytes")
        self._key = key

    def seal(self, position: dict, scope: dict) -> str:
        payload = json.dumps({"v": VERSION, "s": scope_digest(scope), "p": position},
                             sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        body = payload.encode("utf-8")
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def open(self, cursor: str | None, scope: dict) -> dict | None:
        """The position a cursor carries (None when no cursor was given); 400 naming `cursor`
        when it is malformed, not signed with this deployment's key, or made for another
        caller or other filters."""
        if cursor is None or cursor == "":
            return None
        if len(cursor) > MAX_CURSOR_CHARS or cursor.count(".") != 1:
            raise _refused("is not a cursor this API issued (malformed)")
        body_text, mac_text = cursor.split(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (binascii.Error, ValueError):
            raise _refused("is not a cursor this API issued (malformed)")
        if not hmac.compare_digest(mac, self._mac(body)):
            raise _refused("is not a cursor this API issued, or was changed")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _refused("is not a cursor this API issued (malformed)")
        if not isinstance(payload, dict) or payload.get("v") != VERSION \
                or not isinstance(payload.get("p"), dict):
            raise _refused("is not a cursor this API issued (malformed)")
        if payload.get("s") != scope_digest(scope):
            raise _refused("was made for another list, caller or other filters: ask the first "
                           "page again with these filters")
        return payload["p"]

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()


def _refused(why: str) -> InvalidInput:
    return InvalidInput(f"cursor {why}; pass next_cursor exactly as the previous page answered "
                        "it", field="cursor")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
