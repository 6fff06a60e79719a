"""Sealed documents and e-licences on the running stack, with the seal's key in the local KMS and
each function's own role: a completed company setup holds its acceptance notice, its decision and
its licence, each in the trail with its SHA-256, downloadable by the applicant and the
departments and by nobody else; the file verifies and a tampered copy fails with the reason;
the licence is held by the new company; it stands for a material of its kind and, revoked by
its department, for none."""
import base64
import hashlib

import requests

from .client import Citizen
from .flows import Flow, as_staff, decider, wait_for

APPLICANT = "341602199202023450"
STRANGER = "110101198812120010"


def completed(stack):
    flow = Flow(stack, id_number=APPLICANT)
    flow.accept()
    for branch in flow.deciders():
        assert flow.decide(branch["department"], branch["branch_id"], "approve").status_code == 200
    view = wait_for(lambda: (v := flow.view())["status"] == "completed"
                    and len(v.get("documents") or {}) == 3 and v, timeout=120)
    return flow, view


def test_a_completed_case_holds_its_sealed_documents_and_a_tampered_copy_fails(fast_stack):
    api = fast_stack["api_url"]
    flow, view = completed(fast_stack)
    documents = {d["kind"]: d for d in view["documents"].values()}
    assert set(documents) == {"acceptance", "grant", "licence"}
    assert documents["acceptance"]["title"] == "受理通知书"
    assert documents["grant"]["title"] == "准予行政许可决定书"
    recorded = {r["data"]["document_id"]: r["data"]["sha256"] for r in view["timeline"]
                if r["action"] == "document_issued"}
    assert recorded == {d["document_id"]: d["sha256"] for d in documents.values()}

    grant = documents["grant"]
    link = flow.citizen.get(f"/cases/{flow.case_id}/documents/{grant['document_id']}")
    assert link.status_code == 200, link.text
    pdf = requests.get(link.json()["url"], timeout=10).content
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == grant["sha256"]
    assert b"/FontFile2" in pdf                     # the CJK font travels with the file

    checked = requests.post(f"{api}/public/documents/check",
                            json={"pdf": base64.b64encode(pdf).decode()}, timeout=30).json()
    assert checked["seal"]["valid"] and checked["same_as_recorded"]
    at = pdf.index(b"/Producer")
    tampered = pdf[:at] + b"/Producex" + pdf[at + 9:]
    refused = requests.post(f"{api}/public/documents/check",
                            json={"pdf": base64.b64encode(tampered).decode()}, timeout=30)
    assert refused.status_code == 200
    assert not refused.json()["seal"]["valid"] and refused.json()["seal"]["code"] == "modified"
    assert "修改" in refused.json()["seal"]["reason"]
    assert requests.post(f"{api}/public/documents/check", json={"pdf": "%%%"},
                         timeout=10).json()["field"] == "pdf"

    # The QR code's target: the document, its seal, the licence's status.
    page = requests.get(f"{api}/public/documents/{grant['document_id']}", timeout=30).json()
    assert page["seal"]["valid"] and page["case_no"] == flow.case_no
    assert page["licence"]["status"] == "valid"
    assert requests.get(f"{api}/public/documents/0000000000000000000A",
                        timeout=10).status_code == 404

    licence = requests.get(f"{api}/certificates/{view['result']['certificate']}",
                           timeout=30).json()
    form = flow.guide["form"]["examples"][0]
    assert licence["holder"]["kind"] == "company"
    assert licence["holder"]["name"] == form["company_name"]
    assert len(licence["holder"]["credit_code"]) == 18
    assert licence["holder"]["legal_representative"].endswith("*")
    assert licence["kind_name"] == "营业执照" and licence["seal"]["valid"]

    # A department deciding the case opens it; someone else does not.
    staff = as_staff(fast_stack, decider("SW", "approve"))
    assert staff.get(f"/department/cases/{flow.case_id}/documents/"
                     f"{grant['document_id']}").status_code == 200
    stranger = Citizen(fast_stack, STRANGER)
    assert stranger.get(f"/cases/{flow.case_id}/documents/"
                        f"{grant['document_id']}").status_code == 404


def test_a_licence_stands_for_a_material_of_its_kind_until_its_department_revokes_it(fast_stack):
    api = fast_stack["api_url"]
    flow, view = completed(fast_stack)
    number = view["result"]["certificate"]
    mine = flow.citizen.get("/me/licences").json()["licences"]
    assert number in [m["number"] for m in mine if m["valid"]]

    guide = requests.get(f"{api}/guide/items/MZ-003", timeout=10).json()
    material = next(m for m in guide["materials"] if m.get("licence_kinds"))
    assert "business_licence" in material["licence_kinds"]

    def new_case(citizen, code="MZ-003"):
        item = requests.get(f"{api}/guide/items/{code}", timeout=10).json()
        created = citizen.post("/cases", {"item": code, "hall": item["halls"][0],
                                          "form": item["form"]["examples"][0]})
        assert created.status_code == 201, created.text
        return created.json()["case_id"]

    second = new_case(flow.citizen)
    attached = flow.citizen.post(f"/cases/{second}/uploads",
                                 {"material": material["id"], "certificate": number})
    assert attached.status_code == 201, attached.text
    assert attached.json()["certificate_kind"] == "business_licence"
    untyped = next(m for m in guide["materials"] if not m.get("licence_kinds"))
    wrong = flow.citizen.post(f"/cases/{second}/uploads",
                              {"material": untyped["id"], "certificate": number})
    assert wrong.status_code == 422 and wrong.json()["field"] == "material"

    stranger = Citizen(fast_stack, STRANGER)
    theirs = new_case(stranger)
    assert stranger.post(f"/cases/{theirs}/uploads", {"material": material["id"],
                                                       "certificate": number}).json()[
        "field"] == "certificate"
    assert stranger.post(f"/cases/{theirs}/uploads", {"material": material["id"],
                                                       "certificate": "FFFF0000FFFF0000"}
                         ).status_code == 404

    # Another department may not touch it; its own section chief revokes it, with reasons.
    other = as_staff(fast_stack, decider("SW", "extension_approve"))
    assert other.post(f"/department/licences/{number}/status",
                      {"status": "revoked", "reasons": ["无权撤销"]}).status_code == 403
    chief = as_staff(fast_stack, decider("SCJG", "extension_approve"))
    revoked = chief.post(f"/department/licences/{number}/status",
                         {"status": "revoked", "reasons": ["以欺骗手段取得行政许可"]})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked" and not revoked.json()["valid"]
    again = chief.post(f"/department/licences/{number}/status",
                       {"status": "changed", "reasons": ["x"], "changes": {"a": "b"}})
    assert again.status_code == 409
    shown = requests.get(f"{api}/certificates/{number}", timeout=30).json()
    assert shown["status"] == "revoked" and shown["history"][-1]["reasons"] == \
        ["以欺骗手段取得行政许可"]
    third = new_case(flow.citizen)
    refused = flow.citizen.post(f"/cases/{third}/uploads",
                                {"material": material["id"], "certificate": number})
    assert refused.status_code == 409 and "revoked" in refused.json()["message"]
    assert refused.json()["field"] == "certificate"
    trail = [r for r in flow.view()["timeline"] if r["action"] == "licence_status_changed"]
    assert trail and trail[-1]["data"]["to"] == "revoked"
