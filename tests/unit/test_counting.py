"""Performance counting: events counted as they happen, in every scope and period they name;
re-ratings and withdrawn ratings taken out where they were counted; increments that add up
alike in any order, shard or storage round trip."""
import random
from datetime import datetime, timedelta

import pytest

from chalicelib.domain.cases import CHINA_TIME
from chalicelib.domain.clock import CompressedClock, StepClock
from chalicelib.domain.counters import Counters
from chalicelib.domain.counting import (APPLICATIONS, APPLICATIONS_ONLINE, COMPLETED,
                                        COMPLETED_ON_TIME, RATINGS, RATINGS_BAD, RATINGS_SATISFIED,
                                        WORKING_SECONDS, completion_facts, grouped, increments)
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.events import (BranchDecided, CardRaised, CaseCompleted, CaseSubmitted,
                                      ComplaintFiled, Handler, RatingGiven, RatingWithdrawn,
                                      TaskAnswered, TaskOpened)
from chalicelib.domain.scorecards import Scorecard

from .small_hall import (NOV, OCT, card_raised, completed, ev, of, order_answered, order_opened,
                         overdue, rated, submitted)


# -- events → increments -----------------------------------------------------------------------
def test_an_event_increments_every_scope_it_names_in_all_three_periods():
    incs = increments(submitted("online"))
    keys = {(i.scope, i.subject, i.period) for i in incs}
    assert keys == {(scope, subject, period)
                    for scope, subject in (("department", "A"), ("window", "W1"),
                                           ("staff", "A-001"))
                    for period in ("2026-11-10", "2026-11", "2026-Q4")}
    assert {i.metric for i in incs} == {APPLICATIONS, APPLICATIONS_ONLINE}
    assert all(i.amount == 1 for i in incs)


def test_an_event_without_window_or_staff_counts_for_the_department_only():
    incs = increments(ev(ComplaintFiled, window=None, staff=None))
    assert {(i.scope, i.subject) for i in incs} == {("department", "A")}


def test_several_staff_each_count_once():
    incs = increments(completed(staff=("A-001", "A-002", "A-001")))
    staff = {i.subject for i in incs if i.scope == "staff"}
    assert staff == {"A-001", "A-002"}
    month = grouped(incs)
    assert month[("staff", "A-001", "2026-11")][COMPLETED] == 1


@pytest.mark.parametrize("channel, online", [("online", 1), ("agent", 1), ("window", 0)])
def test_agent_point_applications_count_as_online(channel, online):
    metrics = of(submitted(channel)).metrics("department", "A", "2026-11")
    assert metrics[APPLICATIONS] == 1
    assert metrics.get(APPLICATIONS_ONLINE, 0) == online


def test_a_completion_adds_its_working_days_to_a_sum():
    counters = of(completed(working_days=1.5), completed(working_days=2.5, on_time=False))
    m = counters.metrics("department", "A", "2026-11")
    assert m[COMPLETED] == 2 and m[COMPLETED_ON_TIME] == 1
    assert m[WORKING_SECONDS] == 4 * 86_400
    assert Scorecard.from_counters("department", "A", "2026-11", m).average_working_days == 2.0


def test_cards_orders_complaints_and_rectifications_are_counted():
    counters = of(card_raised("yellow"), card_raised("red"), card_raised("yellow"),
                  ev(ComplaintFiled), order_opened(), overdue("order"), overdue("rectification"))
    # Supervised work (orders, rectifications) names its department only.
    sc = Scorecard.from_counters("department", "A", "2026-11",
                                   counters.metrics("department", "A", "2026-11"))
    assert (sc.cards_yellow, sc.cards_red, sc.complaints, sc.open_orders, sc.orders_overdue,
            sc.rectifications_overdue) == (2, 1, 1, 1, 1, 1)


def test_an_answered_order_counts_in_the_period_it_was_opened():
    counters = of(order_opened(at=OCT), order_opened(at=NOV),
                  order_answered(at=NOV, opened_at=OCT))
    october = Scorecard.from_counters("department", "A", "2026-10",
                                        counters.metrics("department", "A", "2026-10"))
    november = Scorecard.from_counters("department", "A", "2026-11",
                                         counters.metrics("department", "A", "2026-11"))
    assert (october.orders_opened, october.orders_answered, october.open_orders) == (1, 1, 0)
    assert (november.orders_opened, november.open_orders) == (1, 1)


@pytest.mark.parametrize("build", [
    lambda: completed(on_time=False, early=True),
    lambda: completed(working_days=-1),
    lambda: submitted("fax"),
    lambda: card_raised("green"),
    lambda: rated(0), lambda: rated(6),
    lambda: rated(5, replaces=(6, OCT)),
], ids=["early-but-late", "negative-working-days", "fax", "green-card", "rating-0", "rating-6",
        "replaces-rating-6"])
def test_malformed_events_cannot_be_built(build):
    with pytest.raises(ValueError):
        build()


@pytest.mark.parametrize("thing", [
    ev(TaskOpened, kind="consultation", hall="CITY"),
    ev(TaskAnswered, kind="consultation", opened_at=NOV, subject={}, answer={}),
    overdue("investigation"),
    BranchDecided("C-1", "B-1", "approve"),
    {"kind": "case_submitted", "at": NOV, "department": "A", "channel": "online"},
    None,
], ids=["consultation-opened", "consultation-answered", "investigation-overdue",
        "branch-decided", "dict", "none"])
def test_what_is_not_a_counted_event_gives_no_increments(thing):
    assert increments(thing) == []


def test_a_naive_instant_is_refused_when_counted():
    with pytest.raises(InvalidInput):
        increments(submitted(at=datetime(2026, 11, 10, 10, 0)))


def test_completion_facts_read_the_promised_clock():
    clock = CompressedClock(seconds_per_day=10)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA_TIME)
    step = StepClock(start, days=5)
    early = completion_facts(step, clock, start + timedelta(seconds=15))     # 1.5 days used
    assert early == {"on_time": True, "early": True, "working_days": pytest.approx(1.5)}
    last_day = completion_facts(step, clock, start + timedelta(seconds=45))
    assert (last_day["on_time"], last_day["early"]) == (True, False)
    late = completion_facts(step, clock, start + timedelta(seconds=61))
    assert (late["on_time"], late["early"]) == (False, False)
    assert late["working_days"] == pytest.approx(6.1)
    # The facts make a valid event.
    assert increments(completed(**late))


# -- re-rating ---------------------------------------------------------------------------------
def test_a_rerating_replaces_the_previous_rating():
    counters = of(rated(1), rated(5, replaces=(1, NOV)))
    sc = Scorecard.from_counters("staff", "A-001", "2026-11",
                                   counters.metrics("staff", "A-001", "2026-11"))
    assert (sc.ratings, sc.ratings_satisfied, sc.ratings_bad) == (1, 1, 0)
    assert sc.satisfaction_rate == 1.0 and sc.average_rating == 5.0
    assert counters == of(rated(5))


def test_a_rerating_takes_the_old_rating_out_of_its_own_month():
    counters = of(rated(2, at=OCT), rated(4, at=NOV, replaces=(2, OCT)))
    october = counters.metrics("department", "A", "2026-10")
    november = counters.metrics("department", "A", "2026-11")
    assert october[RATINGS] == 0 and october[RATINGS_BAD] == 0
    assert november[RATINGS] == 1 and november[RATINGS_SATISFIED] == 1
    assert counters.metrics("department", "A", "2026-Q4")[RATINGS] == 1
    assert Scorecard.from_counters("department", "A", "2026-10",
                                     october).satisfaction_rate is None


def test_a_withdrawn_rating_is_taken_out():
    counters = of(rated(1, at=OCT), rated(5, at=OCT),
                  ev(RatingWithdrawn, at=NOV, level=1, rated_at=OCT))
    assert counters == of(rated(5, at=OCT))


# -- incremental counting equals counting from scratch -----------------------------------------
DEPTS = {"A": {"W1": ["A-001", "A-002"], "W2": ["A-003"]}, "B": {"W3": ["B-001"]}}


def random_events(rng: random.Random, n: int) -> list:
    events = []
    for case in range(n):
        dept = rng.choice(sorted(DEPTS))
        window = rng.choice(sorted(DEPTS[dept]))
        handler = Handler(dept, window, rng.choice(DEPTS[dept][window]))
        at = datetime(2026, rng.randint(9, 12), rng.randint(1, 28), rng.randint(0, 23),
                      tzinfo=CHINA_TIME)
        case_id, task_id = f"C-{case}", f"T-{case}"
        events.append(CaseSubmitted(case_id, at, rng.choice(["online", "window", "agent"]),
                                    handler))
        if rng.random() < 0.8:
            on_time = rng.random() < 0.9
            events.append(CaseCompleted(case_id, at, handler, on_time,
                                        early=on_time and rng.random() < 0.5,
                                        working_days=round(rng.uniform(0, 12), 3)))
        if rng.random() < 0.6:
            level = rng.randint(1, 5)
            events.append(RatingGiven(case_id, at, level, handler))
            if rng.random() < 0.2:
                events.append(RatingGiven(case_id, at, rng.randint(1, 5), handler,
                                          replaces=(level, at)))
        if rng.random() < 0.1:
            events.append(CardRaised(case_id, at, rng.choice(["yellow", "red"]), handler, {}))
        if rng.random() < 0.05:
            events.append(ComplaintFiled(task_id, at, handler))
        if rng.random() < 0.05:
            events.append(TaskOpened(task_id, "order", at, dept, "CITY"))
            if rng.random() < 0.5:
                events.append(TaskAnswered(task_id, "order", at, at, dept, {}, {}))
    return events


@pytest.mark.parametrize("seed", range(5))
def test_increments_in_any_order_give_the_same_counters(seed):
    rng = random.Random(seed)
    events = random_events(rng, 300)
    reference = Counters.of_events(events)
    incs = [i for event in events for i in increments(event)]
    rng.shuffle(incs)
    one_by_one = Counters()
    for inc in incs:
        one_by_one.apply([inc])
    assert one_by_one == reference
    # Shards counted apart and merged, or stored and read back, add up alike.
    half = len(incs) // 2
    merged = Counters().apply(incs[:half]) + Counters().apply(incs[half:])
    assert merged == reference
    assert Counters.from_items(reference.to_items()) == reference


def test_counters_give_the_rates_counted_from_scratch():
    events = random_events(random.Random(42), 500)
    counters = Counters.of_events(events)
    for dept in DEPTS:
        def mine(event_type):
            return [e for e in events if isinstance(e, event_type)
                    and e.handler.department == dept and (e.at.year, e.at.month) == (2026, 11)]
        apps, done = mine(CaseSubmitted), mine(CaseCompleted)
        sc = Scorecard.from_counters("department", dept, "2026-11",
                                       counters.metrics("department", dept, "2026-11"))
        assert sc.applications == len(apps)
        assert sc.online_rate == pytest.approx(
            sum(e.channel != "window" for e in apps) / len(apps))
        assert sc.on_time_rate == pytest.approx(sum(e.on_time for e in done) / len(done))
        assert sc.early_completion_rate == pytest.approx(sum(e.early for e in done) / len(done))
        assert sc.average_working_days == pytest.approx(
            sum(e.working_days for e in done) / len(done), abs=1e-5)
        assert sc.cards_red == sum(e.color == "red" for e in mine(CardRaised))


def test_a_period_lists_only_its_own_subjects():
    counters = of(submitted(at=OCT), submitted(at=NOV, department="B", window="W3",
                                               staff="B-001"))
    assert counters.subjects("department", "2026-10") == ["A"]
    assert counters.subjects("department", "2026-11") == ["B"]
    assert sorted(counters.subjects("department", "2026-Q4")) == ["A", "B"]
    assert counters.periods("staff", "A-001") == ["2026-10", "2026-10-20", "2026-Q4"]
    assert ("department", "A", "2026-10") in counters
    assert ("department", "A", "2026-11") not in counters
    assert counters[("staff", "A-001", "2026-10")][APPLICATIONS] == 1
    assert counters.get(("staff", "A-001", "2026-11")) is None
    assert len(counters) == len(list(counters)) == 2 * 3 * 3   # events x scopes x periods
    with pytest.raises(InvalidInput):
        Counters().add(("hall", "CITY", "2026-11"), {APPLICATIONS: 1})
