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
