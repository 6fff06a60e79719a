"""Least privilege, counted: for each function's and each workflow's role, the IAM actions the
template grants against the actions its code was seen calling on the local stack, where moto
checks every call against the same roles (local/iam.py logs each authorisation).

The workload: a company-setup case from application through acceptance, a late department (the
workflow's own timeouts raise yellow and red cards), decisions and completion, a poor rating
and its rectification, a supervision order and a 12345 request; every scheduled job runs too
(every few seconds instead of daily or hourly). An action granted but never called is a
candidate for removal, or a path this workload does not take (named in `unused`)."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

# Granted for AWS to use on the function's behalf: the Lambda runtime writes the logs, the event
# source mapping checks its queue and returns failed messages.
BY_THE_PLATFORM = {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:GetQueueAttributes",
                   "sqs:ChangeMessageVisibility"}
WORKDAY = 6.0
SCHEDULE_SECONDS = 3.0


def granted() -> dict[str, set[str]]:
    from infra import roles
    from local.provision import template

    found = {}
    for function in roles.POLICIES:
        statements = roles.role(function)["Properties"]["Policies"][0]["PolicyDocument"][
            "Statement"]
        found[function] = {a for s in statements for a in s["Action"]}
    for logical_id, resource in template()["Resources"].items():
        if resource.get("Type") == "AWS::IAM::Role":
            found[logical_id] = {a for p in resource["Properties"]["Policies"]
                                 for s in p["PolicyDocument"]["Statement"]
                                 for a in ([s["Action"]] if isinstance(s["Action"], str)
                                           else s["Action"])}
    return found


def called(log: Path) -> tuple[dict[str, set[str]], list[dict]]:
    used, denied = {}, []
    for line in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if not entry["principal"].startswith("role/approval-"):
            continue
        role = entry["principal"].removeprefix("role/approval-").removesuffix("Role")
        role = role if role in granted() else role + "Role"
        if entry["allowed"]:
            used.setdefault(role, set()).add(entry["action"])
        else:
            denied.append(entry)
    return used, denied


def workload(stack: dict) -> None:
    import requests

    from tests.e2e.client import Citizen, Signed, Staff
    from tests.e2e.flows import Flow, decider, wait_for

    flow = Flow(stack, id_number="341602198808081239")
    flow.accept()
    # One department lets its limit run out: the workflow raises yellow, red, escalation.
    wait_for(lambda: any(e["kind"] == "red" for e in flow.events()), timeout=WORKDAY * 4)
    flow.finish()
    wait_for(lambda: flow.view()["status"] == "completed", timeout=60)
    flow.citizen.post(f"/cases/{flow.case_id}/rating",
                      {"level": 1, "dimensions": {"efficiency": 1}, "comment": "办理超期"})
    lead = flow.guide["lead_department"]
    department = Staff(stack, decider(lead, "extension_approve"))   # answers supervised work
    for task in wait_for(lambda: department.get("/department/supervised-tasks").json()["tasks"]):
        department.post(f"/department/supervised-tasks/{task['task_id']}/answer",
                        {"answer": "已整改：增开窗口"})
    Staff(stack, "BZ-JJJC-001").post("/supervision/orders", {
        "case_id": flow.case_id, "limit_days": 1, "text": "请说明超期原因"},
        headers={"Idempotency-Key": str(uuid.uuid4())})
    Signed(stack, "hotline:BZ-12345").post("/hotline/requests", {
        "category": "enquiry", "reference": f"BZ{time.time_ns()}", "location": "谯城区",
        "contact": "13912345678", "text": "住房公积金中心：公积金贷款需要哪些材料？"})
    Citizen(stack, "341602199001015673", name="王芳").get("/cases")
    requests.get(f"{stack['api_url']}/public/board", timeout=10)
    time.sleep(SCHEDULE_SECONDS * 3)          # every scheduled job ran at least twice


def run(state_dir: Path) -> dict:
    from local.process import running_stack

    with running_stack(state_dir, "--workday-seconds", str(WORKDAY), "--schedule-seconds",
                       str(SCHEDULE_SECONDS)) as stack:
        workload(stack)
    used, denied = called(state_dir / "logs" / "iam.jsonl")
    roles = {}
    for role, actions in sorted(granted().items()):
        seen = used.get(role, set())
        roles[role] = {"granted": len(actions), "called": len(seen & actions),
                       "by_the_platform": len(actions & BY_THE_PLATFORM),
                       "unused": sorted(actions - seen - BY_THE_PLATFORM)}
    return {"roles": roles, "denied": denied,
            "granted_total": sum(r["granted"] for r in roles.values()),
            "called_total": sum(r["called"] for r in roles.values())}
