"""What the schema fuzzing (tests/fuzz) and an attacker's run found, held here without a stack:
hostile input gets a 4xx naming the field and why, in bounded size, never a 500."""
import json

import pytest

from chalicelib import catalog, schemas
from chalicelib.domain import cases
from chalicelib.domain.errors import DomainError, InvalidInput, Unprocessable
from chalicelib.service.supervision.violations import _since


def refusal(raised) -> dict:
    return raised.value.to_dict()


def test_a_form_of_huge_fields_and_many_keys_is_refused_in_a_short_answer():
    item = catalog.published().items["SCJG-001"]
    form = {name: ("x" * 2000 if isinstance(value, str) else [value] * 500)
            for name, value in item["form"]["examples"][0].items()}
    form.update({f"extra{i}": "y" * 2000 for i in range(100)})
    with pytest.raises(Unprocessable) as raised:
        cases.check_form(item, form)
    said = refusal(raised)
    assert said["field"] == "form"
    assert len(said["problems"]) == cases.MAX_FORM_PROBLEMS
    assert "problems, the first 20 listed" in said["message"]
    assert all(len(p["reason"]) <= cases.MAX_REASON + 1 for p in said["problems"])
    assert len(json.dumps(said, ensure_ascii=False).encode()) < 4096


def test_a_long_value_in_a_form_is_quoted_as_an_excerpt():
    item = catalog.published().items["SCJG-001"]
    form = {**item["form"]["examples"][0], "company_name": "长" * 5000}
    problems = cases.form_problems(item, form)
    long_name = next(p for p in problems if p.field == "form.company_name")
    assert "is too long" in long_name.reason
    assert long_name.reason.count("长") <= cases.EXCERPT
    assert len(long_name.reason) <= cases.MAX_REASON + 1


def test_a_small_form_keeps_every_problem_and_its_plain_message():
    item = catalog.published().items["SCJG-001"]
    with pytest.raises(Unprocessable) as raised:
        cases.check_form(item, {**item["form"]["examples"][0], "company_name": 5})
    said = refusal(raised)
    assert said["message"] == "the form does not match the guide of item SCJG-001"
    assert [p["field"] for p in said["problems"]] == ["form.company_name"]
    assert said["problems"][0]["reason"] == "5 is not of type 'string'"


@pytest.mark.parametrize("since", ["", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00",
                                   "1999-12-31T00:00:00Z", "2100-01-01T00:00:00Z"])
def test_a_since_outside_the_years_2000_to_2099_is_a_400_naming_it(since):
    with pytest.raises(InvalidInput) as raised:
        _since({"since": since})
    assert raised.value.field == "since"
    assert "2000 to 2099" in raised.value.message or "ISO 8601" in raised.value.message


def test_a_since_of_the_years_allowed_is_read_in_utc():
    assert _since({"since": "2000-01-01T00:00:00+08:00"}) == "1999-12-31T16:00:00+00:00"
    assert _since({"since": "2026-11-20T00:00:00Z"}) == "2026-11-20T00:00:00+00:00"
    assert _since({}) is None


def visit(**over):
    return {"window": "BZ-A01", "visited_at": "2026-11-24T10:15:00+08:00", "text": "态度差",
            "phone": "13955812345", "code": "482913", **over}


def test_a_visitor_naming_a_case_is_refused_at_the_edge_naming_case_id():
    schemas.check("VisitComplaintRequest", visit())
    with pytest.raises(DomainError) as raised:
        schemas.check("VisitComplaintRequest", visit(case_id="6f1c0e0a4d3b4a51"))
    said = refusal(raised)
    assert raised.value.status == 400
    assert said["field"] == "case_id"
    assert "filed by its applicant, signed in" in said["reason"]


def test_a_category_that_is_no_string_is_refused_naming_it():
    body = {"category": {}, "reference": "GD-1", "text": "咨询", "location": "谯城区",
            "contact": "13955812345"}
    with pytest.raises(DomainError) as raised:
        schemas.check("HotlineRequest", body)
    said = refusal(raised)
    assert raised.value.status == 400
    assert said["field"] == "category" and said["reason"] == "must be a string"


def test_the_documents_state_the_conditional_requirements():
    delivery = schemas.load("Delivery")
    assert delivery["then"] == {"required": ["address"]}
    with pytest.raises(DomainError) as raised:
        schemas.check("Submission", {"delivery": {"method": "express"}})
    assert refusal(raised)["field"] == "delivery.address"
    hotline = schemas.load("HotlineRequest")["properties"]["department"]["description"]
    assert "Required unless `text` names a department" in hotline


class Query:
    def __init__(self, method, **params):
        self.method, self.query_params = method, params


@pytest.mark.parametrize("path, params, field", [
    ("/guide/items", {"hall": ""}, "hall"),
    ("/guide/items", {"department": "scjg"}, "department"),
    ("/audit/cards", {"light": "green"}, "light"),
    ("/audit/cards", {"light": ""}, "light"),
    ("/department/cards", {"light": "\U00098f12El"}, "light"),
    ("/audit/scores", {"hall": ""}, "hall"),
    ("/audit/tasks", {"kind": "complaint"}, "kind")])
def test_a_filter_outside_its_documented_schema_is_a_400_naming_it(path, params, field):
    from chalicelib.adapters.http import check_query

    with pytest.raises(InvalidInput) as raised:
        check_query(Query("GET", **params), path)
    said = refusal(raised)
    assert said["field"] == field and said["reason"], said
    assert len(json.dumps(said).encode()) < 1024


def test_filters_the_description_allows_pass_and_whole_numbers_are_left_to_the_route():
    from chalicelib.adapters.http import check_query

    check_query(Query("GET", hall="BZQC", department="SCJG", category="行政许可", q=""),
                "/guide/items")
    check_query(Query("GET", light="red", kind="violation:x", since="2026-11-20T00:00:00Z",
                      limit="abc"), "/audit/cards")
    check_query(Query("GET", anything="goes"), "/cases")


def test_every_route_taking_an_idempotency_key_lists_the_answers_it_gives_for_it():
    """A retry while the first is answered is a 409, a key reused with another body a 422."""
    from chalicelib import openapi

    document = openapi.load()
    keyed = [(path, method, operation) for path, item in document["paths"].items()
             for method, operation in item.items()
             if any("IdempotencyKey" in p.get("$ref", "") for p in operation.get("parameters", []))]
    assert len(keyed) >= 12
    for path, method, operation in keyed:
        assert {"409", "422"} <= set(operation["responses"]), (method, path)


def test_an_empty_limit_is_documented_as_not_given():
    from chalicelib import openapi

    limits = [p for item in openapi.load()["paths"].values() for operation in item.values()
              for p in operation.get("parameters", []) if p.get("name") == "limit"]
    assert limits and all(p["allowEmptyValue"] is True for p in limits)
