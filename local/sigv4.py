"""Checks AWS Signature Version 4 the way API Gateway (IAM authorization) and S3 (presigned
URLs, and the payload of a request signed in its header) check it, recomputing the signature
with botocore's own signer. Used only by the local stack, which must refuse what the cloud
refuses.

The payload: API Gateway hashes the body it received into the canonical request, whatever an
`x-amz-content-sha256` header says (that header is only one more signed header there), so a
request signed `UNSIGNED-PAYLOAD`, or with the hash of another body, does not verify. S3 takes
the payload's hash from that header, which a request signed in its header must carry: a
SHA-256 that must be the body's, or `UNSIGNED-PAYLOAD` (what S3 allows; a presigned URL is
always unsigned-payload, its body checked by the signed length and checksum instead)."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from botocore.auth import SIGV4_TIMESTAMP, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Key:
    access_key_id: str
    secret_access_key: str
    arn: str
    session_token: str | None = None     # temporary credentials (a role's) carry one


class SignatureRefused(Exception):
    def __init__(self, message: str, status: int = 403, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code or ("AccessDenied" if status == 403 else "BadDigest")


class _PayloadHashed(SigV4Auth):
    """API Gateway's canonical request: its last line, the payload's hash, is always the SHA-256
    of the body that arrived (botocore's would take a signed x-amz-content-sha256 header's
    value, UNSIGNED-PAYLOAD included)."""

    def canonical_request(self, request):
        lines = super().canonical_request(request).split("\n")
        lines[-1] = hashlib.sha256(request.body or b"").hexdigest()
        return "\n".join(lines)


@dataclass(frozen=True)
class _Signed:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    timestamp: str


def _parse_timestamp(value: str) -> datetime:
    try:
        return datetime.strptime(value, SIGV4_TIMESTAMP).replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureRefused(f"X-Amz-Date {value!r} is not of the form YYYYMMDDTHHMMSSZ")


def _parse_credential(credential: str):
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureRefused("Credential should be scoped to a valid region, service and "
                               "aws4_request terminator")
    return parts[:4]


def _lookup(keys: Callable[[str], Key | None], access_key_id: str) -> Key:
    key = keys(access_key_id)
    if key is None:
        raise SignatureRefused("The security token included in the request is invalid.")
    return key


def _compare(auth, request: AWSRequest, signed: _Signed) -> None:
    request.context["timestamp"] = signed.timestamp
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, signed.signature):
        raise SignatureRefused("The request signature we calculated does not match the signature "
                               "you provided. Check your AWS Secret Access Key and signing "
                               "method.")


def _signed_headers(headers: dict[str, str], names: list[str]) -> dict[str, str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    missing = [n for n in names if n not in lowered]
    if missing:
        raise SignatureRefused(f"signed header(s) {', '.join(missing)} missing from the request")
    return {n: lowered[n] for n in names}


def verify_request(method: str, url: str, headers: dict[str, str], body: bytes | None,
                   keys: Callable[[str], Key | None], region: str,
                   service: str = "execute-api", now: datetime | None = None) -> Key:
    """A request signed in its Authorization header; returns the key that signed it."""
    lowered = {k.lower(): v for k, v in headers.items()}
    authorization = lowered.get("authorization")
    if not authorization:
        raise SignatureRefused("Missing Authentication Token")
    algorithm, _, rest = authorization.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    if algorithm != ALGORITHM or not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
        raise SignatureRefused("Authorization header requires 'Credential', 'Signature' and "
                               "'SignedHeaders' parameters with algorithm AWS4-HMAC-SHA256")
    access_key_id, date, key_region, key_service = _parse_credential(fields["Credential"])
    amz_date = lowered.get("x-amz-date")
    if not amz_date:
        raise SignatureRefused("Authorization header requires existence of a 'X-Amz-Date' header")
    at = _parse_timestamp(amz_date)
    now = now or datetime.now(timezone.utc)
    if abs(now - at) > CLOCK_SKEW:
        raise SignatureRefused(f"Signature expired: {amz_date} is now earlier or later than "
                               f"{(now - CLOCK_SKEW):%Y%m%dT%H%M%SZ} .. "
                               f"{(now + CLOCK_SKEW):%Y%m%dT%H%M%SZ}")
    if key_region != region or key_service != service or date != amz_date[:8]:
        raise SignatureRefused(f"Credential should be scoped to {amz_date[:8]}/{region}/{service}")
    key = _lookup(keys, access_key_id)
    names = fields["SignedHeaders"].split(";")
    if "host" not in names:
        raise SignatureRefused("the host header must be signed")
    signed = _Signed(access_key_id, date, key_region, key_service, names,
                     fields["Signature"], amz_date)
    request = AWSRequest(method=method, url=url, headers=_signed_headers(headers, names),
                         data=body or b"")
    auth = (_PayloadHashed if service == "execute-api" else SigV4Auth)(
        Credentials(key.access_key_id, key.secret_access_key), service, region)
    _compare(auth, request, signed)
    return key


SHA256_HEX = re.compile(r"[0-9a-f]{64}")
UNSIGNED_PAYLOADS = ("UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")


def check_s3_payload(headers: dict[str, str], body: bytes) -> None:
    """S3's checks of a request signed in its Authorization header, before its signature: it
    carries x-amz-content-sha256, the body's SHA-256 or UNSIGNED-PAYLOAD (a streaming upload's
    chunk signatures are not checked here, so it is refused), and signs every x-amz-* header it
    carries."""
    lowered = {k.lower(): v for k, v in headers.items()}
    announced = lowered.get("x-amz-content-sha256")
    if announced is None:
        raise SignatureRefused("Missing required header for this request: x-amz-content-sha256",
                               400, "InvalidRequest")
    if announced.startswith("STREAMING-") and announced not in UNSIGNED_PAYLOADS:
        raise SignatureRefused(f"x-amz-content-sha256 {announced}: chunk signatures are not "
                               "checked by the local S3 gate; send the payload's SHA-256 or "
                               "UNSIGNED-PAYLOAD", 501, "NotImplemented")
    if announced not in UNSIGNED_PAYLOADS and not SHA256_HEX.fullmatch(announced):
        raise SignatureRefused("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                               "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.",
                               400, "InvalidArgument")
    if announced not in UNSIGNED_PAYLOADS and announced != hashlib.sha256(body).hexdigest():
        raise SignatureRefused("The provided 'x-amz-content-sha256' header does not match what "
                               "was computed.", 400, "XAmzContentSHA256Mismatch")
    listed = re.search(r"SignedHeaders=([^,\s]*)", lowered.get("authorization", ""))
    signed = set(listed.group(1).lower().split(";")) if listed else set()
    unsigned = sorted(name for name in lowered if name.startswith("x-amz-") and
                      name not in signed)
    if unsigned:
        raise SignatureRefused("There were headers present in the request which were not "
                               f"signed: {', '.join(unsigned)}", 403, "AccessDenied")


def verify_presigned(method: str, url: str, headers: dict[str, str], body: bytes | None,
                     keys: Callable[[str], Key | None], region: str,
                     now: datetime | None = None) -> Key:
    """An S3 presigned URL: signature, expiry, the signed headers' values and, as S3 does, the
    announced checksum against the body that arrived."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise SignatureRefused("Only AWS4-HMAC-SHA256 presigned URLs are accepted")
    try:
        access_key_id, date, key_region, key_service = _parse_credential(params["X-Amz-Credential"])
        amz_date, expires = params["X-Amz-Date"], int(params["X-Amz-Expires"])
        names, signature = params["X-Amz-SignedHeaders"].split(";"), params["X-Amz-Signature"]
    except (KeyError, ValueError):
        raise SignatureRefused("Query-string authentication requires X-Amz-Credential, "
                               "X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature")
    at = _parse_timestamp(amz_date)
    now = now or datetime.now(timezone.utc)
    if now > at + timedelta(seconds=expires):
        raise SignatureRefused("Request has expired")
    if key_region != region or key_service != "s3":
        raise SignatureRefused(f"Credential should be scoped to {region}/s3")
    key = _lookup(keys, access_key_id)
    # Encoded again as SigV4 encodes (a space is %20, not +), so that a signed parameter with
    # spaces, such as a response Content-Disposition, is compared as it was signed.
    unsigned_url = urlunsplit(parts._replace(query=urlencode(
        [(k, v) for k, v in query if k != "X-Amz-Signature"], quote_via=quote)))
    request = AWSRequest(method=method, url=unsigned_url, headers=_signed_headers(headers, names))
    auth = S3SigV4QueryAuth(Credentials(key.access_key_id, key.secret_access_key), "s3", region,
                            expires=expires)
    _compare(auth, request, _Signed(access_key_id, date, key_region, "s3", names, signature,
                                    amz_date))
    _check_checksum({k.lower(): v for k, v in headers.items()}, body or b"")
    return key


def _check_checksum(headers: dict[str, str], body: bytes) -> None:
    import base64

    announced = headers.get("x-amz-checksum-sha256")
    if announced is not None and \
            announced != base64.b64encode(hashlib.sha256(body).digest()).decode("ascii"):
        raise SignatureRefused("The x-amz-checksum-sha256 you specified did not match the "
                               "calculated checksum.", status=400)
    length = headers.get("content-length")
    if length is not None and length.isdigit() and int(length) != len(body):
        raise SignatureRefused("You did not provide the number of bytes specified by the "
                               "Content-Length HTTP header.", status=400)
