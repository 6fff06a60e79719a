"""A supervision office looks a case up by the 受理编号 its applicant sees (BZ-20261130-00001), not
only by its internal id: the trail route, a supervision order and `make verify-trail` (python -m
local.trail) accept both, resolved through the cases table's ByCaseNo index (one query, no scan);
another hall's office is refused as for the id, an unknown number is a 404."""
import subprocess
import sys
from pathlib import Path

from .flows import Flow, as_staff

ROOT = Path(__file__).resolve().parents[2]
CITY = "BZ-JJJC-001"        # 监察员 of the city's office: every hall
COUNTY = "BZGY-JJJC-001"    # 监察员 of 涡阳县's office: 涡阳县 only


def verify_trail(stack, reference):
    return subprocess.run([sys.executable, "-m", "local.trail", reference, "--state-dir",
                           stack["state_dir"]], cwd=ROOT, capture_output=True, text=True)


def test_a_case_is_looked_up_by_its_case_number(stack):
    flow = Flow(stack)
    try:
        city = as_staff(stack, CITY)
        by_id = city.get(f"/audit/cases/{flow.case_id}/trail").json()
        by_number = city.get(f"/audit/cases/{flow.case_no}/trail")
        assert by_number.status_code == 200, by_number.text
        assert by_number.json()["case_id"] == flow.case_id
        assert by_number.json()["verdict"]["intact"]
        assert [r["seq"] for r in by_number.json()["records"]][:len(by_id["records"])] == \
            [r["seq"] for r in by_id["records"]]
        supervision = city.get(f"/audit/cases/{flow.case_no}/supervision")
        assert supervision.status_code == 200 and supervision.json()["case_id"] == flow.case_id

        refused = as_staff(stack, COUNTY).get(f"/audit/cases/{flow.case_no}/trail")
        assert refused.status_code == 403 and refused.json()["field"] == "hall", refused.text
        unknown = city.get("/audit/cases/BZ-19990101-00001/trail")
        assert unknown.status_code == 404 and unknown.json()["field"] == "case_id", unknown.text

        order = city.post("/supervision/orders", {"case_id": flow.case_no, "text": "请说明办理进度"})
        assert order.status_code == 201, order.text
        assert order.json()["subject"]["case_id"] == flow.case_id

        checked = verify_trail(stack, flow.case_no)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert f"case {flow.case_no} is case {flow.case_id}" in checked.stdout
        assert f"case {flow.case_id}: trail intact" in checked.stdout
        missing = verify_trail(stack, "BZ-19990101-00001")
        assert missing.returncode == 2 and "no case has this number" in missing.stdout
    finally:
        flow.finish()
