"""Window cameras: the in-memory fake the service tests use, and how the Kinesis Video adapter
turns KVS's answers into clips and domain errors (botocore Stubber, no network)."""
import hashlib
import io
import struct
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from chalicelib.adapters import cameras
from chalicelib.adapters.cameras import (FRAGMENT_BYTES, MAX_FRAGMENTS, Clip,
                                         KinesisVideoCameras, MemoryCameras, fragment_starts)
from chalicelib.domain.errors import InvalidInput, NotFound, Unprocessable

CHINA = timezone(timedelta(hours=8))
OPENS = datetime(2026, 3, 2, 8, 30, tzinfo=CHINA)      # a Monday morning at the hall
CLOSES = datetime(2026, 3, 2, 12, 0, tzinfo=CHINA)
VISIT = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA)
DATA_ENDPOINT = "https://b-1234abcd.kinesisvideo.cn-north-1.amazonaws.com.cn"


def boxes(mp4: bytes) -> dict[bytes, bytes]:
    out, at = {}, 0
    while at < len(mp4):
        size, kind = struct.unpack(">I4s", mp4[at:at + 8])
        out[kind] = mp4[at + 8:at + size]
        at += size
    assert at == len(mp4)
    return out


# --- the in-memory cameras -------------------------------------------------------------

@pytest.fixture
def memory():
    fake = MemoryCameras()
    fake.record("bz-a01", OPENS, CLOSES)
    fake.add_stream("bz-a02")   # a camera that recorded nothing
    return fake


def test_a_recorded_period_gives_a_deterministic_mp4_clip(memory):
    clip = memory.clip("bz-a01", VISIT, VISIT + timedelta(minutes=1))
    assert isinstance(clip, Clip)
    assert (clip.content_type, clip.aws_calls) == ("video/mp4", 0)
    parts = boxes(clip.content)
    assert list(parts) == [b"ftyp", b"free", b"mdat"]
    assert parts[b"ftyp"].startswith(b"isom")
    # Fragments every 2 s starting inside [start, end], both ends inclusive: 31 in a minute.
    assert len(parts[b"mdat"]) == 31 * FRAGMENT_BYTES
    assert clip.size == len(clip.content)
    assert clip.sha256 == hashlib.sha256(clip.content).hexdigest()
    again = memory.clip("bz-a01", VISIT, VISIT + timedelta(minutes=1))
    assert again.content == clip.content
    other = MemoryCameras({"bz-a03": [(OPENS, CLOSES)]})
    assert other.clip("bz-a03", VISIT, VISIT + timedelta(minutes=1)).sha256 != clip.sha256


def test_a_period_partly_recorded_holds_only_the_recorded_fragments(memory):
    clip = memory.clip("bz-a01", CLOSES - timedelta(seconds=10), CLOSES + timedelta(hours=1))
    assert len(boxes(clip.content)[b"mdat"]) == 5 * FRAGMENT_BYTES


def test_a_long_period_stops_at_getclips_200_fragments(memory):
    clip = memory.clip("bz-a01", OPENS, CLOSES)
    assert len(boxes(clip.content)[b"mdat"]) == MAX_FRAGMENTS * FRAGMENT_BYTES


def test_a_period_with_no_footage_is_refused_naming_the_visit(memory):
    night = datetime(2026, 3, 2, 3, 0, tzinfo=CHINA)
    with pytest.raises(Unprocessable) as refused:
        memory.clip("bz-a01", night, night + timedelta(minutes=5))
    assert refused.value.field == "visited_at"
    with pytest.raises(Unprocessable):
        memory.clip("bz-a02", VISIT, VISIT + timedelta(minutes=5))


def test_an_unknown_stream_is_an_unknown_window(memory):
    with pytest.raises(NotFound) as refused:
        memory.clip("bz-z99", VISIT, VISIT + timedelta(minutes=5))
    assert refused.value.field == "window"


def test_the_caller_names_its_own_fields(memory):
    with pytest.raises(NotFound) as unknown:
        memory.clip("bz-z99", VISIT, VISIT + timedelta(minutes=5), window_field="window_code")
    assert unknown.value.field == "window_code"
    night = datetime(2026, 3, 2, 3, 0, tzinfo=CHINA)
    with pytest.raises(Unprocessable) as empty:
        memory.clip("bz-a01", night, night + timedelta(minutes=5), period_field="start")
    assert empty.value.field == "start"


@pytest.mark.parametrize("start, end", [
    (VISIT, VISIT),                                   # empty
    (VISIT, VISIT - timedelta(minutes=1)),            # backwards
    (VISIT, VISIT + timedelta(hours=24, seconds=1)),  # longer than GetClip allows
    (VISIT.replace(tzinfo=None), VISIT.replace(tzinfo=None) + timedelta(minutes=1)),  # naive
])
def test_a_malformed_period_is_invalid_input(memory, start, end):
    with pytest.raises(InvalidInput) as refused:
        memory.clip("bz-a01", start, end)
    assert refused.value.field == "visited_at"


def test_the_fake_keeps_what_it_was_asked(memory):
    memory.clip("bz-a01", VISIT, VISIT + timedelta(minutes=1))
    assert memory.requests == [("bz-a01", VISIT, VISIT + timedelta(minutes=1))]


def test_fragments_are_counted_by_their_start_and_overlapping_footage_once():
    at = datetime(2026, 3, 2, 9, 0, 1, tzinfo=CHINA)    # mid-fragment: that fragment is out
    spans = [(OPENS, CLOSES), (VISIT, VISIT + timedelta(minutes=1))]
    starts = fragment_starts(spans, at, at + timedelta(seconds=9))
    first = round(VISIT.timestamp() * 1000) + 2000
    assert starts == [first, first + 2000, first + 4000, first + 6000, first + 8000]


# --- the Kinesis Video Streams adapter ---------------------------------------------------

def client(service):
    return boto3.client(service, region_name="cn-north-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        endpoint_url=DATA_ENDPOINT if "archived" in service else None)


class Kvs:
    def __init__(self):
        self.control, self.data = client("kinesisvideo"), client("kinesis-video-archived-media")
        self.control_stub, self.data_stub = Stubber(self.control), Stubber(self.data)
        self.endpoints = []

    def data_client(self, endpoint):
        self.endpoints.append(endpoint)
        return self.data

    def endpoint(self, stream="bz-a01"):
        self.control_stub.add_response(
            "get_data_endpoint", {"DataEndpoint": DATA_ENDPOINT},
            {"StreamName": stream, "APIName": "GET_CLIP"})

    def clip(self, payload=b"\x00\x00\x00\x08ftyp", stream="bz-a01", start=VISIT,
             end=VISIT + timedelta(minutes=5), selector="PRODUCER_TIMESTAMP"):
        self.data_stub.add_response(
            "get_clip", {"ContentType": "video/mp4",
                         "Payload": StreamingBody(io.BytesIO(payload), len(payload))},
            {"StreamName": stream, "ClipFragmentSelector": {
                "FragmentSelectorType": selector,
                "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end}}})

    def error(self, stub, operation, code, message, status=400):
        stub.add_client_error(operation, service_error_code=code, service_message=message,
                              http_status_code=status)

    def __enter__(self):
        self.control_stub.activate()
        self.data_stub.activate()
        return self

    def __exit__(self, *exc):
        self.control_stub.deactivate()
        self.data_stub.deactivate()


@pytest.fixture
def kvs():
    with Kvs() as stubbed:
        yield stubbed
    stubbed.control_stub.assert_no_pending_responses()
    stubbed.data_stub.assert_no_pending_responses()


@pytest.fixture
def adapter(kvs):
    return KinesisVideoCameras(control=kvs.control, data_client=kvs.data_client)


def test_a_clip_is_get_data_endpoint_then_get_clip_on_that_endpoint(kvs, adapter):
    kvs.endpoint()
    kvs.clip(payload=b"recorded-bytes")
    clip = adapter.clip("bz-a01", VISIT, VISIT + timedelta(minutes=5))
    assert clip == Clip(b"recorded-bytes", "video/mp4", 2)
    assert kvs.endpoints == [DATA_ENDPOINT]


def test_server_timestamps_can_be_chosen(kvs):
    kvs.endpoint()
    kvs.clip(selector="SERVER_TIMESTAMP")
    KinesisVideoCameras(control=kvs.control, data_client=kvs.data_client,
                        selector="SERVER_TIMESTAMP").clip("bz-a01", VISIT,
                                                          VISIT + timedelta(minutes=5))


def test_an_unknown_stream_is_an_unknown_window_without_asking_for_a_clip(kvs, adapter):
    kvs.error(kvs.control_stub, "get_data_endpoint", "ResourceNotFoundException",
              "The requested stream is not found or not active.", 404)
    with pytest.raises(NotFound) as refused:
        adapter.clip("bz-z99", VISIT, VISIT + timedelta(minutes=5))
    assert refused.value.field == "window"
    assert kvs.endpoints == []


def test_no_fragments_in_the_period_is_a_period_without_footage(kvs, adapter):
    kvs.endpoint()
    kvs.error(kvs.data_stub, "get_clip", "ResourceNotFoundException",
              "No fragments found in the stream for the clip request.", 404)
    with pytest.raises(Unprocessable) as refused:
        adapter.clip("bz-a01", VISIT, VISIT + timedelta(minutes=5), period_field="start")
    assert refused.value.field == "start"
    assert isinstance(refused.value.__cause__, ClientError)


def test_a_camera_that_keeps_nothing_is_the_windows_problem(kvs, adapter):
    kvs.endpoint()
    kvs.error(kvs.data_stub, "get_clip", "NoDataRetentionException", "no retention")
    with pytest.raises(Unprocessable) as refused:
        adapter.clip("bz-a01", VISIT, VISIT + timedelta(minutes=5))
    assert refused.value.field == "window"


def test_a_range_kvs_refuses_is_invalid_input(kvs, adapter):
    kvs.endpoint()
    kvs.error(kvs.data_stub, "get_clip", "InvalidArgumentException",
              "EndTimestamp must be in the past.")
    with pytest.raises(InvalidInput) as refused:
        adapter.clip("bz-a01", VISIT, VISIT + timedelta(minutes=5))
    assert refused.value.field == "visited_at"
    assert "in the past" in refused.value.message


@pytest.mark.parametrize("code", ["ClientLimitExceededException", "NotAuthorizedException",
                                  "InvalidCodecPrivateDataException"])
def test_faults_that_are_not_the_callers_stay_aws_errors(kvs, adapter, code):
    kvs.endpoint()
    kvs.error(kvs.data_stub, "get_clip", code, "no")
    with pytest.raises(ClientError) as failed:
        adapter.clip("bz-a01", VISIT, VISIT + timedelta(minutes=5))
    assert failed.value.response["Error"]["Code"] == code


def test_a_malformed_period_costs_no_call(kvs, adapter):
    with pytest.raises(InvalidInput):
        adapter.clip("bz-a01", VISIT, VISIT + timedelta(hours=25))
    with pytest.raises(NotFound):
        adapter.clip("", VISIT, VISIT + timedelta(minutes=5))


def test_one_data_client_per_endpoint_built_on_first_use(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    cameras.reset()
    try:
        first = cameras._data_client(DATA_ENDPOINT)
        assert first.meta.endpoint_url == DATA_ENDPOINT
        assert first.meta.service_model.service_name == "kinesis-video-archived-media"
        assert cameras._data_client(DATA_ENDPOINT) is first
        assert cameras._data_client("http://127.0.0.1:5000") is not first
    finally:
        cameras.reset()


# --- footage longer than one clip: ListFragments pages, then one GetClip per part -----------

def listed(start, count, step_ms=2000, size=300_000):
    return [{"FragmentNumber": f"9134385233318{k:030d}", "FragmentSizeInBytes": size,
             "ProducerTimestamp": start + timedelta(milliseconds=k * step_ms),
             "ServerTimestamp": start + timedelta(milliseconds=k * step_ms + 2500),
             "FragmentLengthInMilliseconds": step_ms} for k in range(count)]


def selector(start, end, kind="PRODUCER_TIMESTAMP"):
    return {"FragmentSelectorType": kind,
            "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end}}


def test_footage_lists_page_by_page_then_gets_one_clip_per_part(kvs, adapter):
    start, end = VISIT, VISIT + timedelta(minutes=15)
    fragments = listed(start, 451)                       # every 2 s, both ends inclusive
    kvs.control_stub.add_response("get_data_endpoint", {"DataEndpoint": DATA_ENDPOINT},
                                  {"StreamName": "bz-a01", "APIName": "LIST_FRAGMENTS"})
    asked = {"StreamName": "bz-a01", "FragmentSelector": selector(start, end), "MaxResults": 1000}
    # KVS lists in no promised order: the second page holds the earliest fragments.
    kvs.data_stub.add_response("list_fragments", {"Fragments": fragments[150:],
                                                  "NextToken": "page-2"}, asked)
    kvs.data_stub.add_response("list_fragments", {"Fragments": fragments[:150]},
                               {**asked, "NextToken": "page-2"})
    footage = adapter.footage("bz-a01", start, end, period_field="start")
    assert [p.fragments for p in footage.parts] == [200, 200, 51]
    assert footage.aws_calls == 3                         # nothing fetched yet
    kvs.endpoint()
    ranges = [(0, 199), (200, 399), (400, 450)]
    for first, last in ranges:
        kvs.clip(payload=f"part {first}".encode(), start=fragments[first]["ProducerTimestamp"],
                 end=fragments[last]["ProducerTimestamp"])
    got = list(footage.clips())
    assert [clip.content for _, clip in got] == [b"part 0", b"part 200", b"part 400"]
    assert [footage.period(part) for part, _ in got] == [
        (start, start + timedelta(seconds=400)),
        (start + timedelta(seconds=400), start + timedelta(seconds=800)),
        (start + timedelta(seconds=800), end)]
    assert footage.aws_calls == 3 + 2 + 1 + 1             # the GET_CLIP endpoint asked once
    assert set(kvs.endpoints) == {DATA_ENDPOINT}               # each on the endpoint named


def test_footage_by_server_timestamps_plans_by_them(kvs):
    start, end = VISIT, VISIT + timedelta(minutes=1)
    fragments = listed(start - timedelta(seconds=2), 31)  # received 2.5 s after their start
    kvs.control_stub.add_response("get_data_endpoint", {"DataEndpoint": DATA_ENDPOINT},
                                  {"StreamName": "bz-a01", "APIName": "LIST_FRAGMENTS"})
    kvs.data_stub.add_response("list_fragments", {"Fragments": fragments}, {
        "StreamName": "bz-a01", "FragmentSelector": selector(start, end, "SERVER_TIMESTAMP"),
        "MaxResults": 1000})
    footage = KinesisVideoCameras(control=kvs.control, data_client=kvs.data_client,
                                  selector="SERVER_TIMESTAMP").footage("bz-a01", start, end)
    [part] = footage.parts
    assert part.first_ms == round((start + timedelta(milliseconds=500)).timestamp() * 1000)
    assert part.fragments == 30


def test_footage_without_fragments_is_a_period_without_footage_and_fetches_nothing(kvs,
                                                                                   adapter):
    start, end = VISIT, VISIT + timedelta(minutes=30)
    kvs.control_stub.add_response("get_data_endpoint", {"DataEndpoint": DATA_ENDPOINT},
                                  {"StreamName": "bz-a01", "APIName": "LIST_FRAGMENTS"})
    kvs.data_stub.add_response("list_fragments", {"Fragments": []}, {
        "StreamName": "bz-a01", "FragmentSelector": selector(start, end), "MaxResults": 1000})
    with pytest.raises(Unprocessable) as refused:
        adapter.footage("bz-a01", start, end, period_field="start")
    assert refused.value.field == "start"


def test_footage_of_an_unknown_stream_or_a_refused_range_names_the_field(kvs, adapter):
    kvs.error(kvs.control_stub, "get_data_endpoint", "ResourceNotFoundException",
              "The requested stream is not found or not active.", 404)
    with pytest.raises(NotFound) as unknown:
        adapter.footage("bz-z99", VISIT, VISIT + timedelta(minutes=30))
    assert unknown.value.field == "window"
    kvs.control_stub.add_response("get_data_endpoint", {"DataEndpoint": DATA_ENDPOINT},
                                  {"StreamName": "bz-a01", "APIName": "LIST_FRAGMENTS"})
    kvs.error(kvs.data_stub, "list_fragments", "InvalidArgumentException",
              "StartTimestamp must be before EndTimestamp.")
    with pytest.raises(InvalidInput) as refused:
        adapter.footage("bz-a01", VISIT, VISIT + timedelta(minutes=30), period_field="start")
    assert refused.value.field == "start"
    kvs.control_stub.add_response("get_data_endpoint", {"DataEndpoint": DATA_ENDPOINT},
                                  {"StreamName": "bz-a01", "APIName": "LIST_FRAGMENTS"})
    kvs.error(kvs.data_stub, "list_fragments", "ClientLimitExceededException", "slow down")
    with pytest.raises(ClientError):
        adapter.footage("bz-a01", VISIT, VISIT + timedelta(minutes=30))


def test_memory_footage_is_parts_of_getclips_size(memory):
    footage = memory.footage("bz-a01", OPENS, OPENS + timedelta(minutes=30))
    clips = [clip for _, clip in footage.clips()]
    assert [len(boxes(c.content)[b"mdat"]) // FRAGMENT_BYTES for c in clips] == \
        [200, 200, 200, 200, 101]
    assert len(memory.clips_asked) == 5 and memory.requests == [
        ("bz-a01", OPENS, OPENS + timedelta(minutes=30))]
    with pytest.raises(Unprocessable):
        memory.footage("bz-a02", VISIT, VISIT + timedelta(minutes=5))
    with pytest.raises(NotFound):
        memory.footage("bz-z99", VISIT, VISIT + timedelta(minutes=5))
