"""Lazily created AWS clients, one per service and process: nothing is built at import time, so
a cold start pays only for the clients a request really uses."""
from __future__ import annotations

import threading

_clients: dict = {}
_lock = threading.Lock()


def client(service: str, endpoint_url: str | None = None):
    """`endpoint_url` for services reached at an address another call returned (Kinesis
    Video's data endpoints); otherwise the environment's endpoint applies."""
    key = (service, endpoint_url)
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                import boto3
                from botocore.config import Config

                # Virtual-hosted S3 addresses do not resolve on a local endpoint; path style works
                # everywhere.
                config = Config(s3={"addressing_style": "path"}, signature_version="s3v4") \
                    if service == "s3" else None
                found = _clients[key] = boto3.client(service, config=config,
                                                     endpoint_url=endpoint_url)
    return found


def reset() -> None:
    """Forget every client (tests that move the endpoint)."""
    _clients.clear()
