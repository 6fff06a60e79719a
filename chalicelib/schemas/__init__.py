"""The JSON Schemas (draft 2020-12) of the API's request and response bodies: one file each,
named as the OpenAPI document's components (`CitizenApplication.json`, `Case.json`, …), a
schema refers to another by its file name (`{"$ref": "Applicant.json"}`), and examples lie next
to them (`examples/<Name>.<label>.json`, each validated against <Name>). They are the one
definition of a body: a route names its request's schema (app.py,
`@route(..., body="CitizenApplication")`), the edge checks the body against it before any
service runs (chalicelib/adapters/http.py), and the OpenAPI document is generated from the same
files (chalicelib/openapi.py).

Beyond JSON Schema, a schema says which status a violation is answered with: `"x-status": 422`
for every keyword of that schema, or per keyword (`{"maximum": 422}`); 400 otherwise. The one
nearest to the failing keyword applies, and a missing property is answered with the status its
own schema declares for `required`: the status the service gives the same fault (the services
keep their own checks, as rules of the domain)."""
from __future__ import annotations

import functools
import json
from pathlib import Path

from ..domain.errors import DomainError, FieldProblem, InvalidInput, NotFound, Unprocessable

FOLDER = Path(__file__).parent
EXAMPLES = FOLDER / "examples"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
EXCERPT = 80          # characters of an offending value an answer may quote
MAX_PROBLEMS = 10     # problems listed in one answer
MAX_FIELD = 120       # characters of a field's path named in an answer


def names() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.json"))


@functools.cache
def load(name: str) -> dict:
    path = FOLDER / f"{name}.json"
    if "/" in name or not path.is_file():
        raise LookupError(f"no schema {name!r} in {FOLDER}")
    return json.loads(path.read_text(encoding="utf-8"))


def examples() -> dict[str, object]:
    """Every example, by its name `<Schema>.<label>`."""
    return {p.name.removesuffix(".json"): json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(EXAMPLES.glob("*.json"))}


def schema_of(example: str) -> str:
    """The schema an example is an example of: the first part of its name."""
    return example.split(".", 1)[0]


def ref_name(ref: str) -> str:
    """`Applicant.json` → `Applicant`."""
    if not ref.endswith(".json") or "/" in ref or "#" in ref:
        raise ValueError(f"schemas refer to each other by file name only: {ref!r}")
    return ref.removesuffix(".json")


@functools.cache
def validator(name: str):
    """The compiled validator of a schema, the schema engine loaded on first use only."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    def retrieve(uri: str) -> Resource:
        return Resource(contents=load(ref_name(uri)), specification=DRAFT202012)
    return Draft202012Validator(load(name), registry=Registry(retrieve=retrieve))


# -- refusals ---------------------------------------------------------------------------------
class _Refusal:
    """A body the edge refuses: which field, and why, besides the message."""
    reason: str | None = None

    def to_dict(self) -> dict:
        out = super().to_dict()
        if self.reason:
            out = {k: out[k] for k in ("error", "message", "field") if k in out} \
                | {"reason": self.reason} | out
        return out


class BodyInvalid(_Refusal, InvalidInput):
    pass


class BodyNotFound(_Refusal, NotFound):
    pass


class BodyUnprocessable(_Refusal, Unprocessable):
    pass


REFUSALS = {400: BodyInvalid, 404: BodyNotFound, 422: BodyUnprocessable}


def refused(status: int, field: str, reason: str, message: str | None = None,
            problems: list[FieldProblem] | None = None) -> DomainError:
    error = REFUSALS[status](message or f"{field} {reason}", field=field,
                             problems=problems or [])
    error.reason = reason
    return error


def check(name: str, body: object) -> None:
    """Raises the refusal of a body that breaks schema `name`: 400 (or the status the schema
    declares) naming the first field at fault and why, every problem listed when several."""
    problems: list[tuple[str, str, int, str]] = []
    seen = set()
    for error in validator(name).iter_errors(body):
        for found in _problems(name, _closest(error)):
            if found[:2] not in seen:
                seen.add(found[:2])
                problems.append(found)
        if len(problems) >= MAX_PROBLEMS:
            break
    if not problems:
        return
    field, reason, status, got = problems[0]
    listed = [FieldProblem(f, r) for f, r, _s, _g in problems[:MAX_PROBLEMS]] \
        if len(problems) > 1 else []
    raise refused(status, field, reason, f"{field} {reason}{got}", listed)


def check_parameter(name: str, schema: dict, value: object) -> None:
    """Raises the 400 of a query parameter outside its documented schema (the OpenAPI
    document's form: `#/components/schemas/X` is the schema file X.json), naming it and why."""
    error = next(iter(_parameter_validator(json.dumps(schema, sort_keys=True)).iter_errors(value)),
                 None)
    if error is not None:
        reason = _reason(error)
        raise refused(400, name, reason, f"{name} {reason}{_got(value)}")


@functools.lru_cache(maxsize=256)
def _parameter_validator(text: str):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    def as_files(node):
        if isinstance(node, dict):
            return {k: (v.removeprefix("#/components/schemas/") + ".json"
                        if k == "$ref" and isinstance(v, str) else as_files(v))
                    for k, v in node.items()}
        return [as_files(v) for v in node] if isinstance(node, list) else node

    def retrieve(uri: str) -> Resource:
        return Resource(contents=load(ref_name(uri)), specification=DRAFT202012)
    return Draft202012Validator(as_files(json.loads(text)), registry=Registry(retrieve=retrieve))


def _closest(error):
    """Of a value that fits none of the forms a field takes (anyOf, oneOf), the fault within
    the form it came closest to: one it has the type of. Unchanged when it has none's type."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        deeper = [e for e in error.context if e.validator != "type" or e.relative_path]
        if not deeper:
            break
        error = deeper[0]
    return error


def _problems(name: str, error) -> list[tuple[str, str, int, str]]:
    path = list(error.absolute_path)
    keyword = error.validator
    if keyword == "required":
        return [(_field(path + [missing]), "is required",
                 _status(name, error, missing=missing), "")
                for missing in error.validator_value
                if isinstance(error.instance, dict) and missing not in error.instance]
    if keyword in ("additionalProperties", "unevaluatedProperties") \
            and isinstance(error.instance, dict) and error.validator_value is False:
        known = set(error.schema.get("properties", {}))
        return [(_field(path + [extra]), "is not a field of this body", _status(name, error), "")
                for extra in error.instance if extra not in known][:MAX_PROBLEMS]
    return [(_field(path), _reason(error), _status(name, error), _got(error.instance))]


def _field(path: list) -> str:
    if not path:
        return "body"
    parts = [str(p) if len(str(p)) <= 40 else str(p)[:40] + "…" for p in path]
    field = ".".join(parts)
    return field if len(field) <= MAX_FIELD else field[:MAX_FIELD] + "…"


def excerpt(value: object) -> str:
    """At most EXCERPT characters of a value, to quote it back safely."""
    if isinstance(value, dict):
        return f"an object of {len(value)} field{'s' * (len(value) != 1)}"
    if isinstance(value, list):
        return f"an array of {len(value)} item{'s' * (len(value) != 1)}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


def _got(value: object) -> str:
    return f"; got {excerpt(value)}"


JSON_TYPES = {"string": "a string", "integer": "a whole number", "number": "a number",
              "boolean": "true or false", "object": "an object", "array": "an array",
              "null": "null"}


def _reason(error) -> str:
    keyword, value, instance = error.validator, error.validator_value, error.instance
    if keyword == "type":
        wanted = value if isinstance(value, list) else [value]
        return "must be " + " or ".join(JSON_TYPES.get(t, t) for t in wanted)
    if keyword == "minLength":
        return "must not be empty" if value == 1 else f"must have at least {value} characters"
    if keyword == "maxLength":
        return f"must have at most {value} characters (it has {len(instance)})"
    if keyword == "pattern":
        if value == "\\S":
            return "must not be blank"
        described = error.schema.get("description")
        if described and len(described) <= 160:
            return f"is not in the expected form: {described}"
        return f"must match {value}" if len(value) <= 80 else "is not in the expected form"
    if keyword == "enum":
        shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in value[:12])
        return f"must be one of {shown}" + (", …" if len(value) > 12 else "")
    if keyword == "const":
        return f"must be {json.dumps(value, ensure_ascii=False)}"
    limits = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
              "exclusiveMaximum": "less than"}
    if keyword in limits:
        return f"must be {limits[keyword]} {value}"
    counts = {"minItems": ("at least", "items"), "maxItems": ("at most", "items"),
              "minProperties": ("at least", "fields"), "maxProperties": ("at most", "fields")}
    if keyword in counts:
        bound, what = counts[keyword]
        return f"must have {bound} {value} {what} (it has {len(instance)})"
    if keyword == "uniqueItems":
        return "must not list the same item twice"
    if keyword == "multipleOf":
        return f"must be a multiple of {value}"
    if keyword == "format":
        return f"must be a {value}"
    if keyword == "propertyNames":
        return "has a field name that is not allowed"
    if keyword in ("anyOf", "oneOf"):
        types = [t for e in error.context if e.validator == "type"
                 for t in (e.validator_value if isinstance(e.validator_value, list)
                           else [e.validator_value])]
        if types and len(types) == len(error.context):
            return "must be " + " or ".join(JSON_TYPES.get(t, t) for t in dict.fromkeys(types))
        return "does not match any of the forms this field takes"
    if keyword in ("not", False):
        described = error.schema.get("description") if isinstance(error.schema, dict) else None
        if described and len(described) <= 160:
            return f"is not allowed here: {described}"
        return "is not allowed here"
    return f"is not valid ({keyword})"


def _status(name: str, error, missing: str | None = None) -> int:
    """The status the schemas declare for this fault: the nearest x-status on the way from the
    root schema to the failing keyword (following references)."""
    keyword = "required" if missing is not None else error.validator
    node: object = load(name)
    status = _declared(node, keyword, 400)
    for part in list(error.absolute_schema_path)[:-1]:
        while isinstance(node, dict) and part not in node and "$ref" in node:
            node = load(ref_name(node["$ref"]))
            status = _declared(node, keyword, status)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
        status = _declared(node, keyword, status)
    last = error.absolute_schema_path[-1] if error.absolute_schema_path else None
    while isinstance(node, dict) and last not in node and "$ref" in node:
        node = load(ref_name(node["$ref"]))
        status = _declared(node, keyword, status)
    if missing is not None and isinstance(node, dict):
        prop = node.get("properties", {}).get(missing)
        while isinstance(prop, dict):
            status = _declared(prop, "required", status)
            prop = load(ref_name(prop["$ref"])) if "$ref" in prop else None
    return status


def _declared(node, keyword: str, status: int) -> int:
    declared = node.get("x-status") if isinstance(node, dict) else None
    if isinstance(declared, int):
        return declared
    if isinstance(declared, dict) and isinstance(declared.get(keyword), int):
        return declared[keyword]
    return status
