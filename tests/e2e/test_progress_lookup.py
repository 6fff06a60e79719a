"""办件查询 over HTTP as a visitor's browser calls it: POST /lookup with no sign-in. The right
code shows status and stage only; a wrong code answers exactly as an unknown number; the sixth
wrong code of the day for one number is refused (429 naming `query_code`) even with the right
one, while another number is unaffected. The code reaches the applicant by text message."""
import time

import requests

from .flows import Flow, wait_for


def look_up(stack, case_no, code):
    # The route is throttled as a lookup (infra/limits.py: 10/s, bursts of 20): retried at a
    # visitor's pace when the gateway says so.
    for _ in range(10):
        answer = requests.post(f"{stack['api_url']}/lookup",
                               json={"case_no": case_no, "query_code": code}, timeout=10)
        if answer.status_code != 429 or answer.json().get("field"):
            return answer
        time.sleep(1.2)
    return answer


def texted(stack, phone):
    return [m["text"] for m in requests.get(stack["sms_outbox_url"], params={"phone": phone},
                                            timeout=10).json()["messages"]]


def test_a_receipt_looks_up_progress_and_guesses_are_bounded(stack):
    flow = Flow(stack)
    other = Flow(stack, id_number="341602198808081239")
    code = flow.view()["query_code"]
    phone = flow.view()["applicant"].get("phone")
    if phone:
        wait_for(lambda: any(f"查询码{code}" in t and flow.case_no in t
                             for t in texted(stack, phone)), timeout=30)

    found = look_up(stack, flow.case_no, code)
    assert found.status_code == 200, found.text
    assert set(found.json()) == {"case_no", "status", "status_name", "stage_name", "updated_at"}
    assert found.json()["status"] == "submitted" and found.json()["stage_name"] == "受理"

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for_wrong = look_up(stack, flow.case_no, wrong)
    unknown_no = flow.case_no[:-5] + "99999"
    for_unknown = look_up(stack, unknown_no, code)
    assert for_wrong.status_code == for_unknown.status_code == 404
    assert for_wrong.json()["field"] == for_unknown.json()["field"] == "case_no"
    assert for_wrong.json()["message"].replace(flow.case_no, "N") == \
        for_unknown.json()["message"].replace(unknown_no, "N")

    malformed = look_up(stack, flow.case_no, "12345")
    assert malformed.status_code == 400 and malformed.json()["field"] == "query_code"

    for _ in range(4):                                      # five wrong codes in all
        assert look_up(stack, flow.case_no, wrong).status_code == 404
    held = look_up(stack, flow.case_no, code)
    assert held.status_code == 429 and held.json()["field"] == "query_code", held.text
    assert "明天" in held.json()["message"]

    other_code = other.view()["query_code"]
    assert look_up(stack, other.case_no, other_code).status_code == 200
