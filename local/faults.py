"""Faults on demand: one AWS service's endpoint stops answering the functions for a few seconds.

A test (tests/e2e/test_faults.py) asks the running stack to fail DynamoDB, Step Functions, S3,
SQS or KMS (the seal), and every call a function makes to that service meanwhile fails as a dead endpoint's does:
botocore's EndpointConnectionError, which the client retries with its usual back-off and then
raises. Only the functions' calls fail (the API, the queue handlers with their event source
mappings' polls, the schedules: whatever runs inside `runtime.acting_as`); the state machines'
own integrations, played by moto's executor in this process, go on, as Step Functions' would
while a function's client cannot reach an endpoint.

    POST {aws endpoint}/_local/faults {"service": "dynamodb", "seconds": 5}
    GET  {aws endpoint}/_local/faults        → {"failing": {...}, "failed_calls": {...}}

`failed_calls` counts the calls that failed per service, so that a test knows its fault hit
something. Served by the process running moto, like the text-message outbox (local/outbox.py).
"""
from __future__ import annotations

import functools
import json
import threading
import time

PATH = "/_local/faults"
SERVICES = {"dynamodb": "dynamodb", "stepfunctions": "states", "states": "states", "s3": "s3",
            "sqs": "sqs", "kms": "kms"}   # as a test names it → the endpoint prefix botocore uses
_until: dict[str, float] = {}        # endpoint prefix → monotonic instant the fault ends
_failed: dict[str, int] = {}
_lock = threading.Lock()


def inject(service: str, seconds: float) -> dict:
    prefix = SERVICES.get(service)
    if prefix is None:
        raise ValueError(f"service is one of {', '.join(sorted(SERVICES))}, not {service!r}")
    if not 0 < seconds <= 120:
        raise ValueError("seconds is between 0 and 120")
    with _lock:
        _until[prefix] = time.monotonic() + seconds
    return state()


def state() -> dict:
    now = time.monotonic()
    with _lock:
        return {"failing": {p: round(t - now, 2) for p, t in _until.items() if t > now},
                "failed_calls": dict(_failed)}


def _failing(prefix: str) -> bool:
    from .runtime import running

    if running() is None:             # not a function's call (moto's executor, provisioning)
        return False
    with _lock:
        if _until.get(prefix, 0) <= time.monotonic():
            return False
        _failed[prefix] = _failed.get(prefix, 0) + 1
        return True


def install() -> None:
    """Idempotent: every botocore request of this process passes by the fault check."""
    from botocore.endpoint import Endpoint
    from botocore.exceptions import EndpointConnectionError

    send = Endpoint._do_get_response
    if getattr(send, "faults", False):
        return

    @functools.wraps(send)
    def _do_get_response(self, request, operation_model, context):
        if _failing(operation_model.service_model.endpoint_prefix):
            return None, EndpointConnectionError(endpoint_url=request.url)
        return send(self, request, operation_model, context)

    _do_get_response.faults = True
    Endpoint._do_get_response = _do_get_response


def serve(aws_endpoint: str) -> str:
    """Installs the check and serves PATH in this process's moto server; returns its address."""
    from .paths import mount

    install()
    mount(PATH, _faults_app)
    return aws_endpoint + PATH


def _faults_app(environ, start_response):
    from werkzeug.wrappers import Request, Response

    request = Request(environ)
    status = 200
    if request.method == "POST":
        try:
            body = json.loads(request.get_data() or b"{}")
            answer = inject(str(body.get("service")), float(body.get("seconds", 0)))
        except (ValueError, TypeError) as refused:
            answer, status = {"error": str(refused)}, 400
    elif request.method == "GET":
        answer = state()
    else:
        answer, status = {"error": "GET or POST"}, 405
    return Response(json.dumps(answer), status, content_type="application/json")(
        environ, start_response)
