"""Figures that mean their names and reports that reach people, over HTTP on a running stack of
its own (a compressed clock, every schedule every few seconds): after one company setup case
(five departments) the public board shows 样本不足 rather than a rate or a score from one case,
with each figure's definition; the hall's weekly report is written to the reports bucket and
texted to the hall's subscriber; what is recorded about a staff member is read from their
archive by them and by their hall's office only; and no function is refused a call on the way."""
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest
import requests

from chalicelib.catalog import published
from chalicelib.domain.periods import china_day, periods_of, previous, week_id
from local.process import running_stack
from tests.conftest import WORKDAY

from .flows import Flow, as_staff, wait_for


@pytest.fixture(scope="module")
def figures_stack(tmp_path_factory):
    state = tmp_path_factory.mktemp("figures")
    with running_stack(state, "--workday-seconds", str(WORKDAY), "--schedule-seconds",
                       "5") as described:
        yield described


def board(stack) -> dict:
    return requests.get(f"{stack['api_url']}/public/board", timeout=30).json()


def test_the_board_after_one_case_shows_insufficient_sample(figures_stack):
    flow = Flow(figures_stack, id_number="341602199202023450")
    flow.accept()
    deciders = flow.deciders()
    assert {b["department"] for b in deciders} == {"SCJG", "GA", "SW", "RSJ", "GJJ"}
    for branch in deciders:
        assert flow.decide(branch["department"], branch["branch_id"], "approve").status_code \
            == 200
    wait_for(lambda: flow.view()["status"] == "completed")
    # The export compiles the board's figures every few seconds here; the API reads them.
    time.sleep(12)
    shown = wait_for(lambda: (b := board(figures_stack))["totals"]
                     and b["totals"].get("completed") == 1 and b, timeout=30)
    totals = shown["totals"]
    # One case: completed once (at its lead), five departments' steps. The per-case rate
    # is not published from one case; the per-step rate counts five steps, the minimum.
    assert (totals["completed"], totals["steps_completed"]) == (1, 5)
    assert totals["on_time_rate"] is None
    assert totals["insufficient"]["on_time_rate"].startswith("样本不足")
    assert totals["step_on_time_rate"] == totals["steps_on_time"] / 5
    assert "step_on_time_rate" not in totals["insufficient"]
    scjg = next(d for d in shown["departments"] if d["subject"] == "SCJG")
    assert scjg["completed"] == 1 and scjg["composite"] is None and scjg["rank"] is None
    assert scjg["on_time_rate"] is None
    assert scjg["insufficient"]["composite"] == "样本不足：综合得分仅有 1 件，不足 5 件，不予计分"
    ga = next(d for d in shown["departments"] if d["subject"] == "GA")
    assert ga["completed"] == 0 and ga["steps_completed"] == 1    # a step, not a case
    # Each figure comes with its definition for the board's 说明; 入驻率 is never withheld.
    definitions = {f["key"]: f for f in shown["figures"]}
    assert definitions["on_time_rate"]["per"] == "case"
    assert definitions["step_on_time_rate"]["per"] == "step"
    assert "very_satisfied_rate" in definitions and shown["min_sample"] == 5
    assert 0 < scjg["onboarding_rate"] < 1                       # powers not yet online count
    assert "onboarding_rate" not in scjg["insufficient"]


def test_the_weekly_report_is_stored_and_texted_to_the_halls_subscriber(figures_stack):
    subscriber = next(s for s in published().halls["BZ"]["report_subscribers"]
                      if s.get("phone"))
    outbox = figures_stack["sms_outbox_url"]

    def texted():
        found = requests.get(outbox, params={"phone": subscriber["phone"]}, timeout=10).json()
        return [m["text"] for m in found["messages"] if "绩效周报" in m["text"]]

    texts = wait_for(texted, timeout=60)
    today = datetime.now(timezone.utc)
    week = previous(week_id(china_day(today)))
    assert len(texts) == 1 and "亳州市政务服务中心" in texts[0]
    aws = figures_stack["aws"]
    s3 = boto3.client("s3", endpoint_url=aws["s3_endpoint"], region_name=aws["region"],
                      aws_access_key_id=aws["access_key_id"],
                      aws_secret_access_key=aws["secret_access_key"])
    bucket = figures_stack["resources"]["ReportsBucket"]
    body = s3.get_object(Bucket=bucket, Key=f"reports/halls/BZ/{week}.html")["Body"].read()
    assert "绩效周报" in body.decode("utf-8")
    month = previous(periods_of(today)[1])
    assert s3.get_object(Bucket=bucket, Key=f"reports/halls/BZ/{month}.html")
    # Many more runs of the hourly export went by: still one text for the week.
    time.sleep(10)
    assert len(texted()) == 1
    refused = [json.loads(line) for line in
               (Path(figures_stack["state_dir"]) / "logs" / "iam.jsonl").read_text().splitlines()]
    assert [r for r in refused if r.get("allowed") is False] == []


def test_what_is_recorded_about_a_staff_member_is_read_from_their_archive(figures_stack):
    # An approver reads what is recorded about them, paged; the city's office reads the same,
    # the district's office is refused, a bad kind is a 400.
    approver = next(p.staff_id for p in published().directory()
                    if p.department == "SCJG" and p.post == "审核")
    own = as_staff(figures_stack, approver)
    for kind in ("cards", "tasks"):
        page = own.get(f"/staff/me/archive/records?kind={kind}&limit=5")
        assert page.status_code == 200, page.text
        body = page.json()
        assert (body["staff_id"], body["kind"]) == (approver, kind)
        assert all(r.get("staff_id") == approver or r.get("subject", {}).get("staff_id")
                   == approver for r in body["records"])
    bad = own.get("/staff/me/archive/records?kind=ratings")
    assert bad.status_code == 400 and bad.json()["field"] == "kind"
    city = as_staff(figures_stack, "BZ-JJJC-001")
    read = city.get(f"/audit/staff/{approver}/archive/records?kind=tasks")
    assert read.status_code == 200 and read.json()["kind"] == "tasks"
    district = as_staff(figures_stack, "BZQC-JJJC-001")
    refused = district.get(f"/audit/staff/{approver}/archive/records")
    assert refused.status_code == 403 and refused.json()["field"] == "staff_id"
