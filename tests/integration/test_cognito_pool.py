"""The local citizens' pool answers as Cognito does (local/cognito.py), on the template's own pool
and web client: codes are texted to the outbox and checked, they expire (24 hours for sign-up,
one hour for a password reset), a new one replaces the old, and no client writes what its
WriteAttributes leave out nor anyone an immutable attribute."""
import socket

import boto3
import botocore.exceptions
import pytest
import requests

from local import cognito as pool_emulation
from local import outbox
from local.provision import _user_pool, template

REGION = "us-east-1"
PASSWORD = "Citizen2026pass"


@pytest.fixture(scope="module")
def moto():
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool_emulation.emulate_cognito()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    yield url, outbox.serve(url)
    server.stop()


@pytest.fixture(scope="module")
def pool(moto):
    """The template's pool and web client, as the local stack provisions them."""
    url, _ = moto
    admin = boto3.client("cognito-idp", endpoint_url=url, region_name=REGION,
                         aws_access_key_id="testing", aws_secret_access_key="testing")
    resources = template()["Resources"]
    pool_id = _user_pool(admin, resources["CitizenUserPool"]["Properties"])
    web = resources["CitizenWebClient"]["Properties"]
    client_id = admin.create_user_pool_client(
        UserPoolId=pool_id, ClientName=web["ClientName"],
        ExplicitAuthFlows=web["ExplicitAuthFlows"],
        ReadAttributes=web["ReadAttributes"], WriteAttributes=web["WriteAttributes"],
    )["UserPoolClient"]["ClientId"]
    from botocore import UNSIGNED
    from botocore.config import Config
    public = boto3.client("cognito-idp", endpoint_url=url, region_name=REGION,
                          config=Config(signature_version=UNSIGNED))
    return {"admin": admin, "public": public, "pool_id": pool_id, "client_id": client_id,
            "outbox": moto[1]}


def code_of(pool, phone):
    import re

    texts = requests.get(pool["outbox"], params={"phone": phone}, timeout=10).json()["messages"]
    return re.search(r"验证码为(\d{6})", texts[-1]["text"]).group(1)


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def signed_up(pool, phone):
    pool["public"].sign_up(ClientId=pool["client_id"], Username=phone, Password=PASSWORD,
                           UserAttributes=[{"Name": "phone_number", "Value": "+86" + phone}])
    return code_of(pool, phone)


def test_a_sign_up_code_is_texted_and_expires_after_24_hours(pool):
    phone = "13900000001"
    code = signed_up(pool, phone)
    pool_emulation.expire(pool["pool_id"], phone)
    assert error_of(lambda: pool["public"].confirm_sign_up(
        ClientId=pool["client_id"], Username=phone, ConfirmationCode=code)) == \
        "ExpiredCodeException"
    pool["public"].resend_confirmation_code(ClientId=pool["client_id"], Username=phone)
    fresh = code_of(pool, phone)
    pool["public"].confirm_sign_up(ClientId=pool["client_id"], Username=phone,
                                   ConfirmationCode=fresh)
    user = pool["admin"].admin_get_user(UserPoolId=pool["pool_id"], Username=phone)
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "phone_number_verified", "Value": "true"} in user["UserAttributes"]
    assert error_of(lambda: pool["public"].resend_confirmation_code(
        ClientId=pool["client_id"], Username=phone)) == "InvalidParameterException"


def test_a_code_just_short_of_24_hours_still_confirms(pool):
    phone = "13900000002"
    code = signed_up(pool, phone)
    pool_emulation.expire(pool["pool_id"], phone, seconds=pool_emulation.SIGN_UP_CODE_SECONDS - 60)
    pool["public"].confirm_sign_up(ClientId=pool["client_id"], Username=phone,
                                   ConfirmationCode=code)


def test_a_password_reset_code_lasts_an_hour_and_only_a_verified_phone_gets_one(pool):
    phone = "13900000003"
    pool["public"].confirm_sign_up(ClientId=pool["client_id"], Username=phone,
                                   ConfirmationCode=signed_up(pool, phone))
    pool["public"].forgot_password(ClientId=pool["client_id"], Username=phone)
    code = code_of(pool, phone)
    pool_emulation.expire(pool["pool_id"], phone, "password",
                          pool_emulation.PASSWORD_CODE_SECONDS + 1)
    assert error_of(lambda: pool["public"].confirm_forgot_password(
        ClientId=pool["client_id"], Username=phone, ConfirmationCode=code,
        Password="Another2026pass")) == "ExpiredCodeException"
    pool["public"].forgot_password(ClientId=pool["client_id"], Username=phone)
    pool["public"].confirm_forgot_password(ClientId=pool["client_id"], Username=phone,
                                           ConfirmationCode=code_of(pool, phone),
                                           Password="Another2026pass")
    pool["public"].initiate_auth(ClientId=pool["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": phone,
                                                 "PASSWORD": "Another2026pass"})
    unverified = "13900000004"
    signed_up(pool, unverified)
    assert error_of(lambda: pool["public"].forgot_password(
        ClientId=pool["client_id"], Username=unverified)) == "InvalidParameterException"


def test_the_web_client_writes_the_phone_only_and_the_administrator_what_is_mutable(pool):
    phone = "13900000005"
    for attribute in ("custom:id_number", "name"):
        assert error_of(lambda: pool["public"].sign_up(
            ClientId=pool["client_id"], Username=phone, Password=PASSWORD,
            UserAttributes=[{"Name": "phone_number", "Value": "+86" + phone},
                            {"Name": attribute, "Value": "341602199001011234"}])) == \
            "NotAuthorizedException"
    pool["admin"].admin_update_user_attributes(
        UserPoolId=pool["pool_id"], Username="13900000001",
        UserAttributes=[{"Name": "custom:id_number", "Value": "341602199001011234"}])
    # A pool whose attribute is immutable: nobody sets it after the account exists.
    fixed = pool["admin"].create_user_pool(PoolName="fixed", Schema=[
        {"Name": "id_number", "AttributeDataType": "String", "Mutable": False}])["UserPool"]["Id"]
    pool["admin"].admin_create_user(UserPoolId=fixed, Username="someone")
    assert error_of(lambda: pool["admin"].admin_update_user_attributes(
        UserPoolId=fixed, Username="someone",
        UserAttributes=[{"Name": "custom:id_number", "Value": "341602199001011234"}])) == \
        "InvalidParameterException"
