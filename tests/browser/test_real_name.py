"""The real-name step in the browser: a citizen's pages wait for it, its refusals are told in
Chinese next to the field, and a second account for a bound number is shown the way back into
the first one: its password reset with a code texted to that phone (read from the outbox the
page links to)."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.e2e.client import Citizen, sign_up

from .test_website import field_label

PASSWORD = "Citizen2026pass"
LIN = {"name": "林晓", "id_number": "341602199111115026"}


def outbox_code(page, link):
    reader = page.context.new_page()
    try:
        reader.goto(link.get_attribute("href"))
        texts = json.loads(reader.locator("body").inner_text())["messages"]
    finally:
        reader.close()
    return re.search(r"验证码为(\d{6})", texts[-1]["text"]).group(1)


def test_a_second_account_for_a_bound_number_is_shown_the_way_back(page, fast_stack):
    first = Citizen(fast_stack, LIN["id_number"], name=LIN["name"])
    phone = sign_up(fast_stack, PASSWORD)
    page.goto("/#/apply/SCJG-001")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    # Signed in, but no case page before the real-name step.
    expect(page.get_by_role("heading", level=1)).to_have_text("实名认证")
    expect(page.locator("#nav-account")).to_contain_text("未实名")

    page.get_by_role("button", name="提交实名认证").click()
    expect(page.locator(".field-error")).to_have_count(2)
    page.get_by_label(field_label("姓名")).fill(LIN["name"])
    page.get_by_label(field_label("身份证号码")).fill("AAAAAAAAAAAAAAAAAA")
    page.get_by_role("button", name="提交实名认证").click()
    number = page.locator(".field").filter(has=page.get_by_label(field_label("身份证号码")))
    expect(number.locator(".field-error")).to_contain_text("18 位身份证号码")
    page.get_by_label(field_label("身份证号码")).fill(LIN["id_number"])
    page.get_by_label(field_label("姓名")).fill("林小")
    page.get_by_role("button", name="提交实名认证").click()
    expect(number.locator(".field-error")).to_have_text("姓名与身份证号码不一致，请按身份证上的信息填写")

    page.get_by_label(field_label("姓名")).fill(LIN["name"])
    page.get_by_role("button", name="提交实名认证").click()
    masked = first.username[:3] + "****" + first.username[-4:]
    expect(number.locator(".field-error")).to_contain_text(f"已实名绑定另一个账号（登录手机号 {masked}）")
    expect(page.locator("#bound-elsewhere")).to_contain_text("验证码重置密码")
    assert first.username not in page.locator("main").inner_text()

    # The way back: the first account's password, reset with the code texted to its phone.
    page.locator("#bound-elsewhere").get_by_role("link", name="找回该账号的密码").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("找回密码")
    expect(page.locator("#nav-account")).to_contain_text("登录 / 注册")
    page.get_by_label(field_label("手机号")).fill(first.username)
    page.get_by_role("button", name="发送验证码").click()
    code = outbox_code(page, page.get_by_role("link", name="打开短信发件箱查看"))
    page.get_by_label(field_label("短信验证码")).fill("000000" if code != "000000" else "111111")
    page.get_by_label(field_label("新密码")).fill("Recovered2026pass")
    page.get_by_label(field_label("确认新密码")).fill("Recovered2026pass")
    page.get_by_role("button", name="重置密码").click()
    expect(page.locator(".field-error")).to_have_text("验证码不正确，请重新输入")
    page.get_by_label(field_label("短信验证码")).fill(code)
    page.get_by_role("button", name="重置密码").click()
    expect(page.get_by_text("密码已重置，请用新密码登录。")).to_be_visible()
    page.get_by_label("密码").fill("Recovered2026pass")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("在线申办：企业设立登记（多证联办）")
    expect(page.locator("#nav-account")).to_contain_text(LIN["name"])
