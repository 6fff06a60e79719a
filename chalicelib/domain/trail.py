"""全程留痕: every state change of a case is appended to its audit trail, and each record carries
the hash of the one before it. Editing, removing or reordering any record breaks the chain from
that record on, and `verify` names the first broken link."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

GENESIS = "0" * 64


@dataclass(frozen=True)
class TrailRecord:
    case_id: str
    seq: int
    at: str
    action: str
    actor: str
    data: dict = field(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""

    def content(self) -> dict:
        body = asdict(self)
        body.pop("hash")
        return body

    def to_dict(self) -> dict:
        return asdict(self)


def digest(content: dict) -> str:
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append(case_id: str, last_seq: int, last_hash: str, action: str, actor: str, at: str,
           data: dict | None = None) -> TrailRecord:
    """The record that follows the trail's last one (seq 0 and GENESIS for a new case)."""
    unsigned = TrailRecord(case_id=case_id, seq=last_seq + 1, at=at, action=action, actor=actor,
                           data=data or {}, prev=last_hash)
    return TrailRecord(**{**unsigned.content(), "hash": digest(unsigned.content())})


@dataclass(frozen=True)
class Verdict:
    intact: bool
    records: int
    broken_seq: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def verify(records: list[TrailRecord]) -> Verdict:
    """Checks a whole trail, oldest first; stops at the first link that does not hold."""
    prev_hash = GENESIS
    for expected_seq, record in enumerate(records, start=1):
        if record.seq != expected_seq:
            return Verdict(False, len(records), expected_seq,
                           f"record {expected_seq} is missing (found {record.seq} in its place)")
        if record.prev != prev_hash:
            return Verdict(False, len(records), record.seq,
                           "its link to the previous record does not match that record's hash")
        if digest(record.content()) != record.hash:
            return Verdict(False, len(records), record.seq,
                           "its content does not match its hash (the record was edited)")
        prev_hash = record.hash
    return Verdict(True, len(records))
