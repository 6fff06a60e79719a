"""Where the website signs staff in (web-config.json's `staff`), per deployment: the staff user
pool (global), the OA single sign-on (China, no user pool), or both (a pool that federates the OA
beside the user pool); and which sign-ins the API takes as staff sign-ins."""
import pytest

from chalicelib.adapters.identity import signed_caller, staff_web_config, StaticStaffAccounts
from chalicelib import catalog
from chalicelib.domain.errors import Forbidden

POOL = "cn-north-1:11111111-2222-3333-4444-555555555555"
USER_POOL = "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
OA = "arn:aws-cn:iam::123456789012:oidc-provider/oa.bozhou.gov.cn/oidc"


def test_global_china_and_both():
    global_ = staff_web_config({"AWS_REGION": "us-east-1", "STAFF_IDENTITY_POOL": POOL,
                                "STAFF_CLIENT_ID": "web", "STAFF_SIGN_IN_PROVIDER": USER_POOL})
    assert global_["client_id"] == "web" and global_["login_provider"] == USER_POOL
    assert "oidc" not in global_
    china = staff_web_config({"AWS_REGION": "cn-north-1", "STAFF_IDENTITY_POOL": POOL,
                              "STAFF_OIDC_ISSUER": "https://oa.bozhou.gov.cn/oidc",
                              "STAFF_OIDC_CLIENT_ID": "approval"})
    assert china["oidc"] == {"issuer": "https://oa.bozhou.gov.cn/oidc", "client_id": "approval"}
    assert "client_id" not in china
    assert china["identity_endpoint"] == "https://cognito-identity.cn-north-1.amazonaws.com.cn/"
    both = staff_web_config({"STAFF_IDENTITY_POOL": POOL, "STAFF_CLIENT_ID": "web",
                             "STAFF_SIGN_IN_PROVIDER": f"{USER_POOL},{OA}",
                             "STAFF_OIDC_ISSUER": "https://oa.bozhou.gov.cn/oidc"})
    assert both["login_provider"] == USER_POOL and both["oidc"]["issuer"]


def identity(provider, sub):
    return {"identity": {"cognitoIdentityPoolId": POOL, "cognitoIdentityId": "id-1",
                         "cognitoAuthenticationType": "authenticated",
                         "cognitoAuthenticationProvider":
                             f"{provider},{provider}:CognitoSignIn:{sub}"}}


def test_the_api_takes_sign_ins_of_the_providers_it_trusts_only():
    accounts = StaticStaffAccounts({"oa-1": "SCJG-002", "u-1": "SCJG-001"})
    published = catalog.published()
    trusted = f"{USER_POOL},{OA}"
    assert signed_caller(identity(OA, "oa-1"), published, accounts, POOL,
                         trusted).staff.staff_id == "SCJG-002"
    assert signed_caller(identity(USER_POOL, "u-1"), published, accounts, POOL,
                         trusted).staff.staff_id == "SCJG-001"
    with pytest.raises(Forbidden):         # a provider the deployment does not name
        signed_caller(identity(OA, "oa-1"), published, accounts, POOL, USER_POOL)
