"""Lazily created AWS clients, one per service and process: nothing is built at import time, so
a cold start pays only for the clients a request really uses."""
from __future__ import annotations

import threading

_clients: dict = {}
_lock = threading.Lock()


def client(service: str):
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                import boto3
                from botocore.config import Config

                # Virtual-hosted S3 addresses do not resolve on a local endpoint; path style works
                # everywhere.
                config = Config(s3={"addressing_style": "path"}, signature_version="s3v4") \
                    if service == "s3" else None
                found = _clients[service] = boto3.client(service, config=config)
    return found


def reset() -> None:
    """Forget every client (tests that move the endpoint)."""
    _clients.clear()
