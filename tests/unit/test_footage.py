"""Footage longer than one clip (chalicelib/domain/footage.py): a period's fragments cut into
parts GetClip returns whole (200 fragments, 100 MB), covering the period end to end."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.footage import (CLIP_BYTES, CLIP_FRAGMENTS, PART_BYTES, Fragment,
                                       in_one_clip, instant, longest_pull_refused, ms, plan)

CHINA = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA)
KB, MB = 1000, 1000 * 1000


def every(seconds: float, start: datetime, end: datetime, size: int = 400 * KB):
    """A fragment every `seconds` from start, the last starting at or before end."""
    step = round(seconds * 1000)
    return [Fragment(t, size, step) for t in range(ms(start), ms(end) + 1, step)]


def assert_end_to_end(parts, fragments, start_ms, end_ms):
    assert parts[0].start_ms == start_ms and parts[-1].end_ms == end_ms
    for a, b in zip(parts, parts[1:]):
        assert a.end_ms == b.start_ms == b.first_ms      # no gap, no overlap
        assert a.last_ms < b.first_ms
    assert [p.index for p in parts] == list(range(len(parts)))
    inside = sorted({f.start_ms for f in fragments if start_ms <= f.start_ms <= end_ms})
    # Each fragment in exactly one part: the parts' ranges, one after another, hold them all.
    held = [t for p in parts for t in inside if p.first_ms <= t <= p.last_ms]
    assert held == inside
    assert sum(p.fragments for p in parts) == len(inside)


def test_thirty_minutes_of_2_s_fragments_are_five_parts_the_last_short():
    end = START + timedelta(minutes=30)
    fragments = every(2, START, end)
    parts = plan(fragments, ms(START), ms(end))
    # 901 fragments start in [09:00:00, 09:30:00]: 4 × 200, then 101.
    assert [p.fragments for p in parts] == [200, 200, 200, 200, 101]
    assert_end_to_end(parts, fragments, ms(START), ms(end))
    lengths = [p.end_ms - p.start_ms for p in parts]
    assert lengths == [400_000] * 4 + [200_000]        # 6 min 40 s each, the last 3 min 20 s
    assert all(p.fragments <= CLIP_FRAGMENTS and p.bytes <= PART_BYTES for p in parts)


def test_one_clip_is_enough_for_a_short_period():
    end = START + timedelta(minutes=4)
    [part] = plan(every(2, START - timedelta(minutes=1), end + timedelta(minutes=1)),
                  ms(START), ms(end))
    assert (part.start_ms, part.end_ms, part.fragments) == (ms(START), ms(end), 121)
    assert (part.first_ms, part.last_ms) == (ms(START), ms(end))


def test_large_fragments_are_cut_by_bytes_before_200():
    end = START + timedelta(minutes=20)
    fragments = every(2, START, end, size=600 * KB)     # 1080p at a high bitrate
    parts = plan(fragments, ms(START), ms(end))
    per_part = PART_BYTES // (600 * KB)                 # 158 fragments under 95 MB
    assert per_part == 158
    assert [p.fragments for p in parts] == [158, 158, 158, 601 - 3 * 158]
    assert all(p.bytes <= PART_BYTES < CLIP_BYTES for p in parts)
    assert_end_to_end(parts, fragments, ms(START), ms(end))


def test_a_gap_in_the_recording_lies_inside_a_part_and_an_empty_period_has_none():
    end = START + timedelta(minutes=20)
    fragments = every(2, START, START + timedelta(minutes=5)) + \
        every(2, START + timedelta(minutes=15), end)
    parts = plan(fragments, ms(START), ms(end))
    assert [p.fragments for p in parts] == [200, 102]
    assert_end_to_end(parts, fragments, ms(START), ms(end))
    assert plan([], ms(START), ms(end)) == []
    assert plan(fragments, ms(end) + 1, ms(end) + 60_000) == []


def test_fragments_outside_the_period_unordered_or_listed_twice_count_once():
    end = START + timedelta(minutes=8)
    fragments = every(2, START - timedelta(minutes=1), end + timedelta(minutes=1))
    shuffled = fragments[::-1] + fragments[100:150]     # a page read again
    parts = plan(shuffled, ms(START) + 1, ms(end))      # mid-fragment start: that one is out
    assert [p.fragments for p in parts] == [200, 40]
    assert parts[0].first_ms == ms(START) + 2000
    assert_end_to_end(parts, fragments, ms(START) + 1, ms(end))


def test_irregular_fragments_are_planned_by_their_listed_starts():
    # A producer that cuts fragments at each keyframe: lengths from 1 to 4 s.
    starts, t = [], ms(START)
    for k in range(700):
        starts.append(t)
        t += 1000 * (1 + k % 4)
    end_ms = starts[-1] + 500
    fragments = [Fragment(s, 300 * KB) for s in starts]
    parts = plan(fragments, ms(START), end_ms)
    assert [p.fragments for p in parts] == [200, 200, 200, 100]
    assert_end_to_end(parts, fragments, ms(START), end_ms)


def test_one_fragment_larger_than_a_part_is_a_part_of_its_own():
    fragments = [Fragment(ms(START), 10 * MB), Fragment(ms(START) + 2000, 99 * MB),
                 Fragment(ms(START) + 4000, 10 * MB)]
    parts = plan(fragments, ms(START), ms(START) + 4000)
    assert [p.fragments for p in parts] == [1, 1, 1]


def test_getclip_returns_the_first_200_fragments_or_100_mb():
    fragments = every(2, START, START + timedelta(minutes=30))
    assert len(in_one_clip(fragments)) == 200
    large = every(2, START, START + timedelta(minutes=30), size=800 * KB)
    returned = in_one_clip(large[::-1])                 # by start, whatever the order given
    assert len(returned) == CLIP_BYTES // (800 * KB) == 125
    assert returned[0].start_ms == ms(START)
    assert in_one_clip([Fragment(0, 2 * CLIP_BYTES)]) == [Fragment(0, 2 * CLIP_BYTES)]


def test_a_period_is_planned_forwards_and_within_limits():
    with pytest.raises(ValueError):
        plan([], ms(START), ms(START))
    with pytest.raises(ValueError):
        plan([], ms(START), ms(START) + 1, max_fragments=0)


def test_the_longest_pull_is_named_when_refused():
    longest = timedelta(hours=2)
    assert longest_pull_refused(START, START + longest, longest) is None
    why = longest_pull_refused(START, START + timedelta(hours=2, seconds=30), longest)
    assert "at most 120 minutes" in why and "120 minutes 30 seconds" in why


def test_instants_keep_the_zone_they_were_asked_in():
    at = instant(ms(START) + 400_000, START)
    assert at == START + timedelta(seconds=400) and at.utcoffset() == timedelta(hours=8)
