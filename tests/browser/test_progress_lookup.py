"""办件查询 in the browser: a visitor who holds a receipt (受理编号 and 查询码) sees the case's
status and stage without signing in; a wrong code finds nothing and says so in Chinese."""
from __future__ import annotations

from playwright.sync_api import expect

from .conftest import file_case, shot


def test_a_visitor_looks_up_progress_with_the_receipts_number_and_code(page, fast_stack,
                                                                         demo_citizen):
    citizen = demo_citizen["api"]
    case = file_case(fast_stack, citizen)
    code = citizen.get(f"/cases/{case['case_id']}").json()["query_code"]

    page.goto("/#/guide")
    page.get_by_role("link", name="办件查询").click()
    expect(page.get_by_role("heading", name="办件查询")).to_be_visible()
    page.get_by_label("受理编号").fill(case["case_no"])
    page.get_by_label("查询码").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("alert")).to_contain_text("未查询到办件")
    shot(page, "lookup-wrong-code")

    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    result = page.locator("#lookup-result")
    expect(result).to_contain_text(case["case_no"])
    expect(result.locator("[data-status]")).to_have_text("已提交，待受理")
    expect(result).to_contain_text("受理")
    # Status and stage only: nothing of who applied.
    expect(result).not_to_contain_text(demo_citizen["api"].get("/cases").json()["cases"][0]
                                       ["applicant"]["name"])
    shot(page, "lookup-found")
