"""The local gateways refuse what API Gateway and S3 refuse."""
import base64
import hashlib
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from local.sigv4 import Key, SignatureRefused, verify_presigned, verify_request

DEPT = Key("AKIADEPTSCJG", "dept-secret", "arn:aws:iam::123456789012:user/approval/department/SCJG")
APP = Key("AKIAAPP", "app-secret", "arn:aws:iam::123456789012:role/approval-api-handler")
URL = "http://127.0.0.1:8000/department/cases?page=2"
BODY = b'{"item":"SCJG-001"}'


def signed(key=DEPT, body=BODY, url=URL):
    request = AWSRequest(method="POST", url=url, data=body,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "execute-api",
              "us-east-1").add_auth(request)
    return {**dict(request.headers.items()), "Host": "127.0.0.1:8000"}


def check(headers, body=BODY, now=None):
    return verify_request("POST", URL, headers, body, {DEPT.access_key_id: DEPT}.get,
                          "us-east-1", now=now)


def test_a_correct_signature_names_its_key():
    assert check(signed()) == DEPT


def test_unsigned_request_is_refused():
    with pytest.raises(SignatureRefused, match="Missing Authentication Token"):
        check({"Host": "127.0.0.1:8000"})


def test_tampered_body_is_refused():
    with pytest.raises(SignatureRefused, match="signature we calculated does not match"):
        check(signed(), body=b'{"item":"GA-001"}')


def test_wrong_secret_is_refused():
    forged = Key(DEPT.access_key_id, "guessed", DEPT.arn)
    with pytest.raises(SignatureRefused, match="does not match"):
        check(signed(forged))


def test_unknown_key_is_refused():
    with pytest.raises(SignatureRefused, match="security token included in the request is invalid"):
        check(signed(Key("AKIANOBODY", "x", "arn")))


def test_stale_signature_is_refused():
    later = datetime.now(timezone.utc) + timedelta(minutes=6)
    with pytest.raises(SignatureRefused, match="Signature expired"):
        check(signed(), now=later)


def presigned(body, content_type="application/pdf", expires=60):
    s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:5001", region_name="us-east-1",
                      aws_access_key_id=APP.access_key_id,
                      aws_secret_access_key=APP.secret_access_key,
                      config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
    checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
    url = s3.generate_presigned_url("put_object", ExpiresIn=expires, Params={
        "Bucket": "approval-materialsbucket", "Key": "cases/c1/licence/abc",
        "ContentType": content_type, "ContentLength": len(body), "ChecksumSHA256": checksum})
    headers = {"Host": "127.0.0.1:5001", "Content-Type": content_type,
               "Content-Length": str(len(body)), "x-amz-checksum-sha256": checksum}
    return url, headers


def put(url, headers, body, now=None):
    return verify_presigned("PUT", url, headers, body, {APP.access_key_id: APP}.get,
                            "us-east-1", now=now)


def test_presigned_upload_of_the_announced_file_passes():
    url, headers = presigned(b"%PDF-1.7 licence")
    assert put(url, headers, b"%PDF-1.7 licence") == APP


def test_presigned_upload_with_another_type_is_refused():
    url, headers = presigned(b"%PDF-1.7 licence")
    with pytest.raises(SignatureRefused, match="does not match"):
        put(url, {**headers, "Content-Type": "image/png"}, b"%PDF-1.7 licence")


def test_presigned_upload_of_a_larger_file_is_refused():
    url, headers = presigned(b"%PDF-1.7 licence")
    with pytest.raises(SignatureRefused):
        put(url, {**headers, "Content-Length": "17"}, b"%PDF-1.7 licence!")


def test_presigned_upload_with_other_content_fails_the_checksum():
    url, headers = presigned(b"%PDF-1.7 licence")
    with pytest.raises(SignatureRefused, match="checksum") as refused:
        put(url, headers, b"%PDF-1.7 licencX")
    assert refused.value.status == 400


def test_expired_presigned_url_is_refused():
    url, headers = presigned(b"%PDF-1.7 licence", expires=60)
    with pytest.raises(SignatureRefused, match="expired"):
        put(url, headers, b"%PDF-1.7 licence", now=datetime.now(timezone.utc) + timedelta(minutes=2))


def test_a_presigned_download_with_a_chinese_file_name_passes_and_a_changed_one_is_refused():
    from urllib.parse import quote

    s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:5001", region_name="us-east-1",
                      aws_access_key_id=APP.access_key_id,
                      aws_secret_access_key=APP.secret_access_key,
                      config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
    url = s3.generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": "approval-materialsbucket", "Key": "cases/c1/articles/abc",
        "ResponseContentType": "application/pdf",
        "ResponseContentDisposition": f"inline; filename*=UTF-8''{quote('公司章程 2026.pdf')}"})
    get = lambda u: verify_presigned("GET", u, {"Host": "127.0.0.1:5001"}, b"",  # noqa: E731
                                     {APP.access_key_id: APP}.get, "us-east-1")
    assert get(url) == APP
    with pytest.raises(SignatureRefused, match="does not match"):
        get(url.replace("inline", "attachment"))


# -- the payload: API Gateway hashes the body it received; S3 checks the announced hash --------
def signed_with_payload_header(value, body=BODY):
    request = AWSRequest(method="POST", url=URL, data=body,
                         headers={"Content-Type": "application/json",
                                  "X-Amz-Content-SHA256": value})
    SigV4Auth(Credentials(DEPT.access_key_id, DEPT.secret_access_key), "execute-api",
              "us-east-1").add_auth(request)
    return {**dict(request.headers.items()), "Host": "127.0.0.1:8000"}


def test_a_request_signed_unsigned_payload_is_refused_with_any_body():
    headers = signed_with_payload_header("UNSIGNED-PAYLOAD")
    for body in (BODY, b'{"item":"GA-001"}'):
        with pytest.raises(SignatureRefused, match="signature we calculated does not match"):
            check(headers, body=body)


def test_a_signed_payload_hash_verifies_with_its_body_only():
    headers = signed_with_payload_header(hashlib.sha256(BODY).hexdigest())
    assert check(headers) == DEPT
    with pytest.raises(SignatureRefused, match="does not match"):
        check(headers, body=b'{"item":"GA-001"}')
    # The hash of the other body announced and signed: still not the body that arrived.
    other = signed_with_payload_header(hashlib.sha256(b'{"item":"GA-001"}').hexdigest())
    with pytest.raises(SignatureRefused, match="does not match"):
        check(other)


def s3_signed(body, unsigned_payload=False):
    """A PutObject signed in its header as botocore signs it (its payload unsigned when the
    client is configured so, as S3 allows)."""
    from botocore.auth import S3SigV4Auth

    request = AWSRequest(method="PUT", url="http://127.0.0.1:5001/approval-reportsbucket/r.csv",
                         data=body)
    request.context["client_config"] = Config(s3={"payload_signing_enabled": not unsigned_payload})
    S3SigV4Auth(Credentials(APP.access_key_id, APP.secret_access_key), "s3",
                "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_s3_takes_a_header_signed_body_only_with_its_own_hash_or_unsigned_payload():
    from local.sigv4 import check_s3_payload

    headers = s3_signed(b"a,b\n1,2\n")
    check_s3_payload(headers, b"a,b\n1,2\n")
    with pytest.raises(SignatureRefused, match="does not match what was computed") as refused:
        check_s3_payload(headers, b"a,b\n1,3\n")
    assert (refused.value.status, refused.value.code) == (400, "XAmzContentSHA256Mismatch")
    unsigned = s3_signed(b"a,b\n1,2\n", unsigned_payload=True)
    assert unsigned["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    check_s3_payload(unsigned, b"anything: S3 allows an unsigned payload")


def test_s3_refuses_a_header_signed_request_without_a_valid_payload_hash_or_unsigned_headers():
    from local.sigv4 import check_s3_payload

    headers = s3_signed(b"x")
    missing = {k: v for k, v in headers.items() if k != "X-Amz-Content-SHA256"}
    for bad, status, code in ((missing, 400, "InvalidRequest"),
                              ({**headers, "X-Amz-Content-SHA256": "abc"}, 400, "InvalidArgument"),
                              ({**headers, "X-Amz-Content-SHA256":
                                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, 501, "NotImplemented"),
                              ({**headers, "x-amz-meta-owner": "someone"}, 403, "AccessDenied")):
        with pytest.raises(SignatureRefused) as refused:
            check_s3_payload(bad, b"x")
        assert (refused.value.status, refused.value.code) == (status, code), bad
    with pytest.raises(SignatureRefused, match="not signed: x-amz-meta-owner"):
        check_s3_payload({**headers, "x-amz-meta-owner": "someone"}, b"x")
