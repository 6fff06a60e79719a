"""Every route that takes a body checks it against its schema (chalicelib/schemas/) at the edge,
before any service runs: a body of the wrong type, missing a required field or with an overlong
string is refused with a 4xx naming the field and why, in a short answer; so is a body nested
5,000 deep, one with NaN or Infinity and one of a megabyte. The services are never reached here
(they fail the test if they are)."""
import json

import pytest

import app as app_module
from chalicelib import bootstrap, openapi, schemas
from chalicelib.adapters import http

from .staff_identity import HOTLINE, holder, staff_identity, system_identity, use_sign_ins

CITIZEN = {"sub": "5f0c2a8e-0b7d-4c1e-9a3f-6d2b8e4f1a77", "custom:id_number": "341602199001011234",
           "name": "张三", "phone_number": "+8613800138000"}
SHORT = 2048          # bytes an answer to a hostile body may take


class Unreachable:
    """Stands in for every service: any call is recorded and fails."""
    calls: list = []

    def __getattr__(self, name):
        return Unreachable()

    def __call__(self, *args, **kwargs):
        Unreachable.calls.append(args)
        raise RuntimeError("a service was reached with a body the edge should have refused")


@pytest.fixture(autouse=True)
def no_services(monkeypatch):
    use_sign_ins(monkeypatch)
    Unreachable.calls = []
    for name in ("intake", "approval", "supervision", "performance", "real_names", "documents"):
        monkeypatch.setattr(bootstrap, name, lambda: Unreachable())
    yield
    assert Unreachable.calls == []


def bodied_routes():
    """(path, METHOD, schema, role) of every route that takes a body."""
    document = openapi.load()
    for path, methods in app_module.app.routes.items():
        for method, entry in methods.items():
            schema = getattr(entry.view_function, "body_schema", None)
            if schema:
                role = document["paths"][path][method.lower()].get("x-caller-role")
                yield path, method, schema, role


ROUTES = sorted(bodied_routes())


def send(path, method, role, body=None, raw=None, headers=None):
    """The route answering an API Gateway event, as Lambda would run it."""
    params = {name: "0:SCJG" if name == "branch_id" else "CASE1"
              for name in app_module.app.routes[path][method].view_args}
    concrete = path
    for name, value in params.items():
        concrete = concrete.replace("{" + name + "}", value)
    identity = {"sourceIp": "203.0.113.9"}
    context = {"resourcePath": path, "httpMethod": method, "path": concrete,
               "requestId": "test", "stage": "api", "identity": identity}
    if role == "citizen":
        context["authorizer"] = {"claims": CITIZEN}
    elif role == "hotline":
        identity.update(system_identity(HOTLINE))
    elif role:
        identity.update(staff_identity(holder(role, method, path)))
    text = raw if raw is not None else json.dumps(body, ensure_ascii=False)
    all_headers = {"content-type": "application/json", "idempotency-key": "test-key-0001",
                   **(headers or {})}
    event = {"resource": path, "path": concrete, "httpMethod": method, "headers": all_headers,
             "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
             "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "pathParameters": params or None, "stageVariables": None,
             "requestContext": context, "body": text, "isBase64Encoded": False}
    answer = app_module.app(event, None)
    return answer["statusCode"], answer["body"]


def example(schema):
    found = [v for n, v in schemas.examples().items() if schemas.schema_of(n) == schema]
    assert found, f"no example of {schema}"
    return found[0]


def fields(schema):
    """(name, property schema, required?) of a body schema's own fields, through allOf and
    the branch its example takes."""
    from jsonschema import Draft202012Validator

    node = schemas.load(schema)
    parts = [node] + [schemas.load(schemas.ref_name(p["$ref"])) for p in node.get("allOf", [])
                      if "$ref" in p] + [p for p in node.get("allOf", []) if "$ref" not in p]
    if "if" in node:
        branch = "then" if Draft202012Validator(node["if"]).is_valid(example(schema)) else "else"
        parts.append(schemas.load(schemas.ref_name(node[branch]["$ref"])))
    required = {name for part in parts for name in part.get("required", [])}
    return [(name, prop, name in required) for part in parts
            for name, prop in part.get("properties", {}).items()]


def resolved(prop):
    if "$ref" in prop:
        return resolved(schemas.load(schemas.ref_name(prop["$ref"])))
    if "oneOf" in prop:
        return resolved(prop["oneOf"][0])
    return prop


def refused(status, text, field):
    answer = json.loads(text)
    assert status in (400, 404, 422), (status, text)
    assert answer["field"] == field, text
    assert answer["reason"] and field in answer["message"], text
    assert len(text.encode()) < SHORT, len(text)
    return answer


def test_every_route_with_a_body_is_exercised_here():
    assert len(ROUTES) == 26
    assert {schema for *_r, schema, _role in ROUTES} == {
        "CitizenApplication", "WalkInRegistration", "AgentRegistration", "UploadRequest",
        "Submission", "CorrectionsDone", "DecisionRequest", "RatingRequest", "ComplaintRequest",
        "VisitComplaintRequest", "VisitCodeRequest", "ConsultationRequest", "TaskAnswerRequest",
        "RatingAppealRequest", "AppealDecisionRequest", "HotlineRequest", "OrderRequest",
        "ClipRequest", "RealNameRequest", "ProgressLookupRequest", "DocumentCheckRequest",
        "LicenceStatusChange"}


@pytest.mark.parametrize("path, method, schema, role", ROUTES)
def test_a_field_of_the_wrong_type_is_refused_naming_it(path, method, schema, role):
    checked = 0
    for name, prop, _required in fields(schema):
        target = resolved(prop)
        types = target.get("type") or []
        types = types if isinstance(types, list) else [types]
        if not types:
            continue
        wrong = 12345 if "string" in types else "twelve"
        status, text = send(path, method, role, {**example(schema), name: wrong})
        refused(status, text, name)
        checked += 1
    assert checked or schema == "CorrectionsDone"


@pytest.mark.parametrize("path, method, schema, role", ROUTES)
def test_a_missing_required_field_is_refused_naming_it(path, method, schema, role):
    deciding = schemas.load(schema).get("if", {}).get("required", [])   # another branch then
    required = [name for name, _p, needed in fields(schema) if needed and name not in deciding]
    assert required or schema in ("Submission", "CorrectionsDone")
    for name in required:
        body = {k: v for k, v in example(schema).items() if k != name}
        status, text = send(path, method, role, body)
        assert refused(status, text, name)["reason"] == "is required"


@pytest.mark.parametrize("path, method, schema, role", ROUTES)
def test_an_overlong_string_is_refused_naming_it_and_quoted_in_short(path, method, schema, role):
    for name, prop, _required in fields(schema):
        limit = resolved(prop).get("maxLength")
        if not limit or "string" not in str(resolved(prop).get("type")):
            continue
        sent = "长" * (limit + 1)
        status, text = send(path, method, role, {**example(schema), name: sent})
        answer = refused(status, text, name)
        quoted = json.dumps(answer, ensure_ascii=False)
        assert "长" * 80 not in quoted and "长" * min(limit + 1, 79) in answer["message"]


def gets_past_the_edge(path, role, body, method="POST"):
    """Whether the body reached the (absent) service."""
    send(path, method, role, body)
    reached = bool(Unreachable.calls)
    Unreachable.calls.clear()
    return reached


@pytest.mark.parametrize("path, method, schema, role", ROUTES)
def test_a_body_within_its_schema_gets_past_the_edge(path, method, schema, role):
    for name, value in schemas.examples().items():
        if schemas.schema_of(name) == schema:
            assert gets_past_the_edge(path, role, value, method), name


HOSTILE = [
    ("nested 5,000 deep", "[" * 5000 + "]" * 5000),
    ("nested 5,000 deep inside a field",
     '{"form": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"),
    ("NaN", '{"level": NaN}'),
    ("Infinity", '{"fee_yuan": Infinity}'),
    ("-Infinity", '{"fee_yuan": -Infinity}'),
    ("a number too large for a float", '{"fee_yuan": 1e999}'),
    ("a whole number of 5,000 digits", '{"level": ' + "9" * 5000 + "}"),
    ("a megabyte string", json.dumps({"text": "x" * 1_000_000})),
    ("not JSON", '{"item": "SCJG-001",'),
    ("not an object", '["item"]'),
]


@pytest.mark.parametrize("path, method, schema, role", ROUTES)
@pytest.mark.parametrize("what, raw", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_body_is_a_short_400_naming_the_body(path, method, schema, role, what, raw):
    status, text = send(path, method, role, raw=raw)
    assert status == 400, (what, text[:300])
    answer = json.loads(text)
    assert answer["field"] == "body" and answer["error"] == "InvalidInput", text
    assert len(text.encode()) < SHORT


def test_a_string_of_a_megabyte_in_a_field_gets_an_answer_of_a_few_hundred_bytes():
    status, text = send("/visits/codes", "POST", None, {"phone": "1" * 1_000_000})
    assert status == 400 and len(text.encode()) < 600, text
    assert f"at most {http.MAX_BODY_BYTES} bytes" in json.loads(text)["reason"]
    within = {"phone": "1" * (http.MAX_BODY_BYTES - 100)}
    status, text = send("/visits/codes", "POST", None, within)
    refused(status, text, "phone")
    assert "1" * 80 not in text and len(text.encode()) < 1024


def test_the_caller_is_checked_before_the_body(monkeypatch):
    """A signer of another kind of caller is refused as such, whatever it sends."""
    import tests.unit.test_request_schemas as here

    monkeypatch.setattr(here, "holder", lambda *_: "SCJG-001")    # a window clerk
    status, text = send("/hotline/requests", "POST", "department", {})
    assert status == 403 and json.loads(text)["field"] == "Authorization"
    assert "hotline callers" in json.loads(text)["message"]


def test_refusals_take_the_status_the_service_gives_the_same_fault():
    decision = "/department/cases/{case_id}/branches/{branch_id}/decision"
    cases = [
        ("/complaints", "citizen", {"window": 7, "visited_at": "2026-11-20T10:00:00+08:00",
                                    "text": "x"}, 422, "window"),
        ("/complaints", "citizen", {"window": "BZ-A01", "visited_at": "上午十点", "text": "x"},
         400, "visited_at"),
        ("/complaints", "citizen", {"window": "BZ-A01", "visited_at": "2026-11-20T10:00:00",
                                    "text": "x"}, 400, "visited_at"),
        ("/visits/complaints", None, {"window": "BZ-A01", "text": "x", "code": "123456",
                                      "visited_at": "2026-11-20T10:00:00+08:00"}, 400, "phone"),
        ("/visits/complaints", None, {"window": "BZ-A01", "text": "x", "phone": "13955812345",
                                      "code": "12345", "visited_at": "2026-11-20T10:00:00Z"},
         400, "code"),
        (decision, "department", {"decision": "deny", "staff_id": "GA-002"}, 422, "reasons"),
        (decision, "department", {"decision": "deny", "staff_id": "GA-002", "reasons": " no "},
         422, "reasons"),
        (decision, "department", {"decision": "correction", "staff_id": "GA-002",
                                  "materials": []}, 422, "materials"),
        (decision, "department", {"decision": "special_start", "staff_id": "GA-002",
                                  "procedure": "抽签"}, 400, "procedure"),
        (decision, "department", {"decision": "approve", "staff_id": "GA-002",
                                  "fee_yuan": -1}, 400, "fee_yuan"),
        ("/cases/{case_id}/uploads", "citizen", {"filename": "a.pdf"}, 422, "material"),
        ("/cases/{case_id}/uploads", "citizen",
         {"material": "application_form", "filename": "../a.pdf", "content_type": "x/y",
          "size": 1, "sha256": "0" * 64}, 400, "filename"),
        ("/cases/{case_id}/uploads", "citizen",
         {"material": "application_form", "filename": "a.pdf", "content_type": "application/pdf",
          "size": 2 ** 40, "sha256": "0" * 64}, 422, "size"),
        ("/cases/{case_id}/uploads", "citizen",
         {"material": "application_form", "certificate": ["3F9A0C21B7E4D865"]}, 404,
         "certificate"),
        ("/cases/{case_id}/submit", "citizen", {"delivery": {"method": "express"}}, 400,
         "delivery.address"),
        ("/cases/{case_id}/submit", "citizen", {"delivery": {"method": "drone"}}, 400,
         "delivery.method"),
        ("/cases/{case_id}/rating", "citizen", {"level": 3, "dimensions": {"taste": 5}}, 400,
         "dimensions.taste"),
        ("/cases/{case_id}/rating", "citizen", {"level": True}, 400, "level"),
        ("/supervision/orders", "auditor", {"text": "请说明"}, 400, "case_id"),
        ("/supervision/orders", "auditor", {"text": "请说明", "case_id": "C1",
                                            "limit_days": 31}, 400, "limit_days"),
        ("/hotline/requests", "hotline", {"category": "enquiry", "reference": "BZ 1",
                                          "text": "x", "location": "x", "contact": "x"},
         400, "reference"),
        ("/hotline/requests", "hotline", {"category": "enquiry", "reference": "BZ1",
                                          "text": "x", "location": "x", "contact": "x",
                                          "department": "nope"}, 422, "department"),
        ("/department/cases", "department",
         {**example("WalkInRegistration"), "applicant": {"name": " ", "id_number": "1",
                                                         "phone": "13955871234"}},
         400, "applicant.name"),
        ("/cases", "citizen", {"item": "SCJG-001", "hall": "BZ", "form": []}, 422, "form"),
        ("/cases", "citizen", {"item": "SCJG-001", "hall": "BZ",
                               "form": {"a": "x" * 2001}}, 422, "form.a"),
    ]
    for path, role, body, status, field in cases:
        got, text = send(path, "POST", role, body)
        assert (got, json.loads(text)["field"]) == (status, field), (path, body, text)


def test_each_fault_is_listed_when_there_are_several():
    status, text = send("/hotline/requests", "POST", "hotline", {"category": "call"})
    answer = json.loads(text)
    assert status == 400 and answer["field"] == "reference"
    assert {p["field"] for p in answer["problems"]} == {
        "reference", "text", "location", "contact", "category"}


def test_nulls_stand_for_fields_left_out_where_the_service_takes_them_so():
    assert gets_past_the_edge("/consultations", "citizen",
                              {"item": "SCJG-001", "question": "可以吗？", "hall": None})
    assert gets_past_the_edge("/cases/{case_id}/rating", "citizen",
                              {"level": 5, "dimensions": None, "comment": None})
    assert gets_past_the_edge("/cases/{case_id}/submit", "citizen", {"delivery": None})
    assert gets_past_the_edge("/supervision/orders", "auditor",
                              {"text": "请说明", "case_id": None,
                               "card": {"case_id": "C1", "event_id": "0:GA#0#1"}})
