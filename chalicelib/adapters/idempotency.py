"""Idempotency-Key handling on top of Powertools' idempotency utility: the first answer to a
key is stored and returned to every retry; the same key with another body is refused."""
from __future__ import annotations

import re
from typing import Callable

from ..domain.errors import Conflict, InvalidInput, Unprocessable

KEY = re.compile(r"^[\x21-\x7e]{8,128}$")
KEEP_ANSWERS_SECONDS = 24 * 3600


class PowertoolsIdempotency:
    def __init__(self, persistence_store):
        """`persistence_store`: the store, or a function that makes it when a request first
        carries a key (most requests, and every cold start's first, need none)."""
        self._store = persistence_store

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
