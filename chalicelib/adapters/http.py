"""The HTTP edge: who is calling (as API Gateway verified it) and what they sent."""
from __future__ import annotations

import json
import math
from contextvars import ContextVar

from ..domain.cases import Caller
from ..domain.errors import Forbidden, InvalidInput

# Signed callers: staff members with their identity-pool credentials, systems with their keys
# (chalicelib/adapters/identity.py); what each may do: chalicelib/domain/rights.py.
IAM_ROLES = ("department", "agent", "auditor", "hotline")


# What a citizen without a verified identity number is told on every route but the real-name
# step and their (empty) list of cases.
REAL_NAME_FIRST = ("this account has no verified identity number yet: complete the real-name "
                   "step first (POST /me/real-name with the name and identity number on your "
                   "identity card)")


def caller_of(request, role: str, verified: bool = True) -> Caller:
    """The verified caller of a route reserved for `role`; anyone else is refused. A citizen's
    identity number is the one the real-name step set (custom:id_number, which the citizen's
    app client cannot write) or the identity provider verified; `verified=False` lets an
    account without one through (its Caller has no id_number)."""
    context = request.context or {}
    if role == "citizen":
        claims = citizen_claims(context)
        id_number = claims.get("custom:id_number")
        if not claims.get("sub"):
            raise Forbidden("no signed-in citizen account", field="Authorization")
        if not id_number and verified:
            raise Forbidden(REAL_NAME_FIRST, field="Authorization")
        phone = claims.get("phone_number", "").removeprefix("+86")
        return Caller("citizen", claims["sub"], id_number=id_number or None,
                      name=claims.get("name") or claims.get("cognito:username"), phone=phone)
    return signed_caller_of(request, role)


def signed_caller_of(request, role: str) -> Caller:
    """A signed route's caller: the staff member or system account the signature is from
    (chalicelib/adapters/identity.py), of the kind the route is for and holding the right it
    needs (chalicelib/domain/rights.py); 403 naming what is missing otherwise."""
    from .. import bootstrap
    from ..domain import rights
    from ..logs import logger

    context = request.context or {}
    caller = bootstrap.staff_sign_ins().caller(context, bootstrap.catalog())
    logger.thread_safe_append_keys(actor=caller.actor)
    method, path = context.get("httpMethod") or request.method, context.get("resourcePath") or ""
    if caller.role != role:
        raise rights.MissingRight(f"this endpoint is for {role} callers; the request was signed "
                                  f"by {rights.who(caller)}, a {caller.role} caller",
                                  rights.route_label(method, path))
    rights.check_route(caller, method, path)
    return caller


def staff_of(request) -> Caller:
    """The signed-in staff member of a route for every staff role (their own record, their own
    archive); a system account is refused: it is nobody's workstation."""
    from .. import bootstrap
    from ..domain import rights
    from ..logs import logger

    context = request.context or {}
    caller = bootstrap.staff_sign_ins().caller(context, bootstrap.catalog())
    logger.thread_safe_append_keys(actor=caller.actor)
    rights.check_route(caller, context.get("httpMethod") or request.method,
                       context.get("resourcePath") or "")
    rights.acting_staff(caller)
    return caller


def citizen_username(request) -> str:
    """What the signed-in citizen's account signs in with (Cognito's `cognito:username`)."""
    return citizen_claims((request.context or {})).get("cognito:username") or ""


def actor_of(request) -> str:
    """Who called, as verified at the gateway, for the log line of every request."""
    context = request.context or {}
    claims = citizen_claims(context)
    if claims:
        return f"citizen:{claims.get('sub')}"
    identity = context.get("identity") or {}
    if identity.get("cognitoIdentityId"):   # named as the person once their sign-in is read
        return f"sign-in:{identity['cognitoIdentityId']}"
    arn = identity.get("userArn")
    if arn:
        parts = arn.split(":", 5)[-1].split("/")
        return f"{parts[-2]}:{parts[-1]}" if len(parts) >= 3 else arn
    return "public"


def citizen_claims(context: dict) -> dict:
    """A signed-in citizen's claims in Cognito's names, whichever authorizer verified them:
    Cognito's (requestContext.authorizer.claims) or the OpenID Connect Lambda authorizer
    (requestContext.authorizer carries its context, chalicelib/adapters/oidc.py)."""
    authorizer = context.get("authorizer") or {}
    claims = authorizer.get("claims")
    if isinstance(claims, dict):
        return claims
    if authorizer.get("sign_in") == "oidc" and authorizer.get("sub"):
        named = {"sub": authorizer["sub"], "custom:id_number": authorizer.get("id_number"),
                 "name": authorizer.get("name"), "phone_number": authorizer.get("phone_number")}
        return {k: v for k, v in named.items() if v}
    return {}


# What a request body may be at most, whatever the route: checked before the body is parsed,
# so that no hostile body costs more than reading it once.
MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 32                 # objects and arrays nested in one another
PARSER_SAYS = 120              # characters of the parser's own complaint passed on

# The schema of the body the route answering now expects (chalicelib/schemas/<name>.json),
# set by app.route for the time of the request.
BODY_SCHEMA: ContextVar[str | None] = ContextVar("body_schema", default=None)


def json_object(request, schema: str | None = None) -> dict:
    """The request's body: a JSON object within the bounds, checked against the route's schema
    (or `schema`) before any service sees it. A refusal is a 4xx naming the field and why, and
    quotes no more than a short excerpt of what was sent."""
    from ..schemas import check, refused

    raw = request.raw_body
    if not raw:
        raise refused(400, "body", "must be a JSON object",
                      "the request body must be a JSON object")
    if len(raw) > MAX_BODY_BYTES:
        raise refused(400, "body", f"must be at most {MAX_BODY_BYTES} bytes (it has {len(raw)})",
                      f"the request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        _check_depth(text)
        body = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except _TooDeep:
        raise refused(400, "body", f"nests objects and arrays more than {MAX_DEPTH} deep",
                      f"the request body nests objects and arrays more than {MAX_DEPTH} deep")
    except _NotFinite as error:
        raise refused(400, "body", f"has a number JSON does not allow: {error}",
                      f"the request body is not valid JSON: {error} is not a finite number")
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        said = str(error)[:PARSER_SAYS]
        raise refused(400, "body", "is not valid JSON",
                      f"the request body is not valid JSON: {said}")
    if not isinstance(body, dict):
        raise refused(400, "body", "must be a JSON object",
                      "the request body must be a JSON object")
    expected = schema or BODY_SCHEMA.get()
    if expected:
        check(expected, body)
    return body


class _TooDeep(Exception):
    pass


class _NotFinite(ValueError):
    pass


def _no_constant(name: str):
    raise _NotFinite(name)          # NaN, Infinity, -Infinity: not JSON numbers


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite(text[:20] + ("…" if len(text) > 20 else ""))
    return value


def _check_depth(text: str) -> None:
    """Refuses nesting deeper than MAX_DEPTH before the parser would recurse into it (strings
    skipped: a bracket inside one nests nothing)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    import re

    depth = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _TooDeep()
        elif char in "]}":
            depth -= 1


def paged(request, caller: Caller, answer) -> dict:
    """A list route's answer, one page: `limit` (default 50, at most 200) and `cursor` (the
    previous page's next_cursor) are read from the query, the cursor opened against what the
    list is asked for now (the route, its path, the caller, every other query parameter; 400
    naming `cursor` otherwise), `answer(filters, page)` run, and the position it answers as
    `next_cursor` sealed again (null on the last page)."""
    from .. import bootstrap
    from ..domain.pages import Page, limit_of

    filters = dict(request.query_params or {})
    limit = limit_of(filters.pop("limit", None))
    cursor = filters.pop("cursor", None)
    context = request.context or {}
    scope = {"route": context.get("resourcePath") or "", "path": dict(request.uri_params or {}),
             "caller": [caller.role, caller.principal, caller.actor], "filters": filters}
    start = bootstrap.cursors().open(cursor, scope) if cursor else None
    body = answer(filters, Page(limit, start))
    following = body.get("next_cursor")
    body["next_cursor"] = bootstrap.cursors().seal(following, scope) if following else None
    return body


def check_query(request, path: str) -> None:
    """The query's text parameters checked against the schemas the API description documents
    for the route (chalicelib/openapi.json) before any service runs: a value outside its
    schema, an empty one included (unless the description allows it empty), is a 400 naming
    the parameter and why. Whole numbers (limit, page) are read, and refused, by the routes."""
    given = request.query_params or {}
    if not given:
        return
    from .. import openapi
    from ..schemas import check_parameter

    operation = openapi.load()["paths"].get(path, {}).get(request.method.lower(), {})
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = openapi.load()["components"]["parameters"][
                parameter["$ref"].rsplit("/", 1)[-1]]
        schema = parameter.get("schema", {})
        value = given.get(parameter["name"])
        if parameter.get("in") != "query" or value is None or schema.get("type") == "integer" \
                or (value == "" and parameter.get("allowEmptyValue")):
            continue
        check_parameter(parameter["name"], schema, value)


def header(request, name: str) -> str | None:
    return (request.headers or {}).get(name.lower())


def idempotency_key(request) -> str | None:
    """The request's Idempotency-Key, or None when it sends none. One that is sent must be a
    key: an empty or malformed one is refused, never taken as no key (which would make a retry
    a second order, complaint or question)."""
    from .idempotency import KEY

    value = header(request, "Idempotency-Key")
    if value is not None and not KEY.match(value):
        raise InvalidInput("Idempotency-Key must be 8 to 128 visible ASCII characters (a new "
                           "UUID per request, sent again unchanged with its retries)",
                           field="Idempotency-Key")
    return value


def query_int(request, name: str, default: int) -> int:
    value = (request.query_params or {}).get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number", field=name)
