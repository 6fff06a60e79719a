"""Sealed documents and e-licences in the browser: the applicant downloads the decision from the
case page, checks the downloaded file's seal on the verification page (and a tampered copy is
refused with the reason), follows the document's QR target; then reuses the licence for a
material of its kind on a new application."""
from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.e2e.flows import wait_for

from .conftest import DEPARTMENTS, decide, file_case, shot, sign_in_ui


def completed_case(stack, citizen) -> dict:
    case = file_case(stack, citizen)
    decide(stack, case["case_id"], "SCJG", "0:SCJG", "accept")
    wait_for(lambda: len(citizen.get(f"/cases/{case['case_id']}").json()["stages"]) > 1,
             timeout=30)
    for department in DEPARTMENTS:
        decide(stack, case["case_id"], department, f"1:{department}", "approve")
    view = wait_for(lambda: (v := citizen.get(f"/cases/{case['case_id']}").json())
                    .get("status") == "completed" and len(v.get("documents") or {}) == 3 and v,
                    timeout=120, every=0.5)
    return {**case, "view": view}


def test_the_applicant_downloads_the_decision_and_checks_its_seal_and_qr_target(
        page, fast_stack, demo_citizen, tmp_path):
    case = completed_case(fast_stack, demo_citizen["api"])
    grant = next(d for d in case["view"]["documents"].values() if d["kind"] == "grant")
    sign_in_ui(page, demo_citizen["username"], demo_citizen["password"])
    page.goto(f"/#/cases/{case['case_id']}")
    documents = page.locator("#documents")
    expect(documents.locator('[data-kind="grant"]')).to_contain_text("准予行政许可决定书")
    expect(documents.locator('[data-kind="licence"]')).to_be_visible()
    with page.expect_download() as downloading:
        documents.get_by_role("button", name="下载准予行政许可决定书").click()
    saved = tmp_path / "decision.pdf"
    downloading.value.save_as(saved)
    pdf = saved.read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    shot(page, "documents-case-page")

    # The downloaded file checked on the public page: the hall's seal, intact.
    page.goto("/#/verify")
    page.locator("#file-check input[type=file]").set_input_files(str(saved))
    page.get_by_role("button", name="核验文件").click()
    expect(page.locator("#file-seal-reason")).to_contain_text("电子印章有效")
    # A copy changed after sealing is refused, with the reason.
    at = pdf.index(b"/Producer")
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(pdf[:at] + b"/Producex" + pdf[at + 9:])
    page.locator("#file-check input[type=file]").set_input_files(str(tampered))
    page.get_by_role("button", name="核验文件").click()
    expect(page.locator("#file-seal-reason")).to_contain_text("被修改")
    shot(page, "documents-tampered")

    # The QR code's target (the website's address and the document's page) shows the document,
    # its seal and the licence's status.
    page.goto(f"{fast_stack['api_url']}/#/verify/{grant['document_id']}")
    card = page.locator(f'[data-document-id="{grant["document_id"]}"]')
    expect(card).to_contain_text("准予行政许可决定书")
    expect(card).to_contain_text(case["case_no"])
    expect(card.locator("#seal-reason")).to_contain_text("电子印章有效")
    expect(card.locator('[data-status="valid"]')).to_contain_text("证照有效")
    shot(page, "documents-qr-target")


def test_a_citizen_reuses_a_licence_for_a_material_of_its_kind(page, fast_stack, demo_citizen):
    citizen = demo_citizen["api"]
    case = completed_case(fast_stack, citizen)
    number = case["view"]["result"]["certificate"]
    guide = requests.get(f"{fast_stack['api_url']}/guide/items/MZ-003", timeout=10).json()
    draft = citizen.post("/cases", {"item": "MZ-003", "hall": guide["halls"][0],
                                    "form": guide["form"]["examples"][0]})
    assert draft.status_code == 201, draft.text
    draft_id = draft.json()["case_id"]

    sign_in_ui(page, demo_citizen["username"], demo_citizen["password"])
    page.goto(f"/#/apply/MZ-003?case={draft_id}")
    card = page.locator('[data-material="registration_certificate"]')
    picker = card.get_by_label("或使用我的电子证照（登记证书或营业执照）")
    expect(picker.locator(f'option[value="{number}"]')).to_have_count(1)
    picker.select_option(number)
    card.get_by_role("button", name="使用所选电子证照").click()
    expect(card.locator(".status")).to_contain_text(f"以电子证照 {number} 代替上传")
    shot(page, "documents-licence-reused")
    stored = citizen.get(f"/cases/{draft_id}").json()["materials"]["registration_certificate"]
    assert stored["certificate"] == number and stored["status"] == "received"
    # A material that takes no licence offers none.
    other = page.locator("[data-material]").filter(has_not=page.locator(".licence-pick")).first
    expect(other.locator("select")).to_have_count(0)
