"""Performance scores: events counted as they happen, the four rates and the other indices, the
composite score, rankings, the red-flag window, the efficiency archive and the exports."""
import csv
import io
import random
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import scores as S
from chalicelib.domain.cases import CHINA_TIME
from chalicelib.domain.catalog import Catalog
from chalicelib.domain.clock import CompressedClock, StepClock
from chalicelib.domain.errors import InvalidInput


# -- a small hall ------------------------------------------------------------------------------
def _item(code, dept, halls):
    return {"code": code, "name": f"事项{code}", "description": "", "halls": halls,
            "lead_department": dept, "category": "行政许可", "kind": "promised",
            "stages": [{"departments": [{"department": dept}]}]}


def _person(staff_id, name):
    return {"staff_id": staff_id, "name": name, "phone": "13800000000", "post": "受理"}


def small_catalog() -> Catalog:
    halls = [{"code": "CITY", "name": "市政务服务中心", "level": "city", "parent": None},
             {"code": "DIST", "name": "区政务服务中心", "level": "district", "parent": "CITY"}]
    departments = [
        {"code": "A", "name": "甲局", "short_name": "甲", "hall": "CITY",
         "chief_representative": _person("A-000", "首席甲"),
         "windows": [{"code": "W1", "name": "甲窗口1", "hall": "CITY",
                      "staff": [_person("A-001", "张三"), _person("A-002", "李四")]},
                     {"code": "W2", "name": "甲窗口2", "hall": "DIST",
                      "staff": [_person("A-003", "王五")]}],
         # GONE is listed in the power list but not published online.
         "power_list": ["I1", "I2", "GONE"]},
        {"code": "B", "name": "乙局", "short_name": "乙", "hall": "CITY",
         "chief_representative": _person("B-000", "首席乙"),
         "windows": [{"code": "W3", "name": "乙窗口", "hall": "CITY",
                      "staff": [_person("B-001", "赵六")]}],
         "power_list": ["I3"]},
    ]
    items = [_item("I1", "A", ["CITY", "DIST"]), _item("I2", "A", ["CITY"]),
             _item("I3", "B", ["CITY"])]
    return Catalog(halls, departments, items)


CATALOG = small_catalog()
NOV = "2026-11-10T10:00:00+08:00"
OCT = "2026-10-20T10:00:00+08:00"


def ev(kind, at=NOV, department="A", window="W1", staff="A-001", **more):
    return {"kind": kind, "at": at, "department": department, "window": window,
            "staff": staff, **more}


def submitted(channel="online", **kw):
    return ev(S.CASE_SUBMITTED, channel=channel, **kw)


def completed(on_time=True, early=False, working_days=2.0, **kw):
    return ev(S.CASE_COMPLETED, on_time=on_time, early=early, working_days=working_days, **kw)


def rated(level, **kw):
    return ev(S.RATING_GIVEN, level=level, **kw)


def card(scope="department", subject="A", period="2026-11", **counts):
    return S.Scorecard(scope, subject, period, **counts)


def of(*events) -> S.Counters:
    return S.Counters.of_events(events)


# -- periods -----------------------------------------------------------------------------------
def test_an_instant_counts_in_its_china_day_month_and_quarter():
    assert S.periods_of("2026-11-21T09:30:00+08:00") == ("2026-11-21", "2026-11", "2026-Q4")
    # 17:00 UTC on 31 December is already 1 January in China.
    utc = datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)
    assert S.periods_of(utc) == ("2027-01-01", "2027-01", "2027-Q1")
    assert S.periods_of(datetime(2026, 4, 1, 0, 0, tzinfo=CHINA_TIME))[2] == "2026-Q2"


def test_a_naive_instant_is_refused():
    with pytest.raises(InvalidInput):
        S.periods_of(datetime(2026, 11, 21, 10, 0))
    with pytest.raises(InvalidInput):
        S.periods_of("2026-11-21T10:00:00")


@pytest.mark.parametrize("period, kind", [("2026-11-21", S.DAY), ("2026-11", S.MONTH),
                                          ("2026-Q4", S.QUARTER)])
def test_period_kinds(period, kind):
    assert S.period_kind(period) == kind


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "2026", "Q4-2026", "", "2026-02-30",
                                    "abcd-ef-gh", None])
def test_malformed_periods_are_refused(period):
    with pytest.raises(InvalidInput):
        S.period_kind(period)


def test_months_of_a_quarter():
    assert S.months_of_quarter("2026-Q4") == ("2026-10", "2026-11", "2026-12")


# -- events → increments -----------------------------------------------------------------------
def test_an_event_increments_every_scope_it_names_in_all_three_periods():
    incs = S.increments(submitted("online"))
    keys = {(i.scope, i.subject, i.period) for i in incs}
    assert keys == {(scope, subject, period)
                    for scope, subject in (("department", "A"), ("window", "W1"),
                                           ("staff", "A-001"))
                    for period in ("2026-11-10", "2026-11", "2026-Q4")}
    assert {i.metric for i in incs} == {S.APPLICATIONS, S.APPLICATIONS_ONLINE}
    assert all(i.amount == 1 for i in incs)


def test_an_event_without_window_or_staff_counts_for_the_department_only():
    incs = S.increments(ev(S.COMPLAINT_FILED, window=None, staff=None))
    assert {(i.scope, i.subject) for i in incs} == {("department", "A")}


def test_several_staff_each_count_once():
    incs = S.increments(completed(staff=["A-001", "A-002", "A-001"]))
    staff = {i.subject for i in incs if i.scope == "staff"}
    assert staff == {"A-001", "A-002"}
    month = S.grouped(incs)
    assert month[("staff", "A-001", "2026-11")][S.COMPLETED] == 1


@pytest.mark.parametrize("channel, online", [("online", 1), ("agent", 1), ("window", 0)])
def test_agent_point_applications_count_as_online(channel, online):
    metrics = of(submitted(channel)).metrics("department", "A", "2026-11")
    assert metrics[S.APPLICATIONS] == 1
    assert metrics.get(S.APPLICATIONS_ONLINE, 0) == online


def test_a_completion_adds_its_working_days_to_a_sum():
    counters = of(completed(working_days=1.5), completed(working_days=2.5, on_time=False))
    m = counters.metrics("department", "A", "2026-11")
    assert m[S.COMPLETED] == 2 and m[S.COMPLETED_ON_TIME] == 1
    assert m[S.WORKING_SECONDS] == 4 * 86_400
    assert S.Scorecard.from_counters("department", "A", "2026-11", m).average_working_days == 2.0


def test_cards_orders_complaints_and_rectifications_are_counted():
    counters = of(ev(S.CARD_RAISED, color="yellow"), ev(S.CARD_RAISED, color="red"),
                  ev(S.CARD_RAISED, color="yellow"), ev(S.COMPLAINT_FILED),
                  ev(S.SUPERVISION_ORDER_OPENED), ev(S.SUPERVISION_ORDER_OVERDUE),
                  ev(S.RECTIFICATION_OVERDUE))
    sc = S.Scorecard.from_counters("window", "W1", "2026-11",
                                   counters.metrics("window", "W1", "2026-11"))
    assert (sc.cards_yellow, sc.cards_red, sc.complaints, sc.open_orders, sc.orders_overdue,
            sc.rectifications_overdue) == (2, 1, 1, 1, 1, 1)


def test_an_answered_order_counts_in_the_period_it_was_opened():
    counters = of(ev(S.SUPERVISION_ORDER_OPENED, at=OCT), ev(S.SUPERVISION_ORDER_OPENED, at=NOV),
                  ev(S.SUPERVISION_ORDER_ANSWERED, at=NOV, opened_at=OCT))
    october = S.Scorecard.from_counters("department", "A", "2026-10",
                                        counters.metrics("department", "A", "2026-10"))
    november = S.Scorecard.from_counters("department", "A", "2026-11",
                                         counters.metrics("department", "A", "2026-11"))
    assert (october.orders_opened, october.orders_answered, october.open_orders) == (1, 1, 0)
    assert (november.orders_opened, november.open_orders) == (1, 1)


@pytest.mark.parametrize("event", [
    {"kind": "case_submitted", "at": NOV, "channel": "online"},            # no department
    ev("case_reopened"),                                                    # unknown kind
    submitted("fax"),
    completed(on_time=False, early=True),
    ev(S.CASE_COMPLETED, on_time=True, early=False),                        # no working days
    completed(working_days=-1),
    ev(S.CASE_COMPLETED, on_time="yes", early=False, working_days=1),
    ev(S.CARD_RAISED, color="green"),
    rated(0), rated(6), rated(True),
    ev(S.SUPERVISION_ORDER_ANSWERED),                                       # no opened_at
    ev(S.RATING_WITHDRAWN, level=1),                                        # no rated_at
    submitted(at="2026-11-10T10:00:00"),                                    # naive instant
    submitted(staff=[""]),
])
def test_malformed_events_are_refused(event):
    with pytest.raises(InvalidInput):
        S.increments(event)


def test_completion_facts_read_the_promised_clock():
    clock = CompressedClock(seconds_per_day=10)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA_TIME)
    step = StepClock(start, days=5)
    early = S.completion_facts(step, clock, start + timedelta(seconds=15))     # 1.5 days used
    assert early == {"on_time": True, "early": True, "working_days": pytest.approx(1.5)}
    last_day = S.completion_facts(step, clock, start + timedelta(seconds=45))
    assert (last_day["on_time"], last_day["early"]) == (True, False)
    late = S.completion_facts(step, clock, start + timedelta(seconds=61))
    assert (late["on_time"], late["early"]) == (False, False)
    assert late["working_days"] == pytest.approx(6.1)
    # The facts make a valid event.
    assert S.increments(completed(**late))


# -- re-rating ---------------------------------------------------------------------------------
def test_a_rerating_replaces_the_previous_rating():
    counters = of(rated(1), rated(5, previous_level=1, previous_at=NOV))
    sc = S.Scorecard.from_counters("staff", "A-001", "2026-11",
                                   counters.metrics("staff", "A-001", "2026-11"))
    assert (sc.ratings, sc.ratings_satisfied, sc.ratings_bad) == (1, 1, 0)
    assert sc.satisfaction_rate == 1.0 and sc.average_rating == 5.0
    assert counters == of(rated(5))


def test_a_rerating_takes_the_old_rating_out_of_its_own_month():
    counters = of(rated(2, at=OCT), rated(4, at=NOV, previous_level=2, previous_at=OCT))
    october = counters.metrics("department", "A", "2026-10")
    november = counters.metrics("department", "A", "2026-11")
    assert october[S.RATINGS] == 0 and october[S.RATINGS_BAD] == 0
    assert november[S.RATINGS] == 1 and november[S.RATINGS_SATISFIED] == 1
    assert counters.metrics("department", "A", "2026-Q4")[S.RATINGS] == 1
    assert S.Scorecard.from_counters("department", "A", "2026-10",
                                     october).satisfaction_rate is None


def test_a_withdrawn_rating_is_taken_out():
    counters = of(rated(1, at=OCT), rated(5, at=OCT),
                  ev(S.RATING_WITHDRAWN, at=NOV, level=1, rated_at=OCT))
    assert counters == of(rated(5, at=OCT))


# -- incremental counting equals counting from scratch -----------------------------------------
DEPTS = {"A": {"W1": ["A-001", "A-002"], "W2": ["A-003"]}, "B": {"W3": ["B-001"]}}


def random_events(rng: random.Random, n: int) -> list[dict]:
    events, ratings = [], {}
    for case in range(n):
        dept = rng.choice(sorted(DEPTS))
        window = rng.choice(sorted(DEPTS[dept]))
        staff = rng.choice(DEPTS[dept][window])
        at = datetime(2026, rng.randint(9, 12), rng.randint(1, 28), rng.randint(0, 23),
                      tzinfo=CHINA_TIME).isoformat()
        base = {"department": dept, "window": window, "staff": staff, "at": at}
        events.append({**base, "kind": S.CASE_SUBMITTED,
                       "channel": rng.choice(["online", "window", "agent"])})
        if rng.random() < 0.8:
            on_time = rng.random() < 0.9
            events.append({**base, "kind": S.CASE_COMPLETED, "on_time": on_time,
                           "early": on_time and rng.random() < 0.5,
                           "working_days": round(rng.uniform(0, 12), 3)})
        if rng.random() < 0.6:
            level = rng.randint(1, 5)
            events.append({**base, "kind": S.RATING_GIVEN, "level": level})
            ratings[case] = (level, at)
            if rng.random() < 0.2:
                events.append({**base, "kind": S.RATING_GIVEN, "level": rng.randint(1, 5),
                               "previous_level": level, "previous_at": at})
        if rng.random() < 0.1:
            events.append({**base, "kind": S.CARD_RAISED, "color": rng.choice(["yellow", "red"])})
        if rng.random() < 0.05:
            events.append({**base, "kind": S.COMPLAINT_FILED})
        if rng.random() < 0.05:
            events.append({**base, "kind": S.SUPERVISION_ORDER_OPENED})
            if rng.random() < 0.5:
                events.append({**base, "kind": S.SUPERVISION_ORDER_ANSWERED, "opened_at": at})
    return events


@pytest.mark.parametrize("seed", range(5))
def test_increments_in_any_order_give_the_same_counters(seed):
    rng = random.Random(seed)
    events = random_events(rng, 300)
    reference = S.Counters.of_events(events)
    incs = [i for event in events for i in S.increments(event)]
    rng.shuffle(incs)
    one_by_one = S.Counters()
    for inc in incs:
        one_by_one.apply([inc])
    assert one_by_one == reference
    # Shards counted apart and merged, or stored and read back, add up alike.
    half = len(incs) // 2
    merged = S.Counters().apply(incs[:half]) + S.Counters().apply(incs[half:])
    assert merged == reference
    assert S.Counters.from_items(reference.to_items()) == reference


def test_counters_give_the_rates_counted_from_scratch():
    events = random_events(random.Random(42), 500)
    counters = S.Counters.of_events(events)
    for dept in DEPTS:
        mine = [e for e in events if e["department"] == dept and e["at"].startswith("2026-11")]
        apps = [e for e in mine if e["kind"] == S.CASE_SUBMITTED]
        done = [e for e in mine if e["kind"] == S.CASE_COMPLETED]
        sc = S.Scorecard.from_counters("department", dept, "2026-11",
                                       counters.metrics("department", dept, "2026-11"))
        assert sc.applications == len(apps)
        assert sc.online_rate == pytest.approx(
            sum(e["channel"] != "window" for e in apps) / len(apps))
        assert sc.on_time_rate == pytest.approx(sum(e["on_time"] for e in done) / len(done))
        assert sc.early_completion_rate == pytest.approx(sum(e["early"] for e in done) / len(done))
        assert sc.average_working_days == pytest.approx(
            sum(e["working_days"] for e in done) / len(done), abs=1e-5)
        assert sc.cards_red == sum(e["kind"] == S.CARD_RAISED and e["color"] == "red"
                                   for e in mine)


def test_a_period_lists_only_its_own_subjects():
    counters = of(submitted(at=OCT), submitted(at=NOV, department="B", window="W3",
                                               staff="B-001"))
    assert counters.subjects("department", "2026-10") == ["A"]
    assert counters.subjects("department", "2026-11") == ["B"]
    assert sorted(counters.subjects("department", "2026-Q4")) == ["A", "B"]
    assert counters.periods("staff", "A-001") == ["2026-10", "2026-10-20", "2026-Q4"]
    assert ("department", "A", "2026-10") in counters
    assert ("department", "A", "2026-11") not in counters
    assert counters[("staff", "A-001", "2026-10")][S.APPLICATIONS] == 1
    assert counters.get(("staff", "A-001", "2026-11")) is None
    assert len(counters) == len(list(counters)) == 2 * 3 * 3   # events x scopes x periods
    with pytest.raises(InvalidInput):
        S.Counters().add(("hall", "CITY", "2026-11"), {S.APPLICATIONS: 1})


# -- rates -------------------------------------------------------------------------------------
def test_rates_have_no_value_without_a_denominator():
    sc = card()
    for rate in ("onboarding_rate", "online_rate", "on_time_rate", "satisfaction_rate",
                 "early_completion_rate", "average_working_days", "average_rating"):
        assert getattr(sc, rate) is None, rate
    assert sc.open_orders == 0 and not sc.active


@pytest.mark.parametrize("counts, rate, expected", [
    ({"items_listed": 4, "items_online": 3}, "onboarding_rate", 0.75),
    ({"applications": 8, "applications_online": 6}, "online_rate", 0.75),
    ({"completed": 5, "completed_on_time": 4}, "on_time_rate", 0.8),
    ({"ratings": 10, "ratings_satisfied": 9}, "satisfaction_rate", 0.9),
    ({"completed": 4, "completed_early": 1}, "early_completion_rate", 0.25),
    ({"completed": 2, "working_seconds": 3 * 86_400}, "average_working_days", 1.5),
    ({"applications": 3}, "online_rate", 0.0),
    ({"completed": 3}, "on_time_rate", 0.0),
])
def test_rates_with_a_denominator(counts, rate, expected):
    assert getattr(card(**counts), rate) == pytest.approx(expected)


def test_basically_satisfied_counts_as_satisfied():
    counters = of(*(rated(level) for level in (1, 2, 3, 4, 5)))
    sc = S.Scorecard.from_counters("department", "A", "2026-11",
                                   counters.metrics("department", "A", "2026-11"))
    assert (sc.ratings_satisfied, sc.ratings_bad) == (3, 2)
    assert sc.satisfaction_rate == pytest.approx(0.6)
    assert sc.average_rating == 3.0


def test_onboarding_rate_is_the_share_of_the_power_list_published_online():
    facts = S.subjects_of(CATALOG)
    assert (facts["department"]["A"].items_online, facts["department"]["A"].items_listed) == (2, 3)
    assert facts["department"]["B"].items_online == 1
    # A window counts the items online at its own hall; its staff share its figures.
    assert facts["window"]["W1"].items_online == 2
    assert facts["window"]["W2"].items_online == 1 and facts["window"]["W2"].hall == "DIST"
    assert facts["staff"]["A-003"].window == "W2" and facts["staff"]["A-003"].items_online == 1
    assert facts["staff"]["A-000"].window is None and facts["staff"]["A-000"].items_online == 2
    sc = S.Scorecard.from_counters("window", "W2", "2026-11", {}, facts["window"]["W2"])
    assert sc.onboarding_rate == pytest.approx(1 / 3)


# -- composite and ranking ---------------------------------------------------------------------
PERFECT = dict(items_listed=2, items_online=2, applications=10, applications_online=10,
               completed=10, completed_on_time=10, completed_early=10, ratings=10,
               ratings_satisfied=10)


def test_a_perfect_record_scores_100():
    assert S.composite(card(**PERFECT), S.Weights()) == 100.0


def test_composite_formula_weighs_rates_and_deducts_penalties():
    w = S.Weights()
    sc = card(items_listed=2, items_online=2, applications=10, applications_online=5,
              completed=10, completed_on_time=9, completed_early=4, ratings=10,
              ratings_satisfied=8, cards_yellow=2, cards_red=1, orders_opened=3,
              orders_answered=2, complaints=1, rectifications_overdue=1)
    base = (10 * 1.0 + 20 * 0.5 + 30 * 0.9 + 30 * 0.8 + 10 * 0.4) / 100 * 100
    deduction = 2 * 1 + 1 * 5 + 1 * 2 + 1 * 3 + 1 * 2
    assert S.composite(sc, w) == pytest.approx(base - deduction)


def test_a_rate_without_denominator_is_left_out_not_counted_as_full():
    # No ratings: satisfaction is left out and the other weights renormalised.
    sc = card(applications=10, applications_online=5, completed=10, completed_on_time=10)
    w = S.Weights(onboarding=0, early_completion=0)
    assert S.composite(sc, w) == pytest.approx(100 * (20 * 0.5 + 30 * 1.0) / 50)


def test_nothing_to_score_gives_no_composite():
    assert S.composite(card(items_listed=3, items_online=3, cards_red=1), S.Weights()) is None
    only_ratings = card(ratings=4, ratings_satisfied=4)
    assert S.composite(only_ratings, S.Weights(satisfaction=0)) is None


def test_composite_stays_between_0_and_100():
    assert S.composite(card(**PERFECT, cards_red=50), S.Weights()) == 0.0


def test_weights_from_a_hall_configuration():
    w = S.Weights.from_dict({"on_time": 50, "red_card": 10, "red_flag_min_completed": 5})
    assert (w.on_time, w.red_card, w.red_flag_min_completed, w.online) == (50, 10, 5, 20.0)
    assert S.Weights.from_dict(w.to_dict()) == w
    for bad in ({"speed": 1}, {"online": -1}, {"online": "high"}, {"online": True},
                {"red_flag_min_completed": 2.5},
                {"onboarding": 0, "online": 0, "on_time": 0, "satisfaction": 0,
                 "early_completion": 0}):
        with pytest.raises(InvalidInput):
            S.Weights.from_dict(bad)


def test_a_hall_without_weights_of_its_own_takes_its_parents():
    configured = S.HallWeights.from_config({"CITY": {"red_card": 9}}, CATALOG)
    assert configured.for_hall("DIST").red_card == 9
    assert configured.for_hall("ELSEWHERE") == S.Weights()
    assert S.HallWeights.from_config({"DIST": {"red_card": 7}}, CATALOG).for_hall("CITY") \
        == S.Weights()


def test_ranking_orders_by_composite_then_completed_then_code():
    cards = [card(subject="C", **{**PERFECT, "ratings_satisfied": 9}),
             card(subject="Z", **PERFECT),
             card(subject="Y", **{**PERFECT, "completed": 20, "completed_on_time": 20,
                                  "completed_early": 20}),
             card(subject="X", **PERFECT),
             card(subject="IDLE")]
    expected = ["Y", "X", "Z", "C", "IDLE"]
    for _ in range(5):
        random.shuffle(cards)
        ranked = S.rank(cards, S.Weights())
        assert [r.scorecard.subject for r in ranked] == expected
        assert [r.rank for r in ranked] == [1, 2, 3, 4, None]
    assert ranked[0].composite == ranked[1].composite == 100.0


def test_a_subject_with_too_few_cases_is_listed_unranked():
    one_case = card(subject="ONE", applications=1, applications_online=1)
    many = card(subject="MANY", **{**PERFECT, "applications_online": 5})
    by_default = S.rank([many, one_case], S.Weights())
    assert [(r.scorecard.subject, r.rank) for r in by_default] == [("ONE", 1), ("MANY", 2)]
    stricter = S.rank([many, one_case], S.Weights(min_cases_ranked=5))
    assert [(r.scorecard.subject, r.rank) for r in stricter] == [("MANY", 1), ("ONE", None)]
    assert stricter[1].composite == 100.0   # its score is still shown
    only_ratings = card(subject="RATED", ratings=3, ratings_satisfied=3)
    assert S.rank([only_ratings], S.Weights())[0].rank is None


def test_ranking_uses_each_halls_weights():
    city = card(scope="window", subject="W1", hall="CITY", **PERFECT, cards_yellow=3)
    district = card(scope="window", subject="W2", hall="DIST", **PERFECT, cards_yellow=1)
    weights = S.HallWeights({"CITY": S.Weights(yellow_card=0), "DIST": S.Weights(yellow_card=5)})
    assert [r.scorecard.subject for r in S.rank([district, city], weights)] == ["W1", "W2"]


# -- red-flag window ---------------------------------------------------------------------------
def window(subject, completed, on_time, red=0, hall="CITY", period="2026-Q4"):
    return S.Scorecard("window", subject, period, hall=hall, applications=completed,
                       applications_online=completed, completed=completed,
                       completed_on_time=on_time, completed_early=on_time, ratings=completed,
                       ratings_satisfied=completed, cards_red=red)


def test_the_red_flag_window_is_the_best_window_with_enough_cases_and_no_red_card():
    weights = S.Weights(red_flag_min_completed=30)
    cards = [window("BEST_BUT_RED", 100, 100, red=1), window("TOO_FEW", 29, 29),
             window("GOOD", 50, 49), window("FAIR", 80, 70)]
    best = S.red_flag_window(cards, weights)
    assert best.scorecard.subject == "GOOD" and best.rank == 1
    assert S.red_flag_window(cards, S.Weights(red_flag_min_completed=20)).scorecard.subject \
        == "TOO_FEW"


def test_no_red_flag_window_when_none_qualifies():
    assert S.red_flag_window([window("W", 10, 10)], S.Weights()) is None
    assert S.red_flag_window([], S.Weights()) is None


def test_the_red_flag_window_is_chosen_among_one_quarters_windows():
    with pytest.raises(InvalidInput):
        S.red_flag_window([window("W", 40, 40, period="2026-11")], S.Weights())
    with pytest.raises(InvalidInput):
        S.red_flag_window([card(period="2026-Q4", **PERFECT)], S.Weights())
    with pytest.raises(InvalidInput):
        S.red_flag_window([window("W", 40, 40), window("V", 40, 40, period="2026-Q3")],
                          S.Weights())


# -- efficiency archive ------------------------------------------------------------------------
def test_the_efficiency_archive_of_a_staff_member_by_month():
    counters = of(completed(at=OCT, working_days=2), completed(at=NOV, working_days=1),
                  completed(at=NOV, working_days=3, on_time=False),
                  ev(S.CARD_RAISED, at=NOV, color="red"), ev(S.COMPLAINT_FILED, at=OCT),
                  rated(2, at=NOV), completed(staff="A-002"))
    archive = S.efficiency_archive("A-001", counters, CATALOG)
    assert (archive["name"], archive["department"], archive["window"]) == ("张三", "A", "W1")
    assert [m["month"] for m in archive["months"]] == ["2026-10", "2026-11"]
    october, november = archive["months"]
    assert (october["completed"], october["average_working_days"], october["complaints"]) \
        == (1, 2.0, 1)
    assert (november["completed"], november["average_working_days"], november["cards_red"],
            november["ratings_bad"], november["on_time_rate"]) == (2, 2.0, 1, 1, 0.5)
    assert archive["total"]["completed"] == 3 and archive["total"]["complaints"] == 1
    assert S.efficiency_archive("NOBODY", counters)["months"] == []


# -- compiling a period ------------------------------------------------------------------------
def sample_counters() -> S.Counters:
    events = []
    for _ in range(40):
        events += [submitted("online"), completed(early=True), rated(5)]
    for _ in range(35):
        events += [submitted("window", window="W3", department="B", staff="B-001"),
                   completed(window="W3", department="B", staff="B-001"),
                   rated(4, window="W3", department="B", staff="B-001")]
    events.append(ev(S.CARD_RAISED, window="W2", staff="A-003", color="yellow"))
    events.append(submitted(department="X", window="WX", staff="X-1"))   # not in the catalog
    return S.Counters.of_events(events)


RANKED_FROM_5 = S.Weights(min_cases_ranked=5)


def test_compile_period_ranks_departments_windows_and_staff():
    out = S.compile_period(sample_counters(), CATALOG, "2026-11", RANKED_FROM_5)
    assert out["kind"] == "month"
    # X, unknown to the catalog, has a single application: listed, too few cases to rank.
    assert [d["subject"] for d in out["departments"]] == ["A", "B", "X"]
    assert [d["rank"] for d in out["departments"]] == [1, 2, None]
    assert out["departments"][0]["name"] == "甲局"
    unknown = out["departments"][2]
    assert unknown["name"] is None and unknown["onboarding_rate"] is None
    assert [w["subject"] for w in out["windows"]][:2] == ["W1", "W3"]
    # W2 had a card but no case: listed, not ranked.
    w2 = next(w for w in out["windows"] if w["subject"] == "W2")
    assert w2["rank"] is None and w2["cards_yellow"] == 1
    assert out["staff"][0]["subject"] == "A-001"
    assert {s["subject"] for s in out["staff"]} >= {"A-000", "A-002", "B-000"}
    assert out["totals"]["applications"] == 76 and out["totals"]["completed"] == 75
    assert out["red_flag_windows"] == {}
    assert out["subjects"] == len(out["departments"]) + len(out["windows"]) + len(out["staff"])


def test_compile_a_quarter_names_each_halls_red_flag_window():
    out = S.compile_period(sample_counters(), CATALOG, "2026-Q4",
                           {"CITY": {"red_flag_min_completed": 30}})
    assert set(out["red_flag_windows"]) == {"CITY"}
    assert out["red_flag_windows"]["CITY"]["subject"] == "W1"
    stricter = S.compile_period(sample_counters(), CATALOG, "2026-Q4",
                                {"CITY": {"red_flag_min_completed": 41}})
    assert stricter["red_flag_windows"] == {}


def test_compile_for_one_hall():
    out = S.compile_period(sample_counters(), CATALOG, "2026-11", None, hall="DIST")
    assert out["hall_name"] == "区政务服务中心"
    assert out["departments"] == [] and [w["subject"] for w in out["windows"]] == ["W2"]
    assert [s["subject"] for s in out["staff"]] == ["A-003"]


def test_compile_reads_only_the_period_asked_for():
    counters = sample_counters()
    before = S.compile_period(counters, CATALOG, "2026-11", S.Weights())
    counters.record(submitted(at=OCT, channel="window"))
    counters.record(submitted(at="2026-12-01T10:00:00+08:00", channel="window"))
    assert S.compile_period(counters, CATALOG, "2026-11", S.Weights()) == before


# -- exports -----------------------------------------------------------------------------------
def test_csv_has_a_header_row_and_one_line_per_entry():
    out = S.compile_period(sample_counters(), CATALOG, "2026-11", RANKED_FROM_5)
    text = S.to_csv(out["departments"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [title for _, title in S.CSV_COLUMNS]
    assert rows[0][:3] == ["排名", "编码", "名称"] and "网办率(%)" in rows[0]
    assert len(rows) == 1 + len(out["departments"])
    first = dict(zip(rows[0], rows[1]))
    assert first["编码"] == "A" and first["名称"] == "甲局" and first["排名"] == "1"
    assert first["网办率(%)"] == "100.00" and first["入驻率(%)"] == "66.67"
    unknown = dict(zip(rows[0], rows[3]))
    assert unknown["排名"] == "" and unknown["入驻率(%)"] == "" and unknown["按时办结率(%)"] == ""
    # Ranked entries export alike, and Excel gets its BOM on request.
    ranked = S.rank([card(**PERFECT)], S.Weights())
    assert S.to_csv(ranked).splitlines()[1].startswith("1,A,")
    assert S.to_csv(ranked, excel=True).startswith("\ufeff排名")


def test_the_monthly_report_is_a_self_contained_html_page_with_charts():
    out = S.compile_period(sample_counters(), CATALOG, "2026-11", S.Weights(), hall="CITY")
    page = S.monthly_report(out)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in page
    assert page.count("<svg") >= 3
    for title in ("市政务服务中心2026年11月绩效月报", "部门综合得分", "部门“四率”",
                  "黄牌、红牌与投诉", "部门排名", "窗口排名", "工作人员排名"):
        assert title in page, title
    assert "甲局" in page and "乙" in page
    # Nothing to fetch from elsewhere.
    assert "<script src" not in page and "xlink:href=\"http" not in page
    assert "kozea.github.io" not in page


def test_the_quarter_report_names_its_red_flag_windows():
    out = S.compile_period(sample_counters(), CATALOG, "2026-Q4",
                           {"CITY": {"red_flag_min_completed": 30}})
    page = S.monthly_report(out, title="第四季度<报告>")
    assert "<title>第四季度&lt;报告&gt;</title>" in page
    assert "红旗窗口" in page and "甲窗口1" in page
