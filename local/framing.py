"""How the local stack's HTTP servers (the API gateway, the S3 gate and moto) read a request, as
strictly as API Gateway and S3 do.

- **Many clients at once.** The standard library's servers listen with a backlog of 5: under 50
  concurrent clients connections were left hanging or reset. Every server here listens with a
  backlog of LISTEN_BACKLOG, so that a hundred clients at once are all answered.
- **Malformed framing.** A `Content-Length` that is not a whole number of bytes, negative,
  given twice with different values, given with `Transfer-Encoding`, or larger than the body
  that arrives (the body ends, or nothing more arrives for BODY_IDLE_SECONDS) is answered 400
  with a JSON error naming Content-Length, and the connection is closed (what follows on it can
  no longer be told apart from the body); before, the server dropped the connection or read the
  rest of the body as a next request. A body without `Content-Length` (chunked) is answered 411
  where the server cannot read one (the gateway and the S3 gate; moto reads chunked bodies).
  The API gateway refuses a body over API Gateway's 10 MB payload quota with 413.

The body is read here, once framing holds, into `handler.body`.
"""
from __future__ import annotations

import io
import json
from http.server import ThreadingHTTPServer

LISTEN_BACKLOG = 1024           # the listen queue of every local server (the stdlib's is 5)
BODY_IDLE_SECONDS = 10.0        # a body that stops arriving for this long is incomplete


class FramingRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def declared_length(headers, reads_chunked: bool = False, largest: int | None = None
                    ) -> int | None:
    """The body's length as the headers declare it (0 for none), or None for a chunked body
    the handler reads itself; FramingRefused for malformed framing."""
    values = [part.strip() for value in headers.get_all("Content-Length") or []
              for part in str(value).split(",")]
    encoding = ",".join(headers.get_all("Transfer-Encoding") or []).strip()
    if encoding and values:
        raise FramingRefused(400, "Content-Length: a request may not carry both Content-Length "
                                  f"and Transfer-Encoding ({encoding})")
    if encoding:
        if reads_chunked and encoding.lower() == "chunked":
            return None
        raise FramingRefused(411, "Content-Length: a request body must be sent with a "
                                  f"Content-Length header (Transfer-Encoding {encoding} is not "
                                  "accepted here)")
    if not values:
        return 0
    bad = next((v for v in values if not (v.isascii() and v.isdigit())), None)
    if bad is not None:
        raise FramingRefused(400, f"Content-Length: {bad!r} is not a whole number of bytes")
    if len({int(v) for v in values}) > 1:
        raise FramingRefused(400, "Content-Length: the request carries differing "
                                  f"Content-Length values ({', '.join(values)})")
    length = int(values[0])
    if largest is not None and length > largest:
        raise FramingRefused(413, f"Content-Length: {length} bytes is more than the "
                                  f"{largest} bytes a request may carry")
    return length


def read_body(handler, length: int, idle_seconds: float) -> bytes:
    """Exactly `length` bytes of the request's body; FramingRefused (400) when the body ends
    first or nothing more arrives for `idle_seconds`."""
    connection = handler.connection
    before = connection.gettimeout()
    connection.settimeout(idle_seconds)
    chunks, got = [], 0
    try:
        while got < length:
            chunk = handler.rfile.read1(min(65536, length - got))
            if not chunk:
                raise FramingRefused(400, f"Content-Length: the request announced {length} "
                                          f"bytes, but its body ended after {got}")
            chunks.append(chunk)
            got += len(chunk)
    except TimeoutError:
        raise FramingRefused(400, f"Content-Length: the request announced {length} bytes, but "
                                  f"only {got} arrived before it stopped for "
                                  f"{idle_seconds:g} s") from None
    finally:
        try:
            connection.settimeout(before)
        except OSError:
            pass
    return b"".join(chunks)


class StrictFraming:
    """For a BaseHTTPRequestHandler: checks the request's framing and reads its body into
    `self.body` (None for a chunked body the handler reads itself), or answers the refusal."""

    reads_chunked = False
    largest_body: int | None = None
    body_idle_seconds = BODY_IDLE_SECONDS

    def parse_request(self) -> bool:
        self.body = b""
        if not super().parse_request():
            return False
        try:
            length = declared_length(self.headers, self.reads_chunked, self.largest_body)
            self.body = None if length is None else read_body(self, length,
                                                              self.body_idle_seconds)
        except FramingRefused as refused:
            self.refuse_framing(refused)
            return False
        return True

    def refuse_framing(self, refused: FramingRefused) -> None:
        self.close_connection = True
        body = json.dumps({"message": refused.message, "field": "Content-Length"}).encode()
        self.send_response(refused.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class ThreadingServer(ThreadingHTTPServer):
    """The standard library's threading server, with room for many clients at once."""
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


def moto_server(host: str, port: int):
    """moto's threaded server (as moto.server.ThreadedMotoServer starts it), listening with
    LISTEN_BACKLOG and reading requests with StrictFraming (chunked bodies left to werkzeug)."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                               create_backend_app)
    from werkzeug.serving import ThreadedWSGIServer

    class Handler(StrictFraming, MotoRequestHandler):
        reads_chunked = True

        def make_environ(self):
            environ = super().make_environ()
            if self.body is not None:           # read here: werkzeug reads it from memory
                environ["wsgi.input"] = io.BytesIO(self.body)
                environ["CONTENT_LENGTH"] = str(len(self.body))
            return environ

    class Server(ThreadedWSGIServer):
        request_queue_size = LISTEN_BACKLOG

    class MotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)
            self._server = Server(self._ip_address, self._port, app, handler=Handler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return MotoServer(ip_address=host, port=port, verbose=False)
