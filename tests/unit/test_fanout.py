"""Scheduled work fans out through queues, and counting is never dropped: the daily default
ratings hand one message per hall, a hall's share becomes batches of at most 50 cases, a batch
handled twice rates and counts nothing twice; the hourly export hands one message per period and
one for the public board, whose figures the board then reads precompiled; counting that fails
goes to the counting queue, whose message is counted once however often it is delivered."""
import json
import logging

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

import app
from chalicelib import bootstrap
from chalicelib.adapters.memory import InMemoryCounters, InMemoryReports
from chalicelib.adapters.queues import InMemoryQueue
from chalicelib.domain import events, shards
from chalicelib.domain.counting import grouped, increments
from chalicelib.service.performance import Performance
from tests.unit.test_queue_handlers import Context, sqs_event
from tests.unit.test_supervision_service import (ALICE, CITY, WORKDAY, completed_case,  # noqa
                                                 counted_by, tick, w)


@pytest.fixture
def performance(w):
    found = Performance(w.catalog, InMemoryCounters(), InMemoryReports(), lambda: w.now[0],
                        scope=w.service.scope.halls_of, cases=w.cases, retries=InMemoryQueue())
    counted_by(w, found)
    return found


@pytest.fixture
def wired(w, performance, monkeypatch):
    """app.py's schedules and queue handlers over the in-memory services and queues."""
    queues = {"ratings": InMemoryQueue(), "exports": InMemoryQueue(),
              "counting": performance.retries}
    monkeypatch.setattr(bootstrap, "queue", lambda name: queues[name])
    monkeypatch.setattr(bootstrap, "_supervision", w.service)
    monkeypatch.setattr(bootstrap, "_performance", performance)
    return queues


SCHEDULED = {"version": "0", "id": "tick-1", "detail-type": "Scheduled Event",
             "source": "aws.events", "account": "123456789012", "time": "2026-11-18T02:00:00Z",
             "region": "us-east-1", "resources": [], "detail": {}}


def deliver(handler, messages, queue):
    return handler(sqs_event(*(json.dumps(m) for m in messages), queue=queue), Context())


def ratings_counted(performance, day="2026-11"):
    return sum(r["metrics"].get("ratings", 0) for r in performance.counters.of_period(day)
               if r["scope"] == "department")


# -- default ratings ----------------------------------------------------------------------------
def test_the_daily_run_hands_one_message_per_hall_that_rates_by_default(w, wired):
    app.default_ratings(SCHEDULED, Context())
    shares = wired["ratings"].take()
    halls = [code for code in sorted(w.catalog.halls)
             if w.catalog.policy(code).default_rating_days]
    assert [s["hall"] for s in shares] == halls and "BZGY" not in halls
    assert {s["at"] for s in shares} == {w.now[0].isoformat()}
    assert not w.events.of(events.RatingGiven)                       # nothing rated by the run


def test_a_halls_share_becomes_batches_of_fifty_and_each_batch_rates_its_cases(w, wired,
                                                                               performance):
    ids = [completed_case(w, case_id=f"case{i:04d}") for i in range(120)]
    tick(w, 7 * WORKDAY + 1)
    app.default_ratings(SCHEDULED, Context())
    [share] = [s for s in wired["ratings"].take() if s["hall"] == "BZ"]
    assert deliver(app.rate_by_default, [share], "approval-default-ratings") == \
        {"batchItemFailures": []}
    batches = wired["ratings"].take()
    assert [len(b["cases"]) for b in batches] == [50, 50, 20]
    assert sorted(c for b in batches for c in b["cases"]) == sorted(ids)
    assert all(w.cases.get(c).rating is None for c in ids)       # listing rates nothing
    for batch in batches:
        deliver(app.rate_by_default, [batch], "approval-default-ratings")
    assert all(w.cases.get(c).rating["by"] == "default" for c in ids)
    assert ratings_counted(performance) == 120


def test_a_batch_delivered_again_rates_and_counts_nothing_twice(w, wired, performance):
    first, rated = completed_case(w), completed_case(w, case_id="case0002")
    tick(w, 7 * WORKDAY + 1)
    batch = {"hall": "BZ", "at": w.now[0].isoformat(), "cases": [first, rated]}
    w.service.ratings.rate(ALICE, rated, {"level": 2})             # the applicant was first
    deliver(app.rate_by_default, [batch], "approval-default-ratings")
    trail = len(w.cases.trail(first))
    tick(w, 60)
    assert deliver(app.rate_by_default, [batch], "approval-default-ratings") == \
        {"batchItemFailures": []}
    assert len(w.cases.trail(first)) == trail                      # no second rating record
    assert w.cases.get(rated).rating["level"] == 2
    assert ratings_counted(performance) == 2                       # one each, not three
    assert len(w.events.of(events.RatingGiven)) == 3               # published again, deduplicated


def test_a_batch_whose_counting_fails_is_received_again_and_then_counted_once(w, wired,
                                                                               performance):
    case_id = completed_case(w)
    tick(w, 7 * WORKDAY + 1)
    batch = {"hall": "BZ", "at": w.now[0].isoformat(), "cases": [case_id]}
    add = performance.counters.add
    performance.counters.add = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("throttled"))
    event = sqs_event(json.dumps(batch), queue="approval-default-ratings")
    with pytest.raises(BatchProcessingError):          # its only message failed: received again
        app.rate_by_default(event, Context())
    assert w.cases.get(case_id).rating["by"] == "default"          # the rating stands
    performance.counters.add = add
    deliver(app.rate_by_default, [batch], "approval-default-ratings")
    deliver(app.rate_by_default, [batch], "approval-default-ratings")
    assert ratings_counted(performance) == 1


def test_a_case_not_of_the_batchs_hall_or_not_yet_due_is_left(w, wired):
    early = completed_case(w)
    other = completed_case(w, hall="BZQC", case_id="case0002")
    tick(w, 2 * WORKDAY)
    assert w.service.ratings.rate_by_default("BZ", [early, other, "no-such-case"]) == []
    assert w.cases.get(early).rating is None and w.cases.get(other).rating is None


# -- counting retried through the counting queue ----------------------------------------------
class FailingAt:
    """Counters whose n-th add fails (a throttled or timed-out UpdateItem)."""

    def __init__(self, counters, fail_at):
        self.counters, self.fail_at, self.calls = counters, fail_at, 0

    def add(self, grouped, once=None):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("ProvisionedThroughputExceededException")
        return self.counters.add(grouped, once=once)

    def __getattr__(self, name):
        return getattr(self.counters, name)


def rating(case_id="case0001"):
    from datetime import datetime, timezone

    return events.RatingGiven(case_id, datetime(2026, 11, 18, 3, tzinfo=timezone.utc), 5,
                              events.Handler("SCJG", "BZ-A01", "BZ-A01-01"))


def test_a_failed_count_sends_what_is_left_to_the_counting_queue_and_loses_nothing(w):
    memory, queue = InMemoryCounters(), InMemoryQueue()
    performance = Performance(w.catalog, FailingAt(memory, 4), InMemoryReports(),
                              lambda: w.now[0], retries=queue)
    performance.count(rating())
    expected = grouped(increments(rating()))
    [message] = queue.sent
    assert len(message["increments"]) == len(expected) - 3         # the three added stay added
    performance.count_again(message)
    performance.count_again(message)                               # delivered again
    assert memory.rows == expected                                 # every item exactly once


def test_a_counting_message_is_counted_once_through_the_queue_handler(w, wired, performance):
    message = {"id": "m-1", "event": "RatingGiven",
               "increments": [["department", "SCJG", "2026-11", {"ratings": 1}],
                              ["department", "SCJG", "2026-11-18", {"ratings": 1}]]}
    assert deliver(app.count_again, [message, message], "approval-counting") == \
        {"batchItemFailures": []}
    rows = {r["period"]: r["metrics"] for r in performance.counters.of_period("2026-11")}
    assert rows == {"2026-11": {"ratings": 1}}


@pytest.mark.parametrize("bad", [{}, {"id": "x", "increments": []},
                                 {"id": "x", "increments": [["department", "SCJG"]]},
                                 {"id": "x", "increments": [["d", "S", "2026-11", {"r": "1"}]]}])
def test_a_malformed_counting_message_fails_alone(w, wired, bad):
    good = {"id": "m-2", "increments": [["department", "SCJG", "2026-11", {"ratings": 1}]]}
    event = sqs_event(json.dumps(bad), json.dumps(good), queue="approval-counting")
    assert app.count_again(event, Context()) == \
        {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_a_count_the_queue_refuses_too_is_logged_as_dropped(w, caplog):
    queue = InMemoryQueue()
    queue.refusing = True
    performance = Performance(w.catalog, FailingAt(InMemoryCounters(), 1), InMemoryReports(),
                              lambda: w.now[0], retries=queue)
    with caplog.at_level(logging.ERROR):
        performance.count(rating())
    assert "counting dropped" in caplog.text


def test_a_long_remainder_is_split_into_messages_a_transaction_can_hold(w):
    queue = InMemoryQueue()
    performance = Performance(w.catalog, FailingAt(InMemoryCounters(), 1), InMemoryReports(),
                              lambda: w.now[0], retries=queue)
    many = events.RatingGiven("c", rating().at, 5, events.Handler(
        "SCJG", None, tuple(f"staff-{i}" for i in range(40))))
    performance.count(many)
    left = len(grouped(increments(many)))
    assert left > 99
    assert [len(m["increments"]) for m in queue.sent] == [99, left - 99]
    assert len({m["id"] for m in queue.sent}) == 2


# -- the hourly export and the public board -----------------------------------------------------
def test_the_hourly_run_hands_one_message_per_period_and_one_for_the_board(w, wired,
                                                                           performance):
    app.export_reports(SCHEDULED, Context())
    shares = wired["exports"].take()
    halls = [{"hall": hall, "period": period} for hall in ("BZ", "BZQC")     # subscribed
             for period in ("2026-W46", "2026-10")]
    assert shares == [{"period": "2026-11"}, {"period": "2026-Q4"}, {"board": True}, *halls]
    assert deliver(app.export_share, shares, "approval-report-exports") == \
        {"batchItemFailures": []}
    assert set(performance.reports.documents) == {
        "reports/2026-11.csv", "reports/2026-11.html", "reports/2026-Q4.csv",
        "reports/2026-Q4.html"} | {f"reports/halls/{s['hall']}/{s['period']}.{kind}"
                                   for s in halls for kind in ("csv", "html")}
    assert performance.counters.board()["month"] == "2026-11"


def test_a_bad_export_share_fails_alone(w, wired):
    event = sqs_event(json.dumps({"period": "November"}), json.dumps({"period": "2026-11"}),
                      queue="approval-report-exports")
    assert app.export_share(event, Context()) == \
        {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


class Reads:
    """Counters that count how often a period is read."""

    def __init__(self, counters):
        self.counters, self.periods = counters, 0

    def of_period(self, period):
        self.periods += 1
        return self.counters.of_period(period)

    def __getattr__(self, name):
        return getattr(self.counters, name)


def test_the_board_reads_its_figures_precompiled_and_no_period(w, performance):
    case_id = completed_case(w)
    w.service.ratings.rate(ALICE, case_id, {"level": 5})
    performance.compile_board()
    spy = Reads(performance.counters)
    performance.counters = spy
    board = performance.board()
    assert spy.periods == 0
    day = board["satisfaction"][-1]     # one rating: 样本不足, not 100%
    assert (day["day"], day["ratings"], day["rate"]) == ("2026-11-18", 1, None)
    assert day["insufficient"]["satisfaction_rate"].startswith("样本不足")
    assert [r["applicant"] for r in board["recent"]] == ["张*"]      # the recent ones live
    assert board["compiled_at"] == w.now[0].isoformat()
    # Compiled again only by the export: a rating now shows at the next compilation.
    w.service.ratings.rate(ALICE, completed_case(w, case_id="case0002"), {"level": 1})
    tick(w, Performance.FIGURES_SECONDS)
    assert performance.board()["satisfaction"][-1]["ratings"] == 1
    performance.compile_board()
    tick(w, Performance.FIGURES_SECONDS)
    assert performance.board()["satisfaction"][-1]["ratings"] == 2
    assert spy.periods == 31                                       # the one compilation


def test_before_the_first_compilation_the_board_compiles_its_figures_itself(w, performance):
    spy = Reads(performance.counters)
    performance.counters = spy
    assert performance.board()["month"] == "2026-11"
    assert spy.periods == 31


# -- write shards -------------------------------------------------------------------------------
def test_an_items_shard_is_stable_and_a_period_spreads_over_every_shard():
    subjects = [f"staff#BZ-A{i:02d}-{j:02d}" for i in range(20) for j in range(10)]
    used = {shards.key("2026-11-18", s, shards.SCORE_SHARDS) for s in subjects}
    assert used == set(shards.keys("2026-11-18", shards.SCORE_SHARDS))
    assert shards.key("2026-11", "department#SCJG", 16) == \
        shards.key("2026-11", "department#SCJG", 16)
    counts = [sum(shards.shard_of(s, 16) == n for s in subjects) for n in range(16)]
    assert max(counts) < 3 * (len(subjects) / 16)                  # no shard takes most
