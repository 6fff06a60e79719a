"""Every signed route against every role, over HTTP on the running stack: each staff member signed
in as themself (the staff user pool, then the identity pool's short-lived credentials, SigV4),
the systems with their keys. A role holding the route's right gets past the rights (whatever the
service then answers of the placeholder ids); any other gets 403 naming the missing right, or
the gateway's 403 where their credentials' role may not call the route at all. Then the scope
rules: same department and wrong role, right role and other department or hall, a section chief
approving the extension they asked for, a body naming a colleague; and expired, foreign or
incomplete credentials. A refusal writes nothing."""
import copy
import uuid

import boto3
import pytest
import requests
from botocore.credentials import Credentials

from chalicelib.domain import rights
from .client import Signed, Staff
from .flows import Flow, as_staff, wait_for

# One signer of each role: 市场监管 (SCJG) for the department's roles, the city's supervision
# office, 王楼村代办点, and the systems.
SIGNERS = {
    rights.WINDOW_CLERK: "SCJG-001", rights.APPROVER: "SCJG-002",
    rights.SECTION_CHIEF: "SCJG-003", rights.CHIEF_REPRESENTATIVE: "SCJG-000",
    rights.AGENT_OPERATOR: "BZQC-WLC-001", rights.SUPERVISION_CLERK: "BZ-JJJC-001",
    rights.SUPERVISION_HEAD: "BZ-JJJC-003",
    rights.HOTLINE_SYSTEM: "hotline:BZ-12345", rights.DEPARTMENT_SYSTEM: "system:SW-JSXT",
}
NOWHERE = "0" * 32                          # a case or task id that does not exist


def key():
    return {"Idempotency-Key": str(uuid.uuid4())}


def signer(stack, role):
    who = SIGNERS[role]
    return Signed(stack, who) if ":" in who else as_staff(stack, who)


def applicant():
    return {"name": "刘洋", "id_number": "341602199203034418", "phone": "13956785678"}


@pytest.fixture(scope="module")
def drafts(stack, guide):
    """A walk-in draft of SCJG-001 at the window and a draft of the agent point, to upload to."""
    item = guide("SCJG-001")
    body = {"item": "SCJG-001", "hall": "BZ", "form": item["form"]["examples"][0],
            "applicant": applicant()}
    walk_in = as_staff(stack, "SCJG-001").post("/department/cases", body, headers=key())
    filed = as_staff(stack, "BZQC-WLC-001").post("/agent/cases", body, headers=key())
    assert walk_in.status_code == filed.status_code == 201, (walk_in.text, filed.text)
    return {"department": walk_in.json()["case_id"], "agent": filed.json()["case_id"],
            "form": item["form"]["examples"][0],
            "material": next(m for m in item["materials"] if m["required"])}


def requests_of(drafts):
    """(method, path as declared, concrete path, body) of every signed route."""
    upload = {"material": drafts["material"]["id"], "filename": "a.pdf",
              "content_type": drafts["material"]["content_types"][0], "size": 1024,
              "sha256": "0" * 64}
    walk_in = {"item": "SCJG-001", "hall": "BZ", "form": drafts["form"], "applicant": applicant()}
    return {
        ("POST", "/department/cases"): ("/department/cases", walk_in),
        ("GET", "/department/cases/{case_id}"): (f"/department/cases/{drafts['department']}",
                                                 None),
        ("GET", "/department/cases/{case_id}/materials/{material_id}"): (
            f"/department/cases/{drafts['department']}/materials/{drafts['material']['id']}",
            None),
        ("GET", "/department/tasks"): ("/department/tasks", None),
        rights.DECISION_ROUTE: (f"/department/cases/{NOWHERE}/branches/1%3ASCJG/decision",
                                {"decision": "approve"}),
        ("POST", "/department/cases/{case_id}/uploads"): (
            f"/department/cases/{drafts['department']}/uploads", upload),
        ("POST", "/department/cases/{case_id}/submit"): (f"/department/cases/{NOWHERE}/submit",
                                                         {}),
        ("GET", "/department/supervised-tasks"): ("/department/supervised-tasks", None),
        ("POST", "/department/supervised-tasks/{task_id}/answer"): (
            f"/department/supervised-tasks/DB{NOWHERE[:16]}/answer", {"answer": "已整改"}),
        ("POST", "/department/cases/{case_id}/rating/appeal"): (
            f"/department/cases/{NOWHERE}/rating/appeal", {"reason": "恶意差评"}),
        ("GET", "/department/cards"): ("/department/cards", None),
        ("GET", "/department/cases/{case_id}/documents/{document_id}"): (
            f"/department/cases/{drafts['department']}/documents/acceptance", None),
        ("POST", "/department/licences/{number}/status"): (
            f"/department/licences/{NOWHERE[:18]}/status",
            {"status": "revoked", "reasons": ["以欺骗手段取得许可"]}),
        ("GET", "/staff/me"): ("/staff/me", None),
        ("GET", "/staff/me/archive"): ("/staff/me/archive", None),
        ("GET", "/staff/me/archive/records"): ("/staff/me/archive/records", None),
        ("POST", "/hotline/requests"): ("/hotline/requests", {}),
        ("POST", "/agent/cases"): ("/agent/cases", walk_in),
        ("GET", "/agent/cases/{case_id}"): (f"/agent/cases/{drafts['agent']}", None),
        ("POST", "/agent/cases/{case_id}/uploads"): (f"/agent/cases/{drafts['agent']}/uploads",
                                                     upload),
        ("POST", "/agent/cases/{case_id}/submit"): (f"/agent/cases/{NOWHERE}/submit", {}),
        ("GET", "/audit/cases/{case_id}/trail"): (f"/audit/cases/{drafts['department']}/trail",
                                                  None),
        ("GET", "/audit/cases/{case_id}/supervision"): (
            f"/audit/cases/{drafts['department']}/supervision", None),
        ("GET", "/audit/cards"): ("/audit/cards", None),
        ("GET", "/audit/tasks"): ("/audit/tasks", None),
        ("GET", "/audit/tasks/{task_id}"): (f"/audit/tasks/DB{NOWHERE[:16]}", None),
        ("GET", "/audit/scores"): ("/audit/scores", None),
        ("GET", "/audit/staff/{staff_id}/archive"): ("/audit/staff/SCJG-001/archive", None),
        ("GET", "/audit/staff/{staff_id}/archive/records"): (
            "/audit/staff/SCJG-001/archive/records", None),
        ("GET", "/audit/reports/{period}/{kind}"): ("/audit/reports/2026-11/csv", None),
        ("POST", "/supervision/orders"): ("/supervision/orders",
                                          {"case_id": NOWHERE, "text": "请说明办理情况"}),
        ("POST", "/supervision/clips"): ("/supervision/clips", {
            "window": "BZ-A01", "start": "2020-01-06T10:00:00+08:00",
            "end": "2020-01-06T10:05:00+08:00"}),
        ("GET", "/supervision/tasks/{task_id}/evidence/{index}"): (
            f"/supervision/tasks/TS{NOWHERE[:16]}/evidence/0", None),
        ("POST", "/supervision/cases/{case_id}/rating/appeal"): (
            f"/supervision/cases/{NOWHERE}/rating/appeal", {"upheld": False, "reason": "维持"}),
    }


def may(role, route):
    wanted = rights.ROUTES[route]
    held = rights.RIGHTS[role]
    if wanted == rights.ANY_STAFF:
        return role in rights.STAFF_ROLES
    if wanted == rights.BY_DECISION:
        return bool(held & {rights.PRE_REVIEW, *rights.DECISION_RIGHTS.values()})
    return wanted in held


def test_every_signed_route_against_every_role(stack, drafts):
    routes = requests_of(drafts)
    assert set(routes) == set(rights.ROUTES)              # every signed route of the app
    seen = []
    for role in SIGNERS:
        caller = signer(stack, role)
        for route, (path, body) in routes.items():
            method = route[0]
            answer = caller.request(method, path, body, headers=key() if method == "POST"
                                    else None)
            json_answer = answer.headers.get("Content-Type", "").startswith("application/json")
            said = answer.json() if json_answer and answer.content else {}
            where = (role, *route, answer.status_code, said)
            if may(role, route):
                assert answer.status_code != 403 or "right" not in said, where
                assert "message" not in said or "error" in said, where   # not the gateway's
            elif role in rights.SYSTEM_ROLES and route[1].startswith("/staff/"):
                # a system's key may sign for its kind's routes; the person routes refuse it
                assert answer.status_code == 403, where
                assert said.get("right") == rights.ANY_STAFF or \
                    "execute-api:Invoke" in said.get("message", ""), where
            elif role not in rights.SYSTEM_ROLES and route[1].startswith("/hotline/"):
                # the staff role's credentials may not invoke the hotline's route at all
                assert answer.status_code == 403 and "execute-api:Invoke" in said["message"], \
                    where
            else:
                assert answer.status_code == 403, where
                assert said["right"] == rights.route_label(*route), where
            seen.append(where)
    assert len(seen) == len(SIGNERS) * len(routes)


def test_refused_calls_write_nothing(stack, drafts):
    before = as_staff(stack, "SCJG-001").get(f"/department/cases/{drafts['department']}").json()
    for role in (rights.APPROVER, rights.SECTION_CHIEF, rights.CHIEF_REPRESENTATIVE,
                 rights.DEPARTMENT_SYSTEM):
        refused = signer(stack, role).post(f"/department/cases/{drafts['department']}/submit",
                                           {}, headers=key())
        assert refused.status_code == 403 and refused.json()["right"] == "register_walk_ins"
    after = as_staff(stack, "SCJG-001").get(f"/department/cases/{drafts['department']}").json()
    assert after["status"] == "draft" and after["timeline"] == before["timeline"]


@pytest.fixture(scope="module")
def accepted(stack):
    """A company setup case the window clerk accepted: five departments decide in parallel."""
    flow = Flow(stack, id_number="341602198808081239")
    flow.accept()
    return flow


def test_same_department_wrong_role(stack, accepted):
    flow = accepted
    refused = flow.decide("SCJG", "1:SCJG", "approve", staff_id="SCJG-001")   # a window clerk
    assert refused.status_code == 403 and refused.json()["right"] == "decide_branches"
    refused = flow.decide("SCJG", "1:SCJG", "special_start", staff_id="SCJG-002",
                          procedure="听证")                                  # an approver
    assert refused.status_code == 403 and refused.json()["right"] == "run_special_procedures"
    refused = flow.decide("SCJG", "1:SCJG", "approve", staff_id="SCJG-000")   # 首席代表
    assert refused.status_code == 403 and refused.json()["right"] == "decide_branches"
    assert flow.branch("1:SCJG")["status"] == "open"


def test_right_role_other_department_or_hall(stack, accepted):
    flow = accepted
    other = flow.decide("SCJG", "1:SCJG", "approve", staff_id="GA-002")   # 公安's approver
    assert other.status_code == 403 and other.json()["field"] == "branch_id"
    district = flow.decide("SCJG", "1:SCJG", "approve", staff_id="SCJG-007")   # 谯城区's approver
    assert district.status_code == 403 and district.json()["field"] == "hall"
    assert flow.branch("1:SCJG")["status"] == "open"
    county = as_staff(stack, "BZGY-JJJC-001").post(          # 涡阳县's 监察员, a city case
        "/supervision/orders", {"case_id": flow.case_id, "text": "越权督办"})
    assert county.status_code == 403 and county.json()["field"] == "hall"
    order = as_staff(stack, "BZ-JJJC-001").post(
        "/supervision/orders", {"case_id": flow.case_id, "text": "请说明受理情况"})
    assert order.status_code == 201, order.text
    task_id = order.json()["task_id"]
    answer = as_staff(stack, "GA-003").post(              # 公安's section chief
        f"/department/supervised-tasks/{task_id}/answer", {"answer": "越权答复"})
    assert answer.status_code == 403 and answer.json()["field"] == "task_id"
    clerk = as_staff(stack, "SCJG-001").post(             # 市场监管's window clerk
        f"/department/supervised-tasks/{task_id}/answer", {"answer": "越权答复"})
    assert clerk.status_code == 403 and clerk.json()["right"] == "answer_supervised_tasks"
    done = as_staff(stack, "SCJG-003").post(
        f"/department/supervised-tasks/{task_id}/answer", {"answer": "已核实，按时受理"})
    assert done.status_code == 200 and done.json()["answered_by"] == "staff:SCJG-003"


def test_a_chief_cannot_approve_the_extension_they_asked_for(stack, accepted):
    flow = accepted
    asked = flow.decide("GA", "1:GA", "extension_request", staff_id="GA-003", note="需实地核查")
    assert asked.status_code == 200 and asked.json()["extension_requested"]
    own = flow.decide("GA", "1:GA", "extension_approve", staff_id="GA-003")
    assert own.status_code == 403 and "asked for this extension" in own.json()["message"]
    approver = flow.decide("GA", "1:GA", "extension_approve", staff_id="GA-002")
    assert approver.status_code == 403 and approver.json()["right"] == "approve_extensions"
    assert flow.branch("1:GA")["extension_requested"]                    # nothing written
    approved = flow.decide("GA", "1:GA", "extension_approve", staff_id="GA-000")
    assert approved.status_code == 200 and not approved.json()["extension_requested"]
    actors = [(s["action"], s["actor"]) for s in flow.view()["timeline"]
              if s["action"].startswith("decision_extension")]
    assert actors == [("decision_extension_request", "staff:GA-003"),
                      ("decision_extension_approve", "staff:GA-000")]


def test_the_body_names_nobody_the_signer_acts(stack, accepted):
    flow = accepted
    blamed = as_staff(stack, "SW-002").post(
        f"/department/cases/{flow.case_id}/branches/1%3ASW/decision",
        {"decision": "approve", "staff_id": "SW-001"}, headers=key())
    assert blamed.status_code == 403 and blamed.json()["field"] == "staff_id"
    assert flow.branch("1:SW")["status"] == "open"
    decided = as_staff(stack, "SW-002").post(
        f"/department/cases/{flow.case_id}/branches/1%3ASW/decision",
        {"decision": "approve", "staff_id": "SW-002"}, headers=key())     # naming oneself: fine
    assert decided.status_code == 200
    [record] = [s for s in flow.view()["timeline"] if s["action"] == "decision_approve"
                and s["data"]["branch"] == "1:SW"]
    assert record["actor"] == "staff:SW-002" and record["data"]["staff_id"] == "SW-002"


def test_expired_credentials_are_refused_and_nothing_is_written(stack):
    flow = Flow(stack, id_number="341602198808081239")
    clerk = Staff(stack, "SCJG-001")                 # a sign-in of its own, to expire
    clerk.expire()
    refused = clerk.post(f"/department/cases/{flow.case_id}/branches/0%3ASCJG/decision",
                         {"decision": "accept"}, headers=key())
    assert refused.status_code == 403
    assert refused.json() == {"message": "The security token included in the request is expired"}
    assert flow.branch("0:SCJG")["status"] == "open"
    again = Staff(stack, "SCJG-001")                 # signing in again gives fresh credentials
    assert again.credentials.access_key != clerk.credentials.access_key
    accepted = again.post(f"/department/cases/{flow.case_id}/branches/0%3ASCJG/decision",
                          {"decision": "accept"}, headers=key())
    assert accepted.status_code == 200, accepted.text
    flow.finish()


def test_foreign_or_incomplete_credentials_are_refused(stack):
    path = "/department/tasks"
    foreign = copy.copy(as_staff(stack, "SCJG-001"))
    foreign.credentials = Credentials("ASIAFOREIGNKEY000001", "foreign-secret", "foreign-token")
    answer = foreign.get(path)
    assert answer.status_code == 403 and "security token" in answer.json()["message"]
    no_token = copy.copy(as_staff(stack, "SCJG-001"))
    issued = no_token.credentials
    no_token.credentials = Credentials(issued.access_key, issued.secret_key)   # token left out
    answer = no_token.get(path)
    assert answer.status_code == 403 and "security token" in answer.json()["message"]
    deployer = {"access_key_id": stack["aws"]["access_key_id"],       # the operator's key:
                "secret_access_key": stack["aws"]["secret_access_key"]}   # no caller of the API
    assert Signed({**stack, "callers": {"operator": deployer}}, "operator").get(path) \
        .status_code == 403
    # A staff member's credentials open the API's staff routes, nothing of AWS itself.
    issued = as_staff(stack, "SCJG-001").credentials
    dynamodb = boto3.client("dynamodb", endpoint_url=stack["aws"]["endpoint"],
                            region_name=stack["aws"]["region"],
                            aws_access_key_id=issued.access_key,
                            aws_secret_access_key=issued.secret_key,
                            aws_session_token=issued.token)
    with pytest.raises(dynamodb.exceptions.ClientError) as refused:
        dynamodb.scan(TableName=stack["resources"]["CasesTable"])
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_staff_sign_in_is_needed_for_credentials_and_a_disabled_member_gets_none(stack):
    staff = stack["staff"]
    pool = boto3.client("cognito-identity", endpoint_url=staff["endpoint"],
                        region_name=staff["region"], aws_access_key_id="unsigned",
                        aws_secret_access_key="unsigned")
    with pytest.raises(pool.exceptions.ClientError) as refused:
        pool.get_id(IdentityPoolId=staff["identity_pool_id"])             # no login
    assert "NotAuthorized" in str(refused.value)
    citizen_token = boto3.client(
        "cognito-idp", endpoint_url=stack["cognito"]["endpoint"],
        region_name=stack["cognito"]["region"], aws_access_key_id="unsigned",
        aws_secret_access_key="unsigned").initiate_auth(
        ClientId=stack["cognito"]["client_id"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": stack["demo_citizen"]["username"],
                        "PASSWORD": stack["demo_citizen"]["password"]}
    )["AuthenticationResult"]["IdToken"]
    with pytest.raises(pool.exceptions.ClientError):                    # a citizen's token
        pool.get_id(IdentityPoolId=staff["identity_pool_id"],
                    Logins={staff["login_provider"]: citizen_token})
    member = Staff(stack, "XF-002")
    operator = boto3.client("cognito-idp", endpoint_url=staff["endpoint"],
                            region_name=staff["region"],
                            aws_access_key_id=stack["aws"]["access_key_id"],
                            aws_secret_access_key=stack["aws"]["secret_access_key"])
    operator.admin_disable_user(UserPoolId=staff["user_pool_id"], Username="XF-002")
    try:
        with pytest.raises(pool.exceptions.ClientError) as refused:
            pool.get_credentials_for_identity(
                IdentityId=member.identity_id, Logins={staff["login_provider"]: member.id_token})
        assert "disabled" in str(refused.value)
    finally:
        operator.admin_enable_user(UserPoolId=staff["user_pool_id"], Username="XF-002")


def test_the_log_names_the_person_and_an_unsigned_call_is_refused(stack):
    import json
    from pathlib import Path

    assert as_staff(stack, "SCJG-002").get("/department/tasks").status_code == 200
    log = Path(stack["state_dir"]) / "stack.log"

    def answered():
        return [line for line in (json.loads(text) for text in log.read_text().splitlines()
                                  if text.startswith("{"))
                if line.get("route") == "/department/tasks" and line.get("status") == 200]
    assert wait_for(lambda: [line for line in answered() if line["actor"] == "staff:SCJG-002"],
                    timeout=5)
    assert requests.get(f"{stack['api_url']}/department/tasks", timeout=10).status_code == 403
