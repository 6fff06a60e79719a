"""The supervision board acts: hall names instead of codes, a supervision clerk issuing an order
from a card and from a case (by its 受理编号), a case traced by its 受理编号, and a district office
refused a city case (the server's 403, said in Chinese). Each staff member signs in as themself
(the staff user pool, then SigV4)."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import expect

from local.cameras import declare_recorded
from tests.e2e.flows import PUBLISHED, as_staff, wait_for

from .conftest import AUDITOR, DEPARTMENTS, decide, file_case, shot

COUNTY_CLERK = "BZGY-JJJC-001"      # 监察员 of 涡阳县's office: 涡阳县政务服务中心 only
HEAD = "BZ-JJJC-003"                # 负责人 of the city's office: decides rating appeals
CITY_HALL = "亳州市政务服务中心"
COUNTY_HALL = "涡阳县政务服务中心"


def sign_in_board(page, stack, staff_id):
    page.goto("/#/supervise")
    page.get_by_label("工号").fill(staff_id)
    page.get_by_label("密码").fill(stack["staff"]["demo_password"])
    page.get_by_role("button", name="登录监察平台").click()
    expect(page.locator("#supervise-scope")).to_be_visible()


def sign_out_board(page):
    page.get_by_role("button", name="退出监察平台").click()
    expect(page.get_by_role("button", name="登录监察平台")).to_be_visible()


def test_a_supervision_clerk_issues_an_order_and_a_district_office_is_refused_a_city_case(
        page, fast_stack, late_case):
    sign_in_board(page, fast_stack, AUDITOR)

    # Hall names, not codes: the city's office supervises all eight halls.
    scope = page.locator("#supervise-scope")
    expect(scope).to_contain_text(CITY_HALL)
    expect(scope).to_contain_text(COUNTY_HALL)
    assert not re.search(r"\bBZ[A-Z]*\b", scope.inner_text()), scope.inner_text()

    # From the late department's red card: an order to GJJ, its deadline shown.
    page.goto("/#/supervise/cards?department=GJJ&light=red")       # one load, filtered
    card = page.locator(f'.sup-card[data-case-no="{late_case["case_no"]}"][data-kind="red"]').first
    expect(card).to_contain_text(f"大厅：{CITY_HALL}")
    card.locator("summary", has_text="下达督办单").click()
    card.get_by_label("督办事由").fill("住房公积金单位缴存登记超期，请说明原因并于期限内办结")
    card.get_by_label("办理期限（工作日）").fill("5")
    card.get_by_role("button", name="下达督办单").click()
    issued = card.locator("[data-order]")
    expect(issued).to_contain_text("已下达督办单 DB")
    expect(issued).to_contain_text("亳州市住房公积金管理中心")
    expect(issued.locator(".order-deadline")).to_contain_text("5 个工作日")
    expect(issued.locator(".order-deadline")).to_contain_text(re.compile(r"办理期限：\d{4}"))
    order_id = issued.get_attribute("data-order")
    shot(page, "c1-order-from-card")

    order = as_staff(fast_stack, AUDITOR).get(f"/audit/tasks/{order_id}").json()
    assert order["department"] == "GJJ" and order["limit_days"] == 5, order
    assert order["subject"]["case_id"] == late_case["case_id"]
    assert order["trail"][0]["actor"] == f"staff:{AUDITOR}"          # signed as themself

    # From the orders tab, by the case number the applicant sees: listed with the hall's name.
    page.get_by_role("link", name="督办单").click()
    form = page.locator("form.order-form")
    form.get_by_label("督办办件").fill(late_case["case_no"])
    form.get_by_label("督办事由").fill("请报告该件各部门审批用时")
    form.get_by_role("button", name="下达督办单").click()
    expect(form.locator("[data-order]")).to_contain_text("办理期限：")
    second = form.locator("[data-order]").get_attribute("data-order")
    row = page.locator(f'#orders-table tr[data-task="{second}"]')
    expect(row).to_contain_text(CITY_HALL)
    expect(row).to_contain_text("3 个工作日")
    expect(page.locator(f'#orders-table tr[data-task="{order_id}"]')).to_contain_text("5 个工作日")
    shot(page, "c2-orders")
    assert as_staff(fast_stack, AUDITOR).get(f"/audit/tasks/{second}").json()["subject"]["case_id"] \
        == late_case["case_id"]

    # The trace, looked up by the case number: the case's own trail, verified.
    page.get_by_role("link", name="办件追溯").click()
    page.get_by_label("办件 ID 或受理编号").fill(late_case["case_no"])
    page.get_by_role("button", name="追溯并校验").click()
    expect(page.locator("#verdict-title")).to_have_attribute("data-intact", "true")
    expect(page.locator(".verdict ~ p", has_text="受理编号")).to_contain_text(late_case["case_no"])
    expect(page.locator("#trail-table")).to_contain_text("监察红灯")

    # 涡阳县's clerk: scope shows the county hall by name; a city case is refused in Chinese.
    sign_out_board(page)
    sign_in_board(page, fast_stack, COUNTY_CLERK)
    expect(page.locator("#supervise-scope")).to_have_text(re.compile(f"监察范围：{COUNTY_HALL}（"))
    page.get_by_role("link", name="督办单").click()
    form = page.locator("form.order-form")
    form.get_by_label("督办办件").fill(late_case["case_id"])
    form.get_by_label("督办事由").fill("请说明超期原因")
    form.get_by_role("button", name="下达督办单").click()
    refused = form.locator('[data-refused="hall"]')
    expect(refused).to_contain_text("督办单未下达")
    expect(refused).to_contain_text(f"该办件属于{CITY_HALL}，不在本监察室的监察范围内（本级及下级大厅：{COUNTY_HALL}）")
    expect(refused).to_contain_text("服务器答复 403")
    expect(form.locator("[data-order]")).to_have_count(0)
    shot(page, "c3-county-refused")
    orders = as_staff(fast_stack, AUDITOR).get("/audit/tasks?kind=order").json()["tasks"]
    assert not any(t["opened_by"] == f"staff:{COUNTY_CLERK}" for t in orders)

    # The trace of the city case: refused too, in the same words.
    page.goto(f"/#/supervise/trace?case={late_case['case_id']}")
    expect(page.locator('[data-refused="hall"]')).to_contain_text(f"该办件属于{CITY_HALL}")


def completed_case(stack, citizen):
    """A company setup filed by the demo citizen and decided by every department."""
    case = file_case(stack, citizen)
    decide(stack, case["case_id"], "SCJG", "0:SCJG", "accept")
    wait_for(lambda: len(citizen.get(f"/cases/{case['case_id']}").json()["stages"]) > 1, timeout=30)
    for department in DEPARTMENTS:
        decide(stack, case["case_id"], department, f"1:{department}", "approve")
    wait_for(lambda: citizen.get(f"/cases/{case['case_id']}").json()["status"] == "completed",
             timeout=30)
    return case


def test_footage_pulled_an_appeal_decided_by_the_head_and_the_monthly_report_downloaded(
        page, fast_stack, demo_citizen):
    # A 差评 on a completed case, appealed by the department's chief representative.
    citizen = demo_citizen["api"]
    case = completed_case(fast_stack, citizen)
    rated = citizen.post(f"/cases/{case['case_id']}/rating", {"level": 1, "comment": "态度差"})
    assert rated.status_code == 201, rated.text
    chief = PUBLISHED.departments["SCJG"]["chief_representative"]["staff_id"]
    appealed = as_staff(fast_stack, chief).post(f"/department/cases/{case['case_id']}/rating/appeal",
                                                {"reason": "申请人当日未到窗口，系恶意差评"})
    assert appealed.status_code == 200, appealed.text
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    declare_recorded(fast_stack["aws"]["endpoint"], "bz-a01", now - timedelta(hours=1), now)

    sign_in_board(page, fast_stack, AUDITOR)

    # The monthly report, both kinds, downloaded by the city's office.
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="下载月报（CSV）").click()
    csv_text = Path(csv_download.value.path()).read_bytes().decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("排名,编码,名称"), csv_text[:200]
    assert csv_download.value.suggested_filename.endswith(".csv")
    with page.expect_download() as html_download:
        page.get_by_role("button", name="下载月报（HTML）").click()
    assert "<html" in Path(html_download.value.path()).read_text(encoding="utf-8").lower()

    # A window's footage for thirty minutes: more than one clip holds, so five parts in the order
    # of time, each played in the page, downloadable by its link, with its SHA-256.
    page.get_by_role("link", name="调取录像").click()
    page.get_by_role("combobox", name="窗口").select_option("BZ-A01")
    page.get_by_label("开始时间（北京时间）").fill((now - timedelta(minutes=50)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("时长（分钟）").fill("30")
    page.get_by_role("button", name="调取录像").click()
    pulled = page.locator(".pulled-clip")
    expect(pulled).to_contain_text("已调取 CLIP")
    expect(pulled).to_contain_text("共 5 段")
    parts = pulled.locator("li.pulled-part")
    expect(parts).to_have_count(5)
    for k in range(5):
        part = parts.nth(k)
        expect(part).to_contain_text(f"第 {k + 1}/5 段")
        expect(part.locator("video")).to_have_attribute(
            "src", re.compile("^" + re.escape(fast_stack["aws"]["s3_endpoint"])))
        clip = requests.get(part.locator("a.clip-link").get_attribute("href"), timeout=30)
        assert clip.status_code == 200 and clip.headers["Content-Type"] == "video/mp4"
        assert f"SHA-256 {hashlib.sha256(clip.content).hexdigest()}" in part.inner_text()
    clip_id = pulled.get_attribute("data-clip")
    cards = as_staff(fast_stack, AUDITOR).get("/audit/cards?kind=clip_pulled").json()["events"]
    assert any(e["case_id"] == clip_id and e["by"] == f"staff:{AUDITOR}" for e in cards)
    shot(page, "c4-footage")

    # The complaints list names the hall too (the complaint is filed through the API here).
    complaint = citizen.post("/complaints", {"window": "BZ-A01", "text": "窗口无人值守",
                                             "visited_at": (now - timedelta(minutes=15)).isoformat(timespec="seconds")})
    assert complaint.status_code == 201, complaint.text
    page.get_by_role("link", name="投诉证据").click()
    expect(page.locator(f'.sup-card[data-task="{complaint.json()["task_id"]}"]')).to_contain_text(CITY_HALL)
    page.get_by_role("link", name=f"查看证据：{complaint.json()['task_id']}").click()
    expect(page.locator("dl.facts")).to_contain_text(CITY_HALL)

    # A 监察员 may not decide the appeal: refused in Chinese, naming the right.
    page.goto(f"/#/supervise/trace?case={case['case_no']}")
    form = page.locator("form.appeal-form")
    expect(form).to_contain_text("申请人当日未到窗口")
    form.get_by_label("裁定结果").select_option("true")
    form.get_by_label("裁定理由").fill("经调取录像核实")
    form.get_by_role("button", name="提交裁定").click()
    expect(form.locator('[data-refused="decide_appeals"]')).to_contain_text("裁定评价申诉（监察室负责人）")

    # The office's 负责人 decides it from the appeals list.
    sign_out_board(page)
    sign_in_board(page, fast_stack, HEAD)
    page.get_by_role("link", name="评价申诉").click()
    page.get_by_role("link", name=f"查看办件并裁定申诉：{case['case_no']}").click()
    form = page.locator("form.appeal-form")
    form.get_by_label("裁定结果").select_option("true")
    form.get_by_label("裁定理由").fill("经调取窗口录像核实，申请人当日未到窗口，差评撤销")
    form.get_by_role("button", name="提交裁定").click()
    expect(form.locator('[data-appeal="upheld"]')).to_contain_text("申诉成立，差评已撤销")
    shot(page, "c5-appeal-decided")
    rating = citizen.get(f"/cases/{case['case_id']}").json()["rating"]
    assert rating["struck_out"] and rating["appeal"]["decided_by"] == f"staff:{HEAD}"

    # A district office does not read the city's monthly report: said in Chinese.
    sign_out_board(page)
    sign_in_board(page, fast_stack, COUNTY_CLERK)
    page.get_by_role("button", name="下载月报（CSV）").click()
    expect(page.locator(".report-links [data-refused]")).to_contain_text("仅市级监察室可以查阅")
