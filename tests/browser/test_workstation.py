"""The staff workstation (工作台) in the browser: each staff member signs in as themself (staff id
and the local stack's demo password), works their queue and decides what their role may decide;
the server's rights decide, the page leaves out the rest."""
from __future__ import annotations

import re

import requests

from playwright.sync_api import expect

from tests.browser.conftest import (DEPARTMENTS, PHONE, decide, file_case, low_contrast,
                                    new_context, no_horizontal_overflow, shot,
                                    unlabelled_fields, watch)
from tests.e2e.flows import as_staff, key, wait_for

CLERK = "SCJG-001"        # 李俊杰, 窗口受理
APPROVER = "SCJG-002"     # 张慧敏, 审核
CHIEF = "SCJG-003"        # 刘鹏飞, 负责人
GA_APPROVER = "GA-002"


def sign_in(page, stack, staff_id):
    page.goto("/#/workstation")
    page.get_by_label("工号").fill(staff_id)
    page.get_by_label("密码").fill(stack["staff"]["demo_password"])
    page.get_by_role("button", name="登录工作台").click()
    expect(page.locator("#ws-who")).to_contain_text(staff_id)


def done(scope, text):
    """The decision's answer: next to its button, then atop the case read anew. A decision
    that meets the workflow's messages retries its change on the server; with two test
    processes on two cores that has taken more than 20 s."""
    page = getattr(scope, "page", scope)
    expect(page.locator(".notice.ok", has_text=text).first).to_be_visible(timeout=45_000)


def open_case(page, case):
    page.goto(f"/#/workstation/case/{case['case_id']}")
    expect(page.locator(".case-no")).to_contain_text(case["case_no"])


def branch(page, branch_id):
    return page.locator(f'.ws-branch[data-branch="{branch_id}"]')


def view(citizen, case):
    return citizen.get(f"/cases/{case['case_id']}").json()


def accepted(stack, citizen, case):
    decide(stack, case["case_id"], "SCJG", "0:SCJG", "accept")
    wait_for(lambda: len(view(citizen, case)["stages"]) > 1, timeout=30)


def test_window_clerk_signs_in_sees_the_queue_and_accepts(browser, fast_stack, demo_citizen):
    citizen = demo_citizen["api"]
    case = file_case(fast_stack, citizen)
    context = new_context(browser, fast_stack, PHONE)
    page = context.new_page()
    errors = watch(page)
    try:
        page.goto("/#/workstation")
        assert no_horizontal_overflow(page) <= PHONE["width"]
        assert not unlabelled_fields(page)
        page.get_by_label("工号").fill(CLERK)
        page.get_by_label("密码").fill("wrong-Password-1")
        page.get_by_role("button", name="登录工作台").click()
        expect(page.get_by_role("alert")).to_contain_text("登录失败")

        sign_in(page, fast_stack, CLERK)
        who = page.locator("#ws-who")
        expect(who).to_contain_text("李俊杰")
        expect(who).to_contain_text("亳州市市场监督管理局")
        expect(who).to_contain_text("窗口受理")

        # The queue: the new case waits for acceptance, with its light and deadline.
        card = page.locator(f'.ws-task[data-case="{case["case_id"]}"]')
        expect(card).to_contain_text(case["case_no"])
        expect(card.locator("[data-light]")).to_have_attribute("data-light", re.compile("green|yellow|red"))
        expect(card).to_contain_text("办理时限")
        page.get_by_label("环节").select_option("decision")
        expect(card).to_have_count(0)
        page.get_by_label("环节").select_option("acceptance")
        expect(card).to_be_visible()
        assert no_horizontal_overflow(page) <= PHONE["width"]
        assert not unlabelled_fields(page)
        assert not low_contrast(page)
        shot(page, "w1-phone-queue")

        # The case: pre-review. A clerk decides no branch (no 同意 / 不予许可).
        card.get_by_role("link", name=case["case_no"]).click()
        acceptance = branch(page, "0:SCJG")
        expect(acceptance.locator('button[data-decision="accept"]')).to_be_visible()
        expect(page.locator('[data-decision="approve"]')).to_have_count(0)
        expect(page.locator('[data-decision="extension_approve"]')).to_have_count(0)
        expect(page.locator(".ws-materials li").first).to_be_visible()
        # Refusing needs reasons: said next to the field, nothing sent.
        acceptance.locator("summary", has_text="不予受理").click()
        acceptance.locator('form[data-decision="refuse"] button').click()
        expect(acceptance.locator(".field-error")).to_contain_text("请填写理由")
        assert no_horizontal_overflow(page) <= PHONE["width"]
        shot(page, "w2-phone-pre-review")

        acceptance.locator('button[data-decision="accept"]').click()
        done(acceptance, "已受理")
        wait_for(lambda: len(view(citizen, case)["stages"]) > 1, timeout=30)
        expect(branch(page, "1:SCJG")).to_be_visible()
        assert view(citizen, case)["stages"][0]["outcome"] == "accepted"

        page.get_by_role("button", name="退出工作台").click()
        expect(page.get_by_role("button", name="登录工作台")).to_be_visible()
        assert not errors, errors
    finally:
        context.close()
    for department in DEPARTMENTS:
        decide(fast_stack, case["case_id"], department, f"1:{department}", "approve")


def test_two_approvers_decide_their_branches_and_the_case_completes(page, browser, fast_stack,
                                                                     demo_citizen):
    citizen = demo_citizen["api"]
    case = file_case(fast_stack, citizen)
    accepted(fast_stack, citizen, case)

    sign_in(page, fast_stack, APPROVER)
    expect(page.locator("#ws-who")).to_contain_text("审核")
    expect(page.locator(f'.ws-task[data-case="{case["case_id"]}"][data-branch="1:SCJG"]')).to_be_visible()
    open_case(page, case)
    mine = branch(page, "1:SCJG")
    expect(branch(page, "1:GA").locator("form")).to_have_count(0)      # another department's
    expect(page.locator('[data-decision="accept"]')).to_have_count(0)   # no pre-review right
    mine.locator("summary", has_text="同意").click()
    mine.get_by_label("收费（元）").fill("-5")
    mine.locator('form[data-decision="approve"] button').click()
    expect(mine.locator(".field-error")).to_contain_text("不小于0")
    mine.get_by_label("收费（元）").fill("0")
    mine.locator('form[data-decision="approve"] button').click()
    done(mine, "已同意")
    shot(page, "w3-approver-approved")

    other = new_context(browser, fast_stack)
    police = other.new_page()
    errors = watch(police)
    try:
        sign_in(police, fast_stack, GA_APPROVER)
        expect(police.locator("#ws-who")).to_contain_text("亳州市公安局")
        open_case(police, case)
        ga = branch(police, "1:GA")
        ga.locator("summary", has_text="不予许可").click()
        ga.get_by_label("不予许可理由").fill("不符")
        ga.locator('form[data-decision="deny"] button').click()
        expect(ga.locator(".field-error")).to_contain_text("至少4个字")
        ga.locator("summary", has_text="同意").click()
        ga.locator('form[data-decision="approve"] button').click()
        done(ga, "已同意")
        assert not errors, errors
    finally:
        other.close()

    for department in DEPARTMENTS:
        if department not in ("SCJG", "GA"):
            decide(fast_stack, case["case_id"], department, f"1:{department}", "approve")
    final = wait_for(lambda: (v := view(citizen, case))["status"] == "completed" and v, timeout=40)
    outcomes = {b["branch_id"]: b["outcome"] for b in final["stages"]}
    assert outcomes["1:SCJG"] == outcomes["1:GA"] == "approved"
    assert final["result"]["outcome"] == "granted"
    page.reload()
    expect(page.locator(".case-no [data-status]")).to_have_attribute("data-status", "completed")
    assert no_horizontal_overflow(page) <= 1280
    assert not low_contrast(page)
    assert not unlabelled_fields(page)


def test_an_approver_asks_for_an_extension_that_a_chief_approves(page, browser, fast_stack,
                                                                  demo_citizen):
    citizen = demo_citizen["api"]
    case = file_case(fast_stack, citizen)
    accepted(fast_stack, citizen, case)

    sign_in(page, fast_stack, APPROVER)
    open_case(page, case)
    mine = branch(page, "1:SCJG")
    mine.locator("summary", has_text="申请延期").click()
    mine.get_by_label("说明").fill("需现场核查经营场所")
    mine.locator('form[data-decision="extension_request"] button').click()
    done(mine, "已申请延期")
    # The requester cannot approve it: no button, and the server refuses it.
    expect(branch(page, "1:SCJG").locator(".ws-ext-wait")).to_be_visible()
    expect(page.locator('[data-decision="extension_approve"]')).to_have_count(0)
    refused = as_staff(fast_stack, APPROVER).post(
        f"/department/cases/{case['case_id']}/branches/1:SCJG/decision",
        {"decision": "extension_approve"}, headers={"Idempotency-Key": key()})
    assert refused.status_code == 403 and refused.json()["right"] == "approve_extensions"
    shot(page, "w4-extension-requested")
    before = next(b for b in view(citizen, case)["stages"] if b["branch_id"] == "1:SCJG")
    assert before["extension_requested"]

    other = new_context(browser, fast_stack)
    chief = other.new_page()
    errors = watch(chief)
    try:
        sign_in(chief, fast_stack, CHIEF)
        expect(chief.locator("#ws-who")).to_contain_text("科室负责人")
        open_case(chief, case)
        theirs = branch(chief, "1:SCJG")
        theirs.locator('button[data-decision="extension_approve"]').click()
        done(theirs, "已批准延期")
        shot(chief, "w5-chief-approved-extension")
        assert not errors, errors
    finally:
        other.close()
    after = next(b for b in view(citizen, case)["stages"] if b["branch_id"] == "1:SCJG")
    assert not after["extension_requested"]
    assert after["limit_days"] > before["limit_days"] or after["deadline"] > before["deadline"]
    for department in DEPARTMENTS:
        decide(fast_stack, case["case_id"], department, f"1:{department}", "approve")


def test_a_chief_answers_an_order_and_publishes_a_consultation_to_the_faq(page, browser, fast_stack,
                                                                           demo_citizen):
    import requests

    citizen = demo_citizen["api"]
    case = file_case(fast_stack, citizen)
    order = as_staff(fast_stack, "BZ-JJJC-001").post("/supervision/orders", {
        "case_id": case["case_id"], "text": "请说明该件预审进度并按时受理"})
    assert order.status_code == 201, order.text
    order = order.json()
    question = citizen.post("/consultations", {"item": "SCJG-001",
                                               "question": "个人独资企业可以网上办理设立登记吗？"})
    assert question.status_code == 201, question.text
    question = question.json()

    # An approver sees the tasks but does not answer them.
    sign_in(page, fast_stack, APPROVER)
    page.get_by_role("link", name="督办事项").click()
    expect(page.locator(f'.ws-sup-task[data-task="{order["task_id"]}"]')).to_contain_text("督办单")
    expect(page.locator(f'.ws-sup-task[data-task="{order["task_id"]}"] textarea')).to_have_count(0)
    page.get_by_role("button", name="退出工作台").click()

    sign_in(page, fast_stack, CHIEF)
    page.get_by_role("link", name="督办事项").click()
    task = page.locator(f'.ws-sup-task[data-task="{order["task_id"]}"]')
    expect(task).to_contain_text("请说明该件预审进度")
    task.get_by_role("button", name="提交答复").click()
    expect(task.locator(".field-error")).to_contain_text("请填写答复内容")
    task.get_by_label("答复内容").fill("已督促窗口当日完成预审")
    task.get_by_role("button", name="提交答复").click()
    expect(task.locator(".notice.ok")).to_contain_text("已答复")

    asked = page.locator(f'.ws-sup-task[data-task="{question["task_id"]}"]')
    expect(asked).to_contain_text("个人独资企业可以网上办理设立登记吗")
    asked.get_by_label("答复内容").fill("可以，登录网上办事大厅选择企业设立登记即可全程网办")
    asked.get_by_label("同时发布到办事指南的常见问题").check()
    asked.get_by_role("button", name="提交答复").click()
    expect(asked.locator(".notice.ok")).to_contain_text("已答复")
    shot(page, "w6-supervised-tasks")
    expect(task.locator("textarea")).to_have_count(0)

    answered = as_staff(fast_stack, "BZ-JJJC-001").get(f"/audit/tasks/{order['task_id']}").json()
    assert [r["actor"] for r in answered["trail"] if r["action"] == "answered"] == [f"staff:{CHIEF}"]
    faqs = wait_for(lambda: requests.get(f"{fast_stack['api_url']}/guide/items/SCJG-001",
                                         timeout=10).json()["faqs"], timeout=10)
    assert any("个人独资企业" in str(f) for f in faqs)
    decide(fast_stack, case["case_id"], "SCJG", "0:SCJG", "accept")
    wait_for(lambda: len(view(citizen, case)["stages"]) > 1, timeout=30)
    for department in DEPARTMENTS:
        decide(fast_stack, case["case_id"], department, f"1:{department}", "approve")


def test_window_clerk_registers_a_walk_in_and_accepts_it(page, fast_stack):
    import requests

    from tests.browser.test_website import fill_form
    from tests.e2e.client import material_bytes

    guide = requests.get(f"{fast_stack['api_url']}/guide/items/SCJG-001", timeout=10).json()
    sign_in(page, fast_stack, CLERK)
    page.get_by_role("link", name="窗口登记").click()
    page.get_by_label("办理事项").select_option("SCJG-001")
    page.get_by_label("申请人手机号").fill("1385587")
    page.get_by_role("button", name="登记并扫描材料").click()
    expect(page.locator(".field-error").first).to_be_visible()          # said next to the fields
    page.get_by_label("申请人姓名（名称）").fill("周明远")
    page.get_by_label("身份证号或统一社会信用代码").fill("341602198507126515")
    page.get_by_label("申请人手机号").fill("13855871234")
    fill_form(page, guide["form"], guide["form"]["examples"][0], scope=page.locator(".ws-schema"))
    page.get_by_role("button", name="登记并扫描材料").click()
    expect(page.locator("form .notice.ok")).to_contain_text("已登记，请扫描上传材料")
    for spec in [m for m in guide["materials"] if m["required"]]:
        card = page.locator(f'.material[data-material="{spec["id"]}"]')
        card.locator("input[type=file]").set_input_files({
            "name": f"{spec['id']}.pdf", "mimeType": "application/pdf",
            "buffer": material_bytes(spec["id"] + "walk-in")})
        expect(card).to_contain_text("已接收", timeout=30_000)
    shot(page, "w7-walk-in-materials")
    page.get_by_role("button", name="提交，进入受理").click()
    expect(page.locator("#walkin-done")).to_contain_text("受理编号")
    case_no = page.locator("#walkin-done strong").inner_text()
    page.locator("#walkin-done a").click()
    expect(page.locator(".case-no")).to_contain_text(case_no)
    expect(page.locator(".case-head")).to_contain_text("窗口受理")
    acceptance = branch(page, "0:SCJG")
    acceptance.locator('button[data-decision="accept"]').click()
    done(page, "已受理")
    case_id = page.url.rsplit("/", 1)[-1]
    clerk = as_staff(fast_stack, CLERK)
    seen = wait_for(lambda: (v := clerk.get(f"/department/cases/{case_id}").json())["status"] == "accepted" and v,
                    timeout=30)
    assert seen["channel"] == "window" and seen["registered_by"]["staff_id"] == CLERK
    wait_for(lambda: len(clerk.get(f"/department/cases/{case_id}").json()["stages"]) > 1, timeout=30)
    for department in DEPARTMENTS:
        decide(fast_stack, case_id, department, f"1:{department}", "approve")


def test_a_chief_appeals_a_malicious_bad_rating(page, fast_stack, demo_citizen):
    citizen = demo_citizen["api"]
    case = file_case(fast_stack, citizen)
    accepted(fast_stack, citizen, case)
    for department in DEPARTMENTS:
        decide(fast_stack, case["case_id"], department, f"1:{department}", "approve")
    wait_for(lambda: view(citizen, case)["status"] == "completed", timeout=40)
    rated = citizen.post(f"/cases/{case['case_id']}/rating", {"level": 1, "comment": "差"})
    assert rated.status_code == 201, rated.text

    sign_in(page, fast_stack, APPROVER)              # an approver cannot appeal
    open_case(page, case)
    expect(page.locator("#ws-rating")).to_contain_text("非常不满意")
    expect(page.locator("#ws-rating textarea")).to_have_count(0)
    page.get_by_role("button", name="退出工作台").click()

    sign_in(page, fast_stack, CHIEF)
    open_case(page, case)
    rating = page.locator("#ws-rating")
    rating.get_by_role("button", name="提交差评申诉").click()
    expect(rating.locator(".field-error")).to_contain_text("请填写申诉理由")
    rating.get_by_label("申诉理由").fill("该件一日办结，申请人因与本件无关的纠纷恶意差评")
    rating.get_by_role("button", name="提交差评申诉").click()
    expect(rating.locator(".notice.ok")).to_contain_text("待监察室裁定")
    expect(page.locator("#ws-tl-h")).to_contain_text("留痕记录")
    appeal = view(citizen, case)["rating"]["appeal"]
    assert appeal["status"] == "pending" and appeal["by"] == f"staff:{CHIEF}"


def test_a_chief_starts_and_ends_a_special_procedure(page, fast_stack, demo_citizen):
    citizen = demo_citizen["api"]
    case = file_case(fast_stack, citizen)
    accepted(fast_stack, citizen, case)

    sign_in(page, fast_stack, APPROVER)              # an approver runs no special procedure
    open_case(page, case)
    expect(branch(page, "1:SCJG").locator('form[data-decision="approve"]')).to_have_count(1)
    expect(page.locator('[data-decision="special_start"]')).to_have_count(0)
    page.get_by_role("button", name="退出工作台").click()

    sign_in(page, fast_stack, CHIEF)
    open_case(page, case)
    mine = branch(page, "1:SCJG")
    mine.locator("summary", has_text="启动特别程序").click()
    mine.get_by_label("特别程序").select_option("听证")
    mine.locator('form[data-decision="special_start"] button').click()
    done(page, "已启动特别程序")
    expect(branch(page, "1:SCJG")).to_contain_text("特别程序中")
    paused = next(b for b in view(citizen, case)["stages"] if b["branch_id"] == "1:SCJG")
    assert paused["status"] == "paused" and paused["pause_reason"] == "special"
    shot(page, "w8-special-procedure")
    branch(page, "1:SCJG").locator('button[data-decision="special_end"]').click()
    done(page, "已结束特别程序")
    wait_for(lambda: next(b for b in view(citizen, case)["stages"]
                          if b["branch_id"] == "1:SCJG")["status"] == "open", timeout=20)
    for department in DEPARTMENTS:
        decide(fast_stack, case["case_id"], department, f"1:{department}", "approve")


def test_an_approver_opens_a_material_and_the_opening_is_in_the_trail(page, fast_stack,
                                                                       demo_citizen):
    citizen = demo_citizen["api"]
    case = file_case(fast_stack, citizen)
    accepted(fast_stack, citizen, case)
    sign_in(page, fast_stack, APPROVER)
    open_case(page, case)
    first = page.locator(".ws-materials li").first
    material = first.get_attribute("data-material")
    with page.expect_popup() as opened:          # the tab opens within the click
        first.get_by_role("button", name="查看材料").click()
    expect(first).to_contain_text("查看已留痕")
    opened.value.close()
    link = first.get_by_role("link", name="打开").get_attribute("href")
    assert "X-Amz-Signature=" in link and "X-Amz-Expires=300" in link
    got = requests.get(link, timeout=10)
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    trail = as_staff(fast_stack, "BZ-JJJC-001").get(f"/audit/cases/{case['case_id']}/trail").json()
    viewed = [r for r in trail["records"] if r["action"] == "material_viewed"]
    assert [(r["actor"], r["data"]["material"]) for r in viewed] == \
        [(f"staff:{APPROVER}", material)]
    for department in DEPARTMENTS:
        decide(fast_stack, case["case_id"], department, f"1:{department}", "approve")


def test_my_archive_and_a_supervision_clerk_sent_to_the_board(page, fast_stack):
    sign_in(page, fast_stack, CLERK)
    page.get_by_role("link", name="我的效能档案").click()
    table = page.locator("#ws-archive")
    expect(table).to_be_visible()
    own = as_staff(fast_stack, CLERK).get("/staff/me/archive").json()
    expect(table.locator("tbody tr").last.locator('[data-figure="completed"]')).to_have_text(
        str(own["total"]["completed"]))
    page.get_by_role("button", name="退出工作台").click()

    page.get_by_label("工号").fill("BZ-JJJC-001")
    page.get_by_label("密码").fill(fast_stack["staff"]["demo_password"])
    page.get_by_role("button", name="登录工作台").click()
    expect(page.get_by_role("alert")).to_contain_text("属于监察机构")
    expect(page.get_by_role("link", name="前往电子监察平台")).to_be_visible()
    expect(page.locator("#ws-who")).to_have_count(0)
