"""Bounded lists: the `limit` of a page, the signed cursor that carries a list on (round trip,
tampering, other filters, another caller), the merge of several partitions page by page, and
the services' lists with in-memory adapters paged through to their end, each item once."""
import base64
import json
import random
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.paging import DONE, merged
from chalicelib.adapters.http import paged
from chalicelib.adapters.memory import InMemoryCounters, InMemoryReports
from chalicelib.domain.cases import Caller
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.pages import MAX_LIMIT, Cursors, Page, limit_of
from chalicelib.service.performance import Performance
from tests.unit.test_supervision_service import CITY, T0, completed_case, w  # noqa: F401

KEY = "k" * 48
SCOPE = {"route": "/audit/cards", "path": {}, "caller": ["auditor", "BZ-JJJC", "staff:X"],
         "filters": {"light": "red"}}


def every_page(ask, limit):
    """Follows the list to its end: every item of every page, and how many pages it took."""
    items, start, pages = [], None, 0
    while True:
        found, start = ask(Page(limit, start))
        items += found
        pages += 1
        assert pages < 1000
        if start is None:
            return items, pages


# -- limit ----------------------------------------------------------------------------------
def test_a_limit_is_a_whole_number_from_one_to_the_maximum_with_a_default():
    assert limit_of(None) == 50 and limit_of("") == 50 and limit_of("7") == 7
    assert limit_of(str(MAX_LIMIT)) == MAX_LIMIT == 200
    for wrong in ("0", "-1", "201", "1.5", "ten", "1e3"):
        with pytest.raises(InvalidInput) as refused:
            limit_of(wrong)
        assert refused.value.field == "limit"


# -- the cursor -----------------------------------------------------------------------------
def test_a_cursor_carries_its_position_back_unchanged():
    position = {"BZ": {"hall": {"S": "BZ"}, "at": {"S": "2026-11-18T02:00:00+00:00"}},
                "BZQC": DONE}
    cursors = Cursors(KEY)
    sealed = cursors.seal(position, SCOPE)
    assert isinstance(sealed, str) and "BZ" not in sealed.split(".")[1]
    assert cursors.open(sealed, SCOPE) == position
    assert cursors.open(None, SCOPE) is None and cursors.open("", SCOPE) is None


def test_a_changed_cursor_is_refused_naming_cursor():
    cursors = Cursors(KEY)
    sealed = cursors.seal({"after": ["2026-11-18", "c1"]}, SCOPE)
    body, mac = sealed.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["p"] = {"after": ["2000-01-01", "c0"]}                    # moved back in time
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    flipped = sealed[:-1] + ("A" if sealed[-1] != "A" else "B")
    for wrong in (f"{forged}.{mac}", flipped, "nonsense", "a.b.c", "!!.??", "x" * 5000,
                  Cursors("z" * 48).seal({"after": []}, SCOPE)):          # another key
        with pytest.raises(InvalidInput) as refused:
            cursors.open(wrong, SCOPE)
        assert refused.value.field == "cursor" and refused.value.status == 400


def test_a_cursor_made_for_other_filters_or_another_caller_is_refused():
    cursors = Cursors(KEY)
    sealed = cursors.seal({"after": ["x"]}, SCOPE)
    for other in ({**SCOPE, "filters": {"light": "yellow"}},
                  {**SCOPE, "filters": {}},
                  {**SCOPE, "caller": ["auditor", "BZGY-JJJC", "staff:Y"]},
                  {**SCOPE, "route": "/department/cards"}):
        with pytest.raises(InvalidInput) as refused:
            cursors.open(sealed, other)
        assert refused.value.field == "cursor" and "filters" in refused.value.message


def test_a_short_key_is_refused():
    with pytest.raises(ValueError):
        Cursors("short")


def test_the_edge_reads_limit_and_cursor_and_seals_the_next_position():
    bootstrap.use_cursors(Cursors(KEY))
    try:
        caller = Caller("auditor", "BZ-JJJC")
        items = [f"e{i:03d}" for i in range(7)]

        def request(**query):
            return SimpleNamespace(query_params=query or None, uri_params=None,
                                   context={"resourcePath": "/audit/cards"})

        def answer(filters, page):
            assert "cursor" not in filters and "limit" not in filters
            at = page.start["i"] if page.start else 0
            following = {"i": at + page.limit} if at + page.limit < len(items) else None
            return {"events": items[at:at + page.limit], "next_cursor": following}

        first = paged(request(limit="3", light="red"), caller, answer)
        assert first["events"] == items[:3] and isinstance(first["next_cursor"], str)
        second = paged(request(limit="3", light="red", cursor=first["next_cursor"]), caller,
                       answer)
        third = paged(request(limit="3", light="red", cursor=second["next_cursor"]), caller,
                      answer)
        assert second["events"] + third["events"] == items[3:] and third["next_cursor"] is None
        for wrong in ({"light": "yellow"}, {}):
            with pytest.raises(InvalidInput) as refused:
                paged(request(cursor=first["next_cursor"], **wrong), caller, answer)
            assert refused.value.field == "cursor"
        with pytest.raises(InvalidInput) as refused:
            paged(request(light="red", cursor=first["next_cursor"]),
                  Caller("auditor", "BZGY-JJJC"), answer)
        assert refused.value.field == "cursor"
        with pytest.raises(InvalidInput) as refused:
            paged(request(limit="500"), caller, answer)
        assert refused.value.field == "limit"
    finally:
        bootstrap.use_cursors(None)


# -- several partitions merged, page by page ------------------------------------------------
def partitions(sizes, seed=7):
    """Fake partitions as DynamoDB answers a query: sorted by their key, Limit honoured,
    ExclusiveStartKey the last key read, LastEvaluatedKey when Limit stopped the read."""
    rng = random.Random(seed)
    data = {name: sorted((rng.randrange(10_000), f"{name}-{i}") for i in range(size))
            for name, size in sizes.items()}
    calls = []

    def source(name):
        def fetch(start, n):
            calls.append(name)
            rows = data[name][::-1]                       # newest first
            if start is not None:
                rows = [r for r in rows if r < tuple(start)]
            found = rows[:n]
            return found, (list(found[-1]) if len(found) == n else None)
        return fetch
    return data, {name: source(name) for name in data}, calls


def test_merged_partitions_give_every_item_once_in_the_common_order():
    data, sources, _ = partitions({"BZ": 37, "BZQC": 0, "BZGY": 55, "BZLX": 3})
    items, pages = every_page(lambda page: merged(sources, page.limit, page.start,
                                                  order=lambda r: r, key_of=list,
                                                  newest_first=True), limit=10)
    everything = sorted((r for rows in data.values() for r in rows), reverse=True)
    assert items == everything and pages == 10


def test_a_filter_keeps_pages_bounded_and_still_gives_each_wanted_item_once():
    data, sources, calls = partitions({"A": 300, "B": 300})
    wanted = lambda r: r[0] % 50 == 0                                   # noqa: E731
    items, _ = every_page(lambda page: merged(sources, page.limit, page.start, order=lambda r: r,
                                              key_of=list, keep=wanted, newest_first=True),
                          limit=4)
    assert items == sorted((r for rows in data.values() for r in rows if wanted(r)),
                           reverse=True)
    first, _ = merged(sources, 4, None, order=lambda r: r, key_of=list,
                      keep=lambda r: False, newest_first=True)
    assert first == []          # nothing wanted: the page stops at its budget, not at the end


# -- the services' lists, in memory ---------------------------------------------------------
def test_the_offices_cards_page_newest_first_each_once_with_filters(w):  # noqa: F811
    halls = ["BZ", "BZQC", "BZGY"]
    for i in range(130):
        w.log.record({"case_id": f"c{i % 17}", "event_id": f"e{i}", "department": "SCJG",
                      "hall": halls[i % 3], "kind": "yellow" if i % 4 else "red",
                      "light": "yellow" if i % 4 else "red",
                      "at": (T0 + timedelta(minutes=i * 7 % 130)).isoformat()})

    def ask(params):
        return lambda page: (lambda a: (a["events"], a["next_cursor"]))(
            w.service.violations.cards(CITY, params, page))
    events, pages = every_page(ask({}), limit=25)
    assert len(events) == 130 and len({e["event_id"] for e in events}) == 130 and pages == 6
    assert [e["at"] for e in events] == sorted((e["at"] for e in events), reverse=True)
    red, _ = every_page(ask({"light": "red"}), limit=9)
    assert sorted(e["event_id"] for e in red) == sorted(f"e{i}" for i in range(0, 130, 4))
    since = (T0 + timedelta(minutes=100)).isoformat()
    recent, _ = every_page(ask({"since": since}), limit=50)
    assert recent and all(e["at"] >= since for e in recent)
    with pytest.raises(InvalidInput) as refused:
        w.service.violations.cards(CITY, {"since": "yesterday"})
    assert refused.value.field == "since"


def test_the_offices_tasks_and_the_departments_queue_page_each_task_once(w):  # noqa: F811
    opened = []
    for i in range(23):
        case_id = completed_case(w, case_id=f"case{i:04d}")
        opened.append(w.service.work.issue_order(CITY, {"case_id": case_id, "text": f"说明{i}",
                                                        "limit_days": 2})["task_id"])
        w.now[0] += timedelta(seconds=1)
    listed, pages = every_page(lambda page: (lambda a: (a["tasks"], a["next_cursor"]))(
        w.service.work.for_supervisor(CITY, {"kind": "order"}, page)), limit=5)
    assert [t["task_id"] for t in listed] == opened[::-1] and pages == 5
    queue, _ = every_page(lambda page: (lambda a: (a["tasks"], a["next_cursor"]))(
        w.service.work.of_department(Caller("department", "SCJG"), page)), limit=6)
    assert [t["task_id"] for t in queue] == opened                     # longest waiting first
    with pytest.raises(InvalidInput) as refused:
        w.service.work.for_supervisor(CITY, {"kind": "parade"})
    assert refused.value.field == "kind"


def test_an_applicants_cases_page_newest_first(w):  # noqa: F811
    from chalicelib.service.intake import Intake

    intake = Intake(w.catalog, w.cases, None, None)
    for i in range(11):
        completed_case(w, case_id=f"case{i:04d}")
        w.cases.items[f"case{i:04d}"]["created_at"] = (T0 + timedelta(hours=i)).isoformat()
    alice = Caller("citizen", "sub-alice", id_number="341602199001011234")
    mine, pages = every_page(lambda page: (lambda a: (a["cases"], a["next_cursor"]))(
        intake.mine(alice, page)), limit=4)
    assert [c["case_id"] for c in mine] == [f"case{i:04d}" for i in range(10, -1, -1)]
    assert pages == 3


def test_an_archive_reads_only_the_staff_members_months_page_by_page():
    counters = InMemoryCounters()
    months = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]
    for month in months:
        counters.add({("staff", "SCJG-001", month): {"completed": 2},
                      ("staff", "SCJG-001", f"{month}-03"): {"completed": 1},
                      ("staff", "SCJG-002", month): {"completed": 9}})
    read = []
    of_period = counters.of_period
    counters.of_period = lambda period: read.append(period) or of_period(period)
    from chalicelib import catalog

    performance = Performance(catalog.published(), counters, InMemoryReports(),
                              lambda: datetime(2026, 12, 5, tzinfo=timezone.utc))
    me = Caller("department", "SCJG",
                staff=SimpleNamespace(staff_id="SCJG-001"))
    lines, pages = every_page(lambda page: (lambda a: (a["months"], a["next_cursor"]))(
        performance.own_archive(me, page)), limit=10)
    assert [line["month"] for line in lines] == months[::-1] and pages == 3
    assert all(line["completed"] == 2 for line in lines) and read == []
