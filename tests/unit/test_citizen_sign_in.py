"""Citizens signed in through Cognito or through an OpenID Connect provider (the China variant)
are the same caller to the routes; the OIDC Lambda authorizer's policy covers every citizen
route in the partition it was called in. The authorizer is chosen when the app is imported, so
the app is imported here in a fresh interpreter with CITIZEN_SIGN_IN=oidc."""
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from chalicelib.adapters.http import actor_of, caller_of
from chalicelib.domain.errors import Forbidden

ROOT = Path(__file__).resolve().parents[2]


def request(authorizer):
    return SimpleNamespace(context={"authorizer": authorizer, "identity": {}})


COGNITO = {"claims": {"sub": "u-42", "custom:id_number": "341602199001011234", "name": "张三",
                      "phone_number": "+8613800138000", "cognito:username": "13800138000"}}
OIDC = {"principalId": "u-42", "sign_in": "oidc", "sub": "u-42",
        "id_number": "341602199001011234", "name": "张三", "phone_number": "+8613800138000",
        "integrationLatency": 12}


def test_cognito_claims_and_the_oidc_authorizer_context_make_the_same_caller():
    assert caller_of(request(COGNITO), "citizen") == caller_of(request(OIDC), "citizen")
    caller = caller_of(request(OIDC), "citizen")
    assert (caller.principal, caller.id_number, caller.name, caller.phone) == (
        "u-42", "341602199001011234", "张三", "13800138000")
    assert actor_of(request(OIDC)) == actor_of(request(COGNITO)) == "citizen:u-42"


def test_an_oidc_citizen_without_identity_number_is_refused():
    without = {k: v for k, v in OIDC.items() if k != "id_number"}
    with pytest.raises(Forbidden):
        caller_of(request(without), "citizen")


def test_a_context_that_is_not_the_oidc_authorizers_is_no_citizen():
    assert actor_of(request({"sub": "u-42", "id_number": "x"})) == "public"
    with pytest.raises(Forbidden):
        caller_of(request({"sub": "u-42", "id_number": "x"}), "citizen")


PROBE = r'''
import json, sys, time
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
import app
from chalicelib.adapters import oidc

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
oidc.use(oidc.Verifier(oidc.Provider.from_environment(),
                       fetch=lambda: {"keys": [{**jwk, "kid": "k1"}]}))
now = int(time.time())
claims = {"iss": "https://id.ah.gov.cn/oidc", "aud": "bozhou-approval", "sub": "u-42",
          "iat": now, "exp": now + 600, "idcard": "341602199001011234", "name": "张三"}
arn = "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/api/GET/cases"
out = {}
good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
out["allowed"] = app.citizen_sign_in({"type": "TOKEN", "authorizationToken": "Bearer " + good,
                                      "methodArn": arn}, None)
try:
    app.citizen_sign_in({"type": "TOKEN", "methodArn": arn, "authorizationToken":
                         jwt.encode({**claims, "aud": "other"}, key, algorithm="RS256",
                                    headers={"kid": "k1"})}, None)
except Exception as error:
    out["refused"] = str(error)
out["config"] = app.web_config()
out["security"] = sorted({str(getattr(e.authorizer, "name", None))
                          for methods in app.app.routes.values() for e in methods.values()})
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def oidc_app():
    env = {**os.environ, "CITIZEN_SIGN_IN": "oidc", "OIDC_ISSUER": "https://id.ah.gov.cn/oidc",
           "OIDC_AUDIENCE": "bozhou-approval", "OIDC_JWKS_URL": "https://id.ah.gov.cn/jwks",
           "OIDC_ID_NUMBER_CLAIM": "idcard"}
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_oidc_authorizer_allows_every_citizen_route_in_the_callers_partition(oidc_app):
    policy = oidc_app["allowed"]
    assert policy["principalId"] == "u-42"
    assert policy["context"] == {"sign_in": "oidc", "sub": "u-42",
                                 "id_number": "341602199001011234", "name": "张三"}
    [statement] = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    prefix = "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/api/"
    assert {prefix + r for r in ("POST/cases", "GET/cases", "GET/cases/*",
                                 "POST/cases/*/submit", "POST/complaints",
                                 "GET/consultations/*")} <= set(statement["Resource"])
    assert not [r for r in statement["Resource"]
                if "/department/" in r or "/audit/" in r or "/supervision/" in r]


def test_the_oidc_authorizer_answers_unauthorized_to_a_refused_token(oidc_app):
    assert oidc_app["refused"] == "Unauthorized"


def test_the_browser_learns_the_oidc_provider_instead_of_cognito(oidc_app):
    config = dict(oidc_app["config"])
    assert set(config.pop("staff")) >= {"region", "identity_pool_id"}   # staff: infra/staff.py
    assert config == {"oidc": {"issuer": "https://id.ah.gov.cn/oidc",
                               "client_id": "bozhou-approval", "scope": "openid profile phone",
                               "id_number_claim": "idcard"}}
    assert "citizen_sign_in" in oidc_app["security"] and "Citizens" not in oidc_app["security"]


def test_importing_the_app_with_oidc_sign_in_does_not_import_jwt():
    env = {**os.environ, "CITIZEN_SIGN_IN": "oidc"}
    probe = ("import sys, app; "
             "print(','.join(m for m in ('jwt', 'cryptography') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    assert run.stdout.strip() == ""
