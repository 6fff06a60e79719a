"""The HTTP edge: who is calling (as API Gateway verified it) and what they sent."""
from __future__ import annotations

import json

from ..domain.cases import Caller
from ..domain.errors import Forbidden, InvalidInput

# Signed callers are IAM users whose path says what they are, e.g.
# arn:aws:iam::123456789012:user/approval/department/SCJG
IAM_ROLES = ("department", "agent", "auditor", "hotline")


def caller_of(request, role: str) -> Caller:
    """The verified caller of a route reserved for `role`; anyone else is refused."""
    context = request.context or {}
    if role == "citizen":
        claims = citizen_claims(context)
        id_number = claims.get("custom:id_number")
        if not claims.get("sub") or not id_number:
            raise Forbidden("this account has no verified identity number", field="Authorization")
        phone = claims.get("phone_number", "").removeprefix("+86")
        return Caller("citizen", claims["sub"], id_number=id_number,
                      name=claims.get("name") or claims.get("cognito:username"), phone=phone)
    arn = (context.get("identity") or {}).get("userArn") or ""
    parts = arn.split(":", 5)[-1].split("/")
    if len(parts) >= 4 and parts[0] == "user" and parts[1] == "approval" and parts[2] == role:
        return Caller(role, parts[-1])
    raise Forbidden(f"this endpoint is for {role} keys; the request was signed by "
                    f"{arn or 'an unknown key'}", field="Authorization")


def actor_of(request) -> str:
    """Who called, as verified at the gateway, for the log line of every request."""
    context = request.context or {}
    claims = citizen_claims(context)
    if claims:
        return f"citizen:{claims.get('sub')}"
    arn = (context.get("identity") or {}).get("userArn")
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


def json_object(request) -> dict:
    raw = request.raw_body
    if not raw:
        raise InvalidInput("the request body must be a JSON object", field="body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(f"the request body is not valid JSON: {error}", field="body")
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object", field="body")
    return body


def header(request, name: str) -> str | None:
    return (request.headers or {}).get(name.lower())


def query_int(request, name: str, default: int) -> int:
    value = (request.query_params or {}).get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number", field=name)
