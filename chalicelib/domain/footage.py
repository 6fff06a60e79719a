"""Footage longer than one clip: a window camera's recording of a period, cut into the clips
Kinesis Video Streams' GetClip can return, end to end.

GetClip returns the first 200 fragments or the first 100 MB of the range it is given, whichever
comes first, and says nothing of what it left out: at 2 s fragments one clip holds under seven
minutes. A longer period is therefore listed first (ListFragments: each fragment's start, length
and size), and its fragments, in the order of their start, are cut into parts no clip limit can
truncate. Each part is then asked for by exactly the range of its own fragments, so the parts
hold every listed fragment once.

The periods the parts cover are contiguous: the first starts where the period starts, each next
one where its first fragment starts, and the last ends where the period ends; part k ends where
part k + 1 starts. A gap in the recording lies inside a part (or before its first fragment),
never between two parts. Instants here are milliseconds since the epoch, as KVS keeps them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

CLIP_FRAGMENTS = 200                 # GetClip returns at most the first 200 fragments ...
CLIP_BYTES = 100 * 1000 * 1000       # ... or the first 100 MB of the range
# What a part is planned to hold. ListFragments gives the size of each stored fragment, with
# the framing it was stored in; the MP4 GetClip writes around the same media is close to it but
# not the same, so a part keeps 5 % of the byte limit free and is never cut short by it.
PART_FRAGMENTS = CLIP_FRAGMENTS
PART_BYTES = CLIP_BYTES * 95 // 100
LONGEST_PULL = timedelta(hours=2)    # a supervisor's pull, unless the deployment sets another


@dataclass(frozen=True)
class Fragment:
    start_ms: int       # its producer (or server) timestamp
    size: int           # bytes, as ListFragments reports it
    length_ms: int = 0  # its playback duration


@dataclass(frozen=True)
class Part:
    """One clip of a period's footage. `start_ms`..`end_ms` is the period it covers (its end is
    the next part's start); `first_ms`..`last_ms`, both ends inclusive, is the range GetClip is
    asked for: exactly its fragments."""
    index: int          # 0-based, in the order of time
    start_ms: int
    end_ms: int
    first_ms: int
    last_ms: int
    fragments: int
    bytes: int


def ms(t: datetime) -> int:
    return round(t.timestamp() * 1000)


def instant(milliseconds: int, like: datetime) -> datetime:
    """Milliseconds since the epoch as an aware instant in the zone of `like`."""
    return datetime.fromtimestamp(milliseconds / 1000, timezone.utc).astimezone(like.tzinfo)


def in_one_clip(fragments: list[Fragment], max_fragments: int = CLIP_FRAGMENTS,
                max_bytes: int = CLIP_BYTES) -> list[Fragment]:
    """What GetClip returns of a range's fragments (in the order of their start): the first
    ones, while neither limit is passed. A first fragment larger than the byte limit alone is
    still returned: a clip is never empty when the range holds a fragment."""
    out, size = [], 0
    for fragment in sorted(fragments, key=lambda f: f.start_ms):
        if len(out) == max_fragments or (out and size + fragment.size > max_bytes):
            break
        out.append(fragment)
        size += fragment.size
    return out


def plan(fragments, start_ms: int, end_ms: int, max_fragments: int = PART_FRAGMENTS,
         max_bytes: int = PART_BYTES) -> list[Part]:
    """The parts covering [start_ms, end_ms]: every fragment starting in the period (both ends
    inclusive, as KVS selects them) in exactly one part, each part within the limits. The same
    fragment listed twice (a page boundary read again) counts once. No fragment, no part."""
    if end_ms <= start_ms:
        raise ValueError("a period ends after it starts")
    if max_fragments < 1 or max_bytes < 1:
        raise ValueError("a part holds at least one fragment")
    kept: dict[int, Fragment] = {}
    for fragment in fragments:
        if start_ms <= fragment.start_ms <= end_ms:
            kept.setdefault(fragment.start_ms, fragment)
    ordered = [kept[t] for t in sorted(kept)]
    groups: list[list[Fragment]] = []
    size = 0
    for fragment in ordered:
        if not groups or len(groups[-1]) == max_fragments or size + fragment.size > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(fragment)
        size += fragment.size
    parts = []
    for k, group in enumerate(groups):
        parts.append(Part(
            index=k, start_ms=start_ms if k == 0 else group[0].start_ms,
            end_ms=groups[k + 1][0].start_ms if k + 1 < len(groups) else end_ms,
            first_ms=group[0].start_ms, last_ms=group[-1].start_ms, fragments=len(group),
            bytes=sum(f.size for f in group)))
    return parts


def longest_pull_refused(start: datetime, end: datetime, longest: timedelta) -> str | None:
    """Why a pull of [start, end] is refused for its length, or None: the reason names the
    longest period allowed."""
    if end - start <= longest:
        return None
    return (f"footage is pulled for at most {_minutes(longest)} at a time "
            f"(this period is {_minutes(end - start)}); pull a longer period in several pulls")


def _minutes(span: timedelta) -> str:
    seconds = span.total_seconds()
    whole = int(seconds // 60)
    rest = seconds - whole * 60
    return f"{whole} minutes" if not rest else f"{whole} minutes {rest:g} seconds"
