"""The guide's search in Chromium finds what people type: 开公司 puts company setup first, the
initials sfz find the identity card's renewal, and 环评 lists the three environmental impact
items before anything else; the query stays in the address, so a reload shows the same list."""
from __future__ import annotations

from playwright.sync_api import expect

from .conftest import shot

expect.set_options(timeout=20_000)


def search(page, text):
    field = page.get_by_label("搜索事项")
    field.fill(text)
    field.press("Enter")


def result_codes(page):
    return page.locator("#guide-results .result").evaluate_all(
        "els => els.map(e => e.dataset.code)")


def test_the_guide_finds_kaigongsi_sfz_and_huanping(page):
    page.goto("/#/guide")
    expect(page.locator("#guide-count")).to_contain_text("共找到")

    search(page, "开公司")
    first = page.locator("#guide-results .result").first
    expect(first).to_have_attribute("data-code", "SCJG-001")
    expect(first.get_by_role("link")).to_have_text("企业设立登记（多证联办）")
    shot(page, "guide-kaigongsi")

    search(page, "sfz")
    expect(page.locator("#guide-results .result").first).to_have_attribute("data-code", "GA-002")

    search(page, "环评")
    expect(page.locator("#guide-results .result").first).to_have_attribute("data-code", "HBJ-001")
    assert set(result_codes(page)[:3]) == {"HBJ-001", "HBJ-002", "HBJ-003"}
    assert "q=" in page.url
    page.reload()
    expect(page.locator("#guide-results .result").first).to_have_attribute("data-code", "HBJ-001")

    search(page, "不存在的事项")
    expect(page.locator("#guide-count")).to_have_text("没有找到符合条件的事项")
    expect(page.locator("#guide-results")).to_contain_text("拼音")
