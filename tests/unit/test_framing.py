"""How the local servers read a request's framing (local/framing.py), as API Gateway and S3 do."""
import io
from http.client import parse_headers

import pytest

from local.framing import FramingRefused, declared_length


def headers(raw: bytes):
    return parse_headers(io.BytesIO(raw + b"\r\n"))


def test_a_body_is_as_long_as_its_one_content_length_says():
    assert declared_length(headers(b"Content-Length: 17\r\n")) == 17
    assert declared_length(headers(b"")) == 0
    # The same length twice (or as a list) is one length, as HTTP allows.
    assert declared_length(headers(b"Content-Length: 5\r\nContent-Length: 5\r\n")) == 5
    assert declared_length(headers(b"Content-Length: 5, 5\r\n")) == 5


@pytest.mark.parametrize("raw, status, reason", [
    (b"Content-Length: ten\r\n", 400, "'ten' is not a whole number of bytes"),
    (b"Content-Length: -5\r\n", 400, "'-5' is not a whole number of bytes"),
    (b"Content-Length: 1e3\r\n", 400, "'1e3' is not a whole number of bytes"),
    (b"Content-Length: \xd9\xa3\r\n", 400, "is not a whole number of bytes"),   # not ASCII
    (b"Content-Length: 5\r\nContent-Length: 7\r\n", 400, "differing Content-Length values"),
    (b"Content-Length: 5, 7\r\n", 400, "differing Content-Length values"),
    (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400, "both Content-Length and"),
    (b"Transfer-Encoding: chunked\r\n", 411, "must be sent with a Content-Length"),
])
def test_malformed_framing_is_refused_naming_content_length(raw, status, reason):
    with pytest.raises(FramingRefused) as refused:
        declared_length(headers(raw))
    assert refused.value.status == status
    assert refused.value.message.startswith("Content-Length: ") and reason in refused.value.message


def test_a_chunked_body_is_left_to_a_server_that_reads_one_and_a_large_one_refused():
    assert declared_length(headers(b"Transfer-Encoding: chunked\r\n"), reads_chunked=True) is None
    with pytest.raises(FramingRefused) as refused:
        declared_length(headers(b"Transfer-Encoding: gzip, chunked\r\n"), reads_chunked=True)
    assert refused.value.status == 411
    with pytest.raises(FramingRefused) as refused:
        declared_length(headers(b"Content-Length: 10485761\r\n"), largest=10 * 1024 * 1024)
    assert refused.value.status == 413
