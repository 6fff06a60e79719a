"""The local stack on hostile input is as strict as the cloud: no anonymous access to any bucket
(through the S3 gate or straight at moto), signed payloads checked against the body that
arrived, ID tokens signed with the stack's own key only (never with the key moto publishes), a
hundred clients at once all answered, and malformed framing answered 400 naming
Content-Length."""
from __future__ import annotations

import gzip
import hashlib
import json
import socket
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import boto3
import jwt
import moto.cognitoidp
import pytest
import requests
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from .client import Api, Citizen, Staff, announce, material_bytes, sign_in, upload

ID_NUMBER = "110101198001010010"        # 赵六, of the register (local/people.json)


def buckets(stack) -> list[str]:
    return sorted(name for logical, name in stack["resources"].items()
                  if logical.endswith("Bucket"))


def operator_s3(stack):
    aws = stack["aws"]
    return boto3.client("s3", endpoint_url=aws["endpoint"], region_name=aws["region"],
                        aws_access_key_id=aws["access_key_id"],
                        aws_secret_access_key=aws["secret_access_key"],
                        config=Config(s3={"addressing_style": "path"}))


def stored(stack, bucket: str, key: str) -> bytes | None:
    s3 = operator_s3(stack)
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


# -- no anonymous access to any bucket ---------------------------------------------------------
@pytest.mark.parametrize("endpoint", ["s3_endpoint", "endpoint"])
def test_no_bucket_is_listed_read_or_written_anonymously(stack, endpoint):
    base = stack["aws"][endpoint]               # the S3 gate, and moto itself
    answers = {"GET /": requests.get(f"{base}/", timeout=10)}
    for bucket in buckets(stack):
        key = f"anonymous/{uuid.uuid4()}"
        for name, answer in (
                ("list", requests.get(f"{base}/{bucket}", timeout=10)),
                ("list-v2", requests.get(f"{base}/{bucket}?list-type=2", timeout=10)),
                ("versions", requests.get(f"{base}/{bucket}?versions", timeout=10)),
                ("put", requests.put(f"{base}/{bucket}/{key}", data=b"planted", timeout=10)),
                ("get", requests.get(f"{base}/{bucket}/{key}", timeout=10)),
                ("head", requests.head(f"{base}/{bucket}/{key}", timeout=10)),
                ("delete", requests.delete(f"{base}/{bucket}/{key}", timeout=10))):
            answers[f"{name} {bucket}"] = answer
        assert stored(stack, bucket, key) is None
    refused = {what: answer.status_code for what, answer in answers.items()}
    assert set(refused.values()) == {403}, refused
    assert all("AccessDenied" in a.text for a in answers.values() if a.request.method != "HEAD")


def test_a_browsers_preflight_is_still_answered_from_the_buckets_rules(stack):
    bucket = stack["resources"]["MaterialsBucket"]
    answer = requests.options(f"{stack['aws']['s3_endpoint']}/{bucket}/cases/x/y", timeout=10,
                              headers={"Origin": stack["api_url"],
                                       "Access-Control-Request-Method": "PUT",
                                       "Access-Control-Request-Headers": "content-type"})
    assert answer.status_code == 200, answer.text
    assert "PUT" in answer.headers.get("Access-Control-Allow-Methods", "")


def test_no_one_overwrites_another_applicants_announced_upload(stack, guide):
    item = guide("SCJG-001")
    spec = next(m for m in item["materials"] if m["required"])
    applicant = Citizen(stack, ID_NUMBER, name="赵六")
    case = applicant.post("/cases", {"item": "SCJG-001", "hall": item["halls"][0],
                                     "form": item["form"]["examples"][0]}).json()
    body = material_bytes(spec["id"])
    ticket = applicant.post(f"/cases/{case['case_id']}/uploads",
                            announce(body, spec["id"], spec["content_types"][0]))
    assert ticket.status_code == 201, ticket.text
    ticket = ticket.json()
    target = urlsplit(ticket["url"])
    bucket, key = target.path.lstrip("/").split("/", 1)
    planted = material_bytes("planted")[:len(body)]
    headers = {k: v for k, v in ticket["headers"].items() if k.lower() != "content-length"}
    # Anonymous, at the gate and at moto, with the announced headers but no signature.
    for base in (stack["aws"]["s3_endpoint"], stack["aws"]["endpoint"]):
        answer = requests.put(f"{base}{target.path}", data=planted, headers=headers, timeout=10)
        assert answer.status_code == 403, answer.text
    # Another applicant's own signed link (the demo citizen's), pointed at the first's key.
    demo = stack["demo_citizen"]
    other = Api(stack, {"Authorization": sign_in(stack, demo["username"],
                                                 demo["password"])["IdToken"]})
    other_case = other.post("/cases", {"item": "SCJG-001", "hall": item["halls"][0],
                                       "form": item["form"]["examples"][0]}).json()
    own = other.post(f"/cases/{other_case['case_id']}/uploads",
                     announce(planted, spec["id"], spec["content_types"][0])).json()
    redirected = urlunsplit(urlsplit(own["url"])._replace(path=target.path))
    answer = upload({**own, "url": redirected}, planted)
    assert answer.status_code == 403, answer.text
    assert stored(stack, bucket, key) is None
    # The applicant's own upload still lands, whole.
    assert upload(ticket, body).status_code == 200
    assert stored(stack, bucket, key) == body


# -- signed payloads -----------------------------------------------------------------------------
def gateway_post(stack, body: bytes, signed_body: bytes, payload_header: str | None):
    """POST /hotline/requests signed by the hotline's system over `signed_body` (with an
    x-amz-content-sha256 header when given), sent with `body`."""
    pair = stack["callers"]["hotline:BZ-12345"]
    url = f"{stack['api_url']}/hotline/requests"
    headers = {"Content-Type": "application/json"}
    if payload_header is not None:
        headers["X-Amz-Content-SHA256"] = payload_header
    request = AWSRequest(method="POST", url=url, data=signed_body, headers=headers)
    SigV4Auth(Credentials(pair["access_key_id"], pair["secret_access_key"]), "execute-api",
              stack["aws"]["region"]).add_auth(request)
    return requests.post(url, data=body, headers=dict(request.headers.items()), timeout=30)


def test_the_gateway_checks_a_signature_against_the_body_that_arrived(stack):
    sent, other = b'{"question": ""}', b'{"question": "planted"}'
    # Signed UNSIGNED-PAYLOAD: API Gateway hashes the body anyway, so it never verifies.
    for body in (sent, other):
        refused = gateway_post(stack, body, body, "UNSIGNED-PAYLOAD")
        assert refused.status_code == 403, refused.text
        assert "signature we calculated does not match" in refused.json()["message"]
    # Signed with the body's own hash, the request passes the signature (and the app refuses
    # the question naming no category: 400, not 403); with another body, it does not.
    passed = gateway_post(stack, sent, sent, hashlib.sha256(sent).hexdigest())
    assert passed.status_code == 400 and passed.json()["field"] == "category", passed.text
    assert gateway_post(stack, other, sent, hashlib.sha256(sent).hexdigest()).status_code == 403
    assert gateway_post(stack, other, sent, None).status_code == 403


def s3_put(stack, key: str, body: bytes, signed_body: bytes | None = None,
           unsigned_payload: bool = False, extra: dict | None = None):
    """A PutObject to the reports bucket through the S3 gate, signed in its header by the
    operator's key over `signed_body` (its hash in x-amz-content-sha256), sent with `body`."""
    aws = stack["aws"]
    url = f"{aws['s3_endpoint']}/{stack['resources']['ReportsBucket']}/{key}"
    request = AWSRequest(method="PUT", url=url, data=body if signed_body is None else signed_body)
    request.context["client_config"] = Config(s3={"payload_signing_enabled": not unsigned_payload})
    S3SigV4Auth(Credentials(aws["access_key_id"], aws["secret_access_key"]), "s3",
                aws["region"]).add_auth(request)
    return requests.put(url, data=body, headers={**dict(request.headers.items()),
                                                  **(extra or {})}, timeout=30)


def test_the_s3_gate_takes_a_header_signed_body_only_with_its_own_hash(stack):
    bucket = stack["resources"]["ReportsBucket"]
    key = f"tests/hostile/{uuid.uuid4()}.csv"
    report, forged = b"department,cases\nSCJG,12\n", b"department,cases\nSCJG,99\n"
    mismatch = s3_put(stack, key, forged, signed_body=report)
    assert mismatch.status_code == 400 and "XAmzContentSHA256Mismatch" in mismatch.text
    assert stored(stack, bucket, key) is None
    unsigned_header = s3_put(stack, key, report, extra={"x-amz-meta-author": "someone"})
    assert unsigned_header.status_code == 403 and "not signed" in unsigned_header.text
    no_hash = s3_put(stack, key, report, extra={"X-Amz-Content-SHA256": "not-a-hash"})
    assert no_hash.status_code == 400 and "InvalidArgument" in no_hash.text
    assert stored(stack, bucket, key) is None
    assert s3_put(stack, key, report).status_code == 200
    assert stored(stack, bucket, key) == report
    # UNSIGNED-PAYLOAD in the header, as S3 allows it: the body is the one that arrived.
    assert s3_put(stack, key, forged, unsigned_payload=True).status_code == 200
    assert stored(stack, bucket, key) == forged


# -- the pools' signing key --------------------------------------------------------------------
def moto_published_key():
    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    return jwt.algorithms.RSAAlgorithm.from_jwk(gzip.decompress(path.read_bytes()).decode())


def forged(token: str, kid: str | None = None) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, moto_published_key(), algorithm="RS256",
                      headers={"kid": kid or jwt.get_unverified_header(token)["kid"]})


def test_a_token_signed_with_the_key_moto_publishes_is_refused_by_the_gateway(stack):
    citizen = Citizen(stack, ID_NUMBER, name="赵六")
    url = f"{stack['api_url']}/cases"
    assert requests.get(url, headers={"Authorization": citizen.token},
                        timeout=10).status_code == 200
    for kid in (None, "dummy"):               # the genuine token's kid, and moto's own
        answer = requests.get(url, headers={"Authorization": forged(citizen.token, kid)},
                              timeout=10)
        assert answer.status_code == 401, answer.text


def test_a_staff_token_signed_with_the_key_moto_publishes_gets_no_identity(stack):
    member = Staff(stack, "XF-002")
    staff = stack["staff"]
    pool = boto3.client("cognito-identity", endpoint_url=staff["endpoint"],
                        region_name=staff["region"], aws_access_key_id="unsigned",
                        aws_secret_access_key="unsigned")
    for call in (lambda login: pool.get_id(IdentityPoolId=staff["identity_pool_id"],
                                           Logins={staff["login_provider"]: login}),
                 lambda login: pool.get_credentials_for_identity(
                     IdentityId=member.identity_id, Logins={staff["login_provider"]: login})):
        with pytest.raises(pool.exceptions.ClientError) as refused:
            call(forged(member.id_token))
        assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
        call(member.id_token)                 # the genuine token still signs in


def test_the_pools_publish_and_sign_with_the_stacks_own_key(stack):
    citizen = Citizen(stack, ID_NUMBER, name="赵六")
    saved = Path(stack["state_dir"]) / "saved" / "user-pool-key.json"
    assert saved.stat().st_mode & 0o777 == 0o600
    own = json.loads(saved.read_text())
    published = json.loads(gzip.decompress((Path(moto.cognitoidp.__file__).parent / "resources"
                                            / "jwks-public.json.gz").read_bytes()))["keys"][0]
    assert own["n"] != published["n"]
    for pool_id in (stack["cognito"]["user_pool_id"], stack["staff"]["user_pool_id"]):
        jwks = requests.get(f"{stack['aws']['endpoint']}/{pool_id}/.well-known/jwks.json",
                            timeout=10).json()
        assert [k["n"] for k in jwks["keys"]] == [own["n"]]
    [key] = jwks["keys"]
    assert jwt.get_unverified_header(citizen.token)["kid"] == key["kid"]
    jwt.decode(citizen.token, jwt.PyJWK(key).key, algorithms=["RS256"],
               audience=stack["cognito"]["client_id"])


# -- a hundred clients at once ----------------------------------------------------------------
def answers_of(base: str, path: str, clients: int = 100) -> Counter:
    where = urlsplit(base)
    start = threading.Barrier(clients)
    got: list[str] = [""] * clients

    def client(i):
        try:
            start.wait()
            with socket.create_connection((where.hostname, where.port), timeout=60) as conn:
                conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {where.netloc}\r\n"
                             "Connection: close\r\n\r\n".encode())
                received = b""
                while chunk := conn.recv(65536):
                    received += chunk
            got[i] = received.split(b"\r\n", 1)[0].decode()
        except OSError as error:        # a reset, a refusal or a timeout
            got[i] = f"{type(error).__name__}: {error}"

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(line.split(" ", 2)[1] if line.startswith("HTTP/1.1 ") else line
                   for line in got)


def test_a_hundred_clients_at_once_are_all_answered(stack):
    materials = stack["resources"]["MaterialsBucket"]
    assert answers_of(stack["api_url"], "/guide/items/SCJG-001") == {"200": 100}
    assert answers_of(stack["aws"]["s3_endpoint"], f"/{materials}") == {"403": 100}
    assert answers_of(stack["aws"]["endpoint"], f"/{materials}") == {"403": 100}


# -- malformed framing ---------------------------------------------------------------------------
def exchange(base: str, head: bytes, body: bytes = b"", finish: bool = True,
             timeout: float = 30) -> tuple[bytes, float]:
    """Sends a raw request (`finish`: then half-closes, so the server sees the body end) and
    reads until the server closes the connection; the answer and how long it took."""
    where = urlsplit(base)
    began = time.monotonic()
    with socket.create_connection((where.hostname, where.port), timeout=timeout) as conn:
        conn.sendall(head + b"\r\n" + body)
        if finish:
            conn.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := conn.recv(65536):        # the server closes: nothing is left to read
            received += chunk
    return received, time.monotonic() - began


MALFORMED = {
    "not a number": b"Content-Length: ten\r\n",
    "negative": b"Content-Length: -5\r\n",
    "larger than the body": b"Content-Length: 100\r\n",
    "two differing headers": b"Content-Length: 5\r\nContent-Length: 7\r\n",
    "with Transfer-Encoding": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
}


def refusal(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower(), head
    assert b"connection: close" in head.lower(), head
    return status, json.loads(body)


@pytest.mark.parametrize("server", ["api_url", "s3_endpoint", "endpoint"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_content_length_is_answered_400_naming_it(stack, server, case):
    base = stack[server] if server == "api_url" else stack["aws"][server]
    answer, _ = exchange(base, b"POST /hotline/requests HTTP/1.1\r\nHost: local\r\n"
                               + MALFORMED[case], b"hello")
    status, error = refusal(answer)
    assert status == 400, answer
    assert error["field"] == "Content-Length" and "Content-Length" in error["message"]
    # Nothing after the refusal was read as a request of its own.
    assert answer.count(b"HTTP/1.1 ") == 1


def test_a_body_that_stops_short_of_its_content_length_is_answered_400_after_a_pause(stack):
    from local.framing import BODY_IDLE_SECONDS

    results = {}

    def stalled(base):
        results[base] = exchange(base, b"PUT /stalled HTTP/1.1\r\nHost: local\r\n"
                                       b"Content-Length: 100\r\n", b"only ten b",
                                 finish=False, timeout=BODY_IDLE_SECONDS + 30)
    bases = (stack["api_url"], stack["aws"]["s3_endpoint"], stack["aws"]["endpoint"])
    threads = [threading.Thread(target=stalled, args=(base,)) for base in bases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for base in bases:
        answer, took = results[base]
        status, error = refusal(answer)
        assert status == 400 and "only 10 arrived" in error["message"], (base, answer)
        assert BODY_IDLE_SECONDS - 1 <= took < BODY_IDLE_SECONDS + 20


@pytest.mark.parametrize("server", ["api_url", "s3_endpoint"])
def test_a_chunked_body_without_content_length_is_answered_411(stack, server):
    base = stack[server] if server == "api_url" else stack["aws"][server]
    answer, _ = exchange(base, b"POST /hotline/requests HTTP/1.1\r\nHost: local\r\n"
                               b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n")
    status, error = refusal(answer)
    assert status == 411 and error["field"] == "Content-Length"


def test_a_well_framed_request_on_a_kept_alive_connection_is_still_answered(stack):
    # Two requests on one connection, the first with a body: framing read right, both answered.
    body = b'{"question": ""}'
    answer, _ = exchange(stack["api_url"],
                         b"POST /hotline/requests HTTP/1.1\r\nHost: local\r\n"
                         b"Content-Type: application/json\r\n"
                         + f"Content-Length: {len(body)}\r\n".encode(),
                         body + b"GET /guide/items/SCJG-001 HTTP/1.1\r\nHost: local\r\n"
                                b"Connection: close\r\n\r\n")
    import re

    # Unsigned: refused as API Gateway refuses it; then the next request, read whole.
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", answer) == [b"403", b"200"]
