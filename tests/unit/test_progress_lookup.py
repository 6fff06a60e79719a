"""办件查询: the 受理编号 and the query code given at submission show status and stage to
anyone, and nothing else; a wrong code is an unknown number; guessing is bounded."""
import pytest

from chalicelib.adapters.memory import InMemoryAttempts
from chalicelib.domain import progress
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.verification import TooManyRequests

from .test_approval_service import (ACCEPTING, ALICE, CASE_CLOCK, DEPARTMENTS,  # noqa: F401
                                    REVIEWERS, awaiting, decide, stage_decided, submit, tick, w)


def receipt(w, case_id):
    case = w.intake.read(ALICE, case_id)
    return case["case_no"], case["query_code"]


def test_the_applicant_is_given_a_six_digit_code_at_submission_by_text_and_on_the_case(w):
    case_id = submit(w)
    case_no, code = receipt(w, case_id)
    assert len(code) == 6 and code.isdigit()
    texts = [t for _, t in w.notifier.sent if case_no in t]
    assert len(texts) == 1 and f"查询码{code}" in texts[0]
    # Handing the case to the workflow again texts nothing more.
    w.approval.start(w.cases.get(case_id))
    assert len([t for _, t in w.notifier.sent if case_no in t]) == 1


def test_the_lookup_shows_status_and_stage_and_nothing_about_the_people(w):
    case_id = submit(w)
    case_no, code = receipt(w, case_id)
    attempts = InMemoryAttempts()
    seen = w.intake.lookup(case_no, code, "198.51.100.7", attempts)
    assert seen == {"case_no": case_no, "status": "submitted", "status_name": "已提交，待受理",
                    "stage_name": "受理", "updated_at": w.cases.get(case_id).submitted_at}
    awaiting(w, case_id, CASE_CLOCK, 0)
    awaiting(w, case_id, ACCEPTING, 1)
    tick(w, 2)
    decide(w, case_id, ACCEPTING, {"decision": "accept", "staff_id": "SCJG-001"})
    stage_decided(w, case_id, 0)
    seen = w.intake.lookup(case_no, code, "198.51.100.7", attempts)
    assert (seen["status"], seen["status_name"], seen["stage_name"]) == \
        ("accepted", "已受理，审批中", "多证联办")
    assert not {"applicant", "form", "materials", "timeline", "query_code"} & set(seen)


def test_a_wrong_code_answers_as_an_unknown_number(w):
    case_no, code = receipt(w, submit(w))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    attempts = InMemoryAttempts()
    with pytest.raises(NotFound) as for_wrong:
        w.intake.lookup(case_no, wrong, "198.51.100.7", attempts)
    unknown_no = case_no[:-5] + "99999"
    with pytest.raises(NotFound) as for_unknown:
        w.intake.lookup(unknown_no, code, "198.51.100.8", attempts)
    assert for_wrong.value.field == for_unknown.value.field == "case_no"
    assert for_wrong.value.message.replace(case_no, "N") == \
        for_unknown.value.message.replace(unknown_no, "N")


def test_guessing_one_number_stops_after_five_wrong_codes_until_the_next_day(w):
    case_no, code = receipt(w, submit(w))
    attempts = InMemoryAttempts()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for n in range(progress.WRONG_PER_CASE):
        with pytest.raises(NotFound):
            w.intake.lookup(case_no, wrong, f"203.0.113.{n}", attempts)
    with pytest.raises(TooManyRequests) as held:
        w.intake.lookup(case_no, code, "203.0.113.99", attempts)     # even the right code
    assert held.value.field == "query_code" and "明天" in held.value.message
    tick(w, 24 * 3600)
    assert w.intake.lookup(case_no, code, "203.0.113.99", attempts)["case_no"] == case_no


def test_one_address_trying_many_numbers_is_held_back(w):
    case_no, code = receipt(w, submit(w))
    attempts = InMemoryAttempts()
    day_of = case_no.split("-")[1]
    for n in range(progress.WRONG_PER_SOURCE):
        with pytest.raises(NotFound):
            w.intake.lookup(f"BZ-{day_of}-{90000 + n:05d}", "000000", "192.0.2.1", attempts)
    with pytest.raises(TooManyRequests):
        w.intake.lookup(case_no, code, "192.0.2.1", attempts)
    assert w.intake.lookup(case_no, code, "192.0.2.2", attempts)["status"] == "submitted"


@pytest.mark.parametrize("case_no, code, field", [
    ("BZ-2026-1", "123456", "case_no"), (None, "123456", "case_no"),
    ("BZ-20261130-00001", "12345", "query_code"), ("BZ-20261130-00001", "12345a", "query_code"),
    ("BZ-20261130-00001", 123456, "query_code")])
def test_malformed_lookups_are_refused_naming_the_field_and_not_counted(w, case_no, code, field):
    attempts = InMemoryAttempts()
    with pytest.raises(InvalidInput) as refused:
        w.intake.lookup(case_no, code, "192.0.2.1", attempts)
    assert refused.value.field == field and attempts.counts == {}


def test_the_code_is_not_shown_to_the_departments(w):
    from .test_approval_service import dept

    case_id = submit(w)
    awaiting(w, case_id, CASE_CLOCK, 0)
    awaiting(w, case_id, ACCEPTING, 1)
    assert "query_code" not in w.intake.read(dept("SCJG"), case_id)
    assert "query_code" in w.intake.read(ALICE, case_id)
    assert all("query_code" in c for c in w.intake.mine(ALICE)["cases"])


def test_codes_are_drawn_uniformly_with_leading_zeros():
    assert progress.new_query_code(lambda n: 42) == "000042"
    assert progress.new_query_code(lambda n: n - 1) == "999999"
    assert not progress.matches(None, "000000") and progress.matches("000042", "000042")
