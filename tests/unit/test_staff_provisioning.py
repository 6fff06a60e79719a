"""The operators' provisioning of staff sign-ins (infra/staff.py), against moto in process: a
user per person of the directory (username = staff id) and the binding of its sub; run again,
it creates nothing twice and keeps every binding."""
import boto3
import pytest
from moto import mock_aws

from chalicelib import catalog
from infra.staff import bind, provision_members


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName="staff", BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "subject",
                                                     "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "subject", "KeyType": "HASH"}])
        pool = idp.create_user_pool(PoolName="staff")["UserPool"]["Id"]
        yield idp, dynamodb, pool


def bindings(dynamodb):
    return {i["staff_id"]["S"]: i["subject"]["S"]
            for i in dynamodb.scan(TableName="staff")["Items"]}


def test_every_person_gets_one_sign_in_bound_to_their_staff_id(aws):
    idp, dynamodb, pool = aws
    directory = catalog.published().directory()[:6]
    handed = provision_members(idp, dynamodb, pool, "staff", "provider", directory)
    assert set(handed) == {p.staff_id for p in directory}
    assert all(password.startswith("Tmp-") for password in handed.values())
    bound = bindings(dynamodb)
    assert set(bound) == set(handed)
    for staff_id, sub in bound.items():
        user = idp.admin_get_user(UserPoolId=pool, Username=staff_id)
        assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"    # they set their own first
        assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["sub"] == sub
    again = provision_members(idp, dynamodb, pool, "staff", "provider", directory)
    assert again == {} and bindings(dynamodb) == bound


def test_an_oa_sign_in_is_bound_by_hand(aws):
    _, dynamodb, _ = aws
    bind(dynamodb, "staff", "oa-7f3e", "SW-002", "oa.bozhou.gov.cn/oidc", "2026-11-20T00:00:00Z")
    assert bindings(dynamodb) == {"SW-002": "oa-7f3e"}
