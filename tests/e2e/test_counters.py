"""Window clerks register walk-ins and agent point operators file for named applicants, each
signed in as themself (SigV4 with the staff identity pool's credentials); supervision staff verify
trails. The local gateway refuses what API Gateway's IAM check refuses."""
import copy
import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import boto3
import pytest
import requests

from botocore.credentials import Credentials

from .client import Citizen, announce, material_bytes, upload
from .flows import as_staff

ROOT = Path(__file__).resolve().parents[2]
APPLICANT_ID = "341621198807072460"


def key():
    return f"e2e-{uuid.uuid4()}"


def walk_in(stack, guide, code="SCJG-001"):
    """A walk-in registration: the clerk who signs it is who registers it (no staff_id)."""
    item = guide(code)
    return {"item": code, "hall": item["halls"][0], "form": item["form"]["examples"][0],
            "applicant": {"name": "陈静", "id_number": APPLICANT_ID, "phone": "13956781234"}}


def register_and_submit(who, prefix, body, guide):
    created = who.post(f"{prefix}/cases", body, headers={"Idempotency-Key": key()})
    assert created.status_code == 201, created.text
    case = created.json()
    for spec in [m for m in guide(body["item"])["materials"] if m["required"]]:
        data = material_bytes(spec["id"])
        ticket = who.post(f"{prefix}/cases/{case['case_id']}/uploads",
                          announce(data, spec["id"], spec["content_types"][0]))
        assert ticket.status_code == 201, ticket.text
        assert upload(ticket.json(), data).status_code == 200
    submitted = who.post(f"{prefix}/cases/{case['case_id']}/submit", {},
                         headers={"Idempotency-Key": key()})
    assert submitted.status_code == 200, submitted.text
    return submitted.json()


def test_a_walk_in_is_registered_submitted_and_seen_by_the_applicant(stack, guide):
    window = as_staff(stack, "SCJG-001")                    # 窗口受理 at BZ-A01
    case = register_and_submit(window, "/department", walk_in(stack, guide), guide)
    assert case["channel"] == "window" and case["registered_by"] == {
        "department": "SCJG", "window": "BZ-A01", "staff_id": "SCJG-001"}
    applicant = Citizen(stack, APPLICANT_ID, name="陈静")
    mine = applicant.get("/cases").json()["cases"]
    assert case["case_id"] in [c["case_id"] for c in mine]
    assert window.get(f"/department/cases/{case['case_id']}").status_code == 200


def test_walk_in_registration_with_the_same_key_gives_the_same_case(stack, guide):
    window = as_staff(stack, "SCJG-001")
    retry = key()
    first = window.post("/department/cases", walk_in(stack, guide), headers={"Idempotency-Key": retry})
    again = window.post("/department/cases", walk_in(stack, guide), headers={"Idempotency-Key": retry})
    assert first.status_code == again.status_code == 201
    assert first.json()["case_id"] == again.json()["case_id"]
    changed = walk_in(stack, guide)
    changed["applicant"]["name"] = "陈晶"
    reused = window.post("/department/cases", changed, headers={"Idempotency-Key": retry})
    assert reused.status_code == 422 and reused.json()["field"] == "Idempotency-Key"
    missing = window.post("/department/cases", walk_in(stack, guide))
    assert missing.status_code == 400 and missing.json()["field"] == "Idempotency-Key"


def test_another_departments_staff_cannot_act_on_the_walk_in(stack, guide):
    window = as_staff(stack, "SCJG-001")
    case = window.post("/department/cases", walk_in(stack, guide),
                       headers={"Idempotency-Key": key()}).json()
    # 民政 decides nothing in company setup: it may neither read nor act on this case.
    outsider = as_staff(stack, "MZ-001")
    assert outsider.get(f"/department/cases/{case['case_id']}").status_code == 404
    answer = outsider.post(f"/department/cases/{case['case_id']}/submit", {},
                           headers={"Idempotency-Key": key()})
    assert answer.status_code == 404
    # 公安 decides in a branch of this item, but a draft is still the registering window's: the
    # police read the case from its submission on, and never act on SCJG's draft.
    police = as_staff(stack, "GA-001")
    assert police.get(f"/department/cases/{case['case_id']}").status_code == 404
    acted = police.post(f"/department/cases/{case['case_id']}/submit", {},
                        headers={"Idempotency-Key": key()})
    assert acted.status_code == 404
    assert window.get(f"/department/cases/{case['case_id']}").json()["status"] == "draft"


def test_a_window_cannot_register_an_item_outside_its_power_list(stack, guide):
    window = as_staff(stack, "MZ-001")
    body = walk_in(stack, guide, code="SCJG-001")
    answer = window.post("/department/cases", body, headers={"Idempotency-Key": key()})
    assert answer.status_code == 403 and answer.json()["field"] == "item"


def test_an_agent_point_files_for_a_named_applicant(stack, guide):
    agent = as_staff(stack, "BZQC-WLC-001")                # 代办员 of 王楼村代办点
    case = register_and_submit(agent, "/agent", walk_in(stack, guide), guide)
    assert case["channel"] == "agent"
    assert case["registered_by"] == {"agent_point": "BZQC-WLC", "staff_id": "BZQC-WLC-001"}
    applicant = Citizen(stack, APPLICANT_ID, name="陈静")
    assert case["case_id"] in [c["case_id"] for c in applicant.get("/cases").json()["cases"]]


def test_unsigned_wrongly_signed_and_stale_requests_are_refused(stack, guide):
    url = stack["api_url"] + "/department/cases"
    unsigned = requests.post(url, json=walk_in(stack, guide), timeout=10)
    assert unsigned.status_code == 403
    assert unsigned.json()["message"] == "Missing Authentication Token"
    window = as_staff(stack, "SCJG-001")
    wrong = copy.copy(window)
    wrong.credentials = Credentials(window.credentials.access_key, "not-the-secret",
                                    window.credentials.token)
    answer = wrong.post("/department/cases", walk_in(stack, guide), headers={"Idempotency-Key": key()})
    assert answer.status_code == 403 and "signature" in answer.json()["message"]
    stale_time = datetime.now(timezone.utc) - timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=stale_time):
        stale = window.post("/department/cases", walk_in(stack, guide),
                            headers={"Idempotency-Key": key()})
    assert stale.status_code == 403 and "expired" in stale.json()["message"]


def test_a_citizen_token_does_not_open_department_endpoints(stack, guide):
    citizen = Citizen(stack, "34160219900101999X")
    answer = citizen.post("/department/cases", walk_in(stack, guide))
    assert answer.status_code == 403


def test_a_window_clerk_does_not_open_auditor_or_agent_endpoints(stack, guide):
    window = as_staff(stack, "SCJG-001")
    assert window.get("/audit/cases/anything/trail").status_code == 403
    answer = window.post("/agent/cases", walk_in(stack, guide), headers={"Idempotency-Key": key()})
    assert answer.status_code == 403 and "agent" in answer.json()["message"]


def test_the_trail_is_verified_and_an_edit_is_found(stack, guide):
    window = as_staff(stack, "SCJG-001")
    case = register_and_submit(window, "/department", walk_in(stack, guide), guide)
    auditor = as_staff(stack, "BZ-JJJC-001")               # 监察员 of the city's office
    trail = auditor.get(f"/audit/cases/{case['case_id']}/trail").json()
    assert trail["verdict"]["intact"] and trail["verdict"]["records"] == len(trail["records"]) >= 3
    assert {r["actor"] for r in trail["records"] if r["action"] in ("created", "submitted")} \
        == {"staff:SCJG-001"}                               # the person who did it

    command = [sys.executable, "-m", "local.trail", case["case_id"],
               "--state-dir", stack["state_dir"]]
    intact = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert intact.returncode == 0 and "intact" in intact.stdout

    # Someone with database access edits the second record.
    dynamodb = boto3.client("dynamodb", endpoint_url=stack["aws"]["endpoint"],
                            region_name=stack["aws"]["region"],
                            aws_access_key_id=stack["aws"]["access_key_id"],
                               aws_secret_access_key=stack["aws"]["secret_access_key"])
    table = stack["resources"]["TrailTable"]
    item = dynamodb.get_item(TableName=table, Key={"case_id": {"S": case["case_id"]},
                                                   "seq": {"N": "2"}})["Item"]
    record = json.loads(item["record"]["S"])
    record["actor"] = "department:SOMEONE-ELSE"
    item["record"] = {"S": json.dumps(record)}
    dynamodb.put_item(TableName=table, Item=item)

    broken = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert broken.returncode == 1 and "BROKEN at record 2" in broken.stdout
    verdict = auditor.get(f"/audit/cases/{case['case_id']}/trail").json()["verdict"]
    assert (verdict["intact"], verdict["broken_seq"]) == (False, 2)


def test_every_request_is_logged_with_its_caller_and_case_and_no_identity_in_clear(stack, guide):
    window = as_staff(stack, "SCJG-001")
    case = window.post("/department/cases", walk_in(stack, guide),
                       headers={"Idempotency-Key": key()}).json()
    window.get(f"/department/cases/{case['case_id']}")
    lines = [json.loads(line) for line in
             (Path(stack["state_dir"]) / "stack.log").read_text().splitlines()
             if line.startswith("{")]
    mine = [line for line in lines if line.get("case_id") == case["case_id"]]
    assert {"actor": "staff:SCJG-001", "status": 200, "method": "GET"}.items() <= mine[-1].items()
    log = (Path(stack["state_dir"]) / "stack.log").read_text()
    assert APPLICANT_ID not in log and "13956781234" not in log
