"""A request stopped by its function's timeout raises nothing, so Powertools cannot delete its
in-progress record. Registered with the invocation's Lambda context, that record expires with
the invocation's remaining time, and a retry after that instant does the work instead of
getting a 409 for a day."""
import time

import pytest

from chalicelib.adapters.idempotency import KEEP_ANSWERS_SECONDS, PowertoolsIdempotency
from chalicelib.adapters.memory import InMemoryIdempotencyStore
from chalicelib.domain.errors import Conflict


class Stopped(BaseException):
    """What a function's timeout is to the code it stops: nothing an `except Exception` sees."""


class Context:
    def __init__(self, remaining_ms: int):
        self.deadline = time.monotonic() + remaining_ms / 1000
        self.function_name, self.aws_request_id = "APIHandler", "request-1"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:APIHandler"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def interrupted(idempotency, key="retry-key-0001"):
    def work():
        raise Stopped()
    with pytest.raises(Stopped):
        idempotency.run("submit:alice:case1", key, {"a": 1}, work)


def test_an_interrupted_request_leaves_a_record_that_expires_with_its_invocation():
    store = InMemoryIdempotencyStore()
    context = Context(remaining_ms=300)
    idempotency = PowertoolsIdempotency(store, lambda: context)
    before = int(time.time() * 1000)
    interrupted(idempotency)
    [record] = store.records.values()
    assert record.status == "INPROGRESS"
    # Within the invocation's remaining time, not the 24 hours the answer is kept for.
    assert before < record.in_progress_expiry_timestamp <= before + 300 + 50
    assert record.expiry_timestamp >= before / 1000 + KEEP_ANSWERS_SECONDS - 5
    with pytest.raises(Conflict) as early:            # still running, as far as anyone knows
        idempotency.run("submit:alice:case1", "retry-key-0001", {"a": 1}, lambda: {"done": 1})
    assert early.value.field == "Idempotency-Key"
    time.sleep(0.35)
    retry = PowertoolsIdempotency(store, lambda: Context(remaining_ms=30_000))
    assert retry.run("submit:alice:case1", "retry-key-0001", {"a": 1},
                     lambda: {"done": 2}) == {"done": 2}
    # ...and that answer is the one every later retry gets.
    assert retry.run("submit:alice:case1", "retry-key-0001", {"a": 1},
                     lambda: {"done": 3}) == {"done": 2}


def test_without_a_context_the_interrupted_record_blocks_its_key():
    """What registering the context prevents: the key refused until the record expires."""
    store = InMemoryIdempotencyStore()
    idempotency = PowertoolsIdempotency(store)
    with pytest.warns(UserWarning, match="remaining time"):
        interrupted(idempotency)
    [record] = store.records.values()
    assert record.in_progress_expiry_timestamp is None
    time.sleep(0.05)
    with pytest.raises(Conflict):
        idempotency.run("submit:alice:case1", "retry-key-0001", {"a": 1}, lambda: {"done": 1})
