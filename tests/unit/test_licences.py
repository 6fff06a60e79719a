"""E-licences: the unified social credit code and its check characters, holders, validity, the
issuing department's status changes and typed reuse as a material."""
from datetime import date, datetime, timezone

import pytest

from chalicelib.domain import licences
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, Unprocessable

AT = datetime(2026, 11, 30, 2, tzinfo=timezone.utc)
ALICE = "341602199001011234"


def licence(**overrides) -> dict:
    found = licences.issue(
        "ABCDEF0123456789", {"code": "SCJG-001", "name": "企业设立登记（多证联办）"},
        {"case_id": "case1", "case_no": "BZ-20261130-00001", "hall": "BZ",
         "applicant": {"name": "张三", "id_number": ALICE, "kind": "person"},
         "form": {"company_name": "亳州市芍香中药材贸易有限公司"}},
        {"code": "SCJG", "name": "亳州市市场监督管理局"}, AT, ["SCJG", "SW"])
    return {**found, **overrides}


def test_the_published_sample_credit_code_checks_and_any_changed_character_does_not():
    assert licences.uscc_valid("91350100M000100Y43")
    assert not licences.uscc_valid("91350100M000100Y44")
    assert not licences.uscc_valid("91350100M000100Y4")
    assert not licences.uscc_valid("91350100M0001O0Y43")       # O is not in the alphabet
    assert licences.org_code_check("M000100Y") == "4"


def test_a_new_company_gets_a_valid_code_in_its_halls_division():
    code = licences.make_uscc("亳州市芍香中药材贸易有限公司", "case1", "BZQC")
    assert licences.uscc_valid(code) and code[:2] == "91" and code[2:8] == "341602"
    assert code == licences.make_uscc("亳州市芍香中药材贸易有限公司", "case1", "BZQC")
    assert code != licences.make_uscc("亳州市芍香中药材贸易有限公司", "case2", "BZQC")
    individual = licences.make_uscc("谯城区老张小吃店", "case3", "BZ", individual=True)
    assert licences.uscc_valid(individual) and individual[:2] == "92"
    for n in range(200):                           # every check character, both of them
        assert licences.uscc_valid(licences.make_uscc(f"公司{n}", "x", "BZ"))


def test_the_holder_is_the_company_for_company_setup_and_the_person_otherwise():
    found = licence()
    assert found["holder"]["kind"] == "company"
    assert found["holder"]["name"] == "亳州市芍香中药材贸易有限公司"
    assert licences.uscc_valid(found["holder"]["credit_code"])
    assert found["kind"] == "business_licence" and found["kind_name"] == "营业执照"
    assert found["department"] == "SCJG" and found["valid_until"] is None
    person = licences.holder_of("no_criminal_record", "GA-003",
                                {"name": "张三", "id_number": ALICE, "kind": "person"}, {},
                                "case2", "BZ")
    assert person == {"kind": "person", "name": "张三", "id_number": ALICE}
    company = licences.holder_of("food_business_licence", "SCJG-003",
                                 {"name": "亳州市某某餐饮有限公司", "kind": "company",
                                  "id_number": "91341600313311563W"}, {}, "case3", "BZ")
    assert company["credit_code"] == "91341600313311563W"


def test_validity_and_expiry():
    assert licences.valid_until("food_business_licence", date(2026, 11, 30)) == "2031-11-30"
    assert licences.valid_until("food_business_licence", date(2028, 2, 29)) == "2033-02-28"
    found = licence(valid_until="2026-12-31")
    assert licences.status_on(found, date(2026, 12, 31)) == "valid"
    assert licences.status_on(found, date(2027, 1, 1)) == "expired"
    assert licences.status_on({**found, "status": "revoked"}, date(2027, 1, 1)) == "revoked"


def test_only_the_issuing_department_changes_the_status_with_reasons():
    found = licence()
    with pytest.raises(InvalidInput) as no_reasons:
        licences.change_status(found, {"status": "revoked"}, "SCJG", "staff:SCJG-003", AT)
    assert no_reasons.value.field == "reasons"
    with pytest.raises(InvalidInput) as bad:
        licences.change_status(found, {"status": "valid", "reasons": ["x"]}, "SCJG", "s", AT)
    assert bad.value.field == "status"
    with pytest.raises(Forbidden):
        licences.change_status(found, {"status": "revoked", "reasons": ["以欺骗手段取得"]},
                               "SW", "staff:SW-003", AT)
    with pytest.raises(InvalidInput) as unnamed:
        licences.change_status(found, {"status": "changed", "reasons": ["住所变更"]}, "SCJG",
                               "s", AT)
    assert unnamed.value.field == "changes"
    changed = licences.change_status(found, {"status": "changed", "reasons": ["住所变更"],
                                             "changes": {"address": "亳州市谯城区新华路1号"}},
                                     "SCJG", "staff:SCJG-003", AT)
    assert changed["from"] == "valid" and changed["to"] == "changed"
    assert found["status"] == "changed" and found["changes"]["address"].startswith("亳州")
    licences.change_status(found, {"status": "revoked", "reasons": ["以欺骗手段取得行政许可"]},
                           "SCJG", "staff:SCJG-003", AT)
    assert [h["to"] for h in found["history"]] == ["changed", "revoked"]
    with pytest.raises(Conflict) as again:
        licences.change_status(found, {"status": "changed", "reasons": ["x"],
                                       "changes": {"a": "b"}}, "SCJG", "s", AT)
    assert again.value.field == "status" and "revoked" in again.value.message


def test_reuse_is_typed_own_and_in_force():
    found = licence()
    takes_business = {"id": "registration", "name": "登记证书或营业执照",
                      "licence_kinds": ["business_licence", "individual_business_licence"]}
    licences.check_reusable(found, takes_business, ALICE, date(2026, 12, 1))
    licences.check_reusable(found, takes_business, found["holder"]["credit_code"],
                            date(2026, 12, 1))                      # the company itself
    with pytest.raises(Unprocessable) as wrong_kind:
        licences.check_reusable(found, {"id": "marriage", "name": "结婚证",
                                        "licence_kinds": ["marriage_certificate"]},
                                ALICE, date(2026, 12, 1))
    assert wrong_kind.value.field == "certificate" and "营业执照" in wrong_kind.value.message
    with pytest.raises(Unprocessable) as untyped:
        licences.check_reusable(found, {"id": "form", "name": "申请书"}, ALICE, date(2026, 12, 1))
    assert untyped.value.field == "material"
    with pytest.raises(Forbidden):
        licences.check_reusable(found, takes_business, "110101198812120010", date(2026, 12, 1))
    with pytest.raises(Conflict) as revoked:
        licences.check_reusable({**found, "status": "revoked"}, takes_business, ALICE,
                                date(2026, 12, 1))
    assert revoked.value.field == "certificate" and "revoked" in revoked.value.message
    with pytest.raises(Conflict) as expired:
        licences.check_reusable({**found, "valid_until": "2026-11-30"}, takes_business, ALICE,
                                date(2026, 12, 1))
    assert "expired" in expired.value.message


def test_the_public_view_masks_a_person_but_not_a_company():
    shown = licences.public_view(licence(), date(2026, 12, 1))
    assert shown["holder"]["name"] == "亳州市芍香中药材贸易有限公司"
    assert shown["holder"]["legal_representative"] == "张*"
    assert shown["status"] == "valid" and shown["status_name"] == "有效"
    person = licence(holder={"kind": "person", "name": "欧阳娜娜", "id_number": ALICE})
    shown = licences.public_view(person, date(2026, 12, 1))
    assert shown["holder"] == {"kind": "person", "name": "欧***",
                               "id_number": "341602***********4"}
    old = {"code": "3F9A0C21B7E4D865", "case_no": "BZ-1", "item_code": "GA-003",
           "item_name": "无犯罪记录证明开具", "holder": "张三", "holder_id_number": ALICE,
           "issued_at": AT.isoformat(), "hall": "BZ", "departments": ["GA"]}
    upgraded = licences.public_view(licences.normalised(old), date(2026, 12, 1))
    assert upgraded["holder"]["name"] == "张*" and upgraded["status"] == "valid"
