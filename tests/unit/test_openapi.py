"""The OpenAPI document (chalicelib/openapi.json, served at /openapi.json) describes exactly the
routes app.py registers, with the security each route really has, and holds together."""
import json
import re

import pytest
from chalice import CognitoUserPoolAuthorizer, IAMAuthorizer

import app as app_module
from chalicelib import openapi

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
SCHEME_OF = {CognitoUserPoolAuthorizer: "cognito", IAMAuthorizer: "sigv4"}


@pytest.fixture(scope="module")
def document():
    return json.loads(openapi.PATH.read_text(encoding="utf-8"))


# The website's static files share the API's origin but are pages, not API operations.
WEBSITE = {"/", "/web/{name}", "/web/js/{name}", "/web/vendor/{name}"}


def routes():
    """(path, METHOD) → RouteEntry, for every API route of the app."""
    return {(path, method): entry for path, methods in app_module.app.routes.items()
            for method, entry in methods.items() if path not in WEBSITE}


def operations(document):
    return {(path, method.upper()): operation for path, item in document["paths"].items()
            for method, operation in item.items() if method in METHODS}


def resolve(document, pointer):
    assert pointer.startswith("#/"), f"only local references are used: {pointer}"
    node = document
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{pointer} does not resolve"
        node = node[part]
    return node


def deref(document, node):
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(document, node["$ref"])
    return node


def refs(node, where="#"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from refs(value, f"{where}/{index}")


def test_the_document_parses_and_is_the_one_served(document):
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Approval API"
    assert document["info"]["version"] == "1.0.0"
    assert document["servers"] == [{"url": "http://127.0.0.1:8000",
                                    "description": document["servers"][0].get("description")}] \
        or document["servers"] == [{"url": "http://127.0.0.1:8000"}]
    assert openapi.load() == document


def test_the_document_is_valid_openapi_3_1(document):
    import openapi_spec_validator as validator
    validator.validate(document)


def test_every_route_of_the_app_is_documented():
    documented = set(operations(json.loads(openapi.PATH.read_text(encoding="utf-8"))))
    missing = set(routes()) - documented
    assert not missing, f"routes of app.py missing from openapi.json: {sorted(missing)}"


def test_every_documented_operation_is_a_route_of_the_app(document):
    extra = set(operations(document)) - set(routes())
    assert not extra, f"openapi.json documents routes app.py does not have: {sorted(extra)}"


def test_each_route_declares_the_security_scheme_of_its_authorizer(document):
    documented = operations(document)
    for (path, method), entry in routes().items():
        declared = documented[(path, method)].get("security")
        if entry.authorizer is None:
            assert not declared, f"{method} {path} is public but declares {declared}"
            continue
        scheme = SCHEME_OF[type(entry.authorizer)]
        assert declared == [{scheme: []}], f"{method} {path} should declare {scheme}"


def test_no_security_applies_by_default(document):
    assert not document.get("security"), "public routes would inherit a top-level security"


def test_security_schemes_are_described(document):
    schemes = document["components"]["securitySchemes"]
    for name in ("cognito", "sigv4"):
        assert schemes[name]["type"] == "apiKey"
        assert schemes[name]["in"] == "header" and schemes[name]["name"] == "Authorization"
        assert schemes[name]["description"]
    assert "ID token" in schemes["cognito"]["description"]
    assert "AWS Signature Version 4, service execute-api" in schemes["sigv4"]["description"]


def test_every_ref_resolves(document):
    found = list(refs(document))
    assert found
    for where, pointer in found:
        assert resolve(document, pointer) is not None, f"{where}: {pointer}"


def test_path_parameters_match_the_views(document):
    documented = operations(document)
    for (path, method), entry in routes().items():
        params = [deref(document, p) for p in documented[(path, method)].get("parameters", [])]
        in_path = sorted(p["name"] for p in params if p["in"] == "path")
        assert in_path == sorted(re.findall(r"{(\w+)}", path)) == sorted(entry.view_args), \
            f"{method} {path}"
        assert all(p["required"] for p in params if p["in"] == "path")


def idempotency_key(document, operation):
    for parameter in operation.get("parameters", []):
        parameter = deref(document, parameter)
        if parameter["in"] == "header" and parameter["name"] == "Idempotency-Key":
            return parameter
    return None


def test_idempotency_key_is_required_where_the_service_requires_it(document):
    for (path, method), operation in operations(document).items():
        key = idempotency_key(document, operation)
        if path.endswith(("/submit", "/decision", "/corrections")) \
                or path in ("/department/cases", "/agent/cases"):
            assert key and key["required"] is True, f"{method} {path}"
        elif (path, method) in {("/cases", "POST"), ("/supervision/orders", "POST"),
                                ("/complaints", "POST"), ("/visits/complaints", "POST"),
                                ("/consultations", "POST")}:
            assert key and key["required"] is False, f"{method} {path}"
        else:
            assert key is None, f"{method} {path} does not read an Idempotency-Key"
    schema = idempotency_key(document, document["paths"]["/cases/{case_id}/submit"]["post"])
    assert (schema["schema"]["minLength"], schema["schema"]["maxLength"]) == (8, 128)


def test_errors_share_one_schema(document):
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "message"}
    assert {"error", "message", "field", "problems"} <= set(error["properties"])
    problem = deref(document, error["properties"]["problems"]["items"])
    assert set(problem["required"]) == {"field", "reason"} and "title" in problem["properties"]
    gateway = document["components"]["schemas"]["GatewayError"]
    assert gateway["required"] == ["message"]
    for (path, method), operation in operations(document).items():
        for status, response in operation["responses"].items():
            if status in ("400", "404", "409", "422"):
                schema = deref(document, response)["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{method} {path} {status}"


def test_signed_routes_refuse_with_403_and_citizen_routes_with_401(document):
    for (path, method), operation in operations(document).items():
        security = operation.get("security") or []
        if security == [{"cognito": []}]:
            assert {"401", "403"} <= set(operation["responses"]), f"{method} {path}"
        elif security == [{"sigv4": []}]:
            assert "403" in operation["responses"], f"{method} {path}"


def test_every_operation_has_a_bilingual_summary_and_a_success_answer(document):
    for (path, method), operation in operations(document).items():
        zh, _, en = operation["summary"].partition(" / ")
        assert re.search(r"[\u4e00-\u9fff]", zh) and re.search(r"[A-Za-z]", en), \
            f"{method} {path}: {operation['summary']!r}"
        assert any(status.startswith("2") for status in operation["responses"]), f"{method} {path}"


def test_request_bodies_name_the_fields_the_code_reads(document):
    schemas = document["components"]["schemas"]

    def body(path, method="post"):
        return deref(document, document["paths"][path][method]["requestBody"]["content"]
                     ["application/json"]["schema"])

    assert set(body("/cases")["required"]) == {"item", "hall", "form"}
    assert set(body("/department/cases")["required"]) == {"item", "hall", "staff_id",
                                                          "applicant", "form"}
    assert set(body("/agent/cases")["required"]) == {"item", "hall", "applicant", "form"}
    assert set(schemas["Applicant"]["required"]) == {"name", "id_number", "phone"}
    announce, attach = body("/cases/{case_id}/uploads")["oneOf"]
    assert set(deref(document, announce)["required"]) == {
        "material", "filename", "content_type", "size", "sha256"}
    assert set(deref(document, attach)["required"]) == {"material", "certificate"}
    assert set(body("/cases/{case_id}/submit")["properties"]) == {"delivery"}
    assert document["paths"]["/cases/{case_id}/submit"]["post"]["requestBody"]["required"] is False
    ticket = schemas["UploadTicket"]
    assert set(ticket["required"]) == {"material", "key", "method", "url", "expires_in",
                                       "headers"}
    assert set(ticket["properties"]["headers"]["required"]) == {
        "Content-Type", "Content-Length", "x-amz-checksum-sha256"}


def examples(document):
    """(where, schema, example) for every example given next to a schema."""
    for (path, method), operation in operations(document).items():
        media = []
        if "requestBody" in operation:
            media.append(("request", operation["requestBody"]["content"]["application/json"]))
        for status, response in operation["responses"].items():
            content = deref(document, response).get("content", {}).get("application/json")
            if content:
                media.append((status, content))
        for label, content in media:
            given = [content["example"]] if "example" in content else []
            given += [deref(document, e)["value"] for e in content.get("examples", {}).values()]
            for example in given:
                yield f"{method} {path} {label}", content["schema"], example


def test_the_examples_match_their_schemas(document):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    base = "urn:approval:openapi"
    registry = Registry().with_resource(base, Resource(contents=document,
                                                       specification=DRAFT202012))
    checked = 0
    for where, schema, example in examples(document):
        anchored = json.loads(json.dumps(schema).replace('"#/', f'"{base}#/'))
        errors = list(Draft202012Validator(anchored, registry=registry).iter_errors(example))
        assert not errors, f"{where}: {errors[0].message} at {list(errors[0].absolute_path)}"
        checked += 1
    assert checked > 20


def test_the_website_serves_its_own_files_and_nothing_else():
    from chalice.test import Client

    with Client(app_module.app) as client:
        page = client.http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
        script = client.http.get("/web/js/app.mjs")
        assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
        for path in ("/web/js/..%2F..%2F..%2Fapp.py", "/web/.env", "/web/vendor/missing.js",
                     "/web/js/app.py", "/web/index.htm"):
            refused = client.http.get(path)
            assert refused.status_code == 404, path
            assert json.loads(refused.body)["field"] == "path"
