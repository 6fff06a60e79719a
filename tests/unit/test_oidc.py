"""The citizens' ID token as the Lambda authorizer checks it (China: the province's identity
platform). Keys and JWKS are made here; the JWKS reaches the verifier through its fetcher."""
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.oidc import Provider, Refused, Verifier, context_of

ISSUER = "https://id.ah.gov.cn/oidc"
CLIENT = "bozhou-approval"
PROVIDER = Provider(ISSUER, CLIENT, "https://id.ah.gov.cn/oidc/jwks", id_number_claim="idcard")


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key():
    return new_key()


@pytest.fixture
def fetches(key):
    return []


@pytest.fixture
def verifier(key, fetches):
    def fetch():
        fetches.append(1)
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}
    return Verifier(PROVIDER, fetch=fetch)


def claims(**changes):
    now = int(time.time())
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "u-42", "iat": now, "exp": now + 600,
            "auth_time": now, "nonce": "n", "name": "张三", "idcard": "341602199001011234",
            "phone_number": "+8613800138000"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(key, headers=None, algorithm="RS256", **changes):
    return jwt.encode(claims(**changes), key, algorithm=algorithm,
                      headers={"kid": "k1", **(headers or {})})


def test_a_valid_id_token_is_allowed_with_its_claims(verifier, key):
    verified = verifier.verify("Bearer " + token(key))
    assert verified["sub"] == "u-42"
    assert context_of(verified, PROVIDER) == {
        "sign_in": "oidc", "sub": "u-42", "id_number": "341602199001011234", "name": "张三",
        "phone_number": "+8613800138000"}


def test_the_token_alone_without_bearer_is_accepted_and_the_jwks_is_fetched_once(
        verifier, key, fetches):
    for _ in range(3):
        verifier.verify(token(key))
    assert len(fetches) == 1


def test_an_expired_token_is_refused(verifier, key):
    now = int(time.time())
    with pytest.raises(Refused, match="expired"):
        verifier.verify(token(key, iat=now - 7200, exp=now - 3600))


def test_a_token_of_another_issuer_is_refused(verifier, key):
    with pytest.raises(Refused, match="another provider"):
        verifier.verify(token(key, iss="https://evil.example.com/oidc"))


def test_a_token_for_another_application_is_refused(verifier, key):
    with pytest.raises(Refused, match="another application"):
        verifier.verify(token(key, aud="another-client"))


def test_several_audiences_need_us_as_the_authorized_party(verifier, key):
    with pytest.raises(Refused, match="authorized party"):
        verifier.verify(token(key, aud=[CLIENT, "other"], azp="other"))
    assert verifier.verify(token(key, aud=[CLIENT, "other"], azp=CLIENT))["sub"] == "u-42"


def test_a_token_signed_by_another_key_under_the_same_kid_is_refused(verifier):
    with pytest.raises(Refused, match="Signature verification failed"):
        verifier.verify(token(new_key()))


def test_a_token_naming_a_key_the_provider_does_not_publish_is_refused(verifier, key):
    with pytest.raises(Refused, match="does not publish"):
        verifier.verify(token(key, headers={"kid": "k9"}))


@pytest.mark.parametrize("kind", ["rfc9068", "token_use", "scope"])
def test_an_access_token_is_refused(verifier, key, kind):
    forged = {"rfc9068": lambda: token(key, headers={"typ": "at+jwt"}, client_id=CLIENT,
                                       scope="openid"),
              "token_use": lambda: token(key, token_use="access"),
              "scope": lambda: token(key, scope="openid profile")}[kind]()
    with pytest.raises(Refused, match="access token"):
        verifier.verify(forged)


def test_a_token_with_alg_none_is_refused(verifier):
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(Refused, match="'none'"):
        verifier.verify(unsigned)


def test_a_token_signed_with_the_public_key_as_a_shared_secret_is_refused(verifier, key):
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","kid":"k1","typ":"JWT"}')
    body = jwt.utils.base64url_encode(json.dumps(claims()).encode())
    signature = jwt.utils.base64url_encode(
        hmac.new(public, header + b"." + body, hashlib.sha256).digest())
    with pytest.raises(Refused, match="'HS256'"):
        verifier.verify((header + b"." + body + b"." + signature).decode())


@pytest.mark.parametrize("value", [None, "", "Bearer ", "not-a-jwt"])
def test_no_token_or_garbage_is_refused(verifier, value):
    with pytest.raises(Refused):
        verifier.verify(value)


def test_a_token_without_subject_or_expiry_is_refused(verifier, key):
    with pytest.raises(Refused):
        verifier.verify(token(key, sub=None))
    with pytest.raises(Refused):
        verifier.verify(token(key, exp=None))
