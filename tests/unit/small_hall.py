"""A small hall (two halls, two departments, three windows) and the events and scorecards the
performance tests are told with."""
from dataclasses import fields
from datetime import datetime

from chalicelib.domain.catalog import Catalog
from chalicelib.domain.counters import Counters
from chalicelib.domain.events import (CardRaised, CaseCompleted, CaseSubmitted, Handler,
                                      RatingGiven, TaskAnswered, TaskOpened, TaskOverdue)
from chalicelib.domain.scorecards import Scorecard
from chalicelib.domain.scoring import Weights


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
NOV = datetime.fromisoformat("2026-11-10T10:00:00+08:00")
OCT = datetime.fromisoformat("2026-10-20T10:00:00+08:00")


def ev(event_type, /, at=NOV, department="A", window="W1", staff="A-001", **more):
    """An event of `event_type` in November, handled at A's window W1 by A-001 unless told
    otherwise; an event of supervised work names only its department."""
    names = {f.name for f in fields(event_type)}
    more.setdefault("case_id" if "case_id" in names else "task_id", "C-1")
    if "handler" in names:
        more["handler"] = Handler(department, window, staff)
    else:
        more["department"] = department
    return event_type(at=at, **more)


def submitted(channel="online", **kw):
    return ev(CaseSubmitted, channel=channel, **kw)


def completed(on_time=True, early=False, working_days=2.0, **kw):
    return ev(CaseCompleted, on_time=on_time, early=early, working_days=working_days, **kw)


def rated(level, **kw):
    return ev(RatingGiven, level=level, **kw)


def card_raised(color, **kw):
    return ev(CardRaised, color=color, record={}, **kw)


def order_opened(**kw):
    """A 督办单 issued to the department."""
    return ev(TaskOpened, kind="order", hall="CITY", **kw)


def order_answered(opened_at=NOV, **kw):
    return ev(TaskAnswered, kind="order", opened_at=opened_at, subject={}, answer={}, **kw)


def overdue(kind="order", **kw):
    """A 督办单 (order) or a 整改 (rectification) past its deadline."""
    return ev(TaskOverdue, kind=kind, **kw)


def card(scope="department", subject="A", period="2026-11", **counts):
    return Scorecard(scope, subject, period, **counts)


def of(*events) -> Counters:
    return Counters.of_events(events)


# -- a record to score -------------------------------------------------------------------------
PERFECT = dict(items_listed=2, items_online=2, applications=10, applications_online=10,
               completed=10, completed_on_time=10, completed_early=10, ratings=10,
               ratings_satisfied=10)


# -- a month of both departments ---------------------------------------------------------------
def sample_counters() -> Counters:
    events = []
    for _ in range(40):
        events += [submitted("online"), completed(early=True), rated(5)]
    for _ in range(35):
        events += [submitted("window", window="W3", department="B", staff="B-001"),
                   completed(window="W3", department="B", staff="B-001"),
                   rated(4, window="W3", department="B", staff="B-001")]
    events.append(card_raised("yellow", window="W2", staff="A-003"))
    events.append(submitted(department="X", window="WX", staff="X-1"))   # not in the catalog
    return Counters.of_events(events)


RANKED_FROM_5 = Weights(min_cases_ranked=5)
