"""The local S3 front door. Real S3 refuses a presigned upload whose signature, expiry, signed
headers (type, length), session token or checksum do not hold; moto checks none of that for
presigned URLs. This gate checks all of it with the same SigV4 code as the API gateway, then
hands the request to moto signed in the header by the same credentials, so that moto's IAM
decides what the signer's role may do, as S3 does for the signer of a presigned URL. A request
signed in its header must carry x-amz-content-sha256, the body's SHA-256 (checked here against
the body that arrived: moto would take the header's word for it) or UNSIGNED-PAYLOAD, and sign
every x-amz-* header it carries; it then goes to moto as it came (moto checks the signature
and the signer's policies). An unsigned request is refused, but for a browser's CORS
preflight, which S3 answers from the bucket's rules (no bucket of the template lets anyone in
anonymously: each blocks public access). Malformed framing is refused (local/framing.py)."""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler
from typing import Callable
from xml.sax.saxutils import escape

import requests

from .framing import StrictFraming, ThreadingServer
from .sigv4 import Key, SignatureRefused, check_s3_payload, verify_presigned

log = logging.getLogger("approval.s3gate")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


def make_handler(backend: str, keys: Callable[[str], Key | None], region: str):
    session = requests.Session()

    class Handler(StrictFraming, BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self):
            body = self.body or b""          # read by StrictFraming, as its framing declared
            headers = {k: v for k, v in self.headers.items()}
            url = f"http://{self.headers.get('host')}{self.path}"
            path = self.path
            # A browser's preflight (OPTIONS) carries no signature of its own: S3 answers it
            # from the bucket's CORS rules, and so does moto behind this gate.
            if self.command == "OPTIONS":
                pass
            elif "X-Amz-Signature=" in self.path:
                try:
                    key = verify_presigned(self.command, url, headers, body, keys, region)
                    path, headers = _signed_by(key, self.command, backend, self.path, headers,
                                               body, region)
                except SignatureRefused as refused:
                    log.warning(json.dumps({"event": "presigned_refused",
                                            "reason": refused.message, "path": self.path}))
                    return self._error(refused.status, refused.message, refused.code)
            elif "authorization" not in {k.lower() for k in headers}:
                return self._error(403, "Anonymous access is not allowed: sign the request or "
                                        "use a presigned URL.")
            else:
                try:
                    check_s3_payload(headers, body)
                except SignatureRefused as refused:
                    log.warning(json.dumps({"event": "signed_request_refused",
                                            "reason": refused.message, "path": self.path}))
                    return self._error(refused.status, refused.message, refused.code)
            upstream = session.request(self.command, backend + path, data=body or None,
                                       headers=headers, allow_redirects=False)
            self.send_response(upstream.status_code)
            for name, value in upstream.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            content = upstream.content
            # HEAD answers carry the object's length without its body.
            self.send_header("Content-Length", upstream.headers.get("content-length", "0")
                             if self.command == "HEAD" else str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        def _error(self, status: int, message: str, code: str = "AccessDenied"):
            body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
                    f"<Message>{escape(message)}</Message></Error>").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_OPTIONS = _relay

        def log_message(self, format, *args):  # noqa: A002
            log.debug(format, *args)

    return Handler


def _signed_by(key: Key, method: str, backend: str, path: str, headers: dict, body: bytes,
               region: str) -> tuple[str, dict]:
    """The presigned request as its signer would send it with a signed header: the query's
    authentication parameters out, Authorization and the session token in."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    parts = urlsplit(path)
    query = parse_qsl(parts.query, keep_blank_values=True)
    token = dict(query).get("X-Amz-Security-Token")
    if key.session_token and token != key.session_token:
        raise SignatureRefused("The provided token is malformed or otherwise invalid.")
    kept = [(k, v) for k, v in query if not k.startswith("X-Amz-")]
    path = parts.path + (f"?{urlencode(kept)}" if kept else "")
    host = urlsplit(backend).netloc
    sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "authorization")}
    request = AWSRequest(method=method, url=f"{backend}{path}", data=body or b"",
                         headers={**sent, "Host": host})
    S3SigV4Auth(Credentials(key.access_key_id, key.secret_access_key, key.session_token), "s3",
                region).add_auth(request)
    return path, dict(request.headers.items())


def start(backend: str, keys: Callable[[str], Key | None], region: str,
          host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingServer((host, port), make_handler(backend, keys, region))
    threading.Thread(target=server.serve_forever, name="s3-gate", daemon=True).start()
    return server
