"""Idempotency-Key handling on top of Powertools' idempotency utility: the first answer to a
key is stored and returned to every retry; the same key with another body is refused.

A request's record is "in progress" while its work runs. Powertools deletes it when the work
raises, but a function stopped by its timeout raises nothing: the record stays. Registered with
the invocation's Lambda context, the record's in-progress expiry is the function's remaining
time, so a retry after that instant does the work (or gets the first answer) instead of a 409
until the 24-hour record expires."""
from __future__ import annotations

import re
from typing import Any, Callable

from ..domain.errors import Conflict, InvalidInput, Unprocessable

KEY = re.compile(r"^[\x21-\x7e]{8,128}$")
KEEP_ANSWERS_SECONDS = 24 * 3600


def no_context() -> None:
    return None


class PowertoolsIdempotency:
    def __init__(self, persistence_store, lambda_context: Callable[[], Any] = no_context):
        """`persistence_store`: the store, or a function that makes it when a request first
        carries a key (most requests, and every cold start's first, need none).
        `lambda_context`: the running invocation's Lambda context (None outside one)."""
        self._store = persistence_store
        self.lambda_context = lambda_context

    @property
    def persistence_store(self):
        if callable(self._store) and not hasattr(self._store, "get_record"):
            self._store = self._store()
        return self._store

    def run(self, scope: str, key: str, body: dict, work: Callable[[], dict]) -> dict:
        from aws_lambda_powertools.utilities.idempotency import (IdempotencyConfig,
                                                                 idempotent_function)
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError, IdempotencyValidationError)

        if not KEY.match(key):
            raise InvalidInput("Idempotency-Key must be 8 to 128 visible ASCII characters",
                               field="Idempotency-Key")
        config = IdempotencyConfig(event_key_jmespath="[scope, key]",
                                   payload_validation_jmespath="body",
                                   expires_after_seconds=KEEP_ANSWERS_SECONDS)
        context = self.lambda_context()
        if context is not None:
            # The in-progress record expires with the invocation (its remaining time).
            config.register_lambda_context(context)

        @idempotent_function(data_keyword_argument="request", config=config,
                             persistence_store=self.persistence_store)
        def once(request: dict) -> dict:
            return work()

        try:
            return once(request={"scope": scope, "key": key, "body": body})
        except IdempotencyValidationError:
            raise Unprocessable("this Idempotency-Key was already used for a different request",
                                field="Idempotency-Key")
        except IdempotencyAlreadyInProgressError:
            raise Conflict("a request with this Idempotency-Key is still being processed; "
                           "retry in a moment", field="Idempotency-Key")
