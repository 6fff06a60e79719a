"""Idempotency records in DynamoDB (Powertools' DynamoDB layer, on moto) of a request stopped
by its function's timeout: the in-progress record expires with the invocation's remaining time,
as the Lambda context Chalice hands the app says (the local gateway hands Chalice's own local
context, counting down from the function's timeout), and a retry after it does the work."""
import time

import boto3
import pytest
from moto import mock_aws

from chalicelib import bootstrap
from chalicelib.adapters.idempotency import PowertoolsIdempotency
from chalicelib.domain.errors import Conflict


class Stopped(BaseException):
    """The function's timeout, as the code it stops sees it: no `Exception`."""


@pytest.fixture
def table():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="IdempotencyTable", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        yield client


def store(client):
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name="IdempotencyTable", boto3_client=client)


def test_a_request_stopped_by_the_timeout_is_retried_once_its_invocation_is_over(table):
    from chalice.local import LambdaContext

    context = LambdaContext("APIHandler", 512, max_runtime_ms=400)   # as the local gateway's
    idempotency = PowertoolsIdempotency(store(table), lambda: context)
    began = int(time.time() * 1000)

    def work():
        raise Stopped()
    with pytest.raises(Stopped):
        idempotency.run("decide:staff:SW-002:case1:1:SW", "k-0000001", {"decision": "approve"},
                        work)
    [item] = table.scan(TableName="IdempotencyTable")["Items"]
    assert item["status"]["S"] == "INPROGRESS"
    expiry = int(item["in_progress_expiration"]["N"])
    assert began < expiry <= began + 400 + 100        # the invocation's time, not a day
    with pytest.raises(Conflict):
        idempotency.run("decide:staff:SW-002:case1:1:SW", "k-0000001", {"decision": "approve"},
                        lambda: {"status": "decided"})
    time.sleep(max(0.0, (expiry - time.time() * 1000) / 1000) + 0.05)
    retried = PowertoolsIdempotency(store(table), lambda: LambdaContext("APIHandler", 512,
                                                                        max_runtime_ms=30_000))
    assert retried.run("decide:staff:SW-002:case1:1:SW", "k-0000001", {"decision": "approve"},
                       lambda: {"status": "decided"}) == {"status": "decided"}
    [item] = table.scan(TableName="IdempotencyTable")["Items"]
    assert item["status"]["S"] == "COMPLETED"


def test_the_app_hands_the_idempotency_records_its_requests_lambda_context():
    import app
    from chalice.test import Client

    with Client(app.app) as client:
        assert client.http.get("/openapi.json").status_code == 200
    context = bootstrap.lambda_context()
    assert context is not None and context is app.app.current_request.lambda_context
    assert 0 < context.get_remaining_time_in_millis() <= 30_000
