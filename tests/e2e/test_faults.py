"""Cases keep running while DynamoDB, Step Functions, S3 and SQS each stop answering the functions
for a few seconds (local/faults.py: every call a function makes to that service fails as a dead
endpoint's does). The applicant and the staff retry as the website does, with the same
Idempotency-Key, whatever failed. Every case completes; each is submitted, started, decided,
counted, texted and completed once; no hand-over to the workflow is left behind. KMS down as a
window asks for corrections delays the notice, never loses it."""
import base64
import os
import threading
import time
import uuid
from datetime import datetime, timezone

import boto3
import pytest
import requests

from chalicelib.domain.periods import periods_of
from local.process import running_stack

from .client import Citizen, announce, material_bytes, upload
from .flows import Flow, as_staff, decider

ITEMS = ("GA-002", "RSJ-002")        # one stage of one department, limits of days: no light
CASES = 10                           # started 3 s apart, across the faults
FAULTS = (("dynamodb", 3, 6), ("stepfunctions", 10, 6), ("s3", 17, 5), ("sqs", 23, 6))
APPLICANT = ("孙丽", "341602199407074323")   # local/people.json; this stack only
SWEEP_SECONDS = 2                    # the hand-overs' sweeper, every minute in the cloud


@pytest.fixture(scope="module")
def faulty_stack(tmp_path_factory):
    os.environ["LOCAL_SCHEDULES"] = f"HandOverCases={SWEEP_SECONDS}"
    try:
        with running_stack(tmp_path_factory.mktemp("faults")) as described:
            yield described
    finally:
        os.environ.pop("LOCAL_SCHEDULES", None)


def retried(send, what: str, timeout: float = 150):
    """As the website does: a 5xx, a 429, "still being processed" (409) or no answer in time
    (a slow network, a busy machine) is sent again, with the same Idempotency-Key, until it is
    answered."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = send()
        except requests.Timeout:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: no answer in {timeout} s")
            continue
        except requests.RequestException as error:     # the gateway itself never fails here
            raise AssertionError(f"{what}: {error}")
        busy = answer.status_code == 409 and "still being processed" in answer.text
        if answer.status_code < 500 and answer.status_code != 429 and not busy:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {answer.status_code} {answer.text}")
        time.sleep(0.5)


def waited(check, what: str, timeout: float = 150):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not reached in {timeout} s")


class Run:
    """One applicant's case of `code`, from application to completion, as the citizen's
    browser and the department's staff drive it, retrying whatever fails."""

    def __init__(self, stack, citizen, code):
        self.stack, self.citizen, self.code = stack, citizen, code
        self.guide = requests.get(f"{stack['api_url']}/guide/items/{code}", timeout=10).json()
        self.hall = self.guide["halls"][0]
        self.lead = self.guide["lead_department"]
        self.case_id = self.case_no = None
        self.error = None

    def __call__(self):
        try:
            self.run()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = f"{self.code} {self.case_id}: {error}"

    def run(self):
        c = self.citizen
        key = str(uuid.uuid4())
        created = retried(lambda: c.post("/cases", {
            "item": self.code, "hall": self.hall, "form": self.guide["form"]["examples"][0]},
            headers={"Idempotency-Key": key}), "create")
        assert created.status_code == 201, created.text
        self.case_id = created.json()["case_id"]
        for spec in [m for m in self.guide["materials"] if m["required"]]:
            body = material_bytes(spec["id"] + self.case_id)
            ticket = retried(lambda: c.post(f"/cases/{self.case_id}/uploads", announce(
                body, spec["id"], spec["content_types"][0])), "announce")
            assert ticket.status_code == 201, ticket.text
            put = retried(lambda: upload(ticket.json(), body), "upload")
            assert put.status_code == 200, put.text
        key = str(uuid.uuid4())
        submitted = retried(lambda: c.post(f"/cases/{self.case_id}/submit", {},
                                           headers={"Idempotency-Key": key}), "submit")
        assert submitted.status_code == 200, submitted.text
        self.case_no = submitted.json()["case_no"]
        self.decide(f"0:{self.lead}", "accept")
        self.decide(f"1:{self.lead}", "approve")
        # A workflow message whose handler failed (S3 down while the case completes) comes
        # back after the queue's visibility timeout, 180 s.
        waited(lambda: self.view()["status"] == "completed", f"{self.case_no} completed",
               timeout=240)

    def view(self):
        answer = retried(lambda: self.citizen.get(f"/cases/{self.case_id}"), "read")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def decide(self, branch_id, decision):
        """The department decides the branch once it is in its queue (open on the case)."""
        waited(lambda: any(b["branch_id"] == branch_id and b["status"] == "open"
                           for b in self.view()["stages"]), f"{self.case_id} {branch_id} open")
        staff = as_staff(self.stack, decider(self.lead, decision, branch_id, self.hall))
        key = str(uuid.uuid4())
        path = f"/department/cases/{self.case_id}/branches/{branch_id}/decision"
        answer = retried(lambda: staff.post(path, {"decision": decision},
                                            headers={"Idempotency-Key": key}), decision)
        assert answer.status_code == 200, answer.text


def operator(stack, service):
    aws = stack["aws"]
    return boto3.client(service, endpoint_url=aws["endpoint"], region_name=aws["region"],
                        aws_access_key_id=aws["access_key_id"],
                        aws_secret_access_key=aws["secret_access_key"])


def inject(stack):
    """Each fault at its time; one that hit no call (no function happened to call that service
    meanwhile) is made again, so that every service's fault meets the cases."""
    began = time.monotonic()
    for service, at, seconds in FAULTS:
        time.sleep(max(0.0, began + at - time.monotonic()))
        for _ in range(4):
            before = failed_calls(stack)
            answer = requests.post(stack["faults_url"], json={"service": service,
                                                              "seconds": seconds}, timeout=10)
            assert answer.status_code == 200, answer.text
            time.sleep(seconds)
            if failed_calls(stack) != before:
                break


def failed_calls(stack) -> dict:
    return requests.get(stack["faults_url"], timeout=10).json()["failed_calls"]


def test_every_case_completes_once_through_faults_of_each_service(faulty_stack):
    stack = faulty_stack
    citizen = Citizen(stack, APPLICANT[1], name=APPLICANT[0])
    for code in ITEMS:                       # signed in before the faults, as staff would be
        for branch_id, decision in (("0:", "accept"), ("1:", "approve")):
            lead = requests.get(f"{stack['api_url']}/guide/items/{code}",
                                timeout=10).json()["lead_department"]
            as_staff(stack, decider(lead, decision, branch_id + lead, "BZ"))
    runs = [Run(stack, citizen, ITEMS[n % len(ITEMS)]) for n in range(CASES)]
    injector = threading.Thread(target=inject, args=(stack,))
    injector.start()
    threads = []
    for run in runs:
        threads.append(threading.Thread(target=run))
        threads[-1].start()
        time.sleep(3)
    injector.join()
    for thread in threads:
        thread.join(timeout=300)
    assert [r.error for r in runs if r.error] == []

    # Every fault hit the functions' calls.
    failed = failed_calls(stack)
    assert {"dynamodb", "states", "s3", "sqs"} <= {s for s, n in failed.items() if n > 0}, failed

    # Each case once: submitted, started, accepted, staged, approved, completed.
    for run in runs:
        view = run.view()
        assert view["result"]["outcome"] == "granted", view
        actions = [record["action"] for record in view["timeline"]]
        for action in ("submitted", "workflow_started", "decision_accept", "stage_started",
                       "decision_approve", "completed"):
            assert actions.count(action) == 1, (run.case_no, action, actions)
        assert view["supervision"] == [], run.case_no           # no light, no card

    # One execution per case, named after it, each run to its end.
    sfn = operator(stack, "stepfunctions")
    machine = stack["environment"]["CASE_WORKFLOW_ARN"]

    def executions():
        found = sfn.list_executions(stateMachineArn=machine)["executions"]
        return found if all(e["status"] == "SUCCEEDED" for e in found) else None
    found = waited(executions, "every execution succeeded", timeout=60)
    assert sorted(e["name"] for e in found) == sorted(r.case_id for r in runs)

    # Counted once: today's applications and completions of each lead department.
    scores = operator(stack, "dynamodb")
    day = periods_of(datetime.now(timezone.utc))[0]
    for lead in {r.lead for r in runs}:
        item = scores.get_item(TableName=stack["resources"]["ScoresTable"], Key={
            "subject": {"S": f"department#{lead}"}, "period": {"S": day}})["Item"]
        cases = sum(r.lead == lead for r in runs)
        assert (int(item["m_applications"]["N"]), int(item["m_completed"]["N"])) == \
            (cases, cases), (lead, item)

    # The applicant was texted once per case at each step.
    texts = [m["text"] for m in requests.get(stack["sms_outbox_url"],
                                             params={"phone": citizen.username},
                                             timeout=10).json()["messages"]]
    for run in runs:
        assert sum(run.case_no in t and "已进入审批环节" in t for t in texts) == 1, run.case_no
        assert sum(run.case_no in t and "已办结" in t for t in texts) == 1, run.case_no

    # No hand-over left pending.
    pending = scores.query(TableName=stack["resources"]["CasesTable"], IndexName="HandOversDue",
                           KeyConditionExpression="hall = :h",
                           ExpressionAttributeValues={":h": {"S": "BZ"}})["Items"]
    assert pending == []


def test_a_correction_notice_whose_seal_failed_is_issued_once_kms_answers_again(faulty_stack):
    """KMS stops answering as the window asks for corrections: the decision is answered and
    the workflow told at once; the notice (一次性告知书) is sealed by the hand-overs' sweeper
    once KMS answers again, once, and verifies as the hall's."""
    stack = faulty_stack
    flow = Flow(stack)
    waited(lambda: any(b["branch_id"] == "0:SCJG" and b["status"] == "open"
                       for b in flow.view()["stages"]), "the acceptance open")
    as_staff(stack, decider("SCJG", "correction", "0:SCJG"))        # signed in beforehand
    before = failed_calls(stack).get("kms", 0)
    answer = requests.post(stack["faults_url"], json={"service": "kms", "seconds": 12},
                           timeout=10)
    assert answer.status_code == 200, answer.text
    material = flow.guide["materials"][0]["id"]
    asked = flow.decide("SCJG", "0:SCJG", "correction", materials=[material],
                        note="申请书签字不全")
    assert asked.status_code == 200 and asked.json()["status"] == "paused", asked.text
    assert failed_calls(stack).get("kms", 0) > before          # the seal was tried and failed

    def notices():
        view = flow.view()
        return [d for d in (view.get("documents") or {}).values() if d["kind"] == "correction"]
    assert flow.view()["status"] == "correction_requested" and notices() == []
    [notice] = waited(notices, "the correction notice", timeout=90)
    assert notice["title"] == "补正材料通知书"
    link = flow.citizen.get(f"/cases/{flow.case_id}/documents/{notice['document_id']}")
    assert link.status_code == 200, link.text
    pdf = requests.get(link.json()["url"], timeout=10).content
    checked = requests.post(f"{stack['api_url']}/public/documents/check",
                            json={"pdf": base64.b64encode(pdf).decode()}, timeout=30).json()
    assert checked["seal"]["valid"] and checked["same_as_recorded"], checked
    timeline = [r for r in flow.view()["timeline"] if r["action"] == "document_issued"]
    assert [r["data"]["key"].split(":")[0] for r in timeline] == ["correction"]
