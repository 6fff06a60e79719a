"""Citizens signed in by an OpenID Connect identity provider (in China the province's unified
identity platform, where Cognito user pools are not offered).

API Gateway hands the `Authorization` header to a Lambda authorizer (app.py, `citizen_sign_in`),
which accepts only an ID token the provider issued for this application: a signature by one of
the keys the provider publishes (its JWKS, fetched once and cached), not expired, from the
configured issuer, for our client id, and not an access token. What it verified travels to the
routes in the authorizer context (`context_of`), which chalicelib/adapters/http.py reads.

The authorizer imports this module on its first call only: PyJWT and cryptography stay out of
the API's cold start."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Callable

import jwt

# Asymmetric signatures only: a token signed with a shared secret (HS*) or with none is refused
# before any key is looked up.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
# RFC 9068: an access token in JWT form says so in its header.
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
LEEWAY_SECONDS = 30            # clock skew between the provider and Lambda
JWKS_LIFESPAN_SECONDS = 3600   # rotated keys are picked up at once (unknown kid) or within this
JWKS_TIMEOUT_SECONDS = 5


class Refused(Exception):
    """The token proves no sign-in: the authorizer answers 401 with the reason logged."""


@dataclass(frozen=True)
class Provider:
    issuer: str                          # the `iss` of its tokens
    audience: str                        # our client id: the `aud` of an ID token for us
    jwks_url: str                        # where it publishes its signing keys
    id_number_claim: str = "id_number"   # the claim carrying the citizen's identity number

    @classmethod
    def from_environment(cls) -> "Provider":
        missing = [name for name in ("OIDC_ISSUER", "OIDC_AUDIENCE", "OIDC_JWKS_URL")
                   if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"citizen sign-in is not configured: {', '.join(missing)} unset")
        return cls(os.environ["OIDC_ISSUER"], os.environ["OIDC_AUDIENCE"],
                   os.environ["OIDC_JWKS_URL"],
                   os.environ.get("OIDC_ID_NUMBER_CLAIM") or "id_number")


class _Keys(jwt.PyJWKClient):
    """PyJWKClient with its JWK Set cache; `fetch` replaces the HTTP request (tests)."""

    def __init__(self, url: str, fetch: Callable[[], Any] | None):
        super().__init__(url, cache_jwk_set=True, lifespan=JWKS_LIFESPAN_SECONDS,
                         timeout=JWKS_TIMEOUT_SECONDS)
        self._fetch = fetch

    def fetch_data(self) -> Any:
        if self._fetch is None:
            return super().fetch_data()
        return self._fetch()


class Verifier:
    def __init__(self, provider: Provider, fetch: Callable[[], Any] | None = None):
        self.provider = provider
        self.keys = _Keys(provider.jwks_url, fetch)

    def verify(self, authorization: str | None) -> dict:
        """The verified claims of the ID token in an `Authorization` header value (the token
        alone or after `Bearer `); Refused with the reason otherwise. A JWKS that cannot be
        fetched is not the citizen's fault: PyJWKClientConnectionError propagates (500)."""
        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise Refused("no token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Refused(f"not a signed JWT: {error}") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise Refused(f"tokens signed with {algorithm!r} are not accepted")
        if str(header.get("typ", "")).lower() in ACCESS_TOKEN_TYPES:
            raise Refused("an access token, not an ID token")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Refused("the token names no signing key (kid)")
        try:
            key = self.keys.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError:
            raise
        except jwt.PyJWKClientError:
            raise Refused(f"signed with a key the provider does not publish ({kid})") from None
        try:
            claims = jwt.decode(token, key.key, algorithms=[algorithm],
                                audience=self.provider.audience, issuer=self.provider.issuer,
                                leeway=LEEWAY_SECONDS,
                                options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Refused("the token has expired") from None
        except jwt.InvalidIssuerError:
            raise Refused("issued by another provider") from None
        except jwt.InvalidAudienceError:
            raise Refused("issued for another application") from None
        except jwt.PyJWTError as error:
            raise Refused(f"invalid token: {error}") from None
        self._check_id_token(claims)
        return claims

    def _check_id_token(self, claims: dict) -> None:
        # An ID token carries neither a scope nor a client_id (RFC 9068 access tokens do), and
        # Cognito-style providers say which one it is in token_use.
        if claims.get("token_use", "id") != "id" or "scope" in claims or "client_id" in claims:
            raise Refused("an access token, not an ID token")
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 \
                and claims.get("azp") != self.provider.audience:
            # OpenID Connect Core 3.1.3.7: several audiences, then we must be the authorized party
            raise Refused("issued for another authorized party")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise Refused("the token names no subject")


def context_of(claims: dict, provider: Provider) -> dict[str, str]:
    """What the routes learn of the citizen (API Gateway carries strings, numbers and booleans
    only, flat): chalicelib/adapters/http.py turns it into the same Caller as Cognito's claims."""
    context = {"sign_in": "oidc", "sub": claims["sub"]}
    for key, claim in (("id_number", provider.id_number_claim), ("name", "name"),
                       ("phone_number", "phone_number")):
        value = claims.get(claim)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            context[key] = str(value)
    return context


_verifier: Verifier | None = None
_lock = threading.Lock()


def verifier() -> Verifier:
    """One verifier per process (its key cache outlives requests), configured from the
    environment the template sets."""
    global _verifier
    if _verifier is None:
        with _lock:
            if _verifier is None:
                _verifier = Verifier(Provider.from_environment())
    return _verifier


def use(replacement: Verifier | None) -> None:
    """Replaces the process's verifier (tests)."""
    global _verifier
    _verifier = replacement
