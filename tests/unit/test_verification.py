"""The rule of a visitor's text-message code: 6 digits, kept hashed, valid 10 minutes, void after
5 wrong tries, used once; one code a minute and five a day per number (China day)."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import verification as v
from chalicelib.domain.errors import InvalidInput

PHONE = "13955812345"
T0 = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)     # Wednesday 10:00 in China


def issued(at=T0, record=None, code="246810"):
    return v.issue(record, PHONE, at, code=code)[0]


@pytest.mark.parametrize("given", ["13955812345", "+8613955812345", "86 139 5581 2345",
                                   "139-5581-2345"])
def test_a_mainland_mobile_number_is_read_in_its_usual_spellings(given):
    assert v.phone_of(given) == PHONE


@pytest.mark.parametrize("given", [None, 13955812345, "", "12955812345", "1395581234",
                                   "139558123456", "+1 415 555 0100", "139abc12345"])
def test_anything_else_is_not_a_phone(given):
    with pytest.raises(InvalidInput) as refused:
        v.phone_of(given)
    assert refused.value.field == "phone"


@pytest.mark.parametrize("given", [None, 123456, "", "12345", "1234567", "12a456", "一二三四五六"])
def test_a_code_is_six_digits(given):
    with pytest.raises(InvalidInput) as refused:
        v.code_of(given)
    assert refused.value.field == "code"
    assert v.code_of(" 012345 ") == "012345"


def test_new_codes_are_six_digits_and_vary():
    codes = {v.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 150


def test_the_code_is_kept_only_as_a_salted_hash():
    record, code = v.issue(None, PHONE, T0)
    stored = str(record.to_dict())
    assert code not in stored and record.digest and record.salt
    again, same_code = v.issue(None, PHONE, T0, code=code)
    assert again.digest != record.digest           # another salt, another hash


def test_the_right_code_holds_once():
    record = issued()
    assert v.check(record, "246810", T0 + timedelta(minutes=9)) == (True, "")
    holds, why = v.check(record, "246810", T0 + timedelta(minutes=9))
    assert not holds and "已使用" in why


def test_a_code_expires_after_ten_minutes():
    record = issued()
    holds, why = v.check(record, "246810", T0 + v.CODE_TTL)
    assert not holds and "已过期" in why and record.attempts == 0


def test_five_wrong_tries_void_the_code_even_for_the_right_one():
    record = issued()
    for tried in range(1, 6):
        holds, why = v.check(record, "000000", T0)
        assert not holds and record.attempts == tried
    assert "已失效" in why
    holds, why = v.check(record, "246810", T0)
    assert not holds and "已失效" in why


def test_a_wrong_try_says_how_many_remain():
    record = issued()
    assert v.check(record, "111111", T0) == (False, "验证码不正确，还可尝试 4 次")


def test_no_code_sent_is_refused():
    assert v.check(None, "246810", T0)[0] is False
    assert "请先获取验证码" in v.check(None, "246810", T0)[1]


def test_a_new_code_replaces_the_old_and_resets_the_tries():
    record = issued()
    v.check(record, "000000", T0)
    record = issued(T0 + timedelta(seconds=61), record, code="135790")
    assert record.attempts == 0
    assert v.check(record, "246810", T0 + timedelta(seconds=62))[0] is False
    assert v.check(record, "135790", T0 + timedelta(seconds=62))[0] is True


def test_one_code_a_minute_per_number():
    record = issued()
    with pytest.raises(v.TooManyRequests) as refused:
        issued(T0 + timedelta(seconds=59), record)
    assert refused.value.field == "phone" and refused.value.status == 429
    assert "请 1 秒后再获取" in refused.value.message
    issued(T0 + timedelta(seconds=60), record)


def test_five_codes_a_china_day_per_number():
    record, at = None, T0
    for _ in range(v.SENDS_PER_DAY):
        record = issued(at, record)
        at += timedelta(minutes=5)
    assert v.sends_left(record, at) == 0
    with pytest.raises(v.TooManyRequests) as refused:
        issued(at, record)
    assert "请明天再试" in refused.value.message and refused.value.field == "phone"
    # The next China day starts at 16:00 UTC.
    tomorrow = datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)
    record = issued(tomorrow, record)
    assert record.day == "2026-11-19" and v.sends_left(record, tomorrow) == 4


def test_the_record_is_kept_until_its_code_and_its_day_are_over():
    record = issued()
    assert record.keep_until() == datetime(2026, 11, 19, 0, 0, tzinfo=v.CHINA_TIME)
    late = datetime(2026, 11, 18, 15, 55, tzinfo=timezone.utc)      # 23:55 in China
    record = issued(late, None)
    assert record.keep_until() == late + v.CODE_TTL


def test_a_used_code_is_given_back_only_while_it_lasts():
    record = issued()
    v.check(record, "246810", T0)
    assert v.release(record, T0 + timedelta(minutes=1)) and record.used_at is None
    v.check(record, "246810", T0 + timedelta(minutes=2))
    assert not v.release(record, T0 + v.CODE_TTL) and record.used_at


def test_a_record_survives_its_stored_form():
    record = issued()
    assert v.Verification.from_dict(record.to_dict()) == record
