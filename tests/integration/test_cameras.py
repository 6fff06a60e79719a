"""The local camera archive answers as Kinesis Video Streams does, through the real adapter:
GetDataEndpoint names the local server, GetClip there returns a clip for a period the camera
recorded and KVS's own error for one it did not, and that error reaches the service as a
domain error naming the field."""
import socket
from datetime import date, datetime, time, timedelta, timezone

import boto3
import pytest
import requests

from chalicelib.adapters import aws, cameras
from chalicelib.adapters.cameras import Clip, KinesisVideoCameras
from chalicelib.domain.cases import CHINA_TIME
from chalicelib.domain.clock import ChinaWorkingCalendar
from chalicelib.domain.errors import InvalidInput, NotFound, Unprocessable
from local.cameras import CLIP_NOT_FOUND, declare_recorded, provision_cameras, record

REGION = "us-east-1"
STREAMS = ["bz-a01", "bz-a02", "bzqc-a01"]


@pytest.fixture(scope="module")
def endpoint():
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", url)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        env.delenv("AWS_PROFILE", raising=False)
        aws.reset()
        cameras.reset()
        provision_cameras(url, REGION, STREAMS)
        yield url
        aws.reset()
        cameras.reset()
    server.stop()


@pytest.fixture
def sent():
    """Every HTTP request botocore sends from clients built from now on."""
    aws.reset()
    cameras.reset()
    requests_sent = []
    events = boto3._get_default_session().events
    counter = lambda request, **_: requests_sent.append(request.url)  # noqa: E731
    events.register("before-send", counter)
    yield requests_sent
    events.unregister("before-send", counter)
    aws.reset()
    cameras.reset()


def china(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CHINA_TIME)


def last_day(working: bool) -> date:
    """The most recent day before today that is (not) a working day at the hall."""
    calendar, day = ChinaWorkingCalendar(), datetime.now(CHINA_TIME).date() - timedelta(days=1)
    while calendar.is_working_day(day) != working:
        day -= timedelta(days=1)
    return day


def test_a_recorded_period_gives_a_clip_in_two_calls(endpoint, sent):
    visit = china(last_day(working=True), 9, 30)
    clip = KinesisVideoCameras().clip("bz-a01", visit, visit + timedelta(minutes=2))
    assert isinstance(clip, Clip)
    assert clip.content_type == "video/mp4"
    assert clip.content[4:8] == b"ftyp" and b"mdat" in clip.content
    assert clip.size == len(clip.content) > 61 * 1024   # 61 fragments of 2 s
    assert clip.aws_calls == 2
    assert [url.rsplit("/", 1)[1] for url in sent] == ["getDataEndpoint", "getClip"]
    assert all(url.startswith(endpoint) for url in sent)   # the data endpoint is the server
    again = KinesisVideoCameras().clip("bz-a01", visit, visit + timedelta(minutes=2))
    assert again.sha256 == clip.sha256


def test_the_data_endpoint_is_the_local_server(endpoint):
    kvs = boto3.client("kinesisvideo", endpoint_url=endpoint, region_name=REGION)
    named = kvs.get_data_endpoint(StreamName="bz-a02", APIName="GET_CLIP")["DataEndpoint"]
    assert named == endpoint


def test_kvs_refuses_an_unrecorded_period_with_its_own_error(endpoint):
    night = china(last_day(working=True), 3)
    archived = boto3.client("kinesis-video-archived-media", endpoint_url=endpoint,
                            region_name=REGION)
    with pytest.raises(archived.exceptions.ResourceNotFoundException) as refused:
        archived.get_clip(StreamName="bz-a01", ClipFragmentSelector={
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": night,
                               "EndTimestamp": night + timedelta(minutes=5)}})
    assert refused.value.response["Error"]["Message"] == CLIP_NOT_FOUND
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize("when", ["night", "lunch", "day_off", "future", "expired"])
def test_an_unrecorded_period_is_refused_as_no_footage(endpoint, sent, when):
    working = last_day(working=True)
    start = {"night": china(working, 3), "lunch": china(working, 12, 30),
             "day_off": china(last_day(working=False), 9, 30),
             "future": datetime.now(timezone.utc) + timedelta(minutes=1),
             "expired": china(working, 9, 30) - timedelta(days=120)}[when]
    with pytest.raises(Unprocessable) as refused:
        KinesisVideoCameras().clip("bz-a02", start, start + timedelta(minutes=10))
    assert refused.value.field == "visited_at"
    assert len(sent) == 2


def test_an_unknown_stream_is_an_unknown_window(endpoint, sent):
    visit = china(last_day(working=True), 9, 30)
    with pytest.raises(NotFound) as refused:
        KinesisVideoCameras().clip("bz-z99", visit, visit + timedelta(minutes=5))
    assert refused.value.field == "window"
    assert [url.rsplit("/", 1)[1] for url in sent] == ["getDataEndpoint"]


def test_declared_periods_are_recorded_in_process_and_over_http(endpoint):
    night = china(last_day(working=True), 2)
    adapter = KinesisVideoCameras()
    with pytest.raises(Unprocessable):
        adapter.clip("bzqc-a01", night, night + timedelta(minutes=1))
    record("bzqc-a01", night, night + timedelta(minutes=30))
    assert adapter.clip("bzqc-a01", night, night + timedelta(minutes=1)).size > 0
    sunday = china(last_day(working=False), 20)
    declare_recorded(endpoint, "bz-a02", sunday, sunday + timedelta(hours=1))
    assert adapter.clip("bz-a02", sunday, sunday + timedelta(minutes=1)).size > 0
    with pytest.raises(Unprocessable):   # the other cameras did not record then
        adapter.clip("bz-a01", sunday, sunday + timedelta(minutes=1))
    refused = requests.post(endpoint + "/_local/cameras/footage", timeout=10,
                            json={"stream": "bz-a02", "start": "2026-01-01T00:00:00"})
    assert refused.status_code == 400


def test_a_short_retention_loses_older_footage(endpoint):
    kvs = boto3.client("kinesisvideo", endpoint_url=endpoint, region_name=REGION)
    kvs.create_stream(StreamName="short-memory", DataRetentionInHours=1)
    now = datetime.now(timezone.utc)
    record("short-memory", now - timedelta(hours=3), now)
    adapter = KinesisVideoCameras()
    assert adapter.clip("short-memory", now - timedelta(minutes=30),
                        now - timedelta(minutes=29)).size > 0
    with pytest.raises(Unprocessable):
        adapter.clip("short-memory", now - timedelta(hours=2), now - timedelta(hours=1))


def test_a_stream_without_retention_keeps_nothing(endpoint):
    kvs = boto3.client("kinesisvideo", endpoint_url=endpoint, region_name=REGION)
    kvs.create_stream(StreamName="live-only")
    now = datetime.now(timezone.utc)
    record("live-only", now - timedelta(hours=1), now)
    with pytest.raises(Unprocessable) as refused:
        KinesisVideoCameras().clip("live-only", now - timedelta(minutes=5),
                                   now - timedelta(minutes=4))
    assert refused.value.field == "window"


def test_server_timestamps_cannot_reach_into_the_future(endpoint):
    soon = datetime.now(timezone.utc) - timedelta(minutes=1)
    with pytest.raises(InvalidInput) as refused:
        KinesisVideoCameras(selector="SERVER_TIMESTAMP").clip(
            "bz-a01", soon, soon + timedelta(minutes=5))
    assert refused.value.field == "visited_at"


# --- footage longer than one clip ------------------------------------------------------------

def about(mp4: bytes) -> dict:
    """The synthetic clip's own account of its fragments (its `free` box)."""
    import json
    import struct

    at = 0
    while at < len(mp4):
        size, kind = struct.unpack(">I4s", mp4[at:at + 8])
        if kind == b"free":
            return json.loads(mp4[at + 8:at + size])
        at += size
    raise AssertionError("no free box")


def test_getclip_returns_only_the_first_200_fragments_of_a_long_range(endpoint):
    start = china(last_day(working=True), 9)
    archived = boto3.client("kinesis-video-archived-media", endpoint_url=endpoint,
                            region_name=REGION)
    clip = archived.get_clip(StreamName="bz-a01", ClipFragmentSelector={
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": start,
                           "EndTimestamp": start + timedelta(minutes=30)}})["Payload"].read()
    told = about(clip)
    assert told["fragments"] == 200
    assert told["first"] == round(start.timestamp() * 1000)
    assert told["last"] == told["first"] + 199 * 2000          # 6 min 38 s in, not 30 min


def test_list_fragments_pages_through_botocores_paginator(endpoint):
    start = china(last_day(working=True), 9)
    archived = boto3.client("kinesis-video-archived-media", endpoint_url=endpoint,
                            region_name=REGION)
    paginator = archived.get_paginator("list_fragments")
    asked = {"StreamName": "bz-a01", "FragmentSelector": {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": start,
                           "EndTimestamp": start + timedelta(minutes=30)}}}
    pages = list(paginator.paginate(**asked, PaginationConfig={"PageSize": 250}))
    assert [len(p["Fragments"]) for p in pages] == [250, 250, 250, 151]
    assert all("NextToken" in p for p in pages[:-1]) and "NextToken" not in pages[-1]
    fragments = [f for p in pages for f in p["Fragments"]]
    starts = [f["ProducerTimestamp"] for f in fragments]
    assert starts[0] == start and starts[-1] == start + timedelta(minutes=30)
    assert all(b - a == timedelta(seconds=2) for a, b in zip(starts, starts[1:]))
    assert {f["FragmentLengthInMilliseconds"] for f in fragments} == {2000}
    assert len({f["FragmentNumber"] for f in fragments}) == 901
    whole = list(paginator.paginate(**asked))                  # one page of up to 1000
    assert [len(p["Fragments"]) for p in whole] == [901]
    night = china(last_day(working=True), 3)
    empty = archived.list_fragments(StreamName="bz-a01", FragmentSelector={
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": night, "EndTimestamp": night + timedelta(hours=1)}})
    assert empty["Fragments"] == []
    with pytest.raises(archived.exceptions.InvalidArgumentException):
        archived.list_fragments(StreamName="bz-a01", NextToken="not-a-token")


def test_a_30_minute_footage_is_every_part_end_to_end_through_the_adapter(endpoint, sent):
    import hashlib

    start = china(last_day(working=True), 9, 10)
    end = start + timedelta(minutes=30)
    footage = KinesisVideoCameras().footage("bz-a01", start, end, period_field="start")
    parts = [(part, clip, footage.period(part)) for part, clip in footage.clips()]
    told = [about(clip.content) for _, clip, _ in parts]
    assert [t["fragments"] for t in told] == [200, 200, 200, 200, 101]
    # No fragment lost or doubled: each part starts 2 s after the previous one ended.
    assert told[0]["first"] == round(start.timestamp() * 1000)
    assert all(b["first"] - a["last"] == 2000 for a, b in zip(told, told[1:]))
    assert told[-1]["last"] == round(end.timestamp() * 1000)
    periods = [period for _, _, period in parts]
    assert periods[0][0] == start and periods[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(periods, periods[1:]))
    assert len({hashlib.sha256(clip.content).hexdigest() for _, clip, _ in parts}) == 5
    assert [url.rsplit("/", 1)[1] for url in sent] == \
        ["getDataEndpoint", "listFragments", "getDataEndpoint"] + ["getClip"] * 5
    assert footage.aws_calls == 8
