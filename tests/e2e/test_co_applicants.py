"""A property transfer applied for by both sides over HTTP: the seller names the buyer, the
buyer signs in and finds the case in their own list with their own number in full and the
seller's application otherwise unchanged; the buyer cannot submit it; a bad co-applicant is
refused naming its field."""
import pytest

from .client import Citizen

SELLER, BUYER = "341602198703151237", "341621198906202347"       # local/people.json
TRANSFER = "ZRZY-003"


@pytest.fixture(scope="module")
def seller(stack):
    return Citizen(stack, SELLER, name="孙立新")


@pytest.fixture(scope="module")
def buyer(stack):
    return Citizen(stack, BUYER, name="韩雪")


def sale(guide, co_applicants):
    item = guide(TRANSFER)
    return {"item": TRANSFER, "hall": item["halls"][0], "form": item["form"]["examples"][0],
            "co_applicants": co_applicants}


def test_both_sides_of_a_sale_read_the_case_the_seller_alone_acts(seller, buyer, guide):
    assert guide(TRANSFER)["co_applicants"]["min"] == 1
    created = seller.post("/cases", sale(guide, [{"name": "韩雪", "id_number": BUYER}]))
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["co_applicants"] == [{"name": "韩雪", "id_number": "341621***********7"}]
    mine = buyer.get("/cases").json()["cases"]
    assert [c["case_id"] for c in mine] == [case["case_id"]]
    read = buyer.get(f"/cases/{case['case_id']}")
    assert read.status_code == 200, read.text
    assert read.json()["co_applicants"] == [{"name": "韩雪", "id_number": BUYER}]
    assert read.json()["applicant"]["id_number"] == SELLER
    refused = buyer.post(f"/cases/{case['case_id']}/submit", {"delivery": {"method": "pickup"}},
                         headers={"Idempotency-Key": f"buyer-{case['case_id']}"})
    assert refused.status_code == 403 and refused.json()["field"] == "case_id", refused.text


def test_a_sale_without_its_buyer_or_with_a_mistyped_one_is_refused_naming_the_field(
        seller, guide):
    missing = seller.post("/cases", sale(guide, []))
    assert missing.status_code == 422 and missing.json()["field"] == "co_applicants", missing.text
    typo = seller.post("/cases", sale(guide, [{"name": "韩雪", "id_number": BUYER[:-1] + "8"}]))
    assert typo.status_code == 422, typo.text
    assert [p["field"] for p in typo.json()["problems"]] == ["co_applicants.0.id_number"]
