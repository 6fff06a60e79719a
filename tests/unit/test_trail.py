import json
from dataclasses import replace

from chalicelib.domain import trail


def build(n=4):
    records, seq, head = [], 0, trail.GENESIS
    for i in range(n):
        record = trail.append("c1", seq, head, f"step{i}", "citizen:u1",
                              f"2026-11-21T0{i}:00:00+00:00", {"i": i})
        records.append(record)
        seq, head = record.seq, record.hash
    return records


def test_each_record_links_to_the_hash_of_the_one_before():
    records = build()
    assert records[0].prev == trail.GENESIS
    assert [r.prev for r in records[1:]] == [r.hash for r in records[:-1]]
    assert trail.verify(records) == trail.Verdict(True, 4)


def test_an_edited_record_is_the_first_broken_link():
    records = build()
    records[2] = replace(records[2], data={"i": 99})
    verdict = trail.verify(records)
    assert (verdict.intact, verdict.broken_seq) == (False, 3)
    assert "edited" in verdict.reason


def test_a_rehashed_edit_still_breaks_the_next_link():
    records = build()
    forged = replace(records[1], actor="department:OTHER")
    records[1] = replace(forged, hash=trail.digest(forged.content()))
    verdict = trail.verify(records)
    assert (verdict.intact, verdict.broken_seq) == (False, 3)


def test_a_removed_record_is_reported_as_missing():
    records = build()
    del records[1]
    verdict = trail.verify(records)
    assert (verdict.intact, verdict.broken_seq) == (False, 2)
    assert "missing" in verdict.reason


def test_hash_is_stable_for_chinese_text():
    a = trail.append("c1", 0, trail.GENESIS, "受理", "department:SCJG", "t", {"意见": "同意"})
    b = trail.append("c1", 0, trail.GENESIS, "受理", "department:SCJG", "t", {"意见": "同意"})
    assert a.hash == b.hash and len(a.hash) == 64


# -- the chain against the head its case stores and the heads anchored outside the table -----
def head_of(records):
    return records[-1].seq, records[-1].hash


def test_a_chain_whose_last_record_is_the_stored_head_is_intact():
    records = build()
    verdict = trail.verify(records, head_of(records))
    assert verdict.intact and verdict.kind == trail.INTACT and verdict.stored_seq == 4
    assert verdict.to_dict()["summary"] == "intact (4 records)"


def test_records_written_after_the_head_was_read_still_verify():
    records = build(5)
    assert trail.verify(records, head_of(records[:4])).intact


def test_a_deleted_newest_record_is_reported_as_a_deleted_tail():
    records = build()
    stored = head_of(records)
    del records[-1]
    assert trail.verify(records).intact          # the links alone cannot tell
    verdict = trail.verify(records, stored)
    assert (verdict.intact, verdict.kind, verdict.stored_seq, verdict.records) == \
        (False, trail.TAIL_DELETED, 4, 3)
    assert verdict.summary == "tail deleted (stored head seq 4, chain ends at 3)"


def test_every_record_deleted_is_a_deleted_tail_too():
    verdict = trail.verify([], (4, "f" * 64))
    assert verdict.kind == trail.TAIL_DELETED and verdict.summary == \
        "tail deleted (stored head seq 4, chain ends at 0)"


def test_a_consistently_rewritten_last_record_differs_from_the_stored_head():
    records = build()
    stored = head_of(records)
    forged = replace(records[-1], actor="department:OTHER")
    records[-1] = replace(forged, hash=trail.digest(forged.content()))
    assert trail.verify(records).intact
    verdict = trail.verify(records, stored)
    assert (verdict.kind, verdict.broken_seq) == (trail.HEAD_DIFFERS, 4)
    assert verdict.summary == "head differs from the stored head at seq 4"


def test_a_broken_link_is_reported_before_the_head():
    records = build()
    stored = head_of(records)
    records[1] = replace(records[1], data={"i": 99})
    verdict = trail.verify(records, stored)
    assert (verdict.kind, verdict.broken_seq) == (trail.BROKEN_LINK, 2)
    assert verdict.summary == "broken link at seq 2"


def rewritten_from(records, seq):
    """What a holder of a trail-writing role could do: rewrite the chain from `seq` on, every
    hash recomputed; the case's stored head is rewritten to match."""
    out, last_seq, last_hash = list(records[:seq - 1]), seq - 1, records[seq - 2].hash
    for record in records[seq - 1:]:
        forged = trail.append(record.case_id, last_seq, last_hash, record.action,
                              "department:OTHER", record.at, record.data)
        out.append(forged)
        last_seq, last_hash = forged.seq, forged.hash
    return out


def test_a_consistent_rewrite_differs_from_the_anchored_head():
    records = build()
    anchored = trail.AnchoredHead("2026-11-21T02", 3, records[2].hash)
    forged = rewritten_from(records, 2)
    assert trail.verify(forged, head_of(forged)).intact     # links and stored head agree
    verdict = trail.verify(forged, head_of(forged), [anchored])
    assert (verdict.intact, verdict.kind, verdict.broken_seq, verdict.anchor) == \
        (False, trail.ANCHOR_DIFFERS, 3, "2026-11-21T02")
    assert verdict.summary == "differs from anchor at 2026-11-21T02:00Z (seq 3)"


def test_a_tail_deleted_with_its_stored_head_differs_from_the_anchor():
    records = build()
    anchored = trail.AnchoredHead("2026-11-21T03", 4, records[3].hash)
    shortened = records[:2]
    verdict = trail.verify(shortened, head_of(shortened), [anchored])
    assert (verdict.kind, verdict.records, verdict.anchor) == \
        (trail.ANCHOR_DIFFERS, 2, "2026-11-21T03")
    assert "holds record 4 but the chain ends at record 2" in verdict.reason


def test_an_anchored_head_still_in_the_chain_agrees():
    records = build()
    assert trail.verify(records, head_of(records),
                        [trail.AnchoredHead("2026-11-21T01", 2, records[1].hash)]).intact


# -- the hourly anchoring job and the audit, with in-memory stores ---------------------------
from datetime import datetime, timedelta, timezone  # noqa: E402

from chalicelib.adapters.anchors import InMemoryAnchors, InMemoryTrails  # noqa: E402
from chalicelib.domain import anchors  # noqa: E402
from chalicelib.service.trails import Anchoring, TrailAudit  # noqa: E402

T0 = datetime(2026, 11, 21, 2, 30, tzinfo=timezone.utc)


def chain(chain_id, n, start=0, records=None):
    records = list(records or [])
    seq, head = (records[-1].seq, records[-1].hash) if records else (0, trail.GENESIS)
    for i in range(start, start + n):
        record = trail.append(chain_id, seq, head, f"step{i}", "citizen:u1",
                              (T0 + timedelta(minutes=i)).isoformat(), {"i": i})
        records.append(record)
        seq, head = record.seq, record.hash
    return records


class World:
    def __init__(self):
        self.trails, self.store, self.clock = InMemoryTrails(), InMemoryAnchors(), [T0]
        self.job = Anchoring(self.trails, self.store, lambda: self.clock[0])
        self.heads = {}
        self.audit = TrailAudit(lambda c: self.heads.get(c), self.trails, self.store)

    def write(self, records, at):
        for record in records:
            if (record.case_id, record.seq) not in self.trails.items:
                self.trails.add(record, anchors.period_of(at))
        self.heads[records[0].case_id] = (records[-1].seq, records[-1].hash)

    def at(self, instant):
        self.clock[0] = instant
        return self.job.run()


def test_periods_shards_and_keys():
    assert anchors.period_of("2026-11-21T10:30:00+08:00") == "2026-11-21T02"
    assert anchors.last_complete(datetime(2026, 11, 21, 3, 14, tzinfo=timezone.utc)) == \
        "2026-11-21T01"
    assert anchors.last_complete(datetime(2026, 11, 21, 3, 15, tzinfo=timezone.utc)) == \
        "2026-11-21T02"
    assert anchors.periods_after("2026-11-20T22", "2026-11-21T01") == \
        ["2026-11-20T23", "2026-11-21T00", "2026-11-21T01"]
    assert anchors.manifest_key("2026-11-21T02") == "anchors/2026-11-21T02.json"
    assert anchors.period_of_manifest_key("anchors/2026-11-21T02.json") == "2026-11-21T02"
    assert anchors.period_of_manifest_key("anchors/2026-11-21T02/07.json") is None
    assert 0 <= anchors.shard_of("c1") < anchors.SHARDS
    assert anchors.index_key("c1", T0) == f"2026-11-21T02#{anchors.shard_of('c1'):02d}"


def test_the_job_anchors_the_last_head_of_each_changed_chain_and_chains_the_hours():
    w = World()
    a, b = chain("case-a", 3), chain("case-b", 2)
    w.write(a, T0)
    w.write(b, T0)
    assert w.at(T0) == ["2026-11-21T01"]                    # the first run: the hour before
    assert w.at(T0 + timedelta(minutes=44)) == []           # 03:14: 02 not over for long
    assert w.at(T0 + timedelta(minutes=45)) == ["2026-11-21T02"]   # 03:15
    assert w.at(T0 + timedelta(minutes=50)) == []           # written once
    first = w.store.first_version(anchors.manifest_key("2026-11-21T02"))
    document = json.loads(first)
    assert document["heads"] == 2 and document["previous"] == {
        "key": "anchors/2026-11-21T01.json", "sha256": anchors.sha256_hex(
            w.store.first_version("anchors/2026-11-21T01.json"))}
    head = anchors.anchored_head("2026-11-21T02", first, w.store.first_version(
        anchors.shard_key("2026-11-21T02", anchors.shard_of("case-a"))), "case-a")
    assert head == anchors.Head("case-a", 3, a[-1].hash)
    # Two hours later (one without changes): both anchored, each naming the one before.
    a = chain("case-a", 2, 3, a)
    w.write(a, T0 + timedelta(hours=1))
    assert w.at(T0 + timedelta(hours=2, minutes=45)) == ["2026-11-21T03", "2026-11-21T04"]
    third = json.loads(w.store.first_version(anchors.manifest_key("2026-11-21T03")))
    fourth = json.loads(w.store.first_version(anchors.manifest_key("2026-11-21T04")))
    assert third["previous"] == {"key": "anchors/2026-11-21T02.json",
                                 "sha256": anchors.sha256_hex(first)}
    assert third["heads"] == 1 and fourth["heads"] == 0
    assert fourth["previous"]["key"] == "anchors/2026-11-21T03.json"


def test_the_audit_reports_each_verdict():
    w = World()
    a = chain("case-a", 4)
    w.write(a, T0)
    w.at(T0 + timedelta(hours=1))
    verdict, records = w.audit.verify("case-a")
    assert verdict.intact and len(records) == 4
    # A tail deleted: the stored head says 4.
    del w.trails.items[("case-a", 4)]
    assert w.audit.verify("case-a")[0].summary == \
        "tail deleted (stored head seq 4, chain ends at 3)"
    # ...and with the stored head rewritten to match: the anchor still holds record 4.
    w.heads["case-a"] = (3, a[2].hash)
    assert w.audit.verify("case-a")[0].summary == \
        "differs from anchor at 2026-11-21T02:00Z (seq 4)"
    # A consistent rewrite from record 2 on, head and all.
    forged = rewritten_from(a, 2)
    for record in forged:
        w.trails.add(record, "2026-11-21T02")
    w.heads["case-a"] = (forged[-1].seq, forged[-1].hash)
    assert w.audit.verify("case-a")[0].kind == trail.ANCHOR_DIFFERS
    # An edited record: the first broken link.
    w.trails.add(replace(a[1], data={"i": 99}), "2026-11-21T02")
    w.trails.add(a[2], "2026-11-21T02")
    w.trails.add(a[3], "2026-11-21T02")
    w.heads["case-a"] = (4, a[3].hash)
    assert w.audit.verify("case-a")[0].summary == "broken link at seq 2"


def test_a_later_version_of_an_anchor_is_not_believed():
    w = World()
    a = chain("case-a", 3)
    w.write(a, T0)
    w.at(T0 + timedelta(hours=1))
    forged = rewritten_from(a, 2)
    for record in forged:
        w.trails.add(record, "2026-11-21T02")
    w.heads["case-a"] = (3, forged[-1].hash)
    # Someone puts anchors agreeing with the rewrite on the same keys: new versions only.
    period, shard = "2026-11-21T02", anchors.shard_of("case-a")
    body = anchors.shard_document(period, shard, [anchors.Head("case-a", 3, forged[-1].hash)])
    w.store.overwrite(anchors.shard_key(period, shard), body)
    w.store.overwrite(anchors.manifest_key(period), anchors.manifest(
        period, {shard: anchors.sha256_hex(body)}, 1, None, T0))
    assert w.audit.verify("case-a")[0].summary == \
        "differs from anchor at 2026-11-21T02:00Z (seq 3)"


def test_the_latest_anchor_naming_the_chain_is_the_one_compared():
    w = World()
    a = chain("case-a", 2)
    w.write(a, T0)
    a = chain("case-a", 2, 2, a)
    w.write(a, T0 + timedelta(hours=1))
    w.at(T0 + timedelta(hours=2))
    anchored = w.audit.latest_anchor("case-a", {"2026-11-21T02", "2026-11-21T03",
                                                "2026-11-21T05"})
    assert anchored == trail.AnchoredHead("2026-11-21T03", 4, a[3].hash)


def test_the_first_run_anchors_only_the_last_hour_and_a_missed_hour_is_caught_up():
    w = World()
    w.write(chain("case-a", 1), T0)
    assert w.at(T0 + timedelta(hours=5)) == ["2026-11-21T06"]
    assert w.at(T0 + timedelta(hours=8)) == ["2026-11-21T07", "2026-11-21T08",
                                             "2026-11-21T09"]


def test_a_rewrite_dated_into_an_hour_not_anchored_yet_is_found_by_walking_the_anchors():
    """Rewritten from the first record of an hour on, every rewritten record dated into the
    current hour: the chain's own verdict cannot tell (the hours its records name hold no later
    head), the old hour's anchor can."""
    w = World()
    a = chain("case-a", 2)
    w.write(a, T0)                                           # 02:xx
    later = T0 + timedelta(hours=1)
    a = chain("case-a", 2, 2, a)
    w.write(a[2:], later)                                    # 03:xx
    w.at(later + timedelta(hours=1))                         # 02 and 03 anchored
    now = T0 + timedelta(hours=5)
    last_seq, last_hash, forged = 2, a[1].hash, a[:2]
    for record in a[2:]:
        record = trail.append("case-a", last_seq, last_hash, record.action, "department:OTHER",
                              now.isoformat(), record.data)
        forged.append(record)
        w.trails.add(record, anchors.period_of(now))
        last_seq, last_hash = record.seq, record.hash
    w.heads["case-a"] = (last_seq, last_hash)
    assert w.audit.verify("case-a")[0].intact               # the limit of one chain's check
    assert w.audit.check_anchor("2026-11-21T02")["problems"] == []
    found = w.audit.check_anchor("2026-11-21T03")
    assert found["heads"] == 1 and found["problems"] == [
        {"chain": "case-a", "seq": 4, "problem": "the record's hash differs from the anchored one"}]
    assert w.audit.check_anchor("2026-11-21T09") == {"period": "2026-11-21T09", "anchored": False,
                                                     "heads": 0, "problems": []}
