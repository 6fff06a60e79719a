"""Company setup (多证联办) end to end over HTTP on the running stack with a compressed clock:
the applicant applies online, the window clerk accepts, an approver of each of the five
departments decides in parallel, each signed in as themself (SigV4 with the staff identity
pool's credentials); one of them is late and the supervision board sees its red card; the case
completes with a verifiable e-certificate."""
import time
from datetime import datetime

import requests

from tests.conftest import AT_ITS_INSTANT, WORKDAY
from .flows import Flow, as_staff, decider, key, wait_for

LATE = "GJJ"


def test_company_setup_with_five_departments_one_of_them_late(fast_stack):
    flow = Flow(fast_stack, id_number="341602199105054327")
    flow.accept()
    branches = {b["department"]: b for b in flow.deciders()}
    assert set(branches) == {"SCJG", "GA", "SW", "RSJ", "GJJ"}
    assert all(b["light"] == "green" and b["status"] == "open" for b in branches.values())

    # Four departments decide at once, each by its approver; the fifth lets its limit run out.
    for department, branch in branches.items():
        if department != LATE:
            decided = flow.decide(department, branch["branch_id"], "approve", fee_yuan=0)
            assert decided.status_code == 200 and decided.json()["outcome"] == "approved"
    late = branches[LATE]
    red_at = datetime.fromisoformat(late["deadline"]).timestamp() + 1
    time.sleep(max(0.0, red_at - time.time()))
    red = wait_for(lambda: [e for e in flow.events()
                            if e["kind"] == "red" and e["department"] == LATE], timeout=WORKDAY)
    assert abs(red[0]["delay_seconds"]) < AT_ITS_INSTANT
    assert red[0]["staff_id"] and red[0]["chief_staff_id"] and red[0]["window"]
    assert flow.branch(late["branch_id"])["light"] == "red"
    board = as_staff(fast_stack, "BZ-JJJC-001").get(
        f"/audit/cases/{flow.case_id}/supervision").json()["events"]
    assert any(e["kind"] == "red" and e["department"] == LATE for e in board)
    tasks = as_staff(fast_stack, decider(LATE, "approve")).get("/department/tasks").json()["tasks"]
    assert [t["light"] for t in tasks if t["case_id"] == flow.case_id] == ["red"]

    approved = flow.decide(LATE, late["branch_id"], "approve", staff_id="GJJ-002")
    assert approved.status_code == 200 and approved.json()["outcome"] == "approved"
    view = wait_for(lambda: (v := flow.view())["status"] == "completed" and v)
    assert view["result"]["outcome"] == "granted"
    assert [b["outcome"] for b in view["stages"]] == ["accepted"] + ["approved"] * 5
    certificate = requests.get(f"{fast_stack['api_url']}/certificates/"
                               f"{view['result']['certificate']}", timeout=10)
    assert certificate.status_code == 200 and certificate.json()["case_no"] == flow.case_no
    assert requests.get(f"{fast_stack['api_url']}/certificates/NOSUCHCODE0000",
                        timeout=10).status_code == 404
    actions = [s["action"] for s in view["timeline"]]
    assert actions[-1] == "completed" and "supervision_red" in actions
    assert flow.decide(LATE, late["branch_id"], "approve", idempotency_key=key()).status_code == 409

