"""The OpenAPI document (chalicelib/openapi.json, served at /openapi.json) is the one the
generator makes from the routes, the schema files and the notes (python -m chalicelib.openapi
--write); it describes exactly the routes app.py registers, with the security each route really
has, and holds together. Every schema file is a valid JSON Schema and every example fits its
schema; every request schema bounds what it accepts."""
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
    # The signed-in window clerk registers: no staff_id is needed (one naming anyone else: 403).
    assert set(body("/department/cases")["required"]) == {"item", "hall", "applicant", "form"}
    assert set(body("/agent/cases")["required"]) == {"item", "hall", "applicant", "form"}
    assert set(schemas["Applicant"]["required"]) == {"name", "id_number", "phone"}
    for who in ("/cases", "/department/cases", "/agent/cases"):
        upload = body(who + "/{case_id}/uploads")       # as the service: `certificate` decides
        assert upload["if"] == {"required": ["certificate"]}, who
        assert set(deref(document, upload["then"])["required"]) == {"material", "certificate"}
        assert set(deref(document, upload["else"])["required"]) == {
            "material", "filename", "content_type", "size", "sha256"}
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


# -- one definition: the document is generated from the routes, the schemas and the notes ----
def test_the_committed_document_is_the_one_the_generator_makes():
    generated = openapi.generate()
    committed = json.loads(openapi.PATH.read_text(encoding="utf-8"))
    differing = sorted({*generated["paths"], *committed["paths"]}
                       - {p for p in generated["paths"]
                          if generated["paths"][p] == committed["paths"].get(p)})
    differing += [f"components/{k}" for k in {*generated["components"],
                                              *committed["components"]}
                  if generated["components"].get(k) != committed["components"].get(k)]
    assert openapi.render(generated) == openapi.PATH.read_text(encoding="utf-8"), (
        "chalicelib/openapi.json is not what app.py's routes, chalicelib/schemas/ and "
        f"chalicelib/openapi-notes.json make it (differs in {differing[:8]}): run "
        f"`{openapi.WRITE}` and commit the result")


def test_every_route_that_takes_a_body_names_its_schema():
    from chalicelib import schemas

    for (path, method), entry in routes().items():
        named = getattr(entry.view_function, "body_schema", None)
        if method in ("POST", "PUT", "PATCH"):
            assert named in schemas.names(), f"{method} {path}: body={named!r}"
        else:
            assert named is None, f"{method} {path} reads no body"


def test_every_schema_file_is_a_json_schema_referring_only_to_schema_files():
    from jsonschema import Draft202012Validator

    from chalicelib import schemas

    names = schemas.names()
    assert len(names) > 90
    for name in names:
        schema = schemas.load(name)
        assert schema.get("$schema") == schemas.DIALECT, name
        Draft202012Validator.check_schema(schema)
        for where, pointer in refs(schema):
            assert schemas.ref_name(pointer) in names, f"{name}.json{where[1:]}: {pointer}"


def test_every_example_file_fits_its_schema():
    from chalicelib import schemas

    found = schemas.examples()
    assert len(found) > 150
    for name, value in found.items():
        schema = schemas.schema_of(name)
        assert schema in schemas.names(), f"examples/{name}.json: no schema {schema}.json"
        errors = list(schemas.validator(schema).iter_errors(value))
        assert not errors, (f"examples/{name}.json: {errors[0].message[:200]} at "
                            f"{list(errors[0].absolute_path)}")


def request_schemas():
    """The schemas a route's body is checked against, and every schema they refer to."""
    from chalicelib import schemas

    todo = {getattr(e.view_function, "body_schema", None) for e in routes().values()} - {None}
    found = set()
    while todo:
        name = todo.pop()
        found.add(name)
        todo |= {schemas.ref_name(p) for _w, p in refs(schemas.load(name))} - found
    return sorted(found)


def subschemas(node, where=""):
    if isinstance(node, dict):
        yield where or "/", node
        for key, value in node.items():
            if key not in ("examples", "enum", "const", "default", "required", "x-status", "if"):
                yield from subschemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from subschemas(value, f"{where}/{index}")


def test_every_request_has_an_example_and_every_request_schema_is_bounded():
    """Hostile input is refused at the edge: every string a request may carry has a maxLength,
    every array a maxItems, every object a maxProperties (or no other fields than its own),
    every number a minimum and a maximum, every instant a year from 2000 to 2099."""
    from chalicelib import schemas

    bodies = {getattr(e.view_function, "body_schema", None) for e in routes().values()} - {None}
    for name in bodies:
        assert any(schemas.schema_of(e) == name for e in schemas.examples()), name
    for name in request_schemas():
        for where, node in subschemas(schemas.load(name)):
            types = node.get("type")
            types = set(types if isinstance(types, list) else [types] if types else [])
            at = f"{name}.json{where}"
            if "string" in types and "enum" not in node and "const" not in node:
                assert isinstance(node.get("maxLength"), int), f"{at}: a string needs maxLength"
            if "array" in types:
                assert isinstance(node.get("maxItems"), int), f"{at}: an array needs maxItems"
            if "object" in types:
                assert isinstance(node.get("maxProperties"), int) \
                    or node.get("additionalProperties") is False, f"{at}: bound its fields"
            if types & {"number", "integer"}:
                assert "minimum" in node and "maximum" in node, f"{at}: bound the number"
            if node.get("format") == "date-time":
                assert node.get("pattern", "").startswith("^20\\d\\d-"), f"{at}: 2000 to 2099"
    anything = schemas.load("JsonValue")
    assert "type" not in anything and all(
        isinstance(anything.get(k), int) for k in ("maxLength", "maxItems", "maxProperties"))


def test_no_request_pattern_backtracks_without_end_on_a_long_value():
    """A pattern is checked even on a value far over its maxLength (a body may be 256 KiB):
    none takes more than linear time on one."""
    import time

    from chalicelib import schemas
    from chalicelib.adapters.http import MAX_BODY_BYTES

    size = MAX_BODY_BYTES
    probes = [" " * size, "-" * size + "1", "1" + " " * size, "8" * size, "+" * size,
              "1 " * (size // 2), "a" * size + "!", "x" + " " * size, "\t" * size + "0",
              "2026-" * (size // 5)]
    checked = 0
    for name in request_schemas():
        for where, node in subschemas(schemas.load(name)):
            if isinstance(node.get("pattern"), str):
                for probe in probes:
                    started = time.perf_counter()
                    re.search(node["pattern"], probe)
                    spent = time.perf_counter() - started
                    assert spent < 0.25, f"{name}.json{where}: {spent:.2f} s on {probe[:8]!r}…"
                checked += 1
    assert checked > 15


def test_the_catalog_fits_the_request_schemas():
    """What the published guide names (codes, staff, windows, materials) passes the edge, and
    no item's form allows more than a form may carry there (a string or an array the item
    leaves unbounded is bounded there)."""
    from chalicelib import catalog, schemas

    published = catalog.published()

    def fits(schema, value):
        return schemas.validator(schema).is_valid(value)
    assert all(fits("ItemCode", code) for code in published.items)
    assert all(fits("HallCode", code) for code in published.halls)
    assert all(fits("DepartmentCode", code) for code in published.departments)
    base = json.loads((schemas.EXAMPLES / "WalkInRegistration.companySetup.json").read_text())
    complaint = json.loads((schemas.EXAMPLES / "ComplaintRequest.fileComplaint.json").read_text())
    for department in published.departments.values():
        staff = [s for w in department["windows"] for s in w["staff"]]
        for person in staff + [department["chief_representative"]]:
            assert fits("WalkInRegistration", {**base, "staff_id": person["staff_id"]}), person
            assert fits("DecisionRequest", {"decision": "approve",
                                            "staff_id": person["staff_id"]}), person
        for window in department["windows"]:
            assert fits("ComplaintRequest", {**complaint, "window": window["code"]}), window
    anything = schemas.load("JsonValue")
    for item in published.items.values():
        for spec in item["materials"]:
            for content_type in spec["content_types"]:
                assert fits("UploadRequest", {"material": spec["id"], "filename": "a.pdf",
                                              "content_type": content_type,
                                              "size": spec["max_bytes"], "sha256": "0" * 64})
        for where, node in subschemas(item["form"]):     # what it leaves open is bounded
            if node.get("type") == "string":                # at the edge, what it bounds fits
                assert node.get("maxLength", 0) <= anything["maxLength"], (item["code"], where)
            if node.get("type") == "array":
                enum = node.get("items", {}).get("enum", []) if node.get("uniqueItems") else []
                assert max(node.get("maxItems", 0), len(enum)) <= anything["maxItems"], \
                    (item["code"], where)
            if node.get("type") == "object":
                assert len(node.get("properties", {})) <= anything["maxProperties"], item["code"]
        for example in item["form"].get("examples", []):
            assert fits("Form", example), item["code"]
