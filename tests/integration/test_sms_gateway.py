"""The domestic SMS gateway adapter (China variant) against a tiny gateway on a local port: the
request it signs (checked here from the ACS3-HMAC-SHA256 rules, not with the adapter's own
code), what it sends, and that any refusal raises. The access key comes from SSM or Secrets
Manager (moto), read once."""
import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from chalicelib.adapters.notifier import (HttpSmsGateway, Reported, TextMessageFailed,
                                          read_secret_reference)

KEY_ID, SECRET = "LTAI5tExampleKeyId", "ExampleSecret/with+chars="
KEY_JSON = json.dumps({"access_key_id": KEY_ID, "access_key_secret": SECRET})
NOW = datetime(2026, 11, 21, 2, 3, 4, tzinfo=timezone.utc)


class Gateway(BaseHTTPRequestHandler):
    answers: list = []        # (status, body) to give, in turn; then 200 OK
    received: list = []
    delay = 0.0

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        Gateway.received.append({"path": self.path, "headers": dict(self.headers),
                                 "body": body})
        time.sleep(Gateway.delay)
        status, answer = Gateway.answers.pop(0) if Gateway.answers else (
            200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0",
                  "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"})
        raw = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def gateway_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def fresh_gateway():
    Gateway.answers, Gateway.received, Gateway.delay = [], [], 0.0


def adapter(url, reads=None, **options):
    def read(reference):
        if reads is not None:
            reads.append(reference)
        return KEY_JSON
    return HttpSmsGateway(url, "ssm:/approval/sms-gateway", "亳州政务服务", "SMS_154950909",
                          read_secret=read, now=lambda: NOW, **options)


def expected_signature(received: dict) -> tuple[str, str]:
    """The ACS3-HMAC-SHA256 signature of what the gateway received, from the published rules."""
    headers = {k.lower(): v.strip() for k, v in received["headers"].items()}
    parts = urlsplit(received["path"])
    pairs = sorted(parse_qsl(parts.query, keep_blank_values=True))
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)
    names = sorted(n for n in headers if n == "host" or n.startswith("x-acs-"))
    canonical = (f"POST\n{parts.path}\n{query}\n"
                 + "".join(f"{n}:{headers[n]}\n" for n in names) + "\n"
                 + ";".join(names) + "\n" + hashlib.sha256(received["body"]).hexdigest())
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    return ";".join(names), hmac.new(SECRET.encode(), to_sign.encode(),
                                     hashlib.sha256).hexdigest()


def test_a_text_is_sent_as_a_signed_sendsms_request(gateway_url):
    adapter(gateway_url).send("13800138000", "【政务服务】您的办件BZ-20261121-00042已办结。")
    [received] = Gateway.received
    headers = {k.lower(): v for k, v in received["headers"].items()}
    assert headers["x-acs-action"] == "SendSms" and headers["x-acs-version"] == "2017-05-25"
    assert headers["x-acs-date"] == "2026-11-21T02:03:04Z"
    assert headers["x-acs-content-sha256"] == hashlib.sha256(b"").hexdigest()
    assert received["body"] == b""
    params = dict(parse_qsl(urlsplit(received["path"]).query))
    assert params == {"PhoneNumbers": "13800138000", "SignName": "亳州政务服务",
                      "TemplateCode": "SMS_154950909",
                      "TemplateParam": json.dumps(
                          {"content": "【政务服务】您的办件BZ-20261121-00042已办结。"},
                          ensure_ascii=False, separators=(",", ":"))}
    signed_headers, signature = expected_signature(received)
    assert headers["authorization"] == (f"ACS3-HMAC-SHA256 Credential={KEY_ID},"
                                        f"SignedHeaders={signed_headers},Signature={signature}")
    assert signed_headers == ("host;x-acs-action;x-acs-content-sha256;x-acs-date;"
                              "x-acs-signature-nonce;x-acs-version")


def test_each_request_has_its_own_nonce_and_the_key_is_read_once(gateway_url):
    reads = []
    sender = adapter(gateway_url, reads)
    sender.send("13800138000", "一")
    sender.send("13900139000", "二")
    nonces = {{k.lower(): v for k, v in r["headers"].items()}["x-acs-signature-nonce"]
              for r in Gateway.received}
    assert len(nonces) == 2 and reads == ["ssm:/approval/sms-gateway"]


@pytest.mark.parametrize("status, answer", [
    (400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"}),
    (403, {"Code": "Forbidden.RAM", "Message": "User not authorized"}),
    (500, {"Code": "InternalError", "Message": "The request processing has failed"}),
    (503, "not json"),
    (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}),
    (200, {}),
])
def test_a_refusal_by_the_gateway_raises(gateway_url, status, answer):
    Gateway.answers = [(status, answer)]
    with pytest.raises(TextMessageFailed, match=str(status)):
        adapter(gateway_url).send("13800138000", "一")


def test_an_unreachable_or_slow_gateway_raises_within_the_timeout(gateway_url):
    Gateway.delay = 1.0
    started = time.monotonic()
    with pytest.raises(TextMessageFailed, match="could not be reached"):
        adapter(gateway_url, timeout=0.2).send("13800138000", "一")
    assert time.monotonic() - started < 1.0
    with pytest.raises(TextMessageFailed, match="could not be reached"):
        adapter("http://127.0.0.1:9/").send("13800138000", "一")


def test_the_services_notifier_logs_a_failed_text_and_goes_on(gateway_url, caplog):
    Gateway.answers = [(500, {"Code": "InternalError", "Message": "failed"})]
    Reported(adapter(gateway_url)).send("13800138000", "一")
    assert "notification failed" in caplog.text and "500 InternalError" in caplog.text


def test_credentials_that_are_not_a_key_pair_raise():
    sender = HttpSmsGateway("https://sms.example.gov.cn/", "ssm:/x", "亳州政务服务",
                            "SMS_1", read_secret=lambda _: "plain text")
    with pytest.raises(TextMessageFailed, match="access_key_id"):
        sender.send("13800138000", "一")


def test_the_key_is_read_from_an_ssm_securestring_or_a_secrets_manager_secret(monkeypatch):
    from moto import mock_aws

    from chalicelib.adapters import aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws.reset()
    with mock_aws():
        import boto3

        boto3.client("ssm").put_parameter(Name="/approval/sms-gateway", Value=KEY_JSON,
                                          Type="SecureString")
        boto3.client("secretsmanager").create_secret(Name="approval/sms-gateway",
                                                     SecretString=KEY_JSON)
        assert read_secret_reference("ssm:/approval/sms-gateway") == KEY_JSON
        assert read_secret_reference("secretsmanager:approval/sms-gateway") == KEY_JSON
        with pytest.raises(TextMessageFailed):
            read_secret_reference("/approval/sms-gateway")
    aws.reset()
