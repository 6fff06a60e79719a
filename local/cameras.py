"""The local stack's camera archive: Kinesis Video Streams as a complaint meets it.

moto creates streams and answers GetDataEndpoint, but not as KVS does for a client:
- the data endpoint it names is a made-up https://b-….kinesisvideo.….amazonaws.com, which does
  not resolve, so GetClip can never reach the local server;
- a GetClip sent to the server lands on the control-plane application (both sign as
  `kinesisvideo`, and moto picks the backend by signing name), which has no /getClip: 404;
- where GetClip does run (in-process mocks) it returns the same 16 bytes for any stream and
  period. It knows no footage, so it cannot refuse a period in which the camera recorded
  nothing, which real KVS does (ResourceNotFoundException, "No fragments found"), and which is
  precisely the answer a complaint about an unrecorded visit must get.

moto has no ListFragments at all (its archived-media application answers it as not implemented).

So, in the process that runs moto, GetDataEndpoint names the address the caller reached moto
at, the data-plane paths are routed to moto's archived-media application, and GetClip and
ListFragments answer from an archive: a camera records during the hall's opening hours on
working days (China time) plus any period declared with `record` (in process) or
`declare_recorded` (over HTTP, for a stack running in another process). Within retention and
not in the future, a period with recorded fragments gets a synthetic but deterministic MP4 of
at most its first 200 fragments or 100 MB, as KVS truncates a clip, and any other KVS's own
error; ListFragments lists every fragment of the range, in pages of at most MaxResults (1 to
1000, 1000 when not given) with a NextToken to the next, and an empty list for a range without
any."""
from __future__ import annotations

import base64
import functools
import json
import threading
import time as clock
from datetime import date, datetime, time, timedelta

# KVS's ResourceNotFoundException for a range without fragments; its streaming-session APIs
# word it "No fragments found in the stream for the streaming request.", GetClip so for a clip.
CLIP_NOT_FOUND = "No fragments found in the stream for the clip request."
# 亳州 hall hours: mornings and afternoons of working days, China time.
HALL_HOURS = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
RETENTION_HOURS = 90 * 24      # a complaint may come weeks after the visit
CONTROL_PATH = "/_local/cameras/footage"
DATA_PLANE = frozenset({"/getClip", "/getHLSStreamingSessionURL", "/getDASHStreamingSessionURL",
                        "/getImages", "/listFragments", "/getMediaForFragmentList"})


class _Archive:
    """What each camera recorded: the hall's hours (if on) and the declared periods, in ms."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hall_hours = HALL_HOURS
        self.declared: dict[str, list[tuple[int, int]]] = {}

    def reset(self, hall_hours) -> None:
        with self.lock:
            self.hall_hours = tuple(hall_hours)
            self.declared = {}

    def declare(self, stream_name: str, start_ms: int, end_ms: int) -> None:
        if end_ms <= start_ms:
            raise ValueError("a recorded period ends after it starts")
        with self.lock:
            self.declared.setdefault(stream_name, []).append((start_ms, end_ms))

    def spans(self, stream_name: str, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        from chalicelib.domain.cases import CHINA_TIME
        from chalicelib.domain.clock import ChinaWorkingCalendar

        with self.lock:
            out = list(self.declared.get(stream_name, ()))
            hours = self.hall_hours
        if hours:
            calendar = ChinaWorkingCalendar()
            day = datetime.fromtimestamp(start_ms / 1000, CHINA_TIME).date()
            last = datetime.fromtimestamp(end_ms / 1000, CHINA_TIME).date()
            while day <= last:
                if calendar.is_working_day(day):
                    out += [(_at(day, opens), _at(day, closes)) for opens, closes in hours]
                day += timedelta(days=1)
        return out


def _at(day: date, hour: time) -> int:
    from chalicelib.domain.cases import CHINA_TIME

    return round(datetime.combine(day, hour, CHINA_TIME).timestamp() * 1000)


ARCHIVE = _Archive()


def record(stream_name: str, start: datetime, end: datetime) -> None:
    """Declares that the camera recorded over [start, end) (aware datetimes), in this process."""
    ARCHIVE.declare(stream_name, round(start.timestamp() * 1000), round(end.timestamp() * 1000))


def declare_recorded(endpoint: str, stream_name: str, start: datetime, end: datetime) -> None:
    """The same, for a stack running in another process (its AWS endpoint)."""
    import requests

    answer = requests.post(endpoint + CONTROL_PATH, timeout=10, json={
        "stream": stream_name, "start": start.isoformat(), "end": end.isoformat()})
    answer.raise_for_status()


def provision_cameras(endpoint: str, region: str, stream_names,
                      retention_hours: int = RETENTION_HOURS,
                      hall_hours=HALL_HOURS, operator: tuple[str, str] | None = None
                      ) -> dict[str, str]:
    """Emulates KVS in this process (the one running moto), starts an empty archive that
    records `hall_hours` on working days (() for none: only declared periods), and creates one
    stream per camera. Returns stream name → ARN."""
    import boto3

    emulate_cameras()
    ARCHIVE.reset(hall_hours)
    keys = {"aws_access_key_id": operator[0], "aws_secret_access_key": operator[1]} \
        if operator else {}
    kvs = boto3.Session(region_name=region, **keys).client("kinesisvideo", endpoint_url=endpoint)
    return {name: kvs.create_stream(StreamName=name, DeviceName=f"camera-{name}",
                                    MediaType="video/h264",
                                    DataRetentionInHours=retention_hours)["StreamARN"]
            for name in sorted(set(stream_names))}


def emulate_cameras() -> None:
    """Idempotent: patches moto's KVS data endpoint, routing, GetClip and ListFragments once
    per process."""
    from moto.kinesisvideo.responses import KinesisVideoResponse
    from moto.kinesisvideoarchivedmedia.responses import KinesisVideoArchivedMediaResponse
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if getattr(KinesisVideoArchivedMediaResponse.get_clip, "emulated", False):
        return
    KinesisVideoResponse.get_data_endpoint = _data_endpoint(
        KinesisVideoResponse.get_data_endpoint)
    DomainDispatcherApplication.infer_service_region_host = _route(
        DomainDispatcherApplication.infer_service_region_host)
    DomainDispatcherApplication.get_application = _control(
        DomainDispatcherApplication.get_application)
    _get_clip.emulated = True
    KinesisVideoArchivedMediaResponse.get_clip = _get_clip
    KinesisVideoArchivedMediaResponse.list_fragments = _list_fragments


def _data_endpoint(named_by_moto):
    @functools.wraps(named_by_moto)
    def get_data_endpoint(self):
        from moto.core.responses import ActionResult

        answer = named_by_moto(self)   # an unknown stream fails here, as in KVS
        host = self.headers.get("Host") or ""
        if host and not host.endswith("amazonaws.com"):
            # The caller reached moto at this address; the data plane is served there too.
            return ActionResult({"DataEndpoint": f"http://{host}"})
        return answer
    return get_data_endpoint


def _route(infer):
    @functools.wraps(infer)
    def infer_service_region_host(self, environ, path):
        host = infer(self, environ, path)
        if host and host.startswith("kinesisvideo.") and environ.get("PATH_INFO") in DATA_PLANE:
            return "data." + host   # moto's archived-media application serves *.kinesisvideo.*
        return host
    return infer_service_region_host


def _control(get_application):
    @functools.wraps(get_application)
    def patched(self, environ):
        if environ.get("PATH_INFO") == CONTROL_PATH:
            return _control_app
        return get_application(self, environ)
    return patched


def _control_app(environ, start_response):
    """POST {"stream", "start", "end"} (ISO 8601 with offset) declares a recorded period;
    GET lists the declared ones."""
    from werkzeug.wrappers import Request, Response

    request = Request(environ)
    if request.method == "POST":
        try:
            body = request.get_json(force=True)
            start, end = (datetime.fromisoformat(body[k]) for k in ("start", "end"))
            if start.utcoffset() is None or end.utcoffset() is None:
                raise ValueError("start and end need a UTC offset")
            record(body["stream"], start, end)
        except (KeyError, TypeError, ValueError) as error:
            response = Response(json.dumps({"error": str(error)}), 400,
                                content_type="application/json")
        else:
            response = Response(status=204)
    else:
        with ARCHIVE.lock:
            listed = {name: [[a, b] for a, b in spans] for name, spans in ARCHIVE.declared.items()}
        response = Response(json.dumps({"hall_hours": [[str(a), str(b)] for a, b in
                                                       ARCHIVE.hall_hours],
                                        "declared_ms": listed}),
                            content_type="application/json")
    return response(environ, start_response)


@functools.lru_cache(maxsize=None)
def _error_class(code: str):
    from moto.core.exceptions import ServiceException

    # Serialised by moto from the archived-media service model: status, x-amzn-errortype.
    return type(code, (ServiceException,), {"code": code})


def _error(code: str, message: str):
    return _error_class(code)(message)


def _get_clip(self):
    """GetClip as KVS answers it, for the streams moto knows and the archive's footage: the
    first fragments of the range, at most 200 of them or 100 MB (chalicelib/domain/footage.py's
    `in_one_clip`, with the adapter's synthetic fragments)."""
    from chalicelib.adapters.cameras import synthetic_clip, synthetic_mp4

    stream = _stream(self)
    start_ms, end_ms, kind = _range(self._get_param("ClipFragmentSelector"), "TimestampRange")
    if end_ms - start_ms > 24 * 3600 * 1000:
        raise _error("InvalidArgumentException",
                     "EndTimestamp must be within 24 hours of StartTimestamp.")
    if kind == "SERVER_TIMESTAMP" and end_ms > round(clock.time() * 1000):
        raise _error("InvalidArgumentException", "EndTimestamp must be in the past.")
    if (stream.data_retention_in_hours or 0) <= 0:
        raise _error("NoDataRetentionException", "The stream does not retain data.")
    fragments = synthetic_clip(stream.stream_name, _kept(stream, start_ms, end_ms),
                               start_ms, end_ms)
    if not fragments:
        raise _error("ResourceNotFoundException", CLIP_NOT_FOUND)
    return synthetic_mp4(stream.stream_name, fragments), {"Content-Type": "video/mp4"}


LIST_PAGE = 1000     # ListFragments' largest MaxResults


def _list_fragments(self):
    """ListFragments as KVS answers it: every fragment starting in the range (both ends
    inclusive), with its number, size, timestamps and length, page by page."""
    from chalicelib.adapters.cameras import fragment_starts, synthetic_fragments

    stream = _stream(self)
    page = self._get_param("MaxResults") or LIST_PAGE
    if not isinstance(page, int) or not 1 <= page <= LIST_PAGE:
        raise _error("InvalidArgumentException", "MaxResults must be between 1 and 1000.")
    token = self._get_param("NextToken")
    if token:
        try:
            resumed = json.loads(base64.urlsafe_b64decode(token.encode()))
            start_ms, end_ms, after = resumed["start"], resumed["end"], resumed["after"]
            if resumed["stream"] != stream.stream_name:
                raise ValueError("another stream's token")
        except (KeyError, TypeError, ValueError):
            raise _error("InvalidArgumentException", "NextToken is not valid.") from None
    else:
        start_ms, end_ms, _ = _range(self._get_param("FragmentSelector"), "TimestampRange")
        after = start_ms - 1
    listed = [] if (stream.data_retention_in_hours or 0) <= 0 else synthetic_fragments(
        fragment_starts(_kept(stream, start_ms, end_ms), max(after + 1, start_ms), end_ms,
                        limit=page + 1))
    out = {"Fragments": [{"FragmentNumber": _fragment_number(stream.stream_name, f.start_ms),
                          "FragmentSizeInBytes": f.size,
                          "ProducerTimestamp": f.start_ms / 1000,
                          # Received once uploaded: a fragment after its own length.
                          "ServerTimestamp": (f.start_ms + f.length_ms) / 1000,
                          "FragmentLengthInMilliseconds": f.length_ms}
                         for f in listed[:page]]}
    if len(listed) > page:
        out["NextToken"] = base64.urlsafe_b64encode(json.dumps({
            "stream": stream.stream_name, "start": start_ms, "end": end_ms,
            "after": listed[page - 1].start_ms}).encode()).decode()
    return json.dumps(out)


def _fragment_number(stream_name: str, start_ms: int) -> str:
    """KVS numbers fragments by ingestion, increasing; here by their start, per stream."""
    import zlib

    return f"9134385233318{zlib.crc32(stream_name.encode()) % 10 ** 8:08d}{start_ms:015d}"


def _stream(handler):
    from moto.kinesisvideo.models import kinesisvideo_backends

    streams = kinesisvideo_backends[handler.current_account][handler.region]
    return streams._get_stream(handler._get_param("StreamName"), handler._get_param("StreamARN"))


def _range(selector, range_name: str) -> tuple[int, int, str]:
    selector = selector or {}
    kind = selector.get("FragmentSelectorType")
    period = selector.get(range_name) or {}
    if kind not in ("PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP"):
        raise _error("InvalidArgumentException", "FragmentSelectorType is not valid.")
    try:
        start_ms = round(float(period["StartTimestamp"]) * 1000)
        end_ms = round(float(period["EndTimestamp"]) * 1000)
    except (KeyError, TypeError, ValueError):
        raise _error("InvalidArgumentException", f"{range_name} needs StartTimestamp and "
                     "EndTimestamp.") from None
    if end_ms <= start_ms:
        raise _error("InvalidArgumentException",
                     "EndTimestamp must be later than StartTimestamp.")
    return start_ms, end_ms, kind


def _kept(stream, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """The archive's recorded spans the stream still holds: a fragment exists once fully
    uploaded and until retention has expired it."""
    from chalicelib.adapters.cameras import FRAGMENT_SECONDS

    now_ms = round(clock.time() * 1000)
    retention = stream.data_retention_in_hours or 0
    kept = (now_ms - retention * 3600 * 1000, now_ms - FRAGMENT_SECONDS * 1000 + 1)
    spans = [(max(a, kept[0]), min(b, kept[1]))
             for a, b in ARCHIVE.spans(stream.stream_name, start_ms, end_ms)]
    return [(a, b) for a, b in spans if a < b]
