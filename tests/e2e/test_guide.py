"""Anyone browses the service guide over HTTP."""
import requests


def get(stack, path, **params):
    return requests.get(stack["api_url"] + path, params=params, timeout=10)


def test_keyword_search_matches_chinese_names(stack):
    found = get(stack, "/guide/items", q="企业设立").json()
    assert "SCJG-001" in [i["code"] for i in found["items"]]


def test_everyday_words_abbreviations_and_pinyin_find_their_items_first(stack):
    for q, first in [("开公司", "SCJG-001"), ("办营业执照", "SCJG-001"), ("身份证", "GA-002"),
                     ("shenfenzheng", "GA-002"), ("sfz", "GA-002"), ("生孩子", "GA-001")]:
        found = get(stack, "/guide/items", q=q).json()
        assert [i["code"] for i in found["items"]][:1] == [first], (q, found)
    eia = get(stack, "/guide/items", q="环评").json()
    assert {i["code"] for i in eia["items"][:3]} == {"HBJ-001", "HBJ-002", "HBJ-003"}
    permits = get(stack, "/guide/items", q="环评", category="行政备案").json()
    assert [i["code"] for i in permits["items"]] == ["HBJ-003"]


def test_a_query_too_long_for_the_search_field_is_a_400_naming_q(stack):
    answer = get(stack, "/guide/items", q="企业" * 30)
    assert answer.status_code == 400 and answer.json()["field"] == "q"


def test_filters_by_hall_department_and_category_combine(stack):
    everything = get(stack, "/guide/items", page_size=100).json()
    permits = get(stack, "/guide/items", category="行政许可", page_size=100).json()
    assert 0 < permits["total"] < everything["total"]
    assert {i["category"] for i in permits["items"]} == {"行政许可"}
    district = get(stack, "/guide/items", hall="BZQC", page_size=100).json()
    assert district["items"] and all("BZQC" in i["halls"] for i in district["items"])
    police = get(stack, "/guide/items", department="GA", page_size=100).json()
    codes = [i["code"] for i in police["items"]]
    assert "GA-001" in codes and "SCJG-001" in codes    # GA decides in company setup too


def test_an_items_guide_is_complete(stack, guide):
    item = guide("SCJG-001")
    for part in ("legal_basis", "target", "materials", "form", "steps", "legal_limit_days",
                 "promised_limit_days", "fees", "contacts", "stages", "faqs"):
        assert part in item, part
    assert len(item["stages"]) == 1 and len(item["stages"][0]["departments"]) == 5
    assert all("department_name" in branch for branch in item["stages"][0]["departments"])
    project = guide("FGW-001")
    assert len(project["stages"]) > 1


def test_halls_and_departments_are_listed_without_staff_phones(stack):
    halls = get(stack, "/guide/halls").json()["halls"]
    assert {"BZ", "BZQC", "BZGY"} <= {h["code"] for h in halls}
    departments = get(stack, "/guide/departments").json()["departments"]
    assert len(departments) >= 10
    assert "staff" not in str(departments) and "phone" not in str(departments[0]["windows"])


def test_unknown_item_is_a_404_that_names_it(stack):
    answer = get(stack, "/guide/items/NOPE-404")
    assert answer.status_code == 404 and answer.json()["field"] == "item"


def test_bad_filters_are_400s_that_name_the_parameter(stack):
    for params, field in [({"category": "许可"}, "category"), ({"page_size": 1000}, "page_size"),
                          ({"page": "two"}, "page"), ({"hall": "NOWHERE"}, "hall")]:
        answer = get(stack, "/guide/items", **params)
        assert 400 <= answer.status_code < 500, params
        assert answer.json()["field"] == field


def test_unknown_route_is_refused_like_api_gateway(stack):
    answer = get(stack, "/no/such/route")
    assert answer.status_code == 403 and answer.json()["message"] == "Missing Authentication Token"


def test_openapi_document_is_served(stack):
    document = get(stack, "/openapi.json").json()
    assert document["openapi"].startswith("3.") and "/cases/{case_id}/submit" in document["paths"]
