"""moto refuses a request that carries no AWS signature as AWS does: 403, not a 500.

With IAM enforced (local/iam.py), moto reads the credential out of the Authorization header of
every request it authenticates; a request without one (an anonymous GET, PUT or listing of a
bucket sent straight to moto rather than through the S3 gate, or any other service's call) made
it fail with a KeyError, answered 500. Here such a request, or one whose Authorization is not a
SigV4 credential, is refused as AWS refuses it: S3's `AccessDenied` (no bucket of the template
lets anyone in: each blocks public access), another service's `MissingAuthenticationToken`.
The operations AWS answers unsigned (Cognito's sign-up and sign-in, the identity pool's GetId and
GetCredentialsForIdentity) and CORS preflights never reach this check. Idempotent."""
from __future__ import annotations

import functools
import re

SIGV4 = re.compile(r"AWS4-HMAC-SHA256 Credential=[^/,\s]+/\d{8}/[^/,\s]+/[^/,\s]+/aws4_request")


def enable() -> None:
    from moto.iam.access_control import IAMRequestBase

    construct = IAMRequestBase.__init__
    if getattr(construct, "refuses_unsigned", False):
        return

    @functools.wraps(construct)
    def __init__(self, account_id, method, path, data, body, headers, action):
        if not SIGV4.match(headers.get("Authorization") or ""):
            raise _refusal(self, headers)
        construct(self, account_id, method, path, data, body, headers, action)

    __init__.refuses_unsigned = True
    IAMRequestBase.__init__ = __init__


def _refusal(request, headers) -> Exception:
    from moto.core.exceptions import JsonRESTError, _RESTError
    from moto.iam.access_control import S3IAMRequest
    from moto.s3.exceptions import S3AccessDeniedError

    if isinstance(request, S3IAMRequest):
        return S3AccessDeniedError()
    kind = JsonRESTError if headers.get("X-Amz-Target") else _RESTError
    refused = kind("MissingAuthenticationTokenException", "Missing Authentication Token")
    refused.code = 403
    return refused
