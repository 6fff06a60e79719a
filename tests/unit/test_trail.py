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
