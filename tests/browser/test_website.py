"""The website end to end in Chromium: a citizen signs up, finds company setup in the guide,
reads its flow chart, applies with the form and five uploads, follows the five departments'
decisions on the case page and rates it; the supervision board signed with the auditor's key
shows a late department's red card, a case's verified trace and a complaint's clip; the public
board shows the completed case with the name masked; phone width and keyboard use work."""
from __future__ import annotations

import json
import random
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jwt
import pytest
import requests
from playwright.sync_api import expect

from local.cameras import declare_recorded
from tests.e2e.flows import as_staff
from tests.e2e.flows import wait_for
from tests.e2e.visitors import code_of, new_phone, texts

from .conftest import (ARTIFACTS, AUDITOR, COMPANY_SETUP, DEPARTMENTS, LATE, decide, file_case,
                       finish_quietly, low_contrast, no_horizontal_overflow, shot, sign_in_ui,
                       unlabelled_fields)

expect.set_options(timeout=20_000)
CASE_NO = re.compile(r"^BZ-\d{8}-\d{5}$")
APPLICANT = "欧阳晓雯"          # masked on the public board as 欧***


def field_label(title):
    """A field's label: its title, with a * and （必填） for a required one."""
    return re.compile("^" + re.escape(title) + r"\s*\*?\s*(（必填）)?$")


def texted_code(page, outbox_url):
    """The last code in the local outbox, read as a person would: the link opened in a tab."""
    reader = page.context.new_page()
    try:
        reader.goto(outbox_url)
        texts = json.loads(reader.locator("body").inner_text())["messages"]
    finally:
        reader.close()
    codes = [m.group(1) for t in texts for m in [re.search(r"验证码为(\d{6})", t["text"])] if m]
    assert codes, texts
    return codes[-1]


def fill_form(page, schema, values, scope=None):
    """Fills the form rendered from the JSON Schema through its labels, as a person would."""
    scope = scope or page
    for name, value in values.items():
        spec = schema["properties"][name]
        title = spec["title"]
        if spec["type"] == "array" and spec["items"].get("enum"):
            group = scope.get_by_role("group", name=field_label(title))
            for choice in value:
                group.get_by_label(choice, exact=True).check()
        elif spec["type"] == "array":
            item_title = spec["items"]["title"]
            for index, item in enumerate(value):
                group = scope.get_by_role("group", name=f"{item_title} {index + 1}", exact=True)
                if not group.count():
                    scope.get_by_role("button", name=f"＋ 添加{item_title}").click()
                fill_form(page, spec["items"], item, scope=group)
        elif spec["type"] == "boolean":
            box = scope.get_by_label(field_label(title))
            box.check() if value else box.uncheck()
        elif "enum" in spec:
            scope.get_by_label(field_label(title)).select_option(label=str(value))
        else:
            scope.get_by_label(field_label(title)).fill(str(value))


def test_citizen_signs_up_applies_follows_the_decisions_and_rates(page, fast_stack, shared):
    api = fast_stack["api_url"]
    guide = requests.get(f"{api}/guide/items/{COMPANY_SETUP}", timeout=10).json()
    phone = "139" + "".join(random.choices("0123456789", k=8))
    password = "Ouyang2026pass"

    # Sign up through Cognito's API from the page with the phone alone, confirm with the code
    # texted to it (the page points to the local outbox), then the real-name step.
    page.goto("/#/signup")
    page.get_by_label(field_label("手机号")).fill(phone)
    page.get_by_label(field_label("密码")).fill(password)
    page.get_by_label(field_label("确认密码")).fill(password)
    page.get_by_role("button", name="注册", exact=True).click()
    outbox = page.get_by_role("link", name="打开短信发件箱查看")
    expect(outbox).to_be_visible()
    assert fast_stack["sms_outbox_url"] in outbox.get_attribute("href")
    code = texted_code(page, outbox.get_attribute("href"))
    wrong = "000000" if code != "000000" else "111111"
    page.get_by_label(field_label("短信验证码")).fill(wrong)
    page.get_by_role("button", name="验证手机号").click()
    expect(page.locator(".field-error")).to_have_text("验证码不正确，请重新输入")
    page.get_by_label(field_label("短信验证码")).fill(code)
    page.get_by_role("button", name="验证手机号").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("实名认证")
    expect(page.locator("#nav-account")).to_contain_text("未实名")
    page.get_by_label(field_label("姓名")).fill(APPLICANT)
    page.get_by_label(field_label("身份证号码")).fill("341602199308086627")   # a typo
    page.get_by_role("button", name="提交实名认证").click()
    number_field = page.locator(".field").filter(has=page.get_by_label(field_label("身份证号码")))
    expect(number_field.locator(".field-error")).to_have_text(re.compile("校验位不正确"))
    shot(page, "a0-real-name-typo")
    page.get_by_label(field_label("身份证号码")).fill("341602199308086628")
    page.get_by_role("button", name="提交实名认证").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的办件")
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    expect(page.locator("#nav-account")).to_contain_text(APPLICANT)
    expect(page.locator("#nav-account")).not_to_contain_text("未实名")
    token = page.evaluate("sessionStorage.getItem('bz.idToken')")
    assert token and token.count(".") == 2
    assert jwt.decode(token, options={"verify_signature": False})["custom:id_number"] == \
        "341602199308086628"

    # The guide: search, open the item, its flow chart with five departments side by side.
    page.get_by_role("link", name="办事指南", exact=True).click()
    page.get_by_label("搜索事项").fill("企业设立")
    page.get_by_label("搜索事项").press("Enter")
    expect(page.locator("#guide-count")).to_have_text("共找到 1 个事项")
    page.get_by_role("link", name="企业设立登记（多证联办）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("企业设立登记（多证联办）")
    stage = page.locator(".flow-stage").filter(has_text="多证联办")
    departments = stage.locator(".flow-dept")
    expect(departments).to_have_count(5)
    assert departments.evaluate_all("els => els.map(e => e.dataset.department)") == list(DEPARTMENTS)
    for name in ("亳州市市场监督管理局", "亳州市公安局", "国家税务总局亳州市税务局",
                 "亳州市人力资源和社会保障局", "亳州市住房公积金管理中心"):
        expect(stage).to_contain_text(name)
    tops = {round(box["y"]) for box in (departments.nth(i).bounding_box() for i in range(5))}
    assert len(tops) == 1, f"the parallel departments are not side by side: {tops}"
    shot(page, "a1-item-flow-chart")

    # Apply: the form from the JSON Schema; a bad value first, its error next to its field.
    page.get_by_role("link", name="在线申办").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("在线申办：企业设立登记（多证联办）")
    values = dict(guide["form"]["examples"][0])
    fill_form(page, guide["form"], {**values, "legal_rep_mobile": "12345"})
    page.get_by_role("button", name="保存申请表，下一步").click()
    mobile_field = page.locator('.field[data-path="form.legal_rep_mobile"]')
    expect(mobile_field.locator(".field-error")).to_contain_text("格式不正确")
    expect(mobile_field.get_by_label(field_label("法定代表人手机号"))).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error")).to_have_count(1)
    expect(page.locator(".error-summary")).to_contain_text("法定代表人手机号")
    shot(page, "a2-field-error")
    mobile_field.get_by_label(field_label("法定代表人手机号")).fill(values["legal_rep_mobile"])
    page.get_by_role("button", name="保存申请表，下一步").click()
    expect(page.get_by_role("heading", name="2. 上传材料")).to_be_visible()
    expect(page.locator(".field-error")).to_have_count(0)

    # Five materials, each straight to S3 with its progress bar reaching 100 %.
    required = [m for m in guide["materials"] if m["required"]]
    assert len(required) == 5
    for spec in required:
        body = (f"%PDF-1.7\n% {spec['name']}\n".encode() * 40000)[:600_000]
        card = page.locator(f'[data-material="{spec["id"]}"]')
        card.get_by_label(f"选择文件：{spec['name']}").set_input_files(
            {"name": f"{spec['id']}.pdf", "mimeType": "application/pdf", "buffer": body})
    for spec in required:
        card = page.locator(f'[data-material="{spec["id"]}"]')
        expect(card.locator(".status")).to_contain_text("已接收", timeout=45_000)
        expect(card.locator("progress")).to_have_js_property("value", 100)
    shot(page, "a3-materials")

    # Submit with an Idempotency-Key: the case number.
    page.get_by_role("button", name="提交申请").click()
    case_no = page.locator("#case-no")
    expect(case_no).to_have_text(CASE_NO)
    case_id = case_no.get_attribute("data-case-id")
    number = case_no.inner_text()
    shot(page, "a4-submitted")

    # The case page: waiting for acceptance, with its light and deadline.
    page.get_by_role("link", name="查看办件进度").click()
    expect(page.locator("#case-no")).to_have_text(number)
    acceptance = page.locator('[data-branch="0:SCJG"]')
    expect(acceptance).to_contain_text("待受理")
    expect(acceptance.locator("[data-light]")).to_contain_text(re.compile("绿灯|黄灯|红灯"))
    expect(acceptance).to_contain_text("期限")

    # The window accepts; five departments decide in parallel, each through its signed API.
    decide(fast_stack, case_id, "SCJG", "0:SCJG", "accept")
    expect(page.locator('[data-status="accepted"]')).to_be_visible()
    for department in DEPARTMENTS:
        branch = page.locator(f'[data-branch="1:{department}"]')
        expect(branch).to_contain_text("办理中")
        expect(branch.locator("[data-light]")).to_have_attribute("data-light", re.compile("green|yellow"))
        expect(branch.locator("[data-light]")).to_contain_text(re.compile("绿灯|黄灯"))
    expect(acceptance).to_contain_text("已受理")
    shot(page, "a5-accepted")
    for department in DEPARTMENTS:
        decide(fast_stack, case_id, department, f"1:{department}", "approve")
    expect(page.locator('[data-status="completed"]').first).to_be_visible(timeout=30_000)
    for department in DEPARTMENTS:
        branch = page.locator(f'[data-branch="1:{department}"]')
        expect(branch.locator(".branch-status")).to_have_text("同意")
    expect(page.locator("#result-title")).to_contain_text("准予许可")
    expect(page.locator('[data-action="completed"]')).to_be_visible()
    certificate = page.locator("#certificate-code").inner_text()

    # Rating: five levels, 非常满意.
    rating = page.locator("#rating")
    for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        expect(rating.get_by_label(label, exact=True)).to_be_visible()
    rating.get_by_label("非常满意", exact=True).check()
    rating.get_by_role("button", name="提交评价").click()
    expect(page.locator("#rating-result")).to_contain_text("非常满意")
    shot(page, "a6-rated")
    shared["completed"] = {"case_id": case_id, "case_no": number, "applicant": APPLICANT}

    # The e-certificate verifies publicly, holder masked.
    page.get_by_role("link", name="核验电子证照").click()
    expect(page.locator("#cert-title")).to_contain_text("证照有效")
    expect(page.locator(".cert")).to_contain_text(number)
    expect(page.locator(".cert")).to_contain_text("欧***")
    expect(page.locator(".cert")).not_to_contain_text(APPLICANT)
    assert certificate in page.url

    # My cases lists it.
    page.get_by_role("link", name="我的办件").click()
    expect(page.locator(f'[data-case-id="{case_id}"]')).to_contain_text("已办结")


def test_supervision_board_shows_the_late_departments_red_card(page, fast_stack, late_case,
                                                             demo_citizen):
    auditor = as_staff(fast_stack, AUDITOR)
    order = auditor.post("/supervision/orders", {"case_id": late_case["case_id"],
                                                 "text": "住房公积金单位缴存登记超期，请说明原因并立即办理"})
    assert order.status_code == 201, order.text
    order = order.json()

    page.goto("/#/supervise")
    page.get_by_label("工号").fill(AUDITOR)                     # signs in as themself
    page.get_by_label("密码").fill(fast_stack["staff"]["demo_password"])
    page.get_by_role("button", name="登录监察平台").click()

    # Lights per department: GJJ red.
    row = page.locator('#department-lights tr[data-department="GJJ"]')
    expect(row.locator("[data-light]")).to_have_attribute("data-light", "red")
    expect(row.locator("[data-light]")).to_contain_text("红灯")
    expect(page.locator('#department-lights tr[data-department="ZJ"] [data-light]')).to_have_attribute("data-light", "green")
    # A department with a case or two has no score to publish yet: 样本不足, not a number.
    expect(row.locator(".insufficient").first).to_have_text("样本不足")
    expect(page.locator("#trend-title ~ * .uplot canvas").first).to_be_visible()
    shot(page, "b1-supervision-overview")

    # The card list, filtered to red cards of GJJ: the late case's red card.
    page.get_by_role("link", name="红黄牌").click()
    page.get_by_label("部门").select_option("GJJ")
    page.get_by_label("灯色").select_option("red")
    page.get_by_role("button", name="筛选").click()
    # The filtered list replaces the whole one: no other department's card is left.
    expect(page.locator('.sup-card[data-department]:not([data-department="GJJ"])')).to_have_count(0)
    card = page.locator(f'.sup-card[data-department="GJJ"][data-case-no="{late_case["case_no"]}"]'
                        '[data-kind="red"]')
    expect(card).to_be_visible()
    expect(card).to_contain_text("亳州市住房公积金管理中心")
    expect(card).to_contain_text("红")
    expect(page.locator(".uplot canvas").first).to_be_visible()
    shot(page, "b2-red-cards")

    # The case's full trace with its hash chain verified.
    card.get_by_role("link", name="全程追溯").click()
    expect(page.locator("#verdict-title")).to_have_attribute("data-intact", "true")
    expect(page.locator("#verdict-title")).to_contain_text("留痕链完整")
    expect(page.locator("#trail-table tbody tr").first).to_be_visible()
    expect(page.locator("#trail-table")).to_contain_text("监察红灯")

    # Supervision orders with their deadlines.
    page.get_by_role("link", name="督办单").click()
    order_row = page.locator(f'#orders-table tr[data-task="{order["task_id"]}"]')
    expect(order_row).to_contain_text("住房公积金单位缴存登记超期")
    expect(order_row).to_contain_text("个工作日")

    # A complaint filed by the citizen on the website; the auditor views its clip.
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    declare_recorded(fast_stack["aws"]["endpoint"], "bz-a01", now - timedelta(hours=1), now)
    citizen_page = page.context.new_page()
    citizen_page.goto("/#/signin")
    citizen_page.get_by_label("手机号").fill(demo_citizen["username"])
    citizen_page.get_by_label("密码").fill(demo_citizen["password"])
    citizen_page.get_by_role("button", name="登录", exact=True).click()
    citizen_page.wait_for_url(re.compile(r"#/cases$"))
    citizen_page.goto("/#/complaint")
    citizen_page.get_by_label("窗口服务").check()
    citizen_page.get_by_label("投诉窗口").select_option("BZ-A01")
    citizen_page.get_by_label("到访时间（北京时间）").fill(
        (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"))
    citizen_page.get_by_label("投诉内容").fill("窗口工作人员态度生硬，未一次性告知所需材料")
    citizen_page.get_by_role("button", name="提交投诉").click()
    expect(citizen_page.locator("#complaint-id")).to_have_text(re.compile(r"\S+"))
    expect(citizen_page.locator("#complaint-footage")).to_have_attribute("data-found", "true")
    complaint_id = citizen_page.locator("#complaint-id").inner_text()
    shot(citizen_page, "b3-complaint-filed")
    citizen_page.close()

    page.get_by_role("link", name="投诉证据").click()
    page.get_by_role("link", name=f"查看证据：{complaint_id}").click()
    expect(page.locator("#task-title")).to_contain_text(complaint_id)
    page.get_by_role("button", name="调阅录像 1").click()
    video = page.locator("video")
    expect(video).to_have_attribute("src", re.compile("^" + re.escape(fast_stack["aws"]["s3_endpoint"])))
    link = page.locator("a.evidence-link").get_attribute("href")
    clip = requests.get(link, timeout=30)
    assert clip.status_code == 200 and clip.headers["Content-Type"] == "video/mp4"
    trail = auditor.get(f"/audit/tasks/{complaint_id}").json()["trail"]
    assert any(r["action"] == "evidence_viewed" and r["actor"] == f"staff:{AUDITOR}"
               for r in trail)
    shot(page, "b4-evidence")


def test_a_visitor_proves_the_phone_with_the_texted_code_then_complains(phone_page, fast_stack):
    """Without an account, at phone width: the mobile number, 获取验证码, the code (read from the
    local text-message outbox, as the visitor reads their phone), then the complaint. A wrong
    code is refused next to its field, in Chinese, and keeps nothing."""
    page = phone_page
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    declare_recorded(fast_stack["aws"]["endpoint"], "bz-a02", now - timedelta(hours=1), now)
    phone = new_phone()
    page.goto("/#/complaint")
    expect(page.get_by_text("未登录也可以投诉")).to_be_visible()
    page.get_by_role("button", name="提交投诉").click()       # nothing filled in yet
    expect(page.locator(".field.invalid .field-error").first).to_have_text("请输入 11 位手机号码")

    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    masked = f"{phone[:3]}****{phone[-4:]}"
    expect(page.get_by_text(f"验证码已发送至 {masked}，10 分钟内有效。")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^重新获取（\d+ 秒）$"))).to_be_disabled()
    code = code_of(fast_stack, phone)                          # the local outbox

    page.get_by_label("投诉窗口").select_option("BZ-A02")
    page.get_by_label("到访时间（北京时间）").fill((now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("投诉内容").fill("窗口工作人员未按规定一次性告知所需材料")
    page.get_by_label("短信验证码").fill("000000" if code != "000000" else "999999")
    page.get_by_role("button", name="提交投诉").click()
    code_field = page.locator(".field.invalid", has=page.get_by_label("短信验证码"))
    expect(code_field.locator(".field-error")).to_have_text("验证码不正确，还可尝试 4 次")
    assert len(texts(fast_stack, phone)) == 1                 # the code only: nobody else texted
    assert no_horizontal_overflow(page) <= 375
    assert not unlabelled_fields(page)
    assert not low_contrast(page)
    shot(page, "e-visitor-wrong-code")

    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="提交投诉").click()
    expect(page.locator("#complaint-id")).to_have_text(re.compile(r"^TS\w+$"))
    complaint_id = page.locator("#complaint-id").inner_text()
    expect(page.get_by_text("受理短信已发送至您验证的手机号。")).to_be_visible()
    assert complaint_id in texts(fast_stack, phone)[-1]
    seen = as_staff(fast_stack, AUDITOR).get(f"/audit/tasks/{complaint_id}").json()
    assert seen["subject"]["complainant"]["contact"] == phone   # the supervision office only
    shot(page, "e-visitor-complaint-filed")


def test_public_board_shows_the_completed_case_with_the_name_masked(page, fast_stack, shared):
    completed = shared.get("completed")
    if completed is None:   # run alone: complete a case through the API
        from tests.e2e.client import Citizen
        citizen = Citizen(fast_stack, "341602199308086628", name=APPLICANT)
        case = file_case(fast_stack, citizen)
        decide(fast_stack, case["case_id"], "SCJG", "0:SCJG", "accept")
        wait_for(lambda: len(citizen.get(f"/cases/{case['case_id']}").json()["stages"]) > 1)
        for department in DEPARTMENTS:
            decide(fast_stack, case["case_id"], department, f"1:{department}", "approve")
        completed = {**case, "applicant": APPLICANT}

    with page.expect_response(re.compile(r"/public/board$")):
        page.goto("/#/board")
    row = page.locator(f'#board-recent tr[data-case-no="{completed["case_no"]}"]')
    expect(row).to_be_visible(timeout=30_000)
    expect(row.locator(".applicant")).to_have_text("欧***")
    expect(row).to_contain_text("企业设立登记（多证联办）")
    expect(page.locator("main")).not_to_contain_text(APPLICANT)
    expect(page.locator('#board-ranking tr[data-department="SCJG"]')).to_contain_text("%")
    expect(page.locator("#sat-title ~ figure .uplot canvas")).to_be_visible()
    expect(page.get_by_text("实时更新")).to_be_visible()
    shot(page, "c1-public-board")
    # Live: the board asks again within 15 s (and a bit).
    with page.expect_response(re.compile(r"/public/board$"), timeout=25_000):
        pass


def test_phone_width_layout_and_labels(phone_page, fast_stack, late_case, demo_citizen):
    page = phone_page
    checked = []

    def check(name):
        page.wait_for_timeout(300)
        width = no_horizontal_overflow(page)
        assert width <= 375, f"{name}: the page is {width}px wide at 375px"
        missing = unlabelled_fields(page)
        assert not missing, f"{name}: fields without a label: {missing}"
        faint = low_contrast(page)
        assert not faint, f"{name}: text under WCAG AA contrast: {faint}"
        shot(page, f"d-phone-{name}")
        checked.append(name)

    page.goto("/#/guide")
    expect(page.locator("#guide-count")).to_contain_text("共找到")
    page.locator("#guide-hall option").nth(1).wait_for(state="attached")
    check("guide")
    page.goto("/#/item/SCJG-001")
    expect(page.locator(".flow-dept")).to_have_count(5)
    check("item")
    page.goto("/#/board")
    expect(page.locator("#sat-title ~ figure .uplot canvas")).to_be_visible()
    check("board")
    page.goto("/#/supervise")
    expect(page.get_by_label("工号")).to_be_visible()
    check("supervise-sign-in")
    page.get_by_label("工号").fill(AUDITOR)
    page.get_by_label("密码").fill(fast_stack["staff"]["demo_password"])
    page.get_by_role("button", name="登录监察平台").click()
    expect(page.locator('#department-lights tr[data-department="GJJ"] [data-light]')).to_have_attribute("data-light", "red")
    expect(page.locator("#trend-title ~ * .uplot canvas").first).to_be_visible()
    check("supervise-overview")
    page.goto(f"/#/supervise/trace?case={late_case['case_id']}")
    expect(page.locator("#verdict-title")).to_have_attribute("data-intact", "true")
    check("supervise-trace")

    # The menu opens from its button on a phone.
    toggle = page.get_by_role("button", name="菜单")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.get_by_role("link", name="登录 / 注册").click()
    page.get_by_label("手机号").fill(demo_citizen["username"])
    page.get_by_label("密码").fill(demo_citizen["password"])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"#/cases$"))
    expect(page.locator(f'[data-case-id="{late_case["case_id"]}"]')).to_be_visible()
    check("my-cases")

    # The case page of the late case: the citizen sees the late department's red light.
    page.goto(f"/#/cases/{late_case['case_id']}")
    late = page.locator(f'[data-branch="1:{LATE}"]')
    expect(late.locator("[data-light]")).to_have_attribute("data-light", "red")
    expect(late.locator("[data-light]")).to_contain_text("红灯")
    expect(page.locator('[data-branch="1:GA"] .branch-status')).to_have_text("同意")
    check("case")

    page.goto(f"/#/apply/{COMPANY_SETUP}")
    expect(page.get_by_role("button", name="保存申请表，下一步")).to_be_visible()
    check("apply")
    page.goto("/#/complaint")
    expect(page.get_by_role("button", name="提交投诉")).to_be_visible()
    check("complaint")
    assert checked == ["guide", "item", "board", "supervise-sign-in", "supervise-overview",
                       "supervise-trace", "my-cases", "case", "apply", "complaint"]


def test_keyboard_reaches_the_search_field_and_enter_searches(page):
    page.goto("/")
    search = page.get_by_label("搜索事项")
    expect(search).to_be_visible()
    expect(page.locator("#guide-count")).to_contain_text("共找到")
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.textContent")
    assert first == "跳到主要内容", first
    for _ in range(30):
        if page.evaluate("document.activeElement && document.activeElement.id") == "guide-q":
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("Tab from the top never reached the search field")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused search field shows no focus outline"
    page.keyboard.type("企业设立")
    page.keyboard.press("Enter")
    expect(page.locator("#guide-count")).to_have_text("共找到 1 个事项")
    expect(page.locator('.result[data-code="SCJG-001"]')).to_be_visible()
    assert "q=" in page.url
    # The result is a real link: Tab reaches it and Enter opens the item.
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "#/item/SCJG-001":
            break
    else:
        pytest.fail("Tab never reached the result's link")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("企业设立登记（多证联办）")
    expect(page.get_by_role("heading", level=1)).to_be_focused()


def test_first_load_is_small_and_asks_nothing_outside(browser, fast_stack):
    from .conftest import new_context

    context = new_context(browser, fast_stack)
    page = context.new_page()
    finished, failed = [], []
    page.on("requestfinished", lambda r: finished.append(r))
    page.on("requestfailed", lambda r: failed.append(r))
    page.goto("/")
    expect(page.get_by_label("搜索事项")).to_be_editable()
    expect(page.locator("#guide-count")).to_contain_text("共找到")
    page.locator("#guide-hall option").nth(1).wait_for(state="attached")
    page.wait_for_load_state("networkidle")
    requests_made = [(r.url, r.sizes()) for r in finished]
    total = sum(s["responseBodySize"] + s["responseHeadersSize"] for _, s in requests_made)
    report = {"requests": len(requests_made), "bytes": total,
              "urls": [(u, s["responseBodySize"]) for u, s in requests_made]}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "first-load.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"first load: {report['requests']} requests, {report['bytes']} bytes")
    context.close()
    assert not failed, [r.url for r in failed]
    assert all(u.startswith(fast_stack["api_url"]) for u, _ in requests_made), report["urls"]
    assert not any("uPlot" in u for u, _ in requests_made), "uPlot loaded on a page without charts"
    assert len(requests_made) < 15, report
    assert total < 300_000, report


def test_citizen_answers_a_correction_notice(page, fast_stack, demo_citizen):
    citizen = demo_citizen["api"]
    case = file_case(fast_stack, citizen)
    notice = as_staff(fast_stack, "SCJG-001").post(                # the window clerk
        f"/department/cases/{case['case_id']}/branches/0:SCJG/decision",
        {"decision": "correction", "materials": ["premises_proof"],
         "note": "租赁合同复印件不清晰，请重新扫描上传"}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert notice.status_code == 200, notice.text
    try:
        sign_in_ui(page, demo_citizen["username"], demo_citizen["password"])
        page.goto(f"/#/cases/{case['case_id']}")
        correction = page.locator("#correction")
        expect(correction).to_contain_text("补正告知")
        expect(correction).to_contain_text("租赁合同复印件不清晰，请重新扫描上传")
        expect(page.locator('[data-status="correction_requested"]')).to_be_visible()
        expect(page.locator('[data-branch="0:SCJG"]')).to_contain_text("暂停：等待补正材料")
        # Asked before the material is uploaded again: told what is missing, nothing sent.
        correction.get_by_role("button", name="提交补正材料").click()
        expect(correction).to_contain_text("请先重新上传：住所（经营场所）使用证明")
        body = b"%PDF-1.7\n% rescanned lease\n" * 4000
        correction.get_by_label("重新上传：住所（经营场所）使用证明").set_input_files(
            {"name": "租赁合同.pdf", "mimeType": "application/pdf", "buffer": body})
        card = correction.locator('[data-material="premises_proof"]')
        expect(card.locator(".status")).to_contain_text("已接收", timeout=45_000)
        expect(card.locator("progress")).to_have_js_property("value", 100)
        shot(page, "f1-correction-uploaded")
        correction.get_by_role("button", name="提交补正材料").click()
        expect(page.locator('[data-status="submitted"]')).to_be_visible()
        expect(page.locator("#correction")).to_have_count(0)
        expect(page.locator('[data-action="corrected"]')).to_be_visible()
        expect(page.locator('[data-branch="0:SCJG"]')).to_contain_text("待受理")
        assert citizen.get(f"/cases/{case['case_id']}").json()["status"] == "submitted"
    finally:
        finish_quietly(fast_stack, case["case_id"], citizen)


def test_company_setup_form_asks_each_company_type_for_what_it_has(page, demo_citizen):
    """A sole proprietorship has an investor, no registered capital, shareholders or legal
    representative; a partnership names its partners; a company keeps its capital."""
    sign_in_ui(page, demo_citizen["username"], demo_citizen["password"])
    page.goto(f"/#/apply/{COMPANY_SETUP}")
    capital = page.locator('.field[data-path="form.registered_capital_wan"]')
    shareholders = page.locator('[data-path="form.shareholders"]')
    investor = page.get_by_role("group", name="投资人（个人独资企业）")
    partners = page.locator('[data-path="form.partners"]')
    expect(capital).to_be_visible()                 # no type chosen yet: a company's fields
    expect(investor).to_be_hidden()
    page.get_by_label(field_label("企业类型")).select_option(label="个人独资企业")
    expect(capital).to_be_hidden()
    expect(shareholders).to_be_hidden()
    expect(page.locator('.field[data-path="form.legal_rep_name"]')).to_be_hidden()
    expect(investor).to_be_visible()
    expect(investor.get_by_label(field_label("投资人申报出资额（万元）"))).to_be_visible()
    expect(partners).to_be_hidden()
    page.get_by_label(field_label("企业类型")).select_option(label="普通合伙企业")
    expect(partners).to_be_visible()
    expect(partners.get_by_role("group", name="合伙人 2", exact=True)).to_be_visible()
    expect(investor).to_be_hidden()
    expect(capital).to_be_hidden()
    page.get_by_label(field_label("企业类型")).select_option(label="有限责任公司（自然人独资）")
    expect(capital).to_be_visible()
    expect(shareholders).to_be_visible()
    expect(partners).to_be_hidden()



def test_a_property_transfer_asks_for_the_buyer_and_names_a_mistyped_number(page, fast_stack,
                                                                           demo_citizen):
    guide = requests.get(f"{fast_stack['api_url']}/guide/items/ZRZY-003", timeout=10).json()
    sign_in_ui(page, demo_citizen["username"], demo_citizen["password"])
    page.goto("/#/apply/ZRZY-003")
    expect(page.get_by_role("heading", level=3, name=guide["co_applicants"]["title"])).to_be_visible()
    buyer = page.get_by_role("group", name="共同申请人 1", exact=True)
    expect(buyer).to_be_visible()                       # the guide asks for at least one
    fill_form(page, guide["form"], guide["form"]["examples"][0])
    buyer.get_by_label(field_label("姓名")).fill("李淑芬")
    buyer.get_by_label(field_label("身份证号")).fill("341602199002083327")      # a typo
    page.get_by_role("button", name="保存申请表，下一步").click()
    error = page.locator('[data-path="parties.co_applicants.0.id_number"] .field-error')
    expect(error).to_contain_text("身份证号码不正确")
    expect(page.locator(".error-summary")).to_contain_text("身份证号")
