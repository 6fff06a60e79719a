"""An Idempotency-Key that is sent must be a key: an empty or malformed one is refused with 400
naming the header, and nothing is written (taken as no key, a retry would be a second order,
complaint or question)."""
import pytest

from .client import Citizen
from .flows import as_staff, key

BAD = ["", "short", "x" * 129, "含中文的键值abcdefgh"]


@pytest.mark.parametrize("sent", BAD)
def test_a_malformed_key_is_refused_and_nothing_opens(stack, sent):
    citizen = Citizen(stack, "341602198506061232", name="周敏")
    before = as_staff(stack, "SCJG-003").get("/department/supervised-tasks").json()
    asked = citizen.post("/consultations", {"item": "SCJG-001", "question": "需要带什么材料？"},
                         headers={"Idempotency-Key": sent.encode("utf-8").decode("latin-1")})
    assert asked.status_code == 400, asked.text
    assert asked.json()["field"] == "Idempotency-Key" and len(asked.content) < 1000
    ordered = as_staff(stack, "BZ-JJJC-001").post(
        "/supervision/orders", {"department": "SCJG", "text": "请说明窗口排队情况"},
        headers={"Idempotency-Key": sent.encode("utf-8").decode("latin-1")})
    assert ordered.status_code == 400 and ordered.json()["field"] == "Idempotency-Key"
    after = as_staff(stack, "SCJG-003").get("/department/supervised-tasks").json()
    assert after == before


def test_a_good_key_sent_again_gets_the_first_answer(stack):
    citizen = Citizen(stack, "341602198506061232", name="周敏")
    sent = key()
    body = {"item": "SCJG-001", "question": "营业执照多久能办好？"}
    first = citizen.post("/consultations", body, headers={"Idempotency-Key": sent})
    again = citizen.post("/consultations", body, headers={"Idempotency-Key": sent})
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["task_id"] == first.json()["task_id"]
