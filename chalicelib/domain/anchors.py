"""Anchors of the trails outside their table (防篡改锚定).

A trail's hash chain shows an edit, but not a consistent rewrite: whoever may write the trail
table could recompute every hash from the edited record on, and the case's stored head with it.
So once an hour the heads of every chain that changed in that hour (chain id, last seq, last
hash) are written to the evidence bucket, whose Object Lock (compliance mode) lets nobody, the
anchoring job's own role included, change or delete them; the functions that write trails cannot
write anchors at all. Each hour's anchor also names the SHA-256 of the hour's anchor before it,
so the anchors chain too.

Layout, one period (an hour, UTC) at a time:

- `anchors/<YYYY-MM-DDTHH>.json`, the period's manifest: the SHA-256 of each shard's list of
  heads, how many heads, and the key and SHA-256 of the previous period's manifest;
- `anchors/<YYYY-MM-DDTHH>/<NN>.json`, the heads of the chains of shard NN (a chain's shard is
  fixed by its id), so that checking one chain reads one small object, not the whole hour's.

Every period gets a manifest, an hour without changes too, so that the chain of manifests has
no gap. Plain Python: the job and the verifiers use it with any storage."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable

PERIOD = timedelta(hours=1)
PERIOD_FORMAT = "%Y-%m-%dT%H"
# A trail record is written within a function's run (at most 15 minutes) of the instant its
# period is taken from: a period is anchored only once that long has passed after its end.
GRACE = timedelta(minutes=15)
# The index of changed chains is keyed by period and shard: one partition per hour would take
# every trail write of the hour (a province: ~500,000 cases a day, several records each, peaks
# of several hundred writes a second), past one partition's 1,000 writes a second; 16 shards keep
# each well below it, and the job reads 16 partitions an hour.
SHARDS = 16
PREFIX = "anchors/"


@dataclass(frozen=True)
class Head:
    """The last record of a chain as anchored: its seq and hash."""
    chain: str
    seq: int
    hash: str


def period_of(instant: datetime | str) -> str:
    """The anchoring period (hour, UTC) of an instant: `2026-11-21T02` for 10:30 in China."""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(timezone.utc).strftime(PERIOD_FORMAT)


def start_of(period: str) -> datetime:
    return datetime.strptime(period, PERIOD_FORMAT).replace(tzinfo=timezone.utc)


def shift(period: str, periods: int) -> str:
    return period_of(start_of(period) + periods * PERIOD)


def last_complete(now: datetime, grace: timedelta = GRACE) -> str:
    """The latest period that ended at least `grace` ago (every record of it is written)."""
    return period_of(now - grace - PERIOD)


def periods_after(last: str, until: str) -> list[str]:
    """The periods after `last` up to `until`, oldest first."""
    found, period = [], shift(last, 1)
    while period <= until:
        found.append(period)
        period = shift(period, 1)
    return found


def shard_of(chain_id: str) -> int:
    return int(hashlib.sha256(chain_id.encode("utf-8")).hexdigest()[:8], 16) % SHARDS


def index_key(chain_id: str, written: datetime) -> str:
    """What a trail record carries for the index of changed chains: its period and shard."""
    return f"{period_of(written)}#{shard_of(chain_id):02d}"


def index_keys(period: str) -> list[str]:
    return [f"{period}#{shard:02d}" for shard in range(SHARDS)]


def period_of_index_key(key: str) -> str:
    return key.split("#", 1)[0]


def manifest_key(period: str) -> str:
    return f"{PREFIX}{period}.json"


def shard_key(period: str, shard: int) -> str:
    return f"{PREFIX}{period}/{shard:02d}.json"


def period_of_manifest_key(key: str) -> str | None:
    """The period a manifest's key names, None for any other key."""
    name = key[len(PREFIX):] if key.startswith(PREFIX) else ""
    if "/" in name or not name.endswith(".json"):
        return None
    try:
        start_of(name[:-5])
    except ValueError:
        return None
    return name[:-5]


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def latest_heads(written: Iterable[tuple[str, int, str]]) -> list[Head]:
    """Each chain's last record among the records written in a period."""
    heads: dict[str, Head] = {}
    for chain, seq, record_hash in written:
        if chain not in heads or seq > heads[chain].seq:
            heads[chain] = Head(chain, int(seq), record_hash)
    return sorted(heads.values(), key=lambda head: head.chain)


def shards_of(heads: Iterable[Head]) -> dict[int, list[Head]]:
    grouped: dict[int, list[Head]] = {}
    for head in heads:
        grouped.setdefault(shard_of(head.chain), []).append(head)
    return {shard: sorted(found, key=lambda h: h.chain) for shard, found in grouped.items()}


def shard_document(period: str, shard: int, heads: Iterable[Head]) -> bytes:
    return canonical({"period": period, "shard": shard,
                      "heads": [[h.chain, h.seq, h.hash] for h in heads]})


def manifest(period: str, shards: dict[int, str], heads: int,
             previous: tuple[str, str] | None, written_at: datetime) -> bytes:
    """The period's anchor: each shard's SHA-256 (by shard number), the number of heads, and
    the previous manifest's key and SHA-256 (None only for the very first)."""
    return canonical({
        "period": period, "written_at": written_at.astimezone(timezone.utc).isoformat(),
        "heads": heads, "shards": {f"{shard:02d}": digest for shard, digest
                                   in sorted(shards.items())},
        "previous": {"key": previous[0], "sha256": previous[1]} if previous else None})


class AnchorAltered(ValueError):
    """An anchor's shard does not hash to what its manifest recorded."""


def heads_in(shard_body: bytes) -> list[Head]:
    return [Head(chain, int(seq), record_hash)
            for chain, seq, record_hash in json.loads(shard_body)["heads"]]


def anchored_head(period: str, manifest_body: bytes, shard_body: bytes | None,
                  chain_id: str) -> Head | None:
    """The head the period's anchor holds for a chain, None when the chain did not change in the
    period; the shard must be the one the manifest names."""
    recorded = json.loads(manifest_body)["shards"].get(f"{shard_of(chain_id):02d}")
    if recorded is None:
        return None
    if shard_body is None or sha256_hex(shard_body) != recorded:
        raise AnchorAltered(f"the anchor of {period}: shard {shard_of(chain_id):02d} does not "
                            f"match its manifest")
    return next((head for head in heads_in(shard_body) if head.chain == chain_id), None)
