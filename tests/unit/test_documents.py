"""Sealed documents and e-licences through the service layer with in-memory adapters and a seal
key in memory: each document produced once when its event happens, in the trail with its
SHA-256, a PAdES seal that verifies and fails on a tampered file; the licence held by the new
company with a valid unified social credit code."""
import base64
import hashlib
from datetime import date, datetime, timezone

import pytest

from chalicelib.adapters.documents import InMemoryDocuments
from chalicelib.adapters.seal import LocalSealKey, Seal
from chalicelib.domain import documents as docs
from chalicelib.domain.cases import Caller
from chalicelib.domain.errors import NotFound
from chalicelib.service.documents import Documents
from tests.unit.test_approval_service import (ACCEPTING, ALICE, DEPARTMENTS, REVIEWERS,  # noqa
                                              accepted, awaiting, decide, stage_decided, submit,
                                              tick, told, w)

KEY = LocalSealKey()


@pytest.fixture(autouse=True)
def _no_sockets():
    """The network stays off; pyHanko signs and validates in an asyncio loop, whose self-pipe
    is a local socket pair (AF_UNIX), which is let through."""
    from pytest_socket import disable_socket, enable_socket

    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture
def d(w):
    w.store = InMemoryDocuments()
    w.documents = Documents(w.catalog, w.cases, w.store, w.certificates, Seal(KEY),
                            lambda: w.now[0], origin="https://hall.example",
                            own_case=w.intake.case_for)
    w.documents.subscribe(w.events)
    return w


def issued(w, case_id):
    return [r for r in w.intake.timeline(case_id) if r["action"] == "document_issued"]


def granted(w):
    case_id, _tokens = accepted(w)
    tick(w, 3)
    for code in DEPARTMENTS:
        decide(w, case_id, f"1:{code}", {"decision": "approve", "staff_id": REVIEWERS[code]})
    stage_decided(w, case_id, 1)
    return case_id


def test_acceptance_issues_one_sealed_notice_recorded_with_its_hash(d):
    case_id, _ = accepted(d)
    case = d.cases.get(case_id)
    assert list(case.documents) == ["acceptance"]
    notice = case.documents["acceptance"]
    assert notice["title"] == "受理通知书" and case.case_no in notice["number"]
    [record] = issued(d, case_id)
    assert record["data"]["sha256"] == notice["sha256"] and record["data"]["key"] == "acceptance"
    stored = d.store.get_record(notice["document_id"])
    pdf = d.store.get_pdf(stored["pdf_key"])
    assert hashlib.sha256(pdf).hexdigest() == notice["sha256"]
    # The CJK font is embedded as a subset, and the file is sealed with the hall's seal.
    assert b"/FontFile2" in pdf and b"+WenQuanYiZenHei" in pdf
    assert Seal(KEY).verify(pdf).valid
    # The stage's message handled again produces nothing new.
    assert d.documents.issue_due(case_id) == []
    assert len(issued(d, case_id)) == 1


def test_a_handling_that_lost_the_race_leaves_the_record_naming_the_recorded_file(d):
    case_id, _ = accepted(d)
    notice = d.cases.get(case_id).documents["acceptance"]
    # Another handling produced the same document meanwhile and wrote its own record, then
    # failed before finding its trail record refused.
    other = {**d.store.get_record(notice["document_id"]), "sha256": "0" * 64,
             "pdf_key": f"documents/{notice['document_id']}/{'0' * 64}.pdf"}
    d.store.put_record(notice["document_id"], other)
    assert d.documents.check(notice["document_id"])["seal"]["code"] == "unreadable"
    assert d.documents.issue_due(case_id) == []          # nothing produced, the record agreed
    repaired = d.store.get_record(notice["document_id"])
    assert repaired["sha256"] == notice["sha256"] and repaired["staff_name"] == other["staff_name"]
    assert d.documents.check(notice["document_id"])["seal"]["valid"]


def test_a_grant_issues_the_decision_and_the_licence_held_by_the_new_company(d):
    case_id = granted(d)
    case = d.cases.get(case_id)
    assert sorted(case.documents) == ["acceptance", "grant", "licence"]
    licence = d.certificates.get(case.result["certificate"])
    form = case.form
    assert licence["holder"]["kind"] == "company"
    assert licence["holder"]["name"] == form["company_name"]
    from chalicelib.domain.licences import uscc_valid
    assert uscc_valid(licence["holder"]["credit_code"])
    assert licence["holder"]["legal_representative"] == "张三"
    assert licence["department"] == "SCJG" and licence["status"] == "valid"
    assert licence["document"] == case.documents["licence"]["document_id"]
    shown = d.documents.licence(licence["number"])
    assert shown["status"] == "valid" and shown["valid"] and shown["seal"]["valid"]
    assert shown["holder"]["credit_code"] == licence["holder"]["credit_code"]
    assert shown["holder"]["legal_representative"] == "张*"
    check = d.documents.check(case.documents["grant"]["document_id"])
    assert check["seal"]["valid"] and check["title"] == "准予行政许可决定书"
    assert check["licence"]["number"] == licence["number"]
    assert check["staff_name"] and check["department_name"] == "亳州市市场监督管理局"


def test_a_tampered_file_fails_with_the_reason_and_an_untouched_one_matches_the_trail(d):
    case_id = granted(d)
    notice = d.cases.get(case_id).documents["grant"]
    pdf = d.store.get_pdf(d.store.get_record(notice["document_id"])["pdf_key"])
    good = d.documents.check_file({"pdf": base64.b64encode(pdf).decode()})
    assert good["seal"]["valid"] and good["same_as_recorded"]
    assert good["document"]["document_id"] == notice["document_id"]
    at = pdf.index(b"/Producer")
    tampered = pdf[:at] + b"/Producex" + pdf[at + 9:]
    bad = d.documents.check_file({"pdf": base64.b64encode(tampered).decode()})
    assert not bad["seal"]["valid"] and bad["seal"]["code"] == "modified"
    assert "修改" in bad["seal"]["reason"]
    other = Seal(LocalSealKey())
    original = pdf[:pdf.index(b"%%EOF") + 5]              # the file before its seal
    foreign = other.sign(original, reason="x", location="y")
    assert other.verify(foreign).valid
    assert Seal(KEY).verify(foreign).code == "not_hall_seal"
    assert Seal(KEY).verify(original).code == "unsigned"
    with pytest.raises(Exception) as refused:
        d.documents.check_file({"pdf": "not base64!"})
    assert refused.value.field == "pdf"
    assert d.documents.check_file({"pdf": base64.b64encode(b"hello").decode()})["seal"][
        "code"] == "unreadable"


def test_a_denial_states_the_reasons_and_the_rights_of_review_and_suit(d):
    case_id, _ = accepted(d)
    for code in DEPARTMENTS:
        body = {"decision": "approve", "staff_id": REVIEWERS[code]}
        if code == "SW":
            body = {"decision": "deny", "staff_id": "SW-002", "reasons": "法定代表人为失信被执行人"}
        decide(d, case_id, f"1:{code}", body)
    stage_decided(d, case_id, 1)
    case = d.cases.get(case_id)
    assert sorted(case.documents) == ["acceptance", "denial"]
    record = d.store.get_record(case.documents["denial"]["document_id"])
    assert record["department"] == "SW" and record["title"] == "不予行政许可决定书"
    item = d.catalog.item(case.item_code)
    text = docs.compose("denial", case.to_dict(), item, d.catalog.halls[case.hall],
                        d.catalog.departments["SW"], "某某", d.now[0])
    body = "".join(text.paragraphs)
    assert "法定代表人为失信被执行人" in body
    assert "六十日内依法申请行政复议" in body and "六个月内依法向人民法院提起行政诉讼" in body
    assert any("第三十八条" in b for b in text.legal_basis)
    assert set(item["legal_basis"]) <= set(text.legal_basis)


def test_a_refusal_at_acceptance_issues_the_refusal_with_its_reasons_and_no_acceptance(d):
    case_id = submit(d)
    awaiting(d, case_id, ACCEPTING, 1)
    decide(d, case_id, ACCEPTING, {"decision": "refuse", "staff_id": "SCJG-001",
                                   "reasons": "申请事项不属于本机关职权范围"})
    stage_decided(d, case_id, 0)
    case = d.cases.get(case_id)
    assert case.status == "refused" and list(case.documents) == ["refusal"]
    record = d.store.get_record(case.documents["refusal"]["document_id"])
    assert record["title"] == "不予受理决定书" and record["staff_name"] == "李俊杰"
    text = docs.compose("refusal", case.to_dict(), d.catalog.item(case.item_code),
                        d.catalog.halls[case.hall], d.catalog.departments["SCJG"], "李俊杰",
                        d.now[0])
    body = "".join(text.paragraphs)
    assert "申请事项不属于本机关职权范围" in body and "决定不予受理" in body
    assert "六十日内依法申请行政复议" in body


def test_a_correction_notice_lists_every_material_once(d):
    case_id = submit(d)
    awaiting(d, case_id, ACCEPTING, 1)
    decide(d, case_id, ACCEPTING, {"decision": "correction", "staff_id": "SCJG-001",
                                   "materials": ["premises_proof"], "note": "租赁合同缺页"})
    case = d.cases.get(case_id)
    [key] = list(case.documents)
    assert key.startswith("correction:") and case.documents[key]["title"] == "补正材料通知书"
    text = docs.compose(key, case.to_dict(), d.catalog.item(case.item_code),
                        d.catalog.halls[case.hall], d.catalog.departments["SCJG"], "李俊杰",
                        d.now[0])
    assert any("住所（经营场所）使用证明" in p for p in text.paragraphs)
    assert any("租赁合同缺页" in p for p in text.paragraphs)


def test_a_department_joining_a_correction_notice_makes_the_notice_listing_both(d):
    case_id, _ = accepted(d)
    decide(d, case_id, "1:GA", {"decision": "correction", "staff_id": "GA-002",
                                "materials": ["premises_proof"]})
    decide(d, case_id, "1:SW", {"decision": "correction", "staff_id": "SW-002",
                                "materials": ["articles_of_association"]})
    notices = {k: v for k, v in d.cases.get(case_id).documents.items()
               if k.startswith("correction:")}
    assert sorted(k.rsplit("#", 1)[1] for k in notices) == ["1", "2"]
    assert len({v["document_id"] for v in notices.values()}) == 2
    assert d.documents.issue_due(case_id) == []


def test_only_who_may_read_the_case_downloads_its_documents(d):
    case_id, _ = accepted(d)
    notice = d.cases.get(case_id).documents["acceptance"]
    link = d.documents.download(ALICE, case_id, notice["document_id"])
    assert link["url"].endswith(".pdf") and link["sha256"] == notice["sha256"]
    assert link["holder"]["name"] == "张*"
    stranger = Caller("citizen", "sub-bob", id_number="110101198812120010", name="李四")
    with pytest.raises(NotFound):
        d.documents.download(stranger, case_id, notice["document_id"])
    with pytest.raises(NotFound) as unknown:
        d.documents.download(ALICE, case_id, "0" * 20)
    assert unknown.value.field == "document_id"
    with pytest.raises(NotFound):
        d.documents.check("NOSUCHDOCUMENT")


def test_the_qr_code_carries_the_websites_address_and_the_documents_page(d, monkeypatch):
    import segno

    encoded = []
    real = segno.make
    monkeypatch.setattr(segno, "make", lambda data, **kw: encoded.append(data) or real(data, **kw))
    case_id, _ = accepted(d)
    notice = d.cases.get(case_id).documents["acceptance"]
    assert encoded == [f"https://hall.example/#/verify/{notice['document_id']}"]


def test_the_qr_code_points_at_the_documents_public_page():
    doc_id = docs.document_id("case1", "grant")
    assert docs.verify_path(doc_id) == f"/#/verify/{doc_id}"
    assert doc_id == docs.document_id("case1", "grant") != docs.document_id("case1", "denial")
    assert docs.due({"accepted_at": "x", "result": {"outcome": "granted"}}) == \
        ["acceptance", "grant", "licence"]
    assert docs.due({"result": {"outcome": "refused"}}) == ["refusal"]
    assert docs.china_date(datetime(2026, 12, 31, 17, tzinfo=timezone.utc).isoformat()) == \
        "2027年1月1日"
    assert date(2027, 1, 1)


def test_a_seal_is_made_and_checked_from_inside_a_running_event_loop(d):
    """pyHanko runs an event loop of its own; a caller that is itself async still seals."""
    import asyncio

    pdf = Seal(KEY).sign(render_minimal(), reason="x", location="y")

    async def inside():
        sealed = Seal(KEY).sign(render_minimal(), reason="x", location="y")
        return Seal(KEY).verify(sealed), Seal(KEY).verify(pdf)

    made, checked = asyncio.run(inside())
    assert made.valid and checked.valid


def render_minimal() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    return bytes(pdf.output())


def test_a_correction_decided_while_sealing_fails_stands_and_its_notice_follows(d):
    """KMS down as the window asks for corrections: the decision is committed and answered,
    not a 500 after the commit, and the notice is issued by the sweeper once KMS is back."""
    case_id = submit(d)
    token, _ = awaiting(d, case_id, ACCEPTING, 1)

    class Down:
        def sign(self, *args, **kwargs):
            raise ConnectionError("kms unreachable")
    seal, d.documents.seal = d.documents.seal, Down()
    decide(d, case_id, ACCEPTING, {"decision": "correction", "staff_id": "SCJG-001",
                                   "materials": ["premises_proof"]})
    case = d.cases.get(case_id)
    assert case.status == "correction_requested" and case.documents == {}
    assert list(case.handovers) == ["documents"]           # the workflow was told; the notice waits
    assert [a["outcome"] for a in told(d, token)] == ["resumed"]
    tick(d, 60)
    assert d.approval.sweep(grace_seconds=0) == {"found": 1, "carried_out": 0, "left": 1,
                                                 "oldest_pending_seconds": 60}
    d.documents.seal = seal                                  # KMS answers again
    tick(d, 60)
    assert d.approval.sweep(grace_seconds=0)["carried_out"] == 1
    case = d.cases.get(case_id)
    [key] = case.documents
    assert key.startswith("correction:") and case.handovers == {}
    assert case.documents[key]["title"] == "补正材料通知书"
    assert d.approval.sweep(grace_seconds=0)["found"] == 0   # once
    assert len(issued(d, case_id)) == 1

