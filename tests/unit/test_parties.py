"""Items two parties apply for together (property transfer, marriage): the application names the
co-applicants, each checked like a real-name applicant; every party reads the case signed in,
the applicant alone changes it, and another party's identity number is shown masked."""
from datetime import datetime, timezone

import pytest

from chalicelib import catalog
from chalicelib.adapters.idempotency import PowertoolsIdempotency
from chalicelib.adapters.memory import InMemoryCases, InMemoryIdempotencyStore, InMemoryMaterials
from chalicelib.domain import parties
from chalicelib.domain.cases import Caller
from chalicelib.domain.errors import Forbidden, NotFound, Unprocessable
from chalicelib.service.intake import Intake

SELLER = Caller("citizen", "sub-seller", id_number="341602199001011234", name="张三",
                phone="13800138000")
BUYER = Caller("citizen", "sub-buyer", id_number="341602199002083328", name="李淑芬",
               phone="13955800000")
STRANGER = Caller("citizen", "sub-x", id_number="341602199308086628", name="欧阳晓雯")
TRANSFER, MARRIAGE, COMPANY_SETUP = "ZRZY-003", "MZ-001", "SCJG-001"


@pytest.fixture
def intake():
    ids = iter(f"case{n:04d}" for n in range(1, 1000))
    return Intake(catalog.published(), InMemoryCases(), InMemoryMaterials(),
                  PowertoolsIdempotency(InMemoryIdempotencyStore()),
                  now=lambda: datetime(2026, 11, 20, 17, 30, tzinfo=timezone.utc),
                  new_id=lambda: next(ids))


def application(code, co_applicants):
    item = catalog.published().item(code)
    body = {"item": code, "hall": item["halls"][0], "form": item["form"]["examples"][0]}
    return body if co_applicants is None else {**body, "co_applicants": co_applicants}


BUYER_PARTY = {"name": "李淑芬", "id_number": BUYER.id_number}


def test_a_property_transfer_names_the_buyer_who_then_reads_and_lists_the_case(intake):
    case = intake.create(SELLER, application(TRANSFER, [BUYER_PARTY]))
    assert case["co_applicants"] == [{"name": "李淑芬", "id_number": "341602***********8"}]
    read = intake.read(BUYER, case["case_id"])
    assert read["co_applicants"] == [BUYER_PARTY]              # the party's own number
    assert read["applicant"]["id_number"] == SELLER.id_number
    assert [c["case_id"] for c in intake.mine(BUYER)["cases"]] == [case["case_id"]]
    assert [c["case_id"] for c in intake.mine(SELLER)["cases"]] == [case["case_id"]]
    assert intake.mine(STRANGER)["cases"] == []
    with pytest.raises(NotFound):
        intake.read(STRANGER, case["case_id"])


def test_the_applicant_alone_changes_the_case_a_co_applicant_only_reads_it(intake):
    case = intake.create(SELLER, application(TRANSFER, [BUYER_PARTY]))
    spec = next(m for m in catalog.published().item(TRANSFER)["materials"] if m["required"])
    upload = {"material": spec["id"], "filename": "a.pdf", "content_type": spec["content_types"][0],
              "size": 10, "sha256": "0" * 64}
    with pytest.raises(Forbidden) as refused:
        intake.request_upload(BUYER, case["case_id"], upload)
    assert refused.value.field == "case_id"
    with pytest.raises(Forbidden):
        intake.submit(BUYER, case["case_id"], {}, "buyer-submits")
    assert intake.request_upload(SELLER, case["case_id"], upload)["material"] == spec["id"]


def test_staff_read_every_co_applicants_number_masked(intake):
    case = intake.create(SELLER, application(TRANSFER, [BUYER_PARTY]))
    stored = intake.cases.get(case["case_id"])
    assert stored.co_applicants == [BUYER_PARTY]               # kept whole, shown masked
    assert stored.view()["co_applicants"][0]["id_number"] == "341602***********8"
    assert SELLER.id_number not in str(stored.view()["co_applicants"])


def test_a_two_party_item_without_the_other_party_is_refused_naming_the_field(intake):
    for body in (application(TRANSFER, None), application(MARRIAGE, [])):
        with pytest.raises(Unprocessable) as refused:
            intake.create(SELLER, body)
        assert refused.value.field == "co_applicants"
    with pytest.raises(Unprocessable) as refused:                # marriage: exactly the other one
        intake.create(SELLER, application(MARRIAGE, [BUYER_PARTY, {
            "name": "欧阳晓雯", "id_number": STRANGER.id_number}]))
    assert refused.value.field == "co_applicants" and "1" in str(refused.value)
    assert intake.cases.items == {}


def test_each_bad_co_applicant_is_named_with_its_field_and_reason():
    item = catalog.published().item(TRANSFER)
    seller = {"id_number": SELLER.id_number}
    with pytest.raises(Unprocessable) as refused:
        parties.parse(item, [{"name": "李淑芬", "id_number": "341602199002083327"},   # check digit
                             {"name": "X", "id_number": SELLER.id_number},           # the seller
                             "李淑芬",
                             {"name": "王芳", "id_number": "341602199203154321", "phone": "1"}],
                      seller)
    fields = {p.field: p.reason for p in refused.value.problems}
    assert set(fields) == {"co_applicants.0.id_number", "co_applicants.1.name",
                           "co_applicants.1.id_number", "co_applicants.2", "co_applicants.3"}
    assert "check digit" in fields["co_applicants.0.id_number"]
    assert "again" in fields["co_applicants.1.id_number"]
    with pytest.raises(Unprocessable) as refused:
        parties.parse(item, [BUYER_PARTY, dict(BUYER_PARTY)], seller)
    assert [p.field for p in refused.value.problems] == ["co_applicants.1.id_number"]
    with pytest.raises(Unprocessable) as refused:
        parties.parse(item, {"name": "李淑芬"}, seller)
    assert refused.value.field == "co_applicants"


def test_an_item_applied_for_alone_takes_no_co_applicants(intake):
    with pytest.raises(Unprocessable) as refused:
        intake.create(SELLER, application(COMPANY_SETUP, [BUYER_PARTY]))
    assert refused.value.field == "co_applicants"
    assert intake.create(SELLER, application(COMPANY_SETUP, []))["co_applicants"] == []
