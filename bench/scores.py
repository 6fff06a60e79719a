"""Score compilation for one month of 50 departments, from 10,000 and from 100,000 cases.

The events of each case (submission, completion, rating, the odd card, complaint or supervision
order) are counted as they happen, outside the timing, as the event handlers do. What is timed is
`compile_period` for the month: it reads one counter set per department, window and staff
member, so the goal is the larger within 1.2x of the smaller."""
from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta

from chalicelib import catalog
from chalicelib.domain.cases import CHINA_TIME
from chalicelib.domain.catalog import Catalog
from chalicelib.domain.counters import Counters
from chalicelib.domain.events import (CardRaised, CaseCompleted, CaseSubmitted, ComplaintFiled,
                                      Handler, RatingGiven, TaskOpened)
from chalicelib.domain.scoring import HallWeights, compile_period

DEPARTMENTS = 50
WINDOWS_PER_DEPARTMENT = 4
STAFF_PER_WINDOW = 3
ITEMS_PER_DEPARTMENT = 6
SMALL, LARGE = 10_000, 100_000
MONTH = "2026-11"
GOAL = 1.2


def synthetic_catalog(rng: random.Random) -> Catalog:
    """The published halls, with 50 departments of 4 windows and 12 staff each; a few items of
    each power list left unpublished, so onboarding rates differ."""
    halls = list(catalog.published().halls.values())
    hall_codes = [h["code"] for h in halls]
    departments, items = [], []
    for d in range(DEPARTMENTS):
        code = f"D{d:02d}"
        windows = []
        for w in range(WINDOWS_PER_DEPARTMENT):
            hall = "BZ" if w < 2 else rng.choice(hall_codes)
            windows.append({"code": f"{code}-W{w}", "name": f"部门{d:02d}窗口{w}", "hall": hall,
                            "staff": [{"staff_id": f"{code}-W{w}-S{s}",
                                       "name": f"工作人员{d:02d}{w}{s}", "phone": "13800000000",
                                       "post": "受理"} for s in range(STAFF_PER_WINDOW)]})
        power_list = [f"{code}-I{i}" for i in range(ITEMS_PER_DEPARTMENT)]
        for i, item in enumerate(power_list):
            if i < ITEMS_PER_DEPARTMENT - rng.randint(0, 2):
                items.append({"code": item, "name": f"事项{item}", "description": "",
                              "halls": rng.sample(hall_codes, 3), "lead_department": code,
                              "category": "行政许可", "kind": "promised",
                              "stages": [{"departments": [{"department": code}]}]})
        departments.append({"code": code, "name": f"第{d:02d}局", "short_name": f"局{d:02d}",
                            "hall": "BZ", "windows": windows, "power_list": power_list,
                            "chief_representative": {"staff_id": f"{code}-000",
                                                     "name": f"首席{d:02d}",
                                                     "phone": "13800000000"}})
    return Catalog(halls, departments, items)


def case_events(big: Catalog, cases: int, rng: random.Random):
    """What happens to `cases` cases during the month, event by event."""
    places = [(code, w["code"], w["hall"], [s["staff_id"] for s in w["staff"]])
              for code, dept in big.departments.items() for w in dept["windows"]]
    start = datetime(2026, 11, 1, 8, 0, tzinfo=CHINA_TIME)
    for n in range(cases):
        department, window, hall, staff = rng.choice(places)
        case_id, at = f"C{n:06d}", start + timedelta(minutes=rng.randrange(29 * 24 * 60))
        handler = Handler(department, window, rng.choice(staff))
        yield CaseSubmitted(case_id, at, rng.choices(("online", "window", "agent"), (6, 3, 1))[0],
                            handler)
        if rng.random() < 0.9:
            on_time = rng.random() < 0.97
            done = at + timedelta(hours=rng.randrange(1, 24))
            yield CaseCompleted(case_id, done, handler, on_time,
                                early=on_time and rng.random() < 0.8,
                                working_days=round(rng.uniform(0, 10), 2))
            if rng.random() < 0.7:
                yield RatingGiven(case_id, done, rng.choices((5, 4, 3, 2, 1), (70, 20, 6, 3, 1))[0],
                                  handler)
        if rng.random() < 0.01:
            yield CardRaised(case_id, at, rng.choice(("yellow", "red")), handler, {})
        if rng.random() < 0.003:
            yield ComplaintFiled(f"T{n:06d}", at, handler)
        if rng.random() < 0.002:
            yield TaskOpened(f"O{n:06d}", "order", at, department, hall)


def counted(big: Catalog, cases: int, seed: int) -> tuple[Counters, int, float]:
    counters, events = Counters(), 0
    started = time.perf_counter()
    for event in case_events(big, cases, random.Random(seed)):
        counters.record(event)
        events += 1
    return counters, events, time.perf_counter() - started


def run(repeat: int = 15, seed: int = 11) -> dict:
    big = synthetic_catalog(random.Random(seed))
    weights = HallWeights.from_config({"BZ": {"red_flag_min_completed": 30}}, big)
    small, small_events, small_count_s = counted(big, SMALL, seed + 1)
    large, large_events, large_count_s = counted(big, LARGE, seed + 2)
    timings = {"small": [], "large": []}
    subjects = {}
    for _ in range(repeat):   # interleaved, so drift on a shared machine hits both alike
        for name, counters in (("small", small), ("large", large)):
            started = time.perf_counter()
            compiled = compile_period(counters, big, MONTH, weights)
            timings[name].append((time.perf_counter() - started) * 1000)
            subjects[name] = compiled["subjects"]
    assert subjects["small"] == subjects["large"]
    small_ms, large_ms = (statistics.median(timings[n]) for n in ("small", "large"))
    ratio = large_ms / small_ms
    return {"cases_small": SMALL, "cases_large": LARGE,
            "departments": DEPARTMENTS, "period": MONTH,
            "subjects": subjects["large"],
            "events_small": small_events, "events_large": large_events,
            "counter_items_small": len(small), "counter_items_large": len(large),
            "count_us_per_event": round(1e6 * (small_count_s + large_count_s)
                                        / (small_events + large_events), 2),
            "compile_median_ms_small": round(small_ms, 3),
            "compile_median_ms_large": round(large_ms, 3),
            "runs": repeat, "ratio": round(ratio, 3), "goal": f"<= {GOAL}",
            "met": ratio <= GOAL}


if __name__ == "__main__":
    import json
    print(json.dumps(run(), ensure_ascii=False, indent=1))
