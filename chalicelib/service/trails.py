"""The trails' tamper evidence: the hourly anchoring of every changed chain's head outside the
trail table, and the verification auditors run (the trail endpoint, `make verify-trail`), which
compares a chain with its links, with the head its case or task stores, and with its anchors."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Callable

from ..domain import anchors, trail
from ..logs import logger

# At most this many hours are anchored in one run (catching up after an outage); the rest in
# the next runs, oldest first.
MOST_PERIODS_PER_RUN = 48
# How far back the job looks, day by day, for the last manifest before listing every one.
LOOK_BACK_DAYS = 7


class Anchoring:
    """`trails`: the index of changed chains (written_in); `store`: the anchors (put_once,
    first_version, manifests)."""

    def __init__(self, trails, store, now: Callable[[], datetime],
                 grace: timedelta = anchors.GRACE):
        self.trails, self.store, self.now, self.grace = trails, store, now, grace

    def run(self) -> list[str]:
        """Anchors every complete period after the last anchored one (the previous hour, in
        a normal run), oldest first, each chained to the one before; the periods written."""
        until = anchors.last_complete(self.now(), self.grace)
        last = self._last_manifest(until)
        if last is not None and last >= until:
            return []
        periods = anchors.periods_after(last, until) if last else [until]
        previous = self._previous(last) if last else None
        written = []
        for period in periods[:MOST_PERIODS_PER_RUN]:
            previous, new = self.anchor(period, previous)
            if new:
                written.append(period)
        return written

    def anchor(self, period: str, previous: tuple[str, str] | None
               ) -> tuple[tuple[str, str], bool]:
        """Writes the period's shards and manifest; returns the manifest's (key, SHA-256) for
        the next period and whether this run wrote it (another run may have been first)."""
        heads = anchors.latest_heads(self.trails.written_in(period))
        digests = {}
        for shard, found in anchors.shards_of(heads).items():
            key = anchors.shard_key(period, shard)
            body = anchors.shard_document(period, shard, found)
            if not self.store.put_once(key, body):
                body = self.store.first_version(key)    # left by a run that stopped midway
            digests[shard] = anchors.sha256_hex(body)
        key = anchors.manifest_key(period)
        body = anchors.manifest(period, digests, len(heads), previous, self.now())
        new = self.store.put_once(key, body)
        if not new:
            body = self.store.first_version(key)
        logger.info("trails anchored", extra={"period": period, "heads": len(heads),
                                              "shards": len(digests), "written": new})
        return (key, anchors.sha256_hex(body)), new

    def _previous(self, period: str) -> tuple[str, str]:
        key = anchors.manifest_key(period)
        return key, anchors.sha256_hex(self.store.first_version(key))

    def _last_manifest(self, until: str) -> str | None:
        """The latest anchored period: the manifests of the last days, day by day, and only if
        none of them has one, every manifest (the very first run)."""
        day = anchors.start_of(until)
        for back in range(LOOK_BACK_DAYS):
            found = self.store.manifests(anchors.PREFIX + (day - timedelta(days=back))
                                         .strftime("%Y-%m-%d"))
            if found:
                return found[-1]
        found = self.store.manifests(anchors.PREFIX)
        return found[-1] if found else None


class TrailAudit:
    """Verifies one chain: `heads(chain_id)` → the (seq, hash) its case or task stores, or None;
    `trails`: records(chain_id) → (records, periods written in); `store`: the anchors."""

    def __init__(self, heads: Callable[[str], tuple[int, str] | None], trails, store):
        self.heads, self.trails, self.store = heads, trails, store

    def verify(self, chain_id: str) -> tuple[trail.Verdict, list[trail.TrailRecord]]:
        # The stored head first: the records read after it include it, unless deleted.
        head = self.heads(chain_id)
        records, periods = self.trails.records(chain_id)
        verdict = trail.verify(records, head)
        if not verdict.intact:
            return verdict, records
        anchored = self.latest_anchor(chain_id, periods | {anchors.period_of(r.at)
                                                           for r in records})
        return trail.verify(records, head, [anchored] if anchored else []), records

    def latest_anchor(self, chain_id: str, periods: set[str]) -> trail.AnchoredHead | None:
        """The head held by the latest anchor that names the chain, among the periods its
        records were written in. One is enough: if the chain's links hold and it still holds
        that head, every head anchored before is in it too (the head's hash covers them)."""
        for period in sorted(periods, reverse=True):
            manifest = self.store.first_version(anchors.manifest_key(period))
            if manifest is None:
                continue          # not anchored yet (the current hour)
            shard = anchors.shard_key(period, anchors.shard_of(chain_id))
            try:
                head = anchors.anchored_head(period, manifest, self.store.first_version(shard),
                                             chain_id)
            except anchors.AnchorAltered as altered:
                logger.warning("anchor altered", extra={"period": period, "reason": str(altered)})
                continue
            if head is not None:
                return trail.AnchoredHead(period, head.seq, head.hash)
        return None

    def check_anchor(self, period: str) -> dict:
        """Every head an hour's anchor holds, against the trail table, and the anchor's link to
        the hour before: what a chain's own verdict cannot see when a rewrite was dated into an
        hour not anchored yet. `problems` is empty when all holds."""
        body = self.store.first_version(anchors.manifest_key(period))
        if body is None:
            return {"period": period, "anchored": False, "heads": 0, "problems": []}
        manifest, problems, heads = json.loads(body), [], 0
        previous = manifest["previous"]
        if previous is not None:
            before = self.store.first_version(previous["key"])
            if before is None or anchors.sha256_hex(before) != previous["sha256"]:
                problems.append({"anchor": previous["key"],
                                 "problem": "the anchor before differs from its recorded hash"})
        for shard, digest in sorted(manifest["shards"].items()):
            key = anchors.shard_key(period, int(shard))
            shard_body = self.store.first_version(key)
            if shard_body is None or anchors.sha256_hex(shard_body) != digest:
                problems.append({"anchor": key, "problem": "differs from its manifest"})
                continue
            for head in anchors.heads_in(shard_body):
                heads += 1
                found = self.trails.hash_at(head.chain, head.seq)
                if found != head.hash:
                    problems.append({"chain": head.chain, "seq": head.seq, "problem":
                                     "the anchored record is missing" if found is None
                                     else "the record's hash differs from the anchored one"})
        return {"period": period, "anchored": True, "heads": heads, "problems": problems}
