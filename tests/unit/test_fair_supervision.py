"""Fair supervision through the service layer with in-memory adapters: a rating names the
departments it is about and its 差评 reaches them (not the lead); a complaint about a case, a
window visit or a staff member is accepted with or without footage, in Chinese; every card
names its people with their names; system actions are credited to the system part that took
them."""
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chalicelib.domain import counting, events, people, trail
from chalicelib.domain import ratings as rating_rules
from chalicelib.domain.approval import Branch
from chalicelib.domain.errors import InvalidInput, NotFound, Unprocessable
from tests.unit.test_supervision_service import (ALICE, BOB, CITY, T0, WORKDAY,  # noqa: F401
                                                 awaiting, completed_case, w)

FIVE = {"SCJG": ("BZ-A01", "SCJG-002"), "GA": ("BZ-A04", "GA-002"), "SW": (None, None),
        "RSJ": (None, None), "GJJ": (None, None)}


def handled(w, case_id: str, departments=FIVE, channel="online") -> None:
    """The case's branches as the workflow leaves them: acceptance at the lead, then one step
    per department of 多证联办, each decided by its staff member."""
    case = w.cases.get(case_id)
    case.channel = channel
    w.cases.update(case, None) if False else None
    branches = [Branch(case_id, "0:SCJG", "acceptance", 0, "受理", "SCJG", "受理",
                       "BZ-A01", "SCJG-001", "SCJG-000", {}, status="decided",
                       decided_by="staff:SCJG-001")]
    for code, (window, staff) in departments.items():
        chief = w.catalog.departments[code]["chief_representative"]["staff_id"]
        branches.append(Branch(case_id, f"1:{code}", "decision", 1, "多证联办", code, "审批",
                               window, None, chief, {}, status="decided",
                               decided_by=f"staff:{staff}" if staff else None))
    w.cases.save_branches(branches)


# -- ratings name their subject ------------------------------------------------------------------
def test_a_bad_rating_of_one_department_of_five_opens_its_rectification_there_only(w):
    case_id = completed_case(w)
    handled(w, case_id)
    rated = w.service.ratings.rate(ALICE, case_id, {
        "level": 4, "comment": "公安局印章刻制备案超期办理",
        "departments": {"GA": 2, "SCJG": 5}})
    [task] = w.tasks.rows.values()
    assert task["kind"] == "rectification" and task["department"] == "GA"
    # addressed to the people of the police bureau's part of the case
    assert task["subject"]["staff_id"] == "GA-002" and task["subject"]["window"] == "BZ-A04"
    assert rated["rating"]["departments"]["GA"] == {"level": 2, "label": "不满意"}
    [told] = rated["rectifications"]
    assert told["department"] == "GA" and told["department_name"] == "亳州市公安局"
    assert told["deadline"] == task["deadline"] and told["task_id"] == task["task_id"]
    assert "亳州市公安局" in rated["message"] and "前答复" in rated["message"]
    # the case page shows it, and the trail credits the opening to supervision
    case = w.cases.get(case_id)
    assert case.rating["rectifications"] == rated["rectifications"]
    last = w.cases.trail(case_id)[-1]
    assert (last.action, last.actor) == ("rectification_opened", trail.SUPERVISION)


def test_the_rating_event_carries_the_departments_so_the_rated_one_is_counted(w):
    case_id = completed_case(w)
    handled(w, case_id)
    w.service.ratings.rate(ALICE, case_id, {"level": 4, "departments": {"GA": 1}})
    [given] = w.events.of(events.RatingGiven)
    assert given.departments == (("GA", 1),) and given.handler.department == "SCJG"
    incs = counting.increments(given)
    department = {(i.subject, i.metric) for i in incs if i.scope == counting.SCOPE_DEPARTMENT}
    assert ("GA", counting.RATINGS_BAD) in department
    assert not any(subject == "SCJG" for subject, _ in department)     # the lead untouched
    window = {(i.subject, i.metric) for i in incs if i.scope == counting.SCOPE_WINDOW}
    assert ("BZ-A01", counting.RATINGS_SATISFIED) in window       # the service as a whole: 4


def test_a_rerating_takes_each_department_out_where_it_was_counted():
    lead = events.Handler("SCJG", "BZ-A01", "SCJG-001")
    again = events.RatingGiven("c1", T0, 5, lead, replaces=(1, T0 - timedelta(days=1)),
                               departments=(("GA", 5),), replaces_departments=(("GA", 1),))
    totals = {}
    for inc in counting.increments(again):
        if inc.scope == counting.SCOPE_DEPARTMENT and inc.period == "2026-11":
            totals[(inc.subject, inc.metric)] = totals.get((inc.subject, inc.metric), 0) \
                + inc.amount
    assert totals[("GA", counting.RATINGS_BAD)] == -1
    assert totals[("GA", counting.RATINGS_SATISFIED)] == 1
    assert not any(subject == "SCJG" for subject, _ in totals)
    # without departments, the lead is counted as before
    plain = events.RatingGiven("c2", T0, 2, lead)
    assert {i.subject for i in counting.increments(plain)
            if i.scope == counting.SCOPE_DEPARTMENT} == {"SCJG"}


def test_a_bad_rating_naming_no_department_opens_the_rectification_at_the_lead(w):
    case_id = completed_case(w)
    handled(w, case_id)
    rated = w.service.ratings.rate(ALICE, case_id, {"level": 2, "comment": "跑了三趟"})
    [task] = w.tasks.rows.values()
    assert task["department"] == "SCJG"
    assert [r["department"] for r in rated["rectifications"]] == ["SCJG"]


def test_a_rating_of_a_department_that_did_not_handle_the_case_is_refused(w):
    case_id = completed_case(w)
    handled(w, case_id)
    with pytest.raises(Unprocessable) as refused:
        w.service.ratings.rate(ALICE, case_id, {"level": 2, "departments": {"HBJ": 1}})
    assert refused.value.field == "departments" and "HBJ" in refused.value.message
    assert "未办理" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        w.service.ratings.rate(ALICE, case_id, {"level": 2, "departments": {"GA": 7}})
    assert refused.value.field == "departments.GA"
    assert w.cases.get(case_id).rating is None and w.tasks.rows == {}


def test_the_rated_department_appeals_its_own_bad_rating_and_the_lead_cannot(w):
    from chalicelib.domain.cases import Caller
    from chalicelib.domain.errors import Conflict, Forbidden

    case_id = completed_case(w)
    handled(w, case_id)
    w.service.ratings.rate(ALICE, case_id, {"level": 2, "departments": {"GA": 1}})
    with pytest.raises(Conflict):
        w.service.ratings.appeal(Caller("department", "SCJG"), case_id, {"reason": "并非本部门"})
    with pytest.raises(Forbidden):
        w.service.ratings.appeal(Caller("department", "HBJ"), case_id, {"reason": "x"})
    appealed = w.service.ratings.appeal(Caller("department", "GA"), case_id,
                                        {"reason": "申请人材料不全"})
    assert appealed["rating"]["appeal"]["department"] == "GA"
    decided = w.service.ratings.decide_appeal(CITY, case_id, {"upheld": True, "reason": "属实"})
    [withdrawn] = w.events.of(events.RatingWithdrawn)
    assert decided["rating"]["struck_out"] and withdrawn.department_levels == {"GA": 1}


def test_rectified_at_is_each_bad_department_else_the_lead_for_a_bad_whole():
    assert rating_rules.rectified_at(4, {"GA": 2, "SW": 1, "SCJG": 5}, "SCJG") == ["GA", "SW"]
    assert rating_rules.rectified_at(1, {"GA": 4}, "SCJG") == ["SCJG"]
    assert rating_rules.rectified_at(1, {}, "SCJG") == ["SCJG"]
    assert rating_rules.rectified_at(3, {}, "SCJG") == []


# -- complaints without a visit ------------------------------------------------------------------
def test_a_complaint_about_an_online_case_without_footage_is_accepted_and_says_so(w):
    case_id = completed_case(w)
    handled(w, case_id, {"SCJG": (None, "SCJG-002"), "GA": (None, "GA-002")})
    case_no = w.cases.get(case_id).case_no
    task = w.service.complaints.file(ALICE, {"about": "case", "case_id": case_no,
                                            "department": "GA", "text": "网上办理一直无人处理"})
    assert task["kind"] == "investigation" and task["department"] == "GA"
    subject = task["subject"]
    assert (subject["about"], subject["case_id"], subject["visited_at"]) == ("case", case_id, None)
    assert subject["staff_id"] == "GA-002" and subject["staff_name"]
    assert subject["evidence"] == [] and subject["footage"]["found"] is False
    assert "投诉已受理" in task["message"] and w.cameras.requests == []
    assert [r.action for r in w.tasks.trail(task["task_id"])] == ["opened"]


def test_a_visit_about_a_case_goes_to_the_department_of_the_window_visited(w):
    case_id = completed_case(w)
    handled(w, case_id)
    task = w.service.complaints.file(ALICE, {"case_id": case_id, "window": "BZ-A04",
                                            "visited_at": (T0 - timedelta(minutes=5)).isoformat(),
                                            "text": "窗口推诿"})
    assert task["subject"]["about"] == "case" and task["department"] == "GA"
    assert task["subject"]["window"] == "BZ-A04"
    assert [stream for stream, _, _ in w.cameras.requests] == ["bz-a04"]   # its camera asked


def test_a_complaint_about_a_case_names_only_a_department_that_handled_it(w):
    case_id = completed_case(w)
    handled(w, case_id)
    with pytest.raises(Unprocessable) as refused:
        w.service.complaints.file(ALICE, {"case_id": case_id, "department": "HBJ",
                                         "text": "x"})
    assert refused.value.field == "department"
    with pytest.raises(NotFound) as refused:
        w.service.complaints.file(BOB, {"case_id": case_id, "text": "x"})
    assert refused.value.field == "case_id"
    assert w.tasks.rows == {}


def test_a_complaint_about_a_staff_member_is_counted_against_them_with_footage(w):
    visit = T0 - timedelta(minutes=30)
    task = w.service.complaints.file(ALICE, {"about": "staff", "staff_id": "SCJG-001",
                                            "visited_at": visit.isoformat(), "text": "态度恶劣"})
    subject = task["subject"]
    assert (task["department"], subject["window"], subject["staff_name"]) == \
        ("SCJG", "BZ-A01", "李俊杰")
    assert subject["footage"]["found"] is True and len(subject["evidence"]) == 1
    [filed] = w.events.of(events.ComplaintFiled)
    assert filed.handler == events.Handler("SCJG", "BZ-A01", "SCJG-001")
    with pytest.raises(Unprocessable) as refused:
        w.service.complaints.file(ALICE, {"about": "staff", "staff_id": "NOBODY", "text": "x"})
    assert refused.value.field == "staff_id"


@pytest.mark.parametrize("moment,words", [
    (T0 + timedelta(minutes=5), "晚于当前时间"),
    (T0 - timedelta(days=91), "保存期限（90 天）"),
])
def test_a_moment_in_the_future_or_beyond_the_retention_is_a_422_in_chinese(w, moment, words):
    with pytest.raises(Unprocessable) as refused:
        w.service.complaints.file(ALICE, {"window": "BZ-A01", "visited_at": moment.isoformat(),
                                         "text": "x"})
    assert refused.value.status == 422 and refused.value.field == "visited_at"
    assert words in refused.value.message


def test_a_hall_sets_its_own_camera_retention():
    from chalicelib.domain.halls import HallPolicy

    assert HallPolicy.of({}).camera_retention_days == 90
    assert HallPolicy.of({"camera_retention_days": 30}).camera_retention_days == 30


ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")
FIELD_NAMES = {"about", "case", "window", "staff", "visited_at", "departments"}


@pytest.mark.parametrize("body", [
    {"window": "BZ-Z99", "visited_at": T0.isoformat(), "text": "x"},
    {"window": "BZ-A01", "visited_at": "yesterday", "text": "x"},
    {"window": "BZ-A01", "visited_at": "2026-11-18T09:00:00", "text": "x"},
    {"window": "BZ-A01", "visited_at": (T0 + timedelta(hours=1)).isoformat(), "text": "x"},
    {"window": "BZ-A01", "visited_at": T0.isoformat()},
    {"window": "BZ-A01", "visited_at": T0.isoformat(), "text": "x" * 2001},
    {"about": "someone", "text": "x"},
    {"about": "staff", "staff_id": "X", "text": "x"},
    {"case_id": "X-1", "text": "x"},
])
def test_every_refusal_of_a_complaint_is_chinese(w, body):
    with pytest.raises((InvalidInput, Unprocessable, NotFound)) as refused:
        w.service.complaints.file(ALICE, body)
    message = refused.value.message
    assert re.search(r"[\u4e00-\u9fff]", message), message
    assert not set(ENGLISH_WORD.findall(message)) - FIELD_NAMES, message


def test_a_visitor_cannot_complain_about_a_case(w):
    from chalicelib.domain.cases import Caller

    with pytest.raises(InvalidInput) as refused:
        w.service.complaints.file(Caller("public", "visitor"), {"about": "case", "text": "x"})
    assert refused.value.field == "about" and "申请人" in refused.value.message


# -- every card names people ---------------------------------------------------------------------
def test_names_are_resolved_from_the_directory(w):
    named = people.named(w.catalog, "GA", None, "GA-002")
    assert named["department_name"] == "亳州市公安局" and named["staff_name"]
    assert named["window"] and named["window_name"] and named["chief_name"]
    assert named["chief_staff_id"] == w.catalog.departments["GA"]["chief_representative"][
        "staff_id"]
    unknown = people.named(w.catalog, "GA", None, "NOBODY")
    assert unknown["staff_id"] == "NOBODY" and unknown["staff_name"] is None


def test_a_violation_card_names_its_people_with_their_names(w):
    case_id = completed_case(w)
    case = w.cases.get(case_id)
    case.status, case.result = "refused", {"outcome": "refused", "reasons": []}
    record = trail.append(case_id, case.trail_seq, case.trail_hash, "decision_refuse",
                          "staff:SCJG-001", T0.isoformat(),
                          {"branch": "0:SCJG", "decision": "refuse", "staff_id": "SCJG-001",
                           "fee_yuan": 0})
    case.trail_seq, case.trail_hash = record.seq, record.hash
    w.cases.update(case, record)
    card = next(e for e in w.service.violations.watch(case_id)
                if e["kind"] == "violation:decided_without_reasons")
    assert card["staff_id"] == "SCJG-001" and card["staff_name"] == "李俊杰"
    assert card["chief_staff_id"] == "SCJG-000" and card["chief_name"] == "王丽娟"
    assert card["department_name"] == "亳州市市场监督管理局"
    assert card["window"] == "BZ-A01" and card["window_name"] == "市场监管窗口A01"


def test_a_rectifications_red_card_names_the_staff_of_the_rated_part(w):
    case_id = completed_case(w)
    handled(w, case_id)
    w.service.ratings.rate(ALICE, case_id, {"level": 4, "departments": {"GA": 1}})
    [task] = w.tasks.rows.values()
    w.now[0] += timedelta(seconds=11 * WORKDAY)
    awaiting(w, task["task_id"], timer=1)
    [card] = [e for e in w.log.of_case(task["task_id"]) if e.get("light") == "red"]
    assert (card["department"], card["staff_id"], card["window"]) == ("GA", "GA-002", "BZ-A04")
    assert card["staff_name"] and card["chief_name"] and card["department_name"] == "亳州市公安局"


# -- actions credited truly ---------------------------------------------------------------------
def test_evidence_is_sealed_by_the_system_not_the_complainant(w):
    task = w.service.complaints.file(ALICE, {"window": "BZ-A01", "text": "态度差",
                                            "visited_at": (T0 - timedelta(minutes=5)).isoformat()})
    records = w.tasks.trail(task["task_id"])
    assert [(r.action, r.actor) for r in records] == [
        ("opened", ALICE.actor), ("evidence_stored", trail.EVIDENCE)]
    assert trail.verify(records).intact


def test_a_default_rating_is_credited_to_the_scheduled_job(w):
    case_id = completed_case(w, hall="BZ")
    w.now[0] += timedelta(seconds=8 * WORKDAY)
    assert w.service.ratings.default_ratings() == [case_id]
    last = w.cases.trail(case_id)[-1]
    assert (last.action, last.actor) == ("rated_by_default", trail.DEFAULT_RATINGS)
    assert trail.is_system(last.actor) and not trail.is_system(ALICE.actor)


def test_the_website_labels_every_system_actor():
    ui = (Path(__file__).parents[2] / "chalicelib/web/js/ui.mjs").read_text(encoding="utf-8")
    for actor, label in trail.SYSTEM_ACTORS.items():
        part = actor.split(":", 1)[1]
        assert re.search(rf'{part}: "{label}"', ui), (actor, label)


@pytest.mark.parametrize("body", [
    {"level": 6}, {"level": True}, {"level": 3, "dimensions": {"mood": 3}},
    {"level": 3, "dimensions": {"efficiency": 9}}, {"level": 3, "comment": "x" * 501},
    {"level": 2, "departments": {"HBJ": 1}}, {"level": 2, "departments": "GA"},
    {"level": 2, "departments": {"GA": 0}},
])
def test_every_refusal_of_a_rating_is_chinese(w, body):
    from chalicelib.domain.errors import DomainError

    case_id = completed_case(w)
    handled(w, case_id)
    with pytest.raises(DomainError) as refused:
        w.service.ratings.rate(ALICE, case_id, body)
    assert re.search(r"[\u4e00-\u9fff]", refused.value.message), refused.value.message
    words = set(ENGLISH_WORD.findall(refused.value.message)) - FIELD_NAMES - set(
        rating_rules.DIMENSIONS) - {"mood", "service_attitude"}
    assert not words, refused.value.message
