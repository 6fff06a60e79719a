"""Real-name citizens: the identity number that decides access is a GB 11643 number, verified by
the register, bound to one account and never rewritten; an account without one reaches its
empty case list and the real-name step, nothing else."""
import json
from datetime import date, datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from chalicelib.adapters.http import REAL_NAME_FIRST, caller_of
from chalicelib.adapters.memory import (FixtureRegister, InMemoryAccounts, InMemoryAttempts,
                                       InMemoryBindings)
from chalicelib.domain.cases import Caller
from chalicelib.domain.verification import TooManyRequests
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, Unprocessable
from chalicelib.domain.identity import (AlreadyBound, Binding, RealName, VerificationUnavailable,
                                        Verdict, check_binding, check_character,
                                        id_number_problem, is_id_number, masked_username,
                                        name_problem, parse_real_name)
from chalicelib.service.realnames import RealNames

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 20)
ZHANG = {"name": "张三", "id_number": "341602199001011234"}
LIU = {"name": "刘洋", "id_number": "341602199503152010"}


# -- GB 11643-1999 ---------------------------------------------------------------------------------
def test_the_check_character_is_iso_7064_mod_11_2():
    # The standard's own example and the demo citizen's number.
    assert check_character("11010519491231002") == "X"
    assert check_character("34160219900101123") == "4"
    # Every remainder maps to its character: 1 0 X 9 8 7 6 5 4 3 2.
    seen = {check_character(f"3416021990010{n:04d}") for n in range(200)}
    assert seen == set("10X98765432")


@pytest.mark.parametrize("number", ["341602199001011234", "11010519491231002X",
                                    "11010519491231002x", "650102198501011230",
                                    " 341602199001011234 "])
def test_valid_identity_numbers(number):
    assert is_id_number(number, TODAY)


@pytest.mark.parametrize("number, why", [
    ("AAAAAAAAAAAAAAAAAA", "17 digits and a check digit"),
    ("341602199001011235", "check digit"),
    ("34160219900101123", "18 characters"),
    ("3416021990010112345", "18 characters"),
    ("991602199001011234", "area code"),
    ("340000199001011234", "area code"),
    ("341602199002301234", "no day"),
    ("341602203001011234", "cannot be"),
    ("341602189901011234", "cannot be"),
    ("91341602MA2TXXXX0X", "unified social credit code"),
    (341602199001011234, "18-character"),
    (None, "18-character"),
])
def test_what_is_no_identity_number_is_refused_saying_why(number, why):
    problem = id_number_problem(number, TODAY)
    assert problem and why in problem


def test_the_numbers_the_tests_and_the_demo_sign_up_with_are_valid():
    people = json.loads((ROOT / "local" / "people.json").read_text(encoding="utf-8"))["people"]
    assert {"name": "张三", "id_number": "341602199001011234"} in [
        {k: p[k] for k in ("name", "id_number")} for p in people]
    for person in people:
        assert id_number_problem(person["id_number"]) is None, person
        assert name_problem(person["name"]) is None, person


@pytest.mark.parametrize("name, ok", [("张三", True), ("欧阳晓雯", True), ("买买提·艾力", True),
                                      ("张", False), ("Zhang San", False), ("张三1", False),
                                      ("·艾力", False), ("买买提··艾力", False), ("", False),
                                      ("张" * 31, False)])
def test_names_are_as_the_register_writes_them(name, ok):
    assert (name_problem(name) is None) is ok


def test_the_real_name_step_names_each_wrong_field():
    with pytest.raises(InvalidInput) as refused:
        parse_real_name({"name": "Z", "id_number": "AAAAAAAAAAAAAAAAAA"}, TODAY)
    assert {p.field for p in refused.value.problems} == {"name", "id_number"}
    assert parse_real_name({"name": " 张三 ", "id_number": "11010519491231002x"}, TODAY) == \
        RealName("张三", "11010519491231002X")


# -- the binding rule ---------------------------------------------------------------------------
def binding(account="u-1", username="13800138000", **over):
    return Binding(**{"id_number": ZHANG["id_number"], "account": account, "username": username,
                      "name": "张三", "bound_at": "2026-11-20T00:00:00+00:00", **over})


def test_one_account_per_number_and_one_number_per_account():
    zhang = RealName(**ZHANG)
    assert check_binding(zhang, "u-1", None, None) is True            # to be bound
    assert check_binding(zhang, "u-1", binding(), ZHANG["id_number"]) is False   # bound already
    with pytest.raises(AlreadyBound) as second:
        check_binding(zhang, "u-2", binding(), None)
    refusal = second.value.to_dict()
    assert second.value.status == 409 and refusal["field"] == "id_number"
    assert refusal["bound_account"] == {"signs_in_with": "138****8000",
                                        "recover": "reset_password"}
    assert "reset its password" in refusal["message"] and "13800138000" not in refusal["message"]
    assert ZHANG["id_number"] not in refusal["message"]
    with pytest.raises(Conflict) as other:
        check_binding(RealName(**LIU), "u-1", None, ZHANG["id_number"])
    assert "never changed" in str(other.value)


def test_usernames_are_shown_masked():
    assert masked_username("13800138000") == "138****8000"
    assert masked_username("citizen-42") == "c********2"


# -- the service ---------------------------------------------------------------------------------
NOW = [datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)]


@pytest.fixture(autouse=True)
def morning():
    NOW[0] = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)

def service(people=(ZHANG, LIU), **register):
    bindings, accounts = InMemoryBindings(), InMemoryAccounts()
    names = RealNames(FixtureRegister(people, **register), bindings, accounts,
                      InMemoryAttempts(), lambda: NOW[0])
    return names, bindings, accounts


def unverified(sub="u-1", phone="13911112222"):
    return Caller("citizen", sub, id_number=None, phone=phone)


def test_a_verified_number_is_bound_and_set_on_the_account():
    names, bindings, accounts = service()
    bound = names.bind(unverified(), "13911112222", dict(ZHANG))
    assert (bound["name"], bound["id_number"]) == ("张三", ZHANG["id_number"])
    assert accounts.verified["13911112222"] == {"name": "张三",
                                                "custom:id_number": ZHANG["id_number"]}
    assert bindings.of_number(ZHANG["id_number"]).account == "u-1"
    assert bindings.number_of_account("u-1") == ZHANG["id_number"]
    # Taken again (a retry): the same answer, nothing bound twice.
    assert names.bind(unverified(), "13911112222", dict(ZHANG)) == bound


def test_a_second_account_for_a_bound_number_is_refused_with_the_way_back():
    names, bindings, accounts = service()
    names.bind(unverified("u-1", "13800138000"), "13800138000", dict(ZHANG))
    with pytest.raises(AlreadyBound) as refused:
        names.bind(unverified("u-2"), "13911112222", dict(ZHANG))
    assert refused.value.signs_in_with == "138****8000"
    assert "13911112222" not in accounts.verified
    assert bindings.of_number(ZHANG["id_number"]).account == "u-1"


def test_the_register_is_asked_before_a_binding_is_told():
    """Who types a number with the wrong name learns that they do not match, not whether the
    number has an account."""
    names, _, _ = service()
    names.bind(unverified("u-1"), "13800138000", dict(ZHANG))
    with pytest.raises(Unprocessable):
        names.bind(unverified("u-2"), "13911112222", {**ZHANG, "name": "张山"})


def test_a_bound_account_cannot_take_another_number():
    names, _, accounts = service()
    names.bind(unverified("u-1"), "13911112222", dict(ZHANG))
    with pytest.raises(Conflict):
        names.bind(unverified("u-1"), "13911112222", dict(LIU))
    # Nor with a token that still carries the first number.
    with pytest.raises(Conflict):
        names.bind(Caller("citizen", "u-1", id_number=ZHANG["id_number"]), "13911112222",
                   dict(LIU))
    assert accounts.verified["13911112222"]["custom:id_number"] == ZHANG["id_number"]


def test_what_the_register_does_not_know_or_cannot_answer_binds_nothing():
    names, bindings, accounts = service()
    with pytest.raises(Unprocessable):
        names.bind(unverified(), "13911112222", {"name": "赵七",
                                                 "id_number": "341602198707076035"})
    with pytest.raises(InvalidInput):
        names.bind(unverified(), "13911112222", {"name": "张三",
                                                 "id_number": "AAAAAAAAAAAAAAAAAA"})
    down, bindings, accounts = service(unavailable=True)
    with pytest.raises(VerificationUnavailable) as unavailable:
        down.bind(unverified(), "13911112222", dict(ZHANG))
    assert unavailable.value.status == 503
    assert bindings.numbers == {} and accounts.verified == {}


def test_two_accounts_binding_one_number_at_once_get_one_binding():
    names, bindings, _ = service()
    original = bindings.bind
    raced = []

    def bind_after_another(record):          # another account's request lands first
        if not raced:
            raced.append(original(Binding(record.id_number, "u-9", "13700137000", record.name,
                                          record.bound_at)))
        return original(record)
    bindings.bind = bind_after_another
    with pytest.raises(AlreadyBound):
        names.bind(unverified("u-1"), "13911112222", dict(ZHANG))
    assert bindings.of_number(ZHANG["id_number"]).account == "u-9"


# -- the edge ----------------------------------------------------------------------------------
def request(claims):
    return SimpleNamespace(context={"authorizer": {"claims": claims}, "identity": {}})


def test_an_account_without_a_verified_number_is_sent_to_the_real_name_step():
    claims = {"sub": "u-1", "cognito:username": "13911112222", "phone_number": "+8613911112222"}
    with pytest.raises(Forbidden) as refused:
        caller_of(request(claims), "citizen")
    assert str(refused.value) == REAL_NAME_FIRST and "/me/real-name" in REAL_NAME_FIRST
    pending = caller_of(request(claims), "citizen", verified=False)
    assert pending.id_number is None and pending.principal == "u-1"
    verified = caller_of(request({**claims, "custom:id_number": ZHANG["id_number"]}), "citizen")
    assert verified.id_number == ZHANG["id_number"]


def test_the_demo_register_checks_pairs_and_check_digits():
    from local.realname import DemoRegister

    register = DemoRegister()
    assert register.verify("张三", "341602199001011234").matches
    assert not register.verify("李四", "341602199001011234").matches
    wrong_digit = register.verify("张三", "341602199001011235")
    assert not wrong_digit.matches and "check digit" in wrong_digit.reason
    unknown = register.verify("赵七", "341602198707076035")
    assert not unknown.matches and unknown.reason == register.verify("李四",
                                                                     ZHANG["id_number"]).reason


def test_the_demo_register_refuses_a_fixture_with_a_mistyped_number(tmp_path):
    from local.realname import DemoRegister

    fixture = tmp_path / "people.json"
    fixture.write_text(json.dumps({"people": [{"name": "张三",
                                               "id_number": "341602199001011235"}]}))
    with pytest.raises(ValueError, match="check digit"):
        DemoRegister(fixture)


# -- the cloud's verification service ------------------------------------------------------------
class Answer:
    def __init__(self, status, body):
        self.status, self.body = status, body

    def read(self):
        return self.body

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False


def https_service(status=200, body=b'{"match": true}', secret='{"api_key": "k-1"}'):
    from chalicelib.adapters.realname import HttpsRealNameService

    sent = []

    def opener(request, timeout):
        sent.append((request, timeout))
        if isinstance(status, Exception):
            raise status
        return Answer(status, body)
    service = HttpsRealNameService("https://idv.example.gov.cn/v1/verify",
                                   "ssm:/approval/real-name", read_secret=lambda _: secret,
                                   opener=opener)
    return service, sent


def test_the_verification_service_is_asked_with_its_key_and_its_verdict_taken():
    service, sent = https_service()
    assert service.verify("张三", ZHANG["id_number"]).matches
    request, timeout = sent[0]
    assert request.get_method() == "POST" and request.full_url.startswith("https://")
    assert request.get_header("Authorization") == "Bearer k-1" and timeout <= 5
    assert json.loads(request.data) == {"name": "张三", "id_number": ZHANG["id_number"]}
    refused, _ = https_service(body='{"match": false, "reason": "不一致"}'.encode())
    assert refused.verify("张三", ZHANG["id_number"]) == Verdict(False, "不一致")


@pytest.mark.parametrize("status, body, secret", [
    (500, b"{}", '{"api_key": "k"}'),
    (200, b"<html>", '{"api_key": "k"}'),
    (200, b'{"match": "yes"}', '{"api_key": "k"}'),
    (OSError("timed out"), b"", '{"api_key": "k"}'),
    (200, b'{"match": true}', "not json"),
])
def test_no_verdict_from_the_service_binds_nothing(status, body, secret):
    service, _ = https_service(status, body, secret)
    with pytest.raises(VerificationUnavailable):
        service.verify("张三", ZHANG["id_number"])


def test_without_a_configured_service_nothing_can_be_verified(monkeypatch):
    from chalicelib.adapters import realname

    monkeypatch.delenv("REAL_NAME_SERVICE_URL", raising=False)
    with pytest.raises(VerificationUnavailable):
        realname.from_environment().verify("张三", ZHANG["id_number"])
    with pytest.raises(ValueError):
        realname.HttpsRealNameService("http://idv.example.gov.cn/verify", "ssm:/x")


def test_an_account_refused_five_times_today_waits_for_tomorrow():
    names, bindings, _ = service()
    for wrong in ("张山", "张珊", "章三", "张叁", "长三"):
        with pytest.raises(Unprocessable):
            names.bind(unverified(), "13911112222", {**ZHANG, "name": wrong})
    with pytest.raises(TooManyRequests) as waiting:            # even with the right name now
        names.bind(unverified(), "13911112222", dict(ZHANG))
    assert waiting.value.status == 429 and waiting.value.field == "id_number"
    assert "tomorrow" in str(waiting.value) and bindings.numbers == {}
    # Another account is not held back by this one's tries.
    assert names.bind(unverified("u-2", "13700137000"), "13700137000", dict(LIU))["name"]
    NOW[0] = datetime(2026, 11, 20, 16, 1, tzinfo=timezone.utc)     # 00:01 the next China day
    assert names.bind(unverified(), "13911112222", dict(ZHANG))["id_number"] == \
        ZHANG["id_number"]
