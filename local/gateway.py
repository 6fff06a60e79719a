"""The local API Gateway: Chalice's local server with the checks `chalice local` leaves out.
A citizen route needs a Cognito ID token whose signature, expiry, issuer and audience hold
against the local user pool's keys; a signed route needs a valid, fresh SigV4 signature by a
known key: a system's key, or a staff member's temporary credentials from the staff identity pool
while they are valid, whose role must allow execute-api:Invoke on the method. What passes is
handed to the app in the same request context API Gateway builds (for a staff member, the
identity pool's fields: cognitoIdentityPoolId, cognitoIdentityId, cognitoAuthenticationType and
cognitoAuthenticationProvider). A signature covers the body that arrived, as API Gateway hashes
it (local/sigv4.py); the ID tokens verify against the stack's own pool key (local/pool_key.py),
which the pools' JWKS publishes. Requests are framed as API Gateway frames them, with room for
many clients at once (local/framing.py)."""
from __future__ import annotations

import functools
import json
import logging
import time
from http.server import BaseHTTPRequestHandler

from chalice.app import CognitoUserPoolAuthorizer, IAMAuthorizer
from chalice.config import Config
from chalice.local import (ChaliceRequestHandler, CustomLocalChalice, ForbiddenError,
                           LocalChalice, LocalDevServer, LocalGateway, LocalGatewayAuthorizer,
                           NotAuthorizedError)

from .framing import StrictFraming, ThreadingServer
from .sigv4 import Key, SignatureRefused, verify_request

log = logging.getLogger("approval.gateway")
API_PAYLOAD_BYTES = 10 * 1024 * 1024        # API Gateway's payload quota (413 beyond it)


class Identity:
    """What the gateway trusts: the citizen pool's keys and the issued SigV4 keys."""

    def __init__(self, region: str, aws_endpoint: str, user_pool_id: str, client_id: str,
                 keys: dict[str, Key]):
        import jwt

        self.region = region
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.keys = keys
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self._jwks = jwt.PyJWKClient(f"{aws_endpoint}/{user_pool_id}/.well-known/jwks.json",
                                     cache_keys=True)

    def claims(self, authorization: str | None) -> dict:
        import jwt

        if not authorization:
            raise NotAuthorizedError({"x-amzn-ErrorType": "UnauthorizedException"},
                                     b'{"message":"Unauthorized"}')
        token = authorization.removeprefix("Bearer ").strip()
        try:
            key = self._jwks.get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=self.client_id,
                                issuer=self.issuer, options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise _unauthorized("The incoming token has expired")
        except (jwt.PyJWTError, jwt.PyJWKClientError) as error:
            raise _unauthorized(f"Unauthorized: {error}")
        if claims.get("token_use") != "id":
            raise _unauthorized("Unauthorized: an ID token is required")
        return {k: str(v) for k, v in claims.items()}

    def signer(self, method: str, url: str, headers: dict, body: bytes | None) -> Key:
        try:
            return verify_request(method, url, headers, body,
                                  lambda key_id: self.key(key_id, headers), self.region)
        except SignatureRefused as refused:
            # The line API Gateway's access log writes for it (infra/build.py,
            # ACCESS_LOG_FORMAT), so the auditors' query reads the same fields here.
            from datetime import datetime, timezone
            from urllib.parse import urlsplit

            credential = headers.get("authorization") or headers.get("Authorization") or ""
            key_id = credential.split("Credential=", 1)[-1].split("/", 1)[0] \
                if "Credential=" in credential else "unsigned"
            log.warning(json.dumps({
                "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
                + "+0000", "source": "gateway", "status": 403, "method": method,
                "route": urlsplit(url).path, "actor": key_id, "error": refused.message}))
            raise ForbiddenError({"x-amzn-ErrorType": "AccessDeniedException"},
                                 json.dumps({"message": refused.message}).encode())


    def key(self, access_key_id: str, headers: dict) -> Key | None:
        """A system's key, or a staff member's temporary credentials from the staff identity
        pool while they are valid and presented with their session token (local/identity_pool.py);
        None for a key nobody issued."""
        found = self.keys.get(access_key_id)
        if found is not None:
            return found
        from . import identity_pool

        issued = identity_pool.issued(access_key_id)
        if issued is None:
            return None
        token = {k.lower(): v for k, v in headers.items()}.get("x-amz-security-token")
        if token != issued.session_token:
            raise SignatureRefused("The security token included in the request is invalid.")
        if issued.expires <= time.time():
            raise SignatureRefused("The security token included in the request is expired")
        return Key(issued.access_key_id, issued.secret_access_key, issued.assumed_role_arn,
                   issued.session_token)

    def staff_identity(self, key: Key, method: str, path: str) -> dict | None:
        """requestContext.identity's Cognito fields for a staff member's credentials, once IAM
        allows their role to invoke the method (as API Gateway's IAM authorization does)."""
        from . import identity_pool
        from .staff import may_invoke, method_arn
        from .provision import ACCOUNT

        issued = identity_pool.issued(key.access_key_id)
        if issued is None or key.session_token is None:
            return None
        if not may_invoke(issued, self.region, ACCOUNT, method, path):
            message = (f"User: {issued.assumed_role_arn} is not authorized to perform: "
                       f"execute-api:Invoke on resource: "
                       f"{method_arn(self.region, ACCOUNT, method, path)}")
            log.warning(json.dumps({"source": "gateway", "status": 403, "method": method,
                                    "route": path, "actor": key.access_key_id,
                                    "error": message}))
            raise ForbiddenError({"x-amzn-ErrorType": "AccessDeniedException"},
                                 json.dumps({"message": message}).encode())
        return {"cognitoIdentityPoolId": issued.pool, "cognitoIdentityId": issued.identity_id,
                "cognitoAuthenticationType": "authenticated",
                "cognitoAuthenticationProvider": issued.authentication_provider,
                "caller": f"{issued.role_arn.rsplit('/', 1)[-1]}:{identity_pool.SESSION}",
                "user": f"{issued.role_arn.rsplit('/', 1)[-1]}:{identity_pool.SESSION}"}


def _unauthorized(message: str) -> NotAuthorizedError:
    return NotAuthorizedError({"x-amzn-ErrorType": "UnauthorizedException"},
                              json.dumps({"message": message}).encode())


class StrictAuthorizer(LocalGatewayAuthorizer):
    def __init__(self, app_object, identity: Identity):
        super().__init__(app_object)
        self.identity = identity

    def authorize(self, raw_path, lambda_event, lambda_context):
        from .throttle import admit   # the stage's throttling first, as API Gateway's
        admit(self._app_object, lambda_event["requestContext"]["resourcePath"],
              lambda_event["requestContext"]["httpMethod"])
        route = self._route_for_event(lambda_event)
        authorizer = route.authorizer if route else None
        if authorizer is None:
            return lambda_event, lambda_context
        headers = lambda_event["headers"]
        context = lambda_event["requestContext"]
        if isinstance(authorizer, CognitoUserPoolAuthorizer):
            context["authorizer"] = {"claims": self.identity.claims(headers.get("authorization"))}
        elif isinstance(authorizer, IAMAuthorizer):
            body = lambda_event.get("body")
            if lambda_event.get("isBase64Encoded"):
                import base64
                body = base64.b64decode(body)
            elif isinstance(body, str):
                body = body.encode("utf-8")
            url = f"http://{headers.get('host', 'localhost')}{raw_path}"
            key = self.identity.signer(context["httpMethod"], url, headers, body)
            context["identity"].update({"accessKey": key.access_key_id, "userArn": key.arn,
                                        "caller": key.access_key_id,
                                        "user": key.arn.rsplit("/", 1)[-1]})
            staff = self.identity.staff_identity(key, context["httpMethod"],
                                                 raw_path.split("?", 1)[0])
            if staff:
                context["identity"].update(staff)
        else:
            raise ForbiddenError({}, b'{"message":"authorizer not supported locally"}')
        return lambda_event, lambda_context


class GatewayHandler(StrictFraming, ChaliceRequestHandler):
    largest_body = API_PAYLOAD_BYTES

    def __init__(self, request, client_address, server, app_object, config, identity):
        self.local_gateway = LocalGateway(app_object, config)
        self.local_gateway._authorizer = StrictAuthorizer(app_object, identity)
        from .runtime import acting_as

        with acting_as("APIHandler"):      # the API function's role signs what the app calls
            BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def _parse_payload(self):
        """The body StrictFraming read, as its framing declared it."""
        return dict(self.headers), (self.body or None)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug(format, *args)


def create_server(app_object, identity: Identity, host: str, port: int) -> LocalDevServer:
    """Chalice's local server (threaded, one current request per thread) with strict checks."""
    if not isinstance(app_object, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app_object.__class__)
        app_object.__class__ = CustomLocalChalice
    from .dispatcher import function_timeout_seconds

    # Each request's Lambda context counts down from the function's own timeout, as in Lambda
    # (a request's idempotency record expires with it: chalicelib/adapters/idempotency.py).
    config = Config.create(chalice_stage="dev", app_name="approval",
                           lambda_timeout=function_timeout_seconds())
    handler = functools.partial(GatewayHandler, identity=identity)
    return LocalDevServer(app_object, config, host, port, handler_cls=handler,
                          server_cls=ThreadingServer)
