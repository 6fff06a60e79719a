"""The OpenAPI document (openapi.json), served at /openapi.json. It is generated, not written:

    python -m chalicelib.openapi --write     # rebuilds chalicelib/openapi.json
    python -m chalicelib.openapi --check     # fails when the committed file is not current

from the app's routes (paths, methods, path parameters, authorizers as security schemes, the
request body's schema each route names), the JSON Schemas and examples of chalicelib/schemas/
(components, request bodies, responses) and openapi-notes.json, which keeps what cannot be
derived: descriptions, summaries, tags, query and header parameters, and each route's status
codes with their meaning."""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

PATH = Path(__file__).parent / "openapi.json"
NOTES = Path(__file__).parent / "openapi-notes.json"
WRITE = "python -m chalicelib.openapi --write"

# The website's static files share the API's origin but are pages, not API operations.
WEBSITE = {"/", "/web/{name}", "/web/js/{name}", "/web/vendor/{name}"}
METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE")
OPERATION_KEYS = ("operationId", "summary", "description", "tags", "parameters", "requestBody",
                  "responses", "security", "x-caller-role")


@lru_cache(maxsize=1)
def load() -> dict:
    return json.loads(PATH.read_text(encoding="utf-8"))


def render(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generate(app=None) -> dict:
    """The document, from the routes of `app` (app.py's by default), the schema files and the
    notes."""
    from . import schemas

    if app is None:
        import app as app_module

        app = app_module.app
    notes = json.loads(NOTES.read_text(encoding="utf-8"))
    examples = schemas.examples()
    summaries = notes.get("example_summaries", {})
    used: set[str] = set()

    def example_refs(given: dict) -> dict:
        out = {}
        for key, name in given.items():
            if name not in examples:
                raise LookupError(f"no example {name} in {schemas.EXAMPLES}")
            used.add(name)
            out[key] = {"$ref": f"#/components/examples/{name}"}
        return out

    def media(note: dict, schema: str | dict | None = None) -> dict:
        out = {"schema": _schema_expression(note.get("schema", schema))}
        if note.get("examples"):
            out["examples"] = example_refs(note["examples"])
        return out

    def response(note) -> dict:
        if isinstance(note, str):
            return {"$ref": f"#/components/responses/{note}"}
        out = {"description": note["description"]}
        content = {}
        if "schema" in note:
            content["application/json"] = media(note)
        content.update(note.get("content", {}))
        if content:
            out["content"] = content
        return out

    operations = notes["operations"]
    paths: dict = {}
    documented = set()
    for path, methods in app.routes.items():
        if path in WEBSITE:
            continue
        for method in sorted(methods, key=METHODS.index):
            entry = methods[method]
            key = f"{method} {path}"
            if key not in operations:
                raise LookupError(f"{key} is a route of app.py but {NOTES.name} says nothing "
                                  "of it: add its summary, description and responses")
            documented.add(key)
            note = operations[key]
            operation = {"operationId": note.get("operationId", _camel(entry.view_name))}
            for field in ("summary", "description", "tags"):
                operation[field] = note[field]
            parameters = [_path_parameter(name, note, notes) for name in entry.view_args]
            parameters += [{"$ref": f"#/components/parameters/{p}"} if isinstance(p, str)
                           else _rewrite(p) for p in note.get("parameters", [])]
            if parameters:
                operation["parameters"] = parameters
            body = getattr(entry.view_function, "body_schema", None)
            if body:
                request = note.get("request", {})
                operation["requestBody"] = {
                    "required": request.get("required", True),
                    "content": {"application/json": media(request, body)}}
            elif "request" in note:
                raise LookupError(f"{key}: {NOTES.name} describes a request body but the route "
                                  "names no body schema")
            operation["responses"] = {status: response(r)
                                      for status, r in note["responses"].items()}
            if entry.authorizer is not None:
                operation["security"] = [{_scheme(entry.authorizer): []}]
            if "x-caller-role" in note:
                operation["x-caller-role"] = note["x-caller-role"]
            paths.setdefault(path, {})[method.lower()] = operation
    stale = set(operations) - documented
    if stale:
        raise LookupError(f"{NOTES.name} describes routes app.py does not have: {sorted(stale)}")

    components = notes["components"]
    responses = {name: response(r) for name, r in components["responses"].items()}
    unused = set(examples) - used
    if unused:
        raise LookupError(f"examples no operation shows: {sorted(unused)}")
    document = {key: notes[key] for key in ("openapi", "info", "servers", "tags")}
    document["paths"] = paths
    document["components"] = {
        "securitySchemes": components["securitySchemes"],
        "parameters": _rewrite(components["parameters"]),
        "responses": responses,
        "schemas": {name: _component(schemas.load(name)) for name in schemas.names()},
        "examples": {name: {**({"summary": summaries[name]} if name in summaries else {}),
                            "value": examples[name]} for name in sorted(used)},
    }
    return document


def _scheme(authorizer) -> str:
    """The security scheme of an authorizer: sigv4 for IAM, cognito for the citizens' sign-in
    (Cognito's authorizer, or the OpenID Connect one standing in for it in the China regions)."""
    from chalice import IAMAuthorizer

    return "sigv4" if isinstance(authorizer, IAMAuthorizer) else "cognito"


def _path_parameter(name: str, note: dict, notes: dict) -> dict:
    given = note.get("path_parameters", {}).get(name) or notes["path_parameters"].get(name)
    if isinstance(given, str):
        return {"$ref": f"#/components/parameters/{given}"}
    if given is None:
        return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
    return _rewrite(given)


def _schema_expression(expression) -> dict:
    """A schema's name, or a JSON Schema referring to schema files."""
    if isinstance(expression, str):
        return {"$ref": f"#/components/schemas/{expression}"}
    return _rewrite(expression)


def _component(schema: dict) -> dict:
    return _rewrite({k: v for k, v in schema.items() if k != "$schema"})


def _rewrite(node):
    """`{"$ref": "Applicant.json"}` → `{"$ref": "#/components/schemas/Applicant"}`."""
    from .schemas import ref_name

    if isinstance(node, dict):
        return {k: (f"#/components/schemas/{ref_name(v)}"
                    if k == "$ref" and isinstance(v, str) and v.endswith(".json")
                    else _rewrite(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def main(argv: list[str]) -> int:
    if argv not in (["--write"], ["--check"]):
        print(__doc__, file=sys.stderr)
        return 2
    text = render(generate())
    if argv == ["--write"]:
        PATH.write_text(text, encoding="utf-8")
        print(f"wrote {PATH}")
        return 0
    if PATH.read_text(encoding="utf-8") != text:
        print(f"{PATH} is not what the routes, schemas and notes make it; run {WRITE}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
