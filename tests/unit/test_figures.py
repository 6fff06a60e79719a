"""Every published figure means its name: each defined once (numerator and denominator in words,
read by the docs and the board), per case where the name says case and per step where it says
step, withheld as 样本不足 below the hall's minimum sample; the onboarding rate against the power
list (权力清单); overdue orders, overdue rectifications and 12345 reprimands counted and deducted;
12345 requests in the scores."""
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from chalicelib.catalog import published
from chalicelib.domain.catalog import Catalog
from chalicelib.domain.counters import Counters
from chalicelib.domain.counting import (HOTLINE_ANSWERED, HOTLINE_REPRIMANDS, HOTLINE_REQUESTS,
                                        ORDERS_OVERDUE, RECTIFICATIONS_OVERDUE, increments)
from chalicelib.domain.events import (CaseCompleted, Handler, RatingGiven, TaskAnswered,
                                      TaskLightRaised, TaskOpened)
from chalicelib.domain.scorecards import (FIGURES, INSUFFICIENT, Scorecard, rates_table,
                                          subjects_of, total)
from chalicelib.domain.scoring import HallWeights, Weights, compile_period, composite, rank

from .small_hall import NOV, card, of, submitted

ROOT = Path(__file__).resolve().parents[2]
FIVE = ("SCJG", "SW", "GA", "RSJ", "GJJ")


def completion(department, on_time=True, lead=False, case_id="C-1", early=False):
    return CaseCompleted(case_id, NOV, Handler(department, f"{department}-W", f"{department}-1"),
                         on_time=on_time, early=early, working_days=1.0, lead=lead)


def light(task_kind, kind, department="A", task_id="T-1"):
    record = {"task_kind": task_kind, "kind": kind, "department": department,
              "light": "red" if kind != "yellow" else "yellow"}
    return TaskLightRaised(task_id, NOV, record)


def dept(counters, code="A", period="2026-11"):
    return Scorecard.from_counters("department", code, period,
                                   counters.metrics("department", code, period))


# -- one definition per figure ----------------------------------------------------------------
@pytest.mark.parametrize("figure", FIGURES, ids=lambda f: f.key)
def test_each_figure_divides_its_numerator_by_its_denominator(figure):
    assert figure.numerator_en and figure.denominator_en
    assert figure.numerator_zh and figure.denominator_zh
    assert getattr(card(), figure.key) is None                  # no denominator: no value
    counts = {figure.denominator: 8, figure.numerator: 6}
    expected = 6 / (8 * figure.scale)
    assert getattr(card(**counts), figure.key) == pytest.approx(expected)
    assert figure.value(card(**counts)) == getattr(card(**counts), figure.key)


def test_the_docs_table_of_the_rates_is_the_definitions():
    domain = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    assert rates_table() in domain


def test_the_board_reads_each_figures_words_from_its_definition():
    web = ROOT / "chalicelib" / "web" / "js"
    board = (web / "board.mjs").read_text(encoding="utf-8")
    ui = (web / "ui.mjs").read_text(encoding="utf-8")
    # The definitions come with the board; a withheld figure reads 样本不足 by one rule (ui.mjs
    # figure), which the board and the supervision pages both use.
    assert "board.figures" in board and INSUFFICIENT in ui
    for page in ("board.mjs", "supervise.mjs"):
        assert "figure(" in (web / page).read_text(encoding="utf-8"), page


# -- per case where the name says case, per step where it says step ---------------------------
def test_a_five_department_case_in_its_limit_with_one_late_step_is_one_case_on_time():
    events = [completion("SCJG", lead=True)] + [completion(d) for d in FIVE[1:4]] \
        + [completion("GJJ", on_time=False)]
    counters = Counters.of_events(events)
    cards = [dept(counters, code) for code in FIVE]
    hall = total(cards, "hall", "all", "2026-11")
    assert (hall.completed, hall.completed_on_time, hall.on_time_rate) == (1, 1, 1.0)
    assert (hall.steps_completed, hall.steps_on_time) == (5, 4)
    assert hall.step_on_time_rate == pytest.approx(0.8)
    # The case counts at its lead department only; each department has its step.
    assert dept(counters, "SCJG").completed == 1 and dept(counters, "SW").completed == 0
    assert dept(counters, "SW").steps_completed == 1 and dept(counters, "SW").active
    assert dept(counters, "GJJ").step_on_time_rate == 0.0
    assert dept(counters, "GJJ").on_time_rate is None


def test_a_late_case_is_late_however_many_steps_were_in_time():
    counters = Counters.of_events([completion("SCJG", lead=True, on_time=False),
                                   completion("SW"), completion("GA")])
    hall = total([dept(counters, c) for c in ("SCJG", "SW", "GA")], "hall", "all", "2026-11")
    assert hall.on_time_rate == 0.0 and hall.step_on_time_rate == pytest.approx(2 / 3)


# -- 样本不足 -----------------------------------------------------------------------------------
def test_a_figure_from_fewer_cases_than_the_minimum_is_withheld_with_its_reason():
    one = card(completed=1, completed_on_time=1, ratings=4, ratings_satisfied=4,
               items_listed=3, items_online=2)
    published_ = one.to_dict(min_sample=5)
    assert published_["on_time_rate"] is None and published_["satisfaction_rate"] is None
    assert published_["insufficient"]["on_time_rate"] == \
        "样本不足：按时办结率仅有 1 件，不足 5 件，不予计分"
    assert "满意率仅有 4 条" in published_["insufficient"]["satisfaction_rate"]
    # The onboarding rate is the catalog's, not a sample of cases: published.
    assert published_["onboarding_rate"] == pytest.approx(2 / 3)
    assert "onboarding_rate" not in published_["insufficient"]
    # No denominator at all: null without a reason (nothing was withheld).
    assert published_["online_rate"] is None and "online_rate" not in published_["insufficient"]


def test_at_the_minimum_the_figure_is_published():
    five = card(completed=5, completed_on_time=4)
    assert five.to_dict(min_sample=5)["on_time_rate"] == pytest.approx(0.8)
    assert five.to_dict(min_sample=6)["on_time_rate"] is None
    assert five.to_dict()["on_time_rate"] == pytest.approx(0.8)    # no minimum: the raw rate


def test_one_case_has_no_composite_and_no_rank_by_default():
    one = card(applications=1, applications_online=1, completed=1, completed_on_time=1,
               completed_early=1, ratings=1, ratings_satisfied=1)
    assert composite(one, Weights()) is None
    entry = rank([one], Weights())[0]
    assert entry.rank is None
    assert entry.to_dict()["insufficient"]["composite"] == \
        "样本不足：综合得分仅有 1 件，不足 5 件，不予计分"
    assert composite(one, Weights(min_sample=1)) == 100.0


def test_a_withheld_rate_is_left_out_of_the_composite():
    # Six cases, all on time, but only two ratings, both bad: satisfaction is withheld.
    c = card(applications=6, applications_online=6, completed=6, completed_on_time=6,
             completed_early=6, ratings=2, ratings_bad=2)
    assert composite(c, Weights(onboarding=0)) == 100.0
    assert composite(c, Weights(onboarding=0, min_sample=2)) < 100.0


def test_the_minimum_sample_is_the_halls_setting():
    configured = HallWeights.from_config({"CITY": {"min_sample": 2}}, published_small())
    assert configured.for_hall("DIST").min_sample == 2        # a district takes the city's
    assert HallWeights.from_config({}, published_small()).for_hall("CITY").min_sample == 5
    counters = of(*[submitted("online") for _ in range(2)])
    strict = compile_period(counters, published_small(), "2026-11")
    loose = compile_period(counters, published_small(), "2026-11", {"CITY": {"min_sample": 2}})
    a_strict = next(d for d in strict["departments"] if d["subject"] == "A")
    a_loose = next(d for d in loose["departments"] if d["subject"] == "A")
    assert a_strict["online_rate"] is None and a_strict["composite"] is None
    assert a_loose["online_rate"] == 1.0 and a_loose["composite"] is not None
    assert strict["min_sample"] == 5 and strict["totals"]["online_rate"] is None
    assert "online_rate" in strict["totals"]["insufficient"]


def published_small() -> Catalog:
    from .small_hall import CATALOG
    return CATALOG


# -- 满意率 and 非常满意率 -----------------------------------------------------------------------
def test_very_satisfied_counts_level_5_only_and_a_re_rating_moves_it():
    ratings = [RatingGiven(f"C-{i}", NOV, level, Handler("A")) for i, level in
               enumerate((5, 5, 4, 3, 1))]
    counters = Counters.of_events(ratings)
    sc = dept(counters)
    assert (sc.satisfaction_rate, sc.very_satisfied_rate) == (pytest.approx(0.8),
                                                              pytest.approx(0.4))
    counters.record(RatingGiven("C-0", NOV, 2, Handler("A"), replaces=(5, NOV)))
    assert dept(counters).ratings_very_satisfied == 1 and dept(counters).ratings == 5


# -- 入驻率 against the power list -------------------------------------------------------------
def test_a_power_without_an_online_item_counts_against_the_onboarding_rate():
    base = published_small()
    powers = [{"code": "QL-A-001", "name": "事项一", "category": "行政许可", "department": "A",
               "halls": ["CITY", "DIST"], "item": "I1"},
              {"code": "QL-A-002", "name": "事项二", "category": "行政许可", "department": "A",
               "halls": ["CITY"], "item": "I2"},
              {"code": "QL-A-003", "name": "尚未上线的许可", "category": "行政许可",
               "department": "A", "halls": ["CITY"], "item": None},
              {"code": "QL-A-004", "name": "区里的备案", "category": "行政备案",
               "department": "A", "halls": ["DIST"], "item": None}]
    catalog = Catalog(list(base.halls.values()), list(base.departments.values()),
                      list(base.items.values()), powers)
    facts = subjects_of(catalog)
    a = facts["department"]["A"]
    assert (a.items_online, a.items_listed) == (2, 4)
    # A window counts the powers its hall lists, online at its hall.
    assert (facts["window"]["W1"].items_online, facts["window"]["W1"].items_listed) == (2, 3)
    assert (facts["window"]["W2"].items_online, facts["window"]["W2"].items_listed) == (1, 2)
    assert (facts["department"]["B"].items_listed, facts["department"]["B"].items_online) == (0, 0)


def test_the_published_power_list_is_not_all_online():
    catalog = published()
    facts = subjects_of(catalog)["department"]
    assert any(f.items_online < f.items_listed for f in facts.values())
    assert all(f.items_listed for f in facts.values())


def test_the_power_list_data_keeps_its_schema_and_references():
    data = ROOT / "chalicelib" / "catalog"
    schema = json.loads((data / "catalog.schema.json").read_text(encoding="utf-8"))
    read = lambda name: json.loads((data / "data" / f"{name}.json").read_text(encoding="utf-8"))  # noqa: E731
    document = {"halls": read("halls"), "departments": read("departments"),
                "items": read("items"), "powers": read("powers")}
    errors = list(Draft202012Validator(schema).iter_errors(document))
    assert not errors, errors[0].message
    catalog = published()
    codes = [p["code"] for p in document["powers"]]
    assert len(codes) == len(set(codes))
    for power in document["powers"]:
        assert power["department"] in catalog.departments
        assert set(power["halls"]) <= set(catalog.halls)
        if power["item"] is not None:
            assert power["item"] in catalog.departments[power["department"]]["power_list"]
    # Every item a department may handle is a power of its list.
    for code, department in catalog.departments.items():
        offered = {p["item"] for p in document["powers"] if p["department"] == code}
        assert set(department["power_list"]) <= offered, code


# -- deductions: overdue orders, overdue rectifications, 12345 reprimands ----------------------
@pytest.mark.parametrize("task_kind, kind, metric", [
    ("order", "escalation", ORDERS_OVERDUE),
    ("rectification", "red", RECTIFICATIONS_OVERDUE),
    ("enquiry", "reprimand", HOTLINE_REPRIMANDS),
    ("hotline_complaint", "reprimand", HOTLINE_REPRIMANDS),
    ("investigation", "red", "cards_red"),
    ("consultation", "red", "cards_red"),
])
def test_a_supervised_tasks_red_instant_is_counted_at_its_department(task_kind, kind, metric):
    incs = increments(light(task_kind, kind))
    assert {(i.scope, i.subject, i.metric, i.amount) for i in incs} == \
        {("department", "A", metric, 1)}
    assert {i.period for i in incs} == {"2026-11-10", "2026-11", "2026-Q4"}


@pytest.mark.parametrize("task_kind, kind", [("investigation", "yellow"),
                                             ("consultation", "yellow"), ("order", "unknown")])
def test_a_yellow_instant_of_supervised_work_is_not_a_deduction(task_kind, kind):
    assert increments(light(task_kind, kind)) == []


def test_a_tasks_instant_is_counted_once_by_its_id():
    assert light("order", "escalation").once_id == "T-1:escalation"


def test_overdue_orders_rectifications_and_reprimands_are_deducted():
    base = dict(applications=10, applications_online=10, completed=10, completed_on_time=10,
                completed_early=10, ratings=10, ratings_satisfied=10)
    w = Weights(onboarding=0)
    assert composite(card(**base), w) == 100.0
    assert composite(card(**base, orders_overdue=2), w) == 100.0 - 2 * w.overdue_order
    assert composite(card(**base, rectifications_overdue=1), w) == \
        100.0 - w.overdue_rectification
    assert composite(card(**base, hotline_reprimands=1), w) == 100.0 - w.hotline_reprimand
    counters = Counters.of_events([light("order", "escalation"),
                                   light("rectification", "red", task_id="T-2"),
                                   light("enquiry", "reprimand", task_id="T-3")])
    sc = dept(counters)
    assert (sc.orders_overdue, sc.rectifications_overdue, sc.hotline_reprimands) == (1, 1, 1)


# -- 12345 requests enter the scores ---------------------------------------------------------
def test_12345_requests_are_counted_where_received_and_answered_in_that_period():
    opened = [TaskOpened(f"RX-{i}", kind, NOV, "A", "CITY")
              for i, kind in enumerate(("enquiry", "hotline_complaint", "enquiry", "order"))]
    answered = TaskAnswered("RX-0", "enquiry", NOV.replace(month=12), NOV, "A", {}, {})
    counters = Counters.of_events([*opened, answered])
    metrics = counters.metrics("department", "A", "2026-11")
    assert (metrics[HOTLINE_REQUESTS], metrics[HOTLINE_ANSWERED]) == (3, 1)
    assert dept(counters).hotline_answer_rate == pytest.approx(1 / 3)
    assert counters.metrics("department", "A", "2026-12") == {}


def test_the_12345_answer_rate_weighs_in_the_composite():
    base = dict(applications=10, applications_online=10, completed=10, completed_on_time=10,
                completed_early=10, ratings=10, ratings_satisfied=10)
    w = Weights(onboarding=0)
    unanswered = card(**base, hotline_requests=10, hotline_answered=0)
    expected = 100 * (w.online + w.on_time + w.satisfaction + w.early_completion) / (
        w.online + w.on_time + w.satisfaction + w.early_completion + w.hotline)
    assert composite(unanswered, w) == pytest.approx(expected)
