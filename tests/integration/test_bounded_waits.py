"""No workflow task waits longer than its execution's `bound`: statemachines/*.asl.json, run by
moto's Step Functions executor (in process), with a bound of two seconds and this test playing
the functions' part (reading the workflow queue, answering tokens). A wait longer than the bound
is waited in parts, each part's message asking the functions again with the same timer and what
is left of the wait; an unanswered `stage_decided` is asked again; an input that names no bound
gets seven days."""
import json
import re
import time
import uuid
from datetime import datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from chalicelib.domain.approval import LONGEST_WAIT_DAYS, WAIT_FOREVER, bound
from chalicelib.domain.clock import ChinaWorkingCalendar, CompressedClock

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
BOUND = {"seconds": 2, "negated": -2}
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


class Workflows:
    def __init__(self):
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.ddb = boto3.client("dynamodb", region_name=REGION)
        # Names of their own: moto's executor threads of another test's executions live on.
        self.suffix = uuid.uuid4().hex[:8]
        self.queue = self.sqs.create_queue(QueueName=f"workflow-{self.suffix}")["QueueUrl"]
        self.ddb.create_table(
            TableName=f"BranchesTable-{self.suffix}", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "case_id", "AttributeType": "S"},
                                  {"AttributeName": "branch_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "case_id", "KeyType": "HASH"},
                       {"AttributeName": "branch_id", "KeyType": "RANGE"}])
        values = {"WorkflowQueueUrl": self.queue, "BranchesTable": f"BranchesTable-{self.suffix}"}
        self.machines = {}
        for name in ("case", "supervised"):
            text = (ROOT / "statemachines" / f"{name}.asl.json").read_text()
            self.machines[name] = self.sfn.create_state_machine(
                name=f"{name}-{self.suffix}", definition=PLACEHOLDER.sub(lambda m: values[m.group(1)], text),
                roleArn="arn:aws:iam::123456789012:role/workflow")["stateMachineArn"]
        self.received: list[tuple[float, dict]] = []
        self.started = time.monotonic()
        self.executions: list[str] = []

    def start(self, machine: str, payload: dict) -> str:
        self.started = time.monotonic()
        self.executions.append(self.sfn.start_execution(stateMachineArn=self.machines[machine],
                                                        input=json.dumps(payload))["executionArn"])
        return self.executions[-1]

    def stop(self) -> None:
        for execution in self.executions:
            if self.status(execution) == "RUNNING":
                self.sfn.stop_execution(executionArn=execution)

    def messages(self, count: int, where=lambda m: True, timeout: float = 15) -> list[dict]:
        """Waits until `count` messages matching `where` arrived (in order of arrival); each
        with `at`, the seconds since the execution started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.sqs.receive_message(QueueUrl=self.queue,
                                                    MaxNumberOfMessages=10).get("Messages", []):
                self.received.append((time.monotonic() - self.started,
                                      json.loads(message["Body"])))
                self.sqs.delete_message(QueueUrl=self.queue,
                                        ReceiptHandle=message["ReceiptHandle"])
            found = [{**m, "at": at} for at, m in self.received if where(m)]
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{count} messages expected, got {[m for _, m in self.received]}")

    def status(self, execution: str) -> str:
        return self.sfn.describe_execution(executionArn=execution)["status"]


@pytest.fixture
def workflows():
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        found = Workflows()
        yield found
        found.stop()


def case_input(branch_timers: list[int], clock_timers: list[int], with_bound=True) -> dict:
    payload = {"case_id": "case1",
               "stage": {"done": False, "index": 0,
                         "branches": [{"branch_id": "0:SCJG", "plan": 1,
                                       "timers": branch_timers}]},
               "case_clock": {"branch_id": "case", "plan": 0, "i": 0, "timers": clock_timers,
                              "wait": clock_timers[0]}}
    return {**payload, "bound": BOUND} if with_bound else payload


def entered(message: dict) -> float:
    """When the engine entered the task (its `since`), in seconds."""
    return datetime.fromisoformat(message["since"].replace("Z", "+00:00")).timestamp()


def of(branch_id):
    return lambda m: m.get("type") == "awaiting" and m["branch_id"] == branch_id


def test_a_paused_branch_waits_in_parts_of_the_bound_asking_again_each_time(workflows):
    execution = workflows.start("case", case_input([WAIT_FOREVER], [WAIT_FOREVER]))
    parts = workflows.messages(3, of("0:SCJG"))[:3]
    assert [(m["timer"], m["part"], m["wait"], m["rest"]) for m in parts] == [
        (0, 2, WAIT_FOREVER, WAIT_FOREVER - 2), (0, 2, WAIT_FOREVER - 2, WAIT_FOREVER - 4),
        (0, 2, WAIT_FOREVER - 4, WAIT_FOREVER - 6)]
    # Each part is a task of its own (a token of its own), two seconds apart.
    assert len({m["token"] for m in parts}) == 3
    assert [entered(b) - entered(a) for a, b in zip(parts, parts[1:])] == \
        [pytest.approx(2, abs=0.6)] * 2
    clock = workflows.messages(2, of("case"))
    assert all(m["part"] == 2 for m in clock)
    # The functions answer the latest part: the branch is decided and the stage is asked for.
    workflows.sfn.send_task_success(taskToken=parts[-1]["token"],
                                    output=json.dumps({"outcome": "accepted"}))
    [stage] = workflows.messages(1, lambda m: m.get("type") == "stage_decided")
    assert stage["results"] == [{"outcome": "accepted"}]
    assert workflows.status(execution) == "RUNNING"


def test_a_wait_longer_than_the_bound_ends_at_its_instant_then_the_next_timer_runs(workflows):
    workflows.start("case", case_input([3, WAIT_FOREVER], [WAIT_FOREVER]))
    found = workflows.messages(3, of("0:SCJG"))[:3]
    assert [(m["timer"], m["part"], m["wait"], m["rest"]) for m in found] == [
        (0, 2, 3, 1), (0, 1, 1, 0), (1, 2, WAIT_FOREVER, WAIT_FOREVER - 2)]
    # The light's instant is where it was planned: three seconds after the start.
    assert entered(found[2]) - entered(found[0]) == pytest.approx(3, abs=0.6)


def test_an_unanswered_stage_decided_is_asked_again_and_the_case_goes_on(workflows):
    execution = workflows.start("case", case_input([WAIT_FOREVER], [WAIT_FOREVER]))
    [first] = workflows.messages(1, of("0:SCJG"))
    workflows.sfn.send_task_success(taskToken=first["token"],
                                    output=json.dumps({"outcome": "accepted"}))
    asked = workflows.messages(2, lambda m: m.get("type") == "stage_decided")
    assert asked[0]["stage"] == asked[1]["stage"] == 0
    assert asked[0]["token"] != asked[1]["token"]
    assert asked[1]["at"] - asked[0]["at"] == pytest.approx(2, abs=1)
    workflows.sfn.send_task_success(taskToken=asked[1]["token"], output=json.dumps({"done": True}))
    latest = workflows.messages(1, of("case"))[-1]
    workflows.sfn.send_task_success(taskToken=latest["token"],
                                    output=json.dumps({"outcome": "completed"}))
    deadline = time.monotonic() + 10
    while workflows.status(execution) == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workflows.status(execution) == "SUCCEEDED"


def decided_in_the_item(workflows, branch_id: str, outcome: str) -> None:
    """What the functions write as they commit a decision (adapters/dynamodb/branches.py)."""
    workflows.ddb.put_item(TableName=f"BranchesTable-{workflows.suffix}", Item={
        "case_id": {"S": "case1"}, "branch_id": {"S": branch_id}, "outcome": {"S": outcome},
        "version": {"N": "3"}, "data": {"S": "{}"}})


def test_a_branch_decided_meanwhile_ends_when_its_wait_runs_out(workflows):
    """The decision's answer missed its task (a busy engine: the task timed out as it came).
    When the wait runs out, the workflow reads the branch's item, finds it decided and ends the
    branch: no next task, no message to answer first."""
    execution = workflows.start("case", case_input([2, 2, WAIT_FOREVER], [WAIT_FOREVER]))
    [first] = workflows.messages(1, of("0:SCJG"))
    assert first["timer"] == 0
    decided_in_the_item(workflows, "0:SCJG", "accepted")
    [stage] = workflows.messages(1, lambda m: m.get("type") == "stage_decided")
    assert stage["results"] == [{"outcome": "accepted"}]
    assert [m["timer"] for m in workflows.messages(1, of("0:SCJG"))] == [0]
    assert workflows.status(execution) == "RUNNING"


def test_a_case_completed_meanwhile_ends_its_clock_when_a_wait_runs_out(workflows):
    execution = workflows.start("case", case_input([WAIT_FOREVER], [3, 3, WAIT_FOREVER]))
    [branch] = workflows.messages(1, of("0:SCJG"))
    [clock] = workflows.messages(1, of("case"))
    decided_in_the_item(workflows, "case", "completed")
    workflows.sfn.send_task_success(taskToken=branch["token"],
                                    output=json.dumps({"outcome": "accepted"}))
    [stage] = workflows.messages(1, lambda m: m.get("type") == "stage_decided")
    workflows.sfn.send_task_success(taskToken=stage["token"], output=json.dumps({"done": True}))
    deadline = time.monotonic() + 10
    while workflows.status(execution) == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workflows.status(execution) == "SUCCEEDED"
    assert [m["timer"] for m in workflows.messages(1, of("case"))] == [0]   # no next wait


def test_a_supervised_task_waits_in_parts_too(workflows):
    workflows.start("supervised", {"task_id": "DB1", "timers": [3, WAIT_FOREVER], "i": 0,
                                   "wait": 3, "bound": BOUND})
    found = workflows.messages(3, lambda m: m.get("type") == "task_awaiting")[:3]
    assert [(m["timer"], m["part"], m["wait"], m["rest"]) for m in found] == [
        (0, 2, 3, 1), (0, 1, 1, 0), (1, 2, WAIT_FOREVER, WAIT_FOREVER - 2)]


@pytest.mark.parametrize("machine, payload, kind", [
    ("case", case_input([WAIT_FOREVER], [WAIT_FOREVER], with_bound=False), "awaiting"),
    ("supervised", {"task_id": "DB1", "timers": [WAIT_FOREVER], "i": 0, "wait": WAIT_FOREVER},
     "task_awaiting")])
def test_an_input_without_a_bound_waits_seven_days_at_most(workflows, machine, payload, kind):
    workflows.start(machine, payload)
    first = workflows.messages(1, lambda m: m.get("type") == kind)[0]
    assert first["part"] == 7 * 86400 and first["rest"] == WAIT_FOREVER - 7 * 86400


def test_the_bound_is_seven_days_or_seven_compressed_days():
    assert bound(ChinaWorkingCalendar()) == {"seconds": 7 * 86400, "negated": -7 * 86400}
    assert bound(CompressedClock(8.0)) == {"seconds": 56, "negated": -56}
    assert LONGEST_WAIT_DAYS == 7
    assert WAIT_FOREVER <= 365 * 86400          # nothing waits beyond an execution's year


def waits_for_a_token(state: dict) -> bool:
    return state.get("Type") == "Task" and str(state.get("Resource", "")).endswith(
        ".waitForTaskToken")


def every_state(states: dict):
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from every_state(branch["States"])
        if "Iterator" in state:
            yield from every_state(state["Iterator"]["States"])
        if "ItemProcessor" in state:
            yield from every_state(state["ItemProcessor"]["States"])


@pytest.mark.parametrize("path", sorted((ROOT / "statemachines").glob("*.asl.json")),
                         ids=lambda p: p.name)
def test_every_wait_for_a_task_token_is_bounded_and_its_timeout_handled(path):
    definition = json.loads(path.read_text())
    tasks = [(name, s) for name, s in every_state(definition["States"]) if waits_for_a_token(s)]
    assert tasks
    for name, state in tasks:
        assert state.get("TimeoutSecondsPath") in ("$.part", "$.case_clock.part",
                                                   "$.bound.seconds") \
            or 0 < state.get("TimeoutSeconds", 0) <= 7 * 86400, name
        assert any("States.Timeout" in c["ErrorEquals"] for c in state.get("Catch", [])), name
