"""The queue handlers of app.py take their batch message by message (Powertools' batch
utility): a poison message fails alone, its neighbours are processed, and the answer names only
the failed one (`batchItemFailures`), which is what the event source mapping receives again."""
import hashlib
import json
import uuid

import pytest

import app
from chalicelib import bootstrap
from tests.unit.test_approval_service import (ACCEPTING, ALICE, CASE_CLOCK, COMPANY_SETUP,
                                              branch, submit, w)  # noqa: F401


class Context:
    function_name = "WorkflowMessage"
    aws_request_id = "request-1"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:WorkflowMessage"

    def get_remaining_time_in_millis(self):
        return 30_000


def sqs_event(*bodies: str, queue: str = "approval-workflow") -> dict:
    return {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": f"handle-{i}", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000",
                       "SenderId": "AIDA", "ApproximateFirstReceiveTimestamp": "1700000000000"},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
        "awsRegion": "us-east-1"} for i, body in enumerate(bodies)]}


def awaiting(case_id: str, branch_id: str, plan: int, token: str) -> str:
    return json.dumps({"type": "awaiting", "case_id": case_id, "branch_id": branch_id,
                       "plan": plan, "timer": 0, "since": "2026-11-18T02:00:01.000000Z",
                       "token": token})


@pytest.fixture
def wired(w):
    bootstrap.use(w.intake, w.approval, None)
    yield w
    bootstrap.use(None, None, None)


def test_a_poison_message_fails_alone_and_its_neighbours_are_processed(wired):
    case_id = submit(wired)
    event = sqs_event(awaiting(case_id, ACCEPTING, 1, "token-acceptance"),
                      "{not json",
                      awaiting(case_id, CASE_CLOCK, 0, "token-case-clock"))
    answer = app.workflow_message(event, Context())
    poison = event["Records"][1]["messageId"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": poison}]}
    assert branch(wired, case_id, ACCEPTING).token == "token-acceptance"
    assert branch(wired, case_id, CASE_CLOCK).token == "token-case-clock"


def test_a_message_whose_handling_raises_is_named_while_the_others_are_answered(wired):
    case_id = submit(wired)
    event = sqs_event(json.dumps({"type": "awaiting", "case_id": case_id}),   # no branch_id
                      awaiting(case_id, ACCEPTING, 1, "token-acceptance"))
    answer = app.workflow_message(event, Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert branch(wired, case_id, ACCEPTING).token == "token-acceptance"


def test_a_batch_that_fails_whole_is_received_again_whole(wired):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        app.workflow_message(sqs_event("{", "[]"), Context())


def test_every_message_handled_answers_no_failure(wired):
    case_id = submit(wired)
    answer = app.workflow_message(sqs_event(awaiting(case_id, ACCEPTING, 1, "t-1")), Context())
    assert answer == {"batchItemFailures": []}


def notification(key: str) -> str:
    return json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                    "s3": {"bucket": {"name": "materials"},
                                           "object": {"key": key}}}]})


def test_a_poison_material_notification_fails_alone(wired):
    item = wired.catalog.item(COMPANY_SETUP)
    case = wired.intake.create(ALICE, {"item": COMPANY_SETUP, "hall": "BZ",
                                       "form": item["form"]["examples"][0]})
    spec = next(m for m in item["materials"] if m["required"])
    content = b"%PDF-1.7 application"
    ticket = wired.intake.request_upload(ALICE, case["case_id"], {
        "material": spec["id"], "filename": "a.pdf", "content_type": spec["content_types"][0],
        "size": len(content), "sha256": hashlib.sha256(content).hexdigest()})
    wired.materials.put(ticket["key"], spec["content_types"][0], content)
    event = sqs_event(json.dumps({"Records": [{"s3": {}}]}), notification(ticket["key"]),
                      queue="approval-material-uploads")
    answer = app.material_uploaded(event, Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    stored = wired.cases.get(case["case_id"]).materials[spec["id"]]
    assert stored["status"] == "received"


def test_a_failed_message_comes_back_after_a_short_growing_pause(wired, monkeypatch):
    from chalicelib.adapters import aws

    asked = []

    class Sqs:
        def change_message_visibility(self, **request):
            asked.append(request)
    monkeypatch.setattr(aws, "client", lambda service: Sqs())
    case_id = submit(wired)
    event = sqs_event("{not json", "{nor this", awaiting(case_id, ACCEPTING, 1, "token-a"))
    event["Records"][1]["attributes"]["ApproximateReceiveCount"] = "3"
    app.workflow_message(event, Context())
    assert [(a["ReceiptHandle"], a["VisibilityTimeout"]) for a in asked] == \
        [("handle-0", 4), ("handle-1", 16)]
    assert asked[0]["QueueUrl"] == \
        "https://sqs.us-east-1.amazonaws.com/123456789012/approval-workflow"


def test_a_message_failing_while_sqs_is_down_is_left_to_the_visibility_timeout(wired,
                                                                               monkeypatch):
    from chalicelib.adapters import aws

    class Down:
        def change_message_visibility(self, **request):
            raise ConnectionError("SQS did not answer")
    monkeypatch.setattr(aws, "client", lambda service: Down())
    case_id = submit(wired)
    event = sqs_event("{not json", awaiting(case_id, ACCEPTING, 1, "token-a"))
    answer = app.workflow_message(event, Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
