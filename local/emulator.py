"""Where the local emulator must behave as AWS does and moto, run in threads, does not.

DynamoDB runs every TransactWriteItems as one serializable unit. moto applies a transaction's
writes one by one and, when a later condition fails, puts back a copy of the whole table taken
before it began. With requests served in parallel threads that copy can undo a write another
request made in between and was told had succeeded, or leave a trail record without the case
change it belonged to; every later change of that case then fails its condition. The optimistic
concurrency the service relies on (a change lands only on the trail head it read) needs the
real guarantee, so the local stack serves DynamoDB requests one at a time. They are short;
the API and the workflow still run in parallel around them.
"""
from __future__ import annotations

import functools
import threading

_LOCK = threading.RLock()


def serialise_dynamodb() -> None:
    """Idempotent: wraps moto's DynamoDB request handler once per process."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "serialised", False):
        return
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self):
        with _LOCK:
            return original(self)

    call_action.serialised = True
    DynamoHandler.call_action = call_action
