"""The guide's search in Chromium finds what people type: 开公司 puts company setup first, the
initials sfz find the identity card's renewal, and 环评 lists the three environmental impact
items before anything else; each list is the one the API ranks for that query (never an earlier
search's answer arriving late), and the query stays in the address, so a reload shows it again."""
from __future__ import annotations

import requests
from playwright.sync_api import expect

from .conftest import shot

expect.set_options(timeout=20_000)


def ranked(stack, q):
    answer = requests.get(f"{stack['api_url']}/guide/items", params={"q": q, "page_size": 10},
                          timeout=30).json()
    return answer["total"], [item["code"] for item in answer["items"]]


def search_shows(page, stack, q, first):
    total, codes = ranked(stack, q)
    assert codes[:1] == [first], (q, codes)
    field = page.get_by_label("搜索事项")
    field.fill(q)
    field.press("Enter")
    expect(page.locator("#guide-count")).to_have_text(f"共找到 {total} 个事项")
    results = page.locator("#guide-results .result")
    expect(results).to_have_count(len(codes))
    assert results.evaluate_all("els => els.map(e => e.dataset.code)") == codes
    return codes


def test_the_guide_finds_kaigongsi_sfz_and_huanping(page, fast_stack):
    ranked(fast_stack, "开公司")          # the first search of the stack builds the index
    page.goto("/#/guide")
    expect(page.locator("#guide-count")).to_contain_text("共找到")

    search_shows(page, fast_stack, "开公司", "SCJG-001")
    expect(page.locator("#guide-results .result").first.get_by_role("link")).to_have_text(
        "企业设立登记（多证联办）")
    shot(page, "guide-kaigongsi")

    search_shows(page, fast_stack, "sfz", "GA-002")

    codes = search_shows(page, fast_stack, "环评", "HBJ-001")
    assert set(codes[:3]) == {"HBJ-001", "HBJ-002", "HBJ-003"}
    assert "q=" in page.url
    page.reload()
    expect(page.locator("#guide-results .result").first).to_have_attribute("data-code", "HBJ-001")

    page.get_by_label("搜索事项").fill("不存在的事项")
    page.get_by_label("搜索事项").press("Enter")
    expect(page.locator("#guide-count")).to_have_text("没有找到符合条件的事项")
    expect(page.locator("#guide-results")).to_contain_text("拼音")


def test_a_late_answer_to_an_earlier_search_never_replaces_the_last_one(page, fast_stack):
    page.goto("/#/guide")
    expect(page.locator("#guide-count")).to_contain_text("共找到")
    # The first query's answer is held back until the second has been shown.
    held = []

    def hold_kaigongsi(route):
        if "q=%E5%BC%80%E5%85%AC%E5%8F%B8" in route.request.url and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/guide/items?*", hold_kaigongsi)
    field = page.get_by_label("搜索事项")
    field.fill("开公司")
    field.press("Enter")
    expect(page.locator("#guide-count")).to_have_text("正在搜索…")
    search_shows(page, fast_stack, "sfz", "GA-002")
    assert held
    held[0].continue_()
    page.wait_for_timeout(1500)
    expect(page.locator("#guide-results .result").first).to_have_attribute("data-code", "GA-002")
