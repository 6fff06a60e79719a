"""A signed-in staff member's own place: who they are (GET /staff/me, what the workstation
builds its screens from), their own efficiency archive, and a case's materials opened through a
five-minute link, each opening a `material_viewed` record of the case's trail under their name."""
import hashlib

import requests

from .client import Signed
from .flows import Flow, as_staff


def test_a_staff_member_learns_who_they_are_and_a_system_key_is_nobody(stack):
    me = as_staff(stack, "SCJG-002").get("/staff/me")
    assert me.status_code == 200, me.text
    said = me.json()
    assert (said["staff_id"], said["role"], said["role_name"], said["kind"]) == \
        ("SCJG-002", "approver", "审核", "department")
    assert said["department_name"] == "亳州市市场监督管理局" and said["hall_name"]
    assert "decide_branches" in said["rights"] and "pre_review" not in said["rights"]
    clerk = as_staff(stack, "BZ-JJJC-001").get("/staff/me").json()
    assert (clerk["role"], clerk["kind"], clerk["office"]) == \
        ("supervision_clerk", "auditor", "BZ-JJJC")
    system = Signed(stack, "hotline:BZ-12345").get("/staff/me")
    assert system.status_code == 403, system.text


def test_a_staff_member_reads_their_own_archive_and_only_their_own(stack):
    own = as_staff(stack, "SCJG-001").get("/staff/me/archive")
    assert own.status_code == 200, own.text
    assert own.json()["staff_id"] == "SCJG-001"
    office = as_staff(stack, "BZ-JJJC-001").get("/audit/staff/SCJG-001/archive").json()
    assert own.json() == office                 # what the office sees of them, no more
    assert as_staff(stack, "SCJG-001").get("/audit/staff/SCJG-002/archive").status_code == 403


def test_a_material_opens_through_a_short_link_and_every_opening_is_in_the_trail(stack):
    flow = Flow(stack)
    try:
        material = next(m["id"] for m in flow.guide["materials"] if m["required"])
        approver = as_staff(stack, "SCJG-002")
        opened = approver.get(f"/department/cases/{flow.case_id}/materials/{material}")
        assert opened.status_code == 200, opened.text
        link = opened.json()
        assert link["expires_in"] == 300 and "X-Amz-Expires=300" in link["url"]
        got = requests.get(link["url"], timeout=10)
        assert got.status_code == 200, got.text
        assert hashlib.sha256(got.content).hexdigest() == link["sha256"]
        assert got.headers["Content-Type"] == link["content_type"]

        unsigned = requests.get(link["url"].split("?")[0], timeout=10)
        assert unsigned.status_code == 403           # the file is reachable by the link only
        tampered = requests.get(link["url"].replace(material, "legal_rep_id_card"), timeout=10)
        assert tampered.status_code == 403

        trail = as_staff(stack, "BZ-JJJC-001").get(f"/audit/cases/{flow.case_id}/trail").json()
        viewed = [r for r in trail["records"] if r["action"] == "material_viewed"]
        assert [(r["actor"], r["data"]["material"], r["seq"]) for r in viewed] == \
            [("staff:SCJG-002", material, link["viewed_seq"])]
        assert trail["verdict"]["intact"]

        outsider = as_staff(stack, "MZ-001").get(
            f"/department/cases/{flow.case_id}/materials/{material}")
        assert outsider.status_code == 404, outsider.text
        unknown = approver.get(f"/department/cases/{flow.case_id}/materials/nothing")
        assert unknown.status_code == 404 and unknown.json()["field"] == "material_id"
        system = Signed(stack, "system:SW-JSXT").get(
            f"/department/cases/{flow.case_id}/materials/{material}")
        assert system.status_code == 403, system.text
    finally:
        flow.finish()
