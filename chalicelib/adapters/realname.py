"""The real-name register (the RealNameRegister port of chalicelib/service/ports.py) in the
cloud: an HTTPS identity verification service (身份核验服务, name and resident identity number
checked against the public security register, directly or through a licensed provider).

The service is reached at REAL_NAME_SERVICE_URL (a deploy parameter) with the key kept in an
SSM SecureString parameter or a Secrets Manager secret named by REAL_NAME_SERVICE_CREDENTIALS,
read once per process:

    POST <url>   Authorization: Bearer <api_key>   Content-Type: application/json
    {"name": "张三", "id_number": "341602199001011234"}
    → 200 {"match": true}  or  200 {"match": false, "reason": "姓名与身份证号不一致"}

Any other answer, or none within the timeout, is VerificationUnavailable (503): nothing is
bound on a doubt. A deployment whose provider speaks another protocol puts a small adapter of
its own behind this contract. Without REAL_NAME_SERVICE_URL no number can be verified: the
real-name step answers 503 rather than trusting what was typed.

Locally the stack's demo register answers from fictional people (local/realname.py); it is
installed by the local stack and is never part of the deployed code. In the China variant the
identity provider's verified claim is the real-name step (chalicelib/adapters/oidc.py)."""
from __future__ import annotations

import json
import os
import threading
from typing import Callable
from urllib.parse import urlsplit

from ..domain.identity import VerificationUnavailable, Verdict

TIMEOUT_SECONDS = 5.0


class HttpsRealNameService:
    def __init__(self, url: str, credentials: str, timeout: float = TIMEOUT_SECONDS,
                 read_secret: Callable[[str], str] | None = None, opener=None):
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError(f"REAL_NAME_SERVICE_URL is not an https address: {url!r}")
        self.url, self.credentials, self.timeout = url, credentials, timeout
        self._read_secret = read_secret
        self._open = opener
        self._key: str | None = None
        self._lock = threading.Lock()

    def verify(self, name: str, id_number: str) -> Verdict:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            self.url, method="POST",
            data=json.dumps({"name": name, "id_number": id_number},
                            ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "Authorization": f"Bearer {self.api_key()}"})
        opener = self._open or urllib.request.urlopen
        try:
            with opener(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, b""
            error.close()
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise VerificationUnavailable(f"the identity verification service could not be "
                                          f"reached ({error}); nothing was bound, try again "
                                          f"later", field="id_number") from None
        try:
            answer = json.loads(raw or b"null")
        except ValueError:
            answer = None
        if status != 200 or not isinstance(answer, dict) \
                or not isinstance(answer.get("match"), bool):
            raise VerificationUnavailable(f"the identity verification service answered "
                                          f"{status} without a verdict; nothing was bound, try "
                                          f"again later", field="id_number")
        reason = answer.get("reason")
        return Verdict(answer["match"], str(reason)[:200] if reason else "")

    def api_key(self) -> str:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    from .notifier import read_secret_reference

                    read = self._read_secret or read_secret_reference
                    try:
                        stored = json.loads(read(self.credentials))
                        self._key = str(stored["api_key"])
                    except Exception:  # noqa: BLE001 - any failure to read the key
                        raise VerificationUnavailable(
                            f"{self.credentials} holds no JSON object with api_key",
                            field="id_number") from None
        return self._key


class Unconfigured:
    """No verification service is configured: nothing can be verified, nothing is bound."""

    def verify(self, name: str, id_number: str) -> Verdict:
        raise VerificationUnavailable("no identity verification service is configured "
                                      "(REAL_NAME_SERVICE_URL); no number can be bound",
                                      field="id_number")


def from_environment():
    url = os.environ.get("REAL_NAME_SERVICE_URL")
    if not url:
        return Unconfigured()
    return HttpsRealNameService(url, os.environ.get("REAL_NAME_SERVICE_CREDENTIALS", ""))
