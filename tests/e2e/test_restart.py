"""The local stack keeps what people did when `make run` stops and starts again on the same state
folder (local/persist.py), and `make reset` starts it clean. Each stack here runs exactly as
`make run` does, in a state folder of this test's own (the other tests' stacks start clean in
theirs)."""
import hashlib
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from local.process import ROOT, running_stack

from .client import Api, signed_send, sign_in
from .flows import Flow, as_staff, decider, wait_for

CITY_OFFICE, SCJG_CHIEF, SCJG_APPROVER = "BZ-JJJC-001", "SCJG-003", "SCJG-002"


def operator(stack: dict, service: str, key: dict | None = None):
    """An administrator's client of the stack's moto, with the operator's key (or `key`)."""
    aws, key = stack["aws"], key or stack["aws"]
    return boto3.client(service, endpoint_url=aws["endpoint"], region_name=aws["region"],
                        aws_access_key_id=key["access_key_id"],
                        aws_secret_access_key=key["secret_access_key"])


def execution(stack: dict, workflow: str, name: str) -> dict | None:
    arn = stack["environment"][workflow]
    found = [e for e in operator(stack, "stepfunctions").list_executions(
        stateMachineArn=arn)["executions"] if e["name"] == name]
    return found[0] if found else None


def reset(state) -> subprocess.CompletedProcess:
    """What `make reset` runs, on this state folder."""
    return subprocess.run([sys.executable, "-m", "local.stack", "--reset", "--state-dir",
                           str(state)], cwd=ROOT, capture_output=True, text=True, timeout=60)


def on(stack: dict, url: str) -> str:
    """The same link, addressed to this stack's S3 gate."""
    return urlunsplit(urlsplit(url)._replace(netloc=urlsplit(stack["aws"]["s3_endpoint"]).netloc))


def test_a_restart_keeps_accounts_cases_files_and_workflows_and_a_reset_starts_clean(tmp_path):
    state = tmp_path / "state"
    with running_stack(state) as first:
        flow = Flow(first)                      # signs up, binds the real name, applies, submits
        flow.accept()
        assert flow.decide("GA", "1:GA", "approve").status_code == 200
        material = next(m["id"] for m in flow.guide["materials"] if m["required"])
        uploaded = flow.view()["materials"][material]
        old_link = as_staff(first, SCJG_APPROVER).get(
            f"/department/cases/{flow.case_id}/materials/{material}").json()
        order = as_staff(first, CITY_OFFICE).post("/supervision/orders", {
            "case_id": flow.case_id, "limit_days": 3, "text": "请说明受理后的办理进度"})
        assert order.status_code == 201, order.text
        task_id = order.json()["task_id"]
        wait_for(lambda: execution(first, "TASK_WORKFLOW_ARN", task_id))
        username, password = flow.citizen.username, flow.citizen.password
        id_token = flow.citizen.token
        texts = requests.get(first["sms_outbox_url"], params={"phone": username},
                             timeout=10).json()["messages"]
        chief = as_staff(first, SCJG_CHIEF)
        # The 受理通知书, sealed in the hall's name before the restart.
        notice = wait_for(lambda: (flow.view().get("documents") or {}).get("acceptance"))
        sealed = requests.get(f"{first['api_url']}/public/documents/{notice['document_id']}",
                              timeout=10).json()["seal"]
        assert sealed["valid"], sealed
    assert (state / "saved" / "state.json").exists()
    pool_key = (state / "saved" / "user-pool-key.json").read_text()

    with running_stack(state) as second:
        # Made again at start: IAM, its keys and every credential issued before.
        assert second["aws"]["access_key_id"] != first["aws"]["access_key_id"]
        with pytest.raises(ClientError):
            operator(second, "dynamodb", first["aws"]).list_tables()
        old_system = first["callers"]["hotline:BZ-12345"]
        assert second["callers"]["hotline:BZ-12345"]["access_key_id"] != \
            old_system["access_key_id"]
        refused = signed_send(chief.credentials, chief.region, "GET",
                              f"{second['api_url']}/department/supervised-tasks", None, {})
        assert refused.status_code == 403, refused.text
        assert requests.get(on(second, old_link["url"]), timeout=10).status_code == 403

        # Kept: the pools under their ids, the account with its password, its texts.
        assert second["cognito"]["user_pool_id"] == first["cognito"]["user_pool_id"]
        assert second["staff"]["identity_pool_id"] == first["staff"]["identity_pool_id"]
        # The pools' signing key with them: an ID token issued before the restart still holds.
        assert requests.get(f"{second['api_url']}/cases", headers={"Authorization": id_token},
                            timeout=10).status_code == 200
        tokens = sign_in(second, username, password)
        citizen = Api(second, {"Authorization": tokens["IdToken"]})
        [case] = [c for c in citizen.get("/cases").json()["cases"]
                  if c["case_id"] == flow.case_id]
        assert case["status"] == "accepted" and case["case_no"] == flow.case_no
        assert case["materials"][material]["status"] == "received"
        assert case["materials"][material]["sha256"] == uploaded["sha256"]
        assert requests.get(second["sms_outbox_url"], params={"phone": username},
                            timeout=10).json()["messages"] == texts
        # The seal's key with them: the notice sealed before still verifies as the hall's.
        again = requests.get(f"{second['api_url']}/public/documents/{notice['document_id']}",
                             timeout=10).json()["seal"]
        assert again == sealed
        # The same staff member is the same identity of the identity pool.
        approver = as_staff(second, SCJG_APPROVER)
        assert approver.identity_id == as_staff(first, SCJG_APPROVER).identity_id
        # The material, with its bytes.
        link = approver.get(f"/department/cases/{flow.case_id}/materials/{material}")
        assert link.status_code == 200, link.text
        got = requests.get(link.json()["url"], timeout=10)
        assert got.status_code == 200, got.text
        assert hashlib.sha256(got.content).hexdigest() == uploaded["sha256"]

        # The workflows run again from the stored case and task.
        assert execution(second, "CASE_WORKFLOW_ARN", flow.case_id)["status"] == "RUNNING"
        assert execution(second, "TASK_WORKFLOW_ARN", task_id)["status"] == "RUNNING"
        flow.stack, flow.citizen = second, citizen
        for branch in flow.view()["stages"]:
            if branch["status"] == "open":
                decided = flow.decide(branch["department"], branch["branch_id"], "approve")
                assert decided.status_code == 200, decided.text
        done = wait_for(lambda: (lambda v: v if v["status"] == "completed" else None)(
            flow.view()), timeout=40)
        assert done["result"]["outcome"] == "granted"
        certificate = requests.get(f"{second['api_url']}/certificates/"
                                   f"{done['result']['certificate']}", timeout=10)
        assert certificate.status_code == 200 and certificate.json()["valid"]
        assert [b["status"] for b in done["stages"]] == ["decided"] * len(done["stages"])
        answered = as_staff(second, SCJG_CHIEF).post(
            f"/department/supervised-tasks/{task_id}/answer", {"answer": "已于当日受理，正在并联审批"})
        assert answered.status_code == 200 and answered.json()["status"] == "answered"
        wait_for(lambda: execution(second, "CASE_WORKFLOW_ARN", flow.case_id)["status"]
                 == "SUCCEEDED")
        wait_for(lambda: execution(second, "TASK_WORKFLOW_ARN", task_id)["status"]
                 == "SUCCEEDED")

        # One stack per state folder: a second one, and a reset under a running one, refused.
        another = subprocess.run([sys.executable, "-m", "local.stack", "--state-dir", str(state)],
                                 cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert another.returncode != 0 and "a local stack is running on" in another.stderr
        busy = reset(state)
        assert busy.returncode == 1 and "stop it first" in busy.stderr
        assert (state / "saved" / "state.json").exists()

    cleared = reset(state)
    assert cleared.returncode == 0, cleared.stderr
    assert not (state / "saved").exists() and not (state / "logs").exists()
    with running_stack(state) as third:
        # A new signing key for the new pools.
        assert (state / "saved" / "user-pool-key.json").read_text() != pool_key
        with pytest.raises(ClientError) as unknown:
            sign_in(third, username, password)
        assert unknown.value.response["Error"]["Code"] in ("UserNotFoundException",
                                                           "NotAuthorizedException")
        demo = third["demo_citizen"]
        fresh = Api(third, {"Authorization": sign_in(third, demo["username"],
                                                     demo["password"])["IdToken"]})
        assert fresh.get("/cases").json()["cases"] == []
        answer = as_staff(third, decider("SCJG", "approve")).get("/department/tasks")
        assert answer.status_code == 200 and answer.json()["tasks"] == []
