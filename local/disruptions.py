"""Disruptions on demand, beside the dead endpoints of local/faults.py: a service that answers but
refuses (DynamoDB throttling, Step Functions' own errors), and a component stopped for a while
and started again (the dispatcher: every queue's event source mapping and the schedules).

    POST {aws endpoint}/_local/disruptions {"service": "dynamodb", "seconds": 5}
    POST {aws endpoint}/_local/disruptions {"service": "stepfunctions", "seconds": 5}
    POST {aws endpoint}/_local/disruptions {"component": "dispatcher", "seconds": 10}
    GET  {aws endpoint}/_local/disruptions   → {"refusing", "refused_calls", "stopped",
                                                 "restarts"}

A refusing service answers every call a function makes to it (the API, the queue handlers and
their polls, the schedules: whatever runs inside `runtime.acting_as`) with the error that service
itself sends when it cannot take the call: DynamoDB `ProvisionedThroughputExceededException`
(HTTP 400, the throttling botocore retries with back-off), Step Functions `ServiceUnavailable`
(HTTP 503) or, asked with `"error": "throttling"`, `ThrottlingException`. The answer goes through
botocore's own parsing and retrying, as a real one does; the state machines' own integrations
(moto's executor, no function running) are not refused.

A stopped component is stopped as the stack stops it at shutdown (the dispatcher finishes the
batches it holds, then polls no more) and, after the seconds asked, a new one is started in its
place, as Lambda's event source mappings and EventBridge resume after an outage: messages sent
meanwhile wait in their queues, a schedule's run falls due again.
"""
from __future__ import annotations

import functools
import json
import threading
import time
from typing import Callable

PATH = "/_local/disruptions"
# As a caller names the service → (botocore's endpoint prefix, HTTP status, error code, message)
ERRORS = {
    ("dynamodb", "throttling"): ("dynamodb", 400, "ProvisionedThroughputExceededException",
                                 "The level of configured provisioned throughput for the table "
                                 "was exceeded. Consider increasing your provisioning level "
                                 "with the UpdateTable API."),
    ("stepfunctions", "unavailable"): ("states", 503, "ServiceUnavailable",
                                       "Service Unavailable"),
    ("stepfunctions", "throttling"): ("states", 400, "ThrottlingException", "Rate exceeded"),
}
DEFAULT_ERROR = {"dynamodb": "throttling", "stepfunctions": "unavailable"}
_until: dict[str, tuple[float, tuple]] = {}      # endpoint prefix → (until, error)
_refused: dict[str, int] = {}
_components: dict[str, "_Component"] = {}
_lock = threading.Lock()


def refuse(service: str, seconds: float, error: str | None = None) -> dict:
    kind = error or DEFAULT_ERROR.get(service)
    found = ERRORS.get((service, kind))
    if found is None:
        raise ValueError("service and error are one of "
                         + ", ".join(f"{s}/{e}" for s, e in ERRORS) + f", not {service}/{kind}")
    _check_seconds(seconds)
    with _lock:
        _until[found[0]] = (time.monotonic() + seconds, found)
    return state()


def stop_for(component: str, seconds: float) -> dict:
    found = _components.get(component)
    if found is None:
        raise ValueError(f"component is one of {', '.join(sorted(_components)) or 'none'}, "
                         f"not {component!r}")
    _check_seconds(seconds)
    found.stop_for(seconds)
    return state()


def _check_seconds(seconds: float) -> None:
    if not 0 < seconds <= 120:
        raise ValueError("seconds is between 0 and 120")


def state() -> dict:
    now = time.monotonic()
    with _lock:
        return {"refusing": {p: round(t - now, 2) for p, (t, _) in _until.items() if t > now},
                "refused_calls": dict(_refused),
                "stopped": {n: round(c.back_at - now, 2) for n, c in _components.items()
                            if c.back_at > now},
                "restarts": {n: c.restarts for n, c in _components.items()}}


def _refusal(prefix: str):
    from .runtime import running

    if running() is None:             # not a function's call (moto's executor, provisioning)
        return None
    with _lock:
        until, error = _until.get(prefix, (0.0, None))
        if until <= time.monotonic():
            return None
        _refused[prefix] = _refused.get(prefix, 0) + 1
        return error


class _Raw:
    """The body of a made-up HTTP answer, readable as urllib3's is."""

    def __init__(self, body: bytes):
        self.body = body

    def stream(self, *_, **__):
        yield self.body


def install() -> None:
    """Idempotent: every botocore request of this process passes by the refusal check, just
    before it would go over the wire (after local/faults.py's dead-endpoint check)."""
    from botocore.awsrequest import AWSResponse, HeadersDict
    from botocore.endpoint import Endpoint

    send = Endpoint._send
    if getattr(send, "disruptions", False):
        return

    @functools.wraps(send)
    def _send(self, request):
        error = _refusal(self._endpoint_prefix)
        if error is None:
            return send(self, request)
        _, status, code, message = error
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = HeadersDict({"Content-Type": "application/x-amz-json-1.0",
                               "x-amzn-RequestId": f"disruption-{time.monotonic_ns()}",
                               "Content-Length": str(len(body))})
        return AWSResponse(request.url, status, headers, _Raw(body))

    _send.disruptions = True
    Endpoint._send = _send


class _Component:
    def __init__(self, running, make: Callable):
        self.running, self.make = running, make
        self.back_at = 0.0
        self.restarts = 0
        self._lock = threading.Lock()

    def stop_for(self, seconds: float) -> None:
        with self._lock:
            if self.back_at > time.monotonic():
                raise ValueError("the component is stopped already")
            self.back_at = time.monotonic() + seconds
            self.running.stop()
        threading.Thread(target=self._start_again, args=(seconds,), name="disruption",
                         daemon=True).start()

    def _start_again(self, seconds: float) -> None:
        time.sleep(seconds)
        with self._lock:
            self.running = self.make()
            self.running.start()
            self.restarts += 1
            self.back_at = 0.0

    def stop(self) -> None:
        with self._lock:
            self.back_at = float("inf")      # not started again once the stack stops
            self.running.stop()


def serve(aws_endpoint: str, components: dict[str, tuple[object, Callable]]) -> str:
    """Installs the check, takes the components that can be stopped (name → (the running one,
    how to make a new one)) and serves PATH in this process's moto server; returns its
    address."""
    from .paths import mount

    install()
    for name, (running, make) in components.items():
        _components[name] = _Component(running, make)
    mount(PATH, _app)
    return aws_endpoint + PATH


def stop() -> None:
    """At the stack's shutdown: a component started again is stopped with the rest."""
    for component in list(_components.values()):
        component.stop()
    _components.clear()


def _app(environ, start_response):
    from werkzeug.wrappers import Request, Response

    request = Request(environ)
    status = 200
    if request.method == "POST":
        try:
            body = json.loads(request.get_data() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body is a JSON object")
            seconds = float(body.get("seconds", 0))
            if body.get("component") is not None:
                answer = stop_for(str(body["component"]), seconds)
            else:
                answer = refuse(str(body.get("service")), seconds,
                                str(body["error"]) if body.get("error") else None)
        except (ValueError, TypeError) as refused:
            answer, status = {"error": str(refused)}, 400
    elif request.method == "GET":
        answer = state()
    else:
        answer, status = {"error": "GET or POST"}, 405
    return Response(json.dumps(answer), status, content_type="application/json")(
        environ, start_response)
