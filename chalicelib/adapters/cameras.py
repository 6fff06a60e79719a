"""Window cameras: the clip a window's camera recorded over a period, from Kinesis Video Streams.

A clip costs exactly two calls: GetDataEndpoint (GET_CLIP) on the control plane, then GetClip
on the data endpoint it names. KVS answers GetClip only there, and the endpoint is the stream's,
so it is asked each time rather than guessed. What KVS refuses becomes a domain error naming
the field the caller got wrong: an unknown stream is an unknown window, a period in which the
camera recorded nothing is a period the complaint cannot be proved with."""
from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from ..domain.errors import InvalidInput, NotFound, Unprocessable
from . import aws

# Producer timestamps are the camera's own clock at capture: the instant the visit happened.
# Server timestamps are when KVS received a fragment, which drifts from the visit whenever the
# camera buffers through a network outage and uploads late, exactly when a complaint is likely
# to be contested. The cameras keep their clocks by NTP, which makes the producer clock the
# better witness; SERVER_TIMESTAMP would also refuse any period reaching into the future.
SELECTOR = "PRODUCER_TIMESTAMP"
LONGEST_CLIP = timedelta(hours=24)   # GetClip refuses a longer range
CONTENT_TYPE = "video/mp4"           # what GetClip returns: a traditional MP4 file


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
        from botocore.exceptions import ClientError

        check_period(start, end, period_field)
        if not stream_name:
            raise _unknown_window(stream_name, window_field)
        try:
            found = self.control.get_data_endpoint(StreamName=stream_name, APIName="GET_CLIP")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                raise _unknown_window(stream_name, window_field) from error
            raise
        calls = _attempts(found)
        try:
            answer = self._data(found["DataEndpoint"]).get_clip(
                StreamName=stream_name, ClipFragmentSelector={
                    "FragmentSelectorType": self.selector,
                    "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end}})
        except ClientError as error:
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
            raise
        payload = answer["Payload"]
        try:
            content = payload.read()
        finally:
            payload.close()
        return Clip(content, answer.get("ContentType") or CONTENT_TYPE,
                    calls + _attempts(answer))


# Synthetic footage, for the in-memory cameras and the local stack's camera archive: real video
# cannot exist offline. It has GetClip's shape: fragments on a fixed grid, only those starting
# inside the period (KVS includes a fragment by its start, both ends of the range inclusive),
# at most the first 200, the bytes a deterministic function of stream and fragment, so the same
# clip asked twice is the same evidence with the same SHA-256.
FRAGMENT_SECONDS = 2           # the KVS producer SDK's usual fragment duration
FRAGMENT_BYTES = 1024          # scaled down: a real 2 s fragment of 720p H.264 is 250-500 KB
MAX_FRAGMENTS = 200            # GetClip returns the first 200 fragments (or 100 MB)


def _ms(t: datetime | int) -> int:
    return t if isinstance(t, int) else round(t.timestamp() * 1000)


def fragment_starts(spans, start: datetime | int, end: datetime | int,
                    limit: int = MAX_FRAGMENTS) -> list[int]:
    """Start instants (ms since the epoch) of the recorded fragments a clip of [start, end]
    holds: on the FRAGMENT_SECONDS grid, inside one of `spans` ([from, to) pairs), at most
    `limit`. Instants are aware datetimes or ms since the epoch."""
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
        while t <= last and len(out) < limit:
            out.append(t)
            t += step
    return out


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
    KinesisVideoCameras. Makes no AWS calls (aws_calls == 0) and keeps what it was asked."""
    footage: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    requests: list[tuple[str, datetime, datetime]] = field(default_factory=list)

    def add_stream(self, stream_name: str) -> None:
        self.footage.setdefault(stream_name, [])

    def record(self, stream_name: str, start: datetime, end: datetime) -> None:
        if start.utcoffset() is None or end.utcoffset() is None or end <= start:
            raise ValueError(f"footage needs aware instants, end after start: {start}, {end}")
        self.footage.setdefault(stream_name, []).append((start, end))

    def clip(self, stream_name: str, start: datetime, end: datetime, *,
             window_field: str = "window", period_field: str = "visited_at") -> Clip:
        check_period(start, end, period_field)
        self.requests.append((stream_name, start, end))
        if stream_name not in self.footage:
            raise _unknown_window(stream_name, window_field)
        fragments = fragment_starts(self.footage[stream_name], start, end)
        if not fragments:
            raise _no_footage(start, end, period_field)
        return Clip(synthetic_mp4(stream_name, fragments), CONTENT_TYPE, 0)
