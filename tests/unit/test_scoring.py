"""Performance scores: the four rates and the other indices, the composite score, rankings, the
red-flag window, the efficiency archive and the compilation of a period."""
import random
from datetime import datetime

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.events import ComplaintFiled
from chalicelib.domain.scorecards import Scorecard, subjects_of
from chalicelib.domain.scoring import (HallWeights, Weights, compile_period, composite,
                                       efficiency_archive, rank, red_flag_window)

from .small_hall import (CATALOG, NOV, OCT, PERFECT, RANKED_FROM_5, card, card_raised, completed,
                         ev, of, rated, sample_counters, submitted)


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
    sc = Scorecard.from_counters("department", "A", "2026-11",
                                   counters.metrics("department", "A", "2026-11"))
    assert (sc.ratings_satisfied, sc.ratings_bad) == (3, 2)
    assert sc.satisfaction_rate == pytest.approx(0.6)
    assert sc.average_rating == 3.0


def test_onboarding_rate_is_the_share_of_the_power_list_published_online():
    facts = subjects_of(CATALOG)
    assert (facts["department"]["A"].items_online, facts["department"]["A"].items_listed) == (2, 3)
    assert facts["department"]["B"].items_online == 1
    # A window counts the items online at its own hall; its staff share its figures.
    assert facts["window"]["W1"].items_online == 2
    assert facts["window"]["W2"].items_online == 1 and facts["window"]["W2"].hall == "DIST"
    assert facts["staff"]["A-003"].window == "W2" and facts["staff"]["A-003"].items_online == 1
    assert facts["staff"]["A-000"].window is None and facts["staff"]["A-000"].items_online == 2
    sc = Scorecard.from_counters("window", "W2", "2026-11", {}, facts["window"]["W2"])
    assert sc.onboarding_rate == pytest.approx(1 / 3)


# -- composite and ranking ---------------------------------------------------------------------
def test_a_perfect_record_scores_100():
    assert composite(card(**PERFECT), Weights()) == 100.0


def test_composite_formula_weighs_rates_and_deducts_penalties():
    w = Weights()
    sc = card(items_listed=2, items_online=2, applications=10, applications_online=5,
              completed=10, completed_on_time=9, completed_early=4, ratings=10,
              ratings_satisfied=8, cards_yellow=2, cards_red=1, orders_opened=3,
              orders_answered=2, complaints=1, rectifications_overdue=1)
    base = (10 * 1.0 + 20 * 0.5 + 30 * 0.9 + 30 * 0.8 + 10 * 0.4) / 100 * 100
    deduction = 2 * 1 + 1 * 5 + 1 * 2 + 1 * 3 + 1 * 2
    assert composite(sc, w) == pytest.approx(base - deduction)


def test_a_rate_without_denominator_is_left_out_not_counted_as_full():
    # No ratings: satisfaction is left out and the other weights renormalised.
    sc = card(applications=10, applications_online=5, completed=10, completed_on_time=10)
    w = Weights(onboarding=0, early_completion=0)
    assert composite(sc, w) == pytest.approx(100 * (20 * 0.5 + 30 * 1.0) / 50)


def test_nothing_to_score_gives_no_composite():
    assert composite(card(items_listed=3, items_online=3, cards_red=1), Weights()) is None
    only_ratings = card(ratings=4, ratings_satisfied=4)
    assert composite(only_ratings, Weights(satisfaction=0)) is None


def test_composite_stays_between_0_and_100():
    assert composite(card(**PERFECT, cards_red=50), Weights()) == 0.0


def test_weights_from_a_hall_configuration():
    w = Weights.from_dict({"on_time": 50, "red_card": 10, "red_flag_min_completed": 5})
    assert (w.on_time, w.red_card, w.red_flag_min_completed, w.online) == (50, 10, 5, 20.0)
    assert Weights.from_dict(w.to_dict()) == w
    for bad in ({"speed": 1}, {"online": -1}, {"online": "high"}, {"online": True},
                {"red_flag_min_completed": 2.5},
                {"min_sample": 1.5},
                {"onboarding": 0, "online": 0, "on_time": 0, "satisfaction": 0,
                 "early_completion": 0, "hotline": 0}):
        with pytest.raises(InvalidInput):
            Weights.from_dict(bad)


def test_a_hall_without_weights_of_its_own_takes_its_parents():
    configured = HallWeights.from_config({"CITY": {"red_card": 9}}, CATALOG)
    assert configured.for_hall("DIST").red_card == 9
    assert configured.for_hall("ELSEWHERE") == Weights()
    assert HallWeights.from_config({"DIST": {"red_card": 7}}, CATALOG).for_hall("CITY") \
        == Weights()


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
        ranked = rank(cards, Weights())
        assert [r.scorecard.subject for r in ranked] == expected
        assert [r.rank for r in ranked] == [1, 2, 3, 4, None]
    assert ranked[0].composite == ranked[1].composite == 100.0


def test_a_subject_with_too_few_cases_is_listed_unranked():
    one_case = card(subject="ONE", applications=1, applications_online=1)
    many = card(subject="MANY", **{**PERFECT, "applications_online": 5})
    by_default = rank([many, one_case], Weights())    # 样本不足 below 5 cases
    assert [(r.scorecard.subject, r.rank) for r in by_default] == [("MANY", 1), ("ONE", None)]
    assert by_default[1].composite is None
    assert by_default[1].to_dict()["insufficient"]["composite"].startswith("样本不足")
    from_one = rank([many, one_case], Weights(min_sample=1))
    assert [(r.scorecard.subject, r.rank) for r in from_one] == [("ONE", 1), ("MANY", 2)]
    stricter = rank([many, one_case], Weights(min_cases_ranked=5, min_sample=1))
    assert [(r.scorecard.subject, r.rank) for r in stricter] == [("MANY", 1), ("ONE", None)]
    assert stricter[1].composite == 100.0   # its score is still shown
    only_ratings = card(subject="RATED", ratings=3, ratings_satisfied=3)
    assert rank([only_ratings], Weights(min_sample=1))[0].rank is None


def test_ranking_uses_each_halls_weights():
    city = card(scope="window", subject="W1", hall="CITY", **PERFECT, cards_yellow=3)
    district = card(scope="window", subject="W2", hall="DIST", **PERFECT, cards_yellow=1)
    weights = HallWeights({"CITY": Weights(yellow_card=0), "DIST": Weights(yellow_card=5)})
    assert [r.scorecard.subject for r in rank([district, city], weights)] == ["W1", "W2"]


# -- red-flag window ---------------------------------------------------------------------------
def window(subject, completed, on_time, red=0, hall="CITY", period="2026-Q4"):
    return Scorecard("window", subject, period, hall=hall, applications=completed,
                       applications_online=completed, completed=completed,
                       completed_on_time=on_time, completed_early=on_time, ratings=completed,
                       ratings_satisfied=completed, cards_red=red)


def test_the_red_flag_window_is_the_best_window_with_enough_cases_and_no_red_card():
    weights = Weights(red_flag_min_completed=30)
    cards = [window("BEST_BUT_RED", 100, 100, red=1), window("TOO_FEW", 29, 29),
             window("GOOD", 50, 49), window("FAIR", 80, 70)]
    best = red_flag_window(cards, weights)
    assert best.scorecard.subject == "GOOD" and best.rank == 1
    assert red_flag_window(cards, Weights(red_flag_min_completed=20)).scorecard.subject \
        == "TOO_FEW"


def test_no_red_flag_window_when_none_qualifies():
    assert red_flag_window([window("W", 10, 10)], Weights()) is None
    assert red_flag_window([], Weights()) is None


def test_the_red_flag_window_is_chosen_among_one_quarters_windows():
    with pytest.raises(InvalidInput):
        red_flag_window([window("W", 40, 40, period="2026-11")], Weights())
    with pytest.raises(InvalidInput):
        red_flag_window([card(period="2026-Q4", **PERFECT)], Weights())
    with pytest.raises(InvalidInput):
        red_flag_window([window("W", 40, 40), window("V", 40, 40, period="2026-Q3")],
                          Weights())


# -- efficiency archive ------------------------------------------------------------------------
def test_the_efficiency_archive_of_a_staff_member_by_month():
    counters = of(completed(at=OCT, working_days=2), completed(at=NOV, working_days=1),
                  completed(at=NOV, working_days=3, on_time=False),
                  card_raised("red", at=NOV), ev(ComplaintFiled, at=OCT),
                  rated(2, at=NOV), completed(staff="A-002"))
    archive = efficiency_archive("A-001", counters, CATALOG)
    assert (archive["name"], archive["department"], archive["window"]) == ("张三", "A", "W1")
    assert [m["month"] for m in archive["months"]] == ["2026-10", "2026-11"]
    october, november = archive["months"]
    assert (october["completed"], october["average_working_days"], october["complaints"]) \
        == (1, 2.0, 1)
    assert (november["completed"], november["average_working_days"], november["cards_red"],
            november["ratings_bad"], november["on_time_rate"]) == (2, 2.0, 1, 1, 0.5)
    assert archive["total"]["completed"] == 3 and archive["total"]["complaints"] == 1
    assert efficiency_archive("NOBODY", counters)["months"] == []


# -- compiling a period ------------------------------------------------------------------------
def test_compile_period_ranks_departments_windows_and_staff():
    out = compile_period(sample_counters(), CATALOG, "2026-11", RANKED_FROM_5)
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
    out = compile_period(sample_counters(), CATALOG, "2026-Q4",
                           {"CITY": {"red_flag_min_completed": 30}})
    assert set(out["red_flag_windows"]) == {"CITY"}
    assert out["red_flag_windows"]["CITY"]["subject"] == "W1"
    stricter = compile_period(sample_counters(), CATALOG, "2026-Q4",
                                {"CITY": {"red_flag_min_completed": 41}})
    assert stricter["red_flag_windows"] == {}


def test_compile_for_one_hall():
    out = compile_period(sample_counters(), CATALOG, "2026-11", None, hall="DIST")
    assert out["hall_name"] == "区政务服务中心"
    assert out["departments"] == [] and [w["subject"] for w in out["windows"]] == ["W2"]
    assert [s["subject"] for s in out["staff"]] == ["A-003"]


def test_compile_reads_only_the_period_asked_for():
    counters = sample_counters()
    before = compile_period(counters, CATALOG, "2026-11", Weights())
    counters.record(submitted(at=OCT, channel="window"))
    counters.record(submitted(at=datetime.fromisoformat("2026-12-01T10:00:00+08:00"),
                              channel="window"))
    assert compile_period(counters, CATALOG, "2026-11", Weights()) == before
