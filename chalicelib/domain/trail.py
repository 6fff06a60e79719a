"""全程留痕: every state change of a case is appended to its audit trail, and each record carries
the hash of the one before it. Editing, removing or reordering any record breaks the chain from
that record on, and `verify` names the first broken link.

Removing the newest records breaks no link, and whoever may write the trail could rewrite a chain
consistently. So a chain verifies only if, besides its links, its last record is the head its
case (or task) stores, and every head anchored outside the table (domain/anchors.py) is still
one of its records."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

GENESIS = "0" * 64

# Who an action is credited to when no person took it: the part of the system that did, never
# a person who did not act (a complainant did not seal the evidence, an applicant did not start
# the workflow). Every record names its actor; these are the system's, with the words the
# website, the workstation and the board show for them (chalicelib/web/js/ui.mjs, actorLabel).
WORKFLOW = "system:workflow"                # the case workflow: starts, stages, completions, lights
MATERIALS = "system:s3"                     # the materials store: an upload received and checked
SUPERVISION = "system:supervision"          # electronic supervision: a task's timers, a 差评's
#                                             rectification opened, a rectification's report
EVIDENCE = "system:evidence"                # evidence sealing: a clip written once, locked
DEFAULT_RATINGS = "system:default_ratings"  # the daily job rating unrated cases 满意
SYSTEM_ACTORS = {WORKFLOW: "审批流程引擎", MATERIALS: "材料存储系统", SUPERVISION: "电子监察系统",
                 EVIDENCE: "证据封存系统", DEFAULT_RATINGS: "默认好评定时任务"}


def is_system(actor: str) -> bool:
    """Whether an action was taken by a part of the system rather than by a person."""
    return actor in SYSTEM_ACTORS


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


INTACT, BROKEN_LINK, TAIL_DELETED, HEAD_DIFFERS, ANCHOR_DIFFERS = (
    "intact", "broken_link", "tail_deleted", "head_differs", "anchor_differs")


@dataclass(frozen=True)
class AnchoredHead:
    """A chain's head as an anchor outside the table holds it (the anchor's period)."""
    period: str
    seq: int
    hash: str


@dataclass(frozen=True)
class Verdict:
    intact: bool
    records: int
    broken_seq: int | None = None
    reason: str | None = None
    kind: str = INTACT
    stored_seq: int | None = None      # the head the case stores, when it was compared
    anchor: str | None = None          # the period of the (latest) anchor compared with

    @property
    def summary(self) -> str:
        """One line for auditors: intact / broken link at seq N / tail deleted (stored head seq
        N, chain ends at M) / head differs at seq N / differs from anchor at <period>."""
        if self.kind == TAIL_DELETED:
            return (f"tail deleted (stored head seq {self.stored_seq}, chain ends at "
                    f"{self.records})")
        if self.kind == HEAD_DIFFERS:
            return f"head differs from the stored head at seq {self.broken_seq}"
        if self.kind == ANCHOR_DIFFERS:
            return f"differs from anchor at {self.anchor}:00Z (seq {self.broken_seq})"
        if self.kind == BROKEN_LINK:
            return f"broken link at seq {self.broken_seq}"
        anchored = f", anchored at {self.anchor}:00Z" if self.anchor else ""
        return f"intact ({self.records} records{anchored})"

    def to_dict(self) -> dict:
        return {**asdict(self), "summary": self.summary}


def verify(records: list[TrailRecord], head: tuple[int, str] | None = None,
           anchored: list[AnchoredHead] | tuple = ()) -> Verdict:
    """Checks a whole trail, oldest first; stops at the first link that does not hold. `head`:
    the (seq, hash) the case stores, read before the records (records written after it may
    follow it); `anchored`: heads anchored outside the table, each of which must still be in
    the chain."""
    prev_hash = GENESIS
    for expected_seq, record in enumerate(records, start=1):
        if record.seq != expected_seq:
            return Verdict(False, len(records), expected_seq,
                           f"record {expected_seq} is missing (found {record.seq} in its place)",
                           kind=BROKEN_LINK)
        if record.prev != prev_hash:
            return Verdict(False, len(records), record.seq,
                           "its link to the previous record does not match that record's hash",
                           kind=BROKEN_LINK)
        if digest(record.content()) != record.hash:
            return Verdict(False, len(records), record.seq,
                           "its content does not match its hash (the record was edited)",
                           kind=BROKEN_LINK)
        prev_hash = record.hash
    stored_seq = None
    if head is not None:
        stored_seq, stored_hash = int(head[0]), head[1]
        if stored_seq > len(records):
            return Verdict(False, len(records), len(records) + 1,
                           f"the case's stored head is record {stored_seq} but the chain ends "
                           f"at record {len(records)}: its newest records were deleted",
                           kind=TAIL_DELETED, stored_seq=stored_seq)
        if stored_seq and records[stored_seq - 1].hash != stored_hash:
            return Verdict(False, len(records), stored_seq,
                           f"record {stored_seq} is not the head the case stores (its hash "
                           f"differs): the chain was rewritten", kind=HEAD_DIFFERS,
                           stored_seq=stored_seq)
    for anchor in anchored:
        if anchor.seq > len(records):
            return Verdict(False, len(records), len(records) + 1,
                           f"the anchor of {anchor.period} holds record {anchor.seq} but the "
                           f"chain ends at record {len(records)}", kind=ANCHOR_DIFFERS,
                           stored_seq=stored_seq, anchor=anchor.period)
        if records[anchor.seq - 1].hash != anchor.hash:
            return Verdict(False, len(records), anchor.seq,
                           f"record {anchor.seq}'s hash differs from the one anchored in "
                           f"{anchor.period}: the chain was rewritten", kind=ANCHOR_DIFFERS,
                           stored_seq=stored_seq, anchor=anchor.period)
    return Verdict(True, len(records), stored_seq=stored_seq,
                   anchor=max((a.period for a in anchored), default=None))
