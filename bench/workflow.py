"""The case workflow, measured on the whole local stack with a compressed clock:

- supervision latency: for 20 acceptance steps with staggered deadlines left undecided, the
  delay from each computed yellow and red instant to the event the workflow recorded;
- state transitions (from the execution history) and AWS calls per case for company setup with
  five departments, on time and with one red card, and the cost per case at AWS list prices."""
from __future__ import annotations

import statistics
import sys
from datetime import datetime
import threading
import time
from pathlib import Path

import requests

from .calls import CallCounter, free_port

ROOT = Path(__file__).resolve().parent.parent
WORKDAY = 6.0          # the latency run: limits run out within seconds
WORKDAY_PER_CASE = 30.0  # the per-case runs: no timer but the late department's
ITEM = "SCJG-001"

# US East list prices, USD (2026): Step Functions standard, Lambda (x86, 512 MB), DynamoDB
# on-demand, S3 standard, SNS publish requests, SQS standard requests.
PRICES = {"transition": 0.025 / 1000, "lambda_request": 0.20 / 1e6,
          "lambda_gb_second": 0.0000166667, "lambda_seconds_each": 0.1, "lambda_gb": 0.5,
          "dynamodb_write_unit": 1.25 / 1e6, "dynamodb_read_unit": 0.25 / 1e6,
          "s3_put": 0.005 / 1000, "s3_get": 0.0004 / 1000, "sns_publish": 0.50 / 1e6,
          "sqs_request": 0.40 / 1e6}
WRITES = {"PutItem": 1, "UpdateItem": 1, "DeleteItem": 1, "TransactWriteItems": 2}
READS = {"GetItem": 1, "Query": 1}


def _client():
    sys.path.insert(0, str(ROOT))
    from tests.e2e import flows
    return flows


def run(state_dir: Path) -> dict:
    from local.process import running_stack

    flows = _client()
    with running_stack(state_dir / "latency", "--workday-seconds", str(WORKDAY)) as stack:
        measured = latency(stack, flows)
    counter = CallCounter()
    counter.install()
    from local import stack as local_stack

    stack = local_stack.start(api_port=free_port(), aws_port=free_port(), s3_port=free_port(),
                              state_dir=state_dir / "cases", workday_seconds=WORKDAY_PER_CASE)
    described = {**stack.description, "state_dir": str(state_dir / "cases")}
    results = {}

    def work():
        results["on_time"] = per_case(described, flows, counter, stack, late=None)
        results["one_red"] = per_case(described, flows, counter, stack, late="GJJ")

    worker = threading.Thread(target=work, name="bench-client")
    worker.start()
    worker.join()
    stack.stop()
    return {"latency": {"workday_seconds": WORKDAY, **measured},
            "per_case_workday_seconds": WORKDAY_PER_CASE, **results}


def latency(stack: dict, flows) -> dict:
    """20 acceptance steps, one case after another, each left undecided past its red card and
    then refused: 20 branches with staggered deadlines, 40 computed instants."""
    delays = {"yellow": [], "red": []}
    for n in range(20):
        # One applicant of the local identity register files all 20 (one account, 20 cases).
        case = flows.Flow(stack, code=ITEM, id_number="341602199105054327")
        deadline = datetime.fromisoformat(case.branch("0:SCJG")["deadline"]).timestamp()
        time.sleep(max(0.0, deadline + 1 - time.time()))
        events = flows.wait_for(lambda: len([e for e in case.events()
                                             if e["kind"] in delays]) == 2 and case.events())
        for event in events:
            if event["kind"] in delays:
                delays[event["kind"]].append(event["delay_seconds"])
        case.decide("SCJG", "0:SCJG", "refuse", reasons="材料不齐全，不予受理（基准测试）")
    every = delays["yellow"] + delays["red"]
    return {"branches": 20, "events": len(every),
            "median_delay_s": round(statistics.median(every), 3),
            "max_abs_delay_s": round(max(abs(d) for d in every), 3),
            "all_within_1s": all(abs(d) < 1.0 for d in every) and len(every) == 40}


def per_case(stack: dict, flows, counter: CallCounter, local, late: str | None) -> dict:
    import boto3

    before = dict(local.dispatcher.invocations)
    counter.calls.clear()
    counter.recording = True
    requests_made = [0]
    original = requests.Session.request

    def counting(self, method, url, *args, **kwargs):
        if url.startswith(stack["api_url"]):
            requests_made[0] += 1
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = counting
    try:
        flow = flows.Flow(stack, code=ITEM, id_number="341602198808081239")
        decide(flow, "SCJG", "0:SCJG", "accept")
        counter.waiting, branches = True, flows.wait_for(lambda: flow.deciders())
        counter.waiting = False
        for branch in branches:
            if branch["department"] != late:
                decide(flow, branch["department"], branch["branch_id"], "approve")
        if late:
            branch = next(b for b in branches if b["department"] == late)
            red_at = datetime.fromisoformat(branch["deadline"]).timestamp() + 1
            time.sleep(max(0.0, red_at - time.time()) + 1.5)
            decide(flow, late, branch["branch_id"], "approve")
        time.sleep(4)                          # completion and the case clock's closing
    finally:
        requests.Session.request = original
        counter.recording = False
    assert flow.view()["status"] == "completed", flow.view()["status"]
    sfn = boto3.client("stepfunctions", endpoint_url=stack["aws"]["endpoint"],  # the operator
                       region_name=stack["aws"]["region"],
                       aws_access_key_id=stack["aws"]["access_key_id"],
                       aws_secret_access_key=stack["aws"]["secret_access_key"])
    arn = sfn.list_executions(stateMachineArn=_machine(sfn))["executions"]
    execution = next(e for e in arn if e["name"] == flow.case_id)
    history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    transitions = sum(1 for e in history if e["type"].endswith("StateEntered"))
    # A plan read back from DynamoDB: the case clock's, once, at acceptance; every other one in
    # these runs (no pause, no extension) is a realignment because the local executor began a
    # task's wait late (3 states each: the failed wait's LoadPlan, NewPlan, the new wait).
    loads = sum(1 for e in history if e["type"].endswith("StateEntered")
                and e["stateEnteredEventDetails"]["name"] in ("LoadPlan", "LoadCasePlan"))
    realignments = max(0, loads - 1)
    handler_invocations = sum(local.dispatcher.invocations.values()) - sum(before.values())
    # The client's own reads of the case while waiting are not part of the case's cost.
    calls = _by_caller(counter)
    billable = {op: n for who in ("api", "handler", "workflow")
                for op, n in calls.get(who, {}).items()}
    cost = _cost(transitions, requests_made[0] + handler_invocations, billable)
    steady = _cost(transitions - 3 * realignments, requests_made[0] + handler_invocations,
                   billable)
    return {"status": execution["status"], "state_transitions": transitions,
            "realignments": realignments,
            "state_transitions_without_realignments": transitions - 3 * realignments,
            "cost_without_realignments_usd": steady["total"],
            "met_without_realignments": steady["met"],
            "history_events": len(history), "api_requests": requests_made[0],
            "handler_invocations": handler_invocations, "aws_calls": calls,
            "aws_calls_by_functions": sum(n for who in ("api", "handler")
                                          for n in calls.get(who, {}).values()),
            "cost_usd": cost}


def decide(flow, department, branch_id, decision):
    answer = flow.decide(department, branch_id, decision)
    assert answer.status_code == 200, answer.text


def _machine(sfn) -> str:
    return next(m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]
                if m["name"] == "approval-case")


def _by_caller(counter: CallCounter) -> dict:
    out: dict = {}
    for (who, service, operation), n in sorted(counter.calls.items()):
        out.setdefault(who, {})[f"{service}:{operation}"] = n
    return out


def _cost(transitions: int, invocations: int, calls: dict) -> dict:
    p = PRICES
    parts = {
        "step_functions": transitions * p["transition"],
        "lambda": invocations * (p["lambda_request"] + p["lambda_seconds_each"] * p["lambda_gb"]
                                 * p["lambda_gb_second"]),
        "dynamodb": sum(n * WRITES.get(op.split(":")[1], 0) * p["dynamodb_write_unit"]
                        + n * READS.get(op.split(":")[1], 0) * p["dynamodb_read_unit"]
                        for op, n in calls.items() if op.startswith("dynamodb:")),
        "s3": sum(n * (p["s3_put"] if op.endswith(("PutObject",)) else p["s3_get"])
                  for op, n in calls.items() if op.startswith("s3:")),
        "sns": sum(n * p["sns_publish"] for op, n in calls.items() if op.startswith("sns:")),
        "sqs": sum(n * p["sqs_request"] for op, n in calls.items() if op.startswith("sqs:")),
    }
    parts = {k: round(v, 7) for k, v in parts.items()}
    parts["total"] = round(sum(parts.values()), 6)
    parts["goal"] = "< 0.001"
    parts["met"] = parts["total"] < 0.001
    return parts
