"""Window cameras: what a window's camera recorded over a period, from Kinesis Video Streams.

One clip (`clip`) costs exactly two calls: GetDataEndpoint (GET_CLIP) on the control plane, then
GetClip on the data endpoint it names. KVS answers GetClip only there, and the endpoint is the
stream's, so it is asked each time rather than guessed. GetClip returns at most the first 200
fragments or 100 MB of its range, so a period's footage (`footage`) is listed first:
GetDataEndpoint (LIST_FRAGMENTS), ListFragments page by page (botocore's paginator), the
fragments cut into parts no clip limit truncates (chalicelib/domain/footage.py), then one
GetDataEndpoint (GET_CLIP) and one GetClip per part, fetched one at a time as the caller stores
them. What KVS refuses becomes a domain error naming the field the caller got wrong: an unknown
stream is an unknown window, a period in which the camera recorded nothing is a period the
complaint cannot be proved with."""
from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Callable, Iterator

from ..domain.errors import InvalidInput, NotFound, Unprocessable
from ..domain.footage import (CLIP_BYTES, CLIP_FRAGMENTS, Fragment, Part, in_one_clip, instant,
                              ms, plan)
from . import aws

# Producer timestamps are the camera's own clock at capture: the instant the visit happened.
# Server timestamps are when KVS received a fragment, which drifts from the visit whenever the
# camera buffers through a network outage and uploads late, exactly when a complaint is likely
# to be contested. The cameras keep their clocks by NTP, which makes the producer clock the
# better witness; SERVER_TIMESTAMP would also refuse any period reaching into the future.
SELECTOR = "PRODUCER_TIMESTAMP"
LONGEST_CLIP = timedelta(hours=24)   # GetClip refuses a longer range
CONTENT_TYPE = "video/mp4"           # what GetClip returns: a traditional MP4 file
LIST_PAGE = 1000                     # ListFragments' largest MaxResults


@dataclass(frozen=True)
class Clip:
    content: bytes
    content_type: str
    aws_calls: int   # HTTP requests sent to AWS to get it, retries included

    @property
    def size(self) -> int:
        return len(self.content)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class Footage:
    """A period's footage as parts (chalicelib/domain/footage.py), planned from the fragments
    listed; each part's clip is fetched when `clips()` reaches it, so one clip at a time is in
    memory. `aws_calls` counts the listing's requests, then each clip's as it is fetched."""
    stream: str
    start: datetime
    end: datetime
    parts: list[Part]
    aws_calls: int
    fetch: Callable[[Part], Clip]

    def clips(self) -> Iterator[tuple[Part, Clip]]:
        for part in self.parts:
            clip = self.fetch(part)
            self.aws_calls += clip.aws_calls
            yield part, clip

    def period(self, part: Part) -> tuple[datetime, datetime]:
        """The period a part covers, in the zone the period was asked in."""
        return (self.start if part.index == 0 else instant(part.start_ms, self.start),
                self.end if part.index == len(self.parts) - 1 else instant(part.end_ms, self.end))


def check_period(start: datetime, end: datetime, field_name: str) -> None:
    """What KVS would refuse as InvalidArgumentException, refused before spending a call."""
    for t in (start, end):
        # A naive instant would be read in the server's zone, which is neither China's nor UTC.
        if t.tzinfo is None or t.utcoffset() is None:
            raise InvalidInput(f"{t.isoformat()} has no time zone", field=field_name)
    if end <= start:
        raise InvalidInput("the period must end after it starts", field=field_name)
    if end - start > LONGEST_CLIP:
        raise InvalidInput("a clip covers at most 24 hours", field=field_name)


def _no_footage(start: datetime, end: datetime, field_name: str):
    return Unprocessable(f"the camera of this window recorded nothing between "
                         f"{start.isoformat()} and {end.isoformat()}", field=field_name)


def _unknown_window(stream_name: str, field_name: str):
    return NotFound(f"no camera stream {stream_name!r} for this window", field=field_name)


def _data_client(endpoint: str):
    """One archived-media client per data endpoint and process, built on first use."""
    return aws.client("kinesis-video-archived-media", endpoint_url=endpoint)


def reset() -> None:
    """Forget the clients (tests that move the endpoint)."""
    aws.reset()


def _attempts(response: dict) -> int:
    return 1 + response.get("ResponseMetadata", {}).get("RetryAttempts", 0)


class KinesisVideoCameras:
    def __init__(self, control=None, data_client=None, selector: str = SELECTOR):
        # Both injectable for botocore Stubber tests; by default built lazily, endpoint and
        # credentials from the environment (AWS_ENDPOINT_URL locally) as every other client.
        self._control = control
        self._data = data_client or _data_client
        self.selector = selector

    @property
    def control(self):
        return self._control or aws.client("kinesisvideo")

    def clip(self, stream_name: str, start: datetime, end: datetime, *,
             window_field: str = "window", period_field: str = "visited_at") -> Clip:
        """One GetClip of [start, end]: what KVS returns of it, at most its first 200
        fragments or 100 MB."""
        check_period(start, end, period_field)
        endpoint, calls = self._endpoint(stream_name, "GET_CLIP", window_field)
        clip = self._get_clip(endpoint, stream_name, start, end, window_field, period_field)
        return Clip(clip.content, clip.content_type, calls + clip.aws_calls)

    def footage(self, stream_name: str, start: datetime, end: datetime, *,
                window_field: str = "window", period_field: str = "visited_at") -> Footage:
        """Every fragment recorded in [start, end], as parts each one GetClip returns whole.
        The listing is done here (an unknown window or a period without footage is refused
        before anything is fetched); the clips are fetched by `Footage.clips()`."""
        from botocore.exceptions import ClientError

        check_period(start, end, period_field)
        endpoint, calls = self._endpoint(stream_name, "LIST_FRAGMENTS", window_field)
        timestamp = "ServerTimestamp" if self.selector == "SERVER_TIMESTAMP" \
            else "ProducerTimestamp"
        pages = self._data(endpoint).get_paginator("list_fragments").paginate(
            StreamName=stream_name, FragmentSelector={
                "FragmentSelectorType": self.selector,
                "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end}},
            PaginationConfig={"PageSize": LIST_PAGE})
        fragments: list[Fragment] = []
        try:
            for page in pages:
                calls += _attempts(page)
                fragments += [Fragment(ms(f[timestamp]), f.get("FragmentSizeInBytes", 0),
                                       f.get("FragmentLengthInMilliseconds", 0))
                              for f in page.get("Fragments", [])]
        except ClientError as error:
            _refuse(error, start, end, window_field, period_field)
            raise
        parts = plan(fragments, ms(start), ms(end))
        if not parts:
            raise _no_footage(start, end, period_field)
        clip_endpoint: list[str] = []

        def fetch(part: Part) -> Clip:
            asked = 0
            if not clip_endpoint:
                found, asked = self._endpoint(stream_name, "GET_CLIP", window_field)
                clip_endpoint.append(found)
            clip = self._get_clip(clip_endpoint[0], stream_name, instant(part.first_ms, start),
                                  instant(part.last_ms, start), window_field, period_field)
            return Clip(clip.content, clip.content_type, asked + clip.aws_calls)
        return Footage(stream_name, start, end, parts, calls, fetch)

    def _endpoint(self, stream_name: str, api_name: str, window_field: str) -> tuple[str, int]:
        from botocore.exceptions import ClientError

        if not stream_name:
            raise _unknown_window(stream_name, window_field)
        try:
            found = self.control.get_data_endpoint(StreamName=stream_name, APIName=api_name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                raise _unknown_window(stream_name, window_field) from error
            raise
        return found["DataEndpoint"], _attempts(found)

    def _get_clip(self, endpoint: str, stream_name: str, start: datetime, end: datetime,
                  window_field: str, period_field: str) -> Clip:
        from botocore.exceptions import ClientError

        try:
            answer = self._data(endpoint).get_clip(
                StreamName=stream_name, ClipFragmentSelector={
                    "FragmentSelectorType": self.selector,
                    "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end}})
        except ClientError as error:
            _refuse(error, start, end, window_field, period_field)
            raise
        payload = answer["Payload"]
        try:
            content = payload.read()
        finally:
            payload.close()
        return Clip(content, answer.get("ContentType") or CONTENT_TYPE, _attempts(answer))


def _refuse(error, start: datetime, end: datetime, window_field: str,
            period_field: str) -> None:
    """Raises KVS's refusal of a data-plane call as the domain error naming the caller's
    field; returns on a fault that is not the caller's (it stays the AWS error)."""
    code = error.response["Error"]["Code"]
    # The stream was just found, so "not found" here is KVS's "No fragments found":
    # nothing was recorded in the range.
    if code == "ResourceNotFoundException":
        raise _no_footage(start, end, period_field) from error
    if code == "NoDataRetentionException":
        raise Unprocessable("the camera of this window keeps no recordings",
                            field=window_field) from error
    if code == "InvalidArgumentException":
        raise InvalidInput(error.response["Error"].get("Message") or "invalid period",
                           field=period_field) from error


# Synthetic footage, for the in-memory cameras and the local stack's camera archive: real video
# cannot exist offline. It has GetClip's shape: fragments on a fixed grid, only those starting
# inside the period (KVS includes a fragment by its start, both ends of the range inclusive),
# at most the first 200 or 100 MB (`in_one_clip`), the bytes a deterministic function of stream
# and fragment, so the same clip asked twice is the same evidence with the same SHA-256.
FRAGMENT_SECONDS = 2           # the KVS producer SDK's usual fragment duration
FRAGMENT_BYTES = 1024          # scaled down: a real 2 s fragment of 720p H.264 is 250-500 KB
MAX_FRAGMENTS = CLIP_FRAGMENTS  # GetClip returns the first 200 fragments (or 100 MB)


def _ms(t: datetime | int) -> int:
    return t if isinstance(t, int) else round(t.timestamp() * 1000)


def fragment_starts(spans, start: datetime | int, end: datetime | int,
                    limit: int | None = MAX_FRAGMENTS) -> list[int]:
    """Start instants (ms since the epoch) of the recorded fragments starting in [start, end]:
    on the FRAGMENT_SECONDS grid, inside one of `spans` ([from, to) pairs), at most `limit`
    (None: all of them, as ListFragments lists them). Instants are aware datetimes or ms."""
    step = FRAGMENT_SECONDS * 1000
    low, high = _ms(start), _ms(end)
    merged: list[list[int]] = []
    for a, b in sorted((_ms(a), _ms(b)) for a, b in spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        elif a < b:
            merged.append([a, b])
    out: list[int] = []
    for a, b in merged:
        first, last = max(a, low), min(b - 1, high)
        t = -(-first // step) * step
        while t <= last and (limit is None or len(out) < limit):
            out.append(t)
            t += step
    return out


def synthetic_fragments(starts: list[int]) -> list[Fragment]:
    """The synthetic fragments as ListFragments describes them."""
    return [Fragment(t, FRAGMENT_BYTES, FRAGMENT_SECONDS * 1000) for t in starts]


def synthetic_clip(stream_name: str, spans, start: datetime | int,
                   end: datetime | int) -> list[int]:
    """The fragments (their starts) one GetClip of [start, end] returns: the first ones,
    within 200 fragments and 100 MB."""
    listed = synthetic_fragments(fragment_starts(spans, start, end, limit=None))
    return [f.start_ms for f in in_one_clip(listed, CLIP_FRAGMENTS, CLIP_BYTES)]


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def synthetic_mp4(stream_name: str, fragments: list[int]) -> bytes:
    """An MP4-shaped payload: ftyp, a `free` box saying what it is, and the fragments in mdat."""
    about = json.dumps({"synthetic": "local camera archive, not real footage",
                        "stream": stream_name, "fragments": len(fragments),
                        "first": fragments[0] if fragments else None,
                        "last": fragments[-1] if fragments else None}).encode()
    media = b"".join(hashlib.shake_256(f"{stream_name}@{t}".encode()).digest(FRAGMENT_BYTES)
                     for t in fragments)
    return (_box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
            + _box(b"free", about) + _box(b"mdat", media))


@dataclass
class MemoryCameras:
    """In memory, for tests of the service layer: each stream's footage as time ranges. A clip
    of a covered period is synthetic but deterministic; otherwise the same domain errors as
    KinesisVideoCameras. Makes no AWS calls (aws_calls == 0); keeps the periods it was asked
    for (`requests`: a clip or a footage) and each GetClip range (`clips_asked`)."""
    footage_of: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    requests: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    clips_asked: list[tuple[str, datetime, datetime]] = field(default_factory=list)

    def add_stream(self, stream_name: str) -> None:
        self.footage_of.setdefault(stream_name, [])

    def record(self, stream_name: str, start: datetime, end: datetime) -> None:
        if start.utcoffset() is None or end.utcoffset() is None or end <= start:
            raise ValueError(f"footage needs aware instants, end after start: {start}, {end}")
        self.footage_of.setdefault(stream_name, []).append((start, end))

    def clip(self, stream_name: str, start: datetime, end: datetime, *,
             window_field: str = "window", period_field: str = "visited_at") -> Clip:
        check_period(start, end, period_field)
        self.requests.append((stream_name, start, end))
        if stream_name not in self.footage_of:
            raise _unknown_window(stream_name, window_field)
        return self._get_clip(stream_name, start, end, period_field)

    def footage(self, stream_name: str, start: datetime, end: datetime, *,
                window_field: str = "window", period_field: str = "visited_at") -> Footage:
        check_period(start, end, period_field)
        self.requests.append((stream_name, start, end))
        if stream_name not in self.footage_of:
            raise _unknown_window(stream_name, window_field)
        listed = synthetic_fragments(fragment_starts(self.footage_of[stream_name], start, end,
                                                     limit=None))
        parts = plan(listed, ms(start), ms(end))
        if not parts:
            raise _no_footage(start, end, period_field)
        return Footage(stream_name, start, end, parts, 0, lambda part: self._get_clip(
            stream_name, instant(part.first_ms, start), instant(part.last_ms, start),
            period_field))

    def _get_clip(self, stream_name: str, start: datetime, end: datetime,
                  period_field: str) -> Clip:
        self.clips_asked.append((stream_name, start, end))
        fragments = synthetic_clip(stream_name, self.footage_of[stream_name], start, end)
        if not fragments:
            raise _no_footage(start, end, period_field)
        return Clip(synthetic_mp4(stream_name, fragments), CONTENT_TYPE, 0)
