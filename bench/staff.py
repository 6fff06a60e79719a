"""A staff member's sign-in, counted, and what the API gateway adds to each signed request.

- Sign-in to the first signed request, as the staff workstation does it: the staff user pool
  (InitiateAuth), the identity pool (GetId, GetCredentialsForIdentity), then one SigV4-signed
  GET of the department's queue. Requests and bytes are counted on the wire (urllib3, which both
  botocore and requests use); the time is the median over several sign-ins on the local stack.
- The gateway's added cost: verifying one signed request's SigV4 signature (local/sigv4.py,
  the same check API Gateway's IAM authorization makes), timed in-process over many requests
  signed by staff credentials, median and p95 — apart from any route's own work."""
from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

STAFF_ID = "SCJG-001"
SIGN_INS = 7
VERIFICATIONS = 2000


class Wire:
    """Requests and response bytes that pass through urllib3 in this process."""

    def __init__(self):
        self.requests = 0
        self.bytes = 0
        self._lock = threading.Lock()

    def install(self):
        from urllib3.connectionpool import HTTPConnectionPool

        original, wire = HTTPConnectionPool.urlopen, self

        def urlopen(pool, method, url, body=None, headers=None, **kw):
            response = original(pool, method, url, body=body, headers=headers, **kw)
            sent = len(body) if isinstance(body, (bytes, str)) else 0
            received = int(response.headers.get("content-length") or 0)
            with wire._lock:
                wire.requests += 1
                wire.bytes += sent + received
            return response
        HTTPConnectionPool.urlopen = urlopen
        return original


def sign_in(stack: dict) -> dict:
    from tests.e2e.client import Staff

    wire = Wire()
    original = wire.install()
    try:
        times = []
        for _ in range(SIGN_INS):
            started = time.perf_counter()
            before = (wire.requests, wire.bytes)
            staff = Staff(stack, STAFF_ID)
            answer = staff.get("/department/tasks")
            assert answer.status_code == 200, answer.text
            times.append(time.perf_counter() - started)
            requests, moved = wire.requests - before[0], wire.bytes - before[1]
    finally:
        from urllib3.connectionpool import HTTPConnectionPool
        HTTPConnectionPool.urlopen = original
    return {"staff_member": STAFF_ID, "sign_ins": SIGN_INS, "requests": requests,
            "bytes": moved, "median_ms": round(statistics.median(times) * 1000, 1)}


def gateway_cost(stack: dict) -> dict:
    """Verifying the signature of a signed GET, with the stack's own credentials for it."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    from local.sigv4 import Key, verify_request
    from tests.e2e.client import Staff

    staff = Staff(stack, STAFF_ID)
    credentials = staff.credentials
    key = Key(credentials.access_key, credentials.secret_key, "staff", credentials.token)
    from urllib.parse import urlsplit

    url = f"{stack['api_url']}/department/tasks"
    request = AWSRequest(method="GET", url=url, headers={"Host": urlsplit(url).netloc})
    SigV4Auth(credentials, "execute-api", staff.region).add_auth(request)
    headers = dict(request.headers.items())
    times = []
    for _ in range(VERIFICATIONS):
        started = time.perf_counter()
        verify_request("GET", url, headers, b"", {key.access_key_id: key}.get, staff.region)
        times.append(time.perf_counter() - started)
    times.sort()
    return {"verifications": VERIFICATIONS,
            "median_us": round(statistics.median(times) * 1e6, 1),
            "p95_us": round(times[int(0.95 * len(times))] * 1e6, 1)}


def run(state_dir: Path) -> dict:
    from local.process import running_stack

    with running_stack(state_dir) as stack:
        return {"sign_in_to_first_signed_request": sign_in(stack),
                "gateway_signature_check": gateway_cost(stack)}
