"""Real-name citizens on the running stack: sign-up codes are texted and checked as Cognito
checks them, the website's app client can write neither the identity number nor the name, the
real-name step verifies the number and binds it to one account, and a second account for it is
refused with the way back into the first. Cases filed under a number, at a window too, reach an
account only once the number is bound to it."""
import botocore.exceptions
import jwt
import pytest

from .client import (Citizen, cognito_client, new_phone, sign_in, sign_up,
                     texted_code)
from .flows import as_staff
from .test_counters import key, walk_in

PASSWORD = "Citizen2026pass"
LIU = {"name": "刘洋", "id_number": "341602199503152010"}
HE = {"name": "何静", "id_number": "341602199606203028"}
YANG = {"name": "杨帆", "id_number": "341602198808084018"}


def refused(call) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as error:
        call()
    return error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]


def test_a_wrong_confirmation_code_is_refused_and_the_texted_one_confirms(stack):
    cognito, client = cognito_client(stack), stack["cognito"]["client_id"]
    phone = new_phone()
    sent = cognito.sign_up(ClientId=client, Username=phone, Password=PASSWORD, UserAttributes=[
        {"Name": "phone_number", "Value": "+86" + phone}])
    assert not sent["UserConfirmed"]
    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "SMS"
    assert sent["CodeDeliveryDetails"]["Destination"].endswith(phone[-4:])
    code = texted_code(stack, phone)
    for wrong in ("000000" if code != "000000" else "111111", "9999"):
        assert refused(lambda: cognito.confirm_sign_up(
            ClientId=client, Username=phone, ConfirmationCode=wrong))[0] == \
            "CodeMismatchException"
    assert refused(lambda: sign_in(stack, phone, PASSWORD))[0] == "UserNotConfirmedException"
    # A new code replaces the one before.
    cognito.resend_confirmation_code(ClientId=client, Username=phone)
    fresh = texted_code(stack, phone)
    if fresh != code:
        assert refused(lambda: cognito.confirm_sign_up(
            ClientId=client, Username=phone, ConfirmationCode=code))[0] == \
            "CodeMismatchException"
    cognito.confirm_sign_up(ClientId=client, Username=phone, ConfirmationCode=fresh)
    assert refused(lambda: cognito.confirm_sign_up(
        ClientId=client, Username=phone, ConfirmationCode=fresh))[0] == "NotAuthorizedException"
    claims = jwt.decode(sign_in(stack, phone, PASSWORD)["IdToken"],
                        options={"verify_signature": False})
    assert claims["phone_number_verified"] == "true" and "custom:id_number" not in claims


def test_the_app_client_writes_neither_the_identity_number_nor_the_name(stack):
    cognito, client = cognito_client(stack), stack["cognito"]["client_id"]
    phone = new_phone()
    for attribute in ({"Name": "custom:id_number", "Value": YANG["id_number"]},
                      {"Name": "name", "Value": YANG["name"]}):
        code, message = refused(lambda: cognito.sign_up(
            ClientId=client, Username=phone, Password=PASSWORD,
            UserAttributes=[{"Name": "phone_number", "Value": "+86" + phone}, attribute]))
        assert code == "NotAuthorizedException" and "unauthorized attribute" in message
    citizen = Citizen(stack, YANG["id_number"], name=YANG["name"])
    for attribute in ({"Name": "custom:id_number", "Value": LIU["id_number"]},
                      {"Name": "name", "Value": LIU["name"]}):
        assert refused(lambda: cognito.update_user_attributes(
            AccessToken=citizen.tokens["AccessToken"], UserAttributes=[attribute]))[0] == \
            "NotAuthorizedException"
    citizen.refresh()
    claims = jwt.decode(citizen.token, options={"verify_signature": False})
    assert (claims["custom:id_number"], claims["name"]) == (YANG["id_number"], YANG["name"])


def test_an_account_before_the_real_name_step_sees_no_case_and_may_do_nothing_else(stack,
                                                                                  guide):
    pending = Citizen(stack, "", real_name=False)
    assert pending.get("/cases").json() == {"cases": [], "next_cursor": None}
    item = guide("SCJG-001")
    answer = pending.post("/cases", {"item": "SCJG-001", "hall": item["halls"][0],
                                     "form": item["form"]["examples"][0]})
    assert answer.status_code == 403 and "/me/real-name" in answer.json()["message"]
    assert pending.post("/consultations", {"item": "SCJG-001", "question": "需要哪些材料？"}
                        ).status_code == 403


@pytest.mark.parametrize("body, status, field", [
    ({"name": "刘洋", "id_number": "AAAAAAAAAAAAAAAAAA"}, 400, "id_number"),
    ({"name": "刘洋", "id_number": "341602199503152011"}, 400, "id_number"),   # check digit
    ({"name": "Liu Yang", "id_number": LIU["id_number"]}, 400, "name"),
    ({"name": "赵七", "id_number": "341602198707076035"}, 422, "id_number"),    # nobody's
    ({"name": "刘海", "id_number": LIU["id_number"]}, 422, "id_number"),        # not his
])
def test_numbers_that_are_none_or_not_the_persons_are_refused(stack, body, status, field):
    pending = Citizen(stack, "", real_name=False)
    answer = pending.post("/me/real-name", body)
    assert (answer.status_code, answer.json()["field"]) == (status, field), answer.text
    assert pending.get("/cases").json() == {"cases": [], "next_cursor": None}


def test_a_second_account_for_a_bound_number_is_refused_with_the_way_back(stack):
    first = Citizen(stack, LIU["id_number"], name=LIU["name"])
    second = Citizen(stack, "", real_name=False)
    answer = second.post("/me/real-name", LIU)
    assert answer.status_code == 409, answer.text
    told = answer.json()
    masked = first.username[:3] + "****" + first.username[-4:]
    assert told["field"] == "id_number" and told["bound_account"] == {
        "signs_in_with": masked, "recover": "reset_password"}
    assert first.username not in answer.text and LIU["id_number"] not in answer.text
    # The way back: a password reset with a code texted to the first account's phone.
    cognito, client = cognito_client(stack), stack["cognito"]["client_id"]
    cognito.forgot_password(ClientId=client, Username=first.username)
    assert refused(lambda: cognito.confirm_forgot_password(
        ClientId=client, Username=first.username, ConfirmationCode="000000",
        Password="Recovered2026pass"))[0] in ("CodeMismatchException",)
    cognito.confirm_forgot_password(ClientId=client, Username=first.username,
                                    ConfirmationCode=texted_code(stack, first.username),
                                    Password="Recovered2026pass")
    again = sign_in(stack, first.username, "Recovered2026pass")
    claims = jwt.decode(again["IdToken"], options={"verify_signature": False})
    assert claims["custom:id_number"] == LIU["id_number"]
    # And the first account cannot be moved to another number either.
    moved = first.post("/me/real-name", HE)
    assert moved.status_code == 409 and "never changed" in moved.json()["message"]


def test_a_walk_in_under_a_number_reaches_the_account_only_once_the_number_is_bound(stack,
                                                                                    guide):
    window = as_staff(stack, "SCJG-001")              # the window clerk registers walk-ins
    body = walk_in(stack, guide)
    body["applicant"] = {**body["applicant"], **HE}
    registered = window.post("/department/cases", body, headers={"Idempotency-Key": key()})
    assert registered.status_code == 201, registered.text
    case_id = registered.json()["case_id"]

    # Someone who knows 何静's number but signs up with it typed as a claim gets nothing.
    phone = new_phone()
    assert refused(lambda: cognito_client(stack).sign_up(
        ClientId=stack["cognito"]["client_id"], Username=phone, Password=PASSWORD,
        UserAttributes=[{"Name": "phone_number", "Value": "+86" + phone},
                        {"Name": "custom:id_number", "Value": HE["id_number"]}]))[0] == \
        "NotAuthorizedException"
    pending = Citizen(stack, "", real_name=False)
    assert pending.get("/cases").json() == {"cases": [], "next_cursor": None}
    assert pending.get(f"/cases/{case_id}").status_code == 403

    bound = pending.post("/me/real-name", HE)
    assert bound.status_code == 200, bound.text
    assert pending.get(f"/cases/{case_id}").status_code == 403      # the old token: no number
    pending.refresh()
    assert case_id in [c["case_id"] for c in pending.get("/cases").json()["cases"]]
    assert pending.get(f"/cases/{case_id}").status_code == 200


def test_sign_up_needs_only_the_phone_and_the_texted_code(stack):
    username = sign_up(stack, PASSWORD)
    tokens = sign_in(stack, username, PASSWORD)
    assert tokens["IdToken"] and tokens["RefreshToken"]


def test_an_account_refused_five_times_today_is_told_to_wait_and_binds_nothing(stack):
    trying = Citizen(stack, "", real_name=False)
    for wrong in ("刘海", "刘河", "柳洋", "刘阳", "留洋"):
        answer = trying.post("/me/real-name", {"name": wrong, "id_number": HE["id_number"]})
        assert answer.status_code == 422, answer.text
    waiting = trying.post("/me/real-name", HE)          # even the right pair waits now
    assert (waiting.status_code, waiting.json()["field"]) == (429, "id_number"), waiting.text
    assert "tomorrow" in waiting.json()["message"]
    assert trying.get("/cases").json()["cases"] == []
    other = Citizen(stack, "", real_name=False)           # another account is not held back
    assert other.post("/me/real-name", {"name": "刘海", "id_number": HE["id_number"]}
                      ).status_code == 422
