"""Fair supervision over HTTP on the running stack, as the applicant, the departments and the
supervision office use it: a 差评 of one department in a five-department case (company setup,
多证联办) lands on that department only and the applicant is told where and by when; a complaint
about a case handled online, with no window and no footage, is accepted and says so; a moment in
the future or beyond the cameras' retention is a 422 naming visited_at, in Chinese; a clip is
sealed by the system, not by the complainant."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from local.cameras import declare_recorded
from .client import Citizen
from .flows import Flow, as_staff, wait_for

CITY = "BZ-JJJC-001"                       # 监察员 of the city's supervision office
CHIEF = {"GA": "GA-000", "SCJG": "SCJG-000"}   # the chief representatives answer supervised work
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def five(fast_stack):
    """A company setup case decided by its five departments, completed."""
    flow = Flow(fast_stack, id_number="341602198808086785")
    flow.accept()
    flow.finish()
    wait_for(lambda: flow.view()["status"] == "completed", timeout=40)
    return flow


def ratings_of(stack) -> dict[str, tuple[int, int]]:
    """(ratings, 差评) of each department of company setup this month, as the city's office
    reads them."""
    month = datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m")
    scored = as_staff(stack, CITY).get(f"/audit/scores?period={month}")
    assert scored.status_code == 200, scored.text
    found = {d["subject"]: (d.get("ratings") or 0, d.get("ratings_bad") or 0)
             for d in scored.json()["departments"]}
    return {code: found.get(code, (0, 0)) for code in ("SCJG", "GA", "SW", "RSJ", "GJJ")}


def rectifications_of(stack, department, case_id):
    listed = as_staff(stack, CHIEF[department]).get("/department/supervised-tasks")
    assert listed.status_code == 200, listed.text
    return [t for t in listed.json()["tasks"] if t["kind"] == "rectification"
            and t["subject"].get("case_id") == case_id]


def test_a_bad_rating_of_one_department_of_five_lands_on_that_department_only(fast_stack, five):
    handled = {b["department"] for b in five.view()["stages"]}
    assert handled == {"SCJG", "GA", "SW", "RSJ", "GJJ"}
    # A department that did not handle the case cannot be rated.
    stranger = five.citizen.post(f"/cases/{five.case_id}/rating",
                                 {"level": 2, "departments": {"HBJ": 1}})
    assert stranger.status_code == 422, stranger.text
    assert stranger.json()["field"] == "departments" and CHINESE.search(stranger.json()["message"])

    before = ratings_of(fast_stack)
    rated = five.citizen.post(f"/cases/{five.case_id}/rating", {
        "level": 4, "comment": "公安局印章刻制备案超期办理", "departments": {"GA": 2, "SCJG": 5}})
    assert rated.status_code == 201, rated.text
    # Counted where it was given: the 差评 at the police bureau, the 非常满意 at 市场监管局.
    after = wait_for(lambda: (lambda now: now if now["GA"][1] > before["GA"][1] else None)(
        ratings_of(fast_stack)))
    assert after["GA"][1] == before["GA"][1] + 1 and after["GA"][0] == before["GA"][0] + 1
    assert after["SCJG"][1] == before["SCJG"][1]                     # no 差评 at the lead
    assert after["SCJG"][0] == before["SCJG"][0] + 1                  # its own 非常满意
    assert all(after[d] == before[d] for d in ("SW", "RSJ", "GJJ"))   # not rated: not counted
    answer = rated.json()
    [opened] = answer["rectifications"]
    assert (opened["department"], opened["department_name"]) == ("GA", "亳州市公安局")
    assert "亳州市公安局" in answer["message"] and "前答复" in answer["message"]
    # The police bureau has the rectification; the lead department (市场监管局) has none.
    [task] = rectifications_of(fast_stack, "GA", five.case_id)
    assert task["task_id"] == opened["task_id"] and task["deadline"] == opened["deadline"]
    assert task["subject"]["staff_id"] and task["subject"]["window"]
    assert rectifications_of(fast_stack, "SCJG", five.case_id) == []
    # The case page shows where the rectification opened and by when.
    rating = five.view()["rating"]
    assert rating["rectifications"] == answer["rectifications"]
    assert rating["departments"]["GA"]["label"] == "不满意"
    # The case's trail credits the opening to supervision, not to the applicant.
    trail = as_staff(fast_stack, CITY).get(f"/audit/cases/{five.case_id}/trail").json()
    records = trail.get("records") or trail.get("trail")
    opened_record = next(r for r in records if r["action"] == "rectification_opened")
    assert opened_record["actor"] == "system:supervision"


def test_a_complaint_about_an_online_case_without_footage_is_accepted(fast_stack, five):
    filed = five.citizen.post("/complaints", {"about": "case", "case_id": five.case_no,
                                              "department": "GA",
                                              "text": "网上申请后，印章刻制备案一直无人处理"})
    assert filed.status_code == 201, filed.text
    task = filed.json()
    subject = task["subject"]
    assert task["kind"] == "investigation" and task["department"] == "GA"
    assert (subject["about"], subject["case_id"], subject["channel"]) == \
        ("case", five.case_id, "online")
    assert subject["department_name"] == "亳州市公安局" and subject["staff_name"]
    assert subject["evidence"] == [] and subject["footage"]["found"] is False
    assert "投诉已受理" in task["message"] and CHINESE.search(subject["footage"]["note"])
    seen = as_staff(fast_stack, CITY).get(f"/audit/tasks/{task['task_id']}")
    assert seen.status_code == 200 and [r["action"] for r in seen.json()["trail"]] == ["opened"]
    # Someone else's case is not there to complain about; a department that did not handle it
    # cannot be named.
    other = Citizen(fast_stack, "341602199202025675", name="钱多")
    refused = other.post("/complaints", {"case_id": five.case_no, "text": "x"})
    assert refused.status_code == 404 and refused.json()["field"] == "case_id"
    wrong = five.citizen.post("/complaints", {"case_id": five.case_id, "department": "HBJ",
                                             "text": "x"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "department"


def test_a_moment_in_the_future_or_beyond_the_retention_is_a_422_in_chinese(fast_stack):
    citizen = Citizen(fast_stack, "341602199101015670", name="赵敏")
    now = datetime.now(timezone.utc)
    for moment, words in ((now + timedelta(hours=1), "晚于当前时间"),
                          (now - timedelta(days=120), "保存期限")):
        answer = citizen.post("/complaints", {"window": "BZ-A01", "text": "x",
                                              "visited_at": moment.isoformat()})
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == "visited_at" and words in answer.json()["message"]


def test_footage_is_sealed_by_the_system_and_a_visit_without_footage_is_accepted(fast_stack):
    citizen = Citizen(fast_stack, "341602199303036787", name="冯晓")
    now = datetime.now(timezone.utc)
    declare_recorded(fast_stack["aws"]["endpoint"], "bz-a04", now - timedelta(hours=1),
                     now + timedelta(hours=1))
    filed = citizen.post("/complaints", {"about": "staff", "staff_id": "GA-002", "text": "态度恶劣",
                                         "visited_at": (now - timedelta(minutes=5)).isoformat()})
    assert filed.status_code == 201, filed.text
    task = filed.json()
    assert task["subject"]["window"] == "BZ-A04" and task["subject"]["footage"]["found"] is True
    trail = as_staff(fast_stack, CITY).get(f"/audit/tasks/{task['task_id']}").json()["trail"]
    assert [(r["action"], r["actor"].split(":")[0]) for r in trail] == [
        ("opened", "citizen"), ("evidence_stored", "system")]
    assert trail[1]["actor"] == "system:evidence"
    # At 3 am yesterday, outside the hall's hours, the camera kept nothing: accepted all the
    # same, without footage.
    china = timezone(timedelta(hours=8))
    night = (now.astimezone(china) - timedelta(days=1)).replace(hour=3, minute=0, second=0,
                                                                microsecond=0)
    earlier = citizen.post("/complaints", {"window": "BZ-A04", "text": "无人值守",
                                           "visited_at": night.isoformat()})
    assert earlier.status_code == 201, earlier.text
    assert earlier.json()["subject"]["footage"]["found"] is False
    assert earlier.json()["subject"]["evidence"] == []
