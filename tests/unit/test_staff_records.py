"""A staff member's archive holds what is recorded about them: the cards naming them and the
supervised work about them (orders, complaints and their investigations), newest first, paged;
the staff member reads it as their department does (never who complained), the supervision
office of their hall in full, another office not at all."""
from datetime import timedelta

import pytest

from chalicelib.adapters.memory import InMemoryCounters, InMemoryReports
from chalicelib.domain.cases import Caller
from chalicelib.domain.errors import Forbidden, InvalidInput, NotFound
from chalicelib.domain.events import Card
from chalicelib.domain.pages import Page
from chalicelib.service.performance import Performance
from tests.unit.test_supervision_service import ALICE, CITY, QIAOCHENG, T0, w  # noqa: F401


def performance(w) -> Performance:
    return Performance(w.catalog, InMemoryCounters(), InMemoryReports(), lambda: w.now[0],
                       scope=w.service.scope.halls_of, log=w.log, tasks=w.tasks,
                       task_view=w.service.work.view)


def card(n: int, staff_id: str = "SCJG-001") -> dict:
    return Card(event_id=f"case{n}#red", case_id=f"case{n}", case_no=f"BZ-20261118-0000{n}",
                kind="red", light="red", card=True, scope="case", department="SCJG",
                hall="BZ", window="BZ-A01", staff_id=staff_id, staff_name="李俊杰",
                chief_staff_id="SCJG-000", chief_name="王丽娟", task="审查",
                deadline=T0.isoformat(), planned_at=T0.isoformat(),
                at=(T0 + timedelta(minutes=n)).isoformat()).record()


def test_the_cards_naming_a_staff_member_newest_first_one_page_at_a_time(w):
    for n in range(3):
        w.log.record(card(n))
    w.log.record(card(9, staff_id="SCJG-002"))          # someone else's
    p = performance(w)
    first = p.records(CITY, "SCJG-001", {"kind": "cards"}, Page(2))
    assert [r["case_id"] for r in first["records"]] == ["case2", "case1"]
    assert first["kind"] == "cards" and first["next_cursor"] is not None
    rest = p.records(CITY, "SCJG-001", {}, Page(2, first["next_cursor"]))   # cards by default
    assert [r["case_id"] for r in rest["records"]] == ["case0"] and rest["next_cursor"] is None
    me = Caller("department", "SCJG", staff=w.catalog.staff("SCJG-002"))
    assert [r["case_id"] for r in p.own_records(me, {})["records"]] == ["case9"]


def test_complaints_about_a_staff_member_are_in_their_archive_without_the_complainant(w):
    visit = T0 - timedelta(minutes=30)
    filed = w.service.complaints.file(ALICE, {"about": "staff", "staff_id": "SCJG-001",
                                             "visited_at": visit.isoformat(), "text": "态度恶劣"})
    w.service.complaints.file(ALICE, {"about": "staff", "staff_id": "SCJG-002",
                                      "visited_at": visit.isoformat(), "text": "推诿"})
    p = performance(w)
    office = p.records(CITY, "SCJG-001", {"kind": "tasks"})
    [task] = office["records"]
    assert task["task_id"] == filed["task_id"] and task["kind"] == "investigation"
    assert task["subject"]["complainant"]                     # the office investigates
    me = Caller("department", "SCJG", staff=w.catalog.staff("SCJG-001"))
    [mine] = p.own_records(me, {"kind": "tasks"})["records"]
    assert mine["task_id"] == filed["task_id"] and "complainant" not in mine["subject"]


def test_only_the_office_over_the_staff_members_hall_reads_their_records(w):
    p = performance(w)
    with pytest.raises(Forbidden) as refused:
        p.records(QIAOCHENG, "SCJG-001", {"kind": "cards"})    # works at the city's hall
    assert refused.value.field == "staff_id"
    with pytest.raises(NotFound):
        p.records(CITY, "NOBODY-001", {"kind": "cards"})
    with pytest.raises(InvalidInput) as bad:
        p.records(CITY, "SCJG-001", {"kind": "ratings"})
    assert bad.value.field == "kind"
