"""What the local stack saves and puts back (local/persist.py), on moto in this process: a state
saved from one moto comes back whole in a fresh one whose resources were created again, and a
state that cannot come back is refused naming `make reset`. (tests/e2e/test_restart.py restarts
the whole stack.)"""
import hashlib
import json

import boto3
import pytest
from moto import mock_aws

from local import persist

REGION = "us-east-1"
TABLE = {"TableName": "approval-CasesTable", "BillingMode": "PAY_PER_REQUEST",
         "KeySchema": [{"AttributeName": "case_id", "KeyType": "HASH"}],
         "AttributeDefinitions": [{"AttributeName": "case_id", "AttributeType": "S"}]}
BUCKET = "approval-evidencebucket"
POOL = {"PoolName": "approval-citizens", "Policies": {"PasswordPolicy": {
    "MinimumLength": 8, "RequireUppercase": False, "RequireLowercase": True,
    "RequireNumbers": True, "RequireSymbols": False}}}


def clients():
    return {name: boto3.client(name, region_name=REGION)
            for name in ("dynamodb", "s3", "sns", "cognito-idp")}


def resources(aws) -> str:
    """What provisioning creates at every start; the user pool's id."""
    aws["dynamodb"].create_table(**TABLE)
    aws["s3"].create_bucket(Bucket=BUCKET)
    aws["s3"].put_bucket_versioning(Bucket=BUCKET,
                                    VersioningConfiguration={"Status": "Enabled"})
    pool = aws["cognito-idp"].create_user_pool(**POOL)["UserPool"]["Id"]
    aws["cognito-idp"].create_user_pool_client(UserPoolId=pool, ClientName="web",
                                               ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
    return pool


def sign_in(aws, pool: str, password: str) -> dict:
    client = aws["cognito-idp"].list_user_pool_clients(UserPoolId=pool)["UserPoolClients"][0]
    return aws["cognito-idp"].initiate_auth(
        ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "13900001111", "PASSWORD": password})


def test_a_saved_state_comes_back_whole_in_a_fresh_moto(tmp_path):
    case = {"case_id": {"S": "c-1"}, "status": {"S": "accepted"},
            "data": {"S": json.dumps({"status": "accepted"})}, "trail_seq": {"N": "7"}}
    with mock_aws():
        aws = clients()
        pool = resources(aws)
        aws["dynamodb"].put_item(TableName=TABLE["TableName"], Item=case)
        versions = [aws["s3"].put_object(
            Bucket=BUCKET, Key="evidence/clip.mp4", Body=body, ChecksumAlgorithm="SHA256",
            ContentType="video/mp4", Metadata={"case": "c-1"})["VersionId"]
            for body in (b"first clip", b"second clip")]
        aws["sns"].publish(PhoneNumber="+8613900001111", Message="【政务服务】验证码为123456")
        aws["cognito-idp"].admin_create_user(UserPoolId=pool, Username="13900001111",
                                             MessageAction="SUPPRESS")
        aws["cognito-idp"].admin_set_user_password(UserPoolId=pool, Username="13900001111",
                                                   Password="Citizen2026pass", Permanent=True)
        sub = aws["cognito-idp"].admin_get_user(UserPoolId=pool, Username="13900001111")
        sub = next(a["Value"] for a in sub["UserAttributes"] if a["Name"] == "sub")
        client_id = aws["cognito-idp"].list_user_pool_clients(
            UserPoolId=pool)["UserPoolClients"][0]["ClientId"]
        persist.save(tmp_path, REGION)

    saved = tmp_path / "saved" / "state.json"
    assert saved.stat().st_mode & 0o777 == 0o600          # passwords: the owner's eyes only
    assert sorted(p.name for p in (tmp_path / "saved" / "objects").iterdir()) == sorted(
        hashlib.sha256(b).hexdigest() for b in (b"first clip", b"second clip"))

    with mock_aws():                                       # a fresh moto: nothing left
        aws = clients()
        state = persist.load(tmp_path)
        persist.expect(state)
        assert resources(aws) == pool                      # the pool under its saved id
        restored = persist.restore(state, REGION, {"CasesTable": TABLE["TableName"]})
        assert restored.open_cases == ["c-1"] and restored.items == 1
        assert aws["dynamodb"].get_item(TableName=TABLE["TableName"],
                                        Key={"case_id": {"S": "c-1"}})["Item"] == case
        listed = aws["s3"].list_object_versions(Bucket=BUCKET)["Versions"]
        assert sorted(v["VersionId"] for v in listed) == sorted(versions)
        first = aws["s3"].get_object(Bucket=BUCKET, Key="evidence/clip.mp4",
                                     VersionId=versions[0], ChecksumMode="ENABLED")
        assert first["Body"].read() == b"first clip"
        assert first["ContentType"] == "video/mp4" and first["Metadata"] == {"case": "c-1"}
        assert first["ChecksumSHA256"]
        latest = aws["s3"].get_object(Bucket=BUCKET, Key="evidence/clip.mp4")
        assert latest["Body"].read() == b"second clip"
        assert aws["cognito-idp"].list_user_pool_clients(
            UserPoolId=pool)["UserPoolClients"][0]["ClientId"] == client_id
        user = aws["cognito-idp"].admin_get_user(UserPoolId=pool, Username="13900001111")
        assert {"Name": "sub", "Value": sub} in user["UserAttributes"]
        assert sign_in(aws, pool, "Citizen2026pass")["AuthenticationResult"]["IdToken"]
        with pytest.raises(aws["cognito-idp"].exceptions.NotAuthorizedException):
            sign_in(aws, pool, "WrongPassword1")
        from local.outbox import messages
        assert [m["text"] for m in messages("13900001111")] == ["【政务服务】验证码为123456"]


def test_a_state_that_no_longer_fits_or_cannot_be_read_is_refused_naming_make_reset(tmp_path):
    state = {"format": persist.FORMAT, "dynamodb": {TABLE["TableName"]: [
        {"number": {"S": "no case_id: the table's key"}}]}, "s3": {}, "sms": {},
        "cognito": {"user_pools": [], "codes": []},
        "identity": {"pools": {}, "identities": []}, "_folder": str(tmp_path)}
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(**TABLE)
        with pytest.raises(persist.StateUnreadable) as refused:
            persist.restore(state, REGION, {})
    assert "case_id" in str(refused.value) and "make reset" in str(refused.value)
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "state.json").write_text("{half a state")
    with pytest.raises(persist.StateUnreadable) as unreadable:
        persist.load(tmp_path)
    assert "make reset" in str(unreadable.value)


def test_reset_deletes_the_saved_state_and_logs_but_never_under_a_running_stack(tmp_path):
    for path in ("saved/objects/ab", "logs/iam.jsonl", "stack.json", "stack.log"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    running = persist.hold(tmp_path)
    with pytest.raises(persist.StateInUse):
        persist.reset(tmp_path)
    assert (tmp_path / "saved").exists()
    running.close()
    assert sorted(persist.reset(tmp_path)) == sorted(
        str(tmp_path / name) for name in ("saved", "logs", "stack.json"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.lock", "stack.log"]
    assert persist.load(tmp_path) is None
