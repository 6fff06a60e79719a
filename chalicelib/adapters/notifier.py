"""Text messages to mainland mobile numbers (the Notifier port of chalicelib/service/ports.py).

Two adapters, chosen by SMS_GATEWAY (set by the template): `sns` sends through Amazon SNS (and
moto's SNS in the local stack, whose published messages are its outbox); `http` through a
domestic SMS gateway's HTTP API where SNS text messages are not offered (AWS's China regions).
The gateway speaks Alibaba Cloud SMS's `SendSms` (dysmsapi 2017-05-25) signed with
ACS3-HMAC-SHA256, which the public cloud and the provincial government clouds (Apsara Stack)
share: a sign name and an approved template code are required, and the text travels as the
template's one variable. Its access key is read once, at first use, from an SSM SecureString
parameter or a Secrets Manager secret.

Both adapters raise when a message is not accepted. `Reported` wraps them for the services: a
failed text must not undo the recorded event it tells of, so its failure is logged (with the
gateway's answer) and the work goes on."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import uuid
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import quote, urlsplit

from ..logs import logger
from . import aws

ALGORITHM = "ACS3-HMAC-SHA256"
ACTION, VERSION = "SendSms", "2017-05-25"
TIMEOUT_SECONDS = 5.0
DEFAULT_URL = "https://dysmsapi.aliyuncs.com/"


class TextMessageFailed(Exception):
    """The gateway did not accept the message (or could not be reached)."""


class SnsNotifier:
    """Text messages through Amazon SNS."""

    def send(self, phone: str, text: str) -> None:
        # A citizen's 11-digit mobile is Chinese; a number already in E.164 (the demo staff
        # directory's fictional +44 7700 900xxx) goes as it is.
        number = phone if phone.startswith("+") else f"+86{phone}"
        aws.client("sns").publish(PhoneNumber=number, Message=text)


class HttpSmsGateway:
    """Text messages through a domestic SMS gateway's HTTP API (SendSms, ACS3-HMAC-SHA256)."""

    def __init__(self, url: str, credentials: str, sign_name: str, template_code: str,
                 template_variable: str = "content", timeout: float = TIMEOUT_SECONDS,
                 read_secret: Callable[[str], str] | None = None,
                 now: Callable[[], datetime] | None = None):
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError(f"SMS_GATEWAY_URL is not an http(s) address: {url!r}")
        self.url, self.credentials = url, credentials
        self.sign_name, self.template_code = sign_name, template_code
        self.template_variable, self.timeout = template_variable, timeout
        self._read_secret = read_secret or read_secret_reference
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._key: tuple[str, str] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls) -> "HttpSmsGateway":
        missing = [name for name in ("SMS_GATEWAY_CREDENTIALS", "SMS_SIGN_NAME",
                                     "SMS_TEMPLATE_CODE") if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"the SMS gateway is not configured: {', '.join(missing)} unset")
        return cls(os.environ.get("SMS_GATEWAY_URL") or DEFAULT_URL,
                   os.environ["SMS_GATEWAY_CREDENTIALS"], os.environ["SMS_SIGN_NAME"],
                   os.environ["SMS_TEMPLATE_CODE"],
                   os.environ.get("SMS_TEMPLATE_VARIABLE") or "content")

    def send(self, phone: str, text: str) -> None:
        import urllib.error
        import urllib.request

        request = self.request(phone, text)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
            error.close()
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise TextMessageFailed(f"the SMS gateway could not be reached: {error}") from None
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if status >= 300 or answer.get("Code") != "OK":
            raise TextMessageFailed(f"the SMS gateway answered {status} "
                                    f"{answer.get('Code', '')}: {answer.get('Message', '')}"
                                    .strip())

    def request(self, phone: str, text: str):
        """The signed POST: the parameters in the query string, an empty body."""
        import urllib.request

        key_id, secret = self.access_key()
        params = {"PhoneNumbers": phone, "SignName": self.sign_name,
                  "TemplateCode": self.template_code,
                  "TemplateParam": json.dumps({self.template_variable: text},
                                              ensure_ascii=False, separators=(",", ":"))}
        parts = urlsplit(self.url)
        path = parts.path or "/"
        query = canonical_query(params)
        body = b""
        headers = {"host": parts.netloc, "x-acs-action": ACTION, "x-acs-version": VERSION,
                   "x-acs-date": self._now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "x-acs-signature-nonce": uuid.uuid4().hex,
                   "x-acs-content-sha256": hashlib.sha256(body).hexdigest()}
        signed_headers, signature = sign("POST", path, query, headers, body, secret)
        headers["Authorization"] = (f"{ALGORITHM} Credential={key_id},"
                                    f"SignedHeaders={signed_headers},Signature={signature}")
        return urllib.request.Request(f"{parts.scheme}://{parts.netloc}{path}?{query}",
                                      data=body, headers=headers, method="POST")

    def access_key(self) -> tuple[str, str]:
        """(AccessKeyId, AccessKeySecret), read once per process from the secret store."""
        if self._key is None:
            with self._lock:
                if self._key is None:
                    try:
                        stored = json.loads(self._read_secret(self.credentials))
                        self._key = (stored["access_key_id"], stored["access_key_secret"])
                    except (ValueError, KeyError, TypeError):
                        raise TextMessageFailed(
                            f"{self.credentials} holds no JSON object with access_key_id and "
                            "access_key_secret") from None
        return self._key


def percent(value: str) -> str:
    """RFC 3986 percent-encoding of UTF-8 (space as %20, only A-Z a-z 0-9 - _ . ~ kept)."""
    return quote(value, safe="-_.~")


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()))


def sign(method: str, path: str, query: str, headers: dict[str, str], body: bytes,
         secret: str) -> tuple[str, str]:
    """ACS3-HMAC-SHA256: HMAC-SHA256 with the key's secret over the hash of the canonical
    request (method, path, sorted query, host and x-acs-* headers, the body's SHA-256)."""
    signed = {k.lower(): v.strip() for k, v in headers.items()
              if k.lower() in ("host", "content-type") or k.lower().startswith("x-acs-")}
    names = sorted(signed)
    canonical = "\n".join([method, path, query,
                           "".join(f"{name}:{signed[name]}\n" for name in names),
                           ";".join(names), hashlib.sha256(body).hexdigest()])
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return ";".join(names), hmac.new(secret.encode(), to_sign.encode(),
                                     hashlib.sha256).hexdigest()


def read_secret_reference(reference: str) -> str:
    """`ssm:/path/name` (a SecureString parameter) or `secretsmanager:name` (a secret)."""
    store, _, name = reference.partition(":")
    if store == "ssm" and name:
        return aws.client("ssm").get_parameter(Name=name, WithDecryption=True)[
            "Parameter"]["Value"]
    if store == "secretsmanager" and name:
        return aws.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    raise TextMessageFailed(f"SMS_GATEWAY_CREDENTIALS names no secret store: {reference!r}")


class Reported:
    """The services' notifier: a failed text is logged, never raised into the recorded work."""

    def __init__(self, notifier):
        self.notifier = notifier

    def send(self, phone: str, text: str) -> None:
        try:
            self.notifier.send(phone, text)
        except Exception:  # noqa: BLE001 - a failed text must not undo the recorded event
            logger.exception("notification failed", extra={"phone": phone})


def from_environment():
    """The adapter SMS_GATEWAY names (sns by default), wrapped in Reported."""
    kind = os.environ.get("SMS_GATEWAY") or "sns"
    if kind == "sns":
        return Reported(SnsNotifier())
    if kind == "http":
        return Reported(HttpSmsGateway.from_environment())
    raise RuntimeError(f"SMS_GATEWAY is sns or http, not {kind!r}")
