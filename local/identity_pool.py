"""The staff identity pool, as Cognito's identity pools answer a signed-in staff member.

moto's cognito-identity hands anyone fixed dummy credentials (`TESTACCESSKEY12345`) tied to no
role, checks no login and knows no role of a pool. So, in the process that runs moto:

- **SetIdentityPoolRoles / GetIdentityPoolRoles** keep the pool's authenticated role;
- **GetId** needs a login of a provider the pool trusts, and names one identity per person
  (the same id whenever they sign in again);
- **GetCredentialsForIdentity** checks the login again as Cognito does (the ID token's RS256
  signature against the user pool's key, the stack's own (local/pool_key.py), its issuer,
  the pool's app client as audience, `token_use` id, not expired; with ServerSideTokenCheck
  the user still exists and is enabled), then issues temporary credentials of the pool's
  authenticated role through moto's STS backend (as local/iam.py's `service_credentials` does
  for the functions), valid one hour. Like AWS, it needs no signature (a browser calls it
  before it holds any key).

What it issued is kept here with the identity behind it: the local API gateway accepts a SigV4
signature by these credentials only while they are valid (`issued`), and hands the app the
identity pool, the identity and the provider as API Gateway does (requestContext.identity's
`cognitoAuthenticationProvider`). Expired, unknown or foreign credentials are refused.

`POST {aws endpoint}/_local/identity/expire {"access_key_id": ...}` ends credentials now, as an
hour passing would (for tests of expired credentials). Idempotent patches, like local/iam.py's.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field

ACCOUNT = "123456789012"
SESSION = "CognitoIdentityCredentials"
LIFETIME_SECONDS = 3600            # GetCredentialsForIdentity's credentials last one hour
EXPIRE_PATH = "/_local/identity/expire"


@dataclass
class Issued:
    """Temporary credentials handed to a signed-in identity."""
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires: float                 # epoch seconds
    pool: str
    identity_id: str
    provider: str
    subject: str
    role_arn: str

    @property
    def authentication_provider(self) -> str:
        """What API Gateway puts in requestContext.identity.cognitoAuthenticationProvider."""
        return f"{self.provider},{self.provider}:CognitoSignIn:{self.subject}"

    @property
    def assumed_role_arn(self) -> str:
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.role_arn.rsplit('/', 1)[-1]}/{SESSION}"


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    roles: dict = field(default_factory=dict)         # pool id → {"authenticated": arn}
    identities: dict = field(default_factory=dict)    # (pool, provider, sub) → identity id
    owners: dict = field(default_factory=dict)        # identity id → (pool, provider, sub)
    issued: dict = field(default_factory=dict)        # access key id → Issued


_state = _State()


def reset() -> None:
    global _state
    _state = _State()


def issued(access_key_id: str) -> Issued | None:
    """Credentials this pool issued under this key id (valid or not), or None."""
    with _state.lock:
        return _state.issued.get(access_key_id)


def expire(access_key_id: str) -> bool:
    with _state.lock:
        found = _state.issued.get(access_key_id)
        if found is not None:
            found.expires = min(found.expires, time.time() - 1)
        return found is not None


def enable() -> None:
    """Patches moto's cognito-identity in this process (idempotent) and serves EXPIRE_PATH."""
    from moto.cognitoidentity.responses import CognitoIdentityResponse
    from moto.core.authorization import ActionAuthenticatorMixin

    reset()
    public = "AWSCognitoIdentityService.GetCredentialsForIdentity"
    if public not in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
        ActionAuthenticatorMixin.PUBLIC_OPERATIONS.append(public)
    if not getattr(CognitoIdentityResponse, "_staff_sign_in", False):
        CognitoIdentityResponse.get_id = _get_id
        CognitoIdentityResponse.get_credentials_for_identity = _get_credentials_for_identity
        CognitoIdentityResponse.set_identity_pool_roles = _set_identity_pool_roles
        CognitoIdentityResponse.get_identity_pool_roles = _get_identity_pool_roles
        CognitoIdentityResponse._staff_sign_in = True
    _serve_expiry()


# -- the API, as Cognito answers it ------------------------------------------------------------
def _refused(message: str, kind: str = "NotAuthorizedException"):
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(kind, message)


def _pool(response, pool_id: str):
    from moto.cognitoidentity.models import cognitoidentity_backends

    region = (pool_id or "").split(":")[0]
    found = cognitoidentity_backends[response.current_account][region].identity_pools.get(pool_id) \
        if region else None
    if found is None:
        raise _refused(f"IdentityPool '{pool_id}' not found.", "ResourceNotFoundException")
    return found


def _set_identity_pool_roles(self) -> str:
    pool = _pool(self, self._get_param("IdentityPoolId"))
    with _state.lock:
        _state.roles[pool.identity_pool_id] = dict(self._get_param("Roles") or {})
    return ""


def _get_identity_pool_roles(self) -> str:
    pool = _pool(self, self._get_param("IdentityPoolId"))
    with _state.lock:
        roles = dict(_state.roles.get(pool.identity_pool_id, {}))
    return json.dumps({"IdentityPoolId": pool.identity_pool_id, "Roles": roles})


def _get_id(self) -> str:
    pool = _pool(self, self._get_param("IdentityPoolId"))
    provider, subject = _verified_login(pool, self._get_param("Logins") or {})
    return json.dumps({"IdentityId": _identity_of(pool, provider, subject)})


def _get_credentials_for_identity(self) -> str:
    from moto.sts.models import sts_backends

    identity_id = self._get_param("IdentityId") or ""
    with _state.lock:
        owner = _state.owners.get(identity_id)
    if owner is None:
        raise _refused(f"Identity '{identity_id}' not found.", "ResourceNotFoundException")
    pool = _pool(self, owner[0])
    provider, subject = _verified_login(pool, self._get_param("Logins") or {})
    if (pool.identity_pool_id, provider, subject) != owner:
        raise _refused("Logins don't match. Please include at least one valid login for this "
                       "identity or identity pool.")
    with _state.lock:
        role_arn = _state.roles.get(pool.identity_pool_id, {}).get("authenticated")
    if not role_arn:
        raise _refused("Invalid identity pool configuration. Check assigned IAM roles for this "
                       "pool.", "InvalidIdentityPoolConfigurationException")
    region = pool.identity_pool_id.split(":")[0]
    assumed = sts_backends[ACCOUNT]["aws"].assume_role(
        region_name=region, role_session_name=SESSION, role_arn=role_arn, policy=None,
        duration=LIFETIME_SECONDS, external_id=None)
    credentials = Issued(assumed.access_key_id, assumed.secret_access_key,
                         assumed.session_token, time.time() + LIFETIME_SECONDS,
                         pool.identity_pool_id, identity_id, provider, subject, role_arn)
    with _state.lock:
        _state.issued[credentials.access_key_id] = credentials
    return json.dumps({"IdentityId": identity_id, "Credentials": {
        "AccessKeyId": credentials.access_key_id, "SecretKey": credentials.secret_access_key,
        "SessionToken": credentials.session_token, "Expiration": credentials.expires}})


def _identity_of(pool, provider: str, subject: str) -> str:
    """One identity per person of the pool, the same each time they sign in."""
    key = (pool.identity_pool_id, provider, subject)
    with _state.lock:
        found = _state.identities.get(key)
        if found is None:
            digest = hashlib.sha256("|".join(key).encode()).hexdigest()
            found = (f"{pool.identity_pool_id.split(':')[0]}:{digest[:8]}-{digest[8:12]}-"
                     f"{digest[12:16]}-{digest[16:20]}-{digest[20:32]}")
            _state.identities[key] = found
            _state.owners[found] = key
        return found


def _verified_login(pool, logins: dict) -> tuple[str, str]:
    """(provider, sub) of the one login of a provider the pool trusts, checked as Cognito does:
    a user pool's ID token, or an OpenID Connect provider's (the China variant's OA single
    sign-on, an IAM OIDC provider named in the pool's OpenIdConnectProviderARNs)."""
    trusted = {p["ProviderName"]: p for p in pool.cognito_identity_providers or []}
    federated = _oidc_providers(pool)
    if not logins:      # the staff pool admits no unauthenticated identity
        raise _refused("Unauthenticated access is not supported for this identity pool.")
    for provider, token in logins.items():
        if provider in federated:
            return federated[provider].arn, _verified_oidc_token(federated[provider], token)
        if provider not in trusted:
            raise _refused(f"Invalid login token. Can't login with {provider}: it is not a "
                           "provider of this identity pool.")
        return provider, _verified_token(provider, trusted[provider], token)
    raise _refused("Invalid login token.")


def _oidc_providers(pool) -> dict:
    """The IAM OpenID Connect providers the pool federates, by the name a login gives them (the
    issuer's host and path, without the scheme)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT]["global"]
    found = {}
    for arn in getattr(pool, "open_id_connect_provider_arns", None) or []:
        provider = iam.open_id_providers.get(arn)
        if provider is not None:
            found[provider.url] = provider
    return found


def _verified_oidc_token(provider, token: str) -> str:
    """The provider's ID token: RS256 against the keys its discovery document names, its issuer
    the provider's URL, one of the provider's client ids as audience, not expired."""
    import jwt
    import requests

    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss", "")
    except jwt.PyJWTError as error:
        raise _refused(f"Invalid login token. {error}")
    # IAM keeps the URL without its scheme; the issuer is https (http on loopback, for tests).
    if issuer not in (f"https://{provider.url}", f"http://{provider.url}") or (
            issuer.startswith("http://") and not provider.url.startswith("127.0.0.1")):
        raise _refused("Invalid login token. Issuer doesn't match providerName")
    try:
        discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()
        key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token).key
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=provider.client_id_list,
                            issuer=issuer, options={"require": ["exp", "sub", "aud", "iss"]})
    except jwt.ExpiredSignatureError:
        raise _refused("Invalid login token. Token expired.")
    except (jwt.PyJWTError, requests.RequestException, KeyError, ValueError) as error:
        raise _refused(f"Invalid login token. {error}")
    return claims["sub"]


def _verified_token(provider: str, trusted: dict, token: str) -> str:
    import jwt

    region, _, user_pool_id = provider.removeprefix("cognito-idp.").partition(
        ".amazonaws.com/")
    try:
        claims = jwt.decode(token, _public_key(), algorithms=["RS256"],
                            audience=trusted.get("ClientId"),
                            issuer=f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}",
                            options={"require": ["exp", "sub", "aud", "iss"]})
    except jwt.ExpiredSignatureError:
        raise _refused("Invalid login token. Token expired.")
    except jwt.PyJWTError as error:
        raise _refused(f"Invalid login token. {error}")
    if claims.get("token_use") != "id":
        raise _refused("Invalid login token. Not an id token.")
    if trusted.get("ServerSideTokenCheck") in (True, "true"):
        _check_user(region, user_pool_id, claims)
    return claims["sub"]


def _check_user(region: str, user_pool_id: str, claims: dict) -> None:
    """The user still exists and is enabled (a deleted or disabled staff member is refused)."""
    from moto.cognitoidp.models import cognitoidp_backends

    pool = cognitoidp_backends[ACCOUNT][region].user_pools.get(user_pool_id)
    user = pool._get_user(claims.get("cognito:username", "")) if pool else None
    if user is None or user.id != claims["sub"] or not user.enabled:
        raise _refused("Invalid login token. The user is disabled or no longer exists.")


def _public_key():
    """The stack's own pool key (local/pool_key.py), never the one moto publishes."""
    from .pool_key import public_key

    return public_key()


# -- expiring credentials now (tests) -----------------------------------------------------------
def _serve_expiry() -> None:
    from .paths import mount

    mount(EXPIRE_PATH, _expiry_app)


def _expiry_app(environ, start_response):
    from werkzeug.wrappers import Request, Response

    request = Request(environ)
    if request.method != "POST":
        response = Response(json.dumps({"error": "POST {\"access_key_id\": ...}"}), 405,
                            content_type="application/json", headers={"Allow": "POST"})
    else:
        try:
            key = json.loads(request.get_data() or b"{}").get("access_key_id", "")
        except ValueError:
            key = ""
        found = expire(key) if isinstance(key, str) else False
        response = Response(json.dumps({"access_key_id": key, "expired": found}),
                            200 if found else 404, content_type="application/json")
    return response(environ, start_response)
