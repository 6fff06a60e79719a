"""Electronic supervision over HTTP on the running stack with a compressed clock: a supervision
office issues orders and sees them escalate, a complaint brings the window camera's clip as
evidence written once, the applicant rates and the department rectifies, the 12345 hotline and
online consultations reach the departments, and each office sees only its own halls."""
import copy
import hashlib
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
import requests

from local.cameras import declare_recorded
from tests.conftest import AT_ITS_INSTANT, WORKDAY
from botocore.credentials import Credentials

from .client import Citizen, Signed
from .flows import Flow, as_staff, wait_for
from .visitors import post

# 监察员 of the city's office and of 涡阳县's; the section chief (负责人) of 市场监管's window A01,
# who answers the department's supervised tasks; a window clerk of 市场监管.
CITY, GUOYANG = "BZ-JJJC-001", "BZGY-JJJC-001"
SCJG_CHIEF, SCJG_CLERK = "SCJG-003", "SCJG-001"


@pytest.fixture(scope="module")
def completed(fast_stack):
    flow = Flow(fast_stack, id_number="341602198303036782")
    flow.accept()
    flow.finish()
    wait_for(lambda: flow.view()["status"] == "completed", timeout=30)
    return flow


def test_an_unanswered_order_escalates_at_its_deadline_and_an_answered_one_does_not(
        fast_stack, completed):
    city = as_staff(fast_stack, CITY)
    order = city.post("/supervision/orders", {"case_id": completed.case_id, "limit_days": 1,
                                              "text": "请说明该件办理过程中是否存在推诿情况"})
    assert order.status_code == 201, order.text
    answered = city.post("/supervision/orders", {"case_id": completed.case_id, "limit_days": 1,
                                                 "text": "请报送收费依据"}).json()
    scjg = as_staff(fast_stack, SCJG_CHIEF)
    open_ids = {t["task_id"] for t in scjg.get("/department/supervised-tasks").json()["tasks"]}
    assert {order.json()["task_id"], answered["task_id"]} <= open_ids
    refused = as_staff(fast_stack, "GJJ-000").post(          # 公积金's chief representative
        f"/department/supervised-tasks/{answered['task_id']}/answer", {"answer": "越权答复"})
    assert refused.status_code == 403 and refused.json()["field"] == "task_id"
    reply = scjg.post(f"/department/supervised-tasks/{answered['task_id']}/answer",
                      {"answer": "收费依据已报送，未收取任何费用"})
    assert reply.status_code == 200 and reply.json()["status"] == "answered"

    task_id = order.json()["task_id"]
    due = datetime.fromisoformat(order.json()["deadline"]).timestamp()
    time.sleep(max(0.0, due + 1 - time.time()))
    mine = wait_for(lambda: [c for c in city.get("/audit/cards?kind=escalation")
                             .json()["events"] if c["task_id"] == task_id], timeout=WORKDAY)
    cards = city.get("/audit/cards?kind=escalation").json()["events"]
    assert len(mine) == 1 and mine[0]["light"] == "red" and mine[0]["department"] == "SCJG"
    assert abs(mine[0]["delay_seconds"]) < AT_ITS_INSTANT
    assert not [c for c in cards if c["task_id"] == answered["task_id"]]
    trace = city.get(f"/audit/tasks/{task_id}").json()
    assert trace["verdict"]["intact"] and trace["light"] == "red"
    assert [r["action"] for r in trace["trail"]] == ["opened", "supervision_escalation"]


def test_a_district_office_cannot_read_or_act_on_the_citys_cases(fast_stack, completed):
    guoyang = as_staff(fast_stack, GUOYANG)
    assert guoyang.get(f"/audit/cases/{completed.case_id}/trail").status_code == 403
    assert guoyang.get(f"/audit/cases/{completed.case_id}/supervision").status_code == 403
    cards = guoyang.get("/audit/cards").json()
    assert cards["halls"] == ["BZGY"] and cards["events"] == []
    assert guoyang.get("/audit/cards?hall=BZ").status_code == 403
    order = guoyang.post("/supervision/orders", {"case_id": completed.case_id, "text": "越权"})
    assert order.status_code == 403 and order.json()["field"] == "hall"
    assert as_staff(fast_stack, SCJG_CLERK).get("/audit/cards").status_code == 403
    assert requests.get(f"{fast_stack['api_url']}/audit/cards", timeout=10).status_code == 403


def test_cards_and_events_cannot_be_edited_or_deleted_by_any_role(fast_stack, completed):
    for caller in (CITY, SCJG_CLERK):
        signed = as_staff(fast_stack, caller)
        for method in ("PUT", "DELETE", "PATCH"):
            answer = signed.request(method, f"/audit/cases/{completed.case_id}/supervision")
            assert 400 <= answer.status_code < 500, (caller, method, answer.status_code)
    assert as_staff(fast_stack, CITY).get(
        f"/audit/cases/{completed.case_id}/trail").json()["verdict"]["intact"]


def test_a_complaint_brings_the_window_clip_written_once_and_every_viewing_is_recorded(
        fast_stack):
    now = datetime.now(timezone.utc)
    declare_recorded(fast_stack["aws"]["endpoint"], "bz-a02", now - timedelta(hours=1),
                     now + timedelta(hours=1))
    citizen = Citizen(fast_stack, "341602199407074323", name="孙丽")
    complaint = {"window": "BZ-A02", "text": "窗口工作人员擅自离岗",
                 "visited_at": (now - timedelta(minutes=5)).isoformat()}
    retry_key = {"Idempotency-Key": f"complaint-{time.time_ns()}"}
    filed = citizen.post("/complaints", complaint, headers=retry_key)
    assert filed.status_code == 201, filed.text
    task = filed.json()
    again = citizen.post("/complaints", complaint, headers=retry_key)     # a retried POST
    assert again.status_code == 201 and again.json()["task_id"] == task["task_id"]
    [clip] = task["subject"]["evidence"]
    assert task["kind"] == "investigation" and task["department"] == "SCJG"

    city = as_staff(fast_stack, CITY)
    wrong = city.get(f"/supervision/tasks/{task['task_id']}/evidence/first")
    assert wrong.status_code == 400 and wrong.json()["field"] == "index"
    seen = city.get(f"/supervision/tasks/{task['task_id']}/evidence/0")
    assert seen.status_code == 200, seen.text
    body = requests.get(seen.json()["url"], timeout=10)
    assert body.status_code == 200 and hashlib.sha256(body.content).hexdigest() == clip["sha256"]
    trace = city.get(f"/audit/tasks/{task['task_id']}").json()
    assert [r["action"] for r in trace["trail"]] == ["opened", "evidence_stored",
                                                     "evidence_viewed"]
    assert trace["trail"][1]["data"]["sha256"] == clip["sha256"] and trace["verdict"]["intact"]

    # Written once: no one removes or replaces the clip while it is retained.
    aws = fast_stack["aws"]
    s3 = boto3.client("s3", endpoint_url=aws["endpoint"], region_name=aws["region"],
                      aws_access_key_id=aws["access_key_id"],
                      aws_secret_access_key=aws["secret_access_key"])
    bucket = fast_stack["resources"]["EvidenceBucket"]
    version = s3.head_object(Bucket=bucket, Key=clip["key"])["VersionId"]
    with pytest.raises(s3.exceptions.ClientError):
        s3.delete_object(Bucket=bucket, Key=clip["key"], VersionId=version)
    assert s3.head_object(Bucket=bucket, Key=clip["key"])["VersionId"] == version


def test_a_30_minute_pull_is_every_part_stored_with_its_hash_and_a_longer_one_refused(
        fast_stack):
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    declare_recorded(fast_stack["aws"]["endpoint"], "bz-a02", now - timedelta(hours=1), now)
    city = as_staff(fast_stack, CITY)
    start, end = now - timedelta(minutes=50), now - timedelta(minutes=20)
    pulled = city.post("/supervision/clips", {"window": "BZ-A02", "start": start.isoformat(),
                                              "end": end.isoformat()})
    assert pulled.status_code == 201, pulled.text
    clip = pulled.json()
    parts = clip["parts"]
    # One GetClip holds 200 fragments of 2 s: 901 fragments are 5 parts, the last short.
    assert [(p["part"], p["parts"]) for p in parts] == [(k, 5) for k in range(1, 6)]
    assert datetime.fromisoformat(parts[0]["start"]) == start
    assert datetime.fromisoformat(parts[-1]["end"]) == end
    assert all(a["end"] == b["start"] for a, b in zip(parts, parts[1:]))
    lengths = [datetime.fromisoformat(p["end"]) - datetime.fromisoformat(p["start"])
               for p in parts]
    assert lengths == [timedelta(seconds=400)] * 4 + [timedelta(seconds=200)]
    for part in parts:
        body = requests.get(part["url"], timeout=10)
        assert body.status_code == 200 and len(body.content) == part["bytes"]
        assert hashlib.sha256(body.content).hexdigest() == part["sha256"]
    assert len({p["key"] for p in parts}) == 5 and clip["bytes"] == sum(p["bytes"] for p in parts)
    # Sealed: S3 keeps each part's SHA-256 as its own checksum, under Object Lock.
    aws = fast_stack["aws"]
    s3 = boto3.client("s3", endpoint_url=aws["endpoint"], region_name=aws["region"],
                      aws_access_key_id=aws["access_key_id"],
                      aws_secret_access_key=aws["secret_access_key"])
    import base64
    for part in parts:
        head = s3.head_object(Bucket=fast_stack["resources"]["EvidenceBucket"], Key=part["key"],
                              ChecksumMode="ENABLED")
        assert base64.b64decode(head["ChecksumSHA256"]).hex() == part["sha256"]
    cards = city.get("/audit/cards?kind=clip_pulled").json()["events"]
    [card] = [c for c in cards if c["case_id"] == clip["clip_id"]]
    assert [e["sha256"] for e in card["evidence"]] == [p["sha256"] for p in parts]

    longer = city.post("/supervision/clips", {
        "window": "BZ-A02", "start": (now - timedelta(hours=2, minutes=1)).isoformat(),
        "end": now.isoformat()})
    assert longer.status_code == 400, longer.text
    assert longer.json()["field"] == "end" and "at most 120 minutes" in longer.json()["message"]


def test_a_complaint_about_no_window_is_refused_and_one_at_night_is_accepted_without_footage(
        fast_stack):
    citizen = Citizen(fast_stack, "341602199407074323", name="孙丽")
    china = timezone(timedelta(hours=8))
    night = (datetime.now(china) - timedelta(days=1)).replace(hour=3, minute=0, second=0,
                                                               microsecond=0)    # 3 am yesterday
    for body, status, field in (
            ({"window": "BZ-Z99", "visited_at": night.isoformat(), "text": "x"}, 422, "window"),
            ({"window": "BZ-A01", "visited_at": "上午十点", "text": "x"}, 400, "visited_at")):
        answer = citizen.post("/complaints", body)
        assert (answer.status_code, answer.json()["field"]) == (status, field), answer.text
    # The camera recorded nothing at that hour: the complaint stands, without footage.
    dark = citizen.post("/complaints", {"window": "BZ-A01", "visited_at": night.isoformat(),
                                        "text": "夜间预约办理，窗口无人"})
    assert dark.status_code == 201, dark.text
    assert dark.json()["subject"]["footage"]["found"] is False
    assert "没有录像" in dark.json()["message"]
    # A visitor without an account proves a mobile number first (tests/e2e/test_visitors.py).
    anonymous = post(fast_stack, "/visits/complaints",
                     {"window": "BZ-A01", "visited_at": night.isoformat(), "text": "x"})
    assert anonymous.status_code == 400 and anonymous.json()["field"] == "phone"
    clip = as_staff(fast_stack, CITY).post("/supervision/clips", {
        "window": "BZ-A01", "start": night.isoformat(),
        "end": (night + timedelta(minutes=5)).isoformat()})
    assert clip.status_code == 422 and clip.json()["field"] == "start"


def test_a_bad_rating_is_rectified_and_then_rated_again(fast_stack, completed):
    rating = completed.citizen.post(f"/cases/{completed.case_id}/rating",
                                    {"level": 2, "dimensions": {"efficiency": 2},
                                     "comment": "等待时间长"})
    assert rating.status_code == 201, rating.text
    assert completed.citizen.post(f"/cases/{completed.case_id}/rating",
                                  {"level": 5}).status_code == 409
    stranger = Citizen(fast_stack, "341602199407074323", name="孙丽")
    assert stranger.post(f"/cases/{completed.case_id}/rating", {"level": 1}).status_code == 404
    scjg = as_staff(fast_stack, SCJG_CHIEF)
    rectification = next(t for t in scjg.get("/department/supervised-tasks").json()["tasks"]
                         if t["kind"] == "rectification"
                         and t["subject"]["case_id"] == completed.case_id)
    done = scjg.post(f"/department/supervised-tasks/{rectification['task_id']}/answer",
                     {"answer": "增设自助取号机，高峰期增开窗口"})
    assert done.status_code == 200
    again = completed.citizen.post(f"/cases/{completed.case_id}/rating", {"level": 4})
    assert again.status_code == 201 and again.json()["rating"]["level"] == 4


def test_the_hotline_and_a_consultation_reach_the_department(fast_stack):
    hotline = Signed(fast_stack, "hotline:BZ-12345")
    forwarded = hotline.post("/hotline/requests", {
        "category": "enquiry", "reference": f"BZ{time.time_ns()}", "location": "谯城区",
        "contact": "13912345678", "text": "住房公积金中心：公积金贷款需要哪些材料？"})
    assert forwarded.status_code == 201, forwarded.text
    assert forwarded.json()["department"] == "GJJ" and forwarded.json()["limit_days"] == 3
    assert as_staff(fast_stack, SCJG_CLERK).post("/hotline/requests", {}).status_code == 403

    citizen = Citizen(fast_stack, "341602199407074323", name="孙丽")
    asked = citizen.post("/consultations", {"item": "SCJG-001",
                                            "question": "外地户籍可以在亳州注册公司吗？"})
    assert asked.status_code == 201, asked.text
    answer = as_staff(fast_stack, SCJG_CHIEF).post(
        f"/department/supervised-tasks/{asked.json()['task_id']}/answer",
        {"answer": "可以，户籍不限。", "publish": True})
    assert answer.status_code == 200
    guide = requests.get(f"{fast_stack['api_url']}/guide/items/SCJG-001", timeout=10).json()
    assert any(f["question"] == "外地户籍可以在亳州注册公司吗？" for f in guide["faqs"])
    read = citizen.get(f"/consultations/{asked.json()['task_id']}").json()
    assert read["status"] == "answered" and read["answered_by"] == f"staff:{SCJG_CHIEF}"


def test_the_auditors_questions_are_answered_over_the_stacks_own_logs(fast_stack, completed):
    from pathlib import Path

    from chalicelib.audit_queries import BY_NAME, answer
    from local.audit import read_lines

    city = as_staff(fast_stack, CITY)
    forged = copy.copy(city)
    forged.credentials = Credentials(city.credentials.access_key, "not-the-secret",
                                     city.credentials.token)
    assert forged.get("/audit/cards").status_code == 403
    logs = Path(fast_stack["state_dir"]) / "logs"

    def asked(name, **parameters):
        query = BY_NAME[name]
        return answer(query, read_lines(logs / f"{query.log}.jsonl"), **parameters)

    actions = wait_for(lambda: asked("case-actions", case_id=completed.case_id))
    assert {"POST", "GET"} <= {a["method"] for a in actions if a.get("method")}
    [scjg] = wait_for(lambda: [r for r in asked("red-cards-by-department")
                               if r["department"] == "SCJG"], timeout=WORKDAY)
    assert scjg["count"] >= 1
    key_id = city.credentials.access_key
    refused = wait_for(lambda: [r for r in asked("rejected-signatures")
                                if r["actor"] == key_id and r["route"] == "/audit/cards"])
    assert "signature" in refused[-1]["error"]
    assert wait_for(lambda: [v for v in asked("evidence-views")
                             if v["actor"] == f"staff:{CITY}"])


def test_scores_archive_and_monthly_report_for_the_supervision_office(fast_stack, completed):
    month = datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m")
    city = as_staff(fast_stack, CITY)
    scored = city.get(f"/audit/scores?period={month}")
    assert scored.status_code == 200, scored.text
    scjg = next(d for d in scored.json()["departments"] if d["subject"] == "SCJG")
    assert scjg["applications"] >= 1 and scjg["completed"] >= 1
    # From a case or two: each rate and the score are withheld (样本不足), each with its reason.
    if scjg["completed"] < scored.json()["min_sample"]:
        assert scjg["online_rate"] is None and scjg["composite"] is None
        assert "样本不足" in scjg["insufficient"]["composite"]
    else:
        assert scjg["online_rate"] is not None and scjg["composite"] is not None
    district = as_staff(fast_stack, "BZQC-JJJC-001").get(f"/audit/scores?period={month}")
    assert district.status_code == 200 and "BZQC" in district.json()["halls"]
    assert city.get("/audit/scores?period=last-month").json()["field"] == "period"
    archive = city.get("/audit/staff/SCJG-001/archive")
    assert archive.status_code == 200, archive.text
    assert as_staff(fast_stack, GUOYANG).get("/audit/staff/SCJG-001/archive").status_code == 403
    csv_report = city.get(f"/audit/reports/{month}/csv")
    assert csv_report.status_code == 200 and "text/csv" in csv_report.headers["Content-Type"]
    assert "SCJG" in csv_report.content.decode("utf-8-sig")
    html = city.get(f"/audit/reports/{month}/html")
    assert html.status_code == 200 and "<svg" in html.text
    assert as_staff(fast_stack, GUOYANG).get(f"/audit/reports/{month}/csv").status_code == 403


def test_a_fee_charged_where_none_is_due_becomes_a_red_card_by_rule(fast_stack):
    flow = Flow(fast_stack, id_number="341602198808084325")   # company setup: no fee is due
    flow.accept()
    branches = {b["department"]: b for b in flow.deciders()}
    charged = flow.decide("SW", branches["SW"]["branch_id"], "approve", fee_yuan=50)
    assert charged.status_code == 200, charged.text
    flow.finish()
    violations = wait_for(lambda: [v for v in as_staff(fast_stack, CITY).get(
        f"/audit/cases/{flow.case_id}/supervision").json()["violations"]
        if v["kind"] == "violation:fee_above_standard"])
    [card] = violations
    assert card["light"] == "red" and card["department"] == "SW" and card["card"]
    assert card["staff_id"] and card["chief_staff_id"] and card["window"]
    # with their names, resolved when the card was raised
    assert card["staff_name"] and card["chief_name"] and card["window_name"]
    assert card["department_name"] == "国家税务总局亳州市税务局"
    cards = as_staff(fast_stack, CITY).get("/audit/cards?kind=violation:fee_above_standard")
    assert any(c["case_id"] == flow.case_id for c in cards.json()["events"])
    assert "violations" not in flow.view()                      # not in the applicant's view
    department_view = as_staff(fast_stack, "SW-002").get(
        f"/department/cases/{flow.case_id}").json()
    assert any(v["kind"] == "violation:fee_above_standard"
               for v in department_view["violations"])
    # 首席代表 reads the department's own cards; the approver who charged the fee does not.
    own = as_staff(fast_stack, "SW-000").get("/department/cards?kind=violation:fee_above_standard")
    assert own.status_code == 200 and own.json()["department"] == "SW"
    assert any(c["case_id"] == flow.case_id and c["staff_id"] == "SW-002"
               for c in own.json()["events"])
    refused = as_staff(fast_stack, "SW-002").get("/department/cards")
    assert refused.status_code == 403 and refused.json()["right"] == "read_department_cards"
