"""Staff of a China deployment sign in at the government OA's single sign-on: the workstation sends
them there (authorization code flow with PKCE), the staff identity pool federates the OA's ID token
(an IAM OpenID Connect provider among its OpenIdConnectProviderARNs, as infra/staff.py's China
template has it) into one-hour SigV4 credentials, and the API maps the OA subject to the staff
member the operators bound it to (StaffAccountsTable). The OA provider is the test's own on
loopback; the local stack is started with `--staff-oidc` so that its identity pool trusts it
beside the staff user pool, and every step after the OA answers is the real one."""
from __future__ import annotations

import threading

import boto3
import botocore.exceptions
import jwt
import pytest
from playwright.sync_api import expect

from local.process import running_stack
from tests.browser.conftest import new_context
from tests.browser.test_oidc_sign_in import CLIENT_ID, Provider, serve

APPROVER = {"sub": "oa-4e1d77c0", "name": "张慧敏", "preferred_username": "zhanghm"}
STRANGER = {"sub": "oa-0000dead", "name": "未绑定"}


@pytest.fixture(scope="module")
def oa():
    provider = Provider(redirect_uri="", person=APPROVER)
    server = serve(provider)
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}/oidc"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield provider
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def oa_stack(oa, tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("oa"), "--staff-oidc", oa.issuer,
                       CLIENT_ID) as described:
        oa.redirect_uri = f"{described['api_url']}/"
        operator = boto3.session.Session(
            aws_access_key_id=described["aws"]["access_key_id"],
            aws_secret_access_key=described["aws"]["secret_access_key"],
            region_name=described["staff"]["region"])
        # The operators bind the OA subject to the staff id (docs/deployment.md).
        table = described["environment"]["STAFF_ACCOUNTS_TABLE"]
        operator.client("dynamodb", endpoint_url=described["aws"]["endpoint"]).put_item(
            TableName=table, Item={"subject": {"S": APPROVER["sub"]},
                                   "staff_id": {"S": "SCJG-002"},
                                   "provider": {"S": oa.issuer}})
        yield described


def test_a_staff_member_signs_in_at_the_oa_and_works_as_themself(browser, oa, oa_stack):
    context = new_context(browser, oa_stack)
    page = context.new_page()
    try:
        page.goto("/#/workstation")
        page.get_by_role("button", name="通过政务OA统一登录").click()
        who = page.locator("#ws-who")
        expect(who).to_contain_text("张慧敏")
        expect(who).to_contain_text("SCJG-002")
        expect(who).to_contain_text("审核")
        assert oa.authorizations[-1]["code_challenge_method"] == "S256"
        assert oa.token_requests and not oa.refusals
        expect(page.locator(".ws-task, .empty, #queue")).not_to_have_count(0)
        page.get_by_role("button", name="退出工作台").click()

        oa.person = STRANGER              # an OA account nobody bound to a staff id
        page.get_by_role("button", name="通过政务OA统一登录").click()
        expect(page.get_by_role("alert")).to_contain_text("尚未绑定")
        expect(page.locator("#ws-who")).to_have_count(0)
    finally:
        context.close()
        oa.person = APPROVER


def test_the_identity_pool_refuses_an_oa_token_it_cannot_verify(oa, oa_stack):
    identity = boto3.client("cognito-identity", region_name=oa_stack["staff"]["region"],
                            endpoint_url=oa_stack["aws"]["endpoint"],
                            aws_access_key_id="unused", aws_secret_access_key="unused")
    name = oa.issuer.removeprefix("http://")
    from cryptography.hazmat.primitives.asymmetric import rsa

    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": oa.issuer, "aud": CLIENT_ID, "sub": APPROVER["sub"], "exp": 4102444800}
    for token in (jwt.encode(claims, forger, algorithm="RS256", headers={"kid": oa.kid}),
                  jwt.encode({**claims, "aud": "another-client"}, oa.key, algorithm="RS256",
                             headers={"kid": oa.kid})):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            identity.get_id(IdentityPoolId=oa_stack["staff"]["identity_pool_id"],
                            Logins={name: token})
        assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
