"""The local gateway's throttling, as API Gateway's stage settings throttle: a token bucket per
(route, method), with the figures of the cloud template's defaults (infra/limits.py): every
method at the stage's rate and burst, the anonymous POST routes far stricter. Over the limit
the request is refused before it reaches the app: 429, as API Gateway answers, with a message
that names the limit."""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Callable

from chalice.local import LocalGatewayException

from infra import limits

log = logging.getLogger("approval.gateway")


class Throttled(LocalGatewayException):
    CODE = 429


class TokenBucket:
    """`burst` tokens at most, refilled at `rate` per second; each request takes one."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and room for one request")
        self.rate, self.burst, self.clock = float(rate), int(burst), clock
        self.tokens = float(burst)
        self.updated = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False

    def wait_seconds(self) -> float:
        """How long until the next request would pass."""
        with self._lock:
            return max(0.0, (1 - self.tokens) / self.rate)


class Throttle:
    def __init__(self, anonymous_posts, stage: limits.Limit = limits.STAGE,
                 anonymous: limits.Limit = limits.ANONYMOUS_POST,
                 lookup: limits.Limit = limits.LOOKUP,
                 clock: Callable[[], float] = time.monotonic):
        self.anonymous_posts = frozenset(anonymous_posts)
        self.stage, self.anonymous, self.lookup, self.clock = stage, anonymous, lookup, clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    @classmethod
    def of_app(cls, app, **figures) -> "Throttle":
        return cls(limits.anonymous_posts_of_app(app), **figures)

    def limit(self, route: str, method: str) -> limits.Limit:
        if method.upper() != "POST" or route not in self.anonymous_posts:
            return self.stage
        return self.lookup if route in limits.LOOKUP_ROUTES else self.anonymous

    def bucket(self, route: str, method: str) -> TokenBucket:
        key = (route, method.upper())
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                limit = self.limit(route, method)
                found = self._buckets[key] = TokenBucket(limit.rate, limit.burst, self.clock)
            return found

    def admit(self, route: str, method: str) -> None:
        """Takes a token for the request or refuses it (Throttled: 429)."""
        bucket = self.bucket(route, method)
        if bucket.take():
            return
        limit = self.limit(route, method)
        message = (f"Too Many Requests: {method.upper()} {route} accepts {limit.rate:g} "
                   f"request(s) per second with bursts of {limit.burst}; retry in "
                   f"{max(bucket.wait_seconds(), 0.1):.1f} s")
        from datetime import datetime, timezone

        # The line API Gateway's access log writes for it (infra/monitoring.py).
        log.warning(json.dumps({
            "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
            + "+0000", "source": "gateway", "status": 429, "method": method.upper(),
            "route": route, "actor": "-", "error": message}))
        raise Throttled({"x-amzn-ErrorType": "TooManyRequestsException",
                         "Retry-After": str(max(1, round(bucket.wait_seconds() + 0.5)))},
                        json.dumps({"message": message}).encode())


_throttles: dict[int, Throttle] = {}
_lock = threading.Lock()


def admit(app, route: str, method: str) -> None:
    """The gateway's check for `app` (one throttle per app object, as one API has one stage)."""
    found = _throttles.get(id(app))
    if found is None:
        with _lock:
            found = _throttles.setdefault(id(app), Throttle.of_app(app))
    found.admit(route, method)
