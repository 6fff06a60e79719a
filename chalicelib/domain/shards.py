"""Write sharding of the index keys that would otherwise take every write of a day or a period:
an item's key gets a shard suffix chosen from its own id (`2026-11-21#05`), so that a day's or a
period's writes spread over SHARDS partitions, and a reader queries every shard and merges. The
same id always lands on the same shard (an item's updates stay on one index item). The anchors'
index of changed chains does the same with its own count (domain/anchors.py).

Why these counts (docs/architecture.md): a province's 500,000 cases a day make about 22 million
counter ADDs a day, most of them in the working hours (about 1,500 a second at their peak), and
every ADD is a write of the period's index item; one partition takes 1,000 writes a second. 16
shards leave each at about 100 a second. Completions are fewer (one a case) but each copies the
whole case into the index: 8 shards."""
from __future__ import annotations

import hashlib

SCORE_SHARDS = 16           # ScoresTable.ByPeriodShard: period#NN, NN from the counter's subject
COMPLETION_SHARDS = 8       # CasesTable.CompletedByDayShard: day#NN, NN from the case id


def shard_of(item_id: str, shards: int) -> int:
    return int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:8], 16) % shards


def key(value: str, item_id: str, shards: int) -> str:
    """The sharded index key of an item: its day or period and the item's shard."""
    return f"{value}#{shard_of(item_id, shards):02d}"


def keys(value: str, shards: int) -> list[str]:
    """Every shard's key of a day or period: what a reader queries, one query each."""
    return [f"{value}#{shard:02d}" for shard in range(shards)]
