"""The local S3 front door. moto stores whatever it is sent; real S3 refuses a presigned upload
whose signature, expiry, signed headers (type, length) or checksum do not hold. This gate
checks all of that with the same SigV4 code as the API gateway, then hands the request to moto
unchanged."""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from xml.sax.saxutils import escape

import requests

from .sigv4 import Key, SignatureRefused, verify_presigned

log = logging.getLogger("approval.s3gate")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


def make_handler(backend: str, keys: Callable[[str], Key | None], region: str):
    session = requests.Session()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items()}
            url = f"http://{self.headers.get('host')}{self.path}"
            # A browser's preflight (OPTIONS) carries no signature of its own: S3 answers it
            # from the bucket's CORS rules, and so does moto behind this gate.
            if "X-Amz-Signature=" in self.path and self.command != "OPTIONS":
                try:
                    verify_presigned(self.command, url, headers, body, keys, region)
                except SignatureRefused as refused:
                    log.warning(json.dumps({"event": "presigned_refused",
                                            "reason": refused.message, "path": self.path}))
                    return self._error(refused.status, refused.message)
            upstream = session.request(self.command, backend + self.path, data=body or None,
                                       headers={k: v for k, v in headers.items()
                                                if k.lower() != "host"},
                                       allow_redirects=False)
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

        def _error(self, status: int, message: str):
            code = "AccessDenied" if status == 403 else "BadDigest"
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


def start(backend: str, keys: Callable[[str], Key | None], region: str,
          host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(backend, keys, region))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="s3-gate", daemon=True).start()
    return server
