"""Queue messages that fail fail alone. In the cloud template every SQS event source mapping
reads the handler's `batchItemFailures` (ReportBatchItemFailures) and every queue has a
dead-letter queue with an alarm; the local stack's poller (local/dispatcher.py) honours the same
answer as Lambda does: the succeeded messages deleted, the failed ones received again after the
visibility timeout and, after the queue's maxReceiveCount, moved to the dead-letter queue."""
import json
import time
from types import SimpleNamespace

import boto3
import pytest
from chalice import Chalice
from moto import mock_aws

import app as approval_app
from local.dispatcher import Dispatcher

REGION = "us-east-1"


def test_every_queue_event_source_reports_batch_item_failures(templates):
    for variant, template in templates.items():
        sources = [(name, event) for name, r in template["Resources"].items()
                   if r["Type"] == "AWS::Serverless::Function"
                   for event in r["Properties"].get("Events", {}).values()
                   if event["Type"] == "SQS"]
        assert {name for name, _ in sources} >= {"WorkflowMessage", "MaterialUploaded"}, variant
        for name, event in sources:
            assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], \
                (variant, name)


def test_every_queue_a_handler_reads_has_a_dead_letter_queue_with_an_alarm(templates):
    resources = templates["global"]["Resources"]
    read = {event["Properties"]["Queue"]["Fn::GetAtt"][0]
            for r in resources.values() if r["Type"] == "AWS::Serverless::Function"
            for event in r["Properties"].get("Events", {}).values() if event["Type"] == "SQS"}
    for queue in read:
        policy = resources[queue]["Properties"]["RedrivePolicy"]
        dead = policy["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert policy["maxReceiveCount"] == 5
        alarm = resources[f"{dead}DepthAlarm"]["Properties"]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Dimensions"] == [{"Name": "QueueName",
                                        "Value": {"Fn::GetAtt": [dead, "QueueName"]}}]


# -- the local poller ------------------------------------------------------------------------------
def handlers(processed: list):
    """An app with one queue handler written as app.py writes them (`_one_by_one`): a message
    whose body says "poison" raises."""
    app = Chalice(app_name="queues")

    def handle(body):
        if body.startswith("poison"):
            processed.append(f"tried {body}")
            raise ValueError(f"cannot handle {body}")
        processed.append(body)

    @app.on_sqs_message(queue="work", batch_size=10)
    def work(event):
        return approval_app._one_by_one(event, handle)
    return SimpleNamespace(app=app, work=work)


@pytest.fixture
def queues(monkeypatch):
    from chalicelib.adapters import aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws.reset()                       # the poller's clients are made inside the mock
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        dead = sqs.create_queue(QueueName="work-dead-letters")["QueueUrl"]
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName="work", Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn,
                                         "maxReceiveCount": "2"})})["QueueUrl"]
        yield SimpleNamespace(sqs=sqs, url=url, dead=dead)
    aws.reset()


def depth(sqs, url) -> int:
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(found["ApproximateNumberOfMessages"]) \
        + int(found["ApproximateNumberOfMessagesNotVisible"])


def test_a_poison_message_among_good_ones_alone_ends_in_the_dead_letter_queue(queues):
    processed = []
    module = handlers(processed)
    dispatcher = Dispatcher(module, {}, REGION, poll_seconds=0.01,
                            queue_urls={"work": queues.url})
    dispatcher.concurrency = 1                     # one invocation: all five in one batch
    [source] = dispatcher.queues
    bodies = ["good-1", "good-2", "poison-3", "good-4", "good-5"]
    queues.sqs.send_message_batch(QueueUrl=queues.url, Entries=[
        {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)])
    assert dispatcher.poll(source) == 5
    assert dispatcher.invocations == {source.name: 1}
    assert sorted(processed) == ["good-1", "good-2", "good-4", "good-5", "tried poison-3"]
    assert depth(queues.sqs, queues.url) == 1          # the poison, invisible for a second

    deadline = time.monotonic() + 15
    while depth(queues.sqs, queues.dead) == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
        dispatcher.poll(source)
    dead = queues.sqs.receive_message(QueueUrl=queues.dead, MaxNumberOfMessages=10,
                                      AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in dead] == ["poison-3"]
    assert depth(queues.sqs, queues.url) == 0
    # The good ones were handled once each; the poison was tried maxReceiveCount (2) times.
    assert sorted(processed) == ["good-1", "good-2", "good-4", "good-5"] \
        + ["tried poison-3"] * 2


def test_a_handler_that_raises_leaves_its_whole_batch(queues):
    processed = []
    module = handlers(processed)
    dispatcher = Dispatcher(module, {}, REGION, queue_urls={"work": queues.url})
    dispatcher.concurrency = 1
    [source] = dispatcher.queues
    queues.sqs.send_message_batch(QueueUrl=queues.url, Entries=[
        {"Id": str(i), "MessageBody": f"poison-{i}"} for i in range(3)])
    assert dispatcher.poll(source) == 3
    assert processed == [f"tried poison-{i}" for i in range(3)]
    assert depth(queues.sqs, queues.url) == 3


@pytest.mark.parametrize("answer, failed", [
    (None, set()), ({"batchItemFailures": []}, set()),
    ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
    ({"batchItemFailures": [{"itemIdentifier": "nope"}]}, {"a", "b", "c"}),
    ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b", "c"}),
    ({"batchItemFailures": [{}]}, {"a", "b", "c"}),
    ({"batchItemFailures": "b"}, {"a", "b", "c"})])
def test_the_poller_reads_the_answer_as_the_event_source_mapping_does(answer, failed):
    from local.dispatcher import batch_failures

    assert batch_failures(answer, ["a", "b", "c"]) == failed


def test_the_local_stack_redrives_a_dead_letter_queue_as_sqs_does(queues):
    """`aws sqs start-message-move-task --source-arn <dead-letter queue>` (docs/operations.md)
    answers locally too: the messages go back to the queue whose redrive policy names it."""
    from local import redrive

    redrive.enable()
    queues.sqs.send_message(QueueUrl=queues.dead, MessageBody="poison-3")
    queues.sqs.send_message(QueueUrl=queues.dead, MessageBody="poison-7")
    dead_arn = queues.sqs.get_queue_attributes(QueueUrl=queues.dead, AttributeNames=[
        "QueueArn"])["Attributes"]["QueueArn"]
    work_arn = queues.sqs.get_queue_attributes(QueueUrl=queues.url, AttributeNames=[
        "QueueArn"])["Attributes"]["QueueArn"]
    handle = queues.sqs.start_message_move_task(SourceArn=dead_arn)["TaskHandle"]
    [task] = queues.sqs.list_message_move_tasks(SourceArn=dead_arn)["Results"]
    assert task["TaskHandle"] == handle and task["Status"] == "COMPLETED"
    assert task["DestinationArn"] == work_arn and task["ApproximateNumberOfMessagesMoved"] == 2
    assert depth(queues.sqs, queues.dead) == 0
    back = queues.sqs.receive_message(QueueUrl=queues.url, MaxNumberOfMessages=10,
                                      AttributeNames=["All"])["Messages"]
    assert sorted(m["Body"] for m in back) == ["poison-3", "poison-7"]
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in back} == {"1"}
