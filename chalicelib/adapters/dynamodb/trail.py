"""TrailTable: the hash-chained trail records of cases and supervised tasks, append-only (every
record is put on condition it is new), and the index of the chains changed in an hour that the
anchoring job and the verifiers read."""
from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from ...domain import anchors
from ...domain.trail import TrailRecord
from .table import meta


class ByAnchorPeriod(GlobalSecondaryIndex):
    """Trail records by the hour (UTC) they were written and their chain's shard
    (`2026-11-21T02#07`, domain/anchors.py): the hourly anchoring job reads the heads of the
    chains that changed in an hour from 16 partitions, without scanning the table. Sharded
    because one partition per hour would take every trail write of the province's busiest hour;
    only the record's hash is projected (the record itself is not copied)."""
    class Meta:
        index_name = "ByAnchorPeriod"
        projection = IncludeProjection(["record_hash"])

    anchor_period = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)


class TrailModel(Model):
    Meta = meta("trail_table", "TrailTable")
    case_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    record = JSONAttribute()
    anchor_period = UnicodeAttribute(null=True)
    record_hash = UnicodeAttribute(null=True)
    by_anchor_period = ByAnchorPeriod()

    @classmethod
    def of(cls, record: TrailRecord, written: datetime | None = None) -> "TrailModel":
        written = written or datetime.now(timezone.utc)
        return cls(record.case_id, record.seq, record=record.to_dict(),
                   anchor_period=anchors.index_key(record.case_id, written),
                   record_hash=record.hash)


def append(record: TrailRecord):
    """The write of a new record: refused if the chain has a record at its place already."""
    return TrailModel.of(record), TrailModel.seq.does_not_exist()


def chain(chain_id: str) -> list[TrailRecord]:
    """A case's or task's records, oldest first."""
    return [TrailRecord(**m.record) for m in TrailModel.query(chain_id, consistent_read=True)]


class DynamoTrails:
    """Chains as the verifiers and the anchoring job read them from the trail table."""

    def records(self, chain_id: str) -> tuple[list[TrailRecord], set[str]]:
        """The chain, oldest first, and the periods its records were written in."""
        records, periods = [], set()
        for model in TrailModel.query(chain_id, consistent_read=True):
            records.append(TrailRecord(**model.record))
            if model.anchor_period:
                periods.add(anchors.period_of_index_key(model.anchor_period))
        return records, periods

    def hash_at(self, chain_id: str, seq: int) -> str | None:
        """The hash of a chain's record, None if there is no such record."""
        try:
            return TrailModel.get(chain_id, seq, consistent_read=True).record["hash"]
        except TrailModel.DoesNotExist:
            return None

    def written_in(self, period: str):
        """(chain id, seq, hash) of every record written in the period: one query per shard of
        the sparse ByAnchorPeriod index (keys and the hash only)."""
        for key in anchors.index_keys(period):
            for model in TrailModel.by_anchor_period.query(key):
                yield model.case_id, int(model.seq), model.record_hash
