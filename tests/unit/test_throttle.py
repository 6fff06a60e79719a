"""The local gateway's token buckets (local/throttle.py): API Gateway's throttling per (route,
method), with the cloud template's figures (infra/limits.py)."""
import json

import pytest

from infra import limits
from local.throttle import Throttle, Throttled, TokenBucket


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_full_bucket_lets_a_burst_through_then_refuses():
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_seconds() == pytest.approx(0.5)


def test_the_bucket_refills_at_its_rate_up_to_its_size():
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    for _ in range(3):
        bucket.take()
    clock.now += 0.5                       # one token back
    assert bucket.take() and not bucket.take()
    clock.now += 60                        # never more than the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_a_fractional_rate_refills_slowly():
    clock = Clock()
    bucket = TokenBucket(rate=0.5, burst=1, clock=clock)
    assert bucket.take() and not bucket.take()
    clock.now += 1.9
    assert not bucket.take()
    clock.now += 0.1
    assert bucket.take()


@pytest.mark.parametrize("rate, burst", [(0, 1), (-1, 5), (1, 0)])
def test_a_bucket_needs_a_rate_and_room(rate, burst):
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


def test_anonymous_posts_get_the_strict_limit_and_every_other_method_the_stages():
    throttle = Throttle(["/visits/codes", "/visits/complaints"], clock=Clock())
    assert throttle.limit("/visits/codes", "POST") == limits.ANONYMOUS_POST
    assert throttle.limit("/visits/complaints", "post") == limits.ANONYMOUS_POST
    assert throttle.limit("/visits/codes", "GET") == limits.STAGE
    assert throttle.limit("/cases", "POST") == limits.STAGE
    assert limits.ANONYMOUS_POST.rate < limits.STAGE.rate
    assert limits.ANONYMOUS_POST.burst < limits.STAGE.burst


def test_the_lookups_get_their_own_figures():
    throttle = Throttle(["/lookup", "/public/documents/check", "/visits/codes"], clock=Clock())
    assert throttle.limit("/lookup", "POST") == limits.LOOKUP
    assert throttle.limit("/public/documents/check", "POST") == limits.LOOKUP
    assert throttle.limit("/visits/codes", "POST") == limits.ANONYMOUS_POST
    for _ in range(limits.LOOKUP.burst):
        throttle.admit("/lookup", "POST")
    with pytest.raises(Throttled) as refused:
        throttle.admit("/lookup", "POST")
    assert "accepts 10 request(s) per second with bursts of 20" in \
        json.loads(refused.value.body)["message"]


def test_each_route_and_method_has_its_own_bucket():
    clock = Clock()
    throttle = Throttle(["/visits/codes", "/visits/complaints"], clock=clock)
    for _ in range(limits.ANONYMOUS_POST.burst):
        throttle.admit("/visits/codes", "POST")
    with pytest.raises(Throttled) as refused:
        throttle.admit("/visits/codes", "POST")
    throttle.admit("/visits/complaints", "POST")      # another route: its own bucket
    throttle.admit("/guide/halls", "GET")
    answer = refused.value
    assert answer.CODE == 429
    assert answer.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert int(answer.headers["Retry-After"]) >= 1
    message = json.loads(answer.body)["message"]
    assert message.startswith("Too Many Requests: POST /visits/codes accepts 1 request(s) per "
                              "second with bursts of 5")
    clock.now += 1 / limits.ANONYMOUS_POST.rate
    throttle.admit("/visits/codes", "POST")


def test_the_apps_anonymous_posts_are_the_visitors_routes():
    import app

    assert Throttle.of_app(app.app).anonymous_posts == {"/visits/codes", "/visits/complaints",
                                                        "/lookup", "/public/documents/check"}
